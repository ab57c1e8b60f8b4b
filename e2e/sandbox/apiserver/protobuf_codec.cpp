#include "e2e/sandbox/apiserver/protobuf_codec.h"

#include <map>
#include <optional>
#include <vector>

#include "common/kube/base64.h"

namespace mysqlop::sandbox {
namespace {

using Json = nlohmann::json;

struct Field {
  uint32_t number;
  uint32_t wire;
  uint64_t varint = 0;
  std::string_view bytes;
};

// Reads one protobuf message into its fields (in order); nullopt when malformed.
std::optional<std::vector<Field>> readMessage(std::string_view in) {
  std::vector<Field> out;
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
    Field f{static_cast<uint32_t>(key >> 3), static_cast<uint32_t>(key & 7)};
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
        if (!varint(len) || i + len > in.size()) return std::nullopt;
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

std::optional<std::pair<std::string, std::string>> mapEntry(std::string_view bytes) {
  auto fs = readMessage(bytes);
  if (!fs) return std::nullopt;
  std::string k, v;
  for (const auto& f : *fs) {
    if (f.number == 1 && f.wire == 2) k = std::string(f.bytes);
    if (f.number == 2 && f.wire == 2) v = std::string(f.bytes);
  }
  return std::pair{k, v};
}

std::optional<Json> objectMeta(std::string_view bytes) {
  auto fs = readMessage(bytes);
  if (!fs) return std::nullopt;
  Json m = Json::object();
  for (const auto& f : *fs) {
    if (f.wire == 2) {
      switch (f.number) {
        case 1: m["name"] = std::string(f.bytes); break;
        case 2: m["generateName"] = std::string(f.bytes); break;
        case 3: m["namespace"] = std::string(f.bytes); break;
        case 6: m["resourceVersion"] = std::string(f.bytes); break;
        case 11:
        case 12: {
          auto e = mapEntry(f.bytes);
          if (!e) return std::nullopt;
          m[f.number == 11 ? "labels" : "annotations"][e->first] = e->second;
          break;
        }
        case 13: {
          auto ref = readMessage(f.bytes);
          if (!ref) return std::nullopt;
          Json r = Json::object();
          for (const auto& rf : *ref) {
            if (rf.number == 1 && rf.wire == 2) r["kind"] = std::string(rf.bytes);
            if (rf.number == 3 && rf.wire == 2) r["name"] = std::string(rf.bytes);
            if (rf.number == 4 && rf.wire == 2) r["uid"] = std::string(rf.bytes);
            if (rf.number == 5 && rf.wire == 2) r["apiVersion"] = std::string(rf.bytes);
            if (rf.number == 6 && rf.wire == 0) r["controller"] = rf.varint != 0;
            if (rf.number == 7 && rf.wire == 0) r["blockOwnerDeletion"] = rf.varint != 0;
          }
          m["ownerReferences"].push_back(r);
          break;
        }
        case 14: m["finalizers"].push_back(std::string(f.bytes)); break;
        default: break;
      }
    }
  }
  return m;
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
  if (kind != "Secret" && kind != "ConfigMap" && kind != "Namespace") {
    return core::invalid("protobuf bodies are accepted for Secret, ConfigMap and Namespace only");
  }
  auto fs = readMessage(raw);
  if (!fs) return core::invalid("malformed protobuf object");
  Json obj = {{"apiVersion", apiVersion.empty() ? "v1" : apiVersion}, {"kind", kind}, {"metadata", Json::object()}};
  for (const auto& f : *fs) {
    if (f.wire == 0 && ((kind == "Secret" && f.number == 5) || (kind == "ConfigMap" && f.number == 4))) {
      obj["immutable"] = f.varint != 0;
      continue;
    }
    if (f.wire != 2) continue;
    if (f.number == 1) {
      auto m = objectMeta(f.bytes);
      if (!m) return core::invalid("malformed protobuf metadata");
      obj["metadata"] = *m;
      continue;
    }
    if (kind == "Secret") {
      if (f.number == 2 || f.number == 4) {
        auto e = mapEntry(f.bytes);
        if (!e) return core::invalid("malformed protobuf map entry");
        if (f.number == 2) obj["data"][e->first] = kube::base64Encode(e->second);
        else obj["stringData"][e->first] = e->second;
      } else if (f.number == 3) {
        obj["type"] = std::string(f.bytes);
      }
    } else if (kind == "ConfigMap") {
      if (f.number == 2 || f.number == 3) {
        auto e = mapEntry(f.bytes);
        if (!e) return core::invalid("malformed protobuf map entry");
        if (f.number == 2) obj["data"][e->first] = e->second;
        else obj["binaryData"][e->first] = kube::base64Encode(e->second);
      }
    } else if (kind == "Namespace" && f.number == 2) {
      auto spec = readMessage(f.bytes);
      if (!spec) return core::invalid("malformed protobuf namespace spec");
      for (const auto& s : *spec) {
        if (s.number == 1 && s.wire == 2) obj["spec"]["finalizers"].push_back(std::string(s.bytes));
      }
    }
  }
  return obj;
}

}  // namespace mysqlop::sandbox
