-- Held arrivals (1.3). sg_transfer_documents compares the sending student with
-- the receiving student on every transfer; when they do not match (and
-- allow_mismatch is false) the copies arrive held instead of live. The sender
-- learns nothing from it: the held flag lives only on rows of the receiving
-- district (documents.held, document_files.held, transfer_arrivals), every
-- transfer writes the same rows of the same sizes whatever the comparison
-- found, and the record the sender reads (transfers, transfer_documents), the
-- result rows, the errors and the notification are those of a live arrival.
-- The receiving district's admins see held copies in held_documents and
-- held_document_files, and decide: sg_accept_transfer makes them live on the
-- named student or on another one, sg_return_transfer purges them and tells
-- the sender why.

-- The receiving district's side of each transfer made since 1.3.
CREATE TABLE samegoal.transfer_arrivals (
    transfer_id             bigint NOT NULL,
    receiving_district_id   bigint NOT NULL,
    held                    boolean NOT NULL,
    sent_first_name         text,
    sent_last_name          text,
    sent_birth_date         date,
    PRIMARY KEY (receiving_district_id, transfer_id),
    FOREIGN KEY (transfer_id, receiving_district_id) REFERENCES samegoal.transfers (id, receiving_district_id)
);

COMMENT ON TABLE samegoal.transfer_arrivals IS
'The receiving district''s side of each transfer made since version 1.3: whether its copies arrived held, and the sending student as sent; readable by the receiving district only, written by sg_transfer_documents for every transfer, held or live, alike';
COMMENT ON COLUMN samegoal.transfer_arrivals.held IS 'The copies arrived held: the students did not match and allow_mismatch was false';
COMMENT ON COLUMN samegoal.transfer_arrivals.sent_first_name IS 'The sending district''s student''s first name as sent; cleared when the transfer is returned';
COMMENT ON COLUMN samegoal.transfer_arrivals.sent_last_name IS 'The sending district''s student''s last name as sent; cleared when the transfer is returned';
COMMENT ON COLUMN samegoal.transfer_arrivals.sent_birth_date IS 'The sending district''s student''s birth date as sent; cleared when the transfer is returned';

ALTER TABLE samegoal.transfer_arrivals ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_arrivals FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_arrivals_receiving ON samegoal.transfer_arrivals FOR SELECT
    USING (receiving_district_id = (SELECT samegoal.sg_current_district_id()));

GRANT SELECT ON samegoal.transfer_arrivals TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_arrivals', '');

-- What the receiving district's active admins see of held copies: the
-- documents' columns and files as the owner reads them; nobody else sees a row.
-- security_barrier: the view's conditions are applied before any function in
-- the caller's WHERE sees a row.
CREATE VIEW samegoal.held_documents WITH (security_barrier = true) AS
SELECT d.id, d.district_id, d.student_id, d.owner_id, d.doc_type, d.title, d.content, d.created_at,
       d.deleted_at, d.deleted_by, d.transfer_id, d.source_document_id, d.held, d.content_sha256
  FROM samegoal.documents d
 WHERE d.held
   AND d.district_id = (SELECT u.district_id FROM samegoal.users u
                         WHERE u.id = samegoal.sg_current_user_id()
                           AND u.district_id = samegoal.sg_current_district_id()
                           AND u.is_admin AND u.is_active);

COMMENT ON VIEW samegoal.held_documents IS
'For the acting district''s active admins: received copies held for a decision (sg_accept_transfer, sg_return_transfer), with the columns of documents; others see no rows';

CREATE VIEW samegoal.held_document_files WITH (security_barrier = true) AS
SELECT f.id, f.district_id, f.document_id, f.filename, f.content_type, c.data, f.held, c.sha256
  FROM samegoal.files f
  JOIN samegoal.file_contents c ON c.id = f.content_id
 WHERE f.held
   AND f.district_id = (SELECT u.district_id FROM samegoal.users u
                         WHERE u.id = samegoal.sg_current_user_id()
                           AND u.district_id = samegoal.sg_current_district_id()
                           AND u.is_admin AND u.is_active);

COMMENT ON VIEW samegoal.held_document_files IS
'For the acting district''s active admins: the files of held copies, with the columns of document_files; others see no rows';

GRANT SELECT ON samegoal.held_documents, samegoal.held_document_files TO samegoal_app;

-- The held arrival of the acting admin's district that awaits a decision,
-- locked FOR UPDATE so that decisions take turns: the second finds it decided.
-- SG006 for anything else, with one message: another district's transfer, an
-- unknown id, a live arrival, or one already accepted or returned.
CREATE FUNCTION samegoal.sg_lock_held_transfer(transfer_id bigint, district_id bigint)
RETURNS samegoal.transfers
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    transfer samegoal.transfers;
BEGIN
    SELECT t.* INTO transfer
      FROM samegoal.transfers t
     WHERE t.id = sg_lock_held_transfer.transfer_id
       AND t.receiving_district_id = sg_lock_held_transfer.district_id
       AND t.attached_student_id IS NULL AND t.returned_at IS NULL
       AND EXISTS (SELECT FROM samegoal.transfer_arrivals a
                    WHERE a.receiving_district_id = t.receiving_district_id
                      AND a.transfer_id = t.id AND a.held)
       FOR UPDATE OF t;
    IF transfer.id IS NULL THEN
        RAISE EXCEPTION 'no held transfer with that id' USING ERRCODE = samegoal.sg_sqlstate('not_found'),
            DETAIL = 'No transfer with that id was received held by this district and awaits a decision.';
    END IF;
    RETURN transfer;
END
$$;

COMMENT ON FUNCTION samegoal.sg_lock_held_transfer(bigint, bigint) IS
'Internal: lock the held arrival of that district that awaits a decision, or SG006';

-- Purge copies of the district as sg_purge_documents does: a tombstone each,
-- the record's link to the copy cleared, the files and the documents deleted.
CREATE FUNCTION samegoal.sg_purge_copies(document_ids bigint[], district_id bigint, purged_by bigint)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    purged integer;
BEGIN
    INSERT INTO samegoal.purged_documents (document_id, district_id, student_id, doc_type, purged_by)
    SELECT d.id, d.district_id, d.student_id, d.doc_type, sg_purge_copies.purged_by
      FROM samegoal.documents d
     WHERE d.id = ANY (document_ids) AND d.district_id = sg_purge_copies.district_id;
    UPDATE samegoal.transfer_documents t SET received_document_id = NULL
     WHERE t.received_document_id = ANY (document_ids) AND t.receiving_district_id = sg_purge_copies.district_id;
    DELETE FROM samegoal.files f
     WHERE f.document_id = ANY (document_ids) AND f.district_id = sg_purge_copies.district_id;
    DELETE FROM samegoal.documents d
     WHERE d.id = ANY (document_ids) AND d.district_id = sg_purge_copies.district_id;
    GET DIAGNOSTICS purged = ROW_COUNT;
    RETURN purged;
END
$$;

COMMENT ON FUNCTION samegoal.sg_purge_copies(bigint[], bigint, bigint) IS
'Internal: purge these documents of the district as sg_purge_documents does (tombstones, the record unlinked, files and documents deleted); returns how many';

-- Accept: the held copies become live on the student named at send time, or
-- on the district's student with that SIS Student ID. That student is locked
-- FOR NO KEY UPDATE, as transfers and restores lock it, so that the three take
-- turns; a copy of an original the student already holds (live, or held by
-- another transfer) is purged rather than attached again.
CREATE FUNCTION samegoal.sg_accept_transfer(transfer_id bigint, sis_student_id text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin samegoal.users;
    transfer samegoal.transfers;
    target bigint;
    copies bigint[];
    duplicates bigint[];
    accepted integer;
BEGIN
    SELECT u.* INTO admin FROM samegoal.users u WHERE u.id = samegoal.sg_require_admin();
    IF transfer_id IS NULL THEN
        RAISE EXCEPTION 'transfer_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF sis_student_id IS NOT NULL THEN
        PERFORM samegoal.sg_require_text(sis_student_id, 'sis_student_id', NULL);
    END IF;
    transfer := samegoal.sg_lock_held_transfer(transfer_id, admin.district_id);

    SELECT s.id INTO target FROM samegoal.students s
     WHERE s.district_id = admin.district_id
       AND CASE WHEN sg_accept_transfer.sis_student_id IS NULL THEN s.id = transfer.receiving_student_id
                ELSE s.sis_student_id = sg_accept_transfer.sis_student_id END
       FOR NO KEY UPDATE;
    IF target IS NULL THEN
        RAISE EXCEPTION 'no student with SIS Student ID "%" in this district', left(sis_student_id, 100)
            USING ERRCODE = samegoal.sg_sqlstate('no_such_student'), HINT = 'Add the student first.';
    END IF;

    copies := ARRAY(SELECT d.id FROM samegoal.documents d
                     WHERE d.district_id = admin.district_id AND d.transfer_id = transfer.id AND d.held
                     ORDER BY d.id
                       FOR UPDATE);
    duplicates := ARRAY(SELECT h.id FROM samegoal.documents h
                         WHERE h.id = ANY (copies) AND h.district_id = admin.district_id
                           AND EXISTS (SELECT FROM samegoal.documents c
                                        WHERE c.district_id = h.district_id AND c.student_id = target
                                          AND c.source_document_id = h.source_document_id
                                          AND c.deleted_at IS NULL AND c.id <> h.id)
                         ORDER BY h.id);
    PERFORM samegoal.sg_purge_copies(duplicates, admin.district_id, admin.id);

    BEGIN
        -- The files follow their documents (ON UPDATE CASCADE).
        UPDATE samegoal.documents d SET held = false, student_id = target
         WHERE d.id = ANY (copies) AND d.district_id = admin.district_id AND d.held;
        GET DIAGNOSTICS accepted = ROW_COUNT;
    EXCEPTION WHEN unique_violation THEN
        -- Only a snapshot older than the student's lock misses a live copy
        -- (REPEATABLE READ, SERIALIZABLE): retry, as on a concurrent update.
        RAISE EXCEPTION 'could not serialize access due to a concurrent change of the same student'
            USING ERRCODE = '40001', HINT = 'Retry the transaction.';
    END;

    UPDATE samegoal.transfers t
       SET attached_student_id = target,
           acknowledged_at = coalesce(t.acknowledged_at, clock_timestamp()),
           acknowledged_by = coalesce(t.acknowledged_by, admin.id),
           (acknowledged_verified, acknowledged_total) =
               (SELECT CASE WHEN t.acknowledged_at IS NULL THEN count(*) FILTER (WHERE v.verified)
                            ELSE t.acknowledged_verified END,
                       CASE WHEN t.acknowledged_at IS NULL THEN count(*) ELSE t.acknowledged_total END
                  FROM samegoal.sg_transfer_verification(transfer.id) v)
     WHERE t.id = transfer.id;
    RETURN accepted;
END
$$;

COMMENT ON FUNCTION samegoal.sg_accept_transfer(bigint, text) IS
'Admins of the receiving district: make the copies of a held arrival live on the student named at send time, or on this district''s student with that SIS Student ID; a copy of an original that student already holds is purged instead; acknowledges the transfer; returns how many copies became live';

-- Return: the held copies are purged, the record says when, by whom and why,
-- the sending student's names as sent are cleared, and the sender is told on
-- samegoal_transfer (ids only: any session may LISTEN on any channel).
CREATE FUNCTION samegoal.sg_return_transfer(transfer_id bigint, reason text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin samegoal.users;
    transfer samegoal.transfers;
    copies bigint[];
    purged integer;
BEGIN
    SELECT u.* INTO admin FROM samegoal.users u WHERE u.id = samegoal.sg_require_admin();
    IF transfer_id IS NULL THEN
        RAISE EXCEPTION 'transfer_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    PERFORM samegoal.sg_require_text(reason, 'reason', 1000);
    transfer := samegoal.sg_lock_held_transfer(transfer_id, admin.district_id);

    copies := ARRAY(SELECT d.id FROM samegoal.documents d
                     WHERE d.district_id = admin.district_id AND d.transfer_id = transfer.id AND d.held
                     ORDER BY d.id
                       FOR UPDATE);
    purged := samegoal.sg_purge_copies(copies, admin.district_id, admin.id);

    UPDATE samegoal.transfers t
       SET returned_at = clock_timestamp(), returned_by = admin.id,
           return_reason = samegoal.sg_trim(reason)
     WHERE t.id = transfer.id;
    UPDATE samegoal.transfer_arrivals a
       SET sent_first_name = NULL, sent_last_name = NULL, sent_birth_date = NULL
     WHERE a.receiving_district_id = admin.district_id AND a.transfer_id = transfer.id;
    PERFORM pg_notify(samegoal.sg_channel('transfer'),
                      json_build_object('event', 'returned', 'transfer_id', transfer.id)::text);
    RETURN purged;
END
$$;

COMMENT ON FUNCTION samegoal.sg_return_transfer(bigint, text) IS
'Admins of the receiving district: purge the copies of a held arrival (tombstones as sg_purge_documents writes them), record the return with its reason for both districts, and notify the sender on samegoal_transfer; returns how many copies were purged';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_accept_transfer(bigint, text),
    samegoal.sg_return_transfer(bigint, text)
TO samegoal_app;
