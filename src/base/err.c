/*
 * err: the error record (see err.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int
hl_err_set(struct hl_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	/* A truncated message is still a useful message. */
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
hl_err_clear(struct hl_err *err)
{
	if (err == NULL)
		return;
	err->code = HL_OK;
	err->msg[0] = '\0';
}

const char *
hl_err_name(int code)
{
	switch (code) {
	case HL_OK:		return "ok";
	case HL_ENOTFOUND:	return "not_found";
	case HL_EEXISTS:	return "duplicate";
	case HL_EINVAL:		return "invalid";
	case HL_EAUTH:		return "unauthorized";
	case HL_EPERM:		return "forbidden";
	case HL_ECONFLICT:	return "conflict";
	case HL_EIO:		return "io_error";
	case HL_ENOMEM:		return "out_of_memory";
	case HL_ETOOBIG:	return "too_large";
	case HL_EBUSY:		return "busy";
	default:		return "error";
	}
}
