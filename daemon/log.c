/*
 * log.c - logfmt writer; see log.h.
 *
 * Each line is built in a stack buffer and written with one write(2) to an
 * O_APPEND descriptor, so concurrent writers (h2hctl's audit uses its own
 * file) and logrotate's copytruncate never interleave half lines.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static int log_fd = 2;
static char *log_path;
static enum h2h_log_level log_level = H2H_LOG_INFO;

static const char *level_names[] = {"debug", "info", "warn", "error"};

int h2h_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, level_names[i]) == 0)
            return i;
    if (s && strcmp(s, "warning") == 0)
        return H2H_LOG_WARN;
    return -1;
}

static int open_path(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    return fd < 0 ? -errno : fd;
}

int h2h_log_open(const char *path, enum h2h_log_level level)
{
    log_level = level;
    if (!path || strcmp(path, "-") == 0 || path[0] == '\0') {
        h2h_log_close();
        return 0;
    }
    int fd = open_path(path);
    if (fd < 0)
        return fd;
    h2h_log_close();
    log_fd = fd;
    log_path = strdup(path);
    return log_path ? 0 : -ENOMEM;
}

int h2h_log_reopen(void)
{
    if (!log_path)
        return 0;
    int fd = open_path(log_path);
    if (fd < 0)
        return fd;
    dup2(fd, log_fd);
    close(fd);
    return 0;
}

void h2h_log_close(void)
{
    if (log_fd > 2)
        close(log_fd);
    log_fd = 2;
    free(log_path);
    log_path = NULL;
}

void h2h_log_set_level(enum h2h_log_level level)
{
    log_level = level;
}

/* Append s to buf at *pos, quoting when it holds spaces, '=' or quotes. */
static void put_value(char *buf, size_t *pos, const char *s)
{
    size_t cap = LOG_LINE_MAX - 2; /* room for '\n' */
    int quote = s[0] == '\0';
    for (const char *p = s; *p; p++)
        if (*p == ' ' || *p == '=' || *p == '"' || (unsigned char)*p < 0x20
            || *p == '\\')
            quote = 1;
    if (quote && *pos < cap)
        buf[(*pos)++] = '"';
    for (const char *p = s; *p && *pos + 2 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[(*pos)++] = '\\';
            buf[(*pos)++] = (char)c;
        } else if (c == '\n') {
            buf[(*pos)++] = '\\';
            buf[(*pos)++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            buf[(*pos)++] = '?';
        } else {
            buf[(*pos)++] = (char)c;
        }
    }
    if (quote && *pos < cap)
        buf[(*pos)++] = '"';
}

static void put_raw(char *buf, size_t *pos, const char *s)
{
    size_t cap = LOG_LINE_MAX - 2;
    while (*s && *pos < cap)
        buf[(*pos)++] = *s++;
}

void h2h_log_kv(enum h2h_log_level level, const char *event,
                const char *const *kv, size_t n)
{
    if (level < log_level)
        return;
    char buf[LOG_LINE_MAX];
    size_t pos = 0;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    pos += strftime(buf, sizeof(buf), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, ".%03ldZ level=%s event=",
                            ts.tv_nsec / 1000000, level_names[level]);
    put_value(buf, &pos, event);
    for (size_t i = 0; i + 1 < 2 * n + 1 && i < 2 * n; i += 2) {
        if (!kv[i] || !kv[i + 1])
            continue;
        put_raw(buf, &pos, " ");
        put_raw(buf, &pos, kv[i]);
        put_raw(buf, &pos, "=");
        put_value(buf, &pos, kv[i + 1]);
    }
    buf[pos++] = '\n';
    ssize_t off = 0;
    while (off < (ssize_t)pos) {
        ssize_t w = write(log_fd, buf + off, pos - (size_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        off += w;
    }
}

void h2h_log(enum h2h_log_level level, const char *event, ...)
{
    if (level < log_level)
        return;
    const char *kv[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, event);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (n + 2 <= 64) {
            kv[n++] = k;
            kv[n++] = v;
        }
    }
    va_end(ap);
    h2h_log_kv(level, event, kv, n / 2);
}

const char *h2h_log_mask_account(const char *acct, char *buf, size_t bufsz)
{
    size_t len = acct ? strlen(acct) : 0;
    if (bufsz == 0)
        return "";
    if (len <= 8) {
        snprintf(buf, bufsz, "****");
        return buf;
    }
    snprintf(buf, bufsz, "%.4s****%s", acct, acct + len - 4);
    return buf;
}
