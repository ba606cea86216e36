/*
 * static_serve: serves one directory with src/static.c on 127.0.0.1, and
 * nothing else, so the integration tests can compare the built-in static
 * server with nginx over the same published tree.
 *
 *	static_serve ROOT PORT
 *
 * PORT 0 picks a free port.  Prints "port N" on stdout once it listens,
 * then serves until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "static.h"

static void
die(const char *msg, const char *arg)
{
	fprintf(stderr, "static_serve: %s%s\n", msg, arg);
	exit(1);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	unsigned status;
	size_t bytes;

	return hl_static_serve(cls, conn, method, url, &status, &bytes);
}

int
main(int argc, char *argv[])
{
	const union MHD_DaemonInfo *info;
	struct hl_err e = HL_ERR_INIT;
	struct hl_static *st = NULL;
	struct MHD_Daemon *d;
	struct sockaddr_in sa;
	sigset_t set;
	char *end;
	long port;
	int sig;

	if (argc != 3) {
		fprintf(stderr, "usage: static_serve root port\n");
		return 1;
	}
	port = strtol(argv[2], &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		die("bad port: ", argv[2]);
	if (hl_static_new(&st, argv[1], &e) != 0 ||
	    hl_static_start(st, &e) != 0)
		die(e.msg, "");

	/* blocked before the daemon starts, so its threads inherit it */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, st,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_UNESCAPE_CALLBACK, hl_static_unescape, NULL,
	    MHD_OPTION_END);
	if (d == NULL)
		die("cannot listen on 127.0.0.1:", argv[2]);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("port %u\n", info != NULL ? (unsigned)info->port : 0u);
	fflush(stdout);

	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	hl_static_free(st);
	return 0;
}
