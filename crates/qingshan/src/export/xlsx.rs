//! Excel workbooks: a result's tables as sheets with Chinese headers, for
//! the people who receive the numbers in a spreadsheet (县、乡镇的统计报表).
//!
//! A [`Sheet`] is plain data — a name, a header row, rows of [`Cell`]s —
//! and [`xlsx_bytes`] turns sheets into an `.xlsx` file: headers bold,
//! the header row frozen, columns wide enough for their text (CJK
//! characters count twice), numbers stored as numbers with every digit
//! (Excel shows them rounded; a formula sees the exact value).
//!
//! Invariant: the same sheets give the same bytes on every run — the
//! document's creation date is fixed (2000-01-01) and the zip entries carry
//! the zip format's fixed epoch (1980-01-01), so an output can be compared
//! or fingerprinted like the JSON and CSV ones.
//!
//! # Examples
//! ```
//! use qingshan::export::xlsx::{Cell, Sheet, xlsx_bytes};
//!
//! let sheet = Sheet {
//!     name: "分类面积".into(),
//!     headers: vec!["区域名称".into(), "面积（平方米）".into()],
//!     rows: vec![vec![Cell::Text("金锁关镇".into()), Cell::Number(1234.5)]],
//! };
//! let bytes = xlsx_bytes(&[sheet])?;
//! assert!(bytes.starts_with(b"PK\x03\x04"));
//! # Ok::<(), qingshan::Error>(())
//! ```

use std::io::{self, Write};

use rust_xlsxwriter::{ColNum, DocProperties, ExcelDateTime, Format, RowNum, Workbook, XlsxError};

use super::display_width;
use crate::legend::{ClassCode, Legend};
use crate::{Error, Result};

/// One cell of a sheet's body.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text (names, ids, class codes).
    Text(String),
    /// A number, stored as a number (areas, shares, degrees).
    Number(f64),
    /// Nothing (a value that does not exist, such as the forest cover of
    /// a zone without valid area).
    Empty,
}

impl Cell {
    /// A text cell, or an empty one for `None`.
    pub fn text_or_empty(s: Option<&str>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.to_string()))
    }

    /// A number cell, or an empty one for `None`.
    pub fn number_or_empty(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }

    /// How wide the cell shows, in character columns (Excel's "General"
    /// format shows at most 11 characters of a number).
    fn width(&self) -> usize {
        match self {
            Cell::Text(s) => display_width(s),
            Cell::Number(v) => format!("{v}").len().min(11),
            Cell::Empty => 0,
        }
    }
}

/// One worksheet: a name (at most 31 characters, none of `[]:*?/\`), the
/// header row and the rows under it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    /// The sheet's tab name.
    pub name: String,
    /// Column titles (written bold, frozen above the rows).
    pub headers: Vec<String>,
    /// The rows, each at most as long as `headers`.
    pub rows: Vec<Vec<Cell>>,
}

/// Column widths: the widest cell plus a margin, between 8 and 60
/// characters.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

/// The date every workbook says it was created and last modified (a real
/// date would make each run's bytes differ).
const CREATED: (u16, u8, u8) = (2000, 1, 1);

/// Builds an `.xlsx` file of `sheets`, in order; the same sheets always
/// give the same bytes.
///
/// Errors (as [`Error::Xlsx`]) when Excel cannot hold what is asked: a
/// sheet name that is empty, too long, repeated or has a forbidden
/// character, more than 1 048 575 rows or 16 384 columns, a text over
/// 32 767 characters.
pub fn xlsx_bytes(sheets: &[Sheet]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let (y, m, d) = CREATED;
    let created =
        ExcelDateTime::from_ymd(y, m, d).map_err(|e| xlsx_error("the creation date", e))?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let at = |e| xlsx_error(&format!("sheet {:?}", sheet.name), e);
        let ws = book.add_worksheet();
        ws.set_name(&sheet.name).map_err(at)?;
        let mut widths: Vec<usize> = sheet.headers.iter().map(|h| display_width(h)).collect();
        for (c, h) in sheet.headers.iter().enumerate() {
            ws.write_string_with_format(0, col(c).map_err(at)?, h, &bold)
                .map_err(at)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = RowNum::try_from(r + 1).map_err(|_| at(XlsxError::RowColumnLimitError))?;
            for (c, cell) in row.iter().enumerate() {
                if widths.len() <= c {
                    widths.resize(c + 1, 0);
                }
                widths[c] = widths[c].max(cell.width());
                let c = col(c).map_err(at)?;
                match cell {
                    Cell::Text(s) => ws.write_string(r, c, s).map_err(at)?,
                    Cell::Number(v) => ws.write_number(r, c, *v).map_err(at)?,
                    Cell::Empty => ws,
                };
            }
        }
        for (c, w) in widths.iter().enumerate() {
            let w = (w + 2).clamp(MIN_WIDTH, MAX_WIDTH);
            ws.set_column_width(col(c).map_err(at)?, w as f64)
                .map_err(at)?;
        }
        ws.set_freeze_panes(1, 0).map_err(at)?;
    }
    book.save_to_buffer()
        .map_err(|e| xlsx_error("the workbook", e))
}

/// Writes `sheets` as an `.xlsx` file to `w` (what an [`super::Export`]
/// implementation's `xlsx` does with its sheets).
pub fn write_xlsx(sheets: &[Sheet], w: &mut dyn Write) -> io::Result<()> {
    let bytes = xlsx_bytes(sheets).map_err(io::Error::other)?;
    w.write_all(&bytes)
}

/// A column number as the writer takes it.
fn col(c: usize) -> std::result::Result<ColNum, XlsxError> {
    ColNum::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)
}

fn xlsx_error(what: &str, e: XlsxError) -> Error {
    Error::Xlsx {
        reason: format!("{what}: {e}"),
    }
}

/// Header titles as the owned strings a [`Sheet`] holds.
pub(crate) fn headers(titles: &[&str]) -> Vec<String> {
    titles.iter().map(|t| t.to_string()).collect()
}

/// The id and name cells that start a zone's row (区域编号, 区域名称).
pub(crate) fn zone_cells(id: &str, name: Option<&str>) -> [Cell; 2] {
    [Cell::Text(id.to_string()), Cell::text_or_empty(name)]
}

/// The Chinese name of a class (`name_zh`), its English name when the
/// legend gives no Chinese one, or `类别 N` for a code the legend does not
/// list.
pub fn class_name_zh(legend: &Legend, code: ClassCode) -> String {
    match legend.class(code) {
        Some(c) if !c.name_zh.is_empty() => c.name_zh.clone(),
        Some(c) => c.name.clone(),
        None => format!("类别 {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Sheet> {
        vec![
            Sheet {
                name: "分类面积".into(),
                headers: vec!["区域编号".into(), "面积（平方米）".into(), "备注".into()],
                rows: vec![
                    vec![
                        Cell::Text("jinsuoguan".into()),
                        Cell::Number(108_375_776.567_123_4),
                        Cell::Empty,
                    ],
                    vec![Cell::Text("金锁关镇".into()), Cell::Number(0.1 + 0.2)],
                ],
            },
            Sheet {
                name: "森林覆盖率".into(),
                headers: vec!["森林覆盖率（%）".into()],
                rows: vec![vec![Cell::Number(54.75)]],
            },
        ]
    }

    #[test]
    fn the_same_sheets_give_the_same_bytes() {
        let a = xlsx_bytes(&sample()).unwrap();
        // A clock in the file would show: its resolution is a second.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = xlsx_bytes(&sample()).unwrap();
        assert!(a.starts_with(b"PK\x03\x04"), "not a zip file");
        assert_eq!(a, b);
        // Different content gives different bytes (the test is not
        // comparing two constants).
        let mut other = sample();
        other[0].rows[0][1] = Cell::Number(1.0);
        assert_ne!(xlsx_bytes(&other).unwrap(), a);
    }

    #[test]
    fn names_excel_refuses_are_errors_that_name_the_sheet() {
        let mut bad = sample();
        bad[1].name = "a/b".into();
        let e = xlsx_bytes(&bad).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Xlsx { .. }), "{msg}");
        assert!(msg.contains("sheet \"a/b\""), "{msg}");
        bad[1].name = bad[0].name.clone();
        assert!(xlsx_bytes(&bad).is_err());
    }

    #[test]
    fn cjk_text_counts_double_in_column_widths() {
        assert_eq!(Cell::Text("金锁关镇".into()).width(), 8);
        assert_eq!(Cell::Text("abcd".into()).width(), 4);
        assert_eq!(Cell::Number(108_375_776.567_123_4).width(), 11);
        assert_eq!(Cell::Empty.width(), 0);
    }
}
