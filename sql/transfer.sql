-- District-to-District Transfer across committed transactions: the copies field
-- by field and byte for byte, the disclosure record, the notification, repeats,
-- redoing a transfer to the right student, rollback, and the setting.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all

-- The originals as they were, to compare with afterwards.
CREATE TEMP TABLE originals AS
SELECT d.*, (SELECT pg_catalog.array_agg(f ORDER BY f.id) FROM samegoal.document_files f
              WHERE f.document_id = d.id) AS files
  FROM samegoal.documents d;

-- psql prints notifications after the command that received them; they go to a
-- file, without the server process id, which changes from run to run.
\set notify_file `mktemp`
\setenv NOTIFY_FILE :notify_file
LISTEN samegoal_transfer;

-- A Maple admin sends two documents (one requested twice) to Cedar's student
-- C-2001, owned there by Chris Teacher (given by email, in another case).
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[2, 1, 2], ' Cedar.K12.Example ', 'C-2001', 'TEACHER@cedar.k12.example');
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
RESET ROLE;

-- The copies, field by field: Cedar's, on student 3, owned by user 5, pointing
-- at the transfer and the original; same type, title and content.
SELECT c.id, c.district_id, c.student_id, c.owner_id, c.transfer_id, c.source_document_id,
       c.doc_type = o.doc_type AS same_type, c.title = o.title AS same_title,
       c.content = o.content AS same_content, c.content::text = o.content::text AS same_content_text,
       c.created_at IS NOT NULL AS has_created_at, c.deleted_at IS NULL AS live, c.deleted_by
  FROM samegoal.documents c
  JOIN samegoal.documents o ON o.id = c.source_document_id
 ORDER BY c.id;

-- Their files, byte for byte.
SELECT c.id, c.district_id, c.document_id, c.filename, c.content_type,
       c.data = o.data AS same_bytes, pg_catalog.length(c.data) AS bytes, pg_catalog.md5(c.data)
  FROM samegoal.document_files c
  JOIN samegoal.documents cd ON cd.id = c.document_id
  JOIN samegoal.document_files o ON o.document_id = cd.source_document_id AND o.filename = c.filename
 ORDER BY c.id;

-- The disclosure record.
SELECT id, sending_district_id, receiving_district_id, sending_student_id, receiving_student_id,
       receiving_owner_id, initiated_by, initiated_at IS NOT NULL AS has_initiated_at, document_count
  FROM samegoal.transfers ORDER BY id;
SELECT * FROM samegoal.transfer_documents ORDER BY transfer_id, source_document_id;

-- The originals are untouched.
SELECT count(*) AS changed_originals
  FROM originals o
  LEFT JOIN samegoal.documents d ON d.id = o.id
 WHERE d IS DISTINCT FROM ROW(o.id, o.district_id, o.student_id, o.owner_id, o.doc_type, o.title,
                              o.content, o.created_at, o.deleted_at, o.deleted_by, o.transfer_id,
                              o.source_document_id, o.held, o.content_sha256)::samegoal.documents
    OR o.files IS DISTINCT FROM (SELECT pg_catalog.array_agg(f ORDER BY f.id)
                                   FROM samegoal.document_files f WHERE f.document_id = o.id);

-- A later transaction sends the same two and one more: only the new one is
-- copied, in a second transfer; the others name the copies already there.
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'admin@maple.k12.example');
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[3, 2, 1], 'cedar.k12.example', 'C-2001', 'cteacher');
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"

-- Nothing left to copy: no transfers row and no notification.
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher');
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
UNLISTEN samegoal_transfer;
RESET ROLE;
SELECT count(*) AS transfers FROM samegoal.transfers;

-- Each side sees the record; only Cedar sees the copies; Pine sees nothing.
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
SELECT id, source_document_id, transfer_id FROM samegoal.documents WHERE transfer_id IS NOT NULL ORDER BY id;
SELECT count(*) AS files FROM samegoal.document_files WHERE document_id IN (7, 8, 9);
SELECT id, document_count FROM samegoal.transfers ORDER BY id;
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SELECT count(*) AS copies FROM samegoal.documents WHERE transfer_id IS NOT NULL;
SELECT id, document_count FROM samegoal.transfers ORDER BY id;
SELECT transfer_id, source_document_id, received_document_id FROM samegoal.transfer_documents ORDER BY 1, 2;
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
SELECT (SELECT count(*) FROM samegoal.documents WHERE transfer_id IS NOT NULL) AS copies,
       (SELECT count(*) FROM samegoal.transfers) AS transfers,
       (SELECT count(*) FROM samegoal.transfer_documents) AS transfer_documents;
COMMIT;
RESET ROLE;

-- Cedar deletes one copy; sending it again copies it anew.
UPDATE samegoal.documents SET deleted_at = now(), deleted_by = 4 WHERE id = 7;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cteacher');
COMMIT;

-- A transfer to the wrong student is redone with the right SIS Student ID:
-- the right student gets copies of their own. (Neither Cedar student matches
-- Maple's Blake Nguyen: allow_mismatch lets both through the wrong-student
-- guard, tested in guard.sql.)
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2001', 'cteacher', allow_mismatch => true);
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cteacher', allow_mismatch => true);
COMMIT;

-- A rolled-back transfer leaves nothing and notifies nobody.
LISTEN samegoal_transfer;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT copied FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2002', 'cadmin', allow_mismatch => true);
\o :notify_file
ROLLBACK;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
UNLISTEN samegoal_transfer;
SELECT count(*) AS transfers, sum(document_count) AS documents FROM samegoal.transfers;
SELECT count(*) AS copies FROM samegoal.documents WHERE student_id = 4;

-- The identity ended with the transaction.
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2001', 'cteacher');

-- Cedar switches transfers off in one transaction; Maple's next transfer fails,
-- then works once Cedar switches them on again.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_set_transfers_enabled(false);
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[3], 'cedar.k12.example', 'C-2002', 'cteacher', allow_mismatch => true);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_set_transfers_enabled(true);
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[3], 'cedar.k12.example', 'C-2002', 'cteacher', allow_mismatch => true);
COMMIT;

-- The disclosure record stays, even for a superuser; only the link to a copy
-- is cleared, as purging does.
DELETE FROM samegoal.transfers WHERE id = 1;
UPDATE samegoal.transfers SET document_count = 5 WHERE id = 1;
DELETE FROM samegoal.transfer_documents WHERE transfer_id = 1;
UPDATE samegoal.transfer_documents SET source_document_id = 4 WHERE transfer_id = 1 AND source_document_id = 1;
TRUNCATE samegoal.transfer_documents;
UPDATE samegoal.transfer_documents SET received_document_id = NULL WHERE transfer_id = 1 AND source_document_id = 1;
SELECT * FROM samegoal.transfer_documents WHERE transfer_id = 1 ORDER BY source_document_id;

\! rm -f "$NOTIFY_FILE"
DROP TABLE originals;
DROP EXTENSION samegoal_transfer;
DROP EXTENSION pg_trgm;
DROP ROLE regress_sg_app;
DROP ROLE regress_sg_outsider;
