//! Land use as polygons end to end on the bundled survey layers (1,614 and
//! 1,640 polygons over both towns): class areas of the towns and of the
//! red lines, and the change between the two versions, on 1 and 2 threads.
//! The side-by-side comparison with geopandas on 200,000 polygons is
//! `benches/peers/landuse_bench.py`.

use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qingshan::RunOptions;
use qingshan::area::AreaMode;
use qingshan::landuse::{LandUse, LandUseOptions, landuse_change, landuse_stats};
use qingshan::legend::Legend;
use qingshan::zones::{ZoneLayer, ZoneOptions};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(p)
}

fn bench(c: &mut Criterion) {
    let read =
        |p: &str| LandUse::read(&fixture(p), &LandUseOptions::new("DLBM")).expect("read the layer");
    let (a, b) = (
        read("landuse/dltb_2019.gpkg"),
        read("landuse/dltb_2024.gpkg"),
    );
    let towns = ZoneLayer::read(&fixture("towns.geojson"), &ZoneOptions::default()).expect("towns");
    let red = ZoneLayer::read(&fixture("redlines_2019.geojson"), &ZoneOptions::default())
        .expect("red lines");
    let survey = Legend::builtin("sandiao").expect("legend");
    let mut g = c.benchmark_group("landuse");
    g.sample_size(10);
    g.throughput(Throughput::Elements(a.polygons.len() as u64));
    for threads in [1usize, 2] {
        let opts = RunOptions {
            threads: Some(threads),
            progress: None,
        };
        for (name, zones) in [("stats_towns", &towns), ("stats_redlines", &red)] {
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |bch, _| {
                bch.iter(|| {
                    landuse_stats(&a, zones, &survey, AreaMode::Ellipsoidal, &opts).expect("stats")
                })
            });
        }
        g.bench_with_input(
            BenchmarkId::new("change_towns", threads),
            &threads,
            |bch, _| {
                bch.iter(|| {
                    landuse_change(&a, &b, &towns, &survey, AreaMode::Ellipsoidal, &opts)
                        .expect("change")
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
