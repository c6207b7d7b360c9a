//! The front end of `qingshan` shared by the command line and the Python
//! package: the flags ([`cli`], clap), one function per subcommand
//! ([`commands`]: arguments into `qingshan::commands`, the result out
//! through `qingshan::export`) and where their words go ([`session`]).
//!
//! The Python package runs a command through [`run_captured`] with the
//! same flags the command line takes, so both front ends accept the same
//! arguments, write the same files and produce the same bytes.

pub mod cli;
pub mod commands;
mod progress;
pub mod session;

use std::sync::Arc;

use clap::Parser;

pub use session::{Captured, Session};

/// Why a captured run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The arguments were refused (exit 2 on the command line): unknown
    /// or missing flags, a bad value.
    Usage(String),
    /// An input could not be read or was refused (exit 1).
    Input(String),
    /// An output could not be written (exit 1).
    Output(String),
    /// Any other error (exit 1).
    Other(String),
}

impl Failure {
    /// The one-line message the command line prints after `error: `.
    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Input(m) | Failure::Output(m) | Failure::Other(m) => m,
        }
    }

    fn of(e: &anyhow::Error) -> Failure {
        use qingshan::Error as E;
        let message = qingshan::one_line(&format!("{e:#}"));
        match e.downcast_ref::<E>() {
            Some(E::Write { .. } | E::WriteFile { .. } | E::Xlsx { .. }) => {
                Failure::Output(message)
            }
            // A value the library refused (a bad statistic, a bad date).
            Some(E::Invalid(_)) => Failure::Usage(message),
            None => Failure::Other(message),
            Some(_) => Failure::Input(message),
        }
    }
}

/// clap's message without its `error: ` prefix, usage line and `--help`
/// tip (which speak of the command line): one line.
fn usage_message(e: &clap::Error) -> String {
    let text = e.to_string();
    let kept: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect();
    let line = qingshan::one_line(&kept.join(" "));
    line.strip_prefix("error: ").unwrap_or(&line).to_string()
}

/// Runs `qingshan ARGS…` (without the program name) captured: nothing is
/// printed, the files the flags name are written as the command line
/// writes them, and the result comes back as JSON with the warnings.
/// `progress` hears the run's progress. Returns the exit code (0, or 3
/// when a check failed) and what was captured.
pub fn run_captured(
    args: &[String],
    progress: Option<Arc<dyn qingshan::Progress + Send + Sync>>,
) -> Result<(u8, Captured), Failure> {
    qingshan::raster::setup_gdal();
    let argv = std::iter::once("qingshan".to_string()).chain(args.iter().cloned());
    let cli = cli::Cli::try_parse_from(argv).map_err(|e| Failure::Usage(usage_message(&e)))?;
    let s = Session::captured(progress);
    let code = commands::dispatch(&s, cli.command).map_err(|e| Failure::of(&e))?;
    Ok((code, s.take()))
}
