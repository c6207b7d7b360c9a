//! Values per zone end to end (GDAL reads included) on a generated
//! 16-Mpixel Int16 raster of 4 tiles (the synthetic DEM) and 100 zones:
//! moments only, and with exact quantiles, on 1 and 2 threads. The
//! side-by-side comparison with exactextract on a 108-Mpixel Float32
//! raster is `benches/peers/values_bench.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qingshan::RunOptions;
use qingshan::raster::values::{ScaleOffset, ValueRaster};
use qingshan::values::{Stat, values};
use qingshan::zones::{ZoneLayer, ZoneOptions};
use qingshan_fixtures::{SyntheticOptions, write_synthetic, write_synthetic_dem};

fn bench(c: &mut Criterion) {
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
    let tiles: Vec<String> = write_synthetic_dem(&opts, dir.path())
        .expect("generate the raster")
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let raster = ValueRaster::open_values(&tiles, 1, ScaleOffset::File).expect("open the raster");
    let zones = ZoneLayer::read(
        &set.zones,
        &ZoneOptions {
            id_field: Some("zone_id".into()),
            ..Default::default()
        },
    )
    .expect("read zones");
    let mut g = c.benchmark_group("values");
    g.sample_size(10);
    g.throughput(Throughput::Elements(
        (raster.grid.width * raster.grid.height) as u64,
    ));
    for (name, stats) in [
        ("moments", "count,mean,stddev,min,max"),
        ("quantiles", "mean,stddev,median,q10,q90"),
    ] {
        let stats = Stat::parse_list(stats).expect("statistics");
        for threads in [1usize, 2] {
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
                b.iter(|| {
                    values(
                        &raster,
                        &zones,
                        &stats,
                        &RunOptions {
                            threads: Some(t),
                            progress: None,
                        },
                    )
                    .expect("values")
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
