"""Shared code of qingshan's peer checks and benchmark (benches/peers/).

Everything here computes per-zone class areas by routes that share no code
with qingshan (exactextract, shapely + pyproj), and compares them with a
``qingshan.stats/1`` JSON document. The scripts in this directory are thin
command-line wrappers around these functions:

- ``exactextract_check.py``   exactextract coverage fractions -> class areas
- ``ellipsoid_reference.py``  shapely cell intersections + pyproj.Geod areas
- ``ee_worker.py``            exactextract run timed by ``run.py``
- ``run.py``                  side-by-side benchmark

A *reference* is a plain dict shaped like qingshan's output, so that one
comparison function serves every script::

    {"schema": "qingshan.peers.reference/1", "method": "...", "crs": "EPSG:...",
     "zones": [{"id": "R0001", "valid_area_m2": .., "nodata_area_m2": ..,
                "outside_area_m2": .., "zone_area_m2": .. (optional),
                "classes": {"1": .., "2": ..}}]}

``outside_area_m2`` is the part of the zone that lies outside the raster's
extent: no cell covers it, so it is neither valid nor nodata.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REFERENCE_SCHEMA = "qingshan.peers.reference/1"
QINGSHAN_SCHEMA = "qingshan.stats/1"

# Exit codes shared by the check scripts.
EXIT_AGREE = 0
EXIT_DISAGREE = 1
EXIT_USAGE = 2

# Forest classes of the legends the checks know (DESIGN.md: CLCD forest = {2}).
FOREST_CLASSES = {"clcd": {"2"}}


class UsageError(Exception):
    """Bad arguments or unreadable inputs: the check could not be run (exit 2)."""


# --------------------------------------------------------------------------
# Rasters
# --------------------------------------------------------------------------


@dataclass
class RasterInfo:
    """The grid of a raster (or of a VRT mosaic of several tiles)."""

    path: str
    crs: object  # pyproj.CRS
    transform: object  # affine.Affine
    width: int
    height: int
    nodata: float | None
    dtype: str

    @property
    def is_geographic(self) -> bool:
        return bool(self.crs.is_geographic)

    @property
    def cell_area_planar(self) -> float:
        """|a·e − b·d| in the CRS's squared linear unit (projected grids)."""
        t = self.transform
        area = abs(t.a * t.e - t.b * t.d)
        unit = self.crs.axis_info[0].unit_conversion_factor if self.crs.axis_info else 1.0
        return area * unit * unit

    @property
    def bounds(self):
        t = self.transform
        xs = [t.c, t.c + t.a * self.width, t.c + t.b * self.height,
              t.c + t.a * self.width + t.b * self.height]
        ys = [t.f, t.f + t.d * self.width, t.f + t.e * self.height,
              t.f + t.d * self.width + t.e * self.height]
        return min(xs), min(ys), max(xs), max(ys)


def mosaic_path(rasters: list[str], tmpdir: str) -> str:
    """One raster path for a list of tiles: the raster itself, or a VRT of them
    built with gdalbuildvrt in ``tmpdir`` (tiles of one mosaic; overlaps: the
    last tile wins, as in GDAL)."""
    for r in rasters:
        if not os.path.exists(r) and not r.startswith("/vsi"):
            raise UsageError(f"raster not found: {r}")
    if len(rasters) == 1:
        return rasters[0]
    vrt = os.path.join(tmpdir, "mosaic.vrt")
    proc = subprocess.run(["gdalbuildvrt", "-q", vrt, *rasters], capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(vrt):
        raise UsageError(f"gdalbuildvrt failed: {proc.stderr.strip()}")
    return vrt


def open_raster(path: str) -> RasterInfo:
    import rasterio
    from pyproj import CRS

    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise UsageError(f"{path}: raster has no CRS")
            return RasterInfo(
                path=path,
                crs=CRS.from_wkt(ds.crs.to_wkt()),
                transform=ds.transform,
                width=ds.width,
                height=ds.height,
                nodata=ds.nodata,
                dtype=ds.dtypes[0],
            )
    except rasterio.errors.RasterioIOError as e:
        raise UsageError(f"cannot open raster {path}: {e}") from e


# --------------------------------------------------------------------------
# Zones
# --------------------------------------------------------------------------


@dataclass
class Zones:
    """Zone ids, shapely geometries and their CRS (as read, not reprojected)."""

    ids: list[str]
    geoms: np.ndarray  # of shapely geometries
    crs: object  # pyproj.CRS
    path: str = ""


def _id_str(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def load_zones(path: str, id_field: str | None = None) -> Zones:
    """Reads polygons and ids the way qingshan's contract defines ids: the
    ``id_field`` attribute if given, else the GeoJSON feature ``id``, else the
    0-based feature index. GeoJSON is parsed directly (to see feature ids);
    other formats go through geopandas. GeoJSON without a ``crs`` member is
    EPSG:4326 lon/lat (RFC 7946)."""
    import shapely
    from pyproj import CRS

    if not os.path.exists(path):
        raise UsageError(f"zones not found: {path}")
    if path.lower().endswith((".geojson", ".json")):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot read zones {path}: {e}") from e
        feats = doc.get("features") if doc.get("type") == "FeatureCollection" else None
        if feats is None:
            raise UsageError(f"{path}: not a GeoJSON FeatureCollection")
        crs_member = doc.get("crs")
        if crs_member:
            name = crs_member.get("properties", {}).get("name")
            crs = CRS.from_user_input(name)
        else:
            crs = CRS.from_epsg(4326)
        ids, geoms = [], []
        for i, feat in enumerate(feats):
            props = feat.get("properties") or {}
            if id_field:
                if props.get(id_field) is None:
                    raise UsageError(f"{path}: feature {i} has no attribute {id_field!r}")
                ids.append(_id_str(props[id_field]))
            elif feat.get("id") is not None:
                ids.append(_id_str(feat["id"]))
            else:
                ids.append(str(i))
            geom = feat.get("geometry")
            geoms.append(shapely.geometry.shape(geom) if geom else shapely.Polygon())
        geoms = np.array(geoms, dtype=object)
    else:
        import geopandas as gpd

        gdf = gpd.read_file(path, fid_as_index=True)
        if gdf.crs is None:
            raise UsageError(f"{path}: zones have no CRS")
        crs = CRS.from_user_input(gdf.crs)
        if id_field:
            if id_field not in gdf.columns:
                raise UsageError(f"{path}: no attribute {id_field!r}")
            ids = [_id_str(v) for v in gdf[id_field]]
        else:
            ids = [str(i) for i in range(len(gdf))]
        geoms = np.array(list(gdf.geometry.values), dtype=object)
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise UsageError(f"{path}: duplicate zone ids {dup}")
    geoms = shapely.force_2d(geoms)
    return Zones(ids=ids, geoms=geoms, crs=crs, path=path)


def reproject(geoms: np.ndarray, src, dst, densify: float | None = None) -> np.ndarray:
    """Reprojects shapely geometries (what ``GeoSeries.to_crs`` does: a pyproj
    Transformer with x/y = lon/lat order applied to every vertex), optionally
    after ``shapely.segmentize`` in the source CRS to ``densify`` units."""
    import shapely
    from pyproj import Transformer

    if densify:
        geoms = shapely.segmentize(geoms, densify)
    if src == dst or src.equals(dst, ignore_axis_order=True):
        return geoms
    tr = Transformer.from_crs(src, dst, always_xy=True)

    def fn(coords):
        x, y = tr.transform(coords[:, 0], coords[:, 1], errcheck=True)
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def crs_label(crs) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


# --------------------------------------------------------------------------
# Ellipsoidal cell areas (geographic grids)
# --------------------------------------------------------------------------


def geod_of(crs):
    """pyproj.Geod on the ellipsoid of ``crs`` (GRS80 for EPSG:4490, WGS84 for
    EPSG:4326)."""
    return crs.get_geod()


def row_cell_areas(geod, info: RasterInfo, rows: np.ndarray) -> np.ndarray:
    """Ellipsoidal area (m²) of one cell in each of ``rows`` of a north-up
    geographic grid: the geodesic area of the cell's 4-corner box. (Its top and
    bottom edges are geodesics, not parallels; for 30 m cells the difference
    from the parallel-bounded quadrangle is ~1e-10 relative.)"""
    t = info.transform
    if t.b != 0 or t.d != 0:
        raise UsageError("rotated geographic grids are not supported by the peer checks")
    lon0, lon1 = t.c, t.c + t.a
    out = np.empty(len(rows))
    for k, r in enumerate(rows):
        lat0 = t.f + t.e * r
        lat1 = lat0 + t.e
        a, _ = geod.polygon_area_perimeter([lon0, lon1, lon1, lon0], [lat0, lat0, lat1, lat1])
        out[k] = abs(a)
    return out


def geodesic_area(geod, geom) -> float:
    """Geodesic area (m²) of a lon/lat polygon or multipolygon, holes
    subtracted (exterior counter-clockwise, holes clockwise)."""
    import shapely

    if geom is None or geom.is_empty:
        return 0.0
    polys = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    total = 0.0
    for g in polys:
        a, _ = geod.geometry_area_perimeter(shapely.orient_polygons(g))
        total += abs(a)
    return total


# --------------------------------------------------------------------------
# Reference 1: exactextract
# --------------------------------------------------------------------------


def _features(ids, geoms):
    import shapely

    return [
        {"type": "Feature", "properties": {"__qid": zid}, "geometry": shapely.geometry.mapping(g)}
        for zid, g in zip(ids, geoms)
    ]


def exactextract_reference(info: RasterInfo, ids: list[str], geoms: np.ndarray,
                           strategy: str = "feature-sequential") -> dict:
    """Per-zone class areas from exactextract's exact coverage fractions.
    ``geoms`` must already be in the raster's CRS.

    Projected grids: ops ``unique``, ``frac``, ``count`` and
    ``count(default_value=…)``; class area = frac × count × cell area (count =
    Σ coverage of non-nodata cells, so frac × count = Σ coverage of the class's
    cells), nodata area = (count with default_value − count) × cell area.

    Geographic grids: exactextract's own areas are planar in degrees
    (``area_cartesian``) or on a sphere (``area_spherical_m2``, ~0.2 % off the
    ellipsoid at 35°N), so the ops are ``values``, ``coverage``, ``cell_id``
    (nodata cells kept via ``default_value``) and each cell's coverage is
    multiplied by its row's ellipsoidal cell area from pyproj.Geod.
    """
    import shapely
    from exactextract import exact_extract

    feats = _features(ids, geoms)
    planar_zone = {zid: float(shapely.area(g)) for zid, g in zip(ids, geoms)}
    nd = info.nodata
    has_nd = nd is not None and not (isinstance(nd, float) and math.isnan(nd))
    zones = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if not info.is_geographic:
            cell = info.cell_area_planar
            ops = ["unique", "frac", "count"]
            if has_nd:
                ops.append(f"count_all=count(default_value={_num(nd)})")
            res = exact_extract(info.path, feats, ops, include_cols=["__qid"], strategy=strategy)
            by_id = {f["properties"]["__qid"]: f["properties"] for f in res}
            for zid in ids:
                p = by_id.get(zid, {})
                count = float(p.get("count") or 0.0)
                count_all = float(p.get("count_all") or 0.0) if has_nd else count
                classes = {}
                uniq = p.get("unique")
                frac = p.get("frac")
                if uniq is not None and len(uniq):
                    for v, fr in zip(np.asarray(uniq).tolist(), np.asarray(frac).tolist()):
                        classes[_class_key(v)] = classes.get(_class_key(v), 0.0) + fr * count * cell
                covered = count_all * cell
                zones.append({
                    "id": zid,
                    "valid_area_m2": count * cell,
                    "nodata_area_m2": max(count_all - count, 0.0) * cell,
                    "outside_area_m2": max(planar_zone[zid] - covered, 0.0),
                    "planar_zone_area_m2": planar_zone[zid],
                    "classes": classes,
                })
            method = "exactextract unique+frac+count (frac*count*cell area)"
        else:
            geod = geod_of(info.crs)
            kw = f"(default_value={_num(nd)})" if has_nd else ""
            ops = [f"values{kw}", f"coverage{kw}", f"cell_id{kw}"]
            res = exact_extract(info.path, feats, ops, include_cols=["__qid"], strategy=strategy)
            by_id = {f["properties"]["__qid"]: f["properties"] for f in res}
            for zid, g in zip(ids, geoms):
                p = by_id.get(zid, {})
                vals = np.asarray(p.get("values", []))
                cov = np.asarray(p.get("coverage", []), dtype=np.float64)
                cid = np.asarray(p.get("cell_id", []), dtype=np.int64)
                urows, inv = np.unique(cid // info.width, return_inverse=True)
                w = cov * row_cell_areas(geod, info, urows)[inv] if len(cid) else cov
                is_nd = (vals == nd) if has_nd else np.zeros(len(vals), bool)
                classes = {}
                if len(vals):
                    uv, inv = np.unique(vals[~is_nd], return_inverse=True)
                    sums = np.bincount(inv, weights=w[~is_nd], minlength=len(uv))
                    classes = {_class_key(v): float(s) for v, s in zip(uv.tolist(), sums.tolist())}
                zarea = geodesic_area(geod, g)
                covered = float(w.sum())
                zones.append({
                    "id": zid,
                    "valid_area_m2": float(w[~is_nd].sum()),
                    "nodata_area_m2": float(w[is_nd].sum()),
                    "outside_area_m2": max(zarea - covered, 0.0),
                    "geodesic_zone_area_m2": zarea,
                    "classes": classes,
                })
            method = "exactextract values+coverage+cell_id x ellipsoidal row area (pyproj.Geod)"
    return {"schema": REFERENCE_SCHEMA, "method": method, "crs": crs_label(info.crs), "zones": zones}


def _num(v) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _class_key(v) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


# --------------------------------------------------------------------------
# Reference 2: shapely intersections + geodesic areas (geographic rasters)
# --------------------------------------------------------------------------


def cell_size_m(info: RasterInfo) -> float:
    """The smaller side (m) of a cell at the raster's centre latitude."""
    geod = geod_of(info.crs)
    t = info.transform
    x0, y0, x1, y1 = info.bounds
    lat = (y0 + y1) / 2
    lon = (x0 + x1) / 2
    _, _, dx = geod.inv(lon, lat, lon + abs(t.a), lat)
    _, _, dy = geod.inv(lon, lat, lon, lat + abs(t.e))
    return min(dx, dy)


def ellipsoid_reference(info: RasterInfo, ids: list[str], geoms: np.ndarray) -> dict:
    """Independent ellipsoidal reference for a north-up lon/lat grid.

    ``geoms`` are in the raster's CRS (densified before reprojection by the
    caller). For each zone, the cells of its bbox window are split into
    boundary cells (touching the polygon's boundary) and the rest; a
    non-boundary cell is wholly inside or wholly outside, decided by its
    centre. Interior cells count their row's ellipsoidal cell area; boundary
    cells count the geodesic area of ``cell ∩ polygon``. Sums per class,
    nodata apart; the zone area is the geodesic area of the polygon.
    """
    import rasterio
    import shapely
    from rasterio.windows import Window

    if not info.is_geographic:
        raise UsageError("ellipsoid_reference.py needs a geographic (lon/lat) raster")
    t = info.transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise UsageError("ellipsoid_reference.py needs a north-up grid")
    geod = geod_of(info.crs)
    nd = info.nodata
    has_nd = nd is not None and not (isinstance(nd, float) and math.isnan(nd))
    zones = []
    with rasterio.open(info.path) as ds:
        for zid, g in zip(ids, geoms):
            zarea = geodesic_area(geod, g)
            rec = {"id": zid, "zone_area_m2": zarea, "valid_area_m2": 0.0,
                   "nodata_area_m2": 0.0, "outside_area_m2": 0.0, "classes": {}}
            zones.append(rec)
            if g.is_empty:
                continue
            minx, miny, maxx, maxy = g.bounds
            c0 = max(int(math.floor((minx - t.c) / t.a)), 0)
            c1 = min(int(math.ceil((maxx - t.c) / t.a)), info.width)
            r0 = max(int(math.floor((maxy - t.f) / t.e)), 0)
            r1 = min(int(math.ceil((miny - t.f) / t.e)), info.height)
            if c0 >= c1 or r0 >= r1:
                rec["outside_area_m2"] = zarea
                continue
            data = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
            rows, cols = np.mgrid[r0:r1, c0:c1]
            rows, cols = rows.ravel(), cols.ravel()
            vals = data.ravel()
            x0 = t.c + cols * t.a
            y0 = t.f + rows * t.e  # top edge
            boxes = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
            boundary = shapely.boundary(g)
            shapely.prepare(boundary)
            on_b = shapely.intersects(boundary, boxes)
            shapely.prepare(g)
            inside = shapely.contains_xy(g, x0 + t.a / 2, y0 + t.e / 2) & ~on_b
            # area of every contributing cell or piece
            areas = np.zeros(len(vals))
            ra = row_cell_areas(geod, info, np.arange(r0, r1))
            areas[inside] = ra[rows[inside] - r0]
            pieces = shapely.intersection(boxes[on_b], g)
            areas[on_b] = [geodesic_area(geod, p) for p in pieces]
            take = inside | on_b
            v, a = vals[take], areas[take]
            is_nd = (v == nd) if has_nd else np.zeros(len(v), bool)
            if (~is_nd).any():
                uv, inv = np.unique(v[~is_nd], return_inverse=True)
                sums = np.bincount(inv, weights=a[~is_nd], minlength=len(uv))
                rec["classes"] = {_class_key(x): float(s) for x, s in zip(uv.tolist(), sums.tolist())}
            rec["valid_area_m2"] = float(a[~is_nd].sum())
            rec["nodata_area_m2"] = float(a[is_nd].sum())
            rec["outside_area_m2"] = max(zarea - float(a.sum()), 0.0)
    return {"schema": REFERENCE_SCHEMA, "method": "shapely cell∩zone + pyproj.Geod geodesic areas",
            "crs": crs_label(info.crs), "zones": zones}


# --------------------------------------------------------------------------
# qingshan output and the comparison
# --------------------------------------------------------------------------


def load_qingshan(path: str, schema: str = QINGSHAN_SCHEMA, list_key: str = "zones") -> dict:
    """Reads a qingshan JSON document, checking its ``schema`` and that it has
    a ``list_key`` list (``zones`` for stats/change, ``polygons`` for redline)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read qingshan JSON {path}: {e}") from e
    if not isinstance(doc, dict) or doc.get("schema") != schema:
        raise UsageError(f"{path}: schema is {doc.get('schema') if isinstance(doc, dict) else None!r}, "
                         f"expected {schema!r}")
    if not isinstance(doc.get(list_key), list):
        raise UsageError(f"{path}: no {list_key!r} list")
    return doc


@dataclass
class Mismatch:
    zone: str
    item: str  # "class 2", "valid_area_m2", ...
    qingshan: float | None
    reference: float | None
    rel: float
    note: str = ""
    kind: str = "zone"  # what ``zone`` names: "zone", "polygon", "town", "layer"

    def line(self) -> str:
        def f(v):
            if v is None:
                return "missing"
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return f"{v:.6f}"
            return json.dumps(v, ensure_ascii=False)
        extra = f"  ({self.note})" if self.note else ""
        return (f"  {self.kind} {self.zone!s:>10}  {self.item:<16} qingshan {f(self.qingshan):>20}  "
                f"reference {f(self.reference):>20}  rel {self.rel:.3e}{extra}")


@dataclass
class Comparison:
    zones: int = 0
    classes: int = 0
    max_rel_class: float = 0.0  # |d| / class area
    max_rel_zone: float = 0.0  # |d| / zone valid area
    worst: str = "-"
    mismatches: list[Mismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict:
        return {
            "ok": self.ok, "zones": self.zones, "classes": self.classes,
            "max_rel_class": self.max_rel_class, "max_rel_zone": self.max_rel_zone,
            "worst": self.worst, "notes": self.notes,
            "mismatches": [m.__dict__ for m in self.mismatches],
        }


def _rel(a: float, b: float) -> float:
    d = abs(a - b)
    m = max(abs(a), abs(b))
    return d / m if m > 0 else 0.0


def compare(qdoc: dict, ref: dict, rtol: float, atol: float,
            check_zone_area: bool = False, zone_area_rtol: float | None = None) -> Comparison:
    """Compares a qingshan.stats/1 document with a reference.

    A class area agrees when |q − r| ≤ max(atol, rtol·max(|q|, |r|)) (relative
    to the class area, with an absolute floor) and |q − r| ≤ max(atol,
    rtol·valid area) (relative to the zone). Classes present on one side only
    count as 0 on the other. valid_area_m2 is compared the same way; nodata
    area may either exclude or include the part of the zone outside the
    raster; with ``check_zone_area`` zone_area_m2 is compared too. For the
    CLCD legend forest_area_m2 must equal the reference's class 2 area and
    forest_cover that over the valid area."""
    cmp = Comparison()
    qz = {}
    for z in qdoc["zones"]:
        zid = _id_str(z.get("id"))
        if zid in qz:
            cmp.mismatches.append(Mismatch(zid, "duplicate id", None, None, math.inf))
        qz[zid] = z
    rz = {z["id"]: z for z in ref["zones"]}
    worst_rel = -1.0

    def num(z, key):
        v = z.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    for zid in sorted(set(qz) | set(rz), key=_sort_key):
        if zid not in qz:
            cmp.mismatches.append(Mismatch(zid, "zone", None, rz[zid]["valid_area_m2"], math.inf,
                                           "zone missing from qingshan output"))
            continue
        if zid not in rz:
            cmp.mismatches.append(Mismatch(zid, "zone", num(qz[zid], "valid_area_m2"), None, math.inf,
                                           "zone not in the zones file"))
            continue
        q, r = qz[zid], rz[zid]
        cmp.zones += 1
        valid_ref = r["valid_area_m2"]
        scale_zone = max(valid_ref, num(q, "valid_area_m2") or 0.0)

        def check(item, qv, rv, rel_to_zone=True, rt=rtol):
            nonlocal worst_rel
            if qv is None:
                cmp.mismatches.append(Mismatch(zid, item, None, rv, math.inf, "missing or not a number"))
                return
            d = abs(qv - rv)
            rel = _rel(qv, rv)
            relz = d / scale_zone if scale_zone > 0 else (0.0 if d == 0 else math.inf)
            cmp.max_rel_class = max(cmp.max_rel_class, rel if d > atol else 0.0)
            if rel_to_zone:
                cmp.max_rel_zone = max(cmp.max_rel_zone, relz)
            if rel > worst_rel and d > 0:
                worst_rel = rel
                cmp.worst = f"zone {zid} {item} (rel {rel:.3e}, |d| {d:.3e} m²)"
            ok = d <= max(atol, rt * max(abs(qv), abs(rv)))
            if rel_to_zone:
                ok = ok and d <= max(atol, rt * scale_zone)
            if not ok:
                cmp.mismatches.append(Mismatch(zid, item, qv, rv, rel))

        qc = q.get("classes")
        if not isinstance(qc, dict):
            cmp.mismatches.append(Mismatch(zid, "classes", None, None, math.inf, "no 'classes' object"))
            qc = {}
        for cls in sorted(set(qc) | set(r["classes"]), key=_sort_key):
            qv = qc.get(cls, 0.0)
            qv = float(qv) if isinstance(qv, (int, float)) else None
            check(f"class {cls}", qv, r["classes"].get(cls, 0.0))
            cmp.classes += 1
        check("valid_area_m2", num(q, "valid_area_m2"), valid_ref)

        qn = num(q, "nodata_area_m2")
        rn, out = r["nodata_area_m2"], r.get("outside_area_m2", 0.0)
        significant = out > max(atol, rtol * (valid_ref + rn))
        if qn is not None and significant and abs(qn - (rn + out)) < abs(qn - rn):
            check("nodata_area_m2", qn, rn + out, rel_to_zone=False)
            cmp.notes.append(f"zone {zid}: nodata_area_m2 includes the {out:.3f} m² outside the raster")
        else:
            check("nodata_area_m2", qn, rn, rel_to_zone=False)

        if check_zone_area and "zone_area_m2" in r:
            check("zone_area_m2", num(q, "zone_area_m2"), r["zone_area_m2"], rel_to_zone=False,
                  rt=zone_area_rtol or rtol)

        forest = FOREST_CLASSES.get(str(qdoc.get("legend", "")).lower())
        if forest is not None:
            fa = sum(r["classes"].get(c, 0.0) for c in forest)
            check("forest_area_m2", num(q, "forest_area_m2"), fa)
            fc = num(q, "forest_cover")
            rc = fa / valid_ref if valid_ref > 0 else 0.0
            if fc is None or abs(fc - rc) > max(rtol, atol / valid_ref if valid_ref > 0 else 0):
                cmp.mismatches.append(Mismatch(zid, "forest_cover", fc, rc, _rel(fc or 0.0, rc)))
    return cmp


def _sort_key(s: str):
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


def zone_area_notes(qdoc: dict, ref: dict) -> list[str]:
    """For a projected raster, which definition qingshan's zone_area_m2 follows
    (informational; the contract defines it as the geodesic area)."""
    qz = {_id_str(z.get("id")): z for z in qdoc["zones"]}
    notes = []
    for key, label in (("planar_zone_area_m2", "planar area in the raster CRS"),
                       ("geodesic_zone_area_m2", "geodesic area of the reprojected polygon")):
        rels = [_rel(float(qz[z["id"]]["zone_area_m2"]), z[key]) for z in ref["zones"]
                if key in z and z["id"] in qz and isinstance(qz[z["id"]].get("zone_area_m2"), (int, float))]
        if rels:
            notes.append(f"zone_area_m2 vs {label}: max rel diff {max(rels):.3e} (informational)")
    return notes


def print_summary(title: str, ref: dict, cmp: Comparison, rtol: float, atol: float,
                  out=sys.stdout, max_lines: int = 50) -> None:
    verdict = "AGREE" if cmp.ok else "DISAGREE"
    print(f"{title}: {verdict}", file=out)
    print(f"  reference   {ref['method']}  ({ref['crs']})", file=out)
    print(f"  compared    {cmp.zones} zones, {cmp.classes} zone×class areas "
          f"(rtol {rtol:g}, atol {atol:g} m²)", file=out)
    print(f"  max rel     {cmp.max_rel_class:.3e} of the class area, "
          f"{cmp.max_rel_zone:.3e} of the zone's valid area", file=out)
    print(f"  worst       {cmp.worst}", file=out)
    for n in cmp.notes[:10]:
        print(f"  note        {n}", file=out)
    if len(cmp.notes) > 10:
        print(f"  note        … {len(cmp.notes) - 10} more notes", file=out)
    if cmp.mismatches:
        print(f"  {len(cmp.mismatches)} disagreements:", file=out)
        for m in cmp.mismatches[:max_lines]:
            print(m.line(), file=out)
        if len(cmp.mismatches) > max_lines:
            print(f"  … {len(cmp.mismatches) - max_lines} more", file=out)


def write_json(path: str | os.PathLike, obj) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def temp_dir():
    return tempfile.TemporaryDirectory(prefix="qingshan-peers-")


# --------------------------------------------------------------------------
# Command-line plumbing shared by the check scripts
# --------------------------------------------------------------------------


def check_arg_parser(description: str, default_rtol: float, default_atol: float,
                     many_rasters: bool = True):
    import argparse

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--raster", nargs="+" if many_rasters else 1, required=True, metavar="R",
                   help="land-cover raster; several = tiles of one mosaic (a VRT is built)")
    p.add_argument("--zones", required=True, metavar="Z", help="zones (GeoJSON or any OGR format)")
    p.add_argument("--id-field", metavar="F", help="zone id attribute (default: feature id, else index)")
    p.add_argument("--qingshan", required=True, metavar="Q.json", help="qingshan stats --format json output")
    p.add_argument("--rtol", type=float, default=default_rtol,
                   help=f"relative tolerance (default {default_rtol:g})")
    p.add_argument("--atol-m2", type=float, default=default_atol,
                   help=f"absolute floor in m² (default {default_atol:g})")
    p.add_argument("--save-reference", metavar="PATH", help="also write the reference areas as JSON")
    return p


def run_check(args, title: str, build_reference, check_zone_area: bool) -> int:
    """Builds the reference with ``build_reference(raster_info, zones)``,
    compares, prints the summary; returns the exit code."""
    import time

    try:
        t0 = time.perf_counter()
        with temp_dir() as tmp:
            info = open_raster(mosaic_path(list(args.raster), tmp))
            zones = load_zones(args.zones, args.id_field)
            qdoc = load_qingshan(args.qingshan)
            ref = build_reference(info, zones)
        elapsed = time.perf_counter() - t0
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - a crashed reference is not a disagreement
        import traceback

        traceback.print_exc()
        print(f"error: the reference could not be computed: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.save_reference:
        write_json(args.save_reference, ref)
    cmp = compare(qdoc, ref, args.rtol, args.atol_m2, check_zone_area=check_zone_area)
    if qdoc.get("crs"):
        try:
            from pyproj import CRS
            if not CRS.from_user_input(qdoc["crs"]).equals(info.crs, ignore_axis_order=True):
                cmp.notes.append(f"qingshan reports crs {qdoc['crs']}, the raster is {crs_label(info.crs)}")
        except Exception:  # noqa: BLE001 - an unparsable label is only a note
            cmp.notes.append(f"qingshan reports crs {qdoc['crs']!r} (not parsable by pyproj)")
    if not check_zone_area:
        cmp.notes.extend(zone_area_notes(qdoc, ref))
    print_summary(title, ref, cmp, args.rtol, args.atol_m2)
    print(f"  time        {elapsed:.2f} s for the reference")
    return EXIT_AGREE if cmp.ok else EXIT_DISAGREE
