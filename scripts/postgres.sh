# Starts a throw-away PostgreSQL server on a free loopback port; source it.
# `start_postgres DIR` exports PAVED_POSTGRES_URL; `stop_postgres DIR` stops it.
# Sessions and CI run as root and initdb refuses root, so the server runs as
# the `postgres` user that Debian's package creates.

start_postgres() {
  local dir="$1"
  local pgbin
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  local port
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  local as=()
  if ((EUID == 0)); then
    as=(runuser -u postgres --)
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  ((EUID == 0)) && chown postgres:postgres "$dir"
  "${as[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  "${as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null ||
    { cat "$dir/server.log" >&2; return 1; }
  export PAVED_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  log "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
  local dir="$1"
  [[ -d "$dir/data" ]] || return 0
  local pgbin
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  local as=()
  ((EUID == 0)) && as=(runuser -u postgres --)
  "${as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
