-- The inbox (transfer_inbox): what needs someone's attention in the acting
-- district, newest first: requests to answer, transfers to acknowledge, held
-- arrivals to decide. security_invoker: the tables' row-level security applies
-- to the caller, so a session that is not acting sees nothing and nobody sees another
-- district's rows through the view; security_barrier: the view's own conditions
-- are applied before any function in the caller's WHERE sees a row. A held
-- arrival is listed as one item, 'held', until it is accepted or returned
-- (whether or not someone acknowledged it meanwhile), never as a 'transfer'.
CREATE VIEW samegoal.transfer_inbox WITH (security_invoker = true, security_barrier = true) AS
SELECT 'request'::text AS kind,
       r.id,
       r.requested_at AS at,
       r.requesting_district_domain AS from_district_domain,
       r.requesting_district_name AS from_district_name,
       r.requested_by_name AS from_user_name,
       r.requested_by_email AS from_user_email,
       r.student_first_name,
       r.student_last_name,
       r.student_birth_date,
       NULL::text AS receiving_sis_student_id,
       NULL::integer AS document_count,
       r.note,
       r.expires_at,
       NULL::text AS sent_first_name,
       NULL::text AS sent_last_name,
       NULL::date AS sent_birth_date,
       r.due_on,
       samegoal.sg_request_overdue(r) AS overdue
  FROM samegoal.transfer_requests r
 WHERE r.sending_district_id = samegoal.sg_current_district_id()
   AND r.status = 'pending' AND r.expires_at > (SELECT clock_timestamp())
UNION ALL
SELECT 'transfer'::text,
       t.id,
       t.initiated_at,
       t.sending_district_domain,
       t.sending_district_name,
       t.initiated_by_name,
       t.initiated_by_email,
       s.first_name,
       s.last_name,
       s.birth_date,
       s.sis_student_id,
       t.document_count,
       NULL::text,
       NULL::timestamptz,
       NULL::text,
       NULL::text,
       NULL::date,
       NULL::date,
       NULL::boolean
  FROM samegoal.transfers t
  JOIN samegoal.students s ON s.district_id = t.receiving_district_id AND s.id = t.receiving_student_id
 WHERE t.receiving_district_id = samegoal.sg_current_district_id()
   AND t.acknowledged_at IS NULL
   AND NOT EXISTS (SELECT FROM samegoal.transfer_arrivals a
                    WHERE a.receiving_district_id = t.receiving_district_id AND a.transfer_id = t.id AND a.held)
UNION ALL
SELECT 'held'::text,
       t.id,
       t.initiated_at,
       t.sending_district_domain,
       t.sending_district_name,
       t.initiated_by_name,
       t.initiated_by_email,
       s.first_name,
       s.last_name,
       s.birth_date,
       s.sis_student_id,
       t.document_count,
       NULL::text,
       NULL::timestamptz,
       a.sent_first_name,
       a.sent_last_name,
       a.sent_birth_date,
       NULL::date,
       NULL::boolean
  FROM samegoal.transfers t
  JOIN samegoal.transfer_arrivals a ON a.receiving_district_id = t.receiving_district_id AND a.transfer_id = t.id
  JOIN samegoal.students s ON s.district_id = t.receiving_district_id AND s.id = t.receiving_student_id
 WHERE t.receiving_district_id = samegoal.sg_current_district_id()
   AND a.held AND t.attached_student_id IS NULL AND t.returned_at IS NULL
 ORDER BY at DESC, kind, id DESC;

COMMENT ON VIEW samegoal.transfer_inbox IS
'For the acting district, newest first: pending requests addressed to it, received transfers not yet acknowledged, and held arrivals awaiting a decision (with the sending student as sent)';

GRANT SELECT ON samegoal.transfer_inbox TO samegoal_app;
