//! Where outputs may go: never over an input of the run nor over another
//! output of it ([`OutputCheck`]).

use std::path::{Path, PathBuf};

use super::{SHAPEFILE_SIDECARS, parent_dir, write_target};
use crate::{Error, Result};

/// A path with symlinks resolved, for comparing files: the canonical path
/// when it exists, else its canonical directory joined with its name.
fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let dir = std::fs::canonicalize(parent_dir(path)).ok()?;
    Some(dir.join(path.file_name()?))
}

/// The files one run reads and writes, checked before anything is
/// written: an output must not be an input (the zones, a tile — also one
/// behind a VRT —, the audit's files) nor another output of the run.
/// Paths are compared with symlinks and relative spellings resolved; `-`
/// (the standard output) clashes with nothing.
#[derive(Debug, Default)]
pub struct OutputCheck {
    inputs: Vec<(PathBuf, String)>,
    outputs: Vec<(PathBuf, String)>,
}

impl OutputCheck {
    /// An empty check.
    pub fn new() -> OutputCheck {
        OutputCheck::default()
    }

    /// `path` is read by the run as `what` (e.g. `--zones`).
    pub fn input(&mut self, path: &Path, what: &str) {
        if let Some(c) = canonical(path) {
            self.inputs.push((c, what.to_string()));
        }
    }

    /// Every file of `paths` is read by the run as `what`.
    pub fn inputs<P: AsRef<Path>>(&mut self, paths: &[P], what: &str) {
        for p in paths {
            self.input(p.as_ref(), what);
        }
    }

    /// `path` will be written as `what` (e.g. `-o`): an error naming it
    /// and the clash when it is an input or an output already named.
    pub fn output(&mut self, path: &Path, what: &str) -> Result<()> {
        if path.as_os_str() == "-" {
            return Ok(());
        }
        // A Shapefile is written with its sidecars: each must be free too.
        let is_shp = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("shp"));
        let mut files = vec![path.to_path_buf()];
        if is_shp {
            files.extend(SHAPEFILE_SIDECARS.map(|e| path.with_extension(e)));
        }
        let mut mine = Vec::new();
        for file in &files {
            let Some(out) = canonical(&write_target(file)) else {
                continue;
            };
            if let Some((_, input)) = self.inputs.iter().find(|(i, _)| *i == out) {
                return Err(Error::write(
                    file,
                    format!("it is an input of this run ({input}); choose another output"),
                ));
            }
            if let Some((_, other)) = self.outputs.iter().find(|(o, _)| *o == out) {
                return Err(Error::write(
                    file,
                    format!("{other} and {what} name the same file; give each its own"),
                ));
            }
            mine.push((out, what.to_string()));
        }
        self.outputs.extend(mine);
        Ok(())
    }
}

/// Refuses to write `output` over one of `inputs` ([`OutputCheck`]).
pub fn refuse_overwriting(output: &Path, inputs: &[PathBuf]) -> Result<()> {
    let mut check = OutputCheck::new();
    check.inputs(inputs, "an input");
    check.output(output, "the output")
}
