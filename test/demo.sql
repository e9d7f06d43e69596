-- The walkthrough that test/demo runs against a fresh database.
\pset footer off
\set VERBOSITY default

\echo
\echo '== 1. Install the extension (it brings pg_trgm along) and an application login'
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
CREATE ROLE demo_app LOGIN IN ROLE samegoal_app;
\dx samegoal_transfer

\echo
\echo '== 2. The example: three districts, two in Oregon and one in Washington'
INSERT INTO samegoal.districts (domain, name, city, state, coordinator_name, coordinator_email, coordinator_phone)
VALUES ('riverside.k12.example', 'Riverside School District', 'Salem', 'OR',
        'Renee Garcia', 'transfers@riverside.k12.example', '503-555-0142'),
       ('lakeview.k12.example', 'Lakeview School District', 'Bend', 'OR', NULL, NULL, NULL),
       ('northfork.k12.example', 'North Fork School District', 'Yakima', 'WA', NULL, NULL, NULL);

INSERT INTO samegoal.users (district_id, username, email, full_name, is_admin)
SELECT d.id, u.username, u.email, u.full_name, u.is_admin
  FROM (VALUES ('riverside.k12.example', 'rgarcia', 'renee.garcia@riverside.k12.example', 'Renee Garcia', true),
               ('riverside.k12.example', 'tbrooks', 'tom.brooks@riverside.k12.example', 'Tom Brooks', false),
               ('lakeview.k12.example', 'kpatel', 'kiran.patel@lakeview.k12.example', 'Kiran Patel', true),
               ('lakeview.k12.example', 'jmorales', 'jo.morales@lakeview.k12.example', 'Jo Morales', false),
               ('northfork.k12.example', 'lchen', 'lee.chen@northfork.k12.example', 'Lee Chen', true))
       AS u(domain, username, email, full_name, is_admin)
  JOIN samegoal.districts d ON d.domain = u.domain;

INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name, birth_date)
SELECT d.id, s.sis, s.first_name, s.last_name, s.birth_date::date
  FROM (VALUES ('riverside.k12.example', '100234', 'Maya', 'Thompson', '2013-04-09'),
               ('riverside.k12.example', '100871', 'Eli', 'Watson', '2012-10-21'),
               ('lakeview.k12.example', 'LV-55102', 'Maya', 'Thompson', '2013-04-09'),
               ('lakeview.k12.example', 'LV-55109', 'Noah', 'Baker', '2013-01-30'),
               ('northfork.k12.example', 'NF-7001', 'Ava', 'Reed', '2014-06-12'))
       AS s(domain, sis, first_name, last_name, birth_date)
  JOIN samegoal.districts d ON d.domain = s.domain;

INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT s.district_id, s.id, u.id, doc.doc_type, doc.title, doc.content::jsonb
  FROM (VALUES ('100234', 'tbrooks', 'IEP', 'IEP 2025-2026',
                '{"eligibility": "Specific Learning Disability", "goals": ["Read grade-level text at 90 wpm", "Solve two-step word problems"], "service_minutes": 150}'),
               ('100234', 'tbrooks', 'Evaluation', 'Triennial Evaluation Report',
                '{"assessments": ["WISC-V", "WIAT-4"], "eligible": true}'),
               ('100234', 'rgarcia', '504 Plan', 'Section 504 Plan',
                '{"accommodations": ["extended time", "preferential seating"]}'),
               ('100871', 'tbrooks', 'IEP', 'IEP 2025-2026', '{"eligibility": "Speech or Language Impairment"}'),
               ('LV-55109', 'jmorales', 'IEP', 'IEP 2025-2026', '{"eligibility": "Other Health Impairment"}'),
               ('NF-7001', 'lchen', 'IEP', 'IEP 2025-2026', '{"eligibility": "Autism"}'))
       AS doc(sis, owner, doc_type, title, content)
  JOIN samegoal.students s ON s.sis_student_id = doc.sis
  JOIN samegoal.users u ON u.username = doc.owner AND u.district_id = s.district_id;

INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
SELECT d.district_id, d.id, lower(replace(d.title, ' ', '-')) || '.pdf', 'application/pdf',
       convert_to('%PDF-1.7 ' || d.title, 'UTF8')
  FROM samegoal.documents d;

SELECT d.domain, d.name, d.state, d.transfers_enabled,
       (SELECT count(*) FROM samegoal.users u WHERE u.district_id = d.id) AS users,
       (SELECT count(*) FROM samegoal.students s WHERE s.district_id = d.id) AS students,
       (SELECT count(*) FROM samegoal.documents x WHERE x.district_id = d.id) AS documents
  FROM samegoal.districts d ORDER BY d.id;

\echo
\echo '== 3. Acting as a user of Riverside: only Riverside''s rows are visible'
SET ROLE demo_app;
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'tbrooks') AS acting_user_id;
SELECT s.sis_student_id, s.first_name, s.last_name, d.doc_type, d.title
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 ORDER BY d.id;
COMMIT;

\echo
\echo '== 4. Acting as a user of Lakeview: only Lakeview''s rows are visible'
BEGIN;
SELECT samegoal.sg_act_as('lakeview.k12.example', 'jo.morales@lakeview.k12.example') AS acting_user_id;
SELECT s.sis_student_id, s.first_name, s.last_name, d.doc_type, d.title
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 ORDER BY d.id;
SELECT count(*) AS riverside_documents_visible_to_lakeview
  FROM samegoal.documents WHERE district_id = (SELECT id FROM samegoal.districts WHERE domain = 'riverside.k12.example');
COMMIT;

\echo
\echo '== 5. Not acting: nothing is visible'
SELECT count(*) AS documents_visible FROM samegoal.documents;
RESET ROLE;

\echo
\echo '== 6. Riverside''s admin looks Lakeview up in the district directory (with a typo)'
SET ROLE demo_app;
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT domain, name, city, accepts_transfers, coordinator_name
  FROM samegoal.sg_find_district('lakevew');
\echo '   Lakeview publishes its Transfer Coordinator; Riverside searches again'
SELECT samegoal.sg_act_as('lakeview.k12.example', 'kpatel') AS acting_user_id;
SELECT samegoal.sg_set_transfer_coordinator('Kiran Patel', 'transfers@lakeview.k12.example', '541-555-0177');
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT domain, name, accepts_transfers, coordinator_name, coordinator_email, coordinator_phone
  FROM samegoal.sg_find_district('lake');
COMMIT;
RESET ROLE;

\echo
\echo '== 7. Riverside''s admin sends Maya Thompson''s documents to Lakeview'
\echo '      ...but types the SIS Student ID of another Lakeview student (LV-55109, Noah Baker)'
SET ROLE demo_app;
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT * FROM samegoal.sg_transfer_documents(
    ARRAY(SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
           WHERE s.sis_student_id = '100234'),
    'lakeview.k12.example', 'LV-55109', 'jo.morales@lakeview.k12.example');
COMMIT;

\echo
\echo '== 8. Errors a DBA may meet: unknown student, then a district of another state'
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SAVEPOINT try;
\set ON_ERROR_STOP 0
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'lakeview.k12.example', 'LV-99999', 'jmorales');
ROLLBACK TO SAVEPOINT try;
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'northfork.k12.example', 'NF-7001', 'lchen');
ROLLBACK TO SAVEPOINT try;
\set ON_ERROR_STOP 1
COMMIT;

\echo
\echo '== 9. The sender redoes the transfer with the right SIS Student ID (LV-55102, Maya Thompson)'
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT * FROM samegoal.sg_transfer_documents(
    ARRAY(SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
           WHERE s.sis_student_id = '100234'),
    'lakeview.k12.example', 'LV-55102', 'jmorales');
\echo '   Sending the same documents again copies nothing (copied = false):'
SELECT * FROM samegoal.sg_transfer_documents(
    ARRAY(SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
           WHERE s.sis_student_id = '100234'),
    'lakeview.k12.example', 'LV-55102', 'jmorales');
\echo '   Riverside''s record of the disclosures:'
SELECT t.id AS transfer_id, t.receiving_district_id, t.receiving_student_id, t.document_count,
       t.initiated_at::date
  FROM samegoal.transfers t ORDER BY t.id;
COMMIT;

\echo
\echo '== 10. Lakeview deletes the copies that landed on the wrong student, then purges them'
BEGIN;
SELECT samegoal.sg_act_as('lakeview.k12.example', 'kpatel') AS acting_user_id;
SELECT s.sis_student_id, s.first_name, s.last_name, d.id AS document_id, d.doc_type, d.title, d.transfer_id
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 WHERE d.transfer_id IS NOT NULL ORDER BY d.id;
SELECT samegoal.sg_delete_documents(ARRAY(
    SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
     WHERE s.sis_student_id = 'LV-55109' AND d.transfer_id IS NOT NULL)) AS deleted;
SELECT samegoal.sg_purge_documents(ARRAY(
    SELECT d.id FROM samegoal.documents d WHERE d.deleted_at IS NOT NULL)) AS purged;
COMMIT;

\echo
\echo '== 11. Afterwards: what Lakeview sees'
BEGIN;
SELECT samegoal.sg_act_as('lakeview.k12.example', 'kpatel') AS acting_user_id;
SELECT s.sis_student_id, s.first_name, d.doc_type, d.title, d.transfer_id, d.source_document_id,
       (SELECT count(*) FROM samegoal.document_files f WHERE f.document_id = d.id) AS files
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 ORDER BY d.id;
SELECT document_id, student_id, doc_type, purged_at::date FROM samegoal.purged_documents ORDER BY document_id;
SELECT transfer_id, source_document_id, received_document_id FROM samegoal.transfer_documents
 ORDER BY transfer_id, source_document_id;
COMMIT;

\echo
\echo '== 12. Afterwards: what Riverside sees (its originals and its record are untouched)'
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT d.id, d.doc_type, d.title, d.deleted_at FROM samegoal.documents d ORDER BY d.id;
SELECT transfer_id, source_document_id, received_document_id FROM samegoal.transfer_documents
 ORDER BY transfer_id, source_document_id;
SELECT count(*) AS lakeview_documents_visible_to_riverside
  FROM samegoal.documents WHERE transfer_id IS NOT NULL;
COMMIT;

\echo
\echo '== 13. North Fork (Washington) sees none of it'
BEGIN;
SELECT samegoal.sg_act_as('northfork.k12.example', 'lchen') AS acting_user_id;
SELECT (SELECT count(*) FROM samegoal.transfers) AS transfers_visible,
       (SELECT count(*) FROM samegoal.documents) AS documents_visible;
COMMIT;
RESET ROLE;
