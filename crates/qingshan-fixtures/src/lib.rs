//! Deterministic generator of qingshan's synthetic fixtures.
//!
//! Everything this crate writes is **synthetic**: invented town boundaries,
//! land cover and ecological red lines placed at the approximate location of
//! Jinsuoguan (金锁关镇) and Azhuang (阿庄镇) towns, Yintai District,
//! Tongchuan, Shaanxi. The output is byte-identical on every run.
//!
//! - [`clcd_class`]: the landscape, a pure function of the projected
//!   coordinate (EPSG:4545 metres) and the year, in CLCD codes.
//! - [`write_demo`]: the small committed set in `fixtures/` (two towns, land
//!   cover 2019 and 2024 as tiles + VRT, a geographic copy, red lines 2019
//!   and 2024, GBK Shapefile, land-survey (三调 DLTB) layers 2019 and 2024,
//!   README).
//! - [`write_landuse_bench`]: a large land-survey (DLTB) benchmark set.
//! - [`write_synthetic`]: a large benchmark set (e.g. 12 000 × 9 000 cells in
//!   tiles + VRT per year, and hundreds of irregular zones).
//!
//! Determinism: own hash/noise (splitmix64, value noise), no platform libm
//! on any path that reaches a file, fixed GeoTIFF/DBF/GeoPackage options,
//! one writer per file.
#![deny(missing_docs)]

mod demo;
mod ellipsoid;
mod error;
mod geom;
mod landscape;
mod landuse_bench;
mod landuse_codes;
mod landuse_files;
mod landuse_io;
mod landuse_lattice;
mod landuse_readme;
#[cfg(test)]
mod landuse_tests;
mod noise;
mod raster_io;
mod readme;
mod stats;
mod synthetic;
mod synthetic_dem;
mod terrain_io;
#[cfg(test)]
mod tests;
mod vector_io;
mod vegetation;

use std::path::{Path, PathBuf};

pub use demo::{DemoManifest, RedLineArea, TownForest};
pub use error::{Error, Result};
pub use landscape::clcd_class;
pub use landuse_bench::{LanduseBenchManifest, LanduseBenchOptions};
pub use landuse_files::{ClassTally, DirtyPatch, LanduseSummary, PerturbedArea};
pub use synthetic::{SyntheticManifest, SyntheticOptions};

/// The land-cover files of one year.
#[derive(Debug, Clone, PartialEq)]
pub struct YearFiles {
    /// The year.
    pub year: u16,
    /// The GeoTIFF tiles, row by row.
    pub tiles: Vec<PathBuf>,
    /// The VRT mosaic over the tiles (relative source paths).
    pub vrt: PathBuf,
}

/// Writes the committed demo fixture set into `out_dir` (normally the
/// repository's `fixtures/`), replacing files of the same names.
///
/// See `fixtures/README.md` (written by this function) for what each file
/// is and which changes between 2019 and 2024 are deliberate. Fails with
/// [`Error::Geometry`] if a generated geometry breaks an invariant (a bug in
/// the generator, never expected).
///
/// # Examples
///
/// ```no_run
/// let m = qingshan_fixtures::write_demo(std::path::Path::new("fixtures"))?;
/// for f in &m.forest {
///     println!("{} {}: {:.1} % forest", f.town, f.year, f.forest_share * 100.0);
/// }
/// # Ok::<(), qingshan_fixtures::Error>(())
/// ```
pub fn write_demo(out_dir: &Path) -> Result<DemoManifest> {
    demo::write_demo(out_dir)
}

/// Writes a large synthetic benchmark set into `out_dir`: per year a
/// directory `clcd_{year}/` of GeoTIFF tiles and a VRT `clcd_{year}.vrt`,
/// and `zones.geojson`.
///
/// The raster is the demo landscape ([`clcd_class`]) tabulated once on a
/// 10 m grid over the demo region and sampled, nearest cell, at mirrored
/// coordinates over the larger extent (centred on the demo region, the
/// mirror phase shifted by the seed): the same landscape, repeated, at the
/// cost of a table lookup per cell. Tiles are written in parallel (rayon),
/// each by one thread, one block row at a time, so memory stays at a few
/// tens of MB and the output does not depend on scheduling. The zones are
/// irregular star-shaped polygons of ~20 cells to ~2 % of the raster, about
/// a quarter with holes, a sixth multi-part, a few partly outside.
///
/// # Examples
///
/// ```no_run
/// use qingshan_fixtures::{SyntheticOptions, write_synthetic};
/// let opts = SyntheticOptions { width: 2000, height: 1500, ..Default::default() };
/// let m = write_synthetic(&opts, std::path::Path::new("/tmp/bench"))?;
/// assert_eq!(m.years.len(), 2);
/// # Ok::<(), qingshan_fixtures::Error>(())
/// ```
pub fn write_synthetic(opts: &SyntheticOptions, out_dir: &Path) -> Result<SyntheticManifest> {
    synthetic::write_synthetic(opts, out_dir)
}

/// Writes a large land-survey benchmark set into `out_dir`: `dltb.gpkg`
/// (layer `DLTB`, the demo's DLTB fields: a planar partition of about
/// `opts.polygons` polygons of 50–500 coordinates, one per jittered 100 m
/// lattice cell with long, wiggly, densified edges), `towns.gpkg` (layer
/// `towns`: two large zones, `zone_id`, `name`) and `redlines.gpkg` (layer
/// `redlines`: 150 irregular zones, `zone_id`), all in EPSG:4545.
///
/// Classes come from the demo landscape mirrored over the larger extent
/// (shifted by the seed); TBMJ is the ellipsoidal area (GRS80), as in the
/// demo's layers. Rows are computed in parallel chunks and written in order
/// inside one transaction, so the output does not depend on scheduling.
///
/// # Examples
///
/// ```no_run
/// use qingshan_fixtures::{LanduseBenchOptions, write_landuse_bench};
/// let opts = LanduseBenchOptions { polygons: 20_000, ..Default::default() };
/// let m = write_landuse_bench(&opts, std::path::Path::new("/tmp/landuse-bench"))?;
/// println!("{} polygons, {} coordinates", m.polygons, m.vertices);
/// # Ok::<(), qingshan_fixtures::Error>(())
/// ```
pub fn write_landuse_bench(
    opts: &LanduseBenchOptions,
    out_dir: &Path,
) -> Result<LanduseBenchManifest> {
    landuse_bench::write_landuse_bench(opts, out_dir)
}

/// Writes a DEM on the grid [`write_synthetic`] uses with the same
/// options: `dem/dem_r{row}c{col}.tif` tiles, Int16 metres (the demo
/// landscape's elevation, mirrored as its land cover is), for slope
/// benchmarks. Returns the tiles' paths.
pub fn write_synthetic_dem(opts: &SyntheticOptions, out_dir: &Path) -> Result<Vec<PathBuf>> {
    synthetic_dem::write_synthetic_dem(opts, out_dir)
}
