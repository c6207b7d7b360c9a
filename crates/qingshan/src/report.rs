//! Writing results: JSON (the stable `qingshan.*/1` contracts), CSV with
//! m², ha and mu columns, and GeoJSON of the zones with their numbers as
//! properties (opens in QGIS).
//!
//! Invariant: files are written to a temporary file beside the target and
//! renamed into place, so a failed or interrupted run never leaves a
//! half-written output.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::area::{M2_PER_HA, M2_PER_MU};
use crate::grid::Crs;
use crate::legend::Legend;
use crate::zonal::StatsReport;
use crate::zones::ZoneLayer;
use crate::{Error, Result};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The JSON contract.
    Json,
    /// Long-form CSV.
    Csv,
    /// GeoJSON features.
    GeoJson,
    /// An aligned text table for the terminal.
    Table,
}

impl Format {
    /// Guesses the format from a file extension (`.csv`, `.geojson`, else JSON).
    pub fn from_path(path: &Path) -> Format {
        match path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("geojson") => Format::GeoJson,
            Some("txt") => Format::Table,
            _ => Format::Json,
        }
    }
}

/// Writes `path` atomically: `write` fills a temporary file in the same
/// directory, which is then renamed over `path`. `-` writes to stdout; an
/// existing special file (`/dev/null`, a FIFO, a terminal) is written in
/// place, never replaced.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    if path.as_os_str() == "-" {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        return write(&mut lock)
            .and_then(|_| lock.flush())
            .map_err(|e| Error::write(path, e));
    }
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        if meta.is_dir() {
            return Err(Error::write(path, "is a directory"));
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::write(path, e))?;
        return write(&mut f)
            .and_then(|_| f.flush())
            .map_err(|e| Error::write(path, e));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::write(
            path,
            format!("directory {} does not exist", dir.display()),
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> io::Result<()> {
        let f = File::create(&tmp)?;
        let mut w = BufWriter::new(f);
        write(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::write(path, e));
    }
    Ok(())
}

/// Serialises any result as pretty JSON with a final newline.
pub fn write_json<T: Serialize>(value: &T, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::other)?;
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

/// Writes stats as long-form CSV: one row per zone × class, with m², ha,
/// mu and the share of the zone's valid area.
pub fn write_stats_csv(report: &StatsReport, legend: &Legend, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "zone_id,zone_name,class,class_name,forest,area_m2,area_ha,area_mu,share_of_valid"
    )?;
    for z in &report.zones {
        for (code, &a) in &z.classes {
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{}",
                csv_field(&z.id),
                csv_field(z.name.as_deref().unwrap_or("")),
                code,
                csv_field(&legend.name_of(*code)),
                legend.is_forest(*code),
                num(a),
                num(a / M2_PER_HA),
                num(a / M2_PER_MU),
                if z.valid_area_m2 > 0.0 {
                    num(a / z.valid_area_m2)
                } else {
                    String::new()
                }
            )?;
        }
    }
    Ok(())
}

/// Display width of a string in a terminal (CJK characters take two
/// columns).
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            if (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u)
            {
                2
            } else {
                1
            }
        })
        .sum()
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

/// Writes a per-zone summary table of stats: areas in km², forest in km²
/// and mu (亩), forest cover in %.
pub fn write_stats_table(report: &StatsReport, w: &mut dyn Write) -> io::Result<()> {
    let mut rows = vec![vec![
        "zone".to_string(),
        "name".to_string(),
        "zone km²".to_string(),
        "valid km²".to_string(),
        "nodata km²".to_string(),
        "forest km²".to_string(),
        "forest mu".to_string(),
        "forest cover %".to_string(),
    ]];
    for z in &report.zones {
        rows.push(vec![
            z.id.clone(),
            z.name.clone().unwrap_or_default(),
            format!("{:.3}", z.zone_area_m2 / crate::area::M2_PER_KM2),
            format!("{:.3}", z.valid_area_m2 / crate::area::M2_PER_KM2),
            format!("{:.3}", z.nodata_area_m2 / crate::area::M2_PER_KM2),
            format!("{:.3}", z.forest_area_m2 / crate::area::M2_PER_KM2),
            format!("{:.0}", z.forest_area_m2 / M2_PER_MU),
            z.forest_cover
                .map(|c| format!("{:.2}", 100.0 * c))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    write_table(&rows, w)
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
    serde_json::to_writer(&mut *w, &fc).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

/// Writes the zones with their stats as GeoJSON properties (geometries in
/// the zones' own CRS). Class areas become `class_<code>_m2` properties.
pub fn write_stats_geojson(
    report: &StatsReport,
    layer: &ZoneLayer,
    w: &mut dyn Write,
) -> io::Result<()> {
    let features = layer.zones.iter().zip(&report.zones).map(|(zone, z)| {
        let mut p = Map::new();
        for (k, v) in &zone.attributes {
            p.insert(k.clone(), v.clone());
        }
        p.insert("zone_id".into(), Value::from(z.id.clone()));
        p.insert("zone_area_m2".into(), Value::from(z.zone_area_m2));
        p.insert("valid_area_m2".into(), Value::from(z.valid_area_m2));
        p.insert("nodata_area_m2".into(), Value::from(z.nodata_area_m2));
        p.insert("forest_area_m2".into(), Value::from(z.forest_area_m2));
        p.insert(
            "forest_area_mu".into(),
            Value::from(z.forest_area_m2 / M2_PER_MU),
        );
        p.insert(
            "forest_cover".into(),
            z.forest_cover.map(Value::from).unwrap_or(Value::Null),
        );
        for (code, a) in &z.classes {
            p.insert(format!("class_{code}_m2"), Value::from(*a));
        }
        (zone.geometry.clone(), p)
    });
    write_feature_collection(&layer.crs, features, w)
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
    fn atomic_write_leaves_no_partial_file_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        std::fs::write(&target, "old").unwrap();
        let r = write_atomic(&target, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_atomic(&target, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        write_atomic(null, |w| w.write_all(b"discarded")).unwrap();
        let meta = std::fs::metadata(null).unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(dir.path(), |w| w.write_all(b"x")).is_err());
    }
}
