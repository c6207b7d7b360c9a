//! The audit: a plan's measurable targets checked against the land cover
//! and the red lines, with every measured value, limit and verdict.
//!
//! An [`AuditConfig`] (TOML) names the inputs — land cover of two dates,
//! zones (towns), two versions of the red lines, a legend — and the
//! targets: forest cover, forest land in mu, red line not shrunk (面积不减少),
//! no natural → artificial conversion inside it (性质不改变), vegetated share
//! not lowered (功能不降低). [`run_audit`] computes everything with the same
//! library functions as `stats`, `change` and `redline`, so every number in
//! the `qingshan.audit/1` document equals what those commands give, bit for
//! bit. It reads the two dates once: the towns' transitions, the red
//! lines' transitions and the towns' after-date class areas come out of one
//! pass (the class areas take a pass of their own only when the after
//! date's tiles are not on the before date's grids and blocks).
//!
//! # Configuration
//! ```toml
//! title = "印台区青山保卫战目标核查"
//! title_en = "Yintai green-mountain plan: target audit"
//! legend = "clcd"                      # or a TOML legend file
//!
//! [landcover]
//! before = ["landcover/clcd_2019.vrt"] # paths relative to this file
//! after = ["landcover/clcd_2024.vrt"]
//! before_label = "2019"
//! after_label = "2024"
//!
//! [zones]                              # the towns (or any zones)
//! path = "towns.geojson"
//! # id_field = "code"
//!
//! [redlines]                           # optional
//! old = "redlines_2019.geojson"
//! new = "redlines_2024.gpkg"
//! id_field = "hx_id"
//!
//! [targets]                            # every key optional
//! forest_cover_min = 0.47              # each zone, after date
//! forest_area_min_mu = 523000          # forest land, in mu
//! forest_area_scope = "total"          # "total" (all zones) or "each"
//! forest_land_classes = [2]            # default: the legend's forest classes
//! redline_not_shrunk = true            # per zone (town) and in total
//! redline_tolerance_m2 = 1.0
//! redline_max_conversion_m2 = 0.0      # per red-line polygon
//! redline_max_vegetation_loss = 0.0    # per red-line polygon, fraction
//!
//! [[override]]                         # per zone, by id or attribute
//! zone = "azhuang"                     # or: attribute = "kind", value = "town"
//! forest_cover_min = 0.40
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::area::M2_PER_MU;
use crate::change::{ChangeReport, change_layers_and_stats};
use crate::engine::RunOptions;
use crate::legend::{ClassCode, Legend};
use crate::raster::LandCover;
use crate::redline::{
    CheckLimits, DiffOptions, RedlineCheck, RedlineDiff, check_from_change, redline_diff,
};
use crate::zonal::StatsReport;
use crate::zones::{Zone, ZoneLayer, ZoneOptions};
use crate::{Error, Result};

/// Schema tag of the audit JSON.
pub const AUDIT_SCHEMA: &str = "qingshan.audit/1";

/// Land cover of the two dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandCoverConfig {
    /// Rasters of the first date.
    pub before: Vec<String>,
    /// Rasters of the second (audited) date.
    pub after: Vec<String>,
    /// Label of the first date (e.g. a year).
    #[serde(default = "default_before")]
    pub before_label: String,
    /// Label of the second date.
    #[serde(default = "default_after")]
    pub after_label: String,
    /// Band holding the classes.
    #[serde(default = "default_band")]
    pub band: usize,
}

fn default_before() -> String {
    "before".into()
}
fn default_after() -> String {
    "after".into()
}
fn default_band() -> usize {
    1
}

/// A vector layer and how to read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZonesConfig {
    /// The file.
    pub path: String,
    /// Id attribute.
    pub id_field: Option<String>,
    /// Name attribute.
    pub name_field: Option<String>,
    /// Layer name.
    pub layer: Option<String>,
}

/// The two versions of the red lines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedlinesConfig {
    /// The baseline version.
    pub old: String,
    /// The version audited.
    pub new: String,
    /// Id attribute (both versions).
    pub id_field: Option<String>,
}

/// Targets (every one optional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Minimum forest cover (fraction) of each zone on the after date.
    pub forest_cover_min: Option<f64>,
    /// Minimum forest land in mu.
    pub forest_area_min_mu: Option<f64>,
    /// `total` (the sum over all zones, the default) or `each`.
    pub forest_area_scope: Option<String>,
    /// Classes counted as forest land (default: the legend's forest ones).
    pub forest_land_classes: Option<Vec<ClassCode>>,
    /// The red line must not shrink (per zone and in total).
    pub redline_not_shrunk: Option<bool>,
    /// Tolerance of "not shrunk" (m², default 1).
    pub redline_tolerance_m2: Option<f64>,
    /// Largest natural → artificial conversion per red-line polygon (m²).
    pub redline_max_conversion_m2: Option<f64>,
    /// Largest drop of the vegetated share per red-line polygon (fraction).
    pub redline_max_vegetation_loss: Option<f64>,
}

/// Targets for particular zones: by id, or by an attribute value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Zone id.
    pub zone: Option<String>,
    /// Attribute name (with `value`).
    pub attribute: Option<String>,
    /// Attribute value (with `attribute`).
    pub value: Option<Value>,
    /// Minimum forest cover for the matching zones.
    pub forest_cover_min: Option<f64>,
    /// Minimum forest land (mu) for each matching zone.
    pub forest_area_min_mu: Option<f64>,
}

/// An audit configuration (see the module docs for the TOML).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Title (Chinese).
    pub title: Option<String>,
    /// Title (English).
    pub title_en: Option<String>,
    /// Legend name or TOML file.
    #[serde(default = "default_legend")]
    pub legend: String,
    /// Land cover.
    pub landcover: LandCoverConfig,
    /// Zones (towns).
    pub zones: ZonesConfig,
    /// Red lines.
    pub redlines: Option<RedlinesConfig>,
    /// Targets.
    #[serde(default)]
    pub targets: Targets,
    /// Per-zone targets.
    #[serde(default, rename = "override")]
    pub overrides: Vec<Override>,
    /// Directory paths are relative to (the config file's), set on load.
    #[serde(skip)]
    pub base: PathBuf,
}

fn default_legend() -> String {
    "clcd".into()
}

impl AuditConfig {
    /// Reads an audit file; relative paths in it are relative to it.
    pub fn load(path: &Path) -> Result<AuditConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::open(path, e))?;
        let mut c: AuditConfig = toml::from_str(&text).map_err(|e| Error::Zones {
            path: path.to_path_buf(),
            reason: format!("not a valid audit file: {e}"),
        })?;
        c.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        c.validate(path)?;
        Ok(c)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |reason: String| Error::Zones {
            path: path.to_path_buf(),
            reason,
        };
        let t = &self.targets;
        for (name, v) in [
            ("forest_cover_min", t.forest_cover_min),
            ("redline_max_vegetation_loss", t.redline_max_vegetation_loss),
        ] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return Err(bad(format!(
                    "targets.{name} = {v}: a fraction between 0 and 1 (0.47 = 47 %)"
                )));
            }
        }
        for (name, v) in [
            ("forest_area_min_mu", t.forest_area_min_mu),
            ("redline_tolerance_m2", t.redline_tolerance_m2),
            ("redline_max_conversion_m2", t.redline_max_conversion_m2),
        ] {
            if let Some(v) = v
                && (v.is_nan() || v < 0.0)
            {
                return Err(bad(format!("targets.{name} = {v}: must not be negative")));
            }
        }
        if let Some(s) = &t.forest_area_scope
            && s != "total"
            && s != "each"
        {
            return Err(bad(format!(
                "targets.forest_area_scope = {s:?}: use \"total\" or \"each\""
            )));
        }
        if self.redlines.is_none()
            && (t.redline_not_shrunk.is_some()
                || t.redline_max_conversion_m2.is_some()
                || t.redline_max_vegetation_loss.is_some())
        {
            return Err(bad("red-line targets need a [redlines] section".into()));
        }
        for o in &self.overrides {
            if o.zone.is_none() && (o.attribute.is_none() || o.value.is_none()) {
                return Err(bad(
                    "each [[override]] needs zone = \"id\", or attribute and value".into(),
                ));
            }
        }
        Ok(())
    }

    /// A path of the config, made absolute against the config's directory.
    pub fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }
}

/// The inputs as resolved (what the report re-reads for its maps).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditInputs {
    /// Land cover of the first date.
    pub before: Vec<String>,
    /// Land cover of the second date.
    pub after: Vec<String>,
    /// Label of the first date.
    pub before_label: String,
    /// Label of the second date.
    pub after_label: String,
    /// Band.
    pub band: usize,
    /// Zones.
    pub zones: ZonesConfig,
    /// Red lines.
    pub redlines: Option<RedlinesConfig>,
    /// The legend, in full.
    pub legend: Legend,
}

/// One target, measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetResult {
    /// What is checked: `forest_cover_min`, `forest_area_min_mu`,
    /// `redline_not_shrunk`, `redline_max_conversion_m2`,
    /// `redline_max_vegetation_loss`.
    pub target: String,
    /// `zone`, `total` or `redline`.
    pub scope: String,
    /// Zone or red-line id (`null` for totals).
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// The measured value.
    pub measured: f64,
    /// The limit.
    pub limit: f64,
    /// Unit of both (`fraction`, `mu`, `m2`).
    pub unit: String,
    /// Whether the target is met.
    pub passed: bool,
    /// Where the measured value comes from in this document.
    pub source: String,
    /// The verdict in words (Chinese, then English).
    pub verdict: String,
}

/// What the report's card of one zone shows beyond its stats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneSummary {
    /// Zone id.
    pub id: String,
    /// Red-line polygons (audited version) that meet the zone.
    pub redlines: Vec<String>,
    /// Their natural → artificial conversion, summed (m²).
    pub redline_conversion_m2: f64,
}

/// The `qingshan.audit/1` document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Always [`AUDIT_SCHEMA`].
    pub schema: String,
    /// Title (Chinese).
    pub title: Option<String>,
    /// Title (English).
    pub title_en: Option<String>,
    /// The audit file.
    pub config: String,
    /// The inputs.
    pub inputs: AuditInputs,
    /// Every target met.
    pub passed: bool,
    /// Number of targets missed.
    pub missed: usize,
    /// Every target, measured.
    pub targets: Vec<TargetResult>,
    /// Zonal statistics of the zones on the after date (`qingshan stats`).
    pub stats: StatsReport,
    /// Change of the zones between the dates (`qingshan change`).
    pub change: ChangeReport,
    /// Red-line version diff (`qingshan redline diff`), with the zones as towns.
    pub redline_diff: Option<RedlineDiff>,
    /// Red-line nature and function (`qingshan redline check`).
    pub redline_check: Option<RedlineCheck>,
    /// Per zone: the red lines in it and their conversions.
    pub zone_summaries: Vec<ZoneSummary>,
    /// Things the user should know.
    pub warnings: Vec<String>,
}

impl AuditReport {
    /// Reads an `audit.json` written by [`run_audit`] (for
    /// `qingshan report`); anything else is an error naming the file.
    pub fn load(path: &Path) -> Result<AuditReport> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::open(path, e))?;
        let bad = |reason: String| Error::Zones {
            path: path.to_path_buf(),
            reason,
        };
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not JSON ({e})")))?;
        if doc.get("schema").and_then(|v| v.as_str()) != Some(AUDIT_SCHEMA) {
            return Err(bad(format!(
                "not a {AUDIT_SCHEMA} document (its schema is {}); give the audit.json that qingshan audit wrote",
                doc.get("schema")
                    .map_or("missing".into(), |v| v.to_string())
            )));
        }
        serde_json::from_value(doc)
            .map_err(|e| bad(format!("an incomplete {AUDIT_SCHEMA} document ({e})")))
    }
}

fn matches(o: &Override, z: &Zone) -> bool {
    if let Some(id) = &o.zone {
        return &z.id == id;
    }
    match (&o.attribute, &o.value) {
        (Some(a), Some(v)) => z.attributes.get(a) == Some(v),
        _ => false,
    }
}

/// Runs an audit: stats of the zones on the after date, change of the
/// zones and the red lines between the dates (one pass over both), the
/// red-line diff, and every target.
pub fn run_audit(
    config: &AuditConfig,
    config_path: &Path,
    opts: &RunOptions<'_>,
) -> Result<AuditReport> {
    let legend = match Legend::builtin(&config.legend) {
        Some(l) => l,
        None => Legend::load(&config.resolve(&config.legend).to_string_lossy())?,
    };
    let lc = &config.landcover;
    let paths = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|p| config.resolve(p).display().to_string())
            .collect()
    };
    let before = LandCover::open(&paths(&lc.before), lc.band)?;
    let after = LandCover::open(&paths(&lc.after), lc.band)?;
    let zones = ZoneLayer::read(
        &config.resolve(&config.zones.path),
        &ZoneOptions {
            id_field: config.zones.id_field.clone(),
            name_field: config.zones.name_field.clone(),
            layer: config.zones.layer.clone(),
            make_valid: false,
        },
    )?;
    let red = match &config.redlines {
        None => None,
        Some(r) => {
            let o = ZoneOptions {
                id_field: r.id_field.clone(),
                ..Default::default()
            };
            Some((
                ZoneLayer::read(&config.resolve(&r.old), &o)?,
                ZoneLayer::read(&config.resolve(&r.new), &o)?,
            ))
        }
    };
    // One pass over both dates for the towns' change, the red lines'
    // change and the towns' after-date class areas.
    let mut layers = vec![&zones];
    if let Some((_, new)) = &red {
        layers.push(new);
    }
    let (mut changes, stats) = change_layers_and_stats(&before, &after, &layers, &legend, opts)?;
    let red_change = (changes.len() > 1).then(|| changes.remove(1));
    let change = changes.remove(0);
    let t = &config.targets;
    let limits = CheckLimits {
        max_conversion_m2: t.redline_max_conversion_m2.unwrap_or(0.0),
        max_vegetation_loss: t.redline_max_vegetation_loss.unwrap_or(0.0),
    };
    let (redline_diff, redline_check) = match (&red, &red_change) {
        (Some((old, new)), Some(ch)) => {
            let d = redline_diff(
                old,
                new,
                Some(&zones),
                &DiffOptions {
                    tolerance_m2: t.redline_tolerance_m2.unwrap_or(1.0),
                    strict: false,
                },
            )?;
            // Nature and function of the audited (new) red lines.
            (Some(d), Some(check_from_change(ch, &legend, &limits)))
        }
        _ => (None, None),
    };

    let mut targets = Vec::new();
    let forest_land = |s: &crate::zonal::ZoneStats| -> f64 {
        match &t.forest_land_classes {
            None => s.forest_area_m2,
            Some(cs) => {
                crate::area::sum_m2(cs.iter().map(|c| s.classes.get(c).copied().unwrap_or(0.0)))
            }
        }
    };
    let land_source = |i: usize| match &t.forest_land_classes {
        None => format!("stats.zones[{i}].forest_area_m2 / (2000/3)"),
        Some(cs) => format!(
            "Σ stats.zones[{i}].classes[{}] / (2000/3)",
            cs.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let verdict = |ok: bool, zh: &str, en: &str| {
        format!(
            "{} {zh} / {} {en}",
            if ok { "达标" } else { "未达标" },
            if ok { "met:" } else { "missed:" }
        )
    };
    for (i, (zone, s)) in zones.zones.iter().zip(&stats.zones).enumerate() {
        let over = config.overrides.iter().filter(|o| matches(o, zone));
        let cover_min = over
            .clone()
            .find_map(|o| o.forest_cover_min)
            .or(t.forest_cover_min);
        if let Some(min) = cover_min {
            let measured = s.forest_cover.unwrap_or(0.0);
            let ok = s.forest_cover.is_some_and(|c| c >= min);
            targets.push(TargetResult {
                target: "forest_cover_min".into(),
                scope: "zone".into(),
                id: Some(zone.id.clone()),
                name: zone.name.clone(),
                measured,
                limit: min,
                unit: "fraction".into(),
                passed: ok,
                source: format!("stats.zones[{i}].forest_cover"),
                verdict: verdict(
                    ok,
                    &format!(
                        "森林覆盖率 {:.2}%，目标 ≥ {:.2}%",
                        100.0 * measured,
                        100.0 * min
                    ),
                    &format!(
                        "forest cover {:.2} %, target ≥ {:.2} %",
                        100.0 * measured,
                        100.0 * min
                    ),
                ),
            });
        }
        let each_min = over.clone().find_map(|o| o.forest_area_min_mu).or(
            if t.forest_area_scope.as_deref() == Some("each") {
                t.forest_area_min_mu
            } else {
                None
            },
        );
        if let Some(min) = each_min {
            let mu = forest_land(s) / M2_PER_MU;
            let ok = mu >= min;
            targets.push(TargetResult {
                target: "forest_area_min_mu".into(),
                scope: "zone".into(),
                id: Some(zone.id.clone()),
                name: zone.name.clone(),
                measured: mu,
                limit: min,
                unit: "mu".into(),
                passed: ok,
                source: land_source(i),
                verdict: verdict(
                    ok,
                    &format!("林地 {mu:.0} 亩，目标 ≥ {min:.0} 亩"),
                    &format!("forest land {mu:.0} mu, target ≥ {min:.0} mu"),
                ),
            });
        }
    }
    if let Some(min) = t.forest_area_min_mu
        && t.forest_area_scope.as_deref().unwrap_or("total") == "total"
    {
        let mu = crate::area::sum_m2(stats.zones.iter().map(forest_land)) / M2_PER_MU;
        let ok = mu >= min;
        targets.push(TargetResult {
            target: "forest_area_min_mu".into(),
            scope: "total".into(),
            id: None,
            name: None,
            measured: mu,
            limit: min,
            unit: "mu".into(),
            passed: ok,
            source: format!(
                "Σ over stats.zones of {}",
                land_source(0).replace("stats.zones[0]", "zone")
            ),
            verdict: verdict(
                ok,
                &format!("林地合计 {mu:.0} 亩，目标 ≥ {min:.0} 亩"),
                &format!("forest land in all zones {mu:.0} mu, target ≥ {min:.0} mu"),
            ),
        });
    }
    if let Some(d) = &redline_diff
        && t.redline_not_shrunk.unwrap_or(false)
    {
        for (i, town) in d.towns.iter().enumerate() {
            let ok = !town.shrunk;
            targets.push(TargetResult {
                target: "redline_not_shrunk".into(),
                scope: "zone".into(),
                id: Some(town.id.clone()),
                name: town.name.clone(),
                measured: town.delta_m2,
                limit: -d.tolerance_m2,
                unit: "m2".into(),
                passed: ok,
                source: format!("redline_diff.towns[{i}].delta_m2"),
                verdict: verdict(
                    ok,
                    &format!("生态保护红线面积变化 {:+.1} 亩", town.delta_m2 / M2_PER_MU),
                    &format!(
                        "red-line area changed by {:+.1} mu",
                        town.delta_m2 / M2_PER_MU
                    ),
                ),
            });
        }
        let ok = !d.shrunk;
        targets.push(TargetResult {
            target: "redline_not_shrunk".into(),
            scope: "total".into(),
            id: None,
            name: None,
            measured: d.delta_m2,
            limit: -d.tolerance_m2,
            unit: "m2".into(),
            passed: ok,
            source: "redline_diff.delta_m2".into(),
            verdict: verdict(
                ok,
                &format!("生态保护红线总面积变化 {:+.1} 亩", d.delta_m2 / M2_PER_MU),
                &format!(
                    "total red-line area changed by {:+.1} mu",
                    d.delta_m2 / M2_PER_MU
                ),
            ),
        });
    }
    if let Some(c) = &redline_check {
        for (i, p) in c.polygons.iter().enumerate() {
            if t.redline_max_conversion_m2.is_some() {
                targets.push(TargetResult {
                    target: "redline_max_conversion_m2".into(),
                    scope: "redline".into(),
                    id: Some(p.id.clone()),
                    name: p.name.clone(),
                    measured: p.conversion_m2,
                    limit: limits.max_conversion_m2,
                    unit: "m2".into(),
                    passed: p.nature_ok,
                    source: format!("redline_check.polygons[{i}].conversion_m2"),
                    verdict: verdict(
                        p.nature_ok,
                        &format!("自然→人工转换 {:.1} 亩", p.conversion_m2 / M2_PER_MU),
                        &format!(
                            "natural → artificial conversion {:.1} mu",
                            p.conversion_m2 / M2_PER_MU
                        ),
                    ),
                });
            }
            if t.redline_max_vegetation_loss.is_some() {
                let drop = p.vegetated_share_drop.unwrap_or(0.0);
                targets.push(TargetResult {
                    target: "redline_max_vegetation_loss".into(),
                    scope: "redline".into(),
                    id: Some(p.id.clone()),
                    name: p.name.clone(),
                    measured: drop,
                    limit: limits.max_vegetation_loss,
                    unit: "fraction".into(),
                    passed: p.function_ok,
                    source: format!("redline_check.polygons[{i}].vegetated_share_drop"),
                    verdict: verdict(
                        p.function_ok,
                        &format!("植被占比下降 {:.2} 个百分点", 100.0 * drop),
                        &format!("vegetated share fell by {:.2} points", 100.0 * drop),
                    ),
                });
            }
        }
    }
    // Which red lines (audited version) meet each zone.
    let in_zone_crs = match &red {
        Some((_, new)) => new.project(
            &zones.crs,
            Some(crate::zones::segment_length(&new.crs, 10.0)),
        )?,
        None => Vec::new(),
    };
    let mut zone_summaries = Vec::new();
    for zone in &zones.zones {
        let mut ids = Vec::new();
        let mut conv = 0.0;
        if let (Some((_, new)), Some(c)) = (&red, &redline_check) {
            use geo::Intersects;
            for (k, g) in in_zone_crs.iter().enumerate() {
                if g.intersects(&zone.geometry) {
                    ids.push(new.zones[k].id.clone());
                    conv += c.polygons[k].conversion_m2;
                }
            }
        }
        zone_summaries.push(ZoneSummary {
            id: zone.id.clone(),
            redlines: ids,
            redline_conversion_m2: conv,
        });
    }
    let missed = targets.iter().filter(|t| !t.passed).count();
    let mut warnings = stats.warnings.clone();
    warnings.extend(change.warnings.iter().cloned());
    if let Some(d) = &redline_diff {
        warnings.extend(d.warnings.iter().cloned());
    }
    // The same warning can come from stats and change: keep the first.
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    Ok(AuditReport {
        schema: AUDIT_SCHEMA.to_string(),
        title: config.title.clone(),
        title_en: config.title_en.clone(),
        config: config_path.display().to_string(),
        inputs: AuditInputs {
            before: paths(&lc.before),
            after: paths(&lc.after),
            before_label: lc.before_label.clone(),
            after_label: lc.after_label.clone(),
            band: lc.band,
            zones: ZonesConfig {
                path: config.resolve(&config.zones.path).display().to_string(),
                ..config.zones.clone()
            },
            redlines: config.redlines.as_ref().map(|r| RedlinesConfig {
                old: config.resolve(&r.old).display().to_string(),
                new: config.resolve(&r.new).display().to_string(),
                id_field: r.id_field.clone(),
            }),
            legend,
        },
        passed: missed == 0,
        missed,
        targets,
        stats,
        change,
        redline_diff,
        redline_check,
        zone_summaries,
        warnings,
    })
}
