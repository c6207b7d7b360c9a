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

    /// Radii of curvature (m) at geodetic latitude `phi` (radians): the
    /// meridian's M = a(1 − e²)/W³ and the prime vertical's N = a/W, with
    /// W = √(1 − e² sin²φ). A parallel's radius is N cos φ.
    pub fn radii(&self, phi: f64) -> (f64, f64) {
        let e2 = self.e2();
        let s = phi.sin();
        let w2 = 1.0 - e2 * s * s;
        (self.a * (1.0 - e2) / (w2 * w2.sqrt()), self.a / w2.sqrt())
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

/// Which area a cell, a zone or a red line has.
///
/// `Ellipsoidal` (the default) is the ground area on the CRS's ellipsoid,
/// as Chinese official areas (三调, forest surveys) are measured; it does
/// not depend on the projection. `Planar` is the area in the projected
/// plane, what exactextract and GRASS report: in EPSG:3857 it is about
/// +49 % at 35°N, in a Gauss–Krüger zone up to about +0.05 % at its edge.
/// For a geographic raster both are the ellipsoidal quadrangle areas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum AreaMode {
    /// Ground area on the CRS's ellipsoid.
    #[default]
    Ellipsoidal,
    /// Area in the CRS's projected plane.
    Planar,
}

impl AreaMode {
    /// What a document written before `area` was recorded measured: class
    /// areas were planar then (red-line diffs were already ellipsoidal and
    /// default to it). Used when reading such documents back (batch
    /// manifests, audit.json), so old planar numbers are never labelled
    /// ground areas.
    pub fn unrecorded() -> AreaMode {
        AreaMode::Planar
    }

    /// `"ellipsoidal"` or `"planar"`, as written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaMode::Ellipsoidal => "ellipsoidal",
            AreaMode::Planar => "planar",
        }
    }
}

impl std::fmt::Display for AreaMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The area of each cell of a grid, in m² (see [`crate::grid::Grid::cell_areas`]
/// and [`crate::cellarea::cell_areas`]).
#[derive(Clone, Debug, PartialEq)]
pub enum CellAreas {
    /// Projected grid, planar areas: every cell has the same area.
    Planar(f64),
    /// Geographic grid: one area per row.
    PerRow(Vec<f64>),
    /// Projected grid, ellipsoidal areas: each cell its own.
    Field(std::sync::Arc<AreaField>),
}

impl CellAreas {
    /// Area of one cell of row `row` (for [`CellAreas::Field`], of the
    /// row's first cell).
    #[inline]
    pub fn row(&self, row: usize) -> f64 {
        match self {
            CellAreas::Planar(a) => *a,
            CellAreas::PerRow(v) => v[row],
            CellAreas::Field(f) => f.span(row, 0, 1),
        }
    }

    /// Area of the cell at `(col, row)`.
    pub fn cell(&self, col: usize, row: usize) -> f64 {
        match self {
            CellAreas::Field(f) => f.span(row, col, 1),
            other => other.row(row),
        }
    }
}

/// Ellipsoidal cell areas of a projected grid: each cell's planar area
/// times a factor `F(col, row)` (its area on the ellipsoid over its area in
/// the plane), which varies smoothly across the grid.
///
/// The grid is cut into square patches of `patch` cells; on each, `F` is
/// the bicubic polynomial through its values at 4 × 4 equally spaced nodes
/// (shared with the neighbouring patches), in the patch's local
/// coordinates `s = (pixel coordinate − patch origin) · 3 / patch ∈ [0, 3]`.
/// A run of cells of one row sums in closed form (power sums of a cubic),
/// so the cost is per run of equal cells, not per cell. How the nodes are
/// computed and the error bounded: [`crate::cellarea`].
#[derive(Clone, Debug, PartialEq)]
pub struct AreaField {
    /// Planar area of a cell, m².
    pub(crate) cell_m2: f64,
    /// Patch side in cells.
    pub(crate) patch: usize,
    /// Patches across.
    pub(crate) across: usize,
    /// Per patch (row major): `c[i * 4 + j]`, the coefficient of
    /// `s_u^i · s_v^j`.
    pub(crate) coef: Vec<[f64; 16]>,
    /// Largest relative error of `F` measured against direct evaluation
    /// (see [`crate::cellarea`]).
    pub bound: f64,
}

impl AreaField {
    /// The cubic in the local column index `j` (cells from the patch's
    /// first column) of row `row` in patch column `pc`: `[d0, d1, d2, d3]`.
    #[inline]
    fn row_cubic(&self, row: usize, pc: usize) -> [f64; 4] {
        let p = self.patch;
        let c = &self.coef[(row / p) * self.across + pc];
        let k = 3.0 / p as f64;
        let sv = ((row % p) as f64 + 0.5) * k;
        let mut a = [0.0; 4];
        for (i, ai) in a.iter_mut().enumerate() {
            *ai = c[i * 4] + sv * (c[i * 4 + 1] + sv * (c[i * 4 + 2] + sv * c[i * 4 + 3]));
        }
        // s_u = A·j + B for cell j's centre.
        let (aa, b) = (k, 0.5 * k);
        [
            a[0] + b * (a[1] + b * (a[2] + b * a[3])),
            aa * (a[1] + b * (2.0 * a[2] + 3.0 * b * a[3])),
            aa * aa * (a[2] + 3.0 * b * a[3]),
            aa * aa * aa * a[3],
        ]
    }

    /// Sum of the areas (m²) of `n` cells of row `row` from column `col`.
    pub fn span(&self, row: usize, col: usize, n: usize) -> f64 {
        let mut cur = self.cursor(row);
        cur.span(col, n)
    }

    /// A cursor over one row: consecutive spans reuse the patch's cubic.
    #[inline]
    pub(crate) fn cursor(&self, row: usize) -> RowCursor<'_> {
        RowCursor {
            field: self,
            row,
            pc: usize::MAX,
            start: 0,
            end: 0,
            d: [0.0; 4],
        }
    }
}

/// Sums of cell areas along one row of an [`AreaField`].
pub(crate) struct RowCursor<'a> {
    field: &'a AreaField,
    row: usize,
    /// The patch column whose cubic is in `d`, its first and end columns.
    pc: usize,
    start: usize,
    end: usize,
    d: [f64; 4],
}

impl RowCursor<'_> {
    /// Sum of the areas of cells `col .. col + n` of the row (m²).
    #[inline]
    pub(crate) fn span(&mut self, mut col: usize, mut n: usize) -> f64 {
        let mut total = 0.0;
        while n > 0 {
            if col < self.start || col >= self.end {
                let p = self.field.patch;
                self.pc = col / p;
                self.start = self.pc * p;
                self.end = self.start + p;
                self.d = self.field.row_cubic(self.row, self.pc);
            }
            let k = n.min(self.end - col);
            // Σ_{j=a}^{a+k−1} d(j) = k·[d0 + d1·m + d2·(m² + s) + d3·(m³ + 3ms)],
            // m the mean of j, s = (k² − 1)/12 the variance of the j.
            let m = (col - self.start) as f64 + 0.5 * (k as f64 - 1.0);
            let s = (k as f64 * k as f64 - 1.0) / 12.0;
            let d = &self.d;
            total +=
                k as f64 * (d[0] + d[1] * m + d[2] * (m * m + s) + d[3] * m * (m * m + 3.0 * s));
            col += k;
            n -= k;
        }
        total * self.field.cell_m2
    }
}

/// Sums of cell areas along the runs of a row, the way the kernels ask
/// for them: a run starts at a column with a weight, then consecutive
/// streaks of `n` cells each take `weight × Σ areas`. On a patch the
/// prefix sum `P(m) = Σ_{j<m} q(j)` of the row's cubic is a quartic in
/// `m`, so a streak costs one quartic and one subtraction.
pub(crate) struct RunSums<'a> {
    field: &'a AreaField,
    row: usize,
    /// First and end column of the patch whose quartic is in `e`.
    start: usize,
    end: usize,
    /// The unscaled prefix quartic (`e[k]` of `m^(k+1)`) of the patch.
    e: [f64; 4],
    /// `e` times the run's weight and the planar cell area.
    es: [f64; 4],
    w: f64,
    col: usize,
    /// Scaled prefix sum at `col`.
    prev: f64,
    /// Quartics met so far, by row (direct-mapped): the zones of a task
    /// visit the same rows one after another.
    cache: Vec<(usize, usize, [f64; 4])>,
}

/// Rows the quartic cache of [`RunSums`] holds.
const ROW_CACHE: usize = 1024;

impl<'a> RunSums<'a> {
    pub(crate) fn new(field: &'a AreaField) -> Self {
        RunSums {
            field,
            row: usize::MAX,
            start: 0,
            end: 0,
            e: [0.0; 4],
            es: [0.0; 4],
            w: 0.0,
            col: 0,
            prev: 0.0,
            cache: vec![(usize::MAX, 0, [0.0; 4]); ROW_CACHE],
        }
    }

    /// Loads the patch holding `col` on `row`.
    fn load(&mut self, row: usize, col: usize) {
        let p = self.field.patch;
        let pc = col / p;
        let slot = &mut self.cache[row % ROW_CACHE];
        if slot.0 != row || slot.1 != pc {
            let d = self.field.row_cubic(row, pc);
            // Σ_{j<m} (d0 + d1 j + d2 j² + d3 j³) by power sums.
            *slot = (
                row,
                pc,
                [
                    d[0] - d[1] / 2.0 + d[2] / 6.0,
                    d[1] / 2.0 - d[2] / 2.0 + d[3] / 4.0,
                    d[2] / 3.0 - d[3] / 2.0,
                    d[3] / 4.0,
                ],
            );
        }
        self.e = slot.2;
        self.row = row;
        self.start = pc * p;
        self.end = self.start + p;
        self.scale();
    }

    fn scale(&mut self) {
        let w = self.w * self.field.cell_m2;
        self.es = [self.e[0] * w, self.e[1] * w, self.e[2] * w, self.e[3] * w];
    }

    #[inline(always)]
    fn prefix(&self, col: usize) -> f64 {
        let m = (col - self.start) as f64;
        let e = &self.es;
        m * (e[0] + m * (e[1] + m * (e[2] + m * e[3])))
    }

    /// Starts a run at `(col, row)` whose cells count `weight` times.
    #[inline(always)]
    pub(crate) fn start(&mut self, row: usize, col: usize, weight: f64) {
        self.w = weight;
        if row != self.row || col < self.start || col >= self.end {
            self.load(row, col);
        } else {
            self.scale();
        }
        self.col = col;
        self.prev = self.prefix(col);
    }

    /// `weight ×` the area of the run's next `n` cells.
    #[inline(always)]
    pub(crate) fn next(&mut self, n: usize) -> f64 {
        let end = self.col + n;
        if end <= self.end {
            let p = self.prefix(end);
            let a = p - self.prev;
            self.prev = p;
            self.col = end;
            return a;
        }
        self.cross(n)
    }

    /// [`RunSums::next`] for a streak that leaves the patch.
    #[cold]
    fn cross(&mut self, mut n: usize) -> f64 {
        let mut total = 0.0;
        while n > 0 {
            if self.col >= self.end {
                let (row, col) = (self.row, self.col);
                self.load(row, col);
                self.prev = self.prefix(col);
            }
            let k = n.min(self.end - self.col);
            let p = self.prefix(self.col + k);
            total += p - self.prev;
            self.prev = p;
            self.col += k;
            n -= k;
        }
        total
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
