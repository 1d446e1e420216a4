/*
 * recon_out_xml.c - the canonical XML result of recon.h (namespace
 * urn:h2hd:recon:1; tests/fixtures/recon/recon.xsd).  Written with stdio as
 * it goes, no DOM: a million matches stay a flat stream.  Text in the
 * engine is already sanitised to what XML 1.0 carries, so escaping the
 * five markup characters (and tab / line feed in attributes) is enough.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "recon_int.h"

static void attr(FILE *f, const char *name, const char *v)
{
    if (!v || !*v)
        return;
    fprintf(f, " %s=\"", name);
    rc_xml_esc(f, v);
    putc('"', f);
}

static void attr_amt(FILE *f, const struct recon *r, const char *name,
                     int64_t v, uint16_t ccy)
{
    char b[40];
    attr(f, name, rc_amt(r, v, ccy, b));
}

static void attr_date(FILE *f, const char *name, int32_t d)
{
    char b[11];
    rc_date_str(d, b);
    attr(f, name, b);
}

static const char *S(const struct recon *r, rc_str s)
{
    return rc_s(&r->pool, s);
}

static void item(FILE *f, const struct recon *r, uint32_t u, const char *role)
{
    if (u == RC_NONE)
        return;
    if (rc_unit_is_batch(r->n_items, u)) {
        const struct rc_batch *b = &r->batches[u - r->n_items];
        fputs("<Batch", f);
        attr(f, "Id", S(r, b->id));
        attr_amt(f, r, "Amt", b->sum, b->ccy);
        attr(f, "Ccy", rc_ccy(r, b->ccy));
        attr_date(f, "Date", b->date);
        fprintf(f, " Count=\"%" PRIu32 "\"", b->count);
        attr(f, "Role", role);
        fputs("/>", f);
        return;
    }
    const struct rc_item *it = &r->items[u];
    if (it->kind == RECON_SIDE_RECEIPT) {
        fputs("<Receipt", f);
        attr(f, "Ref", S(r, it->id));
        attr_amt(f, r, "Amt", it->amount, it->ccy);
        attr(f, "Ccy", rc_ccy(r, it->ccy));
        attr_date(f, "DueDt", it->date);
        attr(f, "Payer", S(r, it->cpty_name));
    } else {
        fputs("<Payment", f);
        attr(f, "Id", S(r, it->id));
        attr_amt(f, r, "Amt", it->amount, it->ccy);
        attr(f, "Ccy", rc_ccy(r, it->ccy));
        attr_date(f, "Date", it->date);
        attr(f, "Batch", S(r, it->batch_id));
        attr(f, "Cpty", S(r, it->cpty_name));
    }
    attr(f, "Role", role);
    fputs("/>", f);
}

static void entry(FILE *f, const struct recon *r, uint32_t i, const char *role)
{
    if (i == RC_NONE)
        return;
    const struct rc_entry *e = &r->entries[i];
    fputs("<Entry", f);
    attr(f, "Id", S(r, e->id));
    attr_amt(f, r, "Amt", e->amount, e->ccy);
    attr(f, "Ccy", rc_ccy(r, e->ccy));
    attr(f, "Dir", e->credit ? "CRDT" : "DBIT");
    attr_date(f, "BookDt", e->book);
    attr_date(f, "ValDt", e->value);
    if (e->reversal)
        fputs(" Rvsl=\"true\"", f);
    attr(f, "Role", role);
    fputs("/>", f);
}

static void summary(FILE *f, const struct recon *r)
{
    const struct recon_summary *s = &r->sum;
    const uint64_t *x = s->exceptions;
    fputs("<Parameters", f);
    attr(f, "AsOf", s->as_of);
    fprintf(f, " WindowDays=\"%d\" GraceDays=\"%d\" Threshold=\"%d\"/>\n",
            r->o.window_days, r->o.grace_days, r->o.threshold);
    fprintf(f,
            "<Summary Payments=\"%" PRIu64 "\" Entries=\"%" PRIu64
            "\" Receipts=\"%" PRIu64 "\" Batches=\"%" PRIu64
            "\" MatchedPayments=\"%" PRIu64 "\" MatchedEntries=\"%" PRIu64
            "\" MatchedReceipts=\"%" PRIu64 "\" Exact=\"%" PRIu64
            "\" Reference=\"%" PRIu64 "\" Fuzzy=\"%" PRIu64
            "\" UnmatchedPayments=\"%" PRIu64 "\" PendingPayments=\"%" PRIu64
            "\" ReturnedPayments=\"%" PRIu64 "\" UnmatchedEntries=\"%" PRIu64
            "\" OpenReceipts=\"%" PRIu64 "\" PendingReceipts=\"%" PRIu64
            "\" AmountMismatches=\"%" PRIu64 "\" DateMismatches=\"%" PRIu64
            "\" Duplicates=\"%" PRIu64 "\" Reversals=\"%" PRIu64
            "\" Returns=\"%" PRIu64 "\" Ambiguous=\"%" PRIu64
            "\" NotBooked=\"%" PRIu64 "\"/>\n",
            s->payments, s->entries, s->receipts, s->batches,
            s->matched_payments, s->matched_entries, s->matched_receipts,
            s->by_rule[RECON_RULE_EXACT], s->by_rule[RECON_RULE_REFERENCE],
            s->by_rule[RECON_RULE_FUZZY], s->unmatched_payments,
            s->pending_payments, s->returned_payments, s->unmatched_entries,
            s->open_receipts, s->pending_receipts, x[RECON_EXC_AMOUNT_MISMATCH],
            x[RECON_EXC_DATE_MISMATCH],
            x[RECON_EXC_DUPLICATE_ENTRY] + x[RECON_EXC_DUPLICATE_BOOKING] +
                x[RECON_EXC_DUPLICATE_KEY],
            x[RECON_EXC_REVERSAL], x[RECON_EXC_RETURN], x[RECON_EXC_AMBIGUOUS],
            s->not_booked);
    for (size_t k = 0; k < s->n_ccy; k++) {
        const struct recon_ccy_total *t = &s->ccy[k];
        uint16_t c = r->tot_ix[k];
        fputs("<Total", f);
        attr(f, "Ccy", t->ccy);
        attr_amt(f, r, "Submitted", t->submitted, c);
        attr_amt(f, r, "Matched", t->matched, c);
        attr_amt(f, r, "Unmatched", t->unmatched, c);
        attr_amt(f, r, "Pending", t->pending, c);
        attr_amt(f, r, "Debits", t->debits, c);
        attr_amt(f, r, "Credits", t->credits, c);
        attr_amt(f, r, "UnmatchedEntries", t->unmatched_entries, c);
        attr_amt(f, r, "Expected", t->expected, c);
        attr_amt(f, r, "Received", t->received, c);
        attr_amt(f, r, "Open", t->open, c);
        fputs("/>\n", f);
    }
}

static void matches(FILE *f, const struct recon *r)
{
    fputs("<Matches>\n", f);
    for (uint32_t g = 0; g < r->n_groups; g++) {
        uint32_t a = r->group_first[g];
        uint32_t b = g + 1 < r->n_groups ? r->group_first[g + 1] : r->n_m;
        const struct rc_match *m = &r->m[a];
        int one_item = b - a == 1 || r->m[a + 1].item == m->item;
        char fl[96];
        fprintf(f, "<Match Group=\"%" PRIu32 "\"", g);
        attr(f, "Rule", recon_rule_name(m->rule));
        attr(f, "Key", recon_key_name(m->key));
        attr(f, "Value", S(r, m->keyval));
        fprintf(f, " Score=\"%u\"", m->score);
        attr(f, "Flags", rc_flags_str(m->flags, fl));
        fputs(">", f);
        for (uint32_t k = a; k < b; k++)
            if (!one_item || k == a)
                item(f, r, r->m[k].item, NULL);
        for (uint32_t k = a; k < b; k++)
            if (one_item || k == a)
                entry(f, r, r->m[k].entry, NULL);
        fputs("</Match>\n", f);
    }
    fputs("</Matches>\n", f);
}

static const char *role_of(int kind)
{
    switch (kind) {
    case RECON_EXC_DUPLICATE_ENTRY:
    case RECON_EXC_DUPLICATE_BOOKING:
    case RECON_EXC_DUPLICATE_KEY: return "duplicate_of";
    case RECON_EXC_REVERSAL: return "original";
    case RECON_EXC_UNMATCHED_ENTRY: return "best";
    default: return NULL;
    }
}

static void exception(FILE *f, const struct recon *r, const struct rc_exc *x)
{
    struct rc_unit_view v;
    rc_unit_view(r, x->item, &v);
    uint16_t ccy = x->entry != RC_NONE ? r->entries[x->entry].ccy : v.ccy;
    int has_ccy = x->entry != RC_NONE || x->item != RC_NONE;
    fputs("<Exception", f);
    attr(f, "Kind", recon_exc_name(x->kind));
    attr(f, "Rule", recon_rule_name(x->rule));
    attr(f, "Key", recon_key_name(x->key));
    attr(f, "Value", S(r, x->keyval));
    if (x->rule || x->kind == RECON_EXC_AMBIGUOUS)
        fprintf(f, " Score=\"%u\"", x->score);
    if (x->kind == RECON_EXC_AMOUNT_MISMATCH ||
        x->kind == RECON_EXC_DATE_MISMATCH) {
        fprintf(f, " Group=\"%" PRIu32 "\"", x->other);
        attr_amt(f, r, "Expected", x->expected, v.ccy);
        attr_amt(f, r, "Booked", x->booked, ccy);
        if (ccy == v.ccy)
            attr_amt(f, r, "Difference", x->booked - x->expected, ccy);
    }
    if (has_ccy)
        attr(f, "Ccy", rc_ccy(r, ccy));
    if (x->kind == RECON_EXC_UNMATCHED_PAYMENT ||
        x->kind == RECON_EXC_OPEN_RECEIPT || x->kind == RECON_EXC_DATE_MISMATCH)
        fprintf(f, " Days=\"%" PRId32 "\"", x->days);
    if (x->entry != RC_NONE)
        attr(f, "Reason", S(r, r->entries[x->entry].rtr_rsn));
    fputs(">", f);
    item(f, r, x->item, x->kind == RECON_EXC_AMBIGUOUS ? "candidate" : NULL);
    entry(f, r, x->entry, NULL);
    switch (x->kind) {
    case RECON_EXC_DUPLICATE_ENTRY:
    case RECON_EXC_DUPLICATE_BOOKING:
    case RECON_EXC_REVERSAL: entry(f, r, x->other, role_of(x->kind)); break;
    case RECON_EXC_DUPLICATE_KEY:
    case RECON_EXC_UNMATCHED_ENTRY:
        item(f, r, x->other, role_of(x->kind));
        break;
    default: break;
    }
    fputs("</Exception>\n", f);
}

int recon_write_xml(const struct recon *r, FILE *out, struct h2h_err *err)
{
    if (r->ran != 1)
        return h2h_err_set(err, H2H_ESTATE, "reconcile: not run");
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<ReconResult xmlns=\"" RECON_NS "\">\n",
          out);
    summary(out, r);
    matches(out, r);
    fputs("<Exceptions>\n", out);
    for (uint32_t k = 0; k < r->n_x; k++)
        exception(out, r, &r->x[k]);
    fputs("</Exceptions>\n</ReconResult>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return h2h_err_set(err, H2H_EIO, "write failed");
    return 0;
}
