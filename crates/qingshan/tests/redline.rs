//! Red-line diff and check on constructed cases with known answers.
//!
//! Diff cases are drawn in a Lambert azimuthal *equal-area* CRS: there the
//! planar area of a polygon equals its area on the ellipsoid, so a square
//! that loses a strip of known width has known ellipsoidal areas.

mod common;

use qingshan::area::AreaMode;

use approx::assert_relative_eq;
use common::{grid, pixel_rect, write_raster};
use geo::{LineString, MultiPolygon, Polygon};
use qingshan::RunOptions;
use qingshan::change::land_cover_change;
use qingshan::grid::Crs;
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::redline::{
    CheckLimits, DiffOptions, PolygonStatus, check_from_change, conversion_patches, redline_check,
    redline_check_with_patches, redline_diff,
};
use qingshan::zones::{Zone, ZoneLayer, ZoneOptions};

fn laea() -> Crs {
    qingshan::crs_from_user_input(
        "+proj=laea +lat_0=35.2 +lon_0=109.1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
    )
    .unwrap()
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
        vec![],
    )])
}

fn layer(crs: &Crs, zones: Vec<(&str, MultiPolygon<f64>)>) -> ZoneLayer {
    ZoneLayer {
        path: "test".into(),
        crs: crs.clone(),
        zones: zones
            .into_iter()
            .enumerate()
            .map(|(index, (id, geometry))| Zone {
                index,
                id: id.into(),
                name: Some(format!("red line {id}")),
                attributes: Default::default(),
                geometry,
            })
            .collect(),
        repairs: vec![],
        ids: qingshan::zones::IdScheme::Index,
    }
}

fn find<'a>(d: &'a qingshan::redline::RedlineDiff, id: &str) -> &'a qingshan::redline::PolygonDiff {
    d.polygons.iter().find(|p| p.id == id).unwrap()
}

/// A square losing a 200 m strip, one polygon removed, one moved, one
/// grown, one added, one unchanged.
fn versions() -> (ZoneLayer, ZoneLayer) {
    let c = laea();
    let old = layer(
        &c,
        vec![
            ("strip", rect(0.0, 0.0, 1000.0, 1000.0)),
            ("gone", rect(2000.0, 0.0, 2500.0, 400.0)),
            ("moved", rect(0.0, 2000.0, 600.0, 2500.0)),
            ("grow", rect(3000.0, 3000.0, 3100.0, 3100.0)),
            ("same", rect(-3000.0, -3000.0, -2000.0, -2500.0)),
        ],
    );
    let new = layer(
        &c,
        vec![
            ("strip", rect(0.0, 0.0, 800.0, 1000.0)),
            ("moved", rect(30.0, 2000.0, 630.0, 2500.0)),
            ("grow", rect(3000.0, 3000.0, 3200.0, 3100.0)),
            ("same", rect(-3000.0, -3000.0, -2000.0, -2500.0)),
            ("new", rect(5000.0, 5000.0, 5300.0, 5100.0)),
        ],
    );
    (old, new)
}

#[test]
fn diff_of_constructed_versions_matches_the_geometry() {
    let (old, new) = versions();
    let d = redline_diff(&old, &new, None, &DiffOptions::default()).unwrap();
    let r = 1e-6;
    let strip = find(&d, "strip");
    assert_relative_eq!(strip.old_m2, 1.0e6, max_relative = r);
    assert_relative_eq!(strip.new_m2, 8.0e5, max_relative = r);
    assert_relative_eq!(strip.lost_m2, 2.0e5, max_relative = r);
    assert!(strip.gained_m2 < 1e-3);
    assert_eq!(strip.status, PolygonStatus::Shrunk);
    let gone = find(&d, "gone");
    assert_eq!(gone.status, PolygonStatus::Removed);
    assert_relative_eq!(gone.lost_m2, 500.0 * 400.0, max_relative = r);
    let moved = find(&d, "moved");
    assert_eq!(moved.status, PolygonStatus::Reshaped);
    assert_relative_eq!(moved.lost_m2, 30.0 * 500.0, max_relative = r);
    assert_relative_eq!(moved.gained_m2, 30.0 * 500.0, max_relative = r);
    assert_eq!(find(&d, "grow").status, PolygonStatus::Grown);
    assert_relative_eq!(find(&d, "grow").gained_m2, 100.0 * 100.0, max_relative = r);
    assert_eq!(find(&d, "same").status, PolygonStatus::Unchanged);
    assert_eq!(find(&d, "new").status, PolygonStatus::Added);
    assert_relative_eq!(find(&d, "new").new_m2, 300.0 * 100.0, max_relative = r);
    // Layer totals: unions.
    let old_total = 1.0e6 + 2.0e5 + 3.0e5 + 1.0e4 + 5.0e5;
    let new_total = 8.0e5 + 3.0e5 + 2.0e4 + 5.0e5 + 3.0e4;
    assert_relative_eq!(d.old_total_m2, old_total, max_relative = r);
    assert_relative_eq!(d.new_total_m2, new_total, max_relative = r);
    assert_relative_eq!(d.lost_m2, 2.0e5 + 2.0e5 + 1.5e4, max_relative = r);
    assert_relative_eq!(d.gained_m2, 1.5e4 + 1.0e4 + 3.0e4, max_relative = r);
    assert!(d.shrunk && d.failed);
    // Lost pieces carry the id of the old polygon they came from.
    let ids: Vec<&str> = d.lost_pieces.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, vec!["strip", "gone", "moved"]);
}

#[test]
fn compensated_loss_passes_unless_strict_and_towns_show_where() {
    let c = laea();
    // Town A loses 100 × 1000 m², town B gains 200 × 1000 m².
    let old = layer(
        &c,
        vec![
            ("a", rect(0.0, 0.0, 1000.0, 1000.0)),
            ("b", rect(2000.0, 0.0, 3000.0, 1000.0)),
        ],
    );
    let new = layer(
        &c,
        vec![
            ("a", rect(0.0, 0.0, 900.0, 1000.0)),
            ("b", rect(2000.0, 0.0, 3200.0, 1000.0)),
        ],
    );
    let towns = layer(
        &c,
        vec![
            ("A", rect(-10.0, -10.0, 1500.0, 1500.0)),
            ("B", rect(1500.0, -10.0, 4000.0, 1500.0)),
        ],
    );
    let d = redline_diff(&old, &new, Some(&towns), &DiffOptions::default()).unwrap();
    assert!(!d.shrunk && !d.failed);
    assert_relative_eq!(d.delta_m2, 1.0e5, max_relative = 1e-6);
    assert!(d.towns[0].shrunk && !d.towns[1].shrunk);
    assert_relative_eq!(d.towns[0].lost_m2, 1.0e5, max_relative = 1e-6);
    assert_relative_eq!(d.towns[1].gained_m2, 2.0e5, max_relative = 1e-6);
    let strict = redline_diff(
        &old,
        &new,
        Some(&towns),
        &DiffOptions {
            strict: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(strict.failed && !strict.shrunk);
}

/// The constructed versions moved to Gauss–Krüger coordinates (EPSG:4545,
/// a projection PROJ inverts to the nanometre; its LAEA inverse is only
/// good to about a millimetre, which is 1 m² along a few km of boundary).
fn versions_gk() -> (ZoneLayer, ZoneLayer) {
    let gk = qingshan::crs_from_epsg(4545).unwrap();
    let shift = |l: ZoneLayer| {
        let zones = l
            .zones
            .iter()
            .map(|z| {
                let mp = MultiPolygon(
                    z.geometry
                        .0
                        .iter()
                        .map(|p| {
                            let ring: Vec<(f64, f64)> = p
                                .exterior()
                                .0
                                .iter()
                                .map(|c| (c.x + 600_000.0, c.y + 3_900_000.0))
                                .collect();
                            Polygon::new(LineString::from(ring), vec![])
                        })
                        .collect(),
                );
                (z.id.clone(), mp)
            })
            .collect::<Vec<_>>();
        layer(
            &gk,
            zones
                .iter()
                .map(|(id, g)| (id.as_str(), g.clone()))
                .collect(),
        )
    };
    let (old, new) = versions();
    (shift(old), shift(new))
}

#[test]
fn versions_in_different_crss_compare_on_the_ellipsoid() {
    let (old, new) = versions_gk();
    // The new version as lon/lat (EPSG:4490), reprojected from the
    // equal-area CRS with dense vertices so its shape is unchanged.
    let geo = qingshan::crs_from_epsg(4490).unwrap();
    let dense = layer(
        &old.crs,
        new.zones
            .iter()
            .map(|z| {
                let d = common::densify(&z.geometry, 5.0);
                (z.id.as_str(), d)
            })
            .collect(),
    );
    let lonlat = layer(
        &geo,
        dense
            .project(&geo, None)
            .unwrap()
            .into_iter()
            .zip(&new.zones)
            .map(|(g, z)| (z.id.as_str(), g))
            .collect(),
    );
    let a = redline_diff(&old, &new, None, &DiffOptions::default()).unwrap();
    let b = redline_diff(&old, &lonlat, None, &DiffOptions::default()).unwrap();
    for (p, q) in a.polygons.iter().zip(&b.polygons) {
        assert_eq!(p.id, q.id);
        assert_eq!(p.status, q.status, "{}", p.id);
        assert_relative_eq!(p.new_m2, q.new_m2, max_relative = 1e-6);
    }
    assert_relative_eq!(a.new_total_m2, b.new_total_m2, max_relative = 1e-6);
}

#[test]
fn invalid_layers_fail_by_id_or_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.geojson");
    std::fs::write(
        &p,
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4545"}},"features":[
          {"type":"Feature","properties":{"hx_id":"HX-1"},"geometry":{"type":"Polygon","coordinates":[[[600000,3900000],[601000,3901000],[601000,3900000],[600000,3901000],[600000,3900000]]]}}]}"#,
    )
    .unwrap();
    let opts = ZoneOptions {
        id_field: Some("hx_id".into()),
        ..Default::default()
    };
    let err = ZoneLayer::read(&p, &opts).unwrap_err().to_string();
    assert!(
        err.contains("HX-1") && err.contains("self-intersection"),
        "{err}"
    );
    let fixed = ZoneLayer::read(
        &p,
        &ZoneOptions {
            make_valid: true,
            ..opts
        },
    )
    .unwrap();
    assert_eq!(fixed.zones[0].geometry.0.len(), 2);
    assert_eq!(fixed.repairs.len(), 1);
}

/// 40 × 40 cells of 30 m. Before: forest (2) left half, grassland (4)
/// right half. After: a 4 × 5-cell block of forest became barren (7) and a
/// 3 × 3 block of grassland became impervious (8), plus a 2 × 2 block of
/// forest became shrub (3, natural → natural: not a conversion).
#[test]
fn check_measures_conversions_vegetation_and_patches() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 40, 40);
    let before = |c: usize, _r: usize| -> u8 { if c < 20 { 2 } else { 4 } };
    let after = move |c: usize, r: usize| -> u8 {
        if (5..9).contains(&c) && (10..15).contains(&r) {
            7
        } else if (25..28).contains(&c) && (20..23).contains(&r) {
            8
        } else if (12..14).contains(&c) && (30..32).contains(&r) {
            3
        } else {
            before(c, r)
        }
    };
    let (b, a) = (dir.path().join("b.tif"), dir.path().join("a.tif"));
    write_raster::<u8>(&b, &g, Some(0.0), before);
    write_raster::<u8>(&a, &g, Some(0.0), after);
    // Red line 1 covers everything; red line 2 covers only part of the
    // barren block (columns 7.5..20): 1.5 of its 4 columns.
    let redlines = dir.path().join("rl.geojson");
    std::fs::write(
        &redlines,
        common::geojson(
            Some(4545),
            &[
                ("all", vec![pixel_rect(&g, 0.0, 0.0, 40.0, 40.0)]),
                ("part", vec![pixel_rect(&g, 7.5, 0.0, 20.0, 40.0)]),
            ],
        ),
    )
    .unwrap();
    let layer = ZoneLayer::read(&redlines, &ZoneOptions::default()).unwrap();
    let (bl, al) = (
        LandCover::open(&[b.to_str().unwrap()], 1)
            .unwrap()
            .with_area(AreaMode::Planar),
        LandCover::open(&[a.to_str().unwrap()], 1)
            .unwrap()
            .with_area(AreaMode::Planar),
    );
    let clcd = Legend::builtin("clcd").unwrap();
    let run = RunOptions::default();
    let c = redline_check(&bl, &al, &layer, &clcd, &CheckLimits::default(), &run).unwrap();
    let cell = 900.0;
    let all = &c.polygons[0];
    assert_relative_eq!(all.conversion_m2, (20.0 + 9.0) * cell, max_relative = 1e-12);
    assert_eq!(all.conversions.len(), 2);
    assert!(all.conversions[0].from == 2 && all.conversions[0].to == 7);
    assert_relative_eq!(
        all.conversions[0].area_m2,
        20.0 * cell,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        all.vegetated_share_before.unwrap(),
        1.0,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        all.vegetated_share_after.unwrap(),
        1.0 - 29.0 / 1600.0,
        max_relative = 1e-12
    );
    assert!(!all.nature_ok && !all.function_ok);
    let part = &c.polygons[1];
    assert_relative_eq!(part.conversion_m2, 1.5 * 5.0 * cell, max_relative = 1e-12);
    assert!(!c.ok && c.violations == 2);
    // Generous limits pass.
    let lenient = CheckLimits {
        max_conversion_m2: 30.0 * cell,
        max_vegetation_loss: 0.02,
    };
    assert!(
        redline_check(&bl, &al, &layer, &clcd, &lenient, &run)
            .unwrap()
            .ok
    );

    // The library's check_from_change takes limits as given: a negative
    // limit fails even a polygon with no conversion, with a message, not
    // a panic. (The commands refuse negative limits before.)
    let unchanged = land_cover_change(&bl, &bl, &layer, &clcd, &run, None).unwrap();
    let strict = CheckLimits {
        max_conversion_m2: -1.0,
        max_vegetation_loss: 0.0,
    };
    let c = check_from_change(&unchanged, &clcd, &strict);
    assert_eq!(c.polygons[0].conversion_m2, 0.0);
    assert!(!c.polygons[0].nature_ok);
    assert!(
        c.polygons[0].violations[0].contains("limit -1 m²"),
        "{:?}",
        c.polygons[0].violations
    );

    // Patches: the barren block and the impervious block in "all", the
    // clipped barren block in "part".
    let (crs, patches) = conversion_patches(&bl, &al, &layer, &clcd, &run, dir.path()).unwrap();
    assert_eq!(crs.label, "EPSG:4545");
    let summary: Vec<(&str, i64, i64, f64)> = patches
        .iter()
        .map(|p| {
            (
                p.redline_id.as_str(),
                p.from.as_int().unwrap(),
                p.to.as_int().unwrap(),
                (p.area_m2 / cell * 100.0).round() / 100.0,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![("all", 2, 7, 20.0), ("all", 4, 8, 9.0), ("part", 2, 7, 7.5)]
    );
    // The check and the patches from one pass: the same numbers and
    // pieces as the two separate passes.
    let (one, crs2, patches2) = redline_check_with_patches(
        &bl,
        &al,
        &layer,
        &clcd,
        &CheckLimits::default(),
        &run,
        dir.path(),
    )
    .unwrap();
    assert_eq!(
        one,
        redline_check(&bl, &al, &layer, &clcd, &CheckLimits::default(), &run).unwrap()
    );
    assert_eq!((crs2, patches2), (crs, patches));
    // No scratch mask is left behind.
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("patches"))
    );
}

/// 150 red lines of 40–600 vertices each (irregular star shapes, 4–14 km²)
/// in EPSG:4545, written as GeoJSON.
fn many_redlines(path: &std::path::Path) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut features = Vec::new();
    for k in 0..150 {
        let (cx, cy) = (
            560_000.0 + (k % 15) as f64 * 3_000.0,
            3_860_000.0 + (k / 15) as f64 * 3_000.0,
        );
        let n = 40 + (rand() * 561.0) as usize;
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * (i as f64 + 0.5 * rand()) / n as f64;
                let r = 900.0 + 500.0 * rand();
                [cx + r * a.cos(), cy + r * a.sin()]
            })
            .collect();
        ring.push(ring[0]);
        features.push(serde_json::json!({
            "type": "Feature",
            "properties": {"hx_id": format!("HX-{k:03}")},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }));
    }
    let doc = serde_json::json!({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}},
        "features": features,
    });
    std::fs::write(path, doc.to_string()).unwrap();
}

/// A red line re-delivered in another CRS is the same red line: 150
/// polygons reprojected vertex by vertex with GDAL's ogr2ogr (as a user's
/// GIS does) between CGCS2000 3° Gauss–Krüger without and with the zone
/// prefix, 6° zones with and without it, CGCS2000 and WGS 84 lon/lat
/// compare as unchanged in both directions: every polygon `unchanged`,
/// lost and gained within the tolerance, old and new areas equal.
#[test]
fn a_reprojected_red_line_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("rl_4545.geojson");
    many_redlines(&base);
    let reproject = |epsg: u32| {
        let out = dir.path().join(format!("rl_{epsg}.geojson"));
        let o = std::process::Command::new("ogr2ogr")
            .args(["-f", "GeoJSON", "-t_srs", &format!("EPSG:{epsg}")])
            .arg(&out)
            .arg(&base)
            .output()
            .expect("ogr2ogr (gdal-bin) on the PATH");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let read = |p: &std::path::Path| {
        ZoneLayer::read(
            p,
            &ZoneOptions {
                id_field: Some("hx_id".into()),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let layers: Vec<(u32, ZoneLayer)> = std::iter::once((4545, read(&base)))
        .chain(
            [4490, 4326, 4524, 4497, 4508]
                .into_iter()
                .map(|e| (e, read(&reproject(e)))),
        )
        .collect();
    let by = |e: u32| &layers.iter().find(|(c, _)| *c == e).unwrap().1;
    let opts = DiffOptions::default();
    let pairs = [
        (4545, 4490),
        (4545, 4326),
        (4545, 4524),
        (4545, 4497),
        (4545, 4508),
        (4490, 4524),
        (4326, 4497),
    ];
    for (a, b) in pairs {
        for (old, new) in [(by(a), by(b)), (by(b), by(a))] {
            let d = redline_diff(old, new, None, &opts).unwrap();
            let what = format!("{} → {}", old.crs.label, new.crs.label);
            assert_eq!(d.polygons.len(), 150, "{what}");
            for p in &d.polygons {
                assert_eq!(p.status, PolygonStatus::Unchanged, "{what}: {p:?}");
                assert!(
                    p.lost_m2 <= opts.tolerance_m2 && p.gained_m2 <= opts.tolerance_m2,
                    "{what}: {p:?}"
                );
                assert!(
                    (p.old_m2 - p.new_m2).abs() <= 1e-9 * p.old_m2,
                    "{what}: {p:?}"
                );
            }
            assert!(
                d.lost_m2 <= opts.tolerance_m2 && d.gained_m2 <= opts.tolerance_m2,
                "{what}: lost {} gained {}",
                d.lost_m2,
                d.gained_m2
            );
            assert!(!d.shrunk && !d.failed, "{what}");
            assert!(
                d.lost_pieces.is_empty() && d.gained_pieces.is_empty(),
                "{what}"
            );
        }
    }
}
