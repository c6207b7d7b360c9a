//! `qingshan batch` and `qingshan merge` on generated tile sets: shards,
//! a real kill -9 and resume, change, overlaps, bad tiles.

mod support;

#[path = "../../qingshan/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use qingshan_fixtures::{SyntheticManifest, SyntheticOptions, write_synthetic};
use support::{qingshan, stderr};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_qingshan")
}

fn set(dir: &Path, width: usize, tiles: usize) -> SyntheticManifest {
    write_synthetic(
        &SyntheticOptions {
            width,
            height: width,
            tiles_x: tiles,
            tiles_y: tiles,
            zones: 60,
            years: vec![2019, 2024],
            ..SyntheticOptions::default()
        },
        dir,
    )
    .expect("generate a tile set")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn batch(set: &SyntheticManifest, out: &Path, extra: &[&str]) -> Output {
    let tiles = s(&set.years[0].vrt.parent().unwrap().join("clcd_2019"));
    let zones = s(&set.zones);
    let out = s(out);
    let mut args = vec![
        "batch",
        "--tiles",
        &tiles,
        "--zones",
        &zones,
        "--id-field",
        "zone_id",
        "--out-dir",
        &out,
        "-q",
    ];
    args.extend_from_slice(extra);
    qingshan(&args)
}

#[test]
fn shards_and_merge_give_the_bytes_of_a_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(&dir.path().join("set"), 1200, 4);
    let single = dir.path().join("single");
    let o = batch(&set, &single, &["--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = std::fs::read(single.join("stats.json")).unwrap();
    // The batch agrees with `qingshan stats` on the VRT of the same tiles.
    let st = dir.path().join("st.json");
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s(&set.years[0].vrt),
        "--zones",
        &s(&set.zones),
        "--id-field",
        "zone_id",
        "-q",
        "-o",
        &s(&st),
    ]);
    assert!(o.status.success());
    let a: serde_json::Value = serde_json::from_slice(&reference).unwrap();
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&st).unwrap()).unwrap();
    for (za, zb) in a["zones"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["zones"].as_array().unwrap())
    {
        assert_eq!(za["id"], zb["id"]);
        for (k, v) in zb["classes"].as_object().unwrap() {
            let (x, y) = (za["classes"][k].as_f64().unwrap(), v.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9 * y.max(1.0), "{k}: {x} vs {y}");
        }
    }
    // Four shards (1 thread each), merged.
    let mut dirs = Vec::new();
    for i in 0..4 {
        let d = dir.path().join(format!("shard{i}"));
        let shard = format!("{i}/4");
        let o = batch(&set, &d, &["--shard", &shard, "--threads", "1"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(!d.join("stats.json").exists());
        dirs.push(s(&d));
    }
    let merged = dir.path().join("merged.json");
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(dirs.iter().map(String::as_str));
    let m = s(&merged);
    args.extend(["-o", &m]);
    let o = qingshan(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&merged).unwrap(), reference);
    // Missing shards are named.
    let o = qingshan(&["merge", &dirs[0], &dirs[2]]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("8 of 16 tiles have no partial yet"),
        "{}",
        stderr(&o)
    );
    // A shard measured in the other area mode is another run: refused.
    let planar = dir.path().join("shard0-planar");
    let o = batch(&set, &planar, &["--shard", "0/4", "--area", "planar"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = s(&planar);
    let o = qingshan(&["merge", &p, &dirs[1], &dirs[2], &dirs[3]]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("manifests of different runs")
            && stderr(&o).contains("one measured planar areas, the other ellipsoidal (--area)"),
        "{}",
        stderr(&o)
    );
    // A partial naming a zone the run does not have is refused by name.
    let bad = std::path::Path::new(&dirs[1]).join("partials");
    let victim = std::fs::read_dir(&bad)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            !v["stats"].as_array().unwrap().is_empty()
        })
        .unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&victim).unwrap()).unwrap();
    v["stats"][0][0] = serde_json::json!(99999);
    std::fs::write(&victim, v.to_string()).unwrap();
    let o = qingshan(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("zone index 99999 out of range"), "{err}");
    assert!(
        err.contains(victim.file_name().unwrap().to_str().unwrap()),
        "{err}"
    );
    // A shard index out of range is refused before any work.
    let fresh = dir.path().join("bad-shard");
    let o = batch(&set, &fresh, &["--shard", "4/4"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--shard \"4/4\""), "{}", stderr(&o));
    assert!(!fresh.join("partials").exists());
}

fn partials(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("partials"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

/// A real kill -9 in the middle of a run, then `--resume`: the same bytes
/// as an uninterrupted run, the finished tiles not recomputed.
#[test]
fn killed_run_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(&dir.path().join("set"), 2400, 6);
    let whole = dir.path().join("whole");
    let o = batch(&set, &whole, &["--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = std::fs::read(whole.join("stats.json")).unwrap();

    let out = dir.path().join("killed");
    let tiles = s(&set.years[0].vrt.parent().unwrap().join("clcd_2019"));
    let mut child = Command::new(bin())
        .args([
            "batch",
            "--tiles",
            &tiles,
            "--zones",
            &s(&set.zones),
            "--id-field",
            "zone_id",
            "--out-dir",
            &s(&out),
            "-q",
            "--threads",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while partials(&out) < 3 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    // SIGKILL: no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    let done = partials(&out);
    assert!(
        (1..36).contains(&done),
        "the kill should land mid-run ({done} of 36 tiles done)"
    );
    assert!(!out.join("stats.json").exists());
    let o = batch(&set, &out, &["--resume", "--threads", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("stats.json")).unwrap(), reference);
    let o = qingshan(&[
        "batch",
        "--tiles",
        &tiles,
        "--zones",
        &s(&set.zones),
        "--id-field",
        "zone_id",
        "--out-dir",
        &s(&out),
        "--resume",
    ]);
    assert!(stderr(&o).contains("(36 already done)"), "{}", stderr(&o));
}

#[test]
fn change_batch_agrees_with_change_on_the_mosaics() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(&dir.path().join("set"), 1200, 3);
    let root = set.years[0].vrt.parent().unwrap().to_path_buf();
    let out = dir.path().join("c");
    let after = s(&root.join("clcd_2024"));
    let o = batch(&set, &out, &["--after-tiles", &after]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("change.json")).unwrap()).unwrap();
    assert_eq!(b["schema"], "qingshan.change/1");
    let c = dir.path().join("c.json");
    let o = qingshan(&[
        "change",
        "--before",
        &s(&set.years[0].vrt),
        "--after",
        &s(&set.years[1].vrt),
        "--zones",
        &s(&set.zones),
        "--id-field",
        "zone_id",
        "-q",
        "-o",
        &s(&c),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let c: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&c).unwrap()).unwrap();
    for (za, zc) in b["zones"]
        .as_array()
        .unwrap()
        .iter()
        .zip(c["zones"].as_array().unwrap())
    {
        for k in [
            "valid_area_m2",
            "nodata_area_m2",
            "forest_gain_m2",
            "forest_loss_m2",
        ] {
            let (x, y) = (za[k].as_f64().unwrap(), zc[k].as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{k}: {x} vs {y}");
        }
    }
}

/// Two tiles overlapping by 40 columns: refused, or with `--overlap first`
/// the same areas as one raster covering both.
#[test]
fn overlapping_tiles_are_refused_or_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let class = |c: usize, r: usize| -> u8 { 1 + ((c / 9 + r / 7) % 9) as u8 };
    let whole = common::grid(4545, 590_000.0, 3_900_000.0, 30.0, 200, 100);
    std::fs::create_dir(d.join("tiles")).unwrap();
    let mut a = whole.clone();
    a.width = 120;
    let mut b = whole.clone();
    b.width = 120;
    b.transform.0[0] += 80.0 * 30.0;
    common::write_raster::<u8>(&d.join("tiles/a.tif"), &a, None, class);
    common::write_raster::<u8>(&d.join("tiles/b.tif"), &b, None, |c, r| class(c + 80, r));
    common::write_raster::<u8>(&d.join("whole.tif"), &whole, None, class);
    std::fs::write(
        d.join("z.geojson"),
        common::geojson(
            Some(4545),
            &[(
                "z",
                vec![common::pixel_rect(&whole, 10.5, 5.25, 190.5, 95.75)],
            )],
        ),
    )
    .unwrap();
    let (tiles, zones) = (s(&d.join("tiles")), s(&d.join("z.geojson")));
    let o = qingshan(&[
        "batch",
        "--tiles",
        &tiles,
        "--zones",
        &zones,
        "--out-dir",
        &s(&d.join("o1")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a.tif")
            && stderr(&o).contains("b.tif")
            && stderr(&o).contains("--overlap first"),
        "{}",
        stderr(&o)
    );
    let o = qingshan(&[
        "batch",
        "--tiles",
        &tiles,
        "--zones",
        &zones,
        "--out-dir",
        &s(&d.join("o2")),
        "--overlap",
        "first",
        "-q",
        "--area",
        "planar",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("o2/stats.json")).unwrap()).unwrap();
    let o = qingshan(&[
        "stats",
        "--landcover",
        &s(&d.join("whole.tif")),
        "--zones",
        &zones,
        "-q",
        "--area",
        "planar",
    ]);
    let want: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (g, w) = (&got["zones"][0], &want["zones"][0]);
    assert!((g["valid_area_m2"].as_f64().unwrap() / (180.0 * 90.5 * 900.0) - 1.0).abs() < 1e-12);
    for (k, v) in w["classes"].as_object().unwrap() {
        let (x, y) = (g["classes"][k].as_f64().unwrap(), v.as_f64().unwrap());
        assert!((x - y).abs() <= 1e-9 * y, "{k}: {x} vs {y}");
    }
}

#[test]
fn read_only_finds_a_corrupt_tile() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(&dir.path().join("set"), 1200, 2);
    let tiles: Vec<PathBuf> = set.years[0].tiles.clone();
    let o = qingshan(&[
        "batch",
        "--tiles",
        &s(&tiles[0]),
        &s(&tiles[1]),
        "--read-only",
        "--out-dir",
        &s(dir.path()),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Mpixel/s"), "{}", stderr(&o));
    let bytes = std::fs::read(&tiles[1]).unwrap();
    std::fs::write(&tiles[1], &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = qingshan(&[
        "batch",
        "--tiles",
        &s(&tiles[0]),
        &s(&tiles[1]),
        "--read-only",
        "--out-dir",
        &s(dir.path()),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&s(&tiles[1])) && !stderr(&o).contains("panicked"),
        "{}",
        stderr(&o)
    );
}

/// The documented scheduler scripts (examples/batch): shards picked by
/// JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm), then
/// the merge, give the single run's bytes.
#[test]
fn scheduler_scripts_shard_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(&dir.path().join("set"), 900, 3);
    let single = dir.path().join("single");
    let o = batch(&set, &single, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/batch");
    let out = dir.path().join("run");
    let tiles = s(&set.years[0].vrt.parent().unwrap().join("clcd_2019"));
    for i in 0..3 {
        let index_var = if i == 1 {
            "SLURM_ARRAY_TASK_ID"
        } else {
            "JOB_COMPLETION_INDEX"
        };
        let o = Command::new("sh")
            .arg(scripts.join("run-shard.sh"))
            .env(index_var, i.to_string())
            .env("SHARDS", "3")
            .env("TILES", &tiles)
            .env("ZONES", s(&set.zones))
            .env("ID_FIELD", "zone_id")
            .env("OUT", s(&out))
            .env("QINGSHAN", bin())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = Command::new("sh")
        .arg(scripts.join("merge.sh"))
        .env("OUT", s(&out))
        .env("QINGSHAN", bin())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(out.join("result.json")).unwrap(),
        std::fs::read(single.join("stats.json")).unwrap()
    );
    let qa = std::fs::read_to_string(out.join("tiles_qa.csv")).unwrap();
    assert_eq!(qa.lines().count(), 1 + 9);
    // Without an index the script refuses, clearly.
    let o = Command::new("sh")
        .arg(scripts.join("run-shard.sh"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no shard index"));
}

/// A planar batch over tiles in two CRSs measures each tile's cells at
/// its own scale and the zones in the first tile's: the merge's check
/// that partials add up to no more than a zone cannot apply, and must not
/// refuse the run (it blamed "a damaged partial", forever).
#[test]
fn planar_batches_over_tiles_in_two_crss_merge() {
    let dir = tempfile::tempdir().unwrap();
    let tiles = dir.path().join("tiles");
    std::fs::create_dir(&tiles).unwrap();
    let fx = support::repo().join("fixtures/landcover/clcd_2024");
    std::fs::copy(fx.join("clcd_2024_r0c0.tif"), tiles.join("a_r0c0.tif")).unwrap();
    for t in ["r0c1", "r1c0", "r1c1"] {
        let o = std::process::Command::new("gdalwarp")
            .args([
                "-q",
                "-t_srs",
                "EPSG:32648",
                "-tr",
                "30",
                "30",
                "-r",
                "near",
            ])
            .arg(fx.join(format!("clcd_2024_{t}.tif")))
            .arg(tiles.join(format!("b_{t}.tif")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let zones = support::fx("towns.geojson");
    for area in ["planar", "ellipsoidal"] {
        let out = dir.path().join(format!("out-{area}"));
        let o = qingshan(&[
            "batch",
            "--tiles",
            &s(&tiles),
            "--zones",
            &zones,
            "--out-dir",
            &s(&out),
            "--area",
            area,
            "--overlap",
            "first",
            "-q",
        ]);
        assert_eq!(o.status.code(), Some(0), "{area}: {}", stderr(&o));
        assert!(out.join("stats.json").exists());
    }
}
