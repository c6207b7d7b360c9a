#!/usr/bin/env python3
"""Check `qingshan values` against exactextract and an independent numpy
reference.

    python3 benches/peers/values_check.py --raster R [R2 ...] --zones Z [--id-field F] \
        --qingshan Q.json [--rtol 1e-9] [--reference exactextract|numpy]

exactextract (default; qingshan run with --area planar on a projected
raster): its ops count, sum, mean, min, max, stdev, variance,
coefficient_of_variation, median and quantile(q=…) on the same raster and
zones, compared statistic by statistic.

exactextract returns quantiles in the raster's type, so qingshan's
interpolated quantile is cast the same way before comparing (truncated on
an integer raster, rounded to float32 on a float32 one; a band with a
scale or offset gives doubles). exactextract keeps
coverage fractions as float32: on zones of a few dozen cells count and sum
differ from qingshan's double-precision fractions by ~1e-9 relative.

numpy (any CRS; qingshan's default ellipsoidal weights on a lon/lat
grid): exactextract supplies only each cell's coverage fraction (ops
values, coverage, cell_id); weights are coverage × the cell's ellipsoidal
area from pyproj.Geod, and every statistic is computed in numpy from
qingshan's documented definitions (weighted mean and population variance;
quantiles by the weighted percentile method on the distinct values).

Exit 0 when everything agrees within --rtol (relative, absolute below
1e-12 for values near zero), 1 with the disagreements, 2 on usage errors.
"""

import argparse
import json
import math
import sys
import time
import warnings

import numpy as np

import peerlib

EE_OPS = {
    "count": "count",
    "sum": "sum",
    "mean": "mean",
    "min": "min",
    "max": "max",
    "stddev": "stdev",
    "variance": "variance",
    "cv": "coefficient_of_variation",
    "median": "median",
}


def ee_op(name):
    if name in EE_OPS:
        return EE_OPS[name]
    if name.startswith("q"):
        return f"quantile(q={float(name[1:]) / 100.0!r})"
    raise SystemExit(f"unknown statistic {name}")


def ee_value(props, i, name):
    """exactextract's result of op s{i}, qingshan's statistic ``name``."""
    if name.startswith("q"):
        return props.get(f"s{i}_{int(float(name[1:]))}")
    return props.get(f"s{i}")


def weighted_quantile(x, w, q):
    """The weighted percentile method on distinct values (see qingshan's
    values module docs), written from the formula."""
    ux, inv = np.unique(x, return_inverse=True)
    uw = np.bincount(inv, weights=w, minlength=len(ux))
    n = len(ux)
    if n == 1:
        return float(ux[0])
    cum = np.cumsum(uw)
    s = np.zeros(n)
    k = np.arange(1, n)
    s[1:] = k * uw[1:] + (n - 1) * cum[:-1]
    p = q * (n - 1) * cum[-1]
    right = np.searchsorted(s, p, side="right")
    if right >= n:
        return float(ux[-1])
    left = right - 1
    return float(ux[left] + (p - s[left]) * (ux[right] - ux[left]) / (s[right] - s[left]))


def shapely_cells(ds, info, geom):
    """Values, coverage fractions and rows of every cell a zone touches,
    coverage = shapely intersection area / cell area in double precision
    (independent of exactextract and of qingshan)."""
    import shapely
    from rasterio.windows import Window

    t = info.transform
    inv = ~t
    x0, y0, x1, y1 = geom.bounds
    cs = [inv * (x, y) for x, y in ((x0, y0), (x0, y1), (x1, y0), (x1, y1))]
    c0 = max(int(math.floor(min(c[0] for c in cs))), 0)
    c1 = min(int(math.ceil(max(c[0] for c in cs))), info.width)
    r0 = max(int(math.floor(min(c[1] for c in cs))), 0)
    r1 = min(int(math.ceil(max(c[1] for c in cs))), info.height)
    if c0 >= c1 or r0 >= r1:
        return np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, bool)
    # rasterio reads the stored numbers: apply the band's scale and offset.
    data = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0)).astype(np.float64)
    data = data * ds.scales[0] + ds.offsets[0]
    valid = ds.read_masks(1, window=Window(c0, r0, c1 - c0, r1 - r0)) != 0
    cols, rows = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
    xa, ya = t.c + t.a * cols, t.f + t.e * rows
    boxes = shapely.box(xa, ya + t.e, xa + t.a, ya)
    shapely.prepare(geom)
    area = shapely.area(shapely.intersection(boxes, geom)) / abs(t.a * t.e)
    hit = area > 0
    return data[hit], area[hit], rows[hit], valid[hit] & np.isfinite(data[hit])


def numpy_cells(how, path, info, ids, geoms, feats):
    """(zone id, values, coverage, rows) of every valid cell of each zone."""
    if how == "shapely":
        import rasterio

        with rasterio.open(path) as ds:
            for zid, g in zip(ids, geoms):
                x, cov, rows, ok = shapely_cells(ds, info, g)
                yield zid, x[ok], cov[ok], rows[ok]
        return
    from exactextract import exact_extract

    res = exact_extract(path, feats, ["values", "coverage", "cell_id"], include_cols=["__qid"])
    for f in res:
        p = f["properties"]
        x = np.asarray(p["values"], dtype=np.float64)
        cov = np.asarray(p["coverage"], dtype=np.float64)
        cid = np.asarray(p["cell_id"], dtype=np.int64)
        ok = np.isfinite(x)
        if info.nodata is not None and not math.isnan(info.nodata):
            ok &= x != info.nodata
        yield p["__qid"], x[ok], cov[ok], (cid // info.width)[ok]


def numpy_stats(x, cov, w, names):
    out = {}
    if len(x) == 0:
        return {n: (0.0 if n in ("count", "sum") else None) for n in names}
    mean = float(np.sum(w * x) / np.sum(w))
    var = float(np.sum(w * (x - mean) ** 2) / np.sum(w))
    for n in names:
        if n == "count":
            out[n] = float(np.sum(cov))
        elif n == "sum":
            out[n] = float(np.sum(cov * x))
        elif n == "mean":
            out[n] = mean
        elif n == "min":
            out[n] = float(np.min(x))
        elif n == "max":
            out[n] = float(np.max(x))
        elif n == "variance":
            out[n] = var
        elif n == "stddev":
            out[n] = math.sqrt(var)
        elif n == "cv":
            out[n] = math.sqrt(var) / mean
        elif n == "median":
            out[n] = weighted_quantile(x, w, 0.5)
        else:
            out[n] = weighted_quantile(x, w, float(n[1:]) / 100.0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raster", nargs="+", required=True)
    ap.add_argument("--zones", required=True)
    ap.add_argument("--id-field")
    ap.add_argument("--qingshan", required=True)
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("--reference", choices=["exactextract", "numpy"], default="exactextract")
    ap.add_argument("--coverage", choices=["exactextract", "shapely"], default="exactextract",
                    help="numpy reference: coverage fractions from exactextract (float32) or shapely (double)")
    args = ap.parse_args()
    from exactextract import exact_extract

    qdoc = json.load(open(args.qingshan))
    if qdoc.get("schema") != "qingshan.values/1":
        print(f"{args.qingshan}: not a qingshan.values/1 document", file=sys.stderr)
        return 2
    names = qdoc["stats"]
    with peerlib.temp_dir() as tmp:
        path = peerlib.mosaic_path(args.raster, tmp)
        path_used = [args.raster[0]]
        info = peerlib.open_raster(path)
        zones = peerlib.load_zones(args.zones, args.id_field)
        geoms = peerlib.zones_on_raster(zones, info)
        feats = peerlib._features(zones.ids, geoms)
        ref = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if args.reference == "exactextract":
                if qdoc["area"] != "planar" or info.is_geographic:
                    print("exactextract's weights are coverage fractions: run qingshan with --area planar on a projected raster", file=sys.stderr)
                    return 2
                # Ops are named s0, s1, … (a name may not hold a dot); a
                # quantile's result is named NAME_<whole percent>.
                ops = [f"s{i}={ee_op(n)}" for i, n in enumerate(names)]
                t0 = time.perf_counter()
                res = exact_extract(path, feats, ops, include_cols=["__qid"])
                print(f"exactextract: {time.perf_counter() - t0:.2f} s")
                for f in res:
                    p = f["properties"]
                    ref[p["__qid"]] = {n: ee_value(p, i, n) for i, n in enumerate(names)}
                method = "exactextract " + ", ".join(ee_op(n) for n in names)
            else:
                geod = peerlib.geod_of(info.crs) if qdoc["area"] == "ellipsoidal" else None
                if geod is not None and not info.is_geographic:
                    print("the numpy reference has ellipsoidal cell areas for lon/lat grids only", file=sys.stderr)
                    return 2
                for zid, x, cov, rows in numpy_cells(args.coverage, path, info, zones.ids, geoms, feats):
                    if geod is not None and len(rows):
                        urows, inv = np.unique(rows, return_inverse=True)
                        w = cov * peerlib.row_cell_areas(geod, info, urows)[inv]
                    else:
                        w = cov
                    ref[zid] = numpy_stats(x, cov, w, names)
                method = f"numpy on {args.coverage}'s coverage" + (" × pyproj.Geod cell areas" if qdoc["area"] == "ellipsoidal" else "")
    dtype = np.dtype(info.dtype)
    import rasterio

    with rasterio.open(path_used[0]) as ds:
        scaled = (ds.scales[0], ds.offsets[0]) != (1.0, 0.0)
    bad = []
    worst = 0.0
    compared = 0
    for z in qdoc["zones"]:
        r = ref.get(z["id"])
        if r is None:
            bad.append(f"zone {z['id']}: no reference")
            continue
        for n in names:
            a, b = z["stats"].get(n), r.get(n)
            if b is not None and isinstance(b, float) and math.isnan(b):
                b = None
            if n in ("count", "sum") and b is None:
                b = 0.0
            if a is None or b is None:
                if not (a is None and b is None):
                    bad.append(f"zone {z['id']} {n}: qingshan {a}, reference {b}")
                continue
            if args.reference == "exactextract" and not scaled and (n == "median" or n.startswith("q")):
                # exactextract returns quantiles in the raster's type: an
                # integer raster's interpolated quantile is truncated, a
                # float32 raster's rounded to float32.
                a = float(math.trunc(a)) if dtype.kind in "iu" else float(dtype.type(a))
            compared += 1
            d = abs(a - b) / max(abs(b), 1e-12) if abs(b) > 1e-12 else abs(a - b)
            worst = max(worst, d)
            if d > args.rtol:
                bad.append(f"zone {z['id']} {n}: qingshan {a!r}, reference {b!r} (rel {d:.3g})")
    print(f"values vs {method}: {len(qdoc['zones'])} zones, {compared} statistics, worst relative difference {worst:.3g} (rtol {args.rtol:g})")
    for b in bad[:50]:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
