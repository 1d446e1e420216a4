/*
 * tz.c - see tz.h.
 *
 * A zone is the file's transition table (64-bit section when there is
 * one) plus, for instants after the last transition, the footer's POSIX
 * TZ rules.  Lookups never allocate.  Civil-to-UTC conversion walks the
 * constant-offset segments of the zone around the civil time instead of
 * guessing offsets, so it stays right for zones with two changes close
 * together and for offsets that are not whole hours.
 */
#include "tz.h"

#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Real TZif files are below 4 KiB (slim) or about 10 KiB (fat). */
#define TZ_FILE_MAX (256 * 1024)
#define TZ_NAME_MAX 255
#define TZ_TIMECNT_MAX 65536
#define TZ_CHARCNT_MAX 65536
#define ABBR_MAX 15

/* RFC 8536 bounds a UT offset to -89999..93599 s, so no civil time lies
 * 26 hours or more from its instant. */
#define OFF_MIN (-89999)
#define OFF_MAX 93599
#define WINDOW INT64_C(93600)

#define DAY INT64_C(86400)

struct tz_type {
    int32_t utoff;
    uint8_t isdst;
    uint32_t abbr; /* offset into chars */
};

enum rule_kind {
    RULE_JULIAN1, /* Jn: 1..365, February 29 never counted */
    RULE_ZERO,    /* n: 0..365, February 29 counted */
    RULE_MWD,     /* Mm.w.d: weekday d of week w (5 = last) of month m */
};

struct rule {
    enum rule_kind kind;
    int day;      /* Jn / n: the day; MWD: the weekday 0-6 */
    int week;     /* MWD */
    int month;    /* MWD */
    int32_t secs; /* local time of day of the change, may be < 0 or > 24h */
};

/* The footer: "std offset [dst [offset] ,start[/time],end[/time]]". */
struct posix_tz {
    int32_t std_off; /* east of UTC, unlike POSIX's sign */
    int32_t dst_off;
    int has_dst;
    struct rule start, end;
    char std_abbr[ABBR_MAX + 1];
    char dst_abbr[ABBR_MAX + 1];
};

struct tz {
    char *name;
    size_t n; /* transitions */
    int64_t *at;
    uint8_t *idx;
    size_t ntypes;
    struct tz_type *types;
    char *chars;
    size_t nchars;
    int has_footer;
    struct posix_tz ft;
};

struct info {
    int32_t off;
    int isdst;
    const char *abbr;
};

/* ---- civil dates ------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Howard Hinnant's days_from_civil / civil_from_days: exact, no tables,
 * no loops, valid on both sides of the epoch. */
int64_t tz_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = mm;
    *y = (int)(yoe + era * 400 + (mm <= 2));
}

int tz_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday. */
    int64_t w = (days + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

int tz_is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_days_in_month(int y, int m)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return mdays[m - 1] + (m == 2 && tz_is_leap_year(y));
}

int tz_valid_date(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && d >= 1 && d <= tz_days_in_month(y, m);
}

void tz_day_text(int64_t days, char out[11])
{
    int y, m, d;
    char buf[40];
    tz_civil_from_days(days, &y, &m, &d);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

int tz_day_parse(const char *s, int64_t *days)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return H2H_EINVALID;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return H2H_EINVALID;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (!tz_valid_date(y, m, d))
        return H2H_EINVALID;
    *days = tz_days_from_civil(y, m, d);
    return 0;
}

static int year_of(int64_t t)
{
    /* Clamped: the footer's rules are the same every year, and a year
     * far outside 1..9999 would overflow int. */
    if (t < TZ_TIME_MIN)
        t = TZ_TIME_MIN;
    if (t > TZ_TIME_MAX)
        t = TZ_TIME_MAX;
    int y, m, d;
    tz_civil_from_days(floor_div(t, DAY), &y, &m, &d);
    return y;
}

/* ---- footer rules ---------------------------------------------------- */

static int64_t rule_day(const struct rule *r, int y)
{
    int64_t jan1 = tz_days_from_civil(y, 1, 1);
    switch (r->kind) {
    case RULE_JULIAN1:
        return jan1 + r->day - 1 + (tz_is_leap_year(y) && r->day >= 60);
    case RULE_ZERO: return jan1 + r->day;
    case RULE_MWD:
    default: {
        int64_t first = tz_days_from_civil(y, r->month, 1);
        int64_t d = first + (r->day - tz_weekday(first) + 7) % 7 +
                    (int64_t)(r->week - 1) * 7;
        int64_t end = first + tz_days_in_month(y, r->month);
        while (d >= end) /* week 5 means the last one */
            d -= 7;
        return d;
    }
    }
}

struct event {
    int64_t at;
    int dst; /* DST in force from `at` on */
};

/* The footer's changes of years y0..y1 in time order (at most 8). */
static size_t footer_events(const struct posix_tz *ft, int y0, int y1,
                            struct event *ev)
{
    size_t n = 0;
    for (int y = y0; y <= y1; y++) {
        ev[n].at = rule_day(&ft->start, y) * DAY + ft->start.secs - ft->std_off;
        ev[n++].dst = 1;
        ev[n].at = rule_day(&ft->end, y) * DAY + ft->end.secs - ft->dst_off;
        ev[n++].dst = 0;
    }
    /* Insertion sort, stable: a year's end and the next year's start may
     * fall on the same instant (DST all year round), and then the later
     * one in the rules must win. */
    for (size_t i = 1; i < n; i++) {
        struct event e = ev[i];
        size_t j = i;
        while (j > 0 && ev[j - 1].at > e.at) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = e;
    }
    return n;
}

static void footer_lookup(const struct tz *z, int64_t t, struct info *out)
{
    const struct posix_tz *ft = &z->ft;
    int dst = 0;
    if (ft->has_dst) {
        struct event ev[8];
        int y = year_of(t);
        size_t n = footer_events(ft, y - 1, y + 1, ev);
        dst = !ev[0].dst; /* before the first change */
        for (size_t i = 0; i < n && ev[i].at <= t; i++)
            dst = ev[i].dst;
    }
    out->off = dst ? ft->dst_off : ft->std_off;
    out->isdst = dst;
    out->abbr = dst ? ft->dst_abbr : ft->std_abbr;
}

static int footer_next(const struct tz *z, int64_t t, int64_t *at)
{
    if (!z->ft.has_dst)
        return 0;
    struct event ev[8];
    int y = year_of(t);
    size_t n = footer_events(&z->ft, y - 1, y + 2, ev);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].at > t) {
            *at = ev[i].at;
            return 1;
        }
    }
    return 0;
}

static int footer_prev(const struct tz *z, int64_t t, int64_t *at)
{
    if (!z->ft.has_dst)
        return 0;
    struct event ev[8];
    int y = year_of(t);
    size_t n = footer_events(&z->ft, y - 2, y + 1, ev);
    int found = 0;
    for (size_t i = 0; i < n && ev[i].at <= t; i++) {
        *at = ev[i].at;
        found = 1;
    }
    return found;
}

/* ---- lookups --------------------------------------------------------- */

/* Index of the last transition at or before t; t >= at[0]. */
static size_t last_le(const struct tz *z, int64_t t)
{
    size_t lo = 0, hi = z->n; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void type_info(const struct tz *z, size_t type, struct info *out)
{
    out->off = z->types[type].utoff;
    out->isdst = z->types[type].isdst;
    out->abbr = z->chars + z->types[type].abbr;
}

static void lookup(const struct tz *z, int64_t t, struct info *out)
{
    if (!z) {
        out->off = 0;
        out->isdst = 0;
        out->abbr = "UTC";
        return;
    }
    if (z->n == 0) {
        if (z->has_footer)
            footer_lookup(z, t, out);
        else
            type_info(z, 0, out);
        return;
    }
    if (t < z->at[0]) {
        type_info(z, 0, out);
        return;
    }
    size_t i = last_le(z, t);
    if (i == z->n - 1 && t > z->at[i] && z->has_footer)
        footer_lookup(z, t, out);
    else
        type_info(z, z->idx[i], out);
}

/* First change strictly after t: 1 found, 0 none. */
static int next_change(const struct tz *z, int64_t t, int64_t *at)
{
    if (!z)
        return 0;
    if (z->n > 0 && t < z->at[z->n - 1]) {
        *at = t < z->at[0] ? z->at[0] : z->at[last_le(z, t) + 1];
        return 1;
    }
    if (!z->has_footer)
        return 0;
    int64_t from = z->n > 0 && z->at[z->n - 1] > t ? z->at[z->n - 1] : t;
    if (!footer_next(z, from, at))
        return 0;
    return *at <= TZ_TIME_MAX + WINDOW;
}

/* Last change at or before t: 1 found, 0 none. */
static int prev_change(const struct tz *z, int64_t t, int64_t *at)
{
    if (!z)
        return 0;
    if (z->has_footer && (z->n == 0 || t > z->at[z->n - 1])) {
        int64_t f;
        if (footer_prev(z, t, &f) && (z->n == 0 || f > z->at[z->n - 1])) {
            *at = f;
            return 1;
        }
    }
    if (z->n == 0 || t < z->at[0])
        return 0;
    *at = z->at[last_le(z, t)];
    return 1;
}

int tz_offset_at(const struct tz *z, time_t utc)
{
    struct info in;
    lookup(z, utc, &in);
    return in.off;
}

const char *tz_name(const struct tz *z)
{
    return z ? z->name : "UTC";
}

int tz_next_transition(const struct tz *z, time_t t, time_t *at)
{
    int64_t a;
    if (!next_change(z, t, &a))
        return H2H_ENOTFOUND;
    *at = (time_t)a;
    return 0;
}

int tz_prev_transition(const struct tz *z, time_t t, time_t *at)
{
    int64_t a;
    if (!prev_change(z, t, &a))
        return H2H_ENOTFOUND;
    *at = (time_t)a;
    return 0;
}

int tz_to_local(const struct tz *z, time_t utc, struct tm *out)
{
    if (utc < TZ_TIME_MIN || utc > TZ_TIME_MAX)
        return H2H_EINVALID;
    struct info in;
    lookup(z, utc, &in);
    int64_t lt = (int64_t)utc + in.off;
    int64_t days = floor_div(lt, DAY);
    int64_t sod = lt - days * DAY;
    int y, m, d;
    tz_civil_from_days(days, &y, &m, &d);
    memset(out, 0, sizeof(*out));
    out->tm_year = y - 1900;
    out->tm_mon = m - 1;
    out->tm_mday = d;
    out->tm_hour = (int)(sod / 3600);
    out->tm_min = (int)(sod % 3600 / 60);
    out->tm_sec = (int)(sod % 60);
    out->tm_wday = tz_weekday(days);
    out->tm_yday = (int)(days - tz_days_from_civil(y, 1, 1));
    out->tm_isdst = in.isdst;
    out->tm_gmtoff = in.off;
    out->tm_zone = in.abbr;
    return 0;
}

int tz_local_day(const struct tz *z, time_t utc, int64_t *day)
{
    if (utc < TZ_TIME_MIN || utc > TZ_TIME_MAX)
        return H2H_EINVALID;
    *day = floor_div((int64_t)utc + tz_offset_at(z, utc), DAY);
    return 0;
}

/* Civil fields as seconds since 1970-01-01T00:00 of the same civil
 * clock, normalised like timegm(). */
static int civil_seconds(const struct tm *c, int64_t *out)
{
    int64_t y = (int64_t)c->tm_year + 1900;
    int64_t mon = c->tm_mon;
    y += floor_div(mon, 12);
    mon -= floor_div(mon, 12) * 12;
    if (y < 0 || y > 10000)
        return H2H_EINVALID;
    int64_t days =
        tz_days_from_civil((int)y, (int)mon + 1, 1) + (int64_t)c->tm_mday - 1;
    int64_t s = days * DAY + (int64_t)c->tm_hour * 3600 +
                (int64_t)c->tm_min * 60 + c->tm_sec;
    if (s < TZ_TIME_MIN || s > TZ_TIME_MAX)
        return H2H_EINVALID;
    *out = s;
    return 0;
}

int tz_resolve_local(const struct tz *z, const struct tm *civil,
                     struct tz_local *out)
{
    int64_t L;
    int rc = civil_seconds(civil, &L);
    if (rc < 0)
        return rc;
    /* Walk the constant-offset segments [s, e) that can hold an instant
     * of L: an instant t is L's when t + offset(t) == L, i.e. t = L - off
     * lies in the segment whose offset is off.  Between two segments a
     * forward change leaves the civil times [T + before, T + after)
     * without an instant: the gap. */
    int64_t lo = L - WINDOW, hi = L + WINDOW;
    int64_t s = lo;
    struct info in;
    lookup(z, s, &in);
    int32_t off = in.off;
    int nsol = 0, gap = 0;
    int64_t sol_first = 0, sol_last = 0, gap_at = 0, gap_first = 0;
    for (int guard = 0; guard < 1000; guard++) {
        int64_t T;
        int more = next_change(z, s, &T) && T <= hi;
        int64_t cand = L - off;
        if (cand >= s && (!more || cand < T)) {
            if (nsol++ == 0)
                sol_first = cand;
            sol_last = cand;
        }
        if (!more)
            break;
        lookup(z, T, &in);
        if (in.off > off && L >= T + off && L < T + in.off && !gap) {
            gap = 1;
            gap_at = T;
            gap_first = L - off;
        }
        s = T;
        off = in.off;
    }
    if (nsol > 0) {
        out->kind = nsol > 1 ? TZ_LOCAL_OVERLAP : TZ_LOCAL_UNIQUE;
        out->first = (time_t)sol_first;
        out->second = (time_t)sol_last;
        out->after_gap = (time_t)sol_first;
        return 0;
    }
    if (!gap) /* no instant and no gap: zone data beyond belief */
        return H2H_EINVALID;
    out->kind = TZ_LOCAL_GAP;
    out->first = out->second = (time_t)gap_first;
    out->after_gap = (time_t)gap_at;
    return 0;
}

int tz_from_local(const struct tz *z, const struct tm *civil, int fold,
                  time_t *out)
{
    struct tz_local r;
    int rc = tz_resolve_local(z, civil, &r);
    if (rc < 0)
        return rc;
    *out = fold && r.kind == TZ_LOCAL_OVERLAP ? r.second : r.first;
    return 0;
}

/* ---- the footer's TZ string ------------------------------------------ */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A designation: letters, or <...> with letters, digits, '+', '-'. */
static int parse_abbr(const char **sp, char *out)
{
    const char *s = *sp;
    size_t n = 0;
    if (*s == '<') {
        for (s++; *s && *s != '>'; s++) {
            if (!is_alpha(*s) && !is_digit(*s) && *s != '+' && *s != '-')
                return -1;
            if (n >= ABBR_MAX)
                return -1;
            out[n++] = *s;
        }
        if (*s != '>')
            return -1;
        s++;
    } else {
        for (; is_alpha(*s); s++) {
            if (n >= ABBR_MAX)
                return -1;
            out[n++] = *s;
        }
    }
    if (n < 1)
        return -1;
    out[n] = '\0';
    *sp = s;
    return 0;
}

/* [+-]h[h[h]][:mm[:ss]] with hours up to max_h; signed seconds. */
static int parse_hms(const char **sp, int max_h, int32_t *out)
{
    const char *s = *sp;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!is_digit(*s))
        return -1;
    int h = 0, nd = 0;
    while (is_digit(*s) && nd < 3) {
        h = h * 10 + (*s++ - '0');
        nd++;
    }
    if (is_digit(*s) || h > max_h)
        return -1;
    int32_t v = h * 3600;
    for (int part = 0; part < 2 && *s == ':'; part++) {
        s++;
        if (!is_digit(s[0]) || !is_digit(s[1]) || is_digit(s[2]))
            return -1;
        int x = (s[0] - '0') * 10 + (s[1] - '0');
        if (x > 59)
            return -1;
        v += part == 0 ? x * 60 : x;
        s += 2;
    }
    *out = sign * v;
    *sp = s;
    return 0;
}

static int parse_num(const char **sp, int lo, int hi, int *out)
{
    const char *s = *sp;
    int v = 0, nd = 0;
    while (is_digit(*s)) {
        if (++nd > 4)
            return -1;
        v = v * 10 + (*s++ - '0');
    }
    if (nd == 0 || v < lo || v > hi)
        return -1;
    *out = v;
    *sp = s;
    return 0;
}

static int parse_rule(const char **sp, struct rule *r)
{
    const char *s = *sp;
    memset(r, 0, sizeof(*r));
    if (*s == 'J') {
        s++;
        r->kind = RULE_JULIAN1;
        if (parse_num(&s, 1, 365, &r->day) < 0)
            return -1;
    } else if (*s == 'M') {
        s++;
        r->kind = RULE_MWD;
        if (parse_num(&s, 1, 12, &r->month) < 0 || *s++ != '.' ||
            parse_num(&s, 1, 5, &r->week) < 0 || *s++ != '.' ||
            parse_num(&s, 0, 6, &r->day) < 0)
            return -1;
    } else {
        r->kind = RULE_ZERO;
        if (parse_num(&s, 0, 365, &r->day) < 0)
            return -1;
    }
    r->secs = 2 * 3600; /* POSIX default 02:00:00 */
    /* Version 3: -167..167 hours, so a change can be named relative to
     * another day. */
    if (*s == '/' && (s++, parse_hms(&s, 167, &r->secs) < 0))
        return -1;
    *sp = s;
    return 0;
}

static int parse_posix(const char *s, struct posix_tz *ft)
{
    int32_t v;
    memset(ft, 0, sizeof(*ft));
    if (parse_abbr(&s, ft->std_abbr) < 0 || parse_hms(&s, 24, &v) < 0)
        return -1;
    ft->std_off = -v; /* POSIX counts west */
    if (ft->std_off < OFF_MIN || ft->std_off > OFF_MAX)
        return -1;
    if (*s == '\0')
        return 0;
    if (parse_abbr(&s, ft->dst_abbr) < 0)
        return -1;
    ft->has_dst = 1;
    ft->dst_off = ft->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (parse_hms(&s, 24, &v) < 0)
            return -1;
        ft->dst_off = -v;
    }
    /* A DST zone without rules would need a default from somewhere
     * (glibc takes the US rules); zic always writes them. */
    if (*s++ != ',' || parse_rule(&s, &ft->start) < 0 || *s++ != ',' ||
        parse_rule(&s, &ft->end) < 0 || *s != '\0')
        return -1;
    if (ft->dst_off < OFF_MIN || ft->dst_off > OFF_MAX)
        return -1;
    return 0;
}

/* ---- TZif ------------------------------------------------------------ */

struct cur {
    const unsigned char *p;
    size_t left;
};

static const unsigned char *take(struct cur *c, size_t n)
{
    if (n > c->left)
        return NULL;
    const unsigned char *p = c->p;
    c->p += n;
    c->left -= n;
    return p;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int64_t be64(const unsigned char *p)
{
    uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
    return (int64_t)v;
}

struct hdr {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int parse_header(struct cur *c, struct hdr *h, const char *path,
                        struct h2h_err *err)
{
    const unsigned char *p = take(c, 44);
    if (!p || memcmp(p, "TZif", 4) != 0)
        return h2h_err_set(err, H2H_EPARSE, "%s: not a TZif file", path);
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->timecnt > TZ_TIMECNT_MAX || h->typecnt > 256 ||
        h->charcnt > TZ_CHARCNT_MAX || h->leapcnt > TZ_TIMECNT_MAX ||
        h->isutcnt > 256 || h->isstdcnt > 256)
        return h2h_err_set(err, H2H_EPARSE, "%s: TZif counts out of range",
                           path);
    return 0;
}

static size_t block_size(const struct hdr *h, size_t timesize)
{
    return h->timecnt * (timesize + 1) + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

static int parse_block(struct cur *c, const struct hdr *h, size_t timesize,
                       struct tz *z, const char *path, struct h2h_err *err)
{
    if (h->typecnt == 0 || h->charcnt == 0 ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt))
        return h2h_err_set(err, H2H_EPARSE, "%s: inconsistent TZif counts",
                           path);
    if (h->leapcnt > 0)
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "%s: zone counts leap seconds (a right/ zone)",
                           path);
    if (c->left < block_size(h, timesize))
        return h2h_err_set(err, H2H_EPARSE, "%s: TZif file truncated", path);

    z->n = h->timecnt;
    z->ntypes = h->typecnt;
    z->nchars = h->charcnt;
    z->at = calloc(z->n ? z->n : 1, sizeof(*z->at));
    z->idx = calloc(z->n ? z->n : 1, 1);
    z->types = calloc(z->ntypes, sizeof(*z->types));
    z->chars = malloc(z->nchars + 1);
    if (!z->at || !z->idx || !z->types || !z->chars)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");

    const unsigned char *p = take(c, z->n * timesize);
    for (size_t i = 0; i < z->n; i++, p += timesize) {
        z->at[i] = timesize == 8 ? be64(p) : (int32_t)be32(p);
        if (i > 0 && z->at[i] <= z->at[i - 1])
            return h2h_err_set(err, H2H_EPARSE,
                               "%s: transition times not ascending", path);
    }
    p = take(c, z->n);
    for (size_t i = 0; i < z->n; i++) {
        if (p[i] >= z->ntypes)
            return h2h_err_set(err, H2H_EPARSE,
                               "%s: transition type out of range", path);
        z->idx[i] = p[i];
    }
    const unsigned char *tp = take(c, z->ntypes * 6);
    const unsigned char *cp = take(c, z->nchars);
    memcpy(z->chars, cp, z->nchars);
    z->chars[z->nchars] = '\0';
    for (size_t i = 0; i < z->ntypes; i++, tp += 6) {
        int32_t off = (int32_t)be32(tp);
        if (off < OFF_MIN || off > OFF_MAX || tp[4] > 1 || tp[5] >= z->nchars)
            return h2h_err_set(err, H2H_EPARSE,
                               "%s: local time type %zu out of range", path, i);
        /* The designation must end inside the table. */
        if (!memchr(z->chars + tp[5], '\0', z->nchars - tp[5]))
            return h2h_err_set(err, H2H_EPARSE,
                               "%s: unterminated time zone designation", path);
        z->types[i].utoff = off;
        z->types[i].isdst = tp[4];
        z->types[i].abbr = tp[5];
    }
    /* Standard/wall and UT/local indicators only matter for POSIX TZ
     * strings without rules, which this reader refuses. */
    take(c, h->isstdcnt + h->isutcnt);
    return 0;
}

static int parse_tzif(const unsigned char *buf, size_t len, struct tz *z,
                      const char *path, struct h2h_err *err)
{
    struct cur c = {buf, len};
    struct hdr h;
    int rc = parse_header(&c, &h, path, err);
    if (rc < 0)
        return rc;
    if (h.version == '\0')
        return parse_block(&c, &h, 4, z, path, err);
    /* Version 2+: skip the 32-bit block, whose counts writers may leave
     * at zero, and read the 64-bit one and the footer. */
    if (!take(&c, block_size(&h, 4)))
        return h2h_err_set(err, H2H_EPARSE, "%s: TZif file truncated", path);
    rc = parse_header(&c, &h, path, err);
    if (rc < 0)
        return rc;
    rc = parse_block(&c, &h, 8, z, path, err);
    if (rc < 0)
        return rc;
    const unsigned char *nl = take(&c, 1);
    if (!nl || *nl != '\n')
        return h2h_err_set(err, H2H_EPARSE, "%s: TZif footer missing", path);
    const unsigned char *end = memchr(c.p, '\n', c.left);
    if (!end)
        return h2h_err_set(err, H2H_EPARSE, "%s: TZif footer unterminated",
                           path);
    size_t flen = (size_t)(end - c.p);
    if (flen == 0)
        return 0; /* no rules after the last transition */
    char tzs[128];
    if (flen >= sizeof(tzs) || memchr(c.p, '\0', flen))
        return h2h_err_set(err, H2H_EPARSE, "%s: TZif footer too long", path);
    memcpy(tzs, c.p, flen);
    tzs[flen] = '\0';
    if (parse_posix(tzs, &z->ft) < 0)
        return h2h_err_set(err, H2H_EPARSE, "%s: bad TZ string \"%s\"", path,
                           tzs);
    z->has_footer = 1;
    return 0;
}

/* ---- loading --------------------------------------------------------- */

/* "UTC", "+08:00", "-05:30": 1 if name is one (filled in), else 0. */
static int fixed_offset(const char *name, int32_t *off)
{
    if (strcmp(name, "UTC") == 0) {
        *off = 0;
        return 1;
    }
    if (strlen(name) != 6 || (name[0] != '+' && name[0] != '-') ||
        !is_digit(name[1]) || !is_digit(name[2]) || name[3] != ':' ||
        !is_digit(name[4]) || !is_digit(name[5]))
        return 0;
    int hh = (name[1] - '0') * 10 + (name[2] - '0');
    int mm = (name[4] - '0') * 10 + (name[5] - '0');
    if (hh > 18 || mm > 59 || (hh == 18 && mm > 0))
        return -1;
    *off = (name[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return 1;
}

static int check_name(const char *name, struct h2h_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > TZ_NAME_MAX)
        return h2h_err_set(err, H2H_EINVALID,
                           "time zone name empty or "
                           "too long");
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!is_alpha(ch) && !is_digit(ch) && ch != '_' && ch != '+' &&
            ch != '-' && ch != '/')
            return h2h_err_set(err, H2H_EINVALID,
                               "time zone name \"%s\": character not in "
                               "[A-Za-z0-9_+-/]",
                               name);
        if (ch == '/' && (i == 0 || i == n - 1 || name[i + 1] == '/'))
            return h2h_err_set(err, H2H_EINVALID,
                               "time zone name \"%s\": empty path component",
                               name);
    }
    return 0;
}

static int read_whole(const char *path, unsigned char **out, size_t *len,
                      struct h2h_err *err)
{
    char *buf = NULL;
    int rc = fsu_read_file(path, TZ_FILE_MAX, &buf, len, err);
    /* a folder or device where a zone should be: no such zone */
    if (rc == H2H_ENOTFOUND || rc == H2H_EINVALID)
        return h2h_err_set(err, H2H_ENOTFOUND, "%s: %s", path,
                           rc == H2H_ENOTFOUND ? "no such time zone"
                                               : "not a time zone file");
    *out = (unsigned char *)buf;
    return rc;
}

void tz_free(struct tz *z)
{
    if (!z)
        return;
    free(z->name);
    free(z->at);
    free(z->idx);
    free(z->types);
    free(z->chars);
    free(z);
}

int tz_load_dir(const char *dir, const char *name, struct tz **out,
                struct h2h_err *err)
{
    int rc = 0;
    unsigned char *buf = NULL;
    struct tz *z = calloc(1, sizeof(*z));
    if (!z)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    z->name = strdup(name ? name : "");
    if (!z->name) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }

    int32_t off;
    int fixed = name ? fixed_offset(name, &off) : 0;
    if (fixed < 0) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "time zone \"%s\": offset beyond +-18:00", name);
        goto out;
    }
    if (fixed) {
        /* One local time type, no transitions, no footer. */
        z->ntypes = 1;
        z->nchars = strlen(name) + 1;
        z->types = calloc(1, sizeof(*z->types));
        z->chars = strdup(name);
        if (!z->types || !z->chars) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        z->types[0].utoff = off;
        goto out;
    }

    rc = check_name(name ? name : "", err);
    if (rc < 0)
        goto out;
    char path[4096];
    int pn =
        snprintf(path, sizeof(path), "%s/%s", dir ? dir : TZ_DEFAULT_DIR, name);
    if (pn < 0 || (size_t)pn >= sizeof(path)) {
        rc = h2h_err_set(err, H2H_EINVALID, "time zone path too long");
        goto out;
    }
    size_t len = 0;
    rc = read_whole(path, &buf, &len, err);
    if (rc < 0)
        goto out;
    rc = parse_tzif(buf, len, z, path, err);
out:
    free(buf);
    if (rc < 0) {
        tz_free(z);
        return rc;
    }
    *out = z;
    return 0;
}

int tz_load(const char *name, struct tz **out, struct h2h_err *err)
{
    return tz_load_dir(NULL, name, out, err);
}
