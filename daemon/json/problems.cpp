#include "daemon/json/problems.hpp"

namespace askdesk::json {

void problems::add(std::string path, std::string message) {
  list_.push_back({std::move(path), std::move(message)});
}

std::string problems::to_string() const {
  std::string out;
  for (const auto& p : list_) {
    if (!p.path.empty()) out += p.path + ": ";
    out += p.message;
    out += '\n';
  }
  return out;
}

}  // namespace askdesk::json
