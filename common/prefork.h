/*
 * prefork.h - the master of a FastCGI program (acme-fcgi, acme-web): opens
 * or inherits the listening socket, forks a fixed pool of children,
 * replaces those that die, reloads the configuration on SIGHUP and stops
 * gracefully on SIGTERM. The program gives its keys and callbacks.
 */
#ifndef ACME_PREFORK_H
#define ACME_PREFORK_H

#include <fcgiapp.h>

#include "config.h"
#include "util.h"

#define PREFORK_MAX_CHILDREN	256

struct prefork {
	const char	*prog;		/* log name, e.g. "acme-fcgi" */
	enum cfg_key	 listen_key;	/* socket spec: path, host:port, "" */
	enum cfg_key	 children_key;	/* 0: no master */
	/* Called once the socket is open, before any child; returns 1, or
	 * 0 to exit (logged). May be NULL. */
	int		(*start)(int nchildren);
	/* Serves requests on the socket; does not return. */
	void		(*child_main)(int listen_fd);
	/* After a reload (new children count), after a child restart; may
	 * be NULL. */
	void		(*reloaded)(int nchildren);
	void		(*restarted)(void);
};

/* Loads the configuration file conf (NULL: defaults), applies the
 * command-line values nchild and listen_spec (NULL: not given) over it,
 * then runs the master until SIGTERM (or serves in this process when the
 * children key is 0). Returns the exit status of the program. */
int	 prefork_main(const struct prefork *, const char *conf,
	    const char *nchild, const char *listen_spec);

/* Parses the command line (-c config, -n children, -s socket; anything
 * else prints the usage and exits 2), then runs prefork_main. Returns
 * the exit status of the program. */
int	 prefork_cmdline(const struct prefork *, int argc, char *argv[]);

/* In a child: takes SIGTERM as the order to stop gracefully, makes the
 * socket non-blocking, calls setup(arg) (the child's own connections),
 * then calls handle(arg, request) for each request until told to stop
 * (the queued ones are served first). Returns when the child must exit;
 * the caller frees what setup made. */
void	 prefork_serve(int listen_fd, void (*setup)(void *),
	    void (*handle)(void *, FCGX_Request *), void *arg);

#endif
