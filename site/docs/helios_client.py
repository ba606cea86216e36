"""helios_client: SmokeDetector's side of Helios, in one file to vendor.

Standard library only, Python 3.7 and later.  Two halves:

Reading (no token, from any mirror of the published tree):

    sync = helios_client.ListSync("https://lists.example.org/", ".",
                                  public_key="keyring.pem")
    result = sync.sync()          # one poll; raises HeliosError subclasses
    if result.changed:
        reload_blacklists()

  keeps SmokeDetector's eleven list files in a directory (a checkout) in
  step with the tree, as site/docs/protocol.html describes and helios pull
  does: a conditional GET of manifest.json (an unchanged poll is one 304),
  change segments for the line lists when the directory is a little
  behind, whole lists otherwise, SHA-256 and size checks of every byte,
  the Ed25519 signature of manifest.json when a public key is given
  (through the `cryptography` package, which is then required), refusal
  of a manifest older than one already accepted or past its expiry.

  public_key may be a keyring: several PEM public keys one after the
  other (`cat old.pub new.pub`), or a list of keys.  The manifest is
  accepted when any of its signatures (objects/<sha256>.sigs, or
  manifest.json.sig from older publishers) by a key it names verifies
  with any key of the ring, so a key rotation's overlap, when the
  publisher signs with the old and the new key, passes with either.

  It writes only these names, for these list ids, whatever the mirror
  says (a manifest cannot make it write findspam.py):

      blacklist-keyword   bad_keywords.txt
      blacklist-website   blacklisted_websites.txt
      blacklist-username  blacklisted_usernames.txt
      blacklist-number    blacklisted_numbers.txt
      watch-keyword       watched_keywords.txt
      watch-number        watched_numbers.txt
      blacklist-cidr      blacklisted_cidrs.yml
      watch-cidr          watched_cidrs.yml
      blacklist-ns        blacklisted_nses.yml
      watch-ns            watched_nses.yml
      watch-asn           watched_asns.yml

  plus its own state file and lock file (.helios-client.json and
  .helios-client.lock, or the paths given), and short-lived temporary
  files (".NAME.*.tmp") that are renamed over them.  Every file is
  written only after all new bytes are downloaded and checked, through a
  temporary file, fsync and rename.  A list file edited locally since the
  client last wrote it is kept (and reported in result.held) unless
  sync(force=True); a file it has never written (no state yet, as in a
  first sync into a checkout) is replaced.  notifications.json is not
  written: sync.notifications() returns its records, checked.  Downloads
  and decompression are capped at the sizes the manifest names (and at
  most MAX_FILE bytes).

Writing (a token, to the daemon's API):

    api = helios_client.HeliosAPI("https://helios.example.org", token)
    api.create_blacklist("blacklist-website", r"spam\\.example")
    run_chat_command(api, "!!/watch spam\\.example", user_id=1,
                     server="stackexchange.com")

  The seed API's calls by their names, each returning the parsed JSON
  (an APIResponse: a dict with .status; .is_proposal when the server
  answered 202, a change waiting for review), and raising APIError with
  the HTTP status and the API's "error" code on failure.

As a command, one poll with helios pull's exit statuses:

    python3 helios_client.py [--key KEYRING] [--force] [--full] URL DIR
"""
import email.utils
import errno
import hashlib
import json
import os
import re
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = [
    "ListSync", "SyncResult", "HeliosAPI", "APIResponse",
    "ChatCommand", "parse_chat_command", "run_chat_command",
    "HeliosError", "NetworkError", "IntegrityError", "RollbackError",
    "ExpiredError", "SignatureError", "LocalError", "LockedError",
    "APIError", "LIST_FILES",
]

# The list ids Helios publishes and the only file names this client writes.
LIST_FILES = {
    "blacklist-keyword": "bad_keywords.txt",
    "blacklist-website": "blacklisted_websites.txt",
    "blacklist-username": "blacklisted_usernames.txt",
    "blacklist-number": "blacklisted_numbers.txt",
    "watch-keyword": "watched_keywords.txt",
    "watch-number": "watched_numbers.txt",
    "blacklist-cidr": "blacklisted_cidrs.yml",
    "watch-cidr": "watched_cidrs.yml",
    "blacklist-ns": "blacklisted_nses.yml",
    "watch-ns": "watched_nses.yml",
    "watch-asn": "watched_asns.yml",
}
# Lists of lines, which change events can patch; the yaml ones are
# downloaded whole when they change (they are small).
LINE_FORMATS = {
    "blacklist-keyword": "plain", "blacklist-website": "plain",
    "blacklist-username": "plain", "blacklist-number": "plain",
    "watch-keyword": "tsv", "watch-number": "tsv",
}

STATE_FILE = ".helios-client.json"
LOCK_FILE = ".helios-client.lock"
MANIFEST_FORMAT = 1
MAX_MANIFEST = 16 << 20     # manifest.json, changes.json
MAX_SIG = 1024              # manifest.json.sig (64 bytes)
MAX_SIGS = 16 << 10         # objects/<sha256>.sigs
MAX_SIGNERS = 8             # signatures of one manifest
MAX_FILE = 256 << 20        # any list, segment, or its decompression
MAX_API_BODY = 64 << 20     # one API answer
TIMEOUT = 60
USER_AGENT = "helios_client.py/1"

_SHA_RE = re.compile(r"\A[0-9a-f]{64}\Z")
_KEY_ID_RE = re.compile(r"\A[0-9a-f]{16}\Z")
_SIG_RE = re.compile(r"\A[0-9a-f]{128}\Z")
_PEM_RE = re.compile(br"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----",
                     re.S)
_ID_RE = re.compile(r"\A[a-z][a-z0-9-]{0,63}\Z")


# --- errors --------------------------------------------------------------

class HeliosError(Exception):
    """Any failure; exit_status is helios pull's exit status for it."""
    exit_status = 2


class NetworkError(HeliosError):
    """The mirror or server could not be read (retry later)."""
    exit_status = 2

    def __init__(self, msg, http_status=None, retry_after=None):
        HeliosError.__init__(self, msg)
        self.http_status = http_status
        self.retry_after = retry_after


class IntegrityError(HeliosError):
    """A hash, size, path, gzip or JSON from the mirror is wrong."""
    exit_status = 3


class RollbackError(HeliosError):
    """The manifest's version is lower than one already accepted."""
    exit_status = 4


class ExpiredError(HeliosError):
    """The manifest is past its expires_at: the mirror stopped updating."""
    exit_status = 5


class SignatureError(HeliosError):
    """manifest.json.sig is missing or wrong, or cannot be checked."""
    exit_status = 6


class LocalError(HeliosError):
    """The directory or the state file cannot be read or written."""
    exit_status = 7


class LockedError(LocalError):
    """Another sync of the same directory holds the lock."""


class APIError(HeliosError):
    """An API call failed.  status: HTTP status (0 if no answer);
    error: the API's machine code ("duplicate", "unauthorized", ...);
    message: its message; items: the records it sent (a 409 names the
    existing one); body: the whole parsed answer, or None; retry_after:
    seconds the server asked to wait (429, 503), or None."""

    def __init__(self, status, error, message, body=None, retry_after=None):
        HeliosError.__init__(self, "HTTP %d %s: %s" % (status, error,
                                                       message))
        self.status = status
        self.retry_after = retry_after
        self.error = error
        self.message = message
        self.body = body
        self.items = (body or {}).get("items", []) \
            if isinstance(body, dict) else []


# --- small helpers -------------------------------------------------------

def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _no_dups(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate key %r" % k)
        d[k] = v
    return d


def _json(data, what):
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_dups)
    except (UnicodeDecodeError, ValueError) as e:
        raise IntegrityError("%s: not JSON: %s" % (what, e))


def _tree_path_ok(p):
    """A path inside the tree: relative, no empty, "." or ".." names."""
    if not isinstance(p, str) or not p or p.startswith("/") or "\\" in p:
        return False
    if any(ord(c) < 0x21 or ord(c) == 0x7f for c in p) or "?" in p \
            or "#" in p or "%" in p:
        return False
    return all(part not in ("", ".", "..") for part in p.split("/"))


def _gunzip(data, cap, what):
    """The one gzip member in data, at most cap bytes once inflated."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, cap + 1)
    except zlib.error as e:
        raise IntegrityError("%s: bad gzip: %s" % (what, e))
    if len(out) > cap or d.unconsumed_tail:
        raise IntegrityError("%s: inflates to more than %d bytes"
                             % (what, cap))
    if not d.eof or d.unused_data:
        raise IntegrityError("%s: bad gzip: truncated or trailing data"
                             % what)
    return out


def _lower_keys(headers):
    return dict((k.lower(), v) for k, v in headers.items())


def _retry_after(value):
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0, int(when.timestamp() - time.time()))


def _read_capped(f, cap, what):
    chunks, n = [], 0
    while True:
        b = f.read(min(65536, cap + 1 - n))
        if not b:
            break
        chunks.append(b)
        n += len(b)
        if n > cap:
            raise IntegrityError("%s: longer than %d bytes" % (what, cap))
    return b"".join(chunks)


def _read_local(path):
    """The bytes of a local file, or None if there is none."""
    try:
        with open(path, "rb") as f:
            return _read_capped(f, MAX_FILE, path)
    except IntegrityError as e:
        raise LocalError(str(e))
    except (IOError, OSError) as e:
        if e.errno == errno.ENOENT:
            return None
        raise LocalError("%s: %s" % (path, e))


def _fsync_dir(d):
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomic(path, data):
    """Writes data to path through a temporary file, fsync and rename."""
    d, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp",
                               dir=d or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --- reading the tree ----------------------------------------------------

class _Ref(object):
    """One file of the tree (identity or gzip): path, object, hash, size."""
    __slots__ = ("path", "object", "sha256", "bytes")

    def __init__(self, o, what):
        if not isinstance(o, dict):
            raise IntegrityError("%s: a file entry is not an object" % what)
        path, obj = o.get("path"), o.get("object")
        sha, size = o.get("sha256"), o.get("bytes")
        if not _tree_path_ok(path) or \
                (obj is not None and not _tree_path_ok(obj)) or \
                not isinstance(sha, str) or not _SHA_RE.match(sha) or \
                not _is_int(size) or size < 0 or size > MAX_FILE:
            raise IntegrityError("%s: a file entry lacks a valid path,"
                                 " object, sha256 or bytes" % what)
        self.path, self.object, self.sha256, self.bytes = \
            path, obj, sha, size


class _File(object):
    __slots__ = ("id", "gz")

    def __init__(self, o, what):
        self.id = _Ref(o, what)
        gz = o.get("gz")
        self.gz = _Ref(gz, what) if gz is not None else None


class _Manifest(object):
    def __init__(self, data):
        m = _json(data, "manifest.json")
        if not isinstance(m, dict) or not isinstance(m.get("files"), list) \
                or not isinstance(m.get("lists"), list) \
                or not _is_int(m.get("version")) \
                or not _is_int(m.get("expires_at")):
            raise IntegrityError("manifest.json: not a manifest (version,"
                                 " expires_at, files or lists missing)")
        if m.get("format") != MANIFEST_FORMAT:
            raise IntegrityError("manifest.json: format %r, this client"
                                 " reads format %d"
                                 % (m.get("format"), MANIFEST_FORMAT))
        self.version = m["version"]
        self.expires_at = m["expires_at"]
        pi = m.get("poll_interval")
        self.poll_interval = pi if _is_int(pi) and pi > 0 else 60
        self.files = {}
        for o in m["files"]:
            f = _File(o, "manifest.json")
            self.files[f.id.path] = f
        self.lists = {}     # known id -> _File of its text
        self.json = {}      # known id -> _File of lists/<id>.json
        self.ignored = []   # ids this client does not know
        for o in m["lists"]:
            lid = o.get("id") if isinstance(o, dict) else None
            if not isinstance(lid, str):
                raise IntegrityError("manifest.json: a list without an id")
            if lid not in LIST_FILES:
                self.ignored.append(lid)
                continue
            text = o.get("text")
            if not _tree_path_ok(text) or text not in self.files:
                raise IntegrityError("manifest.json: list %s: its text %r"
                                     " is not among the files" % (lid, text))
            if lid in self.lists:
                raise IntegrityError("manifest.json: list %s twice" % lid)
            self.lists[lid] = self.files[text]
            js = o.get("json")
            if _tree_path_ok(js) and js in self.files:
                self.json[lid] = self.files[js]


class SyncResult(object):
    """What one poll did.

    version: the version the directory holds now; unchanged: True when
    nothing was written (a 304, or the same files); patched / downloaded:
    file names brought up to date by change events / downloaded whole;
    held: file names changed locally and kept; ignored: list ids in the
    manifest this client does not know; notifications_changed: the
    manifest names another notifications.json than the last poll saw;
    poll_interval: seconds to wait before the next poll; requests and
    bytes: HTTP requests made and body bytes read; gz_fallbacks: paths of
    .gz files that were missing or not the ones the manifest names, whose
    identity files were taken instead (a mirror to check with helios
    verify)."""

    def __init__(self):
        self.version = 0
        self.unchanged = True
        self.patched = []
        self.downloaded = []
        self.held = []
        self.ignored = []
        self.notifications_changed = False
        self.poll_interval = 60
        self.requests = 0
        self.bytes = 0
        self.gz_fallbacks = []

    @property
    def changed(self):
        return bool(self.patched or self.downloaded)

    def __repr__(self):
        return ("SyncResult(version=%d, patched=%r, downloaded=%r, held=%r,"
                " requests=%d, bytes=%d)"
                % (self.version, self.patched, self.downloaded, self.held,
                   self.requests, self.bytes))


def _load_keyring(key):
    """The keys of a keyring: [(key id, Ed25519 public key)] and a hash of
    the ring, from a PEM file path, PEM bytes (one or more keys one after
    the other), 32 raw bytes, or a list of any of these.  A key id is the
    first 16 hex digits of the SHA-256 of the raw public key.  Refuses
    clearly when `cryptography` is not importable."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise SignatureError(
            "a public key is configured but the Python package"
            " 'cryptography' is not installed, so manifest.json.sig cannot"
            " be checked; refusing to sync (install cryptography, or"
            " configure no key)")
    ring = []
    for one in (key if isinstance(key, (list, tuple)) else [key]):
        if isinstance(one, str):
            try:
                with open(one, "rb") as f:
                    one = f.read(65536)
            except (IOError, OSError) as e:
                raise LocalError("public key %s: %s" % (one, e))
        if not isinstance(one, bytes):
            raise SignatureError("public key: give a path, PEM bytes or 32"
                                 " raw bytes")
        blocks = [one] if len(one) == 32 else _PEM_RE.findall(one)
        if not blocks:
            raise SignatureError("public key: no PEM public key")
        for b in blocks:
            try:
                if len(b) == 32:
                    pub = ed25519.Ed25519PublicKey.from_public_bytes(b)
                else:
                    pub = serialization.load_pem_public_key(b)
            except (ValueError, TypeError) as e:
                raise SignatureError("public key: not an Ed25519 public"
                                     " key: %s" % e)
            if not isinstance(pub, ed25519.Ed25519PublicKey):
                raise SignatureError("public key: not an Ed25519 public"
                                     " key")
            raw = pub.public_bytes(serialization.Encoding.Raw,
                                   serialization.PublicFormat.Raw)
            ring.append((raw, pub))
    if len(ring) > 64:
        raise SignatureError("keyring: more than 64 keys")
    raws = sorted(set(raw for raw, _ in ring))
    return ([(_sha256(raw)[:16], pub) for raw, pub in ring],
            _sha256(b"".join(raws)))


def _named_keys(mdata):
    """The key ids manifest.json names (key_id, then key_ids)."""
    m = _json(mdata, "manifest.json")
    ids = [m.get("key_id")] if m.get("key_id") is not None else []
    more = m.get("key_ids", [])
    if not isinstance(more, list) or len(more) >= MAX_SIGNERS:
        raise SignatureError("manifest key_ids: not a list of at most %d"
                             " key ids" % (MAX_SIGNERS - 1))
    for k in ids + more:
        if not isinstance(k, str) or not _KEY_ID_RE.match(k):
            raise SignatureError("manifest key id %r: not 16 hex digits"
                                 % (k,))
    return list(dict.fromkeys(ids + more))


class ListSync(object):
    """Keeps directory `dest` in step with the tree at `url` (http, https
    or file).  public_key: a keyring (a PEM path, PEM bytes, 32 raw
    bytes, or a list of these); then a signature of the manifest by one
    of its keys must verify (requires `cryptography`).  state_path /
    lock_path default to dest/.helios-client.json and .lock."""

    def __init__(self, url, dest, public_key=None, state_path=None,
                 lock_path=None, timeout=TIMEOUT, use_changes=True):
        if not isinstance(url, str) or not url:
            raise ValueError("url is required")
        self.url = url if url.endswith("/") else url + "/"
        scheme = urllib.parse.urlsplit(self.url).scheme
        if scheme not in ("http", "https", "file"):
            raise ValueError("url: http, https or file only")
        self.dest = dest
        self.state_path = state_path or os.path.join(dest, STATE_FILE)
        self.lock_path = lock_path or os.path.join(dest, LOCK_FILE)
        self.timeout = timeout
        self.use_changes = use_changes
        self._keys = []
        self._key_sha = ""
        if public_key is not None:
            self._keys, self._key_sha = _load_keyring(public_key)
        self._opener = urllib.request.build_opener()
        self._res = None

    # -- HTTP --

    def _get(self, path, cap, etag=None, gzip_ok=False):
        """(status, body, headers) of GET url+path; status 200, 304 or 404.
        The body is at most cap bytes (decompressed, if the server sent
        Content-Encoding: gzip)."""
        if not _tree_path_ok(path):
            raise IntegrityError("%r: not a path inside the tree" % path)
        self._res.requests += 1
        full = self.url + path
        if full.startswith("file:"):
            local = urllib.request.url2pathname(
                urllib.parse.urlsplit(full).path)
            try:
                with open(local, "rb") as f:
                    body = _read_capped(f, cap, path)
            except (IOError, OSError) as e:
                if e.errno == errno.ENOENT:
                    return 404, b"", {}
                raise NetworkError("%s: %s" % (path, e))
            self._res.bytes += len(body)
            return 200, body, {}
        req = urllib.request.Request(full, headers={
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "gzip" if gzip_ok else "identity"})
        if etag:
            req.add_header("If-None-Match", etag)
        try:
            resp = self._opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            e.close()
            if e.code == 304 and etag:
                return 304, b"", _lower_keys(e.headers)
            if e.code == 404:
                return 404, b"", {}
            raise NetworkError("%s: HTTP %d" % (path, e.code), e.code,
                               _retry_after(e.headers.get("Retry-After")))
        except (urllib.error.URLError, socket.error, ValueError) as e:
            raise NetworkError("%s: %s" % (path, getattr(e, "reason", e)))
        try:
            enc = (resp.headers.get("Content-Encoding") or "").lower()
            raw_cap = cap if enc != "gzip" else min(cap, MAX_FILE)
            try:
                body = _read_capped(resp, raw_cap, path)
            except (socket.error, IOError) as e:
                raise NetworkError("%s: %s" % (path, e))
            headers = _lower_keys(resp.headers)
            status = resp.status
        finally:
            resp.close()
        self._res.bytes += len(body)
        if status != 200:
            raise NetworkError("%s: HTTP %d" % (path, status), status)
        if enc == "gzip":
            body = _gunzip(body, cap, path)
        elif enc not in ("", "identity"):
            raise IntegrityError("%s: Content-Encoding %s" % (path, enc))
        return status, body, headers

    def _fetch(self, f):
        """The identity bytes of a tree file, checked: its .gz when it has
        one, else the file.  A gzip is named by the identity bytes, not its
        own, so a mirror may hold one another compressor made (other bytes,
        the same content), or none: when the gzip is missing or fails its
        checks, the identity bytes, checked against their own hash, do as
        well.  When they fail too, the gzip's error is raised."""
        if f.gz is None:
            return self._fetch_form(f.id, None)
        try:
            return self._fetch_form(f.gz, f.id)
        except (IntegrityError, NetworkError) as e:
            if isinstance(e, NetworkError) and e.http_status != 404:
                raise
            try:
                body = self._fetch_form(f.id, None)
            except (IntegrityError, NetworkError):
                raise e
            self._res.gz_fallbacks.append(f.gz.path)
            return body

    def _fetch_form(self, ref, inflated):
        """The bytes of ref (the object copy first, then the path),
        checked; with inflated, a gzip of those identity bytes."""
        body = None
        for p in (ref.object, ref.path):
            if p is None:
                continue
            status, body, _ = self._get(p, ref.bytes)
            if status == 200:
                break
            body = None
        if body is None:
            raise NetworkError("%s: not found" % ref.path, 404)
        if len(body) != ref.bytes or _sha256(body) != ref.sha256:
            raise IntegrityError("%s: sha256 %s (%d bytes), the manifest"
                                 " names %s (%d bytes)"
                                 % (ref.path, _sha256(body), len(body),
                                    ref.sha256, ref.bytes))
        if inflated is None:
            return body
        body = _gunzip(body, inflated.bytes, ref.path)
        if len(body) != inflated.bytes or _sha256(body) != inflated.sha256:
            raise IntegrityError("%s: decompresses to sha256 %s (%d bytes),"
                                 " the manifest names %s (%d bytes)"
                                 % (ref.path, _sha256(body), len(body),
                                    inflated.sha256, inflated.bytes))
        return body

    # -- state and lock --

    def _load_state(self):
        data = _read_local(self.state_path)
        if data is None:
            return {}
        try:
            s = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise LocalError("%s: %s" % (self.state_path, e))
        if not isinstance(s, dict) or s.get("format") != 1:
            raise LocalError("%s: not a state file of this client"
                             % self.state_path)
        if not isinstance(s.get("lists"), dict):
            s["lists"] = {}
        return s

    def _lock(self):
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT |
                         getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as e:
            raise LocalError("%s: %s" % (self.lock_path, e))
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (IOError, OSError):
                os.close(fd)
                raise LockedError("%s: another sync of %s is running"
                                  % (self.lock_path, self.dest))
        else:
            import msvcrt
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            except (IOError, OSError):
                os.close(fd)
                raise LockedError("%s: another sync of %s is running"
                                  % (self.lock_path, self.dest))
        return fd

    def _unlock(self, fd):
        os.close(fd)    # releases the lock

    # -- the poll --

    def sync(self, force=False):
        """One poll.  Returns a SyncResult; raises a HeliosError subclass
        (and leaves every file as it was) on failure.  force: overwrite
        list files changed locally since this client wrote them."""
        self._res = SyncResult()
        if not os.path.isdir(self.dest):
            raise LocalError("%s: not a directory" % self.dest)
        fd = self._lock()
        try:
            return self._sync(force)
        finally:
            self._unlock(fd)

    def _local_files(self):
        """{id: (bytes or None, sha or None)} for the known lists."""
        out = {}
        for lid, name in LIST_FILES.items():
            data = _read_local(os.path.join(self.dest, name))
            out[lid] = (data, _sha256(data) if data is not None else None)
        return out

    def _sync(self, force):
        res = self._res
        now = int(time.time())
        st = self._load_state()
        slists = st.get("lists", {})
        local = self._local_files()
        res.version = st.get("version", 0) if _is_int(
            st.get("version")) else 0

        # The ETag is worth sending only while the directory holds what
        # the state says: the written files, or (unless forced) the held
        # local edits.
        etag = None
        if st.get("etag") and st.get("url") == self.url and slists and \
                st.get("key_sha256", "") == self._key_sha:
            etag = st["etag"]
            for lid, rec in slists.items():
                sha = local[lid][1] if lid in local else None
                if sha is None or not isinstance(rec, dict) or \
                        (sha != rec.get("sha256") and
                         (force or sha != rec.get("held"))):
                    etag = None
                    break
        status, mdata, headers = self._get("manifest.json", MAX_MANIFEST,
                                           etag=etag, gzip_ok=True)
        if status == 304:
            exp = st.get("expires_at", 0)
            if _is_int(exp) and 0 < exp < now:
                raise ExpiredError("manifest version %d (unchanged) expired"
                                   " %d seconds ago: the mirror has stopped"
                                   " updating" % (res.version, now - exp))
            res.poll_interval = st.get("poll_interval", 60)
            res.held = sorted(LIST_FILES[lid] for lid, rec in slists.items()
                              if rec.get("held") and
                              local[lid][1] == rec["held"])
            return res
        if status != 200:
            raise NetworkError("manifest.json: HTTP %d" % status, status)
        m = _Manifest(mdata)
        if self._keys:
            self._check_signature(mdata)
        if m.version < res.version:
            raise RollbackError("manifest version %d is older than version"
                                " %d already seen: refusing to go back (a"
                                " stale mirror or a replayed manifest)"
                                % (m.version, res.version))
        if m.expires_at < now:
            raise ExpiredError("manifest version %d expired %d seconds ago:"
                               " the mirror has stopped updating"
                               % (m.version, now - m.expires_at))
        res.ignored = m.ignored
        res.poll_interval = m.poll_interval
        nf = m.files.get("notifications.json")
        res.notifications_changed = nf is not None and \
            nf.id.sha256 != st.get("notifications_sha256")

        # Compare each known list with the directory.
        todo, new_state = {}, {}
        for lid, f in m.lists.items():
            data, sha = local[lid]
            rec = slists.get(lid) if isinstance(slists.get(lid), dict) \
                else {}
            if sha == f.id.sha256:
                new_state[lid] = {"sha256": sha}
            elif sha is not None and rec.get("sha256") and \
                    sha != rec["sha256"] and not force:
                # Edited here since the last write: keep it.
                res.held.append(LIST_FILES[lid])
                new_state[lid] = {"sha256": rec["sha256"], "held": sha}
            else:
                todo[lid] = f
                new_state[lid] = {"sha256": f.id.sha256}

        new = {}
        if todo and self.use_changes and 0 < res.version < m.version:
            new = self._patch(m, todo, local, slists, res.version)
        for lid in sorted(todo):
            if lid not in new:
                new[lid] = self._fetch(todo[lid])
                res.downloaded.append(LIST_FILES[lid])
            else:
                res.patched.append(LIST_FILES[lid])

        # Everything is checked: the files, then the state.
        try:
            for lid in sorted(new):
                _write_atomic(os.path.join(self.dest, LIST_FILES[lid]),
                              new[lid])
            if new:
                _fsync_dir(self.dest)
            state = {
                "format": 1, "url": self.url,
                "etag": headers.get("etag", ""),
                "key_sha256": self._key_sha, "version": m.version,
                "expires_at": m.expires_at,
                "poll_interval": m.poll_interval,
                "manifest_sha256": _sha256(mdata),
                "notifications_sha256": nf.id.sha256 if nf else None,
                "lists": dict((lid, dict(rec, file=LIST_FILES[lid]))
                              for lid, rec in new_state.items()),
            }
            _write_atomic(self.state_path, json.dumps(
                state, indent=1, sort_keys=True).encode("utf-8"))
            _fsync_dir(os.path.dirname(self.state_path) or ".")
        except (IOError, OSError) as e:
            raise LocalError(str(e))
        res.unchanged = not new and m.version == res.version
        res.version = m.version
        res.held.sort()
        return res

    def _check_signature(self, mdata):
        """Accepts mdata when any signature by a key the manifest names
        verifies with a key of the ring; raises SignatureError if none
        does."""
        from cryptography.exceptions import InvalidSignature
        named = _named_keys(mdata)
        ring = self._keys
        status, sigs, _ = self._get("objects/%s.sigs" % _sha256(mdata),
                                    MAX_SIGS)
        if status == 200:
            try:
                doc = json.loads(sigs.decode("utf-8"))
            except ValueError:
                doc = None
            if not isinstance(doc, list) or not 0 < len(doc) <= \
                    MAX_SIGNERS or not all(
                        isinstance(e, dict) and
                        isinstance(e.get("key_id"), str) and
                        _KEY_ID_RE.match(e["key_id"]) and
                        isinstance(e.get("sig"), str) and
                        _SIG_RE.match(e["sig"]) for e in doc):
                raise SignatureError("manifest signatures: not a list of"
                                     " {key_id, sig}")
            cands = [(e["key_id"], bytes.fromhex(e["sig"])) for e in doc
                     if not named or e["key_id"] in named]
        else:
            # No signatures object: an older publisher's single one.
            status, sig, _ = self._get("manifest.json.sig", MAX_SIG)
            if status == 404:
                raise SignatureError("manifest.json.sig: missing, and a"
                                     " signature is required (a key is"
                                     " set)")
            cands = [(named[0] if named else None, sig)]
        signers, bad = [], []
        for kid, sig in cands:
            if kid is not None and kid not in signers:
                signers.append(kid)
            for rid, pub in ring:
                if kid is not None and rid != kid:
                    continue
                try:
                    pub.verify(sig, mdata)
                    return
                except InvalidSignature:
                    bad.append(rid)
        if bad:
            raise SignatureError("manifest signature does not verify: the"
                                 " signature by key %s is wrong"
                                 % ", ".join(bad))
        if not signers:
            raise SignatureError("manifest signature does not verify: no"
                                 " signature is by a key the manifest"
                                 " names")
        raise SignatureError("manifest signature does not verify: the"
                             " manifest names key %s, which the keyring"
                             " (%s) does not hold"
                             % (", ".join(signers),
                                ", ".join(k for k, _ in ring)))

    def _patch(self, m, todo, local, slists, since):
        """{id: new bytes} for the line lists that change events bring
        from `since` to the manifest's exact hash; the rest is left to
        downloading."""
        cands = [lid for lid in todo if lid in LINE_FORMATS and
                 local[lid][1] is not None and
                 isinstance(slists.get(lid), dict) and
                 local[lid][1] == slists[lid].get("sha256")]
        cf = m.files.get("changes.json")
        if not cands or cf is None:
            return {}
        try:
            return self._patch_from(m, todo, local, cands, cf, since)
        except NetworkError as e:
            if e.http_status == 404:
                return {}   # no changes where named: download instead
            raise

    def _patch_from(self, m, todo, local, cands, cf, since):
        budget = sum((todo[lid].gz or todo[lid].id).bytes for lid in cands)
        cdoc = _json(self._fetch(cf), "changes.json")
        segs = []
        for o in (cdoc.get("segments") if isinstance(cdoc, dict) else None) \
                or []:
            f = _File(o, "changes.json")
            fr, to = o.get("from"), o.get("to")
            if not _is_int(fr) or not _is_int(to) or fr < 1 or to < fr:
                raise IntegrityError("changes.json: segment %s: bad from/to"
                                     % f.id.path)
            segs.append((fr, to, f))
        segs.sort(key=lambda s: s[0])
        # A run of segments covering since+1 .. m.version without a gap.
        nxt, cost, run = since + 1, 0, []
        for fr, to, f in segs:
            if to < nxt:
                continue
            if fr > nxt or nxt > m.version:
                break
            run.append(f)
            nxt = to + 1
            cost += (f.gz or f.id).bytes
        if nxt <= m.version or cost > budget:
            return {}
        events = []
        for f in run:
            doc = _json(self._fetch(f), f.id.path)
            evs = doc.get("events") if isinstance(doc, dict) else None
            if not isinstance(evs, list):
                raise IntegrityError("%s: not a change segment" % f.id.path)
            events.extend(e for e in evs if isinstance(e, dict) and
                          _is_int(e.get("version")) and
                          since < e["version"] <= m.version)
        events.sort(key=lambda e: e["version"])
        out = {}
        for lid in cands:
            data = _apply_events(local[lid][0], LINE_FORMATS[lid], lid,
                                 events)
            if data is not None and _sha256(data) == todo[lid].id.sha256:
                out[lid] = data
        return out

    def fetch_list_json(self, list_id):
        """A list's JSON document ({"file", "format", "items", "list",
        "numItems", "version"}), checked against a freshly fetched manifest
        (and its signature, version and expiry).  A big list is published
        as an index of segments (protocol.html, section 4a): each segment
        is fetched by a name built here from its checked SHA-256
        (objects/<sha256>.gz), its size bounded, its hashes and item count
        checked, and the items concatenated in order.  Raises
        IntegrityError on any mismatch."""
        m = self._fresh_manifest()
        f = m.json.get(list_id)
        if f is None:
            raise IntegrityError("manifest.json: no JSON for list %r"
                                 % (list_id,))
        doc = _json(self._fetch(f), f.id.path)
        if not isinstance(doc, dict):
            raise IntegrityError("%s: not an object" % f.id.path)
        segs = doc.pop("segments", None)
        if segs is None:
            if not isinstance(doc.get("items"), list):
                raise IntegrityError("%s: no items" % f.id.path)
            return doc
        n = doc.get("numItems")
        if "items" in doc or not isinstance(segs, list) or not segs or \
                not _is_int(n) or \
                sum(g.get("items", 0) if isinstance(g, dict) and
                    _is_int(g.get("items")) else 0 for g in segs) != n:
            raise IntegrityError("%s: a bad index of segments"
                                 % f.id.path)
        items = []
        for k, g in enumerate(segs):
            gz = g.get("gz") if isinstance(g, dict) else None
            if not isinstance(gz, dict) or \
                    not isinstance(g.get("sha256"), str) or \
                    not _SHA_RE.match(g["sha256"]) or \
                    not _is_int(g.get("items")) or g["items"] < 1:
                raise IntegrityError("%s: segment %d is not {sha256, bytes,"
                                     " items, gz}" % (f.id.path, k))
            # The names are built here, never read from the index.
            sf = _File({"path": "objects/" + g["sha256"],
                        "sha256": g["sha256"], "bytes": g.get("bytes"),
                        "gz": {"path": "objects/%s.gz" % g["sha256"],
                               "sha256": gz.get("sha256"),
                               "bytes": gz.get("bytes")}}, f.id.path)
            seg = _json(self._fetch(sf), sf.id.path)
            if not isinstance(seg, dict) or list(seg) != ["items"] or \
                    not isinstance(seg["items"], list) or \
                    len(seg["items"]) != g["items"]:
                raise IntegrityError("%s: not {\"items\": [...]} of %d"
                                     " items" % (sf.id.path, g["items"]))
            items.extend(seg["items"])
        doc["items"] = items
        return doc

    def _fresh_manifest(self):
        """manifest.json, fetched and checked (signature, rollback,
        expiry)."""
        self._res = SyncResult()
        status, mdata, _ = self._get("manifest.json", MAX_MANIFEST,
                                     gzip_ok=True)
        if status != 200:
            raise NetworkError("manifest.json: HTTP %d" % status, status)
        m = _Manifest(mdata)
        if self._keys:
            self._check_signature(mdata)
        st = self._load_state()
        if _is_int(st.get("version")) and m.version < st["version"]:
            raise RollbackError("manifest version %d is older than version"
                                " %d already seen" % (m.version,
                                                      st["version"]))
        if m.expires_at < int(time.time()):
            raise ExpiredError("manifest version %d has expired"
                               % m.version)
        return m

    def notifications(self):
        """The records of notifications.json, checked against a freshly
        fetched manifest (and its signature, version and expiry)."""
        m = self._fresh_manifest()
        nf = m.files.get("notifications.json")
        if nf is None:
            return []
        doc = _json(self._fetch(nf), "notifications.json")
        items = doc.get("items", doc) if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise IntegrityError("notifications.json: no items")
        return items


def _skipped(line, fmt):
    """Does SmokeDetector skip this line (a comment or blank)?  Such
    lines are kept where they are and never match a delete."""
    s = line.decode("utf-8", "surrogateescape")
    if fmt == "plain":
        return line.startswith(b"#") or s.strip() == ""
    s = s.lstrip()
    return s == "" or s.startswith("#")


def _key(value, fmt):
    """What a delete event's value is compared with, as Helios compares
    (hl_item_key) and SmokeDetector's exists() does: a plain pattern by
    Python's str.lower(), a tsv pattern exactly.  value is the pattern
    without its line's trailing white space."""
    return value.lower() if fmt == "plain" else value


def _line_value(line, fmt):
    """The pattern of a list file's line, as SmokeDetector's parser reads
    it (BasicListParser, TSVDictParser), or None for a malformed tsv
    line."""
    s = line.decode("utf-8", "surrogateescape").rstrip()
    if fmt != "tsv":
        return s
    fields = s.split("\t")
    return fields[2] if len(fields) == 3 else None


def _apply_events(data, fmt, lid, events):
    """The file after the add/delete events of list lid, or None when an
    event does not apply (the caller then downloads the list)."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    items = []      # (value or None for a skipped line, line bytes)
    for line in lines:
        if b"\0" in line:
            return None
        if _skipped(line, fmt):
            items.append((None, line))
            continue
        value = _line_value(line, fmt)
        if value is None:
            return None
        items.append((value, line))
    for ev in events:
        if ev.get("list") != lid:
            continue
        op, value = ev.get("op"), ev.get("value")
        if not isinstance(value, str):
            return None
        if op == "add":
            rec = ev.get("record")
            if not isinstance(rec, dict) or \
                    not isinstance(rec.get("text_pattern"), str):
                return None
            v = rec["text_pattern"].encode("utf-8")
            if rec.get("verbatim") is True:
                items.append((None, v))
                continue
            if fmt == "tsv":
                at = rec.get("created_at", 0)
                by = rec.get("created_by") or ""
                if not _is_int(at) or not isinstance(by, str):
                    return None
                line = b"%d\t%s\t%s" % (at, by.encode("utf-8"), v)
            else:
                line = v
            items.append((rec["text_pattern"], line))
        elif op == "delete":
            # The line holding the value itself, else the first of the
            # same key: the right one of two copies that differ in case.
            at = next((i for i, (v, _) in enumerate(items) if v == value),
                      None)
            if at is None:
                key = _key(value, fmt)
                at = next((i for i, (v, _) in enumerate(items)
                           if v is not None and _key(v, fmt) == key), None)
            if at is None:
                return None
            del items[at]
        else:
            return None
    return b"".join(line + b"\n" for _, line in items)


# --- the write API -------------------------------------------------------

class APIResponse(dict):
    """The parsed JSON answer of an API call, with its HTTP status.
    is_proposal: the server answered 202 Accepted, the change waits for
    review (records then hold the proposal) rather than being published."""

    def __init__(self, status, body):
        dict.__init__(self, body)
        self.status = status

    @property
    def is_proposal(self):
        return self.status == 202

    @property
    def records(self):
        """The answer's "items" (dict.items() stays the dict method)."""
        return self.get("items", [])


class HeliosAPI(object):
    """The daemon's write API.  base_url: e.g. "https://helios.example.org"
    (the API's root); token: sent as "Authorization: Bearer TOKEN"."""

    def __init__(self, base_url, token=None, timeout=TIMEOUT):
        scheme = urllib.parse.urlsplit(base_url).scheme
        if scheme not in ("http", "https"):
            raise ValueError("base_url: http or https only")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener()

    def _call(self, method, path, body=None, query=None):
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(url, data=data, headers=headers,
                                     method=method)
        try:
            resp = self._opener.open(req, timeout=self.timeout)
            status = resp.status
        except urllib.error.HTTPError as e:
            resp, status = e, e.code
        except (urllib.error.URLError, socket.error, ValueError) as e:
            raise APIError(0, "network", "%s %s: %s" % (
                method, path, getattr(e, "reason", e)))
        try:
            try:
                raw = _read_capped(resp, MAX_API_BODY, path)
            except IntegrityError as e:
                raise APIError(status, "too_big", str(e))
            except (socket.error, IOError) as e:
                raise APIError(status, "network", "%s %s: %s"
                               % (method, path, e))
        finally:
            resp.close()
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            parsed = None
        if not isinstance(parsed, dict):
            raise APIError(status, "bad_response", "%s %s: HTTP %d, not a"
                           " JSON object" % (method, path, status))
        if status >= 300 or "error" in parsed:
            raise APIError(status, str(parsed.get("error", "http_%d"
                                                  % status)),
                           str(parsed.get("message", "")), parsed,
                           _retry_after(resp.headers.get("Retry-After")))
        return APIResponse(status, parsed)

    @staticmethod
    def _list_path(list_id):
        if not isinstance(list_id, str) or not _ID_RE.match(list_id):
            raise ValueError("not a list id: %r" % (list_id,))
        return "/blacklists/" + list_id

    def test_auth(self):
        """GET /test_auth: the token's name and scopes."""
        return self._call("GET", "/test_auth")

    def get_blacklist(self, list_id):
        """GET /blacklists/{id}: the list's items (no token needed)."""
        return self._call("GET", self._list_path(list_id))

    def create_blacklist(self, list_id, pattern=None, **fields):
        """POST /blacklists/{id}: {"pattern": pattern} for the line lists;
        yaml lists take their fields (ip=, ns=, asn=, comment=, disable=,
        pass_=).  201 when added, 202 when proposed for review."""
        return self._call("POST", self._list_path(list_id),
                          body=self._item(pattern, fields))

    def delete_blacklist(self, list_id, pattern=None, **fields):
        """DELETE /blacklists/{id} with the pattern (or ip=, ns=, asn=)."""
        return self._call("DELETE", self._list_path(list_id),
                          body=self._item(pattern, fields))

    @staticmethod
    def _item(pattern, fields):
        body = {}
        if pattern is not None:
            body["pattern"] = pattern
        for k, v in fields.items():
            body["pass" if k == "pass_" else k] = v
        if not body:
            raise ValueError("a pattern (or the list's fields) is required")
        return body

    def get_notifications(self):
        """GET /notifications."""
        return self._call("GET", "/notifications")

    def create_notification(self, user_id, server, room_id, site,
                            always_ping=None):
        """POST /notifications."""
        body = {"user_id": user_id, "server": server, "room_id": room_id,
                "site": site}
        if always_ping is not None:
            body["always_ping"] = bool(always_ping)
        return self._call("POST", "/notifications", body=body)

    def delete_notification(self, user_id, server, room_id, site):
        """DELETE /notifications."""
        return self._call("DELETE", "/notifications", body={
            "user_id": user_id, "server": server, "room_id": room_id,
            "site": site})


# --- SmokeDetector's chat commands ---------------------------------------

class ChatCommand(object):
    """A chat command as API calls: method is a HeliosAPI method name,
    lists the list ids it tries in order (unwatch: the first that has
    the pattern), args the remaining arguments."""

    def __init__(self, name, method, lists, args):
        self.name, self.method, self.lists, self.args = \
            name, method, lists, args

    def __repr__(self):
        return "ChatCommand(%r, %r, %r, %r)" % (self.name, self.method,
                                                self.lists, self.args)


# chatcommands.py: blacklist_keyword (blacklist-* aliases), watch
# (watch, watch-keyword, watch-number), unblacklist (unwatch tries
# watched_keywords.txt then watched_numbers.txt, as GitManager does).
_PATTERN_COMMANDS = {
    "blacklist-keyword": ("create_blacklist", ["blacklist-keyword"]),
    "blacklist-website": ("create_blacklist", ["blacklist-website"]),
    "blacklist-username": ("create_blacklist", ["blacklist-username"]),
    "blacklist-number": ("create_blacklist", ["blacklist-number"]),
    "watch": ("create_blacklist", ["watch-keyword"]),
    "watch-keyword": ("create_blacklist", ["watch-keyword"]),
    "watch-number": ("create_blacklist", ["watch-number"]),
    "unwatch": ("delete_blacklist", ["watch-keyword", "watch-number"]),
    "unblacklist": ("delete_blacklist", ["blacklist-keyword",
                                         "blacklist-website",
                                         "blacklist-username",
                                         "blacklist-number"]),
}


def parse_chat_command(text):
    """The ChatCommand for a message such as "!!/watch spam\\.example"
    (also "sdc watch ..."); ValueError when it is not one of the list or
    notification commands.  The pattern is the raw text after the first
    space, as SmokeDetector takes it from content_source; "-force" only
    skips SmokeDetector's own checks and maps to the same call."""
    if not isinstance(text, str):
        raise ValueError("not a command")
    text = text.lstrip()
    if text.startswith("!!/"):
        rest = text[3:]
    elif text.startswith("sdc "):
        rest = text[4:].lstrip()
    else:
        raise ValueError("not a command: %r" % text[:40])
    parts = rest.split(" ", 1)
    name = parts[0].lower()
    arg = parts[1] if len(parts) > 1 else ""
    base = name[:-6] if name.endswith("-force") else name
    if base in _PATTERN_COMMANDS:
        method, lists = _PATTERN_COMMANDS[base]
        if arg.strip() == "":
            raise ValueError("!!/%s needs a pattern" % name)
        return ChatCommand(name, method, lists, [arg])
    words = arg.split()
    if name == "notify" and len(words) in (2, 3):
        always = True       # SmokeDetector's default
        if len(words) == 3:
            if words[2] not in ("True", "False", "true", "false", "1",
                                "0"):
                raise ValueError("!!/notify: always_ping must be True or"
                                 " False")
            always = words[2] in ("True", "true", "1")
        return ChatCommand(name, "create_notification", [],
                           [_room(words[0]), words[1], always])
    if name == "unnotify" and len(words) == 2:
        return ChatCommand(name, "delete_notification", [],
                           [_room(words[0]), words[1]])
    if name in ("notify", "unnotify"):
        raise ValueError("usage: !!/%s ROOM_ID SITE%s" % (
            name, " [ALWAYS_PING]" if name == "notify" else ""))
    raise ValueError("not a list or notification command: !!/%s" % name)


def _room(s):
    if not s.isdigit():
        raise ValueError("the room id must be a number: %r" % s)
    return int(s)


def run_chat_command(api, text, user_id=None, server=None):
    """Runs a chat command through api (a HeliosAPI).  user_id and server
    (the chat host, e.g. "stackexchange.com") are the message owner's,
    needed for notify / unnotify.  Returns the APIResponse (is_proposal
    when it went to review); raises APIError or ValueError."""
    cmd = parse_chat_command(text)
    if cmd.method in ("create_notification", "delete_notification"):
        if user_id is None or not server:
            raise ValueError("!!/%s needs the user id and chat server"
                             % cmd.name)
        room, site = cmd.args[0], cmd.args[1]
        if cmd.method == "create_notification":
            return api.create_notification(user_id, server, room, site,
                                           always_ping=cmd.args[2])
        return api.delete_notification(user_id, server, room, site)
    call = getattr(api, cmd.method)
    first = None
    for lid in cmd.lists:
        try:
            return call(lid, cmd.args[0])
        except APIError as e:
            if cmd.method != "delete_blacklist" or e.status != 404:
                raise
            first = first or e
    raise first


# --- command line --------------------------------------------------------

def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(
        prog="helios_client.py",
        description="One poll of a Helios tree into DIR (SmokeDetector's"
                    " list files).  Exit status as helios pull's.")
    p.add_argument("--key", help="keyring: Ed25519 public keys (PEM, one"
                   " after the other); a signature of the manifest by one"
                   " of them must verify")
    p.add_argument("--force", action="store_true",
                   help="overwrite list files edited locally")
    p.add_argument("--full", action="store_true",
                   help="download changed lists whole (no change events)")
    p.add_argument("-q", action="store_true", help="print nothing on"
                   " success")
    p.add_argument("url")
    p.add_argument("dir")
    a = p.parse_args(argv)
    try:
        s = ListSync(a.url, a.dir, public_key=a.key,
                     use_changes=not a.full)
        r = s.sync(force=a.force)
    except HeliosError as e:
        sys.stderr.write("helios_client.py: %s\n" % e)
        return e.exit_status
    if not a.q:
        print("version %d: %d patched, %d downloaded, %d held, %d requests,"
              " %d bytes" % (r.version, len(r.patched), len(r.downloaded),
                             len(r.held), r.requests, r.bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
