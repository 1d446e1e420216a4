/*
 * cx_msg.c - the bytes of the cnbank_xml adapter: requests built from the
 * profile and the values (checked, DOM, serialised in the bank's
 * encoding, signed) and answers read (bank signature, decoding, hardened
 * parse, root, echo, return code, results).  PROFILE.md is the contract
 * for every byte; the section names below are its headings.
 *
 * Why the detours:
 *  - A request is serialised by libxml2 as UTF-8 and the whole text is
 *    then converted by iconv (fmt_from_utf8), not by libxml2's encoder:
 *    libxml2 writes a character its encoder cannot represent as a
 *    character reference, which a bank takes literally ("&#8364;" as part
 *    of a payee name).  Every value is checked first so that the error
 *    names the token; the conversion of the whole text is the fail-closed
 *    backstop (for literal text of the profile).
 *  - An answer is decoded by iconv (fmt_to_utf8) before libxml2 sees it
 *    and is parsed as UTF-8: libxml2 decodes with whatever the declaration
 *    names and only warns about some undecodable bytes; here the
 *    declaration must name the profile's encoding and one bad byte makes
 *    the answer unusable.
 *  - The element signature is inserted into and cut out of the bytes,
 *    never re-serialised, so that the signed bytes are exact.
 *
 * Threads: the thread pool.  Only the arguments are touched (the profile
 * is read-only) and every libxml2 tree is private to one call.
 */
#include "cx_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "charset.h"

#define NAME_MAX_LEN 128  /* one element or attribute name of a path */
#define REQUEST_ID_MAX 30 /* PROFILE.md "Tokens" */
#define PAGE_TOKEN_MAX 64 /* PROFILE.md "Paging": a continuation token */
#define FAM_ID_MAX 64     /* ids and references of the families */
#define K(k) CX_BIT(k)

/* ---- a growing string ------------------------------------------------- */

struct sb {
    char *p;
    size_t len, cap;
    int oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->len + n + 1)
            c *= 2;
        char *np = realloc(b->p, c);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = c;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* ---- text --------------------------------------------------------------- */

/* The code point at s[0..n) in *cp and its length; 0 when the bytes are
 * not UTF-8 (truncated, overlong, a surrogate, past U+10FFFF). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t k;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        k = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        k = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        k = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return k;
}

/* White space as the bank strips it (the simulator uses Python's
 * str.strip(), i.e. Unicode's White_Space); the controls among them are
 * refused anyway. */
static int is_blank(uint32_t c)
{
    return c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static int all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* [A-Za-z0-9-]{1,max}: serials and request ids. */
static int id_chars(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

static int alnum_chars(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* A positive decimal without leading zeros, at most 9 digits. */
static long small_number(const char *s)
{
    if (!all_digits(s, 1, 9) || s[0] == '0')
        return -1;
    return strtol(s, NULL, 10);
}

/* ---- dates and times ---------------------------------------------------- */

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Fields of a date_format / time_format text (%Y %m %d %H %M %S %%, any
 * other character literal; PROFILE.md "Top-level settings").  f[] gets
 * Y m d H M S (-1 when the format lacks one).  0, or -1 when s does not
 * have the form. */
static int parse_fmt(const char *fmt, const char *s, int f[6])
{
    static const char dir[] = "YmdHMS";
    for (int i = 0; i < 6; i++)
        f[i] = -1;
    while (*fmt) {
        if (*fmt != '%') {
            if (*s != *fmt)
                return -1;
            s++;
            fmt++;
            continue;
        }
        char d = fmt[1];
        if (d == '%') {
            if (*s != '%')
                return -1;
            s++;
            fmt += 2;
            continue;
        }
        const char *w = d ? strchr(dir, d) : NULL;
        if (!w)
            return -1;
        int width = d == 'Y' ? 4 : 2, v = 0;
        for (int i = 0; i < width; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v = v * 10 + (s[i] - '0');
        }
        f[w - dir] = v;
        s += width;
        fmt += 2;
    }
    return *s ? -1 : 0;
}

/* fmt with tm's fields into buf (always terminated when n > 0). */
static void format_fmt(const char *fmt, int y, int mo, int d, int h, int mi,
                       int se, char *buf, size_t n)
{
    struct sb b = {0};
    char tmp[16];
    for (const char *c = fmt ? fmt : ""; *c; c++) {
        if (*c != '%' || !c[1]) {
            sb_add(&b, c, 1);
            continue;
        }
        c++;
        switch (*c) {
        case 'Y': snprintf(tmp, sizeof(tmp), "%04d", y); break;
        case 'm': snprintf(tmp, sizeof(tmp), "%02d", mo); break;
        case 'd': snprintf(tmp, sizeof(tmp), "%02d", d); break;
        case 'H': snprintf(tmp, sizeof(tmp), "%02d", h); break;
        case 'M': snprintf(tmp, sizeof(tmp), "%02d", mi); break;
        case 'S': snprintf(tmp, sizeof(tmp), "%02d", se); break;
        default: tmp[0] = *c, tmp[1] = '\0'; break;
        }
        sb_str(&b, tmp);
    }
    if (n) {
        snprintf(buf, n, "%s", b.p && !b.oom ? b.p : "");
    }
    free(b.p);
}

/* A date in the profile's format -> days since the epoch; 0 or -1. */
static int date_days(const struct cx_profile *p, const char *s, long *days)
{
    int f[6];
    if (parse_fmt(p->date_format, s, f) != 0 || f[0] < 0 || f[1] < 1 ||
        f[1] > 12 || f[2] < 1 || f[2] > days_in_month(f[0], f[1]))
        return -1;
    *days = days_from_civil(f[0], f[1], f[2]);
    return 0;
}

/* "YYYY-MM-DD"; the fields are in range already, the modulo only tells
 * the compiler that they fit. */
static void put_iso(char out[11], int y, int m, int d)
{
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u,
             (unsigned)m % 100u, (unsigned)d % 100u);
}

static struct tm bank_tm(const struct cx_profile *p, long days_offset)
{
    time_t t = time(NULL) + (time_t)p->utc_offset_min * 60 +
               (time_t)days_offset * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm;
}

void cx_bank_now(const struct cx_profile *p, char *date, size_t dn,
                 char *time_buf, size_t tn)
{
    struct tm tm = bank_tm(p, 0);
    if (date)
        format_fmt(p->date_format, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                   0, 0, 0, date, dn);
    if (time_buf)
        format_fmt(p->time_format, 0, 0, 0, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   time_buf, tn);
}

void cx_bank_today(const struct cx_profile *p, int days_offset, char out[11])
{
    struct tm tm = bank_tm(p, days_offset);
    put_iso(out, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int cx_date_to_iso(const struct cx_profile *p, const char *s, char out[11],
                   struct h2h_err *err)
{
    int f[6];
    if (!s || parse_fmt(p->date_format, s, f) != 0 || f[0] < 0 || f[1] < 1 ||
        f[1] > 12 || f[2] < 1 || f[2] > days_in_month(f[0], f[1]))
        return h2h_err_set(err, H2H_EINVALID, "\"%.40s\" is not a date in %s",
                           s ? s : "", p->date_format);
    put_iso(out, f[0], f[1], f[2]);
    return 0;
}

void cx_date_format(const struct cx_profile *p, const char *iso, char *buf,
                    size_t n)
{
    int f[6];
    if (!iso || parse_fmt("%Y-%m-%d", iso, f) != 0) {
        if (n)
            buf[0] = '\0';
        return;
    }
    format_fmt(p->date_format, f[0], f[1], f[2], 0, 0, 0, buf, n);
}

/* ---- amounts ------------------------------------------------------------ */

int cx_amount_to_minor(const struct cx_profile *p, const char *s,
                       int64_t *minor, struct h2h_err *err)
{
    const char *unit =
        p->amount_fen ? "fen (like 123450)" : "yuan (like 1234.50)";
    if (!s)
        return h2h_err_set(err, H2H_EINVALID, "no amount");
    size_t n = strlen(s), ip = n;
    if (!p->amount_fen) {
        /* (0|[1-9][0-9]*)\.[0-9]{2}: exactly two decimals, no sign, no
         * separators (PROFILE.md "Top-level settings") */
        if (n < 4 || s[n - 3] != '.')
            goto bad;
        ip = n - 3;
        if (s[n - 2] < '0' || s[n - 2] > '9' || s[n - 1] < '0' ||
            s[n - 1] > '9')
            goto bad;
    }
    /* fen: 0|[1-9][0-9]* ("0" only for a zero balance in an answer) */
    if (ip < 1 || ip > (p->amount_fen ? 18u : 16u) || (s[0] == '0' && ip > 1))
        goto bad;
    int64_t v = 0;
    for (size_t i = 0; i < ip; i++) {
        if (s[i] < '0' || s[i] > '9')
            goto bad;
        v = v * 10 + (s[i] - '0');
    }
    if (!p->amount_fen)
        v = v * 100 + (s[n - 2] - '0') * 10 + (s[n - 1] - '0');
    *minor = v;
    return 0;
bad:
    return h2h_err_set(err, H2H_EINVALID, "amount \"%.40s\" is not in %s", s,
                       unit);
}

void cx_amount_format(const struct cx_profile *p, int64_t minor, char *buf,
                      size_t n)
{
    /* unsigned: -INT64_MIN does not fit an int64_t */
    uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    const char *sign = minor < 0 ? "-" : "";
    if (p->amount_fen)
        snprintf(buf, n, "%s%llu", sign, (unsigned long long)m);
    else
        snprintf(buf, n, "%s%llu.%02llu", sign, (unsigned long long)(m / 100),
                 (unsigned long long)(m % 100));
}

/* ---- tokens ------------------------------------------------------------- */

static int tok_of(const char *name, size_t n)
{
    for (int t = 0; t < CX_T_N; t++) {
        const char *s = cx_tok_name((enum cx_tok)t);
        if (s && strlen(s) == n && !memcmp(s, name, n))
            return t;
    }
    return -1;
}

/* Tokens a payroll item takes from its own cx_vals (the others, {login}
 * {date} ..., from the request's). */
static int is_item_tok(enum cx_fn fn, int t)
{
    if (fn == CX_FN_SCF_FINANCING)
        return t == CX_T_ITEM_NO ||
               (t >= CX_T_INVOICE_NO && t <= CX_T_SELLER_ACCOUNT);
    return t == CX_T_ITEM_NO || t == CX_T_CREDITOR_ACCOUNT ||
           t == CX_T_CREDITOR_NAME || t == CX_T_CREDITOR_BANK ||
           t == CX_T_AMOUNT || t == CX_T_REMITTANCE;
}

/* The value of token t, NULL when not given.  Tokens that PROFILE.md
 * allows to be empty (creditor bank, remittance, the first page of token
 * paging) are "" when not given: absent and empty mean the same there. */
static const char *tok_val(const struct cx_profile *p, enum cx_fn fn,
                           const struct cx_vals *vals,
                           const struct cx_vals *item, int t)
{
    if (t == CX_T_FUNCTION)
        return p->fn[fn].code;
    const char *v = item && is_item_tok(fn, t) ? item->v[t] : vals->v[t];
    if (!v &&
        (t == CX_T_CREDITOR_BANK || t == CX_T_REMITTANCE || t >= CX_T_FAMILY ||
         (t == CX_T_PAGE && p->paging == CX_PAGING_TOKEN)))
        v = "";
    /* in the families a value that does not apply is empty (PROFILE.md
     * "New tokens"); which ones an operation needs, its reader decides */
    if (!v && fn >= CX_FN_CORE && t != CX_T_SERIAL)
        v = "";
    return v;
}

/* Mark the tokens of tmpl in used[] (unknown ones are refused when the
 * template is expanded). */
static void scan_tokens(const char *tmpl, unsigned char used[CX_T_N])
{
    for (const char *s = tmpl; s && (s = strchr(s, '{')) != NULL;) {
        const char *e = strchr(s + 1, '}');
        if (!e)
            return;
        int t = tok_of(s + 1, (size_t)(e - s - 1));
        if (t >= 0)
            used[t] = 1;
        s = e + 1;
    }
}

static int expand(const struct cx_profile *p, enum cx_fn fn,
                  const struct cx_vals *vals, const struct cx_vals *item,
                  const char *tmpl, char **out, struct h2h_err *err)
{
    struct sb b = {0};
    const char *s = tmpl ? tmpl : "";
    *out = NULL;
    while (*s) {
        const char *o = strchr(s, '{');
        if (!o) {
            sb_str(&b, s);
            break;
        }
        sb_add(&b, s, (size_t)(o - s));
        const char *c = strchr(o + 1, '}');
        int t = c ? tok_of(o + 1, (size_t)(c - o - 1)) : -1;
        if (t < 0) {
            free(b.p);
            return h2h_err_set(err, H2H_EINVALID,
                               "template \"%.80s\": unknown token", tmpl);
        }
        const char *v = tok_val(p, fn, vals, item, t);
        if (!v) {
            free(b.p);
            return h2h_err_set(err, H2H_EINVALID,
                               "{%s}: missing (function %s uses it)",
                               cx_tok_name((enum cx_tok)t), cx_fn_name(fn));
        }
        sb_str(&b, v);
        s = c + 1;
    }
    sb_add(&b, "", 0);
    if (b.oom) {
        free(b.p);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    *out = b.p;
    return 0;
}

/* The template of a header entry for function f (its override, if any). */
static const char *header_tmpl(const struct cx_function *f,
                               const struct cx_entry *e)
{
    for (size_t i = 0; i < f->n_header; i++)
        if (!strcmp(f->header[i].path, e->path))
            return f->header[i].tmpl;
    return e->tmpl;
}

/* ---- value checks (PROFILE.md "Tokens", "Text") ------------------------- */

static int bad(struct h2h_err *err, const char *where, int t, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

static int bad(struct h2h_err *err, const char *where, int t, const char *fmt,
               ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return h2h_err_set(err, H2H_EINVALID, "%s{%s}: %s", where,
                       cx_tok_name((enum cx_tok)t), msg);
}

/*
 * Characters that iconv encodes but that a bank may read as another
 * character or not at all, because the charset's editions disagree
 * (measured over all of Unicode: glibc follows CP936 for GBK and
 * GB18030-2005 for GB18030; GBK proper, Java and Python, the simulator's
 * bank, lack U+20AC in GBK and use GB18030-2000's forms).  They count as
 * characters the encoding cannot write: a payee name must arrive as meant.
 */
static int edition_dependent(const char *enc, uint32_t c)
{
    if (!strcasecmp(enc, "GBK"))
        return c == 0x20AC;
    if (!strcasecmp(enc, "GB18030"))
        return c == 0x1E3F || (c >= 0x9FB4 && c <= 0x9FBB) ||
               (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xFE10 && c <= 0xFE19) ||
               c == 0x20087 || c == 0x20089 || c == 0x200CC || c == 0x215D7 ||
               c == 0x2298F || c == 0x241FE;
    return 0;
}

/* The first edition-dependent character of valid UTF-8 s[0..n), or 0. */
static uint32_t first_edition_dependent(const char *enc, const char *s,
                                        size_t n)
{
    uint32_t cp;
    for (size_t i = 0, k; i < n; i += k) {
        k = utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (!k)
            return 0;
        if (edition_dependent(enc, cp))
            return cp;
    }
    return 0;
}

/* Characters every value must meet: UTF-8, no control characters, no
 * blank at either end, and writable in the profile's encoding.  *chars
 * gets the number of characters. */
static int check_chars(const struct cx_profile *p, const char *where, int t,
                       const char *v, size_t *chars, struct h2h_err *err)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t n = strlen(v), i = 0, nc = 0, k;
    uint32_t cp = 0, first = 0;
    while (i < n) {
        k = utf8_next(s + i, n - i, &cp);
        if (!k)
            return bad(err, where, t, "not valid UTF-8 at byte %zu", i);
        if (cp < 0x20 || cp == 0x7F)
            return bad(err, where, t, "control character U+%04X", cp);
        if (nc++ == 0)
            first = cp;
        i += k;
    }
    if (nc && (is_blank(first) || is_blank(cp)))
        return bad(err, where, t, "leading or trailing blank");
    uint32_t ed = first_edition_dependent(p->encoding, v, n);
    if (ed)
        return bad(err, where, t, "character U+%04X cannot be written in %s",
                   ed, p->encoding);
    char *conv = NULL;
    struct h2h_err e2;
    h2h_err_clear(&e2);
    if (fmt_from_utf8(p->encoding, v, n, &conv, NULL, &e2) == 0) {
        free(conv);
        *chars = nc;
        return 0;
    }
    if (e2.code == H2H_ENOMEM)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    /* Name the character, not a byte offset: the operator fixes text. */
    for (i = 0; i < n; i += k) {
        k = utf8_next(s + i, n - i, &cp);
        char *one = NULL;
        int rc = fmt_from_utf8(p->encoding, v + i, k, &one, NULL, NULL);
        free(one);
        if (rc != 0)
            return bad(err, where, t,
                       "character U+%04X cannot be written in %s", cp,
                       p->encoding);
    }
    return bad(err, where, t, "%s", e2.msg);
}

/* limits.* count characters, as the bank does. */
static int check_text(const char *where, int t, size_t chars, int limit,
                      int may_be_empty, struct h2h_err *err)
{
    if (!chars && !may_be_empty)
        return bad(err, where, t, "empty");
    if (limit > 0 && chars > (size_t)limit)
        return bad(err, where, t, "%zu characters, at most %d", chars, limit);
    return 0;
}

/* Show a short ASCII value in a message; longer or other text is left
 * out (it may be a name, and a cut could split a character). */
static const char *shown(const char *v, char *buf, size_t n)
{
    size_t l = strlen(v);
    for (size_t i = 0; i < l; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7E)
            l = SIZE_MAX;
    if (l > 40)
        snprintf(buf, n, "the value");
    else
        snprintf(buf, n, "\"%s\"", v);
    return buf;
}

static int check_value(const struct cx_profile *p, const char *where, int t,
                       const char *v, struct h2h_err *err)
{
    char sh[64];
    size_t nc = 0;
    int rc = check_chars(p, where, t, v, &nc, err);
    if (rc)
        return rc;
    int64_t m;
    long day;
    int f[6];
    switch (t) {
    case CX_T_FUNCTION: return 0;
    case CX_T_LOGIN:
    case CX_T_USER:
    case CX_T_RECEIPT_ID: return nc ? 0 : bad(err, where, t, "empty");
    case CX_T_REQUEST_ID:
        if (!id_chars(v, REQUEST_ID_MAX))
            return bad(err, where, t, "%s: 1..%d of A-Z a-z 0-9 -",
                       shown(v, sh, sizeof(sh)), REQUEST_ID_MAX);
        return 0;
    case CX_T_SERIAL:
        if (!id_chars(v, (size_t)p->limits.serial))
            return bad(err, where, t, "%s: 1..%d of A-Z a-z 0-9 -",
                       shown(v, sh, sizeof(sh)), p->limits.serial);
        return 0;
    case CX_T_DEBTOR_ACCOUNT:
    case CX_T_CREDITOR_ACCOUNT:
    case CX_T_ACCOUNT:
    case CX_T_OUR_ACCOUNT:
    case CX_T_CPTY_ACCOUNT:
    case CX_T_ACCEPTOR_ACCOUNT:
    case CX_T_PAYEE_ACCOUNT:
    case CX_T_SELLER_ACCOUNT:
        if (!all_digits(v, 10, 30))
            return bad(err, where, t, "%s: an account is 10..30 digits",
                       shown(v, sh, sizeof(sh)));
        return 0;
    case CX_T_DEBTOR_NAME:
    case CX_T_CREDITOR_NAME:
    case CX_T_CPTY_NAME:
    case CX_T_ACCEPTOR_NAME:
    case CX_T_PAYEE_NAME:
    case CX_T_BUYER_NAME:
    case CX_T_SELLER_NAME:
        return check_text(where, t, nc, p->limits.name, 0, err);
    case CX_T_CREDITOR_BANK:
        return check_text(where, t, nc, p->limits.bank_name, 1, err);
    case CX_T_REMITTANCE:
    case CX_T_REASON:
    case CX_T_MEMO:
        return check_text(where, t, nc, p->limits.remittance, 1, err);
    case CX_T_ORIG_SERIAL:
        if (!id_chars(v, (size_t)p->limits.serial))
            return bad(err, where, t, "%s: 1..%d of A-Z a-z 0-9 -",
                       shown(v, sh, sizeof(sh)), p->limits.serial);
        return 0;
    case CX_T_CPTY_BANK:
    case CX_T_ACCEPTOR_BANK:
    case CX_T_PAYEE_BANK:
        if (!all_digits(v, 12, 12))
            return bad(err, where, t, "%s: a bank code (CNAPS) is 12 digits",
                       shown(v, sh, sizeof(sh)));
        return 0;
    case CX_T_DRAFT_NO:
        if (!all_digits(v, 30, 30))
            return bad(err, where, t, "%s: a draft number is 30 digits",
                       shown(v, sh, sizeof(sh)));
        return 0;
    case CX_T_SUB_FROM:
    case CX_T_SUB_TO:
        if (!all_digits(v, 1, 15) || v[0] == '0')
            return bad(err, where, t, "%s: a sub-ticket number from 1",
                       shown(v, sh, sizeof(sh)));
        return 0;
    case CX_T_ISSUE_DATE:
    case CX_T_MATURITY_DATE:
    case CX_T_OP_DATE:
    case CX_T_VALUE_DATE:
    case CX_T_INVOICE_ISSUE_DATE:
    case CX_T_INVOICE_DUE_DATE:
    case CX_T_MATURITY_FROM:
    case CX_T_MATURITY_TO:
        if (date_days(p, v, &day) != 0)
            return bad(err, where, t, "%s is not a date in %s",
                       shown(v, sh, sizeof(sh)), p->date_format);
        return 0;
    case CX_T_RATE: {
        size_t ip = strspn(v, "0123456789"), fp = 0;
        if (v[ip] == '.')
            fp = strspn(v + ip + 1, "0123456789");
        if (ip == 0 || ip > 6 ||
            (v[ip] && (v[ip] != '.' || fp < 1 || fp > 4 || v[ip + 1 + fp])))
            return bad(err, where, t,
                       "%s: a rate in percent with 1 to 4 decimals "
                       "(like 2.35)",
                       shown(v, sh, sizeof(sh)));
        return 0;
    }
    case CX_T_POOL_ID:
    case CX_T_NOTICE_ID:
    case CX_T_VOUCHER_ID:
    case CX_T_PRODUCT:
    case CX_T_AGREEMENT_REF:
    case CX_T_CONTRACT_REF:
    case CX_T_INVOICE_NO:
    case CX_T_TAX_CODE: return check_text(where, t, nc, FAM_ID_MAX, 0, err);
    case CX_T_AMOUNT:
    case CX_T_TOTAL:
    case CX_T_INVOICE_AMOUNT:
        if (cx_amount_to_minor(p, v, &m, NULL) != 0 || m <= 0)
            return bad(err, where, t, "%s: an amount above zero in %s",
                       shown(v, sh, sizeof(sh)),
                       p->amount_fen ? "fen (like 123450)"
                                     : "yuan (like 1234.50)");
        return 0;
    case CX_T_CURRENCY:
        if (!cx_ccy_bank(p, v))
            return bad(err, where, t, "%s is not in currency_codes",
                       shown(v, sh, sizeof(sh)));
        return 0;
    case CX_T_CURRENCY_CODE:
        if (!cx_ccy_iso(p, v))
            return bad(err, where, t, "%s is not in currency_codes",
                       shown(v, sh, sizeof(sh)));
        return 0;
    case CX_T_COUNT:
    case CX_T_ITEM_NO:
        if (small_number(v) < 1)
            return bad(err, where, t, "%s: a number from 1",
                       shown(v, sh, sizeof(sh)));
        return 0;
    case CX_T_DATE: {
        if (date_days(p, v, &day) != 0)
            return bad(err, where, t, "%s is not a date in %s",
                       shown(v, sh, sizeof(sh)), p->date_format);
        char today[11];
        int g[6];
        cx_bank_today(p, 0, today);
        parse_fmt("%Y-%m-%d", today, g);
        long d0 = days_from_civil(g[0], g[1], g[2]);
        if (day < d0 - 1 || day > d0 + 1)
            return bad(err, where, t, "%s is not the bank's date (%s)",
                       shown(v, sh, sizeof(sh)), today);
        return 0;
    }
    case CX_T_TIME:
        if (parse_fmt(p->time_format, v, f) != 0 || f[3] > 23 || f[4] > 59 ||
            f[5] > 59)
            return bad(err, where, t, "%s is not a time in %s",
                       shown(v, sh, sizeof(sh)), p->time_format);
        return 0;
    case CX_T_FROM:
    case CX_T_TO:
        if (date_days(p, v, &day) != 0)
            return bad(err, where, t, "%s is not a date in %s",
                       shown(v, sh, sizeof(sh)), p->date_format);
        return 0;
    case CX_T_PAGE:
        if (p->paging == CX_PAGING_TOKEN) {
            if (*v && !alnum_chars(v, PAGE_TOKEN_MAX))
                return bad(err, where, t,
                           "%s: a continuation token is at most %d of "
                           "A-Z a-z 0-9 (empty for the first page)",
                           shown(v, sh, sizeof(sh)), PAGE_TOKEN_MAX);
        } else if (!all_digits(v, 1, 9) || (v[0] == '0' && v[1]) ||
                   strtol(v, NULL, 10) < p->page_first) {
            return bad(err, where, t, "%s: a page number from %ld",
                       shown(v, sh, sizeof(sh)), p->page_first);
        }
        return 0;
    default: return 0;
    }
}

/* Every value the request will carry, before anything is built: each
 * token alone, then the rules between tokens. */
static int check_all(const struct cx_profile *p, enum cx_fn fn,
                     const struct cx_vals *vals, const struct cx_vals *items,
                     size_t n_items, struct h2h_err *err)
{
    const struct cx_function *f = &p->fn[fn];
    unsigned char used[CX_T_N] = {0}, item_used[CX_T_N] = {0};
    for (size_t i = 0; i < p->n_header; i++)
        scan_tokens(header_tmpl(f, &p->header[i]), used);
    for (size_t i = 0; i < f->n_request; i++)
        scan_tokens(f->request[i].tmpl, used);
    if (n_items) {
        unsigned char u[CX_T_N] = {0};
        for (size_t i = 0; i < f->n_item; i++)
            scan_tokens(f->item[i].tmpl, u);
        for (int t = 0; t < CX_T_N; t++) {
            if (u[t] && is_item_tok(fn, t))
                item_used[t] = 1;
            else if (u[t])
                used[t] = 1;
        }
    }
    int rc;
    for (int t = 0; t < CX_T_N; t++) {
        if (!used[t])
            continue;
        const char *v = tok_val(p, fn, vals, NULL, t);
        if (!v)
            return bad(err, "", t, "missing (function %s uses it)",
                       cx_fn_name(fn));
        if (!*v && fn >= CX_FN_CORE && t > CX_T_SERIAL)
            continue; /* does not apply to this operation */
        if ((rc = check_value(p, "", t, v, err)) != 0)
            return rc;
    }
    const char *dacc =
        used[CX_T_DEBTOR_ACCOUNT] ? vals->v[CX_T_DEBTOR_ACCOUNT] : NULL;
    /* the items' amount: a payroll item's, or an invoice's */
    int amt = fn == CX_FN_SCF_FINANCING ? CX_T_INVOICE_AMOUNT : CX_T_AMOUNT;
    int64_t sum = 0;
    for (size_t i = 0; i < n_items; i++) {
        char where[40];
        snprintf(where, sizeof(where), "item %zu: ", i + 1);
        for (int t = 0; t < CX_T_N; t++) {
            if (!item_used[t])
                continue;
            const char *v = tok_val(p, fn, vals, &items[i], t);
            if (!v)
                return bad(err, where, t, "missing (function %s uses it)",
                           cx_fn_name(fn));
            if (!*v && fn >= CX_FN_CORE)
                continue;
            if ((rc = check_value(p, where, t, v, err)) != 0)
                return rc;
        }
        const struct cx_vals *it = &items[i];
        if (item_used[CX_T_ITEM_NO] &&
            small_number(it->v[CX_T_ITEM_NO]) != (long)(i + 1))
            return bad(err, where, CX_T_ITEM_NO,
                       "is %s, items are numbered 1, 2, ... in order",
                       it->v[CX_T_ITEM_NO]);
        if (item_used[CX_T_CREDITOR_ACCOUNT] && dacc &&
            !strcmp(dacc, it->v[CX_T_CREDITOR_ACCOUNT]))
            return bad(err, where, CX_T_CREDITOR_ACCOUNT,
                       "the same account as {debtor_account}");
        int64_t m = 0;
        if (item_used[amt]) {
            cx_amount_to_minor(p, it->v[amt], &m, NULL);
            if (m > INT64_MAX - sum)
                return bad(err, where, amt, "the total overflows");
            sum += m;
        }
    }
    if (used[CX_T_DEBTOR_ACCOUNT] && used[CX_T_CREDITOR_ACCOUNT] &&
        !strcmp(vals->v[CX_T_DEBTOR_ACCOUNT], vals->v[CX_T_CREDITOR_ACCOUNT]))
        return bad(err, "", CX_T_CREDITOR_ACCOUNT,
                   "the same account as {debtor_account}");
    if (used[CX_T_CURRENCY] && used[CX_T_CURRENCY_CODE]) {
        const char *code = cx_ccy_bank(p, vals->v[CX_T_CURRENCY]);
        if (!code || strcmp(code, vals->v[CX_T_CURRENCY_CODE]))
            return bad(err, "", CX_T_CURRENCY_CODE,
                       "%s is not the code of {currency} %s",
                       vals->v[CX_T_CURRENCY_CODE], vals->v[CX_T_CURRENCY]);
    }
    if (used[CX_T_COUNT] && small_number(vals->v[CX_T_COUNT]) != (long)n_items)
        return bad(err, "", CX_T_COUNT, "is %s but there are %zu items",
                   vals->v[CX_T_COUNT], n_items);
    if (used[CX_T_TOTAL] && n_items && item_used[amt]) {
        int64_t tot = 0;
        cx_amount_to_minor(p, vals->v[CX_T_TOTAL], &tot, NULL);
        if (tot != sum) {
            char s[32];
            cx_amount_format(p, sum, s, sizeof(s));
            return bad(err, "", CX_T_TOTAL, "is %s but the items add up to %s",
                       vals->v[CX_T_TOTAL], s);
        }
    }
    if (used[CX_T_FROM] && used[CX_T_TO]) {
        long a = 0, b = 0;
        date_days(p, vals->v[CX_T_FROM], &a);
        date_days(p, vals->v[CX_T_TO], &b);
        if (a > b || b - a > 366)
            return bad(err, "", CX_T_TO,
                       "the range %s..%s must run forward over at most 366 "
                       "days",
                       vals->v[CX_T_FROM], vals->v[CX_T_TO]);
    }
    return 0;
}

/* ---- the tree ----------------------------------------------------------- */

static xmlNodePtr first_child(xmlNodePtr el, const char *name)
{
    for (xmlNodePtr c = el ? el->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !c->ns &&
            !strcmp((const char *)c->name, name))
            return c;
    return NULL;
}

/*
 * The element at path below base, and in attr the name of a last "@name"
 * part ("" when there is none).  With create, missing elements are
 * appended, so that paths sharing a prefix share its elements
 * (PROFILE.md "Paths"); without, the first element of each name counts.
 * 0 with *el set (NULL when absent and not created), or an error.
 */
static int walk(xmlNodePtr base, const char *path, int create, xmlNodePtr *el,
                char attr[NAME_MAX_LEN + 1], struct h2h_err *err)
{
    xmlNodePtr cur = base;
    attr[0] = '\0';
    *el = NULL;
    for (const char *s = path ? path : ""; *s && cur;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || n > NAME_MAX_LEN || (s[0] == '@' && (e || n < 2)))
            return h2h_err_set(err, H2H_EINVALID, "bad path \"%.200s\"", path);
        if (s[0] == '@') {
            memcpy(attr, s + 1, n - 1);
            attr[n - 1] = '\0';
            break;
        }
        char name[NAME_MAX_LEN + 1];
        memcpy(name, s, n);
        name[n] = '\0';
        xmlNodePtr c = first_child(cur, name);
        if (!c && create) {
            c = xmlNewDocNode(cur->doc, NULL, BAD_CAST name, NULL);
            if (!c || !xmlAddChild(cur, c)) {
                xmlFreeNode(c);
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
            }
        }
        cur = c;
        s = e ? e + 1 : s + n;
    }
    *el = cur;
    return 0;
}

/* Set the text (or attribute) at path below base, creating the path.  An
 * empty value leaves the element empty. */
static int set_at(xmlNodePtr base, const char *path, const char *value,
                  struct h2h_err *err)
{
    char attr[NAME_MAX_LEN + 1];
    xmlNodePtr el;
    int rc = walk(base, path, 1, &el, attr, err);
    if (rc)
        return rc;
    if (attr[0]) {
        /* xmlSetProp stores the value as it is (no entity parsing) */
        if (!xmlSetProp(el, BAD_CAST attr, BAD_CAST value))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return 0;
    }
    if (!*value)
        return 0;
    /* a text node, not xmlNodeSetContent: that one parses "&...;" */
    xmlNodePtr t = xmlNewDocText(el->doc, BAD_CAST value);
    if (!t || !xmlAddChild(el, t)) {
        xmlFreeNode(t);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    return 0;
}

static int put(const struct cx_profile *p, enum cx_fn fn,
               const struct cx_vals *vals, const struct cx_vals *item,
               xmlNodePtr base, const char *path, const char *tmpl,
               struct h2h_err *err)
{
    char *v = NULL;
    int rc = expand(p, fn, vals, item, tmpl, &v, err);
    if (rc == 0)
        rc = set_at(base, path, v, err);
    free(v);
    return rc;
}

/* PROFILE.md "Building a request", steps 1-5. */
static int build_tree(const struct cx_profile *p, enum cx_fn fn,
                      const struct cx_vals *vals, const struct cx_vals *items,
                      size_t n_items, xmlDocPtr *out, struct h2h_err *err)
{
    const struct cx_function *f = &p->fn[fn];
    char attr[NAME_MAX_LEN + 1];
    int rc = 0;
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root =
        doc ? xmlNewDocNode(doc, NULL, BAD_CAST p->root, NULL) : NULL;
    if (!root) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    xmlDocSetRootElement(doc, root);
    /* libxml2 writes non-ASCII in attributes as character references
     * unless the document has an encoding */
    doc->encoding = xmlStrdup(BAD_CAST "UTF-8");
    if (!doc->encoding) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < p->n_header; i++)
        if ((rc = put(p, fn, vals, NULL, root, p->header[i].path,
                      header_tmpl(f, &p->header[i]), err)) != 0)
            goto out;
    xmlNodePtr body;
    if ((rc = walk(root, p->body, 1, &body, attr, err)) != 0)
        goto out;
    for (size_t i = 0; i < f->n_request; i++)
        if ((rc = put(p, fn, vals, NULL, body, f->request[i].path,
                      f->request[i].tmpl, err)) != 0)
            goto out;
    if (n_items) {
        /* the item element's parents once, the item element per item */
        const char *slash = strrchr(f->items, '/');
        const char *last = slash ? slash + 1 : f->items;
        char parent_path[512];
        snprintf(parent_path, sizeof(parent_path), "%.*s",
                 slash ? (int)(slash - f->items) : 0, f->items);
        xmlNodePtr parent;
        if ((rc = walk(body, parent_path, 1, &parent, attr, err)) != 0)
            goto out;
        for (size_t k = 0; k < n_items; k++) {
            xmlNodePtr el = xmlNewDocNode(doc, NULL, BAD_CAST last, NULL);
            if (!el || !xmlAddChild(parent, el)) {
                xmlFreeNode(el);
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                goto out;
            }
            for (size_t i = 0; i < f->n_item; i++)
                if ((rc = put(p, fn, vals, &items[k], el, f->item[i].path,
                              f->item[i].tmpl, err)) != 0)
                    goto out;
        }
    }
    if (p->sig_where == CX_SIG_ELEMENT &&
        (rc = set_at(root, p->sig_element, "", err)) != 0)
        goto out;
    *out = doc;
    doc = NULL;
out:
    if (doc)
        xmlFreeDoc(doc);
    return rc;
}

/* Step 6: the declaration, a line feed, the root; in the encoding. */
static int serialise(const struct cx_profile *p, xmlDocPtr doc, char **out,
                     size_t *out_len, struct h2h_err *err)
{
    int rc = 0;
    struct sb t = {0};
    xmlBufferPtr b = xmlBufferCreate();
    /* NO_EMPTY: the signature element must be <SignData></SignData> */
    xmlSaveCtxtPtr s =
        b ? xmlSaveToBuffer(b, "UTF-8", XML_SAVE_NO_DECL | XML_SAVE_NO_EMPTY)
          : NULL;
    if (!s) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    int w = xmlSaveTree(s, xmlDocGetRootElement(doc));
    if (xmlSaveClose(s) < 0 || w < 0) {
        rc = h2h_err_set(err, H2H_EIO, "request: cannot serialise");
        goto out;
    }
    sb_str(&t, "<?xml version=\"1.0\" encoding=\"");
    sb_str(&t, p->encoding);
    sb_str(&t, "\"?>\n");
    sb_add(&t, (const char *)xmlBufferContent(b), (size_t)xmlBufferLength(b));
    if (t.oom) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    /* the backstop also covers literal text of the profile */
    uint32_t ed = first_edition_dependent(p->encoding, t.p, t.len);
    if (ed) {
        rc = h2h_err_set(err, H2H_ECHARSET,
                         "request: character U+%04X cannot be written in %s",
                         ed, p->encoding);
        goto out;
    }
    rc = fmt_from_utf8(p->encoding, t.p, t.len, out, out_len, err);
    if (rc && rc != H2H_ENOMEM)
        h2h_err_prefix(err, "request in %s", p->encoding);
out:
    free(t.p);
    if (b)
        xmlBufferFree(b);
    return rc;
}

/* ---- the signature element in the bytes (PROFILE.md "Signatures") ------ */

static int name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
           c == ':';
}

/*
 * The text of the signature element (last part of path) in b: [*ts, *te).
 * Its start tag must occur exactly once, written <NAME> (no attributes,
 * not <NAME/>), followed by text without markup and </NAME>.  '<' is
 * never part of a multi-byte character in GBK or GB18030, so a byte search
 * only finds markup.  0 or -1.
 */
static int find_sig(const char *b, size_t len, const char *path, size_t *ts,
                    size_t *te)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    size_t n = strlen(name), found = 0, at = 0;
    for (size_t i = 0; i + n + 1 < len; i++) {
        if (b[i] != '<' || memcmp(b + i + 1, name, n) != 0 ||
            name_char((unsigned char)b[i + 1 + n]))
            continue;
        found++;
        at = i;
    }
    if (found != 1 || b[at + 1 + n] != '>')
        return -1;
    size_t s = at + n + 2;
    for (size_t i = s; i < len; i++) {
        if (b[i] != '<')
            continue;
        if (len - i < n + 3 || b[i + 1] != '/' ||
            memcmp(b + i + 2, name, n) != 0 || b[i + 2 + n] != '>')
            return -1;
        *ts = s;
        *te = i;
        return 0;
    }
    return -1;
}

/* ---- requests ----------------------------------------------------------- */

void cx_request_release(struct cx_request *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->sig_header_value);
    memset(r, 0, sizeof(*r));
}

int cx_request_build(const struct cx_profile *p, enum cx_fn fn,
                     const struct cx_vals *vals, const struct cx_vals *items,
                     size_t n_items, const struct cert_identity *sign_id,
                     struct cx_request *out, struct h2h_err *err)
{
    xmlDocPtr doc = NULL;
    char *body = NULL, *b64 = NULL;
    size_t len = 0;
    int rc;
    if (!p || !vals || !out || (unsigned)fn >= CX_FN_COUNT || !p->fn[fn].code)
        return h2h_err_set(err, H2H_EINVALID, "request: bad arguments");
    const struct cx_function *f = &p->fn[fn];
    if (p->sig_where != CX_SIG_NONE && !sign_id)
        return h2h_err_set(err, H2H_EINVALID,
                           "request: the profile signs requests but there is "
                           "no signing identity");
    if (fn == CX_FN_PAYROLL || fn == CX_FN_SCF_FINANCING) {
        if (!items || !n_items || !f->items)
            return h2h_err_set(err, H2H_EINVALID,
                               "payroll: a batch needs at least one item");
        if (n_items > (size_t)p->limits.batch_items)
            return h2h_err_set(err, H2H_EINVALID,
                               "payroll: %zu items, at most %d (limits."
                               "batch_items)",
                               n_items, p->limits.batch_items);
    } else {
        n_items = 0; /* only a payroll and a financing have items */
    }

    if ((rc = check_all(p, fn, vals, items, n_items, err)) != 0)
        goto out;
    if ((rc = build_tree(p, fn, vals, items, n_items, &doc, err)) != 0)
        goto out;
    if ((rc = serialise(p, doc, &body, &len, err)) != 0)
        goto out;

    if (p->sig_where == CX_SIG_HEADER) {
        if ((rc = cert_cms_sign_b64(sign_id, body, len, 0, &b64, err)) != 0)
            goto out;
    } else if (p->sig_where == CX_SIG_ELEMENT) {
        size_t ts, te;
        if (find_sig(body, len, p->sig_element, &ts, &te) != 0 || ts != te) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "request: the signature element %s is not "
                             "empty exactly once",
                             p->sig_element);
            goto out;
        }
        char *sig = NULL;
        if ((rc = cert_cms_sign_b64(sign_id, body, len, 0, &sig, err)) != 0)
            goto out;
        size_t sl = strlen(sig);
        char *nb = malloc(len + sl + 1);
        if (!nb) {
            free(sig);
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(nb, body, ts);
        memcpy(nb + ts, sig, sl);
        memcpy(nb + ts + sl, body + ts, len - ts);
        nb[len + sl] = '\0';
        free(sig);
        free(body);
        body = nb;
        len += sl;
    }
    out->body = body;
    out->len = len;
    out->sig_header_value = b64;
    body = b64 = NULL;
out:
    free(body);
    free(b64);
    if (doc)
        xmlFreeDoc(doc);
    return rc;
}

/* ---- answers (PROFILE.md "Reading an answer") --------------------------- */

void cx_answer_release(struct cx_answer *a)
{
    if (!a)
        return;
    free(a->code);
    free(a->message);
    for (int k = 0; k < CX_K_N; k++)
        free(a->top[k]);
    for (size_t i = 0; a->items && i < a->n_items * CX_K_N; i++)
        free(a->items[i]);
    free(a->items);
    memset(a, 0, sizeof(*a));
}

/* The text at path below base (malloc'd), NULL in *out when absent. */
static int value_at(xmlNodePtr base, const char *path, char **out,
                    struct h2h_err *err)
{
    char attr[NAME_MAX_LEN + 1];
    xmlNodePtr el;
    *out = NULL;
    int rc = walk(base, path, 0, &el, attr, err);
    if (rc || !el)
        return rc;
    /* all text of the element, as cert.h advises: a reader stopping at the
     * first text node could be fooled by a comment inside a value */
    xmlChar *x =
        attr[0] ? xmlGetNoNsProp(el, BAD_CAST attr) : xmlNodeGetContent(el);
    if (!x && !attr[0]) {
        *out = strdup("");
    } else if (!x) {
        return 0;
    } else {
        *out = strdup((const char *)x);
        xmlFree(x);
    }
    if (!*out)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

/* Bank signature over the received bytes (step "bank signature"). */
static int answer_signature(const struct cx_profile *p, const char *b,
                            size_t len, const char *sig_header_value,
                            const struct cert_peer *bank, struct h2h_err *err)
{
    int rc;
    if (p->resp_sig_where == CX_SIG_NONE)
        return 0;
    if (!bank)
        return h2h_err_set(err, H2H_EINVALID,
                           "answer: no bank certificate to verify with");
    if (p->resp_sig_where == CX_SIG_HEADER) {
        if (!sig_header_value || !*sig_header_value)
            return h2h_err_set(err, H2H_EAUTH, "answer signature: no %s header",
                               p->resp_sig_header);
        rc = cert_cms_verify_b64(sig_header_value, strlen(sig_header_value), b,
                                 len, bank, NULL, err);
    } else {
        size_t ts, te;
        if (find_sig(b, len, p->resp_sig_element, &ts, &te) != 0 || ts == te)
            return h2h_err_set(err, H2H_EAUTH,
                               "answer signature: the element %s is not "
                               "there exactly once with a signature",
                               p->resp_sig_element);
        char *signed_bytes = malloc(len - (te - ts) + 1);
        if (!signed_bytes)
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        memcpy(signed_bytes, b, ts);
        memcpy(signed_bytes + ts, b + te, len - te);
        rc = cert_cms_verify_b64(b + ts, te - ts, signed_bytes, len - (te - ts),
                                 bank, NULL, err);
        free(signed_bytes);
    }
    if (rc == H2H_ENOMEM)
        return rc;
    if (rc) {
        /* whatever cert_cms_verify found (not CMS, other signer, modified
         * bytes): the answer may be forged, which is "no answer" */
        h2h_err_prefix(err, "answer signature");
        if (err)
            err->code = H2H_EAUTH;
        return H2H_EAUTH;
    }
    return 0;
}

static int ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Length of the XML declaration at b[0] with its encoding name in enc;
 * 0 when there is none of the form <?xml version="1.x" encoding="..."
 * [standalone="..."]?>. */
static size_t xml_decl(const char *b, size_t len, char *enc, size_t encsz)
{
    size_t i = 0;
    enc[0] = '\0';
    if (len < 6 || memcmp(b, "<?xml", 5) != 0 || !ws(b[5]))
        return 0;
    i = 5;
    int have_version = 0;
    while (i < len) {
        size_t w = i;
        while (i < len && ws(b[i]))
            i++;
        if (i + 1 < len && b[i] == '?' && b[i + 1] == '>')
            return have_version && enc[0] ? i + 2 : 0;
        if (i == w)
            return 0; /* pseudo-attributes are separated by blanks */
        size_t ns = i;
        while (i < len && b[i] >= 'a' && b[i] <= 'z')
            i++;
        size_t nl = i - ns;
        while (i < len && ws(b[i]))
            i++;
        if (i >= len || b[i] != '=')
            return 0;
        i++;
        while (i < len && ws(b[i]))
            i++;
        if (i >= len || (b[i] != '"' && b[i] != '\''))
            return 0;
        char q = b[i++];
        size_t vs = i;
        while (i < len && b[i] != q && b[i] != '<' && b[i] != '>')
            i++;
        if (i >= len || b[i] != q)
            return 0;
        size_t vl = i - vs;
        i++;
        if (nl == 7 && !memcmp(b + ns, "version", 7) && !have_version &&
            !enc[0] && vl == 3 && !memcmp(b + vs, "1.", 2)) {
            have_version = 1;
        } else if (nl == 8 && !memcmp(b + ns, "encoding", 8) && have_version &&
                   !enc[0] && vl > 0 && vl < encsz) {
            memcpy(enc, b + vs, vl);
            enc[vl] = '\0';
        } else if (nl == 10 && !memcmp(b + ns, "standalone", 10) && enc[0]) {
            /* allowed, meaningless here */
        } else {
            return 0;
        }
    }
    return 0;
}

/* Decode in the profile's encoding and parse (steps "decode" and
 * "parse"). */
static int answer_parse(const struct cx_profile *p, const char *b, size_t len,
                        xmlDocPtr *doc, struct h2h_err *err)
{
    char enc[64];
    char *utf8 = NULL;
    size_t ulen = 0;
    struct sb t = {0};
    int rc;
    if (len > CERT_XML_MAX_INPUT)
        return h2h_err_set(err, H2H_ETOOBIG, "answer: over %u bytes",
                           CERT_XML_MAX_INPUT);
    size_t dl = xml_decl(b, len, enc, sizeof(enc));
    if (!dl)
        return h2h_err_set(err, H2H_ECHARSET,
                           "answer: no XML declaration naming the encoding "
                           "%s first",
                           p->encoding);
    if (strcasecmp(enc, p->encoding) != 0)
        return h2h_err_set(err, H2H_ECHARSET,
                           "answer: declared encoding %.40s, the profile's is "
                           "%s",
                           enc, p->encoding);
    rc = fmt_to_utf8(p->encoding, b + dl, len - dl, &utf8, &ulen, err);
    if (rc) {
        if (rc != H2H_ENOMEM)
            h2h_err_prefix(err, "answer in %s", p->encoding);
        goto out;
    }
    /* A declaration of our own in front, so that nothing in the rest can
     * be taken as one and switch libxml2 to another decoder. */
    sb_str(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    sb_add(&t, utf8, ulen);
    if (t.oom) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    rc = cert_xml_parse(t.p, t.len, "answer", doc, err);
out:
    free(utf8);
    free(t.p);
    return rc;
}

/* Step "echo": the header values the bank copies back must be the
 * request's.  *missing: how many are absent. */
static int answer_echo(const struct cx_profile *p, enum cx_fn fn,
                       const struct cx_vals *vals, xmlNodePtr root,
                       size_t *missing, struct h2h_err *err)
{
    const struct cx_function *f = &p->fn[fn];
    *missing = 0;
    for (size_t i = 0; i < p->n_echo; i++) {
        const char *tmpl = NULL;
        for (size_t h = 0; h < p->n_header && !tmpl; h++)
            if (!strcmp(p->header[h].path, p->echo[i]))
                tmpl = header_tmpl(f, &p->header[h]);
        if (!tmpl)
            return h2h_err_set(err, H2H_EINVALID,
                               "response.echo %s is not a header path",
                               p->echo[i]);
        char *want = NULL, *got = NULL;
        int rc = expand(p, fn, vals, NULL, tmpl, &want, err);
        if (rc == 0)
            rc = value_at(root, p->echo[i], &got, err);
        if (rc == 0 && !got)
            ++*missing;
        else if (rc == 0 && strcmp(got, want) != 0)
            rc = h2h_err_set(err, H2H_EPROTO,
                             "answer echoes %s \"%.64s\", the request sent "
                             "\"%.64s\": the answer to another request",
                             p->echo[i], got, want);
        free(want);
        free(got);
        if (rc)
            return rc;
    }
    return 0;
}

/* Step "result elements" of an ok answer. */
static int answer_results(const struct cx_profile *p, enum cx_fn fn,
                          const struct cx_vals *vals, xmlNodePtr root,
                          struct cx_answer *a, struct h2h_err *err)
{
    const struct cx_function *f = &p->fn[fn];
    char attr[NAME_MAX_LEN + 1];
    xmlNodePtr base;
    int rc = walk(root, p->response_body, 0, &base, attr, err);
    if (rc)
        return rc;
    cx_set need = cx_keys_required(p, fn, 0);
    for (int k = 0; k < CX_K_N; k++) {
        if (k == CX_K_ITEMS || !f->result[k])
            continue;
        if (base && (rc = value_at(base, f->result[k], &a->top[k], err)) != 0)
            return rc;
        if (!a->top[k] && (need & K(k)))
            return h2h_err_set(
                err, H2H_EPROTO, "ok answer to %s without its %s (%s)",
                cx_fn_name(fn), cx_key_name((enum cx_key)k), f->result[k]);
    }
    /* the serial of the answer is the one asked about */
    const char *serial = vals->v[CX_T_SERIAL];
    if ((fn == CX_FN_PAYMENT || fn == CX_FN_PAYMENT_STATUS ||
         fn == CX_FN_PAYROLL || fn == CX_FN_PAYROLL_RESULT) &&
        serial && a->top[CX_K_SERIAL] && strcmp(serial, a->top[CX_K_SERIAL]))
        return h2h_err_set(err, H2H_EPROTO,
                           "answer about serial \"%.40s\", the request was "
                           "about %.40s",
                           a->top[CX_K_SERIAL], serial);

    const char *items = f->result[CX_K_ITEMS];
    if (!items || !base)
        return 0;
    const char *slash = strrchr(items, '/');
    const char *last = slash ? slash + 1 : items;
    char parent_path[512];
    snprintf(parent_path, sizeof(parent_path), "%.*s",
             slash ? (int)(slash - items) : 0, items);
    xmlNodePtr parent;
    if ((rc = walk(base, parent_path, 0, &parent, attr, err)) != 0)
        return rc;
    cx_set ineed = cx_keys_required(p, fn, 1);
    size_t cap = 0;
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || c->ns ||
            strcmp((const char *)c->name, last))
            continue;
        if (a->n_items == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **ni = realloc(a->items, nc * CX_K_N * sizeof(*ni));
            if (!ni)
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
            memset(ni + cap * CX_K_N, 0, (nc - cap) * CX_K_N * sizeof(*ni));
            a->items = ni;
            cap = nc;
        }
        char **row = a->items + a->n_items * CX_K_N;
        a->n_items++;
        for (int k = 0; k < CX_K_N; k++) {
            /* debit_value / credit_value are values, not paths: they stay
             * in the profile */
            if (!f->item_result[k] || k == CX_K_DEBIT_VALUE ||
                k == CX_K_CREDIT_VALUE)
                continue;
            if ((rc = value_at(c, f->item_result[k], &row[k], err)) != 0)
                return rc;
            if (!row[k] && (ineed & K(k)))
                return h2h_err_set(err, H2H_EPROTO,
                                   "ok answer to %s: item %zu without its %s "
                                   "(%s)",
                                   cx_fn_name(fn), a->n_items,
                                   cx_key_name((enum cx_key)k),
                                   f->item_result[k]);
        }
    }
    return 0;
}

int cx_answer_read(const struct cx_profile *p, enum cx_fn fn,
                   const struct cx_vals *vals, const void *body, size_t len,
                   const char *sig_header_value, const struct cert_peer *bank,
                   struct cx_answer *out, struct h2h_err *err)
{
    struct cx_answer a;
    memset(&a, 0, sizeof(a));
    xmlDocPtr doc = NULL;
    int rc;
    if (!p || !vals || !out || !body || (unsigned)fn >= CX_FN_COUNT ||
        !p->fn[fn].code)
        return h2h_err_set(err, H2H_EINVALID, "answer: bad arguments");
    const char *b = body;

    if ((rc = answer_signature(p, b, len, sig_header_value, bank, err)) != 0)
        goto out;
    if ((rc = answer_parse(p, b, len, &doc, err)) != 0)
        goto out;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root->ns || strcmp((const char *)root->name, p->root) != 0) {
        rc = h2h_err_set(err, H2H_EPROTO, "answer: root <%.64s>, not <%s>",
                         (const char *)root->name, p->root);
        goto out;
    }
    size_t missing = 0;
    if ((rc = answer_echo(p, fn, vals, root, &missing, err)) != 0)
        goto out;
    if ((rc = value_at(root, p->code_path, &a.code, err)) != 0)
        goto out;
    if (!a.code) {
        rc = h2h_err_set(err, H2H_EPROTO, "answer without a return code (%s)",
                         p->code_path);
        goto out;
    }
    if (p->message_path &&
        (rc = value_at(root, p->message_path, &a.message, err)) != 0)
        goto out;
    a.cls = cx_code_class(p, a.code);
    /* Only a bank that could not read the request may leave the echo out,
     * and it then refuses (PROFILE.md "response").  An answer that says
     * something was found, done or is a duplicate must prove which
     * request it answers. */
    if (missing && a.cls != CX_CODE_ERROR && a.cls != CX_CODE_BUSY) {
        rc = h2h_err_set(err, H2H_EPROTO,
                         "answer (code %.40s) without the echo of the "
                         "request",
                         a.code);
        goto out;
    }
    if (a.cls == CX_CODE_OK &&
        (rc = answer_results(p, fn, vals, root, &a, err)) != 0)
        goto out;
    *out = a;
    memset(&a, 0, sizeof(a));
out:
    cx_answer_release(&a);
    if (doc)
        xmlFreeDoc(doc);
    return rc;
}
