//! The vegetation part of an audit: a vegetation index inside the
//! baseline red lines on both dates (`[index]`; function not lowered,
//! 功能不降低) and forest cover of each zone over a land-cover series
//! (`[series]`; the trend the plan publishes), with their targets
//! `redline_index_not_lowered` and `forest_cover_trend_dates`.
//!
//! The index is measured inside the **baseline** red lines: the function
//! of the land approved for protection is what must not fall, whether or
//! not a later version kept it all.
//!
//! Invariant: the numbers are [`crate::values::values`]' and
//! [`crate::series::series`]'; each target's `measured` is computed from
//! the numbers at its `source`.

use serde::{Deserialize, Serialize};

use super::TargetResult;
use super::config::AuditConfig;
use crate::Result;
use crate::engine::RunOptions;
use crate::legend::Legend;
use crate::raster::LandCover;
use crate::raster::values::{ScaleOffset, ValueRaster};
use crate::series::{SeriesInputs, SeriesReport, series};
use crate::values::{Stat, ValuesReport, values};
use crate::zones::ZoneLayer;

/// The index on both dates inside the red lines (`qingshan.values/1` each).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexReport {
    /// What the index is (`NDVI`).
    pub name: String,
    /// The statistic compared.
    pub stat: String,
    /// Which zones: `redlines_old` (the baseline red lines) or `zones`.
    pub within: String,
    /// The first date.
    pub before: ValuesReport,
    /// The audited date.
    pub after: ValuesReport,
}

/// Valid share below which an index comparison is not judged.
const MIN_VALID_SHARE: f64 = 0.5;

/// Measures `[index]` inside the baseline red lines (or the zones, when
/// the audit has no red lines).
pub(super) fn measure_index(
    config: &AuditConfig,
    zones: &ZoneLayer,
    old_redlines: Option<&ZoneLayer>,
    opts: &RunOptions<'_>,
) -> Result<Option<IndexReport>> {
    let Some(ic) = &config.index else {
        return Ok(None);
    };
    let scale = match &ic.scale_offset {
        Some(s) => ScaleOffset::parse(s)?,
        None => ScaleOffset::File,
    };
    let stat = Stat::parse(&ic.stat)?;
    let mut stats = vec![stat];
    for s in ["mean", "median", "q10", "q90"] {
        let s = Stat::parse(s)?;
        if s.name() != stat.name() {
            stats.push(s);
        }
    }
    let (layer, within) = match old_redlines {
        Some(r) => (r, "redlines_old"),
        None => (zones, "zones"),
    };
    let open = |paths: &[String]| -> Result<ValueRaster> {
        Ok(
            ValueRaster::open_values(&config.resolve_all(paths), ic.band, scale)?
                .with_area(config.area),
        )
    };
    let before = values(&open(&ic.before)?, layer, &stats, opts)?;
    let after = values(&open(&ic.after)?, layer, &stats, opts)?;
    Ok(Some(IndexReport {
        name: ic.name.clone(),
        stat: stat.name(),
        within: within.into(),
        before,
        after,
    }))
}

/// Measures `[series]`: the zones' land cover at every date.
pub(super) fn measure_series(
    config: &AuditConfig,
    zones: &ZoneLayer,
    legend: &Legend,
    band: usize,
    opts: &RunOptions<'_>,
) -> Result<Option<SeriesReport>> {
    let Some(sc) = &config.series else {
        return Ok(None);
    };
    let mut landcover = Vec::with_capacity(sc.landcover.len());
    for (date, path) in &sc.landcover {
        let lc = LandCover::open(&config.resolve_all(std::slice::from_ref(path)), band)?
            .with_area(config.area);
        landcover.push((date.clone(), lc));
    }
    Ok(Some(series(
        &SeriesInputs {
            zones,
            landcover: &landcover,
            legend: Some(legend),
            rasters: &[],
            values_name: None,
            stats: &[],
        },
        opts,
    )?))
}

/// The verdict in words, Chinese then English.
fn verdict(ok: bool, zh: &str, en: &str) -> String {
    format!(
        "{} {zh} / {} {en}",
        if ok { "达标" } else { "未达标" },
        if ok { "met:" } else { "missed:" }
    )
}

fn valid_share(v: &crate::values::ZoneValues) -> f64 {
    let all = v.valid_area_m2 + v.nodata_area_m2;
    if all > 0.0 {
        v.valid_area_m2 / all
    } else {
        0.0
    }
}

/// `redline_index_not_lowered`: per baseline red line, after − before of
/// the index's statistic must be ≥ −tolerance. A red line whose index is
/// valid on less than half of it on either date cannot be verified, and
/// fails.
pub(super) fn index_targets(config: &AuditConfig, ix: &IndexReport, out: &mut Vec<TargetResult>) {
    let t = &config.targets;
    if !t.redline_index_not_lowered.unwrap_or(false) {
        return;
    }
    let tol = t.redline_index_tolerance.unwrap_or(0.0);
    let (name, stat) = (&ix.name, &ix.stat);
    for (i, (b, a)) in ix.before.zones.iter().zip(&ix.after.zones).enumerate() {
        let seen = valid_share(b).min(valid_share(a));
        let (vb, va) = (b.stats.get(stat), a.stats.get(stat));
        // The change, whenever both dates have a value; judged only when
        // both dates see at least half of the red line.
        let change = vb.zip(va).map(|(x, y)| y - x);
        let delta = change.filter(|_| seen >= MIN_VALID_SHARE);
        let ok = delta.is_some_and(|d| d >= -tol);
        let (zh, en) = match (delta, vb, va) {
            (Some(d), Some(x), Some(y)) => (
                format!("{name} {stat} {x:.4} → {y:.4}（{d:+.4}），允许下降 {tol}"),
                format!("{name} {stat} {x:.4} → {y:.4} ({d:+.4}), may fall by {tol}"),
            ),
            _ => (
                format!("无法核查：{name} 有效值仅覆盖红线的 {:.0} %", 100.0 * seen),
                format!(
                    "cannot be verified: {name} has values on only {:.0} % of the red line",
                    100.0 * seen
                ),
            ),
        };
        let source = match change {
            Some(_) => format!(
                "index.after.zones[{i}].stats.{stat} − index.before.zones[{i}].stats.{stat}"
            ),
            None => format!("index.after.zones[{i}].stats (no {stat} on one date)"),
        };
        out.push(TargetResult {
            target: "redline_index_not_lowered".into(),
            scope: "redline".into(),
            id: Some(a.id.clone()),
            name: a.name.clone(),
            measured: change.unwrap_or(0.0),
            limit: 0.0 - tol,
            unit: "index".into(),
            passed: ok,
            source,
            verdict: verdict(ok, &zh, &en),
        });
    }
}

/// `forest_cover_trend_dates`: per zone, the smallest change of forest
/// cover between consecutive dates among the last N of the series (the
/// largest fall, or the smallest rise) must be ≥ −tolerance. A zone with
/// no forest cover at one of them cannot be verified, and fails.
pub(super) fn trend_targets(config: &AuditConfig, s: &SeriesReport, out: &mut Vec<TargetResult>) {
    let t = &config.targets;
    let Some(n) = t.forest_cover_trend_dates else {
        return;
    };
    let tol = t.forest_cover_trend_tolerance.unwrap_or(0.0);
    for (i, z) in s.zones.iter().enumerate() {
        let covers = z.forest_cover();
        let last = &covers[covers.len().saturating_sub(n)..];
        let span = format!(
            "{}–{}",
            last.first().map_or("", |c| c.0),
            last.last().map_or("", |c| c.0)
        );
        // The step with the smallest change: (from date, to date, change).
        let mut worst: Option<(&str, &str, f64)> = None;
        let mut complete = true;
        for w in last.windows(2) {
            match (w[0].1, w[1].1) {
                (Some(a), Some(b)) if worst.is_none_or(|x| b - a < x.2) => {
                    worst = Some((w[0].0, w[1].0, b - a));
                }
                (Some(_), Some(_)) => {}
                _ => complete = false,
            }
        }
        let worst = worst.filter(|_| complete);
        let ok = worst.is_some_and(|w| w.2 >= -tol);
        let path: Vec<String> = last
            .iter()
            .map(|c| c.1.map_or("–".into(), |v| format!("{:.2}", 100.0 * v)))
            .collect();
        let (zh, en) = match worst {
            Some((from, to, d)) => (
                format!(
                    "{span} 森林覆盖率 {} %，最小年际变化 {:+.2} 个百分点（{from}→{to}）",
                    path.join(" → "),
                    100.0 * d
                ),
                format!(
                    "forest cover {span}: {} %, smallest change {:+.2} points ({from} → {to})",
                    path.join(" → "),
                    100.0 * d
                ),
            ),
            None => (
                "无法核查：某一期土地覆盖未覆盖该镇".to_string(),
                "cannot be verified: a date's land cover does not cover the zone".to_string(),
            ),
        };
        let source = match worst {
            Some((from, to, _)) => format!(
                "series.zones[{i}].landcover.{to}.forest_cover − series.zones[{i}].landcover.{from}.forest_cover"
            ),
            None => format!("series.zones[{i}].landcover (last {n} dates)"),
        };
        out.push(TargetResult {
            target: "forest_cover_trend".into(),
            scope: "zone".into(),
            id: Some(z.id.clone()),
            name: z.name.clone(),
            measured: worst.map_or(0.0, |w| w.2),
            limit: 0.0 - tol,
            unit: "fraction".into(),
            passed: ok,
            source,
            verdict: verdict(ok, &zh, &en),
        });
    }
}
