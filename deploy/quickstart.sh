#!/usr/bin/env bash
# A working askdesk on this machine in one command: installs what is missing (apt), builds
# the Release binary, starts a private redis-server (unix socket and AOF data under var/),
# adds the demo login, runs `askdesk serve --config deploy/demo.json` and prints where to go.
# Ctrl-C stops askdesk and the private redis-server. Safe to run again.
#
#   ./deploy/quickstart.sh                     dashboard on http://127.0.0.1:8080/
#   ASKDESK_LISTEN=127.0.0.1:9090 ./deploy/quickstart.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
listen=${ASKDESK_LISTEN:-127.0.0.1:8080}
demo_user=demo
demo_password=demo-password

"$root/deploy/install-deps.sh"

echo "quickstart: building askdesk (Release, build/release)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DASKDESK_TESTS=OFF >/dev/null
cmake --build build/release --target askdesk
askdesk=$root/build/release/askdesk

# The private Redis: no TCP port at all, only a socket that root (or you) can open.
redis_dir=$root/var/redis
socket=$redis_dir/redis.sock
mkdir -p "$redis_dir"
export ASKDESK_REDIS_URL=unix://$socket
started_redis=
if redis-cli -s "$socket" ping >/dev/null 2>&1; then
  echo "quickstart: using the private redis-server already running on $socket"
else
  redis-server --port 0 --unixsocket "$socket" --unixsocketperm 700 --dir "$redis_dir" \
    --appendonly yes --appendfsync always --save '' --logfile "$redis_dir/redis.log" \
    --daemonize yes --pidfile "$redis_dir/redis.pid"
  started_redis=1
  for _ in $(seq 50); do
    redis-cli -s "$socket" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -s "$socket" ping >/dev/null || { echo "quickstart: redis-server did not start; see $redis_dir/redis.log" >&2; exit 1; }
fi

server=
stop() {
  trap - INT TERM EXIT
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  if [ -n "$started_redis" ]; then
    redis-cli -s "$socket" shutdown >/dev/null 2>&1 || true
    echo "quickstart: stopped askdesk and the private redis-server (data kept in var/redis)"
  fi
}
trap stop INT TERM EXIT

# The demo login: an admin of every demo team.
if "$askdesk" user list --config deploy/demo.json 2>/dev/null | grep -q "^$demo_user[[:space:]]"; then
  printf '%s\n' "$demo_password" | "$askdesk" user passwd "$demo_user" --config deploy/demo.json --password-stdin >/dev/null
else
  printf '%s\n' "$demo_password" | "$askdesk" user add "$demo_user" --role admin --team reference \
    --team circulation --name "Demo Librarian" --config deploy/demo.json --password-stdin >/dev/null
fi

"$askdesk" serve --config deploy/demo.json --listen "$listen" &
server=$!
for _ in $(seq 100); do
  curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "quickstart: askdesk stopped; see the messages above" >&2; exit 1; }
  sleep 0.1
done

cat <<INFO

  askdesk is running.

  Staff dashboard   http://$listen/
  Demo login        user "$demo_user", password "$demo_password"
  Patron side       http://$listen/demo/   (a library page with the chat widget: chat with yourself)

  Press Ctrl-C to stop askdesk and its private redis-server.

INFO
wait "$server"
