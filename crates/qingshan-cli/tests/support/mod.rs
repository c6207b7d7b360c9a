//! Helpers shared by the CLI's integration tests: the repository's paths
//! and the real `qingshan` binary run as a user runs it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the repository's `fixtures/`, as an argument.
pub fn fx(name: &str) -> String {
    repo().join("fixtures").join(name).display().to_string()
}

/// Runs the `qingshan` binary with `args`.
pub fn qingshan<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qingshan"))
        .args(args)
        .output()
        .expect("run qingshan")
}

/// The run's standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON on a run's standard output; the run must have exited 0 or 3
/// (a check failed, which the fixtures make happen on purpose).
pub fn json(o: &Output) -> serde_json::Value {
    assert!(
        matches!(o.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(o)
    );
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

/// Runs `qingshan args` and returns the JSON on its standard output.
pub fn json_out(args: &[&str]) -> serde_json::Value {
    json(&qingshan(args))
}

/// Asserts exit 1, no panic, and exactly one `error:` line that contains
/// every one of `needles` (the file named, and what is wrong).
pub fn assert_user_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    for n in needles {
        assert!(lines[0].contains(n), "missing {n:?} in {err}");
    }
}

/// The text of `fixtures/audit.toml` with every input path made absolute
/// (so the config can be written anywhere).
pub fn audit_config_absolute(text: &str) -> String {
    let fixtures = repo().join("fixtures");
    let f = fixtures.display();
    text.replace("\"landcover/", &format!("\"{f}/landcover/"))
        .replace("\"towns.geojson\"", &format!("\"{f}/towns.geojson\""))
        .replace("\"redlines_", &format!("\"{f}/redlines_"))
        .replace("\"dem\"", &format!("\"{f}/dem\""))
        .replace("\"dltb.gpkg\"", &format!("\"{f}/dltb.gpkg\""))
        .replace("\"ndvi/", &format!("\"{f}/ndvi/"))
        .replace("\"landuse/", &format!("\"{f}/landuse/"))
}

/// Runs a tool of gdal-bin (`args[0]`, e.g. `gdalwarp`) and asserts it
/// succeeded; the tests that use it need gdal-bin (`bash .ci/setup`).
pub fn tool<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) {
    let o = Command::new(&args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{:?}: {e} (gdal-bin is needed: bash .ci/setup)", args[0]));
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs a peer check (`benches/peers/SCRIPT`) with `args`; returns its
/// exit code and its standard output and error. The Python packages are
/// installed by `bash .ci/setup --peers`; without them the check fails.
pub fn peer_check<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> (i32, String) {
    let o = Command::new("python3")
        .arg(repo().join("benches/peers").join(script))
        .args(args)
        .output()
        .expect("python3 is needed for the peer checks (bash .ci/setup --peers)");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}
