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
//! [index]                              # optional: 功能不降低 by an index
//! name = "NDVI"
//! before = ["ndvi/ndvi_2019.tif"]
//! after = ["ndvi/ndvi_2024.tif"]
//! stat = "mean"                        # any `qingshan values` statistic
//! # scale_offset = "0.0001,0"          # default: the band's own
//!
//! [series.landcover]                   # optional: land cover per date
//! 2019 = "landcover/clcd_2019.vrt"
//! 2020 = "landcover/series/clcd_2020.tif"
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
//! redline_index_not_lowered = true     # per baseline red line ([index])
//! redline_index_tolerance = 0.01       # in the index's units
//! forest_cover_trend_dates = 3         # no fall over the last 3 dates ([series])
//!
//! [[override]]                         # per zone, by id or attribute
//! zone = "azhuang"                     # or: attribute = "kind", value = "town"
//! forest_cover_min = 0.40
//! ```

mod config;
mod landuse;
mod targets;
mod terrain;
mod vegetation;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::area::AreaMode;
use crate::change::{ChangeReport, change_layers_and_stats};
use crate::engine::RunOptions;
use crate::legend::Legend;
use crate::raster::LandCover;
use crate::redline::{
    CheckLimits, DiffOptions, RedlineCheck, RedlineDiff, check_from_change, redline_diff,
};
use crate::zonal::StatsReport;
use crate::zones::{ZoneLayer, ZoneOptions};
use crate::{Error, Result};

pub use config::{
    AuditConfig, IndexConfig, LandCoverConfig, Override, RedlinesConfig, SeriesConfig, Targets,
    TerrainConfig, ZonesConfig,
};
pub use landuse::LandUseConfig;
pub use vegetation::IndexReport;

/// Schema tag of the audit JSON.
pub const AUDIT_SCHEMA: &str = "qingshan.audit/1";

/// The inputs as resolved (paths absolute, the legend in full).
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
    /// How areas were measured.
    #[serde(default = "crate::area::AreaMode::unrecorded")]
    pub area: AreaMode,
    /// The terrain inputs (paths absolute), when the audit had them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terrain: Option<TerrainConfig>,
    /// The vegetation index inputs (paths absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexConfig>,
    /// The land-cover series (paths absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesConfig>,
    /// The land-use layer (path absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landuse: Option<LandUseConfig>,
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
    /// Slope grades per zone with the after date's land cover, and the
    /// cropland polygons' grades (`[terrain]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope: Option<crate::slope::SlopeReport>,
    /// The same with the before date's land cover (no polygons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope_before: Option<crate::slope::SlopeReport>,
    /// The vegetation index inside the baseline red lines on both dates
    /// (`[index]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexReport>,
    /// Forest cover of the zones at every date of `[series]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<crate::series::SeriesReport>,
    /// Class areas, forest land and forest cover of the zones from the
    /// land survey's polygons (`[landuse]`; `qingshan stats --landuse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landuse: Option<StatsReport>,
    /// Per zone: the red lines in it and their conversions.
    pub zone_summaries: Vec<ZoneSummary>,
    /// Things the user should know.
    pub warnings: Vec<String>,
}

impl AuditReport {
    /// Reads an `audit.json` written by [`run_audit`] (for
    /// `qingshan report`); anything else is an error naming the file.
    pub fn load(path: &Path) -> Result<AuditReport> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        let bad = |reason: String| Error::document(path, reason);
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

/// An audit's inputs, opened.
struct Opened {
    legend: Legend,
    before: LandCover,
    after: LandCover,
    zones: ZoneLayer,
    /// The baseline and the audited red lines.
    redlines: Option<(ZoneLayer, ZoneLayer)>,
}

impl Opened {
    /// Opens the land cover of both dates and reads the zones and red
    /// lines named by `config` (paths relative to the config file).
    fn open(config: &AuditConfig) -> Result<Opened> {
        let legend = match Legend::builtin(&config.legend) {
            Some(l) => l,
            None => Legend::load(&config.resolve(&config.legend).to_string_lossy())?,
        };
        let lc = &config.landcover;
        let before =
            LandCover::open(&config.resolve_all(&lc.before), lc.band)?.with_area(config.area);
        let after =
            LandCover::open(&config.resolve_all(&lc.after), lc.band)?.with_area(config.area);
        let zones = ZoneLayer::read(
            &config.resolve(&config.zones.path),
            &ZoneOptions {
                id_field: config.zones.id_field.clone(),
                name_field: config.zones.name_field.clone(),
                layer: config.zones.layer.clone(),
                make_valid: false,
                encoding: config.zones.encoding.clone(),
            },
        )?;
        let redlines = match &config.redlines {
            None => None,
            Some(r) => {
                let o = ZoneOptions {
                    id_field: r.id_field.clone(),
                    encoding: r.encoding.clone(),
                    ..Default::default()
                };
                Some((
                    ZoneLayer::read(&config.resolve(&r.old), &o)?,
                    ZoneLayer::read(&config.resolve(&r.new), &o)?,
                ))
            }
        };
        Ok(Opened {
            legend,
            before,
            after,
            zones,
            redlines,
        })
    }
}

/// What the land cover and the red lines say.
struct Measurements {
    stats: StatsReport,
    change: ChangeReport,
    redline_diff: Option<RedlineDiff>,
    redline_check: Option<RedlineCheck>,
}

/// Measures everything the targets need: one pass over both dates for the
/// towns' change, the red lines' change and the towns' after-date class
/// areas; the red-line diff (with the zones as towns); nature and
/// function of the audited red lines.
fn measure(
    inp: &Opened,
    config: &AuditConfig,
    limits: &CheckLimits,
    opts: &RunOptions<'_>,
) -> Result<Measurements> {
    let mut layers = vec![&inp.zones];
    if let Some((_, new)) = &inp.redlines {
        layers.push(new);
    }
    let (mut changes, stats) =
        change_layers_and_stats(&inp.before, &inp.after, &layers, &inp.legend, opts)?;
    for c in &changes {
        crate::redline::refuse_unknown_codes(c, &inp.legend)?;
    }
    let red_change = (changes.len() > 1).then(|| changes.remove(1));
    let change = changes.remove(0);
    let (redline_diff, redline_check) = match (&inp.redlines, &red_change) {
        (Some((old, new)), Some(ch)) => {
            let d = redline_diff(
                old,
                new,
                Some(&inp.zones),
                &DiffOptions {
                    tolerance_m2: config.targets.redline_tolerance_m2.unwrap_or(1.0),
                    strict: false,
                    area: config.area,
                },
            )?;
            // Nature and function of the audited (new) red lines.
            (Some(d), Some(check_from_change(ch, &inp.legend, limits)))
        }
        _ => (None, None),
    };
    Ok(Measurements {
        stats,
        change,
        redline_diff,
        redline_check,
    })
}

/// Which red lines (audited version) meet each zone, and their
/// conversions summed.
fn zone_summaries(inp: &Opened, check: Option<&RedlineCheck>) -> Result<Vec<ZoneSummary>> {
    let in_zone_crs = match &inp.redlines {
        Some((_, new)) => new.project(
            &inp.zones.crs,
            Some(crate::zones::segment_length(&new.crs, 10.0)),
        )?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for zone in &inp.zones.zones {
        let mut ids = Vec::new();
        let mut conv = 0.0;
        if let (Some((_, new)), Some(c)) = (&inp.redlines, check) {
            use geo::Intersects;
            for (k, g) in in_zone_crs.iter().enumerate() {
                if g.intersects(&zone.geometry) {
                    ids.push(new.zones[k].id.clone());
                    conv += c.polygons[k].conversion_m2;
                }
            }
        }
        out.push(ZoneSummary {
            id: zone.id.clone(),
            redlines: ids,
            redline_conversion_m2: conv,
        });
    }
    Ok(out)
}

/// Every part's warnings, once each (the same one can come from stats and
/// change: the first is kept).
fn all_warnings(
    config: &AuditConfig,
    m: &Measurements,
    terrain: Option<&terrain::TerrainMeasured>,
    index: Option<&IndexReport>,
    series: Option<&crate::series::SeriesReport>,
    landuse: Option<&StatsReport>,
) -> Vec<String> {
    let mut warnings = m.stats.warnings.clone();
    warnings.extend(m.change.warnings.iter().cloned());
    if let Some(d) = &m.redline_diff {
        warnings.extend(d.warnings.iter().cloned());
    }
    if let Some(tm) = terrain {
        warnings.extend(tm.after.warnings.iter().cloned());
        warnings.extend(tm.before.warnings.iter().cloned());
    }
    if let Some(ix) = index {
        let (b, a) = (
            &config.landcover.before_label,
            &config.landcover.after_label,
        );
        warnings.extend(
            ix.before
                .warnings
                .iter()
                .map(|w| format!("{} {b}: {w}", ix.name)),
        );
        warnings.extend(
            ix.after
                .warnings
                .iter()
                .map(|w| format!("{} {a}: {w}", ix.name)),
        );
    }
    if let Some(s) = series {
        warnings.extend(s.warnings.iter().map(|w| format!("series {w}")));
    }
    if let Some(l) = landuse {
        warnings.extend(l.warnings.iter().cloned());
    }
    // The same warning can come from stats and change: keep the first.
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    warnings
}

/// Runs an audit: stats of the zones on the after date, change of the
/// zones and the red lines between the dates (one pass over both), the
/// red-line diff, and every target.
pub fn run_audit(
    config: &AuditConfig,
    config_path: &Path,
    opts: &RunOptions<'_>,
) -> Result<AuditReport> {
    let inp = Opened::open(config)?;
    config.check_against(config_path, &inp.zones, &inp.legend)?;
    let t = &config.targets;
    let limits = CheckLimits {
        max_conversion_m2: t.redline_max_conversion_m2.unwrap_or(0.0),
        max_vegetation_loss: t.redline_max_vegetation_loss.unwrap_or(0.0),
    };
    let m = measure(&inp, config, &limits, opts)?;
    let landuse = landuse::measure_landuse(config, &inp.zones, opts)?;
    let terrain = terrain::measure(
        config,
        &inp.zones,
        &inp.legend,
        (&inp.before, &inp.after),
        opts,
    )?;
    let mut targets = targets::evaluate(
        config,
        &targets::Measured {
            zones: &inp.zones,
            stats: &m.stats,
            landuse: landuse.as_ref(),
            diff: m.redline_diff.as_ref(),
            check: m.redline_check.as_ref(),
            limits: &limits,
        },
    );
    if let Some(tm) = &terrain {
        terrain::steep_targets(config, tm, &mut targets);
    }
    let index = vegetation::measure_index(
        config,
        &inp.zones,
        inp.redlines.as_ref().map(|(old, _)| old),
        opts,
    )?;
    if let Some(ix) = &index {
        vegetation::index_targets(config, ix, &mut targets);
    }
    let series =
        vegetation::measure_series(config, &inp.zones, &inp.legend, config.landcover.band, opts)?;
    if let Some(s) = &series {
        vegetation::trend_targets(config, s, &mut targets);
    }
    let zone_summaries = zone_summaries(&inp, m.redline_check.as_ref())?;
    let missed = targets.iter().filter(|t| !t.passed).count();
    let warnings = all_warnings(
        config,
        &m,
        terrain.as_ref(),
        index.as_ref(),
        series.as_ref(),
        landuse.as_ref(),
    );
    let lc = &config.landcover;
    Ok(AuditReport {
        schema: AUDIT_SCHEMA.to_string(),
        title: config.title.clone(),
        title_en: config.title_en.clone(),
        config: config_path.display().to_string(),
        inputs: AuditInputs {
            before: config.resolve_all(&lc.before),
            after: config.resolve_all(&lc.after),
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
                encoding: r.encoding.clone(),
            }),
            legend: inp.legend,
            area: config.area,
            terrain: config.terrain.as_ref().map(|t| TerrainConfig {
                dem: config.resolve_all(&t.dem),
                cropland: t
                    .cropland
                    .as_ref()
                    .map(|p| config.resolve(p).display().to_string()),
                ..t.clone()
            }),
            index: config.index.as_ref().map(|i| IndexConfig {
                before: config.resolve_all(&i.before),
                after: config.resolve_all(&i.after),
                ..i.clone()
            }),
            series: config.series.as_ref().map(|s| SeriesConfig {
                landcover: s
                    .landcover
                    .iter()
                    .map(|(d, p)| (d.clone(), config.resolve(p).display().to_string()))
                    .collect(),
            }),
            landuse: config.landuse.as_ref().map(|l| LandUseConfig {
                path: config.resolve(&l.path).display().to_string(),
                ..l.clone()
            }),
        },
        passed: missed == 0,
        missed,
        targets,
        stats: m.stats,
        change: m.change,
        redline_diff: m.redline_diff,
        redline_check: m.redline_check,
        slope: terrain.as_ref().map(|t| t.after.clone()),
        slope_before: terrain.map(|t| t.before),
        index,
        series,
        landuse,
        zone_summaries,
        warnings,
    })
}
