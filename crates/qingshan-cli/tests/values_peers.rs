//! `qingshan values` against exactextract and an independent numpy
//! reference (benches/peers/values_check.py): every statistic on the
//! fixtures' Int16 NDVI (scaled by the file) and DEM, a UInt16 copy of
//! the DEM (its void as nodata 0), on a Float32 copy
//! of the DEM and on a lon/lat copy under ellipsoidal weights. The Python
//! packages and gdal-bin are installed by `.ci/setup --peers`; without
//! them these tests fail, they do not skip.

mod support;

use std::path::Path;
use support::{fx, peer_check, qingshan, stderr, tool};

const ALL: &str = "count,sum,mean,min,max,variance,stddev,cv,median,q10,q90,q2.5";

fn run(raster: &[String], zones: &[&str], area: &str, out: &Path) {
    let mut args: Vec<String> = vec!["values".into(), "-q".into(), "--raster".into()];
    args.extend(raster.iter().cloned());
    args.extend(zones.iter().map(|s| s.to_string()));
    args.extend(["--stats", ALL, "--area", area, "-o"].map(String::from));
    args.push(out.display().to_string());
    let o = qingshan(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn check(raster: &[String], zones: &[&str], q: &Path, extra: &[&str]) -> (i32, String) {
    let mut args: Vec<std::ffi::OsString> = vec!["--raster".into()];
    args.extend(raster.iter().map(Into::into));
    args.extend(zones.iter().map(Into::into));
    args.push("--qingshan".into());
    args.push(q.into());
    args.extend(extra.iter().map(Into::into));
    peer_check("values_check.py", &args)
}

#[test]
fn every_statistic_equals_exactextract_on_the_towns() {
    let dir = tempfile::tempdir().unwrap();
    let towns = fx("towns.geojson");
    let zones = ["--zones", towns.as_str()];
    let f32 = dir.path().join("dem_f32.tif");
    tool(&[
        "gdalwarp",
        "-q",
        "-r",
        "bilinear",
        "-ot",
        "Float32",
        "-tr",
        "20",
        "20",
        &fx("dem/dem_25m_c0.tif"),
        &fx("dem/dem_25m_c1.tif"),
        &f32.display().to_string(),
    ]);
    // UInt16 (NDVI × 10000 is often stored so): the DEM's heights as
    // UInt16, its void (−32768) clipped to 0 and tagged as nodata.
    let u16 = dir.path().join("dem_u16.tif");
    tool(&[
        "gdal_translate",
        "-q",
        "-ot",
        "UInt16",
        "-a_nodata",
        "0",
        &fx("dem/dem_25m_c0.tif"),
        &u16.display().to_string(),
    ]);
    for (name, raster) in [
        ("ndvi", vec![fx("ndvi/ndvi_2024.tif")]),
        ("u16", vec![u16.display().to_string()]),
        (
            "dem",
            vec![fx("dem/dem_25m_c0.tif"), fx("dem/dem_25m_c1.tif")],
        ),
        ("f32", vec![f32.display().to_string()]),
    ] {
        let q = dir.path().join(format!("{name}.json"));
        run(&raster, &zones, "planar", &q);
        let (code, out) = check(&raster, &zones, &q, &["--rtol", "1e-9"]);
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("2 zones, 24 statistics"), "{name}: {out}");
        // The check can fail: a statistic off by 1e-7 is caught.
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&q).unwrap()).unwrap();
        let m = &mut doc["zones"][1]["stats"]["stddev"];
        *m = serde_json::Value::from(m.as_f64().unwrap() * (1.0 + 1e-7));
        let bad = dir.path().join(format!("{name}_bad.json"));
        std::fs::write(&bad, doc.to_string()).unwrap();
        let (code, out) = check(&raster, &zones, &bad, &["--rtol", "1e-9"]);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains("azhuang stddev"), "{out}");
    }
}

/// 1800 survey parcels of a few dozen cells each, on a lon/lat copy of the
/// NDVI under ellipsoidal weights: numpy from shapely's double-precision
/// coverage × pyproj.Geod cell areas (exactextract's float32 coverage is
/// too coarse for 1e-9 on zones this small).
#[test]
fn every_statistic_of_small_parcels_equals_numpy_on_a_lon_lat_grid() {
    let dir = tempfile::tempdir().unwrap();
    let ll = dir.path().join("ndvi_ll.tif");
    tool(&[
        "gdalwarp",
        "-q",
        "-t_srs",
        "EPSG:4490",
        "-tr",
        "0.0003",
        "0.0003",
        "-r",
        "near",
        &fx("ndvi/ndvi_2024.tif"),
        &ll.display().to_string(),
    ]);
    let raster = vec![ll.display().to_string()];
    let dltb = fx("dltb.gpkg");
    let zones = ["--zones", dltb.as_str(), "--id-field", "BSM"];
    let q = dir.path().join("q.json");
    run(&raster, &zones, "ellipsoidal", &q);
    let (code, out) = check(
        &raster,
        &zones,
        &q,
        &[
            "--reference",
            "numpy",
            "--coverage",
            "shapely",
            "--rtol",
            "1e-9",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1800 zones"), "{out}");
}
