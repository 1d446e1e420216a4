/*
 * oj_bill.c - the bill pool (tests/sims/README.md, B0-B4) in h2hd's
 * terms: a <BillRequest> becomes one POST (operations) or a few GETs
 * (inquiries), and the bank's JSON becomes <BillResult> / <BillNotice>.
 *
 * Documents are made in two steps so that the adapter's records can make
 * them again byte for byte after a crash: the JSON the bank gave is kept
 * in a small "doc" object (oj_fam.c stores it durably), and oj_bill_render
 * turns a doc into canonical XML from that object alone.
 *
 * Threads: thread pool (pure functions over their arguments).
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "bill.h"
#include "canon_bill.h"

/* ---- JSON pieces of a request ------------------------------------------- */

/* {name, account, bank_code}; account left out when the request has
 * none (the bank then takes it as absent). */
static json_t *jparty(const struct fmt_bill_party *p)
{
    json_t *j = json_object();
    if (!j)
        return NULL;
    const char *acct = oj_acct_no(&p->acct);
    if (json_object_set_new(j, "name",
                            json_string(p->party.name ? p->party.name : "")) ||
        (acct && json_object_set_new(j, "account", json_string(acct))) ||
        json_object_set_new(j, "bank_code",
                            json_string(p->bank_code ? p->bank_code : ""))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* rate_ppm (millionths of one, 1.35 % = 13500) as the bank's percentage
 * string with up to 4 decimals. */
static void jrate(int64_t ppm, char *buf, size_t n)
{
    snprintf(buf, n, "%lld.%04lld", (long long)(ppm / 10000),
             (long long)(ppm % 10000));
    size_t l = strlen(buf);
    while (buf[l - 1] == '0')
        buf[--l] = '\0';
    if (buf[l - 1] == '.')
        buf[--l] = '\0';
}

static int set(json_t *o, const char *k, json_t *v)
{
    return v ? json_object_set_new(o, k, v) : -1;
}

/* The account a payment, recourse or payment notice moves money on. */
static const char *money_acct(const struct fmt_bill_request *rq,
                              const struct oj_settings *s)
{
    const char *a = oj_acct_no(&rq->proceeds_acct);
    return a ? a : s->bills_account;
}

static int body_ops(const struct fmt_bill_request *rq,
                    const struct oj_settings *s, json_t *b, struct h2h_err *err)
{
    enum fmt_bill_op op = rq->op;
    int rc = 0;
    if (rq->sub_from || rq->sub_to)
        rc |= set(b, "sub_range",
                  json_pack("{s:I,s:I}", "from", (json_int_t)rq->sub_from, "to",
                            (json_int_t)rq->sub_to));
    switch (op) {
    case FMT_BILL_OP_ENDORSE:
        rc |= set(b, "counterparty", jparty(&rq->cpty));
        break;
    case FMT_BILL_OP_DISCOUNT: {
        char r[40];
        jrate(rq->rate_ppm, r, sizeof(r));
        rc |= set(b, "rate", json_string(r));
        const char *a = oj_acct_no(&rq->proceeds_acct);
        if (!a)
            a = s->bills_account;
        if (!a)
            return h2h_err_set(err, H2H_EINVALID,
                               "discount: no account for the proceeds "
                               "(PrcdsAcct, or the bank's bills_account)");
        rc |= set(b, "account", json_string(a));
        if (rq->cpty.bank_code)
            rc |= set(b, "counterparty", jparty(&rq->cpty));
        if (rq->date)
            rc |= set(b, "date", json_string(rq->date));
        break;
    }
    case FMT_BILL_OP_PLEDGE:
        if (rq->pool_id)
            rc |= set(b, "pool_id", json_string(rq->pool_id));
        if (rq->cpty.bank_code)
            rc |= set(b, "counterparty", jparty(&rq->cpty));
        break;
    case FMT_BILL_OP_RELEASE:
        if (rq->pool_id)
            rc |= set(b, "pool_id", json_string(rq->pool_id));
        break;
    case FMT_BILL_OP_PRESENT_PAYMENT:
    case FMT_BILL_OP_RECOURSE: {
        const char *a = money_acct(rq, s);
        if (!a)
            return h2h_err_set(err, H2H_EINVALID,
                               "%s: no account to credit (PrcdsAcct, or the "
                               "bank's bills_account)",
                               fmt_bill_op_name(op));
        rc |= set(b, "account", json_string(a));
        if (op == FMT_BILL_OP_PRESENT_PAYMENT) {
            if (rq->overdue)
                rc |= set(b, "overdue", json_true());
            break;
        }
        rc |= set(b, "counterparty", jparty(&rq->cpty));
        rc |= set(b, "reason", json_string(rq->reason ? rq->reason : ""));
        if (rq->amount.ccy[0])
            rc |= set(b, "amount", oj_jamount(&rq->amount));
        break;
    }
    case FMT_BILL_OP_SIGN: {
        rc |= set(b, "notice_id", json_string(rq->notice_id));
        /* the bank takes an account for payment and recourse notices
         * only, and the request does not say the notice's kind: the
         * account named in PrcdsAcct goes, bills_account never */
        const char *a = oj_acct_no(&rq->proceeds_acct);
        if (a)
            rc |= set(b, "account", json_string(a));
        break;
    }
    case FMT_BILL_OP_REFUSE:
        rc |= set(b, "notice_id", json_string(rq->notice_id));
        rc |=
            set(b, "reason", json_string(rq->reason ? rq->reason : "refused"));
        break;
    default: break;
    }
    if (rq->memo)
        rc |= set(b, "memo", json_string(rq->memo));
    return rc ? h2h_err_set(err, H2H_ENOMEM, "out of memory") : 0;
}

static int body_issue(const struct fmt_bill_request *rq, json_t *b,
                      struct h2h_err *err)
{
    const struct fmt_draft *d = &rq->draft;
    const char *drawer = oj_acct_no(&d->drawer.acct);
    if (!drawer)
        return h2h_err_set(err, H2H_EINVALID,
                           "issue: the drawer has no account (Drwr/Acct)");
    int rc = set(b, "kind", json_string(fmt_draft_kind_name(d->kind)));
    rc |= set(b, "amount", oj_jamount(&d->amount));
    rc |= set(b, "maturity_date", json_string(d->maturity_date));
    rc |= set(b, "drawer_account", json_string(drawer));
    rc |= set(b, "acceptor", jparty(&d->acceptor));
    rc |= set(b, "payee", jparty(&d->payee));
    if (d->issue_date)
        rc |= set(b, "issue_date", json_string(d->issue_date));
    rc |= set(b, "transferable", json_boolean(!d->not_transferable));
    rc |= set(b, "divisible", json_boolean(d->divisible));
    if (rq->memo)
        rc |= set(b, "memo", json_string(rq->memo));
    return rc ? h2h_err_set(err, H2H_ENOMEM, "out of memory") : 0;
}

static int inquiry_path(const struct fmt_bill_request *rq, struct oj_fplan *p,
                        struct h2h_err *err)
{
    char q[300] = "", enc[100];
    size_t n = 0;
    switch (rq->op) {
    case FMT_BILL_OP_POOL_OVERVIEW: p->path = strdup("/v1/bills/pool"); break;
    case FMT_BILL_OP_DRAFT_DETAIL:
        if (oj_urlenc(rq->draft_no, enc, sizeof(enc)) != 0)
            return h2h_err_set(err, H2H_EINVALID, "draft number too long");
        if (asprintf(&p->path, "/v1/bills/drafts/%s", enc) < 0)
            p->path = NULL;
        break;
    case FMT_BILL_OP_NOTICES:
        p->path = strdup("/v1/bills/notices");
        p->items = "notices";
        break;
    default: /* drafts */
        if (rq->f_status != FMT_DRAFT_NONE)
            n += (size_t)snprintf(q + n, sizeof(q) - n, "&status=%s",
                                  fmt_draft_status_name(rq->f_status));
        if (rq->f_maturity_from &&
            oj_urlenc(rq->f_maturity_from, enc, sizeof(enc)) == 0)
            n += (size_t)snprintf(q + n, sizeof(q) - n, "&maturity_from=%s",
                                  enc);
        if (rq->f_maturity_to &&
            oj_urlenc(rq->f_maturity_to, enc, sizeof(enc)) == 0)
            n += (size_t)snprintf(q + n, sizeof(q) - n, "&maturity_to=%s", enc);
        if (asprintf(&p->path, "/v1/bills/drafts%s%s", n ? "?" : "",
                     n ? q + 1 : "") < 0)
            p->path = NULL;
        p->items = "drafts";
        break;
    }
    return p->path ? 0 : h2h_err_set(err, H2H_ENOMEM, "out of memory");
}

int oj_bill_plan(const char *payload, const struct oj_settings *s,
                 struct oj_fplan *p, struct h2h_err *err)
{
    struct fmt_bill_request rq = {0};
    struct fmt_diag diag;
    json_t *b = NULL;
    int rc;
    fmt_diag_init(&diag, "bill request");
    struct fmt_src src = {.path = payload, .name = "BillRequest"};
    p->fam = OJ_FAM_BILLS;
    rc = fmt_canon_bill_read_request(&src, &rq, &diag, err);
    if (rc < 0) {
        if (rc != H2H_ENOMEM)
            rc = H2H_EINVALID;
        h2h_err_prefix(err, "the bill request cannot be read");
        goto out;
    }
    if (!rq.req_id || !oj_fam_id_ok(rq.req_id)) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the bill request's ReqId cannot be a key and a file "
                         "name (1-64 of A-Z a-z 0-9 . _ -)");
        goto out;
    }
    snprintf(p->req_id, sizeof(p->req_id), "%s", rq.req_id);
    snprintf(p->op, sizeof(p->op), "%s", fmt_bill_op_name(rq.op));
    if (!(p->ctx = json_pack("{s:s,s:s,s:s}", "fam", "bills", "req_id",
                             rq.req_id, "op", p->op))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if (rq.draft_no)
        json_object_set_new(p->ctx, "number", json_string(rq.draft_no));
    json_object_set_new(p->ctx, "from", json_integer(rq.sub_from));
    json_object_set_new(p->ctx, "to", json_integer(rq.sub_to));
    if (fmt_bill_op_inquiry(rq.op)) {
        p->post = 0;
        rc = inquiry_path(&rq, p, err);
        goto out;
    }
    p->post = 1;
    b = json_object();
    if (!b) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if (rq.op == FMT_BILL_OP_ISSUE) {
        if (json_object_set_new(b, "request_id", json_string(rq.req_id)) ||
            (rc = body_issue(&rq, b, err)) < 0) {
            if (rc == 0)
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        p->path = strdup("/v1/bills/drafts");
    } else {
        char enc[100];
        if (!rq.draft_no || oj_urlenc(rq.draft_no, enc, sizeof(enc)) != 0) {
            rc = h2h_err_set(err, H2H_EINVALID, "no draft number");
            goto out;
        }
        if (json_object_set_new(b, "op", json_string(p->op)) ||
            json_object_set_new(b, "request_id", json_string(rq.req_id)) ||
            (rc = body_ops(&rq, s, b, err)) < 0) {
            if (rc == 0)
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        if (asprintf(&p->path, "/v1/bills/drafts/%s/operations", enc) < 0)
            p->path = NULL;
    }
    /* compact, insertion order: the same request gives the same bytes */
    if (!p->path || !(p->body = json_dumps(b, JSON_COMPACT))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    p->body_len = strlen(p->body);
    rc = 0;
out:
    json_decref(b);
    fmt_bill_request_release(&rq);
    fmt_diag_release(&diag);
    return rc;
}

/* ---- the bank's JSON -> the model ---------------------------------------- */

static const char *js(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A figure of a draft or the pool that is there must be whole
 * (oj_amount_of takes an incomplete one for none). */
static int amount_of(const json_t *a, struct fmt_amount *out)
{
    int rc = oj_amount_of(a, out);
    return rc == 0 && !out->ccy[0] && a && !json_is_null(a) ? -1 : rc;
}

static int party_of(const json_t *j, struct fmt_bill_party *p)
{
    if (!json_is_object(j))
        return 0;
    return oj_dup_str(&p->party.name, js(j, "name")) ||
           oj_dup_str(&p->acct.other_id, js(j, "account")) ||
           oj_dup_str(&p->bank_code, js(j, "bank_code"));
}

/* Where a refusal or a withdrawal of our pending operation returns. */
static enum fmt_draft_status prev_of(enum fmt_bill_op op)
{
    switch (op) {
    case FMT_BILL_OP_PRESENT_ACCEPTANCE: return FMT_DRAFT_REGISTERED;
    case FMT_BILL_OP_PRESENT_RECEIPT: return FMT_DRAFT_ACCEPTED;
    case FMT_BILL_OP_RELEASE: return FMT_DRAFT_PLEDGED;
    case FMT_BILL_OP_RECOURSE: return FMT_DRAFT_DISHONOURED;
    default: return FMT_DRAFT_HELD;
    }
}

static int draft_of(const json_t *j, struct fmt_draft *d, struct h2h_err *err)
{
    const json_t *sr = json_object_get(j, "sub_range");
    const json_t *pend = json_object_get(j, "pending");
    int bad = oj_dup_str(&d->number, js(j, "number")) ||
              oj_dup_str(&d->issue_date, js(j, "issue_date")) ||
              oj_dup_str(&d->maturity_date, js(j, "maturity_date")) ||
              party_of(json_object_get(j, "drawer"), &d->drawer) ||
              party_of(json_object_get(j, "acceptor"), &d->acceptor) ||
              party_of(json_object_get(j, "payee"), &d->payee) ||
              party_of(json_object_get(j, "holder"), &d->holder);
    if (bad)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (!d->number || amount_of(json_object_get(j, "amount"), &d->amount) ||
        (js(j, "kind") &&
         fmt_draft_kind_parse(js(j, "kind"), &d->kind, NULL)) ||
        !js(j, "status") ||
        fmt_draft_status_parse(js(j, "status"), &d->status, NULL))
        return h2h_err_set(err, H2H_EPROTO,
                           "the bank's draft %s is not usable (number, "
                           "amount, kind or status)",
                           d->number ? d->number : "?");
    d->sub_from = json_integer_value(json_object_get(sr, "from"));
    d->sub_to = json_integer_value(json_object_get(sr, "to"));
    d->not_transferable = json_is_false(json_object_get(j, "transferable"));
    d->divisible = json_is_true(json_object_get(j, "divisible"));
    if (fmt_draft_status_pending(d->status) && json_is_object(pend)) {
        enum fmt_bill_op op = FMT_BILL_OP_NONE;
        const char *dir = js(pend, "direction");
        fmt_bill_op_parse(js(pend, "op") ? js(pend, "op") : "", &op, NULL);
        if (dir && strcmp(dir, "in") == 0) {
            d->pending_dir = FMT_BILL_DIR_IN;
        } else {
            d->pending_dir = FMT_BILL_DIR_OUT;
            d->prev_status = prev_of(op);
        }
    }
    return 0;
}

static int event_of(const json_t *j, struct fmt_draft_event *e)
{
    const json_t *sr = json_object_get(j, "sub_range");
    if (oj_dup_str(&e->time, js(j, "time")) ||
        party_of(json_object_get(j, "from"), &e->from) ||
        party_of(json_object_get(j, "to"), &e->to))
        return -1;
    fmt_bill_op_parse(js(j, "op") ? js(j, "op") : "", &e->op, NULL);
    fmt_draft_status_parse(js(j, "status") ? js(j, "status") : "", &e->status,
                           NULL);
    e->sub_from = json_integer_value(json_object_get(sr, "from"));
    e->sub_to = json_integer_value(json_object_get(sr, "to"));
    amount_of(json_object_get(j, "amount"), &e->amount);
    return 0;
}

static int notice_of(const json_t *j, struct fmt_bill_notice *n,
                     struct h2h_err *err)
{
    int rc;
    if (oj_dup_str(&n->notice_id, js(j, "notice_id")) ||
        oj_dup_str(&n->time, js(j, "received_at")) ||
        oj_dup_str(&n->reason, js(j, "reason")) ||
        party_of(json_object_get(j, "from"), &n->from))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (!n->notice_id || !js(j, "kind") ||
        fmt_bill_op_parse(js(j, "kind"), &n->kind, NULL))
        return h2h_err_set(err, H2H_EPROTO,
                           "the bank's notice %s is not usable",
                           n->notice_id ? n->notice_id : "?");
    amount_of(json_object_get(j, "claim_amount"), &n->amount);
    if ((rc = draft_of(json_object_get(j, "draft"), &n->draft, err)) < 0)
        return rc;
    /* as presented: the status fields belong to our book, not the notice */
    n->draft.status = FMT_DRAFT_NONE;
    n->draft.prev_status = FMT_DRAFT_NONE;
    n->draft.pending_dir = FMT_BILL_DIR_NONE;
    return 0;
}

static int pool_of(const json_t *j, struct fmt_bill_pool *p)
{
    p->pledged_count = json_integer_value(json_object_get(j, "pledged_count"));
    if (oj_dup_str(&p->pool_id, js(j, "pool_id")) ||
        oj_dup_str(&p->as_of, js(j, "as_of")))
        return -1;
    if (amount_of(json_object_get(j, "pledged_total"), &p->pledged_total) ||
        amount_of(json_object_get(j, "deposit"), &p->deposit) ||
        amount_of(json_object_get(j, "quota_total"), &p->quota_total) ||
        amount_of(json_object_get(j, "quota_used"), &p->quota_used) ||
        amount_of(json_object_get(j, "quota_available"), &p->quota_available))
        return -1;
    return 0;
}

/* ---- docs ------------------------------------------------------------------
 */

json_t *oj_bill_doc(const json_t *ctx, const char *outcome, const char *code,
                    const char *text, json_t *drafts)
{
    json_t *d =
        json_pack("{s:s,s:s,s:s,s:s}", "t", "bill", "req_id", js(ctx, "req_id"),
                  "op", js(ctx, "op"), "outcome", outcome);
    if (!d) {
        json_decref(drafts);
        return NULL;
    }
    if (code)
        json_object_set_new(d, "code", json_string(code));
    if (text)
        json_object_set_new(d, "text", json_string(text));
    json_object_set_new(d, "drafts", drafts ? drafts : json_array());
    return d;
}

/* The piece JSON as the doc keeps it: without what changes with every
 * look (updated_at, history), so that an unchanged piece gives the same
 * document. */
json_t *oj_bill_piece(const json_t *piece)
{
    json_t *c = json_deep_copy(piece);
    if (c) {
        json_object_del(c, "updated_at");
        json_object_del(c, "history");
    }
    return c;
}

static int render_result(const json_t *doc, struct fmt_bill_result *r,
                         struct h2h_err *err)
{
    const json_t *v;
    size_t i;
    if (oj_dup_str(&r->req_id, js(doc, "req_id")) ||
        oj_dup_str(&r->bank_code, js(doc, "code")) ||
        oj_dup_str(&r->bank_text, js(doc, "text")))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (fmt_bill_op_parse(js(doc, "op") ? js(doc, "op") : "", &r->op, err) ||
        fmt_bill_outcome_parse(js(doc, "outcome") ? js(doc, "outcome") : "",
                               &r->outcome, err))
        return H2H_EINVALID;
    const json_t *ds = json_object_get(doc, "drafts");
    if (json_array_size(ds)) {
        if (!(r->drafts = calloc(json_array_size(ds), sizeof(*r->drafts))))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        json_array_foreach(ds, i, v)
        {
            r->n_drafts++;
            int rc = draft_of(v, &r->drafts[i], err);
            if (rc < 0)
                return rc;
        }
    }
    const json_t *hs = json_object_get(doc, "history");
    if (json_array_size(hs)) {
        if (!(r->history = calloc(json_array_size(hs), sizeof(*r->history))))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        json_array_foreach(hs, i, v)
        {
            r->n_history++;
            if (event_of(v, &r->history[i]) < 0)
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        }
    }
    const json_t *ns = json_object_get(doc, "notices");
    if (json_array_size(ns)) {
        if (!(r->notices = calloc(json_array_size(ns), sizeof(*r->notices))))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        json_array_foreach(ns, i, v)
        {
            r->n_notices++;
            int rc = notice_of(v, &r->notices[i], err);
            if (rc < 0)
                return rc;
        }
    }
    const json_t *pool = json_object_get(doc, "pool");
    if (json_is_object(pool)) {
        r->has_pool = 1;
        if (pool_of(pool, &r->pool) < 0)
            return h2h_err_set(err, H2H_EPROTO,
                               "the bank's pool figures are not usable");
    }
    return 0;
}

static int memwrite(int (*w)(FILE *, const void *, struct h2h_err *),
                    const void *x, char **buf, size_t *len, struct h2h_err *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = open_memstream(buf, len);
    if (!f)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = w(f, x, err);
    if (fclose(f) != 0 && rc == 0)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

static int w_result(FILE *f, const void *x, struct h2h_err *err)
{
    return fmt_canon_bill_write_result(f, x, err);
}

static int w_notice(FILE *f, const void *x, struct h2h_err *err)
{
    return fmt_canon_bill_write_notice(f, x, err);
}

int oj_bill_render(const json_t *doc, char **buf, size_t *len,
                   struct h2h_err *err)
{
    const char *t = js(doc, "t");
    int rc;
    if (t && strcmp(t, "bill_notice") == 0) {
        struct fmt_bill_notice n = {0};
        rc = notice_of(json_object_get(doc, "notice"), &n, err);
        if (rc == 0)
            rc = memwrite(w_notice, &n, buf, len, err);
        fmt_bill_notice_release(&n);
        return rc;
    }
    struct fmt_bill_result r = {0};
    rc = render_result(doc, &r, err);
    if (rc == 0)
        rc = memwrite(w_result, &r, buf, len, err);
    fmt_bill_result_release(&r);
    return rc;
}

/* ---- answers -> docs ------------------------------------------------------
 */

static json_t *pieces(const json_t *list)
{
    json_t *a = json_array();
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_object(v))
            json_array_append_new(a, oj_bill_piece(v));
    }
    return a;
}

json_t *oj_bill_answer(const json_t *ctx, long status, const json_t *answer,
                       json_t **follow, struct h2h_err *err);
json_t *oj_bill_answer(const json_t *ctx, long status, const json_t *answer,
                       json_t **follow, struct h2h_err *err)
{
    enum fmt_bill_op op = FMT_BILL_OP_NONE;
    json_t *doc = NULL;
    fmt_bill_op_parse(js(ctx, "op") ? js(ctx, "op") : "", &op, NULL);
    *follow = NULL;
    if (status != 200 && status != 201) {
        /* a refusal the bank recorded (422), or an inquiry about a draft
         * it does not know (404 BIL001) */
        doc = oj_bill_doc(ctx, "rejected", js(answer, "error"),
                          js(answer, "message"), NULL);
    } else if (op == FMT_BILL_OP_POOL_OVERVIEW) {
        doc = oj_bill_doc(ctx, "accepted", NULL, NULL, NULL);
        if (doc)
            json_object_set(doc, "pool", (json_t *)answer);
    } else if (op == FMT_BILL_OP_DRAFTS) {
        doc = oj_bill_doc(ctx, "accepted", NULL, NULL, pieces(answer));
    } else if (op == FMT_BILL_OP_NOTICES) {
        doc = oj_bill_doc(ctx, "accepted", NULL, NULL, NULL);
        if (doc)
            json_object_set(doc, "notices", (json_t *)answer);
    } else if (op == FMT_BILL_OP_DRAFT_DETAIL) {
        const json_t *ps = json_object_get(answer, "pieces"), *v, *hist = NULL;
        json_int_t from = json_integer_value(json_object_get(ctx, "from"));
        size_t i;
        doc = oj_bill_doc(ctx, "accepted", NULL, NULL, pieces(ps));
        /* the history of the piece asked about (the first without one) */
        json_array_foreach(ps, i, v)
        {
            json_int_t f = json_integer_value(
                json_object_get(json_object_get(v, "sub_range"), "from"));
            if (!hist || (from && f == from))
                hist = json_object_get(v, "history");
        }
        if (doc && hist)
            json_object_set(doc, "history", (json_t *)hist);
    } else {
        const char *res = js(answer, "result");
        const json_t *d = json_object_get(answer, "draft");
        const json_t *rest = json_object_get(answer, "remainder");
        if (!res || (strcmp(res, "accepted") && strcmp(res, "pending")) ||
            !json_is_object(d)) {
            h2h_err_set(err, H2H_EPROTO,
                        "the bank's answer to %s has no result or draft",
                        js(ctx, "req_id"));
            return NULL;
        }
        json_t *ds = json_array();
        json_array_append_new(ds, oj_bill_piece(d));
        if (json_is_object(rest))
            json_array_append_new(ds, oj_bill_piece(rest));
        int pend = strcmp(res, "pending") == 0;
        doc = oj_bill_doc(ctx, res, NULL,
                          pend ? "awaiting the counterparty's signature" : NULL,
                          ds);
        if (pend)
            *follow = json_pack("{s:s,s:s,s:I}", "what", "draft", "number",
                                js(d, "number"), "from",
                                json_integer_value(json_object_get(
                                    json_object_get(d, "sub_range"), "from")));
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
