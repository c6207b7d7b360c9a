//! Zonal statistics of the two towns, as a GIS specialist would script it:
//! forest land in mu (亩) and forest cover against the plan's 47 % target.
//!
//! ```text
//! cargo run --release -p qingshan --example zonal_stats [LANDCOVER...] [-- ZONES]
//! ```
//! Without arguments it uses the bundled synthetic fixtures.

use std::path::Path;

use qingshan::RunOptions;
use qingshan::area::{m2_to_ha, m2_to_mu};
use qingshan::export::{self, Format};
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::zonal::zonal_stats;
use qingshan::zones::{ZoneLayer, ZoneOptions};

const TARGET_COVER: f64 = 0.47;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (rasters, zones) = match args.iter().position(|a| a == "--") {
        Some(i) => (args[..i].to_vec(), args[i + 1].clone()),
        None if !args.is_empty() => (args, fixtures.join("towns.geojson").display().to_string()),
        None => (
            vec![
                fixtures
                    .join("landcover/clcd_2019.vrt")
                    .display()
                    .to_string(),
            ],
            fixtures.join("towns.geojson").display().to_string(),
        ),
    };

    let land_cover = LandCover::open(&rasters, 1)?;
    let towns = ZoneLayer::read(Path::new(&zones), &ZoneOptions::default())?;
    let legend = Legend::builtin("clcd").expect("built-in");
    let stats = zonal_stats(&land_cover, &towns, &legend, &RunOptions::default())?;

    println!(
        "{:<12} {:>12} {:>12} {:>10}  verdict",
        "town", "forest ha", "forest mu", "cover"
    );
    for z in &stats.zones {
        let cover = z.forest_cover.unwrap_or(0.0);
        println!(
            "{:<12} {:>12.1} {:>12.0} {:>9.2}%  {}",
            z.id,
            m2_to_ha(z.forest_area_m2),
            m2_to_mu(z.forest_area_m2),
            100.0 * cover,
            if cover >= TARGET_COVER {
                "meets 47 %"
            } else {
                "below 47 %"
            }
        );
        // The biggest classes of the town, by name.
        let mut classes: Vec<_> = z.classes.iter().collect();
        classes.sort_by(|a, b| b.1.total_cmp(a.1));
        for (code, m2) in classes.iter().take(3) {
            println!(
                "    {:<12} {:>10.1} ha",
                legend.name_of(**code),
                m2_to_ha(**m2)
            );
        }
    }

    // The table `qingshan stats --format table` prints, from the same
    // result (export::write would put it, or JSON/CSV/GeoJSON, in a file).
    println!();
    let out = export::Stats {
        report: &stats,
        legend: &legend,
        zones: Some(&towns),
    };
    export::render(&out, Format::Table, &mut std::io::stdout())?;
    Ok(())
}
