/*
 * calendar.c - see calendar.h.
 *
 * The file is read into a list of entries first and checked as a whole
 * afterwards, because `valid` and `weekend` may come after the dates they
 * govern.  The loaded calendar is one byte per day of the `valid` range
 * (at most CAL_SPAN_MAX_DAYS), so every lookup is an array index; the
 * entries stay, sorted by day, for their descriptions.
 */
#include "calendar.h"

#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

struct entry {
    int64_t day;
    enum cal_day_kind kind; /* CAL_HOLIDAY or CAL_WORKDAY */
    int line;
    char *desc;
};

struct prov {
    int64_t first, last;
    char *note;
};

struct cal {
    char *name;
    int64_t first, last; /* valid */
    uint8_t *kind;       /* last - first + 1 cal_day_kind values */
    struct entry *e;     /* sorted by day */
    size_t ne;
    struct prov *p;
    size_t np;
};

/* Parse state: what the file said, before it is checked. */
struct parse {
    const char *label;
    struct h2h_err *err;
    int line;
    int have_valid, valid_line;
    int64_t vfirst, vlast;
    int have_weekend, weekend_line;
    unsigned weekend; /* bit per tz_weekday() */
    struct entry *e;
    size_t ne, cap;
    struct prov *p;
    size_t np, pcap;
    int *pline;
};


/* ---- lexing ---------------------------------------------------------- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

/* The next blank-separated word: *s advanced past it, its length. */
static size_t word(const char **s, const char **start)
{
    const char *p = skip_blanks(*s);
    *start = p;
    while (*p && !is_blank(*p))
        p++;
    *s = p;
    return (size_t)(p - *start);
}

static int word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && strncmp(w, lit, n) == 0;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            c = c << 6 | (s[i + k] & 0x3f);
        }
        /* no overlong forms, no surrogates, nothing past U+10FFFF */
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static int perr(struct parse *ps, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct parse *ps, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return h2h_err_set(ps->err, code, "%s:%d: %s", ps->label, ps->line, msg);
}

static int parse_date(struct parse *ps, const char *w, size_t n, int64_t *day)
{
    int ok = n == 10 && w[4] == '-' && w[7] == '-';
    for (size_t i = 0; ok && i < 10; i++)
        ok = i == 4 || i == 7 || (w[i] >= '0' && w[i] <= '9');
    if (!ok) {
        if (n == 0)
            return perr(ps, H2H_EPARSE, "date missing (YYYY-MM-DD)");
        return perr(ps, H2H_EPARSE, "bad date \"%.*s\" (YYYY-MM-DD)",
                    (int)(n > 40 ? 40 : n), w);
    }
    int y = (w[0] - '0') * 1000 + (w[1] - '0') * 100 + (w[2] - '0') * 10 +
            (w[3] - '0');
    int m = (w[5] - '0') * 10 + (w[6] - '0');
    int d = (w[8] - '0') * 10 + (w[9] - '0');
    if (!tz_valid_date(y, m, d))
        return perr(ps, H2H_EPARSE, "bad date \"%.10s\": no such day", w);
    *day = tz_days_from_civil(y, m, d);
    return 0;
}

/* The rest of the line as a description: trimmed, checked, copied. */
static int take_desc(struct parse *ps, const char *s, char **out)
{
    s = skip_blanks(s);
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    if (!valid_utf8((const unsigned char *)s, n))
        return perr(ps, H2H_EPARSE, "description is not valid UTF-8");
    *out = strndup(s, n);
    if (!*out)
        return h2h_err_set(ps->err, H2H_ENOMEM, "out of memory");
    return 0;
}

static int parse_weekend(struct parse *ps, const char *s)
{
    static const char *const names[7][2] = {
        {"sun", "sunday"},    {"mon", "monday"},   {"tue", "tuesday"},
        {"wed", "wednesday"}, {"thu", "thursday"}, {"fri", "friday"},
        {"sat", "saturday"},
    };
    if (ps->have_weekend)
        return perr(ps, H2H_EINVALID, "weekend given twice (first at line %d)",
                    ps->weekend_line);
    s = skip_blanks(s);
    if (*s != '=')
        return perr(ps, H2H_EPARSE, "expected \"weekend = sat sun\"");
    s++;
    unsigned set = 0;
    for (;;) {
        const char *w;
        size_t n = word(&s, &w);
        if (n == 0)
            break;
        char lw[16];
        if (n >= sizeof(lw))
            n = sizeof(lw) - 1;
        for (size_t i = 0; i < n; i++)
            lw[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
        int wd = -1;
        for (int k = 0; k < 7 && wd < 0; k++)
            if (word_is(lw, n, names[k][0]) || word_is(lw, n, names[k][1]))
                wd = k;
        if (wd < 0)
            return perr(ps, H2H_EPARSE, "unknown weekday \"%.*s\"", (int)n, w);
        if (set & (1u << wd))
            return perr(ps, H2H_EINVALID, "weekday \"%.*s\" given twice",
                        (int)n, w);
        set |= 1u << wd;
    }
    ps->have_weekend = 1;
    ps->weekend_line = ps->line;
    ps->weekend = set;
    return 0;
}

static int parse_range(struct parse *ps, const char **s, int64_t *first,
                       int64_t *last)
{
    const char *w;
    size_t n = word(s, &w);
    int rc = parse_date(ps, w, n, first);
    if (rc < 0)
        return rc;
    n = word(s, &w);
    if ((rc = parse_date(ps, w, n, last)) < 0)
        return rc;
    if (*last < *first)
        return perr(ps, H2H_EINVALID, "range ends before it starts");
    return 0;
}

static int parse_line(struct parse *ps, char *s)
{
    /* Comments: '#' at the start or after a blank, so descriptions may
     * still say "No.#1" if they must. */
    for (char *h = s; (h = strchr(h, '#')) != NULL; h++) {
        if (h == s || is_blank(h[-1])) {
            *h = '\0';
            break;
        }
    }
    const char *p = s, *w;
    size_t n = word(&p, &w);
    if (n == 0)
        return 0;
    int rc;
    if (word_is(w, n, "weekend"))
        return parse_weekend(ps, p);
    if (n >= 8 && strncmp(w, "weekend=", 8) == 0)
        return parse_weekend(ps, w + 7);
    if (word_is(w, n, "valid")) {
        if (ps->have_valid)
            return perr(ps, H2H_EINVALID,
                        "valid given twice (first at line %d)", ps->valid_line);
        if ((rc = parse_range(ps, &p, &ps->vfirst, &ps->vlast)) < 0)
            return rc;
        if (ps->vlast - ps->vfirst >= CAL_SPAN_MAX_DAYS)
            return perr(ps, H2H_EINVALID, "valid range longer than %d days",
                        CAL_SPAN_MAX_DAYS);
        n = word(&p, &w);
        if (n > 0)
            return perr(ps, H2H_EPARSE, "unexpected \"%.*s\" after the range",
                        (int)(n > 40 ? 40 : n), w);
        ps->have_valid = 1;
        ps->valid_line = ps->line;
        return 0;
    }
    if (word_is(w, n, "provisional")) {
        struct prov pv = {0};
        if ((rc = parse_range(ps, &p, &pv.first, &pv.last)) < 0)
            return rc;
        if (ps->np == ps->pcap) {
            size_t cap = ps->pcap ? ps->pcap * 2 : 4;
            struct prov *np = realloc(ps->p, cap * sizeof(*np));
            int *nl = realloc(ps->pline, cap * sizeof(*nl));
            if (np)
                ps->p = np;
            if (nl)
                ps->pline = nl;
            if (!np || !nl)
                return h2h_err_set(ps->err, H2H_ENOMEM, "out of memory");
            ps->pcap = cap;
        }
        if ((rc = take_desc(ps, p, &pv.note)) < 0)
            return rc;
        ps->pline[ps->np] = ps->line;
        ps->p[ps->np++] = pv;
        return 0;
    }
    enum cal_day_kind kind;
    if (word_is(w, n, "holiday"))
        kind = CAL_HOLIDAY;
    else if (word_is(w, n, "workday"))
        kind = CAL_WORKDAY;
    else
        return perr(ps, H2H_EPARSE, "unknown directive \"%.*s\"",
                    (int)(n > 40 ? 40 : n), w);
    struct entry e = {.kind = kind, .line = ps->line};
    n = word(&p, &w);
    if ((rc = parse_date(ps, w, n, &e.day)) < 0)
        return rc;
    if (ps->ne == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 64;
        struct entry *ne = realloc(ps->e, cap * sizeof(*ne));
        if (!ne)
            return h2h_err_set(ps->err, H2H_ENOMEM, "out of memory");
        ps->e = ne;
        ps->cap = cap;
    }
    if ((rc = take_desc(ps, p, &e.desc)) < 0)
        return rc;
    ps->e[ps->ne++] = e;
    return 0;
}

/* ---- checking and building ------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->line - y->line;
}

/* Check the entries against valid/weekend, in file order so the first
 * error reported is the first in the file; then fill c->kind. */
static int build(struct parse *ps, struct cal *c)
{
    char a[16], b[16];
    if (!ps->have_valid)
        return h2h_err_set(ps->err, H2H_EINVALID,
                           "%s: no \"valid FIRST LAST\" line", ps->label);
    unsigned weekend = ps->have_weekend ? ps->weekend : (1u << 0 | 1u << 6);
    c->first = ps->vfirst;
    c->last = ps->vlast;
    size_t span = (size_t)(c->last - c->first + 1);
    int *seen = calloc(span, sizeof(*seen)); /* line that listed the day */
    c->kind = malloc(span);
    if (!seen || !c->kind) {
        free(seen);
        return h2h_err_set(ps->err, H2H_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < span; i++)
        c->kind[i] = weekend & (1u << tz_weekday(c->first + (int64_t)i))
                         ? CAL_WEEKEND
                         : CAL_BUSINESS;
    tz_day_text(c->first, a);
    tz_day_text(c->last, b);
    int rc = 0;
    for (size_t i = 0; i < ps->np && rc == 0; i++) {
        ps->line = ps->pline[i];
        if (ps->p[i].first < c->first || ps->p[i].last > c->last)
            rc = perr(ps, H2H_EINVALID,
                      "provisional range outside the valid range %s..%s", a, b);
    }
    for (size_t i = 0; i < ps->ne && rc == 0; i++) {
        const struct entry *e = &ps->e[i];
        char d[16];
        tz_day_text(e->day, d);
        ps->line = e->line;
        if (e->day < c->first || e->day > c->last) {
            rc = perr(ps, H2H_EINVALID, "%s outside the valid range %s..%s", d,
                      a, b);
            break;
        }
        size_t k = (size_t)(e->day - c->first);
        if (seen[k]) {
            rc = perr(ps, H2H_EINVALID, "%s listed twice (first at line %d)", d,
                      seen[k]);
            break;
        }
        seen[k] = e->line;
        if (e->kind == CAL_WORKDAY && c->kind[k] != CAL_WEEKEND) {
            rc = perr(ps, H2H_EINVALID,
                      "workday %s is not a weekend day: it is one already", d);
            break;
        }
        c->kind[k] = (uint8_t)e->kind;
    }
    free(seen);
    return rc;
}

static const char *base_name(const char *label, size_t *len)
{
    const char *s = strrchr(label, '/');
    s = s ? s + 1 : label;
    size_t n = strlen(s);
    if (n > 4 && strcmp(s + n - 4, ".cal") == 0)
        n -= 4;
    *len = n;
    return s;
}

void cal_free(struct cal *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ne; i++)
        free(c->e[i].desc);
    for (size_t i = 0; i < c->np; i++)
        free(c->p[i].note);
    free(c->e);
    free(c->p);
    free(c->kind);
    free(c->name);
    free(c);
}

int cal_parse(const char *text, size_t len, const char *label, struct cal **out,
              struct h2h_err *err)
{
    int rc = 0;
    char *buf = NULL;
    struct parse ps = {.label = label ? label : "calendar", .err = err};
    struct cal *c = calloc(1, sizeof(*c));
    if (!c)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    size_t nlen;
    const char *bn = base_name(ps.label, &nlen);
    c->name = strndup(bn, nlen);
    buf = malloc(CAL_LINE_MAX + 1);
    if (!c->name || !buf) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if (len > CAL_FILE_MAX) {
        rc = h2h_err_set(err, H2H_ETOOBIG, "%s: larger than %d bytes", ps.label,
                         CAL_FILE_MAX);
        goto out;
    }
    if (memchr(text, '\0', len)) {
        rc = h2h_err_set(err, H2H_EPARSE, "%s: contains a NUL byte", ps.label);
        goto out;
    }
    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* a BOM some editors write */
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - (text + pos)) : len - pos;
        size_t n = linelen;
        ps.line++;
        if (n > 0 && text[pos + n - 1] == '\r')
            n--;
        if (n > CAL_LINE_MAX) {
            rc = perr(&ps, H2H_ETOOBIG, "line longer than %d bytes",
                      CAL_LINE_MAX);
            goto out;
        }
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        if ((rc = parse_line(&ps, buf)) < 0)
            goto out;
        pos += linelen + (nl ? 1 : 0);
    }
    if ((rc = build(&ps, c)) < 0)
        goto out;
    if (ps.ne > 1)
        qsort(ps.e, ps.ne, sizeof(*ps.e), cmp_entry);
    c->e = ps.e;
    c->ne = ps.ne;
    c->p = ps.p;
    c->np = ps.np;
    ps.e = NULL;
    ps.ne = 0;
    ps.p = NULL;
    ps.np = 0;
out:
    for (size_t i = 0; i < ps.ne; i++)
        free(ps.e[i].desc);
    for (size_t i = 0; i < ps.np; i++)
        free(ps.p[i].note);
    free(ps.e);
    free(ps.p);
    free(ps.pline);
    free(buf);
    if (rc < 0) {
        cal_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int cal_load(const char *path, struct cal **out, struct h2h_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = fsu_read_file(path, CAL_FILE_MAX, &buf, &len, err);
    if (rc == H2H_ENOTFOUND)
        return h2h_err_set(err, rc, "%s: no such calendar", path);
    if (rc == 0)
        rc = cal_parse(buf, len, path, out, err);
    free(buf);
    return rc;
}

/* ---- queries ----------------------------------------------------------- */

const char *cal_name(const struct cal *c)
{
    return c->name;
}

void cal_valid_range(const struct cal *c, int64_t *first, int64_t *last)
{
    *first = c->first;
    *last = c->last;
}

int cal_day_kind(const struct cal *c, int64_t day, const char **desc)
{
    if (day < c->first || day > c->last)
        return H2H_ENOTFOUND;
    int kind = c->kind[day - c->first];
    if (desc) {
        *desc = "";
        size_t lo = 0, hi = c->ne;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (c->e[mid].day < day)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < c->ne && c->e[lo].day == day)
            *desc = c->e[lo].desc;
    }
    return kind;
}

int cal_is_business_day_n(const struct cal *c, int64_t day)
{
    int kind = cal_day_kind(c, day, NULL);
    if (kind < 0)
        return kind;
    return kind == CAL_BUSINESS || kind == CAL_WORKDAY;
}

int cal_is_business_day(const struct cal *c, int y, int m, int d)
{
    if (!tz_valid_date(y, m, d))
        return H2H_EINVALID;
    return cal_is_business_day_n(c, tz_days_from_civil(y, m, d));
}

int cal_provisional(const struct cal *c, int64_t day, const char **note)
{
    for (size_t i = 0; i < c->np; i++) {
        if (day >= c->p[i].first && day <= c->p[i].last) {
            if (note)
                *note = c->p[i].note;
            return 1;
        }
    }
    return 0;
}

static int walk(const struct cal *c, int64_t day, int dir, int64_t *out,
                struct h2h_err *err)
{
    for (int64_t d = day + dir; d >= c->first && d <= c->last; d += dir) {
        if (cal_is_business_day_n(c, d) == 1) {
            *out = d;
            return 0;
        }
    }
    char a[16], b[16], s[16];
    tz_day_text(c->first, a);
    tz_day_text(c->last, b);
    tz_day_text(day, s);
    return h2h_err_set(err, H2H_ENOTFOUND,
                       "calendar %s covers %s..%s only: no business day %s "
                       "%s within it",
                       c->name, a, b, dir > 0 ? "after" : "before", s);
}

int cal_next_business_day(const struct cal *c, int64_t day, int64_t *out,
                          struct h2h_err *err)
{
    return walk(c, day, 1, out, err);
}

int cal_prev_business_day(const struct cal *c, int64_t day, int64_t *out,
                          struct h2h_err *err)
{
    return walk(c, day, -1, out, err);
}

int cal_add_business_days(const struct cal *c, int64_t day, int n, int64_t *out,
                          struct h2h_err *err)
{
    if (n == 0) {
        int b = cal_is_business_day_n(c, day);
        if (b == 1) {
            *out = day;
            return 0;
        }
        if (b < 0) {
            char s[16];
            tz_day_text(day, s);
            return h2h_err_set(err, H2H_ENOTFOUND,
                               "calendar %s: %s is outside its valid range",
                               c->name, s);
        }
        return walk(c, day, 1, out, err);
    }
    int dir = n > 0 ? 1 : -1;
    int64_t d = day;
    for (int64_t left = n > 0 ? n : -(int64_t)n; left > 0; left--) {
        int rc = walk(c, d, dir, &d, err);
        if (rc < 0)
            return rc;
    }
    *out = d;
    return 0;
}
