-- An admin's settings for their own district.

-- The acting user's id when that user is an active admin; 42501 otherwise.
CREATE FUNCTION samegoal.sg_require_admin()
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin_id bigint;
BEGIN
    SELECT u.id INTO admin_id
      FROM samegoal.users u
     WHERE u.id = samegoal.sg_current_user_id() AND u.is_admin AND u.is_active;
    IF admin_id IS NULL THEN
        RAISE EXCEPTION 'permission denied: an acting SameGoal administrator is required'
            USING ERRCODE = '42501',
                  HINT = 'Call samegoal.sg_act_as(domain, login) for an administrator first, in the same transaction.';
    END IF;
    RETURN admin_id;
END
$$;

COMMENT ON FUNCTION samegoal.sg_require_admin() IS
'Internal: the acting user''s id if that user is an active administrator, else error 42501';

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

CREATE FUNCTION samegoal.sg_set_transfer_coordinator(name text, email text, phone text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM samegoal.sg_require_admin();
    UPDATE samegoal.districts
       SET coordinator_name = NULLIF(btrim(sg_set_transfer_coordinator.name, E' \t\r\n\x0B\f'), ''),
           coordinator_email = NULLIF(btrim(sg_set_transfer_coordinator.email, E' \t\r\n\x0B\f'), ''),
           coordinator_phone = NULLIF(btrim(sg_set_transfer_coordinator.phone, E' \t\r\n\x0B\f'), '')
     WHERE id = samegoal.sg_current_district_id();
END
$$;

COMMENT ON FUNCTION samegoal.sg_set_transfer_coordinator(text, text, text) IS
'Publish (or, with NULL, clear) the Transfer Coordinator contact of the acting admin''s district';
