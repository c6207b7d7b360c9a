//! Reading zone layers: GeoJSON with our own parser (legacy `crs`
//! members, exact coordinates), everything else through OGR, with a
//! shapefile's text decoded right or refused.

use std::path::Path;

use gdal::vector::{FieldValue, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};

use super::{RawFeature, ZoneOptions};
use crate::error::gdal_msg;
use crate::grid::Crs;
use crate::srs;
use crate::{Error, Result};

pub(super) fn read_geojson(path: &Path) -> Result<(Crs, Vec<RawFeature>)> {
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
/// The encoding a shapefile's text is tried in when it is not UTF-8:
/// Chinese shapefiles are GBK, and GB18030 decodes every GBK byte the same.
pub(crate) const CHINESE_ENCODING: &str = "GB18030";

/// Whether any attribute name or text value holds U+FFFD, the mark of
/// bytes that were not valid in the encoding they were read with.
fn has_undecodable_text(raw: &[RawFeature]) -> bool {
    raw.iter().any(|f| {
        f.attributes.iter().any(|(k, v)| {
            k.contains('\u{FFFD}') || v.as_str().is_some_and(|s| s.contains('\u{FFFD}'))
        })
    })
}

/// Whether `path` is a shapefile with no `.cpg` whose DBF language id is
/// 0x57 ("ANSI": the code page of the machine that wrote it, unknown —
/// what ArcGIS writes) or a Western DOS/Windows page (0x01–0x03), which
/// Chinese GIS software writes for GBK text as often as not.
pub(crate) fn ansi_without_cpg(path: &Path) -> bool {
    use std::io::Read;
    let is_shp = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("shp") || e.eq_ignore_ascii_case("dbf"));
    if !is_shp
        || ["cpg", "CPG"]
            .iter()
            .any(|e| path.with_extension(e).exists())
    {
        return false;
    }
    let mut header = [0u8; 30];
    ["dbf", "DBF"].iter().any(|e| {
        std::fs::File::open(path.with_extension(e))
            .and_then(|mut f| f.read_exact(&mut header))
            .is_ok()
            && matches!(header[29], 0x01..=0x03 | 0x57)
    })
}

/// [`read_ogr`] with the text decoded right or not at all: a shapefile
/// whose attributes are not valid UTF-8 (a GBK file without `.cpg`) is
/// read again as GBK, with a note saying so; text that no encoding
/// decodes is an error, never replacement characters in silence.
pub(super) fn read_ogr_text(
    path: &Path,
    opts: &ZoneOptions,
) -> Result<(Crs, Vec<RawFeature>, String, Option<String>)> {
    let layer = opts.layer.as_deref();
    // A DBF marked "the writer's ANSI code page" (or a Western page)
    // without a .cpg is decoded by GDAL as Latin-1, which turns GBK into valid-looking mojibake
    // (金锁关镇 → ½ðËø¹ØÕò): read its bytes as they are instead, so that
    // GBK shows as not UTF-8 and is handled below.
    let raw_bytes = opts.encoding.is_none() && ansi_without_cpg(path);
    let first = opts.encoding.as_deref().or(raw_bytes.then_some(""));
    let (crs, raw, driver) = read_ogr(path, layer, first)?;
    let shapefile = driver == "ESRI Shapefile";
    if let Some(enc) = &opts.encoding
        && !shapefile
    {
        return Err(Error::zones(
            path,
            format!(
                "--encoding {enc} applies to shapefiles only; {driver} files say their own encoding"
            ),
        ));
    }
    if !has_undecodable_text(&raw) {
        return Ok((crs, raw, driver, None));
    }
    let undecodable = |tried: &str| {
        Error::zones(
            path,
            format!(
                "has text attributes that are not valid {tried}; pass --encoding with the \
                 file's encoding (e.g. --encoding GBK, --encoding BIG5, --encoding LATIN1) or \
                 write it in a .cpg file beside the .shp"
            ),
        )
    };
    if let Some(enc) = &opts.encoding {
        return Err(undecodable(&format!(
            "{enc} (or {enc} is no encoding name GDAL knows)"
        )));
    }
    if !shapefile {
        return Err(undecodable("UTF-8"));
    }
    let (crs, raw, driver) = read_ogr(path, layer, Some(CHINESE_ENCODING))?;
    if has_undecodable_text(&raw) {
        return Err(undecodable("UTF-8 nor GBK"));
    }
    let cpg = path.with_extension("cpg");
    let why = if cpg.exists() {
        format!("its {} does not match", cpg.display())
    } else {
        "it has no .cpg file".to_string()
    };
    let note = format!(
        "{}: text attributes are not valid UTF-8 and {why}; read them as GBK (the \
         encoding of Chinese shapefiles). Write GBK in {} or pass --encoding to say so \
         (another encoding if the names read wrong, e.g. --encoding CP1252)",
        path.display(),
        cpg.display()
    );
    Ok((crs, raw, driver, Some(note)))
}

/// Opens a vector file read-only (text in `encoding`: `None` as the file
/// says, `Some("")` the raw bytes).
pub(crate) fn open_vector(path: &Path, encoding: Option<&str>) -> Result<Dataset> {
    let encoding_option = encoding.map(|e| format!("ENCODING={e}"));
    let open_options: Vec<&str> = encoding_option.iter().map(|s| s.as_str()).collect();
    Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            open_options: (!open_options.is_empty()).then_some(&open_options[..]),
            ..Default::default()
        },
    )
    .map_err(|e| {
        Error::open(
            path,
            format!("not a vector file GDAL can open ({})", gdal_msg(&e)),
        )
    })
}

/// The layer named `name` (default: the first) of an opened file, with
/// its CRS; errors list the layers there are, or say how to give a CRS.
pub(crate) fn pick_layer<'a>(
    ds: &'a Dataset,
    path: &Path,
    name: Option<&str>,
) -> Result<(gdal::vector::Layer<'a>, Crs)> {
    if ds.layer_count() == 0 {
        return Err(Error::zones(path, "has no vector layers"));
    }
    let layer = match name {
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
    Ok((layer, crs))
}

fn read_ogr(
    path: &Path,
    layer_name: Option<&str>,
    encoding: Option<&str>,
) -> Result<(Crs, Vec<RawFeature>, String)> {
    let ds = open_vector(path, encoding)?;
    let (mut layer, crs) = pick_layer(&ds, path, layer_name)?;
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
