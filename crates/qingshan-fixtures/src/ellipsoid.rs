//! Ellipsoidal polygon areas, as the land survey reports them: vertices in
//! EPSG:4545 inverse-projected with GDAL/PROJ to CGCS2000 longitude and
//! latitude (EPSG:4490), then Karney's geodesic polygon area on the GRS80
//! ellipsoid (geographiclib). Invariant: a polygon's area is its exterior
//! ring's minus its holes', in m², whatever the rings' orientation.

use gdal::spatial_ref::CoordTransform;
use geo::Coord;
use geographiclib_rs::{Geodesic, PolygonArea, Winding};

use crate::error::{GdalContext, Result};
use crate::vector_io::srs;

/// GRS80 (the CGCS2000 ellipsoid): semi-major axis (m) and flattening.
pub(crate) const GRS80: (f64, f64) = (6_378_137.0, 1.0 / 298.257_222_101);

/// Computes ellipsoidal areas of EPSG:4545 polygons.
pub(crate) struct EllipsoidArea {
    to_geo: CoordTransform,
    geod: Geodesic,
    lon: Vec<f64>,
    lat: Vec<f64>,
}

impl EllipsoidArea {
    /// A calculator (one per thread: GDAL transforms are not shared).
    pub(crate) fn new() -> Result<EllipsoidArea> {
        let to_geo = CoordTransform::new(&srs(4545)?, &srs(4490)?)
            .ctx(|| "creating the EPSG:4545 → EPSG:4490 transform".into())?;
        Ok(EllipsoidArea {
            to_geo,
            geod: Geodesic::new(GRS80.0, GRS80.1),
            lon: Vec::new(),
            lat: Vec::new(),
        })
    }

    /// Area (m²) of a closed ring, unsigned.
    pub(crate) fn ring(&mut self, ring: &[Coord]) -> Result<f64> {
        self.lon.clear();
        self.lat.clear();
        self.lon.extend(ring.iter().map(|c| c.x));
        self.lat.extend(ring.iter().map(|c| c.y));
        self.to_geo
            .transform_coords(&mut self.lon, &mut self.lat, &mut [])
            .ctx(|| "projecting to EPSG:4490".into())?;
        let mut pa = PolygonArea::new(&self.geod, Winding::CounterClockwise);
        // The closing vertex repeats the first; PolygonArea closes by itself.
        let n = ring.len().saturating_sub(1);
        for k in 0..n {
            pa.add_point(self.lat[k], self.lon[k]);
        }
        Ok(pa.compute(true).1.abs())
    }

    /// Area (m²) of a polygon: exterior minus holes.
    pub(crate) fn polygon(&mut self, rings: &[Vec<Coord>]) -> Result<f64> {
        let mut a = 0.0;
        for (k, r) in rings.iter().enumerate() {
            let ra = self.ring(r)?;
            a += if k == 0 { ra } else { -ra };
        }
        Ok(a)
    }
}
