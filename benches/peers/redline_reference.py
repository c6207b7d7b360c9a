#!/usr/bin/env python3
"""Check qingshan's red-line version diff (qingshan redline diff) against shapely + pyproj.Geod.

    python3 benches/peers/redline_reference.py --old OLD --new NEW [--id-field F] \
        [--towns T --towns-id-field F2] --qingshan Q.json [--rtol 1e-6] [--atol-m2 0.01]

Overlays (unions, differences, intersections with towns) run in shapely
(GEOS) in one projected CRS: OLD's if projected, else NEW's if projected,
else a Lambert azimuthal equal-area CRS centred on the data. A layer in
another CRS is densified in its own CRS to ≤ 10 m and reprojected (pyproj).
Every area is geodesic: the piece is densified to ≤ 1000 m in the ops CRS,
transformed to lon/lat of the same datum and measured with pyproj.Geod on its
ellipsoid (GRS80 for CGCS2000), holes subtracted. Statuses use the JSON's
tolerance_m2. Exit 0 when every number, status and flag agrees, 1 with the
disagreements, 2 on usage or input errors (or if the reference failed).
"""

import argparse
import sys

import peerlib


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--old", required=True, metavar="OLD", help="old (baseline) red-line layer")
    p.add_argument("--new", required=True, metavar="NEW", help="new red-line layer (may be in another CRS)")
    p.add_argument("--id-field", metavar="F", help="red-line id attribute in both layers "
                   "(default: feature id, else index)")
    p.add_argument("--towns", metavar="T", help="also check the per-town totals of these zones")
    p.add_argument("--towns-id-field", metavar="F2", help="town id attribute (default: feature id, else index)")
    p.add_argument("--qingshan", required=True, metavar="Q.json", help="qingshan redline diff --format json output")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    p.add_argument("--atol-m2", type=float, default=0.01, help="absolute floor in m² (default 0.01)")
    p.add_argument("--make-valid", action="store_true", help="repair invalid polygons (shapely.make_valid) "
                   "instead of failing")
    p.add_argument("--save-reference", metavar="PATH", help="also write the reference as JSON")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    def compute():
        qdoc = peerlib.load_qingshan(args.qingshan, schema=peerlib.REDLINE_SCHEMA, list_key="polygons")
        tol = qdoc.get("tolerance_m2")
        if not peerlib._is_num(tol) or tol < 0:
            raise peerlib.UsageError(f"{args.qingshan}: tolerance_m2 is {tol!r}, not a non-negative number")
        old = peerlib.load_zones(args.old, args.id_field)
        new = peerlib.load_zones(args.new, args.id_field)
        towns = peerlib.load_zones(args.towns, args.towns_id_field) if args.towns else None
        return qdoc, peerlib.redline_reference(old, new, towns, float(tol), make_valid=args.make_valid)

    got = peerlib.compute_reference(compute)
    if isinstance(got, int):
        return got
    (qdoc, ref), elapsed = got
    if args.save_reference:
        peerlib.write_json(args.save_reference, ref)
    cmp = peerlib.compare_redline(qdoc, ref, args.rtol, args.atol_m2)
    n_towns = len(ref.get("towns", []))
    peerlib.print_items_summary(
        "red-line diff check",
        f"{ref['method']}; ops CRS {ref['ops_crs']} ({ref['ops_crs_why']}); tolerance {ref['tolerance_m2']:g} m²",
        cmp, args.rtol, args.atol_m2, f"totals, {len(ref['polygons'])} polygons, {n_towns} towns")
    print(f"  totals      old {ref['old_total_m2']:.3f} m², new {ref['new_total_m2']:.3f} m², "
          f"delta {ref['delta_m2']:+.3f} m², shrunk {str(ref['shrunk']).lower()}")
    print(f"  time        {elapsed:.2f} s for the reference")
    return peerlib.EXIT_AGREE if cmp.ok else peerlib.EXIT_DISAGREE


if __name__ == "__main__":
    sys.exit(main())
