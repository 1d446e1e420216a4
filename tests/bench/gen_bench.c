/*
 * gen_bench.c - deterministic generator of large payment and statement
 * files for the format-conversion benchmark (bench_convert.py).
 *
 *   gen_bench pain001 N [-s SEED] [-d YYYY-MM-DD] [-o OUT]
 *   gen_bench camt053 N [-s SEED] [-d YYYY-MM-DD] [-o OUT]
 *
 * pain001: a pain.001.001.03 with N credit transfers in several PmtInf
 * groups (about one per 50,000 transactions, at least 3 when N allows),
 * NbOfTxs and CtrlSum right at group and PmtInf level, ReqdExctnDt the
 * date given (default: today in UTC, so h2hd's "not in the past" rule
 * passes), and a pool of creditors in six SEPA countries with IBANs whose
 * national and mod-97 check digits are right, matching BICs, EUR amounts,
 * unique InstrId / EndToEndId, and structured remittance (ISO 11649 RF
 * creditor reference or a referred invoice) on a third of them.
 *
 * camt053: a camt.053.001.02 with N entries over several statements (one
 * per 25,000 entries, at most 16), credits and debits, each with one
 * TxDtls (EndToEndId, counterparty, its account and bank, remittance), a
 * TxsSummry, and opening and closing booked balances that add up.
 *
 * Determinism: every value of transaction i is a hash of (seed, i, field)
 * rather than the next draw of a sequential generator, so totals that the
 * document declares before its transactions come from a cheap pre-pass
 * over the amounts only, and the output is byte-identical for the same
 * kind, N, seed and date.  The date is the only input from the clock;
 * pass -d to pin it.
 *
 * Output is written as it is generated (a few KiB of state whatever N),
 * pretty-printed like an ERP export, and valid against the official XSDs
 * (nlsepa__pain.001.001.03.xsd, genkgo__camt.053.001.02.xsd).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t g_seed = 1;
static FILE *out;

/* ---- hashing ------------------------------------------------------------ */

static uint64_t mix(uint64_t z)
{
    /* splitmix64 finaliser: every input bit reaches every output bit */
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The value of field f of item i (a transaction, creditor, group, ...). */
static uint64_t rnd(uint64_t i, uint64_t f)
{
    return mix(g_seed ^ mix(i * 0x100000001b3ULL + f));
}

/* ---- dates -------------------------------------------------------------- */

/* Days since 1970-01-01 <-> civil date (proleptic Gregorian); the
 * algorithms of H. Hinnant's "chrono-Compatible Low-Level Date Algorithms". */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, char buf[11])
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp + (mp < 10 ? 3 : -9);
    snprintf(buf, 11, "%04ld-%02ld-%02ld", y + (m <= 2), m, d);
}

/* ---- amounts ------------------------------------------------------------ */

/* A payment amount in euro cents: mostly hundreds of euros, a long tail up
 * to a million, as a supplier run looks. */
static int64_t amount(uint64_t i, uint64_t salt)
{
    uint64_t r = rnd(i, salt);
    unsigned b = (unsigned)(r % 100);
    r >>= 8;
    if (b < 60)
        return 1000 + (int64_t)(r % 99000); /* 10.00 .. 999.99 */
    if (b < 90)
        return 100000 + (int64_t)(r % 900000);
    if (b < 99)
        return 1000000 + (int64_t)(r % 9000000);
    return 10000000 + (int64_t)(r % 90000000);
}

/* Cents as "123.45"; a negative value as its absolute amount (the
 * documents carry the sign in CdtDbtInd). */
static const char *eur(int64_t minor, char buf[32])
{
    uint64_t a = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    snprintf(buf, 32, "%" PRIu64 ".%02u", a / 100, (unsigned)(a % 100));
    return buf;
}

/* ---- identifiers -------------------------------------------------------- */

/* Remainder mod 97 of a string read as ISO 13616 digits (A = 10 ...). */
static unsigned mod97(const char *s)
{
    unsigned r = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            r = (r * 10 + (unsigned)(*s - '0')) % 97;
        else
            r = (r * 100 + (unsigned)(*s - 'A' + 10)) % 97;
    }
    return r;
}

/* IBAN of country cc with national account number bban. */
static void iban(char *dst, size_t sz, const char *cc, const char *bban)
{
    char t[48];
    snprintf(t, sizeof(t), "%s%s00", bban, cc);
    snprintf(dst, sz, "%s%02u%s", cc, 98 - mod97(t), bban);
}

/* n decimal digits of v, zero padded, into dst (n + 1 bytes). */
static void digits(char *dst, int n, uint64_t v)
{
    for (int k = n - 1; k >= 0; k--, v /= 10)
        dst[k] = (char)('0' + v % 10);
    dst[n] = '\0';
}

/* Remainder mod m of a decimal digit string (national check digits). */
static unsigned long dmod(const char *s, unsigned long m)
{
    unsigned long r = 0;
    for (; *s; s++)
        r = (r * 10 + (unsigned long)(*s - '0')) % m;
    return r;
}

/* Spanish "dígitos de control" over 10 digits. */
static unsigned es_dc(const char *ten)
{
    static const unsigned w[10] = {1, 2, 4, 8, 5, 10, 9, 7, 3, 6};
    unsigned s = 0;
    for (int k = 0; k < 10; k++)
        s += w[k] * (unsigned)(ten[k] - '0');
    unsigned d = 11 - s % 11;
    return d == 11 ? 0 : d == 10 ? 1 : d;
}

struct bank {
    const char *cc;
    const char *bic;
    const char *code; /* national bank code as it sits in the BBAN */
    const char *town;
    const char *postcode;
};

static const struct bank banks[] = {
    {"DE", "COBADEFFXXX", "37040044", "Frankfurt am Main", "60311"},
    {"DE", "DEUTDEFFXXX", "50070010", "Frankfurt am Main", "60325"},
    {"DE", "BYLADEMMXXX", "70020270", "M\xc3\xbcnchen", "80331"},
    {"NL", "INGBNL2A", "INGB", "Amsterdam", "1012 AB"},
    {"NL", "ABNANL2A", "ABNA", "Rotterdam", "3011 AD"},
    {"FR", "BNPAFRPPXXX", "30004", "Paris", "75009"},
    {"FR", "SOGEFRPP", "30003", "Lyon", "69002"},
    {"AT", "BKAUATWW", "12000", "Wien", "1010"},
    {"BE", "GEBABEBB", "001", "Bruxelles", "1000"},
    {"ES", "CAIXESBBXXX", "2100", "Barcelona", "08001"},
};
#define NBANKS (sizeof(banks) / sizeof(banks[0]))

/* A valid IBAN at bank b for account number v: the national check digits
 * (French RIB key, Belgian mod 97, Spanish DC) are right too, not only
 * the ISO 13616 pair, as a strict bank would check. */
static void make_iban(char *dst, size_t sz, const struct bank *b, uint64_t v)
{
    char bban[40], acc[24], t[40];
    if (!strcmp(b->cc, "DE")) { /* BLZ 8 + account 10 */
        digits(acc, 10, v);
        snprintf(bban, sizeof(bban), "%s%s", b->code, acc);
    } else if (!strcmp(b->cc, "NL")) { /* bank 4 letters + 10 digits */
        digits(acc, 10, v);
        snprintf(bban, sizeof(bban), "%s%s", b->code, acc);
    } else if (!strcmp(b->cc, "FR")) { /* bank 5, branch 5, acc 11, key 2 */
        char br[8];
        digits(br, 5, v % 99991);
        digits(acc, 11, v / 7);
        snprintf(t, sizeof(t), "%s%s%s", b->code, br, acc);
        unsigned long key = 97 - (89UL * dmod(b->code, 97) +
                                  15UL * dmod(br, 97) + 3UL * dmod(acc, 97)) %
                                     97;
        snprintf(bban, sizeof(bban), "%s%02lu", t, key);
    } else if (!strcmp(b->cc, "AT")) { /* bank 5 + account 11 */
        digits(acc, 11, v);
        snprintf(bban, sizeof(bban), "%s%s", b->code, acc);
    } else if (!strcmp(b->cc, "BE")) { /* bank 3, acc 7, check 2 */
        digits(acc, 7, v);
        snprintf(t, sizeof(t), "%s%s", b->code, acc);
        unsigned long c = dmod(t, 97);
        snprintf(bban, sizeof(bban), "%s%02lu", t, c ? c : 97);
    } else { /* ES: bank 4, branch 4, DC 2, account 10 */
        char br[8];
        digits(br, 4, v % 9973);
        digits(acc, 10, v);
        snprintf(t, sizeof(t), "00%s%s", b->code, br);
        snprintf(bban, sizeof(bban), "%s%s%u%u%s", b->code, br, es_dc(t),
                 es_dc(acc), acc);
    }
    iban(dst, sz, b->cc, bban);
}

/* ISO 11649 creditor reference "RFkk" + ref. */
static void rf_ref(char *dst, size_t sz, const char *ref)
{
    char t[40];
    snprintf(t, sizeof(t), "%sRF00", ref);
    snprintf(dst, sz, "RF%02u%s", 98 - mod97(t), ref);
}

/* ---- parties ------------------------------------------------------------ */

/* Names are XML-escaped already: the tables hold what goes on the wire. */
static const char *surnames[] = {
    "M\xc3\xbcller",
    "Schmidt",
    "Janssen",
    "de Vries",
    "Dubois",
    "Lef\xc3\xa8vre",
    "Gruber",
    "Peeters",
    "Garc\xc3\xad"
    "a",
    "Mart\xc3\xadnez",
    "Weber",
    "Bakker",
    "Moreau",
    "Huber",
    "Maes",
    "L\xc3\xb3pez",
    "Wagner",
    "Visser",
    "Laurent",
    "Fern\xc3\xa1ndez",
};
static const char *trades[] = {
    "Maschinenbau", "Logistics",  "Elektro",       "Verpakkingen",
    "Transports",   "Industrie",  "Software",      "Bouw",
    "Metallwaren",  "Consulting", "Chemicals",     "Food Service",
    "Druckerei",    "Facility",   "Office Supply", "Textil",
};
static const char *forms[] = {
    "GmbH", "B.V.", "SARL", "AG",           "NV",
    "S.L.", "KG",   "SA",   "&amp; Co. KG", "&amp; S\xc3\xb6hne GmbH",
};
static const char *streets[] = {
    "Hauptstrasse", "Kerkstraat", "Rue de la Paix", "Ringstrasse",
    "Rue Neuve",    "Gran Via",   "Bahnhofstrasse", "Damrak",
};

#define NCREDITORS 20000 /* suppliers / customers a treasury pays or sees */

struct party {
    const struct bank *bank;
    char iban[40];
    char name[160];
    char street[64];
    unsigned bldg;
};

static void party(struct party *p, uint64_t c)
{
    p->bank = &banks[rnd(c, 101) % NBANKS];
    make_iban(p->iban, sizeof(p->iban), p->bank, rnd(c, 102) % 10000000000ULL);
    snprintf(p->name, sizeof(p->name), "%s %s %s",
             surnames[rnd(c, 103) % (sizeof(surnames) / sizeof(*surnames))],
             trades[rnd(c, 104) % (sizeof(trades) / sizeof(*trades))],
             forms[rnd(c, 105) % (sizeof(forms) / sizeof(*forms))]);
    snprintf(p->street, sizeof(p->street), "%s",
             streets[rnd(c, 106) % (sizeof(streets) / sizeof(*streets))]);
    p->bldg = 1 + (unsigned)(rnd(c, 107) % 250);
}

static uint64_t creditor_of(uint64_t i, uint64_t salt)
{
    /* a few big suppliers get most of the payments, as in real runs */
    uint64_t r = rnd(i, salt);
    return (r & 3) ? (r >> 8) % 200 : (r >> 8) % NCREDITORS;
}

/* ---- pain.001.001.03 ---------------------------------------------------- */

static void ind(int n)
{
    static const char sp[] = "                                        ";
    fwrite(sp, 1, (size_t)(2 * n), out);
}

/* <tag>value</tag> at indentation n. */
static void leaf(int n, const char *tag, const char *v)
{
    ind(n);
    fprintf(out, "<%s>%s</%s>\n", tag, v, tag);
}

static void open_(int n, const char *tag)
{
    ind(n);
    fprintf(out, "<%s>\n", tag);
}

static void close_(int n, const char *tag)
{
    ind(n);
    fprintf(out, "</%s>\n", tag);
}

/* <a><b>v</b></a> on one line, for the deep one-value wrappers. */
static void wrap(int n, const char *a, const char *b, const char *v)
{
    ind(n);
    fprintf(out, "<%s><%s>%s</%s></%s>\n", a, b, v, b, a);
}

static void fin_instn(int n, const char *tag, const char *bic)
{
    ind(n);
    fprintf(out, "<%s><FinInstnId><BIC>%s</BIC></FinInstnId></%s>\n", tag, bic,
            tag);
}

static void acct_iban(int n, const char *tag, const char *ib, const char *ccy)
{
    open_(n, tag);
    wrap(n + 1, "Id", "IBAN", ib);
    if (ccy)
        leaf(n + 1, "Ccy", ccy);
    close_(n, tag);
}

/* Remittance of transaction i: a third structured. */
static void remittance(int n, uint64_t i, uint64_t salt, const char *date)
{
    uint64_t r = rnd(i, salt);
    char b[64], ref[32];
    open_(n, "RmtInf");
    switch (r % 6) {
    case 0: /* ISO 11649 creditor reference */
        snprintf(ref, sizeof(ref), "%" PRIu64,
                 (uint64_t)((r >> 8) % 1000000000000ULL));
        rf_ref(b, sizeof(b), ref);
        open_(n + 1, "Strd");
        open_(n + 2, "CdtrRefInf");
        open_(n + 3, "Tp");
        wrap(n + 4, "CdOrPrtry", "Cd", "SCOR");
        leaf(n + 4, "Issr", "ISO");
        close_(n + 3, "Tp");
        leaf(n + 3, "Ref", b);
        close_(n + 2, "CdtrRefInf");
        close_(n + 1, "Strd");
        break;
    case 1: /* a referred invoice */
        snprintf(b, sizeof(b), "INV-%.4s-%06" PRIu64, date, (r >> 8) % 1000000);
        open_(n + 1, "Strd");
        open_(n + 2, "RfrdDocInf");
        open_(n + 3, "Tp");
        wrap(n + 4, "CdOrPrtry", "Cd", "CINV");
        close_(n + 3, "Tp");
        leaf(n + 3, "Nb", b);
        leaf(n + 3, "RltdDt", date);
        close_(n + 2, "RfrdDocInf");
        close_(n + 1, "Strd");
        break;
    default:
        snprintf(b, sizeof(b),
                 "Invoice %06" PRIu64 " customer %05" PRIu64
                 " order %07" PRIu64,
                 (r >> 8) % 1000000, (r >> 28) % 100000, (r >> 40) % 10000000);
        leaf(n + 1, "Ustrd", b);
    }
    close_(n, "RmtInf");
}

struct split {
    size_t n;      /* parts */
    size_t *start; /* n + 1 offsets */
};

static int split(struct split *s, size_t total, size_t parts)
{
    s->n = parts;
    s->start = calloc(parts + 1, sizeof(size_t));
    if (!s->start)
        return -1;
    for (size_t k = 0; k <= parts; k++)
        s->start[k] = total * k / parts;
    return 0;
}

static int gen_pain001(size_t n, const char *date)
{
    size_t groups = (n + 49999) / 50000;
    if (groups < 3)
        groups = n < 3 ? 1 : 3;
    struct split sp;
    int64_t *sum = calloc(groups, sizeof(int64_t));
    if (!sum || split(&sp, n, groups) < 0) {
        free(sum);
        return -1;
    }
    int64_t total = 0;
    for (size_t g = 0; g < groups; g++) {
        for (size_t i = sp.start[g]; i < sp.start[g + 1]; i++)
            sum[g] += amount(i, 1);
        total += sum[g];
    }

    char a[32], b[96], t[40];
    unsigned sid = (unsigned)(g_seed & 0xffffffffu);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\" "
          "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n",
          out);
    open_(1, "CstmrCdtTrfInitn");
    open_(2, "GrpHdr");
    snprintf(b, sizeof(b), "BENCH-P-%08X-%zu", sid, n);
    leaf(3, "MsgId", b);
    snprintf(t, sizeof(t), "%sT07:30:00", date);
    leaf(3, "CreDtTm", t);
    snprintf(b, sizeof(b), "%zu", n);
    leaf(3, "NbOfTxs", b);
    leaf(3, "CtrlSum", eur(total, a));
    open_(3, "InitgPty");
    leaf(4, "Nm", "Acme Treasury Services GmbH");
    open_(4, "Id");
    open_(5, "OrgId");
    open_(6, "Othr");
    leaf(7, "Id", "DE98ZZZ09999999999");
    wrap(7, "SchmeNm", "Cd", "CUST");
    close_(6, "Othr");
    close_(5, "OrgId");
    close_(4, "Id");
    close_(3, "InitgPty");
    close_(2, "GrpHdr");

    for (size_t g = 0; g < groups; g++) {
        char dib[40];
        make_iban(dib, sizeof(dib), &banks[0], 400000000ULL + g);
        open_(2, "PmtInf");
        snprintf(b, sizeof(b), "BENCH-PMT-%08X-%zu", sid, g + 1);
        leaf(3, "PmtInfId", b);
        leaf(3, "PmtMtd", "TRF");
        leaf(3, "BtchBookg", "true");
        snprintf(b, sizeof(b), "%zu", sp.start[g + 1] - sp.start[g]);
        leaf(3, "NbOfTxs", b);
        leaf(3, "CtrlSum", eur(sum[g], a));
        open_(3, "PmtTpInf");
        leaf(4, "InstrPrty", "NORM");
        wrap(4, "SvcLvl", "Cd", "SEPA");
        wrap(4, "CtgyPurp", "Cd", g % 4 == 3 ? "SALA" : "SUPP");
        close_(3, "PmtTpInf");
        leaf(3, "ReqdExctnDt", date);
        open_(3, "Dbtr");
        snprintf(b, sizeof(b), "Acme Europe GmbH Division %zu", g + 1);
        leaf(4, "Nm", b);
        open_(4, "PstlAdr");
        leaf(5, "StrtNm", "Mainzer Landstrasse");
        leaf(5, "BldgNb", "50");
        leaf(5, "PstCd", "60325");
        leaf(5, "TwnNm", "Frankfurt am Main");
        leaf(5, "Ctry", "DE");
        close_(4, "PstlAdr");
        close_(3, "Dbtr");
        acct_iban(3, "DbtrAcct", dib, "EUR");
        fin_instn(3, "DbtrAgt", banks[0].bic);
        leaf(3, "ChrgBr", "SLEV");

        for (size_t i = sp.start[g]; i < sp.start[g + 1]; i++) {
            struct party p;
            party(&p, creditor_of(i, 2));
            open_(3, "CdtTrfTxInf");
            open_(4, "PmtId");
            snprintf(b, sizeof(b), "INSTR-%09zu", i + 1);
            leaf(5, "InstrId", b);
            snprintf(b, sizeof(b), "E2E-%08X-%09zu", sid, i + 1);
            leaf(5, "EndToEndId", b);
            close_(4, "PmtId");
            ind(4);
            fprintf(out, "<Amt><InstdAmt Ccy=\"EUR\">%s</InstdAmt></Amt>\n",
                    eur(amount(i, 1), a));
            fin_instn(4, "CdtrAgt", p.bank->bic);
            open_(4, "Cdtr");
            leaf(5, "Nm", p.name);
            open_(5, "PstlAdr");
            leaf(6, "Ctry", p.bank->cc);
            snprintf(b, sizeof(b), "%s %u", p.street, p.bldg);
            leaf(6, "AdrLine", b);
            snprintf(b, sizeof(b), "%s %s", p.bank->postcode, p.bank->town);
            leaf(6, "AdrLine", b);
            close_(5, "PstlAdr");
            close_(4, "Cdtr");
            acct_iban(4, "CdtrAcct", p.iban, NULL);
            if (rnd(i, 3) % 4 == 0)
                wrap(4, "Purp", "Cd", "GDDS");
            remittance(4, i, 4, date);
            close_(3, "CdtTrfTxInf");
        }
        close_(2, "PmtInf");
    }
    close_(1, "CstmrCdtTrfInitn");
    fputs("</Document>\n", out);
    free(sum);
    free(sp.start);
    return 0;
}

/* ---- camt.053.001.02 ---------------------------------------------------- */

static int is_credit(uint64_t j)
{
    return rnd(j, 11) % 10 < 6;
}

static void balance(int n, const char *code, int64_t v, const char *date)
{
    char a[32];
    open_(n, "Bal");
    open_(n + 1, "Tp");
    wrap(n + 2, "CdOrPrtry", "Cd", code);
    close_(n + 1, "Tp");
    ind(n + 1);
    fprintf(out, "<Amt Ccy=\"EUR\">%s</Amt>\n", eur(v, a));
    leaf(n + 1, "CdtDbtInd", v < 0 ? "DBIT" : "CRDT");
    wrap(n + 1, "Dt", "Dt", date);
    close_(n, "Bal");
}

static void entry(int n, uint64_t j, unsigned sid, const char *date)
{
    char a[32], b[96];
    int cr = is_credit(j);
    int64_t amt = amount(j, 12);
    struct party p;
    party(&p, creditor_of(j, 13));
    eur(amt, a);

    open_(n, "Ntry");
    snprintf(b, sizeof(b), "%09" PRIu64, j + 1);
    leaf(n + 1, "NtryRef", b);
    ind(n + 1);
    fprintf(out, "<Amt Ccy=\"EUR\">%s</Amt>\n", a);
    leaf(n + 1, "CdtDbtInd", cr ? "CRDT" : "DBIT");
    leaf(n + 1, "Sts", "BOOK");
    wrap(n + 1, "BookgDt", "Dt", date);
    wrap(n + 1, "ValDt", "Dt", date);
    /* 16 characters, so it survives as the MT940 :61: bank reference */
    snprintf(b, sizeof(b), "BK%04X%010" PRIu64, sid & 0xffffu, j + 1);
    leaf(n + 1, "AcctSvcrRef", b);
    open_(n + 1, "BkTxCd");
    open_(n + 2, "Domn");
    leaf(n + 3, "Cd", "PMNT");
    open_(n + 3, "Fmly");
    leaf(n + 4, "Cd", cr ? "RCDT" : "ICDT");
    leaf(n + 4, "SubFmlyCd", "ESCT");
    close_(n + 3, "Fmly");
    close_(n + 2, "Domn");
    open_(n + 2, "Prtry");
    leaf(n + 3, "Cd", cr ? "NTRF+166" : "NTRF+116");
    leaf(n + 3, "Issr", "DK");
    close_(n + 2, "Prtry");
    close_(n + 1, "BkTxCd");

    open_(n + 1, "NtryDtls");
    open_(n + 2, "TxDtls");
    open_(n + 3, "Refs");
    leaf(n + 4, "AcctSvcrRef", b);
    if (rnd(j, 14) % 20 == 0)
        leaf(n + 4, "EndToEndId", "NOTPROVIDED");
    else {
        snprintf(b, sizeof(b), "%s-%08X-%09" PRIu64, cr ? "RCV" : "E2E", sid,
                 j + 1);
        leaf(n + 4, "EndToEndId", b);
    }
    snprintf(b, sizeof(b), "TX%010" PRIu64,
             (uint64_t)(rnd(j, 15) % 10000000000ULL));
    leaf(n + 4, "TxId", b);
    close_(n + 3, "Refs");
    open_(n + 3, "AmtDtls");
    open_(n + 4, "TxAmt");
    ind(n + 5);
    fprintf(out, "<Amt Ccy=\"EUR\">%s</Amt>\n", a);
    close_(n + 4, "TxAmt");
    close_(n + 3, "AmtDtls");
    /* the counterparty is the payer of a credit, the payee of a debit */
    open_(n + 3, "RltdPties");
    open_(n + 4, cr ? "Dbtr" : "Cdtr");
    leaf(n + 5, "Nm", p.name);
    open_(n + 5, "PstlAdr");
    leaf(n + 6, "Ctry", p.bank->cc);
    snprintf(b, sizeof(b), "%s %u", p.street, p.bldg);
    leaf(n + 6, "AdrLine", b);
    close_(n + 5, "PstlAdr");
    close_(n + 4, cr ? "Dbtr" : "Cdtr");
    acct_iban(n + 4, cr ? "DbtrAcct" : "CdtrAcct", p.iban, NULL);
    close_(n + 3, "RltdPties");
    open_(n + 3, "RltdAgts");
    fin_instn(n + 4, cr ? "DbtrAgt" : "CdtrAgt", p.bank->bic);
    close_(n + 3, "RltdAgts");
    remittance(n + 3, j, 16, date);
    close_(n + 2, "TxDtls");
    close_(n + 1, "NtryDtls");
    leaf(n + 1, "AddtlNtryInf",
         cr ? "SEPA Credit Transfer received" : "SEPA Credit Transfer sent");
    close_(n, "Ntry");
}

static int gen_camt053(size_t n, const char *date)
{
    size_t stmts = n / 25000;
    if (stmts < 1)
        stmts = 1;
    if (stmts > 16)
        stmts = 16;
    struct split sp;
    if (split(&sp, n, stmts) < 0)
        return -1;
    unsigned sid = (unsigned)(g_seed & 0xffffffffu);
    char a[32], b[96], t[40];

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\" "
          "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n",
          out);
    open_(1, "BkToCstmrStmt");
    open_(2, "GrpHdr");
    snprintf(b, sizeof(b), "BENCH-C-%08X-%zu", sid, n);
    leaf(3, "MsgId", b);
    snprintf(t, sizeof(t), "%sT06:00:00", date);
    leaf(3, "CreDtTm", t);
    close_(2, "GrpHdr");

    for (size_t s = 0; s < stmts; s++) {
        /* pre-pass: the balances and summary come before the entries */
        int64_t cr_sum = 0, db_sum = 0;
        size_t cr_n = 0, db_n = 0;
        for (size_t j = sp.start[s]; j < sp.start[s + 1]; j++) {
            if (is_credit(j)) {
                cr_sum += amount(j, 12);
                cr_n++;
            } else {
                db_sum += amount(j, 12);
                db_n++;
            }
        }
        int64_t opening = (int64_t)(rnd(s, 21) % 2000000000ULL) - 200000000;
        int64_t closing = opening + cr_sum - db_sum;
        char ib[40];
        make_iban(ib, sizeof(ib), &banks[0], 400000000ULL + s);

        open_(2, "Stmt");
        /* at most 16 characters: the statement id becomes MT940 :20: */
        snprintf(b, sizeof(b), "STMT%.4s%.2s%.2s-%02zu", date, date + 5,
                 date + 8, s + 1);
        leaf(3, "Id", b);
        snprintf(b, sizeof(b), "%zu", s + 1);
        leaf(3, "ElctrncSeqNb", b);
        leaf(3, "CreDtTm", t);
        open_(3, "FrToDt");
        snprintf(b, sizeof(b), "%sT00:00:00", date);
        leaf(4, "FrDtTm", b);
        snprintf(b, sizeof(b), "%sT23:59:59", date);
        leaf(4, "ToDtTm", b);
        close_(3, "FrToDt");
        open_(3, "Acct");
        wrap(4, "Id", "IBAN", ib);
        leaf(4, "Ccy", "EUR");
        open_(4, "Ownr");
        leaf(5, "Nm", "Acme Europe GmbH");
        close_(4, "Ownr");
        fin_instn(4, "Svcr", banks[0].bic);
        close_(3, "Acct");
        balance(3, "OPBD", opening, date);
        balance(3, "CLBD", closing, date);
        open_(3, "TxsSummry");
        open_(4, "TtlNtries");
        snprintf(b, sizeof(b), "%zu", cr_n + db_n);
        leaf(5, "NbOfNtries", b);
        leaf(5, "Sum", eur(cr_sum + db_sum, a));
        leaf(5, "TtlNetNtryAmt", eur(cr_sum - db_sum, a));
        leaf(5, "CdtDbtInd", cr_sum >= db_sum ? "CRDT" : "DBIT");
        close_(4, "TtlNtries");
        open_(4, "TtlCdtNtries");
        snprintf(b, sizeof(b), "%zu", cr_n);
        leaf(5, "NbOfNtries", b);
        leaf(5, "Sum", eur(cr_sum, a));
        close_(4, "TtlCdtNtries");
        open_(4, "TtlDbtNtries");
        snprintf(b, sizeof(b), "%zu", db_n);
        leaf(5, "NbOfNtries", b);
        leaf(5, "Sum", eur(db_sum, a));
        close_(4, "TtlDbtNtries");
        close_(3, "TxsSummry");
        for (size_t j = sp.start[s]; j < sp.start[s + 1]; j++)
            entry(3, j, sid, date);
        close_(2, "Stmt");
    }
    close_(1, "BkToCstmrStmt");
    fputs("</Document>\n", out);
    free(sp.start);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static int usage(void)
{
    fputs("usage: gen_bench pain001|camt053 N [-s SEED] [-d YYYY-MM-DD] "
          "[-o OUT]\n"
          "  N transactions (pain001) or entries (camt053); SEED (1) and the\n"
          "  date (today, UTC) fix every byte; OUT defaults to stdout.\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *kind = argv[1];
    if (strcmp(kind, "pain001") && strcmp(kind, "camt053"))
        return usage();
    char *end;
    errno = 0;
    unsigned long long nn = strtoull(argv[2], &end, 10);
    if (errno || *end || nn == 0 || argv[2][0] == '-')
        return usage();
    const char *path = NULL, *date_arg = NULL;
    for (int k = 3; k < argc; k++) {
        if (k + 1 >= argc)
            return usage();
        if (!strcmp(argv[k], "-s")) {
            errno = 0;
            g_seed = strtoull(argv[++k], &end, 0);
            if (errno || *end)
                return usage();
        } else if (!strcmp(argv[k], "-d"))
            date_arg = argv[++k];
        else if (!strcmp(argv[k], "-o"))
            path = argv[++k];
        else
            return usage();
    }

    char date[11];
    if (date_arg) {
        int y, m, d;
        char extra;
        if (strlen(date_arg) != 10 ||
            sscanf(date_arg, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 ||
            m < 1 || m > 12 || d < 1 || d > 31)
            return usage();
        /* normalise through days so 2024-02-30 is refused, not shifted */
        civil_from_days(days_from_civil(y, m, d), date);
        if (strcmp(date, date_arg)) {
            fprintf(stderr, "gen_bench: %s is not a calendar date\n", date_arg);
            return 2;
        }
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    }

    out = path ? fopen(path, "wb") : stdout;
    if (!out) {
        fprintf(stderr, "gen_bench: %s: %s\n", path, strerror(errno));
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(out, buf, _IOFBF, sizeof(buf));

    int rc = !strcmp(kind, "pain001") ? gen_pain001((size_t)nn, date)
                                      : gen_camt053((size_t)nn, date);
    if (rc < 0) {
        fputs("gen_bench: out of memory\n", stderr);
        return 1;
    }
    if (fflush(out) != 0 || ferror(out) || (path && fclose(out) != 0)) {
        fprintf(stderr, "gen_bench: write error: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
