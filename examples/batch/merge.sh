#!/bin/sh
# The final step after every shard of run-shard.sh finished: combine their
# partials into OUT/result.json (qingshan.stats/1, or qingshan.change/1 for
# runs with AFTER_TILES) and the per-tile QA table OUT/tiles_qa.csv.
#
#   OUT=/out sh merge.sh
set -eu
: "${OUT:?output directory}"
QINGSHAN="${QINGSHAN:-qingshan}"
exec "$QINGSHAN" merge "$OUT"/shard-* -o "$OUT/result.json" --qa "$OUT/tiles_qa.csv"
