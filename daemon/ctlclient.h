/*
 * ctlclient.h - blocking client for h2hd's control socket (see ctl.h for
 * the protocol).  Used by h2hctl and by tests.
 *
 * Two levels:
 *   ctlc_request()  one request on a fresh connection (the usual case);
 *   ctlc_connect() / ctlc_call() / ctlc_close()  several requests on one
 *                   connection.
 *
 * Timeouts: timeout_ms bounds each whole call (connect, or send + receive);
 * <= 0 means no limit.
 *
 * Errors (0 or negative; the message in struct h2h_err is meant for the
 * operator as is):
 *   -ENOENT, -ECONNREFUSED  h2hd is not running ("h2hd is not running (no
 *                           socket at PATH)" / "(nothing listens on PATH)")
 *   -EACCES                 "permission denied on PATH: run as a member of
 *                           the h2hd group or as root"
 *   H2H_EINVALID            the daemon answered {"ok":false}; the message
 *                           is the daemon's.  No other failure in this
 *                           module uses H2H_EINVALID, so callers can tell
 *                           "the daemon said no" from "could not ask".
 *   H2H_ETIMEOUT, H2H_EPROTO (closed early, bad answer), H2H_ETOOBIG,
 *   -ENAMETOOLONG, other -errno.
 *
 * Ownership: args is borrowed; on success *result is a new reference the
 * caller json_decref()s (an empty object when the daemon sent none); on
 * failure *result is NULL.  A ctlc connection belongs to its creator and
 * is freed by ctlc_close() (accepts NULL).
 *
 * Threads: no shared state; one connection per thread.  SIGPIPE is not
 * raised (MSG_NOSIGNAL).
 */
#ifndef H2H_CTLCLIENT_H
#define H2H_CTLCLIENT_H

#include <jansson.h>

#include "h2h_err.h"

/* Largest response line accepted. */
#define CTLC_RESPONSE_MAX (16 * 1024 * 1024 + 64)

struct ctlc;

int ctlc_connect(const char *sock_path, int timeout_ms, struct ctlc **out,
                 struct h2h_err *err);
/* Send {"cmd":cmd,"args":args} (args may be NULL) and wait for the answer. */
int ctlc_call(struct ctlc *c, const char *cmd, json_t *args, int timeout_ms,
              json_t **result, struct h2h_err *err);
void ctlc_close(struct ctlc *c);

/* Connect, call once, close. */
int ctlc_request(const char *sock_path, const char *cmd, json_t *args,
                 int timeout_ms, json_t **result, struct h2h_err *err);

/* 1 when rc means the daemon could not be reached at all (not running,
 * permission, timeout, broken connection), 0 otherwise. */
int ctlc_unreachable(int rc);

#endif
