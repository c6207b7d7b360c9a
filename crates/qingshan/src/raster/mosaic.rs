//! Plain mosaic VRTs, read through their tiles.
//!
//! A VRT built by `gdalbuildvrt` from tiles of one grid is the most common
//! way to hand qingshan a tiled land cover. Reading through the VRT works,
//! but costs: every worker that opens it parses its CRS again with PROJ
//! (≈ 7–13 ms per open), GDAL's proxy pool takes a process-wide lock on
//! every read, and each read fills and copies an extra buffer. On a
//! 1.7-Gpixel set of 16 tiles with 400 zones (`benches/peers/run.py
//! --width 48000 --height 36000`), `stats` on the VRT took 1.35 s on 1
//! thread and 0.75 s on 2 through GDAL's VRT, and 1.20 s and 0.64 s
//! through its tiles (fastest of 3 each, whole process).
//!
//! So when a VRT is nothing but whole tiles placed side by side at full
//! resolution — same pixel type, nodata, CRS and pixel size as the VRT,
//! no scaling, lookup tables, masks or filters, together covering the VRT
//! exactly without overlap — qingshan reads its tiles instead. Any other
//! VRT is read through GDAL as it is. The areas are the same either way
//! (only the order of floating-point additions differs, by ~1e-15).

use std::path::{Path, PathBuf};

use crate::raster::{LandCover, Tile};

/// The tiles of `vrt` when it is a plain mosaic (see the module docs),
/// in the order the VRT lists them; `None` for any other raster.
pub(crate) fn mosaic_tiles(vrt: &Tile) -> Option<Vec<Tile>> {
    let is_vrt = vrt
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("vrt"));
    if !is_vrt {
        return None;
    }
    let text = std::fs::read_to_string(&vrt.path).ok()?;
    let sources = plain_sources(&text, vrt.band, vrt.path.parent()?)?;
    let mut tiles = Vec::with_capacity(sources.len());
    let mut covered = 0usize;
    for s in &sources {
        let t = Tile::open(&s.path, s.band).ok()?;
        if !fits(vrt, &t, s) {
            return None;
        }
        covered += t.grid.width * t.grid.height;
        tiles.push(t);
    }
    // Exact cover: no two placements overlap, and together they have as
    // many cells as the VRT.
    for (i, a) in sources.iter().enumerate() {
        for b in &sources[i + 1..] {
            let w = (a.dst.0 + a.dst.2).min(b.dst.0 + b.dst.2) as i64 - a.dst.0.max(b.dst.0) as i64;
            let h = (a.dst.1 + a.dst.3).min(b.dst.1 + b.dst.3) as i64 - a.dst.1.max(b.dst.1) as i64;
            if w > 0 && h > 0 {
                return None;
            }
        }
    }
    (covered == vrt.grid.width * vrt.grid.height).then_some(tiles)
}

impl LandCover {
    /// This land cover with every plain mosaic VRT replaced by its tiles
    /// (see [`crate::raster::mosaic`]): the same cells, read faster. Returns a
    /// copy of `self` when nothing can be replaced.
    pub(crate) fn read_through_mosaics(&self) -> LandCover {
        let mut tiles = Vec::with_capacity(self.tiles.len());
        let mut replaced = false;
        for t in &self.tiles {
            match mosaic_tiles(t) {
                Some(parts) => {
                    tiles.extend(parts);
                    replaced = true;
                }
                None => tiles.push(t.clone()),
            }
        }
        if !replaced {
            return self.clone();
        }
        LandCover {
            tiles,
            area: self.area,
        }
    }
}

/// One source of a VRT band: a whole tile placed at `dst` (column, row,
/// width, height in VRT pixels).
struct Source {
    path: PathBuf,
    band: usize,
    dst: (usize, usize, usize, usize),
    nodata: Option<f64>,
}

/// The sources of VRT band `band` when each is a whole band of a file
/// copied 1:1 (no scaling, lookup tables, masks or filters); `None`
/// otherwise.
fn plain_sources(text: &str, band: usize, dir: &Path) -> Option<Vec<Source>> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "VRTDataset" || root.has_attribute("subClass") {
        return None;
    }
    let wanted = band.to_string();
    let vrt_band = root.children().find(|n| {
        n.has_tag_name("VRTRasterBand") && n.attribute("band") == Some(wanted.as_str())
    })?;
    if vrt_band.has_attribute("subClass") {
        return None;
    }
    let mut out = Vec::new();
    for node in vrt_band.children().filter(|n| n.is_element()) {
        let tag = node.tag_name().name();
        match tag {
            "SimpleSource" | "ComplexSource" => out.push(source(node, tag, dir)?),
            // Anything else that makes or changes pixels.
            t if t.ends_with("Source") || t == "MaskBand" || t == "PixelFunctionType" => {
                return None;
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

fn source(node: roxmltree::Node<'_, '_>, tag: &str, dir: &Path) -> Option<Source> {
    let mut path = None;
    let mut band = None;
    let mut src_rect = None;
    let mut dst = None;
    let mut nodata = None;
    for c in node.children().filter(|n| n.is_element()) {
        let text = c.text().unwrap_or("").trim();
        match c.tag_name().name() {
            "SourceFilename" => {
                let p = PathBuf::from(text);
                path = Some(if c.attribute("relativeToVRT") == Some("1") {
                    dir.join(p)
                } else {
                    p
                });
            }
            "SourceBand" => band = Some(text.parse::<usize>().ok()?),
            "SourceProperties" => {}
            "SrcRect" => src_rect = Some(rect(c)?),
            "DstRect" => dst = Some(rect(c)?),
            "NODATA" if tag == "ComplexSource" => nodata = Some(text.parse::<f64>().ok()?),
            "ScaleOffset" if tag == "ComplexSource" => {
                (text.parse::<f64>().ok()? == 0.0).then_some(())?;
            }
            "ScaleRatio" if tag == "ComplexSource" => {
                (text.parse::<f64>().ok()? == 1.0).then_some(())?;
            }
            // LUT, ColorTableComponent, Exponent, UseMaskBand, OpenOptions, …
            _ => return None,
        }
    }
    let path = path?;
    let src = src_rect?;
    let dst = dst?;
    // A whole tile at full resolution: the source window starts at its
    // origin and has the size of its placement (its full size is checked
    // against the file in `fits`).
    if (src.0, src.1) != (0, 0) || (src.2, src.3) != (dst.2, dst.3) {
        return None;
    }
    Some(Source {
        path,
        band: band?,
        dst,
        nodata,
    })
}

/// `xOff`, `yOff`, `xSize`, `ySize` of a rectangle element, when they are
/// whole non-negative numbers.
fn rect(node: roxmltree::Node<'_, '_>) -> Option<(usize, usize, usize, usize)> {
    let get = |k: &str| -> Option<usize> {
        let v: f64 = node.attribute(k)?.parse().ok()?;
        (v >= 0.0 && v.fract() == 0.0 && v < 1e12).then_some(v as usize)
    };
    Some((get("xOff")?, get("yOff")?, get("xSize")?, get("ySize")?))
}

/// Whether tile `t`, placed at `s.dst`, holds exactly the VRT's cells
/// there: whole file, same pixel type and nodata, and a grid whose cells
/// line up with the VRT's ([`crate::grid::Grid::cell_offset`]) at that
/// place.
fn fits(vrt: &Tile, t: &Tile, s: &Source) -> bool {
    let (x, y, w, h) = s.dst;
    // Masks and signed bytes are read from the VRT itself.
    !t.mask
        && !t.signed_byte
        && !vrt.mask
        && !vrt.signed_byte
        && (t.grid.width, t.grid.height) == (w, h)
        && x + w <= vrt.grid.width
        && y + h <= vrt.grid.height
        && t.pixel_type == vrt.pixel_type
        && t.nodata == vrt.nodata
        && s.nodata.is_none_or(|v| Some(v) == vrt.nodata)
        && vrt.grid.cell_offset(&t.grid) == Ok((x as i64, y as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOSAIC: &str = r#"<VRTDataset rasterXSize="20" rasterYSize="10">
  <SRS>EPSG:4545</SRS>
  <VRTRasterBand dataType="Byte" band="1">
    <NoDataValue>0</NoDataValue>
    <ColorInterp>Palette</ColorInterp>
    <SimpleSource>
      <SourceFilename relativeToVRT="1">a.tif</SourceFilename>
      <SourceBand>1</SourceBand>
      <SourceProperties RasterXSize="10" RasterYSize="10" DataType="Byte" BlockXSize="256" BlockYSize="256" />
      <SrcRect xOff="0" yOff="0" xSize="10" ySize="10" />
      <DstRect xOff="0" yOff="0" xSize="10" ySize="10" />
    </SimpleSource>
    <ComplexSource>
      <SourceFilename relativeToVRT="0">/data/b.tif</SourceFilename>
      <SourceBand>2</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="10" ySize="10" />
      <DstRect xOff="10" yOff="0" xSize="10" ySize="10" />
      <NODATA>0</NODATA>
    </ComplexSource>
  </VRTRasterBand>
</VRTDataset>"#;

    #[test]
    fn reads_the_sources_of_a_plain_mosaic() {
        let s = plain_sources(MOSAIC, 1, Path::new("/vrt/dir")).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].path, Path::new("/vrt/dir/a.tif"));
        assert_eq!(
            (s[0].band, s[0].dst, s[0].nodata),
            (1, (0, 0, 10, 10), None)
        );
        assert_eq!(s[1].path, Path::new("/data/b.tif"));
        assert_eq!(
            (s[1].band, s[1].dst, s[1].nodata),
            (2, (10, 0, 10, 10), Some(0.0))
        );
        // Band 2 of the VRT does not exist.
        assert!(plain_sources(MOSAIC, 2, Path::new("/")).is_none());
    }

    #[test]
    fn refuses_anything_that_changes_pixels() {
        let dir = Path::new("/");
        for (what, from, to) in [
            (
                "resampling",
                r#"<SrcRect xOff="0" yOff="0" xSize="10" ySize="10" />
      <DstRect xOff="0" yOff="0" xSize="10" ySize="10" />"#,
                r#"<SrcRect xOff="0" yOff="0" xSize="20" ySize="20" />
      <DstRect xOff="0" yOff="0" xSize="10" ySize="10" />"#,
            ),
            (
                "a part of a file",
                r#"<SrcRect xOff="0" yOff="0" xSize="10" ySize="10" />
      <DstRect xOff="0" yOff="0" xSize="10" ySize="10" />"#,
                r#"<SrcRect xOff="5" yOff="0" xSize="10" ySize="10" />
      <DstRect xOff="0" yOff="0" xSize="10" ySize="10" />"#,
            ),
            ("a lookup table", "<NODATA>0</NODATA>", "<LUT>1:2,2:3</LUT>"),
            (
                "scaling",
                "<NODATA>0</NODATA>",
                "<ScaleRatio>2</ScaleRatio>",
            ),
            (
                "a mask band",
                "<SourceBand>2</SourceBand>",
                "<SourceBand>mask,1</SourceBand>",
            ),
            ("a filter", "<ComplexSource>", "<KernelFilteredSource>"),
            (
                "a derived band",
                r#"band="1">"#,
                r#"band="1" subClass="VRTDerivedRasterBand">"#,
            ),
            (
                "a warped VRT",
                r#"<VRTDataset rasterXSize="20""#,
                r#"<VRTDataset subClass="VRTWarpedDataset" rasterXSize="20""#,
            ),
        ] {
            assert!(MOSAIC.contains(from), "{what}");
            let mut text = MOSAIC.replacen(from, to, 1);
            if what == "a filter" {
                text = text.replace("</ComplexSource>", "</KernelFilteredSource>");
            }
            assert!(
                plain_sources(&text, 1, dir).is_none(),
                "a VRT with {what} is not a plain mosaic"
            );
        }
        assert!(plain_sources("not xml", 1, dir).is_none());
    }

    fn fixture_vrt() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/landcover/clcd_2019.vrt")
    }

    /// The fixture VRT rewritten by `edit`, in a temporary directory, with
    /// its tile paths made absolute.
    fn edited_vrt(dir: &Path, edit: impl Fn(String) -> String) -> Tile {
        let tiles = fixture_vrt().parent().unwrap().join("clcd_2019");
        let text = std::fs::read_to_string(fixture_vrt()).unwrap().replace(
            r#"<SourceFilename relativeToVRT="1">clcd_2019/"#,
            &format!(r#"<SourceFilename relativeToVRT="0">{}/"#, tiles.display()),
        );
        let path = dir.join("edited.vrt");
        std::fs::write(&path, edit(text)).unwrap();
        Tile::open(&path, 1).unwrap()
    }

    #[test]
    fn the_fixture_vrt_is_read_through_its_four_tiles() {
        let vrt = Tile::open(&fixture_vrt(), 1).unwrap();
        let tiles = mosaic_tiles(&vrt).expect("gdalbuildvrt output is a plain mosaic");
        let dir = fixture_vrt().parent().unwrap().join("clcd_2019");
        let names: Vec<_> = tiles
            .iter()
            .map(|t| t.path.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "clcd_2019_r0c0.tif",
                "clcd_2019_r0c1.tif",
                "clcd_2019_r1c0.tif",
                "clcd_2019_r1c1.tif"
            ]
        );
        // Every tile's cells are the VRT's cells where GDAL places them.
        let reader =
            |p: &Path| crate::raster::TileReader::open(&Tile::open(p, 1).unwrap()).unwrap();
        let whole = reader(&vrt.path)
            .read_array::<u8>(vrt.grid.full_window())
            .unwrap();
        let (v, mut cells) = (vrt.grid.transform.0, 0);
        for t in &tiles {
            let g = t.grid.transform.0;
            let col = ((g[0] - v[0]) / v[1]).round() as usize;
            let row = ((g[3] - v[3]) / v[5]).round() as usize;
            let part = reader(&t.path)
                .read_array::<u8>(t.grid.full_window())
                .unwrap();
            let (h, w) = part.dim();
            assert_eq!(part, whole.slice(ndarray::s![row..row + h, col..col + w]));
            cells += w * h;
        }
        assert_eq!(cells, whole.len());
    }

    #[test]
    fn mosaics_that_are_not_exact_stay_vrts() {
        let tmp = tempfile::tempdir().unwrap();
        let plain = edited_vrt(tmp.path(), |t| t);
        assert_eq!(mosaic_tiles(&plain).map(|t| t.len()), Some(4));
        // Another nodata than the tiles'.
        let other_nodata = edited_vrt(tmp.path(), |t| {
            t.replace(
                "<NoDataValue>0</NoDataValue>",
                "<NoDataValue>9</NoDataValue>",
            )
        });
        assert!(mosaic_tiles(&other_nodata).is_none());
        // A gap: the last tile left out.
        let gap = edited_vrt(tmp.path(), |t| {
            let last = t.rfind("<SimpleSource>").unwrap();
            let end = t.rfind("</SimpleSource>").unwrap() + "</SimpleSource>".len();
            format!("{}{}", &t[..last], &t[end..])
        });
        assert!(mosaic_tiles(&gap).is_none());
        // A tile placed one column off where its georeferencing puts it.
        let moved = edited_vrt(tmp.path(), |t| {
            t.replacen(
                r#"<DstRect xOff="0" yOff="0""#,
                r#"<DstRect xOff="1" yOff="0""#,
                1,
            )
        });
        assert!(mosaic_tiles(&moved).is_none());
    }
}
