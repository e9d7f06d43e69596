-- A teacher's transaction: act as the teacher (by email), then read a student's
-- live documents looked up by SIS Student ID, through the policies. Run as
-- bench_app, interleaved with act_as_plain.sql in one pgbench run.
-- -D tenants students (see setup.sql)
\set d random(1, :tenants)
\set k random(1, :students)
BEGIN;
SELECT samegoal.sg_act_as('d' || :d || '.bench.example', 'teacher@d' || :d || '.bench.example');
SELECT d.id, d.doc_type, d.title, d.created_at
  FROM samegoal.documents d
  JOIN samegoal.students s ON s.district_id = d.district_id AND s.id = d.student_id
 WHERE s.sis_student_id = 'S-' || :k AND d.deleted_at IS NULL
 ORDER BY d.created_at DESC, d.id;
COMMIT;
