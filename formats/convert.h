/*
 * convert.h - one door to every reader and writer: name a format, sniff a
 * file's format, and convert (or only validate) a file from one format to
 * another through the canonical model, streaming.
 *
 * Used by `h2hctl convert` / `h2hctl validate` (no daemon needed), by the
 * daemon when it validates what treasury drops, renders a payment into a
 * bank's format, and re-renders what a bank sends back into the format a
 * channel asks for.
 *
 * Families: a format belongs to one family, and conversion is only
 * possible inside a family:
 *   payments   pain.001 (read .02/.03/.09/.10/.11 where the reader can;
 *              write .03 or .09), MT101 (write only), CSV (read only),
 *              canonical <Payments>
 *   status     pain.002 (read; write .03 or .10), canonical <StatusReport>
 *   statements camt.052 / camt.053 / camt.054 (read; write .02 or .08),
 *              MT940 / MT942, CSV (write only), canonical <Statements>
 * The family of "canonical" and "csv" follows the input.
 * SWIFT output (MT101, MT940/942) is in the SWIFT X character set: text
 * outside it is transliterated (a-umlaut -> a), unless out_charset names
 * another charset for MT940/942.  pain.001 output gets GrpHdr/NbOfTxs and
 * CreDtTm from the source, else the counted totals and the time of the
 * conversion (CSV declares neither).
 *
 * Problems: everything wrong with the input is recorded in diag (line,
 * element path or column, rule id, words a treasury user understands),
 * all problems of a file together.
 *   - Payments are run through the payment validator (validate.h) with
 *     o->profile; any problem makes fmt_convert return H2H_EINVALID: a
 *     payment with a problem is never rendered for a bank.
 *   - Statements are run through the statement checker (stmtcheck.h); a
 *     bank's figures that do not add up are recorded in diag as problems
 *     with rule "stmt.balance" and counted in info->stmt_mismatches, but
 *     conversion still succeeds (return 0): the file is what the bank sent
 *     and is delivered, flagged, never forced.
 *   - Reader-level problems (not well-formed, DOCTYPE, wrong root, bad
 *     amount, ...) of any family make it return H2H_EINVALID.
 *
 * Return: 0 converted (out holds a complete document) or validated;
 * H2H_EINVALID input has problems (in diag; out holds garbage: write to a
 * temporary file and discard it); H2H_EUNSUPPORTED no such conversion
 * (families differ, or a read-only/write-only format on the wrong side;
 * err says which); other negative codes: I/O, memory, charset of the
 * output (err filled).
 *
 * Memory: flat in the size of the input: readers stream; when the target
 * needs totals the source does not declare (pain.001 GrpHdr/NbOfTxs from
 * CSV or canonical input without them), the input is read twice.
 *
 * Ownership: the caller owns src, o, out (opened and closed by the
 * caller), diag and info; release info with fmt_convert_info_release().
 * Threads: no globals beyond fmt_xml_init() (formats_init.h); any thread.
 */
#ifndef FMT_CONVERT_H
#define FMT_CONVERT_H

#include <stddef.h>
#include <stdio.h>

#include "h2h_err.h"
#include "model.h"
#include "validate.h"

enum fmt_format {
    FMT_UNKNOWN = 0,
    FMT_PAIN001,
    FMT_PAIN002,
    FMT_CAMT052,
    FMT_CAMT053,
    FMT_CAMT054,
    FMT_MT940,
    FMT_MT942,
    FMT_MT101,
    FMT_CANONICAL,
    FMT_CSV,
};

enum fmt_family {
    FMT_FAM_NONE = 0,
    FMT_FAM_PAYMENTS,
    FMT_FAM_STATUS,
    FMT_FAM_STATEMENTS,
};

/* A format with the message version to write (0 = the default: pain.001
 * .09, pain.002 .10, camt .08). */
struct fmt_target {
    enum fmt_format fmt;
    int version;
};

/*
 * Parse a format name as users write it, case-insensitive:
 *   "pain.001", "pain.001.001.03", "pain.001.001.09", "pain.002",
 *   "pain.002.001.03", "pain.002.001.10", "camt.052", "camt.053",
 *   "camt.054" (optionally ".001.02" / ".001.08"), "mt940", "mt942",
 *   "mt101", "canonical", "csv", and "auto" (FMT_UNKNOWN: detect).
 * 0, or H2H_EINVALID with err listing the accepted names.
 */
int fmt_format_parse(const char *s, struct fmt_target *out,
                     struct h2h_err *err);
/* "pain.001", "camt.053", "mt940", "canonical", ...; "unknown". */
const char *fmt_format_name(enum fmt_format f);

/*
 * Sniff src's format from its first 64 KiB: the ISO 20022 namespace (also
 * inside a head.001 business envelope), the canonical root, SWIFT MT field
 * tags (":20:" with ":25:"/":28C:" or a {2:I940/I942 block), a CSV header
 * row.  *fmt and *fam are set (FMT_UNKNOWN / FMT_FAM_NONE when nothing
 * matched, and that is not an error).  When the format is canonical or
 * CSV, *fam says which family the document holds.  0, or negative when
 * src cannot be read (err filled).
 */
int fmt_detect(const struct fmt_src *src, enum fmt_format *fmt,
               enum fmt_family *fam, struct h2h_err *err);

struct fmt_convert_opts {
    struct fmt_target from;     /* FMT_UNKNOWN: fmt_detect() */
    struct fmt_target to;       /* FMT_UNKNOWN: validate only, out unused */
    struct fmt_profile profile; /* payment rules and market practice; its
                                   practice and transliterate also drive
                                   the pain.001 writer */
    const char *out_charset;    /* MT940/942 output charset, NULL: SWIFT X */
    int mt_envelope;            /* MT940/942 output in {1:}{2:}{4:} blocks */
};

/*
 * Named profiles, as channels and `h2hctl --profile` name them:
 *   "none" (plain ISO 20022 rules), "sepa" (EPC SEPA, text outside the
 *   SEPA set is an error), "sepa-translit" (SEPA, such text is
 *   transliterated by the writer), "cgi" (CGI-MP cross-border).
 * Initialises *p (fmt_profile_init) and sets it; 0 or H2H_EINVALID with
 * err naming the known profiles.  NULL or "" is "none".
 */
int fmt_profile_by_name(const char *name, struct fmt_profile *p,
                        struct h2h_err *err);

/* Defaults: detect, validate only, fmt_profile_init(). */
void fmt_convert_opts_init(struct fmt_convert_opts *o);

/* What a conversion learnt about its input. */
struct fmt_convert_info {
    enum fmt_format from; /* as read (detected or given) */
    enum fmt_family fam;
    char msg_id[128];     /* MsgId / GrpHdr id / first :20:; "" if none */
    size_t n_groups;      /* payment groups or statements */
    size_t n_items;       /* transactions or entries */
    /* Payments: the distinct debtor accounts of all groups, as written
     * (IBAN or other id), in order of first appearance; malloc'd. */
    char **debtor_accounts;
    size_t n_debtor_accounts;
    size_t stmt_mismatches; /* statements whose figures do not add up */
};

void fmt_convert_info_release(struct fmt_convert_info *info);

/* Convert (or, with o->to.fmt == FMT_UNKNOWN, validate) src; see above.
 * out may be NULL when only validating; info may be NULL. */
int fmt_convert(const struct fmt_src *src, const struct fmt_convert_opts *o,
                FILE *out, struct fmt_diag *diag, struct fmt_convert_info *info,
                struct h2h_err *err);

/*
 * Read src straight into a sink, without validating or converting: the
 * reader of format fmt (FMT_UNKNOWN: fmt_detect() first).  For callers
 * that want the canonical model itself (the reconciliation reads
 * submitted payments and fetched statements this way).  Reader problems
 * go to diag as fmt_convert's do.  0, H2H_EINVALID (diag), H2H_EUNSUPPORTED
 * when src is not of the family asked for, or another negative code.
 */
int fmt_read_payments(const struct fmt_src *src, enum fmt_format fmt,
                      const struct fmt_pay_sink *sink, struct fmt_diag *diag,
                      struct h2h_err *err);
int fmt_read_statements(const struct fmt_src *src, enum fmt_format fmt,
                        const struct fmt_stmt_sink *sink,
                        struct fmt_diag *diag, struct h2h_err *err);

#endif
