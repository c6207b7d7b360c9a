//! `qingshan series` as a user runs it: six years of land cover and two
//! of NDVI in one run, the long CSV, the charts (SVG that parses, PNG of
//! the chart's size), and dated arguments refused when malformed.

mod support;

use support::{assert_user_error, fx, json_out, qingshan, stderr};

fn landcover_args() -> Vec<String> {
    let mut v = vec!["--landcover".to_string()];
    v.push(format!("2019={}", fx("landcover/clcd_2019.vrt")));
    for y in 2020..=2023 {
        v.push(format!(
            "{y}={}",
            fx(&format!("landcover/series/clcd_{y}.tif"))
        ));
    }
    v.push(format!("2024={}", fx("landcover/clcd_2024.vrt")));
    v
}

fn ndvi_args() -> Vec<String> {
    vec![
        "--raster".into(),
        format!("2019={}", fx("ndvi/ndvi_2019.tif")),
        format!("2024={}", fx("ndvi/ndvi_2024.tif")),
        "--raster-name".into(),
        "NDVI".into(),
    ]
}

#[test]
fn six_years_of_forest_cover_and_ndvi_with_charts() {
    let dir = tempfile::tempdir().unwrap();
    let charts = dir.path().join("charts");
    let mut args: Vec<String> = ["series", "-q", "--zones", &fx("towns.geojson")]
        .map(String::from)
        .to_vec();
    args.extend(landcover_args());
    args.extend(ndvi_args());
    args.extend(["--stats".into(), "mean,median".into()]);
    let doc = json_out(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(doc["schema"], "qingshan.series/1");
    assert_eq!(
        doc["dates"],
        serde_json::json!(["2019", "2020", "2021", "2022", "2023", "2024"])
    );
    // The 2019 and 2024 forest covers equal `qingshan stats` of those years.
    for (year, vrt) in [
        ("2019", "landcover/clcd_2019.vrt"),
        ("2024", "landcover/clcd_2024.vrt"),
    ] {
        let stats = json_out(&[
            "stats",
            "-q",
            "--landcover",
            &fx(vrt),
            "--zones",
            &fx("towns.geojson"),
        ]);
        for k in 0..2 {
            assert_eq!(
                doc["zones"][k]["landcover"][year]["forest_cover"],
                stats["zones"][k]["forest_cover"],
                "{year}"
            );
        }
    }
    assert!(doc["zones"][0]["values"]["2024"]["stats"]["median"].is_number());

    // CSV (long) and the charts.
    let csv = dir.path().join("s.csv");
    args.extend([
        "--charts".into(),
        charts.display().to_string(),
        "--target-cover".into(),
        "0.47".into(),
        "-o".into(),
        csv.display().to_string(),
    ]);
    let o = qingshan(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "zone_id,zone_name,date,source,metric,value"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter()
            .any(|r| r.starts_with("azhuang,阿庄镇,2022,landcover,forest_cover,0."))
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("jinsuoguan,金锁关镇,2024,values,median,0."))
    );
    for stem in ["forest_cover", "ndvi_mean", "ndvi_median"] {
        let svg = std::fs::read_to_string(charts.join(format!("{stem}.svg"))).unwrap();
        let tree = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(tree.root_element().tag_name().name(), "svg");
        assert!(svg.contains("金锁关镇") && svg.contains("阿庄镇"), "{stem}");
        let png = std::fs::read(charts.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
    let fc = std::fs::read_to_string(charts.join("forest_cover.svg")).unwrap();
    assert!(fc.contains("target 47 %") && fc.contains(">\n2022\n<"));
}

#[test]
fn malformed_dates_targets_and_outputs_are_refused_plainly() {
    let towns = fx("towns.geojson");
    let o = qingshan(&[
        "series",
        "--zones",
        &towns,
        "--landcover",
        &fx("landcover/clcd_2019.vrt"),
    ]);
    assert_user_error(&o, &["DATE=PATH"]);
    let o = qingshan(&["series", "--zones", &towns]);
    assert_user_error(&o, &["no date to measure"]);
    let lc = format!("2019={}", fx("landcover/clcd_2019.vrt"));
    let o = qingshan(&[
        "series",
        "--zones",
        &towns,
        "--landcover",
        &lc,
        "--target-cover",
        "47",
    ]);
    assert_user_error(&o, &["--target-cover", "0.47"]);
    let o = qingshan(&[
        "series",
        "--zones",
        &towns,
        "--landcover",
        &lc,
        "--target-cover",
        "0.47",
    ]);
    assert_user_error(&o, &["--target-cover", "--charts"]);
    let twice = [lc.as_str(), lc.as_str()];
    let o = qingshan(
        &[
            &["series", "--zones", &towns, "--landcover"][..],
            &twice[..],
        ]
        .concat(),
    );
    assert_user_error(&o, &["\"2019\" is given twice"]);
    let o = qingshan(&[
        "series",
        "--zones",
        &towns,
        "--landcover",
        &lc,
        "-o",
        &towns,
    ]);
    assert_user_error(&o, &["towns.geojson", "--zones"]);
}

/// The table shows every statistic at every date; land cover of a date on
/// another grid is warned (forest cover moves with the resolution).
#[test]
fn the_table_shows_every_statistic_and_other_grids_are_warned() {
    let dir = tempfile::tempdir().unwrap();
    let coarse = dir.path().join("clcd_2024_60m.tif");
    support::tool(&[
        "gdalwarp",
        "-q",
        "-tr",
        "60",
        "60",
        "-r",
        "mode",
        &fx("landcover/clcd_2024.vrt"),
        coarse.to_str().unwrap(),
    ]);
    let o = qingshan(&[
        "series",
        "-q",
        "--zones",
        &fx("towns.geojson"),
        "--format",
        "table",
        "--landcover",
        &format!("2019={}", fx("landcover/clcd_2019.vrt")),
        &format!("2024={}", coarse.display()),
        "--raster",
        &format!("2019={}", fx("ndvi/ndvi_2019.tif")),
        &format!("2024={}", fx("ndvi/ndvi_2024.tif")),
        "--stats",
        "min,max,mean",
        "--raster-name",
        "NDVI",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8(o.stdout.clone()).unwrap();
    for s in ["min", "max", "mean"] {
        for y in [2019, 2024] {
            assert!(table.contains(&format!("NDVI {s} {y}")), "{table}");
        }
    }
    assert!(
        stderr(&o).contains("is not on the grid of 2019"),
        "{}",
        stderr(&o)
    );
}
