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

use gdal::vector::{FieldValue, LayerAccess, ToGdal};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};

use serde_json::{Map, Value};

use crate::error::gdal_msg;
use crate::grid::Crs;
use crate::srs::{self, Reprojector};
use crate::{Error, Result};

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
struct RawFeature {
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
        let (crs, raw, driver) = if is_geojson {
            let (crs, raw) = read_geojson(path)?;
            (crs, raw, "GeoJSON".to_string())
        } else {
            read_ogr(path, opts.layer.as_deref())?
        };
        build_layer(path, crs, raw, &driver, opts)
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
        let lonlat = self.project(&geog, Some(seg))?;
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
fn polygons_of(g: geo::Geometry<f64>) -> std::result::Result<MultiPolygon<f64>, &'static str> {
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
    if mp.0.iter().any(|p| {
        p.exterior()
            .0
            .iter()
            .chain(p.interiors().iter().flat_map(|r| r.0.iter()))
            .any(|c| !c.x.is_finite() || !c.y.is_finite())
    }) {
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
        .map_err(|e| e.to_string())?;
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

// ---------------------------------------------------------------- GeoJSON

fn read_geojson(path: &Path) -> Result<(Crs, Vec<RawFeature>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e| Error::zones(path, format!("not valid GeoJSON: {e}")))?;
    let (features, foreign) = match gj {
        geojson::GeoJson::FeatureCollection(fc) => (fc.features, fc.foreign_members),
        geojson::GeoJson::Feature(f) => (vec![f], None),
        geojson::GeoJson::Geometry(g) => (
            vec![geojson::Feature {
                bbox: None,
                geometry: Some(g),
                id: None,
                properties: None,
                foreign_members: None,
            }],
            None,
        ),
    };
    let crs = match foreign.as_ref().and_then(|m| m.get("crs")) {
        Some(member) => legacy_crs(path, member)?,
        None => srs::crs_from_epsg(4326)?,
    };
    let mut raw = Vec::with_capacity(features.len());
    for (i, f) in features.into_iter().enumerate() {
        let fid = f.id.as_ref().map(|id| match id {
            geojson::feature::Id::String(s) => s.clone(),
            geojson::feature::Id::Number(n) => n.to_string(),
        });
        let geometry = match f.geometry {
            None => None,
            Some(g) => Some(geojson_to_geo(&g.value).map_err(|reason| {
                Error::feature(
                    path,
                    fid.clone()
                        .map(|s| format!("{s:?} (#{i})"))
                        .unwrap_or(format!("#{i}")),
                    reason,
                )
            })?),
        };
        raw.push(RawFeature {
            fid,
            attributes: f.properties.unwrap_or_default(),
            geometry,
        });
    }
    if foreign.as_ref().and_then(|m| m.get("crs")).is_none() {
        // RFC 7946: lon/lat. Coordinates outside ±180/±90 are projected
        // coordinates in a file that does not say so.
        for (i, f) in raw.iter().enumerate() {
            if let Some(g) = &f.geometry
                && let Some(c) = first_out_of_lonlat(g)
            {
                return Err(Error::zones(
                    path,
                    format!(
                        "feature #{i} has coordinate ({}, {}), which is not lon/lat, but the file has no \"crs\" member \
                         (RFC 7946 GeoJSON is lon/lat WGS 84); add a crs member, e.g. \
                         \"crs\": {{\"type\": \"name\", \"properties\": {{\"name\": \"urn:ogc:def:crs:EPSG::4545\"}}}}, \
                         or convert with `ogr2ogr -s_srs EPSG:XXXX -t_srs EPSG:4326`; {}",
                        c.x,
                        c.y,
                        srs::lonlat_hint(c.x, c.y)
                    ),
                ));
            }
        }
    }
    Ok((crs, raw))
}

fn first_out_of_lonlat(g: &geo::Geometry<f64>) -> Option<Coord<f64>> {
    use geo::CoordsIter;
    g.coords_iter()
        .find(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y))
}

fn legacy_crs(path: &Path, member: &Value) -> Result<Crs> {
    let bad = |why: &str| {
        Error::zones(
            path,
            format!(
                "has a \"crs\" member qingshan cannot read ({why}); use {{\"type\": \"name\", \"properties\": {{\"name\": \"urn:ogc:def:crs:EPSG::4545\"}}}}"
            ),
        )
    };
    let props = member
        .get("properties")
        .ok_or_else(|| bad("no properties"))?;
    let def = match member.get("type").and_then(Value::as_str) {
        Some("name") => props
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no properties.name"))?
            .to_string(),
        Some("EPSG") => {
            let code = props.get("code").ok_or_else(|| bad("no properties.code"))?;
            format!(
                "EPSG:{}",
                code.as_i64().ok_or_else(|| bad("code is not a number"))?
            )
        }
        _ => return Err(bad("type is neither \"name\" nor \"EPSG\"")),
    };
    srs::crs_from_user_input(&def).map_err(|e| Error::zones(path, format!("crs member: {e}")))
}

fn ring_of(positions: &[geojson::Position]) -> std::result::Result<LineString<f64>, String> {
    positions
        .iter()
        .map(|p| {
            let s = p.as_slice();
            if s.len() < 2 {
                Err("a position has fewer than 2 coordinates".to_string())
            } else {
                Ok(Coord { x: s[0], y: s[1] })
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(LineString)
}

fn polygon_of(rings: &[Vec<geojson::Position>]) -> std::result::Result<Polygon<f64>, String> {
    let mut it = rings.iter();
    let Some(ext) = it.next() else {
        return Ok(Polygon::new(LineString(vec![]), vec![]));
    };
    Ok(Polygon::new(
        ring_of(ext)?,
        it.map(|r| ring_of(r))
            .collect::<std::result::Result<_, _>>()?,
    ))
}

fn geojson_to_geo(v: &geojson::GeometryValue) -> std::result::Result<geo::Geometry<f64>, String> {
    use geojson::GeometryValue as V;
    Ok(match v {
        V::Polygon { coordinates } => geo::Geometry::Polygon(polygon_of(coordinates)?),
        V::MultiPolygon { coordinates } => geo::Geometry::MultiPolygon(MultiPolygon(
            coordinates
                .iter()
                .map(|p| polygon_of(p))
                .collect::<std::result::Result<_, _>>()?,
        )),
        V::GeometryCollection { geometries } => {
            geo::Geometry::GeometryCollection(geo::GeometryCollection(
                geometries
                    .iter()
                    .map(|g| geojson_to_geo(&g.value))
                    .collect::<std::result::Result<_, _>>()?,
            ))
        }
        V::Point { .. } => geo::Geometry::Point(geo::Point::new(0.0, 0.0)),
        V::MultiPoint { .. } => geo::Geometry::MultiPoint(geo::MultiPoint(vec![])),
        V::LineString { .. } => geo::Geometry::LineString(LineString(vec![])),
        V::MultiLineString { .. } => geo::Geometry::MultiLineString(geo::MultiLineString(vec![])),
    })
}

// ---------------------------------------------------------------- OGR

fn field_to_json(v: FieldValue) -> Value {
    match v {
        FieldValue::IntegerValue(i) => Value::from(i),
        FieldValue::Integer64Value(i) => Value::from(i),
        FieldValue::RealValue(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        FieldValue::StringValue(s) => Value::String(s),
        FieldValue::IntegerListValue(v) => Value::from(v),
        FieldValue::Integer64ListValue(v) => Value::from(v),
        FieldValue::RealListValue(v) => Value::from(v),
        FieldValue::StringListValue(v) => Value::from(v),
        FieldValue::DateValue(d) => Value::String(d.to_string()),
        FieldValue::DateTimeValue(d) => Value::String(d.to_string()),
    }
}

/// A vector layer through OGR: its CRS, features and the driver's short
/// name (which decides how feature ids are numbered).
fn read_ogr(path: &Path, layer_name: Option<&str>) -> Result<(Crs, Vec<RawFeature>, String)> {
    let ds = Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            ..Default::default()
        },
    )
    .map_err(|e| {
        Error::open(
            path,
            format!("not a vector file GDAL can open ({})", gdal_msg(&e)),
        )
    })?;
    if ds.layer_count() == 0 {
        return Err(Error::zones(path, "has no vector layers"));
    }
    let mut layer = match layer_name {
        Some(n) => ds.layer_by_name(n).map_err(|_| {
            let names: Vec<String> = ds.layers().map(|l| l.name()).collect();
            Error::zones(
                path,
                format!("has no layer {n:?}; its layers are: {}", names.join(", ")),
            )
        })?,
        None => ds.layer(0).map_err(|e| Error::open(path, gdal_msg(&e)))?,
    };
    let srs = layer.spatial_ref().ok_or_else(|| {
        Error::zones(
            path,
            "has no CRS (for a shapefile: the .prj file is missing); assign one with `ogr2ogr -a_srs EPSG:XXXX`",
        )
    })?;
    let crs = srs::crs_of(&srs, &path.display().to_string())?;
    let mut raw = Vec::new();
    for (i, feature) in layer.features().enumerate() {
        let fid = feature.fid().map(|f| f.to_string());
        let mut attributes = Map::new();
        for (name, value) in feature.fields() {
            attributes.insert(name, value.map(field_to_json).unwrap_or(Value::Null));
        }
        let geometry = match feature.geometry() {
            None => None,
            Some(g) if g.is_empty() => Some(geo::Geometry::MultiPolygon(MultiPolygon(vec![]))),
            Some(g) => {
                let mut g = g.clone();
                g.flatten_to_2d();
                Some(g.to_geo().map_err(|e| {
                    Error::feature(
                        path,
                        fid.clone().unwrap_or(format!("#{i}")),
                        format!(
                            "geometry type {} cannot be read ({e}); curved geometries need `ogr2ogr -nlt CONVERT_TO_LINEAR`",
                            g.geometry_name()
                        ),
                    )
                })?)
            }
        };
        raw.push(RawFeature {
            fid,
            attributes,
            geometry,
        });
    }
    let driver = ds.driver().short_name();
    Ok((crs, raw, driver))
}

#[cfg(test)]
mod tests {
    use super::*;

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
