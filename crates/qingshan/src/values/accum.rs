//! Accumulators of a zone's values: moments (count, sum, mean, variance,
//! min, max) merged across tasks, and the exact weighted distribution of
//! its values for the median and quantiles, kept as sorted runs of
//! (value, weight) that spill to a scratch file past a memory budget.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::{Error, Result};

/// Running moments of one zone (or of one zone within one task).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Moments {
    /// Σ coverage fraction of valid cells (exactextract's `count`).
    pub(crate) count: f64,
    /// Σ coverage fraction × value (exactextract's `sum`).
    pub(crate) sum: f64,
    /// Σ weight (coverage × cell area, m²) of valid cells.
    pub(crate) weight: f64,
    /// Σ weight of nodata cells.
    pub(crate) nodata: f64,
    /// Weighted mean.
    pub(crate) mean: f64,
    /// Σ weight × (value − mean)².
    pub(crate) m2: f64,
    /// Smallest and largest value of a cell with any coverage.
    pub(crate) min: f64,
    pub(crate) max: f64,
}

/// The moments of one task's cells of one zone, summed about a shift
/// (the first value seen) so that large values with small spread keep
/// their precision; turned into [`Moments`] at the end of the task.
#[derive(Clone, Debug)]
pub(crate) struct TaskMoments {
    count: f64,
    sum: f64,
    weight: f64,
    nodata: f64,
    shift: f64,
    /// Σ w (v − shift), Σ w (v − shift)².
    s1: f64,
    s2: f64,
    min: f64,
    max: f64,
}

impl Default for TaskMoments {
    fn default() -> TaskMoments {
        TaskMoments {
            count: 0.0,
            sum: 0.0,
            weight: 0.0,
            nodata: 0.0,
            shift: f64::NAN,
            s1: 0.0,
            s2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl TaskMoments {
    /// A valid cell: value `v`, coverage `frac`, weight `w` (m²).
    #[inline(always)]
    pub(crate) fn add(&mut self, v: f64, frac: f64, w: f64) {
        if self.shift.is_nan() {
            self.shift = v;
        }
        self.count += frac;
        self.sum += frac * v;
        self.weight += w;
        let d = v - self.shift;
        self.s1 += w * d;
        self.s2 += w * d * d;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// A nodata cell of weight `w`.
    #[inline(always)]
    pub(crate) fn add_nodata(&mut self, w: f64) {
        self.nodata += w;
    }

    /// The moments.
    pub(crate) fn finish(&self) -> Moments {
        let (mean, m2) = if self.weight > 0.0 {
            let d = self.s1 / self.weight;
            // Rounding may leave a tiny negative; an overflow stays NaN
            // (f64::max would turn it into 0).
            let m2 = self.s2 - self.s1 * d;
            (self.shift + d, if m2 < 0.0 { 0.0 } else { m2 })
        } else {
            (0.0, 0.0)
        };
        Moments {
            count: self.count,
            sum: self.sum,
            weight: self.weight,
            nodata: self.nodata,
            mean,
            m2,
            min: self.min,
            max: self.max,
        }
    }
}

impl Moments {
    /// Nothing yet.
    pub(crate) fn empty() -> Moments {
        Moments {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            ..Default::default()
        }
    }

    /// Adds another part's moments (Chan et al.'s pairwise update).
    pub(crate) fn merge(&mut self, o: &Moments) {
        self.count += o.count;
        self.sum += o.sum;
        self.nodata += o.nodata;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        if o.weight <= 0.0 {
            return;
        }
        if self.weight <= 0.0 {
            self.weight = o.weight;
            self.mean = o.mean;
            self.m2 = o.m2;
            return;
        }
        let w = self.weight + o.weight;
        let delta = o.mean - self.mean;
        self.mean += delta * (o.weight / w);
        self.m2 += o.m2 + delta * delta * (self.weight * o.weight / w);
        self.weight = w;
    }

    /// Population variance (weighted); `None` when nothing is valid, or
    /// when the values overflow `f64` (sums of values near 1e308).
    pub(crate) fn variance(&self) -> Option<f64> {
        (self.weight > 0.0)
            .then(|| self.m2 / self.weight)
            .filter(|v| v.is_finite())
    }
}

/// The order-preserving key of a value: keys compare as the values do
/// (−0 is 0; NaN never comes here).
#[inline(always)]
pub(crate) fn key(v: f64) -> u64 {
    let b = (v + 0.0).to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// The value of a key.
#[inline(always)]
pub(crate) fn value(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Sorts (key, weight) pairs and sums the weights of equal keys, in place.
pub(crate) fn compact(pairs: &mut Vec<(u64, f64)>) {
    pairs.sort_unstable_by_key(|p| p.0);
    let mut out = 0;
    for i in 0..pairs.len() {
        if out > 0 && pairs[out - 1].0 == pairs[i].0 {
            pairs[out - 1].1 += pairs[i].1;
        } else {
            pairs[out] = pairs[i];
            out += 1;
        }
    }
    pairs.truncate(out);
}

/// Merges two sorted runs of distinct keys, summing equal keys (`a`'s
/// weight first).
fn merge_two(a: &[(u64, f64)], b: &[(u64, f64)]) -> Vec<(u64, f64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// A sorted run on disk: `len` pairs from byte `at` of the spill file.
#[derive(Clone, Debug)]
struct DiskRun {
    file: Arc<Spill>,
    at: u64,
    len: usize,
}

/// The scratch file runs spill to: an anonymous file in the temporary
/// directory (unlinked from the start, so nothing is left behind even by
/// `kill -9`).
#[derive(Debug)]
pub(crate) struct Spill {
    /// The directory it lives in (for messages).
    dir: std::path::PathBuf,
    file: File,
}

/// Bytes per pair on disk.
const PAIR: usize = 16;

/// A zone's value distribution: sorted runs of distinct values with their
/// weights, in memory or spilled. Runs are merged like a binary counter
/// (a run is merged with the one before it while it is at least half its
/// size), so each pair is merged O(log n) times.
#[derive(Clone, Debug, Default)]
pub(crate) struct Distribution {
    memory: Vec<Vec<(u64, f64)>>,
    disk: Vec<DiskRun>,
}

impl Distribution {
    /// Pairs held in memory.
    pub(crate) fn in_memory(&self) -> usize {
        self.memory.iter().map(Vec::len).sum()
    }

    /// Adds a sorted run of distinct keys; returns the change in pairs
    /// held in memory.
    pub(crate) fn push(&mut self, run: Vec<(u64, f64)>) -> isize {
        if run.is_empty() {
            return 0;
        }
        let before = self.in_memory() as isize;
        self.memory.push(run);
        while self.memory.len() >= 2 {
            let n = self.memory.len();
            if self.memory[n - 1].len() * 2 < self.memory[n - 2].len() {
                break;
            }
            let b = self.memory.pop().unwrap_or_default();
            let a = self.memory.pop().unwrap_or_default();
            self.memory.push(merge_two(&a, &b));
        }
        self.in_memory() as isize - before
    }

    /// Writes the runs held in memory to `spill` (merged into one run
    /// first); returns how many pairs left memory. Past
    /// [`MAX_DISK_RUNS`] runs on disk, those are merged into one (on
    /// disk), so the final merge reads a bounded number of runs.
    pub(crate) fn spill(&mut self, spill: &mut Option<Arc<Spill>>) -> Result<usize> {
        let freed = self.in_memory();
        let mut run: Vec<(u64, f64)> = Vec::new();
        for r in std::mem::take(&mut self.memory) {
            run = if run.is_empty() {
                r
            } else {
                merge_two(&run, &r)
            };
        }
        if run.is_empty() {
            return Ok(0);
        }
        if spill.is_none() {
            let dir = std::env::temp_dir();
            let file = tempfile::tempfile_in(&dir).map_err(|e| Error::write_io(&dir, e))?;
            *spill = Some(Arc::new(Spill { dir, file }));
        }
        let s = spill
            .as_ref()
            .map(Arc::clone)
            .ok_or_else(|| Error::Invalid("internal: no spill file".into()))?;
        let mut out = RunWriter::new(&s)?;
        for &(k, w) in &run {
            out.push(k, w)?;
        }
        self.disk.push(out.finish()?);
        if self.disk.len() > MAX_DISK_RUNS {
            let mut out = RunWriter::new(&s)?;
            merge_cursors(self.disk.iter().map(Cursor::disk).collect(), |k, w| {
                out.push(k, w)
            })?;
            self.disk = vec![out.finish()?];
        }
        Ok(freed)
    }

    /// Visits the distinct values in ascending order with their summed
    /// weights (runs merged on the fly; equal values summed disk runs
    /// first, then memory runs, each in the order they came).
    pub(crate) fn for_each(&self, mut f: impl FnMut(f64, f64)) -> Result<()> {
        let cursors = self
            .disk
            .iter()
            .map(Cursor::disk)
            .chain(self.memory.iter().map(|r| Cursor::memory(r)))
            .collect();
        merge_cursors(cursors, |k, w| {
            f(value(k), w);
            Ok(())
        })
    }
}

/// Runs on disk per zone before they are merged into one.
const MAX_DISK_RUNS: usize = 32;

/// Merges sorted runs of distinct keys: `f` gets each key once, in
/// ascending order, with its weights summed in run order.
fn merge_cursors(
    mut cursors: Vec<Cursor<'_>>,
    mut f: impl FnMut(u64, f64) -> Result<()>,
) -> Result<()> {
    for c in cursors.iter_mut() {
        c.fill()?;
    }
    loop {
        let mut best: Option<u64> = None;
        for c in &cursors {
            if let Some((k, _)) = c.peek() {
                best = Some(best.map_or(k, |b| b.min(k)));
            }
        }
        let Some(k) = best else { return Ok(()) };
        let mut w = 0.0;
        for c in cursors.iter_mut() {
            if let Some((ck, cw)) = c.peek()
                && ck == k
            {
                w += cw;
                c.advance()?;
            }
        }
        f(k, w)?;
    }
}

/// Appends one sorted run to the spill file.
struct RunWriter<'a> {
    spill: &'a Arc<Spill>,
    at: u64,
    len: usize,
    w: BufWriter<&'a File>,
}

impl<'a> RunWriter<'a> {
    fn new(spill: &'a Arc<Spill>) -> Result<RunWriter<'a>> {
        let at = spill
            .file
            .metadata()
            .map_err(|e| Error::write_io(&spill.dir, e))?
            .len();
        Ok(RunWriter {
            spill,
            at,
            len: 0,
            w: BufWriter::with_capacity(1 << 16, &spill.file),
        })
    }

    fn push(&mut self, k: u64, v: f64) -> Result<()> {
        self.len += 1;
        self.w
            .write_all(&k.to_le_bytes())
            .and_then(|_| self.w.write_all(&v.to_le_bytes()))
            .map_err(|e| Error::write_io(&self.spill.dir, e))
    }

    fn finish(mut self) -> Result<DiskRun> {
        self.w
            .flush()
            .map_err(|e| Error::write_io(&self.spill.dir, e))?;
        Ok(DiskRun {
            file: Arc::clone(self.spill),
            at: self.at,
            len: self.len,
        })
    }
}

/// Reads one run in order.
struct Cursor<'a> {
    pairs: std::borrow::Cow<'a, [(u64, f64)]>,
    pos: usize,
    disk: Option<(&'a DiskRun, usize)>,
}

/// Pairs read from disk at a time.
const CHUNK: usize = 4096;

impl<'a> Cursor<'a> {
    fn memory(run: &'a [(u64, f64)]) -> Cursor<'a> {
        Cursor {
            pairs: std::borrow::Cow::Borrowed(run),
            pos: 0,
            disk: None,
        }
    }

    fn disk(run: &'a DiskRun) -> Cursor<'a> {
        Cursor {
            pairs: std::borrow::Cow::Owned(Vec::new()),
            pos: 0,
            disk: Some((run, 0)),
        }
    }

    fn peek(&self) -> Option<(u64, f64)> {
        self.pairs.get(self.pos).copied()
    }

    fn advance(&mut self) -> Result<()> {
        self.pos += 1;
        if self.pos >= self.pairs.len() {
            self.fill()?;
        }
        Ok(())
    }

    /// Reads the next chunk of a disk run once the current one is used.
    fn fill(&mut self) -> Result<()> {
        let Some((run, read)) = self.disk.as_mut() else {
            return Ok(());
        };
        if self.pos < self.pairs.len() {
            return Ok(());
        }
        let n = (run.len - *read).min(CHUNK);
        let mut bytes = vec![0u8; n * PAIR];
        run.file
            .file
            .read_exact_at(&mut bytes, run.at + (*read * PAIR) as u64)
            .map_err(|e| Error::read(&run.file.dir, e))?;
        *read += n;
        self.pairs = std::borrow::Cow::Owned(
            bytes
                .chunks_exact(PAIR)
                .map(|c| {
                    let k = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
                    let w = f64::from_le_bytes(c[8..].try_into().unwrap_or_default());
                    (k, w)
                })
                .collect(),
        );
        self.pos = 0;
        Ok(())
    }
}

/// Quantiles `qs` (each in [0, 1]) of a distribution of distinct sorted
/// values `x₁ < … < xₙ` with weights `w₁ … wₙ`, by the weighted
/// percentile method exactextract uses: with `Sₖ = w₁ + … + wₖ`,
/// `s₁ = 0` and `sₖ = (k − 1)·wₖ + (n − 1)·Sₖ₋₁`, the q-quantile is found
/// at `p = q·(n − 1)·Sₙ`: the value interpolated linearly between `xₖ`
/// and `xₖ₊₁` where `sₖ ≤ p < sₖ₊₁`, or `xₙ` when `p ≥ sₙ`. Two passes
/// over the values (the first counts them).
pub(crate) fn quantiles(dist: &Distribution, qs: &[f64]) -> Result<Vec<Option<f64>>> {
    let (mut n, mut total) = (0usize, 0.0);
    dist.for_each(|_, w| {
        n += 1;
        total += w;
    })?;
    if n == 0 || total <= 0.0 {
        return Ok(vec![None; qs.len()]);
    }
    let sn = total * (n as f64 - 1.0);
    // q = 1 is the largest value, exactly (sₙ and q·(n − 1)·Sₙ round
    // differently, and would interpolate one ulp below it).
    let targets: Vec<f64> = qs
        .iter()
        .map(|&q| if q >= 1.0 { f64::INFINITY } else { q * sn })
        .collect();
    let mut out: Vec<Option<f64>> = vec![None; qs.len()];
    // (x, s) of the previous value; cumulative weight before this one.
    let mut prev: Option<(f64, f64)> = None;
    let mut cum = 0.0;
    let mut k = 0usize;
    dist.for_each(|x, w| {
        let s = if k == 0 {
            0.0
        } else {
            k as f64 * w + (n as f64 - 1.0) * cum
        };
        for (o, &p) in out.iter_mut().zip(&targets) {
            if o.is_none()
                && s > p
                && let Some((px, ps)) = prev
            {
                *o = Some(px + (p - ps) * (x - px) / (s - ps));
            }
        }
        prev = Some((x, s));
        cum += w;
        k += 1;
    })?;
    let last = prev.map(|p| p.0);
    Ok(out.into_iter().map(|o| o.or(last)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(pairs: &[(f64, f64)]) -> Distribution {
        let mut d = Distribution::default();
        let mut run: Vec<(u64, f64)> = pairs.iter().map(|&(v, w)| (key(v), w)).collect();
        compact(&mut run);
        d.push(run);
        d
    }

    #[test]
    fn keys_sort_as_values() {
        let vs = [-1e300, -2.5, -0.0, 0.0, 1e-300, 0.5, 3.0, f64::MAX];
        for w in vs.windows(2) {
            assert!(key(w[0]) <= key(w[1]), "{} {}", w[0], w[1]);
            assert_eq!(value(key(w[0])), w[0] + 0.0);
        }
        assert_eq!(key(-0.0), key(0.0));
    }

    #[test]
    fn equal_weights_give_the_linear_interpolation_of_order_statistics() {
        // With equal weights the method is numpy's default (type 7):
        // 1, 2, 3, 4 → median 2.5, q0.25 = 1.75.
        let d = dist(&[(4.0, 1.0), (2.0, 1.0), (1.0, 1.0), (3.0, 1.0)]);
        let q = quantiles(&d, &[0.0, 0.25, 0.5, 1.0]).unwrap();
        assert_eq!(q, vec![Some(1.0), Some(1.75), Some(2.5), Some(4.0)]);
    }

    #[test]
    fn weights_follow_the_worked_formula() {
        // x = 1, 2, 3 with w = 1, 2, 1: S = 1, 3, 4; s = 0, 1·2 + 2·1 = 4,
        // 2·1 + 2·3 = 8; Sₙ(n − 1) = 8. Median: p = 4 = s₂ → x₂ = 2.
        // q = 0.25: p = 2, between s₁ = 0 and s₂ = 4 → 1.5.
        let d = dist(&[(1.0, 1.0), (2.0, 2.0), (3.0, 1.0)]);
        let q = quantiles(&d, &[0.25, 0.5, 0.9]).unwrap();
        assert_eq!(q[0], Some(1.5));
        assert_eq!(q[1], Some(2.0));
        // q = 0.9: p = 7.2, between s₂ = 4 and s₃ = 8 → 2 + 3.2/4.
        assert!((q[2].unwrap() - 2.8).abs() < 1e-12);
    }

    #[test]
    fn a_single_value_is_every_quantile_and_nothing_is_none() {
        let d = dist(&[(7.0, 0.3), (7.0, 0.2)]);
        assert_eq!(quantiles(&d, &[0.0, 0.5, 1.0]).unwrap(), vec![Some(7.0); 3]);
        let e = Distribution::default();
        assert_eq!(quantiles(&e, &[0.5]).unwrap(), vec![None]);
    }

    #[test]
    fn spilled_runs_give_the_same_distribution() {
        let mut a = Distribution::default();
        let mut b = Distribution::default();
        let mut spill = None;
        for t in 0..20u64 {
            let mut run: Vec<(u64, f64)> = (0..500)
                .map(|i| {
                    (
                        key(((i * 37 + t * 11) % 301) as f64 * 0.25),
                        0.5 + (i % 3) as f64,
                    )
                })
                .collect();
            compact(&mut run);
            a.push(run.clone());
            b.push(run);
            if t % 3 == 0 {
                // What leaves memory is every pair held, not the merged
                // run's (shorter) length.
                let held = b.in_memory();
                assert_eq!(b.spill(&mut spill).unwrap(), held);
                assert_eq!(b.in_memory(), 0);
            }
        }
        let (mut va, mut vb) = (Vec::new(), Vec::new());
        a.for_each(|x, w| va.push((x, w))).unwrap();
        b.for_each(|x, w| vb.push((x, w))).unwrap();
        assert_eq!(va.len(), 301);
        assert_eq!(va.len(), vb.len());
        for (p, q) in va.iter().zip(&vb) {
            assert_eq!(p.0, q.0);
            assert!((p.1 - q.1).abs() <= 1e-12 * p.1);
        }
        assert!(va.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn many_spills_are_merged_on_disk_into_few_runs() {
        let mut a = Distribution::default();
        let mut b = Distribution::default();
        let mut spill = None;
        for t in 0..(3 * MAX_DISK_RUNS as u64) {
            let mut run: Vec<(u64, f64)> = (0..50)
                .map(|i| (key(((i * 13 + t * 7) % 97) as f64 - 40.0), 0.25 + t as f64))
                .collect();
            compact(&mut run);
            a.push(run.clone());
            b.push(run);
            b.spill(&mut spill).unwrap();
            assert!(b.disk.len() <= MAX_DISK_RUNS, "{}", b.disk.len());
        }
        let (mut va, mut vb) = (Vec::new(), Vec::new());
        a.for_each(|x, w| va.push((x, w))).unwrap();
        b.for_each(|x, w| vb.push((x, w))).unwrap();
        assert_eq!(va.len(), 97);
        for (p, q) in va.iter().zip(&vb) {
            assert_eq!(p.0, q.0);
            assert!((p.1 - q.1).abs() <= 1e-12 * p.1);
        }
    }

    #[test]
    fn q100_is_the_largest_value_exactly() {
        // Weights whose sums round so that sₙ > (n − 1)·Sₙ by one ulp
        // (found by search): interpolating would land below 0.939.
        let xs = [0.346, 0.553, 0.677, 0.761, 0.764, 0.939];
        let ws = [0.5, 1.0, 0.123, 1.0, 0.9, 1.0];
        let pairs: Vec<(f64, f64)> = xs.iter().copied().zip(ws).collect();
        let d = dist(&pairs);
        assert_eq!(quantiles(&d, &[1.0]).unwrap(), vec![Some(0.939)]);
    }

    #[test]
    fn an_overflow_is_no_variance_not_zero() {
        let mut t = TaskMoments::default();
        t.add(-f64::MAX, 1.0, 1.0);
        t.add(f64::MAX, 1.0, 1.0);
        t.add(1.0, 1.0, 1.0);
        assert_eq!(t.finish().variance(), None);
    }

    #[test]
    fn moments_merge_as_one_pass() {
        let vals: Vec<(f64, f64)> = (0..1000)
            .map(|i| (1000.0 + (i as f64 * 0.37).sin(), 1.0 + (i % 7) as f64))
            .collect();
        let mut whole = TaskMoments::default();
        for &(v, w) in &vals {
            whole.add(v, 1.0, w);
        }
        let mut merged = Moments::empty();
        for part in vals.chunks(77) {
            let mut t = TaskMoments::default();
            for &(v, w) in part {
                t.add(v, 1.0, w);
            }
            merged.merge(&t.finish());
        }
        // Reference: two-pass weighted mean and variance.
        let sw: f64 = vals.iter().map(|p| p.1).sum();
        let mean = vals.iter().map(|p| p.0 * p.1).sum::<f64>() / sw;
        let var = vals.iter().map(|p| p.1 * (p.0 - mean).powi(2)).sum::<f64>() / sw;
        let w = whole.finish();
        for m in [&w, &merged] {
            assert!((m.mean - mean).abs() < 1e-12 * mean);
            assert!((m.variance().unwrap() - var).abs() < 1e-9 * var);
        }
    }
}
