/*
 * validate.h - the payment validator: every business rule a bank would
 * reject a batch for, checked before anything leaves the house.
 *
 * Purpose: a tee sink between a payment reader and a writer
 *
 *     reader(src) -> validator -> writer
 *
 * It checks each event, records every problem in a struct fmt_diag (line,
 * element path such as "PmtInf[2]/CdtTrfTxInf[5]/CdtrAcct/Id/IBAN", a
 * stable rule id, words a treasury user understands) and forwards the
 * event unchanged to the next sink.  Problems never abort the stream: a
 * file is judged on all of its problems at once.  Only a negative return
 * of the next sink (or out of memory) aborts.
 *
 * Rules: identifiers present and at most 35 characters (MsgId, PmtInfId,
 * EndToEndId, InstrId), names at most 140, each remittance line at most
 * 140; IBAN, BIC, ISO 4217 currency, ISO 3166 country codes; amount > 0;
 * requested execution date a real date not further in the past than the
 * tolerance; MsgId, PmtInfId and EndToEndId unique in the file (EndToEndId
 * "NOTPROVIDED" excepted) and, through the seen_before callback, across
 * recent files; declared NbOfTxs / CtrlSum of each PmtInf and of the
 * group header equal to the computed ones.
 *   SEPA: EUR only, amounts at most 999999999.99, IBAN accounts, SvcLvl
 *   SEPA when given, ChrgBr SLEV when given, one remittance line, SEPA
 *   character set in ids (always) and in names / remittance (unless the
 *   profile transliterates, since the writer then does).
 *   CGI: creditor agent BIC or clearing member id, and a structured
 *   postal address with country for debtor and creditor.
 * Rule ids are listed in validate.c next to each check; they are stable
 * and may be matched by tests and by treasury tooling.
 *
 * Memory: constant per transaction; id uniqueness keeps 64-bit hashes
 * only (8 bytes per id, about 16 MB for 1,000,000 transactions).  A hash
 * collision could report a false duplicate with odds around 1e-8 for a
 * million ids.
 *
 * Lifecycle / ownership: fmt_pay_validator_new copies the profile (and
 * its today string); diag and next must outlive the validator and stay
 * owned by the caller.  _finish once after the reader returned, then
 * _free (accepts NULL).
 *
 * Threads: one validator per conversion; no globals.
 */
#ifndef FMT_VALIDATE_H
#define FMT_VALIDATE_H

#include "h2h_err.h"
#include "model.h"

enum fmt_practice {
    FMT_PRACTICE_NONE = 0, /* plain ISO 20022 rules */
    FMT_PRACTICE_SEPA = 1, /* EPC SEPA Credit Transfer */
    FMT_PRACTICE_CGI = 2,  /* CGI-MP cross-border / multi-bank */
};

struct fmt_profile {
    enum fmt_practice practice;
    int transliterate;            /* writer maps text to the SEPA set */
    int exec_date_tolerance_days; /* how many days ReqdExctnDt may lie in
                                     the past; 0 = none (_init sets 7) */
    const char *today;            /* "YYYY-MM-DD"; NULL = today in UTC */
    /* Optional: 1 if id of kind ("MsgId", "PmtInfId", "EndToEndId") was
     * seen in a recent file, 0 if not, negative when unknown. */
    int (*seen_before)(void *ctx, const char *kind, const char *id);
    void *seen_ctx;
};

/* Defaults: practice NONE, no transliteration, tolerance 7 days. */
void fmt_profile_init(struct fmt_profile *p);

/* "none", "sepa", "cgi" (any case) -> practice; 0 or H2H_EINVALID. */
int fmt_practice_parse(const char *s, enum fmt_practice *out);

struct fmt_pay_validator;

/* p may be NULL (defaults); next may be NULL (validate only).  Returns
 * NULL on out of memory or an invalid p->today. */
struct fmt_pay_validator *
fmt_pay_validator_new(const struct fmt_profile *p, struct fmt_diag *diag,
                      const struct fmt_pay_sink *next);

/* The sink to hand to a reader; valid while v lives. */
struct fmt_pay_sink fmt_pay_validator_sink(struct fmt_pay_validator *v);

/* Checks the group header totals against what was seen (when the end
 * event came) and returns the number of problems in diag (recorded plus
 * dropped), 0 when the batch is clean; H2H_ENOMEM if the validator ran out
 * of memory while streaming. */
int fmt_pay_validator_finish(struct fmt_pay_validator *v);

void fmt_pay_validator_free(struct fmt_pay_validator *v);

#endif
