//! `qingshan change`, `redline diff` and `redline check` as a user runs
//! them on the fixtures: outputs, exit codes (3 = a check failed), errors.
//! The fixtures' red lines change on purpose (fixtures/README.md):
//! HX-JSG-02 loses a 200 m strip, HX-JSG-04 is removed, HX-JSG-03 moves,
//! HX-AZ-02 grows ×1.25, HX-AZ-04 is added; a mine grows into HX-JSG-02 and
//! built-up land into HX-AZ-03.

mod support;

use support::{assert_user_error, fx, json, qingshan, stderr};

#[test]
fn redline_diff_on_the_fixtures() {
    let (old, new) = (fx("redlines_2019.geojson"), fx("redlines_2024.gpkg"));
    let towns = fx("towns.geojson");
    let o = qingshan(&[
        "redline",
        "diff",
        &old,
        &new,
        "--id-field",
        "hx_id",
        "--towns",
        &towns,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["schema"], "qingshan.redline/1");
    assert_eq!(v["kind"], "diff");
    assert_eq!(v["shrunk"], false);
    let status = |id: &str| {
        v["polygons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("HX-JSG-01"), "unchanged");
    assert_eq!(status("HX-JSG-02"), "shrunk");
    assert_eq!(status("HX-JSG-03"), "reshaped");
    assert_eq!(status("HX-JSG-04"), "removed");
    assert_eq!(status("HX-AZ-02"), "grown");
    assert_eq!(status("HX-AZ-04"), "added");
    let towns = v["towns"].as_array().unwrap();
    assert_eq!(towns[0]["id"], "jinsuoguan");
    assert_eq!(towns[0]["shrunk"], true);
    assert_eq!(towns[1]["shrunk"], false);
    // Totals are consistent: new − old = gained − lost.
    let f = |k: &str| v[k].as_f64().unwrap();
    let d = f("new_total_m2") - f("old_total_m2") - (f("gained_m2") - f("lost_m2"));
    assert!(d.abs() < 1e-9 * f("old_total_m2"), "{d}");

    // --strict fails on the compensated loss; the reverse diff shrinks.
    let o = qingshan(&[
        "redline",
        "diff",
        &old,
        &new,
        "--id-field",
        "hx_id",
        "--strict",
        "--format",
        "table",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("area was lost"), "{}", stderr(&o));
    let o = qingshan(&["redline", "diff", &new, &old, "--id-field", "hx_id"]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(json(&o)["shrunk"], true);
    assert!(stderr(&o).contains("the red line shrank"));
}

#[test]
fn lost_geometry_names_the_red_line_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let lost = dir.path().join("lost.geojson");
    let o = qingshan(&[
        "redline",
        "diff",
        &fx("redlines_2019.geojson"),
        &fx("redlines_2024.gpkg"),
        "--id-field",
        "hx_id",
        "--lost-geometry",
        lost.to_str().unwrap(),
        "-o",
        dir.path().join("d.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lost).unwrap()).unwrap();
    let mut ids: Vec<&str> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["redline_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["HX-JSG-02", "HX-JSG-03", "HX-JSG-04"]);
    let csv = std::fs::read_to_string(dir.path().join("d.csv")).unwrap();
    assert!(csv.starts_with("id,name,status,old_m2"));
    assert!(
        csv.lines()
            .any(|l| l.starts_with("HX-JSG-04,") && l.contains(",removed,"))
    );
}

#[test]
fn redline_check_on_the_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let patches = dir.path().join("patches.geojson");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "redline",
            "check",
            "--redlines",
            &fx("redlines_2019.geojson"),
            "--id-field",
            "hx_id",
            "--before",
            &fx("landcover/clcd_2019.vrt"),
            "--after",
            &fx("landcover/clcd_2024.vrt"),
            "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let a = args(&["--patches", patches.to_str().unwrap()]);
    let o = qingshan(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["kind"], "check");
    let bad: Vec<&str> = v["polygons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["nature_ok"] == false)
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(bad, vec!["HX-JSG-02", "HX-AZ-03"]);
    let jsg02 = &v["polygons"][1];
    assert_eq!(jsg02["conversions"][0]["from_name"], "Forest");
    assert_eq!(jsg02["conversions"][0]["to_name"], "Barren");
    assert!(stderr(&o).contains("redline HX-JSG-02: nature changed"));
    // Patches add up to each red line's conversion.
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&patches).unwrap()).unwrap();
    for poly in v["polygons"].as_array().unwrap() {
        let id = poly["id"].as_str().unwrap();
        let sum: f64 = p["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["properties"]["redline_id"] == id)
            .map(|f| f["properties"]["area_m2"].as_f64().unwrap())
            .sum();
        let conv = poly["conversion_m2"].as_f64().unwrap();
        assert!(
            (sum - conv).abs() <= 1e-6 * conv.max(1.0),
            "{id}: patches {sum} vs {conv}"
        );
    }
    // Generous limits pass.
    let a = args(&[
        "--max-conversion-m2",
        "400000",
        "--max-vegetation-loss",
        "0.1",
    ]);
    let o = qingshan(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn change_outputs_on_the_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let raster = dir.path().join("t.tif");
    let csv = dir.path().join("c.csv");
    let o = qingshan(&[
        "change",
        "--before",
        &fx("landcover/clcd_2019.vrt"),
        "--after",
        &fx("landcover/clcd_2024.vrt"),
        "--zones",
        &fx("towns.geojson"),
        "--change-raster",
        raster.to_str().unwrap(),
        "-o",
        csv.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("zone_id,zone_name,from,from_name,to,to_name,area_m2,area_ha,area_mu")
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("jinsuoguan,金锁关镇,2,Forest,7,Barren,"))
    );
    let ds = gdal::Dataset::open(&raster).unwrap();
    assert_eq!(ds.raster_size(), (800, 600));
}

#[test]
fn bad_input_ends_in_exit_1_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    std::fs::write(
        p("empty.geojson"),
        r#"{"type":"FeatureCollection","features":[]}"#,
    )
    .unwrap();
    let o = qingshan(&[
        "redline",
        "diff",
        &p("empty.geojson"),
        &fx("redlines_2024.gpkg"),
    ]);
    assert_user_error(&o, &["empty.geojson", "no features"]);
    // Duplicate ids (every town has kind = "town").
    let o = qingshan(&[
        "redline",
        "diff",
        &fx("towns.geojson"),
        &fx("towns.geojson"),
        "--id-field",
        "kind",
    ]);
    assert_user_error(&o, &["towns.geojson", "duplicate id"]);
    // Two dates on different grids.
    let o = qingshan(&[
        "change",
        "--before",
        &fx("landcover/clcd_2019.vrt"),
        "--after",
        &fx("landcover/clcd_2019_lonlat.tif"),
        "--zones",
        &fx("towns.geojson"),
    ]);
    assert_user_error(
        &o,
        &["clcd_2019.vrt", "clcd_2019_lonlat.tif", "different CRSs"],
    );
    // A negative tolerance is refused.
    let o = qingshan(&[
        "redline",
        "diff",
        &fx("redlines_2019.geojson"),
        &fx("redlines_2024.gpkg"),
        "--tolerance-m2=-1",
    ]);
    assert_user_error(&o, &["--tolerance-m2"]);
    // A GeoTIFF named .png (it was written anyway, as a GeoTIFF).
    let o = qingshan(&[
        "change",
        "--before",
        &fx("landcover/clcd_2019.vrt"),
        "--after",
        &fx("landcover/clcd_2024.vrt"),
        "--zones",
        &fx("towns.geojson"),
        "--change-raster",
        &p("c.png"),
        "-q",
    ]);
    assert_user_error(&o, &["c.png", "GeoTIFF", ".tif"]);
    assert!(!dir.path().join("c.png").exists());
}

/// The issue's case: a 12 km square in EPSG:4545 and its copy reprojected
/// by ogr2ogr to EPSG:4490 are the same red line, both ways: exit 0,
/// `unchanged`, nothing lost or gained (it reported 15,960 m² lost).
#[test]
fn a_square_reprojected_by_ogr2ogr_is_unchanged_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let sq = dir.path().join("sq.geojson");
    std::fs::write(
        &sq,
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4545"}},
"features":[{"type":"Feature","properties":{"hx_id":"A"},"geometry":{"type":"Polygon","coordinates":[[[480000,3880000],[492000,3880000],[492000,3892000],[480000,3892000],[480000,3880000]]]}}]}"#,
    )
    .unwrap();
    let ll = dir.path().join("sq_4490.geojson");
    let o = std::process::Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "-t_srs", "EPSG:4490"])
        .arg(&ll)
        .arg(&sq)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (old, new) in [(&ll, &sq), (&sq, &ll)] {
        let o = qingshan(&[
            "redline",
            "diff",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--id-field",
            "hx_id",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let d = json(&o);
        let p = &d["polygons"][0];
        assert_eq!(p["status"], "unchanged", "{d}");
        assert!(p["lost_m2"].as_f64().unwrap() < 1e-3, "{d}");
        assert!(p["gained_m2"].as_f64().unwrap() < 1e-3, "{d}");
        let (a, b) = (p["old_m2"].as_f64().unwrap(), p["new_m2"].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-9 * a, "{a} vs {b}");
        // 144 km², measured on the ellipsoid (the projected area is
        // larger by the scale of EPSG:4545 there).
        assert!((a - 1.44e8).abs() < 1e-3 * 1.44e8, "{a}");
    }
    // Copies with rounded coordinates: RFC 7946 GeoJSON (7 decimals of a
    // degree, ~1.1 cm) and a Gauss–Krüger copy to the centimetre of the
    // lon/lat one. They reported "shrunk" (80.6 m² lost, exit 3).
    let rfc = dir.path().join("sq_rfc.geojson");
    let cm = dir.path().join("sq_cm.geojson");
    for (out, args, src) in [
        (&rfc, vec!["-lco", "RFC7946=YES"], &sq),
        (
            &cm,
            vec!["-t_srs", "EPSG:4545", "-lco", "COORDINATE_PRECISION=2"],
            &ll,
        ),
    ] {
        let o = std::process::Command::new("ogr2ogr")
            .args(["-f", "GeoJSON"])
            .args(args)
            .arg(out)
            .arg(src)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for (old, new) in [
        (&rfc, &sq),
        (&sq, &rfc),
        (&cm, &ll),
        (&ll, &cm),
        (&rfc, &ll),
    ] {
        let o = qingshan(&[
            "redline",
            "diff",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--id-field",
            "hx_id",
        ]);
        let (oname, nname) = (old.display(), new.display());
        assert_eq!(
            o.status.code(),
            Some(0),
            "{oname} → {nname}: {}",
            stderr(&o)
        );
        let d = json(&o);
        assert_eq!(
            d["polygons"][0]["status"], "unchanged",
            "{oname} → {nname}: {d}"
        );
        // (The centimetre copy of whole-metre corners is whole metres
        // again: nothing to align, and nothing said.)
        if [old, new].contains(&&rfc) {
            assert!(
                stderr(&o).contains("coordinates are rounded"),
                "{}",
                stderr(&o)
            );
        }
    }
    // Both layers rounded, to steps about equal: the fixtures' red lines
    // (Gauss–Krüger, to the centimetre) and their RFC 7946 copy (1e-7°):
    // every polygon unchanged, both ways (it said "shrunk", 62 m² lost).
    let red = fx("redlines_2019.geojson");
    let red_rfc = dir.path().join("red_rfc.geojson");
    let o = std::process::Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "-lco", "RFC7946=YES"])
        .arg(&red_rfc)
        .arg(&red)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let red_rfc = red_rfc.display().to_string();
    for (old, new) in [(&red, &red_rfc), (&red_rfc, &red)] {
        let o = qingshan(&["redline", "diff", old, new, "--id-field", "hx_id"]);
        assert_eq!(o.status.code(), Some(0), "{old} → {new}: {}", stderr(&o));
        let d = json(&o);
        for p in d["polygons"].as_array().unwrap() {
            assert_eq!(p["status"], "unchanged", "{old} → {new}: {p}");
        }
    }
    // A real edit against a rounded copy is measured as before: the
    // square less a 1 km strip loses 12 km² (to the ellipsoid's scale).
    let small = dir.path().join("sq_small.geojson");
    std::fs::write(
        &small,
        std::fs::read_to_string(&sq)
            .unwrap()
            .replace("492000", "491000"),
    )
    .unwrap();
    let o = qingshan(&[
        "redline",
        "diff",
        rfc.to_str().unwrap(),
        small.to_str().unwrap(),
        "--id-field",
        "hx_id",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let lost = json(&o)["polygons"][0]["lost_m2"].as_f64().unwrap();
    assert!((lost / 1.2e7 - 1.0).abs() < 1e-4, "{lost}");
}

/// Every report says how its areas were measured (`"area"`), ellipsoidal
/// by default, and `--area planar` is honoured by each command. The
/// planar red-line diff of a 12 km square losing a 1 km strip is the
/// hand-worked one; the default is the ground area, smaller by the square
/// of EPSG:4545's scale there.
#[test]
fn every_report_says_how_areas_were_measured() {
    let dir = tempfile::tempdir().unwrap();
    let write_square = |name: &str, x1: f64| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::4545"}}}},
"features":[{{"type":"Feature","properties":{{"hx_id":"A"}},"geometry":{{"type":"Polygon","coordinates":[[[480000,3880000],[{x1},3880000],[{x1},3892000],[480000,3892000],[480000,3880000]]]}}}}]}}"#
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let (old, new) = (
        write_square("old.geojson", 492000.0),
        write_square("new.geojson", 491000.0),
    );
    let diff = |extra: &[&str]| {
        let mut a = vec!["redline", "diff", &old, &new, "--id-field", "hx_id"];
        a.extend(extra);
        let o = qingshan(&a);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        json(&o)
    };
    let planar = diff(&["--area", "planar"]);
    assert_eq!(planar["area"], "planar");
    let p = &planar["polygons"][0];
    assert!((p["old_m2"].as_f64().unwrap() - 1.44e8).abs() < 1e-3);
    assert!((p["lost_m2"].as_f64().unwrap() - 1.2e7).abs() < 1e-3);
    let ground = diff(&[]);
    assert_eq!(ground["area"], "ellipsoidal");
    // Transverse Mercator's areal scale is 1 + x²/R² at x from the central
    // meridian (here 8–20 km west of it; R ≈ 6 371 km): ground areas are
    // smaller by the mean of x²/R² over the square, about 5.1e-6.
    let mean_x2 = (20_000f64.powi(3) - 8_000f64.powi(3)) / (3.0 * 12_000.0);
    let want = 1.0 / (1.0 + mean_x2 / 6.371e6f64.powi(2));
    let ratio = ground["polygons"][0]["old_m2"].as_f64().unwrap() / 1.44e8;
    assert!((ratio - want).abs() < 3e-7, "{ratio} vs {want}");

    let lc = (fx("landcover/clcd_2019.vrt"), fx("landcover/clcd_2024.vrt"));
    let towns = fx("towns.geojson");
    let red = fx("redlines_2019.geojson");
    let runs: Vec<(Vec<&str>, i32)> = vec![
        (vec!["stats", "--landcover", &lc.1, "--zones", &towns], 0),
        (
            vec![
                "change", "--before", &lc.0, "--after", &lc.1, "--zones", &towns,
            ],
            0,
        ),
        (
            vec![
                "redline",
                "check",
                "--redlines",
                &red,
                "--id-field",
                "hx_id",
                "--before",
                &lc.0,
                "--after",
                &lc.1,
            ],
            3,
        ),
    ];
    for (args, code) in runs {
        for mode in [None, Some("planar"), Some("ellipsoidal")] {
            let mut a = args.clone();
            a.push("-q");
            if let Some(m) = mode {
                a.extend(["--area", m]);
            }
            let o = qingshan(&a);
            assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
            assert_eq!(json(&o)["area"], mode.unwrap_or("ellipsoidal"), "{args:?}");
        }
    }
    let out = dir.path().join("audit");
    let o = qingshan(&[
        "audit",
        "--config",
        &fx("audit.toml"),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--area",
        "planar",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(a["inputs"]["area"], "planar");
    assert_eq!(a["stats"]["area"], "planar");
    assert_eq!(a["redline_diff"]["area"], "planar");
    // The report says it too.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("投影平面面积"),
        "the report does not say planar"
    );
}

/// A red line with no land cover under it (off the raster, or on nodata)
/// has nothing to verify: the check fails (exit 3) saying so — it said
/// "no violation" and the audit "every target met".
#[test]
fn a_red_line_without_land_cover_is_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let red = dir.path().join("off.geojson");
    std::fs::write(
        &red,
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4545"}},
"features":[{"type":"Feature","properties":{"hx_id":"OFF"},"geometry":{"type":"Polygon","coordinates":[[[700000,3880000],[701000,3880000],[701000,3881000],[700000,3881000],[700000,3880000]]]}},
{"type":"Feature","properties":{"hx_id":"EDGE"},"geometry":{"type":"Polygon","coordinates":[[[581005,3895000],[582005,3895000],[582005,3896000],[581005,3896000],[581005,3895000]]]}},
{"type":"Feature","properties":{"hx_id":"MOST"},"geometry":{"type":"Polygon","coordinates":[[[581700,3895000],[582700,3895000],[582700,3896000],[581700,3896000],[581700,3895000]]]}}]}"#,
    )
    .unwrap();
    let o = qingshan(&[
        "redline",
        "check",
        "--redlines",
        red.to_str().unwrap(),
        "--id-field",
        "hx_id",
        "--before",
        &fx("landcover/clcd_2019.vrt"),
        "--after",
        &fx("landcover/clcd_2024.vrt"),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["ok"], false);
    // Off the raster, and on it by 5 m of 1 km: not verified.
    for k in [0, 1] {
        let p = &v["polygons"][k];
        assert_eq!(p["nature_ok"], false, "{p}");
        assert_eq!(p["function_ok"], false, "{p}");
        assert_eq!(p["verified"], false, "{p}");
    }
    // 70 % on it: judged, with a warning saying how much it saw.
    assert_eq!(v["polygons"][2]["verified"], true);
    let err = stderr(&o);
    assert!(err.contains("cannot be verified"), "{err}");
    assert!(
        err.contains("red line \"MOST\": only 70.0 % of it has valid land cover"),
        "{err}"
    );
}
