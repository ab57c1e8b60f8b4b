#include "e2e/sandbox/apiserver/protobuf_codec.h"

#include <map>
#include <optional>
#include <vector>

#include "common/kube/base64.h"

namespace mysqlop::sandbox {
namespace {

using Json = nlohmann::json;

// --- wire format -----------------------------------------------------------------------------

struct WireField {
  uint32_t number;
  uint32_t wire;
  uint64_t varint = 0;
  std::string_view bytes;
};

std::optional<std::vector<WireField>> readMessage(std::string_view in) {
  std::vector<WireField> out;
  size_t i = 0;
  auto varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i >= in.size()) return false;
      auto b = static_cast<uint8_t>(in[i++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  };
  while (i < in.size()) {
    uint64_t key;
    if (!varint(key)) return std::nullopt;
    WireField f{static_cast<uint32_t>(key >> 3), static_cast<uint32_t>(key & 7)};
    switch (f.wire) {
      case 0:
        if (!varint(f.varint)) return std::nullopt;
        break;
      case 1:
        if (i + 8 > in.size()) return std::nullopt;
        i += 8;
        break;
      case 2: {
        uint64_t len;
        if (!varint(len) || len > in.size() - i) return std::nullopt;
        f.bytes = in.substr(i, len);
        i += len;
        break;
      }
      case 5:
        if (i + 4 > in.size()) return std::nullopt;
        i += 4;
        break;
      default:
        return std::nullopt;
    }
    out.push_back(f);
  }
  return out;
}

// --- message tables (from k8s.io/api and apimachinery generated.proto) ----------------------

enum class T { kString, kBytes, kInt, kBool, kMessage, kMapString, kMapBytes };

struct Message;
struct Field {
  uint32_t number;
  const char* name;
  T type;
  bool repeated = false;
  const Message* message = nullptr;
};
struct Message {
  std::vector<Field> fields;
};

const Message kOwnerReference{{{1, "kind", T::kString}, {3, "name", T::kString}, {4, "uid", T::kString},
                               {5, "apiVersion", T::kString}, {6, "controller", T::kBool},
                               {7, "blockOwnerDeletion", T::kBool}}};
const Message kObjectMeta{{{1, "name", T::kString},
                           {2, "generateName", T::kString},
                           {3, "namespace", T::kString},
                           {5, "uid", T::kString},
                           {6, "resourceVersion", T::kString},
                           {7, "generation", T::kInt},
                           {11, "labels", T::kMapString},
                           {12, "annotations", T::kMapString},
                           {13, "ownerReferences", T::kMessage, true, &kOwnerReference},
                           {14, "finalizers", T::kString, true}}};
const Message kObjectReference{{{1, "kind", T::kString}, {2, "namespace", T::kString}, {3, "name", T::kString},
                                {4, "uid", T::kString}, {5, "apiVersion", T::kString},
                                {6, "resourceVersion", T::kString}, {7, "fieldPath", T::kString}}};
const Message kLocalObjectReference{{{1, "name", T::kString}}};
const Message kSecret{{{1, "metadata", T::kMessage, false, &kObjectMeta}, {2, "data", T::kMapBytes},
                       {3, "type", T::kString}, {4, "stringData", T::kMapString}, {5, "immutable", T::kBool}}};
const Message kConfigMap{{{1, "metadata", T::kMessage, false, &kObjectMeta}, {2, "data", T::kMapString},
                          {3, "binaryData", T::kMapBytes}, {4, "immutable", T::kBool}}};
const Message kNamespaceSpec{{{1, "finalizers", T::kString, true}}};
const Message kNamespace{{{1, "metadata", T::kMessage, false, &kObjectMeta},
                          {2, "spec", T::kMessage, false, &kNamespaceSpec}}};
const Message kServiceAccount{{{1, "metadata", T::kMessage, false, &kObjectMeta},
                               {2, "secrets", T::kMessage, true, &kObjectReference},
                               {3, "imagePullSecrets", T::kMessage, true, &kLocalObjectReference},
                               {4, "automountServiceAccountToken", T::kBool}}};
const Message kPolicyRule{{{1, "verbs", T::kString, true}, {2, "apiGroups", T::kString, true},
                           {3, "resources", T::kString, true}, {4, "resourceNames", T::kString, true},
                           {5, "nonResourceURLs", T::kString, true}}};
const Message kRole{{{1, "metadata", T::kMessage, false, &kObjectMeta}, {2, "rules", T::kMessage, true, &kPolicyRule}}};
const Message kSubject{{{1, "kind", T::kString}, {2, "apiGroup", T::kString}, {3, "name", T::kString},
                        {4, "namespace", T::kString}}};
const Message kRoleRef{{{1, "apiGroup", T::kString}, {2, "kind", T::kString}, {3, "name", T::kString}}};
const Message kRoleBinding{{{1, "metadata", T::kMessage, false, &kObjectMeta},
                            {2, "subjects", T::kMessage, true, &kSubject},
                            {3, "roleRef", T::kMessage, false, &kRoleRef}}};
const Message kResourceAttributes{{{1, "namespace", T::kString}, {2, "verb", T::kString}, {3, "group", T::kString},
                                   {4, "version", T::kString}, {5, "resource", T::kString},
                                   {6, "subresource", T::kString}, {7, "name", T::kString}}};
const Message kNonResourceAttributes{{{1, "path", T::kString}, {2, "verb", T::kString}}};
const Message kSsarSpec{{{1, "resourceAttributes", T::kMessage, false, &kResourceAttributes},
                         {2, "nonResourceAttributes", T::kMessage, false, &kNonResourceAttributes}}};
const Message kSelfSubjectAccessReview{{{1, "metadata", T::kMessage, false, &kObjectMeta},
                                        {2, "spec", T::kMessage, false, &kSsarSpec}}};
const Message kBoundObjectReference{{{1, "kind", T::kString}, {2, "apiVersion", T::kString},
                                     {3, "name", T::kString}, {4, "uid", T::kString}}};
const Message kTokenRequestSpec{{{1, "audiences", T::kString, true},
                                 {3, "boundObjectRef", T::kMessage, false, &kBoundObjectReference},
                                 {4, "expirationSeconds", T::kInt}}};
const Message kTokenRequest{{{1, "metadata", T::kMessage, false, &kObjectMeta},
                             {2, "spec", T::kMessage, false, &kTokenRequestSpec}}};

const Message kPreconditions{{{1, "uid", T::kString}, {2, "resourceVersion", T::kString}}};
const Message kDeleteOptions{{{1, "gracePeriodSeconds", T::kInt},
                              {2, "preconditions", T::kMessage, false, &kPreconditions},
                              {3, "orphanDependents", T::kBool},
                              {4, "propagationPolicy", T::kString},
                              {5, "dryRun", T::kString, true}}};

const std::map<std::string, const Message*>& kinds() {
  static const std::map<std::string, const Message*> m = {
      {"Secret", &kSecret},
      {"ConfigMap", &kConfigMap},
      {"Namespace", &kNamespace},
      {"ServiceAccount", &kServiceAccount},
      {"Role", &kRole},
      {"ClusterRole", &kRole},
      {"RoleBinding", &kRoleBinding},
      {"ClusterRoleBinding", &kRoleBinding},
      {"SelfSubjectAccessReview", &kSelfSubjectAccessReview},
      {"TokenRequest", &kTokenRequest},
      {"DeleteOptions", &kDeleteOptions},
  };
  return m;
}

std::optional<Json> decode(const Message& m, std::string_view bytes) {
  auto wire = readMessage(bytes);
  if (!wire) return std::nullopt;
  Json out = Json::object();
  for (const auto& w : *wire) {
    const Field* f = nullptr;
    for (const auto& candidate : m.fields) {
      if (candidate.number == w.number) f = &candidate;
    }
    if (!f) continue;  // fields we do not model are ignored, as unknown JSON fields would be
    Json value;
    switch (f->type) {
      case T::kString:
        if (w.wire != 2) return std::nullopt;
        value = std::string(w.bytes);
        break;
      case T::kBytes:
        if (w.wire != 2) return std::nullopt;
        value = kube::base64Encode(w.bytes);
        break;
      case T::kInt:
        if (w.wire != 0) return std::nullopt;
        value = static_cast<int64_t>(w.varint);
        break;
      case T::kBool:
        if (w.wire != 0) return std::nullopt;
        value = w.varint != 0;
        break;
      case T::kMessage: {
        if (w.wire != 2) return std::nullopt;
        auto sub = decode(*f->message, w.bytes);
        if (!sub) return std::nullopt;
        value = std::move(*sub);
        break;
      }
      case T::kMapString:
      case T::kMapBytes: {
        if (w.wire != 2) return std::nullopt;
        auto entry = readMessage(w.bytes);
        if (!entry) return std::nullopt;
        std::string k, v;
        for (const auto& e : *entry) {
          if (e.number == 1 && e.wire == 2) k = std::string(e.bytes);
          if (e.number == 2 && e.wire == 2) v = std::string(e.bytes);
        }
        out[f->name][k] = f->type == T::kMapBytes ? kube::base64Encode(v) : v;
        continue;
      }
    }
    if (f->repeated) {
      out[f->name].push_back(std::move(value));
    } else {
      out[f->name] = std::move(value);
    }
  }
  return out;
}

}  // namespace

core::Result<Json> decodeProtobufObject(std::string_view body, const std::string& expectedKind) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, 4) != kMagic) return core::invalid("protobuf body without the k8s magic prefix");
  auto envelope = readMessage(body.substr(4));
  if (!envelope) return core::invalid("malformed protobuf envelope");
  std::string apiVersion, kind;
  std::string_view raw;
  for (const auto& f : *envelope) {
    if (f.number == 1 && f.wire == 2) {
      auto tm = readMessage(f.bytes);
      if (!tm) return core::invalid("malformed protobuf type meta");
      for (const auto& t : *tm) {
        if (t.number == 1 && t.wire == 2) apiVersion = std::string(t.bytes);
        if (t.number == 2 && t.wire == 2) kind = std::string(t.bytes);
      }
    }
    if (f.number == 2 && f.wire == 2) raw = f.bytes;
  }
  if (kind.empty()) kind = expectedKind;
  auto it = kinds().find(kind);
  if (it == kinds().end()) return core::invalid("no protobuf decoding for kind " + kind);
  auto obj = decode(*it->second, raw);
  if (!obj) return core::invalid("malformed protobuf " + kind);
  (*obj)["apiVersion"] = apiVersion;
  (*obj)["kind"] = kind;
  if (!obj->contains("metadata")) (*obj)["metadata"] = Json::object();
  return *obj;
}

}  // namespace mysqlop::sandbox
