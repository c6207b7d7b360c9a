#!/usr/bin/env python3
"""rasterstats worker timed by run.py (centre-point rasterisation, NOT exact).

    python3 benches/peers/rs_worker.py --raster R --zones Z [--id-field F] --out OUT.json

``rasterstats.zonal_stats(..., categorical=True)`` counts the cells whose
centre falls inside each zone; class area = count × cell area. This is the
usual quick way in Python and is timed for comparison only: its areas differ
from exact coverage along every zone edge, so they are never checked.
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
    args = p.parse_args(argv)
    import shapely
    from rasterstats import zonal_stats

    try:
        with peerlib.temp_dir() as tmp:
            info = peerlib.open_raster(peerlib.mosaic_path(args.raster, tmp))
            if info.is_geographic:
                raise peerlib.UsageError("rs_worker.py handles projected rasters only")
            zones = peerlib.load_zones(args.zones, args.id_field)
            geoms = peerlib.reproject(zones.geoms, zones.crs, info.crs)
            t1 = time.perf_counter()
            stats = zonal_stats([shapely.geometry.mapping(g) for g in geoms], info.path,
                                categorical=True, nodata=info.nodata)
            t2 = time.perf_counter()
    except peerlib.UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return peerlib.EXIT_USAGE
    cell = info.cell_area_planar
    out = []
    for zid, s in zip(zones.ids, stats):
        classes = {peerlib._class_key(k): v * cell for k, v in (s or {}).items()}
        out.append({"id": zid, "valid_area_m2": sum(classes.values()), "nodata_area_m2": 0.0,
                    "classes": classes})
    peerlib.write_json(args.out, {
        "schema": peerlib.REFERENCE_SCHEMA, "crs": peerlib.crs_label(info.crs),
        "method": "rasterstats zonal_stats categorical (cell centres; not exact)",
        "exact": False, "zones": out,
        "seconds_rasterstats": t2 - t1, "seconds_total": time.perf_counter() - t0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
