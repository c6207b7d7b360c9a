//! Streak scans: the cells of a window as runs of equal values (one
//! date) or equal (before, after) pairs (two dates). Land cover comes in
//! long streaks of one class, so the kernels add one area per streak, not
//! per cell; 8-bit cells are compared eight (one date) or 64 (two dates,
//! as a bit mask) at a time.
//!
//! Invariant: the streaks, expanded, are exactly the cells scanned, in
//! order (property tests below compare with a naive scan).

use super::pixel::ClassPixel;

/// Calls `f(value, length)` for each streak of equal values of `cells`, in
/// order. Land cover comes in long streaks of one class; 8-bit rasters are
/// scanned eight cells per comparison.
#[inline]
pub(crate) fn for_each_streak<T: ClassPixel>(cells: &[T], mut f: impl FnMut(T, u32)) {
    if let Some(bytes) = T::as_bytes(cells) {
        let len = bytes.len();
        let mut i = 0;
        while i < len {
            let v = bytes[i];
            let start = i;
            i += 1;
            let pattern = u64::from_le_bytes([v; 8]);
            while i + 8 <= len {
                let diff = word(bytes, i) ^ pattern;
                if diff != 0 {
                    // The first differing byte is the lowest non-zero one.
                    i += (diff.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            while i < len && bytes[i] == v {
                i += 1;
            }
            f(T::from_dense_index(v as usize), (i - start) as u32);
        }
        return;
    }
    let mut iter = cells.iter();
    let Some(&first) = iter.next() else {
        return;
    };
    let (mut cur, mut n) = (first, 1u32);
    for &v in iter {
        if v == cur {
            n += 1;
        } else {
            f(cur, n);
            (cur, n) = (v, 1);
        }
    }
    f(cur, n);
}

/// The 8 bytes at `bytes[i..i + 8]` as a little-endian word.
#[inline(always)]
fn word(bytes: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[i..i + 8]);
    u64::from_le_bytes(w)
}

/// One bit per byte of `d`: bit j is set when byte j (little-endian) is
/// not zero.
#[inline(always)]
fn nonzero_bytes(d: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each byte: set when the byte is not zero.
    let high = (((d & LOW7) + LOW7) | d) & !LOW7;
    // Gather the eight high bits (bits 7, 15, …, 63) into bits 0..8.
    (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Bit j set when cell `i + j` (j < 8) differs from the cell before it in
/// `x` or in `y`.
#[inline(always)]
fn pair_changes(x: &[u8], y: &[u8], i: usize) -> u64 {
    nonzero_bytes((word(x, i) ^ word(x, i - 1)) | (word(y, i) ^ word(y, i - 1)))
}

/// Like [`for_each_streak`] over pairs of cells of two equal-length slices:
/// `f(a, b, length)` for each streak where both stay the same.
#[inline(always)]
pub(crate) fn for_each_pair_streak<T: ClassPixel>(a: &[T], b: &[T], mut f: impl FnMut(T, T, u32)) {
    if let (Some(x), Some(y)) = (T::as_bytes(a), T::as_bytes(b)) {
        let len = x.len().min(y.len());
        let (x, y) = (&x[..len], &y[..len]);
        let mut start = 0;
        let mut emit = |end: usize| {
            f(
                T::from_dense_index(x[start] as usize),
                T::from_dense_index(y[start] as usize),
                (end - start) as u32,
            );
            start = end;
        };
        // Streak ends are found 64 cells at a time as a bit mask (bit j:
        // cell i + j differs from cell i + j - 1 in either slice), so the
        // only branch that depends on the data is one per streak end
        // taken from the mask, and it is predictable.
        let mut i = 1;
        while i < len {
            let n = (len - i).min(64);
            let mut mask = 0u64;
            if n == 64 {
                for k in 0..8 {
                    mask |= pair_changes(x, y, i + 8 * k) << (8 * k);
                }
            } else {
                let words = n / 8;
                for k in 0..words {
                    mask |= pair_changes(x, y, i + 8 * k) << (8 * k);
                }
                for j in i + 8 * words..i + n {
                    let d = (x[j] ^ x[j - 1]) | (y[j] ^ y[j - 1]);
                    mask |= ((d != 0) as u64) << (j - i);
                }
            }
            while mask != 0 {
                emit(i + mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
            i += n;
        }
        if len > 0 {
            emit(len);
        }
        return;
    }
    let mut it = a.iter().zip(b);
    let Some((&a0, &b0)) = it.next() else {
        return;
    };
    let (mut cur, mut n) = ((a0, b0), 1u32);
    for (&va, &vb) in it {
        if (va, vb) == cur {
            n += 1;
        } else {
            f(cur.0, cur.1, n);
            (cur, n) = ((va, vb), 1);
        }
    }
    f(cur.0, cur.1, n);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive<T: Copy + PartialEq>(cells: &[T]) -> Vec<(T, u32)> {
        let mut out: Vec<(T, u32)> = Vec::new();
        for &v in cells {
            match out.last_mut() {
                Some((w, n)) if *w == v => *n += 1,
                _ => out.push((v, 1)),
            }
        }
        out
    }

    /// Cells as streaks: (value, length) pairs expanded.
    fn expand<T: Copy>(streaks: &[(T, usize)]) -> Vec<T> {
        streaks
            .iter()
            .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
            .collect()
    }

    proptest! {
        #[test]
        fn streaks_match_a_naive_scan(streaks in proptest::collection::vec((0u8..4, 1usize..40), 0..60)) {
            let bytes: Vec<u8> = expand(&streaks);
            let mut got = Vec::new();
            for_each_streak(&bytes, |v, n| got.push((v, n)));
            prop_assert_eq!(&got, &naive(&bytes));
            // The same through the generic path (16-bit cells).
            let wide: Vec<u16> = bytes.iter().map(|&b| b as u16 * 300).collect();
            let mut got16 = Vec::new();
            for_each_streak(&wide, |v, n| got16.push((v, n)));
            prop_assert_eq!(got16, naive(&wide));
        }

        #[test]
        fn pair_streaks_match_a_naive_scan(
            // Byte values whose differences set high, low and all bits;
            // streaks short and longer than the 64-cell masks.
            a in proptest::collection::vec((proptest::sample::select(vec![0u8, 1, 0x7f, 0x80, 0xfe, 0xff]), 1usize..90), 1..40),
            b in proptest::collection::vec((0u8..3, 1usize..30), 1..40),
        ) {
            let (x, y) = (expand(&a), expand(&b));
            let len = x.len().min(y.len());
            let (x, y) = (&x[..len], &y[..len]);
            let pairs: Vec<(u8, u8)> = x.iter().copied().zip(y.iter().copied()).collect();
            let mut got = Vec::new();
            for_each_pair_streak(x, y, |p, q, n| got.push(((p, q), n)));
            prop_assert_eq!(got, naive(&pairs));
        }
    }
}
