//! `qingshan slope` and the audit's terrain as a user meets them: the
//! steep-cropland targets, outputs that must not overwrite inputs, inputs
//! that do not fit (another CRS, feet, a missing class field), and the
//! Shapefile written in GBK.

mod support;

use serde_json::Value;
use support::{fx, qingshan, repo, stderr};

/// The steep-cropland targets: the total is the sum of the towns' steep
/// cropland (from the slope result) in mu; swapping the dates turns a
/// decrease into an increase that misses the target; a target without
/// `[terrain]` is a config error.
#[test]
fn steep_cropland_targets_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = repo().join("fixtures");
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
    let abs = swapped
        .replace(
            "\"landcover/",
            &format!("\"{}/landcover/", fixtures.display()),
        )
        .replace(
            "\"towns.geojson\"",
            &format!("\"{}/towns.geojson\"", fixtures.display()),
        )
        .replace(
            "\"redlines_",
            &format!("\"{}/redlines_", fixtures.display()),
        )
        .replace("\"dem\"", &format!("\"{}/dem\"", fixtures.display()))
        .replace(
            "\"dltb.gpkg\"",
            &format!("\"{}/dltb.gpkg\"", fixtures.display()),
        );
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
