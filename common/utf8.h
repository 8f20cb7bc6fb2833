/*
 * UTF-8 validation, one sequence at a time: what the log writer and the CLI's
 * converters use to tell text they may pass through from bytes they must escape.
 */
#ifndef ST_COMMON_UTF8_H
#define ST_COMMON_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at s, n > 0 bytes left; 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
size_t st_utf8_len(const unsigned char *s, size_t n);

#endif
