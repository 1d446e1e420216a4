/*
 * ctl.h - the control socket: h2hctl's way into a running h2hd.
 *
 * Protocol: JSON lines over a Unix stream socket.  A request is one line
 *
 *     {"cmd":"queue","args":{"state":"deferred","bank":"b1"}}\n
 *
 * ("args" optional; must be an object when present) and gets one line back:
 *
 *     {"ok":true,"result":{...}}\n
 *     {"ok":false,"error":"human readable reason"}\n
 *
 * Several requests per connection are allowed and answered in order.  A
 * request line longer than CTL_REQUEST_MAX bytes is answered with an error
 * and the connection is closed; a client that sends nothing for
 * CTL_IDLE_TIMEOUT_MS is disconnected.  Access control is the socket's
 * file mode (and its directory); the peer's uid (SO_PEERCRED) is handed to
 * every handler and written to the audit log.
 *
 * Lifecycle (libuv style): ctl_server_start() -> ctl_server_register()* ->
 * ctl_server_close(s, cb).  Memory is released once every handle is
 * closed, then cb runs; after that uv_loop_close() sees no handle of ours.
 * Commands may be registered before or after the server starts listening.
 *
 * Handlers are synchronous and run on the loop thread.  A handler returns
 * 0 and sets *result to a new reference (NULL means an empty object), or
 * a negative code with a message in err (the message becomes the "error"
 * string; without one, h2h_strerror(code) is used).  A command registered
 * with CTL_F_AUDIT is written to the audit log before its handler runs
 * (phase=request) and again with the outcome (phase=result); if the
 * request record cannot be written, the command is refused and the
 * handler does not run.
 *
 * Ownership: the server borrows loop and audit (both must outlive it) and
 * handler contexts.  args passed to a handler are borrowed for the call.
 *
 * Errors: 0 or negative; -EADDRINUSE when another process answers on the
 * socket path, -EEXIST when the path exists and is not a socket, -errno
 * from the system otherwise; details in struct h2h_err.
 *
 * Threads: every function here must be called on the loop thread.
 */
#ifndef H2H_CTL_H
#define H2H_CTL_H

#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#include "audit.h"
#include "h2h_err.h"

#define CTL_REQUEST_MAX (64 * 1024)
#define CTL_IDLE_TIMEOUT_MS 30000
/* A response larger than this is replaced by an error. */
#define CTL_RESPONSE_MAX (16 * 1024 * 1024)

struct ctl_server;

typedef int (*ctl_handler)(void *ctx, const json_t *args, uid_t peer_uid,
                           json_t **result, struct h2h_err *err);

enum {
    CTL_F_AUDIT = 1, /* the command can move money: audited */
};

/*
 * Listen on sock_path (mode e.g. 0660).  A leftover socket file that no one
 * answers on is removed first; if a process answers, -EADDRINUSE.  audit
 * may be NULL (audited commands then run unaudited).  On error *out is
 * NULL and nothing is left on the loop.
 */
int ctl_server_start(uv_loop_t *loop, const char *sock_path, int mode,
                     struct audit *audit, struct ctl_server **out,
                     struct h2h_err *err);

/* Add a command; cmd is copied.  -EEXIST if the name is taken, -EINVAL
 * for an empty name or NULL handler. */
int ctl_server_register(struct ctl_server *s, const char *cmd, ctl_handler h,
                        void *ctx, unsigned flags);

/* Change the idle timeout for connections accepted from now on (tests). */
void ctl_server_set_idle_timeout(struct ctl_server *s, unsigned ms);

/* Swap the audit log (e.g. after a reload changed its path); borrowed. */
void ctl_server_set_audit(struct ctl_server *s, struct audit *audit);

/* Number of open client connections (tests, status). */
unsigned ctl_server_clients(const struct ctl_server *s);

/*
 * Stop listening, close every client, unlink the socket (if it is still
 * ours), and call cb(arg) (may be NULL) once all handles are closed and
 * the server is freed.  Call once; s is invalid afterwards.
 */
void ctl_server_close(struct ctl_server *s, void (*cb)(void *arg),
                      void *arg);

#endif
