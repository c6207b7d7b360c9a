"""A command's result: its JSON document as a dict, with tidy frames."""

from __future__ import annotations

import json
import os
from typing import Any

#: Square metres in one mu (亩): 2000/3.
M2_PER_MU = 2000.0 / 3.0
#: Square metres in one hectare.
M2_PER_HA = 10_000.0

# Nested per-zone tables, exploded into long rows: (field, row columns).
_NESTED = {
    "classes": ("class",),
    "transitions": ("from", "to"),
}


def _areas(row: dict, m2: float) -> dict:
    row["area_m2"] = m2
    row["area_ha"] = m2 / M2_PER_HA
    row["area_mu"] = m2 / M2_PER_MU
    return row


def _key(v: str) -> Any:
    """A class code as the JSON keys write it: an int when it is one."""
    return int(v) if v.lstrip("-").isdigit() and not (len(v) > 1 and v.startswith("0")) else v


def _scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def _flat(r: dict) -> dict:
    """A record's plain fields, and its flat sub-tables as columns."""
    row = {}
    for k, v in r.items():
        if _scalar(v):
            row[k] = v
        elif isinstance(v, dict) and all(_scalar(x) for x in v.values()):
            for kk, vv in v.items():
                row[kk if k == "stats" else f"{k}_{kk}"] = vv
    return row


def _dates(records: list) -> list:
    """A series' rows: one per zone and date."""
    rows = []
    for z in records:
        lc, vals = z.get("landcover") or {}, z.get("values") or {}
        for d in sorted(set(lc) | set(vals)):
            row = {"zone": z.get("id"), "zone_name": z.get("name"), "date": d}
            row.update({k: v for k, v in (lc.get(d) or {}).items() if _scalar(v)})
            v = vals.get(d) or {}
            row.update({f"value_{k}": x for k, x in (v.get("stats") or {}).items()})
            rows.append(row)
    return rows


class Result(dict):
    """The command's JSON document (``qingshan.stats/1``, …) as a dict.

    ``json`` holds the exact bytes ``qingshan … --format json`` writes;
    ``exit_code`` is the command line's (0, or 3 when a check failed);
    ``warnings`` and ``messages`` the lines it prints on stderr.
    """

    command: str
    json: bytes | None
    exit_code: int
    warnings: list
    messages: list
    arguments: dict

    @classmethod
    def from_run(cls, command, code, data, warns, messages, arguments) -> "Result":
        doc = json.loads(data) if data else {}
        r = cls(doc)
        r.command = command
        r.json = bytes(data) if data else None
        r.exit_code = int(code)
        r.warnings = list(warns)
        r.messages = list(messages)
        r.arguments = arguments
        return r

    @property
    def passed(self) -> bool:
        """Whether every check held (exit code 0)."""
        return self.exit_code == 0

    def _records(self) -> list:
        for key in ("zones", "polygons", "targets", "redlines"):
            if isinstance(self.get(key), list):
                return self[key]
        raise ValueError(f"{self.command}: this result has no per-zone records to tabulate")

    def to_pandas(self, table: str | None = None):
        """A tidy ``pandas.DataFrame``.

        - ``table=None``: the command's main table — stats: one row per
          zone × class (``zone``, ``class``, ``area_m2``, ``area_ha``,
          ``area_mu``); change: one row per zone × transition (``from``,
          ``to``, areas); series: one row per zone × date (``dates``);
          otherwise one row per zone, polygon or target (``zones``).
        - ``table="zones"``: one row per record with its plain fields and
          its flat sub-tables as columns (values' statistics by name,
          others as ``field_key``: ``classes_2``, …).
        - ``table="dates"``: a series' zone × date rows (forest cover,
          areas, and the value raster's statistics as ``value_<stat>``).
        - ``table="classes"`` / ``"transitions"``: zone × class or
          transition rows with areas in m², ha and mu.
        """
        import pandas as pd

        records = self._records()
        if table is None:
            first = records[0] if records else {}
            table = next((k for k in _NESTED if k in first), None)
            if table is None:
                table = "dates" if "landcover" in first or "values" in first else "zones"
        if table == "zones":
            return pd.DataFrame([_flat(r) for r in records])
        if table == "dates":
            return pd.DataFrame(_dates(records))
        cols = _NESTED.get(table, ("key",))
        rows = []
        for r in records:
            nested = r.get(table) or {}
            base = {"zone": r.get("id")}
            if "name" in r:
                base["zone_name"] = r.get("name")
            if len(cols) == 1:
                for k, v in nested.items():
                    rows.append(_areas({**base, cols[0]: _key(k)}, v))
            else:
                for k, inner in nested.items():
                    for k2, v in inner.items():
                        rows.append(_areas({**base, cols[0]: _key(k), cols[1]: _key(k2)}, v))
        return pd.DataFrame(rows)

    def to_geopandas(self, zones: Any = None, id_field: str | None = None, layer: str | None = None):
        """One row per zone (``to_pandas("zones")``: forest cover, areas,
        for stats one column of m² per class, ``classes_<code>``) with the
        zone's geometry in the zone layer's CRS.

        The zones are the ones the command read (``zones=`` or
        ``redlines=``, a path or a frame), or ``zones`` given here.
        """
        import geopandas as gpd
        import shapely

        from . import _qingshan

        args = self.arguments
        src = zones
        for key in ("zones", "redlines", "old"):
            if src is None:
                src = args.get(key)
        if src is None:
            raise ValueError(f"{self.command}: no zones to draw; pass zones=")
        frame = self.to_pandas("zones")
        if hasattr(src, "geom_type") and hasattr(src, "wkb"):
            src = [src]
        if isinstance(src, (list, tuple)) or (hasattr(src, "geometry") and hasattr(src, "crs")):
            # Geometries given in memory: the records are in their order.
            if isinstance(src, (list, tuple)):
                shapes, crs = list(src), args.get("crs")
            else:
                shapes, crs = list(src.geometry), src.crs
            if len(shapes) != len(frame):
                raise ValueError(f"{len(shapes)} zone geometries for {len(frame)} records; pass zones=")
            geometry = shapes
        else:
            ids, wkbs, wkt = _qingshan.read_zones(
                os.fspath(src),
                id_field or args.get("id_field"),
                layer or args.get("layer"),
                args.get("encoding"),
            )
            geoms = dict(zip(ids, shapely.from_wkb(wkbs)))
            crs = wkt
            geometry = [geoms.get(str(i)) for i in frame["id"]]
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)
