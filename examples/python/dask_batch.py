"""A qingshan batch run as dask.distributed tasks, merged into the result a
single run gives (byte for byte).

    python3 examples/python/dask_batch.py --tiles fixtures/landcover/clcd_2019 \
        --zones fixtures/towns.geojson --out-dir dask-run [--workers 2] [--shards 4]

Each shard (tiles i, i + N, …) is one task on the cluster, writing its
partials to its own directory (a shared file system on a real cluster);
`qingshan.batch.merge` combines them. On a real cluster, replace the
LocalCluster with `Client("scheduler-address:8786")`; every worker needs
`pip install ./crates/qingshan-py` and the tiles at the same paths.
"""

import argparse
import os

import qingshan


def run_on_dask(client, shards: int, out_dir: str, **batch_args) -> qingshan.Result:
    """Runs `shards` shards of `qingshan batch` as tasks of `client`, then
    merges them; returns the merged result (also written to
    out_dir/stats.json, or change.json with after_tiles=)."""
    futures = [
        client.submit(
            qingshan.batch.shard,
            i,
            shards,
            out_dir=os.path.join(out_dir, f"shard-{i}"),
            pure=False,
            **batch_args,
        )
        for i in range(shards)
    ]
    dirs = client.gather(futures)
    name = "change.json" if batch_args.get("after_tiles") else "stats.json"
    return qingshan.batch.merge(dirs, output=os.path.join(out_dir, name))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", nargs="+", required=True)
    ap.add_argument("--zones", required=True)
    ap.add_argument("--id-field")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shards", type=int, default=4)
    a = ap.parse_args()
    from dask.distributed import Client, LocalCluster

    # Worker processes (not threads): each shard runs in its own process,
    # as on a cluster; qingshan uses one core per shard here.
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True) as cluster, Client(cluster) as client:
        result = run_on_dask(
            client, a.shards, a.out_dir, tiles=a.tiles, zones=a.zones, id_field=a.id_field, threads=1
        )
    for z in result["zones"]:
        print(f"{z['id']}: forest cover {z['forest_cover']:.4f}")
    print(f"merged {a.shards} shards from {a.workers} worker processes → {a.out_dir}")


if __name__ == "__main__":
    main()
