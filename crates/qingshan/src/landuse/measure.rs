//! The ellipsoidal area of a polygon drawn in a projected CRS, fast enough
//! for hundreds of thousands of survey polygons.
//!
//! A polygon's ground area is `∫∫ F dx dy`, `F` the ratio of ellipsoidal
//! to planar area (see [`crate::cellarea`]). One pass over the vertices
//! (Green's theorem) gives the planar area `A`, the centroid `c` and the
//! central second moments `I`; then
//! `∫∫ F ≈ A·F(c) + ½ (F_xx·I_xx + 2 F_xy·I_xy + F_yy·I_yy)`, exact for
//! quadratic `F`. `F` of a Gauss–Krüger zone is a quadratic in `x` plus
//! terms some 1e-6 smaller, so the remainder is far below 1e-9 even for
//! town-sized pieces (checked against Karney's geodesic area of the
//! densified, inverse-projected polygon in the tests). `F` and its second
//! derivatives come from an [`AreaField`] over the layer's extent (F to
//! 1e-10). Geographic layers are measured by Karney directly; planar areas
//! are the shoelace area times the unit².

use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};

use crate::area::{AreaField, AreaMode, Ellipsoid};
use crate::grid::{Crs, GeoTransform, Grid};
use crate::{Result, srs};

/// Cell size (map units) of the pseudo-grid `F` is interpolated on.
const FIELD_CELL: f64 = 10.0;
/// Step (field cells) of the finite differences for `F`'s second derivatives.
const DIFF_STEP: f64 = 20.0;

/// How areas of one layer's polygons are measured (m²).
pub(crate) enum Measure {
    /// Shoelace × unit².
    Planar { unit2: f64 },
    /// Karney on the layer's ellipsoid (lon/lat layers).
    Geographic { ellipsoid: Ellipsoid, segment: f64 },
    /// Green's moments × the area factor of the projection.
    Projected {
        field: Box<AreaField>,
        x0: f64,
        y0: f64,
        unit2: f64,
    },
}

/// Planar area and moments of a region, in local coordinates.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Moments {
    a: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
}

impl Moments {
    /// Adds one closed ring (signed by its orientation, times `sign`),
    /// coordinates taken relative to `o`.
    pub(crate) fn add_ring(&mut self, ring: &LineString<f64>, o: Coord<f64>, sign: f64) {
        let mut m = Moments::default();
        for w in ring.0.windows(2) {
            let (x0, y0) = (w[0].x - o.x, w[0].y - o.y);
            let (x1, y1) = (w[1].x - o.x, w[1].y - o.y);
            let cross = x0 * y1 - x1 * y0;
            m.a += cross;
            m.sx += (x0 + x1) * cross;
            m.sy += (y0 + y1) * cross;
            m.sxx += (x0 * x0 + x0 * x1 + x1 * x1) * cross;
            m.syy += (y0 * y0 + y0 * y1 + y1 * y1) * cross;
            m.sxy += (x0 * y1 + 2.0 * x0 * y0 + 2.0 * x1 * y1 + x1 * y0) * cross;
        }
        self.a += sign * m.a / 2.0;
        self.sx += sign * m.sx / 6.0;
        self.sy += sign * m.sy / 6.0;
        self.sxx += sign * m.sxx / 12.0;
        self.syy += sign * m.syy / 12.0;
        self.sxy += sign * m.sxy / 24.0;
    }

    /// A polygon's moments: the exterior counted positive, holes negative,
    /// whatever their orientation.
    pub(crate) fn add_polygon(&mut self, p: &Polygon<f64>, o: Coord<f64>) {
        let signed = |r: &LineString<f64>| {
            let mut m = Moments::default();
            m.add_ring(r, o, 1.0);
            m
        };
        let ext = signed(p.exterior());
        self.merge(&ext, ext.a.signum());
        for h in p.interiors() {
            let m = signed(h);
            self.merge(&m, -m.a.signum());
        }
    }

    fn merge(&mut self, m: &Moments, sign: f64) {
        self.a += sign * m.a;
        self.sx += sign * m.sx;
        self.sy += sign * m.sy;
        self.sxx += sign * m.sxx;
        self.sxy += sign * m.sxy;
        self.syy += sign * m.syy;
    }
}

impl Measure {
    /// The measure for polygons of a layer in `crs` within `extent`.
    pub(crate) fn new(crs: &Crs, mode: AreaMode, extent: Rect<f64>) -> Result<Measure> {
        if crs.geographic {
            // Edges are straight in lon/lat; at 10 m, geodesic chords
            // follow them (a 1 km chord along a parallel is off by ~1e-7).
            return Ok(Measure::Geographic {
                ellipsoid: crs.ellipsoid,
                segment: crate::zones::segment_length(crs, 10.0),
            });
        }
        let unit2 = crs.linear_unit_m * crs.linear_unit_m;
        if mode == AreaMode::Planar {
            return Ok(Measure::Planar { unit2 });
        }
        // A margin of a few cells keeps every centroid and difference
        // point inside the field.
        let margin = FIELD_CELL * (DIFF_STEP + 4.0);
        let (x0, y0) = (extent.min().x - margin, extent.max().y + margin);
        let width = ((extent.width() + 2.0 * margin) / FIELD_CELL).ceil() as usize + 1;
        let height = ((extent.height() + 2.0 * margin) / FIELD_CELL).ceil() as usize + 1;
        let grid = Grid {
            transform: GeoTransform([x0, FIELD_CELL, 0.0, y0, 0.0, -FIELD_CELL]),
            width,
            height,
            crs: crs.clone(),
        };
        let field = crate::cellarea::area_field(&grid)?;
        Ok(Measure::Projected {
            field: Box::new(field),
            x0,
            y0,
            unit2,
        })
    }

    /// Area (m²) of a region given by its moments about `o`.
    fn of_moments(&self, m: &Moments, o: Coord<f64>) -> f64 {
        match self {
            Measure::Planar { unit2 } => m.a * unit2,
            Measure::Geographic { .. } => unreachable!("geographic areas are not moments"),
            Measure::Projected {
                field,
                x0,
                y0,
                unit2,
            } => {
                if m.a == 0.0 {
                    return 0.0;
                }
                let (cx, cy) = (m.sx / m.a, m.sy / m.a);
                let ixx = m.sxx - m.a * cx * cx;
                let iyy = m.syy - m.a * cy * cy;
                let ixy = m.sxy - m.a * cx * cy;
                // Field coordinates of the centroid: u east, v south.
                let u = (o.x + cx - x0) / FIELD_CELL;
                let v = (y0 - (o.y + cy)) / FIELD_CELL;
                let f = |du: f64, dv: f64| field.factor_at(u + du, v + dv);
                let h = DIFF_STEP;
                let f0 = f(0.0, 0.0);
                let fuu = (f(h, 0.0) - 2.0 * f0 + f(-h, 0.0)) / (h * h);
                let fvv = (f(0.0, h) - 2.0 * f0 + f(0.0, -h)) / (h * h);
                let fuv = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4.0 * h * h);
                // d/dx = d/du / cell; d/dy = −d/dv / cell.
                let c2 = FIELD_CELL * FIELD_CELL;
                let second = 0.5 * (fuu * ixx - 2.0 * fuv * ixy + fvv * iyy) / c2;
                (m.a * f0 + second) * unit2
            }
        }
    }

    /// Area (m²) of a polygon.
    pub(crate) fn polygon(&self, p: &Polygon<f64>) -> f64 {
        if let Measure::Geographic { ellipsoid, segment } = self {
            let mp = srs::densify(&MultiPolygon(vec![p.clone()]), *segment);
            return ellipsoid.multipolygon_area(&mp);
        }
        let Some(o) = p.exterior().0.first().copied() else {
            return 0.0;
        };
        let mut m = Moments::default();
        m.add_polygon(p, o);
        self.of_moments(&m, o).abs()
    }

    /// Area (m²) of a multipolygon (its polygons measured one by one).
    pub(crate) fn multipolygon(&self, mp: &MultiPolygon<f64>) -> f64 {
        crate::area::sum_m2(mp.0.iter().map(|p| self.polygon(p)))
    }

    /// Area (m²) of `p ∩ r` for an axis-aligned rectangle `r`, clipping
    /// each ring (Sutherland–Hodgman: the degenerate edges it may leave
    /// along `r`'s sides enclose nothing, so the area is exact).
    pub(crate) fn polygon_in_rect(&self, p: &Polygon<f64>, r: &Rect<f64>) -> f64 {
        let clip = |ring: &LineString<f64>| LineString(clip_ring(&ring.0, r));
        let ext = clip(p.exterior());
        if ext.0.len() < 4 {
            return 0.0;
        }
        let holes: Vec<LineString<f64>> = p
            .interiors()
            .iter()
            .map(clip)
            .filter(|h| h.0.len() >= 4)
            .collect();
        let clipped = Polygon::new(ext, holes);
        if matches!(self, Measure::Geographic { .. }) {
            return self.polygon(&clipped);
        }
        let o = clipped.exterior().0[0];
        let mut m = Moments::default();
        m.add_polygon(&clipped, o);
        self.of_moments(&m, o).abs()
    }
}

/// A closed ring clipped to a rectangle (closed again; empty when nothing
/// is left).
fn clip_ring(ring: &[Coord<f64>], r: &Rect<f64>) -> Vec<Coord<f64>> {
    let (lo, hi) = (r.min(), r.max());
    let mut pts: Vec<Coord<f64>> = ring[..ring.len().saturating_sub(1)].to_vec();
    // Each side: (inside test, intersection of the segment with the side).
    for side in 0..4 {
        if pts.is_empty() {
            break;
        }
        let inside = |c: &Coord<f64>| match side {
            0 => c.x >= lo.x,
            1 => c.x <= hi.x,
            2 => c.y >= lo.y,
            _ => c.y <= hi.y,
        };
        let cut = |a: &Coord<f64>, b: &Coord<f64>| -> Coord<f64> {
            let (k, t) = match side {
                0 => (lo.x, (lo.x - a.x) / (b.x - a.x)),
                1 => (hi.x, (hi.x - a.x) / (b.x - a.x)),
                2 => (lo.y, (lo.y - a.y) / (b.y - a.y)),
                _ => (hi.y, (hi.y - a.y) / (b.y - a.y)),
            };
            if side < 2 {
                Coord {
                    x: k,
                    y: a.y + t * (b.y - a.y),
                }
            } else {
                Coord {
                    x: a.x + t * (b.x - a.x),
                    y: k,
                }
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let (a, b) = (&pts[(i + pts.len() - 1) % pts.len()], &pts[i]);
            match (inside(a), inside(b)) {
                (true, true) => out.push(*b),
                (true, false) => out.push(cut(a, b)),
                (false, true) => {
                    out.push(cut(a, b));
                    out.push(*b);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    if pts.len() < 3 {
        return Vec::new();
    }
    pts.push(pts[0]);
    pts
}

/// The bounding box of many polygons (`None` when there are none).
pub(crate) fn extent<'a>(
    polys: impl IntoIterator<Item = &'a MultiPolygon<f64>>,
) -> Option<Rect<f64>> {
    let mut out: Option<Rect<f64>> = None;
    for r in polys.into_iter().filter_map(|p| p.bounding_rect()) {
        out = Some(match out {
            None => r,
            Some(o) => Rect::new(
                Coord {
                    x: o.min().x.min(r.min().x),
                    y: o.min().y.min(r.min().y),
                },
                Coord {
                    x: o.max().x.max(r.max().x),
                    y: o.max().y.max(r.max().y),
                },
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn karney(crs: &Crs, p: &Polygon<f64>) -> f64 {
        // Densified to 10 m (finer adds rounding of many tiny geodesics),
        // inverse-projected, Karney: independent of the moments.
        let geog = srs::geographic_of(crs).unwrap();
        let r = srs::Reprojector::new(crs, &geog).unwrap();
        let ll = r
            .multipolygon(&srs::densify(&MultiPolygon(vec![p.clone()]), 10.0))
            .unwrap();
        geog.ellipsoid.multipolygon_area(&ll)
    }

    #[test]
    fn gauss_kruger_polygons_match_karney() {
        let crs = crate::srs::crs_from_epsg(4545).unwrap();
        // A concave polygon with a hole, 150 km east of the central meridian,
        // and a town-sized one; and the same shapes near the meridian.
        let shapes = |x: f64, s: f64| -> Polygon<f64> {
            polygon!(
                exterior: [
                    (x: x, y: 3.9e6), (x: x + 3.0 * s, y: 3.9e6 + 0.2 * s),
                    (x: x + 2.0 * s, y: 3.9e6 + s), (x: x + 1.4 * s, y: 3.9e6 + 0.5 * s),
                    (x: x + 0.2 * s, y: 3.9e6 + 1.8 * s), (x: x, y: 3.9e6),
                ],
                interiors: [[
                    (x: x + 1.0 * s, y: 3.9e6 + 0.3 * s), (x: x + 1.2 * s, y: 3.9e6 + 0.3 * s),
                    (x: x + 1.1 * s, y: 3.9e6 + 0.4 * s), (x: x + 1.0 * s, y: 3.9e6 + 0.3 * s),
                ]],
            )
        };
        let all = [
            shapes(650_000.0, 150.0),
            shapes(650_000.0, 8_000.0),
            shapes(501_000.0, 300.0),
            shapes(420_000.0, 12_000.0),
        ];
        let ext = extent(
            all.iter()
                .map(|p| MultiPolygon(vec![p.clone()]))
                .collect::<Vec<_>>()
                .iter(),
        )
        .unwrap();
        let m = Measure::new(&crs, AreaMode::Ellipsoidal, ext).unwrap();
        for p in &all {
            let (got, want) = (m.polygon(p), karney(&crs, p));
            assert!((got / want - 1.0).abs() < 2e-9, "{got} vs {want}");
        }
        let planar = Measure::new(&crs, AreaMode::Planar, ext).unwrap();
        assert!((planar.polygon(&all[0]) / m.polygon(&all[0]) - 1.0).abs() > 1e-4);
    }

    #[test]
    fn rectangle_clips_keep_exact_areas() {
        let m = Measure::Planar { unit2: 1.0 };
        // A U shape: clipping its bottom keeps one piece; the top two arms.
        let u = polygon![
            (x: 0.0, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 3.0), (x: 2.0, y: 3.0),
            (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 3.0), (x: 0.0, y: 3.0), (x: 0.0, y: 0.0),
        ];
        let r =
            |a: f64, b: f64, c: f64, d: f64| Rect::new(Coord { x: a, y: b }, Coord { x: c, y: d });
        assert!((m.polygon(&u) - 7.0).abs() < 1e-12);
        assert!((m.polygon_in_rect(&u, &r(-1.0, 2.0, 4.0, 5.0)) - 2.0).abs() < 1e-12);
        assert!((m.polygon_in_rect(&u, &r(0.5, -1.0, 2.5, 1.5)) - 2.5).abs() < 1e-12);
        assert_eq!(m.polygon_in_rect(&u, &r(5.0, 5.0, 6.0, 6.0)), 0.0);
        assert!((m.polygon_in_rect(&u, &r(-9.0, -9.0, 9.0, 9.0)) - 7.0).abs() < 1e-12);
    }
}
