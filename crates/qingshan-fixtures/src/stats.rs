//! Simple centre-in-polygon cell counting, used to describe the fixtures
//! (deliberately not the exact coverage qingshan computes).

use geo::{Coord, MultiPolygon};

use crate::raster_io::Grid;

/// Row spans `(row, first_col, end_col)` of the cells whose centre lies in
/// the polygon (even-odd rule, so holes and multiple parts work).
pub(crate) fn centre_spans(mp: &MultiPolygon, grid: &Grid) -> Vec<(usize, usize, usize)> {
    let mut rings: Vec<&[Coord]> = Vec::new();
    for p in &mp.0 {
        rings.push(&p.exterior().0);
        for h in p.interiors() {
            rings.push(&h.0);
        }
    }
    let mut out = Vec::new();
    let mut xs = Vec::new();
    for row in 0..grid.height {
        let y = grid.y0 - (row as f64 + 0.5) * grid.dy;
        xs.clear();
        for r in &rings {
            for w in r.windows(2) {
                let (p, q) = (w[0], w[1]);
                if (p.y > y) != (q.y > y) {
                    xs.push(p.x + (y - p.y) / (q.y - p.y) * (q.x - p.x));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            // Cells whose centre x0 + (c + 0.5) dx lies in [a, b).
            let a = ((pair[0] - grid.x0) / grid.dx - 0.5).ceil().max(0.0);
            let b = ((pair[1] - grid.x0) / grid.dx - 0.5).ceil().max(0.0);
            let (a, b) = ((a as usize).min(grid.width), (b as usize).min(grid.width));
            if b > a {
                out.push((row, a, b));
            }
        }
    }
    out
}

/// Class histogram (index = class code) of the cells whose centre lies in
/// the polygon; `classes` is the whole grid, row-major.
pub(crate) fn histogram(mp: &MultiPolygon, grid: &Grid, classes: &[u8]) -> [u64; 10] {
    let mut h = [0u64; 10];
    for (row, a, b) in centre_spans(mp, grid) {
        for &c in &classes[row * grid.width + a..row * grid.width + b] {
            h[(c as usize).min(9)] += 1;
        }
    }
    h
}

/// Counts the cells inside the polygon where `from(c19) && to(c24)`.
pub(crate) fn count_changes(
    mp: &MultiPolygon,
    grid: &Grid,
    c19: &[u8],
    c24: &[u8],
    pred: impl Fn(u8, u8) -> bool,
) -> u64 {
    let mut n = 0;
    for (row, a, b) in centre_spans(mp, grid) {
        for i in row * grid.width + a..row * grid.width + b {
            if pred(c19[i], c24[i]) {
                n += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn square_covers_expected_cells() {
        let grid = Grid {
            x0: 0.0,
            y0: 100.0,
            dx: 10.0,
            dy: 10.0,
            width: 10,
            height: 10,
        };
        // Covers x in [20, 50], y in [40, 70]: centres 25, 35, 45 in both.
        let p = polygon![(x: 20.0, y: 40.0), (x: 50.0, y: 40.0), (x: 50.0, y: 70.0), (x: 20.0, y: 70.0)];
        let spans = centre_spans(&MultiPolygon::new(vec![p]), &grid);
        assert_eq!(spans, vec![(3, 2, 5), (4, 2, 5), (5, 2, 5)]);
    }
}
