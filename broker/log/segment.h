/*
 * One segment of a partition log (private to broker/log/): the .log file of batches
 * and its two sparse indexes, both kept in memory once loaded and mirrored to disk.
 *
 * .index     | relative offset int32 | position int32 |       one entry per
 * .timeindex | max timestamp int64   | relative offset int32 | index.interval.bytes
 *
 * All big-endian, as Kafka's. An .index entry points at the start of the batch whose
 * base offset is base + relative offset. A .timeindex entry (T, O) says: every batch up
 * to and including the one at O has maxTimestamp <= T, and the batch at O has T.
 *
 * Everything is lazy so that 10,000 idle partitions cost a stat() each: the .log is
 * opened on first read or append, the indexes are read on first use. The index files
 * hold no descriptor: entries are added in memory and written in batches (at a roll, a
 * flush and at close) by opening the files for just that write, so a partition that was
 * written costs one descriptor, its active .log. A crash loses at most the entries
 * added since the last flush, which recovery rebuilds from the .log anyway (it re-reads
 * everything past the recovery point, and a flush writes the entries up to it).
 */
#ifndef ST_SEGMENT_H
#define ST_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/log/batch.h"
#include "common/fileref.h"

typedef struct st_index_entry {
    int32_t rel; /* offset - base */
    int32_t pos;
} st_index_entry;

typedef struct st_time_entry {
    int64_t ts;
    int32_t rel;
} st_time_entry;

typedef struct st_segment {
    int64_t base;
    int64_t size;           /* bytes of whole batches in the .log */
    st_fileref *file;       /* .log, NULL until needed */
    st_fileref *index_file; /* .index / .timeindex: set only by the cleaner while it */
    st_fileref *time_file;  /* writes .cleaned files; NULL otherwise (opened per write) */
    st_index_entry *index;
    st_time_entry *times;
    int32_t nindex, index_cap, ntimes, times_cap;
    int32_t index_synced, times_synced; /* entries already in the files */
    bool index_unflushed;               /* files written that no fsync has covered yet */
    bool loaded;                        /* index, times and the fields below are valid */
    int64_t end_offset;                 /* next offset after the last batch */
    int64_t max_ts;                     /* largest maxTimestamp, -1 when empty */
    int64_t max_ts_rel;                 /* relative offset of the batch that has it */
    int64_t bytes_since_index;          /* bytes appended since the last index entry */
    int64_t writeback_pos;              /* .log bytes handed to early writeback (writeback.c) */
    int64_t roll_ts;                    /* first batch's maxTimestamp (segment.ms), -1 unknown */
    int64_t created_ms;                 /* wall clock when this object was made (segment.ms without
                                         * timestamps: Kafka counts from the segment's creation or load) */
    int64_t roll_jitter_ms; /* segment.jitter.ms drawn for this segment, -1 not drawn yet */
    int write_errno;        /* errno of the last failed index write (the caller logs it) */
    bool rebuild_failed;    /* st_segment_load could not rewrite the index files it rebuilt:
                             * memory holds them, the next sync writes them (the log reports
                             * it and clears the flag) */
} st_segment;

/* Iterates over batch headers of a .log with a small read buffer. */
typedef struct st_scan {
    int fd;
    int64_t pos, limit;
    int64_t buf_pos;
    size_t buf_len;
    uint8_t buf[4096];
} st_scan;

/* Starts a scan of [pos, limit) of fd (borrowed). */
void st_scan_init(st_scan *sc, int fd, int64_t pos, int64_t limit);
enum { ST_SCAN_IO = -2, ST_SCAN_BAD = -1, ST_SCAN_END = 0, ST_SCAN_BATCH = 1 };
/* Next batch: ST_SCAN_BATCH with *info and its position in *at; ST_SCAN_END at the
 * limit; ST_SCAN_BAD for a bad or cut-off header (sc->pos stays on it); ST_SCAN_IO on a
 * read error (errno). */
int st_scan_next(st_scan *sc, st_batch_info *info, int64_t *at);

/* Returns a new segment object for base offset `base` whose .log holds `size` bytes;
 * nothing is opened. */
st_segment *st_segment_new(int64_t base, int64_t size);
/* Closes what is open and frees; NULL is ignored. */
void st_segment_free(st_segment *s);

/* dir/<20 digits>.<ext> into buf. */
void st_segment_path(char *buf, size_t buflen, const char *dir, int64_t base, const char *ext);

/* Creates the empty .log of a new segment (truncating a leftover) and removes leftover
 * index files; keeps nothing open (the first append opens the .log). Returns a new,
 * loaded segment or NULL with errno set. */
st_segment *st_segment_create(const char *dir, int64_t base);

/* Opens the .log if it is not open yet. 0 or -1 with errno. */
int st_segment_open_log(const char *dir, st_segment *s);

/* Reads the indexes into memory (and opens the .log; a loaded segment whose .log is
 * not open yet has it opened here), cuts entries that are torn, out of order or beyond the
 * file, then catches up by scanning batch headers from the last index entry to the end
 * (which also yields end_offset and max_ts). Rewrites index files that had to change.
 * Trusts batch contents (clean path). 0 or ST_ERR_KAFKA_STORAGE_ERROR. */
int st_segment_load(const char *dir, st_segment *s, int32_t index_interval);

/*
 * Unclean recovery: like load, but re-verifies every batch from the index entry at or
 * below from_offset with st_batch_intact and checks that offsets follow on. Cuts the
 * .log at the first bad batch; *cut_bytes and *cut_pos say what was cut (0 if nothing)
 * and reason why. 0 or ST_ERR_KAFKA_STORAGE_ERROR.
 */
int st_segment_recover(const char *dir, st_segment *s, int32_t index_interval, int64_t from_offset,
                       int64_t *cut_bytes, int64_t *cut_pos, char *reason, size_t reasonlen);

/* Position of the last index entry at or below `offset` (0 if none). Needs loaded. */
int64_t st_segment_lookup(const st_segment *s, int64_t offset);

/* Makes room for n more entries in each in-memory index. 0 or -1 (out of memory). */
int st_segment_reserve(st_segment *s, int32_t n);

/* Writes in-memory entries not yet in the files (one pwrite per file), into
 * index_file/time_file when set, else opening each file for just this write and closing
 * it. Returns ST_ERR_KAFKA_STORAGE_ERROR on failure with s->write_errno set, without
 * logging (the log rate-limits its lines); memory stays authoritative and the next call
 * retries. */
int st_segment_sync_indexes(const char *dir, st_segment *s);

/* As st_segment_sync_indexes, for a flush: the files that need an fsync (written now,
 * or by an earlier write no fsync covered) are returned open in out[0..1] (new
 * references the caller fsyncs and drops; unused slots NULL) instead of being closed. */
int st_segment_write_indexes(const char *dir, st_segment *s, st_fileref *out[2]);

/* Records that a batch was appended at `pos` (the size before it): adds index and time
 * entries when index_interval bytes passed since the last. Capacity must be reserved. */
void st_segment_note_batch(st_segment *s, int64_t pos, const st_batch_info *b,
                           int32_t index_interval);

/* Adds the final time entry so the file's last entry is the segment's max timestamp
 * (done when the segment stops being active). */
void st_segment_seal(st_segment *s);

/* Largest maxTimestamp in the segment, loading the indexes if needed; -1 if empty or
 * unknown. */
int64_t st_segment_max_ts(const char *dir, st_segment *s, int32_t index_interval);

/* Unlinks the segment's three files (open descriptors stay valid). */
void st_segment_unlink(const char *dir, int64_t base);

#endif
