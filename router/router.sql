-- samegoal router: a small database of its own (not a samegoal node) that knows
-- which node serves which state and runs national reporting on every node with
-- PL/Proxy. Load it with psql as a superuser of the router database:
--
--   psql -d samegoal_router -v nodes="'host=node-a dbname=samegoal', 'host=node-b dbname=samegoal'" \
--        -v reporting_user=samegoal_report -v reporting_password=secret -f router/router.sql
--
-- nodes lists the nodes' connection strings in partition order (PL/Proxy wants a
-- power of two: 1, 2, 4, ... nodes; see docs/scaling-out.md for other counts).
-- reporting_user is a LOGIN role on every node, member of samegoal_reporting
-- there and of nothing else: the nodes answer it, and only it, with reporting.
--
-- It runs as a superuser, so nothing in it may resolve to an object another role
-- made: search_path is pg_catalog alone and every built-in is named with its
-- schema (in a database made before PostgreSQL 15 any role may create in public,
-- where a public.unnest(text[]) or a public.format(text, text, text) matches
-- these calls better than the built-ins and would run as this superuser), and a
-- schema samegoal_router, or anything in it, that a role other than a superuser
-- owns is refused rather than adopted (42501): its owner could change later what
-- the router runs and what the reporting readers see.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET search_path = pg_catalog, pg_temp;

DO $$
DECLARE
    squatted text;
BEGIN
    WITH ns AS (SELECT n.oid, n.nspowner FROM pg_catalog.pg_namespace n
                 WHERE n.nspname OPERATOR(pg_catalog.=) 'samegoal_router'),
    owned (what, owner) AS (
        SELECT 'schema samegoal_router', ns.nspowner FROM ns
        UNION ALL
        SELECT 'relation ' OPERATOR(pg_catalog.||) c.oid::pg_catalog.regclass::pg_catalog.text, c.relowner
          FROM pg_catalog.pg_class c JOIN ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace
        UNION ALL
        SELECT 'function ' OPERATOR(pg_catalog.||) p.oid::pg_catalog.regprocedure::pg_catalog.text, p.proowner
          FROM pg_catalog.pg_proc p JOIN ns ON ns.oid OPERATOR(pg_catalog.=) p.pronamespace
        UNION ALL
        SELECT 'type ' OPERATOR(pg_catalog.||) t.oid::pg_catalog.regtype::pg_catalog.text, t.typowner
          FROM pg_catalog.pg_type t JOIN ns ON ns.oid OPERATOR(pg_catalog.=) t.typnamespace
        UNION ALL
        SELECT 'operator ' OPERATOR(pg_catalog.||) o.oid::pg_catalog.regoperator::pg_catalog.text, o.oprowner
          FROM pg_catalog.pg_operator o JOIN ns ON ns.oid OPERATOR(pg_catalog.=) o.oprnamespace
        UNION ALL
        SELECT 'foreign server samegoal_nodes', f.srvowner
          FROM pg_catalog.pg_foreign_server f
         WHERE f.srvname OPERATOR(pg_catalog.=) 'samegoal_nodes')
    SELECT pg_catalog.string_agg(owned.what, ', ' ORDER BY owned.what) INTO squatted
      FROM owned JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) owned.owner
     WHERE NOT r.rolsuper;
    IF squatted IS NOT NULL THEN
        RAISE EXCEPTION 'owned by a role that is not a superuser: %', squatted
            USING ERRCODE = '42501',
                  HINT = 'Drop them, or make a superuser their owner, before loading router/router.sql.';
    END IF;
END
$$ LANGUAGE plpgsql;

CREATE SCHEMA IF NOT EXISTS samegoal_router;
-- PL/Proxy's handler functions in the router's schema, which is a superuser's
-- (else they would go to the first schema of search_path, here pg_catalog).
CREATE EXTENSION IF NOT EXISTS plproxy SCHEMA samegoal_router;

-- Who may read the merged reports on the router (roles are per cluster).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'samegoal_reporting') THEN
        CREATE ROLE samegoal_reporting NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA samegoal_router TO samegoal_reporting;

-- The state -> node map: the router's record of where each state lives, and
-- what the pgbouncer configuration (one pool per state) is generated from.
CREATE TABLE IF NOT EXISTS samegoal_router.state_nodes (
    state       text PRIMARY KEY CHECK (state OPERATOR(pg_catalog.~) '^[A-Z]{2}$'),
    node_no     integer NOT NULL
                CHECK (node_no OPERATOR(pg_catalog.>=) 0 AND node_no OPERATOR(pg_catalog.<=) 8191),
    conninfo    text NOT NULL
);
COMMENT ON TABLE samegoal_router.state_nodes IS
'Which node serves each state: its node number (samegoal.sg_node() there) and connection string';

-- The PL/Proxy cluster: one partition per node, in the order given.
SELECT pg_catalog.format('CREATE SERVER samegoal_nodes FOREIGN DATA WRAPPER plproxy OPTIONS (connection_lifetime %L, %s)',
              '1800'::pg_catalog.text,
              (SELECT pg_catalog.string_agg(pg_catalog.format('p%s %L', n OPERATOR(pg_catalog.-) 1, c), ', ' ORDER BY n)
                 FROM pg_catalog.unnest(ARRAY[:nodes]::pg_catalog.text[]) WITH ORDINALITY AS t(c, n)))
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_foreign_server
                    WHERE srvname OPERATOR(pg_catalog.=) 'samegoal_nodes')
\gexec
SELECT pg_catalog.format('CREATE USER MAPPING IF NOT EXISTS FOR PUBLIC SERVER samegoal_nodes OPTIONS (user %L, password %L)',
              :'reporting_user'::pg_catalog.text, :'reporting_password'::pg_catalog.text)
\gexec
GRANT USAGE ON FOREIGN SERVER samegoal_nodes TO samegoal_reporting;

-- Every node answers for the states it serves, so the union of the answers
-- counts every state once, also while one moves (a state moving in or moved out
-- is left out where it is not served).
CREATE OR REPLACE FUNCTION samegoal_router.sg_directory_export()
RETURNS TABLE (domain text, name text, city text, state text, accepts_transfers boolean,
               coordinator_name text, coordinator_email text, coordinator_phone text)
LANGUAGE plproxy
AS $$
    CLUSTER 'samegoal_nodes';
    RUN ON ALL;
    SELECT * FROM samegoal.sg_directory_export();
$$;

CREATE OR REPLACE FUNCTION samegoal_router.sg_state_summary()
RETURNS TABLE (state text, districts bigint, students bigint, documents bigint,
               file_bytes bigint, transfers bigint)
LANGUAGE plproxy
AS $$
    CLUSTER 'samegoal_nodes';
    RUN ON ALL;
    SELECT * FROM samegoal.sg_state_summary();
$$;

-- Version 1.3: the overdue requests of every node's states. A node whose
-- extension is older has no such function: update every node first.
CREATE OR REPLACE FUNCTION samegoal_router.sg_overdue_requests()
RETURNS TABLE (state text, sending_district_domain text, overdue bigint, oldest_due_on date)
LANGUAGE plproxy
AS $$
    CLUSTER 'samegoal_nodes';
    RUN ON ALL;
    SELECT * FROM samegoal.sg_overdue_requests();
$$;

-- The merged national views, in order.
CREATE OR REPLACE VIEW samegoal_router.national_directory AS
SELECT * FROM samegoal_router.sg_directory_export() ORDER BY state, name, domain;

CREATE OR REPLACE VIEW samegoal_router.national_summary AS
SELECT s.state, s.districts, s.students, s.documents, s.file_bytes, s.transfers
  FROM samegoal_router.sg_state_summary() s
 ORDER BY s.state;

CREATE OR REPLACE VIEW samegoal_router.national_overdue AS
SELECT o.state, o.sending_district_domain, o.overdue, o.oldest_due_on
  FROM samegoal_router.sg_overdue_requests() o
 ORDER BY o.state, o.sending_district_domain;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal_router FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samegoal_router.sg_directory_export(), samegoal_router.sg_state_summary(),
    samegoal_router.sg_overdue_requests()
    TO samegoal_reporting;
GRANT SELECT ON samegoal_router.national_directory, samegoal_router.national_summary,
    samegoal_router.national_overdue,
    samegoal_router.state_nodes TO samegoal_reporting;
