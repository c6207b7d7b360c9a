#!/usr/bin/env python3
"""What `qingshan slope` costs: next to `qingshan stats` on a land-cover
raster of the same size, next to the gdaldem + exactextract pipeline, and
its peak memory as the DEM grows.

    python3 benches/peers/slope_bench.py [--workdir DIR] [--width 12000 --height 9000]
        [--zones 400] [--threads 2] [--repeat 3] [--skip-generate] [--qingshan BIN]
        [--giga WIDTHxHEIGHT] [--skip-pipeline]

The set: `qingshan-fixtures synthetic` (land cover 2019 + zones) and the same
grid's DEM (`--dem-only`: Int16, the demo landscape's elevation, mirrored).
Timed, best of --repeat, all with --area planar and --threads:

- `qingshan stats` on the land cover (the issue's yardstick: slope ≤ 1.5 ×);
- `qingshan slope` on the DEM, same zones;
- the pipeline a GIS specialist runs today: `gdaldem slope -compute_edges`
  on a VRT of the tiles → classify into grades (numpy, block by block) →
  exactextract per-zone grade areas (unique/frac/count).

With --giga, a second DEM of that size (e.g. 36000x28000, ~1 Gpixel) with
its own 400 zones is generated and `qingshan slope` is run on both; peak
RSS (/usr/bin/time) of each run is printed: memory must not grow with
the DEM. Exit 1 if a run fails.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import peerlib

ROOT = Path(__file__).resolve().parents[2]


def run(cmd, what):
    """Wall time and peak RSS (MB) of a command."""
    dt, rss, _ = peerlib.timed(cmd, what)
    return dt, rss


def make_set(s: Path, width: int, height: int, tiles: tuple, zones: int, skip: bool) -> Path:
    peerlib.synthetic_set(s, width, height, tiles[0], tiles[1], zones, years="2019", skip_generate=skip)
    if not (s / "dem").is_dir():
        subprocess.run(["cargo", "run", "--release", "-q", "-p", "qingshan-fixtures", "--", "synthetic",
                        "--out", str(s), "--width", str(width), "--height", str(height),
                        "--tiles-x", str(tiles[0]), "--tiles-y", str(tiles[1]), "--zones", str(zones),
                        "--years", "2019", "--dem-only"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return s


def pipeline(s: Path, tmp: str, bounds):
    """gdaldem → classify → exactextract, timed as one."""
    import numpy as np
    import rasterio
    from exactextract import exact_extract

    vrt = os.path.join(tmp, "dem.vrt")
    subprocess.run(["gdalbuildvrt", "-q", "-srcnodata", "-32768", "-vrtnodata", "-32768", vrt,
                    *sorted(str(p) for p in (s / "dem").glob("*.tif"))], check=True)
    slope = os.path.join(tmp, "slope.tif")
    subprocess.run(["gdaldem", "slope", "-q", "-compute_edges", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE",
                    vrt, slope], check=True)
    grades = os.path.join(tmp, "grades.tif")
    with rasterio.open(slope) as src:
        prof = src.profile
        prof.update(dtype="uint8", nodata=0, compress="deflate", tiled=True)
        with rasterio.open(grades, "w", **prof) as dst:
            for _, win in src.block_windows(1):
                v = src.read(1, window=win)
                g = (np.searchsorted(np.asarray(bounds), v, side="left") + 1).astype(np.uint8)
                g[v == src.nodata] = 0
                dst.write(g, 1, window=win)
    import geopandas as gpd

    zones = gpd.read_file(s / "zones.geojson")
    exact_extract(grades, zones, ["unique", "frac", "count"], include_cols=["zone_id"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workdir", default=str(ROOT / "benches/peers/out-slope"))
    p.add_argument("--width", type=int, default=12000)
    p.add_argument("--height", type=int, default=9000)
    p.add_argument("--zones", type=int, default=400)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-generate", action="store_true")
    p.add_argument("--skip-pipeline", action="store_true")
    p.add_argument("--giga", metavar="WxH", help="also a DEM of this size, for peak memory")
    p.add_argument("--qingshan", default=str(ROOT / "target/release/qingshan"))
    a = p.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if not a.skip_generate:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "qingshan-cli"], cwd=ROOT, check=True)
    s = make_set(work / "set", a.width, a.height, (4, 4), a.zones, a.skip_generate)
    common = ["--zones", str(s / "zones.geojson"), "--id-field", "zone_id", "--area", "planar",
              "--threads", str(a.threads), "-q"]
    cmds = {
        "stats": [a.qingshan, "stats", "--landcover", str(s / "clcd_2019.vrt"), *common, "-o", str(work / "s.json")],
        "slope": [a.qingshan, "slope", "--dem", str(s / "dem"), *common, "-o", str(work / "q.json")],
    }
    best = {k: (float("inf"), 0.0) for k in cmds}
    try:
        for _ in range(a.repeat):
            for k, c in cmds.items():
                dt, rss = run(c, k)
                if dt < best[k][0]:
                    best[k] = (dt, rss)
        mp = a.width * a.height / 1e6
        print(f"set: {a.width}×{a.height} px ({mp:.0f} Mpixel), {a.zones} zones, {a.threads} threads, best of {a.repeat}")
        for k, (t, rss) in best.items():
            print(f"  {k:<9} {t:7.2f} s  peak {rss:6.0f} MB")
        print(f"  slope / stats = {best['slope'][0] / best['stats'][0]:.2f} (target ≤ 1.5)")
        if not a.skip_pipeline:
            with peerlib.temp_dir() as tmp:
                t0 = time.perf_counter()
                pipeline(s, tmp, [2.0, 6.0, 15.0, 25.0])
                tp = time.perf_counter() - t0
            print(f"  gdaldem + classify + exactextract {tp:7.2f} s → qingshan slope is "
                  f"{tp / best['slope'][0]:.1f}× faster (target ≥ 10)")
        if a.giga:
            gw, gh = (int(v) for v in a.giga.lower().split("x"))
            g = make_set(work / "giga", gw, gh, (12, 10), a.zones, a.skip_generate)
            gcmd = [a.qingshan, "slope", "--dem", str(g / "dem"), "--zones", str(g / "zones.geojson"),
                    "--id-field", "zone_id", "--area", "planar", "--threads", str(a.threads), "-q",
                    "-o", str(work / "qg.json")]
            dt, rss = run(gcmd, "slope (giga)")
            print(f"  slope on {gw}×{gh} ({gw * gh / 1e9:.2f} Gpixel): {dt:.2f} s, peak {rss:.0f} MB "
                  f"(vs {best['slope'][1]:.0f} MB at {mp:.0f} Mpixel)")
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
