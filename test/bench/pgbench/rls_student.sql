-- A teacher opens a student's live documents: through the row-level security policies
-- as a samegoal_app member (app_read), and as the table owner with an explicit
-- district_id predicate, after the same sg_act_as call (owner_read) and without it
-- (owner_plain). The three take turns in one session, so that they share the
-- machine's load; run as a superuser, the app's turn under SET LOCAL ROLE bench_app.
-- -D tenants students (see setup.sql)
\set d random(1, :tenants)
\set s (:d - 1) * :students + random(1, :students)
BEGIN;
SET LOCAL ROLE bench_app;
SELECT samegoal.sg_act_as('d' || :d || '.bench.example', 'teacher') AS app_identity;
SELECT id, doc_type, title, created_at FROM samegoal.documents AS app_read
 WHERE student_id = :s AND deleted_at IS NULL ORDER BY created_at DESC, id;
COMMIT;
\set d random(1, :tenants)
\set s (:d - 1) * :students + random(1, :students)
BEGIN;
SET LOCAL ROLE postgres;
SELECT samegoal.sg_act_as('d' || :d || '.bench.example', 'teacher') AS owner_identity;
SELECT id, doc_type, title, created_at FROM samegoal.documents AS owner_read
 WHERE district_id = :d AND student_id = :s AND deleted_at IS NULL ORDER BY created_at DESC, id;
COMMIT;
\set d random(1, :tenants)
\set s (:d - 1) * :students + random(1, :students)
BEGIN;
SET LOCAL ROLE postgres;
SELECT id, doc_type, title, created_at FROM samegoal.documents AS owner_plain
 WHERE district_id = :d AND student_id = :s AND deleted_at IS NULL ORDER BY created_at DESC, id;
COMMIT;
