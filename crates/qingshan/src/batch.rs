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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon};
use rstar::{AABB, RTree, RTreeObject, primitives::GeomWithData, primitives::Rectangle};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::change::{
    ChangeReport, ChangeSources, TransitionAccum, change_tiles, finish_change, pair_identical,
};
use crate::engine::{PlanItem, Progress, Projected, RunOptions, Runner, TilePlan};
use crate::export::{self, Format};
use crate::fsio::write_atomic;
use crate::legend::Legend;
use crate::raster::{Depth, Tile, discover_rasters};
use crate::srs::Reprojector;
use crate::zonal::{StatsReport, ZoneAccum, finish_stats, stats_pass};
use crate::zones::{Zone, ZoneLayer};
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
    let result = export::Merged {
        result: &merged,
        legend: &manifest.legend,
    };
    export::write(&out, Format::Json, &result)?;
    let qa_path = out_dir.join("tiles_qa.csv");
    export::write(&qa_path, Format::Csv, &export::TileQaTable(&qa))?;
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
}

/// The zones of a batch: already read, or a file to read while the tile
/// headers are read.
pub enum ZoneInput {
    /// A layer already in memory.
    Layer(ZoneLayer),
    /// A vector file and how to read it.
    File(PathBuf, crate::zones::ZoneOptions),
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

/// FNV-1a, 64-bit: a stable hash (std's hasher may change between Rust
/// releases, and shards on different machines must agree).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // Separator, so ("ab","c") and ("a","bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

fn footprint(tile: &Tile) -> MultiPolygon<f64> {
    let (w, h) = (tile.grid.width as f64, tile.grid.height as f64);
    let gt = &tile.grid.transform;
    let n = 16;
    let mut ring = Vec::new();
    for k in 0..n {
        ring.push(gt.to_map(w * k as f64 / n as f64, 0.0));
    }
    for k in 0..n {
        ring.push(gt.to_map(w, h * k as f64 / n as f64));
    }
    for k in 0..n {
        ring.push(gt.to_map(w - w * k as f64 / n as f64, h));
    }
    for k in 0..n {
        ring.push(gt.to_map(0.0, h - h * k as f64 / n as f64));
    }
    ring.push(ring[0]);
    let ring: Vec<Coord<f64>> = ring.into_iter().map(|(x, y)| Coord { x, y }).collect();
    use geo::orient::{Direction, Orient};
    MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]).orient(Direction::Default)
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
        let ((zones, areas), (tiles, after, exclude)) = (zoned?, prepared?);
        Self::finish_prepare(config, zones, legend, tiles, after, exclude, areas)
    }

    /// Repairs made while reading the zones (with `make_valid`).
    pub fn repairs(&self) -> &[String] {
        &self.zones.repairs
    }

    /// Tile headers, date pairs and overlap exclusions.
    #[allow(clippy::type_complexity)]
    fn headers(
        config: &BatchConfig,
    ) -> Result<(
        Vec<Tile>,
        Option<(Vec<Tile>, Vec<usize>)>,
        Vec<Vec<MultiPolygon<f64>>>,
    )> {
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
        Ok((tiles, after, exclude))
    }

    fn finish_prepare(
        config: BatchConfig,
        zones: ZoneLayer,
        legend: Legend,
        tiles: Vec<Tile>,
        after: Option<(Vec<Tile>, Vec<usize>)>,
        exclude: Vec<Vec<MultiPolygon<f64>>>,
        areas: Vec<f64>,
    ) -> Result<Batch> {
        // The run id: everything that decides the numbers.
        let mut h = Fnv::new();
        h.str(if after.is_some() { "change" } else { "stats" });
        h.str(&config.band.to_string());
        h.str(&serde_json::to_string(&legend).map_err(|e| Error::Invalid(e.to_string()))?);
        h.str(&format!("{:?}", config.overlap));
        let mut tile_hash = |t: &Tile| {
            h.str(&t.path.display().to_string());
            h.str(
                &std::fs::metadata(&t.path)
                    .map(|m| m.len())
                    .unwrap_or(0)
                    .to_string(),
            );
        };
        for t in &tiles {
            tile_hash(t);
        }
        if let Some((a, _)) = &after {
            for t in a {
                tile_hash(t);
            }
        }
        h.str(&zones.crs.wkt);
        for z in &zones.zones {
            h.str(&z.id);
            for p in &z.geometry.0 {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    let mut b = Vec::with_capacity(r.0.len() * 16);
                    for c in &r.0 {
                        b.extend_from_slice(&c.x.to_le_bytes());
                        b.extend_from_slice(&c.y.to_le_bytes());
                    }
                    h.bytes(&b);
                }
            }
        }
        let run = format!("{:016x}", h.0);

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
        std::fs::create_dir_all(dir.join("partials")).map_err(|e| Error::write(dir, e))?;
        // Temporary files of partials a killed run was writing.
        if let Ok(entries) = std::fs::read_dir(dir.join("partials")) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".tmp") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
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
        let mut projected = Projected::default();
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
}

/// Detects overlapping tiles with an R-tree of their footprints; returns,
/// per tile, the footprints (in its own CRS) of earlier tiles that win.
fn overlaps(tiles: &[Tile], policy: OverlapPolicy) -> Result<Vec<Vec<MultiPolygon<f64>>>> {
    let one_crs = tiles.iter().all(|t| t.grid.crs.same_as(&tiles[0].grid.crs));
    let fps: Vec<MultiPolygon<f64>> = tiles.iter().map(footprint).collect();
    let mut boxes = Vec::with_capacity(tiles.len());
    if one_crs {
        // One CRS: index the tiles' own bounds.
        for (i, t) in tiles.iter().enumerate() {
            let (x0, y0, x1, y1) = t.grid.bounds();
            boxes.push(GeomWithData::new(
                Rectangle::from_corners([x0, y0], [x1, y1]),
                i,
            ));
        }
    }
    // Several CRSs: footprints in lon/lat, for one index over all of them.
    let mut to_geog: HashMap<String, Reprojector> = HashMap::new();
    let geog = if one_crs {
        None
    } else {
        Some(crate::crs_from_epsg(4326)?)
    };
    for (i, t) in tiles.iter().enumerate().filter(|_| !one_crs) {
        let geog = geog.as_ref().expect("several CRSs");
        let r = match to_geog.entry(t.grid.crs.wkt.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Reprojector::new(&t.grid.crs, geog)?)
            }
        };
        let ll = r
            .multipolygon(&fps[i])
            .map_err(|e| Error::raster(&t.path, e))?;
        use geo::BoundingRect;
        let b = ll
            .bounding_rect()
            .ok_or_else(|| Error::raster(&t.path, "empty footprint"))?;
        boxes.push(GeomWithData::new(
            Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
            i,
        ));
    }
    let tree = RTree::bulk_load(boxes.clone());
    let mut exclude = vec![Vec::new(); tiles.len()];
    let mut into: HashMap<(String, String), Reprojector> = HashMap::new();
    for (i, ti) in tiles.iter().enumerate() {
        let env = boxes[i].geom().envelope();
        let mut earlier: Vec<usize> = tree
            .locate_in_envelope_intersecting(&AABB::from_corners(env.lower(), env.upper()))
            .map(|g| g.data)
            .filter(|&j| j < i)
            .collect();
        earlier.sort_unstable();
        for j in earlier {
            let tj = &tiles[j];
            if tj.grid.crs.same_as(&ti.grid.crs)
                && ti.grid.transform.is_north_up()
                && tj.grid.transform.is_north_up()
            {
                // Same CRS, north-up: the overlap is a rectangle.
                let (a, b) = (ti.grid.bounds(), tj.grid.bounds());
                let (w, h) = (a.2.min(b.2) - a.0.max(b.0), a.3.min(b.3) - a.1.max(b.1));
                if w <= 0.0 || h <= 0.0 || w * h <= 1e-6 * ti.grid.transform.cell_area() {
                    continue;
                }
            }
            let fj = if tj.grid.crs.same_as(&ti.grid.crs) {
                fps[j].clone()
            } else {
                let key = (tj.grid.crs.wkt.clone(), ti.grid.crs.wkt.clone());
                let r = match into.entry(key) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(Reprojector::new(&tj.grid.crs, &ti.grid.crs)?)
                    }
                };
                r.multipolygon(&fps[j])
                    .map_err(|e| Error::raster(&tj.path, e))?
            };
            let common = fps[i].intersection(&fj);
            use geo::Area;
            let area = common.unsigned_area();
            if area > 1e-6 * ti.grid.transform.cell_area() {
                match policy {
                    OverlapPolicy::Refuse => {
                        return Err(Error::GridMismatch {
                            first: tj.path.clone(),
                            second: ti.path.clone(),
                            reason: format!(
                                "tiles overlap (about {:.0} cells); a zone would count twice: pass --overlap first to let the first tile (in sorted order) win",
                                area / ti.grid.transform.cell_area()
                            ),
                        });
                    }
                    OverlapPolicy::First => exclude[i].push(fj),
                }
            }
        }
    }
    Ok(exclude)
}

/// Reads a manifest and partials from files or directories (a directory
/// gives its `run.json` and `partials/*.json`), checks they belong to one
/// run and cover every tile exactly once, and merges them in tile order.
/// Returns the merged report and the per-tile QA rows.
pub fn merge<P: AsRef<Path>>(inputs: &[P]) -> Result<(RunManifest, Merged, Vec<TileQa>)> {
    let mut manifests: Vec<(PathBuf, RunManifest)> = Vec::new();
    let mut partial_files: Vec<PathBuf> = Vec::new();
    let read_manifest = |p: &Path| -> Result<RunManifest> {
        let text = std::fs::read_to_string(p).map_err(|e| Error::open(p, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::zones(p, format!("not a qingshan batch manifest: {e}")))
    };
    for input in inputs {
        let p = input.as_ref();
        if p.is_dir() {
            let m = p.join("run.json");
            if m.is_file() {
                manifests.push((m.clone(), read_manifest(&m)?));
            }
            let pd = p.join("partials");
            let dir = if pd.is_dir() { pd } else { p.to_path_buf() };
            let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| Error::open(&dir, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension().is_some_and(|e| e == "json")
                        && f.file_name().is_some_and(|n| n != "run.json")
                })
                .collect();
            found.sort();
            partial_files.extend(found);
        } else if p.file_name().is_some_and(|n| n == "run.json") {
            manifests.push((p.to_path_buf(), read_manifest(p)?));
        } else {
            partial_files.push(p.to_path_buf());
            // The manifest of a loose partial lives at ../run.json.
            if let Some(m) = p
                .parent()
                .and_then(|d| d.parent())
                .map(|d| d.join("run.json"))
                && m.is_file()
                && !manifests.iter().any(|(q, _)| *q == m)
            {
                manifests.push((m.clone(), read_manifest(&m)?));
            }
        }
    }
    let Some((mpath, manifest)) = manifests.first().cloned() else {
        return Err(Error::Invalid(
            "no run.json found: pass the batch output directories (or their run.json with the partials)".into(),
        ));
    };
    for (p, m) in &manifests[1..] {
        if m.run != manifest.run {
            return Err(Error::GridMismatch {
                first: mpath.clone(),
                second: p.clone(),
                reason: format!(
                    "manifests of different runs ({} vs {})",
                    manifest.run, m.run
                ),
            });
        }
    }
    let n = manifest.tiles.len();
    let mut by_tile: Vec<Option<(PathBuf, TilePartial)>> = vec![None; n];
    for f in partial_files {
        let text = std::fs::read_to_string(&f).map_err(|e| Error::open(&f, e))?;
        let part: TilePartial = serde_json::from_str(&text)
            .map_err(|e| Error::zones(&f, format!("not a complete qingshan partial: {e}")))?;
        if part.run != manifest.run {
            return Err(Error::zones(
                &f,
                format!(
                    "belongs to run {}, not {} ({})",
                    part.run,
                    manifest.run,
                    mpath.display()
                ),
            ));
        }
        if part.tile_index >= n {
            return Err(Error::zones(
                &f,
                format!(
                    "tile index {} out of range (run has {n} tiles)",
                    part.tile_index
                ),
            ));
        }
        let zones = manifest.zones.len();
        let zone_ids = part.stats.iter().map(|(z, _)| *z);
        if let Some(z) = zone_ids
            .chain(part.change.iter().map(|(z, _)| *z))
            .find(|&z| z >= zones)
        {
            return Err(Error::zones(
                &f,
                format!("zone index {z} out of range (run has {zones} zones)"),
            ));
        }
        match &by_tile[part.tile_index] {
            Some((g, prev)) if prev.stats != part.stats || prev.change != part.change => {
                return Err(Error::GridMismatch {
                    first: g.clone(),
                    second: f.clone(),
                    reason: format!("two different results for tile {}", part.tile_index),
                });
            }
            Some(_) => {}
            None => {
                let k = part.tile_index;
                by_tile[k] = Some((f.clone(), part));
            }
        }
    }
    let missing: Vec<usize> = (0..n).filter(|&i| by_tile[i].is_none()).collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing
            .iter()
            .take(8)
            .map(|i| format!("{i} ({})", manifest.tiles[*i]))
            .collect();
        return Err(Error::Invalid(format!(
            "{} of {} tiles have no partial yet: {}{}; run the missing shards (or rerun with --resume)",
            missing.len(),
            n,
            list.join(", "),
            if missing.len() > 8 { ", …" } else { "" }
        )));
    }
    let parts: Vec<TilePartial> = by_tile.into_iter().flatten().map(|(_, p)| p).collect();
    let zones = ZoneLayer {
        path: PathBuf::from(&manifest.zones_path),
        crs: crate::crs_from_epsg(4326)?,
        zones: manifest
            .zones
            .iter()
            .enumerate()
            .map(|(index, z)| Zone {
                index,
                id: z.id.clone(),
                name: z.name.clone(),
                attributes: z.attributes.clone(),
                geometry: MultiPolygon(vec![]),
            })
            .collect(),
        repairs: vec![],
    };
    let areas: Vec<f64> = manifest.zones.iter().map(|z| z.zone_area_m2).collect();
    let qa: Vec<TileQa> = parts.iter().map(|p| p.qa.clone()).collect();
    let merged = if manifest.kind == "change" {
        let mut acc = vec![TransitionAccum::default(); zones.zones.len()];
        for p in &parts {
            for (z, a) in &p.change {
                acc[*z].merge(a);
            }
        }
        Merged::Change(finish_change(
            &zones,
            &manifest.legend,
            ChangeSources {
                crs: manifest.crs.clone(),
                before: manifest.tiles.clone(),
                after: manifest.after_tiles.clone().unwrap_or_default(),
            },
            acc,
            &areas,
            Vec::new(),
        ))
    } else {
        let mut acc = vec![ZoneAccum::default(); zones.zones.len()];
        for p in &parts {
            for (z, a) in &p.stats {
                acc[*z].merge(a);
            }
        }
        Merged::Stats(finish_stats(
            &zones,
            &manifest.legend,
            manifest.crs.clone(),
            acc,
            &areas,
        ))
    };
    Ok((manifest, merged, qa))
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
