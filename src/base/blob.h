/*
 * blob: bytes with their hashes, and deterministic gzip.
 *
 * Every published file is hashed exactly once, when it is made: SHA-256
 * for integrity and object names, MD5 for the ETag that S3 (and the
 * daemon's own server) sends, but for a big list's segments
 * (HL_BLOB_NO_MD5).  gzip output carries no file name and a
 * zero time stamp, so the same input always gives the same bytes.
 */
#ifndef HL_BLOB_H
#define HL_BLOB_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct hl_blob {
	unsigned char	*data;	/* malloc'd; NULL when spooled */
	size_t		 len;
	char		*spool;	/* malloc'd path of the file holding the
				   bytes when data is NULL (spool.h); the
				   blob owns the file: clearing it unlinks */
	char		 sha256[65];
	char		 md5[33];	/* "": made without (HL_BLOB_NO_MD5) */
};

/*
 * Compression levels of published .gz files.  Measured on a 1M-item list
 * (70.9 MB of text, 204.8 MB of JSON): level 1 gives 6.08 / 15.61 MB in
 * 190 / 611 ms, level 6 gives 5.76 / 13.05 MB in 381 / 1375 ms, level 9
 * 5.55 / 12.21 MB in 1156 / 2593 ms.  On real list text (less repetitive)
 * zlib runs at about 117 MB/s at level 1 and 34 MB/s at level 6.  Small
 * files (most lists, the manifest, change segments) take level 6: a few
 * percent smaller for time nobody notices.  Files over HL_BLOB_GZIP_BIG
 * (watched_keywords.txt and its JSON, at real size) take level 1, a third
 * of the time for 5-19% more bytes, so that a change is visible sooner;
 * clients of big lists mostly fetch the change segments anyway.
 */
#define HL_BLOB_GZIP_LEVEL	6
#define HL_BLOB_GZIP_BIG	(256 * 1024)
#define HL_BLOB_GZIP_BIG_LEVEL	1

/*
 * Takes ownership of data (malloc'd, len bytes) and hashes it.
 * HL_ENOMEM on failure, in which case data is freed.
 */
int	hl_blob_take(struct hl_blob *b, void *data, size_t len,
	    struct hl_err *err);
void	hl_blob_clear(struct hl_blob *b);

/*
 * Published files are compressed in independent chunks of HL_BLOB_CHUNK
 * input bytes (raw deflate, each chunk but the last ended with a full
 * flush, as pigz does), one gzip member with one CRC: any gunzip reads it.
 * Because chunks do not refer to each other, a file that grew at its end
 * reuses the compressed chunks, CRCs and hash states of its unchanged
 * prefix: a new pattern costs the last chunk, not the whole list.
 */
#define HL_BLOB_CHUNK	(256 * 1024)

/*
 * ORed into a level: the last chunk of a file (the whole of a file of one
 * chunk) is compressed by libdeflate at that level instead of zlib.  Its
 * raw deflate ends the stream as zlib's Z_FINISH does, so the file is
 * the same kind of gzip.  Measured side by side on the JSON segments of
 * a 1M-item list (204.8 MB in ~110 KB segments, CPU time, one thread):
 * zlib 6 1458 ms / 13.53 MB, zlib 1 436 ms / 16.37 MB; libdeflate 6
 * 1073 ms / 11.60 MB, 4 722 ms / 13.00 MB, 1 329 ms / 15.38 MB.  Chunks
 * before the last stay zlib's (a full flush, which libdeflate cannot end
 * a block with).  The generator asks for it for every file (snapshot.c,
 * hl_snap_new): at real size a build after one new pattern took 5.98 ms
 * of CPU against 7.28 with zlib alone (medians of three alternated runs
 * of 200 builds each).  The bytes are still a function of the input and the level.
 */
#define HL_BLOB_LIBDEFLATE	0x100
/*
 * ORed into a level: chunks of HL_BLOB_CHUNK_SMALL input bytes instead of
 * HL_BLOB_CHUNK, for a file made again after each append that stays
 * under HL_BLOB_CHUNK (a big list's open JSON segment, listseg.h): an
 * append then compresses and hashes its last 64 KB, not the whole file.
 * Each chunk after the first is compressed with the 32 KB before it as
 * zlib's preset dictionary (and by zlib, the last too), so it may refer
 * back as one stream does: without, the segments of a real-size
 * watch-keyword took 36% more gzip bytes.  Never for a file the spool
 * writes (spool.h keeps HL_BLOB_CHUNK).
 */
#define HL_BLOB_SMALL_CHUNKS	0x200
/*
 * ORed into a level: no MD5 of the identity bytes (id's md5 left ""), for
 * the content-addressed objects no manifest lists, a big list's segments
 * (listseg.h).  Their ETag is made where one is served: the daemon's
 * server hashes a file its writer marked no ETag on at its first request
 * (static.c), S3 makes its own and checks an upload against the SHA-256
 * its signature carries (pub_s3.c).  Most segments are never fetched
 * again: at a million items this spares 205 MB of MD5, about 0.27 s of a
 * full build's CPU.  The gzip, a tenth of the bytes, keeps its MD5: pub_s3
 * checks a held gzip object against it (listseg.h says why).
 */
#define HL_BLOB_NO_MD5		0x400
#define HL_BLOB_CHUNK_SMALL	(64 * 1024)
#define HL_BLOB_LEVEL(l)	((l) & 0xff)

struct hl_blob_memo {
	size_t		 at;	/* bytes covered: whole chunks, never the last */
	int		 level;
	void		*sha;	/* EVP_MD_CTX after `at` bytes */
	void		*md5;	/* (NULL: made without, HL_BLOB_NO_MD5) */
	void		*gzsha;	/* the gzip's, after its header and z[0..n) */
	void		*gzmd5;	/* (NULL: none kept) */
	unsigned char	**z;	/* compressed chunk k, zlen[k] bytes */
	size_t		*zlen;
	unsigned long	*crc;	/* crc32 of chunk k's input */
	size_t		 n;
};

/*
 * Makes id (taking data, len bytes) and gz, its chunked gzip.  When memo
 * holds the state of an earlier file whose first keep bytes equal data's,
 * the chunks and hash states below keep are reused; memo is then updated
 * for the next call.  memo may be NULL.  On error id and gz are empty
 * (data is freed) and memo is cleared.
 */
int	hl_blob_make(struct hl_blob *id, struct hl_blob *gz,
	    struct hl_blob_memo *memo, void *data, size_t len, size_t keep,
	    int level, struct hl_err *err);
void	hl_blob_memo_clear(struct hl_blob_memo *m);

/*
 * Semi-private, for spool.c: one chunk as raw deflate (a full flush unless
 * last) into *out (malloc'd, *outlen bytes); the gzip header.  HL_ENOMEM,
 * HL_EIO.
 */
int	hl_blob__deflate_chunk(unsigned char **out, size_t *outlen,
	    const unsigned char *p, size_t len, int level, int last);
extern const unsigned char hl_blob__gz_header[10];
/* Semi-private, for base/: n bytes as lower-case hex, NUL-ended. */
void	hl_blob__hex(char *out, const unsigned char *p, size_t n);
/* Semi-private, for spool.c: v as 4 little-endian bytes (gzip trailer). */
void	hl_blob__put_le32(unsigned char *p, unsigned long v);

/* Lower-case hex SHA-256 and MD5 of p; either may be NULL: not made. */
void	hl_digest(char sha256[65], char md5[33], const void *p, size_t len);
/* 1 when s is a lower-case hex SHA-256 (64 digits), as hl_digest writes. */
int	hl_digest_is_sha256(const char *s);
/* gzip of p, appended to out.  No name, mtime 0, OS 3 (unix). */
int	hl_gzip(struct hl_buf *out, const void *p, size_t len, int level,
	    struct hl_err *err);
/* Decompresses a gzip stream, at most max bytes out.  HL_EINVAL if bad. */
int	hl_gunzip(struct hl_buf *out, const void *p, size_t len, size_t max,
	    struct hl_err *err);

#endif
