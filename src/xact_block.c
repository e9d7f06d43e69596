/*-------------------------------------------------------------------------
 *
 * xact_block.c
 *	  Whether the session's top-level transaction is a transaction block
 *	  (an explicit BEGIN, or the implicit block of a query string of several
 *	  statements), seen from any subtransaction: the rule of sg_act_as, which
 *	  answers 25P01 outside a transaction block whatever the nesting.
 *
 * IsTransactionBlock() looks at the innermost (sub)transaction only. A
 * subtransaction started inside a statement that runs alone, in autocommit
 * (a PL/pgSQL block with an EXCEPTION clause, PL/Python's subtransactions),
 * has a block state of its own, TBLOCK_SUBINPROGRESS, so IsTransactionBlock()
 * says "yes" there although the top level is TBLOCK_STARTED. The top level's
 * state is private to xact.c, and nothing it exports (IsInTransactionBlock,
 * TransactionBlockStatusCode, the timestamps) tells it from a subtransaction.
 *
 * So it is observed where it can be: at nesting level 1, IsTransactionBlock()
 * is the top level's own answer. An executor-start and a utility hook take
 * that answer at the start of every statement run at level 1 (a client's
 * statement, and each statement a procedure or DO block runs outside its
 * EXCEPTION blocks), and so does the loading of the module; the answer is
 * kept with the top-level transaction it belongs to (its local transaction id
 * and start time). It cannot become stale within that transaction: a
 * transaction enters a block only through a statement at level 1 (BEGIN) or
 * just before one (the implicit block of a multi-statement query string,
 * started before the statement is analysed and run), and leaves it only by
 * ending.
 *
 * A subtransaction whose top-level transaction was never observed:
 *	- when the module was loaded inside a subtransaction of this transaction
 *	  (the session's first samegoal call made after a SAVEPOINT, or inside an
 *	  EXCEPTION block or a procedure), the answer is not known: a transaction
 *	  block is the likely case (BEGIN; SAVEPOINT, as ORMs and test frameworks
 *	  nest), and the one alternative, a statement in autocommit whose first
 *	  call is in a subtransaction, ends the identity with that statement's
 *	  transaction anyway, which is harmless. So the call is accepted.
 *	  session_preload_libraries = 'samegoal_transfer' loads the module before
 *	  the first statement and makes the answer exact;
 *	- otherwise (a procedure called outside a transaction block, after it
 *	  commits or rolls back, before the new transaction's first statement at
 *	  level 1; a function called through the fast-path protocol that enters a
 *	  subtransaction first) the transaction is no block: a procedure can end
 *	  transactions only when called outside one. 25P01 is right there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "storage/proc.h"
#include "tcop/utility.h"

#include "samegoal.h"
#include "xact_block.h"

/* The top-level transaction last seen at nesting level 1, and its answer. */
typedef struct TopLevelBlock
{
	LocalTransactionId lxid;	/* InvalidLocalTransactionId: none seen */
	TimestampTz xact_start;
	bool		in_block;
} TopLevelBlock;

static TopLevelBlock top_level = {InvalidLocalTransactionId, 0, false};

/* The transaction in which the module was loaded inside a subtransaction. */
static LocalTransactionId loaded_in_subtransaction = InvalidLocalTransactionId;

static ExecutorStart_hook_type prev_executor_start = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

/* At nesting level 1, note whether the top-level transaction is a block. */
static void
observe_top_level(void)
{
	if (!IsTransactionState() || MyProc == NULL ||
		GetCurrentTransactionNestLevel() != 1)
		return;
	top_level.lxid = SG_PROC_LXID(MyProc);
	top_level.xact_start = GetCurrentTransactionStartTimestamp();
	top_level.in_block = IsTransactionBlock();
}

static void
observe_executor_start(QueryDesc *queryDesc, int eflags)
{
	observe_top_level();
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

static void
observe_process_utility(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc)
{
	observe_top_level();
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

/* Called once, when the module is loaded (_PG_init). */
void
sg_track_transaction_blocks(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = observe_executor_start;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = observe_process_utility;

	observe_top_level();
	if (IsTransactionState() && MyProc != NULL && GetCurrentTransactionNestLevel() > 1)
		loaded_in_subtransaction = SG_PROC_LXID(MyProc);
}

/*
 * Whether the top-level transaction is a transaction block, from any nesting
 * level; unknown (the module was loaded inside a subtransaction of this
 * transaction) counts as yes.
 */
bool
sg_in_transaction_block(void)
{
	if (GetCurrentTransactionNestLevel() <= 1)
		return IsTransactionBlock();
	if (top_level.lxid == SG_PROC_LXID(MyProc) &&
		top_level.xact_start == GetCurrentTransactionStartTimestamp())
		return top_level.in_block;
	return loaded_in_subtransaction == SG_PROC_LXID(MyProc);
}
