//! Nature and function inside the red lines between two dates: land
//! converted from natural to artificial classes (性质不改变) and the change
//! of the vegetated share (功能不降低), per red-line polygon.
//!
//! Invariant: the numbers are those of the red lines' change report
//! ([`crate::change`]), regrouped — nothing is measured twice.

use serde::{Deserialize, Serialize};

use super::{REDLINE_SCHEMA, non_negative};
use crate::Result;
use crate::change::{ChangeReport, land_cover_change};
use crate::engine::RunOptions;
use crate::legend::{ClassCode, Legend};
use crate::raster::LandCover;
use crate::zones::{ZoneId, ZoneLayer};

/// Limits of [`redline_check`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckLimits {
    /// Largest natural → artificial conversion allowed inside one red-line
    /// polygon (m²; default 0).
    pub max_conversion_m2: f64,
    /// Largest allowed drop of the vegetated share (forest + shrub +
    /// grassland over the valid area), as a fraction (0.01 = one
    /// percentage point; default 0).
    pub max_vegetation_loss: f64,
}

impl CheckLimits {
    /// Both limits must be numbers ≥ 0, the vegetation loss a fraction
    /// (at most 1: `5` would mean 500 percentage points).
    pub(crate) fn validate(&self) -> Result<()> {
        non_negative(
            self.max_conversion_m2,
            "the conversion limit (--max-conversion-m2)",
        )?;
        non_negative(
            self.max_vegetation_loss,
            "the vegetation-loss limit (--max-vegetation-loss)",
        )?;
        if self.max_vegetation_loss > 1.0 {
            return Err(crate::Error::Invalid(format!(
                "the vegetation-loss limit (--max-vegetation-loss) is a fraction of the valid area between 0 and 1 (0.01 = one percentage point), not {}",
                self.max_vegetation_loss
            )));
        }
        Ok(())
    }
}

impl Default for CheckLimits {
    fn default() -> Self {
        CheckLimits {
            max_conversion_m2: 0.0,
            max_vegetation_loss: 0.0,
        }
    }
}

/// Area converted from one natural class to one artificial class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    /// Class before.
    pub from: ClassCode,
    /// Its name.
    pub from_name: String,
    /// Class after.
    pub to: ClassCode,
    /// Its name.
    pub to_name: String,
    /// Area (m²).
    pub area_m2: f64,
}

/// Nature and function of one red-line polygon between two dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolygonCheck {
    /// Red-line id.
    pub id: ZoneId,
    /// Name.
    pub name: Option<String>,
    /// Area valid in both dates.
    pub valid_area_m2: f64,
    /// Area nodata in either date.
    pub nodata_area_m2: f64,
    /// Total natural → artificial conversion.
    pub conversion_m2: f64,
    /// Conversions by type, largest first.
    pub conversions: Vec<Conversion>,
    /// Vegetated area before.
    pub vegetated_before_m2: f64,
    /// Vegetated area after.
    pub vegetated_after_m2: f64,
    /// Vegetated share before.
    pub vegetated_share_before: Option<f64>,
    /// Vegetated share after.
    pub vegetated_share_after: Option<f64>,
    /// `share before − share after` (positive = function lowered).
    pub vegetated_share_drop: Option<f64>,
    /// Conversion within the limit.
    pub nature_ok: bool,
    /// Vegetated share drop within the limit.
    pub function_ok: bool,
    /// At least half of the red line holds valid land cover in both
    /// dates; when not, nature and function are not judged (both `false`).
    #[serde(default = "verified_by_default")]
    pub verified: bool,
    /// What is wrong, in words, with the amounts.
    pub violations: Vec<String>,
}

/// Result of [`redline_check`] (`qingshan.redline/1`, `kind: "check"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedlineCheck {
    /// Always [`REDLINE_SCHEMA`].
    pub schema: String,
    /// Always `check`.
    pub kind: String,
    /// Legend name.
    pub legend: String,
    /// CRS of the land cover.
    pub crs: String,
    /// How areas were measured (`ellipsoidal` or `planar`).
    #[serde(default = "crate::area::AreaMode::unrecorded")]
    pub area: crate::area::AreaMode,
    /// The limits applied.
    pub limits: CheckLimits,
    /// Per red-line polygon.
    pub polygons: Vec<PolygonCheck>,
    /// Number of polygons that violate a limit.
    pub violations: usize,
    /// No polygon violates a limit.
    pub ok: bool,
    /// Things the user should know.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Nature and function per red-line polygon from a change report of the
/// red lines (see [`redline_check`]).
pub fn check_from_change(
    change: &ChangeReport,
    legend: &Legend,
    limits: &CheckLimits,
) -> RedlineCheck {
    let polygons: Vec<PolygonCheck> = change
        .zones
        .iter()
        .map(|z| {
            let mut conversions = Vec::new();
            let (mut vb, mut va) = (0.0, 0.0);
            for (from, row) in &z.transitions {
                for (to, &a) in row {
                    if legend.is_vegetated(*from) {
                        vb += a;
                    }
                    if legend.is_vegetated(*to) {
                        va += a;
                    }
                    if legend.is_natural(*from) && legend.is_artificial(*to) {
                        conversions.push(Conversion {
                            from: *from,
                            from_name: legend.name_of(*from),
                            to: *to,
                            to_name: legend.name_of(*to),
                            area_m2: a,
                        });
                    }
                }
            }
            conversions.sort_by(|a, b| b.area_m2.total_cmp(&a.area_m2).then(a.from.cmp(&b.from)).then(a.to.cmp(&b.to)));
            let conversion_m2 = crate::area::sum_m2(conversions.iter().map(|c| c.area_m2));
            let valid = z.valid_area_m2;
            let (sb, sa) = ((valid > 0.0).then(|| vb / valid), (valid > 0.0).then(|| va / valid));
            let drop = sb.zip(sa).map(|(b, a)| b - a);
            // A red line on nodata (or off the land cover) in either date
            // has nothing to verify: never a green verdict.
            // Verified on at least half of its area; below that (off the
            // land cover, or on nodata) the verdict would speak for land
            // it did not see.
            let share = (z.zone_area_m2 > 0.0).then(|| valid / z.zone_area_m2);
            let verifiable = valid > 0.0 && share.is_none_or(|s| s >= MIN_VERIFIED_SHARE);
            let nature_ok = verifiable && conversion_m2 <= limits.max_conversion_m2;
            let function_ok = verifiable && drop.is_none_or(|d| d <= limits.max_vegetation_loss);
            let mut violations = Vec::new();
            if !verifiable {
                violations.push(format!(
                    "only {:.1} % of it has valid land cover in both dates ({:.1} m² of {:.1} m²; the rest is nodata or off the land cover): nature and function cannot be verified",
                    100.0 * share.unwrap_or(0.0),
                    valid,
                    z.zone_area_m2
                ));
            } else if !nature_ok {
                // (No conversion at all can still miss a limit below 0.)
                let largest = conversions.first().map_or(String::new(), |c| {
                    format!("; largest: {} → {} {:.1} m²", c.from_name, c.to_name, c.area_m2)
                });
                violations.push(format!(
                    "nature changed: {:.1} m² ({:.2} mu) converted from natural to artificial land, limit {} m²{largest}",
                    conversion_m2,
                    conversion_m2 / crate::area::M2_PER_MU,
                    limits.max_conversion_m2,
                ));
            }
            if !function_ok && let Some(d) = drop {
                violations.push(format!(
                    "function lowered: vegetated share fell by {:.3} percentage points ({:.2} % → {:.2} %), limit {:.3}",
                    100.0 * d,
                    100.0 * sb.unwrap_or(0.0),
                    100.0 * sa.unwrap_or(0.0),
                    100.0 * limits.max_vegetation_loss
                ));
            }
            PolygonCheck {
                id: z.id.clone(),
                name: z.name.clone(),
                valid_area_m2: valid,
                nodata_area_m2: z.nodata_area_m2,
                conversion_m2,
                conversions,
                vegetated_before_m2: vb,
                vegetated_after_m2: va,
                vegetated_share_before: sb,
                vegetated_share_after: sa,
                vegetated_share_drop: drop,
                nature_ok,
                function_ok,
                verified: verifiable,
                violations,
            }
        })
        .collect();
    let violations = polygons.iter().filter(|p| !p.violations.is_empty()).count();
    let mut warnings = change.warnings.clone();
    for (p, z) in polygons.iter().zip(&change.zones) {
        let share = p.valid_area_m2 / z.zone_area_m2;
        if z.zone_area_m2 > 0.0 && (MIN_VERIFIED_SHARE..0.99).contains(&share) {
            warnings.push(format!(
                "red line {:?}: only {:.1} % of it has valid land cover in both dates; its verdict speaks for that part",
                p.id,
                100.0 * share
            ));
        }
    }
    RedlineCheck {
        schema: REDLINE_SCHEMA.to_string(),
        kind: "check".to_string(),
        legend: change.legend.clone(),
        crs: change.crs.clone(),
        area: change.area,
        limits: *limits,
        polygons,
        violations,
        ok: violations == 0,
        warnings,
    }
}

fn verified_by_default() -> bool {
    true
}

/// Smallest share of a red line's area that must hold valid land cover in
/// both dates for its nature and function to be judged (a half).
pub(crate) const MIN_VERIFIED_SHARE: f64 = 0.5;

/// Largest share of the valid area that codes the legend does not list
/// may take before a verdict is refused (0.1 %).
pub(crate) const MAX_UNKNOWN_SHARE: f64 = 1e-3;

/// Refuses a verdict on land cover whose codes the legend does not know
/// (more than [`MAX_UNKNOWN_SHARE`] of the valid area in either date): a
/// wrong legend (`--legend worldcover` on CLCD) or a raster that is not
/// land cover (a DEM) would otherwise pass every check in silence.
pub(crate) fn refuse_unknown_codes(change: &ChangeReport, legend: &Legend) -> Result<()> {
    let (before, after) = change.areas_by_date();
    let files = crate::raster::files_label::<String>;
    let dates = [
        (
            format!("the first date ({})", files(&change.before)),
            &before,
        ),
        (
            format!("the second date ({})", files(&change.after)),
            &after,
        ),
    ];
    for (date, areas) in dates {
        if let Some((share, what)) = legend.unknown_codes(areas)
            && share > MAX_UNKNOWN_SHARE
        {
            return Err(crate::Error::Legend {
                source_name: legend.name.clone(),
                reason: format!(
                    "in {date} {what}: a verdict on codes of no known class would be wrong; give the land cover's own legend (--legend), or list the codes in a TOML legend"
                ),
            });
        }
    }
    Ok(())
}

/// Checks nature (no natural → artificial conversion beyond the limit)
/// and function (vegetated share not lowered beyond the limit) inside each
/// red-line polygon between two dates of land cover.
pub fn redline_check(
    before: &LandCover,
    after: &LandCover,
    redlines: &ZoneLayer,
    legend: &Legend,
    limits: &CheckLimits,
    opts: &RunOptions<'_>,
) -> Result<RedlineCheck> {
    limits.validate()?;
    let change = land_cover_change(before, after, redlines, legend, opts, None)?;
    refuse_unknown_codes(&change, legend)?;
    Ok(check_from_change(&change, legend, limits))
}
