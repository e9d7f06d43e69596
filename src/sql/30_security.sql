-- Row-level security: a session acting as a user of district D sees and changes only
-- D's rows; a session that is not acting sees nothing. The identity is read through a
-- scalar subquery so it is evaluated once per query (an InitPlan), not once per row,
-- and the comparison stays usable as an index condition on district_id.

ALTER TABLE samegoal.districts ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.districts FORCE ROW LEVEL SECURITY;
CREATE POLICY districts_own ON samegoal.districts
    USING (id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own ON samegoal.users
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.students ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.students FORCE ROW LEVEL SECURITY;
CREATE POLICY students_own ON samegoal.students
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY documents_own ON samegoal.documents
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.document_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.document_files FORCE ROW LEVEL SECURITY;
CREATE POLICY document_files_own ON samegoal.document_files
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.transfers ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfers FORCE ROW LEVEL SECURITY;
CREATE POLICY transfers_either_side ON samegoal.transfers FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

ALTER TABLE samegoal.transfer_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_documents_either_side ON samegoal.transfer_documents FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

ALTER TABLE samegoal.purged_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.purged_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY purged_documents_own ON samegoal.purged_documents FOR SELECT
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

-- Grants: read everything (through the policies above); write only the district's
-- own users, students, documents and files, never the provenance and deletion columns
-- nor district_id after the fact. Deletion goes through the functions.
REVOKE ALL ON ALL TABLES IN SCHEMA samegoal FROM PUBLIC;
GRANT USAGE ON SCHEMA samegoal TO samegoal_app;
GRANT SELECT ON ALL TABLES IN SCHEMA samegoal TO samegoal_app;

GRANT INSERT (district_id, username, email, full_name, is_admin, is_active),
      UPDATE (username, email, full_name, is_admin, is_active)
    ON samegoal.users TO samegoal_app;
GRANT INSERT (district_id, sis_student_id, first_name, last_name, birth_date),
      UPDATE (sis_student_id, first_name, last_name, birth_date)
    ON samegoal.students TO samegoal_app;
GRANT INSERT (district_id, student_id, owner_id, doc_type, title, content, created_at),
      UPDATE (student_id, owner_id, doc_type, title, content)
    ON samegoal.documents TO samegoal_app;
GRANT INSERT (district_id, document_id, filename, content_type, data),
      UPDATE (document_id, filename, content_type, data)
    ON samegoal.document_files TO samegoal_app;
