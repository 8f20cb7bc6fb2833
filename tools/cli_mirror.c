/*
 * strait mirror {status,pause,resume,failover,failback,reset}: thin wrappers over
 * strait-mirror's management commands (mirror/admin.h). The daemon computes the rates,
 * lag and failover report; here we check the command line's shape and print them.
 *
 * strait-mirror is a different daemon from straitd, so two defaults differ from the
 * other commands: its endpoint (tcp://127.0.0.1:9193 unless --mgmt or $STRAIT_MGMT
 * says otherwise) and where its token file lives (<state-dir>/mgmt.token, not
 * <data-dir>/meta/mgmt.token). Hence our own call instead of cli_admin.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mgmt.h"
#include "tools/cli.h"

int cli_mirror_main(cli_ctx *c, int argc, char **argv);

#define MIRROR_DEFAULT_MGMT      "tcp://127.0.0.1:9193"
#define MIRROR_DEFAULT_STATE_DIR "./mirror-state"
/* A failover runs in the daemon for at most ~8 s (it never waits for the source, which
 * may be gone); we ask for its state every MIRROR_POLL_MS and give up after this. */
#define MIRROR_FAILOVER_TIMEOUT_MS 30000
#define MIRROR_POLL_MS             200
/* failback restarts the flow's clients and reloads its offsets map from the new target */
#define MIRROR_FAILBACK_TIMEOUT_MS 60000
/* after failback or reset: the flow's state file is written (an fsync or two) */
#define MIRROR_SAVE_TIMEOUT_MS 30000

enum { OPT_STATE_DIR = 1 };

/* Options of `strait mirror` beyond the global ones. */
typedef struct mirror_opts {
    const char *state_dir; /* --state-dir: where strait-mirror keeps mgmt.token */
} mirror_opts;

/* ---- usage texts ---- */

static void print_mirror_options(FILE *out)
{
    fputs("Mirror options (anywhere after 'mirror'):\n"
          "  --state-dir DIR    strait-mirror's state_dir, to read DIR/mgmt.token when\n"
          "                     neither --token nor $STRAIT_TOKEN is given\n"
          "                     [" MIRROR_DEFAULT_STATE_DIR "]\n"
          "  --mgmt URL         strait-mirror's endpoint (mgmt.url in its config)\n"
          "                     [$STRAIT_MGMT, else " MIRROR_DEFAULT_MGMT "]\n\n",
          out);
    cli_print_global_options(out);
}

static void usage_mirror(FILE *out)
{
    fputs("Usage: strait mirror SUBCOMMAND [options]\n"
          "\n"
          "Administer a running strait-mirror daemon. Its flows are named\n"
          "\"<source>-><target>\", e.g. dc1->dc2: quote them in the shell ('dc1->dc2'),\n"
          "which would otherwise take '>' for a redirection.\n"
          "\n"
          "Subcommands:\n"
          "  status [FLOW]   per flow: state, rates, lag, replication latency,\n"
          "                  checkpoint age, errors; then one row per partition\n"
          "  pause FLOW      stop consuming the source (records in flight complete)\n"
          "  resume FLOW     consume again after pause\n"
          "  failover FLOW   stop the flow, write final translated group offsets to the\n"
          "                  target, print the offset ranges not replicated\n"
          "  failback FLOW   after failover: reverse the flow from the divergence point\n"
          "  reset FLOW      after failback: run the flow as configured again\n"
          "\n"
          "Run 'strait mirror SUBCOMMAND --help' for details.\n\n",
          out);
    print_mirror_options(out);
    fputs("\nExamples:\n"
          "  strait mirror status --state-dir /var/lib/strait-mirror\n"
          "  strait mirror failover 'dc1->dc2' --token \"$(cat mirror-state/mgmt.token)\"\n",
          out);
}

static void usage_status(FILE *out)
{
    fputs("Usage: strait mirror status [FLOW] [options]\n"
          "\n"
          "One summary line per flow (or only FLOW):\n"
          "  FLOW STATE | records/s, bytes/s | lag records, seconds |\n"
          "  latency p50, p99 | last checkpoint age | errors\n"
          "then a table per flow, one row per partition:\n"
          "  SOURCE (topic-partition) TARGET DELIVERED SOURCE-END LAG LAG-S RECORDS/S BYTES/S\n"
          "DELIVERED is the next source offset not yet acknowledged by the target, LAG is\n"
          "SOURCE-END minus it. The latest errors follow. --json prints everything the\n"
          "daemon reports.\n\n",
          out);
    print_mirror_options(out);
    fputs("\nExample:\n  strait mirror status 'dc1->dc2'\n", out);
}

static void usage_pause(FILE *out)
{
    fputs("Usage: strait mirror pause FLOW [options]\n"
          "\n"
          "Stops consuming FLOW's source; records already sent are still acknowledged\n"
          "and checkpointed. 'strait mirror resume FLOW' continues where it stopped.\n\n",
          out);
    print_mirror_options(out);
    fputs("\nExample:\n  strait mirror pause 'dc1->dc2'\n", out);
}

static void usage_resume(FILE *out)
{
    fputs("Usage: strait mirror resume FLOW [options]\n"
          "\n"
          "Consumes FLOW's source again after 'strait mirror pause', from where it\n"
          "stopped. Refused for a flow that was failed over (use failback).\n\n",
          out);
    print_mirror_options(out);
    fputs("\nExample:\n  strait mirror resume 'dc1->dc2'\n", out);
}

static void usage_failover(FILE *out)
{
    fputs("Usage: strait mirror failover FLOW [options]\n"
          "\n"
          "For moving consumers from FLOW's source to its target: stops the flow, waits\n"
          "for records in flight, writes the final translated committed offsets of the\n"
          "mirrored groups (those with no active members on the target), then prints\n"
          "per partition exactly which source offsets were NOT replicated:\n"
          "  dc1->dc2: NOT replicated: orders-3 offsets 1200..1250 (50 records)\n"
          "(from..end, the end offset excluded), or that nothing is at risk. When the\n"
          "source cannot be reached (a lost datacenter) it still completes within ~10 s:\n"
          "the end is the last one known, marked [source unreachable ...], and the group\n"
          "offsets written are those last read from the source.\n"
          "Consumers of the target then read exactly what they had not committed.\n"
          "It returns once the flow's state file (<state-dir>/flows/...json) holds the\n"
          "failover, written and fsynced, so a restart of strait-mirror never resumes\n"
          "copying into the target; if that file cannot be written it says so and exits\n"
          "1 (the flow stays failed over; run failover again once the disk is fixed).\n\n",
          out);
    print_mirror_options(out);
    fputs("\nExample:\n  strait mirror failover 'dc1->dc2'\n", out);
}

static void usage_reset(FILE *out)
{
    fputs("Usage: strait mirror reset FLOW [options]\n"
          "\n"
          "After 'strait mirror failback FLOW', once the source has taken over again:\n"
          "the flow copies source -> target as configured once more, from its offset\n"
          "map (records the failback brought to the source are not sent back). Which\n"
          "way a flow runs survives a daemon restart; this is how it goes back to\n"
          "normal.\n\n",
          out);
    print_mirror_options(out);
    fputs("\nExample:\n  strait mirror reset 'dc1->dc2'\n", out);
}

static void usage_failback(FILE *out)
{
    fputs("Usage: strait mirror failback FLOW [options]\n"
          "\n"
          "After 'strait mirror failover FLOW': turns the flow around, copying what was\n"
          "written on the target since the failover back to the source, starting at\n"
          "the divergence point (nothing the source has is copied again). Prints where\n"
          "each partition starts.\n\n",
          out);
    print_mirror_options(out);
    fputs("\nExample:\n  strait mirror failback 'dc1->dc2'\n", out);
}

/* ---- the management call ---- */

/* The token: --token / $STRAIT_TOKEN, else <state-dir>/mgmt.token. NULL after printing
 * why when there is none. */
static const char *mirror_token(const cli_ctx *c, const mirror_opts *m, char *buf, size_t len)
{
    if (c->token && *c->token)
        return c->token;
    char path[4096];
    snprintf(path, sizeof path, "%s/mgmt.token", m->state_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_fail("no management token: pass --token, set STRAIT_TOKEN, or point --state-dir at "
                 "strait-mirror's state_dir (cannot read %s: %s)",
                 path, strerror(errno));
        return NULL;
    }
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
        buf[--n] = '\0';
    if (n == 0) {
        cli_fail("the token file %s is empty: pass --token or set STRAIT_TOKEN", path);
        return NULL;
    }
    return buf;
}

/* Runs cmd on strait-mirror. Takes ownership of args. The result (new reference), or
 * NULL after printing why. */
static json_t *mirror_call(const cli_ctx *c, const mirror_opts *m, const char *cmd, json_t *args,
                           int timeout_ms)
{
    char tokbuf[512], err[1024];
    json_t *result = NULL;
    const char *token = mirror_token(c, m, tokbuf, sizeof tokbuf);
    if (token) {
        result = st_mgmt_call(c->mgmt_url, token, cmd, args, timeout_ms, err, sizeof err);
        /* common/mgmt.c words two of its messages for straitd: say where to look here. */
        if (!result && strncmp(err, "bad token", 9) == 0)
            cli_fail("bad token: pass --token, set STRAIT_TOKEN, or --state-dir DIR "
                     "(strait-mirror writes its token to <state_dir>/mgmt.token)");
        else if (!result && strncmp(err, "no answer from", 14) == 0)
            cli_fail("no answer from %s within %d ms: is strait-mirror running, with this "
                     "mgmt.url? (pass --mgmt)",
                     c->mgmt_url, timeout_ms);
        else if (!result)
            cli_fail("%s", err);
    }
    json_decref(args);
    return result;
}

/* ---- formatting ---- */

/* A number member, or NAN when absent or null. */
static double num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str_or_dash(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : "-";
}

/* An offset or count; absent, null or negative (the daemon's "unknown") is "-". */
static const char *int_or_dash(const json_t *obj, const char *key, char *buf, size_t len)
{
    double v = num(obj, key);
    if (isnan(v) || v < 0)
        return "-";
    snprintf(buf, len, "%.0f", v);
    return buf;
}

/* "850 ms", "4.2 s", "3m 20s", "2h 05m", "-" for NAN. */
static const char *fmt_duration(double ms, char *buf, size_t len)
{
    if (isnan(ms) || ms < 0)
        snprintf(buf, len, "-");
    else if (ms < 1000)
        snprintf(buf, len, "%.0f ms", ms);
    else if (ms < 60000)
        snprintf(buf, len, "%.1f s", ms / 1000);
    else if (ms < 3600000)
        snprintf(buf, len, "%lldm %02llds", (long long)(ms / 60000), (long long)ms / 1000 % 60);
    else
        snprintf(buf, len, "%lldh %02lldm", (long long)(ms / 3600000), (long long)ms / 60000 % 60);
    return buf;
}

static const char *fmt_rate_bytes(double v, char *buf, size_t len)
{
    char human[32];
    if (isnan(v))
        return "-";
    snprintf(buf, len, "%s/s", cli_human_bytes((int64_t)v, human, sizeof human));
    return buf;
}

static const char *fmt_count(double v, char *buf, size_t len)
{
    if (isnan(v))
        return "-";
    snprintf(buf, len, "%.0f", v);
    return buf;
}

/* ---- status ---- */

static void print_flow(const json_t *f)
{
    char a[32], b[32], d[32], e[32], g[32], h[32];
    const json_t *latency = json_object_get(f, "latency_ms");
    const json_t *errors = json_object_get(f, "errors");
    const json_t *gaps = json_object_get(f, "gaps");
    double samples = num(latency, "samples");
    double checkpoint = num(f, "last_checkpoint_age_ms");

    /* After failback the flow copies target -> source under its original name. */
    const char *from = json_string_value(json_object_get(f, "source"));
    const char *name = str_or_dash(f, "flow");
    size_t fromlen = from ? strlen(from) : 0;
    char direction[300] = "";
    if (from && (strncmp(name, from, fromlen) != 0 || strncmp(name + fromlen, "->", 2) != 0))
        snprintf(direction, sizeof direction, " (now copying %s -> %s)", from,
                 str_or_dash(f, "target"));
    printf("%s%s: %s | %s rec/s, %s | lag %s records, %s | ", name, direction,
           str_or_dash(f, "state"), fmt_count(num(f, "records_per_sec"), a, sizeof a),
           fmt_rate_bytes(num(f, "bytes_per_sec"), b, sizeof b),
           fmt_count(num(f, "lag_records"), d, sizeof d),
           fmt_duration(num(f, "lag_seconds") * 1000, e, sizeof e));
    if (samples > 0)
        printf("latency p50 %s, p99 %s | ", fmt_duration(num(latency, "p50"), g, sizeof g),
               fmt_duration(num(latency, "p99"), h, sizeof h));
    else
        printf("latency - (no heartbeat yet) | ");
    if (isnan(checkpoint))
        printf("no checkpoint yet | ");
    else
        printf("checkpoint %s ago | ", fmt_duration(checkpoint, a, sizeof a));
    /* "errors" holds the latest few; a total, when the daemon gives one, counts all. */
    size_t nerr = json_array_size(errors);
    double total = num(f, "errors_total");
    if (isnan(total) || total < (double)nerr)
        total = (double)nerr;
    printf("%.0f error%s\n", total, total == 1 ? "" : "s");

    double dups = num(f, "duplicates_skipped");
    if (dups > 0)
        printf("  duplicates skipped: %.0f\n", dups);
    if (json_array_size(gaps) > 0) {
        char *s = json_dumps(gaps, JSON_COMPACT);
        printf("  GAPS (source records that can no longer be copied): %s\n", s ? s : "?");
        free(s);
    }

    static const char *const head[] = {"SOURCE", "TARGET", "DELIVERED", "SOURCE-END",
                                       "LAG",    "LAG-S",  "RECORDS/S", "BYTES/S"};
    cli_table t;
    size_t i;
    json_t *p;
    cli_table_init(&t, 8, head);
    json_array_foreach(json_object_get(f, "partitions"), i, p)
    {
        char src[300], tgt[300], del[24], end[24], lag[24], lags[24], rec[24], bytes[32];
        double part = num(p, "partition");
        snprintf(src, sizeof src, "%s-%.0f", str_or_dash(p, "topic"), part);
        snprintf(tgt, sizeof tgt, "%s-%.0f", str_or_dash(p, "target_topic"), part);
        double lag_s = num(p, "lag_seconds");
        if (isnan(lag_s))
            snprintf(lags, sizeof lags, "-");
        else
            snprintf(lags, sizeof lags, "%.1f", lag_s);
        const char *row[] = {src,
                             tgt,
                             int_or_dash(p, "delivered", del, sizeof del),
                             int_or_dash(p, "source_end", end, sizeof end),
                             int_or_dash(p, "lag_records", lag, sizeof lag),
                             lags,
                             fmt_count(num(p, "records_per_sec"), rec, sizeof rec),
                             fmt_rate_bytes(num(p, "bytes_per_sec"), bytes, sizeof bytes)};
        cli_table_row(&t, row);
    }
    if (t.nrows > 1)
        cli_table_print(&t, stdout);
    else
        puts("  no partitions mirrored yet");
    cli_table_free(&t);

    /* The latest few errors: the count above says whether there are more. */
    size_t first = nerr > 5 ? nerr - 5 : 0;
    for (i = first; i < nerr; i++) {
        const json_t *err = json_array_get(errors, i);
        char when[32] = "-";
        double at = num(err, "time");
        time_t secs = isnan(at) ? 0 : (time_t)(at / 1000);
        struct tm tm;
        if (secs > 0 && gmtime_r(&secs, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("  error at %s: %s\n", when, str_or_dash(err, "message"));
    }
}

/* [FLOW] or FLOW plus --state-dir and the global options. Returns true if the command
 * is done (help or a usage error), with *rc set. */
static bool parse_flow_cmd(cli_ctx *c, mirror_opts *m, int argc, char **argv, bool required,
                           const char **flow, int *rc)
{
    static const struct option longopts[] = {
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    int opt;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == OPT_STATE_DIR) {
            m->state_dir = optarg;
            continue;
        }
        *rc = opt == CLI_GETOPT_HELP ? CLI_OK : CLI_USAGE;
        return true;
    }
    *rc = CLI_USAGE;
    if (optind >= argc && required) {
        cli_usage_error(c, "missing the FLOW (e.g. dc1->dc2; 'strait mirror status' lists them)");
        return true;
    }
    if (optind + 1 < argc) {
        cli_usage_error(c, "unexpected argument \"%s\" (one flow at a time)", argv[optind + 1]);
        return true;
    }
    if (optind < argc) {
        size_t len = strlen(argv[optind]);
        if (!strstr(argv[optind], "->") && len > 0 && argv[optind][len - 1] == '-') {
            cli_usage_error(c,
                            "\"%s\" is not a flow name: the shell took '>' for a redirection; "
                            "quote the flow, e.g. 'dc1->dc2'",
                            argv[optind]);
            return true;
        }
        if (!strstr(argv[optind], "->")) {
            cli_usage_error(c,
                            "\"%s\" is not a flow name: flows are \"<source>-><target>\", "
                            "e.g. dc1->dc2 (quote it in the shell)",
                            argv[optind]);
            return true;
        }
        *flow = argv[optind];
    }
    return false;
}

static json_t *flow_args(const char *flow)
{
    return flow ? json_pack("{s:s}", "flow", flow) : NULL;
}

static int mirror_status(cli_ctx *c, mirror_opts *m, int argc, char **argv)
{
    const char *flow = NULL;
    int rc;
    c->prog = "strait mirror status";
    c->usage = usage_status;
    if (parse_flow_cmd(c, m, argc, argv, false, &flow, &rc))
        return rc;
    json_t *res = mirror_call(c, m, "status", flow_args(flow), CLI_MGMT_TIMEOUT_MS);
    if (!res)
        return CLI_FAIL;
    const json_t *flows = json_object_get(res, "flows");
    size_t i;
    json_t *f;
    if (c->json) {
        cli_print_json(res);
    } else if (!flows) {
        print_flow(res); /* status {flow}: that flow's object alone */
    } else if (json_array_size(flows) == 0) {
        puts("strait-mirror runs no flows");
    } else {
        json_array_foreach(flows, i, f)
        {
            if (i > 0)
                putchar('\n');
            print_flow(f);
        }
    }
    const json_t *loop = json_object_get(res, "loop");
    if (!c->json && loop)
        printf("\ndaemon: up %.0f s; loop turns p99 %.1f ms, longest %.1f ms (the last %.0f)\n",
               num(res, "uptime_ms") / 1000, num(loop, "p99_ms"), num(loop, "max_ms"),
               num(loop, "turns") < 10000 ? num(loop, "turns") : 10000);
    json_decref(res);
    return CLI_OK;
}

static int mirror_pause_resume(cli_ctx *c, mirror_opts *m, int argc, char **argv, bool pause)
{
    const char *flow = NULL;
    int rc;
    c->prog = pause ? "strait mirror pause" : "strait mirror resume";
    c->usage = pause ? usage_pause : usage_resume;
    if (parse_flow_cmd(c, m, argc, argv, true, &flow, &rc))
        return rc;
    json_t *res =
        mirror_call(c, m, pause ? "pause" : "resume", flow_args(flow), CLI_MGMT_TIMEOUT_MS);
    if (!res)
        return CLI_FAIL;
    if (c->json)
        cli_print_json(res);
    else
        printf("%s %s: now %s\n", pause ? "paused" : "resumed", flow, str_or_dash(res, "state"));
    json_decref(res);
    return CLI_OK;
}

/* After failback or reset: the flow's status once it no longer says `saying` ("failing-back",
 * "resetting"), i.e. once its state file's write is collected; NULL after printing why.
 * *state_error is the daemon's "state_error" (the file could not be written) or NULL. */
static json_t *mirror_wait_saved(cli_ctx *c, mirror_opts *m, const char *flow, const char *saying,
                                 const char **state_error)
{
    struct timespec t0, now, nap = {0, MIRROR_POLL_MS * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        json_t *res = mirror_call(c, m, "status", flow_args(flow), CLI_MGMT_TIMEOUT_MS);
        if (!res)
            return NULL;
        const char *state = json_string_value(json_object_get(res, "state"));
        if (!state || strcmp(state, saying) != 0) {
            *state_error = json_string_value(json_object_get(res, "state_error"));
            return res;
        }
        json_decref(res);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
            MIRROR_SAVE_TIMEOUT_MS) {
            fprintf(stderr,
                    "%s: %s is still %s after %d s: its state file is not written yet. Do not "
                    "restart strait-mirror before it is; check the disk of its state dir and "
                    "'strait mirror status %s'\n",
                    c->prog, flow, saying, MIRROR_SAVE_TIMEOUT_MS / 1000, flow);
            return NULL;
        }
        nanosleep(&nap, NULL);
    }
}

static int mirror_reset(cli_ctx *c, mirror_opts *m, int argc, char **argv)
{
    const char *flow = NULL, *state_error = NULL;
    int rc;
    c->prog = "strait mirror reset";
    c->usage = usage_reset;
    if (parse_flow_cmd(c, m, argc, argv, true, &flow, &rc))
        return rc;
    json_t *res = mirror_call(c, m, "reset", flow_args(flow), CLI_MGMT_TIMEOUT_MS);
    if (!res)
        return CLI_FAIL;
    json_decref(res);
    /* the new state is said once the flow's state file holds it */
    json_t *status = mirror_wait_saved(c, m, flow, "resetting", &state_error);
    if (!status)
        return CLI_FAIL;
    res = json_pack("{s:s,s:O}", "flow", flow, "state", json_object_get(status, "state"));
    if (res && state_error)
        json_object_set_new(res, "state_error", json_string(state_error));
    if (c->json && res)
        cli_print_json(res);
    else if (!c->json)
        printf("%s runs as configured again: now %s\n", flow, str_or_dash(status, "state"));
    if (state_error)
        fprintf(stderr, "%s: %s\n", c->prog, state_error);
    json_decref(res);
    json_decref(status);
    return state_error ? CLI_FAIL : CLI_OK;
}

static int mirror_pause(cli_ctx *c, mirror_opts *m, int argc, char **argv)
{
    return mirror_pause_resume(c, m, argc, argv, true);
}

static int mirror_resume(cli_ctx *c, mirror_opts *m, int argc, char **argv)
{
    return mirror_pause_resume(c, m, argc, argv, false);
}

/* ---- failover / failback ---- */

static void print_failover(const char *flow, const json_t *res)
{
    const json_t *risk = json_object_get(res, "at_risk");
    bool reachable = !json_is_false(json_object_get(res, "source_reachable"));
    size_t i, shown = 0;
    json_t *r;
    double total = 0;

    json_array_foreach(risk, i, r)
    {
        double from = num(r, "from"), to = num(r, "to");
        if (isnan(from) || isnan(to) || to <= from)
            continue; /* an empty range risks nothing */
        bool here_reachable = reachable && !json_is_false(json_object_get(r, "source_reachable"));
        printf("%s: NOT replicated: %s-%.0f offsets %.0f..%.0f (%.0f record%s)%s\n", flow,
               str_or_dash(r, "topic"), num(r, "partition"), from, to, to - from,
               to - from == 1 ? "" : "s",
               here_reachable ? "" : " [source unreachable: end offset last known, may be more]");
        total += to - from;
        shown++;
    }
    if (shown == 0)
        printf("%s: nothing at risk: every source record was replicated\n", flow);
    else
        printf("%s: %.0f record%s in %zu range%s NOT replicated (offsets from..end, end "
               "excluded)\n",
               flow, total, total == 1 ? "" : "s", shown, shown == 1 ? "" : "s");

    const json_t *groups = json_object_get(res, "groups");
    if (json_array_size(groups) == 0) {
        puts("no group offsets written: no group of the flow had committed offsets on the "
             "source and no active members on the target");
        return;
    }
    static const char *const head[] = {"GROUP",         "TOPIC",         "PARTITION",
                                       "SOURCE-OFFSET", "TARGET-OFFSET", "NOTE"};
    cli_table t;
    json_t *g;
    cli_table_init(&t, 6, head);
    json_array_foreach(groups, i, g)
    {
        const char *group = str_or_dash(g, "group");
        const json_t *offsets = json_object_get(g, "offsets");
        const char *why = json_string_value(json_object_get(g, "error"));
        if (!why)
            why = json_string_value(json_object_get(g, "skipped"));
        if (json_array_size(offsets) == 0) {
            const char *row[] = {group, "-", "-", "-", "-", why ? why : "nothing committed"};
            cli_table_row(&t, row);
            continue;
        }
        size_t k;
        json_t *o;
        json_array_foreach(offsets, k, o)
        {
            char part[24], src[24], tgt[24], both[768];
            const char *topic = json_string_value(json_object_get(o, "target_topic"));
            const char *note = json_string_value(json_object_get(o, "error"));
            const char *src_key =
                json_object_get(o, "source_offset") ? "source_offset" : "committed";
            const char *tgt_key = json_object_get(o, "target_offset") ? "target_offset" : "offset";
            if (!note && json_is_true(json_object_get(o, "beyond")))
                note = "read records never replicated";
            /* the group's note ("not written: ...") is never hidden by a row's own: the
             * heading says the offsets were written unless the NOTE says otherwise */
            if (note && why) {
                snprintf(both, sizeof both, "%s; %s", why, note);
                note = both;
            }
            const char *row[] = {group,
                                 topic ? topic : str_or_dash(o, "topic"),
                                 int_or_dash(o, "partition", part, sizeof part),
                                 int_or_dash(o, src_key, src, sizeof src),
                                 int_or_dash(o, tgt_key, tgt, sizeof tgt),
                                 note ? note : (why ? why : "")};
            cli_table_row(&t, row);
        }
    }
    const char *from = json_string_value(json_object_get(res, "groups_from"));
    if (from && strcmp(from, "cache") == 0)
        puts("\ntranslated group offsets (written to the target unless the NOTE says otherwise; "
             "the source\ndid not answer: these are the committed offsets last read from it, "
             "translated through\nthe final offset map):");
    else
        puts("\ntranslated group offsets (written to the target unless the NOTE says "
             "otherwise):");
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

static int mirror_failover(cli_ctx *c, mirror_opts *m, int argc, char **argv)
{
    const char *flow = NULL;
    int rc;
    c->prog = "strait mirror failover";
    c->usage = usage_failover;
    if (parse_flow_cmd(c, m, argc, argv, true, &flow, &rc))
        return rc;
    json_t *res = mirror_call(c, m, "failover", flow_args(flow), CLI_MGMT_TIMEOUT_MS);
    if (!res)
        return CLI_FAIL;
    json_decref(res);
    /* The daemon works it out on its own loop; its status says when it is done. */
    struct timespec t0, now, nap = {0, MIRROR_POLL_MS * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        res = mirror_call(c, m, "status", flow_args(flow), CLI_MGMT_TIMEOUT_MS);
        if (!res)
            return CLI_FAIL;
        const char *state = json_string_value(json_object_get(res, "state"));
        if (!state || strcmp(state, "failing-over") != 0)
            break;
        json_decref(res);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
            MIRROR_FAILOVER_TIMEOUT_MS) {
            fprintf(stderr,
                    "%s: %s is still failing over after %d s; see 'strait mirror status "
                    "%s'\n",
                    c->prog, flow, MIRROR_FAILOVER_TIMEOUT_MS / 1000, flow);
            return CLI_FAIL;
        }
        nanosleep(&nap, NULL);
    }
    const json_t *report = json_object_get(res, "failover");
    if (!report) {
        fprintf(stderr, "%s: %s is %s and has no failover report\n", c->prog, flow,
                json_string_value(json_object_get(res, "state")));
        json_decref(res);
        return CLI_FAIL;
    }
    if (c->json)
        cli_print_json(report);
    else
        print_failover(flow, report);
    /* failed over, but not durably: say so and fail, whatever the output format */
    const char *state_error = json_string_value(json_object_get(report, "state_error"));
    if (state_error)
        fprintf(stderr, "%s: %s\n", c->prog, state_error);
    json_decref(res);
    return state_error ? CLI_FAIL : CLI_OK;
}

static int mirror_failback(cli_ctx *c, mirror_opts *m, int argc, char **argv)
{
    const char *flow = NULL;
    int rc;
    c->prog = "strait mirror failback";
    c->usage = usage_failback;
    if (parse_flow_cmd(c, m, argc, argv, true, &flow, &rc))
        return rc;
    json_t *res = mirror_call(c, m, "failback", flow_args(flow), MIRROR_FAILBACK_TIMEOUT_MS);
    if (!res)
        return CLI_FAIL;
    /* failed back once the flow's state file holds it */
    const char *state_error = NULL;
    json_t *status = mirror_wait_saved(c, m, flow, "failing-back", &state_error);
    if (!status) {
        json_decref(res);
        return CLI_FAIL;
    }
    if (state_error) {
        json_object_set_new(res, "state_error", json_string(state_error));
        fprintf(stderr, "%s: %s\n", c->prog, state_error);
    }
    json_decref(status);
    rc = state_error ? CLI_FAIL : CLI_OK;
    if (c->json) {
        cli_print_json(res);
        json_decref(res);
        return rc;
    }
    printf("%s reversed: copying back from the divergence point\n", flow);
    static const char *const head[] = {"TOPIC", "PARTITION", "FROM-OFFSET"};
    cli_table t;
    size_t i;
    json_t *p;
    cli_table_init(&t, 3, head);
    json_array_foreach(json_object_get(res, "from"), i, p)
    {
        char part[24], off[24];
        const char *row[] = {str_or_dash(p, "topic"),
                             int_or_dash(p, "partition", part, sizeof part),
                             int_or_dash(p, "offset", off, sizeof off)};
        cli_table_row(&t, row);
    }
    if (t.nrows > 1)
        cli_table_print(&t, stdout);
    cli_table_free(&t);
    json_decref(res);
    return rc;
}

/* ---- dispatch ---- */

typedef struct mirror_subcommand {
    const char *name;
    int (*fn)(cli_ctx *c, mirror_opts *m, int argc, char **argv);
} mirror_subcommand;

static const mirror_subcommand subcommands[] = {
    {"status", mirror_status},     {"pause", mirror_pause},       {"resume", mirror_resume},
    {"failover", mirror_failover}, {"failback", mirror_failback}, {"reset", mirror_reset},
};

#define SUBCOMMAND_NAMES "status, pause, resume, failover, failback or reset"

int cli_mirror_main(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    mirror_opts m = {.state_dir = MIRROR_DEFAULT_STATE_DIR};
    int opt;

    c->prog = "strait mirror";
    c->usage = usage_mirror;
    /* The broker's default endpoint is never strait-mirror's: when nothing chose the
     * url (no --mgmt before 'mirror', no $STRAIT_MGMT), use the mirror default. A later
     * --mgmt still overrides it. */
    if (strcmp(c->mgmt_url, CLI_DEFAULT_MGMT) == 0)
        c->mgmt_url = MIRROR_DEFAULT_MGMT;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "+", longopts)) != CLI_GETOPT_END) {
        if (opt == OPT_STATE_DIR) {
            m.state_dir = optarg;
            continue;
        }
        return opt == CLI_GETOPT_HELP ? CLI_OK : CLI_USAGE;
    }
    if (optind >= argc)
        return cli_usage_error(c, "missing the subcommand (%s)", SUBCOMMAND_NAMES);
    const char *word = argv[optind];
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(subcommands[i].name, word) == 0)
            return subcommands[i].fn(c, &m, argc - optind, argv + optind);
    return cli_usage_error(c, "unknown subcommand \"%s\" (%s)", word, SUBCOMMAND_NAMES);
}
