//! [`ClassCode`]: a class code as a raster stores it (an integer) or as a
//! survey layer writes it (a string such as `0301`, `05H1` or `0101K`).

use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest text code, in bytes (survey codes have 2–6).
pub const MAX_TEXT_CODE: usize = 22;

/// A land-cover or land-use class code.
///
/// Either an integer (every raster code, and any canonical decimal string
/// such as `"1203"` or `"2"`) or a short text (`"0301"`, `"05H1"`,
/// `"0101K"`: leading zeros and letters are kept as written). The form is
/// canonical, so `"1203"` and `1203` are the same code and a code
/// round-trips through JSON (integers as numbers, text as strings; map keys
/// as strings either way, so the `qingshan.*/1` documents of raster codes are
/// unchanged).
///
/// Codes order naturally: by the number their leading digits spell, then
/// by the rest (`2 < 10 < 100`; `0101 < 0101K < 0102 < 0301 < 1203`).
///
/// # Examples
/// ```
/// use qingshan::legend::ClassCode;
/// let arbor = ClassCode::parse("0301").unwrap();
/// assert_eq!(arbor.to_string(), "0301");
/// assert_eq!(ClassCode::parse("1203").unwrap(), ClassCode::from(1203));
/// assert!(ClassCode::parse("0101").unwrap() < ClassCode::parse("0101K").unwrap());
/// assert!(ClassCode::parse("0101K").unwrap() < arbor);
/// assert!(ClassCode::from(2) < ClassCode::from(10));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClassCode(Repr);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Repr {
    Int(i64),
    Text { len: u8, bytes: [u8; MAX_TEXT_CODE] },
}

impl ClassCode {
    /// An integer code.
    pub const fn int(n: i64) -> ClassCode {
        ClassCode(Repr::Int(n))
    }

    /// A code from its text: canonical decimals (`"12"`, `"-1"`) become
    /// integers, anything else is kept as written after trimming spaces.
    /// Empty text and text longer than [`MAX_TEXT_CODE`] bytes are errors
    /// (the message says why).
    pub fn parse(text: &str) -> Result<ClassCode, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("an empty class code".into());
        }
        if let Ok(n) = t.parse::<i64>()
            && n.to_string() == t
        {
            return Ok(ClassCode::int(n));
        }
        if t.len() > MAX_TEXT_CODE {
            return Err(format!(
                "class code {t:?} is longer than {MAX_TEXT_CODE} bytes: is this the code field?"
            ));
        }
        let mut bytes = [0u8; MAX_TEXT_CODE];
        bytes[..t.len()].copy_from_slice(t.as_bytes());
        Ok(ClassCode(Repr::Text {
            len: t.len() as u8,
            bytes,
        }))
    }

    /// The integer, for integer codes.
    pub fn as_int(self) -> Option<i64> {
        match self.0 {
            Repr::Int(n) => Some(n),
            Repr::Text { .. } => None,
        }
    }

    /// The text, for text codes.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Int(_) => None,
            Repr::Text { len, bytes } => {
                // Built from a &str cut at its end: always UTF-8.
                std::str::from_utf8(&bytes[..*len as usize]).ok()
            }
        }
    }

    /// A stable 64-bit hash of the code (for colours).
    pub(crate) fn stable_hash(self) -> u64 {
        match self.as_text() {
            None => self.as_int().unwrap_or(0) as u64,
            Some(t) => t.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            }),
        }
    }

    /// (value of the leading digits, the rest) of a text code.
    fn natural_key(&self) -> (Option<u128>, &str) {
        let t = self.as_text().unwrap_or("");
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        let lead = t[..digits.min(38)].parse::<u128>().ok();
        (lead, &t[digits..])
    }
}

impl Ord for ClassCode {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.0, other.0) {
            (Repr::Int(a), Repr::Int(b)) => a.cmp(&b),
            // Integers before text of the same leading value, negatives first.
            (Repr::Int(a), Repr::Text { .. }) => int_vs_text(a, other),
            (Repr::Text { .. }, Repr::Int(b)) => int_vs_text(b, self).reverse(),
            (Repr::Text { .. }, Repr::Text { .. }) => {
                let (a, b) = (self.natural_key(), other.natural_key());
                // Text without leading digits sorts after every number.
                let lead = |k: Option<u128>| (k.is_none(), k);
                lead(a.0)
                    .cmp(&lead(b.0))
                    .then_with(|| a.1.cmp(b.1))
                    .then_with(|| self.as_text().cmp(&other.as_text()))
            }
        }
    }
}

fn int_vs_text(a: i64, text: &ClassCode) -> Ordering {
    let (lead, _) = text.natural_key();
    match lead {
        None => Ordering::Less,
        Some(_) if a < 0 => Ordering::Less,
        // Equal leading values: the integer (no rest) first.
        Some(l) => (a as u128).cmp(&l).then(Ordering::Less),
    }
}

impl PartialEq<i64> for ClassCode {
    fn eq(&self, other: &i64) -> bool {
        self.as_int() == Some(*other)
    }
}

impl PartialOrd for ClassCode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ClassCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Int(n) => fmt::Display::fmt(&n, f),
            Repr::Text { .. } => f.pad(self.as_text().unwrap_or("")),
        }
    }
}

impl fmt::Debug for ClassCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Int(n) => write!(f, "{n}"),
            Repr::Text { .. } => write!(f, "{:?}", self.as_text().unwrap_or("")),
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for ClassCode {
            fn from(n: $t) -> ClassCode {
                ClassCode::int(n as i64)
            }
        }
    )*};
}
from_int!(i64, i32, u32, u16, u8, i16, i8);

impl From<ClassCode> for serde_json::Value {
    /// A number for an integer code, a string for a text code.
    fn from(c: ClassCode) -> serde_json::Value {
        match c.as_text() {
            None => serde_json::Value::from(c.as_int().unwrap_or(0)),
            Some(t) => serde_json::Value::from(t),
        }
    }
}

impl Serialize for ClassCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Int(n) => s.serialize_i64(n),
            Repr::Text { .. } => s.serialize_str(self.as_text().unwrap_or("")),
        }
    }
}

impl<'de> Deserialize<'de> for ClassCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ClassCode, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ClassCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a class code (an integer or a short string such as \"0301\")")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ClassCode, E> {
                Ok(ClassCode::int(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ClassCode, E> {
                i64::try_from(n)
                    .map(ClassCode::int)
                    .map_err(|_| E::custom(format!("class code {n} is too large")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ClassCode, E> {
                ClassCode::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn c(s: &str) -> ClassCode {
        ClassCode::parse(s).unwrap()
    }

    #[test]
    fn canonical_decimals_are_integers_and_the_rest_stays_as_written() {
        assert_eq!(c("12").as_int(), Some(12));
        assert_eq!(c(" -3 ").as_int(), Some(-3));
        assert_eq!(c("0301").as_text(), Some("0301"));
        assert_eq!(c("+5").as_text(), Some("+5"));
        assert_eq!(c("乔木林地").to_string(), "乔木林地");
        assert!(ClassCode::parse("").is_err());
        assert!(ClassCode::parse(&"9".repeat(30)).is_err());
        assert!(ClassCode::parse(&"x".repeat(23)).is_err());
    }

    #[test]
    fn order_is_natural_and_total() {
        let mut codes: Vec<ClassCode> = [
            "1203", "0101K", "05H1", "0301", "0101", "100", "20", "2", "-1", "乔木", "0102", "1",
        ]
        .iter()
        .map(|s| c(s))
        .collect();
        codes.sort();
        let got: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            got,
            [
                "-1", "1", "2", "05H1", "20", "100", "0101", "0101K", "0102", "0301", "1203",
                "乔木"
            ]
        );
        // Transitivity on every triple of a mixed set.
        for a in &codes {
            for b in &codes {
                for d in &codes {
                    if a < b && b < d {
                        assert!(a < d, "{a} < {b} < {d}");
                    }
                }
                assert_eq!(a.cmp(b) == Ordering::Equal, a == b);
            }
        }
    }

    #[test]
    fn json_round_trips_as_numbers_and_strings() {
        let mut m = BTreeMap::new();
        m.insert(c("2"), 1.5);
        m.insert(c("0301"), 2.5);
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(text, r#"{"2":1.5,"0301":2.5}"#);
        let back: BTreeMap<ClassCode, f64> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(
            serde_json::to_string(&vec![c("2"), c("0301")]).unwrap(),
            r#"[2,"0301"]"#
        );
        let v: Vec<ClassCode> = serde_json::from_str(r#"[7,"1203","0101K"]"#).unwrap();
        assert_eq!(v, vec![c("7"), ClassCode::int(1203), c("0101K")]);
    }
}
