#!/usr/bin/env bash
# Every link in the Markdown resolves inside the repository (links.py says how).
exec python3 "$(dirname "$0")/links.py" "$(cd "$(dirname "$0")/../.." && pwd)"
