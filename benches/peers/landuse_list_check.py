#!/usr/bin/env python3
"""Checks that a change list written as Shapefile and as XLSX holds the
same rows as its CSV: GDAL (through pyogrio) reads the Shapefile's Chinese
names via its .cpg, openpyxl reads the workbook (Chinese headers, numbers
as numeric cells).

    python3 benches/peers/landuse_list_check.py LIST.shp LIST.xlsx LIST.csv
"""

import csv
import sys

import geopandas as gpd
import openpyxl

HEADERS = ["区域编号", "原图斑标识码", "现图斑标识码", "原地类编码", "原地类名称", "现地类编码",
           "现地类名称", "面积（平方米）", "面积（公顷）", "面积（亩）", "中心点X", "中心点Y"]


def main():
    shp, xlsx, csv_path = sys.argv[1:4]
    rows = list(csv.DictReader(open(csv_path, newline="", encoding="utf-8")))
    bad = []
    g = gpd.read_file(shp, engine="pyogrio")
    if len(g) != len(rows):
        bad.append(f"shapefile has {len(g)} rows, CSV {len(rows)}")
    for i, (r, s) in enumerate(zip(rows, g.itertuples())):
        if (r["dlmc_from"], r["dlmc_to"], r["bsm_from"]) != (s.dlmc_from, s.dlmc_to, s.bsm_from):
            bad.append(f"row {i}: shapefile {s.dlmc_from}/{s.dlmc_to}/{s.bsm_from} vs CSV {r['dlmc_from']}/{r['dlmc_to']}/{r['bsm_from']}")
        if abs(float(r["area_m2"]) - s.area_m2) > 1e-6 * max(1.0, s.area_m2):
            bad.append(f"row {i}: shapefile area {s.area_m2} vs CSV {r['area_m2']}")
    ws = openpyxl.load_workbook(xlsx).active
    values = list(ws.iter_rows(values_only=True))
    if list(values[0]) != HEADERS:
        bad.append(f"xlsx headers {values[0]}")
    if len(values) - 1 != len(rows):
        bad.append(f"xlsx has {len(values) - 1} rows, CSV {len(rows)}")
    for i, (r, x) in enumerate(zip(rows, values[1:])):
        if x[4] != r["dlmc_from"] or not isinstance(x[7], float) or abs(x[7] - float(r["area_m2"])) > 1e-9 * x[7]:
            bad.append(f"row {i}: xlsx {x} vs CSV {r}")
    print(f"{len(rows)} rows in the Shapefile, the XLSX and the CSV; {len(bad)} differences")
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
