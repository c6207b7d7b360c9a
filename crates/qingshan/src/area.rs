//! Cell areas, polygon areas on the ellipsoid, and area units.
//!
//! Every area inside qingshan is `f64` square metres. A projected grid's
//! cells all have the area `|a·e − b·d|` (times the square of the CRS's
//! linear unit); a geographic grid's cells have the exact area of the
//! ellipsoidal quadrangle between two parallels and two meridians, which is
//! the same along a row. Invariant: the cell areas of a geographic grid
//! spanning the globe sum to the ellipsoid's surface area.

use geo::{LineString, MultiPolygon, Polygon};
use geographiclib_rs::{Geodesic, PolygonArea, Winding};
use serde::{Deserialize, Serialize};

/// Square metres in one mu (亩): 2000/3.
pub const M2_PER_MU: f64 = 2000.0 / 3.0;
/// Square metres in one hectare.
pub const M2_PER_HA: f64 = 10_000.0;
/// Square metres in one square kilometre.
pub const M2_PER_KM2: f64 = 1_000_000.0;

/// Sum of areas starting from +0.0 (the standard `Sum` for floats starts
/// from −0.0, so an empty sum would print as `-0.0` in JSON).
pub fn sum_m2(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |a, b| a + b)
}

/// Converts m² to mu (亩).
pub fn m2_to_mu(m2: f64) -> f64 {
    m2 / M2_PER_MU
}

/// Converts m² to hectares.
pub fn m2_to_ha(m2: f64) -> f64 {
    m2 / M2_PER_HA
}

/// A reference ellipsoid given by its semi-major axis (m) and flattening.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ellipsoid {
    /// Semi-major axis in metres.
    pub a: f64,
    /// Flattening `(a − b) / a`.
    pub f: f64,
}

impl Ellipsoid {
    /// GRS 1980, the ellipsoid of CGCS2000 (EPSG:4490).
    pub const GRS80: Ellipsoid = Ellipsoid {
        a: 6_378_137.0,
        f: 1.0 / 298.257_222_101,
    };
    /// WGS 84 (EPSG:4326).
    pub const WGS84: Ellipsoid = Ellipsoid {
        a: 6_378_137.0,
        f: 1.0 / 298.257_223_563,
    };

    /// Builds an ellipsoid from its semi-axes in metres.
    pub fn from_axes(a: f64, b: f64) -> Ellipsoid {
        Ellipsoid { a, f: (a - b) / a }
    }

    /// Semi-minor axis in metres.
    pub fn b(&self) -> f64 {
        self.a * (1.0 - self.f)
    }

    /// First eccentricity squared.
    pub fn e2(&self) -> f64 {
        self.f * (2.0 - self.f)
    }

    /// Area (m²) of the ellipsoidal quadrangle between latitudes `lat1` and
    /// `lat2` (degrees) spanning `dlon` degrees of longitude. Exact closed
    /// form (the authalic-latitude integral), not a spherical approximation.
    ///
    /// # Examples
    /// ```
    /// use qingshan::area::Ellipsoid;
    /// let e = Ellipsoid::WGS84;
    /// let globe = e.quadrangle_area(-90.0, 90.0, 360.0);
    /// assert!((globe / 5.100_656_217_240_886e14 - 1.0).abs() < 1e-12);
    /// ```
    pub fn quadrangle_area(&self, lat1: f64, lat2: f64, dlon: f64) -> f64 {
        let q = |lat: f64| -> f64 {
            let s = lat.clamp(-90.0, 90.0).to_radians().sin();
            let e2 = self.e2();
            if e2 == 0.0 {
                return 2.0 * s;
            }
            let e = e2.sqrt();
            s / (1.0 - e2 * s * s) + (e * s).atanh() / e
        };
        let b = self.b();
        (b * b * dlon.abs().to_radians() / 2.0 * (q(lat2) - q(lat1))).abs()
    }

    /// Geodesic area (m²) of a lon/lat polygon on this ellipsoid (Karney's
    /// algorithm), holes subtracted. Coordinates are `(lon, lat)` degrees.
    pub fn polygon_area(&self, polygon: &Polygon<f64>) -> f64 {
        let geod = Geodesic::new(self.a, self.f);
        let ring_area = |ring: &LineString<f64>| -> f64 {
            let mut pa = PolygonArea::new(&geod, Winding::CounterClockwise);
            let n = ring.0.len();
            let closed = n > 1 && ring.0[0] == ring.0[n - 1];
            let take = if closed { n - 1 } else { n };
            if take < 3 {
                return 0.0;
            }
            for c in &ring.0[..take] {
                pa.add_point(c.y, c.x);
            }
            pa.compute(true).1.abs()
        };
        let holes = sum_m2(polygon.interiors().iter().map(ring_area));
        (ring_area(polygon.exterior()) - holes).max(0.0)
    }

    /// Geodesic area (m²) of a lon/lat multipolygon (parts summed).
    pub fn multipolygon_area(&self, mp: &MultiPolygon<f64>) -> f64 {
        sum_m2(mp.0.iter().map(|p| self.polygon_area(p)))
    }
}

/// The area of each cell of a grid, in m² (see [`crate::grid::Grid::cell_areas`]).
#[derive(Clone, Debug, PartialEq)]
pub enum CellAreas {
    /// Projected grid: every cell has the same area.
    Planar(f64),
    /// Geographic grid: one area per row.
    PerRow(Vec<f64>),
}

impl CellAreas {
    /// Area of one cell of row `row`.
    #[inline]
    pub fn row(&self, row: usize) -> f64 {
        match self {
            CellAreas::Planar(a) => *a,
            CellAreas::PerRow(v) => v[row],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use geo::polygon;

    #[test]
    fn globe_area_matches_the_closed_form_surface_area() {
        for e in [Ellipsoid::GRS80, Ellipsoid::WGS84] {
            let ecc = e.e2().sqrt();
            let surface =
                2.0 * std::f64::consts::PI * e.a * e.a * (1.0 + (1.0 - e.e2()) / ecc * ecc.atanh());
            // Summed as cells of 0.25° rows, the way a grid sums them.
            let total: f64 = (0..720)
                .map(|i| {
                    let lat = -90.0 + i as f64 * 0.25;
                    e.quadrangle_area(lat, lat + 0.25, 360.0)
                })
                .sum();
            assert_relative_eq!(total, surface, max_relative = 1e-12);
        }
    }

    #[test]
    fn small_quadrangle_agrees_with_karney_polygon_area() {
        // A 0.001° box: geodesic edges and parallels differ by far less
        // than 1e-9 relative at this size.
        let e = Ellipsoid::GRS80;
        let (lon, lat, d) = (109.1, 35.2, 0.001);
        let p = polygon![(x: lon, y: lat), (x: lon + d, y: lat), (x: lon + d, y: lat + d), (x: lon, y: lat + d)];
        assert_relative_eq!(
            e.quadrangle_area(lat, lat + d, d),
            e.polygon_area(&p),
            max_relative = 1e-8
        );
    }

    #[test]
    fn holes_are_subtracted() {
        let e = Ellipsoid::WGS84;
        let outer =
            polygon![(x: 0.0, y: 0.0), (x: 0.01, y: 0.0), (x: 0.01, y: 0.01), (x: 0.0, y: 0.01)];
        let with_hole = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 0.01, y: 0.0), (x: 0.01, y: 0.01), (x: 0.0, y: 0.01)],
            interiors: [[(x: 0.004, y: 0.004), (x: 0.006, y: 0.004), (x: 0.006, y: 0.006), (x: 0.004, y: 0.006)]],
        );
        let hole = polygon![(x: 0.004, y: 0.004), (x: 0.006, y: 0.004), (x: 0.006, y: 0.006), (x: 0.004, y: 0.006)];
        assert_relative_eq!(
            e.polygon_area(&with_hole),
            e.polygon_area(&outer) - e.polygon_area(&hole),
            max_relative = 1e-12
        );
    }

    #[test]
    fn units() {
        assert_relative_eq!(
            m2_to_mu(666_666.666_666_666_6),
            1000.0,
            max_relative = 1e-12
        );
        assert_relative_eq!(m2_to_ha(1.0e6), 100.0);
        // The plan's 52.3万亩 ≈ 348.7 km².
        assert!((523_000.0 * M2_PER_MU / M2_PER_KM2 - 348.67).abs() < 0.01);
    }
}
