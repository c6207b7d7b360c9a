//! Land-cover change between two dates: per zone, the exact area of every
//! from-class → to-class transition, read in one pass over both dates.
//!
//! Both dates must share the grid lattice (CRS, pixel size, alignment);
//! where their extents differ only the common extent is compared. A cell
//! that is nodata in either date is nodata, never a transition.
//! Invariant: for every zone, Σ transitions = `valid_area_m2`, the row sums
//! are the classes before and the column sums the classes after.
//!
//! By concern: `pairing` (which tiles are read together), `kernel` (one
//! task: both dates' windows into per-zone transition areas), `pass` (the
//! driver: plans, runs and merges a pass, a `PassSpec` instead of
//! loose arguments), [`coding`] (`from × factor + to` codes) and `writer`
//! (rasters a pass writes, through a cell sink: the transition raster
//! here, the conversion mask in [`crate::redline`]).
//!
//! # Examples
//! ```
//! use qingshan::change::land_cover_change;
//! use qingshan::{legend::Legend, raster::LandCover, zones::{ZoneLayer, ZoneOptions}};
//!
//! let before = LandCover::open(&["../../fixtures/landcover/clcd_2019.vrt"], 1)?;
//! let after = LandCover::open(&["../../fixtures/landcover/clcd_2024.vrt"], 1)?;
//! let towns = ZoneLayer::read("../../fixtures/towns.geojson".as_ref(), &ZoneOptions::default())?;
//! let clcd = Legend::builtin("clcd").unwrap();
//! let change = land_cover_change(&before, &after, &towns, &clcd, &Default::default(), None)?;
//! for town in &change.zones {
//!     // Forest after = forest before + gain − loss.
//!     let net = town.forest_gain_m2 - town.forest_loss_m2;
//!     assert!((town.forest_after_m2 - town.forest_before_m2 - net).abs() < 1e-6 * town.valid_area_m2);
//! }
//! # Ok::<(), qingshan::Error>(())
//! ```

pub mod coding;
mod kernel;
mod pairing;
pub(crate) mod pass;
pub(crate) mod writer;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::area::AreaMode;

use crate::engine::{RunOptions, Runner};
use crate::legend::{ClassCode, Legend};
use crate::raster::LandCover;
use crate::zonal::{StatsReport, finish_stats};
use crate::zones::{ZoneId, ZoneLayer};
use crate::{Error, Result};

pub use coding::TransitionCoding;
pub(crate) use pairing::pair_identical;
pub(crate) use pass::change_tiles;
use pass::{PassSpec, RasterOut};
use writer::{CellSink, NoRaster, TransitionRaster};

/// Schema tag of the change JSON.
pub const CHANGE_SCHEMA: &str = "qingshan.change/1";

/// Transitions of one zone (all areas in m²).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneChange {
    /// Zone id.
    pub id: ZoneId,
    /// Zone name, when the layer has one.
    pub name: Option<String>,
    /// Geodesic area of the zone polygon on the ellipsoid.
    pub zone_area_m2: f64,
    /// Area of covered cells valid in both dates.
    pub valid_area_m2: f64,
    /// Area of covered cells that are nodata in either date.
    pub nodata_area_m2: f64,
    /// `transitions[from][to]`: area that was class `from` before and is
    /// class `to` after (unchanged cells included as `from == to`).
    pub transitions: BTreeMap<ClassCode, BTreeMap<ClassCode, f64>>,
    /// Forest area before.
    pub forest_before_m2: f64,
    /// Forest area after.
    pub forest_after_m2: f64,
    /// Non-forest that became forest.
    pub forest_gain_m2: f64,
    /// Forest that became non-forest.
    pub forest_loss_m2: f64,
    /// `forest_after_m2 − forest_before_m2`.
    pub forest_net_m2: f64,
    /// Forest cover before (forest / valid area); `null` with no valid area.
    pub forest_cover_before: Option<f64>,
    /// Forest cover after.
    pub forest_cover_after: Option<f64>,
    /// The zone's attributes from the input layer.
    pub attributes: Map<String, Value>,
}

/// Result of [`land_cover_change`]: the `qingshan.change/1` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeReport {
    /// Always [`CHANGE_SCHEMA`].
    pub schema: String,
    /// Legend name.
    pub legend: String,
    /// CRS of the land cover.
    pub crs: String,
    /// How areas were measured (`ellipsoidal` or `planar`).
    #[serde(default = "crate::area::AreaMode::unrecorded")]
    pub area: AreaMode,
    /// The before rasters.
    pub before: Vec<String>,
    /// The after rasters.
    pub after: Vec<String>,
    /// One entry per zone, in input order.
    pub zones: Vec<ZoneChange>,
    /// Things the user should know.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl ChangeReport {
    /// The class areas of the first and of the second date, summed over
    /// the zones (the row and column sums of every zone's transitions).
    pub fn areas_by_date(&self) -> (BTreeMap<ClassCode, f64>, BTreeMap<ClassCode, f64>) {
        let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
        for z in &self.zones {
            for (from, row) in &z.transitions {
                for (to, a) in row {
                    *before.entry(*from).or_insert(0.0) += a;
                    *after.entry(*to).or_insert(0.0) += a;
                }
            }
        }
        (before, after)
    }
}

/// Transition areas of one zone accumulated so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TransitionAccum {
    /// `pairs[from][to]` in m².
    pub pairs: BTreeMap<ClassCode, BTreeMap<ClassCode, f64>>,
    /// Nodata (either date) area.
    pub nodata_m2: f64,
}

impl TransitionAccum {
    /// Adds another partial (merge in a fixed order for deterministic sums).
    pub fn merge(&mut self, other: &TransitionAccum) {
        for (from, row) in &other.pairs {
            let mine = self.pairs.entry(*from).or_default();
            for (to, a) in row {
                *mine.entry(*to).or_insert(0.0) += a;
            }
        }
        self.nodata_m2 += other.nodata_m2;
    }

    fn add(&mut self, from: ClassCode, to: ClassCode, a: f64) {
        *self.pairs.entry(from).or_default().entry(to).or_insert(0.0) += a;
    }
}

/// Where to write a transition raster, and how codes are formed.
#[derive(Clone, Debug)]
pub struct ChangeRaster {
    /// Output GeoTIFF.
    pub path: PathBuf,
}

/// Where a change report's numbers come from: the land cover's CRS and
/// the two dates' rasters (as the report lists them).
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeSources {
    /// CRS label of the land cover.
    pub crs: String,
    /// How areas are measured.
    pub area: AreaMode,
    /// The before rasters.
    pub before: Vec<String>,
    /// The after rasters.
    pub after: Vec<String>,
}

impl ChangeSources {
    /// The sources of a change between `before` and `after`.
    pub fn of(before: &LandCover, after: &LandCover) -> ChangeSources {
        ChangeSources {
            crs: before.crs().label.clone(),
            area: before.area,
            before: before.tile_names(),
            after: after.tile_names(),
        }
    }
}

/// Transition areas per zone between two dates (and, with `raster`, a
/// GeoTIFF coding each cell's transition). Zones are reprojected to the
/// rasters' CRS; the two dates are read in the same windows in one pass.
pub fn land_cover_change(
    before: &LandCover,
    after: &LandCover,
    zones: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
    raster: Option<&ChangeRaster>,
) -> Result<ChangeReport> {
    let sink = TransitionRaster {
        coding: TransitionCoding::for_legend(legend),
        legend,
    };
    let out = raster.map(|r| RasterOut {
        path: r.path.as_path(),
        sink: &sink,
    });
    change_with_raster(before, after, zones, legend, opts, out)
}

/// [`land_cover_change`] writing, in the same pass, the raster of any
/// [`CellSink`] (the red lines' conversion mask, say). Needs one raster
/// per date when `raster` is given.
pub(crate) fn change_with_raster<S: CellSink>(
    before: &LandCover,
    after: &LandCover,
    zones: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
    raster: Option<RasterOut<'_, S>>,
) -> Result<ChangeReport> {
    let runner = Runner::new(opts)?;
    let spec = PassSpec {
        before,
        after,
        layers: &[zones],
        legend,
        after_stats: false,
    };
    let (zone_areas, pass) = runner.install(|| {
        rayon::join(
            || zones.areas(before.crs(), before.area),
            || pass::run(&runner, &spec, raster),
        )
    });
    let (zone_areas, pass) = (zone_areas?, pass?);
    let mut warnings = zones.repairs.clone();
    warnings.extend(pass.warnings);
    warnings.extend(before.nodata_classes(legend));
    warnings.extend(after.nodata_classes(legend));
    Ok(finish_change(
        zones,
        legend,
        ChangeSources::of(before, after),
        pass.transitions,
        &zone_areas,
        warnings,
    ))
}

/// Transitions of several zone layers and the after date's class areas of
/// the first, in one pass over both dates where possible: what an audit
/// needs of its towns and red lines. Every report is bit for bit what
/// [`land_cover_change`] (per layer) and [`crate::zonal::zonal_stats`]
/// (of the after date, first layer) give alone; when the after date's
/// tiles do not pair one to one with the before date's on identical
/// grids, its class areas take a pass of their own.
pub(crate) fn change_layers_and_stats(
    before: &LandCover,
    after: &LandCover,
    layers: &[&ZoneLayer],
    legend: &Legend,
    opts: &RunOptions<'_>,
) -> Result<(Vec<ChangeReport>, StatsReport)> {
    let Some(first) = layers.first() else {
        return Err(Error::Invalid("no zone layer given".into()));
    };
    let runner = Runner::new(opts)?;
    let spec = PassSpec {
        before,
        after,
        layers,
        legend,
        after_stats: true,
    };
    let (areas, pass) = runner.install(|| {
        rayon::join(
            || -> Result<Vec<Vec<f64>>> {
                layers
                    .iter()
                    .map(|zones| zones.areas(before.crs(), before.area))
                    .collect()
            },
            || pass::run::<NoRaster>(&runner, &spec, None),
        )
    });
    let (areas, pass) = (areas?, pass?);
    let mut transitions = pass.transitions.into_iter();
    let mut reports = Vec::with_capacity(layers.len());
    for (zones, zone_areas) in layers.iter().zip(&areas) {
        let accums: Vec<TransitionAccum> = transitions.by_ref().take(zones.zones.len()).collect();
        let mut warnings = zones.repairs.clone();
        warnings.extend(pass.warnings.iter().cloned());
        warnings.extend(before.nodata_classes(legend));
        warnings.extend(after.nodata_classes(legend));
        reports.push(finish_change(
            zones,
            legend,
            ChangeSources::of(before, after),
            accums,
            zone_areas,
            warnings,
        ));
    }
    let stats = match pass.after_stats {
        Some(accums) => {
            let mut report = finish_stats(
                first,
                legend,
                after.crs().label.clone(),
                after.area,
                accums,
                &areas[0],
                &after.label(),
            );
            report.warnings.splice(0..0, first.repairs.iter().cloned());
            report
        }
        None => crate::zonal::zonal_stats(after, first, legend, opts)?,
    };
    Ok((reports, stats))
}

/// The raw per-zone transition accumulators (one per zone, in layer
/// order) and warnings, before [`finish_change`]: to merge
/// ([`TransitionAccum::merge`]) with runs over other tiles of the same
/// dates.
pub fn change_accumulate(
    before: &LandCover,
    after: &LandCover,
    zones: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
) -> Result<(Vec<TransitionAccum>, Vec<String>)> {
    let spec = PassSpec {
        before,
        after,
        layers: &[zones],
        legend,
        after_stats: false,
    };
    let out = pass::run::<NoRaster>(&Runner::new(opts)?, &spec, None)?;
    Ok((out.transitions, out.warnings))
}

/// Turns accumulated transitions into the change report.
pub fn finish_change(
    zones: &ZoneLayer,
    legend: &Legend,
    sources: ChangeSources,
    accums: Vec<TransitionAccum>,
    zone_areas: &[f64],
    mut warnings: Vec<String>,
) -> ChangeReport {
    let out = zones
        .zones
        .iter()
        .zip(accums)
        .zip(zone_areas)
        .map(|((zone, acc), &zone_area)| {
            let (mut valid, mut fb, mut fa, mut gain, mut loss) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (from, row) in &acc.pairs {
                for (to, a) in row {
                    valid += a;
                    let (f0, f1) = (legend.is_forest(*from), legend.is_forest(*to));
                    if f0 {
                        fb += a;
                    }
                    if f1 {
                        fa += a;
                    }
                    if f1 && !f0 {
                        gain += a;
                    }
                    if f0 && !f1 {
                        loss += a;
                    }
                }
            }
            if valid + acc.nodata_m2 == 0.0 {
                warnings.push(format!(
                    "zone {:?} does not overlap the land cover of both dates: its areas are zero",
                    zone.id
                ));
            }
            ZoneChange {
                id: zone.id.clone(),
                name: zone.name.clone(),
                zone_area_m2: zone_area,
                valid_area_m2: valid,
                nodata_area_m2: acc.nodata_m2,
                transitions: acc.pairs,
                forest_before_m2: fb,
                forest_after_m2: fa,
                forest_gain_m2: gain,
                forest_loss_m2: loss,
                forest_net_m2: fa - fb,
                forest_cover_before: (valid > 0.0).then(|| fb / valid),
                forest_cover_after: (valid > 0.0).then(|| fa / valid),
                attributes: zone.attributes.clone(),
            }
        })
        .collect();
    let mut report = ChangeReport {
        schema: CHANGE_SCHEMA.to_string(),
        legend: legend.name.clone(),
        crs: sources.crs,
        area: sources.area,
        before: sources.before,
        after: sources.after,
        zones: out,
        warnings,
    };
    let (before, after) = report.areas_by_date();
    let dates = [
        (crate::raster::files_label(&report.before), &before),
        (crate::raster::files_label(&report.after), &after),
    ];
    for (date, areas) in dates {
        if let Some((_, what)) = legend.unknown_codes(areas) {
            report.warnings.push(format!(
                "{date}: {what}; they count as valid land of no known class: check --legend, or list them in a TOML legend"
            ));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Tile;
    use crate::zones::ZoneOptions;
    use std::path::Path;

    fn fx(p: &str) -> String {
        format!("{}/../../fixtures/{p}", env!("CARGO_MANIFEST_DIR"))
    }

    struct Inputs {
        before: LandCover,
        after: LandCover,
        towns: ZoneLayer,
        red: ZoneLayer,
        legend: Legend,
        opts: RunOptions<'static>,
    }

    fn inputs(after: &str) -> Inputs {
        Inputs {
            before: LandCover::open(&[fx("landcover/clcd_2019.vrt")], 1).unwrap(),
            after: LandCover::open(&[after], 1).unwrap(),
            towns: ZoneLayer::read(fx("towns.geojson").as_ref(), &ZoneOptions::default()).unwrap(),
            red: ZoneLayer::read(
                fx("redlines_2024.gpkg").as_ref(),
                &ZoneOptions {
                    id_field: Some("hx_id".into()),
                    ..Default::default()
                },
            )
            .unwrap(),
            legend: Legend::builtin("clcd").unwrap(),
            opts: RunOptions {
                threads: Some(2),
                progress: None,
            },
        }
    }

    /// Towns and red lines (in another CRS) in one pass over tiled dates:
    /// each layer's transitions and the towns' after-date class areas are
    /// bit for bit those of separate runs.
    #[test]
    fn one_pass_over_two_layers_equals_separate_runs() {
        let i = inputs(&fx("landcover/clcd_2024.vrt"));
        let spec = PassSpec {
            before: &i.before,
            after: &i.after,
            layers: &[&i.towns, &i.red],
            legend: &i.legend,
            after_stats: true,
        };
        let out = pass::run::<NoRaster>(&Runner::new(&i.opts).unwrap(), &spec, None).unwrap();
        let stats = out
            .after_stats
            .expect("the fixture dates pair tile by tile on one grid");
        let alone = crate::zonal::zonal_accumulate(&i.after, &i.towns, &i.legend, &i.opts).unwrap();
        assert_eq!(stats, alone);
        let n = i.towns.zones.len();
        for (layer, range) in [(&i.towns, 0..n), (&i.red, n..out.transitions.len())] {
            let (alone, _) =
                change_accumulate(&i.before, &i.after, layer, &i.legend, &i.opts).unwrap();
            assert_eq!(out.transitions[range], alone[..]);
        }
        assert!(stats.iter().all(|z| !z.classes.is_empty()));
    }

    /// When the after date is one GeoTIFF with other blocks than the
    /// before VRT, its class areas take their own pass and still equal a
    /// `stats` run.
    #[test]
    fn stats_take_their_own_pass_when_windows_differ() {
        let tmp = tempfile::tempdir().unwrap();
        let tif = tmp.path().join("clcd_2024.tif");
        let src = gdal::Dataset::open(fx("landcover/clcd_2024.vrt")).unwrap();
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let opts =
            gdal::cpl::CslStringList::from_iter(["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512"]);
        src.create_copy(&driver, &tif, &opts).unwrap();
        let i = inputs(tif.to_str().unwrap());
        let spec = PassSpec {
            before: &i.before,
            after: &i.after,
            layers: &[&i.towns],
            legend: &i.legend,
            after_stats: true,
        };
        let out = pass::run::<NoRaster>(&Runner::new(&i.opts).unwrap(), &spec, None).unwrap();
        assert!(out.after_stats.is_none());
        let (changes, stats) =
            change_layers_and_stats(&i.before, &i.after, &[&i.towns], &i.legend, &i.opts).unwrap();
        let alone = crate::zonal::zonal_stats(&i.after, &i.towns, &i.legend, &i.opts).unwrap();
        assert_eq!(
            serde_json::to_string(&stats).unwrap(),
            serde_json::to_string(&alone).unwrap()
        );
        let change =
            land_cover_change(&i.before, &i.after, &i.towns, &i.legend, &i.opts, None).unwrap();
        assert_eq!(
            serde_json::to_string(&changes[0]).unwrap(),
            serde_json::to_string(&change).unwrap()
        );
    }

    /// Writing a transition raster reads the fixture VRTs through their
    /// tiles too: the JSON is the same bytes as without the raster, and
    /// every cell of the raster is the code of the two VRTs' cells as GDAL
    /// reads them.
    #[test]
    fn a_transition_raster_of_mosaics_changes_nothing_else() {
        let i = inputs(&fx("landcover/clcd_2024.vrt"));
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("t.tif");
        let raster = ChangeRaster { path: out.clone() };
        let with = land_cover_change(
            &i.before,
            &i.after,
            &i.towns,
            &i.legend,
            &i.opts,
            Some(&raster),
        )
        .unwrap();
        let without =
            land_cover_change(&i.before, &i.after, &i.towns, &i.legend, &i.opts, None).unwrap();
        assert_eq!(
            serde_json::to_string(&with).unwrap(),
            serde_json::to_string(&without).unwrap()
        );
        let read = |p: &str| {
            let t = Tile::open(Path::new(p), 1).unwrap();
            crate::raster::TileReader::open(&t)
                .unwrap()
                .read_array::<u8>(t.grid.full_window())
                .unwrap()
        };
        let (b, a) = (
            read(&fx("landcover/clcd_2019.vrt")),
            read(&fx("landcover/clcd_2024.vrt")),
        );
        let t = read(out.to_str().unwrap());
        assert_eq!(t.dim(), b.dim());
        let coding = TransitionCoding::for_legend(&i.legend);
        for ((x, y), v) in b.iter().zip(a.iter()).zip(t.iter()) {
            let want = if *x == 0 || *y == 0 {
                coding.nodata
            } else {
                coding.code(ClassCode::from(*x), ClassCode::from(*y))
            };
            assert_eq!(*v as u64, want);
        }
    }
}
