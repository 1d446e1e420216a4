#!/bin/bash
# run_fuzz.sh - build the libFuzzer harnesses in their own clang build
# directory, replay every saved regression input, then fuzz each harness
# for a short while.  Exit 0 when nothing crashed, 1 when something did (the
# crash inputs are kept under BUILD_DIR/fuzz-run/<harness>/artifacts/),
# 77 when there is no clang (ctest reports the test as skipped).
#
#   tests/fuzz/run_fuzz.sh [BUILD_DIR]      default: build-fuzz in the tree
#
# Environment:
#   H2H_FUZZ_SECONDS  fuzzing time per harness (default 20)
#   H2H_FUZZ_JOBS     harnesses fuzzed at the same time (default: CPUs)
#   H2H_FUZZ_ONLY     space-separated harness names to run (default: all)
#   H2H_FUZZ_MAX_LEN  largest input libFuzzer makes up (default 65536)
#   H2H_FUZZ_CC       the clang to use (default: clang, else clang-NN)
#   H2H_CORPUS        the shared corpus (default: ../shared/corpus next to
#                     the tree); read only: libFuzzer writes what it finds
#                     to a fresh directory under BUILD_DIR, never there.
# See tests/fuzz/README.md for longer runs and reproducing a crash.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build-fuzz}
seconds=${H2H_FUZZ_SECONDS:-20}
max_len=${H2H_FUZZ_MAX_LEN:-65536}
jobs=${H2H_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
corpus=${H2H_CORPUS:-$src/../shared/corpus}
fixtures=$src/tests/fixtures

cc=${H2H_FUZZ_CC:-}
if [ -z "$cc" ]; then
    for c in clang clang-18 clang-17 clang-16 clang-15 clang-14; do
        if command -v "$c" >/dev/null 2>&1; then
            cc=$(command -v "$c")
            break
        fi
    done
fi
if [ -z "$cc" ]; then
    echo "run_fuzz.sh: no clang found (set H2H_FUZZ_CC); skipping" >&2
    exit 77
fi

# ---- build -----------------------------------------------------------------
# Its own build directory: the instrumented libraries must not mix with the
# main build's.  Only the harnesses and what they link are built.
t0=$(date +%s)
mkdir -p "$build" || exit 1
if [ ! -f "$build/CMakeCache.txt" ]; then
    gen=()
    command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
    cmake -S "$src" -B "$build" "${gen[@]}" -DH2H_FUZZ=ON -DH2H_TESTS=ON \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DH2H_CORPUS_DIR="$corpus" >"$build/fuzz-configure.log" 2>&1 || {
        cat "$build/fuzz-configure.log" >&2
        echo "run_fuzz.sh: configure failed" >&2
        exit 1
    }
fi
if ! cmake --build "$build" --target fuzz_all -j "$jobs" >"$build/fuzz-build.log" 2>&1; then
    tail -n 60 "$build/fuzz-build.log" >&2
    echo "run_fuzz.sh: build failed (log: $build/fuzz-build.log)" >&2
    exit 1
fi
bin=$build/tests/fuzz
mapfile -t all <"$bin/harnesses.txt"
echo "run_fuzz.sh: built ${#all[@]} harnesses in $(($(date +%s) - t0)) s ($cc)"

harnesses=()
for h in "${all[@]}"; do
    [ -z "$h" ] && continue
    if [ -n "${H2H_FUZZ_ONLY:-}" ] && [[ " $H2H_FUZZ_ONLY " != *" $h "* ]]; then
        continue
    fi
    harnesses+=("$h")
done

# Seed directories and dictionary of each harness.
seeds_of() {
    case $1 in
    pain001 | pain001_validate) echo "$fixtures/pain $corpus/pain001" ;;
    pain002) echo "$here/seeds/pain002 $corpus/pain002" ;;
    camt) echo "$fixtures/camt $corpus/camt" ;;
    mt940) echo "$fixtures/mt940 $corpus/mt940" ;;
    canon_pay) echo "$fixtures/canon $here/seeds/canon_pay" ;;
    canon_stmt) echo "$here/seeds/canon_stmt" ;;
    canon_status) echo "$here/seeds/canon_status" ;;
    csv_pay) echo "$fixtures/csv" ;;
    detect | convert)
        echo "$fixtures/pain $fixtures/camt $fixtures/mt940 $fixtures/canon" \
            "$fixtures/csv $here/seeds/canon_stmt $here/seeds/canon_status" \
            "$corpus/pain001 $corpus/pain002 $corpus/camt $corpus/mt940"
        ;;
    esac
}
dict_of() { # $1 harness, $2 its run directory
    case $1 in
    mt940) echo "$here/mt940.dict" ;;
    csv_pay) echo "$here/csv.dict" ;;
    detect | convert) # every format: libFuzzer takes one -dict only
        cat "$here/xml.dict" "$here/mt940.dict" "$here/csv.dict" >"$2/all.dict"
        echo "$2/all.dict"
        ;;
    *) echo "$here/xml.dict" ;;
    esac
}

[ -d "$corpus" ] || echo "run_fuzz.sh: no shared corpus at $corpus; seeding from the tree only"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()

# ---- regressions -------------------------------------------------------------
# Every input that once crashed a harness is run again, once each.
for h in "${harnesses[@]}"; do
    reg=$here/regress/$h
    [ -d "$reg" ] || continue
    files=()
    for f in "$reg"/*; do [ -f "$f" ] && files+=("$f"); done
    [ ${#files[@]} -eq 0 ] && continue
    log=$build/fuzz-run/$h.regress.log
    mkdir -p "$build/fuzz-run"
    if "$bin/fuzz_$h" -timeout=10 -rss_limit_mb=2048 "${files[@]}" >"$log" 2>&1; then
        echo "regress  $h: ${#files[@]} inputs ok"
    else
        echo "regress  $h: FAILED (log: $log)"
        tail -n 40 "$log"
        failed+=("$h(regress)")
    fi
done

# ---- fuzzing -----------------------------------------------------------------
run_one() {
    local h=$1 dir=$build/fuzz-run/$1
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    local seeds=()
    for d in $(seeds_of "$h") "$here/regress/$h"; do
        [ -d "$d" ] && seeds+=("$d")
    done
    # The fresh directory comes first: libFuzzer writes new inputs into the
    # first corpus directory only, the seed directories are only read.
    "$bin/fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$max_len" -dict="$(dict_of "$h" "$dir")" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" "$dir/corpus" "${seeds[@]}" \
        >"$dir/log" 2>&1
    echo $? >"$dir/rc"
}

t1=$(date +%s)
running=0
for h in "${harnesses[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$h" &
    running=$((running + 1))
done
wait

# Failures in detail first, the summary table last where it is seen.
for h in "${harnesses[@]}"; do
    dir=$build/fuzz-run/$h
    [ "$(cat "$dir/rc" 2>/dev/null || echo 1)" = 0 ] && continue
    echo "==== $h: last lines of $dir/log"
    grep -v '^#[0-9]' "$dir/log" | tail -n 60
    echo "==== $h: artifacts (replay: $bin/fuzz_$h FILE)"
    ls -l "$dir/artifacts"
done
printf '%-18s %10s %9s %7s  %s\n' harness runs exec/s corpus result
for h in "${harnesses[@]}"; do
    dir=$build/fuzz-run/$h
    rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -n 1)
    ncorp=$(find "$dir/corpus" -type f | wc -l)
    result=ok
    if [ "$rc" != 0 ]; then
        result="FAILED (rc $rc)"
        failed+=("$h")
    fi
    printf '%-18s %10s %9s %7s  %s\n' "$h" "${runs:-?}" "${eps:-?}" "$ncorp" "$result"
done
echo "run_fuzz.sh: fuzzed ${#harnesses[@]} harnesses x ${seconds} s in $(($(date +%s) - t1)) s; total $(($(date +%s) - t0)) s"

if [ ${#failed[@]} -gt 0 ]; then
    echo "run_fuzz.sh: FAILED: ${failed[*]}"
    exit 1
fi
exit 0
