//! The demo's vector geometry: the two towns and the ecological red lines
//! (2019 and 2024 versions), as `geo` polygons in EPSG:4545 metres.
//!
//! Invariant: every coordinate is rounded to 0.01 m, the towns share their
//! common border vertex for vertex, and red-line polygons lie inside their
//! town and do not overlap each other.

use geo::{Area, Contains, Coord, Intersects, LineString, MultiPolygon, Polygon, Validation};

use crate::Error;
use crate::landscape::{CENTRE, REGION, layout, regime_warp};
use crate::noise::{Rng, sin_cos};

const KM: f64 = 1000.0;
const TAU: f64 = std::f64::consts::TAU;

/// Rounds to 0.01 m (the precision of the written fixtures).
pub(crate) fn round_cm(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn cm(x: f64, y: f64) -> Coord {
    Coord {
        x: round_cm(x),
        y: round_cm(y),
    }
}

/// Km relative to the centre → absolute metres.
fn abs_m(p: (f64, f64)) -> (f64, f64) {
    (CENTRE.0 + p.0 * KM, CENTRE.1 + p.1 * KM)
}

/// A smooth periodic radial perturbation: 1 + Σ a_k sin(kθ + φ_k).
struct Wobble {
    terms: Vec<(f64, f64, f64)>,
}

impl Wobble {
    /// Amplitudes fall as (k - 1)^(-quarters / 4).
    fn new(seed: u64, rough: f64, kmax: usize, quarters: u32) -> Wobble {
        let mut rng = Rng::new(seed);
        let mut terms = Vec::new();
        let mut norm = 0.0;
        for k in 2..=kmax {
            let q = (k as f64 - 1.0).sqrt().sqrt();
            let mut d = 1.0;
            for _ in 0..quarters {
                d *= q;
            }
            let a = rng.range(0.5, 1.0) / d;
            norm += a;
            terms.push((k as f64, a, rng.range(0.0, TAU)));
        }
        for t in &mut terms {
            t.1 *= rough / norm * 1.6;
        }
        Wobble { terms }
    }
    fn at(&self, theta: f64) -> f64 {
        let mut f = 1.0;
        for &(k, a, phi) in &self.terms {
            f += a * sin_cos(k * theta + phi).0;
        }
        f.max(0.35)
    }
}

/// A star-shaped ring around `c` (absolute metres), counter-clockwise,
/// closed, with `n` distinct vertices.
fn star_ring(c: (f64, f64), r: (f64, f64), rough: f64, n: usize, seed: u64) -> Vec<Coord> {
    let w = Wobble::new(seed, rough, 20, 5);
    let mut pts: Vec<Coord> = (0..n)
        .map(|i| {
            let th = TAU * i as f64 / n as f64;
            let (s, co) = sin_cos(th);
            let f = w.at(th);
            cm(c.0 + r.0 * f * co, c.1 + r.1 * f * s)
        })
        .collect();
    pts.push(pts[0]);
    pts
}

/// Polygon from a closed exterior and holes.
fn poly(ext: Vec<Coord>, holes: Vec<Vec<Coord>>) -> Polygon {
    Polygon::new(
        LineString::new(ext),
        holes.into_iter().map(LineString::new).collect(),
    )
}

fn reversed(ring: &[Coord]) -> Vec<Coord> {
    ring.iter().rev().copied().collect()
}

/// A town (township) of the demo.
#[derive(Debug, Clone)]
pub(crate) struct Town {
    pub id: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    pub geom: MultiPolygon,
}

/// Builds the two towns: Jinsuoguan (a MultiPolygon with an exclave) and
/// Azhuang (with a hole that is exactly Jinsuoguan's exclave).
pub(crate) fn towns() -> Result<Vec<Town>, Error> {
    // The outer boundary of the two towns together: a wobbly superellipse.
    let n = 420;
    let (a, b) = (10.9 * KM, 7.85 * KM);
    let w = Wobble::new(0x70E5, 0.075, 48, 4);
    let outer: Vec<Coord> = (0..n)
        .map(|i| {
            let th = TAU * i as f64 / n as f64;
            let (s, co) = sin_cos(th);
            // Superellipse of exponent 4: r = (|c/a|^4 + |s/b|^4)^(-1/4).
            let (u, v) = ((co / a) * (co / a), (s / b) * (s / b));
            let q = u * u + v * v;
            let r = 1.0 / q.sqrt().sqrt() * w.at(th);
            cm(CENTRE.0 + r * co, CENTRE.1 + r * s)
        })
        .collect();
    let margin = 300.0;
    if outer.iter().any(|p| {
        p.x < REGION.0 + margin
            || p.x > REGION.1 - margin
            || p.y < REGION.2 + margin
            || p.y > REGION.3 - margin
    }) {
        return Err(Error::Geometry("town outline leaves the raster".into()));
    }
    // Border end points: the outline vertices nearest to the regime line's ends.
    let nearest = |t: (f64, f64)| {
        let t = abs_m(t);
        (0..n)
            .min_by(|&i, &j| {
                let d = |p: Coord| (p.x - t.0) * (p.x - t.0) + (p.y - t.1) * (p.y - t.1);
                let (di, dj) = (d(outer[i]), d(outer[j]));
                di.total_cmp(&dj)
            })
            .unwrap_or(0)
    };
    let ia = nearest(layout::REGIME_A);
    let ib = nearest(layout::REGIME_B);
    if ia >= ib {
        return Err(Error::Geometry("border end points out of order".into()));
    }
    let (pa, pb) = (outer[ia], outer[ib]);
    // Normal of the regime line pointing west/north.
    let (dx, dy) = (
        layout::REGIME_B.0 - layout::REGIME_A.0,
        layout::REGIME_B.1 - layout::REGIME_A.1,
    );
    let len = (dx * dx + dy * dy).sqrt();
    let (nx, ny) = (dy / len, -dx / len);
    let jitter = Wobble::new(0xB0DE, 0.06, 40, 4);
    let m = 170;
    let border: Vec<Coord> = (1..=m)
        .map(|j| {
            let t = j as f64 / (m + 1) as f64;
            let qx = pa.x + t * (pb.x - pa.x);
            let qy = pa.y + t * (pb.y - pa.y);
            let taper = smooth(t / 0.12) * smooth((1.0 - t) / 0.12);
            // Follow the mountain/loess transition (where regime offset + warp = 0).
            let warp = regime_warp(qx - CENTRE.0, qy - CENTRE.1)
                .v
                .clamp(-2200.0, 2200.0);
            let jit = (jitter.at(t * TAU * 0.5) - 1.0) * 4000.0;
            let d = taper * (-warp + jit);
            cm(qx + nx * d, qy + ny * d)
        })
        .collect();

    // Jinsuoguan: outline from a to b counter-clockwise (north and west), back along the border.
    let mut jsg: Vec<Coord> = outer[ia..=ib].to_vec();
    jsg.extend(border.iter().rev().copied());
    jsg.push(pa);
    // Azhuang: outline from b round to a (south and east), then along the border.
    let mut az: Vec<Coord> = outer[ib..].to_vec();
    az.extend_from_slice(&outer[..=ia]);
    az.extend(border.iter().copied());
    az.push(pb);
    // Jinsuoguan's exclave, an enclave in Azhuang.
    let exclave = star_ring(abs_m((9.5, -1.9)), (620.0, 520.0), 0.12, 56, 0xE4C1);

    let jsg_geom = MultiPolygon::new(vec![poly(jsg, vec![]), poly(exclave.clone(), vec![])]);
    let az_geom = MultiPolygon::new(vec![poly(az, vec![reversed(&exclave)])]);
    for (name, g) in [("jinsuoguan", &jsg_geom), ("azhuang", &az_geom)] {
        if let Err(e) = g.check_validation() {
            return Err(Error::Geometry(format!("town {name}: {e}")));
        }
    }
    Ok(vec![
        Town {
            id: "jinsuoguan",
            code: "610203101",
            name: "金锁关镇",
            name_en: "Jinsuoguan",
            geom: jsg_geom,
        },
        Town {
            id: "azhuang",
            code: "610203102",
            name: "阿庄镇",
            name_en: "Azhuang",
            geom: az_geom,
        },
    ])
}

fn smooth(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// One ecological red-line polygon.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RedLine {
    pub hx_id: &'static str,
    pub name: &'static str,
    pub town: &'static str,
    pub function: &'static str,
    pub geom: Polygon,
}

/// How a 2024 red line relates to its 2019 version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Same geometry (only reprojected).
    Unchanged,
    /// Clipped by a straight line.
    Clipped,
    /// Moved without changing its area.
    Moved,
    /// Enlarged.
    Enlarged,
    /// New in 2024.
    Added,
}

/// Clips a closed ring to the half-plane x <= c. The ring must cross the
/// line exactly twice (checked). New vertices have x = c exactly; their y
/// is rounded to 0.01 m when `round` (which moves them off the original
/// edges by < 5 mm) and left exact otherwise.
fn clip_x_le(ring: &[Coord], c: f64, round: bool) -> Result<Vec<Coord>, Error> {
    let mut out = Vec::new();
    let mut crossings = 0;
    for w in ring.windows(2) {
        let (p, q) = (w[0], w[1]);
        let (pin, qin) = (p.x <= c, q.x <= c);
        if pin {
            out.push(p);
        }
        if pin != qin {
            crossings += 1;
            let t = (c - p.x) / (q.x - p.x);
            let y = p.y + t * (q.y - p.y);
            out.push(Coord {
                x: c,
                y: if round { round_cm(y) } else { y },
            });
        }
    }
    if crossings != 2 {
        return Err(Error::Geometry(format!(
            "clip line x = {c} crosses the ring {crossings} times"
        )));
    }
    out.dedup();
    if let Some(&first) = out.first() {
        out.push(first);
    }
    Ok(out)
}

fn blob_poly(c: (f64, f64), r: f64, n: usize, seed: u64) -> Vec<Coord> {
    star_ring(abs_m(c), (r * KM, r * KM), 0.11, n, seed)
}

/// Absolute x (metres) of HX-JSG-02's straight east edge in 2019 and 2024.
pub(crate) fn jsg02_edges() -> (f64, f64) {
    let e19 = CENTRE.0 + layout::JSG02_EAST_U * KM;
    (e19, e19 - 200.0)
}

/// Offset of HX-JSG-03's 2024 version (metres).
pub(crate) const JSG03_SHIFT: (f64, f64) = (40.0, -30.0);

/// Scale of HX-AZ-02's 2024 version about its centre.
pub(crate) const AZ02_SCALE: f64 = 1.25;

fn rl(
    hx_id: &'static str,
    name: &'static str,
    town: &'static str,
    function: &'static str,
    geom: Polygon,
) -> RedLine {
    RedLine {
        hx_id,
        name,
        town,
        function,
        geom,
    }
}

/// The 2019 red lines (baseline).
pub(crate) fn redlines_2019() -> Result<Vec<RedLine>, Error> {
    let (jsg02_c, jsg02_r) = layout::JSG02;
    let jsg02 = clip_x_le(
        &blob_poly(jsg02_c, jsg02_r, 130, 0x2002),
        jsg02_edges().0,
        true,
    )?;
    let v = layout::VILLAGES[0].c;
    let jsg01_hole = reversed(&star_ring(abs_m(v), (330.0, 300.0), 0.1, 40, 0x2011));
    let res_v = crate::landscape::river_v(layout::RESERVOIR_U);
    let lines = vec![
        rl(
            "HX-JSG-01",
            "子午岭生物多样性维护红线",
            "jinsuoguan",
            "生物多样性维护",
            poly(
                blob_poly(layout::JSG01.0, layout::JSG01.1, 150, 0x2001),
                vec![jsg01_hole],
            ),
        ),
        rl(
            "HX-JSG-02",
            "金锁关石林水土保持红线",
            "jinsuoguan",
            "水土保持",
            poly(jsg02, vec![]),
        ),
        rl(
            "HX-JSG-03",
            "子午岭水库水源涵养红线",
            "jinsuoguan",
            "水源涵养",
            poly(
                star_ring(
                    abs_m((layout::RESERVOIR_U + layout::JSG03_DU, res_v)),
                    (1500.0, 1000.0),
                    0.1,
                    120,
                    0x2003,
                ),
                vec![],
            ),
        ),
        rl(
            "HX-JSG-04",
            "金锁关北山水土保持红线",
            "jinsuoguan",
            "水土保持",
            poly(
                blob_poly(layout::JSG04.0, layout::JSG04.1, 90, 0x2004),
                vec![],
            ),
        ),
        rl(
            "HX-AZ-01",
            "阿庄东梁生物多样性维护红线",
            "azhuang",
            "生物多样性维护",
            poly(
                blob_poly(layout::AZ01.0, layout::AZ01.1, 110, 0x2101),
                vec![],
            ),
        ),
        rl(
            "HX-AZ-02",
            "阿庄南沟水土保持红线",
            "azhuang",
            "水土保持",
            poly(
                blob_poly(layout::AZ02.0, layout::AZ02.1, 100, 0x2102),
                vec![],
            ),
        ),
        rl(
            "HX-AZ-03",
            "阿庄河谷水源涵养红线",
            "azhuang",
            "水源涵养",
            poly(
                blob_poly(layout::AZ03.0, layout::AZ03.1, 80, 0x2103),
                vec![],
            ),
        ),
    ];
    Ok(lines)
}

/// The 2024 red lines with how each relates to 2019.
pub(crate) fn redlines_2024() -> Result<Vec<(RedLine, Change)>, Error> {
    let old = redlines_2019()?;
    let mut out = Vec::new();
    for r in old {
        match r.hx_id {
            "HX-JSG-02" => {
                let ring = clip_x_le(&r.geom.exterior().0, jsg02_edges().1, false)?;
                out.push((
                    RedLine {
                        geom: poly(ring, vec![]),
                        ..r
                    },
                    Change::Clipped,
                ));
            }
            "HX-JSG-03" => {
                let moved: Vec<Coord> = r
                    .geom
                    .exterior()
                    .0
                    .iter()
                    .map(|p| cm(p.x + JSG03_SHIFT.0, p.y + JSG03_SHIFT.1))
                    .collect();
                out.push((
                    RedLine {
                        geom: poly(moved, vec![]),
                        ..r
                    },
                    Change::Moved,
                ));
            }
            "HX-JSG-04" => {}
            "HX-AZ-02" => {
                let c = abs_m(layout::AZ02.0);
                let bigger: Vec<Coord> = r
                    .geom
                    .exterior()
                    .0
                    .iter()
                    .map(|p| {
                        cm(
                            c.0 + (p.x - c.0) * AZ02_SCALE,
                            c.1 + (p.y - c.1) * AZ02_SCALE,
                        )
                    })
                    .collect();
                out.push((
                    RedLine {
                        geom: poly(bigger, vec![]),
                        ..r
                    },
                    Change::Enlarged,
                ));
            }
            _ => out.push((r, Change::Unchanged)),
        }
    }
    out.push((
        rl(
            "HX-AZ-04",
            "阿庄西沟水土保持红线",
            "azhuang",
            "水土保持",
            poly(
                blob_poly(layout::AZ04.0, layout::AZ04.1, 80, 0x2104),
                vec![],
            ),
        ),
        Change::Added,
    ));
    Ok(out)
}

/// Checks that red lines are valid, inside their town and disjoint.
pub(crate) fn check_redlines(towns: &[Town], lines: &[RedLine]) -> Result<(), Error> {
    for (i, a) in lines.iter().enumerate() {
        if let Err(e) = a.geom.check_validation() {
            return Err(Error::Geometry(format!("{}: {e}", a.hx_id)));
        }
        let town = towns
            .iter()
            .find(|t| t.id == a.town)
            .ok_or_else(|| Error::Geometry(format!("{}: unknown town", a.hx_id)))?;
        if !town.geom.contains(&a.geom) {
            return Err(Error::Geometry(format!(
                "{} is not inside {}",
                a.hx_id, a.town
            )));
        }
        for b in &lines[i + 1..] {
            if a.geom.intersects(&b.geom) {
                return Err(Error::Geometry(format!(
                    "{} and {} overlap",
                    a.hx_id, b.hx_id
                )));
            }
        }
        if a.geom.unsigned_area() <= 0.0 {
            return Err(Error::Geometry(format!("{} is empty", a.hx_id)));
        }
    }
    Ok(())
}
