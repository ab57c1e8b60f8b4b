#include "enterprise-operator/builders/builders.h"

#include "common/pki/pki.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/naming.h"
#include "common/kube/base64.h"
#include "common/api/meta.h"

namespace mysqlop::enterprise {
namespace {

void unionInto(Json& list, const std::vector<std::string>& extra) {
  for (const auto& e : extra) {
    if (std::find(list.begin(), list.end(), Json(e)) == list.end()) list.push_back(e);
  }
}

Json labelsJson(const std::string& db) {
  Json l = Json::object();
  for (const auto& [k, v] : api::offshootLabels(db)) l[k] = v;
  return l;
}

}  // namespace

Json buildCertificate(const api::MySQL& my, const std::string& alias) {
  const std::string& db = my.name;
  const std::string& ns = my.namespace_;
  Json spec = {{"secretName", my.certSecretName(alias)},
               {"issuerRef", {{"name", my.tls->issuerRef->name},
                              {"kind", my.tls->issuerRef->kind},
                              {"group", my.tls->issuerRef->apiGroup.empty() ? std::string("cert-manager.io")
                                                                             : my.tls->issuerRef->apiGroup}}},
               {"secretTemplate", {{"labels", labelsJson(db)}}}};
  const Json clientUsages = Json::array({"digital signature", "key encipherment", "client auth"});
  if (alias == api::kAliasServer) {
    spec["commonName"] = api::serviceHost(db, ns);
    spec["dnsNames"] = Json::array({db, api::serviceHost(db, ns), api::serviceHost(db, ns) + ".cluster.local",
                                    fmt::format("*.{}.{}.svc", api::governingServiceName(db), ns),
                                    fmt::format("*.{}.{}.svc.cluster.local", api::governingServiceName(db), ns), "localhost"});
    if (my.isGroup()) {
      // Members reach each other at <pod>.<db>-pods.<ns>.svc (the wildcard above) and may be
      // named in shorter forms; clients of the secondaries at <db>-standby.
      const std::string standby = api::standbyServiceName(db);
      for (const auto& n : {fmt::format("*.{}", api::governingServiceName(db)), fmt::format("*.{}.{}", api::governingServiceName(db), ns),
                            standby, api::serviceHost(standby, ns), api::serviceHost(standby, ns) + ".cluster.local"}) {
        spec["dnsNames"].push_back(n);
      }
    }
    spec["ipAddresses"] = Json::array({"127.0.0.1"});
    spec["usages"] = Json::array({"digital signature", "key encipherment", "server auth", "client auth"});
  } else if (alias == api::kAliasClient) {
    spec["commonName"] = "root";
    spec["usages"] = clientUsages;
  } else {
    spec["commonName"] = db + "-metrics-exporter";
    spec["usages"] = clientUsages;
  }
  // The user's entry over the defaults.
  if (const api::CertificateSpec* user = my.tls->certificate(alias)) {
    if (user->subject) {
      Json s = Json::object();
      const std::pair<const char*, const std::vector<std::string>*> lists[] = {
          {"organizations", &user->subject->organizations}, {"countries", &user->subject->countries},
          {"organizationalUnits", &user->subject->organizationalUnits}, {"localities", &user->subject->localities},
          {"provinces", &user->subject->provinces}, {"streetAddresses", &user->subject->streetAddresses},
          {"postalCodes", &user->subject->postalCodes}};
      for (auto [k, v] : lists) {
        if (!v->empty()) s[k] = *v;
      }
      if (!user->subject->serialNumber.empty()) s["serialNumber"] = user->subject->serialNumber;
      if (!s.empty()) spec["subject"] = s;
    }
    if (!user->duration.empty()) spec["duration"] = user->duration;
    if (!user->renewBefore.empty()) spec["renewBefore"] = user->renewBefore;
    if (!user->privateKeyEncoding.empty()) spec["privateKey"] = {{"encoding", user->privateKeyEncoding}};
    const std::pair<const char*, const std::vector<std::string>*> sans[] = {{"dnsNames", &user->dnsNames},
                                                                            {"ipAddresses", &user->ipAddresses},
                                                                            {"uris", &user->uris},
                                                                            {"emailAddresses", &user->emailAddresses}};
    for (auto [k, v] : sans) {
      if (v->empty()) continue;
      if (!spec.contains(k)) spec[k] = Json::array();
      unionInto(spec[k], *v);
    }
  }
  return {{"apiVersion", "cert-manager.io/v1"},
          {"kind", "Certificate"},
          {"metadata", api::objectMeta(my, api::certificateName(db, alias))},
          {"spec", spec}};
}

core::Result<std::string> iniValue(const std::string& key, const std::string& v) {
  // mysqld_exporter reads exporter.cnf with go-ini: a plain value ends at '#' or ';', loses
  // its surrounding spaces and quotes; a `backquoted` value is taken as it is (one line); a
  // """triple-quoted""" one may span lines.
  const bool plain = !v.empty() && v.find_first_of("#;\"'`\r\n") == std::string::npos && v.front() != ' ' &&
                     v.back() != ' ' && v.front() != '\t' && v.back() != '\t';
  if (plain) return v;
  if (v.find('`') == std::string::npos && v.find_first_of("\r\n") == std::string::npos) return "`" + v + "`";
  if (v.find("\"\"\"") == std::string::npos && (v.empty() || v.back() != '"')) return "\"\"\"" + v + "\"\"\"";
  return core::invalid(fmt::format("the {} holds both a backquote and a line break or three double quotes, which the "
                                   "exporter's configuration file cannot carry",
                                   key));
}

core::Result<std::string> exporterConfig(const std::string& user, const std::string& password) {
  const std::string dir(api::kCertsDir);
  auto u = iniValue("user name", user);
  if (!u) return u.error();
  auto p = iniValue("password", password);
  if (!p) return p.error();
  return fmt::format("[client]\nuser={}\npassword={}\nhost=127.0.0.1\nport={}\nssl-ca={}/ca.crt\nssl-cert={}/exporter.crt\n"
                     "ssl-key={}/exporter.key\n",
                     *u, *p, api::kMySQLPort, dir, dir, dir);
}

core::Result<Json> buildExporterConfigSecret(const api::MySQL& my, const std::string& user, const std::string& password) {
  auto cnf = exporterConfig(user, password);
  if (!cnf) return cnf.error();
  return Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", api::objectMeta(my, api::exporterConfigSecretName(my.name))},
              {"type", "Opaque"},
              {"data", {{std::string(api::kExporterConfigKey), kube::base64Encode(*cnf)}}}};
}

Json buildIssuerCaSecret(const api::MySQL& my, const std::string& pem) {
  Json s = {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", api::objectMeta(my, api::issuerCaSecretName(my.name))},
            {"type", "Opaque"},
            {"data", {{"ca.crt", kube::base64Encode(pem)}}}};
  s["metadata"]["annotations"] = {{std::string(kIssuerCaDigestAnnotation), pki::sha256Hex(pem)}};
  return s;
}

}  // namespace mysqlop::enterprise
