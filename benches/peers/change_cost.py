#!/usr/bin/env python3
"""What a `qingshan change` run costs next to a single-date `qingshan stats`
run on the same generated set (same zones, same tiles, 2 dates).

    python3 benches/peers/change_cost.py [--workdir DIR] [--width 12000 --height 9000 --zones 400]
        [--threads 2] [--repeat 5] [--skip-generate] [--qingshan BIN]

Generates the set with `qingshan-fixtures synthetic --years 2019,2024` (unless
present), runs each command --repeat times alternating, and prints the
fastest wall time of each and their ratio (the target is change ≤ 1.3 ×
stats). Exit 1 if a run fails.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import peerlib

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workdir", default=str(ROOT / "benches/peers/out-change"))
    p.add_argument("--width", type=int, default=12000)
    p.add_argument("--height", type=int, default=9000)
    p.add_argument("--zones", type=int, default=400)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--skip-generate", action="store_true")
    p.add_argument("--qingshan", default=str(ROOT / "target/release/qingshan"))
    a = p.parse_args()
    work = Path(a.workdir)
    s = work / "set"
    if not a.skip_generate:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "qingshan-cli"], cwd=ROOT, check=True)
    peerlib.synthetic_set(s, a.width, a.height, 4, 4, a.zones, years="2019,2024", skip_generate=a.skip_generate)
    common = ["--zones", str(s / "zones.geojson"), "--id-field", "zone_id", "--threads", str(a.threads), "-q"]
    cmds = {
        "stats": [a.qingshan, "stats", "--landcover", str(s / "clcd_2019.vrt"), *common, "-o", str(work / "s.json")],
        "change": [a.qingshan, "change", "--before", str(s / "clcd_2019.vrt"), "--after", str(s / "clcd_2024.vrt"),
                   *common, "-o", str(work / "c.json")],
    }
    best = {k: float("inf") for k in cmds}
    for _ in range(a.repeat):
        for k, c in cmds.items():
            t0 = time.perf_counter()
            proc = subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, _ = os.wait4(proc.pid, 0)
            dt = time.perf_counter() - t0
            if os.waitstatus_to_exitcode(status) != 0:
                print(f"{k} failed: {proc.stderr.read().decode()}", file=sys.stderr)
                return 1
            best[k] = min(best[k], dt)
    print(f"set: {a.width}×{a.height} px per date, {a.zones} zones, {a.threads} threads, best of {a.repeat}")
    for k, v in best.items():
        print(f"  {k:<7} {v:.3f} s")
    print(f"  change / stats = {best['change'] / best['stats']:.2f}")
    for k, c in cmds.items():
        print("  " + " ".join(c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
