#include "e2e/sandbox/apiserver/managed_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "e2e/sandbox/apiserver/strategic_merge.h"

namespace mysqlop::sandbox {
namespace {

enum class ListKind { kAtomic, kMap, kSet };
struct ListSpec {
  ListKind kind = ListKind::kAtomic;
  std::vector<std::string> keys;
};

const Json* schemaChild(const Json* s, const std::string& key) {
  if (!s || !s->is_object()) return nullptr;
  if (auto p = s->find("properties"); p != s->end() && p->contains(key)) return &(*p)[key];
  if (auto a = s->find("additionalProperties"); a != s->end() && a->is_object()) return &*a;
  return nullptr;
}

const Json* schemaItems(const Json* s) {
  if (!s || !s->is_object()) return nullptr;
  auto it = s->find("items");
  return it != s->end() && it->is_object() ? &*it : nullptr;
}

bool atomicMap(const Json* s) {
  return s && s->is_object() && s->value("x-kubernetes-map-type", "") == "atomic";
}

ListSpec listSpec(const ApplyContext& ctx, const Json* s, const std::string& parentPath,
                  const std::string& field) {
  if (parentPath == ".metadata") {
    if (field == "finalizers") return {ListKind::kSet, {}};
    if (field == "ownerReferences") return {ListKind::kMap, {"uid"}};
    return {};
  }
  if (s && s->is_object()) {
    std::string t = s->value("x-kubernetes-list-type", "");
    if (t == "map") {
      std::vector<std::string> keys;
      for (const auto& k : s->value("x-kubernetes-list-map-keys", Json::array())) keys.push_back(k);
      if (!keys.empty()) return {ListKind::kMap, keys};
    }
    if (t == "set") return {ListKind::kSet, {}};
    if (!t.empty() || !ctx.builtin) return {};
  }
  if (ctx.builtin) {
    std::string key = strategicMergeKey(ctx.kind, parentPath, field);
    if (!key.empty()) return {ListKind::kMap, {key}};
    if (field == "finalizers") return {ListKind::kSet, {}};
  }
  return {};
}

std::string keyElement(const Json& item, const std::vector<std::string>& keys) {
  Json k = Json::object();
  for (const auto& name : keys) {
    if (item.is_object() && item.contains(name)) k[name] = item[name];
  }
  return "k:" + k.dump();
}

bool ignoredRootField(const std::string& k) { return k == "apiVersion" || k == "kind"; }

bool ignoredMetadataField(const std::string& k) {
  return k == "name" || k == "namespace" || k == "uid" || k == "resourceVersion" ||
         k == "generation" || k == "creationTimestamp" || k == "deletionTimestamp" ||
         k == "deletionGracePeriodSeconds" || k == "managedFields" || k == "selfLink" ||
         k == "generateName";
}

class Walker {
 public:
  Walker(const ApplyContext& ctx, FieldSet& out) : ctx_(ctx), out_(out) {}

  void walkMap(const Json& obj, const Json* s, FieldPath& path, const std::string& dotted) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const std::string& k = it.key();
      if (path.empty() && ignoredRootField(k)) continue;
      if (dotted == ".metadata" && ignoredMetadataField(k)) continue;
      path.push_back("f:" + k);
      walkValue(it.value(), schemaChild(s, k), path, dotted + "." + k, dotted, k);
      path.pop_back();
    }
  }

  void walkValue(const Json& v, const Json* s, FieldPath& path, const std::string& dotted,
                 const std::string& parentDotted, const std::string& field) {
    if (v.is_object() && !v.empty() && !atomicMap(s)) {
      walkMap(v, s, path, dotted);
      return;
    }
    if (v.is_array()) {
      ListSpec spec = listSpec(ctx_, s, parentDotted, field);
      if (spec.kind == ListKind::kMap) {
        for (const auto& item : v) {
          path.push_back(keyElement(item, spec.keys));
          out_.insert(path);
          if (item.is_object()) walkMap(item, schemaItems(s), path, dotted + "[]");
          path.pop_back();
        }
        if (v.empty()) out_.insert(path);
        return;
      }
      if (spec.kind == ListKind::kSet) {
        for (const auto& item : v) {
          path.push_back("v:" + item.dump());
          out_.insert(path);
          path.pop_back();
        }
        if (v.empty()) out_.insert(path);
        return;
      }
    }
    out_.insert(path);  // a scalar, an atomic list, an empty or atomic map
  }

 private:
  const ApplyContext& ctx_;
  FieldSet& out_;
};

// Navigation by path elements.
const Json* step(const Json& cur, const std::string& el) {
  if (el.rfind("f:", 0) == 0) {
    if (!cur.is_object()) return nullptr;
    auto it = cur.find(el.substr(2));
    return it == cur.end() ? nullptr : &*it;
  }
  if (!cur.is_array()) return nullptr;
  Json want = Json::parse(el.substr(2), nullptr, false);
  if (want.is_discarded()) return nullptr;
  for (const auto& item : cur) {
    if (el[0] == 'v') {
      if (item == want) return &item;
    } else {
      bool all = item.is_object();
      for (auto it = want.begin(); all && it != want.end(); ++it) {
        all = item.contains(it.key()) && item[it.key()] == it.value();
      }
      if (all) return &item;
    }
  }
  return nullptr;
}

const Json* at(const Json& obj, const FieldPath& p) {
  const Json* cur = &obj;
  for (const auto& el : p) {
    cur = step(*cur, el);
    if (!cur) return nullptr;
  }
  return cur;
}

void erasePath(Json& obj, const FieldPath& p) {
  if (p.empty()) return;
  Json* parent = &obj;
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    const Json* next = step(*parent, p[i]);
    if (!next) return;
    parent = const_cast<Json*>(next);
  }
  const std::string& last = p.back();
  if (last.rfind("f:", 0) == 0) {
    if (parent->is_object()) parent->erase(last.substr(2));
    return;
  }
  if (!parent->is_array()) return;
  const Json* target = step(*parent, last);
  if (!target) return;
  for (auto it = parent->begin(); it != parent->end(); ++it) {
    if (&*it == target) {
      parent->erase(it);
      return;
    }
  }
}

// Whether `p` is a leaf of `s` (no other member of `s` extends it).
bool isLeaf(const FieldSet& s, const FieldPath& p) {
  auto it = s.upper_bound(p);
  if (it == s.end()) return true;
  const FieldPath& n = *it;
  return !(n.size() > p.size() && std::equal(p.begin(), p.end(), n.begin()));
}

// Whether `s` holds `p` or an ancestor of it.
bool covers(const FieldSet& s, const FieldPath& p) {
  FieldPath prefix;
  for (const auto& el : p) {
    prefix.push_back(el);
    if (s.count(prefix)) return true;
  }
  return false;
}

Json mergeApply(const Json& live, const Json& config, const ApplyContext& ctx, const Json* s,
                const std::string& dotted, const std::string& parentDotted, const std::string& field) {
  if (config.is_object() && live.is_object() && !atomicMap(s)) {
    Json out = live;
    for (auto it = config.begin(); it != config.end(); ++it) {
      if (it.value().is_null()) {
        out.erase(it.key());
        continue;
      }
      const Json* child = schemaChild(s, it.key());
      out[it.key()] = live.contains(it.key())
                          ? mergeApply(live[it.key()], it.value(), ctx, child, dotted + "." + it.key(),
                                       dotted, it.key())
                          : it.value();
    }
    return out;
  }
  if (config.is_array() && live.is_array()) {
    ListSpec spec = listSpec(ctx, s, parentDotted, field);
    if (spec.kind == ListKind::kSet) {
      Json out = live;
      for (const auto& v : config) {
        if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
      }
      return out;
    }
    if (spec.kind == ListKind::kMap) {
      Json out = live;
      for (const auto& item : config) {
        const Json* match = step(out, keyElement(item, spec.keys));
        if (match) {
          *const_cast<Json*>(match) =
              mergeApply(*match, item, ctx, schemaItems(s), dotted + "[]", dotted + "[]", "");
        } else {
          out.push_back(item);
        }
      }
      return out;
    }
  }
  return config;
}

struct Entry {
  ManagerRef who;
  std::string apiVersion;
  std::string time;
  FieldSet fields;
};

std::vector<Entry> readEntries(const Json* obj) {
  std::vector<Entry> out;
  if (!obj) return out;
  const Json* mf = nullptr;
  if (auto m = obj->find("metadata"); m != obj->end() && m->is_object()) {
    if (auto f = m->find("managedFields"); f != m->end() && f->is_array()) mf = &*f;
  }
  if (!mf) return out;
  for (const auto& e : *mf) {
    if (!e.is_object()) continue;
    out.push_back({{e.value("manager", ""), e.value("operation", "Update"), e.value("subresource", "")},
                   e.value("apiVersion", ""),
                   e.value("time", ""),
                   fromFieldsV1(e.value("fieldsV1", Json::object()))});
  }
  return out;
}

void writeEntries(Json& obj, const std::vector<Entry>& entries) {
  Json arr = Json::array();
  for (const auto& e : entries) {
    if (e.fields.empty()) continue;
    Json j = {{"manager", e.who.manager}, {"operation", e.who.operation},
              {"apiVersion", e.apiVersion}, {"time", e.time}, {"fieldsType", "FieldsV1"},
              {"fieldsV1", toFieldsV1(e.fields)}};
    if (!e.who.subresource.empty()) j["subresource"] = e.who.subresource;
    arr.push_back(std::move(j));
  }
  if (arr.empty()) {
    obj["metadata"].erase("managedFields");
  } else {
    obj["metadata"]["managedFields"] = std::move(arr);
  }
}

bool same(const ManagerRef& a, const ManagerRef& b) {
  return a.manager == b.manager && a.operation == b.operation && a.subresource == b.subresource;
}

}  // namespace

FieldSet fieldSetOf(const Json& obj, const ApplyContext& ctx) {
  FieldSet out;
  if (!obj.is_object()) return out;
  Walker w(ctx, out);
  FieldPath path;
  w.walkMap(obj, ctx.schema, path, "");
  return out;
}

Json toFieldsV1(const FieldSet& s) {
  Json root = Json::object();
  for (const auto& p : s) {
    Json* node = &root;
    for (const auto& el : p) node = &(*node)[el];
    if (node->is_null()) *node = Json::object();
  }
  // A member that also has children is marked with ".".
  for (const auto& p : s) {
    Json* node = &root;
    for (const auto& el : p) node = &(*node)[el];
    if (!node->empty() && !node->contains(".")) (*node)["."] = Json::object();
  }
  return root;
}

namespace {
void readFields(const Json& node, FieldPath& path, FieldSet& out) {
  if (!node.is_object()) return;
  if (node.empty() && !path.empty()) {
    out.insert(path);
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it.key() == ".") {
      out.insert(path);
      continue;
    }
    path.push_back(it.key());
    readFields(it.value(), path, out);
    path.pop_back();
  }
}
}  // namespace

FieldSet fromFieldsV1(const Json& f) {
  FieldSet out;
  FieldPath path;
  readFields(f, path, out);
  return out;
}

std::string describePath(const FieldPath& p) {
  std::string out;
  for (const auto& el : p) {
    if (el.rfind("f:", 0) == 0) {
      out += "." + el.substr(2);
    } else if (el.rfind("k:", 0) == 0) {
      Json k = Json::parse(el.substr(2), nullptr, false);
      std::vector<std::string> parts;
      if (k.is_object()) {
        for (auto it = k.begin(); it != k.end(); ++it) parts.push_back(it.key() + "=" + it.value().dump());
      }
      out += "[" + fmt::format("{}", fmt::join(parts, ",")) + "]";
    } else {
      out += "[" + el.substr(2) + "]";
    }
  }
  return out;
}

ApiResult<Json> serverSideApply(const ApplyInput& in) {
  FieldSet configSet = fieldSetOf(in.config, in.ctx);
  Json base = in.live ? *in.live : Json::object();
  std::vector<Entry> entries = readEntries(in.live);

  // Conflicts: a leaf the applier sets to a different value than another manager owns.
  struct Conflict { std::string manager; std::string apiVersion; std::string subresource; FieldPath path; };
  std::vector<Conflict> conflicts;
  for (auto& e : entries) {
    if (e.who.manager == in.who.manager) continue;
    for (const auto& p : configSet) {
      if (!e.fields.count(p) || !isLeaf(configSet, p)) continue;
      const Json* want = at(in.config, p);
      const Json* have = at(base, p);
      if (want && have && *want == *have) continue;
      conflicts.push_back({e.who.manager, e.apiVersion, e.who.subresource, p});
    }
  }
  if (!conflicts.empty() && !in.force) {
    std::map<std::string, std::vector<const Conflict*>> byManager;
    Json causes = Json::array();
    for (const auto& c : conflicts) {
      std::string m = fmt::format("conflict with \"{}\"{} using {}", c.manager,
                                  c.subresource.empty() ? "" : " with subresource \"" + c.subresource + "\"",
                                  c.apiVersion);
      causes.push_back({{"reason", "FieldManagerConflict"}, {"message", m}, {"field", describePath(c.path)}});
      byManager[c.manager].push_back(&c);
    }
    std::string msg = fmt::format("Apply failed with {} conflict{}: ", conflicts.size(),
                                  conflicts.size() == 1 ? "" : "s");
    bool first = true;
    for (const auto& [manager, list] : byManager) {
      if (!first) msg += "\n";
      first = false;
      if (conflicts.size() == 1) {
        msg += fmt::format("conflict with \"{}\" using {}: {}", manager, list[0]->apiVersion,
                           describePath(list[0]->path));
      } else {
        msg += fmt::format("conflicts with \"{}\" using {}:", manager, list[0]->apiVersion);
        for (const auto* c : list) msg += "\n- " + describePath(c->path);
      }
    }
    ApiError err{409, "Conflict", msg, Json{{"causes", causes}}, std::nullopt};
    return err;
  }
  if (in.force) {
    for (auto& e : entries) {
      if (e.who.manager == in.who.manager) continue;
      for (const auto& c : conflicts) {
        if (c.manager == e.who.manager) e.fields.erase(c.path);
      }
    }
  }

  // Merge, then drop what this manager applied before and no longer applies, unless owned
  // by someone else.
  Json merged = in.live ? mergeApply(base, in.config, in.ctx, in.ctx.schema, "", "", "") : in.config;
  FieldSet previous;
  for (const auto& e : entries) {
    if (same(e.who, in.who)) previous = e.fields;
  }
  // An ancestor the applier still sets atomically (a list, a scalar) keeps the field; an
  // empty map does not.
  auto atomicAncestor = [&](const FieldPath& p) {
    FieldPath prefix;
    for (size_t i = 0; i + 1 < p.size(); ++i) {
      prefix.push_back(p[i]);
      if (!configSet.count(prefix)) continue;
      const Json* v = at(in.config, prefix);
      if (v && !v->is_object()) return true;
    }
    return false;
  };
  for (const auto& p : previous) {
    if (configSet.count(p) || atomicAncestor(p)) continue;
    bool ownedElsewhere = false;
    for (const auto& e : entries) {
      if (!same(e.who, in.who) && covers(e.fields, p)) ownedElsewhere = true;
    }
    if (!ownedElsewhere) erasePath(merged, p);
  }
  bool found = false;
  for (auto& e : entries) {
    if (same(e.who, in.who)) {
      e.fields = configSet;
      e.apiVersion = in.apiVersion;
      e.time = in.now;
      found = true;
    }
  }
  if (!found) entries.push_back({in.who, in.apiVersion, in.now, configSet});
  if (!merged.contains("metadata") || !merged["metadata"].is_object()) merged["metadata"] = Json::object();
  writeEntries(merged, entries);
  return merged;
}

void recordUpdate(const Json* old, Json& updated, const ManagerRef& who,
                  const std::string& apiVersion, const std::string& now, const ApplyContext& ctx) {
  FieldSet newSet = fieldSetOf(updated, ctx);
  std::vector<Entry> entries = readEntries(old);
  FieldSet changed;
  FieldSet removed;
  if (old) {
    FieldSet oldSet = fieldSetOf(*old, ctx);
    for (const auto& p : newSet) {
      const Json* before = at(*old, p);
      if (!before) {
        changed.insert(p);
      } else if (isLeaf(newSet, p)) {
        const Json* after = at(updated, p);
        if (!after || *after != *before) changed.insert(p);
      }
    }
    for (const auto& p : oldSet) {
      if (!newSet.count(p)) removed.insert(p);
    }
  } else {
    changed = newSet;
  }
  if (changed.empty() && removed.empty()) {
    if (old) writeEntries(updated, entries);
    return;
  }
  for (auto& e : entries) {
    if (same(e.who, who)) continue;
    for (const auto& p : changed) e.fields.erase(p);
    for (const auto& p : removed) e.fields.erase(p);
  }
  bool found = false;
  for (auto& e : entries) {
    if (!same(e.who, who)) continue;
    found = true;
    for (const auto& p : changed) e.fields.insert(p);
    for (const auto& p : removed) e.fields.erase(p);
    e.apiVersion = apiVersion;
    e.time = now;
  }
  if (!found) entries.push_back({who, apiVersion, now, changed});
  if (!updated.contains("metadata") || !updated["metadata"].is_object()) updated["metadata"] = Json::object();
  writeEntries(updated, entries);
}

}  // namespace mysqlop::sandbox
