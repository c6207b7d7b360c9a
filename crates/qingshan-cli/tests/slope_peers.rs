//! `qingshan slope` against independent pipelines (benches/peers/slope_check.py):
//! gdaldem slope → classify → exactextract on the projected fixtures, and
//! a numpy Horn with pyproj.Geod row spacing on a lon/lat copy of the DEM.
//! The Python packages and gdal-bin are installed by `.ci/setup --peers`;
//! without them these tests fail, they do not skip.

mod support;

use std::path::Path;
use support::{fx, peer_check, qingshan, stderr, tool};

fn dem_tiles() -> Vec<String> {
    vec![fx("dem/dem_25m_c0.tif"), fx("dem/dem_25m_c1.tif")]
}

/// Runs `qingshan slope` on `dem` with the fixtures' towns and cropland
/// parcels; writes `q.json` and `slope.tif` into `dir`.
fn run_slope(dem: &[String], dir: &Path, area: &str) {
    let mut args: Vec<String> = vec!["slope".into(), "-q".into(), "--dem".into()];
    args.extend(dem.iter().cloned());
    args.extend(
        [
            "--zones",
            &fx("towns.geojson"),
            "--cropland",
            &fx("dltb.gpkg"),
            "--class-field",
            "DLBM",
            "--cropland-id-field",
            "BSM",
            "--area",
            area,
            "--slope-raster",
            &dir.join("slope.tif").display().to_string(),
            "-o",
            &dir.join("q.json").display().to_string(),
        ]
        .map(String::from),
    );
    let o = qingshan(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Runs the peer check; returns (exit code, output).
fn check(dem: &[String], dir: &Path, q: &Path, extra: &[&str]) -> (i32, String) {
    let mut args: Vec<std::ffi::OsString> = vec!["--dem".into()];
    args.extend(dem.iter().map(Into::into));
    args.extend([
        "--zones".into(),
        fx("towns.geojson").into(),
        "--qingshan".into(),
    ]);
    args.push(q.into());
    args.push("--slope-raster".into());
    args.push(dir.join("slope.tif").into());
    args.extend(
        [
            "--cropland",
            &fx("dltb.gpkg"),
            "--class-field",
            "DLBM",
            "--cropland-id-field",
            "BSM",
        ]
        .map(Into::into),
    );
    args.extend(extra.iter().map(Into::into));
    peer_check("slope_check.py", &args)
}

/// Scales one grade area of the first zone by (1 + 1e-7).
fn corrupt(q: &Path, out: &Path) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(q).unwrap()).unwrap();
    let a = &mut v["zones"][0]["grades"][2]["area_m2"];
    *a = serde_json::Value::from(a.as_f64().unwrap() * (1.0 + 1e-7));
    std::fs::write(out, v.to_string()).unwrap();
}

#[test]
fn slope_grades_and_cropland_agree_with_gdaldem_and_exactextract() {
    let dir = tempfile::tempdir().unwrap();
    run_slope(&dem_tiles(), dir.path(), "planar");
    let q = dir.path().join("q.json");
    let (code, out) = check(&dem_tiles(), dir.path(), &q, &["--rtol", "1e-9"]);
    assert_eq!(code, 0, "{out}");
    // The slope raster is gdaldem's, cell for cell.
    assert!(out.contains("max |Δ| 0°"), "{out}");
    assert!(out.contains("0 with another grade"), "{out}");
    // The check notices a grade area off by 1e-7.
    let bad = dir.path().join("bad.json");
    corrupt(&q, &bad);
    let (code, out) = check(&dem_tiles(), dir.path(), &bad, &["--rtol", "1e-9"]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn slope_on_a_lonlat_dem_agrees_with_an_ellipsoidal_reference() {
    let dir = tempfile::tempdir().unwrap();
    let vrt = dir.path().join("dem.vrt");
    let ll = dir.path().join("dem_lonlat.tif");
    let mut buildvrt = vec![
        "gdalbuildvrt",
        "-q",
        "-srcnodata",
        "-32768",
        "-vrtnodata",
        "-32768",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    buildvrt.push(vrt.display().to_string());
    buildvrt.extend(dem_tiles());
    tool(&buildvrt);
    tool(&[
        "gdalwarp",
        "-q",
        "-t_srs",
        "EPSG:4490",
        "-tr",
        "0.0003",
        "0.0003",
        "-r",
        "bilinear",
        "-ot",
        "Float32",
        "-dstnodata",
        "-9999",
        vrt.to_str().unwrap(),
        ll.to_str().unwrap(),
    ]);
    let dem = vec![ll.display().to_string()];
    run_slope(&dem, dir.path(), "ellipsoidal");
    let q = dir.path().join("q.json");
    // Slopes within 1e-4°; grade areas of the towns within 1e-9; cropland
    // parcels' small grade areas within 0.01 m² (boundary cells: geodesic
    // cell ∩ polygon in the reference, fraction × cell area here).
    let (code, out) = check(
        &dem,
        dir.path(),
        &q,
        &["--rtol", "1e-9", "--atol-m2", "0.01"],
    );
    assert_eq!(code, 0, "{out}");
    let bad = dir.path().join("bad.json");
    corrupt(&q, &bad);
    let (code, out) = check(
        &dem,
        dir.path(),
        &bad,
        &["--rtol", "1e-9", "--atol-m2", "0.01"],
    );
    assert_eq!(code, 1, "{out}");
}
