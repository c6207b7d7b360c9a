//! The audit report: one self-contained HTML file (maps embedded as PNG,
//! no network) for a town official and an inspector.
//!
//! Every number shown is read from the audit document itself and carries
//! its source: `<span class="n" data-k="stats.zones.0.forest_cover"
//! data-v="0.5474…" data-u="pct">54.74 %</span>` — so the report provably
//! shows what `audit.json` holds (a test checks each one). Labels are
//! bilingual: `Lang::Zh` puts Chinese first with English subtitles,
//! `Lang::En` the reverse.

use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::Value;

use super::map::{
    ForestChange, GAINED_RGB, LOST_RGB, MapPng, Maps, OLD_REDLINE_RGB, REDLINE_RGB, ZONE_RGB,
    forest_change_color,
};
pub(super) use super::unit::Unit;
use crate::audit::AuditReport;
use crate::legend::Legend;
use crate::redline::{RedlineCheck, RedlineDiff};
use crate::zonal::ZoneStats;
use crate::{Error, Result};

/// Which language leads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Lang {
    /// Chinese, with English subtitles (the default).
    #[default]
    Zh,
    /// English, with Chinese subtitles.
    En,
}

/// How `qingshan audit` writes its report.
#[derive(Clone, Copy, Debug)]
pub struct ReportOptions {
    /// Leading language.
    pub lang: Lang,
    /// Longest side of the maps, in pixels.
    pub map_size: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            lang: Lang::Zh,
            map_size: 900,
        }
    }
}

/// Text escaped for HTML text and double-quoted attributes alike.
pub(super) fn esc(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

pub(super) struct Page {
    doc: Value,
    pub(super) lang: Lang,
    pub(super) out: String,
}

impl Page {
    /// The JSON value at a dotted path (`stats.zones.0.forest_cover`:
    /// the JSON pointer `/stats/zones/0/forest_cover`).
    pub(super) fn at(&self, path: &str) -> Option<&Value> {
        self.doc.pointer(&format!("/{}", path.replace('.', "/")))
    }

    /// A number from the document, tagged with its path and raw value.
    pub(super) fn n(&self, path: &str, unit: Unit) -> String {
        self.tagged(path, self.at(path), unit)
    }

    /// [`Page::n`] for a path given as its keys (a key may hold dots: a
    /// date label, a statistic such as `q2.5`); `data-k` joins them with
    /// dots.
    pub(super) fn n_keys(&self, keys: &[&str], unit: Unit) -> String {
        let pointer: String = keys
            .iter()
            .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
            .collect();
        self.tagged(&keys.join("."), self.doc.pointer(&pointer), unit)
    }

    fn tagged(&self, path: &str, value: Option<&Value>, unit: Unit) -> String {
        match value.and_then(Value::as_f64) {
            Some(v) => format!(
                r#"<span class="n" data-k="{}" data-v="{v}" data-u="{}">{}</span>"#,
                esc(path),
                unit.code(),
                unit.show(v, self.lang)
            ),
            None => r#"<span class="n na">–</span>"#.to_string(),
        }
    }

    /// A bilingual label.
    pub(super) fn t(&self, zh: &str, en: &str) -> String {
        let (a, b) = match self.lang {
            Lang::Zh => (zh, en),
            Lang::En => (en, zh),
        };
        format!(r#"{}<span class="sub">{}</span>"#, esc(a), esc(b))
    }

    pub(super) fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }
}

pub(super) fn png_tag(img: &MapPng, class: &str, alt: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(&img.png);
    format!(
        r#"<img class="map {class}" width="{}" height="{}" alt="{}" src="data:image/png;base64,{b64}">"#,
        img.width,
        img.height,
        esc(alt)
    )
}

pub(super) fn swatch(rgb: [u8; 3]) -> String {
    format!(
        r#"<i class="sw" style="background:rgb({},{},{})"></i>"#,
        rgb[0], rgb[1], rgb[2]
    )
}

fn legend_html(p: &Page, legend: &Legend) -> String {
    let mut s = String::from(r#"<div class="legend">"#);
    for c in legend.classes.values() {
        let _ = write!(
            s,
            r#"<span>{}{}</span>"#,
            swatch(c.color),
            p.t(&c.name_zh, &c.name)
        );
    }
    let _ = write!(
        s,
        r#"<span>{}{}</span><span>{}{}</span></div>"#,
        swatch(ZONE_RGB),
        p.t("镇界", "town boundary"),
        swatch(REDLINE_RGB),
        p.t("生态保护红线", "ecological red line")
    );
    s
}

/// Renders the audit report as one self-contained HTML page, with its
/// maps (drawn by [`Maps::draw`], or read from a bundle).
pub fn render_html(audit: &AuditReport, maps: &Maps, lang: Lang) -> Result<String> {
    let doc = serde_json::to_value(audit).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut p = Page {
        doc,
        lang,
        out: String::new(),
    };
    header(&mut p, audit);
    town_cards(&mut p, audit);
    targets(&mut p, audit);
    maps_section(&mut p, audit, maps);
    land_cover_tables(&mut p, audit);
    super::landuse::section(&mut p, audit);
    if let Some(d) = &audit.redline_diff {
        redline_area(&mut p, d);
    }
    if let Some(c) = &audit.redline_check {
        redline_check(&mut p, audit, c);
    }
    super::terrain::section(&mut p, audit, maps);
    super::trend::section(&mut p, audit)?;
    notes(&mut p, audit);
    footer(&mut p, audit);
    Ok(p.out)
}

/// Title, dates, legend and the overall verdict.
fn header(p: &mut Page, audit: &AuditReport) {
    let legend = &audit.inputs.legend;
    let (b, a) = (&audit.inputs.before_label, &audit.inputs.after_label);
    let title = p.t(
        audit.title.as_deref().unwrap_or("生态目标核查"),
        audit
            .title_en
            .as_deref()
            .unwrap_or("Ecological target audit"),
    );
    let html_lang = match p.lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    };
    p.push(&format!(
        r#"<!DOCTYPE html>
<html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
<style>{CSS}</style></head>
<body data-ready="loading">
<header><h1>{title}</h1>
<p class="meta">{} {} → {} · {} {} · {} · qingshan {}</p>
<p class="verdict {}">{}</p></header>
"#,
        esc(audit.title.as_deref().unwrap_or("qingshan audit")),
        p.t("土地覆盖", "land cover"),
        esc(b),
        esc(a),
        p.t("图例", "legend"),
        esc(&legend.name),
        match audit.inputs.area {
            crate::area::AreaMode::Ellipsoidal =>
                p.t("椭球面积（实地面积）", "ellipsoidal (ground) areas"),
            crate::area::AreaMode::Planar => p.t("投影平面面积", "planar areas in the projection"),
        },
        env!("CARGO_PKG_VERSION"),
        if audit.passed { "pass" } else { "fail" },
        if audit.passed {
            p.t("全部目标达标", "every target met")
        } else {
            format!(
                r#"<span class="n" data-k="missed" data-v="{}" data-u="count">{}</span> {}"#,
                audit.missed,
                audit.missed,
                p.t("项目标未达标", "target(s) missed")
            )
        }
    ));
}

/// One card per town: its forest cover, forest area and change, its
/// red lines.
fn town_cards(p: &mut Page, audit: &AuditReport) {
    p.push(&format!(
        r#"<section><h2>{}</h2><div class="cards">"#,
        p.t("各镇概况", "Towns at a glance")
    ));
    for (i, z) in audit.stats.zones.iter().enumerate() {
        let card = town_card(p, audit, i, z);
        p.push(&card);
    }
    p.push("</div></section>");
}

/// The card of town `i` (`z`: its stats).
fn town_card(p: &Page, audit: &AuditReport, i: usize, z: &ZoneStats) -> String {
    let (b, a) = (&audit.inputs.before_label, &audit.inputs.after_label);
    let cover_target = audit
        .targets
        .iter()
        .position(|t| t.target == "forest_cover_min" && t.id.as_deref() == Some(z.id.as_str()));
    let shrink_target = audit
        .targets
        .iter()
        .position(|t| t.target == "redline_not_shrunk" && t.id.as_deref() == Some(z.id.as_str()));
    // The town's own targets: a red-line polygon may share its id.
    let ok = audit
        .targets
        .iter()
        .filter(|t| t.scope == "zone" && t.id.as_deref() == Some(z.id.as_str()))
        .all(|t| t.passed);
    let mut card = format!(
        r#"<div class="card {}"><h3>{}<span class="sub">{}</span> <span class="badge">{}</span></h3><dl>"#,
        if ok { "pass" } else { "fail" },
        esc(z.name.as_deref().unwrap_or(&z.id)),
        esc(&z.id),
        if ok {
            p.t("达标", "met")
        } else {
            p.t("未达标", "missed")
        }
    );
    let _ = write!(
        card,
        r#"<dt>{}</dt><dd class="big">{}{}</dd>"#,
        p.t(
            &format!("森林覆盖率（{a}）"),
            &format!("forest cover ({a})")
        ),
        p.n(&format!("stats.zones.{i}.forest_cover"), Unit::Pct),
        cover_target
            .map(|k| format!(
                r#" <small>{} ≥ {}</small>"#,
                p.t("目标", "target"),
                p.n(&format!("targets.{k}.limit"), Unit::Pct)
            ))
            .unwrap_or_default()
    );
    let _ = write!(
        card,
        r#"<dt>{}</dt><dd>{} <small>({})</small></dd>"#,
        p.t("森林面积", "forest area"),
        p.n(&format!("stats.zones.{i}.forest_area_m2"), Unit::Mu),
        p.n(&format!("stats.zones.{i}.forest_area_m2"), Unit::Ha)
    );
    let _ = write!(
        card,
        r#"<dt>{}</dt><dd>{} → {}</dd>"#,
        p.t(
            &format!("森林覆盖率 {b} → {a}"),
            &format!("forest cover {b} → {a}")
        ),
        p.n(&format!("change.zones.{i}.forest_cover_before"), Unit::Pct),
        p.n(&format!("change.zones.{i}.forest_cover_after"), Unit::Pct)
    );
    let _ = write!(
        card,
        r#"<dt>{}</dt><dd>+{} / −{}</dd>"#,
        p.t("森林增加 / 减少", "forest gained / lost"),
        p.n(&format!("change.zones.{i}.forest_gain_m2"), Unit::Mu),
        p.n(&format!("change.zones.{i}.forest_loss_m2"), Unit::Mu)
    );
    if let Some(d) = &audit.redline_diff
        && let Some(ti) = d.towns.iter().position(|t| t.id == z.id)
    {
        let _ = write!(
            card,
            r#"<dt>{}</dt><dd>{} → {}{}</dd><dt>{}</dt><dd>−{} / +{}</dd>"#,
            p.t("生态保护红线面积", "red-line area"),
            p.n(&format!("redline_diff.towns.{ti}.old_m2"), Unit::Mu),
            p.n(&format!("redline_diff.towns.{ti}.new_m2"), Unit::Mu),
            shrink_target
                .map(|k| if audit.targets[k].passed {
                    format!(
                        r#" <small class="ok">{}</small>"#,
                        p.t("面积不减少", "not reduced")
                    )
                } else {
                    format!(
                        r#" <small class="bad">{}</small>"#,
                        p.t("面积减少", "reduced")
                    )
                })
                .unwrap_or_default(),
            p.t("红线减少 / 增加", "red line lost / gained"),
            p.n(&format!("redline_diff.towns.{ti}.lost_m2"), Unit::Mu),
            p.n(&format!("redline_diff.towns.{ti}.gained_m2"), Unit::Mu)
        );
    }
    if let Some(si) = audit.zone_summaries.iter().position(|s| s.id == z.id)
        && audit.redline_check.is_some()
    {
        let _ = write!(
            card,
            r#"<dt>{}</dt><dd>{}</dd>"#,
            p.t(
                "红线内自然→人工转换",
                "natural → artificial inside red lines"
            ),
            p.n(
                &format!("zone_summaries.{si}.redline_conversion_m2"),
                Unit::M2
            )
        );
    }
    card.push_str("</dl></div>");
    card
}

/// Every target: what, where, measured, limit, verdict.
fn targets(p: &mut Page, audit: &AuditReport) {
    p.push(&format!(
        r#"<section><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        p.t("目标核查", "Targets"),
        p.t("目标", "target"),
        p.t("范围", "scope"),
        p.t("实测", "measured"),
        p.t("限值", "limit"),
        p.t("结论", "verdict")
    ));
    for (k, t) in audit.targets.iter().enumerate() {
        let unit = match t.unit.as_str() {
            "fraction" => Unit::Pct,
            "mu" => Unit::MuRaw,
            "index" => Unit::Index,
            _ => Unit::M2,
        };
        let label = match t.target.as_str() {
            "forest_cover_min" => p.t("森林覆盖率不低于", "forest cover at least"),
            "forest_area_min_mu" => p.t("林地保有量不低于", "forest land at least"),
            "redline_not_shrunk" => p.t("红线面积不减少", "red-line area not reduced"),
            "redline_max_conversion_m2" => p.t("红线性质不改变", "red-line nature not changed"),
            "redline_max_vegetation_loss" => p.t("红线功能不降低", "red-line function not lowered"),
            "steep_cropland_max_mu" => p.t("陡坡耕地不超过", "steep cropland at most"),
            "steep_cropland_not_increased" => p.t("陡坡耕地不增加", "steep cropland not increased"),
            "redline_index_not_lowered" => p.t("红线植被指数不降低", "red-line index not lowered"),
            "forest_cover_trend" => p.t(
                "森林覆盖率逐年不降",
                "forest cover not falling year to year",
            ),
            other => esc(other),
        };
        let scope = match (&t.id, &t.name) {
            (Some(id), Some(name)) => format!("{} <small>{}</small>", esc(name), esc(id)),
            (Some(id), None) => esc(id),
            _ => p.t("合计", "total"),
        };
        let _ = write!(
            p.out,
            r#"<tr class="{}"><td>{label}</td><td>{scope}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            if t.passed { "pass" } else { "fail" },
            p.n(&format!("targets.{k}.measured"), unit),
            p.n(&format!("targets.{k}.limit"), unit),
            esc(&t.verdict)
        );
    }
    p.push("</tbody></table></section>");
}

/// The three maps with their legends.
fn maps_section(p: &mut Page, audit: &AuditReport, maps: &Maps) {
    let legend = &audit.inputs.legend;
    let (b, a) = (&audit.inputs.before_label, &audit.inputs.after_label);
    p.push(&format!(
        r#"<section><h2>{}</h2><figure>{}<figcaption>{}</figcaption>{}</figure>"#,
        p.t(&format!("土地覆盖（{a}）"), &format!("Land cover ({a})")),
        png_tag(&maps.land_cover, "landcover", "land cover map"),
        p.t(
            "镇界与生态保护红线",
            "town boundaries and ecological red lines"
        ),
        legend_html(p, legend)
    ));
    p.push(&format!(
        r#"<figure>{}<figcaption>{}</figcaption><div class="legend"><span>{}{}</span><span>{}{}</span><span>{}{}</span><span>{}{}</span></div></figure>"#,
        png_tag(&maps.forest_change, "forestchange", "forest change map"),
        p.t(&format!("森林变化 {b} → {a}"), &format!("Forest change {b} → {a}")),
        swatch(rgb3(forest_change_color(ForestChange::Loss))),
        p.t("森林减少", "forest lost"),
        swatch(rgb3(forest_change_color(ForestChange::Gain))),
        p.t("森林增加", "forest gained"),
        swatch(rgb3(forest_change_color(ForestChange::Stable))),
        p.t("森林未变", "forest kept"),
        swatch(rgb3(forest_change_color(ForestChange::Other))),
        p.t("非森林", "not forest")
    ));
    if let Some(img) = &maps.redlines {
        p.push(&format!(
            r#"<figure>{}<figcaption>{}</figcaption><div class="legend"><span>{}{}</span><span>{}{}</span><span>{}{}</span><span>{}{}</span></div></figure>"#,
            png_tag(img, "redlines", "red-line change map"),
            p.t("生态保护红线调整", "Red-line changes"),
            swatch(LOST_RGB),
            p.t("红线减少", "red line lost"),
            swatch(GAINED_RGB),
            p.t("红线增加", "red line gained"),
            swatch(OLD_REDLINE_RGB),
            p.t("原红线", "old red line"),
            swatch(REDLINE_RGB),
            p.t("新红线", "new red line")
        ));
    }
    p.push("</section>");
}

/// Class areas of each town in m², ha and mu.
fn land_cover_tables(p: &mut Page, audit: &AuditReport) {
    let legend = &audit.inputs.legend;
    let a = &audit.inputs.after_label;
    p.push(&format!(
        r#"<section><h2>{}</h2>"#,
        p.t(
            &format!("各镇土地覆盖（{a}）"),
            &format!("Land cover per town ({a})")
        )
    ));
    for (i, z) in audit.stats.zones.iter().enumerate() {
        let _ = write!(
            p.out,
            r#"<h3>{}</h3><table><thead><tr><th>{}</th><th>m²</th><th>ha</th><th>亩 mu</th></tr></thead><tbody>"#,
            esc(z.name.as_deref().unwrap_or(&z.id)),
            p.t("地类", "class")
        );
        for code in z.classes.keys() {
            let key = format!("stats.zones.{i}.classes.{code}");
            let name = legend
                .class(*code)
                .map(|c| p.t(&c.name_zh, &c.name))
                .unwrap_or_else(|| format!("class {code}"));
            let _ = write!(
                p.out,
                r#"<tr><td>{}{name}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                swatch(legend.color_of(*code)),
                p.n(&key, Unit::M2),
                p.n(&key, Unit::Ha),
                p.n(&key, Unit::Mu)
            );
        }
        let _ = write!(
            p.out,
            r#"<tr class="total"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></tbody></table>"#,
            p.t("有效面积", "valid area"),
            p.n(&format!("stats.zones.{i}.valid_area_m2"), Unit::M2),
            p.n(&format!("stats.zones.{i}.valid_area_m2"), Unit::Ha),
            p.n(&format!("stats.zones.{i}.valid_area_m2"), Unit::Mu),
            p.t("无数据", "nodata"),
            p.n(&format!("stats.zones.{i}.nodata_area_m2"), Unit::M2),
            p.n(&format!("stats.zones.{i}.nodata_area_m2"), Unit::Ha),
            p.n(&format!("stats.zones.{i}.nodata_area_m2"), Unit::Mu)
        );
    }
    p.push("</section>");
}

/// Red-line areas: totals and one row per polygon.
fn redline_area(p: &mut Page, d: &RedlineDiff) {
    let _ = write!(
        p.out,
        r#"<section><h2>{}</h2><p>{} {} → {} · {} {} · {} {}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        p.t("生态保护红线面积", "Red-line area"),
        p.t("合计", "total"),
        p.n("redline_diff.old_total_m2", Unit::Mu),
        p.n("redline_diff.new_total_m2", Unit::Mu),
        p.t("减少", "lost"),
        p.n("redline_diff.lost_m2", Unit::Mu),
        p.t("增加", "gained"),
        p.n("redline_diff.gained_m2", Unit::Mu),
        p.t("红线", "red line"),
        p.t("状态", "status"),
        p.t("原面积", "old"),
        p.t("新面积", "new"),
        p.t("减少", "lost"),
        p.t("增加", "gained")
    );
    for (k, poly) in d.polygons.iter().enumerate() {
        let status = poly.status.name();
        let _ = write!(
            p.out,
            r#"<tr class="{}"><td>{} <small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            if matches!(status, "shrunk" | "removed") {
                "fail"
            } else {
                ""
            },
            esc(poly.name.as_deref().unwrap_or("")),
            esc(&poly.id),
            esc(status),
            p.n(&format!("redline_diff.polygons.{k}.old_m2"), Unit::Mu),
            p.n(&format!("redline_diff.polygons.{k}.new_m2"), Unit::Mu),
            p.n(&format!("redline_diff.polygons.{k}.lost_m2"), Unit::Mu),
            p.n(&format!("redline_diff.polygons.{k}.gained_m2"), Unit::Mu)
        );
    }
    p.push("</tbody></table></section>");
}

/// Nature and function inside each red line.
fn redline_check(p: &mut Page, audit: &AuditReport, c: &RedlineCheck) {
    let legend = &audit.inputs.legend;
    let (b, a) = (&audit.inputs.before_label, &audit.inputs.after_label);
    let _ = write!(
        p.out,
        r#"<section><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        p.t(
            "红线内性质与功能",
            "Nature and function inside the red lines"
        ),
        p.t("红线", "red line"),
        p.t("自然→人工", "natural → artificial"),
        p.t("主要转换", "largest conversion"),
        p.t(&format!("植被占比 {b}"), &format!("vegetated {b}")),
        p.t(&format!("植被占比 {a}"), &format!("vegetated {a}"))
    );
    for (k, poly) in c.polygons.iter().enumerate() {
        let largest = poly
            .conversions
            .first()
            .map(|conv| {
                format!(
                    "{} → {} {}",
                    legend
                        .class(conv.from)
                        .map(|x| esc(&x.name_zh))
                        .unwrap_or_default(),
                    legend
                        .class(conv.to)
                        .map(|x| esc(&x.name_zh))
                        .unwrap_or_default(),
                    p.n(
                        &format!("redline_check.polygons.{k}.conversions.0.area_m2"),
                        Unit::M2
                    )
                )
            })
            .unwrap_or_else(|| "–".into());
        let _ = write!(
            p.out,
            r#"<tr class="{}"><td>{} <small>{}</small></td><td>{}</td><td>{largest}</td><td>{}</td><td>{}</td></tr>"#,
            if poly.violations.is_empty() {
                ""
            } else {
                "fail"
            },
            esc(poly.name.as_deref().unwrap_or("")),
            esc(&poly.id),
            p.n(
                &format!("redline_check.polygons.{k}.conversion_m2"),
                Unit::M2
            ),
            p.n(
                &format!("redline_check.polygons.{k}.vegetated_share_before"),
                Unit::Pct
            ),
            p.n(
                &format!("redline_check.polygons.{k}.vegetated_share_after"),
                Unit::Pct
            )
        );
    }
    p.push("</tbody></table></section>");
}

/// The audit's warnings.
fn notes(p: &mut Page, audit: &AuditReport) {
    if !audit.warnings.is_empty() {
        p.push(&format!(
            r#"<section><h2>{}</h2><ul>"#,
            p.t("提示", "Notes")
        ));
        for w in &audit.warnings {
            let _ = write!(p.out, "<li>{}</li>", esc(w));
        }
        p.push("</ul></section>");
    }
}

/// Where the numbers come from, and the script that marks the page ready.
fn footer(p: &mut Page, audit: &AuditReport) {
    p.push(&format!(
        r#"<footer>{} · <code>{}</code></footer>
<script>{JS}</script></body></html>
"#,
        p.t(
            "由 qingshan 生成；数值与 audit.json 一致",
            "made by qingshan; every number as in audit.json"
        ),
        esc(&audit.config)
    ));
}

fn rgb3(c: [u8; 4]) -> [u8; 3] {
    [c[0], c[1], c[2]]
}

/// Marks the page ready once every map has decoded (for headless checks):
/// `data-ready="ok"`, `data-maps` = natural and shown sizes, `data-errors`.
const JS: &str = r#"
window.addEventListener('error', function (e) {
  document.body.dataset.errors = (document.body.dataset.errors || '') + e.message + ';';
});
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img.map'));
  var ok = imgs.length > 0 && imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.dataset.ready = ok ? 'ok' : 'broken';
  document.body.dataset.maps = imgs.map(function (i) {
    var r = i.getBoundingClientRect();
    return i.className.replace('map ', '') + ':' + i.naturalWidth + 'x' + i.naturalHeight + '@' + Math.round(r.width) + 'x' + Math.round(r.height);
  }).join(',');
});
"#;

const CSS: &str = r#"
:root { --ok: #1a7f37; --bad: #c62828; --ink: #1f2328; --mute: #656d76; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; line-height: 1.45; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 28px 0 10px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 16px; margin: 14px 0 6px; }
.sub { display: inline; margin-left: 6px; font-size: 0.72em; font-weight: normal; color: var(--mute); }
h1 .sub, h2 .sub, th .sub { display: block; margin-left: 0; }
.meta { color: var(--mute); margin: 0; }
.verdict { display: inline-block; padding: 6px 14px; border-radius: 6px; font-weight: bold; margin: 10px 0; }
.verdict.pass { background: #dafbe1; color: var(--ok); } .verdict.fail { background: #ffebe9; color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 14px; }
.card { border: 1px solid #d0d7de; border-left: 6px solid var(--ok); border-radius: 6px; padding: 10px 14px; }
.card.fail { border-left-color: var(--bad); }
.badge { float: right; font-size: 13px; padding: 2px 8px; border-radius: 10px; background: #dafbe1; color: var(--ok); }
.card.fail .badge { background: #ffebe9; color: var(--bad); }
dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 6px 0; } dt { color: var(--mute); } dd { margin: 0; }
dd.big .n { font-size: 22px; font-weight: bold; }
small.ok { color: var(--ok); } small.bad { color: var(--bad); font-weight: bold; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border-bottom: 1px solid #eaeef2; padding: 4px 8px; text-align: left; vertical-align: top; }
td .n { font-variant-numeric: tabular-nums; }
tr.fail td { background: #fff5f5; } tr.pass td:last-child { color: var(--ok); } tr.fail td:last-child { color: var(--bad); }
tr.total td { font-weight: bold; }
figure { margin: 10px 0 22px; } img.map { max-width: 100%; height: auto; border: 1px solid #d0d7de; image-rendering: pixelated; }
figcaption { color: var(--mute); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; margin-top: 4px; }
.sw { display: inline-block; width: 12px; height: 12px; border: 1px solid #8884; margin-right: 4px; vertical-align: -1px; }
footer { margin-top: 30px; color: var(--mute); font-size: 12px; }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunOptions;
    use crate::audit::{AuditConfig, run_audit};

    /// A failing red-line polygon whose id equals a town's (ids default to
    /// feature indices) does not turn that town's card red.
    #[test]
    fn a_town_card_counts_only_the_towns_targets() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audit.toml");
        let config = AuditConfig::load(&path).unwrap();
        let mut audit = run_audit(&config, &path, &RunOptions::default()).unwrap();
        let town = audit.stats.zones[0].id.clone();
        for t in &mut audit.targets {
            if t.scope == "zone" && t.id.as_deref() == Some(town.as_str()) {
                t.passed = true;
            }
        }
        let mut red = audit
            .targets
            .iter()
            .find(|t| t.scope == "redline")
            .unwrap()
            .clone();
        red.id = Some(town.clone());
        red.passed = false;
        audit.targets.push(red);
        let maps = Maps::draw(&audit, 64).unwrap();
        let html = render_html(&audit, &maps, Lang::Zh).unwrap();
        let cards: Vec<&str> = html.split(r#"<div class="card "#).skip(1).collect();
        assert_eq!(cards.len(), audit.stats.zones.len());
        assert!(cards[0].starts_with("pass"), "{}", &cards[0][..80]);
        // The other town still misses its forest cover.
        assert!(cards[1].starts_with("fail"), "{}", &cards[1][..80]);
    }
}
