#!/usr/bin/env bash
# docs/reference/*.md and the charts' READMEs say what the code says: scripts/reference --check
# (regenerate with scripts/reference and commit when this fails). BUILD_DIR: the build tree.
exec python3 "$(dirname "$0")/../../scripts/reference" --build "${BUILD_DIR:?}" --check
