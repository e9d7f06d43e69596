-- The plain-SQL baseline of transfer.sql: the same rows written with INSERT ... SELECT,
-- ids known in advance, no checks, no locks taken by hand; rolled back.
-- -D set=<bench.id_sets name> sd, rd (districts) ss, rs (students) ro (receiving owner) ad (sending admin)
BEGIN;
WITH wanted AS (
    SELECT ids FROM bench.id_sets WHERE name = :set
), t AS (
    INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
                                    receiving_student_id, receiving_owner_id, initiated_by, document_count)
    VALUES (:sd, :rd, :ss, :rs, :ro, :ad, (SELECT cardinality(ids) FROM wanted))
    RETURNING id
), copies AS (
    INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content,
                                    transfer_id, source_document_id)
    SELECT CAST(:rd AS bigint), CAST(:rs AS bigint), CAST(:ro AS bigint), d.doc_type, d.title, d.content,
           (SELECT id FROM t), d.id
      FROM wanted w JOIN samegoal.documents d ON d.id = ANY (w.ids)
     WHERE d.district_id = :sd
     ORDER BY d.id
    RETURNING id, source_document_id, transfer_id
), files AS (
    INSERT INTO bench.plain_document_files (district_id, document_id, filename, content_type, data)
    SELECT CAST(:rd AS bigint), c.id, f.filename, f.content_type, f.data
      FROM copies c
      JOIN samegoal.document_files f ON f.district_id = :sd AND f.document_id = c.source_document_id
)
INSERT INTO samegoal.transfer_documents (transfer_id, sending_district_id, receiving_district_id,
                                         source_document_id, received_document_id)
SELECT c.transfer_id, CAST(:sd AS bigint), CAST(:rd AS bigint), c.source_document_id, c.id FROM copies c;
ROLLBACK;
