//! `qingshan.values/1` results: statistics of a continuous raster per
//! zone. CSV is wide (one row per zone, one column per statistic).

use std::io::{self, Write};

use serde_json::Value;

use super::{Export, csv_field, num, write_json, write_table, zones_geojson};
use crate::values::ValuesReport;
use crate::zones::ZoneLayer;

/// A values result with what its formats need.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a> {
    /// The result.
    pub report: &'a ValuesReport,
    /// The zones measured (geometries for GeoJSON), when at hand.
    pub zones: Option<&'a ZoneLayer>,
}

/// A statistic for CSV: empty when the zone has none.
fn cell(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// The share of a zone's area with a value (nodata, and any part off the
/// raster, count against it).
fn valid_share(valid: f64, zone: f64) -> Option<f64> {
    (zone > 0.0).then(|| (valid / zone).min(1.0))
}

impl Export for Values<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(self.report, w)
    }

    /// Wide: zone id, name, areas (m²), valid share (of the zone's area),
    /// then one column per statistic in the order asked.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        let r = self.report;
        let mut head =
            String::from("zone_id,zone_name,zone_area_m2,valid_area_m2,nodata_area_m2,valid_share");
        for s in &r.stats {
            head.push(',');
            head.push_str(&csv_field(s));
        }
        writeln!(w, "{head}")?;
        for z in &r.zones {
            let mut line = format!(
                "{},{},{},{},{},{}",
                csv_field(&z.id),
                csv_field(z.name.as_deref().unwrap_or("")),
                num(z.zone_area_m2),
                num(z.valid_area_m2),
                num(z.nodata_area_m2),
                cell(valid_share(z.valid_area_m2, z.zone_area_m2)),
            );
            for (_, v) in &z.stats.0 {
                line.push(',');
                line.push_str(&cell(*v));
            }
            writeln!(w, "{line}")?;
        }
        Ok(())
    }

    /// The zones (in their own CRS) with areas and every statistic as
    /// properties.
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        zones_geojson(self.zones, w, |k, p| {
            let z = &self.report.zones[k];
            p.insert("valid_area_m2".into(), Value::from(z.valid_area_m2));
            p.insert("nodata_area_m2".into(), Value::from(z.nodata_area_m2));
            for (name, v) in &z.stats.0 {
                p.insert(name.clone(), v.map_or(Value::Null, Value::from));
            }
        })
    }

    /// Per zone: valid share and each statistic (4 decimals).
    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        let r = self.report;
        let mut head = vec!["zone".to_string(), "name".into(), "valid %".into()];
        head.extend(r.stats.iter().cloned());
        let mut rows = vec![head];
        for z in &r.zones {
            let mut row = vec![
                z.id.clone(),
                z.name.clone().unwrap_or_default(),
                valid_share(z.valid_area_m2, z.zone_area_m2)
                    .map(|s| format!("{:.2}", 100.0 * s))
                    .unwrap_or_else(|| "-".into()),
            ];
            row.extend(z.stats.0.iter().map(|(_, v)| match v {
                Some(x) => format!("{:.4}", x),
                None => "-".into(),
            }));
            rows.push(row);
        }
        write_table(&rows, w)
    }

    fn name(&self) -> &'static str {
        "values"
    }
}
