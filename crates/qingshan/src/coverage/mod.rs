//! Exact cell-coverage fractions of a polygon on a grid.
//!
//! For each cell, the fraction of the cell's area that lies inside the
//! polygon (holes and multiparts included), computed exactly — not by
//! sampling cell centres. Work happens in pixel space, where cell `(c, r)` is
//! the unit square `[c, c+1] × [r, r+1]`, so rotated grids need nothing
//! special and fractions are ratios of areas.
//!
//! Method: every polygon edge is cut by the row strips `r ≤ y ≤ r+1` and
//! then by the column lines it crosses. Each piece inside one cell adds
//! to that cell the signed area between the piece and the cell's right
//! side, and its whole height `dy` to every cell to its right (Green's
//! theorem on the region right of the boundary). Summing along a row gives
//! each cell's covered area; cells between touched cells share one value
//! (the running sum), so interior cells come out as whole runs with
//! fraction exactly 1.
//!
//! Invariant: fractions are in `[0, 1]`, and Σ fraction over the grid equals
//! the polygon's area (in cells) inside the grid, to rounding.
//!
//! # Examples
//! ```
//! use qingshan::coverage::{Coverage, PixelPolygon};
//! use qingshan::grid::Window;
//! use geo::polygon;
//!
//! // A 2 × 1.5 rectangle offset by fractions of a cell.
//! let rect = polygon![(x: 0.25, y: 0.5), (x: 2.25, y: 0.5), (x: 2.25, y: 2.0), (x: 0.25, y: 2.0)];
//! let cov = Coverage::new(PixelPolygon::from_polygons(&[rect]), 4);
//! let runs = cov.window_runs(Window { col: 0, row: 0, width: 4, height: 4 });
//! let total: f64 = runs.iter().map(|r| r.frac * r.len as f64).sum();
//! assert!((total - 3.0).abs() < 1e-12);
//! ```

use geo::{Coord, LineString, Polygon};

use crate::grid::Window;

/// A polygon (or several) in pixel coordinates, as oriented edges: exterior
/// rings and holes are oriented so that each edge's contribution has the
/// right sign.
#[derive(Clone, Debug, Default)]
pub struct PixelPolygon {
    edges: Vec<Edge>,
    /// Bounding box `(xmin, ymin, xmax, ymax)` in pixel space.
    bbox: Option<(f64, f64, f64, f64)>,
}

#[derive(Clone, Copy, Debug)]
struct Edge {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

fn shoelace(coords: &[Coord<f64>]) -> f64 {
    let n = coords.len();
    if n < 3 {
        return 0.0;
    }
    let (ox, oy) = (coords[0].x, coords[0].y);
    let mut s = 0.0;
    for i in 0..n {
        let a = coords[i];
        let b = coords[(i + 1) % n];
        s += (a.x - ox) * (b.y - oy) - (b.x - ox) * (a.y - oy);
    }
    s / 2.0
}

impl PixelPolygon {
    /// Builds the edge set of polygons already in pixel coordinates.
    /// Parts of a multipolygon must not overlap (overlaps count once where
    /// the winding number exceeds 1: fractions are clamped to 1).
    pub fn from_polygons(polygons: &[Polygon<f64>]) -> PixelPolygon {
        let mut out = PixelPolygon::default();
        for p in polygons {
            out.add_ring(p.exterior(), false);
            for hole in p.interiors() {
                out.add_ring(hole, true);
            }
        }
        out
    }

    fn add_ring(&mut self, ring: &LineString<f64>, hole: bool) {
        let mut coords: Vec<Coord<f64>> = ring
            .0
            .iter()
            .copied()
            .filter(|c| c.x.is_finite() && c.y.is_finite())
            .collect();
        if coords.len() > 1 && coords[0] == coords[coords.len() - 1] {
            coords.pop();
        }
        if coords.len() < 3 {
            return;
        }
        let area = shoelace(&coords);
        if area == 0.0 {
            return;
        }
        // With y growing downwards in pixel space, an edge list whose
        // shoelace area is negative adds positive coverage (see module docs).
        if (area > 0.0) != hole {
            coords.reverse();
        }
        let n = coords.len();
        for i in 0..n {
            let a = coords[i];
            let b = coords[(i + 1) % n];
            if a.y == b.y {
                continue; // horizontal edges add no area
            }
            self.edges.push(Edge {
                x0: a.x,
                y0: a.y,
                x1: b.x,
                y1: b.y,
            });
        }
        let bb = self.bbox.get_or_insert((
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ));
        for c in &coords {
            bb.0 = bb.0.min(c.x);
            bb.1 = bb.1.min(c.y);
            bb.2 = bb.2.max(c.x);
            bb.3 = bb.3.max(c.y);
        }
    }

    /// Bounding box `(xmin, ymin, xmax, ymax)` in pixel space, `None` when
    /// the polygon is empty.
    pub fn bbox(&self) -> Option<(f64, f64, f64, f64)> {
        self.bbox
    }

    /// Whether the polygon has no area.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }
}

/// A run of cells on one row with the same coverage fraction: columns
/// `col..col+len` of row `row`, each covered by `frac` of its area.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run {
    /// Row of the cells.
    pub row: u32,
    /// First column.
    pub col: u32,
    /// Number of cells.
    pub len: u32,
    /// Fraction of each cell's area inside the polygon, in `(0, 1]`.
    pub frac: f64,
}

impl Run {
    /// Where the run's cells are in the row-major buffer of `window` (which
    /// must contain them).
    #[inline(always)]
    pub fn cells_in(&self, window: crate::grid::Window) -> std::ops::Range<usize> {
        let start =
            (self.row as usize - window.row) * window.width + (self.col as usize - window.col);
        start..start + self.len as usize
    }
}

/// Fractions below this are dropped as rounding noise (1e-13 of a cell).
const FRAC_EPS: f64 = 1e-13;

/// Coverage of one polygon on a grid, ready to be evaluated window by
/// window. Edges are bucketed by bands of rows so that a window only visits
/// the edges that cross its rows.
#[derive(Clone, Debug)]
pub struct Coverage {
    edges: Vec<Edge>,
    band_height: usize,
    /// `bands[b]` lists indices of edges crossing rows
    /// `b·band_height .. (b+1)·band_height`.
    bands: Vec<Vec<u32>>,
    first_band: usize,
    bbox: Option<(f64, f64, f64, f64)>,
}

/// One piece of an edge inside one cell (or left of the window).
#[derive(Clone, Copy, Debug)]
struct Rec {
    col: i64,
    local: f64,
    dy: f64,
}

impl Coverage {
    /// Prepares `polygon` for windows whose rows start at multiples of
    /// `band_height` (any window works; aligned ones visit fewer edges).
    pub fn new(polygon: PixelPolygon, band_height: usize) -> Coverage {
        let band_height = band_height.max(1);
        let mut cov = Coverage {
            edges: polygon.edges,
            band_height,
            bands: Vec::new(),
            first_band: 0,
            bbox: polygon.bbox,
        };
        let Some((_, ymin, _, ymax)) = cov.bbox else {
            return cov;
        };
        let bh = band_height as f64;
        let first = (ymin.max(0.0) / bh).floor() as usize;
        let last = (ymax.max(0.0) / bh).floor() as usize;
        // A polygon entirely above row 0 touches no band.
        if ymax <= 0.0 {
            cov.edges.clear();
            return cov;
        }
        cov.first_band = first;
        cov.bands = vec![Vec::new(); last - first + 1];
        for (i, e) in cov.edges.iter().enumerate() {
            let (lo, hi) = (e.y0.min(e.y1), e.y0.max(e.y1));
            if hi <= 0.0 {
                continue;
            }
            let b0 = (lo.max(0.0) / bh).floor() as usize;
            // An edge ending exactly on a band boundary does not enter the
            // next band.
            let mut b1 = (hi / bh).floor() as usize;
            if b1 > b0 && (b1 as f64) * bh >= hi {
                b1 -= 1;
            }
            for b in b0..=b1 {
                cov.bands[b - first].push(i as u32);
            }
        }
        cov
    }

    /// Bounding box of the polygon in pixel space.
    pub fn bbox(&self) -> Option<(f64, f64, f64, f64)> {
        self.bbox
    }

    /// Whether the polygon's bounding box meets `window`.
    pub fn touches(&self, window: Window) -> bool {
        match self.bbox {
            None => false,
            Some((xmin, ymin, xmax, ymax)) => {
                xmax > window.col as f64
                    && xmin < window.col_end() as f64
                    && ymax > window.row as f64
                    && ymin < window.row_end() as f64
            }
        }
    }

    /// Coverage runs of the cells of `window` (grid coordinates), row by row,
    /// left to right. Full cells come as runs with `frac == 1.0`.
    pub fn window_runs(&self, window: Window) -> Vec<Run> {
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        self.window_runs_into(window, &mut scratch, &mut out);
        out
    }

    /// Like [`Coverage::window_runs`], reusing buffers: `out` is cleared and
    /// filled.
    pub fn window_runs_into(&self, window: Window, scratch: &mut Scratch, out: &mut Vec<Run>) {
        out.clear();
        if !self.touches(window) || window.width == 0 || window.height == 0 {
            return;
        }
        let rows = &mut scratch.rows;
        for r in rows.iter_mut() {
            r.clear();
        }
        if rows.len() < window.height {
            rows.resize_with(window.height, Vec::new);
        }
        let r0 = window.row;
        let r1 = window.row_end();
        let c0 = window.col as i64;
        let c1 = window.col_end() as i64;
        let band_lo = r0 / self.band_height;
        let band_hi = (r1 - 1) / self.band_height;
        for band in band_lo..=band_hi {
            let Some(idx) = band
                .checked_sub(self.first_band)
                .and_then(|b| self.bands.get(b))
            else {
                continue;
            };
            for &i in idx {
                let e = &self.edges[i as usize];
                // Each edge is handled once per window: in the first band of
                // the window it appears in.
                let lo = e.y0.min(e.y1).max(r0 as f64);
                let first_band_of_edge = (lo / self.band_height as f64).floor() as usize;
                if first_band_of_edge.max(band_lo) != band {
                    continue;
                }
                edge_pieces(e, r0, r1, c0, c1, rows);
            }
        }
        for (k, recs) in rows.iter_mut().take(window.height).enumerate() {
            if recs.is_empty() {
                continue;
            }
            recs.sort_by_key(|r| r.col);
            sweep_row((r0 + k) as u32, recs, c0, c1, out);
        }
    }
}

/// Reusable buffers for [`Coverage::window_runs_into`].
#[derive(Default, Debug)]
pub struct Scratch {
    rows: Vec<Vec<Rec>>,
}

/// x of the edge at height `y`, exact at the endpoints.
#[inline]
fn x_at(e: &Edge, y: f64) -> f64 {
    if y == e.y0 {
        e.x0
    } else if y == e.y1 {
        e.x1
    } else {
        e.x0 + (y - e.y0) * (e.x1 - e.x0) / (e.y1 - e.y0)
    }
}

/// y of the edge at `x` (the edge is not vertical), clamped to `[ylo, yhi]`.
#[inline]
fn y_at(e: &Edge, x: f64, ylo: f64, yhi: f64) -> f64 {
    let y = if x == e.x0 {
        e.y0
    } else if x == e.x1 {
        e.y1
    } else {
        e.y0 + (x - e.x0) * (e.y1 - e.y0) / (e.x1 - e.x0)
    };
    y.clamp(ylo, yhi)
}

/// Cuts edge `e` into pieces per row strip of `r0..r1` and per column of
/// `c0..c1`, appending one record per touched cell; pieces left of the
/// window go to column `c0 − 1` (they only raise the winding number).
fn edge_pieces(e: &Edge, r0: usize, r1: usize, c0: i64, c1: i64, rows: &mut [Vec<Rec>]) {
    let (ymin, ymax) = (e.y0.min(e.y1), e.y0.max(e.y1));
    let sign = if e.y1 > e.y0 { 1.0 } else { -1.0 };
    let first = (ymin.floor().max(r0 as f64)) as usize;
    let last = (ymax.ceil().min(r1 as f64)) as usize; // exclusive
    let (exmin, exmax) = (e.x0.min(e.x1), e.x0.max(e.x1));
    let left_sentinel = c0 - 1;
    for r in first..last {
        let ya = ymin.max(r as f64);
        let yb = ymax.min(r as f64 + 1.0);
        if yb <= ya {
            continue;
        }
        let recs = &mut rows[r - r0];
        let xa = x_at(e, ya);
        let xb = x_at(e, yb);
        // Left and right ends with their exact y (a strip boundary or a
        // vertex): the y steps below then telescope exactly.
        let ((xl, yl), (xr, yr)) = if xa <= xb {
            ((xa, ya), (xb, yb))
        } else {
            ((xb, yb), (xa, ya))
        };
        let (xl, xr) = (xl.max(exmin), xr.min(exmax));
        // Within one strip all y lie in [r, r+1], so differences of them are
        // exact (Sterbenz) and so are sums of those differences: the running
        // winding number between touched cells is exact, and cells outside
        // the polygon get exactly 0, not rounding noise.
        let dy_piece = sign * (yb - ya);
        if xr <= c0 as f64 {
            recs.push(Rec {
                col: left_sentinel,
                local: 0.0,
                dy: dy_piece,
            });
            continue;
        }
        if xl >= c1 as f64 {
            continue;
        }
        if xl == xr {
            // Vertical within this strip: one column.
            let c = xl.floor() as i64;
            let local = dy_piece * ((c + 1) as f64 - xl);
            recs.push(Rec {
                col: c,
                local,
                dy: dy_piece,
            });
            continue;
        }
        // Walk the columns from left to right; y is monotonic along x.
        let y_of = |x: f64| if x == xr { yr } else { y_at(e, x, ya, yb) };
        let mut u = xl;
        let mut yu = yl;
        if u < c0 as f64 {
            let v = c0 as f64;
            let yv = y_of(v);
            recs.push(Rec {
                col: left_sentinel,
                local: 0.0,
                dy: sign * (yv - yu).abs(),
            });
            u = v;
            yu = yv;
        }
        let mut c = u.floor() as i64;
        while u < xr && c < c1 {
            let v = ((c + 1) as f64).min(xr);
            let yv = y_of(v);
            let dy = sign * (yv - yu).abs();
            recs.push(Rec {
                col: c,
                local: dy * ((c + 1) as f64 - (u + v) / 2.0),
                dy,
            });
            u = v;
            yu = yv;
            c += 1;
        }
    }
}

/// Turns one row's sorted records into runs.
fn sweep_row(row: u32, recs: &[Rec], c0: i64, c1: i64, out: &mut Vec<Run>) {
    let mut cover = 0.0f64;
    let mut next = c0; // first column not yet emitted
    let mut i = 0;
    let emit = |out: &mut Vec<Run>, col: i64, len: i64, frac: f64| {
        // Snap rounding noise around whole numbers (interior cells, and the
        // winding number 2 of overlapping parts, which counts once).
        let whole = frac.round();
        let frac = if (frac - whole).abs() < 1e-12 {
            whole.clamp(0.0, 1.0)
        } else {
            frac.clamp(0.0, 1.0)
        };
        if frac <= FRAC_EPS || len <= 0 {
            return;
        }
        if let Some(last) = out.last_mut()
            && last.row == row
            && last.frac == 1.0
            && frac == 1.0
            && (last.col + last.len) as i64 == col
        {
            last.len += len as u32;
            return;
        }
        out.push(Run {
            row,
            col: col as u32,
            len: len as u32,
            frac,
        });
    };
    while i < recs.len() {
        let col = recs[i].col;
        let mut local = 0.0;
        let mut dy = 0.0;
        while i < recs.len() && recs[i].col == col {
            local += recs[i].local;
            dy += recs[i].dy;
            i += 1;
        }
        if col < c0 {
            cover += dy;
            continue;
        }
        if col >= c1 {
            break;
        }
        if col > next {
            emit(out, next, col - next, cover);
        }
        emit(out, col, 1, cover + local);
        cover += dy;
        next = col + 1;
    }
    if next < c1 {
        emit(out, next, c1 - next, cover);
    }
}

#[cfg(test)]
mod tests;
