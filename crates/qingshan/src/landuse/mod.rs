//! Land use as polygons: the land survey's `DLTB` layer (三调 图斑, and its
//! yearly updates) measured inside zones exactly, as the raster passes
//! measure land cover, into the same `qingshan.stats/1` document.
//!
//! Data flow: [`LandUse::read`] reads the class of every polygon (and
//! optionally its recorded area, e.g. `TBDLMJ`), nothing else; the zones
//! are reprojected to the layer's CRS; each polygon's area inside each
//! zone is its exact intersection (see `overlay`), measured on the
//! ellipsoid (see `measure`); class areas per zone go through
//! [`crate::zonal::finish_stats`] like a raster's. Overlaps between
//! polygons are found by matching shared edges (see `edges`), measured
//! and reported (each polygon's class still counts its part, so they are
//! warned about, never hidden); the zone's area not covered by any
//! polygon is its nodata area.
//!
//! Invariant: per zone, Σ classes (computed areas) − overlap + nodata =
//! zone area, to rounding; with `area_field`, the classes hold the recorded
//! areas split in proportion to the computed ones and
//! `recorded_minus_computed_m2` says how far they differ.
//!
//! # Examples
//! ```no_run
//! use qingshan::landuse::{LandUse, LandUseOptions, landuse_stats};
//! use qingshan::{legend::Legend, zones::{ZoneLayer, ZoneOptions}};
//!
//! let dltb = LandUse::read("fixtures/landuse/dltb_2019.gpkg".as_ref(), &LandUseOptions::new("DLBM"))?;
//! let towns = ZoneLayer::read("fixtures/towns.geojson".as_ref(), &ZoneOptions::default())?;
//! let survey = Legend::builtin("sandiao").unwrap();
//! let report = landuse_stats(&dltb, &towns, &survey, Default::default(), &Default::default())?;
//! for z in &report.zones {
//!     println!("{}: forest land {:.0} mu", z.id, qingshan::area::m2_to_mu(z.forest_land_area_m2.unwrap_or(0.0)));
//! }
//! # Ok::<(), qingshan::Error>(())
//! ```

mod change;
mod edges;
mod measure;
mod overlay;
mod read;

use std::path::{Path, PathBuf};

use geo::MultiPolygon;

use crate::area::AreaMode;
use crate::change::{ChangeReport, ChangeSources, TransitionAccum, finish_change};
use crate::engine::{RunOptions, Runner};
use crate::grid::Crs;
use crate::legend::{ClassCode, Legend};
use crate::zonal::{StatsReport, ZoneAccum, finish_stats};

use crate::zones::{ZoneLayer, segment_length};
use crate::{Error, Result};
pub use change::ChangedPiece;

/// What to read from a land-use layer.
#[derive(Clone, Debug, Default)]
pub struct LandUseOptions {
    /// The field holding each polygon's class code (`DLBM`).
    pub class_field: String,
    /// Layer name (default: the first layer).
    pub layer: Option<String>,
    /// A field of recorded areas in m² (`TBDLMJ`, `TBMJ`) to report instead
    /// of the computed ones.
    pub area_field: Option<String>,
    /// The field of polygon ids for messages and lists (default: `BSM`
    /// when the layer has it, else the FID).
    pub id_field: Option<String>,
    /// Text encoding of a shapefile's attributes (default: its `.cpg`, or
    /// GBK when the text is not UTF-8).
    pub encoding: Option<String>,
    /// A field flagging 国家特别规定灌木林地: flagged polygons of a
    /// forest-land class that is not forest (灌木林地 0305) count as forest.
    pub forest_flag_field: Option<String>,
}

impl LandUseOptions {
    /// Options reading classes from `class_field`, everything else default.
    pub fn new(class_field: &str) -> LandUseOptions {
        LandUseOptions {
            class_field: class_field.to_string(),
            ..Default::default()
        }
    }
}

/// A land-use layer: polygons with a class each.
#[derive(Clone, Debug)]
pub struct LandUse {
    /// The file read.
    pub path: PathBuf,
    /// The layer read.
    pub layer: String,
    /// The layer's CRS.
    pub crs: Crs,
    /// The class field's name as the layer spells it.
    pub class_field: String,
    /// The id field's name, when one was used.
    pub id_field: Option<String>,
    /// Polygon ids (the id field, else `FID n`), in layer order.
    pub ids: Vec<String>,
    /// Class code of each polygon.
    pub codes: Vec<ClassCode>,
    /// The polygons, in the layer's CRS.
    pub polygons: Vec<MultiPolygon<f64>>,
    /// Recorded areas (m²) from the area field, when one was given.
    pub recorded: Option<Vec<f64>>,
    /// The 国家特别规定灌木林地 flag of each polygon, when a flag field was
    /// given.
    pub forest_flags: Option<Vec<bool>>,
    /// With recorded areas net of deductions (`TBDLMJ`): each polygon's
    /// deducted class and area (`KCDLBM`, `KCMJ`), credited to that class.
    pub deductions: Option<Vec<Option<(ClassCode, f64)>>>,
    /// Notes on how the layer was read (e.g. decoded as GBK).
    pub notes: Vec<String>,
}

impl LandUse {
    /// Reads a land-use layer (GeoPackage, Shapefile, GeoJSON, any OGR
    /// vector format). Errors name the file and the feature: a polygon
    /// without a class, geometry or recorded area, a non-polygon, a field
    /// that does not exist (listing the fields that do), a polygon whose
    /// edges cross (the first in the layer's order). The crossing sweep
    /// runs on the caller's rayon pool (the global one outside any).
    pub fn read(path: &Path, opts: &LandUseOptions) -> Result<LandUse> {
        if opts.class_field.trim().is_empty() {
            return Err(Error::Invalid(
                "a land-use layer needs --class-field, the field of class codes (e.g. DLBM)".into(),
            ));
        }
        read::read(path, opts)
    }

    /// Every file this layer was read from (what no output may overwrite).
    pub fn files(&self) -> Vec<PathBuf> {
        crate::raster::input_files(&self.path)
    }

    /// A label for messages: the file and the layer.
    pub fn label(&self) -> String {
        format!("{} (layer {})", self.path.display(), self.layer)
    }
}

/// Per-zone results of one overlay, before they become a report.
struct Overlay {
    accums: Vec<ZoneAccum>,
    /// Flagged shrub forest land (counts as forest), per zone.
    flagged_forest: Vec<f64>,
    zone_areas: Vec<f64>,
    overlap: Vec<f64>,
    recorded_minus_computed: Option<Vec<f64>>,
}

/// Pieces of a change narrower than this (m, mean width) are boundary noise.
const SLIVER_M: f64 = 0.01;

/// Areas below this share of a zone are rounding of the clipping, not
/// gaps or overlaps.
const NOISE_SHARE: f64 = 1e-9;

fn overlay(lu: &LandUse, zones: &ZoneLayer, legend: &Legend, mode: AreaMode) -> Result<Overlay> {
    let geoms = zones.project(&lu.crs, Some(segment_length(&zones.crs, 100.0)))?;
    let extent = measure::extent(lu.polygons.iter().chain(geoms.iter()))
        .ok_or_else(|| Error::zones(&lu.path, "has no extent"))?;
    let measure = measure::Measure::new(&lu.crs, mode, extent)?;
    let tree = overlay::pieces(&geoms, overlay::cell_size(&lu.polygons));
    let zone_areas = overlay::zone_areas(&tree, geoms.len(), &measure);
    // The overlaps are looked for while the polygons are cut (both are
    // parallel; together they keep every thread busy through each one's
    // serial tail).
    let (shares, overlaps) = rayon::join(
        || overlay::shares(&lu.polygons, &tree, &measure),
        || {
            edges::overlaps(
                &lu.polygons,
                &edges::unmatched(&lu.polygons, quantum(&lu.crs)),
            )
        },
    );
    let mut overlap = vec![0.0; geoms.len()];
    for s in overlay::shares(&overlaps.shapes, &tree, &measure) {
        overlap[s.zone] += s.area;
    }
    let mut accums = vec![ZoneAccum::default(); geoms.len()];
    let mut covered = vec![0.0; geoms.len()];
    let mut diff = lu.recorded.as_ref().map(|_| vec![0.0; geoms.len()]);
    let mut flagged_forest = vec![0.0; geoms.len()];
    for s in &shares {
        let code = legend.canonical(lu.codes[s.polygon]);
        let area = match &lu.recorded {
            Some(rec) if s.whole > 0.0 => {
                let share = s.area / s.whole;
                let part = rec[s.polygon] * share;
                let deducted = match lu.deductions.as_ref().and_then(|d| d[s.polygon]) {
                    Some((kc, kcmj)) => {
                        *accums[s.zone].classes.entry(kc).or_insert(0.0) += kcmj * share;
                        kcmj * share
                    }
                    None => 0.0,
                };
                if let Some(d) = diff.as_mut() {
                    d[s.zone] += part + deducted - s.area;
                }
                part
            }
            _ => s.area,
        };
        *accums[s.zone].classes.entry(code).or_insert(0.0) += area;
        covered[s.zone] += s.area;
        if lu.forest_flags.as_ref().is_some_and(|f| f[s.polygon])
            && legend.is_forest_land(code)
            && !legend.is_forest(code)
        {
            flagged_forest[s.zone] += area;
        }
    }
    for z in 0..geoms.len() {
        let noise = NOISE_SHARE * zone_areas[z];
        if overlap[z] <= noise {
            overlap[z] = 0.0;
        }
        let gap = zone_areas[z] - (covered[z] - overlap[z]);
        accums[z].nodata_m2 = if gap > noise { gap } else { 0.0 };
    }
    Ok(Overlay {
        accums,
        flagged_forest,
        zone_areas,
        overlap,
        recorded_minus_computed: diff,
    })
}

/// Edges are matched to 1 mm (1e-8° in lon/lat).
fn quantum(crs: &Crs) -> f64 {
    if crs.geographic {
        1e-8
    } else {
        1e-3 / crs.linear_unit_m
    }
}

/// Class areas of a land-use layer inside each zone: the `qingshan.stats/1`
/// document of [`crate::zonal::zonal_stats`], from polygons. `mode`:
/// ellipsoidal (default; the survey's own rule) or planar areas.
pub fn landuse_stats(
    lu: &LandUse,
    zones: &ZoneLayer,
    legend: &Legend,
    mode: AreaMode,
    opts: &RunOptions<'_>,
) -> Result<StatsReport> {
    let runner = Runner::new(opts)?;
    let o = runner.install(|| overlay(lu, zones, legend, mode))?;
    let mut report = finish_stats(
        zones,
        legend,
        lu.crs.label.clone(),
        mode,
        o.accums,
        &o.zone_areas,
        &lu.label(),
    );
    for (k, z) in report.zones.iter_mut().enumerate() {
        if lu.forest_flags.is_some() {
            z.forest_area_m2 += o.flagged_forest[k];
            z.forest_cover = (z.valid_area_m2 > 0.0).then(|| z.forest_area_m2 / z.valid_area_m2);
        }
        z.overlap_area_m2 = Some(o.overlap[k]);
        z.recorded_minus_computed_m2 = o.recorded_minus_computed.as_ref().map(|d| d[k]);
        if z.valid_area_m2 == 0.0 {
            report.warnings.push(format!(
                "zone {:?}: no polygon of {} covers it: its areas are zero (is the zone off the layer, or is one of them in another CRS than its file says?)",
                z.id,
                lu.label()
            ));
        } else if z.nodata_area_m2 > 0.0 {
            report.warnings.push(format!(
                "zone {:?}: {:.2} m² of it has no land-use polygon (a gap in {}, or the zone reaches past the layer)",
                z.id,
                z.nodata_area_m2,
                lu.label()
            ));
        }
        if o.overlap[k] > 0.0 {
            report.warnings.push(format!(
                "zone {:?}: {:.2} m² is covered by more than one polygon of {} (overlaps: each polygon's class counts it, so the valid area is that much too large; fix the layer)",
                z.id,
                o.overlap[k],
                lu.label()
            ));
        }
    }
    report.warnings.splice(0..0, zones.repairs.iter().cloned());
    report.warnings.splice(0..0, lu.notes.iter().cloned());
    Ok(report)
}

/// Result of [`landuse_change`]: the `qingshan.change/1` document and the
/// change list.
#[derive(Clone, Debug)]
pub struct LandUseChange {
    /// Transitions per zone, as from rasters.
    pub report: ChangeReport,
    /// Every piece (polygon of the first date ∩ polygon of the second ∩
    /// zone) whose class changed, in the first layer's order.
    pub changed: Vec<ChangedPiece>,
    /// The CRS of the pieces (the first layer's).
    pub crs: Crs,
}

/// Change between two versions of a land-use layer inside each zone:
/// transition matrices (`qingshan.change/1`) from the polygon × polygon
/// overlay, and the list of changed pieces. The second layer is
/// reprojected to the first's CRS when they differ (with a warning).
pub fn landuse_change(
    before: &LandUse,
    after: &LandUse,
    zones: &ZoneLayer,
    legend: &Legend,
    mode: AreaMode,
    opts: &RunOptions<'_>,
) -> Result<LandUseChange> {
    let runner = Runner::new(opts)?;
    runner.install(|| {
        let mut warnings: Vec<String> = before.notes.iter().chain(&after.notes).cloned().collect();
        warnings.extend(zones.repairs.iter().cloned());
        let reprojected;
        let after_polygons: &[MultiPolygon<f64>] = if after.crs.same_as(&before.crs) {
            &after.polygons
        } else {
            let r = crate::srs::Reprojector::new(&after.crs, &before.crs)?;
            let seg = segment_length(&after.crs, 10.0);
            reprojected = after
                .polygons
                .iter()
                .zip(&after.ids)
                .map(|(g, id)| {
                    r.multipolygon(&crate::srs::densify(g, seg))
                        .map_err(|e| Error::feature(&after.path, id, format!("cannot reproject to {}: {e}", before.crs.label)))
                })
                .collect::<Result<Vec<_>>>()?;
            warnings.push(format!(
                "{} is in {}, {} in {}: the second was reprojected to the first (its polygons' edges densified to 10 m)",
                after.label(),
                after.crs.label,
                before.label(),
                before.crs.label
            ));
            &reprojected
        };
        let geoms = zones.project(&before.crs, Some(segment_length(&zones.crs, 100.0)))?;
        let extent = measure::extent(before.polygons.iter().chain(after_polygons).chain(geoms.iter()))
            .ok_or_else(|| Error::zones(&before.path, "has no extent"))?;
        let measure = measure::Measure::new(&before.crs, mode, extent)?;
        let tree = overlay::pieces(&geoms, overlay::cell_size(&before.polygons));
        let zone_areas = overlay::zone_areas(&tree, geoms.len(), &measure);
        let mut clean_after = vec![true; after_polygons.len()];
        for (lu, polygons) in [(before, &before.polygons[..]), (after, after_polygons)] {
            let suspects = edges::unmatched(polygons, quantum(&before.crs));
            let overlaps = edges::overlaps(polygons, &suspects);
            if std::ptr::eq(lu, after) {
                for &j in &overlaps.involved {
                    clean_after[j] = false;
                }
            }
            let overlap = crate::area::sum_m2(overlaps.shapes.iter().map(|o| measure.multipolygon(o)));
            if overlap > 0.0 {
                warnings.push(format!(
                    "{}: {overlap:.2} m² is covered by more than one polygon (overlaps): both polygons' transitions count it; `qingshan stats --landuse` shows where",
                    lu.label()
                ));
            }
        }
        let canonical = |lu: &LandUse| -> Vec<ClassCode> {
            lu.codes.iter().map(|c| legend.canonical(*c)).collect()
        };
        let t = change::transitions(
            (before, &canonical(before)),
            (after, &canonical(after)),
            after_polygons,
            &clean_after,
            (&tree, segment_length(&before.crs, SLIVER_M)),
            geoms.len(),
            &measure,
        );
        if t.slivers.0 > 0 {
            warnings.push(format!(
                "{} pieces narrower than {} cm between polygons of different classes ({:.2} m² in all) are boundary noise (a boundary drawn a hair apart, e.g. after reprojection) and count as unchanged",
                t.slivers.0,
                SLIVER_M * 100.0,
                t.slivers.1
            ));
        }
        let accums: Vec<TransitionAccum> = t
            .pairs
            .iter()
            .zip(&t.covered)
            .zip(&zone_areas)
            .map(|((pairs, covered), zone_area)| {
                let mut acc = TransitionAccum::default();
                for (from, to, a) in pairs {
                    *acc.pairs.entry(*from).or_default().entry(*to).or_insert(0.0) += a;
                }
                let gap = zone_area - covered;
                acc.nodata_m2 = if gap > NOISE_SHARE * zone_area { gap } else { 0.0 };
                acc
            })
            .collect();
        let sources = ChangeSources {
            crs: before.crs.label.clone(),
            area: mode,
            before: vec![before.label()],
            after: vec![after.label()],
        };
        let mut report = finish_change(zones, legend, sources, accums, &zone_areas, warnings);
        let gaps: Vec<String> = report
            .zones
            .iter()
            .filter(|z| z.nodata_area_m2 > 0.0 && z.valid_area_m2 > 0.0)
            .map(|z| {
                format!(
                    "zone {:?}: {:.2} m² of it is not covered by polygons of both versions (a gap in a layer, or the zone reaches past one); those areas are nodata",
                    z.id, z.nodata_area_m2
                )
            })
            .collect();
        report.warnings.extend(gaps);
        Ok(LandUseChange {
            report,
            changed: t.changed,
            crs: before.crs.clone(),
        })
    })
}
