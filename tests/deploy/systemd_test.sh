#!/usr/bin/env bash
# Checks deploy/systemd/askdesk.service offline, as systemd would read it (ctest: deploy.systemd).
#
#   tests/deploy/systemd_test.sh ASKDESK_BINARY
#
# `systemd-analyze verify` resolves ExecStart, so it checks a copy whose ExecStart names the
# binary just built. verify only warns about an unknown key or a bad value and still exits 0,
# so any message about the unit fails the test too. `systemd-analyze security --offline`
# then holds the unit to its exposure score (deploy/README.md): loosening the sandbox fails
# here until that number is changed on purpose.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:?usage: systemd_test.sh ASKDESK_BINARY}
unit=$root/deploy/systemd/askdesk.service
exposure=1.1  # the highest overall exposure allowed, 0.0 (locked) to 10.0 (none)

if ! command -v systemd-analyze >/dev/null; then
  echo "systemd_test.sh: systemd-analyze is missing (apt install systemd)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -q '^ExecStart=/usr/bin/askdesk ' "$unit" ||
  { echo "systemd_test.sh: $unit: ExecStart should run /usr/bin/askdesk" >&2; exit 1; }
sed "s|^ExecStart=/usr/bin/askdesk |ExecStart=$binary |" "$unit" >"$work/askdesk.service"

status=0
messages=$(systemd-analyze verify --man=no "$work/askdesk.service" 2>&1) || status=$?
# Other units the machine has (redis-server.service, say) may have their own complaints.
if [ "$status" -ne 0 ] || grep -q 'askdesk\.service' <<<"$messages"; then
  printf '%s\n' "$messages"
  echo "systemd_test.sh: systemd-analyze verify found problems in $unit" >&2
  exit 1
fi

threshold=$(awk -v e="$exposure" 'BEGIN { printf "%d", e * 10 + 0.5 }')
if ! report=$(systemd-analyze security --offline=true --threshold="$threshold" \
    "$work/askdesk.service" 2>&1); then
  printf '%s\n' "$report"
  echo "systemd_test.sh: $unit is more exposed than $exposure" >&2
  exit 1
fi
tail -n 1 <<<"$report"
