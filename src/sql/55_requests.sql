-- Transfer requests: the receiving district asks another district of its state
-- for a student's documents, naming its own student and the owner of the
-- copies; the sending district fulfils the request with a transfer
-- (src/requests.c, through the transfer engine) or declines it. A request
-- expires 30 days after it is made: expiry is a comparison with the clock
-- (clock_timestamp(), not the transaction's start), so no background worker is
-- needed. Due dates are in 57_request_clock.sql, the inbox in 58_inbox.sql.

CREATE TABLE samegoal.transfer_requests (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requesting_district_id      bigint NOT NULL REFERENCES samegoal.districts (id),
    sending_district_id         bigint NOT NULL,
    receiving_student_id        bigint NOT NULL,
    receiving_owner_id          bigint NOT NULL,
    requested_by                bigint NOT NULL,
    requested_at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    requesting_district_domain  text NOT NULL,
    requesting_district_name    text NOT NULL,
    requested_by_name           text,
    requested_by_email          text,
    student_first_name          text NOT NULL,
    student_last_name           text NOT NULL,
    student_birth_date          date,
    sending_sis_student_id      text
                                CONSTRAINT transfer_requests_sending_sis_student_id_length
                                CHECK (char_length(sending_sis_student_id) <= 20),
    note                        text
                                CONSTRAINT transfer_requests_note_length CHECK (char_length(note) <= 1000),
    status                      text NOT NULL DEFAULT 'pending'
                                CONSTRAINT transfer_requests_status_known
                                CHECK (status IN ('pending', 'fulfilled', 'declined', 'cancelled')),
    status_changed_at           timestamptz,
    status_changed_by           bigint REFERENCES samegoal.users (id),
    decline_reason              text
                                CONSTRAINT transfer_requests_decline_reason_length
                                CHECK (char_length(decline_reason) <= 1000),
    transfer_id                 bigint,
    expires_at                  timestamptz NOT NULL,
    due_on                      date NOT NULL,
    delay_reason                text
                                CONSTRAINT transfer_requests_delay_reason_length
                                CHECK (char_length(delay_reason) <= 1000),
    delayed_until               date,
    delayed_at                  timestamptz,
    UNIQUE (id, sending_district_id, requesting_district_id),
    FOREIGN KEY (sending_district_id) REFERENCES samegoal.districts (id),
    FOREIGN KEY (requesting_district_id, receiving_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (requesting_district_id, receiving_owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (requesting_district_id, requested_by) REFERENCES samegoal.users (district_id, id),
    -- transfers.request_id points back without a foreign key: a cycle of keys
    -- would leave pg_dump no order to restore the two tables in.
    FOREIGN KEY (transfer_id, sending_district_id, requesting_district_id)
        REFERENCES samegoal.transfers (id, sending_district_id, receiving_district_id),
    CONSTRAINT transfer_requests_answer_recorded
        CHECK ((status = 'pending') = (status_changed_at IS NULL)
               AND (status = 'declined') = (decline_reason IS NOT NULL)
               AND (status = 'fulfilled' OR transfer_id IS NULL)),
    CONSTRAINT transfer_requests_delay_recorded
        CHECK ((delayed_at IS NULL) = (delayed_until IS NULL)
               AND (delayed_at IS NULL) = (delay_reason IS NULL))
);
-- The inbox of the district asked, and the idempotent repeat of a request.
CREATE INDEX transfer_requests_sending_idx ON samegoal.transfer_requests (sending_district_id, expires_at)
    WHERE status = 'pending';
CREATE INDEX transfer_requests_requesting_idx
    ON samegoal.transfer_requests (requesting_district_id, receiving_student_id, sending_district_id);

COMMENT ON TABLE samegoal.transfer_requests IS
'Requests of a receiving district for a student''s documents, answered by the district asked; visible to both, never deleted';
COMMENT ON COLUMN samegoal.transfer_requests.requesting_district_id IS 'The district that asks and will receive the copies';
COMMENT ON COLUMN samegoal.transfer_requests.sending_district_id IS 'The district asked for the documents';
COMMENT ON COLUMN samegoal.transfer_requests.student_first_name IS 'The requesting district''s student as it was when the request was made, so that the district asked can find its own record';
COMMENT ON COLUMN samegoal.transfer_requests.sending_sis_student_id IS 'The student''s SIS Student ID in the district asked, when the requester knows it';
COMMENT ON COLUMN samegoal.transfer_requests.note IS 'The requester''s note to the district asked, up to 1,000 characters';
COMMENT ON COLUMN samegoal.transfer_requests.status IS 'pending, fulfilled, declined or cancelled; a pending request past expires_at is expired';
COMMENT ON COLUMN samegoal.transfer_requests.transfer_id IS 'The transfer that fulfilled the request; NULL when every document was already there';
COMMENT ON COLUMN samegoal.transfer_requests.expires_at IS 'requested_at plus 30 days: after it the request can no longer be answered or cancelled';
COMMENT ON COLUMN samegoal.transfer_requests.due_on IS 'The date by which the district asked must answer: the request''s date plus the days of its state''s rule (state_transfer_rules), fixed when the request is made';
COMMENT ON COLUMN samegoal.transfer_requests.delay_reason IS 'The reason of the district asked''s latest notice of delay (sg_delay_transfer_request)';
COMMENT ON COLUMN samegoal.transfer_requests.delayed_until IS 'The date the latest notice of delay promises';
COMMENT ON COLUMN samegoal.transfer_requests.delayed_at IS 'When the latest notice of delay was given: in time when on or before due_on';

ALTER TABLE samegoal.transfer_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_requests_either_side ON samegoal.transfer_requests FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (requesting_district_id, sending_district_id));

-- The application reads requests through the policy and writes them only through
-- the functions below.
GRANT SELECT ON samegoal.transfer_requests TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_requests', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_requests_id_seq', '');

-- Like the disclosure record, a request is never deleted, by anyone.
CREATE TRIGGER transfer_requests_kept
    BEFORE DELETE ON samegoal.transfer_requests
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_refuse_change(
        'transfer requests cannot be deleted',
        'Both districts keep the record of what was asked and how it was answered.');
CREATE TRIGGER transfer_requests_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfer_requests
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_refuse_change(
        'transfer requests cannot be deleted',
        'Both districts keep the record of what was asked and how it was answered.');
ALTER TABLE samegoal.transfer_requests ENABLE ALWAYS TRIGGER transfer_requests_kept;
ALTER TABLE samegoal.transfer_requests ENABLE ALWAYS TRIGGER transfer_requests_kept_truncate;

-- The request the acting district may answer (the district asked, answering
-- = true) or withdraw (the requesting district), locked FOR UPDATE so that
-- answers take turns: SG011 unless it is pending and unexpired. Missing,
-- another district's, expired and answered requests are one error.
CREATE FUNCTION samegoal.sg_lock_open_request(request_id bigint, answering boolean)
RETURNS samegoal.transfer_requests
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    request samegoal.transfer_requests;
BEGIN
    SELECT r.* INTO request
      FROM samegoal.transfer_requests r
     WHERE r.id = sg_lock_open_request.request_id
       AND samegoal.sg_current_district_id() = CASE WHEN answering THEN r.sending_district_id
                                                    ELSE r.requesting_district_id END
       FOR UPDATE;
    IF request.id IS NULL OR request.status <> 'pending' OR request.expires_at <= clock_timestamp() THEN
        RAISE EXCEPTION 'no open transfer request with that id'
            USING ERRCODE = samegoal.sg_sqlstate('request_not_open'),
                  DETAIL = CASE WHEN answering
                                THEN 'The request does not exist, was not addressed to this district, has expired, or was already answered or cancelled.'
                                ELSE 'The request does not exist, was not made by this district, has expired, or was already answered or cancelled.' END;
    END IF;
    RETURN request;
END
$$;

COMMENT ON FUNCTION samegoal.sg_lock_open_request(bigint, boolean) IS
'Internal: lock the pending, unexpired request of the acting district (the district asked when answering, else the requester), or SG011';

-- A notification on samegoal_transfer_request after commit, for a new request
-- and for every answer: ids only, as any session may LISTEN on any channel.
CREATE FUNCTION samegoal.sg_notify_request(request_id bigint)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_notify(samegoal.sg_channel('transfer_request'),
                 json_build_object('request_id', r.id, 'requesting_district_id', r.requesting_district_id,
                                   'sending_district_id', r.sending_district_id)::text)
  FROM samegoal.transfer_requests r
 WHERE r.id = sg_notify_request.request_id
$$;

COMMENT ON FUNCTION samegoal.sg_notify_request(bigint) IS
'Internal: notify samegoal_transfer_request of a new or answered request, with its ids';

-- Every answer to a request goes through here: fulfilled (with the transfer
-- that copied, if any), declined (with the reason) or cancelled.
CREATE FUNCTION samegoal.sg_set_request_status(request_id bigint, new_status text, changed_by bigint,
                                               reason text, transfer_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE samegoal.transfer_requests r
       SET status = new_status, status_changed_at = clock_timestamp(), status_changed_by = changed_by,
           decline_reason = reason, transfer_id = sg_set_request_status.transfer_id
     WHERE r.id = sg_set_request_status.request_id;
    PERFORM samegoal.sg_notify_request(request_id);
END
$$;

COMMENT ON FUNCTION samegoal.sg_set_request_status(bigint, text, bigint, text, bigint) IS
'Internal: record the answer to a request and notify both districts';

CREATE FUNCTION samegoal.sg_request_transfer(
    sending_domain text,
    receiving_sis_student_id text,
    receiving_owner text,
    note text DEFAULT NULL,
    sending_sis_student_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin samegoal.users;
    requester samegoal.districts;
    asked samegoal.districts;
    asked_id bigint;
    student samegoal.students;
    owner_id bigint;
    existing bigint;
    new_id bigint;
    made_at timestamptz := clock_timestamp();
BEGIN
    SELECT u.* INTO admin FROM samegoal.users u WHERE u.id = samegoal.sg_require_admin();
    PERFORM samegoal.sg_require_text(sending_domain, 'sending_domain', NULL);
    PERFORM samegoal.sg_require_text(receiving_sis_student_id, 'receiving_sis_student_id', NULL);
    PERFORM samegoal.sg_require_text(receiving_owner, 'receiving_owner', NULL);
    IF char_length(note) > 1000 THEN
        RAISE EXCEPTION 'note must be at most 1000 characters long' USING ERRCODE = '22023';
    END IF;
    IF char_length(sending_sis_student_id) > 20 THEN
        RAISE EXCEPTION 'sending_sis_student_id must be at most 20 characters long' USING ERRCODE = '22023';
    END IF;

    -- The district asked by the domain rule of sg_act_as and a transfer; both
    -- district rows FOR SHARE in id order and the setting rules checked in a
    -- request's order (SG003, SG009, SG010, SG002, SG001), as a transfer locks
    -- and checks them (src/rules.c): a change of either setting waits for the
    -- request, or the request for it.
    asked_id := samegoal.sg_district_by_domain(sending_domain);
    PERFORM samegoal.sg_check_districts(asked_id, admin.district_id, sending_domain, true);
    SELECT d.* INTO requester FROM samegoal.districts d WHERE d.id = admin.district_id;
    SELECT d.* INTO asked FROM samegoal.districts d WHERE d.id = asked_id;

    -- The student FOR NO KEY UPDATE: two requests for one student take turns, and
    -- the second finds the first.
    SELECT s.* INTO student FROM samegoal.students s
     WHERE s.district_id = requester.id AND s.sis_student_id = receiving_sis_student_id
       FOR NO KEY UPDATE;
    IF student.id IS NULL THEN
        RAISE EXCEPTION 'no student with SIS Student ID "%" in this district', left(receiving_sis_student_id, 100)
            USING ERRCODE = samegoal.sg_sqlstate('no_such_student'), HINT = 'Add the student first.';
    END IF;
    -- The owner by the login rule of sg_act_as and a transfer.
    owner_id := samegoal.sg_user_by_login(requester.id, receiving_owner);
    IF owner_id IS NULL THEN
        RAISE EXCEPTION 'no active user with username or email "%" in this district', left(receiving_owner, 100)
            USING ERRCODE = samegoal.sg_sqlstate('no_such_user');
    END IF;

    SELECT r.id INTO existing FROM samegoal.transfer_requests r
     WHERE r.requesting_district_id = requester.id AND r.sending_district_id = asked.id
       AND r.receiving_student_id = student.id AND r.status = 'pending' AND r.expires_at > clock_timestamp()
     ORDER BY r.id
     LIMIT 1;
    IF existing IS NOT NULL THEN
        RETURN existing;
    END IF;

    INSERT INTO samegoal.transfer_requests
           (requesting_district_id, sending_district_id, receiving_student_id, receiving_owner_id,
            requested_by, requested_at, requesting_district_domain, requesting_district_name, requested_by_name,
            requested_by_email, student_first_name, student_last_name, student_birth_date,
            sending_sis_student_id, note, expires_at, due_on)
    VALUES (requester.id, asked.id, student.id, owner_id,
            admin.id, made_at, requester.domain, requester.name, admin.full_name,
            admin.email, student.first_name, student.last_name, student.birth_date,
            NULLIF(samegoal.sg_trim(sending_sis_student_id), ''),
            NULLIF(samegoal.sg_trim(note), ''), made_at + interval '30 days',
            samegoal.sg_request_due_on(asked.id, made_at))
    RETURNING id INTO new_id;

    PERFORM samegoal.sg_notify_request(new_id);
    RETURN new_id;
END
$$;

COMMENT ON FUNCTION samegoal.sg_request_transfer(text, text, text, text, text) IS
'Admins: ask the district with that domain for the documents of this district''s student with that SIS Student ID, to be owned here by that user; returns the request id (the pending request''s, when one is open already)';

CREATE FUNCTION samegoal.sg_fulfill_transfer_request(
    request_id bigint,
    document_ids bigint[],
    allow_mismatch boolean DEFAULT false)
RETURNS TABLE (transfer_id bigint, source_document_id bigint,
               received_document_id bigint, copied boolean)
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
AS 'MODULE_PATHNAME', 'sg_fulfill_transfer_request';

COMMENT ON FUNCTION samegoal.sg_fulfill_transfer_request(bigint, bigint[], boolean) IS
'Admins of the district asked: answer a pending request with a transfer of documents of one student, exactly as sg_transfer_documents would send them to the requester''s student and owner; the request becomes fulfilled';

-- Decline (the district asked) or cancel (the requester): lock the open request
-- of the acting district (SG011 otherwise) and close it.
CREATE FUNCTION samegoal.sg_close_request(request_id bigint, answering boolean, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin_id bigint := samegoal.sg_require_admin();
    request samegoal.transfer_requests;
BEGIN
    IF answering THEN
        PERFORM samegoal.sg_require_text(reason, 'reason', 1000);
    END IF;
    IF request_id IS NULL THEN
        RAISE EXCEPTION 'request_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    request := samegoal.sg_lock_open_request(request_id, answering);
    PERFORM samegoal.sg_set_request_status(request.id, CASE WHEN answering THEN 'declined' ELSE 'cancelled' END,
                                           admin_id, samegoal.sg_trim(reason), NULL);
END
$$;

COMMENT ON FUNCTION samegoal.sg_close_request(bigint, boolean, text) IS
'Internal: decline (answering) or cancel an open request of the acting district';

CREATE FUNCTION samegoal.sg_decline_transfer_request(request_id bigint, reason text)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_close_request(request_id, true, reason)';

COMMENT ON FUNCTION samegoal.sg_decline_transfer_request(bigint, text) IS
'Admins of the district asked: decline a pending request, with a reason the requester sees';

CREATE FUNCTION samegoal.sg_cancel_transfer_request(request_id bigint)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_close_request(request_id, false, NULL)';

COMMENT ON FUNCTION samegoal.sg_cancel_transfer_request(bigint) IS
'Admins of the requesting district: withdraw a pending request';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_request_transfer(text, text, text, text, text),
    samegoal.sg_fulfill_transfer_request(bigint, bigint[], boolean),
    samegoal.sg_decline_transfer_request(bigint, text),
    samegoal.sg_cancel_transfer_request(bigint)
TO samegoal_app;
