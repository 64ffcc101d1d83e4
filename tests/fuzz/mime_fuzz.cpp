// libFuzzer target for the email parsing path: any bytes as a message (GMime, the body
// walk, HTML to text, the reply folding). Built and run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/email/mail_text.hpp"
#include "connectors/email/mime.hpp"
#include "daemon/core/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  using namespace askdesk;
  const auto mail = connectors::email::parse_mail(raw, {.max_text_bytes = 4096});
  if (!core::is_valid_utf8(mail.text) || !core::is_valid_utf8(mail.subject) ||
      mail.text.size() > 4096) {
    __builtin_trap();  // the parser promised valid, bounded UTF-8
  }
  (void)connectors::email::fold_line(mail.text);
  (void)connectors::email::html_to_text(raw);
  (void)connectors::email::parse_headers(raw);
  return 0;
}
