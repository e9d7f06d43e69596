-- The receiving district reads one file's bytes (test/bench/files.sh): a random one of
-- the copies a committed transfer left it (bench.read_ids), as a samegoal_app member
-- after sg_act_as. The same script runs on 1.3 (document_files a view over files and
-- file_contents, the content shared with the sender) and on 1.2.1 (a table); the
-- statement read_file is the one measured.
-- -D receiver=<domain> files=<rows of bench.read_ids>
\set i random(1, :files)
SELECT file_id AS fid FROM bench.read_ids WHERE n = :i \gset
BEGIN;
SET LOCAL ROLE bench_app;
SELECT samegoal.sg_act_as(:receiver, 'teacher');
SELECT data FROM samegoal.document_files AS read_file WHERE id = :fid;
COMMIT;
