#!/usr/bin/env bash
# router/router.sql in hostile databases, as sql/install.sql does for the
# extension: a role that may create in public (as any role may in databases
# made before PostgreSQL 15) plants functions (format, unnest, string_agg, ...)
# and operators there that match router.sql's calls better than the built-ins,
# and a role that may create schemas squats samegoal_router. Shows that none of
# the planted objects runs while a superuser loads router.sql, with the default
# search_path and with public first, and that a schema samegoal_router, a table
# or a function in it, owned by a role that is not a superuser, is refused
# (42501) with nothing made. The nodes are never reached: loading the router
# connects to none of them. Runs against the server in PGHOST/PGPORT/PGUSER (a
# superuser); needs PL/Proxy (test/run-tests installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."

DBS=(sg_router_planted sg_router_planted_first sg_router_squat_schema sg_router_squat_table
     sg_router_squat_function)
# (pg_catalog alone: this file's own queries must not meet what it plants)
q() { PGOPTIONS='-c search_path=pg_catalog' psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
fail() { echo "router: FAILED: $*" >&2; exit 1; }
# router.sql makes the role samegoal_reporting when it is missing (roles are
# the cluster's): dropped again only when this check made it.
had_reporting=$(q -d postgres -c "SELECT count(*) FROM pg_roles WHERE rolname = 'samegoal_reporting'")
cleanup() {
    for db in "${DBS[@]}"; do q -d postgres -c "DROP DATABASE IF EXISTS $db" 2>/dev/null || true; done
    q -d postgres -c 'DROP ROLE IF EXISTS regress_router_planter' 2>/dev/null || true
    [ "$had_reporting" = 1 ] || q -d postgres -c 'DROP ROLE IF EXISTS samegoal_reporting' 2>/dev/null || true
}
trap cleanup EXIT
cleanup
[ -e "$(pg_config --sharedir)/extension/plproxy.control" ] || fail "PL/Proxy is not installed"

# load DB [PGOPTIONS]: router/router.sql as the superuser, with two nodes that
# do not exist (CREATE SERVER does not connect).
load() {
    PGOPTIONS=${2:-} psql -X -q -d "$1" \
        -v nodes="'host=127.0.0.1 port=1 dbname=none', 'host=127.0.0.1 port=2 dbname=none'" \
        -v reporting_user=regress_router_reader -v reporting_password=unused \
        -f router/router.sql
}

q -d postgres -c 'CREATE ROLE regress_router_planter'
for db in "${DBS[@]}"; do
    q -d postgres -c "CREATE DATABASE $db" -c "GRANT CREATE ON DATABASE $db TO regress_router_planter"
done

# Planted: functions of the names router.sql calls, for argument types that
# match its calls more exactly than the built-ins (format's VARIADIC "any",
# unnest's anyarray), and operators for the types its statements compare,
# subtract and concatenate. Each call leaves a row, with the role that ran it.
plant() {
    q -d "$1" >/dev/null <<'SQL'
GRANT CREATE ON SCHEMA public TO regress_router_planter;
CREATE TABLE public.router_planted_calls (what text, who name DEFAULT current_user);
GRANT INSERT ON public.router_planted_calls TO PUBLIC;
SET ROLE regress_router_planter;
DO $$
DECLARE
    sigs text[] := ARRAY['format(text)', 'format(text, text)', 'format(text, text, text)',
                         'format(text, bigint, text)', 'format(text, integer, text)'];
    types text[] := ARRAY['name', 'text', 'oid', 'bigint', 'integer', 'regnamespace', 'regclass'];
    ops text[] := ARRAY['=', '<>', '-', '||', '~', '>=', '<=', '<', '>'];
    sig text;
    l text;
    r text;
    op text;
    n integer := 0;
BEGIN
    FOREACH sig IN ARRAY sigs LOOP
        EXECUTE format('CREATE FUNCTION public.%s RETURNS text LANGUAGE plpgsql AS %L', sig,
                       format('BEGIN INSERT INTO public.router_planted_calls (what) VALUES (%L); RETURN NULL; END', sig));
    END LOOP;
    FOREACH sig IN ARRAY ARRAY['unnest(text[])', 'unnest(anyarray)'] LOOP
        EXECUTE format('CREATE FUNCTION public.%s RETURNS SETOF text LANGUAGE plpgsql AS %L', sig,
                       format('BEGIN INSERT INTO public.router_planted_calls (what) VALUES (%L); RETURN; END', sig));
    END LOOP;
    -- string_agg(text, text) is pg_catalog's own signature: it wins when public
    -- comes first.
    CREATE FUNCTION public.router_planted_agg(text, text, text) RETURNS text LANGUAGE plpgsql
        AS $f$BEGIN INSERT INTO public.router_planted_calls (what) VALUES ('string_agg(text, text)'); RETURN NULL; END$f$;
    CREATE AGGREGATE public.string_agg(text, text) (SFUNC = public.router_planted_agg, STYPE = text);
    FOREACH l IN ARRAY types LOOP
        FOREACH r IN ARRAY types LOOP
            n := n + 1;
            EXECUTE format('CREATE FUNCTION public.router_planted_op_%s(%s, %s) RETURNS boolean LANGUAGE plpgsql AS %L',
                           n, l, r,
                           format('BEGIN INSERT INTO public.router_planted_calls (what) VALUES (%L); RETURN NULL; END',
                                  l || ' op ' || r));
            FOREACH op IN ARRAY ops LOOP
                EXECUTE format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.router_planted_op_%s)',
                               op, l, r, n);
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;
RESET ROLE;
SQL
}

# Loaded with the default search_path ("$user", public: pg_catalog is searched
# first, yet public.unnest(text[]) is the better match for a text[]), and with
# public before pg_catalog, the most hostile path a loading session could have.
plant sg_router_planted
plant sg_router_planted_first
declare -A loaded
load sg_router_planted >/dev/null && loaded[sg_router_planted]=yes
load sg_router_planted_first '-c search_path=public,pg_catalog' >/dev/null && loaded[sg_router_planted_first]=yes
for db in sg_router_planted sg_router_planted_first; do
    calls=$(q -d "$db" -c "SELECT string_agg(DISTINCT what || ' as ' || who, ', ') FROM public.router_planted_calls")
    [ -z "$calls" ] || fail "$db: planted objects ran: $calls"
    [ "${loaded[$db]:-}" = yes ] || fail "$db: router.sql failed"
    made=$(q -d "$db" -c "SELECT (SELECT count(*) FROM pg_foreign_server WHERE srvname = 'samegoal_nodes')
                                 || ' ' || (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                                             WHERE e.extname = 'plproxy')
                                 || ' ' || (SELECT count(*) FROM pg_proc WHERE pronamespace = 'samegoal_router'::regnamespace)")
    [ "${made%% *}" = 1 ] || fail "$db: no PL/Proxy cluster samegoal_nodes"
    partitions=$(q -d "$db" -c "SELECT array_to_string(srvoptions, ' ') FROM pg_foreign_server WHERE srvname = 'samegoal_nodes'")
    [ "$partitions" = "connection_lifetime=1800 p0=host=127.0.0.1 port=1 dbname=none p1=host=127.0.0.1 port=2 dbname=none" ] \
        || fail "$db: the cluster's partitions are wrong: $partitions"
    echo "router: $db: none of the planted functions and operators ran; cluster, PL/Proxy in samegoal_router and functions made ($made)"
done
load sg_router_planted >/dev/null || fail "loading router.sql a second time failed"
echo "router: loading it again changes nothing and succeeds"

# squat DB SQL: the planter makes what SQL makes (after a superuser's SETUP, if
# any), then loading router.sql must fail with 42501 and make nothing.
squat() {
    local db=$1 setup=$2 what=$3 err
    [ -z "$setup" ] || q -d "$db" -c "$setup"
    q -d "$db" -c 'SET ROLE regress_router_planter' -c "$what"
    err=$(load "$db" 2>&1 >/dev/null) && fail "$db: router.sql adopted what regress_router_planter made"
    case "$err" in *"owned by a role that is not a superuser"*) ;; *) fail "$db: not refused: $err" ;; esac
    [ "$(q -d "$db" -c "SELECT count(*) FROM pg_foreign_server WHERE srvname = 'samegoal_nodes'")" = 0 ] \
        || fail "$db: the cluster was made all the same"
    [ "$(q -d "$db" -c "SELECT count(*) FROM pg_extension WHERE extname = 'plproxy'")" = 0 ] \
        || fail "$db: PL/Proxy was installed all the same"
    # (its first line: a pipe into head could end this script by SIGPIPE)
    err=${err#*ERROR:  }
    echo "router: $db: refused, nothing made: ${err%%$'\n'*}"
}
squat sg_router_squat_schema '' \
    'CREATE SCHEMA samegoal_router; CREATE TABLE samegoal_router.state_nodes (state text PRIMARY KEY, node_no integer, conninfo text)'
squat sg_router_squat_table \
    'CREATE SCHEMA samegoal_router; GRANT CREATE, USAGE ON SCHEMA samegoal_router TO regress_router_planter' \
    'CREATE TABLE samegoal_router.state_nodes (state text PRIMARY KEY, node_no integer, conninfo text)'
squat sg_router_squat_function \
    'CREATE SCHEMA samegoal_router; GRANT CREATE, USAGE ON SCHEMA samegoal_router TO regress_router_planter' \
    'CREATE FUNCTION samegoal_router.sg_state_summary() RETURNS SETOF record LANGUAGE sql AS $$ SELECT NULL::record $$'
echo "router: OK"
