//! The shape ARCHITECTURE.md promises, checked on the sources:
//!
//! - the library's modules form layers and imports only go down (no
//!   cycles; a new module must be given its place in [`LAYERS`]);
//! - no source file of the workspace is longer than 800 lines, and no
//!   function longer than 150, unless a `// Long function:` comment right
//!   above it says why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The library's modules, bottom to top: a module may import only modules
/// listed before it. Keep in step with ARCHITECTURE.md.
const LAYERS: &[&str] = &[
    // bottom: errors, files, cells, units, CRSs, class schemes
    "error", "area", "fsio", "legend", "grid", "srs", "cellarea", // kernels and inputs
    "coverage", "raster", "zones", // passes
    "engine", "zonal", "change", "landuse", "slope", "values", "series", // verdicts
    "redline", "audit", // outputs
    "export", "report", // tile sets, then the commands on top of everything
    "batch", "commands",
];

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 150;
const LONG_MARKER: &str = "// Long function:";

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file that ships: comment lines removed, a trailing
/// `#[cfg(test)] mod tests { … }` cut off, test files skipped.
fn shipped_code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate's top modules a piece of code names (`crate::x::…` and the
/// items of `use crate::{…}`), the root's re-exports mapped to their
/// modules.
fn imports(code: &str) -> BTreeSet<String> {
    let root = |name: &str| -> String {
        match name {
            "Error" | "Result" => "error".into(),
            "RunOptions" | "Progress" => "engine".into(),
            "crs_from_epsg" | "crs_from_user_input" => "srs".into(),
            other => other.into(),
        }
    };
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or("");
                if !first.is_empty() {
                    out.insert(root(first));
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(root(&name));
        }
    }
    out
}

#[test]
fn imports_only_go_down_the_layers() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(src()).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" {
            continue;
        }
        let Some(r) = rank(&top) else {
            wrong.push(format!(
                "{}: module {top} has no place in LAYERS",
                rel.display()
            ));
            continue;
        };
        for dep in imports(&shipped_code(f)) {
            if dep == top {
                continue;
            }
            match rank(&dep) {
                Some(d) if d < r => {}
                Some(_) => wrong.push(format!(
                    "{}: {top} imports {dep}, a layer above or beside it",
                    rel.display()
                )),
                None => wrong.push(format!(
                    "{}: imports crate::{dep}, not a module of LAYERS",
                    rel.display()
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_import_scan_sees_grouped_and_nested_imports() {
    let code = "use crate::{Error, Result, srs};\nuse crate::raster::{Tile, scan::x};\nlet c = crate::grid::Grid::new();\nuse crate::{\n    legend::ClassCode,\n    RunOptions,\n};";
    let found: Vec<String> = imports(code).into_iter().collect();
    assert_eq!(
        found,
        ["engine", "error", "grid", "legend", "raster", "srs"]
    );
}

/// Functions longer than `MAX_FN_LINES` without the marker, as
/// `path:line name (n lines)`.
fn long_functions(path: &Path, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let is_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .any(|p| t.starts_with(p));
        if !is_fn || line.trim_end().ends_with(';') {
            continue;
        }
        let indent = line.len() - t.len();
        let close = format!("{}}}", " ".repeat(indent));
        let Some(len) = lines[i + 1..]
            .iter()
            .position(|l| l.starts_with(&close) && l.len() - l.trim_start().len() == indent)
        else {
            continue;
        };
        let len = len + 2;
        if len <= MAX_FN_LINES {
            continue;
        }
        // The marker: a comment among the lines right above (docs and
        // attributes may sit between).
        let marked = lines[..i]
            .iter()
            .rev()
            .take_while(|l| {
                let l = l.trim_start();
                l.starts_with("//") || l.starts_with("#[")
            })
            .any(|l| l.trim_start().starts_with(LONG_MARKER));
        if !marked {
            let name = t
                .split("fn ")
                .nth(1)
                .unwrap_or("")
                .split(['(', '<'])
                .next()
                .unwrap_or("");
            out.push(format!("{}:{} {name} ({len} lines)", path.display(), i + 1));
        }
    }
    out
}

#[test]
fn no_long_files_or_functions_without_a_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in ["qingshan", "qingshan-cli", "qingshan-fixtures"] {
        rust_files(&root.join(krate).join("src"), &mut files);
        let tests = root.join(krate).join("tests");
        if tests.is_dir() {
            rust_files(&tests, &mut files);
        }
    }
    let mut wrong = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            wrong.push(format!(
                "{}: {n} lines (more than {MAX_FILE_LINES})",
                f.display()
            ));
        }
        wrong.extend(long_functions(f, &text));
    }
    assert!(
        wrong.is_empty(),
        "split these, or say why next to them with {LONG_MARKER:?}:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_length_check_finds_a_long_function_and_honours_the_marker() {
    let body = "    x += 1;\n".repeat(MAX_FN_LINES);
    let long = format!("fn big() {{\n{body}}}\n");
    assert_eq!(long_functions(Path::new("t.rs"), &long).len(), 1);
    let marked = format!("{LONG_MARKER} one table, in order.\n/// Docs.\n{long}");
    assert!(long_functions(Path::new("t.rs"), &marked).is_empty());
    let short = "fn small() {\n    x += 1;\n}\n";
    assert!(long_functions(Path::new("t.rs"), short).is_empty());
}
