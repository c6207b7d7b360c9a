//! The README's section on the land-survey layers (written from what the
//! generator measured, so it never drifts from the files).

use std::fmt::Write as _;

use crate::landuse_files::{DLTB_FIELDS, LanduseSummary};
use crate::landuse_io::{MAX_VERTICES, RIDGE_TABLE};
use crate::vector_io::FieldKind;

/// What each DLTB field means (in [`DLTB_FIELDS`] order).
const FIELD_DOCS: [&str; 11] = [
    "标识码, unique in the file: `610203` + 7 digits; a 2024 polygon with the same cells and class as a 2019 one keeps its BSM, the others are numbered after the 2019 ones",
    "图斑编号: 1, 2, … within each `ZLDWDM` (kept with the BSM)",
    "地类编码, the 三调 code (e.g. `0103`, `0301K`)",
    "地类名称 (Chinese)",
    "坐落单位代码: the code of the town containing the polygon's centroid (`610203101` 金锁关镇, `610203102` 阿庄镇), empty outside both (a real layer has 19-digit village codes)",
    "图斑面积 (m²): the ellipsoidal area on CGCS2000 (GRS80), vertices inverse-projected with GDAL/PROJ to EPSG:4490 (lon/lat order), Karney's geodesic polygon area (geographiclib), rounded to 0.01 m²",
    "扣除地类编码: `1203` (田坎, field ridges) for cropland (01xx), else empty",
    "扣除地类系数: from the synthetic table below for cropland, 0 otherwise",
    "扣除地类面积 (m²) = round(TBMJ × KCXS, 2)",
    "图斑地类面积 (m²) = TBMJ − KCMJ",
    "**synthetic field name**: 1 = 国家特别规定灌木林地 (shrubland that counts as forest), on some 0305 polygons only; chosen by noise, not by the legal criteria",
];

fn field_type(k: FieldKind) -> String {
    match k {
        FieldKind::Str { width } => format!("String({width})"),
        FieldKind::Real { width, precision } => format!("Real (DBF N{width}.{precision})"),
        FieldKind::Int { width } => format!("Integer (DBF N{width})"),
    }
}

/// The section, from `## Land-use survey layers` to its end.
pub(crate) fn landuse_section(l: &LanduseSummary) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "\n## Land-use survey layers (三调 DLTB), `landuse/`\n\n\
Synthetic layers shaped like the third national land survey's 地类图斑 layer\n\
(DLTB) of both towns, in a 2019 and a 2024 survey version, classified after\n\
《第三次全国国土调查工作分类》. They are drawn from this directory's land cover,\n\
not from any real survey.\n\n\
Each file's polygons partition the rectangle x ∈ [{:.2}, {:.2}],\n\
y ∈ [{:.2}, {:.2}] (EPSG:4545; the towns' bounding box) exactly: no gaps, no\n\
overlaps, and every boundary two polygons share has the same coordinates in\n\
both, in reverse order. The corners outside both towns are covered too\n\
(`ZLDWDM` empty).\n\n\
How: a lattice of {} × {} cells of {:.1} × {:.1} m, its vertices jittered by up\n\
to ±15 % of a cell (those on the rectangle's sides only along the side). Each\n\
interior lattice edge is one polyline with 3–4 intermediate points (smooth\n\
noise), kept inside the diamond between its end points and the centres of\n\
the two cells beside it, so edges never cross. Each cell takes a class from\n\
25 samples (5 × 5) of the year's land cover without its cloud gaps: a river\n\
or road crossing the cell (≥ 5 samples that are not its majority) makes it\n\
河流水面 / 公路用地, so those stay connected; otherwise its majority, refined\n\
into a 三调 code as in the table below. Polygons are the 4-connected cells of\n\
one class (`TGGMBZ` included); a polygon over {MAX_VERTICES} coordinates is cut along\n\
lattice lines into 16 × 16-cell blocks (then 8 × 8, …): {} cell sets in\n\
2019, {} in 2024. Where two cells of a\n\
polygon touch only at a corner, the pocket they close off is a hole touching\n\
the exterior at that point (valid OGC). Exterior rings counter-clockwise,\n\
holes clockwise, coordinates rounded to 0.01 m; features ordered by their\n\
first cell, row by row from the south-west corner.\n\n",
        l.rect[0],
        l.rect[1],
        l.rect[2],
        l.rect[3],
        l.cells[0],
        l.cells[1],
        l.cell_size[0],
        l.cell_size[1],
        l.cut[0],
        l.cut[1],
    );
    s.push_str(
        "| file | layer | polygons | coordinates | most in one polygon |\n|---|---|---|---|---|\n",
    );
    for (k, f) in ["dltb_2019.gpkg", "dltb_2024.gpkg"].iter().enumerate() {
        let _ = writeln!(
            s,
            "| `landuse/{f}` | `DLTB` | {} | {} | {} |",
            l.polygons[k], l.vertices[k], l.max_vertices[k]
        );
    }
    let _ = write!(
        s,
        "| `landuse/dltb_2019_gbk.shp` | `dltb_2019_gbk` | {} | as 2019 | as 2019 |\n\
| `landuse/dltb_2019_dirty.gpkg` | `DLTB` | {} | see below | |\n\n\
2019 → 2024: {} of the 2024 polygons have the same cells and class as a 2019\n\
polygon — the same geometry, BSM and TBBH —, {} are new (BSM after the 2019\n\
ones), {} 2019 polygons are gone. The changes follow the land cover's\n\
deliberate ones (mine A's growth, Azhuang's seat, restoration of mine B,\n\
returning farmland to forest, scattered succession).\n\n",
        l.polygons[0],
        l.polygons[0] - 1,
        l.kept,
        l.polygons[1] - l.kept,
        l.polygons[0] - l.kept
    );
    fields(&mut s);
    classes(&mut s, l);
    defects(&mut s, l);
    s
}

fn fields(s: &mut String) {
    s.push_str("Fields (names ≤ 10 bytes, so the Shapefile keeps them; units m²):\n\n| field | type | meaning |\n|---|---|---|\n");
    for (f, doc) in DLTB_FIELDS.iter().zip(FIELD_DOCS) {
        let _ = writeln!(s, "| `{}` | {} | {doc} |", f.name, field_type(f.kind));
    }
    s.push_str(
        "\nThe Shapefile's DBF is GBK-encoded (`ENCODING=GBK`; the `.cpg` says\n\
`GBK`); its empty strings read back as null (a DBF cannot tell them apart).\n\n\
Ridge deduction coefficients (**synthetic**, not an official table), by the\n\
slope grade of the DEM (`dem/`, Horn's method on the 25 m cell under the\n\
polygon's centroid; the landscape's own gradient in the void):\n\n\
| slope grade | KCXS |\n|---|---|\n",
    );
    for (_, grade, k) in RIDGE_TABLE {
        let _ = writeln!(s, "| {grade} | {k:.3} |");
    }
    s.push('\n');
}

fn classes(s: &mut String, l: &LanduseSummary) {
    s.push_str(
        "Classes (areas are the sums of the true TBMJ):\n\n\
| DLBM | DLMC | TGGMBZ | where | polygons 2019 | polygons 2024 | 2019 (ha) | 2024 (ha) |\n\
|---|---|---|---|---|---|---|---|\n",
    );
    for c in &l.classes {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} |",
            c.dlbm,
            c.dlmc,
            u8::from(c.tggm),
            c.from,
            c.polygons[0],
            c.polygons[1],
            c.area_m2[0] / 1e4,
            c.area_m2[1] / 1e4
        );
    }
    s.push('\n');
}

fn defects(s: &mut String, l: &LanduseSummary) {
    s.push_str(
        "Deliberate defects (for data-quality checks to find):\n\n\
- Five 2019 TBMJ values, of cropland polygons, are 0.5 % too large (KCMJ and\n  \
TBDLMJ follow them, so TBDLMJ = TBMJ − KCMJ still holds; the 2024 layer has\n  \
the true areas). They are in `dltb_2019.gpkg`, the Shapefile and the\n  \
dirty layer:\n\n\
| BSM | DLBM | true area (m²) | TBMJ written (m²) |\n|---|---|---|---|\n",
    );
    for p in &l.perturbed {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {:.2} |",
            p.bsm, p.dlbm, p.true_m2, p.recorded_m2
        );
    }
    let _ = write!(
        s,
        "\n- `dltb_2019_dirty.gpkg` is the 2019 layer with two topology errors:\n  \
  - a **gap** in {}: polygon BSM {} removed, {:.2} m² (ellipsoidal) left\n    \
uncovered;\n  \
  - an **overlap** in {}: polygon BSM {} grown by one lattice cell over its\n    \
neighbour BSM {}, which is unchanged: {:.2} m² (ellipsoidal) covered twice.\n    \
The grown polygon's TBMJ, KCMJ and TBDLMJ are recomputed for its new\n    \
shape.\n\n\
TBMJ and the areas above come from PROJ and geographiclib: another PROJ\n\
version may change the last digit of a few.\n",
        l.gap.town,
        l.gap.bsm,
        l.gap.area_m2,
        l.overlap.town,
        l.overlap.bsm,
        l.overlap.neighbour.as_deref().unwrap_or(""),
        l.overlap.area_m2
    );
}
