//! Tests of the land-survey layers (`landuse/`), read back through GDAL and
//! checked against geometry computed here (geo, GDAL's own transforms).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use gdal::Dataset;
use gdal::vector::LayerAccess;
use geo::{
    Area, BooleanOps, BoundingRect, Centroid, Contains, Coord, GeodesicArea, Geometry, Intersects,
    MultiPolygon, Polygon, Validation,
};

use crate::LanduseSummary;
use crate::tests::{demo, repo_fixtures};
use crate::vector_io::srs;

/// One DLTB feature as read back.
#[derive(Debug, Clone)]
struct Row {
    bsm: String,
    dlbm: String,
    dlmc: String,
    zldwdm: String,
    tbmj: f64,
    kcdlbm: String,
    kcxs: f64,
    kcmj: f64,
    tbdlmj: f64,
    tggmbz: i32,
    /// EPSG:4545.
    poly: Polygon,
    /// The same, reprojected by OGR to EPSG:4490 (lon, lat).
    lonlat: Polygon,
}

fn as_polygon(g: Geometry) -> Polygon {
    match g {
        Geometry::Polygon(p) => p,
        Geometry::MultiPolygon(m) if m.0.len() == 1 => m.0[0].clone(),
        other => panic!("not a polygon: {other:?}"),
    }
}

fn read(path: &Path) -> Vec<Row> {
    let ds = Dataset::open(path).expect("open");
    let mut layer = ds.layer(0).expect("layer");
    let geo4490 = srs(4490).expect("srs");
    let mut out = Vec::new();
    for f in layer.features() {
        let s = |name: &str| {
            let i = f.field_index(name).expect("field");
            f.field_as_string(i).expect("value").unwrap_or_default()
        };
        let d = |name: &str| {
            let i = f.field_index(name).expect("field");
            f.field_as_double(i).expect("value").expect("not null")
        };
        let g = f.geometry().expect("geometry");
        let mut ll = g.clone();
        ll.transform_to_inplace(&geo4490).expect("reproject");
        let i = f.field_index("TGGMBZ").expect("field");
        out.push(Row {
            bsm: s("BSM"),
            dlbm: s("DLBM"),
            dlmc: s("DLMC"),
            zldwdm: s("ZLDWDM"),
            tbmj: d("TBMJ"),
            kcdlbm: s("KCDLBM"),
            kcxs: d("KCXS"),
            kcmj: d("KCMJ"),
            tbdlmj: d("TBDLMJ"),
            tggmbz: f.field_as_integer(i).expect("value").expect("not null"),
            poly: as_polygon(g.to_geo().expect("geo")),
            lonlat: as_polygon(ll.to_geo().expect("geo")),
        });
    }
    out
}

fn landuse() -> (&'static Path, &'static LanduseSummary) {
    let (dir, m) = demo();
    (dir.path(), &m.landuse)
}

fn layer(name: &str) -> Vec<Row> {
    read(&landuse().0.join("landuse").join(name))
}

/// A point in whole centimetres.
type Cm = (i64, i64);

/// Directed segments in whole centimetres, exterior counter-clockwise and
/// holes clockwise (interior on the left).
fn segments(p: &Polygon, out: &mut HashMap<(Cm, Cm), u32>) {
    let key = |c: &Coord| ((c.x * 100.0).round() as i64, (c.y * 100.0).round() as i64);
    let rings =
        std::iter::once((p.exterior(), true)).chain(p.interiors().iter().map(|h| (h, false)));
    for (ring, ccw) in rings {
        let mut pts: Vec<(i64, i64)> = ring.0.iter().map(key).collect();
        let twice: i128 = pts
            .windows(2)
            .map(|w| {
                i128::from(w[0].0) * i128::from(w[1].1) - i128::from(w[1].0) * i128::from(w[0].1)
            })
            .sum();
        if (twice > 0) != ccw {
            pts.reverse();
        }
        for w in pts.windows(2) {
            *out.entry((w[0], w[1])).or_insert(0) += 1;
        }
    }
}

/// The towns' bounding rectangle, from `towns.geojson` read by GDAL.
fn towns_rect() -> (f64, f64, f64, f64) {
    let ds = Dataset::open(landuse().0.join("towns.geojson")).expect("open");
    let layer = ds.layer(0).expect("layer");
    let e = layer.get_extent().expect("extent");
    (e.MinX, e.MaxX, e.MinY, e.MaxY)
}

fn check_partition(rows: &[Row], (x0, x1, y0, y1): (f64, f64, f64, f64)) {
    let rect = (x1 - x0) * (y1 - y0);
    let sum: f64 = rows.iter().map(|r| r.poly.unsigned_area()).sum();
    assert!(
        (sum - rect).abs() < 1e-6 * rect,
        "polygons {sum} m², rectangle {rect} m²"
    );
    let mut segs = HashMap::new();
    for r in rows {
        segments(&r.poly, &mut segs);
    }
    let on_side = |a: (i64, i64), b: (i64, i64)| {
        let cm = |v: f64| (v * 100.0).round() as i64;
        (a.0 == b.0 && (a.0 == cm(x0) || a.0 == cm(x1)))
            || (a.1 == b.1 && (a.1 == cm(y0) || a.1 == cm(y1)))
    };
    let mut sides = 0;
    for (&(a, b), &n) in &segs {
        assert_eq!(n, 1, "segment {a:?} → {b:?} used {n} times");
        if on_side(a, b) {
            sides += 1;
            assert!(
                !segs.contains_key(&(b, a)),
                "side segment {a:?} → {b:?} has a twin"
            );
        } else {
            assert_eq!(
                segs.get(&(b, a)),
                Some(&1),
                "interior segment {a:?} → {b:?} has no reversed twin"
            );
        }
    }
    assert!(sides > 100);
}

#[test]
fn each_version_partitions_the_towns_rectangle() {
    let (_, l) = landuse();
    for (k, name) in ["dltb_2019.gpkg", "dltb_2024.gpkg"].into_iter().enumerate() {
        let rows = layer(name);
        assert_eq!(rows.len(), l.polygons[k]);
        check_partition(&rows, towns_rect());
        for r in &rows {
            assert!(
                r.poly.is_valid(),
                "{} {}: {:?}",
                name,
                r.bsm,
                r.poly.validation_errors()
            );
        }
        let n: usize = rows
            .iter()
            .map(|r| {
                r.poly.exterior().0.len()
                    + r.poly.interiors().iter().map(|h| h.0.len()).sum::<usize>()
            })
            .sum();
        assert_eq!(n, l.vertices[k]);
        assert!(
            rows.iter().any(|r| !r.poly.interiors().is_empty()),
            "no polygon with a hole"
        );
    }
}

#[test]
fn areas_are_ellipsoidal_and_the_deductions_add_up() {
    let (dir, l) = landuse();
    let perturbed: BTreeMap<&str, f64> = l
        .perturbed
        .iter()
        .map(|p| (p.bsm.as_str(), p.true_m2))
        .collect();
    assert_eq!(perturbed.len(), 5);
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README");
    for name in ["dltb_2019.gpkg", "dltb_2024.gpkg", "dltb_2019_dirty.gpkg"] {
        let rows = layer(name);
        let mut seen = HashSet::new();
        let mut off = 0;
        for r in &rows {
            assert!(seen.insert(r.bsm.clone()), "{name}: BSM {} twice", r.bsm);
            assert!(
                (r.tbdlmj - (r.tbmj - r.kcmj)).abs() < 1e-6,
                "{name} {}",
                r.bsm
            );
            assert!((r.kcmj - (r.tbmj * r.kcxs * 100.0).round() / 100.0).abs() < 1e-6);
            let crop = r.dlbm.starts_with("01");
            assert_eq!(r.kcdlbm, if crop { "1203" } else { "" });
            let table = [0.0, 0.032, 0.080, 0.136, 0.183];
            assert!(if crop {
                table.contains(&r.kcxs)
            } else {
                r.kcxs == 0.0
            });
            let geodesic = r.lonlat.geodesic_area_unsigned();
            let planar = r.poly.unsigned_area();
            // Gauss–Krüger scale at ~94 km from the central meridian: the
            // ellipsoidal area is ~2.2e-4 smaller than the planar one.
            assert!(
                geodesic < planar && geodesic > planar * (1.0 - 4e-4),
                "{name} {}",
                r.bsm
            );
            if name != "dltb_2024.gpkg" && perturbed.contains_key(r.bsm.as_str()) {
                off += 1;
                assert!((r.tbmj / geodesic - 1.005).abs() < 1e-4, "{name} {}", r.bsm);
                assert!((perturbed[r.bsm.as_str()] - geodesic).abs() <= 0.01);
                assert!(readme.contains(&format!("| {} | {} |", r.bsm, r.dlbm)));
            } else {
                assert!(
                    (r.tbmj - geodesic).abs() <= 0.01,
                    "{name} {}: TBMJ {} vs {geodesic}",
                    r.bsm,
                    r.tbmj
                );
            }
        }
        assert_eq!(off, if name == "dltb_2024.gpkg" { 0 } else { 5 }, "{name}");
    }
}

#[test]
fn classes_codes_and_towns_are_as_documented() {
    let rows = layer("dltb_2019.gpkg");
    let towns = crate::geom::towns().expect("towns");
    let codes: HashSet<&str> = rows.iter().map(|r| r.dlbm.as_str()).collect();
    for c in [
        "0102", "0103", "0201", "0301", "0301K", "0305", "0307", "0401", "0404", "0601", "0602",
        "0701", "0702", "1003", "1101", "1104", "1205", "1206",
    ] {
        assert!(codes.contains(c), "no {c}");
    }
    for r in &rows {
        let class = crate::landuse_codes::CLASSES
            .iter()
            .find(|c| c.dlbm == r.dlbm && i32::from(c.tggm) == r.tggmbz);
        let class = class.unwrap_or_else(|| panic!("{} {} {}", r.bsm, r.dlbm, r.tggmbz));
        assert_eq!(class.dlmc, r.dlmc);
        let c = r.poly.centroid().expect("centroid");
        let town = towns
            .iter()
            .find(|t| t.geom.contains(&c))
            .map_or("", |t| t.code);
        assert_eq!(r.zldwdm, town, "{}", r.bsm);
    }
    assert!(
        rows.iter().any(|r| r.tggmbz == 1)
            && rows.iter().any(|r| r.dlbm == "0305" && r.tggmbz == 0)
    );
    for z in ["610203101", "610203102", ""] {
        assert!(rows.iter().any(|r| r.zldwdm == z));
    }
}

#[test]
fn unchanged_polygons_keep_their_bsm_in_2024() {
    let (_, l) = landuse();
    let key = |r: &Row| {
        let wkb = |p: &Polygon| format!("{:?}", p);
        (r.dlbm.clone(), r.tggmbz, wkb(&r.poly))
    };
    let old = layer("dltb_2019.gpkg");
    let new = layer("dltb_2024.gpkg");
    let by_shape: HashMap<_, &str> = old.iter().map(|r| (key(r), r.bsm.as_str())).collect();
    let by_bsm: HashMap<&str, &Row> = old.iter().map(|r| (r.bsm.as_str(), r)).collect();
    let last = old.iter().map(|r| r.bsm.clone()).max().expect("rows");
    let mut kept = 0;
    for r in &new {
        match by_shape.get(&key(r)) {
            Some(&b) => {
                assert_eq!(b, r.bsm, "unchanged polygon renumbered");
                assert_eq!(by_bsm[b].poly, r.poly);
                kept += 1;
            }
            None => assert!(r.bsm > last, "changed polygon {} keeps an old BSM", r.bsm),
        }
    }
    assert_eq!(kept, l.kept);
    assert!(
        kept > new.len() / 2 && kept < new.len(),
        "{kept} of {}",
        new.len()
    );
}

#[test]
fn the_gbk_shapefile_holds_gbk_and_reads_back() {
    let dir = landuse().0.join("landuse");
    let cpg = std::fs::read_to_string(dir.join("dltb_2019_gbk.cpg")).expect("cpg");
    assert_eq!(cpg.trim(), "GBK");
    let dbf = std::fs::read(dir.join("dltb_2019_gbk.dbf")).expect("dbf");
    // 旱 is 0xBA 0xB5 and 林 0xC1 0xD6 in GBK; 林 in UTF-8 is E6 9E 97.
    assert!(dbf.windows(2).any(|w| w == [0xBA, 0xB5]));
    assert!(dbf.windows(2).any(|w| w == [0xC1, 0xD6]));
    assert!(!dbf.windows(3).any(|w| w == "林".as_bytes()));
    let shp = read(&dir.join("dltb_2019_gbk.shp"));
    let gpkg = layer("dltb_2019.gpkg");
    assert_eq!(shp.len(), gpkg.len());
    for (a, b) in shp.iter().zip(&gpkg) {
        assert_eq!(
            (&a.bsm, &a.dlbm, &a.dlmc, a.tbmj, a.tbdlmj),
            (&b.bsm, &b.dlbm, &b.dlmc, b.tbmj, b.tbdlmj)
        );
    }
    assert!(shp.iter().any(|r| r.dlmc == "旱地") && shp.iter().any(|r| r.dlmc == "乔木林地"));
    // The DBF has no language driver id: GDAL decodes through the .cpg, and
    // without it returns other text.
    assert_eq!(dbf[29], 0);
    let bare = tempfile::tempdir().expect("temp dir");
    for ext in ["shp", "shx", "dbf", "prj"] {
        let name = format!("dltb_2019_gbk.{ext}");
        std::fs::copy(dir.join(&name), bare.path().join(&name)).expect("copy");
    }
    let ds = Dataset::open(bare.path().join("dltb_2019_gbk.shp")).expect("open");
    let mut layer = ds.layer(0).expect("layer");
    let f = layer.features().next().expect("a feature");
    let raw = f.field_as_string(f.field_index("DLMC").expect("DLMC"));
    assert!(
        !matches!(raw, Ok(Some(t)) if t == gpkg[0].dlmc),
        "read right without the .cpg"
    );
}

#[test]
fn the_dirty_layer_has_the_documented_gap_and_overlap() {
    let (_, l) = landuse();
    let clean = layer("dltb_2019.gpkg");
    let dirty = layer("dltb_2019_dirty.gpkg");
    assert_eq!(dirty.len(), clean.len() - 1);
    let towns = crate::geom::towns().expect("towns");
    let town = |id: &str| &towns.iter().find(|t| t.id == id).expect("town").geom;
    // The gap: the removed polygon, inside Azhuang.
    let gone: Vec<&Row> = clean
        .iter()
        .filter(|r| !dirty.iter().any(|d| d.bsm == r.bsm))
        .collect();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].bsm, l.gap.bsm);
    assert!(town("azhuang").contains(&gone[0].poly));
    assert!((gone[0].lonlat.geodesic_area_unsigned() - l.gap.area_m2).abs() <= 0.01);
    // The overlap: the grown polygon over its (unchanged) neighbour.
    let find = |rows: &[Row], b: &str| rows.iter().find(|r| r.bsm == b).expect("bsm").clone();
    let grown = find(&dirty, &l.overlap.bsm);
    let under = find(&dirty, l.overlap.neighbour.as_deref().expect("neighbour"));
    assert_eq!(under.poly, find(&clean, &under.bsm).poly);
    assert!(town("jinsuoguan").contains(&grown.poly));
    let both = MultiPolygon::new(vec![grown.poly.clone()])
        .intersection(&MultiPolygon::new(vec![under.poly.clone()]));
    let grew = grown.poly.unsigned_area() - find(&clean, &grown.bsm).poly.unsigned_area();
    assert!(
        (both.unsigned_area() - grew).abs() < 1e-3 * grew,
        "{} vs {grew}",
        both.unsigned_area()
    );
    // In ellipsoidal terms, as the README says (overlap ≈ planar × scale).
    assert!((l.overlap.area_m2 / both.unsigned_area() - 1.0).abs() < 4e-4);
    // Nothing else overlaps or is missing: planar areas add up.
    let (x0, x1, y0, y1) = towns_rect();
    let sum: f64 = dirty.iter().map(|r| r.poly.unsigned_area()).sum();
    let expect = (x1 - x0) * (y1 - y0) - gone[0].poly.unsigned_area() + grew;
    assert!((sum - expect).abs() < 1e-6 * expect);
}

/// The committed `fixtures/landuse/` layers are the ones the generator
/// writes now (features, not bytes: GeoPackage bytes depend on the GDAL
/// build, TBMJ's last digit on PROJ).
#[test]
fn committed_landuse_layers_are_up_to_date() {
    let repo = repo_fixtures().join("landuse");
    if !repo.join("dltb_2019.gpkg").exists() {
        return;
    }
    for name in [
        "dltb_2019.gpkg",
        "dltb_2024.gpkg",
        "dltb_2019_dirty.gpkg",
        "dltb_2019_gbk.shp",
    ] {
        let (a, b) = (layer(name), read(&repo.join(name)));
        assert_eq!(a.len(), b.len(), "fixtures/landuse/{name} is stale");
        for (x, y) in a.iter().zip(&b) {
            let same = x.bsm == y.bsm
                && x.dlbm == y.dlbm
                && x.poly == y.poly
                && (x.tbmj - y.tbmj).abs() <= 0.011;
            assert!(same, "fixtures/landuse/{name} is stale at {}", x.bsm);
        }
    }
}

#[test]
fn shapefile_writers_refuse_field_names_a_dbf_cannot_hold() {
    use crate::vector_io::{Field, LayerSpec, write_layer, write_ogr};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.shp");
    let long = [
        Field::str("TEN_BYTES_", 4),
        Field::real("ELEVENBYTES", 8, 2),
    ];
    let spec = LayerSpec {
        path: &path,
        driver: "ESRI Shapefile",
        layer: "t",
        options: &[],
        fields: &long,
        epsg: 4545,
    };
    let err = write_layer(&spec, std::iter::empty()).expect_err("long name accepted");
    assert!(
        matches!(&err, crate::Error::FieldName { name, .. } if name == "ELEVENBYTES"),
        "{err}"
    );
    assert!(!path.exists());
    let err = write_ogr(&path, "ESRI Shapefile", "t", &[], &long, &[], None, true)
        .expect_err("long name accepted");
    assert!(matches!(err, crate::Error::FieldName { .. }));
    // Ten bytes are fine, and a GeoPackage takes long names.
    let spec = LayerSpec {
        fields: &long[..1],
        ..spec
    };
    assert_eq!(write_layer(&spec, std::iter::empty()).expect("write"), 0);
    let gpkg = dir.path().join("t.gpkg");
    let spec = LayerSpec {
        path: &gpkg,
        driver: "GPKG",
        fields: &long,
        ..spec
    };
    assert_eq!(write_layer(&spec, std::iter::empty()).expect("write"), 0);
}

#[test]
fn ridge_coefficients_follow_the_slope_grades() {
    use crate::landuse_io::ridge_coefficient;
    let tan2 = 0.034_920_769_491_747_73;
    assert_eq!(ridge_coefficient(0.0), 0.0);
    assert_eq!(ridge_coefficient(tan2), 0.0);
    assert_eq!(ridge_coefficient(tan2 * 1.000_001), 0.032);
    assert_eq!(ridge_coefficient(0.2), 0.080);
    assert_eq!(ridge_coefficient(0.3), 0.136);
    assert_eq!(ridge_coefficient(0.5), 0.183);
    assert_eq!(ridge_coefficient(5.0), 0.183);
}

#[test]
fn the_landuse_bench_is_a_deterministic_partition_with_its_zones() {
    use crate::{LanduseBenchOptions, write_landuse_bench};
    let opts = LanduseBenchOptions {
        polygons: 1500,
        seed: 3,
    };
    let (d1, d2) = (
        tempfile::tempdir().expect("temp"),
        tempfile::tempdir().expect("temp"),
    );
    let m = write_landuse_bench(&opts, d1.path()).expect("bench");
    write_landuse_bench(&opts, d2.path()).expect("bench");
    for f in ["dltb.gpkg", "towns.gpkg", "redlines.gpkg"] {
        let (a, b) = (
            std::fs::read(d1.path().join(f)),
            std::fs::read(d2.path().join(f)),
        );
        assert!(
            a.expect("read") == b.expect("read"),
            "{f} differs between two runs"
        );
    }
    let rows = read(&m.dltb);
    assert_eq!(rows.len(), m.polygons);
    assert!((1400..=1600).contains(&rows.len()));
    check_partition(&rows, (m.rect[0], m.rect[1], m.rect[2], m.rect[3]));
    let mut bsm = HashSet::new();
    let mut coords = 0;
    for r in &rows {
        let n = r.poly.exterior().0.len();
        coords += n as u64;
        assert!((50..=500).contains(&n), "{} has {n} coordinates", r.bsm);
        assert!(bsm.insert(r.bsm.clone()));
        assert!(
            (r.tbmj - r.lonlat.geodesic_area_unsigned()).abs() <= 0.01,
            "{}",
            r.bsm
        );
        assert!((r.tbdlmj - (r.tbmj - r.kcmj)).abs() < 1e-6);
    }
    assert_eq!(coords, m.vertices);
    let zones = |f: &Path| -> Vec<(String, Polygon)> {
        let ds = Dataset::open(f).expect("open");
        let mut layer = ds.layer(0).expect("layer");
        layer
            .features()
            .map(|f| {
                let id = f
                    .field_as_string(f.field_index("zone_id").expect("zone_id"))
                    .expect("v")
                    .expect("v");
                (
                    id,
                    as_polygon(f.geometry().expect("geom").to_geo().expect("geo")),
                )
            })
            .collect()
    };
    let (towns, lines) = (zones(&m.towns), zones(&m.redlines));
    assert_eq!(towns.len(), 2);
    assert_eq!(lines.len(), 150);
    let rect = (m.rect[1] - m.rect[0]) * (m.rect[3] - m.rect[2]);
    let covered: f64 = towns.iter().map(|t| t.1.unsigned_area()).sum();
    assert!(
        covered > 0.7 * rect && covered < rect,
        "{covered} of {rect}"
    );
    for set in [&towns, &lines] {
        for (k, (id, p)) in set.iter().enumerate() {
            assert!(p.is_valid(), "{id}");
            for (_, q) in &set[k + 1..] {
                let (a, b) = (
                    p.bounding_rect().expect("bbox"),
                    q.bounding_rect().expect("bbox"),
                );
                if !a.intersects(&b) {
                    continue;
                }
                let both = MultiPolygon::new(vec![p.clone()])
                    .intersection(&MultiPolygon::new(vec![q.clone()]));
                assert!(both.unsigned_area() < 1e-6, "{id} overlaps");
            }
        }
    }
}
