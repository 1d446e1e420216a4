/*
 * audit.c - append-only audit log; see audit.h.
 *
 * A record is built in a heap buffer and written with one write(2) to an
 * O_APPEND descriptor, so a concurrent writer (a second daemon pointed at
 * the same file by mistake, logrotate's copytruncate) never splits a line,
 * then fsync'd: the record is evidence of who moved money, and the caller
 * runs the command only after the request record is durable.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct audit {
    int fd;
    char *path;
};

/* Field values other than args are short; bound what we copy of them. */
#define AUDIT_FIELD_MAX 1024

struct abuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void ab_putc(struct abuf *b, char c)
{
    if (b->oom)
        return;
    if (b->len + 1 >= b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 512;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    b->p[b->len++] = c;
}

static void ab_puts(struct abuf *b, const char *s)
{
    while (*s)
        ab_putc(b, *s++);
}

/* Same quoting rules as log.c's put_value, so one parser reads both. */
static void ab_value(struct abuf *b, const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    int cut = n > max;
    if (cut)
        n = max;
    int quote = n == 0 || cut;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '=' || c == '"' || c == '\\' || c < 0x20
            || c == 0x7f)
            quote = 1;
    }
    if (quote)
        ab_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            ab_putc(b, '\\');
            ab_putc(b, (char)c);
        } else if (c == '\n') {
            ab_puts(b, "\\n");
        } else if (c == '\r') {
            ab_puts(b, "\\r");
        } else if (c == '\t') {
            ab_puts(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            ab_putc(b, '?');
        } else {
            ab_putc(b, (char)c);
        }
    }
    if (cut)
        ab_puts(b, "...(truncated)");
    if (quote)
        ab_putc(b, '"');
}

static int open_log(const char *path, struct h2h_err *err)
{
    struct stat st;
    int existed = stat(path, &st) == 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                  0640);
    if (fd < 0) {
        int e = errno;
        return h2h_err_set(err, -e, "audit log %s: %s", path, strerror(e));
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return h2h_err_set(err, H2H_ESECURITY,
                           "audit log %s: not a regular file", path);
    }
    if (!existed) {
        /* Make the new directory entry durable too. */
        char *copy = strdup(path);
        if (copy) {
            int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
            }
            free(copy);
        }
    }
    return fd;
}

int audit_open(const char *path, struct audit **out, struct h2h_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return h2h_err_set(err, H2H_EINVALID, "audit log: empty path");
    struct audit *a = calloc(1, sizeof(*a));
    if (!a || !(a->path = strdup(path))) {
        free(a);
        return h2h_err_set(err, H2H_ENOMEM, "audit log: out of memory");
    }
    a->fd = open_log(path, err);
    if (a->fd < 0) {
        int rc = a->fd;
        free(a->path);
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

static void user_name(uid_t uid, char *buf, size_t sz)
{
    struct passwd pw, *res = NULL;
    char tmp[2048];
    if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res
        && res->pw_name)
        snprintf(buf, sz, "%s", res->pw_name);
    else
        snprintf(buf, sz, "?");
}

int audit_record(struct audit *a, uid_t uid, const char *cmd,
                 const char *args_json, const char *outcome,
                 struct h2h_err *err)
{
    if (!a)
        return h2h_err_set(err, H2H_EINVALID, "audit log not open");
    struct abuf b = {0};
    char tsbuf[64], num[32], user[256];
    struct timespec ts;
    struct tm tm;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(tsbuf, sizeof(tsbuf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(tsbuf + n, sizeof(tsbuf) - n, ".%03ldZ",
             ts.tv_nsec / 1000000);
    user_name(uid, user, sizeof(user));
    snprintf(num, sizeof(num), "%lu", (unsigned long)uid);

    ab_puts(&b, "ts=");
    ab_puts(&b, tsbuf);
    ab_puts(&b, " uid=");
    ab_puts(&b, num);
    ab_puts(&b, " user=");
    ab_value(&b, user, AUDIT_FIELD_MAX);
    ab_puts(&b, " cmd=");
    ab_value(&b, cmd ? cmd : "", AUDIT_FIELD_MAX);
    ab_puts(&b, " args=");
    ab_value(&b, args_json ? args_json : "{}", AUDIT_ARGS_MAX);
    if (outcome) {
        ab_puts(&b, " phase=result outcome=");
        ab_value(&b, outcome, AUDIT_FIELD_MAX);
    } else {
        ab_puts(&b, " phase=request");
    }
    ab_putc(&b, '\n');
    if (b.oom) {
        rc = h2h_err_set(err, H2H_ENOMEM, "audit log %s: out of memory",
                         a->path);
        goto out;
    }

    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(a->fd, b.p + off, b.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            rc = h2h_err_set(err, -e, "audit log %s: write: %s", a->path,
                             strerror(e));
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(a->fd) < 0) {
        int e = errno;
        rc = h2h_err_set(err, -e, "audit log %s: fsync: %s", a->path,
                         strerror(e));
        goto out;
    }
out:
    free(b.p);
    return rc;
}

int audit_reopen(struct audit *a)
{
    if (!a)
        return 0;
    int fd = open_log(a->path, NULL);
    if (fd < 0)
        return fd;
    close(a->fd);
    a->fd = fd;
    return 0;
}

const char *audit_path(const struct audit *a)
{
    return a ? a->path : NULL;
}

void audit_close(struct audit *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    free(a->path);
    free(a);
}
