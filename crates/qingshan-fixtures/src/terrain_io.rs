//! The demo's terrain: a DEM of the landscape's own elevation (the one its
//! land cover was drawn from), and land-survey (三调 DLTB-like) parcels
//! with cropland on it — the inputs of `qingshan slope`.

use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::error::{Result, io};
use crate::landscape::{CENTRE, REGION, class_local, terrain};
use crate::noise::{splitmix64, unit};
use crate::raster_io::{Grid, Int16Tiff, write_int16};
use crate::vector_io::{Feat, Field, Prop, write_ogr};

/// The DEM grid: EPSG:4545, 25 m (the national 1:50 000 DEM's cell),
/// 960 × 720 cells over the demo region.
pub(crate) const DEM_GRID: Grid = Grid {
    x0: REGION.0,
    y0: REGION.3,
    dx: 25.0,
    dy: 25.0,
    width: 960,
    height: 720,
};

/// Column splits of the two DEM tiles: (offset, size).
pub(crate) const DEM_TILE_COLS: [(usize, usize); 2] = [(0, 517), (517, 443)];

/// Nodata of the DEM (Int16).
pub(crate) const DEM_NODATA: i16 = -32768;

/// A void in the DEM (as SRTM has): centre (x, y) in EPSG:4545 and radius (m).
pub(crate) const DEM_VOID: ((f64, f64), f64) = ((600_150.0, 3_895_400.0), 180.0);

/// Height (m, rounded as an Int16 DEM stores it) at a point, or nodata.
fn height(p: (f64, f64)) -> i16 {
    let (dx, dy) = (p.0 - DEM_VOID.0.0, p.1 - DEM_VOID.0.1);
    if dx * dx + dy * dy < DEM_VOID.1 * DEM_VOID.1 {
        return DEM_NODATA;
    }
    let e = terrain((p.0 - CENTRE.0, p.1 - CENTRE.1)).elev.v;
    e.round() as i16
}

/// Writes the DEM as two Int16 GeoTIFF tiles in `dir` (`dem_25m_c0.tif`,
/// `dem_25m_c1.tif`); the tiles share the grid exactly.
pub(crate) fn write_dem(dir: &Path) -> Result<Vec<PathBuf>> {
    io(std::fs::create_dir_all(dir), dir)?;
    let mut out = Vec::new();
    for (k, &(col, width)) in DEM_TILE_COLS.iter().enumerate() {
        let path = dir.join(format!("dem_25m_c{k}.tif"));
        let g = DEM_GRID.window(col, 0, width, DEM_GRID.height);
        let data: Vec<i16> = (0..g.height)
            .flat_map(|r| (0..g.width).map(move |c| height(g.centre(c, r))))
            .collect();
        write_int16(
            &Int16Tiff {
                path: &path,
                grid: g,
                nodata: DEM_NODATA,
                description: "elevation (m, synthetic)",
                scale: None,
            },
            data,
        )?;
        out.push(path);
    }
    Ok(out)
}

/// Parcel lattice of the land-survey layer: origin, cell size (m) and
/// size in parcels.
pub(crate) const PARCELS: ((f64, f64), (f64, f64), (usize, usize)) =
    ((595_000.0, 3_902_500.0), (240.0, 160.0), (40, 45));

/// A lattice vertex of the parcel grid, jittered (shared by the four
/// parcels meeting there, so parcels tile without gaps).
fn vertex(i: usize, j: usize) -> Coord {
    let ((x0, y0), (w, h), (ni, nj)) = PARCELS;
    let edge = i == 0 || j == 0 || i == ni || j == nj;
    let hash = splitmix64(0x5107_e000 ^ ((i as u64) << 20) ^ j as u64);
    let (jx, jy) = if edge {
        (0.0, 0.0)
    } else {
        (
            (unit(hash) - 0.5) * 0.3 * w,
            (unit(splitmix64(hash)) - 0.5) * 0.3 * h,
        )
    };
    Coord {
        x: ((x0 + i as f64 * w + jx) * 100.0).round() / 100.0,
        y: ((y0 - j as f64 * h + jy) * 100.0).round() / 100.0,
    }
}

/// Survey class of a parcel from the 2019 land cover at its centre:
/// (DLBM, DLMC).
fn survey_class(centre: (f64, f64)) -> (&'static str, &'static str) {
    let p = (centre.0 - CENTRE.0, centre.1 - CENTRE.1);
    match class_local(p, 2019) {
        1 if terrain(p).valley > 0.5 => ("0102", "水浇地"),
        1 => ("0103", "旱地"),
        2 => ("0301", "乔木林地"),
        3 => ("0305", "灌木林地"),
        5 => ("1101", "河流水面"),
        8 => ("0702", "农村宅基地"),
        7 => ("0602", "采矿用地"),
        _ => ("0404", "其他草地"),
    }
}

/// The land-survey parcels: a jittered lattice over the Azhuang loess
/// (9.6 × 7.2 km), each parcel one class from the land cover at its
/// centre. Returns the features (EPSG:4545).
pub(crate) fn parcels() -> Vec<Feat> {
    let (_, _, (ni, nj)) = PARCELS;
    let mut out = Vec::new();
    for j in 0..nj {
        for i in 0..ni {
            let ring = vec![
                vertex(i, j),
                vertex(i, j + 1),
                vertex(i + 1, j + 1),
                vertex(i + 1, j),
                vertex(i, j),
            ];
            let cx = ring[..4].iter().map(|c| c.x).sum::<f64>() / 4.0;
            let cy = ring[..4].iter().map(|c| c.y).sum::<f64>() / 4.0;
            let (dlbm, dlmc) = survey_class((cx, cy));
            let bsm = format!("61020310{:05}", j * ni + i + 1);
            out.push(Feat {
                id: Some(bsm.clone()),
                props: vec![
                    ("BSM", Prop::Str(bsm)),
                    ("DLBM", Prop::Str(dlbm.to_string())),
                    ("DLMC", Prop::Str(dlmc.to_string())),
                ],
                geom: MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]),
                single: true,
            });
        }
    }
    out
}

/// Writes the parcels as a GeoPackage, layer `DLTB`, EPSG:4545.
pub(crate) fn write_parcels(path: &Path) -> Result<()> {
    let fields = [
        Field::str("BSM", 18),
        Field::str("DLBM", 5),
        Field::str("DLMC", 30),
    ];
    write_ogr(
        path,
        "GPKG",
        "DLTB",
        &["FID=fid", "GEOMETRY_NAME=geom", "SPATIAL_INDEX=YES"],
        &fields,
        &parcels(),
        None,
        true,
    )
}

/// Slope (as its tangent) of the DEM at a point (EPSG:4545): Horn's 3 × 3
/// method on the DEM cell under the point, from the heights the DEM file
/// holds; where the window touches the void, the landscape's own gradient.
pub(crate) fn dem_slope(p: (f64, f64)) -> f64 {
    let g = DEM_GRID;
    let col = ((p.0 - g.x0) / g.dx).floor() as isize;
    let row = ((g.y0 - p.1) / g.dy).floor() as isize;
    let mut z = [[0.0f64; 3]; 3];
    for (dr, zr) in z.iter_mut().enumerate() {
        for (dc, zc) in zr.iter_mut().enumerate() {
            let (c, r) = (col + dc as isize - 1, row + dr as isize - 1);
            let x = g.x0 + (c as f64 + 0.5) * g.dx;
            let y = g.y0 - (r as f64 + 0.5) * g.dy;
            let h = height((x, y));
            if h == DEM_NODATA {
                return terrain((p.0 - CENTRE.0, p.1 - CENTRE.1)).elev.grad_norm();
            }
            *zc = f64::from(h);
        }
    }
    let dzdx =
        ((z[0][2] + 2.0 * z[1][2] + z[2][2]) - (z[0][0] + 2.0 * z[1][0] + z[2][0])) / (8.0 * g.dx);
    let dzdy =
        ((z[2][0] + 2.0 * z[2][1] + z[2][2]) - (z[0][0] + 2.0 * z[0][1] + z[0][2])) / (8.0 * g.dy);
    (dzdx * dzdx + dzdy * dzdy).sqrt()
}
