/*
 * TLS sessions over non-blocking sockets; see tls.h.
 */
#include "broker/net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct st_tls_ctx {
    SSL_CTX *ssl;
};

struct st_tls {
    SSL *ssl;
    bool failed;      /* a fatal error happened: no shutdown may be attempted */
    bool established; /* the handshake completed (for messages) */
};

/* OpenSSL's queued error reason, or `fallback`. Clears the queue. */
static void ssl_reason(char *buf, size_t len, const char *fallback)
{
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "%s", fallback);
    ERR_clear_error();
}

st_tls_ctx *st_tls_ctx_new(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    char why[256];
    st_tls_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(err, errlen, "out of memory creating the TLS context");
        return NULL;
    }
    ERR_clear_error();
    ctx->ssl = SSL_CTX_new(TLS_server_method());
    if (!ctx->ssl) {
        ssl_reason(why, sizeof why, "unknown error");
        snprintf(err, errlen, "cannot create a TLS context: %s", why);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                   SSL_MODE_RELEASE_BUFFERS);
    /* Kafka clients reconnect rather than renegotiate; refusing renegotiation keeps a
     * write from ever needing a read. */
    /* A client that closes the TCP connection without close_notify (most do) is a normal
     * end, not a protocol error to log. */
    SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                      SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl, cert_path) != 1) {
        ssl_reason(why, sizeof why, "unreadable");
        snprintf(err, errlen, "security.ssl_certificate %s: %s", cert_path, why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx->ssl, key_path, SSL_FILETYPE_PEM) != 1) {
        ssl_reason(why, sizeof why, "unreadable");
        snprintf(err, errlen, "security.ssl_key %s: %s", key_path, why);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx->ssl) != 1) {
        ssl_reason(why, sizeof why, "mismatch");
        snprintf(err, errlen, "security.ssl_key %s does not match the certificate %s: %s", key_path,
                 cert_path, why);
        goto fail;
    }
    return ctx;
fail:
    st_tls_ctx_free(ctx);
    return NULL;
}

void st_tls_ctx_free(st_tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

st_tls *st_tls_new(st_tls_ctx *ctx, int fd)
{
    st_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ssl = SSL_new(ctx->ssl);
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_accept_state(t->ssl);
    return t;
}

void st_tls_free(st_tls *t)
{
    if (!t)
        return;
    if (!t->failed && SSL_is_init_finished(t->ssl))
        SSL_shutdown(t->ssl); /* one non-blocking attempt; the fd is closed next anyway */
    SSL_free(t->ssl);
    ERR_clear_error();
    free(t);
}

/* Maps an SSL_read/SSL_write result <= 0 to 0 (would block) or -1 (over). */
static ssize_t settle(st_tls *t, int rc, int *want, char *why, size_t whylen, const char *what)
{
    int e = SSL_get_error(t->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        *want = ST_TLS_WANT_READ;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        *want = ST_TLS_WANT_WRITE;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        snprintf(why, whylen, "peer closed the TLS session");
        ERR_clear_error();
        return -1;
    case SSL_ERROR_SYSCALL: {
        t->failed = true;
        int saved = errno;
        char r[200];
        ssl_reason(r, sizeof r, saved ? strerror(saved) : "peer closed the connection");
        snprintf(why, whylen, "TLS %s failed: %s", what, r);
        errno = saved;
        return -1;
    }
    default: {
        t->failed = true;
        char r[200];
        ssl_reason(r, sizeof r, "protocol error");
        if (t->established)
            snprintf(why, whylen, "TLS %s failed: %s", what, r);
        else
            snprintf(why, whylen,
                     "TLS handshake failed: %s (a client without TLS on a SASL_SSL port, or one "
                     "that does not trust our certificate?)",
                     r);
        return -1;
    }
    }
}

ssize_t st_tls_read(st_tls *t, void *buf, size_t n, int *want, char *why, size_t whylen)
{
    *want = ST_TLS_WANT_NONE;
    size_t got = 0;
    int rc = SSL_read_ex(t->ssl, buf, n, &got);
    if (rc == 1) {
        t->established = true;
        return (ssize_t)got;
    }
    return settle(t, rc, want, why, whylen, "read");
}

ssize_t st_tls_write(st_tls *t, const void *buf, size_t n, int *want, char *why, size_t whylen)
{
    *want = ST_TLS_WANT_NONE;
    size_t put = 0;
    int rc = SSL_write_ex(t->ssl, buf, n, &put);
    if (rc == 1) {
        t->established = true;
        return (ssize_t)put;
    }
    return settle(t, rc, want, why, whylen, "write");
}

bool st_tls_pending(const st_tls *t)
{
    /* Decrypted bytes only: without read-ahead OpenSSL takes one record at a time from
     * the socket, so bytes of a record not yet complete are still in the kernel and
     * epoll reports them. (SSL_has_pending would also count a partial record and spin.) */
    return SSL_pending(t->ssl) > 0;
}
