#!/usr/bin/env python3
"""exactextract worker timed by run.py: per-zone class areas -> reference JSON.

    python3 benches/peers/ee_worker.py --raster R [R2 ...] --zones Z [--id-field F] \
        --out REF.json [--strategy feature-sequential|raster-sequential]

One process, exactextract's default settings; ops ``unique``, ``frac``,
``count`` and ``count(default_value=nodata)`` (see peerlib.exactextract_reference).
The output has the shape of qingshan's zones (schema qingshan.peers.reference/1)
plus the seconds spent in exactextract itself.
"""

import argparse
import sys
import time

import peerlib


def main(argv=None) -> int:
    t0 = time.perf_counter()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--raster", nargs="+", required=True)
    p.add_argument("--zones", required=True)
    p.add_argument("--id-field")
    p.add_argument("--out", required=True)
    p.add_argument("--strategy", default="feature-sequential",
                   choices=["feature-sequential", "raster-sequential"])
    args = p.parse_args(argv)
    try:
        with peerlib.temp_dir() as tmp:
            info = peerlib.open_raster(peerlib.mosaic_path(args.raster, tmp))
            zones = peerlib.load_zones(args.zones, args.id_field)
            geoms = peerlib.reproject(zones.geoms, zones.crs, info.crs)
            t1 = time.perf_counter()
            ref = peerlib.exactextract_reference(info, zones.ids, geoms, strategy=args.strategy)
            t2 = time.perf_counter()
    except peerlib.UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return peerlib.EXIT_USAGE
    ref["strategy"] = args.strategy
    ref["seconds_exactextract"] = t2 - t1
    ref["seconds_total"] = time.perf_counter() - t0
    peerlib.write_json(args.out, ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
