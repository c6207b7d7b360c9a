//! The pass driver: one pass over both dates for every zone of one or
//! more layers, optionally with the after date's class areas and a
//! raster, and the tile-set variant `batch` uses.
//!
//! Invariant: tasks run in parallel and merge in task order, so the
//! numbers are the same bytes at any thread count; the after date's class
//! areas come out of this pass only when they are bit for bit what a
//! `stats` pass gives (else [`PassOut::after_stats`] is `None`).

use std::collections::HashMap;
use std::path::Path;

use super::TransitionAccum;
use super::kernel::{Ctx, Partial, Worker, change_task};
use super::pairing::{Pair, common_type, pair_tiles};
use super::writer::{CellSink, NoRaster, SinkWriter};
use crate::engine::{self, PlanItem, Projected, Runner, Task, TilePlan};
use crate::grid::Window;
use crate::legend::Legend;
use crate::raster::{LandCover, PixelType, Tile, with_pixel_type};
use crate::zonal::ZoneAccum;
use crate::zones::ZoneLayer;
use crate::{Error, Result};

/// What one pass over two dates measures.
pub(crate) struct PassSpec<'a> {
    /// The first date.
    pub(crate) before: &'a LandCover,
    /// The second date.
    pub(crate) after: &'a LandCover,
    /// Zone layers; zones are numbered across them, one layer after another.
    pub(crate) layers: &'a [&'a ZoneLayer],
    /// Which classes are which.
    pub(crate) legend: &'a Legend,
    /// Also the after date's class areas of the first layer's zones (when
    /// the pass can give them exactly as `stats` does).
    pub(crate) after_stats: bool,
}

/// A raster the pass writes: where, and what its cells hold.
pub(crate) struct RasterOut<'a, S> {
    /// The output GeoTIFF.
    pub(crate) path: &'a Path,
    /// What each cell holds.
    pub(crate) sink: &'a S,
}

/// What a pass hands back.
pub(crate) struct PassOut {
    /// Per zone of all layers, one layer after another.
    pub(crate) transitions: Vec<TransitionAccum>,
    /// The after date's class areas of the first layer's zones, when asked
    /// for and the pass could compute them exactly as `stats` does.
    pub(crate) after_stats: Option<Vec<ZoneAccum>>,
    /// Things the user should know (extents that differ).
    pub(crate) warnings: Vec<String>,
}

/// The tiles a pass reads and how they pair.
struct Reading {
    before: LandCover,
    after: LandCover,
    pairs: Vec<Pair>,
    warnings: Vec<String>,
    /// Plain mosaic VRTs are read through their tiles.
    via_tiles: bool,
    /// The after date is read in the windows a `stats` pass reads it in.
    after_as_stats: bool,
    /// The one pair an output raster covers (one raster per date).
    out_pair: Option<Pair>,
}

impl Reading {
    /// Pairs the two dates' tiles. Plain mosaic VRTs are read through
    /// their tiles when both dates' tiles pair up one to one (for an
    /// output raster: when the two rasters also cover the same cells, so
    /// each tile has its place in it).
    fn new(before: &LandCover, after: &LandCover, raster: bool) -> Result<Reading> {
        // An output raster covers the one raster per date given.
        let whole = match raster {
            true => {
                let (p, w) = pair_tiles(before, after)?;
                if p.len() != 1 {
                    return Err(Error::Invalid(
                        "writing a transition raster or conversion patches needs one raster per date: build a VRT of each date's tiles with gdalbuildvrt and pass those"
                            .into(),
                    ));
                }
                Some((p, w))
            }
            false => None,
        };
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
        let after_as_stats = via_tiles || after.tiles == expanded.1.tiles;
        let out_pair = whole.as_ref().map(|(p, _)| p[0]);
        let (before, after, (pairs, warnings)) = match (tiled, whole) {
            (Some(p), _) => (expanded.0, expanded.1, p),
            (None, Some(w)) => (before.clone(), after.clone(), w),
            (None, None) => (before.clone(), after.clone(), pair_tiles(before, after)?),
        };
        Ok(Reading {
            before,
            after,
            pairs,
            warnings,
            via_tiles,
            after_as_stats,
            out_pair,
        })
    }

    /// Whether the after date's class areas come out of this pass bit for
    /// bit as a `stats` pass gives them: the after tiles are the ones
    /// `stats` reads, on the before tiles' exact grids, in the same order,
    /// with the same pixel type and blocks (so the same windows; equal
    /// grids also mean no offset and whole-tile regions). Equal to the
    /// bit, not just sharing cells (`Grid::cell_offset`): cell areas come
    /// from the transform.
    fn after_stats_exact(&self) -> bool {
        self.after_as_stats
            && self.pairs.len() == self.before.tiles.len()
            && self.pairs.iter().enumerate().all(|(i, p)| {
                let (b, a) = (&self.before.tiles[i], &self.after.tiles[i]);
                p.before == i
                    && p.after == i
                    && b.grid == a.grid
                    && b.block == a.block
                    && b.pixel_type == a.pixel_type
            })
    }
}

/// Plans and tasks of a pass, with each plan's tile pair and the pixel
/// type both dates are read as.
struct Planned {
    plans: Vec<TilePlan>,
    tasks: Vec<Task>,
    pairs: Vec<Pair>,
    types: Vec<PixelType>,
}

/// Plans `items` (before tiles and their regions) over `layers`, each with
/// its pair from `pair_of`.
fn plan(
    before: &[Tile],
    after: &[Tile],
    items: &[PlanItem],
    layers: &[&ZoneLayer],
    projected: &mut Projected,
    all_windows: bool,
    pair_of: impl Fn(&TilePlan) -> Pair,
) -> Result<Planned> {
    let (plans, tasks) = engine::plan_items(before, items, layers, projected, all_windows)?;
    let pairs: Vec<Pair> = plans.iter().map(pair_of).collect();
    let types = pairs
        .iter()
        .map(|p| common_type(&before[p.before], &after[p.after]))
        .collect::<Result<Vec<_>>>()?;
    Ok(Planned {
        plans,
        tasks,
        pairs,
        types,
    })
}

/// The one pass over both dates (see [`PassSpec`]), writing `raster` when
/// given.
pub(crate) fn run<S: CellSink>(
    runner: &Runner<'_>,
    spec: &PassSpec<'_>,
    raster: Option<RasterOut<'_, S>>,
) -> Result<PassOut> {
    if spec.before.area != spec.after.area {
        return Err(crate::Error::Invalid(format!(
            "the two dates are measured differently ({} before, {} after); use one --area for both",
            spec.before.area, spec.after.area
        )));
    }
    let read = Reading::new(spec.before, spec.after, raster.is_some())?;
    let stats_exact = spec.after_stats && raster.is_none() && read.after_stats_exact();
    let items: Vec<PlanItem> = read
        .pairs
        .iter()
        .map(|p| PlanItem {
            tile: p.before,
            region: p.region,
            exclude: Vec::new(),
        })
        .collect();
    // plan.tile indexes the before tiles; map it back to its pair.
    let pair_of_tile: HashMap<usize, Pair> = read.pairs.iter().map(|p| (p.before, *p)).collect();
    let planned = plan(
        &read.before.tiles,
        &read.after.tiles,
        &items,
        spec.layers,
        &mut Projected::new(spec.before.area),
        raster.as_ref().is_some_and(|r| r.sink.everywhere()),
        |p| pair_of_tile[&p.tile],
    )?;
    let stats_zones = match (stats_exact, spec.layers.first()) {
        (true, Some(l)) => l.zones.len(),
        _ => 0,
    };
    let ctx = Ctx {
        before: &read.before.tiles,
        after: &read.after.tiles,
        legend: spec.legend,
        sink: raster.as_ref().map(|r| r.sink),
        stats_zones,
    };
    let mut writer = match (&raster, read.out_pair) {
        (Some(r), Some(pair)) => Some(SinkWriter::create(
            r.path,
            &spec.before.tiles[pair.before].grid,
            pair.region,
            r.sink,
            runner.threads(),
        )?),
        _ => None,
    };
    let n: usize = spec.layers.iter().map(|l| l.zones.len()).sum();
    let mut accums = vec![TransitionAccum::default(); n];
    let mut stats = vec![ZoneAccum::default(); stats_zones];
    let mut write_err: Option<Error> = None;
    execute(runner, &ctx, &planned, |task, partial, _| {
        for (zone, z) in partial.zones {
            accums[zone].merge(&z);
        }
        for (zone, z) in partial.stats {
            stats[zone].merge(&z);
        }
        if let (Some(w), Some(codes)) = (writer.as_mut(), partial.codes)
            && write_err.is_none()
        {
            let tile = &read.before.tiles[planned.plans[task.plan].tile];
            let window = place(spec.before, &read, tile, task.window);
            if let Err(e) = w.write(window, codes) {
                write_err = Some(e);
            }
        }
    })?;
    if let Some(e) = write_err {
        return Err(e);
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(PassOut {
        transitions: accums,
        after_stats: stats_exact.then_some(stats),
        warnings: read.warnings,
    })
}

/// Where a read tile's window goes in the output raster (the before
/// raster's pixels): shifted by the tile's place in the mosaic when the
/// mosaic is read through its tiles.
fn place(before: &LandCover, read: &Reading, tile: &Tile, w: Window) -> Window {
    if !read.via_tiles {
        return w;
    }
    // The mosaic's tiles line up with its grid (checked when it was read
    // through them), at whole-cell offsets inside it.
    match before.tiles[0].grid.cell_offset(&tile.grid) {
        Ok((c, r)) => Window {
            col: w.col + c as usize,
            row: w.row + r as usize,
            ..w
        },
        Err(_) => w,
    }
}

/// Runs planned tasks; `merge` gets each task's partial in task order.
fn execute<S: CellSink>(
    runner: &Runner<'_>,
    ctx: &Ctx<'_, S>,
    planned: &Planned,
    mut merge: impl FnMut(&Task, Partial, f64),
) -> Result<()> {
    runner.run_ordered(
        &planned.tasks,
        |t| t.window.cells() as u64,
        Worker::default,
        |worker, task| {
            let (plan, pair) = (&planned.plans[task.plan], planned.pairs[task.plan]);
            with_pixel_type!(planned.types[task.plan], T => change_task::<T, S>(worker, ctx, pair, plan, task))
        },
        |task, partial, secs| merge(task, partial, secs),
    )
}

/// Transitions of tile pairs on identical grids (tile sets of two dates,
/// as in batch runs): `items` pairs a before-tile plan item with the index
/// of its after tile; `sink` gets each task's per-zone partials in order,
/// and whether it was the last task of its tile.
pub(crate) fn change_tiles(
    runner: &Runner<'_>,
    (before, after): (&[Tile], &[Tile]),
    items: &[(PlanItem, usize)],
    (zones, projected): (&ZoneLayer, &mut Projected),
    legend: &Legend,
    mut sink: impl FnMut(&TilePlan, &Task, Vec<(usize, TransitionAccum)>, f64, bool),
) -> Result<()> {
    let plan_items: Vec<PlanItem> = items.iter().map(|(i, _)| i.clone()).collect();
    let after_of: HashMap<usize, (usize, Window)> = items
        .iter()
        .map(|(i, a)| (i.tile, (*a, i.region)))
        .collect();
    let planned = plan(
        before,
        after,
        &plan_items,
        &[zones],
        projected,
        false,
        |p| {
            let (a, region) = after_of[&p.tile];
            Pair {
                before: p.tile,
                after: a,
                offset: (0, 0),
                region,
            }
        },
    )?;
    let ctx: Ctx<'_, NoRaster> = Ctx {
        before,
        after,
        legend,
        sink: None,
        stats_zones: 0,
    };
    let mut remaining = engine::tasks_per_plan(&planned.plans, &planned.tasks);
    execute(runner, &ctx, &planned, |task, partial, secs| {
        remaining[task.plan] -= 1;
        sink(
            &planned.plans[task.plan],
            task,
            partial.zones,
            secs,
            remaining[task.plan] == 0,
        )
    })
}
