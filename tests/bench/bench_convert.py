#!/usr/bin/python3
"""Format conversion through the canonical model against a bare XML read.

  H2HCTL=build/daemon/h2hctl H2H_GEN=build/tests/bench/gen_bench \\
  H2H_FLOOR=build/tests/bench/xml_floor tests/bench/bench_convert.py [N ...]

For each N (default 100000 1000000):
1. gen_bench writes a pain.001.001.03 with N transactions and a
   camt.053.001.02 with N entries (deterministic: seed H2H_BENCH_SEED,
   default 1, and today's date so the payments pass the "execution date
   not in the past" rule).  With H2H_BENCH_DATA=DIR the inputs are kept
   there and reused by later runs (same N, seed and date); otherwise they
   live in a temporary directory removed at the end.
2. Floor: xml_floor, a bare libxml2 xmlTextReader pass, over each step's
   input, in this run.
3. The chains, each step one `h2hctl convert` process:
     a) pain.001 -> canonical -> pain.001.001.09
     b) camt.053 -> canonical -> mt940
   Wall time per step, and the step's peak RSS from the kernel's rusage of
   that child (wait4, through GNU time when installed; see run()).
H2H_BENCH_REPEAT rounds (default 1) of floor + step pairs: ratios are the
median over the rounds of pairs run back to back, times the best.
Reported per step: wall seconds, ratio to the floor of the step's own
input, peak RSS; per chain: wall seconds, ratio to the floor of the
original input, highest RSS of its steps.  The same ratios in CPU time
(user + sys) follow in brackets: on a machine shared with other work they
are the steadier figure; PASS/FAIL is judged on wall time.
Targets (issue): chain time <= 2.5 x the floor of the input, peak RSS
< 64 MB, at both sizes; per step the same ratio against its own input.
Exit status: 1 when a conversion (or a tool) fails; missing a target is
reported as FAIL but is not an error of the benchmark.
With --xsd, the final pain.001.001.09 is also checked against the official
schema with xmllint --stream (H2H_CORPUS/xsd), outside the timings.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("H2H_BUILD", os.path.join(SRC, "build"))
CORPUS = os.environ.get("H2H_CORPUS",
                        os.path.join(SRC, "..", "shared", "corpus"))


def tool(env, rel, name):
    if os.environ.get(env):
        return os.environ[env]
    p = os.path.join(BUILD, rel)
    return p if os.path.exists(p) else name


H2HCTL = tool("H2HCTL", "daemon/h2hctl", "h2hctl")
GEN = tool("H2H_GEN", "tests/bench/gen_bench", "gen_bench")
FLOOR = tool("H2H_FLOOR", "tests/bench/xml_floor", "xml_floor")
SEED = os.environ.get("H2H_BENCH_SEED", "1")
REPEAT = max(1, int(os.environ.get("H2H_BENCH_REPEAT", "1")))

RATIO_MAX = 2.5
RSS_MAX_MB = 64.0

CHAINS = [
    # name, generator kind, input label, steps (from, to, output suffix)
    ("pain.001 -> canonical -> pain.001.001.09", "pain001",
     "pain.001.001.03",
     [("pain.001", "canonical", "canon.xml"),
      ("canonical", "pain.001.001.09", "pain09.xml")]),
    ("camt.053 -> canonical -> mt940", "camt053", "camt.053.001.02",
     [("camt.053", "canonical", "canon.xml"),
      ("canonical", "mt940", "mt940.txt")]),
]


class Failed(Exception):
    pass


# Peak RSS comes from the kernel's rusage of the child (wait4).  Linux
# carries the high-water mark of the image a process had before exec into
# ru_maxrss, and a child forked from this Python starts with Python's ~12
# MB; GNU time is a ~1 MB image, so its wait4 figure is the tool's own.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run(argv, what):
    """Run argv as a child: (wall s, CPU s, peak RSS MB, stdout)."""
    # Output goes to files, not pipes: a tool printing pages of diagnostics
    # must not block on a full pipe while we wait for it.
    with tempfile.TemporaryFile() as o, tempfile.TemporaryFile() as e, \
            tempfile.NamedTemporaryFile("r") as m:
        cmd = argv
        if GNU_TIME:
            cmd = [GNU_TIME, "-q", "-f", "%U %S %M", "-o", m.name] + argv
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=o, stderr=e)
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        rc = os.waitstatus_to_exitcode(status)
        kb = ru.ru_maxrss
        cpu = ru.ru_utime + ru.ru_stime
        if GNU_TIME:
            lines = [x.split() for x in m.read().splitlines()]
            nums = [x for x in lines if len(x) == 3]
            if nums:
                cpu = float(nums[-1][0]) + float(nums[-1][1])
                kb = int(nums[-1][2])
            else:
                kb = -1024
        o.seek(0)
        e.seek(0)
        out, err = o.read(), e.read()
    if rc != 0:
        tail = "\n".join(err.decode("utf-8", "replace").splitlines()[-15:])
        raise Failed("%s failed (exit %d):\n  %s\n%s" %
                     (what, rc, " ".join(argv), tail))
    return dt, cpu, kb / 1024.0, out


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


def input_file(datadir, kind, n, date):
    path = os.path.join(datadir, "%s-%d-s%s-%s.xml" % (kind, n, SEED, date))
    if os.path.exists(path):
        return path, False
    tmp = path + ".part"
    t0 = time.perf_counter()
    run([GEN, kind, str(n), "-s", SEED, "-d", date, "-o", tmp],
        "gen_bench %s %d" % (kind, n))
    os.rename(tmp, path)
    return path, time.perf_counter() - t0


def mb(path):
    return os.path.getsize(path) / 1e6


def div(a, b):
    # GNU time counts CPU in 10 ms steps: tiny inputs can show 0
    return a / b if b > 0 else float("nan")


def verdict(ratio, rss):
    ok = ratio <= RATIO_MAX and rss < RSS_MAX_MB
    return "PASS" if ok else "FAIL"


def xsd_check(path, xsd):
    r = subprocess.run(["xmllint", "--noout", "--stream", "--schema", xsd,
                        path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    msg = r.stderr.decode("utf-8", "replace").strip().splitlines()
    return r.returncode == 0, (msg[-1] if msg else "")


def bench_chain(chain, n, datadir, workdir, date, xsd):
    name, kind, label, steps = chain
    src, gen_s = input_file(datadir, kind, n, date)
    print("\n%s, N = %d" % (name, n))
    print("  input %s: %.1f MB%s" % (
        label, mb(src),
        "" if gen_s is False else " (generated in %.1f s)" % gen_s))
    # Rounds: each measures every step's floor right before the step, so a
    # ratio compares two runs made under the same load; the median ratio
    # over the rounds is reported, with the best times.
    rounds, sizes, outs = [], [], []
    for _ in range(REPEAT):
        cur, r, sizes, outs = src, [], [], []
        for frm, to, suffix in steps:
            out = os.path.join(workdir, "%s-%d.%s" % (kind, n, suffix))
            if os.path.exists(out):
                os.unlink(out)
            fw, fc, _, _ = run([FLOOR, cur], "xml_floor %s" % cur)
            sw, sc, rss, _ = run(
                [H2HCTL, "convert", "--from", frm, "--to", to, cur, out],
                "h2hctl convert --from %s --to %s" % (frm, to))
            r.append((fw, fc, sw, sc, rss))
            sizes.append(mb(cur))
            outs.append(out)
            cur = out
        rounds.append(r)
    med = statistics.median
    fw0 = min(x[0][0] for x in rounds)
    print("  floor (xmlTextReader pass) on the input: %.2f s (%.0f MB/s)"
          % (fw0, sizes[0] / fw0))
    peak = 0.0
    for k, (frm, to, _) in enumerate(steps):
        st = [x[k] for x in rounds]
        ratio = med([div(y[2], y[0]) for y in st])
        cratio = med([div(y[3], y[1]) for y in st])
        rss = max(y[4] for y in st)
        peak = max(peak, rss)
        print("  step %-9s -> %-15s %6.2f s  %5.2fx floor of its input "
              "(%.2f s, %.1f MB)  [cpu %.2f s, %.2fx]  peak RSS %5.1f MB  %s"
              % (frm, to, min(y[2] for y in st), ratio,
                 min(y[0] for y in st), sizes[k], min(y[3] for y in st),
                 cratio, rss, verdict(ratio, rss)))
    ratio = med([div(sum(y[2] for y in x), x[0][0]) for x in rounds])
    cratio = med([div(sum(y[3] for y in x), x[0][1]) for x in rounds])
    print("  chain %6.2f s  %5.2fx floor of the input  [cpu %.2f s, %.2fx]  "
          "peak RSS %5.1f MB  %s"
          % (min(sum(y[2] for y in x) for x in rounds), ratio,
             min(sum(y[3] for y in x) for x in rounds), cratio, peak,
             verdict(ratio, peak)))
    print("  output: %.1f MB" % mb(outs[-1]))
    if xsd and kind == "pain001":
        ok, msg = xsd_check(outs[-1], os.path.join(
            CORPUS, "xsd", "sepaxml__pain.001.001.09.xsd"))
        print("  output against pain.001.001.09 XSD: %s %s"
              % ("valid" if ok else "INVALID", msg if not ok else ""))
        if not ok:
            raise Failed("output does not validate: %s" % msg)
    for o in outs:
        os.unlink(o)
    return ratio, peak, cratio


def main():
    args = [a for a in sys.argv[1:] if a != "--xsd"]
    xsd = "--xsd" in sys.argv[1:]
    sizes = [int(a) for a in args] or [100000, 1000000]
    date = today()
    keep = os.environ.get("H2H_BENCH_DATA")
    tmp = tempfile.mkdtemp(prefix="h2h-bench-convert-")
    datadir = keep or tmp
    os.makedirs(datadir, exist_ok=True)
    print("h2hctl %s\ngen_bench %s\nxml_floor %s\nseed %s, date %s, "
          "%d round(s); targets: <= %.1fx floor, peak RSS < %.0f MB"
          % (H2HCTL, GEN, FLOOR, SEED, date, REPEAT, RATIO_MAX, RSS_MAX_MB))
    results, rc = [], 0
    try:
        for n in sizes:
            for chain in CHAINS:
                try:
                    r, p, rc_ = bench_chain(chain, n, datadir, tmp, date,
                                            xsd)
                    results.append((chain[0], n, r, p, rc_, verdict(r, p)))
                except Failed as e:
                    print("  ERROR: %s" % e)
                    results.append((chain[0], n, None, None, None,
                                    "ERROR"))
                    rc = 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nsummary (chain wall time / floor of the input [same in CPU "
          "time], peak RSS):")
    for name, n, r, p, c, v in results:
        if r is None:
            print("  %-40s N=%-8d conversion failed" % (name, n))
        else:
            print("  %-40s N=%-8d %5.2fx [cpu %5.2fx]  %5.1f MB  %s"
                  % (name, n, r, c, p, v))
    return rc


if __name__ == "__main__":
    sys.exit(main())
