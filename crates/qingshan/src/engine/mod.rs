//! The work plan shared by zonal statistics and change: zones cut into
//! exact coverages per tile, tasks per (tile, window), and an ordered
//! parallel runner.
//!
//! Invariant: tasks are numbered in (tile, window) order and partial
//! results are merged in that order, never in completion order — so the
//! output is the same bytes at any thread count.

use std::collections::HashMap;

use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::area::{AreaMode, CellAreas};
use crate::coverage::{Coverage, PixelPolygon};
use crate::grid::{Crs, GeoTransform, Window};
use crate::raster::{Gridded, Tile, TileReader};
use crate::zones::{ZoneLayer, segment_length};
use crate::{Error, Result};

mod runner;

pub(crate) use runner::Runner;

/// Reports progress of a long computation (the CLI draws a bar with it).
pub trait Progress: Sync {
    /// The run starts; `total_cells` cells will be processed.
    fn start(&self, total_cells: u64);
    /// `cells` more cells are done.
    fn advance(&self, cells: u64);
    /// The run is over.
    fn finish(&self);
    /// Whether the caller wants the run stopped (an interrupt, a failed
    /// progress callback): no task starts after it says so, and the run
    /// ends with an error, writing nothing. Never, by default.
    fn cancelled(&self) -> bool {
        false
    }
}

/// How to run a computation.
#[derive(Clone, Copy, Default)]
pub struct RunOptions<'a> {
    /// Worker threads (`None` or 0: all cores).
    pub threads: Option<usize>,
    /// Progress reporting.
    pub progress: Option<&'a dyn Progress>,
}

/// The most worker threads a run may ask for (far more than any machine
/// qingshan runs on has cores; a larger number is a typo, and starting
/// that many threads would take minutes before failing).
pub const MAX_THREADS: usize = 1024;

impl RunOptions<'_> {
    /// The thread count must be at most [`crate::MAX_THREADS`].
    pub fn check(&self) -> Result<()> {
        match self.threads {
            Some(t) if t > MAX_THREADS => Err(Error::Invalid(format!(
                "--threads {t}: at most {MAX_THREADS} worker threads (0 or none: one per core, {} here)",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            ))),
            _ => Ok(()),
        }
    }
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

/// The coverage runs of every zone of one task, one zone after another
/// (reused from task to task by a worker).
#[derive(Default)]
pub(crate) struct TaskRuns {
    scratch: crate::coverage::Scratch,
    runs: Vec<crate::coverage::Run>,
    /// Runs of every zone of the task.
    pub(crate) all: Vec<crate::coverage::Run>,
    /// (zone index, where its runs start in `all`), zones with runs only.
    pub(crate) starts: Vec<(usize, usize)>,
}

impl TaskRuns {
    /// Collects the runs in `window` of every zone of `task` (zones with
    /// none are left out).
    pub(crate) fn collect(&mut self, plan: &TilePlan, task: &Task, window: Window) {
        self.all.clear();
        self.starts.clear();
        for &k in &task.zones {
            let (zone, cov) = &plan.coverages[k as usize];
            cov.window_runs_into(window, &mut self.scratch, &mut self.runs);
            if !self.runs.is_empty() {
                self.starts.push((*zone, self.all.len()));
                self.all.extend_from_slice(&self.runs);
            }
        }
    }

    /// How many zones have runs.
    pub(crate) fn zones(&self) -> usize {
        self.starts.len()
    }

    /// Each collected zone and the range of its runs in `all`.
    pub(crate) fn by_zone(&self) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
        self.starts.iter().enumerate().map(|(n, &(zone, start))| {
            let end = self.starts.get(n + 1).map_or(self.all.len(), |s| s.1);
            (zone, start..end)
        })
    }
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
pub(crate) struct Projected {
    by_crs: HashMap<String, Vec<ZoneBox>>,
    /// How cells are measured.
    area: AreaMode,
}

impl Projected {
    /// An empty cache for a run measuring cells under `area`.
    pub(crate) fn new(area: AreaMode) -> Projected {
        Projected {
            by_crs: HashMap::new(),
            area,
        }
    }

    /// The zones of `layers` (one after another) in the CRS of tile
    /// `index`, each layer densified to about a cell when its CRS differs.
    /// A zone reaching beyond the footprint of the tiles in that CRS (plus
    /// a margin) is first clipped to it, in its own CRS: far from a
    /// projection's centre coordinates stop making sense (a lon/lat zone
    /// 90° from a Gauss–Krüger raster's central meridian), and only the
    /// part over the raster is ever measured.
    pub(crate) fn get<S: Gridded>(
        &mut self,
        layers: &[&ZoneLayer],
        tiles: &[S],
        index: usize,
    ) -> Result<&[ZoneBox]> {
        use geo::{BooleanOps, BoundingRect, Contains};
        let tile = &tiles[index];
        let crs: &Crs = &tile.grid().crs;
        if !self.by_crs.contains_key(&crs.wkt) {
            let (px, py) = tile.grid().transform.pixel_size();
            let cell_m = if crs.geographic {
                px.min(py) * 111_320.0
            } else {
                px.min(py) * crs.linear_unit_m
            };
            let footprint = footprint(tiles, crs);
            let mut geoms = Vec::new();
            for zones in layers {
                let clip = match footprint {
                    Some(f) if !crs.geographic && !zones.crs.same_as(crs) => {
                        crate::srs::rectangle_in(f, crs, &zones.crs)
                    }
                    _ => None,
                };
                let seg = segment_length(&zones.crs, cell_m);
                let clipped: Vec<MultiPolygon<f64>> = zones
                    .zones
                    .iter()
                    .map(|z| match &clip {
                        Some(c) if !z.geometry.bounding_rect().is_some_and(|b| c.contains(&b)) => {
                            z.geometry.intersection(c)
                        }
                        _ => z.geometry.clone(),
                    })
                    .collect();
                let projected = zones.project_geometries(&clipped, crs, Some(seg))?;
                geoms.extend(projected.into_iter().map(|g| {
                    let b = g.bounding_rect();
                    (g, b)
                }));
            }
            self.by_crs.insert(crs.wkt.clone(), geoms);
        }
        Ok(&self.by_crs[&crs.wkt])
    }
}

/// The bounds of all tiles in CRS `crs`, widened by 10 cells and 1 % of
/// their size (the margin that keeps every cell well inside the footprint
/// once its outline is carried to another CRS).
fn footprint<S: Gridded>(tiles: &[S], crs: &Crs) -> Option<(f64, f64, f64, f64)> {
    let mut out: Option<(f64, f64, f64, f64)> = None;
    let mut cell = 0f64;
    for t in tiles.iter().filter(|t| t.grid().crs.wkt == crs.wkt) {
        let (x0, y0, x1, y1) = t.grid().bounds();
        let (px, py) = t.grid().transform.pixel_size();
        cell = cell.max(px.abs()).max(py.abs());
        out = Some(match out {
            None => (x0, y0, x1, y1),
            Some((a, b, c, d)) => (a.min(x0), b.min(y0), c.max(x1), d.max(y1)),
        });
    }
    let (x0, y0, x1, y1) = out?;
    let m = 10.0 * cell + 0.01 * (x1 - x0).max(y1 - y0);
    Some((x0 - m, y0 - m, x1 + m, y1 + m))
}

/// One plan item per tile, each the whole tile.
pub(crate) fn whole_tiles<S: Gridded>(tiles: &[S]) -> Vec<PlanItem> {
    tiles
        .iter()
        .enumerate()
        .map(|(tile, t)| PlanItem {
            tile,
            region: t.grid().full_window(),
            exclude: Vec::new(),
        })
        .collect()
}

/// Builds the plan over whole tiles: see [`plan_items`].
pub(crate) fn plan<S: Gridded>(
    tiles: &[S],
    zones: &ZoneLayer,
    area: AreaMode,
) -> Result<(Vec<TilePlan>, Vec<Task>)> {
    plan_items(
        tiles,
        &whole_tiles(tiles),
        &[zones],
        &mut Projected::new(area),
        false,
    )
}

/// Builds the plan: zones in each tile's CRS, coverages per item (only for
/// zones whose box meets the tile's), and the task list in (item, window)
/// order. Zones are numbered across `layers`, one layer after another. Windows are the tile's block-aligned windows clipped to the
/// item's region; only those some zone touches become tasks, unless
/// `all_windows` (then every window does, e.g. to write a raster of the
/// whole region).
pub(crate) fn plan_items<S: Gridded>(
    tiles: &[S],
    items: &[PlanItem],
    layers: &[&ZoneLayer],
    projected: &mut Projected,
    all_windows: bool,
) -> Result<(Vec<TilePlan>, Vec<Task>)> {
    use geo::BooleanOps;
    let mut plans = Vec::new();
    let mut tasks = Vec::new();
    for item in items {
        let tile = &tiles[item.tile];
        let cell_areas = crate::cellarea::cell_areas(tile.grid(), projected.area)
            .map_err(|e| Error::raster(tile.path(), e))?;
        let geoms = projected.get(layers, tiles, item.tile)?;
        let (windows, band_height) = tile.windows();
        let r = item.region;
        let (c0, r0, c1, r1) = (
            r.col as f64,
            r.row as f64,
            r.col_end() as f64,
            r.row_end() as f64,
        );
        let (bx0, by0, bx1, by1) = tile.grid().bounds();
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
            let Some(px) = to_pixel_space(g, &tile.grid().transform) else {
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
                zones_extent(&coverages, &zs, window, tile.block()).unwrap_or(window)
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
