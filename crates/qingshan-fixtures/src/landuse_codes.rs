//! The land-survey classes (《第三次全国国土调查工作分类》 codes and names)
//! and how a lattice cell gets one from the land cover.
//!
//! A cell's class is decided from 25 samples of the year's cloud-free land
//! cover on a 5 × 5 grid inside it: a river or a road crossing the cell
//! (≥ 5 samples of water or built-up that are not its majority) makes it
//! 河流水面 / 公路用地, so the linear features stay connected; otherwise the
//! majority class, refined into a 三调 code by position (valley floors, the
//! reservoir, town seats and villages, mines) and by smooth noise (orchards
//! among dry cropland, other and adjustable forest, flagged shrubland,
//! pasture, bare and sandy land). Invariant: the class is a function of
//! the cell's position and the year's land cover there, so a cell whose
//! land cover did not change keeps its class.

use crate::landscape::{Terrain, layout};
use crate::noise::{fbm, splitmix64, unit};

/// One survey class: 三调 code (DLBM), name (DLMC), and whether it is
/// shrubland the state counts as forest (国家特别规定灌木林地, `TGGMBZ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SurveyClass {
    pub dlbm: &'static str,
    pub dlmc: &'static str,
    pub tggm: bool,
    /// Where the generator puts it (for the README).
    pub from: &'static str,
}

const fn sc(dlbm: &'static str, dlmc: &'static str, tggm: bool, from: &'static str) -> SurveyClass {
    SurveyClass {
        dlbm,
        dlmc,
        tggm,
        from,
    }
}

/// Every class the generator uses; a cell's class is an index into it.
pub(crate) const CLASSES: [SurveyClass; 22] = [
    sc(
        "0102",
        "水浇地",
        false,
        "cropland on the river's flood plain",
    ),
    sc("0103", "旱地", false, "other cropland"),
    sc(
        "0201",
        "果园",
        false,
        "gentle dry cropland where orchard noise is high",
    ),
    sc("0301", "乔木林地", false, "forest"),
    sc(
        "0301K",
        "可调整乔木林地",
        false,
        "forest on the loess where noise is high",
    ),
    sc("0305", "灌木林地", false, "shrub"),
    sc(
        "0305",
        "灌木林地",
        true,
        "shrub where noise is high (flagged TGGMBZ = 1)",
    ),
    sc("0307", "其他林地", false, "forest where noise is high"),
    sc("0401", "天然牧草地", false, "grassland where noise is high"),
    sc("0404", "其他草地", false, "other grassland"),
    sc(
        "0601",
        "工业用地",
        false,
        "built-up in a town seat where noise is high",
    ),
    sc("0602", "采矿用地", false, "barren (the mines and quarries)"),
    sc("0701", "城镇住宅用地", false, "built-up in a town seat"),
    sc("0702", "农村宅基地", false, "built-up in a village"),
    sc(
        "1003",
        "公路用地",
        false,
        "a road through the cell, or other built-up",
    ),
    sc("1101", "河流水面", false, "the river through the cell"),
    sc("1103", "水库水面", false, "the reservoir"),
    sc(
        "1104",
        "坑塘水面",
        false,
        "a few single valley-floor cropland cells (ponds)",
    ),
    sc("1106", "内陆滩涂", false, "wetland around the reservoir"),
    sc("1108", "沼泽地", false, "the flood-plain marsh"),
    sc(
        "1205",
        "沙地",
        false,
        "grassland on the flood plain where noise is high",
    ),
    sc(
        "1206",
        "裸土地",
        false,
        "grassland on very steep slopes where noise is high",
    ),
];

const K0102: u8 = 0;
const K0103: u8 = 1;
const K0201: u8 = 2;
const K0301: u8 = 3;
const K0301K: u8 = 4;
const K0305: u8 = 5;
const K0305T: u8 = 6;
const K0307: u8 = 7;
const K0401: u8 = 8;
const K0404: u8 = 9;
const K0601: u8 = 10;
const K0602: u8 = 11;
const K0701: u8 = 12;
const K0702: u8 = 13;
const K1003: u8 = 14;
const K1101: u8 = 15;
const K1103: u8 = 16;
const K1104: u8 = 17;
const K1106: u8 = 18;
const K1108: u8 = 19;
const K1205: u8 = 20;
const K1206: u8 = 21;

/// Whether a class is cropland (耕地, 01xx): the classes with field ridges.
pub(crate) fn is_cropland(class: u8) -> bool {
    CLASSES[class as usize].dlbm.starts_with("01")
}

// Seeds of the noise fields that refine classes.
const S_ORCHARD: u64 = 0x0C4A_2D01;
const S_FOREST: u64 = 0x0F02_E511;
const S_ADJUST: u64 = 0x0AD1_0571;
const S_SHRUB: u64 = 0x05A2_0B01;
const S_GRASS: u64 = 0x06A2_A551;
const S_BARE: u64 = 0x0BA2_E001;
const S_INDUSTRY: u64 = 0x01D0_5721;

/// tan 15° and tan 35° (slope thresholds; literals, no libm).
const TAN_15: f64 = 0.267_949_192_431_122_7;
const TAN_35: f64 = 0.700_207_538_209_709_9;

/// Half the reservoir's extent along the valley (m): water and wetland
/// this close to its centre belong to it.
const RESERVOIR_REACH: f64 = 1400.0;

fn noise(seed: u64, p: (f64, f64), wavelength: f64) -> f64 {
    fbm(seed, p.0, p.1, wavelength, 2, 0.5).v
}

fn in_town_seat(p: (f64, f64)) -> bool {
    layout::JSG_SEAT.contains(p) || layout::AZ_SEAT.contains(p) || layout::AZ_EXPANSION.contains(p)
}

fn in_village(p: (f64, f64)) -> bool {
    layout::VILLAGES.iter().any(|b| b.contains(p))
}

fn near_reservoir(p: (f64, f64)) -> bool {
    (p.0 - layout::RESERVOIR_U * 1000.0).abs() < RESERVOIR_REACH
}

/// The survey class of a cell: `p` its centre (metres relative to the
/// landscape's centre), `t` the terrain there, `counts[c]` how many of its
/// samples have CLCD class c, `hash` a per-cell hash.
pub(crate) fn cell_class(p: (f64, f64), t: &Terrain, counts: &[u8; 10], hash: u64) -> u8 {
    let maj = (0..10)
        .max_by_key(|&c| (counts[c], std::cmp::Reverse(c)))
        .unwrap_or(4);
    if counts[5] >= 5 && maj != 5 && !near_reservoir(p) {
        return K1101;
    }
    let settled = in_town_seat(p) || in_village(p);
    if counts[8] >= 5 && maj != 8 && !settled {
        return K1003;
    }
    match maj {
        1 => cropland(p, t, hash),
        2 => forest(p, t),
        3 if noise(S_SHRUB, p, 1800.0) > 0.3 => K0305T,
        3 => K0305,
        4 => grassland(p, t),
        5 if near_reservoir(p) => K1103,
        5 => K1101,
        7 => K0602,
        8 => built(p),
        9 if near_reservoir(p) => K1106,
        9 => K1108,
        _ => K0404,
    }
}

fn cropland(p: (f64, f64), t: &Terrain, hash: u64) -> u8 {
    if t.valley > 0.5 {
        if unit(splitmix64(hash ^ 0x0B0D)) < 0.03 {
            K1104
        } else {
            K0102
        }
    } else if noise(S_ORCHARD, p, 1500.0) > 0.3 && t.elev.grad_norm() < TAN_15 {
        K0201
    } else {
        K0103
    }
}

fn forest(p: (f64, f64), t: &Terrain) -> u8 {
    if t.m < 0.5 && noise(S_ADJUST, p, 900.0) > 0.45 {
        K0301K
    } else if noise(S_FOREST, p, 1600.0) > 0.3 {
        K0307
    } else {
        K0301
    }
}

fn grassland(p: (f64, f64), t: &Terrain) -> u8 {
    if t.elev.grad_norm() > TAN_35 && noise(S_BARE, p, 700.0) > 0.25 {
        K1206
    } else if t.valley > 0.3 && t.river_dist < 300.0 && noise(S_BARE ^ 0x5A, p, 600.0) > 0.2 {
        K1205
    } else if noise(S_GRASS, p, 1600.0) > 0.25 {
        K0401
    } else {
        K0404
    }
}

fn built(p: (f64, f64)) -> u8 {
    if in_town_seat(p) {
        if noise(S_INDUSTRY, p, 500.0) > 0.3 {
            K0601
        } else {
            K0701
        }
    } else if in_village(p) {
        K0702
    } else {
        K1003
    }
}
