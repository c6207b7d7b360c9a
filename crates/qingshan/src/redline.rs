//! Ecological protection red lines (生态保护红线): "area not reduced, nature
//! not changed, function not lowered" (面积不减少、性质不改变、功能不降低).
//!
//! - [`redline_diff`] compares two versions of the red-line layer: total
//!   areas of their unions, the area lost and gained, and per polygon (by
//!   id) whether it is unchanged, grown, shrunk, reshaped, removed or
//!   added — area on the ellipsoid, so independent of the files' CRSs.
//! - [`redline_check`] measures, inside each red-line polygon, the land
//!   converted from natural to artificial classes between two dates
//!   (nature) and the change of the vegetated share (function);
//!   [`conversion_patches`] outlines each converted patch.
//!
//! Invariant: lost and gained areas come from polygon differences of the
//! layers themselves (geo's boolean operations), never from rasterising.

use std::collections::HashMap;
use std::path::Path;

use geo::orient::{Direction, Orient};
use geo::{BooleanOps, BoundingRect, MultiPolygon, Polygon, unary_union};
use serde::{Deserialize, Serialize};

use crate::change::pass::RasterOut;
use crate::change::writer::{CellSink, SinkRaster};
use crate::change::{ChangeReport, TransitionCoding, change_with_raster, land_cover_change};
use crate::engine::RunOptions;
use crate::fsio::ScratchFile;
use crate::grid::Crs;
use crate::legend::{ClassCode, Legend};
use crate::raster::LandCover;
use crate::srs::{self, Reprojector};
use crate::zones::{ZoneId, ZoneLayer, segment_length};
use crate::{Error, Result};

/// Schema tag of red-line results (`kind` tells `diff` from `check`).
pub const REDLINE_SCHEMA: &str = "qingshan.redline/1";

/// What happened to one red-line polygon between two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolygonStatus {
    /// Same geometry (lost and gained within tolerance).
    Unchanged,
    /// Larger by more than the tolerance.
    Grown,
    /// Smaller by more than the tolerance.
    Shrunk,
    /// Area within tolerance, but the geometry moved.
    Reshaped,
    /// Only in the old version.
    Removed,
    /// Only in the new version.
    Added,
}

impl PolygonStatus {
    /// The status as the outputs spell it (`unchanged`, `grown`, …).
    pub fn name(self) -> &'static str {
        match self {
            PolygonStatus::Unchanged => "unchanged",
            PolygonStatus::Grown => "grown",
            PolygonStatus::Shrunk => "shrunk",
            PolygonStatus::Reshaped => "reshaped",
            PolygonStatus::Removed => "removed",
            PolygonStatus::Added => "added",
        }
    }
}

/// One red-line polygon (matched by id) in the two versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolygonDiff {
    /// Red-line id.
    pub id: ZoneId,
    /// Name (from the new version, else the old).
    pub name: Option<String>,
    /// Area in the old version (m², ellipsoidal).
    pub old_m2: f64,
    /// Area in the new version.
    pub new_m2: f64,
    /// `new_m2 − old_m2`.
    pub delta_m2: f64,
    /// Area of old ∖ new (same id).
    pub lost_m2: f64,
    /// Area of new ∖ old (same id).
    pub gained_m2: f64,
    /// What happened.
    pub status: PolygonStatus,
}

/// Red-line totals inside one town (or any zone of a `--towns` layer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TownDiff {
    /// Town id.
    pub id: ZoneId,
    /// Town name.
    pub name: Option<String>,
    /// Area of the old red lines' union inside the town.
    pub old_m2: f64,
    /// Area of the new red lines' union inside the town.
    pub new_m2: f64,
    /// `new_m2 − old_m2`.
    pub delta_m2: f64,
    /// Area lost inside the town.
    pub lost_m2: f64,
    /// Area gained inside the town.
    pub gained_m2: f64,
    /// `new_m2 < old_m2 − tolerance`.
    pub shrunk: bool,
}

/// A layer as read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// The file.
    pub path: String,
    /// Its CRS.
    pub crs: String,
    /// Number of polygons.
    pub features: usize,
}

/// Result of [`redline_diff`] (`qingshan.redline/1`, `kind: "diff"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedlineDiff {
    /// Always [`REDLINE_SCHEMA`].
    pub schema: String,
    /// Always `diff`.
    pub kind: String,
    /// The old version.
    pub old: LayerInfo,
    /// The new version.
    pub new: LayerInfo,
    /// CRS the polygon operations ran in (areas are ellipsoidal anyway).
    pub ops_crs: String,
    /// Tolerance for "not reduced" and statuses (m²).
    pub tolerance_m2: f64,
    /// Whether any loss at all counts as a failure (`--strict`).
    pub strict: bool,
    /// Area of the union of the old polygons.
    pub old_total_m2: f64,
    /// Area of the union of the new polygons.
    pub new_total_m2: f64,
    /// `new_total_m2 − old_total_m2`.
    pub delta_m2: f64,
    /// Area of old ∖ new (unions).
    pub lost_m2: f64,
    /// Area of new ∖ old (unions).
    pub gained_m2: f64,
    /// `new_total_m2 < old_total_m2 − tolerance_m2`: the red line shrank.
    pub shrunk: bool,
    /// Whether the check failed (shrunk, or with `strict` any loss above
    /// the tolerance).
    pub failed: bool,
    /// Per polygon, old ids first (in file order), then added ones.
    pub polygons: Vec<PolygonDiff>,
    /// Per town, when towns were given.
    pub towns: Vec<TownDiff>,
    /// The lost pieces (old ∖ new union) by the id of the old polygon they
    /// came from, in [`RedlineDiff::ops_crs`]; parts no larger than the
    /// tolerance (reprojection slivers) are left out.
    #[serde(skip)]
    pub lost_pieces: Vec<(ZoneId, MultiPolygon<f64>)>,
    /// The gained pieces (new ∖ old union) by the id of the new polygon
    /// they belong to, in [`RedlineDiff::ops_crs`] (slivers left out).
    #[serde(skip)]
    pub gained_pieces: Vec<(ZoneId, MultiPolygon<f64>)>,
    /// The CRS of `lost_pieces` and `gained_pieces`.
    #[serde(skip)]
    pub ops: Option<Crs>,
    /// Things the user should know.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Options of [`redline_diff`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiffOptions {
    /// Areas within this many m² count as equal (default 1 m²).
    pub tolerance_m2: f64,
    /// Any lost area above the tolerance fails, even if compensated.
    pub strict: bool,
}

/// A limit that must be a non-negative number.
fn non_negative(value: f64, what: &str) -> Result<()> {
    if value.is_nan() || value < 0.0 {
        return Err(Error::Invalid(format!(
            "{what} must be a non-negative number, not {value}"
        )));
    }
    Ok(())
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            tolerance_m2: 1.0,
            strict: false,
        }
    }
}

/// Measures ellipsoidal areas of polygons given in a projected CRS.
struct Meter {
    to_lonlat: Reprojector,
    geog: Crs,
    seg: f64,
}

impl Meter {
    fn new(ops: &Crs) -> Result<Meter> {
        let geog = srs::geographic_of(ops)?;
        Ok(Meter {
            to_lonlat: Reprojector::new(ops, &geog)?,
            seg: segment_length(ops, 1000.0),
            geog,
        })
    }

    /// Geodesic area (m²) of a multipolygon in the ops CRS, edges densified
    /// to 1 km first.
    fn area(&self, mp: &MultiPolygon<f64>) -> Result<f64> {
        if mp.0.is_empty() {
            return Ok(0.0);
        }
        let ll = self.to_lonlat.multipolygon(&srs::densify(mp, self.seg))?;
        Ok(self.geog.ellipsoid.multipolygon_area(&ll))
    }
}

/// The projected CRS polygon operations run in: the old layer's if it is
/// projected, else the new one's, else a Lambert azimuthal equal-area CRS
/// centred on the data (on the old layer's ellipsoid).
fn ops_crs(old: &ZoneLayer, new: &ZoneLayer) -> Result<Crs> {
    if !old.crs.geographic {
        return Ok(old.crs.clone());
    }
    if !new.crs.geographic {
        return Ok(new.crs.clone());
    }
    let bbox = old
        .zones
        .iter()
        .chain(&new.zones)
        .filter_map(|z| z.geometry.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })
        .ok_or_else(|| Error::zones(&old.path, "has no geometry"))?;
    let c = bbox.center();
    let e = old.crs.ellipsoid;
    let mut crs = srs::crs_from_user_input(&format!(
        "+proj=laea +lat_0={} +lon_0={} +x_0=0 +y_0=0 +a={} +rf={} +units=m +no_defs",
        c.y,
        c.x,
        e.a,
        1.0 / e.f
    ))?;
    crs.label = format!(
        "Lambert azimuthal equal-area centred on {:.4}°N {:.4}°E",
        c.y, c.x
    );
    Ok(crs)
}

/// Polygons oriented the way boolean operations expect.
fn oriented(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    mp.orient(Direction::Default)
}

fn union_of(parts: &[MultiPolygon<f64>]) -> MultiPolygon<f64> {
    let polys: Vec<&Polygon<f64>> = parts.iter().flat_map(|m| m.0.iter()).collect();
    if polys.is_empty() {
        return MultiPolygon(vec![]);
    }
    unary_union(polys)
}

/// Compares two versions of a red-line layer (polygons matched by id).
///
/// Areas are ellipsoidal (Karney) on the old layer's datum, whatever the
/// CRS each file came in; polygon operations run in one projected CRS
/// (see [`RedlineDiff::ops_crs`]), the other layer reprojected into it
/// after densifying its edges to 10 m.
pub fn redline_diff(
    old: &ZoneLayer,
    new: &ZoneLayer,
    towns: Option<&ZoneLayer>,
    opts: &DiffOptions,
) -> Result<RedlineDiff> {
    non_negative(opts.tolerance_m2, "the tolerance (--tolerance-m2)")?;
    let ops = ops_crs(old, new)?;
    let meter = Meter::new(&ops)?;
    let project = |layer: &ZoneLayer| -> Result<Vec<MultiPolygon<f64>>> {
        Ok(layer
            .project(&ops, Some(segment_length(&layer.crs, 10.0)))?
            .iter()
            .map(oriented)
            .collect())
    };
    let old_g = project(old)?;
    let new_g = project(new)?;
    let union_old = union_of(&old_g);
    let union_new = union_of(&new_g);
    let lost_union = union_old.difference(&union_new);
    let gained_union = union_new.difference(&union_old);
    let tol = opts.tolerance_m2;

    let old_total = meter.area(&union_old)?;
    let new_total = meter.area(&union_new)?;
    let lost = meter.area(&lost_union)?;
    let gained = meter.area(&gained_union)?;

    let new_index: HashMap<&str, usize> = new
        .zones
        .iter()
        .enumerate()
        .map(|(i, z)| (z.id.as_str(), i))
        .collect();
    let old_index: HashMap<&str, usize> = old
        .zones
        .iter()
        .enumerate()
        .map(|(i, z)| (z.id.as_str(), i))
        .collect();
    let mut polygons = Vec::new();
    let mut lost_pieces = Vec::new();
    for (i, z) in old.zones.iter().enumerate() {
        let old_m2 = meter.area(&old_g[i])?;
        // Parts no larger than the tolerance are reprojection slivers.
        let mut parts = Vec::new();
        for part in old_g[i].difference(&union_new).0 {
            if meter.area(&MultiPolygon(vec![part.clone()]))? > tol {
                parts.push(part);
            }
        }
        if !parts.is_empty() {
            lost_pieces.push((z.id.clone(), MultiPolygon(parts)));
        }
        let d = match new_index.get(z.id.as_str()) {
            None => PolygonDiff {
                id: z.id.clone(),
                name: z.name.clone(),
                old_m2,
                new_m2: 0.0,
                delta_m2: -old_m2,
                lost_m2: old_m2,
                gained_m2: 0.0,
                status: PolygonStatus::Removed,
            },
            Some(&j) => {
                let new_m2 = meter.area(&new_g[j])?;
                let lost_m2 = meter.area(&old_g[i].difference(&new_g[j]))?;
                let gained_m2 = meter.area(&new_g[j].difference(&old_g[i]))?;
                let delta = new_m2 - old_m2;
                let status = if lost_m2 <= tol && gained_m2 <= tol {
                    PolygonStatus::Unchanged
                } else if delta > tol {
                    PolygonStatus::Grown
                } else if delta < -tol {
                    PolygonStatus::Shrunk
                } else {
                    PolygonStatus::Reshaped
                };
                PolygonDiff {
                    id: z.id.clone(),
                    name: new.zones[j].name.clone().or_else(|| z.name.clone()),
                    old_m2,
                    new_m2,
                    delta_m2: delta,
                    lost_m2,
                    gained_m2,
                    status,
                }
            }
        };
        polygons.push(d);
    }
    let mut gained_pieces = Vec::new();
    for (j, z) in new.zones.iter().enumerate() {
        let mut parts = Vec::new();
        for part in new_g[j].difference(&union_old).0 {
            if meter.area(&MultiPolygon(vec![part.clone()]))? > tol {
                parts.push(part);
            }
        }
        if !parts.is_empty() {
            gained_pieces.push((z.id.clone(), MultiPolygon(parts)));
        }
        if old_index.contains_key(z.id.as_str()) {
            continue;
        }
        let new_m2 = meter.area(&new_g[j])?;
        polygons.push(PolygonDiff {
            id: z.id.clone(),
            name: z.name.clone(),
            old_m2: 0.0,
            new_m2,
            delta_m2: new_m2,
            lost_m2: 0.0,
            gained_m2: new_m2,
            status: PolygonStatus::Added,
        });
    }

    let mut town_rows = Vec::new();
    if let Some(t) = towns {
        let tg = project(t)?;
        for (k, town) in t.zones.iter().enumerate() {
            let old_m2 = meter.area(&union_old.intersection(&tg[k]))?;
            let new_m2 = meter.area(&union_new.intersection(&tg[k]))?;
            town_rows.push(TownDiff {
                id: town.id.clone(),
                name: town.name.clone(),
                old_m2,
                new_m2,
                delta_m2: new_m2 - old_m2,
                lost_m2: meter.area(&lost_union.intersection(&tg[k]))?,
                gained_m2: meter.area(&gained_union.intersection(&tg[k]))?,
                shrunk: new_m2 < old_m2 - tol,
            });
        }
    }

    let shrunk = new_total < old_total - tol;
    let failed = shrunk || (opts.strict && lost > tol);
    let mut id_warnings = Vec::new();
    if !old
        .zones
        .iter()
        .any(|z| new_index.contains_key(z.id.as_str()))
    {
        id_warnings.push(format!(
            "no red-line id of {} is in {}: every polygon counts as removed or added; match by an attribute with --id-field",
            old.path.display(),
            new.path.display()
        ));
    }
    let info = |l: &ZoneLayer| LayerInfo {
        path: l.path.display().to_string(),
        crs: l.crs.label.clone(),
        features: l.zones.len(),
    };
    let mut warnings: Vec<String> = old.repairs.iter().chain(&new.repairs).cloned().collect();
    if let Some(t) = towns {
        warnings.extend(t.repairs.iter().cloned());
    }
    warnings.extend(id_warnings);
    Ok(RedlineDiff {
        schema: REDLINE_SCHEMA.to_string(),
        kind: "diff".to_string(),
        old: info(old),
        new: info(new),
        ops_crs: ops.label.clone(),
        tolerance_m2: tol,
        strict: opts.strict,
        old_total_m2: old_total,
        new_total_m2: new_total,
        delta_m2: new_total - old_total,
        lost_m2: lost,
        gained_m2: gained,
        shrunk,
        failed,
        polygons,
        towns: town_rows,
        lost_pieces,
        gained_pieces,
        ops: Some(ops),
        warnings,
    })
}

// ------------------------------------------------------------------ check

/// Limits of [`redline_check`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckLimits {
    /// Largest natural → artificial conversion allowed inside one red-line
    /// polygon (m²; default 0).
    pub max_conversion_m2: f64,
    /// Largest allowed drop of the vegetated share (forest + shrub +
    /// grassland over the valid area), as a fraction (0.01 = one
    /// percentage point; default 0).
    pub max_vegetation_loss: f64,
}

impl CheckLimits {
    /// Both limits must be numbers ≥ 0.
    fn validate(&self) -> Result<()> {
        non_negative(
            self.max_conversion_m2,
            "the conversion limit (--max-conversion-m2)",
        )?;
        non_negative(
            self.max_vegetation_loss,
            "the vegetation-loss limit (--max-vegetation-loss)",
        )
    }
}

impl Default for CheckLimits {
    fn default() -> Self {
        CheckLimits {
            max_conversion_m2: 0.0,
            max_vegetation_loss: 0.0,
        }
    }
}

/// Area converted from one natural class to one artificial class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    /// Class before.
    pub from: ClassCode,
    /// Its name.
    pub from_name: String,
    /// Class after.
    pub to: ClassCode,
    /// Its name.
    pub to_name: String,
    /// Area (m²).
    pub area_m2: f64,
}

/// Nature and function of one red-line polygon between two dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolygonCheck {
    /// Red-line id.
    pub id: ZoneId,
    /// Name.
    pub name: Option<String>,
    /// Area valid in both dates.
    pub valid_area_m2: f64,
    /// Area nodata in either date.
    pub nodata_area_m2: f64,
    /// Total natural → artificial conversion.
    pub conversion_m2: f64,
    /// Conversions by type, largest first.
    pub conversions: Vec<Conversion>,
    /// Vegetated area before.
    pub vegetated_before_m2: f64,
    /// Vegetated area after.
    pub vegetated_after_m2: f64,
    /// Vegetated share before.
    pub vegetated_share_before: Option<f64>,
    /// Vegetated share after.
    pub vegetated_share_after: Option<f64>,
    /// `share before − share after` (positive = function lowered).
    pub vegetated_share_drop: Option<f64>,
    /// Conversion within the limit.
    pub nature_ok: bool,
    /// Vegetated share drop within the limit.
    pub function_ok: bool,
    /// What is wrong, in words, with the amounts.
    pub violations: Vec<String>,
}

/// Result of [`redline_check`] (`qingshan.redline/1`, `kind: "check"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedlineCheck {
    /// Always [`REDLINE_SCHEMA`].
    pub schema: String,
    /// Always `check`.
    pub kind: String,
    /// Legend name.
    pub legend: String,
    /// CRS of the land cover.
    pub crs: String,
    /// The limits applied.
    pub limits: CheckLimits,
    /// Per red-line polygon.
    pub polygons: Vec<PolygonCheck>,
    /// Number of polygons that violate a limit.
    pub violations: usize,
    /// No polygon violates a limit.
    pub ok: bool,
    /// Things the user should know.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Nature and function per red-line polygon from a change report of the
/// red lines (see [`redline_check`]).
pub fn check_from_change(
    change: &ChangeReport,
    legend: &Legend,
    limits: &CheckLimits,
) -> RedlineCheck {
    let polygons: Vec<PolygonCheck> = change
        .zones
        .iter()
        .map(|z| {
            let mut conversions = Vec::new();
            let (mut vb, mut va) = (0.0, 0.0);
            for (from, row) in &z.transitions {
                for (to, &a) in row {
                    if legend.is_vegetated(*from) {
                        vb += a;
                    }
                    if legend.is_vegetated(*to) {
                        va += a;
                    }
                    if legend.is_natural(*from) && legend.is_artificial(*to) {
                        conversions.push(Conversion {
                            from: *from,
                            from_name: legend.name_of(*from),
                            to: *to,
                            to_name: legend.name_of(*to),
                            area_m2: a,
                        });
                    }
                }
            }
            conversions.sort_by(|a, b| b.area_m2.total_cmp(&a.area_m2).then(a.from.cmp(&b.from)).then(a.to.cmp(&b.to)));
            let conversion_m2 = crate::area::sum_m2(conversions.iter().map(|c| c.area_m2));
            let valid = z.valid_area_m2;
            let (sb, sa) = ((valid > 0.0).then(|| vb / valid), (valid > 0.0).then(|| va / valid));
            let drop = sb.zip(sa).map(|(b, a)| b - a);
            let nature_ok = conversion_m2 <= limits.max_conversion_m2;
            let function_ok = drop.is_none_or(|d| d <= limits.max_vegetation_loss);
            let mut violations = Vec::new();
            if !nature_ok {
                // (No conversion at all can still miss a limit below 0.)
                let largest = conversions.first().map_or(String::new(), |c| {
                    format!("; largest: {} → {} {:.1} m²", c.from_name, c.to_name, c.area_m2)
                });
                violations.push(format!(
                    "nature changed: {:.1} m² ({:.2} mu) converted from natural to artificial land, limit {} m²{largest}",
                    conversion_m2,
                    conversion_m2 / crate::area::M2_PER_MU,
                    limits.max_conversion_m2,
                ));
            }
            if !function_ok && let Some(d) = drop {
                violations.push(format!(
                    "function lowered: vegetated share fell by {:.3} percentage points ({:.2} % → {:.2} %), limit {:.3}",
                    100.0 * d,
                    100.0 * sb.unwrap_or(0.0),
                    100.0 * sa.unwrap_or(0.0),
                    100.0 * limits.max_vegetation_loss
                ));
            }
            PolygonCheck {
                id: z.id.clone(),
                name: z.name.clone(),
                valid_area_m2: valid,
                nodata_area_m2: z.nodata_area_m2,
                conversion_m2,
                conversions,
                vegetated_before_m2: vb,
                vegetated_after_m2: va,
                vegetated_share_before: sb,
                vegetated_share_after: sa,
                vegetated_share_drop: drop,
                nature_ok,
                function_ok,
                violations,
            }
        })
        .collect();
    let violations = polygons.iter().filter(|p| !p.violations.is_empty()).count();
    RedlineCheck {
        schema: REDLINE_SCHEMA.to_string(),
        kind: "check".to_string(),
        legend: change.legend.clone(),
        crs: change.crs.clone(),
        limits: *limits,
        polygons,
        violations,
        ok: violations == 0,
        warnings: change.warnings.clone(),
    }
}

/// Checks nature (no natural → artificial conversion beyond the limit)
/// and function (vegetated share not lowered beyond the limit) inside each
/// red-line polygon between two dates of land cover.
pub fn redline_check(
    before: &LandCover,
    after: &LandCover,
    redlines: &ZoneLayer,
    legend: &Legend,
    limits: &CheckLimits,
    opts: &RunOptions<'_>,
) -> Result<RedlineCheck> {
    limits.validate()?;
    let change = land_cover_change(before, after, redlines, legend, opts, None)?;
    Ok(check_from_change(&change, legend, limits))
}

/// [`redline_check`] and [`conversion_patches`] from one pass over the two
/// dates (the check's numbers are the same). Needs one raster per date.
pub fn redline_check_with_patches(
    before: &LandCover,
    after: &LandCover,
    redlines: &ZoneLayer,
    legend: &Legend,
    limits: &CheckLimits,
    opts: &RunOptions<'_>,
    scratch_dir: &Path,
) -> Result<(RedlineCheck, Crs, Vec<Patch>)> {
    limits.validate()?;
    let (change, crs, patches) =
        change_and_patches(before, after, redlines, legend, opts, scratch_dir)?;
    Ok((check_from_change(&change, legend, limits), crs, patches))
}

/// One connected patch of natural → artificial conversion inside a red
/// line, for an inspector to visit.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    /// Red-line polygon id.
    pub redline_id: ZoneId,
    /// Class before.
    pub from: ClassCode,
    /// Class after.
    pub to: ClassCode,
    /// Area inside the red line (m²).
    pub area_m2: f64,
    /// The patch clipped to the red line, in the land cover's CRS.
    pub geometry: MultiPolygon<f64>,
}

/// Outlines connected patches (8-connected cells of one conversion type)
/// of natural → artificial conversion inside the red lines, with GDAL's
/// polygonize on a conversion mask. Needs one raster per date.
pub fn conversion_patches(
    before: &LandCover,
    after: &LandCover,
    redlines: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
    scratch_dir: &Path,
) -> Result<(Crs, Vec<Patch>)> {
    let (_, crs, patches) = change_and_patches(before, after, redlines, legend, opts, scratch_dir)?;
    Ok((crs, patches))
}

/// The red lines' transitions and conversion patches from one pass (the
/// conversion mask is written to `scratch_dir` and removed).
fn change_and_patches(
    before: &LandCover,
    after: &LandCover,
    redlines: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
    scratch_dir: &Path,
) -> Result<(ChangeReport, Crs, Vec<Patch>)> {
    let coding = TransitionCoding::for_legend(legend);
    let mask = ScratchFile::in_dir(scratch_dir, "patches", ".tif")?;
    let sink = ConversionMask { coding, legend };
    let change = change_with_raster(
        before,
        after,
        redlines,
        legend,
        opts,
        Some(RasterOut {
            path: mask.path(),
            sink: &sink,
        }),
    )?;
    let crs = before.crs().clone();
    let shapes = crate::raster::polygonize(mask.path())?;
    drop(mask);
    let geoms = redlines.project(&crs, Some(segment_length(&redlines.crs, 10.0)))?;
    let geoms: Vec<MultiPolygon<f64>> = geoms.iter().map(oriented).collect();
    // Areas like the change's: planar for a projected raster, on the
    // ellipsoid for a lon/lat one.
    let measure = |mp: &MultiPolygon<f64>| -> f64 {
        if crs.geographic {
            crs.ellipsoid.multipolygon_area(&srs::densify(mp, 1e-4))
        } else {
            use geo::Area;
            mp.unsigned_area() * crs.linear_unit_m * crs.linear_unit_m
        }
    };
    let boxes: Vec<Option<geo::Rect<f64>>> = geoms.iter().map(|g| g.bounding_rect()).collect();
    let mut patches = Vec::new();
    for (code, shape) in shapes {
        let shape = oriented(&shape);
        let Some(sb) = shape.bounding_rect() else {
            continue;
        };
        let (from, to) = (code / coding.factor, code % coding.factor);
        for (k, g) in geoms.iter().enumerate() {
            let Some(b) = boxes[k] else { continue };
            if b.max().x <= sb.min().x
                || b.min().x >= sb.max().x
                || b.max().y <= sb.min().y
                || b.min().y >= sb.max().y
            {
                continue;
            }
            let piece = shape.intersection(g);
            let area = measure(&piece);
            if area > 0.0 {
                patches.push(Patch {
                    redline_id: redlines.zones[k].id.clone(),
                    from,
                    to,
                    area_m2: area,
                    geometry: piece,
                });
            }
        }
    }
    patches.sort_by(|a, b| {
        a.redline_id
            .cmp(&b.redline_id)
            .then(b.area_m2.total_cmp(&a.area_m2))
            .then(a.from.cmp(&b.from))
            .then(a.to.cmp(&b.to))
    });
    Ok((change, crs, patches))
}

/// The natural → artificial conversion mask the change pass writes for
/// [`conversion_patches`]: inside the red lines, each converted cell's
/// transition code ([`TransitionCoding`]); 0 for every other cell, so the
/// sparse raster stores only blocks that meet a red line.
struct ConversionMask<'a> {
    coding: TransitionCoding,
    legend: &'a Legend,
}

impl CellSink for ConversionMask<'_> {
    fn everywhere(&self) -> bool {
        false
    }

    fn code(&self, from: Option<ClassCode>, to: Option<ClassCode>) -> u64 {
        match (from, to) {
            (Some(f), Some(t)) if self.legend.is_natural(f) && self.legend.is_artificial(t) => {
                self.coding.code(f, t)
            }
            _ => 0,
        }
    }

    fn cell_type(&self) -> crate::raster::PixelType {
        self.coding.cell_type()
    }

    fn describe(&self) -> SinkRaster {
        let (metadata, colors) = self.coding.raster_legend(self.legend);
        SinkRaster {
            nodata: 0.0,
            description: self.coding.description(),
            metadata,
            colors,
        }
    }
}
