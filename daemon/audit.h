/*
 * audit.h - append-only audit log of control commands that can move money.
 *
 * Purpose: a record of who asked h2hd to retry, release, ... what and when,
 * kept apart from the event log so it can have its own retention and
 * permissions.  One logfmt line per record:
 *
 *   ts=2026-11-28T13:50:01.123Z uid=1000 user=alice cmd=retry
 *       args="{\"id\":\"M1\"}" phase=request
 *   ts=2026-11-28T13:50:01.130Z uid=1000 user=alice cmd=retry
 *       args="{\"id\":\"M1\"}" phase=result outcome=ok
 *
 * (each record is one line; wrapped here).  Values are quoted and escaped
 * the same way as daemon/log.c does it (quotes when a value holds a space,
 * '=', '"', '\\' or a control character; newlines become \n), so a
 * user-supplied argument can never forge a field or a second line.
 *
 * Lifecycle: audit_open() -> audit_record()* -> audit_close().
 * audit_reopen() reopens the same path after logrotate renamed the file
 * (call it on SIGHUP).
 *
 * Durability: the file is opened O_APPEND|O_CREAT with mode 0640, each
 * record is written with a single write(2) and fsync'd before
 * audit_record() returns, so a record the caller was told is written
 * survives a crash.  The containing directory is fsync'd when the file is
 * created.
 *
 * Ownership: struct audit belongs to the caller of audit_open(), freed by
 * audit_close() (accepts NULL).  Strings passed in are borrowed.
 *
 * Errors: 0 or a negative code (-errno from the file system, H2H_ETOOBIG);
 * struct h2h_err (may be NULL) receives a message naming the path.
 *
 * Threads: an audit object is used from one thread at a time (the loop
 * thread in h2hd).  Note that the fsync blocks that thread for a moment;
 * audited commands are rare operator actions, so that is accepted.
 */
#ifndef H2H_AUDIT_H
#define H2H_AUDIT_H

#include <sys/types.h>

#include "h2h_err.h"

struct audit;

/* Arguments longer than this are cut and marked "...(truncated)". */
#define AUDIT_ARGS_MAX (64 * 1024)

/* Open (creating with mode 0640) the audit log at path for appending. */
int audit_open(const char *path, struct audit **out, struct h2h_err *err);

/*
 * Append one record and fsync it.  outcome NULL writes the request record
 * (phase=request, before the command runs); otherwise the result record
 * (phase=result outcome=<outcome>, e.g. "ok" or "error: no such message").
 * args_json may be NULL (written as args={}).  The user name is looked up
 * from uid (user=? when unknown).
 */
int audit_record(struct audit *a, uid_t uid, const char *cmd,
                 const char *args_json, const char *outcome,
                 struct h2h_err *err);

/* Reopen the path given to audit_open() (after a rename by logrotate).
 * On failure the old descriptor stays in use; returns 0 or -errno. */
int audit_reopen(struct audit *a);

/* The path given to audit_open(). */
const char *audit_path(const struct audit *a);

/* Close and free; NULL is fine. */
void audit_close(struct audit *a);

#endif
