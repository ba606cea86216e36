/*
 * test_blob: chunked gzip and hashing of published files, with and
 * without reuse of an earlier file's prefix; libdeflate's last chunk
 * (HL_BLOB_LIBDEFLATE) in memory and through a spool writer; the sweep
 * of spools a crash left.
 */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/fs.h>
#include <libdeflate.h>
#include <zlib.h>

#include "blob.h"
#include "spool.h"

/* n bytes of list-like text, the same for the same seed. */
static char *
text(size_t n, unsigned seed)
{
	char *p = malloc(n + 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = i % 37 == 36 ? '\n' : (char)('a' + (seed >> 16) % 26);
	}
	return p;
}

static void
check(const struct hl_blob *id, const struct hl_blob *gz, const char *want,
    size_t n)
{
	struct hl_buf out = HL_BUF_INIT;
	struct hl_err err = HL_ERR_INIT;
	char sha[65], md5[33];

	assert_int_equal(id->len, n);
	hl_digest(sha, md5, want, n);
	assert_string_equal(id->sha256, sha);
	assert_string_equal(id->md5, md5);
	/* the gzip's own hashes, which an append takes on from the memo */
	hl_digest(sha, md5, gz->data, gz->len);
	assert_string_equal(gz->sha256, sha);
	assert_string_equal(gz->md5, md5);
	assert_int_equal(hl_gunzip(&out, gz->data, gz->len, n + 1, &err), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data ? out.data : "", want, n);
	hl_buf_free(&out);
}

static void
chunked_gzip_decompresses_and_hashes_at_every_size(void **state)
{
	static const size_t sizes[] = { 0, 1, HL_BLOB_CHUNK - 1,
	    HL_BLOB_CHUNK, HL_BLOB_CHUNK + 1, 3 * HL_BLOB_CHUNK,
	    3 * HL_BLOB_CHUNK + 5 };
	struct hl_blob id, gz;
	struct hl_err err = HL_ERR_INIT;
	size_t i;
	char *p;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = text(sizes[i], 7);
		assert_int_equal(hl_blob_make(&id, &gz, NULL, p, sizes[i], 0, 6,
		    &err), 0);
		p = text(sizes[i], 7);
		check(&id, &gz, p, sizes[i]);
		free(p);
		hl_blob_clear(&id);
		hl_blob_clear(&gz);
	}
}

/*
 * id and gz (made through a memo) are the bytes and hashes a fresh make
 * of all's first len bytes gives at level, and read back; then cleared.
 */
static void
same_as_fresh(struct hl_blob *id, struct hl_blob *gz, const char *all,
    size_t len, int level)
{
	struct hl_blob id2, gz2;
	struct hl_err err = HL_ERR_INIT;
	char *p = malloc(len + 1);

	assert_non_null(p);
	memcpy(p, all, len);
	assert_int_equal(hl_blob_make(&id2, &gz2, NULL, p, len, 0, level,
	    &err), 0);
	assert_string_equal(id->sha256, id2.sha256);
	assert_string_equal(id->md5, id2.md5);
	assert_int_equal(gz->len, gz2.len);
	assert_memory_equal(gz->data, gz2.data, gz->len);
	assert_string_equal(gz->sha256, gz2.sha256);
	assert_string_equal(gz->md5, gz2.md5);
	check(id, gz, all, len);
	hl_blob_clear(id);
	hl_blob_clear(gz);
	hl_blob_clear(&id2);
	hl_blob_clear(&gz2);
}

/*
 * The first len bytes of all made through memo, its first keep bytes
 * unchanged since the memo's make, and checked against a fresh make.
 */
static void
grow(struct hl_blob_memo *memo, const char *all, size_t len, size_t keep,
    int level)
{
	struct hl_blob id, gz;
	struct hl_err err = HL_ERR_INIT;
	char *p = malloc(len + 1);

	assert_non_null(p);
	memcpy(p, all, len);
	assert_int_equal(hl_blob_make(&id, &gz, memo, p, len, keep, level,
	    &err), 0);
	same_as_fresh(&id, &gz, all, len, level);
}

/*
 * Growing a file through the memo gives the bytes and hashes of a fresh
 * make, the gzip's included.
 */
static void
an_append_reuses_the_prefix_and_gives_the_same_bytes(void **state)
{
	static const size_t steps[] = { 10, 3 * HL_BLOB_CHUNK + 100,
	    3 * HL_BLOB_CHUNK + 200, 4 * HL_BLOB_CHUNK, 5 * HL_BLOB_CHUNK + 1 };
	struct hl_blob_memo memo = { 0 };
	struct hl_blob id, gz;
	struct hl_err err = HL_ERR_INIT;
	size_t i, prev = 0;
	char *all = text(6 * HL_BLOB_CHUNK, 3), *p;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		grow(&memo, all, steps[i], prev, 1);
		if (i >= 2)
			assert_true(memo.at >= 3 * HL_BLOB_CHUNK);
		prev = steps[i];
	}
	/* A change inside the prefix: keep says so, nothing stale is used. */
	p = malloc(steps[4]);
	memcpy(p, all, steps[4]);
	p[100] ^= 1;
	assert_int_equal(hl_blob_make(&id, &gz, &memo, p, steps[4], 100, 1,
	    &err), 0);
	all[100] ^= 1;
	check(&id, &gz, all, steps[4]);
	hl_blob_clear(&id);
	hl_blob_clear(&gz);
	hl_blob_memo_clear(&memo);
	free(all);
}

/*
 * With HL_BLOB_SMALL_CHUNKS (a big list's open segment) the chunks are of
 * HL_BLOB_CHUNK_SMALL bytes: an append through the memo reuses all but
 * the last, and gives the bytes and hashes of a fresh make at that level.
 */
static void
small_chunks_append_as_a_fresh_make(void **state)
{
	static const size_t steps[] = { 10, 2 * HL_BLOB_CHUNK_SMALL + 100,
	    2 * HL_BLOB_CHUNK_SMALL + 300, 3 * HL_BLOB_CHUNK_SMALL,
	    3 * HL_BLOB_CHUNK_SMALL + 7 };
	int level = 6 | HL_BLOB_LIBDEFLATE | HL_BLOB_SMALL_CHUNKS;
	struct hl_blob_memo memo = { 0 };
	size_t i, prev = 0;
	char *all = text(4 * HL_BLOB_CHUNK_SMALL, 5);

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		grow(&memo, all, steps[i], prev, level);
		/* the state kept: at the start of the last small chunk */
		assert_int_equal(memo.at, (steps[i] - 1) /
		    HL_BLOB_CHUNK_SMALL * HL_BLOB_CHUNK_SMALL);
		prev = steps[i];
	}
	hl_blob_memo_clear(&memo);
	free(all);
}

/* The gzip libdeflate makes of p alone: our header, its deflate, trailer. */
static void
ld_gzip(struct hl_buf *out, const void *p, size_t n, int level)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	unsigned char t[8];
	size_t cap, k;

	assert_non_null(c);
	cap = libdeflate_deflate_compress_bound(c, n);
	assert_int_equal(hl_buf_put(out, hl_blob__gz_header, 10), 0);
	assert_int_equal(hl_buf_grow(out, cap + 8), 0);
	k = libdeflate_deflate_compress(c, p, n, out->data + out->len, cap);
	assert_true(k > 0);
	out->len += k;
	hl_blob__put_le32(t, crc32(0L, p, (uInt)n));
	hl_blob__put_le32(t + 4, (unsigned long)n);
	assert_int_equal(hl_buf_put(out, t, 8), 0);
	libdeflate_free_compressor(c);
}

/*
 * With HL_BLOB_LIBDEFLATE the last chunk is libdeflate's: a file of one
 * chunk is exactly libdeflate's gzip (not zlib's), and at every size the
 * .gz decompresses to the bytes; an append through the memo still gives
 * the bytes of a fresh make.
 */
static void
libdeflate_makes_the_last_chunk(void **state)
{
	static const size_t sizes[] = { 0, 1, 1000, HL_BLOB_CHUNK - 1,
	    HL_BLOB_CHUNK, HL_BLOB_CHUNK + 1, 3 * HL_BLOB_CHUNK + 5 };
	const int lv = 6 | HL_BLOB_LIBDEFLATE;
	struct hl_blob id, gz, zid, zgz;
	struct hl_blob_memo memo = { 0 };
	struct hl_buf want = HL_BUF_INIT;
	struct hl_err err = HL_ERR_INIT;
	size_t i, prev = 0;
	char *p;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = text(sizes[i], 11);
		assert_int_equal(hl_blob_make(&id, &gz, NULL, p, sizes[i], 0,
		    lv, &err), 0);
		p = text(sizes[i], 11);
		check(&id, &gz, p, sizes[i]);
		if (sizes[i] <= HL_BLOB_CHUNK) {
			hl_buf_reset(&want);
			ld_gzip(&want, p, sizes[i], 6);
			assert_int_equal(gz.len, want.len);
			assert_memory_equal(gz.data, want.data, want.len);
		}
		/* zlib's at the same level is another stream. */
		assert_int_equal(hl_blob_make(&zid, &zgz, NULL, p, sizes[i], 0,
		    6, &err), 0);
		if (sizes[i] > 1000)
			assert_true(zgz.len != gz.len ||
			    memcmp(zgz.data, gz.data, gz.len) != 0);
		hl_blob_clear(&id);
		hl_blob_clear(&gz);
		hl_blob_clear(&zid);
		hl_blob_clear(&zgz);
	}
	/* Appends reuse zlib's whole chunks and redo the last. */
	p = text(6 * HL_BLOB_CHUNK, 5);
	for (i = 2; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *a = malloc(sizes[i] + 1), *b = malloc(sizes[i] + 1);

		memcpy(a, p, sizes[i]);
		memcpy(b, p, sizes[i]);
		assert_int_equal(hl_blob_make(&id, &gz, &memo, a, sizes[i],
		    prev, lv, &err), 0);
		assert_int_equal(hl_blob_make(&zid, &zgz, NULL, b, sizes[i], 0,
		    lv, &err), 0);
		assert_int_equal(gz.len, zgz.len);
		assert_memory_equal(gz.data, zgz.data, gz.len);
		check(&id, &gz, p, sizes[i]);
		hl_blob_clear(&id);
		hl_blob_clear(&gz);
		hl_blob_clear(&zid);
		hl_blob_clear(&zgz);
		prev = sizes[i];
	}
	hl_blob_memo_clear(&memo);
	hl_buf_free(&want);
	free(p);
}

/*
 * The gzip of p in small chunks as fresh zlib streams make it: each
 * chunk's own deflateInit2, the 32 KB before it as its dictionary, a full
 * flush but for the last.
 */
static void
fresh_zlib_gzip(struct hl_buf *out, const unsigned char *p, size_t n,
    int level)
{
	unsigned char t[8];
	size_t off = 0, k, dn;
	z_stream z;

	assert_int_equal(hl_buf_put(out, hl_blob__gz_header, 10), 0);
	do {
		k = n - off < HL_BLOB_CHUNK_SMALL ? n - off :
		    HL_BLOB_CHUNK_SMALL;
		dn = off < 32768 ? off : 32768;
		memset(&z, 0, sizeof(z));
		assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, -15, 8,
		    Z_DEFAULT_STRATEGY), Z_OK);
		if (dn > 0)
			assert_int_equal(deflateSetDictionary(&z, p + off - dn,
			    (uInt)dn), Z_OK);
		assert_int_equal(hl_buf_grow(out, deflateBound(&z, k) + 16),
		    0);
		z.next_in = (Bytef *)(uintptr_t)(p + off);
		z.avail_in = (uInt)k;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)(deflateBound(&z, k) + 16);
		assert_true(deflate(&z, off + k == n ? Z_FINISH :
		    Z_FULL_FLUSH) >= Z_OK);
		out->len = (size_t)((char *)z.next_out - out->data);
		deflateEnd(&z);
		off += k;
	} while (off < n);
	hl_blob__put_le32(t, crc32(0L, p, (uInt)n));
	hl_blob__put_le32(t + 4, (unsigned long)n);
	assert_int_equal(hl_buf_put(out, t, 8), 0);
}

/*
 * A thread's zlib stream is reset and kept from chunk to chunk, file to
 * file and level to level (blob.c): every file still has the bytes fresh
 * streams give, whatever was compressed before it on the thread.
 */
static void
a_kept_zlib_stream_gives_the_bytes_of_a_fresh_one(void **state)
{
	static const int levels[] = { 1, 6, 1, 9, 1 };
	static const size_t sizes[] = { 5 * HL_BLOB_CHUNK_SMALL + 77, 100,
	    2 * HL_BLOB_CHUNK_SMALL, 3 * HL_BLOB_CHUNK_SMALL + 1, 40000 };
	struct hl_buf want = HL_BUF_INIT;
	struct hl_err err = HL_ERR_INIT;
	struct hl_blob id, gz;
	size_t i;
	char *p;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = text(sizes[i], (unsigned)i + 3);
		hl_buf_reset(&want);
		fresh_zlib_gzip(&want, (const unsigned char *)p, sizes[i],
		    levels[i]);
		assert_int_equal(hl_blob_make(&id, &gz, NULL, p, sizes[i], 0,
		    levels[i] | HL_BLOB_SMALL_CHUNKS, &err), 0);
		assert_int_equal(gz.len, want.len);
		assert_memory_equal(gz.data, want.data, want.len);
		hl_blob_clear(&id);
		hl_blob_clear(&gz);
	}
	hl_buf_free(&want);
}

/*
 * HL_BLOB_NO_MD5 leaves the identity's md5 "" and changes nothing else:
 * the gzip's bytes, its MD5 and the SHA-256s of a make with MD5, in one
 * make and through an append's memo.
 */
static void
no_md5_changes_nothing_else(void **state)
{
	static const size_t sizes[] = { 3 * HL_BLOB_CHUNK_SMALL + 5,
	    4 * HL_BLOB_CHUNK_SMALL + 9, 4 * HL_BLOB_CHUNK_SMALL + 900 };
	const int lv = 1 | HL_BLOB_LIBDEFLATE | HL_BLOB_SMALL_CHUNKS;
	struct hl_blob_memo memo = { 0 };
	struct hl_err err = HL_ERR_INIT;
	struct hl_blob id, gz, nid, ngz;
	size_t i, prev = 0;
	char *all = text(5 * HL_BLOB_CHUNK_SMALL, 9), *p;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = malloc(sizes[i]);
		memcpy(p, all, sizes[i]);
		assert_int_equal(hl_blob_make(&id, &gz, NULL, p, sizes[i], 0,
		    lv, &err), 0);
		p = malloc(sizes[i]);
		memcpy(p, all, sizes[i]);
		assert_int_equal(hl_blob_make(&nid, &ngz, &memo, p, sizes[i],
		    prev, lv | HL_BLOB_NO_MD5, &err), 0);
		assert_string_equal(nid.sha256, id.sha256);
		assert_string_equal(ngz.sha256, gz.sha256);
		assert_string_equal(nid.md5, "");
		assert_string_equal(ngz.md5, gz.md5);
		assert_true(strlen(id.md5) == 32 && strlen(gz.md5) == 32);
		assert_int_equal(ngz.len, gz.len);
		assert_memory_equal(ngz.data, gz.data, gz.len);
		hl_blob_clear(&id);
		hl_blob_clear(&gz);
		hl_blob_clear(&nid);
		hl_blob_clear(&ngz);
		prev = sizes[i];
	}
	hl_blob_memo_clear(&memo);
	free(all);
}

/* The bytes of a spooled blob. */
static char *
slurp(const struct hl_blob *b)
{
	char *p = malloc(b->len + 1);
	int fd = open(b->spool, O_RDONLY);

	assert_non_null(p);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, p, b->len + 1), (ssize_t)b->len);
	close(fd);
	return p;
}

/*
 * A spool writer given HL_BLOB_LIBDEFLATE writes what hl_blob_make does at
 * the level a big file takes (HL_BLOB_GZIP_BIG_LEVEL), flag kept: written
 * in odd pieces, at one chunk and at several.
 */
static void
a_spool_writer_gives_the_bytes_of_memory_with_libdeflate(void **state)
{
	static const size_t sizes[] = { 1000, HL_BLOB_CHUNK,
	    3 * HL_BLOB_CHUNK + 5 };
	struct hl_spool *sp;
	struct hl_spool_w *w;
	struct hl_blob id, gz, mid, mgz;
	struct hl_err err = HL_ERR_INIT;
	char dir[] = "/tmp/test_blob.XXXXXX", *p, *q;
	size_t i, off, k;
	int lv;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(hl_spool_new(&sp, dir, &err), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = text(sizes[i], 13);
		assert_int_equal(hl_spool_w_open(&w, sp, 6 | HL_BLOB_LIBDEFLATE,
		    NULL, NULL, NULL, 0, &err), 0);
		for (off = 0; off < sizes[i]; off += k) {
			k = sizes[i] - off < 77777 ? sizes[i] - off : 77777;
			assert_int_equal(hl_spool_w_write(w, p + off, k, &err),
			    0);
		}
		assert_int_equal(hl_spool_w_close(&id, &gz, NULL, w, &err), 0);
		lv = (sizes[i] > HL_BLOB_GZIP_BIG ? HL_BLOB_GZIP_BIG_LEVEL : 6) |
		    HL_BLOB_LIBDEFLATE;
		q = malloc(sizes[i]);
		memcpy(q, p, sizes[i]);
		assert_int_equal(hl_blob_make(&mid, &mgz, NULL, q, sizes[i], 0,
		    lv, &err), 0);
		assert_string_equal(id.sha256, mid.sha256);
		assert_string_equal(gz.sha256, mgz.sha256);
		assert_string_equal(gz.md5, mgz.md5);
		assert_int_equal(gz.len, mgz.len);
		q = slurp(&gz);
		assert_memory_equal(q, mgz.data, mgz.len);
		free(q);
		hl_blob_clear(&id);
		hl_blob_clear(&gz);
		hl_blob_clear(&mid);
		hl_blob_clear(&mgz);
		free(p);
	}
	hl_spool_free(sp);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * hl_spool_sweep removes the spools a crash left (their files with them)
 * and keeps a live one, held by this process or by another; it leaves
 * other names and a link to a directory alone.
 */
static void
stale_spools_are_swept_and_live_ones_kept(void **state)
{
	struct hl_spool *live;
	struct hl_err err = HL_ERR_INIT;
	struct stat st;
	char dir[] = "/tmp/test_blob.XXXXXX", path[256], other[256];
	size_t n;
	int fd, up[2], down[2];
	pid_t pid;
	char c;

	assert_non_null(mkdtemp(dir));
	/* Two left by a crash: one with files, one empty. */
	snprintf(path, sizeof(path), "%s/helios-spool.abc123", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/helios-spool.abc123/1.gz", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644)) >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	snprintf(path, sizeof(path), "%s/helios-spool.zzzzzz", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	/* ... and one in subdirectories (hl_spool_new's layout). */
	snprintf(path, sizeof(path), "%s/helios-spool.sub123", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/helios-spool.sub123/3", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/helios-spool.sub123/3/11.gz", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	/* Not spools: another name, and a link to a directory. */
	snprintf(path, sizeof(path), "%s/helios-spool.toolong1", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(other, sizeof(other), "%s/helios-spool.link00", dir);
	assert_int_equal(symlink(path, other), 0);
	/* A live one in this process, and one another process holds. */
	assert_int_equal(hl_spool_new(&live, dir, &err), 0);
	snprintf(path, sizeof(path), "%s/helios-spool.other1", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	if ((pid = fork()) == 0) {
		close(up[0]);
		close(down[1]);
		fd = open(path, O_RDONLY | O_DIRECTORY);
		if (fd < 0 || flock(fd, LOCK_EX) != 0)
			_exit(1);
		(void)write(up[1], "l", 1);
		(void)read(down[0], &c, 1);	/* until the parent closes */
		_exit(0);
	}
	assert_true(pid > 0);
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);
	close(up[0]);

	assert_int_equal(hl_spool_sweep(&n, dir, &err), 0);
	assert_int_equal(n, 3);
	snprintf(path, sizeof(path), "%s/helios-spool.abc123", dir);
	assert_int_not_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/helios-spool.sub123", dir);
	assert_int_not_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/helios-spool.zzzzzz", dir);
	assert_int_not_equal(lstat(path, &st), 0);
	assert_int_equal(stat(hl_spool_dir(live), &st), 0);
	snprintf(path, sizeof(path), "%s/helios-spool.other1", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/helios-spool.toolong1", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(lstat(other, &st), 0);

	/* Once its process is gone, the other is stale too. */
	close(down[1]);
	waitpid(pid, NULL, 0);
	assert_int_equal(hl_spool_sweep(&n, dir, &err), 0);
	assert_int_equal(n, 1);
	snprintf(path, sizeof(path), "%s/helios-spool.other1", dir);
	assert_int_not_equal(lstat(path, &st), 0);
	hl_spool_free(live);
	unlink(other);
	snprintf(path, sizeof(path), "%s/helios-spool.toolong1", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
	/* A parent that cannot be read: an error, with its name. */
	assert_int_equal(hl_spool_sweep(&n, "/nonexistent/helios", &err),
	    HL_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/helios"));
}

/*
 * Can directories under dir carry FS_TOPDIR_FL?  (ext4 yes; tmpfs, a
 * file system that does not know the flag, no.)
 */
static int
topdir_supported(const char *dir)
{
	char path[256];
	int fd, fl, ok = 0;

	snprintf(path, sizeof(path), "%s/probe", dir);
	if (mkdir(path, 0700) != 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY)) >= 0) {
		if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0) {
			fl |= FS_TOPDIR_FL;
			ok = ioctl(fd, FS_IOC_SETFLAGS, &fl) == 0 &&
			    ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0 &&
			    (fl & FS_TOPDIR_FL);
		}
		close(fd);
	}
	(void)rmdir(path);
	return ok;
}

/*
 * A spool's files are spread over its subdirectories, whose parent is
 * marked a top directory where the file system knows the flag (spool.c:
 * ext4 then places each subdirectory in a group of its own choosing), and
 * hl_spool_free removes them all.
 */
static void
a_spool_spreads_its_files_over_subdirectories(void **state)
{
	struct hl_spool *sp;
	struct hl_err err = HL_ERR_INIT;
	struct hl_blob b[16];
	char dir[] = "/tmp/test_blob.XXXXXX", parent[256], seen[16][256];
	size_t i, k, nseen = 0, plen;
	int fd, fl;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(hl_spool_new(&sp, dir, &err), 0);
	plen = strlen(hl_spool_dir(sp));
	for (i = 0; i < 16; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		assert_int_equal(hl_blob_take(&b[i], strdup("abc"), 3, &err),
		    0);
		assert_int_equal(hl_spool_blob(&b[i], sp, &err), 0);
		/* <spool>/<subdirectory>/<name> */
		assert_memory_equal(b[i].spool, hl_spool_dir(sp), plen);
		assert_int_equal(b[i].spool[plen], '/');
		snprintf(parent, sizeof(parent), "%s", b[i].spool);
		*strrchr(parent, '/') = '\0';
		assert_true(strlen(parent) > plen);
		assert_null(strchr(parent + plen + 1, '/'));
		for (k = 0; k < nseen && strcmp(seen[k], parent) != 0; k++)
			;
		if (k == nseen)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", parent);
	}
	assert_true(nseen >= 4);
	if (topdir_supported(dir)) {
		assert_true((fd = open(hl_spool_dir(sp), O_RDONLY |
		    O_DIRECTORY)) >= 0);
		assert_int_equal(ioctl(fd, FS_IOC_GETFLAGS, &fl), 0);
		assert_true(fl & FS_TOPDIR_FL);
		close(fd);
	} else
		print_message("(%s: no FS_TOPDIR_FL here, not checked)\n",
		    dir);
	for (i = 0; i < 16; i++)
		hl_blob_clear(&b[i]);
	hl_spool_free(sp);
	assert_int_equal(rmdir(dir), 0);	/* nothing left behind */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    chunked_gzip_decompresses_and_hashes_at_every_size),
		cmocka_unit_test(
		    an_append_reuses_the_prefix_and_gives_the_same_bytes),
		cmocka_unit_test(small_chunks_append_as_a_fresh_make),
		cmocka_unit_test(libdeflate_makes_the_last_chunk),
		cmocka_unit_test(
		    a_kept_zlib_stream_gives_the_bytes_of_a_fresh_one),
		cmocka_unit_test(no_md5_changes_nothing_else),
		cmocka_unit_test(
		    a_spool_writer_gives_the_bytes_of_memory_with_libdeflate),
		cmocka_unit_test(stale_spools_are_swept_and_live_ones_kept),
		cmocka_unit_test(
		    a_spool_spreads_its_files_over_subdirectories),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
