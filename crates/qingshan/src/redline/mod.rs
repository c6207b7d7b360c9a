//! Ecological protection red lines (生态保护红线): "area not reduced, nature
//! not changed, function not lowered" (面积不减少、性质不改变、功能不降低).
//!
//! - [`redline_diff`] compares two versions of the red-line layer: total
//!   areas of their unions, the area lost and gained, and per polygon (by
//!   id) whether it is unchanged, grown, shrunk, reshaped, removed or
//!   added — area on the ellipsoid, so independent of the files' CRSs.
//! - [`redline_check`] measures, inside each red-line polygon, the land
//!   converted from natural to artificial classes between two dates
//!   (nature) and the change of the vegetated share (function);
//!   [`conversion_patches`] outlines each converted patch.
//!
//! Invariant: lost and gained areas come from polygon differences of the
//! layers themselves (geo's boolean operations), never from rasterising.
//!
//! By concern: `diff` (two versions of the layer), `check` (nature and
//! function from a change of the red lines), `patches` (converted patches
//! outlined from a conversion mask the change pass writes; the mask is a
//! cell sink this module owns).

mod check;
mod diff;
mod patches;
mod precision;

use geo::MultiPolygon;
use geo::orient::{Direction, Orient};

use crate::{Error, Result};

pub(crate) use check::MIN_VERIFIED_SHARE;
pub(crate) use check::refuse_unknown_codes;
pub use check::{
    CheckLimits, Conversion, PolygonCheck, RedlineCheck, check_from_change, redline_check,
};
pub use diff::{
    DiffOptions, LayerInfo, PolygonDiff, PolygonStatus, RedlineDiff, TownDiff, redline_diff,
};
pub use patches::{Patch, conversion_patches, redline_check_with_patches};

/// Schema tag of red-line results (`kind` tells `diff` from `check`).
pub const REDLINE_SCHEMA: &str = "qingshan.redline/1";

/// A limit that must be a non-negative number.
pub(crate) fn non_negative(value: f64, what: &str) -> Result<()> {
    if value.is_nan() || value < 0.0 {
        return Err(Error::Invalid(format!(
            "{what} must be a non-negative number, not {value}"
        )));
    }
    Ok(())
}

/// Polygons oriented the way boolean operations expect.
pub(crate) fn oriented(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    mp.orient(Direction::Default)
}
