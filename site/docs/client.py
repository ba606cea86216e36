#!/usr/bin/env python3
"""A minimal Helios client: keeps DIR in step with a published tree.

    python3 client.py URL DIR

Writes SmokeDetector's list files (its own names for the known list ids,
never a name from the mirror) and notifications.json into DIR, downloading only files whose SHA-256 changed,
and remembers the manifest's ETag and version in DIR/.client-state.json.
It follows the protocol in protocol.html, without the optional change
segments: a changed list is downloaded whole (its .gz, a few KB).

Exit status: 0 up to date, 2 network or server error, 3 integrity error,
4 the manifest's version went back, 5 the manifest has expired.  On any
error the files in DIR are left as they were.
"""
import gzip
import hashlib
import json
import os
import sys
import tempfile
import time

import requests

STATE = ".client-state.json"
KNOWN = {
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


class Refused(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def download(session, base, entry):
    """The identity bytes of a manifest file entry, checked against it."""
    ref = entry.get("gz") or entry
    for path in (ref.get("object"), ref["path"]):
        if path is None:
            continue
        r = session.get(base + path, timeout=60)
        if r.status_code == 404:
            continue
        if r.status_code != 200:
            raise Refused(2, "%s: HTTP %d" % (path, r.status_code))
        body = r.content
        break
    else:
        raise Refused(2, "%s: not found" % ref["path"])
    if len(body) != ref["bytes"] or sha256(body) != ref["sha256"]:
        raise Refused(3, "%s: sha256 does not match the manifest" % path)
    if "gz" in entry:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as e:
            raise Refused(3, "%s: bad gzip: %s" % (path, e))
    if len(body) != entry["bytes"] or sha256(body) != entry["sha256"]:
        raise Refused(3, "%s: content does not match" % entry["path"])
    return body


def local_sha(path):
    try:
        with open(path, "rb") as f:
            return sha256(f.read())
    except FileNotFoundError:
        return None


def write_atomic(path, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def poll(base, outdir):
    base = base if base.endswith("/") else base + "/"
    os.makedirs(outdir, exist_ok=True)
    state_path = os.path.join(outdir, STATE)
    try:
        with open(state_path) as f:
            state = json.load(f)
    except FileNotFoundError:
        state = {}
    files = state.get("files", {})
    intact = files and all(local_sha(os.path.join(outdir, name)) == sha
                           for name, sha in files.items())
    session = requests.Session()
    headers = {}
    if intact and state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    try:
        r = session.get(base + "manifest.json", headers=headers, timeout=30)
    except requests.RequestException as e:
        raise Refused(2, str(e))
    if r.status_code == 304:
        return "up to date at version %d" % state["version"]
    if r.status_code != 200:
        raise Refused(2, "manifest.json: HTTP %d" % r.status_code)
    m = json.loads(r.content)
    if m["version"] < state.get("version", 0):
        raise Refused(4, "manifest version %d is older than %d already seen"
                      % (m["version"], state["version"]))
    if m["expires_at"] < time.time():
        raise Refused(5, "manifest version %d has expired" % m["version"])

    by_path = {f["path"]: f for f in m["files"]}
    # Only SmokeDetector's names, never one the mirror makes up.
    wanted = {KNOWN[l["id"]]: by_path[l["text"]] for l in m["lists"]
              if l.get("id") in KNOWN}
    wanted["notifications.json"] = by_path["notifications.json"]
    new = {}
    for name, entry in sorted(wanted.items()):
        if "/" in name or name.startswith("."):
            raise Refused(3, "bad file name %r" % name)
        if local_sha(os.path.join(outdir, name)) != entry["sha256"]:
            new[name] = download(session, base, entry)
    # Everything is checked: replace the files, then the state.
    for name, data in new.items():
        write_atomic(os.path.join(outdir, name), data)
    write_atomic(state_path, json.dumps({
        "etag": r.headers.get("ETag", ""), "version": m["version"],
        "files": {n: e["sha256"] for n, e in wanted.items()},
    }, sort_keys=True).encode())
    return "version %d: %d files downloaded" % (m["version"], len(new))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: client.py URL DIR")
    try:
        print(poll(sys.argv[1], sys.argv[2]))
    except Refused as e:
        print("client.py: %s" % e, file=sys.stderr)
        sys.exit(e.code)
    except requests.RequestException as e:
        print("client.py: %s" % e, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
