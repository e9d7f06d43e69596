-- samegoal_transfer 1.0 -> 1.1
\echo Use "ALTER EXTENSION samegoal_transfer UPDATE TO '1.1'" to load this file. \quit
