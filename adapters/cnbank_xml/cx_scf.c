/*
 * cx_scf.c - supply-chain finance through a direct-connect front end
 * (PROFILE.md "Bill pool and supply-chain finance"): a dropped
 * <ScfRequest> (or an ISO 20022 tsin.001 / tsin.003, read through tsin.h
 * into the same model) becomes one scf_financing, scf_cancel or
 * voucher_operation request, or the scf_query / voucher_list calls of an
 * inquiry; the answers become canonical <ScfResult> documents.
 *
 * Results stay canonical <ScfResult> also for a request that came as
 * tsin: the status report carries everything tsin.002 would, and one
 * format in out/scf keeps the book's reading simple (PROFILE.md).
 *
 * Pure conversions besides reading the request file; any thread.
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon_scf.h"
#include "fsutil.h"
#include "scf.h"
#include "tsin.h"

#define REQUEST_MAX (4u << 20)

struct sset {
    const struct cx *c;
    struct cx_plan *pl;
    int oom;
};

static void put(struct sset *b, struct cx_vals *v, enum cx_tok t, const char *s)
{
    if (s && cx_plan_set(b->pl, v, t, s) != 0)
        b->oom = 1;
}

static void put_date(struct sset *b, struct cx_vals *v, enum cx_tok t,
                     const char *iso)
{
    char buf[40];
    if (!iso || !*iso)
        return;
    cx_date_format(b->c->p, iso, buf, sizeof(buf));
    put(b, v, t, buf);
}

static void put_minor(struct sset *b, struct cx_vals *v, enum cx_tok t,
                      int64_t minor)
{
    char buf[40];
    cx_amount_format(b->c->p, minor, buf, sizeof(buf));
    put(b, v, t, buf);
}

static const char *acct_no(const struct fmt_account *a)
{
    return a->other_id ? a->other_id : a->iban;
}

static const char *first_account(const struct cx *c)
{
    return c->s.n_accounts ? c->s.accounts[0] : NULL;
}

static int plan_financing(const struct cx *c, const struct fmt_scf_request *r,
                          struct cx_plan *pl, struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    struct sset b = {.c = c, .pl = pl};
    struct cx_vals *v = &pl->v;
    const char *kind = cx_tab_bank(&p->t_fin_kinds, fmt_scf_kind_name(r->kind));
    if (!kind)
        return h2h_err_set(err, H2H_EINVALID,
                           "Fincg/Kind %s: not in this bank's financing_kinds",
                           fmt_scf_kind_name(r->kind));
    const char *ccy = cx_ccy_bank(p, r->ccy);
    if (!ccy)
        return h2h_err_set(err, H2H_EINVALID,
                           "Fincg/Ccy %s: not in this bank's currency_codes",
                           r->ccy);
    if (strcmp(r->requested.ccy, r->ccy) != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "Fincg/ReqdAmt: %s, the request is in %s",
                           r->requested.ccy, r->ccy);
    if (!r->n_invoices)
        return h2h_err_set(err, H2H_EINVALID, "Fincg: no invoice");
    if ((size_t)p->limits.batch_items < r->n_invoices)
        return h2h_err_set(err, H2H_EINVALID,
                           "Fincg: %zu invoices, this bank takes at most %d",
                           r->n_invoices, p->limits.batch_items);
    pl->fn = CX_FN_SCF_FINANCING;
    pl->query = CX_FN_SCF_QUERY;
    snprintf(pl->op, sizeof(pl->op), "financing");
    put(&b, v, CX_T_SERIAL, pl->serial);
    put(&b, v, CX_T_FINANCING_KIND, kind);
    put(&b, v, CX_T_OUR_ACCOUNT,
        acct_no(&r->credit_acct) ? acct_no(&r->credit_acct) : first_account(c));
    put_minor(&b, v, CX_T_AMOUNT, r->requested.minor);
    put(&b, v, CX_T_CURRENCY, r->ccy);
    put(&b, v, CX_T_CURRENCY_CODE, ccy);
    put_date(&b, v, CX_T_VALUE_DATE, r->value_date);
    put(&b, v, CX_T_PRODUCT, r->product);
    put(&b, v, CX_T_AGREEMENT_REF, r->agreement_ref);
    put(&b, v, CX_T_CONTRACT_REF, r->contract_ref);
    put(&b, v, CX_T_MEMO, r->addtl_info);
    char n[24];
    snprintf(n, sizeof(n), "%zu", r->n_invoices);
    put(&b, v, CX_T_COUNT, n);
    if (!(pl->items = calloc(r->n_invoices, sizeof(*pl->items))))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    pl->n_items = r->n_invoices;
    int64_t total = 0;
    for (size_t i = 0; i < r->n_invoices; i++) {
        const struct fmt_scf_invoice *iv = &r->invoices[i];
        struct cx_vals *it = &pl->items[i];
        if (strcmp(iv->amount.ccy, r->ccy) != 0)
            return h2h_err_set(err, H2H_EINVALID,
                               "Fincg/Invcs/Invc[%zu]/Amt: %s, the request "
                               "is in %s",
                               i + 1, iv->amount.ccy, r->ccy);
        if (iv->amount.minor > INT64_MAX - total)
            return h2h_err_set(err, H2H_EINVALID,
                               "Fincg/Invcs: the total overflows");
        total += iv->amount.minor;
        snprintf(n, sizeof(n), "%zu", i + 1);
        put(&b, it, CX_T_ITEM_NO, n);
        put(&b, it, CX_T_INVOICE_NO, iv->number);
        put(&b, it, CX_T_TAX_CODE, iv->tax_invoice_code);
        put_minor(&b, it, CX_T_INVOICE_AMOUNT, iv->amount.minor);
        put_date(&b, it, CX_T_INVOICE_ISSUE_DATE, iv->issue_date);
        put_date(&b, it, CX_T_INVOICE_DUE_DATE, iv->due_date);
        put(&b, it, CX_T_BUYER_NAME, iv->buyer.name);
        put(&b, it, CX_T_SELLER_NAME,
            iv->seller.name ? iv->seller.name : r->requestor.name);
        if (r->kind == FMT_SCF_REVERSE_FACTORING)
            put(&b, it, CX_T_SELLER_ACCOUNT, acct_no(&iv->seller_acct));
    }
    put_minor(&b, v, CX_T_TOTAL, total);
    return b.oom ? h2h_err_set(err, H2H_ENOMEM, "out of memory") : 0;
}

static int plan_vop(const struct cx *c, const struct fmt_canon_scf_vop *w,
                    struct cx_plan *pl, struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    struct sset b = {.c = c, .pl = pl};
    struct cx_vals *v = &pl->v;
    const char *opn = fmt_voucher_op_name(w->kind);
    const char *code = cx_tab_bank(&p->t_voucher_ops, opn);
    if (!code)
        return h2h_err_set(err, H2H_EINVALID,
                           "VchrOp/Op %s: not in this bank's voucher_ops",
                           opn ? opn : "?");
    if (w->amount.ccy[0] && strcmp(w->amount.ccy, "CNY") != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "VchrOp/Amt: %s; vouchers are in CNY at this bank",
                           w->amount.ccy);
    pl->fn = CX_FN_VOUCHER_OPERATION;
    pl->query = CX_FN_VOUCHER_QUERY;
    snprintf(pl->req_id, sizeof(pl->req_id), "%s", w->req_id);
    snprintf(pl->op, sizeof(pl->op), "%s", opn);
    put(&b, v, CX_T_SERIAL, pl->serial);
    put(&b, v, CX_T_VOUCHER_OP, code);
    /* the platform numbers a new voucher itself */
    if (w->kind != FMT_VOUCHER_ISSUE)
        put(&b, v, CX_T_VOUCHER_ID, w->voucher_id);
    if (w->amount.ccy[0] && w->amount.minor > 0)
        put_minor(&b, v, CX_T_AMOUNT, w->amount.minor);
    switch (w->kind) {
    case FMT_VOUCHER_ISSUE:
    case FMT_VOUCHER_FINANCE:
    case FMT_VOUCHER_SETTLE:
        put(&b, v, CX_T_OUR_ACCOUNT, first_account(c));
        break;
    default: break;
    }
    if (w->kind == FMT_VOUCHER_ISSUE || w->kind == FMT_VOUCHER_TRANSFER) {
        /* the receiver: by member id from the bank's parties, else the
         * member id alone (a front end that wants an account refuses) */
        const struct aset_party *cp =
            aset_party_find(c->s.parties, c->s.n_parties, w->counterparty);
        put(&b, v, CX_T_CPTY_NAME, cp ? cp->name : w->counterparty);
        if (cp) {
            put(&b, v, CX_T_CPTY_ACCOUNT, cp->account);
            put(&b, v, CX_T_CPTY_BANK, cp->bank_code);
        }
    }
    if (w->kind == FMT_VOUCHER_ISSUE)
        put_date(&b, v, CX_T_MATURITY_DATE, w->maturity_date);
    if (w->kind == FMT_VOUCHER_REFUSE)
        put(&b, v, CX_T_REASON, w->ref ? w->ref : "refused");
    return b.oom ? h2h_err_set(err, H2H_ENOMEM, "out of memory") : 0;
}

static int id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n < 72 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_.") == n;
}

int cx_scf_plan(const struct cx *c, const char *path, const char *serial,
                cx_serial_of_fn serial_of, void *data, struct cx_plan *pl,
                struct h2h_err *err)
{
    struct fmt_canon_scf_request rq;
    struct fmt_diag diag;
    char *buf = NULL;
    size_t len = 0;
    fmt_canon_scf_request_init(&rq);
    memset(pl, 0, sizeof(*pl));
    fmt_diag_init(&diag, "ScfRequest");
    pl->fam = CX_FAM_SCF;
    pl->query = CX_FN_COUNT;
    snprintf(pl->serial, sizeof(pl->serial), "%s", serial);
    int rc = fsu_read_file(path, REQUEST_MAX, &buf, &len, err);
    if (rc < 0)
        goto out;
    if (!c->p->has_scf) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "bank %s's profile has no supply-chain finance "
                         "functions",
                         c->base.bank);
        goto out;
    }
    struct fmt_src src = {.buf = buf, .len = len, .name = "ScfRequest"};
    int tsin =
        fmt_canon_scf_detect(buf, len) < 0 ? fmt_tsin_detect(buf, len) : 0;
    if (tsin == FMT_TSIN_001) {
        src.name = "tsin.001";
        rq.kind = FMT_CANON_SCF_FINANCING;
        rc = fmt_tsin001_read(&src, &rq.fincg, &diag, err);
        if (rc == 0 && fmt_scf_request_check(&rq.fincg, NULL, &diag) > 0)
            rc = h2h_err_set(err, H2H_EINVALID, "tsin.001: %s",
                             diag.n ? diag.v[0].msg : "refused");
    } else if (tsin == FMT_TSIN_003) {
        src.name = "tsin.003";
        rq.kind = FMT_CANON_SCF_CANCEL;
        rc = fmt_tsin003_read(&src, &rq.cxl, &diag, err);
    } else if (tsin) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "a tsin.002 is a bank's report, not a request");
    } else {
        rc = fmt_canon_scf_read_request(&src, &rq, &diag, err);
    }
    if (rc < 0) {
        if (rc != H2H_ENOMEM && rc != H2H_EUNSUPPORTED)
            rc = H2H_EINVALID;
        h2h_err_prefix(err, "the scf request cannot be taken");
        goto out;
    }
    pl->scf_kind = rq.kind;
    switch (rq.kind) {
    case FMT_CANON_SCF_FINANCING:
        snprintf(pl->req_id, sizeof(pl->req_id), "%s",
                 rq.fincg.request_id ? rq.fincg.request_id : "");
        rc = plan_financing(c, &rq.fincg, pl, err);
        break;
    case FMT_CANON_SCF_CANCEL: {
        struct sset b = {.c = c, .pl = pl};
        char os[40];
        const char *orig = rq.cxl.orgnl_request_id;
        snprintf(pl->req_id, sizeof(pl->req_id), "%s",
                 rq.cxl.cancel_id ? rq.cxl.cancel_id : "");
        snprintf(pl->orig_req, sizeof(pl->orig_req), "%s", orig ? orig : "");
        snprintf(pl->op, sizeof(pl->op), "cancel");
        if (!orig || serial_of(data, orig, os, sizeof(os)) != 0) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "Cxl/OrgnlReqId %s: no financing request of "
                             "that id was sent to bank %s",
                             orig ? orig : "(none)", c->base.bank);
            break;
        }
        pl->fn = CX_FN_SCF_CANCEL;
        pl->query = CX_FN_SCF_QUERY;
        put(&b, &pl->v, CX_T_SERIAL, pl->serial);
        put(&b, &pl->v, CX_T_ORIG_SERIAL, os);
        put(&b, &pl->v, CX_T_REASON, rq.cxl.reason);
        if (b.oom)
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        break;
    }
    case FMT_CANON_SCF_INQUIRY: {
        struct sset b = {.c = c, .pl = pl};
        char os[40];
        const char *orig = rq.inq.request_id;
        pl->inquiry = 1;
        snprintf(pl->req_id, sizeof(pl->req_id), "%s",
                 rq.inq.inquiry_id ? rq.inq.inquiry_id : "");
        snprintf(pl->orig_req, sizeof(pl->orig_req), "%s", orig ? orig : "");
        snprintf(pl->op, sizeof(pl->op), "inquiry");
        if (!orig || serial_of(data, orig, os, sizeof(os)) != 0) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "Inq/OrgnlReqId %s: no financing request of "
                             "that id was sent to bank %s",
                             orig ? orig : "(none)", c->base.bank);
            break;
        }
        pl->fn = CX_FN_SCF_QUERY;
        put(&b, &pl->v, CX_T_SERIAL, os);
        if (b.oom)
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        break;
    }
    case FMT_CANON_SCF_VOUCHER_OP: rc = plan_vop(c, &rq.vop, pl, err); break;
    case FMT_CANON_SCF_VOUCHER_INQ: {
        struct sset b = {.c = c, .pl = pl};
        pl->inquiry = 1;
        pl->fn = CX_FN_VOUCHER_LIST;
        snprintf(pl->req_id, sizeof(pl->req_id), "%s",
                 rq.vinq.inquiry_id ? rq.vinq.inquiry_id : "");
        snprintf(pl->op, sizeof(pl->op), "voucher_inquiry");
        put(&b, &pl->v, CX_T_HOLDER, "us");
        if (b.oom)
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        break;
    }
    default:
        rc = h2h_err_set(err, H2H_EINVALID, "the scf request is empty");
        break;
    }
    if (rc == 0 && !id_ok(pl->req_id))
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the request's id: 1 to 71 of A-Z a-z 0-9 - _ .");
out:
    fmt_canon_scf_request_release(&rq);
    fmt_diag_release(&diag);
    free(buf);
    if (rc < 0)
        cx_plan_release(pl);
    return rc;
}

/* ---- answers -> results ------------------------------------------------- */

static int dup_to(char **dst, const char *s)
{
    if (!s || !*s)
        return 0;
    return (*dst = strdup(s)) ? 0 : H2H_ENOMEM;
}

static int iso_date(const struct cx *c, const char *s, char **dst,
                    const char *what, struct h2h_err *err)
{
    char iso[11];
    if (!s || !*s)
        return 0;
    if (cx_date_to_iso(c->p, s, iso, err) != 0)
        return h2h_err_set(err, H2H_EPROTO, "%s \"%.20s\" is not a date in %s",
                           what, s, c->p->date_format);
    return dup_to(dst, iso) ? h2h_err_set(err, H2H_ENOMEM, "out of memory") : 0;
}

static int minor_of(const struct cx *c, const char *s, int64_t *m,
                    const char *what, struct h2h_err *err)
{
    *m = 0;
    if (!s || !*s)
        return 0;
    if (cx_amount_to_minor(c->p, s, m, err) != 0 || *m < 0)
        return h2h_err_set(err, H2H_EPROTO, "%s \"%.20s\" is not an amount",
                           what, s);
    return 0;
}

static int money(const struct cx *c, const char *s, struct fmt_amount *a,
                 const char *what, struct h2h_err *err)
{
    if (!s || !*s)
        return 0;
    int rc = minor_of(c, s, &a->minor, what, err);
    if (rc == 0)
        memcpy(a->ccy, "CNY", 4);
    return rc;
}

static int unknown(const char *table, const char *v, struct h2h_err *err)
{
    return h2h_err_set(err, H2H_EPROTO,
                       "bank.status.unknown: \"%.30s\" is not in %s",
                       v ? v : "", table);
}

static int render(const struct fmt_canon_scf_result *r, char **doc, size_t *len,
                  struct h2h_err *err)
{
    *doc = NULL;
    *len = 0;
    FILE *f = open_memstream(doc, len);
    if (!f)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = fmt_canon_scf_write_result(f, r, err);
    if (fclose(f) != 0 && rc == 0)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (rc < 0) {
        free(*doc);
        *doc = NULL;
    }
    return rc;
}

static int row_voucher(const struct cx *c, char *const *r,
                       struct fmt_voucher *v, struct h2h_err *err)
{
    int rc;
    const char *st =
        cx_tab_name(&c->p->t_voucher_status, r[CX_K_VOUCHER_STATUS]);
    int s = fmt_voucher_status_parse(st);
    if (s < 0)
        return unknown("voucher_status_map", r[CX_K_VOUCHER_STATUS], err);
    v->status = (enum fmt_voucher_status)s;
    if (dup_to(&v->id, r[CX_K_VOUCHER_ID]) ||
        dup_to(&v->parent_id, r[CX_K_PARENT_ID]) ||
        dup_to(&v->root_id, r[CX_K_ROOT_ID]) ||
        dup_to(&v->issuer, r[CX_K_ISSUER_NAME]) ||
        dup_to(&v->holder, r[CX_K_HOLDER_NAME]) ||
        dup_to(&v->transferor, r[CX_K_TRANSFEROR_NAME]) ||
        dup_to(&v->fin_ref, r[CX_K_LOAN_REF]))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    v->level = r[CX_K_LEVEL] ? atoi(r[CX_K_LEVEL]) : 0;
    if ((rc = money(c, r[CX_K_AMOUNT], &v->amount, "amount", err)) ||
        (rc =
             minor_of(c, r[CX_K_REMAINING], &v->remaining, "remaining", err)) ||
        (rc = minor_of(c, r[CX_K_FINANCED_AMOUNT], &v->fin_amount,
                       "financed_amount", err)) ||
        (rc = iso_date(c, r[CX_K_ISSUE_DATE], &v->issue_date, "issue_date",
                       err)) ||
        (rc = iso_date(c, r[CX_K_MATURITY_DATE], &v->maturity_date,
                       "maturity_date", err)) ||
        (rc = iso_date(c, r[CX_K_SETTLED_DATE], &v->status_date, "settled_date",
                       err)))
        return rc;
    if (v->status == FMT_VOUCHER_FINANCED && dup_to(&v->fin_bank, c->base.bank))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

static int add_vouchers(const struct cx *c, struct fmt_voucher **vv, size_t *n,
                        const struct cx_answer *a, struct h2h_err *err)
{
    if (!a->n_items)
        return 0;
    struct fmt_voucher *nv = realloc(*vv, (*n + a->n_items) * sizeof(*nv));
    if (!nv)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    *vv = nv;
    for (size_t i = 0; i < a->n_items; i++) {
        struct fmt_voucher *v = &nv[(*n)++];
        memset(v, 0, sizeof(*v));
        int rc = row_voucher(c, &a->items[i * CX_K_N], v, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* A status report of a financing from scf_financing / scf_query /
 * scf_cancel answers. */
static int status_report(const struct cx *c, const struct cx_plan *pl,
                         enum cx_fn fn, const struct cx_answer *a,
                         struct fmt_scf_status_report *s, int *final,
                         struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    int rc;
    const char *fin_req =
        pl->fn == CX_FN_SCF_CANCEL || pl->inquiry ? pl->orig_req : pl->req_id;
    if (dup_to(&s->orgnl_request_id, fin_req))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    *final = 1;
    if (fn == CX_FN_SCF_CANCEL) {
        const char *o = cx_tab_name(&p->t_results, a->top[CX_K_STATUS]);
        if (!o)
            return unknown("request_results", a->top[CX_K_STATUS], err);
        if (strcmp(o, "pending") == 0)
            *final = 0;
        s->cancel_answer = strcmp(o, "accepted") == 0   ? FMT_SCF_CXL_ACCEPTED
                           : strcmp(o, "rejected") == 0 ? FMT_SCF_CXL_REFUSED
                                                        : FMT_SCF_CXL_NONE;
        s->status = s->cancel_answer == FMT_SCF_CXL_ACCEPTED
                        ? FMT_SCF_CANCELLED
                        : FMT_SCF_UNDER_REVIEW;
        if (s->cancel_answer == FMT_SCF_CXL_REFUSED &&
            (dup_to(&s->cancel_reason.prtry, a->top[CX_K_REASON_CODE]) ||
             dup_to(&s->cancel_reason.addtl_info, a->top[CX_K_REASON])))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    } else {
        const char *st = cx_tab_name(&p->t_fin_status, a->top[CX_K_STATUS]);
        int k = fmt_scf_status_parse(st);
        if (k < 0)
            return unknown("financing_status_map", a->top[CX_K_STATUS], err);
        s->status = (enum fmt_scf_status)k;
        *final = fmt_scf_status_is_final(s->status);
        /* a cancellation recovered through its financing's state */
        if (pl->fn == CX_FN_SCF_CANCEL && s->status == FMT_SCF_CANCELLED)
            s->cancel_answer = FMT_SCF_CXL_ACCEPTED;
        if (s->status == FMT_SCF_REJECTED &&
            (dup_to(&s->reason.prtry, a->top[CX_K_REASON_CODE]) ||
             dup_to(&s->reason.addtl_info, a->top[CX_K_REASON])))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    /* the id of this report: the bank's reference and the status, so
     * that a report made again (recover) is the same file */
    char sid[160];
    snprintf(sid, sizeof(sid), "%s-%s",
             a->top[CX_K_BANK_REF] && *a->top[CX_K_BANK_REF]
                 ? a->top[CX_K_BANK_REF]
                 : pl->serial,
             fmt_scf_status_name(s->status));
    for (char *q = sid; *q; q++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-",
                    *q))
            *q = '-';
    if (dup_to(&s->status_id, sid) ||
        dup_to(&s->loan_ref, a->top[CX_K_LOAN_REF]))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    const char *fa =
        a->top[CX_K_FINANCED_AMOUNT] && *a->top[CX_K_FINANCED_AMOUNT]
            ? a->top[CX_K_FINANCED_AMOUNT]
            : a->top[CX_K_APPROVED_AMOUNT];
    if ((rc = money(c, fa, &s->financed, "financed_amount", err)) ||
        (rc = iso_date(c, a->top[CX_K_VALUE_DATE], &s->value_date, "value_date",
                       err)) ||
        (rc = iso_date(c, a->top[CX_K_MATURITY_DATE], &s->maturity_date,
                       "maturity_date", err)) ||
        (rc = iso_date(c, a->top[CX_K_FINANCED_DATE], &s->book_date,
                       "financed_date", err)))
        return rc;
    if (a->top[CX_K_RATE] && *a->top[CX_K_RATE] &&
        fmt_scf_rate_parse(a->top[CX_K_RATE], strlen(a->top[CX_K_RATE]),
                           &s->interest_rate, NULL) != 0)
        return h2h_err_set(err, H2H_EPROTO, "rate \"%.20s\" is not a rate",
                           a->top[CX_K_RATE]);
    if (a->n_items && fn == CX_FN_SCF_QUERY) {
        if (!(s->invoices = calloc(a->n_items, sizeof(*s->invoices))))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        for (size_t i = 0; i < a->n_items; i++) {
            char *const *r = &a->items[i * CX_K_N];
            struct fmt_scf_invoice_result *ir = &s->invoices[s->n_invoices++];
            fmt_scf_invoice_result_init(ir);
            const char *o = cx_tab_name(&p->t_results, r[CX_K_RESULT]);
            int it = fmt_scf_item_parse(o);
            if (it < 0)
                return unknown("request_results", r[CX_K_RESULT], err);
            ir->result = (enum fmt_scf_item)it;
            if (dup_to(&ir->number, r[CX_K_INVOICE_NO]) ||
                dup_to(&ir->reason.addtl_info, r[CX_K_REASON]))
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
            if ((rc = money(c, r[CX_K_FINANCED_AMOUNT], &ir->financed,
                            "financed_amount", err)))
                return rc;
        }
    }
    return 0;
}

int cx_scf_result(const struct cx *c, const struct cx_plan *pl, enum cx_fn fn,
                  const struct cx_answer *a, char **doc, size_t *len,
                  int *final, char **sum, struct h2h_err *err)
{
    struct fmt_canon_scf_result res;
    fmt_canon_scf_result_init(&res);
    int rc = 0;
    if (sum)
        *sum = NULL;
    const char *want = pl->inquiry ? pl->v.v[CX_T_SERIAL] : pl->serial;
    if (fn == CX_FN_SCF_QUERY && pl->fn == CX_FN_SCF_CANCEL)
        want = pl->v.v[CX_T_ORIG_SERIAL];
    if (!a->top[CX_K_SERIAL] || !want || strcmp(a->top[CX_K_SERIAL], want)) {
        rc = h2h_err_set(
            err, H2H_EPROTO, "answer about serial \"%.40s\", not %s",
            a->top[CX_K_SERIAL] ? a->top[CX_K_SERIAL] : "", want ? want : "?");
        goto out;
    }
    if (fn == CX_FN_VOUCHER_OPERATION || fn == CX_FN_VOUCHER_QUERY) {
        struct fmt_canon_scf_vop_result *vr = &res.vrslt;
        res.kind = FMT_CANON_SCF_VOP_RESULT;
        int k = fmt_voucher_op_parse(pl->op);
        vr->op = k < 0 ? FMT_VOUCHER_ISSUE : (enum fmt_voucher_op_kind)k;
        const char *o = cx_tab_name(&c->p->t_results, a->top[CX_K_STATUS]);
        int oc = fmt_canon_scf_outcome_parse(o);
        if (oc < 0) {
            rc = unknown("request_results", a->top[CX_K_STATUS], err);
            goto out;
        }
        vr->outcome = (enum fmt_canon_scf_outcome)oc;
        *final = vr->outcome != FMT_CANON_SCF_PENDING;
        const char *bc = a->top[CX_K_REASON_CODE], *bt = a->top[CX_K_REASON];
        if (dup_to(&vr->req_id, pl->req_id) ||
            dup_to(&vr->bank_code, bc && *bc ? bc : a->code) ||
            dup_to(&vr->bank_text, bt && *bt ? bt : a->message)) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        rc = add_vouchers(c, &vr->vouchers, &vr->n_vouchers, a, err);
        if (rc == 0 && sum &&
            asprintf(sum, "%s|%zu", fmt_canon_scf_outcome_name(vr->outcome),
                     vr->n_vouchers) < 0) {
            *sum = NULL;
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        }
    } else {
        res.kind = FMT_CANON_SCF_STATUS;
        rc = status_report(c, pl, fn, a, &res.sts, final, err);
        /* what a round compares: status and terms */
        if (rc == 0 && sum &&
            asprintf(sum, "%s|%lld|%lld|%s|%s|%s|%s",
                     fmt_scf_status_name(res.sts.status),
                     (long long)res.sts.financed.minor,
                     (long long)res.sts.interest_rate,
                     res.sts.value_date ? res.sts.value_date : "",
                     res.sts.maturity_date ? res.sts.maturity_date : "",
                     res.sts.loan_ref ? res.sts.loan_ref : "",
                     fmt_scf_cancel_answer_name(res.sts.cancel_answer)) < 0) {
            *sum = NULL;
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        }
    }
    if (rc == 0)
        rc = render(&res, doc, len, err);
out:
    if (rc < 0 && sum) {
        free(*sum);
        *sum = NULL;
    }
    fmt_canon_scf_result_release(&res);
    return rc;
}

int cx_scf_holdings_doc(const struct cx *c, const char *req_id,
                        struct cx_answer *const *pages, size_t n_pages,
                        char **doc, size_t *len, char **sum,
                        struct h2h_err *err)
{
    struct fmt_canon_scf_result res;
    fmt_canon_scf_result_init(&res);
    struct fmt_canon_scf_holdings *h = &res.hldgs;
    res.kind = FMT_CANON_SCF_HOLDINGS;
    int rc = 0;
    if (sum)
        *sum = NULL;
    for (size_t i = 0; i < n_pages && rc == 0; i++)
        rc = add_vouchers(c, &h->vouchers, &h->n_vouchers, pages[i], err);
    if (rc < 0)
        goto out;
    /* whose: the holder the bank lists (holder us), else our login */
    const char *party = h->n_vouchers && h->vouchers[0].holder
                            ? h->vouchers[0].holder
                            : c->s.login;
    if (dup_to(&h->req_id, req_id) || dup_to(&h->party, party)) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if (sum) {
        /* the vouchers as they are: any change makes a new document */
        size_t cap = 64 + h->n_vouchers * 96, used = 0;
        char *s = malloc(cap);
        if (!s) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        s[0] = '\0';
        for (size_t i = 0; i < h->n_vouchers; i++) {
            const struct fmt_voucher *v = &h->vouchers[i];
            used += (size_t)snprintf(
                s + used, cap - used, "%.40s:%s:%lld:%lld;", v->id ? v->id : "",
                fmt_voucher_status_name(v->status), (long long)v->amount.minor,
                (long long)v->remaining);
            if (used >= cap)
                break;
        }
        *sum = s;
    }
    rc = render(&res, doc, len, err);
out:
    if (rc < 0 && sum) {
        free(*sum);
        *sum = NULL;
    }
    fmt_canon_scf_result_release(&res);
    return rc;
}

int cx_scf_repaid_doc(const struct cx *c, const char *req_id,
                      const struct cx_answer *a, char **doc, size_t *len,
                      struct h2h_err *err)
{
    struct fmt_canon_scf_result res;
    fmt_canon_scf_result_init(&res);
    struct fmt_scf_repayment *r = &res.rpmt;
    res.kind = FMT_CANON_SCF_REPAYMENT;
    r->kind = FMT_SCF_REPAY_PAID;
    int rc;
    char nid[120];
    snprintf(nid, sizeof(nid), "%s-repaid", req_id);
    if (dup_to(&r->notice_id, nid) || dup_to(&r->request_id, req_id) ||
        dup_to(&r->loan_ref, a->top[CX_K_LOAN_REF])) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = money(c, a->top[CX_K_REPAID_PRINCIPAL], &r->principal,
                    "repaid_principal", err)) ||
        (rc = money(c, a->top[CX_K_REPAID_INTEREST], &r->interest,
                    "repaid_interest", err)) ||
        (rc = iso_date(c, a->top[CX_K_REPAID_DATE], &r->due_date, "repaid_date",
                       err)))
        goto out;
    r->amount.minor = r->principal.minor + r->interest.minor;
    memcpy(r->amount.ccy, "CNY", 4);
    if (c->s.n_accounts && dup_to(&r->debit_acct.other_id, c->s.accounts[0])) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    rc = render(&res, doc, len, err);
out:
    fmt_canon_scf_result_release(&res);
    return rc;
}
