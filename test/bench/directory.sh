#!/usr/bin/env bash
# Benchmark of samegoal.sg_find_district, the district directory: builds and installs
# the extension, starts a throwaway cluster, loads 20,000 districts over 50 states
# (directory-data.sql) and times 1,000 type-ahead searches next to an exact lookup of
# a district by domain (directory-run.sql). It reports; it never fails on slow
# figures. Not part of test/run-tests.
#
#   test/bench/directory.sh            (PG_CONFIG selects the PostgreSQL to use)
#   also run by test/bench/run, against its server
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$REPO_ROOT"

run_psql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# Run by test/bench/run: its server and a fresh database with the extension
# (PGHOST and PGDATABASE set). On its own: a throwaway server of its own.
if [ "${1:-}" = --quick ]; then shift; fi
if [ -n "${PGHOST:-}" ] && [ -n "${PGDATABASE:-}" ]; then
    DB=$PGDATABASE
else
    ensure_packages
    build_and_install
    WORK=$(mktemp -d /tmp/samegoal-bench.XXXXXX)
    cleanup() { stop_cluster "$WORK"; rm -rf "$WORK"; }
    trap cleanup EXIT
    say "starting a throwaway cluster in $WORK"
    start_cluster "$WORK"
    DB=samegoal_bench
    run_psql -d postgres -c "CREATE DATABASE $DB"
    run_psql -d "$DB" -c 'SET client_min_messages = warning' \
        -c 'CREATE EXTENSION samegoal_transfer CASCADE'
fi

say "loading 20,000 districts"
run_psql -d "$DB" -f test/bench/directory-data.sql >/dev/null

say "1,000 searches and as many exact lookups"
run_psql -d "$DB" -f test/bench/directory-run.sql
