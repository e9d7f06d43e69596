-- Files stored once, receipt verified (1.3): a transfer shares the sender's
-- content and writes a manifest; uploads never share; content goes with its
-- last reference; the receiver verifies what it holds against what was sent.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql

SELECT plan(76);
\ir ../fixtures/tap_share.sql

-- Ids the checks below use, written as the superuser.
CREATE TEMP TABLE ids (name text PRIMARY KEY, value bigint);
GRANT SELECT, INSERT, UPDATE ON ids TO PUBLIC;
CREATE FUNCTION pg_temp.id(n text) RETURNS bigint LANGUAGE sql AS 'SELECT value FROM ids WHERE name = n';
INSERT INTO ids VALUES ('cedar_content', (SELECT content_id FROM samegoal.files WHERE id = 4)),
                       ('contents_before', (SELECT count(*) FROM samegoal.file_contents));

-- Hashes: computed by the database, of the bytes and of the content as text.
SELECT is((SELECT count(*)::int FROM document_files WHERE sha256 IS DISTINCT FROM sha256(data)), 0,
          'every file''s sha256 is the SHA-256 of its bytes');
SELECT is((SELECT count(*)::int FROM documents
            WHERE content_sha256 IS DISTINCT FROM sha256(convert_to(content::text, 'UTF8'))), 0,
          'every document''s content_sha256 is the SHA-256 of its content as UTF-8 text');
SELECT throws_ok($$INSERT INTO samegoal.document_files (district_id, document_id, filename, data, sha256)
                   VALUES (1, 1, 'x', '\x00', '\x00')$$, '428C9', NULL, 'a superuser cannot give sha256');
SELECT throws_ok($$UPDATE samegoal.document_files SET sha256 = '\x00' WHERE id = 1$$, '428C9', NULL,
                 'a superuser cannot change sha256');
UPDATE samegoal.documents SET content_sha256 = '\x00' WHERE id = 1;
SELECT is((SELECT content_sha256 FROM samegoal.documents WHERE id = 1),
          (SELECT sha256(convert_to(content::text, 'UTF8')) FROM samegoal.documents WHERE id = 1),
          'a superuser''s change of content_sha256 is computed again from the content');
SELECT throws_ok($$UPDATE samegoal.document_files SET id = 1000 WHERE id = 1$$, '428C9', NULL,
                 'a file''s id cannot change');

SET ROLE regress_sg_app;
SELECT is(sg_act_as('maple.k12.example', 'mteacher'), 2::bigint, 'a Maple teacher acts');
SELECT throws_ok($$INSERT INTO document_files (document_id, filename, data, sha256) VALUES (1, 'x', '\x00', '\x00')$$,
                 '42501', NULL, 'the application cannot write sha256');
SELECT throws_ok($$UPDATE documents SET content_sha256 = '\x00' WHERE id = 1$$, '42501', NULL,
                 'the application cannot write content_sha256');
SELECT lives_ok($$UPDATE documents SET content = '{"goals": ["reading"]}' WHERE id = 2$$, 'a teacher changes a document''s content');
SELECT is((SELECT content_sha256 FROM documents WHERE id = 2), sha256(convert_to('{"goals": ["reading"]}', 'UTF8')),
          'its content_sha256 follows');
SELECT throws_ok($$INSERT INTO document_files (id, document_id, filename, data) VALUES (1000, 1, 'x', '\x00')$$,
                 '42501', NULL, 'the application cannot choose a file id');
SELECT throws_ok($$INSERT INTO document_files (district_id, document_id, filename, data) VALUES (2, 5, 'x', '\x00')$$,
                 '42501', 'new row violates row-level security policy for table "document_files"',
                 'a file of another district''s document: the row-level security error, nothing of its document');
SELECT throws_ok($$INSERT INTO document_files (document_id, filename, data) VALUES (5, 'x', '\x00')$$,
                 '23503', NULL, 'a file of a document this district does not have: a foreign key error, as for a missing one');
SELECT throws_ok($$INSERT INTO document_files (document_id, filename, data) VALUES (1, ' ', '\x00')$$,
                 '23514', NULL, 'a blank filename is refused');
SELECT throws_ok($$INSERT INTO document_files (document_id, filename, data) VALUES (1, 'x', NULL)$$,
                 '23502', 'null value in column "data" of relation "document_files" violates not-null constraint',
                 'NULL bytes are refused as by the table');
SELECT is((SELECT count(*)::int FROM file_contents), 3, 'Maple reads the content of its own files only');
SELECT is_empty(format('SELECT * FROM file_contents WHERE id = %s', pg_temp.id('cedar_content')),
                'Maple cannot read Cedar''s content, not even by id');

-- No deduplication on upload: bytes Cedar holds and bytes nobody holds are
-- stored alike, as new content of Maple's.
SELECT results_eq($$INSERT INTO document_files (document_id, filename, data) VALUES (4, 'same.pdf', '\x2550')
                    RETURNING sha256 = sha256(data), octet_length(data)$$,
                  $$VALUES (true, 2)$$, 'an upload of bytes Cedar holds');
SELECT results_eq($$INSERT INTO document_files (document_id, filename, data) VALUES (4, 'new.pdf', '\x2551')
                    RETURNING sha256 = sha256(data), octet_length(data)$$,
                  $$VALUES (true, 2)$$, 'an upload of bytes nobody holds: the same result');
RESET ROLE;
SELECT is((SELECT count(*) FROM samegoal.file_contents), pg_temp.id('contents_before') + 2,
          'each upload stored content of its own');
SELECT results_eq($$SELECT f.filename, c.district_id, c.byte_size, pg_column_size(c.data)
                      FROM samegoal.files f JOIN samegoal.file_contents c ON c.id = f.content_id
                     WHERE f.document_id = 4 ORDER BY f.filename$$,
                  $$VALUES ('new.pdf'::text, 1::bigint, 2::bigint, 3), ('same.pdf', 1, 2, 3)$$,
                  'the same space for both: nothing tells Maple that Cedar holds the same bytes');
SELECT isnt((SELECT content_id FROM samegoal.files WHERE filename = 'same.pdf'), pg_temp.id('cedar_content'),
            'the upload does not refer to Cedar''s content');

-- A transfer shares the content: no new bytes, one reference per copied file,
-- and a manifest row each.
INSERT INTO ids VALUES ('contents_before_transfer', (SELECT count(*) FROM samegoal.file_contents));
SET ROLE regress_sg_app;
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts');
INSERT INTO ids SELECT 'transfer', transfer_id
  FROM sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cteacher') LIMIT 1;
RESET ROLE;
SELECT is((SELECT count(*) FROM samegoal.file_contents), pg_temp.id('contents_before_transfer'),
          'the transfer stored no bytes');
SELECT is((SELECT count(*)::int FROM samegoal.transfer_files m
             JOIN samegoal.files s ON s.id = m.source_file_id
             JOIN samegoal.files r ON r.id = m.received_file_id
            WHERE m.transfer_id = pg_temp.id('transfer') AND s.content_id = r.content_id
              AND r.district_id = 2 AND s.district_id = 1), 3,
          'each of the three copies refers to its original''s content');
SELECT results_eq($$SELECT m.filename, m.byte_size, m.sha256 = sha256(f.data)
                      FROM samegoal.transfer_files m JOIN samegoal.document_files f ON f.id = m.source_file_id
                     WHERE m.transfer_id = (SELECT value FROM ids WHERE name = 'transfer') ORDER BY m.source_file_id$$,
                  $$VALUES ('iep.pdf'::text, 12::bigint, true), ('signatures.png', 10, true), ('evaluation.pdf', 9, true)$$,
                  'the manifest: each file''s name, size and SHA-256 as sent');
SELECT is((SELECT count(*)::int FROM samegoal.transfer_documents t JOIN samegoal.documents d ON d.id = t.source_document_id
            WHERE t.transfer_id = pg_temp.id('transfer') AND t.content_sha256 = d.content_sha256), 2,
          'the record keeps each original''s content_sha256 as sent');
INSERT INTO ids SELECT 'copy_of_2', received_document_id FROM samegoal.transfer_documents
 WHERE transfer_id = pg_temp.id('transfer') AND source_document_id = 2;
INSERT INTO ids SELECT 'copy_file_1', received_file_id FROM samegoal.transfer_files
 WHERE transfer_id = pg_temp.id('transfer') AND source_file_id = 1;

SET ROLE regress_sg_app;
SELECT is(sg_act_as('cedar.k12.example', 'cteacher'), 5::bigint, 'Cedar''s teacher acts');
SELECT results_eq(format('SELECT data FROM document_files WHERE id = %s', pg_temp.id('copy_file_1')),
                  $$VALUES ('\x255044462d312e340a00ff10'::bytea)$$, 'Cedar reads the bytes of its copy');
SELECT is((SELECT count(*)::int FROM transfer_files), 3, 'Cedar sees the manifest');
SELECT is((SELECT count(*)::int FROM file_contents), 4, 'Cedar reads the content its files refer to, and no other');
SELECT is((SELECT count(*)::int FROM sg_verify_transfer(pg_temp.id('transfer')) WHERE verified), 5,
          'every content and file of the transfer verifies: two documents, three files');
SELECT results_eq(format($$SELECT filename, sent_sha256 = held_sha256 FROM sg_verify_transfer(%s)
                            WHERE received_document_id = (SELECT value FROM ids WHERE name = 'copy_of_2')$$,
                         pg_temp.id('transfer')),
                  $$VALUES (NULL::text, true), ('evaluation.pdf', true)$$,
                  'a document''s rows: its content first, then its files');
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts');
SELECT is((SELECT count(*)::int FROM transfer_files), 3, 'the sender sees the manifest too');
SELECT throws_ok(format('SELECT * FROM sg_verify_transfer(%s)', pg_temp.id('transfer')), 'SG006', NULL,
                 'the sender cannot verify: SG006');
SELECT is(sg_act_as('pine.k12.example', 'padmin'), 7::bigint, 'Pine''s admin acts');
SELECT is((SELECT count(*)::int FROM transfer_files) + (SELECT count(*)::int FROM file_contents), 0,
          'a third district sees no manifest and no content');
SELECT throws_ok(format('SELECT * FROM sg_verify_transfer(%s)', pg_temp.id('transfer')), 'SG006', NULL,
                 'a third district: SG006');
SELECT throws_ok('SELECT * FROM sg_verify_transfer(999999)', 'SG006', NULL, 'an unknown transfer: SG006');
SELECT throws_ok('SELECT * FROM sg_verify_transfer(NULL)', 'SG006', NULL, 'NULL: SG006');
RESET ROLE;
SELECT throws_ok(format('SELECT * FROM samegoal.sg_verify_transfer(%s)', pg_temp.id('transfer')), 'SG006', NULL,
                 'a superuser without an acting identity: SG006');

-- The manifest is part of the record.
SELECT throws_ok($$UPDATE samegoal.transfer_files SET filename = 'other.pdf'$$, '42501', NULL,
                 'a superuser cannot change the manifest');
SELECT throws_ok('DELETE FROM samegoal.transfer_files', '42501', NULL, 'nor delete from it');
SELECT throws_ok('TRUNCATE samegoal.transfer_files', '42501', NULL, 'nor truncate it');
SET ROLE regress_sg_app;
SELECT throws_ok('UPDATE transfer_files SET received_file_id = NULL', '42501', NULL,
                 'the application cannot write it');
RESET ROLE;

-- A change of the sender's bytes makes content of its own; the copy keeps the
-- bytes sent. A change of the name alone keeps the content.
INSERT INTO ids VALUES ('content_1', (SELECT content_id FROM samegoal.files WHERE id = 1));
SET ROLE regress_sg_app;
SELECT is(sg_act_as('maple.k12.example', 'mteacher'), 2::bigint, 'a Maple teacher acts');
SELECT lives_ok($$UPDATE document_files SET filename = 'iep-2025.pdf' WHERE id = 1$$, 'Maple renames its file');
SELECT results_eq($$UPDATE document_files SET data = '\x00' WHERE id = 1 RETURNING sha256 = sha256('\x00'::bytea)$$,
                  $$VALUES (true)$$, 'Maple replaces its bytes; the returned sha256 is the new one');
RESET ROLE;
SELECT isnt((SELECT content_id FROM samegoal.files WHERE id = 1), pg_temp.id('content_1'), 'the original has new content');
SELECT is((SELECT content_id FROM samegoal.files WHERE id = pg_temp.id('copy_file_1')), pg_temp.id('content_1'),
          'the copy keeps the content sent');
SET ROLE regress_sg_app;
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'Cedar''s admin acts');
SELECT is((SELECT count(*)::int FROM sg_verify_transfer(pg_temp.id('transfer')) WHERE verified), 5,
          'what Cedar holds still verifies');
RESET ROLE;

-- A (superuser's) corruption of the bytes Cedar holds is found.
UPDATE samegoal.document_files SET data = '\xbad0' WHERE id = pg_temp.id('copy_file_1');
SET ROLE regress_sg_app;
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'Cedar''s admin acts');
SELECT results_eq(format('SELECT filename, verified, held_sha256 = sha256(%L::bytea) FROM sg_verify_transfer(%s) WHERE NOT verified',
                         '\xbad0', pg_temp.id('transfer')),
                  $$VALUES ('iep.pdf'::text, false, true)$$, 'the corrupted file does not verify, and says what is held');

-- Purged copies: held_sha256 NULL, not verified; the acknowledgement counts.
SELECT is(sg_delete_documents(ARRAY[pg_temp.id('copy_of_2')]), 1, 'Cedar deletes the copy of document 2');
SELECT is(sg_purge_documents(ARRAY[pg_temp.id('copy_of_2')]), 1, 'and purges it');
SELECT results_eq(format('SELECT received_document_id, filename, held_sha256, verified FROM sg_verify_transfer(%s) WHERE received_document_id IS NULL',
                         pg_temp.id('transfer')),
                  $$VALUES (NULL::bigint, NULL::text, NULL::bytea, false), (NULL, 'evaluation.pdf', NULL, false)$$,
                  'the purged copy: held_sha256 NULL, not verified');
SELECT lives_ok(format('SELECT sg_acknowledge_transfer(%s)', pg_temp.id('transfer')), 'Cedar acknowledges');
SELECT results_eq(format('SELECT acknowledged_verified, acknowledged_total FROM transfers WHERE id = %s', pg_temp.id('transfer')),
                  $$VALUES (2, 5)$$, 'the acknowledgement records 2 of 5 held as sent');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM samegoal.transfer_files WHERE received_file_id IS NULL), 1,
          'the manifest''s link to the purged copy is cleared, the row kept');

-- Content goes with its last reference: the sender's original purged first,
-- then the receiver's copy; and the other way round.
INSERT INTO ids VALUES ('content_3', (SELECT content_id FROM samegoal.files WHERE id = 3));
SET ROLE regress_sg_app;
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts');
SELECT is(sg_delete_documents(ARRAY[2::bigint]) + sg_purge_documents(ARRAY[2::bigint]), 2,
          'Maple purges document 2, whose copy Cedar purged: its content''s last reference');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM samegoal.file_contents WHERE id = pg_temp.id('content_3')), 0,
          'the content went with it');

SET ROLE regress_sg_app;
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts');
INSERT INTO ids SELECT 'transfer_4', transfer_id
  FROM sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cteacher', allow_mismatch => true) LIMIT 1;
RESET ROLE;
INSERT INTO ids SELECT 'copy_of_4', received_document_id FROM samegoal.transfer_documents WHERE transfer_id = pg_temp.id('transfer_4');
INSERT INTO ids SELECT 'content_4', content_id FROM samegoal.files WHERE document_id = 4 AND filename = 'new.pdf';
SET ROLE regress_sg_app;
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'Cedar''s admin acts');
SELECT is(sg_delete_documents(ARRAY[pg_temp.id('copy_of_4')]) + sg_purge_documents(ARRAY[pg_temp.id('copy_of_4')]), 2,
          'the receiver purges its copy first');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM samegoal.file_contents WHERE id = pg_temp.id('content_4')), 1,
          'the content stays: the original refers to it');
SET ROLE regress_sg_app;
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts');
SELECT results_eq($$SELECT data FROM document_files WHERE document_id = 4 AND filename = 'new.pdf'$$,
                  $$VALUES ('\x2551'::bytea)$$, 'and Maple still reads it');
SELECT is(sg_delete_documents(ARRAY[4::bigint]) + sg_purge_documents(ARRAY[4::bigint]), 2, 'then the sender purges the original');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM samegoal.file_contents WHERE id = pg_temp.id('content_4')), 0,
          'and the content goes with the last reference');
-- A superuser's DELETE through the view removes the file and, with it, its bytes.
SELECT results_eq('DELETE FROM samegoal.document_files WHERE id = 4 RETURNING filename',
                  $$VALUES ('cedar.pdf'::text)$$, 'a superuser deletes Cedar''s own file through document_files');
SELECT is((SELECT count(*)::int FROM samegoal.file_contents WHERE id = pg_temp.id('cedar_content')), 0,
          'its content went with it');
SELECT is((SELECT count(*)::int FROM samegoal.file_contents c
            WHERE NOT EXISTS (SELECT FROM samegoal.files f WHERE f.content_id = c.id)), 0,
          'no content is left that no file refers to');

SELECT * FROM finish();
ROLLBACK;
