//! Machine outputs: every result — `stats`, `change`, `redline diff` and
//! `check`, batch merges, the audit — as its JSON contract
//! (`qingshan.*/1`, areas in m²), long-form CSV with m², ha and mu,
//! GeoJSON of the zones with their numbers as properties (opens in QGIS),
//! an aligned table for the terminal, or an Excel workbook with Chinese
//! headers ([`xlsx`]; stats, change and slope).
//!
//! One trait, [`Export`], one dispatch, [`render()`] (and [`write()`] to a file): a result wrapped with
//! what its formats need (the legend for class names, the zone layer for
//! geometries) writes any format it supports through [`crate::fsio`], so a
//! failed or interrupted run never leaves a half-written output.
//!
//! Invariant: the JSON is the result's serde serialisation, nothing
//! hand-built; every other format is derived from the same numbers.
//!
//! # Examples
//! ```
//! use qingshan::export::{self, Format};
//! use qingshan::{legend::Legend, raster::LandCover, zonal::zonal_stats};
//! use qingshan::zones::{ZoneLayer, ZoneOptions};
//!
//! let lc = LandCover::open(&["../../fixtures/landcover/clcd_2019.vrt"], 1)?;
//! let towns = ZoneLayer::read("../../fixtures/towns.geojson".as_ref(), &ZoneOptions::default())?;
//! let clcd = Legend::builtin("clcd").unwrap();
//! let report = zonal_stats(&lc, &towns, &clcd, &Default::default())?;
//! let out = export::Stats { report: &report, legend: &clcd, zones: Some(&towns) };
//! let mut csv = Vec::new();
//! export::render(&out, Format::Csv, &mut csv)?;
//! assert!(csv.starts_with(b"zone_id,zone_name,class"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod audit;
mod change;
mod landuse;
mod redline;
mod series;
mod slope;
mod stats;
mod values;
pub mod xlsx;

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Result;
use crate::area::M2_PER_MU;
use crate::grid::Crs;

pub use audit::Audit;
pub use change::Change;
pub use landuse::{CHANGE_LIST_FIELDS, ChangeList};
pub use redline::{Check, Diff, LostGeometry, Patches};
pub use series::Series;
pub use slope::{STEEP_FIELDS, Slope, SteepCropland, grade_label};
pub use stats::Stats;
pub use values::Values;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// The JSON contract (qingshan.*/1), areas in m².
    Json,
    /// CSV: long form with m², ha and mu for areas (one row per zone ×
    /// class, grade, date…); wide for `values` (one row per zone).
    Csv,
    /// The zones with their numbers as properties (opens in QGIS).
    #[cfg_attr(feature = "clap", value(name = "geojson"))]
    GeoJson,
    /// An aligned summary table for the terminal.
    Table,
    /// An Excel workbook, Chinese headers, areas in m², ha and mu (stats,
    /// change, slope).
    Xlsx,
}

impl Format {
    /// Guesses the format from a file extension (`.csv`, `.geojson`,
    /// `.xlsx`, `.txt` for a table, else JSON).
    pub fn from_path(path: &Path) -> Format {
        match path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("geojson") => Format::GeoJson,
            Some("txt") => Format::Table,
            Some("xlsx") => Format::Xlsx,
            _ => Format::Json,
        }
    }

    /// The format asked for, else the one the output's extension names,
    /// else JSON (what the CLI's `--format` and `-o` decide together).
    pub fn resolve(asked: Option<Format>, output: Option<&Path>) -> Format {
        match (asked, output) {
            (Some(f), _) => f,
            (None, Some(p)) => Format::from_path(p),
            (None, None) => Format::Json,
        }
    }
}

/// A result that can be written in the output formats. `json` is the
/// contract; a format a result cannot give (GeoJSON without geometries,
/// XLSX for a result without sheets) is an error that says which formats
/// it can.
pub trait Export {
    /// The JSON contract (pretty, with a final newline).
    fn json(&self, w: &mut dyn Write) -> io::Result<()>;
    /// Long-form CSV.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()>;
    /// GeoJSON features with the numbers as properties.
    fn geojson(&self, _w: &mut dyn Write) -> io::Result<()> {
        Err(io::Error::other(
            "this result has no geometry to write as GeoJSON: use json, csv or table",
        ))
    }
    /// An aligned text table.
    fn table(&self, w: &mut dyn Write) -> io::Result<()>;
    /// An Excel workbook ([`xlsx::write_xlsx`] of the result's sheets,
    /// Chinese headers).
    fn xlsx(&self, _w: &mut dyn Write) -> io::Result<()> {
        Err(io::Error::other(format!(
            "XLSX is not available for {}; use csv",
            self.name()
        )))
    }
    /// What the result is called in messages (`values`, `redline diff`).
    fn name(&self) -> &'static str {
        "this result"
    }
}

/// Writes `out` in `format` to `w`: the one place a format is dispatched.
pub fn render(out: &dyn Export, format: Format, w: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Json => out.json(w),
        Format::Csv => out.csv(w),
        Format::GeoJson => out.geojson(w),
        Format::Table => out.table(w),
        Format::Xlsx => out.xlsx(w),
    }
}

/// Writes `out` in `format` to `path` (`-` for standard output),
/// atomically ([`crate::fsio::write_atomic`]).
pub fn write(path: &Path, format: Format, out: &dyn Export) -> Result<()> {
    crate::fsio::write_atomic(path, |w| render(out, format, w))
}

/// Serialises any result as pretty JSON with a final newline.
pub fn write_json<T: Serialize>(value: &T, w: &mut dyn Write) -> io::Result<()> {
    // `io::Error::from` hands back the writer's own error (a closed pipe
    // stays a closed pipe), not a wrapper around it.
    serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// Quotes a CSV field when needed (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Formats an area for CSV: plain decimal, enough digits to round-trip.
pub fn num(v: f64) -> String {
    format!("{v}")
}

/// An area in mu with two decimals; a rounding-noise negative (−0.001 mu)
/// prints as 0.00, not as a loss.
pub(crate) fn mu(m2: f64) -> String {
    let s = format!("{:.2}", m2 / M2_PER_MU);
    if s == "-0.00" { "0.00".to_string() } else { s }
}

/// Display width of a string in a terminal (East Asian wide characters
/// take two columns).
pub fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Writes rows as an aligned text table (first row is the header; numbers
/// right-aligned, text left-aligned).
pub fn write_table(rows: &[Vec<String>], w: &mut dyn Write) -> io::Result<()> {
    let ncol = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..ncol)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| display_width(s)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - display_width(cell);
            let numeric = i > 0 && cell.parse::<f64>().is_ok();
            if c > 0 {
                line.push_str("  ");
            }
            if numeric {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if c + 1 < row.len() {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The GeoJSON `crs` member for a CRS (none for lon/lat WGS 84, as RFC 7946
/// wants).
pub fn crs_member(crs: &Crs) -> Option<Value> {
    match crs.epsg {
        Some(4326) => None,
        Some(code) => Some(serde_json::json!({
            "type": "name",
            "properties": {"name": format!("urn:ogc:def:crs:EPSG::{code}")}
        })),
        None => Some(serde_json::json!({
            "type": "name",
            "properties": {"name": crs.wkt}
        })),
    }
}

/// Writes the zones of `layer` (in their own CRS) as GeoJSON, each with
/// its attributes, `zone_id`, and what `props(k, …)` adds for zone `k`;
/// without a layer, an error naming the formats that work.
pub(crate) fn zones_geojson(
    layer: Option<&crate::zones::ZoneLayer>,
    w: &mut dyn Write,
    mut props: impl FnMut(usize, &mut Map<String, Value>),
) -> io::Result<()> {
    let Some(layer) = layer else {
        return Err(io::Error::other(
            "no zone geometries to write GeoJSON with: use json, csv or table",
        ));
    };
    let features = layer.zones.iter().enumerate().map(|(k, zone)| {
        let mut p = zone.attributes.clone();
        p.insert("zone_id".into(), Value::from(zone.id.clone()));
        props(k, &mut p);
        (zone.geometry.clone(), p)
    });
    write_feature_collection(&layer.crs, features, w)
}

/// Writes a GeoJSON FeatureCollection of `geometries` (in `crs`) with the
/// given properties.
pub fn write_feature_collection(
    crs: &Crs,
    features: impl Iterator<Item = (geo::MultiPolygon<f64>, Map<String, Value>)>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let features: Vec<geojson::Feature> = features
        .map(|(g, props)| geojson::Feature {
            bbox: None,
            geometry: Some(geojson::Geometry::new(geojson::GeometryValue::from(&g))),
            id: None,
            properties: Some(props),
            foreign_members: None,
        })
        .collect();
    let mut fc = geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    };
    if let Some(member) = crs_member(crs) {
        let mut m = Map::new();
        m.insert("crs".into(), member);
        fc.foreign_members = Some(m);
    }
    serde_json::to_writer(&mut *w, &fc).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("金锁关镇"), "金锁关镇");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn tables_align_cjk_text() {
        let rows = vec![
            vec!["zone".to_string(), "name".to_string(), "km²".to_string()],
            vec!["a".to_string(), "金锁关镇".to_string(), "1.5".to_string()],
            vec!["bb".to_string(), "Azhuang".to_string(), "12.25".to_string()],
        ];
        let mut out = Vec::new();
        write_table(&rows, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "a     金锁关镇    1.5");
        assert_eq!(lines[2], "bb    Azhuang   12.25");
        assert_eq!(display_width(lines[1]), display_width(lines[2]));
    }

    #[test]
    fn formats_follow_the_flag_then_the_extension() {
        fn p(s: &str) -> Option<&Path> {
            Some(Path::new(s))
        }
        assert_eq!(Format::resolve(None, p("x.CSV")), Format::Csv);
        assert_eq!(Format::resolve(None, p("x.geojson")), Format::GeoJson);
        assert_eq!(Format::resolve(None, p("x.txt")), Format::Table);
        assert_eq!(Format::resolve(None, p("x.json")), Format::Json);
        assert_eq!(Format::resolve(None, p("统计.XLSX")), Format::Xlsx);
        assert_eq!(Format::resolve(None, None), Format::Json);
        assert_eq!(
            Format::resolve(Some(Format::Table), p("x.csv")),
            Format::Table
        );
    }
}
