/*
 * libFuzzer harness for the request path: each input is one request frame (without
 * its size prefix) handed to the pipeline exactly as a connection would, but with no
 * connection, so responses are built and dropped.
 *
 * One detached broker (data directory, loop, flusher; no sockets) serves every input,
 * as a real broker serves many requests: state built by one input (topics created,
 * records produced) is there for the next, which is how bugs that need a topic with
 * data get reached. Segments are tiny so rolls and indexes are exercised too.
 *
 * After each input the harness answers any fetch the input parked and runs one loop
 * iteration, so deferred requests complete (and are freed) before the next input.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "broker/shard.h"
#include "broker/request/pipeline.h"
#include "common/logging.h"

/* libFuzzer's harness model has exactly one process-wide target, so the broker is
 * process-wide here (the only place in Strait where that is true). */
static st_broker *broker;
static char data_dir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void tear_down(void)
{
    st_broker_free(broker);
    broker = NULL;
    if (data_dir[0])
        nftw(data_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static st_broker *open_broker(void)
{
    /* Malformed-input warnings would drown libFuzzer's own output; errors still show. */
    st_logging_setup(ST_LOG_ERROR, NULL);
    snprintf(data_dir, sizeof data_dir, "/tmp/strait-fuzz-XXXXXX");
    if (!mkdtemp(data_dir)) {
        perror("fuzz_request: mkdtemp");
        abort();
    }
    st_broker_config cfg;
    st_broker_config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data_dir);
    cfg.auto_create_topics = true;
    cfg.num_partitions = 2;
    cfg.log_defaults.segment_bytes = 64 * 1024;
    cfg.log_defaults.index_interval_bytes = 256;
    char err[512];
    st_broker *b = st_broker_new_detached(&cfg, err, sizeof err);
    if (!b) {
        fprintf(stderr, "fuzz_request: cannot open a broker in %s: %s\n", data_dir, err);
        abort();
    }
    atexit(tear_down);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!broker)
        broker = open_broker();
    /* The pipeline takes ownership of a malloc'd frame; an exact-size copy also lets
     * ASan catch a read one byte past the end. */
    uint8_t *frame = malloc(size ? size : 1);
    if (!frame)
        return 0;
    memcpy(frame, data, size);
    st_shard *sh = st_shard_main(broker);
    st_pipeline_on_request(sh->pipeline, NULL, frame, size);

    st_fetch_shutdown(sh);
    /* One loop iteration: st_loop_stop before st_loop_run makes it run posted work and
     * due timers once and return (loop.h). */
    st_loop_stop(sh->loop);
    st_loop_run(sh->loop);
    return 0;
}
