#include "providers/inline/safety/code_scanner.h"

#include <algorithm>
#include <regex>

#include "core/config/config_node.h"
#include "core/util/json.h"
#include "core/util/message_text.h"
#include "llama_stack/common/errors.h"
#include "llama_stack/providers/provider.h"
#include "providers/inline/inline_providers.h"

namespace llama_stack::providers::inline_ {
namespace {

struct Rule {
  const char* id;
  const char* language;
  const char* pattern;
};

// One rule id may have a pattern per language; the first match names it.
constexpr Rule kRules[] = {
    // Weak password hashing (MD5, SHA-1).
    {"weak-hash", "python", R"re(hashlib\.(md5|sha1)\s*\(|hashlib\.new\(\s*['"](md5|sha1)['"])re"},
    {"weak-hash", "javascript", R"re(createHash\(\s*['"](md5|sha1)['"])re"},
    {"weak-hash", "java", R"re(MessageDigest\.getInstance\(\s*"(MD5|SHA-?1)")re"},
    {"weak-hash", "go", R"re(\b(md5|sha1)\.(New|Sum)\s*\()re"},
    {"weak-hash", "c/c++", R"re(\b(MD5|SHA1)(_Init)?\s*\(|EVP_(md5|sha1)\s*\(\))re"},
    // eval / exec of input.
    {"eval-injection", "python",
     R"re((^|[^.\w])(eval|exec)\s*\(\s*(input|request|sys\.argv|data|user))re"},
    {"eval-injection", "javascript", R"re((^|[^.\w])eval\s*\(|new\s+Function\s*\()re"},
    // Shell injection.
    {"shell-injection", "python",
     R"re(os\.(system|popen)\s*\(|subprocess\.\w+\([^)]*shell\s*=\s*True)re"},
    {"shell-injection", "javascript",
     R"re(child_process['"]?\)?\.exec(Sync)?\s*\(|\bexecSync\s*\()re"},
    {"shell-injection", "java", R"re(Runtime\.getRuntime\(\)\.exec\s*\()re"},
    {"shell-injection", "go", R"re(exec\.Command\(\s*"(sh|bash)"\s*,\s*"-c")re"},
    {"shell-injection", "c/c++", R"re((^|[^.\w])(system|popen)\s*\([^)]*\)\s*;)re"},
    // SQL built by string formatting.
    {"sql-injection", "python", R"re(execute\(\s*(f["']|["'][^"']*["']\s*(%|\.format\(|\+)))re"},
    {"sql-injection", "any", R"re(["'](SELECT|INSERT|UPDATE|DELETE)\b[^"']*["']\s*\+\s*\w)re"},
    {"sql-injection", "go", R"re(Sprintf\(\s*"(SELECT|INSERT|UPDATE|DELETE)\b[^"]*%[sv])re"},
    // TLS verification turned off.
    {"tls-verification-disabled", "python", R"re(verify\s*=\s*False|CERT_NONE)re"},
    {"tls-verification-disabled", "javascript",
     R"re(rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED\s*=\s*['"]?0)re"},
    {"tls-verification-disabled", "go", R"re(InsecureSkipVerify\s*:\s*true)re"},
    {"tls-verification-disabled", "c/c++", R"re(CURLOPT_SSL_VERIFY(PEER|HOST)\s*,\s*0)re"},
    {"tls-verification-disabled", "java",
     R"re(ALLOW_ALL_HOSTNAME_VERIFIER|NoopHostnameVerifier)re"},
    // Hard-coded secrets.
    {"hardcoded-secret", "any",
     R"re((password|passwd|secret|api_?key|access_?token)\s*[:=]\s*["'][^"'\s]{6,}["'])re"},
    {"hardcoded-secret", "any",
     R"re(AKIA[0-9A-Z]{16}|-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----)re"},
    // Deserialization of untrusted data.
    {"unsafe-deserialization", "python",
     R"re(pickle\.loads?\s*\(|yaml\.load\s*\((?![^)]*Loader\s*=\s*(yaml\.)?(Safe|CSafe)Loader))re"},
    {"unsafe-deserialization", "java", R"re(new\s+ObjectInputStream\s*\()re"},
};

const std::vector<std::regex>& compiled() {
  static const std::vector<std::regex> regexes = [] {
    std::vector<std::regex> out;
    for (const Rule& rule : kRules) {
      out.emplace_back(rule.pattern, std::regex::ECMAScript | std::regex::icase);
    }
    return out;
  }();
  return regexes;
}

class CodeScannerSafety final : public SafetyProvider {
 public:
  apis::Shield register_shield(apis::Shield shield) override { return shield; }

  async::Task<apis::RunShieldResponse> run_shield(const apis::CallContext&, const apis::Shield&,
                                                  json::array messages, json::object) override {
    std::string text;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const json::object* m = messages[i].if_object();
      if (m == nullptr) {
        const std::string path = "messages[" + std::to_string(i) + "]";
        throw JsonFieldError(path, "Field '" + path + "' must be an object");
      }
      if (const auto* content = m->if_contains("content");
          content != nullptr && !content->is_null()) {
        text += message_text(*content, "messages[" + std::to_string(i) + "].content", "\n");
        text += '\n';
      }
    }
    co_return verdict(scan_code(text));
  }

  async::Task<std::vector<apis::ModerationResult>> moderate(
      const apis::CallContext&, const apis::Shield&, std::vector<std::string> inputs) override {
    std::vector<apis::ModerationResult> results;
    for (const auto& input : inputs) {
      const auto findings = scan_code(input);
      apis::ModerationResult r;
      r.flagged = !findings.empty();
      for (const Rule& rule : kRules) {
        const bool hit = std::any_of(findings.begin(), findings.end(),
                                     [&](const CodeFinding& f) { return f.rule == rule.id; });
        r.categories[rule.id] = hit;
        r.category_scores[rule.id] = hit ? 1.0 : 0.0;
        if (hit) r.category_applied_input_types[rule.id] = json::array{"text"};
      }
      if (auto v = verdict(findings).violation) {
        r.user_message = v->user_message;
        r.metadata = v->metadata;
      }
      results.push_back(std::move(r));
    }
    co_return results;
  }

 private:
  static apis::RunShieldResponse verdict(const std::vector<CodeFinding>& findings) {
    if (findings.empty()) return {};
    std::string rules;
    for (const auto& f : findings) rules += (rules.empty() ? "" : ",") + f.rule;
    apis::SafetyViolation violation;
    violation.violation_level = "error";
    violation.user_message = "Sorry, I found security concerns in the code.";
    violation.metadata["violation_type"] = rules;
    return apis::RunShieldResponse{std::move(violation)};
  }
};

}  // namespace

std::vector<CodeFinding> scan_code(std::string_view text) {
  std::vector<CodeFinding> findings;
  const auto& regexes = compiled();
  for (std::size_t i = 0; i < std::size(kRules); ++i) {
    const Rule& rule = kRules[i];
    if (std::any_of(findings.begin(), findings.end(),
                    [&](const CodeFinding& f) { return f.rule == rule.id; })) {
      continue;
    }
    if (std::regex_search(text.begin(), text.end(), regexes[i])) {
      findings.push_back({rule.id, rule.language});
    }
  }
  return findings;
}

ProviderSpec code_scanner_spec() {
  ProviderSpec spec;
  spec.api = "safety";
  spec.provider_type = "inline::code-scanner";
  spec.description = "Insecure-code shield (rules for Python, JavaScript, C/C++, Go and Java)";
  spec.validate_config = [](const config::ConfigNode& node, config::Diagnostics& d) {
    config::MapReader r(node, d);
    r.finish();
  };
  spec.create = [](const ProviderContext&, const config::ConfigNode&) {
    return std::unique_ptr<Provider>(new CodeScannerSafety());
  };
  return spec;
}

}  // namespace llama_stack::providers::inline_
