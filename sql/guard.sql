-- The wrong-student guard: the matching rule case by case (since 1.3 a
-- mismatch holds the copies), allow_mismatch, four-argument calls, its place
-- after SG005, the error of a request's fulfilment (SG012), and 1.0 and 1.2.1
-- databases served by the same library. Then sg_act_as
-- outside a transaction block from a subtransaction (25P01), and the
-- transaction blocks it accepts.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all

-- One sending student of Maple (GS-n, with one document) and one receiving
-- student of Cedar (GR-n) per case; non-ASCII names are written as escapes.
CREATE TEMP TABLE guard_cases (
    n int PRIMARY KEY, label text,
    s_first text, s_last text, s_birth date,
    r_first text, r_last text, r_birth date);
INSERT INTO guard_cases VALUES
 (1, 'equal names and birth dates', 'Avery', 'Lopez', '2012-03-14', 'Avery', 'Lopez', '2012-03-14'),
 (2, 'names differing only by case', 'AVERY', 'lopez', '2012-03-14', 'avery', 'LOPEZ', '2012-03-14'),
 (3, 'last names differing by blanks', 'Milhouse', 'Van Houten', '2012-03-14', 'Mil', ' vanhouten ', '2012-03-14'),
 (4, 'first names differing by a hyphen', 'Jean-Luc', 'Picard', '2012-03-14', 'Jeanluc', 'Pickard', '2012-03-14'),
 (5, 'last names differing by an apostrophe', 'Shaun', 'O''Neil', '2012-03-14', 'Sean', 'ONeil', '2012-03-14'),
 (6, 'first name only equal', 'Avery', 'Lopez', '2012-03-14', 'Avery', 'Lopez-Garcia', '2012-03-14'),
 (7, 'last name only equal', 'Avery', 'Lopez', '2012-03-14', 'Ave', 'Lopez', '2012-03-14'),
 (8, 'nothing equal', 'Avery', 'Lopez', '2012-03-14', 'Jordan', 'Smith', '2012-03-14'),
 (9, 'names equal, sending birth date unknown', 'Avery', 'Lopez', NULL, 'Avery', 'Lopez', '2012-03-14'),
 (10, 'names equal, receiving birth date unknown', 'Avery', 'Lopez', '2012-03-14', 'Avery', 'Lopez', NULL),
 (11, 'names equal, both birth dates unknown', 'Avery', 'Lopez', NULL, 'Avery', 'Lopez', NULL),
 (12, 'names unequal, birth dates unknown', 'Avery', 'Lopez', NULL, 'Jordan', 'Smith', NULL),
 (13, 'names equal, birth dates a day apart', 'Avery', 'Lopez', '2012-03-14', 'Avery', 'Lopez', '2012-03-15'),
 (14, 'last names normalising to the empty string', 'Ann', '---', '2012-03-14', 'Anne', '---', '2012-03-14'),
 (15, 'both names normalising to the empty string', '-', '''', '2012-03-14', '-', '''', '2012-03-14'),
 (16, 'accented capitals and small letters', U&'JOS\00C9', 'Garcia', '2012-03-14', U&'jos\00E9', 'Martin', '2012-03-14'),
 (17, 'an accented letter is another letter', U&'Jos\00E9', U&'Garc\00EDa', '2012-03-14', 'Jose', 'Garcia', '2012-03-14'),
 (18, 'a composed and a decomposed accent', U&'Jos\00E9', 'Garcia', '2012-03-14', U&'Jose\0301', 'Martin', '2012-03-14'),
 (19, 'sharp s, by case', 'Lena', U&'STRA\00DFE', '2012-03-14', 'Helena', U&'stra\00DFe', '2012-03-14'),
 (20, 'O with stroke and A with ring, by case', 'Lena', U&'\00D8STERG\00C5RD', '2012-03-14', 'Helena', U&'\00F8sterg\00E5rd', '2012-03-14'),
 (21, 'N with tilde and U with acute, by case', 'Lena', U&'\00D1\00DA\00D1EZ', '2012-03-14', 'Helena', U&'\00F1\00FA\00F1ez', '2012-03-14'),
 (22, 'Cyrillic, by case', 'Lena', U&'\0416\0423\041A\041E\0412', '2012-03-14', 'Helena', U&'\0416\0443\043A\043E\0432', '2012-03-14'),
 (23, 'Cyrillic and Latin letters differ', U&'\0418\0432\0430\043D', 'Petrov', '2012-03-14', 'Ivan', 'Petrova', '2012-03-14'),
 (24, 'Chinese', U&'\5C0F\9F8D', U&'\674E', '2012-03-14', U&'\5C0F\9F99', U&'\674E', '2012-03-14'),
 (25, 'a letter beyond the Basic Multilingual Plane', 'Lena', U&'\+02000B-a', '2012-03-14', 'Helena', U&'\+02000Ba', '2012-03-14'),
 (26, 'names of punctuation only are not the same name', 'Ann', U&'\00B7\2013', '2012-03-14', 'Anne', U&'\2013\00B7', '2012-03-14'),
 (27, 'digits in names', 'Avery', 'Lopez 2nd', '2012-03-14', 'Ave', 'lopez2ND', '2012-03-14');

INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name, birth_date)
SELECT 1, 'GS-' || n, s_first, s_last, s_birth FROM guard_cases
UNION ALL
SELECT 2, 'GR-' || n, r_first, r_last, r_birth FROM guard_cases;
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title)
SELECT 1, s.id, 2, 'IEP', 'Guard case ' || c.n
  FROM guard_cases c JOIN samegoal.students s ON s.district_id = 1 AND s.sis_student_id = 'GS-' || c.n;

GRANT SELECT ON guard_cases TO PUBLIC;

-- sends the one document of case n: the copy's id, or the error's SQLSTATE
CREATE FUNCTION pg_temp.send_case(n int, allow_mismatch boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    doc bigint := (SELECT d.id FROM samegoal.documents d WHERE d.title = 'Guard case ' || n);
    copy bigint;
BEGIN
    SELECT t.received_document_id INTO copy
      FROM samegoal.sg_transfer_documents(ARRAY[doc], 'cedar.k12.example', 'GR-' || n, 'cteacher',
                                          allow_mismatch => allow_mismatch) t;
    RETURN copy::text;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

-- the rule, case by case: since 1.3 the copies arrive held where the students
-- do not match (the sender sees the same result either way), and live with
-- allow_mismatch => true
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
CREATE TEMP TABLE sent AS SELECT c.n, pg_temp.send_case(c.n) AS copy FROM guard_cases c;
SAVEPOINT s;
CREATE TEMP TABLE sent_anyway AS SELECT c.n, pg_temp.send_case(c.n, true) AS copy FROM guard_cases c;
RESET ROLE;
SELECT count(*) AS sent_anyway, count(*) FILTER (WHERE d.held) AS held
  FROM sent_anyway a JOIN samegoal.documents d ON d.id = a.copy::bigint;
ROLLBACK TO SAVEPOINT s;
RESET ROLE;
SELECT c.n, c.label, CASE WHEN d.held THEN 'held' ELSE 'live' END AS arrival
  FROM guard_cases c JOIN sent s ON s.n = c.n JOIN samegoal.documents d ON d.id = s.copy::bigint
 ORDER BY c.n;
ROLLBACK;

-- The error of a request's fulfilment, which still refuses (SG012): one
-- message, detail and hint, with nothing of the receiving student (C-2002 is
-- Jordan Smith; Maple's documents 1-3 are Avery Lopez's).
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cteacher') AS request \gset
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
\set VERBOSITY default
SELECT * FROM samegoal.sg_fulfill_transfer_request(:request, ARRAY[1, 2]);
\set VERBOSITY terse
ROLLBACK;

-- four arguments: compared too; to the matching student C-2001 they send live,
-- to C-2002 held, and the sender sees the same rows
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2002', 'cteacher');
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[2], 'cedar.k12.example', 'C-2001', 'cteacher');
-- allow_mismatch => false is the default; NULL is 22023
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[3], 'cedar.k12.example', 'C-2002', 'cteacher', false);
SAVEPOINT s;
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cteacher', NULL);
ROLLBACK TO SAVEPOINT s;
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cteacher', allow_mismatch => NULL);
ROLLBACK TO SAVEPOINT s;
-- positional or named, true sends live
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cteacher', true);
-- a repeat counts the held copy as it counts a live one: not copied again
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[1, 3], 'cedar.k12.example', 'C-2002', 'cteacher', allow_mismatch => true);
RESET ROLE;
SELECT source_document_id, student_id, held FROM samegoal.documents WHERE transfer_id IS NOT NULL ORDER BY id;
ROLLBACK;

-- The order: SG005 (and every earlier check) before the comparison, and
-- nothing is written when any of them fires: no id drawn from the sequences
-- of the rows a transfer writes. A fulfilment's SG012 writes nothing either.
SELECT last_value AS transfers_before FROM samegoal.transfers_id_seq WHERE is_called \gset
SELECT last_value AS documents_before FROM samegoal.documents_id_seq WHERE is_called \gset
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cteacher') AS request \gset
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SAVEPOINT s;
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2002', 'nobody');
ROLLBACK TO SAVEPOINT s;
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-9999', 'cteacher');
ROLLBACK TO SAVEPOINT s;
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1, 4], 'cedar.k12.example', 'C-2002', 'cteacher');
ROLLBACK TO SAVEPOINT s;
SELECT * FROM samegoal.sg_fulfill_transfer_request(:request, ARRAY[1]);
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS transfers FROM samegoal.transfers;
COMMIT;
RESET ROLE;
SELECT last_value = :transfers_before AS no_transfer_id_drawn,
       (SELECT last_value FROM samegoal.documents_id_seq) = :documents_before AS no_document_id_drawn
  FROM samegoal.transfers_id_seq;

-- sg_act_as outside a transaction block, from a subtransaction: 25P01
DO $$
BEGIN
    PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
EXCEPTION WHEN OTHERS THEN
    RAISE;
END $$;
-- the same in a function called by a statement, and as an application role
CREATE FUNCTION pg_temp.act_in_subtransaction() RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        RETURN samegoal.sg_act_as('maple.k12.example', 'madmin');
    EXCEPTION WHEN division_by_zero THEN
        RETURN NULL;
    END;
END $$;
SET ROLE regress_sg_app;
SELECT pg_temp.act_in_subtransaction();
RESET ROLE;

-- inside BEGIN: the same block, a savepoint, a function's subtransaction
BEGIN;
DO $$
BEGIN
    PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
EXCEPTION WHEN OTHERS THEN
    RAISE;
END $$;
SELECT samegoal.sg_current_user_id();
SAVEPOINT s;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
RELEASE SAVEPOINT s;
SET ROLE regress_sg_app;
SELECT pg_temp.act_in_subtransaction();
COMMIT;
RESET ROLE;

-- a query string of several statements is an implicit transaction block
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') \; SELECT samegoal.sg_current_user_id();
SELECT 1 AS first \; SELECT pg_temp.act_in_subtransaction();
SELECT samegoal.sg_current_user_id();

-- Procedures. Called inside BEGIN, one may act, in an EXCEPTION block too.
-- Called outside, it is no transaction block, before or after a COMMIT of its
-- own: 25P01, at its top level or in an EXCEPTION block.
CREATE PROCEDURE pg_temp.act_then_commit(in_subtransaction boolean) LANGUAGE plpgsql AS $$
BEGIN
    IF in_subtransaction THEN
        BEGIN
            PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
        EXCEPTION WHEN division_by_zero THEN
            NULL;
        END;
    ELSE
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
    END IF;
    RAISE NOTICE 'acting as %', samegoal.sg_current_user_id();
    COMMIT;
END $$;
CREATE PROCEDURE pg_temp.commit_then_act(in_subtransaction boolean) LANGUAGE plpgsql AS $$
BEGIN
    COMMIT;
    IF in_subtransaction THEN
        BEGIN
            PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
        EXCEPTION WHEN division_by_zero THEN
            NULL;
        END;
    ELSE
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
    END IF;
END $$;
CALL pg_temp.act_then_commit(false);
CALL pg_temp.act_then_commit(true);
CALL pg_temp.commit_then_act(false);
CALL pg_temp.commit_then_act(true);
BEGIN;
CREATE PROCEDURE pg_temp.act(in_subtransaction boolean) LANGUAGE plpgsql AS $$
BEGIN
    IF in_subtransaction THEN
        BEGIN
            PERFORM samegoal.sg_act_as('cedar.k12.example', 'cadmin');
        EXCEPTION WHEN division_by_zero THEN
            NULL;
        END;
    ELSE
        PERFORM samegoal.sg_act_as('maple.k12.example', 'madmin');
    END IF;
    RAISE NOTICE 'acting as %', samegoal.sg_current_user_id();
END $$;
CALL pg_temp.act(false);
CALL pg_temp.act(true);
ROLLBACK;

-- A 1.2.1 database served by this library keeps 1.2.1's guard (SG012);
-- after ALTER EXTENSION ... UPDATE the same call arrives held.
DROP EXTENSION samegoal_transfer;
CREATE EXTENSION samegoal_transfer VERSION '1.2.1';
\set ECHO none
\i test/fixtures/districts.sql
\set ECHO all
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SAVEPOINT s;
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2002', 'cteacher');
ROLLBACK TO SAVEPOINT s;
SELECT samegoal.sg_purge_documents(ARRAY[1]);
ROLLBACK;
ALTER EXTENSION samegoal_transfer UPDATE;
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2002', 'cteacher');
RESET ROLE;
SELECT id, held FROM samegoal.documents WHERE transfer_id IS NOT NULL;
ROLLBACK;

-- A 1.0 database served by this library: the four-argument declaration of 1.0
-- has no guard; after ALTER EXTENSION ... UPDATE the same call is compared
-- (and, to another student, arrives held).
DROP EXTENSION samegoal_transfer;
CREATE EXTENSION samegoal_transfer VERSION '1.0';
\set ECHO none
\i test/fixtures/districts.sql
\set ECHO all
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2002', 'cteacher');
ROLLBACK;
ALTER EXTENSION samegoal_transfer UPDATE;
BEGIN;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT source_document_id, copied FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-2002', 'cteacher');
RESET ROLE;
SELECT id, held FROM samegoal.documents WHERE transfer_id IS NOT NULL;
ROLLBACK;

DROP TABLE guard_cases;
DROP EXTENSION samegoal_transfer;
DROP EXTENSION pg_trgm;
DROP ROLE regress_sg_app;
DROP ROLE regress_sg_outsider;
