//! The hostile-input catalogue: each bad input of the README's table
//! ("Troubleshooting") is given to every command that reads that kind of
//! input — `stats`, `change`, `redline check`, `redline diff`, `batch`,
//! `audit` — and each must end in exit 1 with one line naming the file and
//! what is wrong, or do the stated repair out loud; never exit 101. The
//! cases about outputs, signals, partials, legends and encodings live in
//! `hostile.rs`; this file holds the input catalogue and checks that the
//! README lists every case.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{qingshan, repo, stderr};

/// Which argument a case replaces.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A zone / red-line layer.
    Zones,
    /// A land-cover raster (or tile set).
    Raster,
}

/// What every command must do with the case.
#[derive(Clone, Copy)]
enum Expect {
    /// Exit 1, one line naming the file, with these words.
    Error(&'static [&'static str]),
    /// Accepted (exit 0, or 3 where the fixtures fail a check on
    /// purpose), with numbers equal to those of the clean input.
    SameNumbers,
    /// A warning with these words where only areas are reported; an error
    /// with them where a verdict is given (`redline check`, `audit`).
    WarnOrRefuse(&'static [&'static str]),
}

struct Case {
    /// The name in the README's table.
    id: &'static str,
    kind: Kind,
    /// Makes the input in `dir` from the fixtures `fx`; returns its path.
    make: fn(&Path, &Path) -> PathBuf,
    expect: Expect,
    /// Commands the case does not apply to, and why.
    not_for: &'static [&'static str],
}

fn towns(fx: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fx.join("towns.geojson")).unwrap()).unwrap()
}

fn write_json(dir: &Path, name: &str, v: &serde_json::Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

/// Every position of a GeoJSON geometry, mapped.
fn map_coords(v: &mut serde_json::Value, f: &dyn Fn(&mut Vec<serde_json::Value>)) {
    if let Some(a) = v.as_array_mut() {
        if a.first().is_some_and(|x| x.is_number()) {
            f(a);
        } else {
            for x in a {
                map_coords(x, f);
            }
        }
    }
}

fn square_layer(epsg: u32, ring: &str) -> String {
    format!(
        r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::{epsg}"}}}},"features":[{{"type":"Feature","id":"a","properties":{{"hx_id":"A"}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}]}}"#
    )
}

fn tiles_copy(fx: &Path, dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    for e in std::fs::read_dir(fx.join("landcover/clcd_2024")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, d.join(p.file_name().unwrap())).unwrap();
    }
    d
}

fn gdal_translate(args: &[&str], from: &Path, to: &Path) {
    let o = std::process::Command::new("gdal_translate")
        .arg("-q")
        .args(args)
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

const CASES: &[Case] = &[
    Case {
        id: "truncated GeoJSON",
        kind: Kind::Zones,
        make: |fx, dir| {
            let bytes = std::fs::read(fx.join("towns.geojson")).unwrap();
            let p = dir.join("truncated.geojson");
            std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
            p
        },
        expect: Expect::Error(&["not valid GeoJSON"]),
        not_for: &[],
    },
    Case {
        id: "empty layer",
        kind: Kind::Zones,
        make: |fx, dir| {
            let mut v = towns(fx);
            v["features"] = serde_json::json!([]);
            write_json(dir, "empty.geojson", &v)
        },
        expect: Expect::Error(&["no features"]),
        not_for: &[],
    },
    Case {
        id: "non-finite coordinate",
        kind: Kind::Zones,
        make: |_, dir| {
            let p = dir.join("nan.geojson");
            let ring = "[[480000,3880000],[492000,3880000],[492000,1e999],[480000,3880000]]";
            std::fs::write(&p, square_layer(4545, ring)).unwrap();
            p
        },
        expect: Expect::Error(&["not valid GeoJSON"]),
        not_for: &[],
    },
    Case {
        id: "3D coordinates",
        kind: Kind::Zones,
        make: |fx, dir| {
            let mut v = towns(fx);
            for f in v["features"].as_array_mut().unwrap() {
                map_coords(&mut f["geometry"]["coordinates"], &|p| {
                    p.push(1234.5.into())
                });
            }
            write_json(dir, "towns_3d.geojson", &v)
        },
        expect: Expect::SameNumbers,
        not_for: &[],
    },
    Case {
        id: "bow-tie polygon",
        kind: Kind::Zones,
        make: |_, dir| {
            let p = dir.join("bowtie.geojson");
            let ring = "[[590000,3890000],[595000,3895000],[595000,3890000],[590000,3895000],[590000,3890000]]";
            std::fs::write(&p, square_layer(4545, ring)).unwrap();
            p
        },
        expect: Expect::Error(&["self-intersection", "--make-valid"]),
        not_for: &[],
    },
    Case {
        id: "absurd coordinate",
        kind: Kind::Zones,
        make: |_, dir| {
            let p = dir.join("absurd.geojson");
            let ring = "[[590000,3890000],[595000,3890000],[595000,10000000000],[590000,3890000]]";
            std::fs::write(&p, square_layer(4545, ring)).unwrap();
            p
        },
        expect: Expect::Error(&["far outside the area of use of EPSG:4545"]),
        not_for: &[],
    },
    Case {
        id: "zone-prefixed X labelled EPSG:4545",
        kind: Kind::Zones,
        make: |fx, dir| {
            let mut v = towns(fx);
            for f in v["features"].as_array_mut().unwrap() {
                map_coords(&mut f["geometry"]["coordinates"], &|p| {
                    p[0] = (p[0].as_f64().unwrap() + 36_000_000.0).into()
                });
            }
            write_json(dir, "prefixed.geojson", &v)
        },
        expect: Expect::Error(&["zone-prefixed", "EPSG:4524"]),
        not_for: &[],
    },
    Case {
        id: "projected GeoJSON without crs",
        kind: Kind::Zones,
        make: |fx, dir| {
            let mut v = towns(fx);
            v.as_object_mut().unwrap().remove("crs");
            write_json(dir, "nocrs.geojson", &v)
        },
        expect: Expect::Error(&["not lon/lat", "crs"]),
        not_for: &[],
    },
    Case {
        id: "duplicate ids",
        kind: Kind::Zones,
        make: |fx, dir| {
            let mut v = towns(fx);
            for f in v["features"].as_array_mut().unwrap() {
                f["id"] = "same".into();
            }
            write_json(dir, "dupid.geojson", &v)
        },
        expect: Expect::Error(&["duplicate id \"same\""]),
        not_for: &[],
    },
    Case {
        id: "truncated tile",
        kind: Kind::Raster,
        make: |fx, dir| {
            let d = tiles_copy(fx, dir, "truncated_tiles");
            let t = d.join("clcd_2024_r0c0.tif");
            let bytes = std::fs::read(&t).unwrap();
            std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
            d
        },
        expect: Expect::Error(&["clcd_2024_r0c0.tif", "truncated or corrupt"]),
        not_for: &[],
    },
    Case {
        id: "tiles of mixed pixel sizes",
        kind: Kind::Raster,
        make: |fx, dir| {
            let d = tiles_copy(fx, dir, "mixed_tiles");
            let t = d.join("clcd_2024_r0c0.tif");
            let args = ["-srcwin", "0", "0", "412", "290", "-tr", "60", "60"];
            gdal_translate(&args, &t, &d.join("coarse.tif"));
            std::fs::remove_file(&t).unwrap();
            d
        },
        expect: Expect::Error(&["coarse.tif", "different pixel sizes"]),
        // batch measures each tile on its own grid: mixed sizes are its job.
        not_for: &["batch"],
    },
    Case {
        id: "overlapping tiles",
        kind: Kind::Raster,
        make: |fx, dir| {
            let d = tiles_copy(fx, dir, "overlapping_tiles");
            let vrt = fx.join("landcover/clcd_2024.vrt");
            gdal_translate(
                &["-srcwin", "100", "100", "200", "200"],
                &vrt,
                &d.join("over.tif"),
            );
            d
        },
        expect: Expect::Error(&["over.tif", "overlap"]),
        not_for: &[],
    },
    Case {
        id: "zone-prefixed raster labelled EPSG:4545",
        kind: Kind::Raster,
        make: |fx, dir| {
            let p = dir.join("prefixed.tif");
            let args = ["-a_ullr", "36582000", "3908000", "36606000", "3890000"];
            gdal_translate(&args, &fx.join("landcover/clcd_2024.vrt"), &p);
            p
        },
        expect: Expect::Error(&["zone-prefixed", "EPSG:4524", "gdal_edit.py -a_srs"]),
        not_for: &[],
    },
    Case {
        id: "Float32 raster",
        kind: Kind::Raster,
        make: |fx, dir| {
            let p = dir.join("float.tif");
            gdal_translate(&["-ot", "Float32"], &fx.join("landcover/clcd_2024.vrt"), &p);
            p
        },
        expect: Expect::Error(&["Float32", "gdal_translate -ot"]),
        not_for: &[],
    },
    Case {
        id: "raster without CRS",
        kind: Kind::Raster,
        make: |fx, dir| {
            let src = gdal::Dataset::open(fx.join("landcover/clcd_2024.vrt")).unwrap();
            let (w, h) = src.raster_size();
            let band = src.rasterband(1).unwrap();
            let buf = band.read_as::<u8>((0, 0), (w, h), (w, h), None).unwrap();
            let p = dir.join("nocrs.tif");
            let drv = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
            let mut ds = drv.create_with_band_type::<u8, _>(&p, w, h, 1).unwrap();
            ds.set_geo_transform(&src.geo_transform().unwrap()).unwrap();
            let mut buf = buf;
            ds.rasterband(1)
                .unwrap()
                .write((0, 0), (w, h), &mut buf)
                .unwrap();
            p
        },
        expect: Expect::Error(&["has no CRS", "-a_srs"]),
        not_for: &[],
    },
    Case {
        id: "DEM passed as land cover",
        kind: Kind::Raster,
        make: |fx, dir| {
            let p = dir.join("dem.tif");
            let args = ["-ot", "UInt16", "-scale", "0", "10", "900", "1900"];
            gdal_translate(&args, &fx.join("landcover/clcd_2024.vrt"), &p);
            p
        },
        expect: Expect::WarnOrRefuse(&["does not list", "dem.tif"]),
        not_for: &[],
    },
];

/// The fixtures' paths a case's commands take by default.
struct Inputs {
    before: String,
    after: String,
    tiles: String,
    towns: String,
    red19: String,
    red24: String,
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Every command reading `kind`, with `input` in its place: (label,
/// arguments, whether it gives a verdict).
fn commands(kind: Kind, input: &str, fx: &Inputs, dir: &Path) -> Vec<(String, Vec<String>, bool)> {
    let (zones, after) = match kind {
        Kind::Zones => (input, fx.after.as_str()),
        Kind::Raster => (fx.towns.as_str(), input),
    };
    let tiles = if kind == Kind::Raster {
        input
    } else {
        fx.tiles.as_str()
    };
    let redlines = if kind == Kind::Zones {
        input
    } else {
        fx.red19.as_str()
    };
    let audit = dir.join(format!("audit-{}.toml", dir.read_dir().unwrap().count()));
    let toml = format!(
        "legend = \"clcd\"\n[landcover]\nbefore = [{:?}]\nafter = [{:?}]\n[zones]\npath = {:?}\n\
         [redlines]\nold = {:?}\nnew = {:?}\nid_field = \"hx_id\"\n[targets]\nforest_cover_min = 0.1\n",
        fx.before, after, zones, fx.red19, fx.red24
    );
    std::fs::write(&audit, toml).unwrap();
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let out = s(&dir.join(format!("out-{}", dir.read_dir().unwrap().count())));
    let mut cmds = vec![
        (
            "stats",
            v(&["stats", "--landcover", after, "--zones", zones]),
            false,
        ),
        (
            "change",
            v(&[
                "change", "--before", &fx.before, "--after", after, "--zones", zones,
            ]),
            false,
        ),
        (
            "redline check",
            v(&[
                "redline",
                "check",
                "--redlines",
                redlines,
                "--before",
                &fx.before,
                "--after",
                after,
            ]),
            true,
        ),
        (
            "batch",
            v(&[
                "batch",
                "--tiles",
                tiles,
                "--zones",
                zones,
                "--out-dir",
                &out,
            ]),
            false,
        ),
        (
            "audit",
            v(&[
                "audit",
                "--config",
                &s(&audit),
                "-o",
                &format!("{out}-audit"),
            ]),
            true,
        ),
    ];
    if kind == Kind::Zones {
        // The layer against itself: both sides read it.
        cmds.push(("redline diff", v(&["redline", "diff", input, input]), true));
    }
    cmds.into_iter()
        .map(|(l, mut a, verdict)| {
            if l != "redline diff" {
                a.push("-q".into());
            }
            (l.to_string(), a, verdict)
        })
        .collect()
}

/// The numbers of a run, without what names its inputs.
fn numbers(o: &Output) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    for key in ["before", "after", "old", "new", "warnings"] {
        if let Some(m) = v.as_object_mut() {
            m.remove(key);
        }
    }
    v
}

#[test]
fn every_command_refuses_or_repairs_every_catalogued_input() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = repo().join("fixtures");
    let inputs = Inputs {
        before: s(&fx.join("landcover/clcd_2019.vrt")),
        after: s(&fx.join("landcover/clcd_2024.vrt")),
        tiles: s(&fx.join("landcover/clcd_2024")),
        towns: s(&fx.join("towns.geojson")),
        red19: s(&fx.join("redlines_2019.geojson")),
        red24: s(&fx.join("redlines_2024.gpkg")),
    };
    let clean: Vec<(String, Output)> = [Kind::Zones, Kind::Raster]
        .iter()
        .flat_map(|k| {
            let input = if *k == Kind::Zones {
                &inputs.towns
            } else {
                &inputs.after
            };
            commands(*k, input, &inputs, tmp.path())
        })
        .filter(|(l, _, _)| l == "stats" || l == "change")
        .map(|(l, a, _)| (l, qingshan(&a)))
        .collect();
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tmp.path().join(case.id.replace([' ', '/', ':'], "_"));
        std::fs::create_dir_all(&dir).unwrap();
        let input = (case.make)(&fx, &dir);
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        for (label, args, verdict) in commands(case.kind, &s(&input), &inputs, &dir) {
            if case.not_for.contains(&label.as_str()) {
                continue;
            }
            let o = qingshan(&args);
            let err = stderr(&o);
            let code = o.status.code();
            let mut fail =
                |why: String| failures.push(format!("{} / {label}: {why}\n  {err}", case.id));
            if code == Some(101) || err.contains("panicked") {
                fail("panicked".into());
                continue;
            }
            let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
            let refused = |needles: &[&str], fail: &mut dyn FnMut(String)| {
                if code != Some(1) || errors.len() != 1 {
                    fail(format!("exit {code:?}, {} error lines", errors.len()));
                } else if let Some(n) = needles
                    .iter()
                    .chain([&name.as_str()])
                    .find(|n| !errors[0].contains(**n))
                {
                    fail(format!("the error lacks {n:?}"));
                }
            };
            match case.expect {
                Expect::Error(needles) => refused(needles, &mut fail),
                Expect::WarnOrRefuse(needles) if verdict => refused(needles, &mut fail),
                Expect::WarnOrRefuse(needles) => {
                    let warned = err.lines().any(|l| {
                        l.starts_with("warning:") && needles.iter().all(|n| l.contains(n))
                    });
                    if code != Some(0) || !warned {
                        fail(format!("exit {code:?}, warned: {warned}"));
                    }
                }
                Expect::SameNumbers => {
                    if !matches!(code, Some(0) | Some(3)) {
                        fail(format!("exit {code:?}"));
                    } else if let Some((_, c)) = clean.iter().find(|(l, _)| *l == label)
                        && numbers(c) != numbers(&o)
                    {
                        fail("numbers differ from the clean input's".into());
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The README's troubleshooting table lists every case of the catalogue.
#[test]
fn the_readme_lists_every_case() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let missing: Vec<&str> = CASES
        .iter()
        .map(|c| c.id)
        .filter(|id| !readme.contains(&format!("| {id} |")))
        .collect();
    assert!(missing.is_empty(), "README lacks rows for {missing:?}");
}
