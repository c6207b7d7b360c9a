//! Deterministic hashing, value noise and a few math helpers.
//!
//! Everything here uses only IEEE-754 basic operations (`+ - * /`, `sqrt`,
//! `floor`), which are correctly rounded on every platform, so the same inputs
//! give the same bits everywhere. Library transcendental functions (`sin`,
//! `exp`, `atan`, …) may differ in the last bit between C libraries and are
//! therefore avoided on any path whose result is written to a fixture; the
//! polynomial [`sin_cos`] replaces them.

use std::ops::{Add, Mul, Neg, Sub};

/// The splitmix64 finaliser: a fast, well-mixing 64-bit permutation.
#[inline(always)]
pub(crate) const fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Maps a hash to a float in [0, 1).
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A small sequential generator (splitmix64 stream) for geometry building.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(splitmix64(seed ^ 0x5151_5151_5151_5151))
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix64(self.0)
    }
    /// Uniform in [0, 1).
    pub(crate) fn f64(&mut self) -> f64 {
        unit(self.next_u64())
    }
    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
    /// Uniform integer in [0, n).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.f64() * n as f64) as usize % n.max(1)
    }
}

/// A value with its gradient (forward-mode automatic differentiation in 2D).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct D {
    pub v: f64,
    pub dx: f64,
    pub dy: f64,
}

impl D {
    pub(crate) const fn c(v: f64) -> D {
        D {
            v,
            dx: 0.0,
            dy: 0.0,
        }
    }
    pub(crate) fn scale(self, k: f64) -> D {
        D {
            v: self.v * k,
            dx: self.dx * k,
            dy: self.dy * k,
        }
    }
    pub(crate) fn abs(self) -> D {
        if self.v < 0.0 { -self } else { self }
    }
    /// Hermite smoothstep of `self` between `e0` and `e1`, clamped.
    pub(crate) fn smoothstep(self, e0: f64, e1: f64) -> D {
        let t = (self.v - e0) / (e1 - e0);
        if t <= 0.0 {
            return D::c(0.0);
        }
        if t >= 1.0 {
            return D::c(1.0);
        }
        let dt = 1.0 / (e1 - e0);
        let v = t * t * (3.0 - 2.0 * t);
        let d = 6.0 * t * (1.0 - t) * dt;
        D {
            v,
            dx: d * self.dx,
            dy: d * self.dy,
        }
    }
    /// Gradient magnitude.
    pub(crate) fn grad_norm(self) -> f64 {
        (self.dx * self.dx + self.dy * self.dy).sqrt()
    }
}

impl Add for D {
    type Output = D;
    fn add(self, o: D) -> D {
        D {
            v: self.v + o.v,
            dx: self.dx + o.dx,
            dy: self.dy + o.dy,
        }
    }
}
impl Sub for D {
    type Output = D;
    fn sub(self, o: D) -> D {
        D {
            v: self.v - o.v,
            dx: self.dx - o.dx,
            dy: self.dy - o.dy,
        }
    }
}
impl Mul for D {
    type Output = D;
    fn mul(self, o: D) -> D {
        D {
            v: self.v * o.v,
            dx: self.dx * o.v + self.v * o.dx,
            dy: self.dy * o.v + self.v * o.dy,
        }
    }
}
impl Neg for D {
    type Output = D;
    fn neg(self) -> D {
        D {
            v: -self.v,
            dx: -self.dx,
            dy: -self.dy,
        }
    }
}

/// Floor as an integer, inline (|x| < 2^53).
#[inline(always)]
fn ifloor(x: f64) -> i64 {
    let i = x as i64;
    if (i as f64) > x { i - 1 } else { i }
}

/// Lattice value in [-1, 1] from pre-multiplied coordinates (cheap mix:
/// the noise only needs a decorrelated value per lattice point).
#[inline(always)]
fn lattice_mix(seed: u64, ik: u64, jk: u64) -> f64 {
    let mut h = seed ^ ik ^ jk;
    h = (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h = (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^= h >> 32;
    unit(h) * 2.0 - 1.0
}

const KI: u64 = 0x9E37_79B9_7F4A_7C15;
const KJ: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// 2D value noise in [-1, 1] with quintic interpolation, and its gradient
/// with respect to (x, y) in lattice units.
#[inline(always)]
pub(crate) fn value2(seed: u64, x: f64, y: f64) -> D {
    let (i, j) = (ifloor(x), ifloor(y));
    let (u, v) = (x - i as f64, y - j as f64);
    let seed = splitmix64(seed);
    let (i0, i1) = (
        (i as u64).wrapping_mul(KI),
        (i as u64).wrapping_add(1).wrapping_mul(KI),
    );
    let (j0, j1) = (
        (j as u64).wrapping_mul(KJ),
        (j as u64).wrapping_add(1).wrapping_mul(KJ),
    );
    let a = lattice_mix(seed, i0, j0);
    let b = lattice_mix(seed, i1, j0);
    let c = lattice_mix(seed, i0, j1);
    let d = lattice_mix(seed, i1, j1);
    let su = u * u * u * (u * (u * 6.0 - 15.0) + 10.0);
    let sv = v * v * v * (v * (v * 6.0 - 15.0) + 10.0);
    let dsu = 30.0 * u * u * (u * (u - 2.0) + 1.0);
    let dsv = 30.0 * v * v * (v * (v - 2.0) + 1.0);
    let k = a - b - c + d;
    D {
        v: a + (b - a) * su + (c - a) * sv + k * su * sv,
        dx: dsu * ((b - a) + k * sv),
        dy: dsv * ((c - a) + k * su),
    }
}

/// 1D value noise in [-1, 1] and its derivative.
pub(crate) fn value1(seed: u64, x: f64) -> (f64, f64) {
    let i = ifloor(x);
    let u = x - i as f64;
    let seed = splitmix64(seed);
    let j = 0x3131u64.wrapping_mul(KJ);
    let a = lattice_mix(seed, (i as u64).wrapping_mul(KI), j);
    let b = lattice_mix(seed, (i as u64).wrapping_add(1).wrapping_mul(KI), j);
    let su = u * u * u * (u * (u * 6.0 - 15.0) + 10.0);
    let dsu = 30.0 * u * u * (u * (u - 2.0) + 1.0);
    (a + (b - a) * su, (b - a) * dsu)
}

/// Rotation applied between octaves (a 3-4-5 triangle: exact-ish and cheap).
const ROT: (f64, f64) = (0.8, 0.6);

/// Fractal sum of `octaves` value-noise octaves at coordinates in metres.
///
/// `wavelength` is the first octave's feature size in metres. The result is
/// normalised to about [-1, 1]; the gradient is per metre.
#[inline(always)]
pub(crate) fn fbm(seed: u64, x: f64, y: f64, wavelength: f64, octaves: u32, gain: f64) -> D {
    let mut sum = D::c(0.0);
    let mut amp = 1.0;
    let mut norm = 0.0;
    let mut f = 1.0 / wavelength;
    // The rotation matrix accumulated so far: (c, s) with x' = c x - s y, y' = s x + c y.
    let (mut c, mut s) = (1.0, 0.0);
    for o in 0..octaves {
        let xr = (c * x - s * y) * f;
        let yr = (s * x + c * y) * f;
        let n = value2(seed.wrapping_add(o as u64 * 0x1000_0001), xr, yr);
        // Chain rule: d/dx = f (c n_x + s n_y), d/dy = f (-s n_x + c n_y).
        sum = sum
            + D {
                v: n.v,
                dx: f * (c * n.dx + s * n.dy),
                dy: f * (-s * n.dx + c * n.dy),
            }
            .scale(amp);
        norm += amp;
        amp *= gain;
        f *= 2.03;
        let (c2, s2) = (c * ROT.0 - s * ROT.1, s * ROT.0 + c * ROT.1);
        c = c2;
        s = s2;
    }
    sum.scale(1.0 / norm)
}

/// Deterministic sine and cosine (range reduction + Taylor series).
///
/// Accurate to ~1e-15; used instead of the C library for geometry so that
/// written coordinates do not depend on the platform's libm.
pub(crate) fn sin_cos(a: f64) -> (f64, f64) {
    const FRAC_PI_2: f64 = std::f64::consts::FRAC_PI_2;
    // Reduce to [-pi/4, pi/4] plus a quadrant.
    let q = (a / FRAC_PI_2 + 0.5).floor();
    let r = a - q * FRAC_PI_2;
    let quadrant = (q - 4.0 * (q / 4.0).floor()) as i64;
    let r2 = r * r;
    // Horner forms of the Taylor series to degree 21 / 20.
    let mut term_s = 1.0;
    let mut term_c = 1.0;
    for k in (1..=10).rev() {
        let ks = (2 * k) as f64 * (2 * k + 1) as f64;
        let kc = (2 * k - 1) as f64 * (2 * k) as f64;
        term_s = 1.0 - r2 / ks * term_s;
        term_c = 1.0 - r2 / kc * term_c;
    }
    let (s, c) = (r * term_s, term_c);
    match quadrant {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_cos_matches_std() {
        for i in -2000..2000 {
            let a = i as f64 * 0.0123;
            let (s, c) = sin_cos(a);
            assert!((s - a.sin()).abs() < 1e-14, "sin {a}");
            assert!((c - a.cos()).abs() < 1e-14, "cos {a}");
        }
    }

    #[test]
    fn value_noise_gradient_matches_finite_differences() {
        let h = 1e-6;
        for i in 0..50 {
            let x = i as f64 * 0.731 - 7.3;
            let y = i as f64 * 0.413 + 2.1;
            let n = value2(7, x, y);
            let nx = (value2(7, x + h, y).v - value2(7, x - h, y).v) / (2.0 * h);
            let ny = (value2(7, x, y + h).v - value2(7, x, y - h).v) / (2.0 * h);
            assert!((n.dx - nx).abs() < 1e-5);
            assert!((n.dy - ny).abs() < 1e-5);
            let f = fbm(3, x * 1000.0, y * 1000.0, 900.0, 4, 0.5);
            let fx = (fbm(3, x * 1000.0 + 1e-3, y * 1000.0, 900.0, 4, 0.5).v
                - fbm(3, x * 1000.0 - 1e-3, y * 1000.0, 900.0, 4, 0.5).v)
                / 2e-3;
            assert!((f.dx - fx).abs() < 1e-6, "{} {}", f.dx, fx);
        }
    }

    #[test]
    fn noise_is_in_range() {
        for i in 0..1000 {
            let n = value2(1, i as f64 * 0.37, i as f64 * 0.91);
            assert!((-1.0..=1.0).contains(&n.v));
        }
    }
}
