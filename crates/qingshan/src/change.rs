//! Land-cover change between two dates: per zone, the exact area of every
//! from-class → to-class transition, read in one pass over both dates.
//!
//! Both dates must share the grid lattice (CRS, pixel size, alignment);
//! where their extents differ only the common extent is compared. A cell
//! that is nodata in either date is nodata, never a transition.
//! Invariant: for every zone, Σ transitions = `valid_area_m2`, the row sums
//! are the classes before and the column sums the classes after.
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

use crate::raster::scan::for_each_pair_streak;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::coverage::{Run, Scratch};
use crate::engine::{self, PlanItem, Readers, RunOptions, Runner, Task, TilePlan};
use crate::grid::{GeoTransform, Grid, Misfit, Window};
use crate::legend::{ClassCode, Legend};
use crate::raster::{
    Buffers, ClassPixel, ClassRasterWriter, LandCover, PixelType, RasterSpec, Tile,
};
use crate::zonal::{Slots, StatsReport, ZoneAccum, accumulate_runs, finish_stats, fold_slots};
use crate::zones::{ZoneId, ZoneLayer};
use crate::{Error, Result};

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

/// The coding of a transition raster: `from × factor + to`, with `nodata`
/// where either date is nodata and `other` for codes too large to encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TransitionCoding {
    /// Power of ten above every legend code.
    pub factor: i64,
    /// Value for "nodata in either date".
    pub nodata: u64,
    /// Value for transitions involving codes ≥ `factor` or < 0.
    pub other: u64,
}

impl TransitionCoding {
    /// The coding for a legend: the factor is the smallest power of ten
    /// above its largest code (10 for CLCD: 27 = forest → barren).
    pub fn for_legend(legend: &Legend) -> TransitionCoding {
        let max = legend.classes.keys().copied().max().unwrap_or(9).max(1);
        let mut factor = 10i64;
        while factor <= max {
            factor *= 10;
        }
        let top = (factor * factor - 1) as u64;
        let (nodata, other) = if top < 254 {
            (255, 254)
        } else if top < 65_534 {
            (65_535, 65_534)
        } else {
            (u32::MAX as u64, u32::MAX as u64 - 1)
        };
        TransitionCoding {
            factor,
            nodata,
            other,
        }
    }

    /// The cell type of a raster with this coding: the narrowest whose
    /// largest value is `nodata` (u8, u16 or u32).
    pub fn cell_type(&self) -> PixelType {
        match self.nodata {
            255 => PixelType::U8,
            65_535 => PixelType::U16,
            _ => PixelType::U32,
        }
    }

    /// The code of one transition; `other` when a code is negative or not
    /// below `factor`, or when `from × factor + to` does not fit below
    /// `other` (legends with 5-digit codes in a 32-bit raster).
    pub fn code(&self, from: ClassCode, to: ClassCode) -> u64 {
        if (0..self.factor).contains(&from) && (0..self.factor).contains(&to) {
            let code = (from * self.factor + to) as u64;
            if code < self.other {
                return code;
            }
        }
        self.other
    }
}

/// A before tile, the after tile it is read with, and the common region.
#[derive(Clone, Copy, Debug)]
struct Pair {
    before: usize,
    after: usize,
    /// After pixel = before pixel + offset.
    offset: (i64, i64),
    /// Common region in before pixel coordinates.
    region: Window,
}

/// Pairs the tiles of two dates; fails, naming both files, when the grids
/// differ in CRS, pixel size or alignment.
fn pair_tiles(before: &LandCover, after: &LandCover) -> Result<(Vec<Pair>, Vec<String>)> {
    let mismatch = |b: &Tile, a: &Tile, reason: String| Error::GridMismatch {
        first: b.path.clone(),
        second: a.path.clone(),
        reason,
    };
    let check =
        |b: &Tile, a: &Tile| -> Result<(i64, i64)> { grid_offset(b, a).map(|(c, r)| (-c, -r)) };
    let mut warnings = Vec::new();
    if before.tiles.len() == 1 && after.tiles.len() == 1 {
        let (b, a) = (&before.tiles[0], &after.tiles[0]);
        let offset = check(b, a)?;
        // After extent in before pixel coordinates.
        let (a0c, a0r) = (-offset.0, -offset.1);
        let c0 = a0c.max(0);
        let r0 = a0r.max(0);
        let c1 = (a0c + a.grid.width as i64).min(b.grid.width as i64);
        let r1 = (a0r + a.grid.height as i64).min(b.grid.height as i64);
        if c0 >= c1 || r0 >= r1 {
            return Err(mismatch(b, a, "the two dates do not overlap".into()));
        }
        let region = Window {
            col: c0 as usize,
            row: r0 as usize,
            width: (c1 - c0) as usize,
            height: (r1 - r0) as usize,
        };
        if region != b.grid.full_window()
            || (a.grid.width, a.grid.height) != (region.width, region.height)
        {
            warnings.push(format!(
                "{} and {} cover different extents: only their common {} × {} cells are compared",
                b.path.display(),
                a.path.display(),
                region.width,
                region.height
            ));
        }
        return Ok((
            vec![Pair {
                before: 0,
                after: 0,
                offset,
                region,
            }],
            warnings,
        ));
    }
    // Tile sets: every before tile must have an after tile on the same grid.
    if before.tiles.len() != after.tiles.len() {
        return Err(mismatch(
            &before.tiles[0],
            &after.tiles[0],
            format!(
                "the dates have different tile layouts ({} vs {} tiles); build one VRT per date with gdalbuildvrt and pass those",
                before.tiles.len(),
                after.tiles.len()
            ),
        ));
    }
    let pairs = pair_identical(&before.tiles, &after.tiles)?
        .into_iter()
        .enumerate()
        .map(|(bi, ai)| Pair {
            before: bi,
            after: ai,
            offset: (0, 0),
            region: before.tiles[bi].grid.full_window(),
        })
        .collect();
    Ok((pairs, warnings))
}

/// The pixel type both dates are read as.
fn common_type(b: &Tile, a: &Tile) -> Result<PixelType> {
    use PixelType::*;
    Ok(match (b.pixel_type, a.pixel_type) {
        (x, y) if x == y => x,
        (U8, U16) | (U16, U8) => U16,
        (U8, I16) | (I16, U8) => I16,
        (U8 | U16 | I16, I32) | (I32, U8 | U16 | I16) | (U16, I16) | (I16, U16) => I32,
        (U8 | U16, U32) | (U32, U8 | U16) => U32,
        _ => {
            return Err(Error::GridMismatch {
                first: b.path.clone(),
                second: a.path.clone(),
                reason: format!(
                    "pixel types {:?} and {:?} cannot be compared exactly; convert one with gdal_translate -ot",
                    b.pixel_type, a.pixel_type
                ),
            });
        }
    })
}

/// Dense ids of (before slot, after slot) pairs within one task.
#[derive(Default)]
struct PairIds {
    table: Vec<u32>,
    map: HashMap<(usize, usize), u32>,
    list: Vec<(usize, usize)>,
    /// For 8-bit rasters: pair id by `before × 256 + after` value, so a
    /// streak costs one lookup instead of three. (Ids fit: at most 65,536
    /// pairs; the last one, equal to the `u16::MAX` marker, is simply never
    /// cached and takes the slow path.)
    by_value: Vec<u16>,
    /// Keys set in `by_value` (to reset them cheaply for the next task).
    used_values: Vec<usize>,
}

const STRIDE: usize = 64;

impl PairIds {
    /// Ready for a new task (slot numbers are per task), keeping the
    /// allocations of the previous one.
    fn reset(&mut self, bytes: bool) {
        if self.table.is_empty() {
            self.table = vec![u32::MAX; STRIDE * STRIDE];
        }
        for &(sb, sa) in &self.list {
            if sb < STRIDE && sa < STRIDE {
                self.table[sb * STRIDE + sa] = u32::MAX;
            }
        }
        self.list.clear();
        self.map.clear();
        if bytes && self.by_value.is_empty() {
            self.by_value = vec![u16::MAX; 256 * 256];
        }
        for &k in &self.used_values {
            self.by_value[k] = u16::MAX;
        }
        self.used_values.clear();
    }

    #[inline]
    fn id(&mut self, sb: usize, sa: usize) -> usize {
        if sb < STRIDE && sa < STRIDE {
            let k = sb * STRIDE + sa;
            let v = self.table[k];
            if v != u32::MAX {
                return v as usize;
            }
            let id = self.list.len() as u32;
            self.list.push((sb, sa));
            self.table[k] = id;
            return id as usize;
        }
        if let Some(&v) = self.map.get(&(sb, sa)) {
            return v as usize;
        }
        let id = self.list.len() as u32;
        self.list.push((sb, sa));
        self.map.insert((sb, sa), id);
        id as usize
    }
}

/// Per-worker state.
#[derive(Default)]
struct Worker {
    ids: PairIds,
    before: Readers,
    after: Readers,
    buf_b: Buffers,
    buf_a: Buffers,
    scratch: Scratch,
    runs: Vec<Run>,
}

/// What one task hands back: per-zone partials and, when writing a
/// transition raster, the window's codes.
struct Partial {
    zones: Vec<(usize, TransitionAccum)>,
    /// The after date's class areas of zones below `Ctx::stats_zones`.
    stats: Vec<(usize, ZoneAccum)>,
    codes: Option<Codes>,
}

/// A window of transition codes, in the output raster's own cell type (so
/// a window waiting to be written holds 1 byte per cell for CLCD, not 8).
enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Codes {
    /// No codes yet, room for `cells`, in the cell type of `coding`'s
    /// raster.
    fn with_capacity(coding: &TransitionCoding, cells: usize) -> Codes {
        match coding.cell_type() {
            PixelType::U8 => Codes::U8(Vec::with_capacity(cells)),
            PixelType::U16 => Codes::U16(Vec::with_capacity(cells)),
            _ => Codes::U32(Vec::with_capacity(cells)),
        }
    }

    /// Appends `n` cells of `code`.
    fn push_n(&mut self, code: u64, n: usize) {
        match self {
            Codes::U8(v) => v.resize(v.len() + n, code as u8),
            Codes::U16(v) => v.resize(v.len() + n, code as u16),
            Codes::U32(v) => v.resize(v.len() + n, code as u32),
        }
    }

    fn set(&mut self, i: usize, code: u64) {
        match self {
            Codes::U8(v) => v[i] = code as u8,
            Codes::U16(v) => v[i] = code as u16,
            Codes::U32(v) => v[i] = code as u32,
        }
    }
}

/// Which raster, if any, tasks produce besides the per-zone partials.
#[derive(Clone, Copy)]
enum RasterMode {
    /// None.
    None,
    /// Every cell's transition code.
    Transitions(TransitionCoding),
    /// Transition code of natural → artificial cells inside any zone, 0
    /// elsewhere.
    ConversionMask(TransitionCoding),
}

struct Ctx<'a> {
    before: &'a [Tile],
    after: &'a [Tile],
    legend: &'a Legend,
    mode: RasterMode,
    /// Zones `0..stats_zones` also get the after date's class areas,
    /// computed exactly as a `stats` pass over the after date would.
    stats_zones: usize,
}

/// Adds `frac × cell area` of every run's cells into `acc` by pair id.
/// `vb`, `va`: the two dates' pixels of `window`, row major.
#[allow(clippy::too_many_arguments)]
fn accumulate_pairs<T: ClassPixel>(
    runs: &[Run],
    vb: &[T],
    va: &[T],
    window: Window,
    cell_area: impl Fn(usize) -> f64,
    sb: &mut Slots<T>,
    sa: &mut Slots<T>,
    ids: &mut PairIds,
    acc: &mut Vec<f64>,
) {
    if let (Some(xb), Some(xa)) = (T::as_bytes(vb), T::as_bytes(va)) {
        // 8-bit: one table lookup and one add per streak, all inline; a
        // pair seen for the first time in this task takes the cold path.
        // Pairs met for earlier zones of the task already have ids.
        if acc.len() < ids.list.len() {
            acc.resize(ids.list.len(), 0.0);
        }
        for run in runs {
            let w = run.frac * cell_area(run.row as usize);
            let cells = run.cells_in(window);
            for_each_pair_streak(&xb[cells.clone()], &xa[cells], |b, a, n| {
                let k = ((b as usize) << 8) | a as usize;
                let mut id = ids.by_value[k] as usize;
                if id == u16::MAX as usize {
                    id = new_byte_pair(k, sb, sa, ids, acc);
                }
                acc[id] += n as f64 * w;
            });
        }
        return;
    }
    for run in runs {
        let w = run.frac * cell_area(run.row as usize);
        let cells = run.cells_in(window);
        for_each_pair_streak(&vb[cells.clone()], &va[cells], |b, a, n| {
            let id = ids.id(sb.slot(b), sa.slot(a));
            if id >= acc.len() {
                acc.resize(id + 1, 0.0);
            }
            acc[id] += n as f64 * w;
        });
    }
}

/// The pair id of 8-bit values `k = before × 256 + after` met for the first
/// time in a task; `acc` grows to hold it.
#[cold]
#[inline(never)]
fn new_byte_pair<T: ClassPixel>(
    k: usize,
    sb: &mut Slots<T>,
    sa: &mut Slots<T>,
    ids: &mut PairIds,
    acc: &mut Vec<f64>,
) -> usize {
    let id = ids.id(
        sb.slot(T::from_dense_index(k >> 8)),
        sa.slot(T::from_dense_index(k & 0xff)),
    );
    // Id 65,535 is the "not seen" marker: that one pair is never cached.
    if id < u16::MAX as usize {
        ids.by_value[k] = id as u16;
        ids.used_values.push(k);
    }
    if id >= acc.len() {
        acc.resize(id + 1, 0.0);
    }
    id
}

fn change_task<T: ClassPixel>(
    worker: &mut Worker,
    ctx: &Ctx<'_>,
    pair: Pair,
    plan: &TilePlan,
    task: &Task,
) -> Result<Partial> {
    let tb = &ctx.before[pair.before];
    let ta = &ctx.after[pair.after];
    let wa = Window {
        col: (task.window.col as i64 + pair.offset.0) as usize,
        row: (task.window.row as i64 + pair.offset.1) as usize,
        ..task.window
    };
    let vb = worker
        .before
        .get(ctx.before, pair.before)?
        .read_view::<T>(task.window, &mut worker.buf_b)?;
    let va = worker
        .after
        .get(ctx.after, pair.after)?
        .read_view::<T>(wa, &mut worker.buf_a)?;
    let (Some(cb), Some(ca)) = (vb.as_slice(), va.as_slice()) else {
        return Err(Error::Invalid(
            "internal: window buffers are not contiguous".into(),
        ));
    };
    let mut sb = Slots::<T>::new(tb, ctx.legend);
    let mut sa = Slots::<T>::new(ta, ctx.legend);
    let ids = &mut worker.ids;
    ids.reset(T::TABLE == 256);
    let mut zones = Vec::with_capacity(task.zones.len());
    let mut stats = Vec::new();
    let mut acc: Vec<f64> = Vec::new();
    let mut nodata = Vec::new();
    for &k in &task.zones {
        let (zone, cov) = &plan.coverages[k as usize];
        cov.window_runs_into(task.window, &mut worker.scratch, &mut worker.runs);
        if worker.runs.is_empty() {
            continue;
        }
        if *zone < ctx.stats_zones {
            // The after date's slots serve both: class areas by code do
            // not depend on how slots are numbered.
            acc.clear();
            accumulate_runs(
                &worker.runs,
                ca,
                task.window,
                |r| plan.cell_areas.row(r),
                &mut sa,
                &mut acc,
            );
            stats.push((*zone, fold_slots(&acc, &sa.codes)));
        }
        acc.clear();
        accumulate_pairs(
            &worker.runs,
            cb,
            ca,
            task.window,
            |r| plan.cell_areas.row(r),
            &mut sb,
            &mut sa,
            ids,
            &mut acc,
        );
        let mut z = TransitionAccum::default();
        nodata.clear();
        for (id, &a) in acc.iter().enumerate() {
            if a == 0.0 {
                continue;
            }
            let (b, f) = ids.list[id];
            if b == 0 || f == 0 {
                let code = |s: usize, codes: &[ClassCode]| (s != 0).then(|| codes[s]);
                nodata.push(((code(b, &sb.codes), code(f, &sa.codes)), a));
            } else {
                z.add(sb.codes[b], sa.codes[f], a);
            }
        }
        // Pair ids number pairs as the task meets them, across zones: sum
        // the nodata pairs by code instead, so that a zone's sum does not
        // depend on the other zones of the task (an audit runs towns and
        // red lines in one pass and must match separate runs bit for bit).
        nodata.sort_by_key(|x| x.0);
        z.nodata_m2 = nodata.iter().fold(0.0, |s, x| s + x.1);
        zones.push((*zone, z));
    }
    let codes = match ctx.mode {
        RasterMode::None => None,
        RasterMode::Transitions(coding) => {
            // One code per streak of unchanged pairs.
            let mut codes = Codes::with_capacity(&coding, cb.len());
            for_each_pair_streak(cb, ca, |b, a, n| {
                let (x, y) = (sb.slot(b), sa.slot(a));
                let code = if x == 0 || y == 0 {
                    coding.nodata
                } else {
                    coding.code(sb.codes[x], sa.codes[y])
                };
                codes.push_n(code, n as usize);
            });
            Some(codes)
        }
        RasterMode::ConversionMask(coding) => {
            let w = task.window;
            let mut codes = Codes::with_capacity(&coding, w.cells());
            codes.push_n(0, w.cells());
            for &k in &task.zones {
                let (_, cov) = &plan.coverages[k as usize];
                cov.window_runs_into(w, &mut worker.scratch, &mut worker.runs);
                for run in &worker.runs {
                    for i in run.cells_in(w) {
                        let (x, y) = (sb.slot(cb[i]), sa.slot(ca[i]));
                        if x == 0 || y == 0 {
                            continue;
                        }
                        let (from, to) = (sb.codes[x], sa.codes[y]);
                        if ctx.legend.is_natural(from) && ctx.legend.is_artificial(to) {
                            codes.set(i, coding.code(from, to));
                        }
                    }
                }
            }
            Some(codes)
        }
    };
    Ok(Partial {
        zones,
        stats,
        codes,
    })
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
    let mode = match raster {
        Some(_) => RasterMode::Transitions(TransitionCoding::for_legend(legend)),
        None => RasterMode::None,
    };
    change_report(
        before,
        after,
        zones,
        legend,
        opts,
        mode,
        raster.map(|r| r.path.as_path()),
    )
}

/// [`land_cover_change`] that also writes, in the same pass, the
/// natural → artificial conversion mask of the cells inside `zones`
/// (transition codes, 0 elsewhere) as a sparse GeoTIFF at `mask`: the
/// input of [`crate::redline::conversion_patches`]. Needs one raster per
/// date.
pub(crate) fn change_with_conversion_mask(
    before: &LandCover,
    after: &LandCover,
    zones: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
    mask: &Path,
) -> Result<ChangeReport> {
    let mode = RasterMode::ConversionMask(TransitionCoding::for_legend(legend));
    change_report(before, after, zones, legend, opts, mode, Some(mask))
}

fn change_report(
    before: &LandCover,
    after: &LandCover,
    zones: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
    mode: RasterMode,
    raster_path: Option<&Path>,
) -> Result<ChangeReport> {
    let runner = Runner::new(opts)?;
    let (zone_areas, pass) = runner.install(|| {
        rayon::join(
            || zones.geodesic_areas(before.crs()),
            || {
                one_pass(
                    &runner,
                    before,
                    after,
                    &[zones],
                    legend,
                    mode,
                    raster_path,
                    false,
                )
            },
        )
    });
    let (zone_areas, pass) = (zone_areas?, pass?);
    let mut warnings = zones.repairs.clone();
    warnings.extend(pass.warnings);
    Ok(finish_change(
        zones,
        legend,
        before.crs().label.clone(),
        before.tile_names(),
        after.tile_names(),
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
    let (areas, pass) = runner.install(|| {
        rayon::join(
            || -> Result<Vec<Vec<f64>>> {
                layers
                    .iter()
                    .map(|zones| zones.geodesic_areas(before.crs()))
                    .collect()
            },
            || {
                one_pass(
                    &runner,
                    before,
                    after,
                    layers,
                    legend,
                    RasterMode::None,
                    None,
                    true,
                )
            },
        )
    });
    let (areas, pass) = (areas?, pass?);
    let mut transitions = pass.transitions.into_iter();
    let mut reports = Vec::with_capacity(layers.len());
    for (zones, zone_areas) in layers.iter().zip(&areas) {
        let accums: Vec<TransitionAccum> = transitions.by_ref().take(zones.zones.len()).collect();
        let mut warnings = zones.repairs.clone();
        warnings.extend(pass.warnings.iter().cloned());
        reports.push(finish_change(
            zones,
            legend,
            before.crs().label.clone(),
            before.tile_names(),
            after.tile_names(),
            accums,
            zone_areas,
            warnings,
        ));
    }
    let stats = match pass.after_stats {
        Some(accums) => {
            let mut report =
                finish_stats(first, legend, after.crs().label.clone(), accums, &areas[0]);
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
    let out = one_pass(
        &Runner::new(opts)?,
        before,
        after,
        &[zones],
        legend,
        RasterMode::None,
        None,
        false,
    )?;
    Ok((out.transitions, out.warnings))
}

/// What [`one_pass`] hands back.
struct PassOut {
    /// Per zone of all layers, one layer after another.
    transitions: Vec<TransitionAccum>,
    /// The after date's class areas of the first layer's zones, when asked
    /// for and the pass could compute them exactly as `stats` does.
    after_stats: Option<Vec<ZoneAccum>>,
    warnings: Vec<String>,
}

/// The one pass over both dates: per-zone transitions of every zone of
/// `layers`, with `after_stats` the after date's class areas of the first
/// layer's zones, and, per `mode`, a raster written to `raster_path`.
#[allow(clippy::too_many_arguments)]
fn one_pass(
    runner: &Runner<'_>,
    before: &LandCover,
    after: &LandCover,
    layers: &[&ZoneLayer],
    legend: &Legend,
    mode: RasterMode,
    raster_path: Option<&Path>,
    after_stats: bool,
) -> Result<PassOut> {
    // An output raster covers the one raster per date given.
    let whole = match raster_path {
        Some(_) => {
            let (p, w) = pair_tiles(before, after)?;
            if p.len() != 1 {
                return Err(Error::Invalid(
                    "writing a transition raster or conversion patches needs one raster per date: build a VRT of each date's tiles with gdalbuildvrt"
                        .into(),
                ));
            }
            Some((p, w))
        }
        None => None,
    };
    // Plain mosaic VRTs are read through their tiles when both dates'
    // tiles pair up one to one (for an output raster: when the two rasters
    // also cover the same cells, so each tile has its place in it).
    let expanded = (before.read_through_mosaics(), after.read_through_mosaics());
    let same_cells = whole.as_ref().is_none_or(|(p, _)| {
        p[0].offset == (0, 0)
            && p[0].region == before.tiles[0].grid.full_window()
            && p[0].region == after.tiles[0].grid.full_window()
    });
    let tiled = if (expanded.0.tiles.len() > 1 || expanded.1.tiles.len() > 1) && same_cells {
        pair_tiles(&expanded.0, &expanded.1).ok()
    } else {
        None
    };
    let via_tiles = tiled.is_some();
    let out_pair = whole.as_ref().map(|(p, _)| p[0]);
    let (read_before, read_after, (pairs, warnings)) = match (tiled, whole) {
        (Some(p), _) => (&expanded.0, &expanded.1, p),
        (None, Some(w)) => (before, after, w),
        (None, None) => (before, after, pair_tiles(before, after)?),
    };
    let types = pairs
        .iter()
        .map(|p| common_type(&read_before.tiles[p.before], &read_after.tiles[p.after]))
        .collect::<Result<Vec<_>>>()?;
    // The after date's class areas come out of this pass only when they
    // are bit for bit what a `stats` pass gives: the after tiles are the
    // ones `stats` reads, on the before tiles' exact grids, in the same
    // order, with the same pixel type and blocks (so the same windows;
    // equal grids also mean no offset and whole-tile regions). Equal to
    // the bit, not just sharing cells (`Grid::cell_offset`): cell areas
    // come from the transform.
    let stats_exact = after_stats
        && raster_path.is_none()
        && (via_tiles || after.tiles == expanded.1.tiles)
        && pairs.len() == read_before.tiles.len()
        && pairs.iter().enumerate().all(|(i, p)| {
            let (b, a) = (&read_before.tiles[i], &read_after.tiles[i]);
            p.before == i
                && p.after == i
                && b.grid == a.grid
                && b.block == a.block
                && b.pixel_type == a.pixel_type
        });
    let items: Vec<PlanItem> = pairs
        .iter()
        .map(|p| PlanItem {
            tile: p.before,
            region: p.region,
            exclude: Vec::new(),
        })
        .collect();
    let all_windows = matches!(mode, RasterMode::Transitions(_));
    let (plans, tasks) = engine::plan_items(
        &read_before.tiles,
        &items,
        layers,
        &mut engine::Projected::default(),
        all_windows,
    )?;
    // plan.tile indexes `before.tiles`; map it back to its pair.
    let pair_of_tile: HashMap<usize, usize> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.before, i))
        .collect();
    let pairs_by_plan: Vec<Pair> = plans.iter().map(|p| pairs[pair_of_tile[&p.tile]]).collect();
    let types_by_plan: Vec<PixelType> =
        plans.iter().map(|p| types[pair_of_tile[&p.tile]]).collect();
    let stats_zones = if stats_exact {
        layers.first().map_or(0, |l| l.zones.len())
    } else {
        0
    };
    let ctx = Ctx {
        before: &read_before.tiles,
        after: &read_after.tiles,
        legend,
        mode,
        stats_zones,
    };
    // Where a read tile's window goes in the output raster: shifted by the
    // tile's place in the mosaic when read through its tiles.
    let place = |tile: &Tile, w: Window| -> Window {
        if !via_tiles {
            return w;
        }
        // The mosaic's tiles line up with its grid (checked when it was
        // read through them), at whole-cell offsets inside it.
        match before.tiles[0].grid.cell_offset(&tile.grid) {
            Ok((c, r)) => Window {
                col: w.col + c as usize,
                row: w.row + r as usize,
                ..w
            },
            Err(_) => w,
        }
    };
    let mut writer = match (raster_path, out_pair, mode) {
        (Some(p), Some(pair), RasterMode::Transitions(c)) => Some(TransitionWriter::create(
            p,
            before,
            &pair,
            legend,
            c,
            false,
            runner.threads(),
        )?),
        (Some(p), Some(pair), RasterMode::ConversionMask(c)) => Some(TransitionWriter::create(
            p,
            before,
            &pair,
            legend,
            c,
            true,
            runner.threads(),
        )?),
        _ => None,
    };
    let n: usize = layers.iter().map(|l| l.zones.len()).sum();
    let mut accums = vec![TransitionAccum::default(); n];
    let mut stats = vec![ZoneAccum::default(); stats_zones];
    let mut write_err: Option<Error> = None;
    change_pass(
        runner,
        &ctx,
        &plans,
        &tasks,
        &pairs_by_plan,
        &types_by_plan,
        |task, partial, _| {
            for (zone, z) in partial.zones {
                accums[zone].merge(&z);
            }
            for (zone, z) in partial.stats {
                stats[zone].merge(&z);
            }
            if let (Some(w), Some(codes)) = (writer.as_mut(), partial.codes)
                && write_err.is_none()
                && let Err(e) = w.write(
                    place(&read_before.tiles[plans[task.plan].tile], task.window),
                    codes,
                )
            {
                write_err = Some(e);
            }
        },
    )?;
    if let Some(e) = write_err {
        return Err(e);
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(PassOut {
        transitions: accums,
        after_stats: stats_exact.then_some(stats),
        warnings,
    })
}

/// Runs planned change tasks; `sink` gets each task's partial in order.
#[allow(clippy::too_many_arguments)]
fn change_pass(
    runner: &Runner<'_>,
    ctx: &Ctx<'_>,
    plans: &[TilePlan],
    tasks: &[Task],
    pairs_by_plan: &[Pair],
    types_by_plan: &[PixelType],
    mut sink: impl FnMut(&Task, Partial, f64),
) -> Result<()> {
    runner.run_ordered(
        tasks,
        |t| t.window.cells() as u64,
        Worker::default,
        |worker, task| {
            let (plan, pair) = (&plans[task.plan], pairs_by_plan[task.plan]);
            crate::raster::with_pixel_type!(types_by_plan[task.plan], T => change_task::<T>(worker, ctx, pair, plan, task))
        },
        |task, partial, secs| sink(task, partial, secs),
    )
}

/// Transitions of tile pairs on identical grids (tile sets of two dates,
/// as in batch runs): `items` pairs a before-tile plan item with the index
/// of its after tile; `sink` gets each task's per-zone partials in order,
/// and whether it was the last task of its tile.
#[allow(clippy::too_many_arguments)]
pub(crate) fn change_tiles(
    runner: &Runner<'_>,
    before: &[Tile],
    after: &[Tile],
    items: &[(PlanItem, usize)],
    zones: &ZoneLayer,
    projected: &mut engine::Projected,
    legend: &Legend,
    mut sink: impl FnMut(&TilePlan, &Task, Vec<(usize, TransitionAccum)>, f64, bool),
) -> Result<()> {
    let plan_items: Vec<PlanItem> = items.iter().map(|(i, _)| i.clone()).collect();
    let (plans, tasks) = engine::plan_items(before, &plan_items, &[zones], projected, false)?;
    let mut pairs_by_plan = Vec::with_capacity(plans.len());
    let mut types_by_plan = Vec::with_capacity(plans.len());
    for (item, a) in items {
        let a = *a;
        pairs_by_plan.push(Pair {
            before: item.tile,
            after: a,
            offset: (0, 0),
            region: item.region,
        });
        types_by_plan.push(common_type(&before[item.tile], &after[a])?);
    }
    let ctx = Ctx {
        before,
        after,
        legend,
        mode: RasterMode::None,
        stats_zones: 0,
    };
    let mut remaining = engine::tasks_per_plan(&plans, &tasks);
    change_pass(
        runner,
        &ctx,
        &plans,
        &tasks,
        &pairs_by_plan,
        &types_by_plan,
        |task, partial, secs| {
            remaining[task.plan] -= 1;
            sink(
                &plans[task.plan],
                task,
                partial.zones,
                secs,
                remaining[task.plan] == 0,
            )
        },
    )
}

/// Where after tile `a`'s first cell lies on before tile `b`'s grid
/// ([`Grid::cell_offset`]), or an error naming both files and how their
/// grids differ.
fn grid_offset(b: &Tile, a: &Tile) -> Result<(i64, i64)> {
    let (gb, ga) = (&b.grid.transform.0, &a.grid.transform.0);
    let reason = match b.grid.cell_offset(&a.grid) {
        Ok(offset) => return Ok(offset),
        Err(Misfit::Crs) => format!(
            "the two dates have different CRSs ({} vs {}); warp one onto the other's grid with gdalwarp",
            b.grid.crs.label, a.grid.crs.label
        ),
        Err(Misfit::PixelSize) => format!(
            "the two dates have different pixel sizes ({}×{} vs {}×{}); resample one with gdalwarp -tr -tap",
            gb[1], gb[5], ga[1], ga[5]
        ),
        Err(Misfit::Shifted(c, r)) => format!(
            "the grids are not aligned (the second is offset by {c:.4} × {r:.4} pixels); warp it with gdalwarp -tap onto the first's grid"
        ),
    };
    Err(Error::GridMismatch {
        first: b.path.clone(),
        second: a.path.clone(),
        reason,
    })
}

/// For each before tile, the after tile with exactly its cells (same CRS,
/// pixel size, alignment, origin and size: [`Grid::cell_offset`] is
/// `(0, 0)`); tile sets of two dates must pair one to one. An error names
/// a before tile without one.
pub(crate) fn pair_identical(before: &[Tile], after: &[Tile]) -> Result<Vec<usize>> {
    let Some(first) = after.first() else {
        return Err(Error::Invalid(
            "no tiles were given for the second date".into(),
        ));
    };
    // After tiles by where they lie on the first one's grid (tiles of a
    // set need only share CRS and pixel size, so some may not be in it).
    let key = |t: &Tile| {
        first
            .grid
            .cell_offset(&t.grid)
            .ok()
            .map(|o| (o, t.grid.width, t.grid.height))
    };
    let mut index = HashMap::new();
    for (i, a) in after.iter().enumerate() {
        if let Some(k) = key(a) {
            index.entry(k).or_insert(i);
        }
    }
    let same_cells = |b: &Tile, a: &Tile| {
        (a.grid.width, a.grid.height) == (b.grid.width, b.grid.height)
            && b.grid.cell_offset(&a.grid) == Ok((0, 0))
    };
    before
        .iter()
        .enumerate()
        .map(|(bi, b)| {
            if let Some(&i) = key(b).and_then(|k| index.get(&k)) {
                return Ok(i);
            }
            // Not in the index: an after tile not aligned with the first
            // one, or one within tolerance of this tile but not of the
            // first: search them all.
            if let Some(i) = (0..after.len()).find(|&i| same_cells(b, &after[i])) {
                return Ok(i);
            }
            // Say how it differs from the tile in the same place in the list.
            let a = &after[bi.min(after.len() - 1)];
            grid_offset(b, a)?;
            Err(Error::GridMismatch {
                first: b.path.clone(),
                second: a.path.clone(),
                reason: "no tile of the second date has this tile's exact extent; build one VRT per date with gdalbuildvrt and pass those".into(),
            })
        })
        .collect()
}

/// Writes the transition GeoTIFF window by window, in task order.
enum TransitionWriter {
    U8(ClassRasterWriter<u8>, Window),
    U16(ClassRasterWriter<u16>, Window),
    U32(ClassRasterWriter<u32>, Window),
}

impl TransitionWriter {
    /// A transition raster (`mask == false`: every cell, nodata where either
    /// date is) or a conversion mask (`mask == true`: sparse, 0 = none),
    /// compressed on `threads` threads.
    fn create(
        path: &Path,
        before: &LandCover,
        pair: &Pair,
        legend: &Legend,
        coding: TransitionCoding,
        mask: bool,
        threads: usize,
    ) -> Result<Self> {
        let tile = &before.tiles[pair.before];
        let r = pair.region;
        let (x0, y0) = tile.grid.transform.to_map(r.col as f64, r.row as f64);
        let mut gt = tile.grid.transform.0;
        gt[0] = x0;
        gt[3] = y0;
        let grid = Grid {
            transform: GeoTransform(gt),
            width: r.width,
            height: r.height,
            crs: tile.grid.crs.clone(),
        };
        let mut metadata = vec![
            (
                "QINGSHAN_SCHEMA".to_string(),
                "qingshan.change-raster/1".to_string(),
            ),
            (
                "TRANSITION_CODING".to_string(),
                format!("from * {} + to", coding.factor),
            ),
            ("TRANSITION_FACTOR".to_string(), coding.factor.to_string()),
            ("TRANSITION_NODATA".to_string(), coding.nodata.to_string()),
            ("TRANSITION_OTHER".to_string(), coding.other.to_string()),
            ("LEGEND".to_string(), legend.name.clone()),
        ];
        let mut colors = Vec::new();
        for (from, cf) in &legend.classes {
            for (to, ct) in &legend.classes {
                let code = coding.code(*from, *to);
                if code == coding.other {
                    continue;
                }
                metadata.push((
                    format!("TRANSITION_{code}"),
                    format!("{} -> {}", cf.name, ct.name),
                ));
                colors.push((
                    code as i64,
                    if from == to {
                        [215, 215, 215]
                    } else {
                        ct.color
                    },
                ));
            }
        }
        colors.push((coding.other as i64, [0, 0, 0]));
        let spec = RasterSpec {
            grid: &grid,
            nodata: Some(if mask { 0.0 } else { coding.nodata as f64 }),
            description: &format!("land-cover transition (from * {} + to)", coding.factor),
            metadata,
            colors,
            sparse: mask,
            threads,
        };
        Ok(match coding.cell_type() {
            PixelType::U8 => TransitionWriter::U8(ClassRasterWriter::create(path, &spec)?, r),
            PixelType::U16 => TransitionWriter::U16(ClassRasterWriter::create(path, &spec)?, r),
            _ => TransitionWriter::U32(ClassRasterWriter::create(path, &spec)?, r),
        })
    }

    fn write(&mut self, window: Window, codes: Codes) -> Result<()> {
        let shift = |r: &Window| Window {
            col: window.col - r.col,
            row: window.row - r.row,
            ..window
        };
        match (self, codes) {
            (TransitionWriter::U8(w, r), Codes::U8(c)) => w.write(shift(r), c).map(drop),
            (TransitionWriter::U16(w, r), Codes::U16(c)) => w.write(shift(r), c).map(drop),
            (TransitionWriter::U32(w, r), Codes::U32(c)) => w.write(shift(r), c).map(drop),
            _ => Err(Error::Invalid(
                "internal: transition codes of another cell type than the raster".into(),
            )),
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            TransitionWriter::U8(w, _) => w.finish(),
            TransitionWriter::U16(w, _) => w.finish(),
            TransitionWriter::U32(w, _) => w.finish(),
        }
    }
}

/// Turns accumulated transitions into the change report.
#[allow(clippy::too_many_arguments)]
pub fn finish_change(
    zones: &ZoneLayer,
    legend: &Legend,
    crs_label: String,
    before: Vec<String>,
    after: Vec<String>,
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
    ChangeReport {
        schema: CHANGE_SCHEMA.to_string(),
        legend: legend.name.clone(),
        crs: crs_label,
        before,
        after,
        zones: out,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zones::ZoneOptions;

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

    /// A fixture tile with its nodata value cleared (every value a class),
    /// and the CLCD legend.
    fn tile_without_nodata() -> (Tile, Legend) {
        let mut tile =
            Tile::open(fx("landcover/clcd_2019/clcd_2019_r0c0.tif").as_ref(), 1).unwrap();
        tile.nodata = None;
        (tile, Legend::builtin("clcd").unwrap())
    }

    /// A `side × side` window at the origin and runs covering all of it,
    /// each cell by `frac`.
    fn whole_square(side: usize, frac: f64) -> (Window, Vec<Run>) {
        let window = Window {
            col: 0,
            row: 0,
            width: side,
            height: side,
        };
        let runs = (0..side as u32)
            .map(|row| Run {
                row,
                col: 0,
                len: side as u32,
                frac,
            })
            .collect();
        (window, runs)
    }

    /// Codes that do not fit the raster's cell type become `other`, never
    /// another transition's code; the raster's legend lists only codes
    /// that fit.
    #[test]
    fn transition_codes_too_large_for_the_raster_are_other() {
        let legend = Legend::from_toml(
            r#"
name = "wide"
[[class]]
code = 1
name = "Forest"
kind = "forest"
[[class]]
code = 54321
name = "Five digits"
kind = "cropland"
"#,
            "test",
        )
        .unwrap();
        let coding = TransitionCoding::for_legend(&legend);
        assert_eq!(coding.factor, 100_000);
        assert_eq!(coding.code(1, 1), 100_001);
        assert_eq!(coding.code(1, 54321), 154_321);
        // 54321 × 100000 + 1 = 5,432,100,001 does not fit below u32::MAX − 1.
        assert_eq!(coding.code(54321, 1), coding.other);
        assert_eq!(coding.code(54321, 54321), coding.other);
        assert_eq!(coding.code(-1, 1), coding.other);
    }

    /// A before tile within tolerance of its after tile but not of the
    /// first after tile still finds its partner.
    #[test]
    fn tile_pairing_follows_each_pair_not_the_first_tile() {
        let t = Tile::open(fx("landcover/clcd_2019/clcd_2019_r0c0.tif").as_ref(), 1).unwrap();
        let px = t.grid.transform.0[1];
        let nudged = |tile: &Tile, cells: f64| {
            let mut n = tile.clone();
            n.grid.transform.0[0] += cells * px;
            n
        };
        // After: the tile itself, and a copy moved 0.9e-6 of a cell
        // further along a second tile's place.
        let w = t.grid.width as f64;
        let after = vec![t.clone(), nudged(&t, w + 0.9e-6)];
        let before = vec![nudged(&t, w + 1.1e-6), t.clone()];
        assert_eq!(pair_identical(&before, &after).unwrap(), vec![1, 0]);
    }

    /// More distinct (before, after) pairs in one window than a 16-bit id
    /// can number (wide class codes): every pair keeps its own area, for
    /// 16- and 8-bit cells alike.
    #[test]
    fn pairs_beyond_16_bit_ids_keep_their_own_areas() {
        fn check<T: ClassPixel + TryFrom<usize>>(side: usize, modulus: usize) {
            let (tile, legend) = tile_without_nodata();
            let cell = |i: usize| T::try_from(i).ok().unwrap();
            let n = side * side;
            let before: Vec<T> = (0..n).map(|i| cell(i % modulus)).collect();
            let after: Vec<T> = (0..n).map(|i| cell((i / modulus) % modulus)).collect();
            let (window, runs) = whole_square(side, 1.0);
            let (mut sb, mut sa) = (
                Slots::<T>::new(&tile, &legend),
                Slots::<T>::new(&tile, &legend),
            );
            let mut ids = PairIds::default();
            ids.reset(T::TABLE == 256);
            let mut acc = Vec::new();
            accumulate_pairs(
                &runs,
                &before,
                &after,
                window,
                |_| 2.0,
                &mut sb,
                &mut sa,
                &mut ids,
                &mut acc,
            );
            // Independent count: cells per (before, after) code pair.
            let mut expected: HashMap<(ClassCode, ClassCode), f64> = HashMap::new();
            for (b, a) in before.iter().zip(&after) {
                *expected.entry((b.code(), a.code())).or_default() += 2.0;
            }
            let mut got: HashMap<(ClassCode, ClassCode), f64> = HashMap::new();
            for (id, &area) in acc.iter().enumerate() {
                if area != 0.0 {
                    let (b, a) = ids.list[id];
                    *got.entry((sb.codes[b], sa.codes[a])).or_default() += area;
                }
            }
            assert_eq!(got, expected);
        }
        // 400 × 400 cells, 300 codes per date: 90,000 distinct pairs.
        check::<u16>(400, 300);
        check::<i32>(400, 300);
        // 8-bit: all 65,536 pairs (value 0 is a class here: no nodata).
        check::<u8>(400, 256);
    }

    /// More distinct codes in one window than a 16-bit slot can number:
    /// each code keeps its own class area.
    #[test]
    fn codes_beyond_16_bit_slots_keep_their_own_areas() {
        let (tile, legend) = tile_without_nodata();
        let side = 300;
        // 90,000 cells, each its own code.
        let cells: Vec<u32> = (0..side * side).map(|i| 1000 + i as u32).collect();
        let (window, runs) = whole_square(side, 0.5);
        let mut slots = Slots::<u32>::new(&tile, &legend);
        let mut acc = Vec::new();
        crate::zonal::accumulate_runs(&runs, &cells, window, |_| 4.0, &mut slots, &mut acc);
        let mut got: Vec<(ClassCode, f64)> = acc
            .iter()
            .enumerate()
            .filter(|(_, a)| **a != 0.0)
            .map(|(s, &a)| (slots.codes[s], a))
            .collect();
        got.sort_by_key(|g| g.0);
        let expected: Vec<(ClassCode, f64)> =
            cells.iter().map(|&c| (c as ClassCode, 2.0)).collect();
        assert_eq!(got, expected);
    }

    /// Towns and red lines (in another CRS) in one pass over tiled dates:
    /// each layer's transitions and the towns' after-date class areas are
    /// bit for bit those of separate runs.
    #[test]
    fn one_pass_over_two_layers_equals_separate_runs() {
        let i = inputs(&fx("landcover/clcd_2024.vrt"));
        let out = one_pass(
            &Runner::new(&i.opts).unwrap(),
            &i.before,
            &i.after,
            &[&i.towns, &i.red],
            &i.legend,
            RasterMode::None,
            None,
            true,
        )
        .unwrap();
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
        let out = one_pass(
            &Runner::new(&i.opts).unwrap(),
            &i.before,
            &i.after,
            &[&i.towns],
            &i.legend,
            RasterMode::None,
            None,
            true,
        )
        .unwrap();
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
                coding.code(*x as ClassCode, *y as ClassCode)
            };
            assert_eq!(*v as u64, want);
        }
    }
}
