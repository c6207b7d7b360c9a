//! `qingshan stats --landuse`: class areas of a land-use polygon layer
//! (the survey's DLTB) per zone.

use std::path::PathBuf;

use super::{ZoneSource, check_outputs, legend_file};
use crate::Result;
use crate::area::AreaMode;
use crate::engine::{RunOptions, Runner};
use crate::export;
use crate::fsio::OutputCheck;
use crate::landuse::{LandUse, LandUseOptions};
use crate::legend::Legend;
use crate::zonal::StatsReport;
use crate::zones::ZoneLayer;

/// A land-use layer to read ([`crate::landuse::LandUse::read`]).
#[derive(Clone, Debug)]
pub struct LandUseSource {
    /// The file.
    pub path: PathBuf,
    /// What to read from it.
    pub options: LandUseOptions,
}

/// `qingshan stats --landuse`.
#[derive(Clone, Debug)]
pub struct LandUseStatsArgs {
    /// The land-use layer.
    pub landuse: LandUseSource,
    /// The zones.
    pub zones: ZoneSource,
    /// Legend name or TOML file (`sandiao` for the survey's codes).
    pub legend: String,
    /// How polygons and zones are measured.
    pub area: AreaMode,
    /// Where the result will be written (`-o`).
    pub output: Option<PathBuf>,
}

/// What `qingshan stats --landuse` computed.
#[derive(Debug)]
pub struct LandUseStatsRun {
    /// The result.
    pub report: StatsReport,
    /// Its legend.
    pub legend: Legend,
    /// The zones, as read.
    pub zones: ZoneLayer,
    /// The land-use layer, as read.
    pub landuse: LandUse,
}

impl LandUseStatsRun {
    /// The result ready for any output format.
    pub fn export(&self) -> export::Stats<'_> {
        export::Stats {
            report: &self.report,
            legend: &self.legend,
            zones: Some(&self.zones),
        }
    }
}

/// Per-zone class areas of a land-use layer ([`crate::landuse::landuse_stats`]).
pub fn landuse_stats(a: &LandUseStatsArgs, run: &RunOptions<'_>) -> Result<LandUseStatsRun> {
    run.check()?;
    let legend = Legend::load(&a.legend)?;
    // Read side by side on the run's pool (the validity sweep of a layer
    // runs on it too).
    let (lu, z) = Runner::new(run)?.install(|| {
        rayon::join(
            || LandUse::read(&a.landuse.path, &a.landuse.options),
            || a.zones.read(),
        )
    });
    let (landuse, zones) = (lu?, z?);
    let mut check = OutputCheck::new();
    check.inputs(&landuse.files(), "--landuse");
    check.inputs(&zones.files(), "--zones");
    if let Some(l) = legend_file(&a.legend) {
        check.input(l, "--legend");
    }
    check_outputs(&mut check, &[(a.output.as_ref(), "-o")])?;
    let report = crate::landuse::landuse_stats(&landuse, &zones, &legend, a.area, run)?;
    Ok(LandUseStatsRun {
        report,
        legend,
        zones,
        landuse,
    })
}

/// `qingshan change --before-landuse A --after-landuse B`.
#[derive(Clone, Debug)]
pub struct LandUseChangeArgs {
    /// The first version.
    pub before: LandUseSource,
    /// The second version.
    pub after: LandUseSource,
    /// The zones.
    pub zones: ZoneSource,
    /// Legend name or TOML file.
    pub legend: String,
    /// How polygons and zones are measured.
    pub area: AreaMode,
    /// Where to write the change list (`.gpkg`, `.shp`, `.geojson`,
    /// `.csv`, `.xlsx`).
    pub change_list: Option<PathBuf>,
    /// Where the result will be written (`-o`).
    pub output: Option<PathBuf>,
}

/// What `qingshan change` computed from two land-use versions.
#[derive(Debug)]
pub struct LandUseChangeRun {
    /// The transitions and the changed pieces.
    pub change: crate::landuse::LandUseChange,
    /// Its legend.
    pub legend: Legend,
    /// The zones, as read.
    pub zones: ZoneLayer,
    /// Polygons of the first version.
    pub before_polygons: usize,
    /// Polygons of the second version.
    pub after_polygons: usize,
}

impl LandUseChangeRun {
    /// The transitions ready for any output format.
    pub fn export(&self) -> export::Change<'_> {
        export::Change {
            report: &self.change.report,
            legend: &self.legend,
            zones: Some(&self.zones),
        }
    }

    /// The change list ready to write.
    pub fn change_list(&self) -> export::ChangeList<'_> {
        export::ChangeList {
            change: &self.change,
            legend: &self.legend,
            zones: &self.zones,
        }
    }
}

/// `redline check` from two land-use versions: the red lines' transitions
/// by polygon overlay, checked as from rasters; `--patches` gets every
/// natural → artificial piece as a change list.
pub(super) fn landuse_check(
    a: &super::CheckArgs,
    (before, after): &(LandUseSource, LandUseSource),
    run: &RunOptions<'_>,
) -> Result<super::CheckRun> {
    a.limits.validate()?;
    let changed = landuse_change_with(
        &LandUseChangeArgs {
            before: before.clone(),
            after: after.clone(),
            zones: a.redlines.clone(),
            legend: a.legend.clone(),
            area: a.area,
            // Checked against the inputs and -o with the change list's rules.
            change_list: a.patches.clone(),
            output: a.output.clone(),
        },
        &ChangeListFilter::Conversions,
        run,
    )?;
    let check =
        crate::redline::check_from_change(&changed.change.report, &changed.legend, &a.limits);
    Ok(super::CheckRun {
        check,
        legend: changed.legend,
        redlines: changed.zones,
        patches: None,
    })
}

/// Which changed pieces a change list holds.
pub(super) enum ChangeListFilter {
    /// Every piece whose class changed.
    All,
    /// Natural → artificial pieces (a red-line check's patches), written
    /// only when the legend knows every code.
    Conversions,
}

/// Transitions between two land-use versions per zone, and the change
/// list written to `change_list` when given
/// ([`crate::landuse::landuse_change`]).
pub fn landuse_change(a: &LandUseChangeArgs, run: &RunOptions<'_>) -> Result<LandUseChangeRun> {
    landuse_change_with(a, &ChangeListFilter::All, run)
}

fn landuse_change_with(
    a: &LandUseChangeArgs,
    filter: &ChangeListFilter,
    run: &RunOptions<'_>,
) -> Result<LandUseChangeRun> {
    run.check()?;
    let legend = Legend::load(&a.legend)?;
    let ((b, after), z) = Runner::new(run)?.install(|| {
        rayon::join(
            || {
                rayon::join(
                    || LandUse::read(&a.before.path, &a.before.options),
                    || LandUse::read(&a.after.path, &a.after.options),
                )
            },
            || a.zones.read(),
        )
    });
    let (before, after, zones) = (b?, after?, z?);
    let mut check = OutputCheck::new();
    check.inputs(&before.files(), "--before-landuse");
    check.inputs(&after.files(), "--after-landuse");
    check.inputs(&zones.files(), "--zones");
    if let Some(l) = legend_file(&a.legend) {
        check.input(l, "--legend");
    }
    check_outputs(
        &mut check,
        &[
            (
                a.change_list.as_ref(),
                match filter {
                    ChangeListFilter::All => "--change-list",
                    ChangeListFilter::Conversions => "--patches",
                },
            ),
            (a.output.as_ref(), "-o"),
        ],
    )?;
    let change = crate::landuse::landuse_change(&before, &after, &zones, &legend, a.area, run)?;
    let out = LandUseChangeRun {
        change,
        legend,
        zones,
        before_polygons: before.polygons.len(),
        after_polygons: after.polygons.len(),
    };
    if matches!(filter, ChangeListFilter::Conversions) {
        crate::redline::refuse_unknown_codes(&out.change.report, &out.legend)?;
    }
    if let Some(p) = &a.change_list {
        match filter {
            ChangeListFilter::All => out.change_list().write(p)?,
            ChangeListFilter::Conversions => {
                let mut conversions = out.change.clone();
                conversions
                    .changed
                    .retain(|c| out.legend.is_natural(c.from) && out.legend.is_artificial(c.to));
                export::ChangeList {
                    change: &conversions,
                    legend: &out.legend,
                    zones: &out.zones,
                }
                .write(p)?;
            }
        }
    }
    Ok(out)
}
