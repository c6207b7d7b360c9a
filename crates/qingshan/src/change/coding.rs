//! Transition coding: one number per (before, after) pair of classes, for
//! rasters that map each cell's transition, and the windows of such codes
//! a pass hands to the writer.
//!
//! Invariant: distinct pairs of codes in `0..factor` get distinct codes
//! below `other`; anything else is `other`, never another pair's code.

use serde::Serialize;

use crate::legend::{ClassCode, Legend};
use crate::raster::PixelType;

/// Metadata items (key, value) of a raster.
pub(crate) type Metadata = Vec<(String, String)>;
/// Colour table entries (code, RGB) of a raster.
pub(crate) type Colors = Vec<(i64, [u8; 3])>;

/// The coding of a transition raster: `from × factor + to`, with `nodata`
/// where either date is nodata and `other` for codes too large to encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TransitionCoding {
    /// Power of ten above every legend code.
    pub factor: i64,
    /// Value for "nodata in either date".
    pub nodata: u64,
    /// Value for transitions involving codes ≥ `factor` or < 0.
    pub other: u64,
}

impl TransitionCoding {
    /// The coding for a legend: the factor is the smallest power of ten
    /// above its largest code (10 for CLCD: 27 = forest → barren).
    pub fn for_legend(legend: &Legend) -> TransitionCoding {
        let max = legend
            .classes
            .keys()
            .filter_map(|c| c.as_int())
            .max()
            .unwrap_or(9)
            .max(1);
        let mut factor = 10i64;
        while factor <= max {
            factor *= 10;
        }
        let top = (factor * factor - 1) as u64;
        let (nodata, other) = if top < 254 {
            (255, 254)
        } else if top < 65_534 {
            (65_535, 65_534)
        } else {
            (u32::MAX as u64, u32::MAX as u64 - 1)
        };
        TransitionCoding {
            factor,
            nodata,
            other,
        }
    }

    /// The cell type of a raster with this coding: the narrowest whose
    /// largest value is `nodata` (u8, u16 or u32).
    pub fn cell_type(&self) -> PixelType {
        match self.nodata {
            255 => PixelType::U8,
            65_535 => PixelType::U16,
            _ => PixelType::U32,
        }
    }

    /// The code of one transition; `other` when a code is negative or not
    /// below `factor`, or when `from × factor + to` does not fit below
    /// `other` (legends with 5-digit codes in a 32-bit raster).
    pub fn code(&self, from: ClassCode, to: ClassCode) -> u64 {
        if let (Some(from), Some(to)) = (from.as_int(), to.as_int())
            && (0..self.factor).contains(&from)
            && (0..self.factor).contains(&to)
        {
            let code = (from * self.factor + to) as u64;
            if code < self.other {
                return code;
            }
        }
        self.other
    }

    /// What a raster with this coding records about itself: metadata
    /// items (the coding, the legend, `TRANSITION_<code>` = "from -> to"
    /// for every pair of legend classes that fits) and the colour of each
    /// code (unchanged pairs grey, changes in the colour of the class
    /// after, `other` black).
    pub(crate) fn raster_legend(&self, legend: &Legend) -> (Metadata, Colors) {
        let mut metadata = vec![
            (
                "QINGSHAN_SCHEMA".to_string(),
                "qingshan.change-raster/1".to_string(),
            ),
            (
                "TRANSITION_CODING".to_string(),
                format!("from * {} + to", self.factor),
            ),
            ("TRANSITION_FACTOR".to_string(), self.factor.to_string()),
            ("TRANSITION_NODATA".to_string(), self.nodata.to_string()),
            ("TRANSITION_OTHER".to_string(), self.other.to_string()),
            ("LEGEND".to_string(), legend.name.clone()),
        ];
        let mut colors = Vec::new();
        for (from, cf) in &legend.classes {
            for (to, ct) in &legend.classes {
                let code = self.code(*from, *to);
                if code == self.other {
                    continue;
                }
                metadata.push((
                    format!("TRANSITION_{code}"),
                    format!("{} -> {}", cf.name, ct.name),
                ));
                colors.push((
                    code as i64,
                    if from == to {
                        [215, 215, 215]
                    } else {
                        ct.color
                    },
                ));
            }
        }
        colors.push((self.other as i64, [0, 0, 0]));
        (metadata, colors)
    }

    /// The band description of a raster with this coding.
    pub(crate) fn description(&self) -> String {
        format!("land-cover transition (from * {} + to)", self.factor)
    }
}

/// A window of cell codes, in the output raster's own cell type (so a
/// window waiting to be written holds 1 byte per cell for CLCD, not 8).
pub(crate) enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Codes {
    /// No codes yet, room for `cells`, in `cell_type` (u8, u16, else u32).
    pub(crate) fn with_capacity(cell_type: PixelType, cells: usize) -> Codes {
        match cell_type {
            PixelType::U8 => Codes::U8(Vec::with_capacity(cells)),
            PixelType::U16 => Codes::U16(Vec::with_capacity(cells)),
            _ => Codes::U32(Vec::with_capacity(cells)),
        }
    }

    /// Appends `n` cells of `code`.
    pub(crate) fn push_n(&mut self, code: u64, n: usize) {
        match self {
            Codes::U8(v) => v.resize(v.len() + n, code as u8),
            Codes::U16(v) => v.resize(v.len() + n, code as u16),
            Codes::U32(v) => v.resize(v.len() + n, code as u32),
        }
    }

    /// Sets cell `i` to `code`.
    pub(crate) fn set(&mut self, i: usize, code: u64) {
        match self {
            Codes::U8(v) => v[i] = code as u8,
            Codes::U16(v) => v[i] = code as u16,
            Codes::U32(v) => v[i] = code as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes that do not fit the raster's cell type become `other`, never
    /// another transition's code; the raster's legend lists only codes
    /// that fit.
    #[test]
    fn transition_codes_too_large_for_the_raster_are_other() {
        let legend = Legend::from_toml(
            r#"
name = "wide"
[[class]]
code = 1
name = "Forest"
kind = "forest"
[[class]]
code = 54321
name = "Five digits"
kind = "cropland"
"#,
            "test",
        )
        .unwrap();
        let coding = TransitionCoding::for_legend(&legend);
        assert_eq!(coding.factor, 100_000);
        assert_eq!(coding.code(ClassCode::int(1), ClassCode::int(1)), 100_001);
        assert_eq!(
            coding.code(ClassCode::int(1), ClassCode::int(54321)),
            154_321
        );
        // 54321 × 100000 + 1 = 5,432,100,001 does not fit below u32::MAX − 1.
        assert_eq!(
            coding.code(ClassCode::int(54321), ClassCode::int(1)),
            coding.other
        );
        assert_eq!(
            coding.code(ClassCode::int(54321), ClassCode::int(54321)),
            coding.other
        );
        assert_eq!(
            coding.code(ClassCode::int(-1), ClassCode::int(1)),
            coding.other
        );
        let (metadata, colors) = coding.raster_legend(&legend);
        let listed: Vec<&str> = metadata
            .iter()
            .filter(|(k, _)| k.starts_with("TRANSITION_") && k[11..].parse::<u64>().is_ok())
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(listed, ["TRANSITION_100001", "TRANSITION_154321"]);
        assert_eq!(colors.last(), Some(&(coding.other as i64, [0, 0, 0])));
    }
}
