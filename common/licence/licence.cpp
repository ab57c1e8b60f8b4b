#include "common/licence/licence.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "common/core/time_format.h"
#include "common/pki/pki.h"

namespace mysqlop::licence {
namespace {

// RFC 2253 form: "CN=licence CA,O=mysqlop".
std::string oneLine(X509_NAME* name) {
  BIO* b = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

std::string quotedList(const std::vector<std::string>& v) {
  if (v.empty()) return "nothing";
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + fmt::format("{:?}", s);
  return out;
}

// Whether `leaf`'s signature chains to `ca` (the only trust anchor); times are checked apart
// so that expiry gets its own message.
bool chainsTo(const pki::Certificate& leaf, const pki::Certificate& ca) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1) return false;
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) != 1) return false;
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  // A licence is a leaf: the CA itself presented as a licence is not one.
  return ok && !pki::inspect(leaf).isCA;
}

}  // namespace

core::Result<Licence> readLicence(const std::string& pem) {
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) return core::invalid("not a PEM certificate");
  auto cert = pki::parseCertificate(pem);
  if (!cert) return core::invalid("not a PEM certificate");
  const pki::CertFacts f = pki::inspect(*cert);
  Licence l;
  l.licensee = f.subject.commonName;
  l.clusterIds = f.dnsNames;
  l.features = f.subject.organizations;
  l.notBefore = f.notBefore;
  l.notAfter = f.notAfter;
  l.serialHex = f.serialHex;
  l.issuer = oneLine(X509_get_issuer_name(cert->get()));
  return l;
}

core::Result<Licence> verifyLicence(const std::string& pem, const std::string& caPem, const std::string& clusterId,
                                    core::WallTime now, const std::string& feature) {
  auto l = readLicence(pem);
  if (!l) return l.error();
  auto ca = pki::parseCertificate(caPem);
  if (!ca) return core::internal("the licence CA compiled into this binary is not a PEM certificate");
  if (!chainsTo(*pki::parseCertificate(pem), *ca)) {
    return core::Error(core::ErrorCode::kForbidden, fmt::format("not signed by the licence CA (issuer \"{}\")", l->issuer));
  }
  if (now > l->notAfter) {
    return core::Error(core::ErrorCode::kForbidden, "expired on " + core::formatTime(l->notAfter));
  }
  if (now < l->notBefore) {
    return core::Error(core::ErrorCode::kForbidden, "not yet valid: valid from " + core::formatTime(l->notBefore));
  }
  if (std::find(l->clusterIds.begin(), l->clusterIds.end(), clusterId) == l->clusterIds.end()) {
    return core::Error(core::ErrorCode::kForbidden,
                       fmt::format("issued for cluster {} but this is cluster {}",
                                   l->clusterIds.empty() ? std::string("(none)") : l->clusterIds.front(), clusterId));
  }
  if (std::find(l->features.begin(), l->features.end(), feature) == l->features.end()) {
    return core::Error(core::ErrorCode::kForbidden,
                       fmt::format("feature {:?} missing (the licence grants: {})", feature, quotedList(l->features)));
  }
  return l;
}

}  // namespace mysqlop::licence
