// Table output for get/list/watch (kube-api-emulator-spec §2.12): the Name column, then a
// CRD version's additionalPrinterColumns (or the usual columns of a built-in kind), then Age;
// dates rendered as ages by the server, rows carrying the object per includeObject.
#include <fmt/format.h>

#include "common/core/time_format.h"
#include "e2e/sandbox/apiserver/server_impl.h"

namespace mysqlop::sandbox {
namespace {

// kubectl's HumanDuration.
std::string humanDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return fmt::format("{}s", s);
  int64_t m = s / 60;
  if (m < 10) return s % 60 == 0 ? fmt::format("{}m", m) : fmt::format("{}m{}s", m, s % 60);
  if (m < 180) return fmt::format("{}m", m);
  int64_t h = m / 60;
  if (h < 8) return m % 60 == 0 ? fmt::format("{}h", h) : fmt::format("{}h{}m", h, m % 60);
  if (h < 48) return fmt::format("{}h", h);
  if (h < 24 * 8) return h % 24 == 0 ? fmt::format("{}d", h / 24) : fmt::format("{}d{}h", h / 24, h % 24);
  if (h < 24 * 365 * 2) return fmt::format("{}d", h / 24);
  int64_t y = h / (24 * 365);
  if (y < 8) return fmt::format("{}y{}d", y, (h / 24) % 365);
  return fmt::format("{}y", y);
}

// A small JSONPath for printer columns: .a.b, .a[0], .a[*].b, .a[?(@.type=="Ready")].status,
// and `\.` inside names. Returns every match.
void evalPath(const Json& cur, const std::string& path, size_t pos, std::vector<Json>& out) {
  if (pos >= path.size()) {
    out.push_back(cur);
    return;
  }
  if (path[pos] == '.') {
    size_t i = pos + 1;
    std::string name;
    while (i < path.size() && path[i] != '.' && path[i] != '[') {
      if (path[i] == '\\' && i + 1 < path.size()) ++i;
      name += path[i++];
    }
    if (name.empty()) {
      evalPath(cur, path, i, out);
      return;
    }
    if (!cur.is_object() || !cur.contains(name)) return;
    evalPath(cur[name], path, i, out);
    return;
  }
  if (path[pos] == '[') {
    size_t close = path.find(']', pos);
    if (close == std::string::npos) return;
    std::string inner = path.substr(pos + 1, close - pos - 1);
    if (!cur.is_array()) return;
    if (inner == "*") {
      for (const auto& item : cur) evalPath(item, path, close + 1, out);
      return;
    }
    if (inner.rfind("?(@.", 0) == 0) {
      // ?(@.field=="value") or ?(@.field==value)
      std::string expr = inner.substr(4, inner.size() - 5);
      auto eq = expr.find("==");
      if (eq == std::string::npos) return;
      std::string field = expr.substr(0, eq);
      std::string value = expr.substr(eq + 2);
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) value = value.substr(1, value.size() - 2);
      for (const auto& item : cur) {
        if (!item.is_object() || !item.contains(field)) continue;
        const Json& v = item[field];
        std::string s = v.is_string() ? v.get<std::string>() : v.dump();
        if (s == value) evalPath(item, path, close + 1, out);
      }
      return;
    }
    try {
      long idx = std::stol(inner);
      if (idx < 0) idx += static_cast<long>(cur.size());
      if (idx >= 0 && static_cast<size_t>(idx) < cur.size()) evalPath(cur[static_cast<size_t>(idx)], path, close + 1, out);
    } catch (...) {
    }
  }
}

Json cellValue(const Json& obj, const PrinterColumn& col, core::WallTime now) {
  const std::string& p = col.jsonPath;
  if (p == "@datacount") {
    size_t n = obj.value("data", Json::object()).size() + obj.value("binaryData", Json::object()).size();
    return n;
  }
  if (p == "@ports") {
    std::vector<std::string> parts;
    for (const auto& port : obj.value("spec", Json::object()).value("ports", Json::array())) {
      parts.push_back(fmt::format("{}/{}", port.value("port", 0), port.value("protocol", "TCP")));
    }
    return parts.empty() ? std::string("<none>") : fmt::format("{}", fmt::join(parts, ","));
  }
  if (p == "@podready") {
    const Json& st = obj.value("status", Json::object());
    size_t total = obj.value("spec", Json::object()).value("containers", Json::array()).size();
    size_t ready = 0;
    for (const auto& cs : st.value("containerStatuses", Json::array())) ready += cs.value("ready", false) ? 1 : 0;
    return fmt::format("{}/{}", ready, total);
  }
  if (p == "@podstatus") {
    // As kubectl's pod printer: the pod's reason or phase, then a waiting or terminated
    // container's reason (ErrImagePull, CrashLoopBackOff, …), and Terminating when deleted.
    const Json& st = obj.value("status", Json::object());
    std::string reason = st.value("reason", st.value("phase", std::string("Pending")));
    for (const auto& cs : st.value("containerStatuses", Json::array())) {
      const Json state = cs.value("state", Json::object());
      const std::string waiting = state.value("waiting", Json::object()).value("reason", "");
      const std::string terminated = state.value("terminated", Json::object()).value("reason", "");
      if (!waiting.empty()) reason = waiting;
      else if (!terminated.empty()) reason = terminated;
    }
    if (obj.value("metadata", Json::object()).contains("deletionTimestamp")) reason = "Terminating";
    return reason;
  }
  if (p == "@restarts") {
    int64_t n = 0;
    for (const auto& cs : obj.value("status", Json::object()).value("containerStatuses", Json::array())) {
      n += cs.value("restartCount", 0);
    }
    return n;
  }
  if (p == "@readyreplicas") {
    const Json& st = obj.value("status", Json::object());
    return fmt::format("{}/{}", st.value("readyReplicas", 0), obj.value("spec", Json::object()).value("replicas", 0));
  }
  if (p == "@involved") {
    const Json& io = obj.value("involvedObject", Json::object());
    std::string kind = io.value("kind", "");
    std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
    return kind + "/" + io.value("name", "");
  }
  std::vector<Json> found;
  evalPath(obj, p, 0, found);
  if (found.empty() || found[0].is_null()) return nullptr;
  const Json& v = found[0];
  if (col.type == "date" && v.is_string()) {
    auto t = core::parseTime(v.get<std::string>());
    if (!t) return v;
    return humanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
  }
  if (col.type == "string" && !v.is_string()) return v.is_structured() ? Json(v.dump()) : Json(v.dump());
  return v;
}

}  // namespace

Json ApiServer::Impl::toTable(const View& v, const ResourceInfo& r, const std::vector<ObjPtr>& objs,
                              const Json& listMeta, bool withHeaders) const {
  std::vector<PrinterColumn> cols;
  if (r.builtin) {
    cols = builtinColumns(r);
  } else if (auto it = r.columns.find(v.version); it != r.columns.end()) {
    cols = it->second;
  }
  bool hasAge = false;
  for (const auto& c : cols) hasAge = hasAge || c.name == "Age";
  if (!hasAge && (r.builtin || cols.empty())) {
    // Age goes before the -o wide columns, as kubectl prints it.
    auto wide = std::find_if(cols.begin(), cols.end(), [](const PrinterColumn& c) { return c.priority > 0; });
    cols.insert(wide, {"Age", "date", "", "CreationTimestamp is a timestamp representing the server time when this object was created.",
                       ".metadata.creationTimestamp", 0});
  }
  Json defs = Json::array();
  if (withHeaders) {
    defs.push_back({{"name", "Name"}, {"type", "string"}, {"format", "name"},
                    {"description", "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically."},
                    {"priority", 0}});
    for (const auto& c : cols) {
      defs.push_back({{"name", c.name}, {"type", c.type == "date" ? "string" : c.type}, {"format", c.format},
                      {"description", c.description}, {"priority", c.priority}});
    }
  }
  core::WallTime now = clock.now();
  Json rows = Json::array();
  for (const auto& o : objs) {
    Json cells = Json::array({meta(*o, "name")});
    for (const auto& c : cols) cells.push_back(cellValue(*o, c, now));
    Json row = {{"cells", cells}};
    if (v.includeObject == "Object") {
      row["object"] = present(v, r, *o);
    } else if (v.includeObject != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", o->value("metadata", Json::object())}};
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/" + v.tableVersion},
          {"metadata", listMeta}, {"columnDefinitions", defs}, {"rows", rows}};
}

}  // namespace mysqlop::sandbox
