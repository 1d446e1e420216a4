/*
 * mt101.h - SWIFT MT101 (Request for Transfer) writer, fed by the
 * canonical payment sink.
 *
 * Each payment group (pain.001 PmtInf) becomes one MT101 message: sequence
 * A carries :20: sender's reference (the group's PmtInfId, else the
 * header's MsgId; 16x), :28D: 1/1, :50H: ordering customer (/account and
 * up to 4 lines of 35 characters of name and address), :52A: the debtor
 * agent's BIC when known, :30: requested execution date (YYMMDD); one
 * sequence B per transaction carries :21: (InstrId, else EndToEndId; 16x),
 * :32B: currency and amount with ',' as decimal separator, :57A: the
 * creditor agent's BIC (or :57D: with //<clearing code><member id> and the
 * agent's name when only a clearing id is known), :59: beneficiary
 * (/account and 4*35x), :70: remittance information (4*35x), :71A:
 * charges (DEBT->OUR, CRED->BEN, SHAR/SLEV/none->SHA).
 *
 * Text must be in the SWIFT X character set (a-z A-Z 0-9 / - ? : ( ) . ,
 * ' + space) and no line may start with ':' or '-'; otherwise the writer
 * fails with H2H_ECHARSET naming the field, unless opts.transliterate
 * (then fmt_sepa_transliterate() is applied and a leading ':' or '-'
 * becomes '.').  Too long values fail with H2H_EINVALID naming the field
 * (nothing is truncated silently).  Lines end with CRLF.  The message is
 * wrapped in {4: ... -}; {1:}/{2:} header blocks are written only when
 * both logical terminal addresses are given.
 *
 * Lifecycle and ownership as in pain001.h: the caller owns out; the first
 * error a callback meets is kept and returned by _finish(); _free accepts
 * NULL.  Threads: one writer per thread.
 */
#ifndef FMT_MT101_H
#define FMT_MT101_H

#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

struct fmt_mt101_opts {
    const char *sender_lt;   /* 12 characters (BIC8 + terminal + branch), or
                                NULL for no {1:} block */
    const char *receiver_lt; /* 12 characters for {2:I101...N}, or NULL */
    int transliterate;
};

struct fmt_mt101_writer;

/* NULL on out of memory or logical terminals that are not 12 characters. */
struct fmt_mt101_writer *fmt_mt101_writer_new(FILE *out,
                                              const struct fmt_mt101_opts *o);
struct fmt_pay_sink fmt_mt101_writer_sink(struct fmt_mt101_writer *w);
int fmt_mt101_writer_finish(struct fmt_mt101_writer *w, struct h2h_err *err);
const struct h2h_err *fmt_mt101_writer_error(const struct fmt_mt101_writer *w);
void fmt_mt101_writer_free(struct fmt_mt101_writer *w);

#endif
