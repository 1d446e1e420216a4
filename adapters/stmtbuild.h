/*
 * stmtbuild.h - canonical statements from a bank's balances and entries,
 * for adapters whose bank answers with lists rather than statement files
 * (openapi_json, cnbank_xml).
 *
 * Input (JSON, the adapters' neutral form):
 *   balances: [ { "type": "closingBooked" | "interimAvailable",
 *                 "date": "YYYY-MM-DD",
 *                 "amount": { "amount": "-12.34", "currency": "CNY" } } ]
 *             (other types are ignored)
 *   entries:  [ { "entry_id", "booking_date", "value_date" (optional),
 *                 "credit_debit": "CRDT" | "DBIT",
 *                 "amount": { "amount" (signed: debits negative),
 *                             "currency" },
 *                 optional "bank_reference", "end_to_end_id",
 *                 "instr_id" (our instruction id, e.g. a customer
 *                 serial), "counterparty_name", "counterparty_account",
 *                 "remittance_information" } ]  oldest first
 * One statement per currency; the account is written as an IBAN when it
 * is one, else as a domestic account number (Othr/Id).  Only entries
 * booked from..to are listed; entries booked after to may be given up to
 * covered_to (the last day the list is complete for; NULL = to), which
 * lets a balance of a later day be carried back to a past range.
 *
 * Threads: any (pure computation).  *buf is malloc'd, the caller frees.
 */
#ifndef H2H_STMTBUILD_H
#define H2H_STMTBUILD_H

#include <stddef.h>

#include <jansson.h>

#include "h2h_err.h"

/* prefix (at most 4 characters) starts the statement and message ids. */
int astmt_build(const char *prefix, const char *account, const json_t *balances,
                const json_t *entries, const char *from, const char *to,
                const char *covered_to, char **buf, size_t *len,
                struct h2h_err *err);
/* The remote name of an account's statement for from..to:
 * "stmt_<tag>_<from>_<to>.xml", where the tag shows the account masked. */
void astmt_name(const char *account, const char *from, const char *to,
                char *buf, size_t n);
/* "DE-3000-1a2b3c4d": the first 2 characters, the last 4 and a hash of
 * the whole account: log lines never show a full account number. */
void astmt_acct_tag(const char *account, char *buf, size_t n);

#endif
