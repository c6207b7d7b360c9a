//! `qingshan.audit/1` results: every target of a plan, measured.

use std::io::{self, Write};

use super::{Export, csv_field, num, write_json, write_table};
use crate::audit::AuditReport;

/// An audit result.
#[derive(Clone, Copy, Debug)]
pub struct Audit<'a>(pub &'a AuditReport);

impl Export for Audit<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(self.0, w)
    }

    /// One row per target: what, where, measured, limit, unit, verdict.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(
            w,
            "target,scope,id,name,measured,limit,unit,passed,source,verdict"
        )?;
        for t in &self.0.targets {
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{}",
                csv_field(&t.target),
                csv_field(&t.scope),
                csv_field(t.id.as_deref().unwrap_or("")),
                csv_field(t.name.as_deref().unwrap_or("")),
                num(t.measured),
                num(t.limit),
                csv_field(&t.unit),
                t.passed,
                csv_field(&t.source),
                csv_field(&t.verdict)
            )?;
        }
        Ok(())
    }

    /// The targets: target, scope, measured, limit, met or missed.
    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        audit_table(self.0, w)
    }
}

/// Writes an audit's targets as a terminal table: target, scope, measured,
/// limit, met or missed.
fn audit_table(a: &AuditReport, w: &mut dyn Write) -> io::Result<()> {
    let show = |v: f64, unit: &str| match unit {
        "fraction" => format!("{:.2} %", 100.0 * v),
        "mu" => format!("{v:.0} mu"),
        "index" => format!("{v:+.4}"),
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
            "steep_cropland_max_mu" => "steep cropland ≤ (陡坡耕地)",
            "steep_cropland_not_increased" => "steep cropland not increased (陡坡耕地不增加)",
            "redline_index_not_lowered" => "index not lowered (功能不降低)",
            "forest_cover_trend" => "forest cover not falling (森林覆盖率逐年)",
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
