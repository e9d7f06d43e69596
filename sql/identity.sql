-- The acting identity: sg_act_as, sg_current_user_id, sg_current_district_id,
-- across COMMIT, ROLLBACK and savepoints, and every way of forging it.
\set VERBOSITY terse

-- Before the module is loaded, anyone may create a placeholder setting under the
-- samegoal prefix. It must not become an identity once the module loads.
CREATE ROLE regress_sg_early LOGIN;
-- (a new session that becomes the role: it needs no password of its own,
-- whatever the server's authentication)
\c
SET SESSION AUTHORIZATION regress_sg_early;
SET samegoal.acting_identity = '1,1';
SET samegoal.user_id = '1';
\c

SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all
GRANT samegoal_app TO regress_sg_early;

-- a placeholder set before loading is dropped with a warning when the module loads
\c
SET SESSION AUTHORIZATION regress_sg_early;
SET samegoal.acting_identity = '4,2';
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
SELECT count(*) FROM samegoal.documents;
-- (the message's wording changed in 16; the SQLSTATE did not)
\set VERBOSITY sqlstate
SHOW samegoal.acting_identity;
\set VERBOSITY terse
SET samegoal.acting_identity = '4,2';
SET samegoal.user_id = '1';
\c
DROP ROLE regress_sg_early;

SET ROLE regress_sg_app;

-- not acting: no identity, no rows
SELECT samegoal.sg_current_user_id() IS NULL AS no_user,
       samegoal.sg_current_district_id() IS NULL AS no_district;

-- outside a transaction block
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');

-- inside one: case-insensitive domain with surrounding blanks, username or email
BEGIN;
SELECT samegoal.sg_act_as('  MAPLE.K12.Example ', 'MAdmin');
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
SELECT samegoal.sg_act_as('cedar.k12.example', 'TEACHER@cedar.k12.example');
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
COMMIT;
-- gone after COMMIT
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();

BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
ROLLBACK;
-- gone after ROLLBACK
SELECT samegoal.sg_current_user_id();

-- savepoints: ROLLBACK TO undoes a later sg_act_as, RELEASE keeps it
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SAVEPOINT s1;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_current_user_id();
ROLLBACK TO SAVEPOINT s1;
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
SAVEPOINT s2;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
RELEASE SAVEPOINT s2;
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
-- a failed call inside a savepoint leaves the identity as it was
SAVEPOINT s3;
SELECT samegoal.sg_act_as('cedar.k12.example', 'nobody');
ROLLBACK TO SAVEPOINT s3;
SELECT samegoal.sg_current_user_id();
COMMIT;

-- the same refusal for an unknown domain, an unknown login, an inactive user and NULLs
BEGIN;
SELECT samegoal.sg_act_as('nowhere.k12.example', 'madmin');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'nobody');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mformer');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'former@maple.k12.example');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as(NULL, 'madmin');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', NULL);
ROLLBACK;
-- a user of another district is unknown in this one
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'cadmin');
ROLLBACK;
-- hostile strings are data
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example'' OR ''1''=''1', 'madmin'' --');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('%', '%');
ROLLBACK;

-- forging the identity as a non-superuser: SET, SET LOCAL, set_config, RESET
SET samegoal.acting_identity = '1,1';
BEGIN;
SET LOCAL samegoal.acting_identity = '1,1';
ROLLBACK;
SELECT set_config('samegoal.acting_identity', '1,1', false);
SELECT set_config('samegoal.acting_identity', '1,1', true);
RESET samegoal.acting_identity;
-- RESET ALL and DISCARD ALL pass over it (and reset the role, so set it again)
RESET ALL;
SET ROLE regress_sg_app;
DISCARD ALL;
SET ROLE regress_sg_app;
SELECT current_user;
SET samegoal.user_id = '1';
SET samegoal.district_id = '1';
SELECT set_config('samegoal.anything', 'x', false);
-- while acting, a forging attempt fails and leaves the identity unchanged
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
SAVEPOINT f;
SET LOCAL samegoal.acting_identity = '1,1';
ROLLBACK TO SAVEPOINT f;
RESET ALL;
SET LOCAL ROLE regress_sg_app;
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
SELECT count(*) AS visible_documents FROM samegoal.documents;
COMMIT;
-- a function's SET clause cannot carry it either
CREATE FUNCTION pg_temp.forge() RETURNS bigint LANGUAGE sql
    SET samegoal.acting_identity = '1,1' AS 'SELECT samegoal.sg_current_user_id()';
RESET ROLE;

-- a superuser cannot forge it either: only sg_act_as assigns it
SET samegoal.acting_identity = '1,1';
BEGIN;
SET LOCAL samegoal.acting_identity = '1,1';
ROLLBACK;
SELECT set_config('samegoal.acting_identity', '1,1', true);
SELECT samegoal.sg_current_user_id();
ALTER ROLE regress_sg_app SET samegoal.acting_identity = '1,1';
-- ...but may act
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
COMMIT;

-- a role that is not a member of samegoal_app may not act
SET ROLE regress_sg_outsider;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
ROLLBACK;
RESET ROLE;
GRANT USAGE ON SCHEMA samegoal TO regress_sg_outsider;
GRANT EXECUTE ON FUNCTION samegoal.sg_act_as(text, text) TO regress_sg_outsider;
SET ROLE regress_sg_outsider;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
ROLLBACK;
RESET ROLE;

-- the identity survives into parallel workers, which copy the leader's settings
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
-- (force_parallel_mode before 16, debug_parallel_query since)
SELECT set_config(CASE WHEN current_setting('server_version_num')::int < 160000
                       THEN 'force_parallel_mode' ELSE 'debug_parallel_query' END, 'on', true);
EXPLAIN (COSTS OFF) SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
SELECT samegoal.sg_current_user_id(), samegoal.sg_current_district_id();
ROLLBACK;

-- A session keeps the identities it looked up: the second call for the same
-- arguments searches no index of users or districts (it reads the cached rows
-- by ctid), as this transaction's own scan counts show.
\c
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher') > 0 AS acting;
SELECT sum(idx_scan) AS index_scans_after_one FROM pg_stat_xact_user_tables
 WHERE relid IN ('samegoal.users'::regclass, 'samegoal.districts'::regclass) \gset
SELECT :index_scans_after_one > 0 AS the_first_call_searched;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher') > 0 AS acting;
SELECT sum(idx_scan) - :index_scans_after_one AS index_scans_of_the_second_call FROM pg_stat_xact_user_tables
 WHERE relid IN ('samegoal.users'::regclass, 'samegoal.districts'::regclass);
COMMIT;
RESET ROLE;

-- What signals the sessions' caches of identities: one row trigger on users,
-- for the columns that can give a login another user, firing always (also in
-- logical replication's apply); a SIS sync of names or emails fires nothing.
SELECT t.tgrelid::regclass AS "table", t.tgname,
       pg_get_triggerdef(t.oid) AS definition, t.tgenabled
  FROM pg_trigger t
 WHERE t.tgfoid = 'samegoal.sg_identity_changed()'::regprocedure
 ORDER BY 1, 2;

DROP EXTENSION samegoal_transfer;
DROP SCHEMA samegoal;
DROP ROLE regress_sg_app, regress_sg_outsider;
