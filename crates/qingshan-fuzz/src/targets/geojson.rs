//! Zone layers from GeoJSON: random feature collections (odd CRSs, odd
//! geometry types, degenerate and huge rings, 3D and non-finite
//! coordinates, duplicate ids) and mutated fixture layers.

use std::fmt::Write;
use std::path::Path;

use qingshan::zones::{ZoneLayer, ZoneOptions};

use super::{non_negative, proper_rejection};
use crate::Outcome;
use crate::rng::Rng;

/// A random feature collection, as text.
pub(crate) fn generate(rng: &mut Rng) -> String {
    let (crs, cx, cy, scale) = match rng.below(6) {
        0 => (None, 109.0, 35.2, 0.05),
        1 => (Some("EPSG::4545"), 500_000.0, 3_880_000.0, 5000.0),
        2 => (Some("EPSG::4490"), 109.0, 35.2, 0.05),
        3 => (Some("EPSG::3857"), 12_130_000.0, 4_190_000.0, 5000.0),
        4 => (Some("EPSG::4524"), 36_500_000.0, 3_880_000.0, 5000.0),
        _ => (
            Some("EPSG::4326"),
            rng.range(-180.0, 180.0),
            rng.range(-90.0, 90.0),
            20.0,
        ),
    };
    let mut s = String::from("{\"type\":\"FeatureCollection\",");
    if let Some(c) = crs {
        let _ = write!(
            s,
            "\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:{c}\"}}}},"
        );
    }
    s.push_str("\"features\":[");
    let n = rng.below(5);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let id = match rng.below(4) {
            0 => format!("\"z{}\"", rng.below(3)),
            1 => format!("{}", rng.below(3)),
            2 => "null".into(),
            _ => format!("\"红土镇{i}\""),
        };
        let _ = write!(
            s,
            "{{\"type\":\"Feature\",\"properties\":{{\"id\":{id},\"name\":\"镇{i}\"}},\"geometry\":"
        );
        s.push_str(&geometry(rng, cx, cy, scale));
        s.push('}');
    }
    s.push_str("]}");
    s
}

fn geometry(rng: &mut Rng, cx: f64, cy: f64, scale: f64) -> String {
    match rng.below(8) {
        0 => "null".into(),
        1 => format!("{{\"type\":\"Point\",\"coordinates\":[{cx},{cy}]}}"),
        2 => format!(
            "{{\"type\":\"GeometryCollection\",\"geometries\":[{}]}}",
            polygon(rng, cx, cy, scale, "Polygon")
        ),
        3 | 4 => {
            let parts: Vec<String> = (0..1 + rng.below(3))
                .map(|_| rings(rng, cx, cy, scale))
                .collect();
            format!(
                "{{\"type\":\"MultiPolygon\",\"coordinates\":[{}]}}",
                parts.join(",")
            )
        }
        _ => polygon(rng, cx, cy, scale, "Polygon"),
    }
}

fn polygon(rng: &mut Rng, cx: f64, cy: f64, scale: f64, kind: &str) -> String {
    format!(
        "{{\"type\":\"{kind}\",\"coordinates\":{}}}",
        rings(rng, cx, cy, scale)
    )
}

/// `[shell, holes…]`: stars, sometimes broken (bow-ties, too few points,
/// unclosed, repeated points, 3D, huge or tiny numbers).
fn rings(rng: &mut Rng, cx: f64, cy: f64, scale: f64) -> String {
    let mut out = Vec::new();
    let (x0, y0) = (cx + rng.range(-scale, scale), cy + rng.range(-scale, scale));
    let r = scale * rng.range(0.01, 1.0);
    out.push(ring(rng, x0, y0, r));
    if rng.chance(0.3) {
        let hr = r * rng.range(0.05, 1.5);
        out.push(ring(rng, x0, y0, hr));
    }
    format!("[{}]", out.join(","))
}

fn ring(rng: &mut Rng, x0: f64, y0: f64, r: f64) -> String {
    let n = if rng.chance(0.1) {
        rng.below(4)
    } else {
        3 + rng.below(40)
    };
    let mut pts: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let t = i as f64 / n.max(1) as f64 * std::f64::consts::TAU;
            let rr = r * rng.range(0.3, 1.0);
            (x0 + rr * t.cos(), y0 + rr * t.sin())
        })
        .collect();
    match rng.below(12) {
        0 if pts.len() > 3 => pts.swap(1, 2), // a bow-tie
        1 => {
            if let Some(p) = pts.first_mut() {
                p.1 = rng.pick(&[1e10, 1e300, -1e300, 0.0, 90.0000001]).to_owned();
            }
        }
        2 => pts.iter_mut().for_each(|p| {
            p.0 = p.0.round();
            p.1 = p.1.round();
        }),
        3 => pts
            .iter_mut()
            .for_each(|p| std::mem::swap(&mut p.0, &mut p.1)),
        _ => {}
    }
    if !rng.chance(0.1)
        && let Some(&f) = pts.first()
    {
        pts.push(f);
    }
    let three_d = rng.chance(0.1);
    let coords: Vec<String> = pts
        .iter()
        .map(|(x, y)| {
            if three_d {
                format!("[{x},{y},{}]", 100.0 * x.fract())
            } else {
                format!("[{x},{y}]")
            }
        })
        .collect();
    format!("[{}]", coords.join(","))
}

pub(crate) fn run(dir: &Path, input: &[u8]) -> Result<Outcome, String> {
    let path = dir.join("fuzz-zones.geojson");
    std::fs::write(&path, input).map_err(|e| e.to_string())?;
    let make_valid = input.len().is_multiple_of(2);
    let opts = ZoneOptions {
        make_valid,
        ..ZoneOptions::default()
    };
    let layer = match ZoneLayer::read(&path, &opts) {
        Ok(l) => l,
        Err(e) => return proper_rejection(&e, "fuzz-zones.geojson"),
    };
    for z in &layer.zones {
        for p in &z.geometry {
            for c in p
                .exterior()
                .0
                .iter()
                .chain(p.interiors().iter().flat_map(|r| &r.0))
            {
                if !(c.x.is_finite() && c.y.is_finite()) {
                    return Err(format!("zone {}: coordinate {c:?} accepted", z.id));
                }
            }
        }
    }
    let mut ids: Vec<&str> = layer.zones.iter().map(|z| z.id.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("duplicate ids accepted: {ids:?}"));
    }
    match layer.geodesic_areas(&layer.crs) {
        Ok(areas) => {
            for (z, a) in layer.zones.iter().zip(areas) {
                non_negative(&format!("zone {} area", z.id), a)?;
            }
            Ok(Outcome::Accepted)
        }
        Err(e) => proper_rejection(&e, "fuzz-zones.geojson"),
    }
}
