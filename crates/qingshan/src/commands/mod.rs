//! One function per `qingshan` command, taking what the command line
//! takes — paths, names, limits — and returning the result together with
//! what its outputs need (legend, zone layers), ready for
//! [`crate::export`]. The CLI is an adapter over these (arguments in, one
//! call, the output written, an exit code); so will the Python package be.
//!
//! Invariant: each function computes exactly what the library functions
//! it names compute — it only opens the inputs (in parallel where that
//! helps), checks that no output it is told about overwrites an input or
//! another output ([`OutputCheck`]) before computing, and collects what
//! the outputs need.
//!
//! # Examples
//! ```
//! use qingshan::commands::{self, StatsArgs, ZoneSource};
//! use qingshan::export::{self, Format};
//!
//! let run = commands::stats(
//!     &StatsArgs {
//!         landcover: vec!["../../fixtures/landcover/clcd_2024.vrt".into()],
//!         band: 1,
//!         zones: ZoneSource::path("../../fixtures/towns.geojson"),
//!         legend: "clcd".into(),
//!         area: Default::default(), // ground areas on the ellipsoid
//!         output: None,
//!     },
//!     &Default::default(),
//! )?;
//! let mut table = Vec::new();
//! export::render(&run.export(), Format::Table, &mut table)?;
//! assert!(String::from_utf8(table)?.contains("金锁关镇"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod landuse;
mod series;
mod slope;
mod values;

use std::path::{Path, PathBuf};

use crate::area::AreaMode;
use crate::audit::{AuditConfig, AuditReport, run_audit};
use crate::batch::{self, Batch, BatchConfig, BatchSummary, Merged, OverlapPolicy, Shard};
use crate::change::{ChangeRaster, ChangeReport, land_cover_change};
use crate::engine::RunOptions;
use crate::export;
use crate::fsio::OutputCheck;
use crate::grid::Crs;
use crate::legend::Legend;
use crate::raster::{LandCover, Tile};
use crate::redline::{
    CheckLimits, DiffOptions, Patch, RedlineCheck, RedlineDiff, redline_check,
    redline_check_with_patches, redline_diff,
};
use crate::report::{Bundle, BundlePaths, Lang, ReportOptions, write_bundle};
use crate::zonal::{StatsReport, zonal_stats};
use crate::zones::{ZoneLayer, ZoneOptions};
use crate::{Error, Result};

pub use landuse::{
    LandUseChangeArgs, LandUseChangeRun, LandUseSource, LandUseStatsArgs, LandUseStatsRun,
    landuse_change, landuse_stats,
};
pub use series::{SeriesArgs, SeriesRun, series};
pub use slope::{CroplandSource, SlopeArgs, SlopeRun, slope};
pub use values::{ValuesArgs, ValuesRun, parse_scale_offset, values};

/// A zone layer to read: the file and how.
#[derive(Clone, Debug, Default)]
pub struct ZoneSource {
    /// GeoJSON, Shapefile, GeoPackage or any OGR vector source.
    pub path: PathBuf,
    /// Id and name fields, layer, repairs.
    pub options: ZoneOptions,
}

impl ZoneSource {
    /// A file read with the default options (ids from the feature id or
    /// index, names from a `name`-like field, the first layer).
    pub fn path(path: impl Into<PathBuf>) -> ZoneSource {
        ZoneSource {
            path: path.into(),
            options: ZoneOptions::default(),
        }
    }

    /// Reads the layer.
    pub fn read(&self) -> Result<ZoneLayer> {
        ZoneLayer::read(&self.path, &self.options)
    }
}

/// The file a legend argument names, when it is not a built-in legend.
pub(super) fn legend_file(spec: &str) -> Option<&Path> {
    Legend::builtin(spec).is_none().then(|| Path::new(spec))
}

/// Checks `outputs` (destination, flag) against the inputs of a run and
/// each other.
fn check_outputs(check: &mut OutputCheck, outputs: &[(Option<&PathBuf>, &str)]) -> Result<()> {
    for (path, what) in outputs {
        if let Some(p) = path {
            check.output(p, what)?;
        }
    }
    Ok(())
}

/// Opens land cover and reads zones at the same time (both mostly wait on
/// GDAL/PROJ start-up and parsing).
fn open_both(
    landcover: &[String],
    band: usize,
    zones: &ZoneSource,
) -> Result<(LandCover, ZoneLayer)> {
    std::thread::scope(|s| {
        let z = s.spawn(|| zones.read());
        let lc = LandCover::open(landcover, band);
        let z = z
            .join()
            .map_err(|_| Error::Invalid("reading the zones failed".into()))?;
        Ok((lc?, z?))
    })
}

// ------------------------------------------------------------------ stats

/// `qingshan stats`.
#[derive(Clone, Debug)]
pub struct StatsArgs {
    /// Land-cover rasters (files, VRTs, directories, patterns, lists).
    pub landcover: Vec<String>,
    /// Band holding the classes.
    pub band: usize,
    /// The zones.
    pub zones: ZoneSource,
    /// Legend name or TOML file.
    pub legend: String,
    /// How cells and zones are measured.
    pub area: AreaMode,
    /// Where the result will be written (`-o`), checked against the
    /// inputs before anything is computed.
    pub output: Option<PathBuf>,
}

/// What `qingshan stats` computed.
#[derive(Debug)]
pub struct StatsRun {
    /// The result.
    pub report: StatsReport,
    /// Its legend.
    pub legend: Legend,
    /// The zones, as read.
    pub zones: ZoneLayer,
    /// The land cover, as opened.
    pub land_cover: LandCover,
}

impl StatsRun {
    /// The result ready for any output format.
    pub fn export(&self) -> export::Stats<'_> {
        export::Stats {
            report: &self.report,
            legend: &self.legend,
            zones: Some(&self.zones),
        }
    }
}

/// Per-zone class areas and forest cover ([`zonal_stats`]).
pub fn stats(a: &StatsArgs, run: &RunOptions<'_>) -> Result<StatsRun> {
    run.check()?;
    let legend = Legend::load(&a.legend)?;
    let (land_cover, zones) = open_both(&a.landcover, a.band, &a.zones)?;
    let land_cover = land_cover.with_area(a.area);
    let mut check = OutputCheck::new();
    check.inputs(&land_cover.files(), "--landcover");
    check.inputs(&zones.files(), "--zones");
    if let Some(l) = legend_file(&a.legend) {
        check.input(l, "--legend");
    }
    check_outputs(&mut check, &[(a.output.as_ref(), "-o")])?;
    let report = zonal_stats(&land_cover, &zones, &legend, run)?;
    Ok(StatsRun {
        report,
        legend,
        zones,
        land_cover,
    })
}

// ----------------------------------------------------------------- change

/// `qingshan change`.
#[derive(Clone, Debug)]
pub struct ChangeArgs {
    /// Land cover of the first date.
    pub before: Vec<String>,
    /// Land cover of the second date.
    pub after: Vec<String>,
    /// Band holding the classes.
    pub band: usize,
    /// The zones.
    pub zones: ZoneSource,
    /// Legend name or TOML file.
    pub legend: String,
    /// How cells and zones are measured.
    pub area: AreaMode,
    /// Also write a GeoTIFF coding each cell's transition here.
    pub change_raster: Option<PathBuf>,
    /// Where the result will be written (`-o`).
    pub output: Option<PathBuf>,
}

/// What `qingshan change` computed.
#[derive(Debug)]
pub struct ChangeRun {
    /// The result.
    pub report: ChangeReport,
    /// Its legend.
    pub legend: Legend,
    /// The zones, as read.
    pub zones: ZoneLayer,
    /// The first date, as opened.
    pub before: LandCover,
}

impl ChangeRun {
    /// The result ready for any output format.
    pub fn export(&self) -> export::Change<'_> {
        export::Change {
            report: &self.report,
            legend: &self.legend,
            zones: Some(&self.zones),
        }
    }
}

/// A GeoTIFF output must be named so (`c.png` held a GeoTIFF).
fn geotiff_name(p: &Path, what: &str) -> Result<()> {
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ["tif", "tiff"].iter().any(|t| ext.eq_ignore_ascii_case(t)) {
        return Ok(());
    }
    Err(Error::write(
        p,
        format!("{what} writes a GeoTIFF; give it a .tif name"),
    ))
}

/// Per-zone transitions between two dates ([`land_cover_change`]).
pub fn change(a: &ChangeArgs, run: &RunOptions<'_>) -> Result<ChangeRun> {
    run.check()?;
    let legend = Legend::load(&a.legend)?;
    let after = LandCover::open(&a.after, a.band)?.with_area(a.area);
    let (before, zones) = open_both(&a.before, a.band, &a.zones)?;
    let before = before.with_area(a.area);
    let mut check = OutputCheck::new();
    check.inputs(&before.files(), "--before");
    check.inputs(&after.files(), "--after");
    check.inputs(&zones.files(), "--zones");
    if let Some(l) = legend_file(&a.legend) {
        check.input(l, "--legend");
    }
    check_outputs(
        &mut check,
        &[
            (a.change_raster.as_ref(), "--change-raster"),
            (a.output.as_ref(), "-o"),
        ],
    )?;
    if let Some(p) = &a.change_raster {
        geotiff_name(p, "--change-raster")?;
    }
    let raster = a
        .change_raster
        .as_ref()
        .map(|p| ChangeRaster { path: p.clone() });
    let report = land_cover_change(&before, &after, &zones, &legend, run, raster.as_ref())?;
    Ok(ChangeRun {
        report,
        legend,
        zones,
        before,
    })
}

// ---------------------------------------------------------- redline diff

/// `qingshan redline diff`.
#[derive(Clone, Debug)]
pub struct DiffArgs {
    /// The baseline red lines.
    pub old: PathBuf,
    /// The new version (any CRS).
    pub new: PathBuf,
    /// Attribute holding the red-line id in both layers.
    pub id_field: Option<String>,
    /// Towns (or any zones) to report totals for.
    pub towns: Option<PathBuf>,
    /// Attribute holding the town id.
    pub towns_id_field: Option<String>,
    /// Repair invalid polygons instead of failing.
    pub make_valid: bool,
    /// Text encoding of shapefile attributes (all layers).
    pub encoding: Option<String>,
    /// Tolerance and strictness.
    pub options: DiffOptions,
    /// Where the result will be written (`-o`).
    pub output: Option<PathBuf>,
    /// Where the lost pieces will be written (`--lost-geometry`).
    pub lost_geometry: Option<PathBuf>,
}

/// What `qingshan redline diff` computed.
#[derive(Debug)]
pub struct DiffRun {
    /// The result.
    pub diff: RedlineDiff,
    /// The old version, as read.
    pub old: ZoneLayer,
    /// The new version, as read.
    pub new: ZoneLayer,
}

impl DiffRun {
    /// The result ready for any output format.
    pub fn export(&self) -> export::Diff<'_> {
        export::Diff {
            diff: &self.diff,
            old: Some(&self.old),
            new: Some(&self.new),
        }
    }

    /// The lost pieces, as GeoJSON.
    pub fn lost_geometry(&self) -> export::LostGeometry<'_> {
        export::LostGeometry(&self.diff)
    }

    /// Why the check failed (the red line shrank, or with `strict` lost
    /// area anywhere), with the totals; `None` when it passed.
    pub fn failure(&self) -> Option<String> {
        let d = &self.diff;
        d.failed.then(|| {
            format!(
                "{} (old {:.1} m², new {:.1} m², lost {:.1} m², gained {:.1} m²)",
                if d.shrunk {
                    "the red line shrank"
                } else {
                    "area was lost (--strict)"
                },
                d.old_total_m2,
                d.new_total_m2,
                d.lost_m2,
                d.gained_m2
            )
        })
    }
}

/// Compares two versions of the red lines ([`redline_diff`]).
pub fn diff(a: &DiffArgs) -> Result<DiffRun> {
    let opts = |id: &Option<String>| ZoneOptions {
        id_field: id.clone(),
        make_valid: a.make_valid,
        encoding: a.encoding.clone(),
        ..Default::default()
    };
    let old = ZoneLayer::read(&a.old, &opts(&a.id_field))?;
    let new = ZoneLayer::read(&a.new, &opts(&a.id_field))?;
    let towns = match &a.towns {
        Some(t) => Some(ZoneLayer::read(t, &opts(&a.towns_id_field))?),
        None => None,
    };
    let mut check = OutputCheck::new();
    check.inputs(&old.files(), "OLD");
    check.inputs(&new.files(), "NEW");
    if let Some(t) = &towns {
        check.inputs(&t.files(), "--towns");
    }
    check_outputs(
        &mut check,
        &[
            (a.output.as_ref(), "-o"),
            (a.lost_geometry.as_ref(), "--lost-geometry"),
        ],
    )?;
    let diff = redline_diff(&old, &new, towns.as_ref(), &a.options)?;
    Ok(DiffRun { diff, old, new })
}

// --------------------------------------------------------- redline check

/// `qingshan redline check`.
#[derive(Clone, Debug)]
pub struct CheckArgs {
    /// The red lines.
    pub redlines: ZoneSource,
    /// Land cover of the first date.
    pub before: Vec<String>,
    /// Land cover of the second date.
    pub after: Vec<String>,
    /// Band holding the classes.
    pub band: usize,
    /// Legend name or TOML file.
    pub legend: String,
    /// Conversion and vegetation-loss limits.
    pub limits: CheckLimits,
    /// How cells (and patches) are measured.
    pub area: AreaMode,
    /// Where the conversion patches will be written, if wanted: they are
    /// outlined in the same pass (a scratch mask beside this file).
    pub patches: Option<PathBuf>,
    /// Where the result will be written (`-o`).
    pub output: Option<PathBuf>,
    /// Two versions of a land-use layer instead of `before`/`after`
    /// rasters (the patches are then the converted pieces, written as a
    /// change list).
    pub landuse: Option<(LandUseSource, LandUseSource)>,
}

/// Conversion patches and the CRS of their geometries.
#[derive(Debug)]
pub struct PatchSet {
    /// CRS of the geometries (the land cover's).
    pub crs: Crs,
    /// The patches.
    pub patches: Vec<Patch>,
}

/// What `qingshan redline check` computed.
#[derive(Debug)]
pub struct CheckRun {
    /// The result.
    pub check: RedlineCheck,
    /// Its legend.
    pub legend: Legend,
    /// The red lines, as read.
    pub redlines: ZoneLayer,
    /// Conversion patches, when asked for.
    pub patches: Option<PatchSet>,
}

impl CheckRun {
    /// The result ready for any output format.
    pub fn export(&self) -> export::Check<'_> {
        export::Check {
            check: &self.check,
            redlines: Some(&self.redlines),
        }
    }

    /// The conversion patches as GeoJSON, when computed.
    pub fn patches(&self) -> Option<export::Patches<'_>> {
        self.patches.as_ref().map(|p| export::Patches {
            crs: &p.crs,
            patches: &p.patches,
            legend: &self.legend,
        })
    }

    /// One line per red line that violates a limit.
    pub fn violations(&self) -> Vec<String> {
        self.check
            .polygons
            .iter()
            .filter(|p| !p.violations.is_empty())
            .map(|p| format!("{}: {}", p.id, p.violations.join("; ")))
            .collect()
    }
}

/// Nature and function inside the red lines ([`redline_check`]), with
/// the conversion patches from the same pass when asked for.
pub fn check(a: &CheckArgs, run: &RunOptions<'_>) -> Result<CheckRun> {
    run.check()?;
    if let Some(sources) = &a.landuse {
        return landuse::landuse_check(a, sources, run);
    }
    let legend = Legend::load(&a.legend)?;
    let after = LandCover::open(&a.after, a.band)?.with_area(a.area);
    let (before, redlines) = open_both(&a.before, a.band, &a.redlines)?;
    let before = before.with_area(a.area);
    let mut outputs = OutputCheck::new();
    outputs.inputs(&before.files(), "--before");
    outputs.inputs(&after.files(), "--after");
    outputs.inputs(&redlines.files(), "--redlines");
    if let Some(l) = legend_file(&a.legend) {
        outputs.input(l, "--legend");
    }
    check_outputs(
        &mut outputs,
        &[(a.output.as_ref(), "-o"), (a.patches.as_ref(), "--patches")],
    )?;
    let (check, patches) = match &a.patches {
        Some(p) => {
            let dir = crate::fsio::parent_dir(p);
            let (c, crs, patches) = redline_check_with_patches(
                &before, &after, &redlines, &legend, &a.limits, run, &dir,
            )?;
            (c, Some(PatchSet { crs, patches }))
        }
        None => (
            redline_check(&before, &after, &redlines, &legend, &a.limits, run)?,
            None,
        ),
    };
    Ok(CheckRun {
        check,
        legend,
        redlines,
        patches,
    })
}

// ------------------------------------------------------------------ batch

/// `qingshan batch`.
#[derive(Clone, Debug)]
pub struct BatchArgs {
    /// Tiles: directories (searched recursively), patterns, lists, rasters.
    pub tiles: Vec<String>,
    /// Tiles of a second date (a change run).
    pub after_tiles: Option<Vec<String>>,
    /// The zones.
    pub zones: ZoneSource,
    /// Legend name or TOML file.
    pub legend: String,
    /// Band holding the classes.
    pub band: usize,
    /// Output directory.
    pub out_dir: PathBuf,
    /// `I/N`: this process runs tiles I, I+N, …
    pub shard: Option<String>,
    /// Skip tiles whose partial is complete.
    pub resume: bool,
    /// How cells and zones are measured.
    pub area: AreaMode,
    /// What to do where tiles overlap.
    pub overlap: OverlapPolicy,
}

/// What `qingshan batch` did.
#[derive(Debug)]
pub struct BatchRun {
    /// Tiles processed, skipped, cells read.
    pub summary: BatchSummary,
    /// The shard run, if any.
    pub shard: Option<Shard>,
    /// An unsharded run's merged result, with the paths of the result
    /// and of the per-tile QA table.
    pub finished: Option<(Merged, PathBuf, PathBuf)>,
}

/// A batch ready to run: tiles read, dates paired, manifest written.
pub struct PreparedBatch {
    batch: Batch,
    shard: Option<Shard>,
    out_dir: PathBuf,
}

impl PreparedBatch {
    /// Repairs made while reading the zones (say them before the run).
    pub fn repairs(&self) -> &[String] {
        self.batch.repairs()
    }

    /// Processes this shard's tiles and, unless sharded, merges them into
    /// the final result ([`batch::finish`]).
    pub fn run(self, run: &RunOptions<'_>) -> Result<BatchRun> {
        let summary = self.batch.run(run)?;
        let finished = match self.shard {
            Some(sh) if sh.count > 1 => None,
            _ => Some(batch::finish(&self.out_dir)?),
        };
        Ok(BatchRun {
            summary,
            shard: self.shard,
            finished,
        })
    }
}

/// Stats (or change) over many tiles: resumable per-tile partials, and,
/// unless sharded, the merged result ([`prepare_batch`], then
/// [`PreparedBatch::run`]).
pub fn batch(a: &BatchArgs, run: &RunOptions<'_>) -> Result<BatchRun> {
    prepare_batch(a, run)?.run(run)
}

/// Reads every tile's header, pairs the dates, checks overlaps and writes
/// the run's manifest ([`Batch::prepare`]).
pub fn prepare_batch(a: &BatchArgs, run: &RunOptions<'_>) -> Result<PreparedBatch> {
    run.check()?;
    let tiles = batch::discover_tiles(&a.tiles)?;
    let legend = Legend::load(&a.legend)?;
    let after = match &a.after_tiles {
        Some(t) => Some(batch::discover_tiles(t)?),
        None => None,
    };
    let shard = a.shard.as_deref().map(str::parse::<Shard>).transpose()?;
    let mut check = OutputCheck::new();
    check.inputs(&tiles, "--tiles");
    if let Some(t) = &after {
        check.inputs(t, "--after-tiles");
    }
    check.inputs(&crate::raster::input_files(&a.zones.path), "--zones");
    if let Some(l) = legend_file(&a.legend) {
        check.input(l, "--legend");
    }
    for name in ["run.json", "stats.json", "change.json", "tiles_qa.csv"] {
        check.output(&a.out_dir.join(name), "--out-dir")?;
    }
    let prepared = Batch::prepare(
        BatchConfig {
            tiles,
            after_tiles: after,
            band: a.band,
            out_dir: a.out_dir.clone(),
            shard,
            resume: a.resume,
            overlap: a.overlap,
            area: a.area,
        },
        batch::ZoneInput::File(a.zones.path.clone(), a.zones.options.clone()),
        legend,
        run,
    )?;
    Ok(PreparedBatch {
        batch: prepared,
        shard,
        out_dir: a.out_dir.clone(),
    })
}

/// `qingshan batch --read-only`: reads every block of every tile (a
/// decode check and the benchmark's raw rate). Returns the tiles and the
/// cells read.
pub fn read_only(tiles: &[String], band: usize, run: &RunOptions<'_>) -> Result<(usize, u64)> {
    run.check()?;
    let tiles = batch::discover_tiles(tiles)?
        .iter()
        .map(|p| Tile::open(p, band))
        .collect::<Result<Vec<_>>>()?;
    let cells = batch::read_tiles(&tiles, run)?;
    Ok((tiles.len(), cells))
}

/// `qingshan merge`: the partials of a batch run's shards merged into its
/// result ([`batch::merge`]), after checking that `output` and `qa` (if
/// given) overwrite none of the partials, manifests or each other.
pub fn merge(
    partials: &[PathBuf],
    output: Option<&PathBuf>,
    qa: Option<&PathBuf>,
) -> Result<(batch::RunManifest, Merged, Vec<batch::TileQa>)> {
    let mut check = OutputCheck::new();
    for p in partials {
        if p.is_dir() {
            check.input(&p.join("run.json"), "a batch directory");
            if let Ok(entries) = std::fs::read_dir(p.join("partials")) {
                for e in entries.flatten() {
                    check.input(&e.path(), "a partial");
                }
            }
        } else {
            check.input(p, "a partial");
        }
    }
    check_outputs(&mut check, &[(output, "-o"), (qa, "--qa")])?;
    batch::merge(partials)
}

// ------------------------------------------------------------------ audit

/// Runs an audit ([`run_audit`]) and writes its bundle into `out`
/// ([`write_bundle`]: audit.json, the maps, report.html). `area`, when
/// given, replaces the config's `area`.
pub fn audit(
    config: &Path,
    out: &Path,
    report: &ReportOptions,
    run: &RunOptions<'_>,
    area: Option<AreaMode>,
) -> Result<(AuditReport, BundlePaths)> {
    run.check()?;
    let mut cfg = AuditConfig::load(config)?;
    if let Some(area) = area {
        cfg.area = area;
    }
    let mut check = OutputCheck::new();
    check.input(config, "--config");
    let mut rasters: Vec<(Vec<String>, String)> = vec![
        (cfg.landcover.before.clone(), "landcover.before".into()),
        (cfg.landcover.after.clone(), "landcover.after".into()),
    ];
    if let Some(i) = &cfg.index {
        rasters.push((i.before.clone(), "index.before".into()));
        rasters.push((i.after.clone(), "index.after".into()));
    }
    if let Some(s) = &cfg.series {
        for (date, p) in &s.landcover {
            rasters.push((vec![p.clone()], format!("series.landcover.{date}")));
        }
    }
    for (paths, what) in &rasters {
        for p in
            crate::raster::discover_rasters(&cfg.resolve_all(paths), crate::raster::Depth::Top)?
        {
            check.inputs(&crate::raster::input_files(&p), what);
        }
    }
    check.inputs(
        &crate::raster::input_files(&cfg.resolve(&cfg.zones.path)),
        "zones.path",
    );
    if let Some(l) = &cfg.landuse {
        check.inputs(
            &crate::raster::input_files(&cfg.resolve(&l.path)),
            "landuse.path",
        );
    }
    if let Some(r) = &cfg.redlines {
        check.inputs(
            &crate::raster::input_files(&cfg.resolve(&r.old)),
            "redlines.old",
        );
        check.inputs(
            &crate::raster::input_files(&cfg.resolve(&r.new)),
            "redlines.new",
        );
    }
    if let Some(t) = &cfg.terrain {
        for p in
            crate::raster::discover_rasters(&cfg.resolve_all(&t.dem), crate::raster::Depth::Top)?
        {
            check.inputs(&crate::raster::input_files(&p), "terrain.dem");
        }
        if let Some(c) = &t.cropland {
            check.inputs(
                &crate::raster::input_files(&cfg.resolve(c)),
                "terrain.cropland",
            );
        }
    }
    if legend_file(&cfg.legend).is_some() {
        check.input(&cfg.resolve(&cfg.legend), "legend");
    }
    for file in Bundle::files_in(out) {
        check.output(&file, "-o")?;
    }
    let audit = run_audit(&cfg, config, run)?;
    let (bundle, paths) = write_bundle(audit, out, report)?;
    Ok((bundle.audit, paths))
}

/// What `qingshan report` made.
#[derive(Clone, Debug)]
pub struct ReportRun {
    /// The page.
    pub html: String,
    /// Things the user should know (maps drawn again for an audit
    /// directory from before bundles).
    pub warnings: Vec<String>,
}

/// The report of an audit bundle (`audit.json` and the maps beside it)
/// as one HTML page ([`Bundle::load`]), to be written to `output` — which
/// must not be a file of the bundle (checked before anything is read).
pub fn report(audit_json: &Path, output: &Path, lang: Lang) -> Result<ReportRun> {
    crate::fsio::refuse_overwriting(output, &Bundle::members(audit_json))?;
    let bundle = Bundle::load(audit_json)?;
    let mut warnings = Vec::new();
    if bundle.redrawn {
        warnings.push(format!(
            "{} has no bundle.json (an audit from an earlier qingshan): the maps were drawn again from the audit's inputs",
            crate::fsio::parent_dir(audit_json).display()
        ));
    }
    Ok(ReportRun {
        html: bundle.render(lang)?,
        warnings,
    })
}
