//! The audit report a person reads: one self-contained HTML page (maps
//! embedded as PNG, no network) rendered from the audit bundle alone —
//! `audit.json` and the PNG maps `qingshan audit` writes beside it — so
//! `qingshan report` works on a copied bundle with the inputs gone.
//! Machine outputs (JSON, CSV, GeoJSON, tables) are [`crate::export`]'s.
//!
//! - [`bundle`]: writing and reading the bundle directory;
//! - [`html`]: the page, section by section, every number tagged with its
//!   path in `audit.json`;
//! - [`map`]: the PNG maps, drawn from the inputs when the audit runs;
//! - `terrain`: the slope-grade map and the steep-cropland section.

pub mod bundle;
pub mod chart;
pub mod html;
mod landuse;
pub mod map;
mod terrain;
mod trend;
mod unit;

pub use bundle::{Bundle, BundlePaths, write_bundle};
pub use html::{Lang, ReportOptions, render_html};
