-- Times sg_find_district when one state is large (directory-state-data.sql), as
-- the admin of a Texas district: 1,000 type-ahead searches, 200 of each of five
-- kinds, each for a district of the state picked by a hash of its domain:
--   prefix   the first 3 to 7 letters of its name
--   dropped  its name with one letter of the first word dropped
--   domain   its exact domain
--   word     one common word of its name ("independent", "schools", "unified")
--   domain6  the first 6 letters of its domain
-- Times are taken on the server around each call. Prints p50/p95 by kind and
-- overall, with the number of Texas districts, as one line per kind prefixed
-- "state-size" for test/bench/run to collect.
\set ON_ERROR_STOP on
SELECT pg_catalog.setseed(0.29);
SELECT d.domain AS admin_domain, count(*) OVER () AS size
  FROM samegoal.districts d JOIN samegoal.users u ON u.district_id = d.id
 WHERE u.username = 'benchadmin' \gset
SELECT count(*) AS size FROM samegoal.districts WHERE state = 'TX' \gset

CREATE TEMP TABLE state_searches AS
SELECT g.i, k.kind, t.domain AS wanted,
       CASE k.kind
         WHEN 'prefix' THEN left(t.name, 3 + (g.i / 5) % 5)
         WHEN 'dropped' THEN left(t.name, p) || substr(t.name, p + 2)
         WHEN 'domain' THEN t.domain
         WHEN 'word' THEN (ARRAY['independent', 'schools', 'unified', 'school', 'district', 'public'])[1 + (g.i / 5) % 6]
         ELSE left(t.domain, 6)
       END AS search
  FROM generate_series(1, 1000) g(i)
 CROSS JOIN LATERAL (SELECT (ARRAY['prefix', 'dropped', 'domain', 'word', 'domain6'])[1 + g.i % 5] AS kind) k
 CROSS JOIN LATERAL (SELECT d.domain, d.name FROM samegoal.districts d
                      WHERE d.state = 'TX' AND d.domain <> :'admin_domain'
                      ORDER BY md5(d.domain || ':' || g.i) LIMIT 1) t
 CROSS JOIN LATERAL (SELECT 1 + (g.i / 5) % greatest(1, strpos(t.name || ' ', ' ') - 2) AS p) x;

CREATE TEMP TABLE state_times (i int, kind text, search text, rows int, found boolean, ms float8);

BEGIN;
SELECT samegoal.sg_act_as(:'admin_domain', 'benchadmin') \gset
DO $$
DECLARE
    s record;
    t0 timestamptz;
    n int;
    hit boolean;
BEGIN
    FOR s IN SELECT * FROM state_searches ORDER BY i LIMIT 50 LOOP
        PERFORM * FROM samegoal.sg_find_district(s.search, 20);
    END LOOP;
    FOR s IN SELECT * FROM state_searches ORDER BY i LOOP
        t0 := clock_timestamp();
        SELECT count(*), coalesce(bool_or(domain = s.wanted), false) INTO n, hit
          FROM samegoal.sg_find_district(s.search, 20);
        INSERT INTO state_times
        VALUES (s.i, s.kind, s.search, n, hit, extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
END
$$;
COMMIT;

\pset footer off
SELECT 'state-size' AS tag, :size AS districts, kind, count(*) AS searches,
       round(avg(found::int) * 100) AS "found %",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS p50,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS p95,
       round(max(ms)::numeric, 3) AS max
  FROM state_times GROUP BY ROLLUP (kind) ORDER BY kind NULLS LAST;
