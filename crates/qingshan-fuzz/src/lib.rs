//! Fuzz and property harnesses for qingshan that run on the stable
//! toolchain (cargo-fuzz needs nightly, which cannot be installed here).
//!
//! Each [`Target`] turns bytes into a call of the library and checks what
//! must hold whatever the bytes: no panic, a rejection is one line naming
//! the file, an accepted input gives finite, non-negative, consistent
//! numbers. Inputs come from seeds (the fixtures' own documents) mutated
//! byte by byte ([`mutate`]) or from structured generators (random
//! feature collections, random polygons on random grids). A finding is
//! saved under `regressions/TARGET/` and replayed by the crate's tests
//! forever after.
//!
//! ```text
//! cargo run --release -p qingshan-fuzz -- geojson --seconds 600
//! ```

pub mod mutate;
pub mod rng;
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use targets::Context;

/// The area of `ring` clipped to `[x0, x1] × [y0, y1]` (the coverage
/// target's reference, Sutherland–Hodgman then the shoelace).
pub fn clipped_area(ring: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> f64 {
    targets::coverage::clipped_area(ring, x, y)
}

/// What one input did.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// The library accepted it, and every invariant held.
    Accepted,
    /// The library refused it with a proper message.
    Rejected,
}

/// A harness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Zone layers from GeoJSON bytes (`ZoneLayer::read`).
    Geojson,
    /// TOML legends (`Legend::from_toml`).
    Legend,
    /// Audit configurations (`AuditConfig::load`).
    Audit,
    /// A batch partial replaced by the bytes, then `batch::merge`.
    Partial,
    /// Random polygons on random grids: coverage fractions against the
    /// polygon clipped to the grid.
    Coverage,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 5] = [
        Target::Geojson,
        Target::Legend,
        Target::Audit,
        Target::Partial,
        Target::Coverage,
    ];

    /// Its name on the command line and under `regressions/`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Geojson => "geojson",
            Target::Legend => "legend",
            Target::Audit => "audit",
            Target::Partial => "partial",
            Target::Coverage => "coverage",
        }
    }

    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// One input, made from the generator's state.
    pub fn generate(self, ctx: &Context, rng: &mut rng::Rng) -> Vec<u8> {
        targets::generate(self, ctx, rng)
    }

    /// Runs one input: `Err` is a finding (an invariant broken or a
    /// rejection without a proper message); a panic is caught by
    /// [`run_caught`].
    pub fn run(self, ctx: &Context, input: &[u8]) -> Result<Outcome, String> {
        targets::run(self, ctx, input)
    }
}

/// Runs one input, turning a panic into a finding.
pub fn run_caught(target: Target, ctx: &Context, input: &[u8]) -> Result<Outcome, String> {
    match catch_unwind(AssertUnwindSafe(|| target.run(ctx, input))) {
        Ok(r) => r,
        Err(p) => Err(format!(
            "panic: {}",
            p.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

/// Where the findings of `target` are kept.
pub fn regressions_dir(target: Target) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(target.name())
}

/// The figures of a campaign.
#[derive(Debug, Default)]
pub struct Campaign {
    /// Inputs run.
    pub executions: u64,
    /// Of them, accepted.
    pub accepted: u64,
    /// Of them, rejected with a proper message.
    pub rejected: u64,
    /// Findings: (file saved, what went wrong).
    pub findings: Vec<(PathBuf, String)>,
    /// Inputs that took longer than the slow limit.
    pub slow: u64,
    /// Seconds spent.
    pub seconds: f64,
}

/// Runs `target` for `duration` (or `max_runs` inputs) from `seed`,
/// saving findings under `save` (none when `None`). An input slower than
/// `slow` is a finding too.
pub fn campaign(
    target: Target,
    ctx: &Context,
    seed: u64,
    duration: Duration,
    max_runs: u64,
    save: Option<&Path>,
    slow: Duration,
) -> Campaign {
    let mut rng = rng::Rng::new(seed);
    let mut c = Campaign::default();
    let start = Instant::now();
    let mut report = start;
    while start.elapsed() < duration && c.executions < max_runs {
        let input = target.generate(ctx, &mut rng);
        let t = Instant::now();
        let got = run_caught(target, ctx, &input);
        let took = t.elapsed();
        c.executions += 1;
        let problem = match got {
            Ok(Outcome::Accepted) => {
                c.accepted += 1;
                None
            }
            Ok(Outcome::Rejected) => {
                c.rejected += 1;
                None
            }
            Err(e) => Some(e),
        };
        let problem = problem.or_else(|| {
            (took > slow).then(|| {
                c.slow += 1;
                format!("slow: {:.1} s", took.as_secs_f64())
            })
        });
        if let Some(why) = problem {
            let file = save
                .map(|dir| save_finding(dir, &input))
                .unwrap_or_default();
            eprintln!("{}: finding {}: {why}", target.name(), file.display());
            c.findings.push((file, why));
        }
        if report.elapsed() > Duration::from_secs(60) {
            report = Instant::now();
            eprintln!(
                "{}: {} runs in {:.0} s, {} findings",
                target.name(),
                c.executions,
                start.elapsed().as_secs_f64(),
                c.findings.len()
            );
        }
    }
    c.seconds = start.elapsed().as_secs_f64();
    c
}

/// Saves an input under `dir`, named by its FNV-1a hash.
fn save_finding(dir: &Path, input: &[u8]) -> PathBuf {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in input {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    let path = dir.join(format!("{h:016x}"));
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(&path, input);
    path
}
