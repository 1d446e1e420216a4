/*
 * recon.h - the reconciliation engine: what h2hd submitted (payments) and
 * what treasury expects to receive (expected receipts) against what the
 * banks booked (statement entries).  Pure code: no event loop, no store, no
 * daemon; the caller feeds it (from the store and the delivered
 * statements) and decides what to do with the result (move matched
 * payments to `booked`, log the summary, write the reports into the
 * channel's reconcile folder).
 *
 * Lifecycle:
 *
 *     struct recon_opts o;  recon_opts_init(&o);  o.window_days = 2; ...
 *     struct recon *r = recon_new(&o, &err);
 *     recon_add_payment(r, &p, &err) ...        (any order, any number)
 *     recon_add_entry(r, &e, &err) ...
 *     recon_add_expected(r, &x, &err) ...       (or recon_read_expected_*)
 *     recon_run(r, &err);                       (once)
 *     recon_summary(r, &s);  recon_write_dir(r, dir, &err);  ...
 *     recon_free(r);
 *
 * Adding after recon_run(), running twice, or reading results before it is
 * H2H_ESTATE.
 *
 * Ownership: every string of an input struct is copied into the engine
 * (sanitised: an invalid UTF-8 byte becomes '?', a control character other
 * than tab and line feed a blank), so the caller's structs are only
 * borrowed for the call.  Strings in result views (struct recon_pair,
 * struct recon_exception, struct recon_summary) belong to the engine and
 * live until recon_free().  Writers do not own the FILE * they get.
 *
 * Errors: 0 or a negative code with err filled (may be NULL):
 * H2H_EINVALID for an input that breaks a rule below (missing id, unknown
 * currency, bad date, negative amount), H2H_ETOOBIG for a string over
 * RECON_MAX_STR bytes or more than RECON_MAX_ROWS rows, H2H_ENOMEM,
 * H2H_ECANCELED when the progress callback asked to stop, H2H_EIO or
 * -errno from writers.
 *
 * Threads: no globals (the XML reader calls fmt_xml_init()); one engine is
 * used by one thread at a time.  A long run belongs on a worker thread.
 *
 * ---- Matching (recon_run), in this order ----------------------------------
 *
 * 0. Preparation.  Entries whose status is not BOOK (PDNG, INFO) are left
 *    out ("not booked").  Two entries with the same account, direction,
 *    amount, currency, booking date and the same strongest reference
 *    (AcctSvcrRef, else EndToEndId, UETR, customer reference, bank
 *    reference; with no reference at all: the same entry id) are the same
 *    booking delivered twice: the later one is a duplicate (duplicate_entry)
 *    and takes no further part.  Entries with the reversal indicator are
 *    reversals, never bookings (step 5).  Payments with the same batch id
 *    form a batch (booked as one entry for their sum); a batch whose
 *    payments differ in currency is treated as separate payments.
 *
 * 1. Exact keys, in this priority: EndToEndId (the entry's, or when it has
 *    none its customer reference, where MT940 carries it), UETR, customer
 *    serial (entry InstrId / customer reference), bank reference (entry
 *    bank reference or AcctSvcrRef), batch id (entry Btch/PmtInfId
 *    against a batch).  Keys compare ignoring blanks and ASCII case;
 *    "NOTPROVIDED" is no key.  The first kind that finds a payment decides.
 *    When one key value belongs to several payments (duplicate_key is
 *    reported), the one with equal amount, then the nearest date, wins; a
 *    tie is ambiguous.  A debit entry found this way is a booking of the
 *    payment (rule "exact"); when the payment belongs to a batch and the
 *    entry's amount equals the batch sum, it is the booking of the whole
 *    batch (flag batch).  A credit entry found this way is a return of the
 *    payment (step 5), never a booking.
 *
 * 2. Remittance reference (rule "reference"), for what is still open.
 *    Reference-like tokens are taken from the structured reference (whole)
 *    and the unstructured text of both sides (and the EndToEndId of
 *    entries, where payers often put the invoice number): a token is
 *    split at blanks and , ; : ( ) [ ] { } " ' # and normalised to upper
 *    case letters and digits (so "inv-2026/0042" is INV20260042); it needs
 *    at least 5 characters and one digit, and dates (2026-03-31,
 *    31.03.2026) do not count; an "RFnn" creditor reference written in
 *    groups of four is joined back.  A token carried by more than
 *    RECON_REF_MAX_HITS open payments or receipts is noise and ignored.
 *    Candidates must have the entry's currency and direction (debit:
 *    payments, credit: expected receipts) and a compatible account (equal
 *    after normalisation, or unknown on one side).  Equal amount first;
 *    among several, the nearest date; a tie is ambiguous.  A single
 *    candidate with a different amount is matched and reported as an
 *    amount mismatch (a partial payment of an invoice).
 *
 * 3. Amount, currency, date window, counterparty (rule "fuzzy"): only
 *    payments, receipts and batches with exactly the entry's amount and
 *    currency, the same direction, a compatible account and a date within
 *    +/- window_days of the booking date are candidates (a hash index on
 *    (direction, currency, amount), each bucket sorted by date: never all
 *    pairs).  Score, an integer 0..100:
 *
 *        score = round(60 N + 30 A + 10 D)
 *
 *    N  counterparty name similarity in [0, 1]: both names upper-cased,
 *       Latin-1 accents folded, punctuation dropped and legal forms (GMBH,
 *       AG, LTD, INC, SA, ...) removed; N = max(Jaccard index of the two
 *       token sets, 1 - Levenshtein distance / longer length) over the
 *       first 64 bytes.  0 when a name is missing.  For a batch, N is
 *       the entry's details count against the batch size: 1 equal, 0.5
 *       unknown, 0 different.
 *    A  counterparty account: 1 equal (normalised), 0 unknown on a side,
 *       -1 different.  For a batch: the debtor account against the
 *       statement account.
 *    D  date nearness: 1 - |booking date - item date| / (window_days + 1).
 *
 *    Pairs with score >= threshold are assigned from the highest score
 *    down, independent of input order.  At one score, an entry with two
 *    open candidates (or a candidate wanted by two entries) is a tie: no
 *    match, and every tied pair is reported as ambiguous (both sides then
 *    stay out of lower scores).  An entry with candidates all below the
 *    threshold stays unmatched; its best candidate and score are reported
 *    with it.
 *
 * 4. Several entries for one payment or receipt (found by key or
 *    reference): when their amounts add up to the payment's, it is a split
 *    booking (flag split, one match of several rows); otherwise the first
 *    entry with the exact amount is the booking and every other one is a
 *    duplicate_booking; when none has the exact amount they are taken as a
 *    split that does not add up (amount mismatch).
 *
 * 5. Reversals and returns.  A reversal entry is linked to the entry it
 *    reverses (opposite direction, same amount, currency and account,
 *    booked no later, sharing a reference; without a shared reference the
 *    latest such entry) and reported with that entry's payment; the
 *    original's match gets flag reversed.  A credit found by a payment's
 *    key (or carrying a return reason) is a return: reported with the
 *    payment, which gets flag returned (and counts as returned, not as
 *    unmatched, when it was never booked).
 *
 * 6. Exceptions.  A match whose amounts (or currencies) differ is an
 *    amount_mismatch; a payment's match by key or reference booked more
 *    than window_days away from the execution date is a date_mismatch
 *    (both stay matched; a receipt paid early or late is no break).  A payment
 * still open more than grace_days after its execution date (as of `as_of`) is
 * an unmatched_payment, younger ones are pending; an expected receipt open more
 * than grace_days after its due date is an open_receipt, younger ones are
 * pending.  Every open booked entry is an unmatched_entry.
 *
 * Every match records why: rule, key kind, key value (the token for
 * references) and score (100 for exact and reference).
 *
 * Scale: built for millions of rows per side - flat rows, strings in one
 * arena, hash indexes and (currency, amount) buckets, no pass that pairs
 * everything with everything.  tests/bench/bench_recon.c measures 100k
 * and 1M payments x entries (time growth, peak RSS).
 *
 * ---- Outputs --------------------------------------------------------------
 *
 * CSV (RFC 4180, UTF-8, CRLF, header row; amounts as plain decimals with
 * the currency's decimals; dates YYYY-MM-DD).  A text cell starting with
 * = + - @ gets a leading ' so that a spreadsheet never runs it as a
 * formula; numeric columns never do.  Files and columns:
 *
 *   matched.csv   group,rule,key,key_value,score,side,item_id,batch_id,
 *                 entry_id,account,item_amount,entry_amount,currency,
 *                 entry_currency,item_date,book_date,counterparty,flags
 *                 (one row per payment/receipt x entry pair; rows of one
 *                 match share `group`; side payment|receipt; flags are
 *                 blank separated: split batch amount_mismatch
 *                 date_mismatch reversed returned)
 *   unmatched_payments.csv  payment_id,bank,account,end_to_end_id,uetr,
 *                 serial,bank_ref,amount,currency,exec_date,days_open,
 *                 counterparty,counterparty_account,remittance,batch_id,
 *                 state
 *   unmatched_entries.csv   entry_id,account,direction,amount,currency,
 *                 book_date,value_date,acct_svcr_ref,end_to_end_id,uetr,
 *                 customer_ref,bank_ref,counterparty,counterparty_account,
 *                 remittance,best_candidate,best_score
 *   mismatches.csv  kind,group,rule,key,key_value,item_id,entry_id,
 *                 expected_amount,booked_amount,difference,currency,
 *                 item_date,book_date,days_off   (kind amount|date)
 *   duplicates.csv  kind,id,duplicate_of,payment_id,key,key_value,amount,
 *                 currency,date   (kind duplicate_entry: entry id / the
 *                 first entry; duplicate_booking: entry id / the entry
 *                 matched to the payment; duplicate_key: payment id / the
 *                 other payment with the key)
 *   reversals.csv   kind,entry_id,original_entry_id,payment_id,amount,
 *                 currency,direction,book_date,key,key_value,return_reason
 *                 (kind reversal|return)
 *   ambiguous.csv   entry_id,candidate_id,side,rule,key,key_value,score,
 *                 entry_amount,candidate_amount,currency,book_date,
 *                 candidate_date   (one row per tied pair; side
 *                 payment|receipt|batch, a batch named by its id)
 *   open_receipts.csv  reference,payer,amount,currency,due_date,
 *                 days_overdue,account
 *
 * HTML (report.html): one self-contained page (inline CSS, no script, no
 * external asset, every text escaped): parameters, counts, totals per
 * currency, then each exception list (at most html_max_rows rows each,
 * with a pointer to the CSV for the rest).
 *
 * XML (result.xml), namespace RECON_NS; tests/fixtures/recon/recon.xsd is
 * its schema:
 *
 *   <ReconResult xmlns="urn:h2hd:recon:1">
 *     <Parameters AsOf="2026-03-31" WindowDays="3" GraceDays="5"
 *                 Threshold="60"/>
 *     <Summary Payments=".." Entries=".." Receipts=".." Batches=".."
 *              MatchedPayments=".." MatchedEntries=".." MatchedReceipts=".."
 *              Exact=".." Reference=".." Fuzzy=".."
 *              UnmatchedPayments=".." PendingPayments=".."
 *              ReturnedPayments=".." UnmatchedEntries=".."
 *              OpenReceipts=".." PendingReceipts=".."
 *              AmountMismatches=".." DateMismatches=".."
 *              Duplicates=".." Reversals=".." Returns=".."
 *              Ambiguous=".." NotBooked=".."/>
 *     <Total Ccy="EUR" Submitted="." Matched="." Unmatched="." Pending="."
 *            Debits="." Credits="." UnmatchedEntries="." Expected="."
 *            Received="." Open="."/>*            (amounts, decimals)
 *     <Matches>
 *       <Match Group="0" Rule="exact" Key="EndToEndId" Value="E2E-1"
 *              Score="100" Flags="split">       (Value, Flags optional)
 *         <Payment Id=".." Amt="12.00" Ccy="EUR" Date="2026-03-02"
 *                  Batch=".." Cpty=".."/>*      (Batch, Cpty optional)
 *         <Receipt Ref=".." Amt=".." Ccy=".." DueDt=".." Payer=".."/>*
 *         <Entry Id=".." Amt=".." Ccy=".." Dir="DBIT" BookDt=".."
 *                ValDt=".."/>+                 (ValDt optional)
 *       </Match>*
 *     </Matches>
 *     <Exceptions>
 *       <Exception Kind="unmatched_payment" Rule=".." Key=".." Value=".."
 *                  Score=".." Group=".." Expected=".." Booked=".."
 *                  Difference=".." Ccy=".." Days=".." Reason="..">
 *                                                (all but Kind optional)
 *         <Payment .../>? <Receipt .../>? <Batch Id Amt Ccy Date Count/>?
 *         <Entry .../>*
 *       </Exception>*                   (children carry Role= for the
 *     </Exceptions>                      second party: duplicate_of,
 *   </ReconResult>                       original, candidate, best)
 *
 * The exceptions come in the order the run found them (step 0 to 6); a
 * Batch child stands for a whole batch (ambiguous candidate, mismatch of
 * a batch booking, its reversal).
 *
 * ---- Expected receipts (treasury's open invoices) -------------------------
 *
 * CSV: a header row naming the columns (any order, case and surrounding
 * blanks ignored, separator ',' or ';' as in formats/CSV.md):
 *   reference (required)  invoice number or creditor reference
 *   payer (required)      who is expected to pay
 *   amount (required)     decimal, the currency's decimals at most
 *   currency (required)   ISO 4217
 *   due_date (required)   YYYY-MM-DD
 *   account               our account the money should arrive on
 * XML (same namespace; tests/fixtures/recon/ has samples of both):
 *   <ExpectedReceipts xmlns="urn:h2hd:recon:1">
 *     <Receipt><Ref>INV-1</Ref><Payer>Acme</Payer>
 *       <Amt Ccy="EUR">10.00</Amt><DueDt>2026-03-31</DueDt>
 *       <Acct>DE89..</Acct>?</Receipt>*
 *   </ExpectedReceipts>
 * A row or element with a problem goes into diag (line, column or element,
 * rule recon.*) and is skipped, the rest is read; diag NULL makes the
 * first problem fatal (H2H_EPARSE / H2H_EINVALID).
 */
#ifndef H2H_RECON_H
#define H2H_RECON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

#define RECON_NS "urn:h2hd:recon:1"
#define RECON_MAX_STR (64u * 1024u)        /* bytes per input string */
#define RECON_MAX_ROWS (UINT32_C(1) << 30) /* per side, fewer than */
#define RECON_REF_MAX_HITS 8

/* ---- input --------------------------------------------------------------- */

/* One payment h2hd submitted.  NULL or "" means absent. */
struct recon_payment {
    const char *id;      /* required: h2hd message id + tx index, "M1/3" */
    const char *bank;    /* bank name from the config */
    const char *account; /* debtor account (IBAN or other) */
    const char *end_to_end_id;
    const char *uetr;
    const char *serial;       /* customer serial (direct-connect banks) */
    const char *bank_ref;     /* the bank's reference for it, when known */
    int64_t amount;           /* minor units of ccy, >= 0 */
    const char *ccy;          /* required, ISO 4217 */
    const char *exec_date;    /* required, requested execution date */
    const char *cpty_name;    /* creditor */
    const char *cpty_account; /* creditor account */
    const char *rmt_text;     /* unstructured remittance */
    const char *rmt_ref;      /* structured creditor reference */
    const char *batch_id;     /* batch booked as one entry (payroll, a
                                 PmtInf with BtchBookg), else NULL */
    const char *state;        /* store state, carried to the reports */
};

/* One statement entry the bank booked. */
struct recon_entry {
    const char *id;         /* required: statement id + entry ref, unique */
    const char *account;    /* the statement's account */
    const char *book_date;  /* required */
    const char *value_date; /* optional */
    int64_t amount;         /* minor units, >= 0 */
    const char *ccy;        /* required */
    int credit;             /* 1 CRDT, 0 DBIT */
    int reversal;           /* RvslInd */
    const char *status;     /* BOOK (also when NULL), PDNG, INFO */
    const char *acct_svcr_ref;
    const char *end_to_end_id;
    const char *uetr;
    const char *cust_ref;      /* InstrId / MT940 reference for the owner */
    const char *bank_ref;      /* the bank's transaction reference */
    const char *batch_ref;     /* Btch/PmtInfId (or MsgId) of a batch entry */
    const char *return_reason; /* RtrInf/Rsn/Cd */
    const char *cpty_name;     /* the other side */
    const char *cpty_account;
    const char *rmt_text;
    const char *rmt_ref;
    unsigned n_details; /* TxDtls / Btch NbOfTxs; 0 unknown */
};

/* One receipt treasury expects (an open invoice). */
struct recon_expected {
    const char *reference; /* required */
    const char *payer;
    int64_t amount;       /* minor units, >= 0 */
    const char *ccy;      /* required */
    const char *due_date; /* required */
    const char *account;  /* optional: our receiving account */
};

/* Called every `progress_every` items of a phase and at its end; phase is
 * "prepare", "keys", "reference", "fuzzy", "classify".
 * Return non-zero to stop the run (H2H_ECANCELED). */
typedef int (*recon_progress_cb)(void *ctx, const char *phase, uint64_t done,
                                 uint64_t total);

struct recon_opts {
    int window_days;      /* +/- days around execution / due date (3) */
    int grace_days;       /* days before an open payment is reported (5) */
    int threshold;        /* fuzzy score needed, 1..100 (60) */
    int max_candidates;   /* fuzzy candidates looked at per entry (64) */
    const char *as_of;    /* YYYY-MM-DD; NULL: the latest booking date */
    size_t html_max_rows; /* rows per exception list in HTML (1000) */
    recon_progress_cb progress;
    void *progress_ctx;
    uint64_t progress_every; /* (100000) */
};

void recon_opts_init(struct recon_opts *o);

struct recon;

/* A new engine (options copied; as_of checked).  NULL with err filled. */
struct recon *recon_new(const struct recon_opts *o, struct h2h_err *err);
void recon_free(struct recon *r);

int recon_add_payment(struct recon *r, const struct recon_payment *p,
                      struct h2h_err *err);
int recon_add_entry(struct recon *r, const struct recon_entry *e,
                    struct h2h_err *err);
int recon_add_expected(struct recon *r, const struct recon_expected *x,
                       struct h2h_err *err);

/* Expected receipts from a CSV or XML file or buffer (see above).  0 when
 * read (look at diag->n), negative on a fatal error. */
int recon_read_expected_csv(struct recon *r, const struct fmt_src *src,
                            struct fmt_diag *diag, struct h2h_err *err);
int recon_read_expected_xml(struct recon *r, const struct fmt_src *src,
                            struct fmt_diag *diag, struct h2h_err *err);

/* Match everything added; once. */
int recon_run(struct recon *r, struct h2h_err *err);

/* ---- results ------------------------------------------------------------- */

enum recon_rule {
    RECON_RULE_NONE = 0,
    RECON_RULE_EXACT,
    RECON_RULE_REFERENCE,
    RECON_RULE_FUZZY,
    RECON_RULE_COUNT
};

enum recon_key {
    RECON_KEY_NONE = 0,
    RECON_KEY_E2E,        /* EndToEndId */
    RECON_KEY_UETR,       /* UETR */
    RECON_KEY_SERIAL,     /* customer serial / InstrId */
    RECON_KEY_BANK_REF,   /* bank reference / AcctSvcrRef */
    RECON_KEY_BATCH,      /* batch id / Btch PmtInfId */
    RECON_KEY_REMITTANCE, /* a remittance reference token */
    RECON_KEY_AMOUNT,     /* amount + currency + date + counterparty */
    RECON_KEY_ENTRY,      /* entry fingerprint (duplicates, reversals) */
    RECON_KEY_COUNT
};

enum recon_exc_kind {
    RECON_EXC_UNMATCHED_PAYMENT = 0,
    RECON_EXC_UNMATCHED_ENTRY,
    RECON_EXC_OPEN_RECEIPT,
    RECON_EXC_AMOUNT_MISMATCH,
    RECON_EXC_DATE_MISMATCH,
    RECON_EXC_DUPLICATE_ENTRY,
    RECON_EXC_DUPLICATE_BOOKING,
    RECON_EXC_DUPLICATE_KEY,
    RECON_EXC_REVERSAL,
    RECON_EXC_RETURN,
    RECON_EXC_AMBIGUOUS,
    RECON_EXC_COUNT
};

enum recon_side { RECON_SIDE_PAYMENT = 0, RECON_SIDE_RECEIPT = 1 };

/* Flags of a match (struct recon_pair.flags). */
enum {
    RECON_F_SPLIT = 1, /* several entries for one payment/receipt */
    RECON_F_BATCH = 2, /* one entry for a batch of payments */
    RECON_F_AMOUNT_MISMATCH = 4,
    RECON_F_DATE_MISMATCH = 8,
    RECON_F_REVERSED = 16, /* an entry of the match was reversed */
    RECON_F_RETURNED = 32, /* a payment of the match came back */
};

/* "exact", "reference", "fuzzy" ("" for NONE). */
const char *recon_rule_name(enum recon_rule rule);
/* "EndToEndId", "UETR", "Serial", "BankRef", "Batch", "Remittance",
 * "Amount", "Entry" ("" for NONE). */
const char *recon_key_name(enum recon_key key);
/* "unmatched_payment", ... (the CSV / XML kind names). */
const char *recon_exc_name(enum recon_exc_kind kind);

/* One payment/receipt x entry pair of a match (a row of matched.csv). */
struct recon_pair {
    size_t group; /* pairs of one match are consecutive, same group */
    enum recon_rule rule;
    enum recon_key key;
    const char *key_value; /* "" when none */
    int score;             /* 0..100 */
    unsigned flags;        /* RECON_F_* of the whole match */
    enum recon_side side;
    const char *item_id; /* payment id or receipt reference */
    const char *batch_id;
    const char *entry_id;
    int64_t item_amount, entry_amount;
    const char *item_ccy, *entry_ccy;
    char item_date[11], book_date[11];
};

struct recon_exception {
    enum recon_exc_kind kind;
    enum recon_rule rule;
    enum recon_key key;
    const char *key_value;    /* "" when none */
    int score;                /* ambiguous: the tied score; unmatched entry:
                                 best candidate's score; else 0 */
    enum recon_side side;     /* of item_id / other_id when they name one */
    const char *item_id;      /* payment / receipt concerned, "" when none */
    const char *entry_id;     /* entry concerned, "" when none */
    const char *other_id;     /* duplicate_of / original / candidate, "" */
    int64_t expected, booked; /* amounts (mismatch: totals of the match) */
    const char *ccy;
    int days; /* days open / overdue / off the window */
};

size_t recon_pair_count(const struct recon *r);
/* 0, or H2H_ESTATE before recon_run, H2H_ENOTFOUND for i out of range. */
int recon_pair_get(const struct recon *r, size_t i, struct recon_pair *out);
size_t recon_exception_count(const struct recon *r);
int recon_exception_get(const struct recon *r, size_t i,
                        struct recon_exception *out);

/* Totals of one currency, in its minor units. */
struct recon_ccy_total {
    char ccy[4];
    int64_t submitted, matched, unmatched, pending; /* payments */
    int64_t debits, credits, unmatched_entries;     /* booked entries */
    int64_t expected, received, open;               /* receipts */
};

struct recon_summary {
    char as_of[11];
    uint64_t payments, entries, receipts, batches;
    uint64_t matched_payments, matched_entries, matched_receipts;
    uint64_t by_rule[RECON_RULE_COUNT]; /* matches (groups) per rule */
    uint64_t unmatched_payments, pending_payments, returned_payments;
    uint64_t unmatched_entries, open_receipts, pending_receipts;
    uint64_t not_booked; /* entries left out: status PDNG / INFO */
    uint64_t exceptions[RECON_EXC_COUNT];
    size_t n_ccy;
    const struct recon_ccy_total *ccy; /* sorted by code; owned by r */
};

/* Fill s (zeroed before recon_run). */
void recon_summary(const struct recon *r, struct recon_summary *s);
/* The summary as logfmt pairs ("payments=10 matched_payments=9 ..."),
 * for the log and `h2hctl reconcile --last`.  Returns the length
 * snprintf would have written. */
int recon_summary_logfmt(const struct recon_summary *s, char *buf,
                         size_t bufsz);

/* ---- writers ------------------------------------------------------------- */

enum recon_output {
    RECON_OUT_MATCHED = 0,
    RECON_OUT_UNMATCHED_PAYMENTS,
    RECON_OUT_UNMATCHED_ENTRIES,
    RECON_OUT_MISMATCHES,
    RECON_OUT_DUPLICATES,
    RECON_OUT_REVERSALS,
    RECON_OUT_AMBIGUOUS,
    RECON_OUT_OPEN_RECEIPTS,
    RECON_OUT_HTML,
    RECON_OUT_XML,
    RECON_OUT_COUNT
};

/* The file name recon_write_dir() uses ("matched.csv", "report.html"). */
const char *recon_output_name(enum recon_output what);

/* Write one output to out (flushed, not closed).  The CSV writer takes the
 * CSV outputs only (H2H_EINVALID otherwise). */
int recon_write_csv(const struct recon *r, enum recon_output what, FILE *out,
                    struct h2h_err *err);
/* title NULL: "Reconciliation". */
int recon_write_html(const struct recon *r, const char *title, FILE *out,
                     struct h2h_err *err);
int recon_write_xml(const struct recon *r, FILE *out, struct h2h_err *err);

/* Write one output to path (created or truncated, mode 0640, fsync'd).
 * The file is written in place: a caller that publishes it where others
 * pick files up writes to a temporary name and moves it (fsutil.h). */
int recon_write_path(const struct recon *r, enum recon_output what,
                     const char *path, struct h2h_err *err);
/* Every output into dir (which must exist) under recon_output_name(). */
int recon_write_dir(const struct recon *r, const char *dir,
                    struct h2h_err *err);

#endif
