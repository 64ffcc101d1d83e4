#include "tests/support/askdesk_daemon.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/json/writer.hpp"
#include "tests/support/wait.hpp"

namespace askdesk::testing {

askdesk_daemon::askdesk_daemon(redis_server& redis, const std::string& config,
                               const std::vector<std::string>& extra, int port)
    : redis_(redis), port_(port != 0 ? port : free_port()) {
  const std::string listen = "127.0.0.1:" + std::to_string(port_);
  std::vector<std::string> argv = {ASKDESK_BINARY, "serve",       "--listen",
                                   listen,         "--log-level", "debug"};
  if (!config.empty()) {
    config_file_ = dir_.write("askdesk.json", config);
    argv.push_back("--config");
    argv.push_back(config_file_);
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  process_ = std::make_unique<child_process>(
      argv, dir_.file("askdesk.log"),
      std::vector<std::pair<std::string, std::string>>{{"ASKDESK_REDIS_URL", redis_.url()}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (http_request("GET", url("/healthz")).status == 200) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("askdesk did not become healthy:\n" + process_->log());
}

askdesk_daemon::~askdesk_daemon() {
  process_->signal(SIGTERM);
  if (!process_->wait(std::chrono::seconds(5))) process_->signal(SIGKILL);
}

std::string askdesk_daemon::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string askdesk_daemon::replay(const std::string& connector, const std::string& token,
                                   const std::string& from, const std::string& json) {
  const auto r = http_request("POST", url("/webhooks/replay/" + connector), json,
                              {"Authorization: Bearer " + token});
  EXPECT_EQ(r.status, 200) << r.body;
  std::string conversation;
  EXPECT_TRUE(wait_until([&] {
    conversation = redis_.command({"GET", "thread:" + connector + ":" + from}).str();
    return !conversation.empty();
  }));
  return conversation;
}

std::pair<int, std::string> askdesk_daemon::run_cli(const std::vector<std::string>& args,
                                                    const std::string& stdin_text) {
  std::string command = "ASKDESK_REDIS_URL='" + redis_.url() + "' '" + ASKDESK_BINARY + "'";
  for (const auto& a : args) command += " '" + a + "'";
  if (!config_file_.empty()) command += " --config '" + config_file_ + "'";
  const std::string input = dir_.write("stdin.txt", stdin_text);
  command += " < '" + input + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string output;
  std::array<char, 4096> buffer;
  while (const std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, output};
}

void askdesk_daemon::add_user(const std::string& name, const std::string& role,
                              const std::vector<std::string>& teams, const std::string& password) {
  std::vector<std::string> args = {"user", "add", name, "--role", role, "--password-stdin"};
  for (const auto& t : teams) {
    args.push_back("--team");
    args.push_back(t);
  }
  const auto [code, output] = run_cli(args, password + "\n");
  if (code != 0) throw std::runtime_error("user add " + name + " failed: " + output);
}

staff_session askdesk_daemon::login(const std::string& name, const std::string& password) {
  const auto r = http_request("POST", url("/api/v1/login"),
                              R"({"username":")" + name + R"(","password":")" + password + R"("})",
                              {"Content-Type: application/json"});
  if (r.status != 200) throw std::runtime_error("login as " + name + ": " + r.body);
  const std::string set_cookie = r.header("set-cookie");
  return {set_cookie.substr(0, set_cookie.find(';')), json_string(r.body, "csrf_token")};
}

http_result askdesk_daemon::call(const staff_session& s, const std::string& method,
                                 const std::string& path, const std::string& body) {
  std::vector<std::string> headers = {"Cookie: " + s.cookie, "Content-Type: application/json"};
  if (method != "GET") headers.push_back("X-CSRF-Token: " + s.csrf);
  return http_request(method, url(path), body, headers);
}

double askdesk_daemon::metric(const std::string& sample) {
  const auto body = "\n" + http_request("GET", url("/metrics")).body;
  const auto at = body.find("\n" + sample + " ");
  return at == std::string::npos ? 0 : std::stod(body.substr(at + sample.size() + 2));
}

bool askdesk_daemon::wait_for_metric(const std::string& sample, double at_least,
                                     std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (metric(sample) < at_least) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

staff_client::staff_client(askdesk_daemon& daemon, const std::string& name,
                           const std::vector<std::string>& teams)
    : daemon_(daemon) {
  daemon_.add_user(name, "staff", teams, name + "-password-1");
  session_ = daemon_.login(name, name + "-password-1");
}

std::string staff_client::read(const std::string& id) {
  return daemon_.call(session_, "GET", "/api/v1/conversations/" + id).body;
}

bool staff_client::eventually(const std::string& id, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (read(id).find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return true;
}

http_result staff_client::reply(const std::string& id, const std::string& text) {
  json::writer body;
  body.start_object().field("text", text).end_object();
  return daemon_.call(session_, "POST", "/api/v1/conversations/" + id + "/messages", body.str());
}

std::string json_at(const std::string& json, const std::string& pointer) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError()) return "";
  const auto* v = rapidjson::Pointer(pointer.c_str()).Get(doc);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

std::string json_value_at(const std::string& json, const std::string& pointer) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError()) return "";
  const auto* v = rapidjson::Pointer(pointer.c_str()).Get(doc);
  if (!v) return "";
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  v->Accept(writer);
  return std::string(out.GetString(), out.GetSize());
}

std::string json_string(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  const std::size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  const std::size_t start = at + needle.size();
  return json.substr(start, json.find('"', start) - start);
}

}  // namespace askdesk::testing
