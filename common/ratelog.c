/* One log line per interval per source (see ratelog.h). */
#include "common/ratelog.h"

bool st_ratelog_allow(st_ratelog *r, int64_t now_ms, uint64_t *held_back)
{
    if (r->last_ms != 0 && now_ms - r->last_ms < r->interval_ms) {
        r->held_back++;
        return false;
    }
    *held_back = r->held_back;
    r->held_back = 0;
    r->last_ms = now_ms ? now_ms : 1; /* 0 means "never" */
    return true;
}

uint64_t st_ratelog_take(st_ratelog *r)
{
    uint64_t n = r->held_back;
    r->held_back = 0;
    return n;
}
