//! `qingshan stats` as a user runs it: the real binary, real files, exit
//! codes and one-line errors.

mod support;

#[path = "../../qingshan/tests/common/mod.rs"]
mod common;

use std::path::Path;

use approx::assert_relative_eq;
use common::{geojson, grid, pixel_rect, write_raster};
use support::{assert_user_error, qingshan, stderr};

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    /// A 40 × 30 raster (class = 1 + column / 10) and two zones.
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 40, 30);
        write_raster::<u8>(&dir.path().join("lc.tif"), &g, Some(0.0), |c, _| {
            1 + (c / 10) as u8
        });
        std::fs::write(
            dir.path().join("zones.geojson"),
            geojson(
                Some(4545),
                &[
                    ("a", vec![pixel_rect(&g, 5.5, 2.0, 25.5, 12.0)]),
                    ("b", vec![pixel_rect(&g, 30.0, 10.0, 40.0, 30.0)]),
                ],
            ),
        )
        .unwrap();
        Setup { dir }
    }

    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
}

#[test]
fn json_csv_and_geojson_outputs_agree_with_the_geometry() {
    let s = Setup::new();
    let out = s.p("out.json");
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("zones.geojson"),
        "-o",
        &out,
        "-q",
        // Cells of 900 m² exactly: the planar areas worked out by hand.
        "--area",
        "planar",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["area"], "planar");
    let a = &v["zones"][0];
    assert_eq!(a["id"], "a");
    // Columns 5.5..25.5 over classes 1 (0–9), 2 (10–19), 3 (20–29), 10 rows.
    assert_relative_eq!(
        a["classes"]["1"].as_f64().unwrap(),
        4.5 * 10.0 * 900.0,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        a["classes"]["2"].as_f64().unwrap(),
        10.0 * 10.0 * 900.0,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        a["classes"]["3"].as_f64().unwrap(),
        5.5 * 10.0 * 900.0,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        a["forest_cover"].as_f64().unwrap(),
        10.0 / 20.0,
        max_relative = 1e-12
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");

    let csv = s.p("out.csv");
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("zones.geojson"),
        "-o",
        &csv,
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "zone_id,zone_name,class,class_name,forest,area_m2,area_ha,area_mu,share_of_valid"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let forest_row = rows.iter().find(|r| r[0] == "a" && r[2] == "2").unwrap();
    assert_eq!(forest_row[3], "Forest");
    assert_eq!(forest_row[4], "true");
    let m2: f64 = forest_row[5].parse().unwrap();
    assert_relative_eq!(
        forest_row[6].parse::<f64>().unwrap(),
        m2 / 10_000.0,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        forest_row[7].parse::<f64>().unwrap(),
        m2 * 3.0 / 2000.0,
        max_relative = 1e-12
    );
    assert_eq!(rows.iter().filter(|r| r[0] == "b").count(), 1);

    let gj = s.p("out.geojson");
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("zones.geojson"),
        "-o",
        &gj,
        "-q",
        "--area",
        "planar",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&gj).unwrap()).unwrap();
    assert_eq!(v["features"].as_array().unwrap().len(), 2);
    assert_eq!(v["crs"]["properties"]["name"], "urn:ogc:def:crs:EPSG::4545");
    let p = &v["features"][1]["properties"];
    assert_eq!(p["zone_id"], "b");
    assert_relative_eq!(
        p["class_4_m2"].as_f64().unwrap(),
        10.0 * 20.0 * 900.0,
        max_relative = 1e-12
    );

    // Standard output when no -o is given.
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("zones.geojson"),
        "--format",
        "csv",
        "-q",
    ]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("zone_id,"));
}

#[test]
fn usage_errors_exit_2() {
    let o = qingshan(&["stats", "--landcover", "x.tif"]);
    assert_eq!(o.status.code(), Some(2));
    let o = qingshan(&[
        "stats",
        "--landcover",
        "x.tif",
        "--zones",
        "z.geojson",
        "--format",
        "xml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = qingshan(&["nonsense"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_raster() {
    let s = Setup::new();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("nope.tif"),
        "--zones",
        &s.p("zones.geojson"),
    ]);
    assert_user_error(&o, &["nope.tif", "no such file"]);
}

/// A directory without rasters, for `stats` and for `batch` (which walks
/// subdirectories too).
#[test]
fn directory_without_rasters() {
    let s = Setup::new();
    let empty = s.p("empty");
    std::fs::create_dir_all(std::path::Path::new(&empty).join("sub")).unwrap();
    std::fs::write(std::path::Path::new(&empty).join("sub/readme.txt"), "x").unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &empty,
        "--zones",
        &s.p("zones.geojson"),
    ]);
    assert_user_error(&o, &["empty", "holds no .tif/.tiff/.vrt/.img rasters"]);
    let o = qingshan(&[
        "batch",
        "--tiles",
        &empty,
        "--zones",
        &s.p("zones.geojson"),
        "--out-dir",
        &s.p("out"),
    ]);
    assert_user_error(&o, &["empty", "holds no .tif/.tiff/.vrt/.img rasters"]);
}

#[test]
fn truncated_raster() {
    let s = Setup::new();
    // A larger raster, cut in half: the header survives, the pixels do not.
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 600, 600);
    let full = s.p("full.tif");
    write_raster::<u8>(Path::new(&full), &g, None, |c, r| {
        ((c * 31 + r * 17) % 9 + 1) as u8
    });
    let bytes = std::fs::read(&full).unwrap();
    let cut = s.p("cut.tif");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(
        s.p("big.geojson"),
        geojson(
            Some(4545),
            &[("all", vec![pixel_rect(&g, 0.0, 0.0, 600.0, 600.0)])],
        ),
    )
    .unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &cut,
        "--zones",
        &s.p("big.geojson"),
        "-q",
    ]);
    assert_user_error(&o, &["cut.tif", "truncated or corrupt"]);
}

#[test]
fn broken_geojson() {
    let s = Setup::new();
    std::fs::write(
        s.p("broken.geojson"),
        "{\"type\": \"FeatureCollection\", \"features\": [",
    )
    .unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("broken.geojson"),
    ]);
    assert_user_error(&o, &["broken.geojson", "not valid GeoJSON"]);
}

#[test]
fn projected_coordinates_in_geojson_without_crs() {
    let s = Setup::new();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 40, 30);
    std::fs::write(
        s.p("nocrs.geojson"),
        geojson(None, &[("a", vec![pixel_rect(&g, 1.0, 1.0, 5.0, 5.0)])]),
    )
    .unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("nocrs.geojson"),
    ]);
    assert_user_error(&o, &["nocrs.geojson", "no \"crs\" member"]);
}

#[test]
fn non_polygon_zones() {
    let s = Setup::new();
    std::fs::write(
        s.p("points.geojson"),
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4545"}},"features":[
            {"type":"Feature","id":"p1","properties":{},"geometry":{"type":"Point","coordinates":[590100,3899900]}}]}"#,
    )
    .unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("points.geojson"),
    ]);
    assert_user_error(&o, &["points.geojson", "\"p1\""]);
    assert!(stderr(&o).contains("must be polygons"));
}

#[test]
fn float_raster_as_land_cover() {
    let s = Setup::new();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 40, 30);
    // Written through GDAL directly: the library only writes class rasters.
    let path = s.p("ndvi.tif");
    {
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut ds = driver
            .create_with_band_type::<f32, _>(&path, 40, 30, 1)
            .unwrap();
        ds.set_geo_transform(&g.transform.0).unwrap();
        ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(4545).unwrap())
            .unwrap();
    }
    let o = qingshan(&[
        "stats",
        "--landcover",
        &path,
        "--zones",
        &s.p("zones.geojson"),
    ]);
    assert_user_error(&o, &["ndvi.tif", "Float32"]);
}

#[test]
fn raster_without_crs() {
    let s = Setup::new();
    let path = s.p("nocrs.tif");
    {
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut ds = driver
            .create_with_band_type::<u8, _>(&path, 40, 30, 1)
            .unwrap();
        ds.set_geo_transform(&[590_000.0, 30.0, 0.0, 3_900_000.0, 0.0, -30.0])
            .unwrap();
    }
    let o = qingshan(&[
        "stats",
        "--landcover",
        &path,
        "--zones",
        &s.p("zones.geojson"),
    ]);
    assert_user_error(&o, &["nocrs.tif", "has no CRS"]);
}

#[test]
fn tiles_with_different_crs() {
    let s = Setup::new();
    let g = grid(32649, 590_000.0, 3_900_000.0, 30.0, 40, 30);
    write_raster::<u8>(Path::new(&s.p("utm.tif")), &g, None, |_, _| 1);
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        &s.p("utm.tif"),
        "--zones",
        &s.p("zones.geojson"),
    ]);
    assert_user_error(&o, &["utm.tif", "different CRSs"]);
    assert!(stderr(&o).contains("lc.tif"));
}

#[test]
fn duplicate_ids_and_unknown_id_field() {
    let s = Setup::new();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 40, 30);
    std::fs::write(
        s.p("dup.geojson"),
        geojson(
            Some(4545),
            &[
                ("x", vec![pixel_rect(&g, 1.0, 1.0, 5.0, 5.0)]),
                ("x", vec![pixel_rect(&g, 6.0, 1.0, 9.0, 5.0)]),
            ],
        ),
    )
    .unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("dup.geojson"),
    ]);
    assert_user_error(&o, &["dup.geojson", "duplicate id"]);
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("zones.geojson"),
        "--id-field",
        "code",
    ]);
    assert_user_error(&o, &["zones.geojson", "no attribute \"code\""]);
}

#[test]
fn self_intersecting_zone_is_reported_or_repaired() {
    let s = Setup::new();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 40, 30);
    let t = &g.transform;
    let bowtie = vec![
        t.to_map(2.0, 2.0),
        t.to_map(12.0, 12.0),
        t.to_map(12.0, 2.0),
        t.to_map(2.0, 12.0),
    ];
    std::fs::write(
        s.p("bowtie.geojson"),
        geojson(Some(4545), &[("bow", vec![bowtie])]),
    )
    .unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("bowtie.geojson"),
    ]);
    assert_user_error(&o, &["bowtie.geojson", "self-intersection"]);
    // Repaired: two triangles of 25 cells each.
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s.p("lc.tif"),
        "--zones",
        &s.p("bowtie.geojson"),
        "--make-valid",
        "-q",
        "--area",
        "planar",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning:") && stderr(&o).contains("repaired"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_relative_eq!(
        v["zones"][0]["valid_area_m2"].as_f64().unwrap(),
        50.0 * 900.0,
        max_relative = 1e-9
    );
}

/// A closed standard output (`qingshan … | head -c0`) means the result did
/// not arrive: exit 1 with one line naming the standard output and the
/// OS's reason, in every format (JSON and GeoJSON go through serde, CSV
/// and tables straight to the pipe).
#[test]
fn a_closed_stdout_is_an_error_naming_it() {
    use std::process::{Command, Stdio};
    for format in ["json", "geojson", "csv", "table"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qingshan"))
            .args([
                "stats",
                "--landcover",
                &support::fx("landcover/clcd_2024.vrt"),
                "--zones",
                &support::fx("towns.geojson"),
                "--format",
                format,
                "-q",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before qingshan writes (it first measures).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_user_error(&out, &["standard output: cannot write", "Broken pipe"]);
    }
}
