-- Tenant data. Every row carries district_id, and every reference to a student,
-- user or document is a composite key with district_id, so the database itself
-- refuses a row that points into another district, whoever writes it. Where a
-- composite key already ties district_id to a student or document, district_id
-- has no foreign key of its own to districts: it would check the same thing again
-- for every row written.

CREATE TABLE samegoal.districts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain              text NOT NULL
                        CHECK (domain = btrim(domain) AND domain <> '' AND char_length(domain) <= 253),
    name                text NOT NULL CHECK (btrim(name) <> ''),
    city                text,
    state               text NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
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

CREATE TABLE samegoal.users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                REFERENCES samegoal.districts (id),
    username    text NOT NULL CHECK (btrim(username) <> ''),
    email       text CHECK (btrim(email) <> ''),
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

CREATE TABLE samegoal.students (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                    REFERENCES samegoal.districts (id),
    sis_student_id  text NOT NULL
                    CHECK (char_length(sis_student_id) BETWEEN 1 AND 20 AND btrim(sis_student_id) <> ''),
    first_name      text NOT NULL,
    last_name       text NOT NULL,
    birth_date      date,
    UNIQUE (district_id, sis_student_id),
    UNIQUE (district_id, id)
);

COMMENT ON TABLE samegoal.students IS 'Students of each district, usually synced from the district''s SIS';
COMMENT ON COLUMN samegoal.students.sis_student_id IS 'The student''s id in the district''s SIS: 1 to 20 characters, unique per district';

CREATE TABLE samegoal.documents (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id         bigint NOT NULL DEFAULT samegoal.sg_current_district_id(),
    student_id          bigint NOT NULL,
    owner_id            bigint NOT NULL,
    doc_type            text NOT NULL CHECK (btrim(doc_type) <> ''),
    title               text NOT NULL,
    content             jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    deleted_by          bigint,
    transfer_id         bigint,
    source_document_id  bigint,
    UNIQUE (district_id, id),
    -- lets the transfer record reference a copy together with its provenance
    UNIQUE (district_id, id, transfer_id, source_document_id),
    FOREIGN KEY (district_id, student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (district_id, owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (district_id, deleted_by) REFERENCES samegoal.users (district_id, id),
    CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL),
    CHECK ((transfer_id IS NULL) = (source_document_id IS NULL))
);
CREATE INDEX documents_student_idx ON samegoal.documents (district_id, student_id);
CREATE INDEX documents_owner_idx ON samegoal.documents (district_id, owner_id);
CREATE INDEX documents_transfer_idx ON samegoal.documents (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE INDEX documents_source_idx ON samegoal.documents (student_id, source_document_id)
    WHERE source_document_id IS NOT NULL;

COMMENT ON TABLE samegoal.documents IS 'Special-education documents (IEPs, evaluations, 504 plans), one student and one owner each';
COMMENT ON COLUMN samegoal.documents.deleted_at IS 'When the document was deleted (sg_delete_documents); NULL while live';
COMMENT ON COLUMN samegoal.documents.deleted_by IS 'The user who deleted the document';
COMMENT ON COLUMN samegoal.documents.transfer_id IS 'On a received copy: the transfer that delivered it';
COMMENT ON COLUMN samegoal.documents.source_document_id IS 'On a received copy: the id of the sending district''s original';

CREATE TABLE samegoal.document_files (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL DEFAULT samegoal.sg_current_district_id(),
    document_id     bigint NOT NULL,
    filename        text NOT NULL CHECK (btrim(filename) <> ''),
    content_type    text NOT NULL DEFAULT 'application/octet-stream',
    data            bytea NOT NULL,
    FOREIGN KEY (district_id, document_id) REFERENCES samegoal.documents (district_id, id)
);
CREATE INDEX document_files_document_idx ON samegoal.document_files (district_id, document_id);

COMMENT ON TABLE samegoal.document_files IS 'Files attached to documents, stored byte for byte';

CREATE TABLE samegoal.transfers (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sending_district_id     bigint NOT NULL REFERENCES samegoal.districts (id),
    receiving_district_id   bigint NOT NULL REFERENCES samegoal.districts (id),
    sending_student_id      bigint NOT NULL,
    receiving_student_id    bigint NOT NULL,
    receiving_owner_id      bigint NOT NULL,
    initiated_by            bigint NOT NULL,
    initiated_at            timestamptz NOT NULL DEFAULT now(),
    document_count          integer NOT NULL CHECK (document_count > 0),
    UNIQUE (id, sending_district_id, receiving_district_id),
    UNIQUE (id, receiving_district_id),
    FOREIGN KEY (sending_district_id, sending_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, receiving_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, receiving_owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (sending_district_id, initiated_by) REFERENCES samegoal.users (district_id, id)
);
CREATE INDEX transfers_sending_idx ON samegoal.transfers (sending_district_id, sending_student_id);
CREATE INDEX transfers_receiving_idx ON samegoal.transfers (receiving_district_id, receiving_student_id);

COMMENT ON TABLE samegoal.transfers IS 'The disclosure record: one row per district-to-district transfer, visible to both districts and kept whatever the receiver does with its copies';
COMMENT ON COLUMN samegoal.transfers.initiated_by IS 'The sending district''s admin who made the transfer';
COMMENT ON COLUMN samegoal.transfers.document_count IS 'How many documents the transfer copied';

-- received copies point back to the transfer that delivered them
ALTER TABLE samegoal.documents
    ADD FOREIGN KEY (transfer_id, district_id) REFERENCES samegoal.transfers (id, receiving_district_id);

CREATE TABLE samegoal.transfer_documents (
    transfer_id             bigint NOT NULL,
    sending_district_id     bigint NOT NULL,
    receiving_district_id   bigint NOT NULL,
    source_document_id      bigint NOT NULL,
    received_document_id    bigint,
    PRIMARY KEY (transfer_id, source_document_id),
    FOREIGN KEY (transfer_id, sending_district_id, receiving_district_id)
        REFERENCES samegoal.transfers (id, sending_district_id, receiving_district_id),
    FOREIGN KEY (receiving_district_id, received_document_id, transfer_id, source_document_id)
        REFERENCES samegoal.documents (district_id, id, transfer_id, source_document_id)
        ON DELETE SET NULL (received_document_id)
);
CREATE INDEX transfer_documents_received_idx ON samegoal.transfer_documents (received_document_id);
CREATE INDEX transfer_documents_source_idx ON samegoal.transfer_documents (source_document_id);

COMMENT ON TABLE samegoal.transfer_documents IS 'One row per document a transfer copied: the original and its copy';
COMMENT ON COLUMN samegoal.transfer_documents.source_document_id IS 'The sending district''s original; kept as the record of what was disclosed';
COMMENT ON COLUMN samegoal.transfer_documents.received_document_id IS 'The receiving district''s copy; NULL once that copy is purged';

CREATE TABLE samegoal.purged_documents (
    document_id     bigint PRIMARY KEY,
    district_id     bigint NOT NULL,
    student_id      bigint NOT NULL,
    doc_type        text NOT NULL,
    purged_by       bigint,
    purged_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (district_id, student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (district_id, purged_by) REFERENCES samegoal.users (district_id, id)
);
CREATE INDEX purged_documents_district_idx ON samegoal.purged_documents (district_id, student_id);

COMMENT ON TABLE samegoal.purged_documents IS 'Tombstones of purged documents: which document of which student was purged, by whom and when; no title, content or file';
