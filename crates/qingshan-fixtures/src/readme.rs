//! The fixtures' README: what each file is, how it was made, and the
//! numbers a reader can check it against (written with the fixtures, so
//! it never drifts from them).

use std::fmt::Write as _;

use geo::MultiPolygon;
use rayon::prelude::*;

use crate::demo::{
    DEMO_BLOCK, DEMO_GRID, DEMO_ZLEVEL, RedLineArea, TILE_COLS, TILE_ROWS, TownForest,
};
use crate::geom::{self, Change, RedLine, Town};
use crate::landscape::{CENTRE, REGION};
use crate::raster_io::Grid;
use crate::stats::count_changes;

pub(crate) struct ReadmeInput<'a> {
    pub(crate) sizes: &'a [(String, u64)],
    pub(crate) towns: &'a [Town],
    pub(crate) classes: &'a [Vec<u8>],
    pub(crate) forest: &'a [TownForest],
    pub(crate) redlines: &'a [RedLineArea],
    pub(crate) rl19: &'a [RedLine],
    pub(crate) rl24: &'a [(RedLine, Change)],
    pub(crate) lonlat_grid: &'a Grid,
    pub(crate) landuse: &'a crate::LanduseSummary,
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

// Long function: one document written top to bottom (≈ 300 lines), kept in one function
// so that it reads in the order of the README it makes.
pub(crate) fn readme_text(inp: &ReadmeInput<'_>) -> String {
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
| `redlines_2024.gpkg`, layer `redlines` | red lines, revised version | EPSG:4490 |\n\
| `dem/dem_25m_c{0,1}.tif` | elevation (DEM), 2 tiles, Int16 metres | EPSG:4545 |\n\
| `dltb.gpkg`, layer `DLTB` | land-survey parcels (三调-like), classes `DLBM`/`DLMC` | EPSG:4545 |\n\
| `ndvi/ndvi_2019.tif`, `ndvi/ndvi_2024.tif` | NDVI, Int16 × 10000 (scale 0.0001 in the file) | EPSG:4545 |\n\
| `landcover/series/clcd_{2020..2023}.tif` | land cover of the years between, one file each | EPSG:4545 |\n\
| `landuse/dltb_2019.gpkg`, `landuse/dltb_2024.gpkg`, layer `DLTB` | land-survey polygons (三调 DLTB) of both towns, 2019 and 2024 | EPSG:4545 |\n\
| `landuse/dltb_2019_gbk.shp` (+ `.shx .dbf .prj .cpg`) | the 2019 survey layer, DBF encoded in GBK | EPSG:4545 |\n\
| `landuse/dltb_2019_dirty.gpkg`, layer `DLTB` | the 2019 survey layer with one gap and one overlap | EPSG:4545 |\n\n",
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
    let _ = write!(
        s,
        "DEM: the elevation the land cover was drawn from (the same function),\n\
sampled at cell centres of a 25 m grid (the national 1:50 000 DEM's cell),\n\
origin x = {:.0}, y = {:.0}, {} × {} cells, rounded to whole metres (Int16, as\n\
SRTM/ASTER), nodata {}, PREDICTOR=2. Two tiles side by side, columns {:?}, so a\n\
3×3 slope window crosses a tile edge. A round void of {:.0} m radius at\n\
({:.0}, {:.0}) is nodata, as SRTM voids are. Its cells do not line up with the\n\
30 m land cover: each land-cover cell takes the slope of the DEM cell under\n\
its centre.\n\n\
Land survey (`dltb.gpkg`; the larger survey layers are in `landuse/`, see\n\
below): a jittered lattice of parcels ({} × {} m, {} × {}) over the\n\
Azhuang loess; each parcel takes the 2019 land cover at its centre as its\n\
class: `DLBM` 0102 水浇地 (valley floors) / 0103 旱地 (cropland), 0301\n\
乔木林地, 0305 灌木林地, 0404 其他草地, 1101 河流水面, 0702 农村宅基地,\n\
0602 采矿用地; `BSM` is the parcel's id. Parcels tile without gaps.\n\n\
NDVI: on the land cover's 30 m grid, drawn from each cell's class (forest\n\
0.80, shrub 0.68, grass 0.52, cropland 0.56 in 2019 and 0.46 in 2024 — the\n\
later scene is later in the season —, wetland 0.40, built 0.14, mine 0.10,\n\
water −0.05) plus smooth variation (±0.07, the same both years), ±0.01 of\n\
year-to-year noise and +0.01 of greening by 2024, in steps of 0.002; stored\n\
as Int16 × 10000 with the band's scale 0.0001, nodata −32768 under the\n\
year's clouds. Mine A growing into HX-JSG-02 lowers that red line's mean NDVI;\n\
Azhuang's seat and the late-season cropland lower HX-AZ-03's.\n\n\
Annual series: the land cover of 2020–2023 (one GeoTIFF each; 2019 and\n\
2024 are the VRTs above). Every cell whose class differs between 2019 and\n\
2024 takes its 2024 class in one year from 2020 to 2024, chosen by smooth\n\
noise (neighbouring cells change together), so the forest cover of each\n\
town moves year by year from the 2019 value to the 2024 one.\n\n",
        crate::terrain_io::DEM_GRID.x0,
        crate::terrain_io::DEM_GRID.y0,
        crate::terrain_io::DEM_GRID.width,
        crate::terrain_io::DEM_GRID.height,
        crate::terrain_io::DEM_NODATA,
        crate::terrain_io::DEM_TILE_COLS,
        crate::terrain_io::DEM_VOID.1,
        crate::terrain_io::DEM_VOID.0.0,
        crate::terrain_io::DEM_VOID.0.1,
        crate::terrain_io::PARCELS.1.0,
        crate::terrain_io::PARCELS.1.1,
        crate::terrain_io::PARCELS.2.0,
        crate::terrain_io::PARCELS.2.1,
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
    s.push_str(&crate::landuse_readme::landuse_section(inp.landuse));
    s
}
