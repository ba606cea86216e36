#!/bin/sh
# s3rver.sh: starts and stops the S3-compatible test server
# (@20minutes/s3rver 5 from node_modules, which checks SigV4 signatures;
# its credentials are S3RVER / S3RVER).
#
#   s3rver.sh start DIR [PORT [BUCKET]]
#       serves the objects under DIR/data on 127.0.0.1:PORT (0 or no PORT:
#       a free port) with BUCKET (default "helios") created; logs to
#       DIR/s3rver.log; prints "PORT PID" once the server answers.
#   s3rver.sh stop PID
#       stops the server started with that process id.
#
# The npm package ships without its bin/ script, so the CLI module is run
# directly with node.  Exit status 1 when node or the package is missing:
# a test that needs the server must fail, not skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cli=$root/node_modules/@20minutes/s3rver/lib/cli.js

case "${1:-}" in
start)
	dir=${2:?usage: s3rver.sh start DIR [PORT [BUCKET]]}
	port=${3:-0}
	bucket=${4:-helios}
	if ! command -v node >/dev/null 2>&1; then
		echo "s3rver.sh: node is not installed" >&2
		exit 1
	fi
	if [ ! -f "$cli" ]; then
		echo "s3rver.sh: $cli missing (run npm install)" >&2
		exit 1
	fi
	mkdir -p "$dir/data" || exit 1
	log=$dir/s3rver.log
	: >"$log"
	# setsid: the server gets its own process group, so that a test's
	# terminal signals do not reach it and stop kills only it.
	setsid node -e "
require(process.argv[1]).parseAsync(['node', 's3rver',
    '-d', process.argv[2], '-p', process.argv[3], '-a', '127.0.0.1',
    '-s', '--configure-bucket', process.argv[4]])
    .catch((e) => { console.error(String(e)); process.exit(1) })
" "$cli" "$dir/data" "$port" "$bucket" </dev/null >>"$log" 2>&1 &
	pid=$!
	n=0
	while :; do
		p=$(sed -n \
		    's/^S3rver listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
		    "$log")
		[ -n "$p" ] && break
		if ! kill -0 "$pid" 2>/dev/null || [ $n -gt 200 ]; then
			echo "s3rver.sh: server did not start:" >&2
			cat "$log" >&2
			kill "$pid" 2>/dev/null
			exit 1
		fi
		n=$((n + 1))
		sleep 0.05
	done
	echo "$p $pid"
	;;
stop)
	pid=${2:?usage: s3rver.sh stop PID}
	kill "$pid" 2>/dev/null || exit 0
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
		n=$((n + 1))
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null
	exit 0
	;;
*)
	echo "usage: s3rver.sh start DIR [PORT [BUCKET]] | stop PID" >&2
	exit 1
	;;
esac
