#pragma once
// The kubelet's atomic writer for Secret, ConfigMap and projected volumes, so that a volume
// follows its source while the pod runs and a reader never sees a half-written set:
//
//   <dir>/..2026_11_29_10_17_38.123456789/   the files of one version (subdirectories as needed)
//   <dir>/..data -> ..2026_11_29_10_17_38.123456789
//   <dir>/<key>  -> ..data/<key>              one link per top-level name
//
// An update writes a new timestamped directory, swaps `..data` to it with one rename(2) (a
// reader that resolves `..data` once sees one whole version), adds and removes the top-level
// links, and removes the old directory. Nothing is written when the payload is unchanged.
// Not thread-safe for one directory (the pod runner updates each pod under its lock).

#include <string>
#include <vector>

#include "common/core/result.h"
#include "e2e/sandbox/kubelet/pod_plan.h"

namespace mysqlop::sandbox::kubelet {

// Makes `dir` hold exactly `files` (paths relative to it, without "..") in the layout above.
// Returns whether anything changed.
core::Result<bool> writeAtomically(const std::string& dir, const std::vector<File>& files);

}  // namespace mysqlop::sandbox::kubelet
