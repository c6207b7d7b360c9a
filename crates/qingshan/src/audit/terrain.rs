//! The terrain part of an audit (`[terrain]`): slope grades per zone,
//! cropland on the steepest grade on both dates, the cropland polygons'
//! grades; and the steep-cropland targets (退耕还林: returning cropland on
//! steep slopes to forest).
//!
//! Invariant: the numbers are [`crate::slope::slope`]'s, bit for bit; each
//! target's `measured` is the number at its `source` (m² → mu where the
//! unit is mu).

use super::TargetResult;
use super::config::AuditConfig;
use crate::Result;
use crate::area::{M2_PER_MU, sum_m2};
use crate::engine::RunOptions;
use crate::legend::Legend;
use crate::raster::LandCover;
use crate::raster::values::ValueRaster;
use crate::slope::{Grades, SlopeInputs, SlopeReport, slope_two_dates};
use crate::zones::ZoneLayer;

/// Slope of the zones with the after date's land cover (and the cropland
/// polygons), and with the before date's.
pub(super) struct TerrainMeasured {
    pub(super) after: SlopeReport,
    pub(super) before: SlopeReport,
}

/// Runs the slope measurements of `[terrain]`, if the config has one.
pub(super) fn measure(
    config: &AuditConfig,
    zones: &ZoneLayer,
    legend: &Legend,
    dates: (&LandCover, &LandCover),
    opts: &RunOptions<'_>,
) -> Result<Option<TerrainMeasured>> {
    let Some(t) = &config.terrain else {
        return Ok(None);
    };
    let dem = ValueRaster::open(&config.resolve_all(&t.dem), t.dem_band)?.with_area(config.area);
    let grades = match &t.grades {
        Some(g) => Grades::new(g.clone())?,
        None => Grades::default(),
    };
    let cropland = match &t.cropland {
        Some(p) => Some(t.read_cropland(&config.resolve(p))?),
        None => None,
    };
    let (after, before) = slope_two_dates(
        &SlopeInputs {
            dem: &dem,
            zones,
            grades: &grades,
            land_cover: Some((dates.1, legend)),
            cropland: cropland.as_ref(),
            slope_raster: None,
        },
        (dates.0, legend),
        opts,
    )?;
    Ok(Some(TerrainMeasured { after, before }))
}

/// The verdict in words, Chinese then English.
fn verdict(ok: bool, zh: &str, en: &str) -> String {
    format!(
        "{} {zh} / {} {en}",
        if ok { "达标" } else { "未达标" },
        if ok { "met:" } else { "missed:" }
    )
}

/// The steep-cropland targets: most steep cropland (per zone or in
/// total), and steep cropland not increased (per zone and in total).
// Long function: two targets, each per zone and in total, with their
// bilingual verdicts.
pub(super) fn steep_targets(
    config: &AuditConfig,
    m: &TerrainMeasured,
    out: &mut Vec<TargetResult>,
) {
    let t = &config.targets;
    // A zone the land cover does not reach has no steep cropland (null):
    // its targets cannot be verified, and fail.
    let steep = |r: &SlopeReport, i: usize| r.zones[i].steep_cropland_m2;
    let n = m.after.zones.len();
    let top = top_bound(&m.after);
    let unverified = (
        "无法核查：土地覆盖未覆盖该范围，或两期覆盖范围不同".to_string(),
        "cannot be verified: the land cover does not cover it, or not alike on both dates"
            .to_string(),
    );
    if let Some(max_mu) = t.steep_cropland_max_mu {
        let each = t.steep_cropland_scope.as_deref() == Some("each");
        let mut push = |scope: &str, i: Option<usize>, m2: Option<f64>, source: String| {
            let mu = m2.unwrap_or(0.0) / M2_PER_MU;
            let ok = m2.is_some() && mu <= max_mu;
            let z = i.map(|i| &m.after.zones[i]);
            let (zh, en) = match m2 {
                Some(_) => (
                    format!("坡度>{top}°耕地 {mu:.1} 亩，上限 {max_mu:.1} 亩"),
                    format!("cropland on slopes > {top}°: {mu:.1} mu, at most {max_mu:.1} mu"),
                ),
                None => unverified.clone(),
            };
            out.push(TargetResult {
                target: "steep_cropland_max_mu".into(),
                scope: scope.into(),
                id: z.map(|z| z.id.clone()),
                name: z.and_then(|z| z.name.clone()),
                measured: mu,
                limit: max_mu,
                unit: "mu".into(),
                passed: ok,
                source,
                verdict: verdict(ok, &zh, &en),
            });
        };
        if each {
            for i in 0..n {
                push(
                    "zone",
                    Some(i),
                    steep(&m.after, i),
                    format!("slope.zones[{i}].steep_cropland_m2 / (2000/3)"),
                );
            }
        } else {
            let all: Option<Vec<f64>> = (0..n).map(|i| steep(&m.after, i)).collect();
            push(
                "total",
                None,
                all.map(sum_m2),
                "Σ slope.zones[*].steep_cropland_m2 / (2000/3)".into(),
            );
        }
    }
    if t.steep_cropland_not_increased.unwrap_or(false) {
        let mut push = |scope: &str, i: Option<usize>, delta: Option<f64>, source: String| {
            let ok = delta.is_some_and(|d| d <= 0.0);
            let z = i.map(|i| &m.after.zones[i]);
            let d = delta.unwrap_or(0.0);
            let (zh, en) = match delta {
                Some(_) => (
                    format!("坡度>{top}°耕地变化 {:+.1} 亩", d / M2_PER_MU),
                    format!(
                        "cropland on slopes > {top}° changed by {:+.1} mu",
                        d / M2_PER_MU
                    ),
                ),
                None => unverified.clone(),
            };
            out.push(TargetResult {
                target: "steep_cropland_not_increased".into(),
                scope: scope.into(),
                id: z.map(|z| z.id.clone()),
                name: z.and_then(|z| z.name.clone()),
                measured: d,
                limit: 0.0,
                unit: "m2".into(),
                passed: ok,
                source,
                verdict: verdict(ok, &zh, &en),
            });
        };
        // Comparable only over the same land: both dates' land cover must
        // cover the zone alike (within 0.5 %).
        let same_land = |i: usize| {
            let (a, b) = (
                m.after.zones[i].landcover_area_m2.unwrap_or(0.0),
                m.before.zones[i].landcover_area_m2.unwrap_or(0.0),
            );
            (a - b).abs() <= 0.005 * a.max(b)
        };
        let delta = |i: usize| {
            let d = steep(&m.after, i)? - steep(&m.before, i)?;
            same_land(i).then_some(d)
        };
        for i in 0..n {
            push(
                "zone",
                Some(i),
                delta(i),
                format!(
                    "slope.zones[{i}].steep_cropland_m2 − slope_before.zones[{i}].steep_cropland_m2"
                ),
            );
        }
        let after: Option<Vec<f64>> = (0..n).map(|i| steep(&m.after, i)).collect();
        let before: Option<Vec<f64>> = (0..n).map(|i| steep(&m.before, i)).collect();
        let all_same = (0..n).all(same_land);
        push(
            "total",
            None,
            after
                .zip(before)
                .filter(|_| all_same)
                .map(|(a, b)| sum_m2(a) - sum_m2(b)),
            "Σ slope.zones[*].steep_cropland_m2 − Σ slope_before.zones[*].steep_cropland_m2".into(),
        );
    }
}

/// The lower bound of the steepest grade, as text (e.g. `25`).
fn top_bound(r: &SlopeReport) -> String {
    r.grades
        .last()
        .map(|(lo, _)| format!("{lo}"))
        .unwrap_or_default()
}
