#include "e2e/sandbox/apiserver/protobuf_codec.h"

#include <catch2/catch.hpp>

#include "common/kube/base64.h"

namespace mysqlop::sandbox {
namespace {

using Json = nlohmann::json;

// A minimal protobuf writer for building request bodies the way client-go does.
std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v) b |= 0x80;
    out += static_cast<char>(b);
  } while (v);
  return out;
}
std::string bytesField(int n, const std::string& b) { return varint((n << 3) | 2) + varint(b.size()) + b; }
std::string intField(int n, uint64_t v) { return varint(n << 3) + varint(v); }
std::string mapEntry(int n, const std::string& k, const std::string& v) {
  return bytesField(n, bytesField(1, k) + bytesField(2, v));
}
std::string envelope(const std::string& apiVersion, const std::string& kind, const std::string& raw) {
  return std::string("k8s\0", 4) + bytesField(1, bytesField(1, apiVersion) + bytesField(2, kind)) + bytesField(2, raw);
}

TEST_CASE("protobuf Secret bodies decode to the JSON form", "[sandbox][protobuf]") {
  std::string meta = bytesField(1, "tls1") + mapEntry(11, "app", "db") + mapEntry(12, "note", "x");
  std::string binary("\x00\x01\xff", 3);
  std::string raw = bytesField(1, meta) + mapEntry(2, "tls.crt", binary) + mapEntry(2, "tls.key", "k") +
                    bytesField(3, "kubernetes.io/tls") + intField(5, 1);
  auto obj = decodeProtobufObject(envelope("v1", "Secret", raw), "Secret");
  REQUIRE(obj);
  CHECK((*obj)["kind"] == "Secret");
  CHECK((*obj)["metadata"]["name"] == "tls1");
  CHECK((*obj)["metadata"]["labels"]["app"] == "db");
  CHECK((*obj)["metadata"]["annotations"]["note"] == "x");
  CHECK((*obj)["data"]["tls.crt"] == kube::base64Encode(binary));
  CHECK((*obj)["type"] == "kubernetes.io/tls");
  CHECK((*obj)["immutable"] == true);
}

TEST_CASE("protobuf RoleBinding, access review and DeleteOptions decode", "[sandbox][protobuf]") {
  std::string rb = bytesField(1, bytesField(1, "rb")) +
                   bytesField(2, bytesField(1, "ServiceAccount") + bytesField(3, "bot") + bytesField(4, "demo")) +
                   bytesField(3, bytesField(1, "rbac.authorization.k8s.io") + bytesField(2, "Role") + bytesField(3, "reader"));
  auto obj = decodeProtobufObject(envelope("rbac.authorization.k8s.io/v1", "RoleBinding", rb), "RoleBinding");
  REQUIRE(obj);
  CHECK((*obj)["subjects"][0] == Json{{"kind", "ServiceAccount"}, {"name", "bot"}, {"namespace", "demo"}});
  CHECK((*obj)["roleRef"]["name"] == "reader");

  std::string ssar = bytesField(2, bytesField(1, bytesField(1, "demo") + bytesField(2, "list") + bytesField(5, "secrets")));
  auto review = decodeProtobufObject(envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", ssar), "");
  REQUIRE(review);
  CHECK((*review)["spec"]["resourceAttributes"] == Json{{"namespace", "demo"}, {"verb", "list"}, {"resource", "secrets"}});

  std::string del = intField(1, 0) + bytesField(4, "Foreground");
  auto opts = decodeProtobufObject(envelope("meta.k8s.io/v1", "DeleteOptions", del), "DeleteOptions");
  REQUIRE(opts);
  CHECK((*opts)["propagationPolicy"] == "Foreground");
  CHECK((*opts)["gracePeriodSeconds"] == 0);
}

TEST_CASE("malformed or unknown protobuf bodies are refused", "[sandbox][protobuf]") {
  CHECK_FALSE(decodeProtobufObject("{}", "Secret"));
  CHECK_FALSE(decodeProtobufObject(envelope("apps/v1", "Deployment", ""), "Deployment"));
  std::string truncated = envelope("v1", "Secret", bytesField(1, bytesField(1, "x")));
  truncated.resize(truncated.size() - 2);
  CHECK_FALSE(decodeProtobufObject(truncated, "Secret"));
}

}  // namespace
}  // namespace mysqlop::sandbox
