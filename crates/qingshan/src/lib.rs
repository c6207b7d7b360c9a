//! qingshan (青山, "green mountain"): exact land-cover areas, forest cover
//! and ecological-protection red-line audits of mountain zones, from
//! land-cover rasters and zone polygons.
//!
//! # Data flow
//!
//! 1. [`raster::LandCover`] opens the land cover — one file, a VRT, or many
//!    tiles sharing a CRS — reading only headers ([`grid::Grid`]: transform,
//!    size, CRS, nodata).
//! 2. [`zones::ZoneLayer`] reads zones (GeoJSON, Shapefile, GeoPackage, …)
//!    with ids and attributes; they are reprojected to the raster's CRS.
//! 3. [`coverage`] computes, for each zone, the exact fraction of every
//!    cell inside it, as row runs.
//! 4. [`zonal::zonal_stats`] reads the raster window by window in parallel
//!    and adds coverage × [`area`] cell area into per-zone class areas; a
//!    [`legend::Legend`] says which classes are forest.
//! 5. [`export`] writes the result as JSON (`qingshan.stats/1`), CSV,
//!    GeoJSON or a table, through [`fsio`] (whole files or nothing).
//!
//! ```
//! use qingshan::legend::Legend;
//! use qingshan::raster::LandCover;
//! use qingshan::zonal::zonal_stats;
//! use qingshan::zones::{ZoneLayer, ZoneOptions};
//!
//! // The bundled synthetic fixtures: two towns and CLCD land cover (2×2 tiles).
//! let land_cover = LandCover::open(&["../../fixtures/landcover/clcd_2019.vrt"], 1)?;
//! let towns = ZoneLayer::read("../../fixtures/towns.geojson".as_ref(), &ZoneOptions::default())?;
//! let clcd = Legend::builtin("clcd").expect("built-in legend");
//!
//! let stats = zonal_stats(&land_cover, &towns, &clcd, &Default::default())?;
//! for town in &stats.zones {
//!     // Every class area is in m²; the classes add up to the valid area.
//!     let total: f64 = town.classes.values().sum();
//!     assert!((total - town.valid_area_m2).abs() < 1e-6 * town.valid_area_m2);
//!     println!(
//!         "{}: forest {:.0} mu, cover {:.1} %",
//!         town.name.as_deref().unwrap_or(&town.id),
//!         qingshan::area::m2_to_mu(town.forest_area_m2),
//!         100.0 * town.forest_cover.unwrap_or(0.0),
//!     );
//! }
//!
//! // The same result as the CLI writes it: JSON, CSV, GeoJSON or a table.
//! use qingshan::export::{self, Format};
//! let out = export::Stats { report: &stats, legend: &clcd, zones: Some(&towns) };
//! let mut csv = Vec::new();
//! export::render(&out, Format::Csv, &mut csv).expect("written to memory");
//! assert_eq!(csv.split(|b| *b == b'\n').next(), Some(&b"zone_id,zone_name,class,class_name,forest,area_m2,area_ha,area_mu,share_of_valid"[..]));
//! # Ok::<(), qingshan::Error>(())
//! ```
//!
//! # Modules
//!
//! - [`grid`]: geotransform, size, CRS and windows of a raster.
//! - [`raster`]: GDAL land-cover sources, tile sets, window reads and writes.
//! - [`zones`]: reading polygons with ids; reprojection.
//! - [`coverage`]: exact cell-coverage fractions of a polygon.
//! - [`area`]: cell areas (planar or ellipsoidal), geodesic polygon areas,
//!   units (m², ha, mu).
//! - [`legend`]: class schemes (CLCD, WorldCover, GlobeLand30, Dynamic
//!   World, TOML) and forest / natural / artificial classes.
//! - [`zonal`]: per-zone class areas and forest cover.
//! - [`change`]: per-zone transition matrices between two dates.
//! - [`redline`]: red-line version diff (area) and checks (nature, function).
//! - [`fsio`]: the one place that writes files (atomic temp + rename).
//! - [`export`]: JSON, CSV, GeoJSON and table outputs of every result,
//!   one trait and one format dispatch.
//! - [`report`]: the HTML audit report and its PNG maps, rendered from
//!   the audit bundle alone.
//! - [`slope`]: slope grades from a DEM per zone, land cover on steep
//!   slopes, the grade of each cropland polygon.
//! - [`values`]: coverage-weighted statistics of a continuous raster
//!   (NDVI, NPP) per zone: mean, stddev, median, quantiles.
//! - [`series`]: many dates in one run: forest cover and value
//!   statistics per zone per date.
//! - [`audit`]: a plan's targets (TOML) checked against all of the above.
//! - [`batch`]: hundreds of tiles, resumable partials, shards and merge.
//! - [`commands`]: one function per `qingshan` command (what the CLI and
//!   scripts call).
#![deny(missing_docs)]

pub mod area;
pub mod audit;
pub mod batch;
pub mod cellarea;
pub mod change;
pub mod commands;
pub mod coverage;
mod engine;
mod error;
pub mod export;
pub mod fsio;
pub mod grid;
pub mod landuse;
pub mod legend;
pub mod raster;
pub mod redline;
pub mod report;
pub mod series;
pub mod slope;
mod srs;
pub mod values;
pub mod zonal;
pub mod zones;

pub use engine::{MAX_THREADS, Progress, RunOptions};
pub use error::{Error, Result, one_line};
pub use srs::{crs_from_epsg, crs_from_user_input};
