#include "core/routing/vector_store_filters.h"

#include <utility>

#include "core/util/api_error.h"
#include "core/util/json.h"

namespace llama_stack::routing {
namespace {

namespace json = boost::json;

[[noreturn]] void invalid(const std::string& path, const std::string& what) {
  throw JsonFieldError(path, "Field '" + path + "' " + what);
}

bool is_scalar(const json::value& v) {
  return v.is_string() || v.is_number() || v.is_bool();
}

// -1, 0, 1; or 2 when the values do not compare (different types).
int compare(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.to_number<double>(), y = b.to_number<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.get_string().subview().compare(b.get_string().subview());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_bool() && b.is_bool()) return a.get_bool() == b.get_bool() ? 0 : 2;
  return 2;
}

}  // namespace

AttributeFilter AttributeFilter::parse(const json::value& filters, const std::string& field) {
  AttributeFilter f;
  f.root_ = parse_node(filters, field, 0);
  return f;
}

AttributeFilter::Node AttributeFilter::parse_node(const json::value& v, const std::string& path,
                                                  int depth) {
  if (depth > 32) invalid(path, "nests filters more than 32 deep");
  const json::object* o = v.if_object();
  if (o == nullptr) invalid(path, "must be a filter object");
  const json::value* type = o->if_contains("type");
  if (type == nullptr || !type->is_string()) invalid(path + ".type", "is required (a string)");
  static const std::pair<const char*, Op> kOps[] = {
      {"eq", Op::kEq},   {"ne", Op::kNe}, {"gt", Op::kGt},   {"gte", Op::kGte}, {"lt", Op::kLt},
      {"lte", Op::kLte}, {"in", Op::kIn}, {"nin", Op::kNin}, {"and", Op::kAnd}, {"or", Op::kOr}};
  Node node;
  bool known = false;
  for (const auto& [name, op] : kOps) {
    if (type->get_string() == name) {
      node.op = op;
      known = true;
    }
  }
  if (!known) {
    invalid(path + ".type", "must be one of eq, ne, gt, gte, lt, lte, in, nin, and, or (got '" +
                                std::string(type->get_string()) + "')");
  }
  if (node.op == Op::kAnd || node.op == Op::kOr) {
    const json::value* list = o->if_contains("filters");
    if (list == nullptr || !list->is_array())
      invalid(path + ".filters", "must be a list of filters");
    const json::array& items = list->get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      node.children.push_back(
          parse_node(items[i], path + ".filters[" + std::to_string(i) + "]", depth + 1));
    }
    return node;
  }
  const json::value* key = o->if_contains("key");
  if (key == nullptr || !key->is_string() || key->get_string().empty()) {
    invalid(path + ".key", "is required (a non-empty string)");
  }
  node.key = std::string(key->get_string());
  const json::value* value = o->if_contains("value");
  if (value == nullptr) invalid(path + ".value", "is required");
  if (node.op == Op::kIn || node.op == Op::kNin) {
    if (!value->is_array())
      invalid(path + ".value", "must be a list for '" + std::string(type->get_string()) + "'");
    for (const auto& item : value->get_array()) {
      if (!is_scalar(item)) invalid(path + ".value", "must hold strings, numbers or booleans");
    }
  } else if (!is_scalar(*value)) {
    invalid(path + ".value", "must be a string, a number or a boolean");
  } else if (value->is_bool() && node.op != Op::kEq && node.op != Op::kNe) {
    invalid(path + ".value", "cannot be a boolean for '" + std::string(type->get_string()) + "'");
  }
  node.value = *value;
  return node;
}

bool AttributeFilter::matches(const json::object& attributes) const {
  return eval(root_, attributes);
}

bool AttributeFilter::eval(const Node& node, const json::object& attributes) {
  switch (node.op) {
    case Op::kAnd:
      for (const auto& c : node.children) {
        if (!eval(c, attributes)) return false;
      }
      return true;
    case Op::kOr:
      for (const auto& c : node.children) {
        if (eval(c, attributes)) return true;
      }
      return false;
    default:
      break;
  }
  const json::value* actual = attributes.if_contains(node.key);
  if (actual == nullptr) return false;
  if (node.op == Op::kIn || node.op == Op::kNin) {
    bool found = false;
    for (const auto& item : node.value.get_array()) found = found || compare(*actual, item) == 0;
    return node.op == Op::kIn ? found : !found;
  }
  const int c = compare(*actual, node.value);
  switch (node.op) {
    case Op::kEq:
      return c == 0;
    case Op::kNe:
      return c != 0;
    case Op::kGt:
      return c == 1;
    case Op::kGte:
      return c == 1 || c == 0;
    case Op::kLt:
      return c == -1;
    case Op::kLte:
      return c == -1 || c == 0;
    default:
      return false;
  }
}

}  // namespace llama_stack::routing
