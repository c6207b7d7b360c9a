//! `qingshan.slope/1` results: slope grades per zone, land cover by grade,
//! and the list of cropland polygons on the steepest grade.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use serde_json::{Map, Value};

use super::xlsx::{Cell, Sheet, class_name_zh, headers, write_xlsx, zone_cells};
use super::{
    Export, csv_field, num, write_feature_collection, write_json, write_table, zones_geojson,
};
use crate::area::{M2_PER_HA, M2_PER_KM2, M2_PER_MU};
use crate::legend::Legend;
use crate::slope::{Cropland, PolygonSlope, SlopeReport};
use crate::zones::ZoneLayer;
use crate::zones::write::{FieldKind, VectorFormat, write_polygons};
use crate::{Error, Result};

/// Roman numerals of the grades (I … X; beyond, the number).
pub fn grade_label(grade: usize) -> String {
    const R: [&str; 10] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"];
    R.get(grade.wrapping_sub(1))
        .map(|s| s.to_string())
        .unwrap_or_else(|| grade.to_string())
}

/// A slope result with what its formats need.
#[derive(Clone, Copy, Debug)]
pub struct Slope<'a> {
    /// The result.
    pub report: &'a SlopeReport,
    /// The land cover's legend (class names in CSV), when given.
    pub legend: Option<&'a Legend>,
    /// The zones measured (geometries for GeoJSON), when at hand.
    pub zones: Option<&'a ZoneLayer>,
}

impl Export for Slope<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(self.report, w)
    }

    /// Long form: one row per zone × grade (`class` empty: all land, on
    /// the DEM's grid), then per zone × class × grade (land cover given),
    /// with m², ha and mu.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        let r = self.report;
        writeln!(
            w,
            "zone_id,zone_name,class,class_name,grade,min_deg,max_deg,area_m2,area_ha,area_mu,share_of_valid"
        )?;
        let row = |w: &mut dyn Write,
                   z: &crate::slope::ZoneSlope,
                   class: &str,
                   name: &str,
                   k: usize,
                   a: f64,
                   share: bool| {
            let (lo, hi) = r.grades[k];
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&z.id),
                csv_field(z.name.as_deref().unwrap_or("")),
                class,
                csv_field(name),
                grade_label(k + 1),
                num(lo),
                num(hi),
                num(a),
                num(a / M2_PER_HA),
                num(a / M2_PER_MU),
                if share && z.valid_area_m2 > 0.0 {
                    num(a / z.valid_area_m2)
                } else {
                    String::new()
                }
            )
        };
        for z in &r.zones {
            for (k, g) in z.grades.iter().enumerate() {
                row(w, z, "", "", k, g.area_m2, true)?;
            }
        }
        for z in &r.zones {
            for (code, areas) in z.by_class.iter().flatten() {
                let name = self.legend.map(|l| l.name_of(*code)).unwrap_or_default();
                for (k, a) in areas.iter().enumerate() {
                    row(w, z, &code.to_string(), &name, k, *a, false)?;
                }
            }
        }
        Ok(())
    }

    /// The zones (in their own CRS) with grade areas (`grade_<n>_m2`),
    /// mean slope and steep cropland as properties.
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        zones_geojson(self.zones, w, |k, p| {
            let z = &self.report.zones[k];
            p.insert("valid_area_m2".into(), Value::from(z.valid_area_m2));
            p.insert("nodata_area_m2".into(), Value::from(z.nodata_area_m2));
            p.insert("mean_slope_deg".into(), opt(z.mean_slope_deg));
            for g in &z.grades {
                p.insert(format!("grade_{}_m2", g.grade), Value::from(g.area_m2));
            }
            p.insert("steep_cropland_m2".into(), opt(z.steep_cropland_m2));
            p.insert(
                "steep_cropland_mu".into(),
                opt(z.steep_cropland_m2.map(|a| a / M2_PER_MU)),
            );
        })
    }

    /// Per zone: valid area, mean slope, the share of each grade, steep
    /// cropland in mu.
    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        let r = self.report;
        let mut head = vec![
            "zone".to_string(),
            "name".into(),
            "valid km²".into(),
            "mean °".into(),
        ];
        for (k, (lo, hi)) in r.grades.iter().enumerate() {
            head.push(format!("{} {lo}–{hi}° %", grade_label(k + 1)));
        }
        head.push("steep cropland mu".into());
        let mut rows = vec![head];
        for z in &r.zones {
            let mut row = vec![
                z.id.clone(),
                z.name.clone().unwrap_or_default(),
                format!("{:.3}", z.valid_area_m2 / M2_PER_KM2),
                z.mean_slope_deg
                    .map(|m| format!("{m:.2}"))
                    .unwrap_or_else(|| "-".into()),
            ];
            for g in &z.grades {
                row.push(if z.valid_area_m2 > 0.0 {
                    format!("{:.2}", 100.0 * g.area_m2 / z.valid_area_m2)
                } else {
                    "-".into()
                });
            }
            row.push(
                z.steep_cropland_m2
                    .map(|a| format!("{:.0}", a / M2_PER_MU))
                    .unwrap_or_else(|| "-".into()),
            );
            rows.push(row);
        }
        write_table(&rows, w)
    }

    /// The workbook of [`Slope::sheets`].
    fn xlsx(&self, w: &mut dyn Write) -> io::Result<()> {
        write_xlsx(&self.sheets(), w)
    }

    fn name(&self) -> &'static str {
        "slope"
    }
}

impl Slope<'_> {
    /// The XLSX sheets: 坡度分级, the CSV's rows (zone × grade, then zone
    /// × class × grade with the classes' Chinese names) with areas in m²,
    /// ha and mu; and, when cropland polygons were measured, 陡坡耕地, the
    /// list of those on the steepest grade as the steep-cropland CSV has
    /// it.
    pub fn sheets(&self) -> Vec<Sheet> {
        let r = self.report;
        let row = |z: &crate::slope::ZoneSlope, class: [Cell; 2], k: usize, a: f64, share: bool| {
            let (lo, hi) = r.grades[k];
            let mut cells = zone_cells(&z.id, z.name.as_deref()).to_vec();
            cells.extend(class);
            cells.extend([
                Cell::Text(grade_label(k + 1)),
                Cell::Number(lo),
                Cell::Number(hi),
                Cell::Number(a),
                Cell::Number(a / M2_PER_HA),
                Cell::Number(a / M2_PER_MU),
                if share && z.valid_area_m2 > 0.0 {
                    Cell::Number(a / z.valid_area_m2)
                } else {
                    Cell::Empty
                },
            ]);
            cells
        };
        let mut rows = Vec::new();
        for z in &r.zones {
            for (k, g) in z.grades.iter().enumerate() {
                rows.push(row(z, [Cell::Empty, Cell::Empty], k, g.area_m2, true));
            }
        }
        for z in &r.zones {
            for (code, areas) in z.by_class.iter().flatten() {
                let name = self
                    .legend
                    .map_or(Cell::Empty, |l| Cell::Text(class_name_zh(l, *code)));
                for (k, a) in areas.iter().enumerate() {
                    let class = [Cell::Text(code.to_string()), name.clone()];
                    rows.push(row(z, class, k, *a, false));
                }
            }
        }
        let mut sheets = vec![Sheet {
            name: "坡度分级".into(),
            headers: headers(&[
                "区域编号",
                "区域名称",
                "地类编码",
                "地类名称",
                "坡度级别",
                "最小坡度（度）",
                "最大坡度（度）",
                "面积（平方米）",
                "面积（公顷）",
                "面积（亩）",
                "占有效面积比例",
            ]),
            rows,
        }];
        if r.polygons.is_some() {
            sheets.push(steep_sheet(r));
        }
        sheets
    }
}

/// 陡坡耕地: the cropland polygons on the steepest grade, the columns of
/// the steep-cropland CSV.
fn steep_sheet(r: &SlopeReport) -> Sheet {
    let top = grade_label(r.grades.len());
    let rows = r
        .steep_polygons()
        .into_iter()
        .map(|p| {
            let (steep, share) = steep_of(p);
            vec![
                Cell::Text(p.id.clone()),
                Cell::text_or_empty(p.class.as_deref()),
                Cell::Number(p.area_m2),
                Cell::Number(p.area_m2 / M2_PER_HA),
                Cell::Number(p.area_m2 / M2_PER_MU),
                Cell::Text(top.clone()),
                Cell::Number(steep),
                Cell::Number(share),
                Cell::number_or_empty(p.mean_slope_deg),
            ]
        })
        .collect();
    Sheet {
        name: "陡坡耕地".into(),
        headers: headers(&[
            "图斑编号",
            "地类编码",
            "面积（平方米）",
            "面积（公顷）",
            "面积（亩）",
            "坡度级别",
            "陡坡面积（平方米）",
            "陡坡面积占比",
            "平均坡度（度）",
        ]),
        rows,
    }
}

/// A polygon's area on the steepest grade and that area's share of its
/// area with a slope (0 when none has one).
fn steep_of(p: &PolygonSlope) -> (f64, f64) {
    let steep = p.grade_areas_m2.last().copied().unwrap_or(0.0);
    let valid: f64 = p.grade_areas_m2.iter().sum();
    (steep, if valid > 0.0 { steep / valid } else { 0.0 })
}

fn opt(v: Option<f64>) -> Value {
    v.map(Value::from).unwrap_or(Value::Null)
}

/// The cropland polygons on the steepest grade (the list counties publish
/// for returning cropland to forest), with their geometries.
#[derive(Clone, Copy, Debug)]
pub struct SteepCropland<'a> {
    /// The result (its `polygons`).
    pub report: &'a SlopeReport,
    /// The polygons measured.
    pub cropland: &'a Cropland,
}

/// Attribute names of the steep-cropland outputs (≤ 10 characters, for
/// Shapefiles).
pub const STEEP_FIELDS: [(&str, FieldKind); 8] = [
    ("id", FieldKind::Text),
    ("class", FieldKind::Text),
    ("area_m2", FieldKind::Real),
    ("area_mu", FieldKind::Real),
    ("grade", FieldKind::Integer),
    ("steep_m2", FieldKind::Real),
    ("steep_shr", FieldKind::Real),
    ("mean_deg", FieldKind::Real),
];

impl SteepCropland<'_> {
    /// One feature per steep polygon: geometry (the layer's CRS) and
    /// [`STEEP_FIELDS`].
    pub fn features(&self) -> Vec<(MultiPolygon<f64>, Map<String, Value>)> {
        let top = self.report.grades.len();
        let Some(polygons) = &self.report.polygons else {
            return Vec::new();
        };
        self.cropland
            .layer
            .zones
            .iter()
            .zip(polygons)
            .filter(|(_, p)| p.grade == Some(top))
            .map(|(zone, p)| {
                let (steep, share) = steep_of(p);
                let mut m = Map::new();
                m.insert("id".into(), Value::from(p.id.clone()));
                m.insert(
                    "class".into(),
                    p.class.clone().map(Value::from).unwrap_or(Value::Null),
                );
                m.insert("area_m2".into(), Value::from(p.area_m2));
                m.insert("area_mu".into(), Value::from(p.area_m2 / M2_PER_MU));
                m.insert("grade".into(), Value::from(top as i64));
                m.insert("steep_m2".into(), Value::from(steep));
                m.insert("steep_shr".into(), Value::from(share));
                m.insert("mean_deg".into(), opt(p.mean_slope_deg));
                (zone.geometry.clone(), m)
            })
            .collect()
    }

    /// Writes the steep polygons to `path` (`.gpkg`, `.shp` in GBK, or
    /// `.geojson`) and their list as CSV beside it (same name, `.csv`);
    /// returns the CSV's path.
    pub fn write(&self, path: &Path) -> Result<PathBuf> {
        let features = self.features();
        let crs = &self.cropland.layer.crs;
        match VectorFormat::from_path(path)? {
            VectorFormat::GeoJson => crate::fsio::write_atomic(path, |w| {
                write_feature_collection(crs, features.iter().cloned(), w)
            })?,
            _ => write_polygons(path, "steep_cropland", crs, &STEEP_FIELDS, &features)?,
        }
        let csv = path.with_extension("csv");
        if csv == path {
            return Err(Error::write(path, "the CSV list would overwrite it"));
        }
        crate::fsio::write_atomic(&csv, |w| self.csv(&features, w))?;
        Ok(csv)
    }

    fn csv(
        &self,
        features: &[(MultiPolygon<f64>, Map<String, Value>)],
        w: &mut dyn Write,
    ) -> io::Result<()> {
        writeln!(
            w,
            "id,class,area_m2,area_ha,area_mu,grade,steep_area_m2,steep_share,mean_slope_deg"
        )?;
        let f = |m: &Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_f64)
                .map(num)
                .unwrap_or_default()
        };
        for (_, m) in features {
            let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let area = m.get("area_m2").and_then(Value::as_f64).unwrap_or(0.0);
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{}",
                csv_field(&s("id")),
                csv_field(&s("class")),
                num(area),
                num(area / M2_PER_HA),
                num(area / M2_PER_MU),
                grade_label(self.report.grades.len()),
                f(m, "steep_m2"),
                f(m, "steep_shr"),
                f(m, "mean_deg"),
            )?;
        }
        Ok(())
    }
}
