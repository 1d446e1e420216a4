/*
 * csv_pay.h - treasury's CSV payment file -> canonical payment batch: a
 * streaming reader emitting struct fmt_pay_sink events.  The format is
 * documented for treasury users in formats/CSV.md; this comment is the
 * contract for code.
 *
 * File: RFC 4180.  The first record is a header row naming the columns;
 * names are matched without regard to case and surrounding blanks, order
 * is free.  The separator is ',' or ';', whichever occurs more often
 * outside quotes in the header row (',' on a tie).  Records end in CRLF or
 * LF; a field in double quotes may hold separators, quotes (doubled) and
 * line breaks (kept as "\n").  Unquoted fields are trimmed of blanks; empty
 * fields are absent.  Blank lines are skipped.  Text is UTF-8 (a BOM is
 * skipped) unless the caller declares src->charset (e.g. "GB18030"), in
 * which case every field is converted to UTF-8 through charset.h; a byte
 * sequence that does not decode is a problem with its line and column.
 *
 * Columns (R required, * one of the group required):
 *   msg_id R            message id; the same in every row (one file = one
 *                       batch)
 *   pmt_inf_id          payment group id; when the column is absent each
 *                       group gets "<msg_id>-<n>" (n = 1, 2, ... in order)
 *   execution_date R    requested execution date, YYYY-MM-DD
 *   debtor_name R
 *   debtor_iban *       debtor account, IBAN (blanks removed, capitals)
 *   debtor_account *    or another account number (e.g. Chinese account)
 *   debtor_bic          debtor agent BIC
 *   service_level       e.g. SEPA, URGP
 *   category_purpose    e.g. SALA, SUPP
 *   instr_id            instruction id
 *   end_to_end_id       end-to-end id; "NOTPROVIDED" when absent
 *   amount R            decimal, '.' as decimal point (',' also accepted
 *                       when the separator is ';'); no sign, no thousands
 *                       separator, at most the currency's decimals
 *   currency R          ISO 4217 code
 *   charge_bearer       DEBT, CRED, SHAR, SLEV
 *   creditor_name R
 *   creditor_iban *     creditor account, IBAN
 *   creditor_account *  or another account number
 *   creditor_bic        creditor agent BIC, or:
 *   creditor_clearing_system + creditor_clearing_id   e.g. CNAPS + member
 *   creditor_street, creditor_postcode, creditor_town, creditor_country
 *   remittance          unstructured remittance text (may span lines)
 *   purpose             purpose code, e.g. SALA
 *   uetr                UUIDv4 (stored in lower case)
 *
 * Groups: consecutive rows with the same pmt_inf_id, debtor
 * (name, IBAN, account, BIC), execution date, service level and category
 * purpose form one payment group (fmt_pay_group).  Streaming needs groups
 * contiguous: rows of a group that reappear after another group are a
 * problem ("csv.group.split"), as is one pmt_inf_id used for two different
 * groups.  Sort the file by those columns.
 *
 * Totals: CSV declares none, so the reader makes a cheap first pass that
 * counts the data rows and sums the amounts; the header given to begin()
 * carries nb_of_txs and ctrl_sum (in 1/1000 units over all currencies) so
 * that writers needing NbOfTxs up front work.  Groups declare no totals
 * (nb_of_txs -1).  source_format is "csv.pay.1".  Lines: tx->line is the
 * line where the row starts, grp->line that of its first row.
 *
 * Problems: format-level only (columns, quoting, charset, required fields,
 * amount / currency / date / UETR syntax, grouping); business rules (IBAN
 * and BIC checks, amount > 0, lengths, uniqueness) belong to the validator
 * (validate.h).  Every problem is reported with line and column name in
 * diag and reading goes on, so a file shows all of its problems at once;
 * rows are emitted even when they have problems (the caller rejects the
 * file when diag->n > 0).  Rules: csv.column.unknown, csv.column.duplicate,
 * csv.column.missing, csv.columns (field count), csv.quote, csv.charset,
 * csv.required, csv.amount, csv.currency, csv.date, csv.uetr,
 * csv.clearing, csv.msg_id, csv.group.split, csv.pmt_inf_id, csv.size,
 * csv.empty.
 *
 * Return: 0 when the file was read (look at diag->n), negative on a fatal
 * error (err filled): cannot open / read, unknown charset, no header row,
 * out of memory, or the sink's own negative code.  Caps: 64 KiB per field,
 * 64 columns (more is a problem; the record is still read).
 *
 * Ownership: nothing is kept after return; structs given to the sink are
 * valid only during the call.  Threads: no globals; any thread.
 */
#ifndef FMT_CSV_PAY_H
#define FMT_CSV_PAY_H

#include "h2h_err.h"
#include "model.h"

#define FMT_CSV_MAX_FIELD (64u * 1024u)
#define FMT_CSV_MAX_COLS 64

int fmt_csv_pay_read(const struct fmt_src *src, const struct fmt_pay_sink *sink,
                     struct fmt_diag *diag, struct h2h_err *err);

#endif
