//! Writing land-cover GeoTIFFs (tiled, DEFLATE, colour table) and VRT
//! mosaics over them, byte-deterministically.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gdal::raster::{Buffer, ColorEntry, ColorTable, PaletteInterpretation, RasterCreationOptions};
use gdal::{DriverManager, GeoTransform, Metadata};

use crate::error::{GdalContext, Result, io};
use crate::vector_io::srs;

/// The band description of every land-cover raster.
pub(crate) const BAND_DESCRIPTION: &str = "CLCD land cover";

/// CLCD-like colours (index = class code; 0 = nodata, transparent).
pub(crate) const CLCD_COLOURS: [(i16, i16, i16, i16); 10] = [
    (0, 0, 0, 0),
    (250, 227, 156, 255), // 1 cropland
    (68, 111, 51, 255),   // 2 forest
    (51, 160, 44, 255),   // 3 shrub
    (171, 211, 123, 255), // 4 grassland
    (30, 105, 180, 255),  // 5 water
    (166, 206, 227, 255), // 6 snow/ice
    (207, 189, 163, 255), // 7 barren
    (226, 66, 144, 255),  // 8 impervious
    (40, 155, 232, 255),  // 9 wetland
];

/// A north-up grid: origin (top-left corner), pixel size, size in cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Grid {
    pub x0: f64,
    pub y0: f64,
    pub dx: f64,
    pub dy: f64,
    pub width: usize,
    pub height: usize,
}

impl Grid {
    pub(crate) fn geo_transform(&self) -> GeoTransform {
        [self.x0, self.dx, 0.0, self.y0, 0.0, -self.dy]
    }
    /// Centre of cell (col, row).
    pub(crate) fn centre(&self, col: usize, row: usize) -> (f64, f64) {
        (
            self.x0 + (col as f64 + 0.5) * self.dx,
            self.y0 - (row as f64 + 0.5) * self.dy,
        )
    }
    /// The sub-grid starting at (col, row).
    pub(crate) fn window(&self, col: usize, row: usize, width: usize, height: usize) -> Grid {
        Grid {
            x0: self.x0 + col as f64 * self.dx,
            y0: self.y0 - row as f64 * self.dy,
            width,
            height,
            ..*self
        }
    }
}

/// Splits `n` cells into `parts` nearly equal runs, optionally with explicit sizes.
pub(crate) fn split(n: usize, parts: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for k in 0..parts {
        let end = n * (k + 1) / parts;
        out.push((start, end - start));
        start = end;
    }
    out
}

/// GeoTIFF creation options used for every land-cover raster.
pub(crate) fn gtiff_options(
    block: usize,
    zlevel: u32,
    predictor: bool,
) -> Result<RasterCreationOptions> {
    let mut o = RasterCreationOptions::new();
    let b = block.to_string();
    let z = zlevel.to_string();
    for (k, v) in [
        ("TILED", "YES"),
        ("BLOCKXSIZE", b.as_str()),
        ("BLOCKYSIZE", b.as_str()),
        ("COMPRESS", "DEFLATE"),
        ("ZLEVEL", z.as_str()),
        ("PREDICTOR", if predictor { "2" } else { "1" }),
        ("INTERLEAVE", "BAND"),
        ("SPARSE_OK", "FALSE"),
        ("BIGTIFF", "NO"),
        ("NUM_THREADS", "1"),
        ("GEOTIFF_VERSION", "1.1"),
    ] {
        o.set_name_value(k, v)
            .ctx(|| "building GeoTIFF options".into())?;
    }
    Ok(o)
}

/// How to write a land-cover GeoTIFF.
pub(crate) struct TiffSpec<'a> {
    pub path: &'a Path,
    pub grid: Grid,
    pub epsg: u32,
    pub block: usize,
    pub zlevel: u32,
    pub predictor: bool,
}

/// An open land-cover GeoTIFF being written row block by row block.
pub(crate) struct TiffWriter {
    ds: gdal::Dataset,
    path: PathBuf,
    width: usize,
}

impl TiffWriter {
    /// Creates the file (replacing an existing one) with georeferencing,
    /// nodata, colour table and band description.
    pub(crate) fn create(spec: &TiffSpec<'_>) -> Result<TiffWriter> {
        let path = spec.path;
        let what = || format!("writing {}", path.display());
        if let Some(dir) = path.parent() {
            io(std::fs::create_dir_all(dir), dir)?;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return io(Err(e), path),
        }
        let g = spec.grid;
        let drv = DriverManager::get_driver_by_name("GTiff").ctx(what)?;
        let opts = gtiff_options(spec.block, spec.zlevel, spec.predictor)?;
        let mut ds = drv
            .create_with_band_type_with_options::<u8, _>(path, g.width, g.height, 1, &opts)
            .ctx(what)?;
        ds.set_geo_transform(&g.geo_transform()).ctx(what)?;
        ds.set_spatial_ref(&srs(spec.epsg)?).ctx(what)?;
        {
            let mut band = ds.rasterband(1).ctx(what)?;
            band.set_no_data_value(Some(0.0)).ctx(what)?;
            let mut ct = ColorTable::new(PaletteInterpretation::Rgba);
            for (i, c) in CLCD_COLOURS.iter().enumerate() {
                ct.set_color_entry(i as u16, &ColorEntry::rgba(c.0, c.1, c.2, c.3));
            }
            band.set_color_table(&ct);
            band.set_description(BAND_DESCRIPTION).ctx(what)?;
        }
        Ok(TiffWriter {
            ds,
            path: path.to_path_buf(),
            width: g.width,
        })
    }

    /// Writes `rows` full rows starting at `row`.
    pub(crate) fn write_rows(&mut self, row: usize, rows: usize, data: &[u8]) -> Result<()> {
        let what = || format!("writing {}", self.path.display());
        let mut band = self.ds.rasterband(1).ctx(what)?;
        let mut b = Buffer::new((self.width, rows), data[..self.width * rows].to_vec());
        band.write((0, row as isize), (self.width, rows), &mut b)
            .ctx(what)
    }

    /// Flushes and closes the file.
    pub(crate) fn finish(self) -> Result<()> {
        let path = self.path;
        self.ds
            .close()
            .ctx(|| format!("writing {}", path.display()))
    }
}

/// Writes a UInt8 land-cover GeoTIFF, `fill(grid, first_row, rows, buf)`
/// producing `rows` full rows at a time (one block row), so memory stays at
/// one block row.
pub(crate) fn write_tiff(
    spec: &TiffSpec<'_>,
    mut fill: impl FnMut(&Grid, usize, usize, &mut [u8]),
) -> Result<()> {
    let g = spec.grid;
    let mut w = TiffWriter::create(spec)?;
    let rows_per = spec.block;
    let mut buf = vec![0u8; g.width * rows_per.min(g.height)];
    let mut row = 0;
    while row < g.height {
        let rows = rows_per.min(g.height - row);
        let data = &mut buf[..g.width * rows];
        fill(&g, row, rows, data);
        w.write_rows(row, rows, data)?;
        row += rows;
    }
    w.finish()
}

/// Formats like C's `%24.16e` (what GDAL writes into VRTs).
fn c_exp(v: f64) -> String {
    let r = format!("{v:.16e}");
    let (mant, exp) = r.split_once('e').unwrap_or((&r, "0"));
    let e: i32 = exp.parse().unwrap_or(0);
    let sign = if e < 0 { '-' } else { '+' };
    format!("{:>24}", format!("{mant}e{sign}{:02}", e.abs()))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One source tile of a VRT: its path relative to the VRT and its offset.
pub(crate) struct VrtTile {
    pub rel_path: String,
    pub col: usize,
    pub row: usize,
    pub width: usize,
    pub height: usize,
}

/// Writes a VRT mosaic over aligned tiles with paths relative to the VRT.
/// The CRS must have its first axis north (as EPSG:4545 and EPSG:4490).
pub(crate) fn write_vrt(
    path: &Path,
    grid: &Grid,
    epsg: u32,
    block: usize,
    tiles: &[VrtTile],
) -> Result<()> {
    let wkt = srs(epsg)?
        .to_wkt()
        .ctx(|| format!("writing {}", path.display()))?;
    let gt = grid.geo_transform();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<VRTDataset rasterXSize=\"{}\" rasterYSize=\"{}\">",
        grid.width, grid.height
    );
    // EPSG:4545 (northing, easting) and EPSG:4490 (lat, lon) both have
    // their first axis north; the data's x is the CRS's second axis.
    let _ = writeln!(
        s,
        "  <SRS dataAxisToSRSAxisMapping=\"2,1\">{}</SRS>",
        xml_escape(&wkt)
    );
    let gts: Vec<String> = gt.iter().map(|v| c_exp(*v)).collect();
    let _ = writeln!(s, "  <GeoTransform>{}</GeoTransform>", gts.join(","));
    s.push_str("  <VRTRasterBand dataType=\"Byte\" band=\"1\">\n");
    let _ = writeln!(
        s,
        "    <Description>{}</Description>",
        xml_escape(BAND_DESCRIPTION)
    );
    s.push_str("    <NoDataValue>0</NoDataValue>\n");
    s.push_str("    <ColorInterp>Palette</ColorInterp>\n    <ColorTable>\n");
    for c in CLCD_COLOURS {
        let _ = writeln!(
            s,
            "      <Entry c1=\"{}\" c2=\"{}\" c3=\"{}\" c4=\"{}\" />",
            c.0, c.1, c.2, c.3
        );
    }
    s.push_str("    </ColorTable>\n");
    for t in tiles {
        s.push_str("    <SimpleSource>\n");
        let _ = writeln!(
            s,
            "      <SourceFilename relativeToVRT=\"1\">{}</SourceFilename>",
            xml_escape(&t.rel_path)
        );
        s.push_str("      <SourceBand>1</SourceBand>\n");
        let _ = writeln!(
            s,
            "      <SourceProperties RasterXSize=\"{}\" RasterYSize=\"{}\" DataType=\"Byte\" BlockXSize=\"{}\" BlockYSize=\"{}\" />",
            t.width, t.height, block, block
        );
        let _ = writeln!(
            s,
            "      <SrcRect xOff=\"0\" yOff=\"0\" xSize=\"{}\" ySize=\"{}\" />",
            t.width, t.height
        );
        let _ = writeln!(
            s,
            "      <DstRect xOff=\"{}\" yOff=\"{}\" xSize=\"{}\" ySize=\"{}\" />",
            t.col, t.row, t.width, t.height
        );
        s.push_str("    </SimpleSource>\n");
    }
    s.push_str("  </VRTRasterBand>\n</VRTDataset>\n");
    io(std::fs::write(path, s), path)
}

/// Path of `p` relative to directory `base` (both under a common root).
pub(crate) fn rel(p: &Path, base: &Path) -> String {
    let r: PathBuf = p
        .strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| p.to_path_buf());
    r.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// An Int16 GeoTIFF of heights or index values: tiled 128 × 128, DEFLATE
/// level 9 with PREDICTOR=2, EPSG:4545.
pub(crate) struct Int16Tiff<'a> {
    pub path: &'a Path,
    pub grid: Grid,
    pub nodata: i16,
    pub description: &'a str,
    /// The band's scale (value = stored × scale), when it has one.
    pub scale: Option<f64>,
}

/// Writes `data` (row major, the grid's size) as an Int16 GeoTIFF,
/// replacing a file of that name.
pub(crate) fn write_int16(spec: &Int16Tiff<'_>, data: Vec<i16>) -> Result<()> {
    let (path, g) = (spec.path, spec.grid);
    let what = || format!("writing {}", path.display());
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return io(Err(e), path),
    }
    let drv = DriverManager::get_driver_by_name("GTiff").ctx(what)?;
    let opts = gtiff_options(128, 9, true)?;
    let mut ds = drv
        .create_with_band_type_with_options::<i16, _>(path, g.width, g.height, 1, &opts)
        .ctx(what)?;
    ds.set_geo_transform(&g.geo_transform()).ctx(what)?;
    ds.set_spatial_ref(&srs(4545)?).ctx(what)?;
    {
        let mut band = ds.rasterband(1).ctx(what)?;
        band.set_no_data_value(Some(spec.nodata as f64)).ctx(what)?;
        if let Some(scale) = spec.scale {
            band.set_scale(scale).ctx(what)?;
            band.set_offset(0.0).ctx(what)?;
        }
        band.set_description(spec.description).ctx(what)?;
        let mut b = Buffer::new((g.width, g.height), data);
        band.write((0, 0), (g.width, g.height), &mut b).ctx(what)?;
    }
    ds.close().ctx(what)
}
