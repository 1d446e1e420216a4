/*
 * fsutil.c - durable file operations; see fsutil.h.
 */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define COPY_BUF (128 * 1024)

int fsu_join(char *buf, size_t bufsz, const char *dir, const char *name)
{
    int n = snprintf(buf, bufsz, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= bufsz) ? H2H_ETOOBIG : 0;
}

int fsu_fsync_dir(const char *dir, struct h2h_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return h2h_err_set(err, -errno, "open directory %s: %s", dir,
                           strerror(errno));
    int rc = 0;
    if (fsync(fd) < 0)
        rc = h2h_err_set(err, -errno, "fsync directory %s: %s", dir,
                         strerror(errno));
    close(fd);
    return rc;
}

int fsu_mkdirs(const char *path, mode_t mode, struct h2h_err *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return h2h_err_set(err, H2H_ETOOBIG, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return h2h_err_set(err, -errno, "mkdir %s: %s", buf,
                                   strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return h2h_err_set(err, -ENOTDIR, "%s is not a directory", path);
    return 0;
}

int fsu_rename_noreplace(const char *oldpath, const char *newpath,
                         struct h2h_err *err)
{
    if (renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return h2h_err_set(err, -errno, "rename %s -> %s: %s", oldpath,
                           newpath, strerror(errno));
    /* File systems without RENAME_NOREPLACE: link() never replaces. */
    if (link(oldpath, newpath) < 0)
        return h2h_err_set(err, -errno, "link %s -> %s: %s", oldpath, newpath,
                           strerror(errno));
    unlink(oldpath);
    return 0;
}

static int tmp_name(char *buf, size_t sz, const char *dir, const char *name)
{
    unsigned char r[8];
    if (RAND_bytes(r, sizeof(r)) != 1)
        for (size_t i = 0; i < sizeof(r); i++)
            r[i] = (unsigned char)(rand() ^ getpid());
    int n = snprintf(buf, sz,
                     "%s/" FSU_TMP_PREFIX "%02x%02x%02x%02x%02x%02x%02x%02x.%.100s",
                     dir, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], name);
    return (n < 0 || (size_t)n >= sz) ? H2H_ETOOBIG : 0;
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Finish a written temporary: fsync, rename into place, fsync dir. */
static int commit_tmp(int fd, const char *tmp, const char *dir,
                      const char *name, unsigned flags, struct h2h_err *err)
{
    char final[4096];
    if (fsync(fd) < 0)
        return h2h_err_set(err, -errno, "fsync %s: %s", tmp, strerror(errno));
    if (fsu_join(final, sizeof(final), dir, name))
        return h2h_err_set(err, H2H_ETOOBIG, "path too long: %s/%s", dir, name);
    int rc;
    if (flags & FSU_REPLACE) {
        rc = rename(tmp, final) < 0
                 ? h2h_err_set(err, -errno, "rename %s: %s", final,
                               strerror(errno))
                 : 0;
    } else {
        rc = fsu_rename_noreplace(tmp, final, err);
    }
    if (rc)
        return rc;
    if (!(flags & FSU_NO_DIRSYNC))
        return fsu_fsync_dir(dir, err);
    return 0;
}

int fsu_copy_fd(int src_fd, const char *dir, const char *name, unsigned flags,
                char *sha256_hex, uint64_t *size, struct h2h_err *err)
{
    char tmp[4096];
    int rc = 0, fd = -1;
    uint64_t total = 0;
    char *buf = NULL;
    EVP_MD_CTX *md = NULL;

    if (tmp_name(tmp, sizeof(tmp), dir, name))
        return h2h_err_set(err, H2H_ETOOBIG, "path too long: %s/%s", dir, name);
    buf = malloc(COPY_BUF);
    md = EVP_MD_CTX_new();
    if (!buf || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        rc = h2h_err_set(err, -errno, "create %s: %s", tmp, strerror(errno));
        goto out;
    }
    for (;;) {
        ssize_t r = read(src_fd, buf, COPY_BUF);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = h2h_err_set(err, -errno, "read: %s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)r);
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(fd, buf + off, (size_t)(r - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                rc = h2h_err_set(err, -errno, "write %s: %s", tmp,
                                 strerror(errno));
                goto out;
            }
            off += w;
        }
        total += (uint64_t)r;
    }
    rc = commit_tmp(fd, tmp, dir, name, flags, err);
    if (rc)
        goto out;
    tmp[0] = '\0'; /* committed: nothing to clean up */
    if (sha256_hex) {
        unsigned char d[32];
        unsigned int dl = 0;
        EVP_DigestFinal_ex(md, d, &dl);
        to_hex(d, 32, sha256_hex);
    }
    if (size)
        *size = total;
out:
    if (fd >= 0)
        close(fd);
    if (rc && tmp[0])
        unlink(tmp);
    EVP_MD_CTX_free(md);
    free(buf);
    return rc;
}

int fsu_copy_file(const char *src, const char *dir, const char *name,
                  unsigned flags, char *sha256_hex, uint64_t *size,
                  struct h2h_err *err)
{
    int fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return h2h_err_set(err, -errno, "open %s: %s", src, strerror(errno));
    struct stat st;
    int rc;
    if (fstat(fd, &st) < 0)
        rc = h2h_err_set(err, -errno, "stat %s: %s", src, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = h2h_err_set(err, H2H_ESECURITY, "%s is not a regular file", src);
    else
        rc = fsu_copy_fd(fd, dir, name, flags, sha256_hex, size, err);
    close(fd);
    return rc;
}

int fsu_write_file(const char *dir, const char *name, const void *data,
                   size_t len, unsigned flags, struct h2h_err *err)
{
    char tmp[4096];
    if (tmp_name(tmp, sizeof(tmp), dir, name))
        return h2h_err_set(err, H2H_ETOOBIG, "path too long: %s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return h2h_err_set(err, -errno, "create %s: %s", tmp, strerror(errno));
    int rc = 0;
    const char *p = data;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = h2h_err_set(err, -errno, "write %s: %s", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    rc = commit_tmp(fd, tmp, dir, name, flags, err);
out:
    close(fd);
    if (rc)
        unlink(tmp);
    return rc;
}

int fsu_move_into(const char *path, const char *dir, const char *want,
                  char *final_name, size_t final_name_sz, unsigned flags,
                  struct h2h_err *err)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (want)
        base = want;
    char dst[4096], name[300];
    for (int i = 0; i < 10000; i++) {
        if (i == 0)
            snprintf(name, sizeof(name), "%.200s", base);
        else
            snprintf(name, sizeof(name), "%.200s.%d", base, i);
        if (fsu_join(dst, sizeof(dst), dir, name))
            return h2h_err_set(err, H2H_ETOOBIG, "path too long");
        int rc = fsu_rename_noreplace(path, dst, err);
        if (rc == -EEXIST)
            continue;
        if (rc)
            return rc;
        if (final_name)
            snprintf(final_name, final_name_sz, "%s", name);
        if (!(flags & FSU_NO_DIRSYNC))
            return fsu_fsync_dir(dir, err);
        return 0;
    }
    return h2h_err_set(err, -EEXIST, "no free name for %s in %s", base, dir);
}

int fsu_sha256_file(const char *path, char sha256_hex[65], uint64_t *size,
                    struct h2h_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return h2h_err_set(err, -errno, "open %s: %s", path, strerror(errno));
    int rc = 0;
    uint64_t total = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *buf = malloc(COPY_BUF);
    if (!md || !buf || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf, COPY_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = h2h_err_set(err, -errno, "read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)r);
        total += (uint64_t)r;
    }
    unsigned char d[32];
    unsigned int dl;
    EVP_DigestFinal_ex(md, d, &dl);
    to_hex(d, 32, sha256_hex);
    if (size)
        *size = total;
out:
    close(fd);
    free(buf);
    EVP_MD_CTX_free(md);
    return rc;
}

int fsu_clean_tmp(const char *dir, struct h2h_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : h2h_err_set(err, -errno, "opendir %s: %s",
                                                 dir, strerror(errno));
    struct dirent *de;
    size_t plen = strlen(FSU_TMP_PREFIX);
    while ((de = readdir(d)))
        if (strncmp(de->d_name, FSU_TMP_PREFIX, plen) == 0)
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
    return 0;
}

int fsu_read_file(const char *path, size_t max, char **out, size_t *len,
                  struct h2h_err *err)
{
    int rc = 0;
    char *buf = NULL;
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return h2h_err_set(err, H2H_ENOTFOUND, "%s: no such file", path);
        return h2h_err_set(err, -errno, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = h2h_err_set(err, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = h2h_err_set(err, H2H_EINVALID, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = h2h_err_set(err, H2H_ETOOBIG, "%s: larger than %zu bytes", path,
                         max);
        goto out;
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = h2h_err_set(err, -errno, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break; /* shrank meanwhile: what is there */
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}
