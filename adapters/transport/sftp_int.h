/*
 * sftp_int.h - shared between sftp_session.c (connection state machine,
 * queue, pool) and sftp_ops.c (one state machine per operation).  Not part
 * of the API: see sftp.h.
 */
#ifndef H2H_SFTP_INT_H
#define H2H_SFTP_INT_H

#include <stdint.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/evp.h>
#include <uv.h>

#include "sftp.h"

enum sftp_op_kind {
    OP_UPLOAD,
    OP_STAT,
    OP_LIST,
    OP_DOWNLOAD,
    OP_REMOVE,
    OP_RENAME,
};

/* OP_LIST flag: list our upload temporaries of op->b (sftp_list_tmp). */
#define SFTP__LIST_TMP 0x100

/* What one step of an operation asks the session to do next. */
enum sftp_op_rc {
    OPR_AGAIN, /* libssh2 would block: wait on the socket */
    OPR_DONE,  /* res is filled; the session is still healthy */
    OPR_DEAD,  /* res is filled; the connection is broken */
    OPR_WORK,  /* waiting for a thread-pool job; it calls sftp__resume */
};

struct sftp_op {
    struct sftp_op *next;
    enum sftp_op_kind kind;
    char *a, *b, *c; /* arguments, copied (see sftp__op_new) */
    unsigned flags;
    sftp_cb cb;
    void *data;
    struct sftp_result res;

    /* running state (sftp_ops.c) */
    struct sftp_session *s;
    int step;
    int started;
    int committed; /* the irrevocable request went out */
    int in_work;
    char *rfinal, *rtmp; /* remote paths */
    LIBSSH2_SFTP_HANDLE *h;
    int fd;              /* local file, -1 */
    char *ltmp, *lfinal; /* local paths (download) */
    unsigned char *buf;
    size_t buf_len, buf_pos;
    uint64_t total, expect;
    EVP_MD_CTX *md;
    struct sftp_entry *ents;
    size_t n_ents, cap_ents;
    int pair;                      /* PAIR_* of the running pair */
    LIBSSH2_SFTP_ATTRIBUTES pair_at; /* its stat's answer */
    enum h2h_outcome pend_out; /* failure kept while cleaning up */
    struct h2h_err pend_err;
    int pend_set;
    uv_work_t work;
    int work_rc;
    struct h2h_err work_err;
};

enum sftp_phase {
    P_RESOLVE,
    P_CONNECT,
    P_HANDSHAKE,
    P_AUTH,
    P_INIT,
    P_READY,
    P_TEARDOWN,
    P_HANDLES,
    P_DONE,
};

struct sftp_pollh;

struct sftp_session {
    uv_loop_t *loop;
    struct sftp_opts o; /* strings owned */
    unsigned long id;
    enum sftp_phase phase;

    uv_getaddrinfo_t gai;
    int gai_pending;
    struct addrinfo *ai, *ai_cur;
    struct sftp_pollh *ph; /* socket + its uv_poll_t */
    int fd;

    uv_timer_t timer; /* the current wait's deadline */
    int timer_kind;
    uv_timer_t kick; /* run the machine on the next loop turn */
    uv_timer_t ka;   /* keepalive */
    int handles_left;

    LIBSSH2_SESSION *ssh;
    LIBSSH2_SFTP *sftp;
    LIBSSH2_SFTP_HANDLE *orphan; /* left open by an aborted operation */
    int auth_step;
    char *secret;
    size_t secret_len;
    char keytype[48];
    int tstep;
    int forced;

    struct sftp_op *qhead, *qtail, *cur;
    size_t nq;

    int failed;
    enum h2h_outcome fail_out;
    struct h2h_err fail_err;
    int closing;
    sftp_close_cb close_cb;
    void *close_data;
    int in_drive, redrive;
    int idle_poll;

    struct sftp_pool *pool; /* owner, or NULL */
    struct sftp_session *pnext;
    int pool_notified_fail;
    int was_ready;
};

/* sftp_ops.c */
struct sftp_op *sftp__op_new(enum sftp_op_kind kind, const char *a,
                             const char *b, const char *c, unsigned flags,
                             sftp_cb cb, void *data, struct h2h_err *err);
/* Validate the arguments of an operation before it is queued. */
int sftp__op_check(const struct sftp_op *op, struct h2h_err *err);
enum sftp_op_rc sftp__op_step(struct sftp_session *s, struct sftp_op *op);
/* Release local resources (files, temporaries, digests); the remote handle
 * if still open is returned for the session to close. */
LIBSSH2_SFTP_HANDLE *sftp__op_release(struct sftp_op *op);
void sftp__op_free(struct sftp_op *op);
/* 1 when op can finish without the network (a download whose local file
 * is already in place): it is completed, not canceled, on close. */
int sftp__op_local_only(const struct sftp_op *op);
const char *sftp__op_name(const struct sftp_op *op);
const char *sftp__op_path(const struct sftp_op *op);

/* sftp_session.c: a thread-pool job of op finished (loop thread). */
void sftp__resume(struct sftp_session *s);

#endif
