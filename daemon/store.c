/*
 * store.c - SQLite back end of the durable state store; see store.h.
 *
 * Durability: WAL with synchronous=FULL means every COMMIT fsyncs the
 * write-ahead log before returning, so "committed" means "on disk".  The
 * database file is created 0600 (SQLite gives the -wal and -shm files the
 * same mode) and its directory is fsync'd once after creation so the new
 * name itself survives a crash.
 *
 * Transactions: each mutating call runs inside op_begin()/op_end().  On its
 * own that is BEGIN IMMEDIATE ... COMMIT: IMMEDIATE takes the write lock
 * up front, so the read-check-write of a compare-and-set cannot interleave
 * with another writer (h2hctl tools, a second daemon by mistake).  Inside
 * a group transaction it is a SAVEPOINT, so a failed call undoes only its
 * own work.
 *
 * States are stored by name, not by enum value, so the database stays
 * readable with the sqlite3 shell and the enum may be reordered.
 *
 * Reads that call back into the caller (list, history) materialise all
 * rows first and reset the statement: a callback may then call any store
 * function, including ones that reuse the same cached statement or modify
 * the rows being listed.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bill.h"
#include "ident.h"
#include "scf.h"

/* How long a call waits for another connection's lock before H2H_EDB.
 * Only foreign writers (maintenance tools) contend; the daemon itself
 * holds one connection. */
#define STORE_BUSY_TIMEOUT_MS 5000

/* Problems quoted in store_check()'s message. */
#define CHECK_QUOTE_MAX 5

enum stmt_id {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_SEQ_GET,
    Q_SEQ_SET,
    Q_MSG_BY_ID,
    Q_MSG_BY_HASH,
    Q_ID_BY_HASH,
    Q_MSG_STATE,
    Q_MSG_INSERT,
    Q_MSG_UPDATE,
    Q_EVENT_INSERT,
    Q_COUNTS_ALL,
    Q_COUNTS_BANK,
    Q_HISTORY,
    Q_DL_INSERT,
    Q_DL_DELIVER,
    Q_DL_GET,
    Q_ID_UPSERT,
    Q_ID_SEEN,
    Q_ID_OWNER,
    Q_COUNTER_NEXT,
    Q_TX_PUT,
    Q_TX_LIST,
    Q_JOB_GET,
    Q_JOB_MARK,
    Q_JOB_START,
    Q_JOB_END,
    Q_CUTOFF_GET,
    Q_CUTOFF_PUT,
    Q_LEDGER_ADD,
    Q_LEDGER_ALL,
    Q_LEDGER_BANK,
    Q_RECON_COUNTER,
    Q_RECON_INSERT,
    Q_RECON_END,
    Q_RECON_RESULT,
    Q_RECON_BY_ID,
    Q_RECON_LATEST,
    Q_RECON_INTERRUPT,
    Q_DRAFT_PUT,
    Q_DRAFT_GET,
    Q_DRAFT_DELETE,
    Q_DRAFT_ALERTED,
    Q_DRAFT_LIST,
    Q_VOUCHER_PUT,
    Q_VOUCHER_GET,
    Q_VOUCHER_LIST,
    Q_FIN_PUT,
    Q_FIN_GET,
    Q_FIN_LIST,
    Q_POOL_GET,
    Q_POOL_PUT,
    Q_POOL_LIST,
    Q__COUNT
};

#define MSG_COLS                                                               \
    "id, channel, bank, kind, orig_name, sha256, size, state, held_from, "     \
    "payload_path, rendered_path, remote_name, business_id, last_error, "      \
    "attempts, next_attempt_ms, created_ms, updated_ms, drop_dev, "            \
    "drop_ino, drop_mtime_ns"

#define LEDGER_COLS                                                            \
    "bank, remote_name, sha256, path, charset, size, received_ms"

#define RECON_COLS                                                             \
    "id, channel, bank, account, from_day, to_day, run_trigger, started_ms, "  \
    "ended_ms, result, error, dir, summary, booked"

#define DRAFT_COLS                                                             \
    "bank, number, sub_from, sub_to, kind, status, amount, ccy, issue_date, "  \
    "maturity_date, holder, pending, updated_ms, last_alert_days, doc"

#define DRAFT_KEY "bank = ?1 AND number = ?2 AND sub_from = ?3 AND sub_to = ?4"

#define VOUCHER_COLS                                                           \
    "bank, id, parent_id, root_id, level, issuer, holder, status, amount, "    \
    "ccy, remaining, issue_date, maturity_date, fin_bank, ours_role, "         \
    "updated_ms, doc"

#define FIN_COLS                                                               \
    "bank, request_id, kind, status, ccy, requested, approved, financed, "     \
    "repaid, loan_ref, value_date, maturity_date, reason, msg_id, "            \
    "updated_ms, doc"

#define POOL_COLS                                                              \
    "bank, pool_id, as_of, ccy, pledged_count, pledged_total, deposit, "       \
    "quota_total, quota_used, quota_available, learnt_ms"

static const char *const stmt_sql[Q__COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SAVEPOINT] = "SAVEPOINT store_op",
    [Q_RELEASE] = "RELEASE store_op",
    [Q_ROLLBACK_TO] = "ROLLBACK TO store_op",
    [Q_SEQ_GET] = "SELECT value FROM meta WHERE key = 'id_seq'",
    [Q_SEQ_SET] = "UPDATE meta SET value = ?1 WHERE key = 'id_seq'",
    [Q_MSG_BY_ID] = "SELECT " MSG_COLS " FROM msg WHERE id = ?1",
    [Q_MSG_BY_HASH] =
        "SELECT " MSG_COLS " FROM msg WHERE channel = ?1 AND sha256 = ?2",
    [Q_ID_BY_HASH] = "SELECT id FROM msg WHERE channel = ?1 AND sha256 = ?2",
    [Q_MSG_STATE] = "SELECT state, held_from FROM msg WHERE id = ?1",
    [Q_MSG_INSERT] =
        "INSERT INTO msg (id, channel, bank, kind, orig_name, sha256, size, "
        "state, payload_path, business_id, attempts, next_attempt_ms, "
        "created_ms, updated_ms, drop_dev, drop_ino, drop_mtime_ns) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'accepted', ?8, ?9, 0, ?10, "
        "?10, ?10, ?11, ?12, ?13)",
    [Q_MSG_UPDATE] = "UPDATE msg SET state = ?2, held_from = ?3, "
                     "rendered_path = coalesce(?4, rendered_path), "
                     "remote_name = coalesce(?5, remote_name), "
                     "business_id = coalesce(?6, business_id), "
                     "last_error = CASE WHEN ?7 IS NULL THEN last_error "
                     "  WHEN ?7 = '' THEN NULL ELSE ?7 END, "
                     "attempts = (CASE WHEN ?8 THEN 0 ELSE attempts END) + ?9, "
                     "next_attempt_ms = CASE WHEN ?10 < 0 THEN next_attempt_ms "
                     "  ELSE ?10 END, "
                     "updated_ms = ?11 "
                     "WHERE id = ?1 AND state = ?12",
    [Q_EVENT_INSERT] =
        "INSERT INTO event (msg_id, at_ms, from_state, to_state, detail, "
        "actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_COUNTS_ALL] = "SELECT state, count(*) FROM msg GROUP BY state",
    [Q_COUNTS_BANK] =
        "SELECT state, count(*) FROM msg WHERE bank = ?1 GROUP BY state",
    [Q_HISTORY] = "SELECT seq, at_ms, from_state, to_state, detail, actor "
                  "FROM event WHERE msg_id = ?1 ORDER BY seq",
    [Q_DL_INSERT] =
        "INSERT INTO download (bank, remote_name, sha256, size, "
        "registered_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    [Q_DL_DELIVER] = "UPDATE download SET delivered_ms = ?5, local_path = ?4 "
                     "WHERE bank = ?1 AND remote_name = ?2 AND sha256 = ?3 "
                     "AND delivered_ms IS NULL",
    [Q_DL_GET] = "SELECT delivered_ms, registered_ms FROM download "
                 "WHERE bank = ?1 AND remote_name = ?2 AND sha256 = ?3",
    [Q_ID_UPSERT] =
        "INSERT INTO seen_id (kind, id, msg_id, at_ms) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (kind, id) DO UPDATE SET msg_id = excluded.msg_id, "
        "at_ms = excluded.at_ms",
    [Q_ID_SEEN] =
        "SELECT 1 FROM seen_id WHERE kind = ?1 AND id = ?2 AND at_ms >= ?3",
    [Q_ID_OWNER] = "SELECT msg_id FROM seen_id WHERE kind = ?1 AND id = ?2 "
                   "AND msg_id IS NOT NULL",
    [Q_COUNTER_NEXT] = "INSERT INTO meta (key, value) VALUES (?1, 1) "
                       "ON CONFLICT (key) DO UPDATE SET value = value + 1 "
                       "RETURNING value",
    [Q_TX_PUT] = "INSERT INTO tx_status (msg_id, pmt_inf_id, end_to_end_id, "
                 "status, reasons, report, at_ms) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                 "ON CONFLICT (msg_id, pmt_inf_id, end_to_end_id) DO UPDATE "
                 "SET status = ?4, reasons = ?5, report = ?6, at_ms = ?7",
    [Q_TX_LIST] = "SELECT pmt_inf_id, end_to_end_id, status, reasons, "
                  "report, at_ms FROM tx_status WHERE msg_id = ?1 "
                  "ORDER BY pmt_inf_id, end_to_end_id",
    [Q_JOB_GET] = "SELECT sched_ms, started_ms, ended_ms, result, error "
                  "FROM sched_job WHERE bank = ?1 AND kind = ?2",
    [Q_JOB_MARK] = "INSERT INTO sched_job (bank, kind, sched_ms) "
                   "VALUES (?1, ?2, ?3) ON CONFLICT (bank, kind) DO UPDATE "
                   "SET sched_ms = ?3",
    [Q_JOB_START] = "INSERT INTO sched_job (bank, kind, sched_ms, started_ms) "
                    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (bank, kind) DO "
                    "UPDATE SET sched_ms = ?3, started_ms = ?4, "
                    "ended_ms = NULL",
    [Q_JOB_END] = "UPDATE sched_job SET ended_ms = ?3, result = ?4, "
                  "error = ?5 WHERE bank = ?1 AND kind = ?2 "
                  "AND started_ms IS NOT NULL",
    [Q_CUTOFF_GET] = "SELECT action, until_ms FROM msg_cutoff "
                     "WHERE msg_id = ?1",
    [Q_CUTOFF_PUT] = "INSERT INTO msg_cutoff (msg_id, action, until_ms, "
                     "at_ms) VALUES (?1, ?2, ?3, ?4) "
                     "ON CONFLICT (msg_id) DO NOTHING",
    [Q_LEDGER_ADD] = "INSERT INTO ledger (bank, remote_name, sha256, path, "
                     "charset, size, received_ms) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                     "ON CONFLICT (bank, sha256) DO NOTHING",
    [Q_LEDGER_ALL] = "SELECT " LEDGER_COLS " FROM ledger ORDER BY seq",
    [Q_LEDGER_BANK] =
        "SELECT " LEDGER_COLS " FROM ledger WHERE bank = ?1 ORDER BY seq",
    /* Like Q_COUNTER_NEXT, but never below ?1 (see recon_hwm). */
    [Q_RECON_COUNTER] = "INSERT INTO meta (key, value) "
                        "VALUES ('ctr:recon', ?1) "
                        "ON CONFLICT (key) DO UPDATE "
                        "SET value = max(value + 1, ?1) RETURNING value",
    [Q_RECON_INSERT] = "INSERT INTO recon_run (id, channel, bank, account, "
                       "from_day, to_day, run_trigger, started_ms, result) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'running')",
    [Q_RECON_END] = "UPDATE recon_run SET result = ?2, error = ?3, dir = ?4, "
                    "summary = ?5, booked = ?6, ended_ms = ?7 "
                    "WHERE id = ?1 AND result = 'running'",
    [Q_RECON_RESULT] = "SELECT result FROM recon_run WHERE id = ?1",
    [Q_RECON_BY_ID] = "SELECT " RECON_COLS " FROM recon_run WHERE id = ?1",
    [Q_RECON_LATEST] =
        "SELECT " RECON_COLS " FROM recon_run ORDER BY seq DESC LIMIT 1",
    [Q_RECON_INTERRUPT] = "UPDATE recon_run SET result = 'interrupted', "
                          "ended_ms = ?1, error = ?2 "
                          "WHERE result = 'running'",
    /* A replaced piece keeps its last_alert_days. */
    [Q_DRAFT_PUT] =
        "INSERT INTO draft (bank, number, sub_from, sub_to, kind, status, "
        "amount, ccy, issue_date, maturity_date, holder, pending, updated_ms, "
        "doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
        "?14) ON CONFLICT (bank, number, sub_from, sub_to) DO UPDATE "
        "SET kind = ?5, status = ?6, amount = ?7, ccy = ?8, issue_date = ?9, "
        "maturity_date = ?10, holder = ?11, pending = ?12, updated_ms = ?13, "
        "doc = ?14",
    [Q_DRAFT_GET] = "SELECT " DRAFT_COLS " FROM draft WHERE " DRAFT_KEY,
    [Q_DRAFT_DELETE] = "DELETE FROM draft WHERE " DRAFT_KEY,
    [Q_DRAFT_ALERTED] =
        "UPDATE draft SET last_alert_days = ?5 WHERE " DRAFT_KEY,
    /* A pool holds hundreds of pieces, not millions: one statement with
     * optional filters (NULL matches everything) rather than one per
     * shape as for messages. */
    [Q_DRAFT_LIST] = "SELECT " DRAFT_COLS " FROM draft "
                     "WHERE (?1 IS NULL OR bank = ?1) "
                     "AND (?2 IS NULL OR status = ?2) "
                     "AND (?3 IS NULL OR maturity_date >= ?3) "
                     "AND (?4 IS NULL OR maturity_date <= ?4) "
                     "AND (?5 IS NULL OR number = ?5) "
                     "ORDER BY maturity_date, number, sub_from, sub_to, bank "
                     "LIMIT ?6",
    [Q_VOUCHER_PUT] =
        "INSERT INTO voucher (bank, id, parent_id, root_id, level, issuer, "
        "holder, status, amount, ccy, remaining, issue_date, maturity_date, "
        "fin_bank, ours_role, updated_ms, doc) VALUES (?1, ?2, ?3, ?4, ?5, "
        "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
        "ON CONFLICT (bank, id) DO UPDATE SET parent_id = ?3, root_id = ?4, "
        "level = ?5, issuer = ?6, holder = ?7, status = ?8, amount = ?9, "
        "ccy = ?10, remaining = ?11, issue_date = ?12, maturity_date = ?13, "
        "fin_bank = ?14, ours_role = ?15, updated_ms = ?16, doc = ?17",
    [Q_VOUCHER_GET] =
        "SELECT " VOUCHER_COLS " FROM voucher WHERE bank = ?1 AND id = ?2",
    [Q_VOUCHER_LIST] = "SELECT " VOUCHER_COLS " FROM voucher "
                       "WHERE (?1 IS NULL OR bank = ?1) "
                       "AND (?2 IS NULL OR status = ?2) "
                       "AND (?3 IS NULL OR holder = ?3) "
                       "AND (?4 IS NULL OR root_id = ?4) "
                       "ORDER BY root_id, level, id, bank",
    [Q_FIN_PUT] =
        "INSERT INTO scf_request (bank, request_id, kind, status, ccy, "
        "requested, approved, financed, repaid, loan_ref, value_date, "
        "maturity_date, reason, msg_id, updated_ms, doc) VALUES (?1, ?2, ?3, "
        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
        "ON CONFLICT (bank, request_id) DO UPDATE SET kind = ?3, "
        "status = ?4, ccy = ?5, requested = ?6, approved = ?7, "
        "financed = ?8, repaid = ?9, loan_ref = ?10, value_date = ?11, "
        "maturity_date = ?12, reason = ?13, msg_id = ?14, updated_ms = ?15, "
        "doc = ?16",
    [Q_FIN_GET] = "SELECT " FIN_COLS " FROM scf_request "
                  "WHERE bank = ?1 AND request_id = ?2",
    [Q_FIN_LIST] = "SELECT " FIN_COLS " FROM scf_request "
                   "WHERE (?1 IS NULL OR bank = ?1) "
                   "AND (?2 IS NULL OR status = ?2) "
                   "ORDER BY updated_ms DESC, bank, request_id",
    [Q_POOL_GET] = "SELECT " POOL_COLS " FROM bill_pool "
                   "WHERE bank = ?1 AND pool_id = ?2",
    [Q_POOL_PUT] =
        "INSERT INTO bill_pool (" POOL_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, "
        "?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (bank, pool_id) DO UPDATE "
        "SET as_of = ?3, ccy = ?4, pledged_count = ?5, pledged_total = ?6, "
        "deposit = ?7, quota_total = ?8, quota_used = ?9, "
        "quota_available = ?10, learnt_ms = ?11",
    [Q_POOL_LIST] = "SELECT " POOL_COLS " FROM bill_pool "
                    "WHERE (?1 IS NULL OR bank = ?1) ORDER BY bank, pool_id",
};

/* store_list() builds its query from which filters are set: one cached
 * statement per combination, so every shape can use an index. */
#define LIST_F_STATE 1u
#define LIST_F_BANK 2u
#define LIST_F_CHANNEL 4u
#define LIST_F_DUE 8u
#define LIST_SHAPES 16

/*
 * Schema migrations: migrations[v] brings version v to v + 1.  Append
 * only; never edit a released step.  Each runs inside the open
 * transaction together with the version update.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 0 -> 1: initial schema. */
    "CREATE TABLE msg ("
    "  id TEXT PRIMARY KEY,"
    "  channel TEXT NOT NULL,"
    "  bank TEXT, kind TEXT, orig_name TEXT,"
    "  sha256 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  held_from TEXT,"
    "  payload_path TEXT, rendered_path TEXT, remote_name TEXT,"
    "  business_id TEXT, last_error TEXT,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  drop_dev INTEGER, drop_ino INTEGER, drop_mtime_ns INTEGER,"
    "  UNIQUE (channel, sha256));"
    "CREATE INDEX msg_state_due ON msg (state, next_attempt_ms);"
    "CREATE INDEX msg_bank_state ON msg (bank, state);"
    "CREATE INDEX msg_due ON msg (next_attempt_ms);"
    "CREATE TABLE event ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  msg_id TEXT NOT NULL REFERENCES msg (id) ON DELETE CASCADE,"
    "  at_ms INTEGER NOT NULL,"
    "  from_state TEXT,"
    "  to_state TEXT NOT NULL,"
    "  detail TEXT,"
    "  actor TEXT NOT NULL);"
    "CREATE INDEX event_msg ON event (msg_id, seq);"
    "CREATE TABLE download ("
    "  bank TEXT NOT NULL, remote_name TEXT NOT NULL, sha256 TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  registered_ms INTEGER NOT NULL,"
    "  delivered_ms INTEGER, local_path TEXT,"
    "  PRIMARY KEY (bank, remote_name, sha256));"
    "CREATE TABLE seen_id ("
    "  kind TEXT NOT NULL, id TEXT NOT NULL,"
    "  msg_id TEXT REFERENCES msg (id) ON DELETE SET NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, id));"
    "CREATE INDEX seen_id_msg ON seen_id (msg_id);"
    "INSERT INTO meta (key, value) VALUES ('id_seq', 0);",
    /* 1 -> 2: what banks reported per payment. */
    "CREATE TABLE tx_status ("
    "  msg_id TEXT NOT NULL REFERENCES msg (id) ON DELETE CASCADE,"
    "  pmt_inf_id TEXT NOT NULL, end_to_end_id TEXT NOT NULL,"
    "  status TEXT NOT NULL, reasons TEXT, report TEXT,"
    "  at_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (msg_id, pmt_inf_id, end_to_end_id));",
    /* 2 -> 3: the scheduler's memory per job, and cut-off decisions.
     * IF NOT EXISTS: a store taken back to an older version by hand (as
     * the tests do) may still hold them. */
    "CREATE TABLE IF NOT EXISTS sched_job ("
    "  bank TEXT NOT NULL, kind TEXT NOT NULL,"
    "  sched_ms INTEGER NOT NULL,"
    "  started_ms INTEGER, ended_ms INTEGER,"
    "  result TEXT, error TEXT,"
    "  PRIMARY KEY (bank, kind));"
    "CREATE TABLE IF NOT EXISTS msg_cutoff ("
    "  msg_id TEXT PRIMARY KEY REFERENCES msg (id) ON DELETE CASCADE,"
    "  action TEXT NOT NULL,"
    "  until_ms INTEGER NOT NULL,"
    "  at_ms INTEGER NOT NULL);",
    /* 3 -> 4: the statement archive (ledger) and reconciliation runs.
     * seq orders the rows (an INTEGER PRIMARY KEY survives VACUUM, a
     * plain rowid does not); from/to and trigger are SQL keywords. */
    "CREATE TABLE IF NOT EXISTS ledger ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  bank TEXT NOT NULL, remote_name TEXT NOT NULL, sha256 TEXT NOT NULL,"
    "  path TEXT NOT NULL, charset TEXT,"
    "  size INTEGER NOT NULL,"
    "  received_ms INTEGER NOT NULL,"
    "  UNIQUE (bank, sha256));"
    "CREATE INDEX IF NOT EXISTS ledger_bank ON ledger (bank, seq);"
    "CREATE TABLE IF NOT EXISTS recon_run ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  channel TEXT NOT NULL, bank TEXT NOT NULL, account TEXT NOT NULL,"
    "  from_day TEXT NOT NULL, to_day TEXT NOT NULL,"
    "  run_trigger TEXT NOT NULL,"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER NOT NULL DEFAULT 0,"
    "  result TEXT NOT NULL,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  dir TEXT NOT NULL DEFAULT '',"
    "  summary TEXT NOT NULL DEFAULT '',"
    "  booked INTEGER NOT NULL DEFAULT 0);",
    /* 4 -> 5: h2hd's view of the bill pool and of supply-chain finance:
     * draft pieces, credit vouchers and financing requests, per bank.
     * Unknown text is '' (not NULL) except msg_id, which is a foreign
     * key. */
    "CREATE TABLE IF NOT EXISTS draft ("
    "  bank TEXT NOT NULL, number TEXT NOT NULL,"
    "  sub_from INTEGER NOT NULL, sub_to INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, status TEXT NOT NULL,"
    "  amount INTEGER NOT NULL, ccy TEXT NOT NULL,"
    "  issue_date TEXT NOT NULL DEFAULT '', maturity_date TEXT NOT NULL,"
    "  holder TEXT NOT NULL DEFAULT '',"
    "  pending INTEGER NOT NULL DEFAULT 0,"
    "  updated_ms INTEGER NOT NULL,"
    "  last_alert_days INTEGER,"
    "  doc TEXT,"
    "  PRIMARY KEY (bank, number, sub_from, sub_to));"
    "CREATE INDEX IF NOT EXISTS draft_maturity ON draft "
    "  (maturity_date, number, sub_from);"
    "CREATE TABLE IF NOT EXISTS voucher ("
    "  bank TEXT NOT NULL, id TEXT NOT NULL,"
    "  parent_id TEXT NOT NULL DEFAULT '', root_id TEXT NOT NULL,"
    "  level INTEGER NOT NULL,"
    "  issuer TEXT NOT NULL, holder TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  amount INTEGER NOT NULL, ccy TEXT NOT NULL,"
    "  remaining INTEGER NOT NULL,"
    "  issue_date TEXT NOT NULL, maturity_date TEXT NOT NULL,"
    "  fin_bank TEXT NOT NULL DEFAULT '',"
    "  ours_role TEXT NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  doc TEXT,"
    "  PRIMARY KEY (bank, id));"
    "CREATE INDEX IF NOT EXISTS voucher_tree ON voucher (root_id, level, id);"
    "CREATE TABLE IF NOT EXISTS scf_request ("
    "  bank TEXT NOT NULL, request_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL, status TEXT NOT NULL, ccy TEXT NOT NULL,"
    "  requested INTEGER NOT NULL DEFAULT 0,"
    "  approved INTEGER NOT NULL DEFAULT 0,"
    "  financed INTEGER NOT NULL DEFAULT 0,"
    "  repaid INTEGER NOT NULL DEFAULT 0,"
    "  loan_ref TEXT NOT NULL DEFAULT '',"
    "  value_date TEXT NOT NULL DEFAULT '',"
    "  maturity_date TEXT NOT NULL DEFAULT '',"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  msg_id TEXT REFERENCES msg (id) ON DELETE SET NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  doc TEXT,"
    "  PRIMARY KEY (bank, request_id));"
    "CREATE INDEX IF NOT EXISTS scf_request_updated ON scf_request "
    "  (updated_ms);"
    "CREATE INDEX IF NOT EXISTS scf_request_msg ON scf_request (msg_id);",
    /* 5 -> 6: the banks' own figures of their bill pools, the latest per
     * pool.  An amount the bank did not give is NULL. */
    "CREATE TABLE IF NOT EXISTS bill_pool ("
    "  bank TEXT NOT NULL, pool_id TEXT NOT NULL,"
    "  as_of TEXT NOT NULL DEFAULT '', ccy TEXT NOT NULL DEFAULT '',"
    "  pledged_count INTEGER NOT NULL,"
    "  pledged_total INTEGER, deposit INTEGER, quota_total INTEGER,"
    "  quota_used INTEGER, quota_available INTEGER,"
    "  learnt_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (bank, pool_id));",
};

struct store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[Q__COUNT];
    sqlite3_stmt *list_stmt[LIST_SHAPES];
    int in_txn;
    /* Highest id sequence handed out by this process: a rolled-back group
     * transaction also rolls back the counter, and the caller may already
     * have used the id (a log line, a file name). */
    int64_t seq_hwm;
    /* The same for reconciliation run numbers (counter "ctr:recon"). */
    int64_t recon_hwm;
};

/* ---- helpers ---------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* UTC yyyymmdd of ms, for ids. */
static void utc_day(int64_t ms, char day[16])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    day[0] = '\0';
    strftime(day, 16, "%Y%m%d", &tm);
}

static int db_err(struct store *s, struct h2h_err *err, const char *what)
{
    return h2h_err_set(err, H2H_EDB, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int exec_sql(struct store *s, const char *sql, struct h2h_err *err,
                    const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = h2h_err_set(err, H2H_EDB, "%s: %s", what,
                             msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* Cached statement, prepared on first use; reset by done(). */
static sqlite3_stmt *stmt(struct store *s, enum stmt_id q, struct h2h_err *err)
{
    if (!s->stmt[q]) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[q], -1,
                               SQLITE_PREPARE_PERSISTENT, &s->stmt[q],
                               NULL) != SQLITE_OK) {
            db_err(s, err, "prepare");
            s->stmt[q] = NULL;
            return NULL;
        }
    }
    return s->stmt[q];
}

static void done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* SQLITE_ROW, SQLITE_DONE, or a negative code with err filled. */
static int step(struct store *s, sqlite3_stmt *st, struct h2h_err *err,
                const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    return db_err(s, err, what);
}

/* Run a statement that returns no rows. */
static int run(struct store *s, enum stmt_id q, struct h2h_err *err,
               const char *what)
{
    sqlite3_stmt *st = stmt(s, q, err);
    if (!st)
        return H2H_EDB;
    int rc = step(s, st, err, what);
    done(st);
    return rc < 0 ? rc : 0;
}

/* Length of s cut to at most max bytes without splitting a UTF-8
 * sequence. */
static int clip_len(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return (int)n;
}

static int bind_str(sqlite3_stmt *st, int i, const char *v)
{
    if (!v)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static int bind_clip(sqlite3_stmt *st, int i, const char *v)
{
    if (!v)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, v, clip_len(v, STORE_TEXT_MAX),
                             SQLITE_TRANSIENT);
}

static int bind_state(sqlite3_stmt *st, int i, enum msg_state v)
{
    if ((unsigned)v >= ST__COUNT)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, state_name(v), -1, SQLITE_STATIC);
}

static int valid_sha256(const char *h, char out[65])
{
    if (!h || strlen(h) != 64)
        return 0;
    for (int i = 0; i < 64; i++) {
        char c = h[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
        out[i] = c;
    }
    out[64] = '\0';
    return 1;
}

static int valid_id(const char *id, struct h2h_err *err)
{
    if (!id || !*id || strlen(id) >= STORE_ID_MAX)
        return h2h_err_set(err, H2H_EINVALID, "bad message id");
    return 0;
}

/* ---- transactions ----------------------------------------------------- */

static int op_begin(struct store *s, struct h2h_err *err)
{
    /* SQLite rolls a whole transaction back by itself after some errors
     * (disk full, I/O).  A SAVEPOINT outside a transaction would start and
     * then commit a new one on its own, silently splitting the group. */
    if (s->in_txn && sqlite3_get_autocommit(s->db))
        return h2h_err_set(err, H2H_EDB,
                           "the group transaction was rolled back by an "
                           "earlier error");
    return run(s, s->in_txn ? Q_SAVEPOINT : Q_BEGIN, err, "begin");
}

/* Finish the operation started by op_begin: keep its work when rc == 0,
 * undo it otherwise.  Returns rc, or the commit failure. */
static int op_end(struct store *s, int rc, struct h2h_err *err)
{
    if (s->in_txn) {
        if (rc != 0)
            run(s, Q_ROLLBACK_TO, NULL, "rollback to savepoint");
        int r = run(s, Q_RELEASE, rc ? NULL : err, "release savepoint");
        return rc ? rc : r;
    }
    if (rc != 0) {
        run(s, Q_ROLLBACK, NULL, "rollback");
        return rc;
    }
    rc = run(s, Q_COMMIT, err, "commit");
    if (rc != 0 && !sqlite3_get_autocommit(s->db))
        run(s, Q_ROLLBACK, NULL, "rollback");
    return rc;
}

int store_txn_begin(struct store *s, struct h2h_err *err)
{
    if (s->in_txn)
        return h2h_err_set(err, H2H_ESTATE, "a transaction is already open");
    int rc = run(s, Q_BEGIN, err, "begin");
    if (rc == 0)
        s->in_txn = 1;
    return rc;
}

int store_txn_commit(struct store *s, struct h2h_err *err)
{
    if (!s->in_txn)
        return h2h_err_set(err, H2H_ESTATE, "no transaction is open");
    s->in_txn = 0;
    int rc = run(s, Q_COMMIT, err, "commit");
    if (rc != 0 && !sqlite3_get_autocommit(s->db))
        run(s, Q_ROLLBACK, NULL, "rollback");
    return rc;
}

void store_txn_rollback(struct store *s)
{
    if (!s || !s->in_txn)
        return;
    s->in_txn = 0;
    if (!sqlite3_get_autocommit(s->db))
        run(s, Q_ROLLBACK, NULL, "rollback");
}

int store_txn_active(const struct store *s)
{
    return s && s->in_txn;
}

/* ---- open / close ----------------------------------------------------- */

static int fsync_parent(const char *path)
{
    char *dup = strdup(path);
    if (!dup)
        return -ENOMEM;
    char *slash = strrchr(dup, '/');
    const char *dir = ".";
    if (slash == dup)
        dir = "/";
    else if (slash) {
        *slash = '\0';
        dir = dup;
    }
    int rc = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    free(dup);
    return rc;
}

static int pragma_text(struct store *s, const char *sql, char *buf,
                       size_t bufsz, struct h2h_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, sql);
    int rc = step(s, st, err, sql);
    buf[0] = '\0';
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(buf, bufsz, "%s", t ? (const char *)t : "");
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

static int migrate(struct store *s, struct h2h_err *err)
{
    int rc = exec_sql(s, "BEGIN IMMEDIATE", err, "begin");
    if (rc)
        return rc;
    rc = exec_sql(s,
                  "CREATE TABLE IF NOT EXISTS meta ("
                  "  key TEXT PRIMARY KEY, value NOT NULL)",
                  err, "create meta");
    if (rc)
        goto out;
    char buf[32];
    rc = pragma_text(s, "SELECT value FROM meta WHERE key = 'schema_version'",
                     buf, sizeof(buf), err);
    if (rc)
        goto out;
    long version = buf[0] ? strtol(buf, NULL, 10) : 0;
    if (version < 0 || version > STORE_SCHEMA_VERSION) {
        rc = h2h_err_set(err, H2H_EDB,
                         "database schema version %ld is not supported by "
                         "this h2hd (knows up to %d)",
                         version, STORE_SCHEMA_VERSION);
        goto out;
    }
    for (long v = version; v < STORE_SCHEMA_VERSION; v++) {
        char what[64];
        snprintf(what, sizeof(what), "schema migration %ld to %ld", v, v + 1);
        rc = exec_sql(s, migrations[v], err, what);
        if (rc)
            goto out;
    }
    if (version != STORE_SCHEMA_VERSION) {
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "INSERT OR REPLACE INTO meta (key, value) "
                 "VALUES ('schema_version', %d)",
                 STORE_SCHEMA_VERSION);
        rc = exec_sql(s, sql, err, "set schema version");
        if (rc)
            goto out;
    }
    rc = exec_sql(s, "COMMIT", err, "commit schema");
out:
    if (rc && !sqlite3_get_autocommit(s->db))
        exec_sql(s, "ROLLBACK", NULL, "rollback");
    return rc;
}

int store_open(const char *path, struct store **out, struct h2h_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return h2h_err_set(err, H2H_EINVALID, "empty store path");
    struct store *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    int rc = 0;
    char buf[32];

    /* Create the file ourselves so it gets 0600 whatever the umask. */
    int created = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        created = 1;
        close(fd);
    } else if (errno != EEXIST) {
        rc = h2h_err_set(err, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }

    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = h2h_err_set(err, H2H_EDB, "%s: %s", path,
                         s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);

    rc = pragma_text(s, "PRAGMA journal_mode = WAL", buf, sizeof(buf), err);
    if (rc)
        goto out;
    if (strcmp(buf, "wal") != 0) {
        rc = h2h_err_set(err, H2H_EDB,
                         "%s: cannot use WAL journal mode (got %s)", path, buf);
        goto out;
    }
    rc = exec_sql(s,
                  "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                  "PRAGMA trusted_schema = OFF;",
                  err, "pragmas");
    if (rc)
        goto out;
    rc = pragma_text(s, "PRAGMA foreign_keys", buf, sizeof(buf), err);
    if (rc)
        goto out;
    if (strcmp(buf, "1") != 0) {
        rc = h2h_err_set(err, H2H_EDB, "sqlite without foreign key support");
        goto out;
    }
    rc = migrate(s, err);
    if (rc) {
        h2h_err_prefix(err, "%s", path);
        goto out;
    }
    if (created && (rc = fsync_parent(path)) != 0) {
        h2h_err_set(err, rc, "%s: fsync of directory: %s", path, strerror(-rc));
        goto out;
    }
    *out = s;
    return 0;
out:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    store_txn_rollback(s);
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (int i = 0; i < LIST_SHAPES; i++)
        sqlite3_finalize(s->list_stmt[i]);
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

/* ---- messages --------------------------------------------------------- */

void store_msg_release(struct store_msg *m)
{
    if (!m)
        return;
    free(m->channel);
    free(m->bank);
    free(m->kind);
    free(m->orig_name);
    free(m->payload_path);
    free(m->rendered_path);
    free(m->remote_name);
    free(m->business_id);
    free(m->last_error);
    memset(m, 0, sizeof(*m));
    m->held_from = ST_NONE;
}

/* Copy a text column; 0 or H2H_ENOMEM.  NULL stays NULL. */
static int col_dup(sqlite3_stmt *st, int i, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    *out = NULL;
    if (!t)
        return 0;
    *out = strdup((const char *)t);
    return *out ? 0 : H2H_ENOMEM;
}

static int col_copy(sqlite3_stmt *st, int i, char *buf, size_t bufsz)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t || strlen((const char *)t) >= bufsz)
        return -1;
    memcpy(buf, t, strlen((const char *)t) + 1);
    return 0;
}

/* Fill m from a row selected with MSG_COLS. */
static int read_msg(sqlite3_stmt *st, struct store_msg *m, struct h2h_err *err)
{
    memset(m, 0, sizeof(*m));
    m->held_from = ST_NONE;
    if (col_copy(st, 0, m->id, sizeof(m->id)) != 0)
        return h2h_err_set(err, H2H_EDB, "message with a malformed id");
    if (col_copy(st, 5, m->sha256, sizeof(m->sha256)) != 0)
        return h2h_err_set(err, H2H_EDB, "message %s: malformed sha256", m->id);
    int st_v = state_parse((const char *)sqlite3_column_text(st, 7));
    if (st_v < 0)
        return h2h_err_set(err, H2H_EDB, "message %s: unknown state \"%s\"",
                           m->id, sqlite3_column_text(st, 7));
    m->state = (enum msg_state)st_v;
    if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
        int hf = state_parse((const char *)sqlite3_column_text(st, 8));
        if (hf < 0)
            return h2h_err_set(err, H2H_EDB,
                               "message %s: unknown held_from \"%s\"", m->id,
                               sqlite3_column_text(st, 8));
        m->held_from = (enum msg_state)hf;
    }
    m->size = sqlite3_column_int64(st, 6);
    m->attempts = sqlite3_column_int(st, 14);
    m->next_attempt_ms = sqlite3_column_int64(st, 15);
    m->created_ms = sqlite3_column_int64(st, 16);
    m->updated_ms = sqlite3_column_int64(st, 17);
    m->drop_dev = sqlite3_column_int64(st, 18);
    m->drop_ino = sqlite3_column_int64(st, 19);
    m->drop_mtime_ns = sqlite3_column_int64(st, 20);
    if (col_dup(st, 1, &m->channel) || col_dup(st, 2, &m->bank) ||
        col_dup(st, 3, &m->kind) || col_dup(st, 4, &m->orig_name) ||
        col_dup(st, 9, &m->payload_path) ||
        col_dup(st, 10, &m->rendered_path) ||
        col_dup(st, 11, &m->remote_name) || col_dup(st, 12, &m->business_id) ||
        col_dup(st, 13, &m->last_error)) {
        store_msg_release(m);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    return 0;
}

/* Run a bound MSG_COLS query expected to return at most one row. */
static int fetch_one(struct store *s, sqlite3_stmt *st, struct store_msg *out,
                     const char *what, struct h2h_err *err)
{
    int rc = step(s, st, err, what);
    if (rc == SQLITE_ROW) {
        rc = read_msg(st, out, err);
        if (rc)
            store_msg_release(out);
    } else if (rc == SQLITE_DONE) {
        rc = H2H_ENOTFOUND;
    }
    done(st);
    return rc;
}

int store_get(struct store *s, const char *id, struct store_msg *out,
              struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    out->held_from = ST_NONE;
    int rc = valid_id(id, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_MSG_BY_ID, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, id);
    rc = fetch_one(s, st, out, "get message", err);
    if (rc == H2H_ENOTFOUND)
        h2h_err_set(err, rc, "no message %s", id);
    return rc;
}

int store_find_hash(struct store *s, const char *channel, const char *sha256,
                    struct store_msg *out, struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    out->held_from = ST_NONE;
    char hash[65];
    if (!channel || !valid_sha256(sha256, hash))
        return h2h_err_set(err, H2H_EINVALID, "bad channel or sha256");
    sqlite3_stmt *st = stmt(s, Q_MSG_BY_HASH, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, channel);
    bind_str(st, 2, hash);
    int rc = fetch_one(s, st, out, "find message by hash", err);
    if (rc == H2H_ENOTFOUND)
        h2h_err_set(err, rc, "no message with sha256 %s on channel %s", hash,
                    channel);
    return rc;
}

static int add_event(struct store *s, const char *id, int64_t at,
                     enum msg_state from, enum msg_state to, const char *detail,
                     const char *actor, struct h2h_err *err)
{
    sqlite3_stmt *st = stmt(s, Q_EVENT_INSERT, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    bind_state(st, 3, from); /* ST_NONE binds NULL: creation */
    bind_state(st, 4, to);
    bind_clip(st, 5, detail);
    bind_clip(st, 6, actor && *actor ? actor : "daemon");
    int rc = step(s, st, err, "insert event");
    done(st);
    return rc < 0 ? rc : 0;
}

static int next_seq(struct store *s, int64_t *seq, struct h2h_err *err)
{
    sqlite3_stmt *st = stmt(s, Q_SEQ_GET, err);
    if (!st)
        return H2H_EDB;
    int rc = step(s, st, err, "read id sequence");
    int64_t cur = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    done(st);
    if (rc < 0)
        return rc;
    if (rc != SQLITE_ROW)
        return h2h_err_set(err, H2H_EDB, "id sequence missing from meta");
    if (s->seq_hwm > cur)
        cur = s->seq_hwm;
    if (cur == INT64_MAX)
        return h2h_err_set(err, H2H_EDB, "id sequence exhausted");
    *seq = cur + 1;
    st = stmt(s, Q_SEQ_SET, err);
    if (!st)
        return H2H_EDB;
    sqlite3_bind_int64(st, 1, *seq);
    rc = step(s, st, err, "update id sequence");
    done(st);
    return rc < 0 ? rc : 0;
}

static int accept_locked(struct store *s, const struct store_accept *in,
                         const char *hash, char id_out[STORE_ID_MAX],
                         struct h2h_err *err)
{
    sqlite3_stmt *st = stmt(s, Q_ID_BY_HASH, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, in->channel);
    bind_str(st, 2, hash);
    int rc = step(s, st, err, "find message by hash");
    if (rc == SQLITE_ROW) {
        char old[STORE_ID_MAX] = "";
        col_copy(st, 0, old, sizeof(old));
        done(st);
        snprintf(id_out, STORE_ID_MAX, "%s", old);
        return h2h_err_set(err, H2H_EDUP,
                           "content with sha256 %s was already accepted on "
                           "channel %s as message %s",
                           hash, in->channel, old);
    }
    done(st);
    if (rc < 0)
        return rc;

    int64_t seq = 0, now = now_ms();
    if ((rc = next_seq(s, &seq, err)) != 0)
        return rc;
    char day[16];
    utc_day(now, day);
    char id[STORE_ID_MAX];
    snprintf(id, sizeof(id), "M%.8s-%06" PRId64, day, seq);

    st = stmt(s, Q_MSG_INSERT, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, id);
    bind_str(st, 2, in->channel);
    bind_str(st, 3, in->bank);
    bind_str(st, 4, in->kind);
    bind_str(st, 5, in->orig_name);
    bind_str(st, 6, hash);
    sqlite3_bind_int64(st, 7, in->size);
    bind_str(st, 8, in->payload_path);
    bind_str(st, 9, in->business_id);
    sqlite3_bind_int64(st, 10, now);
    sqlite3_bind_int64(st, 11, in->drop_dev);
    sqlite3_bind_int64(st, 12, in->drop_ino);
    sqlite3_bind_int64(st, 13, in->drop_mtime_ns);
    rc = step(s, st, err, "insert message");
    done(st);
    if (rc < 0)
        return rc;

    char detail[STORE_TEXT_MAX];
    snprintf(detail, sizeof(detail), "accepted from channel %s file %s",
             in->channel, in->orig_name ? in->orig_name : "?");
    rc = add_event(s, id, now, ST_NONE, ST_ACCEPTED, detail, "daemon", err);
    if (rc)
        return rc;
    s->seq_hwm = seq;
    memcpy(id_out, id, STORE_ID_MAX);
    return 0;
}

int store_accept(struct store *s, const struct store_accept *in,
                 char id_out[STORE_ID_MAX], struct h2h_err *err)
{
    char hash[65];
    id_out[0] = '\0';
    if (!in || !in->channel || !*in->channel)
        return h2h_err_set(err, H2H_EINVALID, "accept without a channel");
    if (!valid_sha256(in->sha256, hash))
        return h2h_err_set(err, H2H_EINVALID,
                           "accept: sha256 must be 64 hex digits");
    if (!in->payload_path || !*in->payload_path)
        return h2h_err_set(err, H2H_EINVALID, "accept without a payload path");
    if (in->size < 0)
        return h2h_err_set(err, H2H_EINVALID, "accept: negative size");
    int rc = op_begin(s, err);
    if (rc)
        return rc;
    return op_end(s, accept_locked(s, in, hash, id_out, err), err);
}

/* Current state and held_from of id; H2H_ENOTFOUND. */
static int read_state(struct store *s, const char *id, enum msg_state *cur,
                      enum msg_state *held_from, struct h2h_err *err)
{
    sqlite3_stmt *st = stmt(s, Q_MSG_STATE, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, id);
    int rc = step(s, st, err, "read message state");
    if (rc == SQLITE_DONE) {
        rc = h2h_err_set(err, H2H_ENOTFOUND, "no message %s", id);
    } else if (rc == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int v = state_parse(name);
        int hf = -1;
        if (sqlite3_column_type(st, 1) != SQLITE_NULL)
            hf = state_parse((const char *)sqlite3_column_text(st, 1));
        if (v < 0) {
            rc = h2h_err_set(err, H2H_EDB, "message %s: unknown state \"%s\"",
                             id, name ? name : "");
        } else {
            *cur = (enum msg_state)v;
            *held_from = hf < 0 ? ST_NONE : (enum msg_state)hf;
            rc = 0;
        }
    }
    done(st);
    return rc;
}

/* The transition itself; the caller has begun the operation. */
static int transition_locked(struct store *s, const char *id,
                             enum msg_state from, enum msg_state to,
                             const struct store_change *ch, struct h2h_err *err)
{
    static const struct store_change none = {.next_attempt_ms = -1};
    enum msg_state cur, held_from;
    int rc = read_state(s, id, &cur, &held_from, err);
    if (rc)
        return rc;
    if (cur != from)
        return h2h_err_set(err, H2H_ESTATE,
                           "message %s is %s, not %s (refused %s -> %s)", id,
                           state_name(cur), state_name(from), state_name(from),
                           state_name(to));
    if (!state_can_transition(from, to))
        return h2h_err_set(err, H2H_ESTATE,
                           "message %s: transition %s -> %s is not allowed", id,
                           state_name(from), state_name(to));
    if (from == ST_HELD && to != held_from && to != ST_RENDERED)
        return h2h_err_set(err, H2H_ESTATE,
                           "message %s was held from %s: it can be released "
                           "only to %s or to rendered (resend), not to %s",
                           id, state_name(held_from), state_name(held_from),
                           state_name(to));
    if (!ch)
        ch = &none;

    int64_t now = now_ms();
    sqlite3_stmt *st = stmt(s, Q_MSG_UPDATE, err);
    if (!st)
        return H2H_EDB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    bind_state(st, 2, to);
    bind_state(st, 3, to == ST_HELD ? from : ST_NONE);
    bind_str(st, 4, ch->rendered_path);
    bind_str(st, 5, ch->remote_name);
    bind_str(st, 6, ch->business_id);
    bind_clip(st, 7, ch->error);
    sqlite3_bind_int(st, 8, ch->reset_attempts != 0);
    sqlite3_bind_int(st, 9, ch->attempts_inc);
    sqlite3_bind_int64(st, 10, ch->next_attempt_ms);
    sqlite3_bind_int64(st, 11, now);
    bind_state(st, 12, from);
    rc = step(s, st, err, "update message");
    done(st);
    if (rc < 0)
        return rc;
    if (sqlite3_changes(s->db) != 1)
        return h2h_err_set(err, H2H_ESTATE,
                           "message %s changed under us (%s -> %s)", id,
                           state_name(from), state_name(to));
    const char *detail = ch->detail;
    if (!detail && ch->error && *ch->error)
        detail = ch->error;
    return add_event(s, id, now, from, to, detail, ch->actor, err);
}

int store_transition(struct store *s, const char *id, enum msg_state from,
                     enum msg_state to, const struct store_change *ch,
                     struct h2h_err *err)
{
    int rc = valid_id(id, err);
    if (rc)
        return rc;
    if ((unsigned)from >= ST__COUNT || (unsigned)to >= ST__COUNT)
        return h2h_err_set(err, H2H_EINVALID, "state out of range");
    if ((rc = op_begin(s, err)) != 0)
        return rc;
    return op_end(s, transition_locked(s, id, from, to, ch, err), err);
}

static int hold_locked(struct store *s, const char *id, const char *detail,
                       const char *actor, struct h2h_err *err)
{
    enum msg_state cur, hf;
    int rc = read_state(s, id, &cur, &hf, err);
    if (rc)
        return rc;
    if (cur == ST_HELD)
        return h2h_err_set(err, H2H_ESTATE, "message %s is already held", id);
    if (!state_can_transition(cur, ST_HELD))
        return h2h_err_set(err, H2H_ESTATE,
                           "message %s is %s and cannot be held", id,
                           state_name(cur));
    struct store_change ch = {
        .next_attempt_ms = -1,
        .detail = detail ? detail : "held",
        .actor = actor,
    };
    return transition_locked(s, id, cur, ST_HELD, &ch, err);
}

int store_hold(struct store *s, const char *id, const char *detail,
               const char *actor, struct h2h_err *err)
{
    int rc = valid_id(id, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    return op_end(s, hold_locked(s, id, detail, actor, err), err);
}

static int release_locked(struct store *s, const char *id, const char *actor,
                          enum msg_state *to_out, struct h2h_err *err)
{
    enum msg_state cur, hf;
    int rc = read_state(s, id, &cur, &hf, err);
    if (rc)
        return rc;
    if (cur != ST_HELD)
        return h2h_err_set(err, H2H_ESTATE, "message %s is %s, not held", id,
                           state_name(cur));
    if (hf == ST_NONE)
        return h2h_err_set(err, H2H_EDB,
                           "message %s is held but has no held_from", id);
    enum msg_state to = hf;
    char detail[160];
    if (hf == ST_SUBMITTING) {
        /* The outcome of the interrupted send is unknown; a release is a
         * person's decision to send again, which starts from rendered. */
        to = ST_RENDERED;
        snprintf(detail, sizeof(detail),
                 "released for resend (held from submitting: outcome of the "
                 "earlier send unknown)");
    } else {
        snprintf(detail, sizeof(detail), "released (held from %s)",
                 state_name(hf));
    }
    struct store_change ch = {
        .next_attempt_ms = -1,
        .detail = detail,
        .actor = actor,
    };
    if (to == ST_ACCEPTED || to == ST_RENDERED || to == ST_DEFERRED)
        ch.next_attempt_ms = now_ms();
    rc = transition_locked(s, id, ST_HELD, to, &ch, err);
    if (rc == 0 && to_out)
        *to_out = to;
    return rc;
}

int store_release(struct store *s, const char *id, const char *actor,
                  struct h2h_err *err, enum msg_state *to_out)
{
    int rc = valid_id(id, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    return op_end(s, release_locked(s, id, actor, to_out, err), err);
}

static int retry_locked(struct store *s, const char *id, const char *actor,
                        struct h2h_err *err)
{
    enum msg_state cur, hf;
    int rc = read_state(s, id, &cur, &hf, err);
    if (rc)
        return rc;
    if (cur != ST_FAILED && cur != ST_DEFERRED)
        return h2h_err_set(err, H2H_ESTATE,
                           "message %s is %s: only failed or deferred "
                           "messages can be retried",
                           id, state_name(cur));
    /* A message that failed before it was ever rendered starts again at
     * rendering (failed -> accepted); otherwise its rendered file is sent
     * again. */
    enum msg_state to = ST_RENDERED;
    sqlite3_stmt *q = NULL;
    if (cur == ST_FAILED &&
        sqlite3_prepare_v2(
            s->db, "SELECT rendered_path IS NULL FROM msg WHERE id = ?1", -1,
            &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0))
            to = ST_ACCEPTED;
    }
    sqlite3_finalize(q);
    struct store_change ch = {
        .error = "",
        .reset_attempts = 1,
        .next_attempt_ms = now_ms(),
        .detail = "retry requested",
        .actor = actor,
    };
    return transition_locked(s, id, cur, to, &ch, err);
}

int store_retry(struct store *s, const char *id, const char *actor,
                struct h2h_err *err)
{
    int rc = valid_id(id, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    return op_end(s, retry_locked(s, id, actor, err), err);
}

/* ---- listing ---------------------------------------------------------- */

static sqlite3_stmt *list_stmt(struct store *s, unsigned shape,
                               struct h2h_err *err)
{
    if (s->list_stmt[shape])
        return s->list_stmt[shape];
    char sql[1024];
    int n = snprintf(sql, sizeof(sql), "SELECT " MSG_COLS " FROM msg WHERE 1");
    if (shape & LIST_F_STATE)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND state = ?1");
    if (shape & LIST_F_BANK)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND bank = ?2");
    if (shape & LIST_F_CHANNEL)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " AND channel = ?3");
    if (shape & LIST_F_DUE)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n,
                      " AND next_attempt_ms <= ?4"
                      " ORDER BY next_attempt_ms, rowid");
    else
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, " ORDER BY rowid");
    snprintf(sql + n, sizeof(sql) - (size_t)n, " LIMIT ?5");
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &s->list_stmt[shape], NULL) != SQLITE_OK) {
        db_err(s, err, "prepare list");
        s->list_stmt[shape] = NULL;
    }
    return s->list_stmt[shape];
}

int store_list(struct store *s, const struct store_filter *f, store_msg_cb cb,
               void *ctx, struct h2h_err *err)
{
    static const struct store_filter all = {.state = -1};
    if (!f)
        f = &all;
    if (f->state >= ST__COUNT || f->state < -1)
        return h2h_err_set(err, H2H_EINVALID, "list: state out of range");
    unsigned shape = 0;
    if (f->state >= 0)
        shape |= LIST_F_STATE;
    if (f->bank)
        shape |= LIST_F_BANK;
    if (f->channel)
        shape |= LIST_F_CHANNEL;
    if (f->due_before_ms > 0)
        shape |= LIST_F_DUE;
    sqlite3_stmt *st = list_stmt(s, shape, err);
    if (!st)
        return H2H_EDB;
    if (f->state >= 0)
        bind_state(st, 1, (enum msg_state)f->state);
    if (f->bank)
        bind_str(st, 2, f->bank);
    if (f->channel)
        bind_str(st, 3, f->channel);
    if (f->due_before_ms > 0)
        sqlite3_bind_int64(st, 4, f->due_before_ms);
    sqlite3_bind_int64(
        st, 5,
        f->limit && f->limit < (size_t)INT64_MAX ? (int64_t)f->limit : -1);

    struct store_msg *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = step(s, st, err, "list messages")) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_msg *nr = realloc(rows, ncap * sizeof(*rows));
            if (!nr) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
            cap = ncap;
        }
        if ((rc = read_msg(st, &rows[n], err)) != 0)
            break;
        n++;
    }
    done(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &rows[i]);
    for (size_t i = 0; i < n; i++)
        store_msg_release(&rows[i]);
    free(rows);
    return rc;
}

int store_counts(struct store *s, const char *bank, int64_t counts[ST__COUNT],
                 struct h2h_err *err)
{
    for (int i = 0; i < ST__COUNT; i++)
        counts[i] = 0;
    sqlite3_stmt *st = stmt(s, bank ? Q_COUNTS_BANK : Q_COUNTS_ALL, err);
    if (!st)
        return H2H_EDB;
    if (bank)
        bind_str(st, 1, bank);
    int rc;
    while ((rc = step(s, st, err, "count messages")) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int v = state_parse(name);
        if (v < 0) {
            rc = h2h_err_set(err, H2H_EDB, "unknown state \"%s\" in store",
                             name ? name : "");
            break;
        }
        counts[v] = sqlite3_column_int64(st, 1);
    }
    done(st);
    return rc == SQLITE_DONE ? 0 : rc;
}

/* ---- history ---------------------------------------------------------- */

struct ev_row {
    int64_t seq, at_ms;
    char *from, *to, *detail, *actor;
};

static void ev_rows_free(struct ev_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].from);
        free(rows[i].to);
        free(rows[i].detail);
        free(rows[i].actor);
    }
    free(rows);
}

int store_history(struct store *s, const char *id, store_event_cb cb, void *ctx,
                  struct h2h_err *err)
{
    enum msg_state cur, hf;
    int rc = valid_id(id, err);
    if (rc || (rc = read_state(s, id, &cur, &hf, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_HISTORY, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, id);
    struct ev_row *rows = NULL;
    size_t n = 0, cap = 0;
    while ((rc = step(s, st, err, "read history")) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct ev_row *nr = realloc(rows, ncap * sizeof(*rows));
            if (!nr) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
            cap = ncap;
        }
        struct ev_row *r = &rows[n++];
        memset(r, 0, sizeof(*r));
        r->seq = sqlite3_column_int64(st, 0);
        r->at_ms = sqlite3_column_int64(st, 1);
        if (col_dup(st, 2, &r->from) || col_dup(st, 3, &r->to) ||
            col_dup(st, 4, &r->detail) || col_dup(st, 5, &r->actor)) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            break;
        }
    }
    done(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct store_event e = {
            .seq = rows[i].seq,
            .at_ms = rows[i].at_ms,
            .from = rows[i].from,
            .to = rows[i].to,
            .detail = rows[i].detail,
            .actor = rows[i].actor,
        };
        rc = cb(ctx, &e);
    }
    ev_rows_free(rows, n);
    return rc;
}

/* ---- download registry ------------------------------------------------ */

static int dl_args(const char *bank, const char *remote_name,
                   const char *sha256, char hash[65], struct h2h_err *err)
{
    if (!bank || !*bank || !remote_name || !*remote_name)
        return h2h_err_set(err, H2H_EINVALID,
                           "download: bank and remote name are required");
    if (!valid_sha256(sha256, hash))
        return h2h_err_set(err, H2H_EINVALID,
                           "download: sha256 must be 64 hex digits");
    return 0;
}

int store_download_register(struct store *s, const char *bank,
                            const char *remote_name, const char *sha256,
                            int64_t size, struct h2h_err *err)
{
    char hash[65];
    int rc = dl_args(bank, remote_name, sha256, hash, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_DL_INSERT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, bank);
    bind_str(st, 2, remote_name);
    bind_str(st, 3, hash);
    sqlite3_bind_int64(st, 4, size);
    sqlite3_bind_int64(st, 5, now_ms());
    rc = step(s, st, err, "register download");
    done(st);
    if (rc >= 0)
        rc = sqlite3_changes(s->db) == 1
                 ? 0
                 : h2h_err_set(err, H2H_EDUP,
                               "bank %s file %s (sha256 %s) already "
                               "downloaded",
                               bank, remote_name, hash);
    return op_end(s, rc, err);
}

/* 0 with *delivered set, H2H_ENOTFOUND, or an error. */
static int dl_get(struct store *s, const char *bank, const char *remote_name,
                  const char *hash, int *delivered, int64_t *registered_ms,
                  struct h2h_err *err)
{
    sqlite3_stmt *st = stmt(s, Q_DL_GET, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, bank);
    bind_str(st, 2, remote_name);
    bind_str(st, 3, hash);
    int rc = step(s, st, err, "read download");
    if (rc == SQLITE_ROW) {
        *delivered = sqlite3_column_type(st, 0) != SQLITE_NULL;
        if (registered_ms)
            *registered_ms = sqlite3_column_int64(st, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = h2h_err_set(err, H2H_ENOTFOUND,
                         "bank %s file %s (sha256 %s) is not registered", bank,
                         remote_name, hash);
    }
    done(st);
    return rc;
}

int store_download_delivered(struct store *s, const char *bank,
                             const char *remote_name, const char *sha256,
                             const char *local_path, struct h2h_err *err)
{
    char hash[65];
    int rc = dl_args(bank, remote_name, sha256, hash, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_DL_DELIVER, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, bank);
    bind_str(st, 2, remote_name);
    bind_str(st, 3, hash);
    bind_str(st, 4, local_path);
    sqlite3_bind_int64(st, 5, now_ms());
    rc = step(s, st, err, "mark download delivered");
    done(st);
    if (rc >= 0 && sqlite3_changes(s->db) == 1) {
        rc = 0;
    } else if (rc >= 0) {
        /* Not updated: unknown, or delivered before (kept as is). */
        int delivered;
        rc = dl_get(s, bank, remote_name, hash, &delivered, NULL, err);
    }
    return op_end(s, rc, err);
}

int store_download_state(struct store *s, const char *bank,
                         const char *remote_name, const char *sha256,
                         int *registered, int *delivered, struct h2h_err *err)
{
    char hash[65];
    int d = 0;
    if (registered)
        *registered = 0;
    if (delivered)
        *delivered = 0;
    int rc = dl_args(bank, remote_name, sha256, hash, err);
    if (rc)
        return rc;
    rc = dl_get(s, bank, remote_name, hash, &d, NULL, err);
    if (rc == H2H_ENOTFOUND) {
        h2h_err_clear(err);
        return 0;
    }
    if (rc)
        return rc;
    if (registered)
        *registered = 1;
    if (delivered)
        *delivered = d;
    return 0;
}

int store_download_registered_ms(struct store *s, const char *bank,
                                 const char *remote_name, const char *sha256,
                                 int64_t *ms, struct h2h_err *err)
{
    char hash[65];
    int d = 0;
    *ms = 0;
    int rc = dl_args(bank, remote_name, sha256, hash, err);
    return rc ? rc : dl_get(s, bank, remote_name, hash, &d, ms, err);
}

/* ---- business ids ----------------------------------------------------- */

int store_id_record(struct store *s, const char *kind, const char *id,
                    const char *msg_id, struct h2h_err *err)
{
    if (!kind || !*kind || !id || !*id)
        return h2h_err_set(err, H2H_EINVALID, "id record: kind and id needed");
    int rc = op_begin(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_ID_UPSERT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, kind);
    bind_clip(st, 2, id);
    bind_str(st, 3, msg_id);
    sqlite3_bind_int64(st, 4, now_ms());
    rc = step(s, st, err, "record id");
    if (rc < 0 &&
        sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = h2h_err_set(err, H2H_ENOTFOUND, "record %s %s: no message %s",
                         kind, id, msg_id ? msg_id : "");
    done(st);
    return op_end(s, rc < 0 ? rc : 0, err);
}

int store_id_seen(struct store *s, const char *kind, const char *id,
                  int64_t since_ms, struct h2h_err *err)
{
    if (!kind || !*kind || !id || !*id)
        return h2h_err_set(err, H2H_EINVALID, "id seen: kind and id needed");
    sqlite3_stmt *st = stmt(s, Q_ID_SEEN, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, kind);
    bind_clip(st, 2, id);
    sqlite3_bind_int64(st, 3, since_ms);
    int rc = step(s, st, err, "look up id");
    done(st);
    if (rc < 0)
        return rc;
    return rc == SQLITE_ROW;
}

int store_id_owner(struct store *s, const char *kind, const char *id,
                   char msg_id[STORE_ID_MAX], struct h2h_err *err)
{
    msg_id[0] = '\0';
    if (!kind || !*kind || !id || !*id)
        return h2h_err_set(err, H2H_EINVALID, "id owner: kind and id needed");
    sqlite3_stmt *st = stmt(s, Q_ID_OWNER, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, kind);
    bind_clip(st, 2, id);
    int rc = step(s, st, err, "look up id owner");
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(msg_id, STORE_ID_MAX, "%s", v ? (const char *)v : "");
    }
    done(st);
    if (rc < 0)
        return rc;
    if (!msg_id[0])
        return h2h_err_set(err, H2H_ENOTFOUND, "no message recorded for %s %s",
                           kind, id);
    return 0;
}

int store_tx_status_put(struct store *s, const char *msg_id,
                        const struct store_tx_status *t, struct h2h_err *err)
{
    int rc = valid_id(msg_id, err);
    if (rc)
        return rc;
    if (!t->status || !*t->status)
        return h2h_err_set(err, H2H_EINVALID, "payment status: no status");
    if ((rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_TX_PUT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, msg_id);
    bind_clip(st, 2, t->pmt_inf_id ? t->pmt_inf_id : "");
    bind_clip(st, 3, t->end_to_end_id ? t->end_to_end_id : "");
    bind_clip(st, 4, t->status);
    bind_clip(st, 5, t->reasons);
    bind_clip(st, 6, t->report);
    sqlite3_bind_int64(st, 7, t->at_ms ? t->at_ms : now_ms());
    rc = step(s, st, err, "record payment status");
    done(st);
    return op_end(s, rc < 0 ? rc : 0, err);
}

int store_tx_status_list(struct store *s, const char *msg_id,
                         store_tx_status_cb cb, void *ctx, struct h2h_err *err)
{
    int rc = valid_id(msg_id, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_TX_LIST, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, msg_id);
    while ((rc = step(s, st, err, "read payment statuses")) == SQLITE_ROW) {
        struct store_tx_status t = {
            .pmt_inf_id = (const char *)sqlite3_column_text(st, 0),
            .end_to_end_id = (const char *)sqlite3_column_text(st, 1),
            .status = (const char *)sqlite3_column_text(st, 2),
            .reasons = (const char *)sqlite3_column_text(st, 3),
            .report = (const char *)sqlite3_column_text(st, 4),
            .at_ms = sqlite3_column_int64(st, 5),
        };
        if ((rc = cb(ctx, &t)) != 0)
            break;
    }
    done(st);
    return rc == SQLITE_DONE ? 0 : rc;
}

int store_counter_next(struct store *s, const char *name, int64_t *value,
                       struct h2h_err *err)
{
    *value = 0;
    if (!name || strncmp(name, "ctr:", 4) != 0 || !name[4])
        return h2h_err_set(err, H2H_EINVALID,
                           "counter names start with \"ctr:\"");
    int rc = op_begin(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_COUNTER_NEXT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_clip(st, 1, name);
    rc = step(s, st, err, "advance counter");
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc >= 0) {
        rc = h2h_err_set(err, H2H_EDB, "counter %s: no value", name);
    }
    done(st);
    return op_end(s, rc, err);
}

/* ---- scheduled jobs ---------------------------------------------------- */

static int job_args(const char *bank, const char *kind, struct h2h_err *err)
{
    if (!bank || !*bank || !kind || !*kind)
        return h2h_err_set(err, H2H_EINVALID, "job: bank and kind needed");
    return 0;
}

int store_job_get(struct store *s, const char *bank, const char *kind,
                  struct store_job *out, struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    int rc = job_args(bank, kind, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_JOB_GET, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, bank);
    bind_str(st, 2, kind);
    rc = step(s, st, err, "read job");
    if (rc == SQLITE_ROW) {
        const unsigned char *r = sqlite3_column_text(st, 3);
        const unsigned char *e = sqlite3_column_text(st, 4);
        out->sched_ms = sqlite3_column_int64(st, 0);
        out->started_ms = sqlite3_column_int64(st, 1);
        out->ended_ms = sqlite3_column_int64(st, 2);
        snprintf(out->result, sizeof(out->result), "%s",
                 r ? (const char *)r : "");
        if (e) {
            int n = clip_len((const char *)e, sizeof(out->error) - 1);
            memcpy(out->error, e, (size_t)n);
            out->error[n] = '\0';
        }
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = h2h_err_set(err, H2H_ENOTFOUND, "job %s %s never ran", bank,
                         kind);
    }
    done(st);
    return rc;
}

int store_job_mark(struct store *s, const char *bank, const char *kind,
                   int64_t sched_ms, struct h2h_err *err)
{
    int rc = job_args(bank, kind, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_JOB_MARK, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, bank);
    bind_str(st, 2, kind);
    sqlite3_bind_int64(st, 3, sched_ms);
    rc = step(s, st, err, "record job baseline");
    done(st);
    return op_end(s, rc < 0 ? rc : 0, err);
}

int store_job_started(struct store *s, const char *bank, const char *kind,
                      int64_t sched_ms, int64_t started_ms,
                      struct h2h_err *err)
{
    int rc = job_args(bank, kind, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_JOB_START, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, bank);
    bind_str(st, 2, kind);
    sqlite3_bind_int64(st, 3, sched_ms);
    sqlite3_bind_int64(st, 4, started_ms);
    rc = step(s, st, err, "record job start");
    done(st);
    return op_end(s, rc < 0 ? rc : 0, err);
}

int store_job_finished(struct store *s, const char *bank, const char *kind,
                       int64_t ended_ms, const char *result, const char *error,
                       struct h2h_err *err)
{
    int rc = job_args(bank, kind, err);
    if (rc)
        return rc;
    if (!result || !*result)
        return h2h_err_set(err, H2H_EINVALID, "job end: no result");
    if ((rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_JOB_END, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, bank);
    bind_str(st, 2, kind);
    sqlite3_bind_int64(st, 3, ended_ms);
    bind_clip(st, 4, result);
    if (error && *error)
        sqlite3_bind_text(st, 5, error,
                          clip_len(error, STORE_JOB_ERROR_MAX - 1),
                          SQLITE_TRANSIENT);
    rc = step(s, st, err, "record job end");
    done(st);
    if (rc >= 0)
        rc = sqlite3_changes(s->db) == 1
                 ? 0
                 : h2h_err_set(err, H2H_ENOTFOUND,
                               "job %s %s: no run was started", bank, kind);
    return op_end(s, rc, err);
}

/* ---- cut-off decisions -------------------------------------------------- */

int store_cutoff_get(struct store *s, const char *msg_id, char action[16],
                     int64_t *until_ms, struct h2h_err *err)
{
    action[0] = '\0';
    if (until_ms)
        *until_ms = 0;
    int rc = valid_id(msg_id, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_CUTOFF_GET, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, msg_id);
    rc = step(s, st, err, "read cut-off decision");
    if (rc == SQLITE_ROW) {
        const unsigned char *a = sqlite3_column_text(st, 0);
        snprintf(action, 16, "%s", a ? (const char *)a : "");
        if (until_ms)
            *until_ms = sqlite3_column_int64(st, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = h2h_err_set(err, H2H_ENOTFOUND, "message %s: no cut-off decision",
                         msg_id);
    }
    done(st);
    return rc;
}

int store_cutoff_put(struct store *s, const char *msg_id, const char *action,
                     int64_t until_ms, struct h2h_err *err)
{
    int rc = valid_id(msg_id, err);
    if (rc)
        return rc;
    if (!action || !*action || strlen(action) >= 16)
        return h2h_err_set(err, H2H_EINVALID, "cut-off decision: bad action");
    if ((rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_CUTOFF_PUT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, msg_id);
    bind_str(st, 2, action);
    sqlite3_bind_int64(st, 3, until_ms);
    sqlite3_bind_int64(st, 4, now_ms());
    rc = step(s, st, err, "record cut-off decision");
    if (rc < 0 &&
        sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = h2h_err_set(err, H2H_ENOTFOUND, "cut-off decision: no message %s",
                         msg_id);
    else if (rc >= 0)
        rc = sqlite3_changes(s->db) == 1
                 ? 0
                 : h2h_err_set(err, H2H_EDUP,
                               "message %s: the cut-off was decided before",
                               msg_id);
    done(st);
    return op_end(s, rc, err);
}

/* ---- statement archive (ledger) ---------------------------------------- */

int store_ledger_add(struct store *s, const struct store_ledger_file *f,
                     struct h2h_err *err)
{
    char hash[65];
    if (!f || !f->bank || !*f->bank || !f->remote_name || !*f->remote_name ||
        !f->path || !*f->path)
        return h2h_err_set(err, H2H_EINVALID,
                           "ledger: bank, remote name and path are required");
    if (!valid_sha256(f->sha256, hash))
        return h2h_err_set(err, H2H_EINVALID,
                           "ledger: sha256 must be 64 hex digits");
    if (f->size < 0)
        return h2h_err_set(err, H2H_EINVALID, "ledger: negative size");
    int rc = op_begin(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_LEDGER_ADD, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, f->bank);
    bind_str(st, 2, f->remote_name);
    bind_str(st, 3, hash);
    bind_str(st, 4, f->path);
    bind_str(st, 5, f->charset);
    sqlite3_bind_int64(st, 6, f->size);
    sqlite3_bind_int64(st, 7, now_ms());
    rc = step(s, st, err, "add statement to ledger");
    done(st);
    if (rc >= 0)
        rc = sqlite3_changes(s->db) == 1
                 ? 0
                 : h2h_err_set(err, H2H_EDUP,
                               "bank %s: a statement with sha256 %s is "
                               "already in the ledger",
                               f->bank, hash);
    return op_end(s, rc, err);
}

struct ledger_row {
    char *bank, *remote_name, *sha256, *path, *charset;
    int64_t size, received_ms;
};

static void ledger_rows_free(struct ledger_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].bank);
        free(rows[i].remote_name);
        free(rows[i].sha256);
        free(rows[i].path);
        free(rows[i].charset);
    }
    free(rows);
}

int store_ledger_list(struct store *s, const char *bank, store_ledger_cb cb,
                      void *ctx, struct h2h_err *err)
{
    sqlite3_stmt *st = stmt(s, bank ? Q_LEDGER_BANK : Q_LEDGER_ALL, err);
    if (!st)
        return H2H_EDB;
    if (bank)
        bind_str(st, 1, bank);
    struct ledger_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = step(s, st, err, "read ledger")) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct ledger_row *nr = realloc(rows, ncap * sizeof(*rows));
            if (!nr) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
            cap = ncap;
        }
        struct ledger_row *r = &rows[n++];
        memset(r, 0, sizeof(*r));
        r->size = sqlite3_column_int64(st, 5);
        r->received_ms = sqlite3_column_int64(st, 6);
        if (col_dup(st, 0, &r->bank) || col_dup(st, 1, &r->remote_name) ||
            col_dup(st, 2, &r->sha256) || col_dup(st, 3, &r->path) ||
            col_dup(st, 4, &r->charset)) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            break;
        }
    }
    done(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct store_ledger_file f = {
            .bank = rows[i].bank,
            .remote_name = rows[i].remote_name,
            .sha256 = rows[i].sha256,
            .path = rows[i].path,
            .charset = rows[i].charset,
            .size = rows[i].size,
            .received_ms = rows[i].received_ms,
        };
        rc = cb(ctx, &f);
    }
    ledger_rows_free(rows, n);
    return rc;
}

/* ---- reconciliation runs ------------------------------------------------ */

#define RUN_FIELD_SIZE(f) sizeof(((struct store_recon_run *)0)->f)

#define RECON_INTERRUPTED_ERROR "h2hd stopped during the run"

/* A string field of the caller's struct ends within its buffer. */
static int terminated(const char *v, size_t size)
{
    return strnlen(v, size) < size;
}

/* YYYY-MM-DD with a month 01-12 and a day 01-31. */
static int valid_day(const char *d)
{
    if (strnlen(d, 11) != 10)
        return 0;
    for (int i = 0; i < 10; i++) {
        int dash = i == 4 || i == 7;
        if (dash ? d[i] != '-' : (d[i] < '0' || d[i] > '9'))
            return 0;
    }
    int month = (d[5] - '0') * 10 + (d[6] - '0');
    int day = (d[8] - '0') * 10 + (d[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static int valid_run_id(const char *id, struct h2h_err *err)
{
    if (!id || !*id || strlen(id) >= STORE_ID_MAX)
        return h2h_err_set(err, H2H_EINVALID, "bad reconciliation run id");
    return 0;
}

/* Copy text column i into buf, cut at a character boundary to fit; NULL
 * gives "". */
static void col_clip(sqlite3_stmt *st, int i, char *buf, size_t bufsz)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    int n = t ? clip_len(t, bufsz - 1) : 0;
    if (n > 0)
        memcpy(buf, t, (size_t)n);
    buf[n] = '\0';
}

static int recon_begin_locked(struct store *s, const struct store_recon_run *r,
                              char id_out[STORE_ID_MAX], struct h2h_err *err)
{
    if (s->recon_hwm == INT64_MAX)
        return h2h_err_set(err, H2H_EDB, "reconciliation counter exhausted");
    sqlite3_stmt *st = stmt(s, Q_RECON_COUNTER, err);
    if (!st)
        return H2H_EDB;
    sqlite3_bind_int64(st, 1, s->recon_hwm + 1);
    int64_t num = 0, now = now_ms();
    int rc = step(s, st, err, "advance reconciliation counter");
    if (rc == SQLITE_ROW)
        num = sqlite3_column_int64(st, 0);
    done(st);
    if (rc < 0)
        return rc;
    if (num <= 0)
        return h2h_err_set(err, H2H_EDB, "reconciliation counter: no value");
    char day[16];
    utc_day(now, day);
    char id[STORE_ID_MAX];
    snprintf(id, sizeof(id), "R%.8s-%06" PRId64, day, num);

    st = stmt(s, Q_RECON_INSERT, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, id);
    bind_str(st, 2, r->channel);
    bind_str(st, 3, r->bank);
    bind_str(st, 4, r->account);
    bind_str(st, 5, r->from);
    bind_str(st, 6, r->to);
    bind_str(st, 7, r->trigger);
    sqlite3_bind_int64(st, 8, now);
    rc = step(s, st, err, "insert reconciliation run");
    done(st);
    if (rc < 0)
        return rc;
    s->recon_hwm = num;
    memcpy(id_out, id, STORE_ID_MAX);
    return 0;
}

int store_recon_begin(struct store *s, const struct store_recon_run *r,
                      char id_out[STORE_ID_MAX], struct h2h_err *err)
{
    id_out[0] = '\0';
    if (!r || !terminated(r->channel, sizeof(r->channel)) ||
        !terminated(r->bank, sizeof(r->bank)) ||
        !terminated(r->account, sizeof(r->account)) ||
        !terminated(r->trigger, sizeof(r->trigger)) || !r->trigger[0])
        return h2h_err_set(err, H2H_EINVALID,
                           "reconciliation run: bad channel, bank, account "
                           "or trigger");
    if (!valid_day(r->from) || !valid_day(r->to) || strcmp(r->from, r->to) > 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "reconciliation run: bad period %.10s to %.10s",
                           r->from, r->to);
    int rc = op_begin(s, err);
    if (rc)
        return rc;
    return op_end(s, recon_begin_locked(s, r, id_out, err), err);
}

static int recon_end_locked(struct store *s, const char *id, const char *result,
                            const char *error, const char *dir,
                            const char *summary, int64_t booked,
                            struct h2h_err *err)
{
    sqlite3_stmt *st = stmt(s, Q_RECON_END, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, id);
    bind_str(st, 2, result);
    sqlite3_bind_text(st, 3, error ? error : "",
                      error ? clip_len(error, RUN_FIELD_SIZE(error) - 1) : 0,
                      SQLITE_TRANSIENT);
    bind_str(st, 4, dir ? dir : "");
    sqlite3_bind_text(st, 5, summary ? summary : "",
                      summary ? clip_len(summary, STORE_RECON_SUMMARY_MAX - 1)
                              : 0,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, booked);
    sqlite3_bind_int64(st, 7, now_ms());
    int rc = step(s, st, err, "finish reconciliation run");
    done(st);
    if (rc < 0)
        return rc;
    if (sqlite3_changes(s->db) == 1)
        return 0;

    /* Not updated: unknown, or not running. */
    char cur[16] = "";
    st = stmt(s, Q_RECON_RESULT, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, id);
    rc = step(s, st, err, "read reconciliation run");
    if (rc == SQLITE_ROW)
        col_clip(st, 0, cur, sizeof(cur));
    done(st);
    if (rc < 0)
        return rc;
    if (rc == SQLITE_DONE)
        return h2h_err_set(err, H2H_ENOTFOUND, "no reconciliation run %s", id);
    return h2h_err_set(err, H2H_ESTATE,
                       "reconciliation run %s is %s, not running", id, cur);
}

int store_recon_end(struct store *s, const char *id, const char *result,
                    const char *error, const char *dir, const char *summary,
                    int64_t booked, struct h2h_err *err)
{
    int rc = valid_run_id(id, err);
    if (rc)
        return rc;
    if (!result || (strcmp(result, "ok") != 0 && strcmp(result, "failed") != 0))
        return h2h_err_set(err, H2H_EINVALID,
                           "reconciliation run end: result must be ok or "
                           "failed");
    if (dir && strlen(dir) >= RUN_FIELD_SIZE(dir))
        return h2h_err_set(err, H2H_EINVALID,
                           "reconciliation run end: output folder name too "
                           "long");
    if (booked < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "reconciliation run end: negative booked count");
    if ((rc = op_begin(s, err)) != 0)
        return rc;
    rc = recon_end_locked(s, id, result, error, dir, summary, booked, err);
    return op_end(s, rc, err);
}

int store_recon_get(struct store *s, const char *id,
                    struct store_recon_run *out, struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    int rc = id ? valid_run_id(id, err) : 0;
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, id ? Q_RECON_BY_ID : Q_RECON_LATEST, err);
    if (!st)
        return H2H_EDB;
    if (id)
        bind_str(st, 1, id);
    rc = step(s, st, err, "read reconciliation run");
    if (rc == SQLITE_ROW) {
        col_clip(st, 0, out->id, sizeof(out->id));
        col_clip(st, 1, out->channel, sizeof(out->channel));
        col_clip(st, 2, out->bank, sizeof(out->bank));
        col_clip(st, 3, out->account, sizeof(out->account));
        col_clip(st, 4, out->from, sizeof(out->from));
        col_clip(st, 5, out->to, sizeof(out->to));
        col_clip(st, 6, out->trigger, sizeof(out->trigger));
        out->started_ms = sqlite3_column_int64(st, 7);
        out->ended_ms = sqlite3_column_int64(st, 8);
        col_clip(st, 9, out->result, sizeof(out->result));
        col_clip(st, 10, out->error, sizeof(out->error));
        col_clip(st, 11, out->dir, sizeof(out->dir));
        col_clip(st, 12, out->summary, sizeof(out->summary));
        out->booked = sqlite3_column_int64(st, 13);
        rc = 0;
    } else if (rc == SQLITE_DONE && id) {
        rc = h2h_err_set(err, H2H_ENOTFOUND, "no reconciliation run %s", id);
    } else if (rc == SQLITE_DONE) {
        rc = h2h_err_set(err, H2H_ENOTFOUND, "no reconciliation run yet");
    }
    done(st);
    return rc;
}

int store_recon_interrupted(struct store *s, struct h2h_err *err)
{
    int rc = op_begin(s, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_RECON_INTERRUPT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    sqlite3_bind_int64(st, 1, now_ms());
    bind_str(st, 2, RECON_INTERRUPTED_ERROR);
    rc = step(s, st, err, "mark interrupted reconciliation runs");
    int changed = rc >= 0 ? sqlite3_changes(s->db) : 0;
    done(st);
    rc = op_end(s, rc < 0 ? rc : 0, err);
    return rc ? rc : changed;
}

/* ---- bill pool and supply-chain finance -------------------------------- */

#define FITS(p, f) terminated((p)->f, sizeof((p)->f))

/* Three letters A-Z in a buffer of 4. */
static int valid_ccy(const char c[4])
{
    if (strnlen(c, 4) != 3)
        return 0;
    for (int i = 0; i < 3; i++)
        if (c[i] < 'A' || c[i] > 'Z')
            return 0;
    return 1;
}

/* "" (unknown) or a valid day. */
static int valid_day_opt(const char *d)
{
    return !d[0] || valid_day(d);
}

/* 1 if name is a stored draft status: known to bill.h and not "none". */
static int draft_status_ok(const char *name)
{
    enum fmt_draft_status st;
    return name && fmt_draft_status_parse(name, &st, NULL) == 0 &&
           st != FMT_DRAFT_NONE;
}

/* NULL for "" so that an empty filter field matches everything. */
static const char *opt(const char *v)
{
    return v && *v ? v : NULL;
}

static int bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    return bind_str(st, i, opt(v));
}

/* The key of a draft piece: bank, 30-digit number, 0/0 or 1 <= from <=
 * to. */
static int draft_key_args(const char *bank, const char *number,
                          int64_t sub_from, int64_t sub_to, struct h2h_err *err)
{
    if (!bank || !*bank ||
        strlen(bank) >= sizeof(((struct store_draft *)0)->bank))
        return h2h_err_set(err, H2H_EINVALID, "draft: bad bank name");
    size_t n = number ? strlen(number) : 0;
    if (n != FMT_DRAFT_NUMBER_LEN ||
        strspn(number, "0123456789") != FMT_DRAFT_NUMBER_LEN)
        return h2h_err_set(err, H2H_EINVALID,
                           "draft: number \"%.40s\" is not %d digits",
                           number ? number : "", FMT_DRAFT_NUMBER_LEN);
    if (sub_from < 0 || sub_from > sub_to || (sub_from == 0 && sub_to != 0))
        return h2h_err_set(err, H2H_EINVALID,
                           "draft %s: bad sub-range %" PRId64 "-%" PRId64,
                           number, sub_from, sub_to);
    return 0;
}

static int draft_args(const struct store_draft *d, struct h2h_err *err)
{
    if (!d)
        return h2h_err_set(err, H2H_EINVALID, "draft: none given");
    const char *field = !FITS(d, bank)            ? "bank"
                        : !FITS(d, number)        ? "number"
                        : !FITS(d, kind)          ? "kind"
                        : !FITS(d, status)        ? "status"
                        : !FITS(d, ccy)           ? "currency"
                        : !FITS(d, issue_date)    ? "issue date"
                        : !FITS(d, maturity_date) ? "maturity date"
                        : !FITS(d, holder)        ? "holder"
                                                  : NULL;
    if (field)
        return h2h_err_set(err, H2H_EINVALID,
                           "draft: the %s does not fit its buffer", field);
    int rc = draft_key_args(d->bank, d->number, d->sub_from, d->sub_to, err);
    if (rc)
        return rc;
    if (strcmp(d->kind, "AC01") != 0 && strcmp(d->kind, "AC02") != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "draft %s: kind \"%s\" is not AC01 or AC02",
                           d->number, d->kind);
    if (!draft_status_ok(d->status))
        return h2h_err_set(err, H2H_EINVALID, "draft %s: unknown status \"%s\"",
                           d->number, d->status);
    if (d->amount < 0 || !valid_ccy(d->ccy))
        return h2h_err_set(err, H2H_EINVALID,
                           "draft %s: bad amount %" PRId64 " %s", d->number,
                           d->amount, d->ccy);
    if (!valid_day_opt(d->issue_date) || !valid_day(d->maturity_date))
        return h2h_err_set(err, H2H_EINVALID,
                           "draft %s: bad issue date \"%s\" or maturity date "
                           "\"%s\"",
                           d->number, d->issue_date, d->maturity_date);
    if (d->pending != 0 && d->pending != 1)
        return h2h_err_set(err, H2H_EINVALID,
                           "draft %s: pending must be 0 or 1", d->number);
    if (d->updated_ms < 0)
        return h2h_err_set(err, H2H_EINVALID, "draft %s: negative update time",
                           d->number);
    return 0;
}

void store_draft_release(struct store_draft *d)
{
    if (!d)
        return;
    free(d->doc);
    memset(d, 0, sizeof(*d));
    d->last_alert_days = -1;
}

/* Fill d from a row selected with DRAFT_COLS; 0 or H2H_ENOMEM. */
static int read_draft(sqlite3_stmt *st, struct store_draft *d,
                      struct h2h_err *err)
{
    memset(d, 0, sizeof(*d));
    col_clip(st, 0, d->bank, sizeof(d->bank));
    col_clip(st, 1, d->number, sizeof(d->number));
    d->sub_from = sqlite3_column_int64(st, 2);
    d->sub_to = sqlite3_column_int64(st, 3);
    col_clip(st, 4, d->kind, sizeof(d->kind));
    col_clip(st, 5, d->status, sizeof(d->status));
    d->amount = sqlite3_column_int64(st, 6);
    col_clip(st, 7, d->ccy, sizeof(d->ccy));
    col_clip(st, 8, d->issue_date, sizeof(d->issue_date));
    col_clip(st, 9, d->maturity_date, sizeof(d->maturity_date));
    col_clip(st, 10, d->holder, sizeof(d->holder));
    d->pending = sqlite3_column_int(st, 11);
    d->updated_ms = sqlite3_column_int64(st, 12);
    d->last_alert_days = sqlite3_column_type(st, 13) == SQLITE_NULL
                             ? -1
                             : sqlite3_column_int(st, 13);
    if (col_dup(st, 14, &d->doc)) {
        store_draft_release(d);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    return 0;
}

static void bind_draft_key(sqlite3_stmt *st, const char *bank,
                           const char *number, int64_t sub_from, int64_t sub_to)
{
    bind_str(st, 1, bank);
    bind_str(st, 2, number);
    sqlite3_bind_int64(st, 3, sub_from);
    sqlite3_bind_int64(st, 4, sub_to);
}

int store_draft_put(struct store *s, const struct store_draft *d,
                    struct h2h_err *err)
{
    int rc = draft_args(d, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_DRAFT_PUT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_draft_key(st, d->bank, d->number, d->sub_from, d->sub_to);
    bind_str(st, 5, d->kind);
    bind_str(st, 6, d->status);
    sqlite3_bind_int64(st, 7, d->amount);
    bind_str(st, 8, d->ccy);
    bind_str(st, 9, d->issue_date);
    bind_str(st, 10, d->maturity_date);
    bind_str(st, 11, d->holder);
    sqlite3_bind_int(st, 12, d->pending);
    sqlite3_bind_int64(st, 13, d->updated_ms ? d->updated_ms : now_ms());
    bind_str(st, 14, d->doc);
    rc = step(s, st, err, "record draft");
    done(st);
    return op_end(s, rc < 0 ? rc : 0, err);
}

int store_draft_get(struct store *s, const char *bank, const char *number,
                    int64_t sub_from, int64_t sub_to, struct store_draft *out,
                    struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    out->last_alert_days = -1;
    int rc = draft_key_args(bank, number, sub_from, sub_to, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_DRAFT_GET, err);
    if (!st)
        return H2H_EDB;
    bind_draft_key(st, bank, number, sub_from, sub_to);
    rc = step(s, st, err, "read draft");
    if (rc == SQLITE_ROW)
        rc = read_draft(st, out, err);
    else if (rc == SQLITE_DONE)
        rc = h2h_err_set(err, H2H_ENOTFOUND,
                         "bank %s: no draft %s sub-range %" PRId64 "-%" PRId64,
                         bank, number, sub_from, sub_to);
    done(st);
    return rc;
}

/* Delete one piece (q Q_DRAFT_DELETE) or set its last_alert_days to days
 * (Q_DRAFT_ALERTED; < 0: NULL); H2H_ENOTFOUND when there is none. */
static int draft_change(struct store *s, enum stmt_id q, const char *bank,
                        const char *number, int64_t sub_from, int64_t sub_to,
                        int days, struct h2h_err *err)
{
    int rc = draft_key_args(bank, number, sub_from, sub_to, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, q, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_draft_key(st, bank, number, sub_from, sub_to);
    if (q == Q_DRAFT_ALERTED) {
        if (days < 0)
            sqlite3_bind_null(st, 5);
        else
            sqlite3_bind_int(st, 5, days);
    }
    rc = step(s, st, err,
              q == Q_DRAFT_DELETE ? "delete draft" : "record draft alert");
    done(st);
    if (rc >= 0)
        rc = sqlite3_changes(s->db) == 1
                 ? 0
                 : h2h_err_set(err, H2H_ENOTFOUND,
                               "bank %s: no draft %s sub-range %" PRId64
                               "-%" PRId64,
                               bank, number, sub_from, sub_to);
    return op_end(s, rc, err);
}

int store_draft_delete(struct store *s, const char *bank, const char *number,
                       int64_t sub_from, int64_t sub_to, struct h2h_err *err)
{
    return draft_change(s, Q_DRAFT_DELETE, bank, number, sub_from, sub_to, 0,
                        err);
}

int store_draft_alerted(struct store *s, const char *bank, const char *number,
                        int64_t sub_from, int64_t sub_to, int days,
                        struct h2h_err *err)
{
    if (days < -1)
        return h2h_err_set(err, H2H_EINVALID,
                           "draft alert: days must be >= 0, or -1 to forget");
    return draft_change(s, Q_DRAFT_ALERTED, bank, number, sub_from, sub_to,
                        days, err);
}

int store_draft_list(struct store *s, const struct store_draft_filter *f,
                     store_draft_cb cb, void *ctx, struct h2h_err *err)
{
    static const struct store_draft_filter all = {0};
    if (!f)
        f = &all;
    if (opt(f->status) && !draft_status_ok(f->status))
        return h2h_err_set(err, H2H_EINVALID,
                           "draft list: unknown status \"%.32s\"", f->status);
    if ((opt(f->maturity_from) && !valid_day(f->maturity_from)) ||
        (opt(f->maturity_to) && !valid_day(f->maturity_to)) ||
        (opt(f->maturity_from) && opt(f->maturity_to) &&
         strcmp(f->maturity_from, f->maturity_to) > 0))
        return h2h_err_set(err, H2H_EINVALID,
                           "draft list: bad maturity window %.10s to %.10s",
                           f->maturity_from ? f->maturity_from : "",
                           f->maturity_to ? f->maturity_to : "");
    sqlite3_stmt *st = stmt(s, Q_DRAFT_LIST, err);
    if (!st)
        return H2H_EDB;
    bind_opt(st, 1, f->bank);
    bind_opt(st, 2, f->status);
    bind_opt(st, 3, f->maturity_from);
    bind_opt(st, 4, f->maturity_to);
    bind_opt(st, 5, f->number);
    sqlite3_bind_int64(
        st, 6,
        f->limit && f->limit < (size_t)INT64_MAX ? (int64_t)f->limit : -1);

    struct store_draft *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = step(s, st, err, "list drafts")) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_draft *nr = realloc(rows, ncap * sizeof(*rows));
            if (!nr) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
            cap = ncap;
        }
        if ((rc = read_draft(st, &rows[n], err)) != 0)
            break;
        n++;
    }
    done(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &rows[i]);
    for (size_t i = 0; i < n; i++)
        store_draft_release(&rows[i]);
    free(rows);
    return rc;
}

/* ---- credit vouchers ---------------------------------------------------- */

static int voucher_key_args(const char *bank, const char *id,
                            struct h2h_err *err)
{
    if (!bank || !*bank ||
        strlen(bank) >= sizeof(((struct store_voucher *)0)->bank) || !id ||
        !*id || strlen(id) >= sizeof(((struct store_voucher *)0)->id))
        return h2h_err_set(err, H2H_EINVALID, "voucher: bad bank or id");
    return 0;
}

static int voucher_args(const struct store_voucher *v, struct h2h_err *err)
{
    if (!v)
        return h2h_err_set(err, H2H_EINVALID, "voucher: none given");
    const char *field = !FITS(v, bank)            ? "bank"
                        : !FITS(v, id)            ? "id"
                        : !FITS(v, parent_id)     ? "parent id"
                        : !FITS(v, root_id)       ? "root id"
                        : !FITS(v, issuer)        ? "issuer"
                        : !FITS(v, holder)        ? "holder"
                        : !FITS(v, status)        ? "status"
                        : !FITS(v, ccy)           ? "currency"
                        : !FITS(v, issue_date)    ? "issue date"
                        : !FITS(v, maturity_date) ? "maturity date"
                        : !FITS(v, fin_bank)      ? "financing bank"
                        : !FITS(v, ours_role)     ? "role"
                                                  : NULL;
    if (field)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher: the %s does not fit its buffer", field);
    int rc = voucher_key_args(v->bank, v->id, err);
    if (rc)
        return rc;
    if (!v->root_id[0] || !v->issuer[0] || !v->holder[0] || !v->ours_role[0])
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: root id, issuer, holder and role are "
                           "required",
                           v->id);
    if (fmt_voucher_status_parse(v->status) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: unknown status \"%s\"", v->id,
                           v->status);
    if (v->level < 1 || (v->parent_id[0] == '\0') != (v->level == 1) ||
        (v->level == 1 && strcmp(v->root_id, v->id) != 0) ||
        strcmp(v->parent_id, v->id) == 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: level %d does not fit parent \"%s\" "
                           "and root \"%s\"",
                           v->id, v->level, v->parent_id, v->root_id);
    if (v->amount < 0 || !valid_ccy(v->ccy) || v->remaining < 0 ||
        v->remaining > v->amount)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: bad amount %" PRId64 " %s or "
                           "remaining %" PRId64,
                           v->id, v->amount, v->ccy, v->remaining);
    if (!valid_day(v->issue_date) || !valid_day(v->maturity_date))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: bad issue date \"%s\" or maturity "
                           "date \"%s\"",
                           v->id, v->issue_date, v->maturity_date);
    if (v->updated_ms < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: negative update time", v->id);
    return 0;
}

void store_voucher_release(struct store_voucher *v)
{
    if (!v)
        return;
    free(v->doc);
    memset(v, 0, sizeof(*v));
}

/* Fill v from a row selected with VOUCHER_COLS; 0 or H2H_ENOMEM. */
static int read_voucher(sqlite3_stmt *st, struct store_voucher *v,
                        struct h2h_err *err)
{
    memset(v, 0, sizeof(*v));
    col_clip(st, 0, v->bank, sizeof(v->bank));
    col_clip(st, 1, v->id, sizeof(v->id));
    col_clip(st, 2, v->parent_id, sizeof(v->parent_id));
    col_clip(st, 3, v->root_id, sizeof(v->root_id));
    v->level = sqlite3_column_int(st, 4);
    col_clip(st, 5, v->issuer, sizeof(v->issuer));
    col_clip(st, 6, v->holder, sizeof(v->holder));
    col_clip(st, 7, v->status, sizeof(v->status));
    v->amount = sqlite3_column_int64(st, 8);
    col_clip(st, 9, v->ccy, sizeof(v->ccy));
    v->remaining = sqlite3_column_int64(st, 10);
    col_clip(st, 11, v->issue_date, sizeof(v->issue_date));
    col_clip(st, 12, v->maturity_date, sizeof(v->maturity_date));
    col_clip(st, 13, v->fin_bank, sizeof(v->fin_bank));
    col_clip(st, 14, v->ours_role, sizeof(v->ours_role));
    v->updated_ms = sqlite3_column_int64(st, 15);
    if (col_dup(st, 16, &v->doc)) {
        store_voucher_release(v);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    return 0;
}

int store_voucher_put(struct store *s, const struct store_voucher *v,
                      struct h2h_err *err)
{
    int rc = voucher_args(v, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_VOUCHER_PUT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, v->bank);
    bind_str(st, 2, v->id);
    bind_str(st, 3, v->parent_id);
    bind_str(st, 4, v->root_id);
    sqlite3_bind_int(st, 5, v->level);
    bind_str(st, 6, v->issuer);
    bind_str(st, 7, v->holder);
    bind_str(st, 8, v->status);
    sqlite3_bind_int64(st, 9, v->amount);
    bind_str(st, 10, v->ccy);
    sqlite3_bind_int64(st, 11, v->remaining);
    bind_str(st, 12, v->issue_date);
    bind_str(st, 13, v->maturity_date);
    bind_str(st, 14, v->fin_bank);
    bind_str(st, 15, v->ours_role);
    sqlite3_bind_int64(st, 16, v->updated_ms ? v->updated_ms : now_ms());
    bind_str(st, 17, v->doc);
    rc = step(s, st, err, "record voucher");
    done(st);
    return op_end(s, rc < 0 ? rc : 0, err);
}

int store_voucher_get(struct store *s, const char *bank, const char *id,
                      struct store_voucher *out, struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    int rc = voucher_key_args(bank, id, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_VOUCHER_GET, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, bank);
    bind_str(st, 2, id);
    rc = step(s, st, err, "read voucher");
    if (rc == SQLITE_ROW)
        rc = read_voucher(st, out, err);
    else if (rc == SQLITE_DONE)
        rc =
            h2h_err_set(err, H2H_ENOTFOUND, "bank %s: no voucher %s", bank, id);
    done(st);
    return rc;
}

int store_voucher_list(struct store *s, const struct store_voucher_filter *f,
                       store_voucher_cb cb, void *ctx, struct h2h_err *err)
{
    static const struct store_voucher_filter all = {0};
    if (!f)
        f = &all;
    if (opt(f->status) && fmt_voucher_status_parse(f->status) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher list: unknown status \"%.32s\"", f->status);
    sqlite3_stmt *st = stmt(s, Q_VOUCHER_LIST, err);
    if (!st)
        return H2H_EDB;
    bind_opt(st, 1, f->bank);
    bind_opt(st, 2, f->status);
    bind_opt(st, 3, f->holder);
    bind_opt(st, 4, f->root_id);

    struct store_voucher *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = step(s, st, err, "list vouchers")) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_voucher *nr = realloc(rows, ncap * sizeof(*rows));
            if (!nr) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
            cap = ncap;
        }
        if ((rc = read_voucher(st, &rows[n], err)) != 0)
            break;
        n++;
    }
    done(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &rows[i]);
    for (size_t i = 0; i < n; i++)
        store_voucher_release(&rows[i]);
    free(rows);
    return rc;
}

/* ---- financing requests ------------------------------------------------- */

static int fin_key_args(const char *bank, const char *request_id,
                        struct h2h_err *err)
{
    if (!bank || !*bank ||
        strlen(bank) >= sizeof(((struct store_financing *)0)->bank) ||
        !request_id || !*request_id ||
        strlen(request_id) >= sizeof(((struct store_financing *)0)->request_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request: bad bank or request id");
    return 0;
}

static int fin_args(const struct store_financing *r, struct h2h_err *err)
{
    if (!r)
        return h2h_err_set(err, H2H_EINVALID, "financing request: none given");
    const char *field = !FITS(r, bank)            ? "bank"
                        : !FITS(r, request_id)    ? "request id"
                        : !FITS(r, kind)          ? "kind"
                        : !FITS(r, status)        ? "status"
                        : !FITS(r, ccy)           ? "currency"
                        : !FITS(r, loan_ref)      ? "loan reference"
                        : !FITS(r, value_date)    ? "value date"
                        : !FITS(r, maturity_date) ? "maturity date"
                        : !FITS(r, reason)        ? "reason"
                        : !FITS(r, msg_id)        ? "message id"
                                                  : NULL;
    if (field)
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request: the %s does not fit its buffer",
                           field);
    int rc = fin_key_args(r->bank, r->request_id, err);
    if (rc)
        return rc;
    if (fmt_scf_kind_parse(r->kind) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request %s: unknown kind \"%s\"",
                           r->request_id, r->kind);
    if (fmt_scf_status_parse(r->status) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request %s: unknown status \"%s\"",
                           r->request_id, r->status);
    if (!valid_ccy(r->ccy) || r->requested < 0 || r->approved < 0 ||
        r->financed < 0 || r->repaid < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request %s: bad currency \"%s\" or a "
                           "negative amount",
                           r->request_id, r->ccy);
    if (!valid_day_opt(r->value_date) || !valid_day_opt(r->maturity_date))
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request %s: bad value date \"%s\" or "
                           "maturity date \"%s\"",
                           r->request_id, r->value_date, r->maturity_date);
    if (r->updated_ms < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "financing request %s: negative update time",
                           r->request_id);
    return 0;
}

void store_financing_release(struct store_financing *r)
{
    if (!r)
        return;
    free(r->doc);
    memset(r, 0, sizeof(*r));
}

/* Fill r from a row selected with FIN_COLS; 0 or H2H_ENOMEM. */
static int read_financing(sqlite3_stmt *st, struct store_financing *r,
                          struct h2h_err *err)
{
    memset(r, 0, sizeof(*r));
    col_clip(st, 0, r->bank, sizeof(r->bank));
    col_clip(st, 1, r->request_id, sizeof(r->request_id));
    col_clip(st, 2, r->kind, sizeof(r->kind));
    col_clip(st, 3, r->status, sizeof(r->status));
    col_clip(st, 4, r->ccy, sizeof(r->ccy));
    r->requested = sqlite3_column_int64(st, 5);
    r->approved = sqlite3_column_int64(st, 6);
    r->financed = sqlite3_column_int64(st, 7);
    r->repaid = sqlite3_column_int64(st, 8);
    col_clip(st, 9, r->loan_ref, sizeof(r->loan_ref));
    col_clip(st, 10, r->value_date, sizeof(r->value_date));
    col_clip(st, 11, r->maturity_date, sizeof(r->maturity_date));
    col_clip(st, 12, r->reason, sizeof(r->reason));
    col_clip(st, 13, r->msg_id, sizeof(r->msg_id));
    r->updated_ms = sqlite3_column_int64(st, 14);
    if (col_dup(st, 15, &r->doc)) {
        store_financing_release(r);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    return 0;
}

int store_financing_put(struct store *s, const struct store_financing *r,
                        struct h2h_err *err)
{
    int rc = fin_args(r, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_FIN_PUT, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, r->bank);
    bind_str(st, 2, r->request_id);
    bind_str(st, 3, r->kind);
    bind_str(st, 4, r->status);
    bind_str(st, 5, r->ccy);
    sqlite3_bind_int64(st, 6, r->requested);
    sqlite3_bind_int64(st, 7, r->approved);
    sqlite3_bind_int64(st, 8, r->financed);
    sqlite3_bind_int64(st, 9, r->repaid);
    bind_str(st, 10, r->loan_ref);
    bind_str(st, 11, r->value_date);
    bind_str(st, 12, r->maturity_date);
    bind_str(st, 13, r->reason);
    bind_opt(st, 14, r->msg_id);
    sqlite3_bind_int64(st, 15, r->updated_ms ? r->updated_ms : now_ms());
    bind_str(st, 16, r->doc);
    rc = step(s, st, err, "record financing request");
    if (rc < 0 &&
        sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = h2h_err_set(err, H2H_ENOTFOUND,
                         "financing request %s: no message %s", r->request_id,
                         r->msg_id);
    done(st);
    return op_end(s, rc < 0 ? rc : 0, err);
}

int store_financing_get(struct store *s, const char *bank,
                        const char *request_id, struct store_financing *out,
                        struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    int rc = fin_key_args(bank, request_id, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, Q_FIN_GET, err);
    if (!st)
        return H2H_EDB;
    bind_str(st, 1, bank);
    bind_str(st, 2, request_id);
    rc = step(s, st, err, "read financing request");
    if (rc == SQLITE_ROW)
        rc = read_financing(st, out, err);
    else if (rc == SQLITE_DONE)
        rc = h2h_err_set(err, H2H_ENOTFOUND, "bank %s: no financing request %s",
                         bank, request_id);
    done(st);
    return rc;
}

int store_financing_list(struct store *s,
                         const struct store_financing_filter *f,
                         store_financing_cb cb, void *ctx, struct h2h_err *err)
{
    static const struct store_financing_filter all = {0};
    if (!f)
        f = &all;
    if (opt(f->status) && fmt_scf_status_parse(f->status) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "financing list: unknown status \"%.32s\"",
                           f->status);
    sqlite3_stmt *st = stmt(s, Q_FIN_LIST, err);
    if (!st)
        return H2H_EDB;
    bind_opt(st, 1, f->bank);
    bind_opt(st, 2, f->status);

    struct store_financing *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = step(s, st, err, "list financing requests")) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_financing *nr = realloc(rows, ncap * sizeof(*rows));
            if (!nr) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
            cap = ncap;
        }
        if ((rc = read_financing(st, &rows[n], err)) != 0)
            break;
        n++;
    }
    done(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &rows[i]);
    for (size_t i = 0; i < n; i++)
        store_financing_release(&rows[i]);
    free(rows);
    return rc;
}

/* ---- pool figures ------------------------------------------------------ */

/* An as_of read for comparison: the civil day, and for a timestamp the
 * second of that day and, when it names a zone, its offset. */
struct as_of_key {
    long day;
    int has_time, has_zone;
    long sec, offset;
};

/* "" -> 0 with nothing set; a date or timestamp -> 1; else -1. */
static int as_of_parse(const char *t, struct as_of_key *k)
{
    memset(k, 0, sizeof(*k));
    if (!*t)
        return 0;
    char day[11];
    snprintf(day, sizeof(day), "%s", t);
    if ((k->day = fmt_date_days(day)) == INT32_MIN)
        return -1;
    if (!t[10])
        return 1;
    if (fmt_datetime_check(t, NULL) != 0)
        return -1;
    k->has_time = 1;
    k->sec = ((t[11] - '0') * 10 + (t[12] - '0')) * 3600L +
             ((t[14] - '0') * 10 + (t[15] - '0')) * 60L + (t[17] - '0') * 10 +
             (t[18] - '0');
    const char *z = t + 19;
    if (*z == '.')
        for (z++; *z >= '0' && *z <= '9'; z++)
            ;
    if (*z == 'Z') {
        k->has_zone = 1;
    } else if (*z == '+' || *z == '-') {
        k->has_zone = 1;
        k->offset = ((z[1] - '0') * 10 + (z[2] - '0')) * 3600L +
                    ((z[4] - '0') * 10 + (z[5] - '0')) * 60L;
        if (*z == '-')
            k->offset = -k->offset;
    }
    return 1;
}

/* < 0 when as_of a is earlier than b, 0 when neither is (or either is
 * ""), > 0 when later; see store.h.  Both were checked by pool_args. */
static int as_of_cmp(const char *a, const char *b)
{
    struct as_of_key x, y;
    if (as_of_parse(a, &x) <= 0 || as_of_parse(b, &y) <= 0)
        return 0;
    if (!x.has_time || !y.has_time)
        return (x.day > y.day) - (x.day < y.day);
    int64_t tx = (int64_t)x.day * 86400 + x.sec;
    int64_t ty = (int64_t)y.day * 86400 + y.sec;
    if (x.has_zone && y.has_zone) {
        tx -= x.offset;
        ty -= y.offset;
    }
    return (tx > ty) - (tx < ty);
}

static int pool_args(const struct store_pool *p, struct h2h_err *err)
{
    if (!p)
        return h2h_err_set(err, H2H_EINVALID, "pool: none given");
    const char *field = !FITS(p, bank)      ? "bank"
                        : !FITS(p, pool_id) ? "pool id"
                        : !FITS(p, as_of)   ? "as-of time"
                        : !FITS(p, ccy)     ? "currency"
                                            : NULL;
    if (field)
        return h2h_err_set(err, H2H_EINVALID,
                           "pool: the %s does not fit its buffer", field);
    if (!p->bank[0])
        return h2h_err_set(err, H2H_EINVALID, "pool: no bank");
    struct as_of_key k;
    if (as_of_parse(p->as_of, &k) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "pool %s: as-of \"%s\" is neither a date nor a "
                           "timestamp",
                           p->pool_id, p->as_of);
    const int64_t a[] = {p->pledged_total, p->deposit, p->quota_total,
                         p->quota_used, p->quota_available};
    int given = 0;
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
        if (a[i] < -1)
            return h2h_err_set(err, H2H_EINVALID,
                               "pool %s: negative amount %" PRId64, p->pool_id,
                               a[i]);
        given |= a[i] >= 0;
    }
    if (p->pledged_count < 0 || (given ? !valid_ccy(p->ccy) : p->ccy[0] != 0))
        return h2h_err_set(err, H2H_EINVALID,
                           "pool %s: count %" PRId64 " or currency \"%s\" "
                           "does not fit its amounts",
                           p->pool_id, p->pledged_count, p->ccy);
    if (p->learnt_ms < 0)
        return h2h_err_set(err, H2H_EINVALID, "pool %s: negative learnt time",
                           p->pool_id);
    return 0;
}

static void bind_amount_opt(sqlite3_stmt *st, int i, int64_t v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

static int64_t col_amount_opt(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? -1
               : sqlite3_column_int64(st, i);
}

/* Fill p from a row selected with POOL_COLS. */
static void read_pool(sqlite3_stmt *st, struct store_pool *p)
{
    memset(p, 0, sizeof(*p));
    col_clip(st, 0, p->bank, sizeof(p->bank));
    col_clip(st, 1, p->pool_id, sizeof(p->pool_id));
    col_clip(st, 2, p->as_of, sizeof(p->as_of));
    col_clip(st, 3, p->ccy, sizeof(p->ccy));
    p->pledged_count = sqlite3_column_int64(st, 4);
    p->pledged_total = col_amount_opt(st, 5);
    p->deposit = col_amount_opt(st, 6);
    p->quota_total = col_amount_opt(st, 7);
    p->quota_used = col_amount_opt(st, 8);
    p->quota_available = col_amount_opt(st, 9);
    p->learnt_ms = sqlite3_column_int64(st, 10);
}

static int pool_same(const struct store_pool *a, const struct store_pool *b)
{
    return strcmp(a->as_of, b->as_of) == 0 && strcmp(a->ccy, b->ccy) == 0 &&
           a->pledged_count == b->pledged_count &&
           a->pledged_total == b->pledged_total && a->deposit == b->deposit &&
           a->quota_total == b->quota_total &&
           a->quota_used == b->quota_used &&
           a->quota_available == b->quota_available;
}

int store_pool_put(struct store *s, const struct store_pool *p,
                   struct h2h_err *err)
{
    int rc = pool_args(p, err);
    if (rc || (rc = op_begin(s, err)) != 0)
        return rc;
    /* read and write under the one write lock op_begin took */
    int verdict = STORE_POOL_STORED;
    sqlite3_stmt *st = stmt(s, Q_POOL_GET, err);
    if (!st)
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, p->bank);
    bind_str(st, 2, p->pool_id);
    rc = step(s, st, err, "read pool figures");
    if (rc == SQLITE_ROW) {
        struct store_pool old;
        read_pool(st, &old);
        verdict = pool_same(&old, p)                  ? STORE_POOL_SAME
                  : as_of_cmp(p->as_of, old.as_of) < 0 ? STORE_POOL_OLDER
                                                       : STORE_POOL_STORED;
    }
    done(st);
    if (rc < 0 || verdict != STORE_POOL_STORED) {
        rc = op_end(s, rc < 0 ? rc : 0, err);
        return rc ? rc : verdict;
    }
    if (!(st = stmt(s, Q_POOL_PUT, err)))
        return op_end(s, H2H_EDB, err);
    bind_str(st, 1, p->bank);
    bind_str(st, 2, p->pool_id);
    bind_str(st, 3, p->as_of);
    bind_str(st, 4, p->ccy);
    sqlite3_bind_int64(st, 5, p->pledged_count);
    bind_amount_opt(st, 6, p->pledged_total);
    bind_amount_opt(st, 7, p->deposit);
    bind_amount_opt(st, 8, p->quota_total);
    bind_amount_opt(st, 9, p->quota_used);
    bind_amount_opt(st, 10, p->quota_available);
    sqlite3_bind_int64(st, 11, p->learnt_ms ? p->learnt_ms : now_ms());
    rc = step(s, st, err, "record pool figures");
    done(st);
    return op_end(s, rc < 0 ? rc : 0, err);
}

int store_pool_list(struct store *s, const char *bank, store_pool_cb cb,
                    void *ctx, struct h2h_err *err)
{
    sqlite3_stmt *st = stmt(s, Q_POOL_LIST, err);
    if (!st)
        return H2H_EDB;
    bind_opt(st, 1, bank);
    struct store_pool *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = step(s, st, err, "list pool figures")) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct store_pool *nr = realloc(rows, ncap * sizeof(*rows));
            if (!nr) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
            cap = ncap;
        }
        read_pool(st, &rows[n++]);
    }
    done(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cb(ctx, &rows[i]);
    free(rows);
    return rc;
}

/* ---- consistency check ------------------------------------------------ */

struct check {
    int problems;
    char msg[H2H_ERR_MSG_MAX - 64];
    size_t len;
};

static void problem(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct check *c, const char *fmt, ...)
{
    if (c->problems++ >= CHECK_QUOTE_MAX || c->len >= sizeof(c->msg) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(c->msg + c->len, sizeof(c->msg) - c->len, "%s",
                     c->len ? "; " : "");
    if (n > 0)
        c->len += (size_t)n;
    if (c->len < sizeof(c->msg)) {
        n = vsnprintf(c->msg + c->len, sizeof(c->msg) - c->len, fmt, ap);
        if (n > 0)
            c->len += (size_t)n;
    }
    if (c->len >= sizeof(c->msg))
        c->len = sizeof(c->msg) - 1;
    va_end(ap);
}

static const char *col_s(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "NULL";
}

/* Run sql; every row is a problem described by fmt over its first up to
 * three text columns. */
static int check_query(struct store *s, struct check *c, const char *sql,
                       const char *fmt, struct h2h_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "prepare check");
    int rc;
    while ((rc = step(s, st, err, "check")) == SQLITE_ROW) {
        const char *a = col_s(st, 0);
        const char *b = sqlite3_column_count(st) > 1 ? col_s(st, 1) : "";
        const char *d = sqlite3_column_count(st) > 2 ? col_s(st, 2) : "";
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        problem(c, fmt, a, b, d);
#pragma GCC diagnostic pop
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

int store_check(struct store *s, struct h2h_err *err)
{
    struct check c = {0};
    int rc;
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) !=
        SQLITE_OK)
        return db_err(s, err, "integrity_check");
    while ((rc = step(s, st, err, "integrity_check")) == SQLITE_ROW) {
        const char *r = col_s(st, 0);
        if (strcmp(r, "ok") != 0)
            problem(&c, "integrity: %s", r);
    }
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;

    /* The state name lists are built from state.c's table, so a state
     * added there is known here without editing SQL by hand. */
    char names[512] = "", terminal[128] = "";
    size_t nl = 0, tl = 0;
    for (int i = 0; i < ST__COUNT; i++) {
        nl += (size_t)snprintf(names + nl, sizeof(names) - nl, "%s'%s'",
                               i ? "," : "", state_name((enum msg_state)i));
        if (state_is_terminal((enum msg_state)i))
            tl +=
                (size_t)snprintf(terminal + tl, sizeof(terminal) - tl, "%s'%s'",
                                 tl ? "," : "", state_name((enum msg_state)i));
    }
    /* Likewise the status names of drafts (without "none"), vouchers and
     * financing requests from formats/. */
    char dnames[1024] = "", vnames[256] = "", fnames[256] = "";
    size_t dl = 0, vl = 0, fl = 0;
    for (int i = FMT_DRAFT_NONE + 1; i < FMT_DRAFT_STATUS_COUNT; i++)
        dl += (size_t)snprintf(dnames + dl, sizeof(dnames) - dl, "%s'%s'",
                               dl ? "," : "",
                               fmt_draft_status_name((enum fmt_draft_status)i));
    for (int i = 0; i < FMT_VOUCHER_STATUS__COUNT; i++)
        vl += (size_t)snprintf(
            vnames + vl, sizeof(vnames) - vl, "%s'%s'", i ? "," : "",
            fmt_voucher_status_name((enum fmt_voucher_status)i));
    for (int i = 0; i < FMT_SCF_STATUS__COUNT; i++)
        fl += (size_t)snprintf(fnames + fl, sizeof(fnames) - fl, "%s'%s'",
                               i ? "," : "",
                               fmt_scf_status_name((enum fmt_scf_status)i));

    struct {
        const char *sql, *fmt;
    } q[] = {
        {"PRAGMA foreign_key_check", "foreign key: table %s row %s -> %s"},
        {"SELECT id, state FROM msg WHERE state NOT IN (%N)",
         "message %s: unknown state %s%s"},
        {"SELECT id, state, held_from FROM msg WHERE "
         "(state = 'held') <> (held_from IS NOT NULL) "
         "OR (held_from IS NOT NULL AND held_from NOT IN (%N))",
         "message %s: state %s with held_from %s"},
        {"SELECT id FROM msg m WHERE NOT EXISTS "
         "(SELECT 1 FROM event e WHERE e.msg_id = m.id)",
         "message %s has no events%s%s"},
        {"SELECT m.id, m.state, e.to_state FROM msg m JOIN event e "
         "ON e.seq = (SELECT max(seq) FROM event WHERE msg_id = m.id) "
         "WHERE e.to_state IS NOT m.state",
         "message %s is %s but its last event ends in %s"},
        {"SELECT msg_id, from_state, prev FROM (SELECT msg_id, seq, "
         "from_state, lag(to_state) OVER (PARTITION BY msg_id ORDER BY seq) "
         "AS prev FROM event) WHERE from_state IS NOT prev",
         "message %s: event from %s does not follow %s"},
        {"SELECT id, state FROM msg WHERE state NOT IN (%T) AND "
         "(payload_path IS NULL OR payload_path = '')",
         "message %s is %s without a payload path%s"},
        {"SELECT max(CAST(substr(id, 11) AS INTEGER)), value FROM msg, meta "
         "WHERE meta.key = 'id_seq' GROUP BY value "
         "HAVING max(CAST(substr(id, 11) AS INTEGER)) > value",
         "id sequence %2$s is behind message id number %1$s%3$s"},
        {"SELECT id, result FROM recon_run WHERE result NOT IN "
         "('running', 'ok', 'failed', 'interrupted')",
         "reconciliation run %s: unknown result %s%s"},
        {"SELECT id, result, ended_ms FROM recon_run "
         "WHERE (result = 'running') <> (ended_ms = 0)",
         "reconciliation run %s is %s with ended_ms %s"},
        {"SELECT n, v FROM (SELECT max(CAST(substr(id, 11) AS INTEGER)) AS n, "
         "coalesce((SELECT value FROM meta WHERE key = 'ctr:recon'), 0) AS v "
         "FROM recon_run) WHERE n > v",
         "reconciliation counter %2$s is behind run id number %1$s%3$s"},
        {"SELECT bank || ' ' || number || ' ' || sub_from || '-' || sub_to, "
         "status FROM draft WHERE status NOT IN (%D)",
         "draft %s: unknown status '%s'%s"},
        {"SELECT bank || ' ' || number, sub_from, sub_to FROM draft "
         "WHERE sub_from < 0 OR sub_from > sub_to "
         "OR (sub_from = 0 AND sub_to <> 0)",
         "draft %s: bad sub-range %s-%s"},
        {"SELECT bank || ' ' || number || ' ' || sub_from || '-' || sub_to, "
         "kind, pending FROM draft WHERE kind NOT IN ('AC01', 'AC02') "
         "OR pending NOT IN (0, 1)",
         "draft %s: kind '%s' with pending %s"},
        {"SELECT bank || ' ' || number || ' ' || sub_from || '-' || sub_to, "
         "amount, last_alert_days FROM draft "
         "WHERE amount < 0 OR last_alert_days < 0",
         "draft %s: amount %s, last alert days %s"},
        {"SELECT bank || ' ' || id, status FROM voucher "
         "WHERE status NOT IN (%V)",
         "voucher %s: unknown status '%s'%s"},
        {"SELECT bank || ' ' || id, remaining, amount FROM voucher "
         "WHERE remaining < 0 OR remaining > amount",
         "voucher %s: remaining %s outside 0..%s"},
        {"SELECT bank || ' ' || id, level, parent_id FROM voucher "
         "WHERE level < 1 OR (parent_id = '') <> (level = 1)",
         "voucher %s: level %s with parent '%s'"},
        {"SELECT bank || ' ' || request_id, status FROM scf_request "
         "WHERE status NOT IN (%F)",
         "financing request %s: unknown status '%s'%s"},
        {"SELECT bank || ' ' || request_id FROM scf_request "
         "WHERE min(requested, approved, financed, repaid) < 0",
         "financing request %s has a negative amount%s%s"},
        {"SELECT bank || ' ' || pool_id, pledged_count, ccy FROM bill_pool "
         "WHERE pledged_count < 0 OR min(coalesce(pledged_total, 0), "
         "coalesce(deposit, 0), coalesce(quota_total, 0), "
         "coalesce(quota_used, 0), coalesce(quota_available, 0)) < 0 "
         "OR (ccy = '') <> (coalesce(pledged_total, deposit, quota_total, "
         "quota_used, quota_available) IS NULL)",
         "pool %s: count %s, a negative amount or currency '%s' that does "
         "not fit its amounts"},
    };
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        char sql[2048];
        size_t o = 0;
        for (const char *p = q[i].sql; *p && o < sizeof(sql) - 1; p++) {
            const char *sub = NULL;
            if (p[0] == '%' && p[1] == 'N')
                sub = names;
            else if (p[0] == '%' && p[1] == 'T')
                sub = terminal;
            else if (p[0] == '%' && p[1] == 'D')
                sub = dnames;
            else if (p[0] == '%' && p[1] == 'V')
                sub = vnames;
            else if (p[0] == '%' && p[1] == 'F')
                sub = fnames;
            if (sub) {
                o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s", sub);
                p++;
            } else {
                sql[o++] = *p;
            }
        }
        sql[o < sizeof(sql) ? o : sizeof(sql) - 1] = '\0';
        if ((rc = check_query(s, &c, sql, q[i].fmt, err)) != 0)
            return rc;
    }

    /* Every recorded step must be one the table allows. */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT msg_id, from_state, to_state FROM event "
                           "WHERE from_state IS NOT NULL ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "prepare check");
    while ((rc = step(s, st, err, "check")) == SQLITE_ROW) {
        int f = state_parse((const char *)sqlite3_column_text(st, 1));
        int t = state_parse((const char *)sqlite3_column_text(st, 2));
        if (f < 0 || t < 0 ||
            !state_can_transition((enum msg_state)f, (enum msg_state)t))
            problem(&c, "message %s: event %s -> %s is not allowed",
                    col_s(st, 0), col_s(st, 1), col_s(st, 2));
    }
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;

    if (c.problems)
        return h2h_err_set(err, H2H_EDB, "store check: %d problem%s: %s%s",
                           c.problems, c.problems == 1 ? "" : "s", c.msg,
                           c.problems > CHECK_QUOTE_MAX ? "; ..." : "");
    return 0;
}
