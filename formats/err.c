/* err.c - error context helpers; see h2h_err.h. */
#include "h2h_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int h2h_err_vset(struct h2h_err *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    }
    return code;
}

int h2h_err_set(struct h2h_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    h2h_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int h2h_err_prefix(struct h2h_err *err, const char *fmt, ...)
{
    if (!err)
        return 0;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err->code;
    size_t plen = strlen(prefix);
    prefix[plen++] = ':';
    prefix[plen++] = ' ';
    size_t mlen = strnlen(err->msg, sizeof(err->msg) - 1);
    if (plen + mlen >= sizeof(err->msg))
        mlen = sizeof(err->msg) - 1 - plen;
    memmove(err->msg + plen, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + mlen] = '\0';
    return err->code;
}

void h2h_err_clear(struct h2h_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

const char *h2h_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case H2H_EPARSE: return "malformed input";
    case H2H_EINVALID: return "invalid input";
    case H2H_ECONFIG: return "configuration error";
    case H2H_EDUP: return "duplicate";
    case H2H_ESTATE: return "not allowed in this state";
    case H2H_ENOTFOUND: return "not found";
    case H2H_ETOOBIG: return "size limit exceeded";
    case H2H_ECHARSET: return "character set conversion failed";
    case H2H_EUNSUPPORTED: return "not supported";
    case H2H_ESECURITY: return "refused for security reasons";
    case H2H_ETIMEOUT: return "timed out";
    case H2H_EDB: return "state store error";
    case H2H_EIO: return "i/o error";
    case H2H_ENOMEM: return "out of memory";
    case H2H_EPROTO: return "protocol error";
    case H2H_EAUTH: return "authentication failed";
    case H2H_EHOSTKEY: return "host key not trusted";
    case H2H_ECANCELED: return "canceled";
    }
    if (code < 0 && code > H2H_EBASE)
        return strerror(-code);
    return "unknown error";
}

void h2h_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "h2hd: BUG at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
