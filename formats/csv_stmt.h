/*
 * csv_stmt.h - statements, reports and notifications -> CSV for treasury:
 * a writer that is a struct fmt_stmt_sink, one row per entry (documented
 * for users in formats/CSV.md).
 *
 * Output: RFC 4180 - a header row, records ending in CRLF, a field quoted
 * when it holds the separator, a quote, CR, LF or leading / trailing
 * blanks (quotes doubled).  UTF-8, with a byte order mark when opts.bom is
 * set (Excel needs it to read UTF-8).  Amounts are unsigned with '.' as
 * decimal point and the currency's number of decimals; the direction is in
 * credit_debit.  Columns, in this order:
 *
 *   account, account_currency, statement_id, booking_date, value_date,
 *   credit_debit (CRDT / DBIT), reversal (Y or empty), amount, currency,
 *   status, bank_reference, customer_reference, bank_transaction_code,
 *   end_to_end_id, counterparty_name, counterparty_account,
 *   counterparty_agent, remittance, additional_info
 *
 * account is the statement account's IBAN, else its other id;
 * bank_transaction_code is Domain/Family/SubFamily when given, else the
 * proprietary code; counterparty_agent is the BIC, else "<clearing
 * system>/<member id>".  Detail columns (end_to_end_id, counterparty_*,
 * remittance) come from the entry's details: several details (a batch
 * booking) are joined with " | " in detail order; remittance is the
 * unstructured text, else the structured creditor reference, else the
 * document number.  Line breaks inside values are kept (quoted).
 *
 * Cells starting with '=', '+', '-' or '@' could be run as formulas by
 * spreadsheet programs; with opts.excel_safe such text cells get a leading
 * apostrophe.  Off by default because it changes the data.
 *
 * Errors: a callback out of order is H2H_ESTATE; a write failure is
 * H2H_EIO at finish.  The first error is kept; fmt_csv_stmt_writer_finish
 * returns it.
 *
 * Ownership: the writer does not own out; fmt_csv_stmt_writer_free frees
 * the writer (NULL is fine).  Threads: one writer per thread at a time.
 */
#ifndef FMT_CSV_STMT_H
#define FMT_CSV_STMT_H

#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

struct fmt_csv_stmt_opts {
    char sep;       /* ',' (default when 0) or ';' */
    int bom;        /* write a UTF-8 byte order mark first */
    int excel_safe; /* neutralise formula-like text cells */
};

struct fmt_csv_stmt_writer;

/* A writer rendering to out (opts may be NULL: defaults); NULL when out is
 * NULL, sep is neither ',' nor ';', or out of memory. */
struct fmt_csv_stmt_writer *
fmt_csv_stmt_writer_new(FILE *out, const struct fmt_csv_stmt_opts *opts);
/* The sink feeding w (ctx is w). */
struct fmt_stmt_sink fmt_csv_stmt_sink(struct fmt_csv_stmt_writer *w);
/* 0 when a whole document was written; else the first error (err filled),
 * H2H_ESTATE when end() was not called, H2H_EIO when out failed. */
int fmt_csv_stmt_writer_finish(struct fmt_csv_stmt_writer *w,
                               struct h2h_err *err);
void fmt_csv_stmt_writer_free(struct fmt_csv_stmt_writer *w);

#endif
