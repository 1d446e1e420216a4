/*
 * stmtcheck.h - statement checker: a tee sink that checks that the bank's
 * own figures add up, whatever the statement format (camt.052/053/054,
 * MT940/MT942, ...).
 *
 * Use: put it between a statement reader and the next sink
 *     reader(src) -> checker -> next (may be NULL)
 * Every callback is passed on to next unchanged; the checker's own
 * findings go to diag.  A negative code from next is returned to the
 * reader as is (the checker never aborts on its own findings).
 *
 * Rule "stmt.balance": for each statement that has both an opening booked
 * balance (OPBD, else PRCD) and a closing booked balance (CLBD),
 *     opening + booked credits - booked debits == closing.
 * Booked entries are those whose sts is "BOOK" or absent (MT940 has no
 * status); PDNG / INFO entries are left out.  An entry's `credit` is the
 * direction in which it was booked on the account, as ISO 20022 defines
 * CdtDbtInd: a reversal of a credit is booked as a debit (CdtDbtInd DBIT,
 * RvslInd true) and lowers the balance, a reversal of a debit raises it.
 * Readers of formats with other conventions map to this one (MT940 "RC" is
 * credit = 0, reversal = 1; "RD" is credit = 1, reversal = 1).  When the
 * figures do not add up but would with the reversal entries counted the
 * other way round, the message says so.  If the statement names several
 * opening balances the first counts, of several closing ones the last.
 *
 * Rule "stmt.ccy": the opening and closing balances, and every booked
 * entry, must be in the same currency; a statement that breaks it is
 * reported and not summed.
 *
 * Lifecycle: _new, use the sink for one document, _finish (returns the
 * number of problems the checker added to diag), _results, _free (accepts
 * NULL).  diag and next are not owned and must outlive the checker.
 * Not thread-safe per checker.
 */
#ifndef FMT_STMTCHECK_H
#define FMT_STMTCHECK_H

#include <stddef.h>

#include "model.h"

struct fmt_stmt_checker;

struct fmt_stmt_check_results {
    size_t statements;  /* statements seen */
    size_t checked;     /* with both an opening and a closing balance */
    size_t balanced;    /* checked, same currency, and adding up */
    size_t unbalanced;  /* checked and not adding up (or mixed currency) */
    size_t no_balances; /* without both balances: nothing to check */
    size_t problems;    /* problems added to diag */
};

/* NULL on ENOMEM.  diag may be NULL (then only the results count). */
struct fmt_stmt_checker *fmt_stmt_checker_new(struct fmt_diag *diag,
                                              const struct fmt_stmt_sink *next);
/* The sink view of c (ctx = c); valid as long as c lives. */
struct fmt_stmt_sink fmt_stmt_checker_sink(struct fmt_stmt_checker *c);
/* Number of problems found (0: every checked statement adds up). */
int fmt_stmt_checker_finish(struct fmt_stmt_checker *c);
void fmt_stmt_checker_results(const struct fmt_stmt_checker *c,
                              struct fmt_stmt_check_results *out);
void fmt_stmt_checker_free(struct fmt_stmt_checker *c);

#endif
