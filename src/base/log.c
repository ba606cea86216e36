/*
 * log: stderr or syslog, one line per event (see log.h).
 *
 * Lines on stderr carry a UTC timestamp so that a test's log can be read
 * beside the client's.  A mutex keeps lines from several threads whole.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_stderr = 1;
static atomic_int log_level = HL_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void
hl_log_init(int to_stderr, int verbose)
{
	log_stderr = to_stderr;
	atomic_store(&log_level, verbose ? HL_LOG_DEBUG : HL_LOG_INFO);
	if (!to_stderr)
		openlog("helios", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void
vlog(int pri, const char *prefix, const char *fmt, va_list ap,
    const char *suffix)
{
	char msg[1024];
	char ts[32];
	struct timespec now;
	struct tm tm;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!log_stderr) {
		syslog(pri, "%s%s%s", msg, suffix ? ": " : "",
		    suffix ? suffix : "");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_mu);
	fprintf(stderr, "%s.%03ldZ %s%s%s%s\n", ts, now.tv_nsec / 1000000,
	    prefix, msg, suffix ? ": " : "", suffix ? suffix : "");
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}

void
hl_log_set_level(int level)
{
	atomic_store(&log_level, level);
}

#define LOGFN(name, pri, prefix, withErrno, level)			\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
	int saved = errno;						\
									\
	if (atomic_load(&log_level) < level)				\
		return;							\
	va_start(ap, fmt);						\
	vlog(pri, prefix, fmt, ap, withErrno ? strerror(saved) : NULL); \
	va_end(ap);							\
	errno = saved;							\
}

LOGFN(hl_log_info, LOG_INFO, "", 0, HL_LOG_INFO)
LOGFN(hl_log_warn, LOG_WARNING, "warning: ", 1, HL_LOG_WARNING)
LOGFN(hl_log_warnx, LOG_WARNING, "warning: ", 0, HL_LOG_WARNING)

void
hl_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (atomic_load(&log_level) < HL_LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, "debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
hl_fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
hl_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
