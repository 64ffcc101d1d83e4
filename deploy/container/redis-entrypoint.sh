#!/bin/sh
# Starts one Redis node or sentinel of compose.yaml (its `command`):
#
#   redis-entrypoint.sh /etc/askdesk-redis/redis-primary.conf|redis-replica.conf|sentinel.conf
#
# At the first start the mounted file is copied into the volume (/var/lib/redis) with the
# passwords and the name this node announces ($ANNOUNCE, its compose name) added: Redis and
# Sentinel rewrite their file on a failover, so it must be writable and survive a restart.
# A later start uses that copy as it is; to change a password, change it in every node with
# CONFIG SET (and SENTINEL SET for the sentinels), or remove the volumes and start afresh.
set -eu
template=$1
conf=/var/lib/redis/$(basename "$template")
if [ ! -f "$conf" ]; then
  umask 077
  cp "$template" "$conf.new"
  case "$conf" in
    */sentinel.conf)
      printf 'requirepass "%s"\nsentinel sentinel-pass "%s"\nsentinel auth-pass askdesk "%s"\nsentinel announce-ip "%s"\n' \
        "$SENTINEL_PASSWORD" "$SENTINEL_PASSWORD" "$REDIS_PASSWORD" "$ANNOUNCE" >>"$conf.new"
      ;;
    *)
      printf 'requirepass "%s"\nmasterauth "%s"\nreplica-announce-ip "%s"\n' \
        "$REDIS_PASSWORD" "$REDIS_PASSWORD" "$ANNOUNCE" >>"$conf.new"
      ;;
  esac
  mv "$conf.new" "$conf"
fi
case "$conf" in
  */sentinel.conf) exec redis-server "$conf" --sentinel ;;
  *) exec redis-server "$conf" ;;
esac
