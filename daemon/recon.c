/*
 * recon.c - the engine object: options, input rows copied into flat
 * arrays, result views and names.  Matching itself starts in
 * recon_match.c (recon_run).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "recon_int.h"

void recon_opts_init(struct recon_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->window_days = 3;
    o->grace_days = 5;
    o->threshold = 60;
    o->max_candidates = 64;
    o->html_max_rows = 1000;
    o->progress_every = 100000;
}

struct recon *recon_new(const struct recon_opts *o, struct h2h_err *err)
{
    struct recon_opts def;
    if (!o) {
        recon_opts_init(&def);
        o = &def;
    }
    if (o->window_days < 0 || o->window_days > 366 || o->grace_days < 0 ||
        o->grace_days > 3660 || o->threshold < 1 || o->threshold > 100 ||
        o->max_candidates < 1) {
        h2h_err_set(err, H2H_EINVALID,
                    "reconcile: window_days 0..366, grace_days 0..3660, "
                    "threshold 1..100, max_candidates >= 1");
        return NULL;
    }
    int32_t as_of = INT32_MIN;
    if (o->as_of && (as_of = rc_days(o->as_of)) == INT32_MIN) {
        h2h_err_set(err, H2H_EINVALID, "reconcile: as_of: bad date \"%s\"",
                    o->as_of);
        return NULL;
    }
    struct recon *r = calloc(1, sizeof(*r));
    if (!r || rc_pool_init(&r->pool) < 0) {
        free(r);
        h2h_err_set(err, H2H_ENOMEM, "reconcile: out of memory");
        return NULL;
    }
    r->o = *o;
    r->o.as_of = NULL; /* borrowed pointer; the day number is kept */
    if (!r->o.progress_every)
        r->o.progress_every = 100000;
    r->as_of = as_of;
    r->tick = r->o.progress_every;
    r->max_book = r->max_date = INT32_MIN;
    return r;
}

void recon_free(struct recon *r)
{
    if (!r)
        return;
    rc_pool_release(&r->pool);
    free(r->items);
    free(r->entries);
    free(r->ccy);
    free(r->batches);
    free(r->members);
    free(r->m);
    free(r->group_first);
    free(r->x);
    free(r->bm);
    free(r->open_e);
    free(r->open_i);
    free(r->imb);
    free(r->rev);
    free(r->tot);
    free(r->tot_ix);
    free(r->acc_tot);
    free(r->keys);
    free(r->probes);
    free(r->fl);
    free(r->ret);
    free(r);
}

/* ---- input -------------------------------------------------------------- */

static int ccy_index(struct recon *r, const char *code, uint16_t *ix,
                     struct h2h_err *err)
{
    if (!code || !fmt_ccy_valid(code))
        return h2h_err_set(err, H2H_EINVALID, "unknown currency \"%s\"",
                           code ? code : "");
    for (uint32_t i = 0; i < r->n_ccy; i++) {
        if (!strcmp(r->ccy[i], code)) {
            *ix = (uint16_t)i;
            return 0;
        }
    }
    if (r->n_ccy >= UINT16_MAX ||
        rc_grow((void **)&r->ccy, &r->cap_ccy, sizeof(*r->ccy), r->n_ccy + 1) <
            0 ||
        rc_grow((void **)&r->acc_tot, &r->cap_tot, sizeof(*r->acc_tot),
                r->n_ccy + 1) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    memcpy(r->ccy[r->n_ccy], code, 4);
    memset(&r->acc_tot[r->n_ccy], 0, sizeof(*r->acc_tot));
    memcpy(r->acc_tot[r->n_ccy].ccy, code, 4);
    *ix = (uint16_t)r->n_ccy++;
    return 0;
}

struct field {
    const char *val;
    rc_str *dst;
    int intern;
};

static int put_fields(struct recon *r, const struct field *f, size_t n,
                      struct h2h_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = rc_pool_put(&r->pool, f[i].val, f[i].intern, f[i].dst);
        if (rc == H2H_ETOOBIG)
            return h2h_err_set(err, rc,
                               "a text of over %u bytes, or over "
                               "4 GiB of text in all",
                               RECON_MAX_STR);
        if (rc < 0)
            return h2h_err_set(err, rc, "out of memory");
    }
    return 0;
}

static int check_open(struct recon *r, const char *id, int64_t amount,
                      uint32_t n, struct h2h_err *err)
{
    if (r->ran)
        return h2h_err_set(err, H2H_ESTATE, "reconcile: already run");
    if (!id || !*id)
        return h2h_err_set(err, H2H_EINVALID, "missing id");
    if (amount < 0)
        return h2h_err_set(err, H2H_EINVALID, "%s: negative amount", id);
    if (n >= RECON_MAX_ROWS - 1)
        return h2h_err_set(err, H2H_ETOOBIG, "%" PRIu32 " rows or more",
                           RECON_MAX_ROWS - 1);
    return 0;
}

static int add_item(struct recon *r, struct rc_item *it, struct h2h_err *err)
{
    /* room first, so that nothing is half added on failure */
    if (rc_grow((void **)&r->items, &r->cap_items, sizeof(*r->items),
                r->n_items + 1) < 0 ||
        rc_grow((void **)&r->bm, &r->cap_bm, sizeof(*r->bm), r->n_bm + 1) < 0 ||
        rc_grow((void **)&r->keys, &r->cap_keys, sizeof(*r->keys),
                r->n_keys + 4) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    it->batch = RC_NONE;
    it->group = RC_NONE;
    if (it->batch_id)
        r->bm[r->n_bm++] = r->n_items;
    if (it->kind == RECON_SIDE_PAYMENT)
        rc_list_keys(r, it, r->n_items);
    if (it->date > r->max_date)
        r->max_date = it->date;
    if (it->kind == RECON_SIDE_PAYMENT) {
        r->acc.payments++;
        r->acc_tot[it->ccy].submitted += it->amount;
    } else {
        r->acc.receipts++;
        r->acc_tot[it->ccy].expected += it->amount;
    }
    r->items[r->n_items++] = *it;
    return 0;
}

int recon_add_payment(struct recon *r, const struct recon_payment *p,
                      struct h2h_err *err)
{
    int rc = check_open(r, p->id, p->amount, r->n_items, err);
    if (rc < 0)
        return rc;
    struct rc_item it = {.amount = p->amount, .kind = RECON_SIDE_PAYMENT};
    if ((rc = ccy_index(r, p->ccy, &it.ccy, err)) < 0)
        return h2h_err_prefix(err, "payment %s", p->id);
    if ((it.date = rc_days(p->exec_date)) == INT32_MIN)
        return h2h_err_set(err, H2H_EINVALID,
                           "payment %s: bad execution date \"%s\"", p->id,
                           p->exec_date ? p->exec_date : "");
    const struct field f[] = {
        {p->id, &it.id, 0},
        {p->bank, &it.bank, 1},
        {p->account, &it.account, 1},
        {p->end_to_end_id, &it.e2e, 0},
        {p->uetr, &it.uetr, 0},
        {p->serial, &it.serial, 0},
        {p->bank_ref, &it.bank_ref, 0},
        {p->cpty_name, &it.cpty_name, 0},
        {p->cpty_account, &it.cpty_acct, 0},
        {p->rmt_text, &it.rmt_text, 0},
        {p->rmt_ref, &it.rmt_ref, 0},
        {p->batch_id, &it.batch_id, 1},
        {p->state, &it.state, 1},
    };
    if ((rc = put_fields(r, f, sizeof(f) / sizeof(f[0]), err)) < 0)
        return h2h_err_prefix(err, "payment %s", p->id);
    if ((rc = add_item(r, &it, err)) < 0)
        return rc;
    r->n_pay++;
    return 0;
}

int recon_add_expected(struct recon *r, const struct recon_expected *x,
                       struct h2h_err *err)
{
    int rc = check_open(r, x->reference, x->amount, r->n_items, err);
    if (rc < 0)
        return rc;
    struct rc_item it = {.amount = x->amount, .kind = RECON_SIDE_RECEIPT};
    if ((rc = ccy_index(r, x->ccy, &it.ccy, err)) < 0)
        return h2h_err_prefix(err, "receipt %s", x->reference);
    if ((it.date = rc_days(x->due_date)) == INT32_MIN)
        return h2h_err_set(err, H2H_EINVALID, "receipt %s: bad due date \"%s\"",
                           x->reference, x->due_date ? x->due_date : "");
    const struct field f[] = {
        {x->reference, &it.id, 0},
        {x->payer, &it.cpty_name, 0},
        {x->account, &it.account, 1},
    };
    if ((rc = put_fields(r, f, sizeof(f) / sizeof(f[0]), err)) < 0)
        return h2h_err_prefix(err, "receipt %s", x->reference);
    it.rmt_ref = it.id; /* the reference is what remittance carries */
    if ((rc = add_item(r, &it, err)) < 0)
        return rc;
    r->n_rcpt++;
    return 0;
}

int recon_add_entry(struct recon *r, const struct recon_entry *e,
                    struct h2h_err *err)
{
    int rc = check_open(r, e->id, e->amount, r->n_entries, err);
    if (rc < 0)
        return rc;
    struct rc_entry n = {
        .amount = e->amount,
        .credit = e->credit ? 1 : 0,
        .reversal = e->reversal ? 1 : 0,
        .n_dtls = e->n_details > UINT16_MAX ? UINT16_MAX : e->n_details,
        .claim = RC_NONE,
        .link = RC_NONE,
    };
    if ((rc = ccy_index(r, e->ccy, &n.ccy, err)) < 0)
        return h2h_err_prefix(err, "entry %s", e->id);
    if ((n.book = rc_days(e->book_date)) == INT32_MIN)
        return h2h_err_set(err, H2H_EINVALID,
                           "entry %s: bad booking date \"%s\"", e->id,
                           e->book_date ? e->book_date : "");
    n.value = INT32_MIN;
    if (e->value_date && *e->value_date &&
        (n.value = rc_days(e->value_date)) == INT32_MIN)
        return h2h_err_set(err, H2H_EINVALID, "entry %s: bad value date \"%s\"",
                           e->id, e->value_date);
    if (e->status && *e->status && strcmp(e->status, "BOOK") != 0)
        n.st = RC_E_NOTBOOKED;
    const struct field f[] = {
        {e->id, &n.id, 0},
        {e->account, &n.account, 1},
        {e->acct_svcr_ref, &n.acct_svcr_ref, 0},
        {e->end_to_end_id, &n.e2e, 0},
        {e->uetr, &n.uetr, 0},
        {e->cust_ref, &n.cust_ref, 0},
        {e->bank_ref, &n.bank_ref, 0},
        {e->batch_ref, &n.batch_ref, 1},
        {e->return_reason, &n.rtr_rsn, 1},
        {e->cpty_name, &n.cpty_name, 0},
        {e->cpty_account, &n.cpty_acct, 0},
        {e->rmt_text, &n.rmt_text, 0},
        {e->rmt_ref, &n.rmt_ref, 0},
    };
    if ((rc = put_fields(r, f, sizeof(f) / sizeof(f[0]), err)) < 0)
        return h2h_err_prefix(err, "entry %s", e->id);
    int booked = n.st != RC_E_NOTBOOKED;
    uint32_t h;
    uint8_t probe = rc_first_probe(r, &n, &h);
    /* step 1's business: a key, a batch reference, a return reason */
    int listed = booked && !n.reversal &&
                 (probe < 5 || n.batch_ref || (n.credit && n.rtr_rsn));
    if (rc_grow((void **)&r->entries, &r->cap_entries, sizeof(*r->entries),
                r->n_entries + 1) < 0 ||
        (n.reversal && booked &&
         rc_grow((void **)&r->rev, &r->cap_rev, sizeof(*r->rev), r->n_rev + 1) <
             0) ||
        (listed && rc_grow((void **)&r->probes, &r->cap_probes,
                           sizeof(*r->probes), r->n_probes + 1) < 0) ||
        (booked &&
         rc_grow((void **)&r->fl, &r->cap_fl, sizeof(*r->fl), r->n_fl + 1) < 0))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (listed)
        r->probes[r->n_probes++] = (struct rc_pent){r->n_entries, h, probe};
    if (booked)
        r->fl[r->n_fl++] = (struct rc_fent){
            r->n_entries | (uint32_t)n.reversal << 31, rc_fp_hash(r, &n),
            rc_rev_hash(n.amount, n.ccy, n.credit,
                        rc_acct_hash(rc_s(&r->pool, n.account))),
            rc_rev_hash(n.amount, n.ccy, n.credit, 0)};
    if (booked && n.book > r->max_book)
        r->max_book = n.book;
    r->acc.entries++;
    if (!booked)
        r->acc.not_booked++;
    else if (n.credit)
        r->acc_tot[n.ccy].credits += n.amount;
    else
        r->acc_tot[n.ccy].debits += n.amount;
    if (n.reversal && booked)
        r->rev[r->n_rev++] = r->n_entries;
    r->entries[r->n_entries++] = n;
    return 0;
}

int rc_progress(struct recon *r, const char *phase, uint64_t done,
                uint64_t total, struct h2h_err *err)
{
    if (!r->o.progress)
        return 0;
    /* a count down, not a division: this runs for every row */
    if (done != total && --r->tick)
        return 0;
    r->tick = r->o.progress_every;
    if (r->o.progress(r->o.progress_ctx, phase, done, total))
        return h2h_err_set(err, H2H_ECANCELED, "reconcile: canceled (%s)",
                           phase);
    return 0;
}

/* ---- names -------------------------------------------------------------- */

const char *recon_rule_name(enum recon_rule rule)
{
    switch (rule) {
    case RECON_RULE_EXACT: return "exact";
    case RECON_RULE_REFERENCE: return "reference";
    case RECON_RULE_FUZZY: return "fuzzy";
    default: return "";
    }
}

const char *recon_key_name(enum recon_key key)
{
    switch (key) {
    case RECON_KEY_E2E: return "EndToEndId";
    case RECON_KEY_UETR: return "UETR";
    case RECON_KEY_SERIAL: return "Serial";
    case RECON_KEY_BANK_REF: return "BankRef";
    case RECON_KEY_BATCH: return "Batch";
    case RECON_KEY_REMITTANCE: return "Remittance";
    case RECON_KEY_AMOUNT: return "Amount";
    case RECON_KEY_ENTRY: return "Entry";
    default: return "";
    }
}

const char *recon_exc_name(enum recon_exc_kind kind)
{
    static const char *const names[RECON_EXC_COUNT] = {
        "unmatched_payment", "unmatched_entry",
        "open_receipt",      "amount_mismatch",
        "date_mismatch",     "duplicate_entry",
        "duplicate_booking", "duplicate_key",
        "reversal",          "return",
        "ambiguous",
    };
    return (unsigned)kind < RECON_EXC_COUNT ? names[kind] : "";
}

/* ---- views -------------------------------------------------------------- */

const char *rc_ccy(const struct recon *r, uint16_t ix)
{
    return ix < r->n_ccy ? r->ccy[ix] : "";
}

void rc_unit_view(const struct recon *r, uint32_t u, struct rc_unit_view *v)
{
    memset(v, 0, sizeof(*v));
    if (u == RC_NONE) {
        v->id = "";
        v->date = INT32_MIN;
        return;
    }
    if (rc_unit_is_batch(r->n_items, u)) {
        const struct rc_batch *b = &r->batches[u - r->n_items];
        v->id = rc_s(&r->pool, b->id);
        v->amount = b->sum;
        v->ccy = b->ccy;
        v->date = b->date;
        v->side = RECON_SIDE_PAYMENT;
        v->is_batch = 1;
        return;
    }
    const struct rc_item *it = &r->items[u];
    v->id = rc_s(&r->pool, it->id);
    v->amount = it->amount;
    v->ccy = it->ccy;
    v->date = it->date;
    v->side = it->kind;
}

void rc_group_totals(const struct recon *r, uint32_t group, int64_t *items,
                     int64_t *entries)
{
    uint32_t a = r->group_first[group];
    uint32_t b = group + 1 < r->n_groups ? r->group_first[group + 1] : r->n_m;
    /* a group is one item x n entries or n items x one entry */
    int one_item = b - a == 1 || r->m[a].item == r->m[a + 1].item;
    *items = *entries = 0;
    for (uint32_t i = a; i < b; i++) {
        if (!one_item || i == a)
            *items += r->items[r->m[i].item].amount;
        if (one_item || i == a)
            *entries += r->entries[r->m[i].entry].amount;
    }
}

size_t recon_pair_count(const struct recon *r)
{
    return r->ran == 1 ? r->n_m : 0;
}

int recon_pair_get(const struct recon *r, size_t i, struct recon_pair *out)
{
    if (r->ran != 1)
        return H2H_ESTATE;
    if (i >= r->n_m)
        return H2H_ENOTFOUND;
    const struct rc_match *m = &r->m[i];
    const struct rc_item *it = &r->items[m->item];
    const struct rc_entry *e = &r->entries[m->entry];
    memset(out, 0, sizeof(*out));
    out->group = it->group;
    out->rule = m->rule;
    out->key = m->key;
    out->key_value = rc_s(&r->pool, m->keyval);
    out->score = m->score;
    out->flags = m->flags;
    out->side = it->kind;
    out->item_id = rc_s(&r->pool, it->id);
    out->batch_id = rc_s(&r->pool, it->batch_id);
    out->entry_id = rc_s(&r->pool, e->id);
    out->item_amount = it->amount;
    out->entry_amount = e->amount;
    out->item_ccy = rc_ccy(r, it->ccy);
    out->entry_ccy = rc_ccy(r, e->ccy);
    rc_date_str(it->date, out->item_date);
    rc_date_str(e->book, out->book_date);
    return 0;
}

size_t recon_exception_count(const struct recon *r)
{
    return r->ran == 1 ? r->n_x : 0;
}

int recon_exception_get(const struct recon *r, size_t i,
                        struct recon_exception *out)
{
    if (r->ran != 1)
        return H2H_ESTATE;
    if (i >= r->n_x)
        return H2H_ENOTFOUND;
    const struct rc_exc *x = &r->x[i];
    memset(out, 0, sizeof(*out));
    out->kind = x->kind;
    out->rule = x->rule;
    out->key = x->key;
    out->key_value = rc_s(&r->pool, x->keyval);
    out->score = x->score;
    out->item_id = out->entry_id = out->other_id = out->ccy = "";
    struct rc_unit_view v;
    rc_unit_view(r, x->item, &v);
    out->item_id = v.id;
    out->side = v.side;
    if (x->item != RC_NONE)
        out->ccy = rc_ccy(r, v.ccy);
    if (x->entry != RC_NONE) {
        out->entry_id = rc_s(&r->pool, r->entries[x->entry].id);
        out->ccy = rc_ccy(r, r->entries[x->entry].ccy);
    }
    switch (x->kind) {
    case RECON_EXC_DUPLICATE_ENTRY:
    case RECON_EXC_DUPLICATE_BOOKING:
    case RECON_EXC_REVERSAL:
        if (x->other != RC_NONE)
            out->other_id = rc_s(&r->pool, r->entries[x->other].id);
        break;
    case RECON_EXC_DUPLICATE_KEY:
    case RECON_EXC_UNMATCHED_ENTRY:
        rc_unit_view(r, x->other, &v);
        out->other_id = v.id;
        break;
    default: break;
    }
    out->expected = x->expected;
    out->booked = x->booked;
    out->days = x->days;
    return 0;
}

void recon_summary(const struct recon *r, struct recon_summary *s)
{
    if (r->ran != 1) {
        memset(s, 0, sizeof(*s));
        return;
    }
    *s = r->sum;
}

int recon_summary_logfmt(const struct recon_summary *s, char *buf, size_t bufsz)
{
    int n = snprintf(
        buf, bufsz,
        "as_of=%s payments=%" PRIu64 " entries=%" PRIu64 " receipts=%" PRIu64
        " matched_payments=%" PRIu64 " matched_entries=%" PRIu64
        " matched_receipts=%" PRIu64 " exact=%" PRIu64 " reference=%" PRIu64
        " fuzzy=%" PRIu64 " unmatched_payments=%" PRIu64
        " pending_payments=%" PRIu64 " returned_payments=%" PRIu64
        " unmatched_entries=%" PRIu64 " open_receipts=%" PRIu64
        " amount_mismatches=%" PRIu64 " date_mismatches=%" PRIu64
        " duplicates=%" PRIu64 " reversals=%" PRIu64 " returns=%" PRIu64
        " ambiguous=%" PRIu64,
        s->as_of[0] ? s->as_of : "-", s->payments, s->entries, s->receipts,
        s->matched_payments, s->matched_entries, s->matched_receipts,
        s->by_rule[RECON_RULE_EXACT], s->by_rule[RECON_RULE_REFERENCE],
        s->by_rule[RECON_RULE_FUZZY], s->unmatched_payments,
        s->pending_payments, s->returned_payments, s->unmatched_entries,
        s->open_receipts, s->exceptions[RECON_EXC_AMOUNT_MISMATCH],
        s->exceptions[RECON_EXC_DATE_MISMATCH],
        s->exceptions[RECON_EXC_DUPLICATE_ENTRY] +
            s->exceptions[RECON_EXC_DUPLICATE_BOOKING] +
            s->exceptions[RECON_EXC_DUPLICATE_KEY],
        s->exceptions[RECON_EXC_REVERSAL], s->exceptions[RECON_EXC_RETURN],
        s->exceptions[RECON_EXC_AMBIGUOUS]);
    return n;
}
