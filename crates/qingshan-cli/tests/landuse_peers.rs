//! `qingshan stats --landuse` against geopandas' overlay and pyproj's
//! geodesic areas (benches/peers/landuse_check.py). The Python packages
//! are installed by `.ci/setup --peers`; without them these tests fail.

mod support;

use std::path::Path;
use support::{fx, peer_check, qingshan, stderr};

fn stats(landuse: &str, zones: &str, extra: &[&str], out: &Path) {
    let mut args = vec![
        "stats",
        "-q",
        "--landuse",
        landuse,
        "--class-field",
        "DLBM",
        "--zones",
        zones,
        "-o",
    ];
    let out_s = out.display().to_string();
    args.push(&out_s);
    args.extend(extra);
    let o = qingshan(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn check(landuse: &str, zones: &str, q: &Path, extra: &[&str]) -> (i32, String) {
    let q = q.display().to_string();
    let mut args = vec![
        "--landuse",
        landuse,
        "--class-field",
        "DLBM",
        "--zones",
        zones,
        "--qingshan",
        &q,
    ];
    args.extend(extra);
    peer_check("landuse_check.py", &args)
}

#[test]
fn survey_class_areas_equal_a_geopandas_overlay_with_geodesic_areas() {
    let dir = tempfile::tempdir().unwrap();
    // Old small fixture, both survey versions of the towns' fixture, and
    // recorded areas (TBDLMJ, with KCMJ credited to KCDLBM).
    let cases: [(&str, &str, &[&str]); 5] = [
        ("dltb.gpkg", "towns.geojson", &[]),
        (
            "dltb.gpkg",
            "redlines_2019.geojson",
            &["--id-field", "hx_id"],
        ),
        ("landuse/dltb_2019.gpkg", "towns.geojson", &[]),
        (
            "landuse/dltb_2024.gpkg",
            "redlines_2019.geojson",
            &["--id-field", "hx_id"],
        ),
        (
            "landuse/dltb_2019.gpkg",
            "towns.geojson",
            &["--area-field", "TBDLMJ"],
        ),
    ];
    for (landuse, zones, ids) in cases {
        let (dltb, zones) = (fx(landuse), fx(zones));
        let out = dir.path().join("lu.json");
        stats(&dltb, &zones, ids, &out);
        let (code, text) = check(&dltb, &zones, &out, ids);
        assert_eq!(code, 0, "{text}");
        // The check fails on a class moved by 1e-6.
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let zone = doc["zones"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|z| !z["classes"].as_object().unwrap().is_empty())
            .unwrap();
        let classes = zone["classes"].as_object_mut().unwrap();
        let (k, v) = classes
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
            .unwrap();
        classes.insert(k, (v * (1.0 + 1e-6)).into());
        std::fs::write(&out, doc.to_string()).unwrap();
        let (code, text) = check(&dltb, &zones, &out, ids);
        assert_eq!(code, 1, "a 1e-6 change passed: {text}");
    }
}

#[test]
fn survey_versions_change_equals_a_geopandas_overlay_and_lists_every_changed_piece() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (fx("landuse/dltb_2019.gpkg"), fx("landuse/dltb_2024.gpkg"));
    let towns = fx("towns.geojson");
    let (json, csv, shp, xlsx) = (
        dir.path().join("c.json"),
        dir.path().join("list.csv"),
        dir.path().join("list.shp"),
        dir.path().join("list.xlsx"),
    );
    for list in [&csv, &shp, &xlsx] {
        let o = qingshan(&[
            "change",
            "-q",
            "--before-landuse",
            &a,
            "--after-landuse",
            &b,
            "--class-field",
            "DLBM",
            "--zones",
            &towns,
            "--change-list",
            &list.display().to_string(),
            "-o",
            &json.display().to_string(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (code, text) = peer_check(
        "landuse_change_check.py",
        &[
            "--before",
            &a,
            "--after",
            &b,
            "--class-field",
            "DLBM",
            "--zones",
            &towns,
            "--qingshan",
            &json.display().to_string(),
            "--change-list",
            &csv.display().to_string(),
        ],
    );
    assert_eq!(code, 0, "{text}");
    let listed = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
    assert!(listed > 50, "{listed} changed pieces");
    // The Shapefile says GBK in its .cpg, holds GBK bytes, and GDAL reads
    // the Chinese names back through it; the XLSX holds the same rows.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("list.cpg"))
            .unwrap()
            .trim(),
        "GBK"
    );
    let dbf = std::fs::read(dir.path().join("list.dbf")).unwrap();
    let gbk_lin = [0xC1u8, 0xD6]; // 林
    assert!(dbf.windows(2).any(|w| w == gbk_lin));
    let (code, text) = peer_check(
        "landuse_list_check.py",
        &[
            &shp.display().to_string(),
            &xlsx.display().to_string(),
            &csv.display().to_string(),
        ],
    );
    assert_eq!(code, 0, "{text}");
}
