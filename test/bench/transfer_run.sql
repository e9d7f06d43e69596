-- One round of test/bench/transfer.sql: the function, then the same rows by hand.
\echo 'run' :run ': sg_transfer_documents'
BEGIN;
\o /dev/null
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
\o
SELECT count(*) AS copied FROM samegoal.sg_transfer_documents(:'ids', 'cedar.k12.example', 'C-2001', 'cteacher');
ROLLBACK;

\echo 'run' :run ': plain INSERT ... SELECT'
BEGIN;
\o /dev/null
SELECT 1;
\o
WITH t AS (
    INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
                                    receiving_student_id, receiving_owner_id, initiated_by, document_count)
    VALUES (1, 2, 1, 3, 5, 1, 1000) RETURNING id
), copies AS (
    INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content,
                                    transfer_id, source_document_id)
    SELECT 2, 3, 5, d.doc_type, d.title, d.content, (SELECT id FROM t), d.id
      FROM samegoal.documents d WHERE d.id = ANY (:'ids') ORDER BY d.id
    RETURNING id, source_document_id, transfer_id
), files AS (
    INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
    SELECT 2, c.id, f.filename, f.content_type, f.data
      FROM copies c JOIN samegoal.document_files f ON f.district_id = 1 AND f.document_id = c.source_document_id
)
INSERT INTO samegoal.transfer_documents (transfer_id, sending_district_id, receiving_district_id,
                                         source_document_id, received_document_id)
SELECT c.transfer_id, 1, 2, c.source_document_id, c.id FROM copies c;
ROLLBACK;
