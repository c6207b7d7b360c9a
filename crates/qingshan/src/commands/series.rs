//! `qingshan series`: land cover and values of many dates per zone in one
//! run, with line charts.

use std::path::PathBuf;

use super::{ZoneSource, check_outputs, legend_file};
use crate::area::AreaMode;
use crate::engine::RunOptions;
use crate::export;
use crate::fsio::OutputCheck;
use crate::legend::Legend;
use crate::raster::LandCover;
use crate::raster::values::{ScaleOffset, ValueRaster};
use crate::report::chart;
use crate::series::{SeriesInputs, SeriesReport, series as measure};
use crate::values::Stat;
use crate::zones::ZoneLayer;
use crate::{Error, Result};

/// `qingshan series`.
#[derive(Clone, Debug)]
pub struct SeriesArgs {
    /// Land cover per date: (date, rasters).
    pub landcover: Vec<(String, Vec<String>)>,
    /// Band of the land cover.
    pub band: usize,
    /// Legend of the land cover (name or TOML file).
    pub legend: String,
    /// A continuous raster per date: (date, rasters).
    pub rasters: Vec<(String, Vec<String>)>,
    /// Band of the rasters.
    pub raster_band: usize,
    /// What the rasters hold (`NDVI`).
    pub raster_name: Option<String>,
    /// How the rasters' stored numbers become values.
    pub scale: ScaleOffset,
    /// Statistics of the rasters.
    pub stats: Vec<Stat>,
    /// Pairs held in memory for quantiles before they spill
    /// ([`crate::values::ValuesOptions::memory_pairs`]).
    pub memory_pairs: usize,
    /// The zones.
    pub zones: ZoneSource,
    /// How cells and zones are measured.
    pub area: AreaMode,
    /// Where to write the charts (SVG and PNG), if anywhere.
    pub charts: Option<PathBuf>,
    /// Forest cover target drawn on the forest-cover chart (a fraction).
    pub target_cover: Option<f64>,
    /// Where the result will be written (`-o`).
    pub output: Option<PathBuf>,
}

/// What `qingshan series` computed.
#[derive(Debug)]
pub struct SeriesRun {
    /// The result.
    pub report: SeriesReport,
    /// The zones, as read.
    pub zones: ZoneLayer,
    /// The charts written (SVG and PNG files).
    pub charts: Vec<PathBuf>,
    /// Things the charts need that this machine lacks (fonts).
    pub chart_warnings: Vec<String>,
}

impl SeriesRun {
    /// The result ready for any output format.
    pub fn export(&self) -> export::Series<'_> {
        export::Series {
            report: &self.report,
            zones: Some(&self.zones),
        }
    }
}

/// Measures every date ([`crate::series::series`]) and writes the charts.
pub fn series(a: &SeriesArgs, run: &RunOptions<'_>) -> Result<SeriesRun> {
    run.check()?;
    if let Some(t) = a.target_cover
        && !(0.0..=1.0).contains(&t)
    {
        return Err(Error::Invalid(format!(
            "--target-cover {t}: give a fraction between 0 and 1 (0.47 for 47 %)"
        )));
    }
    if a.target_cover.is_some() && a.charts.is_none() {
        return Err(Error::Invalid(
            "--target-cover is drawn on the forest-cover chart: give --charts DIR too".into(),
        ));
    }
    let zones = a.zones.read()?;
    let legend = if a.landcover.is_empty() {
        None
    } else {
        Some(Legend::load(&a.legend)?)
    };
    let mut check = OutputCheck::new();
    check.inputs(&zones.files(), "--zones");
    let mut landcover = Vec::with_capacity(a.landcover.len());
    for (date, paths) in &a.landcover {
        let lc = LandCover::open(paths, a.band)?.with_area(a.area);
        check.inputs(&lc.files(), "--landcover");
        landcover.push((date.clone(), lc));
    }
    if let Some(l) = legend_file(&a.legend).filter(|_| legend.is_some()) {
        check.input(l, "--legend");
    }
    let mut rasters = Vec::with_capacity(a.rasters.len());
    for (date, paths) in &a.rasters {
        let r = ValueRaster::open_values(paths, a.raster_band, a.scale)?.with_area(a.area);
        check.inputs(&r.files(), "--raster");
        rasters.push((date.clone(), r));
    }
    check_outputs(&mut check, &[(a.output.as_ref(), "-o")])?;
    let report = measure(
        &SeriesInputs {
            zones: &zones,
            landcover: &landcover,
            legend: legend.as_ref(),
            rasters: &rasters,
            values_name: a.raster_name.as_deref(),
            stats: &a.stats,
            tuning: crate::values::ValuesOptions {
                memory_pairs: a.memory_pairs,
            },
        },
        run,
    )?;
    let mut written = Vec::new();
    let mut chart_warnings = Vec::new();
    if let Some(dir) = &a.charts {
        crate::fsio::create_dir(dir)?;
        let charts = chart::series_charts(&report, a.target_cover);
        let mut files = Vec::new();
        for (stem, _) in &charts {
            for ext in ["svg", "png"] {
                let p = dir.join(format!("{stem}.{ext}"));
                check.output(&p, "--charts")?;
                files.push(p);
            }
        }
        let chinese = charts
            .iter()
            .any(|(_, c)| !c.title.is_ascii() || c.lines.iter().any(|l| !l.name.is_ascii()));
        chart_warnings.extend(chart::font_warning(chinese));
        for ((_, c), pair) in charts.iter().zip(files.chunks(2)) {
            let svg = c.svg()?;
            let png = chart::png(&svg)?;
            crate::fsio::write_atomic(&pair[0], |w| w.write_all(svg.as_bytes()))?;
            crate::fsio::write_atomic(&pair[1], |w| w.write_all(&png))?;
            written.extend(pair.iter().cloned());
        }
    }
    Ok(SeriesRun {
        report,
        zones,
        charts: written,
        chart_warnings,
    })
}
