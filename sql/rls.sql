-- Row-level security and grants: each district sees and changes only its own rows.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all

-- A superuser owns every table and function (the extension is superuser-only):
-- the PL/pgSQL functions that read across districts (sg_request_transfer's
-- lookup of the asked district) rely on it, as FORCE ROW LEVEL SECURITY binds
-- any other owner.
SELECT bool_and(r.rolsuper) AS tables_owned_by_a_superuser, count(*) > 0 AS some
  FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
 WHERE c.relnamespace = 'samegoal'::regnamespace AND c.relkind = 'r';
SELECT bool_and(r.rolsuper) AS functions_owned_by_a_superuser
  FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
 WHERE p.pronamespace = 'samegoal'::regnamespace;

-- rows visible per table, for whoever runs it
CREATE FUNCTION public.regress_sg_visible()
RETURNS TABLE (tbl text, visible bigint, districts text)
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['districts', 'users', 'students', 'documents', 'document_files',
                             'transfers', 'transfer_documents', 'purged_documents'] LOOP
        tbl := t;
        IF t = 'districts' THEN
            EXECUTE 'SELECT count(*), string_agg(DISTINCT id::text, '','') FROM samegoal.districts'
                INTO visible, districts;
        ELSIF t IN ('transfers', 'transfer_documents') THEN
            EXECUTE format('SELECT count(*), string_agg(DISTINCT sending_district_id || ''>'' || receiving_district_id, '','') FROM samegoal.%I', t)
                INTO visible, districts;
        ELSE
            EXECUTE format('SELECT count(*), string_agg(DISTINCT district_id::text, '','') FROM samegoal.%I', t)
                INTO visible, districts;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION public.regress_sg_visible() TO regress_sg_app;

-- a transfer record between maple and cedar, written by the superuser
INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
                                receiving_student_id, receiving_owner_id, initiated_by, document_count)
VALUES (1, 2, 1, 3, 5, 1, 1);
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, transfer_id, source_document_id)
VALUES (2, 3, 5, 'IEP', 'IEP 2025-2026', 1, 1);
INSERT INTO samegoal.transfer_documents VALUES (1, 1, 2, 1, 7);

-- the superuser sees everything
SELECT * FROM public.regress_sg_visible();

SET ROLE regress_sg_app;
-- not acting: nothing
SELECT * FROM public.regress_sg_visible();
-- maple sees maple's rows and the record of the transfer it sent
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SELECT * FROM public.regress_sg_visible();
COMMIT;
-- cedar sees cedar's rows, the copy and the record of the transfer it received
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
SELECT * FROM public.regress_sg_visible();
COMMIT;
-- pine sees only pine
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'pteacher');
SELECT * FROM public.regress_sg_visible();
COMMIT;

-- writes as cedar
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
-- district_id defaults to the acting district
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES ('C-2003', 'Sam', 'Ortiz')
RETURNING district_id, sis_student_id;
INSERT INTO samegoal.users (username, email) VALUES ('cnew', 'New@Cedar.k12.example')
RETURNING district_id, username;
INSERT INTO samegoal.documents (student_id, owner_id, doc_type, title)
VALUES (3, 4, 'IEP', 'Draft IEP') RETURNING id, district_id, deleted_at, transfer_id;
INSERT INTO samegoal.document_files (document_id, filename, data)
VALUES (8, 'draft.pdf', '\x00') RETURNING district_id, content_type;
UPDATE samegoal.documents SET title = 'Draft IEP v2' WHERE id = 8 RETURNING title;
-- other districts' rows are invisible to UPDATE
UPDATE samegoal.documents SET title = 'hijacked' WHERE id = 1 RETURNING id;
UPDATE samegoal.users SET full_name = 'hijacked' WHERE district_id = 1 RETURNING id;
COMMIT;

-- each forbidden write, one transaction each
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name) VALUES (1, 'X', 'a', 'b');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
INSERT INTO samegoal.users (district_id, username) VALUES (1, 'intruder');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
-- a student of another district reads like a missing one
INSERT INTO samegoal.documents (student_id, owner_id, doc_type, title) VALUES (1, 4, 'IEP', 'x');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
INSERT INTO samegoal.documents (student_id, owner_id, doc_type, title) VALUES (999, 4, 'IEP', 'x');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
INSERT INTO samegoal.documents (student_id, owner_id, doc_type, title) VALUES (3, 1, 'IEP', 'x');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
INSERT INTO samegoal.document_files (document_id, filename, data) VALUES (1, 'x', '\x00');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
UPDATE samegoal.documents SET student_id = 1 WHERE id = 5;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
UPDATE samegoal.documents SET deleted_at = now() WHERE id = 5;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
UPDATE samegoal.documents SET transfer_id = 1, source_document_id = 2 WHERE id = 5;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
UPDATE samegoal.documents SET deleted_by = 4 WHERE id = 5;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
UPDATE samegoal.documents SET district_id = 1 WHERE id = 5;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
INSERT INTO samegoal.documents (student_id, owner_id, doc_type, title, transfer_id, source_document_id)
VALUES (3, 4, 'IEP', 'x', 1, 1);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
DELETE FROM samegoal.documents WHERE id = 5;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
DELETE FROM samegoal.document_files WHERE document_id = 5;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
DELETE FROM samegoal.students WHERE id = 4;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
DELETE FROM samegoal.users WHERE id = 6;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
UPDATE samegoal.districts SET transfers_enabled = false;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
INSERT INTO samegoal.districts (domain, name, state) VALUES ('new.k12.example', 'New', 'OR');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
DELETE FROM samegoal.transfers;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
UPDATE samegoal.transfer_documents SET received_document_id = NULL;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
INSERT INTO samegoal.purged_documents (document_id, district_id, student_id, doc_type) VALUES (7, 2, 3, 'IEP');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
TRUNCATE samegoal.documents;
ROLLBACK;
-- not acting: no district to default to, and nothing to update
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES ('Z', 'a', 'b');
UPDATE samegoal.students SET first_name = 'x' RETURNING id;
-- the same username in another district is fine; in the same district, in any case, it is not
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
INSERT INTO samegoal.users (username, email) VALUES ('madmin', 'admin@maple.k12.example') RETURNING district_id;
INSERT INTO samegoal.users (username) VALUES ('PTEACHER');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
INSERT INTO samegoal.users (username, email) VALUES ('other', 'ADMIN@pine.k12.example');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES ('M-1001', 'a', 'b') RETURNING district_id;
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES ('P-3001', 'a', 'b');
ROLLBACK;
-- SIS Student ID: 1 to 20 characters
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES (repeat('9', 20), 'a', 'b') RETURNING sis_student_id;
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES (repeat('9', 21), 'a', 'b');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
INSERT INTO samegoal.students (sis_student_id, first_name, last_name) VALUES ('', 'a', 'b');
ROLLBACK;
RESET ROLE;

-- the superuser too is held to the same-district rule
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title) VALUES (2, 1, 4, 'IEP', 'x');
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title) VALUES (2, 3, 1, 'IEP', 'x');
INSERT INTO samegoal.document_files (district_id, document_id, filename, data) VALUES (2, 1, 'x', '\x00');
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, transfer_id, source_document_id)
VALUES (3, 5, 8, 'IEP', 'x', 1, 1);
INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
                                receiving_student_id, receiving_owner_id, initiated_by, document_count)
VALUES (1, 2, 3, 3, 5, 1, 1);
-- a transfer record must name a copy that this transfer delivered from that original
INSERT INTO samegoal.transfer_documents VALUES (1, 1, 2, 2, 5);
INSERT INTO samegoal.transfer_documents VALUES (1, 1, 2, 2, 7);
-- and nobody rewrites which district sent or received it
UPDATE samegoal.transfer_documents SET sending_district_id = 3;
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name) VALUES (1, repeat('x', 21), 'a', 'b');

-- the policies read the identity once per query and keep the district_id index usable
-- (the plan as 17 and later show it: before 17 the InitPlan's value reads $0)
CREATE FUNCTION pg_temp.sg_plan(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        line := replace(line, 'InitPlan 1 (returns $0)', 'InitPlan 1');
        RETURN NEXT replace(line, '$0', '(InitPlan 1).col1');
    END LOOP;
END
$$;
ANALYZE samegoal.documents;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SET LOCAL enable_seqscan = off;
SELECT pg_temp.sg_plan('SELECT id, title FROM samegoal.documents WHERE student_id = 1 AND deleted_at IS NULL')
    AS "QUERY PLAN";
COMMIT;
RESET ROLE;

DROP FUNCTION public.regress_sg_visible();
DROP EXTENSION samegoal_transfer;
DROP SCHEMA samegoal;
DROP ROLE regress_sg_app, regress_sg_outsider;
