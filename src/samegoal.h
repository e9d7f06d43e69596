/*-------------------------------------------------------------------------
 *
 * samegoal.h
 *	  The vocabulary every samegoal_transfer module shares: the extension's
 *	  name, the SQLSTATEs of the contract and the notification channels, each
 *	  listed once. The SQL of the extension reaches the same lists by the same
 *	  names through samegoal.sg_sqlstate(name) and samegoal.sg_channel(name)
 *	  (rules.c), so that neither a code nor a channel is spelled twice.
 *
 * What is written in C and what in plpgsql: C where the acting identity is
 * set or checked, where a function reads across districts, where a statement
 * is hot enough to be kept prepared (src/spi.h), or where a rule is applied
 * by C and SQL alike (src/rules.h); everything else is plpgsql SECURITY
 * DEFINER with a pinned search_path (src/sql).
 *
 * Each module declares its own functions in its own header: owner.h,
 * xact_block.h, identity.h, args.h, rules.h, node.h, spi.h, transfer.h and
 * directory.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_H
#define SAMEGOAL_H

#include "utils/elog.h"

#include "compat.h"

#define SG_EXTENSION_NAME "samegoal_transfer"

/*
 * The SQLSTATEs of the contract: X(NAME, five characters). C raises
 * ERRCODE_SG_NAME; SQL raises samegoal.sg_sqlstate('name'), the same name in
 * lower case.
 */
#define SG_SQLSTATE_LIST(X) \
	X(SENDER_DISABLED,		'S','G','0','0','1') \
	X(RECEIVER_DISABLED,	'S','G','0','0','2') \
	X(NO_SUCH_DISTRICT,		'S','G','0','0','3') \
	X(NO_SUCH_STUDENT,		'S','G','0','0','4') \
	X(NO_SUCH_USER,			'S','G','0','0','5') \
	X(NOT_FOUND,			'S','G','0','0','6') \
	X(MIXED_STUDENTS,		'S','G','0','0','7') \
	X(DOCUMENT_LIVE,		'S','G','0','0','8') \
	X(SAME_DISTRICT,		'S','G','0','0','9') \
	X(OTHER_STATE,			'S','G','0','1','0') \
	X(REQUEST_NOT_OPEN,		'S','G','0','1','1') \
	X(STUDENT_MISMATCH,		'S','G','0','1','2') \
	X(LIVE_COPY_EXISTS,		'S','G','0','1','3') \
	X(SERVED_ELSEWHERE,		'S','G','0','1','4')

#define SG_DEFINE_SQLSTATE(name, c1, c2, c3, c4, c5) \
	ERRCODE_SG_##name = MAKE_SQLSTATE(c1, c2, c3, c4, c5),
enum
{
	SG_SQLSTATE_LIST(SG_DEFINE_SQLSTATE)
};

/*
 * The notification channels: X(NAME, channel). C names SG_CHANNEL_NAME;
 * SQL names samegoal.sg_channel('name'), the same name in lower case. Any
 * session may LISTEN on any channel: payloads carry ids and counts only.
 */
#define SG_CHANNEL_TRANSFER			"samegoal_transfer"
#define SG_CHANNEL_TRANSFER_REQUEST	"samegoal_transfer_request"

#define SG_CHANNEL_LIST(X) \
	X(TRANSFER,			SG_CHANNEL_TRANSFER) \
	X(TRANSFER_REQUEST, SG_CHANNEL_TRANSFER_REQUEST)

#endif							/* SAMEGOAL_H */
