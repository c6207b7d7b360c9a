//! The audit bundle: everything `qingshan report` needs, in one directory.
//!
//! `qingshan audit -o DIR` writes `DIR/audit.json` (the `qingshan.audit/1`
//! document), the report's maps as PNG files beside it
//! (`landcover.png`, `forest_change.png`, `redlines.png` when red lines
//! were audited) and `DIR/report.html`. The maps are drawn from the
//! audit's inputs while they are at hand; from then on the bundle stands
//! alone: copied to another machine without the land cover or the zones,
//! [`Bundle::load`] reads it back and renders the same page, byte for
//! byte.
//!
//! Invariant: a bundle's HTML depends only on the files in its directory
//! and the language asked for.

use std::path::{Path, PathBuf};

use super::html::{Lang, ReportOptions, render_html};
use super::map::{MapPng, Maps};
use crate::audit::AuditReport;
use crate::export::{self, Format};
use crate::fsio::write_atomic;
use crate::{Error, Result};

/// The audit document's file name in a bundle.
pub const AUDIT_JSON: &str = "audit.json";
/// The report's file name in a bundle.
pub const REPORT_HTML: &str = "report.html";
/// The land-cover map's file name.
pub const LAND_COVER_PNG: &str = "landcover.png";
/// The forest change map's file name.
pub const FOREST_CHANGE_PNG: &str = "forest_change.png";
/// The red-line change map's file name.
pub const REDLINES_PNG: &str = "redlines.png";

/// An audit and the maps of its report.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The audit document.
    pub audit: AuditReport,
    /// The report's maps.
    pub maps: Maps,
}

/// Where a bundle's files were written.
#[derive(Clone, Debug, PartialEq)]
pub struct BundlePaths {
    /// `audit.json`.
    pub audit_json: PathBuf,
    /// The PNG maps.
    pub maps: Vec<PathBuf>,
    /// `report.html`.
    pub report_html: PathBuf,
}

impl Bundle {
    /// Draws the report's maps from the audit's inputs, which must still
    /// be in place ([`Maps::draw`]).
    pub fn draw(audit: AuditReport, map_size: usize) -> Result<Bundle> {
        let maps = Maps::draw(&audit, map_size)?;
        Ok(Bundle { audit, maps })
    }

    /// Reads a bundle: `audit_json` (a `qingshan.audit/1` document) and
    /// the maps in its directory. A missing or damaged file is an error
    /// naming it.
    pub fn load(audit_json: &Path) -> Result<Bundle> {
        let audit = AuditReport::load(audit_json)?;
        let dir = crate::fsio::parent_dir(audit_json);
        let read = |name: &str| -> Result<MapPng> {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| {
                Error::open(
                    &path,
                    format!(
                        "{e}; the report needs the maps qingshan audit wrote beside {AUDIT_JSON}: copy the whole directory"
                    ),
                )
            })?;
            MapPng::from_file_bytes(&path, bytes)
        };
        let maps = Maps {
            land_cover: read(LAND_COVER_PNG)?,
            forest_change: read(FOREST_CHANGE_PNG)?,
            redlines: match audit.inputs.redlines {
                Some(_) => Some(read(REDLINES_PNG)?),
                None => None,
            },
        };
        Ok(Bundle { audit, maps })
    }

    /// The report as one self-contained HTML page.
    pub fn render(&self, lang: Lang) -> Result<String> {
        render_html(
            &self.audit,
            &self.maps,
            &ReportOptions {
                lang,
                ..Default::default()
            },
        )
    }

    /// Writes the bundle into `dir` (created when missing): the maps,
    /// `audit.json`, then `report.html` in `lang`, each atomically.
    pub fn write(&self, dir: &Path, lang: Lang) -> Result<BundlePaths> {
        crate::fsio::create_dir(dir)?;
        let html = self.render(lang)?;
        let mut maps = Vec::new();
        let pngs = [
            (LAND_COVER_PNG, Some(&self.maps.land_cover)),
            (FOREST_CHANGE_PNG, Some(&self.maps.forest_change)),
            (REDLINES_PNG, self.maps.redlines.as_ref()),
        ];
        for (name, png) in pngs {
            if let Some(png) = png {
                let path = dir.join(name);
                write_atomic(&path, |w| w.write_all(&png.png))?;
                maps.push(path);
            }
        }
        let audit_json = dir.join(AUDIT_JSON);
        export::write(&audit_json, Format::Json, &export::Audit(&self.audit))?;
        let report_html = dir.join(REPORT_HTML);
        write_atomic(&report_html, |w| w.write_all(html.as_bytes()))?;
        Ok(BundlePaths {
            audit_json,
            maps,
            report_html,
        })
    }
}

/// Draws the maps of `audit` from its inputs and writes the bundle into
/// `dir`: what `qingshan audit` does after measuring.
pub fn write_bundle(
    audit: AuditReport,
    dir: &Path,
    opts: &ReportOptions,
) -> Result<(Bundle, BundlePaths)> {
    let bundle = Bundle::draw(audit, opts.map_size)?;
    let paths = bundle.write(dir, opts.lang)?;
    Ok((bundle, paths))
}
