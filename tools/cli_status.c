/* strait status: the broker's "status" management command, printed as key: value lines. */
#include <inttypes.h>

#include "tools/cli.h"

static void usage_status(FILE *out)
{
    fputs("Usage: strait status [options]\n"
          "\n"
          "Shows the broker's node id, listener, data directory, uptime, topic,\n"
          "partition and connection counts, request counters and the login guard's\n"
          "counters.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait status --mgmt tcp://127.0.0.1:9192 --data-dir /var/lib/strait\n",
          out);
}

static void print_uptime(int64_t s)
{
    if (s >= 86400)
        printf("%" PRId64 "d %02" PRId64 "h %02" PRId64 "m\n", s / 86400, s % 86400 / 3600,
               s % 3600 / 60);
    else if (s >= 3600)
        printf("%" PRId64 "h %02" PRId64 "m %02" PRId64 "s\n", s / 3600, s % 3600 / 60, s % 60);
    else
        printf("%" PRId64 "m %02" PRId64 "s\n", s / 60, s % 60);
}

int cli_status_main(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_GLOBAL_LONGOPTS, {0}};
    int opt;
    char human[32];

    c->prog = "strait status";
    c->usage = usage_status;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END)
        return opt == CLI_GETOPT_HELP ? CLI_OK : CLI_USAGE;
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);

    json_t *res = cli_admin(c, "status", NULL);
    if (!res)
        return CLI_FAIL;
    if (c->json) {
        cli_print_json(res);
        json_decref(res);
        return CLI_OK;
    }
    const json_t *stats = json_object_get(res, "stats");
    const json_t *conns = json_object_get(res, "connections");
    printf("node id:      %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(res, "node_id")));
    const char *cluster = json_string_value(json_object_get(res, "cluster_id"));
    if (cluster && *cluster)
        printf("cluster id:   %s\n", cluster);
    printf("listener:     %s\n", json_string_value(json_object_get(res, "listener")));
    printf("data dir:     %s\n", json_string_value(json_object_get(res, "data_dir")));
    printf("uptime:       ");
    print_uptime(json_integer_value(json_object_get(res, "uptime_s")));
    printf("topics:       %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(res, "topics")));
    printf("partitions:   %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(res, "partitions")));
    if (json_is_integer(conns))
        printf("connections:  %" JSON_INTEGER_FORMAT " open, %" JSON_INTEGER_FORMAT " total\n",
               json_integer_value(conns),
               json_integer_value(json_object_get(stats, "connections_total")));
    printf("requests:     %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT " bad frames)\n",
           json_integer_value(json_object_get(stats, "requests")),
           json_integer_value(json_object_get(stats, "bad_frames")));
    printf("records in:   %" JSON_INTEGER_FORMAT "\n",
           json_integer_value(json_object_get(stats, "records_in")));
    printf("bytes in:     %s\n",
           cli_human_bytes(json_integer_value(json_object_get(stats, "bytes_in")), human,
                           sizeof(human)));
    printf("bytes out:    %s\n",
           cli_human_bytes(json_integer_value(json_object_get(stats, "bytes_out")), human,
                           sizeof(human)));
    printf("parked fetches: %" JSON_INTEGER_FORMAT " (long polls waiting for data)\n",
           json_integer_value(json_object_get(stats, "parked_fetches")));
    const json_t *loop = json_object_get(res, "loop");
    if (json_is_object(loop)) { /* how long every other connection waited for a turn */
#define TURN(w, name) json_integer_value(json_object_get(json_object_get(loop, w), name))
        printf("loop turns:   last minute p99 %.1f ms, p99.9 %.1f ms, longest %.1f ms; "
               "since start p99.9 %.1f ms, longest %.1f ms\n",
               TURN("last_minute", "p99_us") / 1000.0, TURN("last_minute", "p999_us") / 1000.0,
               TURN("last_minute", "longest_us") / 1000.0, TURN("since_start", "p999_us") / 1000.0,
               TURN("since_start", "longest_us") / 1000.0);
#undef TURN
    }
    const json_t *storage = json_object_get(res, "storage");
    if (json_is_object(storage)) {
        json_int_t refusing =
            json_integer_value(json_object_get(storage, "partitions_refusing_writes"));
        json_int_t offline = json_integer_value(json_object_get(storage, "partitions_offline"));
        printf("storage:      %" JSON_INTEGER_FORMAT
               " partitions refusing writes (disk full?), %" JSON_INTEGER_FORMAT
               " offline until restart, %" JSON_INTEGER_FORMAT " failed writes\n",
               refusing, offline, json_integer_value(json_object_get(storage, "storage_errors")));
        const json_t *names = json_object_get(storage, "refusing");
        if (refusing + offline > 0 && json_array_size(names)) {
            size_t i;
            const json_t *name;
            printf("              ");
            json_array_foreach(names, i, name)
            {
                printf("%s%s", i ? " " : "", json_string_value(name));
            }
            printf("%s\n", refusing + offline > (json_int_t)json_array_size(names) ? " ..." : "");
        }
    }
    const json_t *auth = json_object_get(res, "auth");
    if (json_is_object(auth))
        printf("PLAIN logins: %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
               " password checks, %" JSON_INTEGER_FORMAT
               " answered from the cache, %" JSON_INTEGER_FORMAT
               " refused by the login budget, %" JSON_INTEGER_FORMAT
               " abandoned by their client)\n",
               json_integer_value(json_object_get(auth, "plain_logins")),
               json_integer_value(json_object_get(auth, "checks")),
               json_integer_value(json_object_get(auth, "cache_hits")),
               json_integer_value(json_object_get(auth, "refused_rate")) +
                   json_integer_value(json_object_get(auth, "refused_in_flight")) +
                   json_integer_value(json_object_get(auth, "refused_busy")),
               json_integer_value(json_object_get(auth, "abandoned")));
    const json_t *net = json_object_get(stats, "net");
    if (json_is_object(net)) { /* the connection limits at work (docs/security.md) */
#define NET(name) json_integer_value(json_object_get(net, name))
        printf("connection limits: %" JSON_INTEGER_FORMAT
               " refused (max.connections), %" JSON_INTEGER_FORMAT
               " refused (per ip), %" JSON_INTEGER_FORMAT
               " shed (out of fds), %" JSON_INTEGER_FORMAT " idle closed, %" JSON_INTEGER_FORMAT
               " not authenticated in time, %" JSON_INTEGER_FORMAT
               " oversized before authentication\n",
               NET("refused_max_connections"), NET("refused_per_ip"), NET("shed_no_fds"),
               NET("closed_idle"), NET("closed_auth_timeout"), NET("closed_unauth_frame"));
        char unauth[32];
        printf("request budget: %s held in partly read requests (%s before authentication), "
               "%" JSON_INTEGER_FORMAT " connections paused (%" JSON_INTEGER_FORMAT
               " pauses so far)\n",
               cli_human_bytes(NET("queued_request_bytes"), human, sizeof(human)),
               cli_human_bytes(NET("queued_unauth_request_bytes"), unauth, sizeof(unauth)),
               NET("budget_waiting"), NET("budget_waits"));
#undef NET
    }
    json_t *by_api = json_object_get(stats, "requests_by_api");
    if (json_object_size(by_api)) {
        printf("requests by API:");
        const char *name;
        json_t *count;
        json_object_foreach(by_api, name, count)
        {
            printf(" %s=%" JSON_INTEGER_FORMAT, name, json_integer_value(count));
        }
        printf("\n");
    }
    json_decref(res);
    return CLI_OK;
}
