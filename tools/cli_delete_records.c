/*
 * strait delete-records: moves partitions' log start offsets forward, deleting the
 * records before them (Kafka's DeleteRecords, as kafka-delete-records.sh), by offset or
 * by time. The broker frees whole segments below the new start.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "tools/cli.h"

static void usage_delete_records(FILE *out)
{
    fputs("Usage: strait delete-records TOPIC (--to-offset N | --to-time T | --all)\n"
          "           [--partition P]... [options]\n"
          "\n"
          "Deletes the records of TOPIC before a point: the partitions' log start offsets\n"
          "move there, and consumers can no longer read what lies before. There is no\n"
          "undo. Prints each partition's new log start offset.\n"
          "\n"
          "Options:\n"
          "  --to-offset N      delete the records before offset N; past the log end it\n"
          "                     stops at the end (with a note)\n"
          "  --to-time T        delete the records before the first one at or after T:\n"
          "                     ISO 8601 (2026-11-21T10:00:00Z), epoch milliseconds, or\n"
          "                     -DURATION before now (-7d); everything if none is that late\n"
          "  --all              delete every record there now (to the log end)\n"
          "  -p, --partition P  only partition P; repeat for several [every partition]\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait delete-records events --to-offset 1000 --partition 0\n"
          "  strait delete-records events --to-time -7d\n",
          out);
}

int cli_delete_records_main(cli_ctx *c, int argc, char **argv)
{
    enum { OPT_OFFSET = 300, OPT_TIME, OPT_ALL };
    static const struct option longopts[] = {
        {"to-offset", required_argument, NULL, OPT_OFFSET},
        {"to-time", required_argument, NULL, OPT_TIME},
        {"all", no_argument, NULL, OPT_ALL},
        {"partition", required_argument, NULL, 'p'},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {'p', 0};
    const char *how = NULL;
    int64_t value = 0, p;
    cli_list partitions = {0};
    cli_kadmin a = {0};
    rd_kafka_topic_partition_list_t *l = NULL;
    const struct rd_kafka_metadata *md = NULL;
    int rc = CLI_USAGE, opt;

    c->prog = "strait delete-records";
    c->usage = usage_delete_records;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "p:", longopts)) != CLI_GETOPT_END) {
        const char *name = NULL;
        switch (opt) {
        case CLI_GETOPT_HELP:
            rc = CLI_OK;
            goto out;
        case OPT_OFFSET:
            name = "--to-offset";
            if (cli_parse_int(c, name, optarg, 0, INT64_MAX, &value))
                goto out;
            break;
        case OPT_TIME:
            name = "--to-time";
            if (cli_parse_time(optarg, st_wall_ms(), &value) != 0) {
                cli_usage_error(c,
                                "--to-time \"%s\": expected ISO 8601 (2026-11-21T10:00:00Z), "
                                "epoch milliseconds or -DURATION",
                                optarg);
                goto out;
            }
            break;
        case OPT_ALL:
            name = "--all";
            break;
        case 'p':
            if (cli_parse_int(c, "--partition", optarg, 0, INT32_MAX, &p))
                goto out;
            cli_list_add(&partitions, optarg);
            continue;
        default:
            goto out;
        }
        if (how) {
            cli_usage_error(c, "give one of --to-offset, --to-time and --all (got %s and %s)", how,
                            name);
            goto out;
        }
        how = name;
    }
    if (optind >= argc) {
        cli_usage_error(c, "missing the TOPIC");
        goto out;
    }
    if (optind + 1 < argc) {
        cli_usage_error(c, "unexpected argument \"%s\" (one topic at a time)", argv[optind + 1]);
        goto out;
    }
    if (!how) {
        cli_usage_error(c, "say up to where: --to-offset N, --to-time T or --all");
        goto out;
    }
    const char *topic = argv[optind];
    rc = CLI_FAIL;
    if (cli_kadmin_open(c, &a) != CLI_OK || !(md = cli_kadmin_metadata(&a, topic)))
        goto out;
    if (md->topic_cnt != 1 || md->topics[0].err) {
        cli_kadmin_topic_error(topic, md->topic_cnt ? md->topics[0].err
                                                    : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
        goto out;
    }
    int count = md->topics[0].partition_cnt;
    l = rd_kafka_topic_partition_list_new(count);
    for (int i = 0; i < count; i++) {
        int32_t id = md->topics[0].partitions[i].id;
        bool wanted = partitions.n == 0;
        for (size_t k = 0; k < partitions.n && !wanted; k++)
            wanted = atoi(partitions.v[k]) == id;
        if (wanted)
            rd_kafka_topic_partition_list_add(l, topic, id);
    }
    for (size_t k = 0; k < partitions.n; k++)
        if (atoi(partitions.v[k]) >= count) {
            cli_fail("topic \"%s\" has %d partition%s: there is no partition %s", topic, count,
                     count == 1 ? "" : "s", partitions.v[k]);
            goto out;
        }
    if (strcmp(how, "--to-time") == 0) {
        for (int i = 0; i < l->cnt; i++)
            l->elems[i].offset = value;
        rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(a.rk, l, CLI_KADMIN_TIMEOUT_MS);
        if (e) {
            cli_fail("cannot look up offsets by time in \"%s\": %s", topic, rd_kafka_err2str(e));
            goto out;
        }
    }
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &l->elems[i];
        int64_t low, high;
        if (cli_kadmin_watermarks(&a, topic, tp->partition, &low, &high) != CLI_OK)
            goto out;
        if (strcmp(how, "--all") == 0 || (strcmp(how, "--to-time") == 0 && tp->offset < 0))
            tp->offset = high; /* everything (no record that late: everything) */
        else if (strcmp(how, "--to-offset") == 0)
            tp->offset = value;
        if (tp->offset > high) {
            fprintf(stderr,
                    "note: %s [%d]: offset %" PRId64 " is past the log end %" PRId64
                    ": deleting to the end\n",
                    topic, (int)tp->partition, tp->offset, high);
            tp->offset = high;
        }
        tp->err = 0;
    }
    rd_kafka_DeleteRecords_t *del = rd_kafka_DeleteRecords_new(l);
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(&a, RD_KAFKA_ADMIN_OP_DELETERECORDS);
    rd_kafka_DeleteRecords(a.rk, &del, 1, o, a.queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteRecords_destroy(del);
    rd_kafka_event_t *ev =
        cli_kadmin_wait(&a, RD_KAFKA_EVENT_DELETERECORDS_RESULT, "deleting records");
    if (!ev)
        goto out;
    const rd_kafka_topic_partition_list_t *res =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    json_t *arr = json_array();
    static const char *const head[] = {"TOPIC", "PARTITION", "LOG-START-OFFSET"};
    cli_table t;
    cli_table_init(&t, 3, head);
    rc = CLI_OK;
    for (int i = 0; res && i < res->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &res->elems[i];
        char part[16], start[24];
        snprintf(part, sizeof part, "%d", (int)tp->partition);
        snprintf(start, sizeof start, "%" PRId64, tp->offset);
        if (tp->err) {
            cli_fail("%s [%d]: records not deleted: %s", tp->topic, (int)tp->partition,
                     rd_kafka_err2str(tp->err));
            rc = CLI_FAIL;
        }
        const char *row[] = {tp->topic, part, tp->err ? "-" : start};
        cli_table_row(&t, row);
        json_array_append_new(
            arr,
            json_pack("{s:s,s:i,s:o,s:o}", "topic", tp->topic, "partition", (int)tp->partition,
                      "log_start_offset", tp->err ? json_null() : json_integer(tp->offset), "error",
                      tp->err ? json_string(rd_kafka_err2str(tp->err)) : json_null()));
    }
    if (c->json)
        cli_print_json(arr);
    else
        cli_table_print(&t, stdout);
    cli_table_free(&t);
    json_decref(arr);
    rd_kafka_event_destroy(ev);
out:
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    if (md)
        rd_kafka_metadata_destroy(md);
    cli_list_free(&partitions);
    cli_kadmin_close(&a);
    return rc;
}
