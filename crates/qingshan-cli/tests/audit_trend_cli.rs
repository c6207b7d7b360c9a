//! The audit's index and trend targets as a user meets them: the NDVI
//! change inside each baseline red line equals `qingshan values` of the two
//! dates subtracted, the trend equals the smallest step of `qingshan
//! series`, a red line the index barely sees cannot be verified, and
//! configs that ask for these targets without their inputs are refused.

mod support;

use serde_json::Value;
use support::{assert_user_error, audit_config_absolute, fx, json_out, qingshan, stderr, tool};

fn run_audit(config: &str, dir: &std::path::Path) -> Value {
    let path = dir.join("audit.toml");
    std::fs::write(&path, config).unwrap();
    let out = dir.join("out");
    let o = qingshan(&[
        "audit",
        "-q",
        "--config",
        path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        matches!(o.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&o)
    );
    serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).unwrap()).unwrap()
}

/// `src` cut to the window `col row width height` (gdal_translate -srcwin).
fn cut(src: &str, window: [&str; 4], out: &std::path::Path) {
    let mut args = vec!["gdal_translate", "-q", "-srcwin"];
    args.extend(window);
    args.extend([src, out.to_str().unwrap()]);
    tool(&args);
}

/// Whether a target's verdict says it could not be verified.
fn unverified(t: &Value) -> bool {
    t["verdict"]
        .as_str()
        .unwrap()
        .contains("cannot be verified")
}

fn fixtures_config() -> String {
    audit_config_absolute(&std::fs::read_to_string(fx("audit.toml")).unwrap())
}

fn targets<'a>(a: &'a Value, name: &str) -> Vec<&'a Value> {
    a["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["target"] == name)
        .collect()
}

#[test]
fn index_and_trend_targets_equal_values_and_series() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_audit(&fixtures_config(), dir.path());
    // NDVI mean inside each baseline red line, per date, by `values`.
    let mean = |year: u16| {
        json_out(&[
            "values",
            "-q",
            "--raster",
            &fx(&format!("ndvi/ndvi_{year}.tif")),
            "--zones",
            &fx("redlines_2019.geojson"),
            "--id-field",
            "hx_id",
            "--stats",
            "mean",
        ])
    };
    let (before, after) = (mean(2019), mean(2024));
    let index = targets(&a, "redline_index_not_lowered");
    assert_eq!(index.len(), 7);
    let mut missed = Vec::new();
    for (k, t) in index.iter().enumerate() {
        let b = before["zones"][k]["stats"]["mean"].as_f64().unwrap();
        let af = after["zones"][k]["stats"]["mean"].as_f64().unwrap();
        assert_eq!(t["id"], before["zones"][k]["id"]);
        assert_eq!(t["measured"].as_f64().unwrap(), af - b, "{}", t["id"]);
        assert_eq!(t["passed"], af - b >= -0.01);
        if t["passed"] == false {
            missed.push(t["id"].as_str().unwrap().to_string());
        }
    }
    // The mine in HX-JSG-02 and the town in HX-AZ-03 lowered their NDVI.
    assert_eq!(missed, ["HX-JSG-02", "HX-AZ-03"]);
    // Forest cover per year by `series`; the smallest step of the last 3.
    let l = |p: &str| fx(&format!("landcover/{p}"));
    let mut args: Vec<String> = [
        "series",
        "-q",
        "--zones",
        &fx("towns.geojson"),
        "--landcover",
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("2019={}", l("clcd_2019.vrt")));
    for y in 2020..=2023 {
        args.push(format!("{y}={}", l(&format!("series/clcd_{y}.tif"))));
    }
    args.push(format!("2024={}", l("clcd_2024.vrt")));
    let s = json_out(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let trend = targets(&a, "forest_cover_trend");
    assert_eq!(trend.len(), 2);
    for (k, t) in trend.iter().enumerate() {
        let cover = |y: u16| {
            s["zones"][k]["landcover"][y.to_string()]["forest_cover"]
                .as_f64()
                .unwrap()
        };
        let smallest = [(2022, 2023), (2023, 2024)]
            .iter()
            .map(|&(x, y)| cover(y) - cover(x))
            .fold(f64::INFINITY, f64::min);
        assert_eq!(t["measured"].as_f64().unwrap(), smallest, "{}", t["id"]);
        assert_eq!(t["passed"], smallest >= 0.0);
    }
    assert_eq!(trend[1]["id"], "azhuang");
    assert_eq!(trend[1]["passed"], false);
    // The report draws both charts and tags the new numbers.
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains(r#"data-k="series.zones.1.landcover.2022.forest_cover""#));
    assert!(html.contains(r#"data-k="index.after.zones.1.stats.mean""#));
    assert!(!html.contains("http://"));
}

/// An NDVI of 2024 cut to its western columns: red lines it sees on less
/// than half of their area cannot be verified — HX-JSG-02, whose NDVI
/// fell, would pass on the part left (+0.03) — and fail as such.
#[test]
fn a_red_line_the_index_sees_in_part_cannot_be_verified() {
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("ndvi_part.tif");
    cut(&fx("ndvi/ndvi_2024.tif"), ["0", "0", "215", "600"], &part);
    let config = fixtures_config().replace(
        &format!("after = [\"{}\"]", fx("ndvi/ndvi_2024.tif")),
        &format!("after = [\"{}\"]", part.display()),
    );
    assert!(config.contains("ndvi_part.tif"));
    let a = run_audit(&config, dir.path());
    let index = targets(&a, "redline_index_not_lowered");
    let jsg2 = index.iter().find(|t| t["id"] == "HX-JSG-02").unwrap();
    assert_eq!(jsg2["passed"], false);
    assert!(unverified(jsg2), "{}", jsg2["verdict"]);
    // Red lines wholly on the cut raster are still judged.
    assert!(index.iter().any(|t| !unverified(t)));
}

/// The 2023 land cover cut to its northern rows: the trend's steps into
/// and out of 2023 are not over the same land, so no town is judged on
/// them — a spurious fall of several points must not decide the verdict.
#[test]
fn a_trend_over_land_covered_differently_cannot_be_verified() {
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("clcd_2023_part.tif");
    cut(
        &fx("landcover/series/clcd_2023.tif"),
        ["0", "0", "800", "250"],
        &part,
    );
    let config = fixtures_config().replace(
        &fx("landcover/series/clcd_2023.tif"),
        &part.display().to_string(),
    );
    assert!(config.contains("clcd_2023_part.tif"));
    let a = run_audit(&config, dir.path());
    for t in targets(&a, "forest_cover_trend") {
        assert_eq!(t["passed"], false);
        assert!(unverified(t), "{}", t["verdict"]);
    }
}

/// The audit's outputs never land on its [index] or [series] inputs.
#[test]
fn outputs_onto_index_or_series_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let victim = out.join("landcover.png");
    std::fs::copy(fx("ndvi/ndvi_2024.tif"), &victim).unwrap();
    let before = std::fs::read(&victim).unwrap();
    for (what, config) in [
        (
            "index.after",
            fixtures_config().replace(
                &format!("after = [\"{}\"]", fx("ndvi/ndvi_2024.tif")),
                &format!("after = [\"{}\"]", victim.display()),
            ),
        ),
        (
            "series.landcover.2023",
            fixtures_config().replace(
                &fx("landcover/series/clcd_2023.tif"),
                &victim.display().to_string(),
            ),
        ),
    ] {
        let path = dir.path().join("c.toml");
        std::fs::write(&path, &config).unwrap();
        let o = qingshan(&[
            "audit",
            "-q",
            "--config",
            path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_user_error(&o, &["landcover.png", what]);
        assert_eq!(std::fs::read(&victim).unwrap(), before);
    }
}

/// An index that cannot be compared between its dates is refused: a class
/// raster, or dates scaled differently.
#[test]
fn an_index_that_cannot_be_compared_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let unscaled = dir.path().join("ndvi_2024_unscaled.tif");
    tool(&[
        "gdal_translate",
        "-q",
        "-a_scale",
        "1",
        &fx("ndvi/ndvi_2024.tif"),
        unscaled.to_str().unwrap(),
    ]);
    let ndvi24 = format!("after = [\"{}\"]", fx("ndvi/ndvi_2024.tif"));
    let cases = [
        (
            fixtures_config().replace(&ndvi24, &format!("after = [\"{}\"]", unscaled.display())),
            "scale their numbers differently",
        ),
        (
            fixtures_config().replace(
                &ndvi24,
                &format!("after = [\"{}\"]", fx("landcover/series/clcd_2021.tif")),
            ),
            "colour table",
        ),
    ];
    for (k, (config, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{k}.toml"));
        std::fs::write(&path, config).unwrap();
        let o = qingshan(&[
            "audit",
            "-q",
            "--config",
            path.to_str().unwrap(),
            "-o",
            dir.path().join("o").to_str().unwrap(),
        ]);
        assert_user_error(&o, &[needle]);
    }
}

#[test]
fn targets_without_their_inputs_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixtures_config();
    let cut = |from: &str, to: &str| {
        let (i, j) = (base.find(from).unwrap(), base.find(to).unwrap());
        format!("{}{}", &base[..i], &base[j..])
    };
    let cases: Vec<(String, &str)> = vec![
        (cut("[index]", "# The yearly land cover"), "[index]"),
        (cut("[series.landcover]", "[targets]"), "[series]"),
        (
            base.replace(
                "forest_cover_trend_dates = 3",
                "forest_cover_trend_dates = 7",
            ),
            "2 to 6",
        ),
        (
            base.replace("stat = \"mean\"", "stat = \"mode\""),
            "index.stat",
        ),
        (
            base.replace("stat = \"mean\"", "stat = \"mean\"\nscale_offset = \"0,1\""),
            "index.scale_offset",
        ),
        (
            base.replace("stat = \"mean\"", "stat = \"count\""),
            "count and sum",
        ),
        (
            base.replace("redline_index_not_lowered = true\n", ""),
            "redline_index_tolerance applies",
        ),
    ];
    for (k, (text, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{k}.toml"));
        std::fs::write(&path, text).unwrap();
        let o = qingshan(&[
            "audit",
            "-q",
            "--config",
            path.to_str().unwrap(),
            "-o",
            dir.path().join("o").to_str().unwrap(),
        ]);
        assert_user_error(&o, &[&format!("bad{k}.toml"), needle]);
    }
}
