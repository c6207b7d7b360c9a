//! Polygonizing a class raster with GDAL: connected regions of one value
//! as polygons (conversion patches inside red lines).

use std::path::Path;

use super::open_raster;
use crate::error::gdal_msg;
use crate::{Error, Result};

/// Outlines the connected regions (8-connected) of equal non-zero value of
/// a one-band integer raster with GDAL's polygonize, returning each region's
/// value and polygon in the raster's CRS.
pub fn polygonize(path: &Path) -> Result<Vec<(i64, geo::MultiPolygon<f64>)>> {
    use gdal::vector::{FieldDefn, LayerAccess, LayerOptions, OGRFieldType};
    let ds = open_raster(path)?;
    let band = ds
        .rasterband(1)
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    let driver = gdal::DriverManager::get_driver_by_name("Memory")
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    let mut mem = driver
        .create_vector_only("patches")
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    let srs = ds.spatial_ref().ok();
    let layer = mem
        .create_layer(LayerOptions {
            name: "patches",
            srs: srs.as_ref(),
            ty: gdal::vector::OGRwkbGeometryType::wkbPolygon,
            options: None,
        })
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    FieldDefn::new("code", OGRFieldType::OFTInteger64)
        .and_then(|f| f.add_to_layer(&layer))
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    let mut options = gdal::cpl::CslStringList::new();
    options
        .set_name_value("8CONNECTED", "8")
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    // SAFETY: the band, its mask (the band itself: zero is "no patch") and
    // the layer are live GDAL handles owned by `ds` and `mem`, which outlive
    // the call; the options list is a valid, NULL-terminated string list;
    // no progress callback is passed.
    #[allow(unsafe_code)]
    let err = unsafe {
        gdal_sys::CPLErrorReset();
        gdal_sys::GDALPolygonize(
            band.c_rasterband(),
            band.c_rasterband(),
            layer.c_layer(),
            0,
            options.as_ptr(),
            None,
            std::ptr::null_mut(),
        )
    };
    if err != gdal_sys::CPLErr::CE_None {
        return Err(Error::raster(
            path,
            crate::error::last_cpl_error("GDAL polygonize failed"),
        ));
    }
    let mut layer = layer;
    let mut out = Vec::new();
    for f in layer.features() {
        let code = f.field_as_integer64(0).ok().flatten().unwrap_or(0);
        if code == 0 {
            continue;
        }
        let Some(g) = f.geometry() else { continue };
        match g.to_geo() {
            Ok(geo::Geometry::Polygon(p)) => out.push((code, geo::MultiPolygon(vec![p]))),
            Ok(geo::Geometry::MultiPolygon(mp)) => out.push((code, mp)),
            _ => {}
        }
    }
    Ok(out)
}
