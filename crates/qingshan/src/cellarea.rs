//! Cell areas under an [`AreaMode`]: planar, or each cell's footprint on
//! the CRS's ellipsoid, for projected grids too.
//!
//! # The ellipsoidal area of a projected cell
//!
//! A projected cell's ground area is `∫∫ F dx dy` over the cell, where
//! `F = M·N·cos φ / |∂(x, y)/∂(λ, φ)|` is the ratio of ellipsoidal to
//! planar area at a point (`M`, `N` the ellipsoid's radii of curvature,
//! `(x, y)` in metres). `F` is evaluated at a map point by:
//!
//! 1. inverse projection to `(λ, φ)` with GDAL/PROJ (an error of the
//!    inverse moves the point by nanometres: no effect on `F`);
//! 2. the Jacobian of the *forward* projection (closed-form or series for
//!    every common projection, smooth to a few ulps) by central differences
//!    at `h = 1e-4` rad and `h/2`, combined by Richardson extrapolation
//!    (truncation `O(h⁴)` ≈ 1e-16; rounding ≈ 1e-12 relative);
//! 3. averaged over the cell by 2 × 2 Gauss–Legendre points (exact for
//!    cubic variation; the quartic remainder is below 1e-15 for cells up
//!    to 1 km) for cells over 250 m; smaller cells take the value at their
//!    centre, which differs from the cell's mean by `h²·∇²F/24`, below
//!    2e-10 at 250 m (`∇²F ≈ 2/R²` for Gauss–Krüger and Mercator).
//!
//! Evaluating that for every cell would cost more than the whole pass, so
//! the grid is cut into square patches and `F` is interpolated (see
//! [`AreaField`]): bicubic on 4 × 4 nodes per patch. The interpolation
//! error of a cubic through equally spaced nodes is largest midway between
//! nodes; after building, `F` is evaluated directly at the 9 node-cell
//! centres of every patch and the largest relative difference is the
//! field's [`AreaField::bound`]. Patches are halved until it is at most
//! 1e-10 (a tenth of the 1e-9 promised: the error between check points can
//! exceed the check points' by the ratio of the interpolation kernel's
//! extremes, below 2 for cubics). On a 30 m Gauss–Krüger grid 61 km
//! patches give about 1e-13, with some hundred node evaluations in all.

use gdal::spatial_ref::CoordTransform;

use crate::area::{AreaField, AreaMode, CellAreas, Ellipsoid};
use crate::grid::Grid;
use crate::{Error, Result, srs};

/// The relative error the interpolated factor must stay within at every
/// check point (the promise is 1e-9; see the module documentation).
const CHECK_TOLERANCE: f64 = 1e-10;
/// Patch side in metres to start from (halved until the check holds).
const START_PATCH_M: f64 = 64_000.0;
/// Largest and smallest patch side in cells.
const MAX_PATCH: usize = 4096;
const MIN_PATCH: usize = 4;

/// The cell areas of `grid` under `mode`: [`Grid::cell_areas`] for planar
/// areas and for geographic grids (whose cells are ellipsoidal
/// quadrangles either way); an [`AreaField`] for ellipsoidal areas of a
/// projected grid.
pub fn cell_areas(grid: &Grid, mode: AreaMode) -> Result<CellAreas> {
    if mode == AreaMode::Planar || grid.crs.geographic {
        return grid.cell_areas();
    }
    Ok(CellAreas::Field(std::sync::Arc::new(area_field(grid)?)))
}

/// The ellipsoidal area field of a projected grid (see the module docs).
pub fn area_field(grid: &Grid) -> Result<AreaField> {
    let eval = Evaluator::new(grid)?;
    let (px, py) = grid.transform.pixel_size();
    let cell_m = px.max(py) * grid.crs.linear_unit_m;
    let mut patch = MAX_PATCH;
    while patch > MIN_PATCH && patch as f64 * cell_m > START_PATCH_M {
        patch /= 2;
    }
    loop {
        let field = build(grid, &eval, patch)?;
        if field.bound <= CHECK_TOLERANCE {
            return Ok(field);
        }
        if patch <= MIN_PATCH {
            if field.bound <= 1e-9 {
                return Ok(field);
            }
            return Err(Error::Invalid(format!(
                "cannot interpolate ellipsoidal cell areas of this {} grid to 1e-9 (best {:.1e}); \
                 use --area planar",
                grid.crs.label, field.bound
            )));
        }
        patch /= 2;
    }
}

/// Newton's forward form on nodes 0, 1, 2, 3 as monomial coefficients.
fn cubic_through(f: [f64; 4]) -> [f64; 4] {
    let d1 = f[1] - f[0];
    let d2 = f[2] - 2.0 * f[1] + f[0];
    let d3 = f[3] - 3.0 * f[2] + 3.0 * f[1] - f[0];
    [
        f[0],
        d1 - d2 / 2.0 + d3 / 3.0,
        d2 / 2.0 - d3 / 2.0,
        d3 / 6.0,
    ]
}

fn build(grid: &Grid, eval: &Evaluator, patch: usize) -> Result<AreaField> {
    let across = grid.width.div_ceil(patch);
    let down = grid.height.div_ceil(patch);
    let (nu, nv) = (3 * across + 1, 3 * down + 1);
    let step = patch as f64 / 3.0;
    let nodes: Vec<(f64, f64)> = (0..nv)
        .flat_map(|l| (0..nu).map(move |i| (i as f64 * step, l as f64 * step)))
        .collect();
    let f = eval.factors(&nodes)?;
    let mut coef = Vec::with_capacity(across * down);
    for pr in 0..down {
        for pc in 0..across {
            // Cubics in s_u along each of the patch's 4 node rows, then
            // each coefficient as a cubic in s_v.
            let rows: Vec<[f64; 4]> = (0..4)
                .map(|l| {
                    let base = (3 * pr + l) * nu + 3 * pc;
                    cubic_through([f[base], f[base + 1], f[base + 2], f[base + 3]])
                })
                .collect();
            let mut c = [0.0; 16];
            for i in 0..4 {
                let cv = cubic_through([rows[0][i], rows[1][i], rows[2][i], rows[3][i]]);
                c[i * 4..i * 4 + 4].copy_from_slice(&cv);
            }
            coef.push(c);
        }
    }
    let mut field = AreaField {
        cell_m2: grid.transform.cell_area() * grid.crs.linear_unit_m.powi(2),
        patch,
        across,
        coef,
        bound: 0.0,
    };
    // Check points: the centres of the 3 × 3 node cells of every patch.
    let mut checks = Vec::with_capacity(9 * across * down);
    for pr in 0..down {
        for pc in 0..across {
            for a in 0..3 {
                for b in 0..3 {
                    checks.push((
                        (3 * pc + b) as f64 * step + 0.5 * step,
                        (3 * pr + a) as f64 * step + 0.5 * step,
                    ));
                }
            }
        }
    }
    let exact = eval.factors(&checks)?;
    field.bound = checks
        .iter()
        .zip(&exact)
        .map(|(&(u, v), &e)| (field.factor_at(u, v) - e).abs() / e)
        .fold(0.0, f64::max);
    Ok(field)
}

impl AreaField {
    /// The interpolated factor at the pixel-space point `(u, v)`.
    pub(crate) fn factor_at(&self, u: f64, v: f64) -> f64 {
        let p = self.patch as f64;
        // Points past the field's last patch use it (extrapolated).
        let down = (self.coef.len() / self.across.max(1)).max(1);
        let (pc, pr) = (
            (u / p).floor().clamp(0.0, (self.across - 1) as f64),
            (v / p).floor().clamp(0.0, (down - 1) as f64),
        );
        let c = &self.coef[pr as usize * self.across + pc as usize];
        let su = (u - pc * p) * 3.0 / p;
        let sv = (v - pr * p) * 3.0 / p;
        let mut out = 0.0;
        for i in (0..4).rev() {
            let a = c[i * 4] + sv * (c[i * 4 + 1] + sv * (c[i * 4 + 2] + sv * c[i * 4 + 3]));
            out = out * su + a;
        }
        out
    }
}

/// Evaluates the area factor `F` of a projected grid at pixel-space points.
struct Evaluator {
    to_lonlat: CoordTransform,
    to_map: CoordTransform,
    transform: crate::grid::GeoTransform,
    /// Average over the cell by 2 × 2 Gauss points (cells over 250 m).
    gauss: bool,
    unit: f64,
    ellipsoid: Ellipsoid,
    label: String,
}

/// Richardson step in radians (≈ 640 m on the ground).
const H: f64 = 1e-4;

impl Evaluator {
    fn new(grid: &Grid) -> Result<Evaluator> {
        let crs = &grid.crs;
        let geog = srs::geographic_of(crs)?;
        let (s, g) = (srs::spatial_ref(crs)?, srs::spatial_ref(&geog)?);
        let err = |e: gdal::errors::GdalError| Error::Crs {
            context: format!("{} ↔ {}", crs.label, geog.label),
            reason: crate::error::gdal_msg(&e),
        };
        Ok(Evaluator {
            to_lonlat: CoordTransform::new(&s, &g).map_err(err)?,
            to_map: CoordTransform::new(&g, &s).map_err(err)?,
            transform: grid.transform,
            gauss: {
                let (px, py) = grid.transform.pixel_size();
                px.max(py) * crs.linear_unit_m > 250.0
            },
            unit: crs.linear_unit_m,
            ellipsoid: crs.ellipsoid,
            label: crs.label.clone(),
        })
    }

    fn failed(&self, what: &str) -> Error {
        Error::Invalid(format!(
            "cannot compute ellipsoidal cell areas of this {} grid: {what}; \
             pass --area planar to measure in the projected plane",
            self.label
        ))
    }

    /// `F` averaged over a cell centred at each pixel-space point.
    fn factors(&self, points: &[(f64, f64)]) -> Result<Vec<f64>> {
        // 2 × 2 Gauss–Legendre points of a cell: ±1/(2√3) of a cell; or
        // the centre alone.
        let g = 0.5 / 3f64.sqrt();
        let gauss = [(-g, -g), (g, -g), (-g, g), (g, g)];
        let offsets: &[(f64, f64)] = if self.gauss { &gauss } else { &[(0.0, 0.0)] };
        let per = offsets.len();
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for &(u, v) in points {
            for &(du, dv) in offsets {
                let (x, y) = self.transform.to_map(u + du, v + dv);
                xs.push(x);
                ys.push(y);
            }
        }
        let (mut lon, mut lat) = (xs, ys);
        self.to_lonlat
            .transform_coords(&mut lon, &mut lat, &mut [])
            .map_err(|e| {
                self.failed(&format!(
                    "a point of the grid has no longitude/latitude ({})",
                    crate::error::gdal_msg(&e)
                ))
            })?;
        let hd = H.to_degrees();
        let steps = [
            (hd, 0.0),
            (-hd, 0.0),
            (hd / 2.0, 0.0),
            (-hd / 2.0, 0.0),
            (0.0, hd),
            (0.0, -hd),
            (0.0, hd / 2.0),
            (0.0, -hd / 2.0),
        ];
        let (mut fx, mut fy) = (Vec::new(), Vec::new());
        for (&l, &p) in lon.iter().zip(&lat) {
            if !(l.is_finite() && p.is_finite()) || p.abs() + hd >= 90.0 {
                return Err(
                    self.failed("the grid reaches a pole or leaves the projection's domain")
                );
            }
            for (dl, dp) in steps {
                fx.push(l + dl);
                fy.push(p + dp);
            }
        }
        self.to_map
            .transform_coords(&mut fx, &mut fy, &mut [])
            .map_err(|e| {
                self.failed(&format!(
                    "the projection failed near the grid ({})",
                    crate::error::gdal_msg(&e)
                ))
            })?;
        let mut out = Vec::with_capacity(points.len());
        for chunk in lat
            .chunks(per)
            .zip(fx.chunks(8 * per).zip(fy.chunks(8 * per)))
        {
            let (lats, (x, y)) = chunk;
            let mut sum = 0.0;
            for (k, &phi) in lats.iter().enumerate() {
                let (x, y) = (&x[k * 8..k * 8 + 8], &y[k * 8..k * 8 + 8]);
                // Central differences at h and h/2, then Richardson.
                let d = |p: &[f64], i: usize| {
                    let full = (p[i] - p[i + 1]) / (2.0 * H);
                    let half = (p[i + 2] - p[i + 3]) / H;
                    (4.0 * half - full) / 3.0
                };
                let (x_l, y_l, x_p, y_p) = (d(x, 0), d(y, 0), d(x, 4), d(y, 4));
                let jac = (x_l * y_p - x_p * y_l).abs() * self.unit * self.unit;
                let phi = phi.to_radians();
                let (m, n) = self.ellipsoid.radii(phi);
                let f = m * n * phi.cos() / jac;
                if !f.is_finite() || f <= 0.0 {
                    return Err(self.failed("the projection is singular near the grid"));
                }
                sum += f;
            }
            out.push(sum / per as f64);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::GeoTransform;

    fn grid(epsg: u32, x0: f64, y0: f64, pixel: f64, width: usize, height: usize) -> Grid {
        Grid {
            transform: GeoTransform([x0, pixel, 0.0, y0, 0.0, -pixel]),
            width,
            height,
            crs: srs::crs_from_epsg(epsg).unwrap(),
        }
    }

    fn field(g: &Grid) -> AreaField {
        match cell_areas(g, AreaMode::Ellipsoidal).unwrap() {
            CellAreas::Field(f) => (*f).clone(),
            other => panic!("{other:?}"),
        }
    }

    /// Web Mercator has a closed form: x = aλ, y = a·ln tan(π/4 + φ/2)
    /// with φ geodetic, so F = M·N·cos²φ / a². Cells from the field agree
    /// with that formula integrated by 4 × 4 Gauss points to 1e-9.
    #[test]
    fn web_mercator_cells_match_the_closed_form() {
        // 2 000 × 1 500 cells of 100 m around 35°N, 109°E (cell centres),
        // and 1 km cells (averaged over the cell by Gauss points).
        for pixel in [100.0, 1000.0] {
            mercator_cells(pixel);
        }
    }

    fn mercator_cells(pixel: f64) {
        let g = grid(3857, 12_130_000.0, 4_230_000.0, pixel, 2000, 1500);
        let f = field(&g);
        assert!(f.bound <= CHECK_TOLERANCE, "{}", f.bound);
        let e = Ellipsoid::WGS84;
        let a = e.a;
        let exact = |col: usize, row: usize| {
            let nodes = [
                -0.861_136_311_594_053,
                -0.339_981_043_584_856,
                0.339_981_043_584_856,
                0.861_136_311_594_053,
            ];
            let weights = [
                0.347_854_845_137_454,
                0.652_145_154_862_546,
                0.652_145_154_862_546,
                0.347_854_845_137_454,
            ];
            let mut sum = 0.0;
            for (i, ti) in nodes.iter().enumerate() {
                for (j, tj) in nodes.iter().enumerate() {
                    let (_, y) = g
                        .transform
                        .to_map(col as f64 + 0.5 + ti / 2.0, row as f64 + 0.5 + tj / 2.0);
                    let phi = 2.0 * (y / a).exp().atan() - std::f64::consts::FRAC_PI_2;
                    let (s, c) = phi.sin_cos();
                    let w2 = 1.0 - e.e2() * s * s;
                    let m = a * (1.0 - e.e2()) / (w2 * w2.sqrt());
                    let n = a / w2.sqrt();
                    sum += weights[i] * weights[j] / 4.0 * m * n * c * c / (a * a);
                }
            }
            sum * pixel * pixel
        };
        let mut worst = 0f64;
        for k in 0..400 {
            let (col, row) = ((k * 7919) % 2000, (k * 104_729) % 1500);
            let got = f.span(row, col, 1);
            worst = worst.max((got / exact(col, row) - 1.0).abs());
        }
        assert!(worst < 1e-9, "worst relative error {worst:e}");
        // Runs sum to their cells.
        let run: f64 = (100..1900).map(|c| f.span(700, c, 1)).sum();
        assert!((f.span(700, 100, 1800) / run - 1.0).abs() < 1e-12);
    }

    /// An equal-area projection on the same ellipsoid: every factor is 1.
    #[test]
    fn equal_area_projection_keeps_planar_areas() {
        // EASE-Grid 2.0 global (Lambert cylindrical equal-area, WGS 84).
        let g = grid(6933, 10_500_000.0, 4_200_000.0, 1000.0, 800, 600);
        let f = field(&g);
        for (col, row) in [(0, 0), (799, 599), (400, 300), (17, 555)] {
            let got = f.span(row, col, 1);
            assert!((got / 1e6 - 1.0).abs() < 1e-9, "{got}");
        }
    }

    /// A Gauss–Krüger block of 1 000 × 1 000 cells 30 to 60 km from the
    /// central meridian sums to its Karney geodesic area (the block's
    /// outline densified to a cell, in lon/lat) within 1e-9.
    #[test]
    fn gauss_kruger_blocks_sum_to_their_geodesic_area() {
        use geo::{LineString, MultiPolygon, Polygon};
        for (x0, y0) in [(530_000.0, 3_900_000.0), (250_000.0, 4_800_000.0)] {
            let g = grid(4545, x0, y0, 30.0, 1000, 1000);
            let f = field(&g);
            let total: f64 = (0..1000).map(|r| f.span(r, 0, 1000)).sum();
            let ring = LineString::from(vec![
                (x0, y0),
                (x0 + 30_000.0, y0),
                (x0 + 30_000.0, y0 - 30_000.0),
                (x0, y0 - 30_000.0),
                (x0, y0),
            ]);
            let block = MultiPolygon(vec![Polygon::new(ring, vec![])]);
            let geog = srs::geographic_of(&g.crs).unwrap();
            let ll = srs::Reprojector::new(&g.crs, &geog)
                .unwrap()
                .multipolygon(&srs::densify(&block, 30.0))
                .unwrap();
            let karney = geog.ellipsoid.multipolygon_area(&ll);
            assert!(
                (total / karney - 1.0).abs() < 1e-9,
                "{x0}: field {total} Karney {karney} ({:e})",
                total / karney - 1.0
            );
            // Against planar: the Gauss–Krüger scale shrinks areas.
            assert!(total < 9e8);
        }
    }

    /// Planar mode and geographic grids keep today's cell areas.
    #[test]
    fn planar_and_geographic_grids_are_unchanged() {
        let g = grid(4545, 530_000.0, 3_900_000.0, 30.0, 10, 10);
        assert_eq!(
            cell_areas(&g, AreaMode::Planar).unwrap(),
            CellAreas::Planar(900.0)
        );
        let ll = grid(4490, 108.0, 35.0, 0.001, 10, 10);
        assert_eq!(
            cell_areas(&ll, AreaMode::Ellipsoidal).unwrap(),
            ll.cell_areas().unwrap()
        );
    }
}
