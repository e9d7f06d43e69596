/*-------------------------------------------------------------------------
 *
 * node.c
 *	  Version 1.2, a node of a deployment split by state: the fence that
 *	  refuses to act as a user of a district whose state this node does not
 *	  serve (SG014).
 *
 * The states a node does not serve are rows of samegoal.node_states, a table
 * that exists only from version 1.2 on. The module serves a database at 1.0,
 * 1.1 or 1.2 at once (between ALTER EXTENSION ... UPDATE steps), so the fence
 * first looks the table up in the catalog cache and is a no-op where it is
 * missing: no statement that names it is ever prepared for an older catalog.
 * Everything else of a node (id ranges, the release of a state, reporting) is
 * SQL, in src/sql/85_node.sql and 86_reporting.sql.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"

#include "samegoal.h"
#include "spi.h"

/* A row other than serving for the district's state: the state is fenced. */
static SgStatement state_fenced_statement = {
	.sql = "SELECT 1 FROM samegoal.districts d"
	" JOIN samegoal.node_states n ON n.state = d.state"
	" WHERE d.id = $1 AND n.status <> 'serving'",
	.nargs = 1,
	.argtypes = {INT8OID},
	.expected = SPI_OK_SELECT,
	.max_rows = 1,
};

/* Whether this database's catalog has samegoal.node_states (version 1.2 on). */
static bool
node_states_exist(void)
{
	Oid			nspid = get_namespace_oid("samegoal", true);

	return OidIsValid(nspid) && OidIsValid(get_relname_relid("node_states", nspid));
}

/*
 * The district id, unchanged, when this node serves the district's state;
 * SG014 when the state has a row in node_states other than serving. 0 (no such
 * district) passes through. Runs on every sg_act_as, whatever any cache of
 * identities knows: the fence reads node_states each time. SPI connected, in
 * an owner scope.
 */
int64
sg_check_state_served(int64 district_id)
{
	Datum		arg = Int64GetDatum(district_id);

	if (district_id == 0 || !node_states_exist())
		return district_id;
	if (sg_execute(&state_fenced_statement, &arg) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_SERVED_ELSEWHERE),
				 errmsg("this district is served by another node")));
	return district_id;
}
