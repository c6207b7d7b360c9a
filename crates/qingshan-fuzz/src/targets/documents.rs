//! TOML documents: legends and audit configurations.

use std::path::Path;

use qingshan::audit::AuditConfig;
use qingshan::legend::Legend;

use super::{non_negative, proper_rejection};
use crate::Outcome;

/// Legends to mutate: an extension of a built-in one and a full scheme.
pub(crate) const LEGEND_SEEDS: &[&str] = &[
    "name = \"clcd-shrub-forest\"\nextends = \"clcd\"\n[[class]]\ncode = 3\nforest = true\n",
    "name = \"county\"\nnodata = [0, 255]\n\
     [[class]]\ncode = 1\nname = \"Cropland\"\nname_zh = \"耕地\"\nkind = \"cropland\"\ncolor = \"#f0e68c\"\n\
     [[class]]\ncode = 2\nname = \"Forest\"\nname_zh = \"林地\"\nkind = \"forest\"\n\
     [[class]]\ncode = 3\nname = \"Shrub\"\nkind = \"shrub\"\nforest = true\nvegetated = true\n\
     [[class]]\ncode = 8\nname = \"Built-up\"\nkind = \"built\"\nartificial = true\nnatural = false\n",
];

/// An audit configuration with overrides and every target.
pub(crate) const AUDIT_OVERRIDES: &str = "legend = \"clcd\"\narea = \"planar\"\n\
    [landcover]\nbefore = [\"landcover/clcd_2019.vrt\"]\nafter = [\"landcover/clcd_2024.vrt\"]\n\
    [zones]\npath = \"towns.geojson\"\nid_field = \"code\"\n\
    [targets]\nforest_cover_min = 0.47\nforest_area_min_mu = 1000\nforest_area_scope = \"each\"\n\
    [[override]]\nzone = \"azhuang\"\nforest_cover_min = 0.4\n\
    [[override]]\nattribute = \"kind\"\nvalue = \"town\"\nforest_area_min_mu = 0\n";

pub(crate) fn legend(input: &[u8]) -> Result<Outcome, String> {
    let text = String::from_utf8_lossy(input);
    let legend = match Legend::from_toml(&text, "fuzz-legend.toml") {
        Ok(l) => l,
        Err(e) => return proper_rejection(&e, "fuzz-legend.toml"),
    };
    for (code, def) in &legend.classes {
        if *code != def.code {
            return Err(format!("class keyed {code} holds code {}", def.code));
        }
        let _ = (legend.name_of(*code), legend.color_of(*code));
    }
    Ok(Outcome::Accepted)
}

pub(crate) fn audit(dir: &Path, input: &[u8]) -> Result<Outcome, String> {
    let path = dir.join("fx").join("fuzz-audit.toml");
    std::fs::write(&path, input).map_err(|e| e.to_string())?;
    let config = match AuditConfig::load(&path) {
        Ok(c) => c,
        Err(e) => return proper_rejection(&e, "fuzz-audit.toml"),
    };
    let t = &config.targets;
    if let Some(v) = t.forest_cover_min
        && !(0.0..=1.0).contains(&v)
    {
        return Err(format!("forest_cover_min = {v} accepted"));
    }
    if let Some(v) = t.forest_area_min_mu {
        non_negative("forest_area_min_mu", v)?;
    }
    for o in &config.overrides {
        if let Some(v) = o.forest_cover_min
            && !(0.0..=1.0).contains(&v)
        {
            return Err(format!("override forest_cover_min = {v} accepted"));
        }
        if let Some(v) = o.forest_area_min_mu {
            non_negative("override forest_area_min_mu", v)?;
        }
    }
    Ok(Outcome::Accepted)
}
