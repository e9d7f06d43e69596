-- The district directory an administrator searches when choosing the receiving
-- district; see src/directory.c.

-- Trigram indexes serve sg_find_district's substring matches of domain and name.
-- Districts change rarely, so the indexes take new entries at once (fastupdate
-- off) rather than in a pending list that every search would have to read.
-- pg_trgm is installed in whatever schema was current, so its operator class is
-- named through the schema it actually lives in.
DO $$
DECLARE
    trgm name;
BEGIN
    SELECT n.nspname INTO STRICT trgm
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    EXECUTE pg_catalog.format(
        'CREATE INDEX districts_domain_trgm_idx ON samegoal.districts USING gin (lower(domain) %I.gin_trgm_ops) WITH (fastupdate = off)',
        trgm);
    EXECUTE pg_catalog.format(
        'CREATE INDEX districts_name_trgm_idx ON samegoal.districts USING gin (lower(name) %I.gin_trgm_ops) WITH (fastupdate = off)',
        trgm);
END
$$;

-- The substring statement ANDs the trigram indexes with a state's districts, read
-- from the smallest index that holds them.
CREATE INDEX districts_state_idx ON samegoal.districts (state);

-- The first two ranks, exact domain and domain prefix, are one range of this
-- index: the domains of a state from the search on, in bytewise order, with the
-- names and ids that put them in order read from the index alone.
CREATE INDEX districts_state_domain_idx ON samegoal.districts (state, (lower(domain) COLLATE "C"))
    INCLUDE (name, domain, id);

-- The words of district names, which serve the word-prefix rank and typo
-- tolerance: sg_directory_words splits a name as sg_find_district splits a search.
CREATE FUNCTION samegoal.sg_directory_words(name text)
RETURNS text[]
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_directory_words';

COMMENT ON FUNCTION samegoal.sg_directory_words(text) IS
'The distinct words of a district name, lower-cased and sorted: runs of letters and digits';

-- Every word of every district's name, by state: a district is found by a word
-- of its name without reading the other districts of its state. Words compare
-- bytewise, so that the words starting with a prefix are one range of the index.
CREATE TABLE samegoal.district_words (
    state       text NOT NULL,
    word        text COLLATE "C" NOT NULL,
    district_id bigint NOT NULL REFERENCES samegoal.districts (id) ON DELETE CASCADE,
    PRIMARY KEY (state, word, district_id)
);
CREATE INDEX district_words_district_idx ON samegoal.district_words (district_id);

COMMENT ON TABLE samegoal.district_words IS
'Internal to sg_find_district: the words of each district''s name, kept by triggers on districts';

-- The trigrams (pg_trgm's show_trgm) of the first label of every district's
-- domain, by state: the candidates for a domain like the search are the
-- districts sharing enough of its trigrams, counted among the state's districts
-- only. A trigram index on the labels would read, for trigrams that many domains
-- share ("isd", "sd "), the entries of every state.
CREATE TABLE samegoal.district_label_trigrams (
    state       text NOT NULL,
    trigram     text COLLATE "C" NOT NULL,
    district_id bigint NOT NULL REFERENCES samegoal.districts (id) ON DELETE CASCADE,
    PRIMARY KEY (state, trigram, district_id)
);
CREATE INDEX district_label_trigrams_district_idx ON samegoal.district_label_trigrams (district_id);

COMMENT ON TABLE samegoal.district_label_trigrams IS
'Internal to sg_find_district: the trigrams of the first label of each district''s domain, kept by triggers on districts';

-- The vocabulary: every word that is or was in a district name, once, against
-- which the words of a search are corrected for typos. A word no name holds any
-- more only costs a lookup that finds no district, so words are never removed.
CREATE TABLE samegoal.directory_words (
    word text PRIMARY KEY
);

COMMENT ON TABLE samegoal.directory_words IS
'Internal to sg_find_district: the words of district names, against which search words are corrected for typos';

-- The version of each state's directory: every statement that changes which
-- districts a state holds, or their names or domains, raises it in its own
-- transaction (sg_directory_states_changed). A session keeps a large state's
-- directory in memory and uses it while the row it sees, by xmin and version, is
-- the row it read it under: a row version no other change can have.
CREATE TABLE samegoal.directory_states (
    state   text PRIMARY KEY,
    version bigint NOT NULL
);

COMMENT ON TABLE samegoal.directory_states IS
'Internal to sg_find_district: a version of each state''s directory, raised by triggers on districts';

DO $$
DECLARE
    trgm name;
BEGIN
    SELECT n.nspname INTO STRICT trgm
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    EXECUTE pg_catalog.format(
        'CREATE INDEX directory_words_trgm_idx ON samegoal.directory_words USING gin (word %I.gin_trgm_ops) WITH (fastupdate = off)',
        trgm);
END
$$;

-- These tables hold nothing but what districts hold, and nobody but their owner
-- has any privilege on them; the policies let the owner in.
ALTER TABLE samegoal.district_label_trigrams ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.district_label_trigrams FORCE ROW LEVEL SECURITY;
CREATE POLICY district_label_trigrams_owner ON samegoal.district_label_trigrams USING (true) WITH CHECK (true);
ALTER TABLE samegoal.district_words ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.district_words FORCE ROW LEVEL SECURITY;
CREATE POLICY district_words_owner ON samegoal.district_words USING (true) WITH CHECK (true);
ALTER TABLE samegoal.directory_words ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.directory_words FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_words_owner ON samegoal.directory_words USING (true) WITH CHECK (true);
ALTER TABLE samegoal.directory_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.directory_states FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_states_owner ON samegoal.directory_states USING (true) WITH CHECK (true);

-- Raise the version of the given states' directories, in a fixed order, so that
-- concurrent writers of districts wait for one another rather than deadlock.
CREATE FUNCTION samegoal.sg_directory_states_changed(states text[])
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO samegoal.directory_states AS s (state, version)
    SELECT DISTINCT c.state, 1 FROM unnest(states) AS c(state)
     WHERE c.state IS NOT NULL
     ORDER BY 1
    ON CONFLICT (state) DO UPDATE SET version = s.version + 1;
$$;

COMMENT ON FUNCTION samegoal.sg_directory_states_changed(text[]) IS
'Internal: raise the version of the given states'' directories';

-- The words and label trigrams of the given districts (all of them for NULL),
-- read again from districts: the one place that fills the directory's tables.
-- pg_trgm may have moved since installation, so its schema is looked up here.
CREATE FUNCTION samegoal.sg_index_districts(ids bigint[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    trgm name;
BEGIN
    DELETE FROM samegoal.district_words w WHERE ids IS NULL OR w.district_id = ANY (ids);
    INSERT INTO samegoal.district_words (state, word, district_id)
    SELECT d.state, w.word, d.id
      FROM samegoal.districts d,
           unnest(samegoal.sg_directory_words(d.name)) AS w(word)
     WHERE ids IS NULL OR d.id = ANY (ids);

    -- In a fixed order, so that concurrent writers of new words wait for one
    -- another rather than deadlock.
    INSERT INTO samegoal.directory_words (word)
    SELECT w.word
      FROM samegoal.districts d,
           unnest(samegoal.sg_directory_words(d.name)) AS w(word)
     WHERE ids IS NULL OR d.id = ANY (ids)
     GROUP BY w.word
     ORDER BY w.word COLLATE "C"
    ON CONFLICT (word) DO NOTHING;

    SELECT n.nspname INTO STRICT trgm
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    DELETE FROM samegoal.district_label_trigrams t WHERE ids IS NULL OR t.district_id = ANY (ids);
    EXECUTE format(
        'INSERT INTO samegoal.district_label_trigrams (state, trigram, district_id)
         SELECT d.state, t.trigram, d.id
           FROM samegoal.districts d,
                unnest(%I.show_trgm(split_part(lower(d.domain), ''.'', 1))) AS t(trigram)
          WHERE $1 IS NULL OR d.id = ANY ($1)',
        trgm) USING ids;
END
$$;

COMMENT ON FUNCTION samegoal.sg_index_districts(bigint[]) IS
'Internal: fill the directory''s tables of words and trigrams for the given districts (all for NULL)';

-- The triggers keep these tables, whoever writes districts (as their owner).
-- They are derived from districts, so pg_dump leaves them out and the triggers
-- fill them again as the districts are restored. Statement triggers, with
-- transition tables, do it for ordinary sessions; deleted districts take their
-- rows along through the foreign keys. Under session_replication_role =
-- replica (logical replication's apply, which fires row triggers only, and a
-- restore that uses that mode) a row trigger does it instead, below.
CREATE FUNCTION samegoal.sg_index_inserted_districts()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM samegoal.sg_index_districts(ARRAY(SELECT d.id FROM inserted_districts d));
    PERFORM samegoal.sg_directory_states_changed(ARRAY(SELECT d.state FROM inserted_districts d));
    RETURN NULL;
END
$$;

-- Only districts whose name, domain or state changed: settings changes update
-- districts too, and touch none of these.
CREATE FUNCTION samegoal.sg_index_updated_districts()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed bigint[] := ARRAY(SELECT n.id FROM updated_districts n JOIN old_districts o ON o.id = n.id
                               WHERE (n.name, n.domain, n.state) IS DISTINCT FROM (o.name, o.domain, o.state));
BEGIN
    IF cardinality(changed) > 0 THEN
        PERFORM samegoal.sg_index_districts(changed);
        PERFORM samegoal.sg_directory_states_changed(
            ARRAY(SELECT o.state FROM old_districts o WHERE o.id = ANY (changed)
                  UNION SELECT n.state FROM updated_districts n WHERE n.id = ANY (changed)));
    END IF;
    RETURN NULL;
END
$$;

-- Deleted districts take their words and trigrams along (ON DELETE CASCADE);
-- their states' versions are raised. TRUNCATE forgets every version: a session
-- uses its copy of a state's directory only while the state's row exists.
CREATE FUNCTION samegoal.sg_index_deleted_districts()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM samegoal.directory_states;
    ELSE
        PERFORM samegoal.sg_directory_states_changed(ARRAY(SELECT d.state FROM deleted_districts d));
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION samegoal.sg_index_inserted_districts() IS
'Trigger: adds the words and label trigrams of inserted districts to the directory''s tables';
COMMENT ON FUNCTION samegoal.sg_index_updated_districts() IS
'Trigger: replaces the words and label trigrams of districts whose name, domain or state changed';
COMMENT ON FUNCTION samegoal.sg_index_deleted_districts() IS
'Trigger: raises the directory version of the states of deleted districts (forgets every version on TRUNCATE)';

CREATE TRIGGER districts_index_inserted
    AFTER INSERT ON samegoal.districts
    REFERENCING NEW TABLE AS inserted_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_inserted_districts();

CREATE TRIGGER districts_index_updated
    AFTER UPDATE ON samegoal.districts
    REFERENCING OLD TABLE AS old_districts NEW TABLE AS updated_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_updated_districts();

CREATE TRIGGER districts_index_deleted
    AFTER DELETE ON samegoal.districts
    REFERENCING OLD TABLE AS deleted_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_deleted_districts();

CREATE TRIGGER districts_index_truncated
    AFTER TRUNCATE ON samegoal.districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_deleted_districts();
ALTER TABLE samegoal.districts ENABLE ALWAYS TRIGGER districts_index_truncated;

-- Under session_replication_role = replica, one district at a time: a state
-- moving to this node by logical replication (src/sql/85_node.sql) arrives
-- with its directory, and a district renamed on the old node during the move
-- is found here by its new name. Foreign keys do not cascade in that mode, so
-- a deleted district's words go here too.
CREATE FUNCTION samegoal.sg_index_replicated_district()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.name, NEW.domain, NEW.state) IS NOT DISTINCT FROM (OLD.name, OLD.domain, OLD.state) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM samegoal.sg_index_districts(ARRAY[OLD.id]);
        PERFORM samegoal.sg_directory_states_changed(ARRAY[OLD.state]);
    ELSE
        PERFORM samegoal.sg_index_districts(ARRAY[NEW.id]);
        PERFORM samegoal.sg_directory_states_changed(
            CASE WHEN TG_OP = 'UPDATE' THEN ARRAY[OLD.state, NEW.state] ELSE ARRAY[NEW.state] END);
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION samegoal.sg_index_replicated_district() IS
'Trigger: under session_replication_role = replica (logical replication, replica-mode restores), keeps the directory''s tables for each district written';

CREATE TRIGGER districts_index_replicated
    AFTER INSERT OR UPDATE OR DELETE ON samegoal.districts
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_index_replicated_district();
ALTER TABLE samegoal.districts ENABLE REPLICA TRIGGER districts_index_replicated;

-- Fills the directory's tables again from districts, for when the triggers were
-- bypassed: a data-only pg_restore with --disable-triggers, or districts written
-- while their triggers were disabled. Superusers only.
CREATE FUNCTION samegoal.sg_rebuild_directory()
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Districts written meanwhile would be missed.
    LOCK TABLE samegoal.districts IN SHARE MODE;
    PERFORM samegoal.sg_index_districts(NULL);
    DELETE FROM samegoal.directory_states;
    PERFORM samegoal.sg_directory_states_changed(ARRAY(SELECT d.state FROM samegoal.districts d));
END
$$;

COMMENT ON FUNCTION samegoal.sg_rebuild_directory() IS
'Superusers: fill the directory''s tables of words and trigrams again from districts, after their triggers were bypassed';

CREATE FUNCTION samegoal.sg_find_district(search text, max_results integer DEFAULT 20)
RETURNS TABLE (domain text, name text, city text, state text, accepts_transfers boolean,
               coordinator_name text, coordinator_email text, coordinator_phone text)
LANGUAGE C STABLE PARALLEL UNSAFE ROWS 20
AS 'MODULE_PATHNAME', 'sg_find_district';

COMMENT ON FUNCTION samegoal.sg_find_district(text, integer) IS
'Admins only: districts of the acting district''s state (not itself) whose domain or name matches search, ranked exact domain, domain prefix, name or word prefix, substring, similarity (every word of the search like a word of the name, or a domain''s first label like the search''s), then by name; blank search lists by name; max_results 1 to 1000';

GRANT EXECUTE ON FUNCTION samegoal.sg_find_district(text, integer) TO samegoal_app;
