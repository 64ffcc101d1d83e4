#include "daemon/net/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>

namespace askdesk::net {

namespace fs = std::filesystem;

std::string_view content_type_for(std::string_view name) {
  const struct {
    std::string_view ext, type;
  } types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".wav", "audio/wav"},
      {".mp3", "audio/mpeg"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const auto& t : types) {
    if (name.ends_with(t.ext)) return t.type;
  }
  return "application/octet-stream";
}

namespace {

std::string etag_of(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(body.data(), body.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned i = 0; i < 12; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out + "\"";
}

}  // namespace

core::status static_files::load(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return core::error{"not_found", "web root " + root + " is not a folder"};
  }
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string name = it->path().filename().string();
    if (name.starts_with('.')) continue;
    if (auto added = add(fs::relative(it->path(), root).generic_string(), it->path().string());
        !added) {
      return added;
    }
  }
  if (ec) return core::error{"unavailable", "cannot list " + root + ": " + ec.message()};
  return {};
}

core::status static_files::add(const std::string& relative, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in) return core::error{"unavailable", "cannot read " + path};
  file f{std::string(content_type_for(fs::path(path).filename().string())), body.str(), {}};
  f.etag = etag_of(f.body);
  files_[relative] = std::move(f);
  return {};
}

http_response static_files::serve(const http_request& request, std::string_view relative) const {
  const auto it = files_.find(relative);
  if (it == files_.end() || relative.find("..") != std::string_view::npos) {
    return http_response::error(404, "not_found", "no such file: " + request.path);
  }
  const file& f = it->second;
  http_response r;
  r.header("ETag", f.etag).header("Cache-Control", "no-cache");
  if (request.header("if-none-match") == f.etag) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = f.content_type;
  r.body = f.body;
  return r;
}

}  // namespace askdesk::net
