//! Coverage: random polygons (stars with holes, several parts, tiny ones,
//! rectangles on cell edges) on random grids (origins up to 1e7 m or
//! 360°, cells of 10 m to 1 km or 1e-4° to 0.1°, north- or south-up),
//! evaluated window by window. Must hold: every fraction in (0, 1], no
//! cell counted twice, runs inside their window, and Σ fraction × cell
//! area = the polygon's area inside the grid, to 1e-9 of the larger of
//! that area and one cell. The reference clips each ring to the grid's
//! rectangle (Sutherland–Hodgman) in map units, relative to the origin.

use geo::{Coord, LineString, Polygon};
use qingshan::coverage::{Coverage, PixelPolygon};
use qingshan::grid::{GeoTransform, Window};

use crate::Outcome;
use crate::rng::Rng;

struct Case {
    origin: (f64, f64),
    px: f64,
    py: f64,
    w: usize,
    h: usize,
    band: usize,
    window: (usize, usize),
    /// Parts: (shell, holes), in map units relative to the origin.
    parts: Vec<Part>,
}

fn case(rng: &mut Rng) -> Case {
    let degrees = rng.chance(0.3);
    let origin = if degrees {
        (rng.range(-180.0, 180.0), rng.range(-80.0, 80.0))
    } else {
        (rng.range(-1e7, 1e7), rng.range(-1e7, 1e7))
    };
    let px = if degrees {
        10f64.powf(rng.range(-4.0, -1.0))
    } else {
        10f64.powf(rng.range(1.0, 3.0))
    };
    let py = if rng.chance(0.85) {
        -px * rng.range(0.5, 2.0)
    } else {
        px * rng.range(0.5, 2.0)
    };
    let (w, h) = if rng.chance(0.1) {
        (1 + rng.below(3), 1 + rng.below(3))
    } else {
        (1 + rng.below(120), 1 + rng.below(120))
    };
    let band = 1 + rng.below(64);
    let window = (1 + rng.below(w + 4), 1 + rng.below(h + 4));
    let mut parts = Vec::new();
    let size = w.max(h) as f64;
    let (mut cx, mut cy) = (
        rng.range(-0.3, 1.3) * w as f64,
        rng.range(-0.3, 1.3) * h as f64,
    );
    let mut prev_r = 0.0;
    for _ in 0..1 + rng.below(3) {
        let r = if rng.chance(0.1) {
            rng.range(1e-3, 0.5)
        } else {
            rng.range(0.5, 0.8 * size)
        };
        // Clear of the previous part (a rectangle reaches √2·r).
        if prev_r > 0.0 {
            cx += 1.5 * (prev_r + r) + rng.range(0.0, 5.0);
            cy += rng.range(-r, r);
        }
        prev_r = r;
        let part = match rng.below(5) {
            0 => rectangle(rng, cx, cy, r),
            _ => star(rng, cx, cy, r),
        };
        parts.push(part);
    }
    // Cells → map units (relative to the origin).
    let to_map = |(c, r): (f64, f64)| (c * px, r * py);
    let parts = parts
        .into_iter()
        .map(|(s, hs)| {
            (
                s.into_iter().map(to_map).collect(),
                hs.into_iter()
                    .map(|h| h.into_iter().map(to_map).collect())
                    .collect(),
            )
        })
        .collect();
    Case {
        origin,
        px,
        py,
        w,
        h,
        band,
        window,
        parts,
    }
}

type Part = (Vec<(f64, f64)>, Vec<Vec<(f64, f64)>>);

fn star(rng: &mut Rng, cx: f64, cy: f64, r: f64) -> Part {
    let n = 3 + rng.below(40);
    let phase = rng.range(0.0, 6.3);
    let radii: Vec<f64> = (0..n).map(|_| r * rng.range(0.3, 1.0)).collect();
    let at = |k: usize, rr: f64| {
        let t = phase + k as f64 / n as f64 * std::f64::consts::TAU;
        (cx + rr * t.cos(), cy + rr * t.sin())
    };
    let shell = (0..n).map(|k| at(k, radii[k])).collect();
    let rmin = radii.iter().copied().fold(f64::INFINITY, f64::min);
    let holes = if rng.chance(0.4) {
        // Inside the shell: its edges stay beyond rmin·cos(π/3).
        let m = 3 + rng.below(12);
        let hr = 0.45 * rmin * rng.range(0.2, 1.0);
        vec![
            (0..m)
                .map(|k| {
                    let t = k as f64 / m as f64 * std::f64::consts::TAU;
                    (cx + hr * t.cos(), cy + hr * t.sin())
                })
                .rev()
                .collect(),
        ]
    } else {
        vec![]
    };
    (shell, holes)
}

/// An axis-aligned rectangle whose edges fall on quarter cells (often on
/// cell edges exactly).
fn rectangle(rng: &mut Rng, cx: f64, cy: f64, r: f64) -> Part {
    let q = |v: f64| (v * 4.0).round() / 4.0;
    let (x0, y0) = (q(cx - r), q(cy - r * rng.range(0.2, 1.0)));
    let (x1, y1) = (q(cx + r).max(x0 + 0.25), q(cy + r).max(y0 + 0.25));
    (vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)], vec![])
}

fn shoelace(p: &[(f64, f64)]) -> f64 {
    let n = p.len();
    (0..n)
        .map(|i| p[i].0 * p[(i + 1) % n].1 - p[(i + 1) % n].0 * p[i].1)
        .sum::<f64>()
        / 2.0
}

/// Sutherland–Hodgman: `ring` clipped to the rectangle [x0, x1] × [y0, y1].
fn clip(ring: &[(f64, f64)], x0: f64, x1: f64, y0: f64, y1: f64) -> Vec<(f64, f64)> {
    let mut pts = ring.to_vec();
    type Edge = (
        fn((f64, f64), f64) -> bool,
        fn((f64, f64), (f64, f64), f64) -> (f64, f64),
        f64,
    );
    let ix =
        |a: (f64, f64), b: (f64, f64), x: f64| (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0));
    let iy =
        |a: (f64, f64), b: (f64, f64), y: f64| (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y);
    let edges: [Edge; 4] = [
        (|p, v| p.0 >= v, ix, x0),
        (|p, v| p.0 <= v, ix, x1),
        (|p, v| p.1 >= v, iy, y0),
        (|p, v| p.1 <= v, iy, y1),
    ];
    for (inside, cut, v) in edges {
        let n = pts.len();
        let mut out = Vec::with_capacity(n + 4);
        for i in 0..n {
            let (a, b) = (pts[(i + n - 1) % n], pts[i]);
            match (inside(a, v), inside(b, v)) {
                (true, true) => out.push(b),
                (true, false) => out.push(cut(a, b, v)),
                (false, true) => {
                    out.push(cut(a, b, v));
                    out.push(b);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    pts
}

pub(crate) fn clipped_area(ring: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> f64 {
    shoelace(&clip(ring, x.0, x.1, y.0, y.1)).abs()
}

pub(crate) fn run(input: &[u8]) -> Result<Outcome, String> {
    let mut seed = [0u8; 8];
    for (i, b) in input.iter().take(8).enumerate() {
        seed[i] = *b;
    }
    let c = case(&mut Rng::new(u64::from_le_bytes(seed)));
    let gt = GeoTransform([c.origin.0, c.px, 0.0, c.origin.1, 0.0, c.py]);
    // The polygon as the library gets it: map coordinates → pixels.
    let mut polys = Vec::new();
    for (s, hs) in &c.parts {
        let px = |r: &Vec<(f64, f64)>| -> Result<LineString<f64>, String> {
            r.iter()
                .map(|&(x, y)| {
                    gt.to_pixel(c.origin.0 + x, c.origin.1 + y)
                        .map(|(col, row)| Coord { x: col, y: row })
                        .ok_or_else(|| "singular transform".to_string())
                })
                .collect::<Result<Vec<_>, _>>()
                .map(LineString::new)
        };
        polys.push(Polygon::new(
            px(s)?,
            hs.iter().map(px).collect::<Result<_, _>>()?,
        ));
    }
    // The reference: each ring of those pixel coordinates clipped to the
    // grid, times the cell area.
    let cell = gt.cell_area();
    let ring_area = |r: &LineString<f64>| {
        let pts: Vec<(f64, f64)> = r.0.iter().map(|c| (c.x, c.y)).collect();
        clipped_area(&pts, (0.0, c.w as f64), (0.0, c.h as f64))
    };
    let expect: f64 = cell
        * polys
            .iter()
            .map(|p| ring_area(p.exterior()) - p.interiors().iter().map(ring_area).sum::<f64>())
            .sum::<f64>();
    let cov = Coverage::new(PixelPolygon::from_polygons(&polys), c.band);
    let mut seen = vec![false; c.w * c.h];
    let mut sum = 0.0;
    for wr in (0..c.h).step_by(c.window.1) {
        for wc in (0..c.w).step_by(c.window.0) {
            let window = Window {
                col: wc,
                row: wr,
                width: c.window.0.min(c.w - wc),
                height: c.window.1.min(c.h - wr),
            };
            for run in cov.window_runs(window) {
                if !(run.frac > 0.0 && run.frac <= 1.0) {
                    return Err(format!("fraction {} in {run:?}", run.frac));
                }
                let (row, col) = (run.row as usize, run.col as usize);
                if row < window.row
                    || row >= window.row_end()
                    || col < window.col
                    || col + run.len as usize > window.col_end()
                {
                    return Err(format!("{run:?} outside {window:?}"));
                }
                for k in col..col + run.len as usize {
                    if std::mem::replace(&mut seen[row * c.w + k], true) {
                        return Err(format!("cell ({row}, {k}) counted twice"));
                    }
                }
                sum += run.frac * run.len as f64;
            }
        }
    }
    let got = sum * cell;
    if (got - expect).abs() > 1e-9 * expect.max(cell) {
        return Err(format!(
            "Σ coverage × cell area = {got}, clipped area {expect} (rel {:.2e}; grid {}×{}, cell {}×{})",
            (got - expect).abs() / expect.max(cell),
            c.w,
            c.h,
            c.px,
            c.py
        ));
    }
    Ok(Outcome::Accepted)
}
