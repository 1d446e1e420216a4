/*
 * cx_bill.c - the bill pool through a direct-connect front end (PROFILE.md
 * "Bill pool and supply-chain finance"): a dropped <BillRequest> becomes
 * one bill_operation request (or, for the inquiries, list and query
 * calls), and the bank's answers become <BillResult> / <BillNotice>.
 *
 * Pure conversions, no I/O besides reading the request file: thread pool
 * or loop thread.  The profile's value tables translate h2hd's names
 * (formats/bill.h) to the bank's codes and back; a code an answer carries
 * that the table does not list makes the answer unusable
 * (bank.status.unknown), never a guess.
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "canon_bill.h"

/* ---- the plan ------------------------------------------------------------ */

void cx_plan_release(struct cx_plan *pl)
{
    for (size_t i = 0; pl->pool && i < pl->n_pool; i++)
        free(pl->pool[i]);
    free(pl->pool);
    free(pl->items);
    memset(pl, 0, sizeof(*pl));
}

int cx_plan_set(struct cx_plan *pl, struct cx_vals *v, enum cx_tok t,
                const char *s)
{
    if (pl->n_pool == pl->cap_pool) {
        size_t nc = pl->cap_pool ? pl->cap_pool * 2 : 64;
        char **np = realloc(pl->pool, nc * sizeof(*np));
        if (!np)
            return H2H_ENOMEM;
        pl->pool = np;
        pl->cap_pool = nc;
    }
    char *d = strdup(s ? s : "");
    if (!d)
        return H2H_ENOMEM;
    pl->pool[pl->n_pool++] = d;
    v->v[t] = d;
    return 0;
}

/* ---- request -> tokens ------------------------------------------------- */

static void put_amount(struct cx_fvals *b, enum cx_tok t,
                       const struct fmt_amount *a)
{
    if (a->ccy[0])
        cx_fv_minor(b, &b->pl->v, t, a->minor);
}

static void put_range(struct cx_fvals *b, int64_t fr, int64_t to)
{
    char x[24], y[24];
    if (!fr && !to)
        return;
    snprintf(x, sizeof(x), "%lld", (long long)fr);
    snprintf(y, sizeof(y), "%lld", (long long)to);
    cx_fv_put(b, &b->pl->v, CX_T_SUB_FROM, x);
    cx_fv_put(b, &b->pl->v, CX_T_SUB_TO, y);
}

/* rate_ppm (1.35 % = 13500) as percent with 2 to 4 decimals. */
static void rate_text(int64_t ppm, char *buf, size_t n)
{
    long long ip = ppm / 10000, fp = ppm % 10000;
    snprintf(buf, n, "%lld.%04lld", ip, fp);
    size_t l = strlen(buf);
    while (l > 0 && buf[l - 1] == '0' && buf[l - 3] != '.')
        buf[--l] = '\0';
}

static int amount_is_cny(const struct fmt_amount *a, const char *field,
                         struct h2h_err *err)
{
    if (a->ccy[0] && strcmp(a->ccy, "CNY") != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "%s: %s; drafts are in CNY at this bank", field,
                           a->ccy);
    return 0;
}

static int plan_operation(const struct cx *c, const struct fmt_bill_request *rq,
                          struct cx_plan *pl, struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    struct cx_fvals b = {.c = c, .pl = pl};
    struct cx_vals *v = &pl->v;
    const char *opn = fmt_bill_op_name(rq->op);
    const char *code = cx_tab_bank(&p->t_bill_ops, opn);
    if (!code)
        return h2h_err_set(err, H2H_EINVALID,
                           "operation %s: not in this bank's bill_ops",
                           opn ? opn : "?");
    pl->fn = CX_FN_BILL_OPERATION;
    pl->query = CX_FN_BILL_QUERY;
    cx_fv_put(&b, v, CX_T_SERIAL, pl->serial);
    cx_fv_put(&b, v, CX_T_BILL_OP, code);
    cx_fv_put(&b, v, CX_T_MEMO, rq->memo);
    const char *acct = cx_fv_our_account(c);
    int rc;
    if (rq->op == FMT_BILL_OP_ISSUE) {
        const struct fmt_draft *d = &rq->draft;
        if ((rc = amount_is_cny(&d->amount, "Drft/Amt", err)) != 0)
            return rc;
        cx_fv_put(&b, v, CX_T_DRAFT_KIND,
                  cx_tab_bank(&p->t_draft_kinds, fmt_draft_kind_name(d->kind)));
        put_amount(&b, CX_T_AMOUNT, &d->amount);
        cx_fv_date(&b, v, CX_T_ISSUE_DATE, d->issue_date);
        cx_fv_date(&b, v, CX_T_MATURITY_DATE, d->maturity_date);
        cx_fv_put(&b, v, CX_T_TRANSFERABLE,
                  d->not_transferable ? p->no : p->yes);
        cx_fv_put(&b, v, CX_T_DIVISIBLE, d->divisible ? p->yes : p->no);
        cx_fv_put(&b, v, CX_T_OUR_ACCOUNT,
                  cx_fv_acct(&d->drawer.acct) ? cx_fv_acct(&d->drawer.acct)
                                              : acct);
        cx_fv_put(&b, v, CX_T_ACCEPTOR_NAME, d->acceptor.party.name);
        cx_fv_put(&b, v, CX_T_ACCEPTOR_ACCOUNT, cx_fv_acct(&d->acceptor.acct));
        cx_fv_put(&b, v, CX_T_ACCEPTOR_BANK, d->acceptor.bank_code);
        cx_fv_put(&b, v, CX_T_PAYEE_NAME, d->payee.party.name);
        cx_fv_put(&b, v, CX_T_PAYEE_ACCOUNT, cx_fv_acct(&d->payee.acct));
        cx_fv_put(&b, v, CX_T_PAYEE_BANK, d->payee.bank_code);
        if (d->sub_from || d->sub_to)
            put_range(&b, d->sub_from, d->sub_to);
    } else {
        if ((rc = amount_is_cny(&rq->amount, "Amt", err)) != 0)
            return rc;
        cx_fv_put(&b, v, CX_T_DRAFT_NO, rq->draft_no);
        put_range(&b, rq->sub_from, rq->sub_to);
        put_amount(&b, CX_T_AMOUNT, &rq->amount);
        cx_fv_put(&b, v, CX_T_CPTY_NAME, rq->cpty.party.name);
        cx_fv_put(&b, v, CX_T_CPTY_ACCOUNT, cx_fv_acct(&rq->cpty.acct));
        cx_fv_put(&b, v, CX_T_CPTY_BANK, rq->cpty.bank_code);
        cx_fv_put(&b, v, CX_T_NOTICE_ID, rq->notice_id);
        cx_fv_put(&b, v, CX_T_POOL_ID, rq->pool_id);
        cx_fv_put(&b, v, CX_T_REASON, rq->reason);
        switch (rq->op) {
        case FMT_BILL_OP_DISCOUNT: {
            char r[32], today[11];
            rate_text(rq->rate_ppm, r, sizeof(r));
            cx_fv_put(&b, v, CX_T_RATE, r);
            cx_bank_today(p, 0, today);
            cx_fv_date(&b, v, CX_T_OP_DATE, rq->date ? rq->date : today);
            cx_fv_put(&b, v, CX_T_OUR_ACCOUNT,
                      cx_fv_acct(&rq->proceeds_acct)
                          ? cx_fv_acct(&rq->proceeds_acct)
                          : acct);
            break;
        }
        case FMT_BILL_OP_PRESENT_PAYMENT:
            if (rq->overdue)
                cx_fv_put(&b, v, CX_T_OVERDUE, p->yes);
            cx_fv_put(&b, v, CX_T_OUR_ACCOUNT, acct);
            break;
        case FMT_BILL_OP_RECOURSE:
            cx_fv_put(&b, v, CX_T_OUR_ACCOUNT, acct);
            break;
        case FMT_BILL_OP_SIGN: {
            /* signing a presentment for payment or a recourse claim pays
             * it: the account debited; other notices take none */
            char kind[32];
            if (rq->notice_id &&
                cx_fam_notice_kind(c, rq->notice_id, kind, sizeof(kind)) == 0 &&
                (!strcmp(kind, "present_payment") || !strcmp(kind, "recourse")))
                cx_fv_put(&b, v, CX_T_OUR_ACCOUNT, acct);
            break;
        }
        default: break;
        }
    }
    return cx_fv_done(&b, err);
}

static int plan_inquiry(const struct cx *c, const struct fmt_bill_request *rq,
                        struct cx_plan *pl, struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    struct cx_fvals b = {.c = c, .pl = pl};
    struct cx_vals *v = &pl->v;
    pl->inquiry = 1;
    pl->query = CX_FN_COUNT;
    switch (rq->op) {
    case FMT_BILL_OP_POOL_OVERVIEW: pl->fn = CX_FN_BILL_POOL; break;
    case FMT_BILL_OP_NOTICES: pl->fn = CX_FN_BILL_NOTICES; break;
    case FMT_BILL_OP_DRAFT_DETAIL:
        pl->fn = CX_FN_BILL_DRAFTS;
        snprintf(pl->draft_no, sizeof(pl->draft_no), "%s",
                 rq->draft_no ? rq->draft_no : "");
        if (!p->fn[CX_FN_BILL_HISTORY].code)
            break;
        break;
    default:
        pl->fn = CX_FN_BILL_DRAFTS;
        if (rq->f_status != FMT_DRAFT_NONE) {
            const char *code = cx_tab_bank(&p->t_draft_status,
                                           fmt_draft_status_name(rq->f_status));
            if (!code)
                return h2h_err_set(err, H2H_EINVALID,
                                   "status filter %s: not in this bank's "
                                   "draft_status_map",
                                   fmt_draft_status_name(rq->f_status));
            cx_fv_put(&b, v, CX_T_DRAFT_STATUS, code);
        }
        cx_fv_date(&b, v, CX_T_MATURITY_FROM, rq->f_maturity_from);
        cx_fv_date(&b, v, CX_T_MATURITY_TO, rq->f_maturity_to);
        break;
    }
    return cx_fv_done(&b, err);
}

int cx_bill_plan(const struct cx *c, const char *path, const char *serial,
                 struct cx_plan *pl, struct h2h_err *err)
{
    struct fmt_bill_request rq;
    struct fmt_diag diag;
    memset(&rq, 0, sizeof(rq));
    memset(pl, 0, sizeof(*pl));
    fmt_diag_init(&diag, "BillRequest");
    pl->fam = CX_FAM_BILLS;
    snprintf(pl->serial, sizeof(pl->serial), "%s", serial);
    struct fmt_src src = {.path = path, .name = "BillRequest"};
    int rc = fmt_canon_bill_read_request(&src, &rq, &diag, err);
    if (rc < 0) {
        if (rc != H2H_ENOMEM)
            rc = H2H_EINVALID;
        h2h_err_prefix(err, "the bill request cannot be taken");
        goto out;
    }
    if (!c->p->has_bills) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "bank %s's profile has no bill pool functions",
                         c->base.bank);
        goto out;
    }
    if (!cx_fv_id_ok(rq.req_id)) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "ReqId: 1 to 71 of A-Z a-z 0-9 - _ .");
        goto out;
    }
    snprintf(pl->req_id, sizeof(pl->req_id), "%s", rq.req_id);
    snprintf(pl->op, sizeof(pl->op), "%s", fmt_bill_op_name(rq.op));
    rc = fmt_bill_op_inquiry(rq.op) ? plan_inquiry(c, &rq, pl, err)
                                    : plan_operation(c, &rq, pl, err);
out:
    fmt_bill_request_release(&rq);
    fmt_diag_release(&diag);
    if (rc < 0)
        cx_plan_release(pl);
    return rc;
}

/* ---- answers -> results ------------------------------------------------- */

static int party(struct fmt_bill_party *p, const char *name, const char *acct,
                 const char *bank)
{
    if (cx_fv_dup(&p->party.name, name) || cx_fv_dup(&p->acct.other_id, acct) ||
        cx_fv_dup(&p->bank_code, bank))
        return H2H_ENOMEM;
    return 0;
}

static int64_t num(const char *s)
{
    return s && *s ? strtoll(s, NULL, 10) : 0;
}

/* The state an operation of ours that is pending in st started from. */
static enum fmt_draft_status pending_from(enum fmt_draft_status st)
{
    switch (st) {
    case FMT_DRAFT_PENDING_ACCEPTANCE: return FMT_DRAFT_REGISTERED;
    case FMT_DRAFT_PENDING_RECEIPT: return FMT_DRAFT_ACCEPTED;
    case FMT_DRAFT_PENDING_RELEASE: return FMT_DRAFT_PLEDGED;
    case FMT_DRAFT_PENDING_RECOURSE: return FMT_DRAFT_DISHONOURED;
    default: return FMT_DRAFT_HELD; /* endorse, discount, pledge, payment */
    }
}

/* One draft row of an answer. */
static int row_draft(const struct cx *c, char *const *r, struct fmt_draft *d,
                     struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    int rc;
    if (cx_fv_dup(&d->number, r[CX_K_DRAFT_NO]))
        goto oom;
    if (r[CX_K_DRAFT_KIND] && *r[CX_K_DRAFT_KIND]) {
        const char *k = cx_tab_name(&p->t_draft_kinds, r[CX_K_DRAFT_KIND]);
        if (!k || fmt_draft_kind_parse(k, &d->kind, NULL) != 0)
            return cx_fv_unknown("draft_kinds", r[CX_K_DRAFT_KIND], err);
    }
    if (r[CX_K_DRAFT_STATUS] && *r[CX_K_DRAFT_STATUS]) {
        const char *s = cx_tab_name(&p->t_draft_status, r[CX_K_DRAFT_STATUS]);
        if (!s || fmt_draft_status_parse(s, &d->status, NULL) != 0)
            return cx_fv_unknown("draft_status_map", r[CX_K_DRAFT_STATUS], err);
        if (fmt_draft_status_pending(d->status)) {
            /* rows carry no direction: a pending piece in an answer to us
             * is our operation, from the state it starts in (bill.h) */
            d->pending_dir = FMT_BILL_DIR_OUT;
            d->prev_status = pending_from(d->status);
        }
    }
    if ((rc = cx_fv_money(c, r[CX_K_AMOUNT], &d->amount, "amount", err)) ||
        (rc = cx_fv_iso_date(c, r[CX_K_ISSUE_DATE], &d->issue_date,
                             "issue_date", err)) ||
        (rc = cx_fv_iso_date(c, r[CX_K_MATURITY_DATE], &d->maturity_date,
                             "maturity_date", err)))
        return rc;
    if (party(&d->drawer, r[CX_K_DRAWER_NAME], r[CX_K_DRAWER_ACCOUNT],
              r[CX_K_DRAWER_BANK]) ||
        party(&d->acceptor, r[CX_K_ACCEPTOR_NAME], r[CX_K_ACCEPTOR_ACCOUNT],
              r[CX_K_ACCEPTOR_BANK]) ||
        party(&d->payee, r[CX_K_PAYEE_NAME], r[CX_K_PAYEE_ACCOUNT],
              r[CX_K_PAYEE_BANK]) ||
        party(&d->holder, r[CX_K_HOLDER_NAME], r[CX_K_HOLDER_ACCOUNT],
              r[CX_K_HOLDER_BANK]))
        goto oom;
    const char *tr = r[CX_K_TRANSFERABLE], *dv = r[CX_K_DIVISIBLE];
    if (tr && *tr && strcmp(tr, p->yes) && strcmp(tr, p->no))
        return cx_fv_unknown("yes_no", tr, err);
    if (dv && *dv && strcmp(dv, p->yes) && strcmp(dv, p->no))
        return cx_fv_unknown("yes_no", dv, err);
    d->not_transferable = tr && strcmp(tr, p->no) == 0;
    d->divisible = dv && strcmp(dv, p->yes) == 0;
    d->sub_from = num(r[CX_K_SUB_FROM]);
    d->sub_to = num(r[CX_K_SUB_TO]);
    return 0;
oom:
    return h2h_err_set(err, H2H_ENOMEM, "out of memory");
}

static int add_drafts(const struct cx *c, struct fmt_bill_result *res,
                      const struct cx_answer *a, const char *only,
                      struct h2h_err *err)
{
    if (!a->n_items)
        return 0;
    struct fmt_draft *nd = realloc(res->drafts, (res->n_drafts + a->n_items) *
                                                    sizeof(*res->drafts));
    if (!nd)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    res->drafts = nd;
    for (size_t i = 0; i < a->n_items; i++) {
        char *const *r = &a->items[i * CX_K_N];
        if (only && (!r[CX_K_DRAFT_NO] || strcmp(r[CX_K_DRAFT_NO], only)))
            continue;
        struct fmt_draft *d = &res->drafts[res->n_drafts];
        memset(d, 0, sizeof(*d));
        res->n_drafts++;
        int rc = row_draft(c, r, d, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int render(const struct fmt_bill_result *r, char **doc, size_t *len,
                  struct h2h_err *err)
{
    FILE *f = cx_fv_doc_open(doc, len, err);
    if (!f)
        return H2H_ENOMEM;
    return cx_fv_doc_close(f, fmt_canon_bill_write_result(f, r, err), doc, err);
}

static int set_outcome(const struct cx *c, struct fmt_bill_result *res,
                       const struct cx_answer *a, struct h2h_err *err)
{
    const char *st = a->top[CX_K_STATUS];
    const char *o = cx_tab_name(&c->p->t_results, st);
    if (!o || fmt_bill_outcome_parse(o, &res->outcome, NULL) != 0)
        return cx_fv_unknown("request_results", st, err);
    const char *rc = a->top[CX_K_REASON_CODE], *rt = a->top[CX_K_REASON];
    if (cx_fv_dup(&res->bank_code, rc && *rc ? rc : a->code) ||
        cx_fv_dup(&res->bank_text, rt && *rt ? rt : a->message))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

int cx_bill_result(const struct cx *c, const struct cx_plan *pl,
                   const struct cx_answer *a, char **doc, size_t *len,
                   int *final, struct h2h_err *err)
{
    struct fmt_bill_result res;
    memset(&res, 0, sizeof(res));
    int rc;
    if (!a->top[CX_K_SERIAL] || strcmp(a->top[CX_K_SERIAL], pl->serial)) {
        rc = h2h_err_set(
            err, H2H_EPROTO, "answer about serial \"%.40s\", not %s",
            a->top[CX_K_SERIAL] ? a->top[CX_K_SERIAL] : "", pl->serial);
        goto out;
    }
    if (!(res.req_id = strdup(pl->req_id))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    fmt_bill_op_parse(pl->op, &res.op, NULL);
    if ((rc = set_outcome(c, &res, a, err)) != 0)
        goto out;
    *final = res.outcome != FMT_BILL_PENDING;
    if ((rc = add_drafts(c, &res, a, NULL, err)) != 0)
        goto out;
    rc = render(&res, doc, len, err);
out:
    fmt_bill_result_release(&res);
    return rc;
}

int cx_bill_pool_doc(const struct cx *c, const char *req_id,
                     const struct cx_answer *a, char **doc, size_t *len,
                     char **sum, struct h2h_err *err)
{
    struct fmt_bill_result res;
    memset(&res, 0, sizeof(res));
    struct fmt_bill_pool *pp = &res.pool;
    int rc = H2H_ENOMEM;
    res.op = FMT_BILL_OP_POOL_OVERVIEW;
    res.outcome = FMT_BILL_ACCEPTED;
    res.has_pool = 1;
    if (cx_fv_dup(&res.req_id, req_id ? req_id : "h2hd-pool") ||
        cx_fv_dup(&res.bank_code, a->code) ||
        cx_fv_dup(&res.bank_text, a->message) ||
        cx_fv_dup(&pp->pool_id, a->top[CX_K_POOL_ID])) {
        h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc =
             cx_fv_iso_date(c, a->top[CX_K_AS_OF], &pp->as_of, "as_of", err)) ||
        (rc = cx_fv_money(c, a->top[CX_K_PLEDGED_TOTAL], &pp->pledged_total,
                          "pledged_total", err)) ||
        (rc = cx_fv_money(c, a->top[CX_K_DEPOSIT], &pp->deposit, "deposit",
                          err)) ||
        (rc = cx_fv_money(c, a->top[CX_K_QUOTA_TOTAL], &pp->quota_total,
                          "quota_total", err)) ||
        (rc = cx_fv_money(c, a->top[CX_K_QUOTA_USED], &pp->quota_used,
                          "quota_used", err)) ||
        (rc = cx_fv_money(c, a->top[CX_K_QUOTA_AVAILABLE], &pp->quota_available,
                          "quota_available", err)))
        goto out;
    pp->pledged_count = num(a->top[CX_K_PLEDGED_COUNT]);
    if (sum &&
        asprintf(sum, "%s|%lld|%lld|%lld|%lld|%lld|%lld",
                 pp->pool_id ? pp->pool_id : "", (long long)pp->pledged_count,
                 (long long)pp->pledged_total.minor,
                 (long long)pp->deposit.minor, (long long)pp->quota_total.minor,
                 (long long)pp->quota_used.minor,
                 (long long)pp->quota_available.minor) < 0) {
        *sum = NULL;
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    rc = render(&res, doc, len, err);
    if (rc < 0 && sum) {
        free(*sum);
        *sum = NULL;
    }
out:
    fmt_bill_result_release(&res);
    return rc;
}

static int add_history(const struct cx *c, struct fmt_bill_result *res,
                       const struct cx_answer *h, struct h2h_err *err)
{
    if (!h->n_items)
        return 0;
    if (!(res->history = calloc(h->n_items, sizeof(*res->history))))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (size_t i = 0; i < h->n_items; i++) {
        char *const *r = &h->items[i * CX_K_N];
        struct fmt_draft_event *e = &res->history[res->n_history++];
        int rc;
        const char *op = cx_tab_name(&c->p->t_bill_ops, r[CX_K_EVENT_OP]);
        if (!op || fmt_bill_op_parse(op, &e->op, NULL) != 0)
            return cx_fv_unknown("bill_ops", r[CX_K_EVENT_OP], err);
        const char *st =
            cx_tab_name(&c->p->t_draft_status, r[CX_K_DRAFT_STATUS]);
        if (!st || fmt_draft_status_parse(st, &e->status, NULL) != 0)
            return cx_fv_unknown("draft_status_map", r[CX_K_DRAFT_STATUS], err);
        if ((rc = cx_fv_iso_date(c, r[CX_K_EVENT_DATE], &e->time, "event_date",
                                 err)) ||
            (rc = cx_fv_money(c, r[CX_K_AMOUNT], &e->amount, "amount", err)))
            return rc;
        if (cx_fv_dup(&e->from.party.name, r[CX_K_FROM_NAME]) ||
            cx_fv_dup(&e->to.party.name, r[CX_K_TO_NAME]))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        e->sub_from = num(r[CX_K_SUB_FROM]);
        e->sub_to = num(r[CX_K_SUB_TO]);
    }
    return 0;
}

static int row_notice(const struct cx *c, char *const *r,
                      struct fmt_bill_notice *n, struct h2h_err *err)
{
    int rc;
    const char *k = cx_tab_name(&c->p->t_bill_ops, r[CX_K_NOTICE_KIND]);
    if (!k || fmt_bill_op_parse(k, &n->kind, NULL) != 0)
        return cx_fv_unknown("bill_ops", r[CX_K_NOTICE_KIND], err);
    if (cx_fv_dup(&n->notice_id, r[CX_K_NOTICE_ID]) ||
        party(&n->from, r[CX_K_FROM_NAME], r[CX_K_FROM_ACCOUNT],
              r[CX_K_FROM_BANK]) ||
        cx_fv_dup(&n->reason, r[CX_K_REASON]))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if ((rc = cx_fv_iso_date(c, r[CX_K_RECEIVED_DATE], &n->time,
                             "received_date", err)) ||
        (rc = cx_fv_money(c, r[CX_K_CLAIM_AMOUNT], &n->amount, "claim_amount",
                          err)))
        return rc;
    return row_draft(c, r, &n->draft, err);
}

int cx_bill_list_doc(const struct cx *c, const char *req_id, const char *op,
                     struct cx_answer *const *pages, size_t n_pages,
                     const struct cx_answer *history, const char *draft_no,
                     char **doc, size_t *len, struct h2h_err *err)
{
    struct fmt_bill_result res;
    memset(&res, 0, sizeof(res));
    int rc = 0;
    if (!(res.req_id = strdup(req_id))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    fmt_bill_op_parse(op, &res.op, NULL);
    res.outcome = FMT_BILL_ACCEPTED;
    if (n_pages && (cx_fv_dup(&res.bank_code, pages[0]->code) ||
                    cx_fv_dup(&res.bank_text, pages[0]->message))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_pages && rc == 0; i++) {
        const struct cx_answer *a = pages[i];
        if (res.op != FMT_BILL_OP_NOTICES) {
            rc = add_drafts(c, &res, a, draft_no && *draft_no ? draft_no : NULL,
                            err);
            continue;
        }
        struct fmt_bill_notice *nn =
            realloc(res.notices, (res.n_notices + a->n_items) * sizeof(*nn));
        if (!nn && a->n_items) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            break;
        }
        if (nn)
            res.notices = nn;
        for (size_t k = 0; k < a->n_items && rc == 0; k++) {
            struct fmt_bill_notice *n = &res.notices[res.n_notices++];
            memset(n, 0, sizeof(*n));
            rc = row_notice(c, &a->items[k * CX_K_N], n, err);
        }
    }
    if (rc == 0 && history)
        rc = add_history(c, &res, history, err);
    if (rc == 0)
        rc = render(&res, doc, len, err);
out:
    fmt_bill_result_release(&res);
    return rc;
}

int cx_bill_notice_doc(const struct cx *c, const struct cx_answer *a, size_t i,
                       char **doc, size_t *len, const char **id,
                       struct h2h_err *err)
{
    struct fmt_bill_notice n;
    memset(&n, 0, sizeof(n));
    char *const *r = &a->items[i * CX_K_N];
    *id = r[CX_K_NOTICE_ID];
    *doc = NULL;
    *len = 0;
    int rc = row_notice(c, r, &n, err);
    if (rc == 0) {
        /* a notice's draft is as presented: no state of ours yet */
        n.draft.status = FMT_DRAFT_NONE;
        n.draft.pending_dir = FMT_BILL_DIR_NONE;
        FILE *f = cx_fv_doc_open(doc, len, err);
        rc = f ? cx_fv_doc_close(f, fmt_canon_bill_write_notice(f, &n, err),
                                 doc, err)
               : H2H_ENOMEM;
    }
    fmt_bill_notice_release(&n);
    return rc;
}
