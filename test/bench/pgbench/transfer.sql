-- One sg_transfer_documents call, rolled back, as an admin of the sending district.
-- -D set=<bench.id_sets name> sender=<domain> receiver=<domain> sis=<SIS Student ID>
BEGIN;
SELECT samegoal.sg_act_as(:sender, 'admin');
SELECT count(*) FILTER (WHERE copied)
  FROM samegoal.sg_transfer_documents((SELECT ids FROM bench.id_sets WHERE name = :set),
                                      :receiver, :sis, 'teacher');
ROLLBACK;
