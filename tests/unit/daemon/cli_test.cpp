#include "daemon/cli.hpp"

#include <gtest/gtest.h>

namespace askdesk::cli {
namespace {

// A factory that claims a type and builds nothing.
struct named_factory final : connectors::connector_factory {
  explicit named_factory(std::string type) : type_(std::move(type)) {}
  std::string_view type() const override { return type_; }
  std::unique_ptr<connectors::connector_settings> parse(json::object_reader&) const override {
    return nullptr;
  }
  std::unique_ptr<connectors::connector> create(std::unique_ptr<connectors::connector_settings>,
                                                connectors::connector_context&) const override {
    return nullptr;
  }
  std::string type_;
};

// What load_config printed, and whether it loaded, with `add` as the registration.
std::pair<bool, std::string> load_with(const registration& add) {
  ::testing::internal::CaptureStderr();
  const bool loaded = load_config("", config::defaults{}, add).has_value();
  return {loaded, ::testing::internal::GetCapturedStderr()};
}

TEST(Cli, TheBuiltInConnectorsRegisterAndTheDefaultConfigLoads) {
  const auto [loaded, printed] = load_with(connectors::register_builtin_connectors);
  EXPECT_TRUE(loaded) << printed;
}

TEST(Cli, ADuplicateRegistrationStopsStartUpWithAClearMessage) {
  const auto [loaded, printed] = load_with([](connectors::registry& r) {
    if (auto added = connectors::register_builtin_connectors(r); !added) return added;
    return r.add(std::make_unique<named_factory>("twilio"));
  });
  EXPECT_FALSE(loaded);
  EXPECT_NE(printed.find("askdesk: cannot start: registering the connectors: two connector "
                         "factories for type 'twilio'"),
            std::string::npos)
      << printed;
}

TEST(Cli, AFailedRegistrationStopsStartUp) {
  for (auto* make : {+[] { return std::unique_ptr<connectors::connector_factory>(); },
                     +[] {
                       return std::unique_ptr<connectors::connector_factory>(
                           std::make_unique<named_factory>("Not A Type"));
                     }}) {
    const auto [loaded, printed] =
        load_with([make](connectors::registry& r) { return r.add(make()); });
    EXPECT_FALSE(loaded);
    EXPECT_NE(printed.find("askdesk: cannot start: registering the connectors: "),
              std::string::npos)
        << printed;
  }
}

}  // namespace
}  // namespace askdesk::cli
