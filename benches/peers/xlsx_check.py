#!/usr/bin/env python3
"""Check a qingshan XLSX workbook against the CSV (and JSON) of the same run.

    python3 benches/peers/xlsx_check.py --kind stats --xlsx s.xlsx --csv s.csv --json s.json
    python3 benches/peers/xlsx_check.py --kind change --xlsx c.xlsx --csv c.csv
    python3 benches/peers/xlsx_check.py --kind slope --xlsx sl.xlsx --csv sl.csv [--steep-csv steep.csv]
        [--legend clcd|none] [--rtol 1e-9]

The workbook is read with openpyxl, which shares no code with qingshan's
writer (rust_xlsxwriter). Checked:

- the sheet names, in order, and each sheet's Chinese header row (bold,
  frozen above the rows);
- every sheet that mirrors a CSV has its rows, in order: text cells equal
  the CSV's text (an empty cell is an empty field), number cells are
  numeric cells (not text) within --rtol of the CSV's number;
- class names are the legend's Chinese names (for --legend clcd, the
  CLCD product's own names, listed below);
- stats' 森林覆盖率 sheet: per zone, the areas and the cover (in %) equal
  the JSON document's, and the valid and forest areas equal the sums of
  the CSV's class rows.

Exit 0 when everything agrees, 1 with the disagreements, 2 on usage or
input errors (openpyxl missing: `bash .ci/setup --peers`).
"""

import argparse
import csv
import json
import math
import sys

# The Chinese names of the CLCD classes as qingshan's built-in legend
# states them, written out here rather than read from qingshan.
CLCD_ZH = {
    "1": "耕地",
    "2": "林地",
    "3": "灌木",
    "4": "草地",
    "5": "水体",
    "6": "冰雪",
    "7": "裸地",
    "8": "不透水面",
    "9": "湿地",
}

# Per kind: (sheet name, [(header, CSV column or None, kind)]). kind is
# "text", "number" or "name:<CSV code column>" (a Chinese class name).
ZONE = [("区域编号", "zone_id", "text"), ("区域名称", "zone_name", "text")]
AREAS = [
    ("面积（平方米）", "area_m2", "number"),
    ("面积（公顷）", "area_ha", "number"),
    ("面积（亩）", "area_mu", "number"),
]
STATS_CLASSES = (
    "分类面积",
    ZONE
    + [("地类编码", "class", "text"), ("地类名称", None, "name:class")]
    + AREAS,
)
STATS_COVER_HEADERS = [
    "区域编号",
    "区域名称",
    "区域面积（平方米）",
    "有效面积（平方米）",
    "森林面积（平方米）",
    "森林覆盖率（%）",
]
CHANGE = (
    "地类转移",
    ZONE
    + [
        ("起始地类编码", "from", "text"),
        ("起始地类名称", None, "name:from"),
        ("终止地类编码", "to", "text"),
        ("终止地类名称", None, "name:to"),
    ]
    + AREAS,
)
SLOPE = (
    "坡度分级",
    ZONE
    + [
        ("地类编码", "class", "text"),
        ("地类名称", None, "name:class"),
        ("坡度级别", "grade", "text"),
        ("最小坡度（度）", "min_deg", "number"),
        ("最大坡度（度）", "max_deg", "number"),
    ]
    + AREAS
    + [("占有效面积比例", "share_of_valid", "number")],
)
STEEP = (
    "陡坡耕地",
    [
        ("图斑编号", "id", "text"),
        ("地类编码", "class", "text"),
        ("面积（平方米）", "area_m2", "number"),
        ("面积（公顷）", "area_ha", "number"),
        ("面积（亩）", "area_mu", "number"),
        ("坡度级别", "grade", "text"),
        ("陡坡面积（平方米）", "steep_area_m2", "number"),
        ("陡坡面积占比", "steep_share", "number"),
        ("平均坡度（度）", "mean_slope_deg", "number"),
    ],
)


class Checker:
    def __init__(self, rtol):
        self.rtol = rtol
        self.problems = []
        self.numbers = 0
        self.rows = 0

    def fail(self, where, what):
        self.problems.append(f"{where}: {what}")

    def number(self, where, cell, expected):
        """A numeric cell within rtol of `expected` (None: an empty cell)."""
        if expected is None:
            if cell.value is not None:
                self.fail(where, f"expected an empty cell, found {cell.value!r}")
            return
        if cell.data_type != "n" or isinstance(cell.value, bool) or not isinstance(
            cell.value, (int, float)
        ):
            self.fail(where, f"not a number cell: {cell.value!r} (type {cell.data_type})")
            return
        self.numbers += 1
        v = float(cell.value)
        if not math.isclose(v, expected, rel_tol=self.rtol, abs_tol=0.0):
            rel = abs(v - expected) / max(abs(v), abs(expected))
            self.fail(where, f"{v!r} != {expected!r} (rel {rel:.3g})")

    def text(self, where, cell, expected):
        got = "" if cell.value is None else cell.value
        if not isinstance(got, str):
            self.fail(where, f"expected text {expected!r}, found {got!r} ({cell.data_type})")
        elif got != expected:
            self.fail(where, f"{got!r} != {expected!r}")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def csv_number(row, col, where):
    s = row[col]
    if s == "":
        return None
    try:
        return float(s)
    except ValueError:
        raise SystemExit(f"error: {where}: CSV column {col} is not a number: {s!r}") from None


def check_header(ck, ws, headers):
    got = [c.value for c in ws[1]]
    if got != headers:
        ck.fail(f"{ws.title} header", f"{got} != {headers}")
    if not all(c.font is not None and c.font.b for c in ws[1]):
        ck.fail(f"{ws.title} header", "not bold")
    if ws.freeze_panes != "A2":
        ck.fail(f"{ws.title}", f"header row not frozen (freeze panes {ws.freeze_panes})")


def check_mirror(ck, ws, spec, rows, legend):
    """`ws`'s rows equal the CSV `rows`, column by column as `spec` says."""
    check_header(ck, ws, [h for h, _, _ in spec])
    body = list(ws.iter_rows(min_row=2))
    body = [r for r in body if any(c.value is not None for c in r)]
    if len(body) != len(rows):
        ck.fail(ws.title, f"{len(body)} rows, the CSV has {len(rows)}")
    for i, (cells, row) in enumerate(zip(body, rows), start=2):
        ck.rows += 1
        for j, (header, col, kind) in enumerate(spec):
            cell = cells[j] if j < len(cells) else None
            where = f"{ws.title}!{i} {header}"
            if cell is None:
                ck.fail(where, "missing")
            elif kind == "text":
                ck.text(where, cell, row[col])
            elif kind == "number":
                ck.number(where, cell, csv_number(row, col, where))
            else:
                code = row[kind.split(":", 1)[1]]
                check_class_name(ck, where, cell, code, legend)


def check_class_name(ck, where, cell, code, legend):
    if code == "":
        if cell.value is not None:
            ck.fail(where, f"a name without a class: {cell.value!r}")
    elif legend == "clcd" and code in CLCD_ZH:
        ck.text(where, cell, CLCD_ZH[code])
    elif not isinstance(cell.value, str) or not cell.value:
        ck.fail(where, f"no class name for code {code}")


def check_stats_cover(ck, ws, rows, doc):
    """森林覆盖率 against the JSON document and the CSV's class rows."""
    check_header(ck, ws, STATS_COVER_HEADERS)
    body = [r for r in ws.iter_rows(min_row=2) if any(c.value is not None for c in r)]
    zones = doc["zones"]
    if len(body) != len(zones):
        ck.fail(ws.title, f"{len(body)} rows, the JSON has {len(zones)} zones")
    valid, forest = {}, {}
    for r in rows:
        a = float(r["area_m2"])
        valid[r["zone_id"]] = valid.get(r["zone_id"], 0.0) + a
        if r["forest"] == "true":
            forest[r["zone_id"]] = forest.get(r["zone_id"], 0.0) + a
    for i, (cells, z) in enumerate(zip(body, zones), start=2):
        ck.rows += 1
        w = lambda h: f"{ws.title}!{i} {h}"  # noqa: E731
        ck.text(w("区域编号"), cells[0], z["id"])
        ck.text(w("区域名称"), cells[1], z.get("name") or "")
        ck.number(w("区域面积（平方米）"), cells[2], z["zone_area_m2"])
        ck.number(w("有效面积（平方米）"), cells[3], z["valid_area_m2"])
        ck.number(w("森林面积（平方米）"), cells[4], z["forest_area_m2"])
        cover = z.get("forest_cover")
        ck.number(w("森林覆盖率（%）"), cells[5], None if cover is None else 100.0 * cover)
        # The same numbers from the CSV's rows (no JSON involved).
        if z["id"] in valid:
            ck.number(w("有效面积（平方米）") + " vs Σ CSV", cells[3], valid[z["id"]])
            ck.number(w("森林面积（平方米）") + " vs Σ CSV", cells[4], forest.get(z["id"], 0.0))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kind", required=True, choices=["stats", "change", "slope"])
    p.add_argument("--xlsx", required=True)
    p.add_argument("--csv", required=True)
    p.add_argument("--json", help="stats: the JSON document of the same run")
    p.add_argument("--steep-csv", help="slope: the steep-cropland CSV list")
    p.add_argument("--legend", default="clcd", choices=["clcd", "none"])
    p.add_argument("--rtol", type=float, default=1e-9)
    a = p.parse_args()
    if a.kind == "stats" and not a.json:
        p.error("--kind stats needs --json")
    try:
        import openpyxl
    except ImportError:
        print("error: openpyxl is needed (bash .ci/setup --peers)", file=sys.stderr)
        return 2
    try:
        wb = openpyxl.load_workbook(a.xlsx)
        rows = read_csv(a.csv)
        doc = json.load(open(a.json, encoding="utf-8")) if a.json else None
        steep = read_csv(a.steep_csv) if a.steep_csv else None
    except Exception as e:  # unreadable inputs are usage errors
        print(f"error: {e}", file=sys.stderr)
        return 2

    ck = Checker(a.rtol)
    if a.kind == "stats":
        expected = [STATS_CLASSES[0], "森林覆盖率"]
    elif a.kind == "change":
        expected = [CHANGE[0]]
    else:
        expected = [SLOPE[0]] + ([STEEP[0]] if steep is not None else [])
    if wb.sheetnames != expected:
        ck.fail("sheets", f"{wb.sheetnames} != {expected}")
    else:
        if a.kind == "stats":
            check_mirror(ck, wb[STATS_CLASSES[0]], STATS_CLASSES[1], rows, a.legend)
            check_stats_cover(ck, wb["森林覆盖率"], rows, doc)
        elif a.kind == "change":
            check_mirror(ck, wb[CHANGE[0]], CHANGE[1], rows, a.legend)
        else:
            check_mirror(ck, wb[SLOPE[0]], SLOPE[1], rows, a.legend)
            if steep is not None:
                check_mirror(ck, wb[STEEP[0]], STEEP[1], steep, a.legend)

    print(
        f"xlsx {a.kind}: {len(wb.sheetnames)} sheets, {ck.rows} rows, "
        f"{ck.numbers} numbers compared (rtol {a.rtol:g})"
    )
    if ck.problems:
        print(f"{len(ck.problems)} disagreement(s):")
        for line in ck.problems[:50]:
            print("  " + line)
        return 1
    print("all agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
