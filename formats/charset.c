/*
 * charset.c - UTF-8 <-> wire charsets through glibc iconv; see charset.h.
 *
 * Fail closed: iconv is opened without //TRANSLIT or //IGNORE (a charset
 * name carrying such a suffix is refused), so an undecodable byte or an
 * unrepresentable character stops the conversion with its offset.
 */
#include "charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ident.h"

/* Output of any single conversion; a cap so a hostile input cannot make
 * us allocate without bound (inputs are capped by their readers too). */
#define CHARSET_MAX_OUT ((size_t)1 << 31)

int fmt_charset_is_utf8(const char *cs)
{
    return !cs || !*cs || !strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "UTF8");
}

static int name_ok(const char *cs)
{
    /* "//TRANSLIT", "//IGNORE" would turn fail-closed into guessing. */
    return cs && *cs && strlen(cs) < 64 && !strchr(cs, '/');
}

int fmt_charset_known(const char *cs)
{
    if (fmt_charset_is_utf8(cs))
        return 1;
    if (!name_ok(cs))
        return 0;
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return 0;
    iconv_close(cd);
    return 1;
}

/* Offset and a hex dump of the next few bytes, for a message. */
static void bytes_at(char *dst, size_t dsz, const char *in, size_t len,
                     size_t off)
{
    size_t n = 0;
    dst[0] = '\0';
    for (size_t i = off; i < len && i < off + 4 && n + 6 < dsz; i++)
        n += (size_t)snprintf(dst + n, dsz - n, "%s0x%02X", n ? " " : "",
                              (unsigned char)in[i]);
}

static int convert(const char *to, const char *from, const char *cs_shown,
                   int decoding, const char *in, size_t len, char **out,
                   size_t *outlen, struct h2h_err *err)
{
    int rc = 0;
    char *buf = NULL;
    *out = NULL;
    if (outlen)
        *outlen = 0;
    iconv_t cd = iconv_open(to, from);
    if (cd == (iconv_t)-1)
        return h2h_err_set(err, H2H_ECHARSET, "unknown character set %s",
                           cs_shown);
    size_t cap = len + len / 2 + 16;
    buf = malloc(cap);
    if (!buf) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    char *ip = (char *)in;
    size_t ileft = len;
    size_t used = 0;
    int flushing = 0;
    for (;;) {
        char *op = buf + used;
        size_t oleft = cap - used - 1; /* room for the NUL */
        size_t r = flushing ? iconv(cd, NULL, NULL, &op, &oleft)
                            : iconv(cd, &ip, &ileft, &op, &oleft);
        used = (size_t)(op - buf);
        if (r == (size_t)-1 && errno == E2BIG) {
            if (cap >= CHARSET_MAX_OUT) {
                rc = h2h_err_set(err, H2H_ETOOBIG, "converted text too large");
                goto out;
            }
            size_t nc = cap * 2;
            char *nb = realloc(buf, nc);
            if (!nb) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                goto out;
            }
            buf = nb;
            cap = nc;
            continue;
        }
        if (r == (size_t)-1) {
            size_t off = (size_t)(ip - in);
            char hex[40];
            bytes_at(hex, sizeof(hex), in, len, off);
            if (errno == EINVAL)
                rc = h2h_err_set(err, H2H_ECHARSET,
                                 "byte offset %zu: text ends inside a "
                                 "multi-byte %s character",
                                 off, decoding ? cs_shown : "UTF-8");
            else if (decoding)
                rc = h2h_err_set(err, H2H_ECHARSET,
                                 "byte offset %zu: bytes %s are not valid "
                                 "%s",
                                 off, hex, cs_shown);
            else
                rc = h2h_err_set(err, H2H_ECHARSET,
                                 "byte offset %zu: character %s cannot be "
                                 "written in %s",
                                 off, hex, cs_shown);
            goto out;
        }
        if (r > 0 && r != (size_t)-1) {
            /* Only //TRANSLIT-like substitutions count as irreversible in
             * glibc; we never asked for one, so refuse rather than trust. */
            size_t off = (size_t)(ip - in);
            rc = h2h_err_set(err, H2H_ECHARSET,
                             "text near byte offset %zu cannot be converted "
                             "to %s exactly",
                             off, decoding ? "UTF-8" : cs_shown);
            goto out;
        }
        if (flushing)
            break;
        flushing = 1;
    }
    buf[used] = '\0';
    *out = buf;
    buf = NULL;
    if (outlen)
        *outlen = used;
out:
    free(buf);
    iconv_close(cd);
    return rc;
}

static int copy_utf8(const char *in, size_t len, char **out, size_t *outlen,
                     struct h2h_err *err)
{
    *out = NULL;
    if (!fmt_utf8_valid(in, len)) {
        /* Walk character by character to name the first bad offset. */
        size_t off = 0;
        while (off < len) {
            size_t k = 1;
            while (k <= 4 && off + k <= len && !fmt_utf8_valid(in + off, k))
                k++;
            if (k > 4 || off + k > len)
                break;
            off += k;
        }
        return h2h_err_set(err, H2H_ECHARSET,
                           "byte offset %zu: text is not valid UTF-8", off);
    }
    char *b = malloc(len + 1);
    if (!b)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (len)
        memcpy(b, in, len);
    b[len] = '\0';
    *out = b;
    if (outlen)
        *outlen = len;
    return 0;
}

int fmt_to_utf8(const char *cs, const char *in, size_t len, char **out,
                size_t *outlen, struct h2h_err *err)
{
    if (!in && len)
        return h2h_err_set(err, H2H_EINVALID, "no input");
    if (fmt_charset_is_utf8(cs))
        return copy_utf8(in ? in : "", len, out, outlen, err);
    if (!name_ok(cs)) {
        *out = NULL;
        return h2h_err_set(err, H2H_ECHARSET, "unknown character set %.64s",
                           cs);
    }
    return convert("UTF-8", cs, cs, 1, in ? in : "", len, out, outlen, err);
}

int fmt_from_utf8(const char *cs, const char *in, size_t len, char **out,
                  size_t *outlen, struct h2h_err *err)
{
    if (!in && len)
        return h2h_err_set(err, H2H_EINVALID, "no input");
    if (!in)
        in = "";
    /* Invalid input is our bug or a reader's, not a charset limit: say
     * which. */
    int rc = copy_utf8(in, len, out, outlen, err);
    if (rc < 0 || fmt_charset_is_utf8(cs))
        return rc;
    free(*out);
    *out = NULL;
    if (!name_ok(cs))
        return h2h_err_set(err, H2H_ECHARSET, "unknown character set %.64s",
                           cs);
    return convert(cs, "UTF-8", cs, 0, in, len, out, outlen, err);
}
