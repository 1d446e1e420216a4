/*
 * sftp_ops.c - one non-blocking state machine per operation; see sftp.h.
 *
 * sftp__op_step() runs an operation until libssh2 would block (OPR_AGAIN:
 * the session waits on the socket and calls again), the operation is over
 * (OPR_DONE, res filled), the connection broke (OPR_DEAD), or a thread-pool
 * job runs (OPR_WORK).  A failed operation first cleans up on the server
 * (closes its handle, removes an upload's temporary) and then reports the
 * first failure, never a cleanup error.
 */
#include "sftp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "names.h"

/* Bytes in flight per transfer: libssh2 1.10 keeps up to this much of an
 * upload unacknowledged (see U_WRITE) and reads ahead 4 x this much of a
 * download (capped at 8 MB), in 30,000-byte requests.  512 KB (2 MB of
 * read-ahead, as OpenSSH's sftp keeps 64 x 32 KB) kept both ends busy on
 * loopback where 128 KB let them wait on each other (tests/bench). */
#define XFER_BUF (512 * 1024)
#define NAME_BUF 1024
#define PATH_CAP 4096

/* An upload's round trips: open, write (pipelined by libssh2), fsync with
 * fstat (the size check), close with a stat of the final name, rename.
 * The pairs go out together (see pair_step); OpenSSH's `put -f` makes five
 * round trips too (stat, open, write, fsync, close) and renames nothing. */
enum {
    U_LOCAL,
    U_OPEN,
    U_WRITE,
    U_SYNC_SIZE,
    U_CLOSE_LOOK,
    U_RENAME,
    U_RENAME_CHECK,
};
enum { D_PREP, D_STAT, D_OPEN, D_READ, D_CLOSE, D_FINAL };
enum { L_OPEN, L_READ, L_CLOSE };
enum { R_STAT, R_RENAME };

static const char *const kind_names[] = {
    [OP_UPLOAD] = "upload",     [OP_STAT] = "stat",     [OP_LIST] = "list",
    [OP_DOWNLOAD] = "download", [OP_REMOVE] = "remove", [OP_RENAME] = "rename",
};

const char *sftp__op_name(const struct sftp_op *op)
{
    return kind_names[op->kind];
}

const char *sftp__op_path(const struct sftp_op *op)
{
    if (op->kind == OP_UPLOAD)
        return op->rfinal ? op->rfinal : op->c;
    return op->a;
}

/* ------------------------------------------------------------------ */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct sftp_op *sftp__op_new(enum sftp_op_kind kind, const char *a,
                             const char *b, const char *c, unsigned flags,
                             sftp_cb cb, void *data, struct h2h_err *err)
{
    struct sftp_op *op = calloc(1, sizeof(*op));
    if (!op) {
        h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return NULL;
    }
    op->kind = kind;
    op->a = xstrdup(a);
    op->b = xstrdup(b);
    op->c = xstrdup(c);
    op->flags = flags;
    op->cb = cb;
    op->data = data;
    op->fd = -1;
    if ((a && !op->a) || (b && !op->b) || (c && !op->c)) {
        sftp__op_free(op);
        h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return NULL;
    }
    return op;
}

static int check_path(const char *what, const char *p, struct h2h_err *err)
{
    if (!p || !*p)
        return h2h_err_set(err, H2H_EINVALID, "%s missing", what);
    if (strlen(p) > PATH_CAP)
        return h2h_err_set(err, H2H_ETOOBIG, "%s too long", what);
    return 0;
}

int sftp__op_check(const struct sftp_op *op, struct h2h_err *err)
{
    int rc;
    if (!op->cb)
        return h2h_err_set(err, H2H_EINVALID, "no callback");
    switch (op->kind) {
    case OP_UPLOAD:
        if ((rc = check_path("local path", op->a, err)) < 0 ||
            (rc = check_path("remote folder", op->b, err)) < 0)
            return rc;
        if ((rc = names_check_drop(op->c ? op->c : "", err)) < 0)
            return h2h_err_prefix(err, "remote name");
        return 0;
    case OP_DOWNLOAD:
        if ((rc = check_path("remote path", op->a, err)) < 0 ||
            (rc = check_path("local folder", op->b, err)) < 0)
            return rc;
        if ((rc = names_check_drop(op->c ? op->c : "", err)) < 0)
            return h2h_err_prefix(err, "local name");
        return 0;
    case OP_RENAME:
        if ((rc = check_path("source path", op->a, err)) < 0)
            return rc;
        return check_path("target path", op->b, err);
    case OP_LIST:
        if ((rc = check_path("remote folder", op->a, err)) < 0)
            return rc;
        if ((op->flags & SFTP__LIST_TMP) && op->b &&
            (rc = names_check_drop(op->b, err)) < 0)
            return h2h_err_prefix(err, "remote name");
        return 0;
    default: return check_path("remote path", op->a, err);
    }
}

int sftp__op_local_only(const struct sftp_op *op)
{
    return op->kind == OP_DOWNLOAD && op->step == D_FINAL && !op->in_work;
}

LIBSSH2_SFTP_HANDLE *sftp__op_release(struct sftp_op *op)
{
    if (op->fd >= 0)
        close(op->fd);
    op->fd = -1;
    if (op->ltmp) {
        unlink(op->ltmp);
        free(op->ltmp);
        op->ltmp = NULL;
    }
    if (op->md)
        EVP_MD_CTX_free(op->md);
    op->md = NULL;
    LIBSSH2_SFTP_HANDLE *h = op->h;
    op->h = NULL;
    return h;
}

void sftp__op_free(struct sftp_op *op)
{
    if (!op)
        return;
    sftp__op_release(op);
    for (size_t i = 0; i < op->n_ents; i++)
        free((char *)op->ents[i].name);
    free(op->ents);
    free(op->a);
    free(op->b);
    free(op->c);
    free(op->rfinal);
    free(op->rtmp);
    free(op->lfinal);
    free(op->buf);
    free(op);
}

/* ------------------------------------------------------------------ */
/* results and errors                                                  */

static enum sftp_op_rc op_failv(struct sftp_op *op, enum h2h_outcome out,
                                int code, const char *fmt, va_list ap)
{
    char msg[H2H_ERR_MSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    op->res.outcome = out;
    h2h_err_set(&op->res.err, code, "%s %s: %s", sftp__op_name(op),
                sftp__op_path(op), msg);
    return OPR_DONE;
}

static enum sftp_op_rc op_fail(struct sftp_op *op, enum h2h_outcome out,
                               int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum sftp_op_rc op_fail(struct sftp_op *op, enum h2h_outcome out,
                               int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum sftp_op_rc rc = op_failv(op, out, code, fmt, ap);
    va_end(ap);
    return rc;
}

static unsigned long fx_of(struct sftp_session *s, int rc)
{
    return rc == LIBSSH2_ERROR_SFTP_PROTOCOL ? libssh2_sftp_last_error(s->sftp)
                                             : (unsigned long)-1;
}

static int is_nosuch(struct sftp_session *s, int rc)
{
    unsigned long fx = fx_of(s, rc);
    return fx == LIBSSH2_FX_NO_SUCH_FILE || fx == LIBSSH2_FX_NO_SUCH_PATH;
}

/*
 * Classify a libssh2 failure of `what` on `path`.  An SFTP status leaves
 * the session usable (OPR_DONE); anything else means the connection is
 * broken (OPR_DEAD), and an operation whose final request was sent ends
 * UNKNOWN.
 */
static enum sftp_op_rc fail_ssh(struct sftp_session *s, struct sftp_op *op,
                                int rc, const char *what, const char *path)
{
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
        unsigned long fx = libssh2_sftp_last_error(s->sftp);
        enum h2h_outcome out = H2H_OUT_PERMFAIL;
        int code;
        const char *text;
        switch (fx) {
        case LIBSSH2_FX_NO_SUCH_FILE:
        case LIBSSH2_FX_NO_SUCH_PATH:
            code = H2H_ENOTFOUND, text = "no such file or folder";
            break;
        case LIBSSH2_FX_NOT_A_DIRECTORY:
            code = H2H_ENOTFOUND, text = "not a folder";
            break;
        case LIBSSH2_FX_PERMISSION_DENIED:
        case LIBSSH2_FX_WRITE_PROTECT:
            code = -EACCES, text = "permission denied";
            break;
        case LIBSSH2_FX_FILE_ALREADY_EXISTS:
            code = H2H_EDUP, text = "already exists";
            break;
        case LIBSSH2_FX_OP_UNSUPPORTED:
            code = H2H_EUNSUPPORTED, text = "not supported by the server";
            break;
        case LIBSSH2_FX_INVALID_FILENAME:
            code = H2H_EINVALID, text = "invalid file name";
            break;
        case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
        case LIBSSH2_FX_QUOTA_EXCEEDED:
            out = H2H_OUT_TEMPFAIL, code = -ENOSPC,
            text = "no space left on the server";
            break;
        case LIBSSH2_FX_FAILURE:
            out = H2H_OUT_TEMPFAIL, code = H2H_EIO,
            text = "the server reported a failure";
            break;
        default:
            out = H2H_OUT_TEMPFAIL, code = H2H_EPROTO,
            text = "unexpected sftp status";
            break;
        }
        return op_fail(op, out, code, "%s %s: %s (sftp status %lu)", what, path,
                       text, fx);
    }
    char *msg = NULL;
    libssh2_session_last_error(s->ssh, &msg, NULL, 0);
    op_fail(op, op->committed ? H2H_OUT_UNKNOWN : H2H_OUT_TEMPFAIL,
            rc == LIBSSH2_ERROR_TIMEOUT ? H2H_ETIMEOUT : H2H_EIO,
            "%s %s: connection failed: %s", what, path,
            msg && *msg ? msg : "unknown error");
    return OPR_DEAD;
}

static void attrs_to_res(struct sftp_op *op, const LIBSSH2_SFTP_ATTRIBUTES *at)
{
    op->res.exists = 1;
    if (at->flags & LIBSSH2_SFTP_ATTR_SIZE)
        op->res.size = at->filesize;
    if (at->flags & LIBSSH2_SFTP_ATTR_ACMODTIME)
        op->res.mtime = (int64_t)at->mtime;
    if (at->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS)
        op->res.is_regular = LIBSSH2_SFTP_S_ISREG(at->permissions) ? 1 : 0;
}

static char *rjoin(const char *dir, const char *pre, const char *name)
{
    size_t dl = strlen(dir);
    int slash = dl > 0 && dir[dl - 1] == '/';
    size_t n = dl + strlen(pre) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s%s", dir, slash ? "" : "/", pre, name);
    return p;
}

/* FSU_TMP_PREFIX + 8 random hex digits + "." */
static void tmp_prefix(char *buf, size_t bufsz)
{
    unsigned char r[4] = {0};
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        uint64_t t = uv_hrtime();
        memcpy(r, &t, sizeof(r));
    }
    snprintf(buf, bufsz, "%s%02x%02x%02x%02x.", FSU_TMP_PREFIX, r[0], r[1],
             r[2], r[3]);
}

static void hex_digest(struct sftp_op *op)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (!op->md || EVP_DigestFinal_ex(op->md, d, &dl) != 1)
        return;
    for (unsigned i = 0; i < dl && i < 32; i++)
        snprintf(op->res.sha256 + 2 * i, 3, "%02x", d[i]);
}

static int md_start(struct sftp_op *op)
{
    op->md = EVP_MD_CTX_new();
    op->buf = malloc(XFER_BUF);
    return op->md && op->buf &&
                   EVP_DigestInit_ex(op->md, EVP_sha256(), NULL) == 1
               ? 0
               : -1;
}

/* ------------------------------------------------------------------ */
/* two requests in one round trip                                      */

/*
 * A request of a pair: call starts or continues it (its libssh2 result,
 * LIBSSH2_ERROR_EAGAIN while it waits); judge reads a finished call's
 * result at once, while libssh2_sftp_last_error is still its own: OPR_DONE
 * (a failure it finds goes into op->res) or OPR_DEAD.
 */
struct pair_req {
    int (*call)(struct sftp_session *s, struct sftp_op *op);
    enum sftp_op_rc (*judge)(struct sftp_session *s, struct sftp_op *op,
                             int rc);
};

enum { PAIR_A_DONE = 1, PAIR_B_SENT = 2, PAIR_B_DONE = 4 };

static enum sftp_op_rc pair_end(struct sftp_op *op, enum sftp_op_rc r)
{
    op->pair = 0;
    return r;
}

/*
 * Run a then b in one round trip: b is sent as soon as a's request has
 * left, i.e. when libssh2 waits only to read (a's packet is whole on the
 * wire, so b's cannot interleave with it); the server answers both in
 * order.  Without that chance b simply follows a.  b always runs to its
 * end once sent, even when a failed with an SFTP status (the session
 * lives on): libssh2 keeps one request of each kind per session and would
 * hand b's stale answer to the next caller of its kind.  A broken
 * connection ends the session (OPR_DEAD) and every request with it.
 */
static enum sftp_op_rc pair_step(struct sftp_session *s, struct sftp_op *op,
                                 const struct pair_req *a,
                                 const struct pair_req *b)
{
    int rc;
    enum sftp_op_rc r;
    while (!(op->pair & PAIR_A_DONE)) {
        rc = a->call(s, op);
        if (rc == LIBSSH2_ERROR_EAGAIN) {
            if ((op->pair & PAIR_B_SENT) ||
                libssh2_session_block_directions(s->ssh) !=
                    LIBSSH2_SESSION_BLOCK_INBOUND)
                return OPR_AGAIN;
            op->pair |= PAIR_B_SENT;
            rc = b->call(s, op);
            if (rc != LIBSSH2_ERROR_EAGAIN) {
                op->pair |= PAIR_B_DONE;
                if (b->judge(s, op, rc) == OPR_DEAD)
                    return pair_end(op, OPR_DEAD);
            }
            /* b's wait may have read a's answer off the socket, which
             * then never turns readable for it: ask a again at once */
            continue;
        }
        op->pair |= PAIR_A_DONE;
        if (a->judge(s, op, rc) == OPR_DEAD)
            return pair_end(op, OPR_DEAD);
    }
    if (!(op->pair & PAIR_B_DONE)) {
        int failed = op->res.outcome != H2H_OUT_OK;
        if (failed && !(op->pair & PAIR_B_SENT))
            return pair_end(op, OPR_DONE);
        op->pair |= PAIR_B_SENT;
        rc = b->call(s, op);
        if (rc == LIBSSH2_ERROR_EAGAIN)
            return OPR_AGAIN;
        op->pair |= PAIR_B_DONE;
        if (failed) /* drained: a's failure is the one to report */
            return pair_end(op, rc < 0 && rc != LIBSSH2_ERROR_SFTP_PROTOCOL
                                    ? OPR_DEAD
                                    : OPR_DONE);
        r = b->judge(s, op, rc);
        if (r != OPR_DONE)
            return pair_end(op, r);
    }
    return pair_end(op, OPR_DONE);
}

/* The pairs of an upload: fsync with the size check, close with the look
 * at the final name (rename never replaces on OpenSSH, but a server that
 * does would otherwise overwrite a file silently). */
static int call_fsync(struct sftp_session *s, struct sftp_op *op)
{
    (void)s;
    if (op->flags & SFTP_UPLOAD_NO_FSYNC)
        return 0;
    return libssh2_sftp_fsync(op->h);
}

static enum sftp_op_rc judge_fsync(struct sftp_session *s, struct sftp_op *op,
                                   int rc)
{
    if (op->flags & SFTP_UPLOAD_NO_FSYNC)
        return OPR_DONE;
    if (rc == 0)
        op->res.fsynced = 1;
    else if (fx_of(s, rc) != LIBSSH2_FX_OP_UNSUPPORTED)
        return fail_ssh(s, op, rc, "fsync", op->rtmp);
    /* not offered: the rename still makes it all-or-nothing */
    return OPR_DONE;
}

static int call_fstat(struct sftp_session *s, struct sftp_op *op)
{
    (void)s;
    return libssh2_sftp_fstat_ex(op->h, &op->pair_at, 0);
}

static enum sftp_op_rc judge_fstat(struct sftp_session *s, struct sftp_op *op,
                                   int rc)
{
    if (rc < 0)
        return fail_ssh(s, op, rc, "stat", op->rtmp);
    if (!(op->pair_at.flags & LIBSSH2_SFTP_ATTR_SIZE) ||
        op->pair_at.filesize != op->total)
        return op_fail(op, H2H_OUT_TEMPFAIL, H2H_EIO,
                       "remote size %llu differs from local size %llu",
                       (unsigned long long)op->pair_at.filesize,
                       (unsigned long long)op->total);
    return OPR_DONE;
}

static int call_close(struct sftp_session *s, struct sftp_op *op)
{
    (void)s;
    int rc = libssh2_sftp_close_handle(op->h);
    if (rc != LIBSSH2_ERROR_EAGAIN)
        op->h = NULL; /* libssh2 freed it either way */
    return rc;
}

static enum sftp_op_rc judge_close(struct sftp_session *s, struct sftp_op *op,
                                   int rc)
{
    return rc < 0 ? fail_ssh(s, op, rc, "close", op->rtmp) : OPR_DONE;
}

static int call_stat_final(struct sftp_session *s, struct sftp_op *op)
{
    return libssh2_sftp_stat_ex(s->sftp, op->rfinal,
                                (unsigned)strlen(op->rfinal), LIBSSH2_SFTP_STAT,
                                &op->pair_at);
}

static enum sftp_op_rc judge_stat_final(struct sftp_session *s,
                                        struct sftp_op *op, int rc)
{
    if (rc == 0) {
        attrs_to_res(op, &op->pair_at);
        return op_fail(op, H2H_OUT_PERMFAIL, H2H_EDUP,
                       "final name exists (%llu bytes)",
                       (unsigned long long)op->res.size);
    }
    return is_nosuch(s, rc) ? OPR_DONE
                            : fail_ssh(s, op, rc, "stat", op->rfinal);
}

static const struct pair_req req_fsync = {call_fsync, judge_fsync};
static const struct pair_req req_fstat = {call_fstat, judge_fstat};
static const struct pair_req req_close = {call_close, judge_close};
static const struct pair_req req_stat_final = {call_stat_final,
                                               judge_stat_final};

/* ------------------------------------------------------------------ */
/* upload                                                              */

static enum sftp_op_rc upload_step(struct sftp_session *s, struct sftp_op *op)
{
    LIBSSH2_SFTP_ATTRIBUTES at;
    int rc;
    for (;;) {
        switch (op->step) {
        case U_LOCAL: {
            op->fd = open(op->a, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            struct stat st;
            if (op->fd < 0 || fstat(op->fd, &st) < 0)
                return op_fail(op, H2H_OUT_PERMFAIL, -errno,
                               "local file %s: %s", op->a, strerror(errno));
            if (!S_ISREG(st.st_mode))
                return op_fail(op, H2H_OUT_PERMFAIL, H2H_EINVALID,
                               "local file %s is not a regular file", op->a);
            op->expect = (uint64_t)st.st_size;
            char pre[64];
            tmp_prefix(pre, sizeof(pre));
            op->rfinal = rjoin(op->b, "", op->c);
            op->rtmp = rjoin(op->b, pre, op->c);
            if (!op->rfinal || !op->rtmp || md_start(op) < 0)
                return op_fail(op, H2H_OUT_TEMPFAIL, H2H_ENOMEM,
                               "out of memory");
            op->step = U_OPEN;
            continue;
        }
        case U_OPEN:
            op->h = libssh2_sftp_open_ex(
                s->sftp, op->rtmp, (unsigned)strlen(op->rtmp),
                LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL |
                    LIBSSH2_FXF_TRUNC,
                0644, LIBSSH2_SFTP_OPENFILE);
            if (!op->h) {
                rc = libssh2_session_last_errno(s->ssh);
                if (rc == LIBSSH2_ERROR_EAGAIN)
                    return OPR_AGAIN;
                return fail_ssh(s, op, rc, "create", op->rtmp);
            }
            op->committed = 0;
            op->step = U_WRITE;
            /* from here on a failure removes the temporary */
            op->started = 1;
            continue;
        case U_WRITE: {
            /* buf[buf_pos, buf_len) is sent but not yet acknowledged.
             * libssh2 makes write requests of everything it is given
             * beyond what it already sent and returns as the server
             * acknowledges them; topping the buffer up while requests are
             * in flight keeps the pipeline full, where refilling only an
             * empty buffer would stall it once per XFER_BUF.  The bytes
             * not yet acknowledged must be passed again unchanged: they
             * only move to the front. */
            if (op->buf_pos == op->buf_len) {
                op->buf_pos = op->buf_len = 0;
            } else if (op->buf_pos >= XFER_BUF / 2) {
                memmove(op->buf, op->buf + op->buf_pos,
                        op->buf_len - op->buf_pos);
                op->buf_len -= op->buf_pos;
                op->buf_pos = 0;
            }
            /* read on while the file has more; once it is all read, one
             * more read on an empty buffer must find its end */
            if (op->buf_len < XFER_BUF &&
                (op->total < op->expect || op->buf_len == 0)) {
                ssize_t n =
                    read(op->fd, op->buf + op->buf_len, XFER_BUF - op->buf_len);
                if (n < 0)
                    return op_fail(op, H2H_OUT_TEMPFAIL, -errno,
                                   "read local file %s: %s", op->a,
                                   strerror(errno));
                if ((uint64_t)n > op->expect - op->total ||
                    (n == 0 && op->total != op->expect))
                    return op_fail(op, H2H_OUT_TEMPFAIL, H2H_EINVALID,
                                   "local file %s changed size while "
                                   "uploading",
                                   op->a);
                if (n == 0 && op->buf_len == 0) {
                    op->step = U_SYNC_SIZE;
                    continue;
                }
                EVP_DigestUpdate(op->md, op->buf + op->buf_len, (size_t)n);
                op->total += (uint64_t)n;
                op->buf_len += (size_t)n;
            }
            ssize_t w = libssh2_sftp_write(op->h, (char *)op->buf + op->buf_pos,
                                           op->buf_len - op->buf_pos);
            if (w == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            if (w < 0)
                return fail_ssh(s, op, (int)w, "write", op->rtmp);
            op->buf_pos += (size_t)w;
            continue;
        }
        case U_SYNC_SIZE: {
            enum sftp_op_rc r = pair_step(s, op, &req_fsync, &req_fstat);
            if (r != OPR_DONE || op->res.outcome != H2H_OUT_OK)
                return r;
            op->step = U_CLOSE_LOOK;
            continue;
        }
        case U_CLOSE_LOOK: {
            enum sftp_op_rc r =
                pair_step(s, op, &req_close, &req_stat_final);
            if (r != OPR_DONE || op->res.outcome != H2H_OUT_OK)
                return r;
            op->step = U_RENAME;
            continue;
        }
        case U_RENAME:
            op->committed = 1;
            /* plain SFTP rename: OpenSSH refuses an existing target
             * (link + unlink); flags are only sent to v5+ servers, and
             * 0 asks them not to overwrite either */
            rc = libssh2_sftp_rename_ex(s->sftp, op->rtmp,
                                        (unsigned)strlen(op->rtmp), op->rfinal,
                                        (unsigned)strlen(op->rfinal), 0);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            if (rc < 0 && rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
                return fail_ssh(s, op, rc, "rename", op->rtmp);
            if (rc < 0) {
                op->committed = 0; /* the server answered: not done */
                fail_ssh(s, op, rc, "rename to", op->rfinal);
                op->pend_out = op->res.outcome;
                op->pend_err = op->res.err;
                op->step = U_RENAME_CHECK;
                continue;
            }
            op->started = 0; /* the temporary is gone */
            op->res.outcome = H2H_OUT_OK;
            op->res.size = op->total;
            hex_digest(op);
            return OPR_DONE;
        case U_RENAME_CHECK:
            rc = libssh2_sftp_stat_ex(s->sftp, op->rfinal,
                                      (unsigned)strlen(op->rfinal),
                                      LIBSSH2_SFTP_STAT, &at);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            if (rc == 0) {
                attrs_to_res(op, &at);
                return op_fail(op, H2H_OUT_PERMFAIL, H2H_EDUP,
                               "final name appeared during upload "
                               "(%llu bytes)",
                               (unsigned long long)op->res.size);
            }
            op->res.outcome = op->pend_out;
            op->res.err = op->pend_err;
            return OPR_DONE;
        }
        return op_fail(op, H2H_OUT_PERMFAIL, H2H_ESTATE, "bad state");
    }
}

/* ------------------------------------------------------------------ */
/* download                                                            */

static void dl_work(uv_work_t *w)
{
    struct sftp_op *op = w->data;
    h2h_err_clear(&op->work_err);
    op->work_rc = 0;
    if (fsync(op->fd) < 0)
        op->work_rc = h2h_err_set(&op->work_err, -errno, "fsync %s: %s",
                                  op->ltmp, strerror(errno));
    if (close(op->fd) < 0 && op->work_rc == 0)
        op->work_rc = h2h_err_set(&op->work_err, -errno, "close %s: %s",
                                  op->ltmp, strerror(errno));
    op->fd = -1;
    if (op->work_rc == 0)
        op->work_rc = fsu_rename_noreplace(op->ltmp, op->lfinal, &op->work_err);
    if (op->work_rc == 0) {
        free(op->ltmp); /* renamed: nothing left to remove */
        op->ltmp = NULL;
        op->work_rc = fsu_fsync_dir(op->b, &op->work_err);
    }
}

static void dl_after(uv_work_t *w, int status)
{
    struct sftp_op *op = w->data;
    (void)status;
    op->in_work = 0;
    sftp__resume(op->s);
}

static enum sftp_op_rc download_step(struct sftp_session *s, struct sftp_op *op)
{
    LIBSSH2_SFTP_ATTRIBUTES at;
    int rc;
    for (;;) {
        switch (op->step) {
        case D_PREP: {
            char pre[64];
            tmp_prefix(pre, sizeof(pre));
            op->lfinal = rjoin(op->b, "", op->c);
            op->ltmp = rjoin(op->b, pre, op->c);
            if (!op->lfinal || !op->ltmp || md_start(op) < 0)
                return op_fail(op, H2H_OUT_TEMPFAIL, H2H_ENOMEM,
                               "out of memory");
            op->step = D_STAT;
            continue;
        }
        case D_STAT:
            rc = libssh2_sftp_stat_ex(s->sftp, op->a, (unsigned)strlen(op->a),
                                      LIBSSH2_SFTP_STAT, &at);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            if (rc < 0)
                return fail_ssh(s, op, rc, "stat", op->a);
            if (!(at.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
                !LIBSSH2_SFTP_S_ISREG(at.permissions) ||
                !(at.flags & LIBSSH2_SFTP_ATTR_SIZE))
                return op_fail(op, H2H_OUT_PERMFAIL, H2H_EINVALID,
                               "not a regular file");
            if (at.filesize > s->o.max_download)
                return op_fail(op, H2H_OUT_PERMFAIL, H2H_ETOOBIG,
                               "%llu bytes is over the limit of %llu",
                               (unsigned long long)at.filesize,
                               (unsigned long long)s->o.max_download);
            op->expect = at.filesize;
            op->fd = open(op->ltmp,
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                          0600);
            if (op->fd < 0) {
                int e = errno;
                free(op->ltmp); /* not ours: never remove it */
                op->ltmp = NULL;
                return op_fail(op, H2H_OUT_PERMFAIL, -e, "create %s: %s",
                               op->lfinal, strerror(e));
            }
            op->step = D_OPEN;
            continue;
        case D_OPEN:
            op->h = libssh2_sftp_open_ex(
                s->sftp, op->a, (unsigned)strlen(op->a), LIBSSH2_FXF_READ, 0,
                LIBSSH2_SFTP_OPENFILE);
            if (!op->h) {
                rc = libssh2_session_last_errno(s->ssh);
                if (rc == LIBSSH2_ERROR_EAGAIN)
                    return OPR_AGAIN;
                return fail_ssh(s, op, rc, "open", op->a);
            }
            op->step = D_READ;
            continue;
        case D_READ: {
            ssize_t n = libssh2_sftp_read(op->h, (char *)op->buf, XFER_BUF);
            if (n == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            if (n < 0)
                return fail_ssh(s, op, (int)n, "read", op->a);
            if (n == 0) {
                op->step = D_CLOSE;
                continue;
            }
            if ((uint64_t)n > op->expect - op->total)
                return op_fail(op, H2H_OUT_TEMPFAIL, H2H_EIO,
                               "file grew while downloading (over %llu "
                               "bytes)",
                               (unsigned long long)op->expect);
            EVP_DigestUpdate(op->md, op->buf, (size_t)n);
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(op->fd, op->buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    int e = errno;
                    return op_fail(
                        op, e == ENOSPC ? H2H_OUT_TEMPFAIL : H2H_OUT_PERMFAIL,
                        -e, "write %s: %s", op->ltmp, strerror(e));
                }
                off += w;
            }
            op->total += (uint64_t)n;
            continue;
        }
        case D_CLOSE:
            rc = libssh2_sftp_close_handle(op->h);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            op->h = NULL;
            if (rc < 0)
                return fail_ssh(s, op, rc, "close", op->a);
            if (op->total != op->expect)
                return op_fail(op, H2H_OUT_TEMPFAIL, H2H_EIO,
                               "got %llu bytes, the server said %llu",
                               (unsigned long long)op->total,
                               (unsigned long long)op->expect);
            /* fsync + rename + directory fsync block: thread pool */
            op->step = D_FINAL;
            op->s = s;
            op->work.data = op;
            rc = uv_queue_work(s->loop, &op->work, dl_work, dl_after);
            if (rc < 0)
                return op_fail(op, H2H_OUT_TEMPFAIL, H2H_EIO,
                               "cannot queue work: %s", uv_strerror(rc));
            op->in_work = 1;
            return OPR_WORK;
        case D_FINAL:
            if (op->work_rc < 0) {
                int dup = op->work_rc == -EEXIST;
                return op_fail(op, H2H_OUT_PERMFAIL,
                               dup ? H2H_EDUP : op->work_rc, "%s",
                               dup ? "local file exists" : op->work_err.msg);
            }
            op->res.outcome = H2H_OUT_OK;
            op->res.exists = 1;
            op->res.is_regular = 1;
            op->res.size = op->total;
            op->res.local_path = op->lfinal;
            hex_digest(op);
            return OPR_DONE;
        }
        return op_fail(op, H2H_OUT_PERMFAIL, H2H_ESTATE, "bad state");
    }
}

/* ------------------------------------------------------------------ */
/* list                                                                */

/* name == FSU_TMP_PREFIX + 8 hex digits + "." + target (see tmp_prefix);
 * target NULL: any valid name */
static int is_tmp_of(const char *name, const char *target)
{
    size_t pl = strlen(FSU_TMP_PREFIX);
    if (strncmp(name, FSU_TMP_PREFIX, pl) != 0)
        return 0;
    for (size_t i = 0; i < 8; i++)
        if (!strchr("0123456789abcdef", name[pl + i]) || !name[pl + i])
            return 0;
    if (name[pl + 8] != '.')
        return 0;
    return target ? strcmp(name + pl + 9, target) == 0
                  : names_check_drop(name + pl + 9, NULL) == 0;
}

static enum sftp_op_rc list_step(struct sftp_session *s, struct sftp_op *op)
{
    LIBSSH2_SFTP_ATTRIBUTES at;
    int rc;
    for (;;) {
        switch (op->step) {
        case L_OPEN:
            if (!op->buf && !(op->buf = malloc(NAME_BUF + 1)))
                return op_fail(op, H2H_OUT_TEMPFAIL, H2H_ENOMEM,
                               "out of memory");
            op->h =
                libssh2_sftp_open_ex(s->sftp, op->a, (unsigned)strlen(op->a), 0,
                                     0, LIBSSH2_SFTP_OPENDIR);
            if (!op->h) {
                rc = libssh2_session_last_errno(s->ssh);
                if (rc == LIBSSH2_ERROR_EAGAIN)
                    return OPR_AGAIN;
                return fail_ssh(s, op, rc, "open folder", op->a);
            }
            op->step = L_READ;
            continue;
        case L_READ: {
            char *name = (char *)op->buf;
            memset(&at, 0, sizeof(at));
            rc = libssh2_sftp_readdir_ex(op->h, name, NAME_BUF, NULL, 0, &at);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            if (rc == LIBSSH2_ERROR_BUFFER_TOO_SMALL) {
                op->res.n_invalid++;
                continue;
            }
            if (rc < 0)
                return fail_ssh(s, op, rc, "read folder", op->a);
            if (rc == 0) {
                op->step = L_CLOSE;
                continue;
            }
            size_t len = (size_t)rc;
            name[len] = '\0';
            int tmp_only = (op->flags & SFTP__LIST_TMP) != 0;
            if (tmp_only &&
                (memchr(name, '\0', len) || !is_tmp_of(name, op->b)))
                continue; /* only our temporaries of op->b */
            if (!tmp_only && name[0] == '.')
                continue; /* hidden, "." and "..", temporaries */
            if (!(at.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) ||
                !LIBSSH2_SFTP_S_ISREG(at.permissions)) {
                op->res.n_other++;
                continue;
            }
            /* a temporary's name may exceed NAMES_DROP_MAX; its tail was
             * checked as op->b */
            if (!tmp_only &&
                (memchr(name, '\0', len) || names_check_drop(name, NULL))) {
                op->res.n_invalid++;
                continue;
            }
            if (op->n_ents >= SFTP_LIST_MAX) {
                op->res.truncated = 1;
                op->step = L_CLOSE;
                continue;
            }
            if (op->n_ents == op->cap_ents) {
                size_t cap = op->cap_ents ? op->cap_ents * 2 : 16;
                struct sftp_entry *e = realloc(op->ents, cap * sizeof(*e));
                if (!e)
                    return op_fail(op, H2H_OUT_TEMPFAIL, H2H_ENOMEM,
                                   "out of memory");
                op->ents = e;
                op->cap_ents = cap;
            }
            struct sftp_entry *e = &op->ents[op->n_ents];
            e->name = strdup(name);
            if (!e->name)
                return op_fail(op, H2H_OUT_TEMPFAIL, H2H_ENOMEM,
                               "out of memory");
            e->size = (at.flags & LIBSSH2_SFTP_ATTR_SIZE) ? at.filesize : 0;
            e->mtime = (at.flags & LIBSSH2_SFTP_ATTR_ACMODTIME)
                           ? (int64_t)at.mtime
                           : 0;
            op->n_ents++;
            continue;
        }
        case L_CLOSE:
            rc = libssh2_sftp_close_handle(op->h);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            op->h = NULL;
            if (rc < 0)
                return fail_ssh(s, op, rc, "close folder", op->a);
            op->res.outcome = H2H_OUT_OK;
            op->res.entries = op->ents;
            op->res.n_entries = op->n_ents;
            return OPR_DONE;
        }
        return op_fail(op, H2H_OUT_PERMFAIL, H2H_ESTATE, "bad state");
    }
}

/* ------------------------------------------------------------------ */
/* stat, remove, rename                                                */

static enum sftp_op_rc stat_step(struct sftp_session *s, struct sftp_op *op)
{
    LIBSSH2_SFTP_ATTRIBUTES at;
    int rc = libssh2_sftp_stat_ex(s->sftp, op->a, (unsigned)strlen(op->a),
                                  LIBSSH2_SFTP_STAT, &at);
    if (rc == LIBSSH2_ERROR_EAGAIN)
        return OPR_AGAIN;
    if (rc == 0) {
        attrs_to_res(op, &at);
        op->res.outcome = H2H_OUT_OK;
        return OPR_DONE;
    }
    if (is_nosuch(s, rc)) {
        op->res.outcome = H2H_OUT_OK;
        op->res.exists = 0;
        return OPR_DONE;
    }
    return fail_ssh(s, op, rc, "stat", op->a);
}

static enum sftp_op_rc remove_step(struct sftp_session *s, struct sftp_op *op)
{
    op->committed = 1;
    int rc = libssh2_sftp_unlink_ex(s->sftp, op->a, (unsigned)strlen(op->a));
    if (rc == LIBSSH2_ERROR_EAGAIN)
        return OPR_AGAIN;
    if (rc == 0) {
        op->res.outcome = H2H_OUT_OK;
        return OPR_DONE;
    }
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL)
        op->committed = 0;
    return fail_ssh(s, op, rc, "remove", op->a);
}

static enum sftp_op_rc rename_step(struct sftp_session *s, struct sftp_op *op)
{
    LIBSSH2_SFTP_ATTRIBUTES at;
    int rc;
    for (;;) {
        switch (op->step) {
        case R_STAT:
            rc = libssh2_sftp_stat_ex(s->sftp, op->b, (unsigned)strlen(op->b),
                                      LIBSSH2_SFTP_STAT, &at);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            if (rc == 0) {
                attrs_to_res(op, &at);
                return op_fail(op, H2H_OUT_PERMFAIL, H2H_EDUP,
                               "target %s exists", op->b);
            }
            if (!is_nosuch(s, rc))
                return fail_ssh(s, op, rc, "stat", op->b);
            op->step = R_RENAME;
            continue;
        case R_RENAME:
            op->committed = 1;
            rc = libssh2_sftp_rename_ex(s->sftp, op->a, (unsigned)strlen(op->a),
                                        op->b, (unsigned)strlen(op->b), 0);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return OPR_AGAIN;
            if (rc == 0) {
                op->res.outcome = H2H_OUT_OK;
                return OPR_DONE;
            }
            if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL)
                op->committed = 0;
            return fail_ssh(s, op, rc, "rename to", op->b);
        }
        return op_fail(op, H2H_OUT_PERMFAIL, H2H_ESTATE, "bad state");
    }
}

/* ------------------------------------------------------------------ */

static enum sftp_op_rc kind_step(struct sftp_session *s, struct sftp_op *op)
{
    switch (op->kind) {
    case OP_UPLOAD: return upload_step(s, op);
    case OP_STAT: return stat_step(s, op);
    case OP_LIST: return list_step(s, op);
    case OP_DOWNLOAD: return download_step(s, op);
    case OP_REMOVE: return remove_step(s, op);
    case OP_RENAME: return rename_step(s, op);
    }
    return op_fail(op, H2H_OUT_PERMFAIL, H2H_ESTATE, "bad operation");
}

enum sftp_op_rc sftp__op_step(struct sftp_session *s, struct sftp_op *op)
{
    op->s = s;
    if (!op->pend_set) {
        enum sftp_op_rc rc = kind_step(s, op);
        if (rc != OPR_DONE || op->res.outcome == H2H_OUT_OK)
            return rc;
        if (!op->h && !(op->kind == OP_UPLOAD && op->started))
            return rc;
        /* failed: tidy up on the server, then report the first error */
        op->pend_set = 1;
        op->pend_out = op->res.outcome;
        op->pend_err = op->res.err;
    }
    int rc;
    if (op->h) {
        rc = libssh2_sftp_close_handle(op->h);
        if (rc == LIBSSH2_ERROR_EAGAIN)
            return OPR_AGAIN;
        op->h = NULL;
        if (rc < 0 && rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
            goto dead;
    }
    if (op->kind == OP_UPLOAD && op->started) {
        rc = libssh2_sftp_unlink_ex(s->sftp, op->rtmp,
                                    (unsigned)strlen(op->rtmp));
        if (rc == LIBSSH2_ERROR_EAGAIN)
            return OPR_AGAIN;
        op->started = 0;
        if (rc < 0 && rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
            goto dead;
    }
    op->res.outcome = op->pend_out;
    op->res.err = op->pend_err;
    return OPR_DONE;
dead:
    op->res.outcome = op->pend_out;
    op->res.err = op->pend_err;
    return OPR_DEAD;
}
