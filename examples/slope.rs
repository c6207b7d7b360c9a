//! Returning steep cropland to forest (退耕还林): how much of each town
//! lies on each slope grade, how much cropland is on slopes > 25°, and
//! which land-survey parcels a county would list. Writes the steep
//! parcels as a GBK Shapefile for desktop GIS, with a CSV list.
//!
//! ```text
//! cargo run --release -p qingshan --example slope [-- OUT.shp]
//! ```

use std::path::Path;

use qingshan::area::m2_to_mu;
use qingshan::export::{SteepCropland, grade_label};
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::raster::values::ValueRaster;
use qingshan::slope::{Cropland, Grades, SlopeInputs, slope};
use qingshan::zones::{ZoneLayer, ZoneOptions};
use qingshan::{Result, RunOptions};

fn main() -> Result<()> {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "steep_cropland.shp".into());
    // The DEM: two tiles read as one mosaic (slopes cross the tile edge).
    let dem = ValueRaster::open(&[fx.join("dem").display().to_string()], 1)?;
    let towns = ZoneLayer::read(&fx.join("towns.geojson"), &ZoneOptions::default())?;
    let land_cover = LandCover::open(
        &[fx.join("landcover/clcd_2024.vrt").display().to_string()],
        1,
    )?;
    let clcd = Legend::builtin("clcd").expect("built-in");
    // The land survey's parcels, cropland only (DLBM 0101, 0102, 0103).
    let parcels = ZoneLayer::read(
        &fx.join("dltb.gpkg"),
        &ZoneOptions {
            id_field: Some("BSM".into()),
            ..Default::default()
        },
    )?;
    let cropland = Cropland::select(parcels, Some("DLBM"), &[])?;
    let grades = Grades::default(); // ≤2°, 2–6°, 6–15°, 15–25°, >25°

    let report = slope(
        &SlopeInputs {
            dem: &dem,
            zones: &towns,
            grades: &grades,
            land_cover: Some((&land_cover, &clcd)),
            cropland: Some(&cropland),
            slope_raster: None,
        },
        &RunOptions::default(),
    )?;
    for town in &report.zones {
        println!(
            "{}: mean slope {:.1}°",
            town.name.as_deref().unwrap_or(&town.id),
            town.mean_slope_deg.unwrap_or(0.0)
        );
        for g in &town.grades {
            println!(
                "    {:<4} {:>4}–{:<2}° {:>9.0} mu",
                grade_label(g.grade),
                g.min_deg,
                g.max_deg,
                m2_to_mu(g.area_m2)
            );
        }
        println!(
            "    cropland on > 25°: {:.0} mu",
            m2_to_mu(town.steep_cropland_m2.unwrap_or(0.0))
        );
    }
    let steep = report.steep_polygons();
    println!(
        "{} of {} cropland parcels lie mostly on > 25° ({:.0} mu)",
        steep.len(),
        cropland.layer.zones.len(),
        m2_to_mu(steep.iter().map(|p| p.area_m2).sum())
    );
    let csv = SteepCropland {
        report: &report,
        cropland: &cropland,
    }
    .write(out.as_ref())?;
    println!("→ {out} and {}", csv.display());
    Ok(())
}
