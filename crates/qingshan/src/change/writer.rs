//! Rasters a change pass writes beside its per-zone numbers: what each
//! cell holds is a [`CellSink`]'s business (the transition of every cell
//! here; `redline` owns the natural → artificial conversion mask), writing
//! the windows in task order is the [`SinkWriter`]'s.
//!
//! Invariant: the raster covers exactly the common extent of the one
//! raster per date, and every window is written once, in task order.

use std::path::Path;

use super::coding::{Codes, TransitionCoding};
use crate::grid::{Grid, Window};
use crate::legend::{ClassCode, Legend};
use crate::raster::{ClassRasterWriter, PixelType, RasterSpec};
use crate::{Error, Result};

/// What a raster written by the change pass holds in each cell.
pub(crate) trait CellSink: Sync {
    /// Every cell of the compared extent (`true`), or only the cells
    /// inside some zone (`false`: the others are 0, and blocks never
    /// written stay sparse).
    fn everywhere(&self) -> bool;
    /// The code of a cell from its classes before and after (`None`:
    /// nodata in that date). 0 leaves a cell of a zones-only raster
    /// empty.
    fn code(&self, from: Option<ClassCode>, to: Option<ClassCode>) -> u64;
    /// The cell type of the raster.
    fn cell_type(&self) -> PixelType;
    /// How the raster describes itself: nodata value, band description,
    /// metadata and colours.
    fn describe(&self) -> SinkRaster;
}

/// A raster's self-description (see [`CellSink::describe`]).
pub(crate) struct SinkRaster {
    /// Nodata value.
    pub(crate) nodata: f64,
    /// Band description.
    pub(crate) description: String,
    /// Dataset metadata items.
    pub(crate) metadata: Vec<(String, String)>,
    /// Colour table entries.
    pub(crate) colors: Vec<(i64, [u8; 3])>,
}

impl SinkRaster {
    /// A raster of transition codes (`coding`, class names from
    /// `legend`) whose nodata value is `nodata`.
    pub(crate) fn transitions(
        coding: &TransitionCoding,
        legend: &Legend,
        nodata: f64,
    ) -> SinkRaster {
        let (metadata, colors) = coding.raster_legend(legend);
        SinkRaster {
            nodata,
            description: coding.description(),
            metadata,
            colors,
        }
    }
}

/// No raster: the sink type of passes that write none.
pub(crate) enum NoRaster {}

impl CellSink for NoRaster {
    fn everywhere(&self) -> bool {
        match *self {}
    }
    fn code(&self, _: Option<ClassCode>, _: Option<ClassCode>) -> u64 {
        match *self {}
    }
    fn cell_type(&self) -> PixelType {
        match *self {}
    }
    fn describe(&self) -> SinkRaster {
        match *self {}
    }
}

/// Every cell's transition, `from × factor + to` ([`TransitionCoding`]),
/// the coding's `nodata` where either date is nodata.
pub(crate) struct TransitionRaster<'a> {
    pub(crate) coding: TransitionCoding,
    pub(crate) legend: &'a Legend,
}

impl CellSink for TransitionRaster<'_> {
    fn everywhere(&self) -> bool {
        true
    }

    #[inline]
    fn code(&self, from: Option<ClassCode>, to: Option<ClassCode>) -> u64 {
        match (from, to) {
            (Some(f), Some(t)) => self.coding.code(f, t),
            _ => self.coding.nodata,
        }
    }

    fn cell_type(&self) -> PixelType {
        self.coding.cell_type()
    }

    fn describe(&self) -> SinkRaster {
        SinkRaster::transitions(&self.coding, self.legend, self.coding.nodata as f64)
    }
}

/// Writes a sink's raster window by window, in task order.
pub(super) enum SinkWriter {
    U8(ClassRasterWriter<u8>, Window),
    U16(ClassRasterWriter<u16>, Window),
    U32(ClassRasterWriter<u32>, Window),
}

impl SinkWriter {
    /// The raster of `sink` over `region` of `grid` (the before raster's),
    /// compressed on `threads` threads.
    pub(super) fn create(
        path: &Path,
        grid: &Grid,
        region: Window,
        sink: &impl CellSink,
        threads: usize,
    ) -> Result<Self> {
        let (x0, y0) = grid.transform.to_map(region.col as f64, region.row as f64);
        let mut transform = grid.transform;
        transform.0[0] = x0;
        transform.0[3] = y0;
        let grid = Grid {
            transform,
            width: region.width,
            height: region.height,
            crs: grid.crs.clone(),
        };
        let d = sink.describe();
        let spec = RasterSpec {
            grid: &grid,
            nodata: Some(d.nodata),
            description: &d.description,
            metadata: d.metadata,
            colors: d.colors,
            sparse: !sink.everywhere(),
            threads,
        };
        Ok(match sink.cell_type() {
            PixelType::U8 => SinkWriter::U8(ClassRasterWriter::create(path, &spec)?, region),
            PixelType::U16 => SinkWriter::U16(ClassRasterWriter::create(path, &spec)?, region),
            _ => SinkWriter::U32(ClassRasterWriter::create(path, &spec)?, region),
        })
    }

    /// Writes the codes of `window` (in the before raster's pixels).
    pub(super) fn write(&mut self, window: Window, codes: Codes) -> Result<()> {
        let shift = |r: &Window| Window {
            col: window.col - r.col,
            row: window.row - r.row,
            ..window
        };
        match (self, codes) {
            (SinkWriter::U8(w, r), Codes::U8(c)) => w.write(shift(r), c).map(drop),
            (SinkWriter::U16(w, r), Codes::U16(c)) => w.write(shift(r), c).map(drop),
            (SinkWriter::U32(w, r), Codes::U32(c)) => w.write(shift(r), c).map(drop),
            _ => Err(Error::Invalid(
                "internal: cell codes of another cell type than the raster".into(),
            )),
        }
    }

    /// Closes the raster and renames it into place.
    pub(super) fn finish(self) -> Result<()> {
        match self {
            SinkWriter::U8(w, _) => w.finish(),
            SinkWriter::U16(w, _) => w.finish(),
            SinkWriter::U32(w, _) => w.finish(),
        }
    }
}
