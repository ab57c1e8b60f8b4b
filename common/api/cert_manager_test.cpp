#include "common/api/cert_manager.h"

#include <catch2/catch.hpp>

namespace mysqlop::api {

TEST_CASE("cert-manager: resource types", "[api][cert-manager]") {
  CHECK(certificateResource().apiVersion() == "cert-manager.io/v1");
  CHECK(certificateResource().gvr.resource == "certificates");
  CHECK(issuerResource().namespaced);
  CHECK_FALSE(clusterIssuerResource().namespaced);
  CHECK(certificateRequestResource().kind == "CertificateRequest");
}

TEST_CASE("cert-manager: the Ready state of an issuer", "[api][cert-manager]") {
  CHECK(readyState(Json::parse(R"({"metadata":{"generation":1}})")) ==
        ReadyState{false, "NoReadyCondition", "no Ready condition has been reported yet"});
  auto ready = readyState(Json::parse(R"({"metadata":{"generation":2},"status":{"conditions":[
    {"type":"Ready","status":"True","reason":"KeyPairVerified","message":"Signing CA verified","observedGeneration":2}]}})"));
  CHECK(ready == ReadyState{true, "KeyPairVerified", "Signing CA verified"});
  auto notReady = readyState(Json::parse(R"({"status":{"conditions":[
    {"type":"Ready","status":"False","reason":"ErrGetKeyPair","message":"Error getting keypair for CA issuer: secrets \"ca\" not found"}]}})"));
  CHECK_FALSE(notReady.ready);
  CHECK(notReady.reason == "ErrGetKeyPair");
  auto old = readyState(Json::parse(R"({"metadata":{"generation":3},"status":{"conditions":[
    {"type":"Ready","status":"True","reason":"KeyPairVerified","message":"ok","observedGeneration":2}]}})"));
  CHECK_FALSE(old.ready);
  CHECK(old.reason == "Outdated");
}

TEST_CASE("cert-manager: a Certificate's status", "[api][cert-manager]") {
  auto st = parseCertificateStatus(Json::parse(R"({"metadata":{"generation":1},"status":{
    "conditions":[{"type":"Ready","status":"True","reason":"Ready","message":"Certificate is up to date and has not expired","observedGeneration":1}],
    "notBefore":"2026-11-28T00:00:00Z","notAfter":"2027-02-26T00:00:00Z","renewalTime":"2027-01-27T00:00:00Z","revision":3}})"));
  REQUIRE(st);
  CHECK(st->ready.ready);
  CHECK(st->notAfter == "2027-02-26T00:00:00Z");
  CHECK(st->renewalTime == "2027-01-27T00:00:00Z");
  CHECK(st->revision == 3);
  auto bad = parseCertificateStatus(Json::parse(R"({"status":{"revision":"3","notAfter":5}})"));
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().size() == 2);
  CHECK(bad.error()[0].field == "status.notAfter");
  CHECK(bad.error()[1].field == "status.revision");
}

}  // namespace mysqlop::api
