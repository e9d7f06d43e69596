-- Users and students of each district.
--
-- Every row of tenant data carries district_id, and every reference to a
-- student, user or document is a composite key with district_id, so the database
-- itself refuses a row that points into another district, whoever writes it. Where a
-- composite key already ties district_id to a student or document, district_id
-- has no foreign key of its own to districts: it would check the same thing again
-- for every row written.

CREATE TABLE samegoal.users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                REFERENCES samegoal.districts (id),
    username    text NOT NULL CONSTRAINT users_username_not_blank CHECK (btrim(username) <> ''),
    email       text CONSTRAINT users_email_not_blank CHECK (btrim(email) <> ''),
    full_name   text,
    is_admin    boolean NOT NULL DEFAULT false,
    is_active   boolean NOT NULL DEFAULT true,
    UNIQUE (district_id, id)
);
CREATE UNIQUE INDEX users_username_key ON samegoal.users (district_id, lower(username));
CREATE UNIQUE INDEX users_email_key ON samegoal.users (district_id, lower(email));

COMMENT ON TABLE samegoal.users IS 'SameGoal users of each district; username and email are unique per district regardless of case';
COMMENT ON COLUMN samegoal.users.is_admin IS 'Administrators may transfer, purge, search the directory and change district settings';
COMMENT ON COLUMN samegoal.users.is_active IS 'Inactive users cannot act nor receive transferred documents';

ALTER TABLE samegoal.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own ON samegoal.users
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

CREATE TABLE samegoal.students (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                    REFERENCES samegoal.districts (id),
    sis_student_id  text NOT NULL
                    CONSTRAINT students_sis_student_id_1_to_20_characters
                    CHECK (char_length(sis_student_id) BETWEEN 1 AND 20 AND btrim(sis_student_id) <> ''),
    first_name      text NOT NULL,
    last_name       text NOT NULL,
    birth_date      date,
    UNIQUE (district_id, sis_student_id),
    UNIQUE (district_id, id)
);

COMMENT ON TABLE samegoal.students IS 'Students of each district, usually synced from the district''s SIS';
COMMENT ON COLUMN samegoal.students.sis_student_id IS 'The student''s id in the district''s SIS: 1 to 20 characters, unique per district';

ALTER TABLE samegoal.students ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.students FORCE ROW LEVEL SECURITY;
CREATE POLICY students_own ON samegoal.students
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

-- The sessions' caches of acting identities (src/identity_cache.c) follow the
-- changes that can give a login another user: a new or reactivated user, or a
-- changed username. A cached identity's own rows are checked on every use, so a
-- SIS sync that updates names or emails empties no cache. A row trigger, firing
-- always, so that logical replication's apply and replica-mode restores signal
-- too.
CREATE TRIGGER users_identity_changed
    BEFORE INSERT OR UPDATE OF username, is_active, district_id ON samegoal.users
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_identity_changed();
ALTER TABLE samegoal.users ENABLE ALWAYS TRIGGER users_identity_changed;

GRANT SELECT ON samegoal.users, samegoal.students TO samegoal_app;
GRANT INSERT (district_id, username, email, full_name, is_admin, is_active),
      UPDATE (username, email, full_name, is_admin, is_active)
    ON samegoal.users TO samegoal_app;
GRANT INSERT (district_id, sis_student_id, first_name, last_name, birth_date),
      UPDATE (sis_student_id, first_name, last_name, birth_date)
    ON samegoal.students TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.users', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.students', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.students_id_seq', '');
