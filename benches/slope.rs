//! Slope grades end to end (GDAL reads included) on a generated
//! 16-Mpixel DEM of 4 tiles and 100 zones, on 1 and 2 threads, next to
//! zonal stats on the land cover of the same grid. The side-by-side
//! comparison with gdaldem + exactextract is `benches/peers/slope_bench.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qingshan::RunOptions;
use qingshan::raster::values::ValueRaster;
use qingshan::slope::{Grades, SlopeInputs, slope};
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
        .expect("generate the DEM")
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let dem = ValueRaster::open(&tiles, 1).expect("open the DEM");
    let zones = ZoneLayer::read(
        &set.zones,
        &ZoneOptions {
            id_field: Some("zone_id".into()),
            ..Default::default()
        },
    )
    .expect("read zones");
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
                        zones: &zones,
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
