/*
 * mt940_read.c - MT940 / MT942 reader; see mt940.h for what it accepts and
 * how fields map onto the canonical model.
 *
 * Three layers: a raw line source (file or memory, lines capped, SOH/ETX
 * treated as line ends that also close a message), a line classifier that
 * groups lines into fields of one statement (envelopes, preambles, end
 * markers, wrapped continuations), and a statement parser that turns the
 * fields of one statement into model structs and emits them.
 */
#include "mt940.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "charset.h"
#include "ident.h"

#define MAX_PREAMBLE 20
#define SOH '\x01'
#define ETX '\x03'

/* ---- small string builder ----------------------------------------------- */

struct sb {
    char *s;
    size_t len, cap;
    bool oom;
};

static void sb_addn(struct sb *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_add(struct sb *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static const char *sb_str(const struct sb *b)
{
    return b->s ? b->s : "";
}

static void sb_release(struct sb *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

/* ---- raw input ------------------------------------------------------------
 */

struct lsrc {
    FILE *f;
    const char *mem;
    size_t memlen, mempos;
    char *buf;
    size_t cap, start, end;
    bool eof;
    int lineno; /* number of the next line */
};

/* Next piece of input up to '\n', SOH or ETX (returned in *term; 0 at end
 * of input without terminator).  1 when a piece was returned, 0 at end,
 * negative on error. */
static int lsrc_next(struct lsrc *ls, const char **p, size_t *len, int *term,
                     int *lineno, struct h2h_err *err)
{
    *lineno = ls->lineno;
    if (!ls->f) {
        if (ls->mempos >= ls->memlen)
            return 0;
        const char *s = ls->mem + ls->mempos;
        size_t n = ls->memlen - ls->mempos, i;
        for (i = 0; i < n; i++)
            if (s[i] == '\n' || s[i] == SOH || s[i] == ETX)
                break;
        if (i > FMT_MT940_MAX_LINE)
            return h2h_err_set(err, H2H_ETOOBIG,
                               "line %d: longer than %d bytes", ls->lineno,
                               FMT_MT940_MAX_LINE);
        *p = s;
        *len = i;
        *term = i < n ? s[i] : 0;
        ls->mempos += i < n ? i + 1 : i;
        if (*term == '\n')
            ls->lineno++;
        return 1;
    }
    for (;;) {
        size_t i;
        for (i = ls->start; i < ls->end; i++)
            if (ls->buf[i] == '\n' || ls->buf[i] == SOH || ls->buf[i] == ETX)
                break;
        if (i < ls->end || (ls->eof && ls->end > ls->start)) {
            if (i - ls->start > FMT_MT940_MAX_LINE)
                return h2h_err_set(err, H2H_ETOOBIG,
                                   "line %d: longer than %d bytes", ls->lineno,
                                   FMT_MT940_MAX_LINE);
            *p = ls->buf + ls->start;
            *len = i - ls->start;
            *term = i < ls->end ? ls->buf[i] : 0;
            ls->start = i < ls->end ? i + 1 : i;
            if (*term == '\n')
                ls->lineno++;
            return 1;
        }
        if (ls->eof)
            return 0;
        if (ls->end - ls->start > FMT_MT940_MAX_LINE)
            return h2h_err_set(err, H2H_ETOOBIG,
                               "line %d: longer than %d bytes", ls->lineno,
                               FMT_MT940_MAX_LINE);
        /* The piece handed out last lives in buf until this call, so
         * compacting only happens now. */
        if (ls->start > 0) {
            memmove(ls->buf, ls->buf + ls->start, ls->end - ls->start);
            ls->end -= ls->start;
            ls->start = 0;
        }
        size_t got = fread(ls->buf + ls->end, 1, ls->cap - ls->end, ls->f);
        ls->end += got;
        if (got == 0) {
            if (ferror(ls->f))
                return h2h_err_set(err, H2H_EIO, "read error");
            ls->eof = true;
        }
    }
}

/* ---- reader state ----------------------------------------------------- */

struct lline {
    char *s; /* UTF-8, CR and control bytes removed */
    size_t len;
    int no;
    int term;
};

struct field {
    char tag[8];
    int line;
    struct sb v; /* first line, then "\n" + each continuation line */
};

struct rd {
    struct lsrc ls;
    const char *charset;
    bool utf8;
    struct fmt_diag *diag;
    struct h2h_err *err;
    const struct fmt_stmt_sink *sink;

    struct lline peek;
    bool has_peek, peek_eof;

    int mt;        /* 940 / 942 from envelope or preamble, 0 unknown */
    bool seen_tag; /* a statement field has been seen in the file */
    int preamble;  /* text lines outside any field in a row */
    bool doc_begun;
    struct fmt_stmt_doc doc;

    struct field *f; /* fields of the statement being collected */
    size_t nf, capf;
    size_t bytes;
    bool seen_62;
    int cur; /* field taking continuation lines, -1 none */
    int nstmts;
};

#define DIAG(r, line, where, rule, ...)                                        \
    fmt_diag_add((r)->diag, (line), (where), (rule), __VA_ARGS__)

static void strip_cr_ctl(struct rd *r, struct lline *l)
{
    size_t o = 0;
    bool warned = false;
    for (size_t i = 0; i < l->len; i++) {
        unsigned char c = (unsigned char)l->s[i];
        if (c == '\r' || c == 0x1a)
            continue; /* CRLF, DOS end-of-file byte */
        if (c == '\t')
            c = ' ';
        else if (c < 0x20 || c == 0x7f) {
            if (!warned)
                DIAG(r, l->no, NULL, "mt940.charset",
                     "control character 0x%02x in text", c);
            warned = true;
            c = ' ';
        }
        l->s[o++] = (char)c;
    }
    l->s[o] = '\0';
    l->len = o;
}

/* Next converted line: 1, 0 at end, negative on error. */
static int read_line(struct rd *r, struct lline *out)
{
    if (r->has_peek) {
        *out = r->peek;
        r->has_peek = false;
        return 1;
    }
    if (r->peek_eof)
        return 0;
    const char *p = NULL;
    size_t len = 0;
    int term = 0, no = 0;
    int rc = lsrc_next(&r->ls, &p, &len, &term, &no, r->err);
    if (rc <= 0) {
        if (rc == 0)
            r->peek_eof = true;
        return rc;
    }
    if (no == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 && r->utf8) {
        p += 3;
        len -= 3;
    }
    out->no = no;
    out->term = term;
    if (r->utf8) {
        if (!fmt_utf8_valid(p, len))
            return h2h_err_set(r->err, H2H_ECHARSET,
                               "line %d: not valid UTF-8 (declare the "
                               "file's charset, e.g. ISO-8859-1 or CP852)",
                               no);
        out->s = malloc(len + 1);
        if (!out->s)
            return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        memcpy(out->s, p, len);
        out->s[len] = '\0';
        out->len = len;
    } else {
        size_t ol = 0;
        rc = fmt_to_utf8(r->charset, p, len, &out->s, &ol, r->err);
        if (rc < 0)
            return h2h_err_prefix(r->err, "line %d", no);
        out->len = ol;
    }
    strip_cr_ctl(r, out);
    return 1;
}

static const struct lline *peek_line(struct rd *r)
{
    if (!r->has_peek) {
        int rc = read_line(r, &r->peek);
        if (rc <= 0)
            return NULL; /* an error is reported again by the next read */
        r->has_peek = true;
    }
    return &r->peek;
}

/* ---- line classification ---------------------------------------------- */

static const char *const known_tags[] = {
    "20",  "21", "25", "25P", "28",  "28C", "60F", "60M", "61", "86", "62F",
    "62M", "64", "65", "90D", "90C", "13",  "13D", "34F", "NS", NULL};

/* If s starts with ":tag:" (an optional space before the second colon is
 * tolerated, seen in ING exports), copy the tag and return the offset of
 * the value; 0 when s is not tag-shaped.  *known says whether the tag
 * belongs to MT940/MT942. */
static size_t tag_of(const char *s, char tag[8], bool *known)
{
    *known = false;
    if (s[0] != ':')
        return 0;
    size_t i = 1;
    while (i < 8 &&
           (isdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])))
        i++;
    if (i == 1 || i >= 8)
        return 0;
    size_t end = i;
    if (s[i] == ' ' && s[i + 1] == ':')
        i++;
    if (s[i] != ':')
        return 0;
    memcpy(tag, s + 1, end - 1);
    tag[end - 1] = '\0';
    for (int k = 0; known_tags[k]; k++)
        if (strcmp(tag, known_tags[k]) == 0)
            *known = true;
    return i + 1;
}

static bool is_tagline(const char *s)
{
    char tag[8];
    bool known;
    while (*s == ' ')
        s++;
    return tag_of(s, tag, &known) > 0 && known;
}

static bool is_end_marker(const char *t)
{
    if (strncmp(t, "\xC2\xAD", 2) == 0) /* soft hyphen seen before "-XXX" */
        t += 2;
    if (t[0] != '-')
        return false;
    return t[1] == '\0' || t[1] == '}' || strcmp(t + 1, "XXX") == 0;
}

static int stmt_flush(struct rd *r);

static int add_field(struct rd *r, const char *tag, int line, const char *v)
{
    if (r->nf == r->capf) {
        size_t nc = r->capf ? r->capf * 2 : 32;
        struct field *nf = realloc(r->f, nc * sizeof(*nf));
        if (!nf)
            return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        r->f = nf;
        r->capf = nc;
    }
    struct field *f = &r->f[r->nf];
    memset(f, 0, sizeof(*f));
    snprintf(f->tag, sizeof(f->tag), "%s", tag);
    f->line = line;
    sb_add(&f->v, v);
    if (f->v.oom)
        return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
    r->cur = (int)r->nf++;
    return 0;
}

static int add_cont(struct rd *r, const char *s)
{
    struct field *f = &r->f[r->cur];
    sb_add(&f->v, "\n");
    sb_add(&f->v, s);
    if (f->v.oom)
        return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
    return 0;
}

static bool mt_hint(const char *t, int *mt)
{
    if ((strncmp(t, "940", 3) == 0 || strncmp(t, "942", 3) == 0) &&
        (t[3] == '\0' || t[3] == ' ')) {
        *mt = t[2] == '0' ? 940 : 942;
        return true;
    }
    return false;
}

static int process_line(struct rd *r, char *s, int no, int term);

/* "{1:...}{2:...}{3:...}{4:" - note the message type of block 2 and hand
 * whatever follows "{4:" on the same line back as a line of its own. */
static int do_envelope(struct rd *r, char *s, int no, int term)
{
    char *p = s;
    while (*p) {
        if (*p != '{') {
            p++;
            continue;
        }
        char *c = strchr(p, ':');
        if (!c)
            break;
        if (c - p == 2 && p[1] == '4')
            return process_line(r, c + 1, no, term);
        if (c - p == 2 && p[1] == '2' && (c[1] == 'I' || c[1] == 'O') &&
            strncmp(c + 2, "94", 2) == 0 && (c[4] == '0' || c[4] == '2'))
            r->mt = c[4] == '0' ? 940 : 942;
        int depth = 0;
        for (; *p; p++) {
            if (*p == '{')
                depth++;
            else if (*p == '}' && --depth == 0) {
                p++;
                break;
            }
        }
    }
    return 0;
}

static int process_line(struct rd *r, char *s, int no, int term)
{
    /* orig keeps leading spaces: inside a wrapped field they are text */
    char *orig = s;
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n == 0)
        return 0; /* blank lines carry nothing, not even inside :86: */
    char t[16];   /* trimmed copy of a short line, for exact matches */
    bool tiny = n < sizeof(t);
    snprintf(t, sizeof(t), "%.*s", (int)(tiny ? n : sizeof(t) - 1), s);

    r->bytes += n + 1;
    if (r->bytes > FMT_MT940_MAX_STMT)
        return h2h_err_set(r->err, H2H_ETOOBIG,
                           "line %d: statement larger than %d bytes", no,
                           FMT_MT940_MAX_STMT);

    if (s[0] == '{') {
        int rc = stmt_flush(r);
        if (rc < 0)
            return rc;
        return do_envelope(r, s, no, term);
    }
    if (s[0] == '}')
        return 0;
    if (s[0] == '-' || s[0] == '\xC2') {
        bool end = tiny ? is_end_marker(t) : s[0] == '-' && s[1] == '}';
        if (end) {
            if (r->cur >= 0 && !r->seen_62 && term == '\n' &&
                (strcmp(r->f[r->cur].tag, "86") == 0 ||
                 strcmp(r->f[r->cur].tag, "61") == 0)) {
                const struct lline *nx = peek_line(r);
                if (nx && !is_tagline(nx->s) && nx->s[0] != '{' &&
                    !is_end_marker(nx->s))
                    return add_cont(r, orig); /* ING wraps "-" in :86: */
            }
            r->cur = -1;
            return stmt_flush(r);
        }
    }
    if (strcmp(t, ":") == 0) {
        /* Sparkasse wraps ":86:" as ":" + "86:...". */
        const struct lline *nx = peek_line(r);
        if (nx && isdigit((unsigned char)nx->s[0]) &&
            isdigit((unsigned char)nx->s[1])) {
            char tag[8];
            bool known;
            struct sb j = {0};
            sb_add(&j, ":");
            sb_add(&j, nx->s);
            if (j.oom)
                return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
            if (tag_of(j.s, tag, &known) && known) {
                struct lline l;
                if (read_line(r, &l) > 0)
                    free(l.s);
                int rc = process_line(r, j.s, no, term);
                sb_release(&j);
                return rc;
            }
            sb_release(&j);
        }
    }

    char tag[8];
    bool known;
    size_t off = tag_of(s, tag, &known);
    if (off && known) {
        if (strcmp(tag, "NS") != 0)
            r->seen_tag = true;
        r->preamble = 0;
        if (strcmp(tag, "20") == 0 && r->nf > 0) {
            int rc = stmt_flush(r);
            if (rc < 0)
                return rc;
        }
        if (tag[0] == '6' && tag[1] == '2')
            r->seen_62 = true;
        return add_field(r, tag, no, s + off);
    }
    if (off && (strcmp(tag, "940") == 0 || strcmp(tag, "942") == 0) &&
        s[off] == '\0') {
        r->mt = tag[2] == '0' ? 940 : 942;
        r->cur = -1;
        return stmt_flush(r);
    }
    if (r->cur >= 0)
        return add_cont(r, orig);
    if (off && !r->seen_tag)
        return h2h_err_set(r->err, H2H_EPARSE,
                           "line %d: not an MT940/MT942 file: unknown "
                           "field tag :%s:",
                           no, tag);
    if (off) {
        DIAG(r, no, NULL, "mt940.tag",
             "unknown field tag :%s: outside a statement, line skipped", tag);
        return 0;
    }
    /* Text outside any field: a preamble ("ABNANL2A", "940 00", "0000
     * 01INGB...") or junk. */
    mt_hint(t, &r->mt);
    r->preamble++;
    if (!r->seen_tag && r->preamble > MAX_PREAMBLE)
        return h2h_err_set(r->err, H2H_EPARSE,
                           "line %d: not an MT940/MT942 file: no field tag "
                           "in the first %d lines of text",
                           no, MAX_PREAMBLE);
    if (r->seen_tag && r->preamble == MAX_PREAMBLE + 1)
        DIAG(r, no, NULL, "mt940.garbage",
             "more than %d lines of text outside any field", MAX_PREAMBLE);
    return 0;
}

/* ---- value helpers ----------------------------------------------------------
 */

static char *xstrndup(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* Copy of s[0..n) without leading/trailing spaces, NULL when empty. */
static char *trimdup(const char *s, size_t n)
{
    while (n > 0 && (*s == ' '))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' '))
        n--;
    return n ? xstrndup(s, n) : NULL;
}

/* Bytes of the first n characters of s (all of s when shorter).  Fixed
 * widths in MT fields count characters, and by now the text is UTF-8 (a
 * CP852 letter is two bytes): cutting at a byte count could split one. */
static size_t u8_prefix(const char *s, size_t n)
{
    size_t i = 0;
    for (; n > 0 && s[i]; n--) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

/* Replace *dst (freed) with trimdup(s, n); false on ENOMEM. */
static bool setn(char **dst, const char *s, size_t n)
{
    char *c = trimdup(s, n);
    if (!c) {
        /* empty value: leave dst as it was */
        for (size_t i = 0; i < n; i++)
            if (s[i] != ' ')
                return false;
        return true;
    }
    free(*dst);
    *dst = c;
    return true;
}

static bool sets(char **dst, const char *s)
{
    return setn(dst, s, strlen(s));
}

/* The field's lines joined without separator: SWIFT wraps at 65
 * characters (ING anywhere), so a line break carries no meaning. */
static char *join_lines(const char *v)
{
    size_t n = strlen(v), o = 0;
    char *j = malloc(n + 1);
    if (!j)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i] != '\n')
            j[o++] = v[i];
    j[o] = '\0';
    return j;
}

/* "YYYY-MM-DD" into out[11]; y, m, d already range-checked. */
static void ymd(char *out, int y, int m, int d)
{
    out[0] = (char)('0' + y / 1000 % 10);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10 % 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10 % 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* YYMMDD -> "YYYY-MM-DD": 0, -1 when not six digits, -2 when not a date. */
static int date6(const char *s, char out[11], int *year)
{
    if (!digits(s, 6))
        return -1;
    int yy = num2(s), m = num2(s + 2), d = num2(s + 4);
    int y = yy < 80 ? 2000 + yy : 1900 + yy;
    if (year)
        *year = y;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -2;
    ymd(out, y, m, d);
    return 0;
}

/* Decimal amount with ',' (or '.', old Rabobank) into minor units of a
 * currency with exp decimals.  Returns the characters used, or -1. */
static int amount_parse(const char *s, int exp, int64_t *minor,
                        const char **why)
{
    size_t i = 0;
    int64_t v = 0;
    int nint = 0, ndec = 0;
    bool sep = false;
    *why = "not a number";
    for (;; i++) {
        char c = s[i];
        if (isdigit((unsigned char)c)) {
            if (sep) {
                if (ndec >= exp) {
                    if (c != '0') {
                        *why = "more decimals than the currency has";
                        return -1;
                    }
                    ndec++;
                    continue;
                }
                ndec++;
            } else
                nint++;
            if (__builtin_mul_overflow(v, 10, &v) ||
                __builtin_add_overflow(v, c - '0', &v)) {
                *why = "too large";
                return -1;
            }
        } else if ((c == ',' || c == '.') && !sep) {
            sep = true;
        } else
            break;
    }
    if (nint == 0)
        return -1;
    for (int k = ndec < exp ? ndec : exp; k < exp; k++)
        if (__builtin_mul_overflow(v, 10, &v)) {
            *why = "too large";
            return -1;
        }
    *minor = v;
    return (int)i;
}

static int ccy_exp(const char *ccy)
{
    int e = fmt_ccy_exponent(ccy);
    /* Old statements carry withdrawn codes (DEM); two decimals is what
     * they had. */
    return e < 0 ? 2 : e;
}

static bool ccy_shape(const char *s)
{
    return isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
           isupper((unsigned char)s[2]);
}

static bool looks_iban(const char *s)
{
    size_t n = strlen(s);
    if (n < 15 || n > 34 || !isupper((unsigned char)s[0]) ||
        !isupper((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
        !isdigit((unsigned char)s[3]))
        return false;
    for (size_t i = 4; i < n; i++)
        if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool looks_bic(const char *s, size_t n)
{
    if (n != 8 && n != 11)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i < 6 ? !isupper(c) : !(isupper(c) || isdigit(c)))
            return false;
    }
    return true;
}

/* An account number in whatever form: IBAN-shaped goes to iban. */
static bool set_acct(struct fmt_account *a, const char *s, size_t n)
{
    char *v = trimdup(s, n);
    if (!v)
        return true;
    if (looks_iban(v)) {
        free(a->iban);
        a->iban = v;
    } else {
        free(a->other_id);
        a->other_id = v;
    }
    return true;
}

/* ---- statement assembly ---------------------------------------------------
 */

struct stmt_out {
    struct fmt_stmt st;
    struct fmt_entry *e;
    size_t ne, cape;
    char ccy[4];
    int mt;
    struct sb *raw86; /* per entry raw :86: text */
    struct sb stmt86;
};

static struct fmt_entry_dtl *dtl_of(struct fmt_entry *e)
{
    if (!e->dtls) {
        e->dtls = calloc(1, sizeof(*e->dtls));
        if (!e->dtls)
            return NULL;
        e->n_dtls = 1;
    }
    return &e->dtls[0];
}

static int add_balance(struct rd *r, struct stmt_out *o, const struct field *f,
                       const char *type, const char *sub)
{
    const char *v = sb_str(&f->v);
    char where[12];
    snprintf(where, sizeof(where), ":%s:", f->tag);
    char date[11];
    int sign;
    if (v[0] == 'C')
        sign = 1;
    else if (v[0] == 'D')
        sign = -1;
    else {
        DIAG(r, f->line, where, "mt940.balance",
             "balance must start with C or D: \"%.20s\"", v);
        return 0;
    }
    int rc = date6(v + 1, date, NULL);
    if (rc == -1) {
        DIAG(r, f->line, where, "mt940.date", "balance date missing");
        return 0;
    }
    if (rc == -2)
        DIAG(r, f->line, where, "mt940.date", "invalid date %.6s", v + 1);
    const char *p = v + 7;
    char ccy[4] = "";
    if (ccy_shape(p)) {
        memcpy(ccy, p, 3);
        p += 3;
    } else if (o->ccy[0]) {
        /* Non-SWIFT German exports leave the currency out of :62M:. */
        memcpy(ccy, o->ccy, 4);
    } else {
        DIAG(r, f->line, where, "mt940.currency", "currency code missing");
        return 0;
    }
    int64_t minor;
    const char *why;
    int n = amount_parse(p, ccy_exp(ccy), &minor, &why);
    if (n < 0) {
        DIAG(r, f->line, where, "mt940.amount", "bad amount \"%.20s\": %s", p,
             why);
        return 0;
    }
    if (p[n] != '\0' && p[n] != '\n')
        DIAG(r, f->line, where, "mt940.balance",
             "unexpected text after the amount: \"%.20s\"", p + n);
    if (!o->ccy[0])
        memcpy(o->ccy, ccy, 4);
    struct fmt_balance *nb =
        realloc(o->st.bals, (o->st.n_bals + 1) * sizeof(*nb));
    if (!nb)
        return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
    o->st.bals = nb;
    struct fmt_balance *b = &nb[o->st.n_bals++];
    memset(b, 0, sizeof(*b));
    snprintf(b->type, sizeof(b->type), "%s", type);
    memcpy(b->amt.ccy, ccy, 4);
    b->amt.minor = sign * minor;
    if ((sub && !(b->sub_type = strdup(sub))) ||
        (rc == 0 && !(b->date = strdup(date))))
        return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
    return 0;
}

static void parse_account(struct stmt_out *o, const char *v0)
{
    char *v = join_lines(v0);
    if (!v)
        return;
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == ' ')
        n--;
    v[n] = '\0';
    /* Trailing currency: "NL..EUR", "... EUR", ".../HUF", "554EUR". */
    if (n > 3 && ccy_shape(v + n - 3) && fmt_ccy_valid(v + n - 3) &&
        (isdigit((unsigned char)v[n - 4]) || v[n - 4] == ' ' ||
         v[n - 4] == '/' || v[n - 4] == '.')) {
        free(o->st.acct.ccy);
        o->st.acct.ccy = xstrndup(v + n - 3, 3);
        n -= 3;
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '/'))
            n--;
        v[n] = '\0';
    }
    char *slash = strchr(v, '/');
    if (slash) {
        size_t pl = (size_t)(slash - v);
        if (pl == 8 && digits(v, 8)) {
            o->st.svcr.clr_sys = strdup("DEBLZ");
            o->st.svcr.clr_mmb_id = xstrndup(v, 8);
            set_acct(&o->st.acct, slash + 1, strlen(slash + 1));
            free(v);
            return;
        }
        if (looks_bic(v, pl)) {
            o->st.svcr.bic = xstrndup(v, pl);
            set_acct(&o->st.acct, slash + 1, strlen(slash + 1));
            free(v);
            return;
        }
    }
    set_acct(&o->st.acct, v, strlen(v));
    free(v);
}

/* ---- :86: ------------------------------------------------------------------
 */

static const char *const nl_keys[] = {
    "TRTP",    "EREF",      "PREF", "MARF", "CSID", "CNTP", "REMI",
    "NAME",    "IBAN",      "BBAN", "BIC",  "ADDR", "ORDP", "BENM",
    "ISDT",    "RTRN",      "ACCW", "ULTC", "ULTD", "ULTB", "PURP",
    "SUM",     "OCMT",      "CHGS", "EXCH", "TRCD", "BUSP", "SVCL",
    "CDTRREF", "CDTRREFTP", "CREF", "RTYP", NULL};

/* Index of the /KEY/ at s[i], or -1. */
static int nl_key_at(const char *s, size_t *klen)
{
    if (s[0] != '/')
        return -1;
    int best = -1;
    size_t bl = 0;
    for (int k = 0; nl_keys[k]; k++) {
        size_t l = strlen(nl_keys[k]);
        if (strncmp(s + 1, nl_keys[k], l) == 0 && s[1 + l] == '/' && l > bl) {
            best = k;
            bl = l;
        }
    }
    *klen = bl;
    return best;
}

/* Strip trailing spaces and slashes of s[0..n). */
static size_t rstrip_slash(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '/'))
        n--;
    return n;
}

/* Part number k (0-based) of a '/'-separated value. */
static bool part(const char *v, size_t n, int k, const char **ps, size_t *pl)
{
    const char *p = v, *end = v + n;
    for (int i = 0; i < k; i++) {
        const char *sl = memchr(p, '/', (size_t)(end - p));
        if (!sl)
            return false;
        p = sl + 1;
    }
    const char *sl = memchr(p, '/', (size_t)(end - p));
    *ps = p;
    *pl = (size_t)((sl ? sl : end) - p);
    return true;
}

static bool nl_detect(const char *j, size_t *start)
{
    size_t i = 0, kl;
    while (j[i] == ' ')
        i++;
    if (nl_key_at(j + i, &kl) >= 0) {
        *start = i;
        return true;
    }
    /* ASN/SNS put "account name" and padding before the keywords. */
    static const char *const anchors[] = {"/TRTP/", "/EREF/", "/REMI/", NULL};
    for (int k = 0; anchors[k]; k++) {
        const char *p = strstr(j, anchors[k]);
        if (p) {
            *start = (size_t)(p - j);
            for (size_t q = 0; q < *start; q++)
                if (j[q] == '/' && nl_key_at(j + q, &kl) >= 0) {
                    *start = q;
                    break;
                }
            return true;
        }
    }
    return false;
}

static void nl_parse(struct fmt_entry *e, struct fmt_entry_dtl *d,
                     const char *j, size_t start)
{
    size_t n = strlen(j);
    size_t i = start;
    while (i < n) {
        size_t kl;
        int k = nl_key_at(j + i, &kl);
        if (k < 0) {
            i++;
            continue;
        }
        size_t vs = i + kl + 2, ve = vs;
        /* The value runs to the next keyword; the keyword search restarts
         * at the closing slash so "/ORDP//NAME/" reads as two keys. */
        size_t q = i + kl + 1;
        for (; q < n; q++) {
            size_t kl2;
            if (j[q] == '/' && nl_key_at(j + q, &kl2) >= 0)
                break;
        }
        ve = q < vs ? vs : q;
        const char *v = j + vs;
        size_t vl = rstrip_slash(v, ve - vs);
        const char *key = nl_keys[k];
        const char *ps;
        size_t pl;
        if (!strcmp(key, "EREF"))
            setn(&d->end_to_end_id, v, vl);
        else if (!strcmp(key, "PREF"))
            setn(&d->pmt_inf_id, v, vl);
        else if (!strcmp(key, "MARF"))
            setn(&d->mndt_id, v, vl);
        else if (!strcmp(key, "RTRN"))
            setn(&d->rtr_rsn, v, vl);
        else if (!strcmp(key, "TRTP"))
            setn(&d->bk_tx_cd_prtry, v, vl);
        else if (!strcmp(key, "PURP"))
            setn(&d->purp, v, vl);
        else if (!strcmp(key, "NAME"))
            setn(&d->cpty.name, v, vl);
        else if (!strcmp(key, "ADDR"))
            setn(&d->cpty.addr.lines[0], v, vl);
        else if (!strcmp(key, "IBAN"))
            set_acct(&d->cpty_acct, v, vl);
        else if (!strcmp(key, "BBAN"))
            setn(&d->cpty_acct.other_id, v, vl);
        else if (!strcmp(key, "BIC"))
            setn(&d->cpty_agt.bic, v, vl);
        else if (!strcmp(key, "ULTC") || !strcmp(key, "ULTD") ||
                 !strcmp(key, "ULTB")) {
            if (part(v, vl, 0, &ps, &pl))
                setn(&d->ult_cpty.name, ps, pl);
        } else if (!strcmp(key, "CNTP") || !strcmp(key, "ORDP") ||
                   !strcmp(key, "BENM")) {
            /* CNTP: account/BIC/name/city; ORDP, BENM: account/name */
            bool cntp = key[0] == 'C';
            if (part(v, vl, 0, &ps, &pl) && !d->cpty_acct.iban &&
                !d->cpty_acct.other_id)
                set_acct(&d->cpty_acct, ps, pl);
            if (cntp && part(v, vl, 1, &ps, &pl) && !d->cpty_agt.bic)
                setn(&d->cpty_agt.bic, ps, pl);
            if (part(v, vl, cntp ? 2 : 1, &ps, &pl) && !d->cpty.name)
                setn(&d->cpty.name, ps, pl);
        } else if (!strcmp(key, "ACCW")) {
            const char *c = memchr(v, ',', vl);
            set_acct(&d->cpty_acct, v, c ? (size_t)(c - v) : vl);
            if (c)
                setn(&d->cpty_agt.bic, c + 1, vl - (size_t)(c + 1 - v));
        } else if (!strcmp(key, "REMI")) {
            if (vl >= 6 && !strncmp(v, "USTD//", 6))
                setn(&d->rmt_ustrd, v + 6, vl - 6);
            else if (vl >= 5 && !strncmp(v, "STRD/", 5) &&
                     part(v, vl, 1, &ps, &pl)) {
                setn(&d->rmt_strd.cdtr_ref_issuer, ps, pl);
                const char *r = ps + pl;
                if (r < v + vl)
                    setn(&d->rmt_strd.cdtr_ref, r + 1,
                         (size_t)(v + vl - r - 1));
            } else
                setn(&d->rmt_ustrd, v, vl);
        }
        i = q;
    }
    (void)e;
}

static const char *const sepa_kw[] = {
    "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+",
    "ABWE+", "COAM+", "OAMT+", "IBAN+", "BIC+",  NULL};

static void gvc_purpose(struct fmt_entry_dtl *d, const char *p)
{
    size_t n = strlen(p);
    /* positions of SEPA keywords in order */
    size_t pos[64];
    int kw[64], nk = 0;
    for (size_t i = 0; i < n && nk < 64; i++)
        for (int k = 0; sepa_kw[k]; k++) {
            size_t l = strlen(sepa_kw[k]);
            if (!strncmp(p + i, sepa_kw[k], l)) {
                pos[nk] = i;
                kw[nk++] = k;
                i += l - 1;
                break;
            }
        }
    if (nk == 0) {
        setn(&d->rmt_ustrd, p, n);
        return;
    }
    bool svwz = false;
    for (int x = 0; x < nk; x++) {
        size_t l = strlen(sepa_kw[kw[x]]);
        size_t vs = pos[x] + l, ve = x + 1 < nk ? pos[x + 1] : n;
        const char *v = p + vs;
        size_t vl = ve - vs;
        switch (kw[x]) {
        case 0: setn(&d->end_to_end_id, v, vl); break;
        case 1: setn(&d->instr_id, v, vl); break;
        case 2: setn(&d->mndt_id, v, vl); break;
        case 5:
            setn(&d->rmt_ustrd, v, vl);
            svwz = true;
            break;
        case 6:
        case 7: setn(&d->ult_cpty.name, v, vl); break;
        default: break;
        }
    }
    if (!svwz && pos[0] > 0)
        setn(&d->rmt_ustrd, p, pos[0]);
}

static bool gvc_parse(struct fmt_entry_dtl *d, const char *j)
{
    while (*j == ' ')
        j++;
    if (!digits(j, 3) || (j[3] != '?' && j[3] != '>'))
        return false;
    char sep = j[3];
    setn(&d->bk_tx_cd_prtry, j, 3);
    struct sb sub[100];
    memset(sub, 0, sizeof(sub));
    const char *p = j + 3;
    while (*p) {
        /* p points at a separator followed by two digits */
        if (!(p[0] == sep && isdigit((unsigned char)p[1]) &&
              isdigit((unsigned char)p[2]))) {
            p++;
            continue;
        }
        int id = num2(p + 1);
        const char *v = p + 3, *q = v;
        while (*q && !(q[0] == sep && isdigit((unsigned char)q[1]) &&
                       isdigit((unsigned char)q[2])))
            q++;
        sb_addn(&sub[id], v, (size_t)(q - v));
        p = q;
    }
    struct sb purpose = {0}, name = {0};
    for (int k = 20; k <= 29; k++)
        sb_add(&purpose, sb_str(&sub[k]));
    for (int k = 60; k <= 63; k++)
        sb_add(&purpose, sb_str(&sub[k]));
    sb_add(&name, sb_str(&sub[32]));
    sb_add(&name, sb_str(&sub[33]));
    if (purpose.len)
        gvc_purpose(d, purpose.s);
    if (name.len)
        sets(&d->cpty.name, name.s);
    if (sub[30].len) {
        char *a = trimdup(sub[30].s, sub[30].len);
        if (a && looks_bic(a, strlen(a)))
            sets(&d->cpty_agt.bic, a);
        else if (a) {
            sets(&d->cpty_agt.clr_mmb_id, a);
            if (strlen(a) == 8 && digits(a, 8))
                sets(&d->cpty_agt.clr_sys, "DEBLZ");
        }
        free(a);
    }
    if (sub[38].len)
        set_acct(&d->cpty_acct, sub[38].s, sub[38].len);
    else if (sub[31].len)
        set_acct(&d->cpty_acct, sub[31].s, sub[31].len);
    for (int k = 0; k < 100; k++)
        sb_release(&sub[k]);
    sb_release(&purpose);
    sb_release(&name);
    return true;
}

/* Free text: lines joined with a space, except after a full 65-character
 * line, which was wrapped mid-word. */
static char *free_text(const char *v)
{
    struct sb b = {0};
    size_t prev = 0;
    bool first = true;
    while (*v) {
        const char *nl = strchr(v, '\n');
        size_t n = nl ? (size_t)(nl - v) : strlen(v);
        size_t raw = n;
        while (n > 0 && v[n - 1] == ' ')
            n--;
        const char *s = v;
        size_t full = n;
        if (n > 0) {
            if (first || prev < 65) {
                while (n > 0 && *s == ' ')
                    s++, n--;
                if (!first && n)
                    sb_add(&b, " ");
            }
            sb_addn(&b, s, n);
            first = false;
        }
        prev = full;
        v += nl ? raw + 1 : raw;
    }
    if (b.oom) {
        sb_release(&b);
        return NULL;
    }
    return b.s;
}

/* Raw text for addtl_ntry_inf: lines with trailing padding removed. */
static void raw_lines(struct sb *b, const char *v)
{
    while (*v) {
        const char *nl = strchr(v, '\n');
        size_t n = nl ? (size_t)(nl - v) : strlen(v), raw = n;
        while (n > 0 && v[n - 1] == ' ')
            n--;
        if (n > 0) {
            if (b->len)
                sb_add(b, "\n");
            sb_addn(b, v, n);
        }
        v += nl ? raw + 1 : raw;
    }
}

static int finish_86(struct fmt_entry *e, const char *raw)
{
    if (!raw || !*raw)
        return 0;
    struct sb t = {0};
    raw_lines(&t, raw);
    if (t.oom)
        return H2H_ENOMEM;
    free(e->addtl_ntry_inf);
    e->addtl_ntry_inf = t.s;
    struct fmt_entry_dtl *d = dtl_of(e);
    if (!d)
        return H2H_ENOMEM;
    char *j = join_lines(raw);
    if (!j)
        return H2H_ENOMEM;
    size_t start;
    if (gvc_parse(d, j)) {
        /* done */
    } else if (nl_detect(j, &start)) {
        nl_parse(e, d, j, start);
    } else {
        char *t = free_text(raw);
        if (t && *t) {
            free(d->rmt_ustrd);
            d->rmt_ustrd = t;
        } else
            free(t);
    }
    free(j);
    return 0;
}

/* ---- :61: -----------------------------------------------------------------
 */

/* A :61: that cannot be read is not passed on half-filled. */
static int drop_entry(struct stmt_out *o)
{
    o->ne--;
    fmt_entry_release(&o->e[o->ne]);
    sb_release(&o->raw86[o->ne]);
    return 1;
}

static void book_date(char out[11], int vy, int vm, int vd, int m, int d,
                      bool *ok)
{
    /* Entry date has no year: take the one nearest to the value date so
     * that 31 December / 2 January rolls over either way. */
    long best = 0;
    int by = vy;
    bool have = false;
    for (int y = vy - 1; y <= vy + 1; y++) {
        if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
            continue;
        long diff = (long)(y - vy) * 372 + (m - vm) * 31 + (d - vd);
        if (diff < 0)
            diff = -diff;
        if (!have || diff < best) {
            best = diff;
            by = y;
            have = true;
        }
    }
    *ok = have;
    if (have)
        ymd(out, by, m, d);
}

static int parse_61(struct rd *r, struct stmt_out *o, const struct field *f)
{
    const char *v = sb_str(&f->v);
    const char *nl = strchr(v, '\n');
    struct sb l1 = {0};
    sb_addn(&l1, v, nl ? (size_t)(nl - v) : strlen(v));
    const char *rest = nl ? nl + 1 : "";
    /* Sparkasse wraps right after the mark: ":61:1811261126CR" + "30,00.." */
    if (*rest) {
        const char *q = sb_str(&l1);
        size_t n = l1.len;
        while (n > 0 && q[n - 1] == ' ')
            n--;
        size_t i = 6;
        if (n >= 6 && digits(q, 6)) {
            if (n >= 11 && digits(q + 6, 4) && isalpha((unsigned char)q[10]))
                i += 4;
            if (i + 1 < n && q[i] == 'R' &&
                (q[i + 1] == 'C' || q[i + 1] == 'D'))
                i += 2;
            else if (i < n && (q[i] == 'C' || q[i] == 'D'))
                i += 1;
            if (i < n && isalpha((unsigned char)q[i]))
                i++;
            if (i == n) {
                const char *nl2 = strchr(rest, '\n');
                size_t m = nl2 ? (size_t)(nl2 - rest) : strlen(rest);
                l1.len = n;
                sb_addn(&l1, rest, m);
                rest = nl2 ? nl2 + 1 : "";
            }
        }
    }
    if (l1.oom)
        return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
    const char *p = sb_str(&l1);

    if (o->ne == o->cape) {
        size_t nc = o->cape ? o->cape * 2 : 16;
        struct fmt_entry *ne = realloc(o->e, nc * sizeof(*ne));
        struct sb *nr = realloc(o->raw86, nc * sizeof(*nr));
        if (ne)
            o->e = ne;
        if (nr)
            o->raw86 = nr;
        if (!ne || !nr) {
            sb_release(&l1);
            return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        }
        o->cape = nc;
    }
    struct fmt_entry *e = &o->e[o->ne];
    memset(e, 0, sizeof(*e));
    memset(&o->raw86[o->ne], 0, sizeof(struct sb));
    o->ne++;
    e->line = f->line;
    e->sts = strdup("BOOK");

    char vdate[11];
    int vy = 0;
    int rc = date6(p, vdate, &vy);
    if (rc == -1) {
        DIAG(r, f->line, ":61:", "mt940.61", "value date missing: \"%.30s\"",
             p);
        sb_release(&l1);
        return drop_entry(o);
    }
    if (rc == -2)
        DIAG(r, f->line, ":61:", "mt940.date", "invalid value date %.6s", p);
    else
        e->val_dt = strdup(vdate);
    int vm = num2(p + 2), vd = num2(p + 4);
    p += 6;
    if (digits(p, 4) && isalpha((unsigned char)p[4])) {
        char bd[11];
        bool ok;
        book_date(bd, vy, vm, vd, num2(p), num2(p + 2), &ok);
        if (ok)
            e->book_dt = strdup(bd);
        else
            DIAG(r, f->line, ":61:", "mt940.date", "invalid entry date %.4s",
                 p);
        p += 4;
    }
    if (p[0] == 'R' && (p[1] == 'C' || p[1] == 'D')) {
        e->reversal = 1;
        /* RC reverses a credit, so the entry itself is a debit */
        e->credit = p[1] == 'D';
        p += 2;
    } else if (p[0] == 'C' || p[0] == 'D') {
        e->credit = p[0] == 'C';
        p += 1;
    } else {
        DIAG(r, f->line, ":61:", "mt940.61",
             "debit/credit mark missing: \"%.30s\"", p);
        sb_release(&l1);
        return drop_entry(o);
    }
    if (isalpha((unsigned char)p[0]) && isdigit((unsigned char)p[1]))
        p++; /* funds code, the third letter of the currency */
    memcpy(e->amt.ccy, o->ccy, 4);
    const char *why;
    int n = amount_parse(p, ccy_exp(o->ccy), &e->amt.minor, &why);
    if (n < 0) {
        DIAG(r, f->line, ":61:", "mt940.amount", "bad amount \"%.20s\": %s", p,
             why);
        sb_release(&l1);
        return drop_entry(o);
    }
    p += n;
    /* transaction type: N/F/S + 3; some banks leave it out */
    const char *refs = p;
    if (!strncmp(p, "//", 2) || (!strncmp(p, "NONREF", 6) &&
                                 (p[6] == '\0' || !strncmp(p + 6, "//", 2))))
        refs = p;
    else if (isalpha((unsigned char)p[0]) && strlen(p) >= 4) {
        size_t k = u8_prefix(p, 4);
        e->bk_tx_prtry = trimdup(p, k);
        refs = p + k;
    } else if (*p) {
        e->bk_tx_prtry = trimdup(p, strlen(p));
        refs = p + strlen(p);
        DIAG(r, f->line, ":61:", "mt940.61",
             "malformed transaction type "
             "\"%s\"",
             p);
    }
    const char *bank = strstr(refs, "//");
    size_t rl = bank ? (size_t)(bank - refs) : strlen(refs);
    char *extra = NULL;
    size_t k16 = u8_prefix(refs, 16);
    if (k16 < rl && memmem(refs, rl, "  ", 2)) {
        /* old Rabobank: 16-character reference, then the name */
        e->cust_ref = trimdup(refs, k16);
        extra = trimdup(refs + k16, rl - k16);
    } else
        e->cust_ref = trimdup(refs, rl);
    if (e->cust_ref && !strcmp(e->cust_ref, "NONREF")) {
        free(e->cust_ref);
        e->cust_ref = NULL;
    }
    struct sb bref = {0};
    if (bank) {
        const char *b = bank + 2;
        sb_add(&bref, b);
        /* ING wraps the bank reference itself onto the next line */
        const char *nl2 = strchr(rest, '\n');
        size_t m = nl2 ? (size_t)(nl2 - rest) : strlen(rest);
        if (m && bref.len < 16 && rest[0] != '/' && !memchr(rest, ' ', m) &&
            bref.len + m <= 16) {
            sb_addn(&bref, rest, m);
            rest = nl2 ? nl2 + 1 : "";
        }
        e->acct_svcr_ref = trimdup(sb_str(&bref), bref.len);
    }
    sb_release(&bref);
    struct sb sup = {0};
    if (extra)
        sb_add(&sup, extra);
    free(extra);
    if (*rest) {
        char *j = join_lines(rest);
        if (j) {
            if (sup.len)
                sb_add(&sup, " ");
            sb_add(&sup, j);
        }
        free(j);
    }
    if (sup.len) {
        char *t = trimdup(sup.s, sup.len);
        if (t) {
            struct fmt_entry_dtl *d = dtl_of(e);
            if (d)
                d->addtl_tx_inf = t;
            else
                free(t);
        }
    }
    sb_release(&sup);
    sb_release(&l1);
    return 0;
}

/* ---- statement ------------------------------------------------------------
 */

static void stmt_out_release(struct stmt_out *o)
{
    for (size_t i = 0; i < o->ne; i++) {
        fmt_entry_release(&o->e[i]);
        sb_release(&o->raw86[i]);
    }
    free(o->e);
    free(o->raw86);
    sb_release(&o->stmt86);
    fmt_stmt_release(&o->st);
}

static void fields_release(struct rd *r)
{
    for (size_t i = 0; i < r->nf; i++)
        sb_release(&r->f[i].v);
    r->nf = 0;
    r->bytes = 0;
    r->seen_62 = false;
    r->cur = -1;
}

static bool summary(const char *v, int64_t *count, struct fmt_amount *a,
                    const char **why)
{
    const char *p = v;
    int64_t c = 0;
    while (isdigit((unsigned char)*p) && p - v < 6)
        c = c * 10 + (*p++ - '0');
    *why = "count missing";
    if (p == v)
        return false;
    *why = "currency missing";
    if (!ccy_shape(p))
        return false;
    memcpy(a->ccy, p, 3);
    a->ccy[3] = '\0';
    int n = amount_parse(p + 3, ccy_exp(a->ccy), &a->minor, why);
    if (n < 0)
        return false;
    *count = c;
    return true;
}

static int stmt_emit(struct rd *r, struct stmt_out *o)
{
    const struct fmt_stmt_sink *k = r->sink;
    int rc;
    if (!r->doc_begun) {
        r->doc.kind = o->mt == 942 ? FMT_STMT_REPORT : FMT_STMT_STATEMENT;
        r->doc.source_format = o->mt == 942 ? "MT942" : "MT940";
        r->doc_begun = true;
        if (k->begin && (rc = k->begin(k->ctx, &r->doc)) < 0)
            return rc;
    }
    r->nstmts++;
    if (k->stmt_begin && (rc = k->stmt_begin(k->ctx, &o->st)) < 0)
        return rc;
    for (size_t i = 0; i < o->ne; i++)
        if (k->entry && (rc = k->entry(k->ctx, &o->st, &o->e[i])) < 0)
            return rc;
    if (k->stmt_end && (rc = k->stmt_end(k->ctx, &o->st)) < 0)
        return rc;
    return 0;
}

static int stmt_flush(struct rd *r)
{
    if (r->nf == 0)
        return 0;
    if (!r->seen_tag) {
        /* only :NS: so far: nothing of a statement to pass on */
        fields_release(r);
        return 0;
    }
    struct stmt_out o;
    memset(&o, 0, sizeof(o));
    int rc = 0;
    o.st.line = r->f[0].line;
    bool is942 = r->mt == 942;
    if (!r->mt)
        for (size_t i = 0; i < r->nf; i++)
            if (!strcmp(r->f[i].tag, "34F") || !strcmp(r->f[i].tag, "13D"))
                is942 = true;
    o.mt = is942 ? 942 : 940;

    /* Currency first: entries need it and may come before :62F:. */
    for (size_t i = 0; i < r->nf && !o.ccy[0]; i++) {
        const char *t = r->f[i].tag, *v = sb_str(&r->f[i].v);
        if ((t[0] == '6' &&
             (t[1] == '0' || t[1] == '2' || t[1] == '4' || t[1] == '5')) &&
            strlen(v) >= 10 && ccy_shape(v + 7))
            memcpy(o.ccy, v + 7, 3);
        else if (!strcmp(t, "34F") && ccy_shape(v))
            memcpy(o.ccy, v, 3);
    }
    /* :25: may name it too; parse it early for that */
    int seen[8] = {0}; /* 20 21 25 28 60 62 64 13D */
    int seenline[8] = {0};
    static const char *const once[] = {"20", "21", "25", "28",
                                       "60", "62", "64", "13"};
    enum { AT_STMT, AT_ENTRY, AT_DROPPED } at = AT_STMT;
    for (size_t i = 0; i < r->nf && rc == 0; i++) {
        struct field *f = &r->f[i];
        const char *t = f->tag, *v = sb_str(&f->v);
        char where[12];
        snprintf(where, sizeof(where), ":%s:", t);
        for (int x = 0; x < 8; x++)
            if (!strncmp(t, once[x], strlen(once[x]))) {
                if (seen[x]++)
                    DIAG(r, f->line, where, "mt940.repeat",
                         "field %s repeated in one statement (first at "
                         "line %d); ignored",
                         where, seenline[x]);
                else
                    seenline[x] = f->line;
            }
        bool first = true;
        for (int x = 0; x < 8; x++)
            if (!strncmp(t, once[x], strlen(once[x])) && seen[x] > 1)
                first = false;
        if (!first)
            continue;
        if (!strcmp(t, "20")) {
            char *j = join_lines(v);
            if (j)
                sets(&o.st.id, j);
            free(j);
        } else if (!strcmp(t, "21")) {
            sets(&o.st.related_ref, v);
        } else if (!strcmp(t, "25") || !strcmp(t, "25P")) {
            parse_account(&o, v);
            if (!o.ccy[0] && o.st.acct.ccy)
                memcpy(o.ccy, o.st.acct.ccy, 3);
        } else if (!strcmp(t, "28") || !strcmp(t, "28C")) {
            char *j = join_lines(v);
            if (j) {
                char *sl = strchr(j, '/');
                setn(&o.st.elctrnc_seq_nb, j,
                     sl ? (size_t)(sl - j) : strlen(j));
                if (sl)
                    sets(&o.st.page_nb, sl + 1);
            }
            free(j);
        } else if (!strcmp(t, "60F") || !strcmp(t, "60M")) {
            rc = add_balance(r, &o, f, "OPBD", t[2] == 'M' ? "INTM" : NULL);
        } else if (!strcmp(t, "62F") || !strcmp(t, "62M")) {
            rc = add_balance(r, &o, f, "CLBD", t[2] == 'M' ? "INTM" : NULL);
            at = AT_STMT;
        } else if (!strcmp(t, "64")) {
            rc = add_balance(r, &o, f, "CLAV", NULL);
            at = AT_STMT;
        } else if (!strcmp(t, "65")) {
            rc = add_balance(r, &o, f, "FWAV", NULL);
            at = AT_STMT;
        } else if (!strcmp(t, "61")) {
            if (!o.ccy[0])
                DIAG(r, f->line, where, "mt940.currency",
                     "no currency known for the entry (no balance)");
            rc = parse_61(r, &o, f);
            at = rc == 1 ? AT_DROPPED : AT_ENTRY;
            if (rc == 1)
                rc = 0;
        } else if (!strcmp(t, "86")) {
            /* the :86: of an unreadable :61: goes with it */
            /* kept untrimmed: a space at a line end can be text */
            struct sb *b =
                at == AT_ENTRY && o.ne ? &o.raw86[o.ne - 1] : &o.stmt86;
            if (at != AT_DROPPED) {
                if (b->len)
                    sb_add(b, "\n");
                sb_add(b, v);
            }
        } else if (!strcmp(t, "90D") || !strcmp(t, "90C")) {
            int64_t c;
            struct fmt_amount a = {0};
            const char *why;
            if (!summary(v, &c, &a, &why))
                DIAG(r, f->line, where, "mt940.summary",
                     "bad summary \"%.30s\": %s", v, why);
            else {
                o.st.has_summary = 1;
                if (t[2] == 'D') {
                    o.st.n_debits = c;
                    o.st.sum_debits = a;
                } else {
                    o.st.n_credits = c;
                    o.st.sum_credits = a;
                }
            }
            at = AT_STMT;
        } else if (!strcmp(t, "13D") || !strcmp(t, "13")) {
            char d[11];
            if (date6(v, d, NULL) == 0 && digits(v + 6, 4) &&
                (v[10] == '+' || v[10] == '-') && digits(v + 11, 4)) {
                char ts[32];
                snprintf(ts, sizeof(ts), "%sT%.2s:%.2s:00%c%.2s:%.2s", d, v + 6,
                         v + 8, v[10], v + 11, v + 13);
                sets(&o.st.cre_dt_tm, ts);
            } else
                DIAG(r, f->line, where, "mt940.date",
                     "bad date/time \"%.20s\" (want YYMMDDhhmm+hhmm)", v);
        } else if (!strcmp(t, "34F")) {
            /* the floor limit is in the account's currency */
            if (!o.st.acct.ccy && ccy_shape(v))
                o.st.acct.ccy = xstrndup(v, 3);
            const char *p = v + 3, *why;
            int64_t m;
            if (*p == 'D' || *p == 'C')
                p++;
            if (!ccy_shape(v) || amount_parse(p, ccy_exp(o.ccy), &m, &why) < 0)
                DIAG(r, f->line, where, "mt940.34F",
                     "bad floor limit \"%.30s\"", v);
        }
    }
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < o.ne; i++) {
        if (o.raw86[i].oom || (rc = finish_86(&o.e[i], o.raw86[i].s)) < 0) {
            rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (o.stmt86.len) {
        struct sb t = {0};
        raw_lines(&t, o.stmt86.s);
        if (t.oom) {
            rc = h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        o.st.addtl_stmt_inf = t.s;
    }
    /* mandatory fields */
    {
        int line = o.st.line;
        if (!seen[0])
            DIAG(r, line, ":20:", "mt940.missing",
                 "statement without transaction reference :20:");
        if (!seen[2])
            DIAG(r, line, ":25:", "mt940.missing",
                 "statement without account identification :25:");
        if (!seen[3])
            DIAG(r, line, ":28C:", "mt940.missing",
                 "statement without statement number :28C:");
        if (o.mt == 940) {
            if (!seen[4])
                DIAG(r, line, ":60F:", "mt940.missing",
                     "statement without opening balance :60F:");
            if (!seen[5])
                DIAG(r, line, ":62F:", "mt940.missing",
                     "statement without closing balance :62F:");
        } else {
            bool f34 = false;
            for (size_t i = 0; i < r->nf; i++)
                if (!strcmp(r->f[i].tag, "34F"))
                    f34 = true;
            if (!f34)
                DIAG(r, line, ":34F:", "mt940.missing",
                     "report without floor limit :34F:");
            if (!seen[7])
                DIAG(r, line, ":13D:", "mt940.missing",
                     "report without date/time indication :13D:");
        }
    }
    rc = stmt_emit(r, &o);
out:
    stmt_out_release(&o);
    fields_release(r);
    return rc;
}

/* ---- entry point -----------------------------------------------------------
 */

int fmt_mt940_read(const struct fmt_src *src, const struct fmt_stmt_sink *sink,
                   struct fmt_diag *diag, struct h2h_err *err)
{
    static const struct fmt_stmt_sink nosink = {0};
    struct rd r;
    memset(&r, 0, sizeof(r));
    int rc = 0;
    r.sink = sink ? sink : &nosink;
    r.diag = diag;
    r.err = err;
    r.cur = -1;
    r.ls.lineno = 1;
    r.charset = src ? src->charset : NULL;
    r.utf8 = fmt_charset_is_utf8(r.charset);
    if (!src)
        return h2h_err_set(err, H2H_EINVALID, "no input");
    if (!r.utf8 && !fmt_charset_known(r.charset))
        return h2h_err_set(err, H2H_ECONFIG, "unknown charset %s", r.charset);
    const char *name = src->name   ? src->name
                       : src->path ? src->path
                                   : "<memory>";
    if (src->path) {
        r.ls.f = fopen(src->path, "rb");
        if (!r.ls.f)
            return h2h_err_set(err, H2H_EIO, "%s: cannot open: %s", name,
                               strerror(errno));
        r.ls.cap = FMT_MT940_MAX_LINE + 4096;
        r.ls.buf = malloc(r.ls.cap);
        if (!r.ls.buf) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
    } else {
        r.ls.mem = src->buf ? src->buf : "";
        r.ls.memlen = src->buf ? src->len : 0;
    }

    struct lline l;
    while ((rc = read_line(&r, &l)) > 0) {
        rc = process_line(&r, l.s, l.no, l.term);
        int term = l.term;
        free(l.s);
        if (rc < 0)
            goto out;
        if (term == SOH || term == ETX) {
            r.cur = -1;
            if ((rc = stmt_flush(&r)) < 0)
                goto out;
        }
    }
    if (rc < 0)
        goto out;
    if ((rc = stmt_flush(&r)) < 0)
        goto out;
    if (!r.seen_tag) {
        rc = h2h_err_set(err, H2H_EPARSE,
                         "%s: not an MT940/MT942 file: no statement field "
                         "(:20:, :25:, :60F:, :61:, ...) found",
                         name);
        goto out;
    }
    if (r.doc_begun && r.sink->end &&
        (rc = r.sink->end(r.sink->ctx, &r.doc)) < 0)
        goto out;
    rc = 0;
out:
    if (r.has_peek)
        free(r.peek.s);
    fields_release(&r);
    free(r.f);
    free(r.ls.buf);
    if (r.ls.f)
        fclose(r.ls.f);
    return rc;
}
