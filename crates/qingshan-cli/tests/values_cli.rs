//! `qingshan values` as a user runs it: every output format from one run,
//! statistics in the order asked, bad statistics and scales refused with
//! the flag named, and an output that would overwrite an input refused.

mod support;

use support::{assert_user_error, fx, json_out, qingshan, stderr};

fn ndvi() -> String {
    fx("ndvi/ndvi_2024.tif")
}

#[test]
fn json_csv_geojson_and_table_carry_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "values",
        "-q",
        "--raster",
        &ndvi(),
        "--zones",
        &fx("redlines_2019.geojson"),
        "--id-field",
        "hx_id",
        "--stats",
        "median,mean,q90",
    ];
    let doc = json_out(&base);
    assert_eq!(doc["schema"], "qingshan.values/1");
    assert_eq!(doc["stats"], serde_json::json!(["median", "mean", "q90"]));
    let zones = doc["zones"].as_array().unwrap();
    assert_eq!(zones.len(), 7);
    let z = &zones[0];
    assert_eq!(z["id"], "HX-JSG-01");
    // Order as asked, in each zone's object too (the raw text: a parsed
    // map would sort its keys).
    let raw = String::from_utf8(qingshan(&base).stdout).unwrap();
    let first = &raw[raw.find("\"stats\": {").unwrap()..];
    let (a, b, c) = (
        first.find("\"median\"").unwrap(),
        first.find("\"mean\"").unwrap(),
        first.find("\"q90\"").unwrap(),
    );
    assert!(a < b && b < c, "{first}");
    let (median, mean, q90) = (
        z["stats"]["median"].as_f64().unwrap(),
        z["stats"]["mean"].as_f64().unwrap(),
        z["stats"]["q90"].as_f64().unwrap(),
    );
    // NDVI: scaled by the file's 0.0001.
    assert!(
        (-0.2..=1.0).contains(&mean) && median <= q90,
        "{mean} {median} {q90}"
    );
    for (fmt, ext) in [("csv", "csv"), ("geojson", "geojson"), ("table", "txt")] {
        let out = dir.path().join(format!("v.{ext}"));
        let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        args.extend([
            "--format".into(),
            fmt.into(),
            "-o".into(),
            out.display().to_string(),
        ]);
        let o = qingshan(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        match fmt {
            "csv" => {
                let mut lines = text.lines();
                assert_eq!(
                    lines.next().unwrap(),
                    "zone_id,zone_name,zone_area_m2,valid_area_m2,nodata_area_m2,valid_share,median,mean,q90"
                );
                let row: Vec<&str> = lines.next().unwrap().split(',').collect();
                assert_eq!(row[0], "HX-JSG-01");
                assert_eq!(row[6].parse::<f64>().unwrap(), median);
                assert_eq!(row[7].parse::<f64>().unwrap(), mean);
            }
            "geojson" => {
                let g: serde_json::Value = serde_json::from_str(&text).unwrap();
                let p = &g["features"][0]["properties"];
                assert_eq!(p["zone_id"], "HX-JSG-01");
                assert_eq!(p["mean"].as_f64().unwrap(), mean);
                assert!(g["features"][0]["geometry"]["coordinates"].is_array());
            }
            _ => assert!(
                text.contains("HX-JSG-01") && text.contains(&format!("{mean:.4}")),
                "{text}"
            ),
        }
    }
}

#[test]
fn raw_and_given_scales_change_the_values_as_asked() {
    let mean = |scale: &str| {
        let doc = json_out(&[
            "values",
            "-q",
            "--raster",
            &ndvi(),
            "--zones",
            &fx("towns.geojson"),
            "--stats",
            "mean",
            "--scale-offset",
            scale,
        ]);
        doc["zones"][0]["stats"]["mean"].as_f64().unwrap()
    };
    let (file, raw, given) = (mean("file"), mean("none"), mean("0.001,1"));
    assert!((raw * 1e-4 - file).abs() < 1e-12, "{raw} {file}");
    assert!((raw * 1e-3 + 1.0 - given).abs() < 1e-12, "{raw} {given}");
}

#[test]
fn bad_statistics_scales_and_outputs_are_refused_plainly() {
    let o = qingshan(&[
        "values",
        "--raster",
        &ndvi(),
        "--zones",
        &fx("towns.geojson"),
        "--stats",
        "mean,mode",
    ]);
    assert_user_error(&o, &["\"mode\"", "q10"]);
    let o = qingshan(&[
        "values",
        "--raster",
        &ndvi(),
        "--zones",
        &fx("towns.geojson"),
        "--scale-offset",
        "0,1",
    ]);
    assert_user_error(&o, &["--scale-offset", "non-zero"]);
    let o = qingshan(&[
        "values",
        "--raster",
        &ndvi(),
        "--zones",
        &fx("towns.geojson"),
        "-o",
        &ndvi(),
    ]);
    assert_user_error(&o, &["ndvi_2024.tif", "--raster"]);
    let o = qingshan(&[
        "values",
        "--raster",
        &fx("no_such.tif"),
        "--zones",
        &fx("towns.geojson"),
    ]);
    assert_user_error(&o, &["no_such.tif"]);
}
