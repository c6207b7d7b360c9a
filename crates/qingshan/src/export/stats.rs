//! `qingshan.stats/1` results: per-zone class areas and forest cover.

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::xlsx::{Cell, Sheet, class_name_zh, headers, write_xlsx, zone_cells};
use super::{Export, csv_field, num, write_feature_collection, write_json, write_table};
use crate::area::{M2_PER_HA, M2_PER_KM2, M2_PER_MU};
use crate::legend::Legend;
use crate::zonal::StatsReport;
use crate::zones::ZoneLayer;

/// A stats result with what its formats need.
#[derive(Clone, Copy, Debug)]
pub struct Stats<'a> {
    /// The result.
    pub report: &'a StatsReport,
    /// Its legend (class names in CSV).
    pub legend: &'a Legend,
    /// The zones measured (geometries for GeoJSON), when at hand.
    pub zones: Option<&'a ZoneLayer>,
}

impl Export for Stats<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(self.report, w)
    }

    /// One row per zone × class, with m², ha, mu and the share of the
    /// zone's valid area.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        stats_csv(self.report, self.legend, w)
    }

    /// The zones (in their own CRS) with their stats as properties; class
    /// areas as `class_<code>_m2`.
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        match self.zones {
            Some(zones) => stats_geojson(self.report, zones, w),
            None => Err(io::Error::other(
                "no zone geometries to write GeoJSON with: use json, csv or table",
            )),
        }
    }

    /// Per zone: areas in km², forest in km² and mu (亩), forest cover in %.
    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        stats_table(self.report, w)
    }

    /// The workbook of [`Stats::sheets`].
    fn xlsx(&self, w: &mut dyn Write) -> io::Result<()> {
        write_xlsx(&self.sheets(), w)
    }

    fn name(&self) -> &'static str {
        "stats"
    }
}

impl Stats<'_> {
    /// The XLSX sheets: 分类面积, the CSV's rows (zone × class) with the
    /// classes' Chinese names and areas in m², ha and mu; 森林覆盖率, one
    /// row per zone with its zone, valid and forest areas (m²) and forest
    /// cover in % (empty when nothing is valid).
    pub fn sheets(&self) -> Vec<Sheet> {
        let r = self.report;
        let classes = r
            .zones
            .iter()
            .flat_map(|z| {
                z.classes.iter().map(move |(code, &a)| {
                    let mut row = zone_cells(&z.id, z.name.as_deref()).to_vec();
                    row.extend([
                        Cell::Text(code.to_string()),
                        Cell::Text(class_name_zh(self.legend, *code)),
                        Cell::Number(a),
                        Cell::Number(a / M2_PER_HA),
                        Cell::Number(a / M2_PER_MU),
                    ]);
                    row
                })
            })
            .collect();
        let cover = r
            .zones
            .iter()
            .map(|z| {
                let mut row = zone_cells(&z.id, z.name.as_deref()).to_vec();
                row.extend([
                    Cell::Number(z.zone_area_m2),
                    Cell::Number(z.valid_area_m2),
                    Cell::Number(z.forest_area_m2),
                    Cell::number_or_empty(z.forest_cover.map(|c| 100.0 * c)),
                ]);
                row
            })
            .collect();
        vec![
            Sheet {
                name: "分类面积".into(),
                headers: headers(&[
                    "区域编号",
                    "区域名称",
                    "地类编码",
                    "地类名称",
                    "面积（平方米）",
                    "面积（公顷）",
                    "面积（亩）",
                ]),
                rows: classes,
            },
            Sheet {
                name: "森林覆盖率".into(),
                headers: headers(&[
                    "区域编号",
                    "区域名称",
                    "区域面积（平方米）",
                    "有效面积（平方米）",
                    "森林面积（平方米）",
                    "森林覆盖率（%）",
                ]),
                rows: cover,
            },
        ]
    }
}

/// Writes stats as long-form CSV: one row per zone × class, with m², ha,
/// mu and the share of the zone's valid area.
fn stats_csv(report: &StatsReport, legend: &Legend, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "zone_id,zone_name,class,class_name,forest,area_m2,area_ha,area_mu,share_of_valid"
    )?;
    for z in &report.zones {
        for (code, &a) in &z.classes {
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{}",
                csv_field(&z.id),
                csv_field(z.name.as_deref().unwrap_or("")),
                code,
                csv_field(&legend.name_of(*code)),
                legend.is_forest(*code),
                num(a),
                num(a / M2_PER_HA),
                num(a / M2_PER_MU),
                if z.valid_area_m2 > 0.0 {
                    num(a / z.valid_area_m2)
                } else {
                    String::new()
                }
            )?;
        }
    }
    Ok(())
}

/// Writes a per-zone summary table of stats: areas in km², forest in km²
/// and mu (亩), forest cover in %.
fn stats_table(report: &StatsReport, w: &mut dyn Write) -> io::Result<()> {
    let mut rows = vec![vec![
        "zone".to_string(),
        "name".to_string(),
        "zone km²".to_string(),
        "valid km²".to_string(),
        "nodata km²".to_string(),
        "forest km²".to_string(),
        "forest mu".to_string(),
        "forest cover %".to_string(),
    ]];
    for z in &report.zones {
        rows.push(vec![
            z.id.clone(),
            z.name.clone().unwrap_or_default(),
            format!("{:.3}", z.zone_area_m2 / M2_PER_KM2),
            format!("{:.3}", z.valid_area_m2 / M2_PER_KM2),
            format!("{:.3}", z.nodata_area_m2 / M2_PER_KM2),
            format!("{:.3}", z.forest_area_m2 / M2_PER_KM2),
            format!("{:.0}", z.forest_area_m2 / M2_PER_MU),
            z.forest_cover
                .map(|c| format!("{:.2}", 100.0 * c))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    write_table(&rows, w)
}

/// Writes the zones with their stats as GeoJSON properties (geometries in
/// the zones' own CRS). Class areas become `class_<code>_m2` properties.
fn stats_geojson(report: &StatsReport, layer: &ZoneLayer, w: &mut dyn Write) -> io::Result<()> {
    let features = layer.zones.iter().zip(&report.zones).map(|(zone, z)| {
        let mut p = Map::new();
        for (k, v) in &zone.attributes {
            p.insert(k.clone(), v.clone());
        }
        p.insert("zone_id".into(), Value::from(z.id.clone()));
        p.insert("zone_area_m2".into(), Value::from(z.zone_area_m2));
        p.insert("valid_area_m2".into(), Value::from(z.valid_area_m2));
        p.insert("nodata_area_m2".into(), Value::from(z.nodata_area_m2));
        p.insert("forest_area_m2".into(), Value::from(z.forest_area_m2));
        p.insert(
            "forest_area_mu".into(),
            Value::from(z.forest_area_m2 / M2_PER_MU),
        );
        p.insert(
            "forest_cover".into(),
            z.forest_cover.map(Value::from).unwrap_or(Value::Null),
        );
        for (code, a) in &z.classes {
            p.insert(format!("class_{code}_m2"), Value::from(*a));
        }
        (zone.geometry.clone(), p)
    });
    write_feature_collection(&layer.crs, features, w)
}
