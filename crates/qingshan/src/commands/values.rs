//! `qingshan values`: coverage-weighted statistics of a continuous raster
//! (NDVI, NPP, …) per zone.

use std::path::PathBuf;

use super::{ZoneSource, check_outputs};
use crate::Result;
use crate::area::AreaMode;
use crate::engine::RunOptions;
use crate::export;
use crate::fsio::OutputCheck;
use crate::raster::values::{ScaleOffset, ValueRaster};
use crate::values::{Stat, ValuesOptions, ValuesReport, values_with};
use crate::zones::ZoneLayer;

/// `qingshan values`.
#[derive(Clone, Debug)]
pub struct ValuesArgs {
    /// The raster (files, VRTs, directories, patterns, lists of tiles on
    /// one grid).
    pub raster: Vec<String>,
    /// Band holding the values.
    pub band: usize,
    /// How stored numbers become values.
    pub scale: ScaleOffset,
    /// The zones.
    pub zones: ZoneSource,
    /// The statistics.
    pub stats: Vec<Stat>,
    /// How cells are weighted.
    pub area: AreaMode,
    /// Pairs of (value, weight) held in memory for quantiles before they
    /// spill ([`ValuesOptions::memory_pairs`]).
    pub memory_pairs: usize,
    /// Where the result will be written (`-o`).
    pub output: Option<PathBuf>,
}

/// What `qingshan values` computed.
#[derive(Debug)]
pub struct ValuesRun {
    /// The result.
    pub report: ValuesReport,
    /// The zones, as read.
    pub zones: ZoneLayer,
    /// The raster, as opened.
    pub raster: ValueRaster,
}

impl ValuesRun {
    /// The result ready for any output format.
    pub fn export(&self) -> export::Values<'_> {
        export::Values {
            report: &self.report,
            zones: Some(&self.zones),
        }
    }
}

/// Statistics of a raster's values per zone ([`crate::values::values`]).
pub fn values(a: &ValuesArgs, run: &RunOptions<'_>) -> Result<ValuesRun> {
    run.check()?;
    let raster = ValueRaster::open_values(&a.raster, a.band, a.scale)?.with_area(a.area);
    let zones = a.zones.read()?;
    let mut check = OutputCheck::new();
    check.inputs(&raster.files(), "--raster");
    check.inputs(&zones.files(), "--zones");
    check_outputs(&mut check, &[(a.output.as_ref(), "-o")])?;
    let report = values_with(
        &raster,
        &zones,
        &a.stats,
        &ValuesOptions {
            memory_pairs: a.memory_pairs,
        },
        run,
    )?;
    Ok(ValuesRun {
        report,
        zones,
        raster,
    })
}

/// Parses `--scale-offset` ([`ScaleOffset::parse`]).
pub fn parse_scale_offset(text: &str) -> Result<ScaleOffset> {
    ScaleOffset::parse(text)
}
