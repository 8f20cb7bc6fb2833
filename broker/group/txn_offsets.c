/*
 * Offsets committed by a transaction (TxnOffsetCommit, then EndTxn commit): the
 * transaction coordinator (broker/txn/coordinator.c) keeps them until the transaction
 * commits and then writes them here, as Kafka's group coordinator materialises pending
 * transactional offsets when the COMMIT marker reaches __consumer_offsets. Unlike an
 * admin's reset, the group may have members: the offsets are the consuming members'
 * own progress.
 *
 * Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/group/group.h"
#include "broker/group/group_int.h"
#include "common/errors.h"
#include "common/logging.h"

static void txn_flushed(void *arg, int err)
{
    if (err)
        st_error("flushing %s after a transaction's offsets failed (%s)", GROUP_OFFSETS_TOPIC,
                 st_err_name(err));
}

int st_groups_commit_txn_offsets(st_groups *g, const char *group_id, const st_txn_offset *o,
                                 size_t n)
{
    if (n == 0)
        return 0;
    st_str id = {group_id, (int32_t)strlen(group_id)};
    grp_group *grp = grp_get_or_create(g, id);
    grp_commit *c = grp_xcalloc(n, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = (grp_commit){{o[i].topic, (int32_t)strlen(o[i].topic)},
                            o[i].partition,
                            o[i].offset,
                            o[i].leader_epoch,
                            o[i].metadata ? (st_str){o[i].metadata, (int32_t)strlen(o[i].metadata)}
                                          : (st_str){NULL, -1},
                            -1,
                            0};
    grp_offsets_validate(g, c, n);
    st_log *flush_log = NULL;
    grp_offsets_store(g, grp, c, n, &flush_log);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = c[i].error;
    if (flush_log)
        st_log_flush_async(flush_log, txn_flushed, NULL);
    free(c);
    return rc;
}
