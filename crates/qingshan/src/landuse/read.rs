//! Reading a land-use layer: only the fields a run needs (class, area,
//! id), every feature checked, text decoded right or refused.

use std::path::Path;
use std::sync::{Arc, Mutex};

use gdal::vector::{LayerAccess, OGRFieldType};
use geo::{Coord, MultiPolygon};

use super::{LandUse, LandUseOptions};
use crate::legend::ClassCode;
use crate::zones::{CHINESE_ENCODING, ansi_without_cpg, open_vector, pick_layer};
use crate::{Error, Result};

/// One pass over the layer with text read in `encoding` (`None`: as the
/// file says; `Some("")`: the raw bytes).
fn read_pass(path: &Path, opts: &LandUseOptions, encoding: Option<&str>) -> Result<LandUse> {
    let ds = open_vector(path, encoding)?;
    let (mut layer, crs) = pick_layer(&ds, path, opts.layer.as_deref())?;
    let layer_name = layer.name();
    let fields: Vec<(String, OGRFieldType::Type)> = layer
        .defn()
        .fields()
        .map(|f| (f.name(), f.field_type()))
        .collect();
    let find = |name: &str, what: &str| -> Result<(usize, OGRFieldType::Type)> {
        fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|i| (i, fields[i].1))
            .ok_or_else(|| {
                let all: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                Error::zones(
                    path,
                    format!(
                        "layer {layer_name:?} has no field {name:?} ({what}); its fields are: {}",
                        all.join(", ")
                    ),
                )
            })
    };
    let class = find(&opts.class_field, "the class field, --class-field")?;
    let area = match &opts.area_field {
        Some(f) => Some(find(f, "the recorded-area field, --area-field")?),
        None => None,
    };
    let id = match &opts.id_field {
        Some(f) => Some(find(f, "the id field, --landuse-id-field")?),
        None => find("BSM", "").ok(),
    };
    // Recorded areas net of deductions (TBDLMJ) come with the deducted
    // class and area (田坎 KCDLBM / KCMJ), credited to that class.
    let deduction = match (&opts.area_field, find("KCDLBM", ""), find("KCMJ", "")) {
        (Some(f), Ok(code), Ok(area)) if f.eq_ignore_ascii_case("TBDLMJ") => Some((code, area)),
        _ => None,
    };
    let flag = match &opts.forest_flag_field {
        Some(f) => Some(find(
            f,
            "the 国家特别规定灌木林地 flag, --shrub-forest-field",
        )?),
        None => None,
    };
    let numeric = |t: OGRFieldType::Type| {
        matches!(
            t,
            OGRFieldType::OFTInteger | OGRFieldType::OFTInteger64 | OGRFieldType::OFTReal
        )
    };
    if let Some((i, t)) = area
        && !numeric(t)
    {
        return Err(Error::zones(
            path,
            format!(
                "the area field {:?} is not numeric: give a field of areas in m² (e.g. TBDLMJ or TBMJ)",
                fields[i].0
            ),
        ));
    }
    let mut out = LandUse {
        path: path.to_path_buf(),
        layer: layer_name,
        crs,
        class_field: fields[class.0].0.clone(),
        id_field: id.map(|(i, _)| fields[i].0.clone()),
        ids: Vec::new(),
        codes: Vec::new(),
        polygons: Vec::new(),
        recorded: area.map(|_| Vec::new()),
        forest_flags: flag.map(|_| Vec::new()),
        deductions: deduction.map(|_| Vec::new()),
        notes: Vec::new(),
    };
    if deduction.is_some() {
        out.notes.push(format!(
            "{}: TBDLMJ is net of deductions: each polygon's KCMJ is added to its KCDLBM class (田坎 1203), so a zone's land stays whole",
            path.display()
        ));
    }
    let columns = Columns {
        class,
        area,
        id,
        flag,
        deduction,
    };
    read_features(path, &mut layer, &columns, &fields, &mut out)?;
    if out.polygons.is_empty() {
        return Err(Error::zones(path, "has no polygons"));
    }
    check_domain(&out)?;
    Ok(out)
}

/// Reads every feature into `out`, checking polygons for crossing edges
/// on the caller's pool while the layer is still being read (most of the
/// reading's time on a large layer otherwise), a chunk at a time. The
/// first error in the layer's order is the one returned: a feature that
/// cannot be read stops the reading, but the polygons before it are
/// still checked.
fn read_features(
    path: &Path,
    layer: &mut gdal::vector::Layer<'_>,
    columns: &Columns,
    fields: &[(String, OGRFieldType::Type)],
    out: &mut LandUse,
) -> Result<()> {
    let mut fids = Vec::new();
    const CHUNK: usize = 4096;
    let first_bad: Mutex<Option<(usize, Coord<f64>)>> = Mutex::new(None);
    let mut chunks: Vec<Arc<Vec<MultiPolygon<f64>>>> = Vec::new();
    let failed = rayon::in_place_scope(|s| {
        let mut check = |polygons: Vec<MultiPolygon<f64>>, start: usize| {
            let chunk = Arc::new(polygons);
            chunks.push(Arc::clone(&chunk));
            let first_bad = &first_bad;
            s.spawn(move |_| {
                if let Some((k, c)) = chunk
                    .iter()
                    .enumerate()
                    .find_map(|(k, mp)| crossing(mp).map(|c| (k, c)))
                {
                    let mut bad = first_bad.lock().unwrap_or_else(|e| e.into_inner());
                    if bad.is_none_or(|(j, _)| start + k < j) {
                        *bad = Some((start + k, c));
                    }
                }
            });
        };
        // A feature that cannot be read stops the reading, but the
        // polygons before it are still checked: a crossing among them is
        // the first error in the layer's order.
        let mut failed = None;
        for (k, feature) in layer.features().enumerate() {
            if let Err(e) = read_feature(path, &feature, k, columns, fields, out) {
                failed = Some((k, e));
                break;
            }
            fids.push(feature.fid());
            if out.polygons.len() == CHUNK {
                check(std::mem::take(&mut out.polygons), k + 1 - CHUNK);
            }
        }
        let rest = out.polygons.len();
        if rest > 0 {
            check(std::mem::take(&mut out.polygons), fids.len() - rest);
        }
        failed
    });
    let bad = first_bad.into_inner().unwrap_or_else(|e| e.into_inner());
    let bad = match (bad, failed) {
        (Some((k, c)), Some((j, _))) if k < j => Some((k, c)),
        (_, Some((_, e))) => return Err(e),
        (bad, None) => bad,
    };
    out.polygons = chunks
        .into_iter()
        .flat_map(|c| Arc::try_unwrap(c).unwrap_or_else(|c| c.as_ref().clone()))
        .collect();
    if let Some((k, c)) = bad {
        let fid = fids[k].map(|f| f.to_string()).unwrap_or(format!("#{k}"));
        return Err(Error::feature(
            path,
            format!("FID {fid}"),
            format!(
                "is not a valid polygon: two of its edges cross near ({:.3}, {:.3}), so its area is undefined; repair the layer (e.g. `ogr2ogr -makevalid`) and run again",
                c.x, c.y
            ),
        ));
    }
    Ok(())
}

/// The fields a pass reads: (index, type) of each.
struct Columns {
    class: (usize, OGRFieldType::Type),
    area: Option<(usize, OGRFieldType::Type)>,
    id: Option<(usize, OGRFieldType::Type)>,
    flag: Option<(usize, OGRFieldType::Type)>,
    deduction: Option<((usize, OGRFieldType::Type), (usize, OGRFieldType::Type))>,
}

/// Whether a flag field's value says yes: a non-zero number, or text such
/// as `1`, `Y`, `true`, `是`.
fn truthy(feature: &gdal::vector::Feature<'_>, i: usize) -> bool {
    match feature.field_as_string(i).ok().flatten() {
        None => false,
        Some(s) => {
            let t = s.trim();
            t.parse::<f64>().map(|v| v != 0.0).unwrap_or_else(|_| {
                matches!(
                    t.to_ascii_lowercase().as_str(),
                    "y" | "yes" | "t" | "true" | "是"
                )
            })
        }
    }
}

/// Reads one feature into `out`, or says what is wrong with it.
fn read_feature(
    path: &Path,
    feature: &gdal::vector::Feature<'_>,
    k: usize,
    columns: &Columns,
    fields: &[(String, OGRFieldType::Type)],
    out: &mut LandUse,
) -> Result<()> {
    let fid = feature
        .fid()
        .map(|f| f.to_string())
        .unwrap_or(format!("#{k}"));
    let fail = |what: String| Error::feature(path, format!("FID {fid}"), what);
    let code = read_code(feature, columns.class.0, columns.class.1).map_err(|e| {
        fail(format!(
            "{} {e}; every polygon needs its class",
            out.class_field
        ))
    })?;
    let id = match columns.id {
        Some((i, _)) => feature
            .field_as_string(i)
            .ok()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| fid.clone()),
        None => fid.clone(),
    };
    if let (Some(((c, ct), (a, _))), Some(d)) = (columns.deduction, out.deductions.as_mut()) {
        let area = feature.field_as_double(a).ok().flatten().unwrap_or(0.0);
        let code = read_code(feature, c, ct).ok();
        d.push(match code {
            Some(code) if area.is_finite() && area > 0.0 => Some((code, area)),
            _ => None,
        });
    }
    if let (Some((i, _)), Some(flags)) = (columns.flag, out.forest_flags.as_mut()) {
        flags.push(truthy(feature, i));
    }
    if let (Some((i, _)), Some(rec)) = (columns.area, out.recorded.as_mut()) {
        let v = feature
            .field_as_double(i)
            .ok()
            .flatten()
            .filter(|v| v.is_finite() && *v >= 0.0);
        let v = v.ok_or_else(|| {
            fail(format!(
                "{} is empty, negative or not a number; --area-field needs an area (m²) for every polygon",
                fields[i].0
            ))
        })?;
        rec.push(v);
    }
    // A feature without geometry comes back as a null handle, which GDAL
    // reports as empty.
    let geometry = feature
        .geometry()
        .filter(|g| !g.is_empty())
        .ok_or_else(|| fail("has no geometry (or an empty one); every polygon of a land-use layer needs its shape".into()))?;
    // Z or M values are dropped (a copy only then).
    let ty = geometry.geometry_type();
    let g = if gdal::vector::geometry_type_flatten(ty) == ty {
        geometry.to_geo()
    } else {
        let mut flat = geometry.clone();
        flat.flatten_to_2d();
        flat.to_geo()
    };
    let g = g.map_err(|e| {
        fail(format!(
            "geometry type {} cannot be read ({e}); curved geometries need `ogr2ogr -nlt CONVERT_TO_LINEAR`",
            geometry.geometry_name()
        ))
    })?;
    let mp = crate::zones::polygons_of(g)
        .map_err(|kind| fail(format!("is a {kind} where a land-use layer holds polygons")))?;
    check_rings(&mp).map_err(fail)?;
    out.codes.push(code);
    out.ids.push(id);
    out.polygons.push(mp);
    Ok(())
}

/// Every polygon within the CRS's area of use (a vertex kilometres off
/// is a typing or unit error): the layer's extent is checked at once, and
/// only when it fails is the polygon that breaks it looked for.
fn check_domain(lu: &LandUse) -> Result<()> {
    let domain = crate::srs::Domain::new(&lu.crs)?;
    let Some(extent) = super::measure::extent(&lu.polygons) else {
        return Ok(());
    };
    if domain
        .check(&MultiPolygon(vec![extent.to_polygon()]))
        .is_ok()
    {
        return Ok(());
    }
    for (mp, id) in lu.polygons.iter().zip(&lu.ids) {
        if let Err(why) = domain.check(mp) {
            return Err(Error::feature(&lu.path, id, why));
        }
    }
    Ok(())
}

/// The class code of a feature: text as written (`0301`, `0101K`), an
/// integer field as its number (the legend finds `101` as `0101`).
fn read_code(
    feature: &gdal::vector::Feature<'_>,
    i: usize,
    kind: OGRFieldType::Type,
) -> std::result::Result<ClassCode, String> {
    match kind {
        OGRFieldType::OFTInteger | OGRFieldType::OFTInteger64 => feature
            .field_as_integer64(i)
            .ok()
            .flatten()
            .map(ClassCode::int)
            .ok_or_else(|| "is empty".to_string()),
        OGRFieldType::OFTReal => match feature.field_as_double(i).ok().flatten() {
            Some(v) if v.fract() == 0.0 && v.abs() < 9e15 => Ok(ClassCode::int(v as i64)),
            Some(v) => Err(format!("is {v}, not a class code")),
            None => Err("is empty".into()),
        },
        _ => match feature.field_as_string(i).ok().flatten() {
            Some(s) if s.contains('\u{FFFD}') => Err(format!("{s:?} is not valid text")),
            Some(s) => ClassCode::parse(&s).map_err(|e| format!("holds {e}")),
            None => Err("is empty".into()),
        },
    }
}

/// Rings with at least 3 distinct vertices, all finite (OGR closes rings).
fn check_rings(mp: &MultiPolygon<f64>) -> std::result::Result<(), String> {
    if mp.0.is_empty() {
        return Err("has an empty geometry".into());
    }
    let finite = |c: &Coord<f64>| c.x.is_finite() && c.y.is_finite();
    for p in &mp.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            if !ring.0.iter().all(finite) {
                return Err("has a vertex that is not a finite number".into());
            }
            if ring.0.len() < 4 {
                return Err("has a ring of fewer than 3 vertices".into());
            }
        }
    }
    Ok(())
}

/// One edge of a polygon's rings, for [`crossing`].
struct Edge {
    ring: usize,
    i: usize,
    n: usize,
    a: Coord<f64>,
    b: Coord<f64>,
}

/// A point where two edges of the polygon's rings cross (a bow-tie, a hole
/// crossing its exterior, two parts overlapping), if any: a sweep over the
/// edges sorted by their left end. Edges that only touch are allowed.
fn crossing(mp: &MultiPolygon<f64>) -> Option<Coord<f64>> {
    let mut edges = Vec::new();
    let rings =
        mp.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()));
    for (ring, r) in rings.enumerate() {
        let n = r.0.len() - 1;
        edges.extend(r.0.windows(2).enumerate().map(|(i, w)| Edge {
            ring,
            i,
            n,
            a: w[0],
            b: w[1],
        }));
    }
    edges.sort_by(|e, f| e.a.x.min(e.b.x).total_cmp(&f.a.x.min(f.b.x)));
    // −1, 0 or 1 (f64::signum would give 1 for 0).
    let orient = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>| {
        let v = (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
        (v > 0.0) as i8 - (v < 0.0) as i8
    };
    for (k, e) in edges.iter().enumerate() {
        let xmax = e.a.x.max(e.b.x);
        let (ylo, yhi) = (e.a.y.min(e.b.y), e.a.y.max(e.b.y));
        for f in &edges[k + 1..] {
            if f.a.x.min(f.b.x) > xmax {
                break;
            }
            let adjacent =
                e.ring == f.ring && (e.i.abs_diff(f.i) == 1 || e.i.abs_diff(f.i) == e.n - 1);
            if adjacent || f.a.y.max(f.b.y) < ylo || f.a.y.min(f.b.y) > yhi {
                continue;
            }
            if orient(e.a, e.b, f.a) * orient(e.a, e.b, f.b) < 0
                && orient(f.a, f.b, e.a) * orient(f.a, f.b, e.b) < 0
            {
                return Some(f.a);
            }
        }
    }
    None
}

/// Reads the layer; a GBK shapefile without `.cpg` (text not valid UTF-8)
/// is read again as GBK with a note, as zone layers are.
pub(super) fn read(path: &Path, opts: &LandUseOptions) -> Result<LandUse> {
    let raw_bytes = opts.encoding.is_none() && ansi_without_cpg(path);
    let first = opts.encoding.as_deref().or(raw_bytes.then_some(""));
    match read_pass(path, opts, first) {
        Err(Error::ZoneGeometry { reason, .. })
            if reason.contains("is not valid text") && opts.encoding.is_none() =>
        {
            let mut lu = read_pass(path, opts, Some(CHINESE_ENCODING))?;
            lu.notes.push(format!(
                "{}: text is not valid UTF-8 and there is no .cpg saying otherwise; read it as GBK",
                path.display()
            ));
            Ok(lu)
        }
        other => other,
    }
}
