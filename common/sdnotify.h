/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: when a service runs
 * with Type=notify, systemd passes the path of a datagram socket in $NOTIFY_SOCKET and
 * waits for "READY=1" before it counts the service as started (and starts what is
 * ordered after it). "STOPPING=1" says a clean shutdown has begun, "STATUS=..." is the
 * one-line status `systemctl status` shows. Several assignments may go in one message,
 * one a line.
 *
 * The socket is a filesystem path or, with a leading '@', a Linux abstract socket. One
 * datagram, sent without blocking: nothing here can stall an event loop. Without
 * $NOTIFY_SOCKET (not started by systemd) it does nothing.
 */
#ifndef ST_SDNOTIFY_H
#define ST_SDNOTIFY_H

/*
 * Sends state ("READY=1\nSTATUS=serving on ...") to $NOTIFY_SOCKET. Returns 1 if sent,
 * 0 if there is no socket to tell, -1 with errno if sending failed (the caller logs
 * it: systemd then times the start out, which is the right outcome for a broken
 * socket). Borrows state.
 */
int st_sd_notify(const char *state);
/* st_sd_notify with printf formatting (the message is cut at 1 KiB). */
int st_sd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
