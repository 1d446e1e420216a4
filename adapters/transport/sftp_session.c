/*
 * sftp_session.c - the connection state machine, the operation queue and
 * the pool; see sftp.h.  The per-operation state machines are in
 * sftp_ops.c.
 *
 * Everything is driven by drive(): it runs the current phase until libssh2
 * would block, then waits on the socket (uv_poll_t in the directions
 * libssh2 asks for) with the phase's deadline on s->timer.  Callbacks of
 * operations are only ever called from drive() or from libuv callbacks,
 * never from inside an API call: API calls only queue work and start the
 * zero-delay s->kick timer.
 */
#include "sftp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "names.h"

#define DEF_CONNECT_MS 10000
#define DEF_HANDSHAKE_MS 15000
#define DEF_AUTH_MS 15000
#define DEF_OP_MS 60000
#define DEF_KEEPALIVE_S 30
#define DEF_MAX_DOWNLOAD (1024ULL * 1024 * 1024)
#define GOODBYE_MAX_MS 5000
#define SECRET_MAX 1024

/* SHA-1, CBC, DSS and ssh-rsa host keys are left out on purpose.  ECDH
 * comes before curve25519: libssh2 1.10 has rare curve25519 failures
 * (shared secrets with a leading zero byte). */
static const char KEX_PREF[] =
    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
    "curve25519-sha256,curve25519-sha256@libssh.org,"
    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
    "diffie-hellman-group14-sha256,diffie-hellman-group-exchange-sha256";
static const char HOSTKEY_PREF[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521";
static const char CIPHER_PREF[] = "aes256-ctr,aes192-ctr,aes128-ctr";
static const char MAC_PREF[] = "hmac-sha2-256,hmac-sha2-512";

enum { T_NONE, T_PHASE, T_OP, T_IDLE, T_GOODBYE };

struct sftp_pollh {
    uv_poll_t poll;
    int fd;
    int events; /* what poll was last started with (see poll_want) */
    struct sftp_session *s;
};

struct sftp_pool {
    uv_loop_t *loop;
    struct sftp_opts o; /* template, strings owned */
    unsigned max;
    unsigned idle_ms;
    struct sftp_session *sessions;
    struct sftp_op *qhead, *qtail;
    size_t nq;
    uv_timer_t kick;
    int closing;
    int kick_closed;
    sftp_close_cb close_cb;
    void *close_data;
    int in_dispatch;
    struct sftp_pool_stats st;
};

static void drive(struct sftp_session *s);
static void pool_session_event(struct sftp_session *s);
static void pool_session_gone(struct sftp_session *s);

static unsigned long next_session_id;

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int opts_copy(struct sftp_opts *dst, const struct sftp_opts *src,
                     struct h2h_err *err)
{
    memset(dst, 0, sizeof(*dst));
    if (!src || !src->host || !*src->host || !src->user || !*src->user)
        return h2h_err_set(err, H2H_EINVALID, "sftp: host and user needed");
    if (!src->known_hosts || !*src->known_hosts)
        return h2h_err_set(err, H2H_EINVALID,
                           "sftp: a known_hosts file is required");
    if (!src->private_key && !src->password_file)
        return h2h_err_set(err, H2H_EINVALID,
                           "sftp: a private key or a password file needed");
    *dst = *src;
    dst->host = xstrdup(src->host);
    dst->user = xstrdup(src->user);
    dst->private_key = xstrdup(src->private_key);
    dst->passphrase_file = xstrdup(src->passphrase_file);
    dst->password_file = xstrdup(src->password_file);
    dst->known_hosts = xstrdup(src->known_hosts);
    if (!dst->port)
        dst->port = 22;
    if (!dst->connect_timeout_ms)
        dst->connect_timeout_ms = DEF_CONNECT_MS;
    if (!dst->handshake_timeout_ms)
        dst->handshake_timeout_ms = DEF_HANDSHAKE_MS;
    if (!dst->auth_timeout_ms)
        dst->auth_timeout_ms = DEF_AUTH_MS;
    if (!dst->op_timeout_ms)
        dst->op_timeout_ms = DEF_OP_MS;
    if (!dst->keepalive_s)
        dst->keepalive_s = DEF_KEEPALIVE_S;
    if (!dst->max_download)
        dst->max_download = DEF_MAX_DOWNLOAD;
    if (!dst->host || !dst->user || !dst->known_hosts ||
        (src->private_key && !dst->private_key) ||
        (src->passphrase_file && !dst->passphrase_file) ||
        (src->password_file && !dst->password_file))
        return h2h_err_set(err, H2H_ENOMEM, "sftp: out of memory");
    return 0;
}

static void opts_free(struct sftp_opts *o)
{
    free((char *)o->host);
    free((char *)o->user);
    free((char *)o->private_key);
    free((char *)o->passphrase_file);
    free((char *)o->password_file);
    free((char *)o->known_hosts);
    memset(o, 0, sizeof(*o));
}

static const char *phase_name(enum sftp_phase p)
{
    switch (p) {
    case P_RESOLVE: return "resolve";
    case P_CONNECT: return "connect";
    case P_HANDSHAKE: return "handshake";
    case P_AUTH: return "authentication";
    case P_INIT: return "sftp start";
    case P_READY: return "ready";
    default: return "closing";
    }
}

/* libssh2's last error text: it never contains secrets (it describes
 * protocol state, never a passphrase or a password). */
static const char *ssh_errmsg(struct sftp_session *s, int *code)
{
    char *msg = NULL;
    int rc = s->ssh ? libssh2_session_last_error(s->ssh, &msg, NULL, 0) : 0;
    if (code)
        *code = rc;
    return msg && *msg ? msg : "unknown error";
}

static void wipe_secret(struct sftp_session *s)
{
    if (s->secret) {
        OPENSSL_cleanse(s->secret, s->secret_len);
        free(s->secret);
    }
    s->secret = NULL;
    s->secret_len = 0;
}

/* ------------------------------------------------------------------ */
/* timers, polling                                                     */

static void timer_cb(uv_timer_t *t);

static void timer_arm(struct sftp_session *s, int kind, unsigned ms)
{
    s->timer_kind = kind;
    uv_timer_start(&s->timer, timer_cb, ms, 0);
}

static void timer_disarm(struct sftp_session *s)
{
    s->timer_kind = T_NONE;
    uv_timer_stop(&s->timer);
}

static void kick_cb(uv_timer_t *t)
{
    drive(t->data);
}

static void kick(struct sftp_session *s)
{
    if (s->in_drive)
        s->redrive = 1;
    else if (s->phase != P_DONE)
        uv_timer_start(&s->kick, kick_cb, 0, 0);
}

static void poll_cb(uv_poll_t *h, int status, int events);

static void poll_want(struct sftp_session *s, int events)
{
    if (!s->ph)
        return;
    /* uv_poll_start on an active handle costs two epoll_ctl calls (libuv
     * removes and re-adds the fd) and this runs on every wait of every
     * request; the watch is level-triggered, so starting it again with the
     * same events changes nothing.  libuv stops the handle itself on a
     * socket error, hence the uv_is_active check. */
    int active = uv_is_active((uv_handle_t *)&s->ph->poll);
    if (events && active && events == s->ph->events)
        return;
    s->ph->events = events;
    if (events)
        uv_poll_start(&s->ph->poll, events, poll_cb);
    else if (active)
        uv_poll_stop(&s->ph->poll);
}

/* Wait for the socket in the directions libssh2 is blocked on. */
static void wait_io(struct sftp_session *s)
{
    int dirs = s->ssh ? libssh2_session_block_directions(s->ssh) : 0;
    int ev = 0;
    if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
        ev |= UV_READABLE;
    if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
        ev |= UV_WRITABLE;
    if (!ev)
        ev = UV_READABLE;
    s->idle_poll = 0;
    poll_want(s, ev);
}

static void sess_unref(struct sftp_session *s);

static void pollh_closed(uv_handle_t *h)
{
    struct sftp_pollh *ph = h->data;
    struct sftp_session *s = ph->s;
    if (ph->fd >= 0)
        close(ph->fd);
    free(ph);
    sess_unref(s);
}

/* Close the socket (its poll handle first). */
static void socket_drop(struct sftp_session *s)
{
    if (!s->ph)
        return;
    s->handles_left++;
    uv_poll_stop(&s->ph->poll);
    uv_close((uv_handle_t *)&s->ph->poll, pollh_closed);
    s->ph = NULL;
    s->fd = -1;
}

/* ------------------------------------------------------------------ */
/* failure and the queue                                               */

static void op_report(struct sftp_session *s, struct sftp_op *op)
{
    LIBSSH2_SFTP_HANDLE *h = sftp__op_release(op);
    if (h && !s->orphan)
        s->orphan = h;
    op->cb(&op->res, op->data);
    sftp__op_free(op);
}

static void op_fail_with(struct sftp_op *op, enum h2h_outcome out,
                         const struct h2h_err *e)
{
    op->res.outcome = out;
    h2h_err_set(&op->res.err, e->code, "%s %s: %s", sftp__op_name(op),
                sftp__op_path(op), e->msg);
}

/* Report the queued (never started) operations with e. */
static void fail_queue(struct sftp_session *s, enum h2h_outcome out,
                       const struct h2h_err *e)
{
    while (s->qhead) {
        struct sftp_op *op = s->qhead;
        s->qhead = op->next;
        if (!s->qhead)
            s->qtail = NULL;
        s->nq--;
        op_fail_with(op, out, e);
        op_report(s, op);
    }
}

/* The operation in flight ends with e: UNKNOWN if its final request may
 * have reached the server. */
static void fail_cur(struct sftp_session *s, enum h2h_outcome out,
                     const struct h2h_err *e)
{
    struct sftp_op *op = s->cur;
    if (!op || op->in_work)
        return;
    s->cur = NULL;
    op_fail_with(op, op->committed ? H2H_OUT_UNKNOWN : out, e);
    op_report(s, op);
    /* libssh2 may be half-way through a request: no goodbye on it */
    s->forced = 1;
}

static void sess_failv(struct sftp_session *s, enum h2h_outcome out, int code,
                       const char *fmt, va_list ap)
{
    if (s->failed || s->phase >= P_TEARDOWN)
        return;
    s->failed = 1;
    s->fail_out = out;
    h2h_err_vset(&s->fail_err, code, fmt, ap);
    wipe_secret(s);
    fail_cur(s, out, &s->fail_err);
    s->phase = P_TEARDOWN;
    s->tstep = 0;
    s->forced = 1;
    if (s->pool)
        pool_session_event(s);
    kick(s);
}

static void sess_fail(struct sftp_session *s, enum h2h_outcome out, int code,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void sess_fail(struct sftp_session *s, enum h2h_outcome out, int code,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sess_failv(s, out, code, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* resolve and connect                                                 */

static void try_connect(struct sftp_session *s);

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct sftp_session *s = req->data;
    s->gai_pending = 0;
    if (s->phase != P_RESOLVE) {
        uv_freeaddrinfo(res);
        drive(s);
        return;
    }
    if (status < 0) {
        uv_freeaddrinfo(res);
        sess_fail(s, H2H_OUT_TEMPFAIL, H2H_EIO, "cannot resolve %s: %s",
                  s->o.host, uv_strerror(status));
        drive(s);
        return;
    }
    s->ai = res;
    s->ai_cur = res;
    s->phase = P_CONNECT;
    try_connect(s);
    drive(s);
}

static void try_connect(struct sftp_session *s)
{
    int last = ECONNREFUSED;
    for (; s->ai_cur; s->ai_cur = s->ai_cur->ai_next) {
        struct addrinfo *ai = s->ai_cur;
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        /* libssh2 sends every SSH packet with its own send(): small
         * requests (FXP_READ, stat, close) queued behind an unacknowledged
         * one would wait for the peer's delayed ACK (40 ms on Linux) under
         * Nagle, which caps a download at a few MB/s.  Best effort: a
         * socket without it still works, only slower. */
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
            errno != EINPROGRESS) {
            last = errno;
            close(fd);
            continue;
        }
        struct sftp_pollh *ph = calloc(1, sizeof(*ph));
        if (!ph || uv_poll_init_socket(s->loop, &ph->poll, fd) < 0) {
            free(ph);
            close(fd);
            last = ENOMEM;
            continue;
        }
        ph->fd = fd;
        ph->s = s;
        ph->poll.data = ph;
        s->ph = ph;
        s->fd = fd;
        poll_want(s, UV_WRITABLE);
        return;
    }
    sess_fail(s, H2H_OUT_TEMPFAIL, -last, "connect to %s port %u: %s",
              s->o.host, s->o.port, strerror(last));
}

static int ssh_start(struct sftp_session *s)
{
    s->ssh = libssh2_session_init_ex(NULL, NULL, NULL, s);
    if (!s->ssh)
        return H2H_ENOMEM;
    libssh2_session_set_blocking(s->ssh, 0);
    if (libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_KEX, KEX_PREF) ||
        libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_HOSTKEY,
                                    HOSTKEY_PREF) ||
        libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_CRYPT_CS,
                                    CIPHER_PREF) ||
        libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_CRYPT_SC,
                                    CIPHER_PREF) ||
        libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_MAC_CS, MAC_PREF) ||
        libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_MAC_SC, MAC_PREF))
        return H2H_EUNSUPPORTED;
    libssh2_keepalive_config(s->ssh, 1, s->o.keepalive_s);
    return 0;
}

/* The socket became writable while connecting. */
static void connect_check(struct sftp_session *s)
{
    int e = 0;
    socklen_t len = sizeof(e);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    if (e) {
        socket_drop(s);
        s->ai_cur = s->ai_cur ? s->ai_cur->ai_next : NULL;
        if (s->ai_cur) {
            try_connect(s);
            return;
        }
        sess_fail(s, H2H_OUT_TEMPFAIL, -e, "connect to %s port %u: %s",
                  s->o.host, s->o.port, strerror(e));
        return;
    }
    uv_freeaddrinfo(s->ai);
    s->ai = s->ai_cur = NULL;
    int rc = ssh_start(s);
    if (rc < 0) {
        sess_fail(s, H2H_OUT_PERMFAIL, rc,
                  "cannot set up ssh session (algorithm preferences)");
        return;
    }
    s->phase = P_HANDSHAKE;
    timer_arm(s, T_PHASE, s->o.handshake_timeout_ms);
}

/* ------------------------------------------------------------------ */
/* host key                                                            */

static const char *hostkey_type_name(int type)
{
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
    case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
    default: return "unknown";
    }
}

static int hostkey_type_mask(int type)
{
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
    }
}

/* "SHA256:" + unpadded base64 of a 32-byte digest, as OpenSSH prints it. */
static void fp_format(const unsigned char *d, char *buf, size_t bufsz)
{
    unsigned char b64[64];
    int n = EVP_EncodeBlock(b64, d, 32);
    while (n > 0 && b64[n - 1] == '=')
        n--;
    snprintf(buf, bufsz, "SHA256:%.*s", n, (const char *)b64);
}

int sftp_fingerprint_pubkey(const char *line, char *buf, size_t bufsz,
                            struct h2h_err *err)
{
    char type[64];
    const char *p = line ? line : "";
    while (*p == ' ' || *p == '\t')
        p++;
    size_t tl = strcspn(p, " \t");
    if (tl == 0 || tl >= sizeof(type))
        return h2h_err_set(err, H2H_EPARSE, "no key type");
    memcpy(type, p, tl);
    type[tl] = '\0';
    p += tl;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t bl = strcspn(p, " \t\r\n");
    if (bl == 0 || bl % 4 || bl > 16384)
        return h2h_err_set(err, H2H_EPARSE, "bad key data");
    unsigned char *raw = malloc(bl);
    if (!raw)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int n = EVP_DecodeBlock(raw, (const unsigned char *)p, (int)bl);
    if (n < 0) {
        free(raw);
        return h2h_err_set(err, H2H_EPARSE, "bad base64 in key");
    }
    if (bl >= 1 && p[bl - 1] == '=')
        n--;
    if (bl >= 2 && p[bl - 2] == '=')
        n--;
    unsigned char d[32];
    unsigned int dl = 0;
    EVP_Digest(raw, (size_t)n, d, &dl, EVP_sha256(), NULL);
    free(raw);
    char fp[64];
    fp_format(d, fp, sizeof(fp));
    snprintf(buf, bufsz, "%s %s", type, fp);
    return 0;
}

/* 0 when the presented key is pinned; else the session failed. */
static int hostkey_check(struct sftp_session *s)
{
    size_t len = 0;
    int type = 0;
    const char *key = libssh2_session_hostkey(s->ssh, &len, &type);
    const char *hash =
        libssh2_hostkey_hash(s->ssh, LIBSSH2_HOSTKEY_HASH_SHA256);
    char fp[64] = "SHA256:?";
    if (hash)
        fp_format((const unsigned char *)hash, fp, sizeof(fp));
    if (!key) {
        sess_fail(s, H2H_OUT_PERMFAIL, H2H_EHOSTKEY,
                  "%s port %u presented no host key", s->o.host, s->o.port);
        return -1;
    }
    LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s->ssh);
    if (!kh) {
        sess_fail(s, H2H_OUT_TEMPFAIL, H2H_ENOMEM, "out of memory");
        return -1;
    }
    int n = libssh2_knownhost_readfile(kh, s->o.known_hosts,
                                       LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    if (n < 0) {
        libssh2_knownhost_free(kh);
        sess_fail(s, H2H_OUT_PERMFAIL, H2H_EHOSTKEY,
                  "cannot read known_hosts %s; refusing %s port %u "
                  "(host key %s %s)",
                  s->o.known_hosts, s->o.host, s->o.port,
                  hostkey_type_name(type), fp);
        return -1;
    }
    struct libssh2_knownhost *found = NULL;
    int mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW;
    /* libssh2 tries "[host]:port" and then "host" */
    int rc = libssh2_knownhost_checkp(kh, s->o.host, (int)s->o.port, key, len,
                                      mask | hostkey_type_mask(type), &found);
    int other = 0;
    if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
        /* any key (of any type) listed for this host? */
        other = libssh2_knownhost_checkp(kh, s->o.host, (int)s->o.port, key,
                                         len, mask, &found) ==
                LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
    }
    libssh2_knownhost_free(kh);
    if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
        return 0;
    if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH || other)
        sess_fail(s, H2H_OUT_PERMFAIL, H2H_EHOSTKEY,
                  "host key for %s port %u does not match known_hosts %s "
                  "(CHANGED key?): server presented %s %s; verify it with "
                  "the bank before replacing the pinned key",
                  s->o.host, s->o.port, s->o.known_hosts,
                  hostkey_type_name(type), fp);
    else
        sess_fail(s, H2H_OUT_PERMFAIL, H2H_EHOSTKEY,
                  "host key for %s port %u is not in known_hosts %s "
                  "(unknown host): server presented %s %s; verify it with "
                  "the bank and pin it",
                  s->o.host, s->o.port, s->o.known_hosts,
                  hostkey_type_name(type), fp);
    return -1;
}

/* ------------------------------------------------------------------ */
/* authentication                                                      */

/* Refuse files others may read; 0 or the session failed. */
static int check_private_file(struct sftp_session *s, const char *what,
                              const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        int e = errno;
        sess_fail(s, H2H_OUT_PERMFAIL, -e, "%s %s: %s", what, path,
                  strerror(e));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        sess_fail(s, H2H_OUT_PERMFAIL, H2H_EINVALID,
                  "%s %s is not a regular file", what, path);
        return -1;
    }
    if (st.st_mode & 077) {
        sess_fail(s, H2H_OUT_PERMFAIL, H2H_ESECURITY,
                  "%s %s is readable by group or others (mode %04o): "
                  "refused; chmod 600 it",
                  what, path, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* Read a one-line secret (trailing newline dropped). */
static int read_secret(struct sftp_session *s, const char *what,
                       const char *path)
{
    if (check_private_file(s, what, path) < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        sess_fail(s, H2H_OUT_PERMFAIL, -e, "%s %s: %s", what, path,
                  strerror(e));
        return -1;
    }
    wipe_secret(s);
    s->secret = calloc(1, SECRET_MAX + 1);
    ssize_t n = s->secret ? read(fd, s->secret, SECRET_MAX + 1) : -1;
    int e = errno;
    close(fd);
    if (n < 0 || n > SECRET_MAX) {
        wipe_secret(s);
        sess_fail(s, H2H_OUT_PERMFAIL, n < 0 ? -e : H2H_ETOOBIG, "%s %s: %s",
                  what, path, n < 0 ? strerror(e) : "too long");
        return -1;
    }
    s->secret_len = SECRET_MAX + 1;
    while (n > 0 && (s->secret[n - 1] == '\n' || s->secret[n - 1] == '\r'))
        n--;
    s->secret[n] = '\0';
    return 0;
}

/* Key type of an OpenSSH or PEM private key, for messages only. */
static void key_type_of(const char *path, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "unknown");
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char text[8192];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    if (strstr(text, "BEGIN RSA PRIVATE KEY")) {
        snprintf(buf, bufsz, "ssh-rsa");
    } else if (strstr(text, "BEGIN EC PRIVATE KEY")) {
        snprintf(buf, bufsz, "ecdsa");
    } else if (strstr(text, "BEGIN OPENSSH PRIVATE KEY")) {
        /* base64 body: "openssh-key-v1\0", cipher, kdf, kdfopts, n,
         * then the (never encrypted) public key whose first field is
         * its type */
        char *b = strchr(strstr(text, "BEGIN OPENSSH PRIVATE KEY"), '\n');
        char *e = b ? strstr(b, "-----END") : NULL;
        if (!b || !e)
            goto out;
        char clean[8192];
        size_t cl = 0;
        for (char *p = b; p < e && cl < sizeof(clean) - 1; p++)
            if (*p != '\n' && *p != '\r')
                clean[cl++] = *p;
        cl -= cl % 4;
        unsigned char raw[6144];
        int rl = EVP_DecodeBlock(raw, (unsigned char *)clean, (int)cl);
        size_t off = 15;
        for (int i = 0; i < 3 && rl > 0; i++) {
            if (off + 4 > (size_t)rl)
                goto out;
            uint32_t l = (uint32_t)raw[off] << 24 | raw[off + 1] << 16 |
                         raw[off + 2] << 8 | raw[off + 3];
            off += 4 + l;
        }
        off += 4 + 4; /* number of keys, public key blob length */
        if (rl <= 0 || off + 4 > (size_t)rl)
            goto out;
        uint32_t tl = (uint32_t)raw[off] << 24 | raw[off + 1] << 16 |
                      raw[off + 2] << 8 | raw[off + 3];
        off += 4;
        if (tl == 0 || tl > 40 || off + tl > (size_t)rl)
            goto out;
        snprintf(buf, bufsz, "%.*s", (int)tl, (char *)raw + off);
    }
out:
    OPENSSL_cleanse(text, sizeof(text));
}

/* One step of authentication: 1 done, 0 would block, -1 failed. */
static int auth_step(struct sftp_session *s)
{
    const char *u = s->o.user;
    unsigned ul = (unsigned)strlen(u);
    for (;;) {
        switch (s->auth_step) {
        case 0: /* key: checks before any use */
            if (!s->o.private_key) {
                s->auth_step = 2;
                continue;
            }
            if (check_private_file(s, "private key", s->o.private_key) < 0)
                return -1;
            key_type_of(s->o.private_key, s->keytype, sizeof(s->keytype));
            wipe_secret(s);
            if (s->o.passphrase_file &&
                read_secret(s, "passphrase file", s->o.passphrase_file) < 0)
                return -1;
            s->auth_step = 1;
            continue;
        case 1: {
            int rc = libssh2_userauth_publickey_fromfile_ex(
                s->ssh, u, ul, NULL, s->o.private_key, s->secret);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return 0;
            wipe_secret(s);
            if (rc == 0)
                return 1;
            if (rc == LIBSSH2_ERROR_FILE) {
                sess_fail(s, H2H_OUT_PERMFAIL, H2H_ECONFIG,
                          "cannot use private key %s: %s%s", s->o.private_key,
                          ssh_errmsg(s, NULL),
                          s->o.passphrase_file
                              ? ""
                              : " (encrypted key without passphrase_file?)");
                return -1;
            }
            if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED &&
                rc != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED) {
                sess_fail(s, H2H_OUT_TEMPFAIL, H2H_EIO,
                          "authentication with key failed: %s",
                          ssh_errmsg(s, NULL));
                return -1;
            }
            if (s->o.password_file) {
                s->auth_step = 2;
                continue;
            }
#if LIBSSH2_VERSION_NUM < 0x010b00
            if (!strcmp(s->keytype, "ssh-rsa")) {
                sess_fail(s, H2H_OUT_PERMFAIL, H2H_EAUTH,
                          "server refused RSA key %s for user %s: libssh2 "
                          "%s can only sign with ssh-rsa (SHA-1), which "
                          "OpenSSH >= 8.8 refuses; use an ed25519 or ECDSA "
                          "key",
                          s->o.private_key, u, LIBSSH2_VERSION);
                return -1;
            }
#endif
            sess_fail(s, H2H_OUT_PERMFAIL, H2H_EAUTH,
                      "server refused key %s (%s) for user %s",
                      s->o.private_key, s->keytype, u);
            return -1;
        }
        case 2:
            if (!s->o.password_file) {
                sess_fail(s, H2H_OUT_PERMFAIL, H2H_EAUTH,
                          "no credentials for user %s", u);
                return -1;
            }
            if (read_secret(s, "password file", s->o.password_file) < 0)
                return -1;
            s->auth_step = 3;
            continue;
        case 3: {
            int rc = libssh2_userauth_password_ex(
                s->ssh, u, ul, s->secret, (unsigned)strlen(s->secret), NULL);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return 0;
            wipe_secret(s);
            if (rc == 0)
                return 1;
            if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED ||
                rc == LIBSSH2_ERROR_PASSWORD_EXPIRED)
                sess_fail(s, H2H_OUT_PERMFAIL, H2H_EAUTH,
                          "server refused the password for user %s%s", u,
                          s->o.private_key ? " (and the key)" : "");
            else
                sess_fail(s, H2H_OUT_TEMPFAIL, H2H_EIO,
                          "password authentication failed: %s",
                          ssh_errmsg(s, NULL));
            return -1;
        }
        }
        return -1;
    }
}

/* ------------------------------------------------------------------ */
/* teardown                                                            */

static void final_free(struct sftp_session *s)
{
    sftp_close_cb cb = s->close_cb;
    void *data = s->close_data;
    if (s->pool)
        pool_session_gone(s);
    opts_free(&s->o);
    free(s);
    if (cb)
        cb(data);
}

/* Memory goes when the last handle's close callback ran. */
static void sess_unref(struct sftp_session *s)
{
    if (--s->handles_left == 0 && s->phase == P_DONE && !s->gai_pending)
        final_free(s);
}

static void sess_handle_closed(uv_handle_t *h)
{
    sess_unref(h->data);
}

/* libssh2 teardown on a broken (or abandoned) connection: with the socket
 * shut down every send/recv fails at once, so blocking mode cannot hang. */
static void ssh_forced_free(struct sftp_session *s)
{
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    if (!s->ssh)
        return;
    libssh2_session_set_blocking(s->ssh, 1);
    libssh2_session_set_timeout(s->ssh, 1000);
    if (s->orphan)
        libssh2_sftp_close_handle(s->orphan);
    s->orphan = NULL;
    if (s->sftp)
        libssh2_sftp_shutdown(s->sftp);
    s->sftp = NULL;
    libssh2_session_free(s->ssh);
    s->ssh = NULL;
}

/* One step of the goodbye: 1 done, 0 would block. */
static int ssh_goodbye(struct sftp_session *s)
{
    int rc = 0;
    for (;;) {
        switch (s->tstep) {
        case 0:
            if (s->orphan) {
                rc = libssh2_sftp_close_handle(s->orphan);
                if (rc == LIBSSH2_ERROR_EAGAIN)
                    return 0;
                s->orphan = NULL;
            }
            s->tstep = 1;
            continue;
        case 1:
            if (s->sftp) {
                rc = libssh2_sftp_shutdown(s->sftp);
                if (rc == LIBSSH2_ERROR_EAGAIN)
                    return 0;
                s->sftp = NULL;
            }
            s->tstep = 2;
            continue;
        case 2:
            rc = libssh2_session_disconnect(s->ssh, "closing");
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return 0;
            s->tstep = 3;
            continue;
        case 3:
            rc = libssh2_session_free(s->ssh);
            if (rc == LIBSSH2_ERROR_EAGAIN)
                return 0;
            s->ssh = NULL;
            return 1;
        }
        return 1;
    }
}

static void close_handles(struct sftp_session *s)
{
    s->phase = P_DONE;
    wipe_secret(s);
    if (s->ai) {
        uv_freeaddrinfo(s->ai);
        s->ai = s->ai_cur = NULL;
    }
    socket_drop(s);
    s->handles_left += 3;
    uv_close((uv_handle_t *)&s->timer, sess_handle_closed);
    uv_close((uv_handle_t *)&s->kick, sess_handle_closed);
    uv_close((uv_handle_t *)&s->ka, sess_handle_closed);
}

static void teardown_step(struct sftp_session *s)
{
    struct h2h_err e;
    const struct h2h_err *why = &s->fail_err;
    enum h2h_outcome out = s->fail_out;
    if (!s->failed) {
        h2h_err_set(&e, H2H_ECANCELED, "canceled: session closed");
        why = &e;
        out = H2H_OUT_TEMPFAIL;
    }
    if (s->cur && s->cur->in_work)
        return; /* a download's fsync finishes first */
    if (s->cur && sftp__op_local_only(s->cur)) {
        struct sftp_op *op = s->cur;
        s->cur = NULL;
        sftp__op_step(s, op);
        op_report(s, op);
    }
    fail_cur(s, out, why);
    fail_queue(s, out, why);
    if (s->gai_pending) {
        uv_cancel((uv_req_t *)&s->gai);
        return; /* gai_cb drives again */
    }
    if (s->ssh && !s->forced) {
        if (s->timer_kind != T_GOODBYE)
            timer_arm(s, T_GOODBYE,
                      s->o.op_timeout_ms < GOODBYE_MAX_MS ? s->o.op_timeout_ms
                                                          : GOODBYE_MAX_MS);
        if (!ssh_goodbye(s)) {
            wait_io(s);
            return;
        }
    }
    ssh_forced_free(s);
    timer_disarm(s);
    uv_timer_stop(&s->ka);
    s->phase = P_HANDLES;
}

/* ------------------------------------------------------------------ */
/* the machine                                                         */

static void ka_cb(uv_timer_t *t);

static void idle_enter(struct sftp_session *s)
{
    if (s->timer_kind != T_IDLE) {
        timer_disarm(s);
        if (s->pool && s->pool->idle_ms)
            timer_arm(s, T_IDLE, s->pool->idle_ms);
    }
    /* watch for the server going away while idle */
    s->idle_poll = 1;
    poll_want(s, UV_READABLE | UV_DISCONNECT);
    if (s->pool)
        pool_session_event(s);
}

static void step(struct sftp_session *s)
{
    for (;;) {
        if ((s->closing || s->failed) && s->phase < P_TEARDOWN) {
            if (s->phase < P_READY)
                s->forced = 1;
            s->phase = P_TEARDOWN;
            s->tstep = 0;
        }
        switch (s->phase) {
        case P_RESOLVE:
        case P_CONNECT: return; /* gai_cb / poll_cb move on */
        case P_HANDSHAKE: {
            int rc = libssh2_session_handshake(s->ssh, s->fd);
            if (rc == LIBSSH2_ERROR_EAGAIN) {
                wait_io(s);
                return;
            }
            if (rc) {
                sess_fail(s, H2H_OUT_TEMPFAIL,
                          rc == LIBSSH2_ERROR_KEX_FAILURE ? H2H_EPROTO
                                                          : H2H_EIO,
                          "ssh handshake with %s port %u failed: %s", s->o.host,
                          s->o.port, ssh_errmsg(s, NULL));
                continue;
            }
            if (hostkey_check(s) < 0)
                continue;
            s->phase = P_AUTH;
            s->auth_step = 0;
            timer_arm(s, T_PHASE, s->o.auth_timeout_ms);
            continue;
        }
        case P_AUTH: {
            int rc = auth_step(s);
            if (rc < 0)
                continue;
            if (rc == 0) {
                wait_io(s);
                return;
            }
            s->phase = P_INIT;
            continue;
        }
        case P_INIT:
            s->sftp = libssh2_sftp_init(s->ssh);
            if (!s->sftp) {
                int code = 0;
                const char *m = ssh_errmsg(s, &code);
                if (code == LIBSSH2_ERROR_EAGAIN) {
                    wait_io(s);
                    return;
                }
                sess_fail(s, H2H_OUT_TEMPFAIL, H2H_EPROTO,
                          "cannot start sftp on %s port %u: %s", s->o.host,
                          s->o.port, m);
                continue;
            }
            s->phase = P_READY;
            s->was_ready = 1;
            timer_disarm(s);
            uv_timer_start(&s->ka, ka_cb, s->o.keepalive_s * 1000ULL,
                           s->o.keepalive_s * 1000ULL);
            continue;
        case P_READY: {
            if (!s->cur) {
                if (!s->qhead) {
                    idle_enter(s);
                    if (s->cur || s->qhead)
                        continue; /* the pool handed us work */
                    return;
                }
                s->cur = s->qhead;
                s->qhead = s->cur->next;
                if (!s->qhead)
                    s->qtail = NULL;
                s->nq--;
                s->cur->next = NULL;
            }
            struct sftp_op *op = s->cur;
            if (op->in_work)
                return;
            enum sftp_op_rc rc = sftp__op_step(s, op);
            if (rc == OPR_AGAIN) {
                timer_arm(s, T_OP, s->o.op_timeout_ms);
                wait_io(s);
                return;
            }
            if (rc == OPR_WORK) {
                timer_disarm(s);
                poll_want(s, 0);
                return;
            }
            s->cur = NULL;
            if (rc == OPR_DEAD) {
                char why[512];
                snprintf(why, sizeof(why), "%s", ssh_errmsg(s, NULL));
                op_report(s, op);
                sess_fail(s, H2H_OUT_TEMPFAIL, H2H_EIO,
                          "connection to %s port %u lost: %s", s->o.host,
                          s->o.port, why);
                continue;
            }
            op_report(s, op);
            continue;
        }
        case P_TEARDOWN:
            teardown_step(s);
            if (s->phase == P_TEARDOWN)
                return;
            continue;
        case P_HANDLES:
            /* a broken session stays (inert) until its owner closes it */
            if (!s->closing)
                return;
            close_handles(s);
            return;
        case P_DONE: return;
        }
    }
}

static void drive(struct sftp_session *s)
{
    if (s->in_drive) {
        s->redrive = 1;
        return;
    }
    if (s->phase == P_DONE)
        return;
    s->in_drive = 1;
    do {
        s->redrive = 0;
        step(s);
    } while (s->redrive && s->phase != P_DONE);
    s->in_drive = 0;
}

void sftp__resume(struct sftp_session *s)
{
    drive(s);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
    struct sftp_pollh *ph = h->data;
    struct sftp_session *s = ph->s;
    (void)events;
    if (s->phase == P_CONNECT) {
        connect_check(s);
        drive(s);
        return;
    }
    if (s->idle_poll && s->phase == P_READY && !s->cur && !s->qhead) {
        /* idle: only an EOF or an error means something now; data (a
         * keepalive reply) waits for the next operation */
        char c;
        ssize_t n =
            status < 0 ? -1 : recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            sess_fail(s, H2H_OUT_TEMPFAIL, -ECONNRESET,
                      "%s port %u closed the connection", s->o.host, s->o.port);
        else
            poll_want(s, 0);
        s->idle_poll = 0;
        drive(s);
        return;
    }
    drive(s);
}

static void timer_cb(uv_timer_t *t)
{
    struct sftp_session *s = t->data;
    int kind = s->timer_kind;
    s->timer_kind = T_NONE;
    switch (kind) {
    case T_PHASE: {
        unsigned ms = s->phase <= P_CONNECT     ? s->o.connect_timeout_ms
                      : s->phase == P_HANDSHAKE ? s->o.handshake_timeout_ms
                                                : s->o.auth_timeout_ms;
        sess_fail(s, H2H_OUT_TEMPFAIL, H2H_ETIMEOUT,
                  "%s with %s port %u timed out after %u ms",
                  phase_name(s->phase), s->o.host, s->o.port, ms);
        break;
    }
    case T_OP:
        sess_fail(s, H2H_OUT_TEMPFAIL, H2H_ETIMEOUT,
                  "no progress from %s port %u for %u ms", s->o.host, s->o.port,
                  s->o.op_timeout_ms);
        break;
    case T_IDLE:
        if (s->phase == P_READY && !s->cur && !s->qhead)
            s->closing = 1;
        break;
    case T_GOODBYE: s->forced = 1; break;
    default: return;
    }
    drive(s);
}

static void ka_cb(uv_timer_t *t)
{
    struct sftp_session *s = t->data;
    if (s->phase != P_READY || s->cur || s->qhead || s->closing || s->failed)
        return;
    int next = 0;
    int rc = libssh2_keepalive_send(s->ssh, &next);
    if (rc && rc != LIBSSH2_ERROR_EAGAIN) {
        sess_fail(s, H2H_OUT_TEMPFAIL, H2H_EIO, "keepalive to %s failed: %s",
                  s->o.host, ssh_errmsg(s, NULL));
        drive(s);
        return;
    }
    s->idle_poll = 1;
    poll_want(s, UV_READABLE | UV_DISCONNECT);
}

/* ------------------------------------------------------------------ */
/* sessions: API                                                       */

static int lib_init(struct h2h_err *err)
{
    static int done;
    if (!done) {
        if (libssh2_init(0) != 0)
            return h2h_err_set(err, H2H_EIO, "libssh2_init failed");
        done = 1;
    }
    return 0;
}

static int session_create(uv_loop_t *loop, const struct sftp_opts *opts,
                          struct sftp_session **out, struct h2h_err *err)
{
    *out = NULL;
    int rc = lib_init(err);
    if (rc < 0)
        return rc;
    struct sftp_session *s = calloc(1, sizeof(*s));
    if (!s)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    rc = opts_copy(&s->o, opts, err);
    if (rc < 0) {
        opts_free(&s->o);
        free(s);
        return rc;
    }
    s->loop = loop;
    s->fd = -1;
    s->id = ++next_session_id;
    uv_timer_init(loop, &s->timer);
    uv_timer_init(loop, &s->kick);
    uv_timer_init(loop, &s->ka);
    s->timer.data = s->kick.data = s->ka.data = s;

    char port[16];
    snprintf(port, sizeof(port), "%u", s->o.port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    s->gai.data = s;
    s->phase = P_RESOLVE;
    rc = uv_getaddrinfo(loop, &s->gai, gai_cb, s->o.host, port, &hints);
    if (rc < 0) {
        /* nothing started: report through the queue like any failure */
        sess_fail(s, H2H_OUT_TEMPFAIL, H2H_EIO, "cannot resolve %s: %s",
                  s->o.host, uv_strerror(rc));
    } else {
        s->gai_pending = 1;
        timer_arm(s, T_PHASE, s->o.connect_timeout_ms);
    }
    *out = s;
    return 0;
}

int sftp_session_new(uv_loop_t *loop, const struct sftp_opts *opts,
                     struct sftp_session **out, struct h2h_err *err)
{
    return session_create(loop, opts, out, err);
}

void sftp_session_close(struct sftp_session *s, sftp_close_cb cb, void *data)
{
    if (!s)
        return;
    if (s->closing && s->close_cb)
        H2H_BUG("sftp_session_close called twice");
    s->closing = 1;
    s->close_cb = cb;
    s->close_data = data;
    kick(s);
}

enum sftp_state sftp_session_state(const struct sftp_session *s)
{
    if (s->closing || s->failed || s->phase >= P_TEARDOWN)
        return SFTP_CLOSING;
    return s->phase == P_READY ? SFTP_READY : SFTP_CONNECTING;
}

static void session_enqueue(struct sftp_session *s, struct sftp_op *op)
{
    op->next = NULL;
    if (s->qtail)
        s->qtail->next = op;
    else
        s->qhead = op;
    s->qtail = op;
    s->nq++;
    kick(s);
}

static int session_submit(struct sftp_session *s, struct sftp_op *op,
                          struct h2h_err *err)
{
    if (!op)
        return err ? err->code : H2H_ENOMEM;
    int rc = sftp__op_check(op, err);
    if (rc == 0 && (s->closing || s->failed || s->phase >= P_TEARDOWN)) {
        rc = s->failed
                 ? h2h_err_set(err, H2H_ESTATE, "sftp session is dead: %s",
                               s->fail_err.msg)
                 : h2h_err_set(err, H2H_ESTATE, "sftp session is closing");
    }
    if (rc < 0) {
        sftp__op_free(op);
        return rc;
    }
    session_enqueue(s, op);
    return 0;
}

int sftp_upload(struct sftp_session *s, const char *local_path,
                const char *remote_dir, const char *remote_name, unsigned flags,
                sftp_cb cb, void *data, struct h2h_err *err)
{
    return session_submit(s,
                          sftp__op_new(OP_UPLOAD, local_path, remote_dir,
                                       remote_name, flags, cb, data, err),
                          err);
}

int sftp_stat(struct sftp_session *s, const char *remote_path, sftp_cb cb,
              void *data, struct h2h_err *err)
{
    return session_submit(
        s, sftp__op_new(OP_STAT, remote_path, NULL, NULL, 0, cb, data, err),
        err);
}

int sftp_list(struct sftp_session *s, const char *remote_dir, sftp_cb cb,
              void *data, struct h2h_err *err)
{
    return session_submit(
        s, sftp__op_new(OP_LIST, remote_dir, NULL, NULL, 0, cb, data, err),
        err);
}

int sftp_list_tmp(struct sftp_session *s, const char *remote_dir,
                  const char *remote_name, sftp_cb cb, void *data,
                  struct h2h_err *err)
{
    return session_submit(s,
                          sftp__op_new(OP_LIST, remote_dir, remote_name, NULL,
                                       SFTP__LIST_TMP, cb, data, err),
                          err);
}

int sftp_download(struct sftp_session *s, const char *remote_path,
                  const char *local_dir, const char *local_name, sftp_cb cb,
                  void *data, struct h2h_err *err)
{
    return session_submit(s,
                          sftp__op_new(OP_DOWNLOAD, remote_path, local_dir,
                                       local_name, 0, cb, data, err),
                          err);
}

int sftp_remove(struct sftp_session *s, const char *remote_path, sftp_cb cb,
                void *data, struct h2h_err *err)
{
    return session_submit(
        s, sftp__op_new(OP_REMOVE, remote_path, NULL, NULL, 0, cb, data, err),
        err);
}

int sftp_rename(struct sftp_session *s, const char *from, const char *to,
                sftp_cb cb, void *data, struct h2h_err *err)
{
    return session_submit(
        s, sftp__op_new(OP_RENAME, from, to, NULL, 0, cb, data, err), err);
}

/* ------------------------------------------------------------------ */
/* pool                                                                */

static void pool_kick(struct sftp_pool *p);

static unsigned pool_live(const struct sftp_pool *p)
{
    unsigned n = 0;
    for (struct sftp_session *s = p->sessions; s; s = s->pnext)
        if (!s->closing && !s->failed && s->phase < P_TEARDOWN)
            n++;
    return n;
}

static unsigned pool_count(const struct sftp_pool *p)
{
    unsigned n = 0;
    for (struct sftp_session *s = p->sessions; s; s = s->pnext)
        n++;
    return n;
}

static struct sftp_op *pool_pop(struct sftp_pool *p)
{
    struct sftp_op *op = p->qhead;
    if (op) {
        p->qhead = op->next;
        if (!p->qhead)
            p->qtail = NULL;
        p->nq--;
        op->next = NULL;
    }
    return op;
}

static void pool_fail_queue(struct sftp_pool *p, enum h2h_outcome out,
                            const struct h2h_err *e)
{
    struct sftp_op *op;
    while ((op = pool_pop(p))) {
        op_fail_with(op, out, e);
        sftp__op_release(op);
        op->cb(&op->res, op->data);
        sftp__op_free(op);
    }
}

static void pool_kick_closed(uv_handle_t *h);

static void pool_try_free(struct sftp_pool *p)
{
    if (!p->closing || p->sessions || p->qhead || p->kick_closed)
        return;
    p->kick_closed = 1;
    uv_close((uv_handle_t *)&p->kick, pool_kick_closed);
}

static void pool_dispatch(struct sftp_pool *p)
{
    if (p->in_dispatch)
        return;
    p->in_dispatch = 1;
    if (p->closing) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_ECANCELED, "canceled: pool closed");
        pool_fail_queue(p, H2H_OUT_TEMPFAIL, &e);
        for (struct sftp_session *s = p->sessions; s; s = s->pnext)
            if (!s->closing) {
                s->closing = 1;
                kick(s);
            }
        p->in_dispatch = 0;
        pool_try_free(p);
        return;
    }
    while (p->qhead) {
        struct sftp_session *idle = NULL;
        unsigned coming = 0;
        for (struct sftp_session *s = p->sessions; s; s = s->pnext) {
            if (s->closing || s->failed || s->phase >= P_TEARDOWN)
                continue;
            if (s->phase < P_READY)
                coming++;
            else if (!s->cur && !s->qhead && !idle)
                idle = s;
        }
        if (idle) {
            struct sftp_op *op = pool_pop(p);
            if (idle->timer_kind == T_IDLE)
                timer_disarm(idle);
            session_enqueue(idle, op);
            continue;
        }
        /* open another session when the waiting work outnumbers the
         * sessions already on their way and the limit allows */
        if (p->nq > coming && pool_count(p) < p->max) {
            struct sftp_session *s = NULL;
            struct h2h_err e;
            if (session_create(p->loop, &p->o, &s, &e) < 0) {
                pool_fail_queue(p, H2H_OUT_TEMPFAIL, &e);
                break;
            }
            s->pool = p;
            s->pnext = p->sessions;
            p->sessions = s;
            p->st.opened++;
            unsigned n = pool_count(p);
            if (n > p->st.peak)
                p->st.peak = n;
            if (s->failed) { /* failed inside session_create */
                pool_session_event(s);
                break;
            }
            continue;
        }
        break;
    }
    p->in_dispatch = 0;
}

/* A pooled session became idle, ready or failed. */
static void pool_session_event(struct sftp_session *s)
{
    struct sftp_pool *p = s->pool;
    if (s->failed && !s->pool_notified_fail) {
        s->pool_notified_fail = 1;
        s->closing = 1; /* the pool owns it: retire it */
        kick(s);
        /* a session that never came up (refused, host key, auth, timeout)
         * fails the waiting work with its reason: the next sessions would
         * most likely fail the same way, and reconnecting in a loop helps
         * nobody; new work makes a new attempt.  A session that broke
         * after being ready leaves the queue to the others (or a new
         * one). */
        if (!s->was_ready) {
            struct sftp_op *op;
            while ((op = pool_pop(p))) {
                op_fail_with(op, s->fail_out, &s->fail_err);
                sftp__op_release(op);
                op->cb(&op->res, op->data);
                sftp__op_free(op);
            }
        }
    }
    pool_kick(p);
}

static void pool_session_gone(struct sftp_session *s)
{
    struct sftp_pool *p = s->pool;
    for (struct sftp_session **pp = &p->sessions; *pp; pp = &(*pp)->pnext)
        if (*pp == s) {
            *pp = s->pnext;
            break;
        }
    s->pool = NULL;
    pool_kick(p);
}

static void pool_kick_cb(uv_timer_t *t)
{
    pool_dispatch(t->data);
}

static void pool_kick(struct sftp_pool *p)
{
    if (!p->kick_closed)
        uv_timer_start(&p->kick, pool_kick_cb, 0, 0);
}

int sftp_pool_new(uv_loop_t *loop, const struct sftp_opts *opts,
                  unsigned max_sessions, unsigned idle_timeout_ms,
                  struct sftp_pool **out, struct h2h_err *err)
{
    *out = NULL;
    int rc = lib_init(err);
    if (rc < 0)
        return rc;
    struct sftp_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    rc = opts_copy(&p->o, opts, err);
    if (rc < 0) {
        opts_free(&p->o);
        free(p);
        return rc;
    }
    p->loop = loop;
    p->max = max_sessions ? max_sessions : 1;
    p->idle_ms = idle_timeout_ms;
    uv_timer_init(loop, &p->kick);
    p->kick.data = p;
    *out = p;
    return 0;
}

static void pool_kick_closed(uv_handle_t *h)
{
    struct sftp_pool *p = h->data;
    sftp_close_cb cb = p->close_cb;
    void *data = p->close_data;
    opts_free(&p->o);
    free(p);
    if (cb)
        cb(data);
}

void sftp_pool_close(struct sftp_pool *p, sftp_close_cb cb, void *data)
{
    if (!p)
        return;
    if (p->closing)
        H2H_BUG("sftp_pool_close called twice");
    p->closing = 1;
    p->close_cb = cb;
    p->close_data = data;
    pool_kick(p);
}

void sftp_pool_stats(const struct sftp_pool *p, struct sftp_pool_stats *st)
{
    *st = p->st;
    st->live = pool_live(p);
    st->queued = p->nq;
}

static int pool_submit(struct sftp_pool *p, struct sftp_op *op,
                       struct h2h_err *err)
{
    if (!op)
        return err ? err->code : H2H_ENOMEM;
    int rc = sftp__op_check(op, err);
    if (rc == 0 && p->closing)
        rc = h2h_err_set(err, H2H_ESTATE, "sftp pool is closing");
    if (rc < 0) {
        sftp__op_free(op);
        return rc;
    }
    op->next = NULL;
    if (p->qtail)
        p->qtail->next = op;
    else
        p->qhead = op;
    p->qtail = op;
    p->nq++;
    pool_kick(p);
    return 0;
}

int sftp_pool_upload(struct sftp_pool *p, const char *local_path,
                     const char *remote_dir, const char *remote_name,
                     unsigned flags, sftp_cb cb, void *data,
                     struct h2h_err *err)
{
    return pool_submit(p,
                       sftp__op_new(OP_UPLOAD, local_path, remote_dir,
                                    remote_name, flags, cb, data, err),
                       err);
}

int sftp_pool_stat(struct sftp_pool *p, const char *remote_path, sftp_cb cb,
                   void *data, struct h2h_err *err)
{
    return pool_submit(
        p, sftp__op_new(OP_STAT, remote_path, NULL, NULL, 0, cb, data, err),
        err);
}

int sftp_pool_list(struct sftp_pool *p, const char *remote_dir, sftp_cb cb,
                   void *data, struct h2h_err *err)
{
    return pool_submit(
        p, sftp__op_new(OP_LIST, remote_dir, NULL, NULL, 0, cb, data, err),
        err);
}

int sftp_pool_list_tmp(struct sftp_pool *p, const char *remote_dir,
                       const char *remote_name, sftp_cb cb, void *data,
                       struct h2h_err *err)
{
    return pool_submit(p,
                       sftp__op_new(OP_LIST, remote_dir, remote_name, NULL,
                                    SFTP__LIST_TMP, cb, data, err),
                       err);
}

int sftp_pool_download(struct sftp_pool *p, const char *remote_path,
                       const char *local_dir, const char *local_name,
                       sftp_cb cb, void *data, struct h2h_err *err)
{
    return pool_submit(p,
                       sftp__op_new(OP_DOWNLOAD, remote_path, local_dir,
                                    local_name, 0, cb, data, err),
                       err);
}

int sftp_pool_remove(struct sftp_pool *p, const char *remote_path, sftp_cb cb,
                     void *data, struct h2h_err *err)
{
    return pool_submit(
        p, sftp__op_new(OP_REMOVE, remote_path, NULL, NULL, 0, cb, data, err),
        err);
}

int sftp_pool_rename(struct sftp_pool *p, const char *from, const char *to,
                     sftp_cb cb, void *data, struct h2h_err *err)
{
    return pool_submit(
        p, sftp__op_new(OP_RENAME, from, to, NULL, 0, cb, data, err), err);
}
