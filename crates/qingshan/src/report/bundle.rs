//! The audit bundle: everything `qingshan report` needs, in one directory.
//!
//! `qingshan audit -o DIR` writes the report's maps as PNG files
//! (`landcover.png`, `forest_change.png`, `redlines.png` when red lines
//! were audited), `DIR/audit.json` (the `qingshan.audit/1` document),
//! `DIR/report.html` and, last, `DIR/bundle.json`: the fingerprint of
//! `audit.json` and of each map. The maps are drawn from the audit's
//! inputs while they are at hand; from then on the bundle stands alone:
//! copied to another machine without the land cover or the zones,
//! [`Bundle::load`] reads it back and renders the same page, byte for
//! byte.
//!
//! Invariant: a bundle renders only when its files belong together —
//! every file `bundle.json` lists has the content it had when the audit
//! wrote it. A bundle written partly (an interrupted or failed re-run), or
//! with a file replaced, is refused, naming the file. An audit directory
//! from before bundles (no `bundle.json`) gets its maps drawn again from
//! the inputs, as `report` used to do, and says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::html::{Lang, ReportOptions, render_html};
use super::map::{MapPng, Maps};
use crate::audit::AuditReport;
use crate::export::{self, Format};
use crate::fsio::{Fnv, write_atomic};
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
/// The slope-grade map (audits with a DEM).
pub const SLOPE_PNG: &str = "slope.png";
/// The bundle's own manifest: which files belong together.
pub const BUNDLE_JSON: &str = "bundle.json";
/// Schema tag of `bundle.json`.
pub const BUNDLE_SCHEMA: &str = "qingshan.bundle/1";
/// Longest side of maps drawn again for an audit directory from before
/// bundles (what `report` drew then by default).
const LEGACY_MAP_SIZE: usize = 900;

/// `bundle.json`: the fingerprint of each file the report is made from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Manifest {
    schema: String,
    /// File name → fingerprint of its content.
    files: BTreeMap<String, String>,
}

/// An audit and the maps of its report.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The audit document.
    pub audit: AuditReport,
    /// The report's maps.
    pub maps: Maps,
    /// The maps were drawn again from the audit's inputs (an audit
    /// directory from before bundles), not read from the bundle.
    pub redrawn: bool,
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

impl Maps {
    /// The maps with their file names in a bundle.
    fn files(&self) -> Vec<(&'static str, &MapPng)> {
        let mut out = vec![
            (LAND_COVER_PNG, &self.land_cover),
            (FOREST_CHANGE_PNG, &self.forest_change),
        ];
        if let Some(r) = &self.redlines {
            out.push((REDLINES_PNG, r));
        }
        if let Some(s) = &self.slope {
            out.push((SLOPE_PNG, s));
        }
        out
    }
}

/// Reads a file of a bundle; a missing one is a document error saying
/// what the report needs.
fn read_member(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::document(
            path,
            format!(
                "is missing: the report needs the files qingshan audit wrote beside {AUDIT_JSON}; copy the whole directory"
            ),
        ),
        _ => Error::read(path, e),
    })
}

impl Bundle {
    /// Draws the report's maps from the audit's inputs, which must still
    /// be in place ([`Maps::draw`]).
    pub fn draw(audit: AuditReport, map_size: usize) -> Result<Bundle> {
        let maps = Maps::draw(&audit, map_size)?;
        Ok(Bundle {
            audit,
            maps,
            redrawn: false,
        })
    }

    /// Reads a bundle: `audit_json` (a `qingshan.audit/1` document) and
    /// the maps beside it, checked against `bundle.json`. A missing,
    /// damaged or replaced file is an error naming it.
    pub fn load(audit_json: &Path) -> Result<Bundle> {
        // Beside the file itself, not beside a symlink to it.
        let real = std::fs::canonicalize(audit_json).unwrap_or_else(|_| audit_json.to_path_buf());
        let dir = crate::fsio::parent_dir(&real);
        let manifest_path = dir.join(BUNDLE_JSON);
        if !manifest_path.exists() {
            return Self::load_legacy(audit_json, &manifest_path);
        }
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|e| Error::read(&manifest_path, e))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .ok()
            .filter(|m: &Manifest| m.schema == BUNDLE_SCHEMA)
            .ok_or_else(|| {
                Error::document(&manifest_path, format!("not a {BUNDLE_SCHEMA} manifest"))
            })?;
        let name = real
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let member = |name: &str| -> Result<Vec<u8>> {
            let path = dir.join(name);
            let Some(expected) = manifest.files.get(name) else {
                return Err(Error::document(
                    &path,
                    format!(
                        "is not part of the bundle ({} does not list it)",
                        manifest_path.display()
                    ),
                ));
            };
            let bytes = read_member(&path)?;
            if Fnv::of(&bytes) != *expected {
                return Err(Error::document(
                    &path,
                    "does not belong with the rest of the bundle (written by another audit run, or changed since); run qingshan audit again",
                ));
            }
            Ok(bytes)
        };
        member(&name)?;
        let audit = AuditReport::load(audit_json)?;
        let map = |file: &str| -> Result<MapPng> {
            MapPng::from_file_bytes(&dir.join(file), member(file)?)
        };
        let maps = Maps {
            land_cover: map(LAND_COVER_PNG)?,
            forest_change: map(FOREST_CHANGE_PNG)?,
            redlines: match audit.inputs.redlines {
                Some(_) => Some(map(REDLINES_PNG)?),
                None => None,
            },
            slope: match audit.inputs.terrain {
                Some(_) => Some(map(SLOPE_PNG)?),
                None => None,
            },
        };
        Ok(Bundle {
            audit,
            maps,
            redrawn: false,
        })
    }

    /// An audit directory from before bundles: the maps are drawn again
    /// from the audit's inputs, if they are still there.
    fn load_legacy(audit_json: &Path, manifest_path: &Path) -> Result<Bundle> {
        let audit = AuditReport::load(audit_json)?;
        match Maps::draw(&audit, LEGACY_MAP_SIZE) {
            Ok(maps) => Ok(Bundle {
                audit,
                maps,
                redrawn: true,
            }),
            Err(e) => Err(Error::document(
                manifest_path,
                format!(
                    "is missing, and the maps cannot be drawn from the audit's inputs either ({}); copy the whole directory qingshan audit wrote, or run the audit again",
                    e.full_message()
                ),
            )),
        }
    }

    /// The files of the bundle beside `audit_json` (those that exist or
    /// may): what no output may overwrite.
    pub fn members(audit_json: &Path) -> Vec<PathBuf> {
        let real = std::fs::canonicalize(audit_json).unwrap_or_else(|_| audit_json.to_path_buf());
        let dir = crate::fsio::parent_dir(&real);
        let mut out = vec![audit_json.to_path_buf(), real.clone()];
        for name in [
            BUNDLE_JSON,
            LAND_COVER_PNG,
            FOREST_CHANGE_PNG,
            REDLINES_PNG,
            SLOPE_PNG,
        ] {
            out.push(dir.join(name));
        }
        out
    }

    /// Every file a bundle in `dir` consists of (what `audit -o DIR`
    /// writes).
    pub fn files_in(dir: &Path) -> Vec<PathBuf> {
        [
            AUDIT_JSON,
            LAND_COVER_PNG,
            FOREST_CHANGE_PNG,
            REDLINES_PNG,
            SLOPE_PNG,
            REPORT_HTML,
            BUNDLE_JSON,
        ]
        .iter()
        .map(|n| dir.join(n))
        .collect()
    }

    /// The report as one self-contained HTML page.
    pub fn render(&self, lang: Lang) -> Result<String> {
        render_html(&self.audit, &self.maps, lang)
    }

    /// Writes the bundle into `dir` (created when missing): the maps,
    /// `audit.json`, `report.html` in `lang`, then `bundle.json`, each
    /// atomically.
    pub fn write(&self, dir: &Path, lang: Lang) -> Result<BundlePaths> {
        crate::fsio::create_dir(dir)?;
        let html = self.render(lang)?;
        let mut audit_bytes = Vec::new();
        export::render(&export::Audit(&self.audit), Format::Json, &mut audit_bytes)
            .map_err(|e| Error::Invalid(format!("serialising the audit: {e}")))?;
        let mut files = BTreeMap::new();
        let mut maps = Vec::new();
        for (name, png) in self.maps.files() {
            let path = dir.join(name);
            write_atomic(&path, |w| w.write_all(&png.png))?;
            files.insert(name.to_string(), Fnv::of(&png.png));
            maps.push(path);
        }
        let audit_json = dir.join(AUDIT_JSON);
        write_atomic(&audit_json, |w| w.write_all(&audit_bytes))?;
        files.insert(AUDIT_JSON.to_string(), Fnv::of(&audit_bytes));
        let report_html = dir.join(REPORT_HTML);
        write_atomic(&report_html, |w| w.write_all(html.as_bytes()))?;
        let manifest = Manifest {
            schema: BUNDLE_SCHEMA.to_string(),
            files,
        };
        write_atomic(&dir.join(BUNDLE_JSON), |w| export::write_json(&manifest, w))?;
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
