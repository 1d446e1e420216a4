/*
 * recon_input.c - treasury's expected receipts (open invoices) from CSV or
 * the canonical XML of recon.h.  Both stream (one row or element at a
 * time), report every problem with its line and go on, so a file shows
 * all of its problems at once; without a diag the first problem is fatal.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amount.h"
#include "recon_int.h"
#include "xmlsafe.h"

/* A problem: into diag, or fatal (returned) without one. */
static int problem(struct fmt_diag *diag, struct h2h_err *err, const char *name,
                   int line, const char *where, const char *rule,
                   const char *msg)
{
    if (diag) {
        fmt_diag_add(diag, line, where, rule, "%s", msg);
        return 0;
    }
    return h2h_err_set(err, H2H_EINVALID, "%s:%d: %s%s%s", name, line,
                       where ? where : "", where ? ": " : "", msg);
}

/* recon_add_expected: a rule broken is a problem, anything else fatal. */
static int add(struct recon *r, const struct recon_expected *x,
               struct fmt_diag *diag, struct h2h_err *err, const char *name,
               int line)
{
    struct h2h_err e2 = {0};
    int rc = recon_add_expected(r, x, &e2);
    if (rc == H2H_EINVALID)
        return problem(diag, err, name, line, NULL, "recon.receipt", e2.msg);
    if (rc < 0)
        return h2h_err_set(err, rc, "%s:%d: %s", name, line, e2.msg);
    return 0;
}

/* ---- CSV ---------------------------------------------------------------- */

enum { C_REF, C_PAYER, C_AMOUNT, C_CCY, C_DUE, C_ACCT, N_COLS };

static const char *const col_names[N_COLS] = {
    "reference", "payer", "amount", "currency", "due_date", "account",
};

#define MAX_FIELDS 32

struct csvr {
    FILE *f;
    char sep;
    long line;     /* current line */
    long rec_line; /* line the record started on */
    char *buf;     /* all fields of a record, NUL separated */
    size_t len, cap;
    size_t off[MAX_FIELDS];
    int quoted[MAX_FIELDS];
    int n;        /* fields in the record */
    int too_many; /* more than MAX_FIELDS */
    int too_long; /* a field over RECON_MAX_STR */
};

static int put(struct csvr *c, char ch)
{
    if (c->len + 1 >= c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        char *b = realloc(c->buf, nc);
        if (!b)
            return H2H_ENOMEM;
        c->buf = b;
        c->cap = nc;
    }
    c->buf[c->len++] = ch;
    return 0;
}

static int end_field(struct csvr *c, size_t start)
{
    if (c->len - start > RECON_MAX_STR)
        c->too_long = 1;
    if (c->n == MAX_FIELDS) {
        c->too_many = 1;
        c->len = start;
    } else {
        c->off[c->n++] = start;
    }
    return put(c, '\0');
}

/* Next record: 1, 0 at the end, H2H_ENOMEM.  A quote problem is kept in
 * *bad_quote (the record is still returned). */
static int next_record(struct csvr *c, int *bad_quote)
{
    int ch, rc;
    c->len = 0;
    c->n = 0;
    c->too_many = c->too_long = 0;
    *bad_quote = 0;
    c->rec_line = c->line;
    if ((ch = getc(c->f)) == EOF)
        return 0;
    size_t start = 0;
    int in_q = 0, was_q = 0;
    for (;; ch = getc(c->f)) {
        if (ch == EOF) {
            if (in_q)
                *bad_quote = 1;
            break;
        }
        if (in_q) {
            if (ch == '"') {
                int nx = getc(c->f);
                if (nx == '"') {
                    if ((rc = put(c, '"')) < 0)
                        return rc;
                    continue;
                }
                in_q = 0;
                if (nx != EOF)
                    ungetc(nx, c->f);
                continue;
            }
            if (ch == '\r')
                continue; /* a line break inside quotes is one \n */
            if (ch == '\n')
                c->line++;
            if ((rc = put(c, (char)ch)) < 0)
                return rc;
            continue;
        }
        if (ch == '"' && c->len == start) {
            in_q = was_q = 1;
            continue;
        }
        if (ch == '"')
            *bad_quote = 1;
        if (ch == c->sep) {
            if (c->n < MAX_FIELDS)
                c->quoted[c->n] = was_q;
            if ((rc = end_field(c, start)) < 0)
                return rc;
            start = c->len;
            was_q = 0;
            continue;
        }
        if (ch == '\r')
            continue;
        if (ch == '\n') {
            c->line++;
            break;
        }
        if ((rc = put(c, (char)ch)) < 0)
            return rc;
    }
    if (c->n < MAX_FIELDS)
        c->quoted[c->n] = was_q;
    if ((rc = end_field(c, start)) < 0)
        return rc;
    return 1;
}

/* Field i trimmed of blanks unless it was quoted. */
static char *field(struct csvr *c, int i)
{
    char *s = c->buf + c->off[i];
    if (c->quoted[i])
        return s;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int blank_record(struct csvr *c)
{
    for (int i = 0; i < c->n; i++)
        if (*field(c, i))
            return 0;
    return 1;
}

/* ',' or ';', whichever occurs more often outside quotes in line 1. */
static char detect_sep(FILE *f)
{
    int ch, in_q = 0;
    long comma = 0, semi = 0;
    while ((ch = getc(f)) != EOF && (in_q || ch != '\n')) {
        if (ch == '"')
            in_q = !in_q;
        else if (!in_q && ch == ',')
            comma++;
        else if (!in_q && ch == ';')
            semi++;
    }
    return semi > comma ? ';' : ',';
}

static void skip_bom(FILE *f)
{
    int a = getc(f), b = a == 0xEF ? getc(f) : EOF,
        c = b == 0xBB ? getc(f) : EOF;
    if (a == 0xEF && b == 0xBB && c == 0xBF)
        return;
    rewind(f);
}

static FILE *open_src(const struct fmt_src *src, struct h2h_err *err)
{
    FILE *f = NULL;
    if (src->path)
        f = fopen(src->path, "rb");
    else if (src->len)
        f = fmemopen((void *)src->buf, src->len, "rb");
    else
        f = fmemopen((void *)"", 1, "rb"); /* an empty buffer */
    if (!f)
        h2h_err_set(err, H2H_EIO, "%s: cannot open",
                    src->name   ? src->name
                    : src->path ? src->path
                                : "<memory>");
    return f;
}

static int read_header(struct csvr *c, int map[N_COLS], const char *name,
                       struct fmt_diag *diag, struct h2h_err *err)
{
    int bad_quote, rc;
    do {
        if ((rc = next_record(c, &bad_quote)) < 0)
            return h2h_err_set(err, rc, "out of memory");
        if (rc == 0)
            return h2h_err_set(err, H2H_EPARSE, "%s: no header row", name);
    } while (blank_record(c));
    for (int k = 0; k < N_COLS; k++)
        map[k] = -1;
    int missing = 0;
    for (int i = 0; i < c->n; i++) {
        const char *h = field(c, i);
        int k = 0;
        while (k < N_COLS && strcasecmp(h, col_names[k]))
            k++;
        if (k == N_COLS) {
            if ((rc = problem(diag, err, name, (int)c->rec_line, h,
                              "recon.csv.column.unknown", "unknown column")) <
                0)
                return rc;
            continue;
        }
        if (map[k] >= 0 &&
            (rc = problem(diag, err, name, (int)c->rec_line, h,
                          "recon.csv.column.duplicate", "column twice")) < 0)
            return rc;
        map[k] = i;
    }
    for (int k = 0; k < N_COLS; k++) {
        if (k == C_ACCT || map[k] >= 0)
            continue;
        missing = 1;
        if ((rc = problem(diag, err, name, (int)c->rec_line, col_names[k],
                          "recon.csv.column.missing",
                          "required column missing")) < 0)
            return rc;
    }
    return missing ? 1 : 0;
}

static int read_row(struct recon *r, struct csvr *c, const int map[N_COLS],
                    const char *name, struct fmt_diag *diag,
                    struct h2h_err *err)
{
    const char *v[N_COLS];
    int line = (int)c->rec_line;
    for (int k = 0; k < N_COLS; k++)
        v[k] = map[k] >= 0 && map[k] < c->n ? field(c, map[k]) : "";
    static const char *const req[] = {"reference", "payer", "amount",
                                      "currency", "due_date"};
    for (int k = 0; k < C_ACCT; k++)
        if (!*v[k])
            return problem(diag, err, name, line, req[k], "recon.required",
                           "missing value");
    char amt[64];
    size_t n = strlen(v[C_AMOUNT]);
    if (n >= sizeof(amt))
        return problem(diag, err, name, line, "amount", "recon.amount",
                       "amount too long");
    memcpy(amt, v[C_AMOUNT], n + 1);
    if (c->sep == ';')
        for (char *p = amt; *p; p++)
            if (*p == ',')
                *p = '.';
    struct h2h_err e2 = {0};
    struct recon_expected x = {
        .reference = v[C_REF],
        .payer = v[C_PAYER],
        .ccy = v[C_CCY],
        .due_date = v[C_DUE],
        .account = v[C_ACCT],
    };
    if (fmt_amount_parse(amt, n, x.ccy, 0, &x.amount, &e2) < 0)
        return problem(diag, err, name, line, "amount", "recon.amount", e2.msg);
    return add(r, &x, diag, err, name, line);
}

int recon_read_expected_csv(struct recon *r, const struct fmt_src *src,
                            struct fmt_diag *diag, struct h2h_err *err)
{
    const char *name = src->name   ? src->name
                       : src->path ? src->path
                                   : "<memory>";
    struct csvr c = {.line = 1};
    int map[N_COLS], rc, bad_quote;
    if (r->ran)
        return h2h_err_set(err, H2H_ESTATE, "reconcile: already run");
    if (!(c.f = open_src(src, err)))
        return H2H_EIO;
    skip_bom(c.f);
    long start = ftell(c.f);
    c.sep = detect_sep(c.f);
    fseek(c.f, start, SEEK_SET);
    if ((rc = read_header(&c, map, name, diag, err)) != 0)
        goto out;
    while ((rc = next_record(&c, &bad_quote)) == 1) {
        if (blank_record(&c))
            continue;
        const char *bad = bad_quote    ? "a quote inside an unquoted field"
                          : c.too_many ? "too many fields"
                          : c.too_long ? "a field too long"
                                       : NULL;
        if (bad)
            rc = problem(diag, err, name, (int)c.rec_line, NULL,
                         "recon.csv.record", bad);
        else
            rc = read_row(r, &c, map, name, diag, err);
        if (rc < 0)
            goto out;
    }
    if (rc < 0)
        h2h_err_set(err, rc, "out of memory");
out:
    if (rc == 1) /* missing columns: reported, nothing to read */
        rc = 0;
    free(c.buf);
    fclose(c.f);
    return rc;
}

/* ---- XML ---------------------------------------------------------------- */

struct xrcpt {
    char *ref, *payer, *amt, *ccy, *due, *acct;
};

static void xrcpt_release(struct xrcpt *x)
{
    free(x->ref);
    free(x->payer);
    free(x->amt);
    free(x->ccy);
    free(x->due);
    free(x->acct);
    memset(x, 0, sizeof(*x));
}

static int in_ns(struct fmt_xml *x)
{
    const char *ns = (const char *)xmlTextReaderConstNamespaceUri(x->r);
    return ns && !strcmp(ns, RECON_NS);
}

/* One <Receipt> (the reader is on its start tag). */
static int read_receipt(struct recon *r, struct fmt_xml *x, const char *name,
                        struct fmt_diag *diag, struct h2h_err *err)
{
    struct xrcpt v = {0};
    int line = fmt_xml_line(x), rc = 0;
    if (xmlTextReaderIsEmptyElement(x->r))
        goto check;
    int depth = xmlTextReaderDepth(x->r);
    for (;;) {
        if ((rc = fmt_xml_read(x, err)) < 0)
            goto out;
        if (rc == 0) {
            rc = h2h_err_set(err, H2H_EPARSE,
                             "%s:%d: document ends inside an element", name,
                             fmt_xml_line(x));
            goto out;
        }
        int t = xmlTextReaderNodeType(x->r);
        if (t == XML_READER_TYPE_END_ELEMENT &&
            xmlTextReaderDepth(x->r) == depth)
            break;
        if (t != XML_READER_TYPE_ELEMENT)
            continue;
        const char *ln = (const char *)xmlTextReaderConstLocalName(x->r);
        char **dst = NULL;
        if (in_ns(x) && ln) {
            dst = !strcmp(ln, "Ref")     ? &v.ref
                  : !strcmp(ln, "Payer") ? &v.payer
                  : !strcmp(ln, "Amt")   ? &v.amt
                  : !strcmp(ln, "DueDt") ? &v.due
                  : !strcmp(ln, "Acct")  ? &v.acct
                                         : NULL;
        }
        if (!dst || *dst) {
            if ((rc = problem(diag, err, name, fmt_xml_line(x), ln,
                              "recon.xml.element",
                              dst ? "element twice" : "unknown element")) < 0 ||
                (rc = fmt_xml_skip(x, err)) < 0)
                goto out;
            continue;
        }
        if (dst == &v.amt) {
            xmlChar *c = xmlTextReaderGetAttribute(x->r, BAD_CAST "Ccy");
            v.ccy = c ? strdup((const char *)c) : NULL;
            xmlFree(c);
            if (c && !v.ccy) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                goto out;
            }
        }
        if (!(*dst = fmt_xml_text(x, err))) {
            rc = err ? err->code : H2H_EPARSE;
            goto out;
        }
    }
check:;
    static const char *const req[] = {"Ref", "Payer", "Amt", "DueDt"};
    char *const have[] = {v.ref, v.payer, v.amt, v.due};
    for (int k = 0; k < 4; k++) {
        if (!have[k] || !*have[k]) {
            rc = problem(diag, err, name, line, req[k], "recon.required",
                         "missing value");
            goto out;
        }
    }
    if (!v.ccy || !*v.ccy) {
        rc = problem(diag, err, name, line, "Amt/@Ccy", "recon.required",
                     "missing currency");
        goto out;
    }
    struct h2h_err e2 = {0};
    struct recon_expected rx = {
        .reference = v.ref,
        .payer = v.payer,
        .ccy = v.ccy,
        .due_date = v.due,
        .account = v.acct,
    };
    const char *a = v.amt;
    size_t al = strlen(a);
    while (al && isspace((unsigned char)a[al - 1]))
        al--;
    while (al && isspace((unsigned char)*a))
        a++, al--;
    if (fmt_amount_parse(a, al, rx.ccy, 0, &rx.amount, &e2) < 0)
        rc = problem(diag, err, name, line, "Amt", "recon.amount", e2.msg);
    else
        rc = add(r, &rx, diag, err, name, line);
out:
    xrcpt_release(&v);
    return rc;
}

int recon_read_expected_xml(struct recon *r, const struct fmt_src *src,
                            struct fmt_diag *diag, struct h2h_err *err)
{
    struct fmt_xml x = {0};
    int rc;
    if (r->ran)
        return h2h_err_set(err, H2H_ESTATE, "reconcile: already run");
    fmt_xml_init();
    if ((rc = fmt_xml_open(&x, src, err)) < 0)
        return rc;
    const char *name = x.name;
    while ((rc = fmt_xml_read(&x, err)) == 1)
        if (xmlTextReaderNodeType(x.r) == XML_READER_TYPE_ELEMENT)
            break;
    if (rc <= 0) {
        if (rc == 0)
            rc = h2h_err_set(err, H2H_EPARSE, "%s: empty document", name);
        goto out;
    }
    const char *ln = (const char *)xmlTextReaderConstLocalName(x.r);
    if (!ln || strcmp(ln, "ExpectedReceipts") || !in_ns(&x)) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "%s: root element <%.64s> is not <ExpectedReceipts> "
                         "in " RECON_NS,
                         name, ln ? ln : "");
        goto out;
    }
    if (xmlTextReaderIsEmptyElement(x.r)) {
        rc = 0;
        goto out;
    }
    while ((rc = fmt_xml_read(&x, err)) == 1) {
        int t = xmlTextReaderNodeType(x.r);
        if (t != XML_READER_TYPE_ELEMENT || xmlTextReaderDepth(x.r) != 1)
            continue;
        ln = (const char *)xmlTextReaderConstLocalName(x.r);
        if (ln && !strcmp(ln, "Receipt") && in_ns(&x))
            rc = read_receipt(r, &x, name, diag, err);
        else if ((rc = problem(diag, err, name, fmt_xml_line(&x), ln,
                               "recon.xml.element", "unknown element")) == 0)
            rc = fmt_xml_skip(&x, err);
        if (rc < 0)
            goto out;
    }
out:
    fmt_xml_close(&x);
    return rc < 0 ? rc : 0;
}
