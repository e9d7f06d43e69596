-- Transfer requests: the receiving district asks, the district asked fulfils or
-- declines, the requester may cancel; the receiver acknowledges what it got.
-- Every function, every error code in the contract's order, the notifications,
-- and the parties named in the disclosure record.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all
-- A fourth district in Oregon that has switched transfers off.
INSERT INTO samegoal.districts (domain, name, state, transfers_enabled)
VALUES ('birch.k12.example', 'Birch Creek School District', 'OR', false);
INSERT INTO samegoal.users (district_id, username, email, full_name, is_admin)
VALUES (4, 'badmin', 'admin@birch.k12.example', 'Bailey Admin', true);

-- Only the commits whose notifications are shown go to the file; the others'
-- are dropped.
\set notify_file `mktemp`
\setenv NOTIFY_FILE :notify_file
LISTEN samegoal_transfer_request;
LISTEN samegoal_transfer;
SET ROLE regress_sg_app;

-- sg_request_transfer: who may, and every error in order.
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cteacher');
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cteacher');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SAVEPOINT s;
SELECT samegoal.sg_request_transfer(NULL, 'C-2001', 'cteacher');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('maple.k12.example', E' \t', 'cteacher');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', NULL);
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cteacher', repeat('x', 1001));
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cteacher', NULL, repeat('9', 21));
ROLLBACK TO s;
-- 22023 comes before the district is looked up
SELECT samegoal.sg_request_transfer('nowhere.example', 'C-2001', 'cteacher', repeat('x', 1001));
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('nowhere.example', 'C-2001', 'cteacher');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer(' CEDAR.k12.example ', 'C-2001', 'cteacher');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('pine.k12.example', 'C-2001', 'cteacher');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('birch.k12.example', 'C-2001', 'cteacher');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-9999', 'cteacher');
ROLLBACK TO s;
-- C-2001 at the sending district would be a student of Maple: the SIS id is this district's
SELECT samegoal.sg_request_transfer('maple.k12.example', 'M-1001', 'cteacher');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cformer');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'madmin');
ROLLBACK TO s;
\o /dev/null
COMMIT;
\o

-- Cedar's own setting off: SG002, after SG010 and before SG001.
RESET ROLE;
UPDATE samegoal.districts SET transfers_enabled = false WHERE id = 2;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SAVEPOINT s;
SELECT samegoal.sg_request_transfer('pine.k12.example', 'C-2001', 'cteacher');
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('birch.k12.example', 'C-2001', 'cteacher');
ROLLBACK TO s;
\o /dev/null
COMMIT;
\o
RESET ROLE;
UPDATE samegoal.districts SET transfers_enabled = true WHERE id = 2;
SET ROLE regress_sg_app;

-- A request, and its idempotent repeat: the same id, nothing written, one
-- notification (ids only).
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer(' Maple.K12.Example ', 'C-2001', 'TEACHER@cedar.k12.example',
                                    E'  Avery''s IEP and evaluation, please.\n', ' M-1001 ');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cadmin');
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
RESET ROLE;
SELECT id, requesting_district_id, sending_district_id, receiving_student_id, receiving_owner_id, requested_by,
       requesting_district_domain, requesting_district_name, requested_by_name, requested_by_email,
       student_first_name, student_last_name, student_birth_date, sending_sis_student_id, note, status,
       status_changed_at, status_changed_by, decline_reason, transfer_id,
       expires_at = requested_at + interval '30 days' AS expires_in_30_days
  FROM samegoal.transfer_requests;
SET ROLE regress_sg_app;

-- sg_fulfill_transfer_request: who may, and every error in order.
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[1]);
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[1]);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SAVEPOINT s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, NULL);
ROLLBACK TO s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, '{}');
ROLLBACK TO s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[1, NULL]);
ROLLBACK TO s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[1], NULL);
ROLLBACK TO s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(NULL, ARRAY[1]);
ROLLBACK TO s;
-- 22023 before SG011
SELECT * FROM samegoal.sg_fulfill_transfer_request(999, NULL);
ROLLBACK TO s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(999, ARRAY[1]);
ROLLBACK TO s;
-- SG011 before SG006
SELECT * FROM samegoal.sg_fulfill_transfer_request(999, ARRAY[999]);
ROLLBACK TO s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[999]);
ROLLBACK TO s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[1, 4]);
ROLLBACK TO s;
\o /dev/null
COMMIT;
\o
-- Only the district asked may answer: not the requester, not a third district.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[5]);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[6]);
ROLLBACK;
-- The owner named in the request was deactivated since: SG005, as in any transfer.
RESET ROLE;
UPDATE samegoal.users SET is_active = false WHERE id = 5;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[1]);
ROLLBACK;
RESET ROLE;
UPDATE samegoal.users SET is_active = true WHERE id = 5;
SET ROLE regress_sg_app;

-- Fulfilled: the documents go to the request's student and owner, the transfer
-- names the request and both parties, the request names the transfer.
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[2, 1]);
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
RESET ROLE;
SELECT id, status, status_changed_at IS NOT NULL AS changed, status_changed_by, transfer_id FROM samegoal.transfer_requests;
SELECT id, sending_district_id, receiving_district_id, receiving_student_id, receiving_owner_id, initiated_by,
       document_count, sending_district_domain, sending_district_name, receiving_district_domain,
       receiving_district_name, initiated_by_name, initiated_by_email, request_id, acknowledged_at, acknowledged_by
  FROM samegoal.transfers;
SELECT id, district_id, student_id, owner_id, transfer_id, source_document_id FROM samegoal.documents WHERE transfer_id IS NOT NULL;
SET ROLE regress_sg_app;

-- Answered: SG011 for every later answer or cancellation.
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SAVEPOINT s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(1, ARRAY[3]);
ROLLBACK TO s;
SELECT samegoal.sg_decline_transfer_request(1, 'too late');
ROLLBACK TO s;
\o /dev/null
COMMIT;
\o
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_cancel_transfer_request(1);
ROLLBACK;

-- A request for documents the student already holds: fulfilled, nothing copied,
-- no transfer named.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cteacher');
\o /dev/null
COMMIT;
\o
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT * FROM samegoal.sg_fulfill_transfer_request(2, ARRAY[1]);
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
RESET ROLE;
SELECT id, status, transfer_id FROM samegoal.transfer_requests WHERE id = 2;
SET ROLE regress_sg_app;

-- sg_decline_transfer_request: a reason is required; the requester cannot decline.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin', NULL, NULL);
SAVEPOINT s;
SELECT samegoal.sg_decline_transfer_request(3, 'no');
ROLLBACK TO s;
\o /dev/null
COMMIT;
\o
SELECT samegoal.sg_decline_transfer_request(3, 'no');
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SELECT samegoal.sg_decline_transfer_request(3, 'no');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SAVEPOINT s;
SELECT samegoal.sg_decline_transfer_request(3, NULL);
ROLLBACK TO s;
SELECT samegoal.sg_decline_transfer_request(3, E' \n ');
ROLLBACK TO s;
SELECT samegoal.sg_decline_transfer_request(3, repeat('r', 1001));
ROLLBACK TO s;
SELECT samegoal.sg_decline_transfer_request(NULL, 'no');
ROLLBACK TO s;
SELECT samegoal.sg_decline_transfer_request(999, 'no');
ROLLBACK TO s;
SELECT samegoal.sg_decline_transfer_request(3, E' We hold no records for Jordan Smith. \n');
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
RESET ROLE;
SELECT id, status, status_changed_by, decline_reason, transfer_id FROM samegoal.transfer_requests WHERE id = 3;
SET ROLE regress_sg_app;

-- sg_cancel_transfer_request: only the requesting district, only while open.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin');
\o /dev/null
COMMIT;
\o
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_cancel_transfer_request(4);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
SELECT samegoal.sg_cancel_transfer_request(4);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SAVEPOINT s;
SELECT samegoal.sg_cancel_transfer_request(NULL);
ROLLBACK TO s;
SELECT samegoal.sg_cancel_transfer_request(4);
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
RESET ROLE;
SELECT id, status, status_changed_by FROM samegoal.transfer_requests WHERE id = 4;
SET ROLE regress_sg_app;

-- An expired request (a superuser moves its expiry into the past): no answer,
-- no cancellation, and a new request for the same student may be made.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin');
\o /dev/null
COMMIT;
\o
RESET ROLE;
UPDATE samegoal.transfer_requests SET expires_at = now() - interval '1 second' WHERE id = 5;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SAVEPOINT s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(5, ARRAY[4], true);
ROLLBACK TO s;
SELECT samegoal.sg_decline_transfer_request(5, 'no');
ROLLBACK TO s;
\o /dev/null
COMMIT;
\o
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SAVEPOINT s;
SELECT samegoal.sg_cancel_transfer_request(5);
ROLLBACK TO s;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin');
\o /dev/null
COMMIT;
\o
RESET ROLE;
SELECT id, status, expires_at > now() AS open FROM samegoal.transfer_requests WHERE id >= 5 ORDER BY id;

-- Expiry is a moment by the clock: a request that expires after this
-- transaction began (a microsecond after its start, and the clock is past
-- that) has left the inbox and cannot be answered, although now(), the
-- transaction's start, is still before it.
BEGIN;
UPDATE samegoal.transfer_requests SET expires_at = now() + interval '1 microsecond' WHERE id = 6;
SELECT pg_sleep(0.001);
SELECT expires_at > now() AS not_past_by_the_transaction_start,
       expires_at > clock_timestamp() AS not_past_by_the_clock
  FROM samegoal.transfer_requests WHERE id = 6;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) AS in_inbox FROM samegoal.transfer_inbox WHERE kind = 'request' AND id = 6;
SAVEPOINT s;
SELECT samegoal.sg_decline_transfer_request(6, 'no');
ROLLBACK TO s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(6, ARRAY[4], true);
ROLLBACK;
SET ROLE regress_sg_app;

-- sg_acknowledge_transfer: SG006 first (not received here), then 42501 for a
-- user who neither owns the copies nor is an admin; once only.
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_acknowledge_transfer(1);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'pteacher');
SELECT samegoal.sg_acknowledge_transfer(1);
ROLLBACK;
RESET ROLE;
INSERT INTO samegoal.users (district_id, username) VALUES (2, 'cclerk');
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cclerk');
SAVEPOINT s;
SELECT samegoal.sg_acknowledge_transfer(999);
ROLLBACK TO s;
SELECT samegoal.sg_acknowledge_transfer(NULL);
ROLLBACK TO s;
SELECT samegoal.sg_acknowledge_transfer(1);
ROLLBACK TO s;
\o /dev/null
COMMIT;
\o
-- the owner of the copies (Chris Teacher) acknowledges; a second call changes nothing
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
SELECT samegoal.sg_acknowledge_transfer(1);
\o /dev/null
COMMIT;
\o
RESET ROLE;
SELECT id, acknowledged_at IS NOT NULL AS acknowledged, acknowledged_by FROM samegoal.transfers;
CREATE TEMP TABLE first_ack AS SELECT acknowledged_at FROM samegoal.transfers WHERE id = 1;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_acknowledge_transfer(1);
\o /dev/null
COMMIT;
\o
RESET ROLE;
SELECT t.acknowledged_by, t.acknowledged_at = f.acknowledged_at AS unchanged
  FROM samegoal.transfers t, first_ack f WHERE t.id = 1;

-- The record and the requests are kept: no role deletes them; only the
-- acknowledgement is ever set on a transfer.
\set ON_ERROR_STOP 0
DELETE FROM samegoal.transfer_requests WHERE id = 1;
TRUNCATE samegoal.transfer_requests;
TRUNCATE samegoal.transfers CASCADE;
UPDATE samegoal.transfers SET acknowledged_at = NULL, acknowledged_by = NULL WHERE id = 1;
UPDATE samegoal.transfers SET sending_district_name = 'Someone else' WHERE id = 1;
SET ROLE regress_sg_app;
INSERT INTO samegoal.transfer_requests (requesting_district_id, sending_district_id, receiving_student_id,
    receiving_owner_id, requested_by, requesting_district_domain, requesting_district_name,
    student_first_name, student_last_name, expires_at)
VALUES (2, 1, 3, 5, 4, 'x', 'x', 'x', 'x', now());
UPDATE samegoal.transfer_requests SET status = 'pending';
DELETE FROM samegoal.transfer_requests;
RESET ROLE;
SELECT count(*) FROM samegoal.transfer_requests;

UNLISTEN *;
\! rm -f "$NOTIFY_FILE"
DROP TABLE first_ack;
DROP EXTENSION samegoal_transfer;
DROP EXTENSION pg_trgm;
DROP ROLE regress_sg_app;
DROP ROLE regress_sg_outsider;
