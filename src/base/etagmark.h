/*
 * etagmark: the ETag a writer of the published tree leaves on a file it
 * wrote, so that a server of that directory need not hash the file again.
 *
 * The mark is an extended attribute (HL_ETAGMARK_XATTR) of the file's
 * inode: "<size> <mtime seconds> <mtime nanoseconds> <ETag>", the ETag
 * being the quoted MD5 of the bytes (as the manifest names it and S3
 * sends it).  It holds only while the file keeps that size and mtime: a
 * file changed in place after it was marked (which moves its mtime) is
 * hashed again, as is one on a file system without user attributes.
 * pub_dir writes the mark; the daemon's static table reads it.  A file
 * without one is hashed (hl_etagmark_hash).
 */
#ifndef HL_ETAGMARK_H
#define HL_ETAGMARK_H

#include <sys/stat.h>

#include <stddef.h>

#define HL_ETAGMARK_XATTR	"user.helios.etag"
#define HL_ETAGMARK_LEN		35	/* '"' + 32 hex + '"' + NUL */

/*
 * Marks the file open on fd (written, st its fstat) with md5, 32
 * lower-case hex digits.  0, or -1 with errno (ENOTSUP: no attributes
 * here), which a writer may ignore: the mark only saves work.
 */
int	hl_etagmark_set(int fd, const struct stat *st, const char *md5);

/*
 * The ETag marked on the file open on fd, whose fstat is st, into etag:
 * 0 when a well-formed mark of this size and mtime is there, else -1.
 */
int	hl_etagmark_get(char etag[HL_ETAGMARK_LEN], int fd,
	    const struct stat *st);

/* The ETag of a 16-byte MD5: '"', 32 lower-case hex digits, '"'. */
void	hl_etagmark_quote(char etag[HL_ETAGMARK_LEN],
	    const unsigned char md[16]);

/*
 * The ETag of the file open on fd, whose fstat is st, by reading its
 * st_size bytes: for a file with no mark.  0, HL_ENOMEM, or HL_EIO (also
 * when the file is shorter than st says).
 */
int	hl_etagmark_hash(char etag[HL_ETAGMARK_LEN], int fd,
	    const struct stat *st);

#endif
