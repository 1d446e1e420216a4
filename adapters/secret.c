/*
 * secret.c - secrets from files for every adapter: an OAuth2 client
 * secret, a TLS key's passphrase (a signing identity's passphrase is read
 * by certs/ itself).  The same rules as certs/ applies to its own secret files: a
 * regular file, no permission for group or others, read once at create,
 * wiped when no longer needed, never named in a message by content.
 */
#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define SECRET_FILE_MAX 4096

int aset_secret_read(const char *path, const char *what, char **out,
                   struct h2h_err *err)
{
    char buf[SECRET_FILE_MAX + 1];
    size_t len = 0;
    int rc = 0;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return h2h_err_set(err, -errno, "%s %s: %s", what, path,
                           strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = h2h_err_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = h2h_err_set(err, H2H_ESECURITY, "%s %s is not a regular file",
                         what, path);
        goto out;
    }
    if (st.st_mode & 077) {
        rc = h2h_err_set(err, H2H_ESECURITY,
                         "%s %s may be read by group or others (mode %04o): "
                         "chmod 600 it",
                         what, path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = h2h_err_set(err, -errno, "%s %s: %s", what, path,
                             strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len >= sizeof(buf) - 1) {
            rc = h2h_err_set(err, H2H_ETOOBIG, "%s %s is larger than %d bytes",
                             what, path, SECRET_FILE_MAX - 1);
            goto out;
        }
    }
    buf[len] = '\0';
    len = strcspn(buf, "\r\n");
    if (len == 0) {
        rc = h2h_err_set(err, H2H_ECONFIG, "%s %s is empty", what, path);
        goto out;
    }
    if (!(*out = strndup(buf, len)))
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
out:
    OPENSSL_cleanse(buf, sizeof(buf));
    close(fd);
    return rc;
}

void aset_secret_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}
