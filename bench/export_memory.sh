#!/usr/bin/env bash
# Streams an export of ROWS organisations (default 1,000,000) from a release build on
# PostgreSQL and samples the server's resident memory while it does: the figures the README's
# performance section records. Needs PostgreSQL (PGURL, default the local server as postgres),
# psql and curl. Creates and drops its own database.
#
#   bench/export_memory.sh            # 1,000,000 rows
#   ROWS=10000 bench/export_memory.sh # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."

rows="${ROWS:-1000000}"
pgurl="${PGURL:-postgres://postgres@127.0.0.1:5432}"
database="catalyst_bench_export_$$"
port="${BENCH_PORT:-18090}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  psql -q "$pgurl/postgres" -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet
binary=target/release/catalyst
psql -q "$pgurl/postgres" -c "CREATE DATABASE $database" >/dev/null
export DATABASE_URL="$pgurl/$database" CATALYST_DATA_DIR="$work" CATALYST_LOG=warn
"$binary" migrate

echo "loading $rows organisations..."
psql -q "$DATABASE_URL" <<SQL
INSERT INTO organisations (id, name, kind, scale, region, version, created_at, updated_at)
SELECT md5(n::text)::uuid::text,
       'Supplier ' || n,
       'sme',
       (ARRAY['micro', 'small', 'medium'])[1 + n % 3],
       (ARRAY['london', 'wales', 'scotland', 'north_east'])[1 + n % 4],
       1,
       now() - n * interval '1 second',
       now() - n * interval '1 second'
FROM generate_series(1, $rows) AS n;
ANALYZE organisations;
SQL

printf '%s\n' 'benchmark passphrase long enough' |
  "$binary" user create --email bench@catalyst.test --name Bench --role admin >/dev/null
"$binary" serve --bind "127.0.0.1:$port" &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status"; }
token="$(curl -fsS "$base/api/v1/auth/token" -d grant_type=password \
  -d username=bench@catalyst.test -d 'password=benchmark passphrase long enough' |
  sed -E 's/.*"access_token":"([^"]+)".*/\1/')"

idle="$(rss)"
samples="$work/rss"
( while kill -0 "$server_pid" 2>/dev/null; do rss >> "$samples"; sleep 0.2; done ) &
sampler=$!
for format in csv ndjson; do
  start="$(date +%s.%N)"
  curl -fsS -o "$work/export" -H "authorization: Bearer $token" \
    "$base/api/v1/exports/organisations?format=$format"
  end="$(date +%s.%N)"
  seconds="$(echo "$end - $start" | bc)"
  bytes="$(stat -c %s "$work/export")"
  lines="$(wc -l < "$work/export")"
  [ "$format" = csv ] && lines=$((lines - 1))
  rm -f "$work/export"
  printf '%-7s %9s rows  %8.1f MB  %6.1f s  %9.0f rows/s\n' "$format" "$lines" \
    "$(echo "$bytes / 1000000" | bc -l)" "$seconds" "$(echo "$lines / $seconds" | bc -l)"
done
kill "$sampler" 2>/dev/null || true
peak="$(sort -n "$samples" | tail -1)"
printf 'server memory (RSS): idle %.1f MB, peak during the exports %.1f MB\n' \
  "$(echo "$idle / 1024" | bc -l)" "$(echo "$peak / 1024" | bc -l)"
