//! The change kernel: one task reads a window of both dates and adds each
//! zone's coverage × cell area into per-(before, after) accumulators,
//! one add per streak of unchanged pairs.
//!
//! Invariant: a zone's transitions do not depend on the other zones of
//! its task (pair ids are per task, sums by code), so towns and red lines
//! measured in one pass equal separate runs bit for bit.

use std::collections::HashMap;

use super::TransitionAccum;
use super::coding::Codes;
use super::pairing::Pair;
use super::writer::CellSink;
use crate::coverage::{Run, Scratch};
use crate::engine::{Readers, Task, TilePlan};
use crate::grid::Window;
use crate::legend::{ClassCode, Legend};
use crate::raster::scan::for_each_pair_streak;
use crate::raster::{Buffers, ClassPixel, Tile};
use crate::zonal::{Slots, Weigh, Weights, ZoneAccum, accumulate_runs, fold_slots, with_weigh};
use crate::{Error, Result};

/// Dense ids of (before slot, after slot) pairs within one task.
#[derive(Default)]
pub(super) struct PairIds {
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
    pub(super) fn reset(&mut self, bytes: bool) {
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
    pub(super) fn id(&mut self, sb: usize, sa: usize) -> usize {
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
pub(super) struct Worker {
    ids: PairIds,
    before: Readers,
    after: Readers,
    buf_b: Buffers,
    buf_a: Buffers,
    scratch: Scratch,
    runs: Vec<Run>,
}

/// What one task hands back: per-zone partials and, when writing a
/// raster, the window's codes.
pub(super) struct Partial {
    pub(super) zones: Vec<(usize, TransitionAccum)>,
    /// The after date's class areas of zones below `Ctx::stats_zones`.
    pub(super) stats: Vec<(usize, ZoneAccum)>,
    pub(super) codes: Option<Codes>,
}

/// What every task of a pass shares.
pub(super) struct Ctx<'a, S> {
    pub(super) before: &'a [Tile],
    pub(super) after: &'a [Tile],
    pub(super) legend: &'a Legend,
    /// The raster the pass writes, if any.
    pub(super) sink: Option<&'a S>,
    /// Zones `0..stats_zones` also get the after date's class areas,
    /// computed exactly as a `stats` pass over the after date would.
    pub(super) stats_zones: usize,
}

/// Adds `frac × cell area` of every run's cells into `acc` by pair id.
/// `vb`, `va`: the two dates' pixels of `window`, row major.
#[allow(clippy::too_many_arguments)]
fn accumulate_pairs<T: ClassPixel>(
    runs: &[Run],
    vb: &[T],
    va: &[T],
    window: Window,
    weights: &mut Weights<'_>,
    sb: &mut Slots<T>,
    sa: &mut Slots<T>,
    ids: &mut PairIds,
    acc: &mut Vec<f64>,
) {
    with_weigh!(weights, w => accumulate_pairs_weighed(runs, vb, va, window, w, sb, sa, ids, acc))
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn accumulate_pairs_weighed<T: ClassPixel, W: Weigh>(
    runs: &[Run],
    vb: &[T],
    va: &[T],
    window: Window,
    weigh: &mut W,
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
            weigh.start(run);
            let cells = run.cells_in(window);
            for_each_pair_streak(&xb[cells.clone()], &xa[cells], |b, a, n| {
                let k = ((b as usize) << 8) | a as usize;
                let mut id = ids.by_value[k] as usize;
                if id == u16::MAX as usize {
                    id = new_byte_pair(k, sb, sa, ids, acc);
                }
                acc[id] += weigh.next(n);
            });
        }
        return;
    }
    for run in runs {
        weigh.start(run);
        let cells = run.cells_in(window);
        for_each_pair_streak(&vb[cells.clone()], &va[cells], |b, a, n| {
            let id = ids.id(sb.slot(b), sa.slot(a));
            if id >= acc.len() {
                acc.resize(id + 1, 0.0);
            }
            acc[id] += weigh.next(n);
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

/// One task of the pass: reads the window in both dates and measures
/// every zone of the task (transitions, and the after date's class areas
/// of zones below `ctx.stats_zones`), then the sink's codes of the window.
pub(super) fn change_task<T: ClassPixel, S: CellSink>(
    worker: &mut Worker,
    ctx: &Ctx<'_, S>,
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
    let mut weights = Weights::new(&plan.cell_areas);
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
                &mut weights,
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
            &mut weights,
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
    let codes = ctx.sink.map(|sink| {
        cell_codes(
            sink,
            (cb, ca),
            (&mut sb, &mut sa),
            plan,
            task,
            (&mut worker.scratch, &mut worker.runs),
        )
    });
    Ok(Partial {
        zones,
        stats,
        codes,
    })
}

/// The window's cell codes for `sink`: every cell (a code per streak of
/// unchanged pairs), or only the cells of the task's zones (0 elsewhere).
fn cell_codes<T: ClassPixel, S: CellSink>(
    sink: &S,
    (cb, ca): (&[T], &[T]),
    (sb, sa): (&mut Slots<T>, &mut Slots<T>),
    plan: &TilePlan,
    task: &Task,
    (scratch, runs): (&mut Scratch, &mut Vec<Run>),
) -> Codes {
    let class = |s: usize, codes: &[ClassCode]| (s != 0).then(|| codes[s]);
    let w = task.window;
    let mut codes = Codes::with_capacity(sink.cell_type(), w.cells());
    if sink.everywhere() {
        for_each_pair_streak(cb, ca, |b, a, n| {
            let (x, y) = (sb.slot(b), sa.slot(a));
            codes.push_n(
                sink.code(class(x, &sb.codes), class(y, &sa.codes)),
                n as usize,
            );
        });
        return codes;
    }
    codes.push_n(0, w.cells());
    for &k in &task.zones {
        let (_, cov) = &plan.coverages[k as usize];
        cov.window_runs_into(w, scratch, runs);
        for run in runs.iter() {
            for i in run.cells_in(w) {
                let (x, y) = (sb.slot(cb[i]), sa.slot(ca[i]));
                let code = sink.code(class(x, &sb.codes), class(y, &sa.codes));
                if code != 0 {
                    codes.set(i, code);
                }
            }
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(p: &str) -> String {
        format!("{}/../../fixtures/{p}", env!("CARGO_MANIFEST_DIR"))
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
                &mut Weights::new(&crate::area::CellAreas::Planar(2.0)),
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
}
