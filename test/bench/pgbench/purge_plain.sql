-- The plain-SQL baseline of purge.sql: DELETE the files (their content goes with them),
-- then the documents; rolled back.
-- -D rd=<receiving district id>
BEGIN;
DELETE FROM samegoal.files
 WHERE district_id = :rd AND document_id = ANY (CAST((SELECT ids FROM bench.id_sets WHERE name = 'purge') AS bigint[]));
DELETE FROM samegoal.documents
 WHERE district_id = :rd AND id = ANY (CAST((SELECT ids FROM bench.id_sets WHERE name = 'purge') AS bigint[]));
ROLLBACK;
