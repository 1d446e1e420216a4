/*
 * recon_out_csv.c - the CSV outputs of recon.h: RFC 4180, CRLF, a header
 * row, one file per list.  Text cells that a spreadsheet would take for a
 * formula (= + - @ first) get a leading ' (CSV injection: statement
 * remittance text is written by third parties); numeric cells are ours
 * and never need it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "recon_int.h"

struct csv {
    FILE *f;
    int col;
};

static void cell(struct csv *w, const char *s, int text)
{
    if (w->col++)
        putc(',', w->f);
    if (!s)
        return;
    int guard = text && (*s == '=' || *s == '+' || *s == '-' || *s == '@');
    int quote = strpbrk(s, ",\"\r\n") != NULL ||
                (*s && (s[0] == ' ' || s[strlen(s) - 1] == ' '));
    if (!quote && !guard) {
        fputs(s, w->f);
        return;
    }
    if (quote)
        putc('"', w->f);
    if (guard)
        putc('\'', w->f);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', w->f);
        putc(*s, w->f);
    }
    if (quote)
        putc('"', w->f);
}

static void text(struct csv *w, const char *s)
{
    cell(w, s, 1);
}

static void num(struct csv *w, const char *s)
{
    cell(w, s, 0);
}

static void inum(struct csv *w, int64_t v)
{
    char b[24];
    snprintf(b, sizeof(b), "%" PRId64, v);
    cell(w, b, 0);
}

static void date(struct csv *w, int32_t d)
{
    char b[11];
    rc_date_str(d, b);
    cell(w, b, 0);
}

static void amt(struct csv *w, const struct recon *r, int64_t v, uint16_t c)
{
    char b[40];
    cell(w, rc_amt(r, v, c, b), 0);
}

static void end(struct csv *w)
{
    fputs("\r\n", w->f);
    w->col = 0;
}

static void header(struct csv *w, const char *cols)
{
    fputs(cols, w->f);
    fputs("\r\n", w->f);
}

static const char *S(const struct recon *r, rc_str s)
{
    return rc_s(&r->pool, s);
}

static const char *side_name(int side)
{
    return side == RECON_SIDE_RECEIPT ? "receipt" : "payment";
}

static void matched(const struct recon *r, struct csv *w)
{
    header(w, "group,rule,key,key_value,score,side,item_id,batch_id,"
              "entry_id,account,item_amount,entry_amount,currency,"
              "entry_currency,item_date,book_date,counterparty,flags");
    for (uint32_t i = 0; i < r->n_m; i++) {
        const struct rc_match *m = &r->m[i];
        const struct rc_item *it = &r->items[m->item];
        const struct rc_entry *e = &r->entries[m->entry];
        char fl[96];
        inum(w, it->group);
        num(w, recon_rule_name(m->rule));
        num(w, recon_key_name(m->key));
        text(w, S(r, m->keyval));
        inum(w, m->score);
        num(w, side_name(it->kind));
        text(w, S(r, it->id));
        text(w, S(r, it->batch_id));
        text(w, S(r, e->id));
        text(w, S(r, e->account));
        amt(w, r, it->amount, it->ccy);
        amt(w, r, e->amount, e->ccy);
        num(w, rc_ccy(r, it->ccy));
        num(w, rc_ccy(r, e->ccy));
        date(w, it->date);
        date(w, e->book);
        text(w, S(r, it->cpty_name));
        num(w, rc_flags_str(m->flags, fl));
        end(w);
    }
}

static void unmatched_payments(const struct recon *r, struct csv *w)
{
    header(w, "payment_id,bank,account,end_to_end_id,uetr,serial,bank_ref,"
              "amount,currency,exec_date,days_open,counterparty,"
              "counterparty_account,remittance,batch_id,state");
    for (uint32_t k = 0; k < r->n_x; k++) {
        const struct rc_exc *x = &r->x[k];
        if (x->kind != RECON_EXC_UNMATCHED_PAYMENT)
            continue;
        const struct rc_item *it = &r->items[x->item];
        text(w, S(r, it->id));
        text(w, S(r, it->bank));
        text(w, S(r, it->account));
        text(w, S(r, it->e2e));
        text(w, S(r, it->uetr));
        text(w, S(r, it->serial));
        text(w, S(r, it->bank_ref));
        amt(w, r, it->amount, it->ccy);
        num(w, rc_ccy(r, it->ccy));
        date(w, it->date);
        inum(w, x->days);
        text(w, S(r, it->cpty_name));
        text(w, S(r, it->cpty_acct));
        text(w, it->rmt_ref ? S(r, it->rmt_ref) : S(r, it->rmt_text));
        text(w, S(r, it->batch_id));
        text(w, S(r, it->state));
        end(w);
    }
}

static void unmatched_entries(const struct recon *r, struct csv *w)
{
    header(w, "entry_id,account,direction,amount,currency,book_date,"
              "value_date,acct_svcr_ref,end_to_end_id,uetr,customer_ref,"
              "bank_ref,counterparty,counterparty_account,remittance,"
              "best_candidate,best_score");
    for (uint32_t k = 0; k < r->n_x; k++) {
        const struct rc_exc *x = &r->x[k];
        if (x->kind != RECON_EXC_UNMATCHED_ENTRY)
            continue;
        const struct rc_entry *e = &r->entries[x->entry];
        struct rc_unit_view v;
        rc_unit_view(r, x->other, &v);
        text(w, S(r, e->id));
        text(w, S(r, e->account));
        num(w, e->credit ? "CRDT" : "DBIT");
        amt(w, r, e->amount, e->ccy);
        num(w, rc_ccy(r, e->ccy));
        date(w, e->book);
        date(w, e->value);
        text(w, S(r, e->acct_svcr_ref));
        text(w, S(r, e->e2e));
        text(w, S(r, e->uetr));
        text(w, S(r, e->cust_ref));
        text(w, S(r, e->bank_ref));
        text(w, S(r, e->cpty_name));
        text(w, S(r, e->cpty_acct));
        text(w, e->rmt_ref ? S(r, e->rmt_ref) : S(r, e->rmt_text));
        text(w, v.id);
        if (x->other != RC_NONE)
            inum(w, x->score);
        else
            num(w, "");
        end(w);
    }
}

static void mismatches(const struct recon *r, struct csv *w)
{
    header(w, "kind,group,rule,key,key_value,item_id,entry_id,"
              "expected_amount,booked_amount,difference,currency,item_date,"
              "book_date,days_off");
    for (uint32_t k = 0; k < r->n_x; k++) {
        const struct rc_exc *x = &r->x[k];
        if (x->kind != RECON_EXC_AMOUNT_MISMATCH &&
            x->kind != RECON_EXC_DATE_MISMATCH)
            continue;
        const struct rc_entry *e = &r->entries[x->entry];
        struct rc_unit_view v;
        rc_unit_view(r, x->item, &v);
        num(w, x->kind == RECON_EXC_AMOUNT_MISMATCH ? "amount" : "date");
        inum(w, x->other);
        num(w, recon_rule_name(x->rule));
        num(w, recon_key_name(x->key));
        text(w, S(r, x->keyval));
        text(w, v.id);
        text(w, S(r, e->id));
        amt(w, r, x->expected, v.ccy);
        amt(w, r, x->booked, e->ccy);
        if (v.ccy == e->ccy)
            amt(w, r, x->booked - x->expected, v.ccy);
        else
            num(w, "");
        num(w, rc_ccy(r, v.ccy));
        date(w, v.date);
        date(w, e->book);
        inum(w, (int64_t)e->book - v.date);
        end(w);
    }
}

static void duplicates(const struct recon *r, struct csv *w)
{
    header(w, "kind,id,duplicate_of,payment_id,key,key_value,amount,"
              "currency,date");
    for (uint32_t k = 0; k < r->n_x; k++) {
        const struct rc_exc *x = &r->x[k];
        struct rc_unit_view v, o;
        if (x->kind == RECON_EXC_DUPLICATE_KEY) {
            rc_unit_view(r, x->item, &v);
            rc_unit_view(r, x->other, &o);
            num(w, recon_exc_name(x->kind));
            text(w, v.id);
            text(w, o.id);
            text(w, v.id);
            num(w, recon_key_name(x->key));
            text(w, S(r, x->keyval));
            amt(w, r, v.amount, v.ccy);
            num(w, rc_ccy(r, v.ccy));
            date(w, v.date);
            end(w);
            continue;
        }
        if (x->kind != RECON_EXC_DUPLICATE_ENTRY &&
            x->kind != RECON_EXC_DUPLICATE_BOOKING)
            continue;
        const struct rc_entry *e = &r->entries[x->entry];
        rc_unit_view(r, x->item, &v);
        num(w, recon_exc_name(x->kind));
        text(w, S(r, e->id));
        text(w, S(r, r->entries[x->other].id));
        text(w, v.id);
        num(w, recon_key_name(x->key));
        text(w, S(r, x->keyval));
        amt(w, r, e->amount, e->ccy);
        num(w, rc_ccy(r, e->ccy));
        date(w, e->book);
        end(w);
    }
}

static void reversals(const struct recon *r, struct csv *w)
{
    header(w, "kind,entry_id,original_entry_id,payment_id,amount,currency,"
              "direction,book_date,key,key_value,return_reason");
    for (uint32_t k = 0; k < r->n_x; k++) {
        const struct rc_exc *x = &r->x[k];
        if (x->kind != RECON_EXC_REVERSAL && x->kind != RECON_EXC_RETURN)
            continue;
        const struct rc_entry *e = &r->entries[x->entry];
        struct rc_unit_view v;
        rc_unit_view(r, x->item, &v);
        num(w, recon_exc_name(x->kind));
        text(w, S(r, e->id));
        text(w, x->other != RC_NONE ? S(r, r->entries[x->other].id) : "");
        text(w, v.id);
        amt(w, r, e->amount, e->ccy);
        num(w, rc_ccy(r, e->ccy));
        num(w, e->credit ? "CRDT" : "DBIT");
        date(w, e->book);
        num(w, recon_key_name(x->key));
        text(w, S(r, x->keyval));
        text(w, S(r, e->rtr_rsn));
        end(w);
    }
}

static void ambiguous(const struct recon *r, struct csv *w)
{
    header(w, "entry_id,candidate_id,side,rule,key,key_value,score,"
              "entry_amount,candidate_amount,currency,book_date,"
              "candidate_date");
    for (uint32_t k = 0; k < r->n_x; k++) {
        const struct rc_exc *x = &r->x[k];
        if (x->kind != RECON_EXC_AMBIGUOUS)
            continue;
        const struct rc_entry *e = &r->entries[x->entry];
        struct rc_unit_view v;
        rc_unit_view(r, x->item, &v);
        text(w, S(r, e->id));
        text(w, v.id);
        num(w, v.is_batch ? "batch" : side_name(v.side));
        num(w, recon_rule_name(x->rule));
        num(w, recon_key_name(x->key));
        text(w, S(r, x->keyval));
        inum(w, x->score);
        amt(w, r, e->amount, e->ccy);
        amt(w, r, v.amount, v.ccy);
        num(w, rc_ccy(r, e->ccy));
        date(w, e->book);
        date(w, v.date);
        end(w);
    }
}

static void open_receipts(const struct recon *r, struct csv *w)
{
    header(w, "reference,payer,amount,currency,due_date,days_overdue,"
              "account");
    for (uint32_t k = 0; k < r->n_x; k++) {
        const struct rc_exc *x = &r->x[k];
        if (x->kind != RECON_EXC_OPEN_RECEIPT)
            continue;
        const struct rc_item *it = &r->items[x->item];
        text(w, S(r, it->id));
        text(w, S(r, it->cpty_name));
        amt(w, r, it->amount, it->ccy);
        num(w, rc_ccy(r, it->ccy));
        date(w, it->date);
        inum(w, x->days);
        text(w, S(r, it->account));
        end(w);
    }
}

int recon_write_csv(const struct recon *r, enum recon_output what, FILE *out,
                    struct h2h_err *err)
{
    if (r->ran != 1)
        return h2h_err_set(err, H2H_ESTATE, "reconcile: not run");
    struct csv w = {.f = out};
    switch (what) {
    case RECON_OUT_MATCHED: matched(r, &w); break;
    case RECON_OUT_UNMATCHED_PAYMENTS: unmatched_payments(r, &w); break;
    case RECON_OUT_UNMATCHED_ENTRIES: unmatched_entries(r, &w); break;
    case RECON_OUT_MISMATCHES: mismatches(r, &w); break;
    case RECON_OUT_DUPLICATES: duplicates(r, &w); break;
    case RECON_OUT_REVERSALS: reversals(r, &w); break;
    case RECON_OUT_AMBIGUOUS: ambiguous(r, &w); break;
    case RECON_OUT_OPEN_RECEIPTS: open_receipts(r, &w); break;
    default:
        return h2h_err_set(err, H2H_EINVALID, "%s is not a CSV output",
                           recon_output_name(what));
    }
    if (fflush(out) != 0 || ferror(out))
        return h2h_err_set(err, H2H_EIO, "write failed");
    return 0;
}
