//! The synthetic third-national-land-survey layer (三调 DLTB) of both towns,
//! in a 2019 and a 2024 version.
//!
//! A wiggly lattice of ≈ 150 m cells ([`Lattice`]) covers the towns'
//! bounding rectangle; each cell takes a survey class from the year's land
//! cover ([`cell_class`]); the polygons are the 4-connected cells of one
//! class, cut into lattice blocks where they would exceed
//! [`MAX_VERTICES`]. Invariant: each version is a planar partition of the
//! rectangle (no gap, no overlap, shared boundaries coordinate for
//! coordinate), and a 2024 polygon with the same cells and class as a 2019
//! one has the same geometry and keeps its `BSM`.

use std::collections::HashMap;

use geo::{Centroid, Contains, LineString, Polygon};
use rayon::prelude::*;

use crate::ellipsoid::EllipsoidArea;
use crate::error::{Error, Result};
use crate::geom::Town;
use crate::landscape::{CENTRE, classes_cloudless, terrain};
use crate::landuse_codes::{CLASSES, cell_class, is_cropland};
use crate::landuse_lattice::{Lattice, Rings, parts, ring_area2, vertex_count};
use crate::noise::splitmix64;
use crate::terrain_io::dem_slope;
use crate::vector_io::Prop;

/// Target cell size of the survey lattice (m).
const CELL: f64 = 180.0;
/// Most vertices a polygon may have before it is cut into lattice blocks.
pub(crate) const MAX_VERTICES: usize = 2000;
/// First block size (cells) for cutting large polygons (halved as needed).
const BLOCK: usize = 16;
/// County code in front of every BSM (Yintai District).
const BSM_PREFIX: &str = "610203";

/// Synthetic ridge (田坎) deduction coefficients of cropland by slope grade
/// of the DEM at the polygon's centroid: (upper bound of the grade as tan
/// of the slope, grade, coefficient). Not an official table.
pub(crate) const RIDGE_TABLE: [(f64, &str, f64); 5] = [
    (0.034_920_769_491_747_73, "I (≤ 2°)", 0.0),
    (0.105_104_235_265_676_47, "II (2–6°)", 0.032),
    (0.267_949_192_431_122_7, "III (6–15°)", 0.080),
    (0.466_307_658_154_998_6, "IV (15–25°)", 0.136),
    (f64::INFINITY, "V (> 25°)", 0.183),
];

/// The survey lattice over the towns' bounding rectangle.
pub(crate) fn demo_lattice(towns: &[Town]) -> Lattice {
    let mut r = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for t in towns {
        for p in &t.geom.0 {
            for c in &p.exterior().0 {
                r = (r.0.min(c.x), r.1.max(c.x), r.2.min(c.y), r.3.max(c.y));
            }
        }
    }
    Lattice {
        rect: r,
        nx: ((r.1 - r.0) / CELL).round() as usize,
        ny: ((r.3 - r.2) / CELL).round() as usize,
        seed: 0x0D17_B000,
        jitter: 0.3,
        amp: 0.6,
        points: |h| 3 + (h % 2) as usize,
        densify_sides: false,
    }
}

/// The survey class of every cell, for 2019 and for 2024.
pub(crate) fn cell_classes(lat: &Lattice) -> [Vec<u8>; 2] {
    let both: Vec<(u8, u8)> = (0..lat.nx * lat.ny)
        .into_par_iter()
        .map(|c| {
            let (i, j) = lat.ij(c);
            let mut counts = [[0u8; 10]; 2];
            for a in 0..5 {
                for b in 0..5 {
                    let q = lat.cell_point(i, j, (a as f64 + 0.5) / 5.0, (b as f64 + 0.5) / 5.0);
                    let (c19, c24) = classes_cloudless((q.x - CENTRE.0, q.y - CENTRE.1));
                    counts[0][c19 as usize] += 1;
                    counts[1][c24 as usize] += 1;
                }
            }
            let m = lat.centre(i, j);
            let p = (m.x - CENTRE.0, m.y - CENTRE.1);
            let t = terrain(p);
            let hash = splitmix64(0x00CE_1100 ^ c as u64);
            (
                cell_class(p, &t, &counts[0], hash),
                cell_class(p, &t, &counts[1], hash),
            )
        })
        .collect();
    [
        both.iter().map(|c| c.0).collect(),
        both.iter().map(|c| c.1).collect(),
    ]
}

/// One polygon of a survey version.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parcel {
    /// Index into [`CLASSES`].
    pub class: u8,
    /// Its lattice cells, sorted.
    pub cells: Vec<usize>,
    /// Exterior ring first (counter-clockwise), then holes.
    pub rings: Rings,
}

/// Traces a cell set; if it has more than [`MAX_VERTICES`] vertices, cuts
/// it along the lines of a `block`-cell grid (then half that, …).
fn split(lat: &Lattice, class: u8, cells: Vec<usize>, block: usize) -> Result<Vec<Parcel>> {
    let inside = |i: usize, j: usize| cells.binary_search(&lat.cell(i, j)).is_ok();
    let rings = lat.trace(&cells, &inside)?;
    if vertex_count(&rings) <= MAX_VERTICES || block == 0 {
        return Ok(vec![Parcel {
            class,
            cells,
            rings,
        }]);
    }
    let key = |c: usize| {
        let (i, j) = lat.ij(c);
        (((i / block) as u64) << 32) | (j / block) as u64
    };
    let mut out = Vec::new();
    for part in parts(lat, &cells, &key) {
        out.extend(split(lat, class, part, block / 2)?);
    }
    Ok(out)
}

/// The polygons of one version: 4-connected cells of one class (cut into
/// blocks where large), ordered by their first cell (from the south-west
/// corner, row by row); and how many such cell sets had to be cut.
pub(crate) fn parcels(lat: &Lattice, classes: &[u8]) -> Result<(Vec<Parcel>, usize)> {
    let all: Vec<usize> = (0..lat.nx * lat.ny).collect();
    let comps = parts(lat, &all, &|c| u64::from(classes[c]));
    let nested: Vec<Vec<Parcel>> = comps
        .into_par_iter()
        .map(|cells| split(lat, classes[cells[0]], cells, BLOCK))
        .collect::<Result<_>>()?;
    let cut = nested.iter().filter(|v| v.len() > 1).count();
    let mut out: Vec<Parcel> = nested.into_iter().flatten().collect();
    out.sort_by_key(|p| p.cells[0]);
    check_partition(lat, &out)?;
    Ok((out, cut))
}

/// The polygons' planar areas add up to the rectangle's.
fn check_partition(lat: &Lattice, parcels: &[Parcel]) -> Result<()> {
    let (x0, x1, y0, y1) = lat.rect;
    let rect = (x1 - x0) * (y1 - y0);
    let sum: f64 = parcels
        .iter()
        .flat_map(|p| p.rings.iter())
        .map(|r| ring_area2(r) / 2.0)
        .sum();
    if (sum - rect).abs() > 1e-9 * rect {
        return Err(Error::Geometry(format!(
            "survey polygons cover {sum} m², the rectangle {rect} m²"
        )));
    }
    Ok(())
}

/// Rounds to 0.01 (m², as TBMJ is recorded).
pub(crate) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The attributes of one polygon (the DLTB fields that are not its class).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attrs {
    pub bsm: String,
    pub tbbh: String,
    /// Code of the town containing the centroid, "" outside both.
    pub zldwdm: &'static str,
    /// The ellipsoidal area before rounding (m²).
    pub area_m2: f64,
    pub tbmj: f64,
    pub kcxs: f64,
    pub kcmj: f64,
    pub tbdlmj: f64,
}

impl Attrs {
    /// Sets TBMJ (rounded to 0.01 m²) and the deduction that follows.
    /// The attributes of a polygon of `area_m2` (its TBMJ, and the
    /// deduction from `kcxs`); BSM and TBBH are set later.
    pub(crate) fn new(zldwdm: &'static str, area_m2: f64, kcxs: f64) -> Attrs {
        let mut a = Attrs {
            bsm: String::new(),
            tbbh: String::new(),
            zldwdm,
            area_m2,
            tbmj: 0.0,
            kcxs,
            kcmj: 0.0,
            tbdlmj: 0.0,
        };
        a.set_tbmj(area_m2);
        a
    }

    pub(crate) fn set_tbmj(&mut self, tbmj: f64) {
        self.tbmj = round2(tbmj);
        self.kcmj = round2(self.tbmj * self.kcxs);
        self.tbdlmj = round2(self.tbmj - self.kcmj);
    }

    /// The feature's properties, in field order.
    pub(crate) fn props(&self, class: u8) -> Vec<(&'static str, Prop)> {
        let c = CLASSES[class as usize];
        let kcdlbm = if is_cropland(class) { "1203" } else { "" };
        vec![
            ("BSM", Prop::Str(self.bsm.clone())),
            ("TBBH", Prop::Str(self.tbbh.clone())),
            ("DLBM", Prop::Str(c.dlbm.into())),
            ("DLMC", Prop::Str(c.dlmc.into())),
            ("ZLDWDM", Prop::Str(self.zldwdm.into())),
            ("TBMJ", Prop::Real(self.tbmj)),
            ("KCDLBM", Prop::Str(kcdlbm.into())),
            ("KCXS", Prop::Real(self.kcxs)),
            ("KCMJ", Prop::Real(self.kcmj)),
            ("TBDLMJ", Prop::Real(self.tbdlmj)),
            ("TGGMBZ", Prop::Int(i32::from(c.tggm))),
        ]
    }
}

/// The ridge deduction coefficient for a slope (tan).
pub(crate) fn ridge_coefficient(slope: f64) -> f64 {
    RIDGE_TABLE
        .iter()
        .find(|g| slope <= g.0)
        .map_or(RIDGE_TABLE[4].2, |g| g.2)
}

/// Measures the polygons: ellipsoidal area, town, ridge coefficient
/// (numbering is left empty).
pub(crate) fn measure(towns: &[Town], parcels: &[Parcel]) -> Result<Vec<Attrs>> {
    let chunks: Vec<Vec<Attrs>> = parcels
        .par_chunks(128)
        .map(|chunk| {
            let mut ea = EllipsoidArea::new()?;
            chunk
                .iter()
                .map(|p| measure_one(&mut ea, towns, p))
                .collect()
        })
        .collect::<Result<_>>()?;
    Ok(chunks.into_iter().flatten().collect())
}

fn measure_one(ea: &mut EllipsoidArea, towns: &[Town], p: &Parcel) -> Result<Attrs> {
    let poly = Polygon::new(
        LineString(p.rings[0].clone()),
        p.rings[1..].iter().map(|r| LineString(r.clone())).collect(),
    );
    let c = poly
        .centroid()
        .ok_or_else(|| Error::Geometry("survey polygon without a centroid".into()))?;
    let zldwdm = towns
        .iter()
        .find(|t| t.geom.contains(&c))
        .map_or("", |t| t.code);
    let kcxs = if is_cropland(p.class) {
        ridge_coefficient(dem_slope((c.x(), c.y())))
    } else {
        0.0
    };
    Ok(Attrs::new(zldwdm, ea.polygon(&p.rings)?, kcxs))
}

/// BSM of the n-th polygon (1-based).
fn bsm(n: usize) -> String {
    format!("{BSM_PREFIX}{n:07}")
}

/// Numbers the 2019 polygons: BSM in order, TBBH in order within each town.
pub(crate) fn number_first(attrs: &mut [Attrs]) {
    let mut per_town: HashMap<&str, usize> = HashMap::new();
    for (k, a) in attrs.iter_mut().enumerate() {
        a.bsm = bsm(k + 1);
        let n = per_town.entry(a.zldwdm).or_insert(0);
        *n += 1;
        a.tbbh = n.to_string();
    }
}

/// Numbers the 2024 polygons: one with the same class and cells as a 2019
/// polygon keeps its BSM and TBBH; the others get new numbers after the
/// 2019 ones. Returns how many were kept.
pub(crate) fn number_next(
    old: &[Parcel],
    old_attrs: &[Attrs],
    new: &[Parcel],
    attrs: &mut [Attrs],
) -> usize {
    let index: HashMap<(u8, &[usize]), usize> = old
        .iter()
        .enumerate()
        .map(|(k, p)| ((p.class, p.cells.as_slice()), k))
        .collect();
    let mut per_town: HashMap<&str, usize> = HashMap::new();
    for a in old_attrs {
        let n = per_town.entry(a.zldwdm).or_insert(0);
        *n = (*n).max(a.tbbh.parse().unwrap_or(0));
    }
    let mut next = old_attrs.len();
    let mut kept = 0;
    for (p, a) in new.iter().zip(attrs.iter_mut()) {
        if let Some(&k) = index.get(&(p.class, p.cells.as_slice())) {
            a.bsm.clone_from(&old_attrs[k].bsm);
            a.tbbh.clone_from(&old_attrs[k].tbbh);
            kept += 1;
        } else {
            next += 1;
            a.bsm = bsm(next);
            let n = per_town.entry(a.zldwdm).or_insert(0);
            *n += 1;
            a.tbbh = n.to_string();
        }
    }
    kept
}
