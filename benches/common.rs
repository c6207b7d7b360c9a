//! The benches' shared set: the synthetic landscape on a 4000 × 4000 grid
//! of 30 m cells in 2 × 2 tiles, 100 zones, land cover of 2019 and, when
//! asked, the DEM of the same grid (`qingshan-fixtures`).
#![allow(dead_code)]

use qingshan::zones::{ZoneLayer, ZoneOptions};
use qingshan_fixtures::{SyntheticOptions, write_synthetic, write_synthetic_dem};

/// A generated set, kept while this lives.
pub struct BenchSet {
    /// Where it is (removed on drop).
    pub dir: tempfile::TempDir,
    /// The land-cover tiles.
    pub landcover: Vec<String>,
    /// The DEM tiles (Int16), when asked for.
    pub dem: Vec<String>,
    /// The zones (`zone_id` as ids).
    pub zones: ZoneLayer,
}

/// Generates the set (with the DEM when `dem`).
pub fn bench_set(dem: bool) -> BenchSet {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = SyntheticOptions {
        width: 4000,
        height: 4000,
        tiles_x: 2,
        tiles_y: 2,
        zones: 100,
        years: vec![2019],
        ..SyntheticOptions::default()
    };
    let set = write_synthetic(&opts, dir.path()).expect("generate the benchmark set");
    let paths = |v: &[std::path::PathBuf]| v.iter().map(|p| p.display().to_string()).collect();
    let dem = if dem {
        paths(&write_synthetic_dem(&opts, dir.path()).expect("generate the DEM"))
    } else {
        Vec::new()
    };
    let zones = ZoneLayer::read(
        &set.zones,
        &ZoneOptions {
            id_field: Some("zone_id".into()),
            ..Default::default()
        },
    )
    .expect("read zones");
    BenchSet {
        landcover: paths(&set.years[0].tiles),
        dem,
        zones,
        dir,
    }
}
