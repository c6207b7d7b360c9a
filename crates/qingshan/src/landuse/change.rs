//! Change between two versions of a land-use layer: per-zone transition
//! matrices from the polygon × polygon overlay of the two dates, and the
//! change list (every piece whose class changed).
//!
//! Each polygon of the first date is paired with the polygons of the
//! second whose boxes meet it (an R-tree). A polygon whose geometry is
//! unchanged (the same vertices in the second version: most of a yearly
//! update) pairs with its twin whole, without clipping, when the twin
//! overlaps no other polygon of its layer; the others are intersected. Each pair's shape then goes through the zones' pieces as
//! in [`super::landuse_stats`]. Sums run in pair order: the same bytes at
//! any thread count.

use std::collections::HashMap;

use geo::{BooleanOps, BoundingRect, Centroid, MultiPolygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use super::LandUse;
use super::measure::Measure;
use super::overlay::{self, Piece};
use crate::legend::ClassCode;

/// One pair of polygons that overlap: `geometry` `None` when the two are
/// the same shape.
struct Pair {
    before: usize,
    after: usize,
    geometry: Option<MultiPolygon<f64>>,
    /// Thinner than the sliver width: boundary noise, not a change.
    sliver: bool,
}

/// Mean width of a shape: 2 × area / perimeter (a strip of width w and
/// length L ≫ w gives w).
fn mean_width(mp: &MultiPolygon<f64>) -> f64 {
    let perimeter: f64 =
        mp.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.windows(2))
            .map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y))
            .sum();
    if perimeter > 0.0 {
        2.0 * geo::Area::unsigned_area(mp) / perimeter
    } else {
        0.0
    }
}

fn bits(mp: &MultiPolygon<f64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in &mp.0 {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            for c in &r.0 {
                for v in [c.x.to_bits(), c.y.to_bits()] {
                    h = (h ^ v).wrapping_mul(0x100_0000_01b3);
                }
            }
        }
    }
    h
}

/// The overlapping pairs of the two layers, in (before, after) order;
/// pieces narrower than `sliver` (map units) are marked.
/// `clean_after[j]`: the second layer's polygon `j` overlaps no other
/// polygon of its layer (so a twin of it pairs with nothing else).
fn pairs(
    before: &[MultiPolygon<f64>],
    after: &[MultiPolygon<f64>],
    clean_after: &[bool],
    sliver: f64,
) -> Vec<Pair> {
    let items: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = after
        .iter()
        .enumerate()
        .filter_map(|(j, g)| {
            let r = g.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                j,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(items);
    let mut twins: HashMap<u64, Vec<usize>> = HashMap::new();
    for (j, g) in after.iter().enumerate() {
        twins.entry(bits(g)).or_default().push(j);
    }
    let chunks: Vec<Vec<Pair>> = before
        .par_chunks(256)
        .enumerate()
        .map(|(c, chunk)| {
            let mut out = Vec::new();
            for (k, a) in chunk.iter().enumerate() {
                let i = c * 256 + k;
                if let Some(j) = twins.get(&bits(a)).and_then(|js| {
                    js.iter()
                        .copied()
                        .find(|&j| clean_after[j] && after[j] == *a)
                }) {
                    out.push(Pair {
                        before: i,
                        after: j,
                        geometry: None,
                        sliver: false,
                    });
                    continue;
                }
                let Some(r) = a.bounding_rect() else { continue };
                let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                let mut js: Vec<usize> = tree
                    .locate_in_envelope_intersecting(&env)
                    .map(|o| o.data)
                    .collect();
                js.sort_unstable();
                for j in js {
                    let piece = a.intersection(&after[j]);
                    if geo::Area::unsigned_area(&piece) > 0.0 {
                        out.push(Pair {
                            before: i,
                            after: j,
                            sliver: mean_width(&piece) < sliver,
                            geometry: Some(piece),
                        });
                    }
                }
            }
            out
        })
        .collect();
    chunks.into_iter().flatten().collect()
}

/// One piece of the change list: a part of a zone whose class changed.
#[derive(Clone, Debug)]
pub struct ChangedPiece {
    /// Index of the zone in its layer.
    pub zone: usize,
    /// Id of the first date's polygon.
    pub before_id: String,
    /// Id of the second date's polygon.
    pub after_id: String,
    /// Class before.
    pub from: ClassCode,
    /// Class after.
    pub to: ClassCode,
    /// Area (m², as the stats measure it).
    pub area_m2: f64,
    /// The piece (in the first layer's CRS).
    pub geometry: MultiPolygon<f64>,
    /// Its centroid (first layer's CRS).
    pub centroid: (f64, f64),
}

/// Per-zone transitions of the pairs, and the changed pieces.
pub(crate) struct Transitions {
    pub(crate) pairs: Vec<Vec<(ClassCode, ClassCode, f64)>>,
    pub(crate) covered: Vec<f64>,
    pub(crate) changed: Vec<ChangedPiece>,
    /// Slivers between classes that differ (counted as unchanged): how
    /// many, and their area.
    pub(crate) slivers: (usize, f64),
}

/// Overlays the two layers (the second already in the first's CRS)
/// inside the zones' pieces; classes are the layers' codes as the legend
/// writes them.
pub(crate) fn transitions(
    (before, before_codes): (&LandUse, &[ClassCode]),
    (after, after_codes): (&LandUse, &[ClassCode]),
    after_polygons: &[MultiPolygon<f64>],
    clean_after: &[bool],
    (tree, sliver): (&RTree<Piece>, f64),
    zones: usize,
    measure: &Measure,
) -> Transitions {
    let pairs = pairs(&before.polygons, after_polygons, clean_after, sliver);
    // Each pair's share of each zone, in pair order.
    let shares: Vec<Vec<overlay::Share>> = pairs
        .par_chunks(256)
        .map(|chunk| {
            chunk
                .iter()
                .map(|p| {
                    let g = p.geometry.as_ref().unwrap_or(&before.polygons[p.before]);
                    let mut out = Vec::new();
                    overlay::polygon_shares(p.before, g, tree, measure, &mut out);
                    out
                })
                .collect::<Vec<_>>()
        })
        .flatten()
        .collect();
    let mut t = Transitions {
        pairs: vec![Vec::new(); zones],
        covered: vec![0.0; zones],
        changed: Vec::new(),
        slivers: (0, 0.0),
    };
    let mut changed_shares = Vec::new();
    for (p, ss) in pairs.iter().zip(&shares) {
        let (from, mut to) = (before_codes[p.before], after_codes[p.after]);
        if p.sliver && from != to {
            // A boundary drawn a hair apart (e.g. after reprojection).
            t.slivers.0 += usize::from(!ss.is_empty());
            t.slivers.1 += ss.iter().map(|s| s.area).sum::<f64>();
            to = from;
        }
        for s in ss {
            t.pairs[s.zone].push((from, to, s.area));
            t.covered[s.zone] += s.area;
            if from != to {
                changed_shares.push((p, *s, from, to));
            }
        }
    }
    t.changed = changed_shares
        .par_iter()
        .map(|(p, s, from, to)| {
            let g = p.geometry.as_ref().unwrap_or(&before.polygons[p.before]);
            let geometry = overlay::clip_to_zone(g, tree, s.zone);
            let centroid = geometry
                .centroid()
                .map(|c| (c.x(), c.y()))
                .unwrap_or((f64::NAN, f64::NAN));
            ChangedPiece {
                zone: s.zone,
                before_id: before.ids[p.before].clone(),
                after_id: after.ids[p.after].clone(),
                from: *from,
                to: *to,
                area_m2: s.area,
                geometry,
                centroid,
            }
        })
        .collect();
    t
}
