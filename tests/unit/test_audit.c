/* test_audit.c - the append-only audit log (daemon/audit.h). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "testutil.h"

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

/* Line i (0-based) of s, copied into buf. */
static const char *line_at(const char *s, int i, char *buf, size_t sz)
{
    while (i-- > 0 && s && (s = strchr(s, '\n')))
        s++;
    if (!s || !*s)
        return "";
    size_t n = strcspn(s, "\n");
    if (n >= sz)
        n = sz - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static void test_records_appended(void)
{
    const char *dir = tu_mkdtemp();
    char path[512], buf[4096], user[256], want[512];
    struct audit *a = NULL;
    struct h2h_err err;
    mode_t old = umask(022);
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    CU_ASSERT_EQUAL_FATAL(audit_open(path, &a, &err), 0);
    CU_ASSERT_STRING_EQUAL(audit_path(a), path);
    CU_ASSERT_EQUAL(audit_record(a, getuid(), "retry", "{\"id\":\"M1\"}",
                                 NULL, &err),
                    0);
    CU_ASSERT_EQUAL(audit_record(a, getuid(), "retry", "{\"id\":\"M1\"}",
                                 "ok", &err),
                    0);
    audit_close(a);

    /* Reopening appends, never truncates. */
    CU_ASSERT_EQUAL_FATAL(audit_open(path, &a, &err), 0);
    CU_ASSERT_EQUAL(audit_record(a, 0, "release", NULL,
                                 "error: no message M2", &err),
                    0);
    audit_close(a);
    umask(old);

    struct stat st;
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);

    char *log = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_EQUAL(count_lines(log), 3);

    struct passwd *pw = getpwuid(getuid());
    snprintf(user, sizeof(user), "%s", pw ? pw->pw_name : "?");

    line_at(log, 0, buf, sizeof(buf));
    CU_ASSERT_EQUAL(strncmp(buf, "ts=", 3), 0);
    /* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
    CU_ASSERT_EQUAL(buf[3 + 10], 'T');
    CU_ASSERT_EQUAL(buf[3 + 23], 'Z');
    snprintf(want, sizeof(want),
             " uid=%lu user=%s cmd=retry args=\"{\\\"id\\\":\\\"M1\\\"}\" "
             "phase=request",
             (unsigned long)getuid(), user);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, want));
    CU_ASSERT_PTR_NULL(strstr(buf, "outcome="));

    line_at(log, 1, buf, sizeof(buf));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, " phase=result outcome=ok"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cmd=retry"));

    line_at(log, 2, buf, sizeof(buf));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, " uid=0 user=root cmd=release "
                                       "args={} phase=result "
                                       "outcome=\"error: no message M2\""));
    free(log);
    tu_rmtree(dir);
}

/*
 * Minimal logfmt reader: split line into keys and (unescaped) values.
 * Returns the number of fields, -1 on a syntax error.
 */
static int logfmt_parse(const char *p, char keys[][32], char vals[][512],
                        int max)
{
    int n = 0;
    while (*p && *p != '\n') {
        if (n == max)
            return -1;
        size_t k = 0;
        while (*p && *p != '=' && *p != ' ' && k < 31)
            keys[n][k++] = *p++;
        keys[n][k] = '\0';
        if (*p++ != '=')
            return -1;
        size_t v = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"' && v < 511) {
                if (*p == '\\') {
                    p++;
                    vals[n][v++] = *p == 'n' ? '\n' : *p;
                    p++;
                } else {
                    vals[n][v++] = *p++;
                }
            }
            if (*p++ != '"')
                return -1;
        } else {
            while (*p && *p != ' ' && *p != '\n' && v < 511)
                vals[n][v++] = *p++;
        }
        vals[n][v] = '\0';
        n++;
        if (*p == ' ')
            p++;
    }
    return n;
}

/* A hostile argument must stay inside its quoted value: no new line, no
 * forged field. */
static void test_escaping(void)
{
    const char *dir = tu_mkdtemp();
    char path[512];
    struct audit *a = NULL;
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    CU_ASSERT_EQUAL_FATAL(audit_open(path, &a, NULL), 0);
    const char *evil = "{\"id\":\"x\\\" outcome=ok\nts=0 uid=0\"}";
    CU_ASSERT_EQUAL(audit_record(a, 0, "retry id", evil, NULL, NULL), 0);
    audit_close(a);
    char *log = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_EQUAL(count_lines(log), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "cmd=\"retry id\""));
    char keys[8][32], vals[8][512];
    int n = logfmt_parse(log, keys, vals, 8);
    static const char *const want[] = {"ts", "uid", "user", "cmd", "args",
                                       "phase"};
    CU_ASSERT_EQUAL_FATAL(n, 6);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_STRING_EQUAL(keys[i], want[i]);
    CU_ASSERT_STRING_EQUAL(vals[3], "retry id");
    CU_ASSERT_STRING_EQUAL(vals[4], evil); /* round-trips exactly */
    CU_ASSERT_STRING_EQUAL(vals[5], "request");
    free(log);
    tu_rmtree(dir);
}

static void test_long_args_truncated(void)
{
    const char *dir = tu_mkdtemp();
    char path[512];
    struct audit *a = NULL;
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    CU_ASSERT_EQUAL_FATAL(audit_open(path, &a, NULL), 0);
    size_t n = AUDIT_ARGS_MAX + 1000;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    CU_ASSERT_EQUAL(audit_record(a, 0, "retry", big, "ok", NULL), 0);
    audit_close(a);
    size_t len = 0;
    char *log = tu_read_file(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_EQUAL(count_lines(log), 1);
    CU_ASSERT(len < AUDIT_ARGS_MAX + 512);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "...(truncated)\" phase=result"));
    free(big);
    free(log);
    tu_rmtree(dir);
}

static void test_reopen_after_rename(void)
{
    const char *dir = tu_mkdtemp();
    char path[512], rotated[512];
    struct audit *a = NULL;
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    snprintf(rotated, sizeof(rotated), "%s/audit.log.1", dir);
    CU_ASSERT_EQUAL_FATAL(audit_open(path, &a, NULL), 0);
    CU_ASSERT_EQUAL(audit_record(a, 0, "retry", "{\"id\":\"A\"}", NULL, NULL),
                    0);
    CU_ASSERT_EQUAL_FATAL(rename(path, rotated), 0);
    /* Before reopen, records follow the renamed file. */
    CU_ASSERT_EQUAL(audit_record(a, 0, "retry", "{\"id\":\"B\"}", NULL, NULL),
                    0);
    CU_ASSERT_EQUAL(audit_reopen(a), 0);
    CU_ASSERT_EQUAL(audit_record(a, 0, "retry", "{\"id\":\"C\"}", NULL, NULL),
                    0);
    audit_close(a);

    char *old = tu_read_file(rotated, NULL);
    char *cur = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(old);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
    CU_ASSERT_EQUAL(count_lines(old), 2);
    CU_ASSERT_EQUAL(count_lines(cur), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(old, "\\\"A\\\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(old, "\\\"B\\\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(cur, "\\\"C\\\""));
    CU_ASSERT_PTR_NULL(strstr(cur, "\\\"A\\\""));
    free(old);
    free(cur);
    tu_rmtree(dir);
}

static void test_open_errors(void)
{
    struct audit *a = (struct audit *)1;
    struct h2h_err err;
    h2h_err_clear(&err);
    int rc = audit_open("/nonexistent-dir-h2h/audit.log", &a, &err);
    CU_ASSERT_EQUAL(rc, -ENOENT);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent-dir-h2h/audit.log"));

    /* A directory is not an audit log. */
    const char *dir = tu_mkdtemp();
    rc = audit_open(dir, &a, &err);
    CU_ASSERT(rc < 0);
    CU_ASSERT_PTR_NULL(a);
    tu_rmtree(dir);

    CU_ASSERT(audit_record(NULL, 0, "x", NULL, NULL, NULL) < 0);
    CU_ASSERT_EQUAL(audit_reopen(NULL), 0);
    audit_close(NULL);
}

static const struct tu_case cases[] = {
    {"records appended, fields and mode", test_records_appended},
    {"hostile args cannot forge fields", test_escaping},
    {"long args truncated", test_long_args_truncated},
    {"reopen after rename", test_reopen_after_rename},
    {"open errors", test_open_errors},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("audit", cases);
}
