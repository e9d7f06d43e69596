-- Benchmark data for sg_find_district: 20,000 districts with real-looking names and
-- domains over 50 states, a few of them with more than 1,000 districts, plus one
-- administrator in each of three districts to search as. Loaded by a superuser into
-- a database where samegoal_transfer is installed and empty. Deterministic.
SELECT pg_catalog.setseed(0.42);

CREATE TEMP TABLE bench_states (state text, weight int);
INSERT INTO bench_states VALUES
    ('TX', 1200), ('CA', 1050), ('IL', 1000), ('OH', 700), ('NY', 690), ('PA', 560),
    ('MI', 540), ('NE', 480), ('MO', 520), ('OK', 510), ('MN', 330), ('WI', 420),
    ('IA', 330), ('KS', 290), ('NJ', 580), ('AR', 260), ('IN', 290), ('GA', 180),
    ('CO', 180), ('WA', 295), ('OR', 197), ('MT', 400), ('ND', 175), ('SD', 150),
    ('KY', 170), ('AL', 140), ('MA', 400), ('VA', 130), ('NC', 115), ('TN', 140),
    ('ME', 260), ('NH', 180), ('VT', 280), ('AZ', 230), ('NM', 89), ('UT', 41),
    ('ID', 115), ('WY', 48), ('NV', 17), ('LA', 70), ('MS', 150), ('SC', 80),
    ('FL', 67), ('MD', 24), ('DE', 19), ('CT', 200), ('RI', 36), ('WV', 55),
    ('AK', 54), ('HI', 15);

CREATE TEMP TABLE bench_places (place text);
INSERT INTO bench_places
SELECT p || s
  FROM unnest(ARRAY['Maple', 'Cedar', 'Pine', 'Oak', 'Elm', 'Willow', 'River', 'Lake',
                    'Spring', 'Green', 'Fair', 'Clear', 'North', 'South', 'East', 'West',
                    'Rock', 'Stone', 'Silver', 'Gold', 'Red', 'Black', 'White', 'Blue',
                    'Bear', 'Eagle', 'Fox', 'Deer', 'Wolf', 'Hawk', 'Glen', 'Brook', 'Ash',
                    'Birch', 'Sun', 'Meadow', 'Prairie', 'Bridge', 'Mill', 'Wood', 'Marsh',
                    'Iron', 'Copper', 'Sand', 'Cotton', 'Clay', 'Summer', 'Winter']) p,
       unnest(ARRAY['field', 'ville', 'ton', 'wood', 'dale', 'view', 'port', 'burg',
                    'ford', 'side', 'crest', 'land', 'mont', 'haven', 'creek', 'ridge',
                    'brook', 'water', 'wick', 'by']) s
UNION ALL
SELECT p || ' ' || s
  FROM unnest(ARRAY['Lincoln', 'Washington', 'Jefferson', 'Franklin', 'Madison',
                    'Jackson', 'Clinton', 'Monroe', 'Adams', 'Hamilton', 'Grant', 'Marion',
                    'Warren', 'Wayne', 'Union', 'Carroll', 'Greene', 'Douglas', 'Lee',
                    'Morgan', 'Logan', 'Polk', 'Clark', 'Lawrence', 'Fulton', 'Scott']) p,
       unnest(ARRAY['County', 'Heights', 'Park', 'Springs', 'Valley', 'Township']) s
UNION ALL
SELECT unnest(ARRAY['Mount Vernon', 'Saint Joseph', 'St. Charles', 'Coeur d''Alene',
                    'Winston-Salem', 'Española', 'Cañon City', 'La Crosse', 'Des Moines',
                    'El Paso', 'San Marcos', 'Fort Wayne', 'New Haven', 'Bowling Green',
                    'Grand Rapids', 'Sioux Falls', 'Cedar Rapids', 'Eau Claire',
                    'Lake Oswego', 'Baton Rouge']);

CREATE TEMP TABLE bench_kinds (kind text, abbr text);
INSERT INTO bench_kinds VALUES
    ('School District', 'sd'), ('Public Schools', 'ps'), ('Unified School District', 'usd'),
    ('Independent School District', 'isd'), ('Community Schools', 'cs'),
    ('Area School District', 'asd'), ('City Schools', 'city'),
    ('Consolidated School District', 'csd'), ('Local Schools', 'ls'),
    ('Regional School District', 'rsd');

-- Each state gets its share of 20,000 districts (the rounding remainder goes to the
-- largest), each a random place and a random kind.
CREATE TEMP TABLE bench_counts AS
SELECT state, (weight * 20000 / sum(weight) OVER ())::int AS districts
  FROM bench_states;
UPDATE bench_counts
   SET districts = districts + 20000 - (SELECT sum(districts) FROM bench_counts)
 WHERE state = 'TX';

CREATE TEMP TABLE bench_districts AS
SELECT s.state, pl.place, k.kind, k.abbr, g.n
  FROM bench_counts s
 CROSS JOIN LATERAL generate_series(1, s.districts) g(n)
 CROSS JOIN LATERAL (SELECT place FROM bench_places
                      ORDER BY random() + g.n * 0 LIMIT 1) pl
 CROSS JOIN LATERAL (SELECT kind, abbr FROM bench_kinds
                      ORDER BY random() + g.n * 0 LIMIT 1) k;

-- Districts join over the years in no order of state, so the rows of one state lie
-- scattered over the table, not side by side.
INSERT INTO samegoal.districts (domain, name, city, state, transfers_enabled,
                                coordinator_name, coordinator_email, coordinator_phone)
SELECT slug || CASE WHEN dup > 1 THEN dup::text ELSE '' END || '.k12.' || lower(state) || '.example',
       CASE WHEN dup > 1 THEN place || ' ' || kind || ' No. ' || dup ELSE place || ' ' || kind END,
       place, state, random() > 0.1,
       CASE WHEN random() < 0.4 THEN 'Coordinator ' || n END,
       CASE WHEN random() < 0.4 THEN 'transfers@' || slug || '.example' END,
       CASE WHEN random() < 0.3 THEN '555-01' || lpad((n % 100)::text, 2, '0') END
  FROM (SELECT *, regexp_replace(lower(place), '[^a-z]', '', 'g') || abbr AS slug,
               row_number() OVER (PARTITION BY state, regexp_replace(lower(place), '[^a-z]', '', 'g') || abbr
                                  ORDER BY n) AS dup
          FROM bench_districts) d
 ORDER BY random();

-- Searches run as the admins of three districts: in Texas (the largest state), Oregon
-- (a middle one) and Vermont.
INSERT INTO samegoal.users (district_id, username, email, full_name, is_admin)
SELECT id, 'benchadmin', 'benchadmin@' || domain, 'Bench Admin', true
  FROM samegoal.districts
 WHERE id IN ((SELECT min(id) FROM samegoal.districts WHERE state = 'TX'),
              (SELECT min(id) FROM samegoal.districts WHERE state = 'OR'),
              (SELECT min(id) FROM samegoal.districts WHERE state = 'VT'));

-- As autovacuum would have, long before anyone searches: statistics for the
-- planner, and visibility maps for the index-only reads of the directory's tables.
VACUUM ANALYZE samegoal.districts, samegoal.users, samegoal.district_words,
               samegoal.directory_words, samegoal.district_label_trigrams;
