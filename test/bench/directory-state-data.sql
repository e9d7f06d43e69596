-- Benchmark data for sg_find_district when one state is large: districts of Texas
-- are added until the state holds :districts of them (run it again with a larger
-- number to grow the state), with names built from common town words plus a kind
-- ("Independent School District", "CISD", "Public Schools", "Unified") and domains
-- like maplefield1234.k12.tx.us, and 200 districts of other states around them. The
-- searches run as benchadmin of the state's first district. Loaded by a superuser
-- into a database where samegoal_transfer is installed and holds no district of
-- Texas. Deterministic for a given sequence of sizes.
SELECT pg_catalog.setseed(0.61);

CREATE TEMP TABLE state_places (place text);
INSERT INTO state_places
SELECT p || s || CASE WHEN q = '' THEN '' ELSE ' ' || q END
  FROM unnest(ARRAY['Maple', 'Cedar', 'Pine', 'Oak', 'Elm', 'Willow', 'River', 'Lake',
                    'Spring', 'Green', 'Fair', 'Clear', 'North', 'South', 'East', 'West',
                    'Rock', 'Stone', 'Silver', 'Gold', 'Red', 'Black', 'White', 'Blue',
                    'Bear', 'Eagle', 'Fox', 'Deer', 'Wolf', 'Hawk', 'Glen', 'Brook', 'Ash',
                    'Birch', 'Sun', 'Meadow', 'Prairie', 'Bridge', 'Mill', 'Wood', 'Marsh',
                    'Iron', 'Copper', 'Sand', 'Cotton', 'Clay', 'Summer', 'Winter']) p,
       unnest(ARRAY['field', 'ville', 'ton', 'wood', 'dale', 'view', 'port', 'burg',
                    'ford', 'side', 'crest', 'land', 'mont', 'haven', 'creek', 'ridge',
                    'brook', 'water', 'wick', 'by']) s,
       unnest(ARRAY['', '', '', '', 'Heights', 'Valley', 'Park', 'Springs', 'Hills',
                    'Grove', 'City', 'Center', 'Falls', 'Junction']) q;

CREATE TEMP TABLE state_kinds (kind text);
INSERT INTO state_kinds VALUES
    ('Independent School District'), ('Consolidated Independent School District'),
    ('CISD'), ('ISD'), ('Public Schools'), ('Unified'), ('Unified School District'),
    ('School District');

-- Other states first, once: the directory must never read them.
INSERT INTO samegoal.districts (domain, name, city, state)
SELECT 'other' || n || '.k12.' || lower(st) || '.us', 'Other District ' || n, 'Elsewhere', st
  FROM generate_series(1, 200) n,
       LATERAL (SELECT (ARRAY['OK', 'NM', 'LA', 'AR'])[1 + n % 4] AS st) s
 WHERE NOT EXISTS (SELECT FROM samegoal.districts WHERE state <> 'TX');

-- Texas grows to :districts, in random order of place.
CREATE TEMP TABLE state_new AS
SELECT g.n, p.place, k.kind
  FROM generate_series((SELECT count(*) FROM samegoal.districts WHERE state = 'TX') + 1,
                       :districts) g(n)
 CROSS JOIN LATERAL (SELECT place FROM state_places ORDER BY random() + g.n * 0 LIMIT 1) p
 CROSS JOIN LATERAL (SELECT kind FROM state_kinds ORDER BY random() + g.n * 0 LIMIT 1) k;

INSERT INTO samegoal.districts (domain, name, city, state, transfers_enabled,
                                coordinator_name, coordinator_email)
SELECT regexp_replace(lower(place), '[^a-z]', '', 'g') || n || '.k12.tx.us',
       place || ' ' || kind, place, 'TX', random() > 0.1,
       CASE WHEN random() < 0.4 THEN 'Coordinator ' || n END,
       CASE WHEN random() < 0.4 THEN 'transfers' || n || '@example.org' END
  FROM state_new
 ORDER BY random();

INSERT INTO samegoal.users (district_id, username, email, full_name, is_admin)
SELECT min(id), 'benchadmin', 'benchadmin@example.org', 'Bench Admin', true
  FROM samegoal.districts
 WHERE state = 'TX'
HAVING NOT EXISTS (SELECT FROM samegoal.users WHERE username = 'benchadmin');

VACUUM ANALYZE samegoal.districts, samegoal.users, samegoal.district_words,
               samegoal.directory_words, samegoal.district_label_trigrams;
