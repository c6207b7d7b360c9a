//! Terrain: slope grades from a DEM per zone, land cover on steep slopes,
//! and the slope grade of each cropland polygon (退耕还林, returning
//! steep cropland to forest).
//!
//! Slope is Horn's, cell for cell as `gdaldem slope -compute_edges`,
//! computed window by window with a one-cell halo across window and tile
//! edges — the DEM is never held whole. Cell spacing: the grid's pixel size
//! (× the CRS's linear unit) on a projected DEM; on a lon/lat DEM, metres
//! from the ellipsoid at each row's latitude (N·cos φ·Δλ along a row,
//! M·Δφ along a column). Edges and nodata as gdaldem: a nodata centre has
//! no slope; a neighbour beyond the first or last column is extrapolated
//! linearly (2·z₀ − z₁); in the first and last row the row beyond is
//! extrapolated and columns beyond the edge repeat the edge column; a
//! nodata neighbour takes the centre's height. NaN heights are nodata too
//! (gdaldem lets a NaN spread to its neighbours unless the nodata value is
//! NaN). Heights are summed in double precision: on integer DEMs the
//! slope raster is gdaldem's bit for bit; on float DEMs gdaldem's
//! single-precision sums put it up to ~1e-3° off (4e-4° measured on 10 m
//! cells at 800 m).
//! Grades are the national rule's for cropland (利用DEM确定耕地坡度分级技术规定):
//! I ≤ 2°, II 2–6°, III 6–15°, IV 15–25°, V > 25° (each grade includes
//! its upper bound), or any bounds given.
//!
//! What each number is:
//!
//! - a zone's grade areas: Σ coverage × cell area over the DEM's cells in
//!   each grade (the DEM grid); `mean_slope_deg` weighs slopes the same way;
//! - `by_class` (land cover given): on the land cover's grid, each
//!   land-cover cell takes the slope of the DEM cell under its centre
//!   (nearest, no interpolation: a slope that exists in the slope raster;
//!   a centre exactly on a DEM cell edge takes the cell east or south of
//!   it);
//!   `steep_cropland_m2` is the legend's cropland classes on the steepest
//!   grade;
//! - a cropland polygon's grade: the grade holding the largest part of its
//!   area (not split); on a tie, the steeper grade.
//!
//! Slopes are held as `f32` degrees, as gdaldem writes them and as
//! `--slope-raster` stores them: classifying that raster with any tool
//! gives the same grades.
//!
//! Invariant: for every zone, Σ grades = `valid_area_m2`, and
//! `valid_area_m2 + nodata_area_m2` is the zone's area on the DEM.

pub(crate) mod horn;
mod landcover;
mod pass;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::area::AreaMode;
use crate::legend::{ClassCode, Legend};
use crate::raster::LandCover;
use crate::raster::values::ValueRaster;
use crate::zones::{ZoneId, ZoneLayer};
use crate::{Error, Result, RunOptions};

/// Schema tag of the slope JSON.
pub const SLOPE_SCHEMA: &str = "qingshan.slope/1";

/// Slope grades: ascending upper bounds in degrees; grade k (from 1)
/// holds slopes in (bound k−1, bound k], the last grade everything above
/// the last bound.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grades {
    /// Upper bounds of every grade but the last, ascending, in (0°, 90°).
    pub bounds_deg: Vec<f64>,
}

impl Default for Grades {
    /// The cropland grades of the national rule: 2°, 6°, 15°, 25°.
    fn default() -> Grades {
        Grades {
            bounds_deg: vec![2.0, 6.0, 15.0, 25.0],
        }
    }
}

impl Grades {
    /// Grades from bounds such as `"2,6,15,25"`.
    pub fn parse(text: &str) -> Result<Grades> {
        let bounds = text
            .split(',')
            .map(|s| {
                s.trim().parse::<f64>().map_err(|_| {
                    Error::Invalid(format!(
                        "--grades {text:?}: {s:?} is not a number of degrees (e.g. --grades 2,6,15,25)"
                    ))
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        Grades::new(bounds)
    }

    /// Grades from ascending bounds in (0°, 90°).
    pub fn new(bounds_deg: Vec<f64>) -> Result<Grades> {
        if bounds_deg.is_empty()
            || bounds_deg.iter().any(|b| !(*b > 0.0 && *b < 90.0))
            || bounds_deg.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(Error::Invalid(format!(
                "slope grades {bounds_deg:?}: give one or more ascending bounds between 0° and 90° (e.g. 2,6,15,25)"
            )));
        }
        Ok(Grades { bounds_deg })
    }

    /// Number of grades (one more than the bounds).
    pub fn count(&self) -> usize {
        self.bounds_deg.len() + 1
    }

    /// The grade index (from 0) of a slope in degrees.
    #[inline]
    pub fn of(&self, slope_deg: f32) -> usize {
        let s = slope_deg as f64;
        // Branch-free: bounds ascend, so the count of bounds below the
        // slope is the grade.
        self.bounds_deg.iter().map(|&b| (s > b) as usize).sum()
    }

    /// `(min, max)` degrees of each grade.
    pub fn ranges(&self) -> Vec<(f64, f64)> {
        let mut lo = 0.0;
        let mut out = Vec::with_capacity(self.count());
        for &b in &self.bounds_deg {
            out.push((lo, b));
            lo = b;
        }
        out.push((lo, 90.0));
        out
    }
}

/// The area of one zone in one slope grade.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeArea {
    /// Grade number, from 1 (flattest).
    pub grade: usize,
    /// Lower bound, exclusive (0 for the first grade, inclusive).
    pub min_deg: f64,
    /// Upper bound, inclusive (90 for the last grade).
    pub max_deg: f64,
    /// Area in the grade.
    pub area_m2: f64,
}

/// Slope of one zone (all areas in m²).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneSlope {
    /// Zone id.
    pub id: ZoneId,
    /// Zone name, when the layer has one.
    pub name: Option<String>,
    /// Area of the zone polygon (on the ellipsoid, or planar).
    pub zone_area_m2: f64,
    /// Area of covered DEM cells with a slope.
    pub valid_area_m2: f64,
    /// Area of covered DEM cells without one (nodata heights).
    pub nodata_area_m2: f64,
    /// Area-weighted mean slope in degrees; `null` when nothing is valid.
    pub mean_slope_deg: Option<f64>,
    /// Area per grade.
    pub grades: Vec<GradeArea>,
    /// Land-cover class → area per grade (land cover given), measured on
    /// the land cover's grid; `null` without land cover.
    #[serde(default)]
    pub by_class: Option<BTreeMap<ClassCode, Vec<f64>>>,
    /// Area of the zone with a land-cover class (not nodata, on the land
    /// cover's grid), when land cover is given: what `by_class` covers.
    #[serde(default)]
    pub landcover_area_m2: Option<f64>,
    /// Cropland classes on the steepest grade (land cover given; `null`
    /// for a zone with no land cover).
    pub steep_cropland_m2: Option<f64>,
    /// The zone's attributes from the input layer.
    #[serde(skip)]
    pub attributes: Map<String, Value>,
}

/// Slope of one cropland polygon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolygonSlope {
    /// Polygon id.
    pub id: ZoneId,
    /// Its class (the class field's value), when a class field is given.
    pub class: Option<String>,
    /// Area of the polygon (on the ellipsoid, or planar).
    pub area_m2: f64,
    /// Area of covered DEM cells without a slope.
    pub nodata_area_m2: f64,
    /// Area-weighted mean slope in degrees.
    pub mean_slope_deg: Option<f64>,
    /// Area per grade.
    pub grade_areas_m2: Vec<f64>,
    /// The grade (from 1) holding the largest part of its area (ties: the
    /// steeper); `null` when no cell under it has a slope.
    pub grade: Option<usize>,
}

/// Cropland polygons and how they were chosen.
#[derive(Clone, Debug)]
pub struct Cropland {
    /// The polygons kept (cropland only).
    pub layer: ZoneLayer,
    /// Each kept polygon's class.
    pub classes: Vec<Option<String>>,
    /// How many polygons the file has in all.
    pub total: usize,
    /// What the user should know about the choice (polygons without a
    /// class value).
    pub warnings: Vec<String>,
}

/// The cropland codes of the land-use survey (三调 DLBM): 0101 paddy
/// field, 0102 irrigated land, 0103 dry land.
pub const SURVEY_CROPLAND_CODES: [&str; 3] = ["0101", "0102", "0103"];

/// Whether a class value is one of the codes: equal; or the code followed
/// by a suffix that does not start with a digit (三调 writes `0101A`,
/// `0103K`); or a two-digit first-level code (`01`) and a value of its
/// second level (`0101`, `0103K`). A numeric value (an integer field:
/// `101`) matches a numeric code of the same number (`0101`).
fn code_matches(value: &str, code: &str) -> bool {
    if value == code {
        return true;
    }
    if let (Ok(v), Ok(c)) = (value.parse::<i64>(), code.parse::<i64>())
        && !value.starts_with('0')
    {
        // An integer field lost the leading zero: 101 is 0101, and a
        // two-digit first-level code 01 takes 1xx.
        return v == c || (code.len() == 2 && v / 100 == c && (100..10_000).contains(&v));
    }
    let Some(rest) = value.strip_prefix(code) else {
        return false;
    };
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    digits == 0 || (code.len() == 2 && digits == 2)
}

impl Cropland {
    /// Keeps the polygons of `layer` whose `class_field` value is one of
    /// `codes` (default: [`SURVEY_CROPLAND_CODES`]; see the matching rule
    /// of a code above); all of them when no class field is given. Codes
    /// without a class field, empty codes, and a choice that keeps nothing
    /// are errors that list the values the field holds.
    pub fn select(layer: ZoneLayer, class_field: Option<&str>, codes: &[String]) -> Result<Self> {
        let total = layer.zones.len();
        let Some(field) = class_field else {
            if !codes.is_empty() {
                return Err(Error::Invalid(format!(
                    "cropland codes {codes:?} need the field that holds them: give --class-field (e.g. DLBM)"
                )));
            }
            let classes = vec![None; total];
            return Ok(Cropland {
                layer,
                classes,
                total,
                warnings: Vec::new(),
            });
        };
        if codes.iter().any(|c| c.trim().is_empty()) {
            return Err(Error::Invalid(format!(
                "cropland codes {codes:?}: a code is empty (e.g. --cropland-codes 0101,0102,0103)"
            )));
        }
        let codes: Vec<String> = if codes.is_empty() {
            SURVEY_CROPLAND_CODES
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            codes.iter().map(|c| c.trim().to_string()).collect()
        };
        if let Some(z) = layer.zones.first()
            && !z.attributes.contains_key(field)
        {
            let fields: Vec<&String> = z.attributes.keys().collect();
            return Err(Error::zones(
                &layer.path,
                format!(
                    "has no field {field:?} (fields: {fields:?}); name the class field (--class-field, or class_field in [terrain])"
                ),
            ));
        }
        let mut kept = Vec::new();
        let mut classes = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut nulls = 0;
        for z in layer.zones {
            let v = match z.attributes.get(field) {
                Some(Value::String(s)) => s.trim().to_string(),
                // A real field (DBF `N(24,15)`) holds 101.0 for 0101.
                Some(Value::Number(n)) => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
                    _ => n.to_string(),
                },
                _ => {
                    nulls += 1;
                    continue;
                }
            };
            if codes.iter().any(|c| code_matches(&v, c)) {
                classes.push(Some(v));
                kept.push(z);
            } else if seen.len() < 20 {
                seen.insert(v);
            }
        }
        if nulls == total && total > 0 {
            return Err(Error::zones(
                &layer.path,
                format!("none of its {total} polygons has a {field} value: check --class-field"),
            ));
        }
        if kept.is_empty() && total > 0 {
            return Err(Error::zones(
                &layer.path,
                format!(
                    "no polygon's {field} is one of the cropland codes {codes:?}; its values include {:?}: give the codes with --cropland-codes (or cropland_codes in [terrain])",
                    seen
                ),
            ));
        }
        let mut warnings = Vec::new();
        if nulls > 0 {
            warnings.push(format!(
                "{}: {nulls} of {total} polygons have no {field} value; they are not counted as cropland",
                layer.path.display()
            ));
        }
        Ok(Cropland {
            layer: ZoneLayer {
                zones: kept,
                ..layer
            },
            classes,
            total,
            warnings,
        })
    }
}

/// The `qingshan.slope/1` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlopeReport {
    /// Always [`SLOPE_SCHEMA`].
    pub schema: String,
    /// CRS of the DEM.
    pub crs: String,
    /// How areas were measured.
    pub area: AreaMode,
    /// `(min, max)` degrees of each grade.
    pub grades: Vec<(f64, f64)>,
    /// Legend of the land cover, when given.
    pub legend: Option<String>,
    /// The legend's cropland classes, when land cover is given.
    pub cropland_classes: Vec<ClassCode>,
    /// One entry per zone, in input order.
    pub zones: Vec<ZoneSlope>,
    /// One entry per cropland polygon (cropland polygons given).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub polygons: Option<Vec<PolygonSlope>>,
    /// Things the user should know.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl SlopeReport {
    /// The cropland polygons assigned to the steepest grade.
    pub fn steep_polygons(&self) -> Vec<&PolygonSlope> {
        let top = self.grades.len();
        self.polygons
            .iter()
            .flatten()
            .filter(|p| p.grade == Some(top))
            .collect()
    }
}

/// What to measure.
#[derive(Clone, Copy)]
pub struct SlopeInputs<'a> {
    /// The DEM (its `area` says how cells are measured).
    pub dem: &'a ValueRaster,
    /// The zones.
    pub zones: &'a ZoneLayer,
    /// The grades.
    pub grades: &'a Grades,
    /// Land cover and its legend, for the class × grade cross-tab.
    pub land_cover: Option<(&'a LandCover, &'a Legend)>,
    /// Cropland polygons, for their grades.
    pub cropland: Option<&'a Cropland>,
    /// Where to write the slope raster (Float32 degrees, the DEM's grid).
    pub slope_raster: Option<&'a Path>,
}

/// Slopes in degrees (NaN where there is none) of the DEM cells under a
/// lattice of map points — `xs` along a row, `ys` down a column, in the
/// DEM's CRS — row major (`ys.len()` rows of `xs.len()`): what a map of
/// slope grades draws.
pub fn slopes_at(dem: &ValueRaster, xs: &[f64], ys: &[f64]) -> Result<Vec<f32>> {
    let t = &dem.grid.transform.0;
    let index = |v: f64, origin: f64, step: f64, n: usize| {
        let k = ((v - origin) / step).floor();
        (k >= 0.0 && k < n as f64).then_some(k as usize)
    };
    let cols: Vec<Option<usize>> = xs
        .iter()
        .map(|&x| index(x, t[0], t[1], dem.grid.width))
        .collect();
    let rows: Vec<Option<usize>> = ys
        .iter()
        .map(|&y| index(y, t[3], t[5], dem.grid.height))
        .collect();
    pass::sample(dem, &rows, &cols)
}

/// Measures slope grades per zone (and per cropland polygon, and land
/// cover × grade when given), in parallel, in one pass over the DEM (and
/// one over the land cover).
pub fn slope(inputs: &SlopeInputs<'_>, opts: &RunOptions<'_>) -> Result<SlopeReport> {
    pass::run(inputs, opts)
}

/// [`slope`] for two dates of land cover from one pass over the DEM: the
/// report of `inputs` (the later date, with its polygons), and the same
/// zones with `before`'s land cover (no polygons) — what the audit's
/// steep-cropland targets compare.
pub fn slope_two_dates(
    inputs: &SlopeInputs<'_>,
    before: (&LandCover, &Legend),
    opts: &RunOptions<'_>,
) -> Result<(SlopeReport, SlopeReport)> {
    let (after, before) = pass::run_dates(inputs, Some(before), opts)?;
    let before = before.ok_or_else(|| Error::Invalid("internal: no before-date slope".into()))?;
    Ok((after, before))
}

#[cfg(test)]
mod tests {
    use super::code_matches;

    #[test]
    fn survey_codes_match_with_suffixes_levels_and_integer_fields() {
        assert!(code_matches("0101", "0101"));
        assert!(code_matches("0101A", "0101"));
        assert!(code_matches("0103K", "0103"));
        assert!(!code_matches("01011", "0101"));
        assert!(!code_matches("0102", "0101"));
        // First level: every second-level code under it.
        assert!(code_matches("0102", "01"));
        assert!(code_matches("0103K", "01"));
        assert!(!code_matches("0301", "01"));
        // An integer field holds 101 for 0101, and 01 takes 1xx.
        assert!(code_matches("101", "0101"));
        assert!(!code_matches("102", "0101"));
        assert!(code_matches("102", "01"));
        assert!(!code_matches("301", "01"));
    }
}
