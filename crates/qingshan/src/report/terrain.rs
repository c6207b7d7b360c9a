//! The terrain part of the report: a slope-grade map with the zones and
//! the steep cropland polygons outlined, a table of grades and steep
//! cropland per zone, and the list of cropland polygons on the steepest
//! grade (the county's 退耕还林 list).

use std::fmt::Write as _;

use geo::MultiPolygon;

use super::html::{Page, Unit, esc, png_tag, swatch};
use super::map::{MapImage, Maps, ZONE_RGB};
use crate::audit::{AuditReport, TerrainConfig};
use crate::export::grade_label;
use crate::grid::{Crs, GeoTransform};
use crate::raster::values::ValueRaster;
use crate::slope::slopes_at;
use crate::srs::Reprojector;
use crate::{Error, Result};

/// The colour ramp of the grades, flattest to steepest (green → red);
/// any number of grades is spread along it.
const GRADE_RGB: [[u8; 3]; 5] = [
    [26, 150, 65],
    [166, 217, 106],
    [255, 255, 191],
    [253, 174, 97],
    [215, 25, 28],
];
/// Outline of the steep cropland polygons.
const STEEP_RGB: [u8; 3] = [20, 20, 120];

/// The colour of grade `k` (from 0) of `n`: interpolated along the ramp,
/// so neighbouring grades always differ.
fn grade_rgb(k: usize, n: usize) -> [u8; 3] {
    if n <= 1 {
        return GRADE_RGB[4];
    }
    let t = 4.0 * k as f64 / (n - 1) as f64;
    let (i, f) = ((t.floor() as usize).min(3), t - (t.floor()).min(3.0));
    let mix = |a: u8, b: u8| (a as f64 + f * (b as f64 - a as f64)).round() as u8;
    let (a, b) = (GRADE_RGB[i], GRADE_RGB[i + 1]);
    [mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2])]
}

/// Draws the slope-grade map: the DEM's slopes at the map's pixels (the
/// DEM cell under each pixel's centre), zones and steep cropland polygons
/// outlined, in the land-cover maps' CRS when it is the DEM's, else the
/// DEM's own.
pub(super) fn slope_map(
    audit: &AuditReport,
    t: &TerrainConfig,
    zones_in_map_crs: &[MultiPolygon<f64>],
    map_crs: &Crs,
    map_size: usize,
) -> Result<MapImage> {
    let dem = ValueRaster::open(&t.dem, t.dem_band)?;
    let g = &dem.grid;
    let (x0, y0, x1, y1) = g.bounds();
    let scale = (g.width.max(g.height) as f64 / map_size.max(1) as f64).max(1.0);
    let (width, height) = (
        (g.width as f64 / scale).round().max(1.0) as usize,
        (g.height as f64 / scale).round().max(1.0) as usize,
    );
    let (px, py) = ((x1 - x0) / width as f64, (y1 - y0) / height as f64);
    let xs: Vec<f64> = (0..width).map(|i| x0 + (i as f64 + 0.5) * px).collect();
    let ys: Vec<f64> = (0..height).map(|j| y1 - (j as f64 + 0.5) * py).collect();
    let slopes = slopes_at(&dem, &xs, &ys)?;
    let report = audit
        .slope
        .as_ref()
        .ok_or_else(|| Error::Invalid("the audit has a DEM but no slope result".into()))?;
    let grades =
        crate::slope::Grades::new(report.grades.iter().skip(1).map(|(lo, _)| *lo).collect())?;
    let mut rgba = vec![0u8; width * height * 4];
    for (i, s) in slopes.iter().enumerate() {
        if !s.is_nan() {
            let [r, gg, b] = grade_rgb(grades.of(*s), grades.count());
            rgba[i * 4..i * 4 + 4].copy_from_slice(&[r, gg, b, 255]);
        }
    }
    let mut img = MapImage {
        width,
        height,
        rgba,
        transform: GeoTransform([x0, px, 0.0, y1, 0.0, -py]),
        crs: g.crs.clone(),
    };
    let zones: Vec<MultiPolygon<f64>> = if map_crs.same_as(&g.crs) {
        zones_in_map_crs.to_vec()
    } else {
        let to = Reprojector::new(map_crs, &g.crs)?;
        zones_in_map_crs
            .iter()
            .map(|z| to.multipolygon(z))
            .collect::<Result<_>>()?
    };
    if let (Some(path), Some(polygons)) = (&t.cropland, &report.polygons) {
        let cropland = t.read_cropland(path.as_ref())?;
        let projected = cropland.layer.project(&g.crs, None)?;
        let top = report.grades.len();
        for (geom, p) in projected.iter().zip(polygons) {
            if p.grade == Some(top) {
                img.fill(geom, STEEP_RGB, 0.25);
                img.outline(geom, STEEP_RGB, 1.5);
            }
        }
    }
    for z in &zones {
        img.outline(z, ZONE_RGB, 2.0);
    }
    Ok(img)
}

/// Most steep cropland polygons listed in the report (the JSON has all).
const LISTED: usize = 30;

/// The terrain section: map, grades and steep cropland per zone, steep
/// polygons.
pub(super) fn section(p: &mut Page, audit: &AuditReport, maps: &Maps) {
    let Some(r) = &audit.slope else {
        return;
    };
    let (b, a) = (&audit.inputs.before_label, &audit.inputs.after_label);
    let top = r.grades.last().map(|g| g.0).unwrap_or(25.0);
    p.push(&format!(
        r#"<section><h2>{}</h2>"#,
        p.t(
            "坡度与坡耕地（退耕还林）",
            "Slope and steep cropland (returning cropland to forest)"
        )
    ));
    if let Some(img) = &maps.slope {
        let mut legend = String::new();
        for (k, (lo, hi)) in r.grades.iter().enumerate() {
            let _ = write!(
                legend,
                "<span>{}{} {lo}–{hi}°</span>",
                swatch(grade_rgb(k, r.grades.len())),
                grade_label(k + 1)
            );
        }
        let _ = write!(
            legend,
            "<span>{}{}</span>",
            swatch(STEEP_RGB),
            p.t(
                &format!("坡度>{top}°耕地图斑"),
                &format!("cropland parcels on > {top}°")
            )
        );
        p.push(&format!(
            r#"<figure>{}<figcaption>{}</figcaption><div class="legend">{legend}</div></figure>"#,
            png_tag(img, "slope", "slope grade map"),
            p.t("坡度分级（Horn 算法）", "Slope grades (Horn)")
        ));
    }
    let mut head = format!(
        "<th>{}</th><th>{}</th>",
        p.t("镇", "zone"),
        p.t("平均坡度", "mean slope")
    );
    for (k, (lo, hi)) in r.grades.iter().enumerate() {
        let _ = write!(head, "<th>{} {lo}–{hi}°</th>", grade_label(k + 1));
    }
    let _ = write!(
        p.out,
        r#"<table><thead><tr>{head}<th>{}</th><th>{}</th></tr></thead><tbody>"#,
        p.t(
            &format!("坡度>{top}°耕地 {b}"),
            &format!("cropland > {top}° {b}")
        ),
        p.t(
            &format!("坡度>{top}°耕地 {a}"),
            &format!("cropland > {top}° {a}")
        )
    );
    for (i, z) in r.zones.iter().enumerate() {
        let mut row = format!(
            "<td>{}</td><td>{}</td>",
            esc(z.name.as_deref().unwrap_or(&z.id)),
            p.n(&format!("slope.zones.{i}.mean_slope_deg"), Unit::Deg)
        );
        for k in 0..z.grades.len() {
            let _ = write!(
                row,
                "<td>{}</td>",
                p.n(&format!("slope.zones.{i}.grades.{k}.area_m2"), Unit::Ha)
            );
        }
        let _ = write!(
            p.out,
            "<tr>{row}<td>{}</td><td>{}</td></tr>",
            p.n(
                &format!("slope_before.zones.{i}.steep_cropland_m2"),
                Unit::Mu
            ),
            p.n(&format!("slope.zones.{i}.steep_cropland_m2"), Unit::Mu)
        );
    }
    p.push("</tbody></table>");
    steep_list(p, r);
    p.push("</section>");
}

/// The cropland polygons on the steepest grade, largest area on it first.
fn steep_list(p: &mut Page, r: &crate::slope::SlopeReport) {
    let Some(polygons) = &r.polygons else {
        return;
    };
    let top = r.grades.len();
    let mut steep: Vec<(usize, f64)> = polygons
        .iter()
        .enumerate()
        .filter(|(_, q)| q.grade == Some(top))
        .map(|(i, q)| (i, q.grade_areas_m2.last().copied().unwrap_or(0.0)))
        .collect();
    steep.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: f64 = steep.iter().map(|(i, _)| polygons[*i].area_m2).sum();
    let _ = write!(
        p.out,
        "<p>{} {} / {} · {} {}</p>",
        p.t(
            "坡度最高级的耕地图斑",
            "cropland parcels on the steepest grade"
        ),
        steep.len(),
        polygons.len(),
        p.t("面积合计", "total area"),
        Unit::Mu.show(total, p.lang)
    );
    if steep.is_empty() {
        return;
    }
    let _ = write!(
        p.out,
        r#"<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        p.t("图斑", "parcel"),
        p.t("地类", "class"),
        p.t("面积", "area"),
        p.t(
            &format!("{}级面积", grade_label(top)),
            &format!("area in grade {}", grade_label(top))
        ),
        p.t("平均坡度", "mean slope")
    );
    for (i, _) in steep.iter().take(LISTED) {
        let q = &polygons[*i];
        let _ = write!(
            p.out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&q.id),
            esc(q.class.as_deref().unwrap_or("")),
            p.n(&format!("slope.polygons.{i}.area_m2"), Unit::Mu),
            p.n(
                &format!("slope.polygons.{i}.grade_areas_m2.{}", top - 1),
                Unit::Mu
            ),
            p.n(&format!("slope.polygons.{i}.mean_slope_deg"), Unit::Deg)
        );
    }
    p.push("</tbody></table>");
    if steep.len() > LISTED {
        let _ = write!(
            p.out,
            "<p>{}</p>",
            p.t(
                &format!("仅列出前 {LISTED} 个；全部见 audit.json 的 slope.polygons"),
                &format!("the first {LISTED} only; all are in audit.json, slope.polygons")
            )
        );
    }
}
