-- The catalog of the installed samegoal_transfer, one sorted line per fact, for
-- comparing an updated database with a fresh install (test/checks/upgrade.sh).
-- Object ids differ between databases, so every line names objects, never oids;
-- columns are numbered by their position among the live columns, so a column
-- dropped and added again by an update shows up as moved.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
\pset footer off
SET search_path = pg_catalog, pg_temp;

WITH ext AS (
    SELECT oid, extversion, extconfig, extcondition, extrelocatable, extnamespace
      FROM pg_extension WHERE extname = 'samegoal_transfer'
),
members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
rels AS (
    SELECT c.oid, c.relname, c.relkind
      FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
    UNION
    -- indexes and sequences that belong to member tables rather than to the extension
    SELECT c.oid, c.relname, c.relkind
      FROM pg_class c
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = d.refobjid
     WHERE d.deptype IN ('a', 'i') AND c.relkind <> 't'   -- TOAST tables are named by oid
    UNION
    SELECT c.oid, c.relname, c.relkind
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = i.indrelid
),
procs AS (
    SELECT p.oid FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
),
cols AS (
    SELECT a.attrelid, a.attnum, a.attname,
           row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS position
      FROM pg_attribute a JOIN rels r ON r.oid = a.attrelid
     WHERE a.attnum > 0 AND NOT a.attisdropped
),
facts(line) AS (
    SELECT format('extension version=%s relocatable=%s schema=%s', extversion, extrelocatable,
                  extnamespace::regnamespace)
      FROM ext
    UNION ALL
    SELECT format('extension config_dump %s condition=%L', cfg.rel::regclass, cfg.cond)
      FROM ext, unnest(ext.extconfig, ext.extcondition) AS cfg(rel, cond)
    UNION ALL
    SELECT format('member %s', pg_describe_object(m.classid, m.objid, 0)) FROM members m
    UNION ALL
    SELECT format('schema %s owner_is_superuser=%s acl=%s comment=%L', n.nspname,
                  (SELECT rolsuper FROM pg_roles WHERE oid = n.nspowner), n.nspacl,
                  obj_description(n.oid, 'pg_namespace'))
      FROM pg_namespace n WHERE n.nspname = 'samegoal'
    UNION ALL
    SELECT format('relation %s kind=%s persistence=%s rls=%s force_rls=%s replident=%s options=%s acl=%s comment=%L',
                  c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
                  c.relreplident, c.reloptions, c.relacl, obj_description(c.oid, 'pg_class'))
      FROM rels r JOIN pg_class c ON c.oid = r.oid
    UNION ALL
    SELECT format('column %s.%s position=%s type=%s notnull=%s identity=%L generated=%L collation=%s default=%L acl=%s comment=%L',
                  c.relname, a.attname, k.position, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  a.attidentity, a.attgenerated,
                  CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text END,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attacl, col_description(c.oid, a.attnum))
      FROM cols k
      JOIN pg_attribute a ON a.attrelid = k.attrelid AND a.attnum = k.attnum
      JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE c.relkind IN ('r', 'v', 'p')
    UNION ALL
    SELECT format('constraint %s.%s type=%s deferrable=%s deferred=%s validated=%s %s comment=%L',
                  c.relname, con.conname, con.contype, con.condeferrable, con.condeferred,
                  con.convalidated, pg_get_constraintdef(con.oid), obj_description(con.oid, 'pg_constraint'))
      FROM pg_constraint con JOIN rels r ON r.oid = con.conrelid JOIN pg_class c ON c.oid = con.conrelid
    UNION ALL
    SELECT format('index %s replident=%s clustered=%s %s', c.relname, i.indisreplident, i.indisclustered,
                  pg_get_indexdef(i.indexrelid))
      FROM pg_index i JOIN rels r ON r.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indexrelid
    UNION ALL
    SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s',
                  c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
                  s.seqmax, s.seqcache, s.seqcycle)
      FROM pg_sequence s JOIN rels r ON r.oid = s.seqrelid JOIN pg_class c ON c.oid = s.seqrelid
    UNION ALL
    SELECT format('view %s %s', c.relname, pg_get_viewdef(c.oid))
      FROM rels r JOIN pg_class c ON c.oid = r.oid WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('policy %s.%s cmd=%s permissive=%s roles=%s using=%L check=%L',
                  c.relname, p.polname, p.polcmd, p.polpermissive,
                  ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END
                          FROM unnest(p.polroles) r ORDER BY 1),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
      FROM pg_policy p JOIN rels r ON r.oid = p.polrelid JOIN pg_class c ON c.oid = p.polrelid
    UNION ALL
    SELECT format('trigger %s.%s enabled=%s %s comment=%L', c.relname, t.tgname, t.tgenabled,
                  pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger'))
      FROM pg_trigger t JOIN rels r ON r.oid = t.tgrelid JOIN pg_class c ON c.oid = t.tgrelid
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('function %s returns=%s language=%s secdef=%s leakproof=%s strict=%s volatile=%s parallel=%s cost=%s rows=%s config=%s acl=%s argnames=%s defaults=%L comment=%L body=%L bin=%L',
                  p.oid::regprocedure, pg_get_function_result(p.oid), l.lanname, p.prosecdef,
                  p.proleakproof, p.proisstrict, p.provolatile, p.proparallel, p.procost, p.prorows,
                  p.proconfig, p.proacl, p.proargnames, pg_get_expr(p.proargdefaults, 0),
                  obj_description(p.oid, 'pg_proc'), p.prosrc, p.probin)
      FROM procs x JOIN pg_proc p ON p.oid = x.oid JOIN pg_language l ON l.oid = p.prolang
    UNION ALL
    SELECT format('type %s kind=%s comment=%L', t.oid::regtype, t.typtype, obj_description(t.oid, 'pg_type'))
      FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
    UNION ALL
    SELECT format('role %s super=%s inherit=%s login=%s bypassrls=%s createrole=%s createdb=%s',
                  rolname, rolsuper, rolinherit, rolcanlogin, rolbypassrls, rolcreaterole, rolcreatedb)
      FROM pg_roles WHERE rolname LIKE 'samegoal\_%'
)
-- One fact per line: newlines inside bodies and definitions are written as \n.
SELECT replace(line, E'\n', '\n') AS line FROM facts ORDER BY line COLLATE "C";
