#!/usr/bin/env bash
# The table and plot of docs/performance.md, in one command (issue 18): flow.sh at each N, each
# run's figures appended to a JSON-lines file, then the table (Markdown, on stdout) and the plot.
#
#   e2e/bench/sweep.sh [--sizes "20 100 300 1000"] [--noise SECRETS] [--idle SECONDS] [--out DIR]
#       --out   where results.jsonl and performance.png go (default docs/)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SIZES="20 100 300 1000" NOISE=0 IDLE=60 OUT="$HERE/../../docs"
while [[ $# -gt 0 ]]; do
  case $1 in
    --sizes) SIZES=$2; shift 2 ;;
    --noise) NOISE=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: $0 [--sizes \"N ...\"] [--noise SECRETS] [--idle SECONDS] [--out DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
RESULTS="$OUT/performance-results.jsonl"
: > "$RESULTS"
for n in $SIZES; do
  echo "--- N=$n" >&2
  "$HERE/flow.sh" --n "$n" --noise "$NOISE" --idle "$IDLE" --json "$RESULTS" >&2
done
"$HERE/plot.sh" "$RESULTS" "$OUT/performance.png"
"$HERE/table.sh" "$RESULTS"
