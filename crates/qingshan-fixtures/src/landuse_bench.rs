//! A large land-survey benchmark set: `dltb.gpkg` (a planar partition of
//! about as many polygons as asked, 50–500 coordinates each, the DLTB
//! fields), `towns.gpkg` (two large zones) and `redlines.gpkg` (150 smaller
//! irregular zones), all in EPSG:4545.
//!
//! The survey is the demo's wiggly lattice ([`Lattice`]) with one polygon
//! per 100 m cell and long, densified edges (12–123 points each, most
//! short); classes come from the demo landscape mirrored over the larger
//! extent (as [`write_synthetic`](crate::write_synthetic) does), TBMJ is the
//! ellipsoidal area as in the demo. Invariant: the polygons partition the
//! rectangle exactly; rows are computed in parallel chunks and written in
//! order, so the output does not depend on scheduling.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use geo::{Centroid, Contains, Coord, LineString, Point, Polygon};
use rayon::prelude::*;

use crate::ellipsoid::EllipsoidArea;
use crate::error::{Error, Result, io};
use crate::geom::round_cm;
use crate::landscape::{CENTRE, classes_cloudless, terrain};
use crate::landuse_codes::{cell_class, is_cropland};
use crate::landuse_files::{DLTB_FIELDS, with_fixed_date};
use crate::landuse_io::{Attrs, ridge_coefficient};
use crate::landuse_lattice::{Lattice, Rings};
use crate::noise::{Rng, sin_cos, splitmix64, unit, value1};
use crate::synthetic::Fold;
use crate::vector_io::{Field, LayerSpec, PolygonRow, Prop, write_layer};

/// Options of [`write_landuse_bench`](crate::write_landuse_bench).
#[derive(Debug, Clone, PartialEq)]
pub struct LanduseBenchOptions {
    /// About how many survey polygons (the lattice is the nearest
    /// rectangle of 100 m cells, 4 : 3).
    pub polygons: usize,
    /// Seed: shifts the landscape, the wiggles and the zones.
    pub seed: u64,
}

impl Default for LanduseBenchOptions {
    fn default() -> Self {
        LanduseBenchOptions {
            polygons: 200_000,
            seed: 1,
        }
    }
}

/// What [`write_landuse_bench`](crate::write_landuse_bench) wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct LanduseBenchManifest {
    /// The survey layer (layer `DLTB`).
    pub dltb: PathBuf,
    /// Two large zones (layer `towns`, fields `zone_id`, `name`).
    pub towns: PathBuf,
    /// 150 smaller zones (layer `redlines`, field `zone_id`).
    pub redlines: PathBuf,
    /// The rectangle partitioned: x from, x to, y from, y to (EPSG:4545).
    pub rect: [f64; 4],
    /// Survey polygons written.
    pub polygons: usize,
    /// Their coordinates (ring closures included).
    pub vertices: u64,
    /// Fewest and most coordinates of one polygon.
    pub vertices_range: (usize, usize),
}

impl LanduseBenchManifest {
    /// Every file written.
    pub fn files(&self) -> Vec<PathBuf> {
        vec![self.dltb.clone(), self.towns.clone(), self.redlines.clone()]
    }
}

/// Cell size of the benchmark lattice (m).
const CELL: f64 = 100.0;
/// Cells per parallel chunk of rows.
const CHUNK: usize = 8192;
/// Number of red-line zones, and their grid.
const REDLINES: (usize, usize) = (15, 10);

/// Intermediate points of an edge: 70 % 12–24, 25 % 25–60, 5 % 61–123.
fn edge_points(h: u64) -> usize {
    let u = unit(h);
    let v = unit(splitmix64(h ^ 0x0B0B));
    let (lo, hi) = if u < 0.70 {
        (12.0, 24.0)
    } else if u < 0.95 {
        (25.0, 60.0)
    } else {
        (61.0, 123.0)
    };
    (lo + v * (hi - lo + 1.0)).floor().min(hi) as usize
}

fn bench_lattice(opts: &LanduseBenchOptions) -> Result<Lattice> {
    if opts.polygons < 12 {
        return Err(Error::Options("at least 12 polygons".into()));
    }
    let nx = ((opts.polygons as f64 * 4.0 / 3.0).sqrt().round() as usize).max(4);
    let ny = ((opts.polygons as f64 / nx as f64).round() as usize).max(3);
    let x0 = (CENTRE.0 - nx as f64 * CELL / 2.0).round();
    let y0 = (CENTRE.1 - ny as f64 * CELL / 2.0).round();
    Ok(Lattice {
        rect: (x0, x0 + nx as f64 * CELL, y0, y0 + ny as f64 * CELL),
        nx,
        ny,
        seed: splitmix64(opts.seed ^ 0x00BE_4C00),
        jitter: 0.3,
        amp: 0.6,
        points: edge_points,
        densify_sides: true,
    })
}

/// A town-like zone of the benchmark: (zone_id, name, town code, ring).
type BenchZone = (&'static str, &'static str, &'static str, Vec<Coord>);

/// Points from `p` (included) towards `q` (excluded) every ~250 m, bent
/// sideways by up to `amp` metres of smooth noise (none at the ends).
fn bent_side(p: (f64, f64), q: (f64, f64), amp: f64, seed: u64) -> Vec<Coord> {
    let len = (q.0 - p.0).hypot(q.1 - p.1);
    let n = (len / 250.0).ceil().max(1.0) as usize;
    let (nx, ny) = ((q.1 - p.1) / len, -(q.0 - p.0) / len);
    (0..n)
        .map(|i| {
            let t = i as f64 / n as f64;
            let taper = (t * len / 1500.0).min((1.0 - t) * len / 1500.0).min(1.0);
            let w = amp * taper * value1(seed, t * len / 2000.0).0;
            Coord {
                x: round_cm(p.0 + t * (q.0 - p.0) + w * nx),
                y: round_cm(p.1 + t * (q.1 - p.1) + w * ny),
            }
        })
        .collect()
}

/// Two zones covering most of the rectangle (inset by 4 %), sharing a
/// wiggly north–south border vertex for vertex; rings counter-clockwise.
fn bench_towns(lat: &Lattice, seed: u64) -> [BenchZone; 2] {
    let (x0, x1, y0, y1) = lat.rect;
    let m = 0.04 * (x1 - x0).min(y1 - y0);
    let (a0, a1, b0, b1) = (x0 + m, x1 - m, y0 + m, y1 - m);
    let amp = 0.3 * m;
    let side = |p, q, k: u64| bent_side(p, q, amp, splitmix64(seed ^ k));
    let mid = (a0 + a1) / 2.0;
    let (d0, d1) = ((mid, b0), (mid + 0.1 * (a1 - a0), b1));
    let cm = |p: (f64, f64)| Coord {
        x: round_cm(p.0),
        y: round_cm(p.1),
    };
    // The border from d0 (included) to d1 (excluded), northwards.
    let border = side(d0, d1, 5);
    let (bl, br, tr, tl) = ((a0, b0), (a1, b0), (a1, b1), (a0, b1));
    let mut east = side(d0, br, 1);
    east.extend(side(br, tr, 2));
    east.extend(side(tr, d1, 3));
    east.push(cm(d1));
    east.extend(border.iter().rev());
    let mut west = side(d1, tl, 4);
    west.extend(side(tl, bl, 6));
    west.extend(side(bl, d0, 7));
    west.extend(border.iter());
    west.push(cm(d1));
    [
        ("jinsuoguan", "金锁关镇", "610203101", west),
        ("azhuang", "阿庄镇", "610203102", east),
    ]
}

/// 150 irregular star-shaped zones on a jittered 15 × 10 grid over the
/// inset rectangle, apart from each other: (zone_id, ring).
fn bench_redlines(lat: &Lattice, seed: u64) -> Vec<(String, Vec<Coord>)> {
    let (x0, x1, y0, y1) = lat.rect;
    let m = 0.04 * (x1 - x0).min(y1 - y0);
    let (gx, gy) = REDLINES;
    let (sx, sy) = (
        (x1 - x0 - 2.0 * m) / gx as f64,
        (y1 - y0 - 2.0 * m) / gy as f64,
    );
    let mut rng = Rng::new(seed ^ 0x4ED1);
    let mut out = Vec::new();
    for j in 0..gy {
        for i in 0..gx {
            let cx = x0 + m + (i as f64 + 0.5 + rng.range(-0.1, 0.1)) * sx;
            let cy = y0 + m + (j as f64 + 0.5 + rng.range(-0.1, 0.1)) * sy;
            // Radius ≤ 0.28 × (1 + 0.4) < 0.4 of the spacing: no overlaps.
            let r = rng.range(0.15, 0.28) * sx.min(sy);
            let n = 48 + rng.below(113);
            let terms: Vec<(f64, f64, f64)> = (2..7)
                .map(|k| {
                    (
                        k as f64,
                        rng.range(0.0, 0.08),
                        rng.range(0.0, std::f64::consts::TAU),
                    )
                })
                .collect();
            let mut ring: Vec<Coord> = (0..n)
                .map(|k| {
                    let th = std::f64::consts::TAU * k as f64 / n as f64;
                    let f: f64 = 1.0
                        + terms
                            .iter()
                            .map(|&(m, a, ph)| a * sin_cos(m * th + ph).0)
                            .sum::<f64>();
                    let (s, c) = sin_cos(th);
                    Coord {
                        x: round_cm(cx + r * f * c),
                        y: round_cm(cy + r * f * s),
                    }
                })
                .collect();
            ring.push(ring[0]);
            out.push((format!("RL{:03}", out.len() + 1), ring));
        }
    }
    out
}

/// One survey polygon: class, attributes (not numbered), rings.
type BenchParcel = (u8, Attrs, Rings);

fn bench_cell(
    lat: &Lattice,
    fold: &Fold,
    zones: &[(&'static str, Polygon)],
    ea: &mut EllipsoidArea,
    c: usize,
) -> Result<BenchParcel> {
    let (i, j) = lat.ij(c);
    let rings = lat.trace(&[c], &|a, b| (a, b) == (i, j))?;
    let m = lat.centre(i, j);
    let p = (fold.local_x(m.x), fold.local_y(m.y));
    let (c19, _) = classes_cloudless(p);
    let t = terrain(p);
    let mut counts = [0u8; 10];
    counts[c19 as usize] = 25;
    let class = cell_class(p, &t, &counts, splitmix64(lat.seed ^ c as u64));
    let centroid = Polygon::new(LineString(rings[0].clone()), vec![])
        .centroid()
        .unwrap_or(Point::from(m));
    let zldwdm = zones
        .iter()
        .find(|z| z.1.contains(&centroid))
        .map_or("", |z| z.0);
    let kcxs = if is_cropland(class) {
        ridge_coefficient(t.elev.grad_norm())
    } else {
        0.0
    };
    let a = Attrs::new(zldwdm, ea.polygon(&rings)?, kcxs);
    Ok((class, a, rings))
}

/// The survey polygons of cells `from..to`, computed in parallel.
fn bench_chunk(
    lat: &Lattice,
    fold: &Fold,
    zones: &[(&'static str, Polygon)],
    from: usize,
    to: usize,
) -> Result<Vec<BenchParcel>> {
    let cells: Vec<usize> = (from..to).collect();
    let parts: Vec<Vec<BenchParcel>> = cells
        .par_chunks(256)
        .map(|sub| {
            let mut ea = EllipsoidArea::new()?;
            sub.iter()
                .map(|&c| bench_cell(lat, fold, zones, &mut ea, c))
                .collect()
        })
        .collect::<Result<_>>()?;
    Ok(parts.into_iter().flatten().collect())
}

fn gpkg_spec<'a>(path: &'a Path, layer: &'a str, fields: &'a [Field]) -> LayerSpec<'a> {
    LayerSpec {
        path,
        driver: "GPKG",
        layer,
        options: &["FID=fid", "GEOMETRY_NAME=geom", "SPATIAL_INDEX=YES"],
        fields,
        epsg: 4545,
    }
}

/// Writes `dltb.gpkg`; returns (polygons, coordinates, fewest, most).
fn write_bench_dltb(
    path: &Path,
    lat: &Lattice,
    fold: &Fold,
    zones: &[(&'static str, Polygon)],
) -> Result<(usize, u64, usize, usize)> {
    let n = lat.nx * lat.ny;
    let mut per_town: HashMap<&str, usize> = HashMap::new();
    let (mut coords, mut fewest, mut most) = (0u64, usize::MAX, 0usize);
    let mut next = 0usize;
    let rows = (0..n.div_ceil(CHUNK))
        .flat_map(
            |k| match bench_chunk(lat, fold, zones, k * CHUNK, ((k + 1) * CHUNK).min(n)) {
                Ok(v) => v.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            },
        )
        .map(|r: Result<BenchParcel>| {
            let (class, mut a, rings) = r?;
            next += 1;
            a.bsm = format!("610203{next:07}");
            let t = per_town.entry(a.zldwdm).or_insert(0);
            *t += 1;
            a.tbbh = t.to_string();
            let v = rings[0].len();
            coords += v as u64;
            fewest = fewest.min(v);
            most = most.max(v);
            Ok::<PolygonRow, Error>((a.props(class), rings))
        });
    let written = write_layer(&gpkg_spec(path, "DLTB", &DLTB_FIELDS), rows)?;
    Ok((written, coords, fewest, most))
}

/// Writes the benchmark set; see [`crate::write_landuse_bench`].
pub(crate) fn write_landuse_bench(
    opts: &LanduseBenchOptions,
    out_dir: &Path,
) -> Result<LanduseBenchManifest> {
    io(std::fs::create_dir_all(out_dir), out_dir)?;
    with_fixed_date(|| write_all(opts, out_dir))
}

fn write_all(opts: &LanduseBenchOptions, out_dir: &Path) -> Result<LanduseBenchManifest> {
    let lat = bench_lattice(opts)?;
    lat.check()?;
    let fold = Fold::new(opts.seed);
    let towns = bench_towns(&lat, opts.seed);
    let zones: Vec<(&'static str, Polygon)> = towns
        .iter()
        .map(|t| (t.2, Polygon::new(LineString(t.3.clone()), vec![])))
        .collect();
    let dltb = out_dir.join("dltb.gpkg");
    let (polygons, vertices, fewest, most) = write_bench_dltb(&dltb, &lat, &fold, &zones)?;
    let towns_path = out_dir.join("towns.gpkg");
    let fields = [Field::str("zone_id", 16), Field::str("name", 32)];
    let rows = towns.iter().map(|t| {
        let props = vec![
            ("zone_id", Prop::Str(t.0.into())),
            ("name", Prop::Str(t.1.into())),
        ];
        Ok((props, vec![t.3.clone()]))
    });
    write_layer(&gpkg_spec(&towns_path, "towns", &fields), rows)?;
    let redlines = out_dir.join("redlines.gpkg");
    let fields = [Field::str("zone_id", 8)];
    let rows = bench_redlines(&lat, opts.seed)
        .into_iter()
        .map(|(id, ring)| Ok((vec![("zone_id", Prop::Str(id))], vec![ring])));
    write_layer(&gpkg_spec(&redlines, "redlines", &fields), rows)?;
    Ok(LanduseBenchManifest {
        dltb,
        towns: towns_path,
        redlines,
        rect: [lat.rect.0, lat.rect.1, lat.rect.2, lat.rect.3],
        polygons,
        vertices,
        vertices_range: (fewest, most),
    })
}
