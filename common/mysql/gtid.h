#pragma once
// GTID sets as MySQL prints them (@@gtid_executed): "uuid:1-5:11,uuid2[:tag]:1-3", whitespace and
// line breaks ignored, upper or lower case. What the community operator needs of a group's
// members: whether one member holds every transaction another holds (who may bootstrap a group
// again), how many transactions each holds, and whether a member ever held the group's.
//
//   auto a = GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
//   a->contains(*b);      // every GTID of b is in a
//
// Pure; any thread.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/result.h"

namespace mysqlop::dbclient {

class GtidSet {
 public:
  // Invalid (naming the part at fault) for text that is not a GTID set.
  static core::Result<GtidSet> parse(std::string_view text);

  bool contains(const GtidSet& other) const;
  bool empty() const { return sets_.empty(); }
  // How many transactions.
  int64_t count() const;
  // Whether any GTID of this source (a server's UUID or a group's name, any tag) is in the set.
  bool hasSource(std::string_view uuid) const;
  // Normalised text: sources in order, lower case, intervals merged ("" when empty).
  std::string str() const;
  bool operator==(const GtidSet&) const = default;

 private:
  // "uuid" or "uuid:tag" → sorted, disjoint, non-adjacent closed intervals.
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> sets_;
};

}  // namespace mysqlop::dbclient
