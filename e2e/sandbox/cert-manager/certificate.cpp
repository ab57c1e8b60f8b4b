#include "e2e/sandbox/cert-manager/certificate.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/kube/conditions.h"
#include "common/kube/duration.h"
#include "common/kube/object.h"

namespace mysqlop::sandbox::certmanager {
namespace {

using namespace std::chrono_literals;

const std::set<std::string> kKeyUsages = {"signing",          "digital signature", "content commitment",
                                          "key encipherment", "key agreement",     "data encipherment",
                                          "cert sign",        "crl sign",          "encipher only",
                                          "decipher only"};
const std::set<std::string> kExtKeyUsages = {"any",          "server auth",     "client auth",      "code signing",
                                             "email protection", "s/mime",      "ipsec end system", "ipsec tunnel",
                                             "ipsec user",   "timestamping",    "ocsp signing",     "microsoft sgc",
                                             "netscape sgc"};

std::string jsonQuoted(const std::string& s) { return fmt::format("{:?}", s); }

std::string csvEscape(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ",") + csvEscape(v);
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

std::vector<std::string> CertificateSpec::keyUsages() const {
  std::vector<std::string> out;
  for (const auto& u : usages) {
    if (kKeyUsages.count(u)) out.push_back(u);
  }
  if (usages.empty()) out = {"digital signature", "key encipherment"};
  if (isCA && std::find(out.begin(), out.end(), "cert sign") == out.end()) out.push_back("cert sign");
  return out;
}

std::vector<std::string> CertificateSpec::extKeyUsages() const {
  std::vector<std::string> out;
  for (const auto& u : usages) {
    if (kExtKeyUsages.count(u)) out.push_back(u);
  }
  return out;
}

core::Result<CertificateSpec, FieldErrors> parseCertificate(const Json& obj) {
  FieldErrors errors;
  kube::FieldReader r(errors);
  CertificateSpec c;
  const Json spec = obj.is_object() ? obj.value("spec", Json::object()) : Json::object();
  if (!spec.is_object()) return FieldErrors{{"spec", "Required value"}};
  const std::string p = "spec";

  c.secretName = r.str(spec, "secretName", p);
  if (c.secretName.empty()) errors.push_back({"spec.secretName", "Required value: must be specified"});
  const Json ref = spec.value("issuerRef", Json::object());
  c.issuerRef.name = r.str(ref, "name", "spec.issuerRef");
  if (auto k = r.str(ref, "kind", "spec.issuerRef"); !k.empty()) c.issuerRef.kind = k;
  if (auto g = r.str(ref, "group", "spec.issuerRef"); !g.empty()) c.issuerRef.group = g;
  if (c.issuerRef.name.empty()) errors.push_back({"spec.issuerRef.name", "Required value: must be specified"});
  if (c.issuerRef.group == "cert-manager.io" && c.issuerRef.kind != "Issuer" && c.issuerRef.kind != "ClusterIssuer") {
    errors.push_back({"spec.issuerRef.kind",
                      "Invalid value: " + jsonQuoted(c.issuerRef.kind) + ": must be one of Issuer or ClusterIssuer"});
  } else if (c.issuerRef.group != "cert-manager.io") {
    errors.push_back({"spec.issuerRef.group", "Unsupported value: " + jsonQuoted(c.issuerRef.group) +
                                                  ": the sandbox cert-manager implements only cert-manager.io issuers"});
  }

  c.subject.commonName = r.str(spec, "commonName", p);
  if (c.subject.commonName.size() > 64) errors.push_back({"spec.commonName", "Too long: must have at most 64 bytes"});
  const Json subject = spec.value("subject", Json::object());
  const std::string sp = "spec.subject";
  c.subject.organizations = r.strings(subject, "organizations", sp);
  c.subject.countries = r.strings(subject, "countries", sp);
  c.subject.organizationalUnits = r.strings(subject, "organizationalUnits", sp);
  c.subject.localities = r.strings(subject, "localities", sp);
  c.subject.provinces = r.strings(subject, "provinces", sp);
  c.subject.streetAddresses = r.strings(subject, "streetAddresses", sp);
  c.subject.postalCodes = r.strings(subject, "postalCodes", sp);
  c.subject.serialNumber = r.str(subject, "serialNumber", sp);
  c.dnsNames = r.strings(spec, "dnsNames", p);
  c.ipAddresses = r.strings(spec, "ipAddresses", p);
  c.uris = r.strings(spec, "uris", p);
  c.emailAddresses = r.strings(spec, "emailAddresses", p);
  for (size_t i = 0; i < c.ipAddresses.size(); ++i) {
    if (!pki::canonicalIp(c.ipAddresses[i])) {
      errors.push_back({fmt::format("spec.ipAddresses[{}]", i), "Invalid value: " + jsonQuoted(c.ipAddresses[i]) + ": invalid IP address"});
    }
  }
  for (size_t i = 0; i < c.emailAddresses.size(); ++i) {
    const auto& e = c.emailAddresses[i];
    if (e.find('@') == std::string::npos || e.front() == '@' || e.back() == '@') {
      errors.push_back({fmt::format("spec.emailAddresses[{}]", i), "Invalid value: " + jsonQuoted(e) + ": invalid email address"});
    }
  }
  for (size_t i = 0; i < c.uris.size(); ++i) {
    if (c.uris[i].find(':') == std::string::npos) {
      errors.push_back({fmt::format("spec.uris[{}]", i), "Invalid value: " + jsonQuoted(c.uris[i]) + ": invalid URI: missing scheme"});
    }
  }
  if (c.subject.commonName.empty() && c.dnsNames.empty() && c.uris.empty() && c.ipAddresses.empty() &&
      c.emailAddresses.empty() && !spec.contains("literalSubject") && !spec.contains("otherNames")) {
    errors.push_back({"spec",
                      "Invalid value: \"\": at least one of commonName (from the commonName field or from a literalSubject), "
                      "dnsNames, uriSANs, ipAddresses, emailSANs or otherNames must be set"});
  }

  // Lifetimes.
  auto duration = [&](const char* key) -> std::optional<std::chrono::seconds> {
    std::string text = r.str(spec, key, p);
    if (text.empty()) return std::nullopt;
    auto ns = kube::parseGoDuration(text);
    if (!ns) {
      errors.push_back({std::string("spec.") + key, "Invalid value: " + jsonQuoted(text) + ": " + ns.error().message});
      return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::nanoseconds(*ns));
  };
  if (auto d = duration("duration")) c.duration = *d;
  c.renewBefore = duration("renewBefore");
  if (c.duration < 1h) {
    errors.push_back({"spec.duration", "Invalid value: " + jsonQuoted(kube::formatGoDuration(c.duration)) +
                                           ": certificate duration must be greater than 1h0m0s"});
  }
  if (c.renewBefore) {
    if (*c.renewBefore < 5min) {
      errors.push_back({"spec.renewBefore", "Invalid value: " + jsonQuoted(kube::formatGoDuration(*c.renewBefore)) +
                                                ": certificate renewBefore must be greater than 5m0s"});
    }
    if (*c.renewBefore >= c.duration) {
      errors.push_back({"spec.renewBefore", fmt::format("Invalid value: {}: certificate duration {} must be greater than renewBefore {}",
                                                        jsonQuoted(kube::formatGoDuration(*c.renewBefore)), kube::formatGoDuration(c.duration),
                                                        kube::formatGoDuration(*c.renewBefore))});
    }
  }
  if (auto it = spec.find("renewBeforePercentage"); it != spec.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int>() < 1 || it->get<int>() > 99) {
      errors.push_back({"spec.renewBeforePercentage", "Invalid value: " + it->dump() + ": must be between 1 and 99"});
    } else {
      c.renewBeforePercentage = it->get<int>();
    }
    if (c.renewBefore) {
      errors.push_back({"spec.renewBefore", "Invalid value: " + jsonQuoted(kube::formatGoDuration(*c.renewBefore)) +
                                                ": renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set"});
    }
  }

  // Usages and CA.
  c.usages = r.strings(spec, "usages", p);
  for (size_t i = 0; i < c.usages.size(); ++i) {
    if (!kKeyUsages.count(c.usages[i]) && !kExtKeyUsages.count(c.usages[i])) {
      errors.push_back({fmt::format("spec.usages[{}]", i), "Unsupported value: " + jsonQuoted(c.usages[i])});
    }
  }
  if (auto it = spec.find("isCA"); it != spec.end() && it->is_boolean()) c.isCA = it->get<bool>();

  // The private key.
  const Json pk = spec.value("privateKey", Json::object());
  const std::string alg = r.str(pk, "algorithm", "spec.privateKey");
  if (alg.empty() || alg == "RSA") {
    c.key.algorithm = pki::KeyAlgorithm::kRsa;
  } else if (alg == "ECDSA") {
    c.key.algorithm = pki::KeyAlgorithm::kEcdsa;
  } else if (alg == "Ed25519") {
    c.key.algorithm = pki::KeyAlgorithm::kEd25519;
  } else {
    errors.push_back({"spec.privateKey.algorithm", "Unsupported value: " + jsonQuoted(alg) + ": supported values: \"RSA\", \"ECDSA\", \"Ed25519\""});
  }
  if (auto it = pk.find("size"); it != pk.end() && !it->is_null()) {
    const int size = it->is_number_integer() ? it->get<int>() : -1;
    c.key.size = size;
    if (c.key.algorithm == pki::KeyAlgorithm::kRsa && size != 2048 && size != 4096 && size != 8192) {
      errors.push_back({"spec.privateKey.size", "Invalid value: " + it->dump() + ": must be either one of 2048, 4096 or 8192"});
    } else if (c.key.algorithm == pki::KeyAlgorithm::kEcdsa && size != 256 && size != 384 && size != 521) {
      errors.push_back({"spec.privateKey.size", "Unsupported value: " + it->dump() + ": supported values: \"256\", \"384\", \"521\""});
    } else if (c.key.algorithm == pki::KeyAlgorithm::kEd25519) {
      c.key.size = 0;  // ignored, as upstream does
    }
  }
  const std::string enc = r.str(pk, "encoding", "spec.privateKey");
  if (enc == "PKCS8") {
    c.encoding = pki::KeyEncoding::kPkcs8;
  } else if (!enc.empty() && enc != "PKCS1") {
    errors.push_back({"spec.privateKey.encoding", "Unsupported value: " + jsonQuoted(enc) + ": supported values: \"PKCS1\", \"PKCS8\""});
  }
  const std::string rotation = r.str(pk, "rotationPolicy", "spec.privateKey");
  if (rotation == "Never") {
    c.rotateKey = false;
  } else if (!rotation.empty() && rotation != "Always") {
    errors.push_back({"spec.privateKey.rotationPolicy", "Unsupported value: " + jsonQuoted(rotation) + ": supported values: \"Always\", \"Never\""});
  }

  const Json tmpl = spec.value("secretTemplate", Json::object());
  c.templateLabels = r.stringMap(tmpl, "labels", "spec.secretTemplate");
  c.templateAnnotations = r.stringMap(tmpl, "annotations", "spec.secretTemplate");
  for (const auto& [k, v] : c.templateAnnotations) {
    if (k.rfind("cert-manager.io/", 0) == 0) {
      errors.push_back({"spec.secretTemplate.annotations", "Invalid value: " + jsonQuoted(k) + ": cert-manager.io/* annotations are not allowed"});
    }
  }
  if (auto it = spec.find("revisionHistoryLimit"); it != spec.end() && it->is_number_integer()) {
    c.revisionHistoryLimit = it->get<int>();
    if (c.revisionHistoryLimit < 1) {
      errors.push_back({"spec.revisionHistoryLimit", "Invalid value: " + it->dump() + ": must not be less than 1"});
    }
  }

  // What this stand-in does not implement is refused, never ignored.
  for (const char* k : {"literalSubject", "otherNames", "keystores", "additionalOutputFormats", "nameConstraints",
                        "signatureAlgorithm", "encodeUsagesInRequest"}) {
    if (spec.contains(k) && !spec[k].is_null()) {
      errors.push_back({std::string("spec.") + k, "Forbidden: not supported by the sandbox cert-manager"});
    }
  }
  if (!errors.empty()) return errors;
  return c;
}

std::optional<IssueReason> issuanceDue(const CertificateSpec& spec, const Json* secret, const Json& status,
                                       core::WallTime now) {
  if (auto why = whyIssue(spec, secret, now)) return why;
  const auto issuing = kube::findCondition(status.value("conditions", Json::array()), "Issuing");
  if (!issuing || issuing->status != "True") return std::nullopt;
  return IssueReason{issuing->reason.empty() ? "ManuallyTriggered" : issuing->reason,
                     issuing->message.empty() ? "Certificate re-issuance manually triggered" : issuing->message};
}

bool stillValidWhile(const IssueReason& why) {
  for (const char* r : {"Renewing", "ManuallyTriggered", "RequestChanged", "IncorrectIssuer", "SecretMismatch"}) {
    if (why.reason == r) return true;
  }
  return false;
}

std::optional<std::chrono::nanoseconds> backoffRemaining(const Json& status, core::WallTime now, std::chrono::seconds base) {
  const int attempts = status.value("failedIssuanceAttempts", 0);
  if (attempts <= 0) return std::nullopt;
  auto last = core::parseTime(status.value("lastFailureTime", ""));
  if (!last) return std::nullopt;
  const auto due = *last + base * (1 << std::min(attempts - 1, 5));
  if (now >= due) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(due - now);
}

core::WallTime renewalTime(const CertificateSpec& spec, core::WallTime notBefore, core::WallTime notAfter) {
  const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(notAfter - notBefore);
  std::chrono::seconds before = lifetime / 3;
  if (spec.renewBefore && *spec.renewBefore < lifetime) {
    before = *spec.renewBefore;
  } else if (spec.renewBeforePercentage) {
    before = lifetime * *spec.renewBeforePercentage / 100;
  }
  return std::chrono::time_point_cast<std::chrono::seconds>(notAfter - before);
}

std::optional<IssueReason> whyIssue(const CertificateSpec& spec, const Json* secret, core::WallTime now) {
  if (!secret) return IssueReason{"DoesNotExist", "Issuing certificate as Secret does not exist"};
  const std::string certPem = kube::secretValue(*secret, "tls.crt").value_or(""), keyPem = kube::secretValue(*secret, "tls.key").value_or("");
  if (certPem.empty()) return IssueReason{"MissingData", "Issuing certificate as Secret does not contain a certificate"};
  if (keyPem.empty()) return IssueReason{"MissingData", "Issuing certificate as Secret does not contain a private key"};
  auto key = pki::parsePrivateKey(keyPem);
  if (!key) return IssueReason{"InvalidKeyPair", "Issuing certificate as Secret contains invalid private key data"};
  auto cert = pki::parseCertificate(certPem);
  if (!cert) return IssueReason{"InvalidCertificate", "Issuing certificate as Secret contains an invalid certificate"};
  if (!pki::keyMatches(*cert, *key)) {
    return IssueReason{"InvalidKeyPair", "Issuing certificate as Secret contains a private key that does not match the certificate"};
  }
  const pki::CertFacts f = pki::inspect(*cert);
  const int wantSize = spec.key.algorithm == pki::KeyAlgorithm::kEd25519 ? 256
                       : spec.key.size != 0                              ? spec.key.size
                       : spec.key.algorithm == pki::KeyAlgorithm::kRsa   ? 2048
                                                                         : 256;
  if (f.keyAlgorithm != spec.key.algorithm || f.keySize != wantSize) {
    return IssueReason{"SecretMismatch", "Issuing certificate as the existing private key does not match the key parameters of the Certificate"};
  }
  // The issuer the Secret records.
  const Json ann = secret->value("metadata", Json::object()).value("annotations", Json::object());
  const std::string issuer = ann.value("cert-manager.io/issuer-name", ""), kind = ann.value("cert-manager.io/issuer-kind", "");
  const std::string group = ann.value("cert-manager.io/issuer-group", "");
  if (issuer != spec.issuerRef.name || kind != spec.issuerRef.kind || (!group.empty() && group != spec.issuerRef.group)) {
    return IssueReason{"IncorrectIssuer", fmt::format("Issuing certificate as Secret was previously issued by {:?}",
                                                      IssuerRef{issuer, kind, group.empty() ? "cert-manager.io" : group}.toString())};
  }
  // The request: every field of the spec that ends up in the certificate.
  std::vector<std::string> changed;
  if (f.subject != spec.subject) {
    changed.push_back(f.subject.commonName != spec.subject.commonName ? "spec.commonName" : "spec.subject");
  }
  if (sorted(f.dnsNames) != sorted(spec.dnsNames)) changed.push_back("spec.dnsNames");
  std::vector<std::string> ips;
  for (const auto& ip : spec.ipAddresses) ips.push_back(pki::canonicalIp(ip).value_or(ip));
  if (sorted(f.ipAddresses) != sorted(ips)) changed.push_back("spec.ipAddresses");
  if (sorted(f.uris) != sorted(spec.uris)) changed.push_back("spec.uris");
  if (sorted(f.emailAddresses) != sorted(spec.emailAddresses)) changed.push_back("spec.emailAddresses");
  if (f.isCA != spec.isCA) changed.push_back("spec.isCA");
  std::vector<std::string> ku = spec.keyUsages();
  for (auto& u : ku) {
    if (u == "signing") u = "digital signature";
  }
  ku = sorted(ku);
  ku.erase(std::unique(ku.begin(), ku.end()), ku.end());
  std::vector<std::string> eku = spec.extKeyUsages();
  for (auto& u : eku) {
    if (u == "s/mime") u = "email protection";
  }
  eku = sorted(eku);
  eku.erase(std::unique(eku.begin(), eku.end()), eku.end());
  if (f.keyUsages != ku || f.extKeyUsages != eku) changed.push_back("spec.usages");
  if (std::chrono::duration_cast<std::chrono::seconds>(f.notAfter - f.notBefore) != spec.duration) {
    changed.push_back("spec.duration");
  }
  if (!changed.empty()) {
    std::string list;
    for (const auto& c : changed) list += (list.empty() ? "" : ", ") + c;
    return IssueReason{"RequestChanged", "Issuing certificate as the Certificate's request changed: " + list};
  }
  if (now >= f.notAfter) {
    return IssueReason{"Expired", "Issuing certificate as it expired on " + core::formatTime(f.notAfter)};
  }
  const core::WallTime renewAt = renewalTime(spec, f.notBefore, f.notAfter);
  if (now >= renewAt) {
    return IssueReason{"Renewing", "Renewing certificate as renewal was scheduled at " + core::formatTime(renewAt)};
  }
  return std::nullopt;
}

std::map<std::string, std::string> secretAnnotations(const CertificateSpec& spec, const std::string& certificateName) {
  std::map<std::string, std::string> a = spec.templateAnnotations;
  a["cert-manager.io/certificate-name"] = certificateName;
  a["cert-manager.io/issuer-name"] = spec.issuerRef.name;
  a["cert-manager.io/issuer-kind"] = spec.issuerRef.kind;
  a["cert-manager.io/issuer-group"] = spec.issuerRef.group;
  a["cert-manager.io/common-name"] = spec.subject.commonName;
  a["cert-manager.io/alt-names"] = csv(spec.dnsNames);
  a["cert-manager.io/ip-sans"] = csv(spec.ipAddresses);
  a["cert-manager.io/uri-sans"] = csv(spec.uris);
  if (!spec.emailAddresses.empty()) a["cert-manager.io/email-sans"] = csv(spec.emailAddresses);
  const std::pair<const char*, const std::vector<std::string>*> subjects[] = {
      {"organizations", &spec.subject.organizations},     {"organizationalunits", &spec.subject.organizationalUnits},
      {"countries", &spec.subject.countries},             {"provinces", &spec.subject.provinces},
      {"localities", &spec.subject.localities},           {"streetaddresses", &spec.subject.streetAddresses},
      {"postalcodes", &spec.subject.postalCodes}};
  for (auto [name, values] : subjects) {
    if (!values->empty()) a[std::string("cert-manager.io/subject-") + name] = csv(*values);
  }
  if (!spec.subject.serialNumber.empty()) a["cert-manager.io/subject-serialnumber"] = spec.subject.serialNumber;
  return a;
}

std::map<std::string, std::string> secretLabels(const CertificateSpec& spec) {
  std::map<std::string, std::string> l = spec.templateLabels;
  l["controller.cert-manager.io/fao"] = "true";
  return l;
}

}  // namespace mysqlop::sandbox::certmanager
