-- A transfer of one student's 10 documents between a random pair of tenant districts,
-- to a random student there, committed. -D tenants students docs (see setup.sql)
\set a random(1, :tenants)
\set b random(1, :tenants - 1)
\set b case when :b >= :a then :b + 1 else :b end
\set first ((:a - 1) * :students + random(1, :students) - 1) * :docs + 1
\set last :first + 9
\set r random(1, :students)
BEGIN;
SELECT samegoal.sg_act_as('d' || :a || '.bench.example', 'admin');
SELECT count(*) FILTER (WHERE copied)
  FROM samegoal.sg_transfer_documents(ARRAY(SELECT generate_series(CAST(:first AS bigint), :last)),
                                      'd' || :b || '.bench.example', 'S-' || :r, 'teacher');
COMMIT;
