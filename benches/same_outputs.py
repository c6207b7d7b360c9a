#!/usr/bin/env python3
"""Proves a restructuring kept every output byte-identical.

    python3 benches/same_outputs.py --old OLD_BIN --new NEW_BIN [--bench] [--keep DIR] [--planar]

Runs the same list of qingshan commands with two binaries — every command,
every output format (JSON, CSV, GeoJSON, table), the rasters (transition
raster), the red-line lost geometry and conversion patches, batch partials
and merges, the audit's audit.json and report.html, `qingshan report` and
the demo — each binary in its own working directory with the same relative
paths, and compares:

- every file the old binary wrote with the new one's, byte for byte (the
  per-tile seconds of `tiles_qa.csv` and of batch partials are timings and
  are left out of that comparison — a partial is compared as parsed JSON
  without `qa.seconds` — nothing else is);
- each command's exit code, standard output and standard error (commands
  run with `--quiet` where they have it, so no timing reaches stderr).

Files only the new binary writes are listed (an addition is allowed, a
change is not). With `--bench` the same is done on the benchmark sets
that `benches/peers/run.py`, `change_cost.py` and `batch_bench.py` generate
(their default work directories; sets that are missing are skipped and
named). Exit 0 when everything is identical, 1 otherwise.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FX = ROOT / "fixtures"
PEERS = ROOT / "benches" / "peers"


def fixture_commands():
    """(name, argv) pairs on the fixtures; `out/` is the run's output dir."""
    lc19 = str(FX / "landcover/clcd_2019.vrt")
    lc24 = str(FX / "landcover/clcd_2024.vrt")
    towns = str(FX / "towns.geojson")
    gbk = str(FX / "towns_gbk.shp")
    red19 = str(FX / "redlines_2019.geojson")
    red24 = str(FX / "redlines_2024.gpkg")
    tiles19 = str(FX / "landcover/clcd_2019")
    tiles24 = str(FX / "landcover/clcd_2024")
    lonlat = str(FX / "landcover/clcd_2019_lonlat.tif")
    cmds = []
    for fmt in ["json", "csv", "geojson", "table"]:
        cmds.append((f"stats-{fmt}", ["stats", "--landcover", lc24, "--zones", towns,
                                      "-q", "--format", fmt, "-o", f"out/stats.{fmt}"]))
        cmds.append((f"change-{fmt}", ["change", "--before", lc19, "--after", lc24, "--zones", towns,
                                       "-q", "--format", fmt, "-o", f"out/change.{fmt}"]))
        cmds.append((f"diff-{fmt}", ["redline", "diff", red19, red24, "--id-field", "hx_id",
                                     "--towns", towns, "--format", fmt, "-o", f"out/diff.{fmt}"]))
        cmds.append((f"check-{fmt}", ["redline", "check", "--redlines", red24, "--id-field", "hx_id",
                                      "--before", lc19, "--after", lc24, "-q", "--format", fmt,
                                      "-o", f"out/check.{fmt}"]))
    cmds += [
        ("stats-stdout-table", ["stats", "--landcover", lc24, "--zones", towns, "-q", "--format", "table"]),
        ("stats-tiles-gbk", ["stats", "--landcover", tiles19, "--zones", gbk, "-q", "-o", "out/stats_gbk.csv"]),
        ("stats-lonlat", ["stats", "--landcover", lonlat, "--zones", towns, "-q", "-o", "out/stats_lonlat.json"]),
        ("stats-threads1", ["stats", "--landcover", lc19, "--zones", towns, "-q", "--threads", "1",
                            "-o", "out/stats_t1.json"]),
        ("stats-worldcover", ["stats", "--landcover", lc19, "--zones", towns, "-q", "--legend", "worldcover",
                              "-o", "out/stats_wc.json"]),
        ("change-raster", ["change", "--before", lc19, "--after", lc24, "--zones", red24, "--id-field", "hx_id",
                           "-q", "--change-raster", "out/transitions.tif", "-o", "out/change_red.json"]),
        ("change-tiles", ["change", "--before", tiles19, "--after", tiles24, "--zones", towns, "-q",
                          "-o", "out/change_tiles.json"]),
        ("diff-lost", ["redline", "diff", red19, red24, "--id-field", "hx_id", "--lost-geometry",
                       "out/lost.geojson", "-o", "out/diff_lost.json"]),
        ("diff-strict", ["redline", "diff", red19, red24, "--id-field", "hx_id", "--strict",
                         "--format", "table"]),
        ("diff-reverse", ["redline", "diff", red24, red19, "--id-field", "hx_id", "--format", "table"]),
        ("diff-no-id", ["redline", "diff", red19, red24, "-o", "out/diff_noid.json"]),
        ("check-patches", ["redline", "check", "--redlines", red24, "--id-field", "hx_id",
                           "--before", lc19, "--after", lc24, "-q", "--patches", "out/patches.geojson",
                           "-o", "out/check_patches.json"]),
        ("check-limits", ["redline", "check", "--redlines", red24, "--id-field", "hx_id",
                          "--before", lc19, "--after", lc24, "-q", "--max-conversion-m2", "200000",
                          "--max-vegetation-loss", "0.1", "--format", "table"]),
        ("batch-stats", ["batch", "--tiles", tiles19, "--zones", towns, "--out-dir", "out/batch", "-q"]),
        ("batch-resume", ["batch", "--tiles", tiles19, "--zones", towns, "--out-dir", "out/batch", "-q",
                          "--resume"]),
        ("batch-change", ["batch", "--tiles", tiles19, "--after-tiles", tiles24, "--zones", red24,
                          "--id-field", "hx_id", "--out-dir", "out/batch_change", "-q"]),
        ("batch-shard0", ["batch", "--tiles", tiles19, "--zones", towns, "--out-dir", "out/shard0",
                          "--shard", "0/2", "-q"]),
        ("batch-shard1", ["batch", "--tiles", tiles19, "--zones", towns, "--out-dir", "out/shard1",
                          "--shard", "1/2", "-q"]),
        ("merge-json", ["merge", "out/shard0", "out/shard1", "-o", "out/merged.json", "--qa", "out/merged_qa.csv"]),
        ("merge-csv", ["merge", "out/shard0", "out/shard1", "-o", "out/merged.csv"]),
        ("merge-table", ["merge", "out/shard0", "out/shard1", "--format", "table"]),
        ("merge-change", ["merge", "out/batch_change", "--format", "csv"]),
        ("merge-geojson", ["merge", "out/shard0", "out/shard1", "--format", "geojson"]),
        ("batch-read-only", ["batch", "--tiles", tiles19, "--read-only", "--out-dir", "out/ro", "-q"]),
        ("audit", ["audit", "--config", str(FX / "audit.toml"), "-o", "out/audit", "-q"]),
        ("audit-en", ["audit", "--config", str(FX / "audit.toml"), "-o", "out/audit_en", "-q",
                      "--lang", "en", "--map-size", "300"]),
        ("report-zh", ["report", "--audit", "out/audit/audit.json", "-o", "out/report_zh.html"]),
        ("report-en", ["report", "--audit", "out/audit/audit.json", "-o", "out/report_en.html", "--lang", "en"]),
        ("demo", ["demo", "-o", "out/demo"]),
        # Bad input: the messages must stay as they are.
        ("err-missing", ["stats", "--landcover", "nope.tif", "--zones", towns, "-q"]),
        ("err-legend", ["stats", "--landcover", lc19, "--zones", towns, "--legend", "nope", "-q"]),
        ("err-id-field", ["stats", "--landcover", lc19, "--zones", towns, "--id-field", "nope", "-q"]),
        ("err-grid", ["change", "--before", lc19, "--after", lonlat, "--zones", towns, "-q"]),
        ("err-report", ["report", "--audit", towns, "-o", "out/bad.html"]),
        ("err-outdir", ["stats", "--landcover", lc19, "--zones", towns, "-q", "-o", "nodir/x.json"]),
        ("err-shard", ["batch", "--tiles", tiles19, "--zones", towns, "--out-dir", "out/bad", "--shard", "2/2"]),
    ]
    return cmds


def bench_commands():
    """Commands on the benchmark sets that exist; and the names of missing ones."""
    cmds, missing = [], []
    run_set = PEERS / "out" / "set"
    vrts = sorted(run_set.glob("*2019*.vrt")) if run_set.is_dir() else []
    if vrts and (run_set / "zones.geojson").is_file():
        z = str(run_set / "zones.geojson")
        cmds += [
            ("bench-stats-json", ["stats", "--landcover", str(vrts[0]), "--zones", z, "--id-field", "zone_id",
                                  "-q", "-o", "out/bench_stats.json"]),
            ("bench-stats-csv", ["stats", "--landcover", str(vrts[0]), "--zones", z, "--id-field", "zone_id",
                                 "-q", "-o", "out/bench_stats.csv"]),
        ]
    else:
        missing.append(str(run_set))
    ch_set = PEERS / "out-change" / "set"
    v19 = sorted(ch_set.glob("*2019*.vrt")) if ch_set.is_dir() else []
    v24 = sorted(ch_set.glob("*2024*.vrt")) if ch_set.is_dir() else []
    if v19 and v24 and (ch_set / "zones.geojson").is_file():
        z = str(ch_set / "zones.geojson")
        cmds += [
            ("bench-change-json", ["change", "--before", str(v19[0]), "--after", str(v24[0]), "--zones", z,
                                   "--id-field", "zone_id", "-q", "-o", "out/bench_change.json"]),
            ("bench-change-raster", ["change", "--before", str(v19[0]), "--after", str(v24[0]), "--zones", z,
                                     "--id-field", "zone_id", "-q", "--change-raster", "out/bench_tr.tif",
                                     "-o", "out/bench_change_r.csv"]),
            ("bench-check", ["redline", "check", "--redlines", z, "--id-field", "zone_id",
                             "--before", str(v19[0]), "--after", str(v24[0]), "-q",
                             "--patches", "out/bench_patches.geojson", "-o", "out/bench_check.json"]),
        ]
    else:
        missing.append(str(ch_set))
    b_set = PEERS / "out-batch" / "set16"
    if b_set.is_dir():
        tifs = sorted((b_set / "clcd_2019").glob("*.tif"))
        zones = sorted(b_set.glob("*.geojson"))
        if tifs and zones:
            cmds += [
                ("bench-batch16", ["batch", "--tiles", str(b_set / "clcd_2019"), "--zones", str(zones[0]), "--id-field", "zone_id",
                                   "--out-dir", "out/bench_batch16", "-q"]),
            ]
        else:
            missing.append(str(b_set))
    else:
        missing.append(str(b_set))
    return cmds, missing


def takes_area(argv):
    """Whether a command has `--area`."""
    return argv[0] in ("stats", "change", "batch", "audit") or argv[:2] in (
        ["redline", "diff"], ["redline", "check"])


def run_all(binary, workdir, cmds, extra=()):
    workdir.mkdir(parents=True)
    (workdir / "out").mkdir()
    results = {}
    for name, argv in cmds:
        if extra and takes_area(argv):
            argv = argv + list(extra)
        p = subprocess.run([binary] + argv, cwd=workdir, capture_output=True, stdin=subprocess.DEVNULL)
        results[name] = (p.returncode, p.stdout, p.stderr)
    return results


def strip_seconds(path: Path) -> bytes:
    """tiles_qa.csv without its last column (seconds of work: a timing)."""
    lines = path.read_bytes().split(b"\n")
    return b"\n".join(l.rsplit(b",", 1)[0] for l in lines)


def partial_without_seconds(path: Path):
    """A batch partial with its `qa.seconds` (a timing) left out."""
    doc = json.loads(path.read_bytes())
    doc.get("qa", {}).pop("seconds", None)
    return doc


def without_area(v):
    """A parsed JSON document without its `area` members (what --planar
    leaves out of the comparison: the new binary says how it measured)."""
    if isinstance(v, dict):
        return {k: without_area(x) for k, x in v.items()
                if not (k == "area" and x in ("planar", "ellipsoidal"))}
    if isinstance(v, list):
        return [without_area(x) for x in v]
    return v


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True, help="qingshan binary before the change")
    ap.add_argument("--new", required=True, help="qingshan binary after the change")
    ap.add_argument("--bench", action="store_true", help="also the benchmark sets")
    ap.add_argument("--keep", metavar="DIR", help="keep both runs' outputs here")
    ap.add_argument("--planar", action="store_true",
                    help="run the new binary with --area planar (where a command has it) against an old "
                         "binary without the option, and compare JSON documents without their `area` "
                         "members: planar areas must be the old numbers, bit for bit")
    a = ap.parse_args()
    cmds = fixture_commands()
    missing = []
    if a.bench:
        extra, missing = bench_commands()
        cmds += extra
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="qingshan-same-"))
    if a.keep and work.exists():
        shutil.rmtree(work)
    old = run_all(str(Path(a.old).resolve()), work / "old", cmds)
    new = run_all(str(Path(a.new).resolve()), work / "new", cmds,
                  ["--area", "planar"] if a.planar else [])
    bad = []
    for name, _ in cmds:
        for what, k in (("exit code", 0), ("stdout", 1), ("stderr", 2)):
            if old[name][k] != new[name][k]:
                bad.append(f"{name}: {what} differs:\n  old: {old[name][k]!r:.600}\n  new: {new[name][k]!r:.600}")
    files_old = sorted(p.relative_to(work / "old") for p in (work / "old").rglob("*") if p.is_file())
    files_new = {p.relative_to(work / "new") for p in (work / "new").rglob("*") if p.is_file()}
    same = 0
    for rel in files_old:
        po, pn = work / "old" / rel, work / "new" / rel
        if rel not in files_new:
            bad.append(f"{rel}: written by the old binary only")
            continue
        if rel.name == "tiles_qa.csv" or rel.name.endswith("_qa.csv"):
            eq = strip_seconds(po) == strip_seconds(pn)
        elif rel.parent.name == "partials":
            eq = partial_without_seconds(po) == partial_without_seconds(pn)
        elif a.planar and rel.suffix in (".json", ".geojson") and po.read_bytes() != pn.read_bytes():
            try:
                eq = without_area(json.loads(po.read_bytes())) == without_area(json.loads(pn.read_bytes()))
            except ValueError:
                eq = False
        else:
            eq = po.read_bytes() == pn.read_bytes()
        if eq:
            same += 1
        else:
            bad.append(f"{rel}: bytes differ")
    added = sorted(files_new - set(files_old))
    print(f"{len(cmds)} commands; {same} of {len(files_old)} files identical; "
          f"exit codes, stdout and stderr compared for each command")
    for m in missing:
        print(f"benchmark set missing (skipped): {m}")
    for p in added:
        print(f"new file (only the new binary writes it): {p}")
    for b in bad:
        print(f"DIFFERENT: {b}")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"outputs kept in {work}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
