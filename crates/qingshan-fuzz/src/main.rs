//! `qingshan-fuzz TARGET… [--seconds N] [--seed S] [--runs N]`: runs each
//! target for N seconds (default 600), saving findings under
//! `crates/qingshan-fuzz/regressions/TARGET/`; prints executions and
//! findings. Exit 1 when anything was found.

use std::time::Duration;

use qingshan_fuzz::{Context, Target, campaign, regressions_dir};

fn main() {
    let mut targets = Vec::new();
    let (mut seconds, mut seed, mut runs) = (600u64, 1u64, u64::MAX);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&format!("{name} takes a number")))
        };
        match a.as_str() {
            "--seconds" => seconds = value("--seconds"),
            "--seed" => seed = value("--seed"),
            "--runs" => runs = value("--runs"),
            "all" => targets.extend(Target::ALL),
            t => targets.push(
                Target::from_name(t).unwrap_or_else(|| usage(&format!("unknown target {t:?}"))),
            ),
        }
    }
    if targets.is_empty() {
        usage("name a target");
    }
    let ctx = Context::new().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let mut found = false;
    for t in targets {
        let dir = regressions_dir(t);
        let c = campaign(
            t,
            &ctx,
            seed,
            Duration::from_secs(seconds),
            runs,
            Some(&dir),
            Duration::from_secs(10),
        );
        println!(
            "{}: {} executions in {:.0} s ({:.0}/s; {} accepted, {} rejected), {} findings, seed {seed}",
            t.name(),
            c.executions,
            c.seconds,
            c.executions as f64 / c.seconds.max(1e-9),
            c.accepted,
            c.rejected,
            c.findings.len()
        );
        found |= !c.findings.is_empty();
    }
    std::process::exit(i32::from(found));
}

fn usage(why: &str) -> ! {
    let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
    eprintln!(
        "qingshan-fuzz: {why}\nusage: qingshan-fuzz {}|all … [--seconds N] [--seed S] [--runs N]",
        names.join("|")
    );
    std::process::exit(2)
}
