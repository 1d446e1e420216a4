/*
 * oj_scf.c - supply-chain finance (tests/sims/README.md, B5-B7) in
 * h2hd's terms: a <ScfRequest> (or a tsin.001 / tsin.003 treasury
 * dropped) becomes one POST or a GET, and the bank's JSON becomes
 * <ScfResult> documents.  Results stay canonical <ScfResult> also for a
 * tsin.001 request: the daemon links both the same way, and the
 * canonical form carries what tsin.002 has no element for (loan
 * reference, interest rate).
 *
 * Like oj_bill.c, documents are rendered from "docs" (the bank's JSON,
 * kept durably by oj_fam.c) alone.
 *
 * Threads: thread pool (pure functions over their arguments).
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon_scf.h"
#include "fsutil.h"
#include "scf.h"
#include "tsin.h"

static const char *js(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int set(json_t *o, const char *k, json_t *v)
{
    return v ? json_object_set_new(o, k, v) : -1;
}

static int set_opt(json_t *o, const char *k, const char *v)
{
    return v && *v ? set(o, k, json_string(v)) : 0;
}

static json_t *jpty(const struct fmt_party *p, const struct fmt_party *dflt)
{
    if (!p->name && dflt)
        p = dflt;
    json_t *j = json_pack("{s:s}", "name", p->name ? p->name : "");
    if (j && p->org_id)
        json_object_set_new(j, "id", json_string(p->org_id));
    return j;
}

/* ---- requests -> plans --------------------------------------------------- */

static int plan_fincg(const struct fmt_scf_request *r, struct oj_fplan *p,
                      struct h2h_err *err)
{
    const char *acct = oj_acct_no(&r->credit_acct);
    if (!acct)
        acct = oj_acct_no(&r->financing_acct);
    if (!acct)
        return h2h_err_set(err, H2H_EINVALID,
                           "financing %s names no account of ours (CdtAcct)",
                           r->request_id);
    int rev = r->kind == FMT_SCF_REVERSE_FACTORING;
    json_t *b = json_object(), *inv = json_array();
    int rc = !b || !inv;
    rc |= set(b, "request_id", json_string(r->request_id));
    rc |= set(b, "kind", json_string(fmt_scf_kind_name(r->kind)));
    rc |= set(b, "requested_amount", oj_jamount(&r->requested));
    rc |= set(b, "account", json_string(acct));
    rc |= set_opt(b, "value_date", r->value_date);
    rc |= set_opt(b, "product", r->product);
    rc |= set_opt(b, "agreement_ref", r->agreement_ref);
    rc |= set_opt(b, "contract_ref", r->contract_ref);
    rc |= set_opt(b, "memo", r->addtl_info);
    for (size_t i = 0; !rc && i < r->n_invoices; i++) {
        const struct fmt_scf_invoice *v = &r->invoices[i];
        json_t *j = json_object();
        rc |= !j;
        rc |= set(j, "number", json_string(v->number));
        rc |= set(j, "issue_date", json_string(v->issue_date));
        rc |= set(j, "due_date", json_string(v->due_date));
        rc |= set(j, "amount", oj_jamount(&v->amount));
        rc |= set(j, "buyer", jpty(&v->buyer, NULL));
        rc |= set(j, "seller", jpty(&v->seller, &r->requestor));
        if (rev) {
            const char *sa = oj_acct_no(&v->seller_acct);
            if (!sa) {
                json_decref(j);
                json_decref(b);
                json_decref(inv);
                return h2h_err_set(err, H2H_EINVALID,
                                   "reverse factoring %s: invoice %s names "
                                   "no supplier account",
                                   r->request_id, v->number);
            }
            rc |= set(j, "seller_account", json_string(sa));
        }
        rc |= set_opt(j, "tax_invoice_code", v->tax_invoice_code);
        rc |= json_array_append_new(inv, j);
    }
    rc |= set(b, "invoices", inv);
    if (!rc && !(p->body = json_dumps(b, JSON_COMPACT)))
        rc = 1;
    json_decref(b);
    if (rc)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    p->body_len = strlen(p->body);
    p->post = 1;
    snprintf(p->op, sizeof(p->op), "financing");
    if (!(p->path = strdup("/v1/scf/financing")) ||
        !(p->ctx =
              json_pack("{s:s,s:s,s:s,s:s}", "fam", "scf", "kind", "financing",
                        "req_id", r->request_id, "orig", r->request_id)))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

static int plan_cancel(const struct fmt_scf_cancel *c, struct oj_fplan *p,
                       struct h2h_err *err)
{
    if (!oj_fam_id_ok(c->orgnl_request_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "the cancellation names no usable request id");
    json_t *b = json_pack("{s:s,s:s}", "request_id", c->cancel_id, "reason",
                          c->reason ? c->reason : "");
    if (!b || set_opt(b, "reason_code", c->reason_code) ||
        !(p->body = json_dumps(b, JSON_COMPACT))) {
        json_decref(b);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    json_decref(b);
    p->body_len = strlen(p->body);
    p->post = 1;
    snprintf(p->op, sizeof(p->op), "cancel");
    if (asprintf(&p->path, "/v1/scf/financing/%s/cancel", c->orgnl_request_id) <
        0)
        p->path = NULL;
    if (!p->path || !(p->ctx = json_pack(
                          "{s:s,s:s,s:s,s:s}", "fam", "scf", "kind", "cancel",
                          "req_id", c->cancel_id, "orig", c->orgnl_request_id)))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

static int plan_inquiry(const struct fmt_scf_inquiry *q, struct oj_fplan *p,
                        struct h2h_err *err)
{
    if (!oj_fam_id_ok(q->request_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "the inquiry names no usable request id");
    snprintf(p->op, sizeof(p->op), "inquiry");
    if (asprintf(&p->path, "/v1/scf/financing/%s", q->request_id) < 0)
        p->path = NULL;
    if (!p->path || !(p->ctx = json_pack("{s:s,s:s,s:s,s:s}", "fam", "scf",
                                         "kind", "inquiry", "req_id",
                                         q->inquiry_id, "orig", q->request_id)))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

int oj_scf_plan(const char *payload, const struct oj_settings *s,
                struct oj_fplan *p, struct h2h_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    struct fmt_diag diag;
    struct fmt_canon_scf_request rq;
    struct fmt_scf_request fr = {0};
    struct fmt_scf_cancel cx;
    const char *id = NULL;
    int rc;
    (void)s;
    fmt_diag_init(&diag, "scf request");
    fmt_canon_scf_request_init(&rq);
    fmt_scf_cancel_init(&cx);
    p->fam = OJ_FAM_SCF;
    if ((rc = fsu_read_file(payload, 4u << 20, &buf, &len, err)) < 0)
        goto out;
    struct fmt_src src = {.buf = buf, .len = len, .name = "ScfRequest"};
    int tsin = fmt_tsin_detect(buf, len);
    if (tsin == FMT_TSIN_001) {
        rc = fmt_tsin001_read(&src, &fr, &diag, err);
        id = fr.request_id;
    } else if (tsin == FMT_TSIN_003) {
        rc = fmt_tsin003_read(&src, &cx, &diag, err);
        id = cx.cancel_id;
    } else {
        rc = fmt_canon_scf_read_request(&src, &rq, &diag, err);
        id = rq.kind == FMT_CANON_SCF_FINANCING    ? rq.fincg.request_id
             : rq.kind == FMT_CANON_SCF_CANCEL     ? rq.cxl.cancel_id
             : rq.kind == FMT_CANON_SCF_INQUIRY    ? rq.inq.inquiry_id
             : rq.kind == FMT_CANON_SCF_VOUCHER_OP ? rq.vop.req_id
                                                   : rq.vinq.inquiry_id;
    }
    if (rc < 0) {
        if (rc != H2H_ENOMEM)
            rc = H2H_EINVALID;
        h2h_err_prefix(err, "the scf request cannot be read");
        goto out;
    }
    if (!oj_fam_id_ok(id)) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the scf request's id cannot be a key and a file "
                         "name (1-64 of A-Z a-z 0-9 . _ -)");
        goto out;
    }
    snprintf(p->req_id, sizeof(p->req_id), "%s", id);
    if (tsin == FMT_TSIN_001)
        rc = plan_fincg(&fr, p, err);
    else if (tsin == FMT_TSIN_003)
        rc = plan_cancel(&cx, p, err);
    else if (rq.kind == FMT_CANON_SCF_FINANCING)
        rc = plan_fincg(&rq.fincg, p, err);
    else if (rq.kind == FMT_CANON_SCF_CANCEL)
        rc = plan_cancel(&rq.cxl, p, err);
    else if (rq.kind == FMT_CANON_SCF_INQUIRY)
        rc = plan_inquiry(&rq.inq, p, err);
    else
        rc = oj_scf_plan_voucher(&rq, s, p, err);
out:
    free(buf);
    fmt_scf_request_release(&fr);
    fmt_scf_cancel_release(&cx);
    fmt_canon_scf_request_release(&rq);
    fmt_diag_release(&diag);
    return rc;
}

/* ---- docs ------------------------------------------------------------------
 */

json_t *oj_scf_sts_doc(const json_t *view, const char *cxl, const char *code,
                       const char *text)
{
    json_t *d = json_pack("{s:s,s:O}", "t", "scf_sts", "view", view);
    if (d && cxl)
        json_object_set_new(d, "cxl",
                            json_pack("{s:s,s:s?,s:s?}", "answer", cxl, "code",
                                      code, "text", text));
    return d;
}

char *oj_scf_view_key(const json_t *view)
{
    json_t *k = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}", "status",
                          json_object_get(view, "status"), "approved",
                          json_object_get(view, "approved"), "rejection",
                          json_object_get(view, "rejection"), "financed",
                          json_object_get(view, "financed"), "repayment",
                          json_object_get(view, "repayment"), "loan_ref",
                          json_object_get(view, "loan_ref"), "cancellation",
                          json_object_get(view, "cancellation"));
    char *s = k ? json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(k);
    return s;
}

json_t *oj_scf_answer(const struct oj_settings *s, const json_t *ctx,
                      long status, const json_t *answer, json_t **follow,
                      struct h2h_err *err);
json_t *oj_scf_answer(const struct oj_settings *s, const json_t *ctx,
                      long status, const json_t *answer, json_t **follow,
                      struct h2h_err *err)
{
    const char *kind = js(ctx, "kind");
    json_t *doc = NULL;
    *follow = NULL;
    if (kind && strcmp(kind, "vop") == 0)
        return oj_scf_vop_answer(s, ctx, status, answer, follow, err);
    if (kind && strcmp(kind, "vinq") == 0)
        return oj_scf_vinq_answer(s, ctx, status, answer, err);
    if (kind && strcmp(kind, "cancel") == 0) {
        /* answer: {"refusal": the 422 body or null, "view": the financing
         * as it is, or null} (see oj_fam.c), or the 201 body */
        if (status == 201 || status == 200)
            doc = oj_scf_sts_doc(json_object_get(answer, "financing"),
                                 "accepted", NULL, NULL);
        else if (json_is_object(json_object_get(answer, "view")))
            doc = oj_scf_sts_doc(
                json_object_get(answer, "view"), "refused",
                js(json_object_get(answer, "refusal"), "error"),
                js(json_object_get(answer, "refusal"), "message"));
        else {
            h2h_err_set(err, H2H_EPROTO,
                        "the bank refused cancellation %s (%s) of a "
                        "financing it does not show",
                        js(ctx, "req_id"),
                        js(json_object_get(answer, "refusal"), "error")
                            ? js(json_object_get(answer, "refusal"), "error")
                            : "?");
            return NULL;
        }
    } else if (status == 200 || status == 201) {
        const json_t *view = strcmp(kind ? kind : "", "inquiry") == 0
                                 ? answer
                                 : json_object_get(answer, "financing");
        if (!json_is_object(view) || !js(view, "status")) {
            h2h_err_set(err, H2H_EPROTO,
                        "the bank's answer to %s has no financing",
                        js(ctx, "req_id"));
            return NULL;
        }
        doc = oj_scf_sts_doc(view, NULL, NULL, NULL);
        int st = fmt_scf_status_parse(js(view, "status"));
        if (strcmp(kind ? kind : "", "financing") == 0 && st >= 0 &&
            !fmt_scf_status_is_final(st)) {
            char *key = oj_scf_view_key(view);
            *follow = json_pack("{s:s,s:s,s:s?}", "what", "financing", "id",
                                js(ctx, "orig"), "key", key);
            free(key);
        }
    } else if (strcmp(kind ? kind : "", "financing") == 0) {
        /* refused (422 SCFnnn): a report of a rejected request */
        doc = json_pack("{s:s,s:s,s:s?,s:s?}", "t", "scf_sts", "req_id",
                        js(ctx, "orig"), "code", js(answer, "error"), "text",
                        js(answer, "message"));
    } else {
        h2h_err_set(err, H2H_EPROTO, "the bank does not know request %s: %s",
                    js(ctx, "orig"),
                    js(answer, "error") ? js(answer, "error") : "?");
        return NULL;
    }
    json_t *docs = doc ? json_array() : NULL;
    if (!docs || json_array_append_new(docs, doc) != 0) {
        json_decref(docs);
        json_decref(*follow);
        *follow = NULL;
        h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return NULL;
    }
    return docs;
}

/* ---- docs -> XML -------------------------------------------------------- */

static int64_t rate_of(const char *s)
{
    int64_t r = -1;
    if (!s || fmt_scf_rate_parse(s, strlen(s), &r, NULL) != 0)
        return -1;
    return r;
}

static int sts_of(const json_t *doc, struct fmt_scf_status_report *r,
                  struct h2h_err *err)
{
    const json_t *v = json_object_get(doc, "view");
    if (!json_is_object(v)) {
        /* a request refused outright */
        r->status = FMT_SCF_REJECTED;
        if (oj_dup_str(&r->orgnl_request_id, js(doc, "req_id")) ||
            oj_dup_str(&r->reason.prtry, js(doc, "code")) ||
            oj_dup_str(&r->reason.addtl_info, js(doc, "text")))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return 0;
    }
    int st = fmt_scf_status_parse(js(v, "status"));
    if (st < 0 || !js(v, "request_id"))
        return h2h_err_set(err, H2H_EPROTO,
                           "the bank's financing view has no usable status");
    r->status = (enum fmt_scf_status)st;
    const json_t *ap = json_object_get(v, "approved");
    const json_t *fi = json_object_get(v, "financed");
    const json_t *rj = json_object_get(v, "rejection");
    int bad = oj_dup_str(&r->orgnl_request_id, js(v, "request_id")) ||
              oj_dup_str(&r->cre_dt_tm, js(v, "updated_at")) ||
              oj_dup_str(&r->orgnl_cre_dt_tm, js(v, "created_at")) ||
              oj_dup_str(&r->loan_ref, js(v, "loan_ref")) ||
              oj_dup_str(&r->credit_acct.other_id, js(v, "account")) ||
              oj_dup_str(&r->reason.prtry, js(rj, "code")) ||
              oj_dup_str(&r->reason.addtl_info, js(rj, "reason"));
    if (json_is_object(fi)) {
        bad = bad ||
              oj_amount_of(json_object_get(fi, "amount"), &r->financed) ||
              oj_dup_str(&r->value_date, js(fi, "value_date")) ||
              oj_dup_str(&r->book_date, js(fi, "value_date"));
    } else if (json_is_object(ap)) {
        bad = bad ||
              oj_amount_of(json_object_get(ap, "amount"), &r->financed) ||
              oj_dup_str(&r->value_date, js(ap, "value_date"));
    }
    if (json_is_object(ap)) {
        bad = bad || oj_dup_str(&r->maturity_date, js(ap, "maturity_date"));
        r->interest_rate = rate_of(js(ap, "rate"));
    }
    const json_t *cx = json_object_get(doc, "cxl");
    if (json_is_object(cx)) {
        r->cancel_answer =
            strcmp(js(cx, "answer") ? js(cx, "answer") : "", "accepted") == 0
                ? FMT_SCF_CXL_ACCEPTED
                : FMT_SCF_CXL_REFUSED;
        bad = bad || oj_dup_str(&r->cancel_reason.prtry, js(cx, "code")) ||
              oj_dup_str(&r->cancel_reason.addtl_info, js(cx, "text"));
    }
    const json_t *inv = json_object_get(v, "invoices");
    if (!bad && json_array_size(inv)) {
        size_t i, na = 0;
        const json_t *x;
        struct fmt_amount acc = {0};
        if (!(r->invoices = calloc(json_array_size(inv), sizeof(*r->invoices))))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        json_array_foreach(inv, i, x)
        {
            struct fmt_scf_invoice_result *ir = &r->invoices[i];
            fmt_scf_invoice_result_init(ir);
            r->n_invoices++;
            int res = fmt_scf_item_parse(js(x, "result"));
            ir->result =
                res < 0 ? FMT_SCF_ITEM_PENDING : (enum fmt_scf_item)res;
            const json_t *rs = json_object_get(x, "reason");
            bad = bad || oj_dup_str(&ir->number, js(x, "number")) ||
                  oj_dup_str(&ir->issue_date, js(x, "issue_date")) ||
                  oj_dup_str(&ir->due_date, js(x, "due_date")) ||
                  oj_amount_of(json_object_get(x, "amount"),
                               &ir->invoice_amount) ||
                  oj_amount_of(json_object_get(x, "financed_amount"),
                               &ir->financed) ||
                  oj_dup_str(&ir->reason.prtry, js(rs, "code")) ||
                  oj_dup_str(&ir->reason.addtl_info, js(rs, "message"));
            if (ir->result == FMT_SCF_ITEM_ACCEPTED &&
                ir->invoice_amount.ccy[0]) {
                acc.minor += ir->invoice_amount.minor;
                memcpy(acc.ccy, ir->invoice_amount.ccy, 4);
                na++;
            }
        }
        if (na && r->status != FMT_SCF_REJECTED) {
            r->accepted_total = acc;
            r->n_financed_items = (int64_t)na;
        }
    }
    return bad ? h2h_err_set(err, H2H_EPROTO,
                             "the bank's financing view is not usable")
               : 0;
}

static int rpmt_of(const json_t *n, struct fmt_scf_repayment *r,
                   struct h2h_err *err)
{
    const char *k = js(n, "kind");
    int kind = fmt_scf_repay_kind_parse(k);
    if (kind < 0 || !js(n, "notice_id"))
        return h2h_err_set(err, H2H_EPROTO,
                           "the bank's repayment notice is not usable");
    r->kind = (enum fmt_scf_repay_kind)kind;
    if (oj_dup_str(&r->notice_id, js(n, "notice_id")) ||
        oj_dup_str(&r->request_id, js(n, "request_id")) ||
        oj_dup_str(&r->loan_ref, js(n, "loan_ref")) ||
        oj_dup_str(&r->due_date, js(n, "due_date")) ||
        oj_dup_str(&r->debit_acct.other_id, js(n, "account")) ||
        oj_amount_of(json_object_get(n, "amount"), &r->amount) ||
        oj_amount_of(json_object_get(n, "principal"), &r->principal) ||
        oj_amount_of(json_object_get(n, "interest"), &r->interest))
        return h2h_err_set(err, H2H_EPROTO,
                           "the bank's repayment notice is not usable");
    return 0;
}

int oj_scf_render(const json_t *doc, char **buf, size_t *len,
                  struct h2h_err *err)
{
    struct fmt_canon_scf_result r;
    const char *t = js(doc, "t");
    int rc;
    fmt_canon_scf_result_init(&r);
    if (t && strcmp(t, "scf_sts") == 0) {
        r.kind = FMT_CANON_SCF_STATUS;
        rc = sts_of(doc, &r.sts, err);
    } else if (t && strcmp(t, "scf_rpmt") == 0) {
        r.kind = FMT_CANON_SCF_REPAYMENT;
        rc = rpmt_of(json_object_get(doc, "notice"), &r.rpmt, err);
    } else {
        rc = oj_scf_vouchers_of(doc, &r, err);
    }
    if (rc == 0) {
        *buf = NULL;
        *len = 0;
        FILE *f = open_memstream(buf, len);
        if (!f) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        } else {
            rc = fmt_canon_scf_write_result(f, &r, err);
            if (fclose(f) != 0 && rc == 0)
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            if (rc < 0) {
                free(*buf);
                *buf = NULL;
            }
        }
    }
    fmt_canon_scf_result_release(&r);
    return rc;
}
