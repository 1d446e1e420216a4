/*
 * names.c - see names.h.
 */
#include "names.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0; *cp receives the
 * code point.  Strict: no overlong forms, no surrogates, <= U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, unsigned long *cp)
{
    unsigned char c = s[0];
    size_t len;
    unsigned long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)   /* also stops at the terminating NUL */
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

int names_check_drop(const char *name, struct h2h_err *err)
{
    if (!name || !*name)
        return h2h_err_set(err, H2H_EINVALID, "empty file name");
    size_t n = strlen(name);
    if (n > NAMES_DROP_MAX)
        return h2h_err_set(err, H2H_EINVALID,
                           "file name longer than %d bytes", NAMES_DROP_MAX);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return h2h_err_set(err, H2H_EINVALID, "file name is a folder link");
    if (strchr(name, '/'))
        return h2h_err_set(err, H2H_EINVALID, "file name contains '/'");
    if (strstr(name, ".."))
        return h2h_err_set(err, H2H_EINVALID, "file name contains \"..\"");
    const unsigned char *p = (const unsigned char *)name;
    for (size_t i = 0; i < n;) {
        unsigned long cp;
        size_t len = utf8_seq(p + i, &cp);
        if (len == 0)
            return h2h_err_set(err, H2H_EINVALID,
                               "file name is not valid utf-8 (byte %zu)", i);
        /* C1 controls too: U+009B is a terminal escape (CSI). */
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
            return h2h_err_set(err, H2H_EINVALID,
                               "file name contains control character 0x%02lx",
                               cp);
        i += len;
    }
    return 0;
}

static int has_suffix_ci(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && strcasecmp(s + n - k, suf) == 0;
}

int names_is_ignored(const char *name)
{
    static const char *const suffixes[] = {".tmp", ".part", ".swp", "~"};
    if (!name || name[0] == '.')
        return 1;
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
        if (has_suffix_ci(name, n, suffixes[i]))
            return 1;
    return 0;
}
