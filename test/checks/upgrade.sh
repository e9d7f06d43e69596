#!/usr/bin/env bash
# The update path, for every released version: a database that ran it with data
# becomes the current version with ALTER EXTENSION samegoal_transfer UPDATE,
# keeps every row, and ends with exactly the catalog of a fresh install
# (test/checks/catalog.sql: functions, tables, columns in order, defaults,
# constraints, indexes, policies, triggers, grants, comments, pg_dump
# registrations); each single step (one release to the next) ends in the
# catalog of a fresh install of the release it reaches; every pgTAP file
# passes on an extension installed as each release and updated. A pg_dump of
# the oldest release restored where the current version is installed keeps
# every row too.
#
# The released versions are the install scripts kept as files
# (samegoal_transfer--X.Y.sql, never rebuilt; RELEASING.md): a new release is
# checked by this file as soon as its install script is frozen.
# Runs against the server in PGHOST/PGPORT/PGUSER (a superuser).
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${WORK:-$(mktemp -d)}
CURRENT=$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" samegoal_transfer.control)
mapfile -t RELEASED < <(ls samegoal_transfer--*.sql | sed -n 's/^samegoal_transfer--\([0-9][0-9.]*\)\.sql$/\1/p' \
                          | grep -vxF "$CURRENT" | sort -V)
[ ${#RELEASED[@]} -gt 0 ] || { echo "upgrade: FAILED: no released install script" >&2; exit 1; }
FRESH=sg_upgrade_fresh
RESTORED=sg_upgrade_restored
db_of() { echo "sg_upgrade_from_${1//./_}"; }

q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
fail() { echo "upgrade: FAILED: $*" >&2; exit 1; }
version_of() { q -d "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'samegoal_transfer'"; }
cleanup() {
    for db in $FRESH $RESTORED sg_upgrade_step "${RELEASED[@]/#/from_}"; do
        case $db in from_*) db=$(db_of "${db#from_}") ;; esac
        q -d postgres -c "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
    done
    q -d postgres -c 'DROP ROLE IF EXISTS regress_sg_upgrade' 2>/dev/null || true
}
trap cleanup EXIT
cleanup

# Every row of every table of the extension, as text, per table: only the columns
# the table had before the update, so that columns an update adds do not count
# as changes. document_files, a table until 1.2, is a view from 1.3 on (its rows
# in files and file_contents): its rows are read through it.
fingerprints() {
    q -d "$1" <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(r, ''|'' ORDER BY r)), ''-'') FROM (SELECT (%s)::text AS r FROM samegoal.%I) t;',
              c.relname, string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum), c.relname)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'samegoal'::regnamespace
   AND (c.relkind = 'r' OR c.relname = 'document_files')
   AND a.attname IN (SELECT column_name FROM sg_upgrade_columns WHERE table_name = c.relname)
 GROUP BY c.relname ORDER BY c.relname
\gexec
SQL
}

# catalog_of VERSION: the catalog of a fresh install of VERSION.
catalog_of() {
    q -d postgres -c 'SET client_min_messages = warning' -c 'DROP DATABASE IF EXISTS sg_upgrade_step' \
        -c 'CREATE DATABASE sg_upgrade_step'
    q -d sg_upgrade_step -c 'SET client_min_messages = warning' \
        -c "CREATE EXTENSION samegoal_transfer VERSION '$1' CASCADE"
    q -d sg_upgrade_step -f test/checks/catalog.sql
    q -d postgres -c 'DROP DATABASE sg_upgrade_step'
}

# load DB VERSION: VERSION installed with the data of the shared fixtures and
# what each version can do: transfers, deletions, a purge and changed settings
# (1.0 on), a request and an acknowledgement (where the version has them), a
# fenced state (where it has node_states).
load() {
    local db=$1 version=$2
    q -d postgres -c "CREATE DATABASE $db"
    q -d "$db" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer VERSION '$version' CASCADE;
GRANT samegoal_app TO regress_sg_upgrade;
\\i test/fixtures/districts.sql
SQL
    q -d "$db" >/dev/null <<'SQL'
SET ROLE regress_sg_upgrade;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher');
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
-- to the same student there (Avery Lopez): every release's guard lets it through
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[5], 'maple.k12.example', 'M-1001', 'madmin');
SELECT samegoal.sg_delete_documents(ARRAY[9, 8]);
SELECT samegoal.sg_purge_documents(ARRAY[9]);
COMMIT;
SELECT to_regprocedure('samegoal.sg_request_transfer(text, text, text, text, text)') IS NOT NULL AS has_requests \gset
\if :has_requests
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin', 'please');
SELECT samegoal.sg_acknowledge_transfer(1);
COMMIT;
\endif
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_set_transfer_coordinator('Dana Reyes', 'transfers@maple.k12.example', NULL);
SELECT samegoal.sg_set_transfers_enabled(false);
COMMIT;
RESET ROLE;
SELECT to_regclass('samegoal.node_states') IS NOT NULL AS has_nodes \gset
\if :has_nodes
INSERT INTO samegoal.node_states VALUES ('WA', 'moved_out');
\endif
CREATE TABLE sg_upgrade_columns AS
SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'samegoal';
SQL
    [ "$(version_of "$db")" = "$version" ] || fail "the database is not at version $version"
    [ "$(q -d "$db" -c 'SELECT count(*) FROM samegoal.transfers')" -eq 2 ] || fail "the $version data did not load"
}

echo "upgrade: released ${RELEASED[*]}; current $CURRENT"
q -d postgres -c "CREATE DATABASE $FRESH" -c 'CREATE ROLE regress_sg_upgrade LOGIN'
q -d $FRESH -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION samegoal_transfer CASCADE'
q -d $FRESH -f test/checks/catalog.sql >"$WORK/catalog-fresh.txt"

for from in "${RELEASED[@]}"; do
    db=$(db_of "$from")
    echo "upgrade: $from with transfers, deletions, a purge, changed settings (and what $from has of requests and nodes)"
    load "$db" "$from"
    fingerprints "$db" >"$WORK/rows-$from-before.txt"

    if [ "$from" = "${RELEASED[0]}" ]; then
        echo "upgrade: pg_dump of the $from database, pg_restore into a new one (it installs $CURRENT)"
        pg_dump -Fc -d "$db" -f "$WORK/upgrade-$from.dump"
        q -d postgres -c "CREATE DATABASE $RESTORED"
        pg_restore --exit-on-error -d $RESTORED "$WORK/upgrade-$from.dump"
        [ "$(version_of $RESTORED)" = "$CURRENT" ] || fail "the restore did not install $CURRENT"
        fingerprints $RESTORED >"$WORK/rows-restored.txt"
        diff -u "$WORK/rows-$from-before.txt" "$WORK/rows-restored.txt" || fail "rows changed in the restore of the $from dump"
        [ "$(q -d $RESTORED -c 'SELECT count(*) FROM samegoal.transfers WHERE sending_district_name IS NULL OR receiving_district_domain IS NULL')" -eq 0 ] \
            || fail "restored transfers do not name their parties"
        echo "upgrade: every row of the $from dump restored, the parties named"
    fi

    # One release at a time, each step ending in the catalog of the release it reaches.
    step=$from
    for next in "${RELEASED[@]}" "$CURRENT"; do
        [ "$(printf '%s\n%s\n' "$step" "$next" | sort -V | head -n 1)" = "$step" ] && [ "$next" != "$step" ] || continue
        q -d "$db" -c "ALTER EXTENSION samegoal_transfer UPDATE TO '$next'"
        [ "$(version_of "$db")" = "$next" ] || fail "the update from $step did not reach $next"
        if [ "$next" = "$CURRENT" ]; then
            cp "$WORK/catalog-fresh.txt" "$WORK/catalog-$next.txt"
        elif [ ! -e "$WORK/catalog-$next.txt" ]; then
            catalog_of "$next" >"$WORK/catalog-$next.txt"
        fi
        q -d "$db" -f test/checks/catalog.sql >"$WORK/catalog-$from-at-$next.txt"
        diff -u "$WORK/catalog-$next.txt" "$WORK/catalog-$from-at-$next.txt" \
            || fail "$from updated to $next differs from a fresh $next"
        step=$next
    done
    # Requests made before requests were on the clock get their due date from
    # when they were made.
    if [ "$(q -d "$db" -c "SELECT to_regprocedure('samegoal.sg_request_due_on(bigint, timestamptz)') IS NOT NULL")" = t ]; then
        [ "$(q -d "$db" -c 'SELECT count(*) FROM samegoal.transfer_requests r
                             WHERE r.due_on IS DISTINCT FROM samegoal.sg_request_due_on(r.sending_district_id, r.requested_at)')" = 0 ] \
            || fail "requests from $from have no due date, or the wrong one"
    fi
    # Files from before 1.3: each keeps content of its own, hashed by the update.
    if [ "$(q -d "$db" -c "SELECT to_regclass('samegoal.file_contents') IS NOT NULL")" = t ]; then
        [ "$(q -d "$db" -c 'SELECT count(*) FROM samegoal.files')" -gt 0 ] || fail "no files from $from"
        [ "$(q -d "$db" -c 'SELECT count(*) FROM samegoal.file_contents c
                             WHERE c.sha256 IS DISTINCT FROM sha256(c.data) OR c.byte_size <> octet_length(c.data)
                                OR (SELECT count(*) FROM samegoal.files f WHERE f.content_id = c.id) <> 1')" = 0 ] \
            || fail "files from $from are not hashed, or do not each have content of their own"
        [ "$(q -d "$db" -c 'SELECT count(*) FROM samegoal.documents d
                             WHERE d.content_sha256 IS DISTINCT FROM sha256(convert_to(d.content::text, $$UTF8$$))')" = 0 ] \
            || fail "documents from $from are not hashed"
    fi
    fingerprints "$db" >"$WORK/rows-$from-after.txt"
    diff -u "$WORK/rows-$from-before.txt" "$WORK/rows-$from-after.txt" || fail "rows changed in the update from $from"
    echo "upgrade: from $from, step by step to $CURRENT: every row kept ($(wc -l <"$WORK/rows-$from-before.txt") tables), each step the catalog of a fresh install ($(wc -l <"$WORK/catalog-fresh.txt") facts at $CURRENT)"

    # The updated database still works: the copies its transfers delivered
    # before the update are live, none held, and its inbox lists them as
    # transfers; a four-argument call to another student arrives held (1.3),
    # the receiving admin sees it and accepts it onto the right student;
    # allow_mismatch sends live; the directory answers.
    [ "$(q -d "$db" -c "SELECT count(*) FILTER (WHERE held) || ' ' || count(*) FILTER (WHERE transfer_id IS NOT NULL AND NOT held) FROM samegoal.documents")" = "0 3" ] \
        || fail "the copies delivered before the update from $from are not all live"
    q -d "$db" >/dev/null <<'SQL'
SET ROLE regress_sg_upgrade;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
DO $$
BEGIN
    IF (SELECT count(*) FROM samegoal.transfer_inbox WHERE kind = 'held') <> 0
       OR (SELECT count(*) FROM samegoal.transfer_inbox WHERE kind = 'transfer') = 0 THEN
        RAISE EXCEPTION 'the transfers made before the update are not listed as transfers';
    END IF;
END $$;
SELECT samegoal.sg_set_transfers_enabled(true);
CREATE TEMP TABLE sent AS
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2001', 'cteacher');
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
DO $$
BEGIN
    IF (SELECT count(*) FROM samegoal.held_documents h JOIN sent USING (transfer_id)) <> 1
       OR (SELECT count(*) FROM samegoal.transfer_inbox i JOIN sent s ON s.transfer_id = i.id WHERE i.kind = 'held') <> 1 THEN
        RAISE EXCEPTION 'a four-argument call to another student did not arrive held';
    END IF;
    IF samegoal.sg_accept_transfer((SELECT transfer_id FROM sent), 'C-2002') <> 1 THEN
        RAISE EXCEPTION 'the held arrival was not accepted onto another student';
    END IF;
END $$;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2001', 'cteacher', allow_mismatch => true);
SELECT count(*) FROM samegoal.sg_find_district('cedar');
ROLLBACK;
SQL
    q -d postgres -c "DROP DATABASE $db"
done

for from in "${RELEASED[@]}"; do
    echo "upgrade: every pgTAP file, on an extension installed as $from and updated"
    q -d $FRESH -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS pgtap'
    pg_prove -d $FRESH --set sg_update_from="$from" test/pgtap/*.sql >"$WORK/upgrade-pgtap.log" 2>&1 \
        || { cat "$WORK/upgrade-pgtap.log"; fail "pgTAP files failed after the update from $from"; }
    tail -n 1 "$WORK/upgrade-pgtap.log"
done
echo "upgrade: OK"
