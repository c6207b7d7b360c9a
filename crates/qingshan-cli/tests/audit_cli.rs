//! `qingshan audit`, `report` and `demo`: the audit's numbers equal what
//! `stats`, `change` and `redline` give; every number in the report equals
//! audit.json; the report loads in headless Chromium with its maps; the
//! maps show the land cover's colours where it is known.

mod support;

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;
use support::{audit_config_absolute, fx, json_out, qingshan, repo, stderr};

/// Runs the fixtures' audit once into a temp dir.
fn audit_dir() -> (tempfile::TempDir, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let o = qingshan(&[
        "audit",
        "--config",
        &fx("audit.toml"),
        "-o",
        dir.path().to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "the fixtures miss targets: {}",
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("audit: missed forest_cover_min (azhuang)"),
        "{err}"
    );
    assert!(
        err.contains("audit: missed redline_not_shrunk (jinsuoguan)"),
        "{err}"
    );
    let audit: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("audit.json")).unwrap())
            .unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    (dir, audit, html)
}

#[test]
fn audit_numbers_equal_the_commands_numbers() {
    let (_dir, a, _) = audit_dir();
    assert_eq!(a["schema"], "qingshan.audit/1");
    assert_eq!(a["passed"], false);
    let stats = json_out(&[
        "stats",
        "--landcover",
        &fx("landcover/clcd_2024.vrt"),
        "--zones",
        &fx("towns.geojson"),
        "-q",
    ]);
    assert_eq!(a["stats"], stats);
    let mut change = json_out(&[
        "change",
        "--before",
        &fx("landcover/clcd_2019.vrt"),
        "--after",
        &fx("landcover/clcd_2024.vrt"),
        "--zones",
        &fx("towns.geojson"),
        "-q",
    ]);
    // The audit records absolute input paths; compare the numbers.
    change["before"] = a["change"]["before"].clone();
    change["after"] = a["change"]["after"].clone();
    assert_eq!(a["change"], change);
    let mut diff = json_out(&[
        "redline",
        "diff",
        &fx("redlines_2019.geojson"),
        &fx("redlines_2024.gpkg"),
        "--id-field",
        "hx_id",
        "--towns",
        &fx("towns.geojson"),
    ]);
    for k in ["old", "new"] {
        diff[k]["path"] = a["redline_diff"][k]["path"].clone();
    }
    assert_eq!(a["redline_diff"], diff);
    let check = json_out(&[
        "redline",
        "check",
        "--redlines",
        &fx("redlines_2024.gpkg"),
        "--id-field",
        "hx_id",
        "--before",
        &fx("landcover/clcd_2019.vrt"),
        "--after",
        &fx("landcover/clcd_2024.vrt"),
        "-q",
    ]);
    assert_eq!(a["redline_check"], check);
    let slope = json_out(&[
        "slope",
        "--dem",
        &fx("dem"),
        "--zones",
        &fx("towns.geojson"),
        "--landcover",
        &fx("landcover/clcd_2024.vrt"),
        "--cropland",
        &fx("dltb.gpkg"),
        "--class-field",
        "DLBM",
        "--cropland-id-field",
        "BSM",
        "-q",
    ]);
    assert_eq!(a["slope"], slope);
    // Each target's measured value is the number it names as its source
    // (or the difference of the two it names).
    let mut checked = 0;
    for t in a["targets"].as_array().unwrap() {
        let src = t["source"].as_str().unwrap();
        if src.contains('Σ') || src.contains('/') {
            continue;
        }
        let value = |p: &str| {
            lookup(&a, p)
                .and_then(Value::as_f64)
                .unwrap_or_else(|| panic!("{p}"))
        };
        let v = match src.split_once(" − ") {
            Some((x, y)) => value(x) - value(y),
            None => value(src),
        };
        assert_eq!(Some(v), t["measured"].as_f64(), "{src}");
        checked += 1;
    }
    assert!(checked > 10);
    // Forest land comes from the survey's polygons ([landuse]): the
    // numbers of `stats --landuse`, and the total is Σ forest land / (2000/3).
    let landuse = json_out(&[
        "stats",
        "--landuse",
        &fx("landuse/dltb_2024.gpkg"),
        "--class-field",
        "DLBM",
        "--zones",
        &fx("towns.geojson"),
        "-q",
    ]);
    assert_eq!(a["landuse"], landuse);
    let total: f64 = a["landuse"]["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["forest_land_area_m2"].as_f64().unwrap())
        .sum();
    let t = a["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "forest_area_min_mu")
        .unwrap();
    assert!((t["measured"].as_f64().unwrap() - total * 3.0 / 2000.0).abs() < 1e-6);
    assert_eq!(t["passed"], false);
}

/// The value at a path like `stats.zones.0.forest_cover` or
/// `redline_check.polygons[1].conversion_m2`.
fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = doc;
    for part in path.replace('[', ".").replace(']', "").split('.') {
        v = match v {
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            other => other.get(part)?,
        };
    }
    Some(v)
}

/// Formats a raw value as the report does for its unit (written here
/// independently of the report code).
fn shown(v: f64, unit: &str) -> String {
    let grouped = |x: f64, d: usize| -> String {
        let s = format!("{:.*}", d, x.abs());
        let (i, f) = s
            .split_once('.')
            .map(|(i, f)| (i.to_string(), format!(".{f}")))
            .unwrap_or((s.clone(), String::new()));
        let digits: Vec<char> = i.chars().collect();
        let mut out = String::new();
        for (k, c) in digits.iter().enumerate() {
            if k > 0 && (digits.len() - k).is_multiple_of(3) {
                out.push(',');
            }
            out.push(*c);
        }
        let neg = x < 0.0 && s.chars().any(|c| ('1'..='9').contains(&c));
        format!("{}{out}{f}", if neg { "−" } else { "" })
    };
    match unit {
        "pct" => format!("{:.2} %", 100.0 * v),
        "mu" => format!("{} 亩", grouped(v * 3.0 / 2000.0, 0)),
        "ha" => format!("{} ha", grouped(v / 10_000.0, 1)),
        "m2" => format!("{} m²", grouped(v, 0)),
        "mu-raw" => format!("{} 亩", grouped(v, 0)),
        "count" => format!("{v}"),
        "deg" => format!("{v:.1}°"),
        "index" => format!("{v:+.4}"),
        "plain" => format!("{v:.4}"),
        other => panic!("unknown unit {other}"),
    }
}

#[test]
fn every_number_in_the_report_is_the_audit_number() {
    let (_dir, a, html) = audit_dir();
    // <span class="n" data-k="…" data-v="…" data-u="…">text</span>
    let mut count = 0;
    for piece in html.split(r#"<span class="n" data-k=""#).skip(1) {
        let (key, rest) = piece.split_once('"').unwrap();
        let v: f64 = rest
            .split(r#"data-v=""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let unit = rest
            .split(r#"data-u=""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let text = rest
            .split_once('>')
            .unwrap()
            .1
            .split("</span>")
            .next()
            .unwrap();
        let want = lookup(&a, key)
            .unwrap_or_else(|| panic!("no {key} in audit.json"))
            .as_f64()
            .unwrap();
        assert_eq!(v, want, "{key}");
        assert_eq!(text, shown(v, unit), "{key}");
        count += 1;
    }
    assert!(count > 100, "only {count} numbers found");
    // No number is shown without its source.
    assert!(
        !html.contains(r#"class="n na""#),
        "a number is missing from audit.json"
    );
    // Both towns' cards, with their verdicts.
    assert!(html.contains("金锁关镇") && html.contains("阿庄镇"));
    assert!(html.contains(r#"<p class="verdict fail">"#));
    // Self-contained: no external resources.
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src=\"/"));
}

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// The report as a person sees it: headless Chromium loads it with no
/// script errors, and the three maps are decoded and laid out.
#[test]
fn report_loads_in_headless_chromium_with_its_maps() {
    let (dir, _, _) = audit_dir();
    let browser =
        chromium().expect("Debian's chromium is needed for this test (bash .ci/setup --peers)");
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("report.html").display());
    let o = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,1600",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&o.stdout);
    let body = dom
        .split("<body")
        .nth(1)
        .expect("a body")
        .split('>')
        .next()
        .unwrap();
    assert!(body.contains(r#"data-ready="ok""#), "body: {body}");
    assert!(!body.contains("data-errors"), "script errors: {body}");
    let maps = body
        .split(r#"data-maps=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let maps: Vec<&str> = maps.split(',').collect();
    assert_eq!(maps.len(), 4, "{maps:?}");
    for m in maps {
        // name:800x600@800x600 — natural size of the fixtures' grid, shown
        // (the slope map: the 960 × 720 DEM within --map-size 900).
        let (name, sizes) = m.split_once(':').unwrap();
        let (natural, shown) = sizes.split_once('@').unwrap();
        let expected = if name == "slope" {
            "900x675"
        } else {
            "800x600"
        };
        assert_eq!(natural, expected, "{name}");
        let (w, h) = shown.split_once('x').unwrap();
        assert!(
            w.parse::<u32>().unwrap() >= 400 && h.parse::<u32>().unwrap() >= 300,
            "{m}"
        );
    }
}

/// Decodes the n-th embedded PNG of the report.
fn embedded_png(html: &str, class: &str) -> (u32, u32, Vec<u8>) {
    let marker = format!(r#"<img class="map {class}""#);
    let tag = html.split(&marker).nth(1).unwrap();
    let b64 = tag
        .split("base64,")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    (info.width, info.height, buf[..info.buffer_size()].to_vec())
}

/// The land-cover map shows each cell in its class's colour: checked at
/// 400 sampled cells against the raster read directly with GDAL (cells
/// under a boundary or red-line stroke excepted; they must stay few).
#[test]
fn map_colours_match_the_land_cover_where_it_is_known() {
    let (_dir, a, html) = audit_dir();
    let (w, h, rgba) = embedded_png(&html, "landcover");
    assert_eq!((w, h), (800, 600));
    let ds = gdal::Dataset::open(fx("landcover/clcd_2024.vrt")).unwrap();
    let band = ds.rasterband(1).unwrap();
    let data = band
        .read_as::<u8>((0, 0), (800, 600), (800, 600), None)
        .unwrap();
    let colours: std::collections::HashMap<u8, [u8; 3]> = a["inputs"]["legend"]["classes"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| {
            let rgb: Vec<u8> = c["color"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u8)
                .collect();
            (c["code"].as_u64().unwrap() as u8, [rgb[0], rgb[1], rgb[2]])
        })
        .collect();
    let (mut exact, mut stroked) = (0, 0);
    for k in 0..400u32 {
        // A fixed scatter over the image.
        let (x, y) = ((k * 7919) % 800, (k * 104_729 / 7) % 600);
        let i = (y * 800 + x) as usize;
        let class = data.data()[i];
        let px = &rgba[i * 4..i * 4 + 4];
        let want_alpha = if class == 0 { 0 } else { 255 };
        let want_rgb = if class == 0 {
            [0, 0, 0]
        } else {
            colours[&class]
        };
        if px[3] == want_alpha && (class == 0 || px[..3] == want_rgb) {
            exact += 1;
        } else {
            stroked += 1;
        }
    }
    assert!(exact >= 360, "{exact} exact, {stroked} under strokes");
    // The reservoir (CLCD water, 5) is blue in the map: find a water cell
    // with water all around and check its colour.
    let water = (50..550usize)
        .flat_map(|y| (50..750usize).map(move |x| (x, y)))
        .find(|&(x, y)| (0..9).all(|d| data.data()[(y + d / 3 - 1) * 800 + x + d % 3 - 1] == 5))
        .expect("the fixtures have a reservoir");
    let i = water.1 * 800 + water.0;
    assert_eq!(&rgba[i * 4..i * 4 + 3], &colours[&5], "water at {water:?}");
}

#[test]
fn met_targets_exit_0_and_bad_configs_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let lenient = dir.path().join("lenient.toml");
    let text = std::fs::read_to_string(fx("audit.toml")).unwrap();
    let text = audit_config_absolute(&text)
        .replace("forest_cover_min = 0.47", "forest_cover_min = 0.40")
        .replace("forest_area_min_mu = 523000", "forest_area_min_mu = 200000")
        .replace("redline_not_shrunk = true", "redline_not_shrunk = false")
        .replace(
            "redline_max_conversion_m2 = 0.0",
            "redline_max_conversion_m2 = 400000.0",
        )
        .replace(
            "redline_max_vegetation_loss = 0.0",
            "redline_max_vegetation_loss = 0.1",
        )
        .replace(
            "redline_index_tolerance = 0.01",
            "redline_index_tolerance = 0.05",
        )
        .replace(
            "forest_cover_trend_dates = 3",
            "forest_cover_trend_dates = 3\nforest_cover_trend_tolerance = 0.001",
        );
    std::fs::write(&lenient, text).unwrap();
    let out = dir.path().join("out");
    let o = qingshan(&[
        "audit",
        "--config",
        lenient.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--lang",
        "en",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(r#"<html lang="en">"#) && html.contains(r#"<p class="verdict pass">"#));
    assert!(
        html.contains("ellipsoidal (ground) areas"),
        "the report does not say how it measured"
    );
    // The report command renders from audit.json alone.
    let again = dir.path().join("again.html");
    let o = qingshan(&[
        "report",
        "--audit",
        out.join("audit.json").to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);
    // Another JSON document (here a stats result) is refused by schema.
    let stats = dir.path().join("stats.json");
    std::fs::write(&stats, r#"{"schema": "qingshan.stats/1", "zones": []}"#).unwrap();
    let o = qingshan(&[
        "report",
        "--audit",
        stats.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("stats.json") && stderr(&o).contains("\"qingshan.stats/1\""),
        "{}",
        stderr(&o)
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "legend = \"clcd\"\n[landcover]\nbefore = [\"a.tif\"]\nafter = [\"b.tif\"]\n[zones]\npath = \"z.geojson\"\n[targets]\nforest_cover_min = 47\n").unwrap();
    let o = qingshan(&[
        "audit",
        "--config",
        bad.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bad.toml") && stderr(&o).contains("a fraction"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&bad, "colour = 1\n").unwrap();
    let o = qingshan(&[
        "audit",
        "--config",
        bad.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bad.toml") && !stderr(&o).contains("panicked"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn demo_runs_the_audit_and_says_where_the_report_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = qingshan(&["demo", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("report.html") && text.contains("targets missed"),
        "{text}"
    );
    assert!(out.join("report.html").is_file() && out.join("audit.json").is_file());
}

/// Copies a directory tree.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The audit bundle stands alone: copied to another place, with the land
/// cover, zones and red lines it was made from deleted, `qingshan report`
/// run from another working directory renders the page the audit wrote,
/// byte for byte; a bundle missing a map is refused, naming the map.
#[test]
fn a_copied_bundle_renders_without_its_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_tree(&repo().join("fixtures"), &data);
    let out = data.join("out");
    let o = qingshan(&[
        "audit",
        "--config",
        data.join("audit.toml").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--lang",
        "en",
        "--map-size",
        "300",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let bundle = tmp.path().join("elsewhere/bundle");
    copy_tree(&out, &bundle);
    std::fs::remove_dir_all(&data).unwrap();
    let cwd = tmp.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let report = |lang: &str| {
        Command::new(env!("CARGO_BIN_EXE_qingshan"))
            .current_dir(&cwd)
            .args([
                "report",
                "--audit",
                "../elsewhere/bundle/audit.json",
                "-o",
                "r.html",
                "--lang",
                lang,
            ])
            .output()
            .unwrap()
    };
    let o = report("en");
    assert!(o.status.success(), "{}", stderr(&o));
    let again = std::fs::read(cwd.join("r.html")).unwrap();
    let written = std::fs::read(bundle.join("report.html")).unwrap();
    assert!(again == written, "the re-rendered report differs");
    // The other language leads with Chinese, numbers and maps the same.
    let o = report("zh");
    assert!(o.status.success(), "{}", stderr(&o));
    let zh = std::fs::read_to_string(cwd.join("r.html")).unwrap();
    assert!(zh.contains(r#"<html lang="zh-CN">"#));
    let (w, h, _) = embedded_png(&zh, "redlines");
    assert!(w.max(h) == 300, "{w}×{h}");
    let file = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(bundle.join("redlines.png")).unwrap());
    assert!(
        zh.contains(&format!("base64,{file}\"")),
        "the map is the bundle's file"
    );
    // A map from another run (here: another map) does not belong.
    std::fs::copy(bundle.join("landcover.png"), bundle.join("redlines.png")).unwrap();
    let o = report("en");
    support::assert_user_error(
        &o,
        &[
            "redlines.png",
            "does not belong",
            "run qingshan audit again",
        ],
    );
    // Without a map the report cannot be made: say which file.
    std::fs::remove_file(bundle.join("forest_change.png")).unwrap();
    let o = report("en");
    support::assert_user_error(&o, &["forest_change.png", "copy the whole directory"]);
}

/// `report -o` onto a file of its own bundle is refused before anything
/// is written (the bundle may be the only copy of the audit); a symlink to
/// audit.json finds the maps beside the file it points to; the removed
/// `report --map-size` says where it went.
#[test]
fn report_keeps_its_bundle_intact() {
    let (dir, _, html) = audit_dir();
    let audit = dir.path().join("audit.json");
    let before: Vec<Vec<u8>> = ["audit.json", "landcover.png", "bundle.json"]
        .iter()
        .map(|f| std::fs::read(dir.path().join(f)).unwrap())
        .collect();
    for target in ["audit.json", "landcover.png", "bundle.json"] {
        let o = qingshan(&[
            "report",
            "--audit",
            audit.to_str().unwrap(),
            "-o",
            dir.path().join(target).to_str().unwrap(),
        ]);
        support::assert_user_error(&o, &[target, "is an input of this run"]);
    }
    let after: Vec<Vec<u8>> = ["audit.json", "landcover.png", "bundle.json"]
        .iter()
        .map(|f| std::fs::read(dir.path().join(f)).unwrap())
        .collect();
    assert!(before == after, "a bundle file changed");
    #[cfg(unix)]
    {
        let elsewhere = tempfile::tempdir().unwrap();
        let link = elsewhere.path().join("link.json");
        std::os::unix::fs::symlink(&audit, &link).unwrap();
        let out = elsewhere.path().join("r.html");
        let o = qingshan(&[
            "report",
            "--audit",
            link.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(std::fs::read_to_string(&out).unwrap() == html);
    }
    let o = qingshan(&[
        "report",
        "--audit",
        audit.to_str().unwrap(),
        "--map-size",
        "400",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("qingshan audit"), "{}", stderr(&o));
}

/// An audit directory from before bundles (audit.json and report.html
/// only) still renders while its inputs are in place: the maps are drawn
/// again, as report used to, with a warning saying so; the page is the
/// one the audit wrote.
#[test]
fn an_audit_directory_from_before_bundles_renders_from_its_inputs() {
    let (dir, _, html) = audit_dir();
    for f in [
        "bundle.json",
        "landcover.png",
        "forest_change.png",
        "redlines.png",
    ] {
        std::fs::remove_file(dir.path().join(f)).unwrap();
    }
    let out = dir.path().join("again.html");
    let o = qingshan(&[
        "report",
        "--audit",
        dir.path().join("audit.json").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning:") && stderr(&o).contains("drawn again"),
        "{}",
        stderr(&o)
    );
    assert!(
        std::fs::read_to_string(&out).unwrap() == html,
        "the page differs"
    );
}
