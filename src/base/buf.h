/*
 * buf: a growable byte buffer, the one way Helios assembles output
 * (JSON bodies, rendered lists, gzip streams).
 *
 * The bytes are always followed by a NUL that is not counted in len, so a
 * buffer of text can be used as a C string.  On allocation failure a
 * function returns HL_ENOMEM and leaves the buffer as it was.
 */
#ifndef HL_BUF_H
#define HL_BUF_H

#include <stddef.h>

struct hl_buf {
	char	*data;	/* NULL until the first write */
	size_t	 len;
	size_t	 cap;
};

#define HL_BUF_INIT { NULL, 0, 0 }

int	hl_buf_grow(struct hl_buf *b, size_t extra);
int	hl_buf_put(struct hl_buf *b, const void *p, size_t n);
int	hl_buf_puts(struct hl_buf *b, const char *s);
int	hl_buf_putc(struct hl_buf *b, int c);
int	hl_buf_printf(struct hl_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void	hl_buf_reset(struct hl_buf *b);
/* Hands the bytes to the caller (free()) and empties the buffer. */
char	*hl_buf_detach(struct hl_buf *b, size_t *len);
void	hl_buf_free(struct hl_buf *b);

/* The value of a hex digit (either case), or -1: for %XX decoders. */
int	hl_hexval(int c);

#endif
