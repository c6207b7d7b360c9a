//! Land-cover and land-use class schemes: what each code means, and which
//! codes count as forest, forest land, natural, artificial and vegetated.
//!
//! Built in: CLCD (China Land Cover Dataset, codes 1–9), ESA WorldCover
//! (10–100), GlobeLand30 (10–100), Dynamic World (0–8), and `sandiao`, the
//! Third National Land Survey's classification (三调, text codes such as
//! `0301`, `05H1`; suffixed codes such as `0301K` take their base class);
//! any other scheme comes as a TOML file. Codes are [`ClassCode`]s:
//! integers, or short text where a survey writes leading zeros or letters.
//! Invariant: a legend never drops a code — codes it
//! does not list are reported as they are, just without a name, and count
//! as neither forest nor natural nor artificial.
//!
//! Forest follows Chinese statistics (森林覆盖率): for CLCD only class 2
//! (forest) counts; shrub (3) joins only where the user's legend says so,
//! because only 国家特别规定灌木林地 counts as forest.
//!
//! # User legends (TOML)
//! ```toml
//! # Count CLCD shrub as forest (e.g. a county under 400 mm of rain).
//! name = "clcd-shrub-forest"
//! extends = "clcd"
//! [[class]]
//! code = 3
//! forest = true
//! ```
//! A complete scheme lists every class:
//! ```toml
//! name = "my-survey"
//! nodata = [0]
//! [[class]]
//! code = "0301"           # an integer, or a string for codes with leading zeros or letters
//! name = "Arbor forest"
//! name_zh = "乔木林地"
//! kind = "forest"          # cropland|forest|shrub|grassland|water|wetland|snow|barren|built|other
//! forest_land = true       # optional: counts as forest land (林地)
//! color = "#2d6a2d"        # optional
//! ```
//! `forest`, `natural`, `artificial` and `vegetated` default from `kind`
//! and can each be set explicitly.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

mod code;
mod sandiao;

pub use code::{ClassCode, MAX_TEXT_CODE};

/// The broad kind of a class, from which its roles default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassKind {
    /// Cultivated land (耕地).
    Cropland,
    /// Forest (林地 with trees).
    Forest,
    /// Shrub and scrub (灌木).
    Shrub,
    /// Grassland (草地).
    Grassland,
    /// Open water (水体).
    Water,
    /// Wetland (湿地).
    Wetland,
    /// Permanent snow and ice.
    Snow,
    /// Barren or bare land, including mining (裸地/采矿).
    Barren,
    /// Built-up or impervious surface (建设用地/不透水面).
    Built,
    /// Anything else.
    Other,
}

impl ClassKind {
    fn natural(self) -> bool {
        matches!(
            self,
            ClassKind::Forest
                | ClassKind::Shrub
                | ClassKind::Grassland
                | ClassKind::Water
                | ClassKind::Wetland
                | ClassKind::Snow
        )
    }

    fn artificial(self) -> bool {
        matches!(
            self,
            ClassKind::Cropland | ClassKind::Built | ClassKind::Barren
        )
    }

    fn vegetated(self) -> bool {
        matches!(
            self,
            ClassKind::Forest | ClassKind::Shrub | ClassKind::Grassland
        )
    }
}

/// One class of a legend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassDef {
    /// Integer code in the raster.
    pub code: ClassCode,
    /// English name.
    pub name: String,
    /// Chinese name.
    pub name_zh: String,
    /// Display colour (RGB).
    pub color: [u8; 3],
    /// Broad kind.
    pub kind: ClassKind,
    /// Counts as forest (森林) for forest area and cover.
    pub forest: bool,
    /// Counts as forest land (林地, the survey's 03xx: the 林地保有量
    /// target), which includes shrub and other forest land that forest
    /// cover leaves out. Set by the `sandiao` legend and by TOML legends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forest_land: bool,
    /// Natural class (a red line must not lose it to artificial ones).
    pub natural: bool,
    /// Artificial class (cropland, built-up, barren/mining).
    pub artificial: bool,
    /// Vegetated class (forest, shrub, grassland) for the red line's function.
    pub vegetated: bool,
}

/// A land-cover class scheme.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Legend {
    /// Short name used in outputs (`clcd`, `worldcover`, …).
    pub name: String,
    /// Classes by code.
    pub classes: BTreeMap<ClassCode, ClassDef>,
    /// Codes that mean "no data" in this product (besides the raster's own
    /// nodata value).
    pub nodata: Vec<ClassCode>,
}

type Row = (i64, &'static str, &'static str, &'static str, ClassKind);

fn builtin_rows(name: &str) -> Option<(&'static [Row], &'static [i64])> {
    use ClassKind::*;
    const CLCD: &[Row] = &[
        (1, "Cropland", "耕地", "#fae39c", Cropland),
        (2, "Forest", "林地", "#446f33", Forest),
        (3, "Shrub", "灌木", "#33a02c", Shrub),
        (4, "Grassland", "草地", "#abd37b", Grassland),
        (5, "Water", "水体", "#1e69b4", Water),
        (6, "Snow/Ice", "冰雪", "#a6cee3", Snow),
        (7, "Barren", "裸地", "#cfbda3", Barren),
        (8, "Impervious", "不透水面", "#e24290", Built),
        (9, "Wetland", "湿地", "#289bbe", Wetland),
    ];
    const WORLDCOVER: &[Row] = &[
        (10, "Tree cover", "林地", "#006400", Forest),
        (20, "Shrubland", "灌木", "#ffbb22", Shrub),
        (30, "Grassland", "草地", "#ffff4c", Grassland),
        (40, "Cropland", "耕地", "#f096ff", Cropland),
        (50, "Built-up", "建设用地", "#fa0000", Built),
        (
            60,
            "Bare / sparse vegetation",
            "裸地/稀疏植被",
            "#b4b4b4",
            Barren,
        ),
        (70, "Snow and ice", "冰雪", "#f0f0f0", Snow),
        (80, "Permanent water bodies", "水体", "#0064c8", Water),
        (90, "Herbaceous wetland", "草本湿地", "#0096a0", Wetland),
        (95, "Mangroves", "红树林", "#00cf75", Forest),
        (100, "Moss and lichen", "苔藓地衣", "#fae6a0", Other),
    ];
    const GLOBELAND30: &[Row] = &[
        (10, "Cultivated land", "耕地", "#f9f3c1", Cropland),
        (20, "Forest", "林地", "#147749", Forest),
        (30, "Grassland", "草地", "#a9d05f", Grassland),
        (40, "Shrubland", "灌木地", "#3eb370", Shrub),
        (50, "Wetland", "湿地", "#7ecef4", Wetland),
        (60, "Water bodies", "水体", "#00a0e9", Water),
        (70, "Tundra", "苔原", "#c3bd8b", Other),
        (80, "Artificial surfaces", "人造地表", "#932f14", Built),
        (90, "Bare land", "裸地", "#cacaca", Barren),
        (
            100,
            "Permanent snow and ice",
            "冰川和永久积雪",
            "#f9ffff",
            Snow,
        ),
    ];
    const DYNAMICWORLD: &[Row] = &[
        (0, "Water", "水体", "#419bdf", Water),
        (1, "Trees", "林地", "#397d49", Forest),
        (2, "Grass", "草地", "#88b053", Grassland),
        (3, "Flooded vegetation", "淹没植被", "#7a87c6", Wetland),
        (4, "Crops", "耕地", "#e49635", Cropland),
        (5, "Shrub and scrub", "灌丛", "#dfc35a", Shrub),
        (6, "Built", "建设用地", "#c4281b", Built),
        (7, "Bare", "裸地", "#a59b8f", Barren),
        (8, "Snow and ice", "冰雪", "#b39fe1", Snow),
    ];
    match name {
        // 0 is CLCD's fill value outside the product's coverage.
        "clcd" => Some((CLCD, &[0])),
        "worldcover" => Some((WORLDCOVER, &[0])),
        "globeland30" => Some((GLOBELAND30, &[])),
        "dynamicworld" => Some((DYNAMICWORLD, &[])),
        _ => None,
    }
}

/// Names of the built-in legends.
pub const BUILTIN: [&str; 5] = [
    "clcd",
    "worldcover",
    "globeland30",
    "dynamicworld",
    "sandiao",
];

fn parse_color(s: &str) -> Option<[u8; 3]> {
    let h = s.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

/// A deterministic, distinguishable colour for codes without one.
fn fallback_color(code: ClassCode) -> [u8; 3] {
    let h = code.stable_hash().wrapping_mul(0x9e37_79b9_7f4a_7c15);
    [
        64 + (h >> 56) as u8 % 160,
        64 + (h >> 48) as u8 % 160,
        64 + (h >> 40) as u8 % 160,
    ]
}

impl ClassDef {
    fn new(code: ClassCode, name: &str, name_zh: &str, color: [u8; 3], kind: ClassKind) -> Self {
        ClassDef {
            code,
            name: name.to_string(),
            name_zh: name_zh.to_string(),
            color,
            kind,
            forest: kind == ClassKind::Forest,
            forest_land: false,
            natural: kind.natural(),
            artificial: kind.artificial(),
            vegetated: kind.vegetated(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlLegend {
    name: Option<String>,
    extends: Option<String>,
    nodata: Option<Vec<ClassCode>>,
    #[serde(default, rename = "class")]
    classes: Vec<TomlClass>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlClass {
    code: ClassCode,
    name: Option<String>,
    name_zh: Option<String>,
    color: Option<String>,
    kind: Option<ClassKind>,
    forest: Option<bool>,
    forest_land: Option<bool>,
    natural: Option<bool>,
    artificial: Option<bool>,
    vegetated: Option<bool>,
}

impl Legend {
    /// A built-in legend by name (`clcd`, `worldcover`, `globeland30`,
    /// `dynamicworld`, `sandiao`).
    ///
    /// # Examples
    /// ```
    /// let clcd = qingshan::legend::Legend::builtin("clcd").unwrap();
    /// assert!(clcd.is_forest(2));
    /// assert!(!clcd.is_forest(3)); // shrub is not forest unless a legend says so
    /// assert_eq!(clcd.class(8).unwrap().name_zh, "不透水面");
    /// ```
    pub fn builtin(name: &str) -> Option<Legend> {
        if name == "sandiao" {
            return Some(Legend::sandiao());
        }
        let (rows, nodata) = builtin_rows(name)?;
        let classes = rows
            .iter()
            .map(|&(code, en, zh, color, kind)| {
                let code = ClassCode::int(code);
                let color = parse_color(color).unwrap_or_else(|| fallback_color(code));
                (code, ClassDef::new(code, en, zh, color, kind))
            })
            .collect();
        Some(Legend {
            name: name.to_string(),
            classes,
            nodata: nodata.iter().map(|&n| ClassCode::int(n)).collect(),
        })
    }

    /// The land-use classification of the Third National Land Survey
    /// (三调): text codes such as `0301`, first and second level.
    fn sandiao() -> Legend {
        let classes = sandiao::SANDIAO
            .iter()
            .map(|r| {
                // The table's codes are all valid (a unit test parses each).
                let code = ClassCode::parse(r.code).unwrap_or(ClassCode::int(-1));
                let color = parse_color(r.color).unwrap_or_else(|| fallback_color(code));
                let mut def = ClassDef::new(code, r.name, r.name_zh, color, r.kind);
                def.forest = r.forest;
                def.forest_land = r.forest_land;
                def.natural = r.natural;
                def.artificial = r.artificial;
                def.vegetated = r.vegetated;
                (code, def)
            })
            .collect();
        Legend {
            name: "sandiao".into(),
            classes,
            nodata: Vec::new(),
        }
    }

    /// A legend from its TOML text; `source` names it in errors.
    pub fn from_toml(text: &str, source: &str) -> Result<Legend> {
        let err = |reason: String| Error::Legend {
            source_name: source.to_string(),
            reason,
        };
        let parsed: TomlLegend =
            toml::from_str(text).map_err(|e| err(crate::error::toml_message(text, &e)))?;
        let mut seen = std::collections::BTreeSet::new();
        if let Some(c) = parsed.classes.iter().find(|c| !seen.insert(c.code)) {
            return Err(err(format!(
                "class {} is listed twice; give each code one [[class]] table",
                c.code
            )));
        }
        let mut legend = match &parsed.extends {
            Some(base) => Legend::builtin(base).ok_or_else(|| {
                err(format!(
                    "extends unknown legend {base:?}; built-in legends are {}",
                    BUILTIN.join(", ")
                ))
            })?,
            None => Legend {
                name: String::new(),
                classes: BTreeMap::new(),
                nodata: Vec::new(),
            },
        };
        legend.name = parsed.name.unwrap_or_else(|| {
            Path::new(source)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| source.to_string())
        });
        if let Some(nodata) = parsed.nodata {
            legend.nodata = nodata;
        }
        for c in parsed.classes {
            let def = match legend.classes.remove(&c.code) {
                Some(mut d) => {
                    if let Some(kind) = c.kind {
                        let fresh = ClassDef::new(c.code, &d.name, &d.name_zh, d.color, kind);
                        d = fresh;
                    }
                    d
                }
                None => {
                    // A survey code written as a number lost its zero.
                    let hint = legend
                        .classes
                        .keys()
                        .find(|k| {
                            c.code.as_int().is_some()
                                && k.as_text()
                                    .and_then(|t| t.parse::<i64>().ok())
                                    == c.code.as_int()
                        })
                        .map(|k| format!(" (did you mean \"{k}\"? write codes with a leading zero as strings)"))
                        .unwrap_or_default();
                    let kind = c.kind.ok_or_else(|| {
                        err(format!(
                            "class {} is new, so it needs `kind` (one of cropland, forest, shrub, grassland, water, wetland, snow, barren, built, other){hint}",
                            c.code
                        ))
                    })?;
                    if !hint.is_empty() {
                        return Err(err(format!(
                            "class {} is not a code of the legend{hint}",
                            c.code
                        )));
                    }
                    let name = c
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("class {}", c.code));
                    ClassDef::new(c.code, &name, "", fallback_color(c.code), kind)
                }
            };
            let mut def = def;
            if let Some(n) = c.name {
                def.name = n;
            }
            if let Some(n) = c.name_zh {
                def.name_zh = n;
            }
            if let Some(col) = c.color {
                def.color = parse_color(&col).ok_or_else(|| {
                    err(format!(
                        "class {}: colour {col:?} is not of the form \"#rrggbb\"",
                        c.code
                    ))
                })?;
            }
            if let Some(v) = c.forest {
                def.forest = v;
            }
            if let Some(v) = c.forest_land {
                def.forest_land = v;
            }
            if let Some(v) = c.natural {
                def.natural = v;
            }
            if let Some(v) = c.artificial {
                def.artificial = v;
            }
            if let Some(v) = c.vegetated {
                def.vegetated = v;
            }
            if def.natural && def.artificial {
                return Err(err(format!(
                    "class {} is marked both natural and artificial",
                    def.code
                )));
            }
            legend.classes.insert(def.code, def);
        }
        if legend.classes.is_empty() {
            return Err(err("no classes: add [[class]] tables or `extends`".into()));
        }
        Ok(legend)
    }

    /// A built-in legend by name, or a TOML legend file by path.
    pub fn load(spec: &str) -> Result<Legend> {
        if let Some(l) = Legend::builtin(spec) {
            return Ok(l);
        }
        let path = Path::new(spec);
        if path.extension().is_some_and(|e| e == "toml") || path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
            return Legend::from_toml(&text, spec);
        }
        Err(Error::Legend {
            source_name: spec.to_string(),
            reason: format!(
                "not a built-in legend ({}) nor a TOML file",
                BUILTIN.join(", ")
            ),
        })
    }

    /// The codes of `areas` (code → m²) this legend does not list, largest
    /// area first.
    pub fn unknown(&self, areas: &BTreeMap<ClassCode, f64>) -> Vec<(ClassCode, f64)> {
        let mut out: Vec<(ClassCode, f64)> = areas
            .iter()
            .filter(|(c, a)| **a > 0.0 && self.class(**c).is_none())
            .map(|(c, a)| (*c, *a))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// What the codes this legend does not list make of the valid area
    /// (`areas`: code → m², summing to the valid area): `None` when every
    /// code is listed, else the share and a sentence naming the largest
    /// codes and their shares.
    pub fn unknown_codes(&self, areas: &BTreeMap<ClassCode, f64>) -> Option<(f64, String)> {
        let unknown = self.unknown(areas);
        if unknown.is_empty() {
            return None;
        }
        let valid = crate::area::sum_m2(areas.values().copied());
        let share = crate::area::sum_m2(unknown.iter().map(|u| u.1)) / valid.max(f64::MIN_POSITIVE);
        let listed: Vec<String> = unknown
            .iter()
            .take(5)
            .map(|(c, a)| format!("{c} ({:.2} %)", 100.0 * a / valid.max(f64::MIN_POSITIVE)))
            .collect();
        let more = match unknown.len() {
            n if n > 5 => format!(", … ({n} codes in all)"),
            _ => String::new(),
        };
        Some((
            share,
            format!(
                "{:.2} % of the valid area holds codes the legend {} does not list: {}{more}",
                100.0 * share,
                self.name,
                listed.join(", ")
            ),
        ))
    }

    /// The class with this code, if the legend lists it: the code itself,
    /// else the code without a letter suffix (`0301K`, `0101A` → `0301`,
    /// `0101`), else, for an integer that lost its leading zero (a survey
    /// code read from a numeric field), the zero-padded code (`101` →
    /// `0101`, `3` → `03`). Outputs keep the code as found.
    ///
    /// # Examples
    /// ```
    /// use qingshan::legend::{ClassCode, Legend};
    /// let survey = Legend::builtin("sandiao").unwrap();
    /// let code = |s| ClassCode::parse(s).unwrap();
    /// assert_eq!(survey.class(code("0301K")).unwrap().name_zh, "乔木林地");
    /// assert_eq!(survey.class(101).unwrap().name_zh, "水田");
    /// assert!(survey.class(code("0399")).is_none());
    /// ```
    pub fn class(&self, code: impl Into<ClassCode>) -> Option<&ClassDef> {
        let code = code.into();
        if let Some(c) = self.classes.get(&code) {
            return Some(c);
        }
        let alias = match (code.as_text(), code.as_int()) {
            (Some(t), _) => {
                let base = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                if base.len() == t.len() || base.is_empty() {
                    return None;
                }
                // `301K` from a field that lost its zero is `0301K`.
                match base.parse::<i64>() {
                    Ok(n) if (100..1000).contains(&n) && !base.starts_with('0') => {
                        format!("{n:04}")
                    }
                    _ => base.to_string(),
                }
            }
            (None, Some(n)) if (1..10).contains(&n) => format!("{n:02}"),
            (None, Some(n)) if (100..1000).contains(&n) => format!("{n:04}"),
            _ => return None,
        };
        self.classes.get(&ClassCode::parse(&alias).ok()?)
    }

    /// The code as this legend writes it: a survey code read from a numeric
    /// field that lost its leading zero (`301`, `301K`) becomes the
    /// legend's (`0301`, `0301K`), so both spellings are one class in
    /// outputs; any other code is returned as it is.
    ///
    /// # Examples
    /// ```
    /// use qingshan::legend::{ClassCode, Legend};
    /// let survey = Legend::builtin("sandiao").unwrap();
    /// assert_eq!(survey.canonical(ClassCode::int(301)).to_string(), "0301");
    /// assert_eq!(survey.canonical(ClassCode::parse("301K").unwrap()).to_string(), "0301K");
    /// assert_eq!(survey.canonical(ClassCode::int(1203)).to_string(), "1203");
    /// ```
    pub fn canonical(&self, code: ClassCode) -> ClassCode {
        if self.classes.contains_key(&code) {
            return code;
        }
        let padded = match (code.as_text(), code.as_int()) {
            (None, Some(n)) if (1..10).contains(&n) => (format!("{n:02}"), String::new()),
            (None, Some(n)) if (100..1000).contains(&n) => (format!("{n:04}"), String::new()),
            (Some(t), _) => {
                let base = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                match base.parse::<i64>() {
                    Ok(n) if (100..1000).contains(&n) && !base.starts_with('0') => {
                        (format!("{n:04}"), t[base.len()..].to_string())
                    }
                    _ => return code,
                }
            }
            _ => return code,
        };
        match ClassCode::parse(&padded.0) {
            Ok(base) if self.classes.contains_key(&base) => {
                ClassCode::parse(&format!("{}{}", padded.0, padded.1)).unwrap_or(code)
            }
            _ => code,
        }
    }

    /// Whether the code counts as forest land (林地).
    pub fn is_forest_land(&self, code: impl Into<ClassCode>) -> bool {
        self.class(code).is_some_and(|c| c.forest_land)
    }

    /// Whether any class of the legend is forest land (the survey legend
    /// and TOML legends that set `forest_land`).
    pub fn has_forest_land(&self) -> bool {
        self.classes.values().any(|c| c.forest_land)
    }

    /// Whether the code counts as forest.
    pub fn is_forest(&self, code: impl Into<ClassCode>) -> bool {
        self.class(code).is_some_and(|c| c.forest)
    }

    /// Whether the code is a natural class.
    pub fn is_natural(&self, code: impl Into<ClassCode>) -> bool {
        self.class(code).is_some_and(|c| c.natural)
    }

    /// Whether the code is an artificial class.
    pub fn is_artificial(&self, code: impl Into<ClassCode>) -> bool {
        self.class(code).is_some_and(|c| c.artificial)
    }

    /// Whether the code is a vegetated class.
    pub fn is_vegetated(&self, code: impl Into<ClassCode>) -> bool {
        self.class(code).is_some_and(|c| c.vegetated)
    }

    /// Whether the legend marks this code as "no data".
    pub fn is_nodata(&self, code: impl Into<ClassCode>) -> bool {
        self.nodata.contains(&code.into())
    }

    /// Display name of a code: the class name, or `class N` for codes the
    /// legend does not list.
    pub fn name_of(&self, code: impl Into<ClassCode>) -> String {
        let code = code.into();
        self.class(code)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("class {code}"))
    }

    /// Display colour of a code (a fixed fallback for unlisted codes).
    pub fn color_of(&self, code: impl Into<ClassCode>) -> [u8; 3] {
        let code = code.into();
        self.class(code)
            .map(|c| c.color)
            .unwrap_or_else(|| fallback_color(code))
    }
}

#[cfg(test)]
mod tests;
