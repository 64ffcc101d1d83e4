// Serves the web front end (web/dashboard, web/widget) from memory: the files are read once
// at start, so a request never touches the disk and a half-copied deployment is never
// served. Answers GET and HEAD with a content type, an ETag and no-cache (browsers
// revalidate, so a new release shows at once). Not thread-safe; immutable after load().
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "daemon/core/result.hpp"
#include "daemon/net/http.hpp"

namespace askdesk::net {

class static_files {
 public:
  // Reads every regular file under `root` (recursively). Fails naming the folder.
  core::status load(const std::string& root);
  // Adds the file at `path` as `relative` (a library installed elsewhere). Fails naming it.
  core::status add(const std::string& relative, const std::string& path);

  // The file at `relative` ("dashboard/app.js"), answered as a response; 404 when absent.
  http_response serve(const http_request& request, std::string_view relative) const;

  std::size_t size() const { return files_.size(); }

 private:
  struct file {
    std::string content_type;
    std::string body;
    std::string etag;
  };
  std::map<std::string, file, std::less<>> files_;
};

// The content type for a file name, by its extension.
std::string_view content_type_for(std::string_view name);

}  // namespace askdesk::net
