#include "e2e/sandbox/apiserver/websocket.h"

#include <openssl/sha.h>

#include <array>

#include "common/kube/base64.h"

namespace mysqlop::sandbox::websocket {

std::string acceptKey(std::string_view clientKey) {
  // RFC 6455 §4.2.2: base64(SHA-1(key + the protocol's GUID)).
  const std::string in = std::string(clientKey) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest.data());
  return kube::base64Encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string chooseProtocol(std::string_view offered, std::initializer_list<std::string_view> supported) {
  size_t pos = 0;
  while (pos <= offered.size()) {
    size_t end = offered.find(',', pos);
    if (end == std::string_view::npos) end = offered.size();
    std::string_view p = offered.substr(pos, end - pos);
    while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.remove_prefix(1);
    while (!p.empty() && (p.back() == ' ' || p.back() == '\t')) p.remove_suffix(1);
    for (auto s : supported) {
      if (p == s) return std::string(s);
    }
    pos = end + 1;
  }
  return "";
}

std::optional<Message> FrameReader::next() {
  while (!error_) {
    if (buf_.size() < 2) return std::nullopt;
    const auto b0 = static_cast<uint8_t>(buf_[0]), b1 = static_cast<uint8_t>(buf_[1]);
    const bool fin = (b0 & 0x80) != 0;
    const auto op = static_cast<Opcode>(b0 & 0x0F);
    if ((b0 & 0x70) != 0) {
      error_ = "a frame with reserved bits set (no extension was negotiated)";
      break;
    }
    if ((b1 & 0x80) == 0) {
      error_ = "a client frame that is not masked";
      break;
    }
    uint64_t len = b1 & 0x7F;
    size_t at = 2;
    if (len == 126) {
      if (buf_.size() < 4) return std::nullopt;
      len = (static_cast<uint64_t>(static_cast<uint8_t>(buf_[2])) << 8) | static_cast<uint8_t>(buf_[3]);
      at = 4;
    } else if (len == 127) {
      if (buf_.size() < 10) return std::nullopt;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(buf_[2 + i]);
      at = 10;
    }
    const bool control = (static_cast<uint8_t>(op) & 0x08) != 0;
    const bool known = op == Opcode::kContinuation || op == Opcode::kText || op == Opcode::kBinary || op == Opcode::kClose ||
                       op == Opcode::kPing || op == Opcode::kPong;
    if (!known) {
      error_ = "a frame with an unknown opcode " + std::to_string(static_cast<int>(op));
      break;
    }
    if (control && (!fin || len > 125)) {
      error_ = "a control frame that is fragmented or longer than 125 bytes";
      break;
    }
    if (len > max_ || fragments_.size() + len > max_) {
      error_ = "a message larger than " + std::to_string(max_) + " bytes";
      break;
    }
    if (buf_.size() < at + 4 + len) return std::nullopt;
    const char* mask = buf_.data() + at;
    std::string payload = buf_.substr(at + 4, static_cast<size_t>(len));
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    buf_.erase(0, at + 4 + static_cast<size_t>(len));

    if (control) return Message{op, std::move(payload)};
    if (op == Opcode::kContinuation) {
      if (!fragmentOf_) {
        error_ = "a continuation frame with no message to continue";
        break;
      }
      fragments_ += payload;
      if (!fin) continue;
      Message m{*fragmentOf_, std::move(fragments_)};
      fragments_.clear();
      fragmentOf_.reset();
      return m;
    }
    if (fragmentOf_) {
      error_ = "a new data frame before the fragmented message ended";
      break;
    }
    if (fin) return Message{op, std::move(payload)};
    fragmentOf_ = op;
    fragments_ = std::move(payload);
  }
  return std::nullopt;
}

std::string encodeFrame(Opcode op, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  out.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(op)));
  const uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  out.append(payload);
  return out;
}

std::string closePayload(uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason.substr(0, 123));
  return p;
}

}  // namespace mysqlop::sandbox::websocket
