/*
 * cx_profile.c - the profile file of a cnbank_xml bank (PROFILE.md): read
 * with libconfig, checked rule by rule, copied into an immutable struct
 * cx_profile.
 *
 * One pass checks and copies.  Every problem goes to a->report with the
 * profile's own setting, so that the operator reads the profile's
 * file:line.  A setting that is wrong is left out of the copy and the
 * checks that depend on it are skipped, so that one mistake is reported
 * once and not again by every rule that builds on it.  The copy is handed
 * out only when there was no problem at all.  The config_t lives only
 * during cx_profile_load: nothing in the profile points into it.
 */
#include "cx_int.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A profile is a few KiB; the caps keep the pairwise checks below cheap
 * whatever a file holds. */
#define PROFILE_MAX_BYTES (1024 * 1024)
#define VALUE_MAX 1024 /* bytes of any string value */
#define PATH_MAX_LEN 256
#define LIST_MAX 1000

/* ---- names -------------------------------------------------------------- */

static const char *const fn_names[CX_FN_COUNT] = {
    [CX_FN_PAYMENT] = "payment",
    [CX_FN_PAYMENT_STATUS] = "payment_status",
    [CX_FN_PAYROLL] = "payroll",
    [CX_FN_PAYROLL_RESULT] = "payroll_result",
    [CX_FN_BALANCE] = "balance",
    [CX_FN_TRANSACTIONS] = "transactions",
    [CX_FN_RECEIPTS] = "receipts",
    [CX_FN_RECEIPT_DOWNLOAD] = "receipt_download",
    [CX_FN_BILL_OPERATION] = "bill_operation",
    [CX_FN_BILL_QUERY] = "bill_query",
    [CX_FN_BILL_DRAFTS] = "bill_drafts",
    [CX_FN_BILL_NOTICES] = "bill_notices",
    [CX_FN_BILL_POOL] = "bill_pool",
    [CX_FN_BILL_HISTORY] = "bill_history",
    [CX_FN_SCF_FINANCING] = "scf_financing",
    [CX_FN_SCF_QUERY] = "scf_query",
    [CX_FN_SCF_CANCEL] = "scf_cancel",
    [CX_FN_VOUCHER_OPERATION] = "voucher_operation",
    [CX_FN_VOUCHER_QUERY] = "voucher_query",
    [CX_FN_VOUCHER_LIST] = "voucher_list",
};

const char *cx_fn_name(enum cx_fn f)
{
    return (unsigned)f < CX_FN_COUNT ? fn_names[f] : "?";
}

/* The families: which functions, which of them are optional. */
static int fn_family(enum cx_fn f) /* 0 core, 1 bills, 2 scf */
{
    return f < CX_FN_CORE ? 0 : f < CX_FN_SCF_FINANCING ? 1 : 2;
}

/* Where a token may be used: a bit per function (its header overrides and
 * request), envelope.header, the payroll item and the scf_financing item
 * (an invoice). */
#define IN_FN(f) (1u << (f))
#define IN_HEADER (1u << CX_FN_COUNT)
#define IN_ITEM (1u << (CX_FN_COUNT + 1))
#define IN_INVOICE (1u << (CX_FN_COUNT + 2))
#define IN_ALL (IN_HEADER | IN_ITEM | IN_INVOICE | ((1u << CX_FN_COUNT) - 1))
#define IN_PAY (IN_FN(CX_FN_PAYMENT) | IN_FN(CX_FN_PAYROLL))
#define IN_LIST (IN_FN(CX_FN_TRANSACTIONS) | IN_FN(CX_FN_RECEIPTS))
#define IN_BOP IN_FN(CX_FN_BILL_OPERATION)
#define IN_VOP IN_FN(CX_FN_VOUCHER_OPERATION)
#define IN_FIN IN_FN(CX_FN_SCF_FINANCING)
#define IN_FAM_SERIAL                                                          \
    (IN_BOP | IN_VOP | IN_FIN | IN_FN(CX_FN_BILL_QUERY) |                      \
     IN_FN(CX_FN_SCF_QUERY) | IN_FN(CX_FN_SCF_CANCEL) |                        \
     IN_FN(CX_FN_VOUCHER_QUERY))
#define IN_FAM_PAGE                                                            \
    (IN_FN(CX_FN_BILL_DRAFTS) | IN_FN(CX_FN_BILL_NOTICES) |                    \
     IN_FN(CX_FN_VOUCHER_LIST))

static const struct {
    const char *name;
    unsigned in;
} toks[CX_T_N] = {
    [CX_T_FUNCTION] = {"function", IN_HEADER},
    [CX_T_LOGIN] = {"login", IN_ALL},
    [CX_T_USER] = {"user", IN_ALL},
    [CX_T_REQUEST_ID] = {"request_id", IN_ALL},
    [CX_T_DATE] = {"date", IN_ALL},
    [CX_T_TIME] = {"time", IN_ALL},
    [CX_T_SERIAL] = {"serial", IN_PAY | IN_FN(CX_FN_PAYMENT_STATUS) |
                                   IN_FN(CX_FN_PAYROLL_RESULT) | IN_FAM_SERIAL},
    [CX_T_DEBTOR_ACCOUNT] = {"debtor_account", IN_PAY},
    [CX_T_DEBTOR_NAME] = {"debtor_name", IN_PAY},
    [CX_T_CREDITOR_ACCOUNT] = {"creditor_account",
                               IN_FN(CX_FN_PAYMENT) | IN_ITEM},
    [CX_T_CREDITOR_NAME] = {"creditor_name", IN_FN(CX_FN_PAYMENT) | IN_ITEM},
    [CX_T_CREDITOR_BANK] = {"creditor_bank", IN_FN(CX_FN_PAYMENT) | IN_ITEM},
    [CX_T_AMOUNT] = {"amount",
                     IN_FN(CX_FN_PAYMENT) | IN_ITEM | IN_BOP | IN_VOP | IN_FIN},
    [CX_T_CURRENCY] = {"currency", IN_PAY | IN_FIN},
    [CX_T_CURRENCY_CODE] = {"currency_code", IN_PAY | IN_FIN},
    [CX_T_REMITTANCE] = {"remittance", IN_FN(CX_FN_PAYMENT) | IN_ITEM},
    [CX_T_COUNT] = {"count", IN_FN(CX_FN_PAYROLL) | IN_FIN},
    [CX_T_TOTAL] = {"total", IN_FN(CX_FN_PAYROLL) | IN_FIN},
    [CX_T_ITEM_NO] = {"item_no", IN_ITEM | IN_INVOICE},
    [CX_T_ACCOUNT] = {"account", IN_FN(CX_FN_BALANCE) | IN_LIST},
    [CX_T_FROM] = {"from", IN_LIST},
    [CX_T_TO] = {"to", IN_LIST},
    [CX_T_PAGE] = {"page", IN_LIST | IN_FAM_PAGE},
    [CX_T_RECEIPT_ID] = {"receipt_id", IN_FN(CX_FN_RECEIPT_DOWNLOAD)},
    [CX_T_ORIG_SERIAL] = {"orig_serial", IN_FN(CX_FN_SCF_CANCEL)},
    [CX_T_OUR_ACCOUNT] = {"our_account", IN_BOP | IN_FIN | IN_VOP},
    [CX_T_BILL_OP] = {"bill_op", IN_BOP},
    [CX_T_DRAFT_NO] = {"draft_no", IN_BOP | IN_FN(CX_FN_BILL_HISTORY)},
    [CX_T_SUB_FROM] = {"sub_from", IN_BOP},
    [CX_T_SUB_TO] = {"sub_to", IN_BOP},
    [CX_T_DRAFT_KIND] = {"draft_kind", IN_BOP},
    [CX_T_ISSUE_DATE] = {"issue_date", IN_BOP},
    [CX_T_MATURITY_DATE] = {"maturity_date", IN_BOP | IN_VOP},
    [CX_T_TRANSFERABLE] = {"transferable", IN_BOP},
    [CX_T_DIVISIBLE] = {"divisible", IN_BOP},
    [CX_T_CPTY_NAME] = {"cpty_name", IN_BOP | IN_VOP},
    [CX_T_CPTY_ACCOUNT] = {"cpty_account", IN_BOP | IN_VOP},
    [CX_T_CPTY_BANK] = {"cpty_bank", IN_BOP | IN_VOP},
    [CX_T_ACCEPTOR_NAME] = {"acceptor_name", IN_BOP},
    [CX_T_ACCEPTOR_ACCOUNT] = {"acceptor_account", IN_BOP},
    [CX_T_ACCEPTOR_BANK] = {"acceptor_bank", IN_BOP},
    [CX_T_PAYEE_NAME] = {"payee_name", IN_BOP},
    [CX_T_PAYEE_ACCOUNT] = {"payee_account", IN_BOP},
    [CX_T_PAYEE_BANK] = {"payee_bank", IN_BOP},
    [CX_T_RATE] = {"rate", IN_BOP},
    [CX_T_OP_DATE] = {"op_date", IN_BOP},
    [CX_T_POOL_ID] = {"pool_id", IN_BOP},
    [CX_T_NOTICE_ID] = {"notice_id", IN_BOP},
    [CX_T_OVERDUE] = {"overdue", IN_BOP},
    [CX_T_REASON] = {"reason", IN_BOP | IN_VOP | IN_FN(CX_FN_SCF_CANCEL)},
    [CX_T_MEMO] = {"memo", IN_BOP | IN_VOP | IN_FIN},
    [CX_T_VOUCHER_OP] = {"voucher_op", IN_VOP},
    [CX_T_VOUCHER_ID] = {"voucher_id", IN_VOP},
    [CX_T_FINANCING_KIND] = {"financing_kind", IN_FIN},
    [CX_T_VALUE_DATE] = {"value_date", IN_FIN},
    [CX_T_PRODUCT] = {"product", IN_FIN},
    [CX_T_AGREEMENT_REF] = {"agreement_ref", IN_FIN},
    [CX_T_CONTRACT_REF] = {"contract_ref", IN_FIN},
    [CX_T_INVOICE_NO] = {"invoice_no", IN_INVOICE},
    [CX_T_TAX_CODE] = {"tax_code", IN_INVOICE},
    [CX_T_INVOICE_AMOUNT] = {"invoice_amount", IN_INVOICE},
    [CX_T_INVOICE_ISSUE_DATE] = {"invoice_issue_date", IN_INVOICE},
    [CX_T_INVOICE_DUE_DATE] = {"invoice_due_date", IN_INVOICE},
    [CX_T_BUYER_NAME] = {"buyer_name", IN_INVOICE},
    [CX_T_SELLER_NAME] = {"seller_name", IN_INVOICE},
    [CX_T_SELLER_ACCOUNT] = {"seller_account", IN_INVOICE},
    [CX_T_DRAFT_STATUS] = {"draft_status", IN_FN(CX_FN_BILL_DRAFTS)},
    [CX_T_MATURITY_FROM] = {"maturity_from", IN_FN(CX_FN_BILL_DRAFTS)},
    [CX_T_MATURITY_TO] = {"maturity_to", IN_FN(CX_FN_BILL_DRAFTS)},
    [CX_T_HOLDER] = {"holder", IN_FN(CX_FN_VOUCHER_LIST)},
};

const char *cx_tok_name(enum cx_tok t)
{
    return (unsigned)t < CX_T_N ? toks[t].name : "?";
}

static const char *const key_names[CX_K_N] = {
    [CX_K_SERIAL] = "serial",
    [CX_K_STATUS] = "status",
    [CX_K_BANK_REF] = "bank_ref",
    [CX_K_REASON] = "reason",
    [CX_K_AMOUNT] = "amount",
    [CX_K_ITEMS] = "items",
    [CX_K_ITEM_NO] = "item_no",
    [CX_K_CREDITOR_ACCOUNT] = "creditor_account",
    [CX_K_CREDITOR_NAME] = "creditor_name",
    [CX_K_ACCOUNT] = "account",
    [CX_K_NAME] = "name",
    [CX_K_CURRENCY] = "currency",
    [CX_K_BALANCE] = "balance",
    [CX_K_AVAILABLE] = "available",
    [CX_K_NEXT] = "next",
    [CX_K_MORE] = "more",
    [CX_K_ENTRY_ID] = "entry_id",
    [CX_K_BOOKING_DATE] = "booking_date",
    [CX_K_VALUE_DATE] = "value_date",
    [CX_K_CREDIT_DEBIT] = "credit_debit",
    [CX_K_DEBIT_VALUE] = "debit_value",
    [CX_K_CREDIT_VALUE] = "credit_value",
    [CX_K_COUNTERPARTY_NAME] = "counterparty_name",
    [CX_K_COUNTERPARTY_ACCOUNT] = "counterparty_account",
    [CX_K_COUNTERPARTY_BANK] = "counterparty_bank",
    [CX_K_REMITTANCE] = "remittance",
    [CX_K_RECEIPT_ID] = "receipt_id",
    [CX_K_CONTENT] = "content",
    [CX_K_REASON_CODE] = "reason_code",
    [CX_K_DRAFT_NO] = "draft_no",
    [CX_K_DRAFT_KIND] = "draft_kind",
    [CX_K_FACE_AMOUNT] = "face_amount",
    [CX_K_ISSUE_DATE] = "issue_date",
    [CX_K_MATURITY_DATE] = "maturity_date",
    [CX_K_DRAWER_NAME] = "drawer_name",
    [CX_K_DRAWER_ACCOUNT] = "drawer_account",
    [CX_K_DRAWER_BANK] = "drawer_bank",
    [CX_K_ACCEPTOR_NAME] = "acceptor_name",
    [CX_K_ACCEPTOR_ACCOUNT] = "acceptor_account",
    [CX_K_ACCEPTOR_BANK] = "acceptor_bank",
    [CX_K_PAYEE_NAME] = "payee_name",
    [CX_K_PAYEE_ACCOUNT] = "payee_account",
    [CX_K_PAYEE_BANK] = "payee_bank",
    [CX_K_HOLDER_NAME] = "holder_name",
    [CX_K_HOLDER_ACCOUNT] = "holder_account",
    [CX_K_HOLDER_BANK] = "holder_bank",
    [CX_K_DRAFT_STATUS] = "draft_status",
    [CX_K_TRANSFERABLE] = "transferable",
    [CX_K_DIVISIBLE] = "divisible",
    [CX_K_SUB_FROM] = "sub_from",
    [CX_K_SUB_TO] = "sub_to",
    [CX_K_NOTICE_ID] = "notice_id",
    [CX_K_NOTICE_KIND] = "notice_kind",
    [CX_K_FROM_NAME] = "from_name",
    [CX_K_FROM_ACCOUNT] = "from_account",
    [CX_K_FROM_BANK] = "from_bank",
    [CX_K_RECEIVED_DATE] = "received_date",
    [CX_K_CLAIM_AMOUNT] = "claim_amount",
    [CX_K_EVENT_DATE] = "event_date",
    [CX_K_EVENT_OP] = "event_op",
    [CX_K_EVENT] = "event",
    [CX_K_TO_NAME] = "to_name",
    [CX_K_POOL_ID] = "pool_id",
    [CX_K_AS_OF] = "as_of",
    [CX_K_PLEDGED_COUNT] = "pledged_count",
    [CX_K_PLEDGED_TOTAL] = "pledged_total",
    [CX_K_DEPOSIT] = "deposit",
    [CX_K_QUOTA_TOTAL] = "quota_total",
    [CX_K_QUOTA_USED] = "quota_used",
    [CX_K_QUOTA_AVAILABLE] = "quota_available",
    [CX_K_APPROVED_AMOUNT] = "approved_amount",
    [CX_K_RATE] = "rate",
    [CX_K_INTEREST] = "interest",
    [CX_K_LOAN_REF] = "loan_ref",
    [CX_K_FINANCED_AMOUNT] = "financed_amount",
    [CX_K_FINANCED_DATE] = "financed_date",
    [CX_K_REPAID_PRINCIPAL] = "repaid_principal",
    [CX_K_REPAID_INTEREST] = "repaid_interest",
    [CX_K_REPAID_DATE] = "repaid_date",
    [CX_K_INVOICE_NO] = "invoice_no",
    [CX_K_RESULT] = "result",
    [CX_K_VOUCHER_ID] = "voucher_id",
    [CX_K_ROOT_ID] = "root_id",
    [CX_K_PARENT_ID] = "parent_id",
    [CX_K_LEVEL] = "level",
    [CX_K_ISSUER_NAME] = "issuer_name",
    [CX_K_ISSUER_ACCOUNT] = "issuer_account",
    [CX_K_TRANSFEROR_NAME] = "transferor_name",
    [CX_K_REMAINING] = "remaining",
    [CX_K_VOUCHER_STATUS] = "voucher_status",
    [CX_K_SETTLED_DATE] = "settled_date",
};

const char *cx_key_name(enum cx_key k)
{
    return (unsigned)k < CX_K_N ? key_names[k] : "?";
}

/* ---- what each function needs (PROFILE.md, "functions") ----------------- */

#define TB(t) (CX_BIT(CX_T_##t))
#define KB(k) (CX_BIT(CX_K_##k))
/* result keys that are values of credit_debit, not paths */
#define VALUE_KEYS (KB(DEBIT_VALUE) | KB(CREDIT_VALUE))

/* The families' rows (PROFILE.md "Results"). */
#define DRAFT_NEED                                                             \
    (KB(DRAFT_NO) | KB(DRAFT_KIND) | KB(AMOUNT) | KB(ISSUE_DATE) |             \
     KB(MATURITY_DATE) | KB(DRAWER_NAME) | KB(DRAWER_BANK) |                   \
     KB(ACCEPTOR_NAME) | KB(ACCEPTOR_BANK) | KB(PAYEE_NAME) | KB(PAYEE_BANK) | \
     KB(DRAFT_STATUS) | KB(TRANSFERABLE) | KB(DIVISIBLE) | KB(SUB_FROM) |      \
     KB(SUB_TO))
#define DRAFT_OPT                                                              \
    (KB(DRAWER_ACCOUNT) | KB(ACCEPTOR_ACCOUNT) | KB(PAYEE_ACCOUNT) |           \
     KB(HOLDER_NAME) | KB(HOLDER_ACCOUNT) | KB(HOLDER_BANK) | KB(FACE_AMOUNT))
#define VOUCHER_NEED                                                           \
    (KB(VOUCHER_ID) | KB(ROOT_ID) | KB(LEVEL) | KB(ISSUER_NAME) |              \
     KB(HOLDER_NAME) | KB(AMOUNT) | KB(REMAINING) | KB(ISSUE_DATE) |           \
     KB(MATURITY_DATE) | KB(VOUCHER_STATUS))
#define VOUCHER_OPT                                                            \
    (KB(PARENT_ID) | KB(ISSUER_ACCOUNT) | KB(HOLDER_ACCOUNT) |                 \
     KB(HOLDER_BANK) | KB(TRANSFEROR_NAME) | KB(FINANCED_AMOUNT) |             \
     KB(LOAN_REF) | KB(SETTLED_DATE))
#define OUTCOME_OPT (KB(REASON_CODE) | KB(REASON) | KB(BANK_REF))
#define SCF_TERMS                                                              \
    (KB(APPROVED_AMOUNT) | KB(RATE) | KB(VALUE_DATE) | KB(MATURITY_DATE) |     \
     KB(INTEREST) | KB(LOAN_REF) | KB(FINANCED_AMOUNT) | KB(FINANCED_DATE) |   \
     KB(REPAID_PRINCIPAL) | KB(REPAID_INTEREST) | KB(REPAID_DATE))

static const struct fn_rule {
    const char *what;           /* for messages: "a payment needs ..." */
    cx_set need, one_of;        /* request tokens: all of need, one of one_of */
    cx_set res_need, res_opt;   /* result keys */
    cx_set item_need, item_opt; /* result.item keys; 0: no item group */
    int items_opt;              /* the items (and item) may be left out */
} rules[CX_FN_COUNT] = {
    [CX_FN_PAYMENT] = {"a payment",
                       TB(SERIAL) | TB(DEBTOR_ACCOUNT) | TB(CREDITOR_ACCOUNT) |
                           TB(CREDITOR_NAME) | TB(AMOUNT),
                       TB(CURRENCY) | TB(CURRENCY_CODE),
                       KB(SERIAL) | KB(STATUS) | KB(BANK_REF), KB(REASON), 0, 0,
                       0},
    [CX_FN_PAYMENT_STATUS] = {"a payment status inquiry", TB(SERIAL), 0,
                              KB(SERIAL) | KB(STATUS),
                              KB(BANK_REF) | KB(REASON) | KB(AMOUNT), 0, 0, 0},
    [CX_FN_PAYROLL] = {"a payroll batch", TB(SERIAL) | TB(DEBTOR_ACCOUNT),
                       TB(CURRENCY) | TB(CURRENCY_CODE),
                       KB(SERIAL) | KB(STATUS), KB(BANK_REF) | KB(REASON), 0, 0,
                       0},
    [CX_FN_PAYROLL_RESULT] = {"a payroll result inquiry", TB(SERIAL), 0,
                              KB(SERIAL) | KB(STATUS) | KB(ITEMS), KB(BANK_REF),
                              KB(ITEM_NO) | KB(STATUS),
                              KB(CREDITOR_ACCOUNT) | KB(CREDITOR_NAME) |
                                  KB(AMOUNT) | KB(REASON),
                              0},
    [CX_FN_BALANCE] = {"a balance inquiry", TB(ACCOUNT), 0,
                       KB(ACCOUNT) | KB(BALANCE),
                       KB(NAME) | KB(CURRENCY) | KB(AVAILABLE), 0, 0, 0},
    [CX_FN_TRANSACTIONS] =
        {"a transaction list", TB(ACCOUNT) | TB(FROM) | TB(TO) | TB(PAGE), 0,
         KB(ITEMS), 0,
         KB(ENTRY_ID) | KB(BOOKING_DATE) | KB(AMOUNT) | KB(CREDIT_DEBIT) |
             KB(DEBIT_VALUE) | KB(CREDIT_VALUE) | KB(COUNTERPARTY_NAME) |
             KB(COUNTERPARTY_ACCOUNT) | KB(REMITTANCE) | KB(SERIAL),
         KB(VALUE_DATE) | KB(CURRENCY) | KB(COUNTERPARTY_BANK) | KB(BANK_REF),
         0},
    [CX_FN_RECEIPTS] = {"a receipt list",
                        TB(ACCOUNT) | TB(FROM) | TB(TO) | TB(PAGE), 0,
                        KB(ITEMS), 0,
                        KB(RECEIPT_ID) | KB(ENTRY_ID) | KB(BOOKING_DATE) |
                            KB(AMOUNT),
                        KB(SERIAL) | KB(CREDIT_DEBIT) | KB(DEBIT_VALUE) |
                            KB(CREDIT_VALUE) | KB(COUNTERPARTY_NAME),
                        0},
    [CX_FN_RECEIPT_DOWNLOAD] = {"a receipt download", TB(RECEIPT_ID), 0,
                                KB(CONTENT), KB(RECEIPT_ID) | KB(NAME), 0, 0,
                                0},
    [CX_FN_BILL_OPERATION] =
        {"a bill operation (every operation's data must be expressible)",
         TB(SERIAL) | TB(BILL_OP) | TB(DRAFT_NO) | TB(SUB_FROM) | TB(SUB_TO) |
             TB(AMOUNT) | TB(OUR_ACCOUNT) | TB(CPTY_NAME) | TB(CPTY_ACCOUNT) |
             TB(CPTY_BANK) | TB(DRAFT_KIND) | TB(ISSUE_DATE) |
             TB(MATURITY_DATE) | TB(ACCEPTOR_NAME) | TB(ACCEPTOR_ACCOUNT) |
             TB(ACCEPTOR_BANK) | TB(PAYEE_NAME) | TB(PAYEE_ACCOUNT) |
             TB(PAYEE_BANK) | TB(RATE) | TB(OP_DATE) | TB(POOL_ID) |
             TB(NOTICE_ID) | TB(REASON),
         0, KB(SERIAL) | KB(STATUS) | KB(ITEMS), OUTCOME_OPT, DRAFT_NEED,
         DRAFT_OPT, 0},
    [CX_FN_BILL_QUERY] = {"a bill request inquiry", TB(SERIAL), 0,
                          KB(SERIAL) | KB(STATUS) | KB(ITEMS), OUTCOME_OPT,
                          DRAFT_NEED, DRAFT_OPT, 0},
    [CX_FN_BILL_DRAFTS] = {"a draft list",
                           TB(DRAFT_STATUS) | TB(MATURITY_FROM) |
                               TB(MATURITY_TO) | TB(PAGE),
                           0, KB(ITEMS), 0, DRAFT_NEED, DRAFT_OPT, 0},
    [CX_FN_BILL_NOTICES] = {"a notice list", TB(PAGE), 0, KB(ITEMS), 0,
                            DRAFT_NEED | KB(NOTICE_ID) | KB(NOTICE_KIND) |
                                KB(FROM_NAME) | KB(FROM_BANK) |
                                KB(RECEIVED_DATE),
                            DRAFT_OPT | KB(FROM_ACCOUNT) | KB(CLAIM_AMOUNT) |
                                KB(REASON),
                            0},
    [CX_FN_BILL_POOL] = {"a pool inquiry", 0, 0,
                         KB(POOL_ID) | KB(AS_OF) | KB(PLEDGED_COUNT) |
                             KB(PLEDGED_TOTAL) | KB(DEPOSIT) | KB(QUOTA_TOTAL) |
                             KB(QUOTA_USED) | KB(QUOTA_AVAILABLE),
                         0, 0, 0, 0},
    [CX_FN_BILL_HISTORY] = {"a draft history", TB(DRAFT_NO), 0, KB(ITEMS), 0,
                            KB(EVENT_DATE) | KB(EVENT_OP) | KB(EVENT) |
                                KB(DRAFT_STATUS) | KB(SUB_FROM) | KB(SUB_TO) |
                                KB(AMOUNT),
                            KB(FROM_NAME) | KB(TO_NAME), 0},
    [CX_FN_SCF_FINANCING] = {"a financing request",
                             TB(SERIAL) | TB(FINANCING_KIND) | TB(OUR_ACCOUNT) |
                                 TB(AMOUNT) | TB(COUNT),
                             TB(CURRENCY) | TB(CURRENCY_CODE),
                             KB(SERIAL) | KB(STATUS), OUTCOME_OPT, 0, 0, 0},
    [CX_FN_SCF_QUERY] = {"a financing inquiry", TB(SERIAL), 0,
                         KB(SERIAL) | KB(STATUS), OUTCOME_OPT | SCF_TERMS,
                         KB(INVOICE_NO) | KB(RESULT),
                         KB(FINANCED_AMOUNT) | KB(REASON), 1},
    [CX_FN_SCF_CANCEL] = {"a financing cancellation",
                          TB(SERIAL) | TB(ORIG_SERIAL) | TB(REASON), 0,
                          KB(SERIAL) | KB(STATUS), OUTCOME_OPT, 0, 0, 0},
    [CX_FN_VOUCHER_OPERATION] = {"a voucher operation",
                                 TB(SERIAL) | TB(VOUCHER_OP) | TB(VOUCHER_ID) |
                                     TB(AMOUNT) | TB(OUR_ACCOUNT) |
                                     TB(CPTY_NAME) | TB(CPTY_ACCOUNT) |
                                     TB(CPTY_BANK) | TB(MATURITY_DATE) |
                                     TB(REASON),
                                 0, KB(SERIAL) | KB(STATUS) | KB(ITEMS),
                                 OUTCOME_OPT, VOUCHER_NEED, VOUCHER_OPT, 0},
    [CX_FN_VOUCHER_QUERY] = {"a voucher request inquiry", TB(SERIAL), 0,
                             KB(SERIAL) | KB(STATUS) | KB(ITEMS), OUTCOME_OPT,
                             VOUCHER_NEED, VOUCHER_OPT, 0},
    [CX_FN_VOUCHER_LIST] = {"a voucher list", TB(HOLDER) | TB(PAGE), 0,
                            KB(ITEMS), 0, VOUCHER_NEED, VOUCHER_OPT, 0},
};

/* The item tokens of a payroll item and of a financing's invoice
 * (PROFILE.md, "Every function must use"). */
#define ITEM_NEED                                                              \
    (TB(ITEM_NO) | TB(CREDITOR_ACCOUNT) | TB(CREDITOR_NAME) | TB(AMOUNT))
#define INVOICE_NEED                                                           \
    (TB(ITEM_NO) | TB(INVOICE_NO) | TB(INVOICE_AMOUNT) |                       \
     TB(INVOICE_ISSUE_DATE) | TB(INVOICE_DUE_DATE) | TB(BUYER_NAME))

/* Paged lists: result.next or result.more by paging.style. */
static int fn_paged(enum cx_fn f)
{
    return f == CX_FN_TRANSACTIONS || f == CX_FN_RECEIPTS ||
           f == CX_FN_BILL_DRAFTS || f == CX_FN_BILL_NOTICES ||
           f == CX_FN_VOUCHER_LIST;
}

cx_set cx_keys_required(const struct cx_profile *p, enum cx_fn fn, int item)
{
    if ((unsigned)fn >= CX_FN_COUNT)
        return 0;
    if (item)
        return rules[fn].item_need & ~VALUE_KEYS;
    cx_set need = rules[fn].res_need;
    if (rules[fn].items_opt)
        need &= ~KB(ITEMS);
    /* a continuation token may be absent on the last page */
    if (fn_paged(fn) && p->paging == CX_PAGING_PAGE)
        need |= KB(MORE);
    return need & ~KB(ITEMS);
}

static const char *const iso_status[] = {"PDNG", "ACCP", "ACSC",
                                         "ACTC", "RJCT", NULL};
static const char *const encodings[] = {"GBK", "GB18030", "GB2312", "UTF-8",
                                        NULL};

/* ---- the loading pass --------------------------------------------------- */

struct ld {
    struct aset *a;
    struct cx_profile *p;
    int framing_ok, encoding_ok, paging_ok;
    int header_clean; /* envelope.header read, every entry kept */
    int header_ok;    /* and it has {function} and {login} right */
    /* envelope.header: each kept entry's path setting and token set */
    const config_setting_t **hdr_s;
    cx_set *hdr_tok;
    size_t function_hdr; /* the {function} entry; SIZE_MAX: none */
    /* settings the consistency checks report at */
    const config_setting_t *body_s, *rbody_s, *code_s, *msg_s, **echo_s;
    const config_setting_t *sig_s, *rsig_s;
};

static char *sdup(struct ld *L, const char *s)
{
    return aset_dup(L->a, s);
}

static void *zalloc(struct ld *L, size_t n, size_t size)
{
    void *v = calloc(n ? n : 1, size);
    if (!v)
        L->a->oom = 1;
    return v;
}

static const char *type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_LIST: return "a list";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "true or false";
    default: return "a number";
    }
}

/* "a, b<last>c" of the names in v (NULL-terminated) into buf. */
static const char *join(char *buf, size_t n, const char *const *v,
                        const char *last)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; v[i] && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s",
                                 i == 0     ? ""
                                 : v[i + 1] ? ", "
                                            : last,
                                 v[i]);
    return buf;
}

/* The token names of a bit set, "{a}<sep>{b}", into buf. */
static const char *tok_list(char *buf, size_t n, cx_set set, const char *sep)
{
    size_t used = 0;
    int first = 1;
    buf[0] = '\0';
    for (int t = 0; t < CX_T_N && used < n; t++) {
        if (!(set & (CX_BIT(t))))
            continue;
        used += (size_t)snprintf(buf + used, n - used, "%s{%s}",
                                 first ? "" : sep, toks[t].name);
        first = 0;
    }
    return buf;
}

static const char *key_list(char *buf, size_t n, cx_set set)
{
    size_t used = 0;
    int first = 1;
    buf[0] = '\0';
    for (int k = 0; k < CX_K_N && used < n; k++) {
        if (!(set & (CX_BIT(k))))
            continue;
        used += (size_t)snprintf(buf + used, n - used, "%s%s",
                                 first ? "" : ", ", key_names[k]);
        first = 0;
    }
    return buf;
}

/* Every member of g named in known; the others are typos or settings of
 * another profile version, and never pass silently. */
static void check_known(struct ld *L, const config_setting_t *g,
                        const char *where, const char *const *known)
{
    char list[512];
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *nm = config_setting_name(m);
        int ok = 0;
        for (const char *const *k = known; nm && *k; k++)
            if (strcmp(nm, *k) == 0)
                ok = 1;
        if (!ok)
            aset_problem(L->a, m, "%s%s: unknown setting (%s has %s)", where,
                         nm ? nm : "?", *where ? "this group" : "a profile",
                         join(list, sizeof(list), known, " and "));
    }
}

enum { F_OPT = 1, F_EMPTY = 2, F_CTL = 4 };

/* A string member of g, or NULL (absent, or bad and reported). */
static const char *get_str(struct ld *L, const config_setting_t *g,
                           const char *where, const char *name, int flags,
                           const char *what, const config_setting_t **sp)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    if (sp)
        *sp = m;
    if (!m) {
        if (!(flags & F_OPT))
            aset_problem(L->a, g, "%s%s is missing (%s)", where, name, what);
        return NULL;
    }
    if (config_setting_type(m) != CONFIG_TYPE_STRING) {
        aset_problem(L->a, m, "%s%s must be a string (%s), not %s", where, name,
                     what, type_name(m));
        return NULL;
    }
    const char *s = config_setting_get_string(m);
    if (!*s && !(flags & F_EMPTY)) {
        aset_problem(L->a, m, "%s%s must not be empty (%s)", where, name, what);
        return NULL;
    }
    if (strlen(s) > VALUE_MAX) {
        aset_problem(L->a, m, "%s%s is longer than %d bytes", where, name,
                     VALUE_MAX);
        return NULL;
    }
    if (!(flags & F_CTL) && aset_has_ctl(s)) {
        aset_problem(L->a, m,
                     "%s%s contains a control character (a line feed, "
                     "tab, ...)",
                     where, name);
        return NULL;
    }
    return s;
}

/* A required whole number member of g in [min, max]; 0 when it is. */
static int get_int(struct ld *L, const config_setting_t *g, const char *where,
                   const char *name, long long min, long long max,
                   const char *what, long long *out)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    if (!m) {
        aset_problem(L->a, g, "%s%s is missing (%s)", where, name, what);
        return -1;
    }
    int t = config_setting_type(m);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        aset_problem(L->a, m, "%s%s must be a whole number (%s), not %s", where,
                     name, what, type_name(m));
        return -1;
    }
    long long v = config_setting_get_int64(m);
    if (v < min || v > max) {
        aset_problem(L->a, m, "%s%s must be %lld..%lld (%s); it is %lld", where,
                     name, min, max, what, v);
        return -1;
    }
    *out = v;
    return 0;
}

/* A group member of g, or NULL (absent, or not a group: reported). */
static const config_setting_t *get_group(struct ld *L,
                                         const config_setting_t *g,
                                         const char *where, const char *name,
                                         int flags, const char *what)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    if (!m) {
        if (!(flags & F_OPT))
            aset_problem(L->a, g, "%s%s is missing (%s)", where, name, what);
        return NULL;
    }
    if (!config_setting_is_group(m)) {
        aset_problem(L->a, m, "%s%s must be a group { ... } (%s), not %s",
                     where, name, what, type_name(m));
        return NULL;
    }
    return m;
}

/* A member of g that must be one of choices: its index, or -1. */
static int get_choice(struct ld *L, const config_setting_t *g,
                      const char *where, const char *name,
                      const char *const *choices)
{
    char list[256];
    join(list, sizeof(list), choices, " or ");
    const config_setting_t *m;
    const char *v = get_str(L, g, where, name, 0, list, &m);
    if (!v)
        return -1;
    for (int i = 0; choices[i]; i++)
        if (strcmp(v, choices[i]) == 0)
            return i;
    if (!choices[1])
        aset_problem(L->a, m, "%s%s must be \"%s\"; it is \"%.100s\"", where,
                     name, choices[0], v);
    else
        aset_problem(L->a, m, "%s%s must be one of %s; it is \"%.100s\"", where,
                     name, list, v);
    return -1;
}

/* ---- paths and templates ------------------------------------------------ */

static int name_char(char c, int first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
        return 1;
    return !first && ((c >= '0' && c <= '9') || c == '.' || c == '-');
}

/* NULL when s is a path (PROFILE.md, "Paths and templates"), else why
 * not, in buf. */
static const char *path_problem(const char *s, int attr_ok, char *buf, size_t n)
{
    if (!*s)
        return "an empty path (element names separated by '/')";
    if (strlen(s) > PATH_MAX_LEN) {
        snprintf(buf, n, "a path of more than %d bytes", PATH_MAX_LEN);
        return buf;
    }
    const char *p = s;
    int parts = 0;
    for (;;) {
        size_t len = strcspn(p, "/");
        int attr = p[0] == '@';
        const char *nm = attr ? p + 1 : p;
        size_t nl = attr ? len - 1 : len;
        int last = p[len] == '\0';
        if (nl == 0) {
            snprintf(buf, n,
                     "\"%.100s\" has an empty element name (a '/' at the "
                     "start or end, or doubled)",
                     s);
            return buf;
        }
        for (size_t i = 0; i < nl; i++)
            if (!name_char(nm[i], i == 0)) {
                snprintf(buf, n,
                         "\"%.100s\": \"%.*s\" is not an element name "
                         "([A-Za-z_][A-Za-z0-9_.-]*, no namespace prefix)",
                         s, (int)(len > 60 ? 60 : len), p);
                return buf;
            }
        if (attr && (!attr_ok || !last || parts == 0)) {
            snprintf(buf, n,
                     !attr_ok ? "\"%.100s\" must name an element, not an "
                                "attribute"
                              : "\"%.100s\": an attribute (@name) can only "
                                "be the last part, after its element",
                     s);
            return buf;
        }
        parts++;
        if (last)
            return NULL;
        p += len + 1;
    }
}

/* A path member of g: a copy, or NULL (reported; or "" allowed). */
static char *get_path(struct ld *L, const config_setting_t *g,
                      const char *where, const char *name, int flags,
                      int attr_ok, const char *what,
                      const config_setting_t **sp)
{
    const config_setting_t *m;
    const char *v = get_str(L, g, where, name, flags, what, &m);
    if (sp)
        *sp = m;
    if (!v)
        return NULL;
    char buf[300];
    const char *why;
    if (*v && (why = path_problem(v, attr_ok, buf, sizeof(buf)))) {
        aset_problem(L->a, m, "%s%s: %s", where, name, why);
        return NULL;
    }
    return sdup(L, v);
}

static int tok_lookup(const char *name, size_t len)
{
    for (int t = 0; t < CX_T_N; t++)
        if (strlen(toks[t].name) == len && memcmp(toks[t].name, name, len) == 0)
            return t;
    return -1;
}

/* "envelope.header, payment, payroll" of a where-set into buf. */
static const char *in_list(char *buf, size_t n, unsigned in)
{
    size_t used = 0;
    buf[0] = '\0';
    if (in & IN_HEADER)
        used += (size_t)snprintf(buf + used, n - used, "envelope.header");
    for (int f = 0; f < CX_FN_COUNT && used < n; f++)
        if (in & IN_FN(f))
            used += (size_t)snprintf(buf + used, n - used, "%sfunctions.%s",
                                     used ? ", " : "", fn_names[f]);
    if ((in & IN_ITEM) && used < n)
        used += (size_t)snprintf(buf + used, n - used,
                                 "%sfunctions.payroll.item", used ? ", " : "");
    if ((in & IN_INVOICE) && used < n)
        snprintf(buf + used, n - used, "%sfunctions.scf_financing.item",
                 used ? ", " : "");
    return buf;
}

/* Check template t (of setting s, in list label) used where in allows;
 * its token set into *set.  0, or -1 after reporting every bad token. */
static int check_tmpl(struct ld *L, const config_setting_t *s,
                      const char *label, const char *t, unsigned in,
                      cx_set *set)
{
    int bad = 0;
    *set = 0;
    if (strlen(t) > VALUE_MAX) {
        aset_problem(L->a, s, "%s: a template of more than %d bytes", label,
                     VALUE_MAX);
        return -1;
    }
    if (aset_has_ctl(t)) {
        aset_problem(L->a, s,
                     "%s: \"%.100s\" contains a control character (a line "
                     "feed, tab, ...)",
                     label, t);
        return -1;
    }
    for (const char *p = t; *p;) {
        if (*p == '}') {
            aset_problem(L->a, s,
                         "%s: \"%.100s\" has a '}' that closes no token "
                         "(tokens are written {name})",
                         label, t);
            return -1;
        }
        if (*p != '{') {
            p++;
            continue;
        }
        const char *e = strchr(p + 1, '}');
        const char *o = strchr(p + 1, '{');
        if (!e || (o && o < e)) {
            aset_problem(L->a, s,
                         "%s: \"%.100s\" has a '{' that starts no token (a "
                         "'{' always starts a {token}; there is no escape)",
                         label, t);
            return -1;
        }
        size_t len = (size_t)(e - p - 1);
        int k = tok_lookup(p + 1, len);
        char list[400];
        if (k < 0) {
            aset_problem(
                L->a, s,
                "%s: unknown token {%.*s}; the tokens are %s "
                "(PROFILE.md, \"Tokens\")",
                label, (int)(len > 40 ? 40 : len), p + 1,
                tok_list(list, sizeof(list), (CX_BIT(CX_T_N)) - 1, " "));
            bad = 1;
        } else if (!(toks[k].in & in)) {
            aset_problem(L->a, s,
                         "%s: token {%s} is not allowed here; it may be used "
                         "only in %s",
                         label, toks[k].name,
                         in_list(list, sizeof(list), toks[k].in));
            bad = 1;
        } else {
            *set |= CX_BIT(k);
        }
        p = e + 1;
    }
    return bad ? -1 : 0;
}

/* A ( "a", "b" ) entry: its two string settings, or 0. */
static int get_pair(const config_setting_t *e, const config_setting_t **x,
                    const config_setting_t **y)
{
    if (!(config_setting_is_list(e) || config_setting_is_array(e)) ||
        config_setting_length(e) != 2)
        return 0;
    *x = config_setting_get_elem(e, 0);
    *y = config_setting_get_elem(e, 1);
    return config_setting_type(*x) == CONFIG_TYPE_STRING &&
           config_setting_type(*y) == CONFIG_TYPE_STRING;
}

/* A list of ( path, template ) as read: the kept entries (moved to the
 * profile by the caller) with each one's path setting and token set. */
struct plist {
    struct cx_entry *v;
    size_t n;
    const config_setting_t **s;
    cx_set *tok;
    int bad; /* a problem was reported: dependent checks are skipped */
};

static void entries_free(struct cx_entry *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].path);
        free(v[i].tmpl);
    }
    free(v);
}

static void plist_release(struct plist *pl)
{
    entries_free(pl->v, pl->n);
    free(pl->s);
    free(pl->tok);
    memset(pl, 0, sizeof(*pl));
}

/* Hand the entries over to the profile; the settings stay with pl. */
static void plist_take(struct plist *pl, struct cx_entry **v, size_t *n)
{
    *v = pl->v;
    *n = pl->n;
    pl->v = NULL;
    pl->n = 0;
}

static void read_pairs(struct ld *L, const config_setting_t *l,
                       const char *label, unsigned in, struct plist *pl)
{
    memset(pl, 0, sizeof(*pl));
    if (!config_setting_is_list(l) &&
        !(config_setting_is_array(l) && config_setting_length(l) == 0)) {
        aset_problem(L->a, l,
                     "%s must be a list of ( \"path\", \"template\" ) "
                     "entries, e.g. ( ( \"A/B\", \"{login}\" ) ), not %s",
                     label, type_name(l));
        pl->bad = 1;
        return;
    }
    int n = config_setting_length(l);
    if (n > LIST_MAX) {
        aset_problem(L->a, l, "%s has more than %d entries", label, LIST_MAX);
        pl->bad = 1;
        return;
    }
    pl->v = zalloc(L, (size_t)n, sizeof(*pl->v));
    pl->s = zalloc(L, (size_t)n, sizeof(*pl->s));
    pl->tok = zalloc(L, (size_t)n, sizeof(*pl->tok));
    if (!pl->v || !pl->s || !pl->tok) {
        pl->bad = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const config_setting_t *ps, *ts;
        if (!get_pair(e, &ps, &ts)) {
            aset_problem(L->a, e,
                         "%s: each entry must be ( \"path\", \"template\" ), "
                         "two strings",
                         label);
            pl->bad = 1;
            continue;
        }
        const char *path = config_setting_get_string(ps);
        const char *t = config_setting_get_string(ts);
        char buf[300];
        const char *why = path_problem(path, 1, buf, sizeof(buf));
        if (why) {
            aset_problem(L->a, ps, "%s: %s", label, why);
            pl->bad = 1;
            continue;
        }
        cx_set set;
        if (check_tmpl(L, ts, label, t, in, &set) < 0) {
            pl->bad = 1;
            continue;
        }
        size_t k = 0;
        while (k < pl->n && strcmp(pl->v[k].path, path) != 0)
            k++;
        if (k < pl->n) {
            aset_problem(L->a, ps,
                         "%s: \"%.100s\" appears twice; a path appears at "
                         "most once in a request",
                         label, path);
            pl->bad = 1;
            continue;
        }
        struct cx_entry *en = &pl->v[pl->n];
        en->path = sdup(L, path);
        en->tmpl = sdup(L, t);
        if (!en->path || !en->tmpl) {
            free(en->path);
            free(en->tmpl);
            en->path = en->tmpl = NULL;
            continue;
        }
        pl->s[pl->n] = ps;
        pl->tok[pl->n] = set;
        pl->n++;
    }
}

/* A list (or array) of strings: copies into *v, each one's setting into
 * *sv (caller frees both).  min: the fewest entries.  0 or -1. */
static int read_strings(struct ld *L, const config_setting_t *l,
                        const char *label, int min, const char *what, char ***v,
                        size_t *nv, const config_setting_t ***sv)
{
    *v = NULL;
    *nv = 0;
    *sv = NULL;
    if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
        aset_problem(L->a, l,
                     "%s must be a list ( \"...\", ... ) of %s, not %s", label,
                     what, type_name(l));
        return -1;
    }
    int n = config_setting_length(l);
    if (n < min || n > LIST_MAX) {
        aset_problem(L->a, l, "%s must list %d to %d %s", label, min, LIST_MAX,
                     what);
        return -1;
    }
    *v = zalloc(L, (size_t)n, sizeof(**v));
    *sv = zalloc(L, (size_t)n, sizeof(**sv));
    if (!*v || !*sv)
        return -1;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            aset_problem(L->a, e, "%s: each entry must be a string (%s)", label,
                         what);
            bad = 1;
            continue;
        }
        const char *s = config_setting_get_string(e);
        if (!*s || strlen(s) > VALUE_MAX || aset_has_ctl(s)) {
            aset_problem(L->a, e,
                         "%s: \"%.100s\" is empty, too long or has a control "
                         "character (%s)",
                         label, s, what);
            bad = 1;
            continue;
        }
        (*v)[*nv] = sdup(L, s);
        (*sv)[*nv] = e;
        if ((*v)[*nv])
            (*nv)++;
    }
    return bad ? -1 : 0;
}

static void strings_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- consistency of the element trees ----------------------------------- */

/* An element (or attribute) of a request or an answer, to find the paths
 * that cannot all be written: the same one twice, a value that also has
 * children, anything but the items inside the repeated item element. */
struct node {
    char *path;                /* full, below the root */
    const config_setting_t *s; /* where a problem is reported */
    char label[80];            /* that setting's name */
    unsigned common : 1;       /* the envelope's: shared by all functions */
    unsigned items : 1;        /* the repeated item element itself */
    unsigned item : 1;         /* below the repeated item element */
    unsigned done : 1;         /* a problem was reported here */
};

struct tree {
    struct node *v;
    size_t n, cap;
    const char *what; /* "a request of functions.payroll" */
};

enum { N_COMMON = 1, N_ITEMS = 2, N_ITEM = 4 };

static void tree_add(struct ld *L, struct tree *t, const char *base,
                     const char *mid, const char *path,
                     const config_setting_t *s, const char *label, int flags)
{
    if (!path || !s)
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 32;
        struct node *v = realloc(t->v, cap * sizeof(*v));
        if (!v) {
            L->a->oom = 1;
            return;
        }
        t->v = v;
        t->cap = cap;
    }
    struct node *nd = &t->v[t->n];
    memset(nd, 0, sizeof(*nd));
    const char *parts[3] = {base, mid, path};
    size_t len = 1;
    for (int i = 0; i < 3; i++)
        len += parts[i] ? strlen(parts[i]) + 1 : 0;
    if (!(nd->path = malloc(len))) {
        L->a->oom = 1;
        return;
    }
    nd->path[0] = '\0';
    for (int i = 0; i < 3; i++)
        if (parts[i] && *parts[i]) {
            if (nd->path[0])
                strcat(nd->path, "/");
            strcat(nd->path, parts[i]);
        }
    nd->s = s;
    snprintf(nd->label, sizeof(nd->label), "%s", label);
    nd->common = !!(flags & N_COMMON);
    nd->items = !!(flags & N_ITEMS);
    nd->item = !!(flags & N_ITEM);
    t->n++;
}

static void tree_release(struct tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].path);
    free(t->v);
    memset(t, 0, sizeof(*t));
}

/* 1 when path x is strictly below element path p. */
static int below(const char *x, const char *p)
{
    size_t n = strlen(p);
    return strncmp(x, p, n) == 0 && x[n] == '/';
}

/* 1 when x is an element strictly below p (an attribute of p is not: an
 * element may have a value and attributes). */
static int below_value(const char *x, const char *p)
{
    return below(x, p) && x[strlen(p) + 1] != '@';
}

/* With skip_common the pairs of two common nodes are not looked at: the
 * envelope's own shape is checked once, not once per function.  A problem
 * between a common node and a function's node is the function's. */
static void tree_check(struct ld *L, struct tree *t, int skip_common)
{
    struct node *c = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].items)
            c = &t->v[i];
    for (size_t i = 0; c && i < t->n && !c->done; i++) {
        struct node *x = &t->v[i];
        if (x == c || x->item)
            continue;
        if (strcmp(x->path, c->path) == 0 || below(x->path, c->path)) {
            struct node *at = x->common ? c : x;
            aset_problem(L->a, at->s,
                         "%s: %s (%s) is inside the items element %s (%s), "
                         "which repeats once per item; only the item "
                         "entries go there",
                         at->label, x->path, x->label, c->path, c->label);
            at->done = 1;
        } else if (below(c->path, x->path)) {
            aset_problem(L->a, c->s,
                         "%s: the items element %s would be inside %s, "
                         "which %s gives a value",
                         c->label, c->path, x->path, x->label);
            c->done = 1;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        struct node *x = &t->v[i];
        for (size_t j = i + 1; j < t->n && !x->done; j++) {
            struct node *y = &t->v[j];
            if (y->done || x->items || y->items || x->item != y->item ||
                (skip_common && x->common && y->common))
                continue;
            /* between the envelope and a function, the function's entry
             * is the one to change */
            struct node *mixed =
                x->common != y->common ? (x->common ? y : x) : NULL;
            struct node *at;
            if (strcmp(x->path, y->path) == 0) {
                at = mixed ? mixed : y;
                aset_problem(L->a, at->s,
                             "%s: %s is also the path of %s; a path appears "
                             "at most once in %s",
                             at->label, at->path, (at == x ? y : x)->label,
                             t->what);
            } else if (below_value(y->path, x->path) ||
                       below_value(x->path, y->path)) {
                struct node *leaf = below_value(y->path, x->path) ? x : y;
                struct node *kid = leaf == x ? y : x;
                at = mixed ? mixed : leaf;
                aset_problem(L->a, at->s,
                             "%s: %s (%s) has a value, so it cannot also "
                             "contain %s (%s) in %s",
                             at->label, leaf->path, leaf->label, kid->path,
                             kid->label, t->what);
            } else {
                continue;
            }
            at->done = 1;
        }
    }
}

/* 1 when name is an element name of path (not an attribute). */
static int has_name(const char *path, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = path; p && *p;) {
        size_t len = strcspn(p, "/");
        if (len == nl && memcmp(p, name, nl) == 0)
            return 1;
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
}

/* ---- top level ---------------------------------------------------------- */

static void read_content_type(struct ld *L, const config_setting_t *h)
{
    const config_setting_t *m;
    const char *ct = get_str(L, h, "http.", "content_type", 0,
                             "text/xml or application/xml, optionally with "
                             "\"; charset=\" naming encoding",
                             &m);
    if (!ct)
        return;
    size_t tl = strcspn(ct, ";");
    const char *b = ct, *e = ct + tl;
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t ml = (size_t)(e - b);
    if (!((ml == 8 && strncasecmp(b, "text/xml", 8) == 0) ||
          (ml == 15 && strncasecmp(b, "application/xml", 15) == 0))) {
        aset_problem(L->a, m,
                     "http.content_type: \"%.100s\" is not text/xml or "
                     "application/xml",
                     ct);
        return;
    }
    for (const char *p = ct + tl; *p == ';';) {
        p++;
        size_t pl = strcspn(p, ";");
        char par[VALUE_MAX + 1];
        snprintf(par, sizeof(par), "%.*s", (int)pl, p);
        p += pl;
        char *k = par;
        while (*k == ' ' || *k == '\t')
            k++;
        if (!*k)
            continue;
        char *eq = strchr(k, '=');
        if (!eq) {
            aset_problem(L->a, m,
                         "http.content_type: parameter \"%.60s\" is not "
                         "name=value",
                         k);
            return;
        }
        *eq = '\0';
        char *v = eq + 1;
        for (char *z = eq; z > k && (z[-1] == ' ' || z[-1] == '\t'); z--)
            z[-1] = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v[vl - 1] = '\0';
            v++;
        }
        if (strcasecmp(k, "charset") == 0 && L->encoding_ok &&
            strcasecmp(v, L->p->encoding) != 0) {
            aset_problem(L->a, m,
                         "http.content_type: charset=%.40s is not the "
                         "profile's encoding %s",
                         v, L->p->encoding);
            return;
        }
    }
    L->p->content_type = sdup(L, ct);
}

static void read_framing(struct ld *L, const config_setting_t *root)
{
    static const char *const framings[] = {"http", "tcp", NULL};
    int fr = get_choice(L, root, "", "framing", framings);
    const config_setting_t *h = config_setting_get_member(root, "http");
    const config_setting_t *len = config_setting_get_member(root, "length");
    if (fr < 0)
        return; /* which of http / length belongs is unknown */
    L->framing_ok = 1;
    L->p->framing = fr == 0 ? CX_FRAMING_HTTP : CX_FRAMING_TCP;
    if (fr == 0) {
        if (len)
            aset_problem(L->a, len,
                         "length: only with framing \"tcp\" (this profile's "
                         "framing is \"http\": leave length out)");
        h = get_group(L, root, "", "http", 0,
                      "framing \"http\" needs http = { content_type = "
                      "\"text/xml; charset=...\"; }");
        if (!h)
            return;
        static const char *const known[] = {"content_type", NULL};
        check_known(L, h, "http.", known);
        read_content_type(L, h);
        return;
    }
    if (h)
        aset_problem(L->a, h,
                     "http: only with framing \"http\" (this profile's "
                     "framing is \"tcp\": leave http out)");
    len = get_group(L, root, "", "length", 0,
                    "framing \"tcp\" needs length = { digits = 6; counts = "
                    "\"bytes\"; }");
    if (!len)
        return;
    static const char *const known[] = {"digits", "counts", NULL};
    check_known(L, len, "length.", known);
    long long d;
    if (get_int(L, len, "length.", "digits", 4, 10,
                "ASCII digits of the length prefix", &d) == 0)
        L->p->length_digits = (int)d;
    static const char *const counts[] = {"bytes", NULL};
    (void)get_choice(L, len, "length.", "counts", counts);
}

/* date_format / time_format: each of the three directives once, %%, and
 * literal text; nothing else, so that a date can be parsed back. */
static void read_format(struct ld *L, const config_setting_t *root,
                        const char *name, const char *dirs, char **out)
{
    char what[120];
    snprintf(what, sizeof(what),
             "strftime-style with %%%c %%%c %%%c once each, %%%% and literal "
             "text",
             dirs[0], dirs[1], dirs[2]);
    const config_setting_t *m;
    const char *f = get_str(L, root, "", name, 0, what, &m);
    if (!f)
        return;
    int seen[3] = {0, 0, 0};
    for (const char *p = f; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (*p == '%')
            continue;
        const char *d = *p ? strchr(dirs, *p) : NULL;
        if (!d) {
            aset_problem(L->a, m,
                         "%s: \"%.100s\": %s%c is not allowed; use %%%c %%%c "
                         "%%%c once each, %%%% and literal text",
                         name, f, *p ? "%" : "a final '%'", *p ? *p : ' ',
                         dirs[0], dirs[1], dirs[2]);
            return;
        }
        if (seen[d - dirs]++) {
            aset_problem(L->a, m,
                         "%s: \"%.100s\" has %%%c more than once; use %%%c "
                         "%%%c %%%c once each",
                         name, f, *p, dirs[0], dirs[1], dirs[2]);
            return;
        }
    }
    for (int i = 0; i < 3; i++)
        if (!seen[i]) {
            aset_problem(L->a, m,
                         "%s: \"%.100s\" lacks %%%c; use %%%c %%%c %%%c once "
                         "each",
                         name, f, dirs[i], dirs[0], dirs[1], dirs[2]);
            return;
        }
    *out = sdup(L, f);
}

static void read_utc_offset(struct ld *L, const config_setting_t *root)
{
    const config_setting_t *m;
    const char *o = get_str(L, root, "", "utc_offset", 0,
                            "the bank's civil time, \"+08:00\"", &m);
    if (!o)
        return;
    int ok = strlen(o) == 6 && (o[0] == '+' || o[0] == '-') && o[3] == ':';
    for (int i = 1; ok && i < 6; i++)
        if (i != 3 && (o[i] < '0' || o[i] > '9'))
            ok = 0;
    int h = ok ? (o[1] - '0') * 10 + (o[2] - '0') : 0;
    int mi = ok ? (o[4] - '0') * 10 + (o[5] - '0') : 0;
    if (!ok || h > 23 || mi > 59) {
        aset_problem(L->a, m,
                     "utc_offset: \"%.40s\" is not +HH:MM or -HH:MM (China: "
                     "\"+08:00\")",
                     o);
        return;
    }
    L->p->utc_offset_min = (o[0] == '-' ? -1 : 1) * (h * 60 + mi);
}

static int iso_ccy(const char *s)
{
    return strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
           s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

static void read_currencies(struct ld *L, const config_setting_t *root)
{
    const config_setting_t *l =
        config_setting_get_member(root, "currency_codes");
    if (!l) {
        aset_problem(L->a, root,
                     "currency_codes is missing (pairs of ISO 4217 code and "
                     "the bank's code: ( ( \"CNY\", \"10\" ) ))");
        return;
    }
    int n = config_setting_is_list(l) ? config_setting_length(l) : -1;
    if (n < 1 || n > LIST_MAX) {
        aset_problem(L->a, l,
                     "currency_codes must be a list of 1 to %d pairs of ISO "
                     "4217 code and the bank's code: ( ( \"CNY\", \"10\" ) )",
                     LIST_MAX);
        return;
    }
    struct cx_profile *p = L->p;
    if (!(p->ccy = zalloc(L, (size_t)n, sizeof(*p->ccy))))
        return;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const config_setting_t *xs, *ys;
        if (!get_pair(e, &xs, &ys)) {
            aset_problem(L->a, e,
                         "currency_codes: each entry must be ( \"ISO code\", "
                         "\"bank's code\" ), e.g. ( \"CNY\", \"10\" )");
            continue;
        }
        const char *iso = config_setting_get_string(xs);
        const char *bank = config_setting_get_string(ys);
        if (!iso_ccy(iso)) {
            aset_problem(L->a, xs,
                         "currency_codes: \"%.40s\" is not an ISO 4217 code "
                         "(three capital letters, e.g. \"CNY\")",
                         iso);
            continue;
        }
        if (!*bank || strlen(bank) > 64 || aset_has_ctl(bank)) {
            aset_problem(L->a, ys,
                         "currency_codes: the bank's code of %s must be 1 to "
                         "64 characters without control characters",
                         iso);
            continue;
        }
        size_t k = 0;
        while (k < p->n_ccy && strcmp(p->ccy[k].a, iso) != 0 &&
               strcmp(p->ccy[k].b, bank) != 0)
            k++;
        if (k < p->n_ccy) {
            int same_iso = strcmp(p->ccy[k].a, iso) == 0;
            aset_problem(L->a, e,
                         "currency_codes: %s \"%.40s\" is listed twice (also "
                         "in ( \"%s\", \"%.40s\" )); each ISO code and each "
                         "bank code appears once",
                         same_iso ? "ISO code" : "bank code",
                         same_iso ? iso : bank, p->ccy[k].a, p->ccy[k].b);
            continue;
        }
        p->ccy[p->n_ccy].a = sdup(L, iso);
        p->ccy[p->n_ccy].b = sdup(L, bank);
        if (p->ccy[p->n_ccy].a && p->ccy[p->n_ccy].b)
            p->n_ccy++;
        else {
            free(p->ccy[p->n_ccy].a);
            free(p->ccy[p->n_ccy].b);
        }
    }
}

static void read_limits(struct ld *L, const config_setting_t *root)
{
    const config_setting_t *g =
        get_group(L, root, "", "limits", 0,
                  "limits = { serial; name; remittance; bank_name; "
                  "batch_items; }");
    if (!g)
        return;
    static const char *const known[] = {
        "serial", "name", "remittance", "bank_name", "batch_items", NULL};
    check_known(L, g, "limits.", known);
    struct {
        const char *name;
        long long max;
        const char *what;
        int *out;
    } lim[] = {
        {"serial", 30, "characters of {serial}", &L->p->limits.serial},
        {"name", 1000, "characters of a name", &L->p->limits.name},
        {"remittance", 1000, "characters of {remittance}",
         &L->p->limits.remittance},
        {"bank_name", 1000, "characters of {creditor_bank}",
         &L->p->limits.bank_name},
        {"batch_items", 10000, "items of one payroll batch",
         &L->p->limits.batch_items},
    };
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
        long long v;
        if (get_int(L, g, "limits.", lim[i].name, 1, lim[i].max, lim[i].what,
                    &v) == 0)
            *lim[i].out = (int)v;
    }
}

/* ---- envelope, response, signature, paging ------------------------------ */

/* {function} once, as a whole template, and {login}: the front end
 * reads the function code and the customer from every header.  They are
 * called missing only when every entry could be read: a typo in one is
 * reported as such, not again as a missing token. */
static void check_header_tokens(struct ld *L, const config_setting_t *hs,
                                const struct plist *pl)
{
    size_t nfun = 0, first_bad = SIZE_MAX;
    int login = 0;
    L->function_hdr = SIZE_MAX;
    for (size_t i = 0; i < pl->n; i++) {
        if (pl->tok[i] & TB(FUNCTION)) {
            nfun++;
            if (L->function_hdr == SIZE_MAX &&
                strcmp(pl->v[i].tmpl, "{function}") == 0)
                L->function_hdr = i;
            else if (first_bad == SIZE_MAX)
                first_bad = i;
        }
        if (pl->tok[i] & TB(LOGIN))
            login = 1;
    }
    if (!pl->bad && nfun == 0)
        aset_problem(L->a, hs,
                     "envelope.header: {function} is missing; add one entry "
                     "( \"path\", \"{function}\" ): the front end reads the "
                     "function code there");
    else if (first_bad != SIZE_MAX)
        aset_problem(L->a, pl->s[first_bad],
                     "envelope.header: {function} must appear exactly once, "
                     "as the whole template of its entry ( \"path\", "
                     "\"{function}\" )");
    if (!pl->bad && !login)
        aset_problem(L->a, hs,
                     "envelope.header: {login} is missing; the front end "
                     "needs the login in every request's header");
    L->header_clean = !pl->bad;
    L->header_ok = !pl->bad && nfun == 1 && first_bad == SIZE_MAX && login;
}

static void read_envelope(struct ld *L, const config_setting_t *root)
{
    struct cx_profile *p = L->p;
    const config_setting_t *g =
        get_group(L, root, "", "envelope", 0,
                  "envelope = { root; header; body; response_body; }");
    if (!g)
        return;
    static const char *const known[] = {"root", "header", "body",
                                        "response_body", NULL};
    check_known(L, g, "envelope.", known);
    const config_setting_t *rs;
    const char *r =
        get_str(L, g, "envelope.", "root", 0, "the root element's name", &rs);
    char buf[300];
    if (r && (strchr(r, '/') || path_problem(r, 0, buf, sizeof(buf))))
        aset_problem(L->a, rs,
                     "envelope.root: \"%.100s\" is not an element name "
                     "([A-Za-z_][A-Za-z0-9_.-]*)",
                     r);
    else
        p->root = sdup(L, r);

    const config_setting_t *hs = config_setting_get_member(g, "header");
    if (!hs) {
        aset_problem(L->a, g,
                     "envelope.header is missing (the ( path, template ) "
                     "entries of every request's header, with {function} "
                     "and {login})");
    } else {
        struct plist pl;
        read_pairs(L, hs, "envelope.header", IN_HEADER, &pl);
        check_header_tokens(L, hs, &pl);
        L->hdr_s = pl.s;
        L->hdr_tok = pl.tok;
        pl.s = NULL;
        pl.tok = NULL;
        plist_take(&pl, &p->header, &p->n_header);
        plist_release(&pl);
    }
    p->body = get_path(L, g, "envelope.", "body", F_EMPTY, 0,
                       "where requests go below the root; \"\" = the root",
                       &L->body_s);
    p->response_body =
        get_path(L, g, "envelope.", "response_body", F_EMPTY, 0,
                 "where answers carry results below the root; \"\" = the root",
                 &L->rbody_s);
}

static int is_header_path(const struct cx_profile *p, const char *path)
{
    for (size_t i = 0; i < p->n_header; i++)
        if (strcmp(p->header[i].path, path) == 0)
            return 1;
    return 0;
}

struct code_ref {
    const char *code;
    const config_setting_t *s;
    const char *label;
};

static void read_response(struct ld *L, const config_setting_t *root)
{
    struct cx_profile *p = L->p;
    const config_setting_t *g = get_group(
        L, root, "", "response", 0,
        "response = { code; message; echo; ok; busy; not_found; errors; }");
    if (!g)
        return;
    static const char *const known[] = {"code", "message",   "echo",   "ok",
                                        "busy", "not_found", "errors", NULL};
    check_known(L, g, "response.", known);
    p->code_path =
        get_path(L, g, "response.", "code", 0, 1,
                 "the return code's path below the root", &L->code_s);
    p->message_path =
        get_path(L, g, "response.", "message", 0, 1,
                 "the return message's path below the root", &L->msg_s);
    /* the bank copies header paths back into its answer: a code there
     * would be the request's own value */
    char **pp[2] = {&p->code_path, &p->message_path};
    const config_setting_t *ps[2] = {L->code_s, L->msg_s};
    for (int i = 0; i < 2; i++)
        if (*pp[i] && is_header_path(p, *pp[i])) {
            aset_problem(L->a, ps[i],
                         "response.%s: %s is a path of envelope.header; the "
                         "answer's %s needs an element of its own",
                         i ? "message" : "code", *pp[i],
                         i ? "message" : "return code");
            free(*pp[i]);
            *pp[i] = NULL;
        }

    const config_setting_t *es = config_setting_get_member(g, "echo");
    if (!es) {
        aset_problem(L->a, g,
                     "response.echo is missing (the envelope.header paths "
                     "the bank copies back, e.g. ( \"INFO/SEQNBR\" ); () for "
                     "none)");
    } else {
        char **v;
        size_t n;
        const config_setting_t **sv;
        read_strings(L, es, "response.echo", 0, "envelope.header paths", &v, &n,
                     &sv);
        p->echo = zalloc(L, n, sizeof(*p->echo));
        L->echo_s = zalloc(L, n, sizeof(*L->echo_s));
        for (size_t i = 0; i < n && p->echo && L->echo_s; i++) {
            int twice = 0;
            for (size_t k = 0; k < p->n_echo; k++)
                if (strcmp(p->echo[k], v[i]) == 0)
                    twice = 1;
            if (L->header_clean && !is_header_path(p, v[i])) {
                aset_problem(L->a, sv[i],
                             "response.echo: \"%.100s\" is not a path of "
                             "envelope.header; the bank echoes header values "
                             "only",
                             v[i]);
            } else if (twice) {
                aset_problem(L->a, sv[i],
                             "response.echo: \"%.100s\" is listed twice", v[i]);
            } else {
                L->echo_s[p->n_echo] = sv[i];
                p->echo[p->n_echo++] = v[i];
                v[i] = NULL;
            }
        }
        strings_free(v, n);
        free(sv);
    }

    /* every code means one thing: collect them all, then compare */
    static const char *const lists[] = {"ok", "busy", "not_found"};
    char **lv[3] = {NULL, NULL, NULL};
    size_t ln[3] = {0, 0, 0};
    const config_setting_t **ls[3] = {NULL, NULL, NULL};
    for (int k = 0; k < 3; k++) {
        const config_setting_t *l = config_setting_get_member(g, lists[k]);
        char label[40];
        snprintf(label, sizeof(label), "response.%s", lists[k]);
        if (!l)
            aset_problem(L->a, g,
                         "%s is missing (a list of the bank's codes, e.g. "
                         "( \"0\" ))",
                         label);
        else
            read_strings(L, l, label, 1, "the bank's return codes", &lv[k],
                         &ln[k], &ls[k]);
    }
    p->ok = lv[0], p->n_ok = ln[0];
    p->busy = lv[1], p->n_busy = ln[1];
    p->not_found = lv[2], p->n_not_found = ln[2];

    static const char *const ek[] = {"format",  "signature", "login",
                                     "invalid", "duplicate", "account",
                                     NULL};
    char **slot[] = {&p->errors.format,    &p->errors.signature,
                     &p->errors.login,     &p->errors.invalid,
                     &p->errors.duplicate, &p->errors.account};
    static const char *const elabel[] = {"errors.format",    "errors.signature",
                                         "errors.login",     "errors.invalid",
                                         "errors.duplicate", "errors.account"};
    const config_setting_t *es6[6] = {NULL};
    const config_setting_t *eg =
        get_group(L, g, "response.", "errors", 0,
                  "errors = { format; signature; login; invalid; duplicate; "
                  "account; }");
    if (eg) {
        check_known(L, eg, "response.errors.", ek);
        for (int k = 0; ek[k]; k++) {
            const char *c = get_str(L, eg, "response.errors.", ek[k], 0,
                                    "the bank's return code", &es6[k]);
            *slot[k] = sdup(L, c);
        }
    }

    size_t nref = ln[0] + ln[1] + ln[2] + 6, n = 0;
    struct code_ref *refs = zalloc(L, nref, sizeof(*refs));
    for (int k = 0; refs && k < 3; k++)
        for (size_t i = 0; i < ln[k]; i++)
            refs[n++] = (struct code_ref){lv[k][i], ls[k][i], lists[k]};
    for (int k = 0; refs && k < 6; k++)
        if (*slot[k])
            refs[n++] = (struct code_ref){*slot[k], es6[k], elabel[k]};
    for (size_t j = 1; refs && j < n; j++)
        for (size_t i = 0; i < j; i++) {
            if (strcmp(refs[i].code, refs[j].code) != 0)
                continue;
            if (refs[i].label == refs[j].label)
                aset_problem(L->a, refs[j].s,
                             "response.%s: code \"%.40s\" is listed twice",
                             refs[j].label, refs[j].code);
            else
                aset_problem(L->a, refs[j].s,
                             "response: code \"%.40s\" is both %s and %s; "
                             "ok, busy, not_found and each of the six errors "
                             "must be different codes",
                             refs[j].code, refs[i].label, refs[j].label);
            break;
        }
    free(refs);
    for (int k = 0; k < 3; k++)
        free(ls[k]);
}

static void read_one_sig(struct ld *L, const config_setting_t *g,
                         const char *wk, const char *hk, const char *ek,
                         enum cx_sig_where *where, char **hdr, char **el,
                         const config_setting_t **el_s)
{
    static const char *const wheres[] = {"http-header", "element", "none",
                                         NULL};
    const config_setting_t *ws = config_setting_get_member(g, wk);
    int w = get_choice(L, g, "signature.", wk, wheres);
    const config_setting_t *hs = config_setting_get_member(g, hk);
    const config_setting_t *es = config_setting_get_member(g, ek);
    if (w < 0)
        return;
    if (w != 0 && hs)
        aset_problem(L->a, hs, "signature.%s: only with %s = \"http-header\"",
                     hk, wk);
    if (w != 1 && es)
        aset_problem(L->a, es, "signature.%s: only with %s = \"element\"", ek,
                     wk);
    if (w == 2) {
        *where = CX_SIG_NONE;
        return;
    }
    if (w == 0) {
        *where = CX_SIG_HEADER;
        if (L->framing_ok && L->p->framing != CX_FRAMING_HTTP) {
            aset_problem(L->a, ws,
                         "signature.%s: \"http-header\" needs framing "
                         "\"http\"; with framing \"tcp\" use \"element\" or "
                         "\"none\"",
                         wk);
            return;
        }
        const config_setting_t *m;
        const char *h = get_str(L, g, "signature.", hk, 0,
                                "the HTTP header's name, e.g. \"X-Sign\"", &m);
        if (!h)
            return;
        static const char *const taken[] = {
            "content-type", "content-length", "host", "transfer-encoding",
            "connection",   "expect",         NULL};
        int ok = strlen(h) <= 64;
        for (const char *c = h; ok && *c; c++)
            if (!(name_char(*c, 0) && *c != '_' && *c != '.'))
                ok = 0;
        for (int i = 0; ok && taken[i]; i++)
            if (strcasecmp(h, taken[i]) == 0)
                ok = 0;
        if (!ok) {
            aset_problem(L->a, m,
                         "signature.%s: \"%.64s\" is not a header name of "
                         "its own ([A-Za-z0-9-], not one that HTTP framing "
                         "sets)",
                         hk, h);
            return;
        }
        *hdr = sdup(L, h);
        return;
    }
    *where = CX_SIG_ELEMENT;
    *el = get_path(L, g, "signature.", ek, 0, 0,
                   "the signature element's path below the root", el_s);
    if (*el && is_header_path(L->p, *el)) {
        aset_problem(L->a, *el_s,
                     "signature.%s: %s is a path of envelope.header; the "
                     "signature needs an element of its own",
                     ek, *el);
        free(*el);
        *el = NULL;
    }
}

static void read_signature(struct ld *L, const config_setting_t *root)
{
    struct cx_profile *p = L->p;
    const config_setting_t *g =
        get_group(L, root, "", "signature", 0,
                  "signature = { where; response; ... }, \"none\" for none");
    if (!g)
        return;
    static const char *const known[] = {
        "where",           "header",           "element", "response",
        "response_header", "response_element", NULL};
    check_known(L, g, "signature.", known);
    read_one_sig(L, g, "where", "header", "element", &p->sig_where,
                 &p->sig_header, &p->sig_element, &L->sig_s);
    read_one_sig(L, g, "response", "response_header", "response_element",
                 &p->resp_sig_where, &p->resp_sig_header, &p->resp_sig_element,
                 &L->rsig_s);
}

static void read_paging(struct ld *L, const config_setting_t *root)
{
    struct cx_profile *p = L->p;
    const config_setting_t *g =
        get_group(L, root, "", "paging", 0,
                  "paging = { style = \"token\"; } or { style = \"page\"; "
                  "first; more_value; last_value; }");
    if (!g)
        return;
    static const char *const styles[] = {"token", "page", NULL};
    int st = get_choice(L, g, "paging.", "style", styles);
    if (st < 0)
        return;
    L->paging_ok = 1;
    if (st == 0) {
        p->paging = CX_PAGING_TOKEN;
        static const char *const known[] = {"style", NULL};
        check_known(L, g, "paging.", known);
        return;
    }
    p->paging = CX_PAGING_PAGE;
    static const char *const known[] = {"style", "first", "more_value",
                                        "last_value", NULL};
    check_known(L, g, "paging.", known);
    long long first;
    if (get_int(L, g, "paging.", "first", 0, INT_MAX, "the first page's number",
                &first) == 0)
        p->page_first = (long)first;
    const config_setting_t *ms, *ls;
    const char *more = get_str(L, g, "paging.", "more_value", 0,
                               "result.more's value when pages follow", &ms);
    const char *last = get_str(L, g, "paging.", "last_value", 0,
                               "result.more's value on the last page", &ls);
    if (more && last && strcmp(more, last) == 0) {
        aset_problem(L->a, ls,
                     "paging.last_value: \"%.40s\" is also more_value; the "
                     "two must differ",
                     last);
        return;
    }
    p->more_value = sdup(L, more);
    p->last_value = sdup(L, last);
}

/* ---- functions ---------------------------------------------------------- */

/* Settings of one function's result, for the answer's tree. */
struct res_s {
    const config_setting_t *top[CX_K_N], *item[CX_K_N];
};

static void read_result(struct ld *L, enum cx_fn f, const config_setting_t *fg,
                        struct res_s *rs)
{
    struct cx_function *fn = &L->p->fn[f];
    const struct fn_rule *r = &rules[f];
    const char *name = fn_names[f];
    cx_set need = r->res_need, opt = r->res_opt;
    if (r->items_opt) {
        need &= ~KB(ITEMS);
        opt |= KB(ITEMS);
    }
    int paged = fn_paged(f);
    if (paged && L->paging_ok)
        need |= L->p->paging == CX_PAGING_TOKEN ? KB(NEXT) : KB(MORE);
    else if (paged)
        opt |= KB(NEXT) | KB(MORE); /* paging is wrong: reported there */
    char w[64], list[1000], list2[600];
    snprintf(w, sizeof(w), "functions.%s.result", name);
    const config_setting_t *g = config_setting_get_member(fg, "result");
    if (!g || !config_setting_is_group(g)) {
        aset_problem(
            L->a, g ? g : fg, "%s %s: it must be a group of %s (optional: %s)",
            w, g ? "is not a group" : "is missing",
            key_list(list, sizeof(list), need),
            r->res_opt ? key_list(list2, sizeof(list2), r->res_opt) : "none");
        return;
    }
    const config_setting_t *ig = NULL;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *nm = config_setting_name(m);
        int k = -1;
        for (int j = 0; nm && j < CX_K_N; j++)
            if (strcmp(nm, key_names[j]) == 0)
                k = j;
        if (nm && strcmp(nm, "item") == 0 && r->item_need) {
            ig = m;
            continue;
        }
        if (k < 0 || !((need | opt) & (CX_BIT(k)))) {
            if (paged && (k == CX_K_NEXT || k == CX_K_MORE))
                aset_problem(L->a, m,
                             "%s.%s: only with paging.style \"%s\" (this "
                             "profile's is \"%s\": use result.%s)",
                             w, nm, k == CX_K_NEXT ? "token" : "page",
                             k == CX_K_NEXT ? "page" : "token",
                             k == CX_K_NEXT ? "more" : "next");
            else
                aset_problem(
                    L->a, m,
                    "%s.%s: unknown result key (%s answers have %s%s; "
                    "optional: %s)",
                    w, nm ? nm : "?", name, key_list(list, sizeof(list), need),
                    r->item_need ? " and item" : "",
                    opt ? key_list(list2, sizeof(list2), opt) : "none");
            continue;
        }
        if (config_setting_type(m) != CONFIG_TYPE_STRING) {
            aset_problem(L->a, m, "%s.%s must be a path string, not %s", w, nm,
                         type_name(m));
            continue;
        }
        const char *v = config_setting_get_string(m);
        char buf[300];
        const char *why = path_problem(v, k != CX_K_ITEMS, buf, sizeof(buf));
        if (why) {
            aset_problem(L->a, m, "%s.%s: %s", w, nm, why);
            continue;
        }
        fn->result[k] = sdup(L, v);
        rs->top[k] = m;
    }
    for (int k = 0; k < CX_K_N; k++) {
        if (!(need & (CX_BIT(k))) || config_setting_get_member(g, key_names[k]))
            continue;
        /* next written as more (or the reverse) was reported above */
        if ((k == CX_K_NEXT && config_setting_get_member(g, "more")) ||
            (k == CX_K_MORE && config_setting_get_member(g, "next")))
            continue;
        aset_problem(L->a, g,
                     "%s: %s is missing (%s answers have %s%s; see "
                     "PROFILE.md, \"functions\")",
                     w, key_names[k], name, key_list(list, sizeof(list), need),
                     r->item_need ? " and item" : "");
    }
    if (!r->item_need)
        return;
    if (r->items_opt && !ig && !fn->result[CX_K_ITEMS] &&
        !config_setting_get_member(g, "items"))
        return; /* both left out */
    if (r->items_opt && ig && !config_setting_get_member(g, "items")) {
        aset_problem(L->a, ig,
                     "%s.item: only with items (the repeated element)", w);
        return;
    }
    if (!ig) {
        aset_problem(L->a, g,
                     "%s: item is missing (the group of paths below each "
                     "repeated element: %s; optional: %s)",
                     w, key_list(list, sizeof(list), r->item_need),
                     key_list(list2, sizeof(list2), r->item_opt));
        return;
    }
    if (!config_setting_is_group(ig)) {
        aset_problem(L->a, ig, "%s.item must be a group { key = \"path\"; }",
                     w);
        return;
    }
    char wi[80];
    snprintf(wi, sizeof(wi), "%s.item", w);
    for (int i = 0; i < config_setting_length(ig); i++) {
        const config_setting_t *m = config_setting_get_elem(ig, (unsigned)i);
        const char *nm = config_setting_name(m);
        int k = -1;
        for (int j = 0; nm && j < CX_K_N; j++)
            if (strcmp(nm, key_names[j]) == 0)
                k = j;
        if (k < 0 || !((r->item_need | r->item_opt) & (CX_BIT(k)))) {
            aset_problem(L->a, m,
                         "%s.%s: unknown item key (%s items have %s; "
                         "optional: %s)",
                         wi, nm ? nm : "?", name,
                         key_list(list, sizeof(list), r->item_need),
                         key_list(list2, sizeof(list2), r->item_opt));
            continue;
        }
        if (config_setting_type(m) != CONFIG_TYPE_STRING) {
            aset_problem(L->a, m, "%s.%s must be a string, not %s", wi, nm,
                         type_name(m));
            continue;
        }
        const char *v = config_setting_get_string(m);
        if (VALUE_KEYS & (CX_BIT(k))) {
            if (!*v || strlen(v) > 64 || aset_has_ctl(v)) {
                aset_problem(L->a, m,
                             "%s.%s: the value of credit_debit that means "
                             "%s; 1 to 64 characters, no control characters",
                             wi, nm,
                             k == CX_K_DEBIT_VALUE ? "debit" : "credit");
                continue;
            }
        } else {
            char buf[300];
            const char *why = path_problem(v, 1, buf, sizeof(buf));
            if (why) {
                aset_problem(L->a, m, "%s.%s: %s", wi, nm, why);
                continue;
            }
            rs->item[k] = m;
        }
        fn->item_result[k] = sdup(L, v);
    }
    for (int k = 0; k < CX_K_N; k++)
        if ((r->item_need & (CX_BIT(k))) &&
            !config_setting_get_member(ig, key_names[k]))
            aset_problem(L->a, ig,
                         "%s: %s is missing (%s items have %s; optional: %s)",
                         wi, key_names[k], name,
                         key_list(list, sizeof(list), r->item_need),
                         key_list(list2, sizeof(list2), r->item_opt));
    /* credit_debit is read through its two values: both or neither */
    const config_setting_t *cd = config_setting_get_member(ig, "credit_debit");
    const config_setting_t *dv = config_setting_get_member(ig, "debit_value");
    const config_setting_t *cv = config_setting_get_member(ig, "credit_value");
    if (cd && !(r->item_need & KB(DEBIT_VALUE)) && (!dv || !cv))
        aset_problem(L->a, cd,
                     "%s.credit_debit: needs debit_value and credit_value, "
                     "its values for debit and credit",
                     wi);
    else if (!cd && !(r->item_need & KB(CREDIT_DEBIT)) && (dv || cv))
        aset_problem(L->a, dv ? dv : cv,
                     "%s.%s: only with credit_debit (the element it is a "
                     "value of)",
                     wi, dv ? "debit_value" : "credit_value");
    else if (fn->item_result[CX_K_DEBIT_VALUE] &&
             fn->item_result[CX_K_CREDIT_VALUE] &&
             strcmp(fn->item_result[CX_K_DEBIT_VALUE],
                    fn->item_result[CX_K_CREDIT_VALUE]) == 0)
        aset_problem(L->a, cv,
                     "%s.credit_value: \"%.40s\" is also debit_value; the "
                     "two must differ",
                     wi, fn->item_result[CX_K_CREDIT_VALUE]);
}

/* The envelope's part of a request's tree. */
static void add_request_common(struct ld *L, struct tree *t)
{
    struct cx_profile *p = L->p;
    for (size_t i = 0; i < p->n_header; i++)
        tree_add(L, t, NULL, NULL, p->header[i].path, L->hdr_s[i],
                 "envelope.header", N_COMMON);
    tree_add(L, t, NULL, NULL, p->sig_element, L->sig_s, "signature.element",
             N_COMMON);
}

static void add_answer_common(struct ld *L, struct tree *t)
{
    struct cx_profile *p = L->p;
    tree_add(L, t, NULL, NULL, p->code_path, L->code_s, "response.code",
             N_COMMON);
    tree_add(L, t, NULL, NULL, p->message_path, L->msg_s, "response.message",
             N_COMMON);
    for (size_t i = 0; i < p->n_echo; i++)
        tree_add(L, t, NULL, NULL, p->echo[i], L->echo_s[i], "response.echo",
                 N_COMMON);
    tree_add(L, t, NULL, NULL, p->resp_sig_element, L->rsig_s,
             "signature.response_element", N_COMMON);
}

/* The body element holds a function's request; it cannot be (or be
 * inside) an element that the envelope gives a value. */
static void check_body(struct ld *L, struct tree *t, const char *body,
                       const config_setting_t *s, const char *label)
{
    for (size_t i = 0; body && *body && i < t->n; i++)
        if (strcmp(t->v[i].path, body) == 0 ||
            below_value(body, t->v[i].path)) {
            aset_problem(L->a, s,
                         "%s: %s would be inside %s, which %s gives a value",
                         label, body, t->v[i].path, t->v[i].label);
            return;
        }
}

/* The envelope's own shapes, once for all functions. */
static void check_common(struct ld *L)
{
    struct tree t = {.what = "a request"};
    add_request_common(L, &t);
    tree_check(L, &t, 0);
    check_body(L, &t, L->p->body, L->body_s, "envelope.body");
    tree_release(&t);
    t = (struct tree){.what = "an answer"};
    add_answer_common(L, &t);
    tree_check(L, &t, 0);
    check_body(L, &t, L->p->response_body, L->rbody_s,
               "envelope.response_body");
    tree_release(&t);
}

static void check_fn_trees(struct ld *L, enum cx_fn f, const struct plist *req,
                           const struct plist *item,
                           const config_setting_t *items_s,
                           const struct res_s *rs)
{
    struct cx_profile *p = L->p;
    struct cx_function *fn = &p->fn[f];
    char what[80], label[80];
    snprintf(what, sizeof(what), "a request of functions.%s", fn_names[f]);
    struct tree t = {.what = what};
    add_request_common(L, &t);
    snprintf(label, sizeof(label), "functions.%s.request", fn_names[f]);
    for (size_t i = 0; i < req->n; i++)
        tree_add(L, &t, p->body, NULL, fn->request[i].path, req->s[i], label,
                 0);
    if (fn->items) {
        char items_label[64], item_label[64];
        snprintf(items_label, sizeof(items_label), "functions.%s.items",
                 fn_names[f]);
        snprintf(item_label, sizeof(item_label), "functions.%s.item",
                 fn_names[f]);
        tree_add(L, &t, p->body, NULL, fn->items, items_s, items_label,
                 N_ITEMS);
        for (size_t i = 0; i < item->n; i++)
            tree_add(L, &t, p->body, fn->items, fn->item[i].path, item->s[i],
                     item_label, N_ITEM);
    }
    tree_check(L, &t, 1);
    tree_release(&t);

    snprintf(what, sizeof(what), "an answer of functions.%s", fn_names[f]);
    t = (struct tree){.what = what};
    add_answer_common(L, &t);
    for (int k = 0; k < CX_K_N; k++) {
        if (!fn->result[k])
            continue;
        snprintf(label, sizeof(label), "functions.%s.result.%s", fn_names[f],
                 key_names[k]);
        tree_add(L, &t, p->response_body, NULL, fn->result[k], rs->top[k],
                 label, k == CX_K_ITEMS ? N_ITEMS : 0);
    }
    for (int k = 0; fn->result[CX_K_ITEMS] && k < CX_K_N; k++) {
        if (!fn->item_result[k] || !rs->item[k])
            continue;
        snprintf(label, sizeof(label), "functions.%s.result.item.%s",
                 fn_names[f], key_names[k]);
        tree_add(L, &t, p->response_body, fn->result[CX_K_ITEMS],
                 fn->item_result[k], rs->item[k], label, N_ITEM);
    }
    tree_check(L, &t, 1);
    tree_release(&t);
}

/* "{a} and {b} are missing" of the tokens of need (and one of one_of)
 * that set lacks; 0 when none is. */
static int missing_tokens(char *buf, size_t n, cx_set set, cx_set need,
                          cx_set one_of)
{
    char a[900], b[200];
    cx_set miss = need & ~set;
    int one = one_of && !(set & one_of);
    if (!miss && !one)
        return 0;
    int count = __builtin_popcountll((unsigned long long)miss) +
                __builtin_popcountll((unsigned long long)(miss >> 64)) + one;
    tok_list(a, sizeof(a), miss, " ");
    snprintf(buf, n, "%s%s%s %s missing", a, miss && one ? " and " : "",
             one ? tok_list(b, sizeof(b), one_of, " or ") : "",
             count > 1 ? "are" : "is");
    return 1;
}

static void need_text(char *buf, size_t n, const struct fn_rule *r)
{
    char a[900], b[200];
    snprintf(buf, n, "%s needs %s%s%s", r->what,
             tok_list(a, sizeof(a), r->need, " "), r->one_of ? " and " : "",
             r->one_of ? tok_list(b, sizeof(b), r->one_of, " or ") : "");
}

static void read_function(struct ld *L, enum cx_fn f, const config_setting_t *g)
{
    struct cx_profile *p = L->p;
    struct cx_function *fn = &p->fn[f];
    const char *name = fn_names[f];
    char w[64], label[80], what[400];
    snprintf(w, sizeof(w), "functions.%s.", name);
    static const char *const common_keys[] = {"code", "request", "header",
                                              "result", NULL};
    static const char *const payroll_keys[] = {
        "code", "request", "header", "result", "items", "item", NULL};
    static const char *const download_keys[] = {
        "code", "request", "header", "result", "content_encoding", NULL};
    int has_items = f == CX_FN_PAYROLL || f == CX_FN_SCF_FINANCING;
    check_known(L, g, w,
                has_items                     ? payroll_keys
                : f == CX_FN_RECEIPT_DOWNLOAD ? download_keys
                                              : common_keys);

    const config_setting_t *cs;
    const char *code = get_str(L, g, w, "code", 0,
                               "the {function} value of this function", &cs);
    for (int o = 0; code && o < (int)f; o++)
        if (p->fn[o].code && strcmp(p->fn[o].code, code) == 0) {
            aset_problem(L->a, cs,
                         "functions.%s.code: \"%.60s\" is also "
                         "functions.%s.code; each function needs its own",
                         name, code, fn_names[o]);
            code = NULL;
            break;
        }
    fn->code = sdup(L, code);

    int bad = 0;
    cx_set used = 0;
    /* the header this function sends: envelope.header with overrides */
    cx_set *merged = zalloc(L, p->n_header, sizeof(*merged));
    for (size_t i = 0; merged && i < p->n_header; i++)
        merged[i] = L->hdr_tok[i];
    const config_setting_t *hs = config_setting_get_member(g, "header");
    const config_setting_t *drops_login = NULL;
    struct plist hl = {0};
    if (hs) {
        snprintf(label, sizeof(label), "functions.%s.header", name);
        read_pairs(L, hs, label, IN_FN(f), &hl);
        bad |= hl.bad;
        size_t keep = 0;
        for (size_t i = 0; i < hl.n; i++) {
            size_t h = 0;
            while (h < p->n_header &&
                   strcmp(p->header[h].path, hl.v[i].path) != 0)
                h++;
            if (h == p->n_header && !L->header_clean) {
                bad = 1; /* envelope.header has a problem of its own */
            } else if (h == p->n_header) {
                aset_problem(L->a, hl.s[i],
                             "%s: %s is not a path of envelope.header; a "
                             "function's header entries replace envelope."
                             "header entries of the same path",
                             label, hl.v[i].path);
                bad = 1;
            } else if (h == L->function_hdr) {
                aset_problem(L->a, hl.s[i],
                             "%s: %s is the {function} entry of "
                             "envelope.header, which cannot be replaced",
                             label, hl.v[i].path);
                bad = 1;
            } else {
                if ((L->hdr_tok[h] & TB(LOGIN)) && !(hl.tok[i] & TB(LOGIN)))
                    drops_login = hl.s[i];
                if (merged)
                    merged[h] = hl.tok[i];
                hl.v[keep] = hl.v[i];
                hl.s[keep] = hl.s[i];
                hl.tok[keep] = hl.tok[i];
                keep++;
                continue;
            }
            free(hl.v[i].path);
            free(hl.v[i].tmpl);
        }
        hl.n = keep;
        plist_take(&hl, &fn->header, &fn->n_header);
    }
    for (size_t i = 0; merged && i < p->n_header; i++)
        used |= merged[i];
    if (merged && L->header_ok && drops_login && !(used & TB(LOGIN))) {
        aset_problem(L->a, drops_login,
                     "%s: replaces envelope.header's {login} entry with a "
                     "template without {login}; every request's header "
                     "carries {login}",
                     label);
        bad = 1;
    }
    free(merged);
    plist_release(&hl);

    struct plist rq = {0}, it = {0};
    const config_setting_t *rs = config_setting_get_member(g, "request");
    snprintf(label, sizeof(label), "functions.%s.request", name);
    if (!rs) {
        aset_problem(L->a, g,
                     "%srequest is missing (a list of ( path, template ), "
                     "() when empty)",
                     w);
        bad = 1;
    } else {
        read_pairs(L, rs, label, IN_FN(f), &rq);
        bad |= rq.bad;
        for (size_t i = 0; i < rq.n; i++)
            used |= rq.tok[i];
        /* the settings stay in rq for the tree check below */
        fn->request = rq.v;
        fn->n_request = rq.n;
    }

    const config_setting_t *items_s = NULL;
    if (has_items) {
        int inv = f == CX_FN_SCF_FINANCING;
        cx_set ineed = inv ? INVOICE_NEED : ITEM_NEED;
        char il[64];
        snprintf(il, sizeof(il), "functions.%s.item", name);
        fn->items = get_path(
            L, g, w, "items", 0, 0,
            "the repeated item element's path below envelope.body", &items_s);
        const config_setting_t *is = config_setting_get_member(g, "item");
        if (!is) {
            aset_problem(L->a, g,
                         "%s is missing (the ( path, template ) entries "
                         "below each item element)",
                         il);
        } else {
            read_pairs(L, is, il, inv ? IN_INVOICE : IN_ITEM, &it);
            fn->item = it.v;
            fn->n_item = it.n;
            cx_set iused = 0;
            for (size_t i = 0; i < it.n; i++)
                iused |= it.tok[i];
            char miss[1000];
            if (!it.bad && missing_tokens(miss, sizeof(miss), iused, ineed, 0))
                aset_problem(L->a, is, "%s: %s: each %s needs %s", il, miss,
                             inv ? "invoice" : "payroll item",
                             tok_list(what, sizeof(what), ineed, " "));
        }
    }

    char miss[1200], need[1400];
    if (!bad && missing_tokens(miss, sizeof(miss), used, rules[f].need,
                               rules[f].one_of)) {
        need_text(need, sizeof(need), &rules[f]);
        aset_problem(L->a, rs, "%s: %s: %s", label, miss, need);
    }

    if (f == CX_FN_RECEIPT_DOWNLOAD) {
        static const char *const enc[] = {"base64", NULL};
        fn->content_base64 = get_choice(L, g, w, "content_encoding", enc) == 0;
    }

    struct res_s res;
    memset(&res, 0, sizeof(res));
    read_result(L, f, g, &res);
    check_fn_trees(L, f, &rq, &it, items_s, &res);
    /* the entries belong to the profile now; only the settings go */
    rq.v = NULL;
    rq.n = 0;
    it.v = NULL;
    it.n = 0;
    plist_release(&rq);
    plist_release(&it);
}

static void read_functions(struct ld *L, const config_setting_t *root)
{
    const config_setting_t *g = get_group(
        L, root, "", "functions", 0,
        "functions = { payment; payment_status; payroll; payroll_result; "
        "balance; transactions; receipts; receipt_download; }");
    if (!g)
        return;
    const char *known[CX_FN_COUNT + 1];
    for (int f = 0; f < CX_FN_COUNT; f++)
        known[f] = fn_names[f];
    known[CX_FN_COUNT] = NULL;
    check_known(L, g, "functions.", known);
    for (int f = 0; f < CX_FN_CORE; f++) {
        const config_setting_t *fg = get_group(
            L, g, "functions.", fn_names[f], 0,
            "all eight functions are required; see PROFILE.md, \"functions\"");
        if (fg)
            read_function(L, (enum cx_fn)f, fg);
    }
    /* A family is complete or absent: half of one would take messages
     * that it cannot follow up (PROFILE.md "Bill pool and supply-chain
     * finance"). */
    for (int fam = 1; fam <= 2; fam++) {
        int present = 0, missing = 0;
        char have[400] = "";
        size_t used = 0;
        for (int f = CX_FN_CORE; f < CX_FN_COUNT; f++) {
            if (fn_family((enum cx_fn)f) != fam)
                continue;
            if (config_setting_get_member(g, fn_names[f]))
                present++;
            if (used < sizeof(have))
                used += (size_t)snprintf(
                    have + used, sizeof(have) - used, "%s%s%s",
                    used ? ", " : "", fn_names[f],
                    f == CX_FN_BILL_HISTORY ? " (optional)" : "");
        }
        if (!present)
            continue;
        for (int f = CX_FN_CORE; f < CX_FN_COUNT; f++) {
            if (fn_family((enum cx_fn)f) != fam)
                continue;
            const config_setting_t *m =
                config_setting_get_member(g, fn_names[f]);
            if (!m && f != CX_FN_BILL_HISTORY) {
                aset_problem(L->a, g,
                             "functions.%s is missing: the %s family is "
                             "complete or absent (%s; PROFILE.md, \"Bill "
                             "pool and supply-chain finance\")",
                             fn_names[f], fam == 1 ? "bills" : "scf", have);
                missing++;
                continue;
            }
            const config_setting_t *fg =
                get_group(L, g, "functions.", fn_names[f], F_OPT,
                          "a function of the bill pool or scf family");
            if (fg)
                read_function(L, (enum cx_fn)f, fg);
            else if (m)
                missing++;
        }
        if (!missing) {
            if (fam == 1)
                L->p->has_bills = 1;
            else
                L->p->has_scf = 1;
        }
    }
}

static void read_status_map(struct ld *L, const config_setting_t *root)
{
    struct cx_profile *p = L->p;
    const config_setting_t *l = config_setting_get_member(root, "status_map");
    if (!l) {
        aset_problem(L->a, root,
                     "status_map is missing (pairs of the bank's status value "
                     "and PDNG, ACCP, ACSC, ACTC or RJCT)");
        return;
    }
    int n = config_setting_is_list(l) ? config_setting_length(l) : -1;
    if (n < 1 || n > LIST_MAX) {
        aset_problem(L->a, l,
                     "status_map must be a list of pairs ( \"bank value\", "
                     "\"PDNG|ACCP|ACSC|ACTC|RJCT\" )");
        return;
    }
    if (!(p->status_map = zalloc(L, (size_t)n, sizeof(*p->status_map))))
        return;
    int bad = 0, pdng = 0, acc = 0, rjct = 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const config_setting_t *xs, *ys;
        if (!get_pair(e, &xs, &ys)) {
            aset_problem(L->a, e,
                         "status_map: each entry must be ( \"bank value\", "
                         "\"ISO status\" ), two strings");
            bad = 1;
            continue;
        }
        const char *v = config_setting_get_string(xs);
        const char *iso = config_setting_get_string(ys);
        int k = 0;
        while (iso_status[k] && strcmp(iso_status[k], iso) != 0)
            k++;
        if (!iso_status[k]) {
            aset_problem(L->a, ys,
                         "status_map: \"%.40s\" is not PDNG, ACCP, ACSC, ACTC "
                         "or RJCT",
                         iso);
            bad = 1;
            continue;
        }
        if (!*v || strlen(v) > 64 || aset_has_ctl(v)) {
            aset_problem(L->a, xs,
                         "status_map: a bank value must be 1 to 64 characters "
                         "without control characters");
            bad = 1;
            continue;
        }
        size_t j = 0;
        while (j < p->n_status_map && strcmp(p->status_map[j].a, v) != 0)
            j++;
        if (j < p->n_status_map) {
            aset_problem(L->a, xs,
                         "status_map: the bank value \"%.40s\" is listed "
                         "twice; each value means one status",
                         v);
            bad = 1;
            continue;
        }
        pdng |= strcmp(iso, "PDNG") == 0;
        acc |= strcmp(iso, "ACSC") == 0 || strcmp(iso, "ACCP") == 0;
        rjct |= strcmp(iso, "RJCT") == 0;
        struct cx_pair *pr = &p->status_map[p->n_status_map];
        pr->a = sdup(L, v);
        pr->b = sdup(L, iso);
        if (pr->a && pr->b)
            p->n_status_map++;
        else {
            free(pr->a);
            free(pr->b);
        }
    }
    if (bad)
        return;
    const char *lack = !pdng   ? "PDNG (pending)"
                       : !acc  ? "ACSC or ACCP (accepted)"
                       : !rjct ? "RJCT (rejected)"
                               : NULL;
    if (lack)
        aset_problem(L->a, l,
                     "status_map: no value maps to %s; at least one value "
                     "must map to PDNG, one to ACSC or ACCP and one to RJCT",
                     lack);
}

/* The signature element is found in the message bytes by its tags
 * (PROFILE.md, "Signatures"): no other element of any request or answer
 * may carry its name. */
static void check_sig_name(struct ld *L, const char *el,
                           const config_setting_t *s, const char *label)
{
    const struct cx_profile *p = L->p;
    if (!el || !s)
        return;
    const char *name = strrchr(el, '/');
    name = name ? name + 1 : el;
    char pre[PATH_MAX_LEN + 1];
    snprintf(pre, sizeof(pre), "%.*s", (int)(name - el), el);
    const char *by = NULL, *path = NULL;
    char lb[96];
    if (has_name(pre, name)) {
        by = label;
        path = el;
    }
#define CLASH(pth, ...)                                                        \
    do {                                                                       \
        if (!by && (pth) && has_name((pth), name)) {                           \
            snprintf(lb, sizeof(lb), __VA_ARGS__);                             \
            by = lb;                                                           \
            path = (pth);                                                      \
        }                                                                      \
    } while (0)
    CLASH(p->root, "envelope.root");
    for (size_t i = 0; i < p->n_header; i++)
        CLASH(p->header[i].path, "envelope.header");
    CLASH(p->body, "envelope.body");
    CLASH(p->response_body, "envelope.response_body");
    CLASH(p->code_path, "response.code");
    CLASH(p->message_path, "response.message");
    for (int f = 0; f < CX_FN_COUNT; f++) {
        const struct cx_function *fn = &p->fn[f];
        for (size_t i = 0; i < fn->n_request; i++)
            CLASH(fn->request[i].path, "functions.%s.request", fn_names[f]);
        CLASH(fn->items, "functions.%s.items", fn_names[f]);
        for (size_t i = 0; i < fn->n_item; i++)
            CLASH(fn->item[i].path, "functions.%s.item", fn_names[f]);
        for (int k = 0; k < CX_K_N; k++) {
            CLASH(fn->result[k], "functions.%s.result.%s", fn_names[f],
                  key_names[k]);
            if (!(VALUE_KEYS & (CX_BIT(k))))
                CLASH(fn->item_result[k], "functions.%s.result.item.%s",
                      fn_names[f], key_names[k]);
        }
    }
#undef CLASH
    if (by)
        aset_problem(L->a, s,
                     "%s: the element name \"%s\" is also used by %s (%s); "
                     "the signature element is found in the message bytes "
                     "by its tags, so its name must name no other element "
                     "of any request or answer",
                     label, name, by, path);
}

static void load(struct ld *L, const config_setting_t *root)
{
    struct cx_profile *p = L->p;
    static const char *const known[] = {
        "profile_version", "name", "description", "encoding", "framing", "http",
        "length", "amount_unit", "date_format", "time_format", "utc_offset",
        "currency_codes", "limits", "envelope", "response", "signature",
        "paging", "functions", "status_map",
        /* the families' value tables (cx_profile_fam.c) */
        "bill_ops", "draft_kinds", "draft_status_map", "request_results",
        "yes_no", "financing_kinds", "financing_status_map", "voucher_ops",
        "voucher_status_map", NULL};
    check_known(L, root, "", known);
    const config_setting_t *vs =
        config_setting_get_member(root, "profile_version");
    if (!vs)
        aset_problem(L->a, root,
                     "profile_version is missing (write profile_version = 1;"
                     " the format of PROFILE.md)");
    else if ((config_setting_type(vs) != CONFIG_TYPE_INT &&
              config_setting_type(vs) != CONFIG_TYPE_INT64) ||
             config_setting_get_int64(vs) != 1)
        aset_problem(L->a, vs,
                     "profile_version: only 1 exists (the format of "
                     "PROFILE.md); write profile_version = 1;");
    const char *name =
        get_str(L, root, "", "name", F_OPT, "a short name for logs", NULL);
    if (!name) {
        name = strrchr(p->file, '/');
        name = name ? name + 1 : p->file;
    }
    p->name = sdup(L, name);
    (void)get_str(L, root, "", "description", F_OPT | F_EMPTY | F_CTL,
                  "a free text", NULL);
    int enc = get_choice(L, root, "", "encoding", encodings);
    if (enc >= 0) {
        p->encoding = sdup(L, encodings[enc]);
        L->encoding_ok = p->encoding != NULL;
    }
    read_framing(L, root);
    static const char *const units[] = {"yuan", "fen", NULL};
    int au = get_choice(L, root, "", "amount_unit", units);
    p->amount_fen = au == 1;
    read_format(L, root, "date_format", "Ymd", &p->date_format);
    read_format(L, root, "time_format", "HMS", &p->time_format);
    read_utc_offset(L, root);
    read_currencies(L, root);
    read_limits(L, root);
    read_envelope(L, root);
    read_response(L, root);
    read_signature(L, root);
    read_paging(L, root);
    check_common(L);
    read_functions(L, root);
    read_status_map(L, root);
    cx_fam_read(p, root, L->a);
    check_sig_name(L, p->sig_element, L->sig_s, "signature.element");
    check_sig_name(L, p->resp_sig_element, L->rsig_s,
                   "signature.response_element");
}

/* ---- the file ----------------------------------------------------------- */

/* The first setting that came from another file than the profile (an
 * @include), or NULL. */
static const config_setting_t *included(const config_setting_t *s,
                                        const char *path)
{
    const char *f = config_setting_source_file(s);
    if (f && strcmp(f, path) != 0)
        return s;
    if (!config_setting_is_aggregate(s))
        return NULL;
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *r =
            included(config_setting_get_elem(s, (unsigned)i), path);
        if (r)
            return r;
    }
    return NULL;
}

/* Parse path into cfg; 0, or -1 after one problem reported at `at`. */
static int read_file(struct ld *L, const char *path, const config_setting_t *at,
                     config_t *cfg)
{
    /* our own open first: libconfig says only "file I/O error" */
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f) {
        aset_problem(L->a, at, "cannot read the profile %s: %s", path,
                     strerror(errno));
        return -1;
    }
    int rc = fstat(fileno(f), &st);
    int e = errno;
    fclose(f);
    if (rc != 0 || !S_ISREG(st.st_mode) || st.st_size > PROFILE_MAX_BYTES) {
        aset_problem(L->a, at, "cannot read the profile %s: %s", path,
                     rc != 0 ? strerror(e)
                     : !S_ISREG(st.st_mode)
                         ? "not a regular file"
                         : "larger than 1 MiB, which no profile is");
        return -1;
    }
    if (config_read_file(cfg, path) != CONFIG_TRUE) {
        const char *ef = config_error_file(cfg);
        if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
            aset_problem(L->a, at, "cannot read the profile %s: %s", path,
                         config_error_text(cfg));
        else
            aset_problem(L->a, at,
                         "the profile %s is not valid libconfig syntax: "
                         "%s%s%sline %d: %s",
                         path, ef && strcmp(ef, path) ? "in " : "",
                         ef && strcmp(ef, path) ? ef : "",
                         ef && strcmp(ef, path) ? " " : "",
                         config_error_line(cfg), config_error_text(cfg));
        return -1;
    }
    const config_setting_t *inc = included(config_root_setting(cfg), path);
    if (inc) {
        aset_problem(L->a, inc,
                     "the profile %s uses @include (this setting comes from "
                     "%s); a profile is one file without @include",
                     path, config_setting_source_file(inc));
        return -1;
    }
    return 0;
}

int cx_profile_load(const char *path, struct aset *a,
                    const config_setting_t *at, struct cx_profile **out)
{
    int n0 = a->n;
    struct ld L = {.a = a, .function_hdr = SIZE_MAX};
    config_t cfg;
    config_init(&cfg);
    if (out)
        *out = NULL;
    if (read_file(&L, path, at, &cfg) < 0)
        goto out;
    if (!(L.p = zalloc(&L, 1, sizeof(*L.p))))
        goto out;
    if (!(L.p->file = sdup(&L, path)))
        goto out;
    load(&L, config_root_setting(&cfg));
out:
    config_destroy(&cfg);
    free(L.hdr_s);
    free(L.hdr_tok);
    free(L.echo_s);
    if (out && L.p && a->n == n0 && !a->oom) {
        *out = L.p;
        L.p = NULL;
    }
    cx_profile_free(L.p);
    return a->n - n0;
}

static void pairs_free(struct cx_pair *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].a);
        free(v[i].b);
    }
    free(v);
}

void cx_profile_free(struct cx_profile *p)
{
    if (!p)
        return;
    free(p->file);
    free(p->name);
    free(p->encoding);
    free(p->content_type);
    free(p->date_format);
    free(p->time_format);
    pairs_free(p->ccy, p->n_ccy);
    free(p->root);
    entries_free(p->header, p->n_header);
    free(p->body);
    free(p->response_body);
    free(p->code_path);
    free(p->message_path);
    strings_free(p->echo, p->n_echo);
    strings_free(p->ok, p->n_ok);
    strings_free(p->busy, p->n_busy);
    strings_free(p->not_found, p->n_not_found);
    free(p->errors.format);
    free(p->errors.signature);
    free(p->errors.login);
    free(p->errors.invalid);
    free(p->errors.duplicate);
    free(p->errors.account);
    free(p->sig_header);
    free(p->sig_element);
    free(p->resp_sig_header);
    free(p->resp_sig_element);
    free(p->more_value);
    free(p->last_value);
    for (int f = 0; f < CX_FN_COUNT; f++) {
        struct cx_function *fn = &p->fn[f];
        free(fn->code);
        entries_free(fn->request, fn->n_request);
        entries_free(fn->header, fn->n_header);
        free(fn->items);
        entries_free(fn->item, fn->n_item);
        for (int k = 0; k < CX_K_N; k++) {
            free(fn->result[k]);
            free(fn->item_result[k]);
        }
    }
    pairs_free(p->status_map, p->n_status_map);
    cx_fam_free(p);
    free(p);
}

/* ---- lookups ------------------------------------------------------------ */

static int listed(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

enum cx_code_class cx_code_class(const struct cx_profile *p, const char *code)
{
    if (!code)
        return CX_CODE_ERROR;
    if (listed(p->ok, p->n_ok, code))
        return CX_CODE_OK;
    if (listed(p->busy, p->n_busy, code))
        return CX_CODE_BUSY;
    if (listed(p->not_found, p->n_not_found, code))
        return CX_CODE_NOT_FOUND;
    if (p->errors.duplicate && strcmp(p->errors.duplicate, code) == 0)
        return CX_CODE_DUPLICATE;
    return CX_CODE_ERROR;
}

static const char *pair_lookup(const struct cx_pair *v, size_t n,
                               const char *key, int by_b)
{
    for (size_t i = 0; key && i < n; i++)
        if (strcmp(by_b ? v[i].b : v[i].a, key) == 0)
            return by_b ? v[i].a : v[i].b;
    return NULL;
}

const char *cx_ccy_bank(const struct cx_profile *p, const char *iso)
{
    return pair_lookup(p->ccy, p->n_ccy, iso, 0);
}

const char *cx_ccy_iso(const struct cx_profile *p, const char *bank)
{
    return pair_lookup(p->ccy, p->n_ccy, bank, 1);
}

const char *cx_status_iso(const struct cx_profile *p, const char *bank)
{
    return pair_lookup(p->status_map, p->n_status_map, bank, 0);
}
