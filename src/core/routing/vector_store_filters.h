// OpenAI's attribute filters for vector store search: comparisons
// {type: eq|ne|gt|gte|lt|lte|in|nin, key, value} and compounds
// {type: and|or, filters: [...]}, matched against a file's attributes.
//
// Semantics: a comparison on a key the attributes lack is false (ne and nin
// too, as Llama Stack); numbers compare as numbers, strings
// lexicographically, booleans only for eq/ne; values of different types are
// never equal (so ne is true) and never ordered (gt, lt, … false). `in`/`nin` take a list value. An
// invalid filter is a 400 naming the field (filters.filters[1].type, …), never an empty result.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace llama_stack::routing {

class AttributeFilter {
 public:
  // Parses `filters` (400 naming `field` and the path inside it).
  static AttributeFilter parse(const boost::json::value& filters,
                               const std::string& field = "filters");

  bool matches(const boost::json::object& attributes) const;

 private:
  enum class Op { kEq, kNe, kGt, kGte, kLt, kLte, kIn, kNin, kAnd, kOr };
  struct Node {
    Op op = Op::kEq;
    std::string key;
    boost::json::value value;
    std::vector<Node> children;
  };
  static Node parse_node(const boost::json::value& v, const std::string& path, int depth);
  static bool eval(const Node& node, const boost::json::object& attributes);

  Node root_;
};

}  // namespace llama_stack::routing
