//! A batch over tiles from Rust: the fixtures' land-cover tiles as a tile
//! set, in two shards, merged — the same numbers a single run gives.
//!
//! ```text
//! cargo run --release -p qingshan --example batch [-- OUT_DIR]
//! ```

use std::path::Path;

use qingshan::batch::{
    Batch, BatchConfig, Merged, OverlapPolicy, Shard, ZoneInput, discover_tiles, merge,
};
use qingshan::legend::Legend;
use qingshan::zones::ZoneOptions;
use qingshan::{Result, RunOptions};

fn main() -> Result<()> {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "qingshan-batch-example".into());
    let tiles = discover_tiles(&[fx.join("landcover/clcd_2019").display().to_string()])?;
    let run = RunOptions::default();

    // Two shards, as two machines would run them (here one after the other).
    let mut dirs = Vec::new();
    for index in 0..2 {
        let dir = Path::new(&out).join(format!("shard-{index}"));
        let batch = Batch::prepare(
            BatchConfig {
                tiles: tiles.clone(),
                after_tiles: None,
                band: 1,
                out_dir: dir.clone(),
                shard: Some(Shard { index, count: 2 }),
                resume: true,
                overlap: OverlapPolicy::Refuse,
                area: Default::default(),
            },
            ZoneInput::File(fx.join("towns.geojson"), ZoneOptions::default()),
            Legend::builtin("clcd").expect("built-in"),
            &run,
        )?;
        let summary = batch.run(&run)?;
        println!(
            "shard {index}: {} tiles, {:.1} Mpixel read",
            summary.tiles,
            summary.cells_read as f64 / 1e6
        );
        dirs.push(dir);
    }

    // The merge: every tile once, summed in tile order.
    let (_, merged, qa) = merge(&dirs)?;
    if let Merged::Stats(stats) = merged {
        for z in &stats.zones {
            println!(
                "{}: forest cover {:.2} %",
                z.id,
                100.0 * z.forest_cover.unwrap_or(0.0)
            );
        }
    }
    for t in &qa {
        println!(
            "tile {} read {} of {} cells in {:.3} s",
            t.tile_index, t.cells_read, t.cells, t.seconds
        );
    }
    Ok(())
}
