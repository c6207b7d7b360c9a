//! Statistics of continuous values against answers worked out by hand: a
//! column ramp under a rectangle offset by fractions of a cell (every
//! statistic in closed form, the quantiles by a brute-force reading of the
//! documented definition), nodata of every kind, scale and offset, and
//! thread counts, tilings and memory budgets that must not change the
//! answer.

mod common;

use std::path::Path;

use common::{fixture, geojson, grid, pixel_rect};
use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::{DriverManager, Metadata};
use qingshan::RunOptions;
use qingshan::area::AreaMode;
use qingshan::grid::Grid;
use qingshan::raster::values::{ScaleOffset, ValueRaster};
use qingshan::values::{Stat, ValuesOptions, ValuesReport, values, values_with};
use qingshan::zones::{ZoneLayer, ZoneOptions};

/// Writes a one-band raster of `g` with cells `f(col, row)`, tiled in
/// 32-cell blocks.
fn write<T: GdalType + Copy>(
    path: &Path,
    g: &Grid,
    nodata: Option<f64>,
    scale: Option<(f64, f64)>,
    f: impl Fn(usize, usize) -> T,
) {
    let drv = DriverManager::get_driver_by_name("GTiff").unwrap();
    let opts = RasterCreationOptions::from_iter(["TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32"]);
    let mut ds = drv
        .create_with_band_type_with_options::<T, _>(path, g.width, g.height, 1, &opts)
        .unwrap();
    ds.set_geo_transform(&g.transform.0).unwrap();
    ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_wkt(&g.crs.wkt).unwrap())
        .unwrap();
    let data: Vec<T> = (0..g.height)
        .flat_map(|r| (0..g.width).map(move |c| (r, c)))
        .map(|(r, c)| f(c, r))
        .collect();
    let mut band = ds.rasterband(1).unwrap();
    band.set_no_data_value(nodata).unwrap();
    if let Some((s, o)) = scale {
        band.set_scale(s).unwrap();
        band.set_offset(o).unwrap();
    }
    band.set_description("test values").unwrap();
    band.write(
        (0, 0),
        (g.width, g.height),
        &mut Buffer::new((g.width, g.height), data),
    )
    .unwrap();
}

fn zones(dir: &Path, epsg: u32, rings: &[(&str, Vec<(f64, f64)>)]) -> ZoneLayer {
    let path = dir.join("zones.geojson");
    let feats: Vec<(&str, common::Rings)> =
        rings.iter().map(|(id, r)| (*id, vec![r.clone()])).collect();
    std::fs::write(&path, geojson(Some(epsg), &feats)).unwrap();
    ZoneLayer::read(&path, &ZoneOptions::default()).unwrap()
}

fn open(path: &Path, scale: ScaleOffset) -> ValueRaster {
    ValueRaster::open_values(&[path.display().to_string()], 1, scale)
        .unwrap()
        .with_area(AreaMode::Planar)
}

fn threads(n: usize) -> RunOptions<'static> {
    RunOptions {
        threads: Some(n),
        progress: None,
    }
}

const ALL: &str = "count,sum,mean,min,max,variance,stddev,cv,median,q10,q90,q0,q100";

/// The q-quantile of distinct `values` with `weights` by the documented
/// definition, read literally: s₁ = 0, sₖ = (k − 1)·Wₖ + (n − 1)·Sₖ₋₁,
/// interpolate where sₖ ≤ q·(n − 1)·Sₙ < sₖ₊₁.
fn quantile_by_definition(values: &[f64], weights: &[f64], q: f64) -> f64 {
    let n = values.len();
    let total: f64 = weights.iter().sum();
    let s: Vec<f64> = (0..n)
        .map(|k| {
            let before: f64 = weights[..k].iter().sum();
            k as f64 * weights[k] + (n as f64 - 1.0) * before
        })
        .collect();
    let p = q * (n as f64 - 1.0) * total;
    match (0..n).find(|&k| s[k] > p) {
        None => values[n - 1],
        Some(k) => values[k - 1] + (p - s[k - 1]) * (values[k] - values[k - 1]) / (s[k] - s[k - 1]),
    }
}

/// A raster whose value is its column number (0.5 + col, f32); a
/// rectangle from column 10.37 to 97.12 and row 7.81 to 70.5. Column c
/// is covered over `overlap(c)` of its width, the full height of the
/// rectangle on every row: each statistic is a sum over columns.
#[test]
fn an_offset_rectangle_on_a_column_ramp_has_every_statistic_worked_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(32649, 500_000.0, 4_000_000.0, 10.0, 120, 90);
    let path = dir.path().join("ramp.tif");
    write::<f32>(&path, &g, None, None, |c, _| 0.5 + c as f32);
    let (c0, r0, c1, r1) = (10.37, 7.81, 97.12, 70.5);
    let z = zones(dir.path(), 32649, &[("r", pixel_rect(&g, c0, r0, c1, r1))]);
    let stats = Stat::parse_list(ALL).unwrap();
    let r = values(&open(&path, ScaleOffset::File), &z, &stats, &threads(2)).unwrap();
    let s = &r.zones[0].stats;
    let h = r1 - r0;
    let cols: Vec<usize> = (10..=97).collect();
    let overlap = |c: usize| (c as f64 + 1.0).min(c1) - (c as f64).max(c0);
    let x: Vec<f64> = cols.iter().map(|&c| 0.5 + c as f64).collect();
    let w: Vec<f64> = cols.iter().map(|&c| overlap(c) * h).collect();
    let count = (c1 - c0) * h;
    let sum: f64 = x.iter().zip(&w).map(|(x, w)| x * w).sum();
    let mean = sum / count;
    let var: f64 = x
        .iter()
        .zip(&w)
        .map(|(x, w)| w * (x - mean).powi(2))
        .sum::<f64>()
        / count;
    let close = |name: &str, want: f64| {
        let got = s.get(name).unwrap();
        assert!(
            (got - want).abs() <= 1e-10 * want.abs().max(1.0),
            "{name}: {got} vs {want}"
        );
    };
    close("count", count);
    close("sum", sum);
    close("mean", mean);
    close("variance", var);
    close("stddev", var.sqrt());
    close("cv", var.sqrt() / mean);
    assert_eq!(s.get("min"), Some(10.5));
    assert_eq!(s.get("max"), Some(97.5));
    assert_eq!(s.get("q0"), Some(10.5));
    assert_eq!(s.get("q100"), Some(97.5));
    close("median", quantile_by_definition(&x, &w, 0.5));
    close("q10", quantile_by_definition(&x, &w, 0.1));
    close("q90", quantile_by_definition(&x, &w, 0.9));
    // Areas: planar cells of 100 m², none nodata.
    let z0 = &r.zones[0];
    assert!((z0.valid_area_m2 - count * 100.0).abs() < 1e-9 * count * 100.0);
    assert_eq!(z0.nodata_area_m2, 0.0);
    assert_eq!(r.stats, ALL.split(',').collect::<Vec<_>>());
}

/// Nodata value, NaN, +inf and −inf cells are nodata: their area is
/// reported and no statistic sees them.
#[test]
fn nodata_nan_and_infinities_are_left_out_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(32649, 500_000.0, 4_000_000.0, 10.0, 40, 40);
    let path = dir.path().join("holes.tif");
    // Rows 0–9: nodata −9999, 10: NaN, 11: +inf, 12: −inf; else 2 (left
    // half) or 4 (right half).
    write::<f32>(&path, &g, Some(-9999.0), None, |c, r| match r {
        0..=9 => -9999.0,
        10 => f32::NAN,
        11 => f32::INFINITY,
        12 => f32::NEG_INFINITY,
        _ if c < 20 => 2.0,
        _ => 4.0,
    });
    // The whole raster, and a zone on nodata only.
    let z = zones(
        dir.path(),
        32649,
        &[
            ("all", pixel_rect(&g, 0.0, 0.0, 40.0, 40.0)),
            ("void", pixel_rect(&g, 2.5, 1.5, 30.0, 9.0)),
        ],
    );
    let stats = Stat::parse_list("count,sum,mean,min,max,median,stddev").unwrap();
    let r = values(&open(&path, ScaleOffset::File), &z, &stats, &threads(2)).unwrap();
    let all = &r.zones[0];
    assert_eq!(all.valid_area_m2, 27.0 * 40.0 * 100.0);
    assert_eq!(all.nodata_area_m2, 13.0 * 40.0 * 100.0);
    assert_eq!(all.stats.get("count"), Some(27.0 * 40.0));
    assert_eq!(all.stats.get("mean"), Some(3.0));
    assert_eq!(all.stats.get("min"), Some(2.0));
    assert_eq!(all.stats.get("max"), Some(4.0));
    assert_eq!(all.stats.get("stddev"), Some(1.0));
    // Two values of equal weight: the median is halfway.
    assert_eq!(all.stats.get("median"), Some(3.0));
    let void = &r.zones[1];
    assert_eq!(void.valid_area_m2, 0.0);
    assert!((void.nodata_area_m2 - 27.5 * 7.5 * 100.0).abs() < 1e-9);
    assert_eq!(void.stats.get("count"), Some(0.0));
    assert_eq!(void.stats.get("sum"), Some(0.0));
    for name in ["mean", "min", "max", "median", "stddev"] {
        assert_eq!(void.stats.get(name), None, "{name}");
    }
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("\"void\"") && w.contains("nodata")),
        "{:?}",
        r.warnings
    );
}

/// An Int16 NDVI × 10000 with the file's scale 0.0001: values are scaled
/// as the file says, left raw when asked, or scaled as given.
#[test]
fn scale_and_offset_come_from_the_file_or_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(32649, 500_000.0, 4_000_000.0, 10.0, 20, 20);
    let path = dir.path().join("ndvi.tif");
    write::<i16>(&path, &g, Some(-32768.0), Some((0.0001, 0.0)), |c, _| {
        if c < 10 { 2500 } else { 7500 }
    });
    let z = zones(
        dir.path(),
        32649,
        &[("z", pixel_rect(&g, 0.0, 0.0, 20.0, 20.0))],
    );
    let stats = Stat::parse_list("mean,max").unwrap();
    let mean = |scale| {
        let r = values(&open(&path, scale), &z, &stats, &threads(1)).unwrap();
        (r.zones[0].stats.get("mean").unwrap(), r.warnings)
    };
    let (m, w) = mean(ScaleOffset::File);
    assert!((m - 0.5).abs() < 1e-15, "{m}");
    // The file says what its numbers mean: nothing to warn about.
    assert!(w.is_empty(), "{w:?}");
    let (raw, w) = mean(ScaleOffset::None);
    assert_eq!(raw, 5000.0);
    assert!(w.iter().any(|w| w.contains("not applied")), "{w:?}");
    let (given, w) = mean(ScaleOffset::Given(0.001, -1.0));
    assert!((given - 4.0).abs() < 1e-12);
    assert!(w.iter().any(|w| w.contains("own are 0.0001")), "{w:?}");
    // A zero scale is refused, naming the file.
    let e = ValueRaster::open_values(
        &[path.display().to_string()],
        1,
        ScaleOffset::Given(0.0, 0.0),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("ndvi.tif") && e.contains("scale"), "{e}");
}

/// The fixtures' NDVI under 1800 survey parcels: the same bytes at 1 and
/// 2 threads; a tiny memory budget (runs spilled to disk) and a two-tile
/// split of the raster give the same statistics.
#[test]
fn threads_tiles_and_spilling_do_not_change_the_answer() {
    let ndvi = fixture("ndvi/ndvi_2024.tif");
    let parcels = ZoneLayer::read(
        &fixture("dltb.gpkg"),
        &ZoneOptions {
            id_field: Some("BSM".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let stats = Stat::parse_list("count,mean,stddev,min,max,median,q10,q90").unwrap();
    let raster =
        ValueRaster::open_values(&[ndvi.display().to_string()], 1, ScaleOffset::File).unwrap();
    let json = |r: &ValuesReport| serde_json::to_string(r).unwrap();
    let one = values(&raster, &parcels, &stats, &threads(1)).unwrap();
    let two = values(&raster, &parcels, &stats, &threads(2)).unwrap();
    assert_eq!(json(&one), json(&two));
    let spilled = values_with(
        &raster,
        &parcels,
        &stats,
        &ValuesOptions { memory_pairs: 500 },
        &threads(2),
    )
    .unwrap();
    // Two tiles cut with gdal_translate: a mosaic of them.
    let dir = tempfile::tempdir().unwrap();
    let mut tiles = Vec::new();
    for (k, (x, w)) in [(0, 377), (377, 423)].into_iter().enumerate() {
        let out = dir.path().join(format!("t{k}.tif"));
        let st = std::process::Command::new("gdal_translate")
            .args(["-q", "-srcwin", &x.to_string(), "0", &w.to_string(), "600"])
            .arg(&ndvi)
            .arg(&out)
            .status()
            .expect("gdal_translate (gdal-bin) is needed");
        assert!(st.success());
        tiles.push(out.display().to_string());
    }
    let tiled = ValueRaster::open_values(&tiles, 1, ScaleOffset::File).unwrap();
    let split = values(&tiled, &parcels, &stats, &threads(2)).unwrap();
    let mut compared = 0;
    for other in [&spilled, &split] {
        for (a, b) in one.zones.iter().zip(&other.zones) {
            assert_eq!(a.id, b.id);
            for ((n, x), (_, y)) in a.stats.0.iter().zip(&b.stats.0) {
                match (x, y) {
                    (Some(x), Some(y)) => {
                        // Weights summed in another order: quantiles
                        // interpolate between them, so allow 1e-10.
                        assert!(
                            (x - y).abs() <= 1e-10 * x.abs().max(1.0),
                            "{} {n}: {x} vs {y}",
                            a.id
                        );
                        compared += 1;
                    }
                    _ => assert_eq!(x, y, "{} {n}", a.id),
                }
            }
        }
    }
    assert!(compared > 20_000, "{compared}");
}

/// A lon/lat raster under the default ellipsoidal weights: a rectangle
/// spanning rows at different latitudes weighs each row by its true cell
/// area, so its mean differs from the coverage-only (planar) mean exactly
/// as the row areas say.
#[test]
fn ellipsoidal_weights_follow_the_row_areas_on_a_lon_lat_grid() {
    let dir = tempfile::tempdir().unwrap();
    // 0.5° cells from 60°N down to 30°N: row areas differ by a factor ~2.
    let g = grid(4326, 100.0, 60.0, 0.5, 4, 60);
    let path = dir.path().join("rows.tif");
    write::<f32>(&path, &g, None, None, |_, r| r as f32);
    let z = zones(
        dir.path(),
        4326,
        &[("z", pixel_rect(&g, 0.0, 0.0, 4.0, 60.0))],
    );
    let stats = Stat::parse_list("mean,count").unwrap();
    let raster =
        ValueRaster::open_values(&[path.display().to_string()], 1, ScaleOffset::File).unwrap();
    let ell = values(&raster, &z, &stats, &threads(2)).unwrap();
    // Reference row weights: Karney's area of each row's cell on WGS 84,
    // its top and bottom edges densified along the parallels (a geodesic
    // between the corners would bulge poleward).
    let geod = geographiclib_rs::Geodesic::wgs84();
    let (mut sw, mut swx) = (0.0, 0.0);
    for r in 0..60 {
        let (top, bottom) = (60.0 - 0.5 * r as f64, 60.0 - 0.5 * (r + 1) as f64);
        let mut p =
            geographiclib_rs::PolygonArea::new(&geod, geographiclib_rs::Winding::CounterClockwise);
        let n = 2000;
        for k in 0..=n {
            p.add_point(bottom, 100.0 + 0.5 * k as f64 / n as f64);
        }
        for k in 0..=n {
            p.add_point(top, 100.5 - 0.5 * k as f64 / n as f64);
        }
        let (_, a, _) = p.compute(false);
        sw += a.abs();
        swx += a.abs() * r as f64;
    }
    let want = swx / sw;
    let got = ell.zones[0].stats.get("mean").unwrap();
    assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
    // Count is cells whatever the weights.
    assert_eq!(ell.zones[0].stats.get("count"), Some(240.0));
    // Square degrees are no area: planar weights on a lon/lat grid are
    // ground areas too (the rule of every area in qingshan).
    let planar = values(
        &raster.clone().with_area(AreaMode::Planar),
        &z,
        &stats,
        &threads(2),
    )
    .unwrap();
    assert_eq!(planar.zones[0].stats, ell.zones[0].stats);
}

/// Int8 data (GDAL 3.6: Byte with PIXELTYPE=SIGNEDBYTE) reads as signed,
/// its nodata −128 included; a Float32 nodata written as `-3.40282e+38`
/// (FLT_MAX printed short) is −FLT_MAX, as GDAL's mask takes it.
#[test]
fn signed_bytes_and_a_short_float_max_nodata_read_as_gdal_means_them() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(32649, 500_000.0, 4_000_000.0, 10.0, 20, 20);
    let z = zones(
        dir.path(),
        32649,
        &[("z", pixel_rect(&g, 0.0, 0.0, 20.0, 20.0))],
    );
    let stats = Stat::parse_list("mean,min,max").unwrap();
    // Int8: −5 on the left half, 100 on the right, row 0 nodata (−128).
    let path = dir.path().join("i8.tif");
    {
        let drv = DriverManager::get_driver_by_name("GTiff").unwrap();
        let opts = RasterCreationOptions::from_iter(["PIXELTYPE=SIGNEDBYTE"]);
        let mut ds = drv
            .create_with_band_type_with_options::<u8, _>(&path, 20, 20, 1, &opts)
            .unwrap();
        ds.set_geo_transform(&g.transform.0).unwrap();
        ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_wkt(&g.crs.wkt).unwrap())
            .unwrap();
        let data: Vec<u8> = (0..400)
            .map(|i| match (i / 20, i % 20) {
                (0, _) => 128u8,           // −128
                (_, c) if c < 10 => 251u8, // −5
                _ => 100u8,
            })
            .collect();
        let mut band = ds.rasterband(1).unwrap();
        band.set_no_data_value(Some(-128.0)).unwrap();
        band.write((0, 0), (20, 20), &mut Buffer::new((20, 20), data))
            .unwrap();
    }
    let r = values(&open(&path, ScaleOffset::File), &z, &stats, &threads(1)).unwrap();
    let s = &r.zones[0].stats;
    assert_eq!((s.get("min"), s.get("max")), (Some(-5.0), Some(100.0)));
    assert_eq!(s.get("mean"), Some(47.5));
    assert_eq!(r.zones[0].nodata_area_m2, 20.0 * 100.0);
    // Float32, nodata tagged −3.40282e+38, cells at −FLT_MAX on row 0.
    let path = dir.path().join("fmax.tif");
    write::<f32>(&path, &g, Some(-3.40282e38), None, |_, r| {
        if r == 0 { -f32::MAX } else { 0.5 }
    });
    let r = values(&open(&path, ScaleOffset::File), &z, &stats, &threads(1)).unwrap();
    assert_eq!(r.zones[0].stats.get("min"), Some(0.5));
    assert_eq!(r.zones[0].nodata_area_m2, 20.0 * 100.0);
}
