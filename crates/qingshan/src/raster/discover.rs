//! Input discovery: the raster files behind what a user typed — files,
//! directories, glob patterns and `.txt` lists of rasters. `stats`,
//! `change`, `redline check`, the audit and `batch` all expand their
//! inputs with [`discover_rasters`].
//!
//! Invariant: inputs keep the order given; the files a directory or a
//! pattern yields are sorted, so the same inputs give the same tile order
//! on every machine.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Whether a file name looks like a land-cover raster a directory may
/// hold: `.tif`, `.tiff`, `.vrt` or `.img` (any case).
fn is_raster_name(p: &Path) -> bool {
    p.extension().is_some_and(|e| {
        matches!(
            e.to_string_lossy().to_ascii_lowercase().as_str(),
            "tif" | "tiff" | "vrt" | "img"
        )
    })
}

/// The error for a directory without rasters.
fn no_rasters_in(dir: &Path) -> Error {
    Error::open(dir, "directory holds no .tif/.tiff/.vrt/.img rasters")
}

/// How far into a directory [`discover_rasters`] looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// The directory's own files (land cover of one date: `stats`,
    /// `change`, the audit).
    Top,
    /// Every subdirectory too (tile trees of a `batch`).
    Recursive,
}

/// The raster files behind `inputs`, in the order given: a directory
/// gives its `.tif`, `.tiff`, `.vrt` and `.img` files (sorted; with
/// [`Depth::Recursive`] those of its subdirectories too); a `.txt` file
/// lists one raster per line (relative to the list; `#` starts a comment);
/// a pattern with `*`, `?` or `[` is matched against the file system
/// (sorted); anything else is taken as a raster path. A directory without
/// rasters and a pattern matching nothing are errors naming them.
pub fn discover_rasters<S: AsRef<str>>(inputs: &[S], depth: Depth) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        let s = input.as_ref();
        let p = Path::new(s);
        if p.is_dir() {
            let mut found = Vec::new();
            rasters_in(p, depth, &mut found)?;
            found.sort();
            if found.is_empty() {
                return Err(no_rasters_in(p));
            }
            out.extend(found);
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"))
            && p.is_file()
            && !gdal_raster(p)
        {
            out.extend(listed(p)?);
        } else if s.contains(['*', '?', '[']) && !p.exists() {
            let mut found: Vec<PathBuf> = glob::glob(s)
                .map_err(|e| Error::Invalid(format!("bad pattern {s:?}: {e}")))?
                .filter_map(|r| r.ok())
                .filter(|f| f.is_file())
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Error::open(p, "the pattern matches no files"));
            }
            out.extend(found);
        } else {
            out.push(p.to_path_buf());
        }
    }
    Ok(out)
}

/// The raster files of `dir` (and, recursively, of its subdirectories).
/// Hidden files and directories (a leading `.`) are not tiles: they are
/// where programs keep temporary files (qingshan's own outputs in
/// progress among them).
fn rasters_in(dir: &Path, depth: Depth, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir).map_err(|e| Error::read(dir, e))? {
        let p = e.map_err(|e| Error::read(dir, e))?.path();
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        if p.is_dir() {
            if depth == Depth::Recursive {
                rasters_in(&p, depth, out)?;
            }
        } else if p.is_file() && is_raster_name(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Whether a GDAL raster driver recognises `path` (an ESRI ASCII grid
/// saved as `.txt`, say): then it is a raster, not a list of rasters.
fn gdal_raster(path: &Path) -> bool {
    let Some(name) = path.to_str().and_then(|s| std::ffi::CString::new(s).ok()) else {
        return false;
    };
    gdal::DriverManager::register_all();
    // SAFETY: `name` is a valid NUL-terminated string that outlives the
    // call; the driver lists are null (every driver, no sibling files);
    // the returned handle is only compared with null, never freed.
    #[allow(unsafe_code)]
    let driver = unsafe {
        gdal_sys::GDALIdentifyDriverEx(
            name.as_ptr(),
            gdal::GdalOpenFlags::GDAL_OF_RASTER.bits(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    !driver.is_null()
}

/// The rasters a `.txt` list names, one per line, relative to the list.
/// A list that names none is an error naming it.
fn listed(list: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(list).map_err(|e| Error::read(list, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let base = list.parent().unwrap_or(Path::new("."));
    let found: Vec<PathBuf> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let t = Path::new(line);
            if t.is_absolute() {
                t.to_path_buf()
            } else {
                base.join(t)
            }
        })
        .collect();
    if found.is_empty() {
        return Err(Error::document(
            list,
            "lists no rasters (one path per line; # starts a comment)",
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Directories (top or recursive), lists, patterns and files, each
    /// expanded in place and in a stable order.
    #[test]
    fn inputs_expand_in_order_with_sorted_directories() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        for f in ["b.tif", "a.TIF", "c.vrt", "notes.md", "sub/z.img"] {
            std::fs::write(d.join(f), b"").unwrap();
        }
        std::fs::write(d.join("list.txt"), "# tiles\nsub/z.img\n\n/abs/x.tif\n").unwrap();
        let s = |p: &Path| p.display().to_string();
        let top = discover_rasters(&[s(d)], Depth::Top).unwrap();
        assert_eq!(top, vec![d.join("a.TIF"), d.join("b.tif"), d.join("c.vrt")]);
        let all = discover_rasters(&[s(d)], Depth::Recursive).unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[3], d.join("sub/z.img"));
        let mixed = discover_rasters(
            &[
                s(&d.join("list.txt")),
                format!("{}/*.tif", d.display()),
                "plain.tif".to_string(),
            ],
            Depth::Top,
        )
        .unwrap();
        assert_eq!(
            mixed,
            vec![
                d.join("sub/z.img"),
                PathBuf::from("/abs/x.tif"),
                d.join("b.tif"),
                PathBuf::from("plain.tif"),
            ]
        );
        let err = discover_rasters(&[s(&d.join("sub/..").join("sub"))], Depth::Top);
        assert!(err.is_ok());
        // Hidden files are no tiles (temporary files of outputs in progress).
        std::fs::write(d.join(".out.tif.Ab12.tmp.tif"), b"").unwrap();
        std::fs::create_dir(d.join(".hidden")).unwrap();
        std::fs::write(d.join(".hidden/t.tif"), b"").unwrap();
        assert_eq!(discover_rasters(&[s(d)], Depth::Recursive).unwrap(), all);
        // A list with a byte-order mark, and one that lists nothing.
        std::fs::write(d.join("bom.txt"), "\u{feff}b.tif\n").unwrap();
        assert_eq!(
            discover_rasters(&[s(&d.join("bom.txt"))], Depth::Top).unwrap(),
            vec![d.join("b.tif")]
        );
        std::fs::write(d.join("none.txt"), "# nothing yet\n\n").unwrap();
        let err = discover_rasters(&[s(&d.join("none.txt"))], Depth::Top).unwrap_err();
        assert!(
            err.to_string().contains("none.txt: lists no rasters"),
            "{err}"
        );
        std::fs::create_dir(d.join("empty")).unwrap();
        let err = discover_rasters(&[s(&d.join("empty"))], Depth::Recursive).unwrap_err();
        assert!(err.to_string().contains("holds no"), "{err}");
        let err = discover_rasters(&[format!("{}/*.nope", d.display())], Depth::Top).unwrap_err();
        assert!(err.to_string().contains("matches no files"), "{err}");
    }

    /// An ESRI ASCII grid saved as `.txt` (ArcGIS's default) is a raster,
    /// not a list of rasters.
    #[test]
    fn a_txt_raster_is_a_raster() {
        let dir = tempfile::tempdir().unwrap();
        let grid = dir.path().join("grid.txt");
        std::fs::write(
            &grid,
            "ncols 2\nnrows 2\nxllcorner 500000\nyllcorner 3880000\ncellsize 30\nNODATA_value 0\n1 2\n2 1\n",
        )
        .unwrap();
        let s = grid.display().to_string();
        assert_eq!(
            discover_rasters(&[&s], Depth::Top).unwrap(),
            vec![grid.clone()]
        );
        assert!(gdal_raster(&grid));
        let list = dir.path().join("tiles.txt");
        std::fs::write(&list, "grid.txt\n").unwrap();
        assert!(!gdal_raster(&list));
    }
}
