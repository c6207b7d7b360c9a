#!/usr/bin/env python3
"""What a call from Python costs over the command line, on the 108-Mpixel
benchmark set of benches/peers/run.py (12000 x 9000 Int16 tiles, 400 zones).

    python3 benches/py_overhead.py [--workdir benches/peers/out] [--repeat 7] [--threads 2]

Generates the set like run.py when it is missing (same parameters, same
place), needs `pip install ./crates/qingshan-py` and the release CLI
(`cargo build --release -p qingshan-cli`). Times, alternating, best of
--repeat each: the `qingshan stats` process (wall time, as a shell user
sees it) and `qingshan.stats(...)` in this process (the call, after one
warm-up call, with the JSON parsed into a dict). Checks the bytes are the
same and prints the ratio; exit 1 when the call costs more than 5 % over
the command line.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "peers"))

import peerlib  # noqa: E402

import qingshan  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default=str(HERE / "peers" / "out"))
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", default="2")
    a = ap.parse_args()
    setdir = Path(a.workdir) / "set"
    peerlib.synthetic_set(setdir, 12000, 9000, 4, 4, 400)
    vrts = sorted(setdir.rglob("*.vrt"), key=lambda p: ("2019" not in p.name, len(p.parts), str(p)))
    vrt = vrts[0]
    zones = sorted(setdir.rglob("zones.geojson"), key=lambda p: (len(p.parts), str(p)))[0]
    binary = ROOT / "target" / "release" / "qingshan"
    args = ["stats", "-q", "--landcover", str(vrt), "--zones", str(zones), "--threads", a.threads]
    kwargs = dict(landcover=str(vrt), zones=str(zones), threads=int(a.threads))
    cli_best = py_best = None
    out = None
    qingshan.stats(**kwargs)  # warm-up: the extension's first GDAL use
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        p = subprocess.run([str(binary), *args], capture_output=True, check=True)
        dt = time.perf_counter() - t0
        cli_best = dt if cli_best is None else min(cli_best, dt)
        out = p.stdout
        t0 = time.perf_counter()
        r = qingshan.stats(**kwargs)
        dt = time.perf_counter() - t0
        py_best = dt if py_best is None else min(py_best, dt)
    same = r.json == out
    ratio = py_best / cli_best
    print(f"108 Mpixel, {len(r['zones'])} zones, {a.threads} threads, best of {a.repeat}: "
          f"command line {cli_best:.3f} s, Python call {py_best:.3f} s ({ratio:.3f}x); same bytes: {same}")
    return 0 if same and ratio <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
