/*
 * oj_vchr.c - credit vouchers (tests/sims/README.md, B6): <VchrOp> and
 * <VchrInq> to the bank's /v1/scf/vouchers, its vouchers back as
 * <VchrOpRslt> and <Hldgs>.
 *
 * Parties.  h2hd's voucher model names parties by the platform's member
 * id; this bank names them {name, account, bank_code}.  The bank's
 * setting scf_parties maps one to the other: a counterparty of an issue
 * or transfer must be listed there (else PERMFAIL naming it), and a
 * party in the bank's answers becomes the id of the entry with its
 * account and bank code, else its account number (the bank's own code
 * when it has none).  Our account (issuer_account, finance and settle)
 * is the actor's account when scf_parties lists the actor, else
 * bills_account.
 *
 * Docs keep the vouchers already mapped to the model's fields, so that
 * rendering needs nothing but the doc.
 *
 * Threads: thread pool, or loop thread for the round's docs (pure
 * functions over their arguments and the immutable settings).
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon_scf.h"
#include "scf.h"

static const char *js(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const struct aset_party *by_id(const struct oj_settings *s,
                                      const char *id)
{
    return aset_party_find(s->parties, s->n_parties, id);
}

/* The model's id of a bank party. */
static const char *party_id(const struct oj_settings *s, const json_t *p)
{
    const char *ac = js(p, "account"), *bc = js(p, "bank_code");
    for (size_t i = 0; ac && bc && i < s->n_parties; i++)
        if (strcmp(s->parties[i].account, ac) == 0 &&
            strcmp(s->parties[i].bank_code, bc) == 0)
            return s->parties[i].id;
    return ac ? ac : bc;
}

/* ---- requests -> plans --------------------------------------------------- */

static int plan_vop(const struct fmt_canon_scf_vop *v,
                    const struct oj_settings *s, struct oj_fplan *p,
                    struct h2h_err *err)
{
    const struct aset_party *me = by_id(s, v->actor);
    const char *acct = me ? me->account : s->bills_account;
    const char *op = fmt_voucher_op_name(v->kind);
    json_t *b = json_object();
    int rc = !b;
    const struct aset_party *cp = NULL;
    if (v->kind != FMT_VOUCHER_ISSUE && !oj_fam_id_ok(v->voucher_id)) {
        json_decref(b);
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s %s: the voucher id cannot be part of a "
                           "path (1-64 of A-Z a-z 0-9 . _ -)",
                           op, v->req_id);
    }
    if (v->kind == FMT_VOUCHER_ISSUE || v->kind == FMT_VOUCHER_TRANSFER) {
        if (!(cp = by_id(s, v->counterparty))) {
            json_decref(b);
            return h2h_err_set(err, H2H_EINVALID,
                               "voucher %s %s: counterparty %s is not in the "
                               "bank's openapi_json.scf_parties",
                               op, v->req_id,
                               v->counterparty ? v->counterparty : "-");
        }
    }
    if ((v->kind == FMT_VOUCHER_ISSUE || v->kind == FMT_VOUCHER_FINANCE ||
         v->kind == FMT_VOUCHER_SETTLE) &&
        !acct) {
        json_decref(b);
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s %s: no account of ours (the actor in "
                           "scf_parties, or bills_account)",
                           op, v->req_id);
    }
    json_t *party = cp ? json_pack("{s:s,s:s,s:s}", "name", cp->name, "account",
                                   cp->account, "bank_code", cp->bank_code)
                       : NULL;
    if (v->kind == FMT_VOUCHER_ISSUE) {
        rc |= json_object_set_new(b, "request_id", json_string(v->req_id));
        rc |= json_object_set_new(b, "amount", oj_jamount(&v->amount));
        rc |= json_object_set_new(b, "maturity_date",
                                  json_string(v->maturity_date));
        rc |= json_object_set_new(b, "issuer_account", json_string(acct));
        rc |= json_object_set_new(b, "receiver", party);
        party = NULL;
        p->path = strdup("/v1/scf/vouchers");
    } else {
        rc |= json_object_set_new(b, "op", json_string(op));
        rc |= json_object_set_new(b, "request_id", json_string(v->req_id));
        switch (v->kind) {
        case FMT_VOUCHER_REFUSE:
            /* the canonical operation carries no reason; the bank wants
             * one */
            rc |= json_object_set_new(b, "reason", json_string("拒绝签收"));
            break;
        case FMT_VOUCHER_TRANSFER:
            rc |= json_object_set_new(b, "amount", oj_jamount(&v->amount));
            rc |= json_object_set_new(b, "to", party);
            party = NULL;
            break;
        case FMT_VOUCHER_FINANCE:
        case FMT_VOUCHER_SETTLE:
            rc |= json_object_set_new(b, "account", json_string(acct));
            break;
        default: break;
        }
        if (asprintf(&p->path, "/v1/scf/vouchers/%s/operations",
                     v->voucher_id) < 0)
            p->path = NULL;
    }
    json_decref(party);
    if (rc || !p->path || !(p->body = json_dumps(b, JSON_COMPACT))) {
        json_decref(b);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    json_decref(b);
    p->body_len = strlen(p->body);
    p->post = 1;
    snprintf(p->op, sizeof(p->op), "voucher %s", op);
    if (!(p->ctx =
              json_pack("{s:s,s:s,s:s,s:s,s:s?}", "fam", "scf", "kind", "vop",
                        "req_id", v->req_id, "op", op, "actor", v->actor)))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

static int plan_vinq(const struct fmt_voucher_inquiry *q, struct oj_fplan *p,
                     struct h2h_err *err)
{
    snprintf(p->op, sizeof(p->op), "voucher inquiry");
    if (q->voucher_id && oj_fam_id_ok(q->voucher_id)) {
        if (asprintf(&p->path, "/v1/scf/vouchers/%s", q->voucher_id) < 0)
            p->path = NULL;
    } else if (q->status >= 0) {
        if (asprintf(&p->path, "/v1/scf/vouchers?holder=us&status=%s",
                     fmt_voucher_status_name(q->status)) < 0)
            p->path = NULL;
        p->items = "vouchers";
    } else {
        p->path = strdup("/v1/scf/vouchers?holder=us");
        p->items = "vouchers";
    }
    if (!p->path ||
        !(p->ctx = json_pack("{s:s,s:s,s:s,s:s?}", "fam", "scf", "kind", "vinq",
                             "req_id", q->inquiry_id, "party", q->party)))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

int oj_scf_plan_voucher(const struct fmt_canon_scf_request *rq,
                        const struct oj_settings *s, struct oj_fplan *p,
                        struct h2h_err *err)
{
    if (rq->kind == FMT_CANON_SCF_VOUCHER_OP)
        return plan_vop(&rq->vop, s, p, err);
    if (rq->kind == FMT_CANON_SCF_VOUCHER_INQ)
        return plan_vinq(&rq->vinq, p, err);
    return h2h_err_set(err, H2H_EINVALID, "the scf request has no branch");
}

/* ---- the bank's vouchers -> docs ------------------------------------------
 */

/* A voucher of the bank in the model's fields (ids mapped). */
static json_t *model_voucher(const struct oj_settings *s, const json_t *v)
{
    const json_t *fin = json_object_get(v, "financing");
    const json_t *holder = json_object_get(v, "holder");
    json_t *m = json_pack(
        "{s:s?,s:s?,s:s?,s:O?,s:s?,s:s?,s:s?,s:s?,s:O?,s:O?,s:s?,s:s?,s:s?,"
        "s:s?}",
        "id", js(v, "voucher_id"), "parent_id", js(v, "parent_id"), "root_id",
        js(v, "root_id"), "level", json_object_get(v, "level"), "issuer",
        party_id(s, json_object_get(v, "issuer")), "original_holder",
        party_id(s, json_object_get(v, "original_holder")), "transferor",
        party_id(s, json_object_get(v, "transferor")), "holder",
        party_id(s, holder), "amount", json_object_get(v, "amount"),
        "remaining", json_object_get(v, "remaining"), "issue_date",
        js(v, "issue_date"), "maturity_date", js(v, "maturity_date"), "status",
        js(v, "status"), "status_date", js(v, "status_date"));
    if (m && json_is_object(fin)) {
        /* financed by this bank: its code stands for it */
        json_object_set_new(m, "fin_bank",
                            json_string(js(holder, "bank_code")
                                            ? js(holder, "bank_code")
                                            : "bank"));
        if (js(fin, "loan_ref"))
            json_object_set_new(m, "fin_ref", json_string(js(fin, "loan_ref")));
        if (js(fin, "date"))
            json_object_set_new(m, "fin_date", json_string(js(fin, "date")));
        json_object_set(m, "fin_amount", json_object_get(fin, "amount"));
    }
    return m;
}

static json_t *vop_doc(const json_t *ctx, const char *outcome, const char *code,
                       const char *text, json_t *vouchers)
{
    json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:o}", "t", "scf_vop",
                          "req_id", js(ctx, "req_id"), "op", js(ctx, "op"),
                          "outcome", outcome, "code", code, "text", text,
                          "vouchers", vouchers ? vouchers : json_array());
    return d;
}

static json_t *one(json_t *doc, struct h2h_err *err)
{
    json_t *docs = doc ? json_array() : NULL;
    if (!docs || json_array_append_new(docs, doc) != 0) {
        json_decref(docs);
        h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return NULL;
    }
    return docs;
}

json_t *oj_scf_vop_answer(const struct oj_settings *s, const json_t *ctx,
                          long status, const json_t *answer, json_t **follow,
                          struct h2h_err *err)
{
    *follow = NULL;
    if (status != 200 && status != 201)
        return one(vop_doc(ctx, "rejected", js(answer, "error"),
                           js(answer, "message"), NULL),
                   err);
    const char *res = js(answer, "result");
    const json_t *v = json_object_get(answer, "voucher");
    const json_t *c = json_object_get(answer, "child");
    if (!res || !json_is_object(v)) {
        h2h_err_set(err, H2H_EPROTO,
                    "the bank's answer to %s has no result or voucher",
                    js(ctx, "req_id"));
        return NULL;
    }
    json_t *vs = json_array();
    json_array_append_new(vs, model_voucher(s, v));
    if (json_is_object(c))
        json_array_append_new(vs, model_voucher(s, c));
    int pend = strcmp(res, "pending") == 0;
    json_t *docs =
        one(vop_doc(ctx, pend ? "pending" : "accepted", NULL,
                    pend ? "awaiting the receiver's signature" : NULL, vs),
            err);
    if (docs && pend)
        *follow = json_pack("{s:s,s:s}", "what", "voucher", "id",
                            js(json_is_object(c) ? c : v, "voucher_id"));
    return docs;
}

json_t *oj_scf_vop_followed(const struct oj_settings *s, const json_t *rec,
                            const json_t *got)
{
    const char *st = js(got, "status");
    int ok = st && (strcmp(st, "held") == 0 || strcmp(st, "financed") == 0 ||
                    strcmp(st, "settled") == 0);
    json_t *vs = json_array();
    json_t *v = json_deep_copy(got);
    json_object_del(v, "history");
    json_array_append_new(vs, model_voucher(s, v));
    json_decref(v);
    return vop_doc(
        json_object_get(rec, "ctx"), ok ? "accepted" : "rejected", NULL,
        ok ? "signed by the receiver"
        : strcmp(st ? st : "", "refused") == 0 ? "refused by the receiver"
                                               : "withdrawn",
        vs);
}

json_t *oj_scf_hldgs_doc(const struct oj_settings *s, const char *req_id,
                         const char *party, const json_t *vouchers)
{
    json_t *vs = json_array();
    size_t i;
    const json_t *v;
    json_array_foreach(vouchers, i, v)
    {
        if (!party)
            party = party_id(s, json_object_get(v, "holder"));
        json_array_append_new(vs, model_voucher(s, v));
    }
    if (!party) {
        json_decref(vs);
        return NULL;
    }
    return json_pack("{s:s,s:s?,s:s,s:o}", "t", "scf_hldgs", "req_id", req_id,
                     "party", party, "vouchers", vs);
}

json_t *oj_scf_vinq_answer(const struct oj_settings *s, const json_t *ctx,
                           long status, const json_t *answer,
                           struct h2h_err *err)
{
    json_t *list = NULL;
    if (status != 200) {
        h2h_err_set(err, H2H_EPROTO, "the bank does not show voucher: %s",
                    js(answer, "error") ? js(answer, "error") : "?");
        return NULL;
    }
    if (json_is_array(answer)) {
        list = json_incref((json_t *)answer);
    } else {
        json_t *v = json_deep_copy(answer);
        json_object_del(v, "history");
        list = json_pack("[o]", v);
    }
    json_t *doc =
        oj_scf_hldgs_doc(s, js(ctx, "req_id"), js(ctx, "party"), list);
    json_decref(list);
    if (!doc) {
        h2h_err_set(err, H2H_EINVALID,
                    "voucher inquiry %s: no party to answer for",
                    js(ctx, "req_id"));
        return NULL;
    }
    return one(doc, err);
}

/* ---- docs -> the model -----------------------------------------------------
 */

static int voucher_of(const json_t *m, struct fmt_voucher *v)
{
    struct fmt_amount rem, fa;
    int st = fmt_voucher_status_parse(js(m, "status"));
    if (st < 0 || !js(m, "id"))
        return -1;
    v->status = (enum fmt_voucher_status)st;
    v->level = (int)json_integer_value(json_object_get(m, "level"));
    if (oj_dup_str(&v->id, js(m, "id")) ||
        oj_dup_str(&v->parent_id, js(m, "parent_id")) ||
        oj_dup_str(&v->root_id, js(m, "root_id")) ||
        oj_dup_str(&v->issuer, js(m, "issuer")) ||
        oj_dup_str(&v->original_holder, js(m, "original_holder")) ||
        oj_dup_str(&v->transferor, js(m, "transferor")) ||
        oj_dup_str(&v->holder, js(m, "holder")) ||
        oj_dup_str(&v->issue_date, js(m, "issue_date")) ||
        oj_dup_str(&v->maturity_date, js(m, "maturity_date")) ||
        oj_dup_str(&v->status_date, js(m, "status_date")) ||
        oj_dup_str(&v->fin_bank, js(m, "fin_bank")) ||
        oj_dup_str(&v->fin_ref, js(m, "fin_ref")) ||
        oj_dup_str(&v->fin_date, js(m, "fin_date")) ||
        oj_amount_of(json_object_get(m, "amount"), &v->amount) ||
        oj_amount_of(json_object_get(m, "remaining"), &rem) ||
        oj_amount_of(json_object_get(m, "fin_amount"), &fa))
        return -1;
    v->remaining = rem.minor;
    v->fin_amount = fa.minor;
    return 0;
}

static int vouchers_of(const json_t *list, struct fmt_voucher **out, size_t *n)
{
    size_t i;
    const json_t *m;
    *n = 0;
    if (!json_array_size(list))
        return 0;
    if (!(*out = calloc(json_array_size(list), sizeof(**out))))
        return -1;
    json_array_foreach(list, i, m)
    {
        (*n)++;
        if (voucher_of(m, &(*out)[i]) < 0)
            return -1;
    }
    return 0;
}

int oj_scf_vouchers_of(const json_t *doc, struct fmt_canon_scf_result *r,
                       struct h2h_err *err)
{
    const char *t = js(doc, "t");
    const json_t *list = json_object_get(doc, "vouchers");
    if (t && strcmp(t, "scf_vop") == 0) {
        struct fmt_canon_scf_vop_result *x = &r->vrslt;
        int op = fmt_voucher_op_parse(js(doc, "op"));
        int oc = fmt_canon_scf_outcome_parse(js(doc, "outcome"));
        r->kind = FMT_CANON_SCF_VOP_RESULT;
        if (op < 0 || oc < 0)
            return h2h_err_set(err, H2H_EINVALID, "voucher doc without op");
        x->op = (enum fmt_voucher_op_kind)op;
        x->outcome = (enum fmt_canon_scf_outcome)oc;
        if (oj_dup_str(&x->req_id, js(doc, "req_id")) ||
            oj_dup_str(&x->bank_code, js(doc, "code")) ||
            oj_dup_str(&x->bank_text, js(doc, "text")) ||
            vouchers_of(list, &x->vouchers, &x->n_vouchers) < 0)
            return h2h_err_set(err, H2H_EPROTO,
                               "the bank's vouchers are not usable");
        return 0;
    }
    if (t && strcmp(t, "scf_hldgs") == 0) {
        struct fmt_canon_scf_holdings *h = &r->hldgs;
        r->kind = FMT_CANON_SCF_HOLDINGS;
        if (oj_dup_str(&h->req_id, js(doc, "req_id")) ||
            oj_dup_str(&h->party, js(doc, "party")) ||
            vouchers_of(list, &h->vouchers, &h->n_vouchers) < 0)
            return h2h_err_set(err, H2H_EPROTO,
                               "the bank's vouchers are not usable");
        /* totals in CNY, the only currency of vouchers here */
        if (fmt_voucher_holdings(h->vouchers, h->n_vouchers, h->party, "CNY",
                                 &h->totals, NULL) == 0) {
            h->has_totals = 1;
            memcpy(h->ccy, "CNY", 4);
        }
        return 0;
    }
    return h2h_err_set(err, H2H_EINVALID, "unknown scf doc \"%s\"", t ? t : "");
}
