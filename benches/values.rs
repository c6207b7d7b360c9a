//! Values per zone end to end (GDAL reads included) on a generated
//! 16-Mpixel Int16 raster of 4 tiles (the synthetic DEM) and 100 zones:
//! moments only, and with exact quantiles, on 1 and 2 threads. The
//! side-by-side comparison with exactextract on a 108-Mpixel Float32
//! raster is `benches/peers/values_bench.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qingshan::RunOptions;
use qingshan::raster::values::{ScaleOffset, ValueRaster};
use qingshan::values::{Stat, values};

#[path = "common.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let set = common::bench_set(true);
    let raster = ValueRaster::open_values(&set.dem, 1, ScaleOffset::File).expect("open the raster");
    let zones = &set.zones;
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
                        zones,
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
