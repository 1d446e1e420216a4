#!/usr/bin/python3
"""Spool throughput and latency of h2hd against the machine's durability floor.

  H2HD=build/daemon/h2hd H2HCTL=build/daemon/h2hctl tests/bench/bench_spool.py [N]

1. Floor: write + fsync + rename + fsync(dir) for N small files, on the
   same file system, in this run.
2. h2hd: N small files pre-dropped, h2hd started, time until all N are in
   the dirdrop bank folder (files/s), and h2hd's peak RSS (VmHWM).
3. Latency: single files dropped one at a time into a running h2hd with no
   stability delay: time from rename into the drop folder until the file is
   in the bank folder, p50 / p99 over 200 files.
Targets (issue 2): throughput >= 50 % of the floor, peak RSS < 50 MB,
p50 latency < 50 ms.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from h2hlib import World, drop_atomic, wait_until  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000


def floor(root, n):
    d = os.path.join(root, "floor")
    os.makedirs(d)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    t0 = time.perf_counter()
    for i in range(n):
        tmp = os.path.join(d, ".t%d" % i)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        os.write(fd, b"<Payment>%d</Payment>\n" % i)
        os.fsync(fd)
        os.close(fd)
        os.rename(tmp, os.path.join(d, "f%d" % i))
        os.fsync(dfd)
    dt = time.perf_counter() - t0
    os.close(dfd)
    return n / dt


def vmhwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def throughput(n):
    w = World("bench", log_level="warn", batch_max=256, sessions=8,
              rescan=1000, poll=600000)
    try:
        fl = floor(w.root, n)
        for i in range(n):
            drop_atomic(w, "b-%05d.xml" % i, b"<Payment>%d</Payment>\n" % i)
        t0 = time.perf_counter()
        w.start(wait=False)

        def count():
            return len(os.listdir(w.bank_in)) >= n
        wait_until(count, 3600, "all files at the bank", interval=0.01)
        dt = time.perf_counter() - t0
        rss = vmhwm_kb(w.proc.pid)
        w.stop()
        return fl, n / dt, rss
    finally:
        w.cleanup()


def latency(samples=200):
    w = World("lat", log_level="warn", stability=0, rescan=5000, poll=600000)
    try:
        w.start()
        lat = []
        for i in range(samples):
            t0 = time.perf_counter()
            drop_atomic(w, "l-%04d.xml" % i, b"<Payment>L%d</Payment>\n" % i)
            wait_until(lambda: len(os.listdir(w.bank_in)) > i, 30,
                       "file %d" % i, interval=0.0005)
            lat.append((time.perf_counter() - t0) * 1000)
        w.stop()
        lat.sort()
        return lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
    finally:
        w.cleanup()


def main():
    fl, rate, rss = throughput(N)
    p50, p99 = latency()
    print("files: %d" % N)
    print("floor (write+fsync+rename+fsync dir): %.0f files/s" % fl)
    print("h2hd drop -> bank:                    %.0f files/s" % rate)
    print("ratio h2hd / floor:                   %.2f   (target >= 0.50)"
          % (rate / fl))
    print("h2hd peak RSS:                        %.1f MB (target < 50 MB)"
          % (rss / 1024.0))
    print("latency p50 / p99:                    %.1f ms / %.1f ms "
          "(target p50 < 50 ms)" % (p50, p99))


if __name__ == "__main__":
    main()
