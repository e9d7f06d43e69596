-- sg_find_district: the district directory, as the contract describes it.
\set ON_ERROR_STOP true
BEGIN;
\ir ../fixtures/tap_setup.sql
SET LOCAL search_path = public, pg_catalog;
\ir ../fixtures/directory.sql

-- Every Oregon district but Maple, by name, read before row-level security applies.
SELECT array_agg(domain ORDER BY name, domain) AS oregon_but_maple
  FROM samegoal.districts WHERE state = 'OR' AND domain <> 'maple.k12.example' \gset

SELECT plan(110);

-- The interface: arguments, result columns and nothing else, not STRICT,
-- callable by samegoal_app only.
SELECT has_function('samegoal', 'sg_find_district', ARRAY['text', 'integer']);
SELECT is(pg_get_function_arguments('samegoal.sg_find_district(text, integer)'::regprocedure),
          'search text, max_results integer DEFAULT 20', 'arguments and default');
SELECT is((SELECT array_agg(n ORDER BY i)
             FROM pg_proc, unnest(proargnames, proargmodes) WITH ORDINALITY u(n, m, i)
            WHERE oid = 'samegoal.sg_find_district(text, integer)'::regprocedure AND m = 't'),
          ARRAY['domain', 'name', 'city', 'state', 'accepts_transfers',
                'coordinator_name', 'coordinator_email', 'coordinator_phone']::text[],
          'the directory columns and no others');
SELECT is(pg_get_function_result('samegoal.sg_find_district(text, integer)'::regprocedure),
          'TABLE(domain text, name text, city text, state text, accepts_transfers boolean, '
          'coordinator_name text, coordinator_email text, coordinator_phone text)',
          'column types');
SELECT isnt_strict('samegoal', 'sg_find_district', ARRAY['text', 'integer'], 'not STRICT: NULL search is valid');
SELECT ok(has_function_privilege('samegoal_app', 'samegoal.sg_find_district(text, integer)', 'EXECUTE'),
          'samegoal_app may execute it');
SELECT ok(NOT has_function_privilege('regress_sg_outsider', 'samegoal.sg_find_district(text, integer)', 'EXECUTE'),
          'others may not');

-- Refusals.
SET LOCAL ROLE regress_sg_outsider;
SELECT throws_ok($$SELECT * FROM samegoal.sg_find_district('oakwood')$$, '42501', NULL,
                 'a role without samegoal_app is refused');
SET LOCAL ROLE regress_sg_app;
SELECT throws_ok($$SELECT * FROM samegoal.sg_find_district('oakwood')$$, '42501', NULL,
                 'a session that is not acting is refused');
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher') AS acting \gset
SELECT throws_ok($$SELECT * FROM samegoal.sg_find_district('oakwood')$$, '42501', NULL,
                 'an acting user who is not an admin is refused');
SELECT throws_ok($$SELECT * FROM samegoal.sg_find_district(NULL)$$, '42501', NULL,
                 'an acting user who is not an admin is refused the listing too');

SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting \gset

-- Ranking.
SELECT results_eq(
    $$SELECT domain FROM samegoal.sg_find_district('oakwood')$$,
    ARRAY['OakWood', 'oakwoodsd.k12.example', 'n5.k12.example', 'n3.k12.example',
          'n2.k12.example', 'n1.k12.example', 'westoakwood.k12.example', 'n4.k12.example',
          't1.k12.example', 't2.k12.example', 't3.k12.example'],
    'exact domain, domain prefix, name or word prefix, substring, similarity; ties by name');
SELECT results_eq(
    $$SELECT domain FROM samegoal.sg_find_district('oakwood', 2)$$,
    ARRAY['OakWood', 'oakwoodsd.k12.example'],
    'the exact domain ranks above a domain prefix whose name sorts first');
SELECT results_eq(
    $$SELECT name FROM samegoal.sg_find_district('oakwood', 6) OFFSET 1$$,
    ARRAY['Yarrow District', 'Elm/Oakwood Joint District', 'Mid-Oakwood District',
          'North Oakwood District', 'Oakwood Heights District'],
    'a domain prefix ranks above name prefixes; name and word prefixes share a rank, by name');
SELECT results_eq(
    $$SELECT name FROM samegoal.sg_find_district('oakwood', 8) OFFSET 5$$,
    ARRAY['Oakwood Heights District', 'Kestrel District', 'Lakeoakwood District'],
    'a name prefix ranks above substrings of domain and name, which share a rank, by name');
SELECT results_eq(
    $$SELECT name FROM samegoal.sg_find_district('oakwood') OFFSET 7$$,
    ARRAY['Lakeoakwood District', 'Oakwod District', 'Bakwood District', 'Aokwood District'],
    'substrings rank above similar names, which come most similar first');
SELECT results_eq(
    $$SELECT domain FROM samegoal.sg_find_district(E' OAKWOOD\t')$$,
    $$SELECT domain FROM samegoal.sg_find_district('oakwood')$$,
    'case and surrounding blanks do not matter');

-- Typos.
SELECT is((SELECT domain FROM samegoal.sg_find_district('ceder falls', 1)), 'cedar.k12.example',
          'a typo in a name');
SELECT is((SELECT domain FROM samegoal.sg_find_district('oakwood heihgts', 1)), 'n1.k12.example',
          'a typo in a later word of a name');
SELECT is((SELECT domain FROM samegoal.sg_find_district('cedra.k12.example', 1)), 'cedar.k12.example',
          'a typo in a domain');
SELECT is((SELECT domain FROM samegoal.sg_find_district('elsmide', 1)), 'elm.k12.example',
          'two letters swapped in the middle of a word');

-- The search is literal.
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('%')$$,
                  ARRAY['pct.k12.example'], '% matches only itself');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('_')$$,
                  ARRAY['us.k12.example'], '_ matches only itself');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('r_s')$$,
                  ARRAY['us.k12.example'], '_ inside a search matches only itself');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('\')$$,
                  ARRAY['bs.k12.example'], '\ matches only itself');
-- Long enough for the trigram indexes; the decoys sort first, so they would come
-- first if they matched as substrings.
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('nt 100% d', 2)$$,
                  ARRAY['pct.k12.example', 'pct2.k12.example'], '% in a longer search matches only itself');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('under_score')$$,
                  ARRAY['us.k12.example', 'us2.k12.example'], '_ in a longer search matches only itself');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('back\slash')$$,
                  ARRAY['bs.k12.example', 'bs2.k12.example'], '\ in a longer search is no escape');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('%_%')$$, 'only wildcards match nothing');

-- Blank and NULL search, max_results.
SELECT results_eq(
    $$SELECT domain FROM samegoal.sg_find_district(NULL, 1000)$$,
    :'oregon_but_maple'::text[],
    'NULL search lists the state''s other districts by name');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('', 1000)$$,
                  $$SELECT domain FROM samegoal.sg_find_district(NULL, 1000)$$,
                  'empty search lists them too');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district(E' \t\r\n', 1000)$$,
                  $$SELECT domain FROM samegoal.sg_find_district(NULL, 1000)$$,
                  'blank search lists them too');
SELECT is((SELECT count(*) FROM samegoal.sg_find_district(NULL)), 20::bigint, 'max_results defaults to 20');
SELECT is((SELECT count(*) FROM samegoal.sg_find_district('district')), 20::bigint,
          'a search returns 20 by default');
SELECT is((SELECT count(*) FROM samegoal.sg_find_district('district', 1)), 1::bigint, 'max_results 1');
SELECT is((SELECT count(*) FROM samegoal.sg_find_district('district', 1000)), 46::bigint,
          'max_results 1000: every other Oregon district');
SELECT throws_ok($$SELECT * FROM samegoal.sg_find_district('oakwood', 0)$$, '22023', NULL, 'max_results 0');
SELECT throws_ok($$SELECT * FROM samegoal.sg_find_district('oakwood', 1001)$$, '22023', NULL, 'max_results 1001');
SELECT throws_ok($$SELECT * FROM samegoal.sg_find_district('oakwood', NULL)$$, '22023', NULL, 'max_results NULL');
SELECT throws_ok($$SELECT * FROM samegoal.sg_find_district(NULL, -5)$$, '22023', NULL, 'max_results negative');

-- Who is listed.
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('maple.k12.example')$$,
                'the acting district is not listed, even by its exact domain');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('mapel valley')$$,
                'nor by a typo in its name');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('pine.k12.example')$$,
                'a district of another state is not listed by its exact domain');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('washington')$$,
                'nor by its name');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('washingtn')$$,
                'nor by a typo in its name');
SELECT results_eq(
    $$SELECT domain, accepts_transfers FROM samegoal.sg_find_district('cedar')$$,
    $$VALUES ('cedar.k12.example', false)$$,
    'a district that has switched transfers off is listed and says so');
SELECT results_eq(
    $$SELECT * FROM samegoal.sg_find_district('elmside', 1)$$,
    $$VALUES ('elm.k12.example', 'Elmside School District', 'Salem', 'OR', false,
              NULL::text, 'transfers@elm.k12.example', NULL::text)$$,
    'coordinator fields not provided (or blank) are NULL');

SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') AS acting \gset
SELECT results_eq(
    $$SELECT * FROM samegoal.sg_find_district('maple')$$,
    $$VALUES ('maple.k12.example', 'Maple Valley School District', 'Salem', 'OR', true,
              'Dana Reyes', 'transfers@maple.k12.example', '503-555-0101')$$,
    'every coordinator field, when provided');
SELECT results_eq(
    $$SELECT coordinator_name, coordinator_email, coordinator_phone
        FROM samegoal.sg_find_district('oakwood heights', 1)$$,
    $$VALUES (NULL::text, NULL::text, NULL::text)$$,
    'no coordinator fields');
SELECT is((SELECT domain FROM samegoal.sg_find_district('mapel', 1)), 'maple.k12.example',
          'Maple by a typo, from Cedar');

SELECT samegoal.sg_act_as('pine.k12.example', 'padmin') AS acting \gset
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district(NULL)$$,
                  ARRAY['oakwood.k12.wa.example'], 'Washington sees only Washington');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('cedar.k12.example')$$,
                'and not Oregon''s districts by domain');

-- Many districts as similar as each other: ties go by name, whichever way they
-- are found. Nevada's 90 Tie Basin districts, inserted in the reverse of their
-- order by name, all hold the word "basin".
RESET ROLE;
INSERT INTO samegoal.districts (domain, name, state) VALUES ('nvadmin.k12.example', 'Carson Admin District', 'NV');
INSERT INTO samegoal.users (district_id, username, is_admin)
SELECT id, 'nvadmin', true FROM samegoal.districts WHERE domain = 'nvadmin.k12.example';
INSERT INTO samegoal.districts (domain, name, state)
SELECT format('tie%s.k12.example', n), format('Tie Basin District %s', lpad(n::text, 2, '0')), 'NV'
  FROM generate_series(90, 1, -1) n;
SET LOCAL ROLE regress_sg_app;
SELECT samegoal.sg_act_as('nvadmin.k12.example', 'nvadmin') AS acting \gset
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('basinn')$$,
                  $$SELECT format('tie%s.k12.example', n) FROM generate_series(1, 20) n$$,
                  '90 districts equally like the search: the first 20 by name');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('basinn', 1000)$$,
                  $$SELECT format('tie%s.k12.example', n) FROM generate_series(1, 90) n$$,
                  'and all 90, by name');

-- A session keeps a state's directory in memory only while nothing changed it:
-- a renamed, a deleted and a new district are seen at once, and a rolled-back
-- change is gone at once.
RESET ROLE;
UPDATE samegoal.districts SET name = 'Tie Bassoon District 01' WHERE domain = 'tie1.k12.example';
SET LOCAL ROLE regress_sg_app;
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('basinn', 2)$$,
                  $$VALUES ('tie2.k12.example'), ('tie3.k12.example')$$,
                  'a renamed district is ranked by its new name at once');
SAVEPOINT before_delete;
RESET ROLE;
DELETE FROM samegoal.districts WHERE domain = 'tie2.k12.example';
SET LOCAL ROLE regress_sg_app;
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('basinn', 2)$$,
                  $$VALUES ('tie3.k12.example'), ('tie4.k12.example')$$,
                  'a deleted district is gone at once');
ROLLBACK TO SAVEPOINT before_delete;
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('basinn', 2)$$,
                  $$VALUES ('tie2.k12.example'), ('tie3.k12.example')$$,
                  'and back once the deletion is rolled back');
RESET ROLE;
INSERT INTO samegoal.districts (domain, name, state) VALUES ('tie0.k12.example', 'Tie Basin District 00', 'NV');
SET LOCAL ROLE regress_sg_app;
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('basinn', 1)$$,
                  $$VALUES ('tie0.k12.example')$$,
                  'a new district is found at once');

-- A state without its version row (after a TRUNCATE of directory_states, or
-- districts restored without their triggers): the search makes the row again
-- and ranks as before; in a read-only transaction, which cannot make it, the
-- search reads the state by SQL, with the same results.
SELECT ARRAY(SELECT domain FROM samegoal.sg_find_district('basinn', 30))::text AS basinn_30 \gset
RESET ROLE;
DELETE FROM samegoal.directory_states WHERE state = 'NV';
SET LOCAL ROLE regress_sg_app;
SELECT is(ARRAY(SELECT domain FROM samegoal.sg_find_district('basinn', 30)), :'basinn_30'::text[],
          'a state whose version row was deleted is ranked as before');
RESET ROLE;
SELECT ok(EXISTS (SELECT FROM samegoal.directory_states WHERE state = 'NV'),
          'and the search made the row again');
UPDATE samegoal.districts SET name = 'Tie Bassoon District 03' WHERE domain = 'tie3.k12.example';
TRUNCATE samegoal.directory_states;
SET LOCAL ROLE regress_sg_app;
SELECT is(ARRAY(SELECT domain FROM samegoal.sg_find_district('basinn', 3)),
          ARRAY['tie0.k12.example', 'tie2.k12.example', 'tie4.k12.example'],
          'after a change and a TRUNCATE of the version rows, the change is seen');
RESET ROLE;
SELECT ok(EXISTS (SELECT FROM samegoal.directory_states WHERE state = 'NV'),
          'and the row is back');
UPDATE samegoal.districts SET name = 'Tie Basin District 03' WHERE domain = 'tie3.k12.example';
SELECT ARRAY(SELECT domain FROM samegoal.sg_find_district('basinn', 30))::text AS basinn_30 \gset
SAVEPOINT read_only;
TRUNCATE samegoal.directory_states;
SET LOCAL transaction_read_only = on;
SET LOCAL ROLE regress_sg_app;
SELECT is(ARRAY(SELECT domain FROM samegoal.sg_find_district('basinn', 30)), :'basinn_30'::text[],
          'in a read-only transaction a state without its version row is ranked as before');
RESET ROLE;
SELECT ok(NOT EXISTS (SELECT FROM samegoal.directory_states WHERE state = 'NV'),
          'and no row is made');
ROLLBACK TO SAVEPOINT read_only;
SET LOCAL ROLE regress_sg_app;

-- Hostile searches.
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting \gset
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district(repeat('x', 1000000))$$, '1 MB of letters');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district(repeat('%_\', 350000))$$, '1 MB of wildcards');
SELECT lives_ok($$SELECT * FROM samegoal.sg_find_district(repeat('oakwood district ', 60000))$$,
                '1 MB of a real name, repeated');
SELECT lives_ok($$SELECT * FROM samegoal.sg_find_district(E'\x01\x7f\u00a0\u0301🏫(){}[]^$.*+?|')$$,
                'control characters, combining marks, emoji, regular expression syntax');

-- Typo tolerance, word by word: every word of three characters or more must be
-- like a word of the name.
SELECT is((SELECT domain FROM samegoal.sg_find_district('rockotn independent', 1)), 'rockton.k12.example',
          'a typo in the first of two words');
SELECT is((SELECT domain FROM samegoal.sg_find_district('rokcton independnt', 1)), 'rockton.k12.example',
          'typos in both words');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('rockotn independent')
                   WHERE domain = 'dunmore.k12.example'$$,
                'a name like only one word of the search does not match');
SELECT results_eq($$SELECT domain FROM samegoal.sg_find_district('rockotn in')$$,
                  ARRAY['rockton.k12.example'],
                  'a word of fewer than three characters, being typed, takes no part');
SELECT is((SELECT domain FROM samegoal.sg_find_district('westoakwod', 1)), 'westoakwood.k12.example',
          'a search of one word is compared with the first label of each domain too');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('kestrl.k12.example')$$,
                'a search that looks like a domain is compared with domains only');
SELECT is((SELECT domain FROM samegoal.sg_find_district('rockton isd', 1)), 'rockton.k12.example',
          'a search of several words is compared with domains too, its words run together');
SELECT lives_ok($$SELECT * FROM samegoal.sg_find_district(repeat('oakwod ', 18))$$,
                'a search of many words (only the first six count)');
SELECT is((SELECT domain FROM samegoal.sg_find_district('oakwod heihgts district dist rict', 1)),
          'n1.k12.example', 'six words, each like a word of the name');

-- The words of a name, as the directory's tables hold them (an internal function:
-- the superuser calls it).
RESET ROLE;
SELECT is(samegoal.sg_directory_words('Elm/Oakwood Joint District'),
          ARRAY['district', 'elm', 'joint', 'oakwood'], 'words: lower-cased, sorted, split at punctuation');
SELECT is(samegoal.sg_directory_words('No. 2 No. 2'), ARRAY['2', 'no'], 'words: once each');
SELECT is(samegoal.sg_directory_words('Coeur d''Alene Cañon-ESPAÑOLA'),
          ARRAY['alene', 'cañon', 'coeur', 'd', 'española'], 'words: letters outside ASCII belong to words');
SELECT is(samegoal.sg_directory_words(' .-/ '), '{}'::text[], 'words: none');
SELECT is(samegoal.sg_directory_words(NULL), NULL, 'words: NULL');

-- The triggers keep the directory's tables, whoever writes districts.
SELECT is_empty($$SELECT d.state, w.word, d.id FROM samegoal.districts d,
                         unnest(samegoal.sg_directory_words(d.name)) w(word)
                  EXCEPT SELECT state, word, district_id FROM samegoal.district_words$$,
                'every word of every name is in district_words');
SELECT is_empty($$SELECT state, word, district_id FROM samegoal.district_words
                  EXCEPT SELECT d.state, w.word, d.id FROM samegoal.districts d,
                         unnest(samegoal.sg_directory_words(d.name)) w(word)$$,
                'and nothing else');
SELECT is_empty($$SELECT d.state, t.trigram, d.id FROM samegoal.districts d,
                         unnest(show_trgm(split_part(lower(d.domain), '.', 1))) t(trigram)
                  EXCEPT SELECT state, trigram, district_id FROM samegoal.district_label_trigrams$$,
                'every trigram of every first label is in district_label_trigrams');
SELECT is_empty($$SELECT state, trigram, district_id FROM samegoal.district_label_trigrams
                  EXCEPT SELECT d.state, t.trigram, d.id FROM samegoal.districts d,
                         unnest(show_trgm(split_part(lower(d.domain), '.', 1))) t(trigram)$$,
                'and nothing else');
SELECT is_empty($$SELECT w.word FROM samegoal.districts d, unnest(samegoal.sg_directory_words(d.name)) w(word)
                  EXCEPT SELECT word FROM samegoal.directory_words$$,
                'every word of every name is in the vocabulary');

INSERT INTO samegoal.districts (domain, name, state) VALUES ('lapush.k12.example', 'Quillayute Valley District', 'OR');
SELECT id AS quillayute FROM samegoal.districts WHERE domain = 'lapush.k12.example' \gset
SELECT is((SELECT domain FROM samegoal.sg_find_district('quilayute valey', 1)), 'lapush.k12.example',
          'a new district is found by a typo in its name');
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting \gset
SELECT ctid::text AS words_before FROM samegoal.district_words WHERE district_id = :quillayute ORDER BY word LIMIT 1 \gset
UPDATE samegoal.districts SET transfers_enabled = false, coordinator_name = 'Kim' WHERE id = :quillayute;
SELECT is((SELECT ctid::text FROM samegoal.district_words WHERE district_id = :quillayute ORDER BY word LIMIT 1),
          :'words_before', 'a change of settings leaves its words alone');
UPDATE samegoal.districts SET name = 'Sol Duc District' WHERE id = :quillayute;
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('quilayute valey')$$,
                'a renamed district is not found by its old name');
SELECT is((SELECT domain FROM samegoal.sg_find_district('sol duk', 1)), 'lapush.k12.example',
          'but by a typo in its new one');
SELECT ok('quillayute' IN (SELECT word FROM samegoal.directory_words),
          'the vocabulary keeps the old words');
UPDATE samegoal.districts SET domain = 'solduc.k12.example' WHERE id = :quillayute;
SELECT is((SELECT domain FROM samegoal.sg_find_district('soldcu', 1)), 'solduc.k12.example',
          'a new domain is found by a typo in it');
SELECT set_eq(format($$SELECT trigram FROM samegoal.district_label_trigrams WHERE district_id = %s$$, :quillayute),
              $$SELECT unnest(show_trgm('solduc'))$$,
              'the trigrams of the old domain are gone');
UPDATE samegoal.districts SET state = 'WA' WHERE id = :quillayute;
SELECT set_eq(format($$SELECT state || ' ' || word FROM samegoal.district_words WHERE district_id = %s$$, :quillayute),
              ARRAY['WA district', 'WA duc', 'WA sol'],
              'a move to another state moves its words');
SELECT is_empty($$SELECT * FROM samegoal.sg_find_district('sol duk')$$,
                'a district moved to another state is not found from the old one');
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin') AS acting \gset
SELECT is((SELECT domain FROM samegoal.sg_find_district('sol duk', 1)), 'solduc.k12.example',
          'but from the new one');
DELETE FROM samegoal.districts WHERE id = :quillayute;
SELECT is((SELECT count(*) FROM samegoal.district_words WHERE district_id = :quillayute)
          + (SELECT count(*) FROM samegoal.district_label_trigrams WHERE district_id = :quillayute),
          0::bigint, 'a deleted district takes its words and trigrams along');
SET LOCAL session_replication_role = replica;
INSERT INTO samegoal.districts (domain, name, state) VALUES ('hoh.k12.example', 'Hoh River District', 'OR');
RESET session_replication_role;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting \gset
SELECT is((SELECT domain FROM samegoal.sg_find_district('hoh rivr', 1)), 'hoh.k12.example',
          'the triggers fire under session_replication_role = replica too, as in a restore');
SELECT md5(string_agg(format('%s %s %s', state, word, district_id), ',' ORDER BY state, word, district_id)) AS words_md5
  FROM samegoal.district_words \gset
SELECT md5(string_agg(format('%s %s %s', state, trigram, district_id), ',' ORDER BY state, trigram, district_id)) AS trigrams_md5
  FROM samegoal.district_label_trigrams \gset
DELETE FROM samegoal.district_words WHERE district_id % 2 = 0;
DELETE FROM samegoal.district_label_trigrams WHERE district_id % 3 = 0;
SELECT lives_ok($$SELECT samegoal.sg_rebuild_directory()$$, 'sg_rebuild_directory runs');
SELECT is((SELECT md5(string_agg(format('%s %s %s', state, word, district_id), ',' ORDER BY state, word, district_id))
             FROM samegoal.district_words), :'words_md5', 'and fills district_words again');
SELECT is((SELECT md5(string_agg(format('%s %s %s', state, trigram, district_id), ',' ORDER BY state, trigram, district_id))
             FROM samegoal.district_label_trigrams), :'trigrams_md5', 'and district_label_trigrams');
INSERT INTO samegoal.districts (domain, name, state)
VALUES ('long.k12.example', repeat('Quinault', 1000) || ' ' || repeat('é', 3000) || ' District', 'OR');
SELECT is((SELECT count(*) FROM samegoal.district_words w JOIN samegoal.districts d ON d.id = w.district_id
            WHERE d.domain = 'long.k12.example' AND char_length(w.word) = 64), 2::bigint,
          'words of thousands of letters are kept cut to 64 characters');
SELECT is((SELECT domain FROM samegoal.sg_find_district(repeat('quinault', 1000), 1)), 'long.k12.example',
          'and the district is found by its words, as long as they are');
SET LOCAL ROLE regress_sg_app;
SELECT throws_ok($$SELECT samegoal.sg_rebuild_directory()$$, '42501', NULL,
                 'samegoal_app cannot rebuild the directory''s tables');
SELECT throws_ok($$SELECT * FROM samegoal.district_words$$, '42501', NULL,
                 'samegoal_app cannot read district_words');
SELECT throws_ok($$SELECT * FROM samegoal.directory_words$$, '42501', NULL,
                 'nor the vocabulary');
SELECT throws_ok($$SELECT * FROM samegoal.district_label_trigrams$$, '42501', NULL,
                 'nor district_label_trigrams');

-- The search leaves the session's settings alone.
SELECT is(current_setting('pg_trgm.word_similarity_threshold', true), '0.6',
          'pg_trgm.word_similarity_threshold is as it was');
SELECT is(current_setting('search_path'), 'public, pg_catalog', 'search_path is as it was');

SELECT * FROM finish();
ROLLBACK;
