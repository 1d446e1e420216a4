/*
 * cert_b64.c - base64 for signatures carried in headers and XML fields.
 * See cert.h.
 */
#include "cert_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* EVP_EncodeBlock / EVP_DecodeBlock take int lengths. */
#define B64_MAX_IN ((size_t)INT_MAX / 4 * 3 - 3)

int cert_b64_encode(const void *data, size_t len, char **out, size_t *out_len,
                    struct h2h_err *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (len > B64_MAX_IN)
        return h2h_err_set(err, H2H_ETOOBIG, "base64: input too big");
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *b = malloc(cap);
    if (!b)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int n = EVP_EncodeBlock((unsigned char *)b, data, (int)len);
    b[n] = '\0';
    *out = b;
    if (out_len)
        *out_len = (size_t)n;
    return 0;
}

static int b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int cert_b64_decode(const char *b64, size_t len, unsigned char **out,
                    size_t *out_len, struct h2h_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (len > (size_t)INT_MAX)
        return h2h_err_set(err, H2H_ETOOBIG, "base64: input too big");
    /* Compact first: signatures arrive wrapped at 64 or 76 columns. */
    char *c = malloc(len + 1);
    if (!c)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    size_t n = 0, pad = 0;
    int rc = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)b64[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            continue;
        if (ch == '=') {
            pad++;
        } else if (!b64_char(ch) || pad) {
            rc = h2h_err_set(err, H2H_EPARSE,
                             "base64: unexpected character at offset %zu", i);
            goto out;
        }
        c[n++] = (char)ch;
    }
    if (n % 4 != 0 || pad > 2) {
        rc = h2h_err_set(err, H2H_EPARSE, "base64: bad length or padding");
        goto out;
    }
    unsigned char *d = malloc(n / 4 * 3 + 1);
    if (!d) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    int dn = n ? EVP_DecodeBlock(d, (unsigned char *)c, (int)n) : 0;
    if (dn < 0) {
        free(d);
        rc = h2h_err_set(err, H2H_EPARSE, "base64: cannot decode");
        goto out;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    *out = d;
    *out_len = (size_t)dn - pad;
out:
    free(c);
    return rc;
}
