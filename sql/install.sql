-- Installing and updating in a hostile database: a role that may create objects
-- in public (as any role may in databases created before PostgreSQL 15) plants
-- operators and functions there, and a role that may create schemas squats the
-- extension's schema. None of what they planted may run as the superuser who
-- installs or updates, and a squatted schema is refused.
\set VERBOSITY terse
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS samegoal;
DROP EXTENSION IF EXISTS pg_trgm;
CREATE EXTENSION pg_trgm SCHEMA public;
RESET client_min_messages;

CREATE ROLE regress_sg_planter LOGIN;
GRANT CREATE ON SCHEMA public TO regress_sg_planter;

-- Every call of a planted object leaves a row here.
CREATE TABLE public.sg_planted_calls (what text);
GRANT INSERT ON public.sg_planted_calls TO PUBLIC;

SET ROLE regress_sg_planter;
-- Comparison operators for every pairing of the oid, reg* and text types (the
-- pairings without a built-in operator are the ones a parser would pick from
-- public; the others win when public comes first in search_path), and functions
-- of the names the scripts call, for argument types that would match more
-- exactly than the built-in ones.
DO $$
DECLARE
    types text[] := ARRAY['oid', 'regclass', 'regnamespace', 'regproc', 'regprocedure',
                          'regtype', 'regrole', 'regoper', 'regoperator', 'regcollation',
                          'regconfig', 'text', 'name', 'varchar', '"char"', 'bigint'];
    ops text[] := ARRAY['=', '<>', '<', '>', '<=', '>=', '~', '~~'];
    names text[] := ARRAY['lower', 'upper', 'btrim', 'char_length', 'length', 'format',
                          'unnest', 'split_part', 'cardinality', 'array_position', 'count',
                          'max', 'string_agg', 'show_trgm', 'pg_extension_config_dump',
                          'set_config', 'json_build_object', 'pg_notify', 'quote_ident',
                          'regexp_replace', 'substr', 'position', 'strpos', 'starts_with'];
    argtypes text[] := ARRAY['name', 'varchar', '"char"', 'regclass', 'oid', 'anyelement',
                             'anyarray', 'bigint[]', 'text[]', 'integer', 'bigint'];
    n integer := 0;
    l text;
    r text;
    op text;
    f text;
    a text;
BEGIN
    FOREACH l IN ARRAY types LOOP
        FOREACH r IN ARRAY types LOOP
            n := n + 1;
            EXECUTE format('CREATE FUNCTION public.sg_planted_op_%s(%s, %s) RETURNS boolean LANGUAGE plpgsql AS %L',
                           n, l, r,
                           format('BEGIN INSERT INTO public.sg_planted_calls VALUES (%L); RETURN NULL; END',
                                  l || ' op ' || r));
            FOREACH op IN ARRAY ops LOOP
                EXECUTE format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.sg_planted_op_%s)',
                               op, l, r, n);
            END LOOP;
        END LOOP;
    END LOOP;
    FOREACH f IN ARRAY names LOOP
        FOREACH a IN ARRAY argtypes LOOP
            BEGIN
                EXECUTE format('CREATE FUNCTION public.%I(%s) RETURNS text LANGUAGE plpgsql AS %L',
                               f, a,
                               format('BEGIN INSERT INTO public.sg_planted_calls VALUES (%L); RETURN NULL; END',
                                      f || '(' || a || ')'));
            EXCEPTION WHEN duplicate_function THEN
                NULL;   -- pg_trgm's own show_trgm(text) lives in public too
            END;
        END LOOP;
    END LOOP;
END
$$;
RESET ROLE;
-- This file's own queries name pg_catalog's operators: the planted ones would
-- capture them too.
SELECT count(*) AS planted_operators FROM pg_operator
 WHERE oprnamespace OPERATOR(pg_catalog.=) 'public'::regnamespace::oid;
SELECT count(*) AS planted_functions FROM pg_proc
 WHERE proowner OPERATOR(pg_catalog.=) 'regress_sg_planter'::regrole::oid;

-- The most hostile search_path an installing session could have: public first.
SET search_path = public, pg_catalog;
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer;
RESET client_min_messages;

-- Use everything once, so that stored expressions (defaults, checks, policies,
-- views, indexes, triggers) run too.
\set ECHO none
\i test/fixtures/districts.sql
\set ECHO all
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cteacher');
SELECT count(*) FROM samegoal.sg_find_district('cedar');
SELECT samegoal.sg_set_transfer_coordinator('Dana Reyes', 'transfers@maple.k12.example', NULL);
SELECT samegoal.sg_delete_documents(ARRAY[4]);
SELECT samegoal.sg_purge_documents(ARRAY[4]);
SELECT count(*) FROM samegoal.documents;
COMMIT;
SELECT count(*) FROM samegoal.purge_vacuum_status;
SELECT what FROM public.sg_planted_calls;

-- Updating from 1.0 in the same database runs none of them either.
DROP EXTENSION samegoal_transfer;
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer VERSION '1.0';
\set ECHO none
\i test/fixtures/districts.sql
\set ECHO all
ALTER EXTENSION samegoal_transfer UPDATE;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname OPERATOR(pg_catalog.=) 'samegoal_transfer';
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cteacher');
COMMIT;
SELECT what FROM public.sg_planted_calls;
RESET search_path;
DROP EXTENSION samegoal_transfer;

-- The planted objects go; the table stays for the squatter below.
DO $$
DECLARE
    obj record;
BEGIN
    FOR obj IN SELECT oid::regoperator AS o FROM pg_operator
                WHERE oprowner OPERATOR(pg_catalog.=) 'regress_sg_planter'::regrole::oid LOOP
        EXECUTE format('DROP OPERATOR %s', obj.o);
    END LOOP;
    FOR obj IN SELECT oid::regprocedure AS p FROM pg_proc
                WHERE proowner OPERATOR(pg_catalog.=) 'regress_sg_planter'::regrole::oid LOOP
        EXECUTE format('DROP FUNCTION %s', obj.p);
    END LOOP;
END
$$;

-- A schema samegoal created beforehand by a role that is not a superuser is
-- refused, with a hint; nothing is installed.
DROP SCHEMA samegoal;
CREATE ROLE regress_sg_squatter LOGIN;
\set ECHO none
-- (the database's name is left out of the output)
SELECT format('GRANT CREATE ON DATABASE %I TO regress_sg_squatter', current_database()) \gexec
\set ECHO all
SET ROLE regress_sg_squatter;
CREATE SCHEMA samegoal;
RESET ROLE;
-- (its context left out: 18 adds the script's statement and line to it)
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE EXTENSION samegoal_transfer;
\set SHOW_CONTEXT errors
\set VERBOSITY terse
SELECT count(*) FROM pg_extension WHERE extname = 'samegoal_transfer';

-- Every version refuses the squatted schema, 1.0 included.
CREATE EXTENSION samegoal_transfer VERSION '1.0';
CREATE EXTENSION samegoal_transfer VERSION '1.1';
SELECT count(*) FROM pg_extension WHERE extname = 'samegoal_transfer';

-- The C code uses only the extension's own objects. A schema samegoal given to
-- a role after the install (as a careless DBA might) lets that role create a
-- view samegoal.node_states in a 1.1 database, where the extension has no such
-- table: sg_act_as, run by a superuser here, never reads it.
DROP SCHEMA samegoal;
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer VERSION '1.1';
RESET client_min_messages;
INSERT INTO samegoal.districts (domain, name, city, state) VALUES ('maple.k12.example', 'Maple', 'Salem', 'OR');
INSERT INTO samegoal.users (district_id, username, is_admin) VALUES (1, 'madmin', true);
ALTER SCHEMA samegoal OWNER TO regress_sg_squatter;
SET ROLE regress_sg_squatter;
CREATE FUNCTION samegoal.sg_planted_fence() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.sg_planted_calls VALUES ('node_states view as ' || current_user);
    RETURN 'moved_out';
END $$;
CREATE VIEW samegoal.node_states AS SELECT 'OR'::text AS state, samegoal.sg_planted_fence() AS status;
RESET ROLE;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') > 0 AS acting;
COMMIT;
SELECT count(*) AS planted_calls FROM public.sg_planted_calls;
DROP VIEW samegoal.node_states;
DROP FUNCTION samegoal.sg_planted_fence();
ALTER SCHEMA samegoal OWNER TO CURRENT_USER;

DROP EXTENSION samegoal_transfer;
DROP EXTENSION pg_trgm;
DROP TABLE public.sg_planted_calls;
REVOKE CREATE ON SCHEMA public FROM regress_sg_planter;
\set ECHO none
-- (the database's name is left out of the output)
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_sg_squatter', current_database()) \gexec
\set ECHO all
DROP ROLE regress_sg_planter;
DROP ROLE regress_sg_squatter;
