/*
 * mt940.h - SWIFT MT940 (customer statement) and MT942 (interim
 * transaction report): a streaming reader into the canonical statement
 * sink and a streaming writer that is itself a statement sink.
 *
 * Reader: accepts what banks really send.  Framing: SWIFT block envelopes
 * {1:..}{2:..}{3:..}{4: ... -}{5:..}, SOH (0x01) / ETX (0x03) around each
 * message, preamble lines before the first tag (ABN AMRO "ABNANL2A / 940",
 * old ING "0000 01<BIC>..." / "940 00", Rabobank ":940:"), CRLF or LF, no
 * final newline, a DOS end-of-file byte (0x1a), blank lines, several
 * messages, statements and accounts in one file.  A new :20: starts a new
 * statement; a "-" line (also "-}", "-XXX") ends the message, except that
 * a "-" inside an entry's :86: before the closing balance that is not
 * followed by a tag is text (ING wraps anywhere).  Only the tags of MT940
 * and MT942 are tags; any other ":nn:" line inside a field is a wrapped
 * continuation (":12:11" of a wrapped time stamp).
 *
 * Mapping (struct fmt_stmt / fmt_entry, model.h):
 *   :20: id   :21: related_ref   :28C:/:28: elctrnc_seq_nb / page_nb
 *   :25: IBAN -> acct.iban, else acct.other_id; "BLZ/account" puts the
 *        8-digit bank code in svcr.clr_mmb_id (clr_sys "DEBLZ"), "BIC/
 *        account" the BIC in svcr.bic; a trailing currency ("...EUR",
 *        " EUR", "/HUF") goes to acct.ccy
 *   :60F: OPBD, :60M: OPBD sub_type "INTM", :62F: CLBD, :62M: CLBD
 *        sub_type "INTM", :64: CLAV, :65: FWAV; amounts signed (D < 0)
 *   :61: val_dt, book_dt (entry date MMDD, year chosen nearest to the
 *        value date, so a December value date rolls into January), C/D/RC/
 *        RD -> credit + reversal (RC is a debit, RD a credit), funds code
 *        skipped, type code ("NTRF") -> bk_tx_prtry, customer reference ->
 *        cust_ref (NULL for NONREF), //bank reference -> acct_svcr_ref,
 *        supplementary details -> dtls[0].addtl_tx_inf; sts "BOOK"
 *   :86: after :61: -> entry.addtl_ntry_inf (raw lines joined with "\n",
 *        several :86: of one entry joined too) and, parsed, dtls[0]:
 *        German GVC "166?00..?20..?29?30?31?32?33?38?60..?63" (also '>'):
 *          GVC -> bk_tx_cd_prtry, ?30 BIC or BLZ -> cpty_agt, ?31/?38 ->
 *          cpty_acct, ?32+?33 -> cpty.name, ?20-?29 ?60-?63 purpose with
 *          SEPA keywords EREF+ -> end_to_end_id, KREF+ -> instr_id, MREF+
 *          -> mndt_id, SVWZ+ -> rmt_ustrd, ABWA+/ABWE+ -> ult_cpty.name
 *          (purpose without keywords -> rmt_ustrd)
 *        Dutch "/KEY/value" (ABN AMRO, ING, Rabobank, Knab, ASN, SNS,
 *        bunq): EREF -> end_to_end_id, PREF -> pmt_inf_id, MARF ->
 *        mndt_id, RTRN -> rtr_rsn, TRTP -> bk_tx_cd_prtry, CNTP (account/
 *        BIC/name), IBAN, BBAN, ACCW, BIC, NAME, ADDR, ORDP/BENM ->
 *        counterparty, ULTC/ULTD -> ult_cpty.name, PURP -> purp, REMI ->
 *        rmt_ustrd ("USTD//text"), or rmt_strd.cdtr_ref + cdtr_ref_issuer
 *        ("STRD/CUR/ref")
 *        free text -> rmt_ustrd (lines joined with a space, or with
 *        nothing after a full 65-character line)
 *   :86: elsewhere -> stmt.addtl_stmt_inf
 *   :90D:/:90C: -> has_summary, n_debits/sum_debits, n_credits/sum_credits
 *   :13D: (MT942) -> cre_dt_tm "YYYY-MM-DDThh:mm:00+hh:mm"
 *   :34F: floor limits are checked for form and not carried (the model
 *        has no place for them); :NS: (non-SWIFT) fields are skipped.
 * Years YY < 80 are 20YY, else 19YY.  MT942 (from block 2, a "942"
 * preamble, or :34F:/:13D: in the first statement) gives FMT_STMT_REPORT,
 * source_format "MT942"; otherwise FMT_STMT_STATEMENT, "MT940".
 *
 * Charset: src->charset declares the input (NULL = UTF-8; "CP852",
 * "ISO-8859-1", ...); every line is converted with charset.h and a line
 * that does not decode is a fatal H2H_ECHARSET naming the line.
 *
 * Memory: the input is read line by line (a line is capped at 64 KiB) and
 * one statement (:20: to the next :20: or end of message) is held at a
 * time, capped at 4 MiB (H2H_ETOOBIG beyond); the sink gets stmt_begin
 * with every balance, then the entries, then stmt_end.
 *
 * Reader errors: fatal (negative return, err filled) when the input is not
 * MT940/MT942 at all (no statement tag, an unknown tag before the first
 * one such as ":9401:", or more than 20 lines of text before it), does not
 * decode in its charset, breaks a size cap, cannot be opened, or when the
 * sink aborts (its code is returned).  Everything else (an impossible date
 * such as 30 February, a bad amount, a missing mandatory field, a repeated
 * field, a malformed :61:, stray text) goes into diag with the line and
 * the field tag, and reading continues: 0 means "the file was read", the
 * caller then looks at diag->n.  Balances are not checked here: tee the
 * sink through stmtcheck.h for that.
 *
 * Writer: a struct fmt_stmt_sink that prints MT940 or MT942 to a FILE *
 * as the events arrive, with CRLF line ends.  stmt_begin writes :20: :21:
 * :25: :28C: and :60F:/:60M: (MT940; OPBD, else PRCD) or :34F: (floor 0)
 * and :13D: (MT942, from cre_dt_tm, else to_dt_tm, else now); each entry
 * writes :61: (YYMMDD, MMDD when book_dt is given, C/D/RC/RD, amount with
 * ',', type code from bk_tx_prtry when it looks like N/F/S + 3, else
 * NMSC, customer reference or NONREF, //bank reference, supplementary
 * details from dtls[0].addtl_tx_inf) and :86:; stmt_end writes :62F:/
 * :62M: (MT940), :64:, :65:, :90D:/:90C: (MT942, when has_summary),
 * :86: from addtl_stmt_inf, and "-".  :86: is written in the /KEY/ style
 * (/TRTP/ /EREF/ /PREF/ /MARF/ /RTRN/ /IBAN/ or /BBAN/ /BIC/ /NAME/
 * /ULTD/ or /ULTC/ /REMI/) from dtls[0] when it carries any of those, so
 * that reading the output back gives the same details; otherwise the
 * entry's addtl_ntry_inf as free text.  Field sizes are SWIFT's: :20:
 * :21: references and :61: references are cut to 16 characters,
 * supplementary details to 34, :86: to 6 lines of 65 (the remittance
 * text, written last, is what is cut); no continuation line starts with
 * ':' or '-'.
 *
 * Writer charset: opts.charset NULL means the SWIFT X character set
 * (a-z A-Z 0-9 / - ? : ( ) . , ' + space): text is transliterated with
 * fmt_sepa_transliterate() (ä -> a, ß -> ss, anything else -> '.'),
 * because SWIFT networks reject anything else; "UTF-8" writes UTF-8
 * unchanged; any other name converts with charset.h and fails closed
 * (H2H_ECHARSET) on a character the charset cannot hold.
 * opts.envelope wraps each statement in {1:F01<LT>0000000000}{2:I94x<LT>N}
 * {4: ... -} where <LT> is svcr.bic padded to 12 (BIC8 + 'A' + branch),
 * or "XXXXXXXXXXXX" when the statement names no BIC.
 *
 * Writer errors: a callback that fails (no opening/closing balance for
 * MT940, an entry without any date, a write error, a charset failure)
 * returns a negative code and keeps the first error; later callbacks do
 * nothing; fmt_mt940_writer_finish() returns it.
 *
 * Ownership: the writer does not own out (the caller opens, flushes and
 * closes it); fmt_mt940_writer_free() frees the writer (NULL is fine).
 *
 * Threads: no globals; one reader or writer per thread at a time.
 */
#ifndef FMT_MT940_H
#define FMT_MT940_H

#include <stdio.h>

#include "h2h_err.h"
#include "model.h"

/* Caps of the reader. */
#define FMT_MT940_MAX_LINE (64 * 1024)
#define FMT_MT940_MAX_STMT (4 * 1024 * 1024)

/* Read src, emitting events into sink.  0 when the file was read (diag may
 * hold problems), negative on a fatal error (err filled). */
int fmt_mt940_read(const struct fmt_src *src, const struct fmt_stmt_sink *sink,
                   struct fmt_diag *diag, struct h2h_err *err);

struct fmt_mt940_opts {
    int mt;              /* 940 or 942 (0 = 940) */
    const char *charset; /* NULL = SWIFT X set, transliterated; see above */
    int envelope;        /* wrap each statement in {1:}{2:}{4: -} blocks */
};

struct fmt_mt940_writer;

/* New writer printing to out; opts may be NULL (MT940, X set, no envelope).
 * NULL on ENOMEM or bad opts (err filled). */
struct fmt_mt940_writer *fmt_mt940_writer_new(FILE *out,
                                              const struct fmt_mt940_opts *opts,
                                              struct h2h_err *err);
/* The sink that feeds w (ctx is w). */
struct fmt_stmt_sink fmt_mt940_writer_sink(struct fmt_mt940_writer *w);
/* Flush out; 0 or the first error of any callback (err filled). */
int fmt_mt940_writer_finish(struct fmt_mt940_writer *w, struct h2h_err *err);
void fmt_mt940_writer_free(struct fmt_mt940_writer *w);

#endif
