//! Zonal statistics end to end (GDAL reads included) on a generated
//! 16-Mpixel set of 4 tiles and 100 zones, on 1 and 2 threads. The
//! side-by-side comparison with exactextract and rasterstats is
//! `benches/peers/run.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qingshan::RunOptions;
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::zonal::zonal_stats;
use qingshan::zones::{ZoneLayer, ZoneOptions};
use qingshan_fixtures::{SyntheticOptions, write_synthetic};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let set = write_synthetic(
        &SyntheticOptions {
            width: 4000,
            height: 4000,
            tiles_x: 2,
            tiles_y: 2,
            zones: 100,
            years: vec![2019],
            ..SyntheticOptions::default()
        },
        dir.path(),
    )
    .expect("generate the benchmark set");
    let tiles: Vec<String> = set.years[0]
        .tiles
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let lc = LandCover::open(&tiles, 1).expect("open tiles");
    let zones = ZoneLayer::read(
        &set.zones,
        &ZoneOptions {
            id_field: Some("zone_id".into()),
            ..Default::default()
        },
    )
    .expect("read zones");
    let legend = Legend::builtin("clcd").expect("built-in");

    let mut g = c.benchmark_group("zonal_stats");
    g.sample_size(10);
    g.throughput(Throughput::Elements(lc.cells()));
    for threads in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
            b.iter(|| {
                zonal_stats(
                    &lc,
                    &zones,
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
