//! Zonal statistics end to end through GDAL files, against answers worked
//! out by hand or by an independent route (Karney polygon areas).

mod common;

use qingshan::area::AreaMode;

use approx::assert_relative_eq;
use common::{geojson, grid, pixel_rect, write_raster};
use geo::BooleanOps;
use qingshan::RunOptions;
use qingshan::legend::{ClassCode, Legend};
use qingshan::raster::LandCover;
use qingshan::zonal::{StatsReport, zonal_stats};
use qingshan::zones::{ZoneLayer, ZoneOptions};

fn run(inputs: &[&str], zones: &std::path::Path, legend: &str, threads: usize) -> StatsReport {
    let lc = LandCover::open(inputs, 1)
        .unwrap()
        .with_area(AreaMode::Planar);
    let layer = ZoneLayer::read(zones, &ZoneOptions::default()).unwrap();
    zonal_stats(
        &lc,
        &layer,
        &Legend::load(legend).unwrap(),
        &RunOptions {
            threads: Some(threads),
            progress: None,
        },
    )
    .unwrap()
}

/// 20 × 10 cells of 30 m: class 1 left of column 10, class 2 (forest) from
/// column 10; row 9 is nodata. A rectangle offset by fractions of a cell
/// has class areas known exactly.
#[test]
fn rectangle_offset_by_fractions_of_a_cell_on_two_classes() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 20, 10);
    let tif = dir.path().join("lc.tif");
    write_raster::<u8>(&tif, &g, Some(0.0), |c, r| {
        if r == 9 {
            0
        } else if c < 10 {
            1
        } else {
            2
        }
    });
    let zones = dir.path().join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[("A", vec![pixel_rect(&g, 2.25, 1.5, 14.5, 9.5)])],
        ),
    )
    .unwrap();
    let rep = run(&[tif.to_str().unwrap()], &zones, "clcd", 2);
    let z = &rep.zones[0];
    let cell = 900.0;
    assert_relative_eq!(
        z.classes[&ClassCode::int(1)],
        (10.0 - 2.25) * 7.5 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        z.classes[&ClassCode::int(2)],
        (14.5 - 10.0) * 7.5 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        z.nodata_area_m2,
        (14.5 - 2.25) * 0.5 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        z.valid_area_m2,
        (14.5 - 2.25) * 7.5 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(z.forest_area_m2, z.classes[&ClassCode::int(2)]);
    assert_relative_eq!(z.forest_cover.unwrap(), 4.5 / 12.25, max_relative = 1e-12);
    // The geodesic zone area differs from the planar one only by the
    // projection's scale (GK at ~90 km from the central meridian: < 0.1 %).
    let planar = 12.25 * 8.0 * cell;
    assert!(
        (z.zone_area_m2 / planar - 1.0).abs() < 1e-3,
        "{}",
        z.zone_area_m2
    );
    assert_eq!(z.name.as_deref(), Some("zone A"));
    assert_eq!(rep.crs, "EPSG:4545");
    assert_eq!(rep.schema, "qingshan.stats/1");
}

/// The same raster cut into tiles (and a VRT of them) gives the same areas.
#[test]
fn tiles_and_vrt_agree_with_the_single_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 300, 200);
    let class = |c: usize, r: usize| -> u8 { 1 + ((c / 7 + r / 5) % 9) as u8 };
    let whole = d.join("whole.tif");
    write_raster::<u8>(&whole, &g, Some(0.0), class);
    // Two tiles split at column 130, sharing the grid exactly.
    let mut left = g.clone();
    left.width = 130;
    let mut right = g.clone();
    right.width = 170;
    right.transform.0[0] += 130.0 * 30.0;
    let (lt, rt) = (d.join("t_left.tif"), d.join("t_right.tif"));
    write_raster::<u8>(&lt, &left, Some(0.0), class);
    write_raster::<u8>(&rt, &right, Some(0.0), |c, r| class(c + 130, r));
    let zones = d.join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[
                ("across", vec![pixel_rect(&g, 100.3, 20.7, 180.9, 150.2)]),
                ("left", vec![pixel_rect(&g, 3.5, 3.5, 60.25, 90.75)]),
                (
                    "holed",
                    vec![
                        pixel_rect(&g, 120.0, 100.0, 290.0, 190.0),
                        pixel_rect(&g, 125.5, 110.5, 150.5, 180.5),
                    ],
                ),
            ],
        ),
    )
    .unwrap();
    let single = run(&[whole.to_str().unwrap()], &zones, "clcd", 2);
    let tiled = run(
        &[lt.to_str().unwrap(), rt.to_str().unwrap()],
        &zones,
        "clcd",
        2,
    );
    // The same two tiles as VRTs, written by hand: a plain mosaic (read
    // through its tiles) and one whose identity lookup table makes GDAL
    // read it as a VRT. Both give the single file's areas.
    let vrt = |name: &str, extra: &str| {
        let t = g.transform.0;
        let source = |file: &std::path::Path, x: usize, w: usize| {
            format!(
                r#"<ComplexSource><SourceFilename relativeToVRT="1">{}</SourceFilename><SourceBand>1</SourceBand>
<SrcRect xOff="0" yOff="0" xSize="{w}" ySize="200"/><DstRect xOff="{x}" yOff="0" xSize="{w}" ySize="200"/>{extra}</ComplexSource>"#,
                file.file_name().unwrap().to_str().unwrap()
            )
        };
        let text = format!(
            r#"<VRTDataset rasterXSize="300" rasterYSize="200"><SRS>EPSG:4545</SRS>
<GeoTransform>{}, {}, {}, {}, {}, {}</GeoTransform>
<VRTRasterBand dataType="Byte" band="1"><NoDataValue>0</NoDataValue>{}{}</VRTRasterBand></VRTDataset>"#,
            t[0],
            t[1],
            t[2],
            t[3],
            t[4],
            t[5],
            source(&lt, 0, 130),
            source(&rt, 130, 170)
        );
        let path = d.join(name);
        std::fs::write(&path, text).unwrap();
        run(&[path.to_str().unwrap()], &zones, "clcd", 2)
    };
    let mosaic = vrt("mosaic.vrt", "<NODATA>0</NODATA>");
    let through_gdal = vrt("lut.vrt", "<LUT>0:0,255:255</LUT>");
    // The directory holds whole.tif too: as one source, it overlaps the tiles.
    let err = LandCover::open(&[d.to_str().unwrap()], 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("overlap"), "{err}");
    assert_eq!(single.zones.len(), 3);
    for other in [&tiled, &mosaic, &through_gdal] {
        assert_eq!(other.zones.len(), 3);
    }
    let others = tiled
        .zones
        .iter()
        .chain(&mosaic.zones)
        .chain(&through_gdal.zones);
    for (a, b) in single.zones.iter().cycle().zip(others) {
        assert_eq!(a.id, b.id);
        assert_eq!(
            a.classes.keys().collect::<Vec<_>>(),
            b.classes.keys().collect::<Vec<_>>()
        );
        for (k, v) in &a.classes {
            assert_relative_eq!(*v, b.classes[k], max_relative = 1e-12);
        }
    }
    // Independent check of one zone: count cells by hand.
    let z = &single.zones[1];
    let mut expect = std::collections::BTreeMap::<i64, f64>::new();
    for r in 3..91 {
        for c in 3..61 {
            let fx = (c as f64 + 1.0).min(60.25) - (c as f64).max(3.5);
            let fy = (r as f64 + 1.0).min(90.75) - (r as f64).max(3.5);
            if fx > 0.0 && fy > 0.0 {
                *expect.entry(class(c, r) as i64).or_default() += fx * fy * 900.0;
            }
        }
    }
    for (k, v) in &expect {
        assert_relative_eq!(z.classes[&ClassCode::from(*k)], *v, max_relative = 1e-12);
    }
}

#[test]
fn overlapping_tiles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 50, 50);
    let a = dir.path().join("a.tif");
    let b = dir.path().join("b.tif");
    write_raster::<u8>(&a, &g, None, |_, _| 1);
    let mut g2 = g.clone();
    g2.transform.0[0] += 25.0 * 30.0;
    write_raster::<u8>(&b, &g2, None, |_, _| 2);
    let err = LandCover::open(&[a.to_str().unwrap(), b.to_str().unwrap()], 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a.tif") && err.contains("b.tif") && err.contains("overlap"),
        "{err}"
    );
}

/// A lon/lat (EPSG:4490) raster with zones in EPSG:4545: class areas use
/// ellipsoidal cell areas, checked against Karney's geodesic polygon areas
/// of the same zones clipped to each class region.
#[test]
fn geographic_raster_with_projected_zones_matches_karney_areas() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (lon0, lat0, px) = (109.0, 35.3, 0.0005);
    let g = grid(4490, lon0, lat0, px, 400, 300);
    let tif = d.join("ll.tif");
    // North of 35.25° (rows < 100) class 2, south class 4.
    write_raster::<u8>(&tif, &g, None, |_, r| if r < 100 { 2 } else { 4 });
    // A zone in EPSG:4545 around (109.08E, 35.24N).
    let geo_crs = qingshan::crs_from_epsg(4490).unwrap();
    let gk = qingshan::crs_from_epsg(4545).unwrap();
    let centre = {
        let layer = ZoneLayer {
            path: "c".into(),
            crs: geo_crs.clone(),
            zones: vec![qingshan::zones::Zone {
                index: 0,
                id: "c".into(),
                name: None,
                attributes: Default::default(),
                geometry: geo::MultiPolygon(vec![geo::Polygon::new(
                    geo::LineString::from(vec![
                        (109.08, 35.24),
                        (109.0801, 35.24),
                        (109.08, 35.2401),
                    ]),
                    vec![],
                )]),
            }],
            repairs: vec![],
            ids: qingshan::zones::IdScheme::Index,
        };
        layer.project(&gk, None).unwrap()[0].0[0].exterior().0[0]
    };
    let (cx, cy) = (centre.x, centre.y);
    let ring: Vec<(f64, f64)> = (0..40)
        .map(|i| {
            let t = i as f64 / 40.0 * std::f64::consts::TAU;
            let r = 3000.0 + 800.0 * (3.0 * t).sin();
            (cx + r * t.cos(), cy + 0.8 * r * t.sin())
        })
        .collect();
    let zones = d.join("z.geojson");
    std::fs::write(&zones, geojson(Some(4545), &[("blob", vec![ring])])).unwrap();
    let rep = run(&[tif.to_str().unwrap()], &zones, "clcd", 2);
    let z = &rep.zones[0];

    // Reference: the zone in lon/lat (densified to 1 m), clipped at 35.25°N,
    // each part measured with Karney's algorithm on GRS80.
    let layer = ZoneLayer::read(&zones, &ZoneOptions::default()).unwrap();
    let ll = layer.project(&geo_crs, Some(1.0)).unwrap().remove(0);
    let north = geo::Polygon::new(
        geo::LineString::from(vec![
            (108.0, 35.25),
            (110.0, 35.25),
            (110.0, 36.0),
            (108.0, 36.0),
        ]),
        vec![],
    );
    let ell = qingshan::area::Ellipsoid::GRS80;
    let total = ell.multipolygon_area(&ll);
    // Karney's edges are geodesics; the clip edge is a parallel, so it is
    // densified (≈1 m steps) to follow the parallel, not the geodesic.
    let n_area = ell.multipolygon_area(&common::densify(&ll.intersection(&north), 1e-5));
    assert_relative_eq!(z.zone_area_m2, total, max_relative = 1e-7);
    assert_relative_eq!(z.valid_area_m2, total, max_relative = 1e-6);
    assert_relative_eq!(z.classes[&ClassCode::int(2)], n_area, max_relative = 1e-6);
    assert_relative_eq!(
        z.classes[&ClassCode::int(4)],
        total - n_area,
        max_relative = 1e-6
    );
}

#[test]
fn results_are_identical_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 1500, 1300);
    let tif = dir.path().join("lc.tif");
    write_raster::<u8>(&tif, &g, Some(0.0), |c, r| {
        ((c * 7 + r * 13) / 50 % 10) as u8
    });
    let mut feats = Vec::new();
    for k in 0..30 {
        let (c0, r0) = ((k * 47) % 1300, (k * 83) % 1100);
        let ring: Vec<(f64, f64)> = (0..25)
            .map(|i| {
                let t = i as f64 / 25.0 * std::f64::consts::TAU;
                let rad = 60.0 + 40.0 * ((k + i) as f64).sin();
                g.transform.to_map(
                    c0 as f64 + 100.0 + rad * t.cos(),
                    r0 as f64 + 100.0 + rad * t.sin(),
                )
            })
            .collect();
        feats.push((format!("z{k}"), vec![ring]));
    }
    let feats: Vec<(&str, common::Rings)> =
        feats.iter().map(|(a, b)| (a.as_str(), b.clone())).collect();
    let zones = dir.path().join("z.geojson");
    std::fs::write(&zones, geojson(Some(4545), &feats)).unwrap();
    let one = serde_json::to_string(&run(&[tif.to_str().unwrap()], &zones, "clcd", 1)).unwrap();
    let two = serde_json::to_string(&run(&[tif.to_str().unwrap()], &zones, "clcd", 2)).unwrap();
    let four = serde_json::to_string(&run(&[tif.to_str().unwrap()], &zones, "clcd", 4)).unwrap();
    assert_eq!(one, two);
    assert_eq!(one, four);
}

/// Codes the legend does not list are reported as they are; 16-bit and
/// signed rasters work; the legend's own nodata codes count as nodata.
#[test]
fn unlisted_codes_wide_types_and_legend_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 10, 10);
    let zones = dir.path().join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[("all", vec![pixel_rect(&g, 0.0, 0.0, 10.0, 10.0)])],
        ),
    )
    .unwrap();

    let u16p = dir.path().join("u16.tif");
    write_raster::<u16>(&u16p, &g, None, |c, _| if c < 5 { 301 } else { 1000 });
    let rep = run(&[u16p.to_str().unwrap()], &zones, "clcd", 1);
    assert_eq!(rep.zones[0].classes.len(), 2);
    assert_relative_eq!(rep.zones[0].classes[&ClassCode::int(301)], 50.0 * 900.0);
    assert_relative_eq!(rep.zones[0].classes[&ClassCode::int(1000)], 50.0 * 900.0);
    assert_eq!(rep.zones[0].forest_area_m2, 0.0);

    let i16p = dir.path().join("i16.tif");
    write_raster::<i16>(&i16p, &g, Some(-9999.0), |c, r| {
        if r == 0 {
            -9999
        } else if c < 3 {
            -5
        } else {
            10
        }
    });
    let rep = run(&[i16p.to_str().unwrap()], &zones, "worldcover", 1);
    let z = &rep.zones[0];
    assert_relative_eq!(z.classes[&ClassCode::int(-5)], 27.0 * 900.0);
    assert_relative_eq!(z.classes[&ClassCode::int(10)], 63.0 * 900.0);
    assert_relative_eq!(z.nodata_area_m2, 10.0 * 900.0);
    assert_relative_eq!(z.forest_cover.unwrap(), 63.0 / 90.0);

    // WorldCover's 0 is "no data" even without a raster nodata value.
    let wc = dir.path().join("wc.tif");
    write_raster::<u8>(&wc, &g, None, |c, _| if c < 2 { 0 } else { 10 });
    let rep = run(&[wc.to_str().unwrap()], &zones, "worldcover", 1);
    assert_relative_eq!(rep.zones[0].nodata_area_m2, 20.0 * 900.0);
    assert!(!rep.zones[0].classes.contains_key(&ClassCode::int(0)));
}

#[test]
fn zones_outside_or_partly_outside_get_warnings_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 10, 10);
    let tif = dir.path().join("lc.tif");
    write_raster::<u8>(&tif, &g, None, |_, _| 2);
    let zones = dir.path().join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[
                ("away", vec![pixel_rect(&g, 50.0, 50.0, 60.0, 60.0)]),
                ("half", vec![pixel_rect(&g, 5.0, 2.0, 15.0, 4.0)]),
            ],
        ),
    )
    .unwrap();
    let rep = run(&[tif.to_str().unwrap()], &zones, "clcd", 1);
    assert_eq!(rep.zones[0].valid_area_m2, 0.0);
    assert_eq!(rep.zones[0].forest_cover, None);
    assert!(rep.zones[0].classes.is_empty());
    // +0.0, not the −0.0 an empty float sum gives.
    let json = serde_json::to_string(&rep.zones[0]).unwrap();
    assert!(json.contains("\"valid_area_m2\":0.0,"), "{json}");
    assert_relative_eq!(
        rep.zones[1].valid_area_m2,
        5.0 * 2.0 * 900.0,
        max_relative = 1e-12
    );
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("\"away\"") && w.contains("does not overlap"))
    );
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("\"half\"") && w.contains("50.0 %")),
        "{:?}",
        rep.warnings
    );
}

/// A 20 × 10 GeoTIFF of 30 m cells written with GDAL: `cells(col, row)`
/// in a band of type `T`, creation `options`, and, when `mask` says so for
/// a cell, a per-dataset mask that masks it.
fn gdal_tiff<T: gdal::raster::GdalType + Copy>(
    path: &std::path::Path,
    options: &[&str],
    cells: impl Fn(usize, usize) -> T,
    mask: Option<&dyn Fn(usize, usize) -> bool>,
) -> qingshan::grid::Grid {
    let g = grid(4545, 500_000.0, 3_900_000.0, 30.0, 20, 10);
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let opts = gdal::raster::RasterCreationOptions::from_iter(options.iter().copied());
    let mut ds = driver
        .create_with_band_type_with_options::<T, _>(path, 20, 10, 1, &opts)
        .unwrap();
    ds.set_geo_transform(&g.transform.0).unwrap();
    ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(4545).unwrap())
        .unwrap();
    let data: Vec<T> = (0..200).map(|i| cells(i % 20, i / 20)).collect();
    let mut band = ds.rasterband(1).unwrap();
    band.write(
        (0, 0),
        (20, 10),
        &mut gdal::raster::Buffer::new((20, 10), data),
    )
    .unwrap();
    if let Some(m) = mask {
        band.create_mask_band(true).unwrap();
        let mut mb = band.open_mask_band().unwrap();
        let mv: Vec<u8> = (0..200)
            .map(|i| if m(i % 20, i / 20) { 0 } else { 255 })
            .collect();
        mb.write(
            (0, 0),
            (20, 10),
            &mut gdal::raster::Buffer::new((20, 10), mv),
        )
        .unwrap();
    }
    g
}

/// Cells a GDAL mask band masks are nodata (they were counted as their
/// stored codes); signed bytes (GDAL 3.6 writes Int8 as Byte marked
/// SIGNEDBYTE) are read as the negative codes they are; Int64 and UInt64
/// class rasters are read. Answers by construction: the zone covers the
/// whole raster, 200 cells of 900 m².
#[test]
fn masks_signed_bytes_and_64_bit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let zones = dir.path().join("z.geojson");
    let cell = 900.0;
    let whole = |g: &qingshan::grid::Grid| {
        geojson(
            Some(4545),
            &[("all", vec![pixel_rect(g, 0.0, 0.0, 20.0, 10.0)])],
        )
    };
    // Mask: the left 6 columns are masked; every cell is class 2.
    let masked = dir.path().join("masked.tif");
    let g = gdal_tiff::<u8>(&masked, &[], |_, _| 2, Some(&|c, _| c < 6));
    std::fs::write(&zones, whole(&g)).unwrap();
    let r = run(&[masked.to_str().unwrap()], &zones, "clcd", 2);
    let z = &r.zones[0];
    assert_relative_eq!(
        z.classes[&ClassCode::int(2)],
        14.0 * 10.0 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(z.nodata_area_m2, 6.0 * 10.0 * cell, max_relative = 1e-12);
    assert_eq!(z.classes.len(), 1, "{:?}", z.classes);
    // The same through change (both dates masked alike): nothing masked
    // counts as a transition.
    let ch = qingshan::change::land_cover_change(
        &LandCover::open(&[masked.to_str().unwrap()], 1)
            .unwrap()
            .with_area(AreaMode::Planar),
        &LandCover::open(&[masked.to_str().unwrap()], 1)
            .unwrap()
            .with_area(AreaMode::Planar),
        &ZoneLayer::read(&zones, &ZoneOptions::default()).unwrap(),
        &Legend::builtin("clcd").unwrap(),
        &RunOptions::default(),
        None,
    )
    .unwrap();
    assert_relative_eq!(
        ch.zones[0].transitions[&ClassCode::int(2)][&ClassCode::int(2)],
        14.0 * 10.0 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        ch.zones[0].nodata_area_m2,
        6.0 * 10.0 * cell,
        max_relative = 1e-12
    );

    // Signed bytes: −1 in the top half, 5 below.
    let signed = dir.path().join("signed.tif");
    gdal_tiff::<u8>(
        &signed,
        &["PIXELTYPE=SIGNEDBYTE"],
        |_, r| if r < 5 { 0xff } else { 5 },
        None,
    );
    let legend = dir.path().join("l.toml");
    std::fs::write(
        &legend,
        "name = \"signed\"\n[[class]]\ncode = -1\nname = \"minus one\"\nkind = \"forest\"\n[[class]]\ncode = 5\nname = \"five\"\nkind = \"water\"\n",
    )
    .unwrap();
    let r = run(
        &[signed.to_str().unwrap()],
        &zones,
        legend.to_str().unwrap(),
        1,
    );
    let z = &r.zones[0];
    assert_relative_eq!(
        z.classes[&ClassCode::int(-1)],
        100.0 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        z.classes[&ClassCode::int(5)],
        100.0 * cell,
        max_relative = 1e-12
    );
    assert!(
        !z.classes.contains_key(&ClassCode::int(255)),
        "{:?}",
        z.classes
    );

    // 64-bit codes.
    let wide = dir.path().join("i64.tif");
    gdal_tiff::<i64>(
        &wide,
        &[],
        |c, _| if c < 10 { 5_000_000_000 } else { -7 },
        None,
    );
    let r = run(&[wide.to_str().unwrap()], &zones, "clcd", 1);
    assert_relative_eq!(
        r.zones[0].classes[&ClassCode::int(5_000_000_000)],
        100.0 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        r.zones[0].classes[&ClassCode::int(-7)],
        100.0 * cell,
        max_relative = 1e-12
    );
    let wide = dir.path().join("u64.tif");
    gdal_tiff::<u64>(
        &wide,
        &[],
        |c, _| if c < 10 { 12 } else { 7_000_000_000 },
        None,
    );
    let r = run(&[wide.to_str().unwrap()], &zones, "clcd", 1);
    assert_relative_eq!(
        r.zones[0].classes[&ClassCode::int(12)],
        100.0 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        r.zones[0].classes[&ClassCode::int(7_000_000_000)],
        100.0 * cell,
        max_relative = 1e-12
    );
    // A masked 32-bit band is read as 64-bit.
    let m32 = dir.path().join("m32.tif");
    gdal_tiff::<u32>(&m32, &[], |_, _| u32::MAX, Some(&|_, r| r >= 8));
    let r = run(&[m32.to_str().unwrap()], &zones, "clcd", 1);
    assert_relative_eq!(
        r.zones[0].classes[&ClassCode::from(u32::MAX)],
        160.0 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(r.zones[0].nodata_area_m2, 40.0 * cell, max_relative = 1e-12);
}

/// A lon/lat zone reaching 250° of longitude from a Gauss–Krüger raster's
/// central meridian measures the raster exactly as a zone that only just
/// covers it: the part far away is clipped off before projection (before,
/// it either failed to project or got no coverage at all).
#[test]
fn zones_reaching_far_from_the_projection_centre_are_clipped_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    // 108°E, 35°N is about (500 000, 3 874 000) in EPSG:4545.
    let g = grid(4545, 500_000.0, 3_880_000.0, 30.0, 20, 10);
    let tif = dir.path().join("lc.tif");
    write_raster::<u8>(&tif, &g, None, |c, _| if c < 10 { 1 } else { 2 });
    let zones = dir.path().join("z.geojson");
    let rect =
        |x0: f64, y0: f64, x1: f64, y1: f64| vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
    std::fs::write(
        &zones,
        geojson(
            Some(4490),
            &[
                ("wide", vec![rect(-150.0, -10.0, 110.0, 60.0)]),
                (
                    "over_the_antimeridian",
                    vec![rect(100.0, -60.0, 250.0, 60.0)],
                ),
                ("near", vec![rect(107.0, 34.0, 109.0, 36.0)]),
            ],
        ),
    )
    .unwrap();
    let rep = run(&[tif.to_str().unwrap()], &zones, "clcd", 1);
    for z in &rep.zones {
        // The whole raster, by hand: 10 × 10 cells of each class.
        assert_relative_eq!(z.valid_area_m2, 200.0 * 900.0, max_relative = 1e-12);
        let forest = z.classes.get(&ClassCode::int(2)).copied().unwrap_or(0.0);
        assert_relative_eq!(forest, 100.0 * 900.0, max_relative = 1e-12);
    }
}

/// Coordinates far outside a layer's CRS are refused at once, naming the
/// feature and saying which CRS the coordinates fit.
#[test]
fn coordinates_outside_the_crs_are_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let rect =
        |x0: f64, y0: f64, x1: f64, y1: f64| vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
    type Case = (&'static str, u32, Vec<(f64, f64)>, &'static [&'static str]);
    let cases: [Case; 5] = [
        (
            "stray",
            4545,
            vec![
                (480_000.0, 3_880_000.0),
                (492_000.0, 3_880_000.0),
                (492_000.0, 1e10),
                (480_000.0, 3_880_000.0),
            ],
            &[
                "stray",
                "vertex (492000, 10000000000)",
                "far outside the area of use of EPSG:4545",
            ],
        ),
        (
            "huge",
            4545,
            rect(480_000.0, 3_880_000.0, 492_000.0, 1e11),
            &["huge", "100000000000", "EPSG:4545"],
        ),
        (
            "prefixed",
            4545,
            rect(36_480_000.0, 3_880_000.0, 36_492_000.0, 3_892_000.0),
            &["prefixed", "zone-prefixed", "EPSG:4524"],
        ),
        (
            "swapped",
            4490,
            rect(35.0, 108.0, 35.1, 108.1),
            &["swapped", "axes are swapped"],
        ),
        (
            "metres_as_degrees",
            4490,
            rect(480_000.0, 3_880_000.0, 492_000.0, 3_892_000.0),
            &["metres_as_degrees", "Gauss-Kruger metres"],
        ),
    ];
    for (id, epsg, ring, expected) in cases {
        let path = dir.path().join(format!("{id}.geojson"));
        std::fs::write(&path, geojson(Some(epsg), &[(id, vec![ring])])).unwrap();
        let opts = ZoneOptions::default();
        let started = std::time::Instant::now();
        let err = ZoneLayer::read(&path, &opts)
            .err()
            .unwrap_or_else(|| panic!("{id} accepted"));
        let msg = err.to_string();
        assert!(msg.contains(&format!("{id}.geojson")), "{msg}");
        for e in expected {
            assert!(msg.contains(e), "{id}: {msg} lacks {e:?}");
        }
        // Refused before any work is done on the coordinates.
        assert!(
            started.elapsed().as_secs() < 5,
            "{id}: {:?}",
            started.elapsed()
        );
    }
}

/// A progress reporter that asks to stop once the first task is done.
struct StopAfterFirst(std::sync::atomic::AtomicU64);

impl qingshan::Progress for StopAfterFirst {
    fn start(&self, _: u64) {}
    fn advance(&self, cells: u64) {
        self.0
            .fetch_add(cells, std::sync::atomic::Ordering::Relaxed);
    }
    fn finish(&self) {}
    fn cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed) > 0
    }
}

/// A run its progress reporter cancels stops with an error before the
/// next task, and does not come back with partial areas.
#[test]
fn a_cancelled_run_stops_with_an_error() {
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let land_cover = LandCover::open(
        &[fx.join("landcover/clcd_2019.vrt").display().to_string()],
        1,
    )
    .unwrap();
    let towns = ZoneLayer::read(&fx.join("towns.geojson"), &ZoneOptions::default()).unwrap();
    let stop = StopAfterFirst(Default::default());
    let err = zonal_stats(
        &land_cover,
        &towns,
        &Legend::builtin("clcd").unwrap(),
        &RunOptions {
            threads: Some(1),
            progress: Some(&stop),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    let total = land_cover.cells();
    let done = stop.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!(done > 0 && done < total, "{done} of {total} cells");
}
