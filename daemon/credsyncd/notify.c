/* notify: systemd's sd_notify protocol; never fatal. */
#include "notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#define NOTIFY(s) ((void)sd_notify(0, (s)))
#else
#define NOTIFY(s) ((void)(s))
#endif

void
notify_ready(void)
{
	NOTIFY("READY=1");
}

void
notify_reloading(void)
{
	NOTIFY("RELOADING=1");
}

void
notify_stopping(void)
{
	NOTIFY("STOPPING=1");
}

void
notify_watchdog(void)
{
	static time_t last;
	time_t now = time(NULL);
	if (now != last) {
		last = now;
		NOTIFY("WATCHDOG=1");
	}
}

void
notify_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	NOTIFY(buf);
}
