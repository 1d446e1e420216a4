/*
 * test_recon.c - the reconciliation engine (daemon/recon.h).
 *
 * Matching is table-driven: each case lists payments, entries and
 * expected receipts, and exactly the pairs (item, entry, rule, key, flags)
 * and the exceptions (kind, item, entry, other) the run must produce -
 * nothing more.  Cases marked order_free are run a second time with every
 * input list reversed and must give the same result (fuzzy assignment and
 * claim resolution do not depend on input order).  Every case's XML result
 * is validated against tests/fixtures/recon/recon.xsd with libxml2.
 *
 * Outputs are checked by content: matched.csv is parsed back (quoting and
 * the formula guard included), the HTML shows the totals and escapes a
 * name with <&>, the expected-receipt readers take the fixtures and report
 * bad rows with their lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "recon.h"
#include "testutil.h"

#define ACCT "DE89370400440532013000"
#define DAY "2026-03-02"
#define AS_OF "2026-03-20"

/* ---- the table ---------------------------------------------------------- */

struct want_pair {
    const char *item, *entry; /* NULL item ends the list */
    enum recon_rule rule;
    enum recon_key key;
    unsigned flags;
    const char *keyval; /* NULL: not checked */
    int score;          /* 0: not checked */
};

struct want_exc {
    int set;
    enum recon_exc_kind kind;
    const char *item, *entry, *other; /* NULL: "" */
};

#define X(k, i, e, o)                                                          \
    {                                                                          \
        1, RECON_EXC_##k, i, e, o                                              \
    }

struct tcase {
    const char *name;
    const char *as_of; /* NULL: AS_OF */
    int order_free;
    struct recon_payment pay[6];
    struct recon_entry ent[6];
    struct recon_expected rcv[4];
    struct want_pair pairs[6];
    struct want_exc exc[8];
};

static const struct tcase cases[] = {
    {
        .name = "exact EndToEndId (case and blanks ignored)",
        .order_free = 1,
        .pay = {{.id = "P1", .end_to_end_id = "E2E-1", .amount = 10000},
                {.id = "P2", .end_to_end_id = "E2E-2", .amount = 20000}},
        .ent = {{.id = "S1/1", .end_to_end_id = " e2e-1", .amount = 10000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E, 0, "E2E-1",
                   100}},
        .exc = {X(UNMATCHED_PAYMENT, "P2", NULL, NULL)},
    },
    {
        .name = "exact UETR",
        .order_free = 1,
        .pay = {{.id = "P1",
                 .end_to_end_id = "NOTPROVIDED",
                 .uetr = "9f1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                 .amount = 10000}},
        .ent = {{.id = "S1/1",
                 .end_to_end_id = "NOTPROVIDED",
                 .uetr = "9F1B2C3D-4E5F-4A6B-8C7D-0E1F2A3B4C5D",
                 .amount = 10000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_UETR, 0, NULL}},
    },
    {
        .name = "exact customer serial (InstrId)",
        .pay = {{.id = "P1", .serial = "SN-0001", .amount = 10000}},
        .ent = {{.id = "S1/1", .cust_ref = "SN-0001", .amount = 10000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_SERIAL, 0,
                   "SN-0001"}},
    },
    {
        .name = "exact bank reference (AcctSvcrRef)",
        .pay = {{.id = "P1", .bank_ref = "BR-77", .amount = 10000}},
        .ent = {{.id = "S1/1", .acct_svcr_ref = "BR-77", .amount = 10000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_BANK_REF, 0,
                   "BR-77"}},
    },
    {
        .name = "exact EndToEndId in the MT940 customer reference",
        .pay = {{.id = "P1", .end_to_end_id = "E2E-9", .amount = 10000}},
        .ent = {{.id = "S1/1", .cust_ref = "E2E-9", .amount = 10000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E, 0, "E2E-9"}},
    },
    {
        .name = "reference: structured RF creditor reference",
        .order_free = 1,
        .pay = {{.id = "P1",
                 .rmt_ref = "RF18 5390 0754 7034",
                 .cpty_name = "Initech",
                 .amount = 25000}},
        .ent = {{.id = "S1/1",
                 .rmt_text = "Zahlung RF18 5390 0754 7034 danke",
                 .cpty_name = "Someone Else",
                 .amount = 25000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_REFERENCE, RECON_KEY_REMITTANCE, 0,
                   "RF18539007547034", 100}},
    },
    {
        .name = "reference: invoice number in free text; a date is none",
        .order_free = 1,
        .pay = {{.id = "P1",
                 .rmt_text = "Invoice INV-2026/0042 March",
                 .cpty_name = "Initech",
                 .amount = 31415},
                {.id = "P2",
                 .rmt_text = "Rent 2026-03-01",
                 .cpty_name = "Landlord A",
                 .amount = 5000}},
        .ent = {{.id = "S1/1",
                 .rmt_text = "payment for inv2026-0042",
                 .amount = 31415},
                {.id = "S1/2",
                 .rmt_text = "2026-03-01",
                 .cpty_name = "Zeta",
                 .amount = 5000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_REFERENCE, RECON_KEY_REMITTANCE, 0,
                   "INV20260042"}},
        .exc = {X(UNMATCHED_PAYMENT, "P2", NULL, NULL),
                X(UNMATCHED_ENTRY, NULL, "S1/2", "P2")},
    },
    {
        .name = "fuzzy: name, account and date scored",
        .order_free = 1,
        .pay = {{.id = "P1",
                 .amount = 123456,
                 .cpty_name = "Acme Trading GmbH",
                 .cpty_account = "DE44 5001 0517 5407 3249 31"},
                {.id = "P2",
                 .amount = 123456,
                 .cpty_name = "Acme Trading GmbH",
                 .exec_date = "2026-03-20"}},
        .ent = {{.id = "S1/1",
                 .amount = 123456,
                 .book_date = "2026-03-03",
                 .cpty_name = "ACME TRADING",
                 .cpty_account = "DE44500105175407324931"}},
        /* 60 * 1 + 30 * 1 + 10 * (1 - 1/4) = 97.5 */
        .pairs = {{"P1", "S1/1", RECON_RULE_FUZZY, RECON_KEY_AMOUNT, 0, "",
                   98}},
    },
    {
        .name = "fuzzy: below the threshold is not matched",
        .order_free = 1,
        .pay = {{.id = "P1", .amount = 77700, .cpty_name = "Acme Trading"}},
        .ent = {{.id = "S1/1",
                 .amount = 77700,
                 .cpty_name = "Globex Corporation"}},
        .exc = {X(UNMATCHED_PAYMENT, "P1", NULL, NULL),
                X(UNMATCHED_ENTRY, NULL, "S1/1", "P1")},
    },
    {
        .name = "fuzzy: a tie is ambiguous, not matched",
        .as_of = "2026-03-04",
        .order_free = 1,
        .pay = {{.id = "P1", .amount = 50000, .cpty_name = "Acme"},
                {.id = "P2", .amount = 50000, .cpty_name = "ACME"}},
        .ent = {{.id = "S1/1", .amount = 50000, .cpty_name = "Acme"}},
        .exc = {X(AMBIGUOUS, "P1", "S1/1", NULL),
                X(AMBIGUOUS, "P2", "S1/1", NULL)},
    },
    {
        .name = "fuzzy: two entries wanting one payment are both ambiguous",
        .as_of = "2026-03-04",
        .order_free = 1,
        .pay = {{.id = "P1", .amount = 60000, .cpty_name = "Acme"}},
        .ent = {{.id = "S1/1", .amount = 60000, .cpty_name = "Acme"},
                {.id = "S2/1", .amount = 60000, .cpty_name = "Acme"}},
        .exc = {X(AMBIGUOUS, "P1", "S1/1", NULL),
                X(AMBIGUOUS, "P1", "S2/1", NULL)},
    },
    {
        .name = "split: two entries for one payment (many-to-one)",
        .order_free = 1,
        .pay = {{.id = "P1", .end_to_end_id = "E2E-S", .amount = 100000}},
        .ent = {{.id = "S1/1", .end_to_end_id = "E2E-S", .amount = 60000},
                {.id = "S1/2", .end_to_end_id = "E2E-S", .amount = 40000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E, RECON_F_SPLIT,
                   "E2E-S"},
                  {"P1", "S1/2", RECON_RULE_EXACT, RECON_KEY_E2E, RECON_F_SPLIT,
                   "E2E-S"}},
    },
    {
        .name = "batch: payroll booked as one entry, by batch id",
        .order_free = 1,
        .pay = {{.id = "P1",
                 .batch_id = "PAYROLL-03",
                 .amount = 100000,
                 .cpty_name = "Ann"},
                {.id = "P2",
                 .batch_id = "PAYROLL-03",
                 .amount = 200000,
                 .cpty_name = "Bob"},
                {.id = "P3",
                 .batch_id = "PAYROLL-03",
                 .amount = 300000,
                 .cpty_name = "Cy"}},
        .ent = {{.id = "S1/1",
                 .batch_ref = "PAYROLL-03",
                 .n_details = 3,
                 .amount = 600000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_BATCH,
                   RECON_F_BATCH, "PAYROLL-03"},
                  {"P2", "S1/1", RECON_RULE_EXACT, RECON_KEY_BATCH,
                   RECON_F_BATCH, "PAYROLL-03"},
                  {"P3", "S1/1", RECON_RULE_EXACT, RECON_KEY_BATCH,
                   RECON_F_BATCH, "PAYROLL-03"}},
    },
    {
        .name = "batch: found by a member's key, booked for the sum",
        .pay = {{.id = "P1",
                 .batch_id = "B7",
                 .end_to_end_id = "SAL-1",
                 .amount = 100000},
                {.id = "P2",
                 .batch_id = "B7",
                 .end_to_end_id = "SAL-2",
                 .amount = 200000}},
        .ent = {{.id = "S1/1", .end_to_end_id = "SAL-2", .amount = 300000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E, RECON_F_BATCH,
                   "SAL-2"},
                  {"P2", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E, RECON_F_BATCH,
                   "SAL-2"}},
    },
    {
        .name = "batch: by amount, size and account (scored)",
        .order_free = 1,
        .pay = {{.id = "P1", .batch_id = "B8", .amount = 100000},
                {.id = "P2", .batch_id = "B8", .amount = 250000}},
        .ent = {{.id = "S1/1", .n_details = 2, .amount = 350000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_FUZZY, RECON_KEY_AMOUNT,
                   RECON_F_BATCH, "", 100},
                  {"P2", "S1/1", RECON_RULE_FUZZY, RECON_KEY_AMOUNT,
                   RECON_F_BATCH, "", 100}},
    },
    {
        .name = "duplicates: entry twice, booked twice, key twice",
        .pay = {{.id = "P1", .end_to_end_id = "E2E-D1", .amount = 10000},
                {.id = "P2", .end_to_end_id = "E2E-D2", .amount = 20000},
                {.id = "P3", .end_to_end_id = "E2E-DK", .amount = 30000},
                {.id = "P4", .end_to_end_id = "E2E-DK", .amount = 40000}},
        .ent = {{.id = "S1/1",
                 .end_to_end_id = "E2E-D1",
                 .acct_svcr_ref = "AS-1",
                 .amount = 10000},
                {.id = "S2/1",
                 .end_to_end_id = "E2E-D1",
                 .acct_svcr_ref = "AS-1",
                 .amount = 10000},
                {.id = "S1/3",
                 .end_to_end_id = "E2E-D2",
                 .acct_svcr_ref = "AS-3",
                 .amount = 20000},
                {.id = "S1/4",
                 .end_to_end_id = "E2E-D2",
                 .acct_svcr_ref = "AS-4",
                 .amount = 20000,
                 .book_date = "2026-03-03"},
                {.id = "S1/5", .end_to_end_id = "E2E-DK", .amount = 40000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E, 0, NULL},
                  {"P2", "S1/3", RECON_RULE_EXACT, RECON_KEY_E2E, 0, NULL},
                  {"P4", "S1/5", RECON_RULE_EXACT, RECON_KEY_E2E, 0, NULL}},
        .exc = {X(DUPLICATE_ENTRY, NULL, "S2/1", "S1/1"),
                X(DUPLICATE_BOOKING, "P2", "S1/4", "S1/3"),
                X(DUPLICATE_KEY, "P4", NULL, "P3"),
                X(UNMATCHED_PAYMENT, "P3", NULL, NULL)},
    },
    {
        /* a payroll's items all carry the batch's bank reference: equal
         * salaries are still two bookings, told apart by the serials */
        .name = "duplicates: same bank reference, different serials",
        .pay = {{.id = "P1", .serial = "PFX-M1-1", .amount = 850000},
                {.id = "P2", .serial = "PFX-M1-2", .amount = 850000}},
        .ent = {{.id = "S1/1",
                 .acct_svcr_ref = "BATCH-9",
                 .cust_ref = "PFX-M1-1",
                 .amount = 850000},
                {.id = "S1/2",
                 .acct_svcr_ref = "BATCH-9",
                 .cust_ref = "PFX-M1-2",
                 .amount = 850000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_SERIAL, 0,
                   "PFX-M1-1"},
                  {"P2", "S1/2", RECON_RULE_EXACT, RECON_KEY_SERIAL, 0,
                   "PFX-M1-2"}},
    },
    {
        .name = "reversals: by shared reference and by amount",
        .order_free = 1,
        .pay = {{.id = "P1", .end_to_end_id = "E2E-R", .amount = 50000},
                {.id = "P2", .end_to_end_id = "E2E-R2", .amount = 60000}},
        .ent = {{.id = "S1/1",
                 .end_to_end_id = "E2E-R",
                 .acct_svcr_ref = "AS-R1",
                 .amount = 50000},
                {.id = "S2/1",
                 .credit = 1,
                 .reversal = 1,
                 .acct_svcr_ref = "AS-R1",
                 .amount = 50000,
                 .book_date = "2026-03-04"},
                {.id = "S1/2",
                 .end_to_end_id = "E2E-R2",
                 .acct_svcr_ref = "AS-9",
                 .amount = 60000},
                {.id = "S3/1",
                 .credit = 1,
                 .reversal = 1,
                 .amount = 60000,
                 .book_date = "2026-03-05"}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E,
                   RECON_F_REVERSED, NULL},
                  {"P2", "S1/2", RECON_RULE_EXACT, RECON_KEY_E2E,
                   RECON_F_REVERSED, NULL}},
        .exc = {X(REVERSAL, "P1", "S2/1", "S1/1"),
                X(REVERSAL, "P2", "S3/1", "S1/2")},
    },
    {
        .name = "returns: a credit with our EndToEndId is no booking",
        .order_free = 1,
        .pay = {{.id = "P1", .end_to_end_id = "E2E-T", .amount = 70000},
                {.id = "P2", .end_to_end_id = "E2E-U", .amount = 30000}},
        .ent = {{.id = "S1/1", .end_to_end_id = "E2E-T", .amount = 70000},
                {.id = "S1/2",
                 .credit = 1,
                 .end_to_end_id = "E2E-T",
                 .return_reason = "AC04",
                 .amount = 70000,
                 .book_date = "2026-03-05"},
                {.id = "S1/3",
                 .credit = 1,
                 .end_to_end_id = "E2E-U",
                 .return_reason = "AC01",
                 .amount = 30000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E,
                   RECON_F_RETURNED, NULL}},
        .exc = {X(RETURN, "P1", "S1/2", NULL), X(RETURN, "P2", "S1/3", NULL)},
    },
    {
        .name = "amount mismatch: matched by key, reported",
        .pay = {{.id = "P1", .end_to_end_id = "E2E-A", .amount = 10000}},
        .ent = {{.id = "S1/1", .end_to_end_id = "E2E-A", .amount = 9950}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E,
                   RECON_F_AMOUNT_MISMATCH, NULL}},
        .exc = {X(AMOUNT_MISMATCH, "P1", "S1/1", NULL)},
    },
    {
        .name = "date mismatch: booked outside the window",
        .pay = {{.id = "P1", .end_to_end_id = "E2E-W", .amount = 10000}},
        .ent = {{.id = "S1/1",
                 .end_to_end_id = "E2E-W",
                 .amount = 10000,
                 .book_date = "2026-03-12"}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E,
                   RECON_F_DATE_MISMATCH, NULL}},
        .exc = {X(DATE_MISMATCH, "P1", "S1/1", NULL)},
    },
    {
        .name = "unmatched both sides; grace period",
        .order_free = 1,
        .pay = {{.id = "P1",
                 .amount = 11100,
                 .exec_date = "2026-03-01",
                 .cpty_name = "Old"},
                {.id = "P2",
                 .amount = 22200,
                 .exec_date = "2026-03-18",
                 .cpty_name = "Young"}},
        .ent = {{.id = "S1/1", .amount = 99999, .cpty_name = "Nobody"}},
        .exc = {X(UNMATCHED_PAYMENT, "P1", NULL, NULL),
                X(UNMATCHED_ENTRY, NULL, "S1/1", NULL)},
    },
    {
        .name = "expected receipts by reference to incoming credits",
        .order_free = 1,
        .pay = {{.id = "P1", .amount = 125000, .exec_date = "2026-03-19"}},
        .rcv = {{.reference = "INV-2026-0042",
                 .payer = "Acme Trading GmbH",
                 .amount = 125000,
                 .due_date = "2026-03-10"},
                {.reference = "INV-2026-0099",
                 .payer = "Late Payer",
                 .amount = 5000,
                 .due_date = "2026-03-01"},
                {.reference = "INV-77777",
                 .payer = "Partial Ltd",
                 .amount = 50000,
                 .due_date = "2026-03-15"}},
        .ent = {{.id = "S1/1",
                 .credit = 1,
                 .rmt_text = "Rechnung INV-2026-0042",
                 .amount = 125000,
                 .book_date = "2026-03-09"},
                {.id = "S1/2",
                 .credit = 1,
                 .rmt_ref = "INV-77777",
                 .amount = 20000,
                 .book_date = "2026-03-16"}},
        .pairs = {{"INV-2026-0042", "S1/1", RECON_RULE_REFERENCE,
                   RECON_KEY_REMITTANCE, 0, "INV20260042"},
                  {"INV-77777", "S1/2", RECON_RULE_REFERENCE,
                   RECON_KEY_REMITTANCE, RECON_F_AMOUNT_MISMATCH, "INV77777"}},
        .exc = {X(AMOUNT_MISMATCH, "INV-77777", "S1/2", NULL),
                X(OPEN_RECEIPT, "INV-2026-0099", NULL, NULL)},
    },
    {
        .name = "a pending entry is no booking",
        .pay = {{.id = "P1",
                 .end_to_end_id = "E2E-N",
                 .amount = 10000,
                 .exec_date = "2026-03-19"}},
        .ent = {{.id = "S1/1",
                 .status = "PDNG",
                 .end_to_end_id = "E2E-N",
                 .amount = 10000}},
    },
    {
        .name = "exact: a later key kind when the first finds nothing",
        .order_free = 1,
        .pay = {{.id = "P1",
                 .end_to_end_id = "E2E-OURS",
                 .uetr = "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
                 .serial = "SN-77",
                 .amount = 10000},
                {.id = "P2", .end_to_end_id = "E2E-OTHER", .amount = 20000}},
        .ent = {{.id = "S1/1",
                 .end_to_end_id = "E2E-CHANGED-BY-BANK",
                 .uetr = "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
                 .amount = 10000},
                {.id = "S1/2",
                 .end_to_end_id = "NOTPROVIDED",
                 .cust_ref = "E2E-OTHER",
                 .amount = 20000}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_UETR, 0, NULL},
                  {"P2", "S1/2", RECON_RULE_EXACT, RECON_KEY_E2E, 0,
                   "E2E-OTHER"}},
    },
    {
        /* not order_free: duplicate_key names the first payment */
        .name = "exact: a key three payments share, tied, is ambiguous",
        .as_of = "2026-03-04",
        .pay = {{.id = "P1", .end_to_end_id = "SAME", .amount = 500},
                {.id = "P2", .end_to_end_id = "SAME", .amount = 500},
                {.id = "P3", .end_to_end_id = "SAME", .amount = 900}},
        .ent = {{.id = "S1/1", .end_to_end_id = "SAME", .amount = 500}},
        .exc = {X(AMBIGUOUS, "P1", "S1/1", NULL),
                X(AMBIGUOUS, "P2", "S1/1", NULL),
                X(DUPLICATE_KEY, "P2", NULL, "P1"),
                X(DUPLICATE_KEY, "P3", NULL, "P1")},
    },
    {
        .name = "reversal delivered twice; a return without our key",
        .pay = {{.id = "P1", .end_to_end_id = "E2E-RV", .amount = 4000}},
        .ent = {{.id = "S1/1",
                 .end_to_end_id = "E2E-RV",
                 .account = "DE89 3704 0044 0532 0130 00",
                 .amount = 4000},
                {.id = "S2/1",
                 .credit = 1,
                 .reversal = 1,
                 .acct_svcr_ref = "RV-9",
                 .amount = 4000,
                 .book_date = "2026-03-03"},
                {.id = "S3/1",
                 .credit = 1,
                 .reversal = 1,
                 .acct_svcr_ref = "RV-9",
                 .amount = 4000,
                 .book_date = "2026-03-03"},
                {.id = "S1/4",
                 .credit = 1,
                 .return_reason = "MS03",
                 .amount = 777}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E,
                   RECON_F_REVERSED, NULL}},
        .exc = {X(REVERSAL, "P1", "S2/1", "S1/1"),
                X(DUPLICATE_ENTRY, NULL, "S3/1", "S2/1"),
                X(RETURN, NULL, "S1/4", NULL)},
    },
    {
        .name = "a batch in two currencies is booked payment by payment",
        .order_free = 1,
        .pay = {{.id = "P1",
                 .batch_id = "MIX",
                 .end_to_end_id = "M-1",
                 .amount = 1000},
                {.id = "P2",
                 .batch_id = "MIX",
                 .end_to_end_id = "M-2",
                 .amount = 2000,
                 .ccy = "USD"}},
        .ent = {{.id = "S1/1", .end_to_end_id = "M-1", .amount = 1000},
                {.id = "S1/2",
                 .end_to_end_id = "M-2",
                 .amount = 2000,
                 .ccy = "USD"}},
        .pairs = {{"P1", "S1/1", RECON_RULE_EXACT, RECON_KEY_E2E, 0, NULL},
                  {"P2", "S1/2", RECON_RULE_EXACT, RECON_KEY_E2E, 0, NULL}},
    },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ---- running a case ----------------------------------------------------- */

static struct recon *build(const struct tcase *c, int reverse)
{
    struct recon_opts o;
    struct h2h_err err = {0};
    recon_opts_init(&o);
    o.as_of = c->as_of ? c->as_of : AS_OF;
    struct recon *r = recon_new(&o, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    size_t np = 0, ne = 0, nr = 0;
    while (np < 6 && c->pay[np].id)
        np++;
    while (ne < 6 && c->ent[ne].id)
        ne++;
    while (nr < 4 && c->rcv[nr].reference)
        nr++;
    for (size_t k = 0; k < np; k++) {
        struct recon_payment p = c->pay[reverse ? np - 1 - k : k];
        p.ccy = p.ccy ? p.ccy : "EUR";
        p.account = p.account ? p.account : ACCT;
        p.exec_date = p.exec_date ? p.exec_date : DAY;
        CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), 0);
    }
    for (size_t k = 0; k < ne; k++) {
        struct recon_entry e = c->ent[reverse ? ne - 1 - k : k];
        e.ccy = e.ccy ? e.ccy : "EUR";
        e.account = e.account ? e.account : ACCT;
        e.book_date = e.book_date ? e.book_date : DAY;
        CU_ASSERT_EQUAL(recon_add_entry(r, &e, &err), 0);
    }
    for (size_t k = 0; k < nr; k++) {
        struct recon_expected x = c->rcv[reverse ? nr - 1 - k : k];
        x.ccy = x.ccy ? x.ccy : "EUR";
        CU_ASSERT_EQUAL(recon_add_expected(r, &x, &err), 0);
    }
    int rc = recon_run(r, &err);
    if (rc)
        fprintf(stderr, "  %s: run: %s\n", c->name, err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    return r;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static void dump(const struct recon *r)
{
    for (size_t i = 0; i < recon_pair_count(r); i++) {
        struct recon_pair p;
        recon_pair_get(r, i, &p);
        fprintf(stderr,
                "    pair %s x %s rule=%s key=%s value=%s score=%d "
                "flags=%u\n",
                p.item_id, p.entry_id, recon_rule_name(p.rule),
                recon_key_name(p.key), p.key_value, p.score, p.flags);
    }
    for (size_t i = 0; i < recon_exception_count(r); i++) {
        struct recon_exception x;
        recon_exception_get(r, i, &x);
        fprintf(stderr, "    exc %s item=%s entry=%s other=%s score=%d\n",
                recon_exc_name(x.kind), x.item_id, x.entry_id, x.other_id,
                x.score);
    }
}

/* 1 when r produced exactly what c wants. */
static int check(const struct tcase *c, const struct recon *r)
{
    int ok = 1;
    size_t np = 0, nx = 0;
    for (; np < 6 && c->pairs[np].item; np++) {
        const struct want_pair *w = &c->pairs[np];
        int found = 0;
        for (size_t i = 0; i < recon_pair_count(r) && !found; i++) {
            struct recon_pair p;
            recon_pair_get(r, i, &p);
            if (strcmp(p.item_id, w->item) || strcmp(p.entry_id, w->entry))
                continue;
            found = 1;
            if (p.rule != w->rule || p.key != w->key || p.flags != w->flags ||
                (w->keyval && strcmp(p.key_value, w->keyval)) ||
                (w->score && p.score != w->score)) {
                fprintf(stderr, "  %s: pair %s x %s differs\n", c->name,
                        w->item, w->entry);
                ok = 0;
            }
        }
        if (!found) {
            fprintf(stderr, "  %s: pair %s x %s missing\n", c->name, w->item,
                    w->entry);
            ok = 0;
        }
    }
    if (np != recon_pair_count(r)) {
        fprintf(stderr, "  %s: %zu pairs, want %zu\n", c->name,
                recon_pair_count(r), np);
        ok = 0;
    }
    for (; nx < 8 && c->exc[nx].set; nx++) {
        const struct want_exc *w = &c->exc[nx];
        int found = 0;
        for (size_t i = 0; i < recon_exception_count(r) && !found; i++) {
            struct recon_exception x;
            recon_exception_get(r, i, &x);
            found = x.kind == w->kind && !strcmp(x.item_id, nz(w->item)) &&
                    !strcmp(x.entry_id, nz(w->entry)) &&
                    !strcmp(x.other_id, nz(w->other));
        }
        if (!found) {
            fprintf(stderr, "  %s: exception %s %s/%s/%s missing\n", c->name,
                    recon_exc_name(w->kind), nz(w->item), nz(w->entry),
                    nz(w->other));
            ok = 0;
        }
    }
    if (nx != recon_exception_count(r)) {
        fprintf(stderr, "  %s: %zu exceptions, want %zu\n", c->name,
                recon_exception_count(r), nx);
        ok = 0;
    }
    if (!ok)
        dump(r);
    return ok;
}

/* ---- XML validation ----------------------------------------------------- */

static xmlSchemaPtr schema;

static xmlSchemaPtr get_schema(void)
{
    if (schema)
        return schema;
    /* from memory: once recon_read_expected_xml() ran, fmt_xml_init()'s
     * entity loader refuses every file libxml2 would open itself */
    size_t n = 0;
    char *xsd = tu_read_file(tu_src("tests/fixtures/recon/recon.xsd"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xsd);
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(xsd, (int)n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
    schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    free(xsd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(schema);
    return schema;
}

/* The output in a malloc'd buffer. */
static char *render(const struct recon *r, enum recon_output what, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct h2h_err err = {0};
    int rc = what == RECON_OUT_XML    ? recon_write_xml(r, f, &err)
             : what == RECON_OUT_HTML ? recon_write_html(r, "Test", f, &err)
                                      : recon_write_csv(r, what, f, &err);
    CU_ASSERT_EQUAL(rc, 0);
    fclose(f);
    if (len)
        *len = n;
    return buf;
}

/* Parse and validate r's XML; the document (caller frees) or NULL. */
static xmlDocPtr valid_xml(const struct recon *r)
{
    size_t n;
    char *buf = render(r, RECON_OUT_XML, &n);
    xmlDocPtr doc = xmlReadMemory(buf, (int)n, "result.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    free(buf);
    CU_ASSERT_PTR_NOT_NULL(doc);
    if (!doc)
        return NULL;
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(get_schema());
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    CU_ASSERT_EQUAL(rc, 0);
    return doc;
}

static double xpath_num(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "r", BAD_CAST RECON_NS);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    double v = o ? xmlXPathCastToNumber(o) : -1;
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return v;
}

static void test_table(void)
{
    for (size_t i = 0; i < N_CASES; i++) {
        const struct tcase *c = &cases[i];
        struct recon *r = build(c, 0);
        int ok = check(c, r);
        CU_ASSERT(ok);
        if (!ok)
            fprintf(stderr, "  case failed: %s\n", c->name);
        xmlDocPtr doc = valid_xml(r);
        if (doc) {
            struct recon_summary s;
            recon_summary(r, &s);
            CU_ASSERT_EQUAL(xpath_num(doc, "count(//r:Exception)"),
                            (double)recon_exception_count(r));
            CU_ASSERT_EQUAL(xpath_num(doc, "count(//r:Match)"),
                            (double)(s.by_rule[RECON_RULE_EXACT] +
                                     s.by_rule[RECON_RULE_REFERENCE] +
                                     s.by_rule[RECON_RULE_FUZZY]));
            CU_ASSERT_EQUAL(xpath_num(doc, "number(//r:Summary/@Payments)"),
                            (double)s.payments);
            xmlFreeDoc(doc);
        }
        recon_free(r);
        if (!c->order_free)
            continue;
        r = build(c, 1);
        ok = check(c, r);
        CU_ASSERT(ok);
        if (!ok)
            fprintf(stderr, "  case failed in reverse order: %s\n", c->name);
        recon_free(r);
    }
}

/* ---- summary ------------------------------------------------------------ */

static const struct tcase *find_case(const char *prefix)
{
    for (size_t i = 0; i < N_CASES; i++)
        if (!strncmp(cases[i].name, prefix, strlen(prefix)))
            return &cases[i];
    CU_FAIL_FATAL("no such case");
    return NULL;
}

static void test_summary(void)
{
    struct recon_summary s;
    struct recon *r = build(find_case("unmatched both sides"), 0);
    recon_summary(r, &s);
    CU_ASSERT_STRING_EQUAL(s.as_of, AS_OF);
    CU_ASSERT_EQUAL(s.payments, 2);
    CU_ASSERT_EQUAL(s.unmatched_payments, 1);
    CU_ASSERT_EQUAL(s.pending_payments, 1);
    CU_ASSERT_EQUAL(s.unmatched_entries, 1);
    CU_ASSERT_EQUAL_FATAL(s.n_ccy, 1);
    CU_ASSERT_STRING_EQUAL(s.ccy[0].ccy, "EUR");
    CU_ASSERT_EQUAL(s.ccy[0].submitted, 33300);
    CU_ASSERT_EQUAL(s.ccy[0].unmatched, 11100);
    CU_ASSERT_EQUAL(s.ccy[0].pending, 22200);
    CU_ASSERT_EQUAL(s.ccy[0].debits, 99999);
    CU_ASSERT_EQUAL(s.ccy[0].unmatched_entries, 99999);
    char line[1024];
    recon_summary_logfmt(&s, line, sizeof(line));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "payments=2 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "unmatched_payments=1 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "as_of=" AS_OF));
    recon_free(r);

    r = build(find_case("returns:"), 0);
    recon_summary(r, &s);
    CU_ASSERT_EQUAL(s.returned_payments, 1);
    CU_ASSERT_EQUAL(s.matched_payments, 1);
    CU_ASSERT_EQUAL(s.unmatched_payments, 0);
    CU_ASSERT_EQUAL(s.exceptions[RECON_EXC_RETURN], 2);
    recon_free(r);

    r = build(find_case("a pending entry"), 0);
    recon_summary(r, &s);
    CU_ASSERT_EQUAL(s.not_booked, 1);
    CU_ASSERT_EQUAL(s.pending_payments, 1);
    recon_free(r);

    r = build(find_case("batch: payroll"), 0);
    recon_summary(r, &s);
    CU_ASSERT_EQUAL(s.batches, 1);
    CU_ASSERT_EQUAL(s.matched_payments, 3);
    CU_ASSERT_EQUAL(s.matched_entries, 1);
    CU_ASSERT_EQUAL(s.by_rule[RECON_RULE_EXACT], 1);
    recon_free(r);

    r = build(find_case("a batch in two currencies"), 0);
    recon_summary(r, &s);
    CU_ASSERT_EQUAL(s.batches, 0);
    CU_ASSERT_EQUAL(s.matched_payments, 2);
    CU_ASSERT_EQUAL_FATAL(s.n_ccy, 2);
    CU_ASSERT_STRING_EQUAL(s.ccy[0].ccy, "EUR"); /* sorted by code */
    CU_ASSERT_STRING_EQUAL(s.ccy[1].ccy, "USD");
    CU_ASSERT_EQUAL(s.ccy[1].submitted, 2000);
    CU_ASSERT_EQUAL(s.ccy[1].matched, 2000);
    CU_ASSERT_EQUAL(s.ccy[1].debits, 2000);
    recon_free(r);

    r = build(find_case("reversal delivered twice"), 0);
    recon_summary(r, &s);
    /* the second copy of the reversal is not counted again */
    CU_ASSERT_EQUAL(s.ccy[0].credits, 4000 + 777);
    CU_ASSERT_EQUAL(s.exceptions[RECON_EXC_REVERSAL], 1);
    CU_ASSERT_EQUAL(s.exceptions[RECON_EXC_RETURN], 1);
    recon_free(r);

    r = build(find_case("expected receipts"), 0);
    recon_summary(r, &s);
    CU_ASSERT_EQUAL(s.receipts, 3);
    CU_ASSERT_EQUAL(s.matched_receipts, 2);
    CU_ASSERT_EQUAL(s.open_receipts, 1);
    CU_ASSERT_EQUAL(s.ccy[0].received, 145000);
    recon_free(r);
}

static void test_mismatch_details(void)
{
    struct recon *r = build(find_case("amount mismatch"), 0);
    struct recon_exception x;
    CU_ASSERT_EQUAL_FATAL(recon_exception_get(r, 0, &x), 0);
    CU_ASSERT_EQUAL(x.expected, 10000);
    CU_ASSERT_EQUAL(x.booked, 9950);
    CU_ASSERT_STRING_EQUAL(x.ccy, "EUR");
    recon_free(r);
    r = build(find_case("date mismatch"), 0);
    CU_ASSERT_EQUAL_FATAL(recon_exception_get(r, 0, &x), 0);
    CU_ASSERT_EQUAL(x.days, 10);
    recon_free(r);
}

/* ---- CSV ---------------------------------------------------------------- */

/* RFC 4180 into rows of fields (test-side parser, independent of the
 * writer). */
struct csv_doc {
    char ***rows;
    size_t *nf;
    size_t n;
};

static void csv_parse(const char *s, struct csv_doc *d)
{
    memset(d, 0, sizeof(*d));
    char buf[4096];
    size_t bl = 0;
    char **fields = NULL;
    size_t nf = 0;
    int in_q = 0;
    for (const char *p = s;; p++) {
        if (in_q) {
            if (*p == '"' && p[1] == '"') {
                buf[bl++] = '"';
                p++;
            } else if (*p == '"') {
                in_q = 0;
            } else if (*p) {
                buf[bl++] = *p;
            } else {
                break;
            }
            continue;
        }
        if (*p == '"') {
            in_q = 1;
            continue;
        }
        if (*p == ',' || *p == '\r' || !*p) {
            if (!*p && !nf && !bl)
                break;
            fields = realloc(fields, (nf + 1) * sizeof(*fields));
            fields[nf++] = strndup(buf, bl);
            bl = 0;
            if (*p == '\r') {
                CU_ASSERT_EQUAL(p[1], '\n');
                p++;
                d->rows = realloc(d->rows, (d->n + 1) * sizeof(*d->rows));
                d->nf = realloc(d->nf, (d->n + 1) * sizeof(*d->nf));
                d->rows[d->n] = fields;
                d->nf[d->n++] = nf;
                fields = NULL;
                nf = 0;
            }
            if (!*p)
                break;
            continue;
        }
        buf[bl++] = *p;
    }
    CU_ASSERT_EQUAL(nf, 0); /* every row ends in CRLF */
    for (size_t i = 0; i < nf; i++)
        free(fields[i]);
    free(fields);
}

static void csv_free(struct csv_doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        for (size_t j = 0; j < d->nf[i]; j++)
            free(d->rows[i][j]);
        free(d->rows[i]);
    }
    free(d->rows);
    free(d->nf);
}

static int col(const struct csv_doc *d, const char *name)
{
    for (size_t j = 0; j < d->nf[0]; j++)
        if (!strcmp(d->rows[0][j], name))
            return (int)j;
    CU_FAIL("no such column");
    return 0;
}

static struct recon *tricky(void)
{
    struct recon_opts o;
    struct h2h_err err = {0};
    recon_opts_init(&o);
    o.as_of = AS_OF;
    struct recon *r = recon_new(&o, &err);
    static const struct recon_payment p[] = {
        {.id = "=SUM(A1)",
         .end_to_end_id = "K1",
         .amount = 150,
         .cpty_name = "Smith, \"Jr\""},
        {.id = "P\"1,x",
         .end_to_end_id = "K2",
         .amount = 2500,
         .cpty_name = "line\nbreak"},
        {.id = "P3",
         .end_to_end_id = "K3",
         .amount = 100000,
         .cpty_name = "Tom & Jerry <Ltd>",
         .exec_date = "2026-03-01"},
        {.id = "P4",
         .end_to_end_id = "K4",
         .amount = 1,
         .ccy = "JPY",
         .cpty_name = "bad \xff utf8 \x01 ctl"},
    };
    static const struct recon_entry e[] = {
        {.id = "S/1", .end_to_end_id = "K1", .amount = 150},
        {.id = "S/2",
         .end_to_end_id = "K2",
         .amount = 2500,
         .rmt_text = "-1+1"},
        {.id = "S/3", .end_to_end_id = "K4", .amount = 1, .ccy = "JPY"},
    };
    for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
        struct recon_payment q = p[i];
        q.ccy = q.ccy ? q.ccy : "EUR";
        q.exec_date = q.exec_date ? q.exec_date : DAY;
        q.account = ACCT;
        CU_ASSERT_EQUAL(recon_add_payment(r, &q, &err), 0);
    }
    for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
        struct recon_entry q = e[i];
        q.ccy = q.ccy ? q.ccy : "EUR";
        q.book_date = DAY;
        q.account = ACCT;
        CU_ASSERT_EQUAL(recon_add_entry(r, &q, &err), 0);
    }
    CU_ASSERT_EQUAL_FATAL(recon_run(r, &err), 0);
    return r;
}

static void test_csv_parse_back(void)
{
    struct recon *r = tricky();
    char *buf = render(r, RECON_OUT_MATCHED, NULL);
    struct csv_doc d;
    csv_parse(buf, &d);
    CU_ASSERT_EQUAL_FATAL(d.n, recon_pair_count(r) + 1);
    CU_ASSERT_EQUAL(d.nf[0], 18);
    CU_ASSERT_STRING_EQUAL(d.rows[0][0], "group");
    int c_item = col(&d, "item_id"), c_entry = col(&d, "entry_id");
    int c_rule = col(&d, "rule"), c_key = col(&d, "key");
    int c_amt = col(&d, "item_amount"), c_cpty = col(&d, "counterparty");
    for (size_t i = 0; i < recon_pair_count(r); i++) {
        struct recon_pair p;
        recon_pair_get(r, i, &p);
        char **row = d.rows[i + 1];
        CU_ASSERT_EQUAL(d.nf[i + 1], 18);
        /* the formula guard is the only change to a text */
        if (p.item_id[0] == '=') {
            CU_ASSERT_EQUAL(row[c_item][0], '\'');
            CU_ASSERT_STRING_EQUAL(row[c_item] + 1, p.item_id);
        } else {
            CU_ASSERT_STRING_EQUAL(row[c_item], p.item_id);
        }
        CU_ASSERT_STRING_EQUAL(row[c_entry], p.entry_id);
        CU_ASSERT_STRING_EQUAL(row[c_rule], "exact");
        CU_ASSERT_STRING_EQUAL(row[c_key], "EndToEndId");
    }
    CU_ASSERT_STRING_EQUAL(d.rows[1][c_amt], "1.50");
    CU_ASSERT_STRING_EQUAL(d.rows[1][c_cpty], "Smith, \"Jr\"");
    CU_ASSERT_STRING_EQUAL(d.rows[2][c_item], "P\"1,x");
    CU_ASSERT_STRING_EQUAL(d.rows[2][c_cpty], "line\nbreak");
    CU_ASSERT_STRING_EQUAL(d.rows[3][c_amt], "1"); /* JPY: no decimals */
    /* sanitised on the way in: invalid byte '?', control a blank */
    CU_ASSERT_STRING_EQUAL(d.rows[3][c_cpty], "bad ? utf8   ctl");
    csv_free(&d);
    free(buf);

    buf = render(r, RECON_OUT_UNMATCHED_PAYMENTS, NULL);
    csv_parse(buf, &d);
    CU_ASSERT_EQUAL_FATAL(d.n, 2);
    CU_ASSERT_STRING_EQUAL(d.rows[1][col(&d, "payment_id")], "P3");
    CU_ASSERT_STRING_EQUAL(d.rows[1][col(&d, "amount")], "1000.00");
    CU_ASSERT_STRING_EQUAL(d.rows[1][col(&d, "days_open")], "19");
    csv_free(&d);
    free(buf);

    xmlDocPtr doc = valid_xml(r); /* sanitised text is valid XML */
    xmlFreeDoc(doc);
    recon_free(r);
}

static void test_csv_every_list(void)
{
    /* every list parses, with its documented header, for every case */
    static const struct {
        enum recon_output what;
        size_t cols;
        const char *first;
    } lists[] = {
        {RECON_OUT_MATCHED, 18, "group"},
        {RECON_OUT_UNMATCHED_PAYMENTS, 16, "payment_id"},
        {RECON_OUT_UNMATCHED_ENTRIES, 17, "entry_id"},
        {RECON_OUT_MISMATCHES, 14, "kind"},
        {RECON_OUT_DUPLICATES, 9, "kind"},
        {RECON_OUT_REVERSALS, 11, "kind"},
        {RECON_OUT_AMBIGUOUS, 12, "entry_id"},
        {RECON_OUT_OPEN_RECEIPTS, 7, "reference"},
    };
    for (size_t i = 0; i < N_CASES; i++) {
        struct recon *r = build(&cases[i], 0);
        struct recon_summary s;
        recon_summary(r, &s);
        size_t rows = 0;
        for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
            char *buf = render(r, lists[k].what, NULL);
            struct csv_doc d;
            csv_parse(buf, &d);
            CU_ASSERT_FATAL(d.n >= 1);
            CU_ASSERT_STRING_EQUAL(d.rows[0][0], lists[k].first);
            for (size_t j = 0; j < d.n; j++)
                CU_ASSERT_EQUAL(d.nf[j], lists[k].cols);
            if (k > 0)
                rows += d.n - 1;
            else
                CU_ASSERT_EQUAL(d.n - 1, recon_pair_count(r));
            csv_free(&d);
            free(buf);
        }
        /* each exception is in exactly one list */
        CU_ASSERT_EQUAL(rows, recon_exception_count(r));
        recon_free(r);
    }
}

/* ---- HTML --------------------------------------------------------------- */

static void test_html(void)
{
    struct recon *r = tricky();
    char *h = render(r, RECON_OUT_HTML, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "<!DOCTYPE html>"));
    /* totals and counts come before the exceptions */
    const char *counts = strstr(h, "<h2>Counts</h2>");
    const char *totals = strstr(h, "<h2>Totals per currency</h2>");
    const char *exc = strstr(h, "<h2>Exceptions</h2>");
    CU_ASSERT(counts && totals && exc && counts < totals && totals < exc);
    /* EUR submitted 1.50 + 25.00 + 1000.00 */
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "<tr><td>EUR</td><td class=\"n\">"
                                     "1026.50</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "<tr><td>JPY</td><td class=\"n\">1</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "Tom &amp; Jerry &lt;Ltd&gt;"));
    CU_ASSERT_PTR_NULL(strstr(h, "Tom & Jerry"));
    CU_ASSERT_PTR_NULL(strstr(h, "<Ltd>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "Payments not booked: 1</h3>"));
    /* self-contained: nothing fetched from anywhere */
    CU_ASSERT_PTR_NULL(strstr(h, "src="));
    CU_ASSERT_PTR_NULL(strstr(h, "href="));
    CU_ASSERT_PTR_NULL(strstr(h, "<script"));
    CU_ASSERT_PTR_NULL(strstr(h, "<link"));
    free(h);
    recon_free(r);

    /* long lists are cut and point to their CSV */
    struct recon_opts o;
    struct h2h_err err = {0};
    recon_opts_init(&o);
    o.as_of = AS_OF;
    o.html_max_rows = 2;
    r = recon_new(&o, &err);
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof(id), "P%d", i);
        struct recon_payment p = {
            .id = id, .amount = 100 + i, .ccy = "EUR", .exec_date = DAY};
        CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), 0);
    }
    CU_ASSERT_EQUAL_FATAL(recon_run(r, &err), 0);
    h = render(r, RECON_OUT_HTML, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "The first 2 of 5 are shown; "
                                     "unmatched_payments.csv has all"));
    free(h);
    recon_free(r);
}

/* ---- expected receipts -------------------------------------------------- */

static struct recon *fresh(void)
{
    struct recon_opts o;
    recon_opts_init(&o);
    o.as_of = AS_OF;
    return recon_new(&o, NULL);
}

static void check_fixture_receipts(struct recon *r)
{
    struct h2h_err err = {0};
    struct recon_entry e = {.id = "S/1",
                            .credit = 1,
                            .amount = 200000,
                            .ccy = "USD",
                            .book_date = "2026-02-02",
                            .rmt_text = "RF18539007547034"};
    CU_ASSERT_EQUAL(recon_add_entry(r, &e, &err), 0);
    CU_ASSERT_EQUAL_FATAL(recon_run(r, &err), 0);
    struct recon_summary s;
    recon_summary(r, &s);
    CU_ASSERT_EQUAL(s.receipts, 3);
    CU_ASSERT_EQUAL(s.matched_receipts, 1);
    CU_ASSERT_EQUAL(s.open_receipts, 2);
    struct recon_pair p;
    CU_ASSERT_EQUAL_FATAL(recon_pair_get(r, 0, &p), 0);
    CU_ASSERT_STRING_EQUAL(p.item_id, "RF18 5390 0754 7034");
    CU_ASSERT_EQUAL(p.side, RECON_SIDE_RECEIPT);
    CU_ASSERT_EQUAL(p.rule, RECON_RULE_REFERENCE);
    char *buf = render(r, RECON_OUT_OPEN_RECEIPTS, NULL);
    struct csv_doc d;
    csv_parse(buf, &d);
    CU_ASSERT_EQUAL_FATAL(d.n, 3);
    CU_ASSERT_STRING_EQUAL(d.rows[1][0], "INV-2026-0042");
    CU_ASSERT_STRING_EQUAL(d.rows[1][2], "1250.00");
    CU_ASSERT_STRING_EQUAL(d.rows[1][6], ACCT);
    CU_ASSERT_STRING_EQUAL(d.rows[2][1], "Müller & Söhne, KG");
    CU_ASSERT_STRING_EQUAL(d.rows[2][2], "99.90");
    CU_ASSERT_STRING_EQUAL(d.rows[2][5], "8");
    csv_free(&d);
    free(buf);
}

static void test_expected_fixtures(void)
{
    struct h2h_err err = {0};
    struct fmt_diag diag;
    struct recon *r = fresh();
    struct fmt_src src = {.path = tu_src("tests/fixtures/recon/expected.csv")};
    fmt_diag_init(&diag, "expected.csv");
    CU_ASSERT_EQUAL(recon_read_expected_csv(r, &src, &diag, &err), 0);
    CU_ASSERT_EQUAL(diag.n, 0);
    fmt_diag_print(&diag, stderr);
    fmt_diag_release(&diag);
    check_fixture_receipts(r);
    recon_free(r);

    r = fresh();
    src.path = tu_src("tests/fixtures/recon/expected.xml");
    fmt_diag_init(&diag, "expected.xml");
    CU_ASSERT_EQUAL(recon_read_expected_xml(r, &src, &diag, &err), 0);
    CU_ASSERT_EQUAL(diag.n, 0);
    fmt_diag_print(&diag, stderr);
    fmt_diag_release(&diag);
    check_fixture_receipts(r);
    recon_free(r);

    /* the sample validates against the documented schema */
    size_t n = 0;
    char *buf = tu_read_file(tu_src("tests/fixtures/recon/expected.xml"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    xmlDocPtr doc =
        xmlReadMemory(buf, (int)n, "expected.xml", NULL, XML_PARSE_NONET);
    free(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(get_schema());
    CU_ASSERT_EQUAL(xmlSchemaValidateDoc(vc, doc), 0);
    xmlSchemaFreeValidCtxt(vc);
    xmlFreeDoc(doc);
}

static void test_expected_problems(void)
{
    static const char csv[] =
        "Reference ; PAYER;amount;currency;due_date;colour\r\n"
        "A-1;X;12,50;EUR;2026-03-01;red\r\n"
        "A-2;Y;1.234;EUR;2026-03-01;\r\n"
        "\r\n"
        "A-3;Z;5;XXX;2026-03-01;\r\n"
        "\"A-4\";\"multi\nline\";7;EUR;2026-02-30;\r\n"
        "A-5;;7;EUR;2026-03-01;\r\n"
        "\"A;6\";W;8;EUR;2026-03-02;\r\n";
    struct h2h_err err = {0};
    struct fmt_diag diag;
    struct fmt_src src = {
        .buf = csv, .len = sizeof(csv) - 1, .name = "open.csv"};
    struct recon *r = fresh();
    fmt_diag_init(&diag, "open.csv");
    CU_ASSERT_EQUAL(recon_read_expected_csv(r, &src, &diag, &err), 0);
    /* colour, A-2 amount, A-3 currency, A-4 date, A-5 payer */
    CU_ASSERT_EQUAL(diag.n, 5);
    if (diag.n == 5) {
        CU_ASSERT_STRING_EQUAL(diag.v[0].rule, "recon.csv.column.unknown");
        CU_ASSERT_EQUAL(diag.v[1].line, 3);
        CU_ASSERT_STRING_EQUAL(diag.v[1].rule, "recon.amount");
        CU_ASSERT_EQUAL(diag.v[2].line, 5);
        CU_ASSERT_EQUAL(diag.v[3].line, 6);
        CU_ASSERT_EQUAL(diag.v[4].line, 8);
        CU_ASSERT_STRING_EQUAL(diag.v[4].rule, "recon.required");
    }
    fmt_diag_print(&diag, stderr);
    fmt_diag_release(&diag);
    CU_ASSERT_EQUAL_FATAL(recon_run(r, &err), 0);
    struct recon_summary s;
    recon_summary(r, &s);
    CU_ASSERT_EQUAL(s.receipts, 2); /* A-1 (decimal comma), "A;6" */
    CU_ASSERT_EQUAL(s.ccy[0].expected, 1250 + 800);
    recon_free(r);

    /* without a diag the first problem is fatal */
    r = fresh();
    CU_ASSERT_EQUAL(recon_read_expected_csv(r, &src, NULL, &err), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "colour"));
    recon_free(r);

    static const char xml[] =
        "<ExpectedReceipts xmlns=\"urn:h2hd:recon:1\">\n"
        "<Receipt><Ref>I-1</Ref><Payer>P</Payer><Amt Ccy=\"EUR\">1.00</Amt>"
        "<DueDt>2026-03-01</DueDt><Colour>red</Colour></Receipt>\n"
        "<Receipt><Ref>I-2</Ref><Payer>P</Payer>"
        "<DueDt>2026-03-01</DueDt></Receipt>\n"
        "<Receipt><Ref>I-3</Ref><Payer>P</Payer><Amt Ccy=\"EUR\">1.001</Amt>"
        "<DueDt>2026-03-01</DueDt></Receipt>\n"
        "</ExpectedReceipts>\n";
    struct fmt_src xs = {
        .buf = xml, .len = sizeof(xml) - 1, .name = "open.xml"};
    r = fresh();
    fmt_diag_init(&diag, "open.xml");
    CU_ASSERT_EQUAL(recon_read_expected_xml(r, &xs, &diag, &err), 0);
    CU_ASSERT_EQUAL(diag.n, 3); /* Colour, I-2 no Amt, I-3 decimals */
    fmt_diag_print(&diag, stderr);
    fmt_diag_release(&diag);
    CU_ASSERT_EQUAL_FATAL(recon_run(r, &err), 0);
    recon_summary(r, &s);
    CU_ASSERT_EQUAL(s.receipts, 1);
    recon_free(r);

    /* not ours, not well-formed, DOCTYPE: fatal */
    static const char *const bad[] = {
        "<Other xmlns=\"urn:h2hd:recon:1\"/>",
        "<ExpectedReceipts xmlns=\"urn:h2hd:recon:1\"><Receipt>",
        "<!DOCTYPE x [<!ENTITY e \"x\">]><ExpectedReceipts "
        "xmlns=\"urn:h2hd:recon:1\"/>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fmt_src b = {.buf = bad[i], .len = strlen(bad[i])};
        r = fresh();
        CU_ASSERT(recon_read_expected_xml(r, &b, NULL, &err) < 0);
        recon_free(r);
    }
}

/* ---- API rules ---------------------------------------------------------- */

static int progress_calls, cancel_at;

static int progress_cb(void *ctx, const char *phase, uint64_t done,
                       uint64_t total)
{
    (void)ctx;
    CU_ASSERT(done <= total);
    CU_ASSERT_PTR_NOT_NULL(phase);
    return ++progress_calls == cancel_at;
}

static void test_api(void)
{
    struct h2h_err err = {0};
    struct recon_opts o;
    recon_opts_init(&o);
    o.as_of = "2026-02-30";
    CU_ASSERT_PTR_NULL(recon_new(&o, &err));
    o.as_of = NULL;
    o.threshold = 0;
    CU_ASSERT_PTR_NULL(recon_new(&o, &err));

    struct recon *r = fresh();
    struct recon_payment p = {
        .id = "P", .amount = 1, .ccy = "EUX", .exec_date = DAY};
    CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), H2H_EINVALID);
    p.ccy = "EUR";
    p.exec_date = "2026-13-01";
    CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), H2H_EINVALID);
    p.exec_date = DAY;
    p.amount = -1;
    CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), H2H_EINVALID);
    p.amount = 1;
    p.id = NULL;
    CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), H2H_EINVALID);
    p.id = "P";
    char *big = malloc(RECON_MAX_STR + 2);
    memset(big, 'x', RECON_MAX_STR + 1);
    big[RECON_MAX_STR + 1] = '\0';
    p.rmt_text = big;
    CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), H2H_ETOOBIG);
    free(big);
    p.rmt_text = NULL;
    struct recon_entry e = {.id = "E",
                            .amount = 1,
                            .ccy = "EUR",
                            .book_date = DAY,
                            .value_date = "x"};
    CU_ASSERT_EQUAL(recon_add_entry(r, &e, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), 0);
    struct recon_pair pair;
    CU_ASSERT_EQUAL(recon_pair_get(r, 0, &pair), H2H_ESTATE);
    CU_ASSERT_EQUAL(recon_write_xml(r, stderr, &err), H2H_ESTATE);
    CU_ASSERT_EQUAL(recon_run(r, &err), 0);
    CU_ASSERT_EQUAL(recon_run(r, &err), H2H_ESTATE);
    CU_ASSERT_EQUAL(recon_add_payment(r, &p, &err), H2H_ESTATE);
    CU_ASSERT_EQUAL(recon_pair_get(r, 0, &pair), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(recon_write_csv(r, RECON_OUT_HTML, stderr, &err),
                    H2H_EINVALID);
    recon_free(r);
    recon_free(NULL);

    /* progress: every item with progress_every 1; cancel stops the run */
    recon_opts_init(&o);
    o.progress = progress_cb;
    o.progress_every = 1;
    r = recon_new(&o, &err);
    for (int i = 0; i < 10; i++) {
        char id[8];
        snprintf(id, sizeof(id), "E%d", i);
        struct recon_entry x = {
            .id = id, .amount = 5, .ccy = "EUR", .book_date = DAY};
        recon_add_entry(r, &x, &err);
    }
    progress_calls = 0;
    cancel_at = -1;
    CU_ASSERT_EQUAL(recon_run(r, &err), 0);
    CU_ASSERT(progress_calls >= 10);
    recon_free(r);
    r = recon_new(&o, &err);
    recon_add_payment(r, &p, &err);
    progress_calls = 0;
    cancel_at = 1;
    CU_ASSERT_EQUAL(recon_run(r, &err), H2H_ECANCELED);
    CU_ASSERT_EQUAL(recon_pair_count(r), 0);
    recon_free(r);
}

static void test_write_dir(void)
{
    struct h2h_err err = {0};
    struct recon *r = build(find_case("duplicates"), 0);
    const char *dir = tu_mkdtemp();
    CU_ASSERT_EQUAL_FATAL(recon_write_dir(r, dir, &err), 0);
    for (int k = 0; k < RECON_OUT_COUNT; k++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir,
                 recon_output_name((enum recon_output)k));
        size_t n = 0;
        char *buf = tu_read_file(path, &n);
        CU_ASSERT_PTR_NOT_NULL(buf);
        CU_ASSERT(n > 0);
        free(buf);
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/duplicates.csv", dir);
    char *dup = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dup);
    CU_ASSERT_PTR_NOT_NULL(strstr(dup, "duplicate_entry,S2/1,S1/1,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dup, "duplicate_booking,S1/4,S1/3,P2,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dup, "duplicate_key,P4,P3,P4,"));
    free(dup);
    CU_ASSERT(recon_write_path(r, RECON_OUT_XML, "/nonexistent/x.xml", &err) <
              0);
    tu_rmtree(dir);
    recon_free(r);
}

static const struct tu_case suite[] = {
    {"matching table", test_table},
    {"summary and totals", test_summary},
    {"mismatch amounts and days", test_mismatch_details},
    {"csv parsed back", test_csv_parse_back},
    {"csv every list", test_csv_every_list},
    {"html report", test_html},
    {"expected receipts fixtures", test_expected_fixtures},
    {"expected receipts problems", test_expected_problems},
    {"api rules and progress", test_api},
    {"write dir", test_write_dir},
    {NULL, NULL},
};

int main(void)
{
    int rc = tu_main("recon", suite);
    xmlSchemaFree(schema);
    xmlCleanupParser();
    return rc;
}
