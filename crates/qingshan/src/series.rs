//! Time series: the same zones measured at many dates in one run — class
//! areas and forest cover of each zone for every date of an annual land
//! cover (CLCD is annual since 1985), and statistics of a continuous
//! raster (mean NDVI, NPP) per date (`qingshan.series/1`). What a plan's
//! public progress report shows: forest cover of each town year by year,
//! and whether a red line's vegetation held.
//!
//! Each date is one pass of [`crate::zonal::zonal_stats`] or
//! [`crate::values::values`] over its own raster (a file, a VRT, tiles),
//! each pass parallel over its tiles and windows; the numbers of a date
//! are exactly what `stats` or `values` gives for that date alone.
//!
//! Dates are labels (`2019`, `2019-06-30`) ordered as text, so ISO forms
//! sort in time; a label given twice for the same kind is an error.
//!
//! Invariant: every zone has an entry for every date of each kind, in
//! date order; a date's numbers equal the single-date command's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::area::AreaMode;
use crate::legend::{ClassCode, Legend};
use crate::raster::LandCover;
use crate::raster::values::ValueRaster;
use crate::values::{Stat, StatValues, ValuesOptions};
use crate::zones::{ZoneId, ZoneLayer};
use crate::{Error, Result, RunOptions};

/// Schema tag of the series JSON.
pub const SERIES_SCHEMA: &str = "qingshan.series/1";

/// A date's source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatedSource {
    /// The date's label.
    pub date: String,
    /// The raster's files.
    pub source: String,
}

/// One zone's land cover at one date (the `qingshan.stats/1` numbers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LandCoverAt {
    /// Area of covered cells with a class.
    pub valid_area_m2: f64,
    /// Area of covered nodata cells.
    pub nodata_area_m2: f64,
    /// Area per class code.
    pub classes: BTreeMap<ClassCode, f64>,
    /// Area of the legend's forest classes.
    pub forest_area_m2: f64,
    /// Forest area / valid area; `null` when nothing is valid.
    pub forest_cover: Option<f64>,
}

/// One zone's values at one date (the `qingshan.values/1` numbers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValuesAt {
    /// Area of covered cells with a value.
    pub valid_area_m2: f64,
    /// Area of covered nodata cells.
    pub nodata_area_m2: f64,
    /// The statistics asked for.
    pub stats: StatValues,
}

/// One zone over the dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneSeries {
    /// Zone id.
    pub id: ZoneId,
    /// Zone name, when the layer has one.
    pub name: Option<String>,
    /// Area of the zone polygon (on the ellipsoid, or planar).
    pub zone_area_m2: f64,
    /// Land cover by date.
    pub landcover: BTreeMap<String, LandCoverAt>,
    /// Values by date.
    pub values: BTreeMap<String, ValuesAt>,
    /// The zone's attributes from the input layer.
    #[serde(skip)]
    pub attributes: Map<String, Value>,
}

impl ZoneSeries {
    /// Forest cover at each land-cover date, in date order.
    pub fn forest_cover(&self) -> Vec<(&str, Option<f64>)> {
        self.landcover
            .iter()
            .map(|(d, l)| (d.as_str(), l.forest_cover))
            .collect()
    }

    /// Statistic `stat` of the values at each values date, in date order.
    pub fn value(&self, stat: &str) -> Vec<(&str, Option<f64>)> {
        self.values
            .iter()
            .map(|(d, v)| (d.as_str(), v.stats.get(stat)))
            .collect()
    }
}

/// The `qingshan.series/1` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesReport {
    /// Always [`SERIES_SCHEMA`].
    pub schema: String,
    /// Legend of the land cover (when land cover is given).
    pub legend: Option<String>,
    /// How areas were measured.
    pub area: AreaMode,
    /// Every date, in order.
    pub dates: Vec<String>,
    /// The land cover of each date, in date order.
    pub landcover: Vec<DatedSource>,
    /// The value raster of each date, in date order.
    pub values: Vec<DatedSource>,
    /// What the values are (e.g. `NDVI`).
    pub values_name: Option<String>,
    /// The statistics of the values.
    pub stats: Vec<String>,
    /// One entry per zone, in input order.
    pub zones: Vec<ZoneSeries>,
    /// Things the user should know (each prefixed by its date).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// What to measure.
#[derive(Clone, Copy)]
pub struct SeriesInputs<'a> {
    /// The zones.
    pub zones: &'a ZoneLayer,
    /// Land cover per date, and the legend of all of them.
    pub landcover: &'a [(String, LandCover)],
    /// The legend (needed with land cover).
    pub legend: Option<&'a Legend>,
    /// A continuous raster per date.
    pub rasters: &'a [(String, ValueRaster)],
    /// What the rasters hold (a label for outputs and charts).
    pub values_name: Option<&'a str>,
    /// Statistics of the rasters.
    pub stats: &'a [Stat],
    /// Tuning of the values passes (memory for quantiles).
    pub tuning: ValuesOptions,
}

/// Splits `DATE=PATH` (the date a label without `=`).
pub fn parse_dated(spec: &str) -> Result<(String, String)> {
    match spec.split_once('=') {
        Some((d, p)) if !d.trim().is_empty() && !p.trim().is_empty() => {
            Ok((d.trim().to_string(), p.trim().to_string()))
        }
        _ => Err(Error::Invalid(format!(
            "{spec:?}: give each date and its raster as DATE=PATH (--landcover 2019=clcd_2019.tif, --raster 2019=ndvi_2019.tif)"
        ))),
    }
}

/// Checks that dates are unique and sorts the list by date.
fn sorted<T>(kind: &str, items: &[(String, T)]) -> Result<Vec<usize>> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].0.cmp(&items[b].0));
    for w in order.windows(2) {
        if items[w[0]].0 == items[w[1]].0 {
            return Err(Error::Invalid(format!(
                "{kind} date {:?} is given twice",
                items[w[0]].0
            )));
        }
    }
    Ok(order)
}

/// A warning when the land cover of the dates is not on one grid (CRS and
/// cell size): forest cover measured at different resolutions moves with
/// the resolution, not only with the forest.
fn grid_warning(landcover: &[(String, LandCover)], order: &[usize]) -> Option<String> {
    let grid = |i: usize| {
        let t = landcover[i].1.tiles.first()?;
        let (px, py) = t.grid.transform.pixel_size();
        Some((t.grid.crs.label.clone(), px.abs(), py.abs()))
    };
    let first = *order.first()?;
    let g0 = grid(first)?;
    let other = order.iter().find(|&&i| {
        grid(i).is_some_and(|g| {
            g.0 != g0.0 || (g.1 - g0.1).abs() > 1e-9 * g0.1 || (g.2 - g0.2).abs() > 1e-9 * g0.2
        })
    })?;
    let g = grid(*other)?;
    Some(format!(
        "the land cover of {} ({}, {} × {}) is not on the grid of {} ({}, {} × {}): forest cover at another resolution differs with the resolution, not only with the forest",
        landcover[*other].0, g.0, g.1, g.2, landcover[first].0, g0.0, g0.1, g0.2
    ))
}

/// Measures every zone at every date: one pass per date, each parallel.
pub fn series(inputs: &SeriesInputs<'_>, opts: &RunOptions<'_>) -> Result<SeriesReport> {
    if inputs.landcover.is_empty() && inputs.rasters.is_empty() {
        return Err(Error::Invalid(
            "no date to measure: give land cover (--landcover DATE=PATH …) or rasters (--raster DATE=PATH …)".into(),
        ));
    }
    let legend = match (inputs.landcover.is_empty(), inputs.legend) {
        (false, None) => return Err(Error::Invalid("land cover needs a legend".into())),
        (_, l) => l,
    };
    let lc_order = sorted("land-cover", inputs.landcover)?;
    let v_order = sorted("raster", inputs.rasters)?;
    let zones = inputs.zones;
    let mut out: Vec<ZoneSeries> = zones
        .zones
        .iter()
        .map(|z| ZoneSeries {
            id: z.id.clone(),
            name: z.name.clone(),
            zone_area_m2: 0.0,
            landcover: BTreeMap::new(),
            values: BTreeMap::new(),
            attributes: z.attributes.clone(),
        })
        .collect();
    let mut warnings = Vec::new();
    // How areas were measured, from the first pass (which also gives
    // the zones' areas).
    let mut area = None;
    let mut lc_sources = Vec::new();
    for &i in &lc_order {
        // Land cover comes with a legend (checked above).
        let Some(legend) = legend else { break };
        let (date, lc) = &inputs.landcover[i];
        let r = crate::zonal::zonal_stats(lc, zones, legend, opts)?;
        let first = area.is_none();
        area.get_or_insert(r.area);
        warnings.extend(r.warnings.iter().map(|w| format!("{date}: {w}")));
        for (z, s) in out.iter_mut().zip(r.zones) {
            if first {
                z.zone_area_m2 = s.zone_area_m2;
            }
            z.landcover.insert(
                date.clone(),
                LandCoverAt {
                    valid_area_m2: s.valid_area_m2,
                    nodata_area_m2: s.nodata_area_m2,
                    classes: s.classes,
                    forest_area_m2: s.forest_area_m2,
                    forest_cover: s.forest_cover,
                },
            );
        }
        lc_sources.push(DatedSource {
            date: date.clone(),
            source: lc.label(),
        });
    }
    let mut v_sources = Vec::new();
    for &i in &v_order {
        let (date, raster) = &inputs.rasters[i];
        let r = crate::values::values_with(raster, zones, inputs.stats, &inputs.tuning, opts)?;
        let first = area.is_none();
        area.get_or_insert(r.area);
        warnings.extend(r.warnings.iter().map(|w| format!("{date}: {w}")));
        for (z, v) in out.iter_mut().zip(r.zones) {
            if first {
                z.zone_area_m2 = v.zone_area_m2;
            }
            z.values.insert(
                date.clone(),
                ValuesAt {
                    valid_area_m2: v.valid_area_m2,
                    nodata_area_m2: v.nodata_area_m2,
                    stats: v.stats,
                },
            );
        }
        v_sources.push(DatedSource {
            date: date.clone(),
            source: raster.label(),
        });
    }
    warnings.extend(grid_warning(inputs.landcover, &lc_order));
    warnings.dedup();
    let mut dates: Vec<String> = lc_sources
        .iter()
        .chain(&v_sources)
        .map(|s| s.date.clone())
        .collect();
    dates.sort();
    dates.dedup();
    Ok(SeriesReport {
        schema: SERIES_SCHEMA.into(),
        legend: (!lc_sources.is_empty())
            .then(|| legend.map(|l| l.name.clone()))
            .flatten(),
        area: area.unwrap_or_default(),
        dates,
        landcover: lc_sources,
        values: v_sources,
        values_name: inputs.values_name.map(str::to_string),
        stats: if inputs.rasters.is_empty() {
            Vec::new()
        } else {
            inputs.stats.iter().map(Stat::name).collect()
        },
        zones: out,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_specs_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_dated("2019=a/b=c.tif").unwrap(),
            ("2019".to_string(), "a/b=c.tif".to_string())
        );
        for bad in ["2019", "=a.tif", "2019=", ""] {
            assert!(
                parse_dated(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("DATE=PATH"),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_are_sorted_and_unique() {
        let items = vec![
            ("2021".to_string(), ()),
            ("2019".into(), ()),
            ("2020".into(), ()),
        ];
        assert_eq!(sorted("x", &items).unwrap(), vec![1, 2, 0]);
        let twice = vec![("2019".to_string(), ()), ("2019".into(), ())];
        assert!(
            sorted("x", &twice)
                .unwrap_err()
                .to_string()
                .contains("given twice")
        );
    }
}
