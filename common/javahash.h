/*
 * Kafka's placement of a key on an internal topic's partitions: Utils.abs(key.hashCode)
 * % partitions, with Java's String.hashCode. A group's offsets (__consumer_offsets) and a
 * transactional id's state (__transaction_state) go where Kafka puts them, so a client's
 * FindCoordinator and Kafka's own tools agree with us.
 */
#ifndef ST_JAVAHASH_H
#define ST_JAVAHASH_H

#include <stddef.h>
#include <stdint.h>

/* Java's String.hashCode over the UTF-16 form of len bytes of UTF-8 at p; a byte that
 * is not part of valid UTF-8 counts as U+FFFD, as Java's decoder replaces it. */
int32_t st_java_string_hash(const char *p, size_t len);

/* Utils.abs(hash) % partitions (Integer.MIN_VALUE maps to 0); 0 when partitions <= 0. */
int32_t st_kafka_partition_for(const char *p, size_t len, int32_t partitions);

#endif
