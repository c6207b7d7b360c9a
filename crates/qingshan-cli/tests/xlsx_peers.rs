//! XLSX outputs read back by openpyxl (benches/peers/xlsx_check.py): the
//! sheets, their Chinese headers, and every number — a numeric cell, not
//! text — equal to the CSV of the same run within 1e-9 (stats' forest
//! cover sheet to the JSON). openpyxl is installed by `.ci/setup --peers`;
//! without it these tests fail, they do not skip.

mod support;

use std::path::{Path, PathBuf};

use qingshan::export::xlsx::{Cell, Sheet, xlsx_bytes};
use support::{assert_user_error, fx, peer_check, qingshan, stderr};

/// Runs `qingshan args… -o out` and asserts it succeeded.
fn run(args: &[&str], out: &Path) {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["-q".into(), "-o".into(), out.display().to_string()]);
    let o = qingshan(&all);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn check(kind: &str, files: &[(&str, &Path)]) -> (i32, String) {
    let mut args: Vec<std::ffi::OsString> = vec!["--kind".into(), kind.into()];
    for (flag, path) in files {
        args.push(flag.into());
        args.push(path.into());
    }
    peer_check("xlsx_check.py", &args)
}

fn stats_args() -> Vec<String> {
    vec![
        "stats".into(),
        "--landcover".into(),
        fx("landcover/clcd_2019.vrt"),
        "--zones".into(),
        fx("towns.geojson"),
    ]
}

#[test]
fn stats_xlsx_equals_its_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| -> PathBuf { dir.path().join(name) };
    let args = stats_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for out in ["s.csv", "s.json", "s.xlsx"] {
        run(&args, &p(out));
    }
    // A clock in the file would show: its resolution is a second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    run(&args, &p("again.xlsx"));
    let bytes = std::fs::read(p("s.xlsx")).unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04"), "not a zip file");
    assert!(
        bytes == std::fs::read(p("again.xlsx")).unwrap(),
        "two runs wrote different XLSX bytes"
    );
    let files = [
        ("--xlsx", p("s.xlsx")),
        ("--csv", p("s.csv")),
        ("--json", p("s.json")),
    ];
    let files: Vec<(&str, &Path)> = files.iter().map(|(f, q)| (*f, q.as_path())).collect();
    let (code, out) = check("stats", &files);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("xlsx stats: 2 sheets, 18 rows"), "{out}");

    // The check can fail: one CSV area off by 1e-7 is caught.
    let csv = std::fs::read_to_string(p("s.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[2].split(',').map(String::from).collect();
    let a: f64 = fields[5].parse().unwrap();
    fields[5] = format!("{}", a * (1.0 + 1e-7));
    lines[2] = fields.join(",");
    std::fs::write(p("bad.csv"), lines.join("\n") + "\n").unwrap();
    let mut bad = files.clone();
    let bad_csv = p("bad.csv");
    bad[1].1 = &bad_csv;
    let (code, out) = check("stats", &bad);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("分类面积!3 面积（平方米）"), "{out}");
}

#[test]
fn change_and_slope_xlsx_equal_their_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| -> PathBuf { dir.path().join(name) };
    let (before, after, towns) = (
        fx("landcover/clcd_2019.vrt"),
        fx("landcover/clcd_2024.vrt"),
        fx("towns.geojson"),
    );
    let change = [
        "change", "--before", &before, "--after", &after, "--zones", &towns,
    ];
    run(&change, &p("c.csv"));
    run(&change, &p("c.xlsx"));
    let (code, out) = check(
        "change",
        &[("--xlsx", &p("c.xlsx")), ("--csv", &p("c.csv"))],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("xlsx change: 1 sheets"), "{out}");

    let (dem, dltb, steep) = (fx("dem"), fx("dltb.gpkg"), p("steep.gpkg"));
    let steep = steep.display().to_string();
    let slope = [
        "slope",
        "--dem",
        &dem,
        "--zones",
        &towns,
        "--landcover",
        &before,
        "--cropland",
        &dltb,
        "--class-field",
        "DLBM",
        "--steep-cropland",
        &steep,
    ];
    run(&slope, &p("sl.csv"));
    run(&slope[..slope.len() - 2], &p("sl.xlsx"));
    let (code, out) = check(
        "slope",
        &[
            ("--xlsx", &p("sl.xlsx")),
            ("--csv", &p("sl.csv")),
            ("--steep-csv", &p("steep.csv")),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("xlsx slope: 2 sheets"), "{out}");
}

/// A number written as text is caught (what a writer that formats
/// numbers as strings would do), on a workbook made for the test.
#[test]
fn a_number_stored_as_text_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("c.csv");
    std::fs::write(
        &csv,
        "zone_id,zone_name,from,from_name,to,to_name,area_m2,area_ha,area_mu\n\
         a,甲镇,2,Forest,1,Cropland,900,0.09,1.35\n",
    )
    .unwrap();
    let sheet = |area: Cell| Sheet {
        name: "地类转移".into(),
        headers: [
            "区域编号",
            "区域名称",
            "起始地类编码",
            "起始地类名称",
            "终止地类编码",
            "终止地类名称",
            "面积（平方米）",
            "面积（公顷）",
            "面积（亩）",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![vec![
            Cell::Text("a".into()),
            Cell::Text("甲镇".into()),
            Cell::Text("2".into()),
            Cell::Text("林地".into()),
            Cell::Text("1".into()),
            Cell::Text("耕地".into()),
            area,
            Cell::Number(0.09),
            Cell::Number(1.35),
        ]],
    };
    let xlsx = dir.path().join("c.xlsx");
    for (area, expect) in [(Cell::Number(900.0), 0), (Cell::Text("900".into()), 1)] {
        std::fs::write(&xlsx, xlsx_bytes(&[sheet(area)]).unwrap()).unwrap();
        let (code, out) = check("change", &[("--xlsx", &xlsx), ("--csv", &csv)]);
        assert_eq!(code, expect, "{out}");
    }
    let (_, out) = check("change", &[("--xlsx", &xlsx), ("--csv", &csv)]);
    assert!(out.contains("not a number cell"), "{out}");
}

/// A result without sheets says so and leaves no file.
#[test]
fn values_have_no_xlsx_and_say_which_format_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.xlsx");
    let o = qingshan(&[
        "values",
        "-q",
        "--raster",
        &fx("ndvi/ndvi_2024.tif"),
        "--zones",
        &fx("towns.geojson"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_user_error(&o, &["v.xlsx", "XLSX is not available for values; use csv"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
