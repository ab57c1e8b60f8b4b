#include "e2e/sandbox/apiserver/spdy.h"

#include <initializer_list>

namespace mysqlop::sandbox::spdy {
namespace {

void put32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t get32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}
uint32_t get24(std::string_view s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 16) | (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 8) |
         static_cast<uint8_t>(s[at + 2]);
}

// A control frame: C=1, version 3, the type, flags and length, then the body.
std::string control(Type type, uint8_t flags, std::string_view body) {
  std::string out;
  out.push_back(static_cast<char>(0x80));
  out.push_back(static_cast<char>(3));
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) >> 8));
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) & 0xFF));
  out.push_back(static_cast<char>(flags));
  const auto n = static_cast<uint32_t>(body.size());
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>(n & 0xFF));
  out.append(body);
  return out;
}

}  // namespace

const std::string& headerDictionary() {
  // Length-prefixed header names and common values, then a run of status codes, reason phrases,
  // dates and content types, as the SPDY/3 draft lists them.
  static const std::string dict = [] {
    std::string d;
    for (const char* w : {
      "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
      "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
      "cache-control", "connection", "content-base", "content-encoding", "content-language",
      "content-length", "content-location", "content-md5", "content-range", "content-type", "date",
      "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
      "if-range", "if-unmodified-since", "last-modified", "location", "max-forwards", "pragma",
      "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after", "server", "te",
      "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
      "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
      "set-cookie", "keep-alive", "origin"}) {
      const std::string_view s(w);
      put32(d, static_cast<uint32_t>(s.size()));
      d.append(s);
    }
    d += "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
         "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
         "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
         "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
         "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
         "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
    return d;
  }();
  return dict;
}

Framer::Framer() {
  inflateReady_ = inflateInit(&inflate_) == Z_OK;
  deflateReady_ = deflateInit(&deflate_, Z_DEFAULT_COMPRESSION) == Z_OK &&
                  deflateSetDictionary(&deflate_, reinterpret_cast<const Bytef*>(headerDictionary().data()),
                                       static_cast<uInt>(headerDictionary().size())) == Z_OK;
}

Framer::~Framer() {
  if (inflateReady_) inflateEnd(&inflate_);
  if (deflateReady_) deflateEnd(&deflate_);
}

std::optional<std::map<std::string, std::string>> Framer::decodeHeaders(std::string_view block) {
  // The block continues the connection's one zlib stream: inflate what this frame brings.
  std::string plain;
  inflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  inflate_.avail_in = static_cast<uInt>(block.size());
  char buf[4096];
  while (inflate_.avail_in > 0) {
    inflate_.next_out = reinterpret_cast<Bytef*>(buf);
    inflate_.avail_out = sizeof buf;
    int rc = inflate(&inflate_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      rc = inflateSetDictionary(&inflate_, reinterpret_cast<const Bytef*>(headerDictionary().data()),
                                static_cast<uInt>(headerDictionary().size()));
      if (rc != Z_OK) break;
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error_ = "a header block that does not inflate (zlib " + std::to_string(rc) + ")";
      return std::nullopt;
    }
    plain.append(buf, sizeof buf - inflate_.avail_out);
    if (rc == Z_BUF_ERROR && inflate_.avail_out != 0) break;
  }
  std::map<std::string, std::string> out;
  if (plain.size() < 4) {
    error_ = "a header block shorter than its count";
    return std::nullopt;
  }
  const uint32_t pairs = get32(plain, 0);
  size_t at = 4;
  for (uint32_t i = 0; i < pairs; ++i) {
    std::string kv[2];
    for (auto& s : kv) {
      if (at + 4 > plain.size()) {
        error_ = "a header block cut short";
        return std::nullopt;
      }
      const uint32_t n = get32(plain, at);
      at += 4;
      if (at + n > plain.size()) {
        error_ = "a header block cut short";
        return std::nullopt;
      }
      s = plain.substr(at, n);
      at += n;
    }
    out[kv[0]] = kv[1];
  }
  return out;
}

std::optional<Frame> Framer::next() {
  while (!error_) {
    if (in_.size() < 8) return std::nullopt;
    const uint32_t length = get24(in_, 5);
    if (length > (16u << 20)) {
      error_ = "a frame longer than 16 MiB";
      break;
    }
    if (in_.size() < 8 + length) return std::nullopt;
    Frame f;
    f.flags = static_cast<uint8_t>(in_[4]);
    const std::string body = in_.substr(8, length);
    const bool isControl = (static_cast<uint8_t>(in_[0]) & 0x80) != 0;
    const uint32_t first = get32(in_, 0);
    in_.erase(0, 8 + length);
    if (!isControl) {
      f.type = Type::kData;
      f.streamId = first & 0x7FFFFFFF;
      f.data = body;
      return f;
    }
    const uint16_t version = static_cast<uint16_t>((first >> 16) & 0x7FFF);
    if (version != 3) {
      error_ = "a control frame of SPDY version " + std::to_string(version) + ", not 3";
      break;
    }
    f.type = static_cast<Type>(first & 0xFFFF);
    auto need = [&](size_t n) {
      if (body.size() >= n) return true;
      error_ = "a control frame shorter than its type needs";
      return false;
    };
    switch (f.type) {
      case Type::kSynStream:
      case Type::kSynReply:
      case Type::kHeaders: {
        const size_t headerAt = f.type == Type::kSynStream ? 10 : 4;
        if (!need(headerAt)) break;
        f.streamId = get32(body, 0) & 0x7FFFFFFF;
        auto h = decodeHeaders(std::string_view(body).substr(headerAt));
        if (!h) break;
        f.headers = std::move(*h);
        return f;
      }
      case Type::kRstStream:
        if (!need(8)) break;
        f.streamId = get32(body, 0) & 0x7FFFFFFF;
        f.value = get32(body, 4);
        return f;
      case Type::kPing:
        if (!need(4)) break;
        f.value = get32(body, 0);
        return f;
      case Type::kGoAway:
        if (!need(4)) break;
        f.streamId = get32(body, 0) & 0x7FFFFFFF;
        return f;
      case Type::kWindowUpdate:
        if (!need(8)) break;
        f.streamId = get32(body, 0) & 0x7FFFFFFF;
        f.value = get32(body, 4) & 0x7FFFFFFF;
        return f;
      case Type::kSettings:
        return f;
      default:
        continue;  // unknown control frames are ignored (SPDY/3 §2.2.1)
    }
  }
  return std::nullopt;
}

std::string Framer::synReply(uint32_t streamId, const std::map<std::string, std::string>& headers, bool fin) {
  std::string plain;
  put32(plain, static_cast<uint32_t>(headers.size()));
  for (const auto& [k, v] : headers) {
    put32(plain, static_cast<uint32_t>(k.size()));
    plain += k;
    put32(plain, static_cast<uint32_t>(v.size()));
    plain += v;
  }
  std::string block;
  deflate_.next_in = reinterpret_cast<Bytef*>(plain.data());
  deflate_.avail_in = static_cast<uInt>(plain.size());
  char buf[4096];
  do {
    deflate_.next_out = reinterpret_cast<Bytef*>(buf);
    deflate_.avail_out = sizeof buf;
    deflate(&deflate_, Z_SYNC_FLUSH);
    block.append(buf, sizeof buf - deflate_.avail_out);
  } while (deflate_.avail_out == 0);
  std::string body;
  put32(body, streamId & 0x7FFFFFFF);
  body += block;
  return control(Type::kSynReply, fin ? kFlagFin : 0, body);
}

std::string Framer::data(uint32_t streamId, std::string_view bytes, bool fin) {
  std::string out;
  put32(out, streamId & 0x7FFFFFFF);
  out.push_back(static_cast<char>(fin ? kFlagFin : 0));
  const auto n = static_cast<uint32_t>(bytes.size());
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>(n & 0xFF));
  out.append(bytes);
  return out;
}

std::string Framer::ping(uint32_t id) {
  std::string body;
  put32(body, id);
  return control(Type::kPing, 0, body);
}

std::string Framer::rstStream(uint32_t streamId, uint32_t status) {
  std::string body;
  put32(body, streamId & 0x7FFFFFFF);
  put32(body, status);
  return control(Type::kRstStream, 0, body);
}

std::string Framer::goAway(uint32_t lastGoodStreamId, uint32_t status) {
  std::string body;
  put32(body, lastGoodStreamId & 0x7FFFFFFF);
  put32(body, status);
  return control(Type::kGoAway, 0, body);
}

}  // namespace mysqlop::sandbox::spdy
