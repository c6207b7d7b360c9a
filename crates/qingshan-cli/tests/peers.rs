//! Agreement with independent implementations on the bundled fixtures:
//! exactextract (projected tiles) and a shapely + pyproj.Geod ellipsoidal
//! reference (lon/lat raster, zones in EPSG:4545). The Python packages are
//! installed by `.ci/setup --peers`; without them these tests fail, they do
//! not skip.

mod support;

use std::path::Path;
use std::process::Command;
use support::{fx, qingshan, repo, stderr};

fn stats(raster: &str, zones: &str, extra: &[&str], out: &Path) {
    let r = repo();
    let mut args = vec![
        "stats".to_string(),
        "--landcover".into(),
        r.join(raster).display().to_string(),
        "--zones".into(),
        r.join(zones).display().to_string(),
        "-q".into(),
        // exactextract measures planar areas (the lon/lat reference is
        // ellipsoidal, which both modes are on a geographic raster).
        "--area".into(),
        "planar".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = qingshan_to(&args, out);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Runs `qingshan args -o out`.
fn qingshan_to(args: &[String], out: &Path) -> std::process::Output {
    let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    all.extend(["-o".into(), out.as_os_str().to_owned()]);
    qingshan(&all)
}

/// Runs a peer script on a fixture raster and zone layer against the
/// qingshan output `q`; returns (exit code, output).
fn peer(script: &str, raster: &str, zones: &str, extra: &[&str], q: &Path) -> (i32, String) {
    let r = repo();
    let mut args = vec![
        "--raster".to_string(),
        r.join(raster).display().to_string(),
        "--zones".to_string(),
        r.join(zones).display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--qingshan".to_string(), q.display().to_string()]);
    peer_args(script, &args)
}

/// Runs a peer script with arbitrary arguments; returns (exit code, output).
fn peer_args(script: &str, args: &[String]) -> (i32, String) {
    let o = Command::new("python3")
        .arg(repo().join("benches/peers").join(script))
        .args(args)
        .output()
        .expect("python3 is needed for the peer checks (bash .ci/setup --peers)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

fn run_qingshan(args: &[String], out: &Path) {
    let o = qingshan_to(args, out);
    // 3 = a red-line check failed, which the fixtures make happen on purpose.
    assert!(
        matches!(o.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&o)
    );
}

/// Multiplies one class area of the first zone by (1 + 1e-4).
fn corrupt(q: &Path, out: &Path) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(q).unwrap()).unwrap();
    let classes = v["zones"][0]["classes"].as_object_mut().unwrap();
    let (_, a) = classes
        .iter_mut()
        .max_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
        .unwrap();
    *a = serde_json::Value::from(a.as_f64().unwrap() * 1.0001);
    std::fs::write(out, v.to_string()).unwrap();
}

#[test]
fn towns_agree_with_exactextract_on_projected_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.json");
    for (raster, zones, extra) in [
        (
            "fixtures/landcover/clcd_2019.vrt",
            "fixtures/towns.geojson",
            vec![],
        ),
        (
            "fixtures/landcover/clcd_2024.vrt",
            "fixtures/towns.geojson",
            vec![],
        ),
        (
            "fixtures/landcover/clcd_2024.vrt",
            "fixtures/redlines_2024.gpkg",
            vec!["--id-field", "hx_id"],
        ),
    ] {
        stats(raster, zones, &extra, &q);
        let (code, out) = peer("exactextract_check.py", raster, zones, &extra, &q);
        assert_eq!(code, 0, "{raster} × {zones}:\n{out}");
        assert!(out.contains("AGREE"), "{out}");
    }
    // The check can fail: a class area off by 1e-4 is caught.
    let bad = dir.path().join("bad.json");
    corrupt(&q, &bad);
    let (code, out) = peer(
        "exactextract_check.py",
        "fixtures/landcover/clcd_2024.vrt",
        "fixtures/redlines_2024.gpkg",
        &["--id-field", "hx_id"],
        &bad,
    );
    assert_eq!(code, 1, "{out}");
    // Ground (ellipsoidal, the default) areas are not what exactextract
    // measures on a projected raster: the check refuses the comparison
    // instead of failing on 0.01 % or passing by luck.
    let r = repo();
    let (raster, zones) = ("fixtures/landcover/clcd_2024.vrt", "fixtures/towns.geojson");
    let args: Vec<String> = vec![
        "stats".into(),
        "--landcover".into(),
        r.join(raster).display().to_string(),
        "--zones".into(),
        r.join(zones).display().to_string(),
        "-q".into(),
    ];
    let o = qingshan_to(&args, &q);
    assert!(o.status.success(), "{}", stderr(&o));
    let (code, out) = peer("exactextract_check.py", raster, zones, &[], &q);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--area planar"), "{out}");
}

#[test]
fn lonlat_raster_agrees_with_an_ellipsoidal_reference() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.json");
    let raster = "fixtures/landcover/clcd_2019_lonlat.tif";
    stats(raster, "fixtures/towns.geojson", &[], &q);
    let (code, out) = peer(
        "ellipsoid_reference.py",
        raster,
        "fixtures/towns.geojson",
        &[],
        &q,
    );
    assert_eq!(code, 0, "{out}");
    let bad = dir.path().join("bad.json");
    corrupt(&q, &bad);
    let (code, out) = peer(
        "ellipsoid_reference.py",
        raster,
        "fixtures/towns.geojson",
        &[],
        &bad,
    );
    assert_eq!(code, 1, "{out}");
}

/// Transition matrices against exactextract on a combined before × after
/// raster (towns and red lines).
#[test]
fn transitions_agree_with_exactextract_on_a_combined_raster() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("c.json");
    for (zones, id) in [
        ("towns.geojson", None),
        ("redlines_2019.geojson", Some("hx_id")),
    ] {
        let mut args: Vec<String> = vec![
            "change".into(),
            "--before".into(),
            fx("landcover/clcd_2019.vrt"),
            "--after".into(),
            fx("landcover/clcd_2024.vrt"),
            "--zones".into(),
            fx(zones),
            "-q".into(),
            "--area".into(),
            "planar".into(),
        ];
        if let Some(f) = id {
            args.extend(["--id-field".into(), f.into()]);
        }
        run_qingshan(&args, &q);
        let mut check: Vec<String> = vec![
            "--before".into(),
            fx("landcover/clcd_2019.vrt"),
            "--after".into(),
            fx("landcover/clcd_2024.vrt"),
            "--zones".into(),
            fx(zones),
            "--qingshan".into(),
            q.display().to_string(),
        ];
        if let Some(f) = id {
            check.extend(["--id-field".into(), f.into()]);
        }
        let (code, out) = peer_args("change_check.py", &check);
        assert_eq!(code, 0, "{zones}:\n{out}");
    }
}

/// Red-line diff against shapely (GEOS) + pyproj.Geod. Totals agree to
/// 1e-6 relative; the absolute floor is 0.05 m² because geo's overlay
/// snaps to a grid of ~2e-5 m over a town, which leaves slivers of that
/// width on polygons that did not change (about 0.01 m² in all).
#[test]
fn redline_diff_agrees_with_shapely_and_geod() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("d.json");
    let args: Vec<String> = vec![
        "redline".into(),
        "diff".into(),
        fx("redlines_2019.geojson"),
        fx("redlines_2024.gpkg"),
        "--id-field".into(),
        "hx_id".into(),
        "--towns".into(),
        fx("towns.geojson"),
    ];
    run_qingshan(&args, &q);
    let check = |path: &Path| {
        peer_args(
            "redline_reference.py",
            &[
                "--old".into(),
                fx("redlines_2019.geojson"),
                "--new".into(),
                fx("redlines_2024.gpkg"),
                "--id-field".into(),
                "hx_id".into(),
                "--towns".into(),
                fx("towns.geojson"),
                "--qingshan".into(),
                path.display().to_string(),
                // Slivers of ≤ 0.01 m² one overlay engine finds and the
                // other does not (benches/peers/README.md).
                "--atol-m2".into(),
                "0.02".into(),
            ],
        )
    };
    let (code, out) = check(&q);
    assert_eq!(code, 0, "{out}");
    // And it can fail: the lost area off by 1e-4.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&q).unwrap()).unwrap();
    v["lost_m2"] = serde_json::Value::from(v["lost_m2"].as_f64().unwrap() * 1.0001);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    let (code, out) = check(&bad);
    assert_eq!(code, 1, "{out}");
}

/// The peer scripts themselves: they agree with routes of their own and
/// fail on numbers off by 1e-4 (benches/peers/selftest.py).
#[test]
fn peer_scripts_pass_their_self_test() {
    let (code, out) = peer_args(
        "selftest.py",
        &["--qingshan".into(), env!("CARGO_BIN_EXE_qingshan").into()],
    );
    assert_eq!(code, 0, "{out}");
}
