//! Zones: polygons with an id and attributes, read from GeoJSON (with the
//! `geojson` crate) or any OGR vector format (Shapefile, GeoPackage, … with
//! GDAL), and reprojected to a raster's CRS.
//!
//! GeoJSON without a `crs` member is RFC 7946 lon/lat WGS 84; a legacy
//! `crs` member (`urn:ogc:def:crs:EPSG::4545`, `EPSG:4545`) is honoured.
//! Invariant: every zone is a valid (multi)polygon with a unique id — a
//! feature that is not is reported by id or index, never measured wrongly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gdal::vector::ToGdal;
use geo::{MultiPolygon, Validation};

use serde_json::{Map, Value};

use crate::grid::Crs;
use crate::srs::{self, Reprojector};
use crate::{Error, Result};

mod read;
pub mod write;
pub(crate) use read::{CHINESE_ENCODING, ansi_without_cpg, open_vector, pick_layer};
use read::{read_geojson, read_ogr_text};

/// A zone identifier (the `--id-field` value, the feature id, or the index).
pub type ZoneId = String;

/// One zone: an id, optional name, attributes and its geometry in the
/// layer's CRS.
#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    /// Position in the layer (0-based).
    pub index: usize,
    /// Unique id.
    pub id: ZoneId,
    /// Display name (the `name` attribute, when there is one).
    pub name: Option<String>,
    /// All attributes of the feature.
    pub attributes: Map<String, Value>,
    /// Geometry in the layer's CRS.
    pub geometry: MultiPolygon<f64>,
}

/// How to read a zone layer.
#[derive(Clone, Debug, Default)]
pub struct ZoneOptions {
    /// Attribute holding the zone id (default: the feature id, else the
    /// index).
    pub id_field: Option<String>,
    /// Attribute holding the display name (default: `name`, `NAME`,
    /// `Name` or `名称`, whichever exists).
    pub name_field: Option<String>,
    /// Layer of a multi-layer source (default: the first).
    pub layer: Option<String>,
    /// Repair invalid polygons with GEOS's MakeValid instead of failing.
    pub make_valid: bool,
    /// Text encoding of a shapefile's attributes (`GBK`, `UTF-8`, any
    /// name iconv knows), overriding its `.cpg`. Default: the `.cpg` or
    /// the DBF's language id; attributes that are then not valid UTF-8
    /// are read as GBK (GB18030), with a warning.
    pub encoding: Option<String>,
}

/// Where a layer's zone ids come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdScheme {
    /// An attribute (`--id-field`).
    Field(String),
    /// The features' own ids, numbered as the format numbers them
    /// (`"GPKG"`: from 1; `"ESRI Shapefile"`: from 0; `"GeoJSON"`: the
    /// `id` members as written).
    FeatureIds(String),
    /// The features' positions in the file, from 0.
    Index,
}

impl std::fmt::Display for IdScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdScheme::Field(name) => write!(f, "the attribute {name:?}"),
            IdScheme::FeatureIds(driver) if driver == "GPKG" => {
                write!(f, "GeoPackage feature ids (from 1)")
            }
            IdScheme::FeatureIds(driver) if driver == "ESRI Shapefile" => {
                write!(f, "Shapefile feature ids (from 0)")
            }
            IdScheme::FeatureIds(driver) => write!(f, "{driver} feature ids"),
            IdScheme::Index => write!(f, "positions in the file (from 0)"),
        }
    }
}

/// A layer of zones and its CRS.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneLayer {
    /// The file the zones came from.
    pub path: PathBuf,
    /// CRS of the geometries.
    pub crs: Crs,
    /// The zones, in file order.
    pub zones: Vec<Zone>,
    /// Notes about repairs made while reading (with `make_valid`).
    pub repairs: Vec<String>,
    /// Where the zones' ids come from.
    pub ids: IdScheme,
}

/// A feature as read, before ids are settled.
pub(super) struct RawFeature {
    fid: Option<String>,
    attributes: Map<String, Value>,
    geometry: Option<geo::Geometry<f64>>,
}

const NAME_FIELDS: [&str; 4] = ["name", "NAME", "Name", "名称"];

impl ZoneLayer {
    /// Reads zones from a GeoJSON file or any OGR vector source.
    pub fn read(path: &Path, opts: &ZoneOptions) -> Result<ZoneLayer> {
        if !path.exists() && !path.to_string_lossy().starts_with("/vsi") {
            return Err(Error::open(path, "no such file"));
        }
        let is_geojson = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json"));
        if is_geojson && let Some(enc) = &opts.encoding {
            return Err(Error::zones(
                path,
                format!("--encoding {enc} applies to shapefiles only; GeoJSON is always UTF-8"),
            ));
        }
        let (crs, raw, driver, note) = if is_geojson {
            let (crs, raw) = read_geojson(path)?;
            (crs, raw, "GeoJSON".to_string(), None)
        } else {
            read_ogr_text(path, opts)?
        };
        let mut layer = build_layer(path, crs, raw, &driver, opts)?;
        layer.repairs.splice(0..0, note);
        Ok(layer)
    }

    /// Zone geometries reprojected to `target`. When the CRSs differ,
    /// edges are first densified to segments no longer than
    /// `max_segment` (in this layer's units), so that straight lines stay
    /// faithful after projection.
    pub fn project(
        &self,
        target: &Crs,
        max_segment: Option<f64>,
    ) -> Result<Vec<MultiPolygon<f64>>> {
        let geoms: Vec<MultiPolygon<f64>> = self.zones.iter().map(|z| z.geometry.clone()).collect();
        self.project_geometries(&geoms, target, max_segment)
    }

    /// [`ZoneLayer::project`] for geometries in this layer's CRS, one per
    /// zone (e.g. the zones clipped to a raster's footprint).
    pub(crate) fn project_geometries(
        &self,
        geoms: &[MultiPolygon<f64>],
        target: &Crs,
        max_segment: Option<f64>,
    ) -> Result<Vec<MultiPolygon<f64>>> {
        let r = Reprojector::new(&self.crs, target)?;
        if r.is_identity() {
            return Ok(geoms.to_vec());
        }
        self.zones
            .iter()
            .zip(geoms)
            .map(|(z, g)| {
                let g = match max_segment {
                    Some(len) => srs::densify(g, len),
                    None => g.clone(),
                };
                r.multipolygon(&g).map_err(|e| {
                    Error::feature(
                        &self.path,
                        &z.id,
                        format!("cannot reproject to {}: {e}", target.label),
                    )
                })
            })
            .collect()
    }

    /// The zones in lon/lat on the datum of `datum` (the geographic CRS
    /// of a projected one), edges densified to 1 km first: a straight edge
    /// of a projected polygon is a curve in lon/lat, and at 1 km the chords
    /// change a zone's geodesic area by less than 1e-8 (measured ≤ 4e-9 for
    /// zones up to 360 km from a Gauss–Krüger central meridian, against
    /// 10 m densification). Feed to [`crate::area::Ellipsoid`] for
    /// geodesic areas.
    pub fn to_lonlat(&self, datum: &Crs) -> Result<(Crs, Vec<MultiPolygon<f64>>)> {
        let geog = srs::geographic_of(datum)?;
        let seg = segment_length(&self.crs, 1000.0);
        let mut lonlat = self.project(&geog, Some(seg))?;
        if self.crs.geographic {
            // A lon/lat layer already on the datum is not projected (nor
            // densified); its edges are straight in lon/lat, which
            // Karney's geodesic edges follow only when short (a ±10° box
            // came out 1 % large).
            lonlat = lonlat.iter().map(|g| srs::densify(g, seg)).collect();
        }
        Ok((geog, lonlat))
    }

    /// Geodesic area (m²) of each zone on the ellipsoid of `datum`
    /// (Karney's algorithm; see [`ZoneLayer::to_lonlat`]), zones in
    /// parallel on the current rayon pool.
    pub fn geodesic_areas(&self, datum: &Crs) -> Result<Vec<f64>> {
        use rayon::prelude::*;
        let (geog, lonlat) = self.to_lonlat(datum)?;
        Ok(lonlat
            .par_iter()
            .map(|g| geog.ellipsoid.multipolygon_area(g))
            .collect())
    }

    /// The area (m²) of each zone under `mode`, measured for a raster in
    /// `crs`: geodesic on the ellipsoid of `crs` ([`ZoneLayer::geodesic_areas`])
    /// for ellipsoidal areas and geographic CRSs; otherwise the planar
    /// area of the zone projected to `crs` (edges densified to 1 km).
    pub fn areas(&self, crs: &Crs, mode: crate::area::AreaMode) -> Result<Vec<f64>> {
        use rayon::prelude::*;
        if mode == crate::area::AreaMode::Ellipsoidal || crs.geographic {
            return self.geodesic_areas(crs);
        }
        let seg = segment_length(&self.crs, 1000.0);
        let projected = self.project(crs, Some(seg))?;
        let unit2 = crs.linear_unit_m * crs.linear_unit_m;
        Ok(projected
            .par_iter()
            .map(|g| geo::Area::unsigned_area(g) * unit2)
            .collect())
    }

    /// Every file this layer was read from (a Shapefile's sidecar files
    /// too): what no output of the run may overwrite.
    pub fn files(&self) -> Vec<PathBuf> {
        crate::raster::input_files(&self.path)
    }

    /// Index of the zone with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.zones.iter().position(|z| z.id == id)
    }
}

/// A length of `metres` expressed in the units of `crs` (degrees are taken
/// as 1/111 320 of a metre's … i.e. metres / 111 320).
pub fn segment_length(crs: &Crs, metres: f64) -> f64 {
    if crs.geographic {
        metres / 111_320.0
    } else {
        metres / crs.linear_unit_m
    }
}

fn build_layer(
    path: &Path,
    crs: Crs,
    raw: Vec<RawFeature>,
    driver: &str,
    opts: &ZoneOptions,
) -> Result<ZoneLayer> {
    if raw.is_empty() {
        return Err(Error::zones(path, "the layer has no features"));
    }
    let attribute_list = |raw: &[RawFeature]| {
        let mut fields: Vec<&String> = raw[0].attributes.keys().collect();
        fields.sort();
        fields
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(field) = &opts.name_field
        && !raw.iter().any(|r| r.attributes.contains_key(field))
    {
        return Err(Error::zones(
            path,
            format!(
                "has no attribute {field:?} for --name-field; its attributes are: {}",
                attribute_list(&raw)
            ),
        ));
    }
    let ids = match &opts.id_field {
        Some(f) => IdScheme::Field(f.clone()),
        None if raw.iter().any(|r| r.fid.is_some()) => IdScheme::FeatureIds(driver.to_string()),
        None => IdScheme::Index,
    };
    let name_field = match &opts.name_field {
        Some(f) => Some(f.clone()),
        None => NAME_FIELDS
            .iter()
            .find(|f| raw.iter().any(|r| r.attributes.contains_key(**f)))
            .map(|f| f.to_string()),
    };
    if let Some(field) = &opts.id_field
        && !raw.iter().any(|r| r.attributes.contains_key(field))
    {
        return Err(Error::zones(
            path,
            format!(
                "has no attribute {field:?} for --id-field; its attributes are: {}",
                attribute_list(&raw)
            ),
        ));
    }
    let domain = srs::Domain::new(&crs)?;
    let mut zones = Vec::with_capacity(raw.len());
    let mut repairs = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, f) in raw.into_iter().enumerate() {
        let id = match &opts.id_field {
            Some(field) => match f.attributes.get(field) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Null) | None => {
                    return Err(Error::feature(
                        path,
                        format!("#{index}"),
                        format!("has no value for the id field {field:?}"),
                    ));
                }
                Some(other) => other.to_string(),
            },
            None => f.fid.clone().unwrap_or_else(|| index.to_string()),
        };
        let label = if opts.id_field.is_some() || f.fid.is_some() {
            format!("{id:?} (#{index})")
        } else {
            format!("#{index}")
        };
        if let Some(prev) = seen.insert(id.clone(), index) {
            return Err(Error::feature(
                path,
                &label,
                format!(
                    "duplicate id {id:?} (also feature #{prev}); ids must be unique — choose another --id-field"
                ),
            ));
        }
        let geometry = match f.geometry {
            None => {
                return Err(Error::feature(path, &label, "has no geometry"));
            }
            Some(g) => polygons_of(g).map_err(|kind| {
                Error::feature(
                    path,
                    &label,
                    format!("is a {kind}, but zones must be polygons or multipolygons"),
                )
            })?,
        };
        let geometry = check_valid(path, &label, geometry, opts.make_valid, &mut repairs)?;
        domain
            .check(&geometry)
            .map_err(|reason| Error::feature(path, &label, reason))?;
        let name = name_field
            .as_ref()
            .and_then(|nf| f.attributes.get(nf))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            });
        zones.push(Zone {
            index,
            id,
            name,
            attributes: f.attributes,
            geometry,
        });
    }
    Ok(ZoneLayer {
        path: path.to_path_buf(),
        crs,
        zones,
        repairs,
        ids,
    })
}

/// The polygons of a geometry; `Err(type name)` for non-polygonal ones.
/// Empty geometries give an empty multipolygon.
pub fn polygons_of(g: geo::Geometry<f64>) -> std::result::Result<MultiPolygon<f64>, &'static str> {
    use geo::Geometry as G;
    match g {
        G::Polygon(p) => Ok(MultiPolygon(vec![p])),
        G::MultiPolygon(mp) => Ok(mp),
        G::Rect(r) => Ok(MultiPolygon(vec![r.to_polygon()])),
        G::Triangle(t) => Ok(MultiPolygon(vec![t.to_polygon()])),
        G::GeometryCollection(gc) => {
            let mut out = Vec::new();
            for g in gc.0 {
                out.extend(polygons_of(g)?.0);
            }
            Ok(MultiPolygon(out))
        }
        G::Point(_) => Err("point"),
        G::MultiPoint(_) => Err("multipoint"),
        G::Line(_) | G::LineString(_) => Err("linestring"),
        G::MultiLineString(_) => Err("multilinestring"),
    }
}

fn check_valid(
    path: &Path,
    label: &str,
    mp: MultiPolygon<f64>,
    repair: bool,
    repairs: &mut Vec<String>,
) -> Result<MultiPolygon<f64>> {
    if geo::CoordsIter::coords_iter(&mp).any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return Err(Error::feature(path, label, "has non-finite coordinates"));
    }
    if geos_valid(&mp) {
        return Ok(mp);
    }
    let problem = invalidity_reason(&mp);
    if !repair {
        return Err(Error::feature(
            path,
            label,
            format!(
                "invalid polygon ({problem}); fix it (e.g. `ogr2ogr -makevalid`) or pass --make-valid to repair it with GEOS"
            ),
        ));
    }
    let fixed = make_valid(&mp).map_err(|e| {
        Error::feature(
            path,
            label,
            format!("invalid polygon ({problem}) and repair failed: {e}"),
        )
    })?;
    repairs.push(format!(
        "{}: feature {label}: repaired invalid polygon ({problem})",
        path.display()
    ));
    Ok(fixed)
}

/// GEOS's validity test (through GDAL): O(n log n), unlike a pairwise
/// segment check, so boundaries with 100 000 vertices stay cheap.
fn geos_valid(mp: &MultiPolygon<f64>) -> bool {
    if mp.0.is_empty() {
        return true;
    }
    match mp.to_gdal() {
        Ok(g) => g.is_valid(),
        Err(_) => mp.is_valid(),
    }
}

/// Why a polygon is invalid, in words (geo's checks are quadratic in the
/// number of vertices, so large polygons get a general answer).
fn invalidity_reason(mp: &MultiPolygon<f64>) -> String {
    use geo::CoordsIter;
    if mp.coords_count() <= 20_000
        && let Err(e) = mp.check_validation()
    {
        return e.to_string();
    }
    "self-intersecting ring, hole outside its shell, or overlapping parts".to_string()
}

/// Repairs a multipolygon with GEOS (through GDAL) and keeps its polygons.
/// The polygons among a geometry's members (a repair's collection of the
/// fixed polygons and the edges it collapsed to lines), dissolved into one
/// valid multipolygon; points and lines have no area and are dropped.
fn polygonal_members(g: geo::Geometry<f64>) -> MultiPolygon<f64> {
    use geo::Geometry as G;
    let mut parts = Vec::new();
    let mut stack = vec![g];
    while let Some(g) = stack.pop() {
        match g {
            G::Polygon(p) => parts.push(p),
            G::MultiPolygon(mp) => parts.extend(mp.0),
            G::Rect(r) => parts.push(r.to_polygon()),
            G::Triangle(t) => parts.push(t.to_polygon()),
            G::GeometryCollection(gc) => stack.extend(gc.0),
            _ => {}
        }
    }
    match parts.len() {
        0 => MultiPolygon(vec![]),
        1 => MultiPolygon(parts),
        _ => geo::unary_union(&parts),
    }
}

pub(crate) fn make_valid(mp: &MultiPolygon<f64>) -> std::result::Result<MultiPolygon<f64>, String> {
    let g = mp.to_gdal().map_err(|e| e.to_string())?;
    let fixed = g
        .make_valid(&gdal::cpl::CslStringList::new())
        .map_err(|e| crate::error::gdal_msg(&e))?;
    let geo = fixed.to_geo().map_err(|e| e.to_string())?;
    // GEOS answers adjacent parcels stored as one multipolygon, and spikes,
    // with a collection of the fixed polygons and the collapsed edges as
    // lines: the polygons are the zone.
    let polys = polygonal_members(geo);
    if !geos_valid(&polys) {
        return Err(format!(
            "still invalid after repair: {}",
            invalidity_reason(&polys)
        ));
    }
    Ok(polys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon};

    fn square(x0: f64) -> Polygon<f64> {
        Polygon::new(
            LineString::from(vec![
                (x0, 0.0),
                (x0 + 1.0, 0.0),
                (x0 + 1.0, 1.0),
                (x0, 1.0),
                (x0, 0.0),
            ]),
            vec![],
        )
    }

    /// A repair that answers with a collection (GEOS does for adjacent
    /// parcels stored as one multipolygon, and for spikes) keeps the
    /// polygons: the zone is both parcels, not empty.
    #[test]
    fn repaired_collections_keep_their_polygons() {
        use geo::Area;
        let adjacent = MultiPolygon(vec![square(0.0), square(1.0)]);
        assert!(!geos_valid(&adjacent));
        let fixed = make_valid(&adjacent).unwrap();
        assert!((fixed.unsigned_area() - 2.0).abs() < 1e-12, "{fixed:?}");
        let spike = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (2.0, 0.0),
                (2.0, 1.0),
                (1.0, 1.0),
                (1.0, 3.0),
                (1.0, 1.0),
                (0.0, 1.0),
                (0.0, 0.0),
            ]),
            vec![],
        )]);
        let fixed = make_valid(&spike).unwrap();
        assert!((fixed.unsigned_area() - 2.0).abs() < 1e-12, "{fixed:?}");
    }
}
