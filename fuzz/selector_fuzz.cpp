// Fuzz target: label and field selectors (untrusted: flags, CR fields, query strings).
// A parsed label selector must print to a string that parses back to the same requirements.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/kube/field_selector.h"
#include "common/kube/label_selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto sel = mysqlop::kube::LabelSelector::parse(text)) {
    auto again = mysqlop::kube::LabelSelector::parse(sel->toString());
    if (!again || again->requirements() != sel->requirements()) __builtin_trap();
  }
  if (auto fs = mysqlop::kube::FieldSelector::parse(text)) {
    auto again = mysqlop::kube::FieldSelector::parse(fs->toString());
    if (!again || again->terms() != fs->terms()) __builtin_trap();
  }
  return 0;
}
