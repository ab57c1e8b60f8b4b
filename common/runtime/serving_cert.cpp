#include "common/runtime/serving_cert.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "common/core/file.h"

namespace mysqlop::runtime {
namespace {

std::string stampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "absent";
  return fmt::format("{}:{}:{}:{}", st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

}  // namespace

core::Result<std::unique_ptr<ServingCertificate>> ServingCertificate::fromDirectory(const std::string& dir,
                                                                                    core::Logger log) {
  std::unique_ptr<ServingCertificate> c(new ServingCertificate());
  c->dir_ = dir;
  c->log_ = std::move(log);
  if (auto st = c->reload(true); !st) return st.error();
  return c;
}

core::Result<std::unique_ptr<ServingCertificate>> ServingCertificate::selfSigned(const std::vector<std::string>& dnsNames) {
  auto key = pki::generateKey({.algorithm = pki::KeyAlgorithm::kEcdsa, .size = 256});
  if (!key) return key.error();
  const core::WallTime now = core::systemClock().now();
  pki::CertTemplate t{.subject = {.commonName = dnsNames.empty() ? "localhost" : dnsNames.front()},
                      .dnsNames = dnsNames,
                      .keyUsages = {"digital signature"},
                      .extKeyUsages = {"server auth"},
                      .notBefore = now - std::chrono::minutes(5),
                      .notAfter = now + std::chrono::hours(24 * 365)};
  auto cert = pki::issueCertificate(t, *key, std::nullopt);
  if (!cert) return cert.error();
  std::unique_ptr<ServingCertificate> c(new ServingCertificate());
  c->chain_ = {std::move(*cert)};
  c->key_ = std::move(*key);
  return c;
}

core::Status ServingCertificate::reload(bool force) {
  const std::string certPath = dir_ + "/tls.crt", keyPath = dir_ + "/tls.key";
  const std::string stamp = stampOf(certPath) + "|" + stampOf(keyPath);
  if (!force && stamp == stamp_) return {};
  auto certPem = core::readFile(certPath);
  if (!certPem) return certPem.error();
  auto keyPem = core::readFile(keyPath);
  if (!keyPem) return keyPem.error();
  auto chain = pki::parseCertificateChain(*certPem);
  if (!chain) return core::Error(core::ErrorCode::kInvalid, fmt::format("{}: {}", certPath, chain.error().message));
  auto key = pki::parsePrivateKey(*keyPem);
  if (!key) return core::Error(core::ErrorCode::kInvalid, keyPath + ": not a private key in PEM");
  if (chain->empty() || !pki::keyMatches(chain->front(), *key)) {
    return core::Error(core::ErrorCode::kInvalid, fmt::format("{} does not hold the key of {}", keyPath, certPath));
  }
  chain_ = std::move(*chain);
  key_ = std::move(*key);
  stamp_ = stamp;
  return {};
}

bool ServingCertificate::install(SSL_CTX& ctx) {
  if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1) return false;
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  SSL_CTX_set_cert_cb(&ctx, &ServingCertificate::onHandshake, this);
  return true;
}

std::string ServingCertificate::currentPem() {
  std::lock_guard lock(mu_);
  return chain_.empty() ? "" : chain_.front().toPem();
}

int ServingCertificate::onHandshake(SSL* ssl, void* arg) {
  auto* self = static_cast<ServingCertificate*>(arg);
  std::lock_guard lock(self->mu_);
  if (!self->dir_.empty()) {
    const core::MonoTime now = core::systemClock().monotonic();
    if (now >= self->nextCheck_) {
      self->nextCheck_ = now + std::chrono::seconds(1);
      if (auto st = self->reload(false); !st && now >= self->nextWarning_) {
        self->nextWarning_ = now + std::chrono::minutes(1);
        self->log_.warn("keeping the metrics serving certificate: the new files cannot be used",
                        {{"directory", self->dir_}, {"error", st.error().message}});
      }
    }
  }
  if (self->chain_.empty()) return 0;
  if (SSL_use_certificate(ssl, self->chain_.front().get()) != 1) return 0;
  if (SSL_use_PrivateKey(ssl, self->key_.get()) != 1) return 0;
  STACK_OF(X509)* rest = sk_X509_new_null();
  for (size_t i = 1; i < self->chain_.size(); ++i) sk_X509_push(rest, self->chain_[i].get());
  const int ok = SSL_set1_chain(ssl, rest);  // takes its own references
  sk_X509_free(rest);
  return ok == 1 ? 1 : 0;
}

}  // namespace mysqlop::runtime
