#!/usr/bin/env bash
# Backup and restore: pg_dump of a database with the extension, restored as any
# DBA restores it (pg_restore, or psql over a plain-SQL dump, with no special
# options), keeps every row, file byte, sequence, policy and grant, even after
# both districts of a transfer switched transfers off; the restored database
# enforces the same rules and takes new transfers. A parallel pg_restore -j runs
# in replica mode, where the rules' triggers still fire.
# Runs against the server in PGHOST/PGPORT/PGUSER (a superuser).
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${WORK:-$(mktemp -d)}
DUMP=$WORK/backup.dump
SRC=sg_backup_source
DST=sg_backup_copy
SQLCOPY=sg_backup_sql
PARALLEL=sg_backup_parallel

say() { printf '\n==> %s\n' "$*"; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
fail() { echo "backup: FAILED: $*" >&2; exit 1; }
cleanup() {
    for db in $SRC $DST $SQLCOPY $PARALLEL; do q -d postgres -c "DROP DATABASE IF EXISTS $db" 2>/dev/null || true; done
    q -d postgres -c 'DROP ROLE IF EXISTS regress_sg_backup' 2>/dev/null || true
}
trap cleanup EXIT
cleanup

say "backup: a source database with transfers, deletions, a purge and disabled settings"
q -d postgres -c "CREATE DATABASE $SRC" -c 'CREATE ROLE regress_sg_backup LOGIN'
q -d $SRC >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
GRANT samegoal_app TO regress_sg_backup;
\i test/fixtures/districts.sql
SET ROLE regress_sg_backup;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher');
-- to the wrong student: it arrives held (transfer 2, copy 10)
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cadmin');
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
-- to the wrong student too: held at Maple, and left held (copy 11)
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[5], 'maple.k12.example', 'M-1002', 'madmin');
-- Cedar returns the copy on the wrong student (purged: a tombstone), deletes another
SELECT samegoal.sg_return_transfer(2, 'not our student');
SELECT samegoal.sg_delete_documents(ARRAY[8]);
-- Cedar asks Maple twice; Maple declines the second request
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cteacher', 'the evaluation, please');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin');
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_decline_transfer_request(2, 'no records');
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
SELECT samegoal.sg_acknowledge_transfer(1);
COMMIT;
-- then both districts disable District-to-District Transfer
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_set_transfers_enabled(false);
SELECT samegoal.sg_set_transfer_coordinator('Dana Reyes', 'transfers@maple.k12.example', NULL);
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_set_transfers_enabled(false);
COMMIT;
SQL

# Every row of every table of the extension, the sequences, and the security
# and rule definitions: one text to compare. Of directory_states, the states
# alone: a version only has to change with its state's directory, and a
# restore's triggers count their own (one per district in replica mode).
snapshot() {
    q -d "$1" <<'SQL'
SELECT format('%s: %s rows, %s', c.relname,
              (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM samegoal.%I', c.relname), false, true, '')))[1],
              (xpath('/row/h/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(%s, E''\n'' ORDER BY %s), '''')) AS h FROM samegoal.%I t',
                                                          v.row_text, v.row_text, c.relname), false, true, '')))[1])
  FROM pg_class c
 CROSS JOIN LATERAL (SELECT CASE c.relname WHEN 'directory_states' THEN 't.state' ELSE 't::text' END AS row_text) v
 WHERE c.relnamespace = 'samegoal'::regnamespace AND c.relkind = 'r' ORDER BY 1;
SELECT format('files sharing their content with another file: %s', count(*))
  FROM samegoal.files f WHERE EXISTS (SELECT FROM samegoal.files o WHERE o.content_id = f.content_id AND o.id <> f.id);
SELECT format('sequence %s: last %s', sequencename, last_value) FROM pg_sequences WHERE schemaname = 'samegoal' ORDER BY 1;
SELECT format('policy %s.%s %s %s', tablename, policyname, cmd, qual) FROM pg_policies WHERE schemaname = 'samegoal' ORDER BY 1;
SELECT format('table %s rls %s force %s acl %s', relname, relrowsecurity, relforcerowsecurity, relacl)
  FROM pg_class WHERE relnamespace = 'samegoal'::regnamespace AND relkind = 'r' ORDER BY 1;
SELECT format('constraint %s.%s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace = 'samegoal'::regnamespace ORDER BY 1;
SELECT format('trigger %s.%s %s', tgrelid::regclass, tgname, tgenabled)
  FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'samegoal'::regnamespace)
   AND NOT tgisinternal ORDER BY 1;
SELECT format('function %s acl %s', p.oid::regprocedure, p.proacl)
  FROM pg_proc p WHERE p.pronamespace = 'samegoal'::regnamespace ORDER BY 1;
SQL
}
snapshot $SRC >"$WORK/backup.source"
grep -q '^transfers: 3 rows' "$WORK/backup.source" || fail "the source should hold 3 transfers"
grep -q '^purged_documents: 1 rows' "$WORK/backup.source" || fail "the source should hold 1 tombstone"
grep -q '^transfer_arrivals: 3 rows' "$WORK/backup.source" || fail "the source should hold 3 arrivals"
grep -q '^files sharing their content with another file: [1-9]' "$WORK/backup.source" \
    || fail "the source's transfers should share content"

say "backup: pg_dump -Fc, then a plain pg_restore into a new database"
pg_dump -Fc -d $SRC -f "$DUMP"
q -d postgres -c "CREATE DATABASE $DST"
pg_restore --exit-on-error -d $DST "$DUMP"
snapshot $DST >"$WORK/backup.copy"
diff -u "$WORK/backup.source" "$WORK/backup.copy" || fail "the restored database differs from the source"
echo "rows, file bytes, sequences, policies, constraints, triggers and grants: identical ($(wc -l <"$WORK/backup.copy") lines compared)"

say "backup: a plain-SQL dump, loaded into a new database by psql -v ON_ERROR_STOP=1"
pg_dump -d $SRC -f "$WORK/backup.sql"
q -d postgres -c "CREATE DATABASE $SQLCOPY"
psql -X -q -v ON_ERROR_STOP=1 -d $SQLCOPY -f "$WORK/backup.sql" >/dev/null
snapshot $SQLCOPY >"$WORK/backup.sqlcopy"
diff -u "$WORK/backup.source" "$WORK/backup.sqlcopy" || fail "the database loaded from SQL differs from the source"
echo "identical"

say "backup: a parallel pg_restore -j 2 in replica mode"
q -d postgres -c "CREATE DATABASE $PARALLEL"
PGOPTIONS='-c session_replication_role=replica' pg_restore --exit-on-error -j 2 -d $PARALLEL "$DUMP"
snapshot $PARALLEL >"$WORK/backup.parallel"
diff -u "$WORK/backup.source" "$WORK/backup.parallel" || fail "the parallel restore differs from the source"
echo "identical"

say "backup: replica mode is no way around the rules (the errors below are expected)"
out=$(PGOPTIONS='-c session_replication_role=replica' q -d $PARALLEL 2>&1 <<'SQL'
\set ON_ERROR_STOP 0
\set VERBOSITY terse
-- a transfer made now between Oregon and Washington, both districts enabled
UPDATE samegoal.districts SET transfers_enabled = true;
INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
    receiving_student_id, receiving_owner_id, initiated_by, document_count) VALUES (1, 3, 1, 5, 7, 1, 1);
-- the disclosure record, row by row and whole
DELETE FROM samegoal.transfers WHERE id = 1;
DELETE FROM samegoal.transfer_documents WHERE transfer_id = 1;
TRUNCATE samegoal.transfer_documents;
TRUNCATE samegoal.documents CASCADE;
-- a document moved to another district
UPDATE samegoal.documents SET district_id = 2 WHERE id = 4;
SELECT 'transfers ' || count(*) FROM samegoal.transfers;
SELECT 'transfer_documents ' || count(*) FROM samegoal.transfer_documents;
SQL
)
sed 's/^/expected: /' <<<"$out"
expect() { grep -qF -- "$1" <<<"$out" || fail "expected: $1"; }
expect 'ERROR:  the receiving district is in another state'
expect 'ERROR:  the transfer record cannot be changed or deleted'
expect 'ERROR:  a row of documents cannot move to another district'
[ "$(grep -c 'the transfer record cannot be changed or deleted' <<<"$out")" -eq 4 ] \
    || fail "each of the four deletions of the record should be refused"
expect 'transfers 3'
expect 'transfer_documents 5'

say "backup: the copy enforces the same rules and transfers continue past the restored ids"
out=$(q -d $DST 2>&1 <<'SQL'
\set ON_ERROR_STOP 0
\set VERBOSITY terse
-- the triggers are back on for every later write, superusers included
INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
    receiving_student_id, receiving_owner_id, initiated_by, document_count) VALUES (1, 2, 1, 3, 5, 1, 1);
-- a document cannot point at another district's student
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title) VALUES (1, 3, 1, 'IEP', 'x');
SET ROLE regress_sg_backup;
SELECT 'not acting sees ' || count(*) FROM samegoal.documents;
BEGIN;
SELECT 'acting as ' || samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT 'cedar sees districts ' || string_agg(DISTINCT district_id::text, ',') FROM samegoal.documents;
SELECT 'cedar sees transfers ' || count(*) FROM samegoal.transfers;
SELECT 'cedar sees tombstones ' || count(*) FROM samegoal.purged_documents;
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2001', 'cteacher');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_set_transfers_enabled(true);
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_set_transfers_enabled(true);
SELECT 'new transfer ' || transfer_id || ' copy ' || received_document_id || ' copied ' || copied
  FROM samegoal.sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2002', 'cteacher', allow_mismatch => true);
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT 'new request ' || samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin');
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT 'maple inbox ' || string_agg(kind || ' ' || id, ', ' ORDER BY id) FROM samegoal.transfer_inbox;
COMMIT;
RESET ROLE;
SELECT 'max ids ' || (SELECT max(id) FROM samegoal.transfers) || ' ' || (SELECT max(id) FROM samegoal.documents)
       || ' ' || (SELECT max(id) FROM samegoal.document_files);
SQL
)
sed 's/^ERROR/expected: ERROR/' <<<"$out"
expect 'ERROR:  district-to-district transfer is disabled in the sending district'
expect 'violates foreign key constraint "documents_district_id_student_id_fkey"'
expect 'not acting sees 0'
expect 'cedar sees districts 2'
expect 'cedar sees transfers 3'
expect 'cedar sees tombstones 1'
# the restored setting holds: Cedar still refuses (Maple's own setting comes first)
expect 'ERROR:  district-to-district transfer is disabled in the sending district'
# restored: transfers 1-3, documents 1-11 (10 purged), files 1-8; the two
# refused INSERTs above used transfer 4 and document 12
expect 'new transfer 5 copy 13 copied true'
expect 'new transfer 5 copy 14 copied true'
expect 'max ids 5 14 11'
# restored: requests 1 (open) and 2 (declined); the new one continues at 3
expect 'new request 3'
expect 'maple inbox request 1, request 3, held 3'   # the held arrival restored held
echo "backup: OK"
