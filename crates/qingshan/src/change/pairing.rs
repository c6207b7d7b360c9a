//! Pairing the tiles of two dates: which after tile is read with which
//! before tile, where its cells lie, and what pixel type both are read as.
//!
//! Invariant: a pair's two tiles share the grid lattice — same CRS, pixel
//! size and rotation, cells aligned ([`crate::grid::Grid::cell_offset`]) — so cell
//! `(c, r)` of the before tile is cell `(c, r) + offset` of the after tile;
//! anything else is an error naming both files.

use std::collections::HashMap;

use crate::grid::{Misfit, Window};
use crate::raster::{LandCover, PixelType, Tile};
use crate::{Error, Result};

/// A before tile, the after tile it is read with, and the common region.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pair {
    pub(crate) before: usize,
    pub(crate) after: usize,
    /// After pixel = before pixel + offset.
    pub(crate) offset: (i64, i64),
    /// Common region in before pixel coordinates.
    pub(crate) region: Window,
}

/// Pairs the tiles of two dates; fails, naming both files, when the grids
/// differ in CRS, pixel size or alignment.
pub(crate) fn pair_tiles(
    before: &LandCover,
    after: &LandCover,
) -> Result<(Vec<Pair>, Vec<String>)> {
    let mismatch = |b: &Tile, a: &Tile, reason: String| Error::GridMismatch {
        first: b.path.clone(),
        second: a.path.clone(),
        reason,
    };
    let check =
        |b: &Tile, a: &Tile| -> Result<(i64, i64)> { grid_offset(b, a).map(|(c, r)| (-c, -r)) };
    let mut warnings = Vec::new();
    if before.tiles.len() == 1 && after.tiles.len() == 1 {
        let (b, a) = (&before.tiles[0], &after.tiles[0]);
        let offset = check(b, a)?;
        // After extent in before pixel coordinates.
        let (a0c, a0r) = (-offset.0, -offset.1);
        let c0 = a0c.max(0);
        let r0 = a0r.max(0);
        let c1 = (a0c + a.grid.width as i64).min(b.grid.width as i64);
        let r1 = (a0r + a.grid.height as i64).min(b.grid.height as i64);
        if c0 >= c1 || r0 >= r1 {
            return Err(mismatch(b, a, "the two dates do not overlap".into()));
        }
        let region = Window {
            col: c0 as usize,
            row: r0 as usize,
            width: (c1 - c0) as usize,
            height: (r1 - r0) as usize,
        };
        if region != b.grid.full_window()
            || (a.grid.width, a.grid.height) != (region.width, region.height)
        {
            warnings.push(format!(
                "{} and {} cover different extents: only their common {} × {} cells are compared",
                b.path.display(),
                a.path.display(),
                region.width,
                region.height
            ));
        }
        return Ok((
            vec![Pair {
                before: 0,
                after: 0,
                offset,
                region,
            }],
            warnings,
        ));
    }
    // Tile sets: every before tile must have an after tile on the same grid.
    if before.tiles.len() != after.tiles.len() {
        return Err(mismatch(
            &before.tiles[0],
            &after.tiles[0],
            format!(
                "the dates have different tile layouts ({} vs {} tiles); build one VRT per date with gdalbuildvrt and pass those",
                before.tiles.len(),
                after.tiles.len()
            ),
        ));
    }
    let pairs = pair_identical(&before.tiles, &after.tiles)?
        .into_iter()
        .enumerate()
        .map(|(bi, ai)| Pair {
            before: bi,
            after: ai,
            offset: (0, 0),
            region: before.tiles[bi].grid.full_window(),
        })
        .collect();
    Ok((pairs, warnings))
}

/// The pixel type both dates are read as.
pub(crate) fn common_type(b: &Tile, a: &Tile) -> Result<PixelType> {
    use PixelType::*;
    Ok(match (b.pixel_type, a.pixel_type) {
        (x, y) if x == y => x,
        (U8, U16) | (U16, U8) => U16,
        (U8, I16) | (I16, U8) => I16,
        (U8 | U16 | I16, I32) | (I32, U8 | U16 | I16) | (U16, I16) | (I16, U16) => I32,
        (U8 | U16, U32) | (U32, U8 | U16) => U32,
        (U8 | U16 | I16 | U32 | I32, I64) | (I64, U8 | U16 | I16 | U32 | I32) => I64,
        (U8 | U16 | U32, U64) | (U64, U8 | U16 | U32) => U64,
        _ => {
            return Err(Error::GridMismatch {
                first: b.path.clone(),
                second: a.path.clone(),
                reason: format!(
                    "pixel types {:?} and {:?} cannot be compared exactly; convert one with gdal_translate -ot",
                    b.pixel_type, a.pixel_type
                ),
            });
        }
    })
}

/// Where after tile `a`'s first cell lies on before tile `b`'s grid
/// ([`crate::grid::Grid::cell_offset`]), or an error naming both files and how their
/// grids differ.
fn grid_offset(b: &Tile, a: &Tile) -> Result<(i64, i64)> {
    let (gb, ga) = (&b.grid.transform.0, &a.grid.transform.0);
    let reason = match b.grid.cell_offset(&a.grid) {
        Ok(offset) => return Ok(offset),
        Err(Misfit::Crs) => format!(
            "the two dates have different CRSs ({} vs {}); warp one onto the other's grid with gdalwarp",
            b.grid.crs.label, a.grid.crs.label
        ),
        Err(Misfit::PixelSize) => format!(
            "the two dates have different pixel sizes ({}×{} vs {}×{}); resample one with gdalwarp -tr -tap",
            gb[1], gb[5], ga[1], ga[5]
        ),
        Err(Misfit::Shifted(c, r)) => format!(
            "the grids are not aligned (the second is offset by {c:.4} × {r:.4} pixels); warp it with gdalwarp -tap onto the first's grid"
        ),
    };
    Err(Error::GridMismatch {
        first: b.path.clone(),
        second: a.path.clone(),
        reason,
    })
}

/// For each before tile, the after tile with exactly its cells (same CRS,
/// pixel size, alignment, origin and size: [`crate::grid::Grid::cell_offset`] is
/// `(0, 0)`); tile sets of two dates must pair one to one. An error names
/// a before tile without one.
pub(crate) fn pair_identical(before: &[Tile], after: &[Tile]) -> Result<Vec<usize>> {
    let Some(first) = after.first() else {
        return Err(Error::Invalid(
            "no tiles were given for the second date".into(),
        ));
    };
    // After tiles by where they lie on the first one's grid (tiles of a
    // set need only share CRS and pixel size, so some may not be in it).
    let key = |t: &Tile| {
        first
            .grid
            .cell_offset(&t.grid)
            .ok()
            .map(|o| (o, t.grid.width, t.grid.height))
    };
    let mut index = HashMap::new();
    for (i, a) in after.iter().enumerate() {
        if let Some(k) = key(a) {
            index.entry(k).or_insert(i);
        }
    }
    let same_cells = |b: &Tile, a: &Tile| {
        (a.grid.width, a.grid.height) == (b.grid.width, b.grid.height)
            && b.grid.cell_offset(&a.grid) == Ok((0, 0))
    };
    before
        .iter()
        .enumerate()
        .map(|(bi, b)| {
            if let Some(&i) = key(b).and_then(|k| index.get(&k)) {
                return Ok(i);
            }
            // Not in the index: an after tile not aligned with the first
            // one, or one within tolerance of this tile but not of the
            // first: search them all.
            if let Some(i) = (0..after.len()).find(|&i| same_cells(b, &after[i])) {
                return Ok(i);
            }
            // Say how it differs from the tile in the same place in the list.
            let a = &after[bi.min(after.len() - 1)];
            grid_offset(b, a)?;
            Err(Error::GridMismatch {
                first: b.path.clone(),
                second: a.path.clone(),
                reason: "no tile of the second date has this tile's exact extent; build one VRT per date with gdalbuildvrt and pass those".into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(p: &str) -> String {
        format!("{}/../../fixtures/{p}", env!("CARGO_MANIFEST_DIR"))
    }

    /// A before tile within tolerance of its after tile but not of the
    /// first after tile still finds its partner.
    #[test]
    fn tile_pairing_follows_each_pair_not_the_first_tile() {
        let t = Tile::open(fx("landcover/clcd_2019/clcd_2019_r0c0.tif").as_ref(), 1).unwrap();
        let px = t.grid.transform.0[1];
        let nudged = |tile: &Tile, cells: f64| {
            let mut n = tile.clone();
            n.grid.transform.0[0] += cells * px;
            n
        };
        // After: the tile itself, and a copy moved 0.9e-6 of a cell
        // further along a second tile's place.
        let w = t.grid.width as f64;
        let after = vec![t.clone(), nudged(&t, w + 0.9e-6)];
        let before = vec![nudged(&t, w + 1.1e-6), t.clone()];
        assert_eq!(pair_identical(&before, &after).unwrap(), vec![1, 0]);
    }
}
