"""qingshan (青山): exact land-cover areas, forest cover and ecological
red-line audits of mountain zones, from Python.

Each function runs the ``qingshan`` command of the same name in process
(the Rust library, with the system GDAL), with keyword arguments named like
the command's flags (``--id-field`` is ``id_field=``; a flag taking several
values takes a list; a switch takes ``True``)::

    import qingshan
    r = qingshan.stats(landcover="fixtures/landcover/clcd_2019.vrt", zones="fixtures/towns.geojson")
    r.to_pandas()          # zone x class areas in m², ha and mu

A result is the command's JSON document as a ``dict`` (the same bytes as the
command line's ``--format json``: ``r.json``), with ``to_pandas()`` and
``to_geopandas()``. Files the flags name (``output=``, ``change_list=``,
``patches=``, …) are written as the command line writes them.

Zones may be a path, a ``geopandas.GeoDataFrame`` / ``GeoSeries`` (with its
CRS), or a list of shapely geometries with ``crs=``. The interpreter's lock
is released while a command runs; ``progress=`` takes a callable
``progress(done_cells, total_cells)`` or a ``tqdm`` bar. Errors raise
``qingshan.Error`` (``UsageError``, ``InputError``, ``OutputError``) with
the command line's one-line message; a failed check (a red line that
shrank, a missed target) is a result with ``passed == False``, or raises
``CheckFailed`` with ``check=True``.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
import warnings as _warnings
from typing import Any

from . import _qingshan
from ._qingshan import Error, InputError, OutputError, UsageError
from ._result import Result

__version__ = _qingshan.__version__

__all__ = [
    "Error",
    "UsageError",
    "InputError",
    "OutputError",
    "CheckFailed",
    "QingshanWarning",
    "Result",
    "stats",
    "change",
    "values",
    "series",
    "slope",
    "redline_diff",
    "redline_check",
    "audit",
    "batch",
]


class CheckFailed(Error):
    """A check failed (the command line's exit 3): a red line shrank or
    changed, a target was missed. ``.result`` holds the full result."""

    def __init__(self, message: str, result: Result):
        super().__init__(message)
        self.result = result

    def __reduce__(self):
        return (CheckFailed, (str(self), self.result))


class QingshanWarning(UserWarning):
    """A warning of a qingshan run (the command line's ``warning:`` lines)."""


_SPEC: dict = json.loads(_qingshan.spec())
# Flags with no meaning in process.
_HIDDEN = {"quiet"}
# Arguments that are vector layers: a GeoDataFrame or geometries may stand in.
_LAYERS = {"zones", "redlines", "towns", "old", "new", "cropland"}


def _is_frame(value: Any) -> bool:
    return hasattr(value, "geometry") and hasattr(value, "crs") or (
        type(value).__name__ == "GeoSeries"
    )


def _is_geometries(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(hasattr(g, "geom_type") and hasattr(g, "wkb") for g in value)
    )


def _column(series) -> tuple[str, list]:
    """(kind, values as text or None) of a pandas column."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "str", [None if pd.isna(v) else str(bool(v)).lower() for v in series]
    if pd.api.types.is_integer_dtype(series):
        return "int", [None if pd.isna(v) else str(int(v)) for v in series]
    if pd.api.types.is_float_dtype(series):
        return "float", [None if pd.isna(v) else repr(float(v)) for v in series]
    return "str", [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in series]


def _write_layer(value: Any, crs: Any, id_field: str | None, path: str) -> str | None:
    """Writes a GeoDataFrame, GeoSeries or list of shapely geometries to a
    GeoPackage; returns the id field to read it with (the frame's index
    when no ``id_field`` names a column)."""
    import geopandas as gpd
    import pandas as pd

    if _is_geometries(value):
        value = gpd.GeoSeries(list(value), crs=crs)
    if isinstance(value, gpd.GeoSeries):
        value = gpd.GeoDataFrame(geometry=value)
    frame = value
    if getattr(frame.index, "nlevels", 1) > 1:
        raise UsageError("zones given as a frame with a MultiIndex: reset_index() first, or pass id_field=")
    if crs is not None and frame.crs is not None:
        import pyproj

        if pyproj.CRS.from_user_input(crs) != frame.crs:
            raise UsageError(
                f"crs={crs!r} but the frame's CRS is {frame.crs.to_string()}: reproject with to_crs(), or drop crs="
            )
    if frame.crs is None and crs is not None:
        frame = frame.set_crs(crs)
    if frame.crs is None:
        raise UsageError(
            "the zones given as geometries have no CRS: set one (GeoDataFrame.set_crs) or pass crs="
        )
    columns = []
    for name in frame.columns:
        if name == frame.geometry.name:
            continue
        kind, vals = _column(frame[name])
        columns.append((str(name), kind, vals))
    field = id_field
    if field is None or field not in frame.columns:
        if field is not None:
            raise UsageError(f"id_field={field!r} is not a column of the zones frame")
        field = frame.index.name or "index"
        if field in frame.columns:
            field = "_index"
        kind, vals = _column(pd.Series(frame.index))
        columns.insert(0, (field, kind, vals))
    seen: dict = {}
    for name, _, _ in columns:
        low = name.lower()
        if low == "fid":
            raise UsageError(
                f"the zones frame has a column {name!r}, which a GeoPackage keeps for its feature ids: rename it"
            )
        if low in seen:
            raise UsageError(
                f"the zones frame has columns {seen[low]!r} and {name!r}, which a GeoPackage cannot tell apart: rename one"
            )
        seen[low] = name
    for i, g in zip(frame.index, frame.geometry):
        if g is None or g.is_empty:
            raise UsageError(f"the zones frame's row {i!r} has no geometry (None or empty): drop it or give it a shape")
    wkbs = [g.wkb for g in frame.geometry]
    _qingshan.write_layer(path, wkbs, columns, frame.crs.to_wkt())
    return field


def _values(value: Any) -> list[str]:
    """A keyword's value as the flag's values (text)."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in items:
        if isinstance(v, bool):
            out.append(str(v).lower())
        elif isinstance(v, os.PathLike):
            out.append(os.fspath(v))
        else:
            out.append(str(v))
    return out


def _argv(name: str, kwargs: dict, tmp) -> list[str]:
    """The command line of `name` for `kwargs`; `tmp()` gives a scratch
    directory for zones given as frames."""
    spec = _SPEC[name]
    by_id = {a["id"]: a for a in spec["args"] if a["id"] not in _HIDDEN}
    argv = list(spec["path"])
    positionals: list[str] = []
    crs = kwargs.pop("crs", None)
    chosen: set = set()  # id fields this wrapper set for frames it wrote
    for key, value in list(kwargs.items()):
        if key not in _LAYERS or value is None:
            continue
        if hasattr(value, "geom_type") and hasattr(value, "wkb"):
            value = [value]  # one shapely geometry
        if _is_frame(value) or _is_geometries(value):
            id_key = {"towns": "towns_id_field", "cropland": "cropland_id_field"}.get(key, "id_field")
            path = os.path.join(tmp(), f"{key}.gpkg")
            given = None if id_key in chosen else kwargs.get(id_key)
            field = _write_layer(value, crs, given, path)
            kwargs[key] = path
            if id_key in by_id and given is None:
                if id_key in chosen and kwargs[id_key] != field:
                    raise UsageError(f"the frames given as {key!r} and another layer need one id_field=")
                kwargs[id_key] = field
                chosen.add(id_key)
        elif not isinstance(value, (str, os.PathLike)) and not (
            isinstance(value, (list, tuple)) and all(isinstance(v, (str, os.PathLike)) for v in value)
        ):
            raise UsageError(
                f"{key}= takes a path, a GeoDataFrame or GeoSeries, or shapely geometries (with crs=), "
                f"not {type(value).__name__}"
            )
    if crs is not None and not chosen:
        raise UsageError("crs= is for zones given as shapely geometries; files carry their own CRS")
    # Positional arguments in the command's order, whatever the keywords'.
    positional = {a["id"] for a in spec["args"] if a["positional"]}
    for a in spec["args"]:
        if a["id"] in positional and kwargs.get(a["id"]) is not None:
            vals = _values(kwargs[a["id"]])
            if len(vals) > 1 and not a["multiple"]:
                raise UsageError(f"{a['id']}= takes one value, not {len(vals)}")
            positionals.extend(vals)
    for key, value in kwargs.items():
        if value is None or key in positional:
            continue
        a = by_id.get(key)
        if a is None:
            near = difflib.get_close_matches(key, list(by_id), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise UsageError(f"{name}() got an unexpected keyword argument {key!r}{hint}")
        flag = "--" + a["long"]
        if not a["takes_value"]:
            if value is True:
                argv.append(flag)
            elif value is not False:
                raise UsageError(f"{key}= is a switch: pass True or False, not {value!r}")
            continue
        vals = _values(value)
        if len(vals) > 1 and not a["multiple"]:
            raise UsageError(f"{key}= takes one value, not {len(vals)}")
        argv.extend(f"{flag}={v}" for v in vals)
    if positionals:
        argv.append("--")
        argv.extend(positionals)
    return argv


def _progress(progress: Any):
    """A callable (done, total) from a callable or a tqdm-like bar."""
    if progress is None or callable(progress) and not hasattr(progress, "update"):
        return progress
    if hasattr(progress, "update") and hasattr(progress, "total") and hasattr(progress, "n"):
        bar = progress

        def report(done: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
                bar.refresh()
            bar.update(done - bar.n)

        return report
    raise UsageError("progress= takes a callable progress(done_cells, total_cells) or a tqdm bar")


def _run(name: str, kwargs: dict, progress: Any = None, check: bool = False) -> Result:
    given = dict(kwargs)
    scratch: list = []

    def tmp() -> str:
        if not scratch:
            scratch.append(tempfile.TemporaryDirectory(prefix="qingshan-"))
        return scratch[0].name

    try:
        argv = _argv(name, dict(kwargs), tmp)
        code, data, warns, messages = _qingshan.run(argv, _progress(progress))
        result = Result.from_run(name, code, data, warns, messages, given)
    finally:
        for d in scratch:
            d.cleanup()
    for w in warns:
        _warnings.warn(w, QingshanWarning, stacklevel=3)
    if check and code != 0:
        raise CheckFailed("; ".join(messages) or f"{name}: a check failed", result)
    return result


def _doc(name: str) -> str:
    spec = _SPEC[name]
    lines = [spec["about"], "", f"Runs ``qingshan {' '.join(spec['path'])}``. Keyword arguments:", ""]
    for a in spec["args"]:
        if a["id"] in _HIDDEN:
            continue
        kind = "switch" if not a["takes_value"] else ("one or more values" if a["multiple"] else "value")
        extra = []
        if a["required"]:
            extra.append("required")
        if a["default"] is not None:
            extra.append(f"default {a['default']}")
        tail = f" ({', '.join(extra)})" if extra else ""
        lines.append(f"{a['id']} ({kind}){tail}: {a['help']}")
    lines += [
        "progress: a callable progress(done_cells, total_cells) or a tqdm bar.",
        "check: raise CheckFailed when the command's check fails (exit 3).",
        "",
        "Returns a Result: the command's JSON document as a dict.",
    ]
    return "\n".join(lines)


def _command(name: str):
    def run(*, progress: Any = None, check: bool = False, **kwargs: Any) -> Result:
        return _run(name, kwargs, progress, check)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = _doc(name)
    return run


stats = _command("stats")
change = _command("change")
values = _command("values")
series = _command("series")
slope = _command("slope")
redline_diff = _command("redline_diff")
redline_check = _command("redline_check")
audit = _command("audit")

from . import batch  # noqa: E402  (uses _run)
