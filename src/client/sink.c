/*
 * sink: hashes, counts, inflates and writes a download as it arrives
 * (see sink.h).  zlib's inflate and libcrypto's SHA-256 do the work; the
 * only memory is one 64 KiB output buffer and their contexts.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "sink.h"

#define SINK_OUT	65536

struct hl_sink {
	int		 gz;
	int		 zinit;
	int		 zend;		/* the gzip member has ended */
	z_stream	 z;
	uint64_t	 rawmax;
	uint64_t	 outmax;
	uint64_t	 rawn;
	uint64_t	 outn;
	EVP_MD_CTX	*rawsha;
	EVP_MD_CTX	*outsha;
	int		 fd;
	struct hl_buf	*buf;
	unsigned char	 tmp[SINK_OUT];
};

int
hl_sink_new(struct hl_sink **out, int gz, uint64_t rawmax, uint64_t outmax,
    int fd, struct hl_buf *buf, struct hl_err *err)
{
	struct hl_sink *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	s->gz = gz;
	s->rawmax = rawmax;
	s->outmax = gz ? outmax : rawmax;
	s->fd = fd;
	s->buf = buf;
	if ((s->rawsha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->rawsha, EVP_sha256(), NULL) != 1 ||
	    (gz && ((s->outsha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->outsha, EVP_sha256(), NULL) != 1))) {
		hl_sink_free(s);
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	}
	if (gz) {
		if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
			hl_sink_free(s);
			return hl_err_set(err, HL_ENOMEM,
			    "inflateInit2 failed");
		}
		s->zinit = 1;
	}
	*out = s;
	return 0;
}

void
hl_sink_free(struct hl_sink *s)
{
	if (s == NULL)
		return;
	if (s->zinit)
		inflateEnd(&s->z);
	EVP_MD_CTX_free(s->rawsha);
	EVP_MD_CTX_free(s->outsha);
	free(s);
}

/* Counts, hashes (when sha is not NULL) and writes n bytes of output. */
static int
emit(struct hl_sink *s, EVP_MD_CTX *sha, const unsigned char *p, size_t n,
    struct hl_err *err)
{
	ssize_t w;

	if (n > s->outmax - s->outn)
		return hl_err_set(err, HL_ETOOBIG, "%s %llu bytes",
		    s->gz ? "decompresses to more than" : "longer than",
		    (unsigned long long)s->outmax);
	s->outn += n;
	if (sha != NULL)
		EVP_DigestUpdate(sha, p, n);
	if (s->buf != NULL && hl_buf_put(s->buf, p, n) != 0)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	while (s->fd != -1 && n > 0) {
		w = write(s->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return hl_err_set(err, HL_EGENERIC, "write: %s",
			    strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
hl_sink_write(void *payload, const void *p, size_t n, struct hl_err *err)
{
	struct hl_sink *s = payload;
	size_t made;
	int zrc, rc;

	if (s->zend && n > 0)
		return hl_err_set(err, HL_EINVAL, "bytes after the end of"
		    " the gzip stream");
	if (n > s->rawmax - s->rawn)
		return hl_err_set(err, HL_ETOOBIG, "longer than %llu bytes",
		    (unsigned long long)s->rawmax);
	s->rawn += n;
	EVP_DigestUpdate(s->rawsha, p, n);
	if (!s->gz)	/* the output is the input, already hashed */
		return emit(s, NULL, p, n, err);
	if (n == 0)
		return 0;
	while (n > 0) {
		size_t piece = n > UINT_MAX ? UINT_MAX : n;

		s->z.next_in = (Bytef *)(uintptr_t)p;
		s->z.avail_in = (uInt)piece;
		p = (const unsigned char *)p + piece;
		n -= piece;
		for (;;) {
			s->z.next_out = s->tmp;
			s->z.avail_out = SINK_OUT;
			zrc = inflate(&s->z, Z_NO_FLUSH);
			if (zrc != Z_OK && zrc != Z_STREAM_END &&
			    zrc != Z_BUF_ERROR)
				return hl_err_set(err, HL_EINVAL,
				    "bad gzip: %s", s->z.msg ? s->z.msg :
				    "corrupt data");
			made = SINK_OUT - s->z.avail_out;
			if (made > 0 && (rc = emit(s, s->outsha, s->tmp, made,
			    err)) != 0)
				return rc;
			if (zrc == Z_STREAM_END) {
				s->zend = 1;
				if (s->z.avail_in > 0 || n > 0)
					return hl_err_set(err, HL_EINVAL,
					    "bytes after the end of the gzip"
					    " stream");
				return 0;
			}
			if (s->z.avail_out != 0 || (zrc == Z_BUF_ERROR &&
			    made == 0))
				break;
		}
	}
	return 0;
}

static void
hex(char out[65], EVP_MD_CTX *sha)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char d[32];
	size_t i;

	EVP_DigestFinal_ex(sha, d, NULL);
	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[64] = '\0';
}

int
hl_sink_finish(struct hl_sink *s, char raw[65], uint64_t *rawn,
    char out[65], uint64_t *outn, struct hl_err *err)
{
	if (s->gz && !s->zend)
		return hl_err_set(err, HL_EINVAL, "bad gzip: truncated"
		    " stream");
	hex(raw, s->rawsha);
	*rawn = s->rawn;
	if (s->gz)
		hex(out, s->outsha);
	else
		memcpy(out, raw, 65);
	*outn = s->outn;
	return 0;
}
