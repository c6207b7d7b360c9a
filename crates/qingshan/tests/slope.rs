//! Slope grades against answers worked out by hand: planes and parabolic
//! troughs (whose Horn slope is known in closed form), rectangles offset
//! by fractions of a cell, land cover on another grid enumerated cell by
//! cell; tile sets and thread counts that must not change a byte.

mod common;

use std::path::Path;

use common::{fixture, geojson, grid, pixel_rect, write_raster};
use gdal::DriverManager;
use gdal::raster::{Buffer, RasterCreationOptions};
use qingshan::RunOptions;
use qingshan::area::AreaMode;
use qingshan::grid::Grid;
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::raster::values::ValueRaster;
use qingshan::slope::{Cropland, Grades, SlopeInputs, SlopeReport, slope};
use qingshan::zones::{ZoneLayer, ZoneOptions};

/// Writes a Float32 DEM of `g` (cells `f(col, row)`), tiled in `block`
/// blocks, with `nodata`.
fn write_dem(
    path: &Path,
    g: &Grid,
    block: usize,
    nodata: Option<f64>,
    f: impl Fn(usize, usize) -> f32,
) {
    let drv = DriverManager::get_driver_by_name("GTiff").unwrap();
    let b = block.to_string();
    let opts = RasterCreationOptions::from_iter([
        "TILED=YES",
        &format!("BLOCKXSIZE={b}"),
        &format!("BLOCKYSIZE={b}"),
    ]);
    let mut ds = drv
        .create_with_band_type_with_options::<f32, _>(path, g.width, g.height, 1, &opts)
        .unwrap();
    ds.set_geo_transform(&g.transform.0).unwrap();
    ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_wkt(&g.crs.wkt).unwrap())
        .unwrap();
    let data: Vec<f32> = (0..g.height)
        .flat_map(|r| (0..g.width).map(move |c| (r, c)))
        .map(|(r, c)| f(c, r))
        .collect();
    let mut band = ds.rasterband(1).unwrap();
    band.set_no_data_value(nodata).unwrap();
    band.write(
        (0, 0),
        (g.width, g.height),
        &mut Buffer::new((g.width, g.height), data),
    )
    .unwrap();
}

fn zones(dir: &Path, epsg: u32, rects: &[(&str, Vec<(f64, f64)>)]) -> ZoneLayer {
    let path = dir.join("zones.geojson");
    let feats: Vec<(&str, common::Rings)> =
        rects.iter().map(|(id, r)| (*id, vec![r.clone()])).collect();
    std::fs::write(&path, geojson(Some(epsg), &feats)).unwrap();
    ZoneLayer::read(&path, &ZoneOptions::default()).unwrap()
}

/// Inputs with no land cover, cropland or slope raster.
fn bare<'a>(dem: &'a ValueRaster, zones: &'a ZoneLayer, grades: &'a Grades) -> SlopeInputs<'a> {
    SlopeInputs {
        dem,
        zones,
        grades,
        land_cover: None,
        cropland: None,
        slope_raster: None,
    }
}

fn run(dem: &ValueRaster, z: &ZoneLayer, grades: &Grades, threads: usize) -> SlopeReport {
    slope(
        &SlopeInputs {
            dem,
            zones: z,
            grades,
            land_cover: None,
            cropland: None,
            slope_raster: None,
        },
        &RunOptions {
            threads: Some(threads),
            progress: None,
        },
    )
    .unwrap()
}

/// A plane of slope 30°: a rectangle offset by fractions of a cell has its
/// whole planar area in grade V and a mean slope of 30°.
#[test]
fn a_plane_puts_an_offset_rectangle_in_one_grade() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(32649, 500_000.0, 4_000_000.0, 10.0, 120, 90);
    let tan = 30f64.to_radians().tan();
    let path = dir.path().join("dem.tif");
    // z = 1000 + tan30 · x (x east in metres).
    write_dem(&path, &g, 32, None, |c, _| {
        (1000.0 + tan * (c as f64 * 10.0)) as f32
    });
    let dem = ValueRaster::open(&[path.display().to_string()], 1)
        .unwrap()
        .with_area(AreaMode::Planar);
    let (c0, r0, c1, r1) = (10.37, 7.81, 97.12, 70.5);
    let z = zones(dir.path(), 32649, &[("r", pixel_rect(&g, c0, r0, c1, r1))]);
    let report = run(&dem, &z, &Grades::default(), 2);
    let zs = &report.zones[0];
    let area = (c1 - c0) * (r1 - r0) * 100.0;
    assert!(
        (zs.valid_area_m2 - area).abs() < 1e-9 * area,
        "{} vs {area}",
        zs.valid_area_m2
    );
    assert!((zs.grades[4].area_m2 - area).abs() < 1e-9 * area);
    assert_eq!(zs.grades[..4].iter().map(|g| g.area_m2).sum::<f64>(), 0.0);
    // f32 heights: the mean is 30° to f32 rounding of heights ~1000 m.
    assert!(
        (zs.mean_slope_deg.unwrap() - 30.0).abs() < 1e-3,
        "{:?}",
        zs.mean_slope_deg
    );
}

/// A parabolic trough z = k·x² (x from the grid's left edge): Horn's slope
/// of column c is atan(2k·x_c) exactly (central differences are exact on a
/// parabola). Grade areas of a rectangle, columns counted by hand; tiles
/// with odd blocks and any thread count give the same bytes.
#[test]
fn a_trough_splits_a_rectangle_by_columns_and_tiles_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h, px) = (200usize, 60usize, 5.0);
    let g = grid(32649, 500_000.0, 4_000_000.0, px, w, h);
    let k = 0.002;
    let zf = |c: usize| {
        let x = (c as f64 + 0.5) * px;
        (k * x * x) as f32
    };
    let whole = dir.path().join("whole.tif");
    write_dem(&whole, &g, 16, None, |c, _| zf(c));
    // The same DEM as three tiles of odd widths.
    let mut tiles = Vec::new();
    for (i, (c0, cw)) in [(0usize, 71usize), (71, 64), (135, 65)]
        .into_iter()
        .enumerate()
    {
        let t = grid(32649, 500_000.0 + c0 as f64 * px, 4_000_000.0, px, cw, h);
        let p = dir.path().join(format!("t{i}.tif"));
        write_dem(&p, &t, 16, None, |c, _| zf(c0 + c));
        tiles.push(p.display().to_string());
    }
    let grades = Grades::new(vec![10.0, 20.0, 30.0]).unwrap();
    // Whole columns 3..190, rows 5..50: every column's slope is known.
    let z = zones(
        dir.path(),
        32649,
        &[("trough", pixel_rect(&g, 3.0, 5.0, 190.0, 50.0))],
    );
    let dem = ValueRaster::open(&[whole.display().to_string()], 1)
        .unwrap()
        .with_area(AreaMode::Planar);
    let report = run(&dem, &z, &grades, 1);
    let mut expected = [0.0f64; 4];
    for c in 3..190 {
        // Horn on rows of equal height: (z[c+1] − z[c−1]) / (2·px), from
        // the f32 heights as written.
        let s = ((zf(c + 1) as f64 - zf(c - 1) as f64) / (2.0 * px))
            .atan()
            .to_degrees() as f32;
        let grade = [10.0f32, 20.0, 30.0].iter().filter(|b| s > **b).count();
        expected[grade] += 45.0 * px * px;
    }
    for (got, want) in report.zones[0].grades.iter().zip(expected) {
        assert!(
            (got.area_m2 - want).abs() < 1e-9 * want.max(1.0),
            "{} vs {want}",
            got.area_m2
        );
    }
    assert!(expected.iter().all(|a| *a > 0.0), "{expected:?}");
    let tiled = ValueRaster::open(&tiles, 1)
        .unwrap()
        .with_area(AreaMode::Planar);
    let json = |r: &SlopeReport| serde_json::to_string(r).unwrap();
    for threads in [1, 3] {
        assert_eq!(
            json(&run(&tiled, &z, &grades, threads)),
            json(&report),
            "{threads} threads"
        );
    }
}

/// Land cover on a 10 m grid over a 25 m DEM whose slope changes by
/// column and by row (z = k·x² + m·y², Horn exact on it): each
/// land-cover cell takes the slope of the DEM cell under its centre
/// (enumerated here cell by cell).
#[test]
fn land_cover_cells_take_the_slope_under_their_centre() {
    let dir = tempfile::tempdir().unwrap();
    let dg = grid(32649, 500_000.0, 4_000_000.0, 25.0, 80, 40);
    let (k, m) = (0.0006, 0.0009);
    let zf = |c: usize, r: usize| {
        let x = (c as f64 + 0.5) * 25.0;
        let y = (r as f64 + 0.5) * 25.0;
        (k * x * x + m * y * y) as f32
    };
    let dem_path = dir.path().join("dem.tif");
    write_dem(&dem_path, &dg, 16, None, zf);
    let lg = grid(32649, 500_003.0, 3_999_996.0, 10.0, 190, 90);
    let lc_path = dir.path().join("lc.tif");
    // Class 1 (cropland) in even 10-cell bands of columns, 2 (forest) else.
    let class = |c: usize| if (c / 10).is_multiple_of(2) { 1u8 } else { 2u8 };
    write_raster::<u8>(&lc_path, &lg, Some(0.0), |c, _| class(c));
    let grades = Grades::new(vec![5.0, 15.0, 25.0]).unwrap();
    let (c0, r0, c1, r1) = (4usize, 3usize, 180usize, 80usize);
    let z = zones(
        dir.path(),
        32649,
        &[(
            "z",
            pixel_rect(&lg, c0 as f64, r0 as f64, c1 as f64, r1 as f64),
        )],
    );
    let dem = ValueRaster::open(&[dem_path.display().to_string()], 1)
        .unwrap()
        .with_area(AreaMode::Planar);
    let lc = LandCover::open(&[lc_path.display().to_string()], 1)
        .unwrap()
        .with_area(AreaMode::Planar);
    let legend = Legend::builtin("clcd").unwrap();
    let report = slope(
        &SlopeInputs {
            dem: &dem,
            zones: &z,
            grades: &grades,
            land_cover: Some((&lc, &legend)),
            cropland: None,
            slope_raster: None,
        },
        &RunOptions::default(),
    )
    .unwrap();
    let mut expected = std::collections::BTreeMap::<i64, [f64; 4]>::new();
    for r in r0..r1 {
        // Land-cover rows start 4 m below the DEM's top edge.
        let y = 4.0 + (r as f64 + 0.5) * 10.0;
        let dr = (y / 25.0).floor() as usize;
        for c in c0..c1 {
            let x = 3.0 + (c as f64 + 0.5) * 10.0;
            let dc = (x / 25.0).floor() as usize;
            // Horn on this surface from the f32 heights: differences
            // across the cell, rows or columns weighted 1, 2, 1.
            let gx = [(dr - 1, 1.0), (dr, 2.0), (dr + 1, 1.0)]
                .iter()
                .map(|&(rr, w)| w * (zf(dc + 1, rr) as f64 - zf(dc - 1, rr) as f64))
                .sum::<f64>()
                / (8.0 * 25.0);
            let gy = [(dc - 1, 1.0), (dc, 2.0), (dc + 1, 1.0)]
                .iter()
                .map(|&(cc, w)| w * (zf(cc, dr + 1) as f64 - zf(cc, dr - 1) as f64))
                .sum::<f64>()
                / (8.0 * 25.0);
            let s = gx.hypot(gy).atan().to_degrees() as f32;
            let g = [5.0f32, 15.0, 25.0].iter().filter(|b| s > **b).count();
            expected.entry(class(c) as i64).or_default()[g] += 100.0;
        }
    }
    let by_class = report.zones[0].by_class.as_ref().unwrap();
    assert_eq!(by_class.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
    for (code, want) in &expected {
        for (got, want) in by_class[&qingshan::legend::ClassCode::from(*code)]
            .iter()
            .zip(want)
        {
            assert!((got - want).abs() < 1e-6, "class {code}: {got} vs {want}");
        }
    }
    // Steep cropland: CLCD class 1 on the last grade.
    let steep = report.zones[0].steep_cropland_m2.unwrap();
    assert!(
        (steep - expected[&1][3]).abs() < 1e-6 && steep > 0.0,
        "{steep}"
    );
}

/// Nodata heights and the DEM's edges follow gdaldem -compute_edges on a
/// float DEM; the slope raster has the DEM's grid. NaN heights are nodata
/// too: gdaldem (whose nodata here is -9999) lets NaN spread to the eight
/// neighbours; qingshan gives those neighbours the centre's height, as for
/// any nodata neighbour.
#[test]
fn a_float_dem_with_voids_matches_gdaldem() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(32649, 500_000.0, 4_000_000.0, 10.0, 150, 110);
    let path = dir.path().join("dem.tif");
    write_dem(&path, &g, 64, Some(-9999.0), |c, r| {
        let (x, y) = (c as f64, r as f64);
        if (x - 40.0).hypot(y - 30.0) < 6.0 {
            -9999.0
        } else if (x - 100.0).hypot(y - 80.0) < 3.0 {
            f32::NAN
        } else {
            (800.0 + 40.0 * (x / 9.0).sin() * (y / 13.0).cos() + 0.8 * x) as f32
        }
    });
    let dem = ValueRaster::open(&[path.display().to_string()], 1).unwrap();
    let out = dir.path().join("slope.tif");
    let z = zones(
        dir.path(),
        32649,
        &[("all", pixel_rect(&g, 0.0, 0.0, 150.0, 110.0))],
    );
    slope(
        &SlopeInputs {
            dem: &dem,
            zones: &z,
            grades: &Grades::default(),
            land_cover: None,
            cropland: None,
            slope_raster: Some(&out),
        },
        &RunOptions::default(),
    )
    .unwrap();
    let reference = dir.path().join("gdaldem.tif");
    let o = std::process::Command::new("gdaldem")
        .args(["slope", "-q", "-compute_edges"])
        .arg(&path)
        .arg(&reference)
        .output()
        .expect("gdaldem (gdal-bin) is needed: bash .ci/setup");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |p: &Path| -> Vec<f32> {
        let ds = gdal::Dataset::open(p).unwrap();
        let b = ds.rasterband(1).unwrap();
        let nd = b.no_data_value().unwrap() as f32;
        b.read_as::<f32>((0, 0), (150, 110), (150, 110), None)
            .unwrap()
            .data()
            .iter()
            .map(|&v| if v == nd { f32::NAN } else { v })
            .collect()
    };
    let (ours, theirs) = (read(&out), read(&reference));
    let nan_near = |i: usize| {
        let (c, r) = ((i % 150) as f64, (i / 150) as f64);
        (c - 100.0).hypot(r - 80.0) < 3.0 + 1.5
    };
    let mut worst = 0f32;
    let mut nodata = 0;
    let mut spread = 0;
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        if !a.is_nan() && b.is_nan() && nan_near(i) {
            spread += 1;
            continue;
        }
        assert_eq!(a.is_nan(), b.is_nan(), "cell {i}");
        if a.is_nan() {
            nodata += 1;
        } else {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(nodata > 100 && spread > 0, "{nodata} {spread}");
    // gdaldem sums float heights in single precision (about 5e-4 m at
    // 800 m): up to ~4e-4° off on 10 m cells. qingshan sums in double: the
    // interior cells equal Horn in f64 on the f32 heights, written here
    // from the formula, to 1e-5° (the f32 rounding of the degrees).
    assert!(worst < 1e-3, "{worst}");
    let zs = |c: usize, r: usize| -> f64 {
        let (x, y) = (c as f64, r as f64);
        (800.0 + 40.0 * (x / 9.0).sin() * (y / 13.0).cos() + 0.8 * x) as f32 as f64
    };
    let mut checked = 0;
    for r in 1..109 {
        for c in 1..149 {
            let (x, y) = (c as f64, r as f64);
            if (x - 40.0).hypot(y - 30.0) < 8.0 || (x - 100.0).hypot(y - 80.0) < 5.0 {
                continue;
            }
            let hx = (zs(c + 1, r - 1) + 2.0 * zs(c + 1, r) + zs(c + 1, r + 1))
                - (zs(c - 1, r - 1) + 2.0 * zs(c - 1, r) + zs(c - 1, r + 1));
            let hy = (zs(c - 1, r + 1) + 2.0 * zs(c, r + 1) + zs(c + 1, r + 1))
                - (zs(c - 1, r - 1) + 2.0 * zs(c, r - 1) + zs(c + 1, r - 1));
            let s = (hx / 80.0).hypot(hy / 80.0).atan().to_degrees();
            let got = ours[r * 150 + c] as f64;
            assert!((got - s).abs() < 1e-5, "({c}, {r}): {got} vs {s}");
            checked += 1;
        }
    }
    assert!(checked > 15_000);
}

/// The fixtures: cropland polygons filtered by DLBM, the steep ones
/// assigned by their largest grade; written as GBK Shapefile and read back.
#[test]
fn cropland_polygons_are_graded_and_written_as_gbk_shapefiles() {
    let dir = tempfile::tempdir().unwrap();
    let dem = ValueRaster::open(&[fixture("dem").display().to_string()], 1).unwrap();
    let towns = ZoneLayer::read(&fixture("towns.geojson"), &ZoneOptions::default()).unwrap();
    let layer = ZoneLayer::read(
        &fixture("dltb.gpkg"),
        &ZoneOptions {
            id_field: Some("BSM".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let total = layer.zones.len();
    let cropland = Cropland::select(layer, Some("DLBM"), &[]).unwrap();
    assert!(cropland.layer.zones.len() < total);
    assert!(
        cropland
            .classes
            .iter()
            .all(|c| matches!(c.as_deref(), Some("0101" | "0102" | "0103")))
    );
    let grades = Grades::default();
    let report = slope(
        &SlopeInputs {
            cropland: Some(&cropland),
            slope_raster: None,
            ..bare(&dem, &towns, &grades)
        },
        &RunOptions::default(),
    )
    .unwrap();
    let polygons = report.polygons.as_ref().unwrap();
    for p in polygons {
        let best = p
            .grade_areas_m2
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .unwrap();
        assert_eq!(p.grade, Some(best.0 + 1), "{p:?}");
    }
    let steep = report.steep_polygons();
    assert!(!steep.is_empty());
    let out = dir.path().join("steep.shp");
    let csv = qingshan::export::SteepCropland {
        report: &report,
        cropland: &cropland,
    }
    .write(&out)
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(out.with_extension("cpg"))
            .unwrap()
            .trim(),
        "GBK"
    );
    let back = ZoneLayer::read(
        &out,
        &ZoneOptions {
            id_field: Some("id".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(back.zones.len(), steep.len());
    assert_eq!(back.zones[0].id, steep[0].id);
    let lines = std::fs::read_to_string(csv).unwrap().lines().count();
    assert_eq!(lines, steep.len() + 1);
    // Chinese classes (DLMC 旱地) go into the DBF as GBK: 旱 = BA B5,
    // 地 = B5 D8; no UTF-8 (E6 97 B1) in it.
    let by_name = ZoneLayer::read(
        &fixture("dltb.gpkg"),
        &ZoneOptions {
            id_field: Some("BSM".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let dry = Cropland::select(by_name, Some("DLMC"), &["旱地".to_string()]).unwrap();
    let report = slope(
        &SlopeInputs {
            cropland: Some(&dry),
            slope_raster: None,
            ..bare(&dem, &towns, &grades)
        },
        &RunOptions::default(),
    )
    .unwrap();
    assert!(!report.steep_polygons().is_empty());
    let out = dir.path().join("dry.shp");
    qingshan::export::SteepCropland {
        report: &report,
        cropland: &dry,
    }
    .write(&out)
    .unwrap();
    let dbf = std::fs::read(out.with_extension("dbf")).unwrap();
    let has = |needle: &[u8]| dbf.windows(needle.len()).any(|w| w == needle);
    assert!(has(&[0xBA, 0xB5, 0xB5, 0xD8]));
    assert!(!has("旱".as_bytes()));
    let back = ZoneLayer::read(&out, &ZoneOptions::default()).unwrap();
    assert_eq!(back.zones[0].attributes["class"], "旱地");
}
