#!/usr/bin/env python3
"""Checks `qingshan stats --landuse` against geopandas + pyproj.

    python3 benches/peers/landuse_check.py --landuse DLTB.gpkg --class-field DLBM \
        --zones ZONES --qingshan OUT.json [--id-field F] [--area-field TBDLMJ] [--rtol 1e-7]

Reference (no qingshan code): the zones reprojected to the land-use layer's
CRS, ``geopandas.overlay(how="intersection", keep_geom_type=True)``, every
piece reprojected to lon/lat on the layer's datum and measured with
``pyproj.Geod(ellps=...).geometry_area_perimeter`` (Karney), summed per zone
and class. With ``--area-field`` each piece carries the polygon's recorded
area times piece / polygon area (and, for ``TBDLMJ``, the polygon's KCMJ
goes to its KCDLBM class the same way). Exit 0 when every zone × class agrees
within ``--rtol`` (relative to the class area, or to ``--floor`` m²
for smaller classes) and no class is missing on
either side; 1 otherwise, listing the differences.
"""

import argparse
import json
import sys
import time

import geopandas as gpd
import pyproj
from shapely.geometry.polygon import orient


def geod_area(geod, geom):
    # pyproj sums signed ring areas: exteriors must run counter-clockwise
    # and holes clockwise, or holes are added instead of subtracted.
    parts = getattr(geom, "geoms", [geom])
    return sum(abs(geod.geometry_area_perimeter(orient(p, 1.0))[0]) for p in parts
               if p.geom_type == "Polygon")


def geod_of(crs):
    """The pyproj Geod of a CRS's ellipsoid and its geographic CRS."""
    lonlat = crs.geodetic_crs
    e = lonlat.ellipsoid
    return pyproj.Geod(a=e.semi_major_metre, rf=e.inverse_flattening), lonlat


def reference(landuse, class_field, zones, id_field, area_field, layer=None):
    lu = gpd.read_file(landuse, layer=layer, engine="pyogrio")
    z = gpd.read_file(zones, engine="pyogrio")
    if id_field is None:
        id_field = "id" if "id" in z.columns else None
    z["_zone"] = z[id_field].astype(str) if id_field else [str(i) for i in range(len(z))]
    z = z.to_crs(lu.crs)[["_zone", "geometry"]]
    geod, lonlat = geod_of(lu.crs)
    lu["_code"] = lu[class_field].astype(str)
    lu["_poly"] = range(len(lu))
    whole = lu.geometry.segmentize(10.0).to_crs(lonlat).apply(lambda g: geod_area(geod, g))
    # TBDLMJ is net of deductions: the deducted area KCMJ goes to KCDLBM.
    deduct = (area_field or "").upper() == "TBDLMJ" and {"KCDLBM", "KCMJ"} <= set(lu.columns)
    cols = ["_code", "_poly", "geometry"] + ([area_field] if area_field else [])
    pieces = gpd.overlay(lu[cols], z, how="intersection", keep_geom_type=True)
    # Edges are straight in the layer's CRS: densify to 10 m before going to
    # lon/lat, so the geodesic edges follow them.
    pieces["geometry"] = pieces.geometry.segmentize(10.0)
    areas = pieces.to_crs(lonlat).geometry.apply(lambda g: geod_area(geod, g))
    out = {}
    for (zone, code, poly), a in zip(zip(pieces["_zone"], pieces["_code"], pieces["_poly"]), areas):
        if area_field:
            share = a / whole.iloc[poly]
            a = lu[area_field].iloc[poly] * share
            kc, kcmj = (lu["KCDLBM"].iloc[poly], lu["KCMJ"].iloc[poly]) if deduct else (None, 0)
            if kc and kcmj and kcmj > 0:
                out.setdefault(zone, {}).setdefault(str(kc), 0.0)
                out[zone][str(kc)] += kcmj * share
        out.setdefault(zone, {}).setdefault(code, 0.0)
        out[zone][code] += a
    zone_areas = dict(zip(z["_zone"], z.geometry.segmentize(10.0).to_crs(lonlat).apply(lambda g: geod_area(geod, g))))
    return out, zone_areas


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landuse", required=True)
    ap.add_argument("--layer")
    ap.add_argument("--class-field", required=True)
    ap.add_argument("--zones", required=True)
    ap.add_argument("--id-field")
    ap.add_argument("--area-field")
    ap.add_argument("--qingshan", required=True)
    ap.add_argument("--rtol", type=float, default=1e-7)
    ap.add_argument("--floor", type=float, default=1e4,
                    help="classes smaller than this (m²) are compared relative to it: "
                         "clipping rounds vertices to ~1e-6 of a piece's extent")
    a = ap.parse_args()
    t0 = time.time()
    ref, zone_areas = reference(a.landuse, a.class_field, a.zones, a.id_field, a.area_field, a.layer)
    doc = json.load(open(a.qingshan))
    bad, worst, n = [], 0.0, 0
    for zone in doc["zones"]:
        zid = str(zone["id"])
        got = {str(k): v for k, v in zone["classes"].items()}
        want = ref.get(zid, {})
        za = zone_areas.get(zid, zone["zone_area_m2"])
        za_rel = abs(zone["zone_area_m2"] - za) / za
        worst = max(worst, za_rel)
        if za_rel > a.rtol:
            bad.append(f"zone {zid}: zone area {zone['zone_area_m2']} vs {za}")
        for code in sorted(set(got) | set(want)):
            g, w = got.get(code, 0.0), want.get(code, 0.0)
            rel = abs(g - w) / max(abs(w), a.floor)
            worst = max(worst, rel)
            n += 1
            if rel > a.rtol or (g == 0.0) != (w == 0.0):
                bad.append(f"zone {zid} class {code}: qingshan {g} vs reference {w} ({rel:.2e})")
    print(f"{n} zone x class areas, worst relative difference {worst:.2e} (reference {time.time() - t0:.1f} s)")
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
