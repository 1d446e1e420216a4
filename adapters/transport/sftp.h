/*
 * sftp.h - asynchronous SFTP client on the libuv loop (libssh2).
 *
 * Purpose: move files to and from a bank's SFTP server without ever
 * blocking the loop.  libssh2 runs in non-blocking mode; each session owns
 * one TCP socket watched by one uv_poll_t in the directions
 * libssh2_session_block_directions() asks for, and every wait is bounded by
 * a uv_timer.  A session is an explicit state machine:
 *
 *   resolve -> connect -> handshake -> host key check -> auth -> sftp init
 *           -> ready (idle / running one operation) -> closing -> closed
 *
 * Operations are queued on a session and run one at a time, in order; a
 * burst of files reuses one session.  struct sftp_pool hands operations to
 * up to max_sessions sessions to one server and opens / reuses / retires
 * them (idle timeout) as needed.
 *
 * Lifecycle (libuv style):
 *   sftp_session_new() starts connecting at once and returns the session;
 *   operations may be queued immediately (they wait for "ready").
 *   sftp_session_close(s, cb, data) cancels queued operations, aborts the
 *   one in flight (a download whose local file is being fsync'd finishes
 *   first), says goodbye to the server (bounded), closes the handles, calls
 *   cb(data) once and frees s.  The same for sftp_pool_new / _close.
 *   Memory is released only after every handle's close callback ran, so
 *   uv_loop_close() returns 0 once cb ran.
 *
 * Contract for every operation (sftp_upload ... sftp_rename, sftp_list_tmp and
 * the sftp_pool_* twins):
 *   - returns 0 and calls cb exactly once, later, on the loop thread
 *     (never from inside the call); or returns a negative code with err
 *     filled and never calls cb (bad arguments, session closing / dead);
 *   - every string argument is copied: the caller may free it on return;
 *   - the struct sftp_result passed to cb and everything it points to
 *     (entries, local_path) is valid only during the callback: copy what
 *     you keep;
 *   - when a session dies (network, timeout, server gone) the operation in
 *     flight and every queued one report the failure; the session is then
 *     useless and must still be closed by its owner.
 *
 * Outcomes (enum h2h_outcome from adapter.h) with err.code:
 *   OK
 *   TEMPFAIL  network error, refused/closed connection, timeout (H2H_ETIMEOUT),
 *             server failure, no space (-ENOSPC), canceled (H2H_ECANCELED)
 *   PERMFAIL  host key unknown or changed (H2H_EHOSTKEY), authentication
 *             refused (H2H_EAUTH), key file readable by others
 *             (H2H_ESECURITY), permission denied (-EACCES), no such file
 *             or folder (H2H_ENOTFOUND), final name taken (H2H_EDUP, see
 *             sftp_upload), unsupported (H2H_EUNSUPPORTED), bad local
 *             file, too big (H2H_ETOOBIG)
 *   UNKNOWN   upload / rename / remove: the connection broke after the
 *             final request was sent; the server may or may not have done
 *             it, ask it (sftp_stat) before repeating
 *
 * Host keys are pinned: known_hosts (OpenSSH format) is required; the key
 * the server presents must be listed for "host" or "[host]:port".  An
 * unknown or changed key fails closed (PERMFAIL, H2H_EHOSTKEY); the message
 * carries the presented key's type and SHA-256 fingerprint in OpenSSH's
 * form ("ssh-ed25519 SHA256:base64-without-padding") so that an operator
 * can verify it out of band and pin it.  This module does not log (it sits
 * below daemon/log.h): the caller logs the outcome it decides on.
 *
 * Algorithms: only curve25519 / ECDH / SHA-2 DH key exchange, ed25519 and
 * ECDSA host keys, AES-CTR ciphers and HMAC-SHA2 MACs are offered: no SHA-1,
 * no CBC, no DSS, no ssh-rsa (SHA-1 signed) host keys.  Debian 12's
 * OpenSSH 9.2 accepts this with its defaults.
 *
 * Authentication: an ed25519 or ECDSA private key (OpenSSH or PEM format;
 * the public key is derived from it), optionally encrypted with a
 * passphrase read from passphrase_file; then, if the key was refused or
 * none is configured, a password read from password_file.  A key, passphrase
 * or password file readable by group or others is refused before use
 * (PERMFAIL, H2H_ESECURITY).  Secrets are read just before use, wiped after
 * it, and never appear in a log line or an error message.
 *
 * RSA keys: libssh2 before 1.11.0 (Debian 12 ships 1.10.0) can sign only
 * with "ssh-rsa" (SHA-1), which OpenSSH >= 8.8 refuses by default.  With such
 * a libssh2 (LIBSSH2_VERSION_NUM < 0x010b00, decided at build time) a
 * refused RSA key is reported with that cause and the advice to use an
 * ed25519 or ECDSA key instead.
 *
 * Local files: upload reads the local file in chunks on the loop thread
 * (page-cache reads); download writes chunks on the loop thread and does
 * the fsync + rename + directory fsync on the libuv thread pool.
 *
 * Threads: every function here must be called on the loop thread; every
 * callback runs on it.
 */
#ifndef H2H_SFTP_H
#define H2H_SFTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "adapter.h"
#include "h2h_err.h"

struct sftp_session;
struct sftp_pool;

/* Connection settings.  Strings are copied by sftp_session_new /
 * sftp_pool_new.  A timeout of 0 takes the default in brackets. */
struct sftp_opts {
    const char *host; /* name or address */
    unsigned port;    /* [22] */
    const char *user;
    const char *private_key;       /* path; NULL: password only */
    const char *passphrase_file;   /* optional: the key's passphrase */
    const char *password_file;     /* optional: password authentication */
    const char *known_hosts;       /* required, OpenSSH format */
    unsigned connect_timeout_ms;   /* resolve + TCP connect [10000] */
    unsigned handshake_timeout_ms; /* banner, key exchange [15000] */
    unsigned auth_timeout_ms;      /* authentication + sftp init [15000] */
    unsigned op_timeout_ms;        /* an operation waiting this long for the
                                    * server without progress fails; also
                                    * bounds the goodbye on close [60000] */
    unsigned keepalive_s;          /* idle keepalive interval; [30] */
    uint64_t max_download;         /* download size cap [1 GiB] */
};

enum sftp_state {
    SFTP_CONNECTING = 0, /* resolve / connect / handshake / auth / init */
    SFTP_READY = 1,      /* idle or running an operation */
    SFTP_CLOSING = 2,    /* closed by its owner or broken; no new work */
};

/* One regular file of a listing. */
struct sftp_entry {
    const char *name; /* passed names_check_drop() */
    uint64_t size;
    int64_t mtime; /* seconds since the epoch; 0 when not sent */
};

struct sftp_result {
    enum h2h_outcome outcome;
    struct h2h_err err; /* code and message when outcome != OK */
    /* stat: exists/size/mtime/is_regular of the path (exists == 0 with
     * outcome OK when there is no such file).  upload: exists == 1 and
     * err.code == H2H_EDUP when the final name was taken (size/mtime are
     * then the existing file's); else size = bytes written.  download:
     * size = bytes received.  rename: exists == 1 with H2H_EDUP when the
     * target was taken. */
    int exists;
    int is_regular;
    uint64_t size;
    int64_t mtime;
    int fsynced;            /* upload: the server fsync'd the data */
    char sha256[65];        /* upload: of what was sent; download: of
                             * what was received (hex) */
    const char *local_path; /* download: the final local file */
    /* list: the regular, validated, non-hidden files */
    const struct sftp_entry *entries;
    size_t n_entries;
    size_t n_invalid; /* names refused by names_check_drop */
    size_t n_other;   /* not regular files (dirs, links, ...) */
    int truncated;    /* more than SFTP_LIST_MAX entries */
};

#define SFTP_LIST_MAX 10000

typedef void (*sftp_cb)(const struct sftp_result *res, void *data);
typedef void (*sftp_close_cb)(void *data);

/* sftp_upload flags */
enum {
    SFTP_UPLOAD_NO_FSYNC = 1, /* skip fsync@openssh.com even if offered */
};

/* Create a session and start connecting.  0 or H2H_EINVALID (missing host,
 * user, known_hosts or credentials) / H2H_ENOMEM; on error nothing was
 * started and *out is NULL. */
int sftp_session_new(uv_loop_t *loop, const struct sftp_opts *opts,
                     struct sftp_session **out, struct h2h_err *err);

/* Close: see the lifecycle above.  cb may be NULL.  s must not be used
 * after this call; calling it twice is a bug. */
void sftp_session_close(struct sftp_session *s, sftp_close_cb cb, void *data);

enum sftp_state sftp_session_state(const struct sftp_session *s);

/*
 * Upload local_path to remote_dir/remote_name (remote_name must pass
 * names_check_drop).  Steps: write remote_dir/.h2h-tmp.<rand>.<remote_name>
 * (mode 0644, exclusive create); fsync@openssh.com when the server offers
 * it (res->fsynced) together with an fstat that compares the remote size
 * with the local size; close together with a stat of the final name
 * (taken -> PERMFAIL, H2H_EDUP, exists = 1, size of the existing file: the
 * caller compares and decides whether it is already delivered); rename
 * with a plain SFTP rename, which OpenSSH refuses onto an existing name
 * (never posix-rename; a name taken in between is reported the same way).
 * Five round trips per small file: each pair shares one.  On any failure
 * the temporary is removed (best effort while the session lives).
 */
int sftp_upload(struct sftp_session *s, const char *local_path,
                const char *remote_dir, const char *remote_name, unsigned flags,
                sftp_cb cb, void *data, struct h2h_err *err);

/* Does remote_path exist; its size, mtime, type. */
int sftp_stat(struct sftp_session *s, const char *remote_path, sftp_cb cb,
              void *data, struct h2h_err *err);

/* Regular files in remote_dir; hidden names (".*") are skipped silently,
 * names failing names_check_drop() are skipped and counted (n_invalid). */
int sftp_list(struct sftp_session *s, const char *remote_dir, sftp_cb cb,
              void *data, struct h2h_err *err);

/*
 * Our upload temporaries of remote_name in remote_dir: the regular files
 * named FSU_TMP_PREFIX<8 hex digits>.<remote_name> that sftp_upload leaves
 * behind when its connection dies between creating and renaming one (on
 * other failures it removes them itself).  entries hold their names (and
 * mtimes), for the caller to remove before it concludes that remote_name
 * never arrived (remove first: once the temporary is gone, a rename still
 * on its way from the dead connection can no longer land).  remote_name
 * must pass names_check_drop; NULL lists the temporaries of every name.
 */
int sftp_list_tmp(struct sftp_session *s, const char *remote_dir,
                  const char *remote_name, sftp_cb cb, void *data,
                  struct h2h_err *err);

/*
 * Download remote_path (a regular file up to opts.max_download bytes) to
 * local_dir/local_name: written to local_dir/.h2h-tmp.<rand>.<local_name>,
 * SHA-256 computed on the way, size checked against the remote stat,
 * fsync'd, renamed into place without replacing (an existing local_name ->
 * PERMFAIL, H2H_EDUP), directory fsync'd.  local_name must pass
 * names_check_drop.
 */
int sftp_download(struct sftp_session *s, const char *remote_path,
                  const char *local_dir, const char *local_name, sftp_cb cb,
                  void *data, struct h2h_err *err);

/* Remove a remote file (no such file -> PERMFAIL, H2H_ENOTFOUND). */
int sftp_remove(struct sftp_session *s, const char *remote_path, sftp_cb cb,
                void *data, struct h2h_err *err);

/* Rename without replacing (target taken -> PERMFAIL, H2H_EDUP), e.g. to
 * move a fetched file into an archive folder. */
int sftp_rename(struct sftp_session *s, const char *from, const char *to,
                sftp_cb cb, void *data, struct h2h_err *err);

/*
 * Pool: up to max_sessions sessions to one server.  An operation goes to an
 * idle ready session, else a new session is opened (while fewer than
 * max_sessions exist), else it waits in the pool's queue (FIFO).  A session
 * idle for idle_timeout_ms is closed.  When a session fails to come up and
 * no other session is alive or coming up, the operations waiting in the
 * queue fail with its outcome and message (e.g. PERMFAIL H2H_EHOSTKEY), so
 * nothing waits forever.  An operation whose session dies mid-way reports
 * the failure; the pool does not retry (the daemon's backoff does).
 */
int sftp_pool_new(uv_loop_t *loop, const struct sftp_opts *opts,
                  unsigned max_sessions, unsigned idle_timeout_ms,
                  struct sftp_pool **out, struct h2h_err *err);
/* Cancel queued operations (TEMPFAIL, H2H_ECANCELED), close every session
 * (see sftp_session_close), then cb(data) once; p is freed after it. */
void sftp_pool_close(struct sftp_pool *p, sftp_close_cb cb, void *data);

struct sftp_pool_stats {
    unsigned long opened; /* sessions ever created */
    unsigned live;        /* sessions now connecting or ready */
    unsigned peak;        /* most sessions alive at once */
    size_t queued;        /* operations waiting for a session */
};
void sftp_pool_stats(const struct sftp_pool *p, struct sftp_pool_stats *st);

int sftp_pool_upload(struct sftp_pool *p, const char *local_path,
                     const char *remote_dir, const char *remote_name,
                     unsigned flags, sftp_cb cb, void *data,
                     struct h2h_err *err);
int sftp_pool_stat(struct sftp_pool *p, const char *remote_path, sftp_cb cb,
                   void *data, struct h2h_err *err);
int sftp_pool_list(struct sftp_pool *p, const char *remote_dir, sftp_cb cb,
                   void *data, struct h2h_err *err);
int sftp_pool_list_tmp(struct sftp_pool *p, const char *remote_dir,
                       const char *remote_name, sftp_cb cb, void *data,
                       struct h2h_err *err);
int sftp_pool_download(struct sftp_pool *p, const char *remote_path,
                       const char *local_dir, const char *local_name,
                       sftp_cb cb, void *data, struct h2h_err *err);
int sftp_pool_remove(struct sftp_pool *p, const char *remote_path, sftp_cb cb,
                     void *data, struct h2h_err *err);
int sftp_pool_rename(struct sftp_pool *p, const char *from, const char *to,
                     sftp_cb cb, void *data, struct h2h_err *err);

/*
 * "ssh-ed25519 SHA256:..." for an OpenSSH public key line or file content
 * ("type base64 [comment]"), as ssh-keygen -l prints it; for tests and
 * operators.  0 or H2H_EPARSE.
 */
int sftp_fingerprint_pubkey(const char *pub_line, char *buf, size_t bufsz,
                            struct h2h_err *err);

#endif
