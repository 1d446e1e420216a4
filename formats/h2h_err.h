/*
 * h2h_err - error codes and the error context shared by every module.
 *
 * Convention: functions return 0 on success and a negative code on failure.
 * -errno values pass through unchanged; h2hd's own codes live below
 * H2H_EBASE so they never collide with errno.  A function that fails fills
 * an optional struct h2h_err (may be NULL) with a human-readable message,
 * lower case, no final period, so that the caller that decides what to do
 * can log it once:
 *
 *     return h2h_err_set(err, H2H_EPARSE, "line %d: bad amount", n);
 *
 * Thread-safety: none needed; the struct belongs to the caller.
 */
#ifndef H2H_ERR_H
#define H2H_ERR_H

#include <stdarg.h>

enum {
    H2H_EBASE = -10000,
    H2H_EPARSE = -10001,    /* input is not well-formed */
    H2H_EINVALID = -10002,  /* input is well-formed but breaks a rule */
    H2H_ECONFIG = -10003,   /* configuration problem */
    H2H_EDUP = -10004,      /* duplicate (content, id, remote name) */
    H2H_ESTATE = -10005,    /* operation not allowed in this state */
    H2H_ENOTFOUND = -10006, /* no such message, file, bank, ... */
    H2H_ETOOBIG = -10007,   /* a size, depth or count cap was exceeded */
    H2H_ECHARSET = -10008,  /* text cannot be represented / decoded */
    H2H_EUNSUPPORTED = -10009,
    H2H_ESECURITY = -10010, /* refused for security (DTD, perms, key) */
    H2H_ETIMEOUT = -10011,
    H2H_EDB = -10012, /* state store failure */
    H2H_EIO = -10013, /* I/O failure without a useful errno */
    H2H_ENOMEM = -10014,
    H2H_EPROTO = -10015,   /* peer violated its protocol */
    H2H_EAUTH = -10016,    /* authentication refused */
    H2H_EHOSTKEY = -10017, /* SSH host key unknown or changed */
    H2H_ECANCELED = -10018,
};

#define H2H_ERR_MSG_MAX 1024

struct h2h_err {
    int code;
    char msg[H2H_ERR_MSG_MAX];
};

/* Fill err (if not NULL) with code and a formatted message; return code. */
int h2h_err_set(struct h2h_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int h2h_err_vset(struct h2h_err *err, int code, const char *fmt, va_list ap);

/* Prefix the message already in err with "prefix: "; return err->code. */
int h2h_err_prefix(struct h2h_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset err to "no error". */
void h2h_err_clear(struct h2h_err *err);

/* Static description of a code (ours or -errno). Never NULL. */
const char *h2h_strerror(int code);

/* Abort on a broken invariant: a bug, never bad input. */
#define H2H_BUG(...) h2h_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void h2h_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
