/*
 * billbook.c - see billbook.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "billbook.h"
#include "canon_bill.h"
#include "fsutil.h"
#include "ident.h"
#include "log.h"
#include "tz.h"

/* ---- a piece's row and its document ---------------------------------- */

/* The draft as the canonical XML the row keeps: a <BillResult> of
 * draft_detail holding this one piece.  *out is malloc'd. */
static int draft_doc(const struct fmt_draft *d, char **out, struct h2h_err *err)
{
    struct fmt_bill_result r = {.req_id = "book",
                                .op = FMT_BILL_OP_DRAFT_DETAIL,
                                .outcome = FMT_BILL_ACCEPTED,
                                .drafts = (struct fmt_draft *)d,
                                .n_drafts = 1};
    size_t len = 0;
    *out = NULL;
    FILE *f = open_memstream(out, &len);
    if (!f)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = fmt_canon_bill_write_result(f, &r, err);
    if (fclose(f) != 0 && rc == 0)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* The piece a row keeps, into d (released by the caller). */
static int draft_of_row(const struct store_draft *row, struct fmt_draft *d,
                        struct h2h_err *err)
{
    struct fmt_bill_result r = {0};
    struct fmt_src src = {.buf = row->doc,
                          .len = row->doc ? strlen(row->doc) : 0,
                          .name = row->number};
    memset(d, 0, sizeof(*d));
    if (!row->doc)
        return h2h_err_set(err, H2H_ENOTFOUND, "draft %s: no document kept",
                           row->number);
    int rc = fmt_canon_bill_read_result(&src, &r, NULL, err);
    if (rc == 0 && r.n_drafts != 1)
        rc = h2h_err_set(err, H2H_EINVALID, "draft %s: bad document kept",
                         row->number);
    if (rc == 0)
        rc = fmt_draft_copy(d, &r.drafts[0]);
    fmt_bill_result_release(&r);
    return rc;
}

static int overlaps(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    /* 0/0 is the whole draft */
    if ((a0 == 0 && a1 == 0) || (b0 == 0 && b1 == 0))
        return 1;
    return a0 <= b1 && b0 <= a1;
}

struct pieces {
    struct store_draft *v;
    size_t n;
    int oom;
};

static int piece_cb(void *ctx, const struct store_draft *row)
{
    struct pieces *p = ctx;
    struct store_draft *v = realloc(p->v, (p->n + 1) * sizeof(*v));
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

static void pieces_release(struct pieces *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].doc);
    free(p->v);
    memset(p, 0, sizeof(*p));
}

static int pieces_of(struct store *s, const char *bank, const char *number,
                     struct pieces *p, struct h2h_err *err)
{
    struct store_draft_filter f = {.bank = bank, .number = number};
    memset(p, 0, sizeof(*p));
    int rc = store_draft_list(s, &f, piece_cb, p, err);
    if (rc == 0 && p->oom)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return rc;
}

/* What the bank left out of a piece, taken from the book's piece it lies
 * in (a result needs only the number and the state).  The amount is the
 * known one only for the same range; a part of a divisible draft is worth
 * its sub-tickets. */
static int merge_known(struct fmt_draft *d, const struct fmt_draft *known)
{
    struct fmt_draft k = {0};
    if (fmt_draft_copy(&k, known) != 0)
        return H2H_ENOMEM;
#define TAKE(f)                                                                \
    do {                                                                       \
        if (!d->f) {                                                           \
            d->f = k.f;                                                        \
            k.f = NULL;                                                        \
        }                                                                      \
    } while (0)
    TAKE(issue_date);
    TAKE(maturity_date);
#undef TAKE
    if (d->kind == FMT_DRAFT_KIND_NONE)
        d->kind = k.kind;
    if (!d->amount.ccy[0]) {
        if (d->sub_from == k.sub_from && d->sub_to == k.sub_to)
            d->amount = k.amount;
        else if (d->sub_from > 0 && d->sub_to >= d->sub_from) {
            memcpy(d->amount.ccy, k.amount.ccy, sizeof(d->amount.ccy));
            d->amount.minor = d->sub_to - d->sub_from + 1;
        }
    }
    struct {
        struct fmt_bill_party *have, *from;
    } parties[] = {{&d->drawer, &k.drawer},
                   {&d->acceptor, &k.acceptor},
                   {&d->payee, &k.payee},
                   {&d->holder, &k.holder}};
    for (size_t i = 0; i < sizeof(parties) / sizeof(parties[0]); i++)
        if (!parties[i].have->party.name) {
            struct fmt_bill_party t = *parties[i].have;
            *parties[i].have = *parties[i].from;
            *parties[i].from = t;
        }
    if (!d->not_transferable)
        d->not_transferable = k.not_transferable;
    if (!d->divisible)
        d->divisible = k.divisible;
    /* a pending piece the bank described without where it came from: from
     * a settled state we started it; from a pending one it keeps its */
    if (fmt_draft_status_pending(d->status) &&
        d->pending_dir == FMT_BILL_DIR_NONE) {
        if (fmt_draft_status_pending(k.status)) {
            d->prev_status = k.prev_status;
            d->pending_dir = k.pending_dir;
        } else {
            d->prev_status = k.status;
            d->pending_dir = FMT_BILL_DIR_OUT;
        }
    }
    fmt_draft_release(&k);
    return 0;
}

static int row_of(const char *bank, const struct fmt_draft *d,
                  struct store_draft *row, struct h2h_err *err)
{
    int rc = draft_doc(d, &row->doc, err);
    if (rc < 0)
        return rc;
    snprintf(row->bank, sizeof(row->bank), "%s", bank);
    snprintf(row->number, sizeof(row->number), "%s", d->number);
    row->sub_from = d->sub_from;
    row->sub_to = d->sub_to;
    snprintf(row->kind, sizeof(row->kind), "%s",
             fmt_draft_kind_name(d->kind) ? fmt_draft_kind_name(d->kind) : "");
    snprintf(row->status, sizeof(row->status), "%s",
             fmt_draft_status_name(d->status) ? fmt_draft_status_name(d->status)
                                              : "");
    row->amount = d->amount.minor;
    snprintf(row->ccy, sizeof(row->ccy), "%s", d->amount.ccy);
    snprintf(row->issue_date, sizeof(row->issue_date), "%s",
             d->issue_date ? d->issue_date : "");
    snprintf(row->maturity_date, sizeof(row->maturity_date), "%s",
             d->maturity_date ? d->maturity_date : "");
    snprintf(row->holder, sizeof(row->holder), "%s",
             d->holder.party.name ? d->holder.party.name : "");
    row->pending = fmt_draft_status_pending(d->status);
    return 0;
}

/* What a row must have to be put: the book refuses less, and a document
 * that leaves a new draft this bare is the bank's mistake, not ours. */
static int row_complete(const struct store_draft *row, struct h2h_err *err)
{
    int64_t day;
    size_t digits = strspn(row->number, "0123456789");
    if (digits != 30 || row->number[30] || row->sub_from < 0 ||
        row->sub_from > row->sub_to ||
        (row->sub_from == 0 && row->sub_to != 0) || row->amount < 0 ||
        (row->maturity_date[0] && tz_day_parse(row->maturity_date, &day)) ||
        (row->issue_date[0] && tz_day_parse(row->issue_date, &day)))
        return h2h_err_set(err, H2H_EINVALID,
                           "draft %s: bad number, sub-range %lld-%lld, "
                           "amount or date",
                           row->number, (long long)row->sub_from,
                           (long long)row->sub_to);
    if ((strcmp(row->kind, "AC01") && strcmp(row->kind, "AC02")) ||
        !row->ccy[0] || !row->maturity_date[0] || !row->status[0] ||
        strcmp(row->status, "none") == 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "draft %s %lld-%lld: the bank did not say its "
                           "kind, amount, maturity or state, and the book "
                           "does not know them",
                           row->number, (long long)row->sub_from,
                           (long long)row->sub_to);
    return 0;
}

/* The plan for one draft number: the rows to put (the bank's pieces,
 * completed from the book, and what remains of book pieces they split)
 * and the rows to delete.  Built whole before the store changes, so a
 * document that cannot be applied changes nothing. */
struct plan {
    struct store_draft *put;
    int *alert; /* per put row: inherited alert threshold, -1 none */
    size_t n_put;
    struct pieces old;
    int *drop; /* per old row: 1 delete */
};

static void plan_release(struct plan *p)
{
    for (size_t i = 0; i < p->n_put; i++)
        free(p->put[i].doc);
    free(p->put);
    free(p->alert);
    free(p->drop);
    pieces_release(&p->old);
    memset(p, 0, sizeof(*p));
}

static int plan_add(struct plan *p, const char *bank, const struct fmt_draft *d,
                    int alert, struct h2h_err *err)
{
    struct store_draft *v = realloc(p->put, (p->n_put + 1) * sizeof(*v));
    int *a = v ? realloc(p->alert, (p->n_put + 1) * sizeof(*a)) : NULL;
    if (v)
        p->put = v;
    if (!a)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    p->alert = a;
    memset(&v[p->n_put], 0, sizeof(*v));
    int rc = row_of(bank, d, &v[p->n_put], err);
    if (rc == 0)
        rc = row_complete(&v[p->n_put], err);
    a[p->n_put] = alert;
    p->n_put++; /* released with the plan even when incomplete */
    return rc;
}

static int covers(const struct fmt_draft *ds, size_t n, const char *number,
                  int64_t k)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ds[i].number, number) == 0 && ds[i].sub_from <= k &&
            k <= ds[i].sub_to)
            return 1;
    return 0;
}

/* The bank's pieces of one draft number (ds[i] with that number). */
static int plan_number(struct store *s, const char *bank, struct fmt_draft *ds,
                       size_t n, const char *number, struct plan *p,
                       struct h2h_err *err)
{
    int rc = pieces_of(s, bank, number, &p->old, err);
    if (rc == 0 && p->old.n && !(p->drop = calloc(p->old.n, sizeof(int))))
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct fmt_draft *d = &ds[i];
        if (strcmp(d->number, number) != 0)
            continue;
        int alert = -1;
        for (size_t k = 0; rc == 0 && k < p->old.n; k++) {
            const struct store_draft *o = &p->old.v[k];
            if (!overlaps(o->sub_from, o->sub_to, d->sub_from, d->sub_to))
                continue;
            struct fmt_draft known;
            if (draft_of_row(o, &known, NULL) == 0) {
                rc = merge_known(d, &known);
                fmt_draft_release(&known);
            }
            /* a piece of a draft already alerted keeps its threshold */
            if (o->last_alert_days >= 0 &&
                (alert < 0 || o->last_alert_days < alert))
                alert = o->last_alert_days;
            if (o->sub_from != d->sub_from || o->sub_to != d->sub_to)
                p->drop[k] = 1;
        }
        if (rc == 0)
            rc = plan_add(p, bank, d, alert, err);
    }
    /* what a split leaves of a book piece, in its former state */
    for (size_t k = 0; rc == 0 && k < p->old.n; k++) {
        const struct store_draft *o = &p->old.v[k];
        if (!p->drop[k] || o->sub_from <= 0)
            continue;
        struct fmt_draft known;
        if (draft_of_row(o, &known, NULL) != 0)
            continue;
        int64_t start = -1;
        for (int64_t x = o->sub_from; rc == 0 && x <= o->sub_to + 1; x++) {
            int in = x <= o->sub_to && !covers(ds, n, number, x);
            if (in && start < 0)
                start = x;
            if (!in && start >= 0) {
                struct fmt_draft rest = {0};
                rc = fmt_draft_copy(&rest, &known);
                rest.sub_from = start;
                rest.sub_to = x - 1;
                rest.amount.minor = x - start;
                if (rc == 0)
                    rc = plan_add(p, bank, &rest, o->last_alert_days, err);
                fmt_draft_release(&rest);
                start = -1;
            }
            /* jump over runs quickly: sub-ranges are long */
            if (in && start >= 0) {
                int64_t next = o->sub_to + 1;
                for (size_t i = 0; i < n; i++)
                    if (strcmp(ds[i].number, number) == 0 &&
                        ds[i].sub_from > x && ds[i].sub_from < next)
                        next = ds[i].sub_from;
                x = next - 1;
            } else if (!in && x <= o->sub_to) {
                int64_t next = x;
                for (size_t i = 0; i < n; i++)
                    if (strcmp(ds[i].number, number) == 0 &&
                        ds[i].sub_from <= x && x <= ds[i].sub_to)
                        next = ds[i].sub_to;
                x = next;
            }
        }
        fmt_draft_release(&known);
    }
    return rc;
}

static int plan_apply(struct store *s, const struct plan *p,
                      struct h2h_err *err)
{
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < p->old.n; k++)
        if (p->drop[k])
            rc = store_draft_delete(s, p->old.v[k].bank, p->old.v[k].number,
                                    p->old.v[k].sub_from, p->old.v[k].sub_to,
                                    err);
    for (size_t i = 0; rc == 0 && i < p->n_put; i++) {
        rc = store_draft_put(s, &p->put[i], err);
        if (rc == 0 && p->alert[i] >= 0)
            rc = store_draft_alerted(s, p->put[i].bank, p->put[i].number,
                                     p->put[i].sub_from, p->put[i].sub_to,
                                     p->alert[i], err);
    }
    return rc;
}

/* Put the bank's pieces ds[0..n) into the book: per draft number a plan
 * of every change, all checked before any is made.  H2H_EINVALID (with
 * nothing changed for that number) when the document cannot be applied;
 * other codes from the store. */
static int put_pieces(struct store *s, const char *bank, struct fmt_draft *ds,
                      size_t n, struct h2h_err *err)
{
    size_t nplans = 0;
    struct plan *plans = calloc(n ? n : 1, sizeof(*plans));
    int rc = plans ? 0 : h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!ds[i].number) {
            rc = h2h_err_set(err, H2H_EINVALID, "a draft without a number");
            break;
        }
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(ds[j].number, ds[i].number) == 0;
        if (!seen)
            rc = plan_number(s, bank, ds, n, ds[i].number, &plans[nplans++],
                             err);
    }
    for (size_t i = 0; rc == 0 && i < nplans; i++)
        rc = plan_apply(s, &plans[i], err);
    for (size_t i = 0; i < nplans; i++)
        plan_release(&plans[i]);
    free(plans);
    return rc;
}

/* ---- linking what the bank sent ---------------------------------------- */

static enum msg_state state_for(enum fmt_bill_outcome o)
{
    return o == FMT_BILL_ACCEPTED   ? ST_ACKNOWLEDGED
           : o == FMT_BILL_REJECTED ? ST_REJECTED
                                    : ST_SUBMITTED;
}

/* The message that carried request req_id to bank moves by the outcome;
 * a message still in submitting (the answer came before h2hd recorded
 * the upload) is moved to submitted first: the answer proves receipt. */
static void link_message(struct store *s, const char *bank,
                         const struct fmt_bill_result *r, struct bbook_link *o)
{
    char key[STORE_ID_MAX + 140];
    struct store_msg m = {0};
    struct h2h_err err = {0};
    snprintf(key, sizeof(key), "%s:%s", bank, r->req_id ? r->req_id : "");
    if (!r->req_id || store_id_owner(s, "bill", key, o->msg, &err) != 0 ||
        store_get(s, o->msg, &m, &err) != 0) {
        o->what = BBOOK_UNMATCHED;
        return;
    }
    enum msg_state from = m.state, to = state_for(r->outcome);
    store_msg_release(&m);
    int rc = 0;
    if (from == ST_SUBMITTING) {
        struct store_change ch = {.detail = "the bank's bill result proves "
                                            "receipt",
                                  .error = ""};
        rc =
            store_transition(s, o->msg, ST_SUBMITTING, ST_SUBMITTED, &ch, &err);
        from = ST_SUBMITTED;
    }
    o->to = to;
    if (rc == 0 && to == ST_SUBMITTED) {
        o->what = BBOOK_PENDING;
    } else if (rc == 0 && from == to) {
        o->what = BBOOK_REPEATED;
    } else if (rc == 0) {
        char detail[600];
        snprintf(detail, sizeof(detail), "bill %s %s: %s%s%s",
                 fmt_bill_op_name(r->op) ? fmt_bill_op_name(r->op) : "?",
                 o->outcome, r->bank_code ? r->bank_code : "",
                 r->bank_text ? " " : "", r->bank_text ? r->bank_text : "");
        struct store_change ch = {.detail = detail,
                                  .error = to == ST_REJECTED ? detail : ""};
        rc = store_transition(s, o->msg, from, to, &ch, &err);
        o->what = rc == 0 ? BBOOK_MOVED : BBOOK_IGNORED;
    } else {
        o->what = BBOOK_IGNORED;
    }
    if (o->what == BBOOK_IGNORED)
        o->err = err;
}

/* The bank's pool figures as the store keeps them, checked whole before
 * the book changes: H2H_EINVALID (the document's fault) when they cannot
 * be kept. */
static int pool_row(const char *bank, const struct fmt_bill_pool *p,
                    struct store_pool *row, struct h2h_err *err)
{
    int rc = fmt_bill_pool_check(p, err);
    if (rc < 0)
        return rc;
    memset(row, 0, sizeof(*row));
    const char *id = p->pool_id ? p->pool_id : "";
    const char *as_of = p->as_of ? p->as_of : "";
    if (strlen(id) >= sizeof(row->pool_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "pool id \"%.40s...\" is longer than %zu bytes", id,
                           sizeof(row->pool_id) - 1);
    if (as_of[0] && (strlen(as_of) >= sizeof(row->as_of) ||
                     (fmt_date_check(as_of, NULL) != 0 &&
                      fmt_datetime_check(as_of, NULL) != 0)))
        return h2h_err_set(err, H2H_EINVALID,
                           "pool %s: as-of \"%.40s\" is neither a date nor "
                           "a timestamp",
                           id, as_of);
    snprintf(row->bank, sizeof(row->bank), "%s", bank);
    snprintf(row->pool_id, sizeof(row->pool_id), "%s", id);
    snprintf(row->as_of, sizeof(row->as_of), "%s", as_of);
    row->pledged_count = p->pledged_count;
    /* fmt_bill_pool_check: one currency, nothing negative; an amount
     * without a currency is one the bank did not give */
    const struct fmt_amount *a[] = {&p->pledged_total, &p->deposit,
                                    &p->quota_total, &p->quota_used,
                                    &p->quota_available};
    int64_t *to[] = {&row->pledged_total, &row->deposit, &row->quota_total,
                     &row->quota_used, &row->quota_available};
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
        *to[i] = a[i]->ccy[0] ? a[i]->minor : -1;
        if (a[i]->ccy[0])
            snprintf(row->ccy, sizeof(row->ccy), "%s", a[i]->ccy);
    }
    return 0;
}

/* 1 when every piece a rejection lists is in a settled status: the bank
 * says where the piece is now (back after a counterparty's refusal,
 * dishonoured, or unchanged after the bank's own refusal).  A rejection
 * listing a pending piece does not say that, and changes nothing. */
static int settled_pieces(const struct fmt_bill_result *r)
{
    for (size_t i = 0; i < r->n_drafts; i++)
        if (r->drafts[i].status == FMT_DRAFT_NONE ||
            fmt_draft_status_pending(r->drafts[i].status))
            return 0;
    return 1;
}

static int link_result(struct store *s, const char *bank,
                       struct fmt_bill_result *r, struct bbook_link *o,
                       struct h2h_err *err)
{
    snprintf(o->req_id, sizeof(o->req_id), "%s", r->req_id ? r->req_id : "");
    snprintf(o->op, sizeof(o->op), "%s",
             fmt_bill_op_name(r->op) ? fmt_bill_op_name(r->op) : "?");
    snprintf(o->outcome, sizeof(o->outcome), "%s",
             fmt_bill_outcome_name(r->outcome)
                 ? fmt_bill_outcome_name(r->outcome)
                 : "?");
    /* a refused request changes no draft unless the refusal itself
     * moved it (settled_pieces) */
    int rc = 0;
    struct store_pool pool;
    int has_pool = r->outcome != FMT_BILL_REJECTED && r->has_pool;
    if (has_pool && (rc = pool_row(bank, &r->pool, &pool, err)) < 0)
        return rc;
    if (r->outcome != FMT_BILL_REJECTED && r->n_drafts) {
        rc = put_pieces(s, bank, r->drafts, r->n_drafts, err);
        o->n_drafts = rc == 0 ? r->n_drafts : 0;
    } else if (r->n_drafts && settled_pieces(r)) {
        /* a counterparty's refusal of our pending operation: the piece
         * went back (held, accepted, ...) or on (dishonoured) */
        rc = put_pieces(s, bank, r->drafts, r->n_drafts, err);
        o->n_drafts = rc == 0 ? r->n_drafts : 0;
    }
    /* notices listed by an inquiry are presentments to us like single
     * notices */
    for (size_t i = 0; rc == 0 && i < r->n_notices; i++) {
        struct fmt_draft d = {0};
        if (fmt_draft_receive(&d, &r->notices[i], NULL) == 0)
            rc = put_pieces(s, bank, &d, 1, err);
        fmt_draft_release(&d);
    }
    if (rc == 0 && has_pool) {
        rc = store_pool_put(s, &pool, err);
        if (rc >= 0) {
            o->pool = 1;
            o->pool_verdict = rc;
            snprintf(o->pool_id, sizeof(o->pool_id), "%s", pool.pool_id);
            snprintf(o->as_of, sizeof(o->as_of), "%s", pool.as_of);
            rc = 0;
        }
    }
    if (rc == 0)
        link_message(s, bank, r, o);
    return rc;
}

/* A presentment to us: our piece (if the book has one) moves to the
 * pending state addressed to us. */
static int link_notice(struct store *s, const char *bank,
                       const struct fmt_bill_notice *n, struct bbook_link *o,
                       struct h2h_err *err)
{
    struct store_draft row = {0};
    struct fmt_draft d = {0};
    int rc = 0;
    o->notice = 1;
    snprintf(o->req_id, sizeof(o->req_id), "%s",
             n->notice_id ? n->notice_id : "");
    snprintf(o->op, sizeof(o->op), "%s",
             fmt_bill_op_name(n->kind) ? fmt_bill_op_name(n->kind) : "?");
    if (n->draft.number &&
        store_draft_get(s, bank, n->draft.number, n->draft.sub_from,
                        n->draft.sub_to, &row, NULL) == 0)
        draft_of_row(&row, &d, NULL);
    store_draft_release(&row);
    if (fmt_draft_receive(&d, n, err) != 0) {
        /* the notice does not fit what we know: the bank is right */
        fmt_draft_release(&d);
        memset(&d, 0, sizeof(d));
        if ((rc = fmt_draft_receive(&d, n, err)) < 0)
            goto out;
    }
    if ((rc = put_pieces(s, bank, &d, 1, err)) == 0)
        o->n_drafts = 1;
out:
    fmt_draft_release(&d);
    return rc;
}

int bbook_link_file(struct store *s, const char *bank, const char *path,
                    struct bbook_link *o, struct h2h_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;
    memset(o, 0, sizeof(*o));
    if ((rc = fsu_read_file(path, BBOOK_DOC_MAX, &buf, &len, err)) < 0)
        return rc;
    struct fmt_src src = {.buf = buf, .len = len, .name = path};
    int kind = fmt_canon_bill_detect(buf, len);
    struct h2h_err why = {0};
    if (kind == FMT_CANON_BILL_RESULT) {
        struct fmt_bill_result r = {0};
        rc = fmt_canon_bill_read_result(&src, &r, NULL, &why);
        if (rc == 0)
            rc = link_result(s, bank, &r, o, &why);
        fmt_bill_result_release(&r);
    } else if (kind == FMT_CANON_BILL_NOTICE) {
        struct fmt_bill_notice n = {0};
        rc = fmt_canon_bill_read_notice(&src, &n, NULL, &why);
        if (rc == 0)
            rc = link_notice(s, bank, &n, o, &why);
        fmt_bill_notice_release(&n);
    } else {
        rc = h2h_err_set(&why, H2H_EINVALID, "not a bill result or notice");
    }
    free(buf);
    if (rc == H2H_EDB || rc == H2H_ENOMEM || rc == H2H_EIO) {
        *err = why;
        return rc; /* the store or the machine: try the delivery again */
    }
    if (rc < 0) {
        /* the document: delivered as it is, the book left alone */
        o->what = BBOOK_IGNORED;
        o->err = why;
        o->n_drafts = 0;
        o->pool = 0;
    }
    return 0;
}

void bbook_log_link(const char *bank, const char *file,
                    const struct bbook_link *o)
{
    char n[24];
    snprintf(n, sizeof(n), "%zu", o->n_drafts);
    if (o->notice) {
        h2h_log(H2H_LOG_INFO, "bill.notice", "bank", bank, "file", file,
                "notice", o->req_id, "op", o->op, "drafts", n, NULL);
        return;
    }
    if (o->pool) {
        static const char *const verdict[] = {
            [STORE_POOL_STORED] = "stored",
            [STORE_POOL_SAME] = "unchanged",
            [STORE_POOL_OLDER] = "older",
        };
        h2h_log(H2H_LOG_INFO, "bill.pool", "bank", bank, "file", file, "pool",
                o->pool_id, "as_of", o->as_of, "figures",
                o->pool_verdict >= 0 && o->pool_verdict <= STORE_POOL_OLDER
                    ? verdict[o->pool_verdict]
                    : "?",
                NULL);
    }
    switch (o->what) {
    case BBOOK_MOVED:
        h2h_log(o->to == ST_REJECTED ? H2H_LOG_WARN : H2H_LOG_INFO,
                o->to == ST_REJECTED ? "bill.rejected" : "bill.accepted", "msg",
                o->msg, "bank", bank, "file", file, "req", o->req_id, "op",
                o->op, "drafts", n, NULL);
        break;
    case BBOOK_PENDING:
        h2h_log(H2H_LOG_INFO, "bill.pending", "msg", o->msg, "bank", bank,
                "file", file, "req", o->req_id, "op", o->op, NULL);
        break;
    case BBOOK_UNMATCHED:
        h2h_log(H2H_LOG_INFO, "bill.result", "bank", bank, "file", file, "req",
                o->req_id, "op", o->op, "outcome", o->outcome, "drafts", n,
                NULL);
        break;
    case BBOOK_IGNORED:
        h2h_log(H2H_LOG_WARN, "bill.ignored", "msg", o->msg, "bank", bank,
                "file", file, "req", o->req_id, "error", o->err.msg, NULL);
        break;
    case BBOOK_NONE:
    case BBOOK_REPEATED: break;
    }
}

/* ---- checking treasury's requests ------------------------------------- */

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

int bbook_check_request(struct store *s, const char *bank, const char *path,
                        const char *today, char **why)
{
    struct fmt_bill_request rq = {0};
    struct fmt_src src = {.path = path};
    struct h2h_err err = {0};
    struct pieces p = {0};
    struct fmt_draft d = {0};
    int rc = fmt_canon_bill_read_request(&src, &rq, NULL, &err);
    *why = NULL;
    if (rc < 0) {
        *why = why_printf("%s", err.msg);
        goto out;
    }
    if (rq.op == FMT_BILL_OP_ISSUE || fmt_bill_op_inquiry(rq.op))
        goto out; /* nothing in the book to check against */
    if ((rc = pieces_of(s, bank, rq.draft_no, &p, &err)) < 0) {
        *why = why_printf("%s", err.msg);
        goto out;
    }
    const struct store_draft *hit = NULL;
    size_t hits = 0;
    for (size_t i = 0; i < p.n; i++)
        if ((rq.sub_from == 0 && rq.sub_to == 0) ||
            (p.v[i].sub_from == 0 && p.v[i].sub_to == 0) ||
            (p.v[i].sub_from <= rq.sub_from && rq.sub_to <= p.v[i].sub_to)) {
            hit = &p.v[i];
            hits++;
        }
    if (!hit) {
        rc = H2H_ENOTFOUND;
        *why = why_printf(
            "draft %s%s is not in h2hd's book for bank %s: ask the bank "
            "first (h2hctl fetch %s --kind bills), or check the number and "
            "sub-range",
            rq.draft_no, p.n ? " (that sub-range)" : "", bank, bank);
        goto out;
    }
    if (hits > 1) {
        rc = H2H_EINVALID;
        *why = why_printf("draft %s is split into %zu pieces: name the "
                          "sub-range (SubRg) the request is about",
                          rq.draft_no, hits);
        goto out;
    }
    if ((rc = draft_of_row(hit, &d, &err)) < 0 ||
        (rc = fmt_draft_check(&d, &rq, today, &err)) < 0)
        *why = why_printf("%s", err.msg);
out:
    fmt_draft_release(&d);
    pieces_release(&p);
    fmt_bill_request_release(&rq);
    if (rc < 0 && !*why)
        *why = strdup("refused (out of memory while saying why)");
    return rc < 0 ? rc : 0;
}

/* ---- maturity alerts --------------------------------------------------- */

struct alerts {
    struct store *s;
    void (*today_of)(void *ctx, const char *bank, char out[11]);
    void *ctx;
    char bank[128]; /* the bank today is of (rows come mostly in bank
                       order: one look each) */
    char today[11];
};

/* The day of row's bank, looked up when the bank changes. */
static const char *alert_today(struct alerts *a, const char *bank)
{
    if (strcmp(a->bank, bank) != 0) {
        snprintf(a->bank, sizeof(a->bank), "%s", bank);
        a->today_of(a->ctx, bank, a->today);
    }
    return a->today;
}

/* The alert level a number of days left falls in: 7, 3, 1, or 0 (today
 * or past); -1 when none is due yet. */
static int level_of(long days)
{
    return days > 7 ? -1 : days > 3 ? 7 : days > 1 ? 3 : days > 0 ? 1 : 0;
}

static int alert_cb(void *ctx, const struct store_draft *row)
{
    struct alerts *a = ctx;
    struct fmt_draft d;
    long days;
    if (draft_of_row(row, &d, NULL) != 0)
        return 0;
    int ours = fmt_draft_is_ours(&d);
    int ok = fmt_draft_days_to_maturity(&d, alert_today(a, row->bank),
                                        &days) == 0;
    fmt_draft_release(&d);
    int level = ok ? level_of(days) : -1;
    if (!ours || level < 0 ||
        (row->last_alert_days >= 0 && row->last_alert_days <= level))
        return 0;
    char left[24], range[48], amt[32];
    snprintf(left, sizeof(left), "%ld", days);
    snprintf(range, sizeof(range), "%lld-%lld", (long long)row->sub_from,
             (long long)row->sub_to);
    snprintf(amt, sizeof(amt), "%lld.%02lld", (long long)(row->amount / 100),
             (long long)(row->amount % 100));
    h2h_log(days < 0 ? H2H_LOG_ERROR : H2H_LOG_WARN,
            days < 0 ? "bill.overdue" : "bill.maturing", "bank", row->bank,
            "draft", row->number, "sub_range", range, "amount", amt, "ccy",
            row->ccy, "status", row->status, "maturity", row->maturity_date,
            "days_left", left, NULL);
    store_draft_alerted(a->s, row->bank, row->number, row->sub_from,
                        row->sub_to, level, NULL);
    return 0;
}

void bbook_alerts(struct store *s,
                  void (*today_of)(void *ctx, const char *bank, char out[11]),
                  void *ctx)
{
    /* every bank's day is within a day of UTC's: one query reaches all */
    char utc[11], until[11];
    int64_t t;
    struct h2h_err err = {0};
    tz_day_text((int64_t)(time(NULL) / 86400), utc);
    if (tz_day_parse(utc, &t) < 0)
        return;
    tz_day_text(t + 8, until);
    struct alerts a = {.s = s, .today_of = today_of, .ctx = ctx};
    struct store_draft_filter f = {.maturity_to = until};
    if (store_draft_list(s, &f, alert_cb, &a, &err) < 0)
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
}
