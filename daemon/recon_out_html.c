/*
 * recon_out_html.c - the report a finance person reads: one page, no
 * script, no external asset (it is opened from a mail or a share, often
 * offline), counts and totals first, then each list of exceptions, every
 * text escaped (names and remittance come from third parties).  Long
 * lists are cut at html_max_rows; the CSV files hold all rows.
 */
#include <inttypes.h>
#include <stdio.h>

#include "recon_int.h"

static const char css[] =
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}"
    "h3{font-size:1.05em;margin-top:1.5em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
    "th{background:#eee}td.n{text-align:right;font-variant-numeric:"
    "tabular-nums;white-space:nowrap}"
    ".ok{color:#176b1f}.bad{color:#a31515;font-weight:bold}"
    "p.meta{color:#555}";

static void esc(FILE *f, const char *s)
{
    rc_xml_esc(f, s ? s : "");
}

static const char *S(const struct recon *r, rc_str s)
{
    return rc_s(&r->pool, s);
}

static void count_row(FILE *f, const char *label, uint64_t n, int bad)
{
    fprintf(f, "<tr><td>%s</td><td class=\"n%s\">%" PRIu64 "</td></tr>\n",
            label, bad && n ? " bad" : "", n);
}

static void counts(FILE *f, const struct recon_summary *s)
{
    const uint64_t *x = s->exceptions;
    fputs("<h2>Counts</h2>\n<table>\n", f);
    fputs("<tr><th colspan=\"2\">Payments</th></tr>\n", f);
    count_row(f, "Submitted", s->payments, 0);
    count_row(f, "Matched to bookings", s->matched_payments, 0);
    count_row(f, "Not booked after the grace period", s->unmatched_payments, 1);
    count_row(f, "Not booked yet, within the grace period", s->pending_payments,
              0);
    count_row(f, "Returned by the bank", s->returned_payments, 1);
    count_row(f, "Batches (booked as one entry)", s->batches, 0);
    fputs("<tr><th colspan=\"2\">Bank entries</th></tr>\n", f);
    count_row(f, "Entries", s->entries, 0);
    count_row(f, "Matched", s->matched_entries, 0);
    count_row(f, "Unknown (no payment or receipt found)", s->unmatched_entries,
              1);
    count_row(f, "Not booked (pending or information only)", s->not_booked, 0);
    fputs("<tr><th colspan=\"2\">Expected receipts</th></tr>\n", f);
    count_row(f, "Expected", s->receipts, 0);
    count_row(f, "Received", s->matched_receipts, 0);
    count_row(f, "Overdue", s->open_receipts, 1);
    count_row(f, "Not due yet", s->pending_receipts, 0);
    fputs("<tr><th colspan=\"2\">Matches by rule</th></tr>\n", f);
    count_row(f, "Exact key (EndToEndId, UETR, serial, bank reference)",
              s->by_rule[RECON_RULE_EXACT], 0);
    count_row(f, "Remittance reference", s->by_rule[RECON_RULE_REFERENCE], 0);
    count_row(f, "Amount, date and counterparty (scored)",
              s->by_rule[RECON_RULE_FUZZY], 0);
    fputs("<tr><th colspan=\"2\">Exceptions</th></tr>\n", f);
    count_row(f, "Amount differs", x[RECON_EXC_AMOUNT_MISMATCH], 1);
    count_row(f, "Booked outside the date window", x[RECON_EXC_DATE_MISMATCH],
              1);
    count_row(f, "Same booking delivered twice", x[RECON_EXC_DUPLICATE_ENTRY],
              1);
    count_row(f, "Payment booked twice", x[RECON_EXC_DUPLICATE_BOOKING], 1);
    count_row(f, "Payments sharing a reference", x[RECON_EXC_DUPLICATE_KEY], 1);
    count_row(f, "Reversals", x[RECON_EXC_REVERSAL], 1);
    count_row(f, "Returns", x[RECON_EXC_RETURN], 1);
    count_row(f, "Ambiguous (several equally good candidates)",
              x[RECON_EXC_AMBIGUOUS], 1);
    fputs("</table>\n", f);
}

static void money(FILE *f, const struct recon *r, int64_t v, uint16_t ccy)
{
    char b[40];
    fprintf(f, "<td class=\"n\">%s</td>", rc_amt(r, v, ccy, b));
}

static void totals(FILE *f, const struct recon *r)
{
    fputs("<h2>Totals per currency</h2>\n<table>\n<tr><th>Currency</th>"
          "<th>Submitted</th><th>Matched</th><th>Not booked</th>"
          "<th>Pending</th><th>Debits booked</th><th>Credits booked</th>"
          "<th>Unknown entries</th><th>Receipts expected</th>"
          "<th>Received</th><th>Overdue</th></tr>\n",
          f);
    for (size_t k = 0; k < r->sum.n_ccy; k++) {
        const struct recon_ccy_total *t = &r->sum.ccy[k];
        uint16_t c = r->tot_ix[k];
        fprintf(f, "<tr><td>%s</td>", t->ccy);
        money(f, r, t->submitted, c);
        money(f, r, t->matched, c);
        money(f, r, t->unmatched, c);
        money(f, r, t->pending, c);
        money(f, r, t->debits, c);
        money(f, r, t->credits, c);
        money(f, r, t->unmatched_entries, c);
        money(f, r, t->expected, c);
        money(f, r, t->received, c);
        money(f, r, t->open, c);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* ---- exception lists ---------------------------------------------------- */

struct list {
    const char *title;
    enum recon_output file;
    int kinds[3];
    const char *head;
};

static void td(FILE *f, const char *s)
{
    fputs("<td>", f);
    esc(f, s);
    fputs("</td>", f);
}

static void td_date(FILE *f, int32_t d)
{
    char b[11];
    rc_date_str(d, b);
    td(f, b);
}

static void row(FILE *f, const struct recon *r, const struct rc_exc *x)
{
    struct rc_unit_view v, o;
    rc_unit_view(r, x->item, &v);
    const struct rc_entry *e =
        x->entry != RC_NONE ? &r->entries[x->entry] : NULL;
    char fl[40];
    fputs("<tr>", f);
    switch (x->kind) {
    case RECON_EXC_UNMATCHED_PAYMENT:
    case RECON_EXC_OPEN_RECEIPT: {
        const struct rc_item *it = &r->items[x->item];
        td(f, S(r, it->id));
        td(f, S(r, it->cpty_name));
        money(f, r, it->amount, it->ccy);
        td(f, rc_ccy(r, it->ccy));
        td_date(f, it->date);
        fprintf(f, "<td class=\"n\">%" PRId32 "</td>", x->days);
        td(f, S(r, it->rmt_ref ? it->rmt_ref : it->rmt_text));
        break;
    }
    case RECON_EXC_UNMATCHED_ENTRY:
        rc_unit_view(r, x->other, &o);
        td(f, S(r, e->id));
        td(f, S(r, e->cpty_name));
        money(f, r, e->amount, e->ccy);
        td(f, rc_ccy(r, e->ccy));
        td(f, e->credit ? "credit" : "debit");
        td_date(f, e->book);
        td(f, S(r, e->rmt_ref ? e->rmt_ref : e->rmt_text));
        if (x->other != RC_NONE)
            snprintf(fl, sizeof(fl), " (score %d)", x->score);
        else
            fl[0] = '\0';
        fputs("<td>", f);
        esc(f, o.id);
        fputs(fl, f);
        fputs("</td>", f);
        break;
    case RECON_EXC_AMOUNT_MISMATCH:
    case RECON_EXC_DATE_MISMATCH:
        td(f, x->kind == RECON_EXC_AMOUNT_MISMATCH ? "amount" : "date");
        td(f, v.id);
        td(f, S(r, e->id));
        money(f, r, x->expected, v.ccy);
        money(f, r, x->booked, e->ccy);
        td(f, rc_ccy(r, v.ccy));
        td_date(f, v.date);
        td_date(f, e->book);
        td(f, recon_rule_name(x->rule));
        break;
    case RECON_EXC_DUPLICATE_KEY:
        rc_unit_view(r, x->other, &o);
        td(f, "payments sharing a key");
        td(f, v.id);
        td(f, o.id);
        money(f, r, v.amount, v.ccy);
        td(f, rc_ccy(r, v.ccy));
        td(f, recon_key_name(x->key));
        td(f, S(r, x->keyval));
        break;
    case RECON_EXC_DUPLICATE_ENTRY:
    case RECON_EXC_DUPLICATE_BOOKING:
        td(f, x->kind == RECON_EXC_DUPLICATE_ENTRY ? "entry delivered twice"
                                                   : "payment booked twice");
        td(f, S(r, e->id));
        td(f, S(r, r->entries[x->other].id));
        money(f, r, e->amount, e->ccy);
        td(f, rc_ccy(r, e->ccy));
        td(f, recon_key_name(x->key));
        td(f, x->kind == RECON_EXC_DUPLICATE_BOOKING ? v.id : S(r, x->keyval));
        break;
    case RECON_EXC_REVERSAL:
    case RECON_EXC_RETURN:
        td(f, x->kind == RECON_EXC_REVERSAL ? "reversal" : "return");
        td(f, S(r, e->id));
        td(f, x->other != RC_NONE ? S(r, r->entries[x->other].id) : "");
        td(f, v.id);
        money(f, r, e->amount, e->ccy);
        td(f, rc_ccy(r, e->ccy));
        td_date(f, e->book);
        td(f, S(r, e->rtr_rsn));
        break;
    case RECON_EXC_AMBIGUOUS:
        td(f, S(r, e->id));
        td(f, v.id);
        money(f, r, e->amount, e->ccy);
        td(f, rc_ccy(r, e->ccy));
        td_date(f, e->book);
        td_date(f, v.date);
        td(f, recon_rule_name(x->rule));
        fprintf(f, "<td class=\"n\">%d</td>", x->score);
        break;
    }
    fputs("</tr>\n", f);
}

static const struct list lists[] = {
    {"Payments not booked",
     RECON_OUT_UNMATCHED_PAYMENTS,
     {RECON_EXC_UNMATCHED_PAYMENT, -1, -1},
     "Payment</th><th>Creditor</th><th>Amount</th><th>Currency</th>"
     "<th>Execution date</th><th>Days open</th><th>Remittance"},
    {"Unknown bank entries",
     RECON_OUT_UNMATCHED_ENTRIES,
     {RECON_EXC_UNMATCHED_ENTRY, -1, -1},
     "Entry</th><th>Counterparty</th><th>Amount</th><th>Currency</th>"
     "<th>Direction</th><th>Booked</th><th>Remittance</th>"
     "<th>Closest candidate"},
    {"Amount and date differences",
     RECON_OUT_MISMATCHES,
     {RECON_EXC_AMOUNT_MISMATCH, RECON_EXC_DATE_MISMATCH, -1},
     "Difference</th><th>Payment</th><th>Entry</th><th>Expected</th>"
     "<th>Booked</th><th>Currency</th><th>Date</th><th>Booked on</th>"
     "<th>Matched by"},
    {"Duplicates",
     RECON_OUT_DUPLICATES,
     {RECON_EXC_DUPLICATE_ENTRY, RECON_EXC_DUPLICATE_BOOKING,
      RECON_EXC_DUPLICATE_KEY},
     "What</th><th>Item</th><th>Same as</th><th>Amount</th>"
     "<th>Currency</th><th>Key</th><th>Value or payment"},
    {"Reversals and returns",
     RECON_OUT_REVERSALS,
     {RECON_EXC_REVERSAL, RECON_EXC_RETURN, -1},
     "What</th><th>Entry</th><th>Reverses</th><th>Payment</th>"
     "<th>Amount</th><th>Currency</th><th>Booked</th><th>Reason"},
    {"Ambiguous",
     RECON_OUT_AMBIGUOUS,
     {RECON_EXC_AMBIGUOUS, -1, -1},
     "Entry</th><th>Candidate</th><th>Amount</th><th>Currency</th>"
     "<th>Booked</th><th>Candidate date</th><th>Rule</th><th>Score"},
    {"Overdue expected receipts",
     RECON_OUT_OPEN_RECEIPTS,
     {RECON_EXC_OPEN_RECEIPT, -1, -1},
     "Reference</th><th>Payer</th><th>Amount</th><th>Currency</th>"
     "<th>Due</th><th>Days overdue</th><th>Remittance"},
};

static int in_list(const struct list *l, int kind)
{
    return l->kinds[0] == kind || l->kinds[1] == kind || l->kinds[2] == kind;
}

static void exceptions(FILE *f, const struct recon *r)
{
    fputs("<h2>Exceptions</h2>\n", f);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        const struct list *l = &lists[i];
        uint64_t n = 0, shown = 0;
        for (int k = 0; k < 3; k++)
            if (l->kinds[k] >= 0)
                n += r->sum.exceptions[l->kinds[k]];
        fprintf(f, "<h3>%s: %" PRIu64 "</h3>\n", l->title, n);
        if (!n) {
            fputs("<p class=\"ok\">None.</p>\n", f);
            continue;
        }
        fprintf(f, "<table>\n<tr><th>%s</th></tr>\n", l->head);
        for (uint32_t k = 0; k < r->n_x && shown < r->o.html_max_rows; k++) {
            if (!in_list(l, r->x[k].kind))
                continue;
            row(f, r, &r->x[k]);
            shown++;
        }
        fputs("</table>\n", f);
        if (shown < n)
            fprintf(f,
                    "<p>The first %" PRIu64 " of %" PRIu64
                    " are shown; %s has all of them.</p>\n",
                    shown, n, recon_output_name(l->file));
    }
}

int recon_write_html(const struct recon *r, const char *title, FILE *out,
                     struct h2h_err *err)
{
    if (r->ran != 1)
        return h2h_err_set(err, H2H_ESTATE, "reconcile: not run");
    const struct recon_summary *s = &r->sum;
    if (!title)
        title = "Reconciliation";
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\">\n<title>",
          out);
    esc(out, title);
    fprintf(out, " %s</title>\n<style>%s</style>\n</head>\n<body>\n<h1>",
            s->as_of, css);
    esc(out, title);
    fputs("</h1>\n", out);
    fprintf(out,
            "<p class=\"meta\">As of <b>%s</b>; bookings are looked for "
            "within %d days of the execution date; a payment is reported "
            "as not booked %d days after it; amount-and-name matches need "
            "a score of %d of 100.</p>\n",
            s->as_of[0] ? s->as_of : "-", r->o.window_days, r->o.grace_days,
            r->o.threshold);
    counts(out, s);
    totals(out, r);
    exceptions(out, r);
    fputs("</body>\n</html>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return h2h_err_set(err, H2H_EIO, "write failed");
    return 0;
}
