//! PNG maps drawn by qingshan itself: land cover in the legend's colours,
//! forest loss and gain, with zone and red-line outlines and filled areas.
//!
//! A [`MapImage`] is an RGBA image with a geotransform: rasters are read
//! through GDAL at the image's resolution (nearest neighbour, so memory is
//! the image's size whatever the raster's), polygons are filled with exact
//! coverage fractions (the [`crate::coverage`] algorithm on the image grid,
//! so edges are anti-aliased) and outlines are stroked with soft discs.
//! Invariant: image pixel `(x, y)` shows map coordinate
//! `transform.to_map(x + 0.5, y + 0.5)`.

use geo::{LineString, MultiPolygon, Polygon};

use crate::audit::AuditReport;
use crate::coverage::{Coverage, PixelPolygon};
use crate::grid::{Crs, GeoTransform, Window};
use crate::legend::{ClassCode, Legend};
use crate::raster::{LandCover, Tile, TileReader, with_pixel_type};
use crate::redline::{DiffOptions, redline_diff};
use crate::srs::Reprojector;
use crate::zones::{ZoneLayer, ZoneOptions, segment_length};
use crate::{Error, Result};

/// An RGBA map image with the geotransform of its pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct MapImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// RGBA, row major.
    pub rgba: Vec<u8>,
    /// Image pixel → map coordinates.
    pub transform: GeoTransform,
    /// CRS of the map coordinates.
    pub crs: Crs,
}

/// What a cell of the forest change map shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForestChange {
    /// Forest that became non-forest.
    Loss,
    /// Non-forest that became forest.
    Gain,
    /// Forest in both dates.
    Stable,
    /// Non-forest in both dates.
    Other,
    /// Nodata in either date.
    NoData,
}

/// Colours of the forest change map.
pub fn forest_change_color(c: ForestChange) -> [u8; 4] {
    match c {
        ForestChange::Loss => [214, 39, 40, 255],
        ForestChange::Gain => [44, 160, 44, 255],
        ForestChange::Stable => [150, 190, 150, 255],
        ForestChange::Other => [236, 236, 228, 255],
        ForestChange::NoData => [255, 255, 255, 0],
    }
}

impl MapImage {
    /// A blank (transparent) image covering `tile`'s grid, at most
    /// `max_size` pixels on its longer side.
    fn for_tiles(tiles: &[Tile], max_size: usize) -> Result<MapImage> {
        let first = tiles
            .first()
            .ok_or_else(|| Error::Invalid("no raster to map".into()))?;
        if !first.grid.transform.is_north_up() {
            return Err(Error::raster(&first.path, "maps need a north-up raster"));
        }
        let (mut x0, mut y0, mut x1, mut y1) = first.grid.bounds();
        for t in &tiles[1..] {
            let b = t.grid.bounds();
            x0 = x0.min(b.0);
            y0 = y0.min(b.1);
            x1 = x1.max(b.2);
            y1 = y1.max(b.3);
        }
        let (px, py) = first.grid.transform.pixel_size();
        let (cols, rows) = (
            ((x1 - x0) / px).round().max(1.0),
            ((y1 - y0) / py).round().max(1.0),
        );
        let scale = (cols.max(rows) / max_size.max(1) as f64).max(1.0);
        let (width, height) = (
            (cols / scale).round().max(1.0) as usize,
            (rows / scale).round().max(1.0) as usize,
        );
        let transform = GeoTransform([
            x0,
            (x1 - x0) / width as f64,
            0.0,
            y1,
            0.0,
            -(y1 - y0) / height as f64,
        ]);
        Ok(MapImage {
            width,
            height,
            rgba: vec![0; width * height * 4],
            transform,
            crs: first.grid.crs.clone(),
        })
    }

    /// Reads each tile's classes at the image's resolution (nearest
    /// neighbour) and calls `paint(x, y, code_or_None)` for each pixel.
    fn sample(
        &self,
        tiles: &[Tile],
        mut paint: impl FnMut(usize, usize, Option<ClassCode>),
    ) -> Result<()> {
        for t in tiles {
            let (tx0, ty0, tx1, ty1) = t.grid.bounds();
            let to_img = |x: f64, y: f64| self.transform.to_pixel(x, y).unwrap_or((0.0, 0.0));
            let (ix0, iy0) = to_img(tx0, ty1);
            let (ix1, iy1) = to_img(tx1, ty0);
            let (c0, r0) = (ix0.round().max(0.0) as usize, iy0.round().max(0.0) as usize);
            let (c1, r1) = (
                (ix1.round() as usize).min(self.width),
                (iy1.round() as usize).min(self.height),
            );
            if c0 >= c1 || r0 >= r1 {
                continue;
            }
            let (bw, bh) = (c1 - c0, r1 - r0);
            let reader = TileReader::open(t)?;
            let full = t.grid.full_window();
            let nodata = t.nodata;
            with_pixel_type!(t.pixel_type, T => {
                let band_read = reader.read_resampled::<T>(full, (bw, bh))?;
                for r in 0..bh {
                    for c in 0..bw {
                        let v = band_read[r * bw + c];
                        let code = crate::raster::ClassPixel::code(v);
                        let masked = t.mask && v == <T as crate::raster::ClassPixel>::MASKED;
                        let is_nodata = masked || nodata.is_some_and(|n| code.as_int().is_some_and(|c| c as f64 == n));
                        paint(c0 + c, r0 + r, (!is_nodata).then_some(code));
                    }
                }
            });
        }
        Ok(())
    }

    /// The land cover in the legend's colours (nodata transparent, codes
    /// the legend does not list in a fixed fallback colour).
    pub fn land_cover(lc: &LandCover, legend: &Legend, max_size: usize) -> Result<MapImage> {
        let mut img = MapImage::for_tiles(&lc.tiles, max_size)?;
        let mut px = std::mem::take(&mut img.rgba);
        img.sample(&lc.tiles, |x, y, code| {
            let i = (y * img.width + x) * 4;
            if let Some(c) = code.filter(|c| !legend.is_nodata(*c)) {
                let [r, g, b] = legend.color_of(c);
                px[i..i + 4].copy_from_slice(&[r, g, b, 255]);
            }
        })?;
        img.rgba = px;
        Ok(img)
    }

    /// Forest loss and gain between two dates on the same grid.
    pub fn forest_change(
        before: &LandCover,
        after: &LandCover,
        legend: &Legend,
        max_size: usize,
    ) -> Result<MapImage> {
        let mut img = MapImage::for_tiles(&after.tiles, max_size)?;
        let n = img.width * img.height;
        let mut b: Vec<Option<ClassCode>> = vec![None; n];
        let mut a: Vec<Option<ClassCode>> = vec![None; n];
        let w = img.width;
        img.sample(&before.tiles, |x, y, c| b[y * w + x] = c)?;
        img.sample(&after.tiles, |x, y, c| a[y * w + x] = c)?;
        for i in 0..n {
            let kind = match (b[i], a[i]) {
                (Some(x), Some(y)) if !legend.is_nodata(x) && !legend.is_nodata(y) => {
                    match (legend.is_forest(x), legend.is_forest(y)) {
                        (true, false) => ForestChange::Loss,
                        (false, true) => ForestChange::Gain,
                        (true, true) => ForestChange::Stable,
                        (false, false) => ForestChange::Other,
                    }
                }
                _ => ForestChange::NoData,
            };
            img.rgba[i * 4..i * 4 + 4].copy_from_slice(&forest_change_color(kind));
        }
        Ok(img)
    }

    /// Blends a colour over pixel `(x, y)` with opacity `alpha` (0–1).
    fn blend(&mut self, x: usize, y: usize, rgb: [u8; 3], alpha: f64) {
        if x >= self.width || y >= self.height || alpha <= 0.0 {
            return;
        }
        let i = (y * self.width + x) * 4;
        let a = alpha.min(1.0);
        for (px, &c) in self.rgba[i..i + 3].iter_mut().zip(&rgb) {
            let under = *px as f64;
            *px = (under + (c as f64 - under) * a).round() as u8;
        }
        let under_a = self.rgba[i + 3] as f64 / 255.0;
        self.rgba[i + 3] = ((under_a + (1.0 - under_a) * a) * 255.0).round() as u8;
    }

    /// Lightens the whole image towards white (to put overlays on it).
    pub fn fade(&mut self, amount: f64) {
        for px in self.rgba.chunks_exact_mut(4) {
            for v in px.iter_mut().take(3) {
                *v = (*v as f64 + (255.0 - *v as f64) * amount).round() as u8;
            }
        }
    }

    fn to_image(&self, mp: &MultiPolygon<f64>) -> Vec<Polygon<f64>> {
        let ring = |r: &LineString<f64>| {
            LineString::from(
                r.0.iter()
                    .filter_map(|c| self.transform.to_pixel(c.x, c.y))
                    .collect::<Vec<(f64, f64)>>(),
            )
        };
        mp.0.iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect()
    }

    /// Fills polygons (map coordinates, this image's CRS) with a colour at
    /// opacity `alpha`, anti-aliased by exact coverage.
    pub fn fill(&mut self, mp: &MultiPolygon<f64>, rgb: [u8; 3], alpha: f64) {
        let polys = self.to_image(mp);
        let cov = Coverage::new(PixelPolygon::from_polygons(&polys), self.height.max(1));
        let window = Window {
            col: 0,
            row: 0,
            width: self.width,
            height: self.height,
        };
        for run in cov.window_runs(window) {
            for x in run.col..run.col + run.len {
                self.blend(x as usize, run.row as usize, rgb, alpha * run.frac);
            }
        }
    }

    /// Strokes the outlines of polygons (map coordinates) `width` pixels
    /// wide: soft discs along every edge, their coverage combined by
    /// maximum (so overlapping discs do not darken the line), then blended.
    pub fn outline(&mut self, mp: &MultiPolygon<f64>, rgb: [u8; 3], width: f64) {
        let r = width / 2.0;
        let mut mask = vec![0f32; self.width * self.height];
        for p in self.to_image(mp) {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for seg in ring.0.windows(2) {
                    let (a, b) = (seg[0], seg[1]);
                    let len = (b.x - a.x).hypot(b.y - a.y);
                    let steps = (len / 0.5).ceil().max(1.0) as usize;
                    for k in 0..=steps {
                        let t = k as f64 / steps as f64;
                        self.disc(&mut mask, a.x + t * (b.x - a.x), a.y + t * (b.y - a.y), r);
                    }
                }
            }
        }
        for (i, &m) in mask.iter().enumerate() {
            if m > 0.0 {
                self.blend(i % self.width, i / self.width, rgb, m as f64);
            }
        }
    }

    /// Marks a soft disc of radius `r` at `(cx, cy)` (pixel space) in `mask`.
    fn disc(&self, mask: &mut [f32], cx: f64, cy: f64, r: f64) {
        let lo = |v: f64| (v - r - 1.0).floor().max(0.0) as usize;
        let hi = |v: f64, n: usize| ((v + r + 1.0).ceil().max(0.0) as usize).min(n);
        for y in lo(cy)..hi(cy, self.height) {
            for x in lo(cx)..hi(cx, self.width) {
                let d = (x as f64 + 0.5 - cx).hypot(y as f64 + 0.5 - cy);
                let a = (r + 0.5 - d).clamp(0.0, 1.0) as f32;
                let m = &mut mask[y * self.width + x];
                *m = m.max(a);
            }
        }
    }

    /// The image as PNG bytes.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc
                .write_header()
                .map_err(|e| Error::Invalid(format!("PNG: {e}")))?;
            w.write_image_data(&self.rgba)
                .map_err(|e| Error::Invalid(format!("PNG: {e}")))?;
        }
        Ok(out)
    }
}

/// Outline colour of zones (towns).
pub const ZONE_RGB: [u8; 3] = [40, 40, 40];
/// Outline colour of the audited red lines.
pub const REDLINE_RGB: [u8; 3] = [200, 0, 160];
/// Outline colour of the baseline red lines.
pub const OLD_REDLINE_RGB: [u8; 3] = [120, 120, 120];
/// Fill colour of red-line area lost.
pub const LOST_RGB: [u8; 3] = [214, 39, 40];
/// Fill colour of red-line area gained.
pub const GAINED_RGB: [u8; 3] = [31, 119, 180];

/// A map encoded as PNG, with its size in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct MapPng {
    /// The PNG file's bytes.
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

impl MapPng {
    /// Encodes an image.
    pub fn encode(img: &MapImage) -> Result<MapPng> {
        Ok(MapPng {
            png: img.to_png()?,
            width: img.width,
            height: img.height,
        })
    }

    /// A PNG file's bytes as read from `path`, its size from its header;
    /// anything but a PNG is an error naming the file.
    pub fn from_file_bytes(path: &std::path::Path, png: Vec<u8>) -> Result<MapPng> {
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder
            .read_info()
            .map_err(|e| Error::raster(path, format!("not a PNG map ({e})")))?;
        let info = reader.info();
        let (width, height) = (info.width as usize, info.height as usize);
        Ok(MapPng { png, width, height })
    }
}

/// The maps of the audit report: land cover (after) with zones and red
/// lines, forest loss/gain, red-line lost/gained areas.
#[derive(Clone, Debug, PartialEq)]
pub struct Maps {
    /// Land cover of the after date with outlines.
    pub land_cover: MapPng,
    /// Forest loss and gain.
    pub forest_change: MapPng,
    /// Red-line lost and gained areas (when red lines were audited).
    pub redlines: Option<MapPng>,
    /// Slope grades with steep cropland outlined (when the audit had a
    /// DEM).
    pub slope: Option<MapPng>,
}

/// The layers the maps outline, projected to the maps' CRS.
struct Outlines {
    zones: Vec<MultiPolygon<f64>>,
    old: Vec<MultiPolygon<f64>>,
    new: Vec<MultiPolygon<f64>>,
}

impl Maps {
    /// Draws the maps from the audit's inputs (both dates' land cover,
    /// the zones, the red lines), which must still be in place: what
    /// `qingshan audit` does before it writes the bundle. `map_size` is
    /// the longest side in pixels.
    pub fn draw(audit: &AuditReport, map_size: usize) -> Result<Maps> {
        let inp = &audit.inputs;
        let legend = &inp.legend;
        let before = LandCover::open(&inp.before, inp.band)?.with_area(inp.area);
        let after = LandCover::open(&inp.after, inp.band)?.with_area(inp.area);
        let zones = ZoneLayer::read(
            inp.zones.path.as_ref(),
            &ZoneOptions {
                id_field: inp.zones.id_field.clone(),
                name_field: inp.zones.name_field.clone(),
                layer: inp.zones.layer.clone(),
                make_valid: false,
                encoding: inp.zones.encoding.clone(),
            },
        )?;
        let reds = match &inp.redlines {
            None => None,
            Some(r) => {
                let o = ZoneOptions {
                    id_field: r.id_field.clone(),
                    encoding: r.encoding.clone(),
                    ..Default::default()
                };
                let old = ZoneLayer::read(r.old.as_ref(), &o)?;
                let new = ZoneLayer::read(r.new.as_ref(), &o)?;
                Some((old, new))
            }
        };
        // The after date's land cover is sampled once: the base of the
        // first and the last map.
        let base = MapImage::land_cover(&after, legend, map_size)?;
        let crs = base.crs.clone();
        let project = |l: &ZoneLayer| l.project(&crs, Some(segment_length(&l.crs, 10.0)));
        let outlines = Outlines {
            zones: project(&zones)?,
            old: match &reds {
                Some((old, _)) => project(old)?,
                None => Vec::new(),
            },
            new: match &reds {
                Some((_, new)) => project(new)?,
                None => Vec::new(),
            },
        };
        let mut land = base.clone();
        for g in &outlines.zones {
            land.outline(g, ZONE_RGB, 2.0);
        }
        for g in &outlines.new {
            land.outline(g, REDLINE_RGB, 2.0);
        }
        let mut change = MapImage::forest_change(&before, &after, legend, map_size)?;
        for g in &outlines.zones {
            change.outline(g, ZONE_RGB, 2.0);
        }
        let redlines = match &reds {
            None => None,
            Some((old, new)) => Some(MapPng::encode(&redline_map(
                audit, base, old, new, &outlines,
            )?)?),
        };
        let slope = match &inp.terrain {
            Some(t) => Some(MapPng::encode(&super::terrain::slope_map(
                audit,
                t,
                &outlines.zones,
                &crs,
                map_size,
            )?)?),
            None => None,
        };
        Ok(Maps {
            land_cover: MapPng::encode(&land)?,
            forest_change: MapPng::encode(&change)?,
            redlines,
            slope,
        })
    }
}

/// The red-line map: the land cover faded, lost and gained areas filled,
/// old and new red lines and the zones outlined.
fn redline_map(
    audit: &AuditReport,
    base: MapImage,
    old: &ZoneLayer,
    new: &ZoneLayer,
    outlines: &Outlines,
) -> Result<MapImage> {
    // An audit made in this process still holds its lost and gained
    // pieces; one read back from JSON does not.
    let computed;
    let d = match audit.redline_diff.as_ref().filter(|d| d.ops.is_some()) {
        Some(d) => d,
        None => {
            let tol = audit.redline_diff.as_ref().map_or(1.0, |d| d.tolerance_m2);
            computed = redline_diff(
                old,
                new,
                None,
                &DiffOptions {
                    tolerance_m2: tol,
                    strict: false,
                    area: audit.inputs.area,
                },
            )?;
            &computed
        }
    };
    let ops = d
        .ops
        .clone()
        .ok_or_else(|| Error::Invalid("red-line diff without a CRS".into()))?;
    let to_map = Reprojector::new(&ops, &base.crs)?;
    let mut img = base;
    img.fade(0.65);
    for (_, g) in &d.lost_pieces {
        img.fill(&to_map.multipolygon(g)?, LOST_RGB, 0.85);
    }
    for (_, g) in &d.gained_pieces {
        img.fill(&to_map.multipolygon(g)?, GAINED_RGB, 0.85);
    }
    for g in &outlines.old {
        img.outline(g, OLD_REDLINE_RGB, 1.5);
    }
    for g in &outlines.new {
        img.outline(g, REDLINE_RGB, 2.0);
    }
    for g in &outlines.zones {
        img.outline(g, ZONE_RGB, 2.0);
    }
    Ok(img)
}
