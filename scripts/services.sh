#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer at the configured addresses; starts local ones where it can.
# Used by `npm test` (pretest), `npm start` (prestart) and .ci/run. With Docker, `docker compose up` does this instead.
set -u
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}

pg_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" >/dev/null 2>&1; }
redis_up() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    echo "services: starting PostgreSQL ($(ls /etc/postgresql | head -1)/main)" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "services: starting Redis on $REDIS_HOST:$REDIS_PORT" >&2
    mkdir -p /tmp/exchange-core-redis
    redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
      --maxmemory-policy noeviction --dir /tmp/exchange-core-redis --logfile /tmp/exchange-core-redis/redis.log || true
  fi
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi

ok=0
pg_up || { echo "services: PostgreSQL is not reachable at $PGHOST:$PGPORT. Start it (pg_ctlcluster <version> main start) or run 'docker compose up -d postgres redis'." >&2; ok=1; }
redis_up || { echo "services: Redis is not reachable at $REDIS_HOST:$REDIS_PORT. Start it (redis-server) or run 'docker compose up -d postgres redis'." >&2; ok=1; }
exit $ok
