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

/* The treasury's id of the request and its operation, for the results. */
static void named(struct cx_plan *pl, const char *req_id, const char *op)
{
    snprintf(pl->req_id, sizeof(pl->req_id), "%s", req_id ? req_id : "");
    snprintf(pl->op, sizeof(pl->op), "%s", op ? op : "");
}

/* A cancellation or an inquiry names its financing by ReqId (orig, noted
 * in the plan): the serial that went to the bank, into os; H2H_EINVALID
 * at where when no financing of that id was sent. */
static int orig_serial(const struct cx *c, const char *where, const char *orig,
                       cx_serial_of_fn serial_of, void *data,
                       struct cx_plan *pl, char *os, size_t n,
                       struct h2h_err *err)
{
    snprintf(pl->orig_req, sizeof(pl->orig_req), "%s", orig ? orig : "");
    if (orig && serial_of(data, orig, os, n) == 0)
        return 0;
    return h2h_err_set(err, H2H_EINVALID,
                       "%s %s: no financing request of that id was sent to "
                       "bank %s",
                       where, orig ? orig : "(none)", c->base.bank);
}

static int plan_financing(const struct cx *c, const struct fmt_scf_request *r,
                          struct cx_plan *pl, struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    struct cx_fvals b = {.c = c, .pl = pl};
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
    cx_fv_put(&b, v, CX_T_SERIAL, pl->serial);
    cx_fv_put(&b, v, CX_T_FINANCING_KIND, kind);
    cx_fv_put(&b, v, CX_T_OUR_ACCOUNT,
              cx_fv_acct(&r->credit_acct) ? cx_fv_acct(&r->credit_acct)
                                          : cx_fv_our_account(c));
    cx_fv_minor(&b, v, CX_T_AMOUNT, r->requested.minor);
    cx_fv_put(&b, v, CX_T_CURRENCY, r->ccy);
    cx_fv_put(&b, v, CX_T_CURRENCY_CODE, ccy);
    cx_fv_date(&b, v, CX_T_VALUE_DATE, r->value_date);
    cx_fv_put(&b, v, CX_T_PRODUCT, r->product);
    cx_fv_put(&b, v, CX_T_AGREEMENT_REF, r->agreement_ref);
    cx_fv_put(&b, v, CX_T_CONTRACT_REF, r->contract_ref);
    cx_fv_put(&b, v, CX_T_MEMO, r->addtl_info);
    char n[24];
    snprintf(n, sizeof(n), "%zu", r->n_invoices);
    cx_fv_put(&b, v, CX_T_COUNT, n);
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
        cx_fv_put(&b, it, CX_T_ITEM_NO, n);
        cx_fv_put(&b, it, CX_T_INVOICE_NO, iv->number);
        cx_fv_put(&b, it, CX_T_TAX_CODE, iv->tax_invoice_code);
        cx_fv_minor(&b, it, CX_T_INVOICE_AMOUNT, iv->amount.minor);
        cx_fv_date(&b, it, CX_T_INVOICE_ISSUE_DATE, iv->issue_date);
        cx_fv_date(&b, it, CX_T_INVOICE_DUE_DATE, iv->due_date);
        cx_fv_put(&b, it, CX_T_BUYER_NAME, iv->buyer.name);
        cx_fv_put(&b, it, CX_T_SELLER_NAME,
                  iv->seller.name ? iv->seller.name : r->requestor.name);
        if (r->kind == FMT_SCF_REVERSE_FACTORING)
            cx_fv_put(&b, it, CX_T_SELLER_ACCOUNT,
                      cx_fv_acct(&iv->seller_acct));
    }
    cx_fv_minor(&b, v, CX_T_TOTAL, total);
    return cx_fv_done(&b, err);
}

static int plan_vop(const struct cx *c, const struct fmt_canon_scf_vop *w,
                    struct cx_plan *pl, struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    struct cx_fvals b = {.c = c, .pl = pl};
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
    named(pl, w->req_id, opn);
    cx_fv_put(&b, v, CX_T_SERIAL, pl->serial);
    cx_fv_put(&b, v, CX_T_VOUCHER_OP, code);
    /* the platform numbers a new voucher itself */
    if (w->kind != FMT_VOUCHER_ISSUE)
        cx_fv_put(&b, v, CX_T_VOUCHER_ID, w->voucher_id);
    if (w->amount.ccy[0] && w->amount.minor > 0)
        cx_fv_minor(&b, v, CX_T_AMOUNT, w->amount.minor);
    switch (w->kind) {
    case FMT_VOUCHER_ISSUE:
    case FMT_VOUCHER_FINANCE:
    case FMT_VOUCHER_SETTLE:
        cx_fv_put(&b, v, CX_T_OUR_ACCOUNT, cx_fv_our_account(c));
        break;
    default: break;
    }
    if (w->kind == FMT_VOUCHER_ISSUE || w->kind == FMT_VOUCHER_TRANSFER) {
        /* the receiver: by member id from the bank's parties, else the
         * member id alone (a front end that wants an account refuses) */
        const struct aset_party *cp =
            aset_party_find(c->s.parties, c->s.n_parties, w->counterparty);
        cx_fv_put(&b, v, CX_T_CPTY_NAME, cp ? cp->name : w->counterparty);
        if (cp) {
            cx_fv_put(&b, v, CX_T_CPTY_ACCOUNT, cp->account);
            cx_fv_put(&b, v, CX_T_CPTY_BANK, cp->bank_code);
        }
    }
    if (w->kind == FMT_VOUCHER_ISSUE)
        cx_fv_date(&b, v, CX_T_MATURITY_DATE, w->maturity_date);
    if (w->kind == FMT_VOUCHER_REFUSE)
        cx_fv_put(&b, v, CX_T_REASON, w->ref ? w->ref : "refused");
    return cx_fv_done(&b, err);
}

static int plan_cancel(const struct cx *c, const struct fmt_scf_cancel *x,
                       cx_serial_of_fn serial_of, void *data,
                       struct cx_plan *pl, struct h2h_err *err)
{
    struct cx_fvals b = {.c = c, .pl = pl};
    char os[40];
    named(pl, x->cancel_id, "cancel");
    int rc = orig_serial(c, "Cxl/OrgnlReqId", x->orgnl_request_id, serial_of,
                         data, pl, os, sizeof(os), err);
    if (rc < 0)
        return rc;
    pl->fn = CX_FN_SCF_CANCEL;
    pl->query = CX_FN_SCF_QUERY;
    cx_fv_put(&b, &pl->v, CX_T_SERIAL, pl->serial);
    cx_fv_put(&b, &pl->v, CX_T_ORIG_SERIAL, os);
    cx_fv_put(&b, &pl->v, CX_T_REASON, x->reason);
    return cx_fv_done(&b, err);
}

/* An inquiry about a financing: its scf_query by the financing's serial. */
static int plan_inquiry(const struct cx *c, const struct fmt_scf_inquiry *q,
                        cx_serial_of_fn serial_of, void *data,
                        struct cx_plan *pl, struct h2h_err *err)
{
    struct cx_fvals b = {.c = c, .pl = pl};
    char os[40];
    pl->inquiry = 1;
    named(pl, q->inquiry_id, "inquiry");
    int rc = orig_serial(c, "Inq/OrgnlReqId", q->request_id, serial_of, data,
                         pl, os, sizeof(os), err);
    if (rc < 0)
        return rc;
    pl->fn = CX_FN_SCF_QUERY;
    cx_fv_put(&b, &pl->v, CX_T_SERIAL, os);
    return cx_fv_done(&b, err);
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
        named(pl, rq.fincg.request_id, "financing");
        rc = plan_financing(c, &rq.fincg, pl, err);
        break;
    case FMT_CANON_SCF_CANCEL:
        rc = plan_cancel(c, &rq.cxl, serial_of, data, pl, err);
        break;
    case FMT_CANON_SCF_INQUIRY:
        rc = plan_inquiry(c, &rq.inq, serial_of, data, pl, err);
        break;
    case FMT_CANON_SCF_VOUCHER_OP: rc = plan_vop(c, &rq.vop, pl, err); break;
    case FMT_CANON_SCF_VOUCHER_INQ: {
        struct cx_fvals b = {.c = c, .pl = pl};
        named(pl, rq.vinq.inquiry_id, "voucher_inquiry");
        pl->inquiry = 1;
        pl->fn = CX_FN_VOUCHER_LIST;
        cx_fv_put(&b, &pl->v, CX_T_HOLDER, "us");
        rc = cx_fv_done(&b, err);
        break;
    }
    default:
        rc = h2h_err_set(err, H2H_EINVALID, "the scf request is empty");
        break;
    }
    if (rc == 0 && !cx_fv_id_ok(pl->req_id))
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

static int render(const struct fmt_canon_scf_result *r, char **doc, size_t *len,
                  struct h2h_err *err)
{
    FILE *f = cx_fv_doc_open(doc, len, err);
    if (!f)
        return H2H_ENOMEM;
    return cx_fv_doc_close(f, fmt_canon_scf_write_result(f, r, err), doc, err);
}

static int row_voucher(const struct cx *c, char *const *r,
                       struct fmt_voucher *v, struct h2h_err *err)
{
    int rc;
    const char *st =
        cx_tab_name(&c->p->t_voucher_status, r[CX_K_VOUCHER_STATUS]);
    int s = fmt_voucher_status_parse(st);
    if (s < 0)
        return cx_fv_unknown("voucher_status_map", r[CX_K_VOUCHER_STATUS], err);
    v->status = (enum fmt_voucher_status)s;
    if (cx_fv_dup(&v->id, r[CX_K_VOUCHER_ID]) ||
        cx_fv_dup(&v->parent_id, r[CX_K_PARENT_ID]) ||
        cx_fv_dup(&v->root_id, r[CX_K_ROOT_ID]) ||
        cx_fv_dup(&v->issuer, r[CX_K_ISSUER_NAME]) ||
        cx_fv_dup(&v->holder, r[CX_K_HOLDER_NAME]) ||
        cx_fv_dup(&v->transferor, r[CX_K_TRANSFEROR_NAME]) ||
        cx_fv_dup(&v->fin_ref, r[CX_K_LOAN_REF]))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    v->level = r[CX_K_LEVEL] ? atoi(r[CX_K_LEVEL]) : 0;
    if ((rc = cx_fv_money(c, r[CX_K_AMOUNT], &v->amount, "amount", err)) ||
        (rc = cx_fv_minor_of(c, r[CX_K_REMAINING], &v->remaining, "remaining",
                             err)) ||
        (rc = cx_fv_minor_of(c, r[CX_K_FINANCED_AMOUNT], &v->fin_amount,
                             "financed_amount", err)) ||
        (rc = cx_fv_iso_date(c, r[CX_K_ISSUE_DATE], &v->issue_date,
                             "issue_date", err)) ||
        (rc = cx_fv_iso_date(c, r[CX_K_MATURITY_DATE], &v->maturity_date,
                             "maturity_date", err)) ||
        (rc = cx_fv_iso_date(c, r[CX_K_SETTLED_DATE], &v->status_date,
                             "settled_date", err)))
        return rc;
    if (v->status == FMT_VOUCHER_FINANCED &&
        cx_fv_dup(&v->fin_bank, c->base.bank))
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
    if (cx_fv_dup(&s->orgnl_request_id, fin_req))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    *final = 1;
    if (fn == CX_FN_SCF_CANCEL) {
        const char *o = cx_tab_name(&p->t_results, a->top[CX_K_STATUS]);
        if (!o)
            return cx_fv_unknown("request_results", a->top[CX_K_STATUS], err);
        if (strcmp(o, "pending") == 0)
            *final = 0;
        s->cancel_answer = strcmp(o, "accepted") == 0   ? FMT_SCF_CXL_ACCEPTED
                           : strcmp(o, "rejected") == 0 ? FMT_SCF_CXL_REFUSED
                                                        : FMT_SCF_CXL_NONE;
        s->status = s->cancel_answer == FMT_SCF_CXL_ACCEPTED
                        ? FMT_SCF_CANCELLED
                        : FMT_SCF_UNDER_REVIEW;
        if (s->cancel_answer == FMT_SCF_CXL_REFUSED &&
            (cx_fv_dup(&s->cancel_reason.prtry, a->top[CX_K_REASON_CODE]) ||
             cx_fv_dup(&s->cancel_reason.addtl_info, a->top[CX_K_REASON])))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    } else {
        const char *st = cx_tab_name(&p->t_fin_status, a->top[CX_K_STATUS]);
        int k = fmt_scf_status_parse(st);
        if (k < 0)
            return cx_fv_unknown("financing_status_map", a->top[CX_K_STATUS],
                                 err);
        s->status = (enum fmt_scf_status)k;
        *final = fmt_scf_status_is_final(s->status);
        /* a cancellation recovered through its financing's state */
        if (pl->fn == CX_FN_SCF_CANCEL && s->status == FMT_SCF_CANCELLED)
            s->cancel_answer = FMT_SCF_CXL_ACCEPTED;
        if (s->status == FMT_SCF_REJECTED &&
            (cx_fv_dup(&s->reason.prtry, a->top[CX_K_REASON_CODE]) ||
             cx_fv_dup(&s->reason.addtl_info, a->top[CX_K_REASON])))
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
    if (cx_fv_dup(&s->status_id, sid) ||
        cx_fv_dup(&s->loan_ref, a->top[CX_K_LOAN_REF]))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    const char *fa =
        a->top[CX_K_FINANCED_AMOUNT] && *a->top[CX_K_FINANCED_AMOUNT]
            ? a->top[CX_K_FINANCED_AMOUNT]
            : a->top[CX_K_APPROVED_AMOUNT];
    if ((rc = cx_fv_money(c, fa, &s->financed, "financed_amount", err)) ||
        (rc = cx_fv_iso_date(c, a->top[CX_K_VALUE_DATE], &s->value_date,
                             "value_date", err)) ||
        (rc = cx_fv_iso_date(c, a->top[CX_K_MATURITY_DATE], &s->maturity_date,
                             "maturity_date", err)) ||
        (rc = cx_fv_iso_date(c, a->top[CX_K_FINANCED_DATE], &s->book_date,
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
                return cx_fv_unknown("request_results", r[CX_K_RESULT], err);
            ir->result = (enum fmt_scf_item)it;
            if (cx_fv_dup(&ir->number, r[CX_K_INVOICE_NO]) ||
                cx_fv_dup(&ir->reason.addtl_info, r[CX_K_REASON]))
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
            if ((rc = cx_fv_money(c, r[CX_K_FINANCED_AMOUNT], &ir->financed,
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
            rc = cx_fv_unknown("request_results", a->top[CX_K_STATUS], err);
            goto out;
        }
        vr->outcome = (enum fmt_canon_scf_outcome)oc;
        *final = vr->outcome != FMT_CANON_SCF_PENDING;
        const char *bc = a->top[CX_K_REASON_CODE], *bt = a->top[CX_K_REASON];
        if (cx_fv_dup(&vr->req_id, pl->req_id) ||
            cx_fv_dup(&vr->bank_code, bc && *bc ? bc : a->code) ||
            cx_fv_dup(&vr->bank_text, bt && *bt ? bt : a->message)) {
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
    if (cx_fv_dup(&h->req_id, req_id) || cx_fv_dup(&h->party, party)) {
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
    if (cx_fv_dup(&r->notice_id, nid) || cx_fv_dup(&r->request_id, req_id) ||
        cx_fv_dup(&r->loan_ref, a->top[CX_K_LOAN_REF])) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = cx_fv_money(c, a->top[CX_K_REPAID_PRINCIPAL], &r->principal,
                          "repaid_principal", err)) ||
        (rc = cx_fv_money(c, a->top[CX_K_REPAID_INTEREST], &r->interest,
                          "repaid_interest", err)) ||
        (rc = cx_fv_iso_date(c, a->top[CX_K_REPAID_DATE], &r->due_date,
                             "repaid_date", err)))
        goto out;
    r->amount.minor = r->principal.minor + r->interest.minor;
    memcpy(r->amount.ccy, "CNY", 4);
    if (c->s.n_accounts &&
        cx_fv_dup(&r->debit_acct.other_id, c->s.accounts[0])) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    rc = render(&res, doc, len, err);
out:
    fmt_canon_scf_result_release(&res);
    return rc;
}
