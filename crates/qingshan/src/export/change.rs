//! `qingshan.change/1` results: per-zone transitions between two dates.

use std::io::{self, Write};

use serde_json::Value;

use super::xlsx::{Cell, Sheet, class_name_zh, headers, write_xlsx, zone_cells};
use super::{Export, csv_field, num, write_feature_collection, write_json, write_table};
use crate::area::{M2_PER_HA, M2_PER_KM2, M2_PER_MU};
use crate::change::ChangeReport;
use crate::legend::Legend;
use crate::zones::ZoneLayer;

/// A change result with what its formats need.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    /// The result.
    pub report: &'a ChangeReport,
    /// Its legend (class names).
    pub legend: &'a Legend,
    /// The zones measured (geometries for GeoJSON), when at hand.
    pub zones: Option<&'a ZoneLayer>,
}

impl Export for Change<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(self.report, w)
    }

    /// One row per zone × (from, to), with m², ha and mu.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        change_csv(self.report, self.legend, w)
    }

    /// The zones with their forest change as properties, plus every
    /// transition as `t_<from>_<to>_m2`.
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        match self.zones {
            Some(zones) => change_geojson(self.report, zones, w),
            None => Err(io::Error::other(
                "no zone geometries to write GeoJSON with: use json, csv or table",
            )),
        }
    }

    /// Per zone: forest change in mu and cover in %.
    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        change_table(self.report, self.legend, w)
    }

    /// The workbook of [`Change::sheets`].
    fn xlsx(&self, w: &mut dyn Write) -> io::Result<()> {
        write_xlsx(&self.sheets(), w)
    }

    fn name(&self) -> &'static str {
        "change"
    }
}

impl Change<'_> {
    /// The XLSX sheet 地类转移: the CSV's rows (zone × from × to,
    /// unchanged land included) with the classes' Chinese names and areas
    /// in m², ha and mu.
    pub fn sheets(&self) -> Vec<Sheet> {
        let rows = self
            .report
            .zones
            .iter()
            .flat_map(|z| {
                z.transitions.iter().flat_map(move |(from, row)| {
                    row.iter().map(move |(to, &a)| {
                        let mut cells = zone_cells(&z.id, z.name.as_deref()).to_vec();
                        cells.extend([
                            Cell::Text(from.to_string()),
                            Cell::Text(class_name_zh(self.legend, *from)),
                            Cell::Text(to.to_string()),
                            Cell::Text(class_name_zh(self.legend, *to)),
                            Cell::Number(a),
                            Cell::Number(a / M2_PER_HA),
                            Cell::Number(a / M2_PER_MU),
                        ]);
                        cells
                    })
                })
            })
            .collect();
        vec![Sheet {
            name: "地类转移".into(),
            headers: headers(&[
                "区域编号",
                "区域名称",
                "起始地类编码",
                "起始地类名称",
                "终止地类编码",
                "终止地类名称",
                "面积（平方米）",
                "面积（公顷）",
                "面积（亩）",
            ]),
            rows,
        }]
    }
}

/// Writes transitions as long-form CSV: one row per zone × (from, to),
/// with m², ha and mu.
fn change_csv(report: &ChangeReport, legend: &Legend, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "zone_id,zone_name,from,from_name,to,to_name,area_m2,area_ha,area_mu"
    )?;
    for z in &report.zones {
        for (from, row) in &z.transitions {
            for (to, &a) in row {
                writeln!(
                    w,
                    "{},{},{},{},{},{},{},{},{}",
                    csv_field(&z.id),
                    csv_field(z.name.as_deref().unwrap_or("")),
                    from,
                    csv_field(&legend.name_of(*from)),
                    to,
                    csv_field(&legend.name_of(*to)),
                    num(a),
                    num(a / M2_PER_HA),
                    num(a / M2_PER_MU)
                )?;
            }
        }
    }
    Ok(())
}

/// Writes the zones with their forest change as GeoJSON properties, plus
/// every transition as `t_<from>_<to>_m2`.
fn change_geojson(report: &ChangeReport, layer: &ZoneLayer, w: &mut dyn Write) -> io::Result<()> {
    let features = layer.zones.iter().zip(&report.zones).map(|(zone, z)| {
        let mut p = zone.attributes.clone();
        p.insert("zone_id".into(), Value::from(z.id.clone()));
        for (k, v) in [
            ("valid_area_m2", z.valid_area_m2),
            ("nodata_area_m2", z.nodata_area_m2),
            ("forest_before_m2", z.forest_before_m2),
            ("forest_after_m2", z.forest_after_m2),
            ("forest_gain_m2", z.forest_gain_m2),
            ("forest_loss_m2", z.forest_loss_m2),
            ("forest_net_m2", z.forest_net_m2),
            ("forest_net_mu", z.forest_net_m2 / M2_PER_MU),
        ] {
            p.insert(k.into(), Value::from(v));
        }
        for (k, v) in [
            ("forest_cover_before", z.forest_cover_before),
            ("forest_cover_after", z.forest_cover_after),
        ] {
            p.insert(k.into(), v.map(Value::from).unwrap_or(Value::Null));
        }
        for (from, row) in &z.transitions {
            for (to, a) in row {
                p.insert(format!("t_{from}_{to}_m2"), Value::from(*a));
            }
        }
        (zone.geometry.clone(), p)
    });
    write_feature_collection(&layer.crs, features, w)
}

/// Writes a per-zone forest-change summary table (mu and %).
fn change_table(report: &ChangeReport, legend: &Legend, w: &mut dyn Write) -> io::Result<()> {
    let pct = |c: Option<f64>| {
        c.map(|c| format!("{:.2}", 100.0 * c))
            .unwrap_or_else(|| "-".into())
    };
    let mut rows = vec![vec![
        "zone".to_string(),
        "name".to_string(),
        "valid km²".to_string(),
        "forest before mu".to_string(),
        "forest after mu".to_string(),
        "gain mu".to_string(),
        "loss mu".to_string(),
        "cover before %".to_string(),
        "cover after %".to_string(),
        "largest change".to_string(),
    ]];
    for z in &report.zones {
        let largest = z
            .transitions
            .iter()
            .flat_map(|(f, row)| {
                row.iter()
                    .filter(move |(t, _)| *t != f)
                    .map(move |(t, a)| (*f, *t, *a))
            })
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .map(|(f, t, a)| {
                format!(
                    "{} → {} {:.0} mu",
                    legend.name_of(f),
                    legend.name_of(t),
                    a / M2_PER_MU
                )
            })
            .unwrap_or_else(|| "-".into());
        rows.push(vec![
            z.id.clone(),
            z.name.clone().unwrap_or_default(),
            format!("{:.3}", z.valid_area_m2 / M2_PER_KM2),
            format!("{:.0}", z.forest_before_m2 / M2_PER_MU),
            format!("{:.0}", z.forest_after_m2 / M2_PER_MU),
            format!("{:.0}", z.forest_gain_m2 / M2_PER_MU),
            format!("{:.0}", z.forest_loss_m2 / M2_PER_MU),
            pct(z.forest_cover_before),
            pct(z.forest_cover_after),
            largest,
        ]);
    }
    write_table(&rows, w)
}
