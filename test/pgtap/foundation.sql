-- The foundation: objects, role, grants, row-level security, the acting identity
-- and the district settings, as the contract fixes them.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql
SELECT plan(142);
\ir ../fixtures/tap_share.sql

-- objects
SELECT has_schema('samegoal');
-- the contract's tables, and the directory's internal tables of words and trigrams
SELECT tables_are('samegoal', ARRAY['districts', 'users', 'students', 'documents', 'files', 'file_contents',
                                    'transfers', 'transfer_documents', 'transfer_files', 'purged_documents', 'transfer_requests',
                                    'district_words', 'directory_words', 'district_label_trigrams', 'directory_states', 'node_config', 'node_states',
                                    'state_transfer_rules', 'district_closed_days', 'transfer_arrivals']);
SELECT columns_are('samegoal', 'districts', ARRAY['id', 'domain', 'name', 'city', 'state', 'transfers_enabled',
    'coordinator_name', 'coordinator_email', 'coordinator_phone']);
SELECT columns_are('samegoal', 'users', ARRAY['id', 'district_id', 'username', 'email', 'full_name', 'is_admin', 'is_active']);
SELECT columns_are('samegoal', 'students', ARRAY['id', 'district_id', 'sis_student_id', 'first_name', 'last_name', 'birth_date']);
SELECT has_column('samegoal', 'documents', c, 'documents.' || c) FROM unnest(ARRAY['id', 'district_id', 'student_id',
    'owner_id', 'doc_type', 'title', 'content', 'created_at', 'deleted_at', 'deleted_by', 'transfer_id', 'source_document_id']) c;
SELECT col_type_is('samegoal', 'documents', 'content', 'jsonb', 'content is jsonb');
SELECT col_default_is('samegoal', 'documents', 'content', '{}'::jsonb, 'content defaults to {}');
SELECT col_type_is('samegoal', 'document_files', 'data', 'bytea', 'file data is bytea');
SELECT col_default_is('samegoal', 'document_files', 'content_type', 'application/octet-stream'::text, 'content_type default');
SELECT col_default_is('samegoal', 'districts', 'transfers_enabled', 'true', 'transfers enabled by default');
SELECT col_type_is('samegoal', t, 'id', 'bigint', t || '.id is bigint') FROM unnest(ARRAY['districts', 'users', 'students', 'documents', 'document_files', 'transfers', 'transfer_requests']) t;
SELECT is((SELECT count(*)::int FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.relnamespace = 'samegoal'::regnamespace AND c.relkind = 'r' AND a.attname = 'id'
              AND a.attidentity <> ''), 8, 'ids are identity columns');
SELECT has_function('samegoal', f, a) FROM (VALUES
    ('sg_act_as', ARRAY['text', 'text']), ('sg_current_user_id', ARRAY[]::text[]),
    ('sg_current_district_id', ARRAY[]::text[]), ('sg_set_transfers_enabled', ARRAY['boolean']),
    ('sg_set_transfer_coordinator', ARRAY['text', 'text', 'text'])) v(f, a);
SELECT function_returns('samegoal', 'sg_act_as', ARRAY['text', 'text'], 'bigint');
SELECT function_lang_is('samegoal', 'sg_act_as', ARRAY['text', 'text'], 'c');
SELECT is_empty($$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'samegoal'::regnamespace
                    AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NULL$$, 'every table has a comment');
SELECT is_empty($$SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'samegoal'::regnamespace
                    AND obj_description(p.oid, 'pg_proc') IS NULL$$, 'every function has a comment');

-- the role
SELECT has_role('samegoal_app');
SELECT isnt_superuser('samegoal_app');
SELECT ok(NOT rolcanlogin AND NOT rolbypassrls AND NOT rolcreaterole AND NOT rolcreatedb, 'samegoal_app is NOLOGIN, without BYPASSRLS')
  FROM pg_roles WHERE rolname = 'samegoal_app';
SELECT is_empty($$SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'samegoal_app'
                  UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = 'samegoal_app'
                  UNION ALL SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = 'samegoal_app'$$,
                'samegoal_app owns nothing');

-- row-level security on, and forced, everywhere
SELECT is_empty($$SELECT relname FROM pg_class WHERE relnamespace = 'samegoal'::regnamespace AND relkind = 'r'
                    AND NOT (relrowsecurity AND relforcerowsecurity)$$, 'row-level security enabled and forced on every table');

-- grants
SELECT table_privs_are('samegoal', t, 'samegoal_app', ARRAY['SELECT'], t || ': read only')
  FROM unnest(ARRAY['districts', 'transfers', 'transfer_documents', 'purged_documents']) t;
SELECT table_privs_are('samegoal', t, 'samegoal_app', ARRAY['SELECT'], t || ': no table-wide write or DELETE')
  FROM unnest(ARRAY['users', 'students', 'documents', 'document_files']) t;
SELECT column_privs_are('samegoal', 'documents', c, 'samegoal_app', ARRAY['INSERT', 'SELECT', 'UPDATE'], 'documents.' || c || ' writable')
  FROM unnest(ARRAY['student_id', 'owner_id', 'doc_type', 'title', 'content']) c;
SELECT column_privs_are('samegoal', 'documents', c, 'samegoal_app', ARRAY['SELECT'], 'documents.' || c || ' not writable')
  FROM unnest(ARRAY['id', 'transfer_id', 'source_document_id', 'deleted_at', 'deleted_by']) c;
SELECT table_privs_are('samegoal', t, 'public', ARRAY[]::text[], t || ': nothing for PUBLIC')
  FROM unnest(ARRAY['districts', 'users', 'documents', 'transfers']) t;
SELECT table_privs_are('samegoal', t, r, ARRAY[]::text[], t || ': internal to the directory, nothing for ' || r)
  FROM unnest(ARRAY['district_words', 'directory_words', 'district_label_trigrams', 'directory_states']) t,
       unnest(ARRAY['samegoal_app', 'public']) r;
SELECT function_privs_are('samegoal', 'sg_act_as', ARRAY['text', 'text'], 'public', ARRAY[]::text[]);
SELECT function_privs_are('samegoal', 'sg_act_as', ARRAY['text', 'text'], 'samegoal_app', ARRAY['EXECUTE']);

-- acting identity error codes
SET ROLE regress_sg_app;
SELECT is(sg_current_user_id(), NULL, 'not acting: no user');
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'act as madmin');
SELECT is(sg_current_district_id(), 1::bigint, 'acting district');
SELECT is(sg_act_as(' Cedar.K12.EXAMPLE  ', 'TEACHER@CEDAR.K12.EXAMPLE'), 5::bigint, 'by email, any case, blanks ignored');
SELECT is(sg_current_district_id(), 2::bigint, 'a later call replaces the identity');
SELECT throws_ok($$SELECT sg_act_as('nowhere.k12.example', 'madmin')$$, '28000',
                 'no active SameGoal user with that login in that district', 'unknown domain: 28000');
SELECT throws_ok($$SELECT sg_act_as('maple.k12.example', 'ghost')$$, '28000',
                 'no active SameGoal user with that login in that district', 'unknown login: 28000, same message');
SELECT throws_ok($$SELECT sg_act_as('maple.k12.example', 'mformer')$$, '28000',
                 'no active SameGoal user with that login in that district', 'inactive user: 28000, same message');
SELECT throws_ok($$SELECT sg_act_as('maple.k12.example', 'cadmin')$$, '28000',
                 'no active SameGoal user with that login in that district', 'another district''s user: 28000');
SELECT throws_ok($$SELECT sg_act_as(NULL, NULL)$$, '28000', NULL, 'NULLs: 28000');
SELECT throws_ok($$SELECT sg_act_as(repeat('x', 1000000), repeat('''', 1000000))$$, '28000', NULL, '1 MB strings: 28000');
SELECT throws_ok($$SET LOCAL samegoal.acting_identity = '1,1'$$, '42501', NULL, 'SET LOCAL refused');
SELECT throws_ok($$SELECT set_config('samegoal.acting_identity', '1,1', true)$$, '42501', NULL, 'set_config refused');
SELECT throws_ok($$RESET samegoal.acting_identity$$, '42501', NULL, 'RESET refused');
SELECT throws_ok($$SET samegoal.acting_user = '1'$$, '42602', NULL, 'no other samegoal.* setting can be made');
SELECT is(sg_current_user_id(), 5::bigint, 'identity unchanged by the attempts');

-- what cedar's teacher sees
SELECT results_eq('SELECT id FROM districts', ARRAY[2::bigint], 'own district only');
SELECT results_eq('SELECT DISTINCT district_id FROM users', ARRAY[2::bigint], 'own users only');
SELECT results_eq('SELECT DISTINCT district_id FROM students', ARRAY[2::bigint], 'own students only');
SELECT results_eq('SELECT id FROM documents', ARRAY[5::bigint], 'own documents only');
SELECT results_eq('SELECT document_id FROM document_files', ARRAY[5::bigint], 'own files only');
SELECT is_empty('SELECT * FROM transfers', 'no transfers yet');
SELECT is_empty('SELECT * FROM documents WHERE id IN (1, 2, 3, 4, 6)', 'other districts'' documents by id: nothing');
SELECT throws_ok($$INSERT INTO documents (student_id, owner_id, doc_type, title) VALUES (1, 4, 'IEP', 'x')$$,
                 '23503', NULL, 'a document on another district''s student is refused like a missing one');
SELECT throws_ok($$INSERT INTO users (district_id, username) VALUES (1, 'intruder')$$,
                 '42501', NULL, 'a user in another district: refused');
SELECT throws_ok($$DELETE FROM documents$$, '42501', NULL, 'no DELETE on documents');
SELECT throws_ok($$DELETE FROM document_files$$, '42501', NULL, 'no DELETE on files');
SELECT throws_ok($$UPDATE documents SET deleted_at = now()$$, '42501', NULL, 'deleted_at not writable');
SELECT throws_ok($$INSERT INTO transfers (sending_district_id, receiving_district_id, sending_student_id,
                   receiving_student_id, receiving_owner_id, initiated_by, document_count) VALUES (2, 1, 3, 1, 1, 4, 1)$$,
                 '42501', NULL, 'transfers not writable');
SELECT lives_ok($$INSERT INTO students (sis_student_id, first_name, last_name) VALUES ('C-2999', 'New', 'Student')$$,
                'own district: insert a student');
SELECT is((SELECT district_id FROM students WHERE sis_student_id = 'C-2999'), 2::bigint, 'district_id defaults to the acting district');

-- settings: admins only, own district only
SELECT throws_ok($$SELECT sg_set_transfers_enabled(false)$$, '42501', NULL, 'a teacher may not change settings');
SELECT throws_ok($$SELECT sg_set_transfer_coordinator('x', NULL, NULL)$$, '42501', NULL, 'nor the coordinator');
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'act as cedar''s admin');
SELECT lives_ok($$SELECT sg_set_transfers_enabled(false)$$, 'an admin switches transfers off');
SELECT is((SELECT transfers_enabled FROM districts), false, 'own district switched off');
SELECT throws_ok($$SELECT sg_set_transfers_enabled(NULL)$$, '22023', NULL, 'NULL setting: 22023');
SELECT lives_ok($$SELECT sg_set_transfer_coordinator('Ana Ortiz', 'ana@cedar.k12.example', NULL)$$, 'publish a coordinator');
SELECT row_eq($$SELECT coordinator_name, coordinator_email, coordinator_phone FROM districts$$,
              ROW('Ana Ortiz'::text, 'ana@cedar.k12.example'::text, NULL::text), 'coordinator published, phone absent');
SELECT lives_ok($$SELECT sg_set_transfer_coordinator(NULL, NULL, '541-555-0199')$$, 'NULL clears');
SELECT row_eq($$SELECT coordinator_name, coordinator_email, coordinator_phone FROM districts$$,
              ROW(NULL::text, NULL::text, '541-555-0199'::text), 'name and email cleared');
-- every admin of the state sees the contact: 200 characters each, after trimming
SELECT lives_ok(format('SELECT sg_set_transfer_coordinator(%L, %L, %L)', repeat('n', 200), repeat('e', 200), repeat('5', 200)),
                '200 characters in each field');
SELECT is((SELECT char_length(coordinator_name) + char_length(coordinator_email) + char_length(coordinator_phone) FROM districts),
          600, 'all three kept');
SELECT lives_ok(format('SELECT sg_set_transfer_coordinator(%L, NULL, NULL)', E'  \t' || repeat('ñ', 200) || E'\n '),
                '200 characters after trimming blanks');
SELECT throws_ok(format('SELECT sg_set_transfer_coordinator(%L, NULL, NULL)', repeat('n', 201)), '22023', NULL, 'a 201-character name: 22023');
SELECT throws_ok(format('SELECT sg_set_transfer_coordinator(NULL, %L, NULL)', repeat('e', 201)), '22023', NULL, 'a 201-character email: 22023');
SELECT throws_ok(format('SELECT sg_set_transfer_coordinator(NULL, NULL, %L)', repeat('😀', 201)), '22023', NULL, 'a 201-character phone: 22023');
SELECT is((SELECT coordinator_name FROM districts), repeat('ñ', 200), 'a refused change leaves the contact as it was');
SELECT lives_ok($$SELECT sg_set_transfer_coordinator('O''Brien', $q$x'; DROP TABLE samegoal.documents; --$q$, NULL)$$,
                'quotes in a contact');
SELECT is((SELECT coordinator_email FROM districts), $q$x'; DROP TABLE samegoal.documents; --$q$, 'quotes are stored as given');
RESET ROLE;

-- No row of tenant data moves to another district, a superuser's UPDATE included.
SELECT throws_ok(format('UPDATE samegoal.%I SET district_id = 3 WHERE district_id = 1', t), '42501',
                 format('a row of %s cannot move to another district', t), t || ': a superuser cannot move a row')
  FROM unnest(ARRAY['users', 'students', 'documents', 'document_files', 'files', 'file_contents']) AS t;
INSERT INTO samegoal.purged_documents (document_id, district_id, student_id, doc_type) VALUES (1000, 1, 1, 'IEP');
SELECT throws_ok('UPDATE samegoal.purged_documents SET district_id = 2 WHERE document_id = 1000', '42501',
                 'a row of purged_documents cannot move to another district', 'purged_documents: a superuser cannot move a row');
SELECT lives_ok('UPDATE samegoal.users SET district_id = 1, full_name = ''Morgan A.'' WHERE id = 1',
                'an update that keeps the district passes');

-- The setting rules hold for transfers made now, whoever writes them; a row that
-- records an earlier transfer (a restore) is not held against today's settings.
UPDATE samegoal.districts SET transfers_enabled = false WHERE id = 2;
SELECT throws_ok($$INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
                   receiving_student_id, receiving_owner_id, initiated_by, document_count) VALUES (1, 2, 1, 3, 5, 1, 1)$$,
                 'SG002', NULL, 'a superuser''s transfer made now: SG002');
SELECT throws_ok($$INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
                   receiving_student_id, receiving_owner_id, initiated_by, initiated_at, document_count)
                   VALUES (1, 2, 1, 3, 5, 1, clock_timestamp() + interval '1 day', 1)$$,
                 'SG002', NULL, 'a transfer dated in the future is made now: SG002');
SELECT lives_ok($$INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
                  receiving_student_id, receiving_owner_id, initiated_by, initiated_at, document_count)
                  VALUES (1, 2, 1, 3, 5, 1, now() - interval '1 day', 1)$$,
                'a restored transfer of yesterday is written whatever the settings are now');
SELECT cmp_ok((SELECT initiated_at FROM samegoal.transfers ORDER BY id DESC LIMIT 1), '<', now(), 'it keeps its date');
SELECT is((SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
            WHERE d.adrelid = 'samegoal.transfers'::regclass AND a.attname = 'initiated_at'),
          'clock_timestamp()', 'initiated_at defaults to the moment of the write');
SELECT is(array_agg(tgname::text ORDER BY tgname), ARRAY['transfer_documents_kept', 'transfer_documents_kept_truncate',
          'transfers_kept', 'transfers_kept_truncate', 'transfers_parties', 'transfers_settings'], 'the rules and the record fire in replica mode too')
  FROM pg_trigger WHERE tgrelid IN ('samegoal.transfers'::regclass, 'samegoal.transfer_documents'::regclass)
   AND tgenabled = 'A' AND NOT tgisinternal;
SELECT row_eq($$SELECT transfers_enabled, coordinator_name FROM samegoal.districts WHERE id = 1$$,
              ROW(true, 'Dana Reyes'::text), 'other districts untouched');

-- Lookups in the two-district record go through indexes that lead with a
-- district, so that row-level security is an index condition (a BitmapOr of
-- both sides) and EXPLAIN ANALYZE counts no other district's rows as removed.
SELECT is(array_agg(c.relname::text ORDER BY c.relname), NULL,
          'every index of transfers and transfer_documents, but the unique keys on id, leads with a district')
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
 WHERE i.indrelid IN ('samegoal.transfers'::regclass, 'samegoal.transfer_documents'::regclass)
   AND a.attname NOT IN ('sending_district_id', 'receiving_district_id')
   AND NOT (i.indisunique AND a.attname IN ('id', 'transfer_id'));

SELECT * FROM finish();
ROLLBACK;
