/*
 * scfbook.c - see scfbook.h.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amount.h"
#include "canon_scf.h"
#include "fsutil.h"
#include "ident.h"
#include "log.h"
#include "scfbook.h"
#include "tsin.h"
#include "tz.h"

static int has_amount(const struct fmt_amount *a)
{
    return a->ccy[0] != '\0';
}

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static char *why_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *why_printf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* Copy src into dst[sz]; -1 when it does not fit (the book never keeps a
 * cut id). */
static int put_str(char *dst, size_t sz, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= sz)
        return -1;
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

static void money(char *buf, size_t sz, int64_t minor, const char *ccy)
{
    if (fmt_amount_format(minor, ccy, '.', buf, sz) < 0)
        snprintf(buf, sz, "%lld", (long long)minor);
}

/* ---- documents the rows keep ------------------------------------------- */

static int result_text(const struct fmt_canon_scf_result *r, char **out,
                       struct h2h_err *err)
{
    size_t len = 0;
    *out = NULL;
    FILE *f = open_memstream(out, &len);
    if (!f)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = fmt_canon_scf_write_result(f, r, err);
    if (fclose(f) != 0 && rc == 0)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* A voucher row's document: <ScfResult><Hldgs> of its holder with this
 * one voucher (the result borrows v). */
static int voucher_doc(const struct fmt_voucher *v, char **out,
                       struct h2h_err *err)
{
    struct fmt_canon_scf_result r;
    fmt_canon_scf_result_init(&r);
    r.kind = FMT_CANON_SCF_HOLDINGS;
    r.hldgs.party = v->holder;
    r.hldgs.vouchers = (struct fmt_voucher *)v;
    r.hldgs.n_vouchers = 1;
    return result_text(&r, out, err);
}

/* The voucher a row keeps, into v (released by the caller). */
static int voucher_of_row(const struct store_voucher *row,
                          struct fmt_voucher *v, struct h2h_err *err)
{
    struct fmt_canon_scf_result r;
    struct fmt_src src = {.buf = row->doc,
                          .len = row->doc ? strlen(row->doc) : 0,
                          .name = row->id};
    memset(v, 0, sizeof(*v));
    if (!row->doc)
        return h2h_err_set(err, H2H_ENOTFOUND, "voucher %s: no document kept",
                           row->id);
    int rc = fmt_canon_scf_read_result(&src, &r, NULL, err);
    if (rc == 0 &&
        (r.kind != FMT_CANON_SCF_HOLDINGS || r.hldgs.n_vouchers != 1))
        rc = h2h_err_set(err, H2H_EINVALID, "voucher %s: bad document kept",
                         row->id);
    if (rc == 0 && fmt_voucher_copy(v, &r.hldgs.vouchers[0]) != 0)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    fmt_canon_scf_result_release(&r);
    return rc;
}

/* A financing row's document: the track as a <ScfResult><StsRpt> (the
 * result borrows t). */
static int track_doc(const struct fmt_scf_track *t, char **out,
                     struct h2h_err *err)
{
    struct fmt_canon_scf_result r;
    fmt_canon_scf_result_init(&r);
    r.kind = FMT_CANON_SCF_STATUS;
    r.sts.orgnl_request_id = t->request_id;
    r.sts.status = t->status;
    r.sts.financed = has_amount(&t->financed) ? t->financed : t->approved;
    r.sts.interest_rate = t->interest_rate;
    r.sts.value_date = t->value_date;
    r.sts.maturity_date = t->maturity_date;
    r.sts.loan_ref = t->loan_ref;
    r.sts.reason = t->reason;
    return result_text(&r, out, err);
}

/* ---- rows --------------------------------------------------------------- */

struct vrows {
    struct store_voucher *v;
    size_t n;
    int oom;
};

static int vrow_cb(void *ctx, const struct store_voucher *row)
{
    struct vrows *p = ctx;
    struct store_voucher *v = realloc(p->v, (p->n + 1) * sizeof(*v));
    if (!v)
        return p->oom = H2H_ENOMEM;
    p->v = v;
    v[p->n] = *row;
    v[p->n].doc = row->doc ? strdup(row->doc) : NULL;
    if (row->doc && !v[p->n].doc)
        return p->oom = H2H_ENOMEM;
    p->n++;
    return 0;
}

static void vrows_release(struct vrows *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].doc);
    free(p->v);
    memset(p, 0, sizeof(*p));
}

static int vrows_of(struct store *s, const struct store_voucher_filter *f,
                    struct vrows *p, struct h2h_err *err)
{
    memset(p, 0, sizeof(*p));
    int rc = store_voucher_list(s, f, vrow_cb, p, err);
    if (rc == 0 && p->oom)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return rc;
}

/* The parties that are us (see scfbook.h). */
#define SBOOK_PARTIES_MAX 32
struct parties {
    char *v[SBOOK_PARTIES_MAX];
    size_t n;
};

static void parties_add(struct parties *p, const char *who)
{
    if (!who || !*who || p->n == SBOOK_PARTIES_MAX)
        return;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i], who) == 0)
            return;
    if ((p->v[p->n] = strdup(who)) != NULL)
        p->n++;
}

static int parties_has(const struct parties *p, const char *who)
{
    for (size_t i = 0; who && i < p->n; i++)
        if (strcmp(p->v[i], who) == 0)
            return 1;
    return 0;
}

static void parties_release(struct parties *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    p->n = 0;
}

static int parties_cb(void *ctx, const struct store_voucher *row)
{
    if (strcmp(row->ours_role, "held") == 0)
        parties_add(ctx, row->holder);
    else if (strcmp(row->ours_role, "issued") == 0)
        parties_add(ctx, row->issuer);
    return 0;
}

/* The parties the book already knows as ours at bank. */
static int book_parties(struct store *s, const char *bank, struct parties *p,
                        struct h2h_err *err)
{
    struct store_voucher_filter f = {.bank = bank};
    return store_voucher_list(s, &f, parties_cb, p, err);
}

static const char *role_of(const struct fmt_voucher *v,
                           const struct parties *us)
{
    if (parties_has(us, v->issuer))
        return "issued";
    if (parties_has(us, v->holder))
        return "held";
    return "transferred";
}

static int fill(char **dst, const char *src)
{
    if (*dst || !src)
        return 0;
    return (*dst = strdup(src)) ? 0 : H2H_ENOMEM;
}

/* What the platform left out of set[i], from the book's copy of it and
 * from its parent (in the document or the book).  Idempotent: only
 * missing fields are filled. */
static int complete(struct store *s, const char *bank, struct fmt_voucher *set,
                    size_t n, size_t i)
{
    struct fmt_voucher *v = &set[i];
    struct store_voucher row;
    struct fmt_voucher k = {0}, pk = {0};
    int rc = 0;
#define FILL(f, src)                                                           \
    do {                                                                       \
        if (rc == 0)                                                           \
            rc = fill(&v->f, src);                                             \
    } while (0)
    if (store_voucher_get(s, bank, v->id, &row, NULL) == 0) {
        if (voucher_of_row(&row, &k, NULL) == 0) {
            FILL(parent_id, k.parent_id);
            FILL(root_id, k.root_id);
            FILL(issuer, k.issuer);
            FILL(original_holder, k.original_holder);
            FILL(transferor, k.transferor);
            FILL(holder, k.holder);
            FILL(issue_date, k.issue_date);
            FILL(maturity_date, k.maturity_date);
            if (v->status == FMT_VOUCHER_FINANCED) {
                FILL(fin_bank, k.fin_bank);
                FILL(fin_ref, k.fin_ref);
                FILL(fin_date, k.fin_date);
            }
            if (v->level <= 0)
                v->level = k.level;
        }
        store_voucher_release(&row);
    }
    if (rc == 0 && v->parent_id) {
        const struct fmt_voucher *p = NULL;
        for (size_t j = 0; j < n; j++)
            if (j != i && streq(set[j].id, v->parent_id))
                p = &set[j];
        if (!p && store_voucher_get(s, bank, v->parent_id, &row, NULL) == 0) {
            if (voucher_of_row(&row, &pk, NULL) == 0)
                p = &pk;
            store_voucher_release(&row);
        }
        if (p) {
            if (v->level <= 0 && p->level > 0)
                v->level = p->level + 1;
            FILL(root_id, p->root_id ? p->root_id : p->id);
            FILL(issuer, p->issuer);
            FILL(original_holder, p->original_holder);
            FILL(maturity_date, p->maturity_date);
            FILL(transferor, p->holder);
        }
    } else if (rc == 0) {
        if (v->level <= 0)
            v->level = 1;
        FILL(root_id, v->id);
        FILL(transferor, v->issuer);
        FILL(original_holder, v->holder);
    }
#undef FILL
    fmt_voucher_release(&k);
    fmt_voucher_release(&pk);
    return rc;
}

/* The row of v, checked as the store would check it, so that a plan that
 * passes cannot fail half-way. */
static int voucher_row(const char *bank, const struct fmt_voucher *v,
                       const char *role, struct store_voucher *row,
                       struct h2h_err *err)
{
    const char *st = fmt_voucher_status_name(v->status);
    memset(row, 0, sizeof(*row));
    if (!v->root_id || !v->issuer || !v->holder || !v->issue_date ||
        !v->maturity_date || v->level <= 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: the platform did not say its tree, "
                           "level, issuer, holder, issue or maturity date, "
                           "and the book does not know them",
                           v->id);
    if (put_str(row->bank, sizeof(row->bank), bank) ||
        put_str(row->id, sizeof(row->id), v->id) ||
        put_str(row->parent_id, sizeof(row->parent_id), v->parent_id) ||
        put_str(row->root_id, sizeof(row->root_id), v->root_id) ||
        put_str(row->issuer, sizeof(row->issuer), v->issuer) ||
        put_str(row->holder, sizeof(row->holder), v->holder) ||
        put_str(row->status, sizeof(row->status), st) ||
        put_str(row->ccy, sizeof(row->ccy), v->amount.ccy) ||
        put_str(row->issue_date, sizeof(row->issue_date), v->issue_date) ||
        put_str(row->maturity_date, sizeof(row->maturity_date),
                v->maturity_date) ||
        put_str(row->fin_bank, sizeof(row->fin_bank), v->fin_bank) ||
        put_str(row->ours_role, sizeof(row->ours_role), role))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %.80s: an id or name is longer than the "
                           "book keeps",
                           v->id);
    row->level = v->level;
    row->amount = v->amount.minor;
    row->remaining = v->remaining;
    if (!v->root_id[0] || !v->issuer[0] || !v->holder[0] ||
        fmt_voucher_status_parse(st) < 0 ||
        (!row->parent_id[0]) != (v->level == 1) ||
        (v->level == 1 && strcmp(row->root_id, row->id) != 0) ||
        strcmp(row->parent_id, row->id) == 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: level %d, parent \"%s\", root \"%s\" "
                           "and status do not fit together",
                           v->id, v->level, row->parent_id, row->root_id);
    if (!fmt_ccy_valid(row->ccy) || row->amount < 0 || row->remaining < 0 ||
        row->remaining > row->amount)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: bad amount or remaining amount", v->id);
    if (fmt_date_check(row->issue_date, NULL) < 0 ||
        fmt_date_check(row->maturity_date, NULL) < 0)
        return h2h_err_set(err, H2H_EINVALID, "voucher %s: bad dates", v->id);
    return voucher_doc(v, &row->doc, err);
}

/* Put the platform's vouchers v[0..n) into the book: completed, roles
 * computed and every row built before the first is put.  H2H_EINVALID
 * (nothing changed) when the document cannot be applied. */
static int put_vouchers(struct store *s, const char *bank,
                        struct fmt_voucher *v, size_t n,
                        const struct parties *us, size_t *n_put,
                        struct h2h_err *err)
{
    struct store_voucher *rows = calloc(n ? n : 1, sizeof(*rows));
    int rc = rows ? 0 : h2h_err_set(err, H2H_ENOMEM, "out of memory");
    *n_put = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!v[i].id || !*v[i].id)
            rc = h2h_err_set(err, H2H_EINVALID, "a voucher without an id");
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (strcmp(v[j].id, v[i].id) == 0)
                rc = h2h_err_set(err, H2H_EINVALID, "voucher %s listed twice",
                                 v[i].id);
    }
    if (rc == 0 && n && us->n == 0)
        rc = h2h_err_set(err, H2H_EINVALID,
                         "h2hd does not know which party is us at bank %s: "
                         "ask the platform for our holdings first (a "
                         "<VchrInq>)",
                         bank);
    /* twice: a parent listed after its child completes it too */
    for (int pass = 0; rc == 0 && pass < 2; pass++)
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (complete(s, bank, v, n, i) != 0)
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = voucher_row(bank, &v[i], role_of(&v[i], us), &rows[i], err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = store_voucher_put(s, &rows[i], err);
    if (rc == 0)
        *n_put = n;
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].doc);
    free(rows);
    return rc;
}

/* The track a financing row keeps (released by the caller). */
static int track_of_row(const struct store_financing *row,
                        struct fmt_scf_track *t, struct h2h_err *err)
{
    memset(t, 0, sizeof(*t));
    t->interest_rate = -1;
    int st = fmt_scf_status_parse(row->status);
    if (st < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request %s: unknown status %s",
                           row->request_id, row->status);
    t->status = (enum fmt_scf_status)st;
    struct {
        struct fmt_amount *a;
        int64_t v;
        int always;
    } amts[] = {{&t->requested, row->requested, 1},
                {&t->approved, row->approved, 0},
                {&t->financed, row->financed, 0},
                {&t->repaid, row->repaid, 0}};
    for (size_t i = 0; i < sizeof(amts) / sizeof(amts[0]); i++)
        if (amts[i].always || amts[i].v > 0) {
            amts[i].a->minor = amts[i].v;
            memcpy(amts[i].a->ccy, row->ccy, sizeof(amts[i].a->ccy));
        }
    if (fmt_strset(&t->request_id, row->request_id) ||
        (row->loan_ref[0] && fmt_strset(&t->loan_ref, row->loan_ref)) ||
        (row->value_date[0] && fmt_strset(&t->value_date, row->value_date)) ||
        (row->maturity_date[0] &&
         fmt_strset(&t->maturity_date, row->maturity_date))) {
        fmt_scf_track_release(t);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    /* the interest rate and the reason's code live in the document */
    if (row->doc) {
        struct fmt_canon_scf_result r;
        struct fmt_src src = {
            .buf = row->doc, .len = strlen(row->doc), .name = row->request_id};
        if (fmt_canon_scf_read_result(&src, &r, NULL, NULL) == 0 &&
            r.kind == FMT_CANON_SCF_STATUS) {
            t->interest_rate = r.sts.interest_rate;
            t->reason = r.sts.reason;
            memset(&r.sts.reason, 0, sizeof(r.sts.reason));
        }
        fmt_canon_scf_result_release(&r);
    }
    return 0;
}

static int financing_row(const char *bank, const struct fmt_scf_track *t,
                         const char *kind, const char *msg,
                         struct store_financing *row, struct h2h_err *err)
{
    memset(row, 0, sizeof(*row));
    const struct fmt_reason *r = &t->reason;
    const char *code = r->code ? r->code : r->prtry;
    if (put_str(row->bank, sizeof(row->bank), bank) ||
        put_str(row->request_id, sizeof(row->request_id), t->request_id) ||
        put_str(row->kind, sizeof(row->kind), kind) ||
        put_str(row->status, sizeof(row->status),
                fmt_scf_status_name(t->status)) ||
        put_str(row->ccy, sizeof(row->ccy), t->requested.ccy) ||
        put_str(row->loan_ref, sizeof(row->loan_ref), t->loan_ref) ||
        put_str(row->value_date, sizeof(row->value_date), t->value_date) ||
        put_str(row->maturity_date, sizeof(row->maturity_date),
                t->maturity_date) ||
        put_str(row->msg_id, sizeof(row->msg_id), msg))
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request %.80s: an id is longer than "
                           "the book keeps",
                           t->request_id);
    if (!fmt_ccy_valid(row->ccy))
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request %s: no currency known",
                           t->request_id);
    snprintf(row->reason, sizeof(row->reason), "%s%s%s", code ? code : "",
             code && r->addtl_info ? " " : "",
             r->addtl_info ? r->addtl_info : "");
    row->requested = t->requested.minor;
    row->approved = has_amount(&t->approved) ? t->approved.minor : 0;
    row->financed = has_amount(&t->financed) ? t->financed.minor : 0;
    row->repaid = has_amount(&t->repaid) ? t->repaid.minor : 0;
    return track_doc(t, &row->doc, err);
}

/* ---- treasury's requests, as dropped (canonical XML or tsin) ---------- */

/* Read the request at path: a <ScfRequest>, or a tsin.001 / tsin.003 as
 * the financing / cancellation branch.  0, or negative with err (and the
 * problems in diag, may be NULL).  form (may be NULL): the tsin message
 * the file is (FMT_TSIN_001 / _003), 0 for a <ScfRequest>. */
static int read_request(const char *path, struct fmt_canon_scf_request *rq,
                        int *form, struct fmt_diag *diag, struct h2h_err *err)
{
    char head[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
    if (fd >= 0)
        close(fd);
    fmt_canon_scf_request_init(rq);
    if (n <= 0)
        return h2h_err_set(err, H2H_EIO, "cannot read %s", path);
    struct fmt_src src = {.path = path};
    if (form)
        *form = 0;
    if (fmt_canon_scf_detect(head, (size_t)n) == FMT_CANON_SCF_REQUEST)
        return fmt_canon_scf_read_request(&src, rq, diag, err);
    int t = fmt_tsin_detect(head, (size_t)n);
    if (form)
        *form = t;
    struct fmt_diag d;
    int rc;
    fmt_diag_init(&d, NULL);
    if (t == FMT_TSIN_001) {
        rq->kind = FMT_CANON_SCF_FINANCING;
        rc = fmt_tsin001_read(&src, &rq->fincg, &d, err);
    } else if (t == FMT_TSIN_003) {
        rq->kind = FMT_CANON_SCF_CANCEL;
        rc = fmt_tsin003_read(&src, &rq->cxl, &d, err);
    } else {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "not a supply-chain-finance request");
    }
    if (rc == 0 && d.n > 0)
        rc = h2h_err_set(
            err, H2H_EINVALID, "%s%s%s", d.v[0].where ? d.v[0].where : "",
            d.v[0].where ? ": " : "", d.v[0].msg ? d.v[0].msg : "");
    for (size_t i = 0; diag && i < d.n; i++)
        fmt_diag_add(diag, d.v[i].line, d.v[i].where, d.v[i].rule, "%s",
                     d.v[i].msg ? d.v[i].msg : "");
    fmt_diag_release(&d);
    return rc;
}

/* The message recorded for (kind, "<bank>:<id>") and the request it
 * carried: 1 with msg and *rq filled; 0 when there is none, or its
 * payload cannot be read (msg still filled when the message exists);
 * negative when the store failed.  *rq is always initialised.  form (may
 * be NULL): as read_request() says, when 1. */
static int request_of(struct store *s, const char *kind, const char *bank,
                      const char *id, char msg[STORE_ID_MAX],
                      struct fmt_canon_scf_request *rq, int *form,
                      struct h2h_err *err)
{
    char key[STORE_ID_MAX + 140];
    struct store_msg m = {0};
    struct h2h_err e = {0};
    fmt_canon_scf_request_init(rq);
    msg[0] = '\0';
    if (!id || !*id)
        return 0;
    snprintf(key, sizeof(key), "%s:%s", bank, id);
    int rc = store_id_owner(s, kind, key, msg, &e);
    if (rc == H2H_ENOTFOUND)
        return 0;
    if (rc < 0) {
        *err = e;
        return rc;
    }
    rc = store_get(s, msg, &m, &e);
    if (rc == H2H_ENOTFOUND) {
        msg[0] = '\0';
        return 0;
    }
    if (rc < 0) {
        *err = e;
        return rc;
    }
    int have =
        m.payload_path && read_request(m.payload_path, rq, form, NULL, &e) == 0;
    store_msg_release(&m);
    return have;
}

/* ---- moving messages ---------------------------------------------------- */

static enum msg_state state_for_status(enum fmt_scf_status st)
{
    switch (st) {
    case FMT_SCF_REJECTED: return ST_REJECTED;
    case FMT_SCF_SUBMITTED:
    case FMT_SCF_UNDER_REVIEW: return ST_SUBMITTED;
    default: return ST_ACKNOWLEDGED;
    }
}

/* Move msg to `to` for the document (recorded in o->moves).  A message
 * still in submitting is moved to submitted first: the answer proves
 * receipt.  only_waiting: leave a message that is not waiting for an
 * answer alone (an inquiry answered before).  0, or negative when the
 * store failed (the caller rolls back). */
static int move_msg(struct store *s, struct sbook_link *o, const char *role,
                    const char *msg, enum msg_state to, const char *detail,
                    const char *error, int only_waiting)
{
    struct store_msg m = {0};
    struct h2h_err e = {0};
    if (!msg || !*msg || o->n_moves == sizeof(o->moves) / sizeof(o->moves[0]))
        return 0;
    int rc = store_get(s, msg, &m, &e);
    if (rc == H2H_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    enum msg_state from = m.state;
    store_msg_release(&m);
    if (only_waiting && from != ST_SUBMITTING && from != ST_SUBMITTED)
        return 0;
    struct sbook_move *mv = &o->moves[o->n_moves++];
    memset(mv, 0, sizeof(*mv));
    mv->role = role;
    mv->to = to;
    snprintf(mv->msg, sizeof(mv->msg), "%s", msg);
    if (from == ST_SUBMITTING) {
        struct store_change ch = {.detail = "the platform's answer proves "
                                            "receipt",
                                  .error = ""};
        rc = store_transition(s, msg, ST_SUBMITTING, ST_SUBMITTED, &ch, &e);
        from = ST_SUBMITTED;
    }
    if (rc == 0 && to == ST_SUBMITTED) {
        mv->what = from == ST_SUBMITTED ? SBOOK_PENDING : SBOOK_REPEATED;
    } else if (rc == 0 && from == to) {
        mv->what = SBOOK_REPEATED;
    } else if (rc == 0) {
        struct store_change ch = {.detail = detail,
                                  .error = to == ST_REJECTED ? error : ""};
        rc = store_transition(s, msg, from, to, &ch, &e);
        mv->what = rc == 0 ? SBOOK_MOVED : SBOOK_FAILED;
    } else {
        mv->what = SBOOK_FAILED;
    }
    if (mv->what == SBOOK_FAILED)
        mv->err = e;
    /* the store itself failing is not the message's fault */
    return rc == H2H_EDB || rc == H2H_ENOMEM || rc == H2H_EIO ? rc : 0;
}

/* ---- linking what the bank sent ---------------------------------------- */

static void reason_text(const struct fmt_reason *r, char *buf, size_t sz)
{
    const char *code = r->code ? r->code : r->prtry;
    snprintf(buf, sz, "%s%s%s", code ? code : "",
             code && r->addtl_info ? " " : "",
             r->addtl_info ? r->addtl_info : "");
}

static void note_track(struct sbook_link *o, const struct fmt_scf_track *t)
{
    snprintf(o->status, sizeof(o->status), "%s",
             fmt_scf_status_name(t->status));
    memcpy(o->ccy, t->requested.ccy, sizeof(o->ccy));
    o->financed = has_amount(&t->financed)   ? t->financed.minor
                  : has_amount(&t->approved) ? t->approved.minor
                                             : 0;
    o->repaid = has_amount(&t->repaid) ? t->repaid.minor : 0;
}

static int link_status(struct store *s, const char *bank,
                       const struct fmt_scf_status_report *rep,
                       struct sbook_link *o, struct h2h_err *err)
{
    const char *id = rep->orgnl_request_id;
    char msg[STORE_ID_MAX], other[STORE_ID_MAX], detail[700], why[600];
    struct fmt_canon_scf_request rq, aux;
    struct store_financing row = {0};
    struct fmt_scf_track t = {0};
    const char *kind = "receivable";
    int rc;
    o->doc = "status";
    fmt_canon_scf_request_init(&aux);
    if (!id || !*id) {
        fmt_canon_scf_request_init(&rq);
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the status report names no request");
        goto out;
    }
    snprintf(o->req_id, sizeof(o->req_id), "%s", id);
    if ((rc = request_of(s, "scf", bank, id, msg, &rq, NULL, err)) < 0)
        goto out;
    int have = rc == 1;
    if (have && rq.kind != FMT_CANON_SCF_FINANCING) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the status report is about %s, which h2hd sent as "
                         "another kind of request",
                         id);
        goto out;
    }
    if (have && (rc = fmt_scf_status_report_check(rep, &rq.fincg, err)) < 0)
        goto out;
    if (store_financing_get(s, bank, id, &row, NULL) == 0) {
        if ((rc = track_of_row(&row, &t, err)) < 0)
            goto out;
        kind = row.kind;
        if (!msg[0])
            snprintf(msg, sizeof(msg), "%s", row.msg_id);
    } else if (have) {
        if ((rc = fmt_scf_track_init(&t, &rq.fincg, err)) < 0)
            goto out;
        kind = fmt_scf_kind_name(rq.fincg.kind);
    } else {
        /* a request h2hd never sent: what the report says is all there is */
        const struct fmt_amount *a = &rep->financed, *b = &rep->accepted_total;
        const struct fmt_amount *big =
            has_amount(a) && (!has_amount(b) || a->minor >= b->minor) ? a
            : has_amount(b)                                           ? b
                                                                      : NULL;
        t.interest_rate = -1;
        if (!big) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "h2hd does not know request %s and the report "
                             "names no amount",
                             id);
            goto out;
        }
        if (fmt_strset(&t.request_id, id) != 0) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        t.status = FMT_SCF_SUBMITTED;
        t.requested = *big;
    }
    if ((rc = fmt_scf_track_status(&t, rep, err)) < 0)
        goto out;
    struct store_financing nrow;
    if ((rc = financing_row(bank, &t, kind, msg, &nrow, err)) == 0)
        rc = store_financing_put(s, &nrow, err);
    free(nrow.doc);
    if (rc < 0)
        goto out;
    note_track(o, &t);

    /* the request's message */
    reason_text(&t.reason, why, sizeof(why));
    snprintf(detail, sizeof(detail), "scf financing %s%s%s", o->status,
             why[0] ? ": " : "", why);
    if ((rc = move_msg(s, o, "request", msg, state_for_status(t.status), detail,
                       detail, 0)) < 0)
        goto out;
    /* the cancellation it answers */
    if (rep->cancel_answer != FMT_SCF_CXL_NONE) {
        if ((rc = request_of(s, "scf-cxl", bank, id, other, &aux, NULL, err)) <
            0)
            goto out;
        int ok = rep->cancel_answer == FMT_SCF_CXL_ACCEPTED;
        reason_text(&rep->cancel_reason, why, sizeof(why));
        snprintf(detail, sizeof(detail), "scf cancellation of %s %s%s%s", id,
                 ok ? "accepted" : "refused", why[0] ? ": " : "", why);
        if ((rc = move_msg(s, o, "cancellation", other,
                           ok ? ST_ACKNOWLEDGED : ST_REJECTED, detail, detail,
                           0)) < 0)
            goto out;
    }
    /* a status inquiry about it still waiting */
    fmt_canon_scf_request_release(&aux);
    if ((rc = request_of(s, "scf-inq", bank, id, other, &aux, NULL, err)) < 0)
        goto out;
    snprintf(detail, sizeof(detail), "scf inquiry answered: request %s is %s",
             id, o->status);
    rc = move_msg(s, o, "inquiry", other, ST_ACKNOWLEDGED, detail, "", 1);
out:
    store_financing_release(&row);
    fmt_scf_track_release(&t);
    fmt_canon_scf_request_release(&rq);
    fmt_canon_scf_request_release(&aux);
    return rc;
}

/* The book's financing row a repayment notice names (request id, or else
 * loan reference). */
struct by_loan {
    const char *loan_ref;
    struct store_financing *out;
    int found;
};

static int by_loan_cb(void *ctx, const struct store_financing *r)
{
    struct by_loan *b = ctx;
    if (b->found || strcmp(r->loan_ref, b->loan_ref) != 0)
        return 0;
    *b->out = *r;
    b->out->doc = r->doc ? strdup(r->doc) : NULL;
    b->found = 1;
    return 0;
}

static int link_repayment(struct store *s, const char *bank,
                          const struct fmt_scf_repayment *rp,
                          struct sbook_link *o, struct h2h_err *err)
{
    struct store_financing row = {0}, nrow = {0};
    struct fmt_scf_track t = {0};
    int rc;
    o->doc = "repayment";
    snprintf(o->op, sizeof(o->op), "%s", fmt_scf_repay_kind_name(rp->kind));
    snprintf(o->req_id, sizeof(o->req_id), "%s",
             rp->request_id ? rp->request_id
             : rp->loan_ref ? rp->loan_ref
                            : "");
    if (rp->request_id) {
        rc = store_financing_get(s, bank, rp->request_id, &row, err);
    } else if (rp->loan_ref) {
        struct by_loan b = {.loan_ref = rp->loan_ref, .out = &row};
        struct store_financing_filter f = {.bank = bank};
        rc = store_financing_list(s, &f, by_loan_cb, &b, err);
        if (rc == 0 && !b.found)
            rc = H2H_ENOTFOUND;
    } else {
        rc = H2H_ENOTFOUND;
    }
    if (rc == H2H_ENOTFOUND) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "repayment notice %s: h2hd knows no financing %s "
                         "at bank %s",
                         rp->notice_id ? rp->notice_id : "(no id)",
                         o->req_id[0] ? o->req_id : "(none named)", bank);
        goto out;
    }
    if (rc < 0 || (rc = track_of_row(&row, &t, err)) < 0 ||
        (rc = fmt_scf_track_repayment(&t, rp, err)) < 0)
        goto out;
    snprintf(o->req_id, sizeof(o->req_id), "%s", t.request_id);
    if ((rc = financing_row(bank, &t, row.kind, row.msg_id, &nrow, err)) == 0)
        rc = store_financing_put(s, &nrow, err);
    if (rc == 0)
        note_track(o, &t);
out:
    free(nrow.doc);
    store_financing_release(&row);
    fmt_scf_track_release(&t);
    return rc;
}

static int link_holdings(struct store *s, const char *bank,
                         struct fmt_canon_scf_holdings *h, struct sbook_link *o,
                         struct h2h_err *err)
{
    struct parties us = {0};
    struct fmt_canon_scf_request rq;
    char msg[STORE_ID_MAX], detail[200];
    int rc;
    fmt_canon_scf_request_init(&rq);
    o->doc = "holdings";
    snprintf(o->party, sizeof(o->party), "%s", h->party ? h->party : "");
    snprintf(o->req_id, sizeof(o->req_id), "%s", h->req_id ? h->req_id : "");
    parties_add(&us, h->party);
    if ((rc = book_parties(s, bank, &us, err)) < 0 ||
        (rc = put_vouchers(s, bank, h->vouchers, h->n_vouchers, &us,
                           &o->n_vouchers, err)) < 0)
        goto out;
    if ((rc = request_of(s, "scf", bank, h->req_id, msg, &rq, NULL, err)) ==
            1 &&
        rq.kind == FMT_CANON_SCF_VOUCHER_INQ) {
        snprintf(detail, sizeof(detail), "scf holdings of %s: %zu vouchers",
                 o->party, h->n_vouchers);
        rc = move_msg(s, o, "request", msg, ST_ACKNOWLEDGED, detail, "", 0);
    }
    rc = rc < 0 ? rc : 0;
out:
    parties_release(&us);
    fmt_canon_scf_request_release(&rq);
    return rc;
}

static int link_vop(struct store *s, const char *bank,
                    struct fmt_canon_scf_vop_result *r, struct sbook_link *o,
                    struct h2h_err *err)
{
    struct parties us = {0};
    struct fmt_canon_scf_request rq;
    char msg[STORE_ID_MAX], detail[700];
    const char *opn =
        fmt_voucher_op_name(r->op) ? fmt_voucher_op_name(r->op) : "?";
    int rc;
    o->doc = "voucher_op";
    snprintf(o->req_id, sizeof(o->req_id), "%s", r->req_id ? r->req_id : "");
    snprintf(o->op, sizeof(o->op), "%s", opn);
    snprintf(o->status, sizeof(o->status), "%s",
             fmt_canon_scf_outcome_name(r->outcome)
                 ? fmt_canon_scf_outcome_name(r->outcome)
                 : "?");
    if ((rc = request_of(s, "scf", bank, r->req_id, msg, &rq, NULL, err)) < 0)
        goto out;
    int have = rc == 1;
    rc = 0;
    if (have && rq.kind != FMT_CANON_SCF_VOUCHER_OP) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the voucher operation result answers %s, which "
                         "h2hd sent as another kind of request",
                         o->req_id);
        goto out;
    }
    if (have && rq.vop.kind != r->op) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the result answers %s as a %s, but h2hd sent it "
                         "as a %s",
                         o->req_id, opn, fmt_voucher_op_name(rq.vop.kind));
        goto out;
    }
    if (have)
        parties_add(&us, rq.vop.actor);
    if ((rc = book_parties(s, bank, &us, err)) < 0)
        goto out;
    /* a refused operation changes no voucher: what it lists is as before */
    if (r->outcome != FMT_CANON_SCF_REJECTED &&
        (rc = put_vouchers(s, bank, r->vouchers, r->n_vouchers, &us,
                           &o->n_vouchers, err)) < 0)
        goto out;
    enum msg_state to = r->outcome == FMT_CANON_SCF_ACCEPTED   ? ST_ACKNOWLEDGED
                        : r->outcome == FMT_CANON_SCF_REJECTED ? ST_REJECTED
                                                               : ST_SUBMITTED;
    snprintf(detail, sizeof(detail), "scf voucher %s %s: %s%s%s", opn,
             o->status, r->bank_code ? r->bank_code : "",
             r->bank_text ? " " : "", r->bank_text ? r->bank_text : "");
    rc = move_msg(s, o, "request", msg, to, detail, detail, 0);
out:
    parties_release(&us);
    fmt_canon_scf_request_release(&rq);
    return rc;
}

int sbook_link_file(struct store *s, const char *bank, const char *path,
                    struct sbook_link *o, struct h2h_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;
    memset(o, 0, sizeof(*o));
    if ((rc = fsu_read_file(path, SBOOK_DOC_MAX, &buf, &len, err)) < 0)
        return rc;
    struct fmt_src src = {.buf = buf, .len = len, .name = path};
    struct h2h_err why = {0};
    int canon = fmt_canon_scf_detect(buf, len);
    int tsin = canon < 0 ? fmt_tsin_detect(buf, len) : 0;
    o->what = SBOOK_LINKED;
    if (canon == FMT_CANON_SCF_RESULT) {
        struct fmt_canon_scf_result r;
        rc = fmt_canon_scf_read_result(&src, &r, NULL, &why);
        if (rc == 0) {
            switch (r.kind) {
            case FMT_CANON_SCF_STATUS:
                rc = link_status(s, bank, &r.sts, o, &why);
                break;
            case FMT_CANON_SCF_REPAYMENT:
                rc = link_repayment(s, bank, &r.rpmt, o, &why);
                break;
            case FMT_CANON_SCF_HOLDINGS:
                rc = link_holdings(s, bank, &r.hldgs, o, &why);
                break;
            case FMT_CANON_SCF_VOP_RESULT:
                rc = link_vop(s, bank, &r.vrslt, o, &why);
                break;
            default:
                rc = h2h_err_set(&why, H2H_EINVALID, "an empty result");
                break;
            }
        }
        fmt_canon_scf_result_release(&r);
    } else if (tsin == FMT_TSIN_002) {
        struct fmt_scf_status_report rep;
        struct fmt_diag d;
        fmt_scf_status_report_init(&rep);
        fmt_diag_init(&d, NULL);
        rc = fmt_tsin002_read(&src, &rep, &d, &why);
        if (rc == 0 && d.n > 0)
            rc = h2h_err_set(&why, H2H_EINVALID, "tsin.002: %s%s%s",
                             d.v[0].where ? d.v[0].where : "",
                             d.v[0].where ? ": " : "",
                             d.v[0].msg ? d.v[0].msg : "");
        if (rc == 0)
            rc = link_status(s, bank, &rep, o, &why);
        fmt_diag_release(&d);
        fmt_scf_status_report_release(&rep);
    } else if (canon == FMT_CANON_SCF_REQUEST || tsin > 0) {
        o->what = SBOOK_NONE; /* a request: nothing to link */
    } else {
        rc = h2h_err_set(&why, H2H_EINVALID,
                         "not a supply-chain-finance result");
    }
    free(buf);
    if (rc == H2H_EDB || rc == H2H_ENOMEM || rc == H2H_EIO) {
        *err = why;
        return rc; /* the store or the machine: try the delivery again */
    }
    if (rc < 0) {
        /* the document: delivered as it is, the book left alone */
        o->what = SBOOK_IGNORED;
        o->err = why;
        o->n_vouchers = 0;
        o->n_moves = 0;
    }
    return 0;
}

/* ---- treasury's form of an answer -------------------------------------- */

static int note_printf(struct sbook_form *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int note_printf(struct sbook_form *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&f->note, fmt, ap) < 0)
        f->note = NULL;
    va_end(ap);
    return f->note ? 0 : H2H_ENOMEM;
}

void sbook_form_release(struct sbook_form *f)
{
    free(f->doc);
    free(f->note);
    memset(f, 0, sizeof(*f));
}

/* 1 when a report's invoice results (if any) all say pending and nothing
 * was decided on terms yet. */
static int all_pending(const struct fmt_scf_status_report *rep)
{
    for (size_t i = 0; i < rep->n_invoices; i++)
        if (rep->invoices[i].result != FMT_SCF_ITEM_PENDING ||
            rep->invoices[i].financed.ccy[0])
            return 0;
    return !rep->financed.ccy[0] && !rep->accepted_total.ccy[0] &&
           !rep->value_date && !rep->maturity_date;
}

int sbook_treasury_form(struct store *s, const char *bank, const char *path,
                        const char *sts_id, const char *cre_dt_tm,
                        struct sbook_form *f, struct h2h_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    char msg[STORE_ID_MAX], cxl[STORE_ID_MAX];
    struct fmt_canon_scf_result r;
    struct fmt_canon_scf_request rq, cx;
    struct h2h_err why = {0};
    int form = 0, cform = 0, rc = 0;
    memset(f, 0, sizeof(*f));
    fmt_canon_scf_result_init(&r);
    fmt_canon_scf_request_init(&rq);
    fmt_canon_scf_request_init(&cx);
    /* what cannot be read here is not ours to judge: the link reports it */
    if (fsu_read_file(path, SBOOK_DOC_MAX, &buf, &len, NULL) < 0 ||
        fmt_canon_scf_detect(buf, len) != FMT_CANON_SCF_RESULT)
        goto out;
    struct fmt_src src = {.buf = buf, .len = len, .name = path};
    if (fmt_canon_scf_read_result(&src, &r, NULL, &why) != 0 ||
        r.kind != FMT_CANON_SCF_STATUS || !r.sts.orgnl_request_id)
        goto out;
    struct fmt_scf_status_report *rep = &r.sts;
    const char *id = rep->orgnl_request_id;
    if ((rc = request_of(s, "scf", bank, id, msg, &rq, &form, err)) < 0)
        goto out;
    int have = rc == 1 && rq.kind == FMT_CANON_SCF_FINANCING;
    int have_cx = 0;
    if (rep->cancel_answer != FMT_SCF_CXL_NONE) {
        if ((rc = request_of(s, "scf-cxl", bank, id, cxl, &cx, &cform, err)) <
            0)
            goto out;
        have_cx = rc == 1 && cx.kind == FMT_CANON_SCF_CANCEL;
    }
    rc = 0;
    /* the party that asked in tsin gets its answer in tsin */
    if (!(have && form == FMT_TSIN_001) && !(have_cx && cform == FMT_TSIN_003))
        goto out;
    /* tsin.002 says "submitted" by leaving FincgInfAndSts out: invoice
     * results that are all still pending and the request's accounts
     * echoed back add nothing (tsin.001 has them) and would read back as
     * under_review; the JSON bank sends both from the start */
    if (rep->status == FMT_SCF_SUBMITTED && all_pending(rep)) {
        for (size_t i = 0; i < rep->n_invoices; i++)
            fmt_scf_invoice_result_release(&rep->invoices[i]);
        free(rep->invoices);
        rep->invoices = NULL;
        rep->n_invoices = 0;
        fmt_account_release(&rep->credit_acct);
        fmt_account_release(&rep->financing_acct);
    }
    if (have && (rc = fmt_tsin002_complete(rep, &rq.fincg, &why)) < 0) {
        rc = rc == H2H_ENOMEM ? h2h_err_set(err, rc, "out of memory")
                              : note_printf(f,
                                            "delivered as <ScfResult>: "
                                            "tsin.002 cannot carry this "
                                            "report: %s",
                                            why.msg);
        goto out;
    }
    /* What tsin.002 needs and a dialect may not say: the original
     * request's time is the one treasury wrote into it (a dialect's is
     * when the bank took it in); the report's id and time the caller's
     * stand-ins, fixed for this download. */
    if ((have && rq.fincg.cre_dt_tm &&
         fmt_strset(&rep->orgnl_cre_dt_tm, rq.fincg.cre_dt_tm) != 0) ||
        (!rep->status_id && fmt_strset(&rep->status_id, sts_id) != 0) ||
        (!rep->cre_dt_tm && fmt_strset(&rep->cre_dt_tm, cre_dt_tm) != 0)) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    FILE *mf = open_memstream(&f->doc, &f->len);
    if (!mf) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    rc = fmt_tsin002_write(mf, rep, &why);
    if (fclose(mf) != 0 && rc == 0)
        rc = h2h_err_set(&why, H2H_ENOMEM, "out of memory");
    if (rc < 0) {
        free(f->doc);
        f->doc = NULL;
        f->len = 0;
        rc = rc == H2H_ENOMEM ? h2h_err_set(err, rc, "out of memory")
                              : note_printf(f,
                                            "delivered as <ScfResult>: "
                                            "tsin.002 cannot carry this "
                                            "report: %s",
                                            why.msg);
    }
out:
    free(buf);
    fmt_canon_scf_result_release(&r);
    fmt_canon_scf_request_release(&rq);
    fmt_canon_scf_request_release(&cx);
    if (rc < 0)
        sbook_form_release(f);
    return rc;
}

static void log_move(const char *bank, const char *file,
                     const struct sbook_link *o, const struct sbook_move *mv)
{
    int rejected = mv->to == ST_REJECTED;
    const char *ev = NULL;
    if (mv->what == SBOOK_FAILED) {
        h2h_log(H2H_LOG_WARN, "scf.ignored", "msg", mv->msg, "bank", bank,
                "file", file, "req", o->req_id, "error", mv->err.msg, NULL);
        return;
    }
    if (strcmp(mv->role, "cancellation") == 0 && mv->what == SBOOK_MOVED)
        ev = rejected ? "scf.cancel.refused" : "scf.cancel.accepted";
    else if (strcmp(mv->role, "inquiry") == 0 && mv->what == SBOOK_MOVED)
        ev = "scf.inquiry.answered";
    if (ev)
        h2h_log(rejected ? H2H_LOG_WARN : H2H_LOG_INFO, ev, "msg", mv->msg,
                "bank", bank, "file", file, "req", o->req_id, NULL);
}

void sbook_log_link(const char *bank, const char *file,
                    const struct sbook_link *o)
{
    char n[24], fin[40], rep[40];
    const struct sbook_move *main = NULL;
    if (o->what == SBOOK_NONE)
        return;
    if (o->what == SBOOK_IGNORED) {
        h2h_log(H2H_LOG_WARN, "scf.ignored", "bank", bank, "file", file, "doc",
                o->doc ? o->doc : "?", "req", o->req_id, "error", o->err.msg,
                NULL);
        return;
    }
    for (size_t i = 0; i < o->n_moves; i++)
        if (strcmp(o->moves[i].role, "request") == 0)
            main = &o->moves[i];
        else
            log_move(bank, file, o, &o->moves[i]);
    if (main && main->what == SBOOK_FAILED) {
        log_move(bank, file, o, main);
        main = NULL;
    }
    snprintf(n, sizeof(n), "%zu", o->n_vouchers);
    money(fin, sizeof(fin), o->financed, o->ccy);
    money(rep, sizeof(rep), o->repaid, o->ccy);
    const char *msg = main ? main->msg : "";
    int moved = main && main->what == SBOOK_MOVED;
    int rejected = moved && main->to == ST_REJECTED;
    int pending = main && main->what == SBOOK_PENDING;
    if (strcmp(o->doc, "status") == 0) {
        const char *ev = pending                               ? "scf.pending"
                         : !moved                              ? "scf.status"
                         : rejected                            ? "scf.rejected"
                         : strcmp(o->status, "cancelled") == 0 ? "scf.cancelled"
                                                               : "scf.accepted";
        h2h_log(rejected ? H2H_LOG_WARN : H2H_LOG_INFO, ev, "msg", msg, "bank",
                bank, "file", file, "req", o->req_id, "status", o->status,
                "financed", fin, "ccy", o->ccy, NULL);
    } else if (strcmp(o->doc, "repayment") == 0) {
        h2h_log(H2H_LOG_INFO, "scf.repayment", "bank", bank, "file", file,
                "req", o->req_id, "kind", o->op, "repaid", rep, "financed", fin,
                "ccy", o->ccy, "status", o->status, NULL);
    } else if (strcmp(o->doc, "holdings") == 0 && main) {
        h2h_log(H2H_LOG_INFO, "scf.holdings", "msg", msg, "bank", bank, "file",
                file, "party", o->party, "req", o->req_id, "vouchers", n, NULL);
    } else if (strcmp(o->doc, "holdings") == 0) {
        h2h_log(H2H_LOG_INFO, "scf.holdings", "bank", bank, "file", file,
                "party", o->party, "vouchers", n, NULL);
    } else {
        const char *ev =
            moved ? (rejected ? "scf.voucher.rejected" : "scf.voucher.accepted")
            : pending ? "scf.voucher.pending"
                      : "scf.voucher.result";
        h2h_log(rejected ? H2H_LOG_WARN : H2H_LOG_INFO, ev, "msg", msg, "bank",
                bank, "file", file, "req", o->req_id, "op", o->op, "outcome",
                o->status, "vouchers", n, NULL);
    }
}

/* ---- checking treasury's requests ------------------------------------- */

/* "where: msg [rule]; ..." of every problem. */
static char *diag_text(const struct fmt_diag *d)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < d->n; i++)
        fprintf(f, "%s%s%s%s [%s]", i ? "; " : "",
                d->v[i].where ? d->v[i].where : "", d->v[i].where ? ": " : "",
                d->v[i].msg ? d->v[i].msg : "",
                d->v[i].rule ? d->v[i].rule : "");
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static int check_cancel(struct store *s, const char *bank,
                        const struct fmt_scf_cancel *c, char **why)
{
    struct store_financing row = {0};
    struct fmt_scf_track t = {0};
    struct h2h_err err = {0};
    char msg[STORE_ID_MAX], key[STORE_ID_MAX + 140];
    const char *id = c->orgnl_request_id ? c->orgnl_request_id : "";
    int rc = store_financing_get(s, bank, id, &row, &err);
    if (rc == 0) {
        rc = track_of_row(&row, &t, &err);
    } else if (rc == H2H_ENOTFOUND) {
        /* sent, not yet answered: submitted as far as anyone knows */
        snprintf(key, sizeof(key), "%s:%s", bank, id);
        rc = store_id_owner(s, "scf", key, msg, &err);
        if (rc == 0) {
            t.status = FMT_SCF_SUBMITTED;
            t.interest_rate = -1;
            rc = fmt_strset(&t.request_id, id);
        } else if (rc == H2H_ENOTFOUND) {
            *why = why_printf("financing request %s is not in h2hd's book for "
                              "bank %s: h2hd never sent it there and no report "
                              "of it has arrived; check the id",
                              id, bank);
            goto out;
        }
    }
    if (rc == 0)
        rc = fmt_scf_cancel_check(&t, c, &err);
    if (rc < 0)
        *why = why_printf("%s", err.msg);
out:
    store_financing_release(&row);
    fmt_scf_track_release(&t);
    return rc;
}

static int check_vop(struct store *s, const char *bank,
                     const struct fmt_canon_scf_vop *w, char **why)
{
    struct fmt_voucher_op op;
    struct fmt_voucher_set set;
    struct store_voucher row = {0};
    struct vrows tree = {0};
    struct h2h_err err = {0};
    int rc;
    fmt_canon_scf_vop_view(w, &op);
    fmt_voucher_set_init(&set);
    rc = store_voucher_get(s, bank, op.voucher_id, &row, &err);
    if (rc == H2H_ENOTFOUND && op.kind != FMT_VOUCHER_ISSUE) {
        *why = why_printf("voucher %s is not in h2hd's book for bank %s: ask "
                          "the platform first (drop a <VchrInq> for our "
                          "holdings), or check the id",
                          op.voucher_id, bank);
        goto out;
    }
    if (rc == H2H_ENOTFOUND) {
        rc = 0; /* a new voucher: nothing to check it against */
    } else if (rc == 0) {
        /* the voucher's whole tree as the book has it */
        struct store_voucher_filter f = {.bank = bank, .root_id = row.root_id};
        rc = vrows_of(s, &f, &tree, &err);
        for (size_t i = 0; rc == 0 && i < tree.n; i++) {
            struct fmt_voucher v;
            if ((rc = voucher_of_row(&tree.v[i], &v, &err)) == 0)
                rc = fmt_voucher_set_add(&set, &v, &err);
            fmt_voucher_release(&v);
        }
    }
    /* a transfer's new id must be new at the platform, not only in the
     * tree */
    if (rc == 0 && op.kind == FMT_VOUCHER_TRANSFER && op.new_id &&
        !fmt_voucher_find(set.v, set.n, op.new_id)) {
        struct store_voucher other = {0};
        if (store_voucher_get(s, bank, op.new_id, &other, NULL) == 0)
            rc = h2h_err_set(&err, H2H_EDUP, "voucher %s already exists",
                             op.new_id);
        store_voucher_release(&other);
    }
    if (rc == 0)
        rc = fmt_voucher_check(set.v, set.n, &op, &err);
    if (rc < 0)
        *why = why_printf("%s", err.msg);
out:
    store_voucher_release(&row);
    vrows_release(&tree);
    fmt_voucher_set_release(&set);
    return rc;
}

int sbook_check_request(struct store *s, const char *bank, const char *path,
                        const char *today, struct sbook_req *info, char **why)
{
    struct fmt_canon_scf_request rq;
    struct fmt_diag diag;
    struct h2h_err err = {0};
    memset(info, 0, sizeof(*info));
    *why = NULL;
    fmt_diag_init(&diag, NULL);
    int rc = read_request(path, &rq, NULL, &diag, &err);
    if (rc < 0) {
        *why = diag.n ? diag_text(&diag) : why_printf("%s", err.msg);
        goto out;
    }
    switch (rq.kind) {
    case FMT_CANON_SCF_FINANCING:
        if (fmt_scf_request_check(&rq.fincg, today, &diag) > 0) {
            rc = H2H_EINVALID;
            *why = diag_text(&diag);
        }
        break;
    case FMT_CANON_SCF_CANCEL:
        rc = check_cancel(s, bank, &rq.cxl, why);
        snprintf(info->also_kind, sizeof(info->also_kind), "scf-cxl");
        snprintf(info->also_id, sizeof(info->also_id), "%s",
                 rq.cxl.orgnl_request_id ? rq.cxl.orgnl_request_id : "");
        break;
    case FMT_CANON_SCF_INQUIRY:
        snprintf(info->also_kind, sizeof(info->also_kind), "scf-inq");
        snprintf(info->also_id, sizeof(info->also_id), "%s",
                 rq.inq.request_id ? rq.inq.request_id : "");
        break;
    case FMT_CANON_SCF_VOUCHER_OP: rc = check_vop(s, bank, &rq.vop, why); break;
    default: break; /* a holdings inquiry needs nothing */
    }
out:
    fmt_diag_release(&diag);
    fmt_canon_scf_request_release(&rq);
    if (rc < 0 && !*why)
        *why = strdup("refused (out of memory while saying why)");
    if (rc < 0)
        memset(info, 0, sizeof(*info));
    return rc < 0 ? rc : 0;
}

/* ---- maturity alerts --------------------------------------------------- */

/* The alert level a number of days left falls in: 7, 3, 1, or 0 (today
 * or past); -1 when none is due yet. */
static int level_of(long days)
{
    return days > 7 ? -1 : days > 3 ? 7 : days > 1 ? 3 : days > 0 ? 1 : 0;
}

struct alerts {
    struct store *s;
    void (*today_of)(void *ctx, const char *bank, char out[11]);
    void *ctx;
    char bank[128]; /* the bank today is of */
    long today;
};

/* The day number of row's bank, looked up when the bank changes. */
static long alert_today(struct alerts *a, const char *bank)
{
    if (strcmp(a->bank, bank) != 0) {
        char day[11];
        snprintf(a->bank, sizeof(a->bank), "%s", bank);
        a->today_of(a->ctx, bank, day);
        a->today = fmt_date_days(day);
    }
    return a->today;
}

static int alert_row(void *ctx, const struct store_voucher *row)
{
    struct alerts *a = ctx;
    static const int levels[] = {0, 1, 3, 7};
    int st = fmt_voucher_status_parse(row->status);
    int held = strcmp(row->ours_role, "held") == 0 &&
               (st == FMT_VOUCHER_HELD || st == FMT_VOUCHER_PENDING);
    int issued = strcmp(row->ours_role, "issued") == 0 &&
                 (st == FMT_VOUCHER_PENDING || st == FMT_VOUCHER_HELD ||
                  st == FMT_VOUCHER_FINANCED);
    int64_t amount = st == FMT_VOUCHER_PENDING ? row->amount : row->remaining;
    long days = fmt_date_days(row->maturity_date) - alert_today(a, row->bank);
    int level = level_of(days);
    char key[STORE_ID_MAX + 160];
    if (!(held || issued) || amount <= 0 || level < 0)
        return 0;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (levels[i] > level)
            break;
        snprintf(key, sizeof(key), "%s:%s:%d", row->bank, row->id, levels[i]);
        if (store_id_seen(a->s, "scf-alert", key, 0, NULL) == 1)
            return 0; /* this threshold or a nearer one was logged */
    }
    char left[24], amt[40];
    snprintf(left, sizeof(left), "%ld", days);
    money(amt, sizeof(amt), amount, row->ccy);
    h2h_log(days < 0 ? H2H_LOG_ERROR : H2H_LOG_WARN,
            days < 0 ? "scf.voucher.overdue" : "scf.voucher.maturing", "bank",
            row->bank, "voucher", row->id, "role", row->ours_role, "holder",
            row->holder, "amount", amt, "ccy", row->ccy, "status", row->status,
            "maturity", row->maturity_date, "days_left", left, NULL);
    snprintf(key, sizeof(key), "%s:%s:%d", row->bank, row->id, level);
    store_id_record(a->s, "scf-alert", key, NULL, NULL);
    return 0;
}

void sbook_alerts(struct store *s,
                  void (*today_of)(void *ctx, const char *bank, char out[11]),
                  void *ctx)
{
    struct h2h_err err = {0};
    struct alerts a = {.s = s, .today_of = today_of, .ctx = ctx};
    if (store_voucher_list(s, NULL, alert_row, &a, &err) < 0)
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
}
