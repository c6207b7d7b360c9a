//! `qingshan.redline/1` results: version diffs (area) and checks (nature
//! and function), the lost pieces of a diff and conversion patches.

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::{Export, csv_field, mu, num, write_feature_collection, write_json, write_table};
use crate::area::M2_PER_MU;
use crate::grid::Crs;
use crate::legend::Legend;
use crate::redline::{Patch, PolygonStatus, RedlineCheck, RedlineDiff};
use crate::zones::ZoneLayer;

/// A red-line diff with its two layers (geometries for GeoJSON).
#[derive(Clone, Copy, Debug)]
pub struct Diff<'a> {
    /// The result.
    pub diff: &'a RedlineDiff,
    /// The old version, when at hand.
    pub old: Option<&'a ZoneLayer>,
    /// The new version, when at hand.
    pub new: Option<&'a ZoneLayer>,
}

impl Export for Diff<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(self.diff, w)
    }

    /// One row per polygon (m² and mu).
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        diff_csv(self.diff, w)
    }

    /// The polygons of both versions with their diff as properties
    /// (removed ones with their old geometry), in the old layer's CRS.
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        match (self.old, self.new) {
            (Some(old), Some(new)) => diff_geojson(self.diff, old, new, w),
            _ => Err(io::Error::other(
                "no red-line geometries to write GeoJSON with: use json, csv or table",
            )),
        }
    }

    /// The verdict, the totals, then one line per polygon and per town.
    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        diff_table(self.diff, w)
    }

    fn name(&self) -> &'static str {
        "redline diff"
    }
}

/// A red-line check with the red lines (geometries for GeoJSON).
#[derive(Clone, Copy, Debug)]
pub struct Check<'a> {
    /// The result.
    pub check: &'a RedlineCheck,
    /// The red lines checked, when at hand.
    pub redlines: Option<&'a ZoneLayer>,
}

impl Export for Check<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(self.check, w)
    }

    /// One row per polygon × conversion type.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        check_csv(self.check, w)
    }

    /// The red lines with their check results as properties.
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        match self.redlines {
            Some(layer) => check_geojson(self.check, layer, w),
            None => Err(io::Error::other(
                "no red-line geometries to write GeoJSON with: use json, csv or table",
            )),
        }
    }

    /// The verdict, then one line per polygon.
    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        check_table(self.check, w)
    }

    fn name(&self) -> &'static str {
        "redline check"
    }
}

/// The lost pieces of a red-line diff (old ∖ new), with the id of the
/// red-line polygon each came from: GeoJSON only, in the CRS the diff ran
/// in.
#[derive(Clone, Copy, Debug)]
pub struct LostGeometry<'a>(pub &'a RedlineDiff);

impl Export for LostGeometry<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        self.geojson(w)
    }
    fn csv(&self, _w: &mut dyn Write) -> io::Result<()> {
        Err(io::Error::other("lost geometry is written as GeoJSON"))
    }
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        lost_geometry(self.0, w)
    }
    fn table(&self, _w: &mut dyn Write) -> io::Result<()> {
        Err(io::Error::other("lost geometry is written as GeoJSON"))
    }
}

/// Conversion patches as GeoJSON (in the land cover's CRS), one feature
/// per patch with its red-line id, conversion type and area.
#[derive(Clone, Copy, Debug)]
pub struct Patches<'a> {
    /// CRS of the patches' geometries.
    pub crs: &'a Crs,
    /// The patches.
    pub patches: &'a [Patch],
    /// The legend (conversion names).
    pub legend: &'a Legend,
}

impl Export for Patches<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        self.geojson(w)
    }
    fn csv(&self, _w: &mut dyn Write) -> io::Result<()> {
        Err(io::Error::other(
            "conversion patches are written as GeoJSON",
        ))
    }
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        patches_geojson(self.crs, self.patches, self.legend, w)
    }
    fn table(&self, _w: &mut dyn Write) -> io::Result<()> {
        Err(io::Error::other(
            "conversion patches are written as GeoJSON",
        ))
    }
}

/// Writes a red-line diff as CSV: one row per polygon (m² and mu).
fn diff_csv(d: &RedlineDiff, w: &mut dyn Write) -> io::Result<()> {
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
            p.status.name(),
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
fn diff_table(d: &RedlineDiff, w: &mut dyn Write) -> io::Result<()> {
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
            p.status.name().to_string(),
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
fn diff_geojson(
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
        props.insert("status".into(), Value::from(p.status.name()));
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
fn lost_geometry(d: &RedlineDiff, w: &mut dyn Write) -> io::Result<()> {
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
fn check_csv(c: &RedlineCheck, w: &mut dyn Write) -> io::Result<()> {
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
fn check_table(c: &RedlineCheck, w: &mut dyn Write) -> io::Result<()> {
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
                _ if !p.verified => "NOT VERIFIABLE (little land cover)",
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
fn check_geojson(c: &RedlineCheck, layer: &ZoneLayer, w: &mut dyn Write) -> io::Result<()> {
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
fn patches_geojson(
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
