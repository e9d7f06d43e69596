-- Times sg_find_district against an exact lookup of a district by domain, in one
-- run over the data of directory-data.sql. 1,000 searches as a type-ahead sends
-- them, from admins of three states (Texas, the largest; Oregon; Vermont):
-- prefixes of district names as typed, prefixes of words inside names, names with
-- a typo, domains and domain prefixes, domains with a typo. Each search is
-- followed by an exact lookup of a real domain of the same state (the unique
-- index on lower(domain)), timed the same way. It also tells how often the
-- district searched for was among the results. Times are taken on the server
-- around each call, so both exclude the network and the client.
\set ON_ERROR_STOP on
SELECT pg_catalog.setseed(0.17);

CREATE TEMP TABLE bench_admins AS
SELECT d.domain AS admin_domain, d.state, u.username
  FROM samegoal.districts d JOIN samegoal.users u ON u.district_id = d.id
 WHERE u.username = 'benchadmin';

-- A target district of the admin's state for every search, picked by a hash of its
-- domain rather than by random(), so that the same districts are picked whatever
-- order an index gives the rows in.
CREATE TEMP TABLE bench_targets AS
SELECT g.i, a.admin_domain, a.username, t.domain, t.name,
       (ARRAY['name', 'name', 'name', 'name', 'word', 'word', 'typo', 'typo', 'domain', 'domaintypo'])[1 + (g.i % 10)] AS kind,
       g.r1, g.r2
  FROM (SELECT i, random() AS r0, random() AS r1, random() AS r2 FROM generate_series(1, 1000) i) g
  JOIN bench_admins a
    ON a.state = CASE WHEN g.r0 < 0.4 THEN 'TX' WHEN g.r0 < 0.7 THEN 'OR' ELSE 'VT' END
 CROSS JOIN LATERAL (SELECT domain, name FROM samegoal.districts d
                      WHERE d.state = a.state AND d.domain <> a.admin_domain
                      ORDER BY md5(d.domain || ':' || g.i) LIMIT 1) t;

-- Swap two neighbouring letters of a word, at a random place past the first.
CREATE FUNCTION pg_temp.swap_letters(word text, r float8) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN length(word) < 4 THEN word ELSE
        left(word, p) || substr(word, p + 2, 1) || substr(word, p + 1, 1) || substr(word, p + 3)
    END
      FROM (SELECT 1 + floor(r * (length(word) - 3))::int AS p) x
$$;

CREATE TEMP TABLE bench_searches AS
SELECT i, admin_domain, username, domain AS exact_domain, kind,
       CASE kind
         -- the first 2 to 12 characters of the name, as typed (case as the user likes)
         WHEN 'name' THEN CASE WHEN r2 < 0.5 THEN lower(left(name, 2 + floor(r1 * 11)::int))
                               ELSE left(name, 2 + floor(r1 * 11)::int) END
         -- a later word of the name and the start of the next, e.g. "county sch"
         WHEN 'word' THEN (SELECT left(string_agg(w, ' ' ORDER BY n), 3 + floor(r1 * 10)::int)
                             FROM unnest(string_to_array(lower(name), ' ')) WITH ORDINALITY u(w, n)
                            WHERE n >= 2)
         -- the first word (or two) of the name with two letters swapped
         WHEN 'typo' THEN pg_temp.swap_letters(split_part(lower(name), ' ', 1), r1)
                          || CASE WHEN r2 < 0.5 THEN ' ' || split_part(lower(name), ' ', 2) ELSE '' END
         -- the whole domain, or its first 4 to 20 characters
         WHEN 'domain' THEN CASE WHEN r2 < 0.5 THEN domain ELSE left(domain, 4 + floor(r1 * 17)::int) END
         -- the whole domain with a typo in its first label
         ELSE pg_temp.swap_letters(split_part(domain, '.', 1), r1) || substr(domain, strpos(domain, '.'))
       END AS search
  FROM bench_targets;

CREATE TEMP TABLE bench_times (i int, kind text, search text, rows int, found boolean,
                               search_ms float8, exact_ms float8);

BEGIN;
DO $$
DECLARE
    s record;
    t0 timestamptz;
    t1 timestamptz;
    t2 timestamptz;
    n int;
    hit boolean;
BEGIN
    -- Warm up: prepare the kept statements and load the indexes.
    FOR s IN SELECT * FROM bench_searches ORDER BY i LIMIT 50 LOOP
        PERFORM samegoal.sg_act_as(s.admin_domain, s.username);
        PERFORM * FROM samegoal.sg_find_district(s.search, 20);
        PERFORM * FROM samegoal.districts WHERE lower(domain) = lower(s.exact_domain);
    END LOOP;

    FOR s IN SELECT * FROM bench_searches ORDER BY i LOOP
        PERFORM samegoal.sg_act_as(s.admin_domain, s.username);
        t0 := clock_timestamp();
        SELECT count(*), coalesce(bool_or(domain = s.exact_domain), false) INTO n, hit
          FROM samegoal.sg_find_district(s.search, 20);
        t1 := clock_timestamp();
        PERFORM domain, name, city, state, transfers_enabled,
                coordinator_name, coordinator_email, coordinator_phone
           FROM samegoal.districts WHERE lower(domain) = lower(s.exact_domain);
        t2 := clock_timestamp();
        INSERT INTO bench_times
        VALUES (s.i, s.kind, s.search, n, hit,
                extract(epoch FROM t1 - t0) * 1000, extract(epoch FROM t2 - t1) * 1000);
    END LOOP;
END
$$;
COMMIT;

\echo
\echo 'Examples of the searches:'
SELECT kind, search, rows, found, round(search_ms::numeric, 3) AS ms
  FROM bench_times WHERE i % 97 = 0 ORDER BY i;

\echo 'Latency by kind of search (ms), and how often the district searched for was among the 20 results:'
SELECT kind, count(*) AS searches, round(avg(found::int) * 100) AS "found %",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY search_ms)::numeric, 3) AS median,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY search_ms)::numeric, 3) AS p95,
       round(max(search_ms)::numeric, 3) AS max
  FROM bench_times GROUP BY kind ORDER BY kind;

\echo 'Summary (ms):'
SELECT (SELECT count(*) FROM samegoal.districts) AS districts,
       count(*) AS searches,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY search_ms)::numeric, 3) AS search_median,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY search_ms)::numeric, 3) AS search_p95,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY exact_ms)::numeric, 3) AS exact_median,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY exact_ms)::numeric, 3) AS exact_p95
  FROM bench_times;

-- How two searches are served: one that finds substrings, one with a typo that only
-- similarity finds. auto_explain shows the plans of the statements sg_find_district
-- runs.
\echo
\echo 'Plans of the searches "maple" and "mapelfield local" (as the Texas admin):'
BEGIN;
SELECT samegoal.sg_act_as(admin_domain, username) AS acting FROM bench_admins WHERE state = 'TX' \gset
LOAD 'auto_explain';
SET LOCAL auto_explain.log_min_duration = 0;
SET LOCAL auto_explain.log_analyze = on;
SET LOCAL auto_explain.log_nested_statements = on;
SET LOCAL auto_explain.log_timing = off;
SET LOCAL client_min_messages = log;
SELECT count(*) AS districts_found FROM samegoal.sg_find_district('maple');
SELECT count(*) AS districts_found FROM samegoal.sg_find_district('mapelfield local');
COMMIT;
