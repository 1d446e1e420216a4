/*
 * pain002.h - ISO 20022 customer payment status report (pain.002): reader
 * into struct fmt_status_report and writer from it.
 *
 * Reader: pain.002.001.02, .03, .10, .11 and .13, detected from the
 * namespace (the Swiss ".../pain.002.001.03.ch.02.xsd" and German DK
 * namespaces read as the ISO version they restrict).  A report WITHOUT a
 * namespace is read leniently by element names (source_format "pain.002"):
 * banks do send those and a status must not be lost for want of an xmlns;
 * an unknown pain.002 version is refused.  Group, payment (B-level) and
 * transaction (C-level) statuses with reason codes, additional info (lines
 * joined with "\n"), original ids, UETR and original amount are read.  In
 * pain.002.001.02, which has no OrgnlPmtInfAndSts, transactions are grouped
 * into one payment per consecutive OrgnlPmtInfId.  Status reports are small
 * and read whole; counts are capped (FMT_PAIN002_MAX_TXS transactions,
 * FMT_PAIN002_MAX_REASONS reasons per element: H2H_ETOOBIG beyond).
 * Fatal (negative return): not well-formed, security refusal, not a
 * pain.002, caps exceeded.  Semantic problems (a bad amount, a missing
 * original message id) go to diag with line and path; 0 is returned.
 *
 * Writer: version 10 renders pain.002.001.10 valid against the official
 * XSD; version 3 renders the ISO pain.002.001.03 structure (the German DK
 * restriction of .03 additionally accepts only RJCT statuses, no InitgPty
 * and no AddtlInf, so only such reports validate against it).  Values are
 * checked before anything is written; on error nothing useful is in out.
 * AddtlInf lines longer than 105 characters are split into several
 * AddtlInf elements.  OrgnlUETR is only written in .10.
 *
 * Ownership: out of the reader is initialised by the reader (any previous
 * content is released first) and released by the caller with
 * fmt_status_report_release(), also after an error.
 * Threads: any thread, no shared state beyond fmt_xml_init().
 */
#ifndef FMT_PAIN002_H
#define FMT_PAIN002_H

#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

#define FMT_PAIN002_MAX_TXS 1000000
#define FMT_PAIN002_MAX_REASONS 100

int fmt_pain002_read(const struct fmt_src *src, struct fmt_status_report *out,
                     struct fmt_diag *diag, struct h2h_err *err);

/* version: 3 (pain.002.001.03) or 10 (pain.002.001.10). */
int fmt_pain002_write(FILE *out, const struct fmt_status_report *r, int version,
                      struct h2h_err *err);

#endif
