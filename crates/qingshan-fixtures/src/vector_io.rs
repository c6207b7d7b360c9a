//! Writing polygons: GeoJSON by hand (byte-stable formatting, legacy `crs`
//! member), Shapefile and GeoPackage through GDAL with the options that make
//! them byte-deterministic (fixed DBF date, fixed GeoPackage timestamp).

use std::fmt::Write as _;
use std::path::Path;

use gdal::DriverManager;
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{
    Feature, FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal,
};
use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::error::{GdalContext, Result, io};

/// A property value.
#[derive(Debug, Clone)]
pub(crate) enum Prop {
    Str(String),
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
            match v {
                Prop::Str(t) => {
                    let _ = write!(s, "{}: {}", json_str(key), json_str(t));
                }
            }
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

/// A string field of the attribute table.
pub(crate) struct Field {
    pub name: &'static str,
    pub width: i32,
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
    for f in fields {
        let fd = FieldDefn::new(f.name, OGRFieldType::OFTString).ctx(what)?;
        fd.set_width(f.width);
        fd.add_to_layer(&layer).ctx(what)?;
    }
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
        for (key, Prop::Str(v)) in &feat.props {
            if let Some(i) = fields.iter().position(|fd| fd.name == *key) {
                f.set_field_string(i, v).ctx(what)?;
            }
        }
        f.set_geometry(g).ctx(what)?;
        f.create(&layer).ctx(what)?;
    }
    ds.close().ctx(what)
}
