#!/usr/bin/env bash
# Benchmark of a node's size (docs/scaling-out.md): the same 1,000-document transfer
# (about 2 kB of jsonb and one 20 kB file each, inside Oregon) on a node holding one
# state, Oregon, and on a node holding every state (50, Oregon's rows the same in
# both: nodes-data.sql), each next to its plain-SQL baseline (INSERT ... SELECT of
# the same rows). Nothing of a transfer crosses states, so the medians should stay
# within 10 %. Two databases on one server stand for the two nodes; after a
# session of each that is not counted, the four measures take turns, each a pgbench
# session whose first transaction is left out as warm-up, every transfer rolled
# back; medians. It reports; it never fails on a figure.
#
#   test/bench/nodes.sh            a throwaway server of its own (installs what is
#                                  missing, builds and installs the extension first;
#                                  test/with-cluster)
#   test/bench/nodes.sh --quick    fewer repetitions
#   also run by test/bench/run, against its server: PGDATABASE the
#   prefix of its two databases (PGDATABASE_one, PGDATABASE_all, dropped at the
#   end); NODES_ROW_FILE, when set, gets a row for the run's results table
set -euo pipefail
self=$(realpath "$0")
source "$(dirname "$self")/../lib.sh"
cd "$REPO_ROOT"
# Alone: what is missing, the build, then this script again inside a cluster of
# its own, with the settings of test/bench/run's.
if [ -z "${SG_BENCH_CLUSTER:-}" ]; then
    ensure_packages build
    build_and_install -Werror
    SG_BENCH_CLUSTER=nodes exec "$REPO_ROOT/test/with-cluster" --trust "${SG_BENCH_SETTINGS[@]}" bash "$self" "$@"
fi
export PGHOST=$SG_CLUSTER_SOCKET

QUICK=false
[ "${1:-}" = --quick ] && QUICK=true
STATES=50 DISTRICTS=10 STUDENTS=20 DOCS=5 TRANSFER_DOCS=1000
if $QUICK; then ROUNDS=3 TX=4; else ROUNDS=6 TX=6; fi

run_psql() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
WORK=$(mktemp -d /tmp/samegoal-bench-nodes.XXXXXX)
chmod 755 "$WORK"
mkdir "$WORK/samples"
if [ "$SG_BENCH_CLUSTER" = nodes ]; then
    PREFIX=samegoal_bench_nodes
    cleanup() { rm -rf "$WORK"; }
else
    PREFIX=$PGDATABASE
    cleanup() {
        run_psql -d postgres -c "DROP DATABASE IF EXISTS ${PREFIX}_one" -c "DROP DATABASE IF EXISTS ${PREFIX}_all" || true
        rm -rf "$WORK"
    }
fi
trap cleanup EXIT
ONE=${PREFIX}_one ALL=${PREFIX}_all

say "loading a node holding Oregon and one holding $STATES states (test/bench/nodes-data.sql)"
for db in "$ONE" "$ALL"; do
    states=$STATES; [ "$db" = "$ONE" ] && states=1
    run_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    run_psql -d "$db" -o /dev/null -f test/bench/nodes-data.sql -v states=$states \
        -v districts=$DISTRICTS -v students=$STUDENTS -v docs=$DOCS -v transfer_docs=$TRANSFER_DOCS
    run_psql -d "$db" -c 'VACUUM (FREEZE, ANALYZE)'
done
describe() {
    run_psql -d "$1" -At -c "SELECT count(DISTINCT state) || ' ' || (SELECT count(*) FROM samegoal.documents) || ' '
                                    || pg_size_pretty(pg_database_size(current_database())) FROM samegoal.districts"
}
read -r ONE_STATES ONE_DOCS ONE_SIZE <<<"$(describe "$ONE")"
read -r ALL_STATES ALL_DOCS ALL_SIZE <<<"$(describe "$ALL")"
echo "one state: $ONE_STATES state, $ONE_DOCS documents, $ONE_SIZE; every state: $ALL_STATES states, $ALL_DOCS documents, $ALL_SIZE"

# The parties, for the plain-SQL script. Oregon is loaded first: the same ids in both.
value() { run_psql -d "$1" -At -c "$2"; }
parties() {
    local db=$1
    echo -D sender=send.bench.example -D receiver=receive.bench.example -D set=nodes -D sis=R-NODES \
        -D sd="$(value "$db" "SELECT id FROM samegoal.districts WHERE domain = 'send.bench.example'")" \
        -D rd="$(value "$db" "SELECT id FROM samegoal.districts WHERE domain = 'receive.bench.example'")" \
        -D ss="$(value "$db" "SELECT id FROM samegoal.students WHERE sis_student_id = 'NODES'")" \
        -D rs="$(value "$db" "SELECT id FROM samegoal.students WHERE sis_student_id = 'R-NODES'")" \
        -D ad="$(value "$db" "SELECT u.id FROM samegoal.users u JOIN samegoal.districts d ON d.id = u.district_id
                               WHERE d.domain = 'send.bench.example' AND u.username = 'admin'")" \
        -D ro="$(value "$db" "SELECT u.id FROM samegoal.users u JOIN samegoal.districts d ON d.id = u.district_id
                               WHERE d.domain = 'receive.bench.example' AND u.username = 'teacher'")"
}
read -r -a ONE_PARTIES <<<"$(parties "$ONE")"
read -r -a ALL_PARTIES <<<"$(parties "$ALL")"
[ "${ONE_PARTIES[*]}" = "${ALL_PARTIES[*]}" ] || echo "note: the parties' ids differ between the two nodes"

# The function copies what the baseline copies, on both nodes.
for db in "$ONE" "$ALL"; do
    run_psql -d "$db" -At -o /dev/null <<SQL
BEGIN;
SELECT samegoal.sg_act_as('send.bench.example', 'admin');
CREATE TEMP TABLE r ON COMMIT DROP AS
SELECT * FROM samegoal.sg_transfer_documents((SELECT ids FROM bench.id_sets WHERE name = 'nodes'),
                                             'receive.bench.example', 'R-NODES', 'teacher');
SELECT bench.assert((SELECT count(*) FILTER (WHERE copied) FROM r) = $TRANSFER_DOCS
    AND (SELECT sum(octet_length(f.data)) FROM r JOIN samegoal.document_files f ON f.document_id = r.received_document_id)
      = (SELECT sum(octet_length(f.data)) FROM r JOIN samegoal.document_files f ON f.document_id = r.source_document_id),
    'transfer on $db');
ROLLBACK;
SQL
done

# timed NAME DB SCRIPT USER [pgbench options]: one pgbench session of TX + 1
# transactions; the latency of each but the first (warm-up: each log's first line,
# pgbench numbers them from 1) is added to samples/NAME.
timed() {
    local name=$1 db=$2 script=$3 user=$4 dir
    shift 4
    run_psql -d "$db" -c 'VACUUM samegoal.documents, samegoal.document_files, samegoal.transfers,
                                 samegoal.transfer_documents' -c CHECKPOINT
    dir=$(mktemp -d "$WORK/pgbench.XXXXXX")
    if ! (cd "$dir" && "$PG_BINDIR/pgbench" -n -M prepared -U "$user" -c 1 -t $((TX + 1)) -l "$@" \
            -f "$REPO_ROOT/test/bench/pgbench/$script" "$db") >"$dir/out" 2>&1; then
        cat "$dir/out" >&2
        echo "pgbench failed: $script on $db" >&2
        return 1
    fi
    awk 'FNR > 1 { printf "%.3f\n", $3 / 1000 }' "$dir"/pgbench_log.* >>"$WORK/samples/$name"
}
median() { sort -n "$WORK/samples/$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -n "$WORK/samples/$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f–%.0f", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
thousands() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }
fmt_ms() { awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f ms", v; else printf "%.1f ms", v }'; }

say "a $(thousands $TRANSFER_DOCS)-document transfer on each node, $ROUNDS rounds of $TX (function and plain SQL taking turns)"
# A first session of each, not counted: the freshly loaded databases' first reads.
for tag in one all; do
    if [ "$tag" = one ]; then db=$ONE p=("${ONE_PARTIES[@]}"); else db=$ALL p=("${ALL_PARTIES[@]}"); fi
    timed "warm-up.$tag.fn" "$db" transfer.sql bench_app "${p[@]}"
    timed "warm-up.$tag.sql" "$db" transfer_plain.sql postgres "${p[@]}"
done
echo "warm-up (not counted): one state $(paste -sd' ' "$WORK/samples/warm-up.one.fn") ms," \
     "every state $(paste -sd' ' "$WORK/samples/warm-up.all.fn") ms"
for round in $(seq "$ROUNDS"); do
    # The node measured first changes from round to round.
    order=("$ONE one" "$ALL all"); [ $((round % 2)) -eq 0 ] && order=("$ALL all" "$ONE one")
    for entry in "${order[@]}"; do
        read -r db tag <<<"$entry"
        if [ "$tag" = one ]; then p=("${ONE_PARTIES[@]}"); else p=("${ALL_PARTIES[@]}"); fi
        timed "$tag.fn" "$db" transfer.sql bench_app "${p[@]}"
        timed "$tag.sql" "$db" transfer_plain.sql postgres "${p[@]}"
    done
    echo "round $round: one state $(tail -n $TX "$WORK/samples/one.fn" | paste -sd' ') ms" \
         "(plain $(tail -n $TX "$WORK/samples/one.sql" | paste -sd' '));" \
         "every state $(tail -n $TX "$WORK/samples/all.fn" | paste -sd' ') ms" \
         "(plain $(tail -n $TX "$WORK/samples/all.sql" | paste -sd' '))"
done

ONE_FN=$(median one.fn) ONE_SQL=$(median one.sql) ALL_FN=$(median all.fn) ALL_SQL=$(median all.sql)
R_FN=$(ratio "$ALL_FN" "$ONE_FN") R_SQL=$(ratio "$ALL_SQL" "$ONE_SQL")
VERDICT=$(awk -v r="$R_FN" 'BEGIN { print (r >= 0.9 && r <= 1.1) ? "met" : "**missed**" }')
N=$(wc -l <"$WORK/samples/one.fn")
cat <<EOF

Transfer of $(thousands $TRANSFER_DOCS) documents (about 2 kB jsonb + 20 kB file each) inside Oregon, one
transaction, rolled back; medians of $N runs each (ranges in brackets).

| node | data | sg_transfer_documents | plain SQL | ratio |
|---|---|---|---|---|
| one state (Oregon) | $ONE_STATES state, $(thousands $ONE_DOCS) documents, $ONE_SIZE | $(fmt_ms "$ONE_FN") ($(spread one.fn)) | $(fmt_ms "$ONE_SQL") ($(spread one.sql)) | $(ratio "$ONE_FN" "$ONE_SQL") |
| every state | $ALL_STATES states, $(thousands $ALL_DOCS) documents, $ALL_SIZE | $(fmt_ms "$ALL_FN") ($(spread all.fn)) | $(fmt_ms "$ALL_SQL") ($(spread all.sql)) | $(ratio "$ALL_FN" "$ALL_SQL") |

Every state against one state: $R_FN (plain SQL: $R_SQL); within 10 %: $VERDICT.
EOF
if [ -n "${NODES_ROW_FILE:-}" ]; then
    echo "| Transfer of $(thousands $TRANSFER_DOCS) documents (2 kB jsonb + 20 kB file each) on a node of every state ($ALL_STATES, $ALL_SIZE) against one of Oregon alone ($ONE_SIZE) | $(fmt_ms "$ALL_FN") every state, $(fmt_ms "$ONE_FN") one | $(fmt_ms "$ALL_SQL"), $(fmt_ms "$ONE_SQL") | $R_FN every / one (plain $R_SQL) | within 10 %: $VERDICT | $N runs each; $(spread all.fn) ms against $(spread one.fn) ms |" >>"$NODES_ROW_FILE"
fi
