//! Overlaps in a land-use layer, which should be a planar partition.
//!
//! In a partition every edge between two polygons is written by both, in
//! opposite directions. Edges are quantised (1 mm in metre units, 1e-8° in
//! degrees), hashed and matched with their reverse; only polygons with an
//! unmatched edge (the layer's outer border, and polygons next to a gap or
//! an overlap, or drawn without shared vertices) can overlap a
//! neighbour, and only those pairs are intersected. Cost: one pass over
//! the vertices plus small sorts, linear in the layer's size.

use geo::{BooleanOps, BoundingRect, MultiPolygon};
use rayon::prelude::*;
use rstar::{AABB, RTree, primitives::GeomWithData};

/// Hash buckets the edges are spread over.
const BUCKETS: usize = 1 << 12;

fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn point_key(x: f64, y: f64, q: f64) -> (i64, i64) {
    ((x / q).round() as i64, (y / q).round() as i64)
}

/// (undirected edge hash with the direction in the lowest bit, polygon).
fn edges_of(i: usize, mp: &MultiPolygon<f64>, q: f64, out: &mut Vec<(u64, u32)>) {
    for p in &mp.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in ring.0.windows(2) {
                let a = point_key(w[0].x, w[0].y, q);
                let b = point_key(w[1].x, w[1].y, q);
                if a == b {
                    continue;
                }
                let (lo, hi, dir) = if a < b { (a, b, 0) } else { (b, a, 1) };
                let h = mix(mix(mix(mix(lo.0 as u64) ^ lo.1 as u64) ^ hi.0 as u64) ^ hi.1 as u64);
                out.push(((h & !1) | dir, i as u32));
            }
        }
    }
}

/// The polygons with at least one edge no other polygon writes in reverse.
pub(crate) fn unmatched(polygons: &[MultiPolygon<f64>], quantum: f64) -> Vec<usize> {
    let per_chunk: Vec<Vec<Vec<(u64, u32)>>> = polygons
        .par_chunks(4096)
        .enumerate()
        .map(|(c, chunk)| {
            let mut edges = Vec::new();
            for (k, mp) in chunk.iter().enumerate() {
                edges_of(c * 4096 + k, mp, quantum, &mut edges);
            }
            let mut buckets = vec![Vec::new(); BUCKETS];
            for e in edges {
                buckets[(e.0 >> 52) as usize % BUCKETS].push(e);
            }
            buckets
        })
        .collect();
    let mut flagged: Vec<usize> = (0..BUCKETS)
        .into_par_iter()
        .map(|b| {
            let mut v: Vec<(u64, u32)> = per_chunk
                .iter()
                .flat_map(|c| c[b].iter().copied())
                .collect();
            v.sort_unstable();
            let mut out = Vec::new();
            let mut i = 0;
            while i < v.len() {
                let key = v[i].0 & !1;
                let j = i + v[i..].iter().take_while(|e| e.0 & !1 == key).count();
                let group = &v[i..j];
                let fwd = group.iter().filter(|e| e.0 & 1 == 0).count();
                if group.len() != 2 || fwd != 1 {
                    out.extend(group.iter().map(|e| e.1 as usize));
                }
                i = j;
            }
            out
        })
        .flatten()
        .collect();
    flagged.sort_unstable();
    flagged.dedup();
    flagged
}

/// The overlaps of the suspects with any polygon (pairs whose interiors
/// meet: a polygon drawn over a neighbour leaves that neighbour's edges
/// matched when they only touch at a corner, so every polygon is a
/// candidate partner), each as `(first, second, shape)`, in pair order.
pub(crate) fn overlaps(
    polygons: &[MultiPolygon<f64>],
    suspects: &[usize],
) -> Vec<(usize, usize, MultiPolygon<f64>)> {
    if suspects.is_empty() {
        return Vec::new();
    }
    let items: Vec<GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>> = (0..polygons
        .len())
        .filter_map(|i| {
            let r = polygons[i].bounding_rect()?;
            Some(GeomWithData::new(
                rstar::primitives::Rectangle::from_corners(
                    [r.min().x, r.min().y],
                    [r.max().x, r.max().y],
                ),
                i,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(items);
    let mut pairs: Vec<(usize, usize)> = suspects
        .iter()
        .filter_map(|&i| Some((i, polygons[i].bounding_rect()?)))
        .flat_map(|(i, r)| {
            let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            tree.locate_in_envelope_intersecting(&env)
                .map(|o| o.data)
                .filter(move |&j| j != i)
                .map(move |j| (i.min(j), i.max(j)))
                .collect::<Vec<_>>()
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
        .par_iter()
        .filter_map(|&(i, j)| {
            let shape = polygons[i].intersection(&polygons[j]);
            let area = geo::Area::unsigned_area(&shape);
            // Shared edges intersect in nothing; rounding leaves slivers of
            // no width.
            (area > 0.0 && !shape.0.is_empty()).then_some((i, j, shape))
        })
        .collect()
}
