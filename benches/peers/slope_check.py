#!/usr/bin/env python3
"""Check `qingshan slope` against an independent pipeline.

    python3 benches/peers/slope_check.py --dem D [D2 ...] --zones Z [--id-field F] \
        --qingshan Q.json [--slope-raster S.tif] [--grades 2,6,15,25] \
        [--cropland C --class-field F --codes 0101,0102,0103 --cropland-id-field F] \
        [--rtol 1e-9] [--slope-tol 1e-4]

The reference slope:

- projected DEM: `gdaldem slope -compute_edges` (Horn) on the DEM (a VRT of
  the tiles with gdalbuildvrt, gaps as nodata);
- lon/lat DEM: Horn in numpy with gdaldem's edge and nodata rules, cell
  spacing per row from pyproj.Geod (geodesic distance between neighbouring
  cell centres along the row, and the meridian arc of one row).

Grades: each cell's slope classified into grade k when bound[k-1] < slope
<= bound[k] (numpy.searchsorted), written as a UInt8 raster; per-zone grade
areas from exactextract's coverage fractions × planar cell area (so
qingshan must run with --area planar on a projected DEM; a lon/lat DEM is
compared with ellipsoidal row areas). Cropland polygons (geopandas): grade
areas the same way, each polygon's grade = the largest (ties: the steeper).

With --slope-raster, qingshan's slope raster is compared cell by cell with
the reference slope (within --slope-tol degrees, nodata where the reference
has none). Exit 0 when everything agrees, 1 with the disagreements, 2 on
usage errors.
"""

import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np

import peerlib


def read_dem(path):
    import rasterio

    with rasterio.open(path) as ds:
        z = ds.read(1).astype(np.float64)
        nd = ds.nodata
        mask = ds.read_masks(1) == 0
        info = peerlib.open_raster(path)
    if nd is not None:
        z[z == nd] = np.nan
    z[mask] = np.nan
    return z, info


def horn_numpy(z, ew, ns):
    """Horn slope (degrees) with gdaldem -compute_edges rules. ``ew``/``ns``:
    metres between centres per row (arrays of len H)."""
    h, w = z.shape
    out = np.full((h, w), np.nan)
    # Neighbour arrays n[k] for the 3×3 offsets, following the rules.
    def beyond(a, b):
        return 2.0 * a - b  # NaN propagates: nodata in, nodata out

    rows = np.arange(h)
    cols = np.arange(w)
    nb = np.empty((9, h, w))
    for k in range(9):
        dr, dc = k // 3 - 1, k % 3 - 1
        # Interior rows: columns beyond the edge are extrapolated.
        rr = np.clip(rows + dr, 0, h - 1)
        cc = cols + dc
        inside = (cc >= 0) & (cc < w)
        ccc = np.clip(cc, 0, w - 1)
        v = z[rr][:, ccc].copy()
        if dc == -1:
            v[:, 0] = beyond(z[rr, 0], z[rr, 1])
        if dc == 1:
            v[:, w - 1] = beyond(z[rr, w - 1], z[rr, w - 2])
        assert inside.sum() >= w - 1
        nb[k] = v
        # First and last rows: columns clamp, the row beyond is extrapolated.
        for r, out_row, in1, in2 in ((0, -1, 0, 1), (h - 1, h, h - 1, h - 2)):
            cc = np.clip(cols + dc, 0, w - 1)
            if r + dr == out_row:
                nb[k, r] = beyond(z[in1, cc], z[in2, cc])
            else:
                nb[k, r] = z[r + dr, cc]
    centre = z
    for k in range(9):
        bad = np.isnan(nb[k])
        nb[k][bad] = centre[bad]
    hx = (nb[2] + 2 * nb[5] + nb[8]) - (nb[0] + 2 * nb[3] + nb[6])
    hy = (nb[6] + 2 * nb[7] + nb[8]) - (nb[0] + 2 * nb[1] + nb[2])
    gx = hx / (8.0 * ew[:, None])
    gy = hy / (8.0 * ns[:, None])
    out = np.degrees(np.arctan(np.sqrt(gx * gx + gy * gy)))
    out[np.isnan(centre)] = np.nan
    return out.astype(np.float32)


def lonlat_spacing(info):
    geod = peerlib.geod_of(info.crs)
    t = info.transform
    lat = t.f + (np.arange(info.height) + 0.5) * t.e
    lon = t.c + 0.5 * t.a
    ew = np.array([geod.inv(lon, p, lon + abs(t.a), p)[2] for p in lat])
    ns = np.array([geod.inv(lon, p - abs(t.e) / 2, lon, p + abs(t.e) / 2)[2] for p in lat])
    return ew, ns


def reference_slope(dem_path, tmp):
    z, info = read_dem(dem_path)
    if info.is_geographic:
        ew, ns = lonlat_spacing(info)
        return horn_numpy(z, ew, ns), info, "numpy Horn, pyproj.Geod row spacing"
    out = os.path.join(tmp, "slope.tif")
    proc = subprocess.run(["gdaldem", "slope", "-q", "-compute_edges", dem_path, out],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise peerlib.UsageError(f"gdaldem failed: {proc.stderr.strip()}")
    import rasterio

    with rasterio.open(out) as ds:
        s = ds.read(1)
        s[ds.read_masks(1) == 0] = np.nan
    return s, info, "gdaldem slope -compute_edges"


def grade_raster(slope, info, bounds, tmp):
    import rasterio

    g = np.searchsorted(np.asarray(bounds, dtype=np.float64), slope.astype(np.float64), side="left") + 1
    g = g.astype(np.uint8)
    g[np.isnan(slope)] = 0
    path = os.path.join(tmp, "grades.tif")
    with rasterio.open(path, "w", driver="GTiff", width=info.width, height=info.height, count=1,
                       dtype="uint8", nodata=0, crs=info.crs.to_wkt(), transform=info.transform,
                       tiled=True, compress="deflate") as ds:
        ds.write(g, 1)
    return peerlib.open_raster(path)


def grade_areas(ginfo, zones_path, id_field, ngrades, info):
    zones = peerlib.load_zones(zones_path, id_field)
    geoms = peerlib.zones_on_raster(zones, info)
    if info.is_geographic:
        ref = peerlib.ellipsoid_reference(ginfo, zones.ids, geoms)
    else:
        ref = peerlib.exactextract_reference(ginfo, zones.ids, geoms)
    out = {}
    for z in ref["zones"]:
        c = z["classes"]
        out[z["id"]] = [float(c.get(str(k + 1), 0.0)) for k in range(ngrades)]
    return out


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dem", nargs="+", required=True)
    p.add_argument("--zones", required=True)
    p.add_argument("--id-field")
    p.add_argument("--qingshan", required=True)
    p.add_argument("--slope-raster")
    p.add_argument("--grades", default="2,6,15,25")
    p.add_argument("--cropland")
    p.add_argument("--class-field")
    p.add_argument("--codes", default="0101,0102,0103")
    p.add_argument("--cropland-id-field")
    p.add_argument("--rtol", type=float, default=1e-9)
    p.add_argument("--atol-m2", type=float, default=1e-3)
    p.add_argument("--slope-tol", type=float, default=1e-4)
    a = p.parse_args(argv)
    bounds = [float(b) for b in a.grades.split(",")]
    ng = len(bounds) + 1
    bad = []
    with peerlib.temp_dir() as tmp:
        try:
            if len(a.dem) > 1:
                vrt = os.path.join(tmp, "dem.vrt")
                z0 = peerlib.open_raster(a.dem[0])
                nd = [] if z0.nodata is None else ["-srcnodata", repr(z0.nodata), "-vrtnodata", repr(z0.nodata)]
                subprocess.run(["gdalbuildvrt", "-q", *nd, vrt, *a.dem], check=True)
                dem = vrt
            else:
                dem = a.dem[0]
            slope, info, how = reference_slope(dem, tmp)
            q = json.load(open(a.qingshan, encoding="utf-8"))
        except peerlib.UsageError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        if not info.is_geographic and q.get("area") != "planar":
            print("error: run qingshan with --area planar (exactextract measures planar areas)", file=sys.stderr)
            return 2
        print(f"slope check: reference {how}, {info.width} × {info.height} cells")
        if a.slope_raster:
            import rasterio

            with rasterio.open(a.slope_raster) as ds:
                s = ds.read(1).astype(np.float64)
                s[ds.read_masks(1) == 0] = np.nan
            nd_ours, nd_ref = np.isnan(s), np.isnan(slope)
            if s.shape != slope.shape:
                bad.append(f"slope raster is {s.shape}, the reference {slope.shape}")
            else:
                if (nd_ours != nd_ref).any():
                    bad.append(f"nodata differs in {(nd_ours != nd_ref).sum()} cells")
                both = ~nd_ours & ~nd_ref
                d = np.abs(s[both] - slope[both].astype(np.float64))
                print(f"  slope       max |Δ| {d.max():.3g}° over {both.sum()} cells, {(d != 0).sum()} differ at all")
                if d.max() > a.slope_tol:
                    bad.append(f"slope differs by up to {d.max():.3g}° (> {a.slope_tol:g})")
        ginfo = grade_raster(slope, info, bounds, tmp)
        ref = grade_areas(ginfo, a.zones, a.id_field, ng, info)
        worst = 0.0
        for z in q["zones"]:
            r = ref.get(z["id"])
            if r is None:
                bad.append(f"zone {z['id']}: not in the reference")
                continue
            for k, g in enumerate(z["grades"]):
                worst = max(worst, rel(g["area_m2"], r[k]))
                if abs(g["area_m2"] - r[k]) > max(a.atol_m2, a.rtol * max(abs(r[k]), abs(g["area_m2"]))):
                    bad.append(f"zone {z['id']} grade {k + 1}: qingshan {g['area_m2']!r}, reference {r[k]!r}")
        print(f"  zones       {len(q['zones'])} × {ng} grades, worst relative difference {worst:.3g} (rtol {a.rtol:g})")
        if a.cropland:
            import geopandas as gpd

            df = gpd.read_file(a.cropland)
            if a.class_field:
                codes = a.codes.split(",")
                vals = df[a.class_field].astype(str).str.strip()
                keep = vals.apply(lambda v: any(v == c or (v.startswith(c) and not v[len(c):][:1].isdigit()) for c in codes))
                df = df[keep]
            path = os.path.join(tmp, "cropland.gpkg")
            df.to_file(path, driver="GPKG")
            pr = grade_areas(ginfo, path, a.cropland_id_field, ng, info)
            qp = {p_["id"]: p_ for p_ in q.get("polygons") or []}
            wrong_grade = 0
            pworst = 0.0
            for pid, areas in pr.items():
                mine = qp.get(pid)
                if mine is None:
                    bad.append(f"cropland polygon {pid}: not in qingshan's output")
                    continue
                best = None
                for k, v in enumerate(areas):
                    if v > 0 and (best is None or v >= areas[best]):
                        best = k
                grade = None if best is None else best + 1
                if grade != mine["grade"]:
                    wrong_grade += 1
                    bad.append(f"cropland polygon {pid}: grade {mine['grade']} vs reference {grade} ({areas})")
                for k, v in enumerate(areas):
                    pworst = max(pworst, rel(mine["grade_areas_m2"][k], v))
                    if abs(mine["grade_areas_m2"][k] - v) > a.atol_m2:
                        if abs(mine["grade_areas_m2"][k] - v) > a.rtol * max(abs(v), 1.0):
                            bad.append(f"cropland polygon {pid} grade {k + 1}: {mine['grade_areas_m2'][k]!r} vs {v!r}")
            if len(qp) != len(pr):
                bad.append(f"qingshan graded {len(qp)} polygons, the reference {len(pr)}")
            print(f"  cropland    {len(pr)} polygons, {wrong_grade} with another grade, worst relative difference {pworst:.3g}")
    for b in bad[:40]:
        print("  DISAGREE " + b)
    print("  result      " + ("agree" if not bad else f"{len(bad)} disagreement(s)"))
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
