//! Land use as polygons: class areas of a layer of squares inside a zone
//! offset by fractions of a square, computed by hand.

use std::path::Path;

use qingshan::area::AreaMode;
use qingshan::landuse::{LandUse, LandUseOptions, landuse_stats};
use qingshan::legend::{ClassCode, Legend};
use qingshan::zones::{ZoneLayer, ZoneOptions};

mod common;

const X0: f64 = 500_000.0;
const Y0: f64 = 3_900_000.0;

fn square(x: f64, y: f64, w: f64, h: f64) -> serde_json::Value {
    serde_json::json!({"type": "Polygon", "coordinates": [[
        [X0 + x, Y0 + y], [X0 + x + w, Y0 + y], [X0 + x + w, Y0 + y + h],
        [X0 + x, Y0 + y + h], [X0 + x, Y0 + y]
    ]]})
}

/// Writes features (properties, geometry) as a GeoJSON layer in EPSG:4545.
fn write_layer(path: &Path, feats: Vec<serde_json::Value>) {
    let fc = serde_json::json!({"type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}},
        "features": feats});
    std::fs::write(path, fc.to_string()).unwrap();
}

/// 4 × 3 squares of 100 m (columns 0301, 0301K, 0103, 0305), the top
/// right one missing (a gap), and a 0404 rectangle over columns 1–2 of the
/// bottom row (an overlap). Recorded areas: twice the true one for 0103.
fn layer(dir: &Path) -> std::path::PathBuf {
    let codes = ["0301", "0301K", "0103", "0305"];
    let mut feats = Vec::new();
    for row in 0..3 {
        for (col, code) in codes.iter().enumerate() {
            if (col, row) == (3, 2) {
                continue;
            }
            let rec = if *code == "0103" { 20_000.0 } else { 10_000.0 };
            // 国家特别规定灌木林地: only the bottom 0305 square.
            let flag = if (col, row) == (3, 0) { "是" } else { "否" };
            feats.push(serde_json::json!({"type": "Feature",
                "properties": {"BSM": format!("{col}-{row}"), "DLBM": code, "TBDLMJ": rec, "TG": flag},
                "geometry": square(100.0 * col as f64, 100.0 * row as f64, 100.0, 100.0)}));
        }
    }
    feats.push(serde_json::json!({"type": "Feature",
        "properties": {"BSM": "over", "DLBM": "0404", "TBDLMJ": 5_000.0},
        "geometry": square(150.0, 0.0, 100.0, 50.0)}));
    let path = dir.join("dltb.geojson");
    write_layer(&path, feats);
    path
}

fn zone(dir: &Path) -> ZoneLayer {
    let ring = vec![
        (X0 + 25.0, Y0 + 10.0),
        (X0 + 375.0, Y0 + 10.0),
        (X0 + 375.0, Y0 + 290.0),
        (X0 + 25.0, Y0 + 290.0),
    ];
    let path = dir.join("zone.geojson");
    std::fs::write(&path, common::geojson(Some(4545), &[("z", vec![ring])])).unwrap();
    ZoneLayer::read(&path, &ZoneOptions::default()).unwrap()
}

fn code(s: &str) -> ClassCode {
    ClassCode::parse(s).unwrap()
}

#[test]
fn squares_inside_an_offset_zone_have_their_hand_computed_areas() {
    let dir = tempfile::tempdir().unwrap();
    let lu = LandUse::read(&layer(dir.path()), &LandUseOptions::new("DLBM")).unwrap();
    assert_eq!(lu.polygons.len(), 12);
    assert_eq!(lu.ids[11], "over");
    let rep = survey_stats(&lu, dir.path());
    let z = &rep.zones[0];
    // Columns clip to 75, 100, 100, 75 m; rows to 90, 100, 90 m.
    let want = [
        ("0301", 75.0 * 280.0),
        ("0301K", 100.0 * 280.0),
        ("0103", 100.0 * 280.0),
        ("0305", 75.0 * 190.0),
        ("0404", 100.0 * 40.0),
    ];
    assert_eq!(z.classes.len(), want.len());
    for (c, a) in want {
        let got = z.classes[&code(c)];
        assert!((got - a).abs() < 1e-6, "{c}: {got} vs {a}");
    }
    assert!((z.zone_area_m2 - 350.0 * 280.0).abs() < 1e-6);
    assert!(
        (z.overlap_area_m2.unwrap() - 4_000.0).abs() < 1e-6,
        "{:?}",
        z.overlap_area_m2
    );
    // The missing square's part of the zone: 75 × 90.
    assert!(
        (z.nodata_area_m2 - 75.0 * 90.0).abs() < 1e-6,
        "{}",
        z.nodata_area_m2
    );
    // Forest: 0301 and the suffixed 0301K; forest land adds 0305.
    assert!((z.forest_area_m2 - 75.0 * 280.0 - 100.0 * 280.0).abs() < 1e-6);
    assert!((z.forest_land_area_m2.unwrap() - z.forest_area_m2 - 75.0 * 190.0).abs() < 1e-6);
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("more than one polygon"))
    );
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("has no land-use polygon"))
    );
    assert_eq!(z.recorded_minus_computed_m2, None);
}

/// The test layer against the test zone, with the survey's legend and
/// planar areas.
fn planar_stats(dir: &Path, opts: &LandUseOptions) -> qingshan::zonal::StatsReport {
    survey_stats(&LandUse::read(&layer(dir), opts).unwrap(), dir)
}

/// `lu` against the test zone, with the survey's legend and planar areas.
fn survey_stats(lu: &LandUse, dir: &Path) -> qingshan::zonal::StatsReport {
    let survey = Legend::builtin("sandiao").unwrap();
    landuse_stats(
        lu,
        &zone(dir),
        &survey,
        AreaMode::Planar,
        &Default::default(),
    )
    .unwrap()
}

#[test]
fn recorded_areas_are_split_in_proportion_and_their_difference_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = LandUseOptions::new("DLBM");
    opts.area_field = Some("TBDLMJ".into());
    let rep = planar_stats(dir.path(), &opts);
    let z = &rep.zones[0];
    // 0103 squares record twice their area: 2 × 28,000 inside the zone.
    assert!((z.classes[&code("0103")] - 56_000.0).abs() < 1e-6);
    assert!((z.classes[&code("0301")] - 21_000.0).abs() < 1e-6);
    assert!((z.recorded_minus_computed_m2.unwrap() - 28_000.0).abs() < 1e-6);
}

#[test]
fn flagged_shrub_forest_land_counts_as_forest() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = LandUseOptions::new("DLBM");
    opts.forest_flag_field = Some("TG".into());
    let rep = planar_stats(dir.path(), &opts);
    let z = &rep.zones[0];
    // 0301 and 0301K (49,000 m²) plus the flagged 0305 square's 75 × 90.
    assert!(
        (z.forest_area_m2 - 49_000.0 - 75.0 * 90.0).abs() < 1e-6,
        "{}",
        z.forest_area_m2
    );
    assert!((z.forest_cover.unwrap() - z.forest_area_m2 / z.valid_area_m2).abs() < 1e-15);
    // Forest land does not change: 0305 is forest land either way.
    assert!((z.forest_land_area_m2.unwrap() - 49_000.0 - 75.0 * 190.0).abs() < 1e-6);
}

#[test]
fn bad_land_use_layers_are_refused_with_the_file_and_feature() {
    let dir = tempfile::tempdir().unwrap();
    let path = layer(dir.path());
    let e = LandUse::read(&path, &LandUseOptions::new("DLMC"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("dltb.geojson")
            && e.contains("no field \"DLMC\"")
            && e.contains("BSM, DLBM, TBDLMJ, TG"),
        "{e}"
    );
    let mut opts = LandUseOptions::new("DLBM");
    opts.area_field = Some("DLBM".into());
    let e = LandUse::read(&path, &opts).unwrap_err().to_string();
    assert!(e.contains("not numeric"), "{e}");
    let text =
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen("\"DLBM\":\"0301\"", "\"DLBM\":null", 1);
    let nulled = dir.path().join("null.geojson");
    std::fs::write(&nulled, text).unwrap();
    let e = LandUse::read(&nulled, &LandUseOptions::new("DLBM"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("null.geojson") && e.contains("FID 0") && e.contains("DLBM is empty"),
        "{e}"
    );
    let e = LandUse::read(&path, &LandUseOptions::new(" "))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--class-field"), "{e}");
}

/// The squares of [`layer`] without the gap and the overlap; `edit` may
/// change a square's code or drop it.
fn partition(
    dir: &Path,
    name: &str,
    edit: impl Fn(usize, usize) -> Option<&'static str>,
) -> LandUse {
    let codes = ["0301", "0301K", "0103", "0305"];
    let mut feats = Vec::new();
    for row in 0..3 {
        for (col, code) in codes.iter().enumerate() {
            let Some(c) = edit(col, row).or(Some(*code)).filter(|c| !c.is_empty()) else {
                continue;
            };
            feats.push(serde_json::json!({"type": "Feature",
                "properties": {"BSM": format!("{name}{col}{row}"), "DLBM": c},
                "geometry": square(100.0 * col as f64, 100.0 * row as f64, 100.0, 100.0)}));
        }
    }
    if name == "b" {
        // The second version redraws column 0's two lower squares as one.
        feats.push(serde_json::json!({"type": "Feature",
            "properties": {"BSM": "merged", "DLBM": "0103"},
            "geometry": square(0.0, 0.0, 100.0, 200.0)}));
    }
    let path = dir.join(format!("{name}.geojson"));
    write_layer(&path, feats);
    LandUse::read(&path, &LandUseOptions::new("DLBM")).unwrap()
}

#[test]
fn two_versions_give_hand_computed_transitions_and_change_list() {
    let dir = tempfile::tempdir().unwrap();
    let before = partition(dir.path(), "a", |_, _| None);
    let after = partition(dir.path(), "b", |col, row| match (col, row) {
        (0, 0) | (0, 1) => Some(""),
        (2, 1) => Some("0602"),
        _ => None,
    });
    let survey = Legend::builtin("sandiao").unwrap();
    let ch = qingshan::landuse::landuse_change(
        &before,
        &after,
        &zone(dir.path()),
        &survey,
        AreaMode::Planar,
        &Default::default(),
    )
    .unwrap();
    let z = &ch.report.zones[0];
    let t = |f: &str, to: &str| {
        z.transitions
            .get(&code(f))
            .and_then(|r| r.get(&code(to)))
            .copied()
            .unwrap_or(0.0)
    };
    let want = [
        ("0301", "0103", 75.0 * 190.0),
        ("0301", "0301", 75.0 * 90.0),
        ("0301K", "0301K", 100.0 * 280.0),
        ("0103", "0103", 100.0 * 180.0),
        ("0103", "0602", 100.0 * 100.0),
        ("0305", "0305", 75.0 * 280.0),
    ];
    let total: f64 = z.transitions.values().flat_map(|r| r.values()).sum();
    assert!((total - 350.0 * 280.0).abs() < 1e-6, "{total}");
    for (f, to, a) in want {
        assert!(
            (t(f, to) - a).abs() < 1e-6,
            "{f} → {to}: {} vs {a}",
            t(f, to)
        );
    }
    assert!(
        z.nodata_area_m2 == 0.0 && ch.report.warnings.is_empty(),
        "{:?}",
        ch.report.warnings
    );
    // Forest (0301, 0301K) lost 14,250 m² to dry land.
    assert!((z.forest_loss_m2 - 75.0 * 190.0).abs() < 1e-6);
    let mut list: Vec<(String, String, String, String, f64)> = ch
        .changed
        .iter()
        .map(|p| {
            (
                p.before_id.clone(),
                p.after_id.clone(),
                p.from.to_string(),
                p.to.to_string(),
                p.area_m2,
            )
        })
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    let want = [
        ("a00", "merged", "0301", "0103", 75.0 * 90.0),
        ("a01", "merged", "0301", "0103", 75.0 * 100.0),
        ("a21", "b21", "0103", "0602", 100.0 * 100.0),
    ];
    assert_eq!(list.len(), want.len(), "{list:?}");
    for (got, w) in list.iter().zip(want) {
        assert_eq!(
            (
                got.0.as_str(),
                got.1.as_str(),
                got.2.as_str(),
                got.3.as_str()
            ),
            (w.0, w.1, w.2, w.3)
        );
        assert!((got.4 - w.4).abs() < 1e-6, "{got:?}");
    }
    // Each piece's geometry is its part of the zone.
    for p in &ch.changed {
        assert!((geo::Area::unsigned_area(&p.geometry) - p.area_m2).abs() < 1e-6);
    }
}

fn one_zone_layer(dir: &Path, name: &str, feats: Vec<serde_json::Value>) -> LandUse {
    let path = dir.join(format!("{name}.geojson"));
    write_layer(&path, feats);
    LandUse::read(&path, &LandUseOptions::new("DLBM")).unwrap()
}

#[test]
fn a_bow_tie_polygon_is_refused_with_its_feature() {
    let dir = tempfile::tempdir().unwrap();
    let bow = serde_json::json!({"type": "Polygon", "coordinates": [[
        [X0, Y0], [X0 + 100.0, Y0 + 100.0], [X0 + 100.0, Y0], [X0, Y0 + 101.0], [X0, Y0]
    ]]});
    let path = dir.path().join("bow.geojson");
    write_layer(
        &path,
        vec![
            serde_json::json!({"type": "Feature", "properties": {"DLBM": "0301"}, "geometry": square(200.0, 0.0, 10.0, 10.0)}),
            serde_json::json!({"type": "Feature", "properties": {"DLBM": "0301"}, "geometry": bow}),
        ],
    );
    let e = LandUse::read(&path, &LandUseOptions::new("DLBM"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bow.geojson") && e.contains("FID 1") && e.contains("edges cross"),
        "{e}"
    );
}

/// Polygons are checked a chunk at a time while the layer is read: with
/// bow-ties in two later chunks (and a later one in the same chunk), the
/// first in the layer's order is the one named, at any thread count.
#[test]
fn the_first_invalid_polygon_of_a_large_layer_is_the_one_named() {
    let dir = tempfile::tempdir().unwrap();
    let bow = |x: f64| {
        serde_json::json!({"type": "Polygon", "coordinates": [[
            [X0 + x, Y0], [X0 + x + 5.0, Y0 + 5.0], [X0 + x + 5.0, Y0], [X0 + x, Y0 + 6.0], [X0 + x, Y0]
        ]]})
    };
    let feats: Vec<serde_json::Value> = (0..9000)
        .map(|i| {
            let x = 10.0 * i as f64;
            let g = if [5000, 5001, 8500].contains(&i) {
                bow(x)
            } else {
                square(x, 0.0, 5.0, 5.0)
            };
            serde_json::json!({"type": "Feature", "properties": {"DLBM": "0301"}, "geometry": g})
        })
        .collect();
    let path = dir.path().join("many.geojson");
    write_layer(&path, feats);
    for threads in [1, 2, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let e = pool
            .install(|| LandUse::read(&path, &LandUseOptions::new("DLBM")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("FID 5000:") || e.contains("FID 5000 "),
            "{threads} threads: {e}"
        );
    }
}

/// A feature that cannot be read after an invalid polygon does not hide
/// it: the first error in the layer's order is the one named.
#[test]
fn an_invalid_polygon_before_an_unreadable_feature_is_named_first() {
    let dir = tempfile::tempdir().unwrap();
    let bow = serde_json::json!({"type": "Polygon", "coordinates": [[
        [X0, Y0], [X0 + 5.0, Y0 + 5.0], [X0 + 5.0, Y0], [X0, Y0 + 6.0], [X0, Y0]
    ]]});
    let feats = |bow_at: usize, null_at: usize| -> Vec<serde_json::Value> {
        (0..20)
            .map(|i| {
                let g = if i == bow_at {
                    bow.clone()
                } else if i == null_at {
                    serde_json::Value::Null
                } else {
                    square(10.0 * i as f64 + 100.0, 0.0, 5.0, 5.0)
                };
                serde_json::json!({"type": "Feature", "properties": {"DLBM": "0301"}, "geometry": g})
            })
            .collect()
    };
    for (bow_at, null_at, want) in [(3, 15, "FID 3:"), (15, 3, "FID 3:")] {
        let path = dir.path().join(format!("l{bow_at}.geojson"));
        write_layer(&path, feats(bow_at, null_at));
        let e = LandUse::read(&path, &LandUseOptions::new("DLBM"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(want),
            "bow-tie at {bow_at}, no geometry at {null_at}: {e}"
        );
    }
}

#[test]
fn three_copies_of_a_square_overlap_by_twice_its_area() {
    let dir = tempfile::tempdir().unwrap();
    let sq = |id: &str| {
        serde_json::json!({"type": "Feature", "properties": {"BSM": id, "DLBM": "0301"},
            "geometry": square(25.0, 10.0, 350.0, 280.0)})
    };
    let lu = one_zone_layer(dir.path(), "tri", vec![sq("a"), sq("b"), sq("c")]);
    let rep = survey_stats(&lu, dir.path());
    let z = &rep.zones[0];
    let a = 350.0 * 280.0;
    assert!((z.classes[&code("0301")] - 3.0 * a).abs() < 1e-6);
    assert!(
        (z.overlap_area_m2.unwrap() - 2.0 * a).abs() < 1e-6,
        "{:?}",
        z.overlap_area_m2
    );
    assert_eq!(z.nodata_area_m2, 0.0);
}

#[test]
fn net_recorded_areas_credit_their_deduction_to_its_class() {
    let dir = tempfile::tempdir().unwrap();
    // Dry land: TBMJ 10,000 recorded as TBDLMJ 9,000 + KCMJ 1,000 of 田坎.
    let feats = (0..4)
        .map(|col| {
            serde_json::json!({"type": "Feature",
                "properties": {"DLBM": "0103", "TBDLMJ": 9_000.0, "KCDLBM": "1203", "KCMJ": 1_000.0},
                "geometry": square(100.0 * col as f64, 0.0, 100.0, 300.0)})
        })
        .collect();
    let path = dir.path().join("net.geojson");
    write_layer(&path, feats);
    let mut opts = LandUseOptions::new("DLBM");
    opts.area_field = Some("TBDLMJ".into());
    let lu = LandUse::read(&path, &opts).unwrap();
    let rep = survey_stats(&lu, dir.path());
    let z = &rep.zones[0];
    // The zone takes 75/100, 1, 1, 75/100 of the columns' 100 × 300 m, 280 m of it:
    // shares of each polygon's 30,000 m² = 0.7, 0.9333, 0.9333, 0.7 → 3.2667 polygons.
    let polygons = (75.0 * 280.0 * 2.0 + 100.0 * 280.0 * 2.0) / 30_000.0;
    assert!((z.classes[&code("0103")] - 9_000.0 * polygons).abs() < 1e-6);
    assert!((z.classes[&code("1203")] - 1_000.0 * polygons).abs() < 1e-6);
    // 10,000 recorded per 30,000 m² polygon: 20,000 short each.
    assert!((z.recorded_minus_computed_m2.unwrap() + 20_000.0 * polygons).abs() < 1e-6);
    assert!(rep.warnings.iter().any(|w| w.contains("KCMJ")));
}

#[test]
fn null_and_far_off_geometries_are_refused_with_their_feature() {
    let dir = tempfile::tempdir().unwrap();
    let ok = serde_json::json!({"type": "Feature", "properties": {"DLBM": "0301"}, "geometry": square(0.0, 0.0, 10.0, 10.0)});
    let null =
        serde_json::json!({"type": "Feature", "properties": {"DLBM": "0301"}, "geometry": null});
    let path = dir.path().join("null.geojson");
    write_layer(&path, vec![ok.clone(), null]);
    let e = LandUse::read(&path, &LandUseOptions::new("DLBM"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("null.geojson") && e.contains("FID 1") && e.contains("no geometry"),
        "{e}"
    );
    let far = serde_json::json!({"type": "Feature", "properties": {"BSM": "far", "DLBM": "0301"},
        "geometry": {"type": "Polygon", "coordinates": [[[X0, Y0], [1e12, Y0], [X0, Y0 + 10.0], [X0, Y0]]]}});
    let path = dir.path().join("far.geojson");
    write_layer(&path, vec![ok, far]);
    let e = LandUse::read(&path, &LandUseOptions::new("DLBM"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("far.geojson") && e.contains("far"), "{e}");
}

#[test]
fn numeric_survey_codes_are_the_legends_codes_and_a_zone_off_the_layer_is_warned() {
    let dir = tempfile::tempdir().unwrap();
    let feats = vec![
        serde_json::json!({"type": "Feature", "properties": {"DLBM": 301}, "geometry": square(0.0, 0.0, 200.0, 300.0)}),
        serde_json::json!({"type": "Feature", "properties": {"DLBM": "0301"}, "geometry": square(200.0, 0.0, 200.0, 300.0)}),
    ];
    let lu = one_zone_layer(dir.path(), "num", feats);
    assert_eq!(lu.codes[0], ClassCode::int(301));
    let rep = survey_stats(&lu, dir.path());
    let z = &rep.zones[0];
    assert_eq!(
        z.classes.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
        ["0301"]
    );
    assert!((z.classes[&code("0301")] - 350.0 * 280.0).abs() < 1e-6);
    // A zone the layer does not reach.
    let far = dir.path().join("far_zone.geojson");
    let ring = vec![
        (X0 + 5e4, Y0),
        (X0 + 5e4 + 10.0, Y0),
        (X0 + 5e4 + 10.0, Y0 + 10.0),
        (X0 + 5e4, Y0 + 10.0),
    ];
    std::fs::write(&far, common::geojson(Some(4545), &[("off", vec![ring])])).unwrap();
    let zones = ZoneLayer::read(&far, &ZoneOptions::default()).unwrap();
    let rep = landuse_stats(
        &lu,
        &zones,
        &Legend::builtin("sandiao").unwrap(),
        AreaMode::Planar,
        &Default::default(),
    )
    .unwrap();
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("\"off\"") && w.contains("no polygon")),
        "{:?}",
        rep.warnings
    );
}
