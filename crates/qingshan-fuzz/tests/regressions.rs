//! Every input a fuzzing campaign ever found is replayed (no panic, every
//! invariant), and each target runs a short deterministic campaign so
//! that a harness that stops finding anything, or stops running, fails.

use std::time::Duration;

use qingshan_fuzz::{Context, Outcome, Target, campaign, regressions_dir, run_caught};

#[test]
fn regressions_stay_fixed() {
    let ctx = Context::new().unwrap();
    let mut replayed = 0;
    for t in Target::ALL {
        let Ok(entries) = std::fs::read_dir(regressions_dir(t)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            if let Err(why) = run_caught(t, &ctx, &input) {
                panic!("{}: {why}", path.display());
            }
            replayed += 1;
        }
    }
    eprintln!("{replayed} regressions replayed");
}

#[test]
fn every_target_runs_and_reaches_both_outcomes() {
    let ctx = Context::new().unwrap();
    for t in Target::ALL {
        let c = campaign(
            t,
            &ctx,
            7,
            Duration::from_secs(60),
            150,
            None,
            Duration::from_secs(20),
        );
        assert!(c.findings.is_empty(), "{}: {:?}", t.name(), c.findings);
        assert_eq!(c.executions, 150, "{}", t.name());
        // The generators reach the code past the parser, and the parser's
        // refusals (coverage has no refusals: every case is valid).
        assert!(c.accepted > 0, "{}: nothing accepted", t.name());
        if t != Target::Coverage {
            assert!(c.rejected > 0, "{}: nothing rejected", t.name());
        }
    }
}

/// The harness checks more than "no panic": a partial with a negative
/// class area is refused by the merge (were it accepted, the harness's own
/// non-negative check would report it), and the coverage reference clips
/// the way the hand does.
#[test]
fn tampered_partials_are_refused_and_the_reference_clips() {
    let ctx = Context::new().unwrap();
    let original = ctx.seeds(Target::Partial)[0];
    let mut v: serde_json::Value = serde_json::from_slice(original).unwrap();
    let stats = v["stats"].as_array_mut().unwrap();
    let (_, first) = stats[0][1]["classes"]
        .as_object_mut()
        .unwrap()
        .iter_mut()
        .next()
        .unwrap();
    *first = serde_json::json!(-5.0);
    let mut input = vec![0u8];
    input.extend(serde_json::to_vec(&v).unwrap());
    assert_eq!(
        run_caught(Target::Partial, &ctx, &input),
        Ok(Outcome::Rejected)
    );
    // The original bytes merge.
    let mut input = vec![0u8];
    input.extend_from_slice(original);
    assert_eq!(
        run_caught(Target::Partial, &ctx, &input),
        Ok(Outcome::Accepted)
    );
    // A square half outside a rectangle: half its area.
    let sq = [(-1.0, 0.0), (1.0, 0.0), (1.0, 2.0), (-1.0, 2.0)];
    let a = qingshan_fuzz::clipped_area(&sq, (0.0, 10.0), (0.0, 10.0));
    assert!((a - 2.0).abs() < 1e-15, "{a}");
}
