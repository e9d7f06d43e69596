-- Documents and their files, and deleting and restoring them.

CREATE TABLE samegoal.documents (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id         bigint NOT NULL DEFAULT samegoal.sg_current_district_id(),
    student_id          bigint NOT NULL,
    owner_id            bigint NOT NULL,
    doc_type            text NOT NULL CONSTRAINT documents_doc_type_not_blank CHECK (btrim(doc_type) <> ''),
    title               text NOT NULL,
    content             jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    deleted_by          bigint,
    transfer_id         bigint,
    source_document_id  bigint,
    held                boolean NOT NULL DEFAULT false,
    UNIQUE (district_id, id),
    -- lets a document's files carry its held flag, and follow it (ON UPDATE CASCADE)
    UNIQUE (district_id, id, held),
    -- lets the transfer record reference a copy together with its provenance
    UNIQUE (district_id, id, transfer_id, source_document_id),
    FOREIGN KEY (district_id, student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (district_id, owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (district_id, deleted_by) REFERENCES samegoal.users (district_id, id),
    CONSTRAINT documents_deleted_by_only_when_deleted CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL),
    CONSTRAINT documents_copy_names_transfer_and_source CHECK ((transfer_id IS NULL) = (source_document_id IS NULL))
);
CREATE INDEX documents_student_idx ON samegoal.documents (district_id, student_id);
CREATE INDEX documents_owner_idx ON samegoal.documents (district_id, owner_id);
CREATE INDEX documents_transfer_idx ON samegoal.documents (transfer_id) WHERE transfer_id IS NOT NULL;
-- A student holds at most one live copy of any original, whoever writes: a
-- repeat transfer finds the live copy here and does not copy again, and the
-- restore of an older copy while another is live fails (SG013).
CREATE UNIQUE INDEX documents_one_live_copy ON samegoal.documents (district_id, student_id, source_document_id)
    WHERE source_document_id IS NOT NULL AND deleted_at IS NULL;

COMMENT ON TABLE samegoal.documents IS 'Special-education documents (IEPs, evaluations, 504 plans), one student and one owner each';
COMMENT ON COLUMN samegoal.documents.doc_type IS 'The kind of document, as the district names it: IEP, Evaluation, 504 Plan, ...';
COMMENT ON COLUMN samegoal.documents.content IS 'The document''s structured content (goals, services, scores...), copied as is by a transfer';
COMMENT ON COLUMN samegoal.documents.deleted_at IS 'When the document was deleted (sg_delete_documents); NULL while live';
COMMENT ON COLUMN samegoal.documents.deleted_by IS 'The user who deleted the document';
COMMENT ON COLUMN samegoal.documents.transfer_id IS 'On a received copy: the transfer that delivered it';
COMMENT ON COLUMN samegoal.documents.source_document_id IS 'On a received copy: the id of the sending district''s original';
COMMENT ON COLUMN samegoal.documents.held IS 'A received copy held for the receiving district''s decision (its students did not match): on no student''s documents for the application, seen by the district''s admins in held_documents until sg_accept_transfer or sg_return_transfer';

ALTER TABLE samegoal.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.documents FORCE ROW LEVEL SECURITY;
-- Held copies are no row of the application's: it neither sees nor changes them.
CREATE POLICY documents_own ON samegoal.documents
    USING (district_id = (SELECT samegoal.sg_current_district_id()) AND NOT held);

CREATE TABLE samegoal.document_files (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL DEFAULT samegoal.sg_current_district_id(),
    document_id     bigint NOT NULL,
    filename        text NOT NULL CONSTRAINT document_files_filename_not_blank CHECK (btrim(filename) <> ''),
    content_type    text NOT NULL DEFAULT 'application/octet-stream',
    data            bytea NOT NULL,
    held            boolean NOT NULL DEFAULT false,
    -- a file is held exactly when its document is: accepting a held copy
    -- releases its files with it, and no file is added to a held copy
    FOREIGN KEY (district_id, document_id, held) REFERENCES samegoal.documents (district_id, id, held)
        ON UPDATE CASCADE
);
CREATE INDEX document_files_document_idx ON samegoal.document_files (district_id, document_id);

COMMENT ON TABLE samegoal.document_files IS 'Files attached to documents, stored byte for byte';
COMMENT ON COLUMN samegoal.document_files.held IS 'The file of a held copy (documents.held, which it follows): seen only in held_document_files';

ALTER TABLE samegoal.document_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.document_files FORCE ROW LEVEL SECURITY;
CREATE POLICY document_files_own ON samegoal.document_files
    USING (district_id = (SELECT samegoal.sg_current_district_id()) AND NOT held);

-- The application writes documents and files of its own district, but never the
-- provenance and deletion columns: those go through the functions.
GRANT SELECT ON samegoal.documents, samegoal.document_files TO samegoal_app;
GRANT INSERT (district_id, student_id, owner_id, doc_type, title, content, created_at),
      UPDATE (student_id, owner_id, doc_type, title, content)
    ON samegoal.documents TO samegoal_app;
GRANT INSERT (district_id, document_id, filename, content_type, data),
      UPDATE (document_id, filename, content_type, data)
    ON samegoal.document_files TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.documents', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.documents_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.document_files', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.document_files_id_seq', '');

-- Delete (deleting = true) or restore documents of the acting district: lock them,
-- check that the acting user may, and change those not yet in the wanted state.
-- Missing, held and other-district ids are one error (SG006): held copies are
-- decided by sg_accept_transfer and sg_return_transfer, not by the application.
CREATE FUNCTION samegoal.sg_change_deletion(document_ids bigint[], deleting boolean)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor samegoal.users;
    wanted bigint[];
    locked_count integer;
    others_count integer;
    changed integer;
    violated text;
BEGIN
    SELECT u.* INTO actor FROM samegoal.users u WHERE u.id = samegoal.sg_require_user();
    wanted := samegoal.sg_distinct_ids(document_ids);

    SELECT count(*), count(*) FILTER (WHERE l.owner_id <> actor.id)
      INTO locked_count, others_count
      FROM (SELECT d.owner_id FROM samegoal.documents d
             WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id AND NOT d.held
             ORDER BY d.id
               FOR UPDATE) l;
    IF locked_count < cardinality(wanted) THEN
        PERFORM samegoal.sg_document_not_found();
    END IF;
    IF others_count > 0 AND NOT actor.is_admin THEN
        RAISE EXCEPTION 'permission denied: only the owner of a document or an administrator may delete or restore it'
            USING ERRCODE = '42501';
    END IF;

    IF NOT deleting THEN
        -- A transfer to the same student locks the student first; restoring
        -- locks it too, so that the two take turns and the transfer sees the
        -- restored copy rather than copying the original again.
        PERFORM FROM samegoal.students s
         WHERE s.district_id = actor.district_id
           AND s.id IN (SELECT d.student_id FROM samegoal.documents d
                         WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id
                           AND d.source_document_id IS NOT NULL)
         ORDER BY s.id
           FOR NO KEY UPDATE;
    END IF;

    BEGIN
        UPDATE samegoal.documents d
           SET deleted_at = CASE WHEN deleting THEN now() END,
               deleted_by = CASE WHEN deleting THEN actor.id END
         WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id AND NOT d.held
           AND (d.deleted_at IS NULL) = deleting;
        GET DIAGNOSTICS changed = ROW_COUNT;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
        IF violated <> 'documents_one_live_copy' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'the student already holds a live copy of that original'
            USING ERRCODE = samegoal.sg_sqlstate('live_copy_exists'),
                  DETAIL = 'A received copy cannot be restored while another copy of the same original is live on the same student.',
                  HINT = 'Delete the other copy first, or keep it.';
    END;
    RETURN changed;
END
$$;

COMMENT ON FUNCTION samegoal.sg_change_deletion(bigint[], boolean) IS
'Internal: delete or restore documents of the acting district that the acting user may change; returns how many changed';

CREATE FUNCTION samegoal.sg_delete_documents(document_ids bigint[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_change_deletion(document_ids, true)';

CREATE FUNCTION samegoal.sg_restore_documents(document_ids bigint[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_change_deletion(document_ids, false)';

COMMENT ON FUNCTION samegoal.sg_delete_documents(bigint[]) IS
'Delete documents of the acting district (the owner or an admin may); returns how many were live';
COMMENT ON FUNCTION samegoal.sg_restore_documents(bigint[]) IS
'Restore deleted documents of the acting district (the owner or an admin may); returns how many were deleted';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_delete_documents(bigint[]),
    samegoal.sg_restore_documents(bigint[])
TO samegoal_app;
