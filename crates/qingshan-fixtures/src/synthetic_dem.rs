//! A large synthetic DEM for benchmarks: the demo landscape's elevation
//! on the synthetic set's grid (same origin, size and tiles as
//! [`crate::write_synthetic`] with the same options), Int16 metres.
//!
//! Heights are bilinear in a 25 m table of the demo region's elevation,
//! sampled at the same folded (mirrored) coordinates as the land cover:
//! continuous across the folds, so slopes stay plausible everywhere.

use std::path::{Path, PathBuf};

use gdal::DriverManager;
use gdal::raster::Buffer;
use rayon::prelude::*;

use crate::SyntheticOptions;
use crate::error::{GdalContext, Result, io};
use crate::landscape::{CENTRE, REGION, terrain};
use crate::raster_io::{gtiff_options, split};
use crate::synthetic::{Fold, synthetic_grid, validate};
use crate::vector_io::srs;

/// Cell of the height table (metres).
const RES: f64 = 25.0;

struct Heights {
    width: usize,
    height: usize,
    z: Vec<f32>,
}

impl Heights {
    fn build() -> Heights {
        let width = ((REGION.1 - REGION.0) / RES) as usize;
        let height = ((REGION.3 - REGION.2) / RES) as usize;
        let (x0, y0) = (REGION.0 - CENTRE.0, REGION.3 - CENTRE.1);
        let mut z = vec![0f32; width * height];
        z.par_chunks_mut(width).enumerate().for_each(|(r, row)| {
            let y = y0 - (r as f64 + 0.5) * RES;
            for (c, v) in row.iter_mut().enumerate() {
                *v = terrain((x0 + (c as f64 + 0.5) * RES, y)).elev.v as f32;
            }
        });
        Heights { width, height, z }
    }

    /// Bilinear height at local coordinates (metres from the demo centre).
    fn at(&self, lx: f64, ly: f64) -> f64 {
        let fx = ((lx - (REGION.0 - CENTRE.0)) / RES - 0.5).clamp(0.0, (self.width - 1) as f64);
        let fy = (((REGION.3 - CENTRE.1) - ly) / RES - 0.5).clamp(0.0, (self.height - 1) as f64);
        let (c, r) = (
            (fx.floor() as usize).min(self.width - 2),
            (fy.floor() as usize).min(self.height - 2),
        );
        let (tx, ty) = (fx - c as f64, fy - r as f64);
        let z = |r: usize, c: usize| self.z[r * self.width + c] as f64;
        let top = z(r, c) * (1.0 - tx) + z(r, c + 1) * tx;
        let bot = z(r + 1, c) * (1.0 - tx) + z(r + 1, c + 1) * tx;
        top * (1.0 - ty) + bot * ty
    }
}

/// Writes `dem/dem_r{row}c{col}.tif` tiles (Int16 metres, nodata −32768)
/// on the synthetic grid of `o`; returns their paths.
pub(crate) fn write_synthetic_dem(o: &SyntheticOptions, out_dir: &Path) -> Result<Vec<PathBuf>> {
    validate(o)?;
    let dir = out_dir.join("dem");
    io(std::fs::create_dir_all(&dir), &dir)?;
    let grid = synthetic_grid(o);
    let fold = Fold::new(o.seed);
    let heights = Heights::build();
    let mut jobs = Vec::new();
    for (ty, &(row0, h)) in split(o.height, o.tiles_y).iter().enumerate() {
        for (tx, &(col0, w)) in split(o.width, o.tiles_x).iter().enumerate() {
            jobs.push((ty, tx, col0, row0, w, h));
        }
    }
    let paths: Vec<PathBuf> = jobs
        .iter()
        .map(|(ty, tx, ..)| dir.join(format!("dem_r{ty}c{tx}.tif")))
        .collect();
    jobs.par_iter()
        .zip(paths.par_iter())
        .map(|(&(_, _, col0, row0, w, h), path)| {
            let what = || format!("writing {}", path.display());
            let g = grid.window(col0, row0, w, h);
            let drv = DriverManager::get_driver_by_name("GTiff").ctx(what)?;
            let opts = gtiff_options(o.block_size, 6, true)?;
            let mut ds = drv
                .create_with_band_type_with_options::<i16, _>(path, w, h, 1, &opts)
                .ctx(what)?;
            ds.set_geo_transform(&g.geo_transform()).ctx(what)?;
            ds.set_spatial_ref(&srs(4545)?).ctx(what)?;
            let mut band = ds.rasterband(1).ctx(what)?;
            band.set_no_data_value(Some(-32768.0)).ctx(what)?;
            let xs: Vec<f64> = (0..w).map(|c| fold.local_x(g.centre(c, 0).0)).collect();
            let mut row = 0;
            while row < h {
                let rows = o.block_size.min(h - row);
                let mut data = Vec::with_capacity(w * rows);
                for k in 0..rows {
                    let ly = fold.local_y(g.centre(0, row + k).1);
                    data.extend(xs.iter().map(|&lx| heights.at(lx, ly).round() as i16));
                }
                band.write(
                    (0, row as isize),
                    (w, rows),
                    &mut Buffer::new((w, rows), data),
                )
                .ctx(what)?;
                row += rows;
            }
            ds.close().ctx(what)
        })
        .collect::<Result<Vec<()>>>()?;
    Ok(paths)
}
