#!/bin/sh
# Installs what Helios needs that is missing.  As root it runs apt-get; as
# another user it names the packages and the command to run, and stops.
# `make run` calls it for the build, `make test` (and so .ci/run) for the
# suite.
#
#   sh tests/tools/deps.sh          build and run dependencies
#   sh tests/tools/deps.sh test     also the test servers and tools, and the
#                                   npm modules of package-lock.json
set -e
BUILD="build-essential pkg-config libsqlite3-dev libmicrohttpd-dev
libcurl4-openssl-dev libgit2-dev zlib1g-dev libjansson-dev libssl-dev
libyaml-dev libpcre2-dev libseccomp-dev libdeflate-dev libunistring-dev"
TEST="libcmocka-dev clang libclang-rt-14-dev nginx fcgiwrap git awscli
python3 python3-requests python3-yaml python3-regex nodejs npm curl valgrind wrk sqlite3 openssl jq
chromium"
want=$BUILD
[ "${1:-}" = test ] && want="$BUILD $TEST"
# HL_DEPS_EXTRA: more package names, for the test of this script itself.
want="$want ${HL_DEPS_EXTRA:-}"
missing=""
for p in $want; do
	# Tools that may come from outside Debian's packages (a node
	# installed by hand brings its own npm) count when on the PATH.
	case $p in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm|python3|git|curl|chromium) command -v "$p" >/dev/null 2>&1 &&
		continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
# npm modules: installed (npm ci) when node_modules is missing or older
# than package-lock.json.  Needs no root: they go into ./node_modules.
npm_modules() {
	[ "${1:-}" = test ] || return 0
	stamp=node_modules/.package-lock.json
	[ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ] && return 0
	echo "installing npm modules (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
}
if [ -z "$missing" ]; then
	npm_modules "${1:-}"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "helios needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
npm_modules "${1:-}"
