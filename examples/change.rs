//! Land-cover change 2019 → 2024 in the two towns: where did forest come
//! from and go to, in mu (亩)? Writes a transition GeoTIFF for QGIS.
//!
//! ```text
//! cargo run --release -p qingshan --example change [-- OUT.tif]
//! ```

use std::path::Path;

use qingshan::area::m2_to_mu;
use qingshan::change::{ChangeRaster, land_cover_change};
use qingshan::legend::{ClassCode, Legend};
use qingshan::raster::LandCover;
use qingshan::zones::{ZoneLayer, ZoneOptions};
use qingshan::{Result, RunOptions};

fn main() -> Result<()> {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "transitions_2019_2024.tif".into());
    let before = LandCover::open(
        &[fx.join("landcover/clcd_2019.vrt").display().to_string()],
        1,
    )?;
    let after = LandCover::open(
        &[fx.join("landcover/clcd_2024.vrt").display().to_string()],
        1,
    )?;
    let towns = ZoneLayer::read(&fx.join("towns.geojson"), &ZoneOptions::default())?;
    let clcd = Legend::builtin("clcd").expect("built-in");

    let change = land_cover_change(
        &before,
        &after,
        &towns,
        &clcd,
        &RunOptions::default(),
        Some(&ChangeRaster {
            path: out.clone().into(),
        }),
    )?;
    for town in &change.zones {
        println!(
            "{}: forest {:.0} → {:.0} mu (gain {:.0}, loss {:.0}); cover {:.2} % → {:.2} %",
            town.name.as_deref().unwrap_or(&town.id),
            m2_to_mu(town.forest_before_m2),
            m2_to_mu(town.forest_after_m2),
            m2_to_mu(town.forest_gain_m2),
            m2_to_mu(town.forest_loss_m2),
            100.0 * town.forest_cover_before.unwrap_or(0.0),
            100.0 * town.forest_cover_after.unwrap_or(0.0),
        );
        // Where the lost forest went.
        if let Some(row) = town.transitions.get(&ClassCode::from(2)) {
            for (to, m2) in row.iter().filter(|(to, _)| **to != 2) {
                println!(
                    "    forest → {:<12} {:>8.1} mu",
                    clcd.name_of(*to),
                    m2_to_mu(*m2)
                );
            }
        }
    }
    println!("transition raster: {out} (value = from × 10 + to)");
    Ok(())
}
