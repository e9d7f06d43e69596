-- District-to-District Transfer: the function (src/transfer.c) and the triggers
-- that keep every transfers row within the setting rules and the disclosure
-- record intact.

CREATE TABLE samegoal.transfers (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sending_district_id     bigint NOT NULL REFERENCES samegoal.districts (id),
    receiving_district_id   bigint NOT NULL REFERENCES samegoal.districts (id),
    sending_student_id      bigint NOT NULL,
    receiving_student_id    bigint NOT NULL,
    receiving_owner_id      bigint NOT NULL,
    initiated_by            bigint NOT NULL,
    initiated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    document_count          integer NOT NULL CONSTRAINT transfers_document_count_positive CHECK (document_count > 0),
    sending_district_domain     text NOT NULL,
    sending_district_name       text NOT NULL,
    receiving_district_domain   text NOT NULL,
    receiving_district_name     text NOT NULL,
    initiated_by_name           text,
    initiated_by_email          text,
    request_id                  bigint,
    acknowledged_at             timestamptz,
    acknowledged_by             bigint,
    attached_student_id         bigint,
    returned_at                 timestamptz,
    returned_by                 bigint,
    return_reason               text
                                CONSTRAINT transfers_return_reason_length CHECK (char_length(return_reason) <= 1000),
    acknowledged_verified       integer,
    acknowledged_total          integer,
    UNIQUE (id, sending_district_id, receiving_district_id),
    UNIQUE (id, receiving_district_id),
    FOREIGN KEY (sending_district_id, sending_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, receiving_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, receiving_owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (sending_district_id, initiated_by) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (receiving_district_id, acknowledged_by) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (receiving_district_id, attached_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, returned_by) REFERENCES samegoal.users (district_id, id),
    CONSTRAINT transfers_acknowledged_at_and_by_together CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL)),
    CONSTRAINT transfers_returned_at_by_and_reason_together
        CHECK ((returned_at IS NULL) = (returned_by IS NULL) AND (returned_at IS NULL) = (return_reason IS NULL)),
    CONSTRAINT transfers_accepted_or_returned CHECK (attached_student_id IS NULL OR returned_at IS NULL),
    CONSTRAINT transfers_acknowledged_counts
        CHECK ((acknowledged_verified IS NULL) = (acknowledged_total IS NULL)
               AND (acknowledged_total IS NULL OR acknowledged_at IS NOT NULL)
               AND acknowledged_verified BETWEEN 0 AND acknowledged_total)
);
CREATE INDEX transfers_sending_idx ON samegoal.transfers (sending_district_id, sending_student_id);
CREATE INDEX transfers_receiving_idx ON samegoal.transfers (receiving_district_id, receiving_student_id);

COMMENT ON TABLE samegoal.transfers IS 'The disclosure record: one row per district-to-district transfer, visible to both districts and kept whatever the receiver does with its copies';
COMMENT ON COLUMN samegoal.transfers.initiated_at IS 'When the transfer was written; the setting rules apply to rows written with a time not earlier than their transaction''s start';
COMMENT ON COLUMN samegoal.transfers.initiated_by IS 'The sending district''s admin who made the transfer';
COMMENT ON COLUMN samegoal.transfers.document_count IS 'How many documents the transfer copied';
COMMENT ON COLUMN samegoal.transfers.sending_district_domain IS 'The sending district''s domain when the transfer was made, so that the receiver knows who sent it';
COMMENT ON COLUMN samegoal.transfers.sending_district_name IS 'The sending district''s name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.receiving_district_domain IS 'The receiving district''s domain when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.receiving_district_name IS 'The receiving district''s name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.initiated_by_name IS 'The sending admin''s full name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.initiated_by_email IS 'The sending admin''s email when the transfer was made: how the receiver reaches the sender';
COMMENT ON COLUMN samegoal.transfers.request_id IS 'The transfer request this transfer fulfilled, if any';
COMMENT ON COLUMN samegoal.transfers.acknowledged_at IS 'When a user of the receiving district marked the transfer as reviewed (sg_acknowledge_transfer); NULL until then';
COMMENT ON COLUMN samegoal.transfers.acknowledged_by IS 'The receiving district''s user who acknowledged the transfer';
COMMENT ON COLUMN samegoal.transfers.attached_student_id IS 'A held arrival accepted (sg_accept_transfer): the receiving district''s student its copies were accepted on, the named one or another; NULL otherwise';
COMMENT ON COLUMN samegoal.transfers.returned_at IS 'A held arrival returned (sg_return_transfer): when its copies were purged and the sender told; NULL otherwise';
COMMENT ON COLUMN samegoal.transfers.returned_by IS 'The receiving district''s admin who returned the transfer';
COMMENT ON COLUMN samegoal.transfers.return_reason IS 'Why the receiving district returned the transfer, for the sender (up to 1,000 characters)';
COMMENT ON COLUMN samegoal.transfers.acknowledged_verified IS 'At the acknowledgement: how many of the transfer''s document contents and files the receiving district held as sent (sg_verify_transfer); NULL for an acknowledgement before version 1.3';
COMMENT ON COLUMN samegoal.transfers.acknowledged_total IS 'At the acknowledgement: how many document contents and files the transfer sent';

-- received copies point back to the transfer that delivered them
ALTER TABLE samegoal.documents
    ADD FOREIGN KEY (transfer_id, district_id) REFERENCES samegoal.transfers (id, receiving_district_id);

CREATE TABLE samegoal.transfer_documents (
    transfer_id             bigint NOT NULL,
    sending_district_id     bigint NOT NULL,
    receiving_district_id   bigint NOT NULL,
    source_document_id      bigint NOT NULL,
    received_document_id    bigint,
    content_sha256          bytea,
    PRIMARY KEY (transfer_id, source_document_id),
    FOREIGN KEY (transfer_id, sending_district_id, receiving_district_id)
        REFERENCES samegoal.transfers (id, sending_district_id, receiving_district_id),
    FOREIGN KEY (receiving_district_id, received_document_id, transfer_id, source_document_id)
        REFERENCES samegoal.documents (district_id, id, transfer_id, source_document_id)
        ON DELETE SET NULL (received_document_id)
);
-- Both lead with a district, so that a lookup by document id reads only the
-- acting district's side of the record: row-level security then becomes an index
-- condition rather than a filter whose removed rows EXPLAIN ANALYZE would count.
CREATE INDEX transfer_documents_received_idx ON samegoal.transfer_documents (receiving_district_id, received_document_id);
CREATE INDEX transfer_documents_source_idx ON samegoal.transfer_documents (sending_district_id, source_document_id);

COMMENT ON TABLE samegoal.transfer_documents IS 'One row per document a transfer copied: the original and its copy';
COMMENT ON COLUMN samegoal.transfer_documents.source_document_id IS 'The sending district''s original; kept as the record of what was disclosed';
COMMENT ON COLUMN samegoal.transfer_documents.received_document_id IS 'The receiving district''s copy; NULL once that copy is purged';
COMMENT ON COLUMN samegoal.transfer_documents.content_sha256 IS 'SHA-256 of the content as sent (documents.content_sha256); NULL for a transfer made before version 1.3';

-- The manifest: one row per file a transfer copied, with what was sent, as a
-- BagIt manifest lists each file's SHA-256.
CREATE TABLE samegoal.transfer_files (
    transfer_id             bigint NOT NULL,
    source_file_id          bigint NOT NULL,
    received_file_id        bigint,
    filename                text NOT NULL,
    byte_size               bigint NOT NULL,
    sha256                  bytea NOT NULL,
    sending_district_id     bigint NOT NULL,
    receiving_district_id   bigint NOT NULL,
    source_document_id      bigint NOT NULL,
    PRIMARY KEY (transfer_id, source_file_id),
    FOREIGN KEY (transfer_id, sending_district_id, receiving_district_id)
        REFERENCES samegoal.transfers (id, sending_district_id, receiving_district_id),
    FOREIGN KEY (receiving_district_id, received_file_id) REFERENCES samegoal.files (district_id, id)
        ON DELETE SET NULL (received_file_id)
);
CREATE INDEX transfer_files_received_idx ON samegoal.transfer_files (receiving_district_id, received_file_id);

COMMENT ON TABLE samegoal.transfer_files IS 'The manifest: one row per file a transfer copied, with its name, size and SHA-256 as sent; part of the disclosure record';
COMMENT ON COLUMN samegoal.transfer_files.source_file_id IS 'The sending district''s file';
COMMENT ON COLUMN samegoal.transfer_files.received_file_id IS 'The receiving district''s copy of it; NULL once that copy is purged';
COMMENT ON COLUMN samegoal.transfer_files.sha256 IS 'SHA-256 of the bytes as sent';

ALTER TABLE samegoal.transfers ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfers FORCE ROW LEVEL SECURITY;
CREATE POLICY transfers_either_side ON samegoal.transfers FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

ALTER TABLE samegoal.transfer_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_documents_either_side ON samegoal.transfer_documents FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

ALTER TABLE samegoal.transfer_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_files FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_files_either_side ON samegoal.transfer_files FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

GRANT SELECT ON samegoal.transfers, samegoal.transfer_documents, samegoal.transfer_files TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfers', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfers_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_documents', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_files', '');

CREATE FUNCTION samegoal.sg_transfer_documents(
    document_ids bigint[],
    receiving_domain text,
    receiving_sis_student_id text,
    receiving_owner text,
    allow_mismatch boolean DEFAULT false)
RETURNS TABLE (transfer_id bigint, source_document_id bigint,
               received_document_id bigint, copied boolean)
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
AS 'MODULE_PATHNAME', 'sg_transfer_documents';

COMMENT ON FUNCTION samegoal.sg_transfer_documents(bigint[], text, text, text, boolean) IS
'Copy documents of one student of the acting admin''s district, with their files, to the student with that SIS Student ID in the district with that domain, owned there by the active user with that username or email; one row per distinct document: the transfer, the original, the copy, and whether it was copied now (false: the student already holds a copy, live or held); unless allow_mismatch, copies to a student who does not match the sending student by birth date and last or first name arrive held for the receiving district''s decision, and nothing the sender sees tells which';

-- The record names both parties as they were when the transfer was made: the
-- receiving district sees no other row of the sending district, and learns from
-- these who sent its documents and how to reach them. A row that brings them
-- (a restore) keeps its own; one written without them (sg_transfer_documents, or
-- a restore of a dump made before version 1.1) gets them from the current rows.
CREATE FUNCTION samegoal.sg_transfers_fill_parties()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.sending_district_domain IS NULL OR NEW.sending_district_name IS NULL THEN
        SELECT d.domain, d.name INTO NEW.sending_district_domain, NEW.sending_district_name
          FROM samegoal.districts d WHERE d.id = NEW.sending_district_id;
    END IF;
    IF NEW.receiving_district_domain IS NULL OR NEW.receiving_district_name IS NULL THEN
        SELECT d.domain, d.name INTO NEW.receiving_district_domain, NEW.receiving_district_name
          FROM samegoal.districts d WHERE d.id = NEW.receiving_district_id;
    END IF;
    IF NEW.initiated_by_name IS NULL AND NEW.initiated_by_email IS NULL THEN
        SELECT u.full_name, u.email INTO NEW.initiated_by_name, NEW.initiated_by_email
          FROM samegoal.users u WHERE u.id = NEW.initiated_by AND u.district_id = NEW.sending_district_id;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION samegoal.sg_transfers_fill_parties() IS
'Trigger: names the districts and the sending admin on a new transfers row, as they are now, where the row does not bring them';

CREATE TRIGGER transfers_parties
    BEFORE INSERT ON samegoal.transfers
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfers_fill_parties();
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_parties;

-- The setting rules, for every writer of samegoal.transfers, superusers
-- included: SG001, SG009, SG010 and SG002, in the order sg_transfer_documents
-- checks them, with the same messages. Both district rows are locked FOR SHARE
-- in id order, as sg_transfer_documents locks them: the one implementation
-- the transfer engine runs (sg_check_districts, src/rules.c). So a change of
-- either setting (an UPDATE of the district row) waits for the transfer to
-- end, or the transfer for it. A missing district is left to the foreign keys.
--
-- They apply to transfers made now. A row whose initiated_at is earlier than the
-- writing transaction's start records a transfer that was checked when it was
-- made: pg_restore, or a replica applying history, writes it whatever the
-- districts' settings have become since. The trigger fires in every
-- session_replication_role, so replica mode is no way around the rules.
CREATE FUNCTION samegoal.sg_transfers_check_settings()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.initiated_at < transaction_timestamp() THEN
        RETURN NEW;
    END IF;
    PERFORM samegoal.sg_check_districts(NEW.sending_district_id, NEW.receiving_district_id, NULL, false);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION samegoal.sg_transfers_check_settings() IS
'Trigger: refuses a transfers row whose districts have disabled District-to-District Transfer (SG001, SG002), are one district (SG009) or are in different states (SG010)';

CREATE TRIGGER transfers_settings
    BEFORE INSERT OR UPDATE ON samegoal.transfers
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfers_check_settings();
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_settings;

-- The disclosure record stays as written: a transfers row is never changed,
-- deleted or truncated, nor a transfer_documents row, except that received_document_id
-- becomes NULL when the receiving district purges its copy, and that the
-- receiving district's acknowledgement and its decision on a held arrival
-- (accepted onto a student, or returned with a reason) are each set once.
CREATE FUNCTION samegoal.sg_transfer_record_kept()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'transfers' AND TG_OP = 'UPDATE' THEN
        IF to_jsonb(NEW) - '{acknowledged_at, acknowledged_by, acknowledged_verified, acknowledged_total, attached_student_id, returned_at, returned_by, return_reason}'::text[]
             = to_jsonb(OLD) - '{acknowledged_at, acknowledged_by, acknowledged_verified, acknowledged_total, attached_student_id, returned_at, returned_by, return_reason}'::text[]
           AND to_jsonb(NEW) <> to_jsonb(OLD)
           AND (OLD.acknowledged_at IS NULL
                OR (NEW.acknowledged_at, NEW.acknowledged_by, NEW.acknowledged_verified, NEW.acknowledged_total)
                   IS NOT DISTINCT FROM
                   (OLD.acknowledged_at, OLD.acknowledged_by, OLD.acknowledged_verified, OLD.acknowledged_total))
           AND (OLD.attached_student_id IS NULL OR NEW.attached_student_id IS NOT DISTINCT FROM OLD.attached_student_id)
           AND (OLD.returned_at IS NULL
                OR (NEW.returned_at, NEW.returned_by, NEW.return_reason)
                   IS NOT DISTINCT FROM (OLD.returned_at, OLD.returned_by, OLD.return_reason))
        THEN
            RETURN NEW;
        END IF;
    END IF;
    IF TG_TABLE_NAME = 'transfer_documents' AND TG_OP = 'UPDATE' THEN
        IF NEW.received_document_id IS NULL
           AND to_jsonb(NEW) - 'received_document_id' = to_jsonb(OLD) - 'received_document_id'
        THEN
            RETURN NEW;
        END IF;
    END IF;
    IF TG_TABLE_NAME = 'transfer_files' AND TG_OP = 'UPDATE' THEN
        IF NEW.received_file_id IS NULL
           AND to_jsonb(NEW) - 'received_file_id' = to_jsonb(OLD) - 'received_file_id'
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the transfer record cannot be changed or deleted'
        USING ERRCODE = '42501',
              DETAIL = 'Both districts keep the record of what was disclosed; only the link to a purged copy is cleared, and the receiver''s acknowledgement and decision on a held arrival set.';
END
$$;

COMMENT ON FUNCTION samegoal.sg_transfer_record_kept() IS
'Trigger: refuses UPDATE, DELETE and TRUNCATE of transfers, transfer_documents and transfer_files rows, except clearing the link to a purged copy and setting a transfer''s acknowledgement, and the acceptance or return of a held arrival, once';

-- In every session_replication_role too: replica mode deletes no record.
CREATE TRIGGER transfers_kept
    BEFORE UPDATE OR DELETE ON samegoal.transfers
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfer_record_kept();

CREATE TRIGGER transfer_documents_kept
    BEFORE UPDATE OR DELETE ON samegoal.transfer_documents
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfer_record_kept();

CREATE TRIGGER transfers_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfers
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_transfer_record_kept();

CREATE TRIGGER transfer_documents_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfer_documents
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_transfer_record_kept();

ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_kept;
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_kept_truncate;
ALTER TABLE samegoal.transfer_documents ENABLE ALWAYS TRIGGER transfer_documents_kept;
ALTER TABLE samegoal.transfer_documents ENABLE ALWAYS TRIGGER transfer_documents_kept_truncate;

CREATE TRIGGER transfer_files_kept
    BEFORE UPDATE OR DELETE ON samegoal.transfer_files
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfer_record_kept();
CREATE TRIGGER transfer_files_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfer_files
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_transfer_record_kept();
ALTER TABLE samegoal.transfer_files ENABLE ALWAYS TRIGGER transfer_files_kept;
ALTER TABLE samegoal.transfer_files ENABLE ALWAYS TRIGGER transfer_files_kept_truncate;

-- Receipt verified (1.3): what the transfer sent, by its record, against what
-- the receiving district holds now, recomputed from the bytes held: one row per
-- document content, then one per file of the manifest. A purged copy holds
-- nothing (held_sha256 NULL); a transfer made before 1.3 recorded no hashes
-- (sent_sha256 NULL). Neither is verified.
CREATE FUNCTION samegoal.sg_transfer_verification(transfer_id bigint)
RETURNS TABLE (received_document_id bigint, filename text, sent_sha256 bytea, held_sha256 bytea,
               verified boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT v.received_document_id, v.filename, v.sent_sha256, v.held_sha256,
       coalesce(v.sent_sha256 = v.held_sha256, false)
  FROM (SELECT t.received_document_id, NULL::text AS filename, t.content_sha256 AS sent_sha256,
               samegoal.sg_content_sha256(d.content) AS held_sha256,
               t.source_document_id, 0::bigint AS source_file_id
          FROM samegoal.transfer_documents t
          LEFT JOIN samegoal.documents d
                 ON d.district_id = t.receiving_district_id AND d.id = t.received_document_id
         WHERE t.transfer_id = sg_transfer_verification.transfer_id
        UNION ALL
        SELECT t.received_document_id, m.filename, m.sha256, sha256(c.data),
               m.source_document_id, m.source_file_id
          FROM samegoal.transfer_files m
          JOIN samegoal.transfer_documents t
            ON t.transfer_id = m.transfer_id AND t.source_document_id = m.source_document_id
          LEFT JOIN samegoal.files f ON f.district_id = m.receiving_district_id AND f.id = m.received_file_id
          LEFT JOIN samegoal.file_contents c ON c.id = f.content_id
         WHERE m.transfer_id = sg_transfer_verification.transfer_id) v
 ORDER BY v.source_document_id, v.source_file_id
$$;

COMMENT ON FUNCTION samegoal.sg_transfer_verification(bigint) IS
'Internal: a transfer''s contents and files as sent against what the receiving district holds now';

CREATE FUNCTION samegoal.sg_verify_transfer(transfer_id bigint)
RETURNS TABLE (received_document_id bigint, filename text, sent_sha256 bytea, held_sha256 bytea,
               verified boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    district bigint := (SELECT u.district_id FROM samegoal.users u WHERE u.id = samegoal.sg_require_user());
BEGIN
    PERFORM FROM samegoal.transfers t
     WHERE t.id = sg_verify_transfer.transfer_id AND t.receiving_district_id = district;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'transfer not found' USING ERRCODE = samegoal.sg_sqlstate('not_found'),
            DETAIL = 'No transfer with that id was received by this district.';
    END IF;
    RETURN QUERY SELECT * FROM samegoal.sg_transfer_verification(sg_verify_transfer.transfer_id);
END
$$;

COMMENT ON FUNCTION samegoal.sg_verify_transfer(bigint) IS
'The receiving district: each document content and file a transfer sent, its SHA-256 as sent and as held now, and whether they agree (a purged copy: held_sha256 NULL, not verified)';

-- The acknowledgement: the receiving district says it has reviewed the
-- transfer, and records what verified. SG006 first, so that a user of a third
-- district learns nothing of the transfer; then 42501 for a user of the
-- receiving district who neither owns the copies nor is an admin.
CREATE FUNCTION samegoal.sg_acknowledge_transfer(transfer_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor samegoal.users;
    transfer samegoal.transfers;
BEGIN
    SELECT u.* INTO actor FROM samegoal.users u WHERE u.id = samegoal.sg_require_user();
    SELECT t.* INTO transfer FROM samegoal.transfers t
     WHERE t.id = sg_acknowledge_transfer.transfer_id AND t.receiving_district_id = actor.district_id
       FOR UPDATE;
    IF transfer.id IS NULL THEN
        RAISE EXCEPTION 'transfer not found' USING ERRCODE = samegoal.sg_sqlstate('not_found'),
            DETAIL = 'No transfer with that id was received by this district.';
    END IF;
    IF transfer.receiving_owner_id <> actor.id AND NOT actor.is_admin THEN
        RAISE EXCEPTION 'permission denied: only the owner of the copies or an administrator may acknowledge a transfer'
            USING ERRCODE = '42501';
    END IF;
    IF transfer.acknowledged_at IS NULL THEN
        -- As an X12 131 acknowledgement echoes what arrived: how much of what
        -- was sent the district holds as sent, now.
        UPDATE samegoal.transfers t
           SET acknowledged_at = clock_timestamp(), acknowledged_by = actor.id,
               (acknowledged_verified, acknowledged_total) =
                   (SELECT count(*) FILTER (WHERE v.verified), count(*)
                      FROM samegoal.sg_transfer_verification(transfer.id) v)
         WHERE t.id = transfer.id;
    END IF;
END
$$;

COMMENT ON FUNCTION samegoal.sg_acknowledge_transfer(bigint) IS
'The owner of the copies or an admin of the receiving district: mark a received transfer as reviewed (once), recording how many of its contents and files were held as sent (sg_verify_transfer)';

GRANT EXECUTE ON FUNCTION samegoal.sg_transfer_documents(bigint[], text, text, text, boolean) TO samegoal_app;
GRANT EXECUTE ON FUNCTION samegoal.sg_acknowledge_transfer(bigint) TO samegoal_app;
GRANT EXECUTE ON FUNCTION samegoal.sg_verify_transfer(bigint) TO samegoal_app;
