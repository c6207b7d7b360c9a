//! The values pass: tasks (tile, window) × zones over a value raster,
//! each cell's value weighted by coverage × cell area, partials merged in
//! task order (the same bytes at any thread count).

use std::sync::Arc;

use super::ValuesOptions;
use super::accum::{Distribution, Moments, Spill, TaskMoments, compact, key, quantiles};
use crate::coverage::Run;
use crate::engine::{self, Runner, Task, TaskRuns, TilePlan};
use crate::grid::Window;
use crate::raster::values::{ValueRaster, ValueReader};
use crate::zonal::{Weigh, Weights, with_weigh};
use crate::zones::ZoneLayer;
use crate::{Result, RunOptions};

/// What a zone's measurement ends with.
pub(super) struct ZonePart {
    pub(super) moments: Moments,
    /// The quantiles asked for, in order (`None`: no value).
    pub(super) quantiles: Vec<Option<f64>>,
}

#[derive(Default)]
struct Worker {
    reader: ValueReader,
    values: Vec<f64>,
    runs: TaskRuns,
    pairs: Vec<(u64, f64)>,
}

/// One zone's part of one task.
struct Partial {
    zone: usize,
    moments: Moments,
    /// Sorted distinct values with their weights (quantiles asked).
    run: Vec<(u64, f64)>,
}

/// Adds every run's cells: moments, and (value, weight) pairs when `pairs`.
fn accumulate(
    runs: &[Run],
    values: &[f64],
    window: Window,
    weights: &mut Weights<'_>,
    acc: &mut TaskMoments,
    mut pairs: Option<&mut Vec<(u64, f64)>>,
) {
    with_weigh!(weights, w => {
        for run in runs {
            w.start(run);
            let frac = run.frac;
            for &v in &values[run.cells_in(window)] {
                let a = w.next(1);
                if v.is_nan() {
                    acc.add_nodata(a);
                } else {
                    acc.add(v, frac, a);
                    if let Some(p) = pairs.as_deref_mut() {
                        p.push((key(v), a));
                    }
                }
            }
        }
    })
}

fn task(
    worker: &mut Worker,
    raster: &ValueRaster,
    plan: &TilePlan,
    task: &Task,
    want_pairs: bool,
) -> Result<Vec<Partial>> {
    let w = task.window;
    worker.runs.collect(plan, task, w);
    worker.reader.read(
        raster,
        raster.mosaic_window(plan.tile, w),
        &mut worker.values,
    )?;
    let mut weights = Weights::new(&plan.cell_areas);
    let mut out = Vec::with_capacity(worker.runs.zones());
    for (zone, range) in worker.runs.by_zone() {
        let mut acc = TaskMoments::default();
        worker.pairs.clear();
        accumulate(
            &worker.runs.all[range],
            &worker.values,
            w,
            &mut weights,
            &mut acc,
            want_pairs.then_some(&mut worker.pairs),
        );
        let run = if want_pairs {
            compact(&mut worker.pairs);
            worker.pairs.clone()
        } else {
            Vec::new()
        };
        out.push(Partial {
            zone,
            moments: acc.finish(),
            run,
        });
    }
    Ok(out)
}

/// Measures every zone of `zones`: moments, and the quantiles `qs`.
pub(super) fn run(
    raster: &ValueRaster,
    zones: &ZoneLayer,
    qs: &[f64],
    tuning: &ValuesOptions,
    opts: &RunOptions<'_>,
) -> Result<Vec<ZonePart>> {
    let runner = Runner::new(opts)?;
    let (plans, tasks) = engine::plan(&raster.tiles, zones, raster.area)?;
    let n = zones.zones.len();
    let want_pairs = !qs.is_empty();
    let mut moments = vec![Moments::empty(); n];
    let mut dists = vec![Distribution::default(); n];
    let mut held = 0usize;
    let mut spill: Option<Arc<Spill>> = None;
    let mut failed = None;
    // A spill that failed stops the run: the tasks after it end at once.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let result = runner.run_ordered(
        &tasks,
        |t| t.window.cells() as u64,
        Worker::default,
        |worker, t| {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(crate::Error::Invalid("stopped: a spill failed".into()));
            }
            task(worker, raster, &plans[t.plan], t, want_pairs)
        },
        |_, partials, _| {
            for p in partials {
                moments[p.zone].merge(&p.moments);
                held = held.saturating_add_signed(dists[p.zone].push(p.run));
            }
            if held > tuning.memory_pairs && failed.is_none() {
                // Spill the zones holding the most until half the budget
                // is left (zone order breaks ties: deterministic).
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by_key(|&z| std::cmp::Reverse(dists[z].in_memory()));
                for z in order {
                    if held <= tuning.memory_pairs / 2 {
                        break;
                    }
                    match dists[z].spill(&mut spill) {
                        Ok(k) => held -= k.min(held),
                        Err(e) => {
                            failed = Some(e);
                            stop.store(true, std::sync::atomic::Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
        },
    );
    // The spill's own error, not the "stopped" of the tasks after it.
    if let Some(e) = failed {
        return Err(e);
    }
    result?;
    let parts = runner.install(|| {
        use rayon::prelude::*;
        moments
            .into_par_iter()
            .zip(dists.into_par_iter())
            .map(|(m, d)| {
                let quantiles = if want_pairs {
                    quantiles(&d, qs)?
                } else {
                    Vec::new()
                };
                Ok(ZonePart {
                    moments: m,
                    quantiles,
                })
            })
            .collect::<Result<Vec<ZonePart>>>()
    })?;
    Ok(parts)
}
