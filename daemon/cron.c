/*
 * cron.c - see cron.h.
 *
 * cron_next walks the zone's constant-offset segments in time order.
 * Inside one segment civil time and UTC move together, so the first
 * matching civil minute in the segment's civil range is the earliest
 * run in it; a gap or a repeated range can only sit at a segment's
 * start, where it is handled once.  Matching civil minutes are found by
 * skipping whole months, days and hours that cannot match, so a yearly
 * job costs a few dozen steps, not half a million minutes.
 */
#include "cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY INT64_C(86400)
/* Every Gregorian pattern (weekday x date x leap year) repeats within
 * 400 years, so a job that has not matched by then never will. */
#define HORIZON (INT64_C(400) * 366 * DAY)

struct cron {
    char *text;
    int64_t interval; /* > 0: "every ..." */
    uint64_t minute;  /* bit per minute 0-59 */
    uint32_t hour;    /* bit per hour 0-23 */
    uint32_t dom;     /* bits 1-31 */
    uint32_t month;   /* bits 1-12 */
    uint32_t dow;     /* bits 0-6, Sunday 0 */
    int dom_star;     /* the field starts with '*' (Vixie's rule) */
    int dow_star;
    int hour_star; /* the hour field is exactly "*" */
};

struct field_def {
    const char *name;
    int lo, hi;
    const char *const *names; /* 3-letter names for lo.., or NULL */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr",
                                          "may", "jun", "jul", "aug",
                                          "sep", "oct", "nov", "dec"};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed",
                                        "thu", "fri", "sat"};

static const struct field_def fields[5] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, dow_names},
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- parsing --------------------------------------------------------- */

struct pctx {
    const char *expr;
    const struct field_def *f;
    const char *ftext;
    size_t flen;
    struct h2h_err *err;
};

static int ferr(struct pctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int ferr(struct pctx *p, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return h2h_err_set(p->err, H2H_EPARSE, "cron \"%s\": %s field \"%.*s\": %s",
                       p->expr, p->f->name, (int)p->flen, p->ftext, msg);
}

/* A number or (month, weekday) a name; *by_name tells which. */
static int parse_value(struct pctx *p, const char *s, size_t n, int *v,
                       int *by_name)
{
    *by_name = 0;
    if (n == 0)
        return ferr(p, "value missing");
    if (is_digit(s[0])) {
        int x = 0;
        for (size_t i = 0; i < n; i++) {
            if (!is_digit(s[i]) || i >= 3)
                return ferr(p, "\"%.*s\" is not a number", (int)n, s);
            x = x * 10 + (s[i] - '0');
        }
        if (x < p->f->lo || x > p->f->hi)
            return ferr(p, "%d is out of range %d-%d", x, p->f->lo, p->f->hi);
        *v = x;
        return 0;
    }
    if (p->f->names && n == 3) {
        int count = p->f->hi - p->f->lo + 1 - (p->f->hi == 7);
        for (int k = 0; k < count; k++) {
            const char *nm = p->f->names[k];
            if (lower(s[0]) == nm[0] && lower(s[1]) == nm[1] &&
                lower(s[2]) == nm[2]) {
                *v = p->f->lo + k;
                *by_name = 1;
                return 0;
            }
        }
    }
    return ferr(p, "\"%.*s\" is not a %s", (int)n, s,
                p->f->names ? "number or name" : "number");
}

static int parse_item(struct pctx *p, const char *s, size_t n, uint64_t *bits)
{
    const struct field_def *f = p->f;
    const char *slash = memchr(s, '/', n);
    size_t rn = slash ? (size_t)(slash - s) : n;
    int step = 1, a, b, rc, by_name;
    if (slash) {
        const char *st = slash + 1;
        size_t sn = n - rn - 1;
        if (sn == 0 || sn > 3)
            return ferr(p, "bad step \"%.*s\"", (int)sn, st);
        step = 0;
        for (size_t i = 0; i < sn; i++) {
            if (!is_digit(st[i]))
                return ferr(p, "bad step \"%.*s\"", (int)sn, st);
            step = step * 10 + (st[i] - '0');
        }
        if (step < 1 || step > f->hi - f->lo)
            return ferr(p, "step %d is out of range 1-%d", step, f->hi - f->lo);
    }
    if (rn == 1 && s[0] == '*') {
        a = f->lo;
        b = f->hi;
    } else {
        const char *dash = memchr(s, '-', rn);
        size_t an = dash ? (size_t)(dash - s) : rn;
        if ((rc = parse_value(p, s, an, &a, &by_name)) < 0)
            return rc;
        if (dash) {
            if ((rc = parse_value(p, dash + 1, rn - an - 1, &b, &by_name)) < 0)
                return rc;
            /* "mon-sun": Sunday as 7 closes the week. */
            if (f->hi == 7 && by_name && b == 0 && a > 0)
                b = 7;
            if (b < a)
                return ferr(p, "range %d-%d runs backwards", a, b);
        } else {
            b = slash ? f->hi : a;
        }
    }
    for (int v = a; v <= b; v += step)
        *bits |= UINT64_C(1) << v;
    return 0;
}

static int parse_field(struct pctx *p, uint64_t *bits)
{
    const char *s = p->ftext, *end = p->ftext + p->flen;
    *bits = 0;
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *ie = comma ? comma : end;
        if (ie == s)
            return ferr(p, "empty list item");
        int rc = parse_item(p, s, (size_t)(ie - s), bits);
        if (rc < 0)
            return rc;
        s = ie + 1;
    }
    return 0;
}

static int parse_interval(const char *expr, const char *s, struct cron *c,
                          struct h2h_err *err)
{
    while (is_blank(*s))
        s++;
    int64_t n = 0;
    int nd = 0;
    while (is_digit(*s)) {
        if (++nd > 6)
            break;
        n = n * 10 + (*s++ - '0');
    }
    while (is_blank(*s))
        s++;
    int64_t unit = 0;
    char u = lower(*s);
    if (u == 's')
        unit = 1;
    else if (u == 'm')
        unit = 60;
    else if (u == 'h')
        unit = 3600;
    if (nd == 0 || nd > 6 || unit == 0)
        return h2h_err_set(err, H2H_EPARSE,
                           "cron \"%s\": expected \"every N\" with a unit s, m "
                           "or h (every 15m)",
                           expr);
    s++;
    while (is_blank(*s))
        s++;
    if (*s != '\0')
        return h2h_err_set(err, H2H_EPARSE,
                           "cron \"%s\": unexpected \"%s\" after the interval",
                           expr, s);
    if (n * unit < 1 || n * unit > DAY)
        return h2h_err_set(err, H2H_EPARSE,
                           "cron \"%s\": interval must be 1s to 24h", expr);
    c->interval = n * unit;
    return 0;
}

/* Refuse what can never run: a day-of-month list (with day-of-week "*",
 * so both must match) that no selected month has, even in a leap year. */
static int check_possible(const char *expr, const struct cron *c,
                          struct h2h_err *err)
{
    if (!c->dow_star || c->dom_star)
        return 0;
    for (int m = 1; m <= 12; m++) {
        if (!(c->month & (1u << m)))
            continue;
        for (int d = 1; d <= tz_days_in_month(2000, m); d++)
            if (c->dom & (1u << d))
                return 0;
    }
    return h2h_err_set(err, H2H_EINVALID,
                       "cron \"%s\": no selected month has the selected "
                       "day-of-month: it would never run",
                       expr);
}

static const struct {
    const char *name;
    const char *expr;
} macros[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

static int parse_cron5(const char *expr, const char *s, struct cron *c,
                       struct h2h_err *err)
{
    const char *fs[5];
    size_t fl[5];
    int nf = 0;
    for (;;) {
        while (is_blank(*s))
            s++;
        if (*s == '\0')
            break;
        const char *w = s;
        while (*s && !is_blank(*s))
            s++;
        if (nf < 5) {
            fs[nf] = w;
            fl[nf] = (size_t)(s - w);
        }
        nf++;
    }
    if (nf != 5)
        return h2h_err_set(err, H2H_EPARSE,
                           "cron \"%s\": expected 5 fields (minute hour "
                           "day-of-month month day-of-week) or \"every N\", "
                           "got %d",
                           expr, nf);
    uint64_t bits[5];
    for (int i = 0; i < 5; i++) {
        struct pctx p = {expr, &fields[i], fs[i], fl[i], err};
        int rc = parse_field(&p, &bits[i]);
        if (rc < 0)
            return rc;
    }
    c->minute = bits[0];
    c->hour = (uint32_t)bits[1];
    c->dom = (uint32_t)bits[2];
    c->month = (uint32_t)bits[3];
    c->dow = (uint32_t)((bits[4] | bits[4] >> 7) & 0x7f); /* 7 is 0 */
    c->hour_star = fl[1] == 1 && fs[1][0] == '*';
    c->dom_star = fs[2][0] == '*';
    c->dow_star = fs[4][0] == '*';
    return check_possible(expr, c, err);
}

void cron_free(struct cron *c)
{
    if (!c)
        return;
    free(c->text);
    free(c);
}

int cron_parse(const char *expr, struct cron **out, struct h2h_err *err)
{
    int rc = 0;
    if (!expr)
        expr = "";
    if (strlen(expr) > CRON_EXPR_MAX)
        return h2h_err_set(err, H2H_EPARSE,
                           "cron expression longer than %d characters",
                           CRON_EXPR_MAX);
    struct cron *c = calloc(1, sizeof(*c));
    if (!c || !(c->text = strdup(expr))) {
        free(c);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    const char *s = expr;
    while (is_blank(*s))
        s++;
    if (*s == '@') {
        size_t n = strcspn(s, " \t");
        const char *rest = s + n;
        while (is_blank(*rest))
            rest++;
        const char *as = NULL;
        for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
            if (strlen(macros[i].name) == n &&
                strncasecmp(s, macros[i].name, n) == 0)
                as = macros[i].expr;
        if (!as || *rest) {
            rc = h2h_err_set(err, H2H_EPARSE,
                             "cron \"%s\": unknown macro (@hourly, @daily, "
                             "@weekly, @monthly, @yearly)",
                             expr);
            goto out;
        }
        rc = parse_cron5(expr, as, c, err);
    } else if (strncasecmp(s, "every", 5) == 0 &&
               (is_blank(s[5]) || is_digit(s[5]) || s[5] == '\0')) {
        rc = parse_interval(expr, s + 5, c, err);
    } else {
        rc = parse_cron5(expr, s, c, err);
    }
out:
    if (rc < 0) {
        cron_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

const char *cron_text(const struct cron *c)
{
    return c->text;
}

int64_t cron_interval(const struct cron *c)
{
    return c->interval;
}

/* ---- evaluation ------------------------------------------------------ */

static int day_matches(const struct cron *c, int d, int64_t days)
{
    int dom_ok = (c->dom >> d) & 1;
    int dow_ok = (c->dow >> tz_weekday(days)) & 1;
    if (c->dom_star || c->dow_star)
        return dom_ok && dow_ok;
    return dom_ok || dow_ok;
}

/* First set bit >= from in bits (up to max), or -1. */
static int next_bit(uint64_t bits, int from, int max)
{
    for (int i = from; i <= max; i++)
        if ((bits >> i) & 1)
            return i;
    return -1;
}

/* The first matching civil minute in [lo, hi) (civil seconds since
 * 1970-01-01T00:00 of the zone's clock): 1 found, 0 none. */
static int scan(const struct cron *c, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t t = floor_div(lo + 59, 60) * 60;
    while (t < hi) {
        int64_t days = floor_div(t, DAY);
        int64_t sod = t - days * DAY;
        int y, m, d;
        tz_civil_from_days(days, &y, &m, &d);
        if (!((c->month >> m) & 1)) {
            t = (days - d + 1 + tz_days_in_month(y, m)) * DAY;
            continue;
        }
        if (!day_matches(c, d, days)) {
            t = (days + 1) * DAY;
            continue;
        }
        int h = (int)(sod / 3600), mi = (int)(sod % 3600 / 60);
        int nh = next_bit(c->hour, h, 23);
        if (nh < 0) {
            t = (days + 1) * DAY;
            continue;
        }
        if (nh > h)
            mi = 0;
        int nm = next_bit(c->minute, mi, 59);
        if (nm < 0) {
            t = days * DAY + (int64_t)(nh + 1) * 3600;
            continue;
        }
        *out = days * DAY + (int64_t)nh * 3600 + (int64_t)nm * 60;
        return *out < hi;
    }
    return 0;
}

int cron_next(const struct cron *c, const struct tz *z, time_t after,
              time_t *next)
{
    if (after < TZ_TIME_MIN || after > TZ_TIME_MAX)
        return H2H_EINVALID;
    if (c->interval > 0) {
        int64_t t = (floor_div(after, c->interval) + 1) * c->interval;
        if (t > TZ_TIME_MAX)
            return H2H_ENOTFOUND;
        *next = (time_t)t;
        return 0;
    }
    int64_t t0 = (int64_t)after + 1;
    int64_t limit = t0 + HORIZON;
    if (limit > TZ_TIME_MAX)
        limit = TZ_TIME_MAX;
    while (t0 <= limit) {
        /* The segment [s, e) holding t0, its offset and the one before. */
        time_t s, e;
        int32_t off = tz_offset_at(z, t0);
        int has_s = tz_prev_transition(z, t0, &s) == 0;
        int has_e = tz_next_transition(z, t0, &e) == 0;
        int32_t before = has_s ? tz_offset_at(z, s - 1) : off;
        int64_t found;
        if (has_s && s == t0 && off > before &&
            scan(c, (int64_t)s + before, (int64_t)s + off, &found)) {
            /* A run fell into the gap: it happens as the gap ends. */
            *next = s;
            return 0;
        }
        int64_t lo = t0 + off;
        int64_t hi = (has_e && e <= limit ? (int64_t)e : limit + 1) + off;
        if (has_s && before > off && !c->hour_star && lo < (int64_t)s + before)
            lo = (int64_t)s + before; /* ran in the first pass already */
        if (scan(c, lo, hi, &found)) {
            *next = (time_t)(found - off);
            return 0;
        }
        if (!has_e || e > limit)
            break;
        t0 = e;
    }
    return H2H_ENOTFOUND;
}


int cron_next_business(const struct cron *c, const struct tz *z,
                       const struct cal *cal, time_t after, time_t *next,
                       struct h2h_err *err)
{
    /* Each round skips at least one day, and a calendar spans at most
     * CAL_SPAN_MAX_DAYS: past that it has run out anyway. */
    for (int round = 0; round <= CAL_SPAN_MAX_DAYS + 2; round++) {
        time_t cand;
        int rc = cron_next(c, z, after, &cand);
        if (rc < 0)
            return h2h_err_set(err, rc, "cron \"%s\": no next run", c->text);
        if (!cal) {
            *next = cand;
            return 0;
        }
        int64_t day;
        if ((rc = tz_local_day(z, cand, &day)) < 0)
            return h2h_err_set(err, rc, "cron \"%s\": run out of range",
                               c->text);
        int b = cal_is_business_day_n(cal, day);
        if (b == 1) {
            *next = cand;
            return 0;
        }
        if (b < 0) {
            int64_t first, last;
            char d[16], a[16], l[16];
            cal_valid_range(cal, &first, &last);
            tz_day_text(day, d);
            tz_day_text(first, a);
            tz_day_text(last, l);
            return h2h_err_set(err, H2H_ENOTFOUND,
                               "calendar %s covers %s..%s only: cannot tell "
                               "whether %s (next run of \"%s\") is a "
                               "business day",
                               cal_name(cal), a, l, d, c->text);
        }
        int64_t nd;
        if ((rc = cal_next_business_day(cal, day, &nd, err)) < 0)
            return rc;
        /* Resume at the first instant of that civil day. */
        int y, m, d;
        tz_civil_from_days(nd, &y, &m, &d);
        struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
        struct tz_local loc;
        if ((rc = tz_resolve_local(z, &tm, &loc)) < 0)
            return h2h_err_set(err, rc, "cron \"%s\": run out of range",
                               c->text);
        after = (loc.kind == TZ_LOCAL_GAP ? loc.after_gap : loc.first) - 1;
    }
    return h2h_err_set(err, H2H_ENOTFOUND,
                       "cron \"%s\": no business day found in calendar %s",
                       c->text, cal_name(cal));
}
