//! Writing polygons: GeoJSON by hand (byte-stable formatting, legacy `crs`
//! member), Shapefile and GeoPackage through GDAL with the options that make
//! them byte-deterministic (fixed DBF date, fixed GeoPackage timestamp).
//! Field names longer than a DBF allows (10 bytes) are refused for
//! Shapefiles, never truncated.

use std::fmt::Write as _;
use std::path::Path;

use gdal::DriverManager;
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{
    Feature, FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal,
};
use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::error::{Error, GdalContext, Result, io};

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Prop {
    Str(String),
    Real(f64),
    Int(i32),
}

/// One feature to write.
#[derive(Debug, Clone)]
pub(crate) struct Feat {
    pub id: Option<String>,
    pub props: Vec<(&'static str, Prop)>,
    pub geom: MultiPolygon,
    /// Write as a Polygon rather than a MultiPolygon when it has one part.
    pub single: bool,
}

fn json_str(s: &str) -> String {
    // serde_json escapes quotes, backslashes and control characters and
    // keeps non-ASCII text as UTF-8.
    serde_json::Value::String(s.to_string()).to_string()
}

/// Signed area of a closed ring (positive = counter-clockwise).
fn signed_area(ring: &[Coord]) -> f64 {
    let mut s = 0.0;
    for w in ring.windows(2) {
        s += w[0].x * w[1].y - w[1].x * w[0].y;
    }
    s / 2.0
}

fn write_ring(out: &mut String, ring: &LineString, ccw: bool) {
    let pts = &ring.0;
    let flip = (signed_area(pts) > 0.0) != ccw;
    out.push('[');
    let n = pts.len();
    for k in 0..n {
        let p = if flip { pts[n - 1 - k] } else { pts[k] };
        if k > 0 {
            out.push(',');
        }
        let _ = write!(out, "[{:.2},{:.2}]", p.x, p.y);
    }
    out.push(']');
}

fn write_polygon(out: &mut String, p: &Polygon) {
    out.push('[');
    write_ring(out, p.exterior(), true);
    for h in p.interiors() {
        out.push(',');
        write_ring(out, h, false);
    }
    out.push(']');
}

/// Writes a GeoJSON FeatureCollection in EPSG:4545 with the legacy `crs`
/// member. Coordinates are written with two decimals (0.01 m); exterior
/// rings counter-clockwise and holes clockwise (RFC 7946).
pub(crate) fn write_geojson(path: &Path, name: &str, feats: &[Feat]) -> Result<()> {
    let mut s = String::new();
    s.push_str("{\n\"type\": \"FeatureCollection\",\n");
    let _ = writeln!(s, "\"name\": {},", json_str(name));
    s.push_str(
        "\"crs\": { \"type\": \"name\", \"properties\": { \"name\": \"urn:ogc:def:crs:EPSG::4545\" } },\n",
    );
    s.push_str("\"features\": [\n");
    for (i, f) in feats.iter().enumerate() {
        s.push_str("{ \"type\": \"Feature\", ");
        if let Some(id) = &f.id {
            let _ = write!(s, "\"id\": {}, ", json_str(id));
        }
        s.push_str("\"properties\": { ");
        for (k, (key, v)) in f.props.iter().enumerate() {
            if k > 0 {
                s.push_str(", ");
            }
            let value = match v {
                Prop::Str(t) => json_str(t),
                Prop::Real(x) => serde_json::Value::from(*x).to_string(),
                Prop::Int(i) => i.to_string(),
            };
            let _ = write!(s, "{}: {value}", json_str(key));
        }
        s.push_str(" }, \"geometry\": ");
        if f.single && f.geom.0.len() == 1 {
            s.push_str("{ \"type\": \"Polygon\", \"coordinates\": ");
            write_polygon(&mut s, &f.geom.0[0]);
        } else {
            s.push_str("{ \"type\": \"MultiPolygon\", \"coordinates\": [");
            for (k, p) in f.geom.0.iter().enumerate() {
                if k > 0 {
                    s.push(',');
                }
                write_polygon(&mut s, p);
            }
            s.push(']');
        }
        s.push_str(" } }");
        if i + 1 < feats.len() {
            s.push(',');
        }
        s.push('\n');
    }
    s.push_str("]\n}\n");
    io(std::fs::write(path, s), path)
}

/// A spatial reference with x = easting/longitude, y = northing/latitude.
pub(crate) fn srs(epsg: u32) -> Result<SpatialRef> {
    let mut s = SpatialRef::from_epsg(epsg).ctx(|| format!("creating EPSG:{epsg}"))?;
    s.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(s)
}

/// The type of an attribute field, with its DBF width (and decimals).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FieldKind {
    Str { width: i32 },
    Real { width: i32, precision: i32 },
    Int { width: i32 },
}

/// A field of the attribute table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
}

impl Field {
    /// A string field `width` bytes wide (in the file's encoding).
    pub(crate) const fn str(name: &'static str, width: i32) -> Field {
        Field {
            name,
            kind: FieldKind::Str { width },
        }
    }
    /// A real field, `width` characters with `precision` decimals in a DBF.
    pub(crate) const fn real(name: &'static str, width: i32, precision: i32) -> Field {
        Field {
            name,
            kind: FieldKind::Real { width, precision },
        }
    }
    /// A 32-bit integer field.
    pub(crate) const fn int(name: &'static str, width: i32) -> Field {
        Field {
            name,
            kind: FieldKind::Int { width },
        }
    }
}

/// The longest field name a DBF holds (bytes); GDAL would truncate longer
/// names silently.
pub(crate) const DBF_NAME_MAX: usize = 10;

/// Refuses field names a DBF cannot hold (Shapefiles only).
fn check_field_names(path: &Path, driver: &str, fields: &[Field]) -> Result<()> {
    if driver != "ESRI Shapefile" {
        return Ok(());
    }
    match fields.iter().find(|f| f.name.len() > DBF_NAME_MAX) {
        Some(f) => Err(Error::FieldName {
            path: path.to_path_buf(),
            name: f.name.to_string(),
        }),
        None => Ok(()),
    }
}

/// Adds the fields to a new layer.
fn add_fields(
    layer: &gdal::vector::Layer<'_>,
    fields: &[Field],
    what: &dyn Fn() -> String,
) -> Result<()> {
    for f in fields {
        let (ty, width, precision) = match f.kind {
            FieldKind::Str { width } => (OGRFieldType::OFTString, width, None),
            FieldKind::Real { width, precision } => (OGRFieldType::OFTReal, width, Some(precision)),
            FieldKind::Int { width } => (OGRFieldType::OFTInteger, width, None),
        };
        let fd = FieldDefn::new(f.name, ty).ctx(what)?;
        fd.set_width(width);
        if let Some(p) = precision {
            fd.set_precision(p);
        }
        fd.add_to_layer(layer).ctx(what)?;
    }
    Ok(())
}

/// Sets the feature's fields from `(name, value)` pairs (names not in
/// `fields` are skipped).
fn set_props(
    f: &mut Feature<'_>,
    fields: &[Field],
    props: &[(&'static str, Prop)],
    what: &dyn Fn() -> String,
) -> Result<()> {
    for (key, v) in props {
        let Some(i) = fields.iter().position(|fd| fd.name == *key) else {
            continue;
        };
        match v {
            Prop::Str(t) => f.set_field_string(i, t),
            Prop::Real(x) => f.set_field_double(i, *x),
            Prop::Int(n) => f.set_field_integer(i, *n),
        }
        .ctx(what)?;
    }
    Ok(())
}

/// Removes a Shapefile's or GeoPackage's files before rewriting them.
fn remove_existing(path: &Path, sidecars: &[&str]) -> Result<()> {
    let mut paths = vec![path.to_path_buf()];
    for ext in sidecars {
        paths.push(path.with_extension(ext));
    }
    for p in paths {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return io(Err(e), &p),
        }
    }
    Ok(())
}

/// Writes polygons through OGR. `reproject_to` (an EPSG code) reprojects
/// from EPSG:4545 on the way; geometries are MultiPolygons unless `single`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_ogr(
    path: &Path,
    driver: &str,
    layer_name: &str,
    layer_options: &[&str],
    fields: &[Field],
    feats: &[Feat],
    reproject_to: Option<u32>,
    single: bool,
) -> Result<()> {
    let what = || format!("writing {}", path.display());
    let sidecars: &[&str] = if driver == "ESRI Shapefile" {
        &["shx", "dbf", "prj", "cpg"]
    } else {
        &["gpkg-journal", "gpkg-wal", "gpkg-shm"]
    };
    check_field_names(path, driver, fields)?;
    remove_existing(path, sidecars)?;
    let src = srs(4545)?;
    let (dst, ct) = match reproject_to {
        Some(epsg) => {
            let dst = srs(epsg)?;
            let ct = CoordTransform::new(&src, &dst).ctx(what)?;
            (dst, Some(ct))
        }
        None => (srs(4545)?, None),
    };
    let drv = DriverManager::get_driver_by_name(driver).ctx(what)?;
    let mut ds = drv.create_vector_only(path).ctx(what)?;
    let ty = if single {
        OGRwkbGeometryType::wkbPolygon
    } else {
        OGRwkbGeometryType::wkbMultiPolygon
    };
    let layer = ds
        .create_layer(LayerOptions {
            name: layer_name,
            srs: Some(&dst),
            ty,
            options: Some(layer_options),
        })
        .ctx(what)?;
    add_fields(&layer, fields, &what)?;
    for feat in feats {
        let mut g = if single && feat.geom.0.len() == 1 {
            feat.geom.0[0].to_gdal()
        } else {
            feat.geom.to_gdal()
        }
        .ctx(what)?;
        if let Some(ct) = &ct {
            g.transform_inplace(ct).ctx(what)?;
        }
        let mut f = Feature::new(layer.defn()).ctx(what)?;
        set_props(&mut f, fields, &feat.props, &what)?;
        f.set_geometry(g).ctx(what)?;
        f.create(&layer).ctx(what)?;
    }
    ds.close().ctx(what)
}

/// Where and how [`LayerWriter`] writes: one layer of polygons.
pub(crate) struct LayerSpec<'a> {
    pub path: &'a Path,
    pub driver: &'a str,
    pub layer: &'a str,
    pub options: &'a [&'a str],
    pub fields: &'a [Field],
    /// The CRS of the coordinates (written as is, not reprojected).
    pub epsg: u32,
}

/// One polygon to write: its properties, and its rings (exterior first,
/// then holes; each closed).
pub(crate) type PolygonRow = (Vec<(&'static str, Prop)>, Vec<Vec<Coord>>);

/// Writes one polygon layer (no reprojection), feature by feature, inside
/// one transaction where the driver has them (GeoPackage): fast for
/// hundreds of thousands of features, and the same bytes on every run.
/// Returns the number of features written.
pub(crate) fn write_layer(
    spec: &LayerSpec<'_>,
    rows: impl Iterator<Item = Result<PolygonRow>>,
) -> Result<usize> {
    let what = || format!("writing {}", spec.path.display());
    check_field_names(spec.path, spec.driver, spec.fields)?;
    let shp = spec.driver == "ESRI Shapefile";
    let sidecars: &[&str] = if shp {
        &["shx", "dbf", "prj", "cpg"]
    } else {
        &["gpkg-journal", "gpkg-wal", "gpkg-shm"]
    };
    remove_existing(spec.path, sidecars)?;
    let drv = DriverManager::get_driver_by_name(spec.driver).ctx(what)?;
    let mut ds = drv.create_vector_only(spec.path).ctx(what)?;
    let srs = srs(spec.epsg)?;
    {
        let layer = ds
            .create_layer(LayerOptions {
                name: spec.layer,
                srs: Some(&srs),
                ty: OGRwkbGeometryType::wkbPolygon,
                options: Some(spec.options),
            })
            .ctx(what)?;
        add_fields(&layer, spec.fields, &what)?;
    }
    let n = if shp {
        add_rows(&ds, spec, rows)?
    } else {
        let txn = ds.start_transaction().ctx(what)?;
        let n = add_rows(&txn, spec, rows)?;
        txn.commit().ctx(what)?;
        n
    };
    ds.close().ctx(what)?;
    Ok(n)
}

fn add_rows(
    ds: &gdal::Dataset,
    spec: &LayerSpec<'_>,
    rows: impl Iterator<Item = Result<PolygonRow>>,
) -> Result<usize> {
    let what = || format!("writing {}", spec.path.display());
    let layer = ds.layer(0).ctx(what)?;
    let mut n = 0;
    for row in rows {
        let (props, rings) = row?;
        let g = gdal::vector::Geometry::from_wkb(&polygon_wkb(&rings)).ctx(what)?;
        let mut f = Feature::new(layer.defn()).ctx(what)?;
        set_props(&mut f, spec.fields, &props, &what)?;
        f.set_geometry(g).ctx(what)?;
        f.create(&layer).ctx(what)?;
        n += 1;
    }
    Ok(n)
}

/// Little-endian WKB of a polygon (exterior ring first).
pub(crate) fn polygon_wkb(rings: &[Vec<Coord>]) -> Vec<u8> {
    let n: usize = rings.iter().map(|r| r.len()).sum();
    let mut b = Vec::with_capacity(9 + 4 * rings.len() + 16 * n);
    b.push(1u8);
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&(rings.len() as u32).to_le_bytes());
    for r in rings {
        b.extend_from_slice(&(r.len() as u32).to_le_bytes());
        for c in r {
            b.extend_from_slice(&c.x.to_le_bytes());
            b.extend_from_slice(&c.y.to_le_bytes());
        }
    }
    b
}
