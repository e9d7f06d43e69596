-- The same transaction in the usual multi-tenant pattern: the application sets the
-- tenant itself (forgeable), and the policies of bench.tenant_* compare district_id
-- with that setting. Run as bench_app, interleaved with act_as.sql.
-- -D tenants students (see setup.sql)
\set d random(1, :tenants)
\set k random(1, :students)
BEGIN;
SELECT pg_catalog.set_config('app.district_id', :d::text, true);
SELECT d.id, d.doc_type, d.title, d.created_at
  FROM bench.tenant_documents d
  JOIN bench.tenant_students s ON s.district_id = d.district_id AND s.id = d.student_id
 WHERE s.sis_student_id = 'S-' || :k AND d.deleted_at IS NULL
 ORDER BY d.created_at DESC, d.id;
COMMIT;
