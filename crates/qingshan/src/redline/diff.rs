//! Two versions of the red-line layer: totals of their unions, the area
//! lost and gained, per polygon (matched by id) whether it is unchanged,
//! grown, shrunk, reshaped, removed or added, and per town.
//!
//! Invariant: every area is ellipsoidal (Karney, on the old layer's datum)
//! and comes from polygon differences of the layers themselves, whatever
//! CRS each file came in; a layer in another CRS is carried into the
//! comparison CRS vertex by vertex, so two layers that differ only by a
//! reprojection are the same red line (every polygon `unchanged`).

use std::collections::HashMap;

use geo::{BooleanOps, BoundingRect, MultiPolygon, Polygon, unary_union};
use serde::{Deserialize, Serialize};

use super::{REDLINE_SCHEMA, non_negative, oriented};
use crate::area::AreaMode;
use crate::grid::Crs;
use crate::srs::{self, Reprojector};
use crate::zones::{IdScheme, ZoneId, ZoneLayer, segment_length};
use crate::{Error, Result};

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
    /// CRS the polygon operations ran in (and planar areas are measured in).
    pub ops_crs: String,
    /// How areas were measured: on the ellipsoid, or planar in `ops_crs`
    /// (documents without it were ellipsoidal).
    #[serde(default)]
    pub area: AreaMode,
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
    /// Ellipsoidal (default) or planar areas (in the operations CRS).
    pub area: AreaMode,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            tolerance_m2: 1.0,
            strict: false,
            area: AreaMode::Ellipsoidal,
        }
    }
}

/// Measures areas of polygons given in a projected CRS: ellipsoidal, or
/// planar in that CRS.
struct Meter {
    to_lonlat: Reprojector,
    geog: Crs,
    seg: f64,
    /// `Some(m² per unit²)` for planar areas.
    planar: Option<f64>,
}

impl Meter {
    fn new(ops: &Crs, mode: AreaMode) -> Result<Meter> {
        let geog = srs::geographic_of(ops)?;
        Ok(Meter {
            to_lonlat: Reprojector::new(ops, &geog)?,
            seg: segment_length(ops, 1000.0),
            geog,
            planar: (mode == AreaMode::Planar).then(|| ops.linear_unit_m.powi(2)),
        })
    }

    /// Area (m²) of a multipolygon in the ops CRS: geodesic, edges
    /// densified to 1 km first, or planar.
    fn area(&self, mp: &MultiPolygon<f64>) -> Result<f64> {
        if mp.0.is_empty() {
            return Ok(0.0);
        }
        if let Some(unit2) = self.planar {
            return Ok(geo::Area::unsigned_area(mp) * unit2);
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

fn union_of(parts: &[MultiPolygon<f64>]) -> MultiPolygon<f64> {
    let polys: Vec<&Polygon<f64>> = parts.iter().flat_map(|m| m.0.iter()).collect();
    if polys.is_empty() {
        return MultiPolygon(vec![]);
    }
    unary_union(polys)
}

/// Both layers in the ops CRS, their unions and the union differences.
struct Projected {
    old: Vec<MultiPolygon<f64>>,
    new: Vec<MultiPolygon<f64>>,
    union_old: MultiPolygon<f64>,
    union_new: MultiPolygon<f64>,
    lost: MultiPolygon<f64>,
    gained: MultiPolygon<f64>,
}

/// `layer` in the ops CRS, vertex by vertex (edges straight in the ops
/// CRS, as ogr2ogr, QGIS or geopandas reproject), oriented for boolean
/// operations. Densifying the edges first would bend a reprojected copy's
/// edges away from the original's, and a red line re-delivered in another
/// CRS would show lost and gained slivers all along its boundary.
fn project(layer: &ZoneLayer, ops: &Crs) -> Result<Vec<MultiPolygon<f64>>> {
    Ok(layer.project(ops, None)?.iter().map(oriented).collect())
}

impl Projected {
    fn new(old: &ZoneLayer, new: &ZoneLayer, ops: &Crs) -> Result<Projected> {
        let (old, new) = (project(old, ops)?, project(new, ops)?);
        let union_old = union_of(&old);
        let union_new = union_of(&new);
        let lost = union_old.difference(&union_new);
        let gained = union_new.difference(&union_old);
        Ok(Projected {
            old,
            new,
            union_old,
            union_new,
            lost,
            gained,
        })
    }
}

/// The parts of `mp` outside every polygon of `others` larger than the
/// tolerance (smaller ones are reprojection slivers). Only the polygons
/// whose bounding boxes meet `mp`'s can take anything from it, so only
/// they are overlaid (the whole other layer's union would cost an overlay
/// of every vertex of the layer per polygon).
fn pieces(
    mp: &MultiPolygon<f64>,
    others: &[MultiPolygon<f64>],
    meter: &Meter,
    tol: f64,
) -> Result<Vec<Polygon<f64>>> {
    let Some(b) = mp.bounding_rect() else {
        return Ok(Vec::new());
    };
    let near: Vec<&Polygon<f64>> = others
        .iter()
        .filter(|o| {
            o.bounding_rect().is_some_and(|c| {
                c.min().x <= b.max().x
                    && c.max().x >= b.min().x
                    && c.min().y <= b.max().y
                    && c.max().y >= b.min().y
            })
        })
        .flat_map(|o| o.0.iter())
        .collect();
    let outside = match near.is_empty() {
        true => mp.clone(),
        false => mp.difference(&unary_union(near)),
    };
    let mut parts = Vec::new();
    for part in outside.0 {
        if meter.area(&MultiPolygon(vec![part.clone()]))? > tol {
            parts.push(part);
        }
    }
    Ok(parts)
}

/// Polygon `i` of the old layer against the new polygon with its id (if
/// any).
fn old_polygon(
    (old, new): (&ZoneLayer, &ZoneLayer),
    g: &Projected,
    (i, j): (usize, Option<usize>),
    meter: &Meter,
    tol: f64,
) -> Result<PolygonDiff> {
    let z = &old.zones[i];
    let old_m2 = meter.area(&g.old[i])?;
    let Some(j) = j else {
        return Ok(PolygonDiff {
            id: z.id.clone(),
            name: z.name.clone(),
            old_m2,
            new_m2: 0.0,
            delta_m2: -old_m2,
            lost_m2: old_m2,
            gained_m2: 0.0,
            status: PolygonStatus::Removed,
        });
    };
    let new_m2 = meter.area(&g.new[j])?;
    let lost_m2 = meter.area(&g.old[i].difference(&g.new[j]))?;
    let gained_m2 = meter.area(&g.new[j].difference(&g.old[i]))?;
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
    Ok(PolygonDiff {
        id: z.id.clone(),
        name: new.zones[j].name.clone().or_else(|| z.name.clone()),
        old_m2,
        new_m2,
        delta_m2: delta,
        lost_m2,
        gained_m2,
        status,
    })
}

/// Red-line totals inside each town.
fn town_diffs(
    towns: &ZoneLayer,
    g: &Projected,
    ops: &Crs,
    meter: &Meter,
    tol: f64,
) -> Result<Vec<TownDiff>> {
    let tg = project(towns, ops)?;
    let mut rows = Vec::new();
    for (k, town) in towns.zones.iter().enumerate() {
        let old_m2 = meter.area(&g.union_old.intersection(&tg[k]))?;
        let new_m2 = meter.area(&g.union_new.intersection(&tg[k]))?;
        rows.push(TownDiff {
            id: town.id.clone(),
            name: town.name.clone(),
            old_m2,
            new_m2,
            delta_m2: new_m2 - old_m2,
            lost_m2: meter.area(&g.lost.intersection(&tg[k]))?,
            gained_m2: meter.area(&g.gained.intersection(&tg[k]))?,
            shrunk: new_m2 < old_m2 - tol,
        });
    }
    Ok(rows)
}

/// Compares two versions of a red-line layer (polygons matched by id).
///
/// Areas are ellipsoidal (Karney) on the old layer's datum, whatever the
/// CRS each file came in; polygon operations run in one projected CRS
/// (see [`RedlineDiff::ops_crs`]), a layer in another CRS reprojected into
/// it vertex by vertex — so two layers that differ only by a reprojection
/// compare as unchanged, polygon by polygon, in both directions.
pub fn redline_diff(
    old: &ZoneLayer,
    new: &ZoneLayer,
    towns: Option<&ZoneLayer>,
    opts: &DiffOptions,
) -> Result<RedlineDiff> {
    non_negative(opts.tolerance_m2, "the tolerance (--tolerance-m2)")?;
    if old.ids != new.ids
        && !matches!(old.ids, IdScheme::Field(_))
        && !matches!(new.ids, IdScheme::Field(_))
    {
        return Err(Error::zones(
            &new.path,
            format!(
                "its red lines are numbered by {}, those of {} by {}: the numbers do not name the same red lines; pass --id-field with an attribute both layers hold (such as hx_id)",
                new.ids,
                old.path.display(),
                old.ids
            ),
        ));
    }
    let tol = opts.tolerance_m2;
    let ops = ops_crs(old, new)?;
    let info = |l: &ZoneLayer| LayerInfo {
        path: l.path.display().to_string(),
        crs: l.crs.label.clone(),
        features: l.zones.len(),
    };
    let (old_info, new_info) = (info(old), info(new));
    let (old, new, precision_note) = super::precision::align(old, new)?;
    let (old, new) = (old.as_ref(), new.as_ref());
    let meter = Meter::new(&ops, opts.area)?;
    let g = Projected::new(old, new, &ops)?;
    let old_total = meter.area(&g.union_old)?;
    let new_total = meter.area(&g.union_new)?;
    let lost = meter.area(&g.lost)?;
    let gained = meter.area(&g.gained)?;

    let index = |l: &ZoneLayer| -> HashMap<String, usize> {
        l.zones
            .iter()
            .enumerate()
            .map(|(i, z)| (z.id.clone(), i))
            .collect()
    };
    let (old_index, new_index) = (index(old), index(new));
    let mut polygons = Vec::new();
    let mut lost_pieces = Vec::new();
    for (i, z) in old.zones.iter().enumerate() {
        let parts = pieces(&g.old[i], &g.new, &meter, tol)?;
        if !parts.is_empty() {
            lost_pieces.push((z.id.clone(), MultiPolygon(parts)));
        }
        let j = new_index.get(&z.id).copied();
        polygons.push(old_polygon((old, new), &g, (i, j), &meter, tol)?);
    }
    let mut gained_pieces = Vec::new();
    for (j, z) in new.zones.iter().enumerate() {
        let parts = pieces(&g.new[j], &g.old, &meter, tol)?;
        if !parts.is_empty() {
            gained_pieces.push((z.id.clone(), MultiPolygon(parts)));
        }
        if old_index.contains_key(&z.id) {
            continue;
        }
        let new_m2 = meter.area(&g.new[j])?;
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
    let town_rows = match towns {
        Some(t) => town_diffs(t, &g, &ops, &meter, tol)?,
        None => Vec::new(),
    };

    let shrunk = new_total < old_total - tol;
    let failed = shrunk || (opts.strict && lost > tol);
    let mut warnings: Vec<String> = old.repairs.iter().chain(&new.repairs).cloned().collect();
    if let Some(t) = towns {
        warnings.extend(t.repairs.iter().cloned());
    }
    if !old.zones.iter().any(|z| new_index.contains_key(&z.id)) {
        warnings.push(format!(
            "no red-line id of {} is in {}: every polygon counts as removed or added; match by an attribute with --id-field",
            old.path.display(),
            new.path.display()
        ));
    }
    warnings.extend(precision_note);
    Ok(RedlineDiff {
        schema: REDLINE_SCHEMA.to_string(),
        kind: "diff".to_string(),
        old: old_info,
        new: new_info,
        ops_crs: ops.label.clone(),
        area: opts.area,
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
