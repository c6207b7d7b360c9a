//! The run id: a stable hash of everything that decides a batch's
//! numbers, shared by every shard of one run (and refused by a directory
//! holding partials of another).
//!
//! A tile enters the id by its path and its fingerprint: its size, its
//! modification time (to the nanosecond) and a hash of its first and last
//! 64 KiB — where a GeoTIFF keeps its header and its index of blocks. A
//! rewrite in place changes the time even where it keeps the size and
//! both ends (an uncompressed tile edited in the middle). Shards on
//! machines with their own copies of the tiles must copy them with their
//! times (`rsync -t`, `cp -p`); copies with other times are another run,
//! which `merge` refuses by name rather than mixing.
//!
//! Invariant: the same tiles (path and fingerprint), legend, band, overlap
//! policy and zones give the same id on any machine and Rust release; a
//! tile rewritten in place — even to the same size — gives another id, so
//! `--resume` never keeps a partial of the old tile.

use super::{BatchConfig, Headers};
use crate::fsio::Fnv;
use crate::legend::Legend;
use crate::raster::Tile;
use crate::zones::ZoneLayer;
use crate::{Error, Result};

/// Size, modification time and a hash of the first and last 64 KiB of a
/// file (see the module docs); an unreadable file hashes as its error, which the run
/// meets again when it reads the tile.
fn fingerprint(path: &std::path::Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    const END: u64 = 64 * 1024;
    let read = || -> std::io::Result<String> {
        let mut f = std::fs::File::open(path)?;
        let meta = f.metadata()?;
        let len = meta.len();
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let mut head = Vec::new();
        (&mut f).take(END).read_to_end(&mut head)?;
        let mut tail = Vec::new();
        if len > END {
            f.seek(SeekFrom::Start(len.saturating_sub(END).max(END)))?;
            f.read_to_end(&mut tail)?;
        }
        let mut h = Fnv::new();
        h.bytes(&head);
        h.bytes(&tail);
        Ok(format!("{len}:{mtime}:{:016x}", h.0))
    };
    read().unwrap_or_else(|e| format!("unreadable: {e}"))
}

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
    h.str(config.area.as_str());
    let mut tile_hash = |t: &Tile| {
        h.str(&t.path.display().to_string());
        h.str(&fingerprint(&t.path));
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
