// A list of problems found in a JSON document, each with the JSON path where it was found
// ("connectors[1].auth_token: required"). Readers add to it; callers print all of it, so an
// admin fixes every mistake in one pass. Not thread-safe.
#pragma once

#include <string>
#include <vector>

namespace askdesk::json {

struct problem {
  std::string path;  // "connectors[1].auth_token", or "" for the document itself
  std::string message;
};

class problems {
 public:
  void add(std::string path, std::string message);
  bool empty() const { return list_.empty(); }
  std::size_t size() const { return list_.size(); }
  const std::vector<problem>& list() const { return list_; }
  // One "path: message" per line.
  std::string to_string() const;

 private:
  std::vector<problem> list_;
};

}  // namespace askdesk::json
