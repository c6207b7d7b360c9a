//! The harnesses: how each target makes its inputs and what it checks.

pub(crate) mod coverage;
mod documents;
mod geojson;
mod partial;

use std::path::{Path, PathBuf};

use crate::rng::Rng;
use crate::{Outcome, Target};

/// What the harnesses share: a scratch directory holding a copy of the
/// fixtures (so audit configurations resolve their paths) and a finished
/// batch run over the fixtures' tiles (for the partial target).
pub struct Context {
    _scratch: tempfile::TempDir,
    dir: PathBuf,
    seeds: Vec<(Target, Vec<u8>)>,
    run: partial::Run,
}

impl Context {
    /// Prepares the scratch directory and the batch run (a second or two).
    pub fn new() -> Result<Context, String> {
        qingshan::raster::setup_gdal();
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir = scratch.path().to_path_buf();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        copy_tree(&fixtures, &dir.join("fx"))?;
        let mut seeds = Vec::new();
        for (t, name) in [
            (Target::Geojson, "towns.geojson"),
            (Target::Geojson, "redlines_2019.geojson"),
            (Target::Audit, "audit.toml"),
        ] {
            let bytes = std::fs::read(fixtures.join(name)).map_err(|e| e.to_string())?;
            seeds.push((t, bytes));
        }
        for doc in documents::LEGEND_SEEDS {
            seeds.push((Target::Legend, doc.as_bytes().to_vec()));
        }
        seeds.push((
            Target::Audit,
            documents::AUDIT_OVERRIDES.as_bytes().to_vec(),
        ));
        let run = partial::Run::prepare(&dir.join("fx"), &dir.join("run"))?;
        for p in &run.originals {
            seeds.push((Target::Partial, p.1.clone()));
        }
        Ok(Context {
            _scratch: scratch,
            dir,
            seeds,
            run,
        })
    }

    /// The seeds of `target`.
    pub fn seeds(&self, target: Target) -> Vec<&[u8]> {
        self.seeds
            .iter()
            .filter(|(t, _)| *t == target)
            .map(|(_, b)| b.as_slice())
            .collect()
    }

    /// Two seeds of `target` (the second to splice from).
    fn seed_pair(&self, target: Target, rng: &mut Rng) -> (&[u8], &[u8]) {
        let mine = self.seeds(target);
        (*rng.pick(&mine), *rng.pick(&mine))
    }

    /// A seed of `target` mutated.
    fn mutated(&self, target: Target, rng: &mut Rng) -> Vec<u8> {
        let (a, b) = self.seed_pair(target, rng);
        crate::mutate::mutate(rng, a, b)
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for e in std::fs::read_dir(from).map_err(|e| e.to_string())? {
        let e = e.map_err(|e| e.to_string())?;
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

pub(crate) fn generate(target: Target, ctx: &Context, rng: &mut Rng) -> Vec<u8> {
    match target {
        Target::Geojson if rng.chance(0.5) => geojson::generate(rng).into_bytes(),
        Target::Coverage => rng.next_u64().to_le_bytes().to_vec(),
        Target::Partial if rng.chance(0.6) => partial::mutate_numbers(ctx, rng),
        Target::Partial => partial::mutate_bytes(ctx, rng),
        t => ctx.mutated(t, rng),
    }
}

pub(crate) fn run(target: Target, ctx: &Context, input: &[u8]) -> Result<Outcome, String> {
    match target {
        Target::Geojson => geojson::run(&ctx.dir, input),
        Target::Legend => documents::legend(input),
        Target::Audit => documents::audit(&ctx.dir, input),
        Target::Partial => ctx.run.merge_with(input),
        Target::Coverage => coverage::run(input),
    }
}

/// A rejection must be one line that names `file`.
fn proper_rejection(e: &qingshan::Error, file: &str) -> Result<Outcome, String> {
    let msg = e.full_message();
    if msg.contains('\n') {
        return Err(format!("message of more than one line: {msg:?}"));
    }
    if !msg.contains(file) {
        return Err(format!("message does not name {file}: {msg:?}"));
    }
    Ok(Outcome::Rejected)
}

/// `Err` unless `x` is finite and not negative.
fn non_negative(what: &str, x: f64) -> Result<(), String> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(format!("{what} = {x}"))
    }
}
