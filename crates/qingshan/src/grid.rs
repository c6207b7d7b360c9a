//! The raster grid: geotransform, size, CRS and windows.
//!
//! A [`Grid`] maps pixel space (column, row; the cell `(c, r)` is the unit
//! square `[c, c+1] × [r, r+1]`) to map coordinates with GDAL's affine
//! geotransform. Invariant: [`GeoTransform::to_pixel`] is the exact inverse
//! of [`GeoTransform::to_map`] up to rounding, so polygons can be measured in
//! pixel space, where every cell is the unit square.

use serde::{Deserialize, Serialize};

use crate::area::{CellAreas, Ellipsoid};
use crate::{Error, Result};

/// GDAL's affine geotransform `[x0, a, b, y0, d, e]`:
/// `x = x0 + col·a + row·b`, `y = y0 + col·d + row·e`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeoTransform(pub [f64; 6]);

impl GeoTransform {
    /// Map coordinate of the pixel-space point `(col, row)`.
    pub fn to_map(&self, col: f64, row: f64) -> (f64, f64) {
        let g = &self.0;
        (
            g[0] + col * g[1] + row * g[2],
            g[3] + col * g[4] + row * g[5],
        )
    }

    /// Determinant `a·e − b·d` (signed area of one cell in CRS units²).
    pub fn determinant(&self) -> f64 {
        let g = &self.0;
        g[1] * g[5] - g[2] * g[4]
    }

    /// Area of one cell in CRS units² (`|a·e − b·d|`).
    pub fn cell_area(&self) -> f64 {
        self.determinant().abs()
    }

    /// Whether the grid is north-up (no rotation terms).
    pub fn is_north_up(&self) -> bool {
        self.0[2] == 0.0 && self.0[4] == 0.0
    }

    /// Pixel-space point `(col, row)` of a map coordinate. `None` when the
    /// transform is degenerate (zero determinant).
    pub fn to_pixel(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let g = &self.0;
        let det = self.determinant();
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let dx = x - g[0];
        let dy = y - g[3];
        if self.is_north_up() {
            return Some((dx / g[1], dy / g[5]));
        }
        Some(((g[5] * dx - g[2] * dy) / det, (g[1] * dy - g[4] * dx) / det))
    }

    /// Pixel size `(|a|, |e|)` of a north-up grid.
    pub fn pixel_size(&self) -> (f64, f64) {
        (self.0[1].hypot(self.0[4]), self.0[2].hypot(self.0[5]))
    }
}

/// A coordinate reference system, kept as plain data (WKT plus what
/// qingshan needs from it) so it can cross threads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crs {
    /// WKT2 definition as GDAL gave it.
    pub wkt: String,
    /// Short label for outputs, e.g. `EPSG:4545` (or the CRS name).
    pub label: String,
    /// EPSG code when GDAL identified one.
    pub epsg: Option<u32>,
    /// Geographic (lon/lat) rather than projected.
    pub geographic: bool,
    /// The CRS's ellipsoid.
    pub ellipsoid: Ellipsoid,
    /// Metres per linear unit of a projected CRS (1 for metres).
    pub linear_unit_m: f64,
}

impl Crs {
    /// Whether two CRSs are the same for measuring purposes (same EPSG
    /// code, or the same WKT).
    pub fn same_as(&self, other: &Crs) -> bool {
        match (self.epsg, other.epsg) {
            (Some(a), Some(b)) => a == b,
            _ => self.wkt == other.wkt,
        }
    }
}

/// A rectangle of cells: columns `col..col+width`, rows `row..row+height`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// First column.
    pub col: usize,
    /// First row.
    pub row: usize,
    /// Number of columns.
    pub width: usize,
    /// Number of rows.
    pub height: usize,
}

impl Window {
    /// Number of cells.
    pub fn cells(&self) -> usize {
        self.width * self.height
    }

    /// One past the last column.
    pub fn col_end(&self) -> usize {
        self.col + self.width
    }

    /// One past the last row.
    pub fn row_end(&self) -> usize {
        self.row + self.height
    }

    /// Whether the window is made of whole blocks of size `block` of a
    /// raster of `size` (columns, rows): it starts on a block corner and
    /// ends on one or at the raster's edge, and lies inside the raster.
    pub fn whole_blocks(&self, block: (usize, usize), size: (usize, usize)) -> bool {
        let edge = |start: usize, len: usize, b: usize, total: usize| {
            b > 0
                && len > 0
                && start.is_multiple_of(b)
                && start + len <= total
                && ((start + len).is_multiple_of(b) || start + len == total)
        };
        edge(self.col, self.width, block.0, size.0) && edge(self.row, self.height, block.1, size.1)
    }
}

/// Why one grid's cells do not line up with another's ([`Grid::cell_offset`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Misfit {
    /// The CRSs differ.
    Crs,
    /// The pixel sizes or rotation terms differ (by more than 1e-9
    /// relative).
    PixelSize,
    /// Same CRS and pixel size, but the cells are shifted against each
    /// other by these fractions of a cell (columns, rows).
    Shifted(f64, f64),
}

/// Relative tolerance on pixel sizes and rotation terms for two grids to
/// share cells.
const PIXEL_SIZE_RTOL: f64 = 1e-9;
/// Tolerance, in cells, on the shift between two grids' origins.
const SHIFT_TOL: f64 = 1e-6;

/// A raster grid: transform, size and CRS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Pixel → map transform.
    pub transform: GeoTransform,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Coordinate reference system.
    pub crs: Crs,
}

impl Grid {
    /// Where `other`'s first cell lies on this grid, in whole cells
    /// `(col, row)` (negative: left of or above this grid's origin), when
    /// both grids have the same CRS, pixel size and rotation (to 1e-9
    /// relative) and their cells line up (to 1e-6 of a cell). Every place
    /// that reads rasters cell to cell — the two dates of `change`, tile
    /// sets of two dates, `batch`, the tiles of a mosaic VRT — decides
    /// with this one rule.
    pub fn cell_offset(&self, other: &Grid) -> std::result::Result<(i64, i64), Misfit> {
        if !self.crs.same_as(&other.crs) {
            return Err(Misfit::Crs);
        }
        let (g, o) = (&self.transform.0, &other.transform.0);
        // Every term against the pixel size (rotation included), so grids
        // turned by 90° (pixel terms 0) tolerate rounding like any other.
        let (px, py) = self.transform.pixel_size();
        let tol = PIXEL_SIZE_RTOL * px.max(py);
        if [1, 2, 4, 5].iter().any(|&i| (g[i] - o[i]).abs() > tol) {
            return Err(Misfit::PixelSize);
        }
        let (dc, dr) = self
            .transform
            .to_pixel(o[0], o[3])
            .ok_or(Misfit::PixelSize)?;
        let (rc, rr) = (dc.round(), dr.round());
        if (dc - rc).abs() > SHIFT_TOL || (dr - rr).abs() > SHIFT_TOL {
            return Err(Misfit::Shifted(dc - dc.floor(), dr - dr.floor()));
        }
        Ok((rc as i64, rr as i64))
    }

    /// Map-space bounding box `(xmin, ymin, xmax, ymax)` of the grid.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let corners = [
            self.transform.to_map(0.0, 0.0),
            self.transform.to_map(self.width as f64, 0.0),
            self.transform.to_map(0.0, self.height as f64),
            self.transform.to_map(self.width as f64, self.height as f64),
        ];
        let mut b = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for (x, y) in corners {
            b.0 = b.0.min(x);
            b.1 = b.1.min(y);
            b.2 = b.2.max(x);
            b.3 = b.3.max(y);
        }
        b
    }

    /// Cuts the grid into windows of at most `width × height` cells, row by
    /// row (the order tasks are merged in).
    pub fn windows(&self, width: usize, height: usize) -> Vec<Window> {
        let (width, height) = (width.max(1), height.max(1));
        let mut out = Vec::new();
        let mut row = 0;
        while row < self.height {
            let h = height.min(self.height - row);
            let mut col = 0;
            while col < self.width {
                let w = width.min(self.width - col);
                out.push(Window {
                    col,
                    row,
                    width: w,
                    height: h,
                });
                col += w;
            }
            row += h;
        }
        out
    }

    /// Cell areas: planar for projected CRSs, per row on the CRS's
    /// ellipsoid for geographic ones (which must be north-up).
    pub fn cell_areas(&self) -> Result<CellAreas> {
        let gt = &self.transform;
        if !self.crs.geographic {
            let unit = self.crs.linear_unit_m;
            return Ok(CellAreas::Planar(gt.cell_area() * unit * unit));
        }
        if !gt.is_north_up() {
            return Err(Error::Invalid(format!(
                "rotated geographic grids are not supported (CRS {}); warp to a north-up grid with gdalwarp",
                self.crs.label
            )));
        }
        let g = gt.0;
        let areas = (0..self.height)
            .map(|r| {
                let lat1 = g[3] + r as f64 * g[5];
                let lat2 = lat1 + g[5];
                self.crs.ellipsoid.quadrangle_area(lat1, lat2, g[1])
            })
            .collect();
        Ok(CellAreas::PerRow(areas))
    }

    /// The whole grid as one window.
    pub fn full_window(&self) -> Window {
        Window {
            col: 0,
            row: 0,
            width: self.width,
            height: self.height,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_and_map_are_inverse_for_rotated_grids() {
        let gt = GeoTransform([500_000.0, 30.0, 5.0, 3_900_000.0, 4.0, -30.0]);
        let (x, y) = gt.to_map(12.25, 7.5);
        let (c, r) = gt.to_pixel(x, y).unwrap();
        assert!((c - 12.25).abs() < 1e-9 && (r - 7.5).abs() < 1e-9);
        assert_eq!(gt.cell_area(), (30.0f64 * -30.0 - 5.0 * 4.0).abs());
    }

    #[test]
    fn windows_cover_the_grid_exactly_once() {
        let grid = Grid {
            transform: GeoTransform([0.0, 1.0, 0.0, 0.0, 0.0, -1.0]),
            width: 300,
            height: 130,
            crs: Crs {
                wkt: String::new(),
                label: String::new(),
                epsg: None,
                geographic: false,
                ellipsoid: crate::area::Ellipsoid::GRS80,
                linear_unit_m: 1.0,
            },
        };
        let ws = grid.windows(128, 64);
        assert_eq!(ws.len(), 3 * 3);
        assert_eq!(ws.iter().map(Window::cells).sum::<usize>(), 300 * 130);
        assert_eq!(ws[2].width, 300 - 256);
        assert_eq!(ws[8].height, 130 - 128);
    }

    fn crs(epsg: u32) -> Crs {
        Crs {
            wkt: format!("EPSG:{epsg}"),
            label: format!("EPSG:{epsg}"),
            epsg: Some(epsg),
            geographic: false,
            ellipsoid: crate::area::Ellipsoid::GRS80,
            linear_unit_m: 1.0,
        }
    }

    fn grid_at(epsg: u32, gt: [f64; 6]) -> Grid {
        Grid {
            transform: GeoTransform(gt),
            width: 20,
            height: 10,
            crs: crs(epsg),
        }
    }

    /// One rule for "these grids share cells": whole-cell shifts give the
    /// offset; rounding-level differences (1e-9 of a cell, 1e-12 of a pixel
    /// size) do not matter; a fraction of a cell, another pixel size or
    /// rotation, or another CRS is a misfit, and says which.
    #[test]
    fn cell_offset_finds_whole_cell_shifts_and_names_misfits() {
        let base = [590_000.0, 30.0, 0.0, 3_900_000.0, 0.0, -30.0];
        let g = grid_at(4545, base);
        let with = |f: &dyn Fn(&mut [f64; 6])| {
            let mut t = base;
            f(&mut t);
            grid_at(4545, t)
        };
        assert_eq!(g.cell_offset(&g), Ok((0, 0)));
        // Three cells right, two cells up.
        let moved = with(&|t| {
            t[0] += 90.0;
            t[3] += 60.0;
        });
        assert_eq!(g.cell_offset(&moved), Ok((3, -2)));
        assert_eq!(moved.cell_offset(&g), Ok((-3, 2)));
        // Rounding noise.
        let noisy = with(&|t| {
            t[0] += 30.0 * 1e-9;
            t[1] *= 1.0 + 1e-12;
            t[5] *= 1.0 - 1e-12;
        });
        assert_eq!(g.cell_offset(&noisy), Ok((0, 0)));
        // A quarter of a cell across, half a cell down.
        let shifted = with(&|t| {
            t[0] += 7.5;
            t[3] -= 15.0;
        });
        match g.cell_offset(&shifted) {
            Err(Misfit::Shifted(c, r)) => {
                assert!((c - 0.25).abs() < 1e-9 && (r - 0.5).abs() < 1e-9, "{c} {r}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            g.cell_offset(&with(&|t| t[1] = 10.0)),
            Err(Misfit::PixelSize)
        );
        assert_eq!(
            g.cell_offset(&with(&|t| t[5] *= 1.0 + 1e-6)),
            Err(Misfit::PixelSize)
        );
        assert_eq!(
            g.cell_offset(&with(&|t| t[2] = 0.5)),
            Err(Misfit::PixelSize)
        );
        assert_eq!(g.cell_offset(&grid_at(32649, base)), Err(Misfit::Crs));
        // A grid turned by 90° (pixel terms 0, rotation terms ±30) with
        // rounding noise still shares cells.
        let turned = [590_000.0, 0.0, 30.0, 3_900_000.0, 30.0, 0.0];
        let mut noisy = turned;
        noisy[1] = 30.0 * 1e-13;
        noisy[2] *= 1.0 + 1e-13;
        assert_eq!(
            grid_at(4545, turned).cell_offset(&grid_at(4545, noisy)),
            Ok((0, 0))
        );
    }
}
