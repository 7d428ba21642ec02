# Finds (and if need be starts) a PostgreSQL server on 127.0.0.1:5432 that tests can log in to
# and create databases on, and prints its URL. Fails loudly: a PostgreSQL run that silently
# skipped would be a green lie.

pg_host=127.0.0.1
pg_port=5432

pg_answers() { # url
  psql "$1" -tAc 'SELECT 1' >/dev/null 2>&1
}

start_postgres() {
  if pg_isready -h "$pg_host" -p "$pg_port" -q 2>/dev/null; then
    return 0
  fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "PostgreSQL is not installed: installing it from Debian's packages" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >&2
    else
      echo "PostgreSQL is not installed and cannot be installed here" >&2
      return 1
    fi
  fi
  local version
  for version in $(ls /etc/postgresql 2>/dev/null); do
    echo "starting PostgreSQL $version" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  done
  local attempt
  for attempt in $(seq 1 30); do
    pg_isready -h "$pg_host" -p "$pg_port" -q 2>/dev/null && return 0
    sleep 1
  done
  echo "PostgreSQL did not start on $pg_host:$pg_port" >&2
  return 1
}

find_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    pg_answers "$TEST_DATABASE_URL" && { echo "$TEST_DATABASE_URL"; return 0; }
    echo "TEST_DATABASE_URL is set but does not answer" >&2
    return 1
  fi
  if ! command -v psql >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >&2
  fi
  start_postgres || return 1
  local url
  # Trust authentication (the usual on a CI image), then the conventional passwords.
  for url in "postgres://postgres@$pg_host:$pg_port/postgres" \
             "postgres://postgres:postgres@$pg_host:$pg_port/postgres" \
             "postgres://postgres:catalyst-ci@$pg_host:$pg_port/postgres"; do
    if pg_answers "$url"; then echo "$url"; return 0; fi
  done
  # Loopback wants a password nobody knows: set one through the local postgres account.
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    echo "setting a password for the postgres role through the local socket" >&2
    su postgres -c "psql -qc \"ALTER ROLE postgres PASSWORD 'catalyst-ci'\"" >&2
    url="postgres://postgres:catalyst-ci@$pg_host:$pg_port/postgres"
    if pg_answers "$url"; then echo "$url"; return 0; fi
  fi
  echo "cannot log in to PostgreSQL on $pg_host:$pg_port" >&2
  return 1
}

# Runs a shell command as the postgres account (PostgreSQL refuses to run as root).
as_postgres() {
  if [ "$(id -un)" = postgres ]; then sh -c "$1"; else su postgres -s /bin/sh -c "$1"; fi
}

# The folder of PostgreSQL's server binaries (pg_ctl, initdb, pg_basebackup), newest first.
postgres_bin() {
  local folder
  for folder in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$folder/pg_ctl" ] && { echo "$folder"; return 0; }
  done
  echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2
  return 1
}
