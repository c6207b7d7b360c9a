//! Where a command's words and result go: the terminal for the `qingshan`
//! command, or a capture for another front end (the Python package), which
//! gets the result document as the bytes the command would have printed,
//! the warnings as a list, and the progress through its own reporter.
//!
//! The commands are written once against a [`Session`]; a captured run
//! writes the same files (`-o`, `--change-list`, …) as the command line,
//! prints nothing, and keeps the main result as JSON — the bytes
//! `qingshan … --format json` writes.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Result;
use qingshan::Progress;
use qingshan::export::{self, Export, Format};

use crate::progress::Bar;

/// What a captured run produced.
#[derive(Debug, Default, Clone)]
pub struct Captured {
    /// The main result as JSON (the bytes the command writes with
    /// `--format json`), when the command has one.
    pub json: Option<Vec<u8>>,
    /// The warnings, in the order the command line prints them.
    pub warnings: Vec<String>,
    /// Other lines the command line prints on stderr (a failed check's
    /// violations, summaries), in order.
    pub messages: Vec<String>,
}

/// A run's front end: the terminal, or a capture.
#[derive(Default)]
pub struct Session {
    capture: Option<Mutex<Captured>>,
    progress: Option<Arc<dyn Progress + Send + Sync>>,
}

impl Session {
    /// The command line: words on stderr, results where `-o` says.
    pub fn terminal() -> Session {
        Session::default()
    }

    /// A captured run: nothing printed, the result kept as JSON, progress
    /// reported to `progress` when given.
    pub fn captured(progress: Option<Arc<dyn Progress + Send + Sync>>) -> Session {
        Session {
            capture: Some(Mutex::new(Captured::default())),
            progress,
        }
    }

    /// Whether the run is captured (nothing goes to the terminal).
    pub fn is_captured(&self) -> bool {
        self.capture.is_some()
    }

    fn lock(&self) -> Option<MutexGuard<'_, Captured>> {
        self.capture
            .as_ref()
            .map(|c| c.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// What the run captured (empty for the terminal).
    pub fn take(&self) -> Captured {
        self.lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// A progress bar for the terminal (hidden with `quiet`); a captured
    /// run's bar is hidden and reports to the session's reporter.
    pub fn bar(&self, quiet: bool, label: &str) -> Bar {
        if self.is_captured() {
            Bar::forwarding(label, self.progress.clone())
        } else {
            Bar::new(quiet, label)
        }
    }

    /// Warnings: `warning: …` lines on stderr, or the capture's list.
    pub fn warn(&self, lines: &[String]) {
        match self.lock() {
            Some(mut c) => c.warnings.extend(lines.iter().cloned()),
            None => {
                for l in lines {
                    eprintln!("warning: {l}");
                }
            }
        }
    }

    /// A line for stderr (a violation, a note), or the capture's messages.
    pub fn note(&self, line: &str) {
        match self.lock() {
            Some(mut c) => c.messages.push(line.to_string()),
            None => eprintln!("{line}"),
        }
    }

    /// A summary line of `bar` (not shown when quiet), or the capture's
    /// messages.
    pub fn summary(&self, bar: &Bar, line: &str) {
        match self.lock() {
            Some(mut c) => c.messages.push(line.to_string()),
            None => bar.summary(line),
        }
    }

    /// Text for the standard output (the audit's table), kept as a
    /// message by a captured run.
    pub fn say(&self, text: &str) -> Result<()> {
        match self.lock() {
            Some(mut c) => {
                c.messages.push(text.to_string());
                Ok(())
            }
            None => Ok(qingshan::fsio::write_atomic(Path::new("-"), |w| {
                w.write_all(text.as_bytes())
            })?),
        }
    }

    /// The command's main result: written to `path` in `format` (`-`: the
    /// standard output). A captured run also keeps it as JSON, and writes
    /// a file only when one was named.
    pub fn result(&self, path: &Path, format: Format, out: &dyn Export) -> Result<()> {
        if let Some(mut c) = self.lock() {
            let mut json = Vec::new();
            export::render(out, Format::Json, &mut json)?;
            c.json = Some(json);
            drop(c);
            if path.as_os_str() == "-" {
                return Ok(());
            }
        }
        Ok(export::write(path, format, out)?)
    }

    /// The main result already written to a file by the library (the
    /// audit's audit.json, a batch's stats.json): a captured run keeps
    /// its bytes.
    pub fn result_file(&self, path: &Path) -> Result<()> {
        if let Some(mut c) = self.lock() {
            c.json =
                Some(std::fs::read(path).map_err(|e| {
                    anyhow::anyhow!("{}: cannot read it back: {e}", path.display())
                })?);
        }
        Ok(())
    }

    /// Another output (a lost-geometry file, a QA table): a file, or the
    /// standard output on the terminal only.
    pub fn write(&self, path: &Path, format: Format, out: &dyn Export) -> Result<()> {
        if self.is_captured() && path.as_os_str() == "-" {
            anyhow::bail!(
                "-: only the main result can go to the standard output, and a captured run has none; give a file"
            );
        }
        Ok(export::write(path, format, out)?)
    }
}
