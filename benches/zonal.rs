//! Zonal statistics end to end (GDAL reads included) on a generated
//! 16-Mpixel set of 4 tiles and 100 zones, on 1 and 2 threads. The
//! side-by-side comparison with exactextract and rasterstats is
//! `benches/peers/run.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qingshan::RunOptions;
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::zonal::zonal_stats;

#[path = "common.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let set = common::bench_set(false);
    let lc = LandCover::open(&set.landcover, 1).expect("open tiles");
    let zones = &set.zones;
    let legend = Legend::builtin("clcd").expect("built-in");

    let mut g = c.benchmark_group("zonal_stats");
    g.sample_size(10);
    g.throughput(Throughput::Elements(lc.cells()));
    for threads in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
            b.iter(|| {
                zonal_stats(
                    &lc,
                    zones,
                    &legend,
                    &RunOptions {
                        threads: Some(t),
                        progress: None,
                    },
                )
                .expect("zonal stats")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
