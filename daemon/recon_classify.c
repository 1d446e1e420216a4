/*
 * recon_classify.c - step 6 of recon.h: what is still open becomes an
 * exception or waits (grace period), and the summary with its totals per
 * currency is finished, for the log, the reports and
 * `h2hctl reconcile --last`.
 *
 * No pass over all rows here: counts and totals were kept up as rows were
 * added (recon.c), duplicates found (recon_prep.c) and matches made
 * (rc_add_match); only the open lists are read.
 *
 * Every payment ends in exactly one of matched, unmatched, pending or
 * returned (one tied in an ambiguity is open, so it also waits or is
 * reported unmatched: nobody has confirmed its booking).
 */
#include <stdlib.h>
#include <string.h>

#include "recon_int.h"

static int tot_cmp(const void *a, const void *b)
{
    return strcmp(((const struct recon_ccy_total *)a)->ccy,
                  ((const struct recon_ccy_total *)b)->ccy);
}

static int64_t age(const struct recon *r, int32_t date)
{
    return r->as_of == INT32_MIN ? 0 : (int64_t)r->as_of - date;
}

/* A payment that came back after it was booked: its match says so. */
static void flag_returned(struct recon *r)
{
    for (uint32_t k = 0; k < r->n_ret; k++) {
        const struct rc_item *it = &r->items[r->ret[k]];
        if (it->st != RC_I_MATCHED)
            continue;
        uint32_t g = it->group;
        uint32_t end = g + 1 < r->n_groups ? r->group_first[g + 1] : r->n_m;
        for (uint32_t m = r->group_first[g]; m < end; m++)
            r->m[m].flags |= RECON_F_RETURNED;
    }
}

/* What is still open of the payments and receipts (the list step 2 made
 * holds every item step 1 left; the later matches are skipped). */
static int classify_items(struct recon *r, struct recon_summary *s)
{
    for (uint32_t j = 0; j < r->n_open_i; j++) {
        uint32_t i = r->open_i[j];
        const struct rc_item *it = &r->items[i];
        if (it->st == RC_I_MATCHED)
            continue;
        struct recon_ccy_total *t = &r->tot[it->ccy];
        int64_t days = age(r, it->date);
        int pay = it->kind == RECON_SIDE_PAYMENT;
        if (pay && (it->fl & RC_IF_RETURNED)) {
            s->returned_payments++;
            continue;
        }
        if (days <= r->o.grace_days) {
            if (pay) {
                s->pending_payments++;
                t->pending += it->amount;
            } else {
                s->pending_receipts++;
            }
            continue;
        }
        struct rc_exc x = rc_exc_blank(pay ? RECON_EXC_UNMATCHED_PAYMENT
                                           : RECON_EXC_OPEN_RECEIPT);
        x.item = i;
        x.expected = it->amount;
        x.days = days > INT32_MAX ? INT32_MAX : (int32_t)days;
        if (rc_add_exc(r, &x) < 0)
            return H2H_ENOMEM;
        if (pay) {
            s->unmatched_payments++;
            t->unmatched += it->amount;
        } else {
            s->open_receipts++;
            t->open += it->amount;
        }
    }
    return 0;
}

/* The entries still open (the list step 3 compacted; its own matches are
 * skipped). */
static int classify_entries(struct recon *r, struct recon_summary *s)
{
    for (uint32_t j = 0; j < r->n_open_e; j++) {
        uint32_t i = r->open_e[j];
        const struct rc_entry *e = &r->entries[i];
        if (e->st != RC_E_OPEN)
            continue;
        struct rc_exc x = rc_exc_blank(RECON_EXC_UNMATCHED_ENTRY);
        x.entry = i;
        x.booked = e->amount;
        if (e->link != RC_NONE) {
            x.other = e->link;
            x.score = e->best;
            x.rule = RECON_RULE_FUZZY;
            x.key = RECON_KEY_AMOUNT;
        }
        if (rc_add_exc(r, &x) < 0)
            return H2H_ENOMEM;
        s->unmatched_entries++;
        r->tot[e->ccy].unmatched_entries += e->amount;
    }
    return 0;
}

int rc_classify(struct recon *r, struct h2h_err *err)
{
    struct recon_summary *s = &r->sum;
    *s = r->acc;
    r->tot = malloc(((size_t)r->n_ccy + 1) * sizeof(*r->tot));
    if (!r->tot)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (r->n_ccy)
        memcpy(r->tot, r->acc_tot, r->n_ccy * sizeof(*r->tot));
    flag_returned(r);
    if (classify_items(r, s) < 0 || classify_entries(r, s) < 0 ||
        rc_rev_report(r) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < r->n_batches; k++)
        s->batches += !r->batches[k].mixed;
    for (uint32_t k = 0; k < r->n_x; k++)
        s->exceptions[r->x[k].kind]++;
    /* the writers list currencies by code; tot_ix maps back */
    qsort(r->tot, r->n_ccy, sizeof(*r->tot), tot_cmp);
    r->tot_ix = calloc((size_t)r->n_ccy + 1, sizeof(*r->tot_ix));
    if (!r->tot_ix)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < r->n_ccy; k++)
        for (uint32_t c = 0; c < r->n_ccy; c++)
            if (!strcmp(r->tot[k].ccy, r->ccy[c]))
                r->tot_ix[k] = (uint16_t)c;
    s->n_ccy = r->n_ccy;
    s->ccy = r->tot;
    rc_date_str(r->as_of, s->as_of);
    return rc_progress(r, "classify", 1, 1, err);
}
