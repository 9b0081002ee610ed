// inline::code-scanner rules on real snippets: each rule fires on insecure
// code in the languages it covers, and stays quiet on the safe variant.
#include "providers/inline/safety/code_scanner.h"

#include <gtest/gtest.h>

namespace llama_stack::providers::inline_ {
namespace {

std::vector<std::string> rules(std::string_view code) {
  std::vector<std::string> out;
  for (const auto& f : scan_code(code)) out.push_back(f.rule);
  return out;
}

struct Case {
  const char* code;
  const char* rule;  // nullptr: must be clean
};

class CodeScannerRules : public ::testing::TestWithParam<Case> {};

TEST_P(CodeScannerRules, FireOnInsecureCodeOnly) {
  const Case& c = GetParam();
  const auto found = rules(c.code);
  if (c.rule == nullptr) {
    EXPECT_TRUE(found.empty()) << c.code << " → " << (found.empty() ? "" : found[0]);
  } else {
    EXPECT_NE(std::find(found.begin(), found.end(), c.rule), found.end())
        << c.code << " should be " << c.rule;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Snippets, CodeScannerRules,
    ::testing::Values(
        // weak password hashing
        Case{"import hashlib\nh = hashlib.md5(password.encode()).hexdigest()", "weak-hash"},
        Case{"const h = crypto.createHash('sha1').update(pw).digest('hex');", "weak-hash"},
        Case{"MessageDigest md = MessageDigest.getInstance(\"MD5\");", "weak-hash"},
        Case{"sum := md5.Sum([]byte(password))", "weak-hash"},
        Case{"MD5_Init(&ctx); MD5_Update(&ctx, pw, len);", "weak-hash"},
        Case{"h = hashlib.sha256(data).hexdigest()", nullptr},
        // eval / exec
        Case{"result = eval(input('expr: '))", "eval-injection"},
        Case{"const f = new Function('a', body);", "eval-injection"},
        // shell injection
        Case{"os.system('rm -rf ' + path)", "shell-injection"},
        Case{"subprocess.run(cmd, shell=True)", "shell-injection"},
        Case{"require('child_process').exec(`ls ${dir}`)", "shell-injection"},
        Case{"Runtime.getRuntime().exec(cmd);", "shell-injection"},
        Case{"exec.Command(\"sh\", \"-c\", userCmd)", "shell-injection"},
        Case{"system(buffer);", "shell-injection"}, Case{"subprocess.run(['ls', path])", nullptr},
        Case{"Linux is an operating system (OS) kernel.", nullptr},
        // SQL by string formatting
        Case{"cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")", "sql-injection"},
        Case{"cur.execute(\"SELECT * FROM t WHERE id = %s\" % uid)", "sql-injection"},
        Case{"String q = \"SELECT * FROM users WHERE id = \" + id;", "sql-injection"},
        Case{"q := fmt.Sprintf(\"SELECT * FROM users WHERE id = %s\", id)", "sql-injection"},
        Case{"cur.execute(\"SELECT * FROM t WHERE id = ?\", (uid,))", nullptr},
        // TLS verification disabled
        Case{"requests.get(url, verify=False)", "tls-verification-disabled"},
        Case{"https.request({host, rejectUnauthorized: false})", "tls-verification-disabled"},
        Case{"tls.Config{InsecureSkipVerify: true}", "tls-verification-disabled"},
        Case{"curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);", "tls-verification-disabled"},
        Case{"requests.get(url, timeout=5)", nullptr},
        // hard-coded secrets
        Case{"password = \"hunter2-long\"", "hardcoded-secret"},
        Case{"aws_key = 'AKIAIOSFODNN7EXAMPLE'", "hardcoded-secret"},
        Case{"-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "hardcoded-secret"},
        Case{"password = os.environ['DB_PASSWORD']", nullptr},
        // unsafe deserialization
        Case{"obj = pickle.loads(request.data)", "unsafe-deserialization"},
        Case{"cfg = yaml.load(stream)", "unsafe-deserialization"},
        Case{"ObjectInputStream in = new ObjectInputStream(socket.getInputStream());",
             "unsafe-deserialization"},
        Case{"cfg = yaml.load(stream, Loader=yaml.SafeLoader)", nullptr},
        Case{"cfg = yaml.safe_load(stream)", nullptr}));

TEST(CodeScanner, EachRuleIsReportedOnce) {
  EXPECT_EQ(rules("hashlib.md5(a)\nhashlib.sha1(b)\nos.system(c)"),
            (std::vector<std::string>{"weak-hash", "shell-injection"}));
}

}  // namespace
}  // namespace llama_stack::providers::inline_
