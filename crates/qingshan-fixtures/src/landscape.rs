//! The synthetic landscape: land cover as a pure function of the projected
//! coordinate (EPSG:4545 metres) and the year.
//!
//! A smooth elevation is built from value noise (ridged noise for the
//! Ziwuling mountains of Jinsuoguan in the west and north, a dissected loess
//! plateau for Azhuang in the east), carved by a river valley. Classes follow
//! from elevation, slope, aspect and vegetation noise, then hand-placed
//! features (reservoir, river, towns, road, villages, mines) are painted over,
//! and for 2024 the deliberate changes are applied. Every quantity has an
//! analytic gradient (see [`crate::noise::D`]), so slope needs no neighbours
//! and any grid — projected or geographic — samples the same landscape.

use crate::noise::{D, fbm, value1};

/// Centre of the demo region (EPSG:4545 metres); the layout is authored in
/// kilometres relative to it.
pub(crate) const CENTRE: (f64, f64) = (594_000.0, 3_899_000.0);

/// The demo region (EPSG:4545): x from, x to, y from, y to.
pub(crate) const REGION: (f64, f64, f64, f64) = (582_000.0, 606_000.0, 3_890_000.0, 3_908_000.0);

const KM: f64 = 1000.0;

// tan() of slope thresholds, as literals (no libm on the hot path).
const TAN_5: f64 = 0.087_488_663_525_924;
const TAN_8: f64 = 0.140_540_834_702_391_4;
const TAN_15: f64 = 0.267_949_192_431_122_7;
const TAN_25: f64 = 0.466_307_658_154_998_6;
const TAN_35: f64 = 0.700_207_538_209_709_9;

// Seeds of the independent noise fields.
const S_REGIME: u64 = 0x0051_A9E1;
const S_RIDGE: u64 = 0x0052_1D6E;
const S_DETAIL: u64 = 0x00DE_7A11;
const S_PLATEAU: u64 = 0x0091_A7EA;
const S_GULLY: u64 = 0x0006_0771;
const S_VEG: u64 = 0x0000_0FE6;
const S_FARM: u64 = 0x000F_A12A;
const S_RIVER: u64 = 0x0021_7E12;
const S_ROAD: u64 = 0x0000_12AD;
const S_EDGE: u64 = 0x000E_D6E5;
const S_CHANGE: u64 = 0x00C4_A26E;

/// A feature with a noisy, roughly circular or elliptic outline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blob {
    /// Centre, km relative to [`CENTRE`].
    pub c: (f64, f64),
    /// Semi-axes, km.
    pub r: (f64, f64),
    /// Rotation of the first axis, as (cos, sin).
    pub rot: (f64, f64),
    /// Edge roughness (fraction of the radius).
    pub rough: f64,
    /// Noise seed.
    pub seed: u64,
}

impl Blob {
    const fn circle(c: (f64, f64), r: f64, seed: u64) -> Blob {
        Blob {
            c,
            r: (r, r),
            rot: (1.0, 0.0),
            rough: 0.25,
            seed,
        }
    }

    /// Whether the point (metres, relative to the centre) lies inside.
    #[inline]
    pub(crate) fn contains(&self, p: (f64, f64)) -> bool {
        let dx = p.0 - self.c.0 * KM;
        let dy = p.1 - self.c.1 * KM;
        let a = dx * self.rot.0 + dy * self.rot.1;
        let b = -dx * self.rot.1 + dy * self.rot.0;
        let (ra, rb) = (self.r.0 * KM, self.r.1 * KM);
        let q = (a * a) / (ra * ra) + (b * b) / (rb * rb);
        let lim = 1.0 + 1.5 * self.rough;
        if q > lim * lim {
            return false;
        }
        let n = fbm(S_EDGE ^ self.seed, p.0, p.1, ra.min(rb) * 0.7, 3, 0.5).v;
        q.sqrt() + self.rough * n * 2.0 < 1.0
    }
}

/// Everything placed by hand, in km relative to [`CENTRE`].
pub(crate) mod layout {
    use super::Blob;

    /// The regime line (town border axis): passes through these points;
    /// Jinsuoguan (mountains) lies to its west/north.
    pub const REGIME_A: (f64, f64) = (5.0, 8.0);
    /// Second point of the regime line.
    pub const REGIME_B: (f64, f64) = (-1.0, -8.0);

    /// The river's mean course: v = RIVER_V0 + RIVER_SLOPE * u + meander.
    pub const RIVER_V0: f64 = 1.6;
    /// Slope of the river's course (km/km).
    pub const RIVER_SLOPE: f64 = -0.28;
    /// Meander amplitude (km) and wavelength (km).
    pub const RIVER_MEANDER: (f64, f64) = (0.9, 3.2);

    /// The main road's course: u = ROAD_U0 + ROAD_SLOPE * v + meander.
    pub const ROAD_U0: f64 = 2.2;
    /// Slope of the road's course.
    pub const ROAD_SLOPE: f64 = 0.12;

    /// Reservoir, on the river in Jinsuoguan (centre u; v follows the river).
    pub const RESERVOIR_U: f64 = -5.2;

    /// Town seats.
    pub const JSG_SEAT: Blob = Blob::circle((2.75, 4.6), 0.42, 11);
    /// Azhuang's town seat.
    pub const AZ_SEAT: Blob = Blob::circle((5.6, -3.1), 0.55, 12);
    /// Azhuang branch road: from the main road at this v to the seat.
    pub const AZ_BRANCH_V: f64 = -3.4;

    /// Villages.
    pub const VILLAGES: [Blob; 10] = [
        Blob::circle((-8.6, 5.0), 0.14, 21),
        Blob::circle((-2.5, 1.0), 0.12, 22),
        Blob::circle((-6.8, -4.6), 0.13, 23),
        Blob::circle((7.6, 0.4), 0.16, 24),
        Blob::circle((9.3, -3.4), 0.15, 25),
        Blob::circle((4.2, -6.0), 0.14, 26),
        Blob::circle((8.1, 6.4), 0.13, 27),
        Blob::circle((3.4, 0.2), 0.12, 28),
        Blob::circle((10.0, 2.4), 0.12, 29),
        Blob::circle((6.4, -6.9), 0.13, 30),
    ];

    /// Red-line cores, centre and radius (km): HX-JSG-01 (with a village hole).
    pub const JSG01: ((f64, f64), f64) = ((-8.3, 5.0), 1.55);
    /// HX-JSG-03 is centred on the reservoir, shifted east by this (km).
    pub const JSG03_DU: f64 = 0.2;
    /// HX-JSG-04 (removed in 2024).
    pub const JSG04: ((f64, f64), f64) = ((-1.2, 5.2), 0.95);
    /// HX-AZ-01.
    pub const AZ01: ((f64, f64), f64) = ((8.6, 4.6), 1.15);
    /// HX-AZ-02 (enlarged in 2024).
    pub const AZ02: ((f64, f64), f64) = ((8.0, -5.3), 1.0);
    /// HX-AZ-03 (next to Azhuang's seat; grassland and shrub).
    pub const AZ03: ((f64, f64), f64) = ((6.6, -1.6), 0.8);
    /// HX-AZ-04 (new in 2024).
    pub const AZ04: ((f64, f64), f64) = ((3.9, -6.2), 0.72);
    /// Where nature was kept (red lines were drawn there): centre, radius
    /// (km), and how much woodier (positive) or grassier (negative) it is.
    pub const PROTECTED: [((f64, f64), f64, f64); 6] = [
        (JSG01.0, JSG01.1, 0.16),
        (JSG02.0, JSG02.1, 0.18),
        (JSG04.0, JSG04.1, 0.12),
        (AZ01.0, AZ01.1, 0.18),
        (AZ02.0, AZ02.1, 0.16),
        (AZ03.0, AZ03.1, -0.3),
    ];

    /// HX-JSG-02's straight east edge in 2019 (km); 2024 keeps u <= this - 0.2.
    pub const JSG02_EAST_U: f64 = -3.6;
    /// HX-JSG-02's centre and radius (km).
    pub const JSG02: ((f64, f64), f64) = ((-5.0, -2.2), 1.6);

    /// Active quarry in Jinsuoguan, east of HX-JSG-02.
    pub const MINE_A: Blob = Blob {
        c: (-3.0, -2.3),
        r: (0.33, 0.42),
        rot: (1.0, 0.0),
        rough: 0.18,
        seed: 41,
    };
    /// Its 2024 extent: over forest, shrub and grassland west across the strip
    /// HX-JSG-02 loses and a few hundred metres into the 2024 polygon.
    pub const MINE_A_2024: Blob = Blob {
        c: (-3.5, -2.3),
        r: (0.62, 0.36),
        rot: (1.0, 0.0),
        rough: 0.10,
        seed: 42,
    };
    /// Old coal mine in Azhuang, restored by 2024.
    pub const MINE_B: Blob = Blob::circle((7.2, 2.6), 0.32, 43);
    /// Stable quarry in Jinsuoguan (unchanged).
    pub const MINE_C: Blob = Blob::circle((-8.6, -5.4), 0.24, 44);

    /// Built-up expansion of Azhuang's seat towards the north-east.
    pub const AZ_EXPANSION: Blob = Blob {
        c: (6.25, -2.45),
        r: (0.75, 0.42),
        rot: (
            std::f64::consts::FRAC_1_SQRT_2,
            std::f64::consts::FRAC_1_SQRT_2,
        ),
        rough: 0.12,
        seed: 45,
    };

    /// Returning farmland to forest (2024): steep cropland in these patches.
    pub const GRAIN_FOR_GREEN: [Blob; 7] = [
        Blob::circle((-9.0, 1.0), 1.0, 51),
        Blob::circle((-3.2, 5.6), 0.9, 52),
        Blob::circle((-1.0, -5.6), 0.8, 53),
        Blob::circle((8.2, -6.3), 0.7, 54),
        Blob::circle((3.6, -4.6), 0.9, 55),
        Blob::circle((9.2, 4.4), 0.9, 56),
        Blob::circle((5.6, 1.4), 0.9, 57),
    ];

    /// Cloud gaps (nodata) in 2019.
    pub const CLOUDS_2019: [Blob; 4] = [
        Blob::circle((-9.0, -6.0), 0.38, 61),
        Blob::circle((-1.5, 6.8), 0.45, 62),
        Blob::circle((9.4, -0.8), 0.32, 63),
        Blob::circle((3.2, -7.2), 0.28, 64),
    ];
    /// Cloud gaps (nodata) in 2024.
    pub const CLOUDS_2024: [Blob; 4] = [
        Blob::circle((-7.0, 7.0), 0.42, 71),
        Blob::circle((0.0, -2.8), 0.36, 72),
        Blob::circle((9.4, 5.3), 0.34, 73),
        Blob::circle((6.8, -7.4), 0.30, 74),
    ];
}

/// Terrain quantities at one point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Terrain {
    /// Elevation (m) with its gradient (m/m).
    pub elev: D,
    /// Mountain-ness in [0, 1] (1 = Ziwuling mountains, 0 = loess plateau).
    pub m: f64,
    /// Ridge-ness in [0, 1] (1 on mountain crests).
    pub ridge: f64,
    /// Mountain valley-ness in [0, 1] (1 at a mountain valley bottom).
    pub mvalley: f64,
    /// Gully-ness in [0, 1] (1 at a loess gully bottom).
    pub gully: f64,
    /// Valley floor indicator in [0, 1] (1 on the river's flood plain).
    pub valley: f64,
    /// Distance to the river's centre line (m).
    pub river_dist: f64,
}

/// The river's centre line v(u) in metres and its derivative.
fn river_course(xm: f64) -> (f64, f64) {
    let (amp, wl) = layout::RIVER_MEANDER;
    let (n, dn) = value1(S_RIVER, xm / (wl * KM));
    (
        layout::RIVER_V0 * KM + layout::RIVER_SLOPE * xm + amp * KM * n,
        layout::RIVER_SLOPE + amp * dn / wl,
    )
}

/// The river's centre line: v (km) at u (km), relative to [`CENTRE`].
pub(crate) fn river_v(u: f64) -> f64 {
    river_course(u * KM).0 / KM
}

/// The road's centre line u(v) in metres and its derivative.
fn road_course(ym: f64) -> (f64, f64) {
    let (n, dn) = value1(S_ROAD, ym / 2500.0);
    (
        layout::ROAD_U0 * KM + layout::ROAD_SLOPE * ym + 500.0 * n,
        layout::ROAD_SLOPE + 500.0 * dn / 2500.0,
    )
}

/// Distance from p to segment ab (metres).
fn seg_dist(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    let (ex, ey) = (p.0 - a.0 - t * dx, p.1 - a.1 - t * dy);
    (ex * ex + ey * ey).sqrt()
}

/// The noise that bends the mountain/loess transition away from the
/// straight regime line (metres, with gradient).
pub(crate) fn regime_warp(x: f64, y: f64) -> D {
    fbm(S_REGIME, x, y, 6000.0, 3, 0.5).scale(2600.0)
}

/// Elevation and friends at p (metres relative to [`CENTRE`]).
pub(crate) fn terrain(p: (f64, f64)) -> Terrain {
    let (x, y) = p;
    let one = D::c(1.0);
    // Regime: signed distance to the regime line, warped by noise.
    let (ax, ay) = (layout::REGIME_A.0 * KM, layout::REGIME_A.1 * KM);
    let (bx, by) = (layout::REGIME_B.0 * KM, layout::REGIME_B.1 * KM);
    let (dx, dy) = (bx - ax, by - ay);
    let len = (dx * dx + dy * dy).sqrt();
    // Normal pointing west/north (towards Jinsuoguan).
    let (nx, ny) = (dy / len, -dx / len);
    let lin = D {
        v: (x - ax) * nx + (y - ay) * ny,
        dx: nx,
        dy: ny,
    };
    let warp = regime_warp(x, y);
    let m = (lin + warp).smoothstep(-3000.0, 3000.0);

    let detail = fbm(S_DETAIL, x, y, 800.0, 2, 0.5);

    // Mountains: broad massifs, ridged crests and a valley network.
    let (e_m, ridge, mvalley) = if m.v > 0.0 {
        let broad = fbm(S_PLATEAU ^ 0xAB, x, y, 7000.0, 2, 0.5);
        let rn = fbm(S_RIDGE, x, y, 3000.0, 3, 0.5);
        let ridge = (one - rn.abs().scale(2.2)).smoothstep(0.0, 1.0);
        let vn = fbm(S_RIDGE ^ 0x77, x, y, 2400.0, 3, 0.5);
        let mvalley = one - vn.abs().smoothstep(0.0, 0.28);
        let e = D::c(1400.0) + broad.scale(160.0) + ridge.scale(190.0)
            - (mvalley * mvalley).scale(230.0)
            + detail.scale(25.0);
        (e, ridge.v, mvalley.v)
    } else {
        (D::c(0.0), 0.0, 0.0)
    };

    // Loess plateau: gentle surface cut by gullies and their tributaries.
    let (e_l, gully) = if m.v < 1.0 {
        let plat = fbm(S_PLATEAU, x, y, 6000.0, 2, 0.5);
        let gn = fbm(S_GULLY, x, y, 2200.0, 3, 0.5);
        let g1 = one - gn.abs().smoothstep(0.0, 0.3);
        let tn = fbm(S_GULLY ^ 0x55, x, y, 900.0, 2, 0.5);
        let g2 = one - tn.abs().smoothstep(0.0, 0.16);
        let e = D::c(1170.0) + plat.scale(60.0) - (g1 * g1).scale(160.0) - (g2 * g2).scale(55.0)
            + detail.scale(10.0);
        (e, g1.v.max(g2.v * 0.7))
    } else {
        (D::c(0.0), 0.0)
    };

    let mut elev = m * e_m + (one - m) * e_l;

    // River valley, its width varying along the course.
    let (vr, dvr) = river_course(x);
    let off = y - vr;
    let norm = (1.0 + dvr * dvr).sqrt();
    let river_dist = off.abs() / norm;
    let rd = D {
        v: off / norm,
        dx: -dvr / norm,
        dy: 1.0 / norm,
    }
    .abs();
    let wn = fbm(S_RIVER ^ 0x99, x, y, 2500.0, 2, 0.5);
    let width = D::c(750.0) + wn.scale(350.0);
    let rdn = D {
        v: rd.v / width.v,
        dx: (rd.dx * width.v - rd.v * width.dx) / (width.v * width.v),
        dy: (rd.dy * width.v - rd.v * width.dy) / (width.v * width.v),
    };
    let valley = one - rdn.smoothstep(0.18, 1.0);
    // Carve towards a floor that falls gently downstream.
    let floor = D {
        v: 1040.0 - 0.006 * x,
        dx: -0.006,
        dy: 0.0,
    };
    let depth = (elev - floor) * valley;
    elev = elev - depth.scale(0.9);

    Terrain {
        elev,
        m: m.v,
        ridge,
        mvalley,
        gully,
        valley: valley.v,
        river_dist,
    }
}

/// How strongly nature was kept around p: (woodiness bonus, farm-free share).
fn protection(p: (f64, f64)) -> (f64, f64) {
    let mut wood = 0.0;
    let mut nofarm: f64 = 0.0;
    for &(c, r, w) in &layout::PROTECTED {
        let (dx, dy) = (p.0 - c.0 * KM, p.1 - c.1 * KM);
        let d2 = dx * dx + dy * dy;
        let r = r * KM;
        if d2 < 2.25 * r * r {
            let wobble = fbm(S_EDGE ^ 0x9807, p.0, p.1, 900.0, 2, 0.5).v * 0.35;
            let bump = 1.0 - D::c(d2.sqrt() / r + wobble).smoothstep(0.6, 1.25).v;
            wood += w * bump;
            nofarm = nofarm.max(bump);
        }
    }
    (wood, nofarm)
}

/// Land cover of 2019 from terrain alone (before features).
fn natural_class(p: (f64, f64), t: &Terrain) -> u8 {
    let (x, y) = p;
    let g = t.elev.grad_norm();
    // South-facing (downhill towards the south) slopes are drier.
    let south = if g > 1e-9 { t.elev.dy / g } else { 0.0 };
    let steep = D::c(g).smoothstep(TAN_8, TAN_35).v;
    let flat = 1.0 - D::c(g).smoothstep(TAN_5, TAN_25).v;
    let veg = fbm(S_VEG, x, y, 700.0, 3, 0.55).v;
    let farm_n = fbm(S_FARM, x, y, 1100.0, 2, 0.5).v;
    let m = t.m;
    let (prot_wood, prot_nofarm) = protection(p);

    // Farming suitability: valley floors and gentle plateau tops.
    let farm_m =
        flat * (0.2 + 0.9 * t.valley.max(t.mvalley)) * (1.0 - 0.8 * t.ridge) + 0.4 * farm_n;
    let farm_l = flat * (1.0 - 0.9 * t.gully) * 0.9 + 0.45 * farm_n + 0.15 * t.valley;
    let farm = (m * farm_m + (1.0 - m) * farm_l) * (1.0 - 0.6 * prot_nofarm);

    // Woodiness: ridges and north-facing slopes in the mountains, steep gully
    // walls in the loess.
    let wood_m = 0.49 + 0.4 * (t.ridge - 0.5) + 0.6 * veg - 0.15 * south + 0.15 * steep
        - 0.3 * t.valley
        - 0.15 * t.mvalley;
    let wood_l = 0.44 + 0.7 * veg + 0.3 * steep - 0.15 * south - 0.1 * t.valley;
    let wood = m * wood_m + (1.0 - m) * wood_l + prot_wood;

    // Sloping fields (15–25°) where farming pressure is high: the cropland
    // that "returning farmland to forest" targets.
    let sloping = farm_n > 0.2 + 0.2 * m && g < TAN_25 && veg < 0.1;

    if (farm > 0.5 && farm > wood) || (sloping && prot_nofarm < 0.3) {
        1
    } else if wood > 0.5 {
        2
    } else if wood > 0.38 {
        3
    } else {
        4
    }
}

/// Land cover of the 2019 landscape at p (metres relative to [`CENTRE`]),
/// without the cloud gaps.
fn class_2019(p: (f64, f64), t: &Terrain) -> u8 {
    let (x, y) = p;
    // Water and wetland.
    let (vr, _) = river_course(layout::RESERVOIR_U * KM);
    let reservoir = Blob {
        c: (layout::RESERVOIR_U, vr / KM),
        r: (0.95, 0.38),
        rot: (0.96, -0.28),
        rough: 0.15,
        seed: 31,
    };
    if reservoir.contains(p) {
        return 5;
    }
    let fringe = Blob {
        r: (1.12, 0.5),
        ..reservoir
    };
    if fringe.contains(p) {
        return 9;
    }
    if t.river_dist < 24.0 {
        return 5;
    }
    // A wet flood plain in the Azhuang valley.
    let marsh = Blob {
        c: (7.8, river_course(7.8 * KM).0 / KM),
        r: (0.5, 0.16),
        rot: (0.96, -0.28),
        rough: 0.3,
        seed: 32,
    };
    if t.river_dist < 220.0 && marsh.contains(p) {
        return 9;
    }
    // Roads.
    let (ur, dur) = road_course(y);
    if (x - ur).abs() / (1.0 + dur * dur).sqrt() < 20.0 {
        return 8;
    }
    let seat = layout::AZ_SEAT.c;
    let branch_from = (
        road_course(layout::AZ_BRANCH_V * KM).0,
        layout::AZ_BRANCH_V * KM,
    );
    if seg_dist(p, branch_from, (seat.0 * KM, seat.1 * KM)) < 18.0 {
        return 8;
    }
    // Settlements.
    if layout::JSG_SEAT.contains(p) || layout::AZ_SEAT.contains(p) {
        return 8;
    }
    if layout::VILLAGES.iter().any(|b| b.contains(p)) {
        return 8;
    }
    // Mines.
    if layout::MINE_A.contains(p) || layout::MINE_B.contains(p) || layout::MINE_C.contains(p) {
        return 7;
    }
    natural_class(p, t)
}

/// Applies the deliberate 2019 → 2024 changes.
fn class_2024(p: (f64, f64), t: &Terrain, c19: u8) -> u8 {
    // Mine A expands over forest, shrub and grassland.
    if matches!(c19, 2..=4) && layout::MINE_A_2024.contains(p) {
        return 7;
    }
    // Azhuang's seat grows over cropland and grassland.
    if matches!(c19, 1 | 4) && layout::AZ_EXPANSION.contains(p) {
        return 8;
    }
    // The old mine B is restored: grassland, partly planted forest.
    if c19 == 7 && layout::MINE_B.contains(p) {
        let n = fbm(S_CHANGE, p.0, p.1, 250.0, 2, 0.5).v;
        return if n > 0.1 { 2 } else { 4 };
    }
    // Returning steep farmland to forest.
    if c19 == 1
        && t.elev.grad_norm() >= TAN_15
        && layout::GRAIN_FOR_GREEN.iter().any(|b| b.contains(p))
    {
        return 2;
    }
    // A little scattered change (succession and degradation).
    let n = fbm(S_CHANGE ^ 0xFF, p.0, p.1, 160.0, 2, 0.5).v;
    if n > 0.63 {
        return match c19 {
            4 => 3,
            3 => 2,
            1 => 4,
            other => other,
        };
    }
    if n < -0.8 && c19 == 2 {
        return 3;
    }
    c19
}

fn clouds(year: u16) -> &'static [Blob] {
    if year >= 2024 {
        &layout::CLOUDS_2024
    } else {
        &layout::CLOUDS_2019
    }
}

/// Land-cover class at local coordinates (metres relative to [`CENTRE`]).
pub(crate) fn class_local(p: (f64, f64), year: u16) -> u8 {
    if clouds(year).iter().any(|b| b.contains(p)) {
        return 0;
    }
    let t = terrain(p);
    let c19 = class_2019(p, &t);
    if year >= 2024 {
        class_2024(p, &t, c19)
    } else {
        c19
    }
}

/// The classes of several years at once (the terrain is computed once);
/// `out[k]` receives the class of `years[k]`, equal to `class_local(p, years[k])`.
pub(crate) fn classes_local(p: (f64, f64), years: &[u16], out: &mut [u8]) {
    let mut pending = false;
    for (k, &y) in years.iter().enumerate() {
        if clouds(y).iter().any(|b| b.contains(p)) {
            out[k] = 0;
        } else {
            out[k] = u8::MAX;
            pending = true;
        }
    }
    if !pending {
        return;
    }
    let t = terrain(p);
    let c19 = class_2019(p, &t);
    let mut c24 = None;
    for (k, &y) in years.iter().enumerate() {
        if out[k] == u8::MAX {
            out[k] = if y >= 2024 {
                *c24.get_or_insert_with(|| class_2024(p, &t, c19))
            } else {
                c19
            };
        }
    }
}

/// The land cover of 2019 and of 2024 at p (metres relative to [`CENTRE`])
/// without the cloud gaps: the ground a field survey sees (the land-survey
/// layers are drawn from it).
pub(crate) fn classes_cloudless(p: (f64, f64)) -> (u8, u8) {
    let t = terrain(p);
    let c19 = class_2019(p, &t);
    (c19, class_2024(p, &t, c19))
}

/// Land-cover class (CLCD codes 1..=9; 0 = nodata) at projected EPSG:4545
/// coordinate (x, y) for a year.
///
/// The landscape is defined everywhere (it is meant for the demo region
/// around x ∈ [582 000, 606 000], y ∈ [3 890 000, 3 908 000]); years before
/// 2024 give the 2019 map, 2024 and later the 2024 map.
///
/// # Examples
///
/// ```
/// let c = qingshan_fixtures::clcd_class(590_000.0, 3_900_000.0, 2019);
/// assert!(c <= 9);
/// assert_eq!(c, qingshan_fixtures::clcd_class(590_000.0, 3_900_000.0, 2019));
/// ```
pub fn clcd_class(x: f64, y: f64, year: u16) -> u8 {
    class_local((x - CENTRE.0, y - CENTRE.1), year)
}

/// Folds an unbounded coordinate into [lo, hi] by mirroring, so that a
/// larger extent repeats the demo landscape continuously.
pub(crate) fn mirror(t: f64, lo: f64, hi: f64) -> f64 {
    let w = hi - lo;
    let r = (t - lo).rem_euclid(2.0 * w);
    if r <= w { lo + r } else { lo + 2.0 * w - r }
}
