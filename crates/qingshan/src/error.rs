//! Errors in the user's terms: every variant names the file (and, for zones,
//! the feature) and says what went wrong, so the CLI can print one line and
//! exit 1. A cause from the operating system is kept as the error's
//! `source()` (not flattened into text): print the whole chain with
//! [`Error::full_message`] or anyhow's `{:#}`.

use std::path::PathBuf;

/// Result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in qingshan, with the file and feature it
/// concerns. The CLI prints the message on one line and exits with code 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read by GDAL (or is missing).
    #[error("{path}: cannot read: {reason}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What GDAL said, or what is missing.
        reason: String,
    },
    /// The file system refused to read a file or a directory.
    #[error("{path}: cannot read")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A document — an audit file (TOML), an `audit.json`, a batch
    /// manifest or partial (JSON) — is not what it must be.
    #[error("{path}: {reason}")]
    Document {
        /// The document.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A raster is unusable as land cover (wrong type, no CRS, …).
    #[error("{path}: {reason}")]
    Raster {
        /// The raster file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// Reading a block of a raster failed (truncated or corrupt file).
    #[error(
        "{path}: failed to read pixels at column {col}, row {row} ({width}×{height}); the file may be truncated or corrupt: {reason}"
    )]
    RasterRead {
        /// The raster file.
        path: PathBuf,
        /// Window column offset.
        col: usize,
        /// Window row offset.
        row: usize,
        /// Window width.
        width: usize,
        /// Window height.
        height: usize,
        /// What GDAL said.
        reason: String,
    },
    /// Two rasters that must share a CRS or grid do not.
    #[error("{first} and {second}: {reason}")]
    GridMismatch {
        /// One raster.
        first: PathBuf,
        /// The other raster.
        second: PathBuf,
        /// How they differ.
        reason: String,
    },
    /// A vector layer (zones, red lines) is unusable as a whole.
    #[error("{path}: {reason}")]
    Zones {
        /// The vector file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// One feature of a vector layer is unusable.
    #[error("{path}: feature {feature}: {reason}")]
    ZoneGeometry {
        /// The vector file.
        path: PathBuf,
        /// Feature id or index, as the user would find it.
        feature: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A coordinate reference system could not be understood or used.
    #[error("{context}: {reason}")]
    Crs {
        /// Where the CRS came from (a file, an option).
        context: String,
        /// What is wrong.
        reason: String,
    },
    /// A legend (built-in name or TOML file) is invalid.
    #[error("legend {source_name}: {reason}")]
    Legend {
        /// The legend name or file.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing an output failed (GDAL, or a precondition such as a
    /// missing directory).
    #[error("{path}: cannot write: {reason}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The file system refused to write an output.
    #[error("{path}: cannot write")]
    WriteFile {
        /// The output file (or directory).
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// An Excel workbook could not be built (a sheet name Excel refuses,
    /// more rows than a sheet holds, a text longer than a cell holds).
    #[error("cannot build the XLSX workbook: {reason}")]
    Xlsx {
        /// Which part (a sheet) and what the XLSX writer said.
        reason: String,
    },
    /// An option value is invalid.
    #[error("{0}")]
    Invalid(String),
}

/// GDAL's last error message (after a failed call through `gdal_sys`), or
/// `fallback` when GDAL recorded none.
pub(crate) fn last_cpl_error(fallback: &str) -> String {
    // SAFETY: CPLGetLastErrorMsg returns a pointer to a NUL-terminated
    // thread-local string that stays valid until the next GDAL call on this
    // thread; it is copied before any other call.
    #[allow(unsafe_code)]
    let msg = unsafe {
        let p = gdal_sys::CPLGetLastErrorMsg();
        if p.is_null() {
            String::new()
        } else {
            std::ffi::CStr::from_ptr(p)
                .to_string_lossy()
                .trim()
                .to_string()
        }
    };
    if msg.is_empty() {
        fallback.to_string()
    } else {
        msg
    }
}

/// A TOML parse error as one line, the reason first and then where:
/// `unknown field `colour`, expected … (line 1, column 1)` — the toml
/// crate's own text spreads a snippet over five lines with the reason
/// last.
pub(crate) fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let reason = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{reason} (line {line}, column {column})")
        }
        None => reason,
    }
}

/// `text` on one line: libraries end their messages with newlines (GEOS
/// through GDAL does) and some span several; the CLI prints one line, so
/// line breaks become `; `.
pub fn one_line(text: &str) -> String {
    if !text.contains(['\n', '\r']) {
        return text.to_string();
    }
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The message of a GDAL error without the `CPL error class …` wrapping.
pub(crate) fn gdal_msg(e: &gdal::errors::GdalError) -> String {
    match e {
        gdal::errors::GdalError::CplError { msg, .. } => msg.trim().to_string(),
        gdal::errors::GdalError::NullPointer { msg, .. } if msg.trim().is_empty() => {
            "format not recognised, or the file is unreadable".to_string()
        }
        gdal::errors::GdalError::NullPointer { msg, .. } => msg.trim().to_string(),
        gdal::errors::GdalError::InvalidCoordinateRange { msg, .. } => match msg {
            Some(m) => format!("a point is outside the projection's domain ({})", m.trim()),
            None => "a point is outside the projection's domain".to_string(),
        },
        other => other.to_string(),
    }
}

impl Error {
    /// The message with every cause after it, separated by `: ` — the
    /// one line the CLI prints.
    pub fn full_message(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        one_line(&out)
    }

    /// The underlying I/O error, when the operating system caused this one
    /// (a closed pipe, a full disk).
    pub fn io_cause(&self) -> Option<&std::io::Error> {
        match self {
            Error::Read { source, .. } | Error::WriteFile { source, .. } => Some(source),
            _ => None,
        }
    }

    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Read {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn write_io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::WriteFile {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn document(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        Error::Document {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn open(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        Error::Open {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn raster(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        Error::Raster {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn zones(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        Error::Zones {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn feature(
        path: impl Into<PathBuf>,
        feature: impl ToString,
        reason: impl ToString,
    ) -> Self {
        Error::ZoneGeometry {
            path: path.into(),
            feature: feature.to_string(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn write(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        Error::Write {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GDAL's errors reach messages without Rust's debug text (`Some("…")`)
    /// or trailing newlines, and every message is one line.
    #[test]
    fn messages_are_plain_single_lines() {
        let e = gdal::errors::GdalError::InvalidCoordinateRange {
            from: "+proj=moll".into(),
            to: "+proj=longlat".into(),
            msg: Some("Point outside of projection domain\n".into()),
        };
        let m = gdal_msg(&e);
        assert_eq!(
            m,
            "a point is outside the projection's domain (Point outside of projection domain)"
        );
        assert_eq!(
            one_line("first\nsecond\r\n\nthird\n"),
            "first; second; third"
        );
        assert_eq!(one_line("plain"), "plain");
    }
}
