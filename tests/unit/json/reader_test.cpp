#include "daemon/json/reader.hpp"

#include <gtest/gtest.h>

#include <map>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"

namespace askdesk::json {
namespace {

environment vars(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ExpandEnvironment, ReplacesVariablesAndKeepsDoubledDollars) {
  std::string missing;
  const auto env = vars({{"HOST", "ask.example.org"}, {"EMPTY", ""}});
  EXPECT_EQ(expand_environment("https://${HOST}/x", env, &missing), "https://ask.example.org/x");
  EXPECT_EQ(expand_environment("costs $$5 ${EMPTY}", env, &missing), "costs $5 ");
  EXPECT_EQ(expand_environment("plain $HOME", env, &missing), "plain $HOME");
  EXPECT_EQ(expand_environment("${NOPE}", env, &missing), std::nullopt);
  EXPECT_EQ(missing, "NOPE");
}

TEST(ObjectReader, ReadsTypesAndReportsEachProblemWithItsPath) {
  auto doc = document::parse(R"({"a":"x","n":5,"big":50,"flag":true,"list":["p","q"],
                                  "obj":{"inner":1},"wrong":1,"empty":""})");
  ASSERT_TRUE(doc);
  problems out;
  const auto env = vars({});
  auto r = object_reader::open(doc->root(), "block", out, env);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->string("a", "fallback"), "x");
  EXPECT_EQ(r->string("absent", "fallback"), "fallback");
  EXPECT_EQ(r->integer("n", 0, 1, 10), 5);
  r->integer("big", 0, 1, 10);
  EXPECT_TRUE(r->boolean("flag", false));
  EXPECT_EQ(r->string_list("list"), (std::vector<std::string>{"p", "q"}));
  auto inner = r->object("obj");
  ASSERT_TRUE(inner);
  inner->finish();  // "inner" was never asked for
  r->required_string("wrong");
  r->required_string("empty");
  r->required_string("missing");
  r->finish();
  const std::string text = out.to_string();
  for (const char* expected :
       {"block.big: must be between 1 and 10", "block.obj.inner: unknown key",
        "block.wrong: must be a string, not a number", "block.empty: required",
        "block.missing: required"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
  EXPECT_EQ(text.find("block.a:"), std::string::npos) << text;
}

TEST(Document, SyntaxErrorsSayLineAndColumn) {
  auto doc = document::parse("{\n  \"a\": 1\n  \"b\": 2\n}");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.err().message.find("line 3"), std::string::npos) << doc.err().message;
}

TEST(Document, DeepNestingDoesNotOverflowTheStack) {
  // A hostile body of 100,000 nested arrays: parsed and freed without recursion.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(document::parse(deep));
}

TEST(Document, InvalidUtf8IsRefused) { EXPECT_FALSE(document::parse("{\"a\":\"\xFF\"}")); }

TEST(Writer, EscapesStringsAndProducesValidJson) {
  writer w;
  w.start_object()
      .field("text", "<img src=x onerror=alert(1)> \"quoted\"\n\x01")
      .field("n", std::int64_t{42})
      .field("ok", true)
      .key("list")
      .start_array()
      .string("a")
      .null()
      .end_array()
      .end_object();
  auto doc = document::parse(w.str());
  ASSERT_TRUE(doc) << w.str();
  EXPECT_STREQ(doc->root()["text"].GetString(), "<img src=x onerror=alert(1)> \"quoted\"\n\x01");
  EXPECT_EQ(doc->root()["n"].GetInt64(), 42);
  EXPECT_TRUE(doc->root()["list"][1].IsNull());
}

}  // namespace
}  // namespace askdesk::json
