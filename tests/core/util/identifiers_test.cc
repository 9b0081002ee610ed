#include "core/util/identifiers.h"

#include <gtest/gtest.h>

namespace llama_stack {
namespace {

TEST(Identifiers, OrdinaryIdsAreValid) {
  for (const char* id : {"llama3.2:3b", "meta-llama/Llama-3.2-3B-Instruct", "kb_1", "modèle-日本",
                         "builtin::rag/knowledge_search"}) {
    EXPECT_EQ(identifier_problem(id), std::nullopt) << id;
  }
}

TEST(Identifiers, ControlCharactersAreRefusedWithTheirPosition) {
  using namespace std::string_literals;
  EXPECT_EQ(identifier_problem("ab\0c"s), "contains the control character U+0000 at byte 2");
  EXPECT_EQ(identifier_problem("a\nb"), "contains the control character U+000A at byte 1");
  EXPECT_EQ(identifier_problem("a\x7f"), "contains the control character U+007F at byte 1");
  EXPECT_EQ(identifier_problem("a\xc2\x85"), "contains the control character U+0085 at byte 1");
}

TEST(Identifiers, BidiOverridesAreRefused) {
  EXPECT_EQ(identifier_problem("\xe2\x80\xae"
                               "evil"),  // U+202E
            "contains the bidirectional formatting character U+202E at byte 0");
  EXPECT_TRUE(identifier_problem("x\xe2\x81\xa6"));  // U+2066
  EXPECT_TRUE(identifier_problem("x\xe2\x80\x8f"));  // U+200F
}

TEST(Identifiers, InvalidUtf8AndOverlongAreRefused) {
  EXPECT_EQ(identifier_problem("a\xff"), "is not valid UTF-8 (at byte 1)");
  EXPECT_TRUE(identifier_problem("\xc0\xaf"));      // overlong '/'
  EXPECT_TRUE(identifier_problem("\xed\xa0\x80"));  // a surrogate
  EXPECT_TRUE(identifier_problem("\xe2\x80"));      // truncated
  EXPECT_TRUE(identifier_problem(std::string(257, 'a')));
  EXPECT_EQ(identifier_problem(std::string(256, 'a')), std::nullopt);
}

TEST(LogEscaping, PrintableTextIsUnchanged) {
  EXPECT_EQ(log_escaped("GET /v1/models 200 C:\\dir modèle-日本"),
            "GET /v1/models 200 C:\\dir modèle-日本");
}

TEST(LogEscaping, ControlsInvalidBytesAndBidiAreEscaped) {
  using namespace std::string_literals;
  EXPECT_EQ(log_escaped("a\nb\r\0c\x7f"s), "a\\x0ab\\x0d\\x00c\\x7f");
  EXPECT_EQ(log_escaped("nel\xc2\x85"), "nel\\xc2\\x85");
  EXPECT_EQ(log_escaped("bad\xff\xe2\x80"), "bad\\xff\\xe2\\x80");
  EXPECT_EQ(log_escaped("evil\xe2\x80\xaegpj"), "evil\\u{202E}gpj");
  EXPECT_EQ(log_escaped("\xe2\x81\xa6x"), "\\u{2066}x");
}

TEST(JsonAsciiSafe, EscapesWhatJsonSerializersPassThrough) {
  EXPECT_EQ(json_ascii_safe(R"({"a":"x"})"), R"({"a":"x"})");
  EXPECT_EQ(json_ascii_safe("{\"p\":\"e\xe2\x80\xae\x7f\xc2\x85\xff日\"}"),
            "{\"p\":\"e\\u202e\\u007f\\u0085\\ufffd日\"}");
}

}  // namespace
}  // namespace llama_stack
