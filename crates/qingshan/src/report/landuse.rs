//! The land-survey part of the report (`[landuse]`): forest cover from the
//! satellite land cover beside the survey's, forest land (林地) from the
//! survey, and why the two forest covers differ — every number tagged with
//! its path in `audit.json`.

use std::fmt::Write as _;

use super::html::{Page, Unit, esc};
use crate::audit::AuditReport;

/// The section, when the audit has `[landuse]`.
pub(super) fn section(p: &mut Page, audit: &AuditReport) {
    let Some(lu) = &audit.landuse else {
        return;
    };
    let date = esc(&audit.inputs.after_label);
    p.push(&format!(
        r#"<section><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        p.t("森林覆盖率：遥感与三调对比", "Forest cover: land cover and land survey side by side"),
        p.t("镇", "zone"),
        p.t(&format!("森林覆盖率（遥感 {date}）"), &format!("forest cover (land cover {date})")),
        p.t("森林覆盖率（三调图斑）", "forest cover (survey polygons)"),
        p.t("林地（三调，亩）", "forest land (survey, mu)"),
        p.t("无图斑 / 重叠（㎡）", "no polygon / overlaps (m²)"),
    ));
    for (i, z) in lu.zones.iter().enumerate() {
        let k = i.to_string();
        let mut row = String::new();
        let _ = write!(
            row,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td></tr>",
            esc(z.name.as_deref().unwrap_or(&z.id)),
            p.n_keys(&["stats", "zones", &k, "forest_cover"], Unit::Pct),
            p.n_keys(&["landuse", "zones", &k, "forest_cover"], Unit::Pct),
            p.n_keys(&["landuse", "zones", &k, "forest_land_area_m2"], Unit::Mu),
            p.n_keys(&["landuse", "zones", &k, "nodata_area_m2"], Unit::M2),
            p.n_keys(&["landuse", "zones", &k, "overlap_area_m2"], Unit::M2),
        );
        p.push(&row);
    }
    p.push("</tbody></table>");
    let why = p.t(
        "两者口径不同，数值不必相同：遥感土地覆盖按像元（CLCD 为 30 米）判读有无树冠，“林地”类含部分灌丛与疏林；三调按图斑地类计，乔木林地、竹林地计入森林，灌木林地只有国家特别规定的才计入，其他林地（疏林地、未成林造林地、迹地、苗圃）不计入；图斑有最小上图面积而像元没有；两套数据的时点也可能不同。林地保有量（目标 52.3 万亩）按三调林地（03 类）统计。",
        "The two need not agree: land cover reads tree canopy per pixel (30 m for CLCD), and its forest class takes in some shrub and open woodland; the survey classes polygons, counting arbor and bamboo forest land as forest, shrub forest land only where it is specially designated (国家特别规定灌木林地), and other forest land (open woodland, young plantations, cut-overs, nurseries) not at all; polygons have a minimum mapping size that pixels do not; and the two may be of different dates. The forest-land target (523,000 mu) is counted from the survey's forest land (class 03).",
    );
    p.push(&format!("<p>{why}</p></section>"));
}
