//! The trend part of the report: forest cover of each zone over the
//! land-cover series with its target, and the vegetation index inside
//! each baseline red line on both dates (功能不降低) — charts drawn from
//! `audit.json` alone (inline SVG) and tables whose every number is
//! tagged with its path.

use std::fmt::Write as _;

use super::chart::{Line, LineChart, series_charts};
use super::html::{Page, Unit, esc};
use crate::Result;
use crate::audit::AuditReport;

/// An SVG chart for inline use in the page (no namespace URL: the page
/// names no external resource).
fn inline(svg: &str) -> String {
    svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1)
}

/// The trend and index sections, when the audit has them.
pub(super) fn section(p: &mut Page, audit: &AuditReport) -> Result<()> {
    if let Some(s) = &audit.series {
        // The target line, when every zone has the same one (overrides
        // may give zones their own).
        let limits: Vec<f64> = audit
            .targets
            .iter()
            .filter(|t| t.target == "forest_cover_min" && t.scope == "zone")
            .map(|t| t.limit)
            .collect();
        let target = limits
            .first()
            .copied()
            .filter(|l| limits.iter().all(|x| x == l));
        p.push(&format!(
            r#"<section><h2>{}</h2>"#,
            p.t("森林覆盖率逐年变化", "Forest cover year by year")
        ));
        if let Some((_, chart)) = series_charts(s, target).into_iter().next() {
            p.push(&format!(
                r#"<figure class="chart">{}</figure>"#,
                inline(&chart.svg()?)
            ));
        }
        let mut head = format!("<th>{}</th>", p.t("镇", "zone"));
        for d in &s.landcover {
            let _ = write!(head, "<th>{}</th>", esc(&d.date));
        }
        let _ = write!(p.out, "<table><thead><tr>{head}</tr></thead><tbody>");
        for (i, z) in s.zones.iter().enumerate() {
            let mut row = format!("<td>{}</td>", esc(z.name.as_deref().unwrap_or(&z.id)));
            for d in &s.landcover {
                let _ = write!(
                    row,
                    "<td>{}</td>",
                    p.n_keys(
                        &[
                            "series",
                            "zones",
                            &i.to_string(),
                            "landcover",
                            &d.date,
                            "forest_cover"
                        ],
                        Unit::Pct
                    )
                );
            }
            let _ = write!(p.out, "<tr>{row}</tr>");
        }
        p.push("</tbody></table></section>");
    }
    if let Some(ix) = &audit.index {
        index_section(p, audit, ix)?;
    }
    Ok(())
}

/// The index inside each red line, both dates.
fn index_section(p: &mut Page, audit: &AuditReport, ix: &crate::audit::IndexReport) -> Result<()> {
    let (b, a) = (&audit.inputs.before_label, &audit.inputs.after_label);
    let (name, stat) = (&ix.name, &ix.stat);
    let within = if ix.within == "redlines_old" {
        p.t("基准版生态保护红线内", "inside the baseline red lines")
    } else {
        p.t("各区域内", "inside each zone")
    };
    p.push(&format!(
        r#"<section><h2>{}</h2><p>{within}</p>"#,
        p.t(
            &format!("{name} 植被指数（功能不降低）"),
            &format!("{name} vegetation index (function not lowered)")
        )
    ));
    let chart = LineChart {
        title: format!("{name} {stat}"),
        y_label: name.clone(),
        dates: vec![b.clone(), a.clone()],
        lines: ix
            .before
            .zones
            .iter()
            .zip(&ix.after.zones)
            .map(|(zb, za)| Line {
                name: za.id.clone(),
                values: vec![zb.stats.get(stat), za.stats.get(stat)],
            })
            .collect(),
        target: None,
        size: (760, 420),
    };
    p.push(&format!(
        r#"<figure class="chart">{}</figure>"#,
        inline(&chart.svg()?)
    ));
    let _ = write!(
        p.out,
        r#"<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        p.t("红线", "red line"),
        p.t("名称", "name"),
        esc(&format!("{stat} {b}")),
        esc(&format!("{stat} {a}")),
        p.t("变化", "change"),
        p.t("有效面积", "valid area")
    );
    for (i, z) in ix.after.zones.iter().enumerate() {
        let k = i.to_string();
        // The change is the target's measured value, when the target is set.
        let target = audit.targets.iter().position(|t| {
            t.target == "redline_index_not_lowered" && t.id.as_deref() == Some(&z.id)
        });
        let change = target.map_or_else(
            || "–".to_string(),
            |k| p.n(&format!("targets.{k}.measured"), Unit::Index),
        );
        let class = match target.map(|k| audit.targets[k].passed) {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "",
        };
        let _ = write!(
            p.out,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{change}</td><td>{}</td></tr>",
            esc(&z.id),
            esc(z.name.as_deref().unwrap_or("")),
            p.n_keys(
                &["index", "before", "zones", &k, "stats", stat],
                Unit::Plain
            ),
            p.n_keys(&["index", "after", "zones", &k, "stats", stat], Unit::Plain),
            p.n(&format!("index.after.zones.{i}.valid_area_m2"), Unit::Ha),
        );
    }
    p.push("</tbody></table></section>");
    Ok(())
}
