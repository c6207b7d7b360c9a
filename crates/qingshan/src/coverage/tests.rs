//! Coverage against analytic areas and property tests: every fraction in
//! [0, 1], fractions × cell area sum to the polygon's area inside the
//! grid.
#![allow(clippy::needless_range_loop)] // cell (row, col) indexing reads best here

use super::*;
use approx::assert_relative_eq;
use geo::{Area, polygon};

fn win(w: usize, h: usize) -> Window {
    Window {
        col: 0,
        row: 0,
        width: w,
        height: h,
    }
}

/// Dense coverage matrix of `polys` on a `w × h` grid, evaluated with
/// windows of `ww × wh` (to exercise window clipping).
fn dense(polys: &[Polygon<f64>], w: usize, h: usize, ww: usize, wh: usize) -> Vec<Vec<f64>> {
    let cov = Coverage::new(PixelPolygon::from_polygons(polys), wh);
    let mut m = vec![vec![0.0; w]; h];
    let grid = crate::grid::Grid {
        transform: crate::grid::GeoTransform([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
        width: w,
        height: h,
        crs: crate::grid::Crs {
            wkt: String::new(),
            label: String::new(),
            epsg: None,
            geographic: false,
            ellipsoid: crate::area::Ellipsoid::GRS80,
            linear_unit_m: 1.0,
        },
    };
    for window in grid.windows(ww, wh) {
        for run in cov.window_runs(window) {
            assert!(run.frac > 0.0 && run.frac <= 1.0, "{run:?}");
            assert!(run.col as usize >= window.col);
            assert!((run.col + run.len) as usize <= window.col_end());
            assert!(run.row as usize >= window.row && (run.row as usize) < window.row_end());
            for c in run.col..run.col + run.len {
                let cell = &mut m[run.row as usize][c as usize];
                assert_eq!(*cell, 0.0, "cell visited twice");
                *cell = run.frac;
            }
        }
    }
    m
}

fn total(m: &[Vec<f64>]) -> f64 {
    m.iter().flatten().sum()
}

#[test]
fn rectangle_offset_by_fractions_of_a_cell() {
    // x 0.25..3.75, y 1.5..4.2: known per-cell fractions.
    let rect = polygon![(x: 0.25, y: 1.5), (x: 3.75, y: 1.5), (x: 3.75, y: 4.2), (x: 0.25, y: 4.2)];
    for (ww, wh) in [(8, 8), (2, 3), (1, 1)] {
        let m = dense(std::slice::from_ref(&rect), 6, 6, ww, wh);
        let fx = [0.75, 1.0, 1.0, 0.75, 0.0, 0.0];
        let fy = [0.0, 0.5, 1.0, 1.0, 0.2, 0.0];
        for r in 0..6 {
            for c in 0..6 {
                assert_relative_eq!(m[r][c], fx[c] * fy[r], epsilon = 1e-12);
            }
        }
        // Interior cells are exactly 1.
        assert_eq!(m[2][1], 1.0);
        assert_eq!(m[3][2], 1.0);
        assert_relative_eq!(total(&m), 3.5 * 2.7, epsilon = 1e-12);
    }
}

#[test]
fn triangle_has_half_cells_on_its_diagonal() {
    // Right triangle (0,0)-(4,0)-(0,4): cells on the diagonal are half.
    let tri = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 0.0, y: 4.0)];
    let m = dense(&[tri], 5, 5, 3, 2);
    for r in 0..4 {
        for c in 0..4 {
            let expect = if r + c < 3 {
                1.0
            } else if r + c == 3 {
                0.5
            } else {
                0.0
            };
            assert_relative_eq!(m[r][c], expect, epsilon = 1e-12);
        }
    }
    assert_relative_eq!(total(&m), 8.0, epsilon = 1e-12);
}

#[test]
fn polygon_with_a_hole() {
    let p = polygon!(
        exterior: [(x: 0.5, y: 0.5), (x: 5.5, y: 0.5), (x: 5.5, y: 5.5), (x: 0.5, y: 5.5)],
        interiors: [[(x: 2.0, y: 2.0), (x: 3.5, y: 2.0), (x: 3.5, y: 4.0), (x: 2.0, y: 4.0)]],
    );
    let m = dense(&[p], 7, 7, 4, 4);
    assert_relative_eq!(total(&m), 25.0 - 1.5 * 2.0, epsilon = 1e-12);
    assert_eq!(m[2][2], 0.0);
    assert_relative_eq!(m[2][3], 0.5, epsilon = 1e-12);
    assert_eq!(m[1][1], 1.0);
    // Either ring orientation gives the same answer.
    let reversed = polygon!(
        exterior: [(x: 0.5, y: 5.5), (x: 5.5, y: 5.5), (x: 5.5, y: 0.5), (x: 0.5, y: 0.5)],
        interiors: [[(x: 2.0, y: 4.0), (x: 3.5, y: 4.0), (x: 3.5, y: 2.0), (x: 2.0, y: 2.0)]],
    );
    assert_eq!(dense(&[reversed], 7, 7, 4, 4), m);
}

#[test]
fn multipolygon_parts_add_up() {
    let a = polygon![(x: 0.5, y: 0.5), (x: 2.0, y: 0.5), (x: 2.0, y: 2.0), (x: 0.5, y: 2.0)];
    let b = polygon![(x: 4.0, y: 3.25), (x: 6.0, y: 3.25), (x: 5.0, y: 5.25)];
    let m = dense(&[a.clone(), b.clone()], 8, 8, 3, 3);
    assert_relative_eq!(
        total(&m),
        a.unsigned_area() + b.unsigned_area(),
        epsilon = 1e-12
    );
    assert_relative_eq!(m[0][0], 0.25, epsilon = 1e-12);
}

#[test]
fn polygon_larger_than_the_grid_covers_every_cell() {
    let big =
        polygon![(x: -10.3, y: -7.1), (x: 20.7, y: -7.1), (x: 20.7, y: 30.9), (x: -10.3, y: 30.9)];
    let m = dense(&[big], 5, 4, 2, 3);
    assert!(m.iter().flatten().all(|&v| v == 1.0));
}

#[test]
fn polygon_outside_the_grid_covers_nothing() {
    let away = polygon![(x: 10.0, y: 1.0), (x: 12.0, y: 1.0), (x: 12.0, y: 3.0)];
    let above = polygon![(x: 1.0, y: -5.0), (x: 3.0, y: -5.0), (x: 3.0, y: -1.0)];
    let left = polygon![(x: -9.0, y: 1.0), (x: -1.0, y: 1.0), (x: -1.0, y: 3.0)];
    assert_eq!(total(&dense(&[away, above, left], 5, 5, 5, 5)), 0.0);
}

#[test]
fn polygon_thinner_than_a_cell() {
    // A sliver 0.01 wide crossing four cells diagonally-ish.
    let sliver = polygon![(x: 1.0, y: 0.5), (x: 1.01, y: 0.5), (x: 3.01, y: 3.5), (x: 3.0, y: 3.5)];
    let m = dense(std::slice::from_ref(&sliver), 5, 5, 2, 2);
    assert_relative_eq!(total(&m), 0.01 * 3.0, epsilon = 1e-13);
    assert!(m.iter().flatten().all(|&v| v < 0.02));
}

#[test]
fn grid_aligned_square_gives_whole_cells() {
    let sq = polygon![(x: 1.0, y: 1.0), (x: 3.0, y: 1.0), (x: 3.0, y: 3.0), (x: 1.0, y: 3.0)];
    let cov = Coverage::new(PixelPolygon::from_polygons(&[sq]), 8);
    let runs = cov.window_runs(win(5, 5));
    assert_eq!(
        runs,
        vec![
            Run {
                row: 1,
                col: 1,
                len: 2,
                frac: 1.0
            },
            Run {
                row: 2,
                col: 1,
                len: 2,
                frac: 1.0
            },
        ]
    );
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    /// A random star-shaped polygon (simple by construction) with an
    /// optional star-shaped hole around the same centre.
    fn star(cx: f64, cy: f64, radii: &[f64], phase: f64, hole: Option<f64>) -> Polygon<f64> {
        let n = radii.len();
        let ring = |scale: f64, rev: bool| -> Vec<(f64, f64)> {
            let mut v: Vec<(f64, f64)> = (0..n)
                .map(|i| {
                    let t = phase + i as f64 / n as f64 * std::f64::consts::TAU;
                    (
                        cx + scale * radii[i] * t.cos(),
                        cy + scale * radii[i] * t.sin(),
                    )
                })
                .collect();
            if rev {
                v.reverse();
            }
            v
        };
        let exterior = LineString::from(ring(1.0, false));
        let interiors = match hole {
            // The hole is a scaled copy well inside the smallest radius.
            Some(s) => {
                let rmin = radii.iter().cloned().fold(f64::INFINITY, f64::min);
                let rmax = radii.iter().cloned().fold(0.0, f64::max);
                vec![LineString::from(ring(s * rmin / rmax, true))]
            }
            None => vec![],
        };
        Polygon::new(exterior, interiors)
    }

    /// Area of `ring` clipped to the unit cell at `(x, y)` by
    /// Sutherland–Hodgman (exact for a convex clip window; degenerate
    /// edges of concave results add no area). An independent reference.
    fn clipped_area(ring: &[(f64, f64)], x: f64, y: f64) -> f64 {
        let mut poly: Vec<(f64, f64)> = ring.to_vec();
        if poly.first() == poly.last() {
            poly.pop();
        }
        // (inside test, intersection) for each of the four half-planes.
        let planes: [(usize, f64, bool); 4] = [
            (0, x, true),
            (0, x + 1.0, false),
            (1, y, true),
            (1, y + 1.0, false),
        ];
        for (axis, k, keep_greater) in planes {
            let get = |p: (f64, f64)| if axis == 0 { p.0 } else { p.1 };
            let inside = |p: (f64, f64)| {
                if keep_greater {
                    get(p) >= k
                } else {
                    get(p) <= k
                }
            };
            let mut out = Vec::new();
            for i in 0..poly.len() {
                let a = poly[i];
                let b = poly[(i + 1) % poly.len()];
                let cross = |a: (f64, f64), b: (f64, f64)| {
                    let t = (k - get(a)) / (get(b) - get(a));
                    (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
                };
                match (inside(a), inside(b)) {
                    (true, true) => out.push(b),
                    (true, false) => out.push(cross(a, b)),
                    (false, true) => {
                        out.push(cross(a, b));
                        out.push(b);
                    }
                    (false, false) => {}
                }
            }
            poly = out;
            if poly.is_empty() {
                return 0.0;
            }
        }
        let coords: Vec<Coord<f64>> = poly.iter().map(|&(x, y)| Coord { x, y }).collect();
        shoelace(&coords).abs()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn coverage_sums_to_planar_area(
            cx in 20.0f64..44.0,
            cy in 20.0f64..44.0,
            radii in proptest::collection::vec(0.5f64..19.0, 3..40),
            phase in 0.0f64..6.3,
            hole in proptest::option::of(0.1f64..0.9),
            ww in 1usize..70,
            wh in 1usize..70,
        ) {
            let p = star(cx, cy, &radii, phase, hole);
            let m = dense(std::slice::from_ref(&p), 64, 64, ww, wh);
            let expect = p.unsigned_area();
            let got = total(&m);
            prop_assert!(((got - expect) / expect).abs() < 1e-9, "got {got}, expected {expect}");
        }

        /// Far from the origin, rounding must not leak coverage into
        /// cells outside the polygon (e.g. along the rest of a row).
        #[test]
        fn no_coverage_outside_the_bounding_box_far_from_the_origin(
            cx in 3000.0f64..9000.0,
            cy in 2000.0f64..8000.0,
            radii in proptest::collection::vec(0.5f64..40.0, 3..60),
            phase in 0.0f64..6.3,
            hole in proptest::option::of(0.1f64..0.9),
        ) {
            let p = star(cx, cy, &radii, phase, hole);
            let cov = Coverage::new(PixelPolygon::from_polygons(std::slice::from_ref(&p)), 64);
            let (x0, y0, x1, y1) = cov.bbox().unwrap();
            let window = Window { col: 0, row: y0.floor() as usize, width: 10_000, height: (y1.ceil() - y0.floor()) as usize };
            let runs = cov.window_runs(window);
            let mut sum = 0.0;
            for run in &runs {
                prop_assert!(run.col as f64 >= x0.floor() && (run.col + run.len) as f64 <= x1.ceil(), "{run:?} outside x {x0}..{x1}");
                sum += run.frac * run.len as f64;
            }
            prop_assert!((sum / p.unsigned_area() - 1.0).abs() < 1e-9);
        }

        #[test]
        fn fractions_match_clipping_cell_by_cell(
            cx in 4.0f64..8.0,
            cy in 4.0f64..8.0,
            radii in proptest::collection::vec(0.5f64..3.9, 3..12),
            phase in 0.0f64..6.3,
        ) {
            let p = star(cx, cy, &radii, phase, None);
            let m = dense(std::slice::from_ref(&p), 12, 12, 5, 5);
            let ring: Vec<(f64, f64)> = p.exterior().0.iter().map(|c| (c.x, c.y)).collect();
            for r in 0..12 {
                for c in 0..12 {
                    let expect = clipped_area(&ring, c as f64, r as f64);
                    prop_assert!((m[r][c] - expect).abs() < 1e-12, "cell ({c},{r}): {} vs {expect}", m[r][c]);
                }
            }
        }
    }
}
