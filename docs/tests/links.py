#!/usr/bin/env python3
"""Every link in the repository's Markdown resolves inside the repository (a clone has nothing
beside it): relative Markdown links ([text](path#anchor)) must name a file or folder of the
tree, never a path outside it, and a file path quoted in backticks that starts at a top-level
folder of the tree (`docs/tls.md`, `e2e/tests/upgrade.sh`) must exist. Prints each broken link
with its file and line; exit 1 when there is one."""
import os
import re
import subprocess
import sys

# The developers' notebook beside the repository: nothing in the repository may name it (a clone
# does not have it). Spelt in two parts so that this checker does not name it itself.
OUTSIDE = "../" + "shared"

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
files = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
                       check=True, capture_output=True, text=True).stdout.split()
top = {p.split("/")[0] for p in subprocess.run(["git", "-C", root, "ls-files"], check=True, capture_output=True,
                                                 text=True).stdout.split() if "/" in p}
link = re.compile(r"\]\(([^)\s]+)\)")
quoted = re.compile(r"`([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+)`")
broken = []
for rel in files:
    path = os.path.join(root, rel)
    if not os.path.exists(path):
        continue
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    in_code = False
    for n, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if OUTSIDE in line:
            broken.append(f"{rel}:{n}: names {OUTSIDE}, which a clone does not have")
        if in_code:
            continue
        for target in link.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL or an anchor in the same page
            dest = os.path.normpath(os.path.join(os.path.dirname(path), target.split("#")[0]))
            if not (dest + os.sep).startswith(root + os.sep) and dest != root:
                broken.append(f"{rel}:{n}: link {target} points outside the repository")
            elif not os.path.exists(dest):
                broken.append(f"{rel}:{n}: link {target} does not resolve")
        for target in quoted.findall(line):
            first = target.split("/")[0]
            if first not in top or not re.search(r"\.[a-z]+$", target.split("/")[-1]):
                continue  # not a file path of the tree (a resource, a label, a folder-less name)
            if not os.path.exists(os.path.join(root, target)):
                broken.append(f"{rel}:{n}: `{target}` does not exist")
# Code and scripts: nothing points at the notebook a clone lacks; every "docs/design.md §N" names a
# section docs/design.md has.
with open(os.path.join(root, "docs", "design.md"), encoding="utf-8") as f:
    sections = {int(m) for m in re.findall(r"^## (\d+)\.", f.read(), re.M)}
tracked = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard"], check=True,
                         capture_output=True, text=True).stdout.split()
for rel in tracked:
    path = os.path.join(root, rel)
    if not os.path.isfile(path) or rel.startswith("docs/tests/"):
        continue
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (UnicodeDecodeError, OSError):
        continue  # not text
    for n, line in enumerate(text.split("\n"), 1):
        if not rel.endswith(".md") and OUTSIDE in line:
            broken.append(f"{rel}:{n}: names {OUTSIDE}, which a clone does not have")
        for sec in re.findall(r"design\.md §(\d+)", line):
            if int(sec) not in sections:
                broken.append(f"{rel}:{n}: docs/design.md has no §{sec}")
        if re.search(r"\bDESIGN §", line):
            broken.append(f"{rel}:{n}: 'DESIGN §' — the design is docs/design.md")
for b in broken:
    print(b)
if broken:
    print(f"FAIL: {len(broken)} broken link(s)")
    sys.exit(1)
print(f"PASS: every link in {len(files)} Markdown files resolves inside the repository")
