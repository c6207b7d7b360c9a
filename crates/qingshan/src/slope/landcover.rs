//! The land-cover pass of `slope`: class × grade per zone on the land
//! cover's grid, each land-cover cell with the slope of the DEM cell under
//! its centre (a centre on a cell edge takes the cell east or south of
//! it). The DEM is read in bands of land-cover rows, so a DEM much finer
//! than the land cover keeps memory bounded.

use std::collections::BTreeMap;

use super::Grades;
use super::SlopeInputs;
use super::pass::{DemWorker, compute_slopes};
use crate::engine::{self, Readers, Runner, Task, TilePlan};
use crate::grid::Window;
use crate::legend::{ClassCode, Legend};
use crate::raster::values::ValueRaster;
use crate::raster::{Buffers, ClassPixel, LandCover, Tile, with_pixel_type};
use crate::zonal::{Slots, Weigh, Weights, with_weigh};
use crate::{Error, Result};

/// Where each land-cover cell centre of a window falls on the DEM:
/// DEM columns and rows (`None` off the DEM).
fn centres_on_dem(
    lc: &Tile,
    window: Window,
    dem: &ValueRaster,
) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
    let t = &lc.grid.transform.0;
    let d = &dem.grid.transform.0;
    let map = |n: usize, start: usize, origin: f64, step: f64, dorigin: f64, dstep: f64| {
        (start..start + n)
            .map(|i| {
                let x = origin + (i as f64 + 0.5) * step;
                let k = ((x - dorigin) / dstep).floor();
                (k >= 0.0 && (k as usize) < usize::MAX).then_some(k as usize)
            })
            .collect::<Vec<_>>()
    };
    let cols = map(window.width, window.col, t[0], t[1], d[0], d[1])
        .into_iter()
        .map(|c| c.filter(|&c| c < dem.grid.width))
        .collect();
    let rows = map(window.height, window.row, t[3], t[5], d[3], d[5])
        .into_iter()
        .map(|r| r.filter(|&r| r < dem.grid.height))
        .collect();
    (cols, rows)
}

/// Per-worker state of the land-cover pass.
#[derive(Default)]
struct LcWorker {
    dem: DemWorker,
    readers: Readers,
    buffers: Buffers,
}

/// Area per grade of each land-cover class.
pub(super) type ClassGrades = BTreeMap<ClassCode, Vec<f64>>;

/// Most DEM cells whose slopes a land-cover task holds at once: a DEM
/// much finer than the land cover is read in bands of land-cover rows.
const LC_BAND_CELLS: usize = 1 << 22;

// Long function: one task reads both rasters, maps cells and adds per
// zone, band by band; split, the pieces would pass a dozen buffers around.
fn lc_task<T: ClassPixel>(
    worker: &mut LcWorker,
    ctx: (&[Tile], &ValueRaster, &Legend, &Grades),
    plan: &TilePlan,
    task: &Task,
) -> Result<Vec<(usize, ClassGrades, f64)>> {
    let (tiles, dem, legend, grades) = ctx;
    let tile = &tiles[plan.tile];
    let w = task.window;
    let (cols, rows) = centres_on_dem(tile, w, dem);
    let view = worker
        .readers
        .get(tiles, plan.tile)?
        .read_view::<T>(w, &mut worker.buffers)?;
    let Some(block) = view.as_slice() else {
        return Err(Error::Invalid(
            "internal: window buffer is not contiguous".into(),
        ));
    };
    // Every zone's runs, once.
    let d = &mut worker.dem;
    d.runs.collect(plan, task, w);
    let g = grades.count();
    let mut slots = Slots::<T>::new(tile, legend);
    let mut weights = Weights::new(&plan.cell_areas);
    let mut acc: Vec<Vec<f64>> = vec![Vec::new(); d.runs.zones()];
    let mut covered = vec![0.0; d.runs.zones()];
    let c_span = cols
        .iter()
        .flatten()
        .min()
        .copied()
        .zip(cols.iter().flatten().max().copied());
    // Bands of land-cover rows whose DEM rows fit in LC_BAND_CELLS.
    let max_rows = c_span.map_or(1, |(c0, c1)| (LC_BAND_CELLS / (c1 - c0 + 1)).max(3));
    let mut j0 = 0;
    while j0 < w.height {
        let (mut j1, mut lo, mut hi) = (j0, usize::MAX, 0usize);
        while j1 < w.height {
            if let Some(r) = rows[j1] {
                if lo != usize::MAX && r.max(hi) - lo.min(r) >= max_rows {
                    break;
                }
                lo = lo.min(r);
                hi = hi.max(r);
            }
            j1 += 1;
        }
        let band = match c_span {
            Some((c0, c1)) if lo <= hi => Some(Window {
                col: c0,
                row: lo,
                width: c1 - c0 + 1,
                height: hi - lo + 1,
            }),
            _ => None,
        };
        if let Some(bw) = band {
            // Slopes of the DEM rows some land-cover row of the band maps to.
            d.spans.clear();
            d.spans.resize(bw.height, (usize::MAX, 0));
            for r in rows[j0..j1].iter().flatten() {
                d.spans[r - bw.row] = (0, bw.width);
            }
            compute_slopes(dem, d, bw, false)?;
        }
        let slopes = &d.slopes;
        let slope_at = |r: usize, c: usize| -> f32 {
            match (band, rows[r - w.row], cols[c - w.col]) {
                (Some(bw), Some(dr), Some(dc)) => slopes[(dr - bw.row) * bw.width + (dc - bw.col)],
                _ => f32::NAN,
            }
        };
        let (r0, r1) = (w.row + j0, w.row + j1);
        for (n, (_, runs)) in d.runs.by_zone().enumerate() {
            let acc = &mut acc[n];
            let covered = &mut covered[n];
            with_weigh!(&mut weights, wg => {
                for run in d.runs.all[runs]
                    .iter()
                    .filter(|run| (r0..r1).contains(&(run.row as usize)))
                {
                    wg.start(run);
                    let cells = run.cells_in(w);
                    for (i, &v) in block[cells].iter().enumerate() {
                        let a = wg.next(1);
                        let slot = slots.slot(v);
                        if slot == 0 {
                            continue;
                        }
                        // Land with a class (nodata is no land cover).
                        *covered += a;
                        let s = slope_at(run.row as usize, run.col as usize + i);
                        if s.is_nan() {
                            continue;
                        }
                        let at = slot * g + grades.of(s);
                        if at >= acc.len() {
                            acc.resize((slot + 1) * g, 0.0);
                        }
                        acc[at] += a;
                    }
                }
            });
        }
        j0 = j1;
    }
    let mut out = Vec::with_capacity(d.runs.zones());
    for (n, &(zone, _)) in d.runs.starts.iter().enumerate() {
        let mut by_class = ClassGrades::new();
        for (slot, areas) in acc[n].chunks(g).enumerate().skip(1) {
            if areas.iter().any(|a| *a != 0.0) {
                let e = by_class
                    .entry(slots.codes[slot])
                    .or_insert_with(|| vec![0.0; g]);
                for (x, a) in e.iter_mut().zip(areas) {
                    *x += a;
                }
            }
        }
        out.push((zone, by_class, covered[n]));
    }
    Ok(out)
}

/// The land-cover pass: class × grade per zone, and the area of each zone
/// the land cover covers.
pub(super) fn lc_pass(
    runner: &Runner<'_>,
    inputs: &SlopeInputs<'_>,
    lc: &LandCover,
    legend: &Legend,
) -> Result<Vec<(ClassGrades, f64)>> {
    let dem = inputs.dem;
    if !lc.crs().same_as(dem.crs()) {
        return Err(Error::GridMismatch {
            first: dem.tiles[0].path.clone(),
            second: lc.tiles[0].path.clone(),
            reason: format!(
                "the DEM is in {} and the land cover in {}; warp the DEM onto the land cover's CRS first (`gdalwarp -t_srs {} -r bilinear DEM.tif DEM_warped.tif`)",
                dem.crs().label,
                lc.crs().label,
                lc.crs().label
            ),
        });
    }
    if let Some(t) = lc
        .tiles
        .iter()
        .find(|t| !crate::raster::values::north_up(&t.grid.transform))
    {
        return Err(Error::raster(
            &t.path,
            "is not north up (rotated, or its rows or columns run backwards); slope by land cover needs a north-up land cover: warp it with gdalwarp",
        ));
    }
    let lc = &lc.read_through_mosaics();
    let (plans, tasks) = engine::plan(&lc.tiles, inputs.zones, dem.area)?;
    let mut out = vec![(ClassGrades::new(), 0.0); inputs.zones.zones.len()];
    let ctx = (&lc.tiles[..], dem, legend, inputs.grades);
    runner.run_ordered(
        &tasks,
        |t| t.window.cells() as u64,
        LcWorker::default,
        |worker, task| {
            let plan = &plans[task.plan];
            with_pixel_type!(lc.tiles[plan.tile].pixel_type, T => lc_task::<T>(worker, ctx, plan, task))
        },
        |_, partial, _| {
            for (zone, classes, covered) in partial {
                out[zone].1 += covered;
                for (code, areas) in classes {
                    let e = out[zone].0.entry(code).or_insert_with(|| vec![0.0; areas.len()]);
                    for (x, a) in e.iter_mut().zip(&areas) {
                        *x += a;
                    }
                }
            }
        },
    )?;
    Ok(out)
}
