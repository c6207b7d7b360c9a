//! `qingshan slope`: slope grades per zone from a DEM, land cover by
//! grade, cropland polygons on steep slopes.

use std::path::PathBuf;

use super::{ZoneSource, check_outputs, geotiff_name, legend_file};
use crate::area::AreaMode;
use crate::engine::RunOptions;
use crate::export;
use crate::fsio::OutputCheck;
use crate::legend::Legend;
use crate::raster::LandCover;
use crate::raster::values::ValueRaster;
use crate::slope::{Cropland, Grades, SlopeInputs, SlopeReport, slope as measure};
use crate::zones::ZoneLayer;
use crate::zones::write::VectorFormat;
use crate::{Error, Result};

/// Cropland polygons to grade: the layer, its class field and the codes
/// that are cropland.
#[derive(Clone, Debug, Default)]
pub struct CroplandSource {
    /// The polygons (e.g. the land survey's DLTB layer).
    pub zones: ZoneSource,
    /// The field holding each polygon's class (e.g. `DLBM`); none: every
    /// polygon is cropland.
    pub class_field: Option<String>,
    /// Codes that are cropland (default with a class field: 0101, 0102,
    /// 0103, the survey's cropland).
    pub codes: Vec<String>,
}

/// `qingshan slope`.
#[derive(Clone, Debug)]
pub struct SlopeArgs {
    /// The DEM (files, VRTs, directories, patterns, lists of tiles).
    pub dem: Vec<String>,
    /// Band holding the heights.
    pub dem_band: usize,
    /// The zones.
    pub zones: ZoneSource,
    /// Land cover for the class × grade cross-tab.
    pub landcover: Option<Vec<String>>,
    /// Band of the land cover.
    pub band: usize,
    /// Legend of the land cover (name or TOML file).
    pub legend: String,
    /// Cropland polygons to grade.
    pub cropland: Option<CroplandSource>,
    /// The grades.
    pub grades: Grades,
    /// How cells and zones are measured.
    pub area: AreaMode,
    /// Where to write the slope raster (GeoTIFF, Float32 degrees).
    pub slope_raster: Option<PathBuf>,
    /// Where to write the cropland polygons on the steepest grade
    /// (`.gpkg`, `.shp`, `.geojson`; a `.csv` list beside it).
    pub steep_cropland: Option<PathBuf>,
    /// Where the result will be written (`-o`).
    pub output: Option<PathBuf>,
}

/// What `qingshan slope` computed.
#[derive(Debug)]
pub struct SlopeRun {
    /// The result.
    pub report: SlopeReport,
    /// The zones, as read.
    pub zones: ZoneLayer,
    /// The land cover's legend, when land cover was given.
    pub legend: Option<Legend>,
    /// The DEM, as opened.
    pub dem: ValueRaster,
    /// The cropland polygons graded.
    pub cropland: Option<Cropland>,
    /// The steep-cropland CSV list written beside `--steep-cropland`.
    pub steep_csv: Option<PathBuf>,
}

impl SlopeRun {
    /// The result ready for any output format.
    pub fn export(&self) -> export::Slope<'_> {
        export::Slope {
            report: &self.report,
            legend: self.legend.as_ref(),
            zones: Some(&self.zones),
        }
    }

    /// The steep cropland polygons, when cropland polygons were graded.
    pub fn steep(&self) -> Option<export::SteepCropland<'_>> {
        self.cropland.as_ref().map(|c| export::SteepCropland {
            report: &self.report,
            cropland: c,
        })
    }
}

/// Slope grades per zone ([`crate::slope::slope`]), and the steep
/// cropland polygons written when asked.
pub fn slope(a: &SlopeArgs, run: &RunOptions<'_>) -> Result<SlopeRun> {
    run.check()?;
    let dem = ValueRaster::open(&a.dem, a.dem_band)?.with_area(a.area);
    let zones = a.zones.read()?;
    let land_cover = match &a.landcover {
        Some(lc) => Some((
            LandCover::open(lc, a.band)?.with_area(a.area),
            Legend::load(&a.legend)?,
        )),
        None => None,
    };
    let cropland = match &a.cropland {
        Some(c) => Some(Cropland::select(
            c.zones.read()?,
            c.class_field.as_deref(),
            &c.codes,
        )?),
        None => None,
    };
    let mut check = OutputCheck::new();
    check.inputs(&dem.files(), "--dem");
    check.inputs(&zones.files(), "--zones");
    if let Some((lc, _)) = &land_cover {
        check.inputs(&lc.files(), "--landcover");
        if let Some(l) = legend_file(&a.legend) {
            check.input(l, "--legend");
        }
    }
    if let Some(c) = &cropland {
        check.inputs(&c.layer.files(), "--cropland");
    }
    let steep_csv = a.steep_cropland.as_ref().map(|p| p.with_extension("csv"));
    // A Shapefile's sidecars are outputs too (written, or removed when
    // stale): none may be an input's file.
    // A Shapefile's sidecars are checked by `OutputCheck::output`.
    let outputs = [
        (a.slope_raster.as_ref(), "--slope-raster"),
        (a.steep_cropland.as_ref(), "--steep-cropland"),
        (steep_csv.as_ref(), "--steep-cropland (its CSV list)"),
        (a.output.as_ref(), "-o"),
    ];
    check_outputs(&mut check, &outputs)?;
    // An output that cannot be written (a directory of that name, a
    // directory that does not exist) fails now, not after the run has
    // replaced the other outputs.
    for p in [&a.slope_raster, &a.steep_cropland, &steep_csv, &a.output]
        .into_iter()
        .flatten()
    {
        if p.as_os_str() == "-" {
            continue;
        }
        if std::fs::metadata(p).is_ok_and(|m| m.is_dir()) {
            return Err(Error::write(p, "is a directory; give a file name"));
        }
        if !crate::fsio::parent_dir(p).is_dir() {
            return Err(Error::write(
                p,
                "its directory does not exist; create it first",
            ));
        }
    }
    if let Some(p) = &a.slope_raster {
        geotiff_name(p, "--slope-raster")?;
    }
    if let Some(p) = &a.steep_cropland {
        VectorFormat::from_path(p)?;
        if cropland.is_none() {
            return Err(Error::Invalid(
                "--steep-cropland lists cropland polygons: give them with --cropland FILE".into(),
            ));
        }
    }
    let report = measure(
        &SlopeInputs {
            dem: &dem,
            zones: &zones,
            grades: &a.grades,
            land_cover: land_cover.as_ref().map(|(lc, l)| (lc, l)),
            cropland: cropland.as_ref(),
            slope_raster: a.slope_raster.as_deref(),
        },
        run,
    )?;
    let mut out = SlopeRun {
        report,
        zones,
        legend: land_cover.map(|(_, l)| l),
        dem,
        cropland,
        steep_csv: None,
    };
    if let (Some(path), Some(steep)) = (&a.steep_cropland, out.steep()) {
        out.steep_csv = Some(steep.write(path)?);
    }
    Ok(out)
}
