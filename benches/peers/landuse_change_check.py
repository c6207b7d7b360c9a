#!/usr/bin/env python3
"""Checks `qingshan change --before-landuse A --after-landuse B` and its
change list against geopandas + pyproj.

    python3 benches/peers/landuse_change_check.py --before A.gpkg --after B.gpkg \
        --class-field DLBM --zones ZONES [--id-field F] [--bsm-field BSM] \
        --qingshan CHANGE.json --change-list LIST.csv [--rtol 1e-7] [--floor 1e4]

Reference (no qingshan code): ``overlay(A, B, "intersection")`` then the
zones (reprojected to A's CRS), each piece densified to 10 m, reprojected
to lon/lat on A's datum and measured with ``pyproj.Geod`` (Karney).
Transitions are summed per zone × (class before, class after); the change
list is every piece whose class changed, keyed by (zone, BSM before, BSM
after). Exit 0 when every transition and every listed piece agrees within
``--rtol`` (relative to the area, or to ``--floor`` m² below it) and the
two lists hold the same keys; 1 otherwise.
"""

import argparse
import csv
import json
import sys
import time

import geopandas as gpd

from landuse_check import geod_area, geod_of


def reference(a):
    before = gpd.read_file(a.before, engine="pyogrio")
    after = gpd.read_file(a.after, engine="pyogrio").to_crs(before.crs)
    zones = gpd.read_file(a.zones, engine="pyogrio")
    zid = a.id_field or ("id" if "id" in zones.columns else None)
    zones["_zone"] = zones[zid].astype(str) if zid else [str(i) for i in range(len(zones))]
    zones = zones.to_crs(before.crs)[["_zone", "geometry"]]
    b = before[[a.bsm_field, a.class_field, "geometry"]].rename(
        columns={a.bsm_field: "_bsm0", a.class_field: "_c0"})
    f = after[[a.bsm_field, a.class_field, "geometry"]].rename(
        columns={a.bsm_field: "_bsm1", a.class_field: "_c1"})
    pairs = gpd.overlay(b, f, how="intersection", keep_geom_type=True)
    pieces = gpd.overlay(pairs, zones, how="intersection", keep_geom_type=True)
    geod, lonlat = geod_of(before.crs)
    pieces["geometry"] = pieces.geometry.segmentize(10.0)
    areas = pieces.to_crs(lonlat).geometry.apply(lambda g: geod_area(geod, g))
    trans, changed = {}, {}
    for (zone, c0, c1, s0, s1), area in zip(
            zip(pieces["_zone"], pieces["_c0"].astype(str), pieces["_c1"].astype(str),
                pieces["_bsm0"].astype(str), pieces["_bsm1"].astype(str)), areas):
        t = trans.setdefault(zone, {}).setdefault(c0, {})
        t[c1] = t.get(c1, 0.0) + area
        if c0 != c1:
            key = (zone, s0, s1)
            changed[key] = changed.get(key, 0.0) + area
    return trans, changed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ["--before", "--after", "--class-field", "--zones", "--qingshan", "--change-list"]:
        ap.add_argument(flag, required=True)
    ap.add_argument("--id-field")
    ap.add_argument("--bsm-field", default="BSM")
    ap.add_argument("--rtol", type=float, default=1e-7)
    ap.add_argument("--floor", type=float, default=1e4)
    a = ap.parse_args()
    t0 = time.time()
    trans, changed = reference(a)
    doc = json.load(open(a.qingshan))
    bad, worst, n = [], 0.0, 0

    def cmp(what, g, w):
        nonlocal worst, n
        rel = abs(g - w) / max(abs(w), a.floor)
        worst, n = max(worst, rel), n + 1
        if rel > a.rtol or (g == 0.0) != (w == 0.0):
            bad.append(f"{what}: qingshan {g} vs reference {w} ({rel:.2e})")

    for zone in doc["zones"]:
        zid = str(zone["id"])
        got = {(f, t): v for f, row in zone["transitions"].items() for t, v in row.items()}
        want = {(f, t): v for f, row in trans.get(zid, {}).items() for t, v in row.items()}
        for key in sorted(set(got) | set(want)):
            cmp(f"zone {zid} {key[0]} -> {key[1]}", got.get(key, 0.0), want.get(key, 0.0))
    listed = {}
    with open(a.change_list, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["zone_id"], row["bsm_from"], row["bsm_to"])
            listed[key] = listed.get(key, 0.0) + float(row["area_m2"])
    for key in sorted(set(listed) | set(changed)):
        cmp(f"change list {key}", listed.get(key, 0.0), changed.get(key, 0.0))
    print(f"{n} transitions and changed pieces, worst relative difference {worst:.2e} "
          f"({len(listed)} pieces listed; reference {time.time() - t0:.1f} s)")
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
