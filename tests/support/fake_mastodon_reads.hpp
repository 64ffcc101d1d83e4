// The reading side of fake_mastodon: a request's parameters as Rails reads them, pages cut and
// linked as Mastodon's Paginable concern and its controllers do, and the answers of the GET
// endpoints, built from the world. Internal to fake_mastodon, which calls all of this under
// its lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/net/http.hpp"
#include "tests/support/fake_mastodon_entities.hpp"

namespace askdesk::testing::mastodon_fake {

// Rails' blank?: empty or only white space.
bool blank(std::string_view text);
// Ruby's String#to_i: optional blanks and sign, then digits up to the first other character.
std::int64_t ruby_to_i(std::string_view text);
// ActiveModel's boolean cast: absent or "" is nil (false), "0", "f", "false", "off" (and
// their capitals) false, anything else true.
bool truthy(const std::optional<std::string>& value);

// A request's parameters, query and body together: names as sent ("types[]"), values as text.
class parameters {
 public:
  void add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // The first value of exactly `name`.
  std::optional<std::string> get(std::string_view name) const;
  // Sent and not blank.
  bool present(std::string_view name) const;
  // The values of an array parameter: name[], name[N], or a plain name.
  std::vector<std::string> list(std::string_view name) const;
  // One JSON object: each name once, a name sent more than once with an array of its values.
  std::string json() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Fills `p` from the query and a JSON or form body (a JSON body flattened to the names a form
// would use: media_ids[], poll[options][]; null left out; numbers and booleans as their JSON
// text). False when one of them cannot be parsed.
bool read_parameters(const net::http_request& r, parameters& p);

// Answers as Mastodon's API controllers give them: JSON, no caching.
net::http_response json_answer(int status, std::string body);
// {"error":"<message>"}
net::http_response json_error(int status, std::string_view message);

// GET /api/v1/notifications: types[], exclude_types[], account_id, include_filtered, paging.
net::http_response notifications_page(const world& x,
                                      const std::vector<notification_record>& notifications,
                                      const parameters& p);
// GET /api/v1/statuses/:id, or its /context with `with_context`.
net::http_response status_answer(const world& x, const std::string& id, bool with_context);
// GET /api/v1/timelines/tag/:hashtag; `raw_path` is the path as sent, for the Link header.
net::http_response tag_timeline(const world& x, const std::string& raw_path, const std::string& tag,
                                const parameters& p);
// GET /api/v2/search; statuses only with `full_text_search`.
net::http_response search(const world& x, bool full_text_search, const parameters& p);

}  // namespace askdesk::testing::mastodon_fake
