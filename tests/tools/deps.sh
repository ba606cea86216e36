#!/bin/sh
# Installs the Debian packages Helios builds and runs with, when missing.
# As root it runs apt-get; as another user it names the packages and the
# command to run.  `make run` and .ci/run call this.
#
#   sh tests/tools/deps.sh          build and run dependencies
#   sh tests/tools/deps.sh test     also the test servers and tools
set -e
BUILD="build-essential pkg-config libsqlite3-dev libmicrohttpd-dev
libcurl4-openssl-dev libgit2-dev zlib1g-dev libjansson-dev libssl-dev
libyaml-dev libpcre2-dev"
TEST="libcmocka-dev clang libclang-rt-14-dev nginx fcgiwrap git awscli
python3 python3-requests nodejs npm curl valgrind wrk sqlite3 openssl jq
chromium"
want=$BUILD
[ "${1:-}" = test ] && want="$BUILD $TEST"
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
[ -z "$missing" ] && exit 0
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
