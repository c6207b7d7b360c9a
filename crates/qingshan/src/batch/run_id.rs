//! The run id: a stable hash of everything that decides a batch's
//! numbers, shared by every shard of one run (and refused by a directory
//! holding partials of another).
//!
//! Invariant: the same tiles (path and size), legend, band, overlap policy
//! and zones give the same id on any machine and Rust release.

use super::{BatchConfig, Headers};
use crate::fsio::Fnv;
use crate::legend::Legend;
use crate::raster::Tile;
use crate::zones::ZoneLayer;
use crate::{Error, Result};

/// The id of a run over `headers` (tiles and dates) with `zones`.
pub(super) fn run_id(
    config: &BatchConfig,
    legend: &Legend,
    headers: &Headers,
    zones: &ZoneLayer,
) -> Result<String> {
    let mut h = Fnv::new();
    h.str(if headers.after.is_some() {
        "change"
    } else {
        "stats"
    });
    h.str(&config.band.to_string());
    h.str(&serde_json::to_string(legend).map_err(|e| Error::Invalid(e.to_string()))?);
    h.str(&format!("{:?}", config.overlap));
    let mut tile_hash = |t: &Tile| {
        h.str(&t.path.display().to_string());
        h.str(
            &std::fs::metadata(&t.path)
                .map(|m| m.len())
                .unwrap_or(0)
                .to_string(),
        );
    };
    for t in &headers.tiles {
        tile_hash(t);
    }
    if let Some((a, _)) = &headers.after {
        for t in a {
            tile_hash(t);
        }
    }
    h.str(&zones.crs.wkt);
    for z in &zones.zones {
        h.str(&z.id);
        for p in &z.geometry.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                let mut b = Vec::with_capacity(r.0.len() * 16);
                for c in &r.0 {
                    b.extend_from_slice(&c.x.to_le_bytes());
                    b.extend_from_slice(&c.y.to_le_bytes());
                }
                h.bytes(&b);
            }
        }
    }
    Ok(format!("{:016x}", h.0))
}
