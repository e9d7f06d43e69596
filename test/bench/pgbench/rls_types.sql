-- A district's live documents counted by type: through the row-level security policies
-- as a samegoal_app member (app_read), and as the table owner with an explicit
-- district_id predicate, after the same sg_act_as call (owner_read) and without it
-- (owner_plain); in turns, as in rls_student.sql.
-- -D tenants (see setup.sql)
\set d random(1, :tenants)
BEGIN;
SET LOCAL ROLE bench_app;
SELECT samegoal.sg_act_as('d' || :d || '.bench.example', 'teacher') AS app_identity;
SELECT doc_type, count(*) FROM samegoal.documents AS app_read
 WHERE deleted_at IS NULL GROUP BY doc_type ORDER BY doc_type;
COMMIT;
\set d random(1, :tenants)
BEGIN;
SET LOCAL ROLE postgres;
SELECT samegoal.sg_act_as('d' || :d || '.bench.example', 'teacher') AS owner_identity;
SELECT doc_type, count(*) FROM samegoal.documents AS owner_read
 WHERE district_id = :d AND deleted_at IS NULL GROUP BY doc_type ORDER BY doc_type;
COMMIT;
\set d random(1, :tenants)
BEGIN;
SET LOCAL ROLE postgres;
SELECT doc_type, count(*) FROM samegoal.documents AS owner_plain
 WHERE district_id = :d AND deleted_at IS NULL GROUP BY doc_type ORDER BY doc_type;
COMMIT;
