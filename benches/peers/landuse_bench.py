#!/usr/bin/env python3
"""Side-by-side timing of `qingshan stats --landuse` and the geopandas
reference (overlay + pyproj.Geod) on the generated land-use benchmark.

    python3 benches/peers/landuse_bench.py [--dir benches/peers/out-landuse] [--skip-generate]
        [--zones towns redlines] [--threads 2] [--skip-reference]

Generates the set with `qingshan-fixtures landuse-bench` (200,000 polygons
of 54-434 vertices, 2 towns, 150 red lines) unless it exists, runs
qingshan (best of --repeat, peak memory from /usr/bin/time), then the
reference once, and checks that every zone x class agrees within 1e-7
(relative to the class area, or to 1e4 m2). Prints one line per zone layer.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from landuse_check import reference  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(HERE, "out-landuse"))
    ap.add_argument("--skip-generate", action="store_true")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--zones", nargs="+", default=["towns", "redlines"])
    ap.add_argument("--threads", default="2")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    bin_dir = os.path.join(ROOT, "target", "release")
    dltb = os.path.join(a.dir, "dltb.gpkg")
    if not a.skip_generate and not os.path.exists(dltb):
        subprocess.run(["cargo", "build", "--release", "-p", "qingshan-cli", "-p", "qingshan-fixtures"],
                       cwd=ROOT, check=True)
        subprocess.run([os.path.join(bin_dir, "qingshan-fixtures"), "landuse-bench", "--out", a.dir], check=True)
    for name in a.zones:
        zones = os.path.join(a.dir, f"{name}.gpkg")
        out = os.path.join(a.dir, f"qingshan_{name}.json")
        best, peak = None, 0
        for _ in range(a.repeat):
            t0 = time.time()
            r = subprocess.run(["/usr/bin/time", "-f", "%M", os.path.join(bin_dir, "qingshan"), "stats", "-q",
                                "--landuse", dltb, "--class-field", "DLBM", "--zones", zones,
                                "--id-field", "zone_id", "--threads", a.threads, "-o", out],
                               capture_output=True, text=True)
            dt = time.time() - t0
            if r.returncode != 0:
                print(r.stderr)
                return 1
            peak = max(peak, int(r.stderr.strip().splitlines()[-1]))
            best = dt if best is None else min(best, dt)
        line = f"{name}: qingshan {best:.2f} s at {a.threads} threads, peak {peak / 1024:.0f} MB"
        if not a.skip_reference:
            t0 = time.time()
            ref, _ = reference(dltb, "DLBM", zones, "zone_id", None)
            ref_s = time.time() - t0
            doc = json.load(open(out))
            worst = 0.0
            for z in doc["zones"]:
                got, want = z["classes"], ref.get(str(z["id"]), {})
                for c in set(got) | set(want):
                    g, w = got.get(c, 0.0), want.get(c, 0.0)
                    worst = max(worst, abs(g - w) / max(abs(w), 1e4))
            line += f"; geopandas reference {ref_s:.1f} s ({ref_s / best:.1f}x); worst difference {worst:.1e}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
