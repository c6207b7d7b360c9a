//! Merging a run's partials — from one output directory or the shards of
//! many machines — into the final `qingshan.stats/1` or
//! `qingshan.change/1` result.
//!
//! Invariant: the partials must belong to one run and cover every tile
//! exactly once (a tile met twice must hold the same numbers); they are
//! summed in tile order, so any sharding gives the same bytes.

use std::path::{Path, PathBuf};

use geo::MultiPolygon;

use super::{Merged, RunManifest, TilePartial, TileQa};
use crate::change::{ChangeSources, TransitionAccum, finish_change};
use crate::zonal::{ZoneAccum, finish_stats};
use crate::zones::{Zone, ZoneLayer};
use crate::{Error, Result};

/// Reads a manifest and partials from files or directories (a directory
/// gives its `run.json` and `partials/*.json`), checks they belong to one
/// run and cover every tile exactly once, and merges them in tile order.
/// Returns the merged report and the per-tile QA rows.
pub fn merge<P: AsRef<Path>>(inputs: &[P]) -> Result<(RunManifest, Merged, Vec<TileQa>)> {
    let found = Found::collect(inputs)?;
    let (mpath, manifest) = found.manifest(inputs.first().map(|p| p.as_ref()))?;
    let n = manifest.tiles.len();
    let mut by_tile: Vec<Option<(PathBuf, TilePartial)>> = vec![None; n];
    for f in found.partials {
        let part = read_partial(&f, &manifest, &mpath)?;
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
    let qa: Vec<TileQa> = parts.iter().map(|p| p.qa.clone()).collect();
    let merged = fold(&manifest, &parts).map_err(|e| match e {
        Error::Invalid(reason) => Error::Invalid(format!("{}: {reason}", mpath.display())),
        e => e,
    })?;
    Ok((manifest, merged, qa))
}

/// Manifests and partial files found among the inputs.
struct Found {
    manifests: Vec<(PathBuf, RunManifest)>,
    partials: Vec<PathBuf>,
}

fn read_manifest(p: &Path) -> Result<RunManifest> {
    let text = std::fs::read_to_string(p).map_err(|e| Error::read(p, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::document(p, format!("not a qingshan batch manifest: {e}")))
}

impl Found {
    /// A directory gives its `run.json` and its partials (in `partials/`,
    /// else the directory itself); a `run.json` is a manifest; any other
    /// file is a partial, whose manifest is `../run.json`.
    fn collect<P: AsRef<Path>>(inputs: &[P]) -> Result<Found> {
        let mut found = Found {
            manifests: Vec::new(),
            partials: Vec::new(),
        };
        for input in inputs {
            let p = input.as_ref();
            if !p.exists() {
                return Err(Error::open(p, "no such file or directory"));
            }
            if p.is_dir() {
                let m = p.join("run.json");
                if m.is_file() {
                    found.manifests.push((m.clone(), read_manifest(&m)?));
                }
                let pd = p.join("partials");
                let dir = if pd.is_dir() { pd } else { p.to_path_buf() };
                let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .map_err(|e| Error::read(&dir, e))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| {
                        f.extension().is_some_and(|e| e == "json")
                            && f.file_name().is_some_and(|n| n != "run.json")
                    })
                    .collect();
                files.sort();
                found.partials.extend(files);
            } else if p.file_name().is_some_and(|n| n == "run.json") {
                found.manifests.push((p.to_path_buf(), read_manifest(p)?));
            } else {
                found.partials.push(p.to_path_buf());
                if let Some(m) = p
                    .parent()
                    .and_then(|d| d.parent())
                    .map(|d| d.join("run.json"))
                    && m.is_file()
                    && !found.manifests.iter().any(|(q, _)| *q == m)
                {
                    found.manifests.push((m.clone(), read_manifest(&m)?));
                }
            }
        }
        Ok(found)
    }

    /// The run's manifest; every manifest found must be of the same run.
    fn manifest(&self, first_input: Option<&Path>) -> Result<(PathBuf, RunManifest)> {
        let Some((mpath, manifest)) = self.manifests.first().cloned() else {
            let what = "no run.json found: pass the batch output directories (or their run.json with the partials)";
            return Err(match first_input {
                Some(p) => Error::document(p, what),
                None => Error::Invalid(what.into()),
            });
        };
        for (p, m) in &self.manifests[1..] {
            if m.run != manifest.run {
                // Say what differs where the manifests tell.
                let why = if m.area != manifest.area {
                    format!(
                        ": one measured {} areas, the other {} (--area)",
                        manifest.area, m.area
                    )
                } else if m.kind != manifest.kind {
                    format!(": a {} run and a {} run", manifest.kind, m.kind)
                } else if m.band != manifest.band {
                    format!(": band {} and band {}", manifest.band, m.band)
                } else if m.tiles != manifest.tiles || m.after_tiles != manifest.after_tiles {
                    ": their tiles differ".to_string()
                } else if m.legend != manifest.legend {
                    ": their legends differ".to_string()
                } else {
                    ": their tiles' contents, zones or options differ".to_string()
                };
                return Err(Error::GridMismatch {
                    first: mpath.clone(),
                    second: p.clone(),
                    reason: format!(
                        "manifests of different runs ({} vs {}){why}",
                        manifest.run, m.run
                    ),
                });
            }
        }
        Ok((mpath, manifest))
    }
}

/// Reads partial `f`, checking it belongs to the run of `manifest` (read
/// from `mpath`) and that its tile and zone indices exist.
fn read_partial(f: &Path, manifest: &RunManifest, mpath: &Path) -> Result<TilePartial> {
    let text = std::fs::read_to_string(f).map_err(|e| Error::read(f, e))?;
    let part: TilePartial = serde_json::from_str(&text)
        .map_err(|e| Error::document(f, format!("not a complete qingshan partial: {e}")))?;
    if part.run != manifest.run {
        return Err(Error::document(
            f,
            format!(
                "belongs to run {}, not {} ({})",
                part.run,
                manifest.run,
                mpath.display()
            ),
        ));
    }
    let n = manifest.tiles.len();
    if part.tile_index >= n {
        return Err(Error::document(
            f,
            format!(
                "tile index {} out of range (run has {n} tiles)",
                part.tile_index
            ),
        ));
    }
    if let Some(reason) = implausible(&part) {
        return Err(Error::document(
            f,
            format!(
                "{reason}: the partial was damaged or edited; run its tile again (batch --resume)"
            ),
        ));
    }
    let zones = manifest.zones.len();
    let zone_ids = part.stats.iter().map(|(z, _)| *z);
    if let Some(z) = zone_ids
        .chain(part.change.iter().map(|(z, _)| *z))
        .find(|&z| z >= zones)
    {
        return Err(Error::document(
            f,
            format!("zone index {z} out of range (run has {zones} zones)"),
        ));
    }
    Ok(part)
}

/// What is wrong with a partial's numbers, if anything: every area must
/// be finite and not negative, the cells read at most the tile's cells,
/// and the nodata share the one its own areas give.
fn implausible(part: &TilePartial) -> Option<String> {
    let mut areas: Vec<(String, f64)> = Vec::new();
    for (z, a) in &part.stats {
        areas.push((format!("zone {z} nodata"), a.nodata_m2));
        for (c, v) in &a.classes {
            areas.push((format!("zone {z} class {c}"), *v));
        }
    }
    for (z, a) in &part.change {
        areas.push((format!("zone {z} nodata"), a.nodata_m2));
        for (from, row) in &a.pairs {
            for (to, v) in row {
                areas.push((format!("zone {z} transition {from} → {to}"), *v));
            }
        }
    }
    if let Some((what, v)) = areas.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
        return Some(format!("{what} has area {v} m²"));
    }
    let qa = &part.qa;
    if qa.cells_read > qa.cells {
        return Some(format!(
            "{} cells read of a tile of {} cells",
            qa.cells_read, qa.cells
        ));
    }
    let (covered, nodata) = areas.iter().fold((0.0, 0.0), |(c, n), (what, v)| {
        (c + v, if what.ends_with("nodata") { n + v } else { n })
    });
    let share = (covered > 0.0).then(|| nodata / covered);
    match (share, qa.nodata_share) {
        (None, None) => None,
        (Some(s), Some(q)) if (s - q).abs() <= 1e-9 => None,
        (s, q) => Some(format!(
            "its nodata share {q:?} is not what its areas give ({s:?})"
        )),
    }
}

/// The partials' areas of each zone may not exceed the zone: cells
/// covered by a zone are inside it (to 1e-6 of ground areas; 1e-3 of
/// planar ones, which tiles in neighbouring CRSs measure at their own
/// scale). A partial multiplied by hand, or from another run, fails here.
fn within_zones(
    manifest: &RunManifest,
    parts: &[TilePartial],
    covered: impl Iterator<Item = f64>,
) -> Result<()> {
    let tol = match manifest.area {
        crate::area::AreaMode::Ellipsoidal => 1e-6,
        // Planar cells of tiles in other CRSs are measured at their own
        // scale, the zones in the first tile's: no common measure.
        crate::area::AreaMode::Planar if parts.iter().any(|p| p.qa.crs != manifest.crs) => {
            return Ok(());
        }
        crate::area::AreaMode::Planar => 1e-3,
    };
    for (z, c) in manifest.zones.iter().zip(covered) {
        if c > z.zone_area_m2 * (1.0 + tol) + 1.0 {
            return Err(Error::Invalid(format!(
                "zone {}: the partials add up to {c:.1} m², more than the zone's {:.1} m²; a partial is damaged or edited, or comes from another run (remove the partials and run the batch again)",
                z.id, z.zone_area_m2
            )));
        }
    }
    Ok(())
}

/// The partials summed in tile order into the final report, the zones as
/// the manifest records them.
fn fold(manifest: &RunManifest, parts: &[TilePartial]) -> Result<Merged> {
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
        ids: crate::zones::IdScheme::Index,
    };
    let areas: Vec<f64> = manifest.zones.iter().map(|z| z.zone_area_m2).collect();
    if manifest.kind == "change" {
        let mut acc = vec![TransitionAccum::default(); zones.zones.len()];
        for p in parts {
            for (z, a) in &p.change {
                acc[*z].merge(a);
            }
        }
        let covered = acc
            .iter()
            .map(|a| a.nodata_m2 + a.pairs.values().flat_map(|r| r.values()).sum::<f64>());
        within_zones(manifest, parts, covered)?;
        return Ok(Merged::Change(finish_change(
            &zones,
            &manifest.legend,
            ChangeSources {
                crs: manifest.crs.clone(),
                area: manifest.area,
                before: manifest.tiles.clone(),
                after: manifest.after_tiles.clone().unwrap_or_default(),
            },
            acc,
            &areas,
            Vec::new(),
        )));
    }
    let mut acc = vec![ZoneAccum::default(); zones.zones.len()];
    for p in parts {
        for (z, a) in &p.stats {
            acc[*z].merge(a);
        }
    }
    within_zones(
        manifest,
        parts,
        acc.iter()
            .map(|a| a.nodata_m2 + a.classes.values().sum::<f64>()),
    )?;
    Ok(Merged::Stats(finish_stats(
        &zones,
        &manifest.legend,
        manifest.crs.clone(),
        manifest.area,
        acc,
        &areas,
        &crate::raster::files_label(&manifest.tiles),
    )))
}
