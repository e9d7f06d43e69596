-- Districts: one row per tenant, and an admin's settings for their own district.

CREATE TABLE samegoal.districts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain              text NOT NULL
                        CONSTRAINT districts_domain_trimmed_1_to_253_characters
                        CHECK (domain = btrim(domain) AND domain <> '' AND char_length(domain) <= 253),
    name                text NOT NULL CONSTRAINT districts_name_not_blank CHECK (btrim(name) <> ''),
    city                text,
    state               text NOT NULL CONSTRAINT districts_state_two_capital_letters CHECK (state ~ '^[A-Z]{2}$'),
    transfers_enabled   boolean NOT NULL DEFAULT true,
    coordinator_name    text,
    coordinator_email   text,
    coordinator_phone   text
);
CREATE UNIQUE INDEX districts_domain_key ON samegoal.districts (lower(domain));
-- A state's districts by name and domain, as the directory orders them, with their
-- ids: read from the index alone.
CREATE INDEX districts_state_name_idx ON samegoal.districts (state, name, domain) INCLUDE (id);

COMMENT ON TABLE samegoal.districts IS 'One row per tenant: a school district using SameGoal';
COMMENT ON COLUMN samegoal.districts.domain IS 'The district''s SameGoal domain, unique regardless of case';
COMMENT ON COLUMN samegoal.districts.state IS 'Two-letter state code; transfers only go between districts of one state';
COMMENT ON COLUMN samegoal.districts.transfers_enabled IS 'District-to-District Transfer setting: false refuses sending and receiving';
COMMENT ON COLUMN samegoal.districts.coordinator_name IS 'Transfer Coordinator shown to other districts'' admins by sg_find_district; NULL when not published';

ALTER TABLE samegoal.districts ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.districts FORCE ROW LEVEL SECURITY;
CREATE POLICY districts_own ON samegoal.districts
    USING (id = (SELECT samegoal.sg_current_district_id()));

GRANT SELECT ON samegoal.districts TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.districts', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.districts_id_seq', '');

CREATE FUNCTION samegoal.sg_set_transfers_enabled(enabled boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM samegoal.sg_require_admin();
    IF enabled IS NULL THEN
        RAISE EXCEPTION 'enabled must not be NULL' USING ERRCODE = '22023';
    END IF;
    UPDATE samegoal.districts
       SET transfers_enabled = enabled
     WHERE id = samegoal.sg_current_district_id();
END
$$;

COMMENT ON FUNCTION samegoal.sg_set_transfers_enabled(boolean) IS
'Switch District-to-District Transfer on or off for the acting admin''s district';

-- Every admin of the state sees these fields in the directory: 200 characters
-- each, after trimming, is plenty for a name, an address or a number.
CREATE FUNCTION samegoal.sg_set_transfer_coordinator(name text, email text, phone text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_name text := NULLIF(samegoal.sg_trim(sg_set_transfer_coordinator.name), '');
    new_email text := NULLIF(samegoal.sg_trim(sg_set_transfer_coordinator.email), '');
    new_phone text := NULLIF(samegoal.sg_trim(sg_set_transfer_coordinator.phone), '');
BEGIN
    PERFORM samegoal.sg_require_admin();
    IF char_length(new_name) > 200 OR char_length(new_email) > 200 OR char_length(new_phone) > 200 THEN
        RAISE EXCEPTION 'a Transfer Coordinator contact field is longer than 200 characters'
            USING ERRCODE = '22023';
    END IF;
    UPDATE samegoal.districts
       SET coordinator_name = new_name,
           coordinator_email = new_email,
           coordinator_phone = new_phone
     WHERE id = samegoal.sg_current_district_id();
END
$$;

COMMENT ON FUNCTION samegoal.sg_set_transfer_coordinator(text, text, text) IS
'Publish (or, with NULL, clear) the Transfer Coordinator contact of the acting admin''s district';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_set_transfers_enabled(boolean),
    samegoal.sg_set_transfer_coordinator(text, text, text)
TO samegoal_app;
