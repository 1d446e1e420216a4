/*
 * canon_scf.c - canonical XML for supply-chain finance; see canon_scf.h.
 *
 * Only tables, the voucher operation's shape check and the glue to
 * fmt_scf_request_check() live here: writing and reading are
 * canon_common's, so scf.xsd, the writer and the reader follow one
 * description.  The tables list every field of scf.h in schema order;
 * each row names the scf.xsd element that carries the field.  The
 * branches of <ScfRequest> are read into struct fmt_canon_scf_request
 * itself (offsets relative to it), so that each can record the line of
 * its start tag for the problems the model checks find later.
 */
#include "canon_scf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon_common.h"
#include "ident.h"

/* The engine reads and writes enums as int. */
_Static_assert(sizeof(enum fmt_scf_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_scf_status) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_scf_item) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_scf_cancel_answer) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_scf_repay_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_voucher_status) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_voucher_op_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_canon_scf_req_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_canon_scf_res_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum fmt_canon_scf_outcome) == sizeof(int), "enum size");

/* ISO Max35Text for our ids, Max105Text for a cancellation's reason. */
#define ID_MAX 35
#define CXL_REASON_MAX 105
#define RULE "scf.xml"

/* Caps on lists: far above any real document, far below what would
 * exhaust memory. */
#define MAX_INVOICES 10000
#define MAX_VOUCHERS 100000

/* ---- names --------------------------------------------------------------- */

static const char *const outcome_names[FMT_CANON_SCF_OUTCOME__COUNT] = {
    "none", "accepted", "pending", "rejected"};

const char *fmt_canon_scf_outcome_name(enum fmt_canon_scf_outcome o)
{
    return (unsigned)o < FMT_CANON_SCF_OUTCOME__COUNT ? outcome_names[o] : "?";
}

int fmt_canon_scf_outcome_parse(const char *name)
{
    for (int i = 0; name && i < FMT_CANON_SCF_OUTCOME__COUNT; i++)
        if (!strcmp(outcome_names[i], name))
            return i;
    return -1;
}

/* ---- shapes and enums ---------------------------------------------------- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* Our ids (request, inquiry, cancellation) are the bank-visible
 * idempotency keys: ISO Max35Text, and characters every bank's serial
 * number field takes unchanged. */
static int is_id(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= ID_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_.") == n;
}

static int is_cxl_reason(const char *s)
{
    size_t n = utf8_chars(s);
    return n >= 1 && n <= CXL_REASON_MAX;
}

/* 发票代码: 10 or 12 digits. */
static int is_tax_code(const char *s)
{
    size_t n = strlen(s);
    return (n == 10 || n == 12) && strspn(s, "0123456789") == n;
}

static const struct fmt_cc_shape s_id = {
    "an id (1-35 letters, digits, '-', '_', '.')", is_id};
static const struct fmt_cc_shape s_cxl_reason = {"a reason of 1-105 characters",
                                                 is_cxl_reason};
static const struct fmt_cc_shape s_tax_code = {
    "a tax invoice code (10 or 12 digits)", is_tax_code};

static const char *kind_nm(int v)
{
    return fmt_scf_kind_name((enum fmt_scf_kind)v);
}
static const char *status_nm(int v)
{
    return fmt_scf_status_name((enum fmt_scf_status)v);
}
static const char *item_nm(int v)
{
    return fmt_scf_item_name((enum fmt_scf_item)v);
}
static const char *cxl_nm(int v)
{
    return fmt_scf_cancel_answer_name((enum fmt_scf_cancel_answer)v);
}
static const char *repay_nm(int v)
{
    return fmt_scf_repay_kind_name((enum fmt_scf_repay_kind)v);
}
static const char *vstatus_nm(int v)
{
    return fmt_voucher_status_name((enum fmt_voucher_status)v);
}
static const char *vop_nm(int v)
{
    return fmt_voucher_op_name((enum fmt_voucher_op_kind)v);
}
static const char *outcome_nm(int v)
{
    return fmt_canon_scf_outcome_name((enum fmt_canon_scf_outcome)v);
}

/* ENUM0: every value from 0; ENUM: from 1 (0 is "none"). */
static const struct fmt_cc_enum e_kind = {"financing kind", kind_nm,
                                          FMT_SCF_REVERSE_FACTORING + 1, 0};
static const struct fmt_cc_enum e_status = {"financing status", status_nm,
                                            FMT_SCF_STATUS__COUNT, 0};
static const struct fmt_cc_enum e_item = {"invoice result", item_nm,
                                          FMT_SCF_ITEM__COUNT, 0};
static const struct fmt_cc_enum e_cxl = {"cancellation answer", cxl_nm,
                                         FMT_SCF_CXL_REFUSED + 1, 0};
static const struct fmt_cc_enum e_repay = {"repayment notice kind", repay_nm,
                                           FMT_SCF_REPAY_PAID + 1, 0};
static const struct fmt_cc_enum e_vstatus = {"voucher status", vstatus_nm,
                                             FMT_VOUCHER_STATUS__COUNT, 0};
static const struct fmt_cc_enum e_vop = {"voucher operation", vop_nm,
                                         FMT_VOUCHER_OP__COUNT, 0};
static const struct fmt_cc_enum e_outcome = {"operation outcome", outcome_nm,
                                             FMT_CANON_SCF_OUTCOME__COUNT, 0};

/* ---- item set-up (LIST init hooks) --------------------------------------- */

static void invoice_init(void *p)
{
    fmt_scf_invoice_init(p);
}

static void invoice_result_init(void *p)
{
    struct fmt_scf_invoice_result *r = p;
    fmt_scf_invoice_result_init(r);
    r->result = (enum fmt_scf_item) - 1;
}

static void voucher_init(void *p)
{
    struct fmt_voucher *v = p;
    memset(v, 0, sizeof(*v));
    v->status = (enum fmt_voucher_status) - 1;
}

/* ---- request tables ------------------------------------------------------ */

#define RQ struct fmt_canon_scf_request
#define IV struct fmt_scf_invoice

static const struct fmt_cc_field f_invoice[] = {
    FMT_CC_F_SRCLINE(IV, line),
    FMT_CC_F_TEXT("Nb", FMT_CC_REQ, IV, number, NULL),
    FMT_CC_F_TEXT("IsseDt", FMT_CC_REQ, IV, issue_date, &fmt_cc_date),
    FMT_CC_F_TEXT("DueDt", FMT_CC_REQ, IV, due_date, &fmt_cc_date),
    FMT_CC_F("Amt", FMT_CC_AMT, FMT_CC_REQ, IV, amount),
    FMT_CC_F("TaxblAmt", FMT_CC_AMT, 0, IV, taxable),
    FMT_CC_F("TaxAmt", FMT_CC_AMT, 0, IV, tax),
    FMT_CC_F("ReqdAmt", FMT_CC_AMT, 0, IV, requested),
    FMT_CC_F("ReqdRate", FMT_CC_RATE, 0, IV, requested_rate),
    FMT_CC_F_SUB("Buyr", 0, IV, buyer, fmt_cc_party),
    FMT_CC_F_SUB("Spplr", 0, IV, seller, fmt_cc_party),
    FMT_CC_F_SUB("SpplrAcct", 0, IV, seller_acct, fmt_cc_account),
    FMT_CC_F_TEXT("PmtMtd", 0, IV, pmt_method, NULL),
    FMT_CC_F_TEXT("CtrctRef", 0, IV, contract_ref, NULL),
    FMT_CC_F_TEXT("TaxInvcCd", 0, IV, tax_invoice_code, &s_tax_code),
};
static FMT_CC_STRUCT(d_invoice, "invoice", IV, f_invoice);

static const struct fmt_cc_field f_fincg[] = {
    FMT_CC_F_SRCLINE(RQ, line),
    FMT_CC_F_TEXT("ReqId", FMT_CC_REQ, RQ, fincg.request_id, &s_id),
    FMT_CC_F_TEXT("CreDtTm", 0, RQ, fincg.cre_dt_tm, NULL),
    FMT_CC_F_ENUM0("Kind", FMT_CC_REQ, RQ, fincg.kind, e_kind),
    FMT_CC_F_TEXT("Prdct", 0, RQ, fincg.product, NULL),
    FMT_CC_F_TEXT("AgrmtRef", 0, RQ, fincg.agreement_ref, NULL),
    FMT_CC_F_TEXT("CtrctRef", 0, RQ, fincg.contract_ref, NULL),
    FMT_CC_F("Ccy", FMT_CC_CCY, FMT_CC_REQ, RQ, fincg.ccy),
    FMT_CC_F("ReqdAmt", FMT_CC_AMT, FMT_CC_REQ, RQ, fincg.requested),
    FMT_CC_F_TEXT("ValDt", 0, RQ, fincg.value_date, &fmt_cc_date),
    FMT_CC_F_SUB("Rqstr", FMT_CC_REQ, RQ, fincg.requestor, fmt_cc_party),
    FMT_CC_F_SUB("CdtAcct", 0, RQ, fincg.credit_acct, fmt_cc_account),
    FMT_CC_F_SUB("FincgAcct", 0, RQ, fincg.financing_acct, fmt_cc_account),
    FMT_CC_F_SUB("FrstAgt", FMT_CC_REQ, RQ, fincg.bank, fmt_cc_agent),
    FMT_CC_F_SUB("IntrmyAgt", 0, RQ, fincg.intermediary, fmt_cc_agent),
    {.name = "Invcs",
     .kind = FMT_CC_LIST,
     .flags = FMT_CC_REQ,
     .off = offsetof(RQ, fincg.invoices),
     .off2 = offsetof(RQ, fincg.n_invoices),
     .sub = &d_invoice,
     .item = "Invc",
     .cap = MAX_INVOICES,
     .init = invoice_init},
    FMT_CC_F_TEXT("AddtlInf", 0, RQ, fincg.addtl_info, NULL),
};
static FMT_CC_STRUCT(d_fincg, "financing request", RQ, f_fincg);

static const struct fmt_cc_field f_inq[] = {
    FMT_CC_F_SRCLINE(RQ, line),
    FMT_CC_F_TEXT("InqId", FMT_CC_REQ, RQ, inq.inquiry_id, &s_id),
    FMT_CC_F_TEXT("CreDtTm", 0, RQ, inq.cre_dt_tm, NULL),
    FMT_CC_F_TEXT("OrgnlReqId", FMT_CC_REQ, RQ, inq.request_id, &s_id),
};
static FMT_CC_STRUCT(d_inq, "status inquiry", RQ, f_inq);

static const struct fmt_cc_field f_cxl[] = {
    FMT_CC_F_SRCLINE(RQ, line),
    FMT_CC_F_TEXT("CxlId", FMT_CC_REQ, RQ, cxl.cancel_id, &s_id),
    FMT_CC_F_TEXT("CreDtTm", 0, RQ, cxl.cre_dt_tm, NULL),
    FMT_CC_F_TEXT("OrgnlReqId", FMT_CC_REQ, RQ, cxl.orgnl_request_id, &s_id),
    FMT_CC_F_TEXT("OrgnlCreDtTm", 0, RQ, cxl.orgnl_cre_dt_tm, NULL),
    FMT_CC_F("NbOfInvcs", FMT_CC_COUNT, FMT_CC_MINUS1, RQ, cxl.nb_of_invoices),
    FMT_CC_F("TtlInvcAmt", FMT_CC_AMT, 0, RQ, cxl.total_invoice_amount),
    FMT_CC_F_TEXT("RsnCd", 0, RQ, cxl.reason_code, NULL),
    FMT_CC_F_TEXT("Rsn", FMT_CC_REQ, RQ, cxl.reason, &s_cxl_reason),
    FMT_CC_F_SUB("Rqstr", 0, RQ, cxl.requestor, fmt_cc_party),
    FMT_CC_F_SUB("FrstAgt", 0, RQ, cxl.bank, fmt_cc_agent),
};
static FMT_CC_STRUCT(d_cxl, "cancellation", RQ, f_cxl);

static const struct fmt_cc_field f_vop[] = {
    FMT_CC_F_SRCLINE(RQ, line),
    FMT_CC_F_TEXT("ReqId", FMT_CC_REQ, RQ, vop.req_id, &s_id),
    FMT_CC_F_ENUM0("Op", FMT_CC_REQ, RQ, vop.kind, e_vop),
    FMT_CC_F_TEXT("VchrId", FMT_CC_REQ, RQ, vop.voucher_id, NULL),
    FMT_CC_F_TEXT("Actr", FMT_CC_REQ, RQ, vop.actor, NULL),
    FMT_CC_F_TEXT("Dt", FMT_CC_REQ, RQ, vop.date, &fmt_cc_date),
    FMT_CC_F_TEXT("Cpty", 0, RQ, vop.counterparty, NULL),
    FMT_CC_F("Amt", FMT_CC_AMT, 0, RQ, vop.amount),
    FMT_CC_F_TEXT("NewId", 0, RQ, vop.new_id, NULL),
    FMT_CC_F_TEXT("MtrtyDt", 0, RQ, vop.maturity_date, &fmt_cc_date),
    FMT_CC_F_TEXT("Ref", 0, RQ, vop.ref, NULL),
};
static FMT_CC_STRUCT(d_vop, "voucher operation", RQ, f_vop);

static const struct fmt_cc_field f_vinq[] = {
    FMT_CC_F_SRCLINE(RQ, line),
    FMT_CC_F_TEXT("InqId", FMT_CC_REQ, RQ, vinq.inquiry_id, &s_id),
    FMT_CC_F_TEXT("Pty", FMT_CC_REQ, RQ, vinq.party, NULL),
    FMT_CC_F_TEXT("VchrId", 0, RQ, vinq.voucher_id, NULL),
    FMT_CC_F_ENUM0("Sts", 0, RQ, vinq.status, e_vstatus),
    FMT_CC_F_TEXT("MtrtyFr", 0, RQ, vinq.maturity_from, &fmt_cc_date),
    FMT_CC_F_TEXT("MtrtyTo", 0, RQ, vinq.maturity_to, &fmt_cc_date),
};
static FMT_CC_STRUCT(d_vinq, "voucher inquiry", RQ, f_vinq);

static const struct fmt_cc_field f_request[] = {
    FMT_CC_F_CHOICE_GROUP("Fincg", RQ, kind, FMT_CANON_SCF_FINANCING, d_fincg),
    FMT_CC_F_CHOICE_GROUP("Inq", RQ, kind, FMT_CANON_SCF_INQUIRY, d_inq),
    FMT_CC_F_CHOICE_GROUP("Cxl", RQ, kind, FMT_CANON_SCF_CANCEL, d_cxl),
    FMT_CC_F_CHOICE_GROUP("VchrOp", RQ, kind, FMT_CANON_SCF_VOUCHER_OP, d_vop),
    FMT_CC_F_CHOICE_GROUP("VchrInq", RQ, kind, FMT_CANON_SCF_VOUCHER_INQ,
                          d_vinq),
};
static FMT_CC_STRUCT(d_request, "scf request", RQ, f_request);

/* ---- result tables ------------------------------------------------------- */

#define IR struct fmt_scf_invoice_result
#define SR struct fmt_scf_status_report
#define RP struct fmt_scf_repayment
#define VC struct fmt_voucher
#define HL struct fmt_canon_scf_holdings
#define VR struct fmt_canon_scf_vop_result
#define RS struct fmt_canon_scf_result

static const struct fmt_cc_field f_invoice_result[] = {
    FMT_CC_F_TEXT("Nb", FMT_CC_REQ, IR, number, NULL),
    FMT_CC_F("InvcAmt", FMT_CC_AMT, 0, IR, invoice_amount),
    FMT_CC_F_TEXT("IsseDt", 0, IR, issue_date, &fmt_cc_date),
    FMT_CC_F_TEXT("DueDt", 0, IR, due_date, &fmt_cc_date),
    FMT_CC_F_SUB("Spplr", 0, IR, seller, fmt_cc_party),
    FMT_CC_F_ENUM0("Rslt", FMT_CC_REQ, IR, result, e_item),
    FMT_CC_F_SUB("Rsn", 0, IR, reason, fmt_cc_reason),
    FMT_CC_F("FincdAmt", FMT_CC_AMT, 0, IR, financed),
    FMT_CC_F("FincdRate", FMT_CC_RATE, 0, IR, financed_rate),
};
static FMT_CC_STRUCT(d_invoice_result, "invoice result", IR, f_invoice_result);

static const struct fmt_cc_field f_sts[] = {
    FMT_CC_F_TEXT("StsId", 0, SR, status_id, NULL),
    FMT_CC_F_TEXT("CreDtTm", 0, SR, cre_dt_tm, NULL),
    FMT_CC_F_TEXT("OrgnlReqId", FMT_CC_REQ, SR, orgnl_request_id, NULL),
    FMT_CC_F_TEXT("OrgnlCreDtTm", 0, SR, orgnl_cre_dt_tm, NULL),
    FMT_CC_F_ENUM0("Sts", FMT_CC_REQ, SR, status, e_status),
    FMT_CC_F_SUB("Rsn", 0, SR, reason, fmt_cc_reason),
    FMT_CC_F_ENUM("CxlAnsw", 0, SR, cancel_answer, e_cxl),
    FMT_CC_F_SUB("CxlRsn", 0, SR, cancel_reason, fmt_cc_reason),
    FMT_CC_F("FincdAmt", FMT_CC_AMT, 0, SR, financed),
    FMT_CC_F("AccptdAmt", FMT_CC_AMT, 0, SR, accepted_total),
    FMT_CC_F("FincdItms", FMT_CC_COUNT, FMT_CC_MINUS1, SR, n_financed_items),
    FMT_CC_F("ApldPctg", FMT_CC_RATE, 0, SR, applied_pctg),
    FMT_CC_F("IntrstRate", FMT_CC_RATE, 0, SR, interest_rate),
    FMT_CC_F_TEXT("ValDt", 0, SR, value_date, &fmt_cc_date),
    FMT_CC_F_TEXT("MtrtyDt", 0, SR, maturity_date, &fmt_cc_date),
    FMT_CC_F_TEXT("BookDt", 0, SR, book_date, &fmt_cc_date),
    FMT_CC_F_TEXT("LoanRef", 0, SR, loan_ref, NULL),
    FMT_CC_F_SUB("CdtAcct", 0, SR, credit_acct, fmt_cc_account),
    FMT_CC_F_SUB("FincgAcct", 0, SR, financing_acct, fmt_cc_account),
    FMT_CC_F_LIST_INIT("Invcs", SR, invoices, n_invoices, "Invc",
                       d_invoice_result, MAX_INVOICES, invoice_result_init),
};
static FMT_CC_STRUCT(d_sts, "status report", SR, f_sts);

static const struct fmt_cc_field f_rpmt[] = {
    FMT_CC_F_TEXT("NtceId", FMT_CC_REQ, RP, notice_id, NULL),
    FMT_CC_F_ENUM0("Kind", FMT_CC_REQ, RP, kind, e_repay),
    FMT_CC_F_TEXT("ReqId", 0, RP, request_id, NULL),
    FMT_CC_F_TEXT("LoanRef", 0, RP, loan_ref, NULL),
    FMT_CC_F("Amt", FMT_CC_AMT, FMT_CC_REQ, RP, amount),
    FMT_CC_F("Prncpl", FMT_CC_AMT, 0, RP, principal),
    FMT_CC_F("Intrst", FMT_CC_AMT, 0, RP, interest),
    FMT_CC_F_TEXT("DueDt", 0, RP, due_date, &fmt_cc_date),
    FMT_CC_F_SUB("DbtAcct", 0, RP, debit_acct, fmt_cc_account),
};
static FMT_CC_STRUCT(d_rpmt, "repayment notice", RP, f_rpmt);

static const struct fmt_cc_field f_voucher[] = {
    FMT_CC_F_TEXT("Id", FMT_CC_REQ, VC, id, NULL),
    FMT_CC_F_TEXT("PrntId", 0, VC, parent_id, NULL),
    FMT_CC_F_TEXT("RootId", 0, VC, root_id, NULL),
    FMT_CC_F("Lvl", FMT_CC_INT, FMT_CC_INT32, VC, level),
    FMT_CC_F_TEXT("Issr", 0, VC, issuer, NULL),
    FMT_CC_F_TEXT("OrgnlHldr", 0, VC, original_holder, NULL),
    FMT_CC_F_TEXT("Trfr", 0, VC, transferor, NULL),
    FMT_CC_F_TEXT("Hldr", 0, VC, holder, NULL),
    FMT_CC_F("Amt", FMT_CC_AMT, FMT_CC_REQ, VC, amount),
    FMT_CC_F_MINOR("Rmng", FMT_CC_REQ, VC, remaining, amount.ccy),
    FMT_CC_F_TEXT("IsseDt", 0, VC, issue_date, &fmt_cc_date),
    FMT_CC_F_TEXT("MtrtyDt", 0, VC, maturity_date, &fmt_cc_date),
    FMT_CC_F_ENUM0("Sts", FMT_CC_REQ, VC, status, e_vstatus),
    FMT_CC_F_TEXT("StsDt", 0, VC, status_date, &fmt_cc_date),
    FMT_CC_F_TEXT("FinBk", 0, VC, fin_bank, NULL),
    FMT_CC_F_TEXT("FinRef", 0, VC, fin_ref, NULL),
    FMT_CC_F_TEXT("FinDt", 0, VC, fin_date, &fmt_cc_date),
    FMT_CC_F_MINOR("FinAmt", FMT_CC_NONZERO, VC, fin_amount, amount.ccy),
};
static FMT_CC_STRUCT(d_voucher, "voucher", VC, f_voucher);

/* Offsets relative to struct fmt_canon_scf_holdings: the totals are in
 * its ccy. */
#define TOTAL(nb, amt, m)                                                      \
    FMT_CC_F(nb, FMT_CC_COUNT, FMT_CC_REQ | FMT_CC_SIZE, HL, totals.n_##m),    \
        FMT_CC_F_MINOR(amt, FMT_CC_REQ, HL, totals.m, ccy)
static const struct fmt_cc_field f_totals[] = {
    FMT_CC_F("Ccy", FMT_CC_CCY, FMT_CC_REQ, HL, ccy),
    TOTAL("HeldNb", "Held", held),
    TOTAL("PdgInNb", "PdgIn", pending_in),
    TOTAL("PdgOutNb", "PdgOut", pending_out),
    TOTAL("FincdNb", "Fincd", financed),
    TOTAL("SttldNb", "Sttld", settled),
    FMT_CC_F_MINOR("IssdLive", FMT_CC_REQ, HL, totals.issued_live, ccy),
};
static FMT_CC_STRUCT(d_totals, "holdings totals", HL, f_totals);

static const struct fmt_cc_field f_hldgs[] = {
    FMT_CC_F_TEXT("ReqId", 0, HL, req_id, &s_id),
    FMT_CC_F_TEXT("Pty", FMT_CC_REQ, HL, party, NULL),
    FMT_CC_F_TEXT("AsOf", 0, HL, as_of, NULL),
    {.name = "Ttls",
     .kind = FMT_CC_SUB,
     .flags = FMT_CC_FLAGGED,
     .off = 0,
     .off2 = offsetof(HL, has_totals),
     .sub = &d_totals},
    FMT_CC_F_LIST_INIT("Vchrs", HL, vouchers, n_vouchers, "Vchr", d_voucher,
                       MAX_VOUCHERS, voucher_init),
};
static FMT_CC_STRUCT(d_hldgs, "voucher holdings", HL, f_hldgs);

static const struct fmt_cc_field f_vrslt[] = {
    FMT_CC_F_TEXT("ReqId", FMT_CC_REQ, VR, req_id, &s_id),
    FMT_CC_F_ENUM0("Op", FMT_CC_REQ, VR, op, e_vop),
    FMT_CC_F_ENUM("Outcm", FMT_CC_REQ, VR, outcome, e_outcome),
    FMT_CC_F_TEXT("BkRtrCd", 0, VR, bank_code, NULL),
    FMT_CC_F_TEXT("BkRtrTxt", 0, VR, bank_text, NULL),
    FMT_CC_F_LIST_INIT("Vchrs", VR, vouchers, n_vouchers, "Vchr", d_voucher,
                       MAX_VOUCHERS, voucher_init),
};
static FMT_CC_STRUCT(d_vrslt, "voucher operation result", VR, f_vrslt);

static const struct fmt_cc_field f_result[] = {
    FMT_CC_F_CHOICE("StsRpt", RS, sts, kind, FMT_CANON_SCF_STATUS, d_sts),
    FMT_CC_F_CHOICE("RpmtNtce", RS, rpmt, kind, FMT_CANON_SCF_REPAYMENT,
                    d_rpmt),
    FMT_CC_F_CHOICE("Hldgs", RS, hldgs, kind, FMT_CANON_SCF_HOLDINGS, d_hldgs),
    FMT_CC_F_CHOICE("VchrOpRslt", RS, vrslt, kind, FMT_CANON_SCF_VOP_RESULT,
                    d_vrslt),
};
static FMT_CC_STRUCT(d_result, "scf result", RS, f_result);

/* ---- set-up and release -------------------------------------------------- */

void fmt_canon_scf_request_init(struct fmt_canon_scf_request *r)
{
    if (!r)
        return;
    memset(r, 0, sizeof(*r));
    r->fincg.kind = (enum fmt_scf_kind) - 1;
    fmt_scf_cancel_init(&r->cxl);
    r->vop.kind = (enum fmt_voucher_op_kind) - 1;
    fmt_voucher_inquiry_init(&r->vinq);
}

void fmt_canon_scf_result_init(struct fmt_canon_scf_result *r)
{
    if (!r)
        return;
    memset(r, 0, sizeof(*r));
    fmt_scf_status_report_init(&r->sts);
    r->sts.status = (enum fmt_scf_status) - 1;
    r->rpmt.kind = (enum fmt_scf_repay_kind) - 1;
    r->vrslt.op = (enum fmt_voucher_op_kind) - 1;
}

void fmt_canon_scf_vop_release(struct fmt_canon_scf_vop *w)
{
    if (!w)
        return;
    free(w->req_id);
    free(w->voucher_id);
    free(w->actor);
    free(w->date);
    free(w->counterparty);
    free(w->new_id);
    free(w->maturity_date);
    free(w->ref);
    memset(w, 0, sizeof(*w));
    w->kind = (enum fmt_voucher_op_kind) - 1;
}

void fmt_canon_scf_request_release(struct fmt_canon_scf_request *r)
{
    if (!r)
        return;
    fmt_scf_request_release(&r->fincg);
    fmt_scf_inquiry_release(&r->inq);
    fmt_scf_cancel_release(&r->cxl);
    fmt_canon_scf_vop_release(&r->vop);
    fmt_voucher_inquiry_release(&r->vinq);
    fmt_canon_scf_request_init(r);
}

static void vouchers_release(struct fmt_voucher *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        fmt_voucher_release(&v[i]);
    free(v);
}

void fmt_canon_scf_result_release(struct fmt_canon_scf_result *r)
{
    if (!r)
        return;
    fmt_scf_status_report_release(&r->sts);
    fmt_scf_repayment_release(&r->rpmt);
    free(r->hldgs.req_id);
    free(r->hldgs.party);
    free(r->hldgs.as_of);
    vouchers_release(r->hldgs.vouchers, r->hldgs.n_vouchers);
    free(r->vrslt.req_id);
    free(r->vrslt.bank_code);
    free(r->vrslt.bank_text);
    vouchers_release(r->vrslt.vouchers, r->vrslt.n_vouchers);
    fmt_canon_scf_result_init(r);
}

void fmt_canon_scf_vop_view(const struct fmt_canon_scf_vop *w,
                            struct fmt_voucher_op *op)
{
    memset(op, 0, sizeof(*op));
    op->kind = w->kind;
    op->voucher_id = w->voucher_id;
    op->actor = w->actor;
    op->date = w->date;
    op->counterparty = w->counterparty;
    op->amount = w->amount;
    op->new_id = w->new_id;
    op->maturity_date = w->maturity_date;
    op->ref = w->ref;
}

int fmt_canon_scf_vop_set(struct fmt_canon_scf_vop *w, const char *req_id,
                          const struct fmt_voucher_op *op)
{
    fmt_canon_scf_vop_release(w);
    if (fmt_strset(&w->req_id, req_id) < 0 ||
        fmt_strset(&w->voucher_id, op->voucher_id) < 0 ||
        fmt_strset(&w->actor, op->actor) < 0 ||
        fmt_strset(&w->date, op->date) < 0 ||
        fmt_strset(&w->counterparty, op->counterparty) < 0 ||
        fmt_strset(&w->new_id, op->new_id) < 0 ||
        fmt_strset(&w->maturity_date, op->maturity_date) < 0 ||
        fmt_strset(&w->ref, op->ref) < 0) {
        fmt_canon_scf_vop_release(w);
        return H2H_ENOMEM;
    }
    w->kind = op->kind;
    w->amount = op->amount;
    return 0;
}

/* ---- the shape of a voucher operation ------------------------------------ */

static int empty(const char *s)
{
    return !s || !*s;
}

static int amount_given(const struct fmt_amount *a)
{
    return a->ccy[0] != '\0' || a->minor != 0;
}

int fmt_canon_scf_vop_check(const struct fmt_canon_scf_vop *w,
                            struct fmt_diag *d)
{
    int n = 0;
#define PROBLEM(el, what, ...)                                                 \
    do {                                                                       \
        n++;                                                                   \
        fmt_diag_add(d, 0, el, "scf.voucher." what, __VA_ARGS__);              \
    } while (0)
    if (!w) {
        PROBLEM(NULL, "op", "no voucher operation");
        return n;
    }
    if ((unsigned)w->kind >= FMT_VOUCHER_OP__COUNT) {
        PROBLEM("Op", "op", "no valid voucher operation (%d)", (int)w->kind);
        return n;
    }
    enum fmt_voucher_op_kind k = w->kind;
    const char *op = fmt_voucher_op_name(k);
    const char *a_op = k == FMT_VOUCHER_ISSUE ? "an" : "a";
    const char *vid = w->voucher_id ? w->voucher_id : "(none)";
    if (empty(w->voucher_id))
        PROBLEM("VchrId", "id", "the %s names no voucher%s", op,
                k == FMT_VOUCHER_ISSUE ? " id for the new voucher" : "");
    if (empty(w->actor))
        PROBLEM("Actr", "actor", "the %s of voucher %s names no actor", op,
                vid);
    long day = w->date ? fmt_date_days(w->date) : INT32_MIN;
    if (day == INT32_MIN)
        PROBLEM("Dt", "date", "the %s of voucher %s needs a valid date", op,
                vid);

    /* what each operation takes besides id, actor and date */
    int takes_cpty = k == FMT_VOUCHER_ISSUE || k == FMT_VOUCHER_TRANSFER ||
                     k == FMT_VOUCHER_FINANCE;
    int takes_amount = takes_cpty;
    int takes_new_id = k == FMT_VOUCHER_TRANSFER;
    int takes_maturity = k == FMT_VOUCHER_ISSUE;
    int takes_ref = k == FMT_VOUCHER_FINANCE;
    static const char *const cp_what[] = {
        [FMT_VOUCHER_ISSUE] = "tier-1 supplier it is issued to",
        [FMT_VOUCHER_TRANSFER] = "receiver",
        [FMT_VOUCHER_FINANCE] = "financing bank",
    };

    if (takes_cpty && empty(w->counterparty))
        PROBLEM("Cpty", "counterparty", "the %s of voucher %s names no %s", op,
                vid, cp_what[k]);
    else if (takes_cpty && k != FMT_VOUCHER_FINANCE && !empty(w->actor) &&
             !strcmp(w->counterparty, w->actor))
        PROBLEM("Cpty", "counterparty",
                "the %s of voucher %s goes from %s to itself", op, vid,
                w->actor);

    const struct fmt_amount *a = &w->amount;
    if (amount_given(a) && !a->ccy[0])
        PROBLEM("Amt", "amount",
                "the %s of voucher %s gives an amount without its currency", op,
                vid);
    else if ((k == FMT_VOUCHER_ISSUE || k == FMT_VOUCHER_TRANSFER) &&
             a->minor <= 0)
        PROBLEM("Amt", "amount", "the %s of voucher %s needs a positive %s", op,
                vid,
                k == FMT_VOUCHER_ISSUE ? "face amount" : "amount to transfer");
    else if (k == FMT_VOUCHER_FINANCE && a->minor < 0)
        PROBLEM("Amt", "amount",
                "the financing of voucher %s cannot be of a negative amount",
                vid);

    /* NewId is optional: most platforms number the new voucher */
    if (takes_new_id && !empty(w->new_id)) {
        if (!empty(w->voucher_id) && !strcmp(w->new_id, w->voucher_id))
            PROBLEM("NewId", "new_id",
                    "the new voucher cannot have the id %s of the voucher "
                    "split",
                    vid);
    }
    if (takes_maturity) {
        long mat =
            w->maturity_date ? fmt_date_days(w->maturity_date) : INT32_MIN;
        if (mat == INT32_MIN)
            PROBLEM("MtrtyDt", "maturity",
                    "the issue of voucher %s needs a valid maturity date", vid);
        else if (day != INT32_MIN && mat <= day)
            PROBLEM("MtrtyDt", "maturity",
                    "voucher %s would mature on %s, not after its issue on %s",
                    vid, w->maturity_date, w->date);
    }

    /* what it does not take would be ignored: say so rather than send it */
    if (!takes_cpty && w->counterparty)
        PROBLEM("Cpty", "unused", "%s %s takes no counterparty", a_op, op);
    if (!takes_amount && amount_given(a))
        PROBLEM("Amt", "unused", "%s %s takes no amount", a_op, op);
    if (!takes_new_id && w->new_id)
        PROBLEM("NewId", "unused", "%s %s creates no new voucher", a_op, op);
    if (!takes_maturity && w->maturity_date)
        PROBLEM("MtrtyDt", "unused",
                "%s %s takes no maturity date (only an issue sets it)", a_op,
                op);
    if (!takes_ref && w->ref)
        PROBLEM("Ref", "unused", "%s %s takes no bank reference", a_op, op);
#undef PROBLEM
    return n;
}

/* ---- API ----------------------------------------------------------------- */

static const char *src_name(const struct fmt_src *src)
{
    if (src && src->name)
        return src->name;
    return src && src->path ? src->path : "<memory>";
}

int fmt_canon_scf_detect(const char *buf, size_t len)
{
    static const char *const roots[] = {"ScfRequest", "ScfResult"};
    int i = fmt_cc_detect(buf, len, FMT_CANON_SCF_NS, roots, 2);
    return i < 0 ? -1 : i + 1;
}

/* Where fmt_scf_request_check() says a problem is, as a path from the
 * root: its names are the model's fields. */
static void fincg_path(const char *where, char *buf, size_t sz)
{
    static const struct {
        const char *model, *xml;
    } map[] = {
        {"request_id", "ReqId"}, {"kind", "Kind"},
        {"ccy", "Ccy"},          {"requested", "ReqdAmt"},
        {"requestor", "Rqstr"},  {"credit_acct", "CdtAcct"},
        {"bank", "FrstAgt"},     {"value_date", "ValDt"},
        {"invoices", "Invcs"},
    };
    unsigned long k;
    int used;
    if (!where || !*where) {
        snprintf(buf, sz, "Fincg");
        return;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(where, map[i].model)) {
            snprintf(buf, sz, "Fincg/%s", map[i].xml);
            return;
        }
    if (sscanf(where, "invoice[%lu]%n", &k, &used) == 1 &&
        where[used] == '\0') {
        snprintf(buf, sz, "Fincg/Invcs/Invc[%lu]", k);
        return;
    }
    snprintf(buf, sz, "Fincg/%s", where);
}

/* Run the model's checks on what was read; each problem into rep / diag
 * (line 0 from a check: the branch's line).  Returns the problems found;
 * first (may be NULL) receives the first as "path: msg". */
static size_t model_checks(const struct fmt_canon_scf_request *rq,
                           struct fmt_cc_report *rep, struct fmt_diag *diag,
                           const char *root, struct h2h_err *first)
{
    struct fmt_diag d;
    char path[160];
    size_t n = 0;
    int found = 0;
    fmt_diag_init(&d, NULL);
    if (rq->kind == FMT_CANON_SCF_FINANCING)
        found = fmt_scf_request_check(&rq->fincg, NULL, &d);
    else if (rq->kind == FMT_CANON_SCF_VOUCHER_OP &&
             (unsigned)rq->vop.kind < FMT_VOUCHER_OP__COUNT)
        found = fmt_canon_scf_vop_check(&rq->vop, &d);
    if (found > 0 && d.n == 0) /* the words were lost to memory */
        fmt_diag_add(&d, 0, NULL, "scf.request",
                     "the request breaks %d rule(s); out of memory for the "
                     "details",
                     found);
    int kind_ok = (unsigned)rq->fincg.kind <= FMT_SCF_REVERSE_FACTORING;
    for (size_t i = 0; i < d.n; i++) {
        const struct fmt_problem *p = &d.v[i];
        /* a missing or misspelt <Kind> was reported by the reader */
        if (rq->kind == FMT_CANON_SCF_FINANCING && !kind_ok && p->where &&
            !strcmp(p->where, "kind"))
            continue;
        if (rq->kind == FMT_CANON_SCF_FINANCING)
            fincg_path(p->where, path, sizeof(path));
        else
            snprintf(path, sizeof(path), "VchrOp%s%s", p->where ? "/" : "",
                     p->where ? p->where : "");
        int line = p->line ? p->line : rq->line;
        if (first && n == 0)
            h2h_err_set(first, H2H_EINVALID, "%s/%s: %s", root, path, p->msg);
        if (rep)
            fmt_cc_report_add(rep, diag, line, path, p->rule, "%s", p->msg);
        n++;
    }
    fmt_diag_release(&d);
    return n;
}

int fmt_canon_scf_write_request(FILE *out,
                                const struct fmt_canon_scf_request *rq,
                                struct h2h_err *err)
{
    struct h2h_err first = {0};
    if (!rq)
        return h2h_err_set(err, H2H_EINVALID, "nothing to write");
    if (rq->kind < FMT_CANON_SCF_FINANCING ||
        rq->kind > FMT_CANON_SCF_VOUCHER_INQ)
        return h2h_err_set(err, H2H_EINVALID,
                           "ScfRequest: %d is not a request kind "
                           "(financing, inquiry, cancellation, voucher "
                           "operation or voucher inquiry)",
                           (int)rq->kind);
    if (model_checks(rq, NULL, NULL, "ScfRequest", &first) > 0)
        return h2h_err_set(err, first.code, "%s", first.msg);
    return fmt_cc_write(out, FMT_CANON_SCF_NS, "ScfRequest", &d_request, rq,
                        err);
}

int fmt_canon_scf_write_result(FILE *out, const struct fmt_canon_scf_result *r,
                               struct h2h_err *err)
{
    if (!r)
        return h2h_err_set(err, H2H_EINVALID, "nothing to write");
    if (r->kind < FMT_CANON_SCF_STATUS || r->kind > FMT_CANON_SCF_VOP_RESULT)
        return h2h_err_set(err, H2H_EINVALID,
                           "ScfResult: %d is not a result kind (status "
                           "report, repayment notice, holdings or voucher "
                           "operation result)",
                           (int)r->kind);
    return fmt_cc_write(out, FMT_CANON_SCF_NS, "ScfResult", &d_result, r, err);
}

int fmt_canon_scf_read_request(const struct fmt_src *src,
                               struct fmt_canon_scf_request *out,
                               struct fmt_diag *diag, struct h2h_err *err)
{
    struct fmt_cc_report rep;
    if (!out)
        return h2h_err_set(err, H2H_EINVALID, "no output request");
    fmt_canon_scf_request_init(out);
    int rc = fmt_cc_read(src, FMT_CANON_SCF_NS, "ScfRequest", RULE, &d_request,
                         out, diag, &rep, err);
    if (rc < 0)
        return rc;
    if (out->kind == FMT_CANON_SCF_REQ_NONE)
        fmt_cc_report_add(&rep, diag, rep.root_line, "ScfRequest",
                          RULE ".missing",
                          "the request is empty: one of Fincg, Inq, Cxl, "
                          "VchrOp or VchrInq is required");
    /* The model's own rules turn a request the bank would refuse into
     * reasons treasury reads next to the file, before anything is
     * accepted. */
    model_checks(out, &rep, diag, "ScfRequest", NULL);
    return fmt_cc_report_rc(&rep, src_name(src), err);
}

int fmt_canon_scf_read_result(const struct fmt_src *src,
                              struct fmt_canon_scf_result *out,
                              struct fmt_diag *diag, struct h2h_err *err)
{
    struct fmt_cc_report rep;
    if (!out)
        return h2h_err_set(err, H2H_EINVALID, "no output result");
    fmt_canon_scf_result_init(out);
    int rc = fmt_cc_read(src, FMT_CANON_SCF_NS, "ScfResult", RULE, &d_result,
                         out, diag, &rep, err);
    if (rc < 0)
        return rc;
    if (out->kind == FMT_CANON_SCF_RES_NONE)
        fmt_cc_report_add(&rep, diag, rep.root_line, "ScfResult",
                          RULE ".missing",
                          "the result is empty: one of StsRpt, RpmtNtce, "
                          "Hldgs or VchrOpRslt is required");
    return fmt_cc_report_rc(&rep, src_name(src), err);
}
