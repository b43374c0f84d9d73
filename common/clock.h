/* clock: credsync's "now", with a clearly named TEST-ONLY override (test.clock_offset_s,
 * test.fixed_now) so that end-to-end tests can reach due dates and period ends quickly. */
#ifndef CREDSYNC_CLOCK_H
#define CREDSYNC_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Sets the process's test-only override: offset_s seconds added to the real time, or, when
 * fixed_now is neither NULL nor "", that RFC 3339 instant (then the offset is ignored).
 * clock_test_override(0, NULL, ...) turns it off. Returns 0, or -1 with err (nothing
 * changed). Not thread-safe: call it from the main thread. */
int clock_test_override(int64_t offset_s, const char *fixed_now, char *err, size_t errsz);

/* Whether a test-only override is active (then log it loudly). */
bool clock_test_active(void);

/* A description of the active override for the log, e.g. "clock_offset_s=86400" or
 * "fixed_now=2026-05-01T12:00:00+08:00", into buf (always NUL-terminated); returns buf. */
char *clock_test_describe(char *buf, size_t bufsz);

/* credsync's now (Unix seconds): the real time unless a test-only override is active. Never
 * used for received_at, which is the Kafka message's timestamp. */
int64_t clock_now(void);

/* Milliseconds of CLOCK_MONOTONIC, for timeouts, intervals and rates: never jumps with the
 * wall clock and ignores the test-only override. Thread-safe. */
int64_t clock_mono_ms(void);

/* The CLOCK_MONOTONIC instant ms milliseconds from now, for pthread_cond_timedwait on a
 * condition variable whose clock is CLOCK_MONOTONIC. Thread-safe. */
struct timespec clock_mono_after(long ms);

#endif
