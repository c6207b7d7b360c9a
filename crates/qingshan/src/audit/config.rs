//! The audit file (TOML): inputs, targets and per-zone overrides, checked
//! on load so a bad file fails before any pixel is read.
//!
//! Invariant: a loaded [`AuditConfig`] has every fraction in [0, 1],
//! every area and tolerance ≥ 0, and red-line targets only with red lines.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::area::AreaMode;
use serde_json::Value;

use crate::legend::ClassCode;
use crate::zones::Zone;
use crate::{Error, Result};

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
    /// Text encoding of a shapefile's attributes (see
    /// [`crate::zones::ZoneOptions::encoding`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
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
    /// Text encoding of shapefile attributes (both versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

/// The terrain: a DEM and, optionally, cropland polygons to grade
/// (`[terrain]`; see [`crate::slope`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerrainConfig {
    /// DEM files, VRTs, directories or patterns (one grid).
    pub dem: Vec<String>,
    /// Band holding the heights.
    #[serde(default = "default_band")]
    pub dem_band: usize,
    /// Upper bounds of the slope grades in degrees (default 2, 6, 15, 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grades: Option<Vec<f64>>,
    /// Cropland polygons (e.g. the land survey's DLTB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cropland: Option<String>,
    /// Layer of the cropland file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cropland_layer: Option<String>,
    /// Id attribute of the cropland polygons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cropland_id_field: Option<String>,
    /// Class attribute of the cropland polygons (e.g. `DLBM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_field: Option<String>,
    /// Codes that are cropland (default: 0101, 0102, 0103).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cropland_codes: Vec<String>,
    /// Text encoding of a shapefile's attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

impl TerrainConfig {
    /// Reads the cropland polygons at `path` (the `cropland` file, resolved)
    /// with this section's layer, id field and encoding, keeping the
    /// cropland classes.
    pub fn read_cropland(&self, path: &Path) -> Result<crate::slope::Cropland> {
        let layer = crate::zones::ZoneLayer::read(
            path,
            &crate::zones::ZoneOptions {
                id_field: self.cropland_id_field.clone(),
                layer: self.cropland_layer.clone(),
                encoding: self.encoding.clone(),
                ..Default::default()
            },
        )?;
        crate::slope::Cropland::select(layer, self.class_field.as_deref(), &self.cropland_codes)
    }
}

/// A vegetation index (or any continuous raster) on both dates
/// (`[index]`): measured inside the baseline red lines for "function not
/// lowered" (功能不降低), and shown in the report. Its two rasters are the
/// audit's two dates (labelled as `[landcover]` labels them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    /// What it is (`NDVI`, `FVC`, `NPP`), for the report.
    #[serde(default = "default_index_name")]
    pub name: String,
    /// Rasters of the first date.
    pub before: Vec<String>,
    /// Rasters of the second (audited) date.
    pub after: Vec<String>,
    /// Band holding the values.
    #[serde(default = "default_band")]
    pub band: usize,
    /// How stored numbers become values: `file` (the default), `none`, or
    /// `SCALE,OFFSET` (see [`crate::values::ScaleOffset::parse`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_offset: Option<String>,
    /// The statistic compared between the dates (default `mean`).
    #[serde(default = "default_index_stat")]
    pub stat: String,
}

fn default_index_name() -> String {
    "index".into()
}
fn default_index_stat() -> String {
    "mean".into()
}

/// An annual (or any) land-cover series (`[series]`): forest cover of
/// each zone at every date, for the trend chart and target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesConfig {
    /// Date label → land cover (a file, VRT, directory, glob or list).
    pub landcover: std::collections::BTreeMap<String, String>,
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
    /// Most cropland (the legend's cropland classes, after date) on the
    /// steepest slope grade, in mu (needs `[terrain]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steep_cropland_max_mu: Option<f64>,
    /// `total` (the default) or `each` zone, for `steep_cropland_max_mu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steep_cropland_scope: Option<String>,
    /// Cropland on the steepest grade must not grow between the two dates
    /// (per zone and in total; needs `[terrain]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steep_cropland_not_increased: Option<bool>,
    /// The index's statistic inside each baseline red line must not fall
    /// between the dates by more than `redline_index_tolerance` (needs
    /// `[index]` and `[redlines]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redline_index_not_lowered: Option<bool>,
    /// The largest fall of the index allowed, in its units (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redline_index_tolerance: Option<f64>,
    /// Forest cover of each zone must not fall from one date to the next
    /// over the last N dates of `[series]` (N ≥ 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forest_cover_trend_dates: Option<usize>,
    /// The largest fall allowed between two dates (fraction, default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forest_cover_trend_tolerance: Option<f64>,
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
    /// Terrain (a DEM, cropland polygons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terrain: Option<TerrainConfig>,
    /// A vegetation index on both dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexConfig>,
    /// A land-cover series for the trend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesConfig>,
    /// The land survey's polygons of the audited date (forest land from them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landuse: Option<super::landuse::LandUseConfig>,
    /// Targets.
    #[serde(default)]
    pub targets: Targets,
    /// How areas are measured (`ellipsoidal`, the default, or `planar`).
    #[serde(default)]
    pub area: AreaMode,
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
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        let mut c: AuditConfig = toml::from_str(&text).map_err(|e| {
            Error::document(
                path,
                format!(
                    "not a valid audit file: {}",
                    crate::error::toml_message(&text, &e)
                ),
            )
        })?;
        c.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        c.validate(path)?;
        Ok(c)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |reason: String| Error::document(path, reason);
        let t = &self.targets;
        for (name, v) in [
            ("forest_cover_min", t.forest_cover_min),
            ("redline_max_vegetation_loss", t.redline_max_vegetation_loss),
            (
                "forest_cover_trend_tolerance",
                t.forest_cover_trend_tolerance,
            ),
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
            ("steep_cropland_max_mu", t.steep_cropland_max_mu),
            ("redline_index_tolerance", t.redline_index_tolerance),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(bad(format!(
                    "targets.{name} = {v}: must be a number, not negative"
                )));
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
        if let Some(s) = &t.steep_cropland_scope
            && s != "total"
            && s != "each"
        {
            return Err(bad(format!(
                "targets.steep_cropland_scope = {s:?}: use \"total\" or \"each\""
            )));
        }
        if t.steep_cropland_scope.is_some() && t.steep_cropland_max_mu.is_none() {
            return Err(bad(
                "targets.steep_cropland_scope applies to steep_cropland_max_mu, which is not set"
                    .into(),
            ));
        }
        if self.terrain.is_none()
            && (t.steep_cropland_max_mu.is_some() || t.steep_cropland_not_increased.is_some())
        {
            return Err(bad(
                "steep-cropland targets need a [terrain] section with the DEM (dem = [\"dem.tif\"])".into(),
            ));
        }
        self.validate_index_and_series(path)?;
        if let Some(g) = self.terrain.as_ref().and_then(|t| t.grades.clone()) {
            crate::slope::Grades::new(g).map_err(|e| bad(format!("terrain.grades: {e}")))?;
        }
        if self.redlines.is_none()
            && (t.redline_not_shrunk.is_some()
                || t.redline_max_conversion_m2.is_some()
                || t.redline_max_vegetation_loss.is_some())
        {
            return Err(bad("red-line targets need a [redlines] section".into()));
        }
        for (k, o) in self.overrides.iter().enumerate() {
            if o.zone.is_none() && (o.attribute.is_none() || o.value.is_none()) {
                return Err(bad(
                    "each [[override]] needs zone = \"id\", or attribute and value".into(),
                ));
            }
            if let Some(v) = o.forest_cover_min
                && !(0.0..=1.0).contains(&v)
            {
                return Err(bad(format!(
                    "override #{}: forest_cover_min = {v}: a fraction between 0 and 1 (0.47 = 47 %)",
                    k + 1
                )));
            }
            if let Some(v) = o.forest_area_min_mu
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(bad(format!(
                    "override #{}: forest_area_min_mu = {v}: must be a number, not negative",
                    k + 1
                )));
            }
        }
        Ok(())
    }

    /// `[index]`, `[series]` and the targets that need them.
    fn validate_index_and_series(&self, path: &Path) -> Result<()> {
        let bad = |reason: String| Error::document(path, reason);
        let t = &self.targets;
        if let Some(i) = &self.index {
            if let Some(so) = &i.scale_offset {
                crate::values::ScaleOffset::parse(so)
                    .map_err(|e| bad(format!("index.scale_offset: {e}")))?;
            }
            let stat =
                crate::values::Stat::parse(&i.stat).map_err(|e| bad(format!("index.stat: {e}")))?;
            if matches!(stat, crate::values::Stat::Count | crate::values::Stat::Sum) {
                return Err(bad(format!(
                    "index.stat = {:?}: count and sum grow with the area measured, not with the index; use mean (or median, a percentile)",
                    i.stat
                )));
            }
        }
        if t.redline_index_not_lowered.is_some() || t.redline_index_tolerance.is_some() {
            if self.index.is_none() {
                return Err(bad(
                    "redline_index targets need an [index] section (before = [\"ndvi_2019.tif\"], after = [\"ndvi_2024.tif\"])".into(),
                ));
            }
            if self.redlines.is_none() {
                return Err(bad("redline_index targets need a [redlines] section".into()));
            }
        }
        if let Some(s) = &self.series
            && s.landcover.is_empty()
        {
            return Err(bad(
                "[series] names no land cover: landcover = { 2019 = \"clcd_2019.tif\", 2020 = \"clcd_2020.tif\" }".into(),
            ));
        }
        if let Some(n) = t.forest_cover_trend_dates {
            let dates = self.series.as_ref().map_or(0, |s| s.landcover.len());
            if self.series.is_none() {
                return Err(bad(
                    "targets.forest_cover_trend_dates needs a [series] section with the land cover of each date".into(),
                ));
            }
            if n < 2 || n > dates {
                return Err(bad(format!(
                    "targets.forest_cover_trend_dates = {n}: give 2 to {dates} (the dates in [series])"
                )));
            }
        }
        if t.redline_index_tolerance.is_some() && t.redline_index_not_lowered.is_none() {
            return Err(bad(
                "targets.redline_index_tolerance applies to redline_index_not_lowered, which is not set".into(),
            ));
        }
        if t.forest_cover_trend_tolerance.is_some() && t.forest_cover_trend_dates.is_none() {
            return Err(bad(
                "targets.forest_cover_trend_tolerance applies to forest_cover_trend_dates, which is not set".into(),
            ));
        }
        Ok(())
    }

    /// Checks what only the inputs can tell: every override matches a
    /// zone (an id spelt otherwise, or an attribute value of another type,
    /// would fall back to the default target in silence), and the forest
    /// land classes are classes of the legend.
    pub(crate) fn check_against(
        &self,
        path: &Path,
        zones: &crate::zones::ZoneLayer,
        legend: &crate::legend::Legend,
    ) -> Result<()> {
        for (k, o) in self.overrides.iter().enumerate() {
            if zones.zones.iter().any(|z| o.matches(z)) {
                continue;
            }
            let what = match (&o.zone, &o.attribute, &o.value) {
                (Some(id), _, _) => format!(
                    "zone = {id:?} matches no zone; the zone ids are: {}",
                    zones
                        .zones
                        .iter()
                        .map(|z| z.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (None, Some(a), Some(v)) => {
                    let mut seen: Vec<String> = zones
                        .zones
                        .iter()
                        .filter_map(|z| z.attributes.get(a).map(|x| x.to_string()))
                        .collect();
                    seen.sort();
                    seen.dedup();
                    format!(
                        "attribute {a:?} = {v} matches no zone; its values are: {} (strings must be quoted in TOML, numbers not)",
                        if seen.is_empty() {
                            "none: no zone has it".to_string()
                        } else {
                            seen.join(", ")
                        }
                    )
                }
                _ => "matches no zone".to_string(),
            };
            return Err(Error::document(
                path,
                format!("override #{}: {what}", k + 1),
            ));
        }
        if self.landuse.is_some() && self.targets.forest_land_classes.is_some() {
            return Err(Error::document(
                path,
                "targets.forest_land_classes picks raster classes, but with [landuse] forest land is the survey's (03xx in sandiao); remove one of them",
            ));
        }
        if let Some(cs) = &self.targets.forest_land_classes
            && let Some(c) = cs.iter().find(|c| legend.class(**c).is_none())
        {
            return Err(Error::document(
                path,
                format!(
                    "targets.forest_land_classes: {c} is not a class of the legend {} (its classes are {})",
                    legend.name,
                    legend
                        .classes
                        .keys()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Paths of the config, each made absolute against the config's
    /// directory, as text.
    pub fn resolve_all(&self, paths: &[String]) -> Vec<String> {
        paths
            .iter()
            .map(|p| self.resolve(p).display().to_string())
            .collect()
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

impl Override {
    /// Whether this override applies to zone `z` (by id, or by attribute
    /// value).
    pub fn matches(&self, z: &Zone) -> bool {
        if let Some(id) = &self.zone {
            return &z.id == id;
        }
        match (&self.attribute, &self.value) {
            (Some(a), Some(v)) => z.attributes.get(a) == Some(v),
            _ => false,
        }
    }
}
