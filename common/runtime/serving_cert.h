#pragma once
// The TLS identity of the operators' HTTPS metrics endpoint. Either read from a directory holding
// `tls.crt` (the certificate, then any chain) and `tls.key` — a mounted kubernetes.io/tls Secret —
// and read again when those files change (the kubelet swaps a renewed Secret in; at most one
// check a second, on a handshake), as controller-runtime's certwatcher does; or, without a
// directory, a self-signed certificate made at start (what controller-runtime does too; the
// scraper then skips verification, or pins nothing).
//
//   auto id = ServingCertificate::fromDirectory("/tmp/k8s-metrics-server/serving-certs");
//   httplib::SSLServer srv([&](SSL_CTX& ctx) { return (*id)->install(ctx); });
//
// Thread-safe: handshakes on several threads read the current pair.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/result.h"
#include "common/pki/pki.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace mysqlop::runtime {

class ServingCertificate {
 public:
  static core::Result<std::unique_ptr<ServingCertificate>> fromDirectory(const std::string& dir,
                                                                         core::Logger log = core::Logger::root());
  // ECDSA P-256, valid for a year, for `dnsNames` (the first is the common name).
  static core::Result<std::unique_ptr<ServingCertificate>> selfSigned(const std::vector<std::string>& dnsNames);

  // TLS 1.2 at least; each handshake presents the current certificate. False if ctx refuses.
  bool install(SSL_CTX& ctx);
  // The certificate presented now (PEM of the leaf).
  std::string currentPem();

 private:
  ServingCertificate() = default;
  // Reads the directory's pair if its files changed since the last read (a pair whose key does
  // not match its certificate — a renewal half written — is skipped; the current one stays).
  core::Status reload(bool force);
  static int onHandshake(SSL* ssl, void* self);

  std::string dir_;
  core::Logger log_ = core::Logger::root();
  std::mutex mu_;
  std::vector<pki::Certificate> chain_;  // leaf first
  pki::PrivateKey key_;
  std::string stamp_;             // what the files looked like when read (inode, size, mtime)
  core::MonoTime nextCheck_{}, nextWarning_{};
};

}  // namespace mysqlop::runtime
