/*
 * sink: the checked path of a download.  Bytes arrive in pieces (from
 * hl_fetch_stream) and go, as they arrive, through a SHA-256 and a byte
 * count, through an inflater when they are a .gz, through a second
 * SHA-256 and count of what it makes, and on to a file descriptor and/or
 * a buffer.  Nothing is held whole, so what a download costs in memory is
 * a few fixed buffers whatever the server sends; what it costs on disk is
 * capped by the two limits.
 *
 *   raw bytes --> sha256, count <= rawmax --> [inflate] --> sha256,
 *                 count <= outmax --> fd (a temp file), buf (small files)
 *
 * A piece that would take a count over its limit stops the download with
 * HL_ETOOBIG; a bad gzip, or bytes after its end, with HL_EINVAL.  The
 * hashes are compared by the caller (hl_pull_fetch_file), once the body
 * has ended.
 */
#ifndef HL_SINK_H
#define HL_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct hl_sink;

/*
 * Makes a sink.  gz: inflate the bytes (one gzip member, nothing after
 * it).  fd: where the output goes (-1: nowhere); buf: also appended to
 * (NULL: not kept).  Without gz the output is the raw bytes and outmax is
 * ignored.  On success *out is owned by the caller; free with
 * hl_sink_free().  HL_ENOMEM.
 */
int	hl_sink_new(struct hl_sink **out, int gz, uint64_t rawmax,
	    uint64_t outmax, int fd, struct hl_buf *buf, struct hl_err *err);
void	hl_sink_free(struct hl_sink *s);

/* An hl_fetch_sink_fn: payload is the struct hl_sink. */
int	hl_sink_write(void *payload, const void *p, size_t n,
	    struct hl_err *err);

/*
 * Ends the body: HL_EINVAL when a gzip stopped before its end.  Then
 * raw and out receive the hex SHA-256 of the bytes received and of the
 * output (the same without gz), and *rawn and *outn their sizes.
 */
int	hl_sink_finish(struct hl_sink *s, char raw[65], uint64_t *rawn,
	    char out[65], uint64_t *outn, struct hl_err *err);

#endif
