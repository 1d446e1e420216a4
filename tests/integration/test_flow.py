"""1,000 files through h2hd to a directory bank.

Valid files (dropped atomically, or written slowly in place), bad names,
symbolic links and duplicates: every valid file must reach the bank exactly
once, duplicates are reported, bad ones sit in rejected/ with a reason, and
hidden/temporary names are left alone.
"""
import os
import threading
import time

from h2hlib import World, check, drop_atomic, fail, payment, sha256, wait_until

N_VALID = 850
N_SLOW = 50
N_DUPS = 50


def main():
    w = World("flow", stability=600, batch_max=64)
    try:
        w.start()
        expected = {}
        # Ignored names: a writer still busy with them.
        for name in (".hidden", "busy.tmp", "upload.part"):
            with open(os.path.join(w.drop, name), "wb") as f:
                f.write(b"not yet")

        # Slow writers write in place in three chunks, 200 ms apart: the
        # stability period (600 ms) must keep them from being read early.
        def slow(i):
            data = payment(100000 + i, "slow")
            path = os.path.join(w.drop, "slow-%03d.xml" % i)
            with open(path, "wb") as f:
                for k in range(3):
                    f.write(data[k * len(data) // 3:(k + 1) * len(data) // 3])
                    f.flush()
                    time.sleep(0.2)
        slow_threads = [threading.Thread(target=slow, args=(i,))
                        for i in range(N_SLOW)]
        for i in range(N_SLOW):
            expected[sha256_bytes(payment(100000 + i, "slow"))] = "slow"
        for t in slow_threads:
            t.start()

        for i in range(N_VALID):
            data = payment(i)
            expected[sha256_bytes(data)] = "valid"
            drop_atomic(w, "pay-%04d.xml" % i, data)

        bad = [b"bad\nname.xml", b"ctl\x01char.xml", b"a..b.xml",
               b"x" * 230 + b".xml", b"\xff\xfeinvalid-utf8.xml"]
        n_bad = 0
        for k in range(40):
            name = bad[k % len(bad)] + (b"-%d" % k)
            with open(os.path.join(os.fsencode(w.drop), name), "wb") as f:
                f.write(payment(500000 + k, "bad"))
            n_bad += 1
        for k in range(10):
            os.symlink("/etc/passwd", os.path.join(w.drop, "link-%d.xml" % k))
        for t in slow_threads:
            t.join()

        total_valid = N_VALID + N_SLOW
        wait_until(lambda: len(w.bank_files()) >= total_valid, 120,
                   "%d files at the bank" % total_valid)
        # Duplicates: same content as files already accepted, new names.
        for k in range(N_DUPS):
            drop_atomic(w, "again-%02d.xml" % k, payment(k * 7))
        rejected_expected = n_bad + 10 + N_DUPS
        wait_until(lambda: len([n for n in os.listdir(w.rejected)
                                if n.endswith(".reason")]) >= rejected_expected,
                   60, "%d rejections" % rejected_expected)
        time.sleep(1.5)  # anything extra would show up now

        hashes = w.bank_hashes()
        check(len(hashes) == total_valid,
              "bank holds %d files, expected %d" % (len(hashes), total_valid))
        check(len(set(hashes)) == len(hashes), "a payment reached the bank twice")
        check(set(hashes) == set(expected),
              "bank content differs from what was dropped "
              "(a slow file read early?)")

        reasons = [n for n in os.listdir(w.rejected) if n.endswith(".reason")]
        check(len(reasons) == rejected_expected,
              "%d reasons in rejected/, expected %d" % (len(reasons),
                                                       rejected_expected))
        texts = [open(os.path.join(w.rejected, r), errors="replace").read()
                 for r in reasons]
        dup_texts = [t for t in texts if "duplicate" in t]
        check(len(dup_texts) == N_DUPS,
              "%d duplicate reasons, expected %d" % (len(dup_texts), N_DUPS))
        check(sum("symbolic link" in t for t in texts) == 10,
              "symlinks not reported as such")
        check(sum("file name" in t for t in texts) == n_bad,
              "bad names not reported as such")
        left = sorted(os.listdir(w.drop))
        check(left == [".h2hd.lock", ".hidden", "busy.tmp", "upload.part"],
              "drop folder should hold only ignored names, has %r" % left[:10])
        check(len(w.log_events("payment.duplicate")) == N_DUPS,
              "payment.duplicate log lines")
        st = w.ctl_json("status")
        check(st["counts"]["submitted"] == total_valid,
              "status says %d submitted" % st["counts"]["submitted"])
        check(w.stop() == 0, "SIGTERM exit status")
        states = w.db_states()
        check(states == {"submitted": total_valid},
              "store states after the run: %r" % states)
        print("flow: %d valid files delivered once, %d rejected with reasons"
              % (total_valid, rejected_expected))
    except SystemExit:
        print(w.tail())
        raise
    finally:
        w.cleanup()


def sha256_bytes(b):
    import hashlib
    return hashlib.sha256(b).hexdigest()


if __name__ == "__main__":
    main()
