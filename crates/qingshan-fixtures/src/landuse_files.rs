//! Writing the land-survey layers: `landuse/dltb_2019.gpkg`,
//! `dltb_2024.gpkg`, the 2019 layer as a GBK Shapefile, and a "dirty" 2019
//! layer with one known gap and one known overlap; and what they hold.
//!
//! Deliberate defects, for data-quality checks to find: five 2019 TBMJ
//! values 0.5 % too large (with KCMJ and TBDLMJ following them), and in the
//! dirty layer one polygon removed inside Azhuang (a gap) and one polygon
//! grown by one lattice cell over its neighbour inside Jinsuoguan (an
//! overlap). Everything else is consistent: TBMJ is the ellipsoidal area
//! rounded to 0.01 m², TBDLMJ = TBMJ − KCMJ.

use std::path::{Path, PathBuf};

use geo::{BoundingRect, Centroid, Contains, LineString, Point, Polygon};

use crate::demo::{DBF_DATE, GPKG_DATE};
use crate::ellipsoid::EllipsoidArea;
use crate::error::{Error, GdalContext, Result, io};
use crate::geom::Town;
use crate::landuse_codes::{CLASSES, is_cropland};
use crate::landuse_io::{
    Attrs, Parcel, cell_classes, demo_lattice, measure, number_first, number_next, parcels, round2,
};
use crate::landuse_lattice::{Lattice, Rings, vertex_count};
use crate::vector_io::{Field, LayerSpec, PolygonRow, write_layer};

/// A polygon whose recorded TBMJ is deliberately 0.5 % too large.
#[derive(Debug, Clone, PartialEq)]
pub struct PerturbedArea {
    /// Its BSM.
    pub bsm: String,
    /// Its class code.
    pub dlbm: String,
    /// The ellipsoidal area, rounded to 0.01 m² (what TBMJ should say).
    pub true_m2: f64,
    /// The TBMJ written.
    pub recorded_m2: f64,
}

/// One deliberate defect of the dirty layer.
#[derive(Debug, Clone, PartialEq)]
pub struct DirtyPatch {
    /// BSM of the polygon removed (gap) or grown (overlap).
    pub bsm: String,
    /// BSM of the neighbour it was grown over (overlap only).
    pub neighbour: Option<String>,
    /// Town id it lies in.
    pub town: String,
    /// Ellipsoidal area of the gap or the overlap (m²).
    pub area_m2: f64,
}

/// Polygons and area of one survey class in each version.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassTally {
    /// 三调 code.
    pub dlbm: String,
    /// 三调 name.
    pub dlmc: String,
    /// Flagged 国家特别规定灌木林地 (`TGGMBZ` = 1).
    pub tggm: bool,
    /// Where the generator puts it.
    pub from: String,
    /// Polygons in 2019 and 2024.
    pub polygons: [usize; 2],
    /// Ellipsoidal area in 2019 and 2024 (m², unperturbed).
    pub area_m2: [f64; 2],
}

/// What the land-survey layers hold (see `fixtures/README.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct LanduseSummary {
    /// Every file written.
    pub files: Vec<PathBuf>,
    /// The rectangle partitioned: x from, x to, y from, y to (EPSG:4545).
    pub rect: [f64; 4],
    /// Lattice cells across and from south to north.
    pub cells: [usize; 2],
    /// Lattice cell size (m).
    pub cell_size: [f64; 2],
    /// Polygons in 2019 and 2024.
    pub polygons: [usize; 2],
    /// Coordinates (ring closures included) in 2019 and 2024.
    pub vertices: [usize; 2],
    /// Most coordinates of one polygon in 2019 and 2024.
    pub max_vertices: [usize; 2],
    /// Cell sets cut into blocks (for having too many coordinates) in 2019
    /// and 2024.
    pub cut: [usize; 2],
    /// 2024 polygons that keep a 2019 polygon's geometry and BSM.
    pub kept: usize,
    /// The deliberately wrong 2019 TBMJ values.
    pub perturbed: Vec<PerturbedArea>,
    /// The gap of the dirty layer.
    pub gap: DirtyPatch,
    /// The overlap of the dirty layer.
    pub overlap: DirtyPatch,
    /// Per class.
    pub classes: Vec<ClassTally>,
}

/// How many 2019 TBMJ values are perturbed, and by what factor.
const PERTURBED: usize = 5;
const PERTURB_FACTOR: f64 = 1.005;

/// The DLTB fields (DBF-safe names, ≤ 10 bytes).
pub(crate) const DLTB_FIELDS: [Field; 11] = [
    Field::str("BSM", 18),
    Field::str("TBBH", 8),
    Field::str("DLBM", 5),
    Field::str("DLMC", 40),
    Field::str("ZLDWDM", 19),
    Field::real("TBMJ", 15, 2),
    Field::str("KCDLBM", 4),
    Field::real("KCXS", 6, 3),
    Field::real("KCMJ", 15, 2),
    Field::real("TBDLMJ", 15, 2),
    Field::int("TGGMBZ", 1),
];

/// GeoPackage layer options of the DLTB layers.
const GPKG_OPTIONS: [&str; 3] = ["FID=fid", "GEOMETRY_NAME=geom", "SPATIAL_INDEX=YES"];

fn polygon(rings: &Rings) -> Polygon {
    Polygon::new(
        LineString(rings[0].clone()),
        rings[1..].iter().map(|r| LineString(r.clone())).collect(),
    )
}

fn town<'a>(towns: &'a [Town], id: &str) -> Result<&'a Town> {
    towns
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| Error::Geometry(format!("no town {id}")))
}

/// Small hole-free polygons (4–12 cells) near a town, nearest its
/// centroid first.
fn candidates(town: &Town, parcels: &[Parcel]) -> Vec<usize> {
    let (Some(target), Some(bb)) = (town.geom.centroid(), town.geom.bounding_rect()) else {
        return Vec::new();
    };
    let mut c: Vec<(f64, usize)> = parcels
        .iter()
        .enumerate()
        .filter(|(_, p)| p.rings.len() == 1 && (4..=12).contains(&p.cells.len()))
        .filter_map(|(k, p)| {
            let m = Point::from(p.rings[0][0]);
            let inside_bb = m.x() > bb.min().x
                && m.x() < bb.max().x
                && m.y() > bb.min().y
                && m.y() < bb.max().y;
            inside_bb.then(|| ((m.x() - target.x()).hypot(m.y() - target.y()), k))
        })
        .collect();
    c.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    c.into_iter().map(|(_, k)| k).collect()
}

/// The dirty layer's defects: the polygon removed, and the polygon grown
/// over one cell of a neighbour (its index, the neighbour's, the cell).
struct Defects {
    gap: usize,
    over: usize,
    under: usize,
    cell: usize,
}

fn pick_defects(lat: &Lattice, towns: &[Town], parcels: &[Parcel]) -> Result<Defects> {
    let az = town(towns, "azhuang")?;
    let gap = candidates(az, parcels)
        .into_iter()
        .find(|&k| az.geom.contains(&polygon(&parcels[k].rings)))
        .ok_or_else(|| Error::Geometry("no polygon to remove inside Azhuang".into()))?;
    let mut owner = vec![0usize; lat.nx * lat.ny];
    for (k, p) in parcels.iter().enumerate() {
        for &c in &p.cells {
            owner[c] = k;
        }
    }
    let jsg = town(towns, "jinsuoguan")?;
    for a in candidates(jsg, parcels) {
        let pa = &parcels[a];
        if !jsg.geom.contains(&polygon(&pa.rings)) {
            continue;
        }
        for &c in &pa.cells {
            let (i, j) = lat.ij(c);
            let nbs = [
                (i + 1, j),
                (i, j + 1),
                (i.wrapping_sub(1), j),
                (i, j.wrapping_sub(1)),
            ];
            for (ni, nj) in nbs {
                if ni >= lat.nx || nj >= lat.ny {
                    continue;
                }
                let d = lat.cell(ni, nj);
                let b = owner[d];
                let pb = &parcels[b];
                if b == a || pb.class == pa.class || pb.cells.len() < 4 {
                    continue;
                }
                let cell = lat.trace(&[d], &|x, y| (x, y) == (ni, nj))?;
                if jsg.geom.contains(&polygon(&cell)) {
                    return Ok(Defects {
                        gap,
                        over: a,
                        under: b,
                        cell: d,
                    });
                }
            }
        }
    }
    Err(Error::Geometry(
        "no polygon to grow inside Jinsuoguan".into(),
    ))
}

/// Perturbs five TBMJ values (of cropland polygons spread over the layer,
/// none of the dirty layer's) and returns them.
fn perturb(parcels: &[Parcel], attrs: &mut [Attrs], avoid: &[usize]) -> Vec<PerturbedArea> {
    let crop: Vec<usize> = (0..parcels.len())
        .filter(|&k| is_cropland(parcels[k].class) && !avoid.contains(&k))
        .collect();
    let mut out = Vec::new();
    for k in 1..=PERTURBED {
        let i = crop[k * crop.len() / (PERTURBED + 1)];
        let a = &mut attrs[i];
        let true_m2 = a.tbmj;
        a.set_tbmj(true_m2 * PERTURB_FACTOR);
        out.push(PerturbedArea {
            bsm: a.bsm.clone(),
            dlbm: CLASSES[parcels[i].class as usize].dlbm.into(),
            true_m2,
            recorded_m2: a.tbmj,
        });
    }
    out
}

fn rows<'a>(
    parcels: &'a [Parcel],
    attrs: &'a [Attrs],
) -> impl Iterator<Item = Result<PolygonRow>> + 'a {
    parcels
        .iter()
        .zip(attrs)
        .map(|(p, a)| Ok((a.props(p.class), p.rings.clone())))
}

/// Runs `f` with GDAL's OGR_CURRENT_DATE fixed (byte-identical GeoPackages).
pub(crate) fn with_fixed_date<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    gdal::config::set_thread_local_config_option("OGR_CURRENT_DATE", GPKG_DATE)
        .ctx(|| "setting OGR_CURRENT_DATE".into())?;
    let r = f();
    gdal::config::clear_thread_local_config_option("OGR_CURRENT_DATE")
        .ctx(|| "clearing OGR_CURRENT_DATE".into())?;
    r
}

fn write_gpkg(path: &Path, rows: impl Iterator<Item = Result<PolygonRow>>) -> Result<()> {
    let spec = LayerSpec {
        path,
        driver: "GPKG",
        layer: "DLTB",
        options: &GPKG_OPTIONS,
        fields: &DLTB_FIELDS,
        epsg: 4545,
    };
    with_fixed_date(|| write_layer(&spec, rows)).map(|_| ())
}

fn write_shapefile(
    path: &Path,
    rows: impl Iterator<Item = Result<PolygonRow>>,
) -> Result<Vec<PathBuf>> {
    let date = format!("DBF_DATE_LAST_UPDATE={DBF_DATE}");
    let options = ["ENCODING=GBK", date.as_str(), "SPATIAL_INDEX=NO"];
    let spec = LayerSpec {
        path,
        driver: "ESRI Shapefile",
        layer: "DLTB",
        options: &options,
        fields: &DLTB_FIELDS,
        epsg: 4545,
    };
    write_layer(&spec, rows)?;
    Ok(["shp", "shx", "dbf", "prj", "cpg"]
        .iter()
        .map(|e| path.with_extension(e))
        .collect())
}

/// One survey version: polygons and attributes.
struct Version {
    parcels: Vec<Parcel>,
    attrs: Vec<Attrs>,
    /// Cell sets cut into blocks.
    cut: usize,
}

fn tallies(versions: &[Version; 2]) -> Vec<ClassTally> {
    let mut out: Vec<ClassTally> = CLASSES
        .iter()
        .map(|c| ClassTally {
            dlbm: c.dlbm.into(),
            dlmc: c.dlmc.into(),
            tggm: c.tggm,
            from: c.from.into(),
            polygons: [0; 2],
            area_m2: [0.0; 2],
        })
        .collect();
    for (y, v) in versions.iter().enumerate() {
        for (p, a) in v.parcels.iter().zip(&v.attrs) {
            let t = &mut out[p.class as usize];
            t.polygons[y] += 1;
            t.area_m2[y] += a.tbmj;
        }
    }
    out
}

/// Builds both versions (numbered, measured, unperturbed).
fn versions(lat: &Lattice, towns: &[Town]) -> Result<([Version; 2], usize)> {
    let [c19, c24] = cell_classes(lat);
    let (p19, cut19) = parcels(lat, &c19)?;
    let mut a19 = measure(towns, &p19)?;
    number_first(&mut a19);
    let (p24, cut24) = parcels(lat, &c24)?;
    let mut a24 = measure(towns, &p24)?;
    let kept = number_next(&p19, &a19, &p24, &mut a24);
    let v = [
        Version {
            parcels: p19,
            attrs: a19,
            cut: cut19,
        },
        Version {
            parcels: p24,
            attrs: a24,
            cut: cut24,
        },
    ];
    Ok((v, kept))
}

/// The dirty layer's rows: 2019 (as written) without the gap polygon, and
/// the grown polygon with its areas recomputed. Returns the rows and the
/// two patches.
fn dirty(
    lat: &Lattice,
    towns: &[Town],
    v19: &Version,
    written: &[Attrs],
    d: &Defects,
) -> Result<(Vec<PolygonRow>, DirtyPatch, DirtyPatch)> {
    let mut ea = EllipsoidArea::new()?;
    let pa = &v19.parcels[d.over];
    let mut cells = pa.cells.clone();
    cells.push(d.cell);
    cells.sort_unstable();
    let grown = lat.trace(&cells, &|i, j| cells.binary_search(&lat.cell(i, j)).is_ok())?;
    let (ci, cj) = lat.ij(d.cell);
    let cell = lat.trace(&[d.cell], &|i, j| (i, j) == (ci, cj))?;
    let mut rows = Vec::with_capacity(v19.parcels.len());
    for (k, (p, a)) in v19.parcels.iter().zip(written).enumerate() {
        if k == d.gap {
            continue;
        }
        if k == d.over {
            let mut a = a.clone();
            a.area_m2 = ea.polygon(&grown)?;
            a.set_tbmj(a.area_m2);
            rows.push((a.props(p.class), grown.clone()));
        } else {
            rows.push((a.props(p.class), p.rings.clone()));
        }
    }
    let town_of = |k: usize| {
        let z = v19.attrs[k].zldwdm;
        towns
            .iter()
            .find(|t| t.code == z)
            .map_or("", |t| t.id)
            .to_string()
    };
    let gap = DirtyPatch {
        bsm: v19.attrs[d.gap].bsm.clone(),
        neighbour: None,
        town: town_of(d.gap),
        area_m2: round2(v19.attrs[d.gap].area_m2),
    };
    let overlap = DirtyPatch {
        bsm: v19.attrs[d.over].bsm.clone(),
        neighbour: Some(v19.attrs[d.under].bsm.clone()),
        town: town_of(d.over),
        area_m2: round2(ea.polygon(&cell)?),
    };
    Ok((rows, gap, overlap))
}

/// Writes the land-survey layers into `dir` (normally `fixtures/landuse`).
pub(crate) fn write_landuse(dir: &Path, towns: &[Town]) -> Result<LanduseSummary> {
    io(std::fs::create_dir_all(dir), dir)?;
    let lat = demo_lattice(towns);
    lat.check()?;
    let (v, kept) = versions(&lat, towns)?;
    let d = pick_defects(&lat, towns, &v[0].parcels)?;
    let mut written = v[0].attrs.clone();
    let perturbed = perturb(&v[0].parcels, &mut written, &[d.gap, d.over, d.under]);
    let (dirty_rows, gap, overlap) = dirty(&lat, towns, &v[0], &written, &d)?;

    let f19 = dir.join("dltb_2019.gpkg");
    write_gpkg(&f19, rows(&v[0].parcels, &written))?;
    let f24 = dir.join("dltb_2024.gpkg");
    write_gpkg(&f24, rows(&v[1].parcels, &v[1].attrs))?;
    let shp = write_shapefile(
        &dir.join("dltb_2019_gbk.shp"),
        rows(&v[0].parcels, &written),
    )?;
    let fdirty = dir.join("dltb_2019_dirty.gpkg");
    write_gpkg(&fdirty, dirty_rows.into_iter().map(Ok))?;

    let mut files = vec![f19, f24];
    files.extend(shp);
    files.push(fdirty);
    let (w, h) = lat.cell_size();
    let count = |k: usize| v[k].parcels.iter().map(|p| vertex_count(&p.rings));
    Ok(LanduseSummary {
        files,
        rect: [lat.rect.0, lat.rect.1, lat.rect.2, lat.rect.3],
        cells: [lat.nx, lat.ny],
        cell_size: [w, h],
        polygons: [v[0].parcels.len(), v[1].parcels.len()],
        vertices: [count(0).sum(), count(1).sum()],
        max_vertices: [count(0).max().unwrap_or(0), count(1).max().unwrap_or(0)],
        cut: [v[0].cut, v[1].cut],
        kept,
        perturbed,
        gap,
        overlap,
        classes: tallies(&v),
    })
}
