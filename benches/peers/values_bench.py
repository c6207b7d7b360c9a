#!/usr/bin/env python3
"""What `qingshan values` and `qingshan series` cost, next to exactextract.

    python3 benches/peers/values_bench.py [--workdir DIR] [--threads 2] [--repeat 3]
        [--skip-generate] [--skip-exactextract] [--qingshan BIN]

The set: the slope benchmark's (`qingshan-fixtures synthetic`, 12000 × 9000
cells of 30 m, 400 zones, its Int16 DEM in 16 tiles). The value raster: the
DEM resampled bilinearly 0.37 cell off its grid to Float32 (one GeoTIFF,
tiled, DEFLATE): 108 Mpixel of continuous values, nearly all distinct
within a zone — the hard case for exact quantiles.

Timed, best of --repeat, --area planar:

- `qingshan values --stats mean,stddev,median,q10,q90` at --threads and at 1;
- exactextract (Python, one process) with ops mean, stdev, median,
  quantile(q=0.1), quantile(q=0.9) on the same raster and zones, through
  values_check.py, which also checks that the two agree (quantiles cast to
  float32 as exactextract returns them);
- `qingshan series` over 6 dates of the land cover (the same VRT six times)
  against `qingshan stats` on it once: the issue's yardstick is ≤ 6.5×.

Peak memory (/usr/bin/time) is printed for each qingshan run. Exit 1 if a
run fails or the results disagree.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import peerlib

ROOT = Path(__file__).resolve().parents[2]
STATS = "mean,stddev,median,q10,q90"


def value_raster(s: Path, work: Path) -> Path:
    out = work / "values_f32.tif"
    if out.exists():
        return out
    tiles = sorted(str(p) for p in (s / "dem").glob("*.tif"))
    vrt = work / "dem.vrt"
    subprocess.run(["gdalbuildvrt", "-q", str(vrt), *tiles], check=True)
    info = peerlib.open_raster(str(vrt))
    t = info.transform
    # Off the grid by 0.37 cell: bilinear weights of 0.37 and 0.63 give
    # values with many digits (half a cell would give quarter-integers).
    x0, y1 = t.c + 0.37 * t.a, t.f + 0.37 * t.e
    x1, y0 = x0 + t.a * (info.width - 1), y1 + t.e * (info.height - 1)
    subprocess.run(["gdalwarp", "-q", "-r", "bilinear", "-ot", "Float32", "-dstnodata", "-9999",
                    "-te", str(x0), str(y0), str(x1), str(y1), "-tr", str(t.a), str(-t.e),
                    "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=3",
                    "-co", "BIGTIFF=YES", "-wm", "512", "-multi", str(vrt), str(out)], check=True)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workdir", default=str(ROOT / "benches/peers/out-values"))
    p.add_argument("--slope-set", default=str(ROOT / "benches/peers/out-slope/set"),
                   help="the slope benchmark's set (made by slope_bench.py)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-generate", action="store_true")
    p.add_argument("--skip-exactextract", action="store_true")
    p.add_argument("--qingshan", default=str(ROOT / "target/release/qingshan"))
    a = p.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    s = Path(a.slope_set)
    if not (s / "dem").is_dir():
        subprocess.run([sys.executable, str(ROOT / "benches/peers/slope_bench.py"), "--skip-pipeline",
                        "--repeat", "1"], check=True)
    if not a.skip_generate:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "qingshan-cli"], cwd=ROOT, check=True)
    raster = value_raster(s, work)
    zones = ["--zones", str(s / "zones.geojson"), "--id-field", "zone_id"]
    q = work / "q.json"
    values = lambda threads, out: [a.qingshan, "values", "--raster", str(raster), *zones, "--stats", STATS,
                                   "--area", "planar", "--threads", str(threads), "-q", "-o", str(out)]
    vrt = str(s / "clcd_2019.vrt")
    series = [a.qingshan, "series", *zones, "--area", "planar", "--threads", str(a.threads), "-q",
              "-o", str(work / "series.json"), "--landcover"]
    series += [f"{y}={vrt}" for y in range(2019, 2025)]
    cmds = {
        "values": values(a.threads, q),
        "values-1": values(1, work / "q1.json"),
        "stats": [a.qingshan, "stats", "--landcover", vrt, *zones, "--area", "planar",
                  "--threads", str(a.threads), "-q", "-o", str(work / "stats.json")],
        "series-6": series,
    }
    best = {k: (float("inf"), 0.0) for k in cmds}
    try:
        for _ in range(a.repeat):
            for k, c in cmds.items():
                dt, rss, _ = peerlib.timed(c, k)
                if dt < best[k][0]:
                    best[k] = (dt, rss)
        info = peerlib.open_raster(str(raster))
        mp = info.width * info.height / 1e6
        print(f"value raster: {info.width}×{info.height} Float32 ({mp:.0f} Mpixel), 400 zones, "
              f"best of {a.repeat}, --area planar")
        for k, (t, rss) in best.items():
            print(f"  {k:<9} {t:7.2f} s  peak {rss:6.0f} MB")
        print(f"  series (6 dates) / stats = {best['series-6'][0] / best['stats'][0]:.2f} (target ≤ 6.5)")
        if not a.skip_exactextract:
            dt, rss, out = peerlib.timed(
                [sys.executable, str(ROOT / "benches/peers/values_check.py"), "--raster", str(raster),
                 *zones, "--qingshan", str(q), "--rtol", "1e-8"], "exactextract")
            ee = float(out.split("exactextract: ")[1].split(" s")[0])
            print(f"  exactextract ({STATS}) {ee:7.2f} s in exact_extract(), {dt:.2f} s with Python, "
                  f"peak {rss:.0f} MB")
            print(f"  qingshan values is {ee / best['values'][0]:.1f}× faster at {a.threads} threads, "
                  f"{ee / best['values-1'][0]:.1f}× at 1 (target ≥ 10)")
            print("  " + out.strip().splitlines()[-1])
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
