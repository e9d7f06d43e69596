-- The walkthrough that examples/demo runs, after examples/data.sql, in its
-- database. test/checks/readme.sh runs both the same way before the README's
-- examples, which start where this story ends.
\pset footer off
\set VERBOSITY default
-- Each intended error is followed by its SQLSTATE, the code the README's
-- tables name (psql's default verbosity shows the message, detail and hint,
-- not the code).

\echo
\echo '== 1. The example (examples/data.sql): three districts, two in Oregon and one in Washington'
\dx samegoal_transfer
SELECT d.domain, d.name, d.state, d.transfers_enabled,
       (SELECT count(*) FROM samegoal.users u WHERE u.district_id = d.id) AS users,
       (SELECT count(*) FROM samegoal.students s WHERE s.district_id = d.id) AS students,
       (SELECT count(*) FROM samegoal.documents x WHERE x.district_id = d.id) AS documents
  FROM samegoal.districts d ORDER BY d.id;

\echo
\echo '== 2. Acting as a user of Riverside: only Riverside''s rows are visible'
SET ROLE demo_app;
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'tbrooks') AS acting_user_id;
SELECT s.sis_student_id, s.first_name, s.last_name, d.doc_type, d.title
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 ORDER BY d.id;
COMMIT;

\echo
\echo '== 3. Acting as a user of Lakeview: only Lakeview''s rows are visible'
BEGIN;
SELECT samegoal.sg_act_as('lakeview.k12.example', 'jo.morales@lakeview.k12.example') AS acting_user_id;
SELECT s.sis_student_id, s.first_name, s.last_name, d.doc_type, d.title
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 ORDER BY d.id;
SELECT count(*) AS riverside_documents_visible_to_lakeview
  FROM samegoal.documents WHERE district_id = (SELECT id FROM samegoal.districts WHERE domain = 'riverside.k12.example');
COMMIT;

\echo
\echo '== 4. Not acting: nothing is visible'
SELECT count(*) AS documents_visible FROM samegoal.documents;
RESET ROLE;

\echo
\echo '== 5. Riverside''s admin looks Lakeview up in the district directory (with a typo)'
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
\echo '== 6. Riverside''s admin sends Maya Thompson''s documents to Lakeview'
\echo '      ...but types the SIS Student ID of another Lakeview student (LV-55109, Noah Baker).'
\echo '      Neither name nor birth date is the same: the copies arrive held, for Lakeview to decide.'
\echo '      The sender sees what it sees of any transfer (nothing tells it the students differ):'
SET ROLE demo_app;
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT * FROM samegoal.sg_transfer_documents(
    ARRAY(SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
           WHERE s.sis_student_id = '100234'),
    'lakeview.k12.example', 'LV-55109', 'jo.morales@lakeview.k12.example');
SELECT t.id AS transfer_id, t.receiving_student_id, t.document_count, t.attached_student_id, t.returned_at
  FROM samegoal.transfers t ORDER BY t.id;
COMMIT;

\echo
\echo '== 7. Errors a DBA may meet: unknown student, then a district of another state'
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SAVEPOINT try;
\set ON_ERROR_STOP 0
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'lakeview.k12.example', 'LV-99999', 'jmorales');
\echo '      ^ SQLSTATE' :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT try;
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'northfork.k12.example', 'NF-7001', 'lchen');
\echo '      ^ SQLSTATE' :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT try;
\set ON_ERROR_STOP 1
COMMIT;

\echo
\echo '== 8. Lakeview sees the held arrival: Maya Thompson as sent, beside its own Noah Baker.'
\echo '      Noah''s documents do not show them; the admin finds Maya (LV-55102) and accepts onto her.'
BEGIN;
SELECT samegoal.sg_act_as('lakeview.k12.example', 'kpatel') AS acting_user_id;
SELECT kind, id, from_district_name, student_first_name, student_last_name, receiving_sis_student_id,
       sent_first_name, sent_last_name, sent_birth_date, document_count
  FROM samegoal.transfer_inbox WHERE kind = 'held';
SELECT count(*) AS documents_on_noah FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 WHERE s.sis_student_id = 'LV-55109';
SELECT id, doc_type, title, transfer_id FROM samegoal.held_documents ORDER BY id;
SELECT samegoal.sg_accept_transfer(1, 'LV-55102') AS accepted;
SELECT s.sis_student_id, s.first_name, s.last_name, d.id AS document_id, d.doc_type, d.title, d.transfer_id
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 WHERE d.transfer_id IS NOT NULL ORDER BY d.id;
COMMIT;

\echo
\echo '== 9. Riverside reads the decision in its record; sending the documents to LV-55102 again'
\echo '      copies nothing (copied = false). A second send to the wrong ID arrives held too,'
\echo '      and this time Lakeview returns it with a reason: the copies are purged, Riverside told.'
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT t.id AS transfer_id, t.receiving_student_id, t.attached_student_id, t.acknowledged_at IS NOT NULL AS acknowledged
  FROM samegoal.transfers t ORDER BY t.id;
SELECT * FROM samegoal.sg_transfer_documents(
    ARRAY(SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
           WHERE s.sis_student_id = '100234'),
    'lakeview.k12.example', 'LV-55102', 'jmorales');
SELECT * FROM samegoal.sg_transfer_documents(
    ARRAY(SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
           WHERE s.sis_student_id = '100234'),
    'lakeview.k12.example', 'LV-55109', 'jmorales');
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('lakeview.k12.example', 'kpatel') AS acting_user_id;
SELECT samegoal.sg_return_transfer(2, 'LV-55109 is Noah Baker; Maya Thompson is LV-55102 and has these already.') AS purged;
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT t.id AS transfer_id, t.returned_at IS NOT NULL AS returned, t.return_reason
  FROM samegoal.transfers t WHERE t.id = 2;
COMMIT;

\echo
\echo '== 10. Afterwards: what Lakeview sees'
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
\echo '== 11. Afterwards: what Riverside sees (its originals and its record are untouched)'
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT d.id, d.doc_type, d.title, d.deleted_at FROM samegoal.documents d ORDER BY d.id;
SELECT transfer_id, source_document_id, received_document_id FROM samegoal.transfer_documents
 ORDER BY transfer_id, source_document_id;
SELECT count(*) AS lakeview_documents_visible_to_riverside
  FROM samegoal.documents WHERE transfer_id IS NOT NULL;
COMMIT;

\echo
\echo '== 12. North Fork (Washington) sees none of it'
BEGIN;
SELECT samegoal.sg_act_as('northfork.k12.example', 'lchen') AS acting_user_id;
SELECT (SELECT count(*) FROM samegoal.transfers) AS transfers_visible,
       (SELECT count(*) FROM samegoal.documents) AS documents_visible;
COMMIT;
RESET ROLE;

\echo
SET ROLE demo_app;
\echo '== 13. Sofia Ramirez moves from Riverside to Lakeview: Lakeview''s admin asks for her documents,'
\echo '      naming its own student (LV-55131) and the owner of the copies (Jo Morales).'
BEGIN;
SELECT samegoal.sg_act_as('lakeview.k12.example', 'kpatel') AS acting_user_id;
SELECT samegoal.sg_request_transfer('riverside.k12.example', 'LV-55131', 'jmorales',
    note => 'Sofia enrolled on Monday: please send her 504 plan.',
    sending_sis_student_id => '100955') AS request_id;
COMMIT;

\echo
\echo '== 14. Riverside''s admin finds the request in the inbox and fulfils it with Sofia''s documents'
BEGIN;
SELECT samegoal.sg_act_as('riverside.k12.example', 'rgarcia') AS acting_user_id;
SELECT kind, id, from_district_name, from_user_name, from_user_email,
       student_first_name, student_last_name, student_birth_date, note, expires_at::date
  FROM samegoal.transfer_inbox;
SELECT * FROM samegoal.sg_fulfill_transfer_request(
    (SELECT id FROM samegoal.transfer_inbox WHERE kind = 'request'),
    ARRAY(SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
           WHERE s.sis_student_id = '100955'));
SELECT id, status, transfer_id FROM samegoal.transfer_requests;
COMMIT;

\echo
\echo '== 15. Jo Morales at Lakeview sees who sent the documents and acknowledges the transfer'
BEGIN;
SELECT samegoal.sg_act_as('lakeview.k12.example', 'jmorales') AS acting_user_id;
SELECT kind, id, from_district_name, from_user_name, from_user_email,
       student_first_name, receiving_sis_student_id, document_count
  FROM samegoal.transfer_inbox WHERE kind = 'transfer' ORDER BY id DESC LIMIT 1;
SELECT samegoal.sg_acknowledge_transfer(
    (SELECT max(id) FROM samegoal.transfer_inbox WHERE kind = 'transfer'));
SELECT count(*) AS unacknowledged_from_this_request
  FROM samegoal.transfer_inbox t JOIN samegoal.transfers r ON r.id = t.id
 WHERE t.kind = 'transfer' AND r.request_id IS NOT NULL;
COMMIT;
RESET ROLE;
