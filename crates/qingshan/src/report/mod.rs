//! Writing results: JSON (the stable `qingshan.*/1` contracts), CSV with
//! m², ha and mu columns, and GeoJSON of the zones with their numbers as
//! properties (opens in QGIS).
//!
//! Files are written through [`crate::fsio`], so a failed or interrupted
//! run never leaves a half-written output.

pub mod html;
pub mod map;

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::area::{M2_PER_HA, M2_PER_MU};
use crate::change::ChangeReport;
use crate::grid::Crs;
use crate::legend::Legend;
use crate::redline::{Patch, PolygonStatus, RedlineCheck, RedlineDiff};
use crate::zonal::StatsReport;
use crate::zones::ZoneLayer;

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

/// Writes transitions as long-form CSV: one row per zone × (from, to),
/// with m², ha and mu.
pub fn write_change_csv(
    report: &ChangeReport,
    legend: &Legend,
    w: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        w,
        "zone_id,zone_name,from,from_name,to,to_name,area_m2,area_ha,area_mu"
    )?;
    for z in &report.zones {
        for (from, row) in &z.transitions {
            for (to, &a) in row {
                writeln!(
                    w,
                    "{},{},{},{},{},{},{},{},{}",
                    csv_field(&z.id),
                    csv_field(z.name.as_deref().unwrap_or("")),
                    from,
                    csv_field(&legend.name_of(*from)),
                    to,
                    csv_field(&legend.name_of(*to)),
                    num(a),
                    num(a / M2_PER_HA),
                    num(a / M2_PER_MU)
                )?;
            }
        }
    }
    Ok(())
}

/// Writes the zones with their forest change as GeoJSON properties, plus
/// every transition as `t_<from>_<to>_m2`.
pub fn write_change_geojson(
    report: &ChangeReport,
    layer: &ZoneLayer,
    w: &mut dyn Write,
) -> io::Result<()> {
    let features = layer.zones.iter().zip(&report.zones).map(|(zone, z)| {
        let mut p = zone.attributes.clone();
        p.insert("zone_id".into(), Value::from(z.id.clone()));
        for (k, v) in [
            ("valid_area_m2", z.valid_area_m2),
            ("nodata_area_m2", z.nodata_area_m2),
            ("forest_before_m2", z.forest_before_m2),
            ("forest_after_m2", z.forest_after_m2),
            ("forest_gain_m2", z.forest_gain_m2),
            ("forest_loss_m2", z.forest_loss_m2),
            ("forest_net_m2", z.forest_net_m2),
            ("forest_net_mu", z.forest_net_m2 / M2_PER_MU),
        ] {
            p.insert(k.into(), Value::from(v));
        }
        for (k, v) in [
            ("forest_cover_before", z.forest_cover_before),
            ("forest_cover_after", z.forest_cover_after),
        ] {
            p.insert(k.into(), v.map(Value::from).unwrap_or(Value::Null));
        }
        for (from, row) in &z.transitions {
            for (to, a) in row {
                p.insert(format!("t_{from}_{to}_m2"), Value::from(*a));
            }
        }
        (zone.geometry.clone(), p)
    });
    write_feature_collection(&layer.crs, features, w)
}

/// Writes a per-zone forest-change summary table (mu and %).
pub fn write_change_table(
    report: &ChangeReport,
    legend: &Legend,
    w: &mut dyn Write,
) -> io::Result<()> {
    let pct = |c: Option<f64>| {
        c.map(|c| format!("{:.2}", 100.0 * c))
            .unwrap_or_else(|| "-".into())
    };
    let mut rows = vec![vec![
        "zone".to_string(),
        "name".to_string(),
        "valid km²".to_string(),
        "forest before mu".to_string(),
        "forest after mu".to_string(),
        "gain mu".to_string(),
        "loss mu".to_string(),
        "cover before %".to_string(),
        "cover after %".to_string(),
        "largest change".to_string(),
    ]];
    for z in &report.zones {
        let largest = z
            .transitions
            .iter()
            .flat_map(|(f, row)| {
                row.iter()
                    .filter(move |(t, _)| *t != f)
                    .map(move |(t, a)| (*f, *t, *a))
            })
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .map(|(f, t, a)| {
                format!(
                    "{} → {} {:.0} mu",
                    legend.name_of(f),
                    legend.name_of(t),
                    a / M2_PER_MU
                )
            })
            .unwrap_or_else(|| "-".into());
        rows.push(vec![
            z.id.clone(),
            z.name.clone().unwrap_or_default(),
            format!("{:.3}", z.valid_area_m2 / crate::area::M2_PER_KM2),
            format!("{:.0}", z.forest_before_m2 / M2_PER_MU),
            format!("{:.0}", z.forest_after_m2 / M2_PER_MU),
            format!("{:.0}", z.forest_gain_m2 / M2_PER_MU),
            format!("{:.0}", z.forest_loss_m2 / M2_PER_MU),
            pct(z.forest_cover_before),
            pct(z.forest_cover_after),
            largest,
        ]);
    }
    write_table(&rows, w)
}

fn mu(m2: f64) -> String {
    let s = format!("{:.2}", m2 / M2_PER_MU);
    // A rounding-noise negative (−0.001 mu) reads as a loss: print 0.00.
    if s == "-0.00" { "0.00".to_string() } else { s }
}

pub(crate) fn status_name(s: PolygonStatus) -> &'static str {
    match s {
        PolygonStatus::Unchanged => "unchanged",
        PolygonStatus::Grown => "grown",
        PolygonStatus::Shrunk => "shrunk",
        PolygonStatus::Reshaped => "reshaped",
        PolygonStatus::Removed => "removed",
        PolygonStatus::Added => "added",
    }
}

/// Writes a red-line diff as CSV: one row per polygon (m² and mu).
pub fn write_diff_csv(d: &RedlineDiff, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "id,name,status,old_m2,new_m2,delta_m2,lost_m2,gained_m2,old_mu,new_mu,delta_mu"
    )?;
    for p in &d.polygons {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&p.id),
            csv_field(p.name.as_deref().unwrap_or("")),
            status_name(p.status),
            num(p.old_m2),
            num(p.new_m2),
            num(p.delta_m2),
            num(p.lost_m2),
            num(p.gained_m2),
            num(p.old_m2 / M2_PER_MU),
            num(p.new_m2 / M2_PER_MU),
            num(p.delta_m2 / M2_PER_MU)
        )?;
    }
    Ok(())
}

/// Writes a red-line diff as text: the verdict, the totals, then one line
/// per polygon and per town (areas in mu and m²).
pub fn write_diff_table(d: &RedlineDiff, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "red line: {} → {}: {}",
        d.old.path,
        d.new.path,
        if d.shrunk {
            "SHRANK (面积减少)"
        } else if d.failed {
            "area lost somewhere (strict)"
        } else {
            "not reduced (面积不减少)"
        }
    )?;
    writeln!(
        w,
        "total {} mu → {} mu (Δ {} mu); lost {} mu, gained {} mu; tolerance {} m²\n",
        mu(d.old_total_m2),
        mu(d.new_total_m2),
        mu(d.delta_m2),
        mu(d.lost_m2),
        mu(d.gained_m2),
        d.tolerance_m2
    )?;
    let mut rows = vec![vec![
        "id".to_string(),
        "name".to_string(),
        "status".to_string(),
        "old mu".to_string(),
        "new mu".to_string(),
        "Δ mu".to_string(),
        "lost m²".to_string(),
        "gained m²".to_string(),
    ]];
    for p in &d.polygons {
        rows.push(vec![
            p.id.clone(),
            p.name.clone().unwrap_or_default(),
            status_name(p.status).to_string(),
            mu(p.old_m2),
            mu(p.new_m2),
            mu(p.delta_m2),
            format!("{:.1}", p.lost_m2),
            format!("{:.1}", p.gained_m2),
        ]);
    }
    write_table(&rows, w)?;
    if !d.towns.is_empty() {
        writeln!(w)?;
        let mut rows = vec![vec![
            "town".to_string(),
            "name".to_string(),
            "old mu".to_string(),
            "new mu".to_string(),
            "Δ mu".to_string(),
            "lost mu".to_string(),
            "gained mu".to_string(),
            "verdict".to_string(),
        ]];
        for t in &d.towns {
            rows.push(vec![
                t.id.clone(),
                t.name.clone().unwrap_or_default(),
                mu(t.old_m2),
                mu(t.new_m2),
                mu(t.delta_m2),
                mu(t.lost_m2),
                mu(t.gained_m2),
                if t.shrunk { "shrank" } else { "not reduced" }.to_string(),
            ]);
        }
        write_table(&rows, w)?;
    }
    Ok(())
}

/// Writes the red-line polygons of both versions with their diff as
/// properties (removed ones with their old geometry), in the old layer's
/// CRS.
pub fn write_diff_geojson(
    d: &RedlineDiff,
    old: &ZoneLayer,
    new: &ZoneLayer,
    w: &mut dyn Write,
) -> io::Result<()> {
    let to_old = crate::srs::Reprojector::new(&new.crs, &old.crs).map_err(io::Error::other)?;
    let mut features = Vec::new();
    for p in &d.polygons {
        let geom = match new.position(&p.id) {
            Some(j) if p.status != PolygonStatus::Removed => to_old
                .multipolygon(&new.zones[j].geometry)
                .map_err(io::Error::other)?,
            _ => match old.position(&p.id) {
                Some(i) => old.zones[i].geometry.clone(),
                None => continue,
            },
        };
        let mut props = Map::new();
        props.insert("id".into(), Value::from(p.id.clone()));
        props.insert(
            "name".into(),
            p.name.clone().map(Value::from).unwrap_or(Value::Null),
        );
        props.insert("status".into(), Value::from(status_name(p.status)));
        for (k, v) in [
            ("old_m2", p.old_m2),
            ("new_m2", p.new_m2),
            ("delta_m2", p.delta_m2),
            ("lost_m2", p.lost_m2),
            ("gained_m2", p.gained_m2),
        ] {
            props.insert(k.into(), Value::from(v));
        }
        features.push((geom, props));
    }
    write_feature_collection(&old.crs, features.into_iter(), w)
}

/// Writes the lost pieces of a red-line diff (old ∖ new) with the id of
/// the red-line polygon each came from, in the CRS the diff ran in.
pub fn write_lost_geometry(d: &RedlineDiff, w: &mut dyn Write) -> io::Result<()> {
    let crs = d
        .ops
        .clone()
        .ok_or_else(|| io::Error::other("the diff has no geometry CRS"))?;
    let meter_crs = crs.clone();
    let to_ll = crate::srs::geographic_of(&meter_crs)
        .and_then(|g| crate::srs::Reprojector::new(&meter_crs, &g).map(|r| (g, r)))
        .map_err(io::Error::other)?;
    let features = d
        .lost_pieces
        .iter()
        .map(|(id, g)| {
            let ll = to_ll
                .1
                .multipolygon(&crate::srs::densify(
                    g,
                    crate::zones::segment_length(&crs, 1000.0),
                ))
                .map_err(io::Error::other)?;
            let area = to_ll.0.ellipsoid.multipolygon_area(&ll);
            let mut props = Map::new();
            props.insert("redline_id".into(), Value::from(id.clone()));
            props.insert("lost_m2".into(), Value::from(area));
            props.insert("lost_mu".into(), Value::from(area / M2_PER_MU));
            Ok((g.clone(), props))
        })
        .collect::<io::Result<Vec<_>>>()?;
    write_feature_collection(&crs, features.into_iter(), w)
}

/// Writes a red-line check as CSV: one row per polygon × conversion type
/// (polygons without conversion get one row with empty type).
pub fn write_check_csv(c: &RedlineCheck, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "id,name,nature_ok,function_ok,conversion_m2,from,from_name,to,to_name,area_m2,area_mu,vegetated_share_before,vegetated_share_after,vegetated_share_drop"
    )?;
    let opt = |v: Option<f64>| v.map(num).unwrap_or_default();
    for p in &c.polygons {
        let head = format!(
            "{},{},{},{},{}",
            csv_field(&p.id),
            csv_field(p.name.as_deref().unwrap_or("")),
            p.nature_ok,
            p.function_ok,
            num(p.conversion_m2)
        );
        let tail = format!(
            "{},{},{}",
            opt(p.vegetated_share_before),
            opt(p.vegetated_share_after),
            opt(p.vegetated_share_drop)
        );
        if p.conversions.is_empty() {
            writeln!(w, "{head},,,,,0,0,{tail}")?;
        }
        for k in &p.conversions {
            writeln!(
                w,
                "{head},{},{},{},{},{},{},{tail}",
                k.from,
                csv_field(&k.from_name),
                k.to,
                csv_field(&k.to_name),
                num(k.area_m2),
                num(k.area_m2 / M2_PER_MU)
            )?;
        }
    }
    Ok(())
}

/// Writes a red-line check as text: verdict, then one line per polygon.
pub fn write_check_table(c: &RedlineCheck, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "red line nature and function: {}",
        if c.ok {
            "no violation (性质不改变、功能不降低)".to_string()
        } else {
            format!("{} polygon(s) violate a limit", c.violations)
        }
    )?;
    writeln!(
        w,
        "limits: conversion ≤ {} m², vegetated-share drop ≤ {} points\n",
        c.limits.max_conversion_m2,
        100.0 * c.limits.max_vegetation_loss
    )?;
    let pct = |v: Option<f64>| {
        v.map(|v| format!("{:.2}", 100.0 * v))
            .unwrap_or_else(|| "-".into())
    };
    let mut rows = vec![vec![
        "id".to_string(),
        "name".to_string(),
        "converted m²".to_string(),
        "largest conversion".to_string(),
        "vegetated % before".to_string(),
        "after".to_string(),
        "verdict".to_string(),
    ]];
    for p in &c.polygons {
        rows.push(vec![
            p.id.clone(),
            p.name.clone().unwrap_or_default(),
            format!("{:.1}", p.conversion_m2),
            p.conversions
                .first()
                .map(|k| format!("{} → {} {:.0} m²", k.from_name, k.to_name, k.area_m2))
                .unwrap_or_else(|| "-".into()),
            pct(p.vegetated_share_before),
            pct(p.vegetated_share_after),
            match (p.nature_ok, p.function_ok) {
                (true, true) => "ok",
                (false, true) => "NATURE CHANGED",
                (true, false) => "FUNCTION LOWERED",
                (false, false) => "NATURE CHANGED, FUNCTION LOWERED",
            }
            .to_string(),
        ]);
    }
    write_table(&rows, w)
}

/// Writes the red lines with their check results as GeoJSON properties.
pub fn write_check_geojson(
    c: &RedlineCheck,
    layer: &ZoneLayer,
    w: &mut dyn Write,
) -> io::Result<()> {
    let features = layer.zones.iter().zip(&c.polygons).map(|(zone, p)| {
        let mut props = zone.attributes.clone();
        props.insert("redline_id".into(), Value::from(p.id.clone()));
        props.insert("conversion_m2".into(), Value::from(p.conversion_m2));
        props.insert("nature_ok".into(), Value::from(p.nature_ok));
        props.insert("function_ok".into(), Value::from(p.function_ok));
        props.insert(
            "vegetated_share_drop".into(),
            p.vegetated_share_drop
                .map(Value::from)
                .unwrap_or(Value::Null),
        );
        props.insert("violations".into(), Value::from(p.violations.join("; ")));
        (zone.geometry.clone(), props)
    });
    write_feature_collection(&layer.crs, features, w)
}

/// Writes conversion patches as GeoJSON (in the land cover's CRS), one
/// feature per patch with its red-line id, conversion type and area.
pub fn write_patches_geojson(
    crs: &Crs,
    patches: &[Patch],
    legend: &Legend,
    w: &mut dyn Write,
) -> io::Result<()> {
    let features = patches.iter().enumerate().map(|(i, p)| {
        let mut props = Map::new();
        props.insert("patch".into(), Value::from(i + 1));
        props.insert("redline_id".into(), Value::from(p.redline_id.clone()));
        props.insert("from".into(), Value::from(p.from));
        props.insert("to".into(), Value::from(p.to));
        props.insert(
            "conversion".into(),
            Value::from(format!(
                "{} → {}",
                legend.name_of(p.from),
                legend.name_of(p.to)
            )),
        );
        props.insert("area_m2".into(), Value::from(p.area_m2));
        props.insert("area_mu".into(), Value::from(p.area_m2 / M2_PER_MU));
        (p.geometry.clone(), props)
    });
    write_feature_collection(crs, features, w)
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

/// Writes an audit's targets as a terminal table: target, scope, measured,
/// limit, met or missed.
pub fn write_audit_table(a: &crate::audit::AuditReport, w: &mut dyn Write) -> io::Result<()> {
    let show = |v: f64, unit: &str| match unit {
        "fraction" => format!("{:.2} %", 100.0 * v),
        "mu" => format!("{v:.0} mu"),
        _ => format!("{:.1} m²", v),
    };
    let mut rows = vec![vec![
        "target".to_string(),
        "scope".to_string(),
        "measured".to_string(),
        "limit".to_string(),
        "verdict".to_string(),
    ]];
    for t in &a.targets {
        let target = match t.target.as_str() {
            "forest_cover_min" => "forest cover ≥ (森林覆盖率)",
            "forest_area_min_mu" => "forest land ≥ (林地保有量)",
            "redline_not_shrunk" => "red line not reduced (面积不减少)",
            "redline_max_conversion_m2" => "nature not changed (性质不改变)",
            "redline_max_vegetation_loss" => "function not lowered (功能不降低)",
            other => other,
        };
        let scope = match (&t.id, &t.name) {
            (Some(id), Some(n)) => format!("{n} {id}"),
            (Some(id), None) => id.clone(),
            _ => "total".to_string(),
        };
        rows.push(vec![
            target.to_string(),
            scope,
            show(t.measured, &t.unit),
            show(t.limit, &t.unit),
            if t.passed { "met" } else { "MISSED" }.to_string(),
        ]);
    }
    write_table(&rows, w)
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
}
