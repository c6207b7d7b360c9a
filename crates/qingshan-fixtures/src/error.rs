//! The crate's error type.

use std::path::PathBuf;

/// What went wrong while generating fixtures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A GDAL call failed.
    #[error("GDAL failed while {context}: {source}")]
    Gdal {
        /// What was being done, e.g. "writing fixtures/towns_gbk.shp".
        context: String,
        /// The GDAL error.
        #[source]
        source: gdal::errors::GdalError,
    },
    /// Reading or writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The options are inconsistent (e.g. zero width, more tiles than cells).
    #[error("invalid options: {0}")]
    Options(String),
    /// A field name is longer than a DBF can hold (10 bytes); GDAL would
    /// truncate it silently.
    #[error("cannot write {path}: field name {name:?} is longer than the 10 bytes a DBF holds")]
    FieldName {
        /// The Shapefile.
        path: PathBuf,
        /// The field name.
        name: String,
    },
    /// A generated geometry broke one of the generator's invariants (a bug).
    #[error("generated geometry is invalid: {0}")]
    Geometry(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches a context to a GDAL result.
pub(crate) trait GdalContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> GdalContext<T> for std::result::Result<T, gdal::errors::GdalError> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Gdal {
            context: context(),
            source,
        })
    }
}

/// Attaches a path to an I/O result.
pub(crate) fn io<T>(r: std::io::Result<T>, path: &std::path::Path) -> Result<T> {
    r.map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
