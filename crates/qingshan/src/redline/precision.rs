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

/// The number of decimals k (≤ 9) every coordinate of `layer` is written
/// with (a multiple of 10^−k), in the layer's units; `None` when there is
/// none (full precision).
fn decimals(layer: &ZoneLayer) -> Option<i32> {
    let coords = coords_of(layer);
    if coords.is_empty() {
        return None;
    }
    (0..=9).find(|&k| {
        let scale = 10f64.powi(k);
        let fits = |v: f64| {
            let s = v * scale;
            (s - s.round()).abs() <= 1e-3
        };
        coords.iter().all(|c| fits(c.x) && fits(c.y))
    })
}

fn coords_of(layer: &ZoneLayer) -> Vec<geo::Coord<f64>> {
    use geo::CoordsIter;
    layer
        .zones
        .iter()
        .flat_map(|z| z.geometry.coords_iter())
        .collect()
}

/// The step 10^−k in metres (a degree counted as [`M_PER_DEGREE`]).
fn step_m(layer: &ZoneLayer, k: i32) -> f64 {
    let step = 10f64.powi(-k);
    if layer.crs.geographic {
        step * M_PER_DEGREE
    } else {
        step * layer.crs.linear_unit_m
    }
}

/// `layer` carried into `target`'s CRS vertex by vertex and rounded to
/// `k` decimals there (as a file writer rounds: v·10^k rounded, ÷ 10^k).
fn rounded_into(layer: &ZoneLayer, target: &ZoneLayer, k: i32) -> Result<ZoneLayer> {
    let moved = layer.project(&target.crs, None)?;
    let scale = 10f64.powi(k);
    let round = |v: f64| (v * scale).round() / scale;
    let mut out = layer.clone();
    out.crs = target.crs.clone();
    for (z, mut g) in out.zones.iter_mut().zip(moved) {
        use geo::MapCoordsInPlace;
        g.map_coords_in_place(|c| geo::coord! { x: round(c.x), y: round(c.y) });
        z.geometry = g;
    }
    Ok(out)
}

/// How many vertices of `candidate` are vertices of `target` too, both
/// at `k` decimals.
fn coinciding(candidate: &ZoneLayer, target: &ZoneLayer, k: i32) -> usize {
    let scale = 10f64.powi(k);
    let key = |c: &geo::Coord<f64>| ((c.x * scale).round() as i64, (c.y * scale).round() as i64);
    let there: std::collections::HashSet<(i64, i64)> = coords_of(target).iter().map(key).collect();
    coords_of(candidate)
        .iter()
        .filter(|c| there.contains(&key(c)))
        .count()
}

/// The two layers made comparable (see the module documentation), and a
/// note saying what was done, if anything. Each layer that is rounded is
/// a candidate to round the other to; when both are (a centimetre
/// Gauss–Krüger layer and its 7-decimal GeoJSON copy), the direction in
/// which more vertices coincide wins. Nothing is done when no vertex
/// would coincide (two layers drawn apart, not copies).
pub(super) fn align<'a>(
    old: &'a ZoneLayer,
    new: &'a ZoneLayer,
) -> Result<(Cow<'a, ZoneLayer>, Cow<'a, ZoneLayer>, Option<String>)> {
    let rounded = |l: &ZoneLayer| {
        decimals(l).filter(|&k| (FINEST_STEP_M..=COARSEST_STEP_M).contains(&step_m(l, k)))
    };
    let note = |rounded: &ZoneLayer, other: &ZoneLayer, k: i32| {
        format!(
            "{}: coordinates are rounded to {} decimals (about {:.1} cm); {} was compared after its vertices, carried into {}, were rounded the same way (a rounded copy is the same red line)",
            rounded.path.display(),
            k,
            100.0 * step_m(rounded, k),
            other.path.display(),
            rounded.crs.label
        )
    };
    // (old rounded into new's CRS, or new into old's), with its score.
    let mut best: Option<(bool, ZoneLayer, i32, usize)> = None;
    for (round_old, (from, to)) in [(true, (old, new)), (false, (new, old))] {
        let Some(k) = rounded(to) else { continue };
        let candidate = rounded_into(from, to, k)?;
        let score = coinciding(&candidate, to, k);
        if score > 0 && best.as_ref().is_none_or(|b| score > b.3) {
            best = Some((round_old, candidate, k, score));
        }
    }
    Ok(match best {
        Some((true, old2, k, _)) => (
            Cow::Owned(old2),
            Cow::Borrowed(new),
            Some(note(new, old, k)),
        ),
        Some((false, new2, k, _)) => (
            Cow::Borrowed(old),
            Cow::Owned(new2),
            Some(note(old, new, k)),
        ),
        None => (Cow::Borrowed(old), Cow::Borrowed(new), None),
    })
}
