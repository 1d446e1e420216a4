/*
 * canon_write.c - canonical XML writer (see canon.h) and the field tables
 * it shares with canon_read.c.
 *
 * One table per model struct maps each field to its element, in schema
 * order, so the writer, the reader and canonical.xsd stay in step; a
 * struct element is written only when one of its fields is present, which
 * is also exactly when the reader would fill something.
 *
 * Start/end events: the fields of a header, group or statement are
 * rendered into a string when it starts; at its end they are rendered
 * again and written in a *End element only when they differ, so a reader
 * gives the sink exactly what the writer's source gave it at both times.
 */
#define FMT_CANON_INTERNAL
#include "canon.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"

/* ---- tables ------------------------------------------------------------- */

#define S(t, f, n)                                                             \
    {                                                                          \
        n, FK_STR, offsetof(struct t, f), 0, 0, NULL                           \
    }
#define SUB(t, f, n, d)                                                        \
    {                                                                          \
        n, FK_SUB, offsetof(struct t, f), 0, 0, &d                             \
    }
#define N_(a) (sizeof(a) / sizeof((a)[0]))
#define SDESC(var, nm, t, arr)                                                 \
    const struct fmt_canon_sdesc var = {nm, sizeof(struct t), arr, N_(arr)}

static const struct fmt_canon_fdesc f_postal[] = {
    S(fmt_postal, dept, "Dept"),
    S(fmt_postal, street, "StrtNm"),
    S(fmt_postal, building, "BldgNb"),
    S(fmt_postal, postcode, "PstCd"),
    S(fmt_postal, town, "TwnNm"),
    S(fmt_postal, subdivision, "CtrySubDvsn"),
    S(fmt_postal, country, "Ctry"),
    {"AdrLine", FK_LINES, offsetof(struct fmt_postal, lines), 0, 7, NULL},
};
static SDESC(d_postal, "postal address", fmt_postal, f_postal);

static const struct fmt_canon_fdesc f_party[] = {
    S(fmt_party, name, "Nm"),
    SUB(fmt_party, addr, "PstlAdr", d_postal),
    S(fmt_party, org_bic, "OrgBIC"),
    S(fmt_party, org_id, "OrgId"),
    S(fmt_party, org_id_scheme, "OrgIdSchme"),
    S(fmt_party, prvt_id, "PrvtId"),
    S(fmt_party, ctry_of_res, "CtryOfRes"),
};
static SDESC(d_party, "party", fmt_party, f_party);

static const struct fmt_canon_fdesc f_account[] = {
    S(fmt_account, iban, "IBAN"),
    S(fmt_account, other_id, "OthrId"),
    S(fmt_account, other_scheme, "OthrSchme"),
    S(fmt_account, ccy, "Ccy"),
    S(fmt_account, name, "Nm"),
    S(fmt_account, type, "Tp"),
};
static SDESC(d_account, "account", fmt_account, f_account);

static const struct fmt_canon_fdesc f_agent[] = {
    S(fmt_agent, bic, "BIC"),
    S(fmt_agent, clr_sys, "ClrSysId"),
    S(fmt_agent, clr_mmb_id, "ClrSysMmbId"),
    S(fmt_agent, name, "Nm"),
    SUB(fmt_agent, addr, "PstlAdr", d_postal),
    S(fmt_agent, other_id, "OthrId"),
};
static SDESC(d_agent, "agent", fmt_agent, f_agent);

static const struct fmt_canon_fdesc f_strd[] = {
    S(fmt_strd_rmt, cdtr_ref, "CdtrRef"),
    S(fmt_strd_rmt, cdtr_ref_type, "CdtrRefTp"),
    S(fmt_strd_rmt, cdtr_ref_issuer, "CdtrRefIssr"),
    S(fmt_strd_rmt, doc_nb, "DocNb"),
    S(fmt_strd_rmt, doc_type, "DocTp"),
    S(fmt_strd_rmt, doc_date, "DocDt"),
    S(fmt_strd_rmt, addtl_info, "AddtlRmtInf"),
};
static SDESC(d_strd, "structured remittance", fmt_strd_rmt, f_strd);

static const struct fmt_canon_fdesc f_rgltry[] = {
    S(fmt_rgltry, code, "Cd"),
    S(fmt_rgltry, info, "Inf"),
    S(fmt_rgltry, authority_ctry, "AuthrtyCtry"),
};
static SDESC(d_rgltry, "regulatory reporting", fmt_rgltry, f_rgltry);

static const struct fmt_canon_fdesc f_pay_header[] = {
    S(fmt_pay_header, msg_id, "MsgId"),
    S(fmt_pay_header, cre_dt_tm, "CreDtTm"),
    {"NbOfTxs", FK_COUNT, offsetof(struct fmt_pay_header, nb_of_txs), 0, 0,
     NULL},
    {"CtrlSum", FK_MILLI, offsetof(struct fmt_pay_header, ctrl_sum_milli),
     offsetof(struct fmt_pay_header, has_ctrl_sum), 0, NULL},
    SUB(fmt_pay_header, initg_pty, "InitgPty", d_party),
    {"SrcFmt", FK_SRCFMT, offsetof(struct fmt_pay_header, source_format), 0, 0,
     NULL},
};
SDESC(fmt_canon_d_pay_header, "header", fmt_pay_header, f_pay_header);

static const struct fmt_canon_fdesc f_pay_group[] = {
    S(fmt_pay_group, pmt_inf_id, "PmtInfId"),
    S(fmt_pay_group, pmt_mtd, "PmtMtd"),
    {"BtchBookg", FK_BOOL3, offsetof(struct fmt_pay_group, batch_booking), 0, 0,
     NULL},
    {"NbOfTxs", FK_COUNT, offsetof(struct fmt_pay_group, nb_of_txs), 0, 0,
     NULL},
    {"CtrlSum", FK_MILLI, offsetof(struct fmt_pay_group, ctrl_sum_milli),
     offsetof(struct fmt_pay_group, has_ctrl_sum), 0, NULL},
    S(fmt_pay_group, instr_prty, "InstrPrty"),
    S(fmt_pay_group, svc_lvl, "SvcLvl"),
    S(fmt_pay_group, lcl_instrm, "LclInstrm"),
    S(fmt_pay_group, ctgy_purp, "CtgyPurp"),
    S(fmt_pay_group, reqd_exctn_dt, "ReqdExctnDt"),
    SUB(fmt_pay_group, dbtr, "Dbtr", d_party),
    SUB(fmt_pay_group, dbtr_acct, "DbtrAcct", d_account),
    SUB(fmt_pay_group, dbtr_agt, "DbtrAgt", d_agent),
    SUB(fmt_pay_group, ult_dbtr, "UltmtDbtr", d_party),
    S(fmt_pay_group, chrg_br, "ChrgBr"),
    {"SrcLine", FK_LINE, offsetof(struct fmt_pay_group, line), 0, 0, NULL},
};
SDESC(fmt_canon_d_pay_group, "group", fmt_pay_group, f_pay_group);

static const struct fmt_canon_fdesc f_pay_tx[] = {
    S(fmt_pay_tx, instr_id, "InstrId"),
    S(fmt_pay_tx, end_to_end_id, "EndToEndId"),
    S(fmt_pay_tx, uetr, "UETR"),
    {"Amt", FK_AMT, offsetof(struct fmt_pay_tx, amt), 0, 0, NULL},
    S(fmt_pay_tx, chrg_br, "ChrgBr"),
    SUB(fmt_pay_tx, cdtr_agt, "CdtrAgt", d_agent),
    SUB(fmt_pay_tx, cdtr, "Cdtr", d_party),
    SUB(fmt_pay_tx, cdtr_acct, "CdtrAcct", d_account),
    SUB(fmt_pay_tx, ult_cdtr, "UltmtCdtr", d_party),
    S(fmt_pay_tx, purp, "Purp"),
    S(fmt_pay_tx, rmt_ustrd, "Ustrd"),
    SUB(fmt_pay_tx, rmt_strd, "Strd", d_strd),
    SUB(fmt_pay_tx, rgltry, "Rgltry", d_rgltry),
    S(fmt_pay_tx, instr_for_dbtr_agt, "InstrForDbtrAgt"),
    {"SrcLine", FK_LINE, offsetof(struct fmt_pay_tx, line), 0, 0, NULL},
};
SDESC(fmt_canon_d_pay_tx, "transaction", fmt_pay_tx, f_pay_tx);

static const struct fmt_canon_fdesc f_reason[] = {
    S(fmt_reason, code, "Cd"),
    S(fmt_reason, prtry, "Prtry"),
    S(fmt_reason, addtl_info, "AddtlInf"),
};
static SDESC(d_reason, "reason", fmt_reason, f_reason);

#define ARR(t, f, nf, n, d, cap)                                               \
    {                                                                          \
        n, FK_ARR, offsetof(struct t, f), offsetof(struct t, nf), cap, &d      \
    }

static const struct fmt_canon_fdesc f_tx_status[] = {
    S(fmt_tx_status, sts_id, "StsId"),
    S(fmt_tx_status, orgnl_instr_id, "OrgnlInstrId"),
    S(fmt_tx_status, orgnl_end_to_end_id, "OrgnlEndToEndId"),
    S(fmt_tx_status, orgnl_uetr, "OrgnlUETR"),
    S(fmt_tx_status, sts, "Sts"),
    ARR(fmt_tx_status, reasons, n_reasons, "Rsn", d_reason, 1000),
    {"Amt", FK_AMT, offsetof(struct fmt_tx_status, amt), 0, 0, NULL},
};
static SDESC(d_tx_status, "transaction status", fmt_tx_status, f_tx_status);

static const struct fmt_canon_fdesc f_pmt_status[] = {
    S(fmt_pmt_status, orgnl_pmt_inf_id, "OrgnlPmtInfId"),
    S(fmt_pmt_status, sts, "Sts"),
    ARR(fmt_pmt_status, reasons, n_reasons, "Rsn", d_reason, 1000),
    ARR(fmt_pmt_status, txs, n_txs, "TxSts", d_tx_status, 1000000),
};
static SDESC(d_pmt_status, "payment status", fmt_pmt_status, f_pmt_status);

static const struct fmt_canon_fdesc f_status[] = {
    S(fmt_status_report, msg_id, "MsgId"),
    S(fmt_status_report, cre_dt_tm, "CreDtTm"),
    SUB(fmt_status_report, initg_pty, "InitgPty", d_party),
    S(fmt_status_report, orgnl_msg_id, "OrgnlMsgId"),
    S(fmt_status_report, orgnl_msg_nm_id, "OrgnlMsgNmId"),
    {"OrgnlNbOfTxs", FK_COUNT,
     offsetof(struct fmt_status_report, orgnl_nb_of_txs), 0, 0, NULL},
    S(fmt_status_report, grp_sts, "GrpSts"),
    ARR(fmt_status_report, reasons, n_reasons, "Rsn", d_reason, 1000),
    ARR(fmt_status_report, pmts, n_pmts, "PmtSts", d_pmt_status, 100000),
    {"SrcFmt", FK_SRCFMT, offsetof(struct fmt_status_report, source_format), 0,
     0, NULL},
};
SDESC(fmt_canon_d_status, "status report", fmt_status_report, f_status);

static const struct fmt_canon_fdesc f_stmt_doc[] = {
    {"Kind", FK_KIND, offsetof(struct fmt_stmt_doc, kind), 0, 0, NULL},
    S(fmt_stmt_doc, msg_id, "MsgId"),
    S(fmt_stmt_doc, cre_dt_tm, "CreDtTm"),
    S(fmt_stmt_doc, msg_rcpt, "MsgRcpt"),
    {"SrcFmt", FK_SRCFMT, offsetof(struct fmt_stmt_doc, source_format), 0, 0,
     NULL},
};
SDESC(fmt_canon_d_stmt_doc, "document", fmt_stmt_doc, f_stmt_doc);

static const struct fmt_canon_fdesc f_balance[] = {
    {"Tp", FK_CHARS, offsetof(struct fmt_balance, type), 0,
     sizeof(((struct fmt_balance *)0)->type), NULL},
    S(fmt_balance, sub_type, "SubTp"),
    {"Amt", FK_AMT, offsetof(struct fmt_balance, amt), 0, 1, NULL},
    S(fmt_balance, date, "Dt"),
};
static SDESC(d_balance, "balance", fmt_balance, f_balance);

/* Offsets relative to struct fmt_stmt: the summary is not a struct of its
 * own in the model, only in the XML. */
static const struct fmt_canon_fdesc f_summary[] = {
    {"NbOfCdts", FK_I64, offsetof(struct fmt_stmt, n_credits), 0, 0, NULL},
    {"NbOfDbts", FK_I64, offsetof(struct fmt_stmt, n_debits), 0, 0, NULL},
    {"SumCdts", FK_AMT, offsetof(struct fmt_stmt, sum_credits), 0, 0, NULL},
    {"SumDbts", FK_AMT, offsetof(struct fmt_stmt, sum_debits), 0, 0, NULL},
};
static SDESC(d_summary, "summary", fmt_stmt, f_summary);

static const struct fmt_canon_fdesc f_stmt[] = {
    S(fmt_stmt, id, "Id"),
    S(fmt_stmt, elctrnc_seq_nb, "ElctrncSeqNb"),
    S(fmt_stmt, lgl_seq_nb, "LglSeqNb"),
    S(fmt_stmt, page_nb, "PgNb"),
    S(fmt_stmt, cre_dt_tm, "CreDtTm"),
    S(fmt_stmt, fr_dt_tm, "FrDtTm"),
    S(fmt_stmt, to_dt_tm, "ToDtTm"),
    S(fmt_stmt, related_ref, "RltdRef"),
    SUB(fmt_stmt, acct, "Acct", d_account),
    SUB(fmt_stmt, svcr, "Svcr", d_agent),
    SUB(fmt_stmt, owner, "Ownr", d_party),
    ARR(fmt_stmt, bals, n_bals, "Bal", d_balance, 1000),
    {"Summary", FK_SUB, 0, offsetof(struct fmt_stmt, has_summary), 1,
     &d_summary},
    S(fmt_stmt, addtl_stmt_inf, "AddtlStmtInf"),
    {"SrcLine", FK_LINE, offsetof(struct fmt_stmt, line), 0, 0, NULL},
};
SDESC(fmt_canon_d_stmt, "statement", fmt_stmt, f_stmt);

static const struct fmt_canon_fdesc f_dtl[] = {
    S(fmt_entry_dtl, msg_id, "MsgId"),
    S(fmt_entry_dtl, acct_svcr_ref, "AcctSvcrRef"),
    S(fmt_entry_dtl, pmt_inf_id, "PmtInfId"),
    S(fmt_entry_dtl, instr_id, "InstrId"),
    S(fmt_entry_dtl, end_to_end_id, "EndToEndId"),
    S(fmt_entry_dtl, uetr, "UETR"),
    S(fmt_entry_dtl, tx_id, "TxId"),
    S(fmt_entry_dtl, mndt_id, "MndtId"),
    S(fmt_entry_dtl, chq_nb, "ChqNb"),
    S(fmt_entry_dtl, clr_sys_ref, "ClrSysRef"),
    {"Amt", FK_AMT, offsetof(struct fmt_entry_dtl, amt), 0, 0, NULL},
    SUB(fmt_entry_dtl, cpty, "Cpty", d_party),
    SUB(fmt_entry_dtl, cpty_acct, "CptyAcct", d_account),
    SUB(fmt_entry_dtl, cpty_agt, "CptyAgt", d_agent),
    SUB(fmt_entry_dtl, ult_cpty, "UltmtCpty", d_party),
    S(fmt_entry_dtl, purp, "Purp"),
    S(fmt_entry_dtl, rmt_ustrd, "Ustrd"),
    SUB(fmt_entry_dtl, rmt_strd, "Strd", d_strd),
    S(fmt_entry_dtl, rtr_rsn, "RtrRsn"),
    S(fmt_entry_dtl, addtl_tx_inf, "AddtlTxInf"),
    S(fmt_entry_dtl, bk_tx_cd_prtry, "BkTxPrtry"),
};
static SDESC(d_dtl, "entry detail", fmt_entry_dtl, f_dtl);

static const struct fmt_canon_fdesc f_entry[] = {
    S(fmt_entry, ntry_ref, "NtryRef"),
    {"Amt", FK_AMT, offsetof(struct fmt_entry, amt), 0, 0, NULL},
    {"CdtDbtInd", FK_CDTDBT, offsetof(struct fmt_entry, credit), 0, 0, NULL},
    {"RvslInd", FK_BOOL, offsetof(struct fmt_entry, reversal), 0, 0, NULL},
    S(fmt_entry, sts, "Sts"),
    S(fmt_entry, book_dt, "BookgDt"),
    S(fmt_entry, val_dt, "ValDt"),
    S(fmt_entry, acct_svcr_ref, "AcctSvcrRef"),
    S(fmt_entry, bk_tx_domain, "BkTxDomn"),
    S(fmt_entry, bk_tx_family, "BkTxFmly"),
    S(fmt_entry, bk_tx_subfamily, "BkTxSubFmly"),
    S(fmt_entry, bk_tx_prtry, "BkTxPrtry"),
    S(fmt_entry, bk_tx_prtry_issuer, "BkTxPrtryIssr"),
    S(fmt_entry, cust_ref, "CustRef"),
    S(fmt_entry, addtl_ntry_inf, "AddtlNtryInf"),
    ARR(fmt_entry, dtls, n_dtls, "Dtl", d_dtl, 100000),
    {"SrcLine", FK_LINE, offsetof(struct fmt_entry, line), 0, 0, NULL},
};
SDESC(fmt_canon_d_entry, "entry", fmt_entry, f_entry);

/* Names h2hd's readers put into source_format (static strings). */
#define CAMT_V(m)                                                              \
    "camt." m ".001.01", "camt." m ".001.02", "camt." m ".001.03",             \
        "camt." m ".001.04", "camt." m ".001.05", "camt." m ".001.06",         \
        "camt." m ".001.07", "camt." m ".001.08", "camt." m ".001.09",         \
        "camt." m ".001.10", "camt." m ".001.11", "camt." m ".001.12"
static const char *const srcfmts[] = {
    "pain.001.001.02",
    "pain.001.001.03",
    "pain.001.001.03.ch.02",
    "pain.001.001.09",
    "pain.001.001.10",
    "pain.001.001.11",
    "pain.001.002.02",
    "pain.001.002.03",
    "pain.001.003.03",
    "pain.002",
    "pain.002.001.02",
    "pain.002.001.03",
    "pain.002.001.03.ch.02",
    "pain.002.001.10",
    "pain.002.001.11",
    "pain.002.001.13",
    "pain.002.002.02",
    "pain.002.002.03",
    "pain.002.003.03",
    CAMT_V("052"),
    CAMT_V("053"),
    CAMT_V("054"),
    "MT940",
    "MT942",
    "MT101",
    "csv.pay.1",
    "canonical.1",
};

const char *fmt_canon_srcfmt(const char *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < N_(srcfmts); i++)
        if (!strcmp(srcfmts[i], s))
            return srcfmts[i];
    return NULL;
}

/* ---- low-level output --------------------------------------------------- */

struct out {
    FILE *f;
    struct h2h_err *err;
};

/* Output goes through stdio in whole runs, never a character or a
 * printf format at a time: on a million transactions the per-call cost of
 * stdio was most of the writer's time. */
static void indent(struct out *o, int level)
{
    static const char sp[] = "                                "; /* 32 */
    size_t n = level > 0 ? 2 * (size_t)level : 0;
    for (; n > sizeof(sp) - 1; n -= sizeof(sp) - 1)
        fwrite(sp, 1, sizeof(sp) - 1, o->f);
    fwrite(sp, 1, n, o->f);
}

/* "<name>" or "</name>" (close), then "\n" when nl. */
static void tag_out(struct out *o, const char *name, int close, int nl)
{
    fputs(close ? "</" : "<", o->f);
    fputs(name, o->f);
    fputs(nl ? ">\n" : ">", o->f);
}

/* Length of the UTF-8 sequence at s that XML 1.0 may carry, or 0. */
static size_t xml_char(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x20)
        return (c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    if (c < 0x80)
        return 1;
    /* fmt_utf8_valid has checked the whole string; only the XML-specific
     * exclusions remain: U+FFFE and U+FFFF */
    if (c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
        return 0;
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
}

static int put_text(struct out *o, const char *name, const char *s)
{
    size_t len = strlen(s);
    if (!fmt_utf8_valid(s, len))
        return h2h_err_set(o->err, H2H_ECHARSET, "%s: text is not valid UTF-8",
                           name);
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        size_t n = xml_char(p);
        const char *e;
        if (!n) {
            fwrite(run, 1, (size_t)(p - run), o->f);
            return h2h_err_set(o->err, H2H_ECHARSET,
                               "%s: character U+%04X cannot be written in "
                               "XML",
                               name, (unsigned)p[0]);
        }
        switch (*p) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        /* a literal CR would come back as LF after end-of-line handling */
        case '\r': e = "&#13;"; break;
        default: p += n; continue;
        }
        fwrite(run, 1, (size_t)(p - run), o->f);
        fputs(e, o->f);
        p += n;
        run = p;
    }
    fwrite(run, 1, (size_t)(p - run), o->f);
    return 0;
}

static int leaf(struct out *o, int level, const char *name, const char *text)
{
    int rc;
    indent(o, level);
    tag_out(o, name, 0, 0);
    if ((rc = put_text(o, name, text)) < 0)
        return rc;
    tag_out(o, name, 1, 1);
    return 0;
}

static int amount(struct out *o, int level, const char *name,
                  const struct fmt_amount *a)
{
    char buf[48];
    const char *c = a->ccy;
    if (strlen(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' ||
        c[1] > 'Z' || c[2] < 'A' || c[2] > 'Z')
        return h2h_err_set(o->err, H2H_EINVALID,
                           "%s: amount without a valid currency code", name);
    /* An unknown code (an old or bank-private one in a statement) is kept
     * with 2 decimals, the reader's fallback too. */
    if (fmt_ccy_exponent(c) >= 0)
        fmt_amount_format(a->minor, c, '.', buf, sizeof(buf));
    else if (a->minor > INT64_MAX / 10 || a->minor < INT64_MIN / 10)
        return h2h_err_set(o->err, H2H_ETOOBIG, "%s: amount too large", name);
    else
        fmt_milli_format(a->minor * 10, buf, sizeof(buf));
    indent(o, level);
    fprintf(o->f, "<%s Ccy=\"%s\">%s</%s>\n", name, c, buf, name);
    return 0;
}

/* ---- generic struct writer ---------------------------------------------- */

static int sub_present(const struct fmt_canon_sdesc *d, const void *base);

static const void *at(const void *base, size_t off)
{
    return (const char *)base + off;
}

static int field_present(const struct fmt_canon_fdesc *f, const void *base)
{
    const void *p = at(base, f->off);
    switch (f->kind) {
    case FK_STR: return *(char *const *)p != NULL;
    case FK_COUNT: return *(const int64_t *)p >= 0;
    case FK_I64:
    case FK_CDTDBT:
    case FK_KIND: return 1;
    case FK_LINE:
    case FK_BOOL: return *(const int *)p != 0;
    case FK_BOOL3: return *(const int *)p >= 0;
    case FK_MILLI: return *(const int *)at(base, f->off2) != 0;
    case FK_AMT: {
        const struct fmt_amount *a = p;
        return a->ccy[0] != '\0' || a->minor != 0;
    }
    case FK_CHARS: return *(const char *)p != '\0';
    case FK_SRCFMT: return *(const char *const *)p != NULL;
    case FK_LINES:
        for (size_t i = 0; i < f->aux; i++)
            if (((char *const *)p)[i])
                return 1;
        return 0;
    case FK_SUB:
        if (f->aux)
            return *(const int *)at(base, f->off2) != 0;
        return sub_present(f->sub, p);
    case FK_ARR: return *(const size_t *)at(base, f->off2) > 0;
    }
    return 0;
}

static int sub_present(const struct fmt_canon_sdesc *d, const void *base)
{
    for (size_t i = 0; i < d->n; i++)
        if (field_present(&d->f[i], base))
            return 1;
    return 0;
}

static int write_fields(struct out *o, int level,
                        const struct fmt_canon_sdesc *d, const void *base);

static int write_field(struct out *o, int level,
                       const struct fmt_canon_fdesc *f, const void *base)
{
    const void *p = at(base, f->off);
    char buf[64];
    int rc = 0;
    if (!field_present(f, base))
        return 0;
    switch (f->kind) {
    case FK_STR: return leaf(o, level, f->name, *(char *const *)p);
    case FK_COUNT:
    case FK_I64:
        snprintf(buf, sizeof(buf), "%lld", (long long)*(const int64_t *)p);
        return leaf(o, level, f->name, buf);
    case FK_LINE:
        snprintf(buf, sizeof(buf), "%d", *(const int *)p);
        return leaf(o, level, f->name, buf);
    case FK_BOOL3:
    case FK_BOOL:
        return leaf(o, level, f->name, *(const int *)p ? "true" : "false");
    case FK_CDTDBT:
        return leaf(o, level, f->name, *(const int *)p ? "CRDT" : "DBIT");
    case FK_KIND: {
        int k = *(const int *)p;
        return leaf(o, level, f->name,
                    k == FMT_STMT_REPORT         ? "report"
                    : k == FMT_STMT_NOTIFICATION ? "notification"
                                                 : "statement");
    }
    case FK_MILLI:
        if (*(const int64_t *)p < 0)
            return h2h_err_set(o->err, H2H_EINVALID, "%s: negative control sum",
                               f->name);
        fmt_milli_format(*(const int64_t *)p, buf, sizeof(buf));
        return leaf(o, level, f->name, buf);
    case FK_AMT: {
        const struct fmt_amount *a = p;
        if (a->minor < 0 && !f->aux)
            return h2h_err_set(o->err, H2H_EINVALID, "%s: negative amount",
                               f->name);
        return amount(o, level, f->name, a);
    }
    case FK_CHARS:
        if (!memchr(p, '\0', f->aux))
            return h2h_err_set(o->err, H2H_EINVALID, "%s: code not terminated",
                               f->name);
        return leaf(o, level, f->name, p);
    case FK_SRCFMT: return leaf(o, level, f->name, *(const char *const *)p);
    case FK_LINES:
        for (size_t i = 0; i < f->aux && rc == 0; i++) {
            const char *l = ((const char *const *)p)[i];
            if (l)
                rc = leaf(o, level, f->name, l);
        }
        return rc;
    case FK_SUB:
        indent(o, level);
        tag_out(o, f->name, 0, 1);
        if ((rc = write_fields(o, level + 1, f->sub, p)) < 0)
            return rc;
        indent(o, level);
        tag_out(o, f->name, 1, 1);
        return 0;
    case FK_ARR: {
        const char *arr = *(const char *const *)p;
        size_t n = *(const size_t *)at(base, f->off2);
        if (!arr)
            return h2h_err_set(o->err, H2H_EINVALID,
                               "%s: %zu elements but no array", f->name, n);
        for (size_t i = 0; i < n; i++) {
            indent(o, level);
            tag_out(o, f->name, 0, 1);
            rc = write_fields(o, level + 1, f->sub, arr + i * f->sub->size);
            if (rc < 0)
                return rc;
            indent(o, level);
            tag_out(o, f->name, 1, 1);
        }
        return 0;
    }
    }
    return 0;
}

static int write_fields(struct out *o, int level,
                        const struct fmt_canon_sdesc *d, const void *base)
{
    for (size_t i = 0; i < d->n; i++) {
        int rc = write_field(o, level, &d->f[i], base);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The fields of base rendered into a new string (NULL on failure, with
 * o->err filled). */
static char *render(struct out *o, int level, const struct fmt_canon_sdesc *d,
                    const void *base)
{
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);
    if (!m) {
        h2h_err_set(o->err, H2H_ENOMEM, "out of memory");
        return NULL;
    }
    struct out mo = {m, o->err};
    int rc = write_fields(&mo, level, d, base);
    if (fclose(m) != 0 && rc == 0)
        rc = h2h_err_set(o->err, H2H_ENOMEM, "out of memory");
    if (rc < 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* ---- the writer --------------------------------------------------------- */

enum wstate {
    W_INIT,
    W_PAY,  /* inside PaymentBatch */
    W_GRP,  /* inside Group */
    W_DOC,  /* inside Statements */
    W_STMT, /* inside Stmt */
    W_DONE,
};

struct fmt_canon_writer {
    FILE *f;
    enum wstate st;
    struct h2h_err err; /* first error */
    char *snap_top;     /* header / doc fields as begin() rendered */
    char *snap_mid;     /* group / statement fields at their start */
};

struct fmt_canon_writer *fmt_canon_writer_new(FILE *out)
{
    if (!out)
        return NULL;
    struct fmt_canon_writer *w = calloc(1, sizeof(*w));
    if (w)
        w->f = out;
    return w;
}

void fmt_canon_writer_free(struct fmt_canon_writer *w)
{
    if (!w)
        return;
    free(w->snap_top);
    free(w->snap_mid);
    free(w);
}

static int failed(struct fmt_canon_writer *w)
{
    return w->err.code < 0 ? w->err.code : 0;
}

/* Keep the first error only: later ones are consequences. */
static int fail(struct fmt_canon_writer *w, int rc)
{
    if (w->err.code == 0) {
        if (w->err.msg[0] == '\0')
            snprintf(w->err.msg, sizeof(w->err.msg), "%s", h2h_strerror(rc));
        w->err.code = rc;
    }
    return w->err.code;
}

static int state(struct fmt_canon_writer *w, enum wstate want,
                 const char *event)
{
    if (failed(w))
        return failed(w);
    if (w->st != want) {
        h2h_err_set(&w->err, H2H_ESTATE, "canonical writer: %s out of order",
                    event);
        return fail(w, H2H_ESTATE);
    }
    return 0;
}

static int open_root(struct fmt_canon_writer *w, const char *root)
{
    fprintf(w->f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<%s xmlns=\"" FMT_CANON_NS "\">\n",
            root);
    return 0;
}

/* Write <name> with the fields of base at level, keeping the rendering in
 * *snap when snap is not NULL. */
static int begin_part(struct fmt_canon_writer *w, const char *name, int level,
                      const struct fmt_canon_sdesc *d, const void *base,
                      char **snap, int close)
{
    struct h2h_err e = {0};
    struct out o = {w->f, &e};
    if (!snap && close) {
        /* Tx and Ntry, once per transaction: nothing to compare later, so
         * straight to the output rather than through a memory stream (a
         * stream, a buffer and a copy per transaction).  On failure the
         * element is left unfinished; the writer has failed and its output
         * is discarded anyway. */
        indent(&o, level);
        tag_out(&o, name, 0, 1);
        int rc = write_fields(&o, level + 1, d, base);
        if (rc < 0) {
            w->err = e;
            return fail(w, e.code ? e.code : rc);
        }
        indent(&o, level);
        tag_out(&o, name, 1, 1);
        return 0;
    }
    char *s = render(&o, level + 1, d, base);
    if (!s) {
        w->err = e;
        return fail(w, e.code ? e.code : H2H_ENOMEM);
    }
    indent(&o, level);
    tag_out(&o, name, 0, 1);
    fputs(s, w->f);
    if (close) {
        indent(&o, level);
        tag_out(&o, name, 1, 1);
    }
    if (snap) {
        free(*snap);
        *snap = s;
    } else {
        free(s);
    }
    return 0;
}

/* At an end event: write <name> with the fields only if they changed.
 * The start rendering was made at snap_level (the indentation of its
 * fields), so the comparison renders at that level too. */
static int end_part(struct fmt_canon_writer *w, const char *name, int level,
                    int snap_level, const struct fmt_canon_sdesc *d,
                    const void *base, char **snap)
{
    struct h2h_err e = {0};
    struct out o = {w->f, &e};
    char *s = render(&o, snap_level, d, base);
    if (s && *snap && !strcmp(s, *snap)) {
        free(s);
        s = NULL;
    } else if (s) {
        free(s);
        if ((s = render(&o, level + 1, d, base)) != NULL) {
            indent(&o, level);
            fprintf(w->f, "<%s>\n%s", name, s);
            indent(&o, level);
            fprintf(w->f, "</%s>\n", name);
            free(s);
            s = NULL;
        } else {
            e.code = e.code ? e.code : H2H_ENOMEM;
        }
    } else {
        e.code = e.code ? e.code : H2H_ENOMEM;
    }
    free(*snap);
    *snap = NULL;
    if (e.code) {
        w->err = e;
        return fail(w, e.code);
    }
    return 0;
}

static int pay_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct fmt_canon_writer *w = ctx;
    int rc = state(w, W_INIT, "begin");
    if (rc < 0)
        return rc;
    open_root(w, "PaymentBatch");
    if ((rc = begin_part(w, "Header", 1, &fmt_canon_d_pay_header, h,
                         &w->snap_top, 1)) < 0)
        return rc;
    w->st = W_PAY;
    return 0;
}

static int pay_group_begin(void *ctx, const struct fmt_pay_group *g)
{
    struct fmt_canon_writer *w = ctx;
    int rc = state(w, W_PAY, "group_begin");
    if (rc < 0)
        return rc;
    if ((rc = begin_part(w, "Group", 1, &fmt_canon_d_pay_group, g, &w->snap_mid,
                         0)) < 0)
        return rc;
    w->st = W_GRP;
    return 0;
}

static int pay_tx(void *ctx, const struct fmt_pay_group *g,
                  const struct fmt_pay_tx *t)
{
    struct fmt_canon_writer *w = ctx;
    (void)g;
    int rc = state(w, W_GRP, "tx");
    if (rc < 0)
        return rc;
    return begin_part(w, "Tx", 2, &fmt_canon_d_pay_tx, t, NULL, 1);
}

static int pay_group_end(void *ctx, const struct fmt_pay_group *g)
{
    struct fmt_canon_writer *w = ctx;
    int rc = state(w, W_GRP, "group_end");
    if (rc < 0)
        return rc;
    if ((rc = end_part(w, "GroupEnd", 2, 2, &fmt_canon_d_pay_group, g,
                       &w->snap_mid)) < 0)
        return rc;
    fputs("  </Group>\n", w->f);
    w->st = W_PAY;
    return 0;
}

static int pay_end(void *ctx, const struct fmt_pay_header *h)
{
    struct fmt_canon_writer *w = ctx;
    int rc = state(w, W_PAY, "end");
    if (rc < 0)
        return rc;
    if ((rc = end_part(w, "HeaderEnd", 1, 2, &fmt_canon_d_pay_header, h,
                       &w->snap_top)) < 0)
        return rc;
    fputs("</PaymentBatch>\n", w->f);
    w->st = W_DONE;
    return 0;
}

struct fmt_pay_sink fmt_canon_pay_sink(struct fmt_canon_writer *w)
{
    struct fmt_pay_sink s = {pay_begin,     pay_group_begin, pay_tx,
                             pay_group_end, pay_end,         w};
    return s;
}

static int stmt_begin_doc(void *ctx, const struct fmt_stmt_doc *d)
{
    struct fmt_canon_writer *w = ctx;
    int rc = state(w, W_INIT, "begin");
    if (rc < 0)
        return rc;
    open_root(w, "Statements");
    if ((rc = begin_part(w, "Doc", 1, &fmt_canon_d_stmt_doc, d, &w->snap_top,
                         1)) < 0)
        return rc;
    w->st = W_DOC;
    return 0;
}

static int stmt_begin(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_canon_writer *w = ctx;
    int rc = state(w, W_DOC, "stmt_begin");
    if (rc < 0)
        return rc;
    if ((rc = begin_part(w, "Stmt", 1, &fmt_canon_d_stmt, st, &w->snap_mid,
                         0)) < 0)
        return rc;
    w->st = W_STMT;
    return 0;
}

static int stmt_entry(void *ctx, const struct fmt_stmt *st,
                      const struct fmt_entry *e)
{
    struct fmt_canon_writer *w = ctx;
    (void)st;
    int rc = state(w, W_STMT, "entry");
    if (rc < 0)
        return rc;
    return begin_part(w, "Ntry", 2, &fmt_canon_d_entry, e, NULL, 1);
}

static int stmt_end(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_canon_writer *w = ctx;
    int rc = state(w, W_STMT, "stmt_end");
    if (rc < 0)
        return rc;
    if ((rc = end_part(w, "StmtEnd", 2, 2, &fmt_canon_d_stmt, st,
                       &w->snap_mid)) < 0)
        return rc;
    fputs("  </Stmt>\n", w->f);
    w->st = W_DOC;
    return 0;
}

static int stmt_end_doc(void *ctx, const struct fmt_stmt_doc *d)
{
    struct fmt_canon_writer *w = ctx;
    int rc = state(w, W_DOC, "end");
    if (rc < 0)
        return rc;
    if ((rc = end_part(w, "DocEnd", 1, 2, &fmt_canon_d_stmt_doc, d,
                       &w->snap_top)) < 0)
        return rc;
    fputs("</Statements>\n", w->f);
    w->st = W_DONE;
    return 0;
}

struct fmt_stmt_sink fmt_canon_stmt_sink(struct fmt_canon_writer *w)
{
    struct fmt_stmt_sink s = {stmt_begin_doc, stmt_begin,   stmt_entry,
                              stmt_end,       stmt_end_doc, w};
    return s;
}

int fmt_canon_writer_finish(struct fmt_canon_writer *w, struct h2h_err *err)
{
    if (!w)
        return h2h_err_set(err, H2H_EINVALID, "no writer");
    if (w->err.code < 0) {
        if (err)
            *err = w->err;
        return w->err.code;
    }
    if (w->st != W_DONE)
        return h2h_err_set(err, H2H_ESTATE,
                           "canonical document not complete (end() not "
                           "called)");
    if (fflush(w->f) != 0 || ferror(w->f))
        return h2h_err_set(err, H2H_EIO,
                           "writing the canonical document "
                           "failed");
    return 0;
}

int fmt_canon_write_status(FILE *out, const struct fmt_status_report *r,
                           struct h2h_err *err)
{
    if (!out || !r)
        return h2h_err_set(err, H2H_EINVALID, "no output or no report");
    struct h2h_err e = {0};
    struct out o = {out, &e};
    char *s = render(&o, 1, &fmt_canon_d_status, r);
    if (!s) {
        if (err)
            *err = e;
        return e.code ? e.code : H2H_ENOMEM;
    }
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<StatusReport xmlns=\"" FMT_CANON_NS "\">\n%s</StatusReport>\n",
            s);
    free(s);
    if (fflush(out) != 0 || ferror(out))
        return h2h_err_set(err, H2H_EIO,
                           "writing the canonical status report failed");
    return 0;
}
