//! The slope passes: one over the DEM (zones and cropland polygons on the
//! DEM's grid, and the slope raster), one over the land cover (class ×
//! grade, each land-cover cell with the slope of the DEM cell under its
//! centre). Tasks are merged in task order, so results are the same
//! bytes at any thread count.

use std::collections::BTreeMap;

use super::horn::{self, Heights, Spacing};
use super::{
    Cropland, GradeArea, Grades, PolygonSlope, SLOPE_SCHEMA, SlopeInputs, SlopeReport, ZoneSlope,
};
use crate::coverage::Run;
use crate::engine::{self, Projected, Runner, Task, TaskRuns, TilePlan};
use crate::grid::Window;
use crate::legend::{ClassCode, ClassKind, Legend};
use crate::raster::values::{ValueRaster, ValueReader};
use crate::raster::{ClassRasterWriter, LandCover, RasterSpec};
use crate::zonal::{Weigh, Weights, coverage_warning, with_weigh};
use crate::{Result, RunOptions};

/// Nodata value of the written slope raster.
pub(crate) const SLOPE_NODATA: f64 = -9999.0;

/// Areas of one zone (or polygon) by grade, so far.
#[derive(Clone, Debug, Default)]
struct Accum {
    grades: Vec<f64>,
    nodata_m2: f64,
    /// Σ area × slope (degrees).
    slope_sum: f64,
}

impl Accum {
    fn new(n: usize) -> Accum {
        Accum {
            grades: vec![0.0; n],
            ..Default::default()
        }
    }

    fn merge(&mut self, o: &Accum) {
        for (a, b) in self.grades.iter_mut().zip(&o.grades) {
            *a += b;
        }
        self.nodata_m2 += o.nodata_m2;
        self.slope_sum += o.slope_sum;
    }
}

/// Per-worker state of the DEM pass.
#[derive(Default)]
pub(super) struct DemWorker {
    pub(super) reader: ValueReader,
    pub(super) heights: Vec<f64>,
    pub(super) slopes: Vec<f32>,
    /// The zones' runs of the current task.
    pub(super) runs: TaskRuns,
    pub(super) spans: Vec<(usize, usize)>,
}

/// Slopes of mosaic window `out` into `worker.slopes`: every cell, or
/// only the cells of `worker.spans` (one span per row of `out`).
pub(super) fn compute_slopes(
    dem: &ValueRaster,
    worker: &mut DemWorker,
    out: Window,
    all: bool,
) -> Result<()> {
    let size = (dem.grid.width, dem.grid.height);
    let halo = horn::with_halo(out, size);
    worker.reader.read(dem, halo, &mut worker.heights)?;
    let h = Heights {
        z: &worker.heights,
        window: halo,
        size,
    };
    let spacing = Spacing::of(&dem.grid);
    if all {
        horn::slopes(&h, out, &spacing, &mut worker.slopes);
    } else {
        horn::slopes_in(&h, out, &worker.spans, &spacing, &mut worker.slopes);
    }
    Ok(())
}

/// Adds `frac × cell area` of every run's cells into `acc` by grade.
fn accumulate(
    runs: &[Run],
    slopes: &[f32],
    window: Window,
    weights: &mut Weights<'_>,
    grades: &Grades,
    acc: &mut Accum,
) {
    with_weigh!(weights, w => {
        for run in runs {
            w.start(run);
            for &s in &slopes[run.cells_in(window)] {
                let a = w.next(1);
                if s.is_nan() {
                    acc.nodata_m2 += a;
                } else {
                    acc.grades[grades.of(s)] += a;
                    acc.slope_sum += a * s as f64;
                }
            }
        }
    })
}

type DemPartial = (Vec<(usize, Accum)>, Option<Vec<f32>>);

fn dem_task(
    worker: &mut DemWorker,
    dem: &ValueRaster,
    plan: &TilePlan,
    task: &Task,
    grades: &Grades,
    keep: bool,
) -> Result<DemPartial> {
    // The zones' runs first: slopes are computed only for the cells some
    // zone covers (each row's span), unless the whole window is written.
    let w = task.window;
    worker.runs.collect(plan, task, w);
    worker.spans.clear();
    worker.spans.resize(w.height, (usize::MAX, 0));
    for run in &worker.runs.all {
        let span = &mut worker.spans[run.row as usize - w.row];
        let c = run.col as usize - w.col;
        span.0 = span.0.min(c);
        span.1 = span.1.max(c + run.len as usize);
    }
    compute_slopes(dem, worker, dem.mosaic_window(plan.tile, w), keep)?;
    let mut weights = Weights::new(&plan.cell_areas);
    let mut out = Vec::with_capacity(worker.runs.zones());
    for (zone, runs) in worker.runs.by_zone() {
        let mut acc = Accum::new(grades.count());
        accumulate(
            &worker.runs.all[runs],
            &worker.slopes,
            w,
            &mut weights,
            grades,
            &mut acc,
        );
        out.push((zone, acc));
    }
    Ok((out, keep.then(|| worker.slopes.clone())))
}

/// The DEM pass: accumulators of every zone of `layers` (numbered one
/// layer after another), and the slope raster when asked.
fn dem_pass(
    runner: &Runner<'_>,
    inputs: &SlopeInputs<'_>,
    layers: &[&crate::zones::ZoneLayer],
) -> Result<Vec<Accum>> {
    let dem = inputs.dem;
    let items = engine::whole_tiles(&dem.tiles);
    let keep = inputs.slope_raster.is_some();
    let (plans, tasks) = engine::plan_items(
        &dem.tiles,
        &items,
        layers,
        &mut Projected::new(dem.area),
        keep,
    )?;
    let mut writer = match inputs.slope_raster {
        Some(path) => Some(ClassRasterWriter::<f32>::create_plain(
            path,
            &RasterSpec {
                grid: &dem.grid,
                nodata: Some(SLOPE_NODATA),
                description: "slope (degrees, Horn)",
                metadata: vec![
                    (
                        "QINGSHAN_SLOPE".into(),
                        "Horn, as gdaldem slope -compute_edges".into(),
                    ),
                    ("UNITS".into(), "degrees".into()),
                ],
                colors: Vec::new(),
                sparse: true,
                threads: runner.threads(),
            },
        )?),
        None => None,
    };
    let n: usize = layers.iter().map(|l| l.zones.len()).sum();
    let mut accums = vec![Accum::new(inputs.grades.count()); n];
    let mut failed = None;
    runner.run_ordered(
        &tasks,
        |t| t.window.cells() as u64,
        DemWorker::default,
        |worker, task| dem_task(worker, dem, &plans[task.plan], task, inputs.grades, keep),
        |task, (partial, slopes), _| {
            for (zone, a) in partial {
                accums[zone].merge(&a);
            }
            if let (Some(w), Some(mut s), None) = (writer.as_mut(), slopes, &failed) {
                for v in s.iter_mut().filter(|v| v.is_nan()) {
                    *v = SLOPE_NODATA as f32;
                }
                let at = dem.mosaic_window(plans[task.plan].tile, task.window);
                if let Err(e) = w.write(at, s) {
                    failed = Some(e);
                }
            }
        },
    )?;
    if let Some(e) = failed {
        return Err(e);
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(accums)
}

/// Slopes (f32 degrees, NaN where there is none) of the DEM cells at a
/// lattice of points: `rows[j]` and `cols[i]` are DEM rows and columns
/// (`None`: off the DEM); the result is row major, `rows.len()` ×
/// `cols.len()`. Reads the DEM in bands of rows (for maps).
pub(super) fn sample(
    dem: &ValueRaster,
    rows: &[Option<usize>],
    cols: &[Option<usize>],
) -> Result<Vec<f32>> {
    let mut out = vec![f32::NAN; rows.len() * cols.len()];
    let (Some(&c0), Some(&c1)) = (cols.iter().flatten().min(), cols.iter().flatten().max()) else {
        return Ok(out);
    };
    let size = (dem.grid.width, dem.grid.height);
    let spacing = Spacing::of(&dem.grid);
    let mut reader = ValueReader::default();
    let mut heights = Vec::new();
    let mut cell = [f32::NAN];
    // One DEM row at a time (with its halo), only the sampled columns.
    for (j, r) in rows.iter().enumerate() {
        let Some(r) = *r else { continue };
        let row = Window {
            col: c0,
            row: r,
            width: c1 - c0 + 1,
            height: 1,
        };
        let halo = horn::with_halo(row, size);
        reader.read(dem, halo, &mut heights)?;
        let h = Heights {
            z: &heights,
            window: halo,
            size,
        };
        for (i, c) in cols.iter().enumerate() {
            if let Some(c) = *c {
                horn::slope_row(&h, r, c, &mut cell, &spacing);
                out[j * cols.len() + i] = cell[0];
            }
        }
    }
    Ok(out)
}

/// The grade (from 1) holding the largest area; ties go to the steeper.
fn largest_grade(areas: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (k, &a) in areas.iter().enumerate() {
        if a > 0.0 && best.is_none_or(|b| a >= areas[b]) {
            best = Some(k);
        }
    }
    best.map(|k| k + 1)
}

fn mean(acc: &Accum, valid: f64) -> Option<f64> {
    (valid > 0.0).then(|| acc.slope_sum / valid)
}

/// A warning when the DEM's projection stretches distances by more than
/// 0.1 % somewhere on it (Web Mercator, Albers far from its standard
/// parallels): slope is computed from grid distances, as gdaldem does, so
/// it would be off by as much. The scale is measured at the centre and
/// near the corners, east and north, through the inverse projection.
fn projection_scale(dem: &ValueRaster) -> Option<String> {
    let g = &dem.grid;
    if g.crs.geographic {
        return None;
    }
    let geog = crate::srs::geographic_of(&g.crs).ok()?;
    let to = crate::srs::Reprojector::new(&g.crs, &geog).ok()?;
    let (x0, y0, x1, y1) = g.bounds();
    let d = ((x1 - x0).min(y1 - y0) / 20.0).max(g.transform.0[1].abs());
    let e = g.crs.ellipsoid;
    let mut ks = Vec::new();
    for (fx, fy) in [
        (0.5, 0.5),
        (0.05, 0.05),
        (0.95, 0.05),
        (0.05, 0.95),
        (0.95, 0.95),
    ] {
        let (x, y) = (x0 + fx * (x1 - x0), y0 + fy * (y1 - y0));
        let tri = geo::MultiPolygon(vec![geo::Polygon::new(
            vec![(x, y), (x + d, y), (x, y + d), (x, y)].into(),
            vec![],
        )]);
        let ll = to.multipolygon(&tri).ok()?;
        let p: Vec<geo::Coord<f64>> = ll.0[0].exterior().0.clone();
        for q in [p[1], p[2]] {
            let phi = ((p[0].y + q.y) / 2.0).to_radians();
            let (m, n) = e.radii(phi);
            let ground = (m * (q.y - p[0].y).to_radians())
                .hypot(n * phi.cos() * (q.x - p[0].x).to_radians());
            ks.push(d * g.crs.linear_unit_m / ground);
        }
    }
    let (lo, hi) = ks
        .iter()
        .fold((f64::INFINITY, 0f64), |(a, b), &k| (a.min(k), b.max(k)));
    let worst = (hi - 1.0).abs().max((lo - 1.0).abs());
    (worst > 1e-3).then(|| {
        format!(
            "{}: in {} distances on the grid are {lo:.4}–{hi:.4} × ground distances over this DEM, so slopes (from grid distances, as gdaldem computes them) are off by up to {:.1} % in their tangent; for true slopes warp the DEM to a local projection (Gauss–Krüger or UTM) with gdalwarp -t_srs",
            dem.label(),
            g.crs.label,
            100.0 * worst
        )
    })
}

/// Runs both passes and assembles the report.
pub(super) fn run(inputs: &SlopeInputs<'_>, opts: &RunOptions<'_>) -> Result<SlopeReport> {
    Ok(run_dates(inputs, None, opts)?.0)
}

/// [`run`], and with `before` the same zones with another date's land
/// cover (no polygons), from the one DEM pass.
pub(super) fn run_dates(
    inputs: &SlopeInputs<'_>,
    before: Option<(&LandCover, &Legend)>,
    opts: &RunOptions<'_>,
) -> Result<(SlopeReport, Option<SlopeReport>)> {
    let runner = Runner::new(opts)?;
    let dem = inputs.dem;
    let mut layers = vec![inputs.zones];
    if let Some(c) = inputs.cropland {
        layers.push(&c.layer);
    }
    let accums = dem_pass(&runner, inputs, &layers)?;
    let zone_areas = inputs.zones.areas(dem.crs(), dem.area)?;
    // What the inputs themselves warrant, once for both reports.
    let mut warnings: Vec<String> = inputs.zones.repairs.clone();
    warnings.extend(dem.warnings.iter().cloned());
    warnings.extend(projection_scale(dem));
    let after = assemble(&runner, inputs, &accums, &zone_areas, warnings.clone())?;
    let before = match before {
        Some(lc) => Some(assemble(
            &runner,
            &SlopeInputs {
                land_cover: Some(lc),
                cropland: None,
                ..*inputs
            },
            &accums[..inputs.zones.zones.len()],
            &zone_areas,
            warnings,
        )?),
        None => None,
    };
    Ok((after, before))
}

/// The report from the DEM pass's accumulators (zones, then polygons)
/// and a land-cover pass of `inputs.land_cover`, after the `warnings`
/// the inputs gave.
// Long function: the report's fields, zone by zone, with the warnings
// each measurement gives.
fn assemble(
    runner: &Runner<'_>,
    inputs: &SlopeInputs<'_>,
    accums: &[Accum],
    zone_areas: &[f64],
    mut warnings: Vec<String>,
) -> Result<SlopeReport> {
    let dem = inputs.dem;
    let by_class = match inputs.land_cover {
        Some((lc, legend)) => Some(super::landcover::lc_pass(runner, inputs, lc, legend)?),
        None => None,
    };
    if let Some(c) = inputs.cropland {
        warnings.extend(c.warnings.iter().cloned());
    }
    let legend = inputs.land_cover.map(|(_, l)| l);
    let cropland_classes: Vec<ClassCode> = legend
        .map(|l| {
            l.classes
                .values()
                .filter(|c| c.kind == ClassKind::Cropland)
                .map(|c| c.code)
                .collect()
        })
        .unwrap_or_default();
    let ranges = inputs.grades.ranges();
    let grade_areas = |acc: &Accum| -> Vec<GradeArea> {
        ranges
            .iter()
            .zip(&acc.grades)
            .enumerate()
            .map(|(k, (&(lo, hi), &a))| GradeArea {
                grade: k + 1,
                min_deg: lo,
                max_deg: hi,
                area_m2: a,
            })
            .collect()
    };
    let zones: Vec<ZoneSlope> = inputs
        .zones
        .zones
        .iter()
        .enumerate()
        .map(|(i, z)| {
            let acc = &accums[i];
            let valid = crate::area::sum_m2(acc.grades.iter().copied());
            warnings.extend(coverage_warning(
                &z.id,
                valid + acc.nodata_m2,
                zone_areas[i],
                "the DEM",
            ));
            let classes = by_class.as_ref().map(|b| b[i].0.clone());
            let lc_covered = by_class.as_ref().map_or(0.0, |b| b[i].1);
            if let Some((lc, _)) = inputs.land_cover {
                if lc_covered == 0.0 {
                    warnings.push(format!(
                        "zone {:?} has no land cover in {} (off it, or nodata): it has no class areas and no steep cropland (null)",
                        z.id,
                        lc.label()
                    ));
                } else if zone_areas[i] > 0.0 && lc_covered < 0.995 * zone_areas[i] {
                    warnings.push(format!(
                        "zone {:?}: only {:.1} % of it has land cover in {} (the rest is off it, or nodata); its class areas and steep cropland count that part only",
                        z.id,
                        100.0 * lc_covered / zone_areas[i],
                        lc.label()
                    ));
                }
            }
            let steep = classes.as_ref().filter(|_| lc_covered > 0.0).map(|c| {
                crate::area::sum_m2(
                    c.iter()
                        .filter(|(code, _)| cropland_classes.contains(code))
                        .map(|(_, a)| a.last().copied().unwrap_or(0.0)),
                )
            });
            ZoneSlope {
                id: z.id.clone(),
                name: z.name.clone(),
                zone_area_m2: zone_areas[i],
                valid_area_m2: valid,
                nodata_area_m2: acc.nodata_m2,
                mean_slope_deg: mean(acc, valid),
                grades: grade_areas(acc),
                by_class: classes,
                landcover_area_m2: inputs.land_cover.map(|_| lc_covered),
                steep_cropland_m2: steep,
                attributes: z.attributes.clone(),
            }
        })
        .collect();
    if let (Some((lc, legend)), Some(b)) = (inputs.land_cover, &by_class) {
        let mut all = BTreeMap::new();
        for (classes, _) in b {
            for (code, areas) in classes {
                *all.entry(*code).or_insert(0.0) += areas.iter().sum::<f64>();
            }
        }
        if let Some((_, what)) = legend.unknown_codes(&all) {
            warnings.push(format!(
                "{}: {what}; they count as land of no known class (not cropland): check --legend",
                lc.label()
            ));
        }
    }
    let polygons = match inputs.cropland {
        Some(c) => Some(polygon_slopes(c, &accums[zones.len()..], dem)?),
        None => None,
    };
    if let (Some(_), Some(p)) = (inputs.cropland, &polygons) {
        let none = p.iter().filter(|p| p.grade.is_none()).count();
        if none > 0 {
            warnings.push(format!(
                "{none} cropland polygon(s) have no DEM cell with a slope under them: their grade is null"
            ));
        }
    }
    Ok(SlopeReport {
        schema: SLOPE_SCHEMA.to_string(),
        crs: dem.crs().label.clone(),
        area: dem.area,
        grades: ranges,
        legend: legend.map(|l| l.name.clone()),
        cropland_classes,
        zones,
        polygons,
        warnings,
    })
}

fn polygon_slopes(c: &Cropland, accums: &[Accum], dem: &ValueRaster) -> Result<Vec<PolygonSlope>> {
    let areas = c.layer.areas(dem.crs(), dem.area)?;
    Ok(c.layer
        .zones
        .iter()
        .zip(accums)
        .zip(&c.classes)
        .zip(areas)
        .map(|(((z, acc), class), area)| {
            let valid = crate::area::sum_m2(acc.grades.iter().copied());
            PolygonSlope {
                id: z.id.clone(),
                class: class.clone(),
                area_m2: area,
                nodata_area_m2: acc.nodata_m2,
                mean_slope_deg: mean(acc, valid),
                grade_areas_m2: acc.grades.clone(),
                grade: largest_grade(&acc.grades),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_grade_wins_and_ties_go_to_the_steeper() {
        assert_eq!(largest_grade(&[0.0, 0.0, 0.0]), None);
        assert_eq!(largest_grade(&[5.0, 3.0, 1.0]), Some(1));
        assert_eq!(largest_grade(&[1.0, 3.0, 3.0, 0.5]), Some(3));
        assert_eq!(largest_grade(&[0.0, 0.0, 2.0]), Some(3));
    }
}
