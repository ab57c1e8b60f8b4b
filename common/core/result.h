#pragma once
// Errors as values: `Error` carries one code from a fixed set (STYLE.md rule 2) and `Result<T>`
// holds either a T or an Error. Every network path returns these; exceptions are kept for
// start-up and configuration failures.
//
//   Result<int> parsePort(std::string_view s);
//   auto r = parsePort("80");
//   if (!r) return r.error();          // propagate
//   use(*r);
//
// Thread-compatible (a value type).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mysqlop::core {

// The one fixed set of error codes. Kubernetes-flavoured names, but nothing here knows HTTP:
// the client maps HTTP statuses and Status bodies onto it once.
enum class ErrorCode {
  kNotFound,
  kAlreadyExists,
  kConflict,
  kGone,
  kUnauthorized,
  kForbidden,
  kInvalid,
  kTooManyRequests,
  kTimeout,
  kUnavailable,
  kInternal,
};

// "NotFound", "AlreadyExists", ... (the spelling used in logs and conditions).
std::string_view errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Machine-readable detail, e.g. a Kubernetes Status `reason` ("Expired", "FieldManagerConflict").
  std::string reason;
  // Set when the peer said when to come back (HTTP Retry-After, Status retryAfterSeconds).
  std::optional<std::chrono::seconds> retryAfter;
  // The HTTP status the error came from, 0 when it did not come from HTTP.
  int httpStatus = 0;

  Error() = default;
  Error(ErrorCode c, std::string msg) : code(c), message(std::move(msg)) {}

  bool is(ErrorCode c) const { return code == c; }
  // "NotFound: secrets \"x\" not found"
  std::string toString() const;
};

// Shorthands for the common constructions.
inline Error notFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Error invalid(std::string m) { return {ErrorCode::kInvalid, std::move(m)}; }
inline Error internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
inline Error unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Error timeout(std::string m) { return {ErrorCode::kTimeout, std::move(m)}; }

// `E` is the error type: core::Error everywhere except where a caller needs a richer error
// (the sandbox apiserver carries Kubernetes Status details in its own type).
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(const T& v) : v_(std::in_place_index<0>, v) {}        // NOLINT(implicit)
  Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT(implicit)
  Result(E e) : v_(std::in_place_index<1>, std::move(e)) {}    // NOLINT(implicit)
  template <typename U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, E> && !std::is_same_v<std::decay_t<U>, Result>)
  Result(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}  // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok(). Asserted (std::get throws bad_variant_access on misuse).
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Precondition: !ok().
  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }

  template <typename U>
  T valueOr(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E e) : err_(std::move(e)) {}  // NOLINT(implicit)

  bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const E& error() const& { return *err_; }
  E&& error() && { return std::move(*err_); }

 private:
  std::optional<E> err_;
};

using Status = Result<void>;

}  // namespace mysqlop::core
