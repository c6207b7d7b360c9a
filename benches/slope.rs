//! Slope grades end to end (GDAL reads included) on a generated
//! 16-Mpixel DEM of 4 tiles and 100 zones, on 1 and 2 threads
//! (`benches/zonal.rs` times zonal stats on the same set's land cover).
//! The side-by-side
//! comparison with gdaldem + exactextract is `benches/peers/slope_bench.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qingshan::RunOptions;
use qingshan::raster::values::ValueRaster;
use qingshan::slope::{Grades, SlopeInputs, slope};

#[path = "common.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let set = common::bench_set(true);
    let dem = ValueRaster::open(&set.dem, 1).expect("open the DEM");
    let zones = &set.zones;
    let grades = Grades::default();
    let mut g = c.benchmark_group("slope");
    g.sample_size(10);
    g.throughput(Throughput::Elements(
        (dem.grid.width * dem.grid.height) as u64,
    ));
    for threads in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
            b.iter(|| {
                slope(
                    &SlopeInputs {
                        dem: &dem,
                        zones,
                        grades: &grades,
                        land_cover: None,
                        cropland: None,
                        slope_raster: None,
                    },
                    &RunOptions {
                        threads: Some(t),
                        progress: None,
                    },
                )
                .expect("slope")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
