//! Land-cover rasters through GDAL: one file, a VRT, or a set of tiles.
//!
//! A [`LandCover`] is a list of [`Tile`]s (each its own GDAL dataset) that
//! share one CRS and pixel size and do not overlap. Only the header is read
//! when opening; pixels are read window by window ([`TileReader`]), so
//! memory stays O(window) whatever the raster's size. Invariant: every
//! tile's band holds integer class codes (u8, u16, i16, u32, i32).

use std::path::{Path, PathBuf};

use gdal::raster::{GdalDataType, GdalType};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use serde::{Deserialize, Serialize};

use crate::error::gdal_msg;
use crate::fsio::Pending;
use crate::grid::{Crs, GeoTransform, Grid, Window};
use crate::legend::ClassCode;
use crate::{Error, Result, srs};

/// Integer pixel types accepted as land cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PixelType {
    /// Unsigned 8-bit (most land-cover products).
    U8,
    /// Unsigned 16-bit.
    U16,
    /// Signed 16-bit.
    I16,
    /// Unsigned 32-bit.
    U32,
    /// Signed 32-bit.
    I32,
}

/// A pixel type usable as class codes.
pub trait ClassPixel: GdalType + Copy + Default + PartialEq + Send + Sync + 'static {
    /// Size of a direct lookup table indexed by [`ClassPixel::dense_index`],
    /// or 0 when the type is too wide for one.
    const TABLE: usize;
    /// The value as a class code.
    fn code(self) -> ClassCode;
    /// Index into a lookup table of size [`ClassPixel::TABLE`].
    fn dense_index(self) -> usize;
    /// The value at a lookup-table index (inverse of `dense_index`).
    fn from_dense_index(i: usize) -> Self;
    /// The value from a nodata value given as `f64`, when representable.
    fn from_nodata(v: f64) -> Option<Self>;
    /// This type's buffer in a set of reusable buffers.
    fn buffer(buffers: &mut Buffers) -> &mut Vec<Self>;
    /// The cells as bytes, for 8-bit types (word-at-a-time scans).
    fn as_bytes(cells: &[Self]) -> Option<&[u8]>;
}

/// Reusable window buffers, one per pixel type (one set per worker, so
/// windows are read without fresh allocations).
#[derive(Debug, Default)]
pub struct Buffers {
    u8: Vec<u8>,
    u16: Vec<u16>,
    i16: Vec<i16>,
    u32: Vec<u32>,
    i32: Vec<i32>,
}

macro_rules! class_pixel {
    ($t:ident, $table:expr, |$v:ident| $index:expr, |$i:ident| $value:expr, |$c:ident| $bytes:expr) => {
        impl ClassPixel for $t {
            const TABLE: usize = $table;
            #[inline]
            fn code(self) -> ClassCode {
                self as ClassCode
            }
            #[inline]
            fn dense_index(self) -> usize {
                let $v = self;
                $index
            }
            #[inline]
            fn from_dense_index($i: usize) -> Self {
                $value
            }
            fn from_nodata(v: f64) -> Option<Self> {
                let cast = v as $t;
                (v.fract() == 0.0 && cast as f64 == v).then_some(cast)
            }
            fn buffer(buffers: &mut Buffers) -> &mut Vec<Self> {
                &mut buffers.$t
            }
            #[inline]
            fn as_bytes($c: &[Self]) -> Option<&[u8]> {
                $bytes
            }
        }
    };
}
class_pixel!(u8, 256, |v| v as usize, |i| i as u8, |c| Some(c));
class_pixel!(u16, 65536, |v| v as usize, |i| i as u16, |_c| None);
class_pixel!(
    i16,
    65536,
    |v| (v as i32 + 32768) as usize,
    |i| (i as i32 - 32768) as i16,
    |_c| None
);
class_pixel!(u32, 0, |v| v as usize, |i| i as u32, |_c| None);
class_pixel!(i32, 0, |v| v as usize, |i| i as i32, |_c| None);

/// Calls `f(value, length)` for each streak of equal values of `cells`, in
/// order. Land cover comes in long streaks of one class; 8-bit rasters are
/// scanned eight cells per comparison.
#[inline]
pub(crate) fn for_each_streak<T: ClassPixel>(cells: &[T], mut f: impl FnMut(T, u32)) {
    if let Some(bytes) = T::as_bytes(cells) {
        let len = bytes.len();
        let mut i = 0;
        while i < len {
            let v = bytes[i];
            let start = i;
            i += 1;
            let pattern = u64::from_le_bytes([v; 8]);
            while i + 8 <= len {
                let diff = word(bytes, i) ^ pattern;
                if diff != 0 {
                    // The first differing byte is the lowest non-zero one.
                    i += (diff.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            while i < len && bytes[i] == v {
                i += 1;
            }
            f(T::from_dense_index(v as usize), (i - start) as u32);
        }
        return;
    }
    let mut iter = cells.iter();
    let Some(&first) = iter.next() else {
        return;
    };
    let (mut cur, mut n) = (first, 1u32);
    for &v in iter {
        if v == cur {
            n += 1;
        } else {
            f(cur, n);
            (cur, n) = (v, 1);
        }
    }
    f(cur, n);
}

/// The 8 bytes at `bytes[i..i + 8]` as a little-endian word.
#[inline(always)]
fn word(bytes: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[i..i + 8]);
    u64::from_le_bytes(w)
}

/// One bit per byte of `d`: bit j is set when byte j (little-endian) is
/// not zero.
#[inline(always)]
fn nonzero_bytes(d: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each byte: set when the byte is not zero.
    let high = (((d & LOW7) + LOW7) | d) & !LOW7;
    // Gather the eight high bits (bits 7, 15, …, 63) into bits 0..8.
    (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Bit j set when cell `i + j` (j < 8) differs from the cell before it in
/// `x` or in `y`.
#[inline(always)]
fn pair_changes(x: &[u8], y: &[u8], i: usize) -> u64 {
    nonzero_bytes((word(x, i) ^ word(x, i - 1)) | (word(y, i) ^ word(y, i - 1)))
}

/// Like [`for_each_streak`] over pairs of cells of two equal-length slices:
/// `f(a, b, length)` for each streak where both stay the same.
#[inline(always)]
pub(crate) fn for_each_pair_streak<T: ClassPixel>(a: &[T], b: &[T], mut f: impl FnMut(T, T, u32)) {
    if let (Some(x), Some(y)) = (T::as_bytes(a), T::as_bytes(b)) {
        let len = x.len().min(y.len());
        let (x, y) = (&x[..len], &y[..len]);
        let mut start = 0;
        let mut emit = |end: usize| {
            f(
                T::from_dense_index(x[start] as usize),
                T::from_dense_index(y[start] as usize),
                (end - start) as u32,
            );
            start = end;
        };
        // Streak ends are found 64 cells at a time as a bit mask (bit j:
        // cell i + j differs from cell i + j - 1 in either slice), so the
        // only branch that depends on the data is one per streak end
        // taken from the mask, and it is predictable.
        let mut i = 1;
        while i < len {
            let n = (len - i).min(64);
            let mut mask = 0u64;
            if n == 64 {
                for k in 0..8 {
                    mask |= pair_changes(x, y, i + 8 * k) << (8 * k);
                }
            } else {
                let words = n / 8;
                for k in 0..words {
                    mask |= pair_changes(x, y, i + 8 * k) << (8 * k);
                }
                for j in i + 8 * words..i + n {
                    let d = (x[j] ^ x[j - 1]) | (y[j] ^ y[j - 1]);
                    mask |= ((d != 0) as u64) << (j - i);
                }
            }
            while mask != 0 {
                emit(i + mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
            i += n;
        }
        if len > 0 {
            emit(len);
        }
        return;
    }
    let mut it = a.iter().zip(b);
    let Some((&a0, &b0)) = it.next() else {
        return;
    };
    let (mut cur, mut n) = ((a0, b0), 1u32);
    for (&va, &vb) in it {
        if (va, vb) == cur {
            n += 1;
        } else {
            f(cur.0, cur.1, n);
            (cur, n) = ((va, vb), 1);
        }
    }
    f(cur.0, cur.1, n);
}

/// Runs `$body` with `$T` bound to the Rust type of a [`PixelType`].
#[macro_export]
#[doc(hidden)]
macro_rules! with_pixel_type {
    ($pt:expr, $T:ident => $body:expr) => {
        match $pt {
            $crate::raster::PixelType::U8 => {
                type $T = u8;
                $body
            }
            $crate::raster::PixelType::U16 => {
                type $T = u16;
                $body
            }
            $crate::raster::PixelType::I16 => {
                type $T = i16;
                $body
            }
            $crate::raster::PixelType::U32 => {
                type $T = u32;
                $body
            }
            $crate::raster::PixelType::I32 => {
                type $T = i32;
                $body
            }
        }
    };
}

/// One raster file (or VRT) of a land-cover source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    /// The file.
    pub path: PathBuf,
    /// Its grid.
    pub grid: Grid,
    /// Band number (1-based) holding the classes.
    pub band: usize,
    /// Natural block size `(width, height)`.
    pub block: (usize, usize),
    /// The band's nodata value.
    pub nodata: Option<f64>,
    /// Pixel type of the band.
    pub pixel_type: PixelType,
}

/// Target number of cells in one window (about 1 Mpixel).
const WINDOW_CELLS: usize = 1 << 20;

impl Tile {
    /// Reads a tile's header (never its pixels).
    pub fn open(path: &Path, band: usize) -> Result<Tile> {
        let ds = open_raster(path)?;
        if ds.raster_count() == 0 {
            return Err(Error::raster(path, "has no raster bands"));
        }
        if band == 0 || band > ds.raster_count() {
            return Err(Error::raster(
                path,
                format!(
                    "has {} band(s); band {band} does not exist",
                    ds.raster_count()
                ),
            ));
        }
        let b = ds.rasterband(band).map_err(|e| Error::open(path, e))?;
        let pixel_type = match b.band_type() {
            GdalDataType::UInt8 => PixelType::U8,
            GdalDataType::UInt16 => PixelType::U16,
            GdalDataType::Int16 => PixelType::I16,
            GdalDataType::UInt32 => PixelType::U32,
            GdalDataType::Int32 => PixelType::I32,
            other => {
                return Err(Error::raster(
                    path,
                    format!(
                        "band {band} is {}, but land cover must hold integer class codes (u8, u16, i16, u32, i32); \
                         if it holds codes, convert it with `gdal_translate -ot Int16`",
                        other.name()
                    ),
                ));
            }
        };
        let srs = ds.spatial_ref().map_err(|_| {
            Error::raster(
                path,
                "has no CRS; assign one with `gdal_edit.py -a_srs EPSG:XXXX` (e.g. EPSG:4545 for CGCS2000 3° GK CM 108E)",
            )
        })?;
        let crs: Crs = srs::crs_of(&srs, &path.display().to_string())?;
        let gt = ds.geo_transform().map_err(|_| {
            Error::raster(
                path,
                "has no geotransform (it is not georeferenced); georeference it with gdal_translate -a_ullr or gdal_edit.py",
            )
        })?;
        let transform = GeoTransform(gt);
        if transform.determinant() == 0.0 || !transform.determinant().is_finite() {
            return Err(Error::raster(
                path,
                "has a degenerate geotransform (zero pixel size)",
            ));
        }
        let (width, height) = ds.raster_size();
        let block = b.block_size();
        Ok(Tile {
            path: path.to_path_buf(),
            grid: Grid {
                transform,
                width,
                height,
                crs,
            },
            band,
            block: (block.0.max(1), block.1.max(1)),
            nodata: b.no_data_value(),
            pixel_type,
        })
    }

    /// The windows this tile is read in, aligned to its blocks and about
    /// 1 Mpixel each, in row-major order; and their height (the row band
    /// used to index zone edges).
    pub fn windows(&self) -> (Vec<Window>, usize) {
        let (bw, bh) = self.block;
        let w = self.grid.width.max(1);
        let bw = bw.min(w);
        // Whole blocks across, up to about 1024 cells (or the full width).
        let kx = (1024 / bw).max(1);
        let ww = (bw * kx).min(w);
        let rows_wanted = (WINDOW_CELLS / ww).max(1);
        let ky = (rows_wanted / bh).max(1);
        let wh = (bh * ky).min(self.grid.height.max(1));
        (self.grid.windows(ww, wh), wh)
    }
}

fn open_raster(path: &Path) -> Result<Dataset> {
    if !path.exists() && !path.to_string_lossy().starts_with("/vsi") {
        return Err(Error::open(path, "no such file"));
    }
    Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_RASTER | GdalOpenFlags::GDAL_OF_READONLY,
            ..Default::default()
        },
    )
    .map_err(|e| {
        Error::open(
            path,
            format!("not a raster GDAL can open ({})", gdal_msg(&e)),
        )
    })
}

/// A land-cover source: tiles sharing one CRS and pixel size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LandCover {
    /// The tiles, in the order given (sorted within directories and globs).
    pub tiles: Vec<Tile>,
}

impl LandCover {
    /// Opens one or more rasters (files, VRTs, directories, glob patterns)
    /// as one land-cover source. Tiles must share CRS and pixel size and
    /// must not overlap.
    pub fn open<S: AsRef<str>>(inputs: &[S], band: usize) -> Result<LandCover> {
        let paths = expand_inputs(inputs)?;
        let tiles = paths
            .iter()
            .map(|p| Tile::open(p, band))
            .collect::<Result<Vec<_>>>()?;
        let lc = LandCover { tiles };
        lc.check_consistent()?;
        Ok(lc)
    }

    /// The tiles' paths, as text, in order.
    pub fn tile_names(&self) -> Vec<String> {
        self.tiles
            .iter()
            .map(|t| t.path.display().to_string())
            .collect()
    }

    /// The CRS shared by all tiles.
    pub fn crs(&self) -> &Crs {
        &self.tiles[0].grid.crs
    }

    /// Total number of cells over all tiles.
    pub fn cells(&self) -> u64 {
        self.tiles
            .iter()
            .map(|t| (t.grid.width * t.grid.height) as u64)
            .sum()
    }

    fn check_consistent(&self) -> Result<()> {
        let Some(first) = self.tiles.first() else {
            return Err(Error::Invalid("no land-cover raster given".into()));
        };
        let (px, py) = first.grid.transform.pixel_size();
        for t in &self.tiles[1..] {
            if !t.grid.crs.same_as(&first.grid.crs) {
                return Err(Error::GridMismatch {
                    first: first.path.clone(),
                    second: t.path.clone(),
                    reason: format!(
                        "tiles have different CRSs ({} vs {}); reproject them to one CRS with gdalwarp -t_srs",
                        first.grid.crs.label, t.grid.crs.label
                    ),
                });
            }
            let (qx, qy) = t.grid.transform.pixel_size();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
            if !close(px, qx) || !close(py, qy) {
                return Err(Error::GridMismatch {
                    first: first.path.clone(),
                    second: t.path.clone(),
                    reason: format!(
                        "tiles have different pixel sizes ({px}×{py} vs {qx}×{qy}); resample them to one pixel size with gdalwarp -tr"
                    ),
                });
            }
        }
        // Pairwise overlap of bounding boxes (more than a sliver of a cell).
        let cell = first.grid.transform.cell_area();
        for (i, a) in self.tiles.iter().enumerate() {
            let ba = a.grid.bounds();
            for b in &self.tiles[i + 1..] {
                let bb = b.grid.bounds();
                let w = ba.2.min(bb.2) - ba.0.max(bb.0);
                let h = ba.3.min(bb.3) - ba.1.max(bb.1);
                if w > 0.0 && h > 0.0 && w * h > 1e-6 * cell {
                    let same_file = a.path == b.path;
                    return Err(Error::GridMismatch {
                        first: a.path.clone(),
                        second: b.path.clone(),
                        reason: if same_file {
                            "the same raster is given twice".into()
                        } else {
                            format!(
                                "tiles overlap ({:.1} × {:.1} CRS units); give non-overlapping tiles (or a VRT that decides which wins)",
                                w, h
                            )
                        },
                    });
                }
            }
        }
        Ok(())
    }
}

/// Whether a file name looks like a land-cover raster a directory may
/// hold: `.tif`, `.tiff`, `.vrt` or `.img` (any case).
pub(crate) fn is_raster_name(p: &Path) -> bool {
    p.extension().is_some_and(|e| {
        matches!(
            e.to_string_lossy().to_ascii_lowercase().as_str(),
            "tif" | "tiff" | "vrt" | "img"
        )
    })
}

/// The error for a directory without rasters.
pub(crate) fn no_rasters_in(dir: &Path) -> Error {
    Error::open(dir, "directory holds no .tif/.tiff/.vrt/.img rasters")
}

/// Expands inputs into raster paths: a file is taken as is; a directory
/// gives its `.tif`, `.tiff`, `.vrt` and `.img` files (sorted); a pattern
/// with `*`, `?` or `[` is matched against the file system (sorted).
pub fn expand_inputs<S: AsRef<str>>(inputs: &[S]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        let s = input.as_ref();
        let p = Path::new(s);
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::open(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && is_raster_name(f))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(no_rasters_in(p));
            }
            out.extend(found);
        } else if s.contains(['*', '?', '[']) && !p.exists() {
            let mut found: Vec<PathBuf> = glob::glob(s)
                .map_err(|e| Error::Invalid(format!("bad pattern {s:?}: {e}")))?
                .filter_map(|r| r.ok())
                .filter(|f| f.is_file())
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::open(p, "the pattern matches no files"));
            }
            out.extend(found);
        } else {
            out.push(p.to_path_buf());
        }
    }
    Ok(out)
}

/// Reads windows of one tile; one reader per thread (GDAL datasets are not
/// `Sync`).
pub struct TileReader {
    ds: Dataset,
    band: usize,
    path: PathBuf,
    /// Block size and raster size when whole-block windows may be read
    /// block by block straight into the caller's buffer (GeoTIFF only).
    direct: Option<((usize, usize), (usize, usize))>,
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
        let direct = if ds.driver().short_name() == "GTiff" {
            let band = ds
                .rasterband(tile.band)
                .map_err(|e| Error::open(&tile.path, gdal_msg(&e)))?;
            Some((band.block_size(), ds.raster_size()))
        } else {
            None
        };
        Ok(TileReader {
            ds,
            band: tile.band,
            path: tile.path.clone(),
            direct,
        })
    }

    /// Reads `window` into `buf` (row-major, `window.width` per row).
    pub fn read<T: ClassPixel>(&self, window: Window, buf: &mut Vec<T>) -> Result<()> {
        let fail = |reason: String| Error::RasterRead {
            path: self.path.clone(),
            col: window.col,
            row: window.row,
            width: window.width,
            height: window.height,
            reason,
        };
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
        let mut buf = vec![T::default(); size.0 * size.1];
        let band = self
            .ds
            .rasterband(self.band)
            .map_err(|e| Error::raster(&self.path, gdal_msg(&e)))?;
        band.read_into_slice::<T>(
            (window.col as isize, window.row as isize),
            (window.width, window.height),
            size,
            &mut buf,
            None,
        )
        .map_err(|e| Error::RasterRead {
            path: self.path.clone(),
            col: window.col,
            row: window.row,
            width: window.width,
            height: window.height,
            reason: gdal_msg(&e),
        })?;
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

/// Sets GDAL's block cache to `mb` megabytes unless the user set
/// `GDAL_CACHEMAX` in the environment. qingshan reads every block once, in
/// windows aligned to blocks, so the cache only needs to hold the windows
/// being read (about 1 MB per worker for u8); a large cache just costs
/// memory and page faults. The CLI uses 16 MB: measured on a 432-Mpixel
/// set, 16 MB used 81 MB peak RSS against 129 MB at 64 MB and 464 MB at
/// 512 MB, and slightly less CPU.
pub fn configure_gdal_cache(mb: usize) {
    if std::env::var_os("GDAL_CACHEMAX").is_none() {
        let _ = gdal::config::set_config_option("GDAL_CACHEMAX", &format!("{mb}MB"));
    }
}

/// What to write with [`write_class_raster`].
#[derive(Clone, Debug)]
pub struct RasterSpec<'a> {
    /// Grid (size, transform, CRS) of the output.
    pub grid: &'a Grid,
    /// Nodata value to record, if any.
    pub nodata: Option<f64>,
    /// Band description.
    pub description: &'a str,
    /// Dataset metadata items (key, value), e.g. a legend.
    pub metadata: Vec<(String, String)>,
    /// Colour table entries (code, RGB) for u8/u16 outputs.
    pub colors: Vec<(i64, [u8; 3])>,
    /// Leave blocks that are never written empty (they read as 0) instead
    /// of storing them: for masks that cover a small part of a large grid.
    pub sparse: bool,
    /// Threads GDAL may use to compress blocks (its `NUM_THREADS`
    /// creation option); 1 compresses on the writing thread.
    pub threads: usize,
}

/// A one-band class raster being written as a tiled, DEFLATE-compressed
/// GeoTIFF, window by window, into a temporary file beside the target;
/// [`ClassRasterWriter::finish`] renames it into place (dropping the writer
/// unfinished removes it).
pub struct ClassRasterWriter<T: ClassPixel> {
    /// Declared before `out`: the dataset is closed before an uncommitted
    /// output's temporary file is removed.
    ds: Option<Dataset>,
    out: Pending,
    _pixel: std::marker::PhantomData<T>,
}

impl<T: ClassPixel> ClassRasterWriter<T> {
    /// Creates the output (as a temporary file) with the spec's grid, CRS,
    /// nodata, metadata and colours.
    pub fn create(path: &Path, spec: &RasterSpec<'_>) -> Result<Self> {
        use gdal::DriverManager;
        use gdal::Metadata;
        use gdal::raster::{ColorEntry, ColorTable, PaletteInterpretation, RasterCreationOptions};

        let grid = spec.grid;
        let werr = |e: gdal::errors::GdalError| Error::write(path, gdal_msg(&e));
        let out = Pending::beside(path, ".tmp.tif")?;
        let tmp = out.path().to_path_buf();
        let mut writer = ClassRasterWriter {
            ds: None,
            out,
            _pixel: std::marker::PhantomData,
        };
        let driver = DriverManager::get_driver_by_name("GTiff").map_err(werr)?;
        let mut options = RasterCreationOptions::new();
        for (k, v) in [
            ("TILED", "YES"),
            ("BLOCKXSIZE", "256"),
            ("BLOCKYSIZE", "256"),
            ("COMPRESS", "DEFLATE"),
            // DEFLATE level 3: measured on a 108-Mpixel transition raster,
            // 0.81 s and 14.0 MB against 3.07 s and 12.0 MB at GDAL's
            // default level 6.
            ("ZLEVEL", "3"),
            ("BIGTIFF", "IF_SAFER"),
        ] {
            options.set_name_value(k, v).map_err(werr)?;
        }
        if spec.threads > 1 {
            options
                .set_name_value("NUM_THREADS", &spec.threads.to_string())
                .map_err(werr)?;
        }
        if spec.sparse {
            options.set_name_value("SPARSE_OK", "TRUE").map_err(werr)?;
        }
        let mut ds = driver
            .create_with_band_type_with_options::<T, _>(&tmp, grid.width, grid.height, 1, &options)
            .map_err(werr)?;
        ds.set_geo_transform(&grid.transform.0).map_err(werr)?;
        ds.set_spatial_ref(&srs::spatial_ref(&grid.crs)?)
            .map_err(werr)?;
        for (k, v) in &spec.metadata {
            ds.set_metadata_item(k, v, "").map_err(werr)?;
        }
        {
            let mut band = ds.rasterband(1).map_err(werr)?;
            band.set_description(spec.description).map_err(werr)?;
            if let Some(nd) = spec.nodata {
                band.set_no_data_value(Some(nd)).map_err(werr)?;
            }
            if !spec.colors.is_empty() && T::TABLE > 0 && T::TABLE <= 65536 {
                let mut ct = ColorTable::new(PaletteInterpretation::Rgba);
                for (code, [r, g, b]) in &spec.colors {
                    if (0..T::TABLE as i64).contains(code) {
                        ct.set_color_entry(
                            *code as u16,
                            &ColorEntry::rgba(*r as i16, *g as i16, *b as i16, 255),
                        );
                    }
                }
                band.set_color_table(&ct);
            }
        }
        writer.ds = Some(ds);
        Ok(writer)
    }

    /// Writes the pixels of `window` (row major, `window.width` per row).
    pub fn write(&mut self, window: Window, data: Vec<T>) -> Result<Vec<T>> {
        use gdal::raster::Buffer;
        let path = self.out.target().to_path_buf();
        let werr = |e: gdal::errors::GdalError| Error::write(&path, gdal_msg(&e));
        let ds = self
            .ds
            .as_mut()
            .ok_or_else(|| Error::write(&path, "writer already finished"))?;
        let mut band = ds.rasterband(1).map_err(werr)?;
        let mut buf = Buffer::new((window.width, window.height), data);
        band.write(
            (window.col as isize, window.row as isize),
            (window.width, window.height),
            &mut buf,
        )
        .map_err(werr)?;
        Ok(buf.into_shape_and_vec().1)
    }

    /// Closes the file and renames it into place. Whatever fails before
    /// (creating, writing, closing or renaming), the temporary file does
    /// not outlive the writer.
    pub fn finish(mut self) -> Result<()> {
        if let Some(ds) = self.ds.take() {
            ds.close()
                .map_err(|e| Error::write(self.out.target(), gdal_msg(&e)))?;
        }
        self.out.commit()
    }
}

/// Writes a one-band class raster as a tiled, DEFLATE-compressed GeoTIFF,
/// window by window (`fill` gets each window and a buffer to fill, row
/// major). The file is written beside `path` and renamed into place.
pub fn write_class_raster<T: ClassPixel>(
    path: &Path,
    spec: &RasterSpec<'_>,
    mut fill: impl FnMut(Window, &mut [T]) -> Result<()>,
) -> Result<()> {
    let grid = spec.grid;
    let mut writer = ClassRasterWriter::<T>::create(path, spec)?;
    let mut data: Vec<T> = Vec::new();
    for window in grid.windows(grid.width, 256) {
        data.clear();
        data.resize(window.cells(), T::default());
        fill(window, &mut data)?;
        data = writer.write(window, std::mem::take(&mut data))?;
    }
    writer.finish()
}

/// Outlines the connected regions (8-connected) of equal non-zero value of
/// a one-band integer raster with GDAL's polygonize, returning each region's
/// value and polygon in the raster's CRS.
pub fn polygonize(path: &Path) -> Result<Vec<(i64, geo::MultiPolygon<f64>)>> {
    use gdal::vector::{FieldDefn, LayerAccess, LayerOptions, OGRFieldType};
    let ds = open_raster(path)?;
    let band = ds
        .rasterband(1)
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    let driver = gdal::DriverManager::get_driver_by_name("Memory")
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    let mut mem = driver
        .create_vector_only("patches")
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    let srs = ds.spatial_ref().ok();
    let layer = mem
        .create_layer(LayerOptions {
            name: "patches",
            srs: srs.as_ref(),
            ty: gdal::vector::OGRwkbGeometryType::wkbPolygon,
            options: None,
        })
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    FieldDefn::new("code", OGRFieldType::OFTInteger64)
        .and_then(|f| f.add_to_layer(&layer))
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    let mut options = gdal::cpl::CslStringList::new();
    options
        .set_name_value("8CONNECTED", "8")
        .map_err(|e| Error::raster(path, gdal_msg(&e)))?;
    // SAFETY: the band, its mask (the band itself: zero is "no patch") and
    // the layer are live GDAL handles owned by `ds` and `mem`, which outlive
    // the call; the options list is a valid, NULL-terminated string list;
    // no progress callback is passed.
    #[allow(unsafe_code)]
    let err = unsafe {
        gdal_sys::CPLErrorReset();
        gdal_sys::GDALPolygonize(
            band.c_rasterband(),
            band.c_rasterband(),
            layer.c_layer(),
            0,
            options.as_ptr(),
            None,
            std::ptr::null_mut(),
        )
    };
    if err != gdal_sys::CPLErr::CE_None {
        return Err(Error::raster(
            path,
            crate::error::last_cpl_error("GDAL polygonize failed"),
        ));
    }
    let mut layer = layer;
    let mut out = Vec::new();
    for f in layer.features() {
        let code = f.field_as_integer64(0).ok().flatten().unwrap_or(0);
        if code == 0 {
            continue;
        }
        let Some(g) = f.geometry() else { continue };
        match g.to_geo() {
            Ok(geo::Geometry::Polygon(p)) => out.push((code, geo::MultiPolygon(vec![p]))),
            Ok(geo::Geometry::MultiPolygon(mp)) => out.push((code, mp)),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A failed write — in the middle, or when renaming into place —
    /// leaves neither the output nor its temporary file.
    #[test]
    fn failed_writes_leave_no_temporary_file() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/landcover/clcd_2019/clcd_2019_r0c0.tif");
        let grid = Tile::open(&fixture, 1).unwrap().grid;
        let spec = RasterSpec {
            grid: &grid,
            nodata: Some(0.0),
            description: "test",
            metadata: Vec::new(),
            colors: Vec::new(),
            sparse: false,
            threads: 1,
        };
        let dir = tempfile::tempdir().unwrap();
        let entries = || std::fs::read_dir(dir.path()).unwrap().count();
        // The fill fails on the second window.
        let mut n = 0;
        let err = write_class_raster::<u8>(&dir.path().join("a.tif"), &spec, |_, _| {
            n += 1;
            if n == 2 {
                Err(Error::Invalid("stop".into()))
            } else {
                Ok(())
            }
        });
        assert!(err.is_err());
        assert_eq!(entries(), 0);
        // The target is a directory: the rename fails.
        let target = dir.path().join("b.tif");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        let err = write_class_raster::<u8>(&target, &spec, |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().contains("b.tif"), "{err}");
        assert_eq!(entries(), 1);
        assert!(target.join("keep").exists());
    }

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

    fn naive<T: Copy + PartialEq>(cells: &[T]) -> Vec<(T, u32)> {
        let mut out: Vec<(T, u32)> = Vec::new();
        for &v in cells {
            match out.last_mut() {
                Some((w, n)) if *w == v => *n += 1,
                _ => out.push((v, 1)),
            }
        }
        out
    }

    /// Cells as streaks: (value, length) pairs expanded.
    fn expand<T: Copy>(streaks: &[(T, usize)]) -> Vec<T> {
        streaks
            .iter()
            .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
            .collect()
    }

    proptest! {
        #[test]
        fn streaks_match_a_naive_scan(streaks in proptest::collection::vec((0u8..4, 1usize..40), 0..60)) {
            let bytes: Vec<u8> = expand(&streaks);
            let mut got = Vec::new();
            for_each_streak(&bytes, |v, n| got.push((v, n)));
            prop_assert_eq!(&got, &naive(&bytes));
            // The same through the generic path (16-bit cells).
            let wide: Vec<u16> = bytes.iter().map(|&b| b as u16 * 300).collect();
            let mut got16 = Vec::new();
            for_each_streak(&wide, |v, n| got16.push((v, n)));
            prop_assert_eq!(got16, naive(&wide));
        }

        #[test]
        fn pair_streaks_match_a_naive_scan(
            // Byte values whose differences set high, low and all bits;
            // streaks short and longer than the 64-cell masks.
            a in proptest::collection::vec((proptest::sample::select(vec![0u8, 1, 0x7f, 0x80, 0xfe, 0xff]), 1usize..90), 1..40),
            b in proptest::collection::vec((0u8..3, 1usize..30), 1..40),
        ) {
            let (x, y) = (expand(&a), expand(&b));
            let len = x.len().min(y.len());
            let (x, y) = (&x[..len], &y[..len]);
            let pairs: Vec<(u8, u8)> = x.iter().copied().zip(y.iter().copied()).collect();
            let mut got = Vec::new();
            for_each_pair_streak(x, y, |p, q, n| got.push(((p, q), n)));
            prop_assert_eq!(got, naive(&pairs));
        }
    }
}
