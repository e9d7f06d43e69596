-- sg_purge_documents of the deleted copies in bench.id_sets 'purge', rolled back.
BEGIN;
SELECT samegoal.sg_act_as('receive.bench.example', 'admin');
SELECT samegoal.sg_purge_documents((SELECT ids FROM bench.id_sets WHERE name = 'purge'));
ROLLBACK;
