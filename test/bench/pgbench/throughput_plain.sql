-- The plain-SQL baseline of throughput.sql: the same rows written with INSERT ... SELECT,
-- ids computed from the layout of setup.sql, no checks; committed.
-- -D tenants users students docs (see setup.sql)
\set a random(1, :tenants)
\set b random(1, :tenants - 1)
\set b case when :b >= :a then :b + 1 else :b end
\set ss (:a - 1) * :students + random(1, :students)
\set first (:ss - 1) * :docs + 1
\set last :first + 9
\set rs (:b - 1) * :students + random(1, :students)
\set ro (:b - 1) * :users + 2
\set ad (:a - 1) * :users + 1
BEGIN;
WITH t AS (
    INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id,
                                    receiving_student_id, receiving_owner_id, initiated_by, document_count)
    VALUES (:a, :b, :ss, :rs, :ro, :ad, 10)
    RETURNING id
), copies AS (
    INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content,
                                    transfer_id, source_document_id)
    SELECT CAST(:b AS bigint), CAST(:rs AS bigint), CAST(:ro AS bigint), d.doc_type, d.title, d.content,
           (SELECT id FROM t), d.id
      FROM samegoal.documents d
     WHERE d.id BETWEEN :first AND :last AND d.district_id = :a
     ORDER BY d.id
    -- a student holds one live copy of an original at most, as for the function
    ON CONFLICT (district_id, student_id, source_document_id)
       WHERE source_document_id IS NOT NULL AND deleted_at IS NULL DO NOTHING
    RETURNING id, source_document_id, transfer_id
), files AS (
    INSERT INTO bench.plain_document_files (district_id, document_id, filename, content_type, data)
    SELECT CAST(:b AS bigint), c.id, f.filename, f.content_type, f.data
      FROM copies c
      JOIN samegoal.document_files f ON f.district_id = :a AND f.document_id = c.source_document_id
)
INSERT INTO samegoal.transfer_documents (transfer_id, sending_district_id, receiving_district_id,
                                         source_document_id, received_document_id)
SELECT c.transfer_id, CAST(:a AS bigint), CAST(:b AS bigint), c.source_document_id, c.id FROM copies c;
COMMIT;
