//! Tiles that overlap: found from their footprints alone (an R-tree of
//! their bounds, footprints reprojected when CRSs differ), then refused or
//! resolved by a policy.
//!
//! Invariant: with [`OverlapPolicy::First`] every piece of ground is
//! measured in exactly one tile (the first in sorted order).

use std::collections::HashMap;

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon};
use rstar::{AABB, RTree, RTreeObject, primitives::GeomWithData, primitives::Rectangle};

use super::OverlapPolicy;
use crate::raster::Tile;
use crate::srs::Reprojector;
use crate::{Error, Result};

/// A tile's outline in its CRS (16 points a side, so it stays faithful
/// when reprojected).
fn footprint(tile: &Tile) -> MultiPolygon<f64> {
    let (w, h) = (tile.grid.width as f64, tile.grid.height as f64);
    let gt = &tile.grid.transform;
    let n = 16;
    let mut ring = Vec::new();
    for k in 0..n {
        ring.push(gt.to_map(w * k as f64 / n as f64, 0.0));
    }
    for k in 0..n {
        ring.push(gt.to_map(w, h * k as f64 / n as f64));
    }
    for k in 0..n {
        ring.push(gt.to_map(w - w * k as f64 / n as f64, h));
    }
    for k in 0..n {
        ring.push(gt.to_map(0.0, h - h * k as f64 / n as f64));
    }
    ring.push(ring[0]);
    let ring: Vec<Coord<f64>> = ring.into_iter().map(|(x, y)| Coord { x, y }).collect();
    use geo::orient::{Direction, Orient};
    MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]).orient(Direction::Default)
}

/// Detects overlapping tiles with an R-tree of their footprints; returns,
/// per tile, the footprints (in its own CRS) of earlier tiles that win.
pub(super) fn overlaps(
    tiles: &[Tile],
    policy: OverlapPolicy,
) -> Result<Vec<Vec<MultiPolygon<f64>>>> {
    let one_crs = tiles.iter().all(|t| t.grid.crs.same_as(&tiles[0].grid.crs));
    let fps: Vec<MultiPolygon<f64>> = tiles.iter().map(footprint).collect();
    let mut boxes = Vec::with_capacity(tiles.len());
    if one_crs {
        // One CRS: index the tiles' own bounds.
        for (i, t) in tiles.iter().enumerate() {
            let (x0, y0, x1, y1) = t.grid.bounds();
            boxes.push(GeomWithData::new(
                Rectangle::from_corners([x0, y0], [x1, y1]),
                i,
            ));
        }
    }
    // Several CRSs: footprints in lon/lat, for one index over all of them.
    let mut to_geog: HashMap<String, Reprojector> = HashMap::new();
    let geog = if one_crs {
        None
    } else {
        Some(crate::crs_from_epsg(4326)?)
    };
    for (i, t) in tiles.iter().enumerate().filter(|_| !one_crs) {
        let geog = geog.as_ref().expect("several CRSs");
        let r = match to_geog.entry(t.grid.crs.wkt.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Reprojector::new(&t.grid.crs, geog)?)
            }
        };
        let ll = r
            .multipolygon(&fps[i])
            .map_err(|e| Error::raster(&t.path, e))?;
        use geo::BoundingRect;
        let b = ll
            .bounding_rect()
            .ok_or_else(|| Error::raster(&t.path, "empty footprint"))?;
        boxes.push(GeomWithData::new(
            Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
            i,
        ));
    }
    let tree = RTree::bulk_load(boxes.clone());
    let mut exclude = vec![Vec::new(); tiles.len()];
    let mut into: HashMap<(String, String), Reprojector> = HashMap::new();
    for (i, ti) in tiles.iter().enumerate() {
        let env = boxes[i].geom().envelope();
        let mut earlier: Vec<usize> = tree
            .locate_in_envelope_intersecting(&AABB::from_corners(env.lower(), env.upper()))
            .map(|g| g.data)
            .filter(|&j| j < i)
            .collect();
        earlier.sort_unstable();
        for j in earlier {
            let tj = &tiles[j];
            if tj.grid.crs.same_as(&ti.grid.crs)
                && ti.grid.transform.is_north_up()
                && tj.grid.transform.is_north_up()
            {
                // Same CRS, north-up: the overlap is a rectangle.
                let (a, b) = (ti.grid.bounds(), tj.grid.bounds());
                let (w, h) = (a.2.min(b.2) - a.0.max(b.0), a.3.min(b.3) - a.1.max(b.1));
                if w <= 0.0 || h <= 0.0 || w * h <= 1e-6 * ti.grid.transform.cell_area() {
                    continue;
                }
            }
            let fj = if tj.grid.crs.same_as(&ti.grid.crs) {
                fps[j].clone()
            } else {
                let key = (tj.grid.crs.wkt.clone(), ti.grid.crs.wkt.clone());
                let r = match into.entry(key) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(Reprojector::new(&tj.grid.crs, &ti.grid.crs)?)
                    }
                };
                r.multipolygon(&fps[j])
                    .map_err(|e| Error::raster(&tj.path, e))?
            };
            let common = fps[i].intersection(&fj);
            use geo::Area;
            let area = common.unsigned_area();
            if area > 1e-6 * ti.grid.transform.cell_area() {
                match policy {
                    OverlapPolicy::Refuse => {
                        return Err(Error::GridMismatch {
                            first: tj.path.clone(),
                            second: ti.path.clone(),
                            reason: format!(
                                "tiles overlap (about {:.0} cells); a zone would count twice: pass --overlap first to let the first tile (in sorted order) win",
                                area / ti.grid.transform.cell_area()
                            ),
                        });
                    }
                    OverlapPolicy::First => exclude[i].push(fj),
                }
            }
        }
    }
    Ok(exclude)
}
