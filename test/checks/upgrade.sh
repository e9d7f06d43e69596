#!/usr/bin/env bash
# The update path: a database that ran the released 1.0 with data becomes 1.1
# and then the current version with ALTER EXTENSION samegoal_transfer UPDATE
# (and one that ran 1.1 becomes the current version), keeps every row,
# and ends with exactly the catalog of a fresh install (test/checks/catalog.sql:
# functions, tables, columns in order, defaults, constraints, indexes, policies,
# triggers, grants, comments, pg_dump registrations). A pg_dump of the 1.0
# database restored where the current version is installed keeps every row too.
# Runs against the server in PGHOST/PGPORT/PGUSER (a superuser).
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${WORK:-$(mktemp -d)}
FRESH=sg_upgrade_fresh
UPDATED=sg_upgrade_updated
UPDATED11=sg_upgrade_updated11
RESTORED=sg_upgrade_restored
CURRENT=$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" samegoal_transfer.control)

q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
fail() { echo "upgrade: FAILED: $*" >&2; exit 1; }
cleanup() {
    for db in $FRESH $UPDATED $UPDATED11 ${UPDATED11}2 $RESTORED; do q -d postgres -c "DROP DATABASE IF EXISTS $db" 2>/dev/null || true; done
    q -d postgres -c 'DROP ROLE IF EXISTS regress_sg_upgrade' 2>/dev/null || true
}
trap cleanup EXIT
cleanup

# Every row of every table of the extension, as text, per table: only the columns
# the table had under 1.0, so that columns an update adds do not count as changes.
fingerprints() {
    q -d "$1" <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(r, ''|'' ORDER BY r)), ''-'') FROM (SELECT (%s)::text AS r FROM samegoal.%I) t;',
              c.relname, string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum), c.relname)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'samegoal'::regnamespace AND c.relkind = 'r'
   AND a.attname IN (SELECT column_name FROM sg_upgrade_columns WHERE table_name = c.relname)
 GROUP BY c.relname ORDER BY c.relname
\gexec
SQL
}

echo "upgrade: a fresh install of $CURRENT"
q -d postgres -c "CREATE DATABASE $FRESH" -c "CREATE DATABASE $UPDATED" -c 'CREATE ROLE regress_sg_upgrade LOGIN'
q -d $FRESH -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION samegoal_transfer CASCADE'
q -d $FRESH -f test/checks/catalog.sql >"$WORK/catalog-fresh.txt"

echo "upgrade: version 1.0 with transfers, deletions, a purge and changed settings"
q -d $UPDATED >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer VERSION '1.0' CASCADE;
GRANT samegoal_app TO regress_sg_upgrade;
\i test/fixtures/districts.sql
SET ROLE regress_sg_upgrade;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cadmin');
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[5], 'maple.k12.example', 'M-1002', 'madmin');
SELECT samegoal.sg_delete_documents(ARRAY[10, 8]);
SELECT samegoal.sg_purge_documents(ARRAY[10]);
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_set_transfer_coordinator('Dana Reyes', 'transfers@maple.k12.example', NULL);
SELECT samegoal.sg_set_transfers_enabled(false);
COMMIT;
RESET ROLE;
CREATE TABLE sg_upgrade_columns AS
SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'samegoal';
SQL
[ "$(q -d $UPDATED -c "SELECT extversion FROM pg_extension WHERE extname = 'samegoal_transfer'")" = 1.0 ] \
    || fail "the database is not at version 1.0"
fingerprints $UPDATED >"$WORK/rows-before.txt"
[ "$(q -d $UPDATED -c 'SELECT count(*) FROM samegoal.transfers')" -eq 3 ] || fail "the 1.0 data did not load"

echo "upgrade: pg_dump of the 1.0 database, pg_restore into a new one (it installs $CURRENT)"
pg_dump -Fc -d $UPDATED -f "$WORK/upgrade-1.0.dump"
q -d postgres -c "CREATE DATABASE $RESTORED"
pg_restore --exit-on-error -d $RESTORED "$WORK/upgrade-1.0.dump"
[ "$(q -d $RESTORED -c "SELECT extversion FROM pg_extension WHERE extname = 'samegoal_transfer'")" = "$CURRENT" ] \
    || fail "the restore did not install $CURRENT"
fingerprints $RESTORED >"$WORK/rows-restored.txt"
diff -u "$WORK/rows-before.txt" "$WORK/rows-restored.txt" || fail "rows changed in the restore of the 1.0 dump"
[ "$(q -d $RESTORED -c 'SELECT count(*) FROM samegoal.transfers WHERE sending_district_name IS NULL OR receiving_district_domain IS NULL')" -eq 0 ] \
    || fail "restored transfers do not name their parties"
echo "upgrade: every row of the 1.0 dump restored, the parties named"

echo "upgrade: ALTER EXTENSION samegoal_transfer UPDATE TO '1.1', then UPDATE"
q -d $UPDATED -c "ALTER EXTENSION samegoal_transfer UPDATE TO '1.1'"
[ "$(q -d $UPDATED -c "SELECT extversion FROM pg_extension WHERE extname = 'samegoal_transfer'")" = 1.1 ] \
    || fail "the update did not reach 1.1"
# each step ends in its own version's catalog: 1.0 -> 1.1 against a fresh 1.1
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS sg_upgrade_fresh11" -c "CREATE DATABASE sg_upgrade_fresh11"
q -d sg_upgrade_fresh11 -c 'SET client_min_messages = warning' -c "CREATE EXTENSION samegoal_transfer VERSION '1.1' CASCADE"
q -d sg_upgrade_fresh11 -f test/checks/catalog.sql >"$WORK/catalog-fresh11.txt"
q -d postgres -c "DROP DATABASE sg_upgrade_fresh11"
q -d $UPDATED -f test/checks/catalog.sql >"$WORK/catalog-updated11.txt"
diff -u "$WORK/catalog-fresh11.txt" "$WORK/catalog-updated11.txt" || fail "1.0 updated to 1.1 differs from a fresh 1.1"
echo "upgrade: 1.0 updated to 1.1 has the catalog of a fresh 1.1 ($(wc -l <"$WORK/catalog-fresh11.txt") facts)"
q -d $UPDATED -c 'ALTER EXTENSION samegoal_transfer UPDATE'
[ "$(q -d $UPDATED -c "SELECT extversion FROM pg_extension WHERE extname = 'samegoal_transfer'")" = "$CURRENT" ] \
    || fail "the update did not reach $CURRENT"
q -d $UPDATED -f test/checks/catalog.sql >"$WORK/catalog-updated.txt"
fingerprints $UPDATED >"$WORK/rows-after.txt"

echo "upgrade: every row kept ($(wc -l <"$WORK/rows-before.txt") tables)"
diff -u "$WORK/rows-before.txt" "$WORK/rows-after.txt" || fail "rows changed in the update"
echo "upgrade: the catalog is that of a fresh install ($(wc -l <"$WORK/catalog-fresh.txt") facts)"
diff -u "$WORK/catalog-fresh.txt" "$WORK/catalog-updated.txt" || fail "the updated catalog differs from a fresh install"

echo "upgrade: the updated database still works"
q -d $UPDATED >/dev/null <<'SQL'
SET ROLE regress_sg_upgrade;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_set_transfers_enabled(true);
-- four arguments now go through the 1.1 declaration: the wrong-student guard
-- holds (Blake Nguyen is not Avery Lopez), allow_mismatch passes it
DO $$
BEGIN
    PERFORM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2001', 'cteacher');
    RAISE EXCEPTION 'a four-argument call to another student was not refused';
EXCEPTION WHEN SQLSTATE 'SG012' THEN
    NULL;
END $$;
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2001', 'cteacher', allow_mismatch => true);
SELECT count(*) FROM samegoal.sg_find_district('cedar');
ROLLBACK;
SQL
if [ "$CURRENT" != 1.1 ]; then
    echo "upgrade: version 1.1 with transfers, a request, deletions and a purge"
    q -d postgres -c "CREATE DATABASE $UPDATED11"
    q -d $UPDATED11 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer VERSION '1.1' CASCADE;
\i test/fixtures/districts.sql
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher');
SELECT samegoal.sg_request_transfer('cedar.k12.example', 'M-1002', 'madmin', 'please');
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_acknowledge_transfer(1);
SELECT samegoal.sg_delete_documents(ARRAY[7, 8]);
SELECT samegoal.sg_purge_documents(ARRAY[7]);
COMMIT;
CREATE TABLE sg_upgrade_columns AS
SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'samegoal';
SQL
    fingerprints $UPDATED11 >"$WORK/rows11-before.txt"
    q -d $UPDATED11 -c 'ALTER EXTENSION samegoal_transfer UPDATE'
    [ "$(q -d $UPDATED11 -c "SELECT extversion FROM pg_extension WHERE extname = 'samegoal_transfer'")" = "$CURRENT" ] \
        || fail "the update from 1.1 did not reach $CURRENT"
    fingerprints $UPDATED11 >"$WORK/rows11-after.txt"
    diff -u "$WORK/rows11-before.txt" "$WORK/rows11-after.txt" || fail "rows changed in the update from 1.1"
    q -d $UPDATED11 -f test/checks/catalog.sql >"$WORK/catalog-updated11.txt"
    diff -u "$WORK/catalog-fresh.txt" "$WORK/catalog-updated11.txt" \
        || fail "the catalog updated from 1.1 differs from a fresh install"
    echo "upgrade: from 1.1, every row kept ($(wc -l <"$WORK/rows11-before.txt") tables) and the catalog of a fresh install"
fi

if [ "$CURRENT" != 1.2 ]; then
    echo "upgrade: version 1.2 with transfers, a request, a fenced state and a purge"
    q -d postgres -c "CREATE DATABASE ${UPDATED11}2"
    q -d ${UPDATED11}2 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer VERSION '1.2' CASCADE;
\i test/fixtures/districts.sql
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher');
SELECT samegoal.sg_request_transfer('cedar.k12.example', 'M-1002', 'madmin', 'please');
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_acknowledge_transfer(1);
SELECT samegoal.sg_delete_documents(ARRAY[7, 8]);
SELECT samegoal.sg_purge_documents(ARRAY[7]);
COMMIT;
INSERT INTO samegoal.node_states VALUES ('WA', 'moved_out');
CREATE TABLE sg_upgrade_columns AS
SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'samegoal';
SQL
    fingerprints ${UPDATED11}2 >"$WORK/rows12-before.txt"
    q -d ${UPDATED11}2 -c 'ALTER EXTENSION samegoal_transfer UPDATE'
    [ "$(q -d ${UPDATED11}2 -c "SELECT extversion FROM pg_extension WHERE extname = 'samegoal_transfer'")" = "$CURRENT" ] \
        || fail "the update from 1.2 did not reach $CURRENT"
    fingerprints ${UPDATED11}2 >"$WORK/rows12-after.txt"
    diff -u "$WORK/rows12-before.txt" "$WORK/rows12-after.txt" || fail "rows changed in the update from 1.2"
    q -d ${UPDATED11}2 -f test/checks/catalog.sql >"$WORK/catalog-updated12.txt"
    diff -u "$WORK/catalog-fresh.txt" "$WORK/catalog-updated12.txt" \
        || fail "the catalog updated from 1.2 differs from a fresh install"
    echo "upgrade: from 1.2, every row kept ($(wc -l <"$WORK/rows12-before.txt") tables) and the catalog of a fresh install"
    q -d postgres -c "DROP DATABASE ${UPDATED11}2"
fi

for from in 1.0 1.1 1.2; do
    [ "$from" != "$CURRENT" ] || continue
    echo "upgrade: every pgTAP file, on an extension installed as $from and updated"
    q -d $FRESH -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS pgtap'
    pg_prove -d $FRESH --set sg_update_from=$from test/pgtap/*.sql >"$WORK/upgrade-pgtap.log" 2>&1 \
        || { cat "$WORK/upgrade-pgtap.log"; fail "pgTAP files failed after the update from $from"; }
    tail -n 1 "$WORK/upgrade-pgtap.log"
done
echo "upgrade: OK"
