/*
 * Console login sessions: a random 256-bit id (the HttpOnly cookie's value) → who, with
 * an absolute expiry. Kept in memory only: a console restart logs everyone out. At most
 * `per_user` per user name: a user's new login past that ends that user's oldest
 * session, never someone else's (so no one can log others out by logging in many
 * times); and at most `max` in all, the oldest ending first (with max >= users x
 * per_user that never happens).
 *
 * Event loop thread only.
 */
#ifndef ST_CONSOLE_SESSIONS_H
#define ST_CONSOLE_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "admin-ui/config.h"

#define ST_SESSION_ID_LEN 64 /* hex characters */
#define ST_SESSION_COOKIE "strait_session"

typedef struct st_session {
    char id[ST_SESSION_ID_LEN + 1];
    char user[ST_CON_NAME_MAX];
    st_role role;
    char tenant[256];
    int64_t created_ms, expires_ms;
} st_session;

typedef struct st_sessions st_sessions;

/* NULL when out of memory. */
st_sessions *st_sessions_new(size_t max, size_t per_user, int64_t ttl_ms);
void st_sessions_free(st_sessions *s);

/* A new session for u (borrowed, copied). Valid until the next create or remove; NULL
 * when no random bytes could be had. */
const st_session *st_sessions_create(st_sessions *s, const st_con_user *u, int64_t now_ms);

/* The live session with this id (len bytes, need not be NUL-terminated), or NULL
 * (unknown or expired; an expired one is removed). Valid until the next create or
 * remove. */
const st_session *st_sessions_find(st_sessions *s, const char *id, size_t len, int64_t now_ms);

/* Ends a session; nothing when unknown. */
void st_sessions_remove(st_sessions *s, const char *id);

/* The session id in a Cookie header value (borrowed), into out (ST_SESSION_ID_LEN + 1).
 * 0, or -1 when there is no well-formed strait_session cookie. */
int st_sessions_cookie_id(const char *cookie_header, char *out);

#endif
