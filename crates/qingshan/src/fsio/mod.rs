//! The one place that writes files: outputs appear whole or not at all.
//!
//! Every output goes to a temporary file in the destination's own directory
//! (so the final rename stays on one file system), is flushed to disk
//! (`fsync`) and renamed over the destination. A failure on any path — an
//! error while writing, a failed rename, a writer dropped before it is
//! committed — removes the temporary file ([`tempfile`]'s `TempPath`
//! removes it on drop). Scratch files (a mask GDAL polygonizes, say) live
//! beside the output they serve and are removed the same way.
//!
//! The rules for where outputs may go live here too: an output never
//! overwrites an input of its run nor another output of it
//! ([`OutputCheck`]); writing through a symlink updates the file it names
//! (the link stays); an existing file keeps its mode.
//!
//! Invariant: no function outside this module creates, renames or removes
//! an output file; a destination is either its old self or the complete
//! new file, never a partial one. New files get the mode any program's
//! new file gets (`0666` less the umask), not the `0600` of a temporary
//! file.

use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use crate::{Error, Result};

mod check;
pub use check::{OutputCheck, refuse_overwriting};

/// The files GDAL writes beside a Shapefile (`.shp`) or removes as stale:
/// an output `.shp` replaces them as one set.
pub const SHAPEFILE_SIDECARS: [&str; 7] = ["shx", "dbf", "prj", "cpg", "qix", "sbn", "sbx"];

/// Temporary files that exist right now (outputs being written, scratch
/// files), for [`clean_up_on_signals`].
static TEMPORARIES: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Default::default);

/// Keeps a temporary file on the list of those to remove on a signal
/// while it lives; declared *before* the temporary file in a struct or a
/// scope, so it is dropped after it (the file is gone before it leaves the
/// list).
#[derive(Debug)]
struct Tracked(PathBuf);

impl Tracked {
    fn new(path: &Path) -> Tracked {
        if let Ok(mut t) = TEMPORARIES.lock() {
            t.insert(path.to_path_buf());
        }
        Tracked(path.to_path_buf())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Ok(mut t) = TEMPORARIES.lock() {
            t.remove(&self.0);
        }
    }
}

/// Removes the temporary files of outputs being written when the process
/// is interrupted (SIGINT, i.e. Ctrl-C; SIGTERM; SIGHUP), then exits with
/// 130 — so an interrupted run leaves neither a partial output (those are
/// never written in place) nor its temporary file. kill -9 cannot be
/// caught: what it leaves is hidden (`.NAME.…tmp`), never read as input,
/// and batch removes its own on the next run. Call once, early (the CLI
/// does); a second call does nothing.
pub fn clean_up_on_signals() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(t) = TEMPORARIES.lock() {
            for p in t.iter() {
                if p.is_dir() {
                    let _ = std::fs::remove_dir_all(p);
                } else {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        // `exit` would run the process's exit handlers (GDAL's among them)
        // while the workers may still be inside GDAL, and could crash on
        // the way out instead of exiting 130.
        // SAFETY: `_exit` ends the process at once; nothing runs after it.
        #[allow(unsafe_code)]
        unsafe {
            libc::_exit(130)
        }
    });
}

/// The directory an output is written in: its parent, or `.` for a bare
/// file name.
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The file an output at `path` is written to: a symlink is followed to
/// the file it names (which is replaced; the link stays a link), however
/// many links deep. A dangling link names the file to create.
fn write_target(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(next) if next.is_absolute() => p = next,
            Ok(next) => p = parent_dir(&p).join(next),
            Err(_) => break,
        }
    }
    p
}

/// Gives the file at `tmp` the mode of the file it replaces at `target`,
/// when there is one (a new file keeps the ordinary mode it was made with).
fn keep_mode(tmp: &Path, target: &Path, shown: &Path) -> Result<()> {
    if let Ok(meta) = std::fs::metadata(target) {
        std::fs::set_permissions(tmp, meta.permissions()).map_err(|e| Error::write_io(shown, e))?;
    }
    Ok(())
}

/// A temporary file beside `path` (hidden, named after it, ending in
/// `suffix`), created with an ordinary file's mode. Fails with a write
/// error naming `path` when its directory does not exist.
fn temp_beside(path: &Path, suffix: &str) -> Result<tempfile::NamedTempFile> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(Error::write(
            path,
            "its directory does not exist (create it first)",
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(&dir)
        .map_err(|e| Error::write_io(path, without_temp_path(e)))
}

/// The operating system's error without the name of the temporary file
/// `tempfile` appends to it ("… at path \"dir/.x.AbC123.tmp\""): a user
/// should read about their output, not about an internal file whose name
/// changes on every run.
fn without_temp_path(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.find(" at path \"") {
        Some(i) if e.raw_os_error().is_none() => io::Error::new(e.kind(), text[..i].to_string()),
        _ => e,
    }
}

/// How errors name the standard output (`-` on the command line).
pub const STDOUT: &str = "standard output";

/// Writes `path` atomically: `write` fills a temporary file in the same
/// directory, which is flushed to disk and renamed over `path` (over the
/// file a symlink at `path` names, keeping the link; an existing file's
/// mode is kept). `-` writes to stdout; an existing special file
/// (`/dev/null`, a FIFO, a terminal) is written in place, never replaced.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    if path.as_os_str() == "-" {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        return write(&mut lock)
            .and_then(|_| lock.flush())
            .map_err(|e| Error::write_io(STDOUT, e));
    }
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        if meta.is_dir() {
            return Err(Error::write(path, "is a directory"));
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::write_io(path, e))?;
        return write(&mut f)
            .and_then(|_| f.flush())
            .map_err(|e| Error::write_io(path, e));
    }
    let target = write_target(path);
    let tmp = temp_beside(&target, ".tmp")?;
    let _tracked = Tracked::new(tmp.path());
    let (file, tmp_path) = tmp.into_parts();
    let mut w = BufWriter::new(file);
    write(&mut w)
        .and_then(|_| w.into_inner().map_err(|e| e.into_error()))
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::write_io(path, e))?;
    keep_mode(&tmp_path, &target, path)?;
    tmp_path
        .persist(&target)
        .map_err(|e| Error::write_io(path, e.error))
}

/// Creates an output directory and its parents (nothing when it exists).
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write_io(dir, e))
}

/// Removes the temporary files a killed run left in `dir` (this module's
/// own: hidden names ending in `.tmp`); other files are left alone.
/// Returns how many were removed.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") && std::fs::remove_file(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// FNV-1a, 64-bit: a stable fingerprint of content (std's hasher may
/// change between Rust releases; files written on one machine are checked
/// on another). [`Fnv::bytes`] ends each piece with a separator, so
/// `("ab", "c")` and `("a", "bc")` differ.
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// The fingerprint of one piece of content, as text.
    pub(crate) fn of(content: &[u8]) -> String {
        let mut h = Fnv::new();
        h.bytes(content);
        format!("fnv1a64:{:016x}", h.0)
    }
}

/// An output that another writer (GDAL) fills through a path: a temporary
/// file beside the destination, renamed into place by
/// [`Pending::commit`], removed if dropped uncommitted.
#[derive(Debug)]
pub struct Pending {
    /// Dropped after `tmp` (fields drop in order): see [`Tracked`].
    tmp: tempfile::TempPath,
    _tracked: Tracked,
    /// The destination as the user named it (errors say this).
    target: PathBuf,
    /// The file replaced: the destination with symlinks followed.
    real: PathBuf,
}

impl Pending {
    /// A temporary path beside `target` (beside the file a symlink there
    /// names), its name ending in `suffix` (e.g. `.tmp.tif`, for drivers
    /// that look at the extension). Fails when `target` exists and is not
    /// a regular file, or its directory does not exist.
    pub fn beside(target: &Path, suffix: &str) -> Result<Pending> {
        if std::fs::metadata(target).is_ok_and(|m| !m.is_file()) {
            return Err(Error::write(target, "exists and is not a regular file"));
        }
        let real = write_target(target);
        let tmp = temp_beside(&real, suffix)?.into_temp_path();
        Ok(Pending {
            _tracked: Tracked::new(&tmp),
            tmp,
            target: target.to_path_buf(),
            real,
        })
    }

    /// Where the writer writes.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The destination.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the written file to disk and renames it over the
    /// destination. The writer must have closed it.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        // Opened for writing: some systems flush only handles that may write.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&self.tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::write_io(&target, e))?;
        keep_mode(&self.tmp, &self.real, &target)?;
        self.tmp
            .persist(&self.real)
            .map_err(|e| Error::write_io(&target, e.error))
    }
}

/// Writes an output made of several files sharing a stem (a Shapefile's
/// `.shp`, `.shx`, `.dbf`, `.prj`, `.cpg`): `fill` writes them into a
/// temporary directory beside `target`, given the path the main file must
/// have there; then every file of the set is swapped into place beside
/// `target` (same stem, its own extension), the main file last, and
/// sidecars of an earlier set this one does not write are removed. A
/// destination that exists and is not a regular file is refused before
/// anything is written; if a rename still fails, the files already
/// swapped are put back, so the old set stays whole.
pub fn write_with_sidecars(
    target: &Path,
    sidecars: &[&str],
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let real = write_target(target);
    let dir = parent_dir(&real);
    if !dir.is_dir() {
        return Err(Error::write(target, "its directory does not exist"));
    }
    let dests: Vec<PathBuf> = sidecars
        .iter()
        .map(|ext| real.with_extension(ext))
        .chain(std::iter::once(real.clone()))
        .collect();
    if let Some(bad) = dests.iter().find(|d| {
        std::fs::symlink_metadata(d).is_ok_and(|m| !m.is_file() && !m.file_type().is_symlink())
    }) {
        return Err(Error::write(
            bad,
            "exists and is not a regular file; remove it or choose another output name",
        ));
    }
    let tmp = tempfile::Builder::new()
        .prefix(".qingshan-")
        .tempdir_in(&dir)
        .map_err(|e| Error::write_io(target, e))?;
    let _tracked = Tracked::new(tmp.path());
    let name = real
        .file_name()
        .ok_or_else(|| Error::write(target, "has no file name"))?;
    let main = tmp.path().join(name);
    fill(&main)?;
    let old = tmp.path().join("old");
    std::fs::create_dir(&old).map_err(|e| Error::write_io(target, e))?;
    // (new file in the temporary directory or None, destination), main last.
    let moves: Vec<(Option<PathBuf>, PathBuf)> = dests
        .iter()
        .map(|to| {
            let from = main.with_extension(to.extension().unwrap_or_default());
            (from.exists().then_some(from), to.clone())
        })
        .collect();
    for (from, to) in moves.iter() {
        if let Some(f) = from {
            std::fs::File::open(f)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::write_io(target, e))?;
            // A file replaced keeps its mode, as every output does.
            keep_mode(f, to, to)?;
        }
    }
    // Swap each destination: the old file aside, the new one in.
    let mut done: Vec<(Option<&PathBuf>, &PathBuf, Option<PathBuf>)> = Vec::new();
    let mut failed = None;
    for (k, (from, to)) in moves.iter().enumerate() {
        let aside = old.join(format!("{k}"));
        let had = to.is_file() || std::fs::symlink_metadata(to).is_ok();
        if had && let Err(e) = std::fs::rename(to, &aside) {
            failed = Some(Error::write_io(to, e));
            break;
        }
        let saved = had.then_some(aside);
        if let Some(f) = from
            && let Err(e) = std::fs::rename(f, to)
        {
            if let Some(a) = &saved {
                let _ = std::fs::rename(a, to);
            }
            failed = Some(Error::write_io(to, e));
            break;
        }
        done.push((from.as_ref(), to, saved));
    }
    if let Some(e) = failed {
        for (from, to, saved) in done.into_iter().rev() {
            if from.is_some() {
                let _ = std::fs::remove_file(to);
            }
            if let Some(a) = saved {
                let _ = std::fs::rename(a, to);
            }
        }
        return Err(e);
    }
    Ok(())
}

/// A scratch file beside an output (in `dir`), removed when dropped.
#[derive(Debug)]
pub struct ScratchFile {
    /// Dropped before `_tracked` (fields drop in order): see [`Tracked`].
    path: tempfile::TempPath,
    _tracked: Tracked,
}

impl ScratchFile {
    /// A new, empty scratch file in `dir`, named `.qingshan-{what}-…{suffix}`.
    /// A missing directory is an error naming it.
    pub fn in_dir(dir: &Path, what: &str, suffix: &str) -> Result<ScratchFile> {
        if !dir.is_dir() {
            return Err(Error::write(dir, "no such directory"));
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".qingshan-{what}-"))
            .suffix(suffix)
            .tempfile_in(dir)
            .map_err(|e| Error::write_io(dir, without_temp_path(e)))?;
        let path = tmp.into_temp_path();
        let _tracked = Tracked::new(&path);
        Ok(ScratchFile { path, _tracked })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    /// A sidecar that is a directory is refused before anything is
    /// written, and the old set stays whole; a new set replaces the old
    /// one and removes its stale sidecars.
    #[test]
    fn sidecar_sets_are_replaced_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let shp = dir.path().join("a.shp");
        for (ext, text) in [("shp", "old shp"), ("dbf", "old dbf"), ("qix", "old qix")] {
            std::fs::write(shp.with_extension(ext), text).unwrap();
        }
        std::fs::create_dir(shp.with_extension("prj")).unwrap();
        let write_new = |main: &Path| {
            std::fs::write(main, "new shp").unwrap();
            std::fs::write(main.with_extension("dbf"), "new dbf").unwrap();
            std::fs::write(main.with_extension("prj"), "new prj").unwrap();
            Ok(())
        };
        let err = write_with_sidecars(&shp, &["dbf", "prj", "qix"], write_new).unwrap_err();
        assert!(err.to_string().contains("a.prj"), "{err}");
        assert_eq!(std::fs::read_to_string(&shp).unwrap(), "old shp");
        assert_eq!(
            std::fs::read_to_string(shp.with_extension("dbf")).unwrap(),
            "old dbf"
        );
        std::fs::remove_dir(shp.with_extension("prj")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let dbf = shp.with_extension("dbf");
        std::fs::set_permissions(&dbf, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_with_sidecars(&shp, &["dbf", "prj", "qix"], write_new).unwrap();
        // A replaced file keeps its mode.
        let mode = std::fs::metadata(&dbf).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&shp).unwrap(), "new shp");
        assert_eq!(
            std::fs::read_to_string(shp.with_extension("prj")).unwrap(),
            "new prj"
        );
        assert!(!shp.with_extension("qix").exists());
        // Nothing else is left in the directory.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.dbf", "a.prj", "a.shp"]);
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn atomic_write_leaves_no_partial_file_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        std::fs::write(&target, "old").unwrap();
        let r = write_atomic(&target, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(entries(dir.path()), 1);
        write_atomic(&target, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(entries(dir.path()), 1);
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        write_atomic(null, |w| w.write_all(b"discarded")).unwrap();
        let meta = std::fs::metadata(null).unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(dir.path(), |w| w.write_all(b"x")).is_err());
    }

    /// A new output has the mode of a file created the ordinary way (what
    /// the umask leaves of 0666), not a temporary file's 0600.
    #[cfg(unix)]
    #[test]
    fn new_outputs_get_an_ordinary_files_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let ours = dir.path().join("ours.json");
        write_atomic(&ours, |w| w.write_all(b"{}")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ours), mode(&plain));
        let pending = Pending::beside(&dir.path().join("r.tif"), ".tmp.tif").unwrap();
        std::fs::write(pending.path(), b"raster").unwrap();
        pending.commit().unwrap();
        assert_eq!(mode(&dir.path().join("r.tif")), mode(&plain));
    }

    #[test]
    fn pending_outputs_appear_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.tif");
        let p = Pending::beside(&target, ".tmp.tif").unwrap();
        std::fs::write(p.path(), b"x").unwrap();
        assert!(!target.exists());
        drop(p);
        assert_eq!(entries(dir.path()), 0, "a dropped output leaves nothing");
        let p = Pending::beside(&target, ".tmp.tif").unwrap();
        std::fs::write(p.path(), b"y").unwrap();
        p.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"y");
        assert_eq!(entries(dir.path()), 1);
        // A directory in the way is refused before anything is written.
        let d = dir.path().join("d.tif");
        std::fs::create_dir(&d).unwrap();
        let err = Pending::beside(&d, ".tmp.tif").unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let err = Pending::beside(&dir.path().join("no/x.tif"), ".tmp").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    /// Writing through a symlink replaces the file it names and keeps the
    /// link; an existing file keeps its mode (here 0600 and 0640).
    #[cfg(unix)]
    #[test]
    fn symlinks_are_written_through_and_modes_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, b"old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomic(&link, |w| w.write_all(b"new")).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&real), 0o600);
        // A raster written through GDAL's path keeps them too.
        let tif = dir.path().join("t.tif");
        std::fs::write(&tif, b"x").unwrap();
        std::fs::set_permissions(&tif, std::fs::Permissions::from_mode(0o640)).unwrap();
        let tif_link = dir.path().join("t_link.tif");
        std::os::unix::fs::symlink(&tif, &tif_link).unwrap();
        let p = Pending::beside(&tif_link, ".tmp.tif").unwrap();
        std::fs::write(p.path(), b"raster").unwrap();
        p.commit().unwrap();
        assert!(
            std::fs::symlink_metadata(&tif_link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&tif).unwrap(), b"raster");
        assert_eq!(mode(&tif), 0o640);
    }

    /// Outputs clash with inputs and with each other, however spelt.
    #[test]
    fn outputs_clash_with_inputs_and_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let zones = dir.path().join("towns.geojson");
        std::fs::write(&zones, b"{}").unwrap();
        let mut check = OutputCheck::new();
        check.input(&zones, "--zones");
        let err = check.output(&zones, "-o").unwrap_err();
        assert!(
            err.to_string().contains("an input of this run (--zones)"),
            "{err}"
        );
        check
            .output(&dir.path().join("x.tif"), "--change-raster")
            .unwrap();
        let err = check.output(&dir.path().join("./x.tif"), "-o").unwrap_err();
        assert!(
            err.to_string()
                .contains("--change-raster and -o name the same file"),
            "{err}"
        );
        check.output(Path::new("-"), "-o").unwrap();
        check.output(Path::new("-"), "--qa").unwrap();
    }

    /// An output is refused over an input, however it is spelt (a
    /// relative path, a symlink); other outputs and stdout pass.
    #[cfg(unix)]
    #[test]
    fn outputs_are_refused_over_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("audit.json");
        std::fs::write(&input, b"{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let inputs = [input.clone()];
        for out in [
            input.clone(),
            link.clone(),
            dir.path().join("sub/../audit.json"),
        ] {
            std::fs::create_dir_all(dir.path().join("sub")).unwrap();
            let err = refuse_overwriting(&out, &inputs).unwrap_err();
            assert!(err.to_string().contains("an input of this run"), "{err}");
        }
        refuse_overwriting(&dir.path().join("report.html"), &inputs).unwrap();
        refuse_overwriting(Path::new("-"), &inputs).unwrap();
        refuse_overwriting(Path::new("/no/such/dir/x"), &inputs).unwrap();
    }

    /// What a killed run leaves (temporary files of this module's naming)
    /// is removed; everything else stays.
    #[test]
    fn stale_temporary_files_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let left = temp_beside(&dir.path().join("000001.json"), ".tmp").unwrap();
        let (_, path) = left.into_parts();
        path.keep().unwrap();
        for keep in ["000002.json", ".hidden", "notes.tmp"] {
            std::fs::write(dir.path().join(keep), b"x").unwrap();
        }
        assert_eq!(remove_stale_temps(dir.path()), 1);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".hidden", "000002.json", "notes.tmp"]);
    }

    /// Errors name the output, never the temporary file (whose name is
    /// random): the OS reason is kept, tempfile's note of the path is not.
    #[test]
    fn errors_do_not_name_temporary_files() {
        let with_path = io::Error::new(
            io::ErrorKind::PermissionDenied,
            "Permission denied (os error 13) at path \"/x/.out.json.AbC123.tmp\"",
        );
        let plain = without_temp_path(with_path);
        assert_eq!(plain.to_string(), "Permission denied (os error 13)");
        assert_eq!(plain.kind(), io::ErrorKind::PermissionDenied);
        #[cfg(target_os = "linux")]
        {
            let err = write_atomic(Path::new("/proc/out.json"), |w| w.write_all(b"x"))
                .unwrap_err()
                .full_message();
            assert!(err.starts_with("/proc/out.json: cannot write: "), "{err}");
            assert!(!err.contains(".tmp"), "{err}");
        }
        let err = ScratchFile::in_dir(Path::new("no/such/dir"), "patches", ".tif").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no/such/dir: cannot write: no such directory"
        );
    }

    #[test]
    fn scratch_files_are_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let s = ScratchFile::in_dir(dir.path(), "patches", ".tif").unwrap();
        assert!(s.path().exists());
        let name = s.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".qingshan-patches-") && name.ends_with(".tif"));
        drop(s);
        assert_eq!(entries(dir.path()), 0);
    }
}
