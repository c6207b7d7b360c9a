//! `[landuse]`: the land survey's polygons (三调 DLTB) of the audited date,
//! from which the forest-land target (林地保有量) is measured — the figure a
//! county's land office reports — and whose forest cover the report shows
//! beside the raster's.
//!
//! ```toml
//! [landuse]
//! path = "landuse/dltb_2024.gpkg"
//! class_field = "DLBM"
//! # layer = "DLTB"; area_field = "TBDLMJ"; legend = "sandiao" (default);
//! # forest_flag_field = "TGGMBZ" (国家特别规定灌木林地 counts as forest)
//! ```

use serde::{Deserialize, Serialize};

use super::config::AuditConfig;
use crate::engine::{RunOptions, Runner};
use crate::landuse::{LandUse, LandUseOptions, landuse_stats};
use crate::legend::Legend;
use crate::zonal::StatsReport;
use crate::zones::ZoneLayer;
use crate::{Error, Result};

/// The `[landuse]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandUseConfig {
    /// The land-use layer (GeoPackage, Shapefile, …).
    pub path: String,
    /// The field of class codes (`DLBM`).
    pub class_field: String,
    /// The layer (default: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// A field of recorded areas (m², e.g. `TBDLMJ`) to report instead of
    /// the computed ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_field: Option<String>,
    /// A field flagging 国家特别规定灌木林地 (flagged shrub forest land
    /// counts as forest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forest_flag_field: Option<String>,
    /// Its legend (default `sandiao`).
    #[serde(default = "default_landuse_legend")]
    pub legend: String,
}

fn default_landuse_legend() -> String {
    "sandiao".into()
}

/// Measures the land-use layer in the zones (`None` without `[landuse]`).
pub(super) fn measure_landuse(
    config: &AuditConfig,
    zones: &ZoneLayer,
    opts: &RunOptions<'_>,
) -> Result<Option<StatsReport>> {
    let Some(c) = &config.landuse else {
        return Ok(None);
    };
    let legend = match Legend::builtin(&c.legend) {
        Some(l) => l,
        None => Legend::load(&config.resolve(&c.legend).display().to_string())?,
    };
    if !legend.has_forest_land() {
        return Err(Error::Invalid(format!(
            "[landuse] legend {:?} has no forest-land classes: use \"sandiao\" or a TOML legend with forest_land = true",
            c.legend
        )));
    }
    // Read on the run's pool: the layer's validity sweep runs on it.
    let options = LandUseOptions {
        class_field: c.class_field.clone(),
        layer: c.layer.clone(),
        area_field: c.area_field.clone(),
        forest_flag_field: c.forest_flag_field.clone(),
        ..Default::default()
    };
    let path = config.resolve(&c.path);
    let lu = Runner::new(opts)?.install(|| LandUse::read(&path, &options))?;
    let mut report = landuse_stats(&lu, zones, &legend, config.area, opts)?;
    report.warnings = report
        .warnings
        .into_iter()
        .map(|w| format!("land use: {w}"))
        .collect();
    Ok(Some(report))
}
