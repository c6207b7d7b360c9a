//! Slope by Horn's 3×3 method, cell for cell as `gdaldem slope
//! -compute_edges` computes it, on a window of a DEM with a one-cell halo.
//!
//! For the cell at the centre of the window
//!
//! ```text
//!  a b c
//!  d e f        dz/dx = ((c + 2f + i) − (a + 2d + g)) / (8 · ew)
//!  g h i        dz/dy = ((g + 2h + i) − (a + 2b + c)) / (8 · ns)
//! ```
//!
//! and slope = atan(√(dz/dx² + dz/dy²)), in degrees; `ew` and `ns` are
//! the metres between cell centres along a row and a column (on a lon/lat
//! DEM, from the ellipsoid at the row's latitude).
//!
//! Edges and nodata, as gdaldem: a nodata centre has no slope; a
//! neighbour beyond the DEM's first or last column is extrapolated
//! linearly from the two cells inside (2·z₀ − z₁); in the first and last
//! row, the row beyond is extrapolated the same way and columns beyond
//! the edge repeat the edge column; a neighbour that is nodata (or
//! extrapolated from nodata) takes the centre's height.
//!
//! Invariant: on a plane z = αx + βy every cell but the four corners has
//! slope atan(√(α² + β²)).

use crate::area::Ellipsoid;
use crate::grid::{Grid, Window};

/// Metres between cell centres, per row.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Spacing {
    /// A projected grid: the same spacing on every row.
    Planar {
        /// Along a row.
        ew: f64,
        /// Along a column.
        ns: f64,
    },
    /// A lon/lat grid: spacing from the ellipsoid at each row's latitude.
    Geographic {
        /// The ellipsoid.
        ellipsoid: Ellipsoid,
        /// Latitude of the top edge of row 0 (degrees).
        top: f64,
        /// Row step in degrees (negative: north up).
        dlat: f64,
        /// Column step in degrees.
        dlon: f64,
    },
}

impl Spacing {
    /// The spacing of a north-up grid (heights in metres).
    pub(crate) fn of(grid: &Grid) -> Spacing {
        let t = &grid.transform.0;
        if grid.crs.geographic {
            Spacing::Geographic {
                ellipsoid: grid.crs.ellipsoid,
                top: t[3],
                dlat: t[5],
                dlon: t[1],
            }
        } else {
            let unit = grid.crs.linear_unit_m;
            Spacing::Planar {
                ew: t[1].abs() * unit,
                ns: t[5].abs() * unit,
            }
        }
    }

    /// `(ew, ns)` in metres at row `row`: along a parallel, N(φ)·cos φ·Δλ;
    /// along a meridian, M(φ)·Δφ, at the latitude φ of the row's centre.
    pub(crate) fn at(&self, row: usize) -> (f64, f64) {
        match *self {
            Spacing::Planar { ew, ns } => (ew, ns),
            Spacing::Geographic {
                ellipsoid,
                top,
                dlat,
                dlon,
            } => {
                let phi = (top + (row as f64 + 0.5) * dlat).to_radians();
                let (m, n) = ellipsoid.radii(phi);
                (
                    n * phi.cos() * dlon.to_radians().abs(),
                    m * dlat.to_radians().abs(),
                )
            }
        }
    }
}

/// Heights of a window of the DEM (row major, NaN = nodata), with the
/// DEM's size, so that edges are known.
pub(crate) struct Heights<'a> {
    /// The heights.
    pub(crate) z: &'a [f64],
    /// Which cells of the DEM they are.
    pub(crate) window: Window,
    /// The DEM's `(width, height)`.
    pub(crate) size: (usize, usize),
}

impl Heights<'_> {
    #[inline]
    fn at(&self, row: i64, col: i64) -> f64 {
        let r = row as usize - self.window.row;
        let c = col as usize - self.window.col;
        self.z[r * self.window.width + c]
    }
}

/// The window a slope window needs: `out` widened by one cell on every
/// side, within a DEM of `size`.
pub(crate) fn with_halo(out: Window, size: (usize, usize)) -> Window {
    let col = out.col.saturating_sub(1);
    let row = out.row.saturating_sub(1);
    Window {
        col,
        row,
        width: (out.col_end() + 1).min(size.0) - col,
        height: (out.row_end() + 1).min(size.1) - row,
    }
}

/// Slopes in degrees of the cells of `out` (row major into `slopes`, NaN
/// where there is none), from `h`, which holds at least
/// [`with_halo`]`(out)`. Degrees are rounded to `f32`, as gdaldem writes
/// them.
pub(crate) fn slopes(h: &Heights<'_>, out: Window, spacing: &Spacing, slopes: &mut Vec<f32>) {
    slopes.clear();
    slopes.resize(out.cells(), f32::NAN);
    for (k, row) in slopes.chunks_mut(out.width.max(1)).enumerate() {
        slope_row(h, out.row + k, out.col, row, spacing);
    }
}

/// Like [`slopes`], but only the cells of each row's span: `spans[k]` =
/// `(first, end)` columns (relative to `out`) of row `k` of `out` (empty
/// when `first >= end`); the other cells are NaN.
pub(crate) fn slopes_in(
    h: &Heights<'_>,
    out: Window,
    spans: &[(usize, usize)],
    spacing: &Spacing,
    slopes: &mut Vec<f32>,
) {
    slopes.clear();
    slopes.resize(out.cells(), f32::NAN);
    for (k, &(c0, c1)) in spans.iter().enumerate() {
        if c0 < c1 {
            let at = k * out.width;
            slope_row(
                h,
                out.row + k,
                out.col + c0,
                &mut slopes[at + c0..at + c1],
                spacing,
            );
        }
    }
}

/// Slopes of the cells `col..col + out.len()` of row `r` (`h` holds
/// their halo).
pub(crate) fn slope_row(h: &Heights<'_>, r: usize, col: usize, out: &mut [f32], spacing: &Spacing) {
    let (w, ht) = (h.size.0, h.size.1);
    let hw = h.window.width;
    let (ew, ns) = spacing.at(r);
    let (kx, ky) = (1.0 / (8.0 * ew), 1.0 / (8.0 * ns));
    let degrees = |hx: f64, hy: f64| -> f32 {
        let (gx, gy) = (hx * kx, hy * ky);
        (gx * gx + gy * gy).sqrt().atan().to_degrees() as f32
    };
    let inner_row = r > 0 && r + 1 < ht;
    let (top, mid, bot) = if inner_row {
        let base = |rr: usize| (rr - h.window.row) * hw;
        (
            &h.z[base(r - 1)..base(r - 1) + hw],
            &h.z[base(r)..base(r) + hw],
            &h.z[base(r + 1)..base(r + 1) + hw],
        )
    } else {
        (&[][..], &[][..], &[][..])
    };
    for (i, slot) in out.iter_mut().enumerate() {
        let c = col + i;
        if inner_row && c > 0 && c + 1 < w {
            let j = c - h.window.col;
            let e = mid[j];
            if e.is_nan() {
                *slot = f32::NAN;
                continue;
            }
            let (a, b, cc) = (top[j - 1], top[j], top[j + 1]);
            let (d, f) = (mid[j - 1], mid[j + 1]);
            let (g, hh, i) = (bot[j - 1], bot[j], bot[j + 1]);
            let hx = (cc + 2.0 * f + i) - (a + 2.0 * d + g);
            let hy = (g + 2.0 * hh + i) - (a + 2.0 * b + cc);
            if !hx.is_nan() && !hy.is_nan() {
                *slot = degrees(hx, hy);
                continue;
            }
        }
        *slot = match edge_window(h, r as i64, c as i64) {
            Some(n) => {
                let hx = (n[2] + 2.0 * n[5] + n[8]) - (n[0] + 2.0 * n[3] + n[6]);
                let hy = (n[6] + 2.0 * n[7] + n[8]) - (n[0] + 2.0 * n[1] + n[2]);
                degrees(hx, hy)
            }
            None => f32::NAN,
        };
    }
}

/// The 3×3 neighbourhood of a cell on an edge or next to nodata, by
/// gdaldem's rules (module docs); `None` when the centre is nodata.
fn edge_window(h: &Heights<'_>, r: i64, c: i64) -> Option<[f64; 9]> {
    let (w, ht) = (h.size.0 as i64, h.size.1 as i64);
    let centre = h.at(r, c);
    if centre.is_nan() {
        return None;
    }
    // NaN when either is nodata, as gdaldem's INTERPOL.
    let beyond = |a: f64, b: f64| 2.0 * a - b;
    let mut n = [0.0; 9];
    for (k, v) in n.iter_mut().enumerate() {
        let (rr, cc) = (r + k as i64 / 3 - 1, c + k as i64 % 3 - 1);
        *v = if r == 0 || r == ht - 1 {
            let cc = cc.clamp(0, w - 1);
            if rr < 0 {
                beyond(h.at(0, cc), h.at(1, cc))
            } else if rr >= ht {
                beyond(h.at(ht - 1, cc), h.at(ht - 2, cc))
            } else {
                h.at(rr, cc)
            }
        } else if cc < 0 {
            beyond(h.at(rr, 0), h.at(rr, 1))
        } else if cc >= w {
            beyond(h.at(rr, w - 1), h.at(rr, w - 2))
        } else {
            h.at(rr, cc)
        };
        if v.is_nan() {
            *v = centre;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(col: usize, row: usize, width: usize, height: usize) -> Window {
        Window {
            col,
            row,
            width,
            height,
        }
    }

    /// A plane z = αx + βy (x east, y north; rows go south): every cell
    /// but the corners has the plane's slope, in any window of the grid.
    #[test]
    fn a_plane_has_its_slope_everywhere_but_the_corners() {
        let (w, ht) = (9usize, 7usize);
        let (alpha, beta, cell) = (0.3, -0.45, 25.0);
        let z: Vec<f64> = (0..ht)
            .flat_map(|r| {
                (0..w).map(move |c| 1000.0 + alpha * c as f64 * cell - beta * r as f64 * cell)
            })
            .collect();
        let expected = (alpha * alpha + beta * beta).sqrt().atan().to_degrees();
        let spacing = Spacing::Planar { ew: cell, ns: cell };
        for out in [window(0, 0, w, ht), window(3, 2, 4, 3), window(0, 5, 2, 2)] {
            let halo = with_halo(out, (w, ht));
            let part: Vec<f64> = (halo.row..halo.row_end())
                .flat_map(|r| z[r * w + halo.col..r * w + halo.col_end()].to_vec())
                .collect();
            let h = Heights {
                z: &part,
                window: halo,
                size: (w, ht),
            };
            let mut s = Vec::new();
            slopes(&h, out, &spacing, &mut s);
            for (k, v) in s.iter().enumerate() {
                let (r, c) = (out.row + k / out.width, out.col + k % out.width);
                let corner = (r == 0 || r == ht - 1) && (c == 0 || c == w - 1);
                if !corner {
                    assert!(
                        (*v as f64 - expected).abs() < 1e-4,
                        "cell ({r}, {c}): {v} vs {expected}"
                    );
                } else {
                    // gdaldem repeats the edge column in the first and
                    // last rows: half the east-west gradient.
                    let half = ((alpha / 2.0).powi(2) + beta * beta)
                        .sqrt()
                        .atan()
                        .to_degrees();
                    assert!((*v as f64 - half).abs() < 1e-4, "corner ({r}, {c}): {v}");
                }
            }
        }
    }

    /// Nodata: the centre has none; a nodata neighbour takes the centre's
    /// height.
    #[test]
    fn nodata_neighbours_take_the_centre_height() {
        let mut z = vec![10.0, 10.0, 10.0, 10.0, 10.0, 18.0, 10.0, 10.0, 10.0];
        // The centre cell's slope on the 3 × 3 grid.
        let centre = |z: &[f64]| {
            let mut s = Vec::new();
            let h = Heights {
                z,
                window: window(0, 0, 3, 3),
                size: (3, 3),
            };
            slopes(
                &h,
                window(1, 1, 1, 1),
                &Spacing::Planar { ew: 1.0, ns: 1.0 },
                &mut s,
            );
            s[0]
        };
        // hx = 2·8 = 16 → gx = 2.
        assert!((centre(&z) as f64 - 2f64.atan().to_degrees()).abs() < 1e-5);
        z[5] = f64::NAN;
        assert_eq!(centre(&z), 0.0);
        z[4] = f64::NAN;
        assert!(centre(&z).is_nan());
    }

    /// On a lon/lat grid the spacing is the ellipsoid's at the row: one
    /// arc-second east at 35°N on GRS 80 is 25.35 m, north 30.82 m
    /// (N cos φ Δλ and M Δφ, worked out by hand).
    #[test]
    fn geographic_spacing_comes_from_the_ellipsoid() {
        let s = Spacing::Geographic {
            ellipsoid: Ellipsoid::GRS80,
            top: 35.0 + 0.5 / 3600.0,
            dlat: -1.0 / 3600.0,
            dlon: 1.0 / 3600.0,
        };
        let (ew, ns) = s.at(0);
        let phi = 35f64.to_radians();
        let e2 = Ellipsoid::GRS80.e2();
        let w = (1.0 - e2 * phi.sin().powi(2)).sqrt();
        let n = 6_378_137.0 / w;
        let m = 6_378_137.0 * (1.0 - e2) / w.powi(3);
        let arc = (1.0f64 / 3600.0).to_radians();
        assert!((ew - n * phi.cos() * arc).abs() < 1e-9);
        assert!((ns - m * arc).abs() < 1e-9);
        assert!((ew - 25.35).abs() < 0.01, "{ew}");
        assert!((ns - 30.82).abs() < 0.01, "{ns}");
    }
}
