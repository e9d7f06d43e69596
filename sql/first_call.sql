-- The session's first call of sg_act_as, or of anything of the module, made
-- inside a subtransaction of a transaction block: a SAVEPOINT (as ORMs nest
-- transactions and test frameworks wrap each test), a PL/pgSQL EXCEPTION
-- block, a procedure. Each case runs in a new session (\c), so the module is
-- loaded right there. Inside a transaction block every call works; outside
-- one, 25P01, except where the module cannot know (it was loaded inside a
-- subtransaction of a statement run alone), where the call is accepted and the
-- identity ends with the statement.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all

-- after SAVEPOINT, the first statement of the session that loads the module
\c
SET ROLE regress_sg_app;
BEGIN;
SAVEPOINT s;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting;
SELECT count(*) AS maple_documents FROM samegoal.documents;
RELEASE SAVEPOINT s;
SELECT samegoal.sg_current_district_id() AS district;
COMMIT;
SELECT samegoal.sg_current_district_id() IS NULL AS ended;

-- nested savepoints, rolled back to: the identity goes with the savepoint
\c
SET ROLE regress_sg_app;
BEGIN;
SAVEPOINT a;
SAVEPOINT b;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') AS acting;
ROLLBACK TO SAVEPOINT a;
SELECT samegoal.sg_current_district_id() IS NULL AS undone;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') AS acting_again;
COMMIT;

-- the module first loaded by a row-level security policy inside a savepoint
\c
SET ROLE regress_sg_app;
BEGIN;
SAVEPOINT s;
SELECT count(*) AS nothing_seen FROM samegoal.documents;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting;
COMMIT;

-- inside a PL/pgSQL EXCEPTION block within BEGIN
\c
SET ROLE regress_sg_app;
BEGIN;
DO $$
BEGIN
    BEGIN
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
END
$$;
SELECT samegoal.sg_current_district_id() AS district;
COMMIT;

-- a procedure called inside a transaction block, acting in an EXCEPTION block
\c
CREATE PROCEDURE pg_temp.act_in_block() LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
END
$$;
BEGIN;
CALL pg_temp.act_in_block();
SELECT samegoal.sg_current_district_id() AS district;
COMMIT;

-- outside a transaction block, the first call at the top level: 25P01
\c
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
-- and once the module is loaded, in an EXCEPTION block of a statement run alone
DO $$
BEGIN
    BEGIN
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
END
$$;

-- the one case the module cannot know: loaded inside that EXCEPTION block, of
-- a statement run alone. The call is accepted; the identity ends with the
-- statement.
\c
SET ROLE regress_sg_app;
DO $$
BEGIN
    BEGIN
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
        RAISE NOTICE 'acting as district %', samegoal.sg_current_district_id();
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
END
$$;
SELECT samegoal.sg_current_district_id() IS NULL AS ended;
-- the next statement of the session is observed: 25P01 again
DO $$
BEGIN
    BEGIN
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
END
$$;

-- loaded in advance (LOAD, or session_preload_libraries): exact from the start
\c
LOAD 'samegoal_transfer';
SET ROLE regress_sg_app;
DO $$
BEGIN
    BEGIN
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
END
$$;

\c
DROP EXTENSION samegoal_transfer;
DROP EXTENSION pg_trgm;
DROP ROLE regress_sg_app, regress_sg_outsider;
