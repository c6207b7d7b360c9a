//! Exact coverage alone (no I/O): cells per second for polygons of
//! different complexity on a 4096 × 4096 grid.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geo::{LineString, Polygon};
use qingshan::coverage::{Coverage, PixelPolygon, Run, Scratch};
use qingshan::grid::Window;

/// A wobbly ring of `n` vertices around (cx, cy) with mean radius `r`.
fn blob(cx: f64, cy: f64, r: f64, n: usize) -> Polygon<f64> {
    let pts: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            let rr = r * (1.0 + 0.2 * (7.0 * t).sin() + 0.05 * (53.0 * t).cos());
            (cx + rr * t.cos(), cy + rr * t.sin())
        })
        .collect();
    Polygon::new(LineString::from(pts), vec![])
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("coverage");
    for &(radius, vertices) in &[(100.0, 64), (1000.0, 1000), (1800.0, 20_000)] {
        let poly = blob(2048.3, 2048.7, radius, vertices);
        let cov = Coverage::new(PixelPolygon::from_polygons(&[poly]), 1024);
        let windows: Vec<Window> = (0..16)
            .map(|k| Window {
                col: (k % 4) * 1024,
                row: (k / 4) * 1024,
                width: 1024,
                height: 1024,
            })
            .collect();
        g.throughput(Throughput::Elements(4096 * 4096));
        g.bench_with_input(
            BenchmarkId::new("window_runs", format!("r{radius}_v{vertices}")),
            &cov,
            |b, cov| {
                let mut scratch = Scratch::default();
                let mut runs: Vec<Run> = Vec::new();
                b.iter(|| {
                    let mut n = 0usize;
                    for w in &windows {
                        cov.window_runs_into(*w, &mut scratch, &mut runs);
                        n += runs.len();
                    }
                    n
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
