/*
 * Helpers shared by the management commands (broker/mgmt/), defined in security.c: out of
 * memory, store errors, arguments, ACL JSON. Same conventions as admin.c: 0 or -1 with err set.
 */
#ifndef ST_MGMT_INT_H
#define ST_MGMT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "auth/acl.h"
#include "broker/broker_int.h"
#include "broker/security/security.h"

/* "out of memory" into err; returns -1. */
int st_admin_oom(char *err, size_t errlen);
/* The security context, or NULL with err set (the fuzz harness opens none). Clears err. */
st_security *st_admin_need_security(st_broker *b, char *err, size_t errlen);
/* A string argument: *out borrows it from args, or is NULL when absent or null (an error
 * naming `what` when required). Anything but a non-empty string without NUL bytes is an
 * error. */
int st_admin_arg_str(json_t *args, const char *key, bool required, const char *what,
                     const char **out, char *err, size_t errlen);
/* The message for a store error that came back without one. */
void st_admin_fill_err(int code, char *err, size_t errlen);
/* {resource_type, resource_name, pattern_type, principal, host, operation, permission} */
json_t *st_admin_acl_json(const st_acl_binding *a);
/* Appends the list's bindings (sorted for display) to arr. 0, or -1 out of memory. */
int st_admin_append_acls(json_t *arr, st_acl_list *list);

#endif
