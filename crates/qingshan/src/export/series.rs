//! `qingshan.series/1` results: many dates per zone. CSV is long (zone,
//! date, source, metric, value), the table shows forest cover and each
//! statistic of the values date by date.

use std::io::{self, Write};

use serde_json::Value;

use super::{Export, csv_field, num, write_json, write_table, zones_geojson};
use crate::series::SeriesReport;
use crate::zones::ZoneLayer;

/// A series result with what its formats need.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    /// The result.
    pub report: &'a SeriesReport,
    /// The zones measured (geometries for GeoJSON), when at hand.
    pub zones: Option<&'a ZoneLayer>,
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

impl Export for Series<'_> {
    fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        write_json(self.report, w)
    }

    /// Long form: `zone_id,zone_name,date,source,metric,value`. Land cover
    /// gives `valid_area_m2`, `nodata_area_m2`, `forest_area_m2`,
    /// `forest_cover` and `class_<code>_m2`; values give their areas and
    /// each statistic by name.
    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "zone_id,zone_name,date,source,metric,value")?;
        for z in &self.report.zones {
            let id = csv_field(&z.id);
            let name = csv_field(z.name.as_deref().unwrap_or(""));
            for (date, l) in &z.landcover {
                let d = csv_field(date);
                let mut row =
                    |metric: &str, v: String| writeln!(w, "{id},{name},{d},landcover,{metric},{v}");
                row("valid_area_m2", num(l.valid_area_m2))?;
                row("nodata_area_m2", num(l.nodata_area_m2))?;
                row("forest_area_m2", num(l.forest_area_m2))?;
                row("forest_cover", opt(l.forest_cover))?;
                for (code, a) in &l.classes {
                    row(&format!("class_{code}_m2"), num(*a))?;
                }
            }
            for (date, v) in &z.values {
                let d = csv_field(date);
                let mut row =
                    |metric: &str, x: String| writeln!(w, "{id},{name},{d},values,{metric},{x}");
                row("valid_area_m2", num(v.valid_area_m2))?;
                row("nodata_area_m2", num(v.nodata_area_m2))?;
                for (s, x) in &v.stats.0 {
                    row(&csv_field(s), opt(*x))?;
                }
            }
        }
        Ok(())
    }

    /// The zones with `forest_cover_<date>` and `<stat>_<date>` for every
    /// date as properties.
    fn geojson(&self, w: &mut dyn Write) -> io::Result<()> {
        zones_geojson(self.zones, w, |k, p| {
            let z = &self.report.zones[k];
            for (date, l) in &z.landcover {
                p.insert(
                    format!("forest_cover_{date}"),
                    l.forest_cover.map_or(Value::Null, Value::from),
                );
            }
            for (date, v) in &z.values {
                for (s, x) in &v.stats.0 {
                    p.insert(format!("{s}_{date}"), x.map_or(Value::Null, Value::from));
                }
            }
        })
    }

    /// Per zone: forest cover (%) at each land-cover date, then each
    /// statistic of the values at each values date.
    fn table(&self, w: &mut dyn Write) -> io::Result<()> {
        let r = self.report;
        let mut head = vec!["zone".to_string(), "name".into()];
        let lc_dates: Vec<&String> = r.landcover.iter().map(|s| &s.date).collect();
        let v_dates: Vec<&String> = r.values.iter().map(|s| &s.date).collect();
        let what = r.values_name.as_deref().unwrap_or("value");
        head.extend(lc_dates.iter().map(|d| format!("forest % {d}")));
        for s in &r.stats {
            head.extend(v_dates.iter().map(|d| format!("{what} {s} {d}")));
        }
        let mut rows = vec![head];
        for z in &r.zones {
            let mut row = vec![z.id.clone(), z.name.clone().unwrap_or_default()];
            for d in &lc_dates {
                row.push(
                    z.landcover
                        .get(*d)
                        .and_then(|l| l.forest_cover)
                        .map_or("-".into(), |c| format!("{:.2}", 100.0 * c)),
                );
            }
            for s in &r.stats {
                for d in &v_dates {
                    row.push(
                        z.values
                            .get(*d)
                            .and_then(|v| v.stats.get(s))
                            .map_or("-".into(), |x| format!("{x:.4}")),
                    );
                }
            }
            rows.push(row);
        }
        write_table(&rows, w)
    }

    fn name(&self) -> &'static str {
        "series"
    }
}
