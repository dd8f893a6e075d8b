/*
 * nullfcgi.c - the do-nothing FastCGI responder of `make bench`: the
 * ceiling for newNonce through the same nginx. Forks N children on the
 * socket like acme-fcgi does; each answers every request at once with
 * the headers of a newNonce answer (a constant nonce), and no work.
 *
 *	nullfcgi -s HOST:PORT [-n CHILDREN]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

static void
child(int fd)
{
	FCGX_Request r;

	if (FCGX_InitRequest(&r, fd, 0) != 0)
		exit(1);
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutS("Status: 200 OK\r\n"
		    "Replay-Nonce: AAAAAQAAAABnAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAA\r\n"
		    "Link: <https://127.0.0.1/directory>;rel=\"index\"\r\n"
		    "Cache-Control: no-store\r\n\r\n", r.out);
		FCGX_Finish_r(&r);
	}
	exit(0);
}

int
main(int argc, char *argv[])
{
	const char *spec = NULL;
	int ch, n = 2, i, fd;

	while ((ch = getopt(argc, argv, "s:n:")) != -1) {
		switch (ch) {
		case 's':
			spec = optarg;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: nullfcgi -s HOST:PORT "
			    "[-n CHILDREN]\n");
			return 2;
		}
	}
	if (spec == NULL || n < 1 || FCGX_Init() != 0 ||
	    (fd = FCGX_OpenSocket(spec, 128)) < 0) {
		fprintf(stderr, "nullfcgi: cannot listen on %s\n",
		    spec != NULL ? spec : "(none)");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++)
		if (fork() == 0)
			child(fd);
	while (wait(NULL) > 0)
		;
	return 0;
}
