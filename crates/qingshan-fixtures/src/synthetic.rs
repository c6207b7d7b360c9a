//! A large synthetic benchmark set: the demo landscape mirrored over a large
//! extent, written tile by tile, and many irregular zones.

use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};
use rayon::prelude::*;

use crate::error::{Error, Result, io};
use crate::geom::round_cm;
use crate::landscape::{CENTRE, REGION, classes_local, mirror};
use crate::noise::{Rng, sin_cos, splitmix64, unit};
use crate::raster_io::{Grid, TiffSpec, VrtTile, rel, split, write_vrt};
use crate::vector_io::{Feat, Prop, write_geojson};
use crate::{YearFiles, raster_io};

/// Options of [`write_synthetic`](crate::write_synthetic).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticOptions {
    /// Raster width in cells.
    pub width: usize,
    /// Raster height in cells.
    pub height: usize,
    /// Cell size in metres (EPSG:4545).
    pub pixel_size: f64,
    /// Number of tile columns.
    pub tiles_x: usize,
    /// Number of tile rows.
    pub tiles_y: usize,
    /// Number of zones in `zones.geojson`.
    pub zones: usize,
    /// Seed: shifts the landscape and places the zones.
    pub seed: u64,
    /// Years to write (one tile set + VRT each).
    pub years: Vec<u16>,
    /// GeoTIFF block size (cells).
    pub block_size: usize,
}

impl Default for SyntheticOptions {
    /// 12 000 × 9 000 cells of 30 m (108 Mpixel) in 4 × 3 tiles, 400 zones,
    /// 2019 and 2024, 256-cell blocks.
    fn default() -> Self {
        SyntheticOptions {
            width: 12_000,
            height: 9_000,
            pixel_size: 30.0,
            tiles_x: 4,
            tiles_y: 3,
            zones: 400,
            seed: 1,
            years: vec![2019, 2024],
            block_size: 256,
        }
    }
}

/// What [`write_synthetic`](crate::write_synthetic) wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticManifest {
    /// Tiles and VRT per year.
    pub years: Vec<YearFiles>,
    /// The zones (GeoJSON, EPSG:4545).
    pub zones: PathBuf,
    /// Top-left corner x of the raster (EPSG:4545 metres).
    pub origin_x: f64,
    /// Top-left corner y of the raster (EPSG:4545 metres).
    pub origin_y: f64,
    /// Raster width in cells.
    pub width: usize,
    /// Raster height in cells.
    pub height: usize,
    /// Cell size (metres).
    pub pixel_size: f64,
}

impl SyntheticManifest {
    /// Every file written, in a stable order.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut v = Vec::new();
        for y in &self.years {
            v.extend(y.tiles.iter().cloned());
            v.push(y.vrt.clone());
        }
        v.push(self.zones.clone());
        v
    }
}

pub(crate) fn validate(o: &SyntheticOptions) -> Result<()> {
    let bad = |m: String| Err(Error::Options(m));
    if o.width == 0 || o.height == 0 {
        return bad("width and height must be positive".into());
    }
    if o.tiles_x == 0 || o.tiles_y == 0 || o.tiles_x > o.width || o.tiles_y > o.height {
        return bad(format!(
            "cannot cut {} × {} cells into {} × {} tiles",
            o.width, o.height, o.tiles_x, o.tiles_y
        ));
    }
    if !(o.pixel_size.is_finite() && o.pixel_size > 0.0) {
        return bad(format!("pixel size must be positive, not {}", o.pixel_size));
    }
    if o.block_size < 16 || !o.block_size.is_multiple_of(16) {
        return bad(format!(
            "block size must be a multiple of 16 (GeoTIFF tiles), not {}",
            o.block_size
        ));
    }
    if o.years.is_empty() {
        return bad("at least one year is needed".into());
    }
    let mut ys = o.years.clone();
    ys.sort_unstable();
    ys.dedup();
    if ys.len() != o.years.len() {
        return bad("years must not repeat".into());
    }
    if o.width.checked_mul(o.height).is_none() {
        return bad("raster too large".into());
    }
    Ok(())
}

/// The synthetic grid: centred on the demo region, origin on whole pixels.
pub(crate) fn synthetic_grid(o: &SyntheticOptions) -> Grid {
    let ps = o.pixel_size;
    let half_w = (o.width as f64 / 2.0).floor() * ps;
    let half_h = (o.height as f64 / 2.0).floor() * ps;
    let x0 = ((CENTRE.0 - half_w) / ps).round() * ps;
    let y0 = ((CENTRE.1 + half_h) / ps).round() * ps;
    Grid {
        x0,
        y0,
        dx: ps,
        dy: ps,
        width: o.width,
        height: o.height,
    }
}

/// Maps a synthetic coordinate into the demo region (mirrored, shifted by
/// the seed) — local metres relative to the demo centre.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fold {
    ox: f64,
    oy: f64,
}

impl Fold {
    pub(crate) fn new(seed: u64) -> Fold {
        let w = REGION.1 - REGION.0;
        let h = REGION.3 - REGION.2;
        Fold {
            ox: (unit(splitmix64(seed ^ 0xF01D)) * 2.0 * w).round(),
            oy: (unit(splitmix64(seed ^ 0xF01E)) * 2.0 * h).round(),
        }
    }
    #[inline]
    pub(crate) fn local_x(&self, x: f64) -> f64 {
        let hw = (REGION.1 - REGION.0) / 2.0;
        mirror(x - CENTRE.0 + self.ox, -hw, hw)
    }
    #[inline]
    pub(crate) fn local_y(&self, y: f64) -> f64 {
        let hh = (REGION.3 - REGION.2) / 2.0;
        mirror(y - CENTRE.1 + self.oy, -hh, hh)
    }
    #[cfg(test)]
    fn local(&self, x: f64, y: f64) -> (f64, f64) {
        (self.local_x(x), self.local_y(y))
    }
}

/// Resolution (metres) at which the landscape is tabulated for the
/// synthetic set.
const TABLE_RES: f64 = 10.0;

/// The demo landscape tabulated on a 10 m grid over the demo region, per
/// requested year: the synthetic set samples it (nearest cell) at folded
/// coordinates instead of evaluating the landscape 10⁸ times.
struct Table {
    width: usize,
    height: usize,
    /// Per year, row-major from the north-west corner.
    data: Vec<Vec<u8>>,
}

impl Table {
    fn build(years: &[u16]) -> Table {
        let width = ((REGION.1 - REGION.0) / TABLE_RES) as usize;
        let height = ((REGION.3 - REGION.2) / TABLE_RES) as usize;
        let (x0, y0) = (REGION.0 - CENTRE.0, REGION.3 - CENTRE.1);
        let ny = years.len();
        let mut inter = vec![0u8; width * height * ny];
        inter
            .par_chunks_mut(width * ny)
            .enumerate()
            .for_each(|(r, out)| {
                let y = y0 - (r as f64 + 0.5) * TABLE_RES;
                for c in 0..width {
                    let x = x0 + (c as f64 + 0.5) * TABLE_RES;
                    classes_local((x, y), years, &mut out[c * ny..(c + 1) * ny]);
                }
            });
        let data = (0..ny)
            .map(|k| inter.iter().skip(k).step_by(ny).copied().collect())
            .collect();
        Table {
            width,
            height,
            data,
        }
    }
    /// Table column of a local x (metres relative to the demo centre).
    fn col(&self, lx: f64) -> usize {
        let c = ((lx - (REGION.0 - CENTRE.0)) / TABLE_RES).floor();
        (c.max(0.0) as usize).min(self.width - 1)
    }
    /// Table row of a local y.
    fn row(&self, ly: f64) -> usize {
        let r = (((REGION.3 - CENTRE.1) - ly) / TABLE_RES).floor();
        (r.max(0.0) as usize).min(self.height - 1)
    }
}

struct TileJob {
    tx: usize,
    ty: usize,
    col0: usize,
    row0: usize,
    width: usize,
    height: usize,
}

fn tile_name(year: u16, ty: usize, tx: usize, o: &SyntheticOptions) -> String {
    let dr = (o.tiles_y - 1).to_string().len();
    let dc = (o.tiles_x - 1).to_string().len();
    format!("clcd_{year}_r{ty:0dr$}c{tx:0dc$}.tif")
}

/// Writes the tiles of one tile job (one file per year), one block row at
/// a time.
fn write_tile(
    job: &TileJob,
    grid: &Grid,
    fold: Fold,
    table: &Table,
    o: &SyntheticOptions,
    paths: &[PathBuf],
) -> Result<()> {
    let tgrid = grid.window(job.col0, job.row0, job.width, job.height);
    let rows_per = o.block_size;
    let cols: Vec<usize> = (0..job.width)
        .map(|c| table.col(fold.local_x(tgrid.centre(c, 0).0)))
        .collect();
    let mut buf = vec![0u8; job.width * rows_per.min(job.height)];
    for (yi, path) in paths.iter().enumerate() {
        let data = &table.data[yi];
        let mut w = raster_io::TiffWriter::create(&TiffSpec {
            path,
            grid: tgrid,
            epsg: 4545,
            block: o.block_size,
            zlevel: 6,
            predictor: false,
        })?;
        let mut row = 0;
        while row < job.height {
            let rows = rows_per.min(job.height - row);
            for k in 0..rows {
                let tr = table.row(fold.local_y(tgrid.centre(0, row + k).1));
                let src = &data[tr * table.width..(tr + 1) * table.width];
                let dst = &mut buf[k * job.width..(k + 1) * job.width];
                for (d, &c) in dst.iter_mut().zip(&cols) {
                    *d = src[c];
                }
            }
            w.write_rows(row, rows, &buf[..job.width * rows])?;
            row += rows;
        }
        w.finish()?;
    }
    Ok(())
}

/// Writes the synthetic benchmark set; see the crate docs.
pub(crate) fn write_synthetic(o: &SyntheticOptions, out_dir: &Path) -> Result<SyntheticManifest> {
    validate(o)?;
    io(std::fs::create_dir_all(out_dir), out_dir)?;
    let grid = synthetic_grid(o);
    let fold = Fold::new(o.seed);
    // Zones first: they are cheap and fail fast.
    let zones = out_dir.join("zones.geojson");
    let feats = synthetic_zones(o, &grid)?;
    write_geojson(&zones, "zones", &feats)?;
    let table = Table::build(&o.years);
    let cols = split(o.width, o.tiles_x);
    let rows = split(o.height, o.tiles_y);
    let mut jobs = Vec::new();
    for (ty, &(row0, height)) in rows.iter().enumerate() {
        for (tx, &(col0, width)) in cols.iter().enumerate() {
            jobs.push(TileJob {
                tx,
                ty,
                col0,
                row0,
                width,
                height,
            });
        }
    }
    let tile_paths: Vec<Vec<PathBuf>> = jobs
        .iter()
        .map(|j| {
            o.years
                .iter()
                .map(|&y| {
                    out_dir
                        .join(format!("clcd_{y}"))
                        .join(tile_name(y, j.ty, j.tx, o))
                })
                .collect()
        })
        .collect();
    let results: Vec<Result<()>> = jobs
        .par_iter()
        .zip(tile_paths.par_iter())
        .map(|(j, paths)| write_tile(j, &grid, fold, &table, o, paths))
        .collect();
    for r in results {
        r?;
    }
    let mut years = Vec::new();
    for (yi, &year) in o.years.iter().enumerate() {
        let tiles: Vec<PathBuf> = tile_paths.iter().map(|p| p[yi].clone()).collect();
        let vrt_tiles: Vec<VrtTile> = jobs
            .iter()
            .zip(&tiles)
            .map(|(j, p)| VrtTile {
                rel_path: rel(p, out_dir),
                col: j.col0,
                row: j.row0,
                width: j.width,
                height: j.height,
            })
            .collect();
        let vrt = out_dir.join(format!("clcd_{year}.vrt"));
        write_vrt(&vrt, &grid, 4545, o.block_size, &vrt_tiles)?;
        years.push(YearFiles { year, tiles, vrt });
    }
    Ok(SyntheticManifest {
        years,
        zones,
        origin_x: grid.x0,
        origin_y: grid.y0,
        width: grid.width,
        height: grid.height,
        pixel_size: grid.dx,
    })
}

/// Bound on a star ring's radius factor (see `star`).
const ROUGH: f64 = 0.18;

/// A star-shaped ring with `n` vertices around `c`, radius `r`,
/// counter-clockwise and closed; its radius stays in
/// [r (1 − 1.3 ROUGH), r (1 + 1.3 ROUGH)].
fn star(rng: &mut Rng, c: (f64, f64), r: f64, n: usize) -> Vec<Coord> {
    let k = 7;
    let terms: Vec<(f64, f64, f64)> = (0..k)
        .map(|i| {
            let order = (2 + i) as f64;
            (
                order,
                rng.range(0.3, 1.0) / (1.0 + i as f64),
                rng.range(0.0, std::f64::consts::TAU),
            )
        })
        .collect();
    let norm: f64 = terms.iter().map(|t| t.1).sum();
    let aspect = rng.range(0.75, 1.0);
    let (rs, rc) = sin_cos(rng.range(0.0, std::f64::consts::PI));
    let mut pts: Vec<Coord> = (0..n)
        .map(|i| {
            let th = std::f64::consts::TAU * i as f64 / n as f64;
            let mut f = 1.0;
            for &(o, a, ph) in &terms {
                f += ROUGH * 1.3 * a / norm * sin_cos(o * th + ph).0;
            }
            let (s, co) = sin_cos(th);
            let (u, v) = (r * f * co, r * f * aspect * s);
            Coord {
                x: round_cm(c.0 + u * rc - v * rs),
                y: round_cm(c.1 + u * rs + v * rc),
            }
        })
        .collect();
    pts.push(pts[0]);
    pts
}

/// Random irregular zones over the synthetic grid: areas from ~20 cells to
/// ~2 % of the raster (log-uniform), about a quarter with holes, a sixth
/// multi-part, some partly outside the raster.
fn synthetic_zones(o: &SyntheticOptions, grid: &Grid) -> Result<Vec<Feat>> {
    let mut rng = Rng::new(o.seed ^ 0x20_4E5);
    let cell = grid.dx * grid.dy;
    let total = grid.width as f64 * grid.height as f64 * cell;
    let a_min = 20.0 * cell;
    let a_max = (0.02 * total).max(a_min * 1.5);
    let (w, h) = (grid.width as f64 * grid.dx, grid.height as f64 * grid.dy);
    let ln_ratio = ln(a_max / a_min);
    let mut feats = Vec::with_capacity(o.zones);
    for i in 0..o.zones {
        // Log-uniform area: a_min * exp(u ln(ratio)), via a deterministic exp.
        let area = a_min * exp(rng.f64() * ln_ratio);
        let mut r = (area / std::f64::consts::PI).sqrt();
        let multi = rng.f64() < 1.0 / 6.0;
        let holed = rng.f64() < 0.27;
        let outside = rng.f64() < 0.04;
        let c = if outside {
            // Centre on or just beyond an edge.
            let t = rng.f64();
            let d = rng.range(-0.4, 0.4) * r;
            match rng.below(4) {
                0 => (grid.x0 + t * w, grid.y0 + d),
                1 => (grid.x0 + t * w, grid.y0 - h + d),
                2 => (grid.x0 + d, grid.y0 - t * h),
                _ => (grid.x0 + w + d, grid.y0 - t * h),
            }
        } else {
            (
                grid.x0 + rng.range(0.05, 0.95) * w,
                grid.y0 - rng.range(0.05, 0.95) * h,
            )
        };
        let mut parts = Vec::new();
        if multi {
            r *= 0.8;
        }
        let n = |r: f64| ((r / grid.dx * 0.6) as usize).clamp(12, 360);
        let ext = star(&mut rng, c, r, n(r));
        let mut holes = Vec::new();
        if holed {
            let hr = r * rng.range(0.15, 0.4);
            let mut hole = star(&mut rng, c, hr, n(hr));
            hole.reverse();
            holes.push(LineString::new(hole));
        }
        parts.push(Polygon::new(LineString::new(ext), holes));
        if multi {
            let extra = 1 + rng.below(2);
            let rmax = r * (1.0 + 1.3 * ROUGH);
            let theta0 = rng.range(0.0, std::f64::consts::TAU);
            for k in 0..extra {
                let r2 = r * rng.range(0.25, 0.55);
                let dist = rmax + r2 * (1.0 + 1.3 * ROUGH) + rng.range(0.2, 1.0) * r;
                // Extra parts on opposite sides, so they cannot meet.
                let (s, co) = sin_cos(theta0 + k as f64 * std::f64::consts::PI);
                let c2 = (c.0 + dist * co, c.1 + dist * s);
                parts.push(Polygon::new(
                    LineString::new(star(&mut rng, c2, r2, n(r2))),
                    vec![],
                ));
            }
        }
        let geom = MultiPolygon::new(parts);
        if let Err(e) = geom.check_validation() {
            return Err(Error::Geometry(format!("zone {}: {e}", i + 1)));
        }
        let id = format!("Z{:04}", i + 1);
        feats.push(Feat {
            id: None,
            props: vec![
                ("zone_id", Prop::Str(id.clone())),
                ("name", Prop::Str(format!("Zone {:04}", i + 1))),
            ],
            single: !multi,
            geom,
        });
    }
    Ok(feats)
}

/// Natural logarithm by bisection-free series (deterministic, x > 0).
fn ln(x: f64) -> f64 {
    // x = m 2^e with m in [1, 2); ln x = e ln 2 + 2 atanh((m-1)/(m+1)).
    let mut m = x;
    let mut e = 0i32;
    while m >= 2.0 {
        m /= 2.0;
        e += 1;
    }
    while m < 1.0 {
        m *= 2.0;
        e -= 1;
    }
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let mut sum = 0.0;
    let mut p = t;
    for k in 0..30 {
        sum += p / (2 * k + 1) as f64;
        p *= t2;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * sum
}

/// Exponential (deterministic): e^x = 2^k e^r with |r| <= ln2/2.
fn exp(x: f64) -> f64 {
    let k = (x / std::f64::consts::LN_2).round();
    let r = x - k * std::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..25 {
        term *= r / i as f64;
        sum += term;
    }
    let mut out = sum;
    let mut k = k as i32;
    while k > 0 {
        out *= 2.0;
        k -= 1;
    }
    while k < 0 {
        out /= 2.0;
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_exp_match_std() {
        for i in 1..200 {
            let x = i as f64 * 0.37;
            assert!((ln(x) - x.ln()).abs() < 1e-12);
            let y = i as f64 * 0.05 - 5.0;
            assert!(((exp(y) - y.exp()) / y.exp()).abs() < 1e-13);
        }
    }

    #[test]
    fn mirror_fold_is_continuous() {
        let f = Fold { ox: 0.0, oy: 0.0 };
        // Inside the demo region the fold is the identity.
        let p = f.local(CENTRE.0 + 1234.0, CENTRE.1 - 567.0);
        assert_eq!(p, (1234.0, -567.0));
        // Across the east edge it reflects.
        let e = REGION.1;
        let a = f.local(e - 10.0, CENTRE.1);
        let b = f.local(e + 10.0, CENTRE.1);
        assert!((a.0 - b.0).abs() < 1e-9);
    }

    #[test]
    fn options_are_validated() {
        let o = SyntheticOptions {
            width: 0,
            ..Default::default()
        };
        assert!(validate(&o).is_err());
        let o = SyntheticOptions {
            block_size: 100,
            ..Default::default()
        };
        assert!(validate(&o).is_err());
        assert!(validate(&SyntheticOptions::default()).is_ok());
    }
}
