//! Evaluating a plan's targets against the measured numbers: one
//! [`TargetResult`] per target and scope, with the path of its measured
//! value in the audit document.
//!
//! Invariant: every `measured` value is the number at `source` in
//! `audit.json` (converted to the target's unit: mu from m²), so a reader
//! can find where each verdict comes from.

use super::TargetResult;
use super::config::AuditConfig;
use crate::area::{M2_PER_MU, sum_m2};
use crate::legend::ClassCode;
use crate::redline::{CheckLimits, RedlineCheck, RedlineDiff};
use crate::zonal::{StatsReport, ZoneStats};
use crate::zones::ZoneLayer;

/// The numbers the targets are checked against.
pub(super) struct Measured<'a> {
    pub(super) zones: &'a ZoneLayer,
    pub(super) stats: &'a StatsReport,
    pub(super) landuse: Option<&'a StatsReport>,
    pub(super) diff: Option<&'a RedlineDiff>,
    pub(super) check: Option<&'a RedlineCheck>,
    pub(super) limits: &'a CheckLimits,
}

/// Every target of `config`, in a fixed order: per zone (forest cover,
/// forest land), forest land in total, red-line area per zone and in
/// total, then per red-line polygon (nature, function).
pub(super) fn evaluate(config: &AuditConfig, m: &Measured<'_>) -> Vec<TargetResult> {
    let land = match m.landuse {
        Some(stats) => ForestLand::Survey { stats },
        None => ForestLand::Raster {
            stats: m.stats,
            classes: config.targets.forest_land_classes.as_deref(),
        },
    };
    let mut out = Vec::new();
    zone_targets(config, m, &land, &mut out);
    total_forest_land(config, m.stats, &land, &mut out);
    if let Some(d) = m.diff
        && config.targets.redline_not_shrunk.unwrap_or(false)
    {
        redline_area(d, &mut out);
    }
    if let Some(c) = m.check {
        redline_nature_and_function(config, c, m.limits, &mut out);
    }
    out
}

/// The verdict in words, Chinese then English.
fn verdict(ok: bool, zh: &str, en: &str) -> String {
    format!(
        "{} {zh} / {} {en}",
        if ok { "达标" } else { "未达标" },
        if ok { "met:" } else { "missed:" }
    )
}

/// What counts as forest land: the survey's forest-land classes when the
/// audit has `[landuse]`; else the raster legend's forest classes, or the
/// classes the config names.
enum ForestLand<'a> {
    Raster {
        stats: &'a StatsReport,
        classes: Option<&'a [ClassCode]>,
    },
    Survey {
        stats: &'a StatsReport,
    },
}

impl ForestLand<'_> {
    /// Forest land of zone `i` (m²).
    fn area(&self, i: usize) -> f64 {
        match self {
            ForestLand::Raster { stats, classes } => {
                let s: &ZoneStats = &stats.zones[i];
                match classes {
                    None => s.forest_area_m2,
                    Some(cs) => sum_m2(cs.iter().map(|c| s.classes.get(c).copied().unwrap_or(0.0))),
                }
            }
            ForestLand::Survey { stats } => stats.zones[i].forest_land_area_m2.unwrap_or(0.0),
        }
    }

    /// Where the sum over the zones comes from.
    fn total_source(&self) -> String {
        let doc = match self {
            ForestLand::Raster { .. } => "stats",
            ForestLand::Survey { .. } => "landuse",
        };
        format!(
            "Σ over {doc}.zones of {}",
            self.source(0).replace(&format!("{doc}.zones[0]"), "zone")
        )
    }

    /// Where zone `i`'s forest land comes from in the document.
    fn source(&self, i: usize) -> String {
        match self {
            ForestLand::Raster { classes: None, .. } => {
                format!("stats.zones[{i}].forest_area_m2 / (2000/3)")
            }
            ForestLand::Raster {
                classes: Some(cs), ..
            } => format!(
                "Σ stats.zones[{i}].classes[{}] / (2000/3)",
                cs.iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ForestLand::Survey { .. } => {
                format!("landuse.zones[{i}].forest_land_area_m2 / (2000/3)")
            }
        }
    }
}

/// Per zone: forest cover, and forest land where the scope is `each` or
/// an override sets it.
fn zone_targets(
    config: &AuditConfig,
    m: &Measured<'_>,
    land: &ForestLand<'_>,
    out: &mut Vec<TargetResult>,
) {
    let t = &config.targets;
    for (i, (zone, s)) in m.zones.zones.iter().zip(&m.stats.zones).enumerate() {
        let over = config.overrides.iter().filter(|o| o.matches(zone));
        let cover_min = over
            .clone()
            .find_map(|o| o.forest_cover_min)
            .or(t.forest_cover_min);
        if let Some(min) = cover_min {
            let measured = s.forest_cover.unwrap_or(0.0);
            let ok = s.forest_cover.is_some_and(|c| c >= min);
            out.push(TargetResult {
                target: "forest_cover_min".into(),
                scope: "zone".into(),
                id: Some(zone.id.clone()),
                name: zone.name.clone(),
                measured,
                limit: min,
                unit: "fraction".into(),
                passed: ok,
                source: format!("stats.zones[{i}].forest_cover"),
                verdict: verdict(
                    ok,
                    &format!(
                        "森林覆盖率 {:.2}%，目标 ≥ {:.2}%",
                        100.0 * measured,
                        100.0 * min
                    ),
                    &format!(
                        "forest cover {:.2} %, target ≥ {:.2} %",
                        100.0 * measured,
                        100.0 * min
                    ),
                ),
            });
        }
        let each_min = over.clone().find_map(|o| o.forest_area_min_mu).or(
            if t.forest_area_scope.as_deref() == Some("each") {
                t.forest_area_min_mu
            } else {
                None
            },
        );
        if let Some(min) = each_min {
            let mu = land.area(i) / M2_PER_MU;
            let ok = mu >= min;
            out.push(TargetResult {
                target: "forest_area_min_mu".into(),
                scope: "zone".into(),
                id: Some(zone.id.clone()),
                name: zone.name.clone(),
                measured: mu,
                limit: min,
                unit: "mu".into(),
                passed: ok,
                source: land.source(i),
                verdict: verdict(
                    ok,
                    &format!("林地 {mu:.0} 亩，目标 ≥ {min:.0} 亩"),
                    &format!("forest land {mu:.0} mu, target ≥ {min:.0} mu"),
                ),
            });
        }
    }
}

/// Forest land summed over all zones (scope `total`, the default).
fn total_forest_land(
    config: &AuditConfig,
    stats: &StatsReport,
    land: &ForestLand<'_>,
    out: &mut Vec<TargetResult>,
) {
    let t = &config.targets;
    let Some(min) = t.forest_area_min_mu else {
        return;
    };
    if t.forest_area_scope.as_deref().unwrap_or("total") != "total" {
        return;
    }
    let mu = sum_m2((0..stats.zones.len()).map(|i| land.area(i))) / M2_PER_MU;
    let ok = mu >= min;
    out.push(TargetResult {
        target: "forest_area_min_mu".into(),
        scope: "total".into(),
        id: None,
        name: None,
        measured: mu,
        limit: min,
        unit: "mu".into(),
        passed: ok,
        source: land.total_source(),
        verdict: verdict(
            ok,
            &format!("林地合计 {mu:.0} 亩，目标 ≥ {min:.0} 亩"),
            &format!("forest land in all zones {mu:.0} mu, target ≥ {min:.0} mu"),
        ),
    });
}

/// Red-line area not reduced (面积不减少): per zone, then in total.
fn redline_area(d: &RedlineDiff, out: &mut Vec<TargetResult>) {
    for (i, town) in d.towns.iter().enumerate() {
        let ok = !town.shrunk;
        out.push(TargetResult {
            target: "redline_not_shrunk".into(),
            scope: "zone".into(),
            id: Some(town.id.clone()),
            name: town.name.clone(),
            measured: town.delta_m2,
            limit: -d.tolerance_m2,
            unit: "m2".into(),
            passed: ok,
            source: format!("redline_diff.towns[{i}].delta_m2"),
            verdict: verdict(
                ok,
                &format!("生态保护红线面积变化 {:+.1} 亩", town.delta_m2 / M2_PER_MU),
                &format!(
                    "red-line area changed by {:+.1} mu",
                    town.delta_m2 / M2_PER_MU
                ),
            ),
        });
    }
    let ok = !d.shrunk;
    out.push(TargetResult {
        target: "redline_not_shrunk".into(),
        scope: "total".into(),
        id: None,
        name: None,
        measured: d.delta_m2,
        limit: -d.tolerance_m2,
        unit: "m2".into(),
        passed: ok,
        source: "redline_diff.delta_m2".into(),
        verdict: verdict(
            ok,
            &format!("生态保护红线总面积变化 {:+.1} 亩", d.delta_m2 / M2_PER_MU),
            &format!(
                "total red-line area changed by {:+.1} mu",
                d.delta_m2 / M2_PER_MU
            ),
        ),
    });
}

/// Nature not changed (性质不改变) and function not lowered (功能不降低),
/// per red-line polygon.
fn redline_nature_and_function(
    config: &AuditConfig,
    c: &RedlineCheck,
    limits: &CheckLimits,
    out: &mut Vec<TargetResult>,
) {
    let t = &config.targets;
    for (i, p) in c.polygons.iter().enumerate() {
        if t.redline_max_conversion_m2.is_some() {
            out.push(TargetResult {
                target: "redline_max_conversion_m2".into(),
                scope: "redline".into(),
                id: Some(p.id.clone()),
                name: p.name.clone(),
                measured: p.conversion_m2,
                limit: limits.max_conversion_m2,
                unit: "m2".into(),
                passed: p.nature_ok,
                source: format!("redline_check.polygons[{i}].conversion_m2"),
                verdict: verdict(
                    p.nature_ok,
                    &format!("自然→人工转换 {:.1} 亩", p.conversion_m2 / M2_PER_MU),
                    &format!(
                        "natural → artificial conversion {:.1} mu",
                        p.conversion_m2 / M2_PER_MU
                    ),
                ),
            });
        }
        if t.redline_max_vegetation_loss.is_some() {
            let drop = p.vegetated_share_drop.unwrap_or(0.0);
            out.push(TargetResult {
                target: "redline_max_vegetation_loss".into(),
                scope: "redline".into(),
                id: Some(p.id.clone()),
                name: p.name.clone(),
                measured: drop,
                limit: limits.max_vegetation_loss,
                unit: "fraction".into(),
                passed: p.function_ok,
                source: format!("redline_check.polygons[{i}].vegetated_share_drop"),
                verdict: verdict(
                    p.function_ok,
                    &format!("植被占比下降 {:.2} 个百分点", 100.0 * drop),
                    &format!("vegetated share fell by {:.2} points", 100.0 * drop),
                ),
            });
        }
    }
}
