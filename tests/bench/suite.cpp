#include "tests/bench/suite.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>

#include <boost/asio/post.hpp>

namespace askdesk::bench {

void results::set(const std::string& key, double value) {
  for (auto& [k, v] : values_) {
    if (k == key) {
      v = value;
      return;
    }
  }
  values_.emplace_back(key, value);
}

void results::row(std::string scenario, std::string what, std::string value, std::string baseline,
                  std::string ratio) {
  rows_.push_back({std::move(scenario), std::move(what), std::move(value), std::move(baseline),
                   std::move(ratio)});
}

void results::note(std::string text) { notes_.push_back(std::move(text)); }

std::string results::json(const std::string& cpu, int cores) const {
  std::string out = "{\n  \"cpu\": \"";
  for (const char c : cpu) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += "\",\n  \"cores\": " + std::to_string(cores);
  for (const auto& [key, value] : values_) {
    char number[64];
    std::snprintf(number, sizeof number, "%.6g", value);
    out += ",\n  \"" + key + "\": " + number;
  }
  return out + "\n}\n";
}

std::string results::table() const {
  std::vector<std::string> head = {"scenario", "measure", "askdesk", "baseline", "ratio"};
  std::vector<std::size_t> width(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) width[i] = head[i].size();
  for (const auto& r : rows_) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::ostringstream out;
  const auto line = [&](const std::vector<std::string>& cells) {
    out << "|";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out << ' ' << cells[i] << std::string(width[i] - cells[i].size(), ' ') << " |";
    }
    out << '\n';
  };
  line(head);
  out << "|";
  for (const auto w : width) out << std::string(w + 2, '-') << "|";
  out << '\n';
  for (const auto& r : rows_) line(r);
  for (const auto& n : notes_) out << "\n- " << n;
  if (!notes_.empty()) out << '\n';
  return out.str();
}

percentiles::percentiles(std::vector<double> samples) : sorted_(std::move(samples)) {
  std::sort(sorted_.begin(), sorted_.end());
}

double percentiles::at(double p) const {
  if (sorted_.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted_.size() - 1) + 0.5);
  return sorted_[std::min(i, sorted_.size() - 1)];
}

io_thread::io_thread() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}

io_thread::~io_thread() { stop(); }

void io_thread::run(std::function<void()> f) {
  std::promise<void> done;
  boost::asio::post(io_, [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

void io_thread::stop() {
  if (!thread_.joinable()) return;
  guard_.reset();
  io_.stop();
  thread_.join();
}

double cpu_seconds(pid_t pid) {
  std::ifstream in(pid == 0 ? "/proc/self/stat" : "/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after its ')'.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double resident_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) * 1024;
  }
  return 0;
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (!done()) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::optional<std::uint64_t> number_after(std::string_view frame, std::string_view prefix) {
  const auto at = frame.find(prefix);
  if (at == std::string_view::npos) return std::nullopt;
  std::uint64_t n = 0;
  const char* begin = frame.data() + at + prefix.size();
  const auto [end, ec] = std::from_chars(begin, frame.data() + frame.size(), n);
  if (ec != std::errc() || end == begin) return std::nullopt;
  return n;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace askdesk::bench
