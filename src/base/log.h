/*
 * log: one line per event, to stderr (-d, tests, make run) or syslog.
 *
 * hl_log_warn appends strerror(errno); hl_log_warnx does not.  hl_fatal and
 * hl_fatalx are for start-up only (bad config, cannot bind, cannot open the
 * database): after start-up a failure is a status code and a log line.
 * Never pass a token, a secret or an Authorization header to these.
 */
#ifndef HL_LOG_H
#define HL_LOG_H

#define HL_LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* Levels: warning shows warnings alone, info adds hl_log_info, debug all. */
enum { HL_LOG_WARNING, HL_LOG_INFO, HL_LOG_DEBUG };

void	hl_log_init(int to_stderr, int verbose);
/* Changes the level while threads log (an atomic). */
void	hl_log_set_level(int level);
void	hl_log_info(const char *fmt, ...) HL_LOG_FMT(1, 2);
void	hl_log_warn(const char *fmt, ...) HL_LOG_FMT(1, 2);
void	hl_log_warnx(const char *fmt, ...) HL_LOG_FMT(1, 2);
void	hl_log_debug(const char *fmt, ...) HL_LOG_FMT(1, 2);
void	hl_fatal(const char *fmt, ...) HL_LOG_FMT(1, 2)
	    __attribute__((noreturn));
void	hl_fatalx(const char *fmt, ...) HL_LOG_FMT(1, 2)
	    __attribute__((noreturn));

#endif
