#!/usr/bin/env python3
"""Check qingshan's per-zone class areas against exactextract.

    python3 benches/peers/exactextract_check.py --raster R [R2 ...] --zones Z \
        [--id-field F] --qingshan Q.json [--rtol 1e-6] [--atol-m2 1e-3]

exactextract computes the exact fraction of each cell covered by each zone
(its own C++/GEOS code); class area = Σ coverage × cell area. Zones in
another CRS are densified in their own CRS to about one raster cell and then
reprojected to the raster's CRS. Exit 0 when every zone and class agrees, 1 with the list of
disagreements otherwise, 2 on usage or input errors.

The absolute floor (1e-3 m², a millionth of a 30 m cell) exists because
exactextract keeps coverage fractions as float32 (about 6e-8 relative per
cell): a sliver of 1e-8 of a cell that qingshan measures exactly can come
out as 0 there, so class areas that small cannot be compared relatively.
"""

import sys

import peerlib


def build_reference(info, zones):
    import shapely

    geoms = peerlib.zones_on_raster(zones, info)
    ref = peerlib.exactextract_reference(info, zones.ids, geoms)
    if not info.is_geographic:
        # Informational: the geodesic area of each zone, to tell which
        # definition qingshan's zone_area_m2 follows.
        step = max(abs(info.transform.a), abs(info.transform.e))
        geo = peerlib.reproject(shapely.segmentize(geoms, step), info.crs, info.crs.geodetic_crs)
        geod = peerlib.geod_of(info.crs)
        for z, g in zip(ref["zones"], geo):
            z["geodesic_zone_area_m2"] = peerlib.geodesic_area(geod, g)
    return ref


def main(argv=None) -> int:
    p = peerlib.check_arg_parser(__doc__.split("\n")[0], default_rtol=1e-6, default_atol=1e-3)
    args = p.parse_args(argv)
    return peerlib.run_check(args, "exactextract check", build_reference, check_zone_area=False,
                             planar_only=True)


if __name__ == "__main__":
    sys.exit(main())
