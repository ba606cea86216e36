#!/bin/sh
# A smart-HTTP git server for the tests: nginx with basic auth in front of
# fcgiwrap running git's git-http-backend, on a free port of 127.0.0.1,
# everything (config, logs, sockets, repositories) inside DIR.
#
#   sh tests/tools/git-http.sh start DIR USER PASSWORD
#        creates DIR/root/pages.git (bare, push enabled) unless it exists,
#        DIR/htpasswd, and starts both servers.  Prints the port, also kept
#        in DIR/port (a restart reuses it).  The repository URL is
#        http://127.0.0.1:PORT/pages.git.  Exit status 1 if a server does
#        not come up (nginx or fcgiwrap missing is a failure, not a skip).
#   sh tests/tools/git-http.sh stop DIR
#        stops both servers (by the pids this script recorded).
#
# Two settings of the environment, read at start, for tests of a push's
# wire:
#   GIT_HTTP_NO_THIN=1     the advertisement for a push says "no-thin" (a
#                          server that takes no thin pack).  git's
#                          receive-pack never says it, so nginx's
#                          sub_filter writes it over "delete-refs", which
#                          has the same length: every pkt-line keeps its
#                          length prefix right.  A stand-in for such a
#                          server, as none can run here.
#   GIT_HTTP_KEEP_BODIES=1 every request body is kept, as nginx received
#                          it, in DIR/tmp/body/ (nginx's numbered files).
#   GIT_HTTP_TLS=1         https instead of http: a self-signed
#                          certificate for "localhost" (DIR/tls.crt, made
#                          with openssl at start; clients trust that file),
#                          the URL https://localhost:PORT/pages.git.
set -u
cmd=${1:-}
DIR=${2:-}
[ -n "$DIR" ] || { echo "usage: $0 start|stop DIR [USER PASSWORD]" >&2; exit 2; }
BACKEND=${GIT_HTTP_BACKEND:-/usr/lib/git-core/git-http-backend}

stop() {
	for f in "$DIR/nginx.pid.ours" "$DIR/fcgiwrap.pid"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null
		n=0
		while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1; n=$((n + 1))
		done
		rm -f "$f"
	done
	rm -f "$DIR/fcgi.sock"
}

start() {
	user=$3; pass=$4
	for p in nginx fcgiwrap openssl git; do
		command -v "$p" >/dev/null 2>&1 ||
		    [ -x "/usr/sbin/$p" ] ||
		    { echo "git-http.sh: $p is not installed" >&2; exit 1; }
	done
	[ -x "$BACKEND" ] || { echo "git-http.sh: no $BACKEND" >&2; exit 1; }
	PATH=$PATH:/usr/sbin
	# An absolute DIR, made if missing: never fall back to "/".
	mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd) && [ -n "$DIR" ] &&
	    [ "$DIR" != / ] || { echo "git-http.sh: bad DIR" >&2; exit 1; }
	mkdir -p "$DIR/root" "$DIR/tmp" "$DIR/logs"
	if [ ! -d "$DIR/root/pages.git" ]; then
		git init -q --bare "$DIR/root/pages.git" || exit 1
		git --git-dir="$DIR/root/pages.git" config http.receivepack true
	fi
	printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$pass")" \
	    >"$DIR/htpasswd"
	if [ -f "$DIR/port" ]; then
		port=$(cat "$DIR/port")
	else
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		echo "$port" >"$DIR/port"
	fi
	usr=""
	[ "$(id -u)" = 0 ] && usr="user $(id -un) $(id -gn);"
	extra=""
	[ "${GIT_HTTP_NO_THIN:-}" = 1 ] && extra="$extra
			sub_filter_types application/x-git-receive-pack-advertisement;
			sub_filter ' delete-refs ' ' no-thin d-r ';"
	[ "${GIT_HTTP_KEEP_BODIES:-}" = 1 ] && extra="$extra
			client_body_in_file_only on;"
	scheme=http; listen="127.0.0.1:$port"; curlca=""
	if [ "${GIT_HTTP_TLS:-}" = 1 ]; then
		[ -f "$DIR/tls.crt" ] || openssl req -x509 -newkey rsa:2048 \
		    -nodes -days 2 -subj /CN=localhost \
		    -addext subjectAltName=DNS:localhost \
		    -keyout "$DIR/tls.key" -out "$DIR/tls.crt" 2>/dev/null ||
		    { echo "git-http.sh: openssl req failed" >&2; exit 1; }
		scheme=https; listen="$listen ssl"; curlca="--cacert $DIR/tls.crt"
		listen="$listen;
		ssl_certificate $DIR/tls.crt;
		ssl_certificate_key $DIR/tls.key"
	fi
	cat >"$DIR/nginx.conf" <<CONF
$usr
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/logs/error.log;
events { worker_connections 64; }
http {
	log_format t '\$request_method \$uri \$status \$body_bytes_sent \$request_time';
	access_log $DIR/logs/access.log t;
	client_body_temp_path $DIR/tmp/body;
	fastcgi_temp_path $DIR/tmp/fastcgi;
	proxy_temp_path $DIR/tmp/proxy;
	uwsgi_temp_path $DIR/tmp/uwsgi;
	scgi_temp_path $DIR/tmp/scgi;
	client_max_body_size 0;
	server {
		listen $listen;
		location / {
			auth_basic "git";
			auth_basic_user_file $DIR/htpasswd;
			fastcgi_pass unix:$DIR/fcgi.sock;
			fastcgi_param SCRIPT_FILENAME $BACKEND;
			fastcgi_param GIT_PROJECT_ROOT $DIR/root;
			fastcgi_param GIT_HTTP_EXPORT_ALL "";
			fastcgi_param PATH_INFO \$uri;
			fastcgi_param REMOTE_USER \$remote_user;
			fastcgi_param REMOTE_ADDR \$remote_addr;
			fastcgi_param QUERY_STRING \$query_string;
			fastcgi_param REQUEST_METHOD \$request_method;
			fastcgi_param CONTENT_TYPE \$content_type;
			fastcgi_param CONTENT_LENGTH \$content_length;
			fastcgi_param SERVER_PROTOCOL \$server_protocol;
			fastcgi_param GATEWAY_INTERFACE CGI/1.1;$extra
		}
	}
}
CONF
	rm -f "$DIR/fcgi.sock"
	fcgiwrap -s "unix:$DIR/fcgi.sock" </dev/null \
	    >>"$DIR/logs/fcgiwrap.log" 2>&1 &
	echo $! >"$DIR/fcgiwrap.pid"
	nginx -p "$DIR" -c "$DIR/nginx.conf" -g 'daemon off;' </dev/null \
	    >>"$DIR/logs/nginx.out" 2>&1 &
	echo $! >"$DIR/nginx.pid.ours"
	n=0
	while :; do
		code=$(curl -s $curlca -o /dev/null -w '%{http_code}' \
		    --resolve "localhost:$port:127.0.0.1" \
		    "$scheme://localhost:$port/pages.git/info/refs" 2>/dev/null)
		[ "$code" = 401 ] && [ -S "$DIR/fcgi.sock" ] && break
		n=$((n + 1))
		if [ $n -gt 100 ]; then
			echo "git-http.sh: servers did not come up" >&2
			cat "$DIR/logs/error.log" "$DIR/logs/nginx.out" \
			    "$DIR/logs/fcgiwrap.log" >&2 2>/dev/null
			stop
			exit 1
		fi
		sleep 0.1
	done
	echo "$port"
}

case "$cmd" in
start)	[ $# -eq 4 ] || { echo "usage: $0 start DIR USER PASSWORD" >&2; exit 2; }
	start "$@" ;;
stop)	stop ;;
*)	echo "usage: $0 start|stop DIR [USER PASSWORD]" >&2; exit 2 ;;
esac
