#!/usr/bin/env bash
# The Markdown table of docs/performance.md from flow.sh's JSON lines: e2e/bench/table.sh RESULTS
set -euo pipefail
echo '| TLS MySQLs | unrelated Secrets | converge (s) | floor (s) | ratio | writes/MySQL community | writes/MySQL enterprise | Events/MySQL | status updates/MySQL | RSS MiB community | RSS MiB enterprise | RSS MiB apiserver | CPU s community | CPU s enterprise | CPU s apiserver | idle writes | restart writes | SIGTERM→exit s (c/e) |'
echo '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
jq -r '"| \(.n) | \(.noise) | \(.seconds * 10 | round / 10) | \(.floorSeconds * 10 | round / 10) | \(.seconds / .floorSeconds * 100 | round / 100) | \(.communityWrites / .n * 100 | round / 100) | \(.enterpriseWrites / .n * 100 | round / 100) | \(.events / .n * 100 | round / 100) | \(.statusUpdates / .n * 100 | round / 100) | \(.rssMiB.community) | \(.rssMiB.enterprise) | \(.rssMiB.apiserver) | \(.cpuSeconds.community) | \(.cpuSeconds.enterprise) | \(.cpuSeconds.apiserver) | \(.idleWrites) | \(.restartWrites) | \(.stopSeconds.community * 100 | round / 100) / \(.stopSeconds.enterprise * 100 | round / 100) |"' "$1"
