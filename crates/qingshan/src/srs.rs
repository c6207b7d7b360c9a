//! GDAL spatial references at the edge: turning `SpatialRef` into the plain
//! [`Crs`] the computing modules use, and reprojecting `geo` geometries.
//! GDAL ≥ 3 uses the authority's axis order (lat/lon for EPSG:4326/4490);
//! every `SpatialRef` made here uses the traditional GIS order (x = easting
//! or longitude), which is what files and qingshan hold.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::area::Ellipsoid;
use crate::grid::Crs;
use crate::{Error, Result};

/// A `SpatialRef` in traditional GIS axis order.
pub(crate) fn spatial_ref(crs: &Crs) -> Result<SpatialRef> {
    let mut srs = match crs.epsg {
        Some(code) => SpatialRef::from_epsg(code),
        None => SpatialRef::from_wkt(&crs.wkt),
    }
    .map_err(|e| Error::Crs {
        context: crs.label.clone(),
        reason: e.to_string(),
    })?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// CRSs already identified, by WKT: identification queries PROJ's
/// database, and tile sets and repeated runs use one CRS many times.
static KNOWN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, Crs>>> =
    std::sync::LazyLock::new(Default::default);

/// The plain-data CRS of a GDAL `SpatialRef`.
pub(crate) fn crs_of(srs: &SpatialRef, context: &str) -> Result<Crs> {
    let wkt = srs.to_wkt().map_err(|e| Error::Crs {
        context: context.to_string(),
        reason: e.to_string(),
    })?;
    if let Some(known) = KNOWN.lock().ok().and_then(|k| k.get(&wkt).cloned()) {
        return Ok(known);
    }
    let crs = identify(srs, wkt.clone(), context)?;
    if let Ok(mut k) = KNOWN.lock() {
        k.insert(wkt, crs.clone());
    }
    Ok(crs)
}

fn identify(srs: &SpatialRef, wkt: String, context: &str) -> Result<Crs> {
    let err = |reason: String| Error::Crs {
        context: context.to_string(),
        reason,
    };
    let mut epsg = match (srs.auth_name().as_deref(), srs.auth_code()) {
        (Some("EPSG"), Ok(code)) if code > 0 => Some(code as u32),
        _ => None,
    };
    if epsg.is_none()
        && let Ok(mut probe) = SpatialRef::from_wkt(&wkt)
        && probe.auto_identify_epsg().is_ok()
        && let (Some("EPSG"), Ok(code)) = (probe.auth_name().as_deref(), probe.auth_code())
    {
        // Only trust an identification that describes the same CRS.
        if let Ok(candidate) = SpatialRef::from_epsg(code as u32)
            && candidate.to_proj4().ok() == srs.to_proj4().ok()
        {
            epsg = Some(code as u32);
        }
    }
    let geographic = srs.is_geographic();
    if !geographic && !srs.is_projected() {
        return Err(err(
            "the CRS is neither geographic nor projected (local or geocentric CRSs cannot be measured)"
                .into(),
        ));
    }
    let a = srs.semi_major().map_err(|e| err(e.to_string()))?;
    let b = srs.semi_minor().map_err(|e| err(e.to_string()))?;
    if geographic && (srs.angular_units() - 1f64.to_radians()).abs() > 1e-12 {
        return Err(err(format!(
            "geographic CRS in {} units; only degrees are supported",
            srs.angular_units_name().unwrap_or_default()
        )));
    }
    let label = match epsg {
        Some(code) => format!("EPSG:{code}"),
        None => srs.name().unwrap_or_else(|| "unnamed CRS".into()),
    };
    Ok(Crs {
        wkt,
        label,
        epsg,
        geographic,
        ellipsoid: Ellipsoid::from_axes(a, b),
        linear_unit_m: if geographic { 1.0 } else { srs.linear_units() },
    })
}

/// The CRS for an EPSG code.
pub fn crs_from_epsg(code: u32) -> Result<Crs> {
    let srs = SpatialRef::from_epsg(code).map_err(|e| Error::Crs {
        context: format!("EPSG:{code}"),
        reason: e.to_string(),
    })?;
    crs_of(&srs, &format!("EPSG:{code}"))
}

/// The CRS for a user definition (`EPSG:4545`, a URN, WKT, PROJ string).
pub fn crs_from_user_input(definition: &str) -> Result<Crs> {
    let srs = SpatialRef::from_definition(definition).map_err(|e| Error::Crs {
        context: definition.to_string(),
        reason: format!("not a CRS GDAL understands ({e})"),
    })?;
    crs_of(&srs, definition)
}

/// The geographic (lon/lat) CRS on the datum of `crs` (itself when it is
/// geographic).
pub fn geographic_of(crs: &Crs) -> Result<Crs> {
    if crs.geographic {
        return Ok(crs.clone());
    }
    let srs = spatial_ref(crs)?;
    let geog = srs.geog_cs().map_err(|e| Error::Crs {
        context: crs.label.clone(),
        reason: e.to_string(),
    })?;
    crs_of(&geog, &crs.label)
}

/// Reprojects geometries from one CRS to another with GDAL/PROJ.
pub(crate) struct Reprojector {
    transform: Option<CoordTransform>,
    from: String,
    to: String,
}

impl Reprojector {
    /// A transform between two CRSs (identity when they are the same).
    pub(crate) fn new(from: &Crs, to: &Crs) -> Result<Reprojector> {
        let transform = if from.same_as(to) {
            None
        } else {
            let s = spatial_ref(from)?;
            let t = spatial_ref(to)?;
            Some(CoordTransform::new(&s, &t).map_err(|e| Error::Crs {
                context: format!("{} → {}", from.label, to.label),
                reason: e.to_string(),
            })?)
        };
        Ok(Reprojector {
            transform,
            from: from.label.clone(),
            to: to.label.clone(),
        })
    }

    /// Whether this is the identity.
    pub(crate) fn is_identity(&self) -> bool {
        self.transform.is_none()
    }

    fn ring(&self, ring: &LineString<f64>) -> Result<LineString<f64>> {
        let Some(t) = &self.transform else {
            return Ok(ring.clone());
        };
        let mut xs: Vec<f64> = ring.0.iter().map(|c| c.x).collect();
        let mut ys: Vec<f64> = ring.0.iter().map(|c| c.y).collect();
        t.transform_coords(&mut xs, &mut ys, &mut [])
            .map_err(|e| Error::Crs {
                context: format!("reprojecting {} → {}", self.from, self.to),
                reason: e.to_string(),
            })?;
        if xs.iter().chain(&ys).any(|v| !v.is_finite()) {
            return Err(Error::Crs {
                context: format!("reprojecting {} → {}", self.from, self.to),
                reason: "coordinates outside the target CRS's domain".into(),
            });
        }
        Ok(LineString(
            xs.into_iter()
                .zip(ys)
                .map(|(x, y)| Coord { x, y })
                .collect(),
        ))
    }

    /// Reprojects every vertex of a multipolygon.
    pub(crate) fn multipolygon(&self, mp: &MultiPolygon<f64>) -> Result<MultiPolygon<f64>> {
        mp.0.iter()
            .map(|p| {
                Ok(Polygon::new(
                    self.ring(p.exterior())?,
                    p.interiors()
                        .iter()
                        .map(|r| self.ring(r))
                        .collect::<Result<_>>()?,
                ))
            })
            .collect::<Result<Vec<_>>>()
            .map(MultiPolygon)
    }
}

/// Inserts vertices so that no segment is longer than `max_len` (in the
/// geometry's own units): straight lines in one CRS are curves in another,
/// and the extra vertices keep the reprojected shape faithful.
pub(crate) fn densify(mp: &MultiPolygon<f64>, max_len: f64) -> MultiPolygon<f64> {
    if !(max_len > 0.0 && max_len.is_finite()) {
        return mp.clone();
    }
    let ring = |r: &LineString<f64>| -> LineString<f64> {
        let mut out = Vec::with_capacity(r.0.len());
        for w in r.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            out.push(a);
            let len = (b.x - a.x).hypot(b.y - a.y);
            let n = (len / max_len).ceil() as usize;
            for k in 1..n {
                let t = k as f64 / n as f64;
                out.push(Coord {
                    x: a.x + t * (b.x - a.x),
                    y: a.y + t * (b.y - a.y),
                });
            }
        }
        if let Some(last) = r.0.last() {
            out.push(*last);
        }
        LineString(out)
    };
    MultiPolygon(
        mp.0.iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsg_codes_are_identified_with_their_ellipsoids() {
        let c = crs_from_epsg(4545).unwrap();
        assert_eq!(c.label, "EPSG:4545");
        assert!(!c.geographic);
        assert_eq!(c.linear_unit_m, 1.0);
        assert!((c.ellipsoid.f - Ellipsoid::GRS80.f).abs() < 1e-15);
        let g = crs_from_epsg(4490).unwrap();
        assert!(g.geographic);
        let geog = geographic_of(&c).unwrap();
        assert!(geog.geographic);
        assert_eq!(geog.ellipsoid, c.ellipsoid);
    }

    #[test]
    fn lon_lat_order_is_kept() {
        let from = crs_from_epsg(4490).unwrap();
        let to = crs_from_epsg(4545).unwrap();
        let r = Reprojector::new(&from, &to).unwrap();
        let mp = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (108.0, 35.0),
                (108.001, 35.0),
                (108.0, 35.001),
                (108.0, 35.0),
            ]),
            vec![],
        )]);
        let out = r.multipolygon(&mp).unwrap();
        let c = out.0[0].exterior().0[0];
        // On the central meridian: easting is the false easting.
        assert!((c.x - 500_000.0).abs() < 1e-6, "{c:?}");
        assert!((c.y - 3_874_000.0).abs() < 10_000.0, "{c:?}");
    }

    #[test]
    fn densify_keeps_vertices_and_bounds_segments() {
        let mp = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 3.0), (0.0, 0.0)]),
            vec![],
        )]);
        let d = densify(&mp, 1.0);
        let ring = &d.0[0].exterior().0;
        assert!(
            ring.windows(2)
                .all(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y) <= 1.0 + 1e-12)
        );
        assert_eq!(ring.first(), ring.last());
        assert!(ring.contains(&Coord { x: 10.0, y: 3.0 }));
    }
}
