/*
 * The leader epoch cache of one partition (KIP-101, KIP-279): which leader epoch began
 * at which offset, kept in <partition dir>/leader-epoch-checkpoint as Kafka keeps it, so
 * a follower can ask a new leader (OffsetForLeaderEpoch, key 23) where its own history
 * and the leader's part, and truncate exactly there instead of at the high watermark.
 *
 * File format (text, as Kafka's CheckpointFile writes it):
 *
 *   0                 version
 *   2                 number of entries
 *   0 0               epoch, start offset
 *   3 1200
 *
 * Entries are strictly increasing in both epoch and start offset. The rules:
 *  - assign(e, o): ignored if e is the latest epoch and o is not below its start;
 *    otherwise every entry with epoch >= e or start >= o is dropped, then (e, o) added.
 *  - end_offset_for(e): for the latest epoch, the log end offset; for an older one, the
 *    start of the next higher epoch, reported with the largest known epoch <= e (or e
 *    itself when it is older than all); UNDEFINED (-1, -1) for -1, an empty cache, or an
 *    epoch above the latest.
 *  - truncate_from_end(o): drops entries starting at or after o (the log was cut at o).
 *  - truncate_from_start(o): drops entries starting at or before o, and keeps the last
 *    dropped one's epoch as starting at o (the log start moved to o).
 *
 * The in-memory calls are cheap and belong to the partition's loop thread. Writing the
 * file (temp file + rename, with or without fsync) blocks: take a snapshot of the text
 * on the loop (st_leader_epoch_format) and hand it to a helper thread
 * (st_leader_epoch_write), as the other checkpoints are written.
 */
#ifndef ST_LEADER_EPOCH_H
#define ST_LEADER_EPOCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_UNDEFINED_EPOCH        (-1)
#define ST_UNDEFINED_EPOCH_OFFSET (-1LL)
#define ST_LEADER_EPOCH_FILE      "leader-epoch-checkpoint"
/* A file larger than this is not a leader epoch checkpoint. */
#define ST_LEADER_EPOCH_FILE_MAX (16u << 20)

typedef struct st_leader_epoch_cache st_leader_epoch_cache;

typedef struct st_epoch_entry {
    int32_t epoch;
    int64_t start_offset;
} st_epoch_entry;

st_leader_epoch_cache *st_leader_epoch_new(void); /* empty; aborts on OOM */
void st_leader_epoch_free(st_leader_epoch_cache *c);

/* Replaces the contents with the file's text. 0, or -1 with err saying which line is
 * wrong (the cache is then left empty). */
int st_leader_epoch_parse(st_leader_epoch_cache *c, const char *text, size_t len, char *err,
                          size_t errlen);
/* Reads dir/leader-epoch-checkpoint (a missing file is an empty cache). Blocking: at
 * partition open. 0 or -1 with err. */
int st_leader_epoch_load(st_leader_epoch_cache *c, const char *dir, char *err, size_t errlen);
/* Returns a new malloc'd text of the file (caller frees), its length in *len. */
char *st_leader_epoch_format(const st_leader_epoch_cache *c, size_t *len);
/* Replaces dir/leader-epoch-checkpoint with data through a temp file and rename; with
 * sync, fsyncs the file and the directory. Blocking: a helper thread. 0 or -1 with err. */
int st_leader_epoch_write(const char *dir, const char *data, size_t len, bool sync, char *err,
                          size_t errlen);

/* Each mutator returns true when the cache changed (the file needs writing). */
bool st_leader_epoch_assign(st_leader_epoch_cache *c, int32_t epoch, int64_t start_offset);
bool st_leader_epoch_truncate_from_end(st_leader_epoch_cache *c, int64_t end_offset);
bool st_leader_epoch_truncate_from_start(st_leader_epoch_cache *c, int64_t start_offset);

/* OffsetForLeaderEpoch's answer for `requested` on a log ending at log_end_offset. */
void st_leader_epoch_end_offset_for(const st_leader_epoch_cache *c, int32_t requested,
                                    int64_t log_end_offset, int32_t *epoch, int64_t *end_offset);

int32_t st_leader_epoch_latest(const st_leader_epoch_cache *c); /* -1 when empty */
int32_t st_leader_epoch_count(const st_leader_epoch_cache *c);
/* Valid until the next mutation. */
const st_epoch_entry *st_leader_epoch_entries(const st_leader_epoch_cache *c);

#endif
