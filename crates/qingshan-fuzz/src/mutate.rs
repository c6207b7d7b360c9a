//! Byte-level mutations of seed documents: the classic fuzzer moves
//! (flips, inserts, deletions, duplications, splices, truncation) plus
//! tokens that break parsers of JSON and TOML in interesting ways.

use crate::rng::Rng;

/// Tokens inserted whole: numbers at the edges of f64 and of integer
/// types, JSON/TOML structure, text encodings (GBK, invalid UTF-8, NUL).
const TOKENS: &[&[u8]] = &[
    b"NaN",
    b"nan",
    b"inf",
    b"-inf",
    b"1e308",
    b"-1e308",
    b"1e-320",
    b"0",
    b"-0",
    b"-1",
    b"4294967296",
    b"18446744073709551616",
    b"9223372036854775807",
    b"1.5",
    b"1e10",
    b"null",
    b"true",
    b"[]",
    b"{}",
    b"[[]]",
    b"\"\"",
    b",",
    b":",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xb9\xe3",
    b"=",
    b"\n",
    b"[[class]]",
    b"code = ",
    b"forest = true",
    b"extends = \"clcd\"",
    b"\"type\":\"Polygon\"",
    b"\"type\":\"MultiPolygon\"",
    b"\"type\":\"GeometryCollection\"",
    b"\"coordinates\":",
    b"[0,0]",
    b"[1e300,1e300]",
    b"[0,0,0]",
    b"[[0,0],[1,1],[1,0],[0,1],[0,0]]",
    b"\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4545\"}}",
    b"EPSG::3857",
    b"EPSG::4490",
    b"EPSG::999999",
];

/// A mutated copy of `seed`; `other` is a second seed to splice from.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    let moves = 1 + rng.below(8);
    for _ in 0..moves {
        let at = if v.is_empty() {
            0
        } else {
            rng.below(v.len() + 1)
        };
        match rng.below(9) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, rng.next_u64() as u8),
            2 if !v.is_empty() => {
                let n = 1 + rng.below(16.min(v.len()));
                let start = at.min(v.len() - n);
                v.drain(start..start + n);
            }
            3 if !v.is_empty() => {
                let n = 1 + rng.below(64.min(v.len()));
                let start = at.min(v.len() - n);
                let piece = v[start..start + n].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, piece);
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let n = 1 + rng.below((other.len() - from).min(128));
                v.splice(at..at, other[from..from + n].iter().copied());
            }
            5 => v.truncate(at),
            6 => {
                // Replace a run of digits by a token (numbers are where the
                // documents are most fragile).
                if let Some(i) = (at..v.len()).find(|&i| v[i].is_ascii_digit()) {
                    let j = (i..v.len())
                        .find(|&j| !v[j].is_ascii_digit() && v[j] != b'.')
                        .unwrap_or(v.len());
                    v.splice(i..j, rng.pick(TOKENS).iter().copied());
                }
            }
            _ => v
                .splice(at..at, rng.pick(TOKENS).iter().copied())
                .for_each(drop),
        }
    }
    v
}
