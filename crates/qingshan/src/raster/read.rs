//! Reading windows of pixels: one [`TileReader`] per worker thread (GDAL
//! datasets are not `Sync`), whole-block windows of GeoTIFFs decoded
//! straight into the caller's buffer.
//!
//! Signed bytes (GDAL < 3.7 stores Int8 as Byte marked `SIGNEDBYTE`) are
//! read as the signed values they are; cells a mask band masks are read
//! as [`ClassPixel::MASKED`] (the tile's type is widened so no value of
//! the band collides with it). Both cost nothing for bands that have
//! neither.
//!
//! Invariant: a window read holds exactly the file's cells of that window,
//! row major, whichever path (block reads or RasterIO) reads it, masked
//! cells as `MASKED`.

use std::path::PathBuf;

use gdal::Dataset;

use super::pixel::{Buffers, ClassPixel};
use super::{Tile, open_raster};
use crate::error::gdal_msg;
use crate::grid::Window;
use crate::{Error, Result};

/// Reads windows of one tile; one reader per thread (GDAL datasets are not
/// `Sync`).
pub struct TileReader {
    ds: Dataset,
    band: usize,
    path: PathBuf,
    /// Block size and raster size when whole-block windows may be read
    /// block by block straight into the caller's buffer (GeoTIFF only).
    direct: Option<((usize, usize), (usize, usize))>,
    /// The band holds signed bytes stored as Byte.
    signed_byte: bool,
    /// The band has a mask band to honour.
    mask: bool,
    /// Bytes read before conversion (signed bytes, mask values).
    scratch: std::cell::RefCell<Vec<u8>>,
}

impl TileReader {
    /// Opens the tile's dataset for reading.
    pub fn open(tile: &Tile) -> Result<TileReader> {
        let ds = open_raster(&tile.path)?;
        // GeoTIFF decodes a block straight into the buffer it is given;
        // reading through GDAL's block cache instead costs a cache block
        // (allocation, page faults, a lock) and a copy per block. Block and
        // raster size come from the dataset just opened, never from the
        // `Tile` (a public value, possibly stale): GDALReadBlock writes a
        // whole block of the file's own size.
        let band = ds
            .rasterband(tile.band)
            .map_err(|e| Error::open(&tile.path, gdal_msg(&e)))?;
        let direct =
            (ds.driver().short_name() == "GTiff").then(|| (band.block_size(), ds.raster_size()));
        // Like the block size: from the file, not from the `Tile`.
        let (_, signed_byte, mask) = super::band_kind(&band, &tile.path, tile.band)?;
        Ok(TileReader {
            ds,
            band: tile.band,
            path: tile.path.clone(),
            direct,
            signed_byte,
            mask,
            scratch: Default::default(),
        })
    }

    /// Reads `window` into `buf` (row-major, `window.width` per row).
    pub fn read<T: ClassPixel>(&self, window: Window, buf: &mut Vec<T>) -> Result<()> {
        let size = (window.width, window.height);
        if self.signed_byte {
            let mut bytes = self.scratch.borrow_mut();
            self.read_plain::<u8>(window, &mut bytes)?;
            buf.clear();
            buf.extend(bytes.iter().map(|&b| T::from_code(b as i8 as i64)));
        } else {
            self.read_plain(window, buf)?;
        }
        self.apply_mask(window, size, buf)
    }

    /// Sets the cells the band's mask masks to [`ClassPixel::MASKED`]
    /// (`buf`: `window` read at `size`).
    fn apply_mask<T: ClassPixel>(
        &self,
        window: Window,
        size: (usize, usize),
        buf: &mut [T],
    ) -> Result<()> {
        if !self.mask {
            return Ok(());
        }
        let fail = |reason: String| self.window_error(window, format!("mask band: {reason}"));
        let band = self
            .ds
            .rasterband(self.band)
            .map_err(|e| fail(gdal_msg(&e)))?;
        let mask = band.open_mask_band().map_err(|e| fail(gdal_msg(&e)))?;
        let mut bytes = self.scratch.borrow_mut();
        bytes.resize(size.0 * size.1, 0);
        mask.read_into_slice::<u8>(
            (window.col as isize, window.row as isize),
            (window.width, window.height),
            size,
            &mut bytes,
            None,
        )
        .map_err(|e| fail(gdal_msg(&e)))?;
        for (v, &m) in buf.iter_mut().zip(bytes.iter()) {
            if m == 0 {
                *v = T::MASKED;
            }
        }
        Ok(())
    }

    /// A failed read of `window`, naming the file and the window.
    fn window_error(&self, window: Window, reason: String) -> Error {
        Error::RasterRead {
            path: self.path.clone(),
            col: window.col,
            row: window.row,
            width: window.width,
            height: window.height,
            reason,
        }
    }

    /// Reads `window` into `buf` as GDAL gives it (block by block when
    /// the window is whole GeoTIFF blocks of `T`'s own type).
    fn read_plain<T: ClassPixel>(&self, window: Window, buf: &mut Vec<T>) -> Result<()> {
        let fail = |reason: String| self.window_error(window, reason);
        // GDAL overwrites every cell: resize only, no clearing memset.
        buf.resize(window.cells(), T::default());
        let band = self
            .ds
            .rasterband(self.band)
            .map_err(|e| fail(gdal_msg(&e)))?;
        if let Some((block, size)) = self.direct
            && band.band_type() as u32 == T::gdal_ordinal()
            && window.whole_blocks(block, size)
        {
            return read_blocks(&band, window, block, buf).map_err(fail);
        }
        band.read_into_slice::<T>(
            (window.col as isize, window.row as isize),
            (window.width, window.height),
            (window.width, window.height),
            buf,
            None,
        )
        .map_err(|e| fail(gdal_msg(&e)))
    }
}

/// Reads `window` (made of whole blocks of size `block`) block by block
/// with `GDALReadBlock`, bypassing GDAL's block cache, into `buf` (row
/// major, `window.width` per row). Cells beyond the raster's edge in edge
/// blocks are not copied.
fn read_blocks<T: ClassPixel>(
    band: &gdal::raster::RasterBand<'_>,
    window: Window,
    block: (usize, usize),
    buf: &mut [T],
) -> std::result::Result<(), String> {
    let (bw, bh) = block;
    let mut scratch = vec![T::default(); bw * bh];
    for by in (window.row / bh)..(window.row + window.height).div_ceil(bh) {
        for bx in (window.col / bw)..(window.col + window.width).div_ceil(bw) {
            // SAFETY: the band is a live handle; `scratch` holds a whole
            // block of the band's own type (checked by the caller), which
            // is what GDALReadBlock writes.
            #[allow(unsafe_code)]
            let err = unsafe {
                gdal_sys::CPLErrorReset();
                gdal_sys::GDALReadBlock(
                    band.c_rasterband(),
                    bx as i32,
                    by as i32,
                    scratch.as_mut_ptr().cast(),
                )
            };
            if err != gdal_sys::CPLErr::CE_None {
                return Err(format!(
                    "block ({bx}, {by}): {}",
                    crate::error::last_cpl_error("could not be read")
                ));
            }
            // This block's cells inside the window.
            let (c0, r0) = (bx * bw - window.col, by * bh - window.row);
            let w = bw.min(window.width - c0);
            let h = bh.min(window.height - r0);
            for r in 0..h {
                let dst = (r0 + r) * window.width + c0;
                buf[dst..dst + w].copy_from_slice(&scratch[r * bw..r * bw + w]);
            }
        }
    }
    Ok(())
}

impl TileReader {
    /// Reads `window` as an array of rows × columns.
    pub fn read_array<T: ClassPixel>(&self, window: Window) -> Result<ndarray::Array2<T>> {
        let mut buf = Vec::new();
        self.read(window, &mut buf)?;
        ndarray::Array2::from_shape_vec((window.height, window.width), buf)
            .map_err(|e| Error::raster(&self.path, e))
    }

    /// Reads `window` resampled (nearest neighbour) to `size` = (columns,
    /// rows): an overview for maps.
    pub fn read_resampled<T: ClassPixel>(
        &self,
        window: Window,
        size: (usize, usize),
    ) -> Result<Vec<T>> {
        let band = self
            .ds
            .rasterband(self.band)
            .map_err(|e| Error::raster(&self.path, gdal_msg(&e)))?;
        let fail = |e: gdal::errors::GdalError| self.window_error(window, gdal_msg(&e));
        let at = (window.col as isize, window.row as isize);
        let shape = (window.width, window.height);
        let mut buf = if self.signed_byte {
            let mut bytes = vec![0u8; size.0 * size.1];
            band.read_into_slice::<u8>(at, shape, size, &mut bytes, None)
                .map_err(fail)?;
            bytes
                .iter()
                .map(|&b| T::from_code(b as i8 as i64))
                .collect()
        } else {
            let mut buf = vec![T::default(); size.0 * size.1];
            band.read_into_slice::<T>(at, shape, size, &mut buf, None)
                .map_err(fail)?;
            buf
        };
        self.apply_mask(window, size, &mut buf)?;
        Ok(buf)
    }

    /// Reads `window` into a reusable buffer and returns a view of it
    /// (rows × columns).
    pub fn read_view<'b, T: ClassPixel>(
        &self,
        window: Window,
        buffers: &'b mut Buffers,
    ) -> Result<ndarray::ArrayView2<'b, T>> {
        let buf = T::buffer(buffers);
        self.read(window, buf)?;
        ndarray::ArrayView2::from_shape((window.height, window.width), &buf[..])
            .map_err(|e| Error::raster(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Writes a one-band GeoTIFF of `size` with creation `options` and
    /// cells from a fixed pseudo-random sequence of values below `classes`.
    fn random_tiff<T: ClassPixel + TryFrom<u32>>(
        path: &Path,
        size: (usize, usize),
        classes: u32,
        options: &[&str],
    ) -> Vec<T> {
        use gdal::raster::RasterCreationOptions;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let cells: Vec<T> = (0..size.0 * size.1)
            .map(|i| {
                // Streaks of random length, so blocks hold both runs and noise.
                if i % 5 != 0 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                }
                T::try_from((state % classes as u64) as u32).ok().unwrap()
            })
            .collect();
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let opts = RasterCreationOptions::from_iter(options.iter().copied());
        let mut ds = driver
            .create_with_band_type_with_options::<T, _>(path, size.0, size.1, 1, &opts)
            .unwrap();
        ds.set_geo_transform(&[500000.0, 30.0, 0.0, 3900000.0, 0.0, -30.0])
            .unwrap();
        ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(32649).unwrap())
            .unwrap();
        let mut buffer = gdal::raster::Buffer::new(size, cells.clone());
        ds.rasterband(1)
            .unwrap()
            .write((0, 0), size, &mut buffer)
            .unwrap();
        cells
    }

    /// Windows read block by block (GeoTIFF, whole blocks) and through
    /// GDAL's RasterIO (any other window) hold exactly the cells written,
    /// for tiled and striped files, edge blocks and 8/16-bit cells.
    #[test]
    fn window_reads_return_the_cells_written() {
        fn check<T: ClassPixel + TryFrom<u32> + std::fmt::Debug>(
            dir: &Path,
            name: &str,
            classes: u32,
            options: &[&str],
        ) {
            let size = (700, 333);
            let path = dir.join(name);
            let cells = random_tiff::<T>(&path, size, classes, options);
            let tile = Tile::open(&path, 1).unwrap();
            let reader = TileReader::open(&tile).unwrap();
            let (mut windows, _) = tile.windows();
            let aligned = windows.len();
            // Windows off the block grid take the RasterIO path.
            windows.extend([
                Window {
                    col: 3,
                    row: 5,
                    width: 300,
                    height: 200,
                },
                Window {
                    col: 699,
                    row: 332,
                    width: 1,
                    height: 1,
                },
                Window {
                    col: 256,
                    row: 1,
                    width: 444,
                    height: 128,
                },
            ]);
            assert!(
                windows[..aligned]
                    .iter()
                    .all(|w| w.whole_blocks(tile.block, size)),
                "{name}: the planned windows are whole blocks"
            );
            assert!(!windows[aligned].whole_blocks(tile.block, size));
            // A `Tile` value with another block size (stale, or made by
            // hand: its fields are public) does not steer the block reads.
            let mut stale = tile.clone();
            stale.block = (16, 16);
            let stale = TileReader::open(&stale).unwrap();
            let mut buf = Vec::new();
            for w in windows {
                let expected: Vec<T> = (w.row..w.row_end())
                    .flat_map(|r| {
                        cells[r * size.0 + w.col..r * size.0 + w.col_end()]
                            .iter()
                            .copied()
                    })
                    .collect();
                for (how, r) in [("", &reader), (" (stale tile)", &stale)] {
                    buf.clear();
                    r.read::<T>(w, &mut buf).unwrap();
                    assert_eq!(buf, expected, "{name}{how}: window {w:?}");
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let tiled = [
            "TILED=YES",
            "BLOCKXSIZE=256",
            "BLOCKYSIZE=128",
            "COMPRESS=DEFLATE",
        ];
        check::<u8>(dir.path(), "tiled_u8.tif", 10, &tiled);
        check::<u16>(dir.path(), "tiled_u16.tif", 3000, &tiled);
        check::<u8>(
            dir.path(),
            "striped_u8.tif",
            200,
            &["BLOCKYSIZE=7", "COMPRESS=LZW"],
        );
        check::<i16>(dir.path(), "striped_i16.tif", 30000, &["BLOCKYSIZE=64"]);
    }
}
