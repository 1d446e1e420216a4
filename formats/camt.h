/*
 * camt.h - ISO 20022 cash management: camt.052 (account report), camt.053
 * (statement) and camt.054 (debit/credit notification), read into and
 * written from the canonical statement model (model.h).
 *
 * Reader.  fmt_camt_read() streams one file through a hardened
 * xmlTextReader (xmlsafe.h) and emits
 *     begin(doc) { stmt_begin(st) entry(st, e)* stmt_end(st) }* end(doc)
 * into the sink.  Memory stays flat: one entry (with its TxDtls) is held at
 * a time and released right after the entry() call.  stmt_begin() is sent
 * at the first Ntry (the schema puts every balance and TxsSummry before the
 * entries) or at the end of a statement without entries; stmt_end() carries
 * the final struct (AddtlStmtInf / AddtlRptInf / AddtlNtfctnInf come last).
 * Rpt (camt.052) and Ntfctn (camt.054) are statements in the model, with
 * doc->kind telling which.
 *
 * Versions: camt.05x.001.01 to .001.12 are recognised by the namespace of
 * <Document>; .02, .04 and .08 are the ones tested against real files.
 * Field mapping covers both generations (e.g. .02 <Sts>BOOK</Sts> and .08
 * <Sts><Cd>BOOK</Cd></Sts>, Dbtr/Nm and Dbtr/Pty/Nm, BIC and BICFI,
 * BICOrBEI and AnyBIC, TxDtls/AmtDtls/TxAmt/Amt and TxDtls/Amt).  A
 * <Document> wrapped in a business envelope (head.001 AppHdr next to it,
 * inside <Envelope>, <BizMsgEnvlp>, <BizMsg>, ...) is unwrapped; AppHdr is
 * skipped.
 *
 * Mapping choices the model leaves open:
 *   - an entry detail's counterparty (cpty, cpty_acct, cpty_agt, ult_cpty)
 *     is the creditor side (Cdtr, CdtrAcct, CdtrAgt, UltmtCdtr) for a debit
 *     and the debtor side for a credit; the direction is TxDtls/CdtDbtInd
 *     when the detail has one, else the entry's CdtDbtInd;
 *   - the detail amount is TxDtls/Amt, else AmtDtls/TxAmt/Amt, else
 *     AmtDtls/InstdAmt/Amt;
 *   - BookgDt/ValDt and balance dates keep a DtTm timestamp as given when
 *     only DtTm is present;
 *   - repeated Ustrd and AddtlRmtInf are joined with "\n"; of repeated
 *     Strd / RfrdDocInf / Othr the first wins;
 *   - TxsSummry sums are read in the account currency (Acct/Ccy), else the
 *     currency of the first balance.
 *
 * Errors.  Only what stops reading is fatal and returned (err filled):
 * not well-formed or refused XML (H2H_EPARSE, H2H_ESECURITY, H2H_ETOOBIG),
 * a document that is not camt.052/053/054 (H2H_EUNSUPPORTED: no or unknown
 * namespace, no BkToCstmr* message), a sink callback's negative code, and
 * H2H_ENOMEM.  Every other problem (missing mandatory element, bad amount,
 * more decimals than the currency has, bad date, ...) goes to diag with a
 * line, an element path such as "Stmt[1]/Ntry[3]/Amt" and a rule id
 * "camt.*", and reading goes on; the caller rejects a file whose diag is
 * not empty.  diag may be NULL.
 *
 * Writer.  fmt_camt_writer_new() returns a sink that renders camt.052,
 * .053 or .054 in version .001.02 or .001.08 to a FILE*, streaming: the
 * group header on begin(), statement header and balances on stmt_begin(),
 * one <Ntry> per entry(), the closing part on stmt_end() and end().  The
 * output validates against the official ISO 20022 XSD.  Elements that the
 * schema requires but the model may lack get generated values:
 *   - GrpHdr/MsgId: "H2H" + UTC time "YYYYMMDDhhmmss" when doc->msg_id is
 *     missing; GrpHdr/CreDtTm and Stmt/CreDtTm: the doc's, else now (UTC);
 *   - Stmt/Id: "<MsgId>-<n>" (n = 1, 2, ...);
 *   - Acct/Id: Othr/Id "NOTPROVIDED" when the account has neither an IBAN
 *     nor another id (an IBAN that does not have the IBAN shape is written
 *     as Othr/Id);
 *   - Ntry/Sts: "BOOK" when absent; Ntry/BkTxCd: an empty <BkTxCd/> (all
 *     of its children are optional);
 *   - StmtPgntn/LastPgInd (.08): "true" (the model has no last-page flag);
 *   - Bal/Dt: the date part of the statement's ToDtTm, else of its
 *     CreDtTm, else today (UTC), when a balance has no valid date.
 * Values that the schema would refuse are left out rather than written:
 * a BIC, country, currency or UETR of the wrong shape, a non-numeric
 * ElctrncSeqNb / LglSeqNb, a page number that is not 1-5 digits, an
 * invalid date.  An IBAN of the wrong shape is written as Othr/Id.  Codes
 * outside a closed .02 code list (balance type, account type, document
 * types) or longer than an external code (4) are written as Prtry; a .02
 * entry status other than BOOK / PDNG / INFO is written as INFO.  Text
 * longer than the schema allows is cut at a character boundary; line
 * breaks inside single-line text become spaces, while rmt_ustrd and
 * AddtlRmtInf lines become repeated elements (a line longer than 140
 * characters is split over several; AddtlRmtInf stops at 3).  Not
 * representable, therefore dropped: entry cust_ref, stmt related_ref, a party's
 * prvt_id when it also has an organisation id (Id is a choice), an account's
 * other_id when it also has an IBAN; in .02 the UETR and the statement page
 * number; in camt.054 the balances (the schema has none).  Only the
 * counterparty side of a detail is written (RltdPties Dbtr* for a credit, Cdtr*
 * for a debit), matching what the reader maps. camt.053 requires at least one
 * balance: a statement without any makes stmt_begin fail with H2H_EINVALID.
 *
 * Ownership: the writer does not own out (the caller opens and closes it).
 * fmt_camt_writer_free() accepts NULL.  Not thread-safe per writer; use one
 * writer per thread.
 */
#ifndef FMT_CAMT_H
#define FMT_CAMT_H

#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

/* Read one camt.052/053/054 file into sink; see above for errors. */
int fmt_camt_read(const struct fmt_src *src, const struct fmt_stmt_sink *sink,
                  struct fmt_diag *diag, struct h2h_err *err);

struct fmt_camt_opts {
    int msg;     /* 52, 53 or 54 */
    int version; /* 2 or 8 */
};

struct fmt_camt_writer;

/* New writer to out; NULL on ENOMEM or invalid options (msg not 52/53/54,
 * version not 2/8, out NULL). */
struct fmt_camt_writer *fmt_camt_writer_new(FILE *out,
                                            const struct fmt_camt_opts *o);
/* The sink view of w (ctx = w); valid as long as w lives. */
struct fmt_stmt_sink fmt_camt_writer_sink(struct fmt_camt_writer *w);
/* Check that the document was closed (end() seen) and flush out;
 * 0, H2H_ESTATE (incomplete document), H2H_EIO / -errno (write failed), or
 * the first error a sink callback returned. */
int fmt_camt_writer_finish(struct fmt_camt_writer *w, struct h2h_err *err);
void fmt_camt_writer_free(struct fmt_camt_writer *w);

#endif
