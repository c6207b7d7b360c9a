#!/usr/bin/env python3
"""Check qingshan's class areas on a lon/lat raster against an independent ellipsoidal reference.

    python3 benches/peers/ellipsoid_reference.py --raster R [R2 ...] --zones Z \
        [--id-field F] --qingshan Q.json [--rtol 1e-5] [--atol-m2 1e-3]

For a geographic raster (e.g. EPSG:4490 CGCS2000 or EPSG:4326) whose zones
may come in another CRS (e.g. EPSG:4545 metres): every zone edge is densified
in the zones' CRS to at most one cell size (shapely.segmentize), the zone is
reprojected to the raster CRS (pyproj), and each raster cell of the zone's
window is classified with shapely: cells touching the zone boundary contribute
the geodesic area (pyproj.Geod on the raster CRS's ellipsoid, holes
subtracted) of cell ∩ zone; cells wholly inside contribute their row's
geodesic cell area. Areas are summed per class, nodata apart; zone_area_m2 is
the geodesic area of the densified polygon. No exactextract, no qingshan code.
Exit 0 on agreement, 1 with the disagreements, 2 on usage or input errors.
"""

import sys

import peerlib


def densify_step(info, zones_crs) -> float:
    """One raster cell, in the zones CRS's units."""
    if zones_crs.is_geographic:
        return min(abs(info.transform.a), abs(info.transform.e))
    unit = zones_crs.axis_info[0].unit_conversion_factor if zones_crs.axis_info else 1.0
    return peerlib.cell_size_m(info) / unit


def build_reference(info, zones):
    if not info.is_geographic:
        raise peerlib.UsageError(f"{info.path}: not a geographic raster ({peerlib.crs_label(info.crs)}); "
                                 "use exactextract_check.py for projected rasters")
    geoms = peerlib.reproject(zones.geoms, zones.crs, info.crs, densify=densify_step(info, zones.crs))
    return peerlib.ellipsoid_reference(info, zones.ids, geoms)


def main(argv=None) -> int:
    p = peerlib.check_arg_parser(__doc__.split("\n")[0], default_rtol=1e-5, default_atol=1e-3)
    args = p.parse_args(argv)
    return peerlib.run_check(args, "ellipsoidal reference check", build_reference, check_zone_area=True)


if __name__ == "__main__":
    sys.exit(main())
