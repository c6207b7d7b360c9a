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

use crate::redline::MIN_VERIFIED_SHARE;

/// Largest difference between two dates' valid shares of a zone for a
/// forest-cover step between them to be judged (the same land, give or
/// take a few clouds).
const MAX_SHARE_DIFFERENCE: f64 = 0.05;

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
    let (rb, ra) = (open(&ic.before)?, open(&ic.after)?);
    check_comparable(&rb, &ra, ic.scale_offset.is_some())?;
    let before = values(&rb, layer, &stats, opts)?;
    let after = values(&ra, layer, &stats, opts)?;
    Ok(Some(IndexReport {
        name: ic.name.clone(),
        stat: stat.name(),
        within: within.into(),
        before,
        after,
    }))
}

/// Refuses an index that cannot be compared between its dates: a class
/// raster (a colour table), or dates whose files scale their numbers
/// differently (one NDVI × 10000 with its scale, one without) unless the
/// config says how to scale both.
fn check_comparable(before: &ValueRaster, after: &ValueRaster, scale_given: bool) -> Result<()> {
    for r in [before, after] {
        if let Some(t) = r.tiles.iter().find(|t| t.color_table) {
            return Err(crate::Error::raster(
                &t.path,
                "has a colour table: it looks like a class raster, not an index; [index] needs a continuous raster (NDVI, FVC, NPP)",
            ));
        }
    }
    let scale = |r: &ValueRaster| r.tiles.first().map(|t| (t.scale, t.add));
    if !scale_given && scale(before) != scale(after) {
        let (b, a) = (
            scale(before).unwrap_or((1.0, 0.0)),
            scale(after).unwrap_or((1.0, 0.0)),
        );
        return Err(crate::Error::Invalid(format!(
            "[index]: {} and {} scale their numbers differently (scale {}, offset {} against scale {}, offset {}); set scale_offset in [index] to read both alike",
            before.label(),
            after.label(),
            b.0,
            b.1,
            a.0,
            a.1
        )));
    }
    Ok(())
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
            tuning: Default::default(),
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

/// The share of a zone of area `zone` that `valid` covers (all of it for
/// a zone of no area).
fn share(valid: f64, zone: f64) -> f64 {
    if zone > 0.0 { valid / zone } else { 1.0 }
}

/// `redline_index_not_lowered`: per baseline red line, after − before of
/// the index's statistic must be ≥ −tolerance. A red line whose index has
/// values on less than half of its area on either date (nodata, or off
/// the raster) cannot be verified, and fails.
pub(super) fn index_targets(config: &AuditConfig, ix: &IndexReport, out: &mut Vec<TargetResult>) {
    let t = &config.targets;
    if !t.redline_index_not_lowered.unwrap_or(false) {
        return;
    }
    let tol = t.redline_index_tolerance.unwrap_or(0.0);
    let (name, stat) = (&ix.name, &ix.stat);
    for (i, (b, a)) in ix.before.zones.iter().zip(&ix.after.zones).enumerate() {
        let seen =
            share(b.valid_area_m2, b.zone_area_m2).min(share(a.valid_area_m2, a.zone_area_m2));
        let (vb, va) = (b.stats.get(stat), a.stats.get(stat));
        // The change, whenever both dates have a value; judged only when
        // both dates see at least half of the red line.
        let change = vb.zip(va).map(|(x, y)| y - x);
        let delta = change.filter(|_| seen >= MIN_VERIFIED_SHARE);
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

/// `forest_cover_trend` (`forest_cover_trend_dates = N`): per zone, the
/// smallest change of forest cover between consecutive dates among the
/// last N of the series (the largest fall, or the smallest rise) must be
/// ≥ −tolerance. A step is judged over the same land only: both dates
/// must have land cover on at least half of the zone, their shares within
/// 5 points of each other; a zone with a step that is not cannot be
/// verified, and fails.
pub(super) fn trend_targets(config: &AuditConfig, s: &SeriesReport, out: &mut Vec<TargetResult>) {
    let t = &config.targets;
    let Some(n) = t.forest_cover_trend_dates else {
        return;
    };
    let tol = t.forest_cover_trend_tolerance.unwrap_or(0.0);
    for (i, z) in s.zones.iter().enumerate() {
        let covers: Vec<(&str, Option<f64>, f64)> = z
            .landcover
            .iter()
            .map(|(d, l)| {
                (
                    d.as_str(),
                    l.forest_cover,
                    share(l.valid_area_m2, z.zone_area_m2),
                )
            })
            .collect();
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
            let alike = w[0].2.min(w[1].2) >= MIN_VERIFIED_SHARE
                && (w[0].2 - w[1].2).abs() <= MAX_SHARE_DIFFERENCE;
            match (w[0].1, w[1].1) {
                (Some(a), Some(b)) if alike => {
                    if worst.is_none_or(|x| b - a < x.2) {
                        worst = Some((w[0].0, w[1].0, b - a));
                    }
                }
                _ => complete = false,
            }
        }
        let worst = worst.filter(|_| complete);
        let ok = worst.is_some_and(|w| w.2 >= -tol);
        let path: Vec<String> = last
            .iter()
            .map(|c| c.1.map_or("–".into(), |v| format!("{:.2}", 100.0 * v)))
            .collect();
        let shares = |l: &[(&str, Option<f64>, f64)]| {
            l.iter()
                .map(|c| format!("{} {:.0} %", c.0, 100.0 * c.2))
                .collect::<Vec<_>>()
                .join(", ")
        };
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
                format!(
                    "无法核查：{span} 某期土地覆盖有效范围不足该镇一半或两期相差超过 5 个百分点（{}）",
                    shares(last)
                ),
                format!(
                    "cannot be verified: in {span} a date's land cover covers less than half of the zone, or two dates differ by more than 5 points ({})",
                    shares(last)
                ),
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
