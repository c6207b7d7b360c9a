"""Shared code of qingshan's peer checks and benchmark (benches/peers/).

Everything here computes per-zone class areas by routes that share no code
with qingshan (exactextract, shapely + pyproj), and compares them with a
``qingshan.stats/1`` JSON document. The scripts in this directory are thin
command-line wrappers around these functions:

- ``exactextract_check.py``   exactextract coverage fractions -> class areas
- ``ellipsoid_reference.py``  shapely cell intersections + pyproj.Geod areas
- ``ee_worker.py``            exactextract run timed by ``run.py``
- ``run.py``                  side-by-side benchmark
- ``change_check.py``         ``qingshan.change/1`` transition matrices vs
                              exactextract on a combined before×K+after raster
- ``redline_reference.py``    ``qingshan.redline/1`` version diff vs shapely
                              overlays + pyproj.Geod areas
- ``selftest.py``             the two checks above on documents built by other routes

A *reference* is a plain dict shaped like qingshan's output, so that one
comparison function serves every script::

    {"schema": "qingshan.peers.reference/1", "method": "...", "crs": "EPSG:...",
     "zones": [{"id": "R0001", "valid_area_m2": .., "nodata_area_m2": ..,
                "outside_area_m2": .., "zone_area_m2": .. (optional),
                "classes": {"1": .., "2": ..}}]}

``outside_area_m2`` is the part of the zone that lies outside the raster's
extent: no cell covers it, so it is neither valid nor nodata.

The change reference has the same zones with ``transitions`` ({from: {to:
m²}}) instead of ``classes``; the red-line reference has the fields of a
``qingshan.redline/1`` diff. Both are compared item by item by a ``Checker``.
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


def synthetic_set(setdir: Path, width: int, height: int, tiles_x: int, tiles_y: int, zones: int,
                  years: str = "2019", skip_generate: bool = False, log=print) -> bool:
    """Makes a benchmark set with `qingshan-fixtures synthetic` in `setdir`
    unless one made with the same parameters is there (recorded in
    SETDIR/../NAME.params.json). With `skip_generate` an existing set is
    used whatever made it. Returns whether it generated."""
    params = {"width": width, "height": height, "zones": zones,
              "tiles_x": tiles_x, "tiles_y": tiles_y, "years": years}
    marker = setdir.parent / f"{setdir.name}.params.json"
    if any(setdir.glob("*.vrt")):
        old = json.loads(marker.read_text()) if marker.exists() else None
        if skip_generate or old is None or old == params:
            log(f"using the existing set {setdir}" + ("" if old in (None, params) else
                f" (made with {old}, not {params}: --skip-generate)"))
            return False
        log(f"{setdir} was made with {old}; regenerating with {params}")
        import shutil
        shutil.rmtree(setdir)
    elif skip_generate:
        raise UsageError(f"--skip-generate but no *.vrt under {setdir}")
    root = Path(__file__).resolve().parents[2]
    cmd = ["cargo", "run", "--release", "-q", "-p", "qingshan-fixtures", "--", "synthetic",
           "--out", str(setdir), "--width", str(width), "--height", str(height),
           "--tiles-x", str(tiles_x), "--tiles-y", str(tiles_y), "--zones", str(zones), "--years", years]
    log("generating: " + " ".join(cmd))
    proc = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the generator failed (exit {proc.returncode})")
    (setdir.parent / f"{setdir.name}.generate.out").write_text(proc.stdout)
    marker.write_text(json.dumps(params))
    return True


def timed(cmd: list, what: str):
    """Wall time (s), peak RSS (MB) and standard output of a command. The
    peak comes from /usr/bin/time, not from wait4: a child forked from
    this Python process would report the interpreter's own memory (numpy,
    GDAL, geopandas loaded) as its peak."""
    import time

    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {proc.stderr}")
    return dt, int(proc.stderr.strip().splitlines()[-1]) / 1024.0, proc.stdout


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
            # The feature id is OGR's FID (fid_as_index): 0-based in
            # Shapefiles, the fid column (from 1) in GeoPackages.
            ids = [_id_str(i) for i in gdf.index]
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


def zones_on_raster(zones: "Zones", info: RasterInfo) -> np.ndarray:
    """The zones' geometries in the raster's CRS. Zones in another CRS are
    densified in their own CRS to about one raster cell first: their edges
    are straight in the CRS the file stores them in (qingshan does the
    same; vertex-only reprojection would cut chords across the curved image
    of each long edge)."""
    densify = None
    if not (zones.crs == info.crs or zones.crs.equals(info.crs, ignore_axis_order=True)):
        cell_m = min(abs(info.transform.a), abs(info.transform.e))
        if info.is_geographic:
            cell_m *= 111_320.0
        densify = cell_m / 111_320.0 if zones.crs.is_geographic else cell_m
    return reproject(zones.geoms, zones.crs, info.crs, densify=densify)


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
            if valid_ref <= 0:
                # No valid cell: the cover is undefined, and qingshan writes null.
                if q.get("forest_cover") is not None:
                    cmp.mismatches.append(Mismatch(zid, "forest_cover", fc, None, math.inf,
                                                   "no valid area, so forest_cover must be null"))
            else:
                rc = fa / valid_ref
                if fc is None or abs(fc - rc) > max(rtol, atol / valid_ref):
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
    """The summary of a per-zone per-class comparison with a reference
    computed by ``ref['method']``."""
    print(f"{title}: {'AGREE' if cmp.ok else 'DISAGREE'}", file=out)
    print(f"  reference   {ref['method']}  ({ref['crs']})", file=out)
    print(f"  compared    {cmp.zones} zones, {cmp.classes} zone×class areas "
          f"(rtol {rtol:g}, atol {atol:g} m²)", file=out)
    print(f"  max rel     {cmp.max_rel_class:.3e} of the class area, "
          f"{cmp.max_rel_zone:.3e} of the zone's valid area", file=out)
    print_findings(cmp, out, max_lines)


def print_findings(cmp: Comparison, out=sys.stdout, max_lines: int = 50) -> None:
    """The worst difference, the notes and the disagreements of a comparison."""
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


def compute_reference(compute):
    """Runs ``compute()`` and times it: returns ``(result, seconds)``, or,
    after printing why, ``EXIT_USAGE`` on a usage error or when the
    reference itself crashed (that is not a disagreement)."""
    import time

    try:
        t0 = time.perf_counter()
        result = compute()
        return result, time.perf_counter() - t0
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - a crashed reference is not a disagreement
        import traceback

        traceback.print_exc()
        print(f"error: the reference could not be computed: {e}", file=sys.stderr)
        return EXIT_USAGE


def require_planar(qdoc: dict, crs, path: str) -> None:
    """exactextract measures cells in the projected plane; qingshan's
    default is ellipsoidal (ground) areas. Comparing the two on a projected
    raster would be a wrong test: refuse unless qingshan ran with
    ``--area planar`` (documents without ``area`` predate the option and
    were planar)."""
    if not crs.is_geographic and qdoc.get("area", "planar") != "planar":
        raise UsageError(
            f"{path}: qingshan measured {qdoc.get('area')} areas, exactextract measures planar ones on "
            f"this projected raster; run qingshan with --area planar")


def run_check(args, title: str, build_reference, check_zone_area: bool,
              planar_only: bool = False) -> int:
    """Builds the reference with ``build_reference(raster_info, zones)``,
    compares, prints the summary; returns the exit code. ``planar_only``:
    the reference measures planar areas (see ``require_planar``)."""
    def compute():
        with temp_dir() as tmp:
            info = open_raster(mosaic_path(list(args.raster), tmp))
            zones = load_zones(args.zones, args.id_field)
            qdoc = load_qingshan(args.qingshan)
            if planar_only:
                require_planar(qdoc, info.crs, args.qingshan)
            return info, qdoc, build_reference(info, zones)

    got = compute_reference(compute)
    if isinstance(got, int):
        return got
    (info, qdoc, ref), elapsed = got
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


# --------------------------------------------------------------------------
# Item-by-item checks (change and redline documents)
# --------------------------------------------------------------------------


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class Checker:
    """Compares qingshan's values with reference values one item at a time and
    records them in a ``Comparison`` (``classes`` counts the items compared,
    ``max_rel_class`` the largest relative difference, ``max_rel_zone`` the
    largest difference relative to the zone's valid area where one is given).

    A number agrees when |q − r| ≤ max(atol, rtol · S), with S = max(|q|, |r|)
    or, for a difference of two larger terms (a net change, a delta), the size
    of those terms; with ``zone_scale`` also |q − r| ≤ max(atol, rtol ·
    zone_scale). Strings and booleans must be equal."""

    def __init__(self, rtol: float, atol: float):
        self.rtol, self.atol = rtol, atol
        self.cmp = Comparison()
        self._worst = -1.0

    def _fail(self, kind, owner, item, q, r, rel, note=""):
        self.cmp.mismatches.append(Mismatch(owner, item, q, r, rel, note, kind))

    def number(self, kind: str, owner: str, item: str, q, r: float,
               scale: float | None = None, zone_scale: float | None = None) -> bool:
        self.cmp.classes += 1
        if not _is_num(q):
            self._fail(kind, owner, item, q, r, math.inf, "missing or not a number")
            return False
        q = float(q)
        d = abs(q - r)
        s = max(abs(q), abs(r), scale or 0.0)
        rel = d / s if s > 0 else (0.0 if d == 0 else math.inf)
        if d > self.atol:
            self.cmp.max_rel_class = max(self.cmp.max_rel_class, rel)
        ok = d <= max(self.atol, self.rtol * s)
        if zone_scale is not None:
            relz = d / zone_scale if zone_scale > 0 else (0.0 if d == 0 else math.inf)
            self.cmp.max_rel_zone = max(self.cmp.max_rel_zone, relz)
            ok = ok and d <= max(self.atol, self.rtol * zone_scale)
        if d > 0 and rel > self._worst:
            self._worst = rel
            self.cmp.worst = f"{kind} {owner} {item} (rel {rel:.3e}, |d| {d:.3e})"
        if not ok:
            self._fail(kind, owner, item, q, r, rel)
        return ok

    def exact(self, kind: str, owner: str, item: str, q, r, note: str = "") -> bool:
        self.cmp.classes += 1
        if q != r:
            self._fail(kind, owner, item, q, r, math.inf, note)
            return False
        return True

    def fraction(self, kind: str, owner: str, item: str, q, r: float, atol: float) -> bool:
        """A ratio (a cover): |q − r| ≤ max(rtol · max(|q|, |r|), atol)."""
        self.cmp.classes += 1
        if not _is_num(q):
            self._fail(kind, owner, item, q, r, math.inf, "missing or not a number")
            return False
        if abs(q - r) > max(self.rtol * max(abs(q), abs(r)), atol):
            self._fail(kind, owner, item, q, r, _rel(float(q), r))
            return False
        return True

    def missing(self, kind: str, owner: str, item: str, q, r, note: str) -> None:
        self._fail(kind, owner, item, q, r, math.inf, note)

    def nodata(self, owner: str, q, nodata_ref: float, outside_ref: float, scale: float) -> None:
        """``nodata_area_m2``: the nodata cells' area; where part of the zone
        lies outside the raster(s) the area outside may be included (the
        contracts do not say), whichever reading is closer is used and noted."""
        significant = outside_ref > max(self.atol, self.rtol * scale)
        if _is_num(q) and significant and abs(q - (nodata_ref + outside_ref)) < abs(q - nodata_ref):
            self.number("zone", owner, "nodata_area_m2", q, nodata_ref + outside_ref)
            self.cmp.notes.append(f"zone {owner}: nodata_area_m2 includes the {outside_ref:.3f} m² "
                                  "outside the raster")
        else:
            self.number("zone", owner, "nodata_area_m2", q, nodata_ref)


def print_items_summary(title: str, method: str, cmp: Comparison, rtol: float, atol: float,
                        items: str, zone_rel: bool = False, out=sys.stdout, max_lines: int = 50) -> None:
    """The compact summary of a ``Checker`` comparison (same layout as
    ``print_summary``)."""
    print(f"{title}: {'AGREE' if cmp.ok else 'DISAGREE'}", file=out)
    print(f"  reference   {method}", file=out)
    print(f"  compared    {items}, {cmp.classes} values (rtol {rtol:g}, atol {atol:g} m²)", file=out)
    extra = f", {cmp.max_rel_zone:.3e} of the zone's valid area" if zone_rel else ""
    print(f"  max rel     {cmp.max_rel_class:.3e} of the value (differences above atol){extra}", file=out)
    print_findings(cmp, out, max_lines)


# --------------------------------------------------------------------------
# Change: transition matrices from one combined raster (change_check.py)
# --------------------------------------------------------------------------

CHANGE_SCHEMA = "qingshan.change/1"


def _blocks(width: int, height: int, size: int = 1024):
    for r in range(0, height, size):
        for c in range(0, width, size):
            yield c, r, min(size, width - c), min(size, height - r)


def common_grid(a: RasterInfo, b: RasterInfo, tol: float = 1e-6) -> dict:
    """The part two rasters have in common, if they lie on one grid lattice
    (same CRS, cell size and rotation; origins a whole number of cells apart):
    a window into each and the common grid's transform. Anything else is a
    ``UsageError``: a transition needs the same cell on both dates."""
    from affine import Affine

    if not a.crs.equals(b.crs, ignore_axis_order=True):
        raise UsageError(f"the rasters are in different CRSs: {crs_label(a.crs)} and {crs_label(b.crs)}")
    ta, tb = a.transform, b.transform
    size = max(abs(ta.a), abs(ta.b), abs(ta.d), abs(ta.e))
    for k in "abde":
        if abs(getattr(ta, k) - getattr(tb, k)) > 1e-9 * size:
            raise UsageError(f"the rasters' grids differ (cell size or rotation): {tuple(ta)[:6]} vs {tuple(tb)[:6]}")
    col, row = ~ta * (tb.c, tb.f)  # b's top-left corner in a's cell coordinates
    if abs(col - round(col)) > tol or abs(row - round(row)) > tol:
        raise UsageError(f"the rasters' grids differ: the second raster's origin is at cell "
                         f"({col:.6f}, {row:.6f}) of the first, not on its lattice")
    dc, dr = int(round(col)), int(round(row))
    c0, c1 = max(0, dc), min(a.width, dc + b.width)
    r0, r1 = max(0, dr), min(a.height, dr + b.height)
    if c0 >= c1 or r0 >= r1:
        raise UsageError("the rasters do not overlap")
    return {
        "a_off": (c0, r0), "b_off": (c0 - dc, r0 - dr), "width": c1 - c0, "height": r1 - r0,
        "transform": ta * Affine.translation(c0, r0),
        "same_extent": (dc, dr, a.width, a.height) == (0, 0, b.width, b.height),
    }


def _band_nodata(ds, band: int):
    nd = ds.nodatavals[band - 1]
    return None if nd is None else float(nd)


def _valid(arr: np.ndarray, nd) -> np.ndarray:
    if nd is None:
        return np.ones(arr.shape, bool)
    if math.isnan(nd):
        return ~np.isnan(arr)
    return arr != nd


def change_raster(before: RasterInfo, after: RasterInfo, out_path: str, band: int = 1,
                  factor: int | None = None) -> tuple[str, int, dict]:
    """Writes ``before × K + after`` over the two rasters' common grid to a
    tiled GeoTIFF at ``out_path``, block by block (1024 × 1024 windows: memory
    does not grow with the raster). K is the smallest power of ten above every
    class code (or ``factor``); a cell nodata on either date gets the output's
    nodata (the type's maximum). UInt16 when every combined code fits, else
    UInt32. Class codes must be non-negative integers. Returns the path, K and
    a description of what was done."""
    import rasterio
    from rasterio.windows import Window

    grid = common_grid(before, after)
    w, h = grid["width"], grid["height"]
    (ac, ar), (bc, br) = grid["a_off"], grid["b_off"]
    with rasterio.open(before.path) as da, rasterio.open(after.path) as db:
        for ds, label in ((da, "before"), (db, "after")):
            if band > ds.count:
                raise UsageError(f"{ds.name}: no band {band} ({label}; {ds.count} bands)")
        nda, ndb = _band_nodata(da, band), _band_nodata(db, band)

        def pairs():
            for c, r, bw, bh in _blocks(w, h):
                va = da.read(band, window=Window(ac + c, ar + r, bw, bh))
                vb = db.read(band, window=Window(bc + c, br + r, bw, bh))
                yield c, r, bw, bh, va, vb

        # Pass 1: the range of class codes (valid cells of either date).
        lo, hi = math.inf, -math.inf
        for *_, va, vb in pairs():
            for arr, nd, label in ((va, nda, "before"), (vb, ndb, "after")):
                v = arr[_valid(arr, nd)]
                if v.size == 0:
                    continue
                if v.dtype.kind == "f" and not np.all(np.floor(v) == v):
                    raise UsageError(f"{label} raster has non-integer class codes")
                lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
        if lo < 0:
            raise UsageError(f"negative class code {lo:g}: not supported by the combined raster")
        hi = 0 if hi == -math.inf else int(hi)
        k = 10
        while k <= hi:
            k *= 10
        if factor is not None:
            if factor <= hi:
                raise UsageError(f"--factor {factor} is not above the largest class code {hi}")
            k = factor
        top = hi * k + hi
        if top < 2**16 - 1:
            dtype, nd_out = "uint16", 2**16 - 1
        elif top < 2**32 - 1:
            dtype, nd_out = "uint32", 2**32 - 1
        else:
            raise UsageError(f"combined codes up to {top} do not fit in UInt32")
        profile = {
            "driver": "GTiff", "width": w, "height": h, "count": 1, "dtype": dtype,
            "crs": da.crs, "transform": grid["transform"], "nodata": nd_out,
            "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
            "zlevel": 1, "BIGTIFF": "IF_SAFER",
        }
        # Pass 2: the combined codes.
        n_nd = 0
        with rasterio.open(out_path, "w", **profile) as out:
            for c, r, bw, bh, va, vb in pairs():
                ok = _valid(va, nda) & _valid(vb, ndb)
                combo = np.full(va.shape, nd_out, dtype=np.int64)
                combo[ok] = va[ok].astype(np.int64) * k + vb[ok].astype(np.int64)
                n_nd += int((~ok).sum())
                out.write(combo.astype(dtype), 1, window=Window(c, r, bw, bh))
    meta = {"factor": k, "dtype": dtype, "nodata": nd_out, "codes": [None if lo == math.inf else int(lo), hi],
            "width": w, "height": h, "same_extent": grid["same_extent"],
            "before_offset": list(grid["a_off"]), "after_offset": list(grid["b_off"]),
            "nodata_cells": n_nd}
    return out_path, k, meta


def change_reference_from_classes(class_ref: dict, factor: int, meta: dict) -> dict:
    """Turns per-zone "class" areas of the combined raster (a reference of
    ``exactextract_reference``) into transition matrices: code = from × K + to."""
    zones = []
    for z in class_ref["zones"]:
        tr: dict[str, dict[str, float]] = {}
        for key, area in z["classes"].items():
            code = int(round(float(key)))
            f, t = divmod(code, factor)
            row = tr.setdefault(str(f), {})
            row[str(t)] = row.get(str(t), 0.0) + area
        zones.append({**{k: v for k, v in z.items() if k != "classes"}, "transitions": tr})
    return {"schema": "qingshan.peers.change-reference/1",
            "method": f"exactextract on before×{factor}+after ({meta['dtype']}), decoded",
            "crs": class_ref["crs"], "combined": meta, "zones": zones}


def forest_sums(tr: dict, forest: set[str]) -> dict:
    """Forest before/after/gain/loss/net of one transition matrix (codes as
    strings); forest-to-forest transitions between two forest classes are
    neither gain nor loss."""
    before = sum(a for f, row in tr.items() if f in forest for a in row.values())
    after = sum(a for row in tr.values() for t, a in row.items() if t in forest)
    gain = sum(a for f, row in tr.items() if f not in forest for t, a in row.items() if t in forest)
    loss = sum(a for f, row in tr.items() if f in forest for t, a in row.items() if t not in forest)
    return {"forest_before_m2": before, "forest_after_m2": after, "forest_gain_m2": gain,
            "forest_loss_m2": loss, "forest_net_m2": after - before}


def compare_change(qdoc: dict, ref: dict, rtol: float, atol: float,
                   forest: set[str] | None) -> Comparison:
    """Compares a qingshan.change/1 document with a change reference: every
    zone × (from, to) area (a pair present on one side only is 0 on the
    other; each relative to itself and to the zone's valid area, as class
    areas in ``compare``), valid and nodata areas, and with a forest set the
    forest before/after/gain/loss/net (net relative to the larger of before
    and after) and the two covers (null when the valid area is 0)."""
    ck = Checker(rtol, atol)
    cmp = ck.cmp
    qz = {}
    for z in qdoc["zones"]:
        zid = _id_str(z.get("id"))
        if zid in qz:
            ck.missing("zone", zid, "duplicate id", None, None, "duplicate zone id in qingshan output")
        qz[zid] = z
    rz = {z["id"]: z for z in ref["zones"]}
    for zid in sorted(set(qz) | set(rz), key=_sort_key):
        if zid not in qz:
            ck.missing("zone", zid, "zone", None, rz[zid]["valid_area_m2"], "zone missing from qingshan output")
            continue
        if zid not in rz:
            ck.missing("zone", zid, "zone", qz[zid].get("valid_area_m2"), None, "zone not in the zones file")
            continue
        q, r = qz[zid], rz[zid]
        cmp.zones += 1
        valid_ref = r["valid_area_m2"]
        qv = q.get("valid_area_m2")
        zscale = max(valid_ref, float(qv) if _is_num(qv) else 0.0)
        qt = q.get("transitions")
        if not isinstance(qt, dict) or not all(isinstance(v, dict) for v in qt.values()):
            ck.missing("zone", zid, "transitions", None, None, "no 'transitions' object of objects")
            qt = {}
        rt = r["transitions"]
        pairs = {(f, t) for f, row in qt.items() for t in row} | {(f, t) for f, row in rt.items() for t in row}
        for f, t in sorted(pairs, key=lambda p: (_sort_key(p[0]), _sort_key(p[1]))):
            ck.number("zone", zid, f"transition {f}→{t}", qt.get(f, {}).get(t, 0.0),
                      rt.get(f, {}).get(t, 0.0), zone_scale=zscale)
        ck.number("zone", zid, "valid_area_m2", qv, valid_ref, zone_scale=zscale)
        ck.nodata(zid, q.get("nodata_area_m2"), r["nodata_area_m2"], r.get("outside_area_m2", 0.0),
                  valid_ref + r["nodata_area_m2"])
        if forest is None:
            continue
        fs = forest_sums(rt, forest)
        big = max(fs["forest_before_m2"], fs["forest_after_m2"])
        for key, val in fs.items():
            ck.number("zone", zid, key, q.get(key), val, scale=big if key == "forest_net_m2" else None,
                      zone_scale=zscale)
        for key, num in (("forest_cover_before", fs["forest_before_m2"]),
                         ("forest_cover_after", fs["forest_after_m2"])):
            qc = q.get(key, "absent")
            if valid_ref == 0:
                ck.exact("zone", zid, key, qc, None, "null expected: no valid area")
            elif qc is None:
                if valid_ref > atol:
                    ck.missing("zone", zid, key, None, num / valid_ref, "null, but the valid area is not 0")
            else:
                ck.fraction("zone", zid, key, qc, num / valid_ref, atol / valid_ref)
    return cmp


# --------------------------------------------------------------------------
# Red lines: version diff with shapely + pyproj.Geod (redline_reference.py)
# --------------------------------------------------------------------------

REDLINE_SCHEMA = "qingshan.redline/1"
METRES_PER_DEGREE = 111_320.0


def segment_length(crs, metres: float) -> float:
    """``metres`` in the units of ``crs`` (degrees: metres / 111 320)."""
    if crs.is_geographic:
        return metres / METRES_PER_DEGREE
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return metres / unit


def redline_ops_crs(old: Zones, new: Zones):
    """The CRS the red-line overlays run in: OLD's if projected, else NEW's if
    projected, else a Lambert azimuthal equal-area CRS (on OLD's datum) centred
    on the middle of both layers' lon/lat bounds. Returns (crs, why)."""
    import shapely
    from pyproj import Transformer
    from pyproj.crs import ProjectedCRS
    from pyproj.crs.coordinate_operation import LambertAzimuthalEqualAreaConversion

    if old.crs.is_projected:
        return old.crs, "the old layer's CRS"
    if new.crs.is_projected:
        return new.crs, "the new layer's CRS"
    geog = old.crs.geodetic_crs
    xs, ys = [], []
    for layer in (old, new):
        g = shapely.union_all(layer.geoms)
        if g.is_empty:
            continue
        x0, y0, x1, y1 = g.bounds
        tr = Transformer.from_crs(layer.crs, geog, always_xy=True)
        bx, by = tr.transform([x0, x1, x1, x0], [y0, y0, y1, y1])
        xs += list(bx)
        ys += list(by)
    if not xs:
        raise UsageError("both red-line layers are empty")
    lon, lat = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    name = f"local LAEA lon {lon:.6f} lat {lat:.6f}"
    crs = ProjectedCRS(conversion=LambertAzimuthalEqualAreaConversion(lat, lon), geodetic_crs=geog, name=name)
    return crs, f"Lambert azimuthal equal-area on {crs_label(geog)}, centred on the data"


def to_ops(layer: Zones, ops) -> np.ndarray:
    """A layer's geometries in the ops CRS: as they are if already there, else
    reprojected vertex by vertex (pyproj, no densifying: edges are straight in
    the ops CRS, as ogr2ogr/QGIS/geopandas reproject), so a layer and its
    reprojected copy are the same polygons."""
    if layer.crs == ops or layer.crs.equals(ops, ignore_axis_order=True):
        return layer.geoms
    return reproject(layer.geoms, layer.crs, ops)


class GeodesicAreas:
    """Geodesic area (m², absolute, holes subtracted) of geometries in a
    projected ops CRS: densified there to ≤ 1000 m, transformed to lon/lat of
    the same datum, measured with pyproj.Geod on that datum's ellipsoid."""

    def __init__(self, ops):
        from pyproj import Transformer

        self.geod = geod_of(ops)
        self.lonlat = ops.geodetic_crs
        self.tr = Transformer.from_crs(ops, self.lonlat, always_xy=True)
        self.step = segment_length(ops, 1000.0)

    def __call__(self, geom) -> float:
        import shapely

        if geom is None or geom.is_empty:
            return 0.0

        def fn(coords):
            x, y = self.tr.transform(coords[:, 0], coords[:, 1], errcheck=True)
            return np.column_stack([x, y])

        return geodesic_area(self.geod, shapely.transform(shapely.segmentize(geom, self.step), fn))


def redline_status(old_present: bool, new_present: bool, delta: float, lost: float,
                   gained: float, tol: float) -> str:
    if not new_present:
        return "removed"
    if not old_present:
        return "added"
    if lost <= tol and gained <= tol:
        return "unchanged"
    if delta > tol:
        return "grown"
    if delta < -tol:
        return "shrunk"
    return "reshaped"


def _checked_geoms(layer: Zones, geoms: np.ndarray, make_valid: bool, label: str) -> np.ndarray:
    import shapely

    if make_valid:
        return shapely.make_valid(geoms)
    bad = [(i, shapely.is_valid_reason(g)) for i, g in zip(layer.ids, geoms) if not shapely.is_valid(g)]
    if bad:
        listed = "; ".join(f"{i}: {why}" for i, why in bad[:5])
        raise UsageError(f"{label} {layer.path}: invalid polygons ({listed}); use --make-valid")
    return geoms


def _coords(layer: Zones) -> np.ndarray:
    import shapely

    parts = [shapely.get_coordinates(g) for g in layer.geoms]
    return np.concatenate(parts) if parts else np.empty((0, 2))


def _decimals(layer: Zones):
    """The number of decimals k <= 9 every coordinate of ``layer`` is
    written with, or None (full precision)."""
    xy = _coords(layer)
    if xy.size == 0:
        return None
    for k in range(10):
        s = xy * 10.0 ** k
        if np.all(np.abs(s - np.round(s)) <= 1e-3):
            return k
    return None


def align_precision(old: Zones, new: Zones):
    """qingshan's rule for rounded deliveries (README, "A rounded copy is the
    same red line"): a layer whose coordinates all have k decimals, a step
    between 0.1 mm and 5 cm (a degree counted as 111 320 m), is rounded; the
    other layer is carried into its CRS vertex by vertex and rounded to k
    decimals. When both layers are rounded, the direction in which more
    vertices coincide wins; nothing is done when none would. Returns
    (old, new)."""
    import dataclasses
    import shapely

    def rounded(layer):
        k = _decimals(layer)
        if k is None:
            return None
        m = 10.0 ** -k * (111_320.0 if layer.crs.is_geographic else layer.crs.axis_info[0].unit_conversion_factor)
        return k if 1e-4 <= m <= 0.05 else None

    def rounded_into(layer, target, k):
        g = reproject(layer.geoms, layer.crs, target.crs)
        g = shapely.transform(g, lambda c: np.round(c * 10.0 ** k) / 10.0 ** k)
        return dataclasses.replace(layer, geoms=g, crs=target.crs)

    def coinciding(cand, target, k):
        # Vertices of the candidate (each one, as qingshan counts) that are
        # vertices of the target.
        keys = lambda xy: map(tuple, np.round(xy * 10.0 ** k).astype(np.int64))
        there = set(keys(_coords(target)))
        return sum(1 for t in keys(_coords(cand)) if t in there)

    best = None
    for round_old, (src, dst) in ((True, (old, new)), (False, (new, old))):
        k = rounded(dst)
        if k is None:
            continue
        cand = rounded_into(src, dst, k)
        score = coinciding(cand, dst, k)
        if score > 0 and (best is None or score > best[2]):
            best = (round_old, cand, score)
    if best is None:
        return old, new
    return (best[1], new) if best[0] else (old, best[1])


def redline_reference(old: Zones, new: Zones, towns: Zones | None, tolerance_m2: float,
                      make_valid: bool = False) -> dict:
    """The ``qingshan.redline/1`` diff numbers computed with shapely (GEOS)
    overlays in the ops CRS and pyproj.Geod areas (see ``redline_ops_crs``,
    ``to_ops``, ``GeodesicAreas``); statuses with ``tolerance_m2``."""
    import shapely

    ops, why = redline_ops_crs(old, new)
    old, new = align_precision(old, new)
    og = _checked_geoms(old, to_ops(old, ops), make_valid, "old layer")
    ng = _checked_geoms(new, to_ops(new, ops), make_valid, "new layer")
    area = GeodesicAreas(ops)
    u_old, u_new = shapely.union_all(og), shapely.union_all(ng)
    lost_g, gained_g = shapely.difference(u_old, u_new), shapely.difference(u_new, u_old)
    tol = tolerance_m2
    doc = {
        "schema": "qingshan.peers.redline-reference/1",
        "method": "shapely (GEOS) overlays in the ops CRS + pyproj.Geod areas "
                  f"({crs_label(geod_crs_of(ops))} ellipsoid)",
        "ops_crs": crs_label(ops), "ops_crs_why": why, "tolerance_m2": tol,
        "old_total_m2": area(u_old), "new_total_m2": area(u_new),
        "lost_m2": area(lost_g), "gained_m2": area(gained_g),
    }
    doc["delta_m2"] = doc["new_total_m2"] - doc["old_total_m2"]
    doc["shrunk"] = doc["new_total_m2"] < doc["old_total_m2"] - tol
    old_by = dict(zip(old.ids, og))
    new_by = dict(zip(new.ids, ng))
    polys = []
    for pid in list(old.ids) + [i for i in new.ids if i not in old_by]:
        o, n = old_by.get(pid), new_by.get(pid)
        rec = {"id": pid, "old_m2": area(o), "new_m2": area(n)}
        rec["delta_m2"] = rec["new_m2"] - rec["old_m2"]
        rec["lost_m2"] = rec["old_m2"] if n is None else (0.0 if o is None else area(shapely.difference(o, n)))
        rec["gained_m2"] = rec["new_m2"] if o is None else (0.0 if n is None else area(shapely.difference(n, o)))
        rec["status"] = redline_status(o is not None, n is not None, rec["delta_m2"], rec["lost_m2"],
                                       rec["gained_m2"], tol)
        polys.append(rec)
    doc["polygons"] = polys
    if towns is not None:
        tg = _checked_geoms(towns, to_ops(towns, ops), make_valid, "towns")
        recs = []
        for tid, t in zip(towns.ids, tg):
            rec = {"id": tid, "old_m2": area(shapely.intersection(u_old, t)),
                   "new_m2": area(shapely.intersection(u_new, t)),
                   "lost_m2": area(shapely.intersection(lost_g, t)),
                   "gained_m2": area(shapely.intersection(gained_g, t))}
            rec["delta_m2"] = rec["new_m2"] - rec["old_m2"]
            rec["shrunk"] = rec["new_m2"] < rec["old_m2"] - tol
            recs.append(rec)
        doc["towns"] = recs
    return doc


def geod_crs_of(crs):
    """The geographic CRS whose ellipsoid ``geod_of`` uses."""
    return crs.geodetic_crs if crs.geodetic_crs is not None else crs


def compare_redline(qdoc: dict, ref: dict, rtol: float, atol: float) -> Comparison:
    """Compares a qingshan.redline/1 diff document with ``redline_reference``:
    totals, every polygon (matched by id) and every town; areas relative to
    themselves, deltas relative to the larger of their old and new areas;
    statuses and ``shrunk`` flags exactly."""
    ck = Checker(rtol, atol)
    cmp = ck.cmp
    if qdoc.get("kind") != "diff":
        ck.exact("layer", "-", "kind", qdoc.get("kind"), "diff")

    def numbers(kind, owner, q, r):
        for key in ("old_m2", "new_m2", "lost_m2", "gained_m2", "old_total_m2", "new_total_m2"):
            if key in r:
                ck.number(kind, owner, key, q.get(key), r[key])
        ok_key, nk = ("old_total_m2", "new_total_m2") if "old_total_m2" in r else ("old_m2", "new_m2")
        ck.number(kind, owner, "delta_m2", q.get("delta_m2"), r["delta_m2"], scale=max(r[ok_key], r[nk]))

    def near_tol(r) -> str:
        vals = [r.get("lost_m2", 0.0), r.get("gained_m2", 0.0), abs(r.get("delta_m2", 0.0))]
        tol = ref["tolerance_m2"]
        if any(abs(v - tol) <= max(atol, rtol * max(v, tol)) for v in vals):
            return "a value is within tolerance of tolerance_m2: borderline"
        return ""

    numbers("layer", "total", qdoc, {k: ref[k] for k in
                                    ("old_total_m2", "new_total_m2", "lost_m2", "gained_m2", "delta_m2")})
    ck.exact("layer", "total", "shrunk", qdoc.get("shrunk"), ref["shrunk"])
    cmp.zones = 0

    def by_id(items, kind, label):
        out = {}
        for it in items:
            iid = _id_str(it.get("id")) if isinstance(it, dict) else None
            if iid in out:
                ck.missing(kind, iid, "duplicate id", None, None, f"duplicate id in qingshan's {label}")
            out[iid] = it
        return out

    qp = by_id(qdoc["polygons"], "polygon", "polygons")
    rp = {p["id"]: p for p in ref["polygons"]}
    for pid in [p["id"] for p in ref["polygons"]] + sorted(set(qp) - set(rp), key=_sort_key):
        if pid not in qp:
            ck.missing("polygon", pid, "polygon", None, rp[pid]["status"], "missing from qingshan output")
            continue
        if pid not in rp:
            ck.missing("polygon", pid, "polygon", qp[pid].get("status"), None, "in neither layer")
            continue
        cmp.zones += 1
        numbers("polygon", pid, qp[pid], rp[pid])
        ck.exact("polygon", pid, "status", qp[pid].get("status"), rp[pid]["status"], near_tol(rp[pid]))
    if "towns" in ref:
        qt = qdoc.get("towns")
        if not isinstance(qt, list):
            ck.missing("layer", "-", "towns", None, len(ref["towns"]), "no 'towns' list in qingshan output")
            qt = []
        qt = by_id(qt, "town", "towns")
        rt = {t["id"]: t for t in ref["towns"]}
        for tid in [t["id"] for t in ref["towns"]] + sorted(set(qt) - set(rt), key=_sort_key):
            if tid not in qt:
                ck.missing("town", tid, "town", None, rt[tid]["new_m2"], "missing from qingshan output")
                continue
            if tid not in rt:
                ck.missing("town", tid, "town", qt[tid].get("new_m2"), None, "not in the towns file")
                continue
            cmp.zones += 1
            numbers("town", tid, qt[tid], rt[tid])
            ck.exact("town", tid, "shrunk", qt[tid].get("shrunk"), rt[tid]["shrunk"], near_tol(rt[tid]))
    elif qdoc.get("towns"):
        cmp.notes.append("qingshan's towns were not checked (no --towns given)")
    q_ops = qdoc.get("ops_crs")
    if q_ops and q_ops != ref["ops_crs"]:
        cmp.notes.append(f"qingshan's ops_crs is {q_ops}, the reference's {ref['ops_crs']}")
    return cmp
