//! Line charts of a series over dates (forest cover per town with its
//! target, mean NDVI per red line), drawn with `plotters` as SVG — text
//! left to the viewer, so Chinese and English read in any browser — and
//! rasterised to PNG with `resvg` using the system's fonts.
//!
//! Invariant: the same chart gives the same SVG bytes; a PNG without the
//! fonts its labels need is still drawn, and says so in its warnings.

use plotters::prelude::*;

use crate::{Error, Result};

/// One line of a chart: a name and a value per date (`None`: no value,
/// the line breaks there).
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Its name in the legend.
    pub name: String,
    /// One value per date of the chart.
    pub values: Vec<Option<f64>>,
}

/// A line chart over dates.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    /// Title above the chart.
    pub title: String,
    /// What the y axis measures (with its unit).
    pub y_label: String,
    /// The dates, in order (x axis).
    pub dates: Vec<String>,
    /// The lines.
    pub lines: Vec<Line>,
    /// A horizontal target line and its label (e.g. 47 % forest cover).
    pub target: Option<(f64, String)>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

/// Colours of the lines, in order (distinct in print and for the common
/// colour-vision deficiencies: the Okabe–Ito palette).
const COLOURS: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
];

/// Sans-serif fonts with Chinese, then Latin ones, by family name.
const FONT_FAMILY: &str = "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Zen Hei, Microsoft YaHei, PingFang SC, DejaVu Sans, sans-serif";

fn plot_error<E: std::fmt::Debug>(e: E) -> Error {
    Error::Invalid(format!("drawing a chart: {e:?}"))
}

impl LineChart {
    /// The y range: every value and the target, with a margin.
    fn y_range(&self) -> (f64, f64) {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let values = self.lines.iter().flat_map(|l| l.values.iter().flatten());
        for &v in values.chain(self.target.iter().map(|t| &t.0)) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.12)
            .max(hi.abs().max(lo.abs()) * 0.01)
            .max(1e-9);
        (lo - pad, hi + pad)
    }

    /// The chart as SVG.
    pub fn svg(&self) -> Result<String> {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, self.size).into_drawing_area();
            root.fill(&WHITE).map_err(plot_error)?;
            // The legend beside the plot, never over a line.
            let legend_w = (self.size.0 / 4).clamp(120, 240);
            let (plot, side) = root.split_horizontally(self.size.0 - legend_w);
            let n = self.dates.len().max(1);
            let (y0, y1) = self.y_range();
            let mut chart = ChartBuilder::on(&plot)
                .caption(&self.title, (FONT_FAMILY, 18))
                .margin(14)
                .x_label_area_size(34)
                .y_label_area_size(64)
                .build_cartesian_2d(-0.4f64..(n as f64 - 0.6), y0..y1)
                .map_err(plot_error)?;
            let dates = &self.dates;
            let label = |x: &f64| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && k >= 0.0 {
                    dates.get(k as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            };
            chart
                .configure_mesh()
                .x_labels(n)
                .x_label_formatter(&label)
                .y_desc(&self.y_label)
                .label_style((FONT_FAMILY, 13))
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(232, 232, 232))
                .draw()
                .map_err(plot_error)?;
            let red = RGBColor(200, 30, 30);
            if let Some((t, _)) = &self.target {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(-0.4, *t), (n as f64 - 0.6, *t)],
                        8,
                        5,
                        red.stroke_width(2),
                    ))
                    .map_err(plot_error)?;
            }
            for (i, line) in self.lines.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()];
                let points: Vec<(f64, f64)> = line
                    .values
                    .iter()
                    .enumerate()
                    .filter_map(|(k, v)| v.map(|v| (k as f64, v)))
                    .collect();
                // One path per run of dates with values.
                let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
                for (k, v) in line.values.iter().enumerate() {
                    match v {
                        Some(v)
                            if runs.last().is_some_and(|r| {
                                r.last().is_some_and(|p| p.0 == k as f64 - 1.0)
                            }) =>
                        {
                            if let Some(r) = runs.last_mut() {
                                r.push((k as f64, *v));
                            }
                        }
                        Some(v) => runs.push(vec![(k as f64, *v)]),
                        None => {}
                    }
                }
                for r in runs {
                    chart
                        .draw_series(LineSeries::new(r, colour.stroke_width(2)))
                        .map_err(plot_error)?;
                }
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                    .map_err(plot_error)?;
            }
            // Legend: one row per line, then the target.
            let mut entries: Vec<(String, RGBColor, bool)> = self
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| (l.name.clone(), COLOURS[i % COLOURS.len()], false))
                .collect();
            if let Some((_, name)) = &self.target {
                entries.push((name.clone(), red, true));
            }
            // As many rows as fit; the rest summed up in a last row.
            let fit = ((self.size.1 as usize).saturating_sub(70) / 22).max(2);
            if entries.len() > fit {
                let more = entries.len() - (fit - 1);
                entries.truncate(fit - 1);
                entries.push((format!("+{more} more / 另 {more} 条"), WHITE, false));
            }
            for (k, (name, colour, dashed)) in entries.iter().enumerate() {
                let y = 48 + 22 * k as i32;
                let style = colour.stroke_width(2);
                if *dashed {
                    for x in [6, 16] {
                        side.draw(&PathElement::new(vec![(x, y), (x + 6, y)], style))
                            .map_err(plot_error)?;
                    }
                } else {
                    side.draw(&PathElement::new(vec![(4, y), (24, y)], style))
                        .map_err(plot_error)?;
                    side.draw(&Circle::new((14, y), 3, colour.filled()))
                        .map_err(plot_error)?;
                }
                side.draw(&Text::new(
                    name.clone(),
                    (30, y - 7),
                    (FONT_FAMILY, 13).into_font().color(&BLACK),
                ))
                .map_err(plot_error)?;
            }
            root.present().map_err(plot_error)?;
        }
        Ok(out)
    }
}

/// The charts of a series: forest cover of every zone over the land-cover
/// dates (in %, with the `target` cover when given), and each statistic
/// of the values over the values dates; each with a file stem
/// (`forest_cover`, `ndvi_mean`).
pub fn series_charts(
    report: &crate::series::SeriesReport,
    target: Option<f64>,
) -> Vec<(String, LineChart)> {
    use crate::series::ZoneSeries;
    // One line per zone, its value at each date.
    let lines = |dates: &[String], at: &dyn Fn(&ZoneSeries, &str) -> Option<f64>| -> Vec<Line> {
        report
            .zones
            .iter()
            .map(|z| Line {
                name: z.name.clone().unwrap_or_else(|| z.id.clone()),
                values: dates.iter().map(|d| at(z, d)).collect(),
            })
            .collect()
    };
    let mut out = Vec::new();
    if !report.landcover.is_empty() {
        let dates: Vec<String> = report.landcover.iter().map(|s| s.date.clone()).collect();
        out.push((
            "forest_cover".to_string(),
            LineChart {
                title: "森林覆盖率 Forest cover".into(),
                y_label: "% of land".into(),
                lines: lines(&dates, &|z, d| {
                    z.landcover
                        .get(d)
                        .and_then(|l| l.forest_cover)
                        .map(|c| 100.0 * c)
                }),
                target: target.map(|t| {
                    // 0.57 × 100 is 56.99999999999999: label it as written.
                    let pct = (100.0 * t * 1e9).round() / 1e9;
                    (100.0 * t, format!("目标 target {pct} %"))
                }),
                dates,
                size: (760, 420),
            },
        ));
    }
    let what = report.values_name.clone().unwrap_or_else(|| "value".into());
    let dates: Vec<String> = report.values.iter().map(|s| s.date.clone()).collect();
    for stat in report.stats.iter().filter(|_| !dates.is_empty()) {
        let stem: String = format!("{what}_{stat}")
            .chars()
            .flat_map(|c| {
                if c.is_alphanumeric() || c == '.' || c == '-' {
                    c.to_lowercase().collect::<Vec<_>>()
                } else {
                    vec!['_']
                }
            })
            .collect();
        out.push((
            stem,
            LineChart {
                title: format!("{what} {stat}"),
                y_label: what.clone(),
                lines: lines(&dates, &|z, d| {
                    z.values.get(d).and_then(|v| v.stats.get(stat))
                }),
                target: None,
                dates: dates.clone(),
                size: (760, 420),
            },
        ));
    }
    out
}

/// The system's fonts, loaded once per process.
fn fonts() -> &'static std::sync::Arc<resvg::usvg::fontdb::Database> {
    static DB: std::sync::OnceLock<std::sync::Arc<resvg::usvg::fontdb::Database>> =
        std::sync::OnceLock::new();
    DB.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_system_fonts();
        std::sync::Arc::new(db)
    })
}

/// Family names of fonts that hold Chinese.
const CJK_HINTS: [&str; 9] = [
    "CJK",
    "Han Sans",
    "Han Serif",
    "WenQuanYi",
    "YaHei",
    "PingFang",
    "SimHei",
    "SimSun",
    "Droid Sans Fallback",
];

/// What the system's fonts lack for a chart's labels: a warning, or
/// `None` when Latin and Chinese text can both be drawn.
pub fn font_warning(needs_chinese: bool) -> Option<String> {
    let db = fonts();
    if db.is_empty() {
        return Some(
            "no system fonts were found: the PNG charts have no text (install fonts-dejavu-core, and fonts-noto-cjk for Chinese); the SVG charts are complete".into(),
        );
    }
    let cjk = db.faces().any(|f| {
        f.families
            .iter()
            .any(|(name, _)| CJK_HINTS.iter().any(|h| name.contains(h)))
    });
    (needs_chinese && !cjk).then(|| {
        "no Chinese font was found: Chinese labels in the PNG charts are drawn as empty boxes (install fonts-noto-cjk); the SVG charts are complete".into()
    })
}

/// Rasterises an SVG (a chart) to PNG with the system's fonts.
pub fn png(svg: &str) -> Result<Vec<u8>> {
    let mut opt = resvg::usvg::Options {
        fontdb: std::sync::Arc::clone(fonts()),
        ..Default::default()
    };
    opt.font_family = "DejaVu Sans".into();
    let tree = resvg::usvg::Tree::from_str(svg, &opt)
        .map_err(|e| Error::Invalid(format!("reading a chart's SVG: {e}")))?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| Error::Invalid("a chart of no size".into()))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| Error::Invalid(format!("encoding a chart as PNG: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> LineChart {
        LineChart {
            title: "森林覆盖率 Forest cover".into(),
            y_label: "%".into(),
            dates: (2019..=2024).map(|y| y.to_string()).collect(),
            lines: vec![
                Line {
                    name: "金锁关镇 & <Jinsuoguan>".into(),
                    values: vec![
                        Some(54.7),
                        Some(54.8),
                        None,
                        Some(54.9),
                        Some(54.9),
                        Some(55.0),
                    ],
                },
                Line {
                    name: "阿庄镇".into(),
                    values: vec![
                        Some(40.2),
                        Some(40.3),
                        Some(40.4),
                        Some(40.5),
                        Some(40.5),
                        Some(40.6),
                    ],
                },
            ],
            target: Some((47.0, "目标 target 47 %".into())),
            size: (720, 400),
        }
    }

    #[test]
    fn the_svg_has_every_date_line_and_label_escaped() {
        let svg = chart().svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        for y in 2019..=2024 {
            assert!(svg.contains(&format!(">\n{y}\n<")), "{y}");
        }
        assert!(svg.contains("金锁关镇 &amp; &lt;Jinsuoguan&gt;"));
        assert!(svg.contains("目标 target 47 %"));
        // The gap in 2021 splits the first line in two paths, the second
        // is one; each has one more in the legend.
        let paths = |colour: &str| {
            svg.matches("<polyline")
                .zip(svg.split("<polyline").skip(1))
                .filter(|(_, rest)| rest.split('>').next().unwrap_or("").contains(colour))
                .count()
        };
        assert_eq!(paths("#0072B2"), 3, "{svg}");
        assert_eq!(paths("#D55E00"), 2);
        let red = svg.matches("stroke=\"#C81E1E\"").count();
        assert!(red > 10, "the target is dashed: {red}");
        assert_eq!(svg, chart().svg().unwrap());
    }

    #[test]
    fn many_lines_keep_the_legend_inside_and_targets_read_as_written() {
        let mut c = chart();
        c.lines = (0..40)
            .map(|k| Line {
                name: format!("Z{k:02}"),
                values: vec![Some(k as f64); 6],
            })
            .collect();
        c.target = Some((57.0, String::new()));
        let svg = c.svg().unwrap();
        // 400 px: 15 rows fit; the last says how many more (of 40 lines
        // and the target).
        assert!(svg.contains("Z13") && !svg.contains("Z14"), "{svg}");
        assert!(svg.contains("+27 more"));
        let report = crate::series::SeriesReport {
            schema: String::new(),
            legend: None,
            area: Default::default(),
            dates: vec!["2019".into()],
            landcover: vec![crate::series::DatedSource {
                date: "2019".into(),
                source: String::new(),
            }],
            values: Vec::new(),
            values_name: Some("植被 NDVI".into()),
            stats: Vec::new(),
            zones: Vec::new(),
            warnings: Vec::new(),
        };
        let charts = series_charts(&report, Some(0.57));
        assert_eq!(charts[0].1.target.as_ref().unwrap().1, "目标 target 57 %");
    }

    #[test]
    fn the_png_is_a_png_of_the_chart_size() {
        let bytes = png(&chart().svg().unwrap()).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let d = ::png::Decoder::new(std::io::Cursor::new(&bytes));
        let info = d.read_info().unwrap().info().clone();
        assert_eq!((info.width, info.height), (720, 400));
    }
}
