//! Zonal statistics: the exact area of each land-cover class inside each
//! zone, with valid, nodata and zone areas and forest cover.
//!
//! Each class area is Σ over cells (coverage fraction × cell area), in m².
//! Invariant: for every zone, Σ classes = `valid_area_m2`, and
//! `valid_area_m2 + nodata_area_m2` is the zone's area on the raster; the
//! result is the same bytes at any thread count.
//!
//! # Examples
//! ```no_run
//! use qingshan::{legend::Legend, raster::LandCover, zones::{ZoneLayer, ZoneOptions}};
//! use qingshan::zonal::zonal_stats;
//!
//! let lc = LandCover::open(&["fixtures/landcover/clcd_2019.vrt"], 1)?;
//! let towns = ZoneLayer::read("fixtures/towns.geojson".as_ref(), &ZoneOptions::default())?;
//! let report = zonal_stats(&lc, &towns, &Legend::builtin("clcd").unwrap(), &Default::default())?;
//! for z in &report.zones {
//!     println!("{}: forest cover {:.1} %", z.id, 100.0 * z.forest_cover.unwrap_or(0.0));
//! }
//! # Ok::<(), qingshan::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::area::{AreaField, AreaMode, CellAreas, RunSums};
use crate::coverage::{Run, Scratch};

use crate::Result;
use crate::engine::{self, Readers, RunOptions, Runner, Task, TilePlan};
use crate::legend::{ClassCode, Legend};
use crate::raster::scan::for_each_streak;
use crate::raster::{Buffers, ClassPixel, LandCover, Tile, with_pixel_type};
use crate::zones::{ZoneId, ZoneLayer};

/// Schema tag of the stats JSON.
pub const STATS_SCHEMA: &str = "qingshan.stats/1";

/// Land-cover areas of one zone (all areas in m²).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneStats {
    /// Zone id.
    pub id: ZoneId,
    /// Zone name, when the layer has one.
    pub name: Option<String>,
    /// Geodesic area of the zone polygon on the ellipsoid.
    pub zone_area_m2: f64,
    /// Area of covered cells that hold a class (not nodata).
    pub valid_area_m2: f64,
    /// Area of covered cells that are nodata.
    pub nodata_area_m2: f64,
    /// Area per class code (codes as in the raster, listed or not).
    pub classes: BTreeMap<ClassCode, f64>,
    /// Area of the legend's forest classes.
    pub forest_area_m2: f64,
    /// Forest area / valid area (森林覆盖率); `null` when nothing is valid.
    pub forest_cover: Option<f64>,
    /// Area of the legend's forest-land classes (林地), for legends that
    /// have them (`sandiao`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forest_land_area_m2: Option<f64>,
    /// Land use only: area covered by more than one land-use polygon (the
    /// layer should be a partition). Each polygon's class counts it, so
    /// the classes (and the valid area) exceed the land by this much.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_area_m2: Option<f64>,
    /// Land use with `--area-field` only: the recorded areas minus the
    /// areas computed from the geometries, inside the zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_minus_computed_m2: Option<f64>,
    /// The zone's attributes from the input layer.
    pub attributes: Map<String, Value>,
}

/// Result of [`zonal_stats`]: the `qingshan.stats/1` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatsReport {
    /// Always [`STATS_SCHEMA`].
    pub schema: String,
    /// Legend name.
    pub legend: String,
    /// CRS of the land cover (e.g. `EPSG:4545`).
    pub crs: String,
    /// How areas were measured (`ellipsoidal` or `planar`).
    #[serde(default = "crate::area::AreaMode::unrecorded")]
    pub area: AreaMode,
    /// One entry per zone, in input order.
    pub zones: Vec<ZoneStats>,
    /// Things the user should know (zones outside the raster, repairs).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Class areas of one zone accumulated so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ZoneAccum {
    /// Area per class code.
    pub classes: BTreeMap<ClassCode, f64>,
    /// Nodata area.
    pub nodata_m2: f64,
}

impl ZoneAccum {
    /// Adds another partial (in a fixed order for deterministic sums).
    pub fn merge(&mut self, other: &ZoneAccum) {
        for (c, a) in &other.classes {
            *self.classes.entry(*c).or_insert(0.0) += a;
        }
        self.nodata_m2 += other.nodata_m2;
    }
}

/// Maps pixel values to small per-task slot numbers (slot 0 = nodata).
pub(crate) struct Slots<T: ClassPixel> {
    table: Vec<u32>,
    map: HashMap<ClassCode, u32>,
    /// Code of each slot (slot 0 unused).
    pub(crate) codes: Vec<ClassCode>,
    nodata: Option<T>,
    /// The value masked cells are read as, for tiles with a mask band.
    masked: Option<T>,
    legend_nodata: Vec<ClassCode>,
}

const UNSET: u32 = u32::MAX;

impl<T: ClassPixel> Slots<T> {
    pub(crate) fn new(tile: &Tile, legend: &Legend) -> Self {
        Slots {
            table: vec![UNSET; T::TABLE],
            map: HashMap::new(),
            codes: vec![ClassCode::int(0)],
            nodata: tile.nodata.and_then(T::from_nodata),
            masked: tile.mask.then_some(T::MASKED),
            legend_nodata: legend.nodata.clone(),
        }
    }

    #[cold]
    fn assign(&mut self, v: T) -> usize {
        let code = v.code();
        let slot = if Some(v) == self.nodata
            || Some(v) == self.masked
            || self.legend_nodata.contains(&code)
        {
            0
        } else {
            self.codes.push(code);
            // A window holds at most 2^32 − 2 cells, so slots stay below UNSET.
            (self.codes.len() - 1) as u32
        };
        if T::TABLE > 0 {
            self.table[v.dense_index()] = slot;
        } else {
            self.map.insert(code, slot);
        }
        slot as usize
    }

    #[inline]
    pub(crate) fn slot(&mut self, v: T) -> usize {
        if T::TABLE > 0 {
            let s = self.table[v.dense_index()];
            if s != UNSET {
                return s as usize;
            }
        } else if let Some(&s) = self.map.get(&v.code()) {
            return s as usize;
        }
        self.assign(v)
    }
}

/// Per-worker state: open datasets and reusable buffers.
#[derive(Default)]
pub(crate) struct Worker {
    pub(crate) readers: Readers,
    pub(crate) buffers: Buffers,
    pub(crate) scratch: Scratch,
    pub(crate) runs: Vec<Run>,
}

/// The areas of a run's cells, taken a streak at a time: `start` a run,
/// then `next(n)` is `frac ×` the area of its next `n` cells.
pub(crate) trait Weigh {
    /// Starts a run.
    fn start(&mut self, run: &Run);
    /// `frac ×` the area of the run's next `n` cells.
    fn next(&mut self, n: u32) -> f64;
}

/// Cells of equal area along a row (planar grids, geographic rows).
pub(crate) struct RowAreas<'a> {
    areas: &'a CellAreas,
    w: f64,
}

impl Weigh for RowAreas<'_> {
    #[inline(always)]
    fn start(&mut self, run: &Run) {
        self.w = run.frac * self.areas.row(run.row as usize);
    }
    #[inline(always)]
    fn next(&mut self, n: u32) -> f64 {
        n as f64 * self.w
    }
}

/// Cells of varying area ([`AreaField`]): each streak summed in closed form.
pub(crate) struct FieldAreas<'a>(RunSums<'a>);

impl<'a> FieldAreas<'a> {
    pub(crate) fn new(field: &'a AreaField) -> Self {
        FieldAreas(RunSums::new(field))
    }
}

impl Weigh for FieldAreas<'_> {
    #[inline(always)]
    fn start(&mut self, run: &Run) {
        self.0.start(run.row as usize, run.col as usize, run.frac);
    }
    #[inline(always)]
    fn next(&mut self, n: u32) -> f64 {
        self.0.next(n as usize)
    }
}

/// The cell areas of one task, ready for the kernels: made once per task
/// (the zones of a task share its rows).
pub(crate) enum Weights<'a> {
    /// Equal areas along a row.
    Rows(RowAreas<'a>),
    /// An area field.
    Field(FieldAreas<'a>),
}

impl<'a> Weights<'a> {
    pub(crate) fn new(areas: &'a CellAreas) -> Self {
        match areas {
            CellAreas::Field(f) => Weights::Field(FieldAreas::new(f)),
            other => Weights::Rows(RowAreas::new(other)),
        }
    }
}

/// Calls `$body` with `$w` bound to the [`Weigh`] inside `$weights` (one
/// monomorphised copy per kind of cell areas).
macro_rules! with_weigh {
    ($weights:expr, $w:ident => $body:expr) => {
        match $weights {
            $crate::zonal::Weights::Field($w) => $body,
            $crate::zonal::Weights::Rows($w) => $body,
        }
    };
}
pub(crate) use with_weigh;

impl<'a> RowAreas<'a> {
    pub(crate) fn new(areas: &'a CellAreas) -> Self {
        RowAreas { areas, w: 0.0 }
    }
}

/// Adds `frac × cell area` of every run's cells into `acc` by slot.
/// `block` holds the pixels of `window`, row major.
pub(crate) fn accumulate_runs<T: ClassPixel>(
    runs: &[Run],
    block: &[T],
    window: crate::grid::Window,
    weights: &mut Weights<'_>,
    slots: &mut Slots<T>,
    acc: &mut Vec<f64>,
) {
    with_weigh!(weights, w => accumulate_weighed(runs, block, window, w, slots, acc))
}

#[inline]
fn accumulate_weighed<T: ClassPixel, W: Weigh>(
    runs: &[Run],
    block: &[T],
    window: crate::grid::Window,
    weigh: &mut W,
    slots: &mut Slots<T>,
    acc: &mut Vec<f64>,
) {
    if let Some(bytes) = T::as_bytes(block) {
        // 8-bit: a histogram by byte value, one add per streak; slots once
        // per value at the end.
        let mut hist = [0.0f64; 256];
        for run in runs {
            weigh.start(run);
            let cells = run.cells_in(window);
            if run.len == 1 {
                hist[bytes[cells.start] as usize] += weigh.next(1);
                continue;
            }
            for_each_streak(&bytes[cells], |v, n| {
                hist[v as usize] += weigh.next(n);
            });
        }
        for (v, &a) in hist.iter().enumerate() {
            if a != 0.0 {
                let s = slots.slot(T::from_dense_index(v));
                if s >= acc.len() {
                    acc.resize((s + 1).max(8), 0.0);
                }
                acc[s] += a;
            }
        }
        return;
    }
    let mut add = |v: T, a: f64| {
        let s = slots.slot(v);
        if s >= acc.len() {
            acc.resize((s + 1).max(8), 0.0);
        }
        acc[s] += a;
    };
    for run in runs {
        weigh.start(run);
        let cells = run.cells_in(window);
        if run.len == 1 {
            add(block[cells.start], weigh.next(1));
            continue;
        }
        // Land cover comes in streaks of one class: add each streak once.
        for_each_streak(&block[cells], |v, n| add(v, weigh.next(n)));
    }
}

/// One zone's class areas from its areas by slot (`codes`: each slot's
/// class code; slot 0 is nodata).
pub(crate) fn fold_slots(acc: &[f64], codes: &[ClassCode]) -> ZoneAccum {
    let mut z = ZoneAccum::default();
    for (s, &a) in acc.iter().enumerate() {
        if a == 0.0 {
            continue;
        }
        if s == 0 {
            z.nodata_m2 += a;
        } else {
            *z.classes.entry(codes[s]).or_insert(0.0) += a;
        }
    }
    z
}

fn stats_task<T: ClassPixel>(
    worker: &mut Worker,
    tiles: &[Tile],
    plan: &TilePlan,
    task: &Task,
    legend: &Legend,
) -> Result<Vec<(usize, ZoneAccum)>> {
    let tile = &tiles[plan.tile];
    let view = worker
        .readers
        .get(tiles, plan.tile)?
        .read_view::<T>(task.window, &mut worker.buffers)?;
    let Some(block) = view.as_slice() else {
        return Err(crate::Error::Invalid(
            "internal: window buffer is not contiguous".into(),
        ));
    };
    let mut slots = Slots::<T>::new(tile, legend);
    let mut out = Vec::with_capacity(task.zones.len());
    let mut acc: Vec<f64> = Vec::new();
    let mut weights = Weights::new(&plan.cell_areas);
    for &k in &task.zones {
        let (zone, cov) = &plan.coverages[k as usize];
        cov.window_runs_into(task.window, &mut worker.scratch, &mut worker.runs);
        if worker.runs.is_empty() {
            continue;
        }
        acc.clear();
        accumulate_runs(
            &worker.runs,
            block,
            task.window,
            &mut weights,
            &mut slots,
            &mut acc,
        );
        out.push((*zone, fold_slots(&acc, &slots.codes)));
    }
    Ok(out)
}

/// Computes class areas of every zone over a land-cover source.
///
/// Zones are reprojected to the raster's CRS; zones outside the raster get
/// zero areas and a warning. Runs in parallel over (tile, window) tasks.
pub fn zonal_stats(
    lc: &LandCover,
    zones: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
) -> Result<StatsReport> {
    let runner = Runner::new(opts)?;
    // Zone areas (reprojection to lon/lat, then Karney per zone) run beside
    // the raster pass, on the same workers.
    let (zone_areas, accums) = runner.install(|| {
        rayon::join(
            || zones.areas(lc.crs(), lc.area),
            || accumulate_with(&runner, lc, zones, legend),
        )
    });
    let (zone_areas, accums) = (zone_areas?, accums?);
    let mut report = finish_stats(
        zones,
        legend,
        lc.crs().label.clone(),
        lc.area,
        accums,
        &zone_areas,
        &lc.label(),
    );
    report.warnings.splice(0..0, zones.repairs.iter().cloned());
    report.warnings.extend(lc.nodata_classes(legend));
    Ok(report)
}

/// The raw per-zone accumulators of [`zonal_stats`] (one per zone, in
/// layer order), before [`finish_stats`]: to merge ([`ZoneAccum::merge`])
/// with runs over other tiles.
pub fn zonal_accumulate(
    lc: &LandCover,
    zones: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
) -> Result<Vec<ZoneAccum>> {
    accumulate_with(&Runner::new(opts)?, lc, zones, legend)
}

fn accumulate_with(
    runner: &Runner<'_>,
    lc: &LandCover,
    zones: &ZoneLayer,
    legend: &Legend,
) -> Result<Vec<ZoneAccum>> {
    let lc = &lc.read_through_mosaics();
    let (plans, tasks) = engine::plan(&lc.tiles, zones, lc.area)?;
    let mut accums = vec![ZoneAccum::default(); zones.zones.len()];
    stats_pass(
        runner,
        &lc.tiles,
        &plans,
        &tasks,
        legend,
        |_, partial, _| {
            for (zone, z) in partial {
                accums[zone].merge(&z);
            }
        },
    )?;
    Ok(accums)
}

/// Runs planned stats tasks and hands each task's per-zone partials to
/// `sink`, in task order.
pub(crate) fn stats_pass(
    runner: &Runner<'_>,
    tiles: &[Tile],
    plans: &[TilePlan],
    tasks: &[Task],
    legend: &Legend,
    mut sink: impl FnMut(&Task, Vec<(usize, ZoneAccum)>, f64),
) -> Result<()> {
    runner.run_ordered(
        tasks,
        |t| t.window.cells() as u64,
        Worker::default,
        |worker, task| {
            let plan = &plans[task.plan];
            with_pixel_type!(tiles[plan.tile].pixel_type, T => stats_task::<T>(worker, tiles, plan, task, legend))
        },
        |task, partial, secs| sink(task, partial, secs),
    )
}

/// The warning for a zone that lies off a raster (`on`: "the land
/// cover", "the DEM"), wholly (`covered` is 0) or by more than 0.5 % of
/// its area.
pub(crate) fn coverage_warning(id: &str, covered: f64, zone_area: f64, on: &str) -> Option<String> {
    if covered == 0.0 {
        Some(format!(
            "zone {id:?} does not overlap {on}: its areas are zero"
        ))
    } else if zone_area > 0.0 && covered < 0.995 * zone_area {
        Some(format!(
            "zone {id:?}: only {:.1} % of it lies on {on}",
            100.0 * covered / zone_area
        ))
    } else {
        None
    }
}

/// Turns accumulated class areas into the stats report (forest, cover,
/// names, warnings).
pub fn finish_stats(
    zones: &ZoneLayer,
    legend: &Legend,
    crs_label: String,
    area: AreaMode,
    accums: Vec<ZoneAccum>,
    zone_areas: &[f64],
    source: &str,
) -> StatsReport {
    let mut warnings = Vec::new();
    let stats = zones
        .zones
        .iter()
        .zip(accums)
        .zip(zone_areas)
        .map(|((zone, acc), &zone_area)| {
            let valid = crate::area::sum_m2(acc.classes.values().copied());
            let forest = crate::area::sum_m2(
                acc.classes
                    .iter()
                    .filter(|(c, _)| legend.is_forest(**c))
                    .map(|(_, a)| *a),
            );
            let forest_land = legend.has_forest_land().then(|| {
                crate::area::sum_m2(
                    acc.classes
                        .iter()
                        .filter(|(c, _)| legend.is_forest_land(**c))
                        .map(|(_, a)| *a),
                )
            });
            warnings.extend(coverage_warning(
                &zone.id,
                valid + acc.nodata_m2,
                zone_area,
                "the land cover",
            ));
            ZoneStats {
                id: zone.id.clone(),
                name: zone.name.clone(),
                zone_area_m2: zone_area,
                valid_area_m2: valid,
                nodata_area_m2: acc.nodata_m2,
                classes: acc.classes,
                forest_area_m2: forest,
                forest_cover: (valid > 0.0).then(|| forest / valid),
                forest_land_area_m2: forest_land,
                overlap_area_m2: None,
                recorded_minus_computed_m2: None,
                attributes: zone.attributes.clone(),
            }
        })
        .collect::<Vec<ZoneStats>>();
    let mut all = BTreeMap::new();
    for z in &stats {
        for (c, a) in &z.classes {
            *all.entry(*c).or_insert(0.0) += a;
        }
    }
    if let Some((_, what)) = legend.unknown_codes(&all) {
        warnings.push(format!(
            "{source}: {what}; they count as valid land of no known class: check --legend, or list them in a TOML legend"
        ));
    }
    StatsReport {
        schema: STATS_SCHEMA.to_string(),
        legend: legend.name.clone(),
        crs: crs_label,
        area,
        zones: stats,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::Run;
    use crate::grid::Window;

    /// More distinct codes in one window than a 16-bit slot can number:
    /// each code keeps its own class area.
    #[test]
    fn codes_beyond_16_bit_slots_keep_their_own_areas() {
        let fixture = format!(
            "{}/../../fixtures/landcover/clcd_2019/clcd_2019_r0c0.tif",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut tile = Tile::open(fixture.as_ref(), 1).unwrap();
        tile.nodata = None;
        let legend = Legend::builtin("clcd").unwrap();
        let side = 300;
        // 90,000 cells, each its own code, all of each cell covered by half.
        let cells: Vec<u32> = (0..side * side).map(|i| 1000 + i as u32).collect();
        let window = Window {
            col: 0,
            row: 0,
            width: side,
            height: side,
        };
        let runs: Vec<Run> = (0..side as u32)
            .map(|row| Run {
                row,
                col: 0,
                len: side as u32,
                frac: 0.5,
            })
            .collect();
        let mut slots = Slots::<u32>::new(&tile, &legend);
        let mut acc = Vec::new();
        let mut w = Weights::new(&CellAreas::Planar(4.0));
        accumulate_runs(&runs, &cells, window, &mut w, &mut slots, &mut acc);
        let mut got: Vec<(ClassCode, f64)> = acc
            .iter()
            .enumerate()
            .filter(|(_, a)| **a != 0.0)
            .map(|(s, &a)| (slots.codes[s], a))
            .collect();
        got.sort_by_key(|g| g.0);
        let expected: Vec<(ClassCode, f64)> =
            cells.iter().map(|&c| (ClassCode::from(c), 2.0)).collect();
        assert_eq!(got, expected);
    }
}
