#!/usr/bin/env python3
"""The batch benchmark: throughput against raw decoding, thread scaling,
peak memory against the number of tiles, and shard/merge byte identity.

    python3 benches/peers/batch_bench.py [--workdir DIR] [--tile 5000] [--zones 400]
        [--repeat 3] [--skip-64] [--qingshan BIN]

Sets (made with `qingshan-fixtures synthetic`, 30 m CLCD-coded u8 tiles):
16 tiles of TILE×TILE cells (4×4; 400 Mpixel at the default 5000) and 64
tiles (8×8) of the same size, each with ZONES zones. Measured, each the
fastest of --repeat runs, every run a fresh process (peak RSS from wait4):

- raw decode: `qingshan batch --read-only` (every block of every tile read
  through GDAL, nothing computed) on 1 and 2 threads;
- `qingshan batch` on 1 and 2 threads;
- a 4-shard run (shards one after another, 2 threads) + `qingshan merge`,
  compared byte for byte with the single run's stats.json, on each set;
- the same four runs on the 64-tile set (1.6 Gpixel at the default size):
  peak RSS must not grow, and the fixed start-up cost (≈ 45 ms of dynamic
  linking of GDAL's libraries, zone preparation) weighs less there, so the
  scaling of the per-pixel work shows.

Targets (issue 4): batch ≥ 70 % of the raw decode rate; 2 threads ≥ 1.8× 1;
peak RSS ≤ 500 MB and not growing from 16 to 64 tiles; shards identical.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import peerlib

ROOT = Path(__file__).resolve().parents[2]


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return dt, ru.ru_maxrss / 1024.0


def best(cmd, repeat, before=None):
    out = (float("inf"), 0.0)
    for _ in range(repeat):
        if before:
            before()
        out = min(out, run(cmd))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", default=str(ROOT / "benches/peers/out-batch"))
    ap.add_argument("--tile", type=int, default=5000)
    ap.add_argument("--zones", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-64", action="store_true")
    ap.add_argument("--qingshan", default=str(ROOT / "target/release/qingshan"))
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "qingshan-cli", "-p", "qingshan-fixtures"],
                   cwd=ROOT, check=True)
    q = a.qingshan
    work = Path(a.workdir)
    s16, s64 = work / "set16", work / "set64"
    peerlib.synthetic_set(s16, 4 * a.tile, 4 * a.tile, 4, 4, a.zones)
    if not a.skip_64:
        peerlib.synthetic_set(s64, 8 * a.tile, 8 * a.tile, 8, 8, a.zones)
    mpx16 = 16 * a.tile * a.tile / 1e6

    def batch_cmd(s, out, threads, *extra):
        return [q, "batch", "--tiles", str(s / "clcd_2019"), "--zones", str(s / "zones.geojson"), "--id-field",
                "zone_id", "--out-dir", str(out), "--threads", str(threads), "-q", *extra]

    def fresh(d):
        return lambda: shutil.rmtree(d, ignore_errors=True)

    sets = [("16", s16, mpx16)] + ([] if a.skip_64 else [("64", s64, 4 * mpx16)])
    res = {}
    for name, s, _ in sets:
        for t in (1, 2):
            res[f"read{t}-{name}"] = best([q, "batch", "--tiles", str(s / "clcd_2019"), "--read-only", "--out-dir",
                                           str(work / "ro"), "--threads", str(t), "-q"], a.repeat)
            out = work / f"b{t}-{name}"
            res[f"batch{t}-{name}"] = best(batch_cmd(s, out, t), a.repeat, fresh(out))
    # Four shards, then merge, on each set.
    shards = {}
    for name, s, _ in sets:
        shard_dirs = []
        t_shards = 0.0
        rss_shards = 0.0
        for i in range(4):
            d = work / f"shard{i}-{name}"
            shutil.rmtree(d, ignore_errors=True)
            dt, rss = run(batch_cmd(s, d, 2, "--shard", f"{i}/4"))
            t_shards += dt
            rss_shards = max(rss_shards, rss)
            shard_dirs.append(str(d))
        merged = work / f"merged-{name}.json"
        dt_merge, _ = run([q, "merge", *shard_dirs, "-o", str(merged)])
        same = merged.read_bytes() == (work / f"b2-{name}" / "stats.json").read_bytes()
        shards[name] = (t_shards + dt_merge, rss_shards, same)
    identical = all(v[2] for v in shards.values())
    identical_threads = all((work / f"b1-{n}" / "stats.json").read_bytes() ==
                            (work / f"b2-{n}" / "stats.json").read_bytes() for n, _, _ in sets)

    print(f"machine: {os.cpu_count()} cores; tiles {a.tile}×{a.tile} cells (25 Mpixel at 5000), {a.zones} zones")
    print(f"fastest of {a.repeat}, each run a fresh process (whole-process wall time)")
    print(f"{'run':<40}{'wall s':>8}{'Mpixel/s':>10}{'peak RSS MB':>13}")
    for name, _, mpx in sets:
        for k, label in [("read1", "raw decode, 1 thread"), ("read2", "raw decode, 2 threads"),
                         ("batch1", "batch, 1 thread"), ("batch2", "batch, 2 threads")]:
            dt, rss = res[f"{k}-{name}"]
            print(f"{name} tiles ({mpx:.0f} Mpx), {label:<26}{dt:>8.2f}{mpx / dt:>10.0f}{rss:>13.0f}")
    for name, (dt, rss, _) in shards.items():
        print(f"{name + ' tiles, 4 shards (in turn) + merge':<40}{dt:>8.2f}{'':>10}{rss:>13.0f}")
    print()
    for name, _, _ in sets:
        r = lambda k: res[f"{k}-{name}"][0]  # noqa: E731
        print(f"{name} tiles: batch / raw decode rate (2 threads) {r('read2') / r('batch2'):.2f} (target ≥ 0.70), "
              f"(1 thread) {r('read1') / r('batch1'):.2f}; speed-up 1 → 2 threads: batch {r('batch1') / r('batch2'):.2f} "
              f"(target ≥ 1.8), raw decode {r('read1') / r('read2'):.2f}")
    for name, (_, _, same) in shards.items():
        print(f"{name} tiles: 4 shards + merge == single run (bytes): {same}")
    print(f"1 thread == 2 threads (bytes):       {identical_threads}")
    if not a.skip_64:
        print(f"peak RSS 16 → 64 tiles (2 threads):  {res['batch2-16'][1]:.0f} → {res['batch2-64'][1]:.0f} MB")
    return 0 if identical and identical_threads else 1


if __name__ == "__main__":
    sys.exit(main())
