/*
 * pub_git: publishes each version of the tree as one commit on a git pages
 * branch, with libgit2 only (see pub_git.h for the URL, the credentials
 * and the cache).
 *
 * One publish:
 *
 *   1. where is the branch: the refs the remote advertises on the push
 *      connection (the tip is fetched only if the cache lacks it), or the
 *      ref itself for a file:// target written in place;
 *   2. check that the tip is ours: the commit this target last pushed, one
 *      of our own unpushed commits, or (first publish from this cache) a
 *      commit carrying the Helios-Version trailer.  Anything else is
 *      someone else's work: HL_ECONFLICT, nothing written, unless force=1;
 *   3. build the tree in memory: one blob per file, reused by id when the
 *      file's sha256 is one the last tree had, under any path (no
 *      re-hashing), one treebuilder per directory, and an empty
 *      .nojekyll at the top so GitHub Pages serves the tree as it is;
 *   4. commit on top of the newest of our commits (so versions that could
 *      not be pushed are kept and go out with the next one), unless the
 *      parent already has this tree;
 *   5. push refs/heads/BRANCH (and refs/tags/vN with tag=1), or for a
 *      file:// target move the branch by compare-and-swap.
 *
 * Unchanged directories give the same tree ids and unchanged files the
 * same blob ids, so a commit writes only what changed, and a push sends
 * only those objects: over http(s) as a thin pack (gitthin.h), the changed
 * files as deltas against the versions at the remote's tip, so that a
 * one-line change to a 1.85 MB list sends a few hundred bytes, not the
 * list.  With objects=0 the objects/ copies of the tree's own files are
 * left out (pub_git.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "blob.h"
#include "buf.h"
#include "gitcache.h"
#include "gitmem.h"
#include "gitstream.h"
#include "gitthin.h"
#include "log.h"
#include "item.h"
#include "pub_git.h"
#include "sdfiles.h"
#include "target.h"

#define MAX_CRED_FILE	8192
#define MAX_TAGS	64
#define PACK_EVERY	16	/* publishes between looks at the loose objects */

/*
 * Blob ids by content: an open-addressing table keyed by the files'
 * sha256 (an empty slot has sha256[0] == 0).  The table of the last
 * publish answers for unchanged files, whatever their path (objects/<h>
 * is the same blob as the list it copies), so they are not even hashed.
 */
struct memo {
	char	sha256[65];
	git_oid	oid;
};

struct hl_pub_git {
	struct hl_pub_git__url	 u;
	struct hl_pub_git__cred	 c;
	char			 author[256];
	char			 email[256];
	git_repository		*repo;
	struct memo		*memo;		/* of the last tree */
	size_t			 nmemo;		/* slots, a power of 2 */
	char			*tags[MAX_TAGS];	/* to push */
	size_t			 ntags;
	char			 head[GIT_OID_HEXSZ + 1];
	int			 direct;	/* file://: repo is the target */
	git_oid			 pushed;	/* direct: the last commit */
	int			 pushed_set;
	uint64_t		 pack_min;	/* see pack_loose() */
	unsigned		 publishes;	/* since open */
	struct hl_gitmem	*mem;		/* a cache's new objects */
	/* Big blobs by their bytes (see note_blob(), keep_blobs()). */
	struct hl_gitthin_blob	*cur;		/* this tree's, into its files */
	size_t			 ncur, capcur;
	struct hl_gitthin_blob	*kept;		/* the last push's, copies */
	size_t			 nkept;
};

/* What every remote callback receives. */
struct op {
	struct hl_pub_git__cred	*c;
	int			 rejected;
	char			 reject[200];
	struct hl_gitthin_push	 thin;	/* over HTTP: the push connection's */
};

static pthread_once_t	git_once = PTHREAD_ONCE_INIT;
static int		git_init_rc;

static struct hl_err	git_init_err = HL_ERR_INIT;

/*
 * libgit2, on the stream of gitstream.h (TCP_NODELAY, stall limits),
 * trusting the CAs of $SSL_CERT_FILE for https when it is set.  Without
 * strict object creation: each tree entry would be looked up before it
 * is inserted, and every object a tree or commit of ours names was just
 * written, or named by the tree before (a fifth of building a tree).
 */
static void
git_init(void)
{
	const char *ca = getenv("SSL_CERT_FILE");

	if ((git_init_rc = git_libgit2_init()) < 0)
		(void)hl_pub_git__error(&git_init_err, git_init_rc, NULL,
		    "libgit2");
	else if ((git_init_rc = git_libgit2_opts(
	    GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0)) < 0)
		(void)hl_pub_git__error(&git_init_err, git_init_rc, NULL,
		    "libgit2");
	else if (hl_gitstream_register(&git_init_err) != 0)
		git_init_rc = -1;
	else if (ca != NULL && *ca != '\0' && (git_init_rc =
	    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca, NULL)) < 0)
		(void)hl_pub_git__error(&git_init_err, git_init_rc, NULL,
		    "SSL_CERT_FILE");
}

/* Once per process; the stall limit is read again on each call. */
int
hl_pub_git__init(struct hl_err *err)
{
	pthread_once(&git_once, git_init);
	if (git_init_rc < 0)
		return hl_err_set(err, git_init_err.code, "%s",
		    git_init_err.msg);
	return hl_gitstream_timeout_env(err);
}

int
hl_pub_git__error(struct hl_err *err, int rc, const struct hl_pub_git__cred *c,
    const char *what)
{
	const git_error *e = git_error_last();
	const char *m = e != NULL && e->message != NULL ? e->message :
	    "unknown error";
	int code = HL_EIO;

	if (c != NULL && c->missing)
		return hl_err_set(err, HL_EAUTH, "%s: the remote asks for "
		    "credentials and none are configured", what);
	if (c != NULL && c->refused)
		return hl_err_set(err, HL_EAUTH, "%s: the remote refused the "
		    "credentials", what);
	if (rc == GIT_EAUTH || strstr(m, "status code: 401") != NULL ||
	    strstr(m, "status code: 403") != NULL)
		code = HL_EAUTH;
	else if (rc == GIT_ENONFASTFORWARD)
		code = HL_ECONFLICT;
	else if (rc == GIT_ENOTFOUND)
		code = HL_ENOTFOUND;
	return hl_err_set(err, code, "%s: %s", what, m);
}

int64_t
hl_pub_git__msg_version(const char *msg)
{
	const char *p;
	char *end;
	long long v;

	for (p = msg; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, HL_GIT_TRAILER, strlen(HL_GIT_TRAILER)) != 0)
			continue;
		p += strlen(HL_GIT_TRAILER);
		errno = 0;
		v = strtoll(p, &end, 10);
		if (errno == 0 && end != p && v >= 0 &&
		    (*end == '\0' || *end == '\n' || *end == '\r'))
			return v;
	}
	return -1;
}

static int
copy(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int
hl_pub_git__parse_url(struct hl_pub_git__url *u, const char *url,
    struct hl_err *err)
{
	static const char *schemes[] = { "file://", "http://", "https://",
	    "ssh://" };
	const char *end, *frag, *query, *host, *p, *at, *colon;
	char refname[HL_GIT_MAX_BRANCH + 16];
	size_t i, n;
	int valid = 0;

	memset(u, 0, sizeof(*u));
	u->objects = 1;
	if (strncmp(url, "git+", 4) == 0)
		url += 4;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0]))
		return hl_err_set(err, HL_EINVAL, "git target: want git+file://, "
		    "git+http(s):// or git+ssh://");
	u->local = i == 0;
	frag = strchr(url, '#');
	end = frag != NULL ? frag : url + strlen(url);
	query = memchr(url, '?', end - url);
	if (query != NULL) {
		for (p = query + 1; p < end; p += n + (p + n < end)) {
			n = strcspn(p, "&#");
			if (p + n > end)
				n = end - p;
			if (n == 5 && strncmp(p, "tag=1", 5) == 0)
				u->tag = 1;
			else if (n == 5 && strncmp(p, "tag=0", 5) == 0)
				u->tag = 0;
			else if (n == 7 && strncmp(p, "force=1", 7) == 0)
				u->force = 1;
			else if (n == 7 && strncmp(p, "force=0", 7) == 0)
				u->force = 0;
			else if (n == 20 &&
			    strncmp(p, "layout=smokedetector", 20) == 0)
				u->sd = 1;
			else if (n == 12 && strncmp(p, "layout=pages", 12) == 0)
				u->sd = 0;
			else if (n == 9 && strncmp(p, "objects=1", 9) == 0)
				u->objects = 1;
			else if (n == 9 && strncmp(p, "objects=0", 9) == 0)
				u->objects = 0;
			else if (n != 0)
				return hl_err_set(err, HL_EINVAL, "git target: "
				    "unknown option %.*s (tag=1, force=1, "
				    "objects=0, layout=smokedetector)",
				    (int)(n > 64 ? 64 : n), p);
		}
		end = query;
	}
	if (copy(u->remote, sizeof(u->remote), url, end - url) == -1)
		return hl_err_set(err, HL_EINVAL, "git target: URL too long");
	host = u->remote + strlen(schemes[i]);
	n = strcspn(host, "/");
	at = memchr(host, '@', n);
	if (at != NULL && (colon = memchr(host, ':', at - host)) != NULL)
		return hl_err_set(err, HL_EINVAL, "git target: no password in "
		    "the URL; use HELIOS_GIT_PASSWORD or HELIOS_GIT_CREDENTIALS");
	if (host[n] != '/' || host[n + 1] == '\0')
		return hl_err_set(err, HL_EINVAL, "git target: no repository "
		    "path in the URL");
	if (frag != NULL && frag[1] != '\0') {
		if (copy(u->branch, sizeof(u->branch), frag + 1,
		    strlen(frag + 1)) == -1)
			return hl_err_set(err, HL_EINVAL, "git target: branch "
			    "name too long");
	} else
		(void)strcpy(u->branch, HL_GIT_DEFAULT_BRANCH);
	(void)snprintf(refname, sizeof(refname), "refs/heads/%s", u->branch);
	if (git_reference_name_is_valid(&valid, refname) < 0 || !valid)
		return hl_err_set(err, HL_EINVAL, "git target: bad branch name "
		    "\"%s\"", u->branch);
	return 0;
}

static int
cred_line(struct hl_pub_git__cred *c, const char *line, size_t n)
{
	static const struct {
		const char	*key;
		size_t		 off;
		size_t		 size;
	} keys[] = {
		{ "username=", offsetof(struct hl_pub_git__cred, username),
		    sizeof(c->username) },
		{ "password=", offsetof(struct hl_pub_git__cred, password),
		    sizeof(c->password) },
		{ "token=", offsetof(struct hl_pub_git__cred, password),
		    sizeof(c->password) },
	};
	size_t i, k;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
		n--;
	if (n == 0 || line[0] == '#')
		return 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		k = strlen(keys[i].key);
		if (n < k || strncmp(line, keys[i].key, k) != 0)
			continue;
		if (copy((char *)c + keys[i].off, keys[i].size, line + k,
		    n - k) == -1)
			return -1;
		if (i == 2 && c->username[0] == '\0')
			(void)strcpy(c->username, "x-access-token");
		return 0;
	}
	return -1;
}

static int
cred_file(struct hl_pub_git__cred *c, const char *path, struct hl_err *err)
{
	char buf[MAX_CRED_FILE];
	struct stat st;
	ssize_t got;
	size_t len = 0, n;
	char *p, *eol;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return hl_err_set(err, HL_EAUTH, "credentials file %s: %s",
		    path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		rc = hl_err_set(err, HL_EAUTH, "credentials file %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		rc = hl_err_set(err, HL_EAUTH, "credentials file %s must be a "
		    "file of this user readable by no one else (chmod 600; "
		    "mode is %03o)", path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	while (len < sizeof(buf) - 1 &&
	    (got = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (got == -1) {
			if (errno == EINTR)
				continue;
			rc = hl_err_set(err, HL_EAUTH, "credentials file %s: %s",
			    path, strerror(errno));
			goto out;
		}
		len += got;
	}
	buf[len] = '\0';
	for (p = buf; *p != '\0'; p = *eol != '\0' ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		n = eol - p;
		if (cred_line(c, p, n) == -1) {
			rc = hl_err_set(err, HL_EAUTH, "credentials file %s: "
			    "want username=, password= or token= lines", path);
			goto out;
		}
	}
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

static int
env_copy(char *dst, size_t size, const char *name, struct hl_err *err)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return 0;
	if (copy(dst, size, v, strlen(v)) == -1)
		return hl_err_set(err, HL_EINVAL, "%s is too long", name);
	return 1;
}

int
hl_pub_git__cred_load(struct hl_pub_git__cred *c, struct hl_err *err)
{
	const char *file = getenv("HELIOS_GIT_CREDENTIALS");
	int rc;

	memset(c, 0, sizeof(*c));
	if (file != NULL && *file != '\0' &&
	    (rc = cred_file(c, file, err)) < 0)
		goto fail;
	if ((rc = env_copy(c->username, sizeof(c->username),
	    "HELIOS_GIT_USERNAME", err)) < 0 ||
	    (rc = env_copy(c->password, sizeof(c->password),
	    "HELIOS_GIT_PASSWORD", err)) < 0)
		goto fail;
	if ((rc = env_copy(c->password, sizeof(c->password),
	    "HELIOS_GIT_TOKEN", err)) < 0)
		goto fail;
	if (rc == 1 && getenv("HELIOS_GIT_USERNAME") == NULL)
		(void)strcpy(c->username, "x-access-token");
	if ((rc = env_copy(c->ssh_key, sizeof(c->ssh_key),
	    "HELIOS_GIT_SSH_KEY", err)) < 0 ||
	    (rc = env_copy(c->ssh_passphrase, sizeof(c->ssh_passphrase),
	    "HELIOS_GIT_SSH_PASSPHRASE", err)) < 0)
		goto fail;
	c->have_userpass = c->password[0] != '\0';
	return 0;
fail:
	hl_pub_git__cred_wipe(c);
	return rc;
}

void
hl_pub_git__cred_wipe(struct hl_pub_git__cred *c)
{
	if (c != NULL)
		explicit_bzero(c, sizeof(*c));
}

/*
 * libgit2 calls this when the remote asks for credentials, again after
 * each refusal: the second request for the same kind is a refusal, and
 * ends the operation rather than looping.
 */
static int
cred_cb(git_credential **out, const char *url, const char *user_from_url,
    unsigned int allowed, void *payload)
{
	struct op *op = payload;
	struct hl_pub_git__cred *c = op->c;
	const char *user;
	char pub[sizeof(c->ssh_key) + 4];

	user = user_from_url != NULL && *user_from_url != '\0' ?
	    user_from_url : c->username[0] != '\0' ? c->username : "git";
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (c->calls++ > 0) {
		c->refused = 1;
		return GIT_EAUTH;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && c->have_userpass)
		return git_credential_userpass_plaintext_new(out,
		    c->username[0] != '\0' ? c->username : "x-access-token",
		    c->password);
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && c->ssh_key[0] != '\0') {
		(void)snprintf(pub, sizeof(pub), "%s.pub", c->ssh_key);
		return git_credential_ssh_key_new(out, user,
		    access(pub, R_OK) == 0 ? pub : NULL, c->ssh_key,
		    c->ssh_passphrase[0] != '\0' ? c->ssh_passphrase : NULL);
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return git_credential_ssh_key_from_agent(out, user);
	c->missing = 1;
	return GIT_EAUTH;
}

static int
update_ref_cb(const char *refname, const char *status, void *payload)
{
	struct op *op = payload;

	if (status != NULL && !op->rejected) {
		op->rejected = 1;
		(void)snprintf(op->reject, sizeof(op->reject), "%s: %s",
		    refname, status);
	}
	return 0;
}

static int
thin_transport(git_transport **out, git_remote *owner, void *payload)
{
	struct op *op = payload;

	return hl_gitthin_transport(out, owner, &op->thin);
}

static void
callbacks(git_remote_callbacks *cbs, struct op *op,
    struct hl_pub_git__cred *c)
{
	memset(op, 0, sizeof(*op));
	op->c = c;
	c->calls = c->refused = c->missing = 0;
	git_remote_init_callbacks(cbs, GIT_REMOTE_CALLBACKS_VERSION);
	cbs->credentials = cred_cb;
	cbs->push_update_reference = update_ref_cb;
	cbs->payload = op;
}

static int
has_object(git_repository *repo, const git_oid *id)
{
	git_odb *odb = NULL;
	int yes;

	if (git_repository_odb(&odb, repo) < 0)
		return 0;
	yes = git_odb_exists(odb, id);
	git_odb_free(odb);
	return yes;
}

static int
mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
hl_pub_git_cache_dir(char *out, size_t cap, struct hl_err *err)
{
	const char *base, *tmp;
	int n;

	if ((base = getenv("HELIOS_GIT_CACHE")) != NULL && *base != '\0')
		n = snprintf(out, cap, "%s", base);
	else {
		if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
			tmp = "/tmp";
		n = snprintf(out, cap, "%s/helios-git-cache", tmp);
	}
	if (n < 0 || (size_t)n >= cap)
		return hl_err_set(err, HL_EINVAL, "git cache path too long");
	return 0;
}

int
hl_pub_git__cache_open(git_repository **out, const char *remote,
    struct hl_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char dir[1024], path[1100];
	unsigned int mdlen = 0;
	int rc, n;

	*out = NULL;
	if ((rc = hl_pub_git__init(err)) < 0)
		return rc;
	if ((rc = hl_pub_git_cache_dir(dir, sizeof(dir), err)) < 0)
		return rc;
	if (mkdirs(dir) == -1)
		return hl_err_set(err, HL_EIO, "git cache %s: %s", dir,
		    strerror(errno));
	if (EVP_Digest(remote, strlen(remote), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen < 8)
		return hl_err_set(err, HL_EIO, "git cache: sha256 failed");
	n = snprintf(path, sizeof(path), "%s/%02x%02x%02x%02x%02x%02x%02x%02x"
	    ".git", dir, md[0], md[1], md[2], md[3], md[4], md[5], md[6],
	    md[7]);
	if (n < 0 || (size_t)n >= sizeof(path))
		return hl_err_set(err, HL_EINVAL, "git cache path too long");
	rc = git_repository_open_bare(out, path);
	if (rc == GIT_ENOTFOUND)
		rc = git_repository_init(out, path, 1);
	if (rc < 0) {
		*out = NULL;
		return hl_pub_git__error(err, rc, NULL, "git cache");
	}
	return 0;
}

/*
 * An anonymous remote.  url.*.insteadOf is not applied: the target URL is
 * taken as written (and libgit2 1.5 leaks a PCRE2 match block for every
 * config entry it tests against that pattern).
 */
static int
remote_new(git_remote **out, git_repository *repo, const char *url)
{
	git_remote_create_options o;

	if (git_remote_create_options_init(&o,
	    GIT_REMOTE_CREATE_OPTIONS_VERSION) < 0)
		return -1;
	o.repository = repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, url, &o);
}

int
hl_pub_git__fetch(git_oid *tip, int *have, git_repository *repo,
    const struct hl_pub_git__url *u, struct hl_pub_git__cred *c,
    struct hl_err *err)
{
	git_remote_callbacks cbs;
	git_fetch_options fo;
	git_remote *remote = NULL;
	git_reference *ref = NULL;
	const git_remote_head **heads;
	git_strarray specs;
	struct op op;
	char spec[2 * HL_GIT_MAX_BRANCH + 64], *specp = spec;
	char head[HL_GIT_MAX_BRANCH + 16], track[HL_GIT_MAX_BRANCH + 32];
	size_t nheads, i;
	int rc;

	*have = 0;
	(void)snprintf(head, sizeof(head), "refs/heads/%s", u->branch);
	(void)snprintf(track, sizeof(track), "refs/remotes/origin/%s",
	    u->branch);
	(void)snprintf(spec, sizeof(spec), "+%s:%s", head, track);
	callbacks(&cbs, &op, c);
	if ((rc = remote_new(&remote, repo, u->remote)) < 0 ||
	    (rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cbs, NULL,
	    NULL)) < 0 ||
	    (rc = git_remote_ls(&heads, &nheads, remote)) < 0) {
		rc = hl_pub_git__error(err, rc, c, "git fetch");
		goto out;
	}
	for (i = 0; i < nheads; i++)
		if (strcmp(heads[i]->name, head) == 0) {
			git_oid_cpy(tip, &heads[i]->oid);
			*have = 1;
		}
	if (*have && !has_object(repo, tip)) {
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.callbacks = cbs;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		fo.update_fetchhead = 0;
		specs.strings = &specp;
		specs.count = 1;
		if ((rc = git_remote_download(remote, &specs, &fo)) < 0) {
			rc = hl_pub_git__error(err, rc, c, "git fetch");
			goto out;
		}
		if (!has_object(repo, tip)) {
			rc = hl_err_set(err, HL_EIO, "git fetch: the remote did "
			    "not send %s", head);
			goto out;
		}
	}
	git_remote_disconnect(remote);
	if (*have)
		rc = git_reference_create(&ref, repo, track, tip, 1, "fetch");
	else if ((rc = git_reference_lookup(&ref, repo, track)) == 0)
		rc = git_reference_delete(ref);
	else if (rc == GIT_ENOTFOUND)
		rc = 0;
	if (rc < 0)
		rc = hl_pub_git__error(err, rc, NULL, "git fetch: update ref");
out:
	git_reference_free(ref);
	git_remote_free(remote);
	return rc;
}

static int
valid_path(const char *path)
{
	const char *p = path, *e;
	size_t n;

	if (*p == '\0' || *p == '/')
		return 0;
	for (;;) {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > 255 || (n == 1 && p[0] == '.') ||
		    (n == 2 && strncmp(p, "..", 2) == 0) ||
		    (n == 4 && strncasecmp(p, ".git", 4) == 0))
			return 0;
		if (e == NULL)
			return 1;
		p = e + 1;
	}
}

static int
cmp_file(const void *a, const void *b)
{
	const struct hl_file *const *fa = a, *const *fb = b;

	return strcmp((*fa)->path, (*fb)->path);
}

/* The slot of h in m (n slots): its entry, or the empty slot for it. */
static struct memo *
memo_slot(struct memo *m, size_t n, const char *h)
{
	size_t i = 0;
	int k;

	/* The digest is uniform: its first hex digits make a fine hash. */
	for (k = 0; k < 15; k++)
		i = i << 4 | (size_t)(h[k] <= '9' ? h[k] - '0' : h[k] - 'a' + 10);
	for (i &= n - 1;; i = (i + 1) & (n - 1))
		if (m[i].sha256[0] == '\0' || strcmp(m[i].sha256, h) == 0)
			return &m[i];
}

/* The state of one tree build. */
struct build {
	struct hl_pub_git	*g;
	struct memo		*memo;		/* the new table */
	size_t			 nmemo;
	size_t			 hashed;	/* blobs written */
};

static int
ws_piece(const void *p, size_t n, void *arg)
{
	git_writestream *ws = arg;

	return ws->write(ws, p, n) < 0 ? HL_EIO : 0;
}

/* The id of the blob of data[0..len): SHA-1 of its header and bytes. */
static int
blob_id(git_oid *id, const unsigned char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char head[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c;
	int n, ok;

	n = snprintf(head, sizeof(head), "blob %zu", len);
	if ((c = EVP_MD_CTX_new()) == NULL)
		return 1;
	ok = EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(c, head, (size_t)n + 1) == 1 &&
	    EVP_DigestUpdate(c, data, len) == 1 &&
	    EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == GIT_OID_RAWSZ;
	EVP_MD_CTX_free(c);
	if (!ok)
		return 1;		/* libgit2 hashes it then */
	return git_oid_fromraw(id, md);
}

/*
 * Writes f's bytes as a blob: from memory (into the cache's gitmem when
 * it takes it, hashed here), or a spooled file (tree.h) through a write
 * stream, in pieces.  A libgit2 code, or HL_EIO with err
 * set when the spooled file could not be read.
 */
static int
blob_write(git_oid *oid, struct hl_pub_git *g, const struct hl_file *f,
    struct hl_err *err)
{
	git_repository *repo = g->repo;
	git_writestream *ws = NULL;
	int rc;

	if (f->spool == NULL && g->mem != NULL &&
	    (rc = blob_id(oid, f->data, f->len)) == 0 &&
	    (rc = hl_gitmem_put_blob(g->mem, repo, oid, f->data, f->len)) <= 0)
		return rc;
	if (f->spool == NULL)
		return git_blob_create_from_buffer(oid, repo, f->data, f->len);
	if ((rc = git_blob_create_from_stream(&ws, repo, NULL)) < 0)
		return rc;
	if ((rc = hl_file_each(f, ws_piece, ws, err)) != 0) {
		ws->free(ws);
		return rc < 0 ? rc : -1;
	}
	return git_blob_create_from_stream_commit(oid, ws);
}

/*
 * Blobs of the tree being published that a push may send (or delta
 * against next time) are noted by their bytes, so the pack reads them
 * from memory instead of inflating them again: files held in memory from
 * KEEP_MIN bytes (the big lists, where inflating costs) to KEEP_MAX (no
 * delta is made of bigger ones).  After a push, keep_blobs() copies them
 * for the next one, whose deltas take them as bases.
 */
#define KEEP_MIN	(64 * 1024)
#define KEEP_MAX	(4 * 1024 * 1024)

static void
note_blob(struct hl_pub_git *g, const git_oid *id, const struct hl_file *f)
{
	struct hl_gitthin_blob *nv;
	size_t cap;

	if (f->data == NULL || f->len < KEEP_MIN || f->len > KEEP_MAX)
		return;
	if (g->ncur == g->capcur) {
		cap = g->capcur ? 2 * g->capcur : 16;
		if ((nv = realloc(g->cur, cap * sizeof(*nv))) == NULL)
			return;		/* read back from the cache then */
		g->cur = nv;
		g->capcur = cap;
	}
	git_oid_cpy(&g->cur[g->ncur].id, id);
	g->cur[g->ncur].data = f->data;
	g->cur[g->ncur++].len = f->len;
}

static void
free_kept(struct hl_gitthin_blob *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((void *)v[i].data);
	free(v);
}

/* After a push: copies of this tree's noted blobs replace the kept ones. */
static void
keep_blobs(struct hl_pub_git *g)
{
	struct hl_gitthin_blob *nv;
	unsigned char *copy;
	size_t i, j, n = 0;

	if (g->ncur == 0 || (nv = calloc(g->ncur, sizeof(*nv))) == NULL)
		return;
	for (i = 0; i < g->ncur; i++) {
		for (j = 0; j < g->nkept; j++)	/* unchanged: move it */
			if (g->kept[j].data != NULL &&
			    git_oid_equal(&g->kept[j].id, &g->cur[i].id))
				break;
		if (j < g->nkept) {
			nv[n++] = g->kept[j];
			g->kept[j].data = NULL;
			continue;
		}
		if ((copy = malloc(g->cur[i].len)) == NULL)
			continue;
		memcpy(copy, g->cur[i].data, g->cur[i].len);
		git_oid_cpy(&nv[n].id, &g->cur[i].id);
		nv[n].data = copy;
		nv[n++].len = g->cur[i].len;
	}
	free_kept(g->kept, g->nkept);
	g->kept = nv;
	g->nkept = n;
}

static int
blob_for(git_oid *oid, struct build *b, const struct hl_file *f,
    struct hl_err *err)
{
	struct hl_pub_git *g = b->g;
	struct memo *old = NULL, *m = NULL;
	int rc;

	if (hl_digest_is_sha256(f->sha256)) {
		m = memo_slot(b->memo, b->nmemo, f->sha256);
		if (m->sha256[0] != '\0') {
			git_oid_cpy(oid, &m->oid);
			return 0;
		}
		if (g->memo != NULL)
			old = memo_slot(g->memo, g->nmemo, f->sha256);
	}
	if (old != NULL && old->sha256[0] != '\0')
		git_oid_cpy(oid, &old->oid);
	else {
		rc = blob_write(oid, g, f, err);
		if (rc < 0)
			return hl_pub_git__error(err, rc, NULL, f->path);
		b->hashed++;
	}
	note_blob(g, oid, f);
	if (m != NULL) {
		memcpy(m->sha256, f->sha256, sizeof(m->sha256));
		git_oid_cpy(&m->oid, oid);
	}
	return 0;
}

/*
 * Writes the directory holding files f[0..n) (sorted by path, all sharing
 * the first off bytes of their paths) and gives its tree id.
 */
static int
write_dir(git_oid *out, struct build *b, const struct hl_file **f, size_t n,
    size_t off, int top, struct hl_err *err)
{
	git_treebuilder *tb = NULL;
	git_oid id;
	const char *rest, *slash;
	char name[256];
	size_t i = 0, j, len;
	int rc;

	if ((rc = git_treebuilder_new(&tb, b->g->repo, NULL)) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, "git tree");
		goto out;
	}
	while (i < n) {
		rest = f[i]->path + off;
		if ((slash = strchr(rest, '/')) == NULL) {
			if (git_treebuilder_get(tb, rest) != NULL) {
				rc = hl_err_set(err, HL_EINVAL, "git tree: %s "
				    "twice", f[i]->path);
				goto out;
			}
			if ((rc = blob_for(&id, b, f[i], err)) < 0)
				goto out;
			rc = git_treebuilder_insert(NULL, tb, rest, &id,
			    GIT_FILEMODE_BLOB);
			if (rc < 0) {
				rc = hl_pub_git__error(err, rc, NULL,
				    f[i]->path);
				goto out;
			}
			i++;
			continue;
		}
		len = slash - rest;
		for (j = i + 1; j < n; j++)
			if (strncmp(f[j]->path + off, rest, len + 1) != 0)
				break;
		(void)copy(name, sizeof(name), rest, len);
		if (git_treebuilder_get(tb, name) != NULL) {
			rc = hl_err_set(err, HL_EINVAL, "git tree: %s is both "
			    "a file and a directory", f[i]->path);
			goto out;
		}
		if ((rc = write_dir(&id, b, f + i, j - i, off + len + 1, 0,
		    err)) < 0)
			goto out;
		rc = git_treebuilder_insert(NULL, tb, name, &id,
		    GIT_FILEMODE_TREE);
		if (rc < 0) {
			rc = hl_pub_git__error(err, rc, NULL, f[i]->path);
			goto out;
		}
		i = j;
	}
	if (top && git_treebuilder_get(tb, ".nojekyll") == NULL) {
		if ((rc = git_blob_create_from_buffer(&id, b->g->repo, "",
		    0)) < 0 ||
		    (rc = git_treebuilder_insert(NULL, tb, ".nojekyll", &id,
		    GIT_FILEMODE_BLOB)) < 0) {
			rc = hl_pub_git__error(err, rc, NULL, ".nojekyll");
			goto out;
		}
	}
	if ((rc = git_treebuilder_write(out, tb)) < 0)
		rc = hl_pub_git__error(err, rc, NULL, "git tree");
out:
	git_treebuilder_free(tb);
	return rc;
}

/*
 * layout=smokedetector: the tree of commit base with SmokeDetector's list
 * files replaced by t's text files (lists/<id>.txt or .yml), at the top.
 * Only the files the branch has are written: it decides which lists its
 * code reads.
 */
static int
build_sd_tree(git_oid *out, struct hl_pub_git *g, const struct hl_tree *t,
    const git_commit *base, struct hl_err *err)
{
	git_treebuilder *tb = NULL;
	git_tree *bt = NULL;
	git_oid id;
	const char *name, *id_s;
	char path[128];
	unsigned k;
	size_t i;
	int rc, fmt;

	if ((rc = git_commit_tree(&bt, base)) < 0 ||
	    (rc = git_treebuilder_new(&tb, g->repo, bt)) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, "git tree");
		goto out;
	}
	for (k = 0; (id_s = hl_sdfile_id(k)) != NULL; k++) {
		name = hl_sdfile_name(id_s, &fmt);
		if (git_tree_entry_byname(bt, name) == NULL)
			continue;
		(void)snprintf(path, sizeof(path), "lists/%s.%s", id_s,
		    hl_fmt_is_yaml(fmt) ? "yml" : "txt");
		for (i = 0; i < t->n; i++)
			if (t->files[i].path != NULL &&
			    strcmp(t->files[i].path, path) == 0)
				break;
		if (i == t->n)
			continue;
		if ((rc = blob_write(&id, g, &t->files[i], err)) < 0 ||
		    (rc = git_treebuilder_insert(NULL, tb, name, &id,
		    GIT_FILEMODE_BLOB)) < 0) {
			rc = hl_pub_git__error(err, rc, NULL, name);
			goto out;
		}
		note_blob(g, &id, &t->files[i]);
	}
	if ((rc = git_treebuilder_write(out, tb)) < 0)
		rc = hl_pub_git__error(err, rc, NULL, "git tree");
out:
	git_treebuilder_free(tb);
	git_tree_free(bt);
	return rc;
}

static int
is_object(const char *path)
{
	return strncmp(path, "objects/", 8) == 0;
}

/*
 * Leaves out of f[0..*n) the objects/ files that are copies of another
 * file of the tree: same SHA-256, under a name of its own.
 */
static int
drop_copies(const struct hl_file **f, size_t *n, struct hl_err *err)
{
	struct memo *seen;
	size_t nseen = 16, i, j;

	while (nseen < 2 * *n)
		nseen *= 2;
	if ((seen = calloc(nseen, sizeof(*seen))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	for (i = 0; i < *n; i++)
		if (!is_object(f[i]->path) && hl_digest_is_sha256(f[i]->sha256))
			memcpy(memo_slot(seen, nseen, f[i]->sha256)->sha256,
			    f[i]->sha256, sizeof(seen->sha256));
	for (i = j = 0; i < *n; i++)
		if (!is_object(f[i]->path) || !hl_digest_is_sha256(f[i]->sha256) ||
		    memo_slot(seen, nseen, f[i]->sha256)->sha256[0] == '\0')
			f[j++] = f[i];
	*n = j;
	free(seen);
	return 0;
}

/* Writes the tree of t and gives its id; remembers the blob ids. */
static int
build_tree(git_oid *out, struct hl_pub_git *g, const struct hl_tree *t,
    struct hl_err *err)
{
	const struct hl_file **f = NULL;
	struct build b = { g, NULL, 16, 0 };
	size_t i, n;
	int rc;

	while (b.nmemo < 2 * t->n)
		b.nmemo *= 2;
	if ((f = calloc(t->n + 1, sizeof(*f))) == NULL ||
	    (b.memo = calloc(b.nmemo, sizeof(*b.memo))) == NULL) {
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < t->n; i++) {
		if (t->files[i].path == NULL || !valid_path(t->files[i].path)) {
			rc = hl_err_set(err, HL_EINVAL, "git tree: bad path "
			    "\"%s\"", t->files[i].path != NULL ?
			    t->files[i].path : "(null)");
			goto out;
		}
		f[i] = &t->files[i];
	}
	n = t->n;
	if (!g->u.objects && (rc = drop_copies(f, &n, err)) < 0)
		goto out;
	qsort(f, n, sizeof(*f), cmp_file);
	if ((rc = write_dir(out, &b, f, n, 0, 1, err)) < 0)
		goto out;
	free(g->memo);
	g->memo = b.memo;
	g->nmemo = b.nmemo;
	b.memo = NULL;
	hl_log_debug("git %s: tree of %zu files, %zu blobs written", g->u.remote,
	    n, b.hashed);
out:
	free(b.memo);
	free(f);
	return rc;
}

static int
ref_get(git_oid *out, git_repository *repo, const char *fmt, const char *br)
{
	char name[HL_GIT_MAX_BRANCH + 32];

	(void)snprintf(name, sizeof(name), fmt, br);
	return git_reference_name_to_id(out, repo, name) == 0;
}

static int
ref_set(git_repository *repo, const char *fmt, const char *br,
    const git_oid *id, struct hl_err *err)
{
	git_reference *ref = NULL;
	char name[HL_GIT_MAX_BRANCH + 32];
	int rc;

	(void)snprintf(name, sizeof(name), fmt, br);
	if ((rc = git_reference_create(&ref, repo, name, id, 1, NULL)) < 0)
		return hl_pub_git__error(err, rc, NULL, name);
	git_reference_free(ref);
	return 0;
}

static int
ref_del(git_repository *repo, const char *fmt, const char *br,
    struct hl_err *err)
{
	git_reference *ref = NULL;
	char name[HL_GIT_MAX_BRANCH + 32];
	int rc;

	(void)snprintf(name, sizeof(name), fmt, br);
	if ((rc = git_reference_lookup(&ref, repo, name)) == GIT_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = git_reference_delete(ref);
	git_reference_free(ref);
	if (rc < 0)
		return hl_pub_git__error(err, rc, NULL, name);
	return 0;
}

/* Is the commit tip one Helios wrote (it carries the trailer)? */
static int
ours(git_repository *repo, const git_oid *tip)
{
	git_commit *c = NULL;
	int yes;

	if (git_commit_lookup(&c, repo, tip) < 0)
		return 0;
	yes = hl_pub_git__msg_version(git_commit_message(c)) >= 0;
	git_commit_free(c);
	return yes;
}

/* a == b, or a has b in its history. */
static int
contains(git_repository *repo, const git_oid *a, const git_oid *b)
{
	return git_oid_equal(a, b) || git_graph_descendant_of(repo, a, b) == 1;
}

static int
make_commit(git_oid *out, struct hl_pub_git *g, const struct hl_tree *t,
    const git_oid *tree_id, const git_oid *parent_id, struct hl_err *err)
{
	struct hl_buf msg = HL_BUF_INIT;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	const git_commit *parents[1];
	const char *s;
	int rc;

	s = t->summary != NULL && *t->summary != '\0' ? t->summary : NULL;
	if (s != NULL) {
		/* One line: the summary is the commit's subject. */
		for (; *s != '\0'; s++)
			if ((rc = hl_buf_putc(&msg, *s == '\n' || *s == '\r' ?
			    ' ' : *s)) < 0)
				goto nomem;
	} else if ((rc = hl_buf_printf(&msg, "v%" PRId64, t->version)) < 0)
		goto nomem;
	if ((rc = hl_buf_printf(&msg, "\n\n%s%" PRId64 "\n", HL_GIT_TRAILER,
	    t->version)) < 0)
		goto nomem;
	if ((rc = git_signature_now(&sig, g->author, g->email)) < 0 ||
	    (rc = git_tree_lookup(&tree, g->repo, tree_id)) < 0 ||
	    (parent_id != NULL &&
	    (rc = git_commit_lookup(&parent, g->repo, parent_id)) < 0)) {
		rc = hl_pub_git__error(err, rc, NULL, "git commit");
		goto out;
	}
	parents[0] = parent;
	if ((rc = git_commit_create(out, g->repo, NULL, sig, sig, NULL,
	    msg.data, tree, parent != NULL ? 1 : 0, parents)) < 0)
		rc = hl_pub_git__error(err, rc, NULL, "git commit");
	goto out;
nomem:
	rc = hl_err_set(err, HL_ENOMEM, "out of memory");
out:
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	hl_buf_free(&msg);
	return rc;
}

/*
 * Pushes the branch (and the tags not pushed yet) with libgit2's own push
 * over the connection remote, opened for pushing by the caller.
 */
static int
push(struct hl_pub_git *g, git_remote *remote, git_push_options *po,
    struct op *op, struct hl_err *err)
{
	git_strarray specs;
	char branch[2 * HL_GIT_MAX_BRANCH + 32];
	char *list[MAX_TAGS + 1];
	size_t i;
	int rc;

	(void)snprintf(branch, sizeof(branch), "%srefs/heads/%s:refs/heads/%s",
	    g->u.force && !g->u.sd ? "+" : "", g->u.branch, g->u.branch);
	list[0] = branch;
	for (i = 0; i < g->ntags; i++)
		list[i + 1] = g->tags[i];
	specs.strings = list;
	specs.count = g->ntags + 1;
	g->c.calls = 0;
	if ((rc = git_remote_upload(remote, &specs, po)) < 0)
		return hl_pub_git__error(err, rc, &g->c, "git push");
	if (op->rejected)
		return hl_err_set(err, HL_ECONFLICT, "git push rejected: %s",
		    op->reject);
	for (i = 0; i < g->ntags; i++)
		free(g->tags[i]);
	g->ntags = 0;
	return 0;
}

/*
 * Writes out the objects of the cache held in memory (gitmem.h): while
 * the server unpacks a push, and at the latest before a publish returns.
 */
static int
flush(struct hl_pub_git *g, struct hl_err *err)
{
	if (g->mem == NULL || hl_gitmem_count(g->mem, NULL) == 0)
		return 0;
	return hl_gitmem_flush(g->mem, err);
}

static void
flush_idle(void *arg)
{
	struct hl_err e = HL_ERR_INIT;

	(void)flush(arg, &e);		/* failed: again at the end */
}

/*
 * The push over smart HTTP, sent by Helios (hl_gitthin_send): the branch
 * from rtip (NULL: the remote lacks it) to commit and the tags not pushed
 * yet, with a pack of what the remote lacks, made as it is sent (thin:
 * deltas against rtip's files, unless the server said no-thin).  1 when
 * libgit2's own push should go instead: the pack cannot be made (rtip is
 * not under commit), a tag the remote has elsewhere, or a pack the server
 * did not take.
 */
static int
own_push(struct hl_pub_git *g, git_remote *remote, struct op *op,
    const git_oid *rtip, const git_oid *commit, struct hl_err *err)
{
	struct hl_gitthin_cmd cmd[MAX_TAGS + 1];
	char branch[HL_GIT_MAX_BRANCH + 16], ref[MAX_TAGS][64];
	const git_remote_head **heads;
	struct hl_gitthin_pack *pk = NULL;
	struct hl_gitthin_blob *known = NULL;
	struct hl_err e = HL_ERR_INIT;
	size_t nheads, n = 0, i, j, k, ndelta;
	git_oid id;
	int rc;

	if (git_remote_ls(&heads, &nheads, remote) < 0)
		return 1;
	memset(cmd, 0, sizeof(cmd));
	(void)snprintf(branch, sizeof(branch), "refs/heads/%s", g->u.branch);
	if (rtip == NULL || !git_oid_equal(commit, rtip)) {
		if (rtip != NULL)
			git_oid_cpy(&cmd[n].old, rtip);
		git_oid_cpy(&cmd[n].new, commit);
		cmd[n++].ref = branch;
	}
	for (i = 0; i < g->ntags; i++) {
		k = strcspn(g->tags[i], ":");
		if (k >= sizeof(ref[i]))
			return 1;
		memcpy(ref[i], g->tags[i], k);
		ref[i][k] = '\0';
		if (git_reference_name_to_id(&id, g->repo, ref[i]) < 0)
			return 1;
		for (j = 0; j < nheads; j++)
			if (strcmp(heads[j]->name, ref[i]) == 0)
				break;
		if (j < nheads && git_oid_equal(&heads[j]->oid, &id))
			continue;
		if (j < nheads && !contains(g->repo, &id, &heads[j]->oid))
			return 1;	/* libgit2 says why it will not */
		if (j < nheads)
			git_oid_cpy(&cmd[n].old, &heads[j]->oid);
		git_oid_cpy(&cmd[n].new, &id);
		cmd[n++].ref = ref[i];
	}
	if (n > 0) {
		if (hl_gitthin_plan(&pk, g->repo, commit, rtip,
		    !op->thin.no_thin, &e) != 0) {
			hl_log_warnx("git %s: %s; pushing with libgit2",
			    g->u.remote, e.msg);
			return 1;
		}
		if ((known = calloc(g->ncur + g->nkept + 1,
		    sizeof(*known))) != NULL) {
			/* (memcpy takes no NULL, even for no bytes) */
			if (g->ncur > 0)
				memcpy(known, g->cur, g->ncur *
				    sizeof(*known));
			if (g->nkept > 0)
				memcpy(known + g->ncur, g->kept, g->nkept *
				    sizeof(*known));
			hl_gitthin_known(pk, known, g->ncur + g->nkept);
		}
		g->c.calls = 0;
		op->thin.idle = flush_idle;
		op->thin.idle_arg = g;
		rc = hl_gitthin_send(&op->thin, cmd, n, pk, &ndelta, &g->c,
		    err);
		op->thin.idle = NULL;
		hl_log_debug("git %s: pack of %zu objects (%zu deltas)",
		    g->u.remote, hl_gitthin_count(pk), ndelta);
		hl_gitthin_free(pk);
		free(known);
		if (rc != 0)
			return rc;
		if (op->thin.rejected)
			return hl_err_set(err, HL_ECONFLICT, "git push "
			    "rejected: %s", op->thin.status);
		if (!op->thin.unpack_ok) {
			hl_log_warnx("git %s: the server did not take the pack "
			    "(%s); pushing libgit2's", g->u.remote,
			    op->thin.status[0] ? op->thin.status : "no report");
			return 1;
		}
	}
	keep_blobs(g);
	for (i = 0; i < g->ntags; i++)
		free(g->tags[i]);
	g->ntags = 0;
	return 0;
}

/*
 * Where the remote branch is, from the connection opened for the push:
 * one connection (one authentication) per publish in the usual case.  Only
 * when the tip is a commit the cache lacks is it fetched, over a second
 * connection.
 */
static int
remote_tip(git_oid *tip, int *have, struct hl_pub_git *g, git_remote *remote,
    git_remote_callbacks *cbs, struct hl_err *err)
{
	const git_remote_head **heads;
	char head[HL_GIT_MAX_BRANCH + 16];
	size_t nheads, i;
	int rc;

	*have = 0;
	(void)snprintf(head, sizeof(head), "refs/heads/%s", g->u.branch);
	g->c.calls = 0;
	if ((rc = git_remote_connect(remote, GIT_DIRECTION_PUSH, cbs, NULL,
	    NULL)) < 0 ||
	    (rc = git_remote_ls(&heads, &nheads, remote)) < 0)
		return hl_pub_git__error(err, rc, &g->c, "git push");
	for (i = 0; i < nheads; i++)
		if (strcmp(heads[i]->name, head) == 0) {
			git_oid_cpy(tip, &heads[i]->oid);
			*have = 1;
		}
	if (*have && !has_object(g->repo, tip))
		return hl_pub_git__fetch(tip, have, g->repo, &g->u, &g->c, err);
	if (*have)
		return ref_set(g->repo, "refs/remotes/origin/%s", g->u.branch,
		    tip, err);
	return ref_del(g->repo, "refs/remotes/origin/%s", g->u.branch, err);
}

static int
add_tag(struct hl_pub_git *g, int64_t version, const git_oid *id,
    struct hl_err *err)
{
	char name[64], spec[160];
	git_reference *ref = NULL;
	int rc;

	(void)snprintf(name, sizeof(name), "refs/tags/v%" PRId64, version);
	(void)snprintf(spec, sizeof(spec), "%s:%s", name, name);
	if ((rc = git_reference_create(&ref, g->repo, name, id, 1, NULL)) < 0)
		return hl_pub_git__error(err, rc, NULL, name);
	git_reference_free(ref);
	if (g->ntags == MAX_TAGS) {
		/* Long unpushed: keep the newest tags. */
		free(g->tags[0]);
		memmove(g->tags, g->tags + 1, (MAX_TAGS - 1) *
		    sizeof(g->tags[0]));
		g->ntags--;
	}
	if ((g->tags[g->ntags] = strdup(spec)) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	g->ntags++;
	return 0;
}

/*
 * Packs the loose objects of the cache (or of a file:// target's own
 * repository) once they take pack_min bytes (gitcache.h), looked at after
 * the first publish and every PACK_EVERY after it.  A failure leaves them
 * loose and the publish done.
 */
static void
pack_loose(struct hl_pub_git *g)
{
	struct hl_err e = HL_ERR_INIT;
	size_t n = 0;

	if (g->publishes++ % PACK_EVERY != 0)
		return;
	if (hl_gitcache_pack(&n, g->repo, g->pack_min, &e) != 0)
		hl_log_warnx("git %s: %s", g->u.remote, e.msg);
	else if (n > 0)
		hl_log_debug("git %s: packed %zu loose objects of the cache",
		    g->u.remote, n);
}

/*
 * Moves the branch of a local target from old (NULL: it did not exist) to
 * id, unless someone moved it meanwhile.
 */
static int
advance(struct hl_pub_git *g, const git_oid *old, const git_oid *id,
    struct hl_err *err)
{
	git_reference *ref = NULL;
	char name[HL_GIT_MAX_BRANCH + 16];
	size_t i;
	int rc;

	(void)snprintf(name, sizeof(name), "refs/heads/%s", g->u.branch);
	if (old != NULL && git_oid_equal(old, id))
		rc = 0;
	else if (old != NULL && !g->u.force)
		rc = git_reference_create_matching(&ref, g->repo, name, id, 1,
		    old, "helios publish");
	else
		rc = git_reference_create(&ref, g->repo, name, id, g->u.force,
		    "helios publish");
	git_reference_free(ref);
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS)
		return hl_err_set(err, HL_ECONFLICT, "git: branch %s of %s "
		    "moved by someone else while publishing", g->u.branch,
		    g->u.remote);
	if (rc < 0)
		return hl_pub_git__error(err, rc, NULL, name);
	/* The tags were written in place by add_tag(). */
	for (i = 0; i < g->ntags; i++)
		free(g->tags[i]);
	g->ntags = 0;
	return 0;
}

int
hl_pub_git_publish(struct hl_pub_git *g, const struct hl_tree *t,
    struct hl_err *err)
{
	git_oid rtip, ptip, ltip, base, tree_id, commit;
	git_remote_callbacks cbs;
	git_push_options po;
	git_remote *remote = NULL;
	git_commit *bc = NULL;
	struct op op;
	struct hl_err saved = HL_ERR_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int rhave, phave, lhave, bhave = 0, offline, rc;

	g->ncur = 0;		/* noted anew from t's files */
	/* 1. Where the remote branch is. */
	callbacks(&cbs, &op, &g->c);
	if (strncmp(g->u.remote, "http://", 7) == 0 ||
	    strncmp(g->u.remote, "https://", 8) == 0)
		cbs.transport = thin_transport;
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	po.callbacks = cbs;
	if (g->direct) {
		rhave = ref_get(&rtip, g->repo, "refs/heads/%s", g->u.branch);
		phave = g->pushed_set;
		git_oid_cpy(&ptip, &g->pushed);
		lhave = offline = 0;
	} else if ((rc = remote_new(&remote, g->repo, g->u.remote)) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, "git remote");
		goto out;
	} else {
		phave = ref_get(&ptip, g->repo, "refs/helios/pushed/%s",
		    g->u.branch);
		lhave = ref_get(&ltip, g->repo, "refs/heads/%s", g->u.branch);
		offline = remote_tip(&rtip, &rhave, g, remote, &cbs, err);
	}
	if (offline < 0) {
		/*
		 * Unreachable or refusing: the version is still committed
		 * locally on our own last commit, and goes out with the next
		 * publish that reaches the remote, so the history misses none.
		 */
		if (offline != HL_EIO && offline != HL_EAUTH) {
			rc = offline;
			goto out;
		}
		saved = *err;
		rhave = 0;
	}

	/* 2. Is it ours?  (SmokeDetector's branch is everyone's.) */
	if (!offline && !g->u.force && !g->u.sd) {
		if (rhave && !(phave && git_oid_equal(&rtip, &ptip)) &&
		    !(lhave && contains(g->repo, &ltip, &rtip)) &&
		    !(!phave && ours(g->repo, &rtip))) {
			git_oid_tostr(hex, sizeof(hex), &rtip);
			rc = hl_err_set(err, HL_ECONFLICT, "git: branch %s of %s "
			    "moved by someone else (now at %.12s); not "
			    "publishing", g->u.branch, g->u.remote, hex);
			goto out;
		}
		if (!rhave && phave) {
			rc = hl_err_set(err, HL_ECONFLICT, "git: branch %s of %s "
			    "was deleted by someone else; not publishing",
			    g->u.branch, g->u.remote);
			goto out;
		}
	}

	/* 3, 4. The tree, and a commit unless the parent has it. */
	if (rhave) {
		git_oid_cpy(&base, lhave && contains(g->repo, &ltip, &rtip) ?
		    &ltip : &rtip);
		bhave = 1;
	} else if (lhave) {
		git_oid_cpy(&base, &ltip);
		bhave = 1;
	}
	if (bhave && (rc = git_commit_lookup(&bc, g->repo, &base)) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, "git commit");
		goto out;
	}
	if (g->u.sd && bc == NULL) {
		rc = hl_err_set(err, HL_ENOTFOUND, "git: no branch %s in %s to"
		    " publish SmokeDetector's files into", g->u.branch,
		    g->u.remote);
		goto out;
	}
	if ((rc = g->u.sd ? build_sd_tree(&tree_id, g, t, bc, err) :
	    build_tree(&tree_id, g, t, err)) < 0)
		goto out;
	if (bc != NULL && git_oid_equal(git_commit_tree_id(bc), &tree_id))
		git_oid_cpy(&commit, &base);
	else {
		if ((rc = make_commit(&commit, g, t, &tree_id,
		    bhave ? &base : NULL, err)) < 0)
			goto out;
		if (g->u.tag && (rc = add_tag(g, t->version, &commit,
		    err)) < 0)
			goto out;
	}
	if (g->direct) {
		if ((rc = advance(g, rhave ? &rtip : NULL, &commit, err)) < 0)
			goto out;
		git_oid_cpy(&g->pushed, &commit);
		g->pushed_set = 1;
		git_oid_tostr(g->head, sizeof(g->head), &commit);
		pack_loose(g);
		goto out;
	}
	if ((rc = ref_set(g->repo, "refs/heads/%s", g->u.branch, &commit,
	    err)) < 0)
		goto out;

	if (offline) {
		*err = saved;
		rc = offline;
		goto out;
	}

	/*
	 * 5. Push, unless the remote has it already: over HTTP Helios's own
	 * request, a thin pack whose deltas are against the remote's tip.
	 */
	if (!rhave || !git_oid_equal(&commit, &rtip) || g->ntags > 0) {
		rc = cbs.transport != NULL ? own_push(g, remote, &op,
		    rhave ? &rtip : NULL, &commit, err) : 1;
		if (rc < 0 || (rc == 1 && (rc = push(g, remote, &po, &op,
		    err)) < 0))
			goto out;
		hl_log_debug("git %s#%s: pushed v%" PRId64, g->u.remote,
		    g->u.branch, t->version);
	}
	if ((rc = ref_set(g->repo, "refs/helios/pushed/%s", g->u.branch,
	    &commit, err)) < 0 ||
	    (rc = ref_set(g->repo, "refs/remotes/origin/%s", g->u.branch,
	    &commit, err)) < 0)
		goto out;
	git_oid_tostr(g->head, sizeof(g->head), &commit);
	if ((rc = flush(g, err)) < 0)
		goto out;
	pack_loose(g);
out:
	g->ncur = 0;		/* they point into t */
	if (rc >= 0)
		rc = flush(g, err);
	else
		(void)flush(g, &saved);
	if (remote != NULL)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	git_commit_free(bc);
	return rc;
}

/*
 * A file:// target is written in place: objects straight into its
 * database and the branch moved with a compare-and-swap, with no cache and
 * no push (a local push would deflate every new object into a pack and
 * inflate it again to index it: four times the work).  A missing
 * repository is created bare; a non-bare one is refused, as git refuses to
 * push to a checked-out branch.
 */
static int
local_open(struct hl_pub_git *g, struct hl_err *err)
{
	const char *path = g->u.remote + strlen("file://");
	struct stat st;
	int rc;

	g->direct = 1;
	rc = git_repository_open_bare(&g->repo, path);
	if (rc == GIT_ENOTFOUND && stat(path, &st) == -1 && errno == ENOENT)
		rc = git_repository_init(&g->repo, path, 1);
	else if (rc == GIT_ENOTFOUND)
		return hl_err_set(err, HL_EINVAL, "git target %s: not a bare "
		    "repository", path);
	if (rc < 0) {
		g->repo = NULL;
		return hl_pub_git__error(err, rc, NULL, path);
	}
	return 0;
}

int
hl_pub_git_open(struct hl_pub_git **out, const char *url, struct hl_err *err)
{
	struct hl_pub_git *g;
	size_t n = 0;
	int rc;

	*out = NULL;
	if ((rc = hl_pub_git__init(err)) < 0)
		return rc;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	if ((rc = hl_pub_git__parse_url(&g->u, url, err)) < 0 ||
	    (rc = hl_pub_git__cred_load(&g->c, err)) < 0)
		goto fail;
	g->pack_min = HL_GITCACHE_LOOSE_MAX;
	(void)strcpy(g->author, "Helios");
	(void)strcpy(g->email, "helios@localhost");
	if ((rc = env_copy(g->author, sizeof(g->author),
	    "HELIOS_GIT_AUTHOR_NAME", err)) < 0 ||
	    (rc = env_copy(g->email, sizeof(g->email),
	    "HELIOS_GIT_AUTHOR_EMAIL", err)) < 0)
		goto fail;
	if (g->u.local)
		rc = local_open(g, err);
	else if ((rc = hl_pub_git__cache_open(&g->repo, g->u.remote,
	    err)) == 0 && (rc = hl_gitcache_repair(&n, g->repo, err)) == 0 &&
	    (rc = hl_gitmem_attach(&g->mem, g->repo, err)) == 0 && n > 0)
		hl_log_warnx("git %s: the cache had lost the objects of %zu "
		    "refs (dropped; the remote's tip is fetched again)",
		    g->u.remote, n);
	if (rc < 0)
		goto fail;
	*out = g;
	return 0;
fail:
	hl_pub_git_close(g);
	return rc;
}

const char *
hl_pub_git_head(const struct hl_pub_git *g)
{
	return g->head;
}

git_repository *
hl_pub_git__repo(struct hl_pub_git *g)
{
	return g->repo;
}

void
hl_pub_git__pack_at(struct hl_pub_git *g, uint64_t bytes)
{
	g->pack_min = bytes;
}

const char *
hl_pub_git_remote(const struct hl_pub_git *g)
{
	return g->u.remote;
}

void
hl_pub_git_close(struct hl_pub_git *g)
{
	size_t i;

	if (g == NULL)
		return;
	git_repository_free(g->repo);
	free(g->memo);
	free(g->cur);
	free_kept(g->kept, g->nkept);
	for (i = 0; i < g->ntags; i++)
		free(g->tags[i]);
	hl_pub_git__cred_wipe(&g->c);
	free(g);
}

/*
 * The manifest.json of the commit the next publish builds on (see
 * hl_pub_git_publish): the branch's tip, fetched first for a remote, or
 * our own newer commit on top of it not yet pushed.
 */
int
hl_pub_git_manifest(struct hl_buf *out, struct hl_pub_git *g,
    struct hl_err *err)
{
	git_oid rtip, ltip;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	const git_oid *base;
	git_object_size_t size;
	int rhave, lhave, rc;

	if (g->direct)
		rhave = ref_get(&rtip, g->repo, "refs/heads/%s", g->u.branch);
	else if ((rc = hl_pub_git__fetch(&rtip, &rhave, g->repo, &g->u,
	    &g->c, err)) < 0)
		return rc;
	lhave = !g->direct && ref_get(&ltip, g->repo, "refs/heads/%s",
	    g->u.branch);
	if (rhave && lhave && contains(g->repo, &ltip, &rtip))
		base = &ltip;
	else if (rhave)
		base = &rtip;
	else if (lhave)
		base = &ltip;
	else
		return hl_err_set(err, HL_ENOTFOUND, "git %s: no branch %s "
		    "yet", g->u.remote, g->u.branch);
	if ((rc = git_commit_lookup(&commit, g->repo, base)) < 0 ||
	    (rc = git_commit_tree(&tree, commit)) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, "git manifest");
		goto out;
	}
	rc = git_tree_entry_bypath(&entry, tree, "manifest.json");
	if (rc == GIT_ENOTFOUND) {
		rc = hl_err_set(err, HL_ENOTFOUND, "git %s#%s: no "
		    "manifest.json at the tip", g->u.remote, g->u.branch);
		goto out;
	}
	if (rc < 0 || (rc = git_blob_lookup(&blob, g->repo,
	    git_tree_entry_id(entry))) < 0) {
		rc = hl_pub_git__error(err, rc, NULL, "git manifest");
		goto out;
	}
	size = git_blob_rawsize(blob);
	if (size > HL_TARGET_MAX_MANIFEST)
		rc = hl_err_set(err, HL_ETOOBIG, "git %s#%s: manifest.json "
		    "over %d bytes", g->u.remote, g->u.branch,
		    HL_TARGET_MAX_MANIFEST);
	else if (hl_buf_put(out, git_blob_rawcontent(blob), (size_t)size) != 0)
		rc = hl_err_set(err, HL_ENOMEM, "out of memory");
	else
		rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

static int
ops_open(void **state, const char *url, struct hl_err *err)
{
	struct hl_pub_git *g = NULL;
	int rc;

	rc = hl_pub_git_open(&g, url, err);
	*state = g;
	return rc;
}

static int
ops_publish(void *state, const struct hl_tree *tree, struct hl_err *err)
{
	return hl_pub_git_publish(state, tree, err);
}

static int
ops_manifest(struct hl_buf *out, void *state, struct hl_err *err)
{
	return hl_pub_git_manifest(out, state, err);
}

static void
ops_close(void *state)
{
	hl_pub_git_close(state);
}

const struct hl_target_ops hl_pub_git_ops = {
	.kind = "git",
	.open = ops_open,
	.publish = ops_publish,
	.manifest = ops_manifest,
	.close = ops_close,
};
