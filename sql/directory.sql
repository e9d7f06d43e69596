-- sg_find_district: the district directory an admin searches for the receiving
-- district.
\set VERBOSITY terse
-- pg_trgm may be installed already, and CASCADE then says nothing.
SET client_min_messages = warning;
SELECT NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_trgm') AS trgm_was_absent \gset
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/roles.sql
\i test/fixtures/districts.sql
\i test/fixtures/directory.sql
\set ECHO all
-- test/fixtures/directory.sql adds Oregon districts for every rank of the search
-- "oakwood", names with %, _ and \, one district with a partial coordinator
-- contact, 25 fillers, and switches Cedar's transfers off.

-- The result columns are the directory's and no others; NULL search is valid.
SELECT pg_get_function_result('samegoal.sg_find_district(text, integer)'::regprocedure);
SELECT pg_get_function_arguments('samegoal.sg_find_district(text, integer)'::regprocedure);
SELECT proisstrict, proretset FROM pg_proc WHERE oid = 'samegoal.sg_find_district(text, integer)'::regprocedure;

SET ROLE regress_sg_app;

-- Refused to a session that is not acting, and to an acting user who is no admin.
BEGIN;
SELECT * FROM samegoal.sg_find_district('oakwood');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SELECT * FROM samegoal.sg_find_district('oakwood');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SELECT * FROM samegoal.sg_find_district(NULL, 0);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');

-- Ranks: exact domain, domain prefix, name or word prefix, substring, similarity;
-- ties by name, the similar ones most similar first. Washington's Oakwood is of
-- another state.
SELECT domain, name, city, state, accepts_transfers FROM samegoal.sg_find_district('oakwood');
-- Case and surrounding blanks do not matter.
SELECT array_agg(domain) = (SELECT array_agg(domain) FROM samegoal.sg_find_district('oakwood')) AS same
  FROM samegoal.sg_find_district(E' OAKWOOD\t');
-- Only a domain starts with "oakwoods"; everything else is merely similar.
SELECT domain, name FROM samegoal.sg_find_district('oakwoods');

-- max_results: 1 to 1000.
SELECT domain FROM samegoal.sg_find_district('oakwood', 1);
SELECT domain FROM samegoal.sg_find_district('oakwood', 3);
SELECT count(*) FROM samegoal.sg_find_district('oakwood', 1000);
SELECT count(*) FROM samegoal.sg_find_district('district', 1000);
SELECT count(*) FROM samegoal.sg_find_district('district');
SAVEPOINT s;
SELECT * FROM samegoal.sg_find_district('oakwood', 0);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM samegoal.sg_find_district('oakwood', 1001);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM samegoal.sg_find_district('oakwood', -1);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM samegoal.sg_find_district('oakwood', NULL);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT * FROM samegoal.sg_find_district(NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;

-- NULL or blank search lists the state's districts by name, without the acting
-- district (Maple) and without other states' districts.
SELECT domain, name, accepts_transfers FROM samegoal.sg_find_district(NULL, 8);
SELECT count(*) FROM samegoal.sg_find_district(NULL);
SELECT count(*) FROM samegoal.sg_find_district(NULL, 1000);
SELECT array_agg(domain) = (SELECT array_agg(domain) FROM samegoal.sg_find_district(NULL, 1000)) AS same
  FROM samegoal.sg_find_district('', 1000);
SELECT array_agg(domain) = (SELECT array_agg(domain) FROM samegoal.sg_find_district(NULL, 1000)) AS same
  FROM samegoal.sg_find_district(E' \t\r\n ', 1000);

-- The acting district itself is never listed, not even by its exact domain.
SELECT domain FROM samegoal.sg_find_district('maple.k12.example');
SELECT domain FROM samegoal.sg_find_district('maple');
SELECT domain FROM samegoal.sg_find_district('mapel valley');
-- Other states' districts are not listed, whatever the search.
SELECT domain FROM samegoal.sg_find_district('pine.k12.example');
SELECT domain FROM samegoal.sg_find_district('washington');

-- Districts that have switched transfers off are listed and say so; coordinator
-- fields are NULL where not provided (blank counts as not provided).
SELECT * FROM samegoal.sg_find_district('cedar');
SELECT * FROM samegoal.sg_find_district('elmside');

-- %, _ and \ stand for themselves.
SELECT domain, name FROM samegoal.sg_find_district('%');
-- (Filler District 10 is similar: "10" looks like "100".)
SELECT domain, name FROM samegoal.sg_find_district('100%');
SELECT domain, name FROM samegoal.sg_find_district('_');
SELECT domain, name FROM samegoal.sg_find_district('r_s');
SELECT domain, name FROM samegoal.sg_find_district('\');
SELECT domain, name FROM samegoal.sg_find_district('k\s');
-- Long enough for the trigram indexes: the decoys sort first, so they come first
-- only if they match as substrings. (Filler District 10 follows by similarity:
-- "100" is the one word of three characters or more, and looks like "10".)
SELECT domain, name FROM samegoal.sg_find_district('nt 100% d');
SELECT domain, name FROM samegoal.sg_find_district('under_score');
SELECT domain, name FROM samegoal.sg_find_district('back\slash');
SELECT domain, name FROM samegoal.sg_find_district('%_%');
SELECT domain, name FROM samegoal.sg_find_district('%%%%');

-- Typos: in a name, in a domain.
SELECT domain, name FROM samegoal.sg_find_district('ceder falls', 3);
SELECT domain, name FROM samegoal.sg_find_district('cedra.k12.example', 3);
SELECT domain, name FROM samegoal.sg_find_district('oakwood heihgts', 1);
COMMIT;

-- Seen from Cedar: Maple with every coordinator field, and Maple by a typo.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT * FROM samegoal.sg_find_district('maple');
SELECT domain, name FROM samegoal.sg_find_district('mapel', 1);
SELECT domain, name FROM samegoal.sg_find_district('mapel valey', 1);
SELECT domain, name FROM samegoal.sg_find_district('mapel.k12.example', 1);
COMMIT;

-- Seen from Washington: only Washington's districts.
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
SELECT domain, name FROM samegoal.sg_find_district(NULL);
SELECT domain, name FROM samegoal.sg_find_district('oakwood');
SELECT domain, name FROM samegoal.sg_find_district('cedar.k12.example');
COMMIT;

-- Hostile searches: long, only wildcards, control and other characters.
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_find_district(repeat('x', 1000000));
SELECT count(*) FROM samegoal.sg_find_district(repeat('%', 1000000));
SELECT count(*) FROM samegoal.sg_find_district(repeat('_\', 500000));
SELECT count(*) FROM samegoal.sg_find_district(repeat('oakwood district ', 60000));
SELECT count(*) FROM samegoal.sg_find_district(repeat('école 🏫 ', 100000));
SELECT count(*) FROM samegoal.sg_find_district(E'\x01\x02\x7f');
SELECT count(*) FROM samegoal.sg_find_district(E'\u00a0');
SELECT count(*) FROM samegoal.sg_find_district('[a-z]*.+?(){}|^$');
COMMIT;
RESET ROLE;

-- A state without its version row in samegoal.directory_states (after a
-- TRUNCATE, or districts restored without their triggers; Oregon is large, so
-- its similar rank comes from a copy in memory): the search makes the row
-- again and reads the copy under it. In a read-only transaction, which cannot
-- write it, the search reads the state by SQL. The results are the same; each
-- search below is a statement of its own (\gexec).
SET ROLE regress_sg_app;
CREATE TEMP TABLE directory_expected (search text PRIMARY KEY, domains text[]);
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') IS NOT NULL AS acting;
INSERT INTO directory_expected
SELECT s.search, ARRAY(SELECT domain FROM samegoal.sg_find_district(s.search, 1000))
  FROM unnest(ARRAY['oakwood', 'oakwoods', 'ceder falls', 'cedra.k12.example',
                    'oakwood heihgts', 'elsmide', 'nt 100% d', 'district']) s(search);
COMMIT;
SELECT search, cardinality(domains) FROM directory_expected ORDER BY search;
RESET ROLE;
TRUNCATE samegoal.directory_states;
SET ROLE regress_sg_app;
BEGIN READ ONLY;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') IS NOT NULL AS acting;
SELECT format('SELECT search, ARRAY(SELECT domain FROM samegoal.sg_find_district(search, 1000)) = domains AS same'
              ' FROM directory_expected WHERE search = %L', search)
  FROM directory_expected ORDER BY search \gexec
COMMIT;
RESET ROLE;
SELECT state, version FROM samegoal.directory_states;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') IS NOT NULL AS acting;
SELECT format('SELECT search, ARRAY(SELECT domain FROM samegoal.sg_find_district(search, 1000)) = domains AS same'
              ' FROM directory_expected WHERE search = %L', search)
  FROM directory_expected ORDER BY search \gexec
COMMIT;
RESET ROLE;
SELECT state, version FROM samegoal.directory_states WHERE state = 'OR';
-- A DELETE of one state's row: the same.
DELETE FROM samegoal.directory_states WHERE state = 'OR';
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') IS NOT NULL AS acting;
SELECT format('SELECT search, ARRAY(SELECT domain FROM samegoal.sg_find_district(search, 1000)) = domains AS same'
              ' FROM directory_expected WHERE search = %L', search)
  FROM directory_expected ORDER BY search \gexec
COMMIT;
RESET ROLE;
SELECT state, version FROM samegoal.directory_states WHERE state = 'OR';
-- Two searches in one statement: the first makes the row, the second, whose
-- snapshot does not see it, reads the state by SQL.
DELETE FROM samegoal.directory_states WHERE state = 'OR';
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') IS NOT NULL AS acting;
SELECT e.search, ARRAY(SELECT domain FROM samegoal.sg_find_district(e.search, 1000)) = e.domains AS same
  FROM directory_expected e ORDER BY e.search;
COMMIT;
RESET ROLE;
SELECT state, version FROM samegoal.directory_states WHERE state = 'OR';
DROP TABLE directory_expected;

-- A role without samegoal_app cannot call it.
SET ROLE regress_sg_outsider;
SELECT * FROM samegoal.sg_find_district('oakwood');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- A new session: pg_trgm is not loaded yet when the search sets its threshold.
-- "elsmide" scores 0.33 against "Elmside", below pg_trgm's default of 0.6.
\c
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT domain, name FROM samegoal.sg_find_district('elsmide');
-- The search leaves the session's settings as they were.
SHOW pg_trgm.word_similarity_threshold;
SHOW search_path;
COMMIT;
RESET ROLE;

-- pg_trgm moved to another schema: the search follows it.
SELECT n.nspname AS trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_trgm' \gset
CREATE SCHEMA regress_sg_trgm;
ALTER EXTENSION pg_trgm SET SCHEMA regress_sg_trgm;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT domain, name FROM samegoal.sg_find_district('elsmide');
COMMIT;
RESET ROLE;
ALTER EXTENSION pg_trgm SET SCHEMA :"trgm_schema";
DROP SCHEMA regress_sg_trgm;

-- The search is served by the trigram indexes, and by the index on state and
-- domain in bytewise order.
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) LIKE '%gin_trgm_ops%' AS trigram
  FROM pg_index WHERE indrelid = 'samegoal.districts'::regclass ORDER BY indexrelid;

DROP EXTENSION samegoal_transfer;
\if :trgm_was_absent
DROP EXTENSION pg_trgm;
\endif
DROP ROLE regress_sg_app;
DROP ROLE regress_sg_outsider;
