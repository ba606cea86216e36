"""Tests of site/docs/helios_client.py against the real daemon, nginx and
helios pull (run by tests/integration/t0650-python-client.sh, which sets
the environment below; runs under Python 3.7 and later).

    HELIOS      the helios binary          HL_URL     the daemon (API)
    NG_URL      nginx serving its tree     NG_LOG     nginx's access log
    PUB_DIR     the daemon's public dir    OLD_DIR    a copy of it at start
    KEY_PUB     the signing key's public half (PEM); OTHER_PUB another key
    WRITE_TOKEN a write-scoped token        WORK       a scratch directory
    CLIENT_DIR  the directory of helios_client.py
"""
import functools
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest
import urllib.request
import zlib

try:
    import http.server as hs
except ImportError:  # pragma: no cover
    hs = None

E = os.environ
# No __pycache__ in site/docs: everything there is published.
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.path.insert(0, E["CLIENT_DIR"])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helios_client as hc  # noqa: E402
import tap  # noqa: E402

TAG = "[python %d.%d] " % sys.version_info[:2]
# Unique values for this run: the suite runs once per Python version
# against the same daemon.
RUN = "py%d%d-%d" % (sys.version_info[0], sys.version_info[1], os.getpid())
WORK = os.path.join(E["WORK"], RUN)
A = os.path.join(WORK, "a")         # the Python client's directory
B = os.path.join(WORK, "b")         # helios pull's directory
NAMES = sorted(hc.LIST_FILES.values())
OWN = [hc.STATE_FILE, hc.LOCK_FILE]

try:
    import cryptography  # noqa: F401
    HAVE_CRYPTO = True
except ImportError:
    HAVE_CRYPTO = False


def api(token=None):
    return hc.HeliosAPI(E["HL_URL"], token if token is not None
                        else E["WRITE_TOKEN"])


def published_version(base=None):
    with urllib.request.urlopen((base or E["NG_URL"]) + "/manifest.json",
                                timeout=10) as r:
        return json.loads(r.read().decode())["version"]


def wait_version(v):
    for _ in range(150):
        if published_version() >= v:
            return
        time.sleep(0.1)
    raise AssertionError("version %d was not published" % v)


def write(resp):
    """Waits until the write answered by resp is published."""
    wait_version(resp["version"])
    return resp


def pull_b():
    subprocess.check_call([E["HELIOS"], "pull", "-q", E["NG_URL"], B])


def differs_from_pull(d):
    """The list files of d that are not byte-identical to helios pull's."""
    pull_b()
    bad = []
    for n in NAMES:
        if subprocess.call(["cmp", "-s", os.path.join(d, n),
                            os.path.join(B, n)]) != 0:
            bad.append(n)
    return bad


def log_lines():
    with open(E["NG_LOG"]) as f:
        return f.read().splitlines()


def log_since(before, n=1):
    """nginx's log lines after the first `before`, once there are at least
    n (nginx writes a line after it has sent the answer)."""
    for _ in range(50):
        if len(log_lines()) - before >= n:
            break
        time.sleep(0.05)
    time.sleep(0.2)
    return log_lines()[before:]


def dirsum(d):
    h = hashlib.sha256()
    for n in sorted(os.listdir(d)):
        if n == hc.LOCK_FILE:
            continue
        h.update(n.encode() + b"\0")
        with open(os.path.join(d, n), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Server(object):
    """A plain HTTP server on a free loopback port, in a thread: serves a
    directory (a mirror the test breaks), or answers with handler."""

    def __init__(self, directory=None, handler=None):
        if handler is None:
            handler = functools.partial(_Quiet, directory=directory)
        self.httpd = hs.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        self.t = threading.Thread(target=self.httpd.serve_forever)
        self.t.daemon = True
        self.t.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(hs.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def evil_copy(name, src=None):
    """A fresh copy of the published tree to break."""
    d = os.path.join(WORK, "evil-" + name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(src or E["PUB_DIR"], d)
    return d


def text_entry(d, list_id):
    """The manifest's file entry for the text file of list_id in tree d."""
    m = json.loads(read(os.path.join(d, "manifest.json")).decode())
    text = [l["text"] for l in m["lists"] if l["id"] == list_id][0]
    return [f for f in m["files"] if f["path"] == text][0]


def edit_manifest(d, fn):
    p = os.path.join(d, "manifest.json")
    m = json.loads(read(p).decode())
    fn(m)
    with open(p, "w") as f:
        json.dump(m, f)
    for extra in ("manifest.json.gz",):
        if os.path.exists(os.path.join(d, extra)):
            os.unlink(os.path.join(d, extra))


def client_copy(name):
    """A copy of A (files and state) for a client of a broken mirror."""
    d = os.path.join(WORK, "c-" + name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(A, d)
    return d


class Test1Sync(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for d in (A, B):
            os.makedirs(d)

    def test_01_first_sync(self):
        """a first sync writes the eleven list files, byte-identical to helios pull's"""
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual(sorted(r.downloaded), NAMES)
        self.assertEqual(differs_from_pull(A), [])
        self.assertEqual(sorted(os.listdir(A)), sorted(NAMES + OWN))

    def test_02_unchanged_poll(self):
        """an unchanged poll is one request, answered 304 with no body"""
        before = len(log_lines())
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual(log_since(before), ["GET /manifest.json 304 0"])
        self.assertTrue(r.unchanged)
        self.assertEqual((r.requests, r.bytes), (1, 0))

    def test_03_one_change_patches(self):
        """one new watched keyword is patched in from the change segments"""
        write(api().create_blacklist("watch-keyword",
                                     r"helios-%s-one\.example" % RUN))
        before = len(log_lines())
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual((r.patched, r.downloaded),
                         (["watched_keywords.txt"], []))
        paths = [l.split()[1] for l in log_since(before, 3)]
        self.assertEqual([p for p in paths if p != "/manifest.json" and
                          not p.startswith("/changes/") and
                          not p.startswith("/objects/")], [])
        self.assertEqual(differs_from_pull(A), [])
        self.assertIn(("helios-%s-one\\.example" % RUN).encode(),
                      read(os.path.join(A, "watched_keywords.txt")))

    def test_04_delete_patches(self):
        """a deleted keyword is patched out of bad_keywords.txt"""
        items = api().get_blacklist("blacklist-keyword")["items"]
        victim = items[len(items) // 2]["text_pattern"]
        write(api().delete_blacklist("blacklist-keyword", victim))
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual(r.patched, ["bad_keywords.txt"])
        self.assertEqual(differs_from_pull(A), [])
        write(api().create_blacklist("blacklist-keyword", victim))
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual(r.patched, ["bad_keywords.txt"])
        self.assertEqual(differs_from_pull(A), [])

    def test_04b_tsv_delete_compares_exactly(self):
        """a watched keyword deleted beside one that differs in case only is patched out, not the other"""
        for v in ("(?-i:Helios%sCase)", "(?-i:helios%scase)"):
            write(api().create_blacklist("watch-keyword", v % RUN))
        hc.ListSync(E["NG_URL"], A).sync()
        write(api().delete_blacklist("watch-keyword",
                                     "(?-i:helios%scase)" % RUN))
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual((r.patched, r.downloaded),
                         (["watched_keywords.txt"], []))
        self.assertEqual(differs_from_pull(A), [])

    def test_05_yaml_downloads(self):
        """a changed yaml list is downloaded whole and checked"""
        write(api().create_blacklist("watch-asn",
                                     asn=200000 + os.getpid() % 100000))
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual((r.patched, r.downloaded), ([], ["watched_asns.yml"]))
        self.assertEqual(differs_from_pull(A), [])

    def test_06_full(self):
        """with use_changes off a changed list is downloaded whole"""
        write(api().create_blacklist("blacklist-website",
                                     r"helios-%s-full\.example" % RUN))
        r = hc.ListSync(E["NG_URL"], A, use_changes=False).sync()
        self.assertEqual(r.downloaded, ["blacklisted_websites.txt"])
        self.assertEqual(differs_from_pull(A), [])

    def test_07_local_edit_kept(self):
        """a list file edited locally is kept, then replaced with force"""
        p = os.path.join(A, "bad_keywords.txt")
        mine = read(p) + b"a-local-edit\n"
        with open(p, "wb") as f:
            f.write(mine)
        write(api().create_blacklist("blacklist-keyword",
                                     "helios-%s-held" % RUN))
        write(api().create_blacklist("blacklist-username",
                                     "helios-%s-held" % RUN))
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual(r.held, ["bad_keywords.txt"])
        self.assertEqual(r.patched, ["blacklisted_usernames.txt"])
        self.assertEqual(read(p), mine)
        before = len(log_lines())
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual(log_since(before), ["GET /manifest.json 304 0"])
        self.assertEqual(r.held, ["bad_keywords.txt"])
        self.assertEqual(read(p), mine)
        r = hc.ListSync(E["NG_URL"], A).sync(force=True)
        self.assertEqual(r.held, [])
        self.assertEqual(r.downloaded, ["bad_keywords.txt"])
        self.assertEqual(differs_from_pull(A), [])

    def test_08_deleted_file_restored(self):
        """a list file deleted locally is written again"""
        os.unlink(os.path.join(A, "watched_nses.yml"))
        r = hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual(r.downloaded, ["watched_nses.yml"])
        self.assertEqual(differs_from_pull(A), [])

    def test_085_file_url(self):
        """a tree read from a directory (file://) gives the same files"""
        d = os.path.join(WORK, "file")
        os.makedirs(d)
        r = hc.ListSync("file://" + E["PUB_DIR"], d).sync()
        self.assertEqual(sorted(r.downloaded), NAMES)
        self.assertEqual(differs_from_pull(d), [])

    @unittest.skipUnless(HAVE_CRYPTO, "cryptography is not installed")
    def test_09_signature(self):
        """with the publisher's public key the signed manifest verifies"""
        d = client_copy("sig")
        write(api().create_blacklist("blacklist-username",
                                     "helios-%s-signed" % RUN))
        r = hc.ListSync(E["NG_URL"], d, public_key=E["KEY_PUB"]).sync()
        self.assertEqual(r.patched, ["blacklisted_usernames.txt"])
        r = hc.ListSync(E["NG_URL"], d, public_key=read(E["KEY_PUB"])).sync()
        self.assertEqual((r.requests, r.unchanged), (1, True))

    @unittest.skipUnless(HAVE_CRYPTO, "cryptography is not installed")
    def test_10_wrong_key(self):
        """another public key is refused and nothing is written"""
        write(api().create_blacklist("blacklist-username",
                                     "helios-%s-other-key" % RUN))
        d = client_copy("other")
        s = dirsum(d)
        with self.assertRaises(hc.SignatureError):
            hc.ListSync(E["NG_URL"], d, public_key=E["OTHER_PUB"]).sync()
        self.assertEqual(dirsum(d), s)
        rc = subprocess.call([sys.executable, os.path.join(
            E["CLIENT_DIR"], "helios_client.py"), "-q", "--key",
            E["OTHER_PUB"], E["NG_URL"], d], stderr=subprocess.DEVNULL)
        self.assertEqual(rc, 6)
        self.assertEqual(dirsum(d), s)

    def test_11_no_cryptography(self):
        """a key without the cryptography package is a clear refusal"""
        d = client_copy("nocrypto")
        s = dirsum(d)
        code = ("import sys; sys.modules['cryptography'] = None\n"
                "sys.path.insert(0, sys.argv[1]); import helios_client as h\n"
                "try:\n"
                "    h.ListSync(sys.argv[2], sys.argv[3],"
                " public_key=sys.argv[4]).sync()\n"
                "except h.SignatureError as e:\n"
                "    print(e); sys.exit(6)\n")
        p = subprocess.Popen([sys.executable, "-c", code, E["CLIENT_DIR"],
                              E["NG_URL"], d, E["KEY_PUB"]],
                             stdout=subprocess.PIPE)
        out = p.communicate()[0].decode()
        self.assertEqual(p.returncode, 6, out)
        self.assertIn("'cryptography' is not installed", out)
        self.assertEqual(dirsum(d), s)

    def test_12_lock(self):
        """a second sync of a locked directory is refused"""
        try:
            import fcntl
        except ImportError:
            self.skipTest("no fcntl")
        fd = os.open(os.path.join(A, hc.LOCK_FILE), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self.assertRaises(hc.LockedError):
                hc.ListSync(E["NG_URL"], A).sync()
        finally:
            os.close(fd)
        hc.ListSync(E["NG_URL"], A).sync()


class Test2Mirror(unittest.TestCase):
    """Mirrors that are wrong in some way: the client's files stay."""

    def expect(self, exc, tree, d=None, match=None, **kw):
        d = d or client_copy("x")
        s = dirsum(d)
        srv = Server(tree)
        try:
            with self.assertRaises(exc) as cm:
                hc.ListSync(srv.url, d, **kw).sync()
        finally:
            srv.close()
        self.assertEqual(dirsum(d), s)
        if match:
            self.assertIn(match, str(cm.exception))
        return cm.exception

    def test_1_hostile_names(self):
        """a manifest naming findspam.py writes nothing but the known names"""
        t = evil_copy("names")

        def hostile(m):
            for l in m["lists"]:
                if l["id"] == "blacklist-keyword":
                    l["file"] = "findspam.py"
                if l["id"] == "blacklist-website":
                    l["file"] = "../findspam.py"
            m["lists"].append(dict(m["lists"][0], id="findspam",
                                   file="findspam.py"))
            m["lists"].append(dict(m["lists"][0], id="../../findspam",
                                   file="/tmp/findspam.py"))
        edit_manifest(t, hostile)
        top = os.path.join(WORK, "hostile")
        d = os.path.join(top, "checkout")
        os.makedirs(d)
        with open(os.path.join(d, "findspam.py"), "w") as f:
            f.write("# SmokeDetector's own code\n")
        srv = Server(t)
        try:
            r = hc.ListSync(srv.url, d).sync()
        finally:
            srv.close()
        self.assertEqual(sorted(r.ignored), ["../../findspam", "findspam"])
        self.assertEqual(sorted(os.listdir(d)),
                         sorted(NAMES + OWN + ["findspam.py"]))
        self.assertEqual(read(os.path.join(d, "findspam.py")),
                         b"# SmokeDetector's own code\n")
        self.assertEqual(os.listdir(top), ["checkout"])
        self.assertEqual(differs_from_pull(d), [])

    def test_2_path_outside(self):
        """a list path outside the tree is refused"""
        t = evil_copy("path")

        def outside(m):
            for l in m["lists"]:
                if l["id"] == "watch-keyword":
                    l["text"] = "../../findspam.py"
        edit_manifest(t, outside)
        self.expect(hc.IntegrityError, t, match="watch-keyword")
        t = evil_copy("path2")

        def entry_outside(m):
            for l in m["lists"]:
                if l["id"] == "watch-keyword":
                    l["text"] = "../findspam.py"
                    f = [f for f in m["files"] if f["path"] == "lists/"
                         "watch-keyword.txt"][0]
                    m["files"].append(dict(f, path="../findspam.py",
                                           object="../findspam.py"))
        edit_manifest(t, entry_outside)
        self.expect(hc.IntegrityError, t, match="lacks a valid path")

    def test_3_rollback(self):
        """a manifest older than the version already seen is refused"""
        self.expect(hc.RollbackError, E["OLD_DIR"], match="older than")

    def test_4_expired(self):
        """an expired manifest is refused"""
        t = evil_copy("expired")
        edit_manifest(t, lambda m: m.update(expires_at=m["generated_at"] -
                                             3600))
        self.expect(hc.ExpiredError, t, match="expired")

    def test_5_hash(self):
        """a list whose bytes do not match the manifest is refused"""
        write(api().create_blacklist("blacklist-website",
                                     r"helios-%s-hash\.example" % RUN))
        t = evil_copy("hash")
        f = text_entry(t, "blacklist-website")
        for p in (f["gz"]["path"], f["gz"]["object"], f["path"],
                  f["object"]):
            b = bytearray(read(os.path.join(t, p)))
            b[len(b) // 2] ^= 1
            os.unlink(os.path.join(t, p))  # may be a hard link
            with open(os.path.join(t, p), "wb") as out:
                out.write(bytes(b))
        # refused on the compressed bytes, before inflating them; the
        # identity bytes, tried next, fail too: the gzip's error is raised
        self.expect(hc.IntegrityError, t, match=f["gz"]["path"] + ": sha256",
                    use_changes=False)

    def test_5_stale_gzip(self):
        """a gzip of other bytes (another compressor's): the identity bytes are taken"""
        write(api().create_blacklist("blacklist-website",
                                     r"helios-%s-stale\.example" % RUN))
        t = evil_copy("stale")
        f = text_entry(t, "blacklist-website")
        ident = read(os.path.join(t, f["path"]))
        for p in (f["gz"]["path"], f["gz"]["object"]):
            os.unlink(os.path.join(t, p))  # may be a hard link
            with open(os.path.join(t, p), "wb") as out:
                out.write(gzip.compress(ident, 1))
        self.assertNotEqual(hashlib.sha256(read(os.path.join(
            t, f["gz"]["path"]))).hexdigest(), f["gz"]["sha256"])
        d = client_copy("stale")
        srv = Server(t)
        try:
            r = hc.ListSync(srv.url, d, use_changes=False).sync()
        finally:
            srv.close()
        self.assertIn("blacklisted_websites.txt", r.downloaded)
        self.assertEqual(read(os.path.join(d, "blacklisted_websites.txt")),
                         ident)
        self.assertEqual(r.gz_fallbacks, [f["gz"]["path"]])

    def test_6_gzip_bomb(self):
        """a gzip that inflates past the size named is refused, in little memory"""
        t = evil_copy("bomb")
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = b"\0" * (1 << 20)
        with open(os.path.join(t, "bomb.gz"), "wb") as f:
            for _ in range(512):    # 512 MiB of zeros, 500 KB compressed
                f.write(c.compress(zeros))
            f.write(c.flush())
        bomb = read(os.path.join(t, "bomb.gz"))

        def point(m):
            text = [l["text"] for l in m["lists"]
                    if l["id"] == "blacklist-number"][0]
            for f in m["files"]:
                if f["path"] == text:
                    f["sha256"] = "0" * 64
                    f["gz"] = {"path": "bomb.gz", "bytes": len(bomb),
                               "sha256": sha(bomb)}
        edit_manifest(t, point)
        d = client_copy("bomb")
        s = dirsum(d)
        srv = Server(t)
        # In a child, to measure its peak memory alone.
        code = ("import resource, sys; sys.path.insert(0, sys.argv[1])\n"
                "import helios_client as h\n"
                "try:\n"
                "    h.ListSync(sys.argv[2], sys.argv[3]).sync()\n"
                "except h.IntegrityError as e:\n"
                "    print(e)\n"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
        try:
            out = subprocess.check_output([sys.executable, "-c", code,
                                           E["CLIENT_DIR"], srv.url, d])
        finally:
            srv.close()
        msg, peak_kb = out.decode().strip().rsplit("\n", 1)
        self.assertIn("inflates to more than", msg)
        self.assertLess(int(peak_kb), 128 << 10)
        self.assertEqual(dirsum(d), s)

    def test_7_longer(self):
        """a file longer than the manifest says is cut off and refused"""
        t = evil_copy("long")

        def shrink(m):
            text = [l["text"] for l in m["lists"]
                    if l["id"] == "blacklist-number"][0]
            for f in m["files"]:
                if f["path"] == text:
                    f["sha256"] = "0" * 64
                    f["gz"]["bytes"] = 10
        edit_manifest(t, shrink)
        self.expect(hc.IntegrityError, t, match="longer than 10 bytes")

    def test_75_no_changes(self):
        """a mirror without its change files: the changed list is downloaded"""
        write(api().create_blacklist("watch-keyword",
                                     "helios-%s-nochanges" % RUN))
        t = evil_copy("nochanges")

        def hide(m):
            for f in m["files"]:
                if f["path"] == "changes.json":
                    f["object"] = f["gz"]["object"] = None
                    f["path"] = "gone/changes.json"
                    f["gz"]["path"] = "gone/changes.json.gz"
        edit_manifest(t, hide)
        d = client_copy("nochanges")
        srv = Server(t)
        try:
            r = hc.ListSync(srv.url, d).sync()
        finally:
            srv.close()
        self.assertEqual(r.patched, [])
        self.assertIn("watched_keywords.txt", r.downloaded)
        self.assertEqual(differs_from_pull(d), [])

    @unittest.skipUnless(HAVE_CRYPTO, "cryptography is not installed")
    def test_8_tampered_signed(self):
        """an edited manifest fails its signature; a missing one is refused"""
        t = evil_copy("sig")
        edit_manifest(t, lambda m: m.update(poll_interval=1))
        self.expect(hc.SignatureError, t, match="does not verify",
                    public_key=E["KEY_PUB"])
        t = evil_copy("nosig")
        os.unlink(os.path.join(t, "manifest.json.sig"))
        for f in os.listdir(os.path.join(t, "objects")):
            if f.endswith(".sigs"):
                os.unlink(os.path.join(t, "objects", f))
        self.expect(hc.SignatureError, t, match="missing",
                    public_key=E["KEY_PUB"])

    @unittest.skipUnless(HAVE_CRYPTO, "cryptography is not installed")
    def test_9_keyring(self):
        """a keyring verifies when any key of it signed; with no key of
        the signers it is refused naming the key the manifest names"""
        ring = read(E["OTHER_PUB"]) + read(E["KEY_PUB"])
        d = client_copy("ring")
        t0 = evil_copy("ring")
        srv = Server(t0)
        try:
            hc.ListSync(srv.url, d, public_key=ring).sync()
            hc.ListSync(srv.url, client_copy("ringlist"), public_key=[
                E["OTHER_PUB"], E["KEY_PUB"]]).sync()
        finally:
            srv.close()
        kid = json.loads(read(os.path.join(t0, "manifest.json")).decode())[
            "key_id"]
        self.expect(hc.SignatureError, t0, match="names key %s" % kid,
                    public_key=[E["OTHER_PUB"], E["OTHER_PUB"]])
        # Without the signatures object: manifest.json.sig and key_id.
        t = evil_copy("onlysig")
        for f in os.listdir(os.path.join(t, "objects")):
            if f.endswith(".sigs"):
                os.unlink(os.path.join(t, "objects", f))
        srv = Server(t)
        try:
            hc.ListSync(srv.url, client_copy("ringsig"),
                        public_key=ring).sync()
        finally:
            srv.close()
        self.expect(hc.SignatureError, t, match="names key %s" % kid,
                    public_key=E["OTHER_PUB"])


class Test3API(unittest.TestCase):
    def test_1_test_auth(self):
        """test_auth names the token"""
        r = api().test_auth()
        self.assertEqual(r.status, 200)
        self.assertEqual(r["items"][0]["name"], "smokedetector")

    def test_2_blacklist_calls(self):
        """create, get and delete a pattern; a duplicate is APIError 409"""
        p = r"helios-%s-api\.example" % RUN
        r = api().create_blacklist("blacklist-website", p)
        self.assertEqual((r.status, r.is_proposal), (201, False))
        self.assertEqual(r["items"][0]["text_pattern"], p)
        with self.assertRaises(hc.APIError) as cm:
            api().create_blacklist("blacklist-website", p.upper())
        e = cm.exception
        self.assertEqual((e.status, e.error), (409, "duplicate"))
        self.assertEqual(e.items[0]["text_pattern"], p)
        got = api(token="").get_blacklist("blacklist-website")
        self.assertIn(p, [i["text_pattern"] for i in got["items"]])
        self.assertEqual(api().delete_blacklist("blacklist-website",
                                                p).status, 200)
        with self.assertRaises(hc.APIError) as cm:
            api().delete_blacklist("blacklist-website", p)
        self.assertEqual((cm.exception.status, cm.exception.error),
                         (404, "not_found"))

    def test_3_errors(self):
        """no token is 401 unauthorized, an unknown list 404, a bad id refused"""
        with self.assertRaises(hc.APIError) as cm:
            api(token="").create_blacklist("watch-keyword", "x-%s" % RUN)
        self.assertEqual((cm.exception.status, cm.exception.error),
                         (401, "unauthorized"))
        with self.assertRaises(hc.APIError) as cm:
            api().create_blacklist("no-such-list", "x")
        self.assertEqual(cm.exception.status, 404)
        with self.assertRaises(ValueError):
            api().get_blacklist("../auth/create")
        with self.assertRaises(hc.APIError) as cm:
            hc.HeliosAPI("http://127.0.0.1:1").test_auth()
        self.assertEqual(cm.exception.status, 0)

    def test_4_notifications(self):
        """create, list and delete a notification; the client reads notifications.json"""
        uid = 900000 + os.getpid() % 10000
        r = api().create_notification(uid, "stackexchange.com", 11540,
                                      "%s.example" % RUN, always_ping=True)
        self.assertEqual(r.status, 201)
        got = api().get_notifications()["items"]
        mine = [n for n in got if n["user_id"] == uid]
        self.assertEqual([(n["site"], n["always_ping"]) for n in mine],
                         [("%s.example" % RUN, True)])
        with self.assertRaises(hc.APIError) as cm:
            api().create_notification(uid, "stackexchange.com", 11540,
                                      "%s.example" % RUN)
        self.assertEqual(cm.exception.error, "duplicate")
        write(r)
        s = hc.ListSync(E["NG_URL"], A)
        self.assertTrue(s.sync().notifications_changed)
        pub = [n for n in s.notifications() if n["user_id"] == uid]
        self.assertEqual([n["site"] for n in pub], ["%s.example" % RUN])
        self.assertFalse(s.sync().notifications_changed)
        self.assertEqual(api().delete_notification(
            uid, "stackexchange.com", 11540, "%s.example" % RUN).status, 200)

    def test_5_proposal(self):
        """a 202 answer is returned as a proposal, not raised"""
        # The daemon does not answer 202 yet: a server that does.
        body = json.dumps({"items": [{"id": 7, "state": "open",
                                      "list": "watch-keyword",
                                      "value": "x"}],
                           "numItems": 1, "message": "proposed"}).encode()

        class H(hs.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        srv = Server(handler=H)
        try:
            r = hc.HeliosAPI(srv.url, "t").create_blacklist("watch-keyword",
                                                            "x")
        finally:
            srv.close()
        self.assertTrue(r.is_proposal)
        self.assertEqual((r.status, r.records[0]["state"]), (202, "open"))
        self.assertEqual(sorted(k for k, _ in r.items()),
                         ["items", "message", "numItems"])


CHAT = [
    ("!!/blacklist-website spam\\.example", "create_blacklist",
     ["blacklist-website"], ["spam\\.example"]),
    ("!!/blacklist-keyword buy now", "create_blacklist",
     ["blacklist-keyword"], ["buy now"]),
    ("!!/blacklist-username Spam Bot", "create_blacklist",
     ["blacklist-username"], ["Spam Bot"]),
    ("!!/blacklist-number 555-0100", "create_blacklist",
     ["blacklist-number"], ["555-0100"]),
    ("!!/blacklist-website-force x\\.example", "create_blacklist",
     ["blacklist-website"], ["x\\.example"]),
    ("!!/watch x\\.example", "create_blacklist", ["watch-keyword"],
     ["x\\.example"]),
    ("!!/watch-keyword x", "create_blacklist", ["watch-keyword"], ["x"]),
    ("!!/watch-number 555-0101", "create_blacklist", ["watch-number"],
     ["555-0101"]),
    ("!!/unwatch x", "delete_blacklist", ["watch-keyword", "watch-number"],
     ["x"]),
    ("!!/notify 11540 stackoverflow", "create_notification", [],
     [11540, "stackoverflow", True]),
    ("!!/notify 11540 stackoverflow False", "create_notification", [],
     [11540, "stackoverflow", False]),
    ("!!/unnotify 11540 stackoverflow", "delete_notification", [],
     [11540, "stackoverflow"]),
    ("sdc watch y", "create_blacklist", ["watch-keyword"], ["y"]),
]


class Test4Chat(unittest.TestCase):
    def test_1_parse(self):
        """each chat command maps to its API call and list"""
        for text, method, lists, args in CHAT:
            c = hc.parse_chat_command(text)
            self.assertEqual((c.method, c.lists, c.args),
                             (method, lists, args), text)
        for bad in ("!!/watch", "!!/notify x so", "!!/report 1",
                    "hello", "!!/notify 1 so maybe"):
            self.assertRaises(ValueError, hc.parse_chat_command, bad)

    def test_2_run(self):
        """the chat commands write through the daemon and reach the files"""
        k = "helios-%s-chat" % RUN
        num = "555-01%02d-%d" % (sys.version_info[1], os.getpid() % 100000)
        cmds = [
            ("!!/blacklist-website %s\\.example" % k, "blacklist-website",
             "%s\\.example" % k),
            ("!!/blacklist-keyword %s-kw" % k, "blacklist-keyword",
             "%s-kw" % k),
            ("!!/blacklist-username %s user" % k, "blacklist-username",
             "%s user" % k),
            ("!!/blacklist-number 1-%s" % num, "blacklist-number",
             "1-" + num),
            ("!!/watch %s-watch" % k, "watch-keyword", "%s-watch" % k),
            ("!!/watch-number %s" % num, "watch-number", num),
        ]
        for text, lid, value in cmds:
            r = hc.run_chat_command(api(), text)
            self.assertEqual(r.status, 201, text)
            got = [i["text_pattern"] for i in
                   api().get_blacklist(lid)["items"]]
            self.assertIn(value, got, text)
        # unwatch finds the number on the second watchlist
        r = hc.run_chat_command(api(), "!!/unwatch %s" % num)
        self.assertEqual(r.status, 200)
        self.assertEqual(r["items"][0]["type"], "watch-number")
        with self.assertRaises(hc.APIError) as cm:
            hc.run_chat_command(api(), "!!/unwatch %s" % num)
        self.assertEqual(cm.exception.status, 404)
        write(r)
        hc.ListSync(E["NG_URL"], A).sync()
        self.assertEqual(differs_from_pull(A), [])
        for text, lid, value in cmds[:-1]:
            self.assertIn(value.encode(), read(os.path.join(
                A, hc.LIST_FILES[lid])), text)
        self.assertNotIn(num.encode() + b"\n", read(os.path.join(
            A, "watched_numbers.txt")))

    def test_3_notify(self):
        """!!/notify and !!/unnotify add and remove the owner's notification"""
        uid = 800000 + os.getpid() % 10000
        run = functools.partial(hc.run_chat_command, api(), user_id=uid,
                                server="stackexchange.com")
        self.assertEqual(run("!!/notify 11540 %s.so" % RUN).status, 201)
        mine = [n for n in api().get_notifications()["items"]
                if n["user_id"] == uid]
        self.assertEqual([(n["room_id"], n["site"], n["always_ping"])
                          for n in mine], [(11540, "%s.so" % RUN, True)])
        with self.assertRaises(hc.APIError) as cm:
            run("!!/notify 11540 %s.so" % RUN)
        self.assertEqual(cm.exception.status, 409)
        self.assertEqual(run("!!/unnotify 11540 %s.so" % RUN).status, 200)
        with self.assertRaises(hc.APIError) as cm:
            run("!!/unnotify 11540 %s.so" % RUN)
        self.assertEqual(cm.exception.status, 404)
        with self.assertRaises(ValueError):
            hc.run_chat_command(api(), "!!/notify 11540 so")


if __name__ == "__main__":
    sys.exit(tap.main(sys.modules[__name__], TAG))
