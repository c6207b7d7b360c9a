//! `qingshan slope` and the audit's terrain as a user meets them: the
//! steep-cropland targets, outputs that must not overwrite inputs, inputs
//! that do not fit (another CRS, feet, a missing class field), and the
//! Shapefile written in GBK.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{audit_config_absolute, fx, qingshan, stderr, tool};

/// The steep-cropland targets: the total is the sum of the towns' steep
/// cropland (from the slope result) in mu; swapping the dates turns a
/// decrease into an increase that misses the target; a target without
/// `[terrain]` is a config error.
#[test]
fn steep_cropland_targets_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(fx("audit.toml")).unwrap();
    let swapped = base
        .replace("landcover/clcd_2019.vrt", "SWAP")
        .replace("landcover/clcd_2024.vrt", "landcover/clcd_2019.vrt")
        .replace("SWAP", "landcover/clcd_2024.vrt")
        .replace(
            "steep_cropland_max_mu = 1000",
            "steep_cropland_max_mu = 100",
        );
    let cfg = dir.path().join("steep.toml");
    let abs = audit_config_absolute(&swapped);
    std::fs::write(&cfg, abs).unwrap();
    let out = dir.path().join("out");
    let o = qingshan(&[
        "audit",
        "--config",
        cfg.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).unwrap()).unwrap();
    let steep = |doc: &str| -> f64 {
        a[doc]["zones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|z| z["steep_cropland_m2"].as_f64().unwrap())
            .sum()
    };
    let targets = a["targets"].as_array().unwrap();
    let find = |name: &str, scope: &str| {
        targets
            .iter()
            .find(|t| t["target"] == name && t["scope"] == scope)
            .unwrap_or_else(|| panic!("{name} {scope}"))
    };
    let max = find("steep_cropland_max_mu", "total");
    assert!((max["measured"].as_f64().unwrap() - steep("slope") * 3.0 / 2000.0).abs() < 1e-9);
    assert_eq!(max["passed"], max["measured"].as_f64().unwrap() <= 100.0);
    let grew = find("steep_cropland_not_increased", "total");
    let delta = steep("slope") - steep("slope_before");
    assert!(delta > 0.0, "{delta}");
    assert!((grew["measured"].as_f64().unwrap() - delta).abs() < 1e-6);
    assert_eq!(grew["passed"], false);
    // Without [terrain], the targets are an error naming the section.
    let bare = dir.path().join("bare.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let start = text.find("[terrain]").unwrap();
    let end = text.find("[targets]").unwrap();
    std::fs::write(&bare, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let o = qingshan(&[
        "audit",
        "--config",
        bare.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("[terrain]"), "{}", stderr(&o));
}

fn slope_json(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["slope", "-q", "--dem"];
    let dem = fx("dem");
    let towns = fx("towns.geojson");
    all.push(&dem);
    all.extend(["--zones", &towns]);
    all.extend(args);
    let o = qingshan(&all);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code().unwrap_or(-1), v, stderr(&o))
}

fn steep(v: &Value, zone: usize) -> Option<f64> {
    v["zones"][zone]["steep_cropland_m2"].as_f64()
}

/// Land cover covering part of the towns, or holding codes its legend
/// does not list, is said out loud; a town off the land cover has no
/// steep cropland (null), not zero.
#[test]
fn land_cover_that_does_not_fit_is_reported() {
    let tile = fx("landcover/clcd_2019/clcd_2019_r0c0.tif");
    let (code, v, err) = slope_json(&["--landcover", &tile]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("\"jinsuoguan\": only 40.2 % of it has land cover"),
        "{err}"
    );
    assert!(err.contains("\"azhuang\" has no land cover"), "{err}");
    assert!(steep(&v, 0).unwrap() > 0.0);
    assert_eq!(steep(&v, 1), None);
    let vrt = fx("landcover/clcd_2019.vrt");
    let (code, _, err) = slope_json(&["--landcover", &vrt, "--legend", "worldcover"]);
    assert_eq!(code, 0);
    assert!(
        err.contains("codes the legend worldcover does not list"),
        "{err}"
    );
}

/// Cropland codes: a choice that keeps nothing is an error listing the
/// values; first-level `01` keeps what the default keeps; an integer
/// class field matches the codes; codes need a class field.
#[test]
fn cropland_codes_are_matched_or_refused_out_loud() {
    let gpkg = fx("dltb.gpkg");
    let base = [
        "--cropland",
        &gpkg,
        "--class-field",
        "DLBM",
        "--cropland-id-field",
        "BSM",
    ];
    let (code, default, err) = slope_json(&base);
    assert_eq!(code, 0, "{err}");
    let n = default["polygons"].as_array().unwrap().len();
    assert!(n > 500, "{n}");
    let (code, _, err) = slope_json(&[&base[..], &["--cropland-codes", "9999"]].concat());
    assert_eq!(code, 1);
    assert!(err.contains("9999") && err.contains("0103"), "{err}");
    let (code, level1, _) = slope_json(&[&base[..], &["--cropland-codes", "01"]].concat());
    assert_eq!(code, 0);
    assert_eq!(level1["polygons"], default["polygons"]);
    let (code, _, err) = slope_json(&[&base[..], &["--cropland-codes", "0101,,0102"]].concat());
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = slope_json(&["--cropland", &gpkg, "--cropland-codes", "0101"]);
    assert_eq!(code, 1);
    assert!(err.contains("--class-field"), "{err}");
    // DLBM as an integer field, as some exports write it.
    let dir = tempfile::tempdir().unwrap();
    let int = dir.path().join("int.gpkg");
    tool(&[
        "ogr2ogr",
        int.to_str().unwrap(),
        &gpkg,
        "-sql",
        "SELECT BSM, CAST(DLBM AS INTEGER) AS DLBM, geom FROM DLTB",
        "-nln",
        "DLTB",
    ]);
    let int = int.display().to_string();
    let (code, v, err) = slope_json(&[
        "--cropland",
        &int,
        "--class-field",
        "DLBM",
        "--cropland-id-field",
        "BSM",
    ]);
    assert_eq!(code, 0, "{err}");
    let grades = |v: &Value| -> Vec<Value> {
        v["polygons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["grade"].clone())
            .collect()
    };
    assert_eq!(grades(&v), grades(&default));
}

/// Heights in feet are converted (the answer: the same DEM converted to
/// metres by gdal_translate); a DEM whose rows run north is refused; an
/// output that is a directory fails before any output is written.
#[test]
fn dem_units_orientation_and_unwritable_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    let vrt = d("dem.vrt");
    tool(&[
        "gdalbuildvrt",
        "-q",
        &vrt,
        &fx("dem/dem_25m_c0.tif"),
        &fx("dem/dem_25m_c1.tif"),
    ]);
    // Heights in feet: the fixture's numbers, labelled feet.
    let feet = d("feet.tif");
    tool(&["gdal_translate", "-q", &vrt, &feet]);
    tool(&["gdal_edit.py", "-units", "ft", &feet]);
    // The same heights in metres, converted by GDAL.
    let metres = d("metres.tif");
    tool(&[
        "gdal_translate",
        "-q",
        "-ot",
        "Float64",
        "-scale",
        "0",
        "1",
        "0",
        "0.3048",
        &vrt,
        &metres,
    ]);
    let towns = fx("towns.geojson");
    let mean = |dem: &str| -> (Vec<f64>, String) {
        let o = qingshan(&["slope", "-q", "--dem", dem, "--zones", &towns]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let m = v["zones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|z| z["mean_slope_deg"].as_f64().unwrap())
            .collect();
        (m, stderr(&o))
    };
    let (ft, warn) = mean(&feet);
    assert!(warn.contains("converted to metres (× 0.3048)"), "{warn}");
    let (m, _) = mean(&metres);
    for (a, b) in ft.iter().zip(&m) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    // Web Mercator stretches distances by 1.22 at 35°N: said out loud.
    let merc = d("merc.tif");
    tool(&[
        "gdalwarp",
        "-q",
        "-t_srs",
        "EPSG:3857",
        "-tr",
        "30",
        "30",
        &vrt,
        &merc,
    ]);
    let o = qingshan(&["slope", "-q", "--dem", &merc, "--zones", &towns]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("distances on the grid are 1.22"),
        "{}",
        stderr(&o)
    );
    let o = qingshan(&["slope", "-q", "--dem", &vrt, "--zones", &towns]);
    assert!(
        !stderr(&o).contains("distances on the grid"),
        "{}",
        stderr(&o)
    );
    // South up: rows running north.
    let south = d("south.tif");
    tool(&[
        "gdal_translate",
        "-q",
        "-a_ullr",
        "582000",
        "3890000",
        "606000",
        "3908000",
        &vrt,
        &south,
    ]);
    let o = qingshan(&["slope", "-q", "--dem", &south, "--zones", &towns]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not north up"), "{}", stderr(&o));
    // -o names a directory: refused before the slope raster is written.
    let out_dir = dir.path().join("out.json");
    std::fs::create_dir(&out_dir).unwrap();
    let raster = d("slope.tif");
    let o = qingshan(&[
        "slope",
        "-q",
        "--dem",
        &vrt,
        "--zones",
        &towns,
        "--slope-raster",
        &raster,
        "-o",
        &out_dir.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    assert!(!Path::new(&raster).exists());
}

/// A town the before date's land cover does not reach has no steep
/// cropland then: its "not increased" target cannot be verified and fails,
/// instead of counting the missing date as zero.
#[test]
fn steep_cropland_off_the_land_cover_cannot_be_verified() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fx("audit.toml")).unwrap().replace(
        "landcover/clcd_2019.vrt",
        "landcover/clcd_2019/clcd_2019_r0c0.tif",
    );
    let text = audit_config_absolute(&text);
    let cfg = dir.path().join("a.toml");
    std::fs::write(&cfg, text).unwrap();
    let out = dir.path().join("out");
    let o = qingshan(&[
        "audit",
        "--config",
        cfg.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(
        a["slope_before"]["zones"][1]["steep_cropland_m2"],
        Value::Null
    );
    // Azhuang has no land cover before; Jinsuoguan only 40 %: neither
    // can be compared with the after date's full cover.
    for town in ["azhuang", "jinsuoguan"] {
        let t = a["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"] == "steep_cropland_not_increased" && t["id"] == town)
            .unwrap();
        assert_eq!(t["passed"], false, "{town}");
        assert!(
            t["verdict"]
                .as_str()
                .unwrap()
                .contains("cannot be verified"),
            "{t}"
        );
    }
}

/// The steep-cropland Shapefile's sidecars are outputs: one that is an
/// input's file (an ASCII-grid DEM's .prj beside foo.shp) is refused and
/// left as it was.
#[test]
fn a_shapefile_sidecar_may_not_overwrite_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let asc = dir.path().join("foo.asc");
    tool(&[
        "gdal_translate",
        "-q",
        "-of",
        "AAIGrid",
        &fx("dem/dem_25m_c0.tif"),
        asc.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(dir.path().join("foo.asc.aux.xml"));
    let prj = dir.path().join("foo.prj");
    let before = std::fs::read(&prj).unwrap();
    let o = qingshan(&[
        "slope",
        "-q",
        "--dem",
        asc.to_str().unwrap(),
        "--zones",
        &fx("towns.geojson"),
        "--cropland",
        &fx("dltb.gpkg"),
        "--class-field",
        "DLBM",
        "--steep-cropland",
        dir.path().join("foo.shp").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("foo.prj") && stderr(&o).contains("input"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&prj).unwrap(), before);
    assert!(!dir.path().join("foo.shp").exists());
}

/// Land cover that is nodata over a town counts as no land cover (steep
/// cropland null, a warning), as land cover that misses it does; a real
/// (N 24.15) class field matches 0101, and 01 takes an integer field's
/// 1xx; a class field with no values is an error saying so.
#[test]
fn nodata_land_cover_and_numeric_class_fields() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    // The 2019 land cover with its eastern part (Azhuang) set to nodata.
    let west = d("west.tif");
    tool(&[
        "gdal_translate",
        "-q",
        "-projwin",
        "582000",
        "3908000",
        "592000",
        "3890000",
        &fx("landcover/clcd_2019.vrt"),
        &west,
    ]);
    // Padded back to the full extent: the east is in the raster, as nodata.
    let nd = d("east_nodata.tif");
    tool(&[
        "gdalwarp",
        "-q",
        "-te",
        "582000",
        "3890000",
        "606000",
        "3908000",
        "-tr",
        "30",
        "30",
        "-dstnodata",
        "0",
        &west,
        &nd,
    ]);
    let (code, v, err) = slope_json(&["--landcover", &nd]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("\"azhuang\"") && err.contains("nodata"),
        "{err}"
    );
    assert_eq!(steep(&v, 1), None, "{err}");
    let gpkg = fx("dltb.gpkg");
    let (_, default, _) = slope_json(&[
        "--cropland",
        &gpkg,
        "--class-field",
        "DLBM",
        "--cropland-id-field",
        "BSM",
    ]);
    let grades = |v: &Value| -> Vec<Value> {
        v["polygons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["grade"].clone())
            .collect()
    };
    for (name, cast) in [("real.gpkg", "REAL"), ("int.gpkg", "INTEGER")] {
        let out = d(name);
        tool(&[
            "ogr2ogr",
            &out,
            &gpkg,
            "-nln",
            "DLTB",
            "-sql",
            &format!("SELECT BSM, CAST(DLBM AS {cast}) AS DLBM, geom FROM DLTB"),
        ]);
        for codes in [None, Some("01")] {
            let mut args = vec![
                "--cropland",
                out.as_str(),
                "--class-field",
                "DLBM",
                "--cropland-id-field",
                "BSM",
            ];
            if let Some(c) = codes {
                args.extend(["--cropland-codes", c]);
            }
            let (code, v, err) = slope_json(&args);
            assert_eq!(code, 0, "{name} {codes:?}: {err}");
            assert_eq!(grades(&v), grades(&default), "{name} {codes:?}");
        }
    }
    let nulls = d("nulls.gpkg");
    tool(&[
        "ogr2ogr",
        &nulls,
        &gpkg,
        "-nln",
        "DLTB",
        "-sql",
        "SELECT BSM, NULL AS DLBM, geom FROM DLTB",
    ]);
    let (code, _, err) = slope_json(&["--cropland", &nulls, "--class-field", "DLBM"]);
    assert_eq!(code, 1);
    assert!(err.contains("has a DLBM value"), "{err}");
}

/// The steep-cropland GeoPackage is the same bytes run after run (its
/// `last_change` date is fixed); a Shapefile output removes the stale
/// spatial indexes an earlier write left (.qix, .sbn, .sbx).
#[test]
fn steep_outputs_are_reproducible_and_leave_no_stale_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = fx("dltb.gpkg");
    let write = |out: &Path| {
        let o = qingshan(&[
            "slope",
            "-q",
            "--dem",
            &fx("dem"),
            "--zones",
            &fx("towns.geojson"),
            "--cropland",
            &gpkg,
            "--class-field",
            "DLBM",
            "--steep-cropland",
            out.to_str().unwrap(),
            "-o",
            dir.path().join("q.json").to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let (a, b) = (dir.path().join("a.gpkg"), dir.path().join("b.gpkg"));
    write(&a);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(&b);
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "the GeoPackages differ"
    );
    let shp = dir.path().join("s.shp");
    for ext in ["qix", "sbn", "sbx"] {
        std::fs::write(shp.with_extension(ext), b"stale").unwrap();
    }
    write(&shp);
    for ext in ["qix", "sbn", "sbx"] {
        assert!(!shp.with_extension(ext).exists(), "{ext} left");
    }
    assert!(shp.with_extension("dbf").exists());
}
