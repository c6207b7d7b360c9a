//! Coordinate precision. A red-line layer is often re-delivered with its
//! coordinates rounded: RFC 7946 GeoJSON keeps 7 decimals of a degree
//! (about 1.1 cm), a Gauss–Krüger delivery the centimetre. A rounded copy
//! moves every vertex by up to half that step, and along a 48 km outline
//! the slivers add up to tens of m² — a "shrunk" verdict for a red line
//! nobody edited. When one layer's coordinates are rounded more coarsely
//! than the other's, the finer layer is carried into the coarser one's
//! CRS vertex by vertex and rounded to the same step before the
//! comparison, and the diff says so: a rounded copy then matches vertex
//! for vertex, and real edits (far larger than a centimetre) are measured
//! as before.

use std::borrow::Cow;

use crate::Result;
use crate::zones::ZoneLayer;

/// Steps finer than this (in metres) are full precision, not rounding.
const FINEST_STEP_M: f64 = 1e-4;

/// Steps coarser than this are the data's own design (whole-metre
/// outlines), not a delivery's rounding: rounding the other layer to them
/// could hide a real edit. At 5 cm a vertex moves at most 2.5 cm.
const COARSEST_STEP_M: f64 = 0.05;

/// Metres per degree, for comparing steps of geographic and projected
/// layers (a degree of latitude; of longitude it is less).
const M_PER_DEGREE: f64 = 111_320.0;

/// The decimal step every coordinate of `layer` is a multiple of (10^−k
/// for the smallest k ≤ 9), in the layer's units; `None` when there is
/// none (full precision).
fn step(layer: &ZoneLayer) -> Option<f64> {
    let coords = || {
        layer.zones.iter().flat_map(|z| {
            z.geometry.0.iter().flat_map(|p| {
                p.exterior()
                    .0
                    .iter()
                    .chain(p.interiors().iter().flat_map(|r| r.0.iter()))
            })
        })
    };
    coords().next()?;
    (0..=9).find_map(|k| {
        let scale = 10f64.powi(k);
        let fits = |v: f64| {
            let s = v * scale;
            (s - s.round()).abs() <= 1e-3
        };
        coords()
            .all(|c| fits(c.x) && fits(c.y))
            .then(|| 1.0 / scale)
    })
}

fn step_m(layer: &ZoneLayer, step: f64) -> f64 {
    if layer.crs.geographic {
        step * M_PER_DEGREE
    } else {
        step * layer.crs.linear_unit_m
    }
}

/// `layer` carried into `target`'s CRS vertex by vertex and rounded to
/// `step` there.
fn rounded_into(layer: &ZoneLayer, target: &ZoneLayer, step: f64) -> Result<ZoneLayer> {
    let moved = layer.project(&target.crs, None)?;
    let round = |v: f64| (v / step).round() * step;
    let mut out = layer.clone();
    out.crs = target.crs.clone();
    for (z, mut g) in out.zones.iter_mut().zip(moved) {
        use geo::MapCoordsInPlace;
        g.map_coords_in_place(|c| geo::coord! { x: round(c.x), y: round(c.y) });
        z.geometry = g;
    }
    Ok(out)
}

/// The two layers made comparable (see the module documentation), and a
/// note saying what was done, if anything.
pub(super) fn align<'a>(
    old: &'a ZoneLayer,
    new: &'a ZoneLayer,
) -> Result<(Cow<'a, ZoneLayer>, Cow<'a, ZoneLayer>, Option<String>)> {
    let coarse = |l: &ZoneLayer| {
        step(l)
            .map(|s| (s, step_m(l, s)))
            .filter(|(_, m)| (FINEST_STEP_M..=COARSEST_STEP_M).contains(m))
    };
    let (so, sn) = (coarse(old), coarse(new));
    let finer_than = |a: Option<(f64, f64)>, b: (f64, f64)| a.is_none_or(|(_, m)| m < b.1 / 1.5);
    let note = |rounded: &ZoneLayer, other: &ZoneLayer, s: (f64, f64)| {
        format!(
            "{}: coordinates are rounded to {} (about {:.1} cm); {} was compared after its vertices, carried into {}, were rounded the same way (a rounded copy is the same red line)",
            rounded.path.display(),
            s.0,
            100.0 * s.1,
            other.path.display(),
            rounded.crs.label
        )
    };
    if let Some(s) = sn
        && finer_than(so, s)
    {
        let old2 = rounded_into(old, new, s.0)?;
        return Ok((
            Cow::Owned(old2),
            Cow::Borrowed(new),
            Some(note(new, old, s)),
        ));
    }
    if let Some(s) = so
        && finer_than(sn, s)
    {
        let new2 = rounded_into(new, old, s.0)?;
        return Ok((
            Cow::Borrowed(old),
            Cow::Owned(new2),
            Some(note(old, new, s)),
        ));
    }
    Ok((Cow::Borrowed(old), Cow::Borrowed(new), None))
}
