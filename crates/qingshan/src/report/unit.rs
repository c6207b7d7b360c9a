//! How the report shows a number: the unit it is tagged with (`data-u`)
//! and its text (percent, mu, ha, m², degrees, index values).

use super::html::Lang;
use crate::area::M2_PER_MU;

/// Units a number is shown in (`data-u`).
#[derive(Clone, Copy)]
pub(super) enum Unit {
    /// A fraction shown as a percentage.
    Pct,
    /// m² shown as mu.
    Mu,
    /// m² shown as hectares.
    Ha,
    /// m² shown as m².
    M2,
    /// A value already in mu.
    MuRaw,
    /// Degrees.
    Deg,
    /// A change of an index (NDVI), signed.
    Index,
    /// A value of an index, four decimals.
    Plain,
}

impl Unit {
    pub(super) fn code(self) -> &'static str {
        match self {
            Unit::Pct => "pct",
            Unit::Mu => "mu",
            Unit::Ha => "ha",
            Unit::M2 => "m2",
            Unit::MuRaw => "mu-raw",
            Unit::Deg => "deg",
            Unit::Index => "index",
            Unit::Plain => "plain",
        }
    }

    pub(super) fn show(self, v: f64, lang: Lang) -> String {
        let mu = match lang {
            Lang::Zh => "亩",
            Lang::En => "mu",
        };
        match self {
            Unit::Pct => format!("{:.2} %", 100.0 * v),
            Unit::Mu => format!("{} {mu}", group(v / M2_PER_MU, 0)),
            Unit::Ha => format!("{} ha", group(v / 10_000.0, 1)),
            Unit::M2 => format!("{} m²", group(v, 0)),
            Unit::MuRaw => format!("{} {mu}", group(v, 0)),
            Unit::Deg => format!("{v:.1}°"),
            Unit::Index => format!("{v:+.4}"),
            Unit::Plain => format!("{v:.4}"),
        }
    }
}

/// A number with thousands separators and `decimals` decimals.
fn group(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), format!(".{f}")),
        None => (s.clone(), String::new()),
    };
    let mut out = String::new();
    for (k, ch) in int.chars().enumerate() {
        if k > 0 && (int.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    let neg = v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    format!("{}{out}{frac}", if neg { "−" } else { "" })
}
