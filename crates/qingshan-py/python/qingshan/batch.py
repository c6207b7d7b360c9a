"""Batches over hundreds of tiles, on one machine or spread over many.

- ``run(tiles=..., zones=..., out_dir=...)``: the whole batch here (the
  command line's ``qingshan batch``); returns the stats (or change) result.
- ``shard(index, count, tiles=..., zones=..., out_dir=...)``: tiles
  ``index, index + count, …`` only, their partials in ``out_dir``; run the
  shards anywhere (a dask.distributed cluster, Slurm, Kubernetes) with the
  same arguments and their own ``out_dir``, then
- ``merge(partials)``: the shards' output directories combined into the
  result a single run gives, byte for byte.

Keyword arguments are the flags of ``qingshan batch`` (``after_tiles=`` for
change, ``legend=``, ``id_field=``, ``resume=True``, …).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from . import _run
from ._result import Result


def run(*, progress: Any = None, **kwargs: Any) -> Result:
    """Runs the whole batch in this process: writes ``out_dir`` (run.json,
    partials/, stats.json or change.json, tiles_qa.csv) and returns the
    result (``stats.json`` or ``change.json``)."""
    if "shard" in kwargs:
        raise TypeError("run() runs every tile; use shard(index, count, ...) for one shard")
    return _run("batch", kwargs, progress)


def shard(index: int, count: int, *, progress: Any = None, **kwargs: Any) -> str:
    """Runs shard ``index`` of ``count`` (0 ≤ index < count): the tiles
    ``index, index + count, …`` into ``out_dir``. Returns ``out_dir``, for
    :func:`merge`. Resumable with ``resume=True``."""
    if "shard" in kwargs:
        raise TypeError("give the shard as shard(index, count, ...), not shard=")
    out_dir = kwargs.get("out_dir")
    if out_dir is None:
        raise TypeError("shard() needs out_dir=, one directory per shard")
    _run("batch", {**kwargs, "shard": f"{int(index)}/{int(count)}"}, progress)
    return os.fspath(out_dir)


def merge(partials: Sequence[str | os.PathLike], **kwargs: Any) -> Result:
    """Combines the shards' output directories (or their run.json and
    partial files) into the final result; ``output=`` and ``qa=`` also
    write it (and the per-tile QA table) as files."""
    if isinstance(partials, (str, os.PathLike)):
        partials = [partials]
    return _run("merge", {**kwargs, "partials": [os.fspath(p) for p in partials]})
