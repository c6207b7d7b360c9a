//! Function not lowered (功能不降低) and progress year by year: mean NDVI
//! inside each baseline red line in 2019 and 2024, and each town's forest
//! cover for every year 2019–2024 drawn as a chart with the 47 % target.
//!
//! ```text
//! cargo run --release -p qingshan --example vegetation [-- OUT_DIR]
//! ```

use std::path::Path;

use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::raster::values::{ScaleOffset, ValueRaster};
use qingshan::report::chart::series_charts;
use qingshan::series::{SeriesInputs, series};
use qingshan::values::{Stat, values};
use qingshan::zones::{ZoneLayer, ZoneOptions};
use qingshan::{Result, RunOptions};

fn main() -> Result<()> {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let out = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let path = |p: &str| fx.join(p).display().to_string();
    let opts = RunOptions::default();

    // NDVI inside the baseline red lines (Int16 × 10000: the file's scale
    // 0.0001 is applied).
    let redlines = ZoneLayer::read(
        &fx.join("redlines_2019.geojson"),
        &ZoneOptions {
            id_field: Some("hx_id".into()),
            ..Default::default()
        },
    )?;
    let stats = Stat::parse_list("mean,median,q10")?;
    let ndvi = |year: u16| -> Result<_> {
        let raster = ValueRaster::open_values(
            &[path(&format!("ndvi/ndvi_{year}.tif"))],
            1,
            ScaleOffset::File,
        )?;
        values(&raster, &redlines, &stats, &opts)
    };
    let (before, after) = (ndvi(2019)?, ndvi(2024)?);
    println!("red line     NDVI mean 2019  2024    change");
    for (b, a) in before.zones.iter().zip(&after.zones) {
        let (x, y) = (b.stats.get("mean"), a.stats.get("mean"));
        if let (Some(x), Some(y)) = (x, y) {
            let flag = if y - x < -0.01 { "  ← lowered" } else { "" };
            println!("{:<12} {x:>14.4}  {y:.4}  {:+.4}{flag}", a.id, y - x);
        }
    }

    // Forest cover of each town, every year, and its chart.
    let towns = ZoneLayer::read(&fx.join("towns.geojson"), &ZoneOptions::default())?;
    let clcd = Legend::builtin("clcd").expect("built-in legend");
    let mut landcover = Vec::new();
    for year in 2019..=2024u16 {
        let file = match year {
            2019 | 2024 => format!("landcover/clcd_{year}.vrt"),
            _ => format!("landcover/series/clcd_{year}.tif"),
        };
        landcover.push((year.to_string(), LandCover::open(&[path(&file)], 1)?));
    }
    let report = series(
        &SeriesInputs {
            zones: &towns,
            landcover: &landcover,
            legend: Some(&clcd),
            rasters: &[],
            values_name: None,
            stats: &[],
            tuning: Default::default(),
        },
        &opts,
    )?;
    for z in &report.zones {
        let covers: Vec<String> = z
            .forest_cover()
            .iter()
            .map(|(d, c)| format!("{d} {:.2} %", 100.0 * c.unwrap_or(f64::NAN)))
            .collect();
        println!(
            "{}: {}",
            z.name.as_deref().unwrap_or(&z.id),
            covers.join(", ")
        );
    }
    for (stem, chart) in series_charts(&report, Some(0.47)) {
        let file = Path::new(&out).join(format!("{stem}.svg"));
        let svg = chart.svg()?;
        qingshan::fsio::write_atomic(&file, |w| w.write_all(svg.as_bytes()))?;
        println!("chart → {}", file.display());
    }
    Ok(())
}
