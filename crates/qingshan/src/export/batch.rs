//! Batch results: a merge of tile partials (`qingshan.stats/1` or
//! `qingshan.change/1`) and the per-tile quality table.

use std::io::{self, Write};

use super::change::{change_csv, change_table};
use super::stats::{stats_csv, stats_table};
use super::{Export, csv_field, write_json, write_table};
use crate::batch::{self, TileQa};
use crate::legend::Legend;

/// A merged batch result with its legend (from the run's manifest).
#[derive(Clone, Copy, Debug)]
pub struct Merged<'a> {
    /// The result.
    pub result: &'a batch::Merged,
    /// The run's legend.
    pub legend: &'a Legend,
}

impl Export for Merged<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        match self.result {
            batch::Merged::Stats(r) => write_json(r, w),
            batch::Merged::Change(r) => write_json(r, w),
        }
    }

    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        match self.result {
            batch::Merged::Stats(r) => stats_csv(r, self.legend, w),
            batch::Merged::Change(r) => change_csv(r, self.legend, w),
        }
    }

    fn geojson(&self, _w: &mut dyn Write) -> io::Result<()> {
        Err(io::Error::other(
            "merge cannot write GeoJSON (partials hold no geometry): use json, csv or table",
        ))
    }

    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        match self.result {
            batch::Merged::Stats(r) => stats_table(r, w),
            batch::Merged::Change(r) => change_table(r, self.legend, w),
        }
    }
}

/// The per-tile quality table of a batch run.
#[derive(Clone, Copy, Debug)]
pub struct TileQaTable<'a>(pub &'a [TileQa]);

impl TileQaTable<'_> {
    fn rows(&self) -> Vec<Vec<String>> {
        let mut rows = vec![
            [
                "tile_index",
                "tile",
                "crs",
                "cells",
                "cells_read",
                "nodata_share",
                "seconds",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for q in self.0 {
            rows.push(vec![
                q.tile_index.to_string(),
                q.tile.clone(),
                q.crs.clone(),
                q.cells.to_string(),
                q.cells_read.to_string(),
                q.nodata_share.map(|v| v.to_string()).unwrap_or_default(),
                format!("{:.3}", q.seconds),
            ]);
        }
        rows
    }
}

impl Export for TileQaTable<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(&self.0, w)
    }

    /// One row per tile: index, file, CRS, cells, cells read, nodata share
    /// of the zones' covered area, seconds of work.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        for row in self.rows() {
            let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
            writeln!(w, "{}", fields.join(","))?;
        }
        Ok(())
    }

    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        write_table(&self.rows(), w)
    }
}
