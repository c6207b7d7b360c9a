//! Tests of the written fixtures (they generate into temporary directories).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gdal::Dataset;
use gdal::Metadata;
use gdal::vector::LayerAccess;
use geo::{Area, BooleanOps, Contains, Coord, Geometry, MultiPolygon};

use crate::demo::DEMO_GRID;
use crate::landscape::{CENTRE, classes_local};
use crate::{DemoManifest, SyntheticOptions, clcd_class, write_demo, write_synthetic};

/// One demo set shared by the tests (generated once).
pub(crate) fn demo() -> &'static (tempfile::TempDir, DemoManifest) {
    static DEMO: OnceLock<(tempfile::TempDir, DemoManifest)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let m = write_demo(dir.path()).expect("write_demo");
        (dir, m)
    })
}

/// The repository's committed `fixtures/` directory.
pub(crate) fn repo_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn relative_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.push(p.strip_prefix(root).expect("prefix").to_path_buf());
            }
        }
    }
    let mut v = Vec::new();
    walk(root, root, &mut v);
    v.sort();
    v
}

/// Reads a GeoJSON FeatureCollection into (properties, geometry) pairs.
fn read_geojson(path: &Path) -> Vec<(serde_json::Map<String, serde_json::Value>, MultiPolygon)> {
    let text = std::fs::read_to_string(path).expect("read geojson");
    let fc: geojson::FeatureCollection = text.parse().expect("parse geojson");
    let crs = fc
        .foreign_members
        .as_ref()
        .and_then(|m| m.get("crs"))
        .and_then(|c| c.pointer("/properties/name"))
        .and_then(|n| n.as_str())
        .map(str::to_string);
    assert_eq!(crs.as_deref(), Some("urn:ogc:def:crs:EPSG::4545"));
    fc.features
        .into_iter()
        .map(|f| {
            let g: Geometry = f
                .geometry
                .clone()
                .expect("geometry")
                .try_into()
                .expect("geo geometry");
            let mp = match g {
                Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
                Geometry::MultiPolygon(m) => m,
                other => panic!("unexpected geometry {other:?}"),
            };
            (f.properties.clone().unwrap_or_default(), mp)
        })
        .collect()
}

#[test]
fn demo_is_byte_deterministic() {
    let (dir1, m1) = demo();
    let dir2 = tempfile::tempdir().expect("temp dir");
    let m2 = write_demo(dir2.path()).expect("write_demo");
    assert_eq!(m1.forest, m2.forest);
    let files = relative_files(dir1.path());
    assert_eq!(files, relative_files(dir2.path()));
    assert_eq!(files.len(), m1.files().len());
    for f in &files {
        let a = std::fs::read(dir1.path().join(f)).expect("read");
        let b = std::fs::read(dir2.path().join(f)).expect("read");
        assert!(a == b, "{} differs between two runs", f.display());
    }
}

#[test]
fn synthetic_is_byte_deterministic_and_well_formed() {
    let opts = SyntheticOptions {
        width: 700,
        height: 500,
        tiles_x: 3,
        tiles_y: 2,
        zones: 40,
        seed: 7,
        years: vec![2019, 2024],
        ..Default::default()
    };
    let d1 = tempfile::tempdir().expect("temp dir");
    let d2 = tempfile::tempdir().expect("temp dir");
    let m1 = write_synthetic(&opts, d1.path()).expect("write_synthetic");
    let m2 = write_synthetic(&opts, d2.path()).expect("write_synthetic");
    let files = relative_files(d1.path());
    assert_eq!(files, relative_files(d2.path()));
    assert_eq!(files.len(), 2 * (6 + 1) + 1);
    for f in &files {
        let a = std::fs::read(d1.path().join(f)).expect("read");
        let b = std::fs::read(d2.path().join(f)).expect("read");
        assert!(a == b, "{} differs between two runs", f.display());
    }
    assert_eq!(m1.years.len(), m2.years.len());
    for y in &m1.years {
        let ds = Dataset::open(&y.vrt).expect("open vrt");
        assert_eq!(ds.raster_size(), (700, 500));
        let band = ds.rasterband(1).expect("band");
        assert_eq!(band.block_size(), (128, 128));
        let data = band.read_band_as::<u8>().expect("read");
        assert!(data.data().iter().all(|&c| c <= 9));
        assert_eq!(y.tiles.len(), 6);
    }
    let zones = read_geojson(&m1.zones);
    assert_eq!(zones.len(), 40);
    assert_eq!(zones[0].0["zone_id"], "Z0001");
}

#[test]
fn towns_share_their_border_exactly() {
    let (dir, _) = demo();
    let towns = read_geojson(&dir.path().join("towns.geojson"));
    assert_eq!(towns.len(), 2);
    let (jsg, az) = (&towns[0].1, &towns[1].1);
    assert_eq!(towns[0].0["name"], "金锁关镇");
    assert_eq!(towns[1].0["code"], "610203102");
    // Jinsuoguan: main part + exclave; Azhuang: one part with one hole.
    assert_eq!(jsg.0.len(), 2);
    assert_eq!(az.0.len(), 1);
    assert_eq!(az.0[0].interiors().len(), 1);
    let union = jsg.union(az);
    let sum = jsg.unsigned_area() + az.unsigned_area();
    let rel = (union.unsigned_area() - sum).abs() / sum;
    assert!(rel < 1e-6, "union {} vs sum {sum}", union.unsigned_area());
    // No hole left in the union: the exclave fills Azhuang's hole.
    assert_eq!(union.0.len(), 1);
    assert!(union.0[0].interiors().is_empty());
    // The shared border is the same vertices (at least 100 of them).
    let key = |c: &Coord| ((c.x * 100.0).round() as i64, (c.y * 100.0).round() as i64);
    let a: std::collections::BTreeSet<_> = jsg.0[0].exterior().0.iter().map(key).collect();
    let shared = az.0[0]
        .exterior()
        .0
        .iter()
        .filter(|c| a.contains(&key(c)))
        .count();
    assert!(shared > 100, "only {shared} shared vertices");
    // The exclave ring is exactly Azhuang's hole, reversed.
    let mut hole: Vec<_> = az.0[0].interiors()[0].0.iter().map(key).collect();
    hole.reverse();
    let exclave: Vec<_> = jsg.0[1].exterior().0.iter().map(key).collect();
    assert_eq!(hole, exclave);
}

#[test]
fn redlines_lie_inside_their_town_and_do_not_overlap() {
    let (dir, _) = demo();
    let towns = read_geojson(&dir.path().join("towns.geojson"));
    let union = towns[0].1.union(&towns[1].1);
    let lines = read_geojson(&dir.path().join("redlines_2019.geojson"));
    assert_eq!(lines.len(), 7);
    assert!(lines.iter().any(|(_, g)| !g.0[0].interiors().is_empty()));
    for (i, (props, g)) in lines.iter().enumerate() {
        assert!(union.contains(g), "{} outside the towns", props["hx_id"]);
        let town = if props["town"] == "jinsuoguan" {
            &towns[0].1
        } else {
            &towns[1].1
        };
        assert!(town.contains(g), "{} outside its town", props["hx_id"]);
        for (_, h) in &lines[i + 1..] {
            assert!(g.intersection(h).unsigned_area() < 1e-6);
        }
    }
    // The 2024 version, read back through GDAL and projected to EPSG:4545.
    let geo24 = read_gpkg_4545(&dir.path().join("redlines_2024.gpkg"));
    assert_eq!(geo24.len(), 7);
    for (id, g) in &geo24 {
        // Reprojection moves vertices by nanometres: test with a 1 mm buffer
        // in area terms instead of strict containment.
        let outside = g.difference(&union).unsigned_area();
        assert!(outside < 1.0, "{id}: {outside} m² outside the towns");
    }
}

/// The 2024 red lines as (hx_id, geometry in EPSG:4545).
fn read_gpkg_4545(path: &Path) -> Vec<(String, MultiPolygon)> {
    let ds = Dataset::open(path).expect("open gpkg");
    let mut layer = ds.layer_by_name("redlines").expect("layer redlines");
    let srs = layer.spatial_ref().expect("srs");
    assert_eq!(srs.auth_code().expect("code"), 4490);
    let to = crate::vector_io::srs(4545).expect("srs");
    let mut out = Vec::new();
    for f in layer.features() {
        let i = f.field_index("hx_id").expect("field hx_id");
        let id = f.field_as_string(i).expect("field").expect("value");
        let mut g = f.geometry().expect("geometry").clone();
        g.transform_to_inplace(&to).expect("reproject");
        let g = match g.to_geo().expect("to geo") {
            Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
            Geometry::MultiPolygon(m) => m,
            other => panic!("unexpected {other:?}"),
        };
        out.push((id, g));
    }
    out
}

#[test]
fn redline_changes_are_as_documented() {
    let (dir, m) = demo();
    let old: std::collections::BTreeMap<String, MultiPolygon> =
        read_geojson(&dir.path().join("redlines_2019.geojson"))
            .into_iter()
            .map(|(p, g)| (p["hx_id"].as_str().unwrap_or_default().to_string(), g))
            .collect();
    let new: std::collections::BTreeMap<String, MultiPolygon> =
        read_gpkg_4545(&dir.path().join("redlines_2024.gpkg"))
            .into_iter()
            .collect();
    // Unchanged polygons: the same geometry up to reprojection round-off.
    for id in ["HX-JSG-01", "HX-AZ-01", "HX-AZ-03"] {
        let (a, b) = (&old[id], &new[id]);
        let d = a.xor(b).unsigned_area();
        assert!(d < 1e-3, "{id}: {d}");
    }
    assert!(!new.contains_key("HX-JSG-04"));
    assert!(!old.contains_key("HX-AZ-04") && new.contains_key("HX-AZ-04"));
    // HX-JSG-02 (2024) is HX-JSG-02 (2019) clipped by a vertical line.
    let (_, e24) = crate::geom::jsg02_edges();
    let bb = geo::BoundingRect::bounding_rect(&old["HX-JSG-02"]).expect("bbox");
    let half = geo::Rect::new(
        Coord {
            x: bb.min().x - 10.0,
            y: bb.min().y - 10.0,
        },
        Coord {
            x: e24,
            y: bb.max().y + 10.0,
        },
    )
    .to_polygon();
    let clipped = old["HX-JSG-02"].intersection(&half);
    let d = clipped.xor(&new["HX-JSG-02"]).unsigned_area();
    assert!(d < 1e-2, "clip differs by {d} m²");
    // HX-JSG-03 moved with the same area.
    let (a, b) = (
        old["HX-JSG-03"].unsigned_area(),
        new["HX-JSG-03"].unsigned_area(),
    );
    assert!((a - b).abs() < 1e-3);
    // Net: Jinsuoguan shrinks, Azhuang grows.
    let total = |town: &str, v2019: bool| -> f64 {
        m.redlines
            .iter()
            .filter(|r| r.town == town)
            .filter_map(|r| {
                if v2019 {
                    r.area_2019_m2
                } else {
                    r.area_2024_m2
                }
            })
            .sum()
    };
    assert!(total("jinsuoguan", false) < total("jinsuoguan", true));
    assert!(total("azhuang", false) > total("azhuang", true));
}

#[test]
fn tiles_align_on_one_grid_and_the_vrt_mosaics_them() {
    let (_, m) = demo();
    for y in &m.years {
        let vrt = Dataset::open(&y.vrt).expect("open vrt");
        assert_eq!(vrt.raster_size(), (800, 600));
        let gt = vrt.geo_transform().expect("gt");
        assert_eq!(gt, [582_000.0, 30.0, 0.0, 3_908_000.0, 0.0, -30.0]);
        let vband = vrt.rasterband(1).expect("band");
        assert_eq!(vband.no_data_value(), Some(0.0));
        assert_eq!(vband.description().expect("desc"), "CLCD land cover");
        let mosaic = vband.read_band_as::<u8>().expect("read vrt");
        let mut covered = 0;
        assert_eq!(y.tiles.len(), 4);
        for t in &y.tiles {
            let ds = Dataset::open(t).expect("open tile");
            let (w, h) = ds.raster_size();
            assert!(w % 128 != 0 && h % 128 != 0, "tile size {w} × {h}");
            let tgt = ds.geo_transform().expect("gt");
            assert_eq!((tgt[1], tgt[2], tgt[4], tgt[5]), (30.0, 0.0, 0.0, -30.0));
            let col = (tgt[0] - gt[0]) / 30.0;
            let row = (gt[3] - tgt[3]) / 30.0;
            assert_eq!(col.fract(), 0.0);
            assert_eq!(row.fract(), 0.0);
            assert_eq!(tgt[0].fract(), 0.0);
            assert_eq!(tgt[3].fract(), 0.0);
            assert_eq!(
                ds.spatial_ref().expect("srs").auth_code().expect("code"),
                4545
            );
            let band = ds.rasterband(1).expect("band");
            assert_eq!(band.block_size(), (128, 128));
            assert!(band.color_table().is_some());
            let data = band.read_band_as::<u8>().expect("read");
            let (col, row) = (col as usize, row as usize);
            for r in 0..h {
                let a = &data.data()[r * w..(r + 1) * w];
                let b = &mosaic.data()[(row + r) * 800 + col..(row + r) * 800 + col + w];
                assert_eq!(a, b);
            }
            covered += w * h;
        }
        assert_eq!(covered, 800 * 600);
        // Pixels are clcd_class at cell centres.
        for (col, row) in [(0, 0), (412, 290), (413, 291), (799, 599), (250, 400)] {
            let (x, yy) = DEMO_GRID.centre(col, row);
            assert_eq!(mosaic.data()[row * 800 + col], clcd_class(x, yy, y.year));
        }
    }
}

#[test]
fn lonlat_raster_is_geographic() {
    let (_, m) = demo();
    let ds = Dataset::open(&m.lonlat).expect("open");
    assert_eq!(
        ds.spatial_ref().expect("srs").auth_code().expect("code"),
        4490
    );
    let gt = ds.geo_transform().expect("gt");
    assert_eq!(gt[1], 0.00025);
    assert_eq!(gt[5], -0.00025);
    assert!(gt[0] < 108.91 && gt[0] > 108.8);
    assert!(gt[3] > 35.28 && gt[3] < 35.35);
    let band = ds.rasterband(1).expect("band");
    let data = band.read_band_as::<u8>().expect("read");
    let forest = data.data().iter().filter(|&&c| c == 2).count();
    assert!(forest > data.data().len() / 4);
}

#[test]
fn shapefile_names_are_gbk_and_read_back() {
    let (dir, _) = demo();
    let cpg = std::fs::read_to_string(dir.path().join("towns_gbk.cpg")).expect("cpg");
    assert_eq!(cpg.trim(), "GBK");
    // 金 is 0xBD 0xF0 in GBK.
    let dbf = std::fs::read(dir.path().join("towns_gbk.dbf")).expect("dbf");
    assert!(dbf.windows(2).any(|w| w == [0xBD, 0xF0]));
    assert!(!dbf.windows(3).any(|w| w == "金".as_bytes()));
    let ds = Dataset::open(dir.path().join("towns_gbk.shp")).expect("open shp");
    let mut layer = ds.layer(0).expect("layer");
    let names: Vec<String> = layer
        .features()
        .map(|f| {
            let i = f.field_index("name").expect("field name");
            f.field_as_string(i).expect("field").expect("value")
        })
        .collect();
    assert_eq!(names, ["金锁关镇", "阿庄镇"]);
}

#[test]
fn forest_shares_straddle_the_target() {
    let (_, m) = demo();
    let share = |town: &str, year: u16| {
        m.forest
            .iter()
            .find(|f| f.town == town && f.year == year)
            .map(|f| f.forest_share)
            .unwrap_or(f64::NAN)
    };
    let j = share("jinsuoguan", 2019);
    let a = share("azhuang", 2019);
    assert!((0.52..=0.58).contains(&j), "jinsuoguan {j}");
    assert!((0.38..=0.44).contains(&a), "azhuang {a}");
    for f in &m.forest {
        assert!(f.nodata_cells > 0, "{} {} has no cloud gap", f.town, f.year);
    }
}

#[test]
fn multi_year_evaluation_matches_clcd_class() {
    let years = [2019, 2024];
    let mut out = [0u8; 2];
    for k in 0..2000 {
        let x = 582_000.0 + (k as f64 * 7919.0) % 24_000.0;
        let y = 3_890_000.0 + (k as f64 * 104_729.0) % 18_000.0;
        classes_local((x - CENTRE.0, y - CENTRE.1), &years, &mut out);
        assert_eq!(out[0], clcd_class(x, y, 2019));
        assert_eq!(out[1], clcd_class(x, y, 2024));
        assert_eq!(clcd_class(x, y, 2010), clcd_class(x, y, 2019));
    }
}

#[test]
fn committed_fixtures_are_up_to_date() {
    let repo = repo_fixtures();
    if !repo.join("towns.geojson").exists() {
        // Not generated yet (fresh checkout of the generator alone).
        return;
    }
    let (dir, m) = demo();
    // Text files: byte for byte (pure Rust output).
    for f in [
        "towns.geojson",
        "redlines_2019.geojson",
        "README.md",
        "landcover/clcd_2019.vrt",
        "landcover/clcd_2024.vrt",
    ] {
        // File sizes (in README) depend on the GDAL build: not compared.
        let text = |p: PathBuf| -> String {
            std::fs::read_to_string(p)
                .expect("read")
                .lines()
                .filter(|l| !l.ends_with(" KB |"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let a = text(dir.path().join(f));
        let b = text(repo.join(f));
        assert!(
            a == b,
            "fixtures/{f} is stale: run `cargo run -p qingshan-fixtures -- demo --out fixtures`"
        );
    }
    // Rasters: same pixels (compressed bytes may depend on the GDAL build).
    let mut rasters: Vec<PathBuf> = m.years.iter().flat_map(|y| y.tiles.clone()).collect();
    rasters.push(m.lonlat.clone());
    rasters.extend(m.series.iter().cloned());
    // NDVI: Int16, compared as such.
    for t in &m.ndvi {
        let rel = t.strip_prefix(dir.path()).expect("prefix");
        let read = |p: &Path| {
            Dataset::open(p)
                .and_then(|d| d.rasterband(1)?.read_band_as::<i16>())
                .expect("read raster")
        };
        assert!(
            read(t).data() == read(&repo.join(rel)).data(),
            "fixtures/{} is stale",
            rel.display()
        );
    }
    for t in rasters {
        let rel = t.strip_prefix(dir.path()).expect("prefix");
        let read = |p: &Path| {
            Dataset::open(p)
                .and_then(|d| d.rasterband(1)?.read_band_as::<u8>())
                .expect("read raster")
        };
        let (a, b) = (read(&t), read(&repo.join(rel)));
        let diff = a
            .data()
            .iter()
            .zip(b.data())
            .filter(|(x, y)| x != y)
            .count();
        // The geographic raster depends on PROJ: allow a few boundary cells.
        assert!(
            diff <= a.data().len() / 10_000,
            "fixtures/{} is stale ({diff} cells differ)",
            rel.display()
        );
    }
}

/// The annual series changes each cell once, from its 2019 class to its
/// 2024 class, and NDVI follows the land cover: forest above cropland
/// above built land, nodata exactly where the land cover has clouds.
#[test]
fn the_series_changes_each_cell_once_and_ndvi_follows_the_classes() {
    use crate::vegetation::{SERIES_YEARS, class_in_year, ndvi};
    let mut changed = 0;
    for k in 0..4000u32 {
        let p = (
            -9000.0 + (k % 80) as f64 * 233.0,
            -7000.0 + (k / 80) as f64 * 287.0,
        );
        let (c19, c24) = (2u8, 7u8);
        let seq: Vec<u8> = SERIES_YEARS
            .iter()
            .map(|&y| class_in_year(c19, c24, p, y))
            .collect();
        assert_eq!(seq[0], c19);
        assert_eq!(seq[5], c24);
        let switches = seq.windows(2).filter(|w| w[0] != w[1]).count();
        assert_eq!(switches, 1, "{seq:?}");
        if seq[2] == c24 {
            changed += 1;
        }
        assert_eq!(class_in_year(4, 4, p, 2022), 4);
        let forest = ndvi(2, p, 2019).unwrap();
        let crop = ndvi(1, p, 2019).unwrap();
        let built = ndvi(8, p, 2019).unwrap();
        assert!(forest > crop && crop > built, "{forest} {crop} {built}");
        assert_eq!(ndvi(0, p, 2024), None);
    }
    // Changes spread over the years: some by 2021, not all.
    assert!((400..3600).contains(&changed), "{changed}");
}
