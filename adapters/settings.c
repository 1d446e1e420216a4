/*
 * settings.c - typed lookups in an adapter's settings group; see
 * settings.h.
 */
#include "settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aset_problem(struct aset *a, const config_setting_t *s, const char *fmt,
                  ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    a->report(a->ctx, s, msg);
    a->n++;
}

int aset_has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

const char *aset_str(struct aset *a, const config_setting_t *g,
                     const char *where, const char *name, int required,
                     size_t max, const char *what)
{
    const config_setting_t *m = g ? config_setting_get_member(g, name) : NULL;
    if (!m) {
        if (required)
            aset_problem(a, g, "%s%s (%s) is required", where, name, what);
        return NULL;
    }
    if (config_setting_type(m) != CONFIG_TYPE_STRING) {
        aset_problem(a, m, "%s%s must be a string (%s)", where, name, what);
        return NULL;
    }
    const char *s = config_setting_get_string(m);
    if (!*s) {
        aset_problem(a, m, "%s%s must not be empty (%s)", where, name, what);
        return NULL;
    }
    if (strlen(s) > max) {
        aset_problem(a, m, "%s%s is longer than %zu bytes", where, name, max);
        return NULL;
    }
    if (aset_has_ctl(s)) {
        aset_problem(a, m, "%s%s contains a control character", where, name);
        return NULL;
    }
    return s;
}

long long aset_int(struct aset *a, const config_setting_t *g, const char *name,
                   long long def, long long min, long long max,
                   const char *unit)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    if (!m)
        return def;
    int t = config_setting_type(m);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        aset_problem(a, m, "%s.%s must be a whole number of %s", a->group, name,
                     unit);
        return def;
    }
    long long v = config_setting_get_int64(m);
    if (v < min || v > max) {
        aset_problem(a, m, "%s.%s must be between %lld and %lld %s", a->group,
                     name, min, max, unit);
        return def;
    }
    return v;
}

void aset_check_known(struct aset *a, const config_setting_t *g,
                      const char *where, const char *const *known)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *nm = config_setting_name(m);
        int ok = 0;
        for (const char *const *k = known; nm && *k; k++)
            if (strcmp(nm, *k) == 0)
                ok = 1;
        if (!ok)
            aset_problem(a, m, "unknown %s setting \"%s\"", where,
                         nm ? nm : "?");
    }
}

char *aset_dup(struct aset *a, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        a->oom = 1;
    return d;
}

char *aset_local_path(struct aset *a, const char *p)
{
    if (!p)
        return NULL;
    if (p[0] == '/' || !a->base_dir || !*a->base_dir)
        return aset_dup(a, p);
    char *out = NULL;
    if (asprintf(&out, "%s/%s", a->base_dir, p) < 0) {
        a->oom = 1;
        return NULL;
    }
    return out;
}

void aset_first_report(void *ctx, const config_setting_t *s, const char *msg)
{
    struct aset_first *f = ctx;
    if (f->n++ == 0)
        snprintf(f->msg, sizeof(f->msg), "line %d: %.500s",
                 s ? config_setting_source_line(s) : 0, msg);
}

int aset_result(const struct aset *a, const struct aset_first *f,
                struct h2h_err *err)
{
    if (a->n)
        return h2h_err_set(err, H2H_ECONFIG, "%s%s", f->msg,
                           a->n > 1 ? " (and more)" : "");
    if (a->oom)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}
