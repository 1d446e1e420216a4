/*
 * canon_read.c - streaming readers of the canonical XML form; see canon.h.
 *
 * Recursive descent over the xmlTextReader: read_struct() consumes one
 * element and maps its children to model fields through the tables in
 * canon_write.c.  Containers whose children are streamed (PaymentBatch,
 * Group, Statements, Stmt) hand those children to a hook that emits sink
 * events and releases each transaction / entry right after the call, so
 * memory stays flat whatever the number of items.
 *
 * The reader accepts children in any order (the schema fixes one, but the
 * store must not lose data over an order slip); a field after the first
 * Tx / Ntry of its group / statement is a problem because the sink has
 * already seen the group.
 */
#define FMT_CANON_INTERNAL
#include "canon.h"

#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "xmlsafe.h"

#define WHERE_MAX 512
#define NAME_MAX_LEN 64

struct rd {
    struct fmt_xml x;
    struct fmt_diag *diag;
    struct h2h_err *err;
    char where[WHERE_MAX];
    size_t wlen;
};

typedef int (*hook_fn)(struct rd *r, void *hctx, const char *name);

/* ---- helpers ------------------------------------------------------------ */

/* Append "/name" or "/name[idx]" to the element path; a component that
 * does not fit is left out whole.  Done for every structured element, so
 * by hand rather than with snprintf (a tenth of reading a large file). */
static void push(struct rd *r, const char *name, long idx, size_t *saved)
{
    char num[24];
    size_t nl = strlen(name), il = 0;
    *saved = r->wlen;
    if (idx > 0) {
        char *e = num + sizeof(num), *q = e;
        for (unsigned long v = (unsigned long)idx; v; v /= 10)
            *--q = (char)('0' + v % 10);
        il = (size_t)(e - q);
        memmove(num, q, il);
    }
    size_t need = (r->wlen ? 1 : 0) + nl + (il ? il + 2 : 0);
    if (r->wlen + need >= WHERE_MAX) {
        r->where[r->wlen] = '\0';
        return;
    }
    char *w = r->where + r->wlen;
    if (r->wlen)
        *w++ = '/';
    memcpy(w, name, nl);
    w += nl;
    if (il) {
        *w++ = '[';
        memcpy(w, num, il);
        w += il;
        *w++ = ']';
    }
    *w = '\0';
    r->wlen += need;
}

static void pop(struct rd *r, size_t saved)
{
    r->wlen = saved;
    r->where[saved] = '\0';
}

static void problem(struct rd *r, const char *leafname, const char *rule,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(struct rd *r, const char *leafname, const char *rule,
                    const char *fmt, ...)
{
    if (!r->diag)
        return;
    char w[WHERE_MAX + NAME_MAX_LEN + 2];
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(w, sizeof(w), "%s%s%s", r->where, r->wlen && leafname ? "/" : "",
             leafname ? leafname : "");
    fmt_diag_add(r->diag, fmt_xml_line(&r->x), w, rule, "%s", msg);
}

static void *at(void *base, size_t off)
{
    return (char *)base + off;
}

static const struct fmt_canon_fdesc *find(const struct fmt_canon_sdesc *d,
                                          const char *name)
{
    for (size_t i = 0; d && i < d->n; i++)
        if (!strcmp(d->f[i].name, name))
            return &d->f[i];
    return NULL;
}

static int parse_int64(const char *s, int allow_neg, int64_t *out)
{
    size_t i = 0, n = strlen(s);
    int neg = 0;
    if (allow_neg && n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (n == i || n - i > 18)
        return -1;
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "1"))
        *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "0"))
        *out = 0;
    else
        return -1;
    return 0;
}

/* Amount text in ccy; an unknown code is read with 2 decimals, as the
 * writer wrote it. */
static int parse_amount(const char *s, const char *ccy, int allow_neg,
                        int64_t *minor, struct h2h_err *e)
{
    if (fmt_ccy_exponent(ccy) >= 0)
        return fmt_amount_parse(s, strlen(s), ccy, allow_neg, minor, e);
    int neg = allow_neg && s[0] == '-';
    int64_t milli;
    int rc = fmt_milli_parse(s + neg, strlen(s + neg), &milli, e);
    if (rc < 0)
        return rc;
    if (milli % 10)
        return h2h_err_set(e, H2H_EINVALID,
                           "amount \"%.40s\" has more than 2 decimals", s);
    *minor = neg ? -(milli / 10) : milli / 10;
    return 0;
}

/* ---- generic struct reader ---------------------------------------------- */

static int read_struct(struct rd *r, const struct fmt_canon_sdesc *sd,
                       void *base, hook_fn hook, void *hctx);

/* Grow an array of elements of size sz holding n so that one more fits.
 * Arrays here are only ever built by this reader, so their capacity is
 * implied by n: 0, then 4, 8, 16, ... */
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

static int read_leaf(struct rd *r, const struct fmt_canon_fdesc *f, void *base)
{
    void *p = at(base, f->off);
    char ccy[8] = "";
    int rc = 0;
    if (f->kind == FK_AMT) {
        char *c = (char *)xmlTextReaderGetAttribute(r->x.r, BAD_CAST "Ccy");
        if (!c || strlen(c) != 3)
            problem(r, f->name, "canon.amount.ccy",
                    "amount without a three-letter Ccy attribute");
        else
            memcpy(ccy, c, 4);
        xmlFree(c);
    }
    char *v = fmt_xml_text(&r->x, r->err);
    if (!v)
        return r->err && r->err->code ? r->err->code : H2H_EPARSE;
    struct h2h_err e = {0};
    int64_t i64;
    int b;
    switch (f->kind) {
    case FK_STR: {
        char **s = p;
        if (*s) {
            problem(r, f->name, "canon.repeated",
                    "element given twice, the "
                    "last one is kept");
            free(*s);
        }
        *s = v;
        return 0;
    }
    case FK_COUNT:
    case FK_I64:
        if (parse_int64(v, 0, &i64) < 0)
            problem(r, f->name, "canon.count",
                    "\"%.40s\" is not a count (digits only)", v);
        else
            *(int64_t *)p = i64;
        break;
    case FK_LINE:
        if (parse_int64(v, 0, &i64) < 0 || i64 < 1 || i64 > INT32_MAX)
            problem(r, f->name, "canon.line", "\"%.40s\" is not a line number",
                    v);
        else
            *(int *)p = (int)i64;
        break;
    case FK_BOOL3:
    case FK_BOOL:
        if (parse_bool(v, &b) < 0)
            problem(r, f->name, "canon.boolean",
                    "\"%.40s\" is not true or false", v);
        else
            *(int *)p = b;
        break;
    case FK_CDTDBT:
        if (!strcmp(v, "CRDT"))
            *(int *)p = 1;
        else if (!strcmp(v, "DBIT"))
            *(int *)p = 0;
        else
            problem(r, f->name, "canon.cdtdbt",
                    "\"%.40s\" is neither CRDT nor DBIT", v);
        break;
    case FK_KIND:
        if (!strcmp(v, "statement"))
            *(int *)p = FMT_STMT_STATEMENT;
        else if (!strcmp(v, "report"))
            *(int *)p = FMT_STMT_REPORT;
        else if (!strcmp(v, "notification"))
            *(int *)p = FMT_STMT_NOTIFICATION;
        else
            problem(r, f->name, "canon.kind",
                    "\"%.40s\" is not statement, report or notification", v);
        break;
    case FK_MILLI:
        if (fmt_milli_parse(v, strlen(v), &i64, &e) < 0) {
            problem(r, f->name, "canon.ctrlsum", "%s", e.msg);
        } else {
            *(int64_t *)p = i64;
            *(int *)at(base, f->off2) = 1;
        }
        break;
    case FK_AMT:
        if (!ccy[0])
            break;
        if (parse_amount(v, ccy, (int)f->aux, &i64, &e) < 0) {
            problem(r, f->name, "canon.amount", "%s", e.msg);
        } else {
            struct fmt_amount *a = p;
            a->minor = i64;
            memcpy(a->ccy, ccy, 4);
        }
        break;
    case FK_CHARS:
        if (strlen(v) >= f->aux || !v[0])
            problem(r, f->name, "canon.code",
                    "\"%.40s\" must be 1 to %zu characters", v, f->aux - 1);
        else
            memcpy(p, v, strlen(v) + 1);
        break;
    case FK_SRCFMT: {
        const char *sf = fmt_canon_srcfmt(v);
        if (!sf)
            problem(r, f->name, "canon.srcfmt",
                    "\"%.60s\" is not a source format h2hd knows", v);
        *(const char **)p = sf;
        break;
    }
    case FK_LINES: {
        char **lines = p;
        size_t i = 0;
        while (i < f->aux && lines[i])
            i++;
        if (i == f->aux) {
            problem(r, f->name, "canon.adrline", "more than %zu address lines",
                    f->aux);
            break;
        }
        lines[i] = v;
        return 0;
    }
    default: H2H_BUG("field kind %d is not a leaf", (int)f->kind);
    }
    free(v);
    return rc;
}

static int read_field(struct rd *r, const struct fmt_canon_fdesc *f, void *base)
{
    size_t saved;
    int rc;
    if (f->kind == FK_SUB) {
        if (f->aux)
            *(int *)at(base, f->off2) = 1;
        push(r, f->name, 0, &saved);
        rc = read_struct(r, f->sub, at(base, f->off), NULL, NULL);
        pop(r, saved);
        return rc;
    }
    if (f->kind == FK_ARR) {
        void **arr = at(base, f->off);
        size_t *n = at(base, f->off2);
        if (*n >= f->aux) {
            problem(r, f->name, "canon.too_many",
                    "more than %zu elements, the rest is ignored", f->aux);
            return fmt_xml_skip(&r->x, r->err);
        }
        if (grow(arr, *n, f->sub->size) < 0)
            return h2h_err_set(r->err, H2H_ENOMEM, "out of memory");
        void *el = (char *)*arr + *n * f->sub->size;
        memset(el, 0, f->sub->size);
        (*n)++;
        push(r, f->name, (long)*n, &saved);
        rc = read_struct(r, f->sub, el, NULL, NULL);
        pop(r, saved);
        return rc;
    }
    return read_leaf(r, f, base);
}

/* Read the children of the current element (a start tag) into base until
 * its end tag.  hook sees each child first: 1 consumed, 0 not its business,
 * negative to stop. */
static int read_struct(struct rd *r, const struct fmt_canon_sdesc *sd,
                       void *base, hook_fn hook, void *hctx)
{
    if (xmlTextReaderIsEmptyElement(r->x.r))
        return 0;
    int depth = xmlTextReaderDepth(r->x.r);
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
        if (t == XML_READER_TYPE_TEXT) {
            problem(r, NULL, "canon.text", "text where only elements belong");
            continue;
        }
        if (t != XML_READER_TYPE_ELEMENT)
            continue;
        char name[NAME_MAX_LEN];
        const char *ln = (const char *)xmlTextReaderConstLocalName(r->x.r);
        const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->x.r);
        size_t lnl = ln ? strnlen(ln, sizeof(name) - 1) : 0;
        memcpy(name, ln ? ln : "", lnl); /* cut like snprintf, cheaper */
        name[lnl] = '\0';
        if (!ns || strcmp(ns, FMT_CANON_NS)) {
            problem(r, name, "canon.namespace",
                    "element outside namespace " FMT_CANON_NS " is ignored");
            if ((rc = fmt_xml_skip(&r->x, r->err)) < 0)
                return rc;
            continue;
        }
        if (hook) {
            rc = hook(r, hctx, name);
            if (rc < 0)
                return rc;
            if (rc == 1)
                continue;
        }
        const struct fmt_canon_fdesc *f = find(sd, name);
        if (!f) {
            problem(r, name, "canon.unknown", "unknown element is ignored");
            rc = fmt_xml_skip(&r->x, r->err);
        } else {
            rc = read_field(r, f, base);
        }
        if (rc < 0)
            return rc;
    }
}

/* Open src and check the root element: name and namespace. */
static int open_root(struct rd *r, const struct fmt_src *src, const char *root)
{
    int rc;
    fmt_xml_init();
    if ((rc = fmt_xml_open(&r->x, src, r->err)) < 0)
        return rc;
    while ((rc = fmt_xml_read(&r->x, r->err)) == 1)
        if (xmlTextReaderNodeType(r->x.r) == XML_READER_TYPE_ELEMENT)
            break;
    if (rc < 0)
        return rc;
    if (rc == 0)
        return h2h_err_set(r->err, H2H_EPARSE, "%s: empty document", r->x.name);
    const char *ln = (const char *)xmlTextReaderConstLocalName(r->x.r);
    const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->x.r);
    if (!ln || strcmp(ln, root) || !ns || strcmp(ns, FMT_CANON_NS))
        return h2h_err_set(r->err, H2H_EUNSUPPORTED,
                           "%s: root element <%.64s> in namespace \"%.100s\" "
                           "is not a canonical <%s> (" FMT_CANON_NS ")",
                           r->x.name, ln ? ln : "", ns ? ns : "", root);
    return 0;
}

/* After the root element: only whitespace, comments and PIs may follow. */
static int finish_doc(struct rd *r)
{
    int rc;
    while ((rc = fmt_xml_read(&r->x, r->err)) == 1)
        ;
    return rc;
}

static const struct fmt_canon_sdesc d_none = {"root", 0, NULL, 0};

static int sink_rc(struct rd *r, int rc, const char *what)
{
    if (rc < 0 && r->err && r->err->code == 0)
        h2h_err_set(r->err, rc, "sink refused %s: %s", what, h2h_strerror(rc));
    return rc;
}

/* ---- payments ----------------------------------------------------------- */

struct pay {
    struct rd *r;
    const struct fmt_pay_sink *sink;
    struct fmt_pay_header hdr, hdr_end;
    int began, has_hdr_end;
    struct fmt_pay_group grp, grp_end;
    int grp_sent, has_grp_end;
    long n_grp, n_tx;
};

static int pay_send_begin(struct pay *p)
{
    if (p->began)
        return 0;
    p->began = 1;
    if (p->sink && p->sink->begin)
        return sink_rc(p->r, p->sink->begin(p->sink->ctx, &p->hdr), "begin");
    return 0;
}

static int pay_send_group(struct pay *p)
{
    if (p->grp_sent)
        return 0;
    p->grp_sent = 1;
    if (p->sink && p->sink->group_begin)
        return sink_rc(p->r, p->sink->group_begin(p->sink->ctx, &p->grp),
                       "group_begin");
    return 0;
}

static int group_hook(struct rd *r, void *hctx, const char *name)
{
    struct pay *p = hctx;
    int rc;
    size_t saved;
    if (!strcmp(name, "Tx")) {
        if ((rc = pay_send_group(p)) < 0)
            return rc;
        struct fmt_pay_tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.line = fmt_xml_line(&r->x);
        push(r, "Tx", ++p->n_tx, &saved);
        rc = read_struct(r, &fmt_canon_d_pay_tx, &tx, NULL, NULL);
        pop(r, saved);
        if (rc >= 0 && p->sink && p->sink->tx)
            rc = sink_rc(r, p->sink->tx(p->sink->ctx, &p->grp, &tx), "tx");
        fmt_pay_tx_release(&tx);
        return rc < 0 ? rc : 1;
    }
    if (!strcmp(name, "GroupEnd")) {
        if (p->has_grp_end)
            problem(r, name, "canon.repeated",
                    "element given twice, the "
                    "last one is kept");
        fmt_pay_group_release(&p->grp_end);
        p->grp_end.line = p->grp.line;
        p->has_grp_end = 1;
        push(r, name, 0, &saved);
        rc = read_struct(r, &fmt_canon_d_pay_group, &p->grp_end, NULL, NULL);
        pop(r, saved);
        return rc < 0 ? rc : 1;
    }
    if (p->grp_sent && find(&fmt_canon_d_pay_group, name)) {
        problem(r, name, "canon.order",
                "group field after the transactions is ignored");
        return (rc = fmt_xml_skip(&r->x, r->err)) < 0 ? rc : 1;
    }
    return 0;
}

static int pay_hook(struct rd *r, void *hctx, const char *name)
{
    struct pay *p = hctx;
    int rc = 0;
    size_t saved;
    if (!strcmp(name, "Header")) {
        if (p->began) {
            problem(r, name, "canon.order",
                    "header after the groups or twice is ignored");
            return (rc = fmt_xml_skip(&r->x, r->err)) < 0 ? rc : 1;
        }
        push(r, name, 0, &saved);
        rc = read_struct(r, &fmt_canon_d_pay_header, &p->hdr, NULL, NULL);
        pop(r, saved);
        if (rc >= 0)
            rc = pay_send_begin(p);
        return rc < 0 ? rc : 1;
    }
    if (!strcmp(name, "Group")) {
        if (!p->began) {
            problem(r, name, "canon.header", "no Header before the groups");
            if ((rc = pay_send_begin(p)) < 0)
                return rc;
        }
        fmt_pay_group_init(&p->grp);
        fmt_pay_group_init(&p->grp_end);
        p->grp.line = fmt_xml_line(&r->x);
        p->grp_sent = p->has_grp_end = 0;
        p->n_tx = 0;
        push(r, name, ++p->n_grp, &saved);
        rc = read_struct(r, &fmt_canon_d_pay_group, &p->grp, group_hook, p);
        if (rc >= 0)
            rc = pay_send_group(p);
        if (rc >= 0 && p->sink && p->sink->group_end)
            rc = sink_rc(r,
                         p->sink->group_end(p->sink->ctx, p->has_grp_end
                                                              ? &p->grp_end
                                                              : &p->grp),
                         "group_end");
        pop(r, saved);
        fmt_pay_group_release(&p->grp);
        fmt_pay_group_release(&p->grp_end);
        return rc < 0 ? rc : 1;
    }
    if (!strcmp(name, "HeaderEnd")) {
        fmt_pay_header_release(&p->hdr_end);
        fmt_pay_header_init(&p->hdr_end);
        p->has_hdr_end = 1;
        push(r, name, 0, &saved);
        rc = read_struct(r, &fmt_canon_d_pay_header, &p->hdr_end, NULL, NULL);
        pop(r, saved);
        return rc < 0 ? rc : 1;
    }
    return 0;
}

int fmt_canon_read_pay(const struct fmt_src *src,
                       const struct fmt_pay_sink *sink, struct fmt_diag *diag,
                       struct h2h_err *err)
{
    struct rd r;
    struct pay p;
    memset(&r, 0, sizeof(r));
    memset(&p, 0, sizeof(p));
    r.diag = diag;
    r.err = err;
    p.r = &r;
    p.sink = sink;
    fmt_pay_header_init(&p.hdr);
    fmt_pay_header_init(&p.hdr_end);
    fmt_pay_group_init(&p.grp);
    fmt_pay_group_init(&p.grp_end);
    int rc = open_root(&r, src, "PaymentBatch");
    if (rc < 0)
        goto out;
    if ((rc = read_struct(&r, &d_none, NULL, pay_hook, &p)) < 0)
        goto out;
    if ((rc = finish_doc(&r)) < 0)
        goto out;
    if (!p.began) {
        problem(&r, "Header", "canon.header", "no Header");
        if ((rc = pay_send_begin(&p)) < 0)
            goto out;
    }
    if (sink && sink->end)
        rc = sink_rc(&r,
                     sink->end(sink->ctx, p.has_hdr_end ? &p.hdr_end : &p.hdr),
                     "end");
out:
    fmt_xml_close(&r.x);
    fmt_pay_group_release(&p.grp);
    fmt_pay_group_release(&p.grp_end);
    fmt_pay_header_release(&p.hdr);
    fmt_pay_header_release(&p.hdr_end);
    return rc < 0 ? rc : 0;
}

/* ---- statements --------------------------------------------------------- */

struct stm {
    struct rd *r;
    const struct fmt_stmt_sink *sink;
    struct fmt_stmt_doc doc, doc_end;
    int began, has_doc_end;
    struct fmt_stmt st, st_end;
    int st_sent, has_st_end;
    long n_st, n_ntry;
};

static int stm_send_begin(struct stm *p)
{
    if (p->began)
        return 0;
    p->began = 1;
    if (p->sink && p->sink->begin)
        return sink_rc(p->r, p->sink->begin(p->sink->ctx, &p->doc), "begin");
    return 0;
}

static int stm_send_stmt(struct stm *p)
{
    if (p->st_sent)
        return 0;
    p->st_sent = 1;
    if (p->sink && p->sink->stmt_begin)
        return sink_rc(p->r, p->sink->stmt_begin(p->sink->ctx, &p->st),
                       "stmt_begin");
    return 0;
}

static int stmt_hook(struct rd *r, void *hctx, const char *name)
{
    struct stm *p = hctx;
    int rc;
    size_t saved;
    if (!strcmp(name, "Ntry")) {
        if ((rc = stm_send_stmt(p)) < 0)
            return rc;
        struct fmt_entry e;
        memset(&e, 0, sizeof(e));
        e.line = fmt_xml_line(&r->x);
        push(r, name, ++p->n_ntry, &saved);
        rc = read_struct(r, &fmt_canon_d_entry, &e, NULL, NULL);
        pop(r, saved);
        if (rc >= 0 && p->sink && p->sink->entry)
            rc = sink_rc(r, p->sink->entry(p->sink->ctx, &p->st, &e), "entry");
        fmt_entry_release(&e);
        return rc < 0 ? rc : 1;
    }
    if (!strcmp(name, "StmtEnd")) {
        if (p->has_st_end)
            problem(r, name, "canon.repeated",
                    "element given twice, the "
                    "last one is kept");
        fmt_stmt_release(&p->st_end);
        p->st_end.line = p->st.line;
        p->has_st_end = 1;
        push(r, name, 0, &saved);
        rc = read_struct(r, &fmt_canon_d_stmt, &p->st_end, NULL, NULL);
        pop(r, saved);
        return rc < 0 ? rc : 1;
    }
    if (p->st_sent && find(&fmt_canon_d_stmt, name)) {
        problem(r, name, "canon.order",
                "statement field after the entries is ignored");
        return (rc = fmt_xml_skip(&r->x, r->err)) < 0 ? rc : 1;
    }
    return 0;
}

static int stm_hook(struct rd *r, void *hctx, const char *name)
{
    struct stm *p = hctx;
    int rc = 0;
    size_t saved;
    if (!strcmp(name, "Doc")) {
        if (p->began) {
            problem(r, name, "canon.order",
                    "Doc after the statements or twice is ignored");
            return (rc = fmt_xml_skip(&r->x, r->err)) < 0 ? rc : 1;
        }
        push(r, name, 0, &saved);
        rc = read_struct(r, &fmt_canon_d_stmt_doc, &p->doc, NULL, NULL);
        pop(r, saved);
        if (rc >= 0)
            rc = stm_send_begin(p);
        return rc < 0 ? rc : 1;
    }
    if (!strcmp(name, "Stmt")) {
        if (!p->began) {
            problem(r, name, "canon.header", "no Doc before the statements");
            if ((rc = stm_send_begin(p)) < 0)
                return rc;
        }
        memset(&p->st, 0, sizeof(p->st));
        memset(&p->st_end, 0, sizeof(p->st_end));
        p->st.line = fmt_xml_line(&r->x);
        p->st_sent = p->has_st_end = 0;
        p->n_ntry = 0;
        push(r, name, ++p->n_st, &saved);
        rc = read_struct(r, &fmt_canon_d_stmt, &p->st, stmt_hook, p);
        if (rc >= 0)
            rc = stm_send_stmt(p);
        if (rc >= 0 && p->sink && p->sink->stmt_end)
            rc = sink_rc(r,
                         p->sink->stmt_end(p->sink->ctx,
                                           p->has_st_end ? &p->st_end : &p->st),
                         "stmt_end");
        pop(r, saved);
        fmt_stmt_release(&p->st);
        fmt_stmt_release(&p->st_end);
        return rc < 0 ? rc : 1;
    }
    if (!strcmp(name, "DocEnd")) {
        fmt_stmt_doc_release(&p->doc_end);
        memset(&p->doc_end, 0, sizeof(p->doc_end));
        p->has_doc_end = 1;
        push(r, name, 0, &saved);
        rc = read_struct(r, &fmt_canon_d_stmt_doc, &p->doc_end, NULL, NULL);
        pop(r, saved);
        return rc < 0 ? rc : 1;
    }
    return 0;
}

int fmt_canon_read_stmt(const struct fmt_src *src,
                        const struct fmt_stmt_sink *sink, struct fmt_diag *diag,
                        struct h2h_err *err)
{
    struct rd r;
    struct stm p;
    memset(&r, 0, sizeof(r));
    memset(&p, 0, sizeof(p));
    r.diag = diag;
    r.err = err;
    p.r = &r;
    p.sink = sink;
    int rc = open_root(&r, src, "Statements");
    if (rc < 0)
        goto out;
    if ((rc = read_struct(&r, &d_none, NULL, stm_hook, &p)) < 0)
        goto out;
    if ((rc = finish_doc(&r)) < 0)
        goto out;
    if (!p.began) {
        problem(&r, "Doc", "canon.header", "no Doc");
        if ((rc = stm_send_begin(&p)) < 0)
            goto out;
    }
    if (sink && sink->end)
        rc = sink_rc(&r,
                     sink->end(sink->ctx, p.has_doc_end ? &p.doc_end : &p.doc),
                     "end");
out:
    fmt_xml_close(&r.x);
    fmt_stmt_release(&p.st);
    fmt_stmt_release(&p.st_end);
    fmt_stmt_doc_release(&p.doc);
    fmt_stmt_doc_release(&p.doc_end);
    return rc < 0 ? rc : 0;
}

/* ---- status report ------------------------------------------------------ */

int fmt_canon_read_status(const struct fmt_src *src,
                          struct fmt_status_report *out, struct fmt_diag *diag,
                          struct h2h_err *err)
{
    struct rd r;
    if (!out)
        return h2h_err_set(err, H2H_EINVALID, "no output report");
    fmt_status_report_init(out);
    memset(&r, 0, sizeof(r));
    r.diag = diag;
    r.err = err;
    int rc = open_root(&r, src, "StatusReport");
    if (rc >= 0)
        rc = read_struct(&r, &fmt_canon_d_status, out, NULL, NULL);
    if (rc >= 0)
        rc = finish_doc(&r);
    fmt_xml_close(&r.x);
    return rc < 0 ? rc : 0;
}

/* ---- detection ---------------------------------------------------------- */

int fmt_canon_detect(const char *buf, size_t len)
{
    static const struct {
        const char *name;
        int kind;
    } roots[] = {
        {"PaymentBatch", FMT_CANON_PAYMENTS},
        {"StatusReport", FMT_CANON_STATUS},
        {"Statements", FMT_CANON_STATEMENTS},
    };
    if (!buf)
        return -1;
    const char *p = buf, *end = buf + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    /* skip the prologue: whitespace, <?...?>, <!--...--> */
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
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
    /* name, possibly prefixed */
    const char *n = p + 1, *ne = n;
    while (ne < gt && *ne != ' ' && *ne != '\t' && *ne != '\r' && *ne != '\n' &&
           *ne != '/')
        ne++;
    const char *colon = memchr(n, ':', (size_t)(ne - n));
    const char *local = colon ? colon + 1 : n;
    size_t plen = colon ? (size_t)(colon - n) : 0;
    int kind = -1;
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
        if ((size_t)(ne - local) == strlen(roots[i].name) &&
            !memcmp(local, roots[i].name, (size_t)(ne - local)))
            kind = roots[i].kind;
    if (kind < 0)
        return -1;
    /* the namespace declaration for that prefix must name ours */
    char decl[80];
    if (plen >= sizeof(decl) - 8)
        return -1;
    if (plen)
        snprintf(decl, sizeof(decl), "xmlns:%.*s", (int)plen, n);
    else
        snprintf(decl, sizeof(decl), "xmlns");
    size_t dl = strlen(decl);
    for (const char *a = ne; a + dl < gt; a++) {
        if (memcmp(a, decl, dl) ||
            (a[-1] != ' ' && a[-1] != '\t' && a[-1] != '\r' && a[-1] != '\n'))
            continue;
        const char *q = a + dl;
        while (q < gt && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
            q++;
        if (q >= gt || *q != '=')
            continue;
        q++;
        while (q < gt && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
            q++;
        if (q >= gt || (*q != '"' && *q != '\''))
            continue;
        char quote = *q++;
        size_t nl = strlen(FMT_CANON_NS);
        if ((size_t)(gt - q) > nl && !memcmp(q, FMT_CANON_NS, nl) &&
            q[nl] == quote)
            return kind;
    }
    return -1;
}
