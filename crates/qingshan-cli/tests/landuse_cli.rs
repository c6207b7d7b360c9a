//! The land-use commands end to end: `redline check` from two survey
//! versions agrees with the `change` matrices of the same red lines, the
//! GBK Shapefile reads like the GeoPackage, and bad input is refused with
//! the file named.

mod support;

use support::{assert_user_error, fx, json_out, qingshan, stderr};

#[test]
fn redline_check_from_survey_versions_flags_what_the_change_matrix_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (fx("landuse/dltb_2019.gpkg"), fx("landuse/dltb_2024.gpkg"));
    let red = fx("redlines_2019.geojson");
    let common = [
        "--before-landuse",
        &a,
        "--after-landuse",
        &b,
        "--class-field",
        "DLBM",
        "--id-field",
        "hx_id",
    ];
    let mut args = vec!["change", "-q", "--zones", &red];
    args.extend(common);
    let change = json_out(&args);
    let patches = dir.path().join("p.csv");
    let patches_s = patches.display().to_string();
    let out = dir.path().join("c.json");
    let out_s = out.display().to_string();
    let mut args = vec![
        "redline",
        "check",
        "-q",
        "--redlines",
        &red,
        "--patches",
        &patches_s,
        "-o",
        &out_s,
    ];
    args.extend(common);
    let o = qingshan(&args);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let check: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let survey = qingshan::legend::Legend::builtin("sandiao").unwrap();
    let code = |s: &str| qingshan::legend::ClassCode::parse(s).unwrap();
    let list = std::fs::read_to_string(&patches).unwrap();
    let mut failed = 0;
    for (z, c) in change["zones"]
        .as_array()
        .unwrap()
        .iter()
        .zip(check["polygons"].as_array().unwrap())
    {
        assert_eq!(z["id"], c["id"]);
        let mut converted = 0.0;
        for (from, row) in z["transitions"].as_object().unwrap() {
            for (to, a) in row.as_object().unwrap() {
                if survey.is_natural(code(from)) && survey.is_artificial(code(to)) {
                    converted += a.as_f64().unwrap();
                }
            }
        }
        let got = c["conversion_m2"].as_f64().unwrap();
        assert!(
            (got - converted).abs() <= 1e-9 * converted.max(1.0),
            "{}: {got} vs {converted}",
            z["id"]
        );
        // The patches list holds exactly those pieces.
        let id = z["id"].as_str().unwrap();
        let listed: f64 = list
            .lines()
            .skip(1)
            .filter(|l| l.starts_with(&format!("{id},")))
            .map(|l| l.split(',').nth(7).unwrap().parse::<f64>().unwrap())
            .sum();
        assert!(
            (listed - converted).abs() <= 1e-6 * converted.max(1.0),
            "{id}: {listed} vs {converted}"
        );
        failed += usize::from(converted > 0.0);
    }
    assert!(
        failed >= 2,
        "the fixtures convert land in several red lines"
    );
}

#[test]
fn the_gbk_shapefile_reads_like_the_geopackage() {
    let towns = fx("towns.geojson");
    let run = |lu: &str| {
        json_out(&[
            "stats",
            "-q",
            "--landuse",
            &fx(lu),
            "--class-field",
            "DLMC",
            "--zones",
            &towns,
        ])
    };
    // Classes by their Chinese names: the Shapefile's GBK text decoded via its .cpg.
    let (gpkg, shp) = (
        run("landuse/dltb_2019.gpkg"),
        run("landuse/dltb_2019_gbk.shp"),
    );
    for (g, s) in gpkg["zones"]
        .as_array()
        .unwrap()
        .iter()
        .zip(shp["zones"].as_array().unwrap())
    {
        let (g, s) = (
            g["classes"].as_object().unwrap(),
            s["classes"].as_object().unwrap(),
        );
        assert!(g.contains_key("乔木林地"), "{g:?}");
        assert_eq!(g.keys().collect::<Vec<_>>(), s.keys().collect::<Vec<_>>());
        for (k, v) in g {
            let (a, b) = (v.as_f64().unwrap(), s[k].as_f64().unwrap());
            assert!((a - b).abs() <= 1e-9 * a, "{k}: {a} vs {b}");
        }
    }
}

#[test]
fn land_use_mistakes_are_refused_with_the_file_named() {
    let (lu, towns) = (fx("landuse/dltb_2019.gpkg"), fx("towns.geojson"));
    let o = qingshan(&["stats", "--landuse", &lu, "--zones", &towns]);
    assert_user_error(&o, &["--class-field", "DLBM"]);
    let o = qingshan(&[
        "stats",
        "--landuse",
        &lu,
        "--class-field",
        "DLBMX",
        "--zones",
        &towns,
    ]);
    assert_user_error(&o, &["dltb_2019.gpkg", "no field \"DLBMX\"", "DLBM"]);
    let o = qingshan(&[
        "stats",
        "--landuse",
        &lu,
        "--class-field",
        "DLBM",
        "--area-field",
        "DLMC",
        "--zones",
        &towns,
    ]);
    assert_user_error(&o, &["dltb_2019.gpkg", "not numeric"]);
    // An output onto the input is refused before anything is written.
    let o = qingshan(&[
        "stats",
        "--landuse",
        &lu,
        "--class-field",
        "DLBM",
        "--zones",
        &towns,
        "-o",
        &lu,
    ]);
    assert_user_error(&o, &["--landuse"]);
    // Raster and polygons at once is a usage error.
    let o = qingshan(&[
        "stats",
        "--landuse",
        &lu,
        "--landcover",
        &fx("landcover/clcd_2019.vrt"),
        "--class-field",
        "DLBM",
        "--zones",
        &towns,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn an_audit_with_landuse_refuses_raster_forest_land_classes() {
    let dir = tempfile::tempdir().unwrap();
    let text = support::audit_config_absolute(&std::fs::read_to_string(fx("audit.toml")).unwrap())
        .replace("[targets]\n", "[targets]\nforest_land_classes = [2]\n");
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
    assert_user_error(&o, &["a.toml", "forest_land_classes", "[landuse]"]);
    assert!(!out.exists());
}

#[test]
fn land_use_outputs_are_the_same_bytes_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, towns) = (
        fx("landuse/dltb_2019_dirty.gpkg"),
        fx("landuse/dltb_2024.gpkg"),
        fx("towns.geojson"),
    );
    let mut seen: Vec<Vec<Vec<u8>>> = Vec::new();
    for threads in ["1", "2", "3"] {
        let p = |n: &str| {
            dir.path()
                .join(format!("{threads}_{n}"))
                .display()
                .to_string()
        };
        let (s, c, l) = (p("s.json"), p("c.json"), p("l.csv"));
        let o = qingshan(&[
            "stats",
            "-q",
            "--landuse",
            &a,
            "--class-field",
            "DLBM",
            "--zones",
            &towns,
            "--threads",
            threads,
            "-o",
            &s,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
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
            "--threads",
            threads,
            "--change-list",
            &l,
            "-o",
            &c,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        seen.push(
            [s, c, l]
                .iter()
                .map(|f| std::fs::read(f).unwrap())
                .collect(),
        );
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_survey_redelivered_in_lon_lat_is_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let a = fx("landuse/dltb_2019.gpkg");
    let ll = dir.path().join("dltb_4490.gpkg");
    support::tool(&["ogr2ogr", "-t_srs", "EPSG:4490", ll.to_str().unwrap(), &a]);
    let (red, list) = (fx("redlines_2019.geojson"), dir.path().join("l.csv"));
    let o = qingshan(&[
        "change",
        "-q",
        "--before-landuse",
        &a,
        "--after-landuse",
        ll.to_str().unwrap(),
        "--class-field",
        "DLBM",
        "--zones",
        &fx("towns.geojson"),
        "--change-list",
        list.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&list).unwrap().lines().count(),
        1,
        "only the header"
    );
    assert!(
        stderr(&o).contains("reprojected") && stderr(&o).contains("boundary noise"),
        "{}",
        stderr(&o)
    );
    let o = qingshan(&[
        "redline",
        "check",
        "-q",
        "--redlines",
        &red,
        "--id-field",
        "hx_id",
        "--before-landuse",
        &a,
        "--after-landuse",
        ll.to_str().unwrap(),
        "--class-field",
        "DLBM",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn patches_never_overwrite_an_input_or_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.gpkg");
    std::fs::copy(fx("landuse/dltb_2019.gpkg"), &a).unwrap();
    let before = std::fs::read(&a).unwrap();
    let (a_s, b) = (a.display().to_string(), fx("landuse/dltb_2024.gpkg"));
    let red = fx("redlines_2019.geojson");
    let common = [
        "redline",
        "check",
        "-q",
        "--redlines",
        &red,
        "--before-landuse",
        &a_s,
        "--after-landuse",
        &b,
        "--class-field",
        "DLBM",
    ];
    let mut args = common.to_vec();
    args.extend(["--patches", &a_s]);
    assert_user_error(&qingshan(&args), &["a.gpkg", "input of this run"]);
    assert_eq!(std::fs::read(&a).unwrap(), before);
    let p = dir.path().join("p.json").display().to_string();
    let mut args = common.to_vec();
    args.extend(["--patches", &p, "-o", &p]);
    assert_user_error(&qingshan(&args), &["p.json"]);
}

#[test]
fn shapefile_outputs_keep_their_sidecars_to_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, towns) = (
        fx("landuse/dltb_2019.gpkg"),
        fx("landuse/dltb_2024.gpkg"),
        fx("towns.geojson"),
    );
    let p = |n: &str| dir.path().join(n).display().to_string();
    let run = |list: &str, out: &str| {
        qingshan(&[
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
            list,
            "-o",
            out,
        ])
    };
    assert_user_error(&run(&p("l.shp"), &p("l.dbf")), &["l.dbf", "same file"]);
    std::fs::write(p("u.SHP"), "precious").unwrap();
    assert_user_error(
        &run(&p("u.SHP"), &p("o.json")),
        &["u.SHP", "lowercase .shp"],
    );
    assert_eq!(std::fs::read_to_string(p("u.SHP")).unwrap(), "precious");
}
