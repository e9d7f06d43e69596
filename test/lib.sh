# Sourced, not run: what the entry scripts (test/run-tests, examples/demo,
# test/bench/*), test/install-packages and test/with-cluster share.
#
#   PG_MAJOR, PG_CONFIG (exported), PG_BINDIR   the PostgreSQL to build and run
#                                               against (test/pg-major)
#   say TEXT                                    a heading
#   as_root COMMAND...                          COMMAND as root: itself when
#                                               root, else through sudo
#   ensure_packages GROUP|PACKAGE...            test/install-packages
#   build_and_install [COPT [SHLIB_LINK]]       make clean, make, make install
#                                               (as root) of the extension
#   server_settings                             what a Debian server needs to
#                                               run the extension of PG_CONFIG
#   SG_BENCH_SETTINGS                           test/with-cluster's options for
#                                               the benchmarks' cluster

SG_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SG_TEST_DIR/.." && pwd)

PG_MAJOR=${PG_MAJOR:-$("$SG_TEST_DIR/pg-major")}
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir 2>/dev/null || echo "/usr/lib/postgresql/$PG_MAJOR/bin")

say() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "need root (or sudo) to run: $*" >&2; return 1
    fi
}

# The Debian packages of those groups of test/packages (or those packages),
# installed when missing.
ensure_packages() { "$SG_TEST_DIR/install-packages" "$@"; }

# server_settings: the settings (GUC=VALUE lines) a Debian server needs to run
# the extension as installed for PG_CONFIG. None for Debian's own installation;
# for a copy of Debian's layout under a prefix P
# (P/usr/lib/postgresql/NN/bin/pg_config), extension_destdir = P (Debian's own
# setting: control files, scripts and $libdir/ modules from the copy first) and
# the copy's library directory first in dynamic_library_path (LOAD of a bare
# module name), so that what make install put there is what runs
# (postgresql-common's clusters run /usr/lib/postgresql/NN). Fails, saying so,
# for an installation of another layout.
server_settings() {
    local sharedir prefix
    sharedir=$("$PG_CONFIG" --sharedir) || return 1
    prefix=${sharedir%/usr/share/postgresql/$PG_MAJOR}
    if [ "$sharedir" = "/usr/share/postgresql/$PG_MAJOR" ]; then
        return 0
    elif [ "$prefix" != "$sharedir" ]; then
        echo "extension_destdir=$prefix"
        echo "dynamic_library_path=$("$PG_CONFIG" --pkglibdir):\$libdir"
    else
        echo "$PG_CONFIG is not of Debian's layout (its share directory is $sharedir);" \
             "the clusters are Debian's (postgresql-common): set PG_CONFIG to one that is" >&2
        return 1
    fi
}

build_and_install() {
    say "building${1:+ ($1)} and installing samegoal_transfer"
    make -C "$REPO_ROOT" -s clean >/dev/null
    make -C "$REPO_ROOT" -s PG_CONFIG="$PG_CONFIG" ${1:+"COPT=$1"} ${2:+"SHLIB_LINK=$2"}
    as_root make -C "$REPO_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# The benchmarks' cluster (test/bench): room for the data in memory, and no
# checkpoint of the server's own in the middle of a measure (test/bench/run
# takes one between pgbench runs).
SG_BENCH_SETTINGS=(--set shared_buffers=1GB --set max_wal_size=8GB --set checkpoint_timeout=1h --set fsync=off)
