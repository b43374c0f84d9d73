/* notify: systemd's sd_notify protocol (READY, RELOADING, STOPPING, STATUS, WATCHDOG).
 * Harmless without systemd or without libsystemd at build time: every call is then a no-op. */
#ifndef CREDSYNC_NOTIFY_H
#define CREDSYNC_NOTIFY_H

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
/* Pings the watchdog, at most once a second however often it is called. */
void notify_watchdog(void);
/* A one-line status for `systemctl status`. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
