//! Batch runs over many land-cover tiles: resumable, shardable, mergeable.
//!
//! A [`Batch`] takes hundreds of GeoTIFF/COG tiles of one product (any mix
//! of CRSs; each tile is measured in its own CRS, zones reprojected per
//! CRS), finds from the headers alone which zones touch which tile (an
//! R-tree of footprints), and runs only the (tile, window) work some zone
//! touches, across tiles and windows together. Each tile's result is a
//! small JSON partial written atomically to `OUT/partials/`; a run killed
//! at any moment and restarted with `resume` skips finished tiles.
//! `--shard I/N` processes tiles `I, I+N, I+2N, …`; [`merge`] combines
//! partials from any number of shards.
//!
//! Invariant: the final result is always the sum, in tile order, of the
//! per-tile partials (floats stored exactly), so a single run, a resumed
//! run and any sharding give the same bytes. Memory is O(threads × window
//! + zones × classes): tiles are planned a few at a time.

mod merge;
mod output;
mod overlap;
mod run_id;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use merge::merge;
pub use output::{MergedOutput, QaTable};
use overlap::overlaps;

use crate::change::{ChangeReport, TransitionAccum, change_tiles, pair_identical};
use crate::engine::{PlanItem, Progress, Projected, RunOptions, Runner, TilePlan};
use crate::export::{self, Format};
use crate::fsio::write_atomic;
use crate::legend::Legend;
use crate::raster::{Depth, Tile, discover_rasters};
use crate::zonal::{StatsReport, ZoneAccum, stats_pass};
use crate::zones::ZoneLayer;
use crate::{Error, Result};

/// Schema of a batch run's manifest (`OUT/run.json`).
pub const BATCH_SCHEMA: &str = "qingshan.batch/1";
/// Schema of one tile's partial result (`OUT/partials/NNNNNN.json`).
pub const PARTIAL_SCHEMA: &str = "qingshan.partial/1";

/// Which 1/N of the tiles this process runs: tiles whose index modulo
/// `count` is `index` (0-based, as Kubernetes' `JOB_COMPLETION_INDEX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, `0 ≤ index < count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;

    /// Parses `I/N` (0-based `I`).
    fn from_str(s: &str) -> Result<Shard> {
        let bad = || {
            Error::Invalid(format!(
                "--shard {s:?}: expected I/N with 0 ≤ I < N (e.g. 0/4 … 3/4)"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// What to do where tiles overlap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum OverlapPolicy {
    /// Refuse to run (a zone would count twice): the default.
    #[default]
    Refuse,
    /// The first tile in sorted order wins the overlap; later tiles lose
    /// the overlapping part.
    First,
}

/// A zone as recorded in the manifest (what the merged report needs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneInfo {
    /// Zone id.
    pub id: String,
    /// Zone name.
    pub name: Option<String>,
    /// Attributes.
    pub attributes: Map<String, Value>,
    /// Geodesic area (m²).
    pub zone_area_m2: f64,
}

/// The manifest of a batch run: settings, tiles and zones. Every shard of
/// one run writes the same manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// Always [`BATCH_SCHEMA`].
    pub schema: String,
    /// Run id: a hash of everything that decides the result.
    pub run: String,
    /// `stats` or `change`.
    pub kind: String,
    /// The legend.
    pub legend: Legend,
    /// Raster band.
    pub band: usize,
    /// CRS label (or `mixed: …` for tiles in several CRSs).
    pub crs: String,
    /// Tiles (before tiles for `change`), in run order.
    pub tiles: Vec<String>,
    /// After tiles (for `change`), paired with `tiles` by index.
    pub after_tiles: Option<Vec<String>>,
    /// The zones file.
    pub zones_path: String,
    /// The zones.
    pub zones: Vec<ZoneInfo>,
    /// How cells and zones were measured.
    #[serde(default = "crate::area::AreaMode::unrecorded")]
    pub area: crate::area::AreaMode,
}

/// Quality figures of one tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TileQa {
    /// Tile index in the run.
    pub tile_index: usize,
    /// The tile.
    pub tile: String,
    /// Its CRS.
    pub crs: String,
    /// Cells in the tile.
    pub cells: u64,
    /// Cells read (windows some zone touches).
    pub cells_read: u64,
    /// Nodata share of the zones' covered area on this tile.
    pub nodata_share: Option<f64>,
    /// Seconds of work spent on the tile (summed over its windows).
    pub seconds: f64,
}

/// One tile's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TilePartial {
    /// Always [`PARTIAL_SCHEMA`].
    pub schema: String,
    /// The run it belongs to.
    pub run: String,
    /// Tile index in the run.
    pub tile_index: usize,
    /// Quality figures.
    pub qa: TileQa,
    /// Per-zone class areas (stats runs): (zone index, areas).
    pub stats: Vec<(usize, ZoneAccum)>,
    /// Per-zone transitions (change runs): (zone index, transitions).
    pub change: Vec<(usize, TransitionAccum)>,
}

/// Summary of [`Batch::run`].
#[derive(Clone, Debug, PartialEq)]
pub struct BatchSummary {
    /// Tiles of this shard.
    pub tiles: usize,
    /// Of them, skipped as already done (`resume`).
    pub skipped: usize,
    /// Cells read.
    pub cells_read: u64,
    /// Cells of the processed tiles.
    pub cells: u64,
}

/// The merged result of a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Merged {
    /// A `qingshan.stats/1` report.
    Stats(StatsReport),
    /// A `qingshan.change/1` report.
    Change(ChangeReport),
}

impl Merged {
    /// The report's warnings.
    pub fn warnings(&self) -> &[String] {
        match self {
            Merged::Stats(r) => &r.warnings,
            Merged::Change(r) => &r.warnings,
        }
    }

    /// Where an unsharded run in `out_dir` writes it: `stats.json` or
    /// `change.json`.
    pub fn path_in(&self, out_dir: &Path) -> PathBuf {
        out_dir.join(match self {
            Merged::Stats(_) => "stats.json",
            Merged::Change(_) => "change.json",
        })
    }
}

/// The final outputs of an unsharded run: merges the partials in `out_dir`
/// and writes, each atomically, `stats.json` (or `change.json`) and the
/// per-tile QA table `tiles_qa.csv` there. Returns the merged result and
/// the two paths.
pub fn finish(out_dir: &Path) -> Result<(Merged, PathBuf, PathBuf)> {
    let (manifest, merged, qa) = merge(&[out_dir])?;
    let out = merged.path_in(out_dir);
    let result = MergedOutput {
        result: &merged,
        legend: &manifest.legend,
    };
    export::write(&out, Format::Json, &result)?;
    let qa_path = out_dir.join("tiles_qa.csv");
    export::write(&qa_path, Format::Csv, &QaTable(&qa))?;
    Ok((merged, out, qa_path))
}

/// Everything a batch run needs.
#[derive(Clone, Debug)]
pub struct BatchConfig {
    /// Tiles (of the first date for change), any order: they are sorted.
    pub tiles: Vec<PathBuf>,
    /// Tiles of the second date, for a change run.
    pub after_tiles: Option<Vec<PathBuf>>,
    /// Band holding the classes.
    pub band: usize,
    /// Output directory (manifest, partials, final outputs).
    pub out_dir: PathBuf,
    /// This process's shard, if any.
    pub shard: Option<Shard>,
    /// Skip tiles whose partial is already complete.
    pub resume: bool,
    /// What to do where tiles overlap.
    pub overlap: OverlapPolicy,
    /// How cells and zones are measured.
    pub area: crate::area::AreaMode,
}

/// The zones of a batch: already read, or a file to read while the tile
/// headers are read.
pub enum ZoneInput {
    /// A layer already in memory.
    Layer(ZoneLayer),
    /// A vector file and how to read it.
    File(PathBuf, crate::zones::ZoneOptions),
}

/// The tiles of a run as their headers say: the (first date's) tiles in
/// run order, the second date's with each first-date tile's partner, and
/// per tile the footprints of earlier tiles that win overlaps.
pub(crate) struct Headers {
    tiles: Vec<Tile>,
    after: Option<(Vec<Tile>, Vec<usize>)>,
    exclude: Vec<Vec<MultiPolygon<f64>>>,
}

/// A prepared batch run.
pub struct Batch {
    manifest: RunManifest,
    tiles: Vec<Tile>,
    after: Option<(Vec<Tile>, Vec<usize>)>,
    /// Per tile: footprints (in its CRS) of earlier tiles that win overlaps.
    exclude: Vec<Vec<MultiPolygon<f64>>>,
    zones: ZoneLayer,
    legend: Legend,
    config: BatchConfig,
}

/// The tiles behind `inputs` ([`discover_rasters`] with subdirectories
/// searched), sorted and without duplicates.
pub fn discover_tiles<S: AsRef<str>>(inputs: &[S]) -> Result<Vec<PathBuf>> {
    let mut out = discover_rasters(inputs, Depth::Recursive)?;
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(Error::Invalid("no tiles given".into()));
    }
    Ok(out)
}

impl Batch {
    /// Reads every tile's header, pairs the dates, checks overlaps,
    /// computes the run id and the zones' areas, and writes the manifest
    /// (`OUT/run.json`). Uses `opts.threads` workers.
    pub fn prepare(
        config: BatchConfig,
        zones: ZoneInput,
        legend: Legend,
        opts: &RunOptions<'_>,
    ) -> Result<Batch> {
        let runner = Runner::new(&RunOptions {
            threads: opts.threads,
            progress: None,
        })?;
        // The zones (read, then their geodesic areas, Karney per zone)
        // beside the tile headers.
        let (zoned, prepared) = runner.install(|| {
            rayon::join(
                || -> Result<(ZoneLayer, Vec<f64>)> {
                    let zones = match zones {
                        ZoneInput::Layer(l) => l,
                        ZoneInput::File(path, options) => ZoneLayer::read(&path, &options)?,
                    };
                    let areas = zones.geodesic_areas(&zones.crs)?;
                    Ok((zones, areas))
                },
                || Self::headers(&config),
            )
        });
        let ((zones, areas), headers) = (zoned?, prepared?);
        Self::finish_prepare(config, zones, legend, headers, areas)
    }

    /// Repairs made while reading the zones (with `make_valid`).
    pub fn repairs(&self) -> &[String] {
        &self.zones.repairs
    }

    /// Tile headers, date pairs and overlap exclusions.
    fn headers(config: &BatchConfig) -> Result<Headers> {
        let mut paths = config.tiles.clone();
        paths.sort();
        paths.dedup();
        use rayon::prelude::*;
        // Headers in parallel (each open is its own GDAL dataset).
        let open = |paths: &[PathBuf]| -> Result<Vec<Tile>> {
            paths
                .par_iter()
                .map(|p| Tile::open(p, config.band))
                .collect()
        };
        let tiles = open(&paths)?;
        if tiles.is_empty() {
            return Err(Error::Invalid("no tiles given".into()));
        }
        let after = match &config.after_tiles {
            None => None,
            Some(a) => {
                let mut a = a.clone();
                a.sort();
                a.dedup();
                let at = open(&a)?;
                let pairs = pair_identical(&tiles, &at)?;
                Some((at, pairs))
            }
        };
        let exclude = overlaps(&tiles, config.overlap)?;
        Ok(Headers {
            tiles,
            after,
            exclude,
        })
    }

    /// The manifest (run id, tiles, zones and their areas), written to
    /// `OUT/run.json` unless the directory holds another run's partials.
    fn finish_prepare(
        config: BatchConfig,
        zones: ZoneLayer,
        legend: Legend,
        headers: Headers,
        areas: Vec<f64>,
    ) -> Result<Batch> {
        let run = run_id::run_id(&config, &legend, &headers, &zones)?;
        // Planar zone areas are in the (first) tiles' CRS, known only now.
        let areas = match (config.area, headers.tiles.first()) {
            (crate::area::AreaMode::Planar, Some(t)) => zones.areas(&t.grid.crs, config.area)?,
            _ => areas,
        };
        let Headers {
            tiles,
            after,
            exclude,
        } = headers;
        let mut crs_labels: Vec<String> = tiles.iter().map(|t| t.grid.crs.label.clone()).collect();
        crs_labels.sort();
        crs_labels.dedup();
        let crs = if crs_labels.len() == 1 {
            crs_labels.remove(0)
        } else {
            format!("mixed: {}", crs_labels.join(", "))
        };
        let manifest = RunManifest {
            schema: BATCH_SCHEMA.to_string(),
            run,
            kind: if after.is_some() { "change" } else { "stats" }.to_string(),
            legend: legend.clone(),
            band: config.band,
            crs,
            tiles: tiles.iter().map(|t| t.path.display().to_string()).collect(),
            after_tiles: after.as_ref().map(|(a, pairs)| {
                pairs
                    .iter()
                    .map(|&i| a[i].path.display().to_string())
                    .collect()
            }),
            zones_path: zones.path.display().to_string(),
            area: config.area,
            zones: zones
                .zones
                .iter()
                .zip(&areas)
                .map(|(z, &a)| ZoneInfo {
                    id: z.id.clone(),
                    name: z.name.clone(),
                    attributes: z.attributes.clone(),
                    zone_area_m2: a,
                })
                .collect(),
        };
        let dir = &config.out_dir;
        crate::fsio::create_dir(&dir.join("partials"))?;
        // Temporary files of partials a killed run was writing.
        crate::fsio::remove_stale_temps(&dir.join("partials"));
        let manifest_path = dir.join("run.json");
        if let Ok(text) = std::fs::read_to_string(&manifest_path)
            && let Ok(old) = serde_json::from_str::<RunManifest>(&text)
            && old.run != manifest.run
            && std::fs::read_dir(dir.join("partials")).is_ok_and(|mut d| d.next().is_some())
        {
            return Err(Error::write(
                dir,
                format!(
                    "holds partials of another run ({}); use a new --out-dir or delete its partials/",
                    old.run
                ),
            ));
        }
        write_atomic(&manifest_path, |w| export::write_json(&manifest, w))?;
        Ok(Batch {
            manifest,
            tiles,
            after,
            exclude,
            zones,
            legend,
            config,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &RunManifest {
        &self.manifest
    }

    fn partial_path(&self, index: usize) -> PathBuf {
        self.config
            .out_dir
            .join("partials")
            .join(format!("{index:06}.json"))
    }

    /// Whether tile `index` already has a complete partial of this run.
    fn done(&self, index: usize) -> bool {
        std::fs::read_to_string(self.partial_path(index))
            .ok()
            .and_then(|t| serde_json::from_str::<TilePartial>(&t).ok())
            .is_some_and(|p| p.run == self.manifest.run && p.tile_index == index)
    }

    /// Tile indices of this shard.
    pub fn shard_tiles(&self) -> Vec<usize> {
        (0..self.tiles.len())
            .filter(|i| self.config.shard.is_none_or(|s| i % s.count == s.index))
            .collect()
    }

    /// Processes this shard's tiles (skipping finished ones with `resume`)
    /// and writes one partial per tile. Progress counts all cells of the
    /// tiles to do.
    pub fn run(&self, opts: &RunOptions<'_>) -> Result<BatchSummary> {
        let mine = self.shard_tiles();
        let todo: Vec<usize> = mine
            .iter()
            .copied()
            .filter(|&i| !(self.config.resume && self.done(i)))
            .collect();
        let cells_of = |i: usize| (self.tiles[i].grid.width * self.tiles[i].grid.height) as u64;
        let total: u64 = todo.iter().map(|&i| cells_of(i)).sum();
        if let Some(p) = opts.progress {
            p.start(total);
        }
        let forward = Forward(opts.progress);
        let runner = Runner::new(&RunOptions {
            threads: opts.threads,
            progress: opts.progress.map(|_| &forward as &dyn Progress),
        })?;
        let group_size = (runner.threads() * 8).max(8);
        let mut projected = Projected::new(self.manifest.area);
        let mut cells_read = 0u64;
        for group in todo.chunks(group_size) {
            let items: Vec<PlanItem> = group
                .iter()
                .map(|&i| PlanItem {
                    tile: i,
                    region: self.tiles[i].grid.full_window(),
                    exclude: self.exclude[i].clone(),
                })
                .collect();
            // Per tile of the group: accumulated zones, cells read, seconds.
            let mut acc: BTreeMap<usize, TileAcc> =
                group.iter().map(|&i| (i, TileAcc::default())).collect();
            let mut write_err: Option<Error> = None;
            // Cells read per tile written, for the progress bar.
            let mut read: BTreeMap<usize, u64> = BTreeMap::new();
            match &self.after {
                None => {
                    let (plans, tasks) = crate::engine::plan_items(
                        &self.tiles,
                        &items,
                        &[&self.zones],
                        &mut projected,
                        false,
                    )?;
                    let mut remaining = crate::engine::tasks_per_plan(&plans, &tasks);
                    stats_pass(
                        &runner,
                        &self.tiles,
                        &plans,
                        &tasks,
                        &self.legend,
                        |task, partial, secs| {
                            let tile = plans[task.plan].tile;
                            let a = acc.entry(tile).or_default();
                            a.cells_read += task.window.cells() as u64;
                            a.seconds += secs;
                            for (z, p) in partial {
                                a.stats.entry(z).or_default().merge(&p);
                            }
                            remaining[task.plan] -= 1;
                            // The tile's last window: write its partial now, so a
                            // kill loses at most the tiles still under way.
                            if remaining[task.plan] == 0
                                && write_err.is_none()
                                && let Some(done) = acc.remove(&tile)
                                && let Err(e) = self.write_partial(tile, done, &mut read)
                            {
                                write_err = Some(e);
                            }
                        },
                    )?;
                }
                Some((after, pairs)) => {
                    let paired: Vec<(PlanItem, usize)> = items
                        .iter()
                        .map(|it| (it.clone(), pairs[it.tile]))
                        .collect();
                    change_tiles(
                        &runner,
                        (&self.tiles, after),
                        &paired,
                        (&self.zones, &mut projected),
                        &self.legend,
                        |plan: &TilePlan, task, partial, secs, last_of_tile| {
                            let a = acc.entry(plan.tile).or_default();
                            a.cells_read += task.window.cells() as u64;
                            a.seconds += secs;
                            for (z, p) in partial {
                                a.change.entry(z).or_default().merge(&p);
                            }
                            if last_of_tile
                                && write_err.is_none()
                                && let Some(done) = acc.remove(&plan.tile)
                                && let Err(e) = self.write_partial(plan.tile, done, &mut read)
                            {
                                write_err = Some(e);
                            }
                        },
                    )?;
                }
            }
            if let Some(e) = write_err {
                return Err(e);
            }
            // Tiles finished last in the group, and tiles no zone touches.
            for (tile, a) in std::mem::take(&mut acc) {
                self.write_partial(tile, a, &mut read)?;
            }
            for &i in group {
                let read = read.get(&i).copied().unwrap_or(0);
                cells_read += read;
                // Cells of windows no zone touches were skipped, not read.
                if let Some(p) = opts.progress {
                    p.advance(cells_of(i).saturating_sub(read));
                }
            }
        }
        if let Some(p) = opts.progress {
            p.finish();
        }
        Ok(BatchSummary {
            tiles: mine.len(),
            skipped: mine.len() - todo.len(),
            cells_read,
            cells: todo.iter().map(|&i| cells_of(i)).sum(),
        })
    }

    /// Writes a tile's partial; notes its cells read in `read`.
    fn write_partial(
        &self,
        tile: usize,
        a: TileAcc,
        read: &mut BTreeMap<usize, u64>,
    ) -> Result<()> {
        read.insert(tile, a.cells_read);
        let t = &self.tiles[tile];
        let (covered, nodata) = if self.after.is_some() {
            a.change.values().fold((0.0, 0.0), |(c, n), z| {
                let valid: f64 = z
                    .pairs
                    .values()
                    .flat_map(|r| r.values())
                    .fold(0.0, |s, v| s + v);
                (c + valid + z.nodata_m2, n + z.nodata_m2)
            })
        } else {
            a.stats.values().fold((0.0, 0.0), |(c, n), z| {
                let valid: f64 = z.classes.values().fold(0.0, |s, v| s + v);
                (c + valid + z.nodata_m2, n + z.nodata_m2)
            })
        };
        let partial = TilePartial {
            schema: PARTIAL_SCHEMA.to_string(),
            run: self.manifest.run.clone(),
            tile_index: tile,
            qa: TileQa {
                tile_index: tile,
                tile: t.path.display().to_string(),
                crs: t.grid.crs.label.clone(),
                cells: (t.grid.width * t.grid.height) as u64,
                cells_read: a.cells_read,
                nodata_share: (covered > 0.0).then(|| nodata / covered),
                seconds: a.seconds,
            },
            stats: a.stats.into_iter().collect(),
            change: a.change.into_iter().collect(),
        };
        write_atomic(&self.partial_path(tile), |w| {
            serde_json::to_writer(&mut *w, &partial).map_err(std::io::Error::other)
        })
    }
}

#[derive(Default)]
struct TileAcc {
    stats: BTreeMap<usize, ZoneAccum>,
    change: BTreeMap<usize, TransitionAccum>,
    cells_read: u64,
    seconds: f64,
}

/// Forwards only `advance` (a batch's bar spans many planning groups).
struct Forward<'a>(Option<&'a dyn Progress>);

impl Progress for Forward<'_> {
    fn start(&self, _: u64) {}
    fn advance(&self, cells: u64) {
        if let Some(p) = self.0 {
            p.advance(cells);
        }
    }
    fn finish(&self) {}
    fn cancelled(&self) -> bool {
        self.0.is_some_and(|p| p.cancelled())
    }
}

/// Reads every window of every tile and discards the pixels: a check that
/// all tiles decode (an unreadable one is an error naming it) and the raw
/// decode rate the batch benchmark compares against. Returns cells read.
pub fn read_tiles(tiles: &[Tile], opts: &RunOptions<'_>) -> Result<u64> {
    let runner = Runner::new(opts)?;
    let tasks: Vec<crate::engine::Task> = tiles
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t.windows()
                .0
                .into_iter()
                .map(move |window| crate::engine::Task {
                    plan: i,
                    window,
                    zones: Vec::new(),
                })
        })
        .collect();
    #[derive(Default)]
    struct Reader {
        readers: crate::engine::Readers,
        buffers: crate::raster::Buffers,
    }
    let mut total = 0u64;
    runner.run_ordered(
        &tasks,
        |t| t.window.cells() as u64,
        Reader::default,
        |r, task| {
            let tile = &tiles[task.plan];
            crate::raster::with_pixel_type!(tile.pixel_type, T => {
                r.readers
                    .get(tiles, task.plan)?
                    .read_view::<T>(task.window, &mut r.buffers)?;
            });
            Ok(task.window.cells() as u64)
        },
        |_, n, _| total += n,
    )?;
    Ok(total)
}
