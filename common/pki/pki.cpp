#include "common/pki/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <map>

namespace mysqlop::pki {
namespace {

std::string opensslError(const std::string& what) {
  unsigned long e = ERR_get_error();
  std::string out = what;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
Bio memBio() { return Bio(BIO_new(BIO_s_mem()), BIO_free); }
Bio readBio(const std::string& s) { return Bio(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())), BIO_free); }
std::string bioText(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

// cert-manager's usage names → OpenSSL's config names.
const std::map<std::string, std::string>& keyUsageNames() {
  static const std::map<std::string, std::string> m = {
      {"signing", "digitalSignature"},         {"digital signature", "digitalSignature"},
      {"content commitment", "nonRepudiation"}, {"key encipherment", "keyEncipherment"},
      {"key agreement", "keyAgreement"},       {"data encipherment", "dataEncipherment"},
      {"cert sign", "keyCertSign"},            {"crl sign", "cRLSign"},
      {"encipher only", "encipherOnly"},       {"decipher only", "decipherOnly"}};
  return m;
}
const std::map<std::string, std::string>& extKeyUsageNames() {
  static const std::map<std::string, std::string> m = {
      {"any", "anyExtendedKeyUsage"},  {"server auth", "serverAuth"},         {"client auth", "clientAuth"},
      {"code signing", "codeSigning"}, {"email protection", "emailProtection"}, {"s/mime", "emailProtection"},
      {"ipsec end system", "ipsecEndSystem"}, {"ipsec tunnel", "ipsecTunnel"}, {"ipsec user", "ipsecUser"},
      {"timestamping", "timeStamping"}, {"ocsp signing", "OCSPSigning"},      {"microsoft sgc", "msSGC"},
      {"netscape sgc", "nsSGC"}};
  return m;
}

bool addEntries(X509_NAME* name, const char* field, const std::vector<std::string>& values) {
  for (const auto& v : values) {
    if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(v.data()),
                                    static_cast<int>(v.size()), -1, 0))
      return false;
  }
  return true;
}

std::vector<std::string> entries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  int idx = -1;
  while ((idx = X509_NAME_get_index_by_NID(name, nid, idx)) >= 0) {
    ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n >= 0) {
      out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
      OPENSSL_free(utf8);
    }
  }
  return out;
}

core::Result<bool> addExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (!ext) return core::invalid(opensslError("bad extension " + std::string(OBJ_nid2sn(nid)) + " = " + value));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return true;
}

time_t toTimeT(core::WallTime t) {
  return static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

core::WallTime fromAsn1(const ASN1_TIME* t) {
  struct tm tm{};
  ASN1_TIME_to_tm(t, &tm);
  return core::WallTime(std::chrono::seconds(timegm(&tm)));
}

}  // namespace

// --- keys --------------------------------------------------------------------------------------

PrivateKey::PrivateKey(EVP_PKEY* owned) : key_(owned, EVP_PKEY_free) {}

KeyAlgorithm PrivateKey::algorithm() const {
  switch (EVP_PKEY_get_base_id(key_.get())) {
    case EVP_PKEY_EC:
      return KeyAlgorithm::kEcdsa;
    case EVP_PKEY_ED25519:
      return KeyAlgorithm::kEd25519;
    default:
      return KeyAlgorithm::kRsa;
  }
}

int PrivateKey::size() const { return algorithm() == KeyAlgorithm::kEd25519 ? 256 : EVP_PKEY_get_bits(key_.get()); }

core::Result<std::string> PrivateKey::toPem(KeyEncoding encoding) const {
  if (!key_) return core::invalid("no key");
  auto out = memBio();
  const bool pkcs1 = encoding == KeyEncoding::kPkcs1 && algorithm() != KeyAlgorithm::kEd25519;
  if (pkcs1) {
    // "type-specific": PKCS#1 for RSA, SEC 1 for EC — "RSA PRIVATE KEY" / "EC PRIVATE KEY".
    std::unique_ptr<OSSL_ENCODER_CTX, decltype(&OSSL_ENCODER_CTX_free)> ctx(
        OSSL_ENCODER_CTX_new_for_pkey(key_.get(), OSSL_KEYMGMT_SELECT_KEYPAIR, "PEM", "type-specific", nullptr),
        OSSL_ENCODER_CTX_free);
    if (!ctx || !OSSL_ENCODER_to_bio(ctx.get(), out.get())) return core::internal(opensslError("cannot encode the key"));
  } else if (!PEM_write_bio_PrivateKey(out.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
    return core::internal(opensslError("cannot encode the key"));
  }
  return bioText(out.get());
}

std::string PrivateKey::publicKeyDer() const {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key_.get(), &der);
  if (n <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

core::Result<PrivateKey> generateKey(const KeySpec& spec) {
  EVP_PKEY* key = nullptr;
  switch (spec.algorithm) {
    case KeyAlgorithm::kRsa: {
      int bits = spec.size == 0 ? 2048 : spec.size;
      if (bits != 2048 && bits != 4096 && bits != 8192) return core::invalid("RSA key size must be 2048, 4096 or 8192");
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
      break;
    }
    case KeyAlgorithm::kEcdsa: {
      int bits = spec.size == 0 ? 256 : spec.size;
      const char* curve = bits == 256 ? "P-256" : bits == 384 ? "P-384" : bits == 521 ? "P-521" : nullptr;
      if (!curve) return core::invalid("ECDSA key size must be 256, 384 or 521");
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
      break;
    }
    case KeyAlgorithm::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (!key) return core::internal(opensslError("key generation failed"));
  return PrivateKey(key);
}

core::Result<PrivateKey> parsePrivateKey(const std::string& pem) {
  auto in = readBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr);
  if (!key) return core::invalid(opensslError("not a PEM private key"));
  return PrivateKey(key);
}

// --- certificates ---------------------------------------------------------------------------

Certificate::Certificate(X509* owned) : cert_(owned, X509_free) {}

std::string Certificate::toPem() const {
  auto out = memBio();
  PEM_write_bio_X509(out.get(), cert_.get());
  return bioText(out.get());
}

core::Result<Certificate> parseCertificate(const std::string& pem) {
  auto in = readBio(pem);
  X509* c = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr);
  if (!c) return core::invalid(opensslError("not a PEM certificate"));
  return Certificate(c);
}

core::Result<std::vector<Certificate>> parseCertificateChain(const std::string& pem) {
  auto in = readBio(pem);
  std::vector<Certificate> out;
  while (X509* c = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the end of the input reads as an error
  if (out.empty()) return core::invalid("no PEM certificate found");
  return out;
}

std::string sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  static const char* kHex = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 0xf];
  }
  return hex;
}

std::string fingerprint(const Certificate& c) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(c.get(), &der);
  if (n <= 0) return "";
  std::string out = sha256Hex(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(n)));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> canonicalIp(const std::string& ip) {
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return std::string(inet_ntop(AF_INET, buf, text, sizeof text));
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) return std::string(inet_ntop(AF_INET6, buf, text, sizeof text));
  return std::nullopt;
}

core::Result<Certificate> issueCertificate(const CertTemplate& t, const PrivateKey& subjectKey,
                                           const std::optional<Signer>& signer) {
  if (!subjectKey) return core::invalid("no subject key");
  Certificate cert(X509_new());
  X509* x = cert.get();
  X509_set_version(x, 2);

  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return core::internal(opensslError("no randomness for the serial"));
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // and never shorter than 128 bits minus one
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);

  X509_NAME* name = X509_get_subject_name(x);
  bool ok = addEntries(name, "C", t.subject.countries) && addEntries(name, "ST", t.subject.provinces) &&
            addEntries(name, "L", t.subject.localities) && addEntries(name, "street", t.subject.streetAddresses) &&
            addEntries(name, "postalCode", t.subject.postalCodes) && addEntries(name, "O", t.subject.organizations) &&
            addEntries(name, "OU", t.subject.organizationalUnits);
  if (ok && !t.subject.serialNumber.empty()) ok = addEntries(name, "serialNumber", {t.subject.serialNumber});
  if (ok && !t.subject.commonName.empty()) ok = addEntries(name, "CN", {t.subject.commonName});
  if (!ok) return core::invalid(opensslError("bad subject"));
  X509_set_issuer_name(x, signer ? X509_get_subject_name(signer->cert.get()) : name);

  ASN1_TIME_set(X509_getm_notBefore(x), toTimeT(t.notBefore));
  ASN1_TIME_set(X509_getm_notAfter(x), toTimeT(t.notAfter));
  X509_set_pubkey(x, subjectKey.get());

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, signer ? signer->cert.get() : x, x, nullptr, nullptr, 0);
  if (auto r = addExtension(x, &ctx, NID_basic_constraints, t.isCA ? "critical,CA:TRUE" : "critical,CA:FALSE"); !r)
    return r.error();
  std::string ku;
  for (const auto& u : t.keyUsages) {
    auto it = keyUsageNames().find(u);
    if (it == keyUsageNames().end()) return core::invalid("unknown key usage \"" + u + "\"");
    if (ku.find(it->second) == std::string::npos) ku += "," + it->second;
  }
  if (!ku.empty()) {
    if (auto r = addExtension(x, &ctx, NID_key_usage, "critical" + ku); !r) return r.error();
  }
  std::string eku;
  for (const auto& u : t.extKeyUsages) {
    auto it = extKeyUsageNames().find(u);
    if (it == extKeyUsageNames().end()) return core::invalid("unknown extended key usage \"" + u + "\"");
    if (eku.find(it->second) == std::string::npos) eku += (eku.empty() ? "" : ",") + it->second;
  }
  if (!eku.empty()) {
    if (auto r = addExtension(x, &ctx, NID_ext_key_usage, eku); !r) return r.error();
  }
  // SANs through GENERAL_NAME directly: no config-string quoting of user values.
  GENERAL_NAMES* sans = sk_GENERAL_NAME_new_null();
  auto addName = [&](int type, const std::string& value) -> bool {
    GENERAL_NAME* gn = nullptr;
    if (type == GEN_IPADD) {
      ASN1_OCTET_STRING* ip = a2i_IPADDRESS(value.c_str());
      if (!ip) return false;
      gn = GENERAL_NAME_new();
      GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    } else {
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
      gn = GENERAL_NAME_new();
      GENERAL_NAME_set0_value(gn, type, s);
    }
    sk_GENERAL_NAME_push(sans, gn);
    return true;
  };
  for (const auto& d : t.dnsNames) addName(GEN_DNS, d);
  for (const auto& ip : t.ipAddresses) {
    if (!addName(GEN_IPADD, ip)) {
      GENERAL_NAMES_free(sans);
      return core::invalid("\"" + ip + "\" is not an IP address");
    }
  }
  for (const auto& u : t.uris) addName(GEN_URI, u);
  for (const auto& e : t.emailAddresses) addName(GEN_EMAIL, e);
  if (sk_GENERAL_NAME_num(sans) > 0) {
    // Critical when the subject is empty (RFC 5280 4.2.1.6).
    const bool critical = X509_NAME_entry_count(name) == 0;
    X509_add1_ext_i2d(x, NID_subject_alt_name, sans, critical ? 1 : 0, X509V3_ADD_DEFAULT);
  }
  GENERAL_NAMES_free(sans);
  if (auto r = addExtension(x, &ctx, NID_subject_key_identifier, "hash"); !r) return r.error();
  if (signer) {
    if (auto r = addExtension(x, &ctx, NID_authority_key_identifier, "keyid:always"); !r) return r.error();
  }

  const PrivateKey& signingKey = signer ? signer->key : subjectKey;
  const EVP_MD* md = signingKey.algorithm() == KeyAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  if (signingKey.algorithm() == KeyAlgorithm::kEcdsa && signingKey.size() == 384) md = EVP_sha384();
  if (signingKey.algorithm() == KeyAlgorithm::kEcdsa && signingKey.size() == 521) md = EVP_sha512();
  if (X509_sign(x, signingKey.get(), md) <= 0) return core::internal(opensslError("signing failed"));
  return cert;
}

CertFacts inspect(const Certificate& c) {
  CertFacts f;
  X509* x = c.get();
  X509_NAME* n = X509_get_subject_name(x);
  if (char* line = X509_NAME_oneline(n, nullptr, 0)) {
    f.subjectLine = line;
    OPENSSL_free(line);
  }
  auto cn = entries(n, NID_commonName);
  f.subject.commonName = cn.empty() ? "" : cn.front();
  f.subject.organizations = entries(n, NID_organizationName);
  f.subject.organizationalUnits = entries(n, NID_organizationalUnitName);
  f.subject.countries = entries(n, NID_countryName);
  f.subject.provinces = entries(n, NID_stateOrProvinceName);
  f.subject.localities = entries(n, NID_localityName);
  f.subject.streetAddresses = entries(n, NID_streetAddress);
  f.subject.postalCodes = entries(n, NID_postalCode);
  auto sn = entries(n, NID_serialNumber);
  f.subject.serialNumber = sn.empty() ? "" : sn.front();
  auto icn = entries(X509_get_issuer_name(x), NID_commonName);
  f.issuerCommonName = icn.empty() ? "" : icn.front();

  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      int type = 0;
      void* v = GENERAL_NAME_get0_value(gn, &type);
      auto* s = static_cast<ASN1_STRING*>(v);
      std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
      if (type == GEN_DNS) f.dnsNames.push_back(text);
      if (type == GEN_URI) f.uris.push_back(text);
      if (type == GEN_EMAIL) f.emailAddresses.push_back(text);
      if (type == GEN_IPADD) {
        char buf[INET6_ADDRSTRLEN];
        int af = text.size() == 4 ? AF_INET : AF_INET6;
        if (inet_ntop(af, text.data(), buf, sizeof buf)) f.ipAddresses.emplace_back(buf);
      }
    }
    GENERAL_NAMES_free(sans);
  }
  f.isCA = X509_check_ca(x) != 0 && (X509_get_extension_flags(x) & EXFLAG_CA);
  const uint32_t ku = X509_get_key_usage(x);
  if (ku != UINT32_MAX) {
    const std::pair<uint32_t, const char*> bits[] = {
        {KU_DIGITAL_SIGNATURE, "digital signature"}, {KU_NON_REPUDIATION, "content commitment"},
        {KU_KEY_ENCIPHERMENT, "key encipherment"},   {KU_DATA_ENCIPHERMENT, "data encipherment"},
        {KU_KEY_AGREEMENT, "key agreement"},         {KU_KEY_CERT_SIGN, "cert sign"},
        {KU_CRL_SIGN, "crl sign"},                   {KU_ENCIPHER_ONLY, "encipher only"},
        {KU_DECIPHER_ONLY, "decipher only"}};
    for (auto [bit, label] : bits) {
      if (ku & bit) f.keyUsages.emplace_back(label);
    }
  }
  if (auto* ekus = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr))) {
    const std::map<int, const char*> names = {
        {NID_anyExtendedKeyUsage, "any"},   {NID_server_auth, "server auth"},  {NID_client_auth, "client auth"},
        {NID_code_sign, "code signing"},    {NID_email_protect, "email protection"},
        {NID_ipsecEndSystem, "ipsec end system"}, {NID_ipsecTunnel, "ipsec tunnel"}, {NID_ipsecUser, "ipsec user"},
        {NID_time_stamp, "timestamping"},   {NID_OCSP_sign, "ocsp signing"},  {NID_ms_sgc, "microsoft sgc"},
        {NID_ns_sgc, "netscape sgc"}};
    for (int i = 0; i < sk_ASN1_OBJECT_num(ekus); ++i) {
      auto it = names.find(OBJ_obj2nid(sk_ASN1_OBJECT_value(ekus, i)));
      if (it != names.end()) f.extKeyUsages.emplace_back(it->second);
    }
    EXTENDED_KEY_USAGE_free(ekus);
  }
  std::sort(f.keyUsages.begin(), f.keyUsages.end());
  std::sort(f.extKeyUsages.begin(), f.extKeyUsages.end());
  f.notBefore = fromAsn1(X509_get0_notBefore(x));
  f.notAfter = fromAsn1(X509_get0_notAfter(x));
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  char* hex = BN_bn2hex(bn);
  f.serialHex = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  if (EVP_PKEY* pub = X509_get0_pubkey(x)) {
    int id = EVP_PKEY_get_base_id(pub);
    f.keyAlgorithm = id == EVP_PKEY_EC ? KeyAlgorithm::kEcdsa : id == EVP_PKEY_ED25519 ? KeyAlgorithm::kEd25519 : KeyAlgorithm::kRsa;
    f.keySize = f.keyAlgorithm == KeyAlgorithm::kEd25519 ? 256 : EVP_PKEY_get_bits(pub);
  }
  return f;
}

bool keyMatches(const Certificate& cert, const PrivateKey& key) {
  if (!cert || !key) return false;
  return X509_check_private_key(cert.get(), key.get()) == 1 || (ERR_clear_error(), false);
}

bool signedBy(const Certificate& cert, const Certificate& issuer) {
  EVP_PKEY* pub = X509_get0_pubkey(issuer.get());
  if (!pub) return false;
  bool ok = X509_verify(cert.get(), pub) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace mysqlop::pki
