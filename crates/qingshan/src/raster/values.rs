//! Continuous rasters — elevations (DEMs), vegetation indices (NDVI, FVC),
//! productivity (NPP): any numeric band, integer or floating point, read
//! as `f64` with nodata, NaN, ±inf and masked cells as NaN, the band's
//! scale and offset applied (and, for heights, its unit converted to
//! metres). Several tiles on one grid are one mosaic: a window of the
//! mosaic may span tiles, so that a 3×3 neighbourhood crosses tile edges
//! as if the tiles were one file (`gdalbuildvrt` of the tiles, gaps as
//! nodata).
//!
//! Invariant: a mosaic window read holds, for every cell, the value of
//! the one tile covering it, or NaN where no tile does or the tile says
//! nodata.

use std::path::{Path, PathBuf};

use gdal::raster::GdalDataType;
use gdal::{Dataset, Metadata};
use serde::{Deserialize, Serialize};

use super::{Depth, Gridded, discover_rasters, open_raster};
use crate::area::AreaMode;
use crate::error::gdal_msg;
use crate::grid::{Crs, GeoTransform, Grid, Misfit, Window};
use crate::{Error, Result};

/// One file (or VRT) of an elevation source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueTile {
    /// The file.
    pub path: PathBuf,
    /// Its grid.
    pub grid: Grid,
    /// Band number (1-based) holding the heights.
    pub band: usize,
    /// Natural block size `(width, height)`.
    pub block: (usize, usize),
    /// The band's nodata value.
    pub nodata: Option<f64>,
    /// The band is Float32: its nodata value, given as an `f64`, is also
    /// compared rounded to `f32` (what the cells hold).
    #[serde(default)]
    pub float32: bool,
    /// The band has a colour table: a class raster, most likely.
    #[serde(default)]
    pub color_table: bool,
    /// Int8 data (GDAL 3.6 marks it as Byte with `PIXELTYPE=SIGNEDBYTE`):
    /// stored bytes above 127 are the negatives −128 … −1.
    #[serde(default)]
    pub signed_byte: bool,
    /// The band has a mask (per-dataset mask, alpha band): masked cells
    /// are nodata.
    pub mask: bool,
    /// Where its first cell lies in the mosaic `(col, row)`.
    pub offset: (usize, usize),
    /// Metres per unit of its heights (the band's unit type: 0.3048 for
    /// feet, 0.01 for centimetres; 1 for metres, no unit, or values that
    /// are not heights).
    #[serde(default = "one")]
    pub z_to_m: f64,
    /// Scale applied to the stored numbers (`value = stored × scale +
    /// offset`).
    #[serde(default = "one")]
    pub scale: f64,
    /// Offset added after the scale.
    #[serde(default)]
    pub add: f64,
}

fn one() -> f64 {
    1.0
}

/// How the stored numbers of a value raster become values.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum ScaleOffset {
    /// The band's own scale and offset (GDAL metadata), if it has them:
    /// what the file says its numbers mean.
    #[default]
    File,
    /// The stored numbers as they are.
    None,
    /// This scale and offset (`value = stored × scale + offset`), for
    /// files that do not say (NDVI stored as integers × 10000: 0.0001, 0).
    Given(f64, f64),
}

impl ScaleOffset {
    /// Parses `file` (the band's own, the default), `none`, or
    /// `SCALE,OFFSET` (e.g. `0.0001,0` for NDVI stored × 10000; a lone
    /// `SCALE` has offset 0).
    pub fn parse(text: &str) -> Result<ScaleOffset> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "file" | "" => return Ok(ScaleOffset::File),
            "none" | "raw" => return Ok(ScaleOffset::None),
            _ => {}
        }
        let nums: Option<Vec<f64>> = t.split(',').map(|p| p.trim().parse::<f64>().ok()).collect();
        match nums.as_deref() {
            Some(&[s, o]) if s.is_finite() && o.is_finite() && s != 0.0 => {
                Ok(ScaleOffset::Given(s, o))
            }
            Some(&[s]) if s.is_finite() && s != 0.0 => Ok(ScaleOffset::Given(s, 0.0)),
            _ => Err(Error::Invalid(format!(
                "--scale-offset {text:?}: give file (the band's own), none, or SCALE,OFFSET with a non-zero scale (e.g. 0.0001,0)"
            ))),
        }
    }
}

/// What a value raster holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reading {
    /// Heights: converted to metres by the band's unit; scale and offset
    /// as the file says.
    Heights,
    /// Any other quantity, scaled as asked; units left alone.
    Values(ScaleOffset),
}

/// Metres per height unit, for the unit names GDAL bands carry; `None`
/// for a name not known.
fn metres_per_unit(unit: &str) -> Option<f64> {
    let u = unit.trim().to_ascii_lowercase().replace(['_', '-'], " ");
    Some(match u.as_str() {
        "" | "m" | "metre" | "meter" | "metres" | "meters" | "米" => 1.0,
        "ft" | "foot" | "feet" | "international foot" | "intl foot" => 0.3048,
        "us ft" | "ftus" | "ft us" | "us survey foot" | "foot us" | "us survey feet"
        | "us foot" => 1200.0 / 3937.0,
        "dm" | "decimetre" | "decimeter" | "decimetres" | "decimeters" => 0.1,
        "cm" | "centimetre" | "centimeter" | "centimetres" | "centimeters" => 0.01,
        "mm" | "millimetre" | "millimeter" | "millimetres" | "millimeters" => 0.001,
        "km" | "kilometre" | "kilometer" | "kilometres" | "kilometers" => 1000.0,
        _ => return None,
    })
}

impl Gridded for ValueTile {
    fn grid(&self) -> &Grid {
        &self.grid
    }
    fn path(&self) -> &Path {
        &self.path
    }
    fn block(&self) -> (usize, usize) {
        self.block
    }
}

/// An elevation source: one DEM, a VRT, or tiles on one grid (same CRS,
/// pixel size, cells lined up, not overlapping), north up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueRaster {
    /// The tiles, in the order given.
    pub tiles: Vec<ValueTile>,
    /// The mosaic: the grid spanning every tile.
    pub grid: Grid,
    /// How cells (and zones measured on them) are measured.
    #[serde(skip)]
    pub area: AreaMode,
    /// Things the user should know about the heights (units, scale).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl ValueRaster {
    /// Opens one or more elevation rasters (files, VRTs, directories,
    /// globs, `.txt` lists) as one mosaic of heights in metres (at least
    /// 2 × 2 cells, as slope needs).
    pub fn open<S: AsRef<str>>(inputs: &[S], band: usize) -> Result<ValueRaster> {
        let dem = Self::open_as(inputs, band, Reading::Heights)?;
        let g = &dem.grid;
        if g.width < 2 || g.height < 2 {
            return Err(Error::raster(
                &dem.tiles[0].path,
                format!(
                    "is {} × {} cells; slope needs at least 2 × 2",
                    g.width, g.height
                ),
            ));
        }
        Ok(dem)
    }

    /// Opens one or more rasters of any continuous quantity (NDVI, NPP,
    /// temperature) as one mosaic, scaled as `scale` says; units are not
    /// touched.
    pub fn open_values<S: AsRef<str>>(
        inputs: &[S],
        band: usize,
        scale: ScaleOffset,
    ) -> Result<ValueRaster> {
        Self::open_as(inputs, band, Reading::Values(scale))
    }

    fn open_as<S: AsRef<str>>(inputs: &[S], band: usize, how: Reading) -> Result<ValueRaster> {
        let paths = discover_rasters(inputs, Depth::Top)?;
        let mut tiles = Vec::with_capacity(paths.len());
        let mut warnings = Vec::new();
        for p in &paths {
            let (tile, mut notes) = open_tile(p, band, how)?;
            tiles.push(tile);
            warnings.append(&mut notes);
        }
        warnings.dedup();
        let grid = mosaic(&mut tiles)?;
        Ok(ValueRaster {
            tiles,
            grid,
            area: AreaMode::default(),
            warnings,
        })
    }

    /// The same raster measured under `area`.
    pub fn with_area(mut self, area: AreaMode) -> ValueRaster {
        self.area = area;
        self
    }

    /// Its files, as a message names them.
    pub fn label(&self) -> String {
        super::tiles_label(&self.tiles)
    }

    /// The CRS of every tile.
    pub fn crs(&self) -> &Crs {
        &self.grid.crs
    }

    /// Window `w` of tile `tile`, in the mosaic's cells.
    pub fn mosaic_window(&self, tile: usize, w: Window) -> Window {
        let t = &self.tiles[tile];
        Window {
            col: w.col + t.offset.0,
            row: w.row + t.offset.1,
            ..w
        }
    }

    /// Every file GDAL reads for it.
    pub fn files(&self) -> Vec<PathBuf> {
        self.tiles
            .iter()
            .flat_map(|t| super::dataset_files(&t.path))
            .collect()
    }
}

/// Whether a grid is north up: no rotation, columns running east and
/// rows running south (what slope and the cell-centre rule assume).
pub fn north_up(t: &GeoTransform) -> bool {
    t.is_north_up() && t.0[1] > 0.0 && t.0[5] < 0.0
}

/// Metres per unit of a height band with unit `unit`, noting conversions
/// and units not known.
fn height_unit(path: &Path, unit: &str, notes: &mut Vec<String>) -> f64 {
    match metres_per_unit(unit) {
        Some(f) => {
            if f != 1.0 {
                notes.push(format!(
                    "{}: heights are in {unit:?}; converted to metres (× {f})",
                    path.display()
                ));
            }
            f
        }
        None => {
            notes.push(format!(
                "{}: the height unit {unit:?} is not one qingshan knows; heights are taken as metres (set the unit with `gdal_edit.py -units m` if they are)",
                path.display()
            ));
            1.0
        }
    }
}

/// The band's nodata value; on a Float32 band, a value written within
/// 1e-5 of ±FLT_MAX (`-3.40282e+38`, FLT_MAX printed short) is ±FLT_MAX,
/// as GDAL's own mask takes it.
fn nodata_of(b: &gdal::raster::RasterBand<'_>) -> Option<f64> {
    let nd = b.no_data_value()?;
    let max = f32::MAX as f64;
    if matches!(b.band_type(), GdalDataType::Float32)
        && nd.is_finite()
        && (nd.abs() - max).abs() <= 1e-5 * max
    {
        return Some(max.copysign(nd));
    }
    Some(nd)
}

/// Reads a tile's header.
fn open_tile(path: &Path, band: usize, how: Reading) -> Result<(ValueTile, Vec<String>)> {
    let ds = open_raster(path)?;
    super::check_band(&ds, path, band)?;
    let b = ds
        .rasterband(band)
        .map_err(|e| Error::open(path, gdal_msg(&e)))?;
    if matches!(b.band_type(), GdalDataType::Unknown) {
        return Err(Error::raster(path, "band type is not numeric"));
    }
    let (crs, transform, (width, height)) = super::georeferencing(&ds, path)?;
    if !north_up(&transform) {
        return Err(Error::raster(
            path,
            "is not north up (rotated, or its rows or columns run backwards); warp it with `gdalwarp` first",
        ));
    }
    let mut notes = Vec::new();
    let z_to_m = match how {
        Reading::Heights => height_unit(path, &b.unit(), &mut notes),
        Reading::Values(_) => 1.0,
    };
    if b.color_table().is_some() {
        notes.push(format!(
            "{}: band {band} has a colour table: it looks like a class raster, not {}",
            path.display(),
            if how == Reading::Heights {
                "heights"
            } else {
                "continuous values"
            }
        ));
    }
    let file = (b.scale().unwrap_or(1.0), b.offset().unwrap_or(0.0));
    let (scale, offset) = match how {
        Reading::Heights | Reading::Values(ScaleOffset::File) => file,
        Reading::Values(ScaleOffset::None) => (1.0, 0.0),
        Reading::Values(ScaleOffset::Given(s, o)) => (s, o),
    };
    if !scale.is_finite() || !offset.is_finite() || scale == 0.0 {
        return Err(Error::raster(
            path,
            format!("scale {scale} and offset {offset} cannot turn its numbers into values"),
        ));
    }
    // Heights: the scale is worth a word (a DEM rarely has one). Values:
    // the file's own scale is what its numbers mean (NDVI × 10000 with
    // scale 0.0001); only a choice that differs from it is noted.
    if (scale, offset) != file && (scale, offset) != (1.0, 0.0) {
        notes.push(format!(
            "{}: the given scale {scale} and offset {offset} are applied to its numbers{}",
            path.display(),
            if file != (1.0, 0.0) {
                format!(" (the band's own are {} and {})", file.0, file.1)
            } else {
                String::new()
            }
        ));
    } else if (scale, offset) == file && file != (1.0, 0.0) && how == Reading::Heights {
        notes.push(format!(
            "{}: the band's scale {scale} and offset {offset} are applied to its heights",
            path.display()
        ));
    } else if (scale, offset) != file {
        notes.push(format!(
            "{}: the band's scale {} and offset {} are not applied (as asked)",
            path.display(),
            file.0,
            file.1
        ));
    }
    let signed_byte = matches!(b.band_type(), GdalDataType::UInt8)
        && b.metadata_item("PIXELTYPE", "IMAGE_STRUCTURE").as_deref() == Some("SIGNEDBYTE");
    let mask = b
        .mask_flags()
        .is_ok_and(|f| !f.is_all_valid() && !f.is_nodata());
    let block = b.block_size();
    Ok((
        ValueTile {
            path: path.to_path_buf(),
            grid: Grid {
                transform,
                width,
                height,
                crs,
            },
            band,
            block: (block.0.max(1), block.1.max(1)),
            nodata: nodata_of(&b),
            float32: matches!(b.band_type(), GdalDataType::Float32),
            signed_byte,
            color_table: b.color_table().is_some(),
            mask,
            offset: (0, 0),
            z_to_m,
            scale,
            add: offset,
        },
        notes,
    ))
}

/// Places tiles on one grid: sets each tile's offset and returns the
/// mosaic's grid. Tiles must line up cell for cell and not overlap.
fn mosaic(tiles: &mut [ValueTile]) -> Result<Grid> {
    let Some(first) = tiles.first() else {
        return Err(Error::Invalid("no raster given".into()));
    };
    let base = first.grid.clone();
    let base_path = first.path.clone();
    let mut at = Vec::with_capacity(tiles.len());
    for t in tiles.iter() {
        let (c, r) = base.cell_offset(&t.grid).map_err(|m| {
            let why = match m {
                Misfit::Crs => "different CRSs".to_string(),
                Misfit::PixelSize => "different pixel sizes".to_string(),
                Misfit::Shifted(dc, dr) => {
                    format!("cells shifted by {dc:.3} × {dr:.3} of a cell")
                }
            };
            Error::GridMismatch {
                first: base_path.clone(),
                second: t.path.clone(),
                reason: format!(
                    "tiles are not on one grid ({why}); warp them onto one grid with `gdalwarp -tap -tr`"
                ),
            }
        })?;
        at.push((c, r));
    }
    let c0 = at.iter().map(|a| a.0).min().unwrap_or(0);
    let r0 = at.iter().map(|a| a.1).min().unwrap_or(0);
    let mut width = 0usize;
    let mut height = 0usize;
    for (t, &(c, r)) in tiles.iter_mut().zip(&at) {
        t.offset = ((c - c0) as usize, (r - r0) as usize);
        width = width.max(t.offset.0 + t.grid.width);
        height = height.max(t.offset.1 + t.grid.height);
    }
    for (i, a) in tiles.iter().enumerate() {
        for b in &tiles[i + 1..] {
            let w = (a.offset.0 + a.grid.width).min(b.offset.0 + b.grid.width) as i64
                - a.offset.0.max(b.offset.0) as i64;
            let h = (a.offset.1 + a.grid.height).min(b.offset.1 + b.grid.height) as i64
                - a.offset.1.max(b.offset.1) as i64;
            if w > 0 && h > 0 {
                return Err(Error::GridMismatch {
                    first: a.path.clone(),
                    second: b.path.clone(),
                    reason: if a.path == b.path {
                        "the same raster is given twice".into()
                    } else {
                        format!(
                            "tiles overlap by {w} × {h} cells; give non-overlapping tiles (or a VRT that decides which wins)"
                        )
                    },
                });
            }
        }
    }
    let mut transform = base.transform;
    let (x, y) = base.transform.to_map(c0 as f64, r0 as f64);
    transform.0[0] = x;
    transform.0[3] = y;
    Ok(Grid {
        transform,
        width,
        height,
        crs: base.crs,
    })
}

/// Reads windows of an elevation mosaic; one per worker thread (GDAL
/// datasets are not `Sync`). Opens a tile's dataset on first use and keeps
/// the last few open (each open GeoTIFF holds its block index: hundreds of
/// tiles open per worker would grow memory with the DEM).
#[derive(Default)]
pub struct ValueReader {
    /// (tile index, dataset), most recently used last.
    open: Vec<(usize, Dataset)>,
    scratch: Vec<u8>,
}

/// Datasets an [`ValueReader`] keeps open.
const KEEP_OPEN: usize = 8;

impl ValueReader {
    /// The dataset of tile `i`, opened on first use.
    fn dataset(&mut self, dem: &ValueRaster, i: usize) -> Result<&Dataset> {
        match self.open.iter().position(|(k, _)| *k == i) {
            Some(pos) => {
                let entry = self.open.remove(pos);
                self.open.push(entry);
            }
            None => {
                if self.open.len() >= KEEP_OPEN {
                    self.open.remove(0);
                }
                self.open.push((i, open_raster(&dem.tiles[i].path)?));
            }
        }
        Ok(&self.open.last().expect("just pushed").1)
    }
}

impl ValueReader {
    /// Reads `window` of the mosaic (its cells row major, `window.width`
    /// per row) into `buf` as values (heights in metres), NaN where nodata.
    pub fn read(&mut self, dem: &ValueRaster, window: Window, buf: &mut Vec<f64>) -> Result<()> {
        buf.clear();
        buf.resize(window.cells(), f64::NAN);
        let mut part = Vec::new();
        for (i, t) in dem.tiles.iter().enumerate() {
            let tw = Window {
                col: t.offset.0,
                row: t.offset.1,
                width: t.grid.width,
                height: t.grid.height,
            };
            let (c0, r0) = (window.col.max(tw.col), window.row.max(tw.row));
            let (c1, r1) = (
                window.col_end().min(tw.col_end()),
                window.row_end().min(tw.row_end()),
            );
            if c0 >= c1 || r0 >= r1 {
                continue;
            }
            let hit = Window {
                col: c0,
                row: r0,
                width: c1 - c0,
                height: r1 - r0,
            };
            let local = Window {
                col: hit.col - t.offset.0,
                row: hit.row - t.offset.1,
                width: hit.width,
                height: hit.height,
            };
            let mut scratch = std::mem::take(&mut self.scratch);
            let ds = self.dataset(dem, i)?;
            if hit == window {
                // The whole window in one tile: straight into the buffer.
                read_heights(ds, t, local, buf, &mut scratch)?;
                self.scratch = scratch;
                return Ok(());
            }
            read_heights(ds, t, local, &mut part, &mut scratch)?;
            self.scratch = scratch;
            for r in 0..hit.height {
                let dst = (hit.row - window.row + r) * window.width + (hit.col - window.col);
                buf[dst..dst + hit.width]
                    .copy_from_slice(&part[r * hit.width..(r + 1) * hit.width]);
            }
        }
        Ok(())
    }
}

/// Reads `window` of one tile as metres, NaN for nodata and masked cells.
fn read_heights(
    ds: &Dataset,
    t: &ValueTile,
    window: Window,
    out: &mut Vec<f64>,
    scratch: &mut Vec<u8>,
) -> Result<()> {
    let fail = |reason: String| Error::RasterRead {
        path: t.path.clone(),
        col: window.col,
        row: window.row,
        width: window.width,
        height: window.height,
        reason,
    };
    let band = ds.rasterband(t.band).map_err(|e| fail(gdal_msg(&e)))?;
    out.resize(window.cells(), 0.0);
    let at = (window.col as isize, window.row as isize);
    let size = (window.width, window.height);
    band.read_into_slice::<f64>(at, size, size, out, None)
        .map_err(|e| fail(gdal_msg(&e)))?;
    if t.signed_byte {
        for v in out.iter_mut() {
            if *v > 127.0 {
                *v -= 256.0;
            }
        }
    }
    if let Some(nd) = t.nodata {
        // Values are read as f64 from the band's own type: a nodata value
        // of that type compares exactly; a Float32 band's nodata given as
        // f64 is compared at f32 too (never an integer band's: −2147483647
        // rounds to −2147483648, a value an Int32 cell may hold).
        let nd32 = if t.float32 { nd as f32 as f64 } else { nd };
        for v in out.iter_mut() {
            if *v == nd || *v == nd32 {
                *v = f64::NAN;
            }
        }
    }
    let (scale, offset) = (t.scale, t.add);
    if scale != 1.0 || offset != 0.0 || t.z_to_m != 1.0 {
        for v in out.iter_mut() {
            *v = (*v * scale + offset) * t.z_to_m;
        }
    }
    // Infinite heights are no heights (a slope next to one would be 90°).
    for v in out.iter_mut() {
        if v.is_infinite() {
            *v = f64::NAN;
        }
    }
    if t.mask {
        let mask = band.open_mask_band().map_err(|e| fail(gdal_msg(&e)))?;
        scratch.resize(window.cells(), 0);
        mask.read_into_slice::<u8>(at, size, size, scratch, None)
            .map_err(|e| fail(gdal_msg(&e)))?;
        for (v, &m) in out.iter_mut().zip(scratch.iter()) {
            if m == 0 {
                *v = f64::NAN;
            }
        }
    }
    Ok(())
}
