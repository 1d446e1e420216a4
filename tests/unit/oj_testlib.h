/*
 * oj_testlib.h - the harness the openapi_json suites (test_openapi_json,
 * test_oj_bills) share: the strict JSON bank simulator
 * tests/sims/bank_openapi.py started once per suite through
 * tests/sims/openapi_world.py (its PKI, secret and ports in ojt_env), its
 * admin port, and a bank "obank" on it with a loop of its own.
 *
 *     if (ojt_env_start(seed) != 0) { CU_FAIL(...); return; }
 *     struct ojt_world w;
 *     if (ojt_world_open(&w, NULL, "kinds = ( \"bill\" );") == 0) {
 *         struct ojt_got g;
 *         ojt_op(&w, 0, &req, &g);   // submit, run until the result
 *     }
 *     ojt_world_close(&w);           // also after a failed open
 *     ...
 *     int main(void) { return ojt_main("suite", cases); }
 *
 * The calls assert with CUnit as they go (a failed step fails the test).
 */
#ifndef H2H_OJ_TESTLIB_H
#define H2H_OJ_TESTLIB_H

#include <stddef.h>

#include <jansson.h>
#include <libconfig.h>
#include <uv.h>

#include "adapter.h"
#include "testutil.h"

/* What openapi_world.py said about the simulator it started (paths of the
 * PKI files it made, the client secret file, ports). */
struct ojt_env {
    int up, failed;
    char dir[256]; /* the world's parent: seed.json, info.json, world/ */
    char ca[600], client[600], client_key[600], client_p12[600],
        client_p12_pass[600], client2[600], client2_key[600];
    char sign[600], sign_key[600]; /* our request signing certificate */
    char bank[600];                /* the bank's response signing one */
    char secret[600], client_id[64], base_url[128];
    unsigned port, admin_port;
};
extern struct ojt_env ojt_env;

/* Start the simulator seeded with seed (its --seed JSON text), page size 2,
 * once per process: later calls give the first call's outcome whatever
 * their seed.  0 when it is up. */
int ojt_env_start(const char *seed);
/* Stop it and remove its folder (kept with H2H_KEEP). */
void ojt_env_stop(void);
/* A suite's main: the certificate and TLS libraries set up, the cases
 * run (tu_main), the simulator stopped; non-zero when anything failed. */
int ojt_main(const char *suite, const struct tu_case *cases);
/* String member k of o into dst ("" when there is none). */
void ojt_jcopy(const json_t *o, const char *k, char *dst, size_t n);

/* One request to the admin port (plain HTTP on loopback); the answer's
 * JSON (NULL when there is none; the caller decrefs), its HTTP status in
 * *status when status is not NULL. */
json_t *ojt_admin(const char *method, const char *path, const char *body,
                  int *status);

/* "YYYY-MM-DD" offset days from today (UTC). */
void ojt_day(int offset, char out[11]);

/* check_config's problems, each "line: message\n". */
struct ojt_reports {
    int n;
    char all[4096];
};
void ojt_report_cb(void *ctx, const config_setting_t *s, const char *msg);
/* check_config of the "bank" group in text: its count of problems (in
 * *r), -1 when text does not parse. */
int ojt_check(const char *text, struct ojt_reports *r);

/* The bank "obank" in a fresh folder. */
struct ojt_world {
    uv_loop_t loop;
    config_t cfg;
    struct h2h_adapter *a;
    char base[300];  /* local folder */
    char state[400]; /* the adapter's state_dir */
    char tmp[400];   /* poll tmp_dir */
    char got[400];   /* what ojt_poll delivered, moved here */
};
/* Open w on the simulator: the settings ojt_env names (tls: the tls
 * group's body, NULL for the client PEM files), 5 s timeouts, and members
 * (more openapi_json settings, may be NULL); checked with check_config
 * (problems printed) before create.  0 when the adapter was created;
 * either way ojt_world_close(w) must follow. */
int ojt_world_open(struct ojt_world *w, const char *tls, const char *members);
/* Close the adapter (waiting for its close callback), the loop and the
 * config; remove the folder (kept with H2H_KEEP). */
void ojt_world_close(struct ojt_world *w);

/* Run loop until *count >= want or ms passed; 0 when reached.  A ticking
 * timer makes each UV_RUN_ONCE return soon. */
int ojt_run_until(uv_loop_t *loop, int *count, int want, unsigned ms);
/* The close callback: counts into ojt_closed_calls (reset it first). */
extern int ojt_closed_calls;
void ojt_closed_cb(struct h2h_adapter *a);

/* A submit's or recover's result. */
struct ojt_got {
    int calls;
    enum h2h_outcome out;
    int code;
    char msg[H2H_ERR_MSG_MAX];
    char ref[128];
};
/* Records the result in the struct ojt_got req->data points to. */
void ojt_result_cb(struct h2h_adapter *a, struct h2h_submit_req *req,
                   const struct h2h_result *r);
/* Submit (recover = 0) or recover req with req->data = g, and run the
 * loop until its one result, which is in *g (never called back from
 * inside the call). */
void ojt_op(struct ojt_world *w, int recover, struct h2h_submit_req *req,
            struct ojt_got *g);

/* What a poll delivered (the first OJT_PGOT_MAX files). */
#define OJT_PGOT_MAX 64
struct ojt_pgot {
    struct ojt_world *w;
    int answer; /* what deliver answers (h2h_poll_delivered's rc) */
    int done, n;
    enum h2h_outcome out;
    char msg[H2H_ERR_MSG_MAX];
    char remote[OJT_PGOT_MAX][256];
    char kind[OJT_PGOT_MAX][16];
    char path[OJT_PGOT_MAX][700]; /* w->got/<n>-<remote name> */
    char sha[OJT_PGOT_MAX][65];
};
/* A poll for what (H2H_POLL_* bits, 0: a routine round) answering every
 * delivery with answer; runs the loop until done.  Each file's sha256 is
 * checked against what the adapter said. */
void ojt_poll(struct ojt_world *w, unsigned what, int answer,
              struct ojt_pgot *g);

#endif
