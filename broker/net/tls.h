/*
 * TLS for SASL_SSL listeners (OpenSSL), behind a small interface so conn.c stays about
 * sockets and framing.
 *
 * One st_tls_ctx per listener (certificate chain and key, TLS 1.2+); one st_tls per
 * connection, created over the accepted non-blocking fd in server mode. The handshake
 * happens inside the first reads and writes. Partial writes are enabled and the write
 * buffer may move between retries, so a caller retrying after "would block" with the
 * same bytes at another address is fine.
 *
 * OpenSSL writes with write(2), which raises SIGPIPE on a closed peer: the process
 * ignores SIGPIPE (main.c), as for sendfile.
 *
 * Plaintext listeners never touch this: their fetches keep sendfile(2); TLS connections
 * copy file ranges through a buffer, because the bytes must be encrypted in user space.
 */
#ifndef ST_TLS_H
#define ST_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct st_tls_ctx st_tls_ctx;
typedef struct st_tls st_tls;

/* What a would-block result waits for. */
enum { ST_TLS_WANT_NONE = 0, ST_TLS_WANT_READ = 1, ST_TLS_WANT_WRITE = 2 };

/* Loads the PEM certificate chain and private key (paths borrowed) and checks that they
 * match. NULL with err naming the file and OpenSSL's reason. */
st_tls_ctx *st_tls_ctx_new(const char *cert_path, const char *key_path, char *err, size_t errlen);
void st_tls_ctx_free(st_tls_ctx *ctx);

/* A server-side session over fd (borrowed: the caller closes it after st_tls_free).
 * NULL when out of memory. */
st_tls *st_tls_new(st_tls_ctx *ctx, int fd);
/* Sends close_notify if it can without blocking, frees. NULL is fine. */
void st_tls_free(st_tls *t);

/*
 * Reads/writes up to n bytes. Returns the count (> 0); 0 when it would block, with *want
 * saying for what; -1 when the connection is over (peer closed, protocol or handshake
 * error), with the reason in why.
 */
ssize_t st_tls_read(st_tls *t, void *buf, size_t n, int *want, char *why, size_t whylen);
ssize_t st_tls_write(st_tls *t, const void *buf, size_t n, int *want, char *why, size_t whylen);

/* True when decrypted bytes wait inside OpenSSL: the socket may not become readable
 * again for them, so the caller must read without waiting for epoll. */
bool st_tls_pending(const st_tls *t);

#endif
