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
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS plproxy;
CREATE SCHEMA IF NOT EXISTS samegoal_router;

-- Who may read the merged reports on the router (roles are per cluster).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'samegoal_reporting') THEN
        CREATE ROLE samegoal_reporting NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA samegoal_router TO samegoal_reporting;

-- The state -> node map: the router's record of where each state lives, and
-- what the pgbouncer configuration (one pool per state) is generated from.
CREATE TABLE IF NOT EXISTS samegoal_router.state_nodes (
    state       text PRIMARY KEY CHECK (state ~ '^[A-Z]{2}$'),
    node_no     integer NOT NULL CHECK (node_no BETWEEN 0 AND 8191),
    conninfo    text NOT NULL
);
COMMENT ON TABLE samegoal_router.state_nodes IS
'Which node serves each state: its node number (samegoal.sg_node() there) and connection string';

-- The PL/Proxy cluster: one partition per node, in the order given.
SELECT format('CREATE SERVER samegoal_nodes FOREIGN DATA WRAPPER plproxy OPTIONS (connection_lifetime %L, %s)',
              '1800',
              (SELECT string_agg(format('p%s %L', n - 1, c), ', ' ORDER BY n)
                 FROM unnest(ARRAY[:nodes]) WITH ORDINALITY AS t(c, n)))
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_foreign_server WHERE srvname = 'samegoal_nodes')
\gexec
SELECT format('CREATE USER MAPPING IF NOT EXISTS FOR PUBLIC SERVER samegoal_nodes OPTIONS (user %L, password %L)',
              :'reporting_user', :'reporting_password')
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

-- The merged national views, in order.
CREATE OR REPLACE VIEW samegoal_router.national_directory AS
SELECT * FROM samegoal_router.sg_directory_export() ORDER BY state, name, domain;

CREATE OR REPLACE VIEW samegoal_router.national_summary AS
SELECT s.state, s.districts, s.students, s.documents, s.file_bytes, s.transfers
  FROM samegoal_router.sg_state_summary() s
 ORDER BY s.state;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal_router FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samegoal_router.sg_directory_export(), samegoal_router.sg_state_summary()
    TO samegoal_reporting;
GRANT SELECT ON samegoal_router.national_directory, samegoal_router.national_summary,
    samegoal_router.state_nodes TO samegoal_reporting;
