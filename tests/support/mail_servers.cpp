#include "tests/support/mail_servers.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace askdesk::testing {

namespace {

// Waits until `port` accepts connections; throws with the server's log otherwise.
void wait_listening(int port, child_process& p, const std::string& what) {
  for (int i = 0; i < 200; ++i) {
    if (port_accepts(port)) return;
    if (!p.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  throw std::runtime_error(what + " did not start on port " + std::to_string(port) + ":\n" +
                           p.log());
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

test_certificate::test_certificate() {
  child_process openssl(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
       "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key(), "-out", cert()},
      dir_.file("openssl.log"));
  if (openssl.wait(std::chrono::seconds(20)) != 0) {
    throw std::runtime_error("openssl could not make a test certificate:\n" + openssl.log());
  }
}

dovecot_server::dovecot_server(const test_certificate* tls)
    : port_(free_port()), imaps_port_(tls ? free_port() : 0) {
  const bool root = getuid() == 0;
  const passwd* me = getpwuid(getuid());
  const std::string self = me ? me->pw_name : "root";
  // Dovecot's unprivileged processes must reach their folders.
  chmod(dir_.path().c_str(), 0755);
  const std::string home = dir_.file("home");
  mail_uid_ = root ? 65534 : getuid();  // nobody
  mail_gid_ = root ? 65534 : getgid();
  for (const std::string& path : {home, home + "/" + user, maildir(), maildir() + "/tmp",
                                  maildir() + "/new", maildir() + "/cur"}) {
    std::filesystem::create_directories(path);
    if (chown(path.c_str(), mail_uid_, mail_gid_) != 0) {
      throw std::runtime_error("cannot give " + path + " to uid " + std::to_string(mail_uid_));
    }
  }
  dir_.write("passwd", std::string(user) + ":{PLAIN}" + password + "\n");
  std::ostringstream conf;
  conf << "base_dir = " << dir_.file("run") << "\n"
       << "state_dir = " << dir_.file("state") << "\n"
       << "log_path = /dev/stderr\n"
       << "protocols = imap\nlisten = 127.0.0.1\n"
       << "disable_plaintext_auth = no\nauth_mechanisms = plain login\n"
       << "first_valid_uid = 1\n"
       << "default_login_user = " << (root ? "dovenull" : self) << "\n"
       << "default_internal_user = " << (root ? "dovecot" : self) << "\n"
       << "mail_location = maildir:~/Maildir\n"
       << "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u "
       << dir_.file("passwd") << "\n}\n"
       << "userdb {\n  driver = static\n  args = uid=" << mail_uid_ << " gid=" << mail_gid_
       << " home=" << home << "/%u\n}\n"
       << "service imap-login {\n  chroot =\n  inet_listener imap {\n    address = 127.0.0.1\n"
       << "    port = " << port_ << "\n  }\n  inet_listener imaps {\n    address = 127.0.0.1\n"
       << "    port = " << imaps_port_ << "\n  }\n}\n"
       << "service anvil {\n  chroot =\n}\n";
  if (tls) {
    conf << "ssl = yes\nssl_cert = <" << tls->cert() << "\nssl_key = <" << tls->key() << "\n";
  } else {
    conf << "ssl = no\n";
  }
  const std::string config = dir_.write("dovecot.conf", conf.str());
  process_ = std::make_unique<child_process>(
      std::vector<std::string>{"/usr/sbin/dovecot", "-F", "-c", config}, dir_.file("dovecot.log"));
  wait_listening(port_, *process_, "dovecot");
  if (tls) wait_listening(imaps_port_, *process_, "dovecot (imaps)");
}

dovecot_server::~dovecot_server() {
  if (process_) {
    process_->signal(SIGTERM);
    if (!process_->wait(std::chrono::seconds(5))) process_->signal(SIGKILL);
  }
}

std::string dovecot_server::url(const std::string& mailbox) const {
  return "imap://127.0.0.1:" + std::to_string(port_) + "/" + mailbox;
}

std::string dovecot_server::imaps_url(const std::string& mailbox) const {
  return "imaps://127.0.0.1:" + std::to_string(imaps_port_) + "/" + mailbox;
}

void dovecot_server::append(const std::string& raw, bool readable) {
  // As a delivery agent does: write into tmp/, then rename into new/ (IMAP APPEND through
  // curl would mark the message \Seen).
  const std::string name =
      std::to_string(std::time(nullptr)) + ".askdesk" + std::to_string(++delivered_) + ".test";
  const std::string tmp = maildir() + "/tmp/" + name;
  std::ofstream(tmp, std::ios::binary) << raw;
  if (chown(tmp.c_str(), mail_uid_, mail_gid_) != 0 || (!readable && chmod(tmp.c_str(), 0) != 0) ||
      std::rename(tmp.c_str(), (maildir() + "/new/" + name).c_str()) != 0) {
    throw std::runtime_error("cannot deliver a test message into " + maildir());
  }
}

std::string dovecot_server::command(const std::string& command, const std::string& mailbox) {
  CURL* curl = curl_easy_init();
  std::string out;
  curl_easy_setopt(curl, CURLOPT_URL, url(mailbox).c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, user);
  curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, command.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    throw std::runtime_error("IMAP " + command + " failed: " + curl_easy_strerror(rc));
  }
  return out;
}

std::uint64_t dovecot_server::uidvalidity(const std::string& mailbox) {
  const std::string status = command("STATUS \"" + mailbox + "\" (UIDVALIDITY)", mailbox);
  const auto at = status.find("UIDVALIDITY ");
  if (at == std::string::npos) throw std::runtime_error("no UIDVALIDITY in " + status);
  return std::stoull(status.substr(at + 12));
}

std::vector<std::uint64_t> dovecot_server::search(const std::string& criteria,
                                                  const std::string& mailbox) {
  std::istringstream in(command("UID SEARCH " + criteria, mailbox));
  std::vector<std::uint64_t> uids;
  std::string word;
  while (in >> word) {
    if (!word.empty() && std::all_of(word.begin(), word.end(), ::isdigit)) {
      uids.push_back(std::stoull(word));
    }
  }
  return uids;
}

smtp_sink::smtp_sink(bool refuse_login) : port_(free_port()) { start({}, refuse_login); }

smtp_sink::smtp_sink(const test_certificate& tls, tls_mode mode)
    : port_(free_port()), implicit_tls_(mode == tls_mode::implicit) {
  // aiosmtpd takes no MAIL before STARTTLS once it has --tlscert (no --no-requiretls).
  if (implicit_tls_) {
    start({"--smtpscert", tls.cert(), "--smtpskey", tls.key()}, false);
  } else {
    start({"--tlscert", tls.cert(), "--tlskey", tls.key()}, false);
  }
}

void smtp_sink::start(std::vector<std::string> options, bool refuse_login) {
  std::filesystem::create_directories(dir_.file("mail"));
  std::vector<std::string> argv = {
      "/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_)};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), {"-c", "smtp_sink.Sink", dir_.file("mail")});
  if (refuse_login) argv.push_back("refuse-login");
  process_ = std::make_unique<child_process>(
      argv, dir_.file("smtp.log"),
      std::vector<std::pair<std::string, std::string>>{
          {"PYTHONPATH", std::string(ASKDESK_SOURCE_DIR) + "/tests/support"}});
  wait_listening(port_, *process_, "the SMTP sink (aiosmtpd)");
}

smtp_sink::~smtp_sink() = default;

std::vector<std::string> smtp_sink::messages() const {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir_.file("mail"))) {
    if (e.path().extension() == ".eml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(read_file(f));
  return out;
}

bool smtp_sink::wait_for(std::size_t n, std::chrono::milliseconds wait) const {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (messages().size() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return true;
}

}  // namespace askdesk::testing
