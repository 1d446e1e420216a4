/*
 * canon_bill.h - h2hd's canonical XML for the bill pool and electronic
 * commercial drafts (bill.h), namespace urn:h2hd:bills:1, schema
 * formats/schemas/bills.xsd.
 *
 * Three roots, one struct each:
 *   <BillRequest>  struct fmt_bill_request: treasury drops one into a
 *                  channel's drop folder (h2hd writes them too, e.g. for
 *                  tests and tools);
 *   <BillResult>   struct fmt_bill_result: the bank's answer to one
 *                  request, written by h2hd to out/bills;
 *   <BillNotice>   struct fmt_bill_notice: one incoming draft awaiting our
 *                  signature, written by h2hd to out/bills.
 * Element names follow ISO 20022 abbreviations and canonical.xsd's
 * shapes (parties and accounts are canonical.xsd's Party and Account);
 * the schema documents every element.  A short request:
 *
 *   <BillRequest xmlns="urn:h2hd:bills:1">
 *     <Op>endorse</Op>
 *     <ReqId>TR-2024-0007</ReqId>
 *     <DrftNb>530158000001202401150000123456</DrftNb>
 *     <SubRg><Fr>1</Fr><To>500000</To></SubRg>
 *     <Amt Ccy="CNY">5000.00</Amt>
 *     <Cpty>
 *       <Nm>岭南配件有限公司</Nm>
 *       <Acct><OthrId>330000000000000003</OthrId></Acct>
 *       <BkCd>104100000045</BkCd>
 *     </Cpty>
 *   </BillRequest>
 *
 * The form holds every field of the model, so write -> read gives back
 * the same struct field by field ("lossless"); the one exception is the
 * pool of a result whose has_pool is 0, which is not written (it means
 * "no pool").  Values travel exactly as
 * the model holds them: amounts with the currency's decimals, the discount
 * rate as a percentage with up to 4 decimals (rate_ppm 13500 is <Rate>1.35
 * </Rate>), enums by their fmt_*_name() names; "none" / 0 / NULL / ""-ccy
 * is an absent element.
 *
 * Writers render the whole document in memory and copy it to out only
 * when it is complete: on failure nothing is written.  They refuse what
 * the schema would refuse (H2H_EINVALID, err naming the element path: a
 * draft number that is not 30 digits, a bank code that is not 12, a date
 * that is not YYYY-MM-DD, an enum value without a name, a negative amount
 * or one without a known currency, a missing required element) and what
 * XML 1.0 cannot carry (H2H_ECHARSET: invalid UTF-8, control characters
 * other than tab, LF, CR), so every document written validates against
 * bills.xsd.  fmt_canon_bill_write_request() first runs
 * fmt_bill_request_check() and refuses a request it refuses (its code and
 * message): h2hd never produces a request it would itself turn down.
 * H2H_EIO when out fails.
 *
 * Readers stream through xmlsafe.h (no DTD, no network, depth and size
 * caps).  Fatal, with err filled: input that is not well-formed, is
 * refused for security (a DOCTYPE) or is not UTF-8 (H2H_EPARSE,
 * H2H_ESECURITY, H2H_ECHARSET, H2H_EUNSUPPORTED for UTF-16), another root
 * or namespace (H2H_EUNSUPPORTED), H2H_ENOMEM.  Everything else is a
 * problem recorded in diag (may be NULL) with the line of the start tag
 * concerned (for a missing element: of the element that lacks it), the
 * element path relative to the root ("Drfts/Drft[2]/Amt") and a rule:
 *   bill.unknown      an element the schema does not have, or one
 *                     inside a value (ignored)
 *   bill.namespace    an element in another namespace (ignored)
 *   bill.text         text where only elements belong
 *   bill.repeated     an element given twice
 *   bill.missing      a required element is missing
 *   bill.value        a draft number, bank code, request id or date of
 *                     the wrong shape (the value is kept)
 *   bill.enum         not a name of the operation / status / kind /
 *                     direction / outcome (the field stays absent)
 *   bill.amount       not an unsigned decimal with the currency's
 *                     decimals, or more than 18 digits
 *   bill.amount.ccy   no known ISO 4217 Ccy attribute
 *   bill.integer, bill.boolean, bill.rate, bill.too_many
 *   bill.request      (requests only, with an operation) the request
 *                     read is one fmt_bill_request_check() refuses; the
 *                     message is its reason, the line that of
 *                     <BillRequest>
 * and reading goes on.  Readers return 0 when the document was read
 * without a problem, H2H_EINVALID when it was read but had problems (err:
 * "<name>: N problems, the first: line L: where: msg"; diag has them all)
 * - a request is then refused, and *out holds what could be read, for
 * the log - or a fatal code.
 *
 * Ownership: readers overwrite *out without releasing it (pass a zeroed
 * or released struct); the caller releases it with the bill.h _release
 * function, also after a failure.  Writers do not own out.
 *
 * Threads: no globals beyond fmt_xml_init(); any thread, one call per
 * struct at a time.
 */
#ifndef FMT_CANON_BILL_H
#define FMT_CANON_BILL_H

#include <stddef.h>
#include <stdio.h>

#include "bill.h"
#include "h2h_err.h"
#include "model.h"

#define FMT_CANON_BILL_NS "urn:h2hd:bills:1"

/* What fmt_canon_bill_detect() recognises. */
enum fmt_canon_bill_kind {
    FMT_CANON_BILL_REQUEST = 1, /* <BillRequest> */
    FMT_CANON_BILL_RESULT = 2,  /* <BillResult> */
    FMT_CANON_BILL_NOTICE = 3,  /* <BillNotice> */
};

/* Which bill root the first start tag of buf[0..len) is (enum
 * fmt_canon_bill_kind), or -1: not a bills document (a payment file, a
 * canonical:1 document, ...).  A cheap look at the prologue, not a
 * validation: the root start tag with its namespace declaration must lie
 * within buf. */
int fmt_canon_bill_detect(const char *buf, size_t len);

int fmt_canon_bill_write_request(FILE *out, const struct fmt_bill_request *rq,
                                 struct h2h_err *err);
int fmt_canon_bill_write_result(FILE *out, const struct fmt_bill_result *r,
                                struct h2h_err *err);
int fmt_canon_bill_write_notice(FILE *out, const struct fmt_bill_notice *n,
                                struct h2h_err *err);

int fmt_canon_bill_read_request(const struct fmt_src *src,
                                struct fmt_bill_request *out,
                                struct fmt_diag *diag, struct h2h_err *err);
int fmt_canon_bill_read_result(const struct fmt_src *src,
                               struct fmt_bill_result *out,
                               struct fmt_diag *diag, struct h2h_err *err);
int fmt_canon_bill_read_notice(const struct fmt_src *src,
                               struct fmt_bill_notice *out,
                               struct fmt_diag *diag, struct h2h_err *err);

#endif
