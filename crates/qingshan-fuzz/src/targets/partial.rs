//! Batch partials: one partial of a finished run over the fixtures'
//! tiles is replaced by the input, then the run is merged. The input's
//! first byte chooses the partial; the rest are its bytes.

use std::path::{Path, PathBuf};

use qingshan::RunOptions;
use qingshan::batch::{
    Batch, BatchConfig, Merged, OverlapPolicy, ZoneInput, discover_tiles, merge,
};
use qingshan::legend::Legend;
use qingshan::zones::ZoneOptions;

use super::{Context, non_negative, proper_rejection};
use crate::Outcome;
use crate::rng::Rng;

/// A finished batch run and its partials' original bytes.
pub(crate) struct Run {
    dir: PathBuf,
    pub(crate) originals: Vec<(PathBuf, Vec<u8>)>,
}

impl Run {
    /// Runs the batch over `fx`'s 2019 tiles and the towns, into `dir`.
    pub(crate) fn prepare(fx: &Path, dir: &Path) -> Result<Run, String> {
        let e = |e: qingshan::Error| e.full_message();
        let tiles =
            discover_tiles(&[fx.join("landcover/clcd_2019").display().to_string()]).map_err(e)?;
        let run = RunOptions::default();
        let batch = Batch::prepare(
            BatchConfig {
                tiles,
                after_tiles: None,
                band: 1,
                out_dir: dir.to_path_buf(),
                shard: None,
                resume: false,
                overlap: OverlapPolicy::Refuse,
                area: Default::default(),
            },
            ZoneInput::File(fx.join("towns.geojson"), ZoneOptions::default()),
            Legend::builtin("clcd").ok_or("no clcd legend")?,
            &run,
        )
        .map_err(e)?;
        batch.run(&run).map_err(e)?;
        let mut originals = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("partials"))
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).map_err(|e| e.to_string())?;
            originals.push((f, bytes));
        }
        if originals.is_empty() {
            return Err("the batch wrote no partials".into());
        }
        Ok(Run {
            dir: dir.to_path_buf(),
            originals,
        })
    }

    /// Replaces one partial by `input[1..]`, merges, restores it.
    pub(crate) fn merge_with(&self, input: &[u8]) -> Result<Outcome, String> {
        let Some((&k, bytes)) = input.split_first() else {
            return Ok(Outcome::Rejected);
        };
        let (path, original) = &self.originals[k as usize % self.originals.len()];
        std::fs::write(path, bytes).map_err(|e| e.to_string())?;
        let got = merge(std::slice::from_ref(&self.dir));
        std::fs::write(path, original).map_err(|e| e.to_string())?;
        let merged = match got {
            Ok((_, m, _)) => m,
            Err(e) => {
                // The message names the partial or the run directory.
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let msg = e.full_message();
                let dir = self.dir.display().to_string();
                return if msg.contains(name) || msg.contains(&dir) {
                    proper_rejection(&e, "")
                } else {
                    Err(format!("message names neither {name} nor the run: {msg:?}"))
                };
            }
        };
        let Merged::Stats(stats) = merged else {
            return Err("a stats run merged as a change run".into());
        };
        for z in &stats.zones {
            let id = &z.id;
            for (code, a) in &z.classes {
                non_negative(&format!("zone {id} class {code}"), *a)?;
            }
            non_negative(&format!("zone {id} nodata"), z.nodata_area_m2)?;
            let sum: f64 = z.classes.values().sum();
            if (sum - z.valid_area_m2).abs() > 1e-9 * z.valid_area_m2.max(1.0) {
                return Err(format!(
                    "zone {id}: classes sum to {sum}, valid {}",
                    z.valid_area_m2
                ));
            }
            if let Some(c) = z.forest_cover
                && !(0.0..=1.0).contains(&c)
            {
                return Err(format!("zone {id}: forest cover {c}"));
            }
        }
        Ok(Outcome::Accepted)
    }
}

/// A partial mutated byte by byte (most no longer parse).
pub(crate) fn mutate_bytes(ctx: &Context, rng: &mut Rng) -> Vec<u8> {
    let k = rng.below(ctx.run.originals.len());
    let other = &ctx.run.originals[rng.below(ctx.run.originals.len())].1;
    let mut out = vec![k as u8];
    out.extend(crate::mutate::mutate(rng, &ctx.run.originals[k].1, other));
    out
}

/// A partial with some of its numbers replaced (the bytes stay valid
/// JSON, so the merge's own checks are what is tested).
pub(crate) fn mutate_numbers(ctx: &Context, rng: &mut Rng) -> Vec<u8> {
    let k = rng.below(ctx.run.originals.len());
    let original = &ctx.run.originals[k].1;
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(original) else {
        return original.clone();
    };
    let mut numbers = Vec::new();
    collect_numbers(&v, String::new(), &mut numbers);
    if numbers.is_empty() {
        return original.clone();
    }
    for _ in 0..1 + rng.below(3) {
        let ptr = rng.pick(&numbers).clone();
        let new = match rng.below(7) {
            0 => serde_json::json!(-rng.range(0.0, 1e6)),
            1 => serde_json::json!(1e308),
            2 => serde_json::json!(0),
            3 => serde_json::json!(rng.below(100)),
            4 => serde_json::json!(rng.range(0.0, 1e9)),
            5 => serde_json::json!(u64::MAX),
            _ => serde_json::json!(-1),
        };
        if let Some(slot) = v.pointer_mut(&ptr) {
            *slot = new;
        }
    }
    let mut out = vec![k as u8];
    out.extend(serde_json::to_vec(&v).unwrap_or_default());
    out
}

fn collect_numbers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Number(_) => out.push(at),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_numbers(x, format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                collect_numbers(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}
