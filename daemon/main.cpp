// The askdesk command: dispatches to its subcommands (see cli.cpp for `askdesk help`).

#include <iostream>

#include "daemon/cli.hpp"

namespace askdesk {
int run_serve(const cli::arguments& args);
int run_user(const cli::arguments& args);
int run_token(const cli::arguments& args);
int run_privacy(const cli::arguments& args);
int run_patron(const cli::arguments& args);
}  // namespace askdesk

int main(int argc, char** argv) {
  using namespace askdesk;
  auto args = cli::parse(argc, argv);
  if (!args) {
    std::cerr << "askdesk: " << args.err().message << "\n";
    return 2;
  }
  const std::string& command = args->command;
  if (command == "help") {
    std::cout << cli::usage();
    return 0;
  }
  if (command == "version") {
    std::cout << "askdesk " << ASKDESK_VERSION << "\n";
    return 0;
  }
  if (command == "serve") return run_serve(*args);
  if (command == "check-config") return cli::run_check_config(*args);
  if (command == "keys") return cli::run_keys(*args);
  if (command == "user") return run_user(*args);
  if (command == "token") return run_token(*args);
  if (command == "privacy") return run_privacy(*args);
  if (command == "patron") return run_patron(*args);
  std::cerr << "askdesk: unknown command '" << command << "' (see askdesk help)\n";
  return 2;
}
