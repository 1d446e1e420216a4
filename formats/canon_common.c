/*
 * canon_common.c - the table-driven canonical XML engine; see
 * canon_common.h.
 *
 * Writing renders the whole document into a memory stream before a byte
 * reaches the caller's FILE: a value refused half-way must not leave half
 * a document in an out folder.  Reading is recursive descent over the
 * hardened xmlTextReader, one table level per element level; an element
 * the table does not know is skipped whole, so the recursion is as deep
 * as the tables, never as deep as the input.
 */
#include "canon_common.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"
#include "xmlsafe.h"

#define PATH_MAX_LEN 512
#define NAME_MAX_LEN 64
#define MAX_FIELDS 64
#define PPM_LIMIT 1000000             /* 100 %: a rate is below it */
#define RATE_ONE INT64_C(10000000000) /* RATE: units of 1e-10 */
#define RATE_DECIMALS 10

/* ---- shared tables ------------------------------------------------------- */

static const struct fmt_cc_field f_postal[] = {
    FMT_CC_F_TEXT("Dept", 0, struct fmt_postal, dept, NULL),
    FMT_CC_F_TEXT("StrtNm", 0, struct fmt_postal, street, NULL),
    FMT_CC_F_TEXT("BldgNb", 0, struct fmt_postal, building, NULL),
    FMT_CC_F_TEXT("PstCd", 0, struct fmt_postal, postcode, NULL),
    FMT_CC_F_TEXT("TwnNm", 0, struct fmt_postal, town, NULL),
    FMT_CC_F_TEXT("CtrySubDvsn", 0, struct fmt_postal, subdivision, NULL),
    FMT_CC_F_TEXT("Ctry", 0, struct fmt_postal, country, NULL),
    {.name = "AdrLine",
     .kind = FMT_CC_LINES,
     .off = offsetof(struct fmt_postal, lines),
     .cap = sizeof(((struct fmt_postal *)0)->lines) / sizeof(char *)},
};
FMT_CC_STRUCT(fmt_cc_postal, "postal address", struct fmt_postal, f_postal);

/* The same rows as FMT_CC_PARTY_FIELDS, for a party element of its own. */
static const struct fmt_cc_field f_party[] = {
    FMT_CC_F_TEXT("Nm", 0, struct fmt_party, name, NULL),
    FMT_CC_F_SUB("PstlAdr", 0, struct fmt_party, addr, fmt_cc_postal),
    FMT_CC_F_TEXT("OrgBIC", 0, struct fmt_party, org_bic, NULL),
    FMT_CC_F_TEXT("OrgId", 0, struct fmt_party, org_id, NULL),
    FMT_CC_F_TEXT("OrgIdSchme", 0, struct fmt_party, org_id_scheme, NULL),
    FMT_CC_F_TEXT("PrvtId", 0, struct fmt_party, prvt_id, NULL),
    FMT_CC_F_TEXT("CtryOfRes", 0, struct fmt_party, ctry_of_res, NULL),
};
FMT_CC_STRUCT(fmt_cc_party, "party", struct fmt_party, f_party);

static const struct fmt_cc_field f_account[] = {
    FMT_CC_F_TEXT("IBAN", 0, struct fmt_account, iban, NULL),
    FMT_CC_F_TEXT("OthrId", 0, struct fmt_account, other_id, NULL),
    FMT_CC_F_TEXT("OthrSchme", 0, struct fmt_account, other_scheme, NULL),
    FMT_CC_F_TEXT("Ccy", 0, struct fmt_account, ccy, NULL),
    FMT_CC_F_TEXT("Nm", 0, struct fmt_account, name, NULL),
    FMT_CC_F_TEXT("Tp", 0, struct fmt_account, type, NULL),
};
FMT_CC_STRUCT(fmt_cc_account, "account", struct fmt_account, f_account);

static const struct fmt_cc_field f_agent[] = {
    FMT_CC_F_TEXT("BIC", 0, struct fmt_agent, bic, NULL),
    FMT_CC_F_TEXT("ClrSysId", 0, struct fmt_agent, clr_sys, NULL),
    FMT_CC_F_TEXT("ClrSysMmbId", 0, struct fmt_agent, clr_mmb_id, NULL),
    FMT_CC_F_TEXT("Nm", 0, struct fmt_agent, name, NULL),
    FMT_CC_F_SUB("PstlAdr", 0, struct fmt_agent, addr, fmt_cc_postal),
    FMT_CC_F_TEXT("OthrId", 0, struct fmt_agent, other_id, NULL),
};
FMT_CC_STRUCT(fmt_cc_agent, "agent", struct fmt_agent, f_agent);

static const struct fmt_cc_field f_reason[] = {
    FMT_CC_F_TEXT("Cd", 0, struct fmt_reason, code, NULL),
    FMT_CC_F_TEXT("Prtry", 0, struct fmt_reason, prtry, NULL),
    FMT_CC_F_TEXT("AddtlInf", 0, struct fmt_reason, addtl_info, NULL),
};
FMT_CC_STRUCT(fmt_cc_reason, "reason", struct fmt_reason, f_reason);

static int is_date(const char *s)
{
    return fmt_date_check(s, NULL) == 0;
}

const struct fmt_cc_shape fmt_cc_date = {"a date (YYYY-MM-DD)", is_date};

/* ---- small helpers ------------------------------------------------------- */

static const void *cat(const void *base, size_t off)
{
    return (const char *)base + off;
}

static void *at(void *base, size_t off)
{
    return (char *)base + off;
}

/* The lowest value of an enum field: 0 for ENUM0, else 1 (0 is none). */
static int enum_lo(const struct fmt_cc_field *f)
{
    return f->kind == FMT_CC_ENUM0 ? 0 : 1;
}

/* The name of v (lo or above) when it is a value en allows, else NULL. */
static const char *enum_name(const struct fmt_cc_enum *en, int v, int lo)
{
    if (v < lo || v >= en->count || v >= 64)
        return NULL;
    if (en->allowed && !(en->allowed & (UINT64_C(1) << v)))
        return NULL;
    return en->name(v);
}

/* Append "/name" or "/name[idx]" to a path; a component that does not fit
 * is left out whole (the tables are far too shallow for that to happen).
 * Returns the length to restore. */
static size_t path_push(char *path, size_t *len, const char *name, long idx)
{
    size_t saved = *len;
    int n = idx > 0 ? snprintf(path + *len, PATH_MAX_LEN - *len, "%s%s[%ld]",
                               *len ? "/" : "", name, idx)
                    : snprintf(path + *len, PATH_MAX_LEN - *len, "%s%s",
                               *len ? "/" : "", name);
    if (n < 0 || (size_t)n >= PATH_MAX_LEN - *len)
        path[saved] = '\0';
    else
        *len += (size_t)n;
    return saved;
}

static void path_pop(char *path, size_t *len, size_t saved)
{
    *len = saved;
    path[saved] = '\0';
}

/* How much of s to quote in a message: at most max bytes, never half a
 * UTF-8 sequence (messages end up in files treasury reads). */
static int quote_len(const char *s, int max)
{
    int n = (int)strnlen(s, (size_t)max + 1);
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* An integer field's value, whatever its width (INT, COUNT). */
static int64_t int_get(const struct fmt_cc_field *f, const void *p)
{
    if (f->flags & FMT_CC_INT32)
        return *(const int *)p;
    if (f->flags & FMT_CC_SIZE) {
        size_t v = *(const size_t *)p;
        return v > (size_t)INT64_MAX ? INT64_MAX : (int64_t)v;
    }
    return *(const int64_t *)p;
}

/* Store v (>= 0, checked to fit by the caller) at p. */
static void int_set(const struct fmt_cc_field *f, void *p, int64_t v)
{
    if (f->flags & FMT_CC_INT32)
        *(int *)p = (int)v;
    else if (f->flags & FMT_CC_SIZE)
        *(size_t *)p = (size_t)v;
    else
        *(int64_t *)p = v;
}

/* RATE: v >= 0 in units of 1e-10 as the shortest exact decimal. */
static void rate_format(int64_t v, char *buf, size_t sz)
{
    int64_t ip = v / RATE_ONE, fp = v % RATE_ONE;
    if (!fp) {
        snprintf(buf, sz, "%lld", (long long)ip);
        return;
    }
    int digits = RATE_DECIMALS;
    while (fp % 10 == 0) {
        fp /= 10;
        digits--;
    }
    snprintf(buf, sz, "%lld.%0*lld", (long long)ip, digits, (long long)fp);
}

/* Rate in millionths as a percentage: 13500 -> "1.35", 10000 -> "1". */
static void ppm_format(int64_t v, char *buf, size_t sz)
{
    int64_t ip = v / 10000, fp = v % 10000;
    if (!fp) {
        snprintf(buf, sz, "%lld", (long long)ip);
        return;
    }
    int digits = 4;
    while (fp % 10 == 0) {
        fp /= 10;
        digits--;
    }
    snprintf(buf, sz, "%lld.%0*lld", (long long)ip, digits, (long long)fp);
}

/* ---- writer -------------------------------------------------------------- */

struct wr {
    FILE *f;
    struct h2h_err *err;
    char path[PATH_MAX_LEN];
    size_t plen;
};

static int werr(struct wr *w, const char *leaf, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int werr(struct wr *w, const char *leaf, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return h2h_err_set(w->err, code, "%s%s%s: %s", w->path, leaf ? "/" : "",
                       leaf ? leaf : "", msg);
}

static void indent(struct wr *w, int level)
{
    for (int i = 0; i < level; i++)
        fputs("  ", w->f);
}

/* Length of the UTF-8 sequence at s that XML 1.0 may carry, or 0; s is
 * valid UTF-8 (checked before). */
static size_t xml_char(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x20)
        return (c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    if (c < 0x80)
        return 1;
    if (c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
        return 0;
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
}

/* Refuse what XML 1.0 cannot carry before anything is written. */
static int text_ok(struct wr *w, const char *name, const char *s)
{
    if (!fmt_utf8_valid(s, strlen(s)))
        return werr(w, name, H2H_ECHARSET, "text is not valid UTF-8");
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = xml_char(p);
        if (!n)
            return werr(w, name, H2H_ECHARSET,
                        "character U+%04X cannot be written in XML",
                        p[0] < 0x80 ? (unsigned)p[0] : 0xFFFEu + (p[2] & 1u));
        p += n;
    }
    return 0;
}

static void put_text(struct wr *w, const char *s)
{
    const char *run = s, *p = s;
    for (; *p; p++) {
        const char *e;
        switch (*p) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        /* a literal CR would come back as LF after end-of-line handling */
        case '\r': e = "&#13;"; break;
        default: continue;
        }
        fwrite(run, 1, (size_t)(p - run), w->f);
        fputs(e, w->f);
        run = p + 1;
    }
    fwrite(run, 1, (size_t)(p - run), w->f);
}

/* <name>text</name> for text that passed text_ok(). */
static void emit_leaf(struct wr *w, int level, const char *name,
                      const char *text)
{
    indent(w, level);
    fprintf(w->f, "<%s>", name);
    put_text(w, text);
    fprintf(w->f, "</%s>\n", name);
}

static int leaf(struct wr *w, int level, const char *name, const char *text)
{
    int rc = text_ok(w, name, text);
    if (rc == 0)
        emit_leaf(w, level, name, text);
    return rc;
}

static int write_amount(struct wr *w, int level, const char *name,
                        const struct fmt_amount *a)
{
    char buf[48];
    if (!memchr(a->ccy, '\0', sizeof(a->ccy)) || fmt_ccy_exponent(a->ccy) < 0)
        return werr(w, name, H2H_EINVALID,
                    "amount without a known ISO 4217 currency code");
    if (a->minor < 0)
        return werr(w, name, H2H_EINVALID, "negative amount");
    /* the schema's totalDigits and fmt_amount_parse() stop at 18 */
    if (a->minor > INT64_C(999999999999999999))
        return werr(w, name, H2H_ETOOBIG, "amount has more than 18 digits");
    if (fmt_amount_format(a->minor, a->ccy, '.', buf, sizeof(buf)) < 0)
        return werr(w, name, H2H_ETOOBIG, "amount cannot be formatted");
    indent(w, level);
    fprintf(w->f, "<%s Ccy=\"%s\">%s</%s>\n", name, a->ccy, buf, name);
    return 0;
}

static int sub_present(const struct fmt_cc_struct *d, const void *base);

static int field_present(const struct fmt_cc_field *f, const void *base)
{
    const void *p = cat(base, f->off);
    switch (f->kind) {
    case FMT_CC_TEXT: return *(char *const *)p != NULL;
    case FMT_CC_INT: return int_get(f, p) != 0;
    case FMT_CC_PPM: return *(const int64_t *)p != 0;
    case FMT_CC_COUNT:
        return !(f->flags & FMT_CC_MINUS1) || int_get(f, p) != -1;
    case FMT_CC_FLAG:
    case FMT_CC_ENUM: return *(const int *)p != 0;
    case FMT_CC_AMT: {
        const struct fmt_amount *a = p;
        return a->ccy[0] != '\0' || a->minor != 0;
    }
    case FMT_CC_SUB:
        if (f->flags & FMT_CC_FLAGGED)
            return *(const int *)cat(base, f->off2) != 0;
        if (f->flags & FMT_CC_CHOICE)
            return *(const int *)cat(base, f->off2) == f->choice;
        return sub_present(f->sub, p);
    case FMT_CC_LIST: return *(const size_t *)cat(base, f->off2) > 0;
    case FMT_CC_LINES:
        for (size_t i = 0; i < f->cap; i++)
            if (((char *const *)p)[i])
                return 1;
        return 0;
    case FMT_CC_ENUM0: return *(const int *)p != -1;
    case FMT_CC_RATE: return *(const int64_t *)p != -1;
    case FMT_CC_CCY: return *(const char *)p != '\0';
    case FMT_CC_MINOR:
        return !(f->flags & FMT_CC_NONZERO) || *(const int64_t *)p != 0;
    case FMT_CC_SRCLINE: return 0;
    }
    return 0;
}

static int sub_present(const struct fmt_cc_struct *d, const void *base)
{
    for (size_t i = 0; i < d->n; i++)
        if (field_present(&d->f[i], base))
            return 1;
    return 0;
}

static int write_struct(struct wr *w, int level, const struct fmt_cc_struct *d,
                        const void *base);

static int write_element(struct wr *w, int level, const char *name, long idx,
                         const struct fmt_cc_struct *d, const void *base)
{
    size_t saved = path_push(w->path, &w->plen, name, idx);
    indent(w, level);
    fprintf(w->f, "<%s>\n", name);
    int rc = write_struct(w, level + 1, d, base);
    indent(w, level);
    fprintf(w->f, "</%s>\n", name);
    path_pop(w->path, &w->plen, saved);
    return rc;
}

static int write_field(struct wr *w, int level, const struct fmt_cc_field *f,
                       const void *base)
{
    const void *p = cat(base, f->off);
    char buf[48];
    int rc = 0;
    if (!field_present(f, base))
        return (f->flags & FMT_CC_REQ) ? werr(w, f->name, H2H_EINVALID,
                                              "required element is missing")
                                       : 0;
    switch (f->kind) {
    case FMT_CC_TEXT: {
        const char *s = *(char *const *)p;
        /* the charset first: a shape message must not quote bad bytes */
        if ((rc = text_ok(w, f->name, s)) < 0)
            return rc;
        if (f->shape && !f->shape->ok(s))
            return werr(w, f->name, H2H_EINVALID, "\"%.*s\" is not %s",
                        quote_len(s, 64), s, f->shape->what);
        emit_leaf(w, level, f->name, s);
        return 0;
    }
    case FMT_CC_INT:
    case FMT_CC_COUNT: {
        int64_t v = int_get(f, p);
        if (v < 0)
            return werr(w, f->name, H2H_EINVALID, "negative number %lld",
                        (long long)v);
        snprintf(buf, sizeof(buf), "%lld", (long long)v);
        return leaf(w, level, f->name, buf);
    }
    case FMT_CC_FLAG: return leaf(w, level, f->name, "true");
    case FMT_CC_ENUM:
    case FMT_CC_ENUM0: {
        int v = *(const int *)p;
        const char *nm = enum_name(f->en, v, enum_lo(f));
        if (!nm)
            return werr(w, f->name, H2H_EINVALID,
                        "value %d is not a %s that may stand here", v,
                        f->en->what);
        return leaf(w, level, f->name, nm);
    }
    case FMT_CC_AMT: return write_amount(w, level, f->name, p);
    case FMT_CC_PPM: {
        int64_t v = *(const int64_t *)p;
        if (v <= 0 || v >= PPM_LIMIT)
            return werr(w, f->name, H2H_EINVALID,
                        "rate of %lld millionths is not above 0 and below "
                        "100 %%",
                        (long long)v);
        ppm_format(v, buf, sizeof(buf));
        return leaf(w, level, f->name, buf);
    }
    case FMT_CC_SUB: return write_element(w, level, f->name, 0, f->sub, p);
    case FMT_CC_LIST: {
        const char *arr = *(const char *const *)p;
        size_t n = *(const size_t *)cat(base, f->off2);
        if (!arr)
            return werr(w, f->name, H2H_EINVALID, "%zu elements but no array",
                        n);
        size_t saved = path_push(w->path, &w->plen, f->name, 0);
        indent(w, level);
        fprintf(w->f, "<%s>\n", f->name);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = write_element(w, level + 1, f->item, (long)i + 1, f->sub,
                               arr + i * f->sub->size);
        indent(w, level);
        fprintf(w->f, "</%s>\n", f->name);
        path_pop(w->path, &w->plen, saved);
        return rc;
    }
    case FMT_CC_LINES:
        for (size_t i = 0; i < f->cap && rc == 0; i++) {
            const char *l = ((const char *const *)p)[i];
            if (l)
                rc = leaf(w, level, f->name, l);
        }
        return rc;
    case FMT_CC_RATE: {
        int64_t v = *(const int64_t *)p;
        if (v < 0)
            return werr(w, f->name, H2H_EINVALID, "negative rate %lld",
                        (long long)v);
        rate_format(v, buf, sizeof(buf));
        return leaf(w, level, f->name, buf);
    }
    case FMT_CC_CCY: {
        const char *c = p;
        if (!memchr(c, '\0', 4) || fmt_ccy_exponent(c) < 0)
            return werr(w, f->name, H2H_EINVALID,
                        "\"%.3s\" is not a known ISO 4217 currency code", c);
        return leaf(w, level, f->name, c);
    }
    case FMT_CC_MINOR: {
        struct fmt_amount a = {*(const int64_t *)p, ""};
        memcpy(a.ccy, cat(base, f->off2), sizeof(a.ccy));
        return write_amount(w, level, f->name, &a);
    }
    case FMT_CC_SRCLINE: return 0;
    }
    return 0;
}

static int write_struct(struct wr *w, int level, const struct fmt_cc_struct *d,
                        const void *base)
{
    for (size_t i = 0; i < d->n; i++) {
        int rc = write_field(w, level, &d->f[i], base);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int fmt_cc_write(FILE *out, const char *ns, const char *root,
                 const struct fmt_cc_struct *d, const void *base,
                 struct h2h_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;
    if (!out || !ns || !root || !d || !base)
        return h2h_err_set(err, H2H_EINVALID, "nothing to write or no output");
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    struct wr w = {.f = m, .err = err};
    path_push(w.path, &w.plen, root, 0);
    fprintf(m,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s xmlns=\"%s\">\n",
            root, ns);
    rc = write_struct(&w, 1, d, base);
    fprintf(m, "</%s>\n", root);
    if (fclose(m) != 0 && rc == 0)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (rc < 0)
        goto out;
    if (fwrite(buf, 1, len, out) != len || fflush(out) != 0 || ferror(out))
        rc =
            h2h_err_set(err, H2H_EIO, "writing the <%s> document failed", root);
out:
    free(buf);
    return rc;
}

/* ---- problems ------------------------------------------------------------ */

void fmt_cc_report_add(struct fmt_cc_report *rep, struct fmt_diag *diag,
                       int line, const char *where, const char *rule,
                       const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (rep && rep->n++ == 0)
        h2h_err_set(&rep->first, H2H_EINVALID, "line %d: %s%s%s", line,
                    where && *where ? where : "", where && *where ? ": " : "",
                    msg);
    fmt_diag_add(diag, line, where, rule, "%s", msg);
}

int fmt_cc_report_rc(const struct fmt_cc_report *rep, const char *name,
                     struct h2h_err *err)
{
    if (!rep || rep->n == 0)
        return 0;
    return h2h_err_set(err, H2H_EINVALID, "%s: %zu problem%s, the first: %s",
                       name ? name : "<memory>", rep->n, rep->n == 1 ? "" : "s",
                       rep->first.msg);
}

/* ---- reader -------------------------------------------------------------- */

struct rd {
    struct fmt_xml x;
    const char *ns;
    const char *rule;
    struct fmt_diag *diag;
    struct fmt_cc_report *rep;
    struct h2h_err *err;
    char where[PATH_MAX_LEN];
    size_t wlen;
};

static void vproblem(struct rd *r, int line, const char *leafname,
                     const char *what, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void vproblem(struct rd *r, int line, const char *leafname,
                     const char *what, const char *fmt, va_list ap)
{
    char w[PATH_MAX_LEN + NAME_MAX_LEN + 2], rule[64], msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    snprintf(w, sizeof(w), "%s%s%s", r->where, r->wlen && leafname ? "/" : "",
             leafname ? leafname : "");
    snprintf(rule, sizeof(rule), "%s.%s", r->rule, what);
    fmt_cc_report_add(r->rep, r->diag, line, w, rule, "%s", msg);
}

static void problem(struct rd *r, const char *leafname, const char *what,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(struct rd *r, const char *leafname, const char *what,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(r, fmt_xml_line(&r->x), leafname, what, fmt, ap);
    va_end(ap);
}

/* A problem found after the fact, at a line remembered before. */
static void problem_at(struct rd *r, int line, const char *leafname,
                       const char *what, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void problem_at(struct rd *r, int line, const char *leafname,
                       const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(r, line, leafname, what, fmt, ap);
    va_end(ap);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Strip XML whitespace around v in place (the schema's types collapse it
 * for everything but free text). */
static void trim(char *v)
{
    size_t n = strlen(v), i = 0;
    while (n && is_ws(v[n - 1]))
        n--;
    while (i < n && is_ws(v[i]))
        i++;
    memmove(v, v + i, n - i);
    v[n - i] = '\0';
}

static int parse_int(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    int64_t v = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* A percentage with up to 4 significant decimals into millionths; 0, or
 * -1 with the reason in why. */
static int parse_ppm(const char *s, int64_t *out, const char **why)
{
    const char *dot = strchr(s, '.');
    size_t il = dot ? (size_t)(dot - s) : strlen(s);
    int64_t ip = 0, fp = 0;
    *why = "is not a decimal percentage (like 1.35)";
    if (il == 0 || il > 18)
        return -1;
    for (size_t i = 0; i < il; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        ip = ip * 10 + (s[i] - '0');
    }
    if (dot) {
        const char *f = dot + 1;
        size_t fl = strlen(f);
        if (fl == 0 || strspn(f, "0123456789") != fl)
            return -1;
        while (fl > 0 && f[fl - 1] == '0') /* trailing zeros carry nothing */
            fl--;
        if (fl > 4) {
            *why = "has more than 4 decimals (the model keeps millionths)";
            return -1;
        }
        for (size_t i = 0; i < 4; i++)
            fp = fp * 10 + (i < fl ? f[i] - '0' : 0);
    }
    if (ip >= 100) {
        *why = "is not below 100 %";
        return -1;
    }
    if (ip == 0 && fp == 0) {
        *why = "is not above 0";
        return -1;
    }
    *out = ip * 10000 + fp;
    return 0;
}

/* RATE: an unsigned decimal with at most 10 significant decimals into
 * units of 1e-10; 0, or -1 with the reason in why. */
static int parse_rate(const char *s, int64_t *out, const char **why)
{
    const char *dot = strchr(s, '.');
    size_t il = dot ? (size_t)(dot - s) : strlen(s);
    int64_t ip = 0, fp = 0;
    *why = "is not an unsigned decimal (like 3.45)";
    if (il == 0 || il > 18)
        return -1;
    for (size_t i = 0; i < il; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        ip = ip * 10 + (s[i] - '0');
    }
    if (dot) {
        const char *f = dot + 1;
        size_t fl = strlen(f);
        if (fl == 0 || strspn(f, "0123456789") != fl)
            return -1;
        while (fl > 0 && f[fl - 1] == '0') /* trailing zeros carry nothing */
            fl--;
        if (fl > RATE_DECIMALS) {
            *why = "has more than 10 decimals (it would have to be rounded)";
            return -1;
        }
        for (size_t i = 0; i < RATE_DECIMALS; i++)
            fp = fp * 10 + (i < fl ? f[i] - '0' : 0);
    }
    if (__builtin_mul_overflow(ip, RATE_ONE, &ip) ||
        __builtin_add_overflow(ip, fp, &ip)) {
        *why = "is too large";
        return -1;
    }
    *out = ip;
    return 0;
}

/* The value named s among en's values from lo up, or -1. */
static int parse_enum(const struct fmt_cc_enum *en, const char *s, int lo)
{
    for (int v = lo; v < en->count && v < 64; v++) {
        const char *nm = enum_name(en, v, lo);
        if (nm && !strcmp(nm, s))
            return v;
    }
    return -1;
}

/* The names f may hold, "a, b, c", cut to fit buf. */
static void enum_list(const struct fmt_cc_enum *en, int lo, char *buf,
                      size_t sz)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int v = lo; v < en->count && v < 64; v++) {
        const char *nm = enum_name(en, v, lo);
        if (!nm)
            continue;
        int n = snprintf(buf + len, sz - len, "%s%s", len ? ", " : "", nm);
        if (n < 0 || (size_t)n >= sz - len) {
            buf[len] = '\0';
            return;
        }
        len += (size_t)n;
    }
}

/* Make room for one more element in an array holding n of size sz.  Only
 * this reader builds these arrays, so their capacity is implied by n: 0,
 * then 4, 8, 16, ... */
static int grow(void **arr, size_t n, size_t sz)
{
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
        return 0;
    size_t cap = n ? n * 2 : 4;
    void *p = realloc(*arr, cap * sz);
    if (!p)
        return H2H_ENOMEM;
    *arr = p;
    return 0;
}

static int read_struct(struct rd *r, const struct fmt_cc_struct *sd,
                       void *base);
static void local_name(struct rd *r, char name[NAME_MAX_LEN]);

/* The Ccy attribute of the current element when it is a known code. */
static int read_ccy(struct rd *r, const char *name, char ccy[4])
{
    char *c = (char *)xmlTextReaderGetAttribute(r->x.r, BAD_CAST "Ccy");
    int ok = c && strlen(c) == 3 && fmt_ccy_exponent(c) >= 0;
    if (ok)
        memcpy(ccy, c, 4);
    else
        problem(r, name, "amount.ccy",
                "amount without a known ISO 4217 Ccy attribute (\"%.*s\")",
                c ? quote_len(c, 8) : 0, c ? c : "");
    xmlFree(c);
    return ok;
}

/* The text of the current element, up to its end tag; a new string, NULL
 * on a fatal error (err filled).  Unlike fmt_xml_text(), an element inside
 * a value is reported and left out rather than quietly concatenated:
 * <Nm>a<b>c</b></Nm> is a mistake, not the name "ac". */
static char *read_text(struct rd *r, const char *name)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int depth = xmlTextReaderDepth(r->x.r);
    int rc = 0;
    if (!xmlTextReaderIsEmptyElement(r->x.r)) {
        for (;;) {
            if ((rc = fmt_xml_read(&r->x, r->err)) < 0)
                goto fail;
            if (rc == 0) {
                h2h_err_set(r->err, H2H_EPARSE,
                            "line %d: document ends inside an element",
                            fmt_xml_line(&r->x));
                goto fail;
            }
            int t = xmlTextReaderNodeType(r->x.r);
            if (t == XML_READER_TYPE_END_ELEMENT &&
                xmlTextReaderDepth(r->x.r) == depth)
                break;
            if (t == XML_READER_TYPE_ELEMENT) {
                char child[NAME_MAX_LEN];
                local_name(r, child);
                problem(r, name, "unknown",
                        "element <%s> inside a value is ignored", child);
                if (fmt_xml_skip(&r->x, r->err) < 0)
                    goto fail;
                continue;
            }
            if (t != XML_READER_TYPE_TEXT && t != XML_READER_TYPE_CDATA &&
                t != XML_READER_TYPE_WHITESPACE &&
                t != XML_READER_TYPE_SIGNIFICANT_WHITESPACE)
                continue;
            const char *v = (const char *)xmlTextReaderConstValue(r->x.r);
            size_t vl = v ? strlen(v) : 0;
            if (len + vl > FMT_XML_MAX_TEXT) {
                h2h_err_set(r->err, H2H_ETOOBIG,
                            "line %d: text longer than %u bytes",
                            fmt_xml_line(&r->x), FMT_XML_MAX_TEXT);
                goto fail;
            }
            if (len + vl + 1 > cap) {
                size_t nc = cap ? cap : 64;
                while (nc < len + vl + 1)
                    nc *= 2;
                char *nb = realloc(buf, nc);
                if (!nb)
                    goto nomem;
                buf = nb;
                cap = nc;
            }
            memcpy(buf + len, v, vl);
            len += vl;
            buf[len] = '\0';
        }
    }
    if (!buf && !(buf = strdup("")))
        goto nomem;
    return buf;
nomem:
    h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
fail:
    free(buf);
    return NULL;
}

/* Read a leaf element into base; for MINOR the currency read goes to
 * mccy (for the check against the struct's currency afterwards). */
static int read_leaf(struct rd *r, const struct fmt_cc_field *f, void *base,
                     char mccy[4])
{
    void *p = at(base, f->off);
    char ccy[4] = "";
    int has_ccy = f->kind == FMT_CC_AMT || f->kind == FMT_CC_MINOR
                      ? read_ccy(r, f->name, ccy)
                      : 0;
    char *v = read_text(r, f->name);
    if (!v)
        return r->err && r->err->code ? r->err->code : H2H_EPARSE;
    struct h2h_err e = {0};
    const char *why;
    int64_t i64;
    if (f->kind == FMT_CC_LINES) {
        char **lines = p;
        size_t i = 0;
        while (i < f->cap && lines[i])
            i++;
        if (i == f->cap) {
            problem(r, f->name, "too_many",
                    "more than %zu lines, the rest "
                    "is ignored",
                    f->cap);
            free(v);
        } else {
            lines[i] = v;
        }
        return 0;
    }
    if (f->kind != FMT_CC_TEXT || f->shape)
        trim(v);
    switch (f->kind) {
    case FMT_CC_TEXT: {
        char **s = p;
        /* the value is kept even when it has the wrong shape: whoever
         * checks the model next names the same field in its own words */
        if (f->shape && !f->shape->ok(v))
            problem(r, f->name, "value", "\"%.*s\" is not %s", quote_len(v, 64),
                    v, f->shape->what);
        free(*s);
        *s = v;
        return 0;
    }
    case FMT_CC_INT:
    case FMT_CC_COUNT:
        if (parse_int(v, &i64) < 0 || (f->kind == FMT_CC_INT && i64 < 1))
            problem(r, f->name, "integer", "\"%.*s\" is not a number %s",
                    quote_len(v, 40), v,
                    f->kind == FMT_CC_INT ? "from 1 up" : "from 0 up");
        else if ((f->flags & FMT_CC_INT32) && i64 > INT_MAX)
            problem(r, f->name, "integer", "%lld is too large (at most %d)",
                    (long long)i64, INT_MAX);
        else
            int_set(f, p, i64);
        break;
    case FMT_CC_FLAG:
        if (!strcmp(v, "true") || !strcmp(v, "1"))
            *(int *)p = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "0"))
            *(int *)p = 0;
        else
            problem(r, f->name, "boolean", "\"%.*s\" is not true or false",
                    quote_len(v, 40), v);
        break;
    case FMT_CC_ENUM:
    case FMT_CC_ENUM0: {
        int ev = parse_enum(f->en, v, enum_lo(f));
        if (ev >= 0) {
            *(int *)p = ev;
        } else {
            char names[400];
            enum_list(f->en, enum_lo(f), names, sizeof(names));
            problem(r, f->name, "enum", "\"%.*s\" is not a %s (%s)",
                    quote_len(v, 40), v, f->en->what, names);
        }
        break;
    }
    case FMT_CC_AMT:
        if (!has_ccy)
            break;
        if (fmt_amount_parse(v, strlen(v), ccy, 0, &i64, &e) < 0) {
            problem(r, f->name, "amount", "%s", e.msg);
        } else {
            struct fmt_amount *a = p;
            a->minor = i64;
            memcpy(a->ccy, ccy, 4);
        }
        break;
    case FMT_CC_PPM:
        if (parse_ppm(v, &i64, &why) < 0)
            problem(r, f->name, "rate", "rate \"%.*s\" %s", quote_len(v, 40), v,
                    why);
        else
            *(int64_t *)p = i64;
        break;
    case FMT_CC_RATE:
        if (parse_rate(v, &i64, &why) < 0)
            problem(r, f->name, "rate", "rate \"%.*s\" %s", quote_len(v, 40), v,
                    why);
        else
            *(int64_t *)p = i64;
        break;
    case FMT_CC_CCY:
        /* kept when it fits, so that a model check can name it too */
        if (strlen(v) != 3 || fmt_ccy_exponent(v) < 0)
            problem(r, f->name, "value",
                    "\"%.*s\" is not a known ISO 4217 currency code",
                    quote_len(v, 40), v);
        if (strlen(v) == 3)
            memcpy(p, v, 4);
        break;
    case FMT_CC_MINOR:
        if (!has_ccy)
            break;
        if (fmt_amount_parse(v, strlen(v), ccy, 0, &i64, &e) < 0) {
            problem(r, f->name, "amount", "%s", e.msg);
        } else {
            *(int64_t *)p = i64;
            memcpy(mccy, ccy, 4);
        }
        break;
    default: H2H_BUG("field kind %d is not a leaf", (int)f->kind);
    }
    free(v);
    return 0;
}

/* Is the current element in our namespace?  Reports and skips it when
 * not (1 skipped, 0 ours, negative fatal). */
static int foreign(struct rd *r, const char *name)
{
    const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->x.r);
    if (ns && !strcmp(ns, r->ns))
        return 0;
    problem(r, name, "namespace", "element outside namespace %s is ignored",
            r->ns);
    int rc = fmt_xml_skip(&r->x, r->err);
    return rc < 0 ? rc : 1;
}

/* The local name of the current element, cut to fit. */
static void local_name(struct rd *r, char name[NAME_MAX_LEN])
{
    const char *ln = (const char *)xmlTextReaderConstLocalName(r->x.r);
    if (!ln)
        ln = "";
    snprintf(name, NAME_MAX_LEN, "%.*s", quote_len(ln, NAME_MAX_LEN - 1), ln);
}

/* Read the next node inside the element at depth; 1 a child element, 0
 * the element's end, negative fatal.  Text is reported on the way. */
static int next_child(struct rd *r, int depth)
{
    for (;;) {
        int rc = fmt_xml_read(&r->x, r->err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return h2h_err_set(r->err, H2H_EPARSE,
                               "line %d: document ends inside an element",
                               fmt_xml_line(&r->x));
        int t = xmlTextReaderNodeType(r->x.r);
        if (t == XML_READER_TYPE_END_ELEMENT &&
            xmlTextReaderDepth(r->x.r) == depth)
            return 0;
        if (t == XML_READER_TYPE_TEXT || t == XML_READER_TYPE_CDATA) {
            /* quoted: libxml2 dates a text node by its end, which may be
             * lines after where the stray words are */
            const char *v = (const char *)xmlTextReaderConstValue(r->x.r);
            while (v && is_ws(*v))
                v++;
            if (!v)
                v = "";
            problem(r, NULL, "text",
                    "text \"%.*s\" where only elements "
                    "belong",
                    quote_len(v, 40), v);
        } else if (t == XML_READER_TYPE_ELEMENT) {
            return 1;
        }
    }
}

static int read_list(struct rd *r, const struct fmt_cc_field *f, void *base)
{
    void **arr = at(base, f->off);
    size_t *n = at(base, f->off2);
    size_t saved = path_push(r->where, &r->wlen, f->name, 0);
    int rc = 0;
    if (xmlTextReaderIsEmptyElement(r->x.r))
        goto out;
    int depth = xmlTextReaderDepth(r->x.r);
    while ((rc = next_child(r, depth)) == 1) {
        char name[NAME_MAX_LEN];
        local_name(r, name);
        if ((rc = foreign(r, name)) != 0) {
            if (rc < 0)
                goto out;
            continue;
        }
        if (strcmp(name, f->item)) {
            problem(r, name, "unknown",
                    "unknown element is ignored (only "
                    "%s belongs here)",
                    f->item);
            if ((rc = fmt_xml_skip(&r->x, r->err)) < 0)
                goto out;
            continue;
        }
        if (*n >= f->cap) {
            problem(r, name, "too_many",
                    "more than %zu elements, the rest is ignored", f->cap);
            if ((rc = fmt_xml_skip(&r->x, r->err)) < 0)
                goto out;
            continue;
        }
        if (grow(arr, *n, f->sub->size) < 0) {
            rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        void *el = (char *)*arr + *n * f->sub->size;
        memset(el, 0, f->sub->size);
        if (f->init)
            f->init(el);
        (*n)++;
        size_t s2 = path_push(r->where, &r->wlen, name, (long)*n);
        rc = read_struct(r, f->sub, el);
        path_pop(r->where, &r->wlen, s2);
        if (rc < 0)
            goto out;
    }
out:
    path_pop(r->where, &r->wlen, saved);
    return rc < 0 ? rc : 0;
}

/* The name of the branch of sd's choice at off2 whose value is v. */
static const char *choice_name(const struct fmt_cc_struct *sd, size_t off2,
                               int v)
{
    for (size_t i = 0; i < sd->n; i++)
        if ((sd->f[i].flags & FMT_CC_CHOICE) && sd->f[i].off2 == off2 &&
            sd->f[i].choice == v)
            return sd->f[i].name;
    return "?";
}

static int read_field(struct rd *r, const struct fmt_cc_struct *sd,
                      const struct fmt_cc_field *f, void *base, char mccy[4])
{
    if (f->kind == FMT_CC_LIST)
        return read_list(r, f, base);
    if (f->kind != FMT_CC_SUB)
        return read_leaf(r, f, base, mccy);
    if (f->flags & FMT_CC_FLAGGED)
        *(int *)at(base, f->off2) = 1;
    if (f->flags & FMT_CC_CHOICE) {
        int *k = at(base, f->off2);
        if (*k != 0 && *k != f->choice) {
            problem(r, f->name, "choice",
                    "<%s> was given already and only one of them may be; "
                    "this element is ignored",
                    choice_name(sd, f->off2, *k));
            int rc = fmt_xml_skip(&r->x, r->err);
            return rc < 0 ? rc : 0;
        }
        *k = f->choice;
    }
    size_t saved = path_push(r->where, &r->wlen, f->name, 0);
    int rc = read_struct(r, f->sub, at(base, f->off));
    path_pop(r->where, &r->wlen, saved);
    return rc;
}

/* Read the children of the current element (a start tag) into base, up to
 * its end tag; then report the required elements that were not there. */
static int read_struct(struct rd *r, const struct fmt_cc_struct *sd, void *base)
{
    uint64_t seen = 0;
    int rc = 0;
    /* MINOR fields: the currency each was given in, and its line */
    char mccy[MAX_FIELDS][4];
    int mline[MAX_FIELDS];
    if (sd->n > MAX_FIELDS)
        H2H_BUG("table %s has %zu fields, more than %d", sd->name, sd->n,
                MAX_FIELDS);
    memset(mccy, 0, sizeof(mccy));
    memset(mline, 0, sizeof(mline));
    for (size_t i = 0; i < sd->n; i++)
        if (sd->f[i].kind == FMT_CC_SRCLINE)
            *(int *)at(base, sd->f[i].off) = fmt_xml_line(&r->x);
    if (!xmlTextReaderIsEmptyElement(r->x.r)) {
        int depth = xmlTextReaderDepth(r->x.r);
        while ((rc = next_child(r, depth)) == 1) {
            char name[NAME_MAX_LEN];
            local_name(r, name);
            if ((rc = foreign(r, name)) != 0) {
                if (rc < 0)
                    return rc;
                continue;
            }
            size_t i = 0;
            while (i < sd->n && (sd->f[i].kind == FMT_CC_SRCLINE ||
                                 strcmp(sd->f[i].name, name)))
                i++;
            if (i == sd->n) {
                problem(r, name, "unknown", "unknown element is ignored");
                if ((rc = fmt_xml_skip(&r->x, r->err)) < 0)
                    return rc;
                continue;
            }
            const struct fmt_cc_field *f = &sd->f[i];
            if ((seen & (UINT64_C(1) << i)) && f->kind != FMT_CC_LINES)
                problem(r, name, "repeated",
                        f->kind == FMT_CC_LIST || f->kind == FMT_CC_SUB
                            ? "element given twice, the contents are merged"
                            : "element given twice, the last one is kept");
            seen |= UINT64_C(1) << i;
            mline[i] = fmt_xml_line(&r->x);
            if ((rc = read_field(r, sd, f, base, mccy[i])) < 0)
                return rc;
        }
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < sd->n; i++)
        if ((sd->f[i].flags & FMT_CC_REQ) && !(seen & (UINT64_C(1) << i)))
            problem(r, sd->f[i].name, "missing", "required element is missing");
    /* a MINOR amount is in the struct's currency; an order slip may have
     * put it before the element that gives the currency, so look now */
    for (size_t i = 0; i < sd->n; i++) {
        const char *own = at(base, sd->f[i].off2);
        if (sd->f[i].kind != FMT_CC_MINOR || !mccy[i][0] || !own[0] ||
            !strncmp(own, mccy[i], 4))
            continue;
        problem_at(r, mline[i], sd->f[i].name, "amount.ccy",
                   "amount in %s, but this element's currency is %.3s", mccy[i],
                   own);
    }
    return 0;
}

int fmt_cc_read(const struct fmt_src *src, const char *ns, const char *root,
                const char *rule, const struct fmt_cc_struct *d, void *base,
                struct fmt_diag *diag, struct fmt_cc_report *rep,
                struct h2h_err *err)
{
    struct rd r;
    int rc;
    if (!src || !ns || !root || !rule || !d || !base || !rep)
        return h2h_err_set(err, H2H_EINVALID, "nothing to read or no output");
    memset(rep, 0, sizeof(*rep));
    memset(&r, 0, sizeof(r));
    r.ns = ns;
    r.rule = rule;
    r.diag = diag;
    r.rep = rep;
    r.err = err;
    fmt_xml_init();
    if ((rc = fmt_xml_open(&r.x, src, err)) < 0)
        goto out;
    while ((rc = fmt_xml_read(&r.x, err)) == 1)
        if (xmlTextReaderNodeType(r.x.r) == XML_READER_TYPE_ELEMENT)
            break;
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = h2h_err_set(err, H2H_EPARSE, "%s: empty document", r.x.name);
        goto out;
    }
    const char *ln = (const char *)xmlTextReaderConstLocalName(r.x.r);
    const char *uri = (const char *)xmlTextReaderConstNamespaceUri(r.x.r);
    if (!ln || strcmp(ln, root) || !uri || strcmp(uri, ns)) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "%s: root element <%.*s> in namespace \"%.*s\" "
                         "is not <%s> in %s",
                         r.x.name, ln ? quote_len(ln, 64) : 0, ln ? ln : "",
                         uri ? quote_len(uri, 100) : 0, uri ? uri : "", root,
                         ns);
        goto out;
    }
    rep->root_line = fmt_xml_line(&r.x);
    if ((rc = read_struct(&r, d, base)) < 0)
        goto out;
    /* after the root only whitespace, comments and PIs may follow; the
     * parser refuses anything else */
    while ((rc = fmt_xml_read(&r.x, err)) == 1)
        ;
out:
    fmt_xml_close(&r.x);
    return rc < 0 ? rc : 0;
}

/* ---- detection ----------------------------------------------------------- */

static int sp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int fmt_cc_detect(const char *buf, size_t len, const char *ns,
                  const char *const *roots, size_t n)
{
    if (!buf || !ns || !roots)
        return -1;
    const char *p = buf, *end = buf + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    /* the prologue: whitespace, <?...?>, <!--...--> */
    for (;;) {
        while (p < end && sp(*p))
            p++;
        if (end - p >= 2 && p[0] == '<' && p[1] == '?') {
            const char *q = memmem(p, (size_t)(end - p), "?>", 2);
            if (!q)
                return -1;
            p = q + 2;
        } else if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
            const char *q = memmem(p, (size_t)(end - p), "-->", 3);
            if (!q)
                return -1;
            p = q + 3;
        } else {
            break;
        }
    }
    if (p >= end || *p != '<')
        return -1;
    const char *gt = memchr(p, '>', (size_t)(end - p));
    if (!gt)
        return -1;
    const char *nm = p + 1, *ne = nm;
    while (ne < gt && !sp(*ne) && *ne != '/')
        ne++;
    const char *colon = memchr(nm, ':', (size_t)(ne - nm));
    const char *local = colon ? colon + 1 : nm;
    size_t plen = colon ? (size_t)(colon - nm) : 0;
    int kind = -1;
    for (size_t i = 0; i < n; i++)
        if ((size_t)(ne - local) == strlen(roots[i]) &&
            !memcmp(local, roots[i], (size_t)(ne - local)))
            kind = (int)i;
    if (kind < 0)
        return -1;
    /* the declaration of that prefix (or the default) must name ns */
    char decl[80];
    if (plen >= sizeof(decl) - 8)
        return -1;
    if (plen)
        snprintf(decl, sizeof(decl), "xmlns:%.*s", (int)plen, nm);
    else
        snprintf(decl, sizeof(decl), "xmlns");
    size_t dl = strlen(decl), nl = strlen(ns);
    for (const char *a = ne; a + dl < gt; a++) {
        if (memcmp(a, decl, dl) || !sp(a[-1]))
            continue;
        const char *q = a + dl;
        while (q < gt && sp(*q))
            q++;
        if (q >= gt || *q != '=')
            continue;
        q++;
        while (q < gt && sp(*q))
            q++;
        if (q >= gt || (*q != '"' && *q != '\''))
            continue;
        char quote = *q++;
        if ((size_t)(gt - q) > nl && !memcmp(q, ns, nl) && q[nl] == quote)
            return kind;
    }
    return -1;
}
