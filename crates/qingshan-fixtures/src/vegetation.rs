//! The demo's continuous rasters and annual series: NDVI for 2019 and 2024
//! drawn from the land cover itself (forest high, cropland seasonal,
//! built land and mines low), and land cover for every year from 2019 to
//! 2024, each 2019 → 2024 change happening in a year of its own — the
//! inputs of `qingshan values` and `qingshan series`.

use std::path::{Path, PathBuf};

use crate::demo::DEMO_GRID;
use crate::error::{Result, io};
use crate::landscape::CENTRE;
use crate::noise::{fbm, splitmix64, unit};
use crate::raster_io::{Int16Tiff, TiffSpec, write_int16, write_tiff};

/// NDVI is stored as Int16 × 10000 with this nodata (as MODIS stores it).
pub(crate) const NDVI_NODATA: i16 = -32768;

/// Years of the annual land-cover series.
pub(crate) const SERIES_YEARS: [u16; 6] = [2019, 2020, 2021, 2022, 2023, 2024];

const S_NDVI: u64 = 0x0ED7_1000;
const S_YEAR: u64 = 0x5E81_E500;

/// NDVI of a cell of class `class` at local point `p` in `year`; `None`
/// for nodata (clouds).
pub(crate) fn ndvi(class: u8, p: (f64, f64), year: u16) -> Option<f64> {
    let base = match class {
        0 => return None,
        // Cropland: seasonal (the 2024 scene is later in the season).
        1 => {
            if year >= 2024 {
                0.46
            } else {
                0.56
            }
        }
        2 => 0.80,
        3 => 0.68,
        4 => 0.52,
        5 => -0.05,
        6 => 0.05,
        7 => 0.10,
        8 => 0.14,
        9 => 0.40,
        _ => 0.3,
    };
    // Smooth variation that stays (terrain, stand age), a little that
    // differs from year to year, and a little greening by 2024.
    let n = fbm(S_NDVI, p.0, p.1, 420.0, 3, 0.5).v;
    let yearly = fbm(S_NDVI ^ u64::from(year), p.0, p.1, 900.0, 2, 0.5).v;
    let greening = if year >= 2024 { 0.01 } else { 0.0 };
    Some((base + 0.07 * n + 0.01 * yearly + greening).clamp(-0.2, 0.95))
}

/// The land-cover class of a cell in `year` of the series, from its 2019
/// and 2024 classes: a change happens in one year between 2020 and 2024,
/// chosen by smooth noise (neighbouring cells change together).
pub(crate) fn class_in_year(c19: u8, c24: u8, p: (f64, f64), year: u16) -> u8 {
    if c19 == c24 || year <= 2019 {
        return c19;
    }
    if year >= 2024 {
        return c24;
    }
    // Clouds (class 0) belong to one scene only.
    if c19 == 0 || c24 == 0 {
        return if c19 == 0 { c24 } else { c19 };
    }
    let n = fbm(S_YEAR, p.0, p.1, 600.0, 2, 0.5).v;
    let jitter = unit(splitmix64(S_YEAR ^ (p.0.to_bits() >> 8) ^ p.1.to_bits())) * 0.2;
    let u = ((n + 1.0) / 2.0 * 0.8 + jitter).clamp(0.0, 0.999);
    let switch = 2020 + (u * 5.0) as u16;
    if year >= switch { c24 } else { c19 }
}

/// Writes `ndvi_{2019,2024}.tif` (Int16 × 10000, scale 0.0001, nodata
/// −32768) on the demo grid into `dir`, from the demo's classes.
pub(crate) fn write_ndvi(dir: &Path, classes: &[Vec<u8>], years: &[u16]) -> Result<Vec<PathBuf>> {
    io(std::fs::create_dir_all(dir), dir)?;
    let g = DEMO_GRID;
    let mut out = Vec::new();
    for (yi, &year) in years.iter().enumerate() {
        let path = dir.join(format!("ndvi_{year}.tif"));
        let data: Vec<i16> = (0..g.height)
            .flat_map(|r| (0..g.width).map(move |c| (r, c)))
            .map(|(r, c)| {
                let (x, y) = g.centre(c, r);
                let p = (x - CENTRE.0, y - CENTRE.1);
                match ndvi(classes[yi][r * g.width + c], p, year) {
                    // Steps of 0.002 keep the committed file small.
                    Some(v) => ((v * 500.0).round() * 20.0) as i16,
                    None => NDVI_NODATA,
                }
            })
            .collect();
        write_int16(
            &Int16Tiff {
                path: &path,
                grid: g,
                nodata: NDVI_NODATA,
                description: &format!("NDVI {year} (× 10000, synthetic)"),
                scale: Some(0.0001),
            },
            data,
        )?;
        out.push(path);
    }
    Ok(out)
}

/// Writes the land cover of the years strictly between the demo's two
/// (`clcd_2020.tif` … `clcd_2023.tif`, one file each) into `dir`; the
/// series' first and last years are the demo's VRTs.
pub(crate) fn write_series(dir: &Path, c19: &[u8], c24: &[u8]) -> Result<Vec<PathBuf>> {
    let g = DEMO_GRID;
    let mut out = Vec::new();
    for &year in &SERIES_YEARS[1..SERIES_YEARS.len() - 1] {
        let path = dir.join(format!("clcd_{year}.tif"));
        write_tiff(
            &TiffSpec {
                path: &path,
                grid: g,
                epsg: 4545,
                block: 128,
                zlevel: 9,
                predictor: false,
            },
            |grid, row, rows, buf| {
                for k in 0..rows {
                    for c in 0..grid.width {
                        let i = (row + k) * grid.width + c;
                        let (x, y) = grid.centre(c, row + k);
                        buf[k * grid.width + c] =
                            class_in_year(c19[i], c24[i], (x - CENTRE.0, y - CENTRE.1), year);
                    }
                }
            },
        )?;
        out.push(path);
    }
    Ok(out)
}
