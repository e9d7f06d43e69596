#!/usr/bin/env bash
# Crash recovery: the server dies in the middle of a large transfer and of a
# large purge, and again just after each commits. After recovery each one is
# wholly there or wholly absent, and every transfer record matches the
# documents and files it names.
#
# The crashes are server crashes: `pg_ctlcluster stop -m immediate` (pg_ctl's
# immediate mode: every process quits at once, no shutdown checkpoint) and
# SIGKILL of the backend doing the work (the postmaster then resets every
# process and recovers). The cluster runs with fsync=off, as every throwaway
# cluster of test/with-cluster does: that loses nothing when only the server
# dies, since what it wrote stays in the operating system's cache; only an
# operating-system crash or power loss would need fsync, and that is not what
# is tested. Uses a throwaway cluster of its own (test/with-cluster, nested in
# the one the suites run on), so it needs root to SIGKILL the backend as the
# postgres OS user.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/../.."
if [ -z "${SG_CRASH_CLUSTER:-}" ]; then
    SG_CRASH_CLUSTER=yes exec test/with-cluster bash "$self" "$@"
fi

say() { printf '\n==> %s\n' "$*"; }
WORK=${WORK:-$(mktemp -d)}
# the server log of this cluster
LOG=$(pg_lsclusters -h | awk -v v="$PGVERSION" '$1 == v && $2 == "regress" { print $7 }')
DOCS=${SG_CRASH_DOCS:-10000}
DB=sg_crash

fail() { echo "crash: FAILED: $*" >&2; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d $DB "$@"; }
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

crash_stop() { pg_ctlcluster "$PGVERSION" regress stop -m immediate; }
# Start again after a crash (recovery), with the cluster's own configuration.
restart() {
    pg_ctlcluster "$PGVERSION" regress start -- -t 300 \
        || { tail -20 "$LOG"; fail "the server did not restart"; }
}

# Wait until the backend running a statement that matches $1 waits for a
# lock; $2 is the psql running it, whose log is $3.
wait_for_lock_wait() {
    local i
    for i in $(seq 1 600); do
        kill -0 "$2" 2>/dev/null || { cat "$3"; fail "$1 ended before it came to wait"; }
        pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%$1%' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        [ -n "$pid" ] && return 0
        sleep 0.1
    done
    fail "no backend running $1 came to wait for the lock"
}

wait_until_up() {
    local i
    for i in $(seq 1 600); do
        pg_isready -q -h "$PGHOST" -p "$PGPORT" && q -c 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "the server did not come back"
}

# Counts that must not change across a crash that kills a transaction, and
# the consistency of every transfer with its record, copies and files.
state() {
    q <<'SQL'
SELECT format('transfers %s, transfer_documents %s (linked %s), documents %s (deleted %s), files %s, tombstones %s',
              (SELECT count(*) FROM samegoal.transfers),
              (SELECT count(*) FROM samegoal.transfer_documents),
              (SELECT count(received_document_id) FROM samegoal.transfer_documents),
              (SELECT count(*) FROM samegoal.documents),
              (SELECT count(*) FROM samegoal.documents WHERE deleted_at IS NOT NULL),
              (SELECT count(*) FROM samegoal.document_files),
              (SELECT count(*) FROM samegoal.purged_documents));
SQL
}
consistent() {
    local bad
    bad=$(q <<'SQL'
WITH files AS (
    SELECT document_id, string_agg(md5(data) || filename, ',' ORDER BY id) AS files
      FROM samegoal.document_files GROUP BY document_id
)
-- each transfer: as many record rows as document_count
SELECT 'transfer ' || t.id || ': count ' || t.document_count || ' but ' || count(td.*) || ' record rows'
  FROM samegoal.transfers t LEFT JOIN samegoal.transfer_documents td ON td.transfer_id = t.id
 GROUP BY t.id HAVING count(td.*) <> t.document_count
UNION ALL
-- each linked record row: a copy of that transfer and that original
SELECT 'record ' || td.transfer_id || '/' || td.source_document_id || ': copy missing or wrong'
  FROM samegoal.transfer_documents td LEFT JOIN samegoal.documents c ON c.id = td.received_document_id
 WHERE td.received_document_id IS NOT NULL
   AND (c.id IS NULL OR c.transfer_id <> td.transfer_id OR c.source_document_id <> td.source_document_id
        OR c.district_id <> td.receiving_district_id)
UNION ALL
-- each copy: in the record of its transfer
SELECT 'copy ' || c.id || ': not in the record'
  FROM samegoal.documents c
 WHERE c.transfer_id IS NOT NULL
   AND NOT EXISTS (SELECT FROM samegoal.transfer_documents td
                    WHERE td.transfer_id = c.transfer_id AND td.received_document_id = c.id)
UNION ALL
-- each copy whose original is still there: the same title, content and files
SELECT 'copy ' || c.id || ': differs from original ' || o.id
  FROM samegoal.documents c JOIN samegoal.documents o ON o.id = c.source_document_id
  LEFT JOIN files fc ON fc.document_id = c.id
  LEFT JOIN files fo ON fo.document_id = o.id
 WHERE (c.title, c.content, fc.files) IS DISTINCT FROM (o.title, o.content, fo.files)
UNION ALL
-- each purged document: gone, files and all
SELECT 'tombstone ' || p.document_id || ': document or file still there'
  FROM samegoal.purged_documents p
 WHERE EXISTS (SELECT FROM samegoal.documents d WHERE d.id = p.document_id)
    OR EXISTS (SELECT FROM samegoal.document_files f WHERE f.document_id = p.document_id)
UNION ALL
-- each stored content (1.3): referred to by a file
SELECT 'content ' || c.id || ': no file refers to it'
  FROM samegoal.file_contents c
 WHERE NOT EXISTS (SELECT FROM samegoal.files f WHERE f.content_id = c.id)
LIMIT 10;
SQL
)
    [ -z "$bad" ] || fail "inconsistent after $1: $bad"
}

say "crash: a cluster of its own (port $PGPORT), $DOCS documents with a file each"
psql -X -q -d postgres -c "CREATE DATABASE $DB"
q >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
\i test/fixtures/districts.sql
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT 1, 1, 2, 'IEP', 'Bulk IEP ' || i, jsonb_build_object('goals', ARRAY['goal ' || i, md5(i::text)])
  FROM generate_series(1, $DOCS) i;
INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
SELECT 1, d.id, 'iep-' || d.id || '.pdf', 'application/pdf',
       decode(repeat(md5(d.id::text), 64), 'hex')
  FROM samegoal.documents d WHERE d.title LIKE 'Bulk IEP %';
SQL
IDS="ARRAY(SELECT id FROM samegoal.documents WHERE title LIKE 'Bulk IEP %' ORDER BY id)"
TRANSFER="SELECT count(*) FROM samegoal.sg_transfer_documents($IDS, 'cedar.k12.example', 'C-2001', 'cteacher')"
before=$(state)
echo "before: $before"

say "crash: an immediate stop while a transfer of $DOCS documents is half written"
# Holding transfer_documents stops the transfer after it has written the
# transfers row, every copy and every file, before the record rows; a
# checkpoint then puts those uncommitted rows in the data files.
psql -X -q -d $DB -c 'BEGIN' -c 'LOCK samegoal.transfer_documents IN SHARE MODE' \
    -c 'SELECT pg_sleep(600)' >/dev/null 2>&1 &
pids+=($!)
psql -X -q -d $DB -c 'BEGIN' -c "SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')" \
    -c "$TRANSFER" -c 'COMMIT' >"$WORK/crash.transfer.log" 2>&1 &
pids+=($!)
wait_for_lock_wait sg_transfer_documents $! "$WORK/crash.transfer.log"
echo "the transfer (backend $pid) waits with its copies written"
q -c 'CHECKPOINT'
crash_stop
wait "${pids[@]}" 2>/dev/null || true
pids=()
restart
after=$(state)
echo "after recovery: $after"
[ "$after" = "$before" ] || fail "the interrupted transfer left something behind"
consistent "the interrupted transfer"
echo "the transfer is wholly absent"

say "crash: an immediate stop just after a transfer of $DOCS documents commits"
q -c 'BEGIN' -c "SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')" -c "$TRANSFER" -c 'COMMIT' \
    | tail -1 | grep -qx "$DOCS" || fail "the transfer did not copy $DOCS documents"
crash_stop
restart
after=$(state)
echo "after recovery: $after"
[ "$(q -c 'SELECT document_count FROM samegoal.transfers ORDER BY id DESC LIMIT 1')" = "$DOCS" ] \
    || fail "the committed transfer is not there"
[ "$(q -c "SELECT count(*) FROM samegoal.documents c JOIN samegoal.document_files f ON f.document_id = c.id WHERE c.transfer_id = (SELECT max(id) FROM samegoal.transfers)")" = "$DOCS" ] \
    || fail "the committed transfer's files are not all there"
consistent "the committed transfer"
echo "the transfer is wholly there"

say "crash: SIGKILL of the backend while a purge of $DOCS copies is half done"
COPIES="ARRAY(SELECT id FROM samegoal.documents WHERE transfer_id IS NOT NULL ORDER BY id)"
q -c 'BEGIN' -c "SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin')" \
    -c "SELECT samegoal.sg_delete_documents($COPIES)" -c 'COMMIT' >/dev/null
before=$(state)
echo "before: $before"
# A row lock on the copies' last file stops the purge in its delete of the
# files: the tombstones are written, the record unlinked, files deleted up to
# that one.
psql -X -q -d $DB -c 'BEGIN' \
    -c "SELECT 1 FROM samegoal.document_files WHERE district_id = 2 ORDER BY id DESC LIMIT 1 FOR UPDATE" \
    -c 'SELECT pg_sleep(600)' >/dev/null 2>&1 &
pids+=($!)
psql -X -q -d $DB -c 'BEGIN' -c "SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin')" \
    -c "SELECT samegoal.sg_purge_documents($COPIES)" -c 'COMMIT' >"$WORK/crash.purge.log" 2>&1 &
pids+=($!)
wait_for_lock_wait sg_purge_documents $! "$WORK/crash.purge.log"
q -c 'CHECKPOINT'
kill -KILL "$pid"
wait "${pids[@]}" 2>/dev/null || true
pids=()
wait_until_up
grep -q "terminated by signal 9: Killed" "$LOG" || fail "the server log does not show the killed backend"
after=$(state)
echo "after recovery: $after"
[ "$after" = "$before" ] || fail "the interrupted purge left something behind"
consistent "the interrupted purge"
echo "the purge is wholly absent"

say "crash: SIGKILL of a backend just after a purge of $DOCS copies commits"
[ "$(q -c 'BEGIN' -c "SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin')" \
      -c "SELECT samegoal.sg_purge_documents($COPIES)" -c 'COMMIT' | tail -1)" = "$DOCS" ] \
    || fail "the purge did not purge $DOCS documents"
# any backend will do: the postmaster then stops every process and recovers
psql -X -q -d $DB -c 'SELECT pg_sleep(600)' >/dev/null 2>&1 &
pids+=($!)
for i in $(seq 1 100); do
    pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%' AND pid <> pg_backend_pid()")
    [ -n "$pid" ] && break
    sleep 0.1
done
kill -KILL "$pid"
wait "${pids[@]}" 2>/dev/null || true
pids=()
wait_until_up
after=$(state)
echo "after recovery: $after"
[ "$(q -c 'SELECT count(*) FROM samegoal.purged_documents')" = "$DOCS" ] || fail "the tombstones are not all there"
[ "$(q -c 'SELECT count(*) FROM samegoal.documents WHERE transfer_id IS NOT NULL')" = 0 ] || fail "purged copies are back"
[ "$(q -c 'SELECT count(*) FROM samegoal.transfer_documents WHERE received_document_id IS NULL')" = "$DOCS" ] \
    || fail "the record is not unlinked"
[ "$(q -c "SELECT count(*) FROM samegoal.documents WHERE title LIKE 'Bulk IEP %'")" = "$DOCS" ] || fail "the originals are not all there"
consistent "the committed purge"
echo "the purge is wholly there; the originals and the transfer record stay"

say "crash: tables and indexes check out (pg_amcheck)"
pg_amcheck -h "$PGHOST" -p "$PGPORT" -d $DB --install-missing --heapallindexed --schema=samegoal \
    || fail "pg_amcheck found corruption"
echo "crash: OK ($(grep -c 'redo done at' "$LOG") recoveries)"
