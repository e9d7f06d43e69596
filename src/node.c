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
 * is a no-op where the catalog has no such table (as a member of the
 * extension: a relation of that name that someone else made is never read).
 *
 * The fence is read on every sg_act_as, cached identity or not, with the
 * snapshot of the identity's lookup (the latest committed state), and by
 * scanning the table itself rather than through SPI: it has a row for a few
 * states at most, and reading it this way costs less than a statement while
 * holding whatever wrote it (a data-only restore with its triggers disabled,
 * logical replication, a superuser's INSERT).
 *
 * Everything else of a node (id ranges, the release of a state, reporting) is
 * SQL, in src/sql/85_node.sql and 86_reporting.sql.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "samegoal.h"
#include "node.h"
#include "owner.h"

static SgKnownRelation node_states_relation = {.name = "node_states"};

/*
 * SG014 when the state has a row in node_states other than serving. A NULL
 * state (no such district) passes.
 */
void
sg_check_state_served(const char *state, Snapshot snapshot)
{
	Oid			relid;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	AttrNumber	state_attnum;
	AttrNumber	status_attnum;
	bool		fenced = false;

	if (state == NULL)
		return;
	relid = sg_known_relation(&node_states_relation);
	if (!OidIsValid(relid))
		return;

	rel = table_open(relid, AccessShareLock);
	/* A node that has never fenced a state has an empty file: nothing to read. */
	if (RelationGetNumberOfBlocks(rel) == 0)
	{
		table_close(rel, AccessShareLock);
		return;
	}
	state_attnum = get_attnum(relid, "state");
	status_attnum = get_attnum(relid, "status");
	if (state_attnum == InvalidAttrNumber || status_attnum == InvalidAttrNumber)
		elog(ERROR, "table samegoal.node_states has no column state or status");

	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (!fenced && (tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, state_attnum, RelationGetDescr(rel), &isnull);

		if (isnull || strcmp(TextDatumGetCString(value), state) != 0)
			continue;
		value = heap_getattr(tuple, status_attnum, RelationGetDescr(rel), &isnull);
		fenced = isnull || strcmp(TextDatumGetCString(value), "serving") != 0;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);

	if (fenced)
		ereport(ERROR,
				(errcode(ERRCODE_SG_SERVED_ELSEWHERE),
				 errmsg("this district is served by another node")));
}
