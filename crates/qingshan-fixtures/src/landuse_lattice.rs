//! A wiggly lattice that partitions a rectangle, and the tracing of sets of
//! its cells into polygons.
//!
//! Vertices are jittered (those on the rectangle's sides only along the
//! side); every interior lattice edge is one polyline, computed from the
//! edge's indices alone, that both cells beside it use (one forwards, one
//! backwards), so neighbouring polygons share their boundary coordinate for
//! coordinate. Invariant: an edge's polyline stays strictly inside the
//! diamond spanned by its two end points and the centres of its two cells
//! (convex, and the diamonds of different edges only touch), and it is
//! monotone along the edge, so polylines meet only at lattice vertices and
//! never cross themselves. Hence any 4-connected set of cells traces to a
//! valid polygon, and sets that partition the lattice trace to polygons
//! that partition the rectangle.

use geo::Coord;

use crate::error::{Error, Result};
use crate::geom::round_cm;
use crate::noise::{splitmix64, unit, value1};

/// The layout of a lattice over a rectangle.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lattice {
    /// The rectangle: x from, x to, y from, y to (coordinates in 0.01 m).
    pub rect: (f64, f64, f64, f64),
    /// Cells across and down.
    pub nx: usize,
    /// Cells from south to north.
    pub ny: usize,
    /// Seed of the jitter and the wiggles.
    pub seed: u64,
    /// Vertex jitter: each coordinate moves by up to ± jitter / 2 cells.
    pub jitter: f64,
    /// Wiggle amplitude: fraction (< 1) of the way to the diamond's edge.
    pub amp: f64,
    /// Number of intermediate points of an edge, from the edge's hash.
    pub points: fn(u64) -> usize,
    /// Whether the edges on the rectangle's sides get intermediate points
    /// too (evenly spaced on the side), or none.
    pub densify_sides: bool,
}

/// A lattice edge, in its canonical direction: `H(i, j)` from vertex
/// (i, j) to (i + 1, j), `V(i, j)` from (i, j) to (i, j + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Edge {
    H(usize, usize),
    V(usize, usize),
}

/// Directions of travel along lattice edges, counter-clockwise.
const EAST: u8 = 0;
const NORTH: u8 = 1;
const WEST: u8 = 2;
const SOUTH: u8 = 3;

/// One boundary edge of a cell set, directed with the set on its left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Step {
    from: (usize, usize),
    dir: u8,
    edge: Edge,
    reversed: bool,
}

impl Step {
    fn to(&self) -> (usize, usize) {
        let (i, j) = self.from;
        match self.dir {
            EAST => (i + 1, j),
            NORTH => (i, j + 1),
            WEST => (i - 1, j),
            _ => (i, j - 1),
        }
    }
}

/// An edge's end points and the cells on its left and right.
type Frame = (Coord, Coord, Option<(usize, usize)>, Option<(usize, usize)>);

/// An edge's end points and, per side, (position along the edge, signed
/// distance from it) of the cell centre.
type Diamond = (Coord, Coord, [(f64, f64); 2]);

/// A traced polygon: exterior ring (counter-clockwise) first, then holes
/// (clockwise); every ring closed.
pub(crate) type Rings = Vec<Vec<Coord>>;

impl Lattice {
    /// Cell size (m).
    pub(crate) fn cell_size(&self) -> (f64, f64) {
        let (x0, x1, y0, y1) = self.rect;
        ((x1 - x0) / self.nx as f64, (y1 - y0) / self.ny as f64)
    }

    /// Index of cell (i, j) (rows from the south).
    pub(crate) fn cell(&self, i: usize, j: usize) -> usize {
        j * self.nx + i
    }

    /// (i, j) of a cell index.
    pub(crate) fn ij(&self, c: usize) -> (usize, usize) {
        (c % self.nx, c / self.nx)
    }

    /// Lattice vertex (i, j), rounded to 0.01 m.
    pub(crate) fn vertex(&self, i: usize, j: usize) -> Coord {
        let (x0, x1, y0, y1) = self.rect;
        let (w, h) = self.cell_size();
        let hash = splitmix64(self.seed ^ ((i as u64) << 32) ^ j as u64);
        let x = if i == 0 {
            x0
        } else if i == self.nx {
            x1
        } else {
            x0 + (i as f64 + (unit(hash) - 0.5) * self.jitter) * w
        };
        let y = if j == 0 {
            y0
        } else if j == self.ny {
            y1
        } else {
            y0 + (j as f64 + (unit(splitmix64(hash)) - 0.5) * self.jitter) * h
        };
        Coord {
            x: round_cm(x),
            y: round_cm(y),
        }
    }

    /// Centre of cell (i, j): the mean of its corners.
    pub(crate) fn centre(&self, i: usize, j: usize) -> Coord {
        let c = [
            self.vertex(i, j),
            self.vertex(i + 1, j),
            self.vertex(i + 1, j + 1),
            self.vertex(i, j + 1),
        ];
        Coord {
            x: (c[0].x + c[1].x + c[2].x + c[3].x) / 4.0,
            y: (c[0].y + c[1].y + c[2].y + c[3].y) / 4.0,
        }
    }

    /// A point of cell (i, j) at (a, b) ∈ [0, 1]² of its bilinear patch.
    pub(crate) fn cell_point(&self, i: usize, j: usize, a: f64, b: f64) -> Coord {
        let (p, q) = (self.vertex(i, j), self.vertex(i + 1, j));
        let (r, s) = (self.vertex(i, j + 1), self.vertex(i + 1, j + 1));
        let lo = (p.x + a * (q.x - p.x), p.y + a * (q.y - p.y));
        let hi = (r.x + a * (s.x - r.x), r.y + a * (s.y - r.y));
        Coord {
            x: lo.0 + b * (hi.0 - lo.0),
            y: lo.1 + b * (hi.1 - lo.1),
        }
    }

    /// End points of an edge and the cells on its left and right.
    fn edge_frame(&self, e: Edge) -> Frame {
        match e {
            Edge::H(i, j) => (
                self.vertex(i, j),
                self.vertex(i + 1, j),
                (j < self.ny).then_some((i, j)),
                (j > 0).then(|| (i, j - 1)),
            ),
            Edge::V(i, j) => (
                self.vertex(i, j),
                self.vertex(i, j + 1),
                (i > 0).then(|| (i - 1, j)),
                (i < self.nx).then_some((i, j)),
            ),
        }
    }

    /// The diamond of an interior edge in the edge's frame: for each side,
    /// the cell centre's position along the edge (0..1) and its signed
    /// distance from it (left positive). `None` on the rectangle's sides.
    fn diamond(&self, e: Edge) -> Option<Diamond> {
        let (a, b, left, right) = self.edge_frame(e);
        let (l, r) = (left?, right?);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len2 = dx * dx + dy * dy;
        let len = len2.sqrt();
        let frame = |c: Coord| {
            (
                ((c.x - a.x) * dx + (c.y - a.y) * dy) / len2,
                ((c.x - a.x) * -dy + (c.y - a.y) * dx) / len,
            )
        };
        let (cl, cr) = (self.centre(l.0, l.1), self.centre(r.0, r.1));
        Some((a, b, [frame(cl), frame(cr)]))
    }

    /// Appends the intermediate points of an edge, in its canonical
    /// direction (on the rectangle's sides: evenly spaced on the side if
    /// `densify_sides`, else none).
    pub(crate) fn edge_points(&self, e: Edge, out: &mut Vec<Coord>) {
        let key = match e {
            Edge::H(i, j) => ((i as u64) << 32) ^ j as u64,
            Edge::V(i, j) => !(((i as u64) << 32) ^ j as u64),
        };
        let hash = splitmix64(self.seed ^ 0x00ED_6E00 ^ key);
        let n = (self.points)(hash);
        let Some((a, b, [(tl, sl), (tr, sr)])) = self.diamond(e) else {
            if self.densify_sides {
                let (a, b, _, _) = self.edge_frame(e);
                for k in 1..=n {
                    let t = k as f64 / (n + 1) as f64;
                    out.push(Coord {
                        x: round_cm(a.x + t * (b.x - a.x)),
                        y: round_cm(a.y + t * (b.y - a.y)),
                    });
                }
            }
            return;
        };
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len = (dx * dx + dy * dy).sqrt();
        let (nx, ny) = (-dy / len, dx / len);
        let tent = |t: f64, tc: f64, sc: f64| {
            if t <= tc {
                sc * t / tc
            } else {
                sc * (1.0 - t) / (1.0 - tc)
            }
        };
        let phase = unit(splitmix64(hash ^ 0xF1)) * 8.0;
        for k in 0..n {
            let u = unit(splitmix64(hash.wrapping_add(k as u64 + 1)));
            let t = (k as f64 + 0.2 + 0.6 * u) / n as f64;
            let f = self.amp * value1(hash, phase + t * 2.5).0;
            let s = if f >= 0.0 {
                f * tent(t, tl, sl)
            } else {
                -f * tent(t, tr, sr)
            };
            out.push(Coord {
                x: round_cm(a.x + t * dx + s * nx),
                y: round_cm(a.y + t * dy + s * ny),
            });
        }
    }

    /// Checks that every interior edge's cell centres lie on either side of
    /// it and project inside it (what keeps the polylines apart).
    pub(crate) fn check(&self) -> Result<()> {
        let h = (0..=self.ny).flat_map(|j| (0..self.nx).map(move |i| Edge::H(i, j)));
        let v = (0..self.ny).flat_map(|j| (0..=self.nx).map(move |i| Edge::V(i, j)));
        for e in h.chain(v) {
            if let Some((_, _, [(tl, sl), (tr, sr)])) = self.diamond(e) {
                let inside = |t: f64| t > 0.05 && t < 0.95;
                if !(inside(tl) && inside(tr) && sl > 0.0 && sr < 0.0) {
                    return Err(Error::Geometry(format!(
                        "lattice edge {e:?} has a bad diamond"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The boundary steps of a cell set (`inside(i, j)`), sorted.
    fn steps(&self, cells: &[usize], inside: &dyn Fn(usize, usize) -> bool) -> Vec<Step> {
        let out = |i: isize, j: isize| {
            i < 0
                || j < 0
                || i >= self.nx as isize
                || j >= self.ny as isize
                || !inside(i as usize, j as usize)
        };
        let mut steps = Vec::new();
        for &c in cells {
            let (i, j) = self.ij(c);
            let (si, sj) = (i as isize, j as isize);
            if out(si, sj - 1) {
                steps.push(Step {
                    from: (i, j),
                    dir: EAST,
                    edge: Edge::H(i, j),
                    reversed: false,
                });
            }
            if out(si + 1, sj) {
                steps.push(Step {
                    from: (i + 1, j),
                    dir: NORTH,
                    edge: Edge::V(i + 1, j),
                    reversed: false,
                });
            }
            if out(si, sj + 1) {
                steps.push(Step {
                    from: (i + 1, j + 1),
                    dir: WEST,
                    edge: Edge::H(i, j + 1),
                    reversed: true,
                });
            }
            if out(si - 1, sj) {
                steps.push(Step {
                    from: (i, j + 1),
                    dir: SOUTH,
                    edge: Edge::V(i, j),
                    reversed: true,
                });
            }
        }
        steps.sort();
        steps
    }

    /// Traces a 4-connected cell set (its cells, and a membership test)
    /// into a polygon. Where two cells of the set touch only at a corner,
    /// the rings turn right (away from the set), so a ring never visits a
    /// vertex twice: the pocket closed off there becomes a hole touching the
    /// exterior at one point, as OGC validity wants.
    pub(crate) fn trace(
        &self,
        cells: &[usize],
        inside: &dyn Fn(usize, usize) -> bool,
    ) -> Result<Rings> {
        let steps = self.steps(cells, inside);
        let steps = &steps[..];
        let at = |v: (usize, usize)| {
            let k = steps.partition_point(|s| s.from < v);
            (k..steps.len()).take_while(move |&m| steps[m].from == v)
        };
        let mut used = vec![false; steps.len()];
        let mut rings: Rings = Vec::new();
        for start in 0..steps.len() {
            if used[start] {
                continue;
            }
            let mut ring = Vec::new();
            let mut k = start;
            loop {
                used[k] = true;
                let s = steps[k];
                ring.push(self.vertex(s.from.0, s.from.1));
                let n0 = ring.len();
                self.edge_points(s.edge, &mut ring);
                if s.reversed {
                    ring[n0..].reverse();
                }
                let next: Vec<usize> = at(s.to()).collect();
                let right = (s.dir + 3) % 4;
                k = match next[..] {
                    [m] => m,
                    [m, _] if steps[m].dir == right => m,
                    [_, n] if steps[n].dir == right => n,
                    _ => {
                        return Err(Error::Geometry(format!(
                            "trace: {} steps leave {:?}",
                            next.len(),
                            s.to()
                        )));
                    }
                };
                if k == start {
                    break;
                }
                if used[k] {
                    return Err(Error::Geometry(format!(
                        "trace: ring revisits {:?}",
                        s.to()
                    )));
                }
            }
            ring.push(ring[0]);
            rings.push(ring);
        }
        order_rings(rings)
    }
}

/// Twice the signed area of a closed ring (positive = counter-clockwise).
pub(crate) fn ring_area2(ring: &[Coord]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

/// Puts the one counter-clockwise ring first; fails unless there is
/// exactly one.
fn order_rings(mut rings: Rings) -> Result<Rings> {
    let outer: Vec<usize> = (0..rings.len())
        .filter(|&k| ring_area2(&rings[k]) > 0.0)
        .collect();
    if outer.len() != 1 {
        return Err(Error::Geometry(format!(
            "trace: {} exterior rings",
            outer.len()
        )));
    }
    let ext = rings.remove(outer[0]);
    rings.insert(0, ext);
    Ok(rings)
}

/// The 4-connected parts of a cell set, each part's cells having equal
/// `key`, in the order of their smallest cell (cells sorted in each part).
pub(crate) fn parts(lat: &Lattice, cells: &[usize], key: &dyn Fn(usize) -> u64) -> Vec<Vec<usize>> {
    const NONE: u32 = u32::MAX;
    let mut local = vec![NONE; lat.nx * lat.ny];
    for (k, &c) in cells.iter().enumerate() {
        local[c] = k as u32;
    }
    let mut seen = vec![false; cells.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for (k0, &c0) in cells.iter().enumerate() {
        if seen[k0] {
            continue;
        }
        seen[k0] = true;
        let kc = key(c0);
        let mut part = vec![c0];
        stack.push(c0);
        while let Some(c) = stack.pop() {
            let (i, j) = lat.ij(c);
            let nb = [
                (i > 0).then(|| c - 1),
                (i + 1 < lat.nx).then(|| c + 1),
                (j > 0).then(|| c - lat.nx),
                (j + 1 < lat.ny).then(|| c + lat.nx),
            ];
            for d in nb.into_iter().flatten() {
                let k = local[d];
                if k != NONE && !seen[k as usize] && key(d) == kc {
                    seen[k as usize] = true;
                    part.push(d);
                    stack.push(d);
                }
            }
        }
        part.sort_unstable();
        out.push(part);
    }
    out
}

/// Number of coordinates of a polygon.
pub(crate) fn vertex_count(rings: &Rings) -> usize {
    rings.iter().map(Vec::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, LineString, Polygon, Validation};

    fn small() -> Lattice {
        Lattice {
            rect: (1000.0, 1900.0, 2000.0, 2600.0),
            nx: 6,
            ny: 4,
            seed: 3,
            jitter: 0.3,
            amp: 0.6,
            points: |h| 3 + (h % 4) as usize,
            densify_sides: false,
        }
    }

    fn polygon(r: &Rings) -> Polygon {
        Polygon::new(
            LineString(r[0].clone()),
            r[1..].iter().map(|h| LineString(h.clone())).collect(),
        )
    }

    #[test]
    fn a_pocket_closed_at_a_corner_becomes_a_hole_touching_the_exterior() {
        let lat = small();
        lat.check().expect("diamonds");
        // A ring of cells round (2, 1) whose ends touch at one corner:
        // (1, 1) and (2, 2) meet only at vertex (2, 2).
        let set = [(1, 1), (1, 0), (2, 0), (3, 0), (3, 1), (3, 2), (2, 2)];
        let cells: Vec<usize> = set.iter().map(|&(i, j)| lat.cell(i, j)).collect();
        let inside = |i: usize, j: usize| set.contains(&(i, j));
        let rings = lat.trace(&cells, &inside).expect("trace");
        assert_eq!(rings.len(), 2);
        let p = polygon(&rings);
        assert!(p.is_valid(), "{:?}", p.validation_errors());
        let cell_area = |i, j| {
            polygon(
                &lat.trace(&[lat.cell(i, j)], &|a, b| (a, b) == (i, j))
                    .expect("cell"),
            )
            .signed_area()
        };
        let sum: f64 = set.iter().map(|&(i, j)| cell_area(i, j)).sum();
        assert!((p.signed_area() - sum).abs() < 1e-6 * sum);
    }

    #[test]
    fn the_cells_tile_the_rectangle() {
        let lat = small();
        let mut total = 0.0;
        for c in 0..lat.nx * lat.ny {
            let (i, j) = lat.ij(c);
            let p = polygon(&lat.trace(&[c], &|a, b| (a, b) == (i, j)).expect("trace"));
            assert!(p.is_valid());
            total += p.signed_area();
        }
        assert!((total - 900.0 * 600.0).abs() < 1e-6);
    }
}
