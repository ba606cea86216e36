/*
 * err: error codes and the caller-owned error record.
 *
 * Every fallible hl_ function returns 0 on success or one of the negative
 * HL_E* codes below, and, when the caller passes a struct hl_err, fills in
 * a one-line message.  There is no global "last error": libmicrohttpd runs
 * handlers on several threads, so the record belongs to the caller.
 * api.c maps the codes to HTTP statuses in one table.
 */
#ifndef HL_ERR_H
#define HL_ERR_H

enum {
	HL_OK = 0,
	HL_EGENERIC = -1,	/* anything not listed below */
	HL_ENOTFOUND = -2,	/* no such list, item, token or file */
	HL_EEXISTS = -3,	/* duplicate: the value is already there */
	HL_EINVAL = -4,		/* the input is malformed or out of range */
	HL_EAUTH = -5,		/* missing, unknown or revoked credentials */
	HL_EPERM = -6,		/* authenticated, but lacks the scope */
	HL_ECONFLICT = -7,	/* someone else changed it first */
	HL_EIO = -8,		/* disk, database or network failure */
	HL_ENOMEM = -9,
	HL_ETOOBIG = -10,	/* over a size limit */
	HL_EBUSY = -11,		/* try again later */
	HL_ENOSPC = -12,	/* the disk is full: nothing was written */
};

struct hl_err {
	int	code;
	char	msg[256];
};

#define HL_ERR_INIT { 0, { 0 } }

/*
 * Records code and a printf-style message in err (which may be NULL) and
 * returns code, so that callers can write `return hl_err_set(...)`.
 */
int	hl_err_set(struct hl_err *err, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Resets err to HL_OK with an empty message.  err may be NULL. */
void	hl_err_clear(struct hl_err *err);

/* A short stable name for a code ("not_found", "exists", ...). */
const char *hl_err_name(int code);

#endif
