#!/usr/bin/env bash
# A node keeps its number and its served states through pg_dump / pg_restore:
# sequence options of an extension's member sequences are not in a dump, so the
# node number travels as extension data (samegoal.node_config) and its trigger
# applies the node's id range again as the restore loads the row. Checked for a
# custom-format restore, a parallel restore in replica mode, and a plain SQL
# dump run with psql: each restored database is node 7, its sequences allocate
# in node 7's range after the ids it holds, and its fenced state stays fenced.
# Runs against the server in PGHOST/PGPORT/PGUSER (a superuser).
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${WORK:-$(mktemp -d)}
SRC=sg_node_source
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
fail() { echo "node: FAILED: $*" >&2; exit 1; }
cleanup() {
    for db in $SRC sg_node_restored sg_node_parallel sg_node_plain; do
        q -d postgres -c "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
    done
}
trap cleanup EXIT
cleanup

FIRST=$((7 * 2**40 + 1))
LAST=$((8 * 2**40 - 1))

echo "node: a source database configured as node 7, with Washington fenced"
q -d postgres -c "CREATE DATABASE $SRC"
q -d $SRC >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
\i test/fixtures/districts.sql
SELECT samegoal.sg_configure_node(7);
INSERT INTO samegoal.districts (domain, name, state) VALUES ('spruce.k12.example', 'Spruce School District', 'ID');
INSERT INTO samegoal.node_states VALUES ('WA', 'moved_out');
SQL
pg_dump -Fc -d $SRC -f "$WORK/node.dump"
pg_dump -d $SRC -f "$WORK/node.sql"

check() {
    local db=$1
    [ "$(q -d "$db" -c 'SELECT samegoal.sg_node()')" = 7 ] || fail "$db: the node number is not 7"
    [ "$(q -d "$db" -c "SELECT count(*) FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
                        WHERE c.relnamespace = 'samegoal'::regnamespace AND s.seqmin = $FIRST AND s.seqmax = $LAST")" = 8 ] \
        || fail "$db: the sequences do not allocate in node 7's range"
    [ "$(q -d "$db" -c "INSERT INTO samegoal.districts (domain, name, state) VALUES ('fir.k12.example', 'Fir', 'ID') RETURNING id")" = $((FIRST + 1)) ] \
        || fail "$db: a new district does not get the next id of node 7"
    [ "$(q -d "$db" -c 'SELECT state || status FROM samegoal.node_states')" = WAmoved_out ] \
        || fail "$db: node_states was not restored"
    psql -X -q -At -d "$db" -c 'BEGIN' -c "SELECT samegoal.sg_act_as('pine.k12.example', 'padmin')" 2>"$WORK/fence.err" \
        && fail "$db: the fenced state is served"
    grep -q 'served by another node' "$WORK/fence.err" || fail "$db: no SG014 for the fenced state"
    echo "node: $db is node 7, its sequences in node 7's range after the ids it holds, Washington fenced"
}

q -d postgres -c 'CREATE DATABASE sg_node_restored' -c 'CREATE DATABASE sg_node_parallel' -c 'CREATE DATABASE sg_node_plain'
pg_restore --exit-on-error -d sg_node_restored "$WORK/node.dump"
check sg_node_restored
PGOPTIONS='-c session_replication_role=replica' pg_restore --exit-on-error -j 2 -d sg_node_parallel "$WORK/node.dump"
check sg_node_parallel
q -d sg_node_plain -f "$WORK/node.sql" >/dev/null
check sg_node_plain
echo "node: OK"
