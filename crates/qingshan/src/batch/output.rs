//! A batch's outputs through [`crate::export`]: the merged result (a
//! `qingshan.stats/1` or `qingshan.change/1` document, without zone
//! geometries) and the per-tile quality table.

use std::io::{self, Write};

use super::{Merged, TileQa};
use crate::export::{self, Export, csv_field, write_json, write_table};
use crate::legend::Legend;

/// A merged batch result with its legend (from the run's manifest).
#[derive(Clone, Copy, Debug)]
pub struct MergedOutput<'a> {
    /// The result.
    pub result: &'a Merged,
    /// The run's legend.
    pub legend: &'a Legend,
}

impl MergedOutput<'_> {
    /// The result as the stats or change output it is (partials hold no
    /// geometry).
    fn inner(&self) -> Box<dyn Export + '_> {
        match self.result {
            Merged::Stats(r) => Box::new(export::Stats {
                report: r,
                legend: self.legend,
                zones: None,
            }),
            Merged::Change(r) => Box::new(export::Change {
                report: r,
                legend: self.legend,
                zones: None,
            }),
        }
    }
}

impl Export for MergedOutput<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        self.inner().json(w)
    }

    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        self.inner().csv(w)
    }

    fn geojson(&self, _w: &mut dyn Write) -> io::Result<()> {
        Err(io::Error::other(
            "merge cannot write GeoJSON (partials hold no geometry): use json, csv or table",
        ))
    }

    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        self.inner().table(w)
    }

    fn xlsx(&self, w: &mut dyn Write) -> io::Result<()> {
        self.inner().xlsx(w)
    }

    fn name(&self) -> &'static str {
        self.inner().name()
    }
}

/// The per-tile quality table of a batch run.
#[derive(Clone, Copy, Debug)]
pub struct QaTable<'a>(pub &'a [TileQa]);

impl QaTable<'_> {
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

impl Export for QaTable<'_> {
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
