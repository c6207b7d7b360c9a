//! Conversion patches: connected cells converted from a natural to an
//! artificial class inside the red lines, outlined as polygons for an
//! inspector to visit. The change pass writes a conversion mask (a
//! [`CellSink`] owned here) in the same pass as the check's numbers; GDAL
//! polygonizes it.
//!
//! Invariant: every patch lies inside its red line (clipped to it) and
//! its area is measured like the change's areas.

use std::path::Path;

use geo::{BooleanOps, BoundingRect, MultiPolygon};

use super::check::{CheckLimits, RedlineCheck, check_from_change};
use super::oriented;
use crate::Result;
use crate::change::pass::RasterOut;
use crate::change::writer::{CellSink, SinkRaster};
use crate::change::{ChangeReport, TransitionCoding, change_with_raster};
use crate::engine::RunOptions;
use crate::fsio::ScratchFile;
use crate::grid::Crs;
use crate::legend::{ClassCode, Legend};
use crate::raster::LandCover;
use crate::srs;
use crate::zones::{ZoneId, ZoneLayer, segment_length};

/// [`super::redline_check`] and [`conversion_patches`] from one pass over the two
/// dates (the check's numbers are the same). Needs one raster per date.
pub fn redline_check_with_patches(
    before: &LandCover,
    after: &LandCover,
    redlines: &ZoneLayer,
    legend: &Legend,
    limits: &CheckLimits,
    opts: &RunOptions<'_>,
    scratch_dir: &Path,
) -> Result<(RedlineCheck, Crs, Vec<Patch>)> {
    limits.validate()?;
    let (change, crs, patches) =
        change_and_patches(before, after, redlines, legend, opts, scratch_dir)?;
    super::check::refuse_unknown_codes(&change, legend)?;
    Ok((check_from_change(&change, legend, limits), crs, patches))
}

/// One connected patch of natural → artificial conversion inside a red
/// line, for an inspector to visit.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    /// Red-line polygon id.
    pub redline_id: ZoneId,
    /// Class before.
    pub from: ClassCode,
    /// Class after.
    pub to: ClassCode,
    /// Area inside the red line (m²).
    pub area_m2: f64,
    /// The patch clipped to the red line, in the land cover's CRS.
    pub geometry: MultiPolygon<f64>,
}

/// Outlines connected patches (8-connected cells of one conversion type)
/// of natural → artificial conversion inside the red lines, with GDAL's
/// polygonize on a conversion mask. Needs one raster per date.
pub fn conversion_patches(
    before: &LandCover,
    after: &LandCover,
    redlines: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
    scratch_dir: &Path,
) -> Result<(Crs, Vec<Patch>)> {
    let (_, crs, patches) = change_and_patches(before, after, redlines, legend, opts, scratch_dir)?;
    Ok((crs, patches))
}

/// The red lines' transitions and conversion patches from one pass (the
/// conversion mask is written to `scratch_dir` and removed).
fn change_and_patches(
    before: &LandCover,
    after: &LandCover,
    redlines: &ZoneLayer,
    legend: &Legend,
    opts: &RunOptions<'_>,
    scratch_dir: &Path,
) -> Result<(ChangeReport, Crs, Vec<Patch>)> {
    let coding = TransitionCoding::for_legend(legend);
    let mask = ScratchFile::in_dir(scratch_dir, "patches", ".tif")?;
    let sink = ConversionMask { coding, legend };
    let change = change_with_raster(
        before,
        after,
        redlines,
        legend,
        opts,
        Some(RasterOut {
            path: mask.path(),
            sink: &sink,
        }),
    )?;
    let crs = before.crs().clone();
    let shapes = crate::raster::polygonize(mask.path())?;
    drop(mask);
    let geoms = redlines.project(&crs, Some(segment_length(&redlines.crs, 10.0)))?;
    let geoms: Vec<MultiPolygon<f64>> = geoms.iter().map(oriented).collect();
    // Areas like the change's: on the ellipsoid (Karney, in lon/lat), or
    // planar for a projected raster with `--area planar`.
    let to_lonlat = match (crs.geographic, before.area) {
        (false, crate::area::AreaMode::Ellipsoidal) => {
            let geog = srs::geographic_of(&crs)?;
            Some((
                srs::Reprojector::new(&crs, &geog)?,
                segment_length(&crs, 1000.0),
            ))
        }
        _ => None,
    };
    let measure = |mp: &MultiPolygon<f64>| -> Result<f64> {
        if crs.geographic {
            Ok(crs.ellipsoid.multipolygon_area(&srs::densify(mp, 1e-4)))
        } else if let Some((r, seg)) = &to_lonlat {
            let ll = r.multipolygon(&srs::densify(mp, *seg))?;
            Ok(crs.ellipsoid.multipolygon_area(&ll))
        } else {
            use geo::Area;
            Ok(mp.unsigned_area() * crs.linear_unit_m * crs.linear_unit_m)
        }
    };
    let boxes: Vec<Option<geo::Rect<f64>>> = geoms.iter().map(|g| g.bounding_rect()).collect();
    let mut patches = Vec::new();
    for (code, shape) in shapes {
        let shape = oriented(&shape);
        let Some(sb) = shape.bounding_rect() else {
            continue;
        };
        let (from, to) = (
            ClassCode::int(code / coding.factor),
            ClassCode::int(code % coding.factor),
        );
        for (k, g) in geoms.iter().enumerate() {
            let Some(b) = boxes[k] else { continue };
            if b.max().x <= sb.min().x
                || b.min().x >= sb.max().x
                || b.max().y <= sb.min().y
                || b.min().y >= sb.max().y
            {
                continue;
            }
            let piece = shape.intersection(g);
            let area = measure(&piece)?;
            if area > 0.0 {
                patches.push(Patch {
                    redline_id: redlines.zones[k].id.clone(),
                    from,
                    to,
                    area_m2: area,
                    geometry: piece,
                });
            }
        }
    }
    patches.sort_by(|a, b| {
        a.redline_id
            .cmp(&b.redline_id)
            .then(b.area_m2.total_cmp(&a.area_m2))
            .then(a.from.cmp(&b.from))
            .then(a.to.cmp(&b.to))
    });
    Ok((change, crs, patches))
}

/// The natural → artificial conversion mask the change pass writes for
/// [`conversion_patches`]: inside the red lines, each converted cell's
/// transition code ([`TransitionCoding`]); 0 for every other cell, so the
/// sparse raster stores only blocks that meet a red line.
struct ConversionMask<'a> {
    coding: TransitionCoding,
    legend: &'a Legend,
}

impl CellSink for ConversionMask<'_> {
    fn everywhere(&self) -> bool {
        false
    }

    fn code(&self, from: Option<ClassCode>, to: Option<ClassCode>) -> u64 {
        match (from, to) {
            (Some(f), Some(t)) if self.legend.is_natural(f) && self.legend.is_artificial(t) => {
                self.coding.code(f, t)
            }
            _ => 0,
        }
    }

    fn cell_type(&self) -> crate::raster::PixelType {
        self.coding.cell_type()
    }

    fn describe(&self) -> SinkRaster {
        SinkRaster::transitions(&self.coding, self.legend, 0.0)
    }
}
