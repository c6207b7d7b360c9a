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
