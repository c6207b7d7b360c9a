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
                reason: crate::error::gdal_msg(&e),
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

/// Margin (degrees) around a projected CRS's area of use inside which
/// coordinates are still accepted: a county in the neighbouring
/// Gauss–Krüger zone is 3° away; 15° further is a labelling mistake.
const AREA_OF_USE_MARGIN_DEG: f64 = 15.0;

/// Where a CRS's coordinates make sense: latitudes within ±90° and
/// longitudes within ±360° for a geographic CRS; for a projected one,
/// points that map back to lon/lat within [`AREA_OF_USE_MARGIN_DEG`] of
/// the CRS's area of use. Catches absurd coordinates (a vertex at
/// y = 1e10 m) before any work is done on them, and explains the classic
/// mistakes (zone-prefixed X, swapped axes) with the EPSG code that fits.
pub(crate) struct Domain {
    crs: Crs,
    to_lonlat: Option<CoordTransform>,
    /// Area of use (west, south, east, north) in degrees, and its name.
    area: Option<(f64, f64, f64, f64, String)>,
    /// How far outside the area of use a point may be, in degrees.
    margin: f64,
}

impl Domain {
    /// The domain of `crs`.
    pub(crate) fn new(crs: &Crs) -> Result<Domain> {
        if crs.geographic {
            return Ok(Domain {
                crs: crs.clone(),
                to_lonlat: None,
                area: None,
                margin: AREA_OF_USE_MARGIN_DEG,
            });
        }
        let srs = spatial_ref(crs)?;
        let area = srs.area_of_use().map(|a| {
            (
                a.west_lon_degree,
                a.south_lat_degree,
                a.east_lon_degree,
                a.north_lat_degree,
                a.name,
            )
        });
        let geog = geographic_of(crs)?;
        let to_lonlat = CoordTransform::new(&srs, &spatial_ref(&geog)?).ok();
        Ok(Domain {
            crs: crs.clone(),
            to_lonlat,
            area,
            margin: AREA_OF_USE_MARGIN_DEG,
        })
    }

    /// The same domain with another margin (degrees beyond the area of
    /// use): rasters get a wider one than vector features, since a
    /// national grid in one UTM zone is unusual but real.
    pub(crate) fn with_margin(mut self, degrees: f64) -> Domain {
        self.margin = degrees;
        self
    }

    /// Whether a point (this CRS's coordinates) is inside the domain,
    /// for a batch of points.
    fn inside(&self, xs: &[f64], ys: &[f64]) -> Vec<bool> {
        if self.crs.geographic {
            return xs
                .iter()
                .zip(ys)
                .map(|(&x, &y)| {
                    (-90.0 - 1e-9..=90.0 + 1e-9).contains(&y) && (-360.0..=360.0).contains(&x)
                })
                .collect();
        }
        let Some(t) = &self.to_lonlat else {
            return vec![true; xs.len()];
        };
        let (mut lon, mut lat) = (xs.to_vec(), ys.to_vec());
        if t.transform_coords(&mut lon, &mut lat, &mut []).is_err() {
            if xs.len() == 1 {
                return vec![false];
            }
            // A failed batch: try the points one by one.
            return xs
                .iter()
                .zip(ys)
                .map(|(&x, &y)| self.inside(&[x], &[y])[0])
                .collect();
        }
        let m = self.margin;
        lon.iter()
            .zip(&lat)
            .map(|(&lon, &lat)| {
                lon.is_finite()
                    && lat.is_finite()
                    && match &self.area {
                        None => true,
                        Some((w, s, e, n, _)) => {
                            let lon_ok = if w <= e {
                                // Longitudes are on a circle: 180.04°E of
                                // a UTM 60N layer comes back as −179.96°.
                                [lon, lon + 360.0, lon - 360.0]
                                    .iter()
                                    .any(|l| *l >= w - m && *l <= e + m)
                            } else {
                                // The area of use crosses the antimeridian.
                                lon >= w - m || lon <= e + m
                            };
                            lon_ok && lat >= s - m && lat <= n + m
                        }
                    }
            })
            .collect()
    }

    /// `Err(reason)` when a geometry (this CRS's coordinates) reaches far
    /// outside the CRS's domain; the reason names the first vertex out,
    /// says what the coordinates look like and which CRS would fit them.
    pub(crate) fn check(&self, mp: &MultiPolygon<f64>) -> std::result::Result<(), String> {
        use geo::BoundingRect;
        let Some(b) = mp.bounding_rect() else {
            return Ok(());
        };
        let (x0, y0, x1, y1) = (b.min().x, b.min().y, b.max().x, b.max().y);
        let (cx, cy) = (0.5 * (x0 + x1), 0.5 * (y0 + y1));
        let xs = [x0, x1, x1, x0, cx];
        let ys = [y0, y0, y1, y1, cy];
        let ok = self.inside(&xs, &ys);
        let Some(bad) = ok.iter().position(|&o| !o) else {
            return Ok(());
        };
        // The first vertex out, else the corner of the extent that is.
        let (vx, vy): (Vec<f64>, Vec<f64>) =
            geo::CoordsIter::coords_iter(mp).map(|c| (c.x, c.y)).unzip();
        let (x, y, what) = match self.inside(&vx, &vy).iter().position(|&o| !o) {
            Some(i) => (vx[i], vy[i], "vertex"),
            None => (xs[bad], ys[bad], "extent corner"),
        };
        let label = &self.crs.label;
        let at = format!("{what} ({}, {})", short(x), short(y));
        if self.crs.geographic {
            return Err(format!(
                "{at} is not a longitude/latitude in {label} (latitude beyond ±90° or \
                 longitude beyond ±360°); {}",
                lonlat_hint(x, y)
            ));
        }
        let area = match &self.area {
            Some((w, s, e, n, name)) => format!(
                " (area of use: {}, {w}°–{e}°E, {s}°–{n}°N)",
                name.trim_end_matches('.')
            ),
            None => String::new(),
        };
        Err(format!(
            "{at} is far outside the area of use of {label}{area}; {}",
            projected_hint(x, y)
        ))
    }
}

/// A number for a message: integers without decimals, others with two.
fn short(v: f64) -> String {
    if v.abs() >= 1e15 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// What a coordinate that is not a longitude/latitude suggests: swapped
/// axes, or one of [`projected_hint`]'s CRSs.
pub(crate) fn lonlat_hint(x: f64, y: f64) -> String {
    if x.abs() <= 90.0 && y.abs() <= 180.0 {
        "they look like latitude, longitude: the axes are swapped; swap them \
         (x must be the longitude), e.g. with QGIS's \"Swap X and Y coordinates\" tool"
            .to_string()
    } else {
        projected_hint(x, y)
    }
}

/// What a projected-looking coordinate suggests about its CRS: zone-
/// prefixed Gauss–Krüger X (3° zones 25–45, 6° zones 13–23), plain
/// Gauss–Krüger, or degrees.
fn projected_hint(x: f64, y: f64) -> String {
    let zone = (x / 1e6).floor();
    let northing_ok = (1e6..7e6).contains(&y.abs());
    if (25.0..=45.0).contains(&zone) && northing_ok {
        let z = zone as u32;
        return format!(
            "X values look zone-prefixed ({z}xxxxxx): the layer is probably CGCS2000 / \
             3-degree Gauss-Kruger zone {z} (EPSG:{}, central meridian {}°E); without the \
             prefix the same zone is EPSG:{}. Assign the right CRS with `ogr2ogr -a_srs EPSG:{}`",
            4513 + z - 25,
            3 * z,
            4534 + z - 25,
            4513 + z - 25
        );
    }
    if (13.0..=23.0).contains(&zone) && northing_ok {
        let z = zone as u32;
        return format!(
            "X values look zone-prefixed ({z}xxxxxx): the layer is probably CGCS2000 / \
             Gauss-Kruger zone {z} (6-degree, EPSG:{}, central meridian {}°E). Assign the \
             right CRS with `ogr2ogr -a_srs EPSG:{}`",
            4491 + z - 13,
            6 * z - 3,
            4491 + z - 13
        );
    }
    if (0.0..1e6).contains(&x) && northing_ok {
        return "they look like Gauss-Kruger metres without a zone prefix (CGCS2000 3-degree \
                EPSG:4534–4554 by central meridian, e.g. EPSG:4545 for 108°E); assign the \
                right CRS with `ogr2ogr -a_srs EPSG:…`"
            .to_string();
    }
    if x.abs() <= 180.0 && y.abs() <= 90.0 {
        return "they look like longitude/latitude degrees: the layer is probably geographic \
                (EPSG:4490 CGCS2000 or EPSG:4326 WGS 84); assign it with `ogr2ogr -a_srs EPSG:4490`"
            .to_string();
    }
    "check the layer's CRS and the feature's coordinates (a stray vertex, wrong units)".to_string()
}

/// The rectangle `(x0, y0, x1, y1)` of CRS `from` as a polygon in CRS
/// `to` (64 points per side, so that its curved edges stay within a small
/// fraction of the rectangle's size of the true outline); `None` when some
/// point has no image in `to`.
pub(crate) fn rectangle_in(
    (x0, y0, x1, y1): (f64, f64, f64, f64),
    from: &Crs,
    to: &Crs,
) -> Option<Polygon<f64>> {
    const N: usize = 64;
    let lerp = |a: f64, b: f64, k: usize| a + (b - a) * k as f64 / N as f64;
    let corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
    let mut pts = Vec::with_capacity(4 * N + 1);
    for w in corners.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        pts.extend((0..N).map(|k| Coord {
            x: lerp(ax, bx, k),
            y: lerp(ay, by, k),
        }));
    }
    pts.push(pts[0]);
    let ring = Reprojector::new(from, to)
        .ok()?
        .ring(&LineString(pts))
        .ok()?;
    Some(Polygon::new(ring, vec![]))
}

/// The most vertices [`densify`] adds to one multipolygon: beyond it the
/// segment length is raised, so that memory stays bounded whatever the
/// geometry's extent.
pub(crate) const MAX_DENSIFIED_VERTICES: usize = 4_000_000;

/// Inserts vertices so that no segment is longer than `max_len` (in the
/// geometry's own units): straight lines in one CRS are curves in another,
/// and the extra vertices keep the reprojected shape faithful. At most
/// about [`MAX_DENSIFIED_VERTICES`] vertices are added (the segment length
/// grows for geometries longer than that many segments).
pub(crate) fn densify(mp: &MultiPolygon<f64>, max_len: f64) -> MultiPolygon<f64> {
    if !(max_len > 0.0 && max_len.is_finite()) {
        return mp.clone();
    }
    let rings = || {
        mp.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    };
    let length: f64 = rings()
        .flat_map(|r| r.0.windows(2))
        .map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y))
        .sum();
    if !length.is_finite() {
        return mp.clone();
    }
    let max_len = max_len.max(length / MAX_DENSIFIED_VERTICES as f64);
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

    /// A UTM zone 60N layer reaching 0.04° past 180° (its inverse comes
    /// back as −179.96°) is inside its area of use; one 3000 km east is not.
    #[test]
    fn areas_of_use_wrap_at_the_antimeridian() {
        let utm60 = crs_from_epsg(32660).unwrap();
        let d = Domain::new(&utm60).unwrap();
        // About 180.04°E and 179.5°E at 50°N.
        let inside = d.inside(&[832_000.0, 800_000.0], &[5_541_000.0, 5_541_000.0]);
        assert_eq!(inside, vec![true, true]);
        let far = d.inside(&[3_800_000.0], &[5_541_000.0]);
        assert_eq!(far, vec![false]);
    }
}
