-- Hostile input to every function callable from SQL: NULL in every position,
-- empty, huge, multi-dimensional and oddly bounded arrays, duplicate, negative
-- and out-of-range ids, 1 MB strings, wildcards, quotes, control characters
-- and encoding tricks. Each call gets the contract's error or a correct
-- answer: never a lost connection and never XX000 (internal error).
--
-- The cases are rows of a table, run with throws_ok (an error with that
-- SQLSTATE) or lives_ok, in the role and acting identity of their section.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql
RESET search_path;
SET search_path = public, pg_catalog;

-- documents 7-9: deleted documents of Maple's student 1, owned by the teacher
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, deleted_at, deleted_by)
SELECT 1, 1, 2, 'IEP', 'Old IEP ' || i, now(), 2 FROM generate_series(1, 3) i;

-- Hostile strings. None of them is a domain, username, email or SIS Student
-- ID of the fixture; blank ones are marked.
CREATE TEMP TABLE hostile_text (label text PRIMARY KEY, val text, blank boolean NOT NULL DEFAULT false);
INSERT INTO hostile_text (label, val, blank) VALUES
    ('NULL', NULL, true),
    ('empty', '', true),
    ('spaces', '   ', true),
    ('tab, CR and LF', E'\t\r\n', true);
INSERT INTO hostile_text (label, val) VALUES
    ('1 MB of ASCII', repeat('x', 1024 * 1024)),
    ('1 MB of two-byte characters', repeat(U&'\00E9', 512 * 1024)),
    ('1 MB of four-byte characters', repeat(U&'\+01F600', 256 * 1024)),
    ('1 MB of wildcards and quotes', repeat(E'%_\\''"*?[]', 100 * 1024)),
    ('percent', '%'),
    ('underscore', '_'),
    ('backslash', E'\\'),
    ('LIKE pattern of a domain', 'cedar%'),
    ('LIKE pattern of a domain, underscore', '_edar.k12.exampl_'),
    ('regular expression', '^.*$'),
    ('SIMILAR TO pattern', '(cedar|maple)%'),
    ('glob', '*'),
    ('single quote', ''''),
    ('double quote', '"'),
    ('SQL injection', $q$x'; DROP TABLE samegoal.documents; --$q$),
    ('SQL injection with dollar quotes', '$$; SELECT 1; $$'),
    ('format specifiers', '%s%n%x%d'),
    ('backtick and semicolon', '`;`'),
    ('control characters', E'\x01\x02\x1b[31m\x7f'),
    ('no-break space around a domain', U&'\00A0cedar.k12.example\00A0'),
    ('zero-width space in a domain', U&'cedar\200B.k12.example'),
    ('fullwidth letters', U&'\FF43\FF45\FF44\FF41\FF52'),
    ('highest code point', chr(1114111)),
    ('LATIN1 byte 0xff converted', convert_from('\xff'::bytea, 'LATIN1')),
    ('bytea shown as text', '\xff'::bytea::text),
    ('combining characters', U&'ce\0301dar'),
    ('right-to-left override', U&'\202Eelpmaxe.21k.radec'),
    ('128 letters without a blank', repeat('qz', 64)),
    ('a dozen long words', repeat('abcdefghi ', 12)),
    ('words of two-byte characters', repeat(U&'\00E9\00E8\00EA ', 30)),
    ('one-letter words', 'a b c d e f g h i j k'),
    ('a shown trigram of a letter outside ASCII', '0x4ddfd1');

-- Hostile id arrays, as SQL expressions, and what each one is.
CREATE TEMP TABLE hostile_ids (label text PRIMARY KEY, expr text NOT NULL, kind text NOT NULL
                               CHECK (kind IN ('invalid', 'missing')));
INSERT INTO hostile_ids VALUES
    ('NULL array', 'NULL::bigint[]', 'invalid'),
    ('empty array', $$'{}'::bigint[]$$, 'invalid'),
    ('empty array of 0 x 2 elements', 'array_fill(1::bigint, ARRAY[0, 2])', 'invalid'),
    ('only NULL', 'ARRAY[NULL]::bigint[]', 'invalid'),
    ('NULL after an id', 'ARRAY[1, NULL]::bigint[]', 'invalid'),
    ('NULL in a two-dimensional array', 'ARRAY[[1, 2], [3, NULL]]::bigint[]', 'invalid'),
    ('NULL in an array with lower bound 5', $$'[5:6]={1,NULL}'::bigint[]$$, 'invalid'),
    ('NULL as the 100,000th element', 'array_append(array_fill(1::bigint, ARRAY[99999]), NULL)', 'invalid'),
    ('negative id', 'ARRAY[-1]::bigint[]', 'missing'),
    ('zero', 'ARRAY[0]::bigint[]', 'missing'),
    ('smallest bigint', 'ARRAY[-9223372036854775808]::bigint[]', 'missing'),
    ('largest bigint', 'ARRAY[9223372036854775807]::bigint[]', 'missing'),
    ('an id of another district', 'ARRAY[5]::bigint[]', 'missing'),
    ('own ids and a missing one', 'ARRAY[1, 2, 999]::bigint[]', 'missing'),
    ('100,000 missing ids', 'ARRAY(SELECT generate_series(1000001::bigint, 1100000))', 'missing'),
    ('100,000 missing ids, descending', 'ARRAY(SELECT generate_series(1100000::bigint, 1000001, -1))', 'missing'),
    ('missing ids in a three-dimensional array', 'ARRAY[[[1000, 1001]], [[1002, 1003]]]::bigint[]', 'missing'),
    ('missing ids with lower bound -3', $$'[-3:-2]={1000,1001}'::bigint[]$$, 'missing');

CREATE TEMP TABLE cases (
    n           serial PRIMARY KEY,
    section     text NOT NULL,
    sql         text NOT NULL,
    sqlstate    text,               -- NULL: must succeed
    description text NOT NULL
);

-- A value of hostile_text, by label, as an SQL expression.
CREATE FUNCTION pg_temp.h(label text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT format('(SELECT val FROM pg_temp.hostile_text WHERE label = %L)', label)
$$;
CREATE FUNCTION pg_temp.transfer_sql(ids text, domain text, sis text, owner text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('SELECT * FROM samegoal.sg_transfer_documents(%s, %s, %s, %s)', ids, domain, sis, owner)
$$;

-- Every function, every argument NULL or hostile, while not acting: 42501.
-- (sg_act_as itself answers 28000, the same as an unknown login.)
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'not acting', format('SELECT samegoal.%s(%s)', f, args), '42501',
       format('not acting: %s(%s)', f, args)
  FROM (VALUES ('sg_set_transfers_enabled', 'NULL'), ('sg_set_transfers_enabled', 'true'),
               ('sg_set_transfer_coordinator', 'NULL, NULL, NULL'),
               ('sg_delete_documents', 'NULL'), ('sg_restore_documents', 'NULL'),
               ('sg_purge_documents', 'NULL'), ('sg_delete_documents', 'ARRAY[1]::bigint[]'),
               ('sg_transfer_documents', 'NULL, NULL, NULL, NULL'),
               ('sg_transfer_documents', 'NULL, NULL, NULL, NULL, NULL'),
               ('sg_transfer_documents', $$ARRAY[1], 'cedar.k12.example', 'C-2002', 'cteacher', true$$)) AS c(f, args);
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'not acting', format('SELECT samegoal.%s(%s)', f, h.expr), '42501',
       format('not acting: %s with %s', f, h.label)
  FROM (VALUES ('sg_delete_documents'), ('sg_restore_documents'), ('sg_purge_documents')) AS c(f),
       hostile_ids h;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'not acting', format('SELECT samegoal.sg_act_as(%s, %s)', d, l), '28000',
       format('sg_act_as(%s, %s): 28000', d, l)
  FROM (VALUES ('NULL', 'NULL'), ('NULL', $$'madmin'$$), ($$'maple.k12.example'$$, 'NULL')) AS c(d, l);
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'not acting', format('SELECT samegoal.sg_act_as(%s, %L)', pg_temp.h(label), 'madmin'), '28000',
       format('sg_act_as domain: %s: 28000', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'not acting', format('SELECT samegoal.sg_act_as(%L, %s)', 'maple.k12.example', pg_temp.h(label)), '28000',
       format('sg_act_as login: %s: 28000', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description) VALUES
    ('not acting', 'SELECT samegoal.sg_current_user_id() IS NULL AND samegoal.sg_current_district_id() IS NULL',
     NULL, 'not acting: the current user and district are NULL');

-- A teacher: the admin-only functions refuse before looking at any argument.
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'teacher', format('SELECT samegoal.%s(%s)', f, args), '42501', format('teacher: %s(%s)', f, args)
  FROM (VALUES ('sg_set_transfers_enabled', 'NULL'),
               ('sg_set_transfer_coordinator', 'NULL, NULL, NULL'),
               ('sg_purge_documents', 'NULL'),
               ('sg_purge_documents', 'ARRAY[7]::bigint[]'),
               ('sg_transfer_documents', 'NULL, NULL, NULL, NULL'),
               ('sg_transfer_documents', 'NULL, NULL, NULL, NULL, NULL'),
               ('sg_transfer_documents', $$ARRAY[1], 'cedar.k12.example', 'C-2002', 'cteacher', true$$),
               ('sg_delete_documents', 'ARRAY[3]::bigint[]'),
               ('sg_delete_documents', 'ARRAY[[1], [3]]::bigint[]')) AS c(f, args);
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'teacher', format('SELECT samegoal.%s(%s)', f, h.expr),
       CASE h.kind WHEN 'invalid' THEN '22023' ELSE 'SG006' END,
       format('teacher: %s with %s', f, h.label)
  FROM (VALUES ('sg_delete_documents'), ('sg_restore_documents')) AS c(f), hostile_ids h;

-- The admin: every array argument, then every text argument of a transfer
-- with the others valid.
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', format('SELECT samegoal.%s(%s)', f, h.expr),
       CASE h.kind WHEN 'invalid' THEN '22023' ELSE 'SG006' END,
       format('admin: %s with %s', f, h.label)
  FROM (VALUES ('sg_delete_documents'), ('sg_restore_documents'), ('sg_purge_documents')) AS c(f),
       hostile_ids h;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', pg_temp.transfer_sql(h.expr, $$'cedar.k12.example'$$, $$'C-2001'$$, $$'cteacher'$$),
       CASE h.kind WHEN 'invalid' THEN '22023' ELSE 'SG006' END,
       format('admin: transfer of %s', h.label)
  FROM hostile_ids h;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', pg_temp.transfer_sql('ARRAY[1]', pg_temp.h(label), $$'C-2001'$$, $$'cteacher'$$),
       CASE WHEN blank THEN '22023' ELSE 'SG003' END, format('admin: receiving_domain: %s', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, pg_temp.h(label), $$'cteacher'$$),
       CASE WHEN blank THEN '22023' ELSE 'SG004' END, format('admin: receiving_sis_student_id: %s', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2001'$$, pg_temp.h(label)),
       CASE WHEN blank THEN '22023' ELSE 'SG005' END, format('admin: receiving_owner: %s', label)
  FROM hostile_text;
-- Errors come in the contract's order whatever else is hostile.
INSERT INTO cases (section, sql, sqlstate, description) VALUES
    ('admin', pg_temp.transfer_sql('NULL', pg_temp.h('1 MB of ASCII'), 'NULL', pg_temp.h('percent')), '22023',
     'admin: NULL ids with hostile strings: 22023'),
    ('admin', pg_temp.transfer_sql('ARRAY[1, 4]', pg_temp.h('1 MB of ASCII'), pg_temp.h('percent'), 'NULL'), '22023',
     'admin: a NULL owner with hostile strings: 22023 before SG007'),
    ('admin', pg_temp.transfer_sql('ARRAY[1, 4]', pg_temp.h('1 MB of ASCII'), pg_temp.h('percent'), pg_temp.h('underscore')),
     'SG007', 'admin: documents of two students with hostile strings: SG007'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', pg_temp.h('1 MB of four-byte characters'), pg_temp.h('percent'), pg_temp.h('underscore')),
     'SG003', 'admin: hostile strings everywhere: SG003 first'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'pine.k12.example'$$, pg_temp.h('percent'), pg_temp.h('underscore')),
     'SG010', 'admin: another state with hostile strings: SG010'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'maple.k12.example'$$, pg_temp.h('percent'), pg_temp.h('underscore')),
     'SG009', 'admin: own district with hostile strings: SG009'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, pg_temp.h('1 MB of four-byte characters'), pg_temp.h('underscore')),
     'SG004', 'admin: a 1 MB SIS Student ID and a hostile owner: SG004'),
    ('admin', 'SELECT samegoal.sg_set_transfers_enabled(NULL)', '22023', 'admin: sg_set_transfers_enabled(NULL): 22023'),
    ('admin', 'SELECT samegoal.sg_purge_documents(ARRAY[1, 7])', 'SG008', 'admin: purge of a live document: SG008'),
    ('admin', 'SELECT samegoal.sg_purge_documents(ARRAY[[7, 8], [9, 1]])', 'SG008',
     'admin: a live document in a two-dimensional array: SG008'),
    ('admin', 'SELECT samegoal.sg_purge_documents(ARRAY[7, 5])', 'SG006',
     'admin: a deleted document with another district''s id: SG006'),
    -- Encoding tricks are refused by PostgreSQL before any function sees them.
    ('admin', $$SELECT samegoal.sg_act_as(convert_from('\xff'::bytea, 'UTF8'), 'madmin')$$, '22021',
     'invalid UTF-8 through convert_from: 22021 from PostgreSQL'),
    ('admin', $$SELECT samegoal.sg_act_as(convert_from('\xc0af'::bytea, 'UTF8'), 'madmin')$$, '22021',
     'an overlong UTF-8 sequence: 22021 from PostgreSQL'),
    ('admin', $$SELECT samegoal.sg_act_as(convert_from('\xedb080'::bytea, 'UTF8'), 'madmin')$$, '22021',
     'a UTF-8 surrogate: 22021 from PostgreSQL'),
    ('admin', $$SELECT samegoal.sg_act_as(convert_from('\xff'::bytea, 'SQL_ASCII'), 'madmin')$$, '22021',
     'a high byte claimed to be SQL_ASCII: 22021 from PostgreSQL'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', 'chr(55296)', $$'C-2001'$$, $$'cteacher'$$), '54000',
     'chr() of a surrogate: 54000 from PostgreSQL'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', 'chr(0)', $$'C-2001'$$, $$'cteacher'$$), '54000',
     'chr(0): 54000 from PostgreSQL'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar' || E'\\x00'$$, $$'C-2001'$$, $$'cteacher'$$), 'SG003',
     'a backslash-x-zero text (not a NUL): SG003'),
    -- The setting functions take any string; they are tested for their answer below.
    ('admin', format('SELECT samegoal.sg_set_transfer_coordinator(%s, %s, %s)',
                     pg_temp.h('1 MB of ASCII'), pg_temp.h('SQL injection'), pg_temp.h('1 MB of four-byte characters')),
     '22023', 'admin: 1 MB coordinator contact: 22023'),
    -- A transfer in a read-only transaction.
    ('admin', 'SELECT pg_temp.read_only_transfer()', '25006', 'admin: a transfer in a read-only transaction: 25006'),
    ('admin', 'SELECT pg_temp.read_only_purge()', '25006', 'admin: a purge in a read-only transaction: 25006'),
    -- The set-returning function where a set is not expected.
    ('admin', 'SELECT samegoal.sg_transfer_documents(ARRAY[1], ''cedar.k12.example'', ''C-2001'', ''nobody'') IS NULL',
     'SG005', 'admin: transfer in an expression: SG005'),
    ('admin', 'SELECT 1 WHERE EXISTS (SELECT samegoal.sg_transfer_documents(NULL, NULL, NULL, NULL))',
     '22023', 'admin: transfer in a sublink: 22023'),
    -- allow_mismatch: NULL, true and false, with the other arguments valid or hostile
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2001'$$, $$'cteacher', NULL$$), '22023',
     'admin: allow_mismatch NULL to a matching student: 22023'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2002'$$, $$'cteacher', allow_mismatch => NULL::boolean$$),
     '22023', 'admin: allow_mismatch => NULL: 22023'),
    ('admin', pg_temp.transfer_sql('NULL', 'NULL', 'NULL', 'NULL, NULL'), '22023', 'admin: five NULL arguments: 22023'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', pg_temp.h('1 MB of ASCII'), pg_temp.h('percent'), pg_temp.h('underscore') || ', NULL'),
     '22023', 'admin: allow_mismatch NULL with hostile strings: 22023 first'),
    -- to a student who does not match: sent (held, 1.3), no SG012; undone by the helper
    ('admin', format('SELECT pg_temp.sent_then_undone(%L)', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2002'$$, $$'cteacher'$$)),
     'SGT01', 'admin: four arguments to a student who does not match: sent'),
    ('admin', format('SELECT pg_temp.sent_then_undone(%L)', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2002'$$, $$'cteacher', false$$)),
     'SGT01', 'admin: allow_mismatch false to a student who does not match: sent'),
    ('admin', pg_temp.transfer_sql('ARRAY[1, 4]', $$'cedar.k12.example'$$, $$'C-2002'$$, $$'cteacher', true$$), 'SG007',
     'admin: allow_mismatch true with documents of two students: SG007'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', pg_temp.h('1 MB of four-byte characters'), pg_temp.h('percent'), pg_temp.h('underscore') || ', true'),
     'SG003', 'admin: allow_mismatch true with hostile strings everywhere: SG003'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2002'$$, $$'nobody', true$$), 'SG005',
     'admin: allow_mismatch true and no such owner: SG005'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2002'$$, $$'nobody', false$$), 'SG005',
     'admin: no such owner and a student who does not match: SG005'),
    ('admin', pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2002'$$, $$'cteacher', allow_mismatch => 'maybe'$$),
     '22P02', 'admin: allow_mismatch => ''maybe'': 22P02 from PostgreSQL');

-- Transfer requests: every argument NULL or hostile. Maple's admin asks Cedar
-- (valid domain, then hostile student and owner), answers request ids that do
-- not exist, and acknowledges transfers that do not exist.
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'not acting', format('SELECT samegoal.%s(%s)', f, args), '42501', format('not acting: %s(%s)', f, args)
  FROM (VALUES ('sg_request_transfer', 'NULL, NULL, NULL'), ('sg_request_transfer', 'NULL, NULL, NULL, NULL, NULL'),
               ('sg_fulfill_transfer_request', 'NULL, NULL'), ('sg_fulfill_transfer_request', 'NULL, NULL, NULL'),
               ('sg_decline_transfer_request', 'NULL, NULL'), ('sg_cancel_transfer_request', 'NULL'),
               ('sg_acknowledge_transfer', 'NULL')) AS c(f, args);
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'teacher', format('SELECT samegoal.%s(%s)', f, args), '42501', format('teacher: %s(%s)', f, args)
  FROM (VALUES ('sg_request_transfer', 'NULL, NULL, NULL'), ('sg_fulfill_transfer_request', 'NULL, NULL'),
               ('sg_decline_transfer_request', 'NULL, NULL'), ('sg_cancel_transfer_request', 'NULL')) AS c(f, args);
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', format('SELECT samegoal.sg_request_transfer(%s, %L, %L)', pg_temp.h(label), 'C-2001', 'cteacher'),
       CASE WHEN blank THEN '22023' ELSE 'SG003' END, format('admin: request, sending_domain %s', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', format('SELECT samegoal.sg_request_transfer(%L, %s, %L)', 'cedar.k12.example', pg_temp.h(label), 'madmin'),
       CASE WHEN blank THEN '22023' ELSE 'SG004' END, format('admin: request, receiving_sis_student_id %s', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', format('SELECT samegoal.sg_request_transfer(%L, %L, %s)', 'cedar.k12.example', 'M-1001', pg_temp.h(label)),
       CASE WHEN blank THEN '22023' ELSE 'SG005' END, format('admin: request, receiving_owner %s', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', format('SELECT samegoal.sg_request_transfer(%L, %L, %L, %s, %s)', 'cedar.k12.example', 'M-9999', 'madmin',
                       pg_temp.h(label), pg_temp.h(label)),
       CASE WHEN char_length(val) > 20 THEN '22023' ELSE 'SG004' END,
       format('admin: request, note and sending_sis_student_id %s', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', format('SELECT * FROM samegoal.sg_fulfill_transfer_request(%s, %s)', r, h.expr),
       CASE WHEN h.kind = 'invalid' OR r = 'NULL' THEN '22023' ELSE 'SG011' END,
       format('admin: fulfil request %s with %s', r, h.label)
  FROM (VALUES ('NULL'), ('-1'), ('0'), ('9223372036854775807')) AS c(r), hostile_ids h;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', format('SELECT samegoal.sg_decline_transfer_request(%s, %s)', '9223372036854775807', pg_temp.h(label)),
       CASE WHEN blank OR char_length(val) > 1000 THEN '22023' ELSE 'SG011' END,
       format('admin: decline, reason %s', label)
  FROM hostile_text;
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'admin', format('SELECT samegoal.%s(%s)', f, r),
       CASE WHEN f = 'sg_acknowledge_transfer' THEN 'SG006' WHEN r = 'NULL' THEN '22023' ELSE 'SG011' END,
       format('admin: %s(%s)', f, r)
  FROM (VALUES ('sg_cancel_transfer_request'), ('sg_acknowledge_transfer')) AS c(f),
       (VALUES ('NULL'), ('-9223372036854775808'), ('0'), ('9223372036854775807')) AS d(r);
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'outsider', format('SELECT samegoal.%s(%s)', f, args), '42501', format('outsider: %s(%s)', f, args)
  FROM (VALUES ('sg_request_transfer', 'NULL, NULL, NULL'), ('sg_fulfill_transfer_request', 'NULL, NULL'),
               ('sg_decline_transfer_request', 'NULL, NULL'), ('sg_cancel_transfer_request', 'NULL'),
               ('sg_acknowledge_transfer', 'NULL')) AS c(f, args);

-- Someone who is not a member of samegoal_app may call nothing.
INSERT INTO cases (section, sql, sqlstate, description)
SELECT 'outsider', format('SELECT samegoal.%s(%s)', f, args), '42501', format('outsider: %s(%s)', f, args)
  FROM (VALUES ('sg_act_as', 'NULL, NULL'), ('sg_act_as', $$'maple.k12.example', 'madmin'$$),
               ('sg_current_user_id', ''), ('sg_current_district_id', ''),
               ('sg_set_transfers_enabled', 'NULL'), ('sg_set_transfer_coordinator', 'NULL, NULL, NULL'),
               ('sg_delete_documents', 'NULL'), ('sg_restore_documents', 'NULL'),
               ('sg_purge_documents', 'NULL'), ('sg_transfer_documents', 'NULL, NULL, NULL, NULL'),
               ('sg_transfer_documents', 'NULL, NULL, NULL, NULL, NULL'),
               ('sg_require_admin', ''), ('sg_change_deletion', 'NULL, true')) AS c(f, args);

-- A superuser, not acting: the internal helpers and the trigger functions.
INSERT INTO cases (section, sql, sqlstate, description) VALUES
    ('superuser', 'SELECT samegoal.sg_require_admin()', '42501', 'superuser: sg_require_admin() not acting: 42501'),
    ('superuser', 'SELECT samegoal.sg_change_deletion(NULL, true)', '42501',
     'superuser: sg_change_deletion(NULL, true) not acting: 42501'),
    ('superuser', 'SELECT samegoal.sg_transfers_check_settings()', '0A000',
     'superuser: the settings trigger function called directly: 0A000'),
    ('superuser', 'SELECT samegoal.sg_transfer_record_kept()', '0A000',
     'superuser: the record trigger function called directly: 0A000'),
    ('superuser', 'SELECT samegoal.sg_act_as(NULL, NULL)', '28000', 'superuser: sg_act_as(NULL, NULL): 28000'),
    ('superuser', pg_temp.transfer_sql('NULL', 'NULL', 'NULL', 'NULL'), '42501',
     'superuser: a transfer while not acting: 42501'),
    ('superuser', 'SELECT samegoal.sg_purge_documents(NULL)', '42501', 'superuser: a purge while not acting: 42501'),
    ('superuser', $$SET samegoal.acting_identity = '1,1'$$, '42501', 'superuser: SET of the identity: 42501'),
    ('superuser', $$SELECT set_config('samegoal.acting_identity', '1,1', true)$$, '42501',
     'superuser: set_config() of the identity: 42501'),
    ('superuser', $$SELECT set_config('samegoal.acting_identity', repeat('9', 1048576), true)$$, '42501',
     'superuser: a 1 MB identity: 42501'),
    ('superuser', $$SELECT set_config('samegoal.anything', 'x', true)$$, '42602',
     'superuser: another samegoal.* setting cannot be created: 42602');

-- A transfer that must succeed, copying one document, then undone by an error
-- of its own (SGT01), so that the counts below stay those of failed calls.
CREATE FUNCTION pg_temp.sent_then_undone(sql text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    copied_count bigint;
BEGIN
    EXECUTE format('SELECT count(*) FILTER (WHERE copied) FROM (%s) t', sql) INTO copied_count;
    IF copied_count = 1 THEN
        RAISE EXCEPTION 'sent, and undone' USING ERRCODE = 'SGT01';
    END IF;
END
$$;

-- Helpers for the read-only cases: the transaction becomes read-only inside
-- the case's subtransaction, and goes back when the error rolls it back.
CREATE FUNCTION pg_temp.read_only_transfer() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('transaction_read_only', 'on', true);
    RETURN (SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2001', 'cteacher'));
END
$$;
CREATE FUNCTION pg_temp.read_only_purge() RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('transaction_read_only', 'on', true);
    RETURN samegoal.sg_purge_documents(ARRAY[7]);
END
$$;

-- Run the cases of a section.
CREATE FUNCTION pg_temp.run_section(section_name text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM pg_temp.cases WHERE section = section_name ORDER BY n LOOP
        IF c.sqlstate IS NULL THEN
            RETURN NEXT lives_ok(c.sql, c.description);
        ELSE
            RETURN NEXT throws_ok(c.sql, c.sqlstate, NULL, c.description || ': ' || c.sqlstate);
        END IF;
    END LOOP;
END
$$;

GRANT SELECT ON hostile_text, hostile_ids, cases TO PUBLIC;

SELECT plan((SELECT count(*)::int FROM cases) + 36);
\ir ../fixtures/tap_share.sql

SELECT * FROM pg_temp.run_section('superuser');

SET ROLE regress_sg_outsider;
SELECT * FROM pg_temp.run_section('outsider');

SET ROLE regress_sg_app;
SELECT * FROM pg_temp.run_section('not acting');

SELECT is(samegoal.sg_act_as('maple.k12.example', 'mteacher'), 2::bigint, 'acting as Maple''s teacher');
SELECT * FROM pg_temp.run_section('teacher');

SELECT is(samegoal.sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'acting as Maple''s admin');
SELECT * FROM pg_temp.run_section('admin');

-- After all those errors, caught in subtransactions, the session is as it was.
SELECT is(current_user::text, 'regress_sg_app', 'the role is unchanged');
SELECT is(current_setting('search_path'), 'public, pg_catalog', 'the search_path is unchanged');
SELECT is(current_setting('transaction_read_only'), 'off', 'the transaction is read-write again');
SELECT is(samegoal.sg_current_user_id(), 1::bigint, 'the identity is unchanged');

RESET ROLE;
SELECT is((SELECT count(*) FROM samegoal.documents), 9::bigint, 'no failed call wrote a document');
SELECT is((SELECT count(*) FROM samegoal.documents WHERE deleted_at IS NOT NULL), 3::bigint, '...nor deleted or restored one');
SELECT is((SELECT count(*) FROM samegoal.transfers) + (SELECT count(*) FROM samegoal.purged_documents), 0::bigint,
          '...nor wrote a transfer or a tombstone');
SELECT is((SELECT coordinator_name FROM samegoal.districts WHERE id = 1), 'Dana Reyes',
          'the refused 1 MB coordinator name changed nothing');
SELECT is((SELECT coordinator_email FROM samegoal.districts WHERE id = 1),
          'transfers@maple.k12.example', '...nor the email given with it');
SET ROLE regress_sg_app;

-- Correct answers to odd but valid input.
SELECT is(samegoal.sg_current_user_id(), 1::bigint, 'still acting as Maple''s admin');
SELECT results_eq(
    $$SELECT source_document_id, copied FROM samegoal.sg_transfer_documents('[5:7]={3,1,2}'::bigint[],
          U&'\0009 CEDAR.k12.Example\000A', 'C-2001', 'TEACHER@cedar.K12.example')$$,
    $$VALUES (1::bigint, true), (2, true), (3, true)$$,
    'ids with lower bound 5, a domain in odd case and blanks, an owner''s email in odd case: copied');
SELECT results_eq(
    $$SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[[3, 3], [1, 2], [2, 1]]::bigint[],
          'cedar.k12.example', 'C-2001', 'cteacher')$$,
    $$VALUES (1::bigint, false), (2, false), (3, false)$$,
    'a two-dimensional array with duplicates: the same three documents, not copied again');
SELECT results_eq(
    $$SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(array_fill(3::bigint, ARRAY[100000], ARRAY[-50000]),
          'cedar.k12.example', 'C-2001', 'cteacher')$$,
    $$VALUES (3::bigint, false)$$,
    '100,000 copies of one id, lower bound -50000: one row');
SELECT is((SELECT count(*) FROM samegoal.transfers), 1::bigint, 'one transfer in all');
SELECT results_eq(
    $$SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cteacher',
          allow_mismatch => 'on')$$,
    $$VALUES (4::bigint, true)$$,
    'allow_mismatch given as the string on: copied to a student who does not match');
SELECT is(samegoal.sg_delete_documents(array_fill(1::bigint, ARRAY[2, 50000])), 1,
          'delete: a 2 x 50,000 array of one id deletes one document');
SELECT is(samegoal.sg_delete_documents(ARRAY[[1, 2], [3, 1]]::bigint[]), 2,
          'delete: a two-dimensional array with duplicates counts each document once');
SELECT is(samegoal.sg_restore_documents('[-1:1]={1,1,2}'::bigint[]), 2,
          'restore: ids with lower bound -1');
SELECT is(samegoal.sg_restore_documents(ARRAY[1, 2]), 0, 'restore again: nothing changes');
SELECT is(samegoal.sg_purge_documents(ARRAY[[[7]], [[8]], [[7]]]::bigint[]), 2,
          'purge: a three-dimensional array with duplicates');
SELECT is(samegoal.sg_purge_documents('[2:2]={9}'::bigint[]), 1, 'purge: an id with lower bound 2');
SELECT results_eq('SELECT document_id FROM samegoal.purged_documents ORDER BY 1', ARRAY[7::bigint, 8, 9],
                  'three tombstones');
SELECT lives_ok($$SELECT samegoal.sg_set_transfer_coordinator(' Yakov Ivanov ', E'\tv@x.example\n', E'\x0B555-0101\f')$$,
                'coordinator: surrounding blanks');
SELECT results_eq(
    $$SELECT coordinator_name, coordinator_email, coordinator_phone FROM samegoal.districts$$,
    $$VALUES ('Yakov Ivanov', 'v@x.example', '555-0101')$$,
    'only the surrounding blanks are trimmed');
SELECT lives_ok($$SELECT samegoal.sg_set_transfer_coordinator(U&'\00A0', '%', E'\\')$$,
                'coordinator: a no-break space, a percent sign, a backslash');
SELECT lives_ok($$SELECT samegoal.sg_set_transfer_coordinator(E' \t\r\n\x0B\f', '', NULL)$$, 'coordinator: blanks and NULL');
SELECT lives_ok('SELECT samegoal.sg_set_transfers_enabled(false)', 'disable transfers');
SELECT lives_ok('SELECT samegoal.sg_set_transfers_enabled(true)', 'enable transfers');
RESET ROLE;
SELECT results_eq(
    $$SELECT coordinator_name, coordinator_email, coordinator_phone, transfers_enabled FROM samegoal.districts WHERE id = 1$$,
    $$VALUES (NULL::text, NULL::text, NULL::text, true)$$,
    'blank and NULL contact fields are cleared; the setting is back on');
SET ROLE regress_sg_app;

-- Error messages repeat at most about 100 bytes of a caller's string, cut on
-- a character boundary.
CREATE FUNCTION pg_temp.error_message(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
END
$$;
SELECT is(pg_temp.error_message(pg_temp.transfer_sql('ARRAY[1]', pg_temp.h('1 MB of four-byte characters'), $$'C-2001'$$, $$'cteacher'$$)),
          format('no district with domain "%s..."', repeat(U&'\+01F600', 25)),
          'SG003 repeats the first 100 bytes of a 1 MB domain, whole characters only');
SELECT is(pg_temp.error_message(pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$repeat('a', 99) || repeat(U&'\00E9', 10)$$, $$'cteacher'$$)),
          format('no student with SIS Student ID "%s..." in the receiving district', repeat('a', 99)),
          'SG004 does not cut a two-byte character in half');
SELECT is(pg_temp.error_message(pg_temp.transfer_sql('ARRAY[1]', $$'cedar.k12.example'$$, $$'C-2001'$$, pg_temp.h('format specifiers'))),
          'no active user with username or email "%s%n%x%d" in the receiving district',
          'SG005 repeats format specifiers literally');
SELECT ok(pg_temp.error_message('SELECT samegoal.sg_act_as(repeat(''x'', 1048576), ''madmin'')') !~ 'x',
          'sg_act_as does not repeat the domain');

-- The connection survived everything.
SELECT is((SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()), 1::bigint, 'still connected');

SELECT * FROM finish();
ROLLBACK;
