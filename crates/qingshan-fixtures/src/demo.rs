//! The committed demo fixture set: two towns, land cover 2019 and 2024,
//! red lines 2019 and 2024.

use std::path::{Path, PathBuf};

use gdal::spatial_ref::CoordTransform;
use geo::{Area, MultiPolygon};
use rayon::prelude::*;

use crate::error::{GdalContext, Result, io};
use crate::geom::{self, Change, RedLine, Town};
use crate::landscape::{CENTRE, REGION, classes_local};
use crate::raster_io::{Grid, TiffSpec, VrtTile, rel, write_tiff, write_vrt};
use crate::readme::{ReadmeInput, readme_text};
use crate::stats::histogram;
use crate::vector_io::{Feat, Field, Prop, srs, write_geojson, write_ogr};
use crate::{LanduseSummary, YearFiles, clcd_class};

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
pub(crate) const TILE_COLS: [(usize, usize); 2] = [(0, 413), (413, 387)];
pub(crate) const TILE_ROWS: [(usize, usize); 2] = [(0, 291), (291, 309)];
/// GeoTIFF block size of the demo rasters.
pub(crate) const DEMO_BLOCK: usize = 128;
/// DEFLATE level of the demo rasters.
pub(crate) const DEMO_ZLEVEL: u32 = 9;
/// Horizontal differencing does not help categorical data here (checked:
/// the tiles come out larger with PREDICTOR=2).
const DEMO_PREDICTOR: bool = false;
/// Pixel size of the geographic raster (degrees).
const LONLAT_RES: f64 = 1.0 / 4000.0;
/// The years of the demo.
pub(crate) const DEMO_YEARS: [u16; 2] = [2019, 2024];
/// Fixed timestamp written into the GeoPackage (for byte-identical output).
pub(crate) const GPKG_DATE: &str = "2024-06-30T00:00:00Z";
/// Fixed date written into the DBF header.
pub(crate) const DBF_DATE: &str = "2024-06-30";

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
    /// The DEM tiles (Int16 metres, EPSG:4545, 25 m).
    pub dem: Vec<PathBuf>,
    /// Land-survey parcels (GeoPackage, layer `DLTB`, EPSG:4545).
    pub parcels: PathBuf,
    /// NDVI of both years (Int16 × 10000, scale 0.0001, EPSG:4545, 30 m).
    pub ndvi: Vec<PathBuf>,
    /// Land cover of the years between the two (2020–2023), one file each.
    pub series: Vec<PathBuf>,
    /// The land-survey (三调 DLTB) layers of both towns, 2019 and 2024,
    /// in `landuse/`, and what they hold.
    pub landuse: LanduseSummary,
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
        v.extend(self.dem.iter().cloned());
        v.push(self.parcels.clone());
        v.extend(self.ndvi.iter().cloned());
        v.extend(self.series.iter().cloned());
        v.extend(self.landuse.files.iter().cloned());
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
    let classes = demo_classes();
    let years = write_land_cover(&lc_dir, &classes)?;
    let lonlat = lc_dir.join("clcd_2019_lonlat.tif");
    let lonlat_grid = write_lonlat(&lonlat)?;
    let towns = geom::towns()?;
    let (towns_geojson, towns_shapefile) = write_towns(out_dir, &towns)?;
    let rl19 = geom::redlines_2019()?;
    let rl24 = geom::redlines_2024()?;
    let (redlines_2019, redlines_2024) = write_redlines(out_dir, &towns, &rl19, &rl24)?;
    let dem = crate::terrain_io::write_dem(&out_dir.join("dem"))?;
    let parcels = out_dir.join("dltb.gpkg");
    gdal::config::set_thread_local_config_option("OGR_CURRENT_DATE", GPKG_DATE)
        .ctx(|| "setting OGR_CURRENT_DATE".into())?;
    let written_parcels = crate::terrain_io::write_parcels(&parcels);
    gdal::config::clear_thread_local_config_option("OGR_CURRENT_DATE")
        .ctx(|| "clearing OGR_CURRENT_DATE".into())?;
    written_parcels?;
    let ndvi = crate::vegetation::write_ndvi(&out_dir.join("ndvi"), &classes, &DEMO_YEARS)?;
    let series = crate::vegetation::write_series(&lc_dir.join("series"), &classes[0], &classes[1])?;
    let landuse = crate::landuse_files::write_landuse(&out_dir.join("landuse"), &towns)?;
    // Measurements for the manifest and the README.
    let forest = town_forest(&towns, &classes);
    let redlines = redline_areas(&rl19, &rl24);
    let readme = out_dir.join("README.md");
    let mut sizes = Vec::new();
    let mut written: Vec<&PathBuf> = years
        .iter()
        .flat_map(|y| y.tiles.iter().chain(std::iter::once(&y.vrt)))
        .collect();
    written.extend([&lonlat, &towns_geojson]);
    written.extend(towns_shapefile.iter());
    written.extend([&redlines_2019, &redlines_2024]);
    written.extend(dem.iter());
    written.push(&parcels);
    written.extend(ndvi.iter());
    written.extend(series.iter());
    written.extend(landuse.files.iter());
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
        landuse: &landuse,
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
        dem,
        parcels,
        ndvi,
        series,
        landuse,
    })
}

/// The land cover of both years: tiles and a VRT per year.
fn write_land_cover(lc_dir: &Path, classes: &[Vec<u8>]) -> Result<Vec<YearFiles>> {
    let g = DEMO_GRID;
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
                    rel_path: rel(&path, lc_dir),
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
    Ok(years)
}

/// The towns as GeoJSON and as a GBK Shapefile (all its files).
fn write_towns(out_dir: &Path, towns: &[Town]) -> Result<(PathBuf, Vec<PathBuf>)> {
    let towns_geojson = out_dir.join("towns.geojson");
    write_geojson(&towns_geojson, "towns", &town_feats(towns))?;
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
            Field::str("code", 9),
            Field::str("name", 32),
            Field::str("name_en", 32),
        ],
        &town_feats(towns),
        None,
        false,
    )?;
    let towns_shapefile: Vec<PathBuf> = ["shp", "shx", "dbf", "prj", "cpg"]
        .iter()
        .map(|e| shp.with_extension(e))
        .collect();

    Ok((towns_geojson, towns_shapefile))
}

/// The red lines: 2019 as GeoJSON, 2024 as a GeoPackage in EPSG:4490.
fn write_redlines(
    out_dir: &Path,
    towns: &[Town],
    rl19: &[RedLine],
    rl24: &[(RedLine, Change)],
) -> Result<(PathBuf, PathBuf)> {
    geom::check_redlines(towns, rl19)?;
    let rl24_lines: Vec<RedLine> = rl24.iter().map(|(r, _)| r.clone()).collect();
    geom::check_redlines(towns, &rl24_lines)?;
    let redlines_2019 = out_dir.join("redlines_2019.geojson");
    write_geojson(&redlines_2019, "redlines_2019", &redline_feats(rl19.iter()))?;
    let redlines_2024 = out_dir.join("redlines_2024.gpkg");
    let rl_fields = [
        Field::str("hx_id", 16),
        Field::str("name", 64),
        Field::str("town", 16),
        Field::str("function", 16),
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

    Ok((redlines_2019, redlines_2024))
}

/// Cells, nodata and forest of each town in each year.
fn town_forest(towns: &[Town], classes: &[Vec<u8>]) -> Vec<TownForest> {
    let g = DEMO_GRID;
    let mut forest = Vec::new();
    for t in towns {
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
    forest
}

/// Each red line's area in 2019 and 2024 and what happened to it.
fn redline_areas(rl19: &[RedLine], rl24: &[(RedLine, Change)]) -> Vec<RedLineArea> {
    let mut redlines = Vec::new();
    for (r, change) in rl24 {
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
    for o in rl19 {
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

    redlines
}
