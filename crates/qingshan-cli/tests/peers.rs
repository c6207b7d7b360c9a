//! Agreement with independent implementations on the bundled fixtures:
//! exactextract (projected tiles) and a shapely + pyproj.Geod ellipsoidal
//! reference (lon/lat raster, zones in EPSG:4545). The Python packages are
//! installed by `.ci/setup --peers`; without them these tests fail, they do
//! not skip.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stats(raster: &str, zones: &str, extra: &[&str], out: &Path) {
    let r = repo();
    let o = Command::new(env!("CARGO_BIN_EXE_qingshan"))
        .arg("stats")
        .arg("--landcover")
        .arg(r.join(raster))
        .arg("--zones")
        .arg(r.join(zones))
        .args(extra)
        .arg("-q")
        .arg("-o")
        .arg(out)
        .output()
        .expect("run qingshan");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs a peer script; returns (exit code, output).
fn peer(script: &str, raster: &str, zones: &str, extra: &[&str], q: &Path) -> (i32, String) {
    let r = repo();
    let o = Command::new("python3")
        .arg(r.join("benches/peers").join(script))
        .arg("--raster")
        .arg(r.join(raster))
        .arg("--zones")
        .arg(r.join(zones))
        .args(extra)
        .arg("--qingshan")
        .arg(q)
        .output()
        .expect("python3 is needed for the peer checks (bash .ci/setup --peers)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
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
