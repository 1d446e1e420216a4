/*
 * cert_file.c - reading key material from disk: size caps, the
 * permission rule for secrets, passphrases from a file or the
 * environment.  See cert_int.h.
 */
#include "cert_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

void cert_secret_free(void *buf, size_t len)
{
    if (!buf)
        return;
    OPENSSL_cleanse(buf, len);
    free(buf);
}

int cert_file_read(const char *path, const char *what, int secret,
                   unsigned char **buf, size_t *len, struct h2h_err *err)
{
    *buf = NULL;
    *len = 0;
    if (!path || !*path)
        return h2h_err_set(err, H2H_EINVALID, "%s: no path", what);
    int rc = 0;
    unsigned char *b = NULL;
    size_t cap = 0, n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return h2h_err_set(err, -e, "%s %s: %s", what, path, strerror(e));
    }
    /* fstat of the descriptor we read from: no window between the check
     * and the read in which the file could be swapped. */
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        rc = h2h_err_set(err, -e, "%s %s: %s", what, path, strerror(e));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = h2h_err_set(err, H2H_EINVALID, "%s %s is not a regular file", what,
                         path);
        goto out;
    }
    if (secret && (st.st_mode & 077)) {
        rc = h2h_err_set(err, H2H_ESECURITY,
                         "%s %s is %s by group or others (mode %04o): "
                         "refused; chmod 600 it",
                         what, path,
                         (st.st_mode & 044) ? "readable" : "accessible",
                         (unsigned)(st.st_mode & 07777));
        goto out;
    }
    if ((uint64_t)st.st_size > CERT_FILE_MAX) {
        rc = h2h_err_set(err, H2H_ETOOBIG, "%s %s is larger than %u bytes",
                         what, path, CERT_FILE_MAX);
        goto out;
    }
    /* One byte more than the cap, to notice a file that grew. */
    cap = (size_t)st.st_size + 1;
    b = malloc(cap + 1);
    if (!b) {
        rc = h2h_err_set(err, H2H_ENOMEM, "%s %s: out of memory", what, path);
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            rc = h2h_err_set(err, -e, "%s %s: %s", what, path, strerror(e));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            rc = h2h_err_set(err, H2H_EIO, "%s %s changed while read", what,
                             path);
            goto out;
        }
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    b = NULL;
out:
    if (b) {
        if (secret)
            OPENSSL_cleanse(b, cap + 1);
        free(b);
    }
    close(fd);
    return rc;
}

int cert_passphrase(const char *file, const char *env, char **pass, size_t *len,
                    struct h2h_err *err)
{
    *pass = NULL;
    *len = 0;
    if (file && *file && env && *env)
        return h2h_err_set(err, H2H_EINVALID,
                           "passphrase: give a file or an environment "
                           "variable, not both");
    if (file && *file) {
        unsigned char *b;
        size_t n;
        int rc = cert_file_read(file, "passphrase file", 1, &b, &n, err);
        if (rc < 0)
            return rc;
        /* The first line is the passphrase: editors add a newline. */
        size_t l = 0;
        while (l < n && b[l] != '\n' && b[l] != '\r')
            l++;
        if (l > CERT_SECRET_MAX) {
            cert_secret_free(b, n + 1);
            return h2h_err_set(err, H2H_ETOOBIG,
                               "passphrase file %s: passphrase longer than "
                               "%d bytes",
                               file, CERT_SECRET_MAX);
        }
        if (l == 0) {
            cert_secret_free(b, n + 1);
            return h2h_err_set(err, H2H_ECONFIG, "passphrase file %s is empty",
                               file);
        }
        char *p = malloc(l + 1);
        if (!p) {
            cert_secret_free(b, n + 1);
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        }
        memcpy(p, b, l);
        p[l] = '\0';
        cert_secret_free(b, n + 1);
        *pass = p;
        *len = l;
        return 0;
    }
    if (env && *env) {
        /* getenv is safe here: the daemon never calls setenv after
         * start-up. */
        const char *v = getenv(env);
        if (!v || !*v)
            return h2h_err_set(err, H2H_ECONFIG,
                               "passphrase variable %s is not set", env);
        size_t l = strlen(v);
        if (l > CERT_SECRET_MAX)
            return h2h_err_set(err, H2H_ETOOBIG,
                               "passphrase variable %s is longer than %d "
                               "bytes",
                               env, CERT_SECRET_MAX);
        char *p = malloc(l + 1);
        if (!p)
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        memcpy(p, v, l + 1);
        *pass = p;
        *len = l;
    }
    return 0;
}
