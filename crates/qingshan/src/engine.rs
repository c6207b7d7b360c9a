//! The work plan shared by zonal statistics and change: zones cut into
//! exact coverages per tile, tasks per (tile, window), and an ordered
//! parallel runner.
//!
//! Invariant: tasks are numbered in (tile, window) order and partial
//! results are merged in that order, never in completion order — so the
//! output is the same bytes at any thread count.

use std::collections::HashMap;
use std::sync::Mutex;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use crate::area::CellAreas;
use crate::coverage::{Coverage, PixelPolygon};
use crate::grid::{Crs, GeoTransform, Window};
use crate::raster::{Tile, TileReader};
use crate::zones::{ZoneLayer, segment_length};
use crate::{Error, Result};

/// Reports progress of a long computation (the CLI draws a bar with it).
pub trait Progress: Sync {
    /// The run starts; `total_cells` cells will be processed.
    fn start(&self, total_cells: u64);
    /// `cells` more cells are done.
    fn advance(&self, cells: u64);
    /// The run is over.
    fn finish(&self);
}

/// How to run a computation.
#[derive(Clone, Copy, Default)]
pub struct RunOptions<'a> {
    /// Worker threads (`None` or 0: all cores).
    pub threads: Option<usize>,
    /// Progress reporting.
    pub progress: Option<&'a dyn Progress>,
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("threads", &self.threads)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The zones' coverage of one tile.
pub(crate) struct TilePlan {
    pub(crate) tile: usize,
    pub(crate) cell_areas: CellAreas,
    /// (zone index, coverage) for every zone whose box meets the tile.
    pub(crate) coverages: Vec<(usize, Coverage)>,
}

/// One unit of work: a window of a tile and the zones that touch it
/// (indices into the tile plan's `coverages`).
pub(crate) struct Task {
    pub(crate) plan: usize,
    pub(crate) window: Window,
    pub(crate) zones: Vec<u32>,
}

/// Maps a polygon from map coordinates to pixel space of a grid.
pub(crate) fn to_pixel_space(
    mp: &MultiPolygon<f64>,
    gt: &GeoTransform,
) -> Option<Vec<Polygon<f64>>> {
    let ring = |r: &LineString<f64>| -> Option<LineString<f64>> {
        r.0.iter()
            .map(|c| gt.to_pixel(c.x, c.y).map(|(x, y)| Coord { x, y }))
            .collect::<Option<Vec<_>>>()
            .map(LineString)
    };
    mp.0.iter()
        .map(|p| {
            Some(Polygon::new(
                ring(p.exterior())?,
                p.interiors().iter().map(ring).collect::<Option<Vec<_>>>()?,
            ))
        })
        .collect()
}

/// A part of a tile to work on: `region` in the tile's pixel coordinates,
/// minus `exclude` (areas in the tile's CRS that another tile covers).
#[derive(Clone, Debug)]
pub(crate) struct PlanItem {
    pub(crate) tile: usize,
    pub(crate) region: Window,
    pub(crate) exclude: Vec<MultiPolygon<f64>>,
}

/// A zone's geometry in one CRS with its bounding box.
pub(crate) type ZoneBox = (MultiPolygon<f64>, Option<geo::Rect<f64>>);

/// Zones reprojected to each CRS met so far (with their bounding boxes),
/// so that many tiles in one CRS reproject the zones once.
#[derive(Default)]
pub(crate) struct Projected {
    by_crs: HashMap<String, Vec<ZoneBox>>,
}

impl Projected {
    /// The zones in `tile`'s CRS, densified to about a cell when the zones'
    /// CRS differs.
    pub(crate) fn get(&mut self, zones: &ZoneLayer, tile: &Tile) -> Result<&[ZoneBox]> {
        let crs: &Crs = &tile.grid.crs;
        if !self.by_crs.contains_key(&crs.wkt) {
            let (px, py) = tile.grid.transform.pixel_size();
            let cell_m = if crs.geographic {
                px.min(py) * 111_320.0
            } else {
                px.min(py) * crs.linear_unit_m
            };
            let seg = segment_length(&zones.crs, cell_m);
            let geoms = zones
                .project(crs, Some(seg))?
                .into_iter()
                .map(|g| {
                    use geo::BoundingRect;
                    let b = g.bounding_rect();
                    (g, b)
                })
                .collect();
            self.by_crs.insert(crs.wkt.clone(), geoms);
        }
        Ok(&self.by_crs[&crs.wkt])
    }
}

/// Builds the plan over whole tiles: see [`plan_items`].
pub(crate) fn plan(tiles: &[Tile], zones: &ZoneLayer) -> Result<(Vec<TilePlan>, Vec<Task>)> {
    let items: Vec<PlanItem> = tiles
        .iter()
        .enumerate()
        .map(|(tile, t)| PlanItem {
            tile,
            region: t.grid.full_window(),
            exclude: Vec::new(),
        })
        .collect();
    plan_items(tiles, &items, zones, &mut Projected::default(), false)
}

/// Builds the plan: zones in each tile's CRS, coverages per item (only for
/// zones whose box meets the tile's), and the task list in (item, window)
/// order. Windows are the tile's block-aligned windows clipped to the
/// item's region; only those some zone touches become tasks, unless
/// `all_windows` (then every window does, e.g. to write a raster of the
/// whole region).
pub(crate) fn plan_items(
    tiles: &[Tile],
    items: &[PlanItem],
    zones: &ZoneLayer,
    projected: &mut Projected,
    all_windows: bool,
) -> Result<(Vec<TilePlan>, Vec<Task>)> {
    use geo::BooleanOps;
    let mut plans = Vec::new();
    let mut tasks = Vec::new();
    for item in items {
        let tile = &tiles[item.tile];
        let geoms = projected.get(zones, tile)?;
        let (windows, band_height) = tile.windows();
        let cell_areas = CellAreas::of(&tile.grid).map_err(|e| Error::raster(&tile.path, e))?;
        let r = item.region;
        let (c0, r0, c1, r1) = (
            r.col as f64,
            r.row as f64,
            r.col_end() as f64,
            r.row_end() as f64,
        );
        let (bx0, by0, bx1, by1) = tile.grid.bounds();
        let excluded = match item.exclude.len() {
            0 => None,
            _ => {
                let polys: Vec<&Polygon<f64>> =
                    item.exclude.iter().flat_map(|m| m.0.iter()).collect();
                Some(geo::unary_union(polys))
            }
        };
        let mut coverages = Vec::new();
        for (zi, (g, bbox)) in geoms.iter().enumerate() {
            match bbox {
                Some(b)
                    if b.max().x > bx0 && b.min().x < bx1 && b.max().y > by0 && b.min().y < by1 => {
                }
                _ => continue,
            }
            let clipped;
            let g = match &excluded {
                Some(ex) => {
                    clipped = g.difference(ex);
                    &clipped
                }
                None => g,
            };
            let Some(px) = to_pixel_space(g, &tile.grid.transform) else {
                continue;
            };
            let poly = PixelPolygon::from_polygons(&px);
            match poly.bbox() {
                Some((x0, y0, x1, y1)) if x1 > c0 && y1 > r0 && x0 < c1 && y0 < r1 => {
                    coverages.push((zi, Coverage::new(poly, band_height)));
                }
                _ => {}
            }
        }
        let plan_index = plans.len();
        for window in windows.iter().filter_map(|w| clip(*w, r)) {
            let zs: Vec<u32> = coverages
                .iter()
                .enumerate()
                .filter(|(_, (_, c))| c.touches(window))
                .map(|(k, _)| k as u32)
                .collect();
            if zs.is_empty() && !all_windows {
                continue;
            }
            // Read only the blocks the zones' boxes reach (GDAL decodes
            // whole blocks), unless the whole window is wanted.
            let read = if all_windows {
                window
            } else {
                zones_extent(&coverages, &zs, window, tile.block).unwrap_or(window)
            };
            tasks.push(Task {
                plan: plan_index,
                window: read,
                zones: zs,
            });
        }
        plans.push(TilePlan {
            tile: item.tile,
            cell_areas,
            coverages,
        });
    }
    Ok((plans, tasks))
}

/// The part of `window` the boxes of zones `zs` cover, widened to whole
/// blocks of size `block` (block-aligned, within the window).
fn zones_extent(
    coverages: &[(usize, Coverage)],
    zs: &[u32],
    window: Window,
    block: (usize, usize),
) -> Option<Window> {
    let (mut x0, mut y0, mut x1, mut y1) = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for &k in zs {
        let (a, b, c, d) = coverages[k as usize].1.bbox()?;
        x0 = x0.min(a);
        y0 = y0.min(b);
        x1 = x1.max(c);
        y1 = y1.max(d);
    }
    let (bw, bh) = (block.0.max(1), block.1.max(1));
    let floor_to = |v: f64, lo: usize, step: usize| -> usize {
        let v = v.floor().max(lo as f64) as usize;
        v / step * step
    };
    let ceil_to = |v: f64, hi: usize, step: usize| -> usize {
        let v = (v.ceil().max(0.0) as usize).min(hi);
        v.div_ceil(step) * step
    };
    let c0 = floor_to(x0, window.col, bw).max(window.col);
    let r0 = floor_to(y0, window.row, bh).max(window.row);
    let c1 = ceil_to(x1, window.col_end(), bw).min(window.col_end());
    let r1 = ceil_to(y1, window.row_end(), bh).min(window.row_end());
    (c0 < c1 && r0 < r1).then(|| Window {
        col: c0,
        row: r0,
        width: c1 - c0,
        height: r1 - r0,
    })
}

/// Number of tasks of each plan.
pub(crate) fn tasks_per_plan(plans: &[TilePlan], tasks: &[Task]) -> Vec<usize> {
    let mut n = vec![0; plans.len()];
    for t in tasks {
        n[t.plan] += 1;
    }
    n
}

/// The intersection of two windows, if not empty.
pub(crate) fn clip(a: Window, b: Window) -> Option<Window> {
    let col = a.col.max(b.col);
    let row = a.row.max(b.row);
    let col_end = a.col_end().min(b.col_end());
    let row_end = a.row_end().min(b.row_end());
    (col < col_end && row < row_end).then(|| Window {
        col,
        row,
        width: col_end - col,
        height: row_end - row,
    })
}

/// Open GDAL datasets of one worker, by tile index (a few at a time).
#[derive(Default)]
pub(crate) struct Readers {
    open: Vec<(usize, TileReader)>,
}

impl Readers {
    const KEEP: usize = 8;

    /// The reader of tile `index` of `tiles`, opened on first use.
    pub(crate) fn get(&mut self, tiles: &[Tile], index: usize) -> Result<&TileReader> {
        if let Some(pos) = self.open.iter().position(|(i, _)| *i == index) {
            let entry = self.open.remove(pos);
            self.open.push(entry);
        } else {
            if self.open.len() >= Self::KEEP {
                self.open.remove(0);
            }
            self.open.push((index, TileReader::open(&tiles[index])?));
        }
        Ok(&self.open.last().expect("just pushed").1)
    }
}

/// A pool of per-worker states, so GDAL datasets stay open across tasks.
struct StatePool<W> {
    free: Mutex<Vec<W>>,
}

struct Lease<'p, W> {
    pool: &'p StatePool<W>,
    state: Option<W>,
}

impl<W> Drop for Lease<'_, W> {
    fn drop(&mut self) {
        if let Some(s) = self.state.take()
            && let Ok(mut free) = self.pool.free.lock()
        {
            free.push(s);
        }
    }
}

/// A pool of worker threads for one run.
pub(crate) struct Runner<'a> {
    pool: rayon::ThreadPool,
    threads: usize,
    progress: Option<&'a dyn Progress>,
}

impl<'a> Runner<'a> {
    /// Starts the workers (`threads`: `None`/0 = all cores).
    pub(crate) fn new(opts: &RunOptions<'a>) -> Result<Runner<'a>> {
        let threads = opts.threads.filter(|&t| t > 0).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start {threads} threads: {e}")))?;
        Ok(Runner {
            pool,
            threads,
            progress: opts.progress,
        })
    }

    /// Number of worker threads.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` inside the pool (for rayon iterators of the caller's own).
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Runs `work` over `tasks` and feeds the results to `merge` in task
    /// order, with the seconds each task took. Tasks run in chunks so that
    /// at most a chunk's partial results are held at once. The first error
    /// (in task order) wins.
    pub(crate) fn run_ordered<W, P, I, F, M>(
        &self,
        tasks: &[Task],
        cells: impl Fn(&Task) -> u64 + Sync,
        init: I,
        work: F,
        mut merge: M,
    ) -> Result<()>
    where
        W: Send,
        P: Send,
        I: Fn() -> W + Sync,
        F: Fn(&mut W, &Task) -> Result<P> + Sync,
        M: FnMut(&Task, P, f64),
    {
        let progress = self.progress;
        let total: u64 = tasks.iter().map(&cells).sum();
        if let Some(p) = progress {
            p.start(total);
        }
        let states = StatePool {
            free: Mutex::new(Vec::new()),
        };
        let chunk = (self.threads * 64).max(64);
        for group in tasks.chunks(chunk) {
            let results: Vec<(Result<P>, f64)> = self.pool.install(|| {
                group
                    .par_iter()
                    .map_init(
                        || Lease {
                            pool: &states,
                            state: Some(
                                states
                                    .free
                                    .lock()
                                    .ok()
                                    .and_then(|mut f| f.pop())
                                    .unwrap_or_else(&init),
                            ),
                        },
                        |lease, task| {
                            let state = lease.state.as_mut().expect("lease holds a state");
                            let started = std::time::Instant::now();
                            let r = work(state, task);
                            let secs = started.elapsed().as_secs_f64();
                            if let Some(p) = progress {
                                p.advance(cells(task));
                            }
                            (r, secs)
                        },
                    )
                    .collect()
            });
            for (task, (r, secs)) in group.iter().zip(results) {
                match r {
                    Ok(p) => merge(task, p, secs),
                    Err(e) => {
                        if let Some(p) = progress {
                            p.finish();
                        }
                        return Err(e);
                    }
                }
            }
        }
        if let Some(p) = progress {
            p.finish();
        }
        Ok(())
    }
}
