/*
 * model.h - the canonical model: one internal form for payments, status
 * reports and statements, between N input formats and M bank dialects.
 *
 * Streaming: large files never sit in memory whole.  Readers parse a file
 * and emit events into a sink (struct fmt_pay_sink / fmt_stmt_sink); writers
 * are sinks.  A conversion is reader(src) -> [validator] -> writer(out).
 * Status reports are small and are read into one struct fmt_status_report.
 *
 * Text: every char * is UTF-8, NUL-terminated, or NULL when absent.
 * Dates are ISO civil dates "YYYY-MM-DD"; timestamps are ISO 8601
 * "YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm]" kept as given.
 *
 * Ownership: a struct's strings belong to that struct and are freed by its
 * _release function (which accepts a zeroed struct and leaves one behind).
 * Structs passed to sink callbacks belong to the reader and are valid only
 * for the duration of the call: a sink that keeps data copies it.
 *
 * Amounts: int64 minor units plus an ISO 4217 code (see amount.h).
 *
 * Thread-safety: plain data, no globals; any thread.
 */
#ifndef FMT_MODEL_H
#define FMT_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "h2h_err.h"

/* ---- building blocks ---------------------------------------------------- */

struct fmt_amount {
    int64_t minor; /* in minor units of ccy; >= 0 except balances */
    char ccy[4];   /* ISO 4217 alpha code, "" when absent */
};

struct fmt_postal {
    char *dept, *street, *building, *postcode, *town, *subdivision;
    char *country;  /* ISO 3166 alpha-2 */
    char *lines[7]; /* unstructured AdrLine, NULL-terminated use */
};

struct fmt_party {
    char *name;
    struct fmt_postal addr;
    char *org_bic;       /* Id/OrgId/AnyBIC (BICOrBEI in .03) */
    char *org_id;        /* Id/OrgId/Othr/Id */
    char *org_id_scheme; /* its SchmeNm/Cd or Prtry */
    char *prvt_id;       /* Id/PrvtId/Othr/Id */
    char *ctry_of_res;
};

struct fmt_account {
    char *iban;
    char *other_id;     /* e.g. a Chinese account number, BBAN */
    char *other_scheme; /* SchmeNm/Cd or Prtry of other_id */
    char *ccy;          /* account currency */
    char *name;
    char *type; /* Tp/Cd, e.g. CACC */
};

struct fmt_agent {
    char *bic;        /* BIC (BICFI / BIC) */
    char *clr_sys;    /* clearing system code, e.g. CNAPS, USABA, DEBLZ */
    char *clr_mmb_id; /* member id within that system */
    char *name;
    struct fmt_postal addr;
    char *other_id; /* Othr/Id, e.g. "NOTPROVIDED" */
};

/* Structured remittance: creditor reference and/or referred documents. */
struct fmt_strd_rmt {
    char *cdtr_ref;      /* CdtrRefInf/Ref (e.g. RF18...) */
    char *cdtr_ref_type; /* CdtrRefInf/Tp/CdOrPrtry/Cd, e.g. SCOR */
    char *cdtr_ref_issuer;
    char *doc_nb;   /* RfrdDocInf/Nb (invoice number) */
    char *doc_type; /* RfrdDocInf/Tp/CdOrPrtry/Cd, e.g. CINV */
    char *doc_date;
    char *addtl_info; /* AddtlRmtInf */
};

struct fmt_rgltry {
    char *code;           /* Dtls/Cd */
    char *info;           /* Dtls/Inf */
    char *authority_ctry; /* Authrty/Ctry */
};

/* ---- payment batch (superset of pain.001) -------------------------------- */

struct fmt_pay_header {
    char *msg_id;
    char *cre_dt_tm;
    int64_t nb_of_txs; /* as declared by the input, -1 when unknown */
    int has_ctrl_sum;
    int64_t ctrl_sum_milli; /* CtrlSum as declared, in 1/1000 units */
    struct fmt_party initg_pty;
    const char *source_format; /* static string, e.g. "pain.001.001.03" */
};

struct fmt_pay_group {
    char *pmt_inf_id;
    char *pmt_mtd;     /* TRF, CHK, TRA */
    int batch_booking; /* -1 unset, 0 false, 1 true */
    int64_t nb_of_txs; /* as declared, -1 when absent */
    int has_ctrl_sum;
    int64_t ctrl_sum_milli;
    char *instr_prty;    /* NORM, HIGH */
    char *svc_lvl;       /* SvcLvl/Cd, e.g. SEPA, URGP */
    char *lcl_instrm;    /* LclInstrm/Cd or Prtry */
    char *ctgy_purp;     /* CtgyPurp/Cd, e.g. SALA, SUPP */
    char *reqd_exctn_dt; /* date */
    struct fmt_party dbtr;
    struct fmt_account dbtr_acct;
    struct fmt_agent dbtr_agt;
    struct fmt_party ult_dbtr;
    char *chrg_br; /* DEBT, CRED, SHAR, SLEV */
    int line;      /* source line of the group, 0 when unknown */
};

struct fmt_pay_tx {
    char *instr_id;
    char *end_to_end_id;
    char *uetr; /* UUIDv4, lower case */
    struct fmt_amount amt;
    char *chrg_br;
    struct fmt_agent cdtr_agt;
    struct fmt_party cdtr;
    struct fmt_account cdtr_acct;
    struct fmt_party ult_cdtr;
    char *purp;      /* Purp/Cd */
    char *rmt_ustrd; /* Ustrd lines joined with "\n" */
    struct fmt_strd_rmt rmt_strd;
    struct fmt_rgltry rgltry;
    char *instr_for_dbtr_agt;
    int line; /* source line of the transaction */
};

/*
 * A payment sink receives, in order:
 *   begin(hdr) { group_begin(grp) tx(tx)* group_end(grp) }* end(hdr)
 * end() receives the header again (some fields such as nb_of_txs may only
 * be final there).  Any callback may return a negative code to abort the
 * reader, which then returns that code.  NULL callbacks are skipped.
 */
struct fmt_pay_sink {
    int (*begin)(void *ctx, const struct fmt_pay_header *hdr);
    int (*group_begin)(void *ctx, const struct fmt_pay_group *grp);
    int (*tx)(void *ctx, const struct fmt_pay_group *grp,
              const struct fmt_pay_tx *tx);
    int (*group_end)(void *ctx, const struct fmt_pay_group *grp);
    int (*end)(void *ctx, const struct fmt_pay_header *hdr);
    void *ctx;
};

/* ---- payment status report (pain.002) ----------------------------------- */

struct fmt_reason {
    char *code;       /* StsRsnInf/Rsn/Cd, e.g. AC01 */
    char *prtry;      /* StsRsnInf/Rsn/Prtry */
    char *addtl_info; /* AddtlInf lines joined with "\n" */
};

struct fmt_tx_status {
    char *sts_id;
    char *orgnl_instr_id;
    char *orgnl_end_to_end_id;
    char *orgnl_uetr;
    char *sts; /* TxSts: ACCP, ACSC, ACTC, RJCT, PDNG, ... */
    struct fmt_reason *reasons;
    size_t n_reasons;
    struct fmt_amount amt; /* OrgnlTxRef/Amt when given */
};

struct fmt_pmt_status {
    char *orgnl_pmt_inf_id;
    char *sts; /* PmtInfSts, NULL when absent */
    struct fmt_reason *reasons;
    size_t n_reasons;
    struct fmt_tx_status *txs;
    size_t n_txs;
};

struct fmt_status_report {
    char *msg_id;
    char *cre_dt_tm;
    struct fmt_party initg_pty;
    char *orgnl_msg_id;
    char *orgnl_msg_nm_id;   /* e.g. pain.001.001.03 */
    int64_t orgnl_nb_of_txs; /* -1 when absent */
    char *grp_sts;           /* GrpSts, NULL when absent */
    struct fmt_reason *reasons;
    size_t n_reasons;
    struct fmt_pmt_status *pmts;
    size_t n_pmts;
    const char *source_format;
};

void fmt_status_report_release(struct fmt_status_report *r);

/* ---- account statement / report / notification ------------------------- */

enum fmt_stmt_kind {
    FMT_STMT_STATEMENT = 0,   /* camt.053, MT940 */
    FMT_STMT_REPORT = 1,      /* camt.052, MT942 */
    FMT_STMT_NOTIFICATION = 2 /* camt.054 */
};

struct fmt_balance {
    char type[8]; /* OPBD, CLBD, OPAV, CLAV, FWAV, ITBD, PRCD, ... */
    char *sub_type;
    struct fmt_amount amt; /* signed: negative means debit balance */
    char *date;            /* date (or timestamp when only DtTm given) */
};

struct fmt_entry_dtl {
    char *msg_id, *acct_svcr_ref, *pmt_inf_id, *instr_id, *end_to_end_id;
    char *uetr, *tx_id, *mndt_id, *chq_nb, *clr_sys_ref;
    struct fmt_amount amt; /* ccy "" when absent */
    struct fmt_party cpty; /* the other side: creditor for debits */
    struct fmt_account cpty_acct;
    struct fmt_agent cpty_agt;
    struct fmt_party ult_cpty;
    char *purp;
    char *rmt_ustrd;
    struct fmt_strd_rmt rmt_strd;
    char *rtr_rsn; /* RtrInf/Rsn/Cd for returns */
    char *addtl_tx_inf;
    char *bk_tx_cd_prtry; /* per-detail BkTxCd/Prtry/Cd */
};

struct fmt_entry {
    char *ntry_ref;
    struct fmt_amount amt; /* >= 0 */
    int credit;            /* 1 CRDT, 0 DBIT */
    int reversal;          /* RvslInd / MT940 RC, RD */
    char *sts;             /* BOOK, PDNG, INFO */
    char *book_dt;         /* date */
    char *val_dt;          /* date */
    char *acct_svcr_ref;   /* bank reference */
    char *bk_tx_domain, *bk_tx_family, *bk_tx_subfamily;
    char *bk_tx_prtry; /* e.g. MT940 "NTRF", GVC "166" */
    char *bk_tx_prtry_issuer;
    char *cust_ref;       /* MT940 field 61 reference for owner */
    char *addtl_ntry_inf; /* AddtlNtryInf / raw :86: text */
    struct fmt_entry_dtl *dtls;
    size_t n_dtls;
    int line;
};

struct fmt_stmt {
    char *id;             /* Stmt/Id, MT940 :20: */
    char *elctrnc_seq_nb; /* MT940 :28C: statement number */
    char *lgl_seq_nb;
    char *page_nb; /* MT940 :28C: sequence */
    char *cre_dt_tm;
    char *fr_dt_tm, *to_dt_tm;
    char *related_ref; /* MT940 :21: */
    struct fmt_account acct;
    struct fmt_agent svcr;
    struct fmt_party owner;
    struct fmt_balance *bals;
    size_t n_bals;
    int has_summary; /* TxsSummry or MT :90D:/:90C: */
    int64_t n_credits, n_debits;
    struct fmt_amount sum_credits, sum_debits;
    char *addtl_stmt_inf; /* MT940 :86: after :62: */
    int line;
};

struct fmt_stmt_doc {
    enum fmt_stmt_kind kind;
    char *msg_id;
    char *cre_dt_tm;
    char *msg_rcpt;            /* GrpHdr/MsgRcpt name */
    const char *source_format; /* static, e.g. "camt.053.001.02", "MT940" */
};

/*
 * A statement sink receives:
 *   begin(doc) { stmt_begin(stmt) entry(e)* stmt_end(stmt) }* end(doc)
 * stmt_begin carries every balance the reader knows at that point
 * (camt: all of them; MT940: all, since a message is parsed whole);
 * stmt_end carries the final struct.
 */
struct fmt_stmt_sink {
    int (*begin)(void *ctx, const struct fmt_stmt_doc *doc);
    int (*stmt_begin)(void *ctx, const struct fmt_stmt *st);
    int (*entry)(void *ctx, const struct fmt_stmt *st,
                 const struct fmt_entry *e);
    int (*stmt_end)(void *ctx, const struct fmt_stmt *st);
    int (*end)(void *ctx, const struct fmt_stmt_doc *doc);
    void *ctx;
};

/* ---- release functions (accept NULL and zeroed structs) ----------------- */

void fmt_postal_release(struct fmt_postal *p);
void fmt_party_release(struct fmt_party *p);
void fmt_account_release(struct fmt_account *a);
void fmt_agent_release(struct fmt_agent *a);
void fmt_strd_rmt_release(struct fmt_strd_rmt *r);
void fmt_rgltry_release(struct fmt_rgltry *r);
void fmt_pay_header_release(struct fmt_pay_header *h);
void fmt_pay_group_release(struct fmt_pay_group *g);
void fmt_pay_tx_release(struct fmt_pay_tx *t);
void fmt_reason_release(struct fmt_reason *r);
void fmt_entry_dtl_release(struct fmt_entry_dtl *d);
void fmt_entry_release(struct fmt_entry *e);
void fmt_stmt_release(struct fmt_stmt *s);
void fmt_stmt_doc_release(struct fmt_stmt_doc *d);

/* Initialise with "absent" markers (-1 counts etc.); memset 0 otherwise. */
void fmt_pay_header_init(struct fmt_pay_header *h);
void fmt_pay_group_init(struct fmt_pay_group *g);
void fmt_status_report_init(struct fmt_status_report *r);

/* Replace *dst with a copy of src (src may be NULL).  0 or H2H_ENOMEM. */
int fmt_strset(char **dst, const char *src);
/* Replace *dst with a copy of src[0..len).  0 or H2H_ENOMEM. */
int fmt_strnset(char **dst, const char *src, size_t len);

/* ---- diagnostics: every problem of a file, reported together ------------ */

struct fmt_problem {
    int line;    /* 1-based source line, 0 when unknown */
    char *where; /* element path ("PmtInf[2]/CdtTrfTxInf[5]/Amt")
                    or CSV column / MT field, may be NULL */
    char *rule;  /* short stable rule id, e.g. "iban.checksum" */
    char *msg;   /* words a treasury user understands */
};

struct fmt_diag {
    const char *file; /* name used in messages; not owned */
    struct fmt_problem *v;
    size_t n, cap;
    size_t max;     /* stop recording after this many (0: 1000) */
    size_t dropped; /* problems not recorded because of max */
};

void fmt_diag_init(struct fmt_diag *d, const char *file);
void fmt_diag_release(struct fmt_diag *d);
void fmt_diag_add(struct fmt_diag *d, int line, const char *where,
                  const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Print "file:line: where: msg [rule]" lines to f. */
void fmt_diag_print(const struct fmt_diag *d, FILE *f);
/* All problems as one string (caller frees); for rejected/<name>.reason. */
char *fmt_diag_join(const struct fmt_diag *d);

/* ---- input sources ------------------------------------------------------ */

/* A reader's input: a file path, or a memory buffer (path == NULL). */
struct fmt_src {
    const char *path;
    const char *buf;
    size_t len;
    const char *name;    /* for messages; defaults to path or "<memory>" */
    const char *charset; /* declared input charset for non-XML formats
                            (MT940, CSV): NULL = UTF-8 */
};

#endif
