#!/bin/sh
# One shard of a qingshan batch run, as a Kubernetes Indexed Job pod or a
# Slurm array task runs it. The shard index comes from the scheduler:
# JOB_COMPLETION_INDEX (Kubernetes), SLURM_ARRAY_TASK_ID (Slurm), or
# SHARD_INDEX (by hand); all 0-based.
#
#   SHARDS=4 TILES=/data/clcd_2024 ZONES=/data/towns.gpkg ID_FIELD=code OUT=/out sh run-shard.sh
#
# Each shard writes OUT/shard-I/ (run.json and partials/). --resume makes a
# retried pod or requeued task continue where the killed one stopped.
set -eu
I="${SHARD_INDEX:-${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-}}}"
if [ -z "$I" ]; then
  echo "run-shard.sh: no shard index (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or SHARD_INDEX)" >&2
  exit 2
fi
: "${SHARDS:?number of shards}" "${TILES:?tile directory, glob or list}" "${ZONES:?zones file}" "${OUT:?output directory}"
QINGSHAN="${QINGSHAN:-qingshan}"
set -- batch --tiles "$TILES" --zones "$ZONES" --out-dir "$OUT/shard-$I" --shard "$I/$SHARDS" --resume --quiet
if [ -n "${ID_FIELD:-}" ]; then set -- "$@" --id-field "$ID_FIELD"; fi
if [ -n "${AFTER_TILES:-}" ]; then set -- "$@" --after-tiles "$AFTER_TILES"; fi
if [ -n "${THREADS:-}" ]; then set -- "$@" --threads "$THREADS"; fi
exec "$QINGSHAN" "$@"
