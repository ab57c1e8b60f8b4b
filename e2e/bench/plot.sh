#!/usr/bin/env bash
# The plot of docs/performance.md from flow.sh's JSON lines (gnuplot-nox, installed by
# scripts/setup): time to converge and its floor, and each operator's peak RSS, against N.
#   e2e/bench/plot.sh RESULTS PNG
set -euo pipefail
RESULTS=$1 PNG=$2
DATA=$(mktemp)
trap 'rm -f "$DATA"' EXIT
jq -r 'select(.noise == 0) | "\(.n) \(.seconds) \(.floorSeconds) \(.rssMiB.community) \(.rssMiB.enterprise)"' "$RESULTS" | sort -n > "$DATA"
gnuplot <<GP
set terminal pngcairo size 1100,450 font "sans,10"
set output "$PNG"
set multiplot layout 1,2 title "mysqlop: N TLS MySQLs created at once (2 cores, sandbox API server)"
set key top left
set grid
set xlabel "TLS MySQLs"
set ylabel "seconds"
set title "time to converge"
plot "$DATA" using 1:2 with linespoints title "whole flow (both operators + cert-manager)", \
     "$DATA" using 1:3 with linespoints title "floor: cert-manager alone, 3N Certificates"
set ylabel "MiB"
set title "peak RSS"
set yrange [0:*]
plot "$DATA" using 1:4 with linespoints title "community-operator", \
     "$DATA" using 1:5 with linespoints title "enterprise-operator", \
     30 with lines dashtype 2 title "target (30 MiB)"
unset multiplot
GP
