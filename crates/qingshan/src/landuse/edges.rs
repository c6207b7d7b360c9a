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

/// A vertex snapped to the quantum grid. Any rounding does, as long as it
/// is the same for the same coordinates: `+ ½` towards the sign and a
/// truncating cast, one instruction each (`f64::round` is a library call).
fn point_key(x: f64, y: f64, inv_q: f64) -> (i64, i64) {
    let snap = |v: f64| {
        let v = v * inv_q;
        (v + 0.5f64.copysign(v)) as i64
    };
    (snap(x), snap(y))
}

/// (undirected edge hash with the direction in the lowest bit, polygon).
fn edges_of(i: usize, mp: &MultiPolygon<f64>, inv_q: f64, out: &mut Vec<(u64, u32)>) {
    for p in &mp.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            let Some(first) = ring.0.first() else {
                continue;
            };
            let mut a = point_key(first.x, first.y, inv_q);
            for c in &ring.0[1..] {
                let b = point_key(c.x, c.y, inv_q);
                if a != b {
                    let (lo, hi, dir) = if a < b { (a, b, 0) } else { (b, a, 1) };
                    let h =
                        mix(mix(mix(mix(lo.0 as u64) ^ lo.1 as u64) ^ hi.0 as u64) ^ hi.1 as u64);
                    out.push(((h & !1) | dir, i as u32));
                }
                a = b;
            }
        }
    }
}

/// A chunk's edges grouped by bucket, and where each bucket starts.
type Grouped = (Vec<(u64, u32)>, Vec<usize>);

/// The polygons with at least one edge no other polygon writes in reverse.
pub(crate) fn unmatched(polygons: &[MultiPolygon<f64>], quantum: f64) -> Vec<usize> {
    // Each chunk's edges, grouped by bucket (a counting sort: one vector
    // and the start of each bucket in it, not thousands of small vectors).
    let bucket = |h: u64| (h >> (64 - BUCKETS.trailing_zeros())) as usize;
    let per_chunk: Vec<Grouped> = polygons
        .par_chunks(4096)
        .enumerate()
        .map(|(c, chunk)| {
            let mut edges = Vec::new();
            for (k, mp) in chunk.iter().enumerate() {
                edges_of(c * 4096 + k, mp, 1.0 / quantum, &mut edges);
            }
            let mut starts = vec![0usize; BUCKETS + 1];
            for e in &edges {
                starts[bucket(e.0) + 1] += 1;
            }
            for b in 0..BUCKETS {
                starts[b + 1] += starts[b];
            }
            let mut next = starts.clone();
            let mut grouped = vec![(0u64, 0u32); edges.len()];
            for e in edges {
                let b = bucket(e.0);
                grouped[next[b]] = e;
                next[b] += 1;
            }
            (grouped, starts)
        })
        .collect();
    let mut flagged: Vec<usize> = (0..BUCKETS)
        .into_par_iter()
        .map(|b| {
            let mut v: Vec<(u64, u32)> = per_chunk
                .iter()
                .flat_map(|(edges, starts)| edges[starts[b]..starts[b + 1]].iter().copied())
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

/// The overlaps of a layer: the excess coverage (area covered by k
/// polygons counts k − 1 times) as shapes, and the polygons involved.
pub(crate) struct Overlaps {
    /// Shapes whose areas sum to the excess coverage.
    pub(crate) shapes: Vec<MultiPolygon<f64>>,
    /// Polygons that overlap another, ascending.
    pub(crate) involved: Vec<usize>,
}

/// The overlaps of the suspects with any polygon (a polygon drawn over a
/// neighbour leaves that neighbour's edges matched when they only touch at
/// a corner, so every polygon is a candidate partner). Polygons that
/// overlap form clusters; in each, every polygon after the first adds its
/// intersection with the union of those before it, so three copies of a
/// square give twice its area, as the classes over-count it.
pub(crate) fn overlaps(polygons: &[MultiPolygon<f64>], suspects: &[usize]) -> Overlaps {
    let mut out = Overlaps {
        shapes: Vec::new(),
        involved: Vec::new(),
    };
    if suspects.is_empty() {
        return out;
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
    // Shared edges intersect in nothing; rounding leaves slivers of no width.
    let meeting: Vec<(usize, usize)> = pairs
        .par_iter()
        .copied()
        .filter(|&(i, j)| geo::Area::unsigned_area(&polygons[i].intersection(&polygons[j])) > 0.0)
        .collect();
    // Clusters of overlapping polygons (union-find), members ascending.
    let mut parent: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    fn root(parent: &mut std::collections::BTreeMap<usize, usize>, i: usize) -> usize {
        let p = *parent.entry(i).or_insert(i);
        if p == i {
            return i;
        }
        let r = root(parent, p);
        parent.insert(i, r);
        r
    }
    for &(i, j) in &meeting {
        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
        if a != b {
            parent.insert(a.max(b), a.min(b));
        }
    }
    let members: Vec<usize> = parent.keys().copied().collect();
    let mut clusters: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for i in members {
        let r = root(&mut parent, i);
        clusters.entry(r).or_default().push(i);
    }
    out.involved = parent.keys().copied().collect();
    let per_cluster: Vec<Vec<MultiPolygon<f64>>> = clusters
        .into_values()
        .collect::<Vec<_>>()
        .par_iter()
        .map(|members| {
            let mut union = polygons[members[0]].clone();
            let mut shapes = Vec::new();
            for &m in &members[1..] {
                let extra = polygons[m].intersection(&union);
                if geo::Area::unsigned_area(&extra) > 0.0 {
                    shapes.push(extra);
                }
                union = union.union(&polygons[m]);
            }
            shapes
        })
        .collect();
    out.shapes = per_cluster.into_iter().flatten().collect();
    out
}
