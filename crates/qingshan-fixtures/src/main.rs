//! `qingshan-fixtures`: writes the demo fixtures or a synthetic benchmark set.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use qingshan_fixtures::{
    LanduseBenchOptions, SyntheticOptions, write_demo, write_landuse_bench, write_synthetic,
    write_synthetic_dem,
};

/// Deterministic generator of qingshan's synthetic fixtures.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the committed demo set (towns, land cover 2019/2024, red lines).
    Demo {
        /// Output directory.
        #[arg(long, default_value = "fixtures")]
        out: PathBuf,
    },
    /// Write a large land-survey benchmark set: dltb.gpkg (a planar partition,
    /// DLTB fields), towns.gpkg (2 zones), redlines.gpkg (150 zones).
    LanduseBench {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// About how many survey polygons.
        #[arg(long, default_value_t = LanduseBenchOptions::default().polygons)]
        polygons: usize,
        /// Seed.
        #[arg(long, default_value_t = LanduseBenchOptions::default().seed)]
        seed: u64,
    },
    /// Write a large synthetic benchmark set (tiles + VRT per year, zones).
    Synthetic {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Raster width in cells.
        #[arg(long, default_value_t = SyntheticOptions::default().width)]
        width: usize,
        /// Raster height in cells.
        #[arg(long, default_value_t = SyntheticOptions::default().height)]
        height: usize,
        /// Cell size in metres.
        #[arg(long, default_value_t = SyntheticOptions::default().pixel_size)]
        pixel_size: f64,
        /// Tile columns.
        #[arg(long, default_value_t = SyntheticOptions::default().tiles_x)]
        tiles_x: usize,
        /// Tile rows.
        #[arg(long, default_value_t = SyntheticOptions::default().tiles_y)]
        tiles_y: usize,
        /// Number of zones.
        #[arg(long, default_value_t = SyntheticOptions::default().zones)]
        zones: usize,
        /// Seed.
        #[arg(long, default_value_t = SyntheticOptions::default().seed)]
        seed: u64,
        /// Years, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = SyntheticOptions::default().years)]
        years: Vec<u16>,
        /// GeoTIFF block size in cells.
        #[arg(long, default_value_t = SyntheticOptions::default().block_size)]
        block_size: usize,
        /// Write only a DEM (dem/*.tif, Int16) on the same grid, no land cover or zones.
        #[arg(long)]
        dem_only: bool,
    },
}

fn print_sizes(files: &[PathBuf]) -> u64 {
    let mut total = 0;
    for f in files {
        let n = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        total += n;
        println!("{:>10}  {}", n, f.display());
    }
    println!("{:>10}  total ({} files)", total, files.len());
    total
}

fn run(cli: Cli) -> Result<(), qingshan_fixtures::Error> {
    let t0 = Instant::now();
    match cli.command {
        Command::Demo { out } => {
            let m = write_demo(&out)?;
            print_sizes(&m.files());
            for f in &m.forest {
                println!(
                    "forest share {:<10} {}: {:5.1} % ({} of {} valid cells, {} nodata)",
                    f.town,
                    f.year,
                    f.forest_share * 100.0,
                    f.forest_cells,
                    f.cells - f.nodata_cells,
                    f.nodata_cells
                );
            }
            let l = &m.landuse;
            for (k, year) in [2019, 2024].into_iter().enumerate() {
                println!(
                    "land survey {year}: {} polygons, {} coordinates (at most {} in one)",
                    l.polygons[k], l.vertices[k], l.max_vertices[k]
                );
            }
            println!(
                "land survey 2019 → 2024: {} polygons kept, {} new; gap {:.2} m² ({}), overlap {:.2} m² ({})",
                l.kept,
                l.polygons[1] - l.kept,
                l.gap.area_m2,
                l.gap.bsm,
                l.overlap.area_m2,
                l.overlap.bsm
            );
            for r in &m.redlines {
                let ha = |a: Option<f64>| a.map_or("-".to_string(), |a| format!("{:.1}", a / 1e4));
                println!(
                    "red line {:<10} {:<10} 2019 {:>7} ha  2024 {:>7} ha  {}",
                    r.hx_id,
                    r.town,
                    ha(r.area_2019_m2),
                    ha(r.area_2024_m2),
                    r.change
                );
            }
        }
        Command::LanduseBench {
            out,
            polygons,
            seed,
        } => {
            let m = write_landuse_bench(&LanduseBenchOptions { polygons, seed }, &out)?;
            print_sizes(&m.files());
            println!(
                "{} polygons, {} coordinates ({}–{} per polygon), x {:.0}–{:.0}, y {:.0}–{:.0}, EPSG:4545",
                m.polygons,
                m.vertices,
                m.vertices_range.0,
                m.vertices_range.1,
                m.rect[0],
                m.rect[1],
                m.rect[2],
                m.rect[3]
            );
        }
        Command::Synthetic {
            out,
            width,
            height,
            pixel_size,
            tiles_x,
            tiles_y,
            zones,
            seed,
            years,
            block_size,
            dem_only,
        } => {
            let opts = SyntheticOptions {
                width,
                height,
                pixel_size,
                tiles_x,
                tiles_y,
                zones,
                seed,
                years,
                block_size,
            };
            if dem_only {
                print_sizes(&write_synthetic_dem(&opts, &out)?);
                eprintln!("done in {:.1} s", t0.elapsed().as_secs_f64());
                return Ok(());
            }
            let m = write_synthetic(&opts, &out)?;
            print_sizes(&m.files());
            println!(
                "{} × {} cells of {} m, origin ({}, {}), EPSG:4545",
                m.width, m.height, m.pixel_size, m.origin_x, m.origin_y
            );
        }
    }
    eprintln!("done in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                let t = s.to_string();
                if !msg.contains(&t) {
                    msg.push_str(": ");
                    msg.push_str(&t);
                }
                src = s.source();
            }
            eprintln!("qingshan-fixtures: error: {}", msg.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
