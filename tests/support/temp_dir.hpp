// A fresh folder under $TMPDIR for one test, removed with everything in it afterwards.
#pragma once

#include <string>

namespace askdesk::testing {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to file(name) and returns its path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();
// Whether something accepts connections on 127.0.0.1:port now.
bool port_accepts(int port);

// The whole file at `path` ("" when it cannot be read).
std::string read_file(const std::string& path);

}  // namespace askdesk::testing
