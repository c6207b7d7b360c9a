//! The hostile-input catalogue: every command on input a careless or
//! hostile user gives it. Each case must end in exit 1 with one line
//! naming the file (and what is wrong), never a panic (exit 101), and
//! nothing lost: an input is never overwritten.

mod support;

use std::path::{Path, PathBuf};

use support::{assert_user_error, qingshan, repo, stderr};

/// A copy of the fixtures in a temporary directory (cases may try to
/// destroy them).
fn fixtures() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fx = dir.path().join("fx");
    copy_tree(&repo().join("fixtures"), &fx);
    (dir, fx)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Outputs never overwrite an input, nor each other: each command is
/// pointed at its own inputs (the zones, a tile behind the VRT, a
/// Shapefile's .dbf, the baseline red lines, the audit config) and at one
/// file twice; each refuses with exit 1 naming the clash, and the inputs
/// are unchanged, byte for byte.
#[test]
fn outputs_never_overwrite_inputs_or_each_other() {
    let (_tmp, fx) = fixtures();
    let before = snapshot(&fx);
    let lc19 = s(&fx.join("landcover/clcd_2019.vrt"));
    let lc24 = s(&fx.join("landcover/clcd_2024.vrt"));
    let towns = s(&fx.join("towns.geojson"));
    let tile = s(&fx.join("landcover/clcd_2024/clcd_2024_r0c0.tif"));
    let red19 = s(&fx.join("redlines_2019.geojson"));
    let red24 = s(&fx.join("redlines_2024.gpkg"));
    let out_tif = s(&fx.parent().unwrap().join("x.tif"));
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec![
                "stats".into(),
                "--landcover".into(),
                lc24.clone(),
                "--zones".into(),
                towns.clone(),
                "-q".into(),
                "--format".into(),
                "geojson".into(),
                "-o".into(),
                towns.clone(),
            ],
            vec!["towns.geojson", "an input of this run (--zones)"],
        ),
        (
            vec![
                "stats".into(),
                "--landcover".into(),
                lc24.clone(),
                "--zones".into(),
                s(&fx.join("towns_gbk.shp")),
                "-q".into(),
                "-o".into(),
                s(&fx.join("towns_gbk.dbf")),
            ],
            vec!["towns_gbk.dbf", "(--zones)"],
        ),
        (
            vec![
                "change".into(),
                "--before".into(),
                lc19.clone(),
                "--after".into(),
                lc24.clone(),
                "--zones".into(),
                towns.clone(),
                "-q".into(),
                "--change-raster".into(),
                tile.clone(),
            ],
            vec!["clcd_2024_r0c0.tif", "(--after)"],
        ),
        (
            vec![
                "change".into(),
                "--before".into(),
                lc19.clone(),
                "--after".into(),
                lc24.clone(),
                "--zones".into(),
                towns.clone(),
                "-q".into(),
                "--change-raster".into(),
                out_tif.clone(),
                "-o".into(),
                out_tif.clone(),
            ],
            vec!["x.tif", "--change-raster and -o name the same file"],
        ),
        (
            vec![
                "redline".into(),
                "diff".into(),
                red19.clone(),
                red24.clone(),
                "--id-field".into(),
                "hx_id".into(),
                "--lost-geometry".into(),
                red19.clone(),
            ],
            vec!["redlines_2019.geojson", "(OLD)"],
        ),
        (
            vec![
                "redline".into(),
                "check".into(),
                "--redlines".into(),
                red24.clone(),
                "--before".into(),
                lc19.clone(),
                "--after".into(),
                lc24.clone(),
                "-q".into(),
                "--patches".into(),
                red24.clone(),
            ],
            vec!["redlines_2024.gpkg", "(--redlines)"],
        ),
        (
            vec![
                "audit".into(),
                "--config".into(),
                s(&fx.join("audit.toml")),
                "-q".into(),
                "-o".into(),
                s(&fx.join("landcover/clcd_2024")),
            ],
            vec![],
        ),
    ];
    for (args, needles) in &cases {
        let o = qingshan(args);
        if needles.is_empty() {
            // An audit into a directory of tiles writes its bundle there
            // and touches no tile.
            assert!(matches!(o.status.code(), Some(3)), "{}", stderr(&o));
            continue;
        }
        assert_user_error(&o, needles);
    }
    let after: Vec<(PathBuf, Vec<u8>)> = snapshot(&fx)
        .into_iter()
        .filter(|(p, _)| before.iter().any(|(q, _)| q == p))
        .collect();
    assert!(before == after, "an input changed");
}

#[path = "../../qingshan/tests/common/mod.rs"]
mod common;

/// A raster on the fixtures' grid with cells from `f`.
fn on_fixture_grid<T: qingshan::raster::ClassPixel>(
    path: &Path,
    nodata: Option<f64>,
    f: impl Fn(usize, usize) -> T,
) {
    let vrt =
        qingshan::raster::Tile::open(&repo().join("fixtures/landcover/clcd_2024.vrt"), 1).unwrap();
    common::write_raster::<T>(path, &vrt.grid, nodata, f);
}

/// A DEM (u16 heights, ~1,000 distinct values) passed as land cover:
/// `stats` measures it but warns, naming codes the legend does not list
/// and their share; a verdict (`redline check`, the audit) refuses it.
/// The wrong legend on real land cover (`--legend worldcover` on CLCD) is
/// refused by a verdict too.
#[test]
fn codes_the_legend_does_not_know_are_never_silent() {
    let dir = tempfile::tempdir().unwrap();
    let dem = dir.path().join("dem.tif");
    on_fixture_grid::<u16>(&dem, None, |c, r| 900 + ((c + r) % 1000) as u16);
    let towns = support::fx("towns.geojson");
    let o = qingshan(&["stats", "--landcover", &s(&dem), "--zones", &towns, "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "warning: {}: 100.00 % of the valid area holds codes the legend clcd does not list",
            dem.display()
        )) && err.contains("codes in all"),
        "{err}"
    );
    let red = support::fx("redlines_2024.gpkg");
    let o = qingshan(&[
        "redline",
        "check",
        "--redlines",
        &red,
        "--id-field",
        "hx_id",
        "--before",
        &s(&dem),
        "--after",
        &s(&dem),
        "-q",
    ]);
    assert_user_error(&o, &["legend clcd", "does not list", "--legend"]);
    let lc19 = support::fx("landcover/clcd_2019.vrt");
    let lc24 = support::fx("landcover/clcd_2024.vrt");
    let o = qingshan(&[
        "redline",
        "check",
        "--redlines",
        &red,
        "--id-field",
        "hx_id",
        "--before",
        &lc19,
        "--after",
        &lc24,
        "--legend",
        "worldcover",
        "-q",
    ]);
    assert_user_error(&o, &["legend worldcover", "does not list"]);
    // The same land cover with its own legend is fine.
    let o = qingshan(&[
        "redline",
        "check",
        "--redlines",
        &red,
        "--id-field",
        "hx_id",
        "--before",
        &lc19,
        "--after",
        &lc24,
        "-q",
    ]);
    assert!(
        matches!(o.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("does not list"), "{}", stderr(&o));
}

/// A band nodata value that is also a class of the legend (2 = forest in
/// CLCD) is said: those cells count as nodata, not as forest.
#[test]
fn a_nodata_value_that_is_a_class_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let lc = dir.path().join("lc.tif");
    on_fixture_grid::<u8>(&lc, Some(2.0), |c, _| (1 + c % 3) as u8);
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s(&lc),
        "--zones",
        &support::fx("towns.geojson"),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nodata value 2 is class 2 (Forest) of the legend clcd"),
        "{}",
        stderr(&o)
    );
}

/// Legends and audit files with mistakes: one line, the reason first and
/// then where; a code listed twice is an error, not a silent override.
#[test]
fn toml_mistakes_are_one_line_with_the_reason_first() {
    let dir = tempfile::tempdir().unwrap();
    let lc = support::fx("landcover/clcd_2024.vrt");
    let towns = support::fx("towns.geojson");
    let twice = dir.path().join("twice.toml");
    std::fs::write(
        &twice,
        "name = \"mine\"\n[[class]]\ncode = 1\nname = \"a\"\nkind = \"forest\"\n[[class]]\ncode = 1\nname = \"b\"\nkind = \"cropland\"\n",
    )
    .unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &lc,
        "--zones",
        &towns,
        "--legend",
        &s(&twice),
        "-q",
    ]);
    assert_user_error(&o, &["twice.toml", "class 1 is listed twice"]);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"mine\"\n[[class]]\ncode = 1.5\n").unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &lc,
        "--zones",
        &towns,
        "--legend",
        &s(&bad),
        "-q",
    ]);
    assert_user_error(&o, &["bad.toml", "(line 3, column"]);
    let audit = dir.path().join("audit.toml");
    std::fs::write(&audit, "colour = 1\n").unwrap();
    let o = qingshan(&[
        "audit",
        "--config",
        &s(&audit),
        "-o",
        &s(&dir.path().join("out")),
    ]);
    assert_user_error(
        &o,
        &[
            "audit.toml: not a valid audit file: unknown field `colour`",
            "(line 1, column 1)",
        ],
    );
}

/// Settings that would fall back to a default, or mean nothing, in
/// silence are errors naming the file and what to write instead.
#[test]
fn settings_that_match_nothing_are_errors() {
    let (_tmp, fx) = fixtures();
    let config = std::fs::read_to_string(fx.join("audit.toml")).unwrap();
    let out = s(&fx.parent().unwrap().join("out"));
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!("{config}\n[[override]]\nzone = \"Azhuang\"\nforest_cover_min = 0.4\n"),
            vec![
                "override #1",
                "zone = \"Azhuang\" matches no zone",
                "jinsuoguan, azhuang",
            ],
        ),
        (
            format!("{config}\n[[override]]\nzone = \"azhuang\"\nforest_cover_min = 40\n"),
            vec!["override #1", "forest_cover_min = 40", "between 0 and 1"],
        ),
        (
            format!(
                "{config}\n[[override]]\nattribute = \"name_en\"\nvalue = 7\nforest_cover_min = 0.4\n"
            ),
            vec!["override #1", "\"name_en\" = 7 matches no zone"],
        ),
        (
            // Raster classes as forest land (an audit without [landuse]).
            format!(
                "{}{}",
                &config[..config.find("[landuse]").unwrap()],
                &config[config.find("[targets]").unwrap()..]
            )
            .replace("[targets]\n", "[targets]\nforest_land_classes = [42]\n"),
            vec!["forest_land_classes: 42 is not a class of the legend clcd"],
        ),
    ];
    for (i, (text, needles)) in cases.iter().enumerate() {
        let path = fx.join(format!("audit_{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let o = qingshan(&["audit", "--config", &s(&path), "-o", &out, "-q"]);
        let mut needles = needles.clone();
        let name = format!("audit_{i}.toml");
        needles.push(&name);
        assert_user_error(&o, &needles);
    }
    let lc24 = s(&fx.join("landcover/clcd_2024.vrt"));
    let lc19 = s(&fx.join("landcover/clcd_2019.vrt"));
    let towns = s(&fx.join("towns.geojson"));
    let o = qingshan(&[
        "stats",
        "--landcover",
        &lc24,
        "--zones",
        &towns,
        "--name-field",
        "nom",
        "-q",
    ]);
    assert_user_error(
        &o,
        &["towns.geojson", "no attribute \"nom\" for --name-field"],
    );
    let red24 = s(&fx.join("redlines_2024.gpkg"));
    let o = qingshan(&[
        "redline",
        "check",
        "--redlines",
        &red24,
        "--id-field",
        "hx_id",
        "--before",
        &lc19,
        "--after",
        &lc24,
        "--max-vegetation-loss",
        "5",
        "-q",
    ]);
    assert_user_error(&o, &["--max-vegetation-loss", "between 0 and 1"]);
    // At once: no input is read first.
    let o = qingshan(&[
        "stats",
        "--landcover",
        "missing.tif",
        "--zones",
        &towns,
        "--threads",
        "100000",
        "-q",
    ]);
    assert_user_error(&o, &["--threads 100000", "at most 1024"]);
    // Ids from different numbering schemes do not pair red lines.
    let o = qingshan(&[
        "redline",
        "diff",
        &s(&fx.join("redlines_2019.geojson")),
        &red24,
    ]);
    assert_user_error(
        &o,
        &[
            "redlines_2024.gpkg",
            "GeoPackage feature ids (from 1)",
            "positions in the file (from 0)",
            "--id-field",
        ],
    );
}

/// A tile rewritten in place to the same size is a different tile:
/// `batch --resume` refuses the old partials instead of reusing them; a
/// partial edited to a negative area is refused by `merge`, naming it.
#[test]
fn stale_or_tampered_partials_are_never_merged() {
    let (_tmp, fx) = fixtures();
    let out = fx.parent().unwrap().join("batch");
    let tiles = s(&fx.join("landcover/clcd_2019"));
    let towns = s(&fx.join("towns.geojson"));
    let run = |extra: &[&str]| {
        let mut args = vec!["batch", "--tiles", &tiles, "--zones", &towns, "--out-dir"];
        let o = s(&out);
        args.push(&o);
        args.push("-q");
        args.extend_from_slice(extra);
        qingshan(&args)
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Same size, other bytes (a tile re-exported, say).
    let tile = fx.join("landcover/clcd_2019/clcd_2019_r0c0.tif");
    let mut bytes = std::fs::read(&tile).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0x5a;
    std::fs::write(&tile, &bytes).unwrap();
    let o = run(&["--resume"]);
    assert_user_error(&o, &["holds partials of another run"]);
    // A partial with a negative area.
    let (_tmp2, fx2) = fixtures();
    let out2 = fx2.parent().unwrap().join("batch");
    let o = qingshan(&[
        "batch",
        "--tiles",
        &s(&fx2.join("landcover/clcd_2019")),
        "--zones",
        &s(&fx2.join("towns.geojson")),
        "--out-dir",
        &s(&out2),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let part = out2.join("partials/000000.json");
    let original = std::fs::read(&part).unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&original).unwrap();
    let zone = &mut doc["stats"][0][1]["classes"];
    let code = zone.as_object().unwrap().keys().next().unwrap().clone();
    zone[&code] = serde_json::Value::from(-1000.0);
    std::fs::write(&part, doc.to_string()).unwrap();
    let o = qingshan(&["merge", &s(&out2)]);
    assert_user_error(&o, &["000000.json", "has area -1000", "damaged or edited"]);
    // A partial multiplied by 50 (every number still plausible alone):
    // more area than the zone has.
    let mut doc: serde_json::Value = serde_json::from_slice(&original).unwrap();
    for entry in doc["stats"].as_array_mut().unwrap() {
        for (_, v) in entry[1]["classes"].as_object_mut().unwrap() {
            *v = serde_json::Value::from(v.as_f64().unwrap() * 50.0);
        }
        entry[1]["nodata_m2"] = serde_json::Value::from(0.0);
    }
    doc["qa"]["nodata_share"] = serde_json::Value::from(0.0);
    std::fs::write(&part, doc.to_string()).unwrap();
    let o = qingshan(&["merge", &s(&out2)]);
    assert_user_error(
        &o,
        &["run.json", "more than the zone's", "damaged or edited"],
    );

    // An uncompressed tile edited in the middle keeps its size and both
    // ends (what the fingerprint hashed): its time gives it away.
    let (_tmp3, fx3) = fixtures();
    let dir3 = fx3.join("big");
    std::fs::create_dir(&dir3).unwrap();
    let big = dir3.join("big.tif");
    let o = std::process::Command::new("gdal_translate")
        .args(["-q", "-outsize", "400%", "400%", "-co", "COMPRESS=NONE"])
        .arg(fx3.join("landcover/clcd_2019/clcd_2019_r0c0.tif"))
        .arg(&big)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out3 = fx3.join("batch");
    let run3 = |extra: &[&str]| {
        let mut a = vec![
            "batch".to_string(),
            "--tiles".into(),
            s(&dir3),
            "--zones".into(),
            s(&fx3.join("towns.geojson")),
            "--out-dir".into(),
            s(&out3),
            "-q".into(),
        ];
        a.extend(extra.iter().map(|x| x.to_string()));
        qingshan(&a)
    };
    let o = run3(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut bytes = std::fs::read(&big).unwrap();
    assert!(bytes.len() > 4 * 65536, "{}", bytes.len());
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 1000] {
        *b = 8;
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&big, &bytes).unwrap();
    let o = run3(&["--resume"]);
    assert_user_error(&o, &["holds partials of another run"]);
}

/// A batch directory from before `area` was recorded holds planar class
/// areas: merged, it says so (it was labelled ground areas).
#[test]
fn unrecorded_area_modes_read_as_planar() {
    let (_tmp, fx) = fixtures();
    let out = fx.parent().unwrap().join("batch");
    let o = qingshan(&[
        "batch",
        "--tiles",
        &s(&fx.join("landcover/clcd_2019")),
        "--zones",
        &s(&fx.join("towns.geojson")),
        "--out-dir",
        &s(&out),
        "--area",
        "planar",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let manifest = out.join("run.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(doc["area"], "planar");
    doc.as_object_mut().unwrap().remove("area");
    std::fs::write(&manifest, doc.to_string()).unwrap();
    let o = qingshan(&["merge", &s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(merged["area"], "planar");
}

/// Ctrl-C (SIGINT) or SIGTERM while outputs are being written: exit 130,
/// no partial output, no temporary file left behind (they were 105 MB
/// `.NAME.PID.tmp.tif` files).
#[cfg(unix)]
#[test]
fn interrupted_runs_leave_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    // The fixtures' extent at 3 m: 8000 × 6000 cells per date, so that
    // writing the transition raster takes long enough to interrupt.
    let vrt =
        qingshan::raster::Tile::open(&repo().join("fixtures/landcover/clcd_2024.vrt"), 1).unwrap();
    let mut g = vrt.grid.clone();
    let (px, _) = g.transform.pixel_size();
    let k = (px / 3.0).round() as usize;
    g.transform.0[1] /= k as f64;
    g.transform.0[5] /= k as f64;
    g.width *= k;
    g.height *= k;
    let (a, b) = (dir.path().join("a.tif"), dir.path().join("b.tif"));
    common::write_raster::<u8>(&a, &g, Some(0.0), |c, r| (1 + (c / 7 + r / 5) % 9) as u8);
    common::write_raster::<u8>(&b, &g, Some(0.0), |c, r| (1 + (c / 5 + r / 7) % 9) as u8);
    for signal in ["-INT", "-TERM"] {
        let out = dir.path().join(format!("out{signal}"));
        std::fs::create_dir(&out).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qingshan"))
            .args(["change", "--before", &s(&a), "--after", &s(&b), "--zones"])
            .arg(support::fx("towns.geojson"))
            .arg("--change-raster")
            .arg(out.join("t.tif"))
            .arg("-o")
            .arg(out.join("c.json"))
            .args(["-q", "--threads", "1"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the transition raster's temporary file, then interrupt.
        let hidden = || {
            std::fs::read_dir(&out)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with('.')
                })
                .count()
        };
        let t0 = std::time::Instant::now();
        while hidden() == 0 && t0.elapsed().as_secs() < 60 {
            assert!(
                child.try_wait().unwrap().is_none(),
                "finished before it could be interrupted"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(hidden() > 0, "no temporary file appeared");
        let pid = child.id().to_string();
        let k = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(k.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{signal}: {}", stderr(&o));
        let left: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(left.is_empty(), "{signal}: left behind {left:?}");
    }
}

/// Messages give the real cause, the file first, once.
#[test]
fn messages_name_the_real_cause_once() {
    let o = qingshan(&["merge", "no-such-dir"]);
    assert_user_error(&o, &["no-such-dir: cannot read: no such file or directory"]);
    let towns = support::fx("towns.geojson");
    let lc = support::fx("landcover/clcd_2024.vrt");
    let o = qingshan(&[
        "stats",
        "--landcover",
        &lc,
        "--zones",
        &towns,
        "-q",
        "-o",
        "no/such/dir/x.json",
    ]);
    assert_user_error(
        &o,
        &["no/such/dir/x.json: cannot write: its directory does not exist"],
    );
    let err = stderr(&o);
    assert_eq!(err.matches("x.json").count(), 1, "{err}");
}

/// A GBK shapefile without `.cpg` (红土镇 and 广阳镇 both decoded to
/// U+FFFD × 6 and collided as ids): its text is read as GBK with a warning
/// naming the file; `--encoding` says it explicitly, and an encoding that
/// does not decode the text is an error, never replacement characters.
#[test]
fn gbk_shapefiles_without_cpg_are_read_as_gbk_out_loud() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("towns.geojson");
    std::fs::write(
        &src,
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4545"}},
"features":[{"type":"Feature","properties":{"name":"红土镇"},"geometry":{"type":"Polygon","coordinates":[[[590000,3890000],[595000,3890000],[595000,3895000],[590000,3895000],[590000,3890000]]]}},
{"type":"Feature","properties":{"name":"广阳镇"},"geometry":{"type":"Polygon","coordinates":[[[595000,3890000],[600000,3890000],[600000,3895000],[595000,3895000],[595000,3890000]]]}}]}"#,
    )
    .unwrap();
    let shp = dir.path().join("towns.shp");
    let ok = std::process::Command::new("ogr2ogr")
        .args(["-f", "ESRI Shapefile", "-lco", "ENCODING=CP936"])
        .arg(&shp)
        .arg(&src)
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::remove_file(dir.path().join("towns.cpg")).unwrap();
    let lc = support::fx("landcover/clcd_2024.vrt");
    let stats = |extra: &[&str]| {
        let mut args = vec![
            "stats",
            "--landcover",
            &lc,
            "--id-field",
            "name",
            "-q",
            "--format",
            "csv",
        ];
        let z = s(&shp);
        args.extend(["--zones", &z]);
        args.extend(extra);
        qingshan(&args)
    };
    let o = stats(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(
        out.contains("\n红土镇,红土镇,") && out.contains("\n广阳镇,广阳镇,"),
        "{out}"
    );
    assert!(!out.contains('\u{FFFD}'), "{out}");
    let err = stderr(&o);
    assert!(
        err.contains("towns.shp") && err.contains("not valid UTF-8") && err.contains("GBK"),
        "{err}"
    );
    // The DBF marked "ANSI code page" (language id 0x57, what many
    // Chinese desktop GIS write): GDAL would decode Latin-1 mojibake
    // (½ðËø¹ØÕò) without a replacement character; read as GBK out loud.
    let dbf = dir.path().join("towns.dbf");
    let mut bytes = std::fs::read(&dbf).unwrap();
    let ldid = bytes[29];
    for id in [0x57, 0x03, 0x01] {
        bytes[29] = id;
        std::fs::write(&dbf, &bytes).unwrap();
        let o = stats(&[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(String::from_utf8(o.stdout.clone()).unwrap(), out, "{id:#x}");
        assert!(stderr(&o).contains("not valid UTF-8"), "{}", stderr(&o));
    }
    bytes[29] = ldid;
    std::fs::write(&dbf, &bytes).unwrap();
    // Said explicitly: no warning.
    let o = stats(&["--encoding", "GBK"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout.clone()).unwrap(), out);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    // The wrong encoding named: an error, not mojibake of U+FFFD.
    assert_user_error(
        &stats(&["--encoding", "UTF-8"]),
        &["towns.shp", "not valid UTF-8", "--encoding"],
    );
    // --encoding on a GeoJSON is a mistake.
    let o = qingshan(&[
        "stats",
        "--landcover",
        &lc,
        "--zones",
        &s(&src),
        "--encoding",
        "GBK",
        "-q",
    ]);
    assert_user_error(&o, &["towns.geojson", "shapefiles only"]);
}
