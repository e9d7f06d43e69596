-- The example data that examples/demo loads into its database, and that
-- test/checks/readme.sh loads to run the README's examples: the extension, an
-- application login (demo_app) and three districts, two in Oregon and one in
-- Washington, with their users, students and documents. Run as a superuser in a
-- new database.
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;

-- Roles belong to the cluster: the login is made once and kept.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'demo_app') THEN
        CREATE ROLE demo_app LOGIN;
    END IF;
END
$$;
GRANT samegoal_app TO demo_app;

INSERT INTO samegoal.districts (domain, name, city, state, coordinator_name, coordinator_email, coordinator_phone)
VALUES ('riverside.k12.example', 'Riverside School District', 'Salem', 'OR',
        'Renee Garcia', 'transfers@riverside.k12.example', '503-555-0142'),
       ('lakeview.k12.example', 'Lakeview School District', 'Bend', 'OR', NULL, NULL, NULL),
       ('northfork.k12.example', 'North Fork School District', 'Yakima', 'WA', NULL, NULL, NULL);

INSERT INTO samegoal.users (district_id, username, email, full_name, is_admin)
SELECT d.id, u.username, u.email, u.full_name, u.is_admin
  FROM (VALUES (1, 'riverside.k12.example', 'rgarcia', 'renee.garcia@riverside.k12.example', 'Renee Garcia', true),
               (2, 'riverside.k12.example', 'tbrooks', 'tom.brooks@riverside.k12.example', 'Tom Brooks', false),
               (3, 'lakeview.k12.example', 'kpatel', 'kiran.patel@lakeview.k12.example', 'Kiran Patel', true),
               (4, 'lakeview.k12.example', 'jmorales', 'jo.morales@lakeview.k12.example', 'Jo Morales', false),
               (5, 'northfork.k12.example', 'lchen', 'lee.chen@northfork.k12.example', 'Lee Chen', true))
       AS u(n, domain, username, email, full_name, is_admin)
  JOIN samegoal.districts d ON d.domain = u.domain
 ORDER BY u.n;

INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name, birth_date)
SELECT d.id, s.sis, s.first_name, s.last_name, s.birth_date::date
  FROM (VALUES (1, 'riverside.k12.example', '100234', 'Maya', 'Thompson', '2013-04-09'),
               (2, 'riverside.k12.example', '100871', 'Eli', 'Watson', '2012-10-21'),
               (3, 'lakeview.k12.example', 'LV-55102', 'Maya', 'Thompson', '2013-04-09'),
               (4, 'lakeview.k12.example', 'LV-55109', 'Noah', 'Baker', '2013-01-30'),
               (5, 'northfork.k12.example', 'NF-7001', 'Ava', 'Reed', '2014-06-12'),
               (6, 'riverside.k12.example', '100955', 'Sofia', 'Ramirez', '2014-02-17'),
               (7, 'lakeview.k12.example', 'LV-55131', 'Sofia', 'Ramirez', '2014-02-17'))
       AS s(n, domain, sis, first_name, last_name, birth_date)
  JOIN samegoal.districts d ON d.domain = s.domain
 ORDER BY s.n;

INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT s.district_id, s.id, u.id, doc.doc_type, doc.title, doc.content::jsonb
  FROM (VALUES (1, '100234', 'tbrooks', 'IEP', 'IEP 2025-2026',
                '{"eligibility": "Specific Learning Disability", "goals": ["Read grade-level text at 90 wpm", "Solve two-step word problems"], "service_minutes": 150}'),
               (2, '100234', 'tbrooks', 'Evaluation', 'Triennial Evaluation Report',
                '{"assessments": ["WISC-V", "WIAT-4"], "eligible": true}'),
               (3, '100234', 'rgarcia', '504 Plan', 'Section 504 Plan',
                '{"accommodations": ["extended time", "preferential seating"]}'),
               (4, '100871', 'tbrooks', 'IEP', 'IEP 2025-2026', '{"eligibility": "Speech or Language Impairment"}'),
               (5, '100871', 'tbrooks', 'Evaluation', 'Speech-Language Evaluation', '{"assessments": ["CELF-5"]}'),
               (6, 'LV-55109', 'jmorales', 'IEP', 'IEP 2025-2026', '{"eligibility": "Other Health Impairment"}'),
               (7, 'NF-7001', 'lchen', 'IEP', 'IEP 2025-2026', '{"eligibility": "Autism"}'),
               (8, '100955', 'rgarcia', '504 Plan', 'Section 504 Plan', '{"accommodations": ["audio textbooks"]}'))
       AS doc(n, sis, owner, doc_type, title, content)
  JOIN samegoal.students s ON s.sis_student_id = doc.sis
  JOIN samegoal.users u ON u.username = doc.owner AND u.district_id = s.district_id
 ORDER BY doc.n;

INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
SELECT d.district_id, d.id, lower(replace(d.title, ' ', '-')) || '.pdf', 'application/pdf',
       convert_to('%PDF-1.7 ' || d.title, 'UTF8')
  FROM samegoal.documents d
 ORDER BY d.id;
