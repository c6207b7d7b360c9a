//! `qingshan stats --landuse`: class areas of a land-use polygon layer
//! (the survey's DLTB) per zone.

use std::path::PathBuf;

use super::{ZoneSource, check_outputs, legend_file};
use crate::area::AreaMode;
use crate::engine::RunOptions;
use crate::export;
use crate::fsio::OutputCheck;
use crate::landuse::{LandUse, LandUseOptions};
use crate::legend::Legend;
use crate::zonal::StatsReport;
use crate::zones::ZoneLayer;
use crate::{Error, Result};

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
    let (landuse, zones) = std::thread::scope(|s| {
        let z = s.spawn(|| a.zones.read());
        let lu = LandUse::read(&a.landuse.path, &a.landuse.options);
        let z = z
            .join()
            .map_err(|_| Error::Invalid("reading the zones failed".into()))?;
        Ok::<_, Error>((lu?, z?))
    })?;
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
