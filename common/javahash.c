/* Java's String.hashCode and Kafka's partitionFor; see javahash.h. */
#include "common/javahash.h"

#include <stdbool.h>

int32_t st_java_string_hash(const char *s, size_t len)
{
    uint32_t h = 0;
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp = p[i], need = 0;
        if (cp < 0x80)
            need = 0;
        else if ((cp & 0xe0) == 0xc0)
            need = 1, cp &= 0x1f;
        else if ((cp & 0xf0) == 0xe0)
            need = 2, cp &= 0x0f;
        else if ((cp & 0xf8) == 0xf0)
            need = 3, cp &= 0x07;
        else
            need = 99;
        bool ok = need != 99;
        for (uint32_t k = 1; ok && k <= need; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
                ok = false;
            else
                cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (!ok) {
            h = 31 * h + 0xfffd;
            i++;
            continue;
        }
        i += need + 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xd800 + (cp >> 10));
            h = 31 * h + (0xdc00 + (cp & 0x3ff));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}

int32_t st_kafka_partition_for(const char *p, size_t len, int32_t partitions)
{
    int32_t h = st_java_string_hash(p, len);
    int32_t a = h == INT32_MIN ? 0 : h < 0 ? -h : h;
    return partitions > 0 ? a % partitions : 0;
}
