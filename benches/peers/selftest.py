#!/usr/bin/env python3
"""Self-test of change_check.py and redline_reference.py on the fixtures.

    python3 benches/peers/selftest.py [--fixtures fixtures] [--qingshan target/release/qingshan] [--keep DIR]

Builds qingshan-style JSON documents by routes that share nothing with the
checks' references, runs each check on them and expects:

- change: a qingshan.change/1 document from shapely cell ∩ zone intersections
  (planar, in the raster CRS; the two rasters read separately, transitions
  summed per cell pair, forest fields from the spec) for the towns and the
  2019 red lines -> exit 0; the same with the combined raster in UInt32
  (--factor 100000) -> 0; with `after` cropped to a sub-window (zones inside
  it) -> 0; one transition, one forest field or one cover off by 1e-4
  relative -> 1; `after` shifted by half a cell -> 2.
- redline: a qingshan.redline/1 document computed in a Lambert azimuthal
  equal-area CRS (both layers densified to 10 m and reprojected there, planar
  areas, which equal ellipsoidal areas in an equal-area projection) -> 0; one
  area off by 1e-4 relative, one status or one shrunk flag wrong -> 1.

With --qingshan BIN (default target/release/qingshan if it exists) it also runs
`BIN change` and `BIN redline diff` on the fixtures and checks their output
(reported, not expected to pass: that is what the checks are for).
Exit 0 when every expectation held, 1 otherwise.
"""

import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

import peerlib

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- change


def cell_transitions(before: str, after: str, ids, geoms, win=None):
    """zone id -> (transitions, valid, nodata, zone area) by shapely cell ∩ polygon,
    planar areas in the raster CRS (geoms already in it). Only cells of
    ``win`` = (col0, row0, width, height) if given."""
    import rasterio
    import shapely
    from rasterio.windows import Window

    out = {}
    with rasterio.open(before) as da, rasterio.open(after) as db:
        t = da.transform
        assert t.b == 0 and t.d == 0 and db.transform == t
        nda, ndb = da.nodata, db.nodata
        W, H = (da.width, da.height) if win is None else (win[0] + win[2], win[1] + win[3])
        C0, R0 = (0, 0) if win is None else win[:2]
        for zid, g in zip(ids, geoms):
            minx, miny, maxx, maxy = g.bounds
            c0 = max(int(math.floor((minx - t.c) / t.a)), C0)
            c1 = min(int(math.ceil((maxx - t.c) / t.a)), W)
            r0 = max(int(math.floor((maxy - t.f) / t.e)), R0)
            r1 = min(int(math.ceil((miny - t.f) / t.e)), H)
            w = Window(c0, r0, c1 - c0, r1 - r0)
            va, vb = da.read(1, window=w).ravel(), db.read(1, window=w).ravel()
            rows, cols = np.mgrid[r0:r1, c0:c1]
            x0, y0 = t.c + cols.ravel() * t.a, t.f + rows.ravel() * t.e
            boxes = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
            bnd = shapely.boundary(g)
            shapely.prepare(bnd)
            shapely.prepare(g)
            on_b = shapely.intersects(bnd, boxes)
            inside = shapely.contains_xy(g, x0 + t.a / 2, y0 + t.e / 2) & ~on_b
            area = np.zeros(len(va))
            area[inside] = abs(t.a * t.e)
            area[on_b] = shapely.area(shapely.intersection(boxes[on_b], g))
            ok = (va != nda) & (vb != ndb)
            tr = {}
            for a, b, ar in zip(va[ok & (area > 0)], vb[ok & (area > 0)], area[ok & (area > 0)]):
                row = tr.setdefault(str(int(a)), {})
                row[str(int(b))] = row.get(str(int(b)), 0.0) + float(ar)
            out[zid] = (tr, float(area[ok].sum()), float(area[~ok].sum()), g.area)
    return out


def change_doc(cells: dict) -> dict:
    zones = []
    for zid, (tr, valid, nodata, zarea) in cells.items():
        fb = sum(tr.get("2", {}).values())
        fa = sum(row.get("2", 0.0) for row in tr.values())
        gain = sum(row.get("2", 0.0) for f, row in tr.items() if f != "2")
        loss = sum(a for t, a in tr.get("2", {}).items() if t != "2")
        zones.append({"id": zid, "name": zid, "zone_area_m2": zarea, "valid_area_m2": valid,
                      "nodata_area_m2": nodata, "transitions": tr,
                      "forest_before_m2": fb, "forest_after_m2": fa, "forest_gain_m2": gain,
                      "forest_loss_m2": loss, "forest_net_m2": fa - fb,
                      "forest_cover_before": fb / valid if valid else None,
                      "forest_cover_after": fa / valid if valid else None, "attributes": {}})
    return {"schema": "qingshan.change/1", "legend": "clcd", "crs": "EPSG:4545", "zones": zones}


# ---------------------------------------------------------------- redline


def laea_redline_doc(old, new, towns, tol: float) -> dict:
    """The diff with every overlay in a local Lambert azimuthal equal-area CRS
    (both layers and the towns in the ops CRS vertex by vertex — the rule —
    then densified there to 10 m and reprojected to the LAEA); planar areas."""
    import shapely
    from pyproj import Transformer
    from pyproj.crs import ProjectedCRS
    from pyproj.crs.coordinate_operation import LambertAzimuthalEqualAreaConversion

    geog = old.crs.geodetic_crs
    b = shapely.union_all(old.geoms).bounds
    lon, lat = Transformer.from_crs(old.crs, geog, always_xy=True).transform((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    laea = ProjectedCRS(conversion=LambertAzimuthalEqualAreaConversion(lat, lon), geodetic_crs=geog)

    ops, _ = peerlib.redline_ops_crs(old, new)

    def to_laea(layer):
        step = 10.0 / 111_320.0 if ops.is_geographic else 10.0
        return peerlib.reproject(peerlib.to_ops(layer, ops), ops, laea, densify=step)

    og, ng = to_laea(old), to_laea(new)
    uo, un = shapely.union_all(og), shapely.union_all(ng)
    lost, gained = uo.difference(un), un.difference(uo)
    doc = {"schema": "qingshan.redline/1", "kind": "diff", "tolerance_m2": tol,
           "old_total_m2": uo.area, "new_total_m2": un.area, "delta_m2": un.area - uo.area,
           "lost_m2": lost.area, "gained_m2": gained.area, "shrunk": un.area < uo.area - tol,
           "polygons": [], "towns": []}
    ob, nb = dict(zip(old.ids, og)), dict(zip(new.ids, ng))
    for pid in list(old.ids) + [i for i in new.ids if i not in ob]:
        o, n = ob.get(pid), nb.get(pid)
        oa, na = (o.area if o is not None else 0.0), (n.area if n is not None else 0.0)
        lo = oa if n is None else (0.0 if o is None else o.difference(n).area)
        ga = na if o is None else (0.0 if n is None else n.difference(o).area)
        d = na - oa
        st = ("removed" if n is None else "added" if o is None else
              "unchanged" if lo <= tol and ga <= tol else "grown" if d > tol else
              "shrunk" if d < -tol else "reshaped")
        doc["polygons"].append({"id": pid, "name": pid, "old_m2": oa, "new_m2": na, "delta_m2": d,
                                "lost_m2": lo, "gained_m2": ga, "status": st})
    for tid, t in zip(towns.ids, to_laea(towns)):
        oa, na = uo.intersection(t).area, un.intersection(t).area
        doc["towns"].append({"id": tid, "name": tid, "old_m2": oa, "new_m2": na, "delta_m2": na - oa,
                             "lost_m2": lost.intersection(t).area, "gained_m2": gained.intersection(t).area,
                             "shrunk": na < oa - tol})
    return doc


# ---------------------------------------------------------------- driver


class Runner:
    def __init__(self):
        self.failed = []

    def expect(self, label: str, want: int, cmd: list[str]) -> str:
        proc = subprocess.run([sys.executable, *cmd], capture_output=True, text=True)
        ok = proc.returncode == want
        print(f"{'ok  ' if ok else 'FAIL'} exit {proc.returncode} (want {want})  {label}")
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        for ln in lines:
            keep = ln.lstrip().startswith(("worst", "zone ", "polygon ", "town ", "layer ", "error",
                                           "note        the rasters'"))
            if ok and not keep:
                continue
            print(f"       {ln}")
        if not ok:
            self.failed.append(label)
        return proc.stdout


def write(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    return path


def main(argv=None) -> int:
    import shapely

    root = os.path.dirname(os.path.dirname(HERE))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fixtures", default=os.path.join(root, "fixtures"))
    default_bin = os.path.join(root, "target", "release", "qingshan")
    p.add_argument("--qingshan", default=default_bin if os.path.exists(default_bin) else None)
    p.add_argument("--keep", metavar="DIR", help="keep the documents here instead of a temp dir")
    args = p.parse_args(argv)
    fx = args.fixtures
    b19, a24 = os.path.join(fx, "landcover", "clcd_2019.vrt"), os.path.join(fx, "landcover", "clcd_2024.vrt")
    towns_p, r19, r24 = (os.path.join(fx, n) for n in ("towns.geojson", "redlines_2019.geojson", "redlines_2024.gpkg"))
    tmpobj = None if args.keep else tempfile.TemporaryDirectory(prefix="qingshan-selftest-")
    tmp = args.keep or tmpobj.name
    os.makedirs(tmp, exist_ok=True)
    run = Runner()
    cc = os.path.join(HERE, "change_check.py")
    rr = os.path.join(HERE, "redline_reference.py")

    # --- change: towns and 2019 red lines as zones (both in the raster CRS)
    for zname, zpath, idf in (("towns", towns_p, None), ("red lines 2019", r19, "hx_id")):
        z = peerlib.load_zones(zpath, idf)
        cells = cell_transitions(b19, a24, z.ids, z.geoms)
        good = write(os.path.join(tmp, f"change_{zname[:5]}.json"), change_doc(cells))
        base = [cc, "--before", b19, "--after", a24, "--zones", zpath, "--qingshan", good]
        if idf:
            base[base.index("--qingshan"):base.index("--qingshan")] = ["--id-field", idf]
        run.expect(f"change, {zname}: shapely cell intersections", 0, base)
        if zname == "towns":
            run.expect("change, towns: combined raster in UInt32 (--factor 100000)", 0,
                       [*base, "--factor", "100000"])
            doc = change_doc(cells)
            bad = copy.deepcopy(doc)
            bad["zones"][1]["transitions"]["1"]["2"] *= 1 + 1e-4
            run.expect("change, towns: transition azhuang 1→2 × (1 + 1e-4)", 1,
                       [*base[:-1], write(os.path.join(tmp, "bad_tr.json"), bad)])
            bad = copy.deepcopy(doc)
            bad["zones"][0]["forest_gain_m2"] *= 1 + 1e-4
            run.expect("change, towns: forest_gain_m2 jinsuoguan × (1 + 1e-4)", 1,
                       [*base[:-1], write(os.path.join(tmp, "bad_gain.json"), bad)])
            bad = copy.deepcopy(doc)
            bad["zones"][0]["forest_cover_after"] *= 1 + 1e-4
            run.expect("change, towns: forest_cover_after jinsuoguan × (1 + 1e-4)", 1,
                       [*base[:-1], write(os.path.join(tmp, "bad_cover.json"), bad)])
            bad = copy.deepcopy(doc)
            bad["zones"][1]["nodata_area_m2"] *= 1 + 1e-4
            run.expect("change, towns: nodata_area_m2 azhuang × (1 + 1e-4)", 1,
                       [*base[:-1], write(os.path.join(tmp, "bad_nodata.json"), bad)])

    # cropped `after` (same lattice, smaller extent) with zones inside the crop
    crop = os.path.join(tmp, "after_crop.tif")
    win = (150, 100, 500, 420)  # col, row, width, height
    subprocess.run(["gdal_translate", "-q", "-srcwin", *map(str, win), a24, crop], check=True)
    z = peerlib.load_zones(r19, "hx_id")
    info = peerlib.open_raster(crop)
    x0, y1 = info.transform.c, info.transform.f
    inner = shapely.box(x0 + 1, y1 - 30 * win[3] + 1, x0 + 30 * win[2] - 1, y1 - 1)
    keep = [i for i, g in enumerate(z.geoms) if inner.contains(g)]
    sub = os.path.join(tmp, "zones_in_crop.geojson")
    feats = [{"type": "Feature", "properties": {"hx_id": z.ids[i]}, "geometry": shapely.geometry.mapping(z.geoms[i])}
             for i in keep]
    write(sub, {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4545"}},
                "features": feats})
    doc = change_doc(cell_transitions(b19, a24, [z.ids[i] for i in keep], [z.geoms[i] for i in keep]))
    run.expect(f"change, after cropped to {win[2]}×{win[3]} cells, {len(keep)} red lines inside", 0,
               [cc, "--before", b19, "--after", crop, "--zones", sub, "--id-field", "hx_id",
                "--qingshan", write(os.path.join(tmp, "change_crop.json"), doc)])
    shifted = os.path.join(tmp, "after_shifted.tif")
    subprocess.run(["gdal_translate", "-q", "-a_ullr", "582015", "3908000", "606015", "3890000", a24, shifted],
                   check=True)
    run.expect("change, after shifted by half a cell: grids differ", 2,
               [cc, "--before", b19, "--after", shifted, "--zones", sub, "--id-field", "hx_id",
                "--qingshan", os.path.join(tmp, "change_crop.json")])

    # --- redline
    old, new, towns = (peerlib.load_zones(r19, "hx_id"), peerlib.load_zones(r24, "hx_id"),
                       peerlib.load_zones(towns_p))
    # Both routes compare the layers as qingshan's rule says (a layer
    # rounded to the centimetre and a finer one rounded to match).
    doc = laea_redline_doc(*peerlib.align_precision(old, new), towns, 1.0)
    base = [rr, "--old", r19, "--new", r24, "--id-field", "hx_id", "--towns", towns_p, "--qingshan"]
    run.expect("redline: overlays and planar areas in a local LAEA CRS", 0,
               [*base, write(os.path.join(tmp, "redline_laea.json"), doc)])
    for label, edit in (
        ("HX-JSG-03 gained_m2 × (1 + 1e-4)", lambda d: d["polygons"][2].__setitem__(
            "gained_m2", d["polygons"][2]["gained_m2"] * (1 + 1e-4))),
        ("new_total_m2 × (1 + 1e-4)", lambda d: d.__setitem__("new_total_m2", d["new_total_m2"] * (1 + 1e-4))),
        ("town azhuang old_m2 × (1 + 1e-4)", lambda d: d["towns"][1].__setitem__(
            "old_m2", d["towns"][1]["old_m2"] * (1 + 1e-4))),
        ("HX-JSG-03 status reshaped -> shrunk", lambda d: d["polygons"][2].__setitem__("status", "shrunk")),
        ("town jinsuoguan shrunk true -> false", lambda d: d["towns"][0].__setitem__("shrunk", False)),
    ):
        bad = copy.deepcopy(doc)
        edit(bad)
        run.expect(f"redline: {label}", 1, [*base, write(os.path.join(tmp, "redline_bad.json"), bad)])

    # --- qingshan itself (informational)
    if args.qingshan:
        qc = os.path.join(tmp, "q_change.json")
        qr = os.path.join(tmp, "q_redline.json")
        ok1 = subprocess.run([args.qingshan, "change", "--before", b19, "--after", a24, "--zones", towns_p,
                              "--area", "planar", "-q", "-o", qc]).returncode == 0
        rc = subprocess.run([args.qingshan, "redline", "diff", r19, r24, "--id-field", "hx_id",
                             "--towns", towns_p, "-o", qr]).returncode
        print(f"\nqingshan ({args.qingshan}) on the fixtures (informational):")
        if ok1:
            subprocess.run([sys.executable, cc, "--before", b19, "--after", a24, "--zones", towns_p,
                            "--qingshan", qc])
        if rc in (0, 3) and os.path.exists(qr):
            subprocess.run([sys.executable, rr, "--old", r19, "--new", r24, "--id-field", "hx_id",
                            "--towns", towns_p, "--qingshan", qr])
    print(f"\n{'all expectations held' if not run.failed else f'{len(run.failed)} FAILED: ' + '; '.join(run.failed)}")
    if tmpobj:
        tmpobj.cleanup()
    return 0 if not run.failed else 1


if __name__ == "__main__":
    sys.exit(main())
