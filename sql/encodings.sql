-- Every function in a UTF8, a LATIN1 and a SQL_ASCII database (the last is what
-- initdb and pg_createcluster make when no UTF-8 locale is set): the same walk
-- (test/fixtures/encodings_walk.sql) in each, with the same output but for the
-- line that shows the guard's rule outside UTF-8 (the README's "Wrong-student
-- guard"). LATIN1 and SQL_ASCII with the locale C, as they must be; UTF8 with
-- it too, where the guard's Unicode rule does not depend on the locale.
\set VERBOSITY terse
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_sg_utf8;
DROP DATABASE IF EXISTS regress_sg_latin1;
DROP DATABASE IF EXISTS regress_sg_sql_ascii;
CREATE DATABASE regress_sg_utf8 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
CREATE DATABASE regress_sg_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
CREATE DATABASE regress_sg_sql_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
RESET client_min_messages;

\connect regress_sg_utf8
\set VERBOSITY terse
SELECT pg_catalog.getdatabaseencoding();
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/roles.sql
\i test/fixtures/districts.sql
\set ECHO all
\i test/fixtures/encodings_walk.sql

\connect regress_sg_latin1
\set VERBOSITY terse
SELECT pg_catalog.getdatabaseencoding();
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\set ECHO all
\i test/fixtures/encodings_walk.sql

\connect regress_sg_sql_ascii
\set VERBOSITY terse
SELECT pg_catalog.getdatabaseencoding();
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\set ECHO all
\i test/fixtures/encodings_walk.sql

\connect contrib_regression
DROP DATABASE regress_sg_utf8;
DROP DATABASE regress_sg_latin1;
DROP DATABASE regress_sg_sql_ascii;
DROP ROLE regress_sg_app;
DROP ROLE regress_sg_outsider;
