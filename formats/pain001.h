/*
 * pain001.h - ISO 20022 customer credit transfer initiation (pain.001):
 * a streaming reader into the canonical payment sink and a streaming
 * writer that is itself a payment sink.
 *
 * Reader: versions pain.001.001.02, .03, .09, .10 and .11, detected from
 * the namespace of <Document>; the German DK (pain.001.002.03,
 * pain.001.003.03, urn:sepade:...) and Swiss SIX (.../pain.001.001.03.ch.02
 * .xsd) namespaces are read as the ISO version they restrict.  A document
 * without a namespace or with an unknown one is refused.  One transaction
 * at a time is held in memory and released after the sink call, so memory
 * stays flat whatever the size of the file.  The XML parser comes from
 * xmlsafe.h (no DTD, no network, depth and size caps).
 *
 * Reader errors: the return value is fatal only for input that is not
 * well-formed XML, refused for security, not a pain.001 at all, or when
 * the sink aborts (its code is returned).  Everything else (an amount with
 * more decimals than its currency allows, a declared NbOfTxs or CtrlSum
 * that does not add up, a missing mandatory element, a bad date) goes into
 * diag with line and element path, and reading continues: 0 means "the
 * document was read", the caller then looks at diag->n.  Unknown elements
 * are skipped.
 *
 * Writer: a struct fmt_pay_sink that renders pain.001.001.03 or .09 with
 * fprintf to a FILE * as events arrive (no DOM).  GrpHdr/NbOfTxs is
 * mandatory in pain.001, so the header given to begin() must declare
 * nb_of_txs (begin() fails with H2H_EINVALID otherwise: run a totals
 * pre-pass first); PmtInf NbOfTxs/CtrlSum are written only when the group
 * declares them.  Output is valid against the official XSDs.  Market
 * practice rules (SEPA: service level SEPA, EUR only, SEPA character set,
 * charges SLEV; CGI-MP: structured postal addresses, creditor agent by BIC
 * or clearing system member id) are enforced, not silently repaired,
 * except that opts.transliterate allows text outside the SEPA set to be
 * transliterated.  A callback that fails returns a negative code and
 * keeps the first error; fmt_pain001_writer_finish() returns it.
 *
 * Ownership: the writer does not own out (the caller opens, flushes and
 * closes it); fmt_pain001_writer_free() frees the writer (NULL is fine).
 *
 * Threads: no globals beyond fmt_xml_init(); one reader or writer per
 * thread at a time.
 */
#ifndef FMT_PAIN001_H
#define FMT_PAIN001_H

#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

/* Read src, emitting events into sink.  0 when the document was read (diag
 * may hold problems), negative on a fatal error (err filled). */
int fmt_pain001_read(const struct fmt_src *src, const struct fmt_pay_sink *sink,
                     struct fmt_diag *diag, struct h2h_err *err);

enum fmt_pain001_mp {
    FMT_PAIN001_MP_NONE = 0, /* plain ISO 20022 */
    FMT_PAIN001_MP_SEPA = 1, /* EPC SEPA credit transfer */
    FMT_PAIN001_MP_CGI = 2,  /* Common Global Implementation */
};

struct fmt_pain001_opts {
    int version;         /* 3 (pain.001.001.03) or 9 (pain.001.001.09) */
    int market_practice; /* enum fmt_pain001_mp */
    int transliterate;   /* SEPA: transliterate text outside the SEPA set
                            instead of failing with H2H_ECHARSET */
};

struct fmt_pain001_writer;

/* A writer rendering to out; NULL on bad options (version not 3 or 9) or
 * out of memory. */
struct fmt_pain001_writer *
fmt_pain001_writer_new(FILE *out, const struct fmt_pain001_opts *o);
/* The sink feeding w (ctx is w). */
struct fmt_pay_sink fmt_pain001_writer_sink(struct fmt_pain001_writer *w);
/* Check that the document was completed and written; 0 or the first error
 * any callback met (err filled with its message), or H2H_EIO. */
int fmt_pain001_writer_finish(struct fmt_pain001_writer *w,
                              struct h2h_err *err);
/* The first error a callback met (code 0 when none); valid until free. */
const struct h2h_err *
fmt_pain001_writer_error(const struct fmt_pain001_writer *w);
void fmt_pain001_writer_free(struct fmt_pain001_writer *w);

#endif
