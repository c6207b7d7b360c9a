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

/// An NDVI of 2024 that covers only a corner: the red lines it barely
/// sees cannot be verified, and fail as such.
#[test]
fn a_red_line_the_index_barely_sees_cannot_be_verified() {
    let dir = tempfile::tempdir().unwrap();
    let corner = dir.path().join("ndvi_corner.tif");
    tool(&[
        "gdal_translate",
        "-q",
        "-srcwin",
        "0",
        "0",
        "200",
        "150",
        &fx("ndvi/ndvi_2024.tif"),
        corner.to_str().unwrap(),
    ]);
    let config = fixtures_config().replace(
        &format!("after = [\"{}\"]", fx("ndvi/ndvi_2024.tif")),
        &format!("after = [\"{}\"]", corner.display()),
    );
    assert!(config.contains("ndvi_corner.tif"));
    let a = run_audit(&config, dir.path());
    let index = targets(&a, "redline_index_not_lowered");
    let unverified: Vec<&&Value> = index
        .iter()
        .filter(|t| {
            t["verdict"]
                .as_str()
                .unwrap()
                .contains("cannot be verified")
        })
        .collect();
    assert!(!unverified.is_empty());
    assert!(unverified.iter().all(|t| t["passed"] == false));
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
