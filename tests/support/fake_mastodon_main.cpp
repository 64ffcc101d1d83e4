// The fake Mastodon server (fake_mastodon.hpp) as a program, for tests that are not C++ (the
// browser tests in tests/e2e/). It prints one JSON line, {"base":..., "domain":...,
// "token":...}, then reads one JSON command a line on stdin and answers each with one JSON
// line on stdout, {"ok":true,...} or {"ok":false,"error":"..."}; it stops at the end of its
// input. Commands ("command" names one):
//   add_account         username, display_name                -> account
//   add_remote_account  username, domain, display_name        -> account
//   add_status          the fields of status_spec              -> id
//                       (media: [{url, preview_url, description}], mentions and tags: [])
//   posted                                                     -> posted: [posted status]
//   requests            prefix ("METHOD /path" start; optional) -> requests: [request]
// Logs go to stderr, so stdout carries only the answers.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/json/document.hpp"
#include "daemon/json/writer.hpp"
#include "tests/support/fake_mastodon.hpp"

namespace {

using askdesk::testing::fake_mastodon;
namespace json = askdesk::json;

std::string member(const rapidjson::Value& v, const char* key) {
  return std::string(json::string_member(v, key));
}

// The strings of array member `key`; throws when an item is not a string.
std::vector<std::string> string_list(const rapidjson::Value& v, const char* key) {
  std::vector<std::string> out;
  const auto it = v.FindMember(key);
  if (it == v.MemberEnd() || it->value.IsNull()) return out;
  if (!it->value.IsArray()) throw std::invalid_argument(std::string(key) + " must be a list");
  for (const auto& item : it->value.GetArray()) {
    if (!item.IsString()) throw std::invalid_argument(std::string(key) + " must hold strings");
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

void write_account(json::writer& w, const fake_mastodon::account& a) {
  w.key("account")
      .start_object()
      .field("id", a.id)
      .field("username", a.username)
      .field("acct", a.acct)
      .field("display_name", a.display_name)
      .field("url", a.url)
      .end_object();
}

fake_mastodon::status_spec status_of(const rapidjson::Value& v) {
  fake_mastodon::status_spec s;
  s.account_id = member(v, "account_id");
  s.content = member(v, "content");
  if (v.HasMember("visibility")) s.visibility = member(v, "visibility");
  s.in_reply_to_id = member(v, "in_reply_to_id");
  s.spoiler_text = member(v, "spoiler_text");
  s.sensitive = json::bool_member(v, "sensitive");
  if (v.HasMember("language")) s.language = member(v, "language");
  s.mentions = string_list(v, "mentions");
  s.tags = string_list(v, "tags");
  if (const auto it = v.FindMember("media"); it != v.MemberEnd() && it->value.IsArray()) {
    for (const auto& m : it->value.GetArray()) {
      if (!m.IsObject()) throw std::invalid_argument("media must hold objects");
      s.media.push_back({member(m, "url"), member(m, "preview_url"), member(m, "description")});
    }
  }
  return s;
}

// The answer to one command line, without its newline.
std::string answer(fake_mastodon& server, const std::string& line) {
  auto doc = json::document::parse(line);
  if (!doc || !doc->root().IsObject()) {
    throw std::invalid_argument("a command is one JSON object on a line" +
                                (doc ? std::string() : ": " + doc.err().message));
  }
  const auto& v = doc->root();
  const std::string command = member(v, "command");
  json::writer w;
  w.start_object().field("ok", true);
  if (command == "add_account") {
    write_account(w, server.add_account(member(v, "username"), member(v, "display_name")));
  } else if (command == "add_remote_account") {
    write_account(w, server.add_remote_account(member(v, "username"), member(v, "domain"),
                                               member(v, "display_name")));
  } else if (command == "add_status") {
    w.field("id", server.add_status(status_of(v)));
  } else if (command == "posted") {
    w.key("posted").start_array();
    for (const auto& p : server.posted()) {
      w.start_object()
          .field("id", p.id)
          .field("status", p.status)
          .field("in_reply_to_id", p.in_reply_to_id)
          .field("visibility", p.visibility)
          .field("spoiler_text", p.spoiler_text)
          .field("language", p.language)
          .field("idempotency_key", p.idempotency_key)
          .field("content", p.content);
      w.key("mentions").start_array();
      for (const auto& m : p.mentions) w.string(m);
      w.end_array().end_object();
    }
    w.end_array();
  } else if (command == "requests") {
    w.key("requests").start_array();
    for (const auto& r : server.requests(member(v, "prefix"))) {
      w.start_object()
          .field("method", r.method)
          .field("path", r.path)
          .field("query", r.query)
          .key("params")
          .raw(r.params)
          .field("idempotency_key", r.idempotency_key)
          .field("content_type", r.content_type)
          .field("authorized", r.authorized)
          .field("status", r.status)
          .field("remaining", r.remaining)
          .end_object();
    }
    w.end_array();
  } else {
    throw std::invalid_argument("unknown command '" + command +
                                "': add_account, add_remote_account, add_status, posted or "
                                "requests");
  }
  w.end_object();
  return w.str();
}

}  // namespace

int main() {
  spdlog::set_default_logger(spdlog::stderr_color_mt("fake_mastodon"));
  fake_mastodon server;
  {
    json::writer w;
    w.start_object()
        .field("base", server.base())
        .field("domain", server.domain())
        .field("token", server.token())
        .end_object();
    std::cout << w.str() << std::endl;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      std::cout << answer(server, line) << std::endl;
    } catch (const std::exception& e) {
      json::writer w;
      w.start_object().field("ok", false).field("error", e.what()).end_object();
      std::cout << w.str() << std::endl;
    }
  }
  return 0;
}
