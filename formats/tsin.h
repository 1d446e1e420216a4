/*
 * tsin.h - ISO 20022 invoice financing (Trade Services Initiation) in and
 * out of the canonical supply-chain finance model (scf.h):
 *
 *   tsin.001.001.01 InvoiceFinancingRequestV01 (InvcFincgReq)
 *                                       <-> struct fmt_scf_request
 *   tsin.002.001.01 InvoiceFinancingRequestStatusV01 (InvcFincgReqSts)
 *                                       <-> struct fmt_scf_status_report
 *   tsin.003.001.01 InvoiceFinancingCancellationRequestV01 (InvcFincgCxlReq)
 *                                       <-> struct fmt_scf_cancel
 *
 * Treasury or h2hd sends tsin.001 and tsin.003 to a bank; the bank answers
 * with tsin.002, which h2hd may also render for treasury.  The mapping of
 * every field is the one scf.h documents; this header adds only what scf.h
 * leaves open.  formats/schemas/tsin.00N.001.01.xsd are h2hd's
 * reconstructions of the public message definitions (see their header);
 * everything the writers produce validates against them.
 *
 * ==== Lossless ====
 *
 * For every struct a writer accepts, reading its output gives the same
 * struct field by field, up to these normalisations (the model defines
 * each pair as the same thing):
 *   - text is written and read without surrounding white space;
 *   - tsin.001: TtlTaxblAmt equal to TtlInvcAmt reads as taxable absent,
 *     TtlTaxAmt 0 as tax absent, PmtMtd TRF as pmt_method NULL, and for
 *     kind receivable a supplier identical to the requestor (which is what
 *     the writer puts in the mandatory Spplr when seller is empty) as
 *     seller empty;
 *   - tsin.002: TtlFincdAmt 0 reads as financed absent;
 *   - fmt_scf_invoice.line and the report status are read, not written:
 *     the line is the source line, the status is derived (below).
 * Three model fields exist for bank dialects only (scf.h) and are never
 * written: fmt_scf_status_report.interest_rate and .loan_ref,
 * fmt_scf_cancel.reason_code.  Everything else a message cannot carry
 * makes the writer fail naming the field, never drops it.
 *
 * ==== What the 2008 components can carry ====
 *
 * tsin uses the 2008 repository components, narrower than pain's:
 *   requestor (FincgRqstr/PtyId, PartyIdentification25): name (Nm,
 *     mandatory), org_bic (BEI), org_id (PrtryId/Id with IdTp =
 *     org_id_scheme, "NOTPROVIDED" when the model has none).  An address,
 *     prvt_id or ctry_of_res of the requestor is refused.
 *   supplier, buyer (PartyIdentification8): name, address (PstlAdr: at
 *     most 5 AdrLine, Ctry mandatory once any part is given, no dept),
 *     org_bic (Id/OrgId/BIC), org_id (Id/OrgId/TaxIdNb for scheme TXID,
 *     BkPtyId for BANK, else PrtryId/Id with Issr = scheme), prvt_id
 *     (Id/PrvtId/OthrId, IdTp "NOTPROVIDED"; not together with org ids),
 *     ctry_of_res.
 *   account (CashAccount7): iban (IBAN), other_id (BBAN for scheme BBAN,
 *     UPIC for UPIC, else PrtryAcct/Id, max 34, no other scheme), type
 *     (Tp/Cd when a CashAccountType4Code, else Tp/Prtry), ccy, name.
 *   agent (FinancialInstitutionIdentification6): bic (BIC), clearing
 *     member id with system (PrtryId, IdTp = clr_sys) or without
 *     (ClrSysMmbId/OthrClrCdId), other_id (PrtryId, IdTp "NOTPROVIDED").
 *     An agent's name or address is refused.
 *   reasons (StatusReason4Choice): code (Cd, a FinancingStatusReason1Code:
 *     CA01 CA02 CA03 AC01 AC04 AC06 BE08 BE09 BE10 BE11 DT02 ID01 ID02 ID03
 *     MI01 NA01) or prtry (Prtry), not both; addtl_info lines ("\n") are
 *     one AddtlStsRsnInf each, 1 to 105 characters.
 *
 * ==== tsin.002 ====
 *
 * The status is not a tsin field: the reader derives it as scf.h says
 * (VldtnStsInf RCER or every item NTFD: rejected; else CxlStsInf PACK:
 * cancelled; else a CdtDt: financed; else any FNCD: approved; else
 * under_review when FincgInfAndSts is present, submitted when not), and
 * the writer refuses a report whose status it would read back otherwise
 * (e.g. repaid, or approved without an accepted invoice).
 * FincgInfAndSts is written when the report has invoice results or any
 * financing term; tsin then needs at least one invoice result, each with
 * the invoice's amount, issue and due date (OrgnlInvcInf), and
 * n_financed_items and accepted_total (FincdItmNb, TtlAccptdItmsAmt).  A
 * report from a bank dialect that lacks them can get them from its
 * request with fmt_tsin002_complete().  Only one BookDt is kept.
 * Echoes of the request in OrgnlReqInfAndSts (FincgRqstr, IntrmyAgt,
 * FrstAgt) are skipped on reading: the request has them.
 *
 * ==== Reading ====
 *
 * Streaming through xmlsafe.h (no DTD, no network, depth and size caps).
 * The namespace must be the message's own; a document without one is read
 * by element names (banks do send those).  Fatal, with a negative return,
 * err filled and the same problem in diag: not well-formed (rule
 * tsin.xml), DOCTYPE or other security refusal (tsin.xml), another root or
 * message (tsin.root), another namespace (tsin.namespace), more than
 * FMT_TSIN_MAX_INVOICES invoices (tsin.toobig).  Everything else is a
 * problem in diag with line and element path ("InvcReqInf[2]/InvcTtlsInf/
 * TtlInvcAmt") and the reader returns 0 with what it could read:
 *   tsin.element.missing      a mandatory element is absent
 *   tsin.element.unknown      not an element of the message
 *   tsin.element.unsupported  in the message but not in the model (e.g.
 *                             Authstn, CtctInf, Adjstmnt): not read
 *   tsin.element.repeated     a second one where h2hd keeps one
 *   tsin.instalment.unsupported  InstlmtInf / InstlmtFincgInf
 *   tsin.amount.invalid, tsin.amount.ccy, tsin.date.invalid,
 *   tsin.datetime.invalid, tsin.rate.invalid, tsin.number.invalid,
 *   tsin.code.invalid         a value that is not what the type allows
 *   tsin.count.mismatch, tsin.sum.mismatch  NbOfInvcReqs / TtlBlkInvcAmt
 *                             disagree with the invoices
 *   tsin.addtlinf.unsupported an AddtlInf that is not one of h2hd's
 * A caller must treat a non-empty diag as a file it cannot trust.
 *
 * Lifecycle and ownership: a reader releases and re-initialises *out
 * first; the caller releases it with the scf.h _release function, also
 * after an error.  A writer renders into memory and writes to out only
 * when everything was valid, so on error nothing is written; out is not
 * closed.
 *
 * Errors: 0 or a negative H2H_E* code with err (may be NULL) filled:
 * H2H_EINVALID (a value the message cannot carry, naming its element
 * path), H2H_EUNSUPPORTED (not this message), H2H_EPARSE, H2H_ESECURITY,
 * H2H_ECHARSET, H2H_ETOOBIG, H2H_ENOMEM, H2H_EIO.
 *
 * Threads: no shared state beyond fmt_xml_init(); any thread.
 */
#ifndef FMT_TSIN_H
#define FMT_TSIN_H

#include <stddef.h>
#include <stdio.h>

#include "h2h_err.h"
#include "model.h"
#include "scf.h"

#define FMT_TSIN_MAX_INVOICES 100000

enum fmt_tsin_msg {
    FMT_TSIN_NONE = 0,
    FMT_TSIN_001 = 1, /* tsin.001.001.01, InvcFincgReq */
    FMT_TSIN_002 = 2, /* tsin.002.001.01, InvcFincgReqSts */
    FMT_TSIN_003 = 3, /* tsin.003.001.01, InvcFincgCxlReq */
};

/* Which tsin message buf holds, from the namespace in its first 4 KiB
 * (else from the message element's name): FMT_TSIN_001..003 or 0. */
int fmt_tsin_detect(const char *buf, size_t len);

int fmt_tsin001_write(FILE *out, const struct fmt_scf_request *r,
                      struct h2h_err *err);
int fmt_tsin001_read(const struct fmt_src *src, struct fmt_scf_request *out,
                     struct fmt_diag *diag, struct h2h_err *err);

int fmt_tsin002_write(FILE *out, const struct fmt_scf_status_report *r,
                      struct h2h_err *err);
int fmt_tsin002_read(const struct fmt_src *src,
                     struct fmt_scf_status_report *out, struct fmt_diag *diag,
                     struct h2h_err *err);

/* Fill in rep what tsin.002 needs and a bank dialect may not report, from
 * the request it answers: each invoice result's invoice amount, issue and
 * due date (matched by number, and by seller when both name one); when
 * rep has financing terms but no invoice results, one result per invoice
 * of req with the item status its status implies (approved, financed:
 * accepted; rejected: rejected; else pending); n_financed_items and
 * accepted_total (the accepted items and their invoice amounts) when
 * absent.  Nothing else changes.  0, H2H_EINVALID (rep answers another
 * request), H2H_ENOTFOUND (a result names no invoice of req) or
 * H2H_ENOMEM; rep is unchanged on error. */
int fmt_tsin002_complete(struct fmt_scf_status_report *rep,
                         const struct fmt_scf_request *req,
                         struct h2h_err *err);

int fmt_tsin003_write(FILE *out, const struct fmt_scf_cancel *c,
                      struct h2h_err *err);
int fmt_tsin003_read(const struct fmt_src *src, struct fmt_scf_cancel *out,
                     struct fmt_diag *diag, struct h2h_err *err);

#endif
