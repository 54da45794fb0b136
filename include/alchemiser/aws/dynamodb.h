/*
 * dynamodb: the idem_store seam over DynamoDB conditional writes (AWS JSON
 * 1.0). One item per key (partition key event_id, S):
 *   event_id S, status S (IN_PROGRESS | COMPLETED), owner S,
 *   lease_expires_at N (epoch s), expires_at N (epoch s, the TTL attribute),
 *   detail_type S, correlation_id S, claimed_at N, completed_at N (epoch s).
 * claim    PutItem, ReturnValues=ALL_OLD, ReturnValuesOnConditionCheckFailure=ALL_OLD,
 *          condition attribute_not_exists(event_id)
 *                    OR (status = IN_PROGRESS AND lease_expires_at < :now)
 *                    OR expires_at < :now
 *          success: CLAIMED, or TAKEN_OVER when the old item was another
 *          owner's IN_PROGRESS; ConditionalCheckFailed: COMPLETED or BUSY
 *          from the returned item (a consistent GetItem when the store does
 *          not return it, as dynalite).
 * renew    UpdateItem SET lease_expires_at, if owner = :me AND status = IN_PROGRESS
 * complete UpdateItem SET status = COMPLETED, completed_at REMOVE lease_expires_at,
 *          if owner = :me AND status = IN_PROGRESS
 * release  DeleteItem if owner = :me AND status = IN_PROGRESS
 *          renew/complete/release: -EEXIST when the record is not ours.
 * claim_batch / complete_batch (issue #13): one TransactWriteItems of
 *          conditional Puts / Updates per batch (at most 25 items a request).
 *          A batch Put passes only when the key is absent or already our live
 *          claim (CLAIMED for sure; a transaction returns no old item, so
 *          takeovers go single to tell TAKEN_OVER). On TransactionCanceled the
 *          CancellationReasons decide: "None" items go again in the next
 *          transaction, a failed condition with the old item gives COMPLETED
 *          or BUSY (or -EEXIST for a completion), anything else is decided
 *          by the single call. A repeated key, a dead_owner claim and a
 *          batch of one go single too. UnknownOperation (dynalite has no
 *          transactions) is remembered: every batch goes one by one after.
 *          A transaction that fails otherwise fails each of its items closed.
 * Errors fail closed: throttling (after the standard retries) is -EAGAIN,
 * validation -EINVAL, auth -EACCES, a missing table -ENOENT; the caller
 * retries the message later and never runs it without a claim.
 * preflight DescribeTable (exists, ACTIVE, hash key event_id) and
 *          DescribeTimeToLive (reported in dynamodb_table_info, not fatal:
 *          emulators lack TTL, and we compare expires_at ourselves anyway),
 *          and a TransactWriteItems of one ConditionCheck (writes nothing)
 *          to learn whether batches can be transactions.
 * Thread:  any worker thread, concurrently (blocking calls).
 * Memory:  options copied; creds borrowed.
 */
#ifndef ALCHEMISER_AWS_DYNAMODB_H
#define ALCHEMISER_AWS_DYNAMODB_H

#include <stdbool.h>
#include <stdint.h>

#include "alchemiser/seams/idem_store.h"

struct aws_credentials;

struct dynamodb_options {
	const char	*region;		/* required */
	const char	*endpoint;		/* NULL = https://dynamodb.REGION.amazonaws.com/ */
	const char	*table_name;		/* required */
	int64_t		 connect_timeout_usec;	/* 0 = 3 s */
	int64_t		 timeout_usec;		/* 0 = 10 s */
	unsigned	 max_attempts;		/* 0 = 3 */
	const char	*ca_file;
};

struct dynamodb_table_info {
	bool	ttl_enabled;		/* TTL ENABLED/ENABLING on expires_at */
	char	ttl_status[32];		/* as DescribeTimeToLive said */
	char	ttl_attribute[64];
	/* TransactWriteItems answered (moto, the service); false on dynalite,
	 * where batches go one conditional call per item. */
	bool	transactions;
};

int	dynamodb_idem_store_new(const struct dynamodb_options *o, struct aws_credentials *creds,
	    struct idem_store **ret, struct errctx *ec);
/* After a successful preflight; -ENOENT before. */
int	dynamodb_table_info(const struct idem_store *s, struct dynamodb_table_info *ret);
/* HTTP requests this store sent (tests count the batches' requests). */
uint64_t dynamodb_requests(const struct idem_store *s);

#endif
