//! Pixel types of class rasters: the Rust type of each GDAL band type
//! qingshan reads as class codes, reusable window buffers, and
//! [`with_pixel_type!`], which runs generic code for a band's type.
//!
//! Invariant: a [`ClassPixel`]'s `dense_index` and `from_dense_index` are
//! inverse on the whole type for types with a lookup table (`TABLE > 0`).

use gdal::raster::GdalType;
use serde::{Deserialize, Serialize};

use crate::legend::ClassCode;

/// Integer pixel types accepted as land cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PixelType {
    /// Unsigned 8-bit (most land-cover products).
    U8,
    /// Unsigned 16-bit.
    U16,
    /// Signed 16-bit.
    I16,
    /// Unsigned 32-bit.
    U32,
    /// Signed 32-bit.
    I32,
    /// Signed 64-bit (GDAL ≥ 3.5), and the type 32-bit bands with a mask
    /// are read as.
    I64,
    /// Unsigned 64-bit (GDAL ≥ 3.5); values above `i64::MAX` read as
    /// `i64::MAX`, which no legend lists.
    U64,
}

/// A pixel type usable as class codes.
pub trait ClassPixel: GdalType + Copy + Default + PartialEq + Send + Sync + 'static {
    /// Size of a direct lookup table indexed by [`ClassPixel::dense_index`],
    /// or 0 when the type is too wide for one.
    const TABLE: usize;
    /// The value masked cells are read as (GDAL mask bands): outside the
    /// values of the narrower band type such a tile is widened from.
    const MASKED: Self;
    /// The value as a class code.
    fn code(self) -> ClassCode;
    /// Index into a lookup table of size [`ClassPixel::TABLE`].
    fn dense_index(self) -> usize;
    /// The value at a lookup-table index (inverse of `dense_index`).
    fn from_dense_index(i: usize) -> Self;
    /// The value from a nodata value given as `f64`, when representable.
    fn from_nodata(v: f64) -> Option<Self>;
    /// The value of a class code known to fit (a signed byte widened).
    fn from_code(c: i64) -> Self;
    /// This type's buffer in a set of reusable buffers.
    fn buffer(buffers: &mut Buffers) -> &mut Vec<Self>;
    /// The cells as bytes, for 8-bit types (word-at-a-time scans).
    fn as_bytes(cells: &[Self]) -> Option<&[u8]>;
}

/// Reusable window buffers, one per pixel type (one set per worker, so
/// windows are read without fresh allocations).
#[derive(Debug, Default)]
pub struct Buffers {
    u8: Vec<u8>,
    u16: Vec<u16>,
    i16: Vec<i16>,
    u32: Vec<u32>,
    i32: Vec<i32>,
    i64: Vec<i64>,
    u64: Vec<u64>,
}

macro_rules! class_pixel {
    ($t:ident, $table:expr, $masked:expr, |$v:ident| $index:expr, |$i:ident| $value:expr, |$c:ident| $bytes:expr) => {
        impl ClassPixel for $t {
            const TABLE: usize = $table;
            const MASKED: Self = $masked;
            #[inline]
            fn code(self) -> ClassCode {
                // u64 above i64::MAX saturates (no legend lists it).
                #[allow(clippy::unnecessary_cast)]
                let c = ClassCode::int((self as i128).min(i64::MAX as i128) as i64);
                c
            }
            #[inline]
            fn dense_index(self) -> usize {
                let $v = self;
                $index
            }
            #[inline]
            fn from_dense_index($i: usize) -> Self {
                $value
            }
            fn from_nodata(v: f64) -> Option<Self> {
                let cast = v as $t;
                (v.fract() == 0.0 && cast as f64 == v).then_some(cast)
            }
            #[inline]
            fn from_code(c: i64) -> Self {
                c as $t
            }
            fn buffer(buffers: &mut Buffers) -> &mut Vec<Self> {
                &mut buffers.$t
            }
            #[inline]
            fn as_bytes($c: &[Self]) -> Option<&[u8]> {
                $bytes
            }
        }
    };
}
class_pixel!(u8, 256, u8::MAX, |v| v as usize, |i| i as u8, |c| Some(c));
class_pixel!(u16, 65536, u16::MAX, |v| v as usize, |i| i as u16, |_c| {
    None
});
class_pixel!(
    i16,
    65536,
    i16::MIN,
    |v| (v as i32 + 32768) as usize,
    |i| (i as i32 - 32768) as i16,
    |_c| None
);
class_pixel!(u32, 0, u32::MAX, |v| v as usize, |i| i as u32, |_c| None);
class_pixel!(i32, 0, i32::MIN, |v| v as usize, |i| i as i32, |_c| None);
class_pixel!(i64, 0, i64::MIN, |v| v as usize, |i| i as i64, |_c| None);
class_pixel!(u64, 0, u64::MAX, |v| v as usize, |i| i as u64, |_c| None);

impl PixelType {
    /// The type a band of this type is read as when it has a mask band:
    /// one wide enough that [`ClassPixel::MASKED`] is no value of the
    /// band (8 → 16, 16 → 32, 32 → 64 bits; 64-bit bands keep their type
    /// and give up their most extreme value).
    pub fn widened(self) -> PixelType {
        match self {
            PixelType::U8 => PixelType::U16,
            PixelType::U16 => PixelType::U32,
            PixelType::I16 => PixelType::I32,
            PixelType::U32 | PixelType::I32 | PixelType::I64 => PixelType::I64,
            PixelType::U64 => PixelType::U64,
        }
    }
}

/// Runs `$body` with `$T` bound to the Rust type of a [`PixelType`].
macro_rules! with_pixel_type {
    ($pt:expr, $T:ident => $body:expr) => {
        match $pt {
            $crate::raster::PixelType::U8 => {
                type $T = u8;
                $body
            }
            $crate::raster::PixelType::U16 => {
                type $T = u16;
                $body
            }
            $crate::raster::PixelType::I16 => {
                type $T = i16;
                $body
            }
            $crate::raster::PixelType::U32 => {
                type $T = u32;
                $body
            }
            $crate::raster::PixelType::I32 => {
                type $T = i32;
                $body
            }
            $crate::raster::PixelType::I64 => {
                type $T = i64;
                $body
            }
            $crate::raster::PixelType::U64 => {
                type $T = u64;
                $body
            }
        }
    };
}
pub(crate) use with_pixel_type;
