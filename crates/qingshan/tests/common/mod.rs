//! Helpers shared by the library's and the CLI's integration tests: small
//! synthetic rasters and zone files with answers known by construction.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use qingshan::grid::{GeoTransform, Grid};
use qingshan::raster::{ClassPixel, RasterSpec, write_class_raster};

/// The repository's `fixtures/` directory.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// A north-up grid with `pixel`-sized cells whose top-left corner is
/// `(x0, y0)` in EPSG `epsg`.
pub fn grid(epsg: u32, x0: f64, y0: f64, pixel: f64, width: usize, height: usize) -> Grid {
    Grid {
        transform: GeoTransform([x0, pixel, 0.0, y0, 0.0, -pixel]),
        width,
        height,
        crs: qingshan::crs_from_epsg(epsg).expect("EPSG code known to PROJ"),
    }
}

/// Writes a class raster whose value at (col, row) is `f(col, row)`.
pub fn write_raster<T: ClassPixel>(
    path: &Path,
    grid: &Grid,
    nodata: Option<f64>,
    f: impl Fn(usize, usize) -> T,
) {
    write_class_raster::<T>(
        path,
        &RasterSpec {
            grid,
            nodata,
            description: "test classes",
            metadata: vec![],
            colors: vec![],
            sparse: false,
            threads: 1,
        },
        |w, buf| {
            for r in 0..w.height {
                for c in 0..w.width {
                    buf[r * w.width + c] = f(w.col + c, w.row + r);
                }
            }
            Ok(())
        },
    )
    .expect("write test raster");
}

/// A polygon as rings of map coordinates (exterior first).
pub type Rings = Vec<Vec<(f64, f64)>>;

/// A GeoJSON FeatureCollection with a legacy `crs` member (`epsg`, or none
/// for RFC 7946 lon/lat) of polygons given as lists of rings.
pub fn geojson(epsg: Option<u32>, features: &[(&str, Rings)]) -> String {
    let feats: Vec<serde_json::Value> = features
        .iter()
        .map(|(id, rings)| {
            let rings: Vec<Vec<[f64; 2]>> = rings
                .iter()
                .map(|r| {
                    let mut v: Vec<[f64; 2]> = r.iter().map(|&(x, y)| [x, y]).collect();
                    if v.first() != v.last() {
                        v.push(v[0]);
                    }
                    v
                })
                .collect();
            serde_json::json!({
                "type": "Feature",
                "id": id,
                "properties": {"name": format!("zone {id}")},
                "geometry": {"type": "Polygon", "coordinates": rings}
            })
        })
        .collect();
    let mut fc = serde_json::json!({"type": "FeatureCollection", "features": feats});
    if let Some(code) = epsg {
        fc["crs"] = serde_json::json!({"type": "name", "properties": {"name": format!("urn:ogc:def:crs:EPSG::{code}")}});
    }
    fc.to_string()
}

/// A rectangle ring in map coordinates given in pixel units of `grid`.
pub fn pixel_rect(grid: &Grid, c0: f64, r0: f64, c1: f64, r1: f64) -> Vec<(f64, f64)> {
    let t = &grid.transform;
    vec![
        t.to_map(c0, r0),
        t.to_map(c1, r0),
        t.to_map(c1, r1),
        t.to_map(c0, r1),
    ]
}

/// `mp` with straight edges split into pieces no longer than `step` (in its
/// own units), holes kept: the same shape with more vertices, so that a
/// reprojection or a geodesic area follows the original straight edges.
pub fn densify(mp: &geo::MultiPolygon<f64>, step: f64) -> geo::MultiPolygon<f64> {
    let ring = |r: &geo::LineString<f64>| {
        let mut out = Vec::new();
        for w in r.0.windows(2) {
            let n = ((w[1].x - w[0].x).hypot(w[1].y - w[0].y) / step)
                .ceil()
                .max(1.0) as usize;
            for k in 0..n {
                let t = k as f64 / n as f64;
                out.push((
                    w[0].x + t * (w[1].x - w[0].x),
                    w[0].y + t * (w[1].y - w[0].y),
                ));
            }
        }
        out.push((r.0[0].x, r.0[0].y));
        geo::LineString::from(out)
    };
    geo::MultiPolygon(
        mp.0.iter()
            .map(|p| {
                geo::Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
            })
            .collect(),
    )
}
