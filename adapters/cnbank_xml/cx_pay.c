/*
 * cx_pay.c - a canonical payment message as direct-connect requests.
 *
 * A message whose only payment group has category purpose SALA is a
 * payroll batch (代发): one `payroll` request, one item per transaction,
 * under the serial <prefix><msg_id>.  Any other message is one `payment`
 * request per transaction, serial <prefix><msg_id>-<i>.  A SALA group
 * among others is refused: the bank's payroll is one debit for one
 * batch, and splitting a file silently would change what treasury asked.
 *
 * Every request is built (and signed) before the first is sent, so a
 * value the bank cannot take fails the whole message with nothing sent.
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon.h"

#define CX_TX_MAX 9999 /* serial index: 4 digits (see cx_config.c) */

struct reader {
    const struct cx *c;
    struct cx_batch *b;
    size_t cap;
    int groups, sala_groups;
    const char *grp_dbtr_acct; /* first group's, compared with others */
    int problems;
    struct h2h_err first;
    int fatal;
};

static char *dup0(const char *s)
{
    return strdup(s ? s : "");
}

static const char *acct_of(const struct fmt_account *a)
{
    return a->other_id ? a->other_id : a->iban;
}

static int digits(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n >= min && n <= max && strspn(s, "0123456789") == n;
}

static void problem(struct reader *r, size_t i, const struct fmt_pay_tx *t,
                    const char *fmt, const char *a)
{
    char msg[400];
    snprintf(msg, sizeof(msg), fmt, a);
    if (r->problems++ == 0)
        h2h_err_set(&r->first, H2H_EINVALID,
                    "transaction %zu (EndToEndId %.35s): %s", i + 1,
                    t && t->end_to_end_id ? t->end_to_end_id : "-", msg);
}

static int rd_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct reader *r = ctx;
    struct cx_batch *b = r->b;
    if (!b->orgnl_msg_id && h->msg_id && !(b->orgnl_msg_id = strdup(h->msg_id)))
        return r->fatal = H2H_ENOMEM;
    if (!b->orgnl_nm_id &&
        !(b->orgnl_nm_id = strdup(
              h->source_format && strncmp(h->source_format, "pain.001", 8) == 0
                  ? h->source_format
                  : "pain.001")))
        return r->fatal = H2H_ENOMEM;
    return 0;
}

static int rd_group(void *ctx, const struct fmt_pay_group *g)
{
    struct reader *r = ctx;
    r->groups++;
    if (g->ctgy_purp && strcmp(g->ctgy_purp, "SALA") == 0)
        r->sala_groups++;
    return 0;
}

static int rd_tx(void *ctx, const struct fmt_pay_group *g,
                 const struct fmt_pay_tx *t)
{
    struct reader *r = ctx;
    struct cx_batch *b = r->b;
    const struct cx_profile *p = r->c->p;
    if (b->n_txs >= CX_TX_MAX)
        return r->fatal = H2H_ETOOBIG;
    if (b->n_txs == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct cx_tx *v = realloc(b->txs, cap * sizeof(*v));
        if (!v)
            return r->fatal = H2H_ENOMEM;
        b->txs = v;
        r->cap = cap;
    }
    size_t i = b->n_txs++;
    struct cx_tx *x = &b->txs[i];
    memset(x, 0, sizeof(*x));
    const char *da = acct_of(&g->dbtr_acct), *ca = acct_of(&t->cdtr_acct);
    const char *rm = t->rmt_ustrd ? t->rmt_ustrd : t->rmt_strd.cdtr_ref;
    if ((t->end_to_end_id && !(x->e2e = strdup(t->end_to_end_id))) ||
        (t->instr_id && !(x->instr_id = strdup(t->instr_id))) ||
        (g->pmt_inf_id && !(x->pmt_inf_id = strdup(g->pmt_inf_id))) ||
        !(x->creditor_account = dup0(ca)) ||
        !(x->creditor_name = dup0(t->cdtr.name)) ||
        !(x->creditor_bank = dup0(t->cdtr_agt.name)) ||
        !(x->remittance = dup0(rm)))
        return r->fatal = H2H_ENOMEM;
    /* remittance lines are one text at the bank */
    for (char *q = x->remittance; *q; q++)
        if (*q == '\n' || *q == '\r' || *q == '\t')
            *q = ' ';
    snprintf(x->item_no, sizeof(x->item_no), "%zu", i + 1);
    fmt_amount_format(t->amt.minor, t->amt.ccy, '.', x->amount,
                      sizeof(x->amount));
    snprintf(x->ccy, sizeof(x->ccy), "%s", t->amt.ccy);
    if (!digits(da, 10, 30))
        problem(r, i, t,
                "debtor account%s must be 10 to 30 digits at this bank",
                da ? "" : " (missing)");
    else if (!b->debtor_account) {
        if (!(b->debtor_account = strdup(da)) ||
            !(b->debtor_name = dup0(g->dbtr.name)))
            return r->fatal = H2H_ENOMEM;
    }
    if (!digits(ca, 10, 30))
        problem(r, i, t, "creditor account%s must be 10 to 30 digits",
                ca ? "" : " (missing)");
    if (fmt_ccy_exponent(t->amt.ccy) != 2)
        problem(r, i, t,
                "currency %s: the bank's amounts have exactly two decimals",
                t->amt.ccy);
    else if (!cx_ccy_bank(p, t->amt.ccy))
        problem(r, i, t, "currency %s is not one this bank's profile lists",
                t->amt.ccy);
    if (t->amt.minor <= 0)
        problem(r, i, t, "amount %s must be above zero", x->amount);
    cx_amount_format(p, t->amt.minor, x->amount_bank, sizeof(x->amount_bank));
    if (!b->ccy[0])
        snprintf(b->ccy, sizeof(b->ccy), "%s", t->amt.ccy);
    return 0;
}

int cx_batch_read(const struct cx *c, const char *path, const char *msg_id,
                  struct cx_batch *b, struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    struct reader r = {.c = c, .b = b};
    struct fmt_diag diag;
    memset(b, 0, sizeof(*b));
    fmt_diag_init(&diag, path);
    diag.max = 5;
    struct fmt_src src = {.path = path};
    struct fmt_pay_sink sink = {
        .begin = rd_begin, .group_begin = rd_group, .tx = rd_tx, .ctx = &r};
    int rc = fmt_canon_read_pay(&src, &sink, &diag, err);
    if (rc < 0) {
        if (r.fatal == H2H_ENOMEM)
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        else if (r.fatal == H2H_ETOOBIG)
            rc = h2h_err_set(err, H2H_ETOOBIG,
                             "more than %d transactions in one message",
                             CX_TX_MAX);
        else
            h2h_err_prefix(err, "canonical payment");
        goto out;
    }
    if (diag.n) {
        char *all = fmt_diag_join(&diag);
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the canonical payment has %zu problem(s): %.600s",
                         diag.n + diag.dropped, all ? all : "");
        free(all);
        goto out;
    }
    if (b->n_txs == 0 || !b->orgnl_msg_id) {
        rc = h2h_err_set(err, H2H_EINVALID, "the canonical payment has no %s",
                         b->n_txs ? "MsgId" : "transactions");
        goto out;
    }
    b->payroll = r.sala_groups > 0;
    if (r.sala_groups && r.groups > 1) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "a payroll group (category purpose SALA) must be the "
                         "only payment group of its file: the bank books a "
                         "payroll batch as one debit");
        goto out;
    }
    if (b->payroll && b->n_txs > (size_t)p->limits.batch_items)
        problem(&r, b->n_txs - 1, NULL,
                "the payroll batch has more items than the bank takes "
                "(limits.batch_items %s)",
                "");
    for (size_t i = 0; b->payroll && i < b->n_txs; i++)
        if (strcmp(b->txs[i].ccy, b->ccy) != 0)
            problem(&r, i, NULL, "payroll items must share one currency%s", "");
    if (r.problems) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "%d problem(s) the bank would refuse, nothing sent; "
                         "first: %s",
                         r.problems, r.first.msg);
        goto out;
    }
    const char *code = cx_ccy_bank(p, b->ccy);
    snprintf(b->ccy_code, sizeof(b->ccy_code), "%s", code ? code : "");
    b->n_units = b->payroll ? 1 : b->n_txs;
    if (!(b->units = calloc(b->n_units, sizeof(*b->units)))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    int64_t total = 0;
    for (size_t i = 0; i < b->n_txs; i++) {
        int64_t m = 0;
        struct h2h_err e = {0};
        if (cx_amount_to_minor(p, b->txs[i].amount_bank, &m, &e) == 0)
            total += m;
    }
    snprintf(b->count, sizeof(b->count), "%zu", b->n_txs);
    cx_amount_format(p, total, b->total, sizeof(b->total));
    for (size_t k = 0; k < b->n_units; k++) {
        struct cx_unit *u = &b->units[k];
        int n = b->payroll ? snprintf(u->serial, sizeof(u->serial), "%s%s",
                                      c->s.serial_prefix, msg_id)
                           : snprintf(u->serial, sizeof(u->serial), "%s%s-%zu",
                                      c->s.serial_prefix, msg_id, k + 1);
        if (n < 0 || n > p->limits.serial || (size_t)n >= sizeof(u->serial) ||
            strspn(u->serial, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                              "tuvwxyz0123456789-") != (size_t)n) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "serial \"%s\" does not fit the bank's rules (at "
                             "most %d of [A-Za-z0-9-])",
                             u->serial, p->limits.serial);
            goto out;
        }
        u->first = b->payroll ? 0 : k;
        u->n = b->payroll ? b->n_txs : 1;
    }
out:
    fmt_diag_release(&diag);
    return rc;
}

void cx_unit_vals(const struct cx *c, const struct cx_batch *b,
                  struct cx_unit *u, struct cx_vals *v)
{
    memset(v, 0, sizeof(*v));
    v->v[CX_T_SERIAL] = u->serial;
    v->v[CX_T_DEBTOR_ACCOUNT] = b->debtor_account;
    v->v[CX_T_DEBTOR_NAME] = b->debtor_name;
    v->v[CX_T_CURRENCY] = b->ccy;
    v->v[CX_T_CURRENCY_CODE] = b->ccy_code;
    if (b->payroll) {
        v->v[CX_T_COUNT] = b->count;
        v->v[CX_T_TOTAL] = b->total;
        return;
    }
    const struct cx_tx *x = &b->txs[u->first];
    v->v[CX_T_CREDITOR_ACCOUNT] = x->creditor_account;
    v->v[CX_T_CREDITOR_NAME] = x->creditor_name;
    v->v[CX_T_CREDITOR_BANK] = x->creditor_bank;
    v->v[CX_T_AMOUNT] = x->amount_bank;
    v->v[CX_T_REMITTANCE] = x->remittance;
    (void)c;
}

static void item_vals(const struct cx_tx *x, struct cx_vals *v)
{
    memset(v, 0, sizeof(*v));
    v->v[CX_T_ITEM_NO] = x->item_no;
    v->v[CX_T_CREDITOR_ACCOUNT] = x->creditor_account;
    v->v[CX_T_CREDITOR_NAME] = x->creditor_name;
    v->v[CX_T_CREDITOR_BANK] = x->creditor_bank;
    v->v[CX_T_AMOUNT] = x->amount_bank;
    v->v[CX_T_REMITTANCE] = x->remittance;
}

int cx_batch_build(const struct cx *c, struct cx_batch *b, const char *id_base,
                   struct h2h_err *err)
{
    const struct cx_profile *p = c->p;
    enum cx_fn fn = b->payroll ? CX_FN_PAYROLL : CX_FN_PAYMENT;
    struct cx_vals *items = NULL;
    int rc = 0;
    if (b->payroll) {
        if (!(items = calloc(b->n_txs, sizeof(*items))))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        for (size_t i = 0; i < b->n_txs; i++)
            item_vals(&b->txs[i], &items[i]);
    }
    for (size_t k = 0; k < b->n_units; k++) {
        struct cx_unit *u = &b->units[k];
        cx_request_release(&u->rq);
        cx_unit_vals(c, b, u, &u->vals);
        snprintf(u->common.request_id, sizeof(u->common.request_id), "%s-%zu",
                 id_base, k + 1);
        cx_bank_now(p, u->common.date, sizeof(u->common.date), u->common.time,
                    sizeof(u->common.time));
        u->vals.v[CX_T_FUNCTION] = p->fn[fn].code;
        u->vals.v[CX_T_LOGIN] = c->s.login;
        u->vals.v[CX_T_USER] = c->s.user;
        u->vals.v[CX_T_REQUEST_ID] = u->common.request_id;
        u->vals.v[CX_T_DATE] = u->common.date;
        u->vals.v[CX_T_TIME] = u->common.time;
        rc = cx_request_build(p, fn, &u->vals, items, b->payroll ? b->n_txs : 0,
                              c->sign_id, &u->rq, err);
        if (rc < 0) {
            const struct cx_tx *x = &b->txs[u->first];
            if (b->payroll)
                h2h_err_prefix(err, "payroll batch %s, nothing sent",
                               u->serial);
            else
                h2h_err_prefix(err,
                               "transaction %zu (EndToEndId %.35s), nothing "
                               "sent",
                               k + 1, x->e2e ? x->e2e : "-");
            break;
        }
    }
    free(items);
    return rc;
}

void cx_batch_release(struct cx_batch *b)
{
    for (size_t i = 0; i < b->n_txs; i++) {
        struct cx_tx *x = &b->txs[i];
        free(x->e2e);
        free(x->instr_id);
        free(x->pmt_inf_id);
        free(x->creditor_account);
        free(x->creditor_name);
        free(x->creditor_bank);
        free(x->remittance);
        free(x->reason);
    }
    for (size_t k = 0; k < b->n_units; k++) {
        cx_request_release(&b->units[k].rq);
        free(b->units[k].bank_status);
        free(b->units[k].error);
    }
    free(b->txs);
    free(b->units);
    free(b->orgnl_msg_id);
    free(b->orgnl_nm_id);
    free(b->debtor_account);
    free(b->debtor_name);
    memset(b, 0, sizeof(*b));
}

static int jset(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, v && *v ? json_string(v) : json_null());
}

json_t *cx_record_new(const struct cx *c, const char *msg_id,
                      const struct cx_batch *b)
{
    json_t *r = json_object(), *txs = json_array();
    int bad = !r || !txs;
    (void)c;
    bad = bad || jset(r, "msg_id", msg_id) ||
          jset(r, "orgnl_msg_id", b->orgnl_msg_id) ||
          jset(r, "orgnl_nm_id", b->orgnl_nm_id) ||
          json_object_set_new(r, "seq", json_integer(0)) ||
          json_object_set_new(r, "written", json_integer(0)) ||
          jset(r, "cre_dt_tm", NULL) ||
          jset(r, "mode", b->payroll ? "payroll" : "payment") ||
          jset(r, "serial", b->payroll ? b->units[0].serial : NULL) ||
          json_object_set(r, "txs", txs);
    for (size_t i = 0; !bad && i < b->n_txs; i++) {
        const struct cx_tx *x = &b->txs[i];
        const struct cx_unit *u = b->payroll ? &b->units[0] : &b->units[i];
        int created = u->st == TX_CREATED;
        char key[48];
        if (b->payroll)
            snprintf(key, sizeof(key), "%s-%s", u->serial, x->item_no);
        else
            snprintf(key, sizeof(key), "%s", u->serial);
        /* a batch rejected as a whole rejects its items; else an item is
         * pending until payroll_result says otherwise */
        const char *sts = !created                         ? "RJCT"
                          : !b->payroll                    ? u->status
                          : strcmp(u->status, "RJCT") == 0 ? "RJCT"
                          : x->status[0]                   ? x->status
                                                           : "PDNG";
        json_t *t = json_object();
        if (!t || jset(t, "key", key) || jset(t, "serial", u->serial) ||
            jset(t, "item_no", b->payroll ? x->item_no : NULL) ||
            jset(t, "e2e", x->e2e) || jset(t, "instr_id", x->instr_id) ||
            jset(t, "pmt_inf_id", x->pmt_inf_id) ||
            jset(t, "amount", x->amount) || jset(t, "ccy", x->ccy) ||
            jset(t, "payment_id", created ? u->bank_ref : NULL) ||
            jset(t, "status", sts[0] ? sts : "PDNG") ||
            jset(t, "bank_status", created ? u->bank_status : NULL) ||
            jset(t, "reason", strcmp(sts, "RJCT") == 0 ? "NARR" : NULL) ||
            jset(t, "error",
                 !created                   ? u->error
                 : b->payroll && x->reason  ? x->reason
                 : strcmp(sts, "RJCT") == 0 ? u->error
                                            : NULL)) {
            json_decref(t);
            bad = 1;
        } else {
            bad = json_array_append_new(txs, t) != 0;
        }
    }
    json_decref(txs);
    if (bad) {
        json_decref(r);
        return NULL;
    }
    return r;
}
