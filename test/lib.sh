# Shared by test/bench (make bench) and test/demo: install what is missing, build
# and install the extension, and run a throwaway PostgreSQL cluster that can be
# left up afterwards (bench --keep, the demo). Sourced, not run. The tests do
# not use it: test/run-tests runs them with pg_virtualenv (test/with-cluster).

PG_MAJOR=$("$(dirname "${BASH_SOURCE[0]}")/pg-major")
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "need root (or sudo) to run: $*" >&2; return 1
    fi
}

# Debian packages the build and the test suites need.
ensure_packages() {
    local wanted=(make gcc "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR"
                  "postgresql-$PG_MAJOR-pgtap" libtap-parser-sourcehandler-pgtap-perl
                  "$@")
    local missing=() pkg
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    as_root apt-get update -qq
    # The server package starts a "main" cluster of its own; ours never uses it.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir 2>/dev/null || echo "/usr/lib/postgresql/$PG_MAJOR/bin")

build_and_install() {
    say "building and installing samegoal_transfer"
    make -C "$REPO_ROOT" -s clean >/dev/null
    make -C "$REPO_ROOT" -s PG_CONFIG="$PG_CONFIG" COPT="-Werror"
    as_root make -C "$REPO_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# initdb and postgres refuse to run as root: run them as the postgres OS user
# then, from a directory it can read (the callers give absolute paths).
as_pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# start_cluster DIR [PORT]: a new cluster in DIR, listening on DIR's Unix socket
# and, when PORT is given, on 127.0.0.1:PORT. Exports PGHOST, PGPORT, PGUSER.
start_cluster() {
    local dir=$1 port=${2:-}
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    as_pg_owner "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log"; return 1; }
    local listen="''"
    [ -n "$port" ] && listen=127.0.0.1
    export PGHOST=$dir PGPORT=${port:-5432} PGUSER=postgres
    as_pg_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=$listen -p $PGPORT -k $dir -c fsync=off" start >/dev/null \
        || { cat "$dir/server.log"; return 1; }
    # Let the OS user running the scripts reach the socket.
    chmod 755 "$dir"
}

stop_cluster() {
    local dir=$1
    # A pid file left by a server that is gone (the machine restarted) is no
    # reason to stop.
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

# A free TCP port on 127.0.0.1, from 5433 up.
free_port() {
    local port
    for port in $(seq 5433 5532); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
    done
    return 1
}
