-- No oracle for the sender (1.3): the attack of issue 22, replayed. Maple's
-- admin edits its own student between calls and sends a document to Cedar's
-- C-2002 (Jordan Smith, born 2011-11-30) inside a subtransaction that it rolls
-- back, once per guess: 50 last names (birth date left unknown, so that only
-- the name decides), then every day of 2011 (with the last name known). Under
-- 1.1 the first refusal to stop gave the answer. Here every probe must see the
-- same thing: the result rows, the record rows, what it can count, the ids it
-- consumed (so the same rows were written), and no error; while the receiving
-- side shows that exactly two probes matched (the copies arrived live) and all
-- the others arrived held. The time of each call is reported, held against
-- live, as a diagnostic.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql

-- The receiving district's truth about a copy, for the test's own check: the
-- sender cannot read it (a SECURITY DEFINER helper of the superuser).
CREATE FUNCTION pg_temp.arrived_held(copy bigint) RETURNS boolean
LANGUAGE sql SECURITY DEFINER AS 'SELECT d.held FROM samegoal.documents d WHERE d.id = copy';

CREATE TEMP TABLE guesses (n serial PRIMARY KEY, kind text, last_name text, birth_date date);
INSERT INTO guesses (kind, last_name, birth_date) VALUES ('warm-up', 'Smith', NULL);
INSERT INTO guesses (kind, last_name)
SELECT 'name', unnest(ARRAY['Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez',
    'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson',
    'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
    'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams',
    'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Smith', 'Mitchell', 'Carter', 'Roberts']);
INSERT INTO guesses (kind, last_name, birth_date)
SELECT 'birth date', 'Smith', d::date FROM generate_series('2011-01-01'::date, '2011-12-31', '1 day') d;

-- One probe: the guess written on the sender's own student, the transfer made
-- in a subtransaction, everything the sender can read of it gathered, then the
-- subtransaction rolled back.
CREATE TEMP TABLE probes (n int PRIMARY KEY, kind text, seen text, transfer_id bigint, copy_id bigint,
                          held boolean, ms double precision);
CREATE FUNCTION pg_temp.probe(g guesses) RETURNS probes LANGUAGE plpgsql AS $$
DECLARE
    p probes;
    r record;
    rows text;
    started timestamptz;
BEGIN
    p.n := g.n;
    p.kind := g.kind;
    BEGIN
        UPDATE samegoal.students SET first_name = 'Zz', last_name = g.last_name, birth_date = g.birth_date
         WHERE sis_student_id = 'M-1001';
        started := clock_timestamp();
        FOR r IN SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2002', 'cteacher') LOOP
            p.ms := 1000 * extract(epoch FROM clock_timestamp() - started);
            p.transfer_id := r.transfer_id;
            p.copy_id := r.received_document_id;
            rows := concat_ws(',', rows, format('%s %s %s', r.source_document_id, r.copied, r.received_document_id IS NOT NULL));
        END LOOP;
        p.seen := concat_ws(' | ', rows,
            (SELECT string_agg((to_jsonb(t) - '{id, initiated_at}'::text[])::text, ',') FROM samegoal.transfers t),
            (SELECT string_agg((to_jsonb(d) - '{transfer_id, received_document_id}'::text[])::text, ',')
               FROM samegoal.transfer_documents d),
            (SELECT count(*) FROM samegoal.documents), (SELECT count(*) FROM samegoal.document_files),
            (SELECT count(*) FROM samegoal.purged_documents), (SELECT count(*) FROM samegoal.transfer_arrivals),
            (SELECT count(*) FROM samegoal.held_documents), (SELECT count(*) FROM samegoal.held_document_files),
            (SELECT count(*) FROM samegoal.transfer_inbox), (SELECT count(*) FROM samegoal.transfer_requests),
            'no error');
        p.held := pg_temp.arrived_held(p.copy_id);
        RAISE EXCEPTION 'probe done' USING ERRCODE = 'SGT02';
    EXCEPTION
        WHEN SQLSTATE 'SGT02' THEN
            NULL;
        WHEN OTHERS THEN
            p.seen := 'error ' || SQLSTATE;
    END;
    RETURN p;
END
$$;

SELECT plan(6);
\ir ../fixtures/tap_share.sql
GRANT SELECT ON guesses TO PUBLIC;
GRANT ALL ON probes TO PUBLIC;
SET ROLE regress_sg_app;
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts');
INSERT INTO probes SELECT (pg_temp.probe(g)).* FROM guesses g ORDER BY g.n;
RESET ROLE;

-- What the sender saw, with the ids it consumed since the probe before.
CREATE TEMP TABLE fingerprints AS
SELECT n, kind, held, ms,
       md5(seen || ' | ' || (transfer_id - lag(transfer_id) OVER w) || ' ' || (copy_id - lag(copy_id) OVER w)) AS fingerprint
  FROM probes WINDOW w AS (ORDER BY n);
DELETE FROM fingerprints WHERE kind = 'warm-up';

SELECT is((SELECT count(*) FROM fingerprints), 415::bigint, '415 probes: 50 last names and the 365 days of 2011');
SELECT is((SELECT count(*) FROM probes WHERE seen LIKE 'error%'), 0::bigint, 'none of them failed');
SELECT is((SELECT count(DISTINCT fingerprint) FROM fingerprints), 1::bigint,
          'every probe saw the same result rows, record rows, counts and ids consumed');
SELECT results_eq($$SELECT kind, count(*) FILTER (WHERE NOT held), count(*) FILTER (WHERE held)
                     FROM fingerprints GROUP BY kind ORDER BY kind$$,
                  $$VALUES ('birth date', 1::bigint, 364::bigint), ('name', 1::bigint, 49::bigint)$$,
                  'while on the receiving side the right guesses arrived live and the others held');
SELECT ok((SELECT bool_and(NOT held) FROM fingerprints
            WHERE n IN (SELECT n FROM guesses WHERE (kind, last_name, birth_date) IS NOT DISTINCT FROM ('name', 'Smith', NULL)
                                                  OR (kind, birth_date) = ('birth date', '2011-11-30'))),
          'the live ones are Smith and 2011-11-30');
SELECT diag(format('call time, median ms: held %s (%s calls), live %s (%s calls)',
                   round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE held))::numeric, 3),
                   count(*) FILTER (WHERE held),
                   round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE NOT held))::numeric, 3),
                   count(*) FILTER (WHERE NOT held)))
  FROM fingerprints;

SELECT * FROM finish();
ROLLBACK;
