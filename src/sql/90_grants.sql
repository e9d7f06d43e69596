-- Functions are callable by samegoal_app only; internal helpers by nobody but
-- their owner.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    samegoal.sg_act_as(text, text),
    samegoal.sg_current_user_id(),
    samegoal.sg_current_district_id(),
    samegoal.sg_set_transfers_enabled(boolean),
    samegoal.sg_set_transfer_coordinator(text, text, text),
    samegoal.sg_delete_documents(bigint[]),
    samegoal.sg_restore_documents(bigint[]),
    samegoal.sg_purge_documents(bigint[]),
    samegoal.sg_transfer_documents(bigint[], text, text, text),
    samegoal.sg_find_district(text, integer)
TO samegoal_app;

-- pg_dump keeps the data of these tables and the state of their id sequences;
-- not the directory's tables of words and trigrams, which triggers fill again
-- from districts.
DO $$
DECLARE
    rel regclass;
BEGIN
    FOR rel IN
        SELECT c.oid FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'samegoal'::regnamespace AND c.relkind IN ('r', 'S')
           AND c.oid NOT IN ('samegoal.district_words'::regclass,
                             'samegoal.directory_words'::regclass,
                             'samegoal.district_label_trigrams'::regclass)
         ORDER BY c.relname
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(rel, '');
    END LOOP;
END
$$;
