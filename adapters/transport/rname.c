/* rname.c - see rname.h. */
#include "rname.h"

#include <string.h>

#include "ident.h"

int rname_check(const char *name, struct h2h_err *err)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return h2h_err_set(err, H2H_EINVALID, "empty file name");
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strstr(name, ".."))
        return h2h_err_set(err, H2H_EINVALID,
                           "file name contains \"..\" (path traversal)");
    if (len > RNAME_MAX)
        return h2h_err_set(err, H2H_EINVALID,
                           "file name longer than %d bytes", RNAME_MAX);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '/')
            return h2h_err_set(err, H2H_EINVALID, "file name contains '/'");
        if (*p < 0x20 || *p == 0x7f)
            return h2h_err_set(err, H2H_EINVALID,
                               "file name contains control character 0x%02x",
                               *p);
    }
    if (!fmt_utf8_valid(name, len))
        return h2h_err_set(err, H2H_EINVALID, "file name is not valid UTF-8");
    return 0;
}

int rname_ok(const char *name)
{
    return rname_check(name, NULL) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int rname_ignored(const char *name)
{
    return name[0] == '.' || ends_with(name, ".tmp") ||
           ends_with(name, ".part") || ends_with(name, ".swp") ||
           ends_with(name, "~");
}
