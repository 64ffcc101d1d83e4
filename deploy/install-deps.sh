#!/usr/bin/env bash
# Installs, with apt, exactly the Debian packages askdesk needs that are missing.
#
#   deploy/install-deps.sh            build and run (what quickstart needs)
#   deploy/install-deps.sh --test     also what ./deploy/test.sh needs
#   deploy/install-deps.sh --bench    also what tests/bench/run.sh needs
#
# Idempotent: when nothing is missing it runs one dpkg-query and exits.
# Runs apt-get as root, or through sudo when not root. Never asks a question.
set -euo pipefail

# Why each package is here:
build=(
  g++ cmake ninja-build pkg-config  # C++20 compiler and build; ninja schedules 2 cores better than make
  ccache                            # rebuilds after a branch switch take seconds, not minutes
  libboost1.81-dev                  # Boost.Asio and Boost.Beast 1.81 (header-only parts only)
  libhiredis-dev                    # Redis client: its async API runs on our Asio loop
  rapidjson-dev                     # JSON with comments and trailing commas for config; fast for events
  libcurl4-openssl-dev              # HTTP(S), IMAP and SMTP client for connectors
  libssl-dev                        # TLS for the HTTP server, HMAC-SHA1 for webhook signatures
  libspdlog-dev                     # structured, levelled logging
  libsodium-dev                     # Argon2id password hashing, constant-time compares, random tokens
  libhowardhinnant-date-dev tzdata  # IANA time zones for opening hours (C++20 <chrono> zones are not in g++ 12)
  libgmime-3.0-dev                  # MIME parsing for email: charsets, encoded words, multiparts
  libre2-dev                        # topic rules' regular expressions: linear time on hostile text
  libutf8proc-dev                   # case and accent folding (NFKD, case fold) for topic matching
  libicu-dev                        # CLDR dates in the patron's language for after-hours replies ("mardi 24 novembre à 09:00")
  libgtest-dev libgmock-dev         # unit tests (also built by the default Debug build)
  libstrophe-dev                    # XMPP client for the XMPP connector, which the daemon links
  libxml2-dev                       # HTML parser that reads Mastodon statuses' content (hostile, broken markup)
)
run=(
  redis-server redis-tools          # the durable spine; redis-cli for the admin
  libjs-chart.js                    # Chart.js, served for the Reports page's charts (http.chart_js)
)
test=(
  clang-format clang-tidy           # style and lint checks in test.sh
  clang libclang-rt-14-dev          # libFuzzer (and its runtime) for the email parser fuzz test
  curl                              # HTTP requests in integration scripts
  chromium                          # headless browser for end-to-end tests (driven by playwright-core)
  dovecot-imapd                     # a real IMAP server for the email integration tests
  python3-aiosmtpd                  # a real SMTP sink for the email integration tests
  openssl                           # test certificates for the mail servers' and Prosody's TLS in those tests
  prosody                           # a real XMPP server for the XMPP integration tests (MAM, stream management built in)
  python3-slixmpp                   # patrons' XMPP clients in those tests (tests/support/xmpp_patron.py)
  python3-python-telegram-bot       # an independent Bot API client checking the fake Telegram (tests/support/telegram_client.py)
  procps psmisc                     # ps/pkill/fuser used by tests to prove nothing is left running
  nginx                             # a real reverse proxy (deploy/nginx/askdesk.conf) in front of two daemons in the HA tests
  postgresql-15 postgresql-common   # the Bluesky tests' AT Protocol network: its AppView needs PostgreSQL, run as a throw-away cluster by pg_virtualenv (tests/atproto)
  build-essential python3           # node-gyp compiles better-sqlite3 (the PDS's SQLite) in tests/atproto's npm ci
  debhelper                         # dpkg-buildpackage builds the Debian package in its test (tests/deploy/package_test.sh)
  adduser                           # the package's maintainer scripts add and remove the user askdesk
  systemd                           # systemd-analyze checks the unit offline (deploy.systemd); systemd need not be running
)
bench=(
  linux-perf                        # where the time goes, for the performance report
  valgrind                          # callgrind instruction counts when perf counters are unavailable
)

want=("${build[@]}" "${run[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) want+=("${test[@]}") ;;
    --bench) want+=("${bench[@]}") ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

missing=()
# Node.js may come from elsewhere (NodeSource ships npm inside nodejs): only the commands matter.
if [[ " ${want[*]} " == *" chromium "* ]] && ! { command -v node && command -v npm; } >/dev/null; then
  want+=(nodejs npm)                # runs the browser tests; installs playwright-core and axe-core
fi
# better-sqlite3 compiles against the running Node's headers (npm_config_nodedir=/usr): NodeSource's
# nodejs ships them in /usr/include/node, Debian's in libnode-dev.
if [[ " ${want[*]} " == *" build-essential "* ]] && [ ! -f /usr/include/node/node_api.h ]; then
  want+=(libnode-dev)
fi
for pkg in "${want[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when apt cannot find a wanted package as they are.
if ! "${sudo[@]}" apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold \
    "${missing[@]}"; then
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold \
    "${missing[@]}"
fi
