//! Writing polygons with attributes: GeoPackage and Shapefile through
//! OGR (a Shapefile's text in GBK with a `.cpg` saying so, as Chinese
//! desktop GIS expects) — whole files or nothing, through [`crate::fsio`].
//! (GeoJSON is written by `export`, without GDAL.)

use std::path::Path;

use gdal::DriverManager;
use gdal::vector::{
    FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal,
};
use geo::MultiPolygon;
use serde_json::{Map, Value};

use crate::error::gdal_msg;
use crate::grid::Crs;
use crate::{Error, Result, srs};

/// The type of an attribute written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Text.
    Text,
    /// A 64-bit integer.
    Integer,
    /// A real number.
    Real,
}

/// A vector output format, from the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorFormat {
    /// `.gpkg`.
    GeoPackage,
    /// `.shp` (text in GBK, with a `.cpg`).
    Shapefile,
    /// `.geojson` / `.json`.
    GeoJson,
}

impl VectorFormat {
    /// The format a path's extension names.
    pub fn from_path(path: &Path) -> Result<VectorFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("gpkg") => Ok(VectorFormat::GeoPackage),
            Some("shp") => Ok(VectorFormat::Shapefile),
            Some("geojson") | Some("json") => Ok(VectorFormat::GeoJson),
            _ => Err(Error::write(
                path,
                "is not a vector format qingshan writes: end it with .gpkg, .shp or .geojson",
            )),
        }
    }
}

/// Writes polygons (in `crs`) with their properties as a GeoPackage or a
/// Shapefile: every feature has the properties named in `fields`, in that
/// order (strings, numbers or null).
pub fn write_polygons(
    path: &Path,
    layer_name: &str,
    crs: &Crs,
    fields: &[(&str, FieldKind)],
    features: &[(MultiPolygon<f64>, Map<String, Value>)],
) -> Result<()> {
    match VectorFormat::from_path(path)? {
        VectorFormat::GeoJson => Err(Error::write(
            path,
            "GeoJSON is written by export::write_feature_collection",
        )),
        VectorFormat::GeoPackage => {
            let out = crate::fsio::Pending::beside(path, ".tmp.gpkg")?;
            // The GeoPackage driver will not create over the empty file
            // the temporary name holds.
            let _ = std::fs::remove_file(out.path());
            // A fixed `last_change` date: the same run gives the same bytes.
            let _ = gdal::config::set_thread_local_config_option(
                "OGR_CURRENT_DATE",
                "2000-01-01T00:00:00.000Z",
            );
            let written = write_ogr(
                out.path(),
                path,
                "GPKG",
                layer_name,
                &[],
                crs,
                fields,
                features,
            );
            let _ = gdal::config::clear_thread_local_config_option("OGR_CURRENT_DATE");
            written?;
            out.commit()
        }
        VectorFormat::Shapefile => {
            if path.extension().is_some_and(|e| e != "shp") {
                return Err(Error::write(
                    path,
                    "name a Shapefile output with a lowercase .shp: GDAL writes its .shx, .dbf and .prj in lowercase",
                ));
            }
            crate::fsio::write_with_sidecars(path, &crate::fsio::SHAPEFILE_SIDECARS, |tmp| {
                write_ogr(
                    tmp,
                    path,
                    "ESRI Shapefile",
                    layer_name,
                    &["ENCODING=GBK"],
                    crs,
                    fields,
                    features,
                )
            })
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_ogr(
    tmp: &Path,
    target: &Path,
    driver: &str,
    layer_name: &str,
    options: &[&str],
    crs: &Crs,
    fields: &[(&str, FieldKind)],
    features: &[(MultiPolygon<f64>, Map<String, Value>)],
) -> Result<()> {
    let fail = |e: gdal::errors::GdalError| Error::write(target, gdal_msg(&e));
    let drv = DriverManager::get_driver_by_name(driver).map_err(fail)?;
    let mut ds = drv.create_vector_only(tmp).map_err(fail)?;
    let sr = srs::spatial_ref(crs)?;
    {
        let layer = ds
            .create_layer(LayerOptions {
                name: layer_name,
                srs: Some(&sr),
                ty: OGRwkbGeometryType::wkbMultiPolygon,
                options: Some(options),
            })
            .map_err(fail)?;
        let types: Vec<OGRFieldType::Type> = fields
            .iter()
            .map(|(_, k)| match k {
                FieldKind::Text => OGRFieldType::OFTString,
                FieldKind::Integer => OGRFieldType::OFTInteger64,
                FieldKind::Real => OGRFieldType::OFTReal,
            })
            .collect();
        for ((name, _), ty) in fields.iter().zip(&types) {
            let fd = FieldDefn::new(name, *ty).map_err(fail)?;
            fd.add_to_layer(&layer).map_err(fail)?;
        }
        for (geom, props) in features {
            let mut f = gdal::vector::Feature::new(layer.defn()).map_err(fail)?;
            for (i, ((name, _), ty)) in fields.iter().zip(&types).enumerate() {
                match (props.get(*name), *ty) {
                    (Some(Value::Number(n)), OGRFieldType::OFTInteger64) => f
                        .set_field_integer64(i, n.as_i64().unwrap_or(0))
                        .map_err(fail)?,
                    (Some(Value::Number(n)), _) => f
                        .set_field_double(i, n.as_f64().unwrap_or(f64::NAN))
                        .map_err(fail)?,
                    (Some(Value::String(s)), _) => f.set_field_string(i, s).map_err(fail)?,
                    (Some(Value::Bool(b)), _) => {
                        f.set_field_string(i, &b.to_string()).map_err(fail)?
                    }
                    _ => f.set_field_null(i).map_err(fail)?,
                }
            }
            f.set_geometry(geom.to_gdal().map_err(fail)?)
                .map_err(fail)?;
            f.create(&layer).map_err(fail)?;
        }
    }
    ds.close().map_err(fail)
}
