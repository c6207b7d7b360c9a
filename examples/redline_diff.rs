//! Did the ecological red line shrink between two versions, and did land
//! inside it change its nature? The two versions come in different CRSs
//! (EPSG:4545 GeoJSON and EPSG:4490 GeoPackage).
//!
//! ```text
//! cargo run --release -p qingshan --example redline_diff
//! ```

use std::path::Path;

use qingshan::area::m2_to_mu;
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::redline::{CheckLimits, DiffOptions, redline_check, redline_diff};
use qingshan::zones::{ZoneLayer, ZoneOptions};
use qingshan::{Result, RunOptions};

fn main() -> Result<()> {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let by_id = ZoneOptions {
        id_field: Some("hx_id".into()),
        ..Default::default()
    };
    let old = ZoneLayer::read(&fx.join("redlines_2019.geojson"), &by_id)?;
    let new = ZoneLayer::read(&fx.join("redlines_2024.gpkg"), &by_id)?;
    let towns = ZoneLayer::read(&fx.join("towns.geojson"), &ZoneOptions::default())?;

    // Area not reduced (面积不减少)?
    let diff = redline_diff(&old, &new, Some(&towns), &DiffOptions::default())?;
    println!(
        "red line {:.0} → {:.0} mu: {}",
        m2_to_mu(diff.old_total_m2),
        m2_to_mu(diff.new_total_m2),
        if diff.shrunk { "shrank" } else { "not reduced" }
    );
    for t in &diff.towns {
        println!(
            "  {}: lost {:.0} mu, gained {:.0} mu{}",
            t.name.as_deref().unwrap_or(&t.id),
            m2_to_mu(t.lost_m2),
            m2_to_mu(t.gained_m2),
            if t.shrunk { " — shrank" } else { "" }
        );
    }
    for p in diff
        .polygons
        .iter()
        .filter(|p| p.lost_m2 > diff.tolerance_m2)
    {
        println!(
            "  {} {:?}: lost {:.1} mu",
            p.id,
            p.status,
            m2_to_mu(p.lost_m2)
        );
    }

    // Nature not changed, function not lowered (性质不改变、功能不降低)?
    let before = LandCover::open(
        &[fx.join("landcover/clcd_2019.vrt").display().to_string()],
        1,
    )?;
    let after = LandCover::open(
        &[fx.join("landcover/clcd_2024.vrt").display().to_string()],
        1,
    )?;
    let clcd = Legend::builtin("clcd").expect("built-in");
    let check = redline_check(
        &before,
        &after,
        &old,
        &clcd,
        &CheckLimits::default(),
        &RunOptions::default(),
    )?;
    for p in check.polygons.iter().filter(|p| !p.violations.is_empty()) {
        println!("  {}: {}", p.id, p.violations.join("; "));
    }
    Ok(())
}
