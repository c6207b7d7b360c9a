//! The exact overlay of a land-use layer with zones: each polygon's area
//! inside each zone, in parallel, merged in polygon order.
//!
//! Each zone is cut once into pieces by a quadtree: cells wholly inside
//! the zone are rectangles, the rest hold at most [`MAX_PIECE_VERTICES`]
//! vertices of the zone's boundary. A polygon whose bounding box lies in
//! the zone's rectangles is inside the zone (most of them: no clipping);
//! otherwise it is clipped to each rectangle (Sutherland–Hodgman) and to
//! each boundary piece (geo's boolean operations) its box meets, so no
//! clip ever involves more than a few hundred zone vertices.

use geo::{BooleanOps, BoundingRect, Coord, CoordsIter, MultiPolygon, Rect};
use rayon::prelude::*;
use rstar::{AABB, RTree, RTreeObject};

use super::measure::Measure;

/// Most zone vertices a boundary piece holds.
pub(crate) const MAX_PIECE_VERTICES: usize = 256;
/// Polygons per parallel work item (fixed, so sums do not depend on the
/// thread count).
const CHUNK: usize = 256;

/// One piece of one zone.
pub(crate) struct Piece {
    pub(crate) zone: usize,
    /// The quadtree cell.
    pub(crate) rect: Rect<f64>,
    /// The zone's part in the cell; `None` when that is the whole cell.
    pub(crate) part: Option<MultiPolygon<f64>>,
}

impl RTreeObject for Piece {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(
            [self.rect.min().x, self.rect.min().y],
            [self.rect.max().x, self.rect.max().y],
        )
    }
}

fn quad(r: &Rect<f64>) -> [Rect<f64>; 4] {
    let c = r.center();
    let (lo, hi) = (r.min(), r.max());
    let rect = |a: Coord<f64>, b: Coord<f64>| Rect::new(a, b);
    [
        rect(lo, c),
        rect(Coord { x: c.x, y: lo.y }, Coord { x: hi.x, y: c.y }),
        rect(Coord { x: lo.x, y: c.y }, Coord { x: c.x, y: hi.y }),
        rect(c, hi),
    ]
}

/// Whether the zone's part in a cell is the whole cell: one ring of four
/// vertices, each within `tol` (the clipping's rounding) of its own corner
/// of the cell.
fn is_whole_cell(part: &MultiPolygon<f64>, rect: &Rect<f64>, tol: f64) -> bool {
    let [p] = &part.0[..] else {
        return false;
    };
    let ring = &p.exterior().0;
    if !p.interiors().is_empty() || ring.len() != 5 {
        return false;
    }
    let (lo, hi) = (rect.min(), rect.max());
    let corners = [
        Coord { x: lo.x, y: lo.y },
        Coord { x: hi.x, y: lo.y },
        Coord { x: hi.x, y: hi.y },
        Coord { x: lo.x, y: hi.y },
    ];
    corners.iter().all(|c| {
        ring[..4]
            .iter()
            .any(|v| (v.x - c.x).abs() <= tol && (v.y - c.y).abs() <= tol)
    })
}

/// Cuts a zone into pieces (see the module docs): boundary cells are cut
/// until they hold at most [`MAX_PIECE_VERTICES`] vertices and are no
/// wider than `cell` (about twice a typical polygon), so that most
/// polygons lie in whole cells; `tol` is the clipping's rounding.
fn cut(
    zone: usize,
    part: MultiPolygon<f64>,
    rect: Rect<f64>,
    (cell, tol): (f64, f64),
    depth: u32,
    out: &mut Vec<Piece>,
) {
    let n = part.coords_count();
    if n == 0 {
        return;
    }
    if is_whole_cell(&part, &rect, tol) {
        out.push(Piece {
            zone,
            rect,
            part: None,
        });
        return;
    }
    let small = rect.width().max(rect.height()) <= cell;
    if (n <= MAX_PIECE_VERTICES && small) || depth >= 24 {
        out.push(Piece {
            zone,
            rect,
            part: Some(part),
        });
        return;
    }
    for q in quad(&rect) {
        let sub = part.intersection(&MultiPolygon(vec![q.to_polygon()]));
        cut(zone, sub, q, (cell, tol), depth + 1, out);
    }
}

/// Twice the median width of the polygons' boxes (a sample of them): the
/// largest boundary cell worth keeping whole.
pub(crate) fn cell_size(polygons: &[MultiPolygon<f64>]) -> f64 {
    let step = (polygons.len() / 4096).max(1);
    let mut sizes: Vec<f64> = polygons
        .iter()
        .step_by(step)
        .filter_map(|p| p.bounding_rect())
        .map(|r| r.width().max(r.height()))
        .collect();
    if sizes.is_empty() {
        return f64::INFINITY;
    }
    let mid = sizes.len() / 2;
    sizes.select_nth_unstable_by(mid, f64::total_cmp);
    2.0 * sizes[mid]
}

/// The pieces of every zone, in an R-tree (boundary cells no wider than
/// `cell`).
pub(crate) fn pieces(zones: &[MultiPolygon<f64>], cell: f64) -> RTree<Piece> {
    let per_zone: Vec<Vec<Piece>> = zones
        .par_iter()
        .enumerate()
        .map(|(z, g)| {
            let mut out = Vec::new();
            if let Some(r) = g.bounding_rect() {
                // The clipping rounds to about 2⁻³⁰ of the operands' extent.
                let tol = r.width().max(r.height()) * (-28f64).exp2();
                cut(z, g.clone(), r, (cell, tol), 0, &mut out);
            }
            out
        })
        .collect();
    RTree::bulk_load(per_zone.into_iter().flatten().collect())
}

/// Area of the overlap of two rectangles (0 when they only touch).
fn rect_overlap(a: &Rect<f64>, b: &Rect<f64>) -> f64 {
    let w = a.max().x.min(b.max().x) - a.min().x.max(b.min().x);
    let h = a.max().y.min(b.max().y) - a.min().y.max(b.min().y);
    if w > 0.0 && h > 0.0 { w * h } else { 0.0 }
}

/// One polygon's share of one zone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Share {
    pub(crate) polygon: usize,
    pub(crate) zone: usize,
    /// Area inside the zone (m²).
    pub(crate) area: f64,
    /// The polygon's whole area (m²).
    pub(crate) whole: f64,
}

/// The area of each polygon inside each zone it meets, in polygon order
/// (zones ascending within a polygon).
pub(crate) fn shares(
    polygons: &[MultiPolygon<f64>],
    tree: &RTree<Piece>,
    measure: &Measure,
) -> Vec<Share> {
    let chunks: Vec<Vec<Share>> = polygons
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut out = Vec::new();
            for (k, mp) in chunk.iter().enumerate() {
                polygon_shares(c * CHUNK + k, mp, tree, measure, &mut out);
            }
            out
        })
        .collect();
    chunks.into_iter().flatten().collect()
}

pub(crate) fn polygon_shares(
    index: usize,
    mp: &MultiPolygon<f64>,
    tree: &RTree<Piece>,
    measure: &Measure,
    out: &mut Vec<Share>,
) {
    let Some(bbox) = mp.bounding_rect() else {
        return;
    };
    let env = AABB::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
    let mut hits: Vec<&Piece> = tree
        .locate_in_envelope_intersecting(&env)
        .filter(|p| {
            rect_overlap(&p.rect, &bbox) > 0.0 || bbox.width() == 0.0 || bbox.height() == 0.0
        })
        .collect();
    if hits.is_empty() {
        return;
    }
    // Deterministic order: by zone, then by cell position.
    hits.sort_by(|a, b| {
        a.zone
            .cmp(&b.zone)
            .then(a.rect.min().x.total_cmp(&b.rect.min().x))
            .then(a.rect.min().y.total_cmp(&b.rect.min().y))
    });
    let whole = measure.multipolygon(mp);
    let box_area = bbox.width() * bbox.height();
    let mut i = 0;
    while i < hits.len() {
        let zone = hits[i].zone;
        let j = i + hits[i..].iter().take_while(|p| p.zone == zone).count();
        let group = &hits[i..j];
        i = j;
        let inside: f64 = group
            .iter()
            .filter(|p| p.part.is_none())
            .map(|p| rect_overlap(&p.rect, &bbox))
            .sum();
        let area = if group.iter().all(|p| p.part.is_none()) && inside >= box_area * (1.0 - 1e-12) {
            whole
        } else {
            let mut parts = Vec::with_capacity(group.len());
            for p in group {
                match &p.part {
                    None => parts.extend(
                        mp.0.iter()
                            .map(|poly| measure.polygon_in_rect(poly, &p.rect)),
                    ),
                    Some(part) => {
                        let piece = mp.intersection(part);
                        parts.push(measure.multipolygon(&piece));
                    }
                }
            }
            crate::area::sum_m2(parts)
        };
        if area > 0.0 {
            out.push(Share {
                polygon: index,
                zone,
                area,
                whole,
            });
        }
    }
}

/// The area (m²) of each zone, measured by the same pieces (so that the
/// zone's area and the polygons' areas inside it agree to rounding).
pub(crate) fn zone_areas(tree: &RTree<Piece>, zones: usize, measure: &Measure) -> Vec<f64> {
    let mut per_zone: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); zones];
    let pieces: Vec<&Piece> = tree.iter().collect();
    let areas: Vec<f64> = pieces
        .par_iter()
        .map(|p| match &p.part {
            None => measure.polygon(&p.rect.to_polygon()),
            Some(part) => measure.multipolygon(part),
        })
        .collect();
    for (p, a) in pieces.iter().zip(areas) {
        per_zone[p.zone].push((p.rect.min().x, p.rect.min().y, a));
    }
    per_zone
        .into_iter()
        .map(|mut v| {
            // The tree's iteration order is not the insertion order: sort.
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            crate::area::sum_m2(v.into_iter().map(|t| t.2))
        })
        .collect()
}

/// The part of `mp` inside zone `zone`: its intersections with the zone's
/// pieces, joined.
pub(crate) fn clip_to_zone(
    mp: &MultiPolygon<f64>,
    tree: &RTree<Piece>,
    zone: usize,
) -> MultiPolygon<f64> {
    let Some(bbox) = mp.bounding_rect() else {
        return MultiPolygon(vec![]);
    };
    let env = AABB::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
    let mut hits: Vec<&Piece> = tree
        .locate_in_envelope_intersecting(&env)
        .filter(|p| p.zone == zone && rect_overlap(&p.rect, &bbox) > 0.0)
        .collect();
    let inside: f64 = hits
        .iter()
        .filter(|p| p.part.is_none())
        .map(|p| rect_overlap(&p.rect, &bbox))
        .sum();
    if hits.iter().all(|p| p.part.is_none())
        && inside >= bbox.width() * bbox.height() * (1.0 - 1e-12)
    {
        // Wholly inside: the polygon as it is, not rounded by clipping.
        return mp.clone();
    }
    hits.sort_by(|a, b| {
        a.rect
            .min()
            .x
            .total_cmp(&b.rect.min().x)
            .then(a.rect.min().y.total_cmp(&b.rect.min().y))
    });
    let mut out = MultiPolygon(vec![]);
    for p in hits {
        let part = match &p.part {
            None => mp.intersection(&MultiPolygon(vec![p.rect.to_polygon()])),
            Some(z) => mp.intersection(z),
        };
        out = if out.0.is_empty() {
            part
        } else {
            out.union(&part)
        };
    }
    out
}
