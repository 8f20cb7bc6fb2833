/*
 * netproxy's Kafka faults: "fail-produce ERR [N]" makes the next N Produce responses that
 * pass through carry error code ERR for their first partition — what a broker answers
 * after it lost a producer's state (OUT_OF_ORDER_SEQUENCE_NUMBER, 45) while it in fact
 * stored the batch. The client then cannot know the batch is there: for an idempotent
 * producer that is a fatal error (strait-mirror's recovery is tested with it).
 *
 * The proxy follows the Kafka framing of both directions as the bytes are queued
 * (frames: int32 size, then the body), whatever the chunking:
 *   requests   size | int16 api_key | int16 api_version | int32 correlation_id | ...
 *              → the correlation ids of Produce (key 0) requests are remembered;
 *   responses  size | int32 correlation_id | body; a Produce response (v1..v8, the
 *              non-flexible versions) starts with: int32 topic count | int16 name length |
 *              name | int32 partition count | int32 partition | int16 error_code.
 * Only the bytes up to that error code are looked at; the rest of a frame is skipped
 * in one step, so the data path stays cheap.
 */
#include <stdio.h>
#include <string.h>

#include "netproxy.h"

static void remember(kstream *k, int32_t corr)
{
    k->produce_corr[k->nproduce % KAFKA_CORR_RING] = corr;
    k->nproduce++;
}

static bool was_produce(const kstream *req, int32_t corr)
{
    size_t n = req->nproduce < KAFKA_CORR_RING ? req->nproduce : KAFKA_CORR_RING;
    for (size_t i = 0; i < n; i++)
        if (req->produce_corr[i] == corr)
            return true;
    return false;
}

static int32_t be32(const uint8_t *b)
{
    return (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
}

/* Frame positions (from the start of the size field) each direction looks at. */
#define REQ_HEAD  12 /* size, key, version, correlation id */
#define RESP_HEAD 8  /* size, correlation id */
#define RESP_NAME 14 /* ... topic count (4), the name length's 2 bytes end here */

void np_kafka_scan(proxy *p, conn *c, int from, uint8_t *data, size_t len)
{
    kstream *k = &c->kafka[from];
    kstream *req = &c->kafka[0];
    size_t i = 0;
    while (i < len && !k->broken) {
        /* the bytes we look at, one at a time */
        if (k->pos < (from == 0 ? REQ_HEAD : RESP_HEAD) ||
            (k->faulting && k->pos < k->err_at + 2)) {
            if (k->pos < sizeof k->head)
                k->head[k->pos] = data[i];
            if (k->faulting && k->pos >= k->err_at) {
                data[i] = (uint8_t)(k->pos == k->err_at ? (p->fail_code >> 8) & 0xff
                                                        : p->fail_code & 0xff);
                if (k->pos == k->err_at + 1) {
                    k->faulting = false;
                    fprintf(stderr,
                            "netproxy: fail-produce: a Produce response now says error %d\n",
                            p->fail_code);
                }
            }
            k->pos++;
            i++;
            if (k->pos == 4) {
                k->size = be32(k->head);
                k->broken = k->size < 0; /* not Kafka: leave this stream alone */
            }
            if (from == 0 && k->pos == REQ_HEAD && k->head[4] == 0 && k->head[5] == 0)
                remember(k, be32(k->head + 8));
            if (from == 1 && k->pos == RESP_HEAD && p->fail_left > 0 &&
                was_produce(req, be32(k->head + 4))) {
                k->faulting = true;
                k->err_at = RESP_NAME + 2; /* until the name's length is known */
                p->fail_left--;
            }
            if (from == 1 && k->faulting && k->pos == RESP_NAME)
                /* the name, the partition count (4), the partition (4), then the code */
                k->err_at = RESP_NAME + (size_t)((k->head[12] << 8) | k->head[13]) + 8;
        } else {
            /* skip to the end of the frame, or of the data */
            size_t frame_left = k->size >= 0 ? (size_t)k->size + 4 - k->pos : 0;
            size_t step = len - i < frame_left ? len - i : frame_left;
            k->pos += step;
            i += step;
        }
        if (k->pos >= 4 && k->size >= 0 && k->pos >= (size_t)k->size + 4) {
            k->pos = 0; /* the next frame */
            k->size = -1;
            k->faulting = false;
        }
    }
}
