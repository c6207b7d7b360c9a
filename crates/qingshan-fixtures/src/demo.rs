//! The committed demo fixture set: two towns, land cover 2019 and 2024,
//! red lines 2019 and 2024.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gdal::spatial_ref::CoordTransform;
use geo::{Area, MultiPolygon};
use rayon::prelude::*;

use crate::error::{GdalContext, Result, io};
use crate::geom::{self, Change, RedLine, Town};
use crate::landscape::{CENTRE, REGION, classes_local};
use crate::raster_io::{Grid, TiffSpec, VrtTile, rel, write_tiff, write_vrt};
use crate::stats::{count_changes, histogram};
use crate::vector_io::{Feat, Field, Prop, srs, write_geojson, write_ogr};
use crate::{YearFiles, clcd_class};

/// The demo raster grid (EPSG:4545, 30 m, 800 × 600).
pub(crate) const DEMO_GRID: Grid = Grid {
    x0: REGION.0,
    y0: REGION.3,
    dx: 30.0,
    dy: 30.0,
    width: 800,
    height: 600,
};

/// Column and row splits of the 2 × 2 tiles: (offset, size); no size is a
/// multiple of the 128-cell block.
const TILE_COLS: [(usize, usize); 2] = [(0, 413), (413, 387)];
const TILE_ROWS: [(usize, usize); 2] = [(0, 291), (291, 309)];
/// GeoTIFF block size of the demo rasters.
const DEMO_BLOCK: usize = 128;
/// DEFLATE level of the demo rasters.
const DEMO_ZLEVEL: u32 = 9;
/// Horizontal differencing does not help categorical data here (checked:
/// the tiles come out larger with PREDICTOR=2).
const DEMO_PREDICTOR: bool = false;
/// Pixel size of the geographic raster (degrees).
const LONLAT_RES: f64 = 1.0 / 4000.0;
/// The years of the demo.
pub(crate) const DEMO_YEARS: [u16; 2] = [2019, 2024];
/// Fixed timestamp written into the GeoPackage (for byte-identical output).
const GPKG_DATE: &str = "2024-06-30T00:00:00Z";
/// Fixed date written into the DBF header.
const DBF_DATE: &str = "2024-06-30";

/// Forest share of one town in one year (centre-in-polygon cell counts).
#[derive(Debug, Clone, PartialEq)]
pub struct TownForest {
    /// Town id ("jinsuoguan" or "azhuang").
    pub town: String,
    /// Year.
    pub year: u16,
    /// Cells whose centre lies in the town.
    pub cells: u64,
    /// Of these, nodata cells.
    pub nodata_cells: u64,
    /// Of these, forest (class 2) cells.
    pub forest_cells: u64,
    /// Forest cells / valid (not nodata) cells.
    pub forest_share: f64,
}

/// Planar area (EPSG:4545) of one red-line polygon in each version.
#[derive(Debug, Clone, PartialEq)]
pub struct RedLineArea {
    /// Red-line id, e.g. "HX-JSG-01".
    pub hx_id: String,
    /// Town id.
    pub town: String,
    /// Area in 2019 (m²), if the polygon existed.
    pub area_2019_m2: Option<f64>,
    /// Area in 2024 (m², computed before reprojection), if it exists.
    pub area_2024_m2: Option<f64>,
    /// What happened to it in 2024.
    pub change: String,
}

/// What [`write_demo`](crate::write_demo) wrote, and what it measured.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoManifest {
    /// Land-cover tiles and VRT per year.
    pub years: Vec<YearFiles>,
    /// The 2019 landscape on a geographic EPSG:4490 grid.
    pub lonlat: PathBuf,
    /// The towns as GeoJSON (EPSG:4545).
    pub towns_geojson: PathBuf,
    /// The towns as a GBK-encoded Shapefile: .shp, .shx, .dbf, .prj, .cpg.
    pub towns_shapefile: Vec<PathBuf>,
    /// Red lines 2019 (GeoJSON, EPSG:4545).
    pub redlines_2019: PathBuf,
    /// Red lines 2024 (GeoPackage, EPSG:4490, layer `redlines`).
    pub redlines_2024: PathBuf,
    /// The fixtures' README.
    pub readme: PathBuf,
    /// Forest share per town and year.
    pub forest: Vec<TownForest>,
    /// Red-line areas per polygon.
    pub redlines: Vec<RedLineArea>,
}

impl DemoManifest {
    /// Every file written, in a stable order.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut v = Vec::new();
        for y in &self.years {
            v.extend(y.tiles.iter().cloned());
            v.push(y.vrt.clone());
        }
        v.push(self.lonlat.clone());
        v.push(self.towns_geojson.clone());
        v.extend(self.towns_shapefile.iter().cloned());
        v.push(self.redlines_2019.clone());
        v.push(self.redlines_2024.clone());
        v.push(self.readme.clone());
        v
    }
}

/// Land cover of the whole demo grid for the demo years (row-major).
pub(crate) fn demo_classes() -> Vec<Vec<u8>> {
    let g = DEMO_GRID;
    let mut rows: Vec<Vec<u8>> = vec![Vec::new(); g.height];
    rows.par_iter_mut().enumerate().for_each(|(row, out)| {
        let mut buf = vec![0u8; g.width * DEMO_YEARS.len()];
        let mut k = [0u8; 2];
        for col in 0..g.width {
            let (x, y) = g.centre(col, row);
            classes_local((x - CENTRE.0, y - CENTRE.1), &DEMO_YEARS, &mut k);
            for (yi, &c) in k.iter().enumerate() {
                buf[yi * g.width + col] = c;
            }
        }
        *out = buf;
    });
    let mut years = vec![Vec::with_capacity(g.width * g.height); DEMO_YEARS.len()];
    for r in rows {
        for (yi, y) in years.iter_mut().enumerate() {
            y.extend_from_slice(&r[yi * g.width..(yi + 1) * g.width]);
        }
    }
    years
}

fn town_feats(towns: &[Town]) -> Vec<Feat> {
    towns
        .iter()
        .map(|t| Feat {
            id: Some(t.id.to_string()),
            props: vec![
                ("code", Prop::Str(t.code.into())),
                ("name", Prop::Str(t.name.into())),
                ("name_en", Prop::Str(t.name_en.into())),
                ("kind", Prop::Str("town".into())),
            ],
            geom: t.geom.clone(),
            single: false,
        })
        .collect()
}

fn redline_feats<'a>(lines: impl Iterator<Item = &'a RedLine>) -> Vec<Feat> {
    lines
        .map(|r| Feat {
            id: None,
            props: vec![
                ("hx_id", Prop::Str(r.hx_id.into())),
                ("name", Prop::Str(r.name.into())),
                ("town", Prop::Str(r.town.into())),
                ("function", Prop::Str(r.function.into())),
            ],
            geom: MultiPolygon::new(vec![r.geom.clone()]),
            single: true,
        })
        .collect()
}

/// Writes the 2019 landscape on a geographic EPSG:4490 grid covering the
/// region plus a margin, sampling `clcd_class` at each cell centre.
fn write_lonlat(path: &Path) -> Result<Grid> {
    let what = || format!("writing {}", path.display());
    let to_geo = CoordTransform::new(&srs(4545)?, &srs(4490)?).ctx(what)?;
    let to_proj = CoordTransform::new(&srs(4490)?, &srs(4545)?).ctx(what)?;
    // Bounds of the region in lon/lat, from its densified outline.
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for k in 0..=40 {
        let t = k as f64 / 40.0;
        let x = REGION.0 + t * (REGION.1 - REGION.0);
        let y = REGION.2 + t * (REGION.3 - REGION.2);
        xs.extend([x, x, REGION.0, REGION.1]);
        ys.extend([REGION.2, REGION.3, y, y]);
    }
    to_geo
        .transform_coords(&mut xs, &mut ys, &mut [])
        .ctx(what)?;
    let fold = |v: &[f64], f: fn(f64, f64) -> f64, init: f64| v.iter().copied().fold(init, f);
    let margin = 12.0; // cells
    let i0 = (fold(&xs, f64::min, f64::INFINITY) / LONLAT_RES).floor() - margin;
    let i1 = (fold(&xs, f64::max, f64::NEG_INFINITY) / LONLAT_RES).ceil() + margin;
    let j0 = (fold(&ys, f64::min, f64::INFINITY) / LONLAT_RES).floor() - margin;
    let j1 = (fold(&ys, f64::max, f64::NEG_INFINITY) / LONLAT_RES).ceil() + margin;
    let grid = Grid {
        x0: i0 / 4000.0,
        y0: j1 / 4000.0,
        dx: LONLAT_RES,
        dy: LONLAT_RES,
        width: (i1 - i0) as usize,
        height: (j1 - j0) as usize,
    };
    // Project every cell centre (row by row), then classify in parallel.
    let mut proj: Vec<(f64, f64)> = Vec::with_capacity(grid.width * grid.height);
    let mut lon = vec![0.0; grid.width];
    let mut lat = vec![0.0; grid.width];
    for row in 0..grid.height {
        for (col, (lo, la)) in lon.iter_mut().zip(lat.iter_mut()).enumerate() {
            *lo = (i0 + col as f64 + 0.5) / 4000.0;
            *la = (j1 - row as f64 - 0.5) / 4000.0;
        }
        to_proj
            .transform_coords(&mut lon, &mut lat, &mut [])
            .ctx(what)?;
        proj.extend(lon.iter().copied().zip(lat.iter().copied()));
    }
    let classes: Vec<u8> = proj
        .par_iter()
        .map(|&(x, y)| clcd_class(x, y, 2019))
        .collect();
    write_tiff(
        &TiffSpec {
            path,
            grid,
            epsg: 4490,
            block: DEMO_BLOCK,
            zlevel: DEMO_ZLEVEL,
            predictor: DEMO_PREDICTOR,
        },
        |g, row, rows, buf| {
            buf.copy_from_slice(&classes[row * g.width..(row + rows) * g.width]);
        },
    )?;
    Ok(grid)
}

/// Writes the demo fixture set into `out_dir`; see the crate docs.
pub(crate) fn write_demo(out_dir: &Path) -> Result<DemoManifest> {
    io(std::fs::create_dir_all(out_dir), out_dir)?;
    let lc_dir = out_dir.join("landcover");
    let g = DEMO_GRID;

    // Land cover, both years.
    let classes = demo_classes();
    let mut years = Vec::new();
    for (yi, &year) in DEMO_YEARS.iter().enumerate() {
        let data = &classes[yi];
        let dir = lc_dir.join(format!("clcd_{year}"));
        let mut tiles = Vec::new();
        let mut vrt_tiles = Vec::new();
        for (r, &(row0, h)) in TILE_ROWS.iter().enumerate() {
            for (c, &(col0, w)) in TILE_COLS.iter().enumerate() {
                let path = dir.join(format!("clcd_{year}_r{r}c{c}.tif"));
                write_tiff(
                    &TiffSpec {
                        path: &path,
                        grid: g.window(col0, row0, w, h),
                        epsg: 4545,
                        block: DEMO_BLOCK,
                        zlevel: DEMO_ZLEVEL,
                        predictor: DEMO_PREDICTOR,
                    },
                    |_, row, rows, buf| {
                        for k in 0..rows {
                            let src = (row0 + row + k) * g.width + col0;
                            buf[k * w..(k + 1) * w].copy_from_slice(&data[src..src + w]);
                        }
                    },
                )?;
                vrt_tiles.push(VrtTile {
                    rel_path: rel(&path, &lc_dir),
                    col: col0,
                    row: row0,
                    width: w,
                    height: h,
                });
                tiles.push(path);
            }
        }
        let vrt = lc_dir.join(format!("clcd_{year}.vrt"));
        write_vrt(&vrt, &g, 4545, DEMO_BLOCK, &vrt_tiles)?;
        years.push(YearFiles { year, tiles, vrt });
    }
    let lonlat = lc_dir.join("clcd_2019_lonlat.tif");
    let lonlat_grid = write_lonlat(&lonlat)?;

    // Towns.
    let towns = geom::towns()?;
    let towns_geojson = out_dir.join("towns.geojson");
    write_geojson(&towns_geojson, "towns", &town_feats(&towns))?;
    let shp = out_dir.join("towns_gbk.shp");
    write_ogr(
        &shp,
        "ESRI Shapefile",
        "towns_gbk",
        &[
            "ENCODING=GBK",
            &format!("DBF_DATE_LAST_UPDATE={DBF_DATE}"),
            "SPATIAL_INDEX=NO",
        ],
        &[
            Field {
                name: "code",
                width: 9,
            },
            Field {
                name: "name",
                width: 32,
            },
            Field {
                name: "name_en",
                width: 32,
            },
        ],
        &town_feats(&towns),
        None,
        false,
    )?;
    let towns_shapefile: Vec<PathBuf> = ["shp", "shx", "dbf", "prj", "cpg"]
        .iter()
        .map(|e| shp.with_extension(e))
        .collect();

    // Red lines.
    let rl19 = geom::redlines_2019()?;
    let rl24 = geom::redlines_2024()?;
    geom::check_redlines(&towns, &rl19)?;
    let rl24_lines: Vec<RedLine> = rl24.iter().map(|(r, _)| r.clone()).collect();
    geom::check_redlines(&towns, &rl24_lines)?;
    let redlines_2019 = out_dir.join("redlines_2019.geojson");
    write_geojson(&redlines_2019, "redlines_2019", &redline_feats(rl19.iter()))?;
    let redlines_2024 = out_dir.join("redlines_2024.gpkg");
    let rl_fields = [
        Field {
            name: "hx_id",
            width: 16,
        },
        Field {
            name: "name",
            width: 64,
        },
        Field {
            name: "town",
            width: 16,
        },
        Field {
            name: "function",
            width: 16,
        },
    ];
    gdal::config::set_thread_local_config_option("OGR_CURRENT_DATE", GPKG_DATE)
        .ctx(|| "setting OGR_CURRENT_DATE".into())?;
    let gpkg = write_ogr(
        &redlines_2024,
        "GPKG",
        "redlines",
        &["FID=fid", "GEOMETRY_NAME=geom", "SPATIAL_INDEX=YES"],
        &rl_fields,
        &redline_feats(rl24_lines.iter()),
        Some(4490),
        true,
    );
    gdal::config::clear_thread_local_config_option("OGR_CURRENT_DATE")
        .ctx(|| "clearing OGR_CURRENT_DATE".into())?;
    gpkg?;

    // Measurements for the manifest and the README.
    let mut forest = Vec::new();
    for t in &towns {
        for (yi, &year) in DEMO_YEARS.iter().enumerate() {
            let h = histogram(&t.geom, &g, &classes[yi]);
            let cells: u64 = h.iter().sum();
            let valid = cells - h[0];
            forest.push(TownForest {
                town: t.id.to_string(),
                year,
                cells,
                nodata_cells: h[0],
                forest_cells: h[2],
                forest_share: h[2] as f64 / valid.max(1) as f64,
            });
        }
    }
    let mut redlines = Vec::new();
    for (r, change) in &rl24 {
        let a19 = rl19
            .iter()
            .find(|o| o.hx_id == r.hx_id)
            .map(|o| o.geom.unsigned_area());
        redlines.push(RedLineArea {
            hx_id: r.hx_id.into(),
            town: r.town.into(),
            area_2019_m2: a19,
            area_2024_m2: Some(r.geom.unsigned_area()),
            change: format!("{change:?}").to_lowercase(),
        });
    }
    for o in &rl19 {
        if !rl24.iter().any(|(r, _)| r.hx_id == o.hx_id) {
            redlines.push(RedLineArea {
                hx_id: o.hx_id.into(),
                town: o.town.into(),
                area_2019_m2: Some(o.geom.unsigned_area()),
                area_2024_m2: None,
                change: "removed".into(),
            });
        }
    }
    redlines.sort_by(|a, b| a.hx_id.cmp(&b.hx_id));

    let readme = out_dir.join("README.md");
    let mut sizes = Vec::new();
    let mut written: Vec<&PathBuf> = years
        .iter()
        .flat_map(|y| y.tiles.iter().chain(std::iter::once(&y.vrt)))
        .collect();
    written.extend([&lonlat, &towns_geojson]);
    written.extend(towns_shapefile.iter());
    written.extend([&redlines_2019, &redlines_2024]);
    for p in written {
        let n = io(std::fs::metadata(p), p)?.len();
        sizes.push((rel(p, out_dir), n));
    }
    let text = readme_text(&ReadmeInput {
        sizes: &sizes,
        towns: &towns,
        classes: &classes,
        forest: &forest,
        redlines: &redlines,
        rl19: &rl19,
        rl24: &rl24,
        lonlat_grid: &lonlat_grid,
    });
    io(std::fs::write(&readme, text), &readme)?;

    Ok(DemoManifest {
        years,
        lonlat,
        towns_geojson,
        towns_shapefile,
        redlines_2019,
        redlines_2024,
        readme,
        forest,
        redlines,
    })
}

struct ReadmeInput<'a> {
    sizes: &'a [(String, u64)],
    towns: &'a [Town],
    classes: &'a [Vec<u8>],
    forest: &'a [TownForest],
    redlines: &'a [RedLineArea],
    rl19: &'a [RedLine],
    rl24: &'a [(RedLine, Change)],
    lonlat_grid: &'a Grid,
}

/// 5th and 95th percentile of the synthetic elevation over the cells whose
/// centre lies in the polygon.
fn elevation_range(mp: &MultiPolygon) -> (f64, f64) {
    let g = DEMO_GRID;
    let mut e: Vec<f64> = crate::stats::centre_spans(mp, &g)
        .into_par_iter()
        .flat_map_iter(|(row, a, b)| {
            (a..b).map(move |col| {
                let (x, y) = g.centre(col, row);
                crate::landscape::terrain((x - CENTRE.0, y - CENTRE.1))
                    .elev
                    .v
            })
        })
        .collect();
    if e.is_empty() {
        return (0.0, 0.0);
    }
    e.sort_by(f64::total_cmp);
    let q = |p: f64| e[((e.len() - 1) as f64 * p) as usize];
    (q(0.05), q(0.95))
}

fn ha(m2: f64) -> String {
    format!("{:.1}", m2 / 10_000.0)
}

fn readme_text(inp: &ReadmeInput<'_>) -> String {
    let g = DEMO_GRID;
    let (c19, c24) = (&inp.classes[0], &inp.classes[1]);
    let town = |id: &str| inp.towns.iter().find(|t| t.id == id).map(|t| &t.geom);
    let rl = |v: &[RedLine], id: &str| -> Option<MultiPolygon> {
        v.iter()
            .find(|r| r.hx_id == id)
            .map(|r| MultiPolygon::new(vec![r.geom.clone()]))
    };
    let rl24: Vec<RedLine> = inp.rl24.iter().map(|(r, _)| r.clone()).collect();
    let cells = |n: u64| format!("{n} cells ≈ {} ha", ha(n as f64 * 900.0));

    let mut s = String::new();
    s.push_str(
        "# qingshan fixtures\n\n\
**Everything in this directory is synthetic.** The town boundaries, the land\n\
cover and the ecological red lines are invented by a deterministic generator;\n\
they are placed at the approximate location of Jinsuoguan (金锁关镇) and Azhuang\n\
(阿庄镇) towns, Yintai District, Tongchuan, Shaanxi, but they are **not** real\n\
boundaries, not real land cover and not the real red lines. The township codes\n\
are real-looking, not official. Do not use these files for anything but\n\
testing and demonstrating qingshan.\n\n\
## How they were made\n\n\
```sh\n\
cargo run -p qingshan-fixtures -- demo --out fixtures\n\
```\n\n\
(`--release` makes it faster; the output is the same.) The generator\n\
(`crates/qingshan-fixtures`) is deterministic, see *Reproducibility* below.\n\
Land cover is a pure function of the projected coordinate and the year (`qingshan_fixtures::clcd_class(x, y, year)`):\n\
a smooth elevation from value noise (ridged mountains in the west/north, a\n\
loess plateau cut by gullies in the east, a river valley), classes from\n\
elevation, slope, aspect and vegetation noise, plus hand-placed features\n\
(reservoir, river, town seats, a road, villages, three mines/quarries).\n\n",
    );

    s.push_str("## Files\n\n| file | what | CRS |\n|---|---|---|\n");
    s.push_str(
        "| `landcover/clcd_2019/clcd_2019_r{0,1}c{0,1}.tif` | land cover 2019, 2 × 2 tiles | EPSG:4545 |\n\
| `landcover/clcd_2024/clcd_2024_r{0,1}c{0,1}.tif` | land cover 2024, 2 × 2 tiles | EPSG:4545 |\n\
| `landcover/clcd_2019.vrt`, `landcover/clcd_2024.vrt` | mosaics of the tiles (relative paths) | EPSG:4545 |\n\
| `landcover/clcd_2019_lonlat.tif` | the 2019 landscape on a geographic grid | EPSG:4490 |\n\
| `towns.geojson` | the two towns (legacy `crs` member) | EPSG:4545 |\n\
| `towns_gbk.shp` (+ `.shx .dbf .prj .cpg`) | the same towns, DBF encoded in GBK | EPSG:4545 |\n\
| `redlines_2019.geojson` | red lines, baseline version (legacy `crs` member) | EPSG:4545 |\n\
| `redlines_2024.gpkg`, layer `redlines` | red lines, revised version | EPSG:4490 |\n\n",
    );
    let _ = write!(
        s,
        "Rasters: UInt8, nodata 0, CLCD codes, colour table, band description\n\
\"CLCD land cover\"; GeoTIFF tiled {DEMO_BLOCK} × {DEMO_BLOCK}, DEFLATE (level {DEMO_ZLEVEL},\n\
no predictor: PREDICTOR=2 made these categorical tiles larger).\n\n\
- Projected grid: 30 m cells, origin (top-left corner) x = {:.0}, y = {:.0},\n  \
{} × {} cells, covering x ∈ [{:.0}, {:.0}], y ∈ [{:.0}, {:.0}].\n\
- Tiles share that grid exactly: columns {:?} and rows {:?}\n  \
as (offset, size); no tile size is a multiple of {DEMO_BLOCK}, so edge blocks are partial.\n\
- Geographic grid: {} × {} cells of 0.00025°, origin lon {:.5}, lat {:.5}\n  \
(the region plus a margin); each cell is the class at its centre projected\n  \
to EPSG:4545 with GDAL/PROJ (traditional lon/lat axis order). For testing\n  \
ellipsoidal cell areas.\n\n",
        g.x0,
        g.y0,
        g.width,
        g.height,
        REGION.0,
        REGION.1,
        REGION.2,
        REGION.3,
        TILE_COLS,
        TILE_ROWS,
        inp.lonlat_grid.width,
        inp.lonlat_grid.height,
        inp.lonlat_grid.x0,
        inp.lonlat_grid.y0,
    );
    s.push_str(
        "Vectors: GeoJSON coordinates are rounded to 0.01 m, exterior rings\n\
counter-clockwise, holes clockwise. The towns share their common border\n\
vertex for vertex (no gaps, no overlaps). Jinsuoguan is a MultiPolygon with a\n\
small exclave; that exclave is exactly the hole in Azhuang. Town features have\n\
`id` (`jinsuoguan`, `azhuang`) and properties `code` (`610203101`,\n\
`610203102`), `name` (金锁关镇, 阿庄镇), `name_en`, `kind` (`town`); the\n\
Shapefile has `code`, `name`, `name_en` and a `.cpg` saying `GBK`. Red-line\n\
features have `hx_id`, `name`, `town`, `function`.\n\n",
    );

    s.push_str("File sizes (compressed sizes depend a little on the GDAL build):\n\n| file | size |\n|---|---|\n");
    let mut total = 0;
    for (p, n) in inp.sizes {
        total += n;
        let _ = writeln!(s, "| `{p}` | {:.1} KB |", *n as f64 / 1024.0);
    }
    let _ = writeln!(
        s,
        "| total (without this README) | {:.1} KB |\n",
        total as f64 / 1024.0
    );
    s.push_str(
        "Reproducibility: rerunning the command rewrites byte-identical files on\n\
the same machine (tested). On another machine the GeoJSON, VRT and README\n\
text and every raster's pixel values are identical; the compressed GeoTIFF\n\
bytes, the GeoPackage and the geographic raster's few cells on class\n\
boundaries may differ with the GDAL, libdeflate and PROJ versions (the test\n\
`committed_fixtures_are_up_to_date` compares pixels, not bytes).\n\n",
    );

    s.push_str(
        "## Land-cover classes (CLCD)\n\n\
| code | class | where the generator puts it |\n|---|---|---|\n\
| 0 | nodata | a few cloud-gap patches, different in each year |\n\
| 1 | cropland | valley floors, plateau tops, some sloping fields |\n\
| 2 | forest | ridges and north-facing slopes; loess gully walls |\n\
| 3 | shrub | between forest and grassland |\n\
| 4 | grassland | drier, south-facing and lower slopes |\n\
| 5 | water | the reservoir and the river |\n\
| 6 | snow/ice | not used |\n\
| 7 | barren | mines and quarries |\n\
| 8 | impervious | town seats, villages, roads |\n\
| 9 | wetland | around the reservoir, a flood-plain marsh |\n\n",
    );

    s.push_str(
        "## Forest share per town\n\n\
Measured **approximately** by counting the cells whose centre lies in the\n\
town (not the exact coverage qingshan computes); share = forest cells / valid\n\
(not nodata) cells. The plan's target is 47 %: Jinsuoguan meets it, Azhuang\n\
does not.\n\n\
| town | year | cells | nodata cells | forest cells | forest share |\n|---|---|---|---|---|---|\n",
    );
    for f in inp.forest {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.1} % |",
            f.town,
            f.year,
            f.cells,
            f.nodata_cells,
            f.forest_cells,
            f.forest_share * 100.0
        );
    }

    // Deliberate changes, measured.
    let jsg = town("jinsuoguan");
    let az = town("azhuang");
    let both = |p: &dyn Fn(u8, u8) -> bool| -> (u64, u64) {
        let n = |t: Option<&MultiPolygon>| t.map_or(0, |t| count_changes(t, &g, c19, c24, p));
        (n(jsg), n(az))
    };
    let g4g = both(&|a, b| a == 1 && b == 2);
    let to_built = both(&|a, b| a != 8 && a != 0 && b == 8);
    let to_barren = both(&|a, b| a != 7 && a != 0 && b == 7);
    let restored = both(&|a, b| a == 7 && (b == 2 || b == 4));
    let changed = both(&|a, b| a != 0 && b != 0 && a != b);
    // How far west the quarry reached (centre of the westmost new barren cell).
    let (e19, e24) = geom::jsg02_edges();
    let mut reach = f64::INFINITY;
    for (i, (&a, &b)) in c19.iter().zip(c24.iter()).enumerate() {
        if b == 7 && a != 7 && a != 0 {
            reach = reach.min(g.centre(i % g.width, i / g.width).0);
        }
    }
    let _ = write!(
        s,
        "\n## Deliberate land-cover changes 2019 → 2024\n\n\
The 2024 map is the 2019 map plus these changes (cell counts by centre in\n\
town, Jinsuoguan / Azhuang):\n\n\
- Returning farmland to forest: cropland on slopes ≥ 15° inside seven patches\n  \
(three in Jinsuoguan, four in Azhuang) becomes forest (1 → 2):\n  \
{} / {}.\n\
- Mine expansion: the active quarry east of HX-JSG-02 grows west over forest,\n  \
shrub and grassland (→ 7), across the 200 m strip the red line loses in\n  \
2024 and on into the 2024 polygon (westmost new barren cell centre at\n  \
x = {:.0}, {:.0} m west of the 2024 edge): new barren\n  \
{} / {}.\n\
- Built-up expansion: Azhuang's town seat grows north-east over cropland and\n  \
grassland (→ 8), partly inside HX-AZ-03: new impervious\n  \
{} / {}.\n\
- Restoration: the old coal mine in Azhuang (barren in 2019) becomes\n  \
grassland and planted forest:\n  \
{} / {}.\n\
- A little scattered change (grassland → shrub → forest succession, some\n  \
cropland → grassland, a little forest → shrub) in small patches.\n\
- Cloud gaps (nodata) in different places in each year.\n\n\
All valid-to-valid changes: {} / {}.\n\n",
        cells(g4g.0),
        cells(g4g.1),
        reach,
        e24 - reach,
        cells(to_barren.0),
        cells(to_barren.1),
        cells(to_built.0),
        cells(to_built.1),
        cells(restored.0),
        cells(restored.1),
        cells(changed.0),
        cells(changed.1),
    );

    // Changes inside red lines: natural → artificial (qingshan's default
    // reading: natural = forest, shrub, grassland, water, snow, wetland).
    let natural = |c: u8| matches!(c, 2..=6 | 9);
    s.push_str(
        "Natural → artificial conversions inside each red line (natural = forest,\n\
shrub, grassland, water, wetland; artificial = cropland, barren, impervious;\n\
cells by centre, 2019 → 2024 map):\n\n\
| hx_id | version | → cropland | → barren | → impervious |\n|---|---|---|---|---|\n",
    );
    for (ver, lines) in [("2019", inp.rl19), ("2024", &rl24[..])] {
        for r in lines {
            let p = MultiPolygon::new(vec![r.geom.clone()]);
            let n = |to: u8| count_changes(&p, &g, c19, c24, |a, b| natural(a) && b == to);
            let _ = writeln!(
                s,
                "| {} | {ver} | {} | {} | {} |",
                r.hx_id,
                n(1),
                n(7),
                n(8)
            );
        }
    }
    let az03 = rl(inp.rl19, "HX-AZ-03").map_or(0, |p| {
        count_changes(&p, &g, c19, c24, |a, b| a == 1 && b == 8)
    });
    let _ = writeln!(
        s,
        "\nIn HX-AZ-03 another {} cropland cells (artificial → artificial) became\n\
impervious.",
        az03
    );

    let _ = write!(
        s,
        "\n## Red lines, 2019 → 2024\n\n\
Seven polygons in 2019 (four in Jinsuoguan, three in Azhuang); they do not\n\
overlap and each lies inside its town. HX-JSG-01 has a hole (a village).\n\
Deliberate changes in 2024:\n\n\
- **HX-JSG-02 clipped**: the 2024 polygon is exactly the 2019 polygon\n  \
clipped to x ≤ {e24:.0} (EPSG:4545); its 2019 east edge is the straight line\n  \
x = {e19:.0}, so it loses a strip 200 m wide along its east side, where the\n  \
quarry expanded.\n\
- **HX-JSG-04 removed** entirely.\n\
- **HX-JSG-03 moved** by (+{:.0} m, {:.0} m) with the same shape and area (\"reshaped\").\n\
- **HX-AZ-02 enlarged**: scaled by {:.2} about its centre (area × {:.4}).\n\
- **HX-AZ-04 added**.\n\
- HX-JSG-01, HX-AZ-01 and HX-AZ-03 unchanged: the 2019 geometry reprojected to\n  \
EPSG:4490 with GDAL/PROJ (every 2024 polygon is built in EPSG:4545, then\n  \
reprojected).\n\n\
Net: Jinsuoguan's red-line total shrinks, Azhuang's grows.\n\n\
Planar areas in EPSG:4545 (2024 measured before reprojection; the 2024 file's\n\
geodesic areas differ slightly):\n\n\
| hx_id | town | 2019 (ha) | 2024 (ha) | change |\n|---|---|---|---|---|\n",
        geom::JSG03_SHIFT.0,
        geom::JSG03_SHIFT.1,
        geom::AZ02_SCALE,
        geom::AZ02_SCALE * geom::AZ02_SCALE,
    );
    for r in inp.redlines {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.hx_id,
            r.town,
            r.area_2019_m2.map_or("–".into(), ha),
            r.area_2024_m2.map_or("–".into(), ha),
            r.change
        );
    }
    for t in ["jinsuoguan", "azhuang"] {
        let sum = |f: fn(&RedLineArea) -> Option<f64>| -> f64 {
            inp.redlines
                .iter()
                .filter(|r| r.town == t)
                .filter_map(f)
                .sum()
        };
        let (a, b) = (sum(|r| r.area_2019_m2), sum(|r| r.area_2024_m2));
        let _ = writeln!(
            s,
            "| **total** | {t} | {} | {} | {:+.1} ha |",
            ha(a),
            ha(b),
            (b - a) / 10_000.0
        );
    }
    let (ej, ea) = (
        jsg.map_or((0.0, 0.0), elevation_range),
        az.map_or((0.0, 0.0), elevation_range),
    );
    let _ = write!(
        s,
        "\n## Layout (for orientation)\n\n\
Jinsuoguan: the western and northern part: ridged mountains standing in for\n\
the Ziwuling (synthetic elevation, not written to any file: 5–95 % of cells\n\
between {:.0} and {:.0} m, the river valley lower), forest and shrub on ridges\n\
and north-facing slopes, a reservoir on the river, the town seat on the\n\
north–south road, two quarries.\n\n\
Azhuang: the eastern part: a loess plateau cut by gullies ({:.0}–{:.0} m),\n\
cropland on plateau tops and valley floors, grassland, shrub and forest on\n\
gully walls, the town seat east of the road, more villages, an old coal mine.\n",
        ej.0, ej.1, ea.0, ea.1
    );
    s
}
