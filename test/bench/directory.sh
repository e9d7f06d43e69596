#!/usr/bin/env bash
# Benchmark of samegoal.sg_find_district, the district directory: builds and installs
# the extension, starts a throwaway cluster, loads 20,000 districts over 50 states
# (directory-data.sql) and times 1,000 type-ahead searches next to an exact lookup of
# a district by domain (directory-run.sql). Then one large state, in a database of
# its own: 1,000 searches of five kinds as the state grows to 1,000, 5,000 and 20,000
# districts (directory-state-data.sql, directory-state-run.sql), p50 and p95 by size
# and kind. It reports; it never fails on slow figures. Not part of test/run-tests.
#
#   test/bench/directory.sh            (PG_CONFIG selects the PostgreSQL to use)
#   also run by test/bench/run, against its server
set -euo pipefail
self=$(realpath "$0")
source "$(dirname "$self")/../lib.sh"
cd "$REPO_ROOT"
# Alone: what is missing, the build, then this script again inside a cluster of
# its own (test/with-cluster), with the settings of test/bench/run's.
if [ -z "${SG_BENCH_CLUSTER:-}" ]; then
    ensure_packages build
    build_and_install -Werror
    SG_BENCH_CLUSTER=directory exec "$REPO_ROOT/test/with-cluster" --trust "${SG_BENCH_SETTINGS[@]}" bash "$self" "$@"
fi
export PGHOST=$SG_CLUSTER_SOCKET

run_psql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# Run by test/bench/run: its server and a fresh database with the extension
# (PGDATABASE). Alone: a database of its own in its own cluster.
if [ "${1:-}" = --quick ]; then shift; fi
if [ "$SG_BENCH_CLUSTER" = directory ]; then
    DB=samegoal_bench
    run_psql -d postgres -c "CREATE DATABASE $DB"
    run_psql -d "$DB" -c 'SET client_min_messages = warning' \
        -c 'CREATE EXTENSION samegoal_transfer CASCADE'
else
    DB=$PGDATABASE
fi

say "loading 20,000 districts"
run_psql -d "$DB" -f test/bench/directory-data.sql >/dev/null

say "1,000 searches and as many exact lookups"
run_psql -d "$DB" -f test/bench/directory-run.sql

say "one large state: 1,000 searches at 1,000, 5,000 and 20,000 districts in it"
STATE_DB=${DB}_state
run_psql -d postgres -c "DROP DATABASE IF EXISTS $STATE_DB" -c "CREATE DATABASE $STATE_DB"
run_psql -d "$STATE_DB" -c 'SET client_min_messages = warning' \
    -c 'CREATE EXTENSION samegoal_transfer CASCADE'
STATE_ROWS=$(mktemp)
for size in 1000 5000 20000; do
    run_psql -d "$STATE_DB" -v districts=$size -f test/bench/directory-state-data.sql >/dev/null
    run_psql -d "$STATE_DB" -At -F ' ' -f test/bench/directory-state-run.sql | grep '^state-size' >>"$STATE_ROWS"
done
run_psql -d postgres -c "DROP DATABASE $STATE_DB"
# state-size districts kind searches found% p50 p95 max (kind empty: all kinds)
echo
echo "| districts in the state | all: p50 | all: p95 | p95 by kind: prefix | dropped letter | exact domain | common word | domain's first 6 | target |"
echo "|---|---|---|---|---|---|---|---|---|"
awk 'NF == 7 { all_p50[$2] = $5; all_p95[$2] = $6; sizes[++n] = $2 }
     NF == 8 { p95[$2, $3] = $7 }
     END {
         for (i = 1; i <= n; i++) {
             s = sizes[i]
             printf "| %d | %.2f ms | %.2f ms | %.2f | %.2f | %.2f | %.2f | %.2f | p95 < 2 ms: %s |\n", s, all_p50[s], all_p95[s],
                    p95[s, "prefix"], p95[s, "dropped"], p95[s, "domain"], p95[s, "word"], p95[s, "domain6"],
                    (all_p95[s] < 2) ? "met" : "**missed**"
         }
     }' "$STATE_ROWS"
rm -f "$STATE_ROWS"
