//! The change list of two land-use versions: every piece whose class
//! changed, as inspectors work from it — GeoPackage, Shapefile (GBK, with
//! a `.cpg`), GeoJSON, CSV or XLSX (Chinese headers), chosen by the file's
//! extension.

use std::io::{self, Write};
use std::path::Path;

use geo::MultiPolygon;
use serde_json::{Map, Value};

use super::xlsx::{Cell, Sheet, class_name_zh, write_xlsx};
use super::{csv_field, num, write_feature_collection};
use crate::area::{M2_PER_HA, M2_PER_MU};
use crate::landuse::LandUseChange;
use crate::legend::Legend;
use crate::zones::ZoneLayer;
use crate::zones::write::{FieldKind, VectorFormat, write_polygons};
use crate::{Error, Result};

/// Attribute names of the change list (≤ 10 bytes, for Shapefiles).
pub const CHANGE_LIST_FIELDS: [(&str, FieldKind); 12] = [
    ("zone_id", FieldKind::Text),
    ("bsm_from", FieldKind::Text),
    ("bsm_to", FieldKind::Text),
    ("dlbm_from", FieldKind::Text),
    ("dlmc_from", FieldKind::Text),
    ("dlbm_to", FieldKind::Text),
    ("dlmc_to", FieldKind::Text),
    ("area_m2", FieldKind::Real),
    ("area_ha", FieldKind::Real),
    ("area_mu", FieldKind::Real),
    ("x", FieldKind::Real),
    ("y", FieldKind::Real),
];

/// Chinese headers of the change list's CSV-like outputs, in field order.
const HEADERS_ZH: [&str; 12] = [
    "区域编号",
    "原图斑标识码",
    "现图斑标识码",
    "原地类编码",
    "原地类名称",
    "现地类编码",
    "现地类名称",
    "面积（平方米）",
    "面积（公顷）",
    "面积（亩）",
    "中心点X",
    "中心点Y",
];

/// The changed pieces of a [`LandUseChange`], ready to write.
#[derive(Clone, Copy, Debug)]
pub struct ChangeList<'a> {
    /// The result.
    pub change: &'a LandUseChange,
    /// Its legend (class names).
    pub legend: &'a Legend,
    /// The zones (ids).
    pub zones: &'a ZoneLayer,
}

impl ChangeList<'_> {
    /// One feature per changed piece: geometry and [`CHANGE_LIST_FIELDS`].
    pub fn features(&self) -> Vec<(MultiPolygon<f64>, Map<String, Value>)> {
        self.change
            .changed
            .iter()
            .map(|p| {
                let mut m = Map::new();
                let name = |c| Value::from(class_name_zh(self.legend, c));
                m.insert(
                    "zone_id".into(),
                    Value::from(self.zones.zones[p.zone].id.clone()),
                );
                m.insert("bsm_from".into(), Value::from(p.before_id.clone()));
                m.insert("bsm_to".into(), Value::from(p.after_id.clone()));
                m.insert("dlbm_from".into(), Value::from(p.from.to_string()));
                m.insert("dlmc_from".into(), name(p.from));
                m.insert("dlbm_to".into(), Value::from(p.to.to_string()));
                m.insert("dlmc_to".into(), name(p.to));
                m.insert("area_m2".into(), Value::from(p.area_m2));
                m.insert("area_ha".into(), Value::from(p.area_m2 / M2_PER_HA));
                m.insert("area_mu".into(), Value::from(p.area_m2 / M2_PER_MU));
                m.insert("x".into(), Value::from(p.centroid.0));
                m.insert("y".into(), Value::from(p.centroid.1));
                (p.geometry.clone(), m)
            })
            .collect()
    }

    /// The list as a sheet (Chinese headers, numbers as numbers).
    pub fn sheet(&self) -> Sheet {
        let rows = self
            .features()
            .into_iter()
            .map(|(_, m)| {
                CHANGE_LIST_FIELDS
                    .iter()
                    .map(|(k, kind)| match (kind, &m[*k]) {
                        (FieldKind::Real, v) => Cell::number_or_empty(v.as_f64()),
                        (_, v) => Cell::text_or_empty(v.as_str()),
                    })
                    .collect()
            })
            .collect();
        Sheet {
            name: "变化图斑".into(),
            headers: HEADERS_ZH.iter().map(|h| h.to_string()).collect(),
            rows,
        }
    }

    fn csv(&self, w: &mut dyn Write) -> io::Result<()> {
        let names: Vec<&str> = CHANGE_LIST_FIELDS.iter().map(|f| f.0).collect();
        writeln!(w, "{}", names.join(","))?;
        for (_, m) in self.features() {
            let cells: Vec<String> = CHANGE_LIST_FIELDS
                .iter()
                .map(|(k, _)| match &m[*k] {
                    Value::String(s) => csv_field(s),
                    Value::Number(n) => n.as_f64().map(num).unwrap_or_default(),
                    _ => String::new(),
                })
                .collect();
            writeln!(w, "{}", cells.join(","))?;
        }
        Ok(())
    }

    /// Writes the list to `path`: `.gpkg`, `.shp` (GBK), `.geojson` with
    /// geometries; `.csv` or `.xlsx` as a table.
    pub fn write(&self, path: &Path) -> Result<()> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" => return crate::fsio::write_atomic(path, |w| self.csv(w)),
            "xlsx" => return crate::fsio::write_atomic(path, |w| write_xlsx(&[self.sheet()], w)),
            _ => {}
        }
        let crs = &self.change.crs;
        let features = self.features();
        match VectorFormat::from_path(path).map_err(|_| {
            Error::write(
                path,
                "a change list is .gpkg, .shp, .geojson, .csv or .xlsx",
            )
        })? {
            VectorFormat::GeoJson => crate::fsio::write_atomic(path, |w| {
                write_feature_collection(crs, features.into_iter(), w)
            }),
            _ => write_polygons(path, "change_list", crs, &CHANGE_LIST_FIELDS, &features),
        }
    }
}
