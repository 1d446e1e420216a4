"""SIGKILL at random moments while 1,000 files flow to a directory bank.

h2hd is killed with SIGKILL at least 20 times and restarted each time,
while new files keep arriving.  At the end: zero files lost, zero
duplicated at the bank, every message submitted, and the store passes its
consistency check (h2hd refuses to start otherwise).
"""
import hashlib
import os
import random
import sqlite3
import time

from h2hlib import World, check, drop_atomic, payment, wait_until

N_FILES = 1000
KILLS = int(os.environ.get("H2H_CRASH_KILLS", "24"))


def main():
    rnd = random.Random(int(os.environ.get("H2H_SEED", "4242")))
    w = World("crash", batch_max=16, sessions=4, rescan=200,
              shutdown_timeout=5)
    expected = set()
    dropped = 0
    try:
        waves = [N_FILES * (k + 1) // (KILLS + 1) for k in range(KILLS + 1)]
        for kill in range(KILLS):
            while dropped < waves[kill]:
                data = payment(dropped, "crash")
                expected.add(hashlib.sha256(data).hexdigest())
                drop_atomic(w, "c-%04d.xml" % dropped, data)
                dropped += 1
            w.start()
            time.sleep(rnd.uniform(0.02, 0.5))
            w.kill9()
        while dropped < N_FILES:
            data = payment(dropped, "crash")
            expected.add(hashlib.sha256(data).hexdigest())
            drop_atomic(w, "c-%04d.xml" % dropped, data)
            dropped += 1
        w.start()
        wait_until(lambda: len(w.bank_files()) >= N_FILES, 180,
                   "all files at the bank")

        def settled():
            st = w.db_states()
            return st.get("submitted", 0) == N_FILES and len(st) == 1
        wait_until(settled, 60, "every message submitted")
        time.sleep(1)
        hashes = w.bank_hashes()
        check(len(hashes) == N_FILES,
              "bank holds %d files, expected %d" % (len(hashes), N_FILES))
        check(len(set(hashes)) == N_FILES, "duplicates at the bank")
        check(set(hashes) == expected, "lost or altered payments")
        leftovers = [n for n in os.listdir(w.bank_in) if n.startswith(".")]
        check(not leftovers, "temporary files left at the bank: %r" % leftovers)
        drop_left = [n for n in os.listdir(w.drop) if n != ".h2hd.lock"]
        check(not drop_left, "drop folder not empty: %r" % drop_left[:5])
        check(w.stop() == 0, "clean stop after the crashes")
        con = sqlite3.connect(w.p("state/h2hd.db"))
        n_msgs = con.execute("select count(*) from msg").fetchone()[0]
        check(n_msgs == N_FILES, "store holds %d messages" % n_msgs)
        con.close()
        w.start()  # start-up runs the store's consistency check
        check(w.stop() == 0, "restart after the run")
        rec = (len(w.log_events("payment.recovered.delivered")) +
               len(w.log_events("payment.recovered.not_sent")) +
               len(w.log_events("spool.pickup.recovered")))
        print("crash: %d kills, %d files, each exactly once at the bank; "
              "%d half-way steps resolved after kills" % (KILLS, N_FILES, rec))
    except SystemExit:
        print(w.tail())
        raise
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
