/*
 * recon_text.c - text the matcher compares: invoice-number-like tokens in
 * remittance, counterparty names, account numbers, civil dates.  The rules
 * are the ones recon.h documents (steps 2 and 3); everything here is
 * ASCII-folding on UTF-8 bytes, deliberately simple and locale-free so a
 * run gives the same result on every machine.
 */
#include <string.h>

#include "ident.h"
#include "recon_int.h"

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static unsigned char up(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

/* ---- references --------------------------------------------------------- */

/* Normalise [s, s+n) to letters and digits; 0 when over RC_TOK_MAX. */
static size_t norm_alnum(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c))
            continue;
        if (k == RC_TOK_MAX)
            return 0;
        out[k++] = (char)up(c);
    }
    out[k] = '\0';
    return k;
}

size_t rc_ref_norm(const char *s, char *out)
{
    out[0] = '\0';
    if (!s)
        return 0;
    size_t k = norm_alnum(s, strlen(s), out);
    if (k < 3 || !strcmp(out, "NOTPROVIDED")) {
        out[0] = '\0';
        return 0;
    }
    return k;
}

static int is_sep(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' ||
           c == ';' || c == ':' || c == '(' || c == ')' || c == '[' ||
           c == ']' || c == '{' || c == '}' || c == '"' || c == '\'' ||
           c == '#' || c == '<' || c == '>' || c == '|' || c == '=';
}

/* 2026-03-31, 31.03.2026, 3/31/26: three digit groups, one separator. */
static int is_date(const char *s, size_t n)
{
    size_t len[3] = {0, 0, 0};
    int g = 0;
    char sep = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_digit(c)) {
            len[g]++;
            continue;
        }
        if (c != '-' && c != '.' && c != '/')
            return 0;
        if ((sep && c != sep) || g == 2 || !len[g])
            return 0;
        sep = (char)c;
        g++;
    }
    if (g != 2 || !len[2])
        return 0;
    if (len[0] == 4)
        return len[1] <= 2 && len[2] <= 2;
    return len[0] <= 2 && len[1] <= 2 && (len[2] == 2 || len[2] == 4);
}

static int has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_digit((unsigned char)s[i]))
            return 1;
    return 0;
}

/* Next raw token at or after *p: [*start, *p). 0 at the end. */
static int next_raw(const char **p, const char **start)
{
    const unsigned char *q = (const unsigned char *)*p;
    while (*q && is_sep(*q))
        q++;
    if (!*q)
        return 0;
    *start = (const char *)q;
    while (*q && !is_sep(*q))
        q++;
    *p = (const char *)q;
    return 1;
}

int rc_tokens(const char *text, rc_tok_fn fn, void *ctx)
{
    if (!text)
        return 0;
    char tok[RC_TOK_MAX + 1];
    const char *p = text, *start;
    while (next_raw(&p, &start)) {
        size_t raw = (size_t)(p - start);
        if (raw > 4 * RC_TOK_MAX || is_date(start, raw))
            continue;
        size_t k = norm_alnum(start, raw, tok);
        /* ISO 11649 "RF18 5390 0754 7034": the groups are one token */
        if (k == 4 && tok[0] == 'R' && tok[1] == 'F' &&
            is_digit((unsigned char)tok[2]) &&
            is_digit((unsigned char)tok[3])) {
            const char *q = p, *s2;
            char grp[RC_TOK_MAX + 1];
            while (next_raw(&q, &s2)) {
                size_t g = norm_alnum(s2, (size_t)(q - s2), grp);
                if (g == 0 || g > 4 || k + g > 25)
                    break;
                memcpy(tok + k, grp, g + 1);
                k += g;
                p = q;
            }
        }
        if (k >= 5 && has_digit(tok, k)) {
            int rc = fn(ctx, tok, k);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- names -------------------------------------------------------------- */

/* U+00C0..U+00FF folded to ASCII (0: a separator such as x and /). */
static const char *const latin1[64] = {
    "A", "A", "A", "A",  "A",  "A",  "AE", "C", "E", "E", "E",  "E", "I",
    "I", "I", "I", "D",  "N",  "O",  "O",  "O", "O", "O", NULL, "O", "U",
    "U", "U", "U", "Y",  "TH", "SS", "A",  "A", "A", "A", "A",  "A", "AE",
    "C", "E", "E", "E",  "E",  "I",  "I",  "I", "I", "D", "N",  "O", "O",
    "O", "O", "O", NULL, "O",  "U",  "U",  "U", "U", "Y", "TH", "Y",
};

/* Legal forms and filler words that say nothing about who it is. */
#define W(s)                                                                   \
    {                                                                          \
        s, sizeof(s) - 1                                                       \
    }
static const struct {
    const char *w;
    size_t n;
} noise[] = {
    W("GMBH"),    W("MBH"),          W("AG"),   W("KG"),          W("KGAA"),
    W("OHG"),     W("UG"),           W("EK"),   W("EV"),          W("SE"),
    W("LTD"),     W("LIMITED"),      W("LLC"),  W("LLP"),         W("LP"),
    W("INC"),     W("INCORPORATED"), W("CORP"), W("CORPORATION"), W("CO"),
    W("COMPANY"), W("SA"),           W("SAS"),  W("SARL"),        W("SRL"),
    W("SPA"),     W("BV"),           W("NV"),   W("PLC"),         W("OY"),
    W("OYJ"),     W("AB"),           W("AS"),   W("ASA"),         W("APS"),
    W("PTY"),     W("THE"),          W("AND"),  W("UND"),         W("ET"),
};
#undef W

static int is_noise(const char *t, size_t n)
{
    if (n > 12) /* longer than the longest, INCORPORATED */
        return 0;
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        if (noise[i].n == n && !memcmp(noise[i].w, t, n))
            return 1;
    return 0;
}

void rc_name_prep(const char *raw, struct rc_name *n)
{
    /* pass 1: fold into tokens in a scratch buffer */
    char buf[RC_NAME_MAX];
    uint8_t off[RC_NAME_TOKS], tl[RC_NAME_TOKS];
    size_t len = 0, ntok = 0;
    int in_tok = 0;
    const unsigned char *p = (const unsigned char *)(raw ? raw : "");
    while (*p && ntok <= RC_NAME_TOKS) {
        const char *add = NULL;
        char one[2] = {0, 0};
        size_t adv = 1, addlen = 1;
        if (is_alnum(*p)) {
            one[0] = (char)up(*p);
            add = one;
        } else if (*p == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF) {
            add = latin1[p[1] - 0x80];
            addlen = add && add[1] ? 2 : 1; /* the table has 1 or 2 */
            adv = 2;
        } else if (*p >= 0x80) {
            /* other scripts (e.g. Chinese): bytes kept as they are */
            one[0] = (char)*p;
            add = one;
        }
        p += adv;
        if (!add) {
            in_tok = 0;
            continue;
        }
        if (!in_tok) {
            if (ntok == RC_NAME_TOKS || len + 1 + addlen > RC_NAME_MAX)
                break;
            off[ntok] = (uint8_t)len;
            tl[ntok] = 0;
            ntok++;
            in_tok = 1;
        }
        if (len + addlen > RC_NAME_MAX)
            break;
        memcpy(buf + len, add, addlen);
        len += addlen;
        tl[ntok - 1] = (uint8_t)(tl[ntok - 1] + addlen);
    }
    /* pass 2: drop legal forms (unless nothing else is left), join */
    size_t keep = 0;
    uint8_t drop[RC_NAME_TOKS];
    for (size_t i = 0; i < ntok; i++) {
        drop[i] = (uint8_t)is_noise(buf + off[i], tl[i]);
        keep += !drop[i];
    }
    memset(n, 0, sizeof(*n));
    size_t k = 0;
    for (size_t i = 0; i < ntok; i++) {
        if (keep && drop[i])
            continue;
        if (n->ntok && k < RC_NAME_MAX)
            n->s[k++] = ' ';
        if (k + tl[i] > RC_NAME_MAX)
            break;
        n->off[n->ntok] = (uint8_t)k;
        n->tl[n->ntok] = tl[i];
        n->ntok++;
        memcpy(n->s + k, buf + off[i], tl[i]);
        k += tl[i];
    }
    n->len = (uint8_t)k;
}

static int tok_in(const struct rc_name *n, const char *t, size_t l)
{
    for (size_t i = 0; i < n->ntok; i++)
        if (n->tl[i] == l && !memcmp(n->s + n->off[i], t, l))
            return 1;
    return 0;
}

/* Levenshtein distance of two strings of at most RC_NAME_MAX bytes. */
static int lev(const char *a, size_t na, const char *b, size_t nb)
{
    uint8_t row[RC_NAME_MAX + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = (uint8_t)j;
    for (size_t i = 1; i <= na; i++) {
        uint8_t diag = row[0];
        row[0] = (uint8_t)i;
        for (size_t j = 1; j <= nb; j++) {
            uint8_t up_ = row[j];
            uint8_t best = (uint8_t)(diag + (a[i - 1] != b[j - 1]));
            if (up_ + 1 < best)
                best = (uint8_t)(up_ + 1);
            if (row[j - 1] + 1 < best)
                best = (uint8_t)(row[j - 1] + 1);
            row[j] = best;
            diag = up_;
        }
    }
    return row[nb];
}

int rc_name_sim(const struct rc_name *a, const struct rc_name *b)
{
    if (!a->len || !b->len)
        return 0;
    if (a->len == b->len && !memcmp(a->s, b->s, a->len))
        return 1000;
    size_t inter = 0;
    for (size_t i = 0; i < a->ntok; i++)
        inter += tok_in(b, a->s + a->off[i], a->tl[i]);
    size_t uni = a->ntok + b->ntok - inter;
    int jac = uni ? (int)(inter * 1000 / uni) : 0;
    size_t longer = a->len > b->len ? a->len : b->len;
    int d = lev(a->s, a->len, b->s, b->len);
    int ed = (int)(1000 - (size_t)d * 1000 / longer);
    return jac > ed ? jac : ed;
}

int rc_acct_eq(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    for (;;) {
        while (*p && !is_alnum(*p))
            p++;
        while (*q && !is_alnum(*q))
            q++;
        if (!*p || !*q)
            return !*p && !*q;
        if (up(*p) != up(*q))
            return 0;
        p++, q++;
    }
}

uint32_t rc_acct_hash(const char *s)
{
    uint32_t h = 0x811c9dc5u;
    int any = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (!is_alnum(*p))
            continue;
        h = (h ^ up(*p)) * 16777619u;
        any = 1;
    }
    return any ? (h ? h : 1) : 0;
}

/* ---- dates -------------------------------------------------------------- */

int32_t rc_days(const char *iso)
{
    if (!iso || !*iso)
        return INT32_MIN;
    long d = fmt_date_days(iso);
    if (d == INT32_MIN || d < INT32_MIN + 1 || d > INT32_MAX)
        return INT32_MIN;
    return (int32_t)d;
}

void rc_date_str(int32_t days, char out[11])
{
    if (days == INT32_MIN) {
        out[0] = '\0';
        return;
    }
    /* civil_from_days (H. Hinnant), proleptic Gregorian */
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999) {
        out[0] = '\0';
        return;
    }
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}
