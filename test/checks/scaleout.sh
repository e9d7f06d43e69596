#!/usr/bin/env bash
# Scale-out by state, on loopback (docs/scaling-out.md): two nodes (clusters of
# their own, made with pg_createcluster, node 1 and node 2), pgbouncer in
# transaction mode with one pool per state, and a live move of Oregon from node
# 1 to node 2 while an application writer commits acting transactions there
# (transfers, deletes, restores, purges, requests) through the Oregon pool:
#
#   publication filtered by Oregon's districts on node 1, subscription on node 2
#   (initial copy, then streaming); cutover: PAUSE the pool, fence Oregon on node
#   1 (moved_out), wait for node 2 to have every change, compare every table's
#   fingerprint on both nodes, serve Oregon on node 2, point the pool there
#   (RELOAD), RESUME; then drop the subscription and sg_release_state on node 1.
#
# It shows: fingerprints equal at cutover, every commit the writer saw succeed
# present on node 2, no writer failure (the pause only makes it wait), SG014 on
# node 1, nothing of Oregon left on node 1 after the release, transfers inside
# Oregon working on node 2 and cross-state ones still SG010, the PL/Proxy router
# merging reporting from both nodes for the reporting role only, and Oregon
# moving back to node 1 with no id conflict. Prints the initial-copy time, the
# pause, the rows and bytes moved, and the seconds each phase took.
#
# Uses the extension as installed (make install) and needs root (clusters are
# made with pg_createcluster, in the system's cluster directories even inside
# test/with-cluster; pgbouncer runs as the postgres OS user) and pgbouncer and
# postgresql-NN-plproxy (test/packages). Removes its clusters, pgbouncer and
# files on every exit (a failure, an interrupt, a signal); a run
# killed with SIGKILL leaves them behind, and the next run removes them first
# (clusters named sg_scaleout_*_PID and directories /tmp/samegoal-scaleout.*
# whose run PID is gone).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# The PostgreSQL major version under test (test/with-cluster's, else this machine's).
PGV=${PGVERSION:-$(test/pg-major)}
# The extension as installed for PG_CONFIG, also when that is a copy of
# Debian's layout under a prefix (test/lib.sh).
source "$ROOT/test/lib.sh"
SERVER_SETTINGS=$(server_settings | sed "s/^\([^=]*\)=\(.*\)$/\1 = '\2'/")
# System clusters, not test/with-cluster's: they show in pg_lsclusters, so a later
# run finds what a killed one left.
unset PG_CLUSTER_CONF_ROOT PGSYSCONFDIR PGPORT PGDATABASE PGSERVICE

T0=$EPOCHREALTIME
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
say() { printf 'scaleout: [%6.2f s] %s\n' "$(elapsed "$T0" "$(now)")" "$*"; }
# phase NAME: the time of each phase, printed at the end (and on a failure).
PHASES=()
PHASE=
PHASE_T=
phase() {
    local t; t=$(now)
    [ -n "$PHASE" ] && PHASES+=("$PHASE $(elapsed "$PHASE_T" "$t") s")
    PHASE=$1 PHASE_T=$t
}
phases() {
    phase ""
    local list; list=$(printf '%s, ' "${PHASES[@]}")
    echo "scaleout: time per phase: ${list%, }; total $(elapsed "$T0" "$(now)") s"
}
fail() {
    echo "scaleout: FAILED: $*" >&2
    for c in "${CLUSTERS[@]}"; do tail -n 15 "/var/log/postgresql/postgresql-$PGV-$c.log" 2>/dev/null | sed "s/^/$c: /" >&2; done
    phases >&2
    exit 1
}
phase packages
[ "$(id -u)" -eq 0 ] || { say "skipped: needs root"; exit 0; }
command -v pgbouncer >/dev/null 2>&1 && [ -e /usr/share/postgresql/$PGV/extension/plproxy.control ] \
    || fail "pgbouncer or postgresql-$PGV-plproxy is not installed (test/packages: test/install-packages tests)"

# What a killed run left: its clusters and its pgbouncer, when its shell is gone.
phase leftovers
run_alive() { grep -qs scaleout "/proc/$1/cmdline"; }
pgbouncer_of() { [ -s "$1/pgbouncer.pid" ] && grep -qs pgbouncer "/proc/$(cat "$1/pgbouncer.pid")/comm" && cat "$1/pgbouncer.pid"; }
for c in $(pg_lsclusters -h 2>/dev/null | awk -v v="$PGV" '$1 == v && $2 ~ /^sg_scaleout_[ab]_[0-9]+$/ { print $2 }'); do
    run_alive "${c##*_}" && continue
    say "removing cluster $c, left by a run that was killed"
    pg_dropcluster --stop "$PGV" "$c" >/dev/null 2>&1 || true
done
for d in /tmp/samegoal-scaleout.*; do
    [ -d "$d" ] || continue
    [ -s "$d/run" ] && run_alive "$(cat "$d/run")" && continue
    pid=$(pgbouncer_of "$d") && kill "$pid" 2>/dev/null
    rm -rf "$d"
done

DIR=$(mktemp -d /tmp/samegoal-scaleout.XXXXXX)
chmod 755 "$DIR"
echo $$ >"$DIR/run"
PW=sg-scaleout-$$
CLUSTERS=("sg_scaleout_a_$$" "sg_scaleout_b_$$")
WRITER_PID=

cleanup() {
    set +e
    [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null
    local pid; pid=$(pgbouncer_of "$DIR") && kill "$pid" 2>/dev/null
    for c in "${CLUSTERS[@]}"; do
        pg_lsclusters -h "$PGV" "$c" >/dev/null 2>&1 && pg_dropcluster --stop "$PGV" "$c" >/dev/null 2>&1
    done
    [ -n "$WRITER_PID" ] && wait "$WRITER_PID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The ports of the two nodes and pgbouncer, claimed in $DIR/ports until the
# cleanup removes $DIR (test/ports.sh: no ss, and safe beside another run).
source "$ROOT/test/ports.sh"

# Two nodes, each a cluster of its own listening on 127.0.0.1 only, made and
# started side by side. Throwaway clusters: no fsync, no SSL; logical
# replication tuned for loopback (workers started and status sent without the
# default seconds of delay).
phase nodes
printf '%s\n' "$PW" >"$DIR/pwfile"
chmod 644 "$DIR/pwfile"
make_node() {
    local name=$1 port=$2
    pg_createcluster "$PGV" "$name" -p "$port" -d "$DIR/$name" --start-conf=manual \
        ${SG_CLUSTER_ENV:+--environment="$SG_CLUSTER_ENV"} -- \
        --auth-local=peer --auth-host=scram-sha-256 --pwfile="$DIR/pwfile" --nosync >"$DIR/$name.create" 2>&1 \
        || { cat "$DIR/$name.create" >&2; return 1; }
    cat >>"/etc/postgresql/$PGV/$name/postgresql.conf" <<EOF
$SERVER_SETTINGS
listen_addresses = '127.0.0.1'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
max_connections = 60
shared_buffers = 32MB
fsync = off
full_page_writes = off
ssl = off
wal_retrieve_retry_interval = 100ms
wal_receiver_status_interval = 1s
max_sync_workers_per_subscription = 4
max_logical_replication_workers = 8
EOF
    pg_ctlcluster "$PGV" "$name" start
}
free_ports 3 5641 "$DIR/ports" || fail "no free ports"
{ read -r PA; read -r PB; read -r PBOUNCER; } <"$DIR/ports"
make_node "${CLUSTERS[0]}" "$PA" & node_a=$!
make_node "${CLUSTERS[1]}" "$PB" & node_b=$!
wait "$node_a" || fail "node 1 did not start"
wait "$node_b" || fail "node 2 did not start"

export PGPASSWORD=$PW PGUSER=postgres PGHOST=127.0.0.1
qa() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$PA" -d samegoal "$@"; }
qb() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$PB" -d samegoal "$@"; }

say "node 1 on port $PA (Oregon and Washington), node 2 on port $PB (Idaho)"
phase data
make_db() {
    psql -X -q -v ON_ERROR_STOP=1 -p "$1" -d postgres -c 'CREATE DATABASE samegoal'
    psql -X -q -v ON_ERROR_STOP=1 -p "$1" -d samegoal \
       -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION samegoal_transfer CASCADE' \
       -c "CREATE ROLE app_writer LOGIN PASSWORD '$PW' IN ROLE samegoal_app" \
       -c "CREATE ROLE report_reader LOGIN PASSWORD '$PW' IN ROLE samegoal_reporting"
}
make_db "$PA" & db_a=$!
make_db "$PB" & db_b=$!
wait "$db_a" || fail "no database on node 1"
wait "$db_b" || fail "no database on node 2"

# Oregon: maple and cedar, 300 documents with a 16 kB file each (incompressible:
# the bytes a move carries); Washington: pine
# (node 1). Idaho: spruce (node 2).
qa >/dev/null <<'SQL'
\i test/fixtures/districts.sql
-- Oregon's districts are closed for the winter break (the move carries it)
INSERT INTO samegoal.district_closed_days (district_id, day, note)
SELECT id, '2026-12-25', 'Winter break' FROM samegoal.districts WHERE state = 'OR';
-- a second district in Washington, which asks pine for a student's records
INSERT INTO samegoal.districts (domain, name, city, state) VALUES ('fir.k12.example', 'Fir Grove School District', 'Olympia', 'WA');
INSERT INTO samegoal.users (district_id, username, is_admin)
SELECT id, 'fadmin', true FROM samegoal.districts WHERE domain = 'fir.k12.example';
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name)
SELECT id, 'F-1', 'Riley', 'Kim' FROM samegoal.districts WHERE domain = 'fir.k12.example';
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name)
SELECT d.id, 'B-' || i, 'Bulk', 'Student ' || i
  FROM samegoal.districts d, generate_series(1, 30) i WHERE d.state = 'OR';
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT s.district_id, s.id, (SELECT min(u.id) FROM samegoal.users u WHERE u.district_id = s.district_id),
       'IEP', 'Bulk ' || s.sis_student_id || ' #' || i, jsonb_build_object('n', i)
  FROM samegoal.students s, generate_series(1, 5) i WHERE s.sis_student_id LIKE 'B-%';
INSERT INTO samegoal.document_files (district_id, document_id, filename, data)
SELECT d.district_id, d.id, 'bulk.bin',
       (SELECT decode(string_agg(md5(d.id || ':' || k), ''), 'hex') FROM generate_series(1, 1024) k)
  FROM samegoal.documents d WHERE d.title LIKE 'Bulk %';
SQL
qb >/dev/null <<'SQL'
SELECT samegoal.sg_configure_node(2);
INSERT INTO samegoal.districts (domain, name, city, state) VALUES ('spruce.k12.example', 'Spruce School District', 'Boise', 'ID');
INSERT INTO samegoal.users (district_id, username, is_admin)
SELECT id, 'sadmin', true FROM samegoal.districts WHERE domain = 'spruce.k12.example';
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name)
SELECT id, 'S-1', 'Avery', 'Lopez' FROM samegoal.districts WHERE domain = 'spruce.k12.example';
SQL
# Node 1 held its data before it was numbered: those ids (node 0's range) stay,
# and no other node allocates there. Node 2 was numbered before its first row.
qa -c 'SELECT samegoal.sg_configure_node(1)' >/dev/null
OREGON=$(qa -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM samegoal.districts WHERE state = 'OR'")

# pgbouncer, transaction pooling, one pool per state; runs as the postgres OS user.
phase pgbouncer
write_bouncer_ini() {
    cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
samegoal_or = host=127.0.0.1 port=$1 dbname=samegoal user=app_writer password=$PW
samegoal_wa = host=127.0.0.1 port=$PA dbname=samegoal user=app_writer password=$PW
samegoal_id = host=127.0.0.1 port=$PB dbname=samegoal user=app_writer password=$PW
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PBOUNCER
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
admin_users = pgbouncer
pool_mode = transaction
default_pool_size = 4
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
EOF
}
printf '"app_writer" ""\n"pgbouncer" ""\n' >"$DIR/userlist.txt"
write_bouncer_ini "$PA"
chown -R postgres "$DIR"
runuser -u postgres -- pgbouncer -d "$DIR/pgbouncer.ini"
# (a loaded machine may take seconds)
for _ in $(seq 600); do [ -s "$DIR/pgbouncer.pid" ] && break; sleep 0.05; done
pgbouncer_of "$DIR" >/dev/null || { cat "$DIR/pgbouncer.log" 2>/dev/null; fail "pgbouncer did not start"; }
bouncer_admin() { PGPASSWORD= psql -X -q -At -h 127.0.0.1 -p "$PBOUNCER" -U pgbouncer -d pgbouncer -c "$1"; }
app() { PGPASSWORD= psql -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$PBOUNCER" -U app_writer "$@"; }
say "pgbouncer on port $PBOUNCER: pools samegoal_or, samegoal_wa (node 1), samegoal_id (node 2)"

# Transaction pooling hands each transaction a server connection that may be
# new, so a session's first samegoal call is often inside whatever the
# application opened first: a savepoint, as ORMs nest transactions. Each of
# these transactions gets a new backend (RECONNECT closes the pool's
# connections once released), and each acts from its savepoint.
backends=""
for i in $(seq 10); do
    bouncer_admin 'RECONNECT samegoal_wa' >/dev/null
    backend=$(app -d samegoal_wa -c 'BEGIN' -c 'SAVEPOINT orm' \
        -c "SELECT pg_backend_pid() || ' ' || samegoal.sg_act_as('pine.k12.example', 'padmin')" \
        -c 'RELEASE SAVEPOINT orm' -c 'COMMIT' 2>"$DIR/savepoint.err") \
        || { cat "$DIR/savepoint.err"; fail "a first call inside a savepoint, through pgbouncer, was refused"; }
    backends="$backends ${backend%% *}"
done
[ "$(printf '%s\n' $backends | sort -u | wc -l)" -eq 10 ] || fail "the savepoint transactions did not each get a new backend:$backends"
say "through pgbouncer: 10 transactions, each on a new backend, act from a savepoint"

# The application writer: acting transactions in Oregon through the Oregon pool,
# each a new student and document (its marker) and one of: a transfer, a delete,
# a delete and restore, a delete and purge, a request. Bounded; stops when told.
# Its commits are waited for by count (wait_commits), never by time.
writer() {
    local i=0 ok=0 failed=0
    # (and stops when the run is gone: killed, its files removed)
    while [ $i -lt 2000 ] && [ ! -e "$DIR/stop" ] && [ -d "$DIR" ] && kill -0 $$ 2>/dev/null; do
        i=$((i + 1))
        local op
        case $((i % 5)) in
            0) op="SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[(SELECT max(d.id) FROM samegoal.documents d WHERE d.title = 'W-$i')], 'cedar.k12.example', 'C-2001', 'cteacher', allow_mismatch => true);" ;;
            1) op="SELECT samegoal.sg_delete_documents(ARRAY[(SELECT max(d.id) FROM samegoal.documents d WHERE d.title = 'W-$i')]);" ;;
            2) op="SELECT samegoal.sg_delete_documents(ARRAY[(SELECT max(d.id) FROM samegoal.documents d WHERE d.title = 'W-$i')]);
                   SELECT samegoal.sg_restore_documents(ARRAY[(SELECT max(d.id) FROM samegoal.documents d WHERE d.title = 'W-$i')]);" ;;
            3) op="SELECT samegoal.sg_delete_documents(ARRAY[(SELECT max(d.id) FROM samegoal.documents d WHERE d.title = 'W-$i')]);
                   SELECT samegoal.sg_purge_documents(ARRAY[(SELECT max(d.id) FROM samegoal.documents d WHERE d.title = 'W-$i')]);" ;;
            4) op="SELECT samegoal.sg_request_transfer('cedar.k12.example', 'W-$i', 'madmin');" ;;
        esac
        if app -d samegoal_or >/dev/null 2>>"$DIR/writer.err" <<SQL
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES ('W-$i', 'Wren', 'Writer');
INSERT INTO samegoal.documents (student_id, owner_id, doc_type, title)
SELECT s.id, u.id, 'IEP', 'W-$i' FROM samegoal.students s, samegoal.users u
 WHERE s.sis_student_id = 'W-$i' AND u.username = 'madmin';
$op
COMMIT;
SQL
        then ok=$((ok + 1)); echo "W-$i" >>"$DIR/committed"
        else failed=$((failed + 1)); echo "W-$i failed" >>"$DIR/writer.err"
        fi
    done
    echo "$i $ok $failed" >"$DIR/writer.done"
}
commits() { wc -l <"$DIR/committed"; }
# wait_commits N WHAT: until the writer has committed N transactions in all.
wait_commits() {
    for _ in $(seq 600); do
        [ "$(commits)" -ge "$1" ] && return 0
        [ -e "$DIR/writer.done" ] && break
        sleep 0.05
    done
    cat "$DIR/writer.err" >&2
    fail "the writer did not reach $1 commits ($2)"
}
# Commits the writer makes in each phase of the move: before it starts, while
# changes stream after the initial copy, and after the cutover (on node 2).
PER_PHASE=15
phase writer
: >"$DIR/committed"
: >"$DIR/writer.err"
writer &
WRITER_PID=$!
wait_commits $PER_PHASE "before the move"

# Every table's rows of the given districts, as a fingerprint per table.
FINGERPRINT_SQL="
SELECT 'districts ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM samegoal.districts t WHERE id IN (\$IDS)
UNION ALL SELECT 'users ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM samegoal.users t WHERE district_id IN (\$IDS)
UNION ALL SELECT 'students ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM samegoal.students t WHERE district_id IN (\$IDS)
UNION ALL SELECT 'documents ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM samegoal.documents t WHERE district_id IN (\$IDS)
UNION ALL SELECT 'document_files ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM samegoal.document_files t WHERE district_id IN (\$IDS)
UNION ALL SELECT 'transfers ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM samegoal.transfers t WHERE sending_district_id IN (\$IDS)
UNION ALL SELECT 'file_contents ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM samegoal.file_contents t WHERE district_id IN (\$IDS)
UNION ALL SELECT 'transfer_files ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.transfer_id, t.source_file_id), '')) FROM samegoal.transfer_files t WHERE sending_district_id IN (\$IDS)
UNION ALL SELECT 'transfer_documents ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.transfer_id, t.source_document_id), '')) FROM samegoal.transfer_documents t WHERE sending_district_id IN (\$IDS)
UNION ALL SELECT 'purged_documents ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.document_id), '')) FROM samegoal.purged_documents t WHERE district_id IN (\$IDS)
UNION ALL SELECT 'transfer_requests ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM samegoal.transfer_requests t WHERE requesting_district_id IN (\$IDS)
UNION ALL SELECT 'district_closed_days ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.district_id, t.day), '')) FROM samegoal.district_closed_days t WHERE district_id IN (\$IDS)
UNION ALL SELECT 'district_words ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM samegoal.district_words t WHERE district_id IN (\$IDS)"
fingerprints() { local f=$1 ids=$2; $f -c "${FINGERPRINT_SQL//\$IDS/$ids}"; }

PUB_TABLES="samegoal.districts WHERE (id IN (\$IDS)), samegoal.users WHERE (district_id IN (\$IDS)),
    samegoal.students WHERE (district_id IN (\$IDS)), samegoal.documents WHERE (district_id IN (\$IDS)),
    samegoal.files WHERE (district_id IN (\$IDS)), samegoal.file_contents WHERE (district_id IN (\$IDS)),
    samegoal.transfers WHERE (sending_district_id IN (\$IDS)),
    samegoal.transfer_documents WHERE (sending_district_id IN (\$IDS)),
    samegoal.transfer_files WHERE (sending_district_id IN (\$IDS)),
    samegoal.purged_documents WHERE (district_id IN (\$IDS)),
    samegoal.transfer_requests WHERE (requesting_district_id IN (\$IDS)),
    samegoal.transfer_arrivals WHERE (receiving_district_id IN (\$IDS)),
    samegoal.district_closed_days WHERE (district_id IN (\$IDS))"

# move SRC_FN SRC_PORT DST_FN IDS DST_PORT: Oregon from one node to the other,
# cutover included. While the writer runs, streaming lasts until it has
# committed PER_PHASE more transactions after the initial copy.
move_oregon() {
    local src=$1 src_port=$2 dst=$3 ids=$4
    phase "$MOVE: copy"
    $dst -c "INSERT INTO samegoal.node_states VALUES ('OR', 'moving_in')
             ON CONFLICT (state) DO UPDATE SET status = 'moving_in'"
    $src -c "CREATE PUBLICATION sg_move_or FOR TABLE ${PUB_TABLES//\$IDS/$ids}"
    local t0; t0=$(now)
    $dst -c "CREATE SUBSCRIPTION sg_move_or
               CONNECTION 'host=127.0.0.1 port=$src_port dbname=samegoal user=postgres password=$PW'
               PUBLICATION sg_move_or"
    for _ in $(seq 1200); do
        [ "$($dst -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ] && break
        sleep 0.05
    done
    [ "$($dst -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ] || fail "the initial copy did not finish"
    COPY_SECONDS=$(elapsed "$t0" "$(now)")
    say "initial copy: ${COPY_SECONDS} s; streaming"
    phase "$MOVE: streaming"
    if [ -n "$WRITER_PID" ]; then
        local streamed=$(( $(commits) + PER_PHASE ))
        wait_commits $streamed "while streaming"
    fi

    # A district renamed on the old node while the state streams: logical
    # replication fires row triggers only, and the new node's directory follows
    # all the same (the cutover's fingerprint holds district_words).
    if [ "$MOVE" = move ]; then
        $src -c "UPDATE samegoal.districts SET name = 'Cedar Grove School District' WHERE domain = 'cedar.k12.example'"
    fi

    # Cutover. PAUSE waits for the pool's transactions in flight, then holds new ones.
    phase "$MOVE: cutover"
    local p0; p0=$(now)
    bouncer_admin 'PAUSE samegoal_or' >/dev/null
    $src -c "UPDATE samegoal.node_states SET status = 'moved_out' WHERE state = 'OR';
             INSERT INTO samegoal.node_states SELECT 'OR', 'moved_out' WHERE NOT EXISTS
                 (SELECT FROM samegoal.node_states WHERE state = 'OR')"
    local lsn; lsn=$($src -c 'SELECT pg_current_wal_lsn()')
    for _ in $(seq 600); do
        [ "$($src -c "SELECT confirmed_flush_lsn >= '$lsn' FROM pg_replication_slots WHERE slot_name = 'sg_move_or'")" = t ] && break
        sleep 0.02
    done
    fingerprints "$src" "$ids" >"$DIR/fp-src"
    fingerprints "$dst" "$ids" >"$DIR/fp-dst"
    diff -u "$DIR/fp-src" "$DIR/fp-dst" || fail "fingerprints differ at cutover"
    $dst -c "UPDATE samegoal.node_states SET status = 'serving' WHERE state = 'OR'"
    write_bouncer_ini "$5"
    bouncer_admin 'RELOAD' >/dev/null
    bouncer_admin 'RESUME samegoal_or' >/dev/null
    PAUSE_SECONDS=$(elapsed "$p0" "$(now)")
    RESUMED_AT=$(commits)
    say "cutover: pause ${PAUSE_SECONDS} s; every table's fingerprint equal on both nodes:"
    sed 's/^/scaleout:     /' "$DIR/fp-src"

    $dst -c 'DROP SUBSCRIPTION sg_move_or'
    $src -c 'DROP PUBLICATION sg_move_or'
    MOVED_ROWS=$(awk '$1 != "district_words" && $1 != "document_files" { n += $2 } END { print n }' "$DIR/fp-dst")
    MOVED_BYTES=$($dst -c "SELECT sum(c.byte_size) || ' bytes of files (' || pg_size_pretty(sum(pg_column_size(c.*))) || ' stored)' FROM samegoal.file_contents c WHERE district_id IN ($ids)")
    say "moved: $MOVED_ROWS rows, $MOVED_BYTES"
}

say "moving Oregon (districts $OREGON) from node 1 to node 2 while the writer commits"
MOVE="move"
move_oregon qa "$PA" qb "$OREGON" "$PB"
phase "writer after the move"
wait_commits $((RESUMED_AT + PER_PHASE)) "after the cutover"
touch "$DIR/stop"
wait "$WRITER_PID"
WRITER_PID=
read -r tries committed failures <"$DIR/writer.done"
say "writer: $tries transactions, $committed committed, $failures failed"
[ "$failures" -eq 0 ] || { cat "$DIR/writer.err"; fail "the writer saw failures"; }
[ "$committed" -gt 20 ] || fail "the writer committed too little to mean anything"

# Every commit the writer saw succeed is on node 2.
phase "checks on node 2"
present=$(qb -c "SELECT count(*) FROM samegoal.students WHERE sis_student_id = ANY (string_to_array('$(paste -sd, "$DIR/committed")', ','))")
[ "$present" -eq "$committed" ] || fail "$present of $committed committed transactions are on node 2"
say "every one of the $committed commits is on node 2"

# The district renamed during the move is found on node 2 by a typo of its new name.
found=$(app -d samegoal_or -c 'BEGIN' -c "SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')" \
    -c "SELECT string_agg(domain, ' ') FROM samegoal.sg_find_district('Grvoe')" -c 'COMMIT' | tail -n 1)
[ "$found" = cedar.k12.example ] || fail "node 2 does not find the renamed district by its new name (found: $found)"
say "node 2: the district renamed during the move is found by a typo of its new name"

# Node 1 fences Oregon, then releases it.
phase "fence and release"
psql -X -q -At -v ON_ERROR_STOP=1 -p "$PA" -d samegoal -c 'BEGIN' -c "SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')" 2>"$DIR/fence.err" \
    && fail "node 1 still serves Oregon"
grep -q 'served by another node' "$DIR/fence.err" || fail "no SG014 on node 1"
say "node 1: SG014 for Oregon"
released=$(qa -c "SELECT samegoal.sg_release_state('OR')")
left=$(fingerprints qa "$OREGON" | awk '{ n += $2 } END { print n }')
[ "$left" -eq 0 ] || fail "$left rows of Oregon left on node 1"
[ "$(qa -c "SELECT count(*) FROM samegoal.districts WHERE state = 'OR'")" -eq 0 ] || fail "Oregon districts left"
say "node 1: sg_release_state('OR') deleted $released rows; nothing of Oregon left"
psql -X -q -At -v ON_ERROR_STOP=1 -p "$PA" -d samegoal -c 'BEGIN' -c "SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')" 2>"$DIR/fence.err" && true
grep -q 'no active SameGoal user' "$DIR/fence.err" || fail "node 1 does not answer 28000 after the release"

# Transfers inside Oregon work on node 2; a cross-state one still gives SG010.
app -d samegoal_or >/dev/null <<'SQL' || fail "a transfer inside Oregon failed on node 2"
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cteacher');
COMMIT;
SQL
app -d samegoal_or -o /dev/null -c 'BEGIN' -c "SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')" \
    -c "SELECT samegoal.sg_transfer_documents(ARRAY[3], 'spruce.k12.example', 'S-1', 'sadmin')" 2>"$DIR/sg010.err" \
    && fail "a transfer to Idaho succeeded"
grep -q 'another state' "$DIR/sg010.err" || { cat "$DIR/sg010.err"; fail "no SG010 for a transfer to Idaho"; }
say "node 2: a transfer inside Oregon works; to Idaho: SG010"

# National reporting through the PL/Proxy router (a database on node 1's cluster).
phase router
psql -X -q -v ON_ERROR_STOP=1 -p "$PA" -d postgres -c 'CREATE DATABASE samegoal_router' \
    -c "CREATE ROLE router_reader LOGIN PASSWORD '$PW'" -c 'CREATE ROLE router_app LOGIN'
psql -X -q -v ON_ERROR_STOP=1 -p "$PA" -d samegoal_router \
    -v nodes="'host=127.0.0.1 port=$PA dbname=samegoal', 'host=127.0.0.1 port=$PB dbname=samegoal'" \
    -v reporting_user=report_reader -v reporting_password="$PW" -f router/router.sql >/dev/null
psql -X -q -p "$PA" -d samegoal_router -c 'GRANT samegoal_reporting TO router_reader' \
    -c "INSERT INTO samegoal_router.state_nodes VALUES ('OR', 2, 'host=127.0.0.1 port=$PB'), ('WA', 1, 'host=127.0.0.1 port=$PA'), ('ID', 2, 'host=127.0.0.1 port=$PB')"
# Overdue requests on both nodes: one of Oregon's on node 2, one of
# Washington's on node 1, each made due yesterday.
qb >/dev/null <<'SQL'
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_request_transfer('cedar.k12.example', 'M-1002', 'madmin') AS request_id \gset
COMMIT;
UPDATE samegoal.transfer_requests SET due_on = current_date - 1 WHERE id = :request_id;
SQL
qa >/dev/null <<'SQL'
BEGIN;
SELECT samegoal.sg_act_as('fir.k12.example', 'fadmin');
SELECT samegoal.sg_request_transfer('pine.k12.example', 'F-1', 'fadmin');
COMMIT;
UPDATE samegoal.transfer_requests SET due_on = current_date - 1;
SQL
overdue=$(PGUSER=router_reader psql -X -q -At -p "$PA" -d samegoal_router \
    -c 'SELECT state, sending_district_domain, overdue FROM samegoal_router.national_overdue' | paste -sd' ')
say "router: overdue requests merged from both nodes: $overdue"
case "$overdue" in "OR|"*"|1 WA|pine.k12.example|1") ;; *) fail "the merged overdue report is not one of Oregon's and one of Washington's" ;; esac
summary=$(PGUSER=router_reader psql -X -q -At -p "$PA" -d samegoal_router \
    -c 'SELECT state, districts, students FROM samegoal_router.national_summary' | paste -sd' ')
directory=$(PGUSER=router_reader psql -X -q -At -p "$PA" -d samegoal_router \
    -c 'SELECT string_agg(domain, $$ $$ ORDER BY domain) FROM samegoal_router.sg_directory_export()')
say "router, merged from both nodes: summary $summary; directory $directory"
case "$summary" in "ID|1|1 OR|"*" WA|2|2") ;; *) fail "the merged summary is not ID, OR, WA" ;; esac
[ "$directory" = "cedar.k12.example fir.k12.example maple.k12.example pine.k12.example spruce.k12.example" ] \
    || fail "the merged directory is wrong"
PGUSER=postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PA" -d samegoal_router -c 'SET ROLE router_app' \
    -c 'SELECT * FROM samegoal_router.sg_state_summary()' 2>"$DIR/router.err" && fail "a role without samegoal_reporting read the router"
grep -q 'permission denied' "$DIR/router.err" || fail "no 42501 on the router"
app -d samegoal_or -c 'SELECT * FROM samegoal.sg_state_summary()' 2>"$DIR/node-report.err" && fail "the application read the summary"
grep -q 'permission denied' "$DIR/node-report.err" || fail "no 42501 for the application on a node"
say "router: reporting for samegoal_reporting only (42501 for others, on the router and on the nodes)"

# Oregon moves back to node 1: the rows made on node 2 keep node 2's ids, new
# rows on node 1 get node 1's, and nothing collides.
say "moving Oregon back to node 1"
MOVE="move back"
move_oregon qb "$PB" qa "$OREGON" "$PA"
qb -c "SELECT samegoal.sg_release_state('OR')" >/dev/null
app -d samegoal_or >/dev/null <<'SQL' || fail "writing Oregon on node 1 after the move back failed"
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES ('BACK-1', 'Back', 'Home');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2002', 'cadmin', allow_mismatch => true);
COMMIT;
SQL
ranges=$(qa -c "SELECT string_agg(DISTINCT (id >> 40)::text, ',' ORDER BY (id >> 40)::text) FROM samegoal.students")
# (node 0's range: the rows node 1 held before it was numbered)
[ "$ranges" = "0,1,2" ] || fail "students ids are not from node 1's and node 2's ranges: $ranges"
say "node 1 serves Oregon again: ids from node 1 and node 2 side by side, no conflict"
phases
say "OK"
