#include "common/testing/tls_server.h"

#include <openssl/pem.h>

#include <stdexcept>

namespace mysqlop::testing {
namespace {

X509* readCert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!c) throw std::runtime_error("TlsServer: bad certificate PEM");
  return c;
}

EVP_PKEY* readKey(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!k) throw std::runtime_error("TlsServer: bad key PEM");
  return k;
}

}  // namespace

TlsServer::TlsServer(const KeyPair& serving, const std::string& clientCaPem) {
  X509* cert = readCert(serving.certPem);
  EVP_PKEY* key = readKey(serving.keyPem);
  X509_STORE* store = nullptr;
  if (!clientCaPem.empty()) {
    store = X509_STORE_new();
    X509* ca = readCert(clientCaPem);
    X509_STORE_add_cert(store, ca);
    X509_free(ca);
  }
  // SSLServer takes the store (SSL_CTX_set_cert_store) and references cert and key.
  server_ = std::make_unique<httplib::SSLServer>(cert, key, store);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!server_->is_valid()) throw std::runtime_error("TlsServer: SSL context is not valid");
  server_->new_task_queue = [] { return new httplib::ThreadPool(16); };
  server_->set_tcp_nodelay(true);
}

TlsServer::~TlsServer() { stop(); }

void TlsServer::start() {
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("TlsServer: cannot bind 127.0.0.1");
  // Connections queue in the listen backlog until the accept loop starts.
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void TlsServer::stop() {
  if (stopping_.exchange(true)) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mysqlop::testing
