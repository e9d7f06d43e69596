#!/usr/bin/env bash
# extended: random SQL from sqlsmith for a bounded time (SG_SQLSMITH_SECONDS,
# 180 by default), half as a superuser on the extension's tables, half as a
# member of samegoal_app on everything it may see, against a database with
# the extension and example data (transfers, deletions, a purge). Passes when
# no backend crashed (the server log has no "terminated by signal" nor any
# other abnormal exit) and no error raised in the module's C files was an
# internal error (XX000). Uses a throwaway cluster of its own
# (test/with-cluster, nested in the one the suites run on). Needs the Debian
# package sqlsmith (test/run-tests --extended installs it).
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/../.."
if [ -z "${SG_SQLSMITH_CLUSTER:-}" ]; then
    SG_SQLSMITH_CLUSTER=yes exec test/with-cluster bash "$self" "$@"
fi

say() { printf '\n==> %s\n' "$*"; }
WORK=${WORK:-$(mktemp -d)}
DB=sg_sqlsmith
# the server log of this cluster
LOG=$(pg_lsclusters -h | awk -v v="$PGVERSION" '$1 == v && $2 == "regress" { print $7 }')
SECONDS_TOTAL=${SG_SQLSMITH_SECONDS:-180}

fail() { echo "sqlsmith: FAILED: $*" >&2; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
command -v sqlsmith >/dev/null || fail "sqlsmith is not installed (test/install-packages extended)"

say "sqlsmith: a cluster of its own (port $PGPORT)"
# Every error with its SQLSTATE and the source file and line that raised it.
q -d postgres -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %e '" \
    -c "ALTER SYSTEM SET log_error_verbosity = verbose" -c 'SELECT pg_reload_conf()' >/dev/null
# The member logs in with the password test/with-cluster gave the superuser.
q -d postgres -v pw="$PGPASSWORD" >/dev/null <<SQL
CREATE DATABASE $DB;
CREATE ROLE regress_sg_smith LOGIN PASSWORD :'pw';
SQL
q -d $DB >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
GRANT samegoal_app TO regress_sg_smith;
\i test/fixtures/districts.sql
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cadmin', allow_mismatch => true);
SELECT samegoal.sg_set_transfer_coordinator('Dana Reyes', 'transfers@maple.k12.example', '503-555-0101');
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_delete_documents(ARRAY[10, 8]);
SELECT samegoal.sg_purge_documents(ARRAY[10]);
SELECT samegoal.sg_set_transfers_enabled(false);
COMMIT;
SQL

# smith SECONDS LABEL CONNSTR [OPTIONS]: sqlsmith runs of 1,000 queries each,
# with a new seed each, until SECONDS have passed. Adds to $queries.
queries=0
smith() {
    local seconds=$1 label=$2 conn=$3
    shift 3
    local end=$((SECONDS + seconds)) seed=1 n
    while [ $SECONDS -lt $end ]; do
        timeout --kill-after=10 $((end - SECONDS + 5)) \
            sqlsmith --target="$conn" --seed=$seed --max-queries=1000 --verbose "$@" \
            >"$WORK/sqlsmith.$label.$seed.out" 2>"$WORK/sqlsmith.$label.$seed.log" || true
        # its closing report, or (a run stopped by the timeout) its progress
        # marks, one a query
        n=$(grep -o '^queries: [0-9]*' "$WORK/sqlsmith.$label.$seed.log" | tail -1 | cut -d' ' -f2 || true)
        [ -n "$n" ] || n=$(grep -E '^[.eStC]+$' "$WORK/sqlsmith.$label.$seed.log" | tr -d '\n' | wc -c || true)
        queries=$((queries + n))
        seed=$((seed + 1))
    done
    echo "$label: $((seed - 1)) runs, $queries queries so far"
}

CONN="host=$PGHOST port=$PGPORT dbname=$DB options='-c statement_timeout=2s'"
say "sqlsmith: $((SECONDS_TOTAL / 2)) s as a superuser on the extension's tables"
smith $((SECONDS_TOTAL / 2)) superuser "$CONN user=postgres" --exclude-catalog
say "sqlsmith: $((SECONDS_TOTAL - SECONDS_TOTAL / 2)) s as a member of samegoal_app"
smith $((SECONDS_TOTAL - SECONDS_TOTAL / 2)) app "$CONN user=regress_sg_smith"

# sqlsmith seldom calls the extension's functions with an acting identity
# (that needs a transaction block), so random calls of them follow.
CALLS=${SG_RANDOM_CALLS:-20000}
say "sqlsmith: $CALLS random calls of the extension's functions, acting as random users"
q -d $DB -v calls="$CALLS" -c 'BEGIN' -c 'SELECT setseed(0.42)' -f test/fixtures/random_calls.sql -c 'ROLLBACK' \
    | grep -E '^[0-9A-Z]{5} [0-9]+$' >"$WORK/sqlsmith.calls.out"
echo "outcomes (SQLSTATE calls): $(paste -sd, "$WORK/sqlsmith.calls.out" | sed 's/,/, /g')"
! grep -q '^XX000' "$WORK/sqlsmith.calls.out" || fail "internal errors (XX000) among the random calls"
queries=$((queries + CALLS))

say "sqlsmith: the server log"
q -d postgres -c 'SELECT 1' >/dev/null || fail "the server is not answering"
crashes=$(grep -cE 'terminated by signal|exited with exit code|terminating any other active server processes|all server processes terminated' \
    "$LOG" || true)
# every C file of the module
MODULE_FILES=$(cd src && ls *.c | sed 's/\.c$//' | paste -sd'|')
internal=$(grep -E " XX000 LOCATION: .*, ($MODULE_FILES)\.c:[0-9]+" "$LOG" || true)
module_errors=$(grep -cE " LOCATION: .*, ($MODULE_FILES)\.c:[0-9]+" "$LOG" || true)
plpgsql_errors=$(grep -cE ' CONTEXT: +PL/pgSQL function samegoal\.' "$LOG" || true)
echo "queries and calls: $queries; errors raised in the module's C code: $module_errors; in its PL/pgSQL functions: $plpgsql_errors"
echo "backend crashes: $crashes"
[ "$queries" -gt 0 ] || fail "sqlsmith ran no query"
[ "$crashes" -eq 0 ] || { grep -E -B2 -A5 'terminated by signal|exited with exit code' "$LOG" | head -60; fail "a backend crashed"; }
[ -z "$internal" ] || { echo "$internal" | head -20; fail "internal errors (XX000) raised in the module"; }
echo "sqlsmith: OK"
