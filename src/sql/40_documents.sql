-- Documents and their files, and deleting and restoring them.

-- The SHA-256 of a document's content as the UTF-8 text of its jsonb, which
-- anyone can compute again from the content as read. convert_to is stable only
-- because the database's encoding could differ between databases; within one
-- it never changes, so the function is immutable and can compute a column.
CREATE FUNCTION samegoal.sg_content_sha256(content jsonb)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
SET search_path = pg_catalog, pg_temp
AS $$SELECT pg_catalog.sha256(pg_catalog.convert_to(content::text, 'UTF8'))$$;

COMMENT ON FUNCTION samegoal.sg_content_sha256(jsonb) IS
'SHA-256 of a document''s content as UTF-8 text (documents.content_sha256, the transfer record)';

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
    content_sha256      bytea NOT NULL,
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
COMMENT ON COLUMN samegoal.documents.content_sha256 IS 'SHA-256 of content as UTF-8 text, computed by the database when the content is written (sg_hash_content); not writable by the application';
COMMENT ON COLUMN samegoal.documents.held IS 'A received copy held for the receiving district''s decision (its students did not match): on no student''s documents for the application, seen by the district''s admins in held_documents until sg_accept_transfer or sg_return_transfer';

-- content_sha256 is computed by the database when the content is written.
-- An insert that gives it keeps it: only the owner and superusers may give it
-- (the application has no privilege on the column), and they give the hash of
-- the very content they write: a transfer its original's, a restore the one
-- dumped. Computing it again there would double a transfer's time.
CREATE FUNCTION samegoal.sg_hash_content()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.content_sha256 := samegoal.sg_content_sha256(NEW.content);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION samegoal.sg_hash_content() IS
'Trigger: sets documents.content_sha256 to the SHA-256 of the content written';

-- In every session_replication_role: a row written in replica mode without
-- the hash gets it too.
CREATE TRIGGER documents_hash_inserted
    BEFORE INSERT ON samegoal.documents
    FOR EACH ROW WHEN (NEW.content_sha256 IS NULL) EXECUTE FUNCTION samegoal.sg_hash_content();
CREATE TRIGGER documents_hash_updated
    BEFORE UPDATE OF content, content_sha256 ON samegoal.documents
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_hash_content();
ALTER TABLE samegoal.documents ENABLE ALWAYS TRIGGER documents_hash_inserted;
ALTER TABLE samegoal.documents ENABLE ALWAYS TRIGGER documents_hash_updated;

ALTER TABLE samegoal.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.documents FORCE ROW LEVEL SECURITY;
-- Held copies are no row of the application's: it neither sees nor changes them.
CREATE POLICY documents_own ON samegoal.documents
    USING (district_id = (SELECT samegoal.sg_current_district_id()) AND NOT held);

-- Files. What applications use is the view document_files (id, district_id,
-- document_id, filename, content_type, data, held, sha256), as in 1.2 a table:
-- they insert and update its rows and read data under row-level security. Its
-- rows are kept in two tables: files, one row per district's file, and
-- file_contents, the bytes, which a transfer shares between the sender's file
-- and the receiver's copy instead of copying them (src/transfer.c). Content is
-- shared along a transfer only: every insert or change of data through
-- document_files makes new content of the district's own, whether or not the
-- same bytes exist elsewhere, so nothing (an error, the time, the space used)
-- tells a district what another holds. Content goes with the last file that
-- refers to it.

CREATE TABLE samegoal.file_contents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the district whose upload made it: every file that refers to it is of
    -- that district's state (transfers stay inside a state), which is how a
    -- state's move finds its content (docs/scaling-out.md)
    district_id     bigint NOT NULL REFERENCES samegoal.districts (id),
    data            bytea NOT NULL,
    sha256          bytea NOT NULL GENERATED ALWAYS AS (pg_catalog.sha256(data)) STORED,
    byte_size       bigint NOT NULL GENERATED ALWAYS AS (pg_catalog.octet_length(data)) STORED,
    UNIQUE (district_id, id)
);

COMMENT ON TABLE samegoal.file_contents IS 'The bytes of files, each stored once: shared by a file and the copies transfers made of it, deleted with the last file that refers to it';
COMMENT ON COLUMN samegoal.file_contents.district_id IS 'The district whose upload stored these bytes; every file that refers to them is of its state';
COMMENT ON COLUMN samegoal.file_contents.sha256 IS 'SHA-256 of data, computed by the database when the bytes are stored';
COMMENT ON COLUMN samegoal.file_contents.byte_size IS 'The length of data in bytes';

-- The ids are those of document_files, from its sequence of 1.2, under its name:
-- a dump of an earlier version restores its files through the view and sets
-- that sequence.
CREATE TABLE samegoal.files (
    id              bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME samegoal.document_files_id_seq) PRIMARY KEY,
    district_id     bigint NOT NULL,
    document_id     bigint NOT NULL,
    filename        text NOT NULL CONSTRAINT files_filename_not_blank CHECK (btrim(filename) <> ''),
    content_type    text NOT NULL DEFAULT 'application/octet-stream',
    held            boolean NOT NULL DEFAULT false,
    content_id      bigint NOT NULL REFERENCES samegoal.file_contents (id),
    UNIQUE (district_id, id),
    -- a file is held exactly when its document is: accepting a held copy
    -- releases its files with it, and no file is added to a held copy
    FOREIGN KEY (district_id, document_id, held) REFERENCES samegoal.documents (district_id, id, held)
        ON UPDATE CASCADE
);
CREATE INDEX files_document_idx ON samegoal.files (district_id, document_id);
-- The last reference to a content (freeing it), and a district's reference to
-- one (file_contents' policy).
CREATE INDEX files_content_idx ON samegoal.files (content_id, district_id);

COMMENT ON TABLE samegoal.files IS 'Files attached to documents, one row per district''s file; the bytes are in file_contents; applications use the view document_files';
COMMENT ON COLUMN samegoal.files.held IS 'The file of a held copy (documents.held, which it follows): seen only in held_document_files';
COMMENT ON COLUMN samegoal.files.content_id IS 'The bytes: content of the district''s own, or for a received copy the content of the sender''s file';

ALTER TABLE samegoal.files ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.files FORCE ROW LEVEL SECURITY;
CREATE POLICY files_own ON samegoal.files
    USING (district_id = (SELECT samegoal.sg_current_district_id()) AND NOT held);

-- A district reads the content its own (unheld) files refer to, and no other.
ALTER TABLE samegoal.file_contents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.file_contents FORCE ROW LEVEL SECURITY;
CREATE POLICY file_contents_of_own_files ON samegoal.file_contents FOR SELECT
    USING (EXISTS (SELECT FROM samegoal.files f
                    WHERE f.content_id = file_contents.id
                      AND f.district_id = (SELECT samegoal.sg_current_district_id())
                      AND NOT f.held));

-- security_invoker: the caller's privileges and the tables' policies apply,
-- as they did to the table of 1.2.
CREATE VIEW samegoal.document_files WITH (security_invoker = true) AS
SELECT f.id, f.district_id, f.document_id, f.filename, f.content_type, c.data, f.held, c.sha256
  FROM samegoal.files f
  JOIN samegoal.file_contents c ON c.id = f.content_id;
ALTER VIEW samegoal.document_files ALTER COLUMN district_id SET DEFAULT samegoal.sg_current_district_id();
ALTER VIEW samegoal.document_files ALTER COLUMN content_type SET DEFAULT 'application/octet-stream';
ALTER VIEW samegoal.document_files ALTER COLUMN held SET DEFAULT false;

COMMENT ON VIEW samegoal.document_files IS 'Files attached to documents, with their bytes: insert, update and read them as a table; a district sees and writes its own';
COMMENT ON COLUMN samegoal.document_files.held IS 'The file of a held copy (documents.held, which it follows): seen only in held_document_files';
COMMENT ON COLUMN samegoal.document_files.sha256 IS 'SHA-256 of data, computed by the database; not writable';

-- Writes of document_files rows, as the caller: the row-level security of
-- files decides what the caller may write, the bytes become new content of
-- the file's district (src/files.c).
CREATE FUNCTION samegoal.sg_document_files_write()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'sg_document_files_write';

COMMENT ON FUNCTION samegoal.sg_document_files_write() IS
'Trigger: INSERT, UPDATE and DELETE of document_files rows, on files and file_contents: new bytes are always new content of the file''s district';

CREATE TRIGGER document_files_write
    INSTEAD OF INSERT OR UPDATE OR DELETE ON samegoal.document_files
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_document_files_write();

-- Content no file refers to any more is deleted, after the statement that
-- removed its last reference. A transfer takes a new reference only from a
-- live file of the sender, which it holds FOR SHARE until it commits: a
-- statement deleting that file waits for it, and one deleting another file
-- sees it and keeps the content. Two statements removing the last two
-- references concurrently take turns on the content row (FOR NO KEY UPDATE,
-- which a transfer's foreign key check does not wait for): the second then
-- sees the first's deletion, in READ COMMITTED by its next statement's
-- snapshot; under a transaction snapshot, by failing to lock the file the
-- other deleted (40001, to be retried) rather than keeping content nothing
-- refers to (only there are the other references locked: in READ COMMITTED
-- that would wait for a concurrent change of those files for nothing). The
-- foreign key from files stands behind all of it: no file refers to deleted
-- bytes.
CREATE FUNCTION samegoal.sg_free_contents()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    candidates bigint[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        candidates := ARRAY(SELECT DISTINCT o.content_id FROM old_files o
                             WHERE NOT EXISTS (SELECT FROM new_files n WHERE n.content_id = o.content_id));
    ELSE
        candidates := ARRAY(SELECT DISTINCT o.content_id FROM old_files o);
    END IF;
    IF cardinality(candidates) = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM FROM samegoal.file_contents c WHERE c.id = ANY (candidates) ORDER BY c.id FOR NO KEY UPDATE;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM FROM samegoal.files f WHERE f.content_id = ANY (candidates) FOR KEY SHARE;
    END IF;
    DELETE FROM samegoal.file_contents c
     WHERE c.id = ANY (candidates)
       AND NOT EXISTS (SELECT FROM samegoal.files f WHERE f.content_id = c.id);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION samegoal.sg_free_contents() IS
'Trigger: deletes the content that the statement''s deleted or changed files referred to and no file refers to any more';

CREATE TRIGGER files_free_deleted
    AFTER DELETE ON samegoal.files
    REFERENCING OLD TABLE AS old_files
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_free_contents();
CREATE TRIGGER files_free_replaced
    AFTER UPDATE ON samegoal.files
    REFERENCING OLD TABLE AS old_files NEW TABLE AS new_files
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_free_contents();

-- The application writes documents and files of its own district, but never the
-- provenance and deletion columns: those go through the functions. It reads the
-- tables behind document_files, under their policies, because the view reads
-- them as the caller.
GRANT SELECT ON samegoal.documents, samegoal.document_files, samegoal.files, samegoal.file_contents TO samegoal_app;
-- The hash's trigger runs with the writer's privileges.
GRANT EXECUTE ON FUNCTION samegoal.sg_content_sha256(jsonb) TO samegoal_app;
GRANT INSERT (district_id, student_id, owner_id, doc_type, title, content, created_at),
      UPDATE (student_id, owner_id, doc_type, title, content)
    ON samegoal.documents TO samegoal_app;
GRANT INSERT (district_id, document_id, filename, content_type, data),
      UPDATE (document_id, filename, content_type, data)
    ON samegoal.document_files TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.documents', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.documents_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.file_contents', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.file_contents_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.files', '');
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
