-- A teacher uploads a 200 kB file (test/bench/files.sh): one of 16 incompressible
-- values, sent by the client as a parameter, inserted into document_files as a
-- samegoal_app member after sg_act_as; rolled back. The same script runs on 1.3 (the
-- view's trigger stores new content, its SHA-256 computed by the database) and on
-- 1.2.1 (a table); the INSERT is the statement measured.
-- -D sender=<domain> doc=<a document of the sending district>
\set b random(0, 15)
SELECT data AS blob FROM bench.blob_pool WHERE n = :b \gset
BEGIN;
SET LOCAL ROLE bench_app;
SELECT samegoal.sg_act_as(:sender, 'teacher');
INSERT INTO samegoal.document_files (document_id, filename, content_type, data)
VALUES (:doc, 'upload.pdf', 'application/pdf', :blob);
ROLLBACK;
