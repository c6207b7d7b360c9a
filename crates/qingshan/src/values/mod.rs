//! Continuous values per zone: coverage-weighted statistics of any numeric
//! raster — a vegetation index (NDVI, FVC), productivity (NPP), a
//! temperature — inside each zone (`qingshan.values/1`), what "function
//! not lowered" (功能不降低) is watched by inside the red lines.
//!
//! Every cell counts with its exact coverage fraction (the fraction of
//! the cell inside the zone, from `coverage`) times its true cell area
//! (`--area ellipsoidal`, the default) — the rule of every area in
//! qingshan. Under `--area planar` every cell of a projected grid has the
//! same area, so the weights are the coverage fractions alone:
//! exactextract's definition, and every statistic equals exactextract's
//! on the same raster and zones (exactextract returns quantiles in the
//! raster's type: truncated on an integer raster, rounded to float32 on a
//! float32 one; qingshan keeps the interpolated double). On a lon/lat
//! grid both modes weigh by ground area: square degrees are no area. The
//! statistics:
//!
//! - `count`: Σ coverage fraction of cells with a value (cells, not m²);
//! - `sum`: Σ coverage fraction × value (per-cell values added up);
//! - `mean`: Σ w·x / Σ w, with w = coverage × cell area;
//! - `min`, `max`: over every cell with any coverage;
//! - `variance`, `stddev`: population (weighted) variance Σ w (x − mean)² / Σ w
//!   and its square root; `cv` = stddev / mean;
//! - `median` and `qN` (`q10`, `q2.5`, `q90`): exactextract's weighted
//!   percentile method on the zone's distinct values x₁ < … < xₙ with
//!   weights Wₖ (Σ w of the cells holding xₖ): Sₖ = W₁ + … + Wₖ,
//!   s₁ = 0, sₖ = (k − 1)·Wₖ + (n − 1)·Sₖ₋₁; the q-quantile is interpolated
//!   linearly between xₖ and xₖ₊₁ where sₖ ≤ q·(n − 1)·Sₙ < sₖ₊₁ (xₙ
//!   beyond; q = 1 is the largest value). With equal weights and
//!   *distinct* values it is numpy's default quantile (the median of 1, 2,
//!   3, 4 is 2.5); repeated values weigh as one value of their summed
//!   weight, so on rasters with few distinct values (integers, quantised
//!   indices) the median is not the value at half the area: cells 1, 1,
//!   2, 3 have the median 1.8 (numpy: 1.5), and 1,000 cells of 1 with one
//!   each of 2 and 3 have the median 1.5007. For "half the area is below"
//!   on such data, or for a verdict, prefer `mean`.
//!
//! Nodata is the band's nodata value, its mask band, NaN and ±inf; the
//! band's scale and offset are applied unless asked otherwise
//! ([`ScaleOffset`]). Areas of nodata cells are reported, never hidden.
//!
//! Memory: moments are a few numbers per zone. Quantiles need each zone's
//! distinct values: kept as sorted runs of (value, weight) — integer
//! rasters have few distinct values and stay small — and once the runs of
//! all zones hold more than [`ValuesOptions::memory_pairs`] pairs (16 M,
//! 256 MB, by default), they are written to a scratch file in the system's
//! temporary directory and merged from there. Memory is therefore bounded
//! by the budget — twice it while two runs merge into a third — plus the
//! windows in flight, whatever the raster's size.
//!
//! Invariant: for every zone, `valid_area_m2 + nodata_area_m2` is the
//! zone's area on the raster, and min ≤ every quantile ≤ max.

mod accum;
mod pass;

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::area::AreaMode;
use crate::raster::values::ValueRaster;
use crate::zones::{ZoneId, ZoneLayer};
use crate::{Error, Result, RunOptions};

pub use crate::raster::values::ScaleOffset;

/// Schema tag of the values JSON.
pub const VALUES_SCHEMA: &str = "qingshan.values/1";

/// One statistic of a zone's values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stat {
    /// Σ coverage fraction of cells with a value.
    Count,
    /// Σ coverage fraction × value.
    Sum,
    /// Weighted mean.
    Mean,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Weighted population variance.
    Variance,
    /// Its square root.
    Stddev,
    /// Coefficient of variation: stddev / mean.
    Cv,
    /// The median (the 0.5 quantile).
    Median,
    /// A quantile, in [0, 1].
    Quantile(f64),
}

/// The statistics `values` gives when none are asked for.
pub const DEFAULT_STATS: &str = "count,mean,min,max,stddev,median";

impl Stat {
    /// Parses a list such as `"mean,stddev,median,q10,q90"`.
    pub fn parse_list(text: &str) -> Result<Vec<Stat>> {
        let mut out: Vec<Stat> = Vec::new();
        for s in text.split(',').map(str::trim) {
            let stat = Stat::parse(s)?;
            if !out.iter().any(|o| o.name() == stat.name()) {
                out.push(stat);
            }
        }
        Ok(out)
    }

    /// Parses one name.
    pub fn parse(s: &str) -> Result<Stat> {
        let lower = s.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "count" => Stat::Count,
            "sum" => Stat::Sum,
            "mean" => Stat::Mean,
            "min" => Stat::Min,
            "max" => Stat::Max,
            "variance" => Stat::Variance,
            "stddev" | "stdev" | "std" => Stat::Stddev,
            "cv" | "coefficient_of_variation" => Stat::Cv,
            "median" => Stat::Median,
            q if q.starts_with('q') => match q[1..].parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => Stat::Quantile(p / 100.0),
                _ => return Err(bad_stat(s)),
            },
            _ => return Err(bad_stat(s)),
        })
    }

    /// Its name in outputs (`q10`, `q2.5`).
    pub fn name(&self) -> String {
        match self {
            Stat::Count => "count".into(),
            Stat::Sum => "sum".into(),
            Stat::Mean => "mean".into(),
            Stat::Min => "min".into(),
            Stat::Max => "max".into(),
            Stat::Variance => "variance".into(),
            Stat::Stddev => "stddev".into(),
            Stat::Cv => "cv".into(),
            Stat::Median => "median".into(),
            Stat::Quantile(q) => format!("q{}", round_percent(q * 100.0)),
        }
    }

    /// The quantile it asks for, if it is one.
    fn quantile(&self) -> Option<f64> {
        match self {
            Stat::Median => Some(0.5),
            Stat::Quantile(q) => Some(*q),
            _ => None,
        }
    }
}

/// A percentage as written (10, 2.5), without binary noise.
fn round_percent(p: f64) -> String {
    let r = (p * 1e9).round() / 1e9;
    format!("{r}")
}

fn bad_stat(s: &str) -> Error {
    Error::Invalid(format!(
        "--stats: statistic {s:?} is not known: use count, sum, mean, min, max, variance, stddev, cv, median, or qN for the N-th percentile (q10, q2.5, q90)"
    ))
}

/// A zone's statistics by name, in the order asked (a JSON object;
/// `null` where the zone has no value).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatValues(pub Vec<(String, Option<f64>)>);

impl StatValues {
    /// The value of a statistic by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v)
    }
}

impl Serialize for StatValues {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for StatValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of statistics")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<StatValues, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, Option<f64>>()? {
                    out.push((k, v));
                }
                Ok(StatValues(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The values of one zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneValues {
    /// Zone id.
    pub id: ZoneId,
    /// Zone name, when the layer has one.
    pub name: Option<String>,
    /// Area of the zone polygon (on the ellipsoid, or planar).
    pub zone_area_m2: f64,
    /// Area of covered cells with a value.
    pub valid_area_m2: f64,
    /// Area of covered cells without one (nodata, masked, NaN).
    pub nodata_area_m2: f64,
    /// The statistics asked for.
    pub stats: StatValues,
    /// The zone's attributes from the input layer.
    #[serde(skip)]
    pub attributes: Map<String, Value>,
}

/// The `qingshan.values/1` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValuesReport {
    /// Always [`VALUES_SCHEMA`].
    pub schema: String,
    /// The raster's files.
    pub raster: String,
    /// The band measured.
    pub band: usize,
    /// The scale and offset applied to the stored numbers (of the first
    /// tile; `[1, 0]`: none).
    #[serde(default = "no_scale")]
    pub scale_offset: (f64, f64),
    /// CRS of the raster.
    pub crs: String,
    /// How cells are weighted.
    pub area: AreaMode,
    /// The statistics, in order.
    pub stats: Vec<String>,
    /// One entry per zone, in input order.
    pub zones: Vec<ZoneValues>,
    /// Things the user should know.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl ValuesReport {
    /// The zone with this id.
    pub fn zone(&self, id: &str) -> Option<&ZoneValues> {
        self.zones.iter().find(|z| z.id == id)
    }
}

fn no_scale() -> (f64, f64) {
    (1.0, 0.0)
}

/// Tuning of a values run.
#[derive(Clone, Copy, Debug)]
pub struct ValuesOptions {
    /// Pairs of (value, weight) held in memory for quantiles before they
    /// spill to a scratch file (16 bytes each).
    pub memory_pairs: usize,
}

impl ValuesOptions {
    /// Bytes of one (value, weight) pair.
    pub const PAIR_BYTES: usize = 16;

    /// The pairs that fit in `mb` megabytes (at least 1 MB).
    pub fn pairs_in_mb(mb: usize) -> Result<usize> {
        if mb == 0 {
            return Err(Error::Invalid(
                "--quantile-memory-mb 0: give at least 1 (MB; default 256)".into(),
            ));
        }
        Ok(mb.saturating_mul(1 << 20) / Self::PAIR_BYTES)
    }
}

impl Default for ValuesOptions {
    fn default() -> ValuesOptions {
        ValuesOptions {
            memory_pairs: 16 << 20,
        }
    }
}

/// Measures `stats` of `raster`'s values in every zone, in parallel, in
/// one pass over the raster (its `area` says how cells are weighted).
///
/// # Examples
/// ```
/// use qingshan::raster::values::{ScaleOffset, ValueRaster};
/// use qingshan::values::{Stat, values};
/// use qingshan::zones::{ZoneLayer, ZoneOptions};
///
/// let ndvi = ValueRaster::open_values(&["../../fixtures/ndvi/ndvi_2024.tif"], 1, ScaleOffset::File)?;
/// let towns = ZoneLayer::read("../../fixtures/towns.geojson".as_ref(), &ZoneOptions::default())?;
/// let stats = Stat::parse_list("mean,median,q10,q90")?;
/// let r = values(&ndvi, &towns, &stats, &Default::default())?;
/// let z = &r.zones[0];
/// let (q10, median, q90) = (z.stats.get("q10").unwrap(), z.stats.get("median").unwrap(), z.stats.get("q90").unwrap());
/// assert!(q10 <= median && median <= q90 && q90 <= 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn values(
    raster: &ValueRaster,
    zones: &ZoneLayer,
    stats: &[Stat],
    opts: &RunOptions<'_>,
) -> Result<ValuesReport> {
    values_with(raster, zones, stats, &ValuesOptions::default(), opts)
}

/// [`values`] with tuning.
pub fn values_with(
    raster: &ValueRaster,
    zones: &ZoneLayer,
    stats: &[Stat],
    tuning: &ValuesOptions,
    opts: &RunOptions<'_>,
) -> Result<ValuesReport> {
    if stats.is_empty() {
        return Err(Error::Invalid(format!(
            "no statistic asked for (e.g. --stats {DEFAULT_STATS})"
        )));
    }
    let quantiles: Vec<f64> = stats.iter().filter_map(Stat::quantile).collect();
    let zone_areas = zones.areas(raster.crs(), raster.area)?;
    let parts = pass::run(raster, zones, &quantiles, tuning, opts)?;
    let mut warnings: Vec<String> = zones.repairs.clone();
    warnings.extend(raster.warnings.iter().cloned());
    let mut out = Vec::with_capacity(zones.zones.len());
    for ((zone, part), &zone_area) in zones.zones.iter().zip(parts).zip(&zone_areas) {
        let m = &part.moments;
        let covered = m.weight + m.nodata;
        warnings.extend(crate::zonal::coverage_warning(
            &zone.id,
            covered,
            zone_area,
            "the raster",
        ));
        if covered > 0.0 && m.weight == 0.0 {
            warnings.push(format!(
                "zone {:?}: every cell under it is nodata: its statistics are null",
                zone.id
            ));
        }
        let mut qs = part.quantiles.iter();
        let valid = m.weight > 0.0;
        let values = stats
            .iter()
            .map(|s| {
                let v = match s {
                    Stat::Count => Some(m.count),
                    Stat::Sum => Some(m.sum),
                    Stat::Mean => valid.then_some(m.mean),
                    Stat::Min => valid.then_some(m.min),
                    Stat::Max => valid.then_some(m.max),
                    Stat::Variance => m.variance(),
                    Stat::Stddev => m.variance().map(f64::sqrt),
                    Stat::Cv => m
                        .variance()
                        .and_then(|v| (m.mean != 0.0).then(|| v.sqrt() / m.mean)),
                    Stat::Median | Stat::Quantile(_) => qs.next().copied().flatten(),
                };
                // A sum that overflowed is no number.
                (s.name(), v.filter(|x| x.is_finite()))
            })
            .collect();
        out.push(ZoneValues {
            id: zone.id.clone(),
            name: zone.name.clone(),
            zone_area_m2: zone_area,
            valid_area_m2: m.weight,
            nodata_area_m2: m.nodata,
            stats: StatValues(values),
            attributes: zone.attributes.clone(),
        });
    }
    Ok(ValuesReport {
        schema: VALUES_SCHEMA.into(),
        raster: raster.label(),
        band: raster.tiles.first().map_or(1, |t| t.band),
        scale_offset: raster
            .tiles
            .first()
            .map_or((1.0, 0.0), |t| (t.scale, t.add)),
        crs: raster.crs().label.clone(),
        area: raster.area,
        stats: stats.iter().map(Stat::name).collect(),
        zones: out,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_parse_with_percentiles_and_reject_the_unknown() {
        let s = Stat::parse_list("mean, q10,median,Q2.5,q100,mean").unwrap();
        let names: Vec<String> = s.iter().map(Stat::name).collect();
        assert_eq!(names, ["mean", "q10", "median", "q2.5", "q100"]);
        assert_eq!(s[1], Stat::Quantile(0.1));
        for bad in ["q101", "q-1", "qx", "mode", ""] {
            let e = Stat::parse_list(bad).unwrap_err().to_string();
            assert!(e.contains("is not known"), "{bad}: {e}");
        }
    }

    #[test]
    fn stat_values_keep_their_order_through_json() {
        let v = StatValues(vec![
            ("mean".into(), Some(0.5)),
            ("count".into(), None),
            ("q10".into(), Some(0.1)),
        ]);
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(text, r#"{"mean":0.5,"count":null,"q10":0.1}"#);
        let back: StatValues = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
