/*
 * strait-mirror: load the config, start every flow, serve the management endpoint and
 * drive the flows from one thread until SIGINT or SIGTERM, then stop cleanly.
 *
 * The flows do no blocking work in st_mflow_step (librdkafka's threads do the I/O, the
 * flows' workers make the calls that wait for a cluster), and each step's copying is
 * bounded in time, so one loop suffices: poll the management socket for up to POLL_MS
 * (not at all while a flow has records left over), answer what waits, step every flow,
 * again. POLL_MS bounds how late a flow's timers (heartbeats, checkpoints, delivery
 * reports) are served when nothing else happens. Every turn's length is kept for status
 * ("loop"): a command waits at most one turn.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/dirlock.h"
#include "common/fileio.h"
#include "common/logging.h"
#include "common/mgmt.h"
#include "common/sdnotify.h"

#include <librdkafka/rdkafka.h>
#include "mirror/admin.h"
#include "mirror/config.h"
#include "mirror/flow.h"
#include "mirror/state.h"

#define POLL_MS      10
#define TEARDOWN_MS  1500   /* after the flows stopped: destroying clients, workers */
#define SLOW_TURN_US 100000 /* a turn this long is logged (at most every 10 s) */

/* A signal handler cannot be handed a context: the one static of strait-mirror, read
 * by the loop each turn. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: strait-mirror -c FILE [options]\n"
                 "\n"
                 "Mirrors topics, consumer group offsets (translated) and optionally topic\n"
                 "configs and ACLs between Kafka-protocol clusters, as the flows of FILE say\n"
                 "(see docs/mirroring.md). Administer it with `strait mirror ...`.\n"
                 "\n"
                 "  -c, --config FILE      libconfig file of clusters and flows (required)\n"
                 "      --mgmt URL         management endpoint (mgmt.url) [tcp://127.0.0.1:9193]\n"
                 "      --survey URL       survey endpoint for the console (mgmt.survey_url)\n"
                 "                         [the mgmt url's port + 100, or its ipc path + .survey]\n"
                 "      --ready-file PATH  once serving, write \"<mgmt url>\\n\" to PATH\n"
                 "      --log-level LEVEL  debug, info, warn or error (log_level) [info]\n"
                 "      --version          print the version and exit\n"
                 "      --log-format FMT   text, or json: a JSON object a line (log_format)\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "The management token is mgmt.token from FILE, else the one generated into\n"
                 "<state_dir>/mgmt.token (mode 0600) at the first start. One strait-mirror\n"
                 "per state_dir: a second one refuses (<state_dir>/.lock names the holder).\n"
                 "Command-line options override the file. SIGINT or SIGTERM stops cleanly,\n"
                 "waiting for records in flight to be acknowledged; a second one stops at once.\n");
}

static int write_ready_file(const char *path, const char *mgmt)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%s\n", mgmt);
    if (fclose(f))
        return -1;
    return rename(tmp, path);
}

/*
 * The management token: cfg->mgmt_token when set, else <state_dir>/mgmt.token, created
 * with a fresh random token (mode 0600: it is a secret) when missing or empty. Into
 * cfg->mgmt_token. 0, or -1 with err.
 */
static int load_token(st_mirror_config *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX + 16], buf[sizeof cfg->mgmt_token];
    size_t len;
    if (cfg->mgmt_token[0])
        return 0;
    snprintf(path, sizeof path, "%s/mgmt.token", cfg->state_dir);
    int rc = st_file_read_small(path, buf, sizeof buf, &len, err, errlen);
    if (rc < 0)
        return -1;
    buf[strcspn(buf, " \t\r\n")] = '\0';
    if (rc == 0 && buf[0]) {
        snprintf(cfg->mgmt_token, sizeof cfg->mgmt_token, "%s", buf);
        return 0;
    }
    unsigned char raw[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        snprintf(err, errlen, "cannot generate a management token (getrandom: %s)",
                 strerror(errno));
        return -1;
    }
    char fresh[2 * sizeof raw + 2];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(fresh + 2 * i, 3, "%02x", raw[i]);
    snprintf(cfg->mgmt_token, sizeof cfg->mgmt_token, "%s", fresh);
    strcat(fresh, "\n");
    if (st_file_write_atomic_mode(cfg->state_dir, "mgmt.token", fresh, strlen(fresh), true, 0600,
                                  err, errlen) < 0)
        return -1;
    st_info("generated a management token into %s", path);
    return 0;
}

/* The loop's state, for loop_turn. */
typedef struct daemon_loop {
    st_mgmt_server *server;
    st_mflow **flows;
    size_t nflows;
    const st_mirror_config *cfg;
    st_mirror_turns *turns;
    int64_t slow_logged_ms;
    bool busy; /* a flow has records left over: do not sleep */
} daemon_loop;

/* One turn: wait (up to POLL_MS) for a command, answer what waits, step every flow. 0,
 * or -1 when the management socket fails. */
static int loop_turn(daemon_loop *d)
{
    /* the endpoint and the console's survey socket */
    struct pollfd pfd[2] = {{.fd = st_mgmt_server_fd(d->server), .events = POLLIN},
                            {.fd = st_mgmt_server_survey_fd(d->server), .events = POLLIN}};
    int n = poll(pfd, 2, d->busy ? 0 : POLL_MS);
    if (n < 0 && errno != EINTR) {
        st_error("poll on the management sockets failed: %s", strerror(errno));
        return -1;
    }
    int64_t t0 = st_mono_us();
    if (n > 0 && ((pfd[0].revents | pfd[1].revents) & POLLIN))
        st_mgmt_server_process(d->server);
    int64_t now = st_wall_ms(), t1 = st_mono_us(), slowest = 0;
    size_t slow_flow = 0;
    d->busy = false;
    for (size_t i = 0; i < d->nflows; i++) {
        int64_t s0 = st_mono_us();
        if (st_mflow_step(d->flows[i], now))
            d->busy = true;
        if (st_mono_us() - s0 > slowest) {
            slowest = st_mono_us() - s0;
            slow_flow = i;
        }
    }
    int64_t turn = st_mono_us() - t0;
    st_mirror_turns_add(d->turns, turn);
    if (turn > SLOW_TURN_US && now - d->slow_logged_ms > 10000) {
        st_warn("a loop turn took %lld ms (commands %lld ms, flow %s %lld ms): management "
                "answers waited that long",
                (long long)turn / 1000, (long long)(t1 - t0) / 1000, d->cfg->flows[slow_flow].name,
                (long long)slowest / 1000);
        d->slow_logged_ms = now;
    }
    return 0;
}

int main(int argc, char **argv)
{
    enum { O_MGMT = 1000, O_READY, O_LEVEL, O_SURVEY, O_VERSION, O_LFORMAT };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"mgmt", required_argument, NULL, O_MGMT},
        {"survey", required_argument, NULL, O_SURVEY},
        {"ready-file", required_argument, NULL, O_READY},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"version", no_argument, NULL, O_VERSION},
        {"log-format", required_argument, NULL, O_LFORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *mgmt = NULL, *ready = NULL, *level = NULL, *survey = NULL;
    const char *log_format = NULL;
    int c;
    opterr = 0; /* we word the messages ourselves */
    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case O_MGMT:
            mgmt = optarg;
            break;
        case O_SURVEY:
            survey = optarg;
            break;
        case O_READY:
            ready = optarg;
            break;
        case O_LEVEL:
            level = optarg;
            break;
        case O_LFORMAT:
            log_format = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case O_VERSION:
            printf("strait-mirror %s (librdkafka %s)\n", ST_VERSION, rd_kafka_version_str());
            return 0;
        case ':':
            fprintf(stderr, "strait-mirror: option %s needs a value; see strait-mirror --help\n",
                    argv[optind - 1]);
            return 2;
        default:
            if (optopt && optopt < 256)
                fprintf(stderr, "strait-mirror: unknown option -%c; see strait-mirror --help\n",
                        optopt);
            else
                fprintf(stderr, "strait-mirror: unknown option %s; see strait-mirror --help\n",
                        argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "strait-mirror: unexpected argument \"%s\"; see strait-mirror --help\n",
                argv[optind]);
        return 2;
    }
    if (!config) {
        fprintf(stderr, "strait-mirror: no config: pass -c FILE (the clusters and flows to "
                        "mirror); see strait-mirror --help\n");
        return 2;
    }

    /* Large (regexes, paths): off the stack. */
    st_mirror_config *cfg = calloc(1, sizeof *cfg);
    st_mflow *flows[ST_MIRROR_MAX_FLOWS] = {0};
    st_mirror_turns *turns = calloc(1, sizeof *turns);
    size_t nflows = 0;
    st_mgmt_server *server = NULL;
    st_dirlock *lock = NULL;
    char err[1024];
    int rc = 1;
    bool loaded = false;
    if (!cfg || !turns) {
        fprintf(stderr, "strait-mirror: out of memory\n");
        free(cfg);
        free(turns);
        return 1;
    }
    if (st_mirror_config_load(cfg, config, err, sizeof err)) {
        fprintf(stderr, "strait-mirror: bad config: %s\n", err);
        goto out;
    }
    loaded = true;
    if (mgmt)
        snprintf(cfg->mgmt_url, sizeof cfg->mgmt_url, "%s", mgmt);
    if (survey)
        snprintf(cfg->mgmt_survey_url, sizeof cfg->mgmt_survey_url, "%s", survey);
    if (level)
        snprintf(cfg->log_level, sizeof cfg->log_level, "%s", level);
    int lvl = st_logging_parse_level(cfg->log_level);
    if (lvl < 0) {
        fprintf(stderr, "strait-mirror: log level must be debug, info, warn or error, not \"%s\"\n",
                cfg->log_level);
        rc = 2;
        goto out;
    }
    int fmt = st_logging_parse_format(log_format ? log_format : cfg->log_format);
    if (fmt < 0) {
        fprintf(stderr, "strait-mirror: log format must be text or json, not \"%s\"\n", log_format);
        rc = 2;
        goto out;
    }
    st_logging_setup((enum st_log_level)lvl, stderr);
    st_logging_set_format((enum st_log_format)fmt, "strait-mirror");
    /* A peer vanishing mid-write must be an EPIPE, not a dead daemon. */
    signal(SIGPIPE, SIG_IGN);

    /* One daemon per state directory, locked before anything in it is read: a second
     * strait-mirror started with the same config (a restart script that did not wait)
     * would run the same flows beside the first, both copying to the target. */
    if (st_mkdir_p(cfg->state_dir, 0755, err, sizeof err) ||
        !(lock = st_dirlock_take(cfg->state_dir, "state directory", err, sizeof err))) {
        st_error("cannot start: %s", err);
        goto out;
    }
    if (load_token(cfg, err, sizeof err)) {
        st_error("cannot set up the management token: %s", err);
        goto out;
    }
    st_mirror_admin admin = {
        .configs = cfg->flows,
        .flows = flows,
        .nflows = 0,
        .started_ms = st_wall_ms(),
        .turns = turns,
    };
    server = st_mgmt_server_open(cfg->mgmt_url, cfg->mgmt_token, st_mirror_admin_handle, &admin,
                                 err, sizeof err);
    if (!server) {
        st_error("cannot open the management endpoint: %s", err);
        goto out;
    }
    if ((!cfg->mgmt_survey_url[0] &&
         st_mgmt_survey_url_default(cfg->mgmt_url, cfg->mgmt_survey_url,
                                    sizeof cfg->mgmt_survey_url, err, sizeof err)) ||
        st_mgmt_server_survey(server, cfg->mgmt_survey_url, st_mirror_admin_readonly, err,
                              sizeof err)) {
        st_error("cannot open the survey endpoint: %s", err);
        goto out;
    }
    /* The endpoint first: a taken port fails the start before any cluster is contacted.
     * No request is answered before the loop, so the flows can join the table below. */
    for (; nflows < cfg->nflows; nflows++) {
        flows[nflows] = st_mflow_new(&cfg->flows[nflows], cfg->state_dir, err, sizeof err);
        if (!flows[nflows]) {
            st_error("cannot start flow %s: %s", cfg->flows[nflows].name, err);
            goto out;
        }
        st_info("flow %s: started", cfg->flows[nflows].name);
    }
    admin.nflows = nflows;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* One-shot: a second SIGINT/SIGTERM during the bounded shutdown wait ends at once. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (ready && write_ready_file(ready, cfg->mgmt_url)) {
        st_error("cannot write the ready file %s: %s", ready, strerror(errno));
        goto out;
    }
    st_info("serving %zu flow%s; management on %s", nflows, nflows == 1 ? "" : "s", cfg->mgmt_url);
    if (st_sd_notifyf("READY=1\nSTATUS=%zu flow%s started, management on %s", nflows,
                      nflows == 1 ? "" : "s", cfg->mgmt_url) < 0)
        st_warn("cannot tell systemd we are ready ($NOTIFY_SOCKET): %s", strerror(errno));

    daemon_loop d = {
        .server = server, .flows = flows, .nflows = nflows, .cfg = cfg, .turns = turns};
    while (!stop_requested)
        if (loop_turn(&d) != 0)
            goto out;
    /* Stop every flow at once, and keep answering (status shows "stopping") while the
     * records in flight are acknowledged. A second signal ends the process at once
     * (SA_RESETHAND). */
    st_sd_notify("STOPPING=1");
    st_info("stopping: waiting for the records in flight to be acknowledged");
    for (size_t i = 0; i < nflows; i++)
        st_mflow_stop_begin(flows[i]);
    for (;;) {
        size_t done = 0;
        for (size_t i = 0; i < nflows; i++)
            done += st_mflow_stopped(flows[i]);
        if (done == nflows || loop_turn(&d) != 0)
            break;
    }
    rc = 0;
out:
    /* The server first: no command may reach a flow being freed. */
    st_mgmt_server_close(server);
    /* Every flow's clients and workers at once, then one deadline for all of them. */
    for (size_t i = 0; i < nflows; i++)
        st_mflow_shutdown(flows[i]);
    int64_t deadline = st_mono_ms() + TEARDOWN_MS;
    size_t left = 0;
    for (size_t i = 0; i < nflows; i++)
        left += !st_mflow_free(flows[i], deadline);
    if (loaded)
        st_mirror_config_free(cfg);
    free(cfg);
    free(turns);
    if (rc == 0 && left == 0)
        st_info("stopped cleanly");
    else if (rc == 0)
        st_info("stopped cleanly; %zu flow(s) left a librdkafka call behind (a cluster that "
                "does not answer): the process ends without waiting for it",
                left);
    if (left) {
        /* A thread is still inside librdkafka: exit() would run library destructors under
         * it (OpenSSL's among them). Nothing of ours is left to flush but the log. */
        fflush(stderr);
        fflush(stdout);
        _exit(rc);
    }
    st_dirlock_release(lock); /* last: nothing of this run touches the directory after */
    return rc;
}
