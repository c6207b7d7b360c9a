#!/usr/bin/env python3
"""Check qingshan's per-zone transition matrices (qingshan change) against exactextract.

    python3 benches/peers/change_check.py --before R [R2 ...] --after R [R2 ...] --zones Z \
        [--id-field F] --qingshan Q.json [--rtol 1e-6] [--atol-m2 1e-3]

The two land-cover rasters are combined, block by block in a temporary
directory, into one raster coding each cell as before × K + after (K the
smallest power of ten above every class code; nodata where either date is
nodata), and exactextract computes each zone's exact coverage of that raster
(unique + frac + count, and the nodata count), which is decoded back into
from-class × to-class areas. Zones are reprojected to the raster CRS as in
exactextract_check.py (densified in their own CRS to about one cell first).
The rasters must share one grid lattice (CRS, cell size, rotation, origins a
whole number of cells apart); if their extents differ only the common extent
is compared. Exit 0 when every zone, transition and forest number agrees, 1
with the list of disagreements otherwise, 2 on usage or input errors (or if
the reference could not be computed).
"""

import argparse
import os
import sys

import exactextract_check
import peerlib


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--before", nargs="+", required=True, metavar="R",
                   help="land cover of the first date; several = tiles of one mosaic (a VRT is built)")
    p.add_argument("--after", nargs="+", required=True, metavar="R",
                   help="land cover of the second date, on the same grid")
    p.add_argument("--zones", required=True, metavar="Z", help="zones (GeoJSON or any OGR format)")
    p.add_argument("--id-field", metavar="F", help="zone id attribute (default: feature id, else index)")
    p.add_argument("--qingshan", required=True, metavar="Q.json", help="qingshan change --format json output")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    p.add_argument("--atol-m2", type=float, default=1e-3, help="absolute floor in m² (default 0.001)")
    p.add_argument("--band", type=int, default=1, help="band holding the classes (default 1)")
    p.add_argument("--forest-classes", metavar="C,C",
                   help="forest class codes (default: from the JSON's legend; clcd = 2)")
    p.add_argument("--factor", type=int, metavar="K",
                   help="combined code = before × K + after (default: smallest power of 10 above every code)")
    p.add_argument("--save-reference", metavar="PATH", help="also write the reference as JSON")
    p.add_argument("--save-combined", metavar="PATH.tif", help="write the combined raster here (kept)")
    return p.parse_args(argv)


def build_reference(args, tmp, qdoc):
    dirs = [os.path.join(tmp, d) for d in ("before", "after")]
    for d in dirs:
        os.makedirs(d)
    before = peerlib.open_raster(peerlib.mosaic_path(list(args.before), dirs[0]))
    after = peerlib.open_raster(peerlib.mosaic_path(list(args.after), dirs[1]))
    zones = peerlib.load_zones(args.zones, args.id_field)
    out = args.save_combined or os.path.join(tmp, "combined.tif")
    path, k, meta = peerlib.change_raster(before, after, out, band=args.band, factor=args.factor)
    info = peerlib.open_raster(path)
    peerlib.require_planar(qdoc, info.crs, args.qingshan)
    # Same reprojection (densify in the zones' CRS, then PROJ) and the same
    # exactextract ops as exactextract_check.py, on the combined raster.
    classes = exactextract_check.build_reference(info, zones)
    return peerlib.change_reference_from_classes(classes, k, meta), before


def main(argv=None) -> int:
    args = parse_args(argv)
    def compute():
        qdoc = peerlib.load_qingshan(args.qingshan, schema=peerlib.CHANGE_SCHEMA)
        with peerlib.temp_dir() as tmp:
            return qdoc, *build_reference(args, tmp, qdoc)

    got = peerlib.compute_reference(compute)
    if isinstance(got, int):
        return got
    (qdoc, ref, before), elapsed = got
    if args.save_reference:
        peerlib.write_json(args.save_reference, ref)

    legend = str(qdoc.get("legend", "")).lower()
    forest = peerlib.FOREST_CLASSES.get(legend)
    if args.forest_classes:
        try:
            forest = {peerlib._class_key(float(c)) for c in args.forest_classes.split(",") if c.strip()}
        except ValueError:
            print(f"error: --forest-classes {args.forest_classes!r}: not a list of codes", file=sys.stderr)
            return peerlib.EXIT_USAGE
    cmp = peerlib.compare_change(qdoc, ref, args.rtol, args.atol_m2, forest)
    meta = ref["combined"]
    if forest is None:
        cmp.notes.append(f"legend {legend!r} has no known forest classes: forest fields not checked "
                         "(give --forest-classes)")
    if not meta["same_extent"]:
        cmp.notes.append(f"the rasters' extents differ: only their common {meta['width']}×{meta['height']} "
                         "cells are compared")
    if qdoc.get("crs"):
        try:
            from pyproj import CRS

            if not CRS.from_user_input(qdoc["crs"]).equals(before.crs, ignore_axis_order=True):
                cmp.notes.append(f"qingshan reports crs {qdoc['crs']}, the raster is {peerlib.crs_label(before.crs)}")
        except Exception:  # noqa: BLE001 - an unparsable label is only a note
            cmp.notes.append(f"qingshan reports crs {qdoc['crs']!r} (not parsable by pyproj)")
    cmp.notes.extend(peerlib.zone_area_notes(qdoc, ref))
    n_tr = sum(len(row) for z in ref["zones"] for row in z["transitions"].values())
    peerlib.print_items_summary(
        "change check", f"{ref['method']}  ({ref['crs']}, forest = {sorted(forest) if forest else '-'})",
        cmp, args.rtol, args.atol_m2, f"{cmp.zones} zones, {n_tr} non-zero reference transitions",
        zone_rel=True)
    print(f"  time        {elapsed:.2f} s for the reference")
    return peerlib.EXIT_AGREE if cmp.ok else peerlib.EXIT_DISAGREE


if __name__ == "__main__":
    sys.exit(main())
