#include "daemon/net/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace askdesk::net {
namespace {

void write(const std::filesystem::path& p, std::string_view text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::filesystem::path folder(const testing::temp_dir& dir) { return dir.path(); }

http_request get(std::string path) {
  http_request r;
  r.method = "GET";
  r.target = r.path = std::move(path);
  return r;
}

TEST(StaticFiles, ServesWhatItLoadedWithTypeAndETag) {
  testing::temp_dir dir;
  write(folder(dir) / "dashboard/app.js", "export {};");
  write(folder(dir) / "dashboard/index.html", "<!doctype html>");
  static_files files;
  ASSERT_TRUE(files.load(dir.path()));
  EXPECT_EQ(files.size(), 2u);

  const auto js = files.serve(get("/dashboard/app.js"), "dashboard/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "export {};");
  EXPECT_NE(js.content_type.find("javascript"), std::string::npos);
  std::string etag;
  for (const auto& [k, v] : js.headers)
    if (k == "ETag") etag = v;
  ASSERT_FALSE(etag.empty());

  auto again = get("/dashboard/app.js");
  again.headers = {{"if-none-match", etag}};
  const auto cached = files.serve(again, "dashboard/app.js");
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
}

TEST(StaticFiles, NothingOutsideTheRootAndNothingUnknown) {
  testing::temp_dir dir;
  write(folder(dir) / "web/widget/widget.js", "1");
  write(folder(dir) / "secret.txt", "no");
  static_files files;
  ASSERT_TRUE(files.load((folder(dir) / "web").string()));
  EXPECT_EQ(files.serve(get("/widget/../../secret.txt"), "widget/../../secret.txt").status, 404);
  EXPECT_EQ(files.serve(get("/widget/nothing.js"), "widget/nothing.js").status, 404);
}

TEST(StaticFiles, AMissingRootIsAnErrorNamingIt) {
  static_files files;
  auto s = files.load("/nonexistent/askdesk-web");
  ASSERT_FALSE(s);
  EXPECT_NE(s.err().message.find("/nonexistent/askdesk-web"), std::string::npos);
}

TEST(StaticFiles, ContentTypes) {
  EXPECT_EQ(content_type_for("a.css").substr(0, 8), "text/css");
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_NE(content_type_for("index.html").find("text/html"), std::string::npos);
  EXPECT_EQ(content_type_for("blob.unknownext"), "application/octet-stream");
}

}  // namespace
}  // namespace askdesk::net
