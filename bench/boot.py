#!/usr/bin/env python3
"""Boot benchmark (issue 2): how long from exec of the monitor to the
program's main and to its exit, for a static (musl) and a dynamic (glibc)
hello, on kiln-vmm, on QEMU microvm (same kernel and rootfs) and as a plain
host process; the smallest guest memory each runs in; image sizes.

"Exec to main" is measured from outside, the same way for every
configuration: the time from spawning the process to the first byte of
hello's line on its stdout pipe (hello writes and flushes that line first
thing in main, so it is main plus the console path).  Guest clocks are not
used: under TCG they are not comparable with the host's.  "Exec to exit" is
spawn to wait() returning.

Writes docs/bench-boot.md (and docs/bench-boot.png when matplotlib is
installed).  Run through bench/boot.sh; never run by the tests.
"""
import argparse
import datetime
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELLO_LINE = b"hello from kiln"
PROGRAMS = [
    ("static hello (musl)", "build/tests/guest/static/hello"),
    ("dynamic hello (glibc)", "build/tests/guest/dynamic/hello"),
]


def have_kvm():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


# --- running and timing ------------------------------------------------------


def time_once(cmd, timeout=120):
    """Spawns cmd; returns (ns to first byte of HELLO_LINE or None, ns to
    exit, exit status, output).  A run past `timeout` seconds is killed
    (with its process group) and reported as status -9."""
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, cwd=ROOT,
                         start_new_session=True)
    buf = b""
    t_main = None
    fd = p.stdout.fileno()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            os.killpg(p.pid, signal.SIGKILL)
            break
        chunk = os.read(fd, 65536)
        now = time.perf_counter_ns()
        if not chunk:
            break
        buf += chunk
        if t_main is None and HELLO_LINE in buf:
            t_main = now - t0
    status = p.wait()
    t_exit = time.perf_counter_ns() - t0
    p.stdout.close()
    return t_main, t_exit, status, buf


def measure(cmd, runs, ok_status):
    """Runs cmd `runs` times (after one warm-up run); returns a dict with
    lists of ms values, or an error string if a run did not print hello or
    exited with an unexpected status."""
    mains, exits = [], []
    for i in range(runs + 1):
        t_main, t_exit, status, out = time_once(cmd)
        if t_main is None or status != ok_status:
            tail = out.decode(errors="replace").strip().splitlines()[-3:]
            return "run %d: status %d, output %r" % (i, status, tail)
        if i == 0:
            continue  # warm-up: page cache, first exec of QEMU
        mains.append(t_main / 1e6)
        exits.append(t_exit / 1e6)
    return {"main": mains, "exit": exits}


def med(xs):
    return statistics.median(xs)


def pct(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


# --- rootfs --------------------------------------------------------------------


def cpio_newc(entries):
    """entries: list of (path without leading '/', mode, data bytes)."""
    out = bytearray()
    ino = 1
    for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out += hdr.encode() + nb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
        ino += 1
    return bytes(out)


def pct_encode(s):
    return "".join(c if 0x21 <= ord(c) < 0x7f and c != "%" else
                   "".join("%%%02X" % b for b in c.encode()) for c in s)


def pack_rootfs_ourselves(prog, path):
    """Fallback when `kiln run --keep-rootfs` is not available: the program
    at /bin/NAME, its interpreter and libraries (from ldd) at their host
    paths, and /.kiln/config -- the ABI's layout, not necessarily kiln's."""
    files = {}
    name = "/bin/" + os.path.basename(prog)
    files[name] = open(os.path.join(ROOT, prog), "rb").read()
    r = subprocess.run(["ldd", os.path.join(ROOT, prog)], capture_output=True,
                       text=True)
    for line in r.stdout.splitlines():
        for w in line.split():
            if w.startswith("/"):
                files[w] = open(w, "rb").read()
                if os.path.islink(w):
                    files[os.path.realpath(w)] = files[w]
    files["/.kiln/config"] = ("exe %s\n" % pct_encode(name)).encode()
    dirs = set()
    for f in files:
        d = os.path.dirname(f)
        while d not in ("/", ""):
            dirs.add(d)
            d = os.path.dirname(d)
    entries = [(d.lstrip("/"), 0o40755, b"") for d in sorted(dirs)]
    entries += [(f.lstrip("/"), 0o100755, data) for f, data in
                sorted(files.items())]
    with open(path, "wb") as fh:
        fh.write(cpio_newc(entries))


def rootfs_for(kiln, prog, tmp):
    """Returns (path of the rootfs, how it was made)."""
    path = os.path.join(tmp, os.path.basename(os.path.dirname(prog)) +
                        "-" + os.path.basename(prog) + ".cpio")
    if kiln:
        r = subprocess.run([kiln, "run", "--keep-rootfs", path, prog],
                           cwd=ROOT, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=300)
        if r.returncode == 0 and os.path.exists(path):
            return path, "kiln run --keep-rootfs"
    pack_rootfs_ourselves(prog, path)
    return path, "packed by bench/boot.py (kiln run --keep-rootfs unavailable)"


# --- commands per configuration --------------------------------------------------


def qemu_cmd(kernel, rootfs, mem_mib=64):
    accel = (["-accel", "kvm", "-cpu", "max,-arch-capabilities"] if have_kvm()
             else ["-accel", "tcg", "-cpu", "max"])
    return ["qemu-system-x86_64", "-M", "microvm,acpi=off"] + accel + [
        "-m", "%dM" % mem_mib, "-nodefaults", "-no-user-config",
        "-nographic", "-serial", "stdio",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        "-kernel", kernel, "-initrd", rootfs, "-append", "console=ttyS0"]


def vmm_cmd(vmm, kernel, rootfs, mem_mib=64):
    return [vmm, "--kernel", kernel, "--initrd", rootfs,
            "--memory", str(mem_mib)]


def smallest_memory(make_cmd, ok_status, top=64):
    """Smallest MiB in 1..top that boots hello (exit status ok_status and
    the hello line), by bisection; None if even `top` fails."""
    def works(m):
        t_main, _, status, _ = time_once(make_cmd(m), timeout=60)
        return t_main is not None and status == ok_status
    if not works(top):
        return None
    lo, hi = 0, top  # lo fails (or is 0), hi works
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if works(mid):
            hi = mid
        else:
            lo = mid
    return hi


# --- report ----------------------------------------------------------------------


def machine_facts():
    cpu = "?"
    nested = False
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and cpu == "?":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and " hypervisor" in line:
                nested = True
    except OSError:
        pass
    qemu = subprocess.run(["qemu-system-x86_64", "--version"],
                          capture_output=True, text=True).stdout.split("\n")[0]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "host kernel": platform.release(),
        "virtualized": ("yes: this machine is itself a VM, so guests are "
                        "nested" if nested else "no (bare metal)"),
        "/dev/kvm": "present" if have_kvm() else "absent",
        "qemu": qemu,
        "commit": commit or "?",
    }


def fmt_ms(x):
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x


def write_report(args, facts, results, memory, sizes, notes):
    lines = ["# Boot benchmark", "",
             "Generated by `bench/boot.sh` (issue 2's boot benchmark); do not "
             "edit by hand.  Medians of %d runs after one warm-up run; "
             "p10-p90 in brackets." % args.runs, "",
             "**Exec to main**: from spawning the process to the first byte "
             "of hello's line on its stdout (hello writes it first thing in "
             "main).  **Exec to exit**: from spawn to wait() returning.  "
             "Both measured by the same Python harness for every "
             "configuration, so they include the harness's spawn cost "
             "(see the host rows).", "",
             "Configurations: *host process* runs hello directly; *monitor "
             "alone* starts kiln-vmm or qemu-system-x86_64 on the same "
             "kernel and rootfs (packed once beforehand); *kiln run* is what "
             "a user types: the CLI reads the ELF, packs the rootfs, then "
             "starts the monitor, every run.", "",
             "## Machine", ""]
    lines += ["- %s: %s" % (k, v) for k, v in facts.items()]
    accel = "KVM" if have_kvm() else "TCG (software emulation, no /dev/kvm)"
    lines += ["- QEMU accelerator: %s" % accel, ""]
    lines += ["## Exec to main and to exit (ms)", "",
              "| program | configuration | exec to main | exec to exit | "
              "main vs host | exit vs host |",
              "|---|---|---|---|---|---|"]
    for prog, rows in results:
        host = next((r for name, r in rows if name.startswith("host")
                     and isinstance(r, dict)), None)
        for name, r in rows:
            if isinstance(r, str):
                lines.append("| %s | %s | %s | | | |" % (prog, name, r))
                continue
            ratios = [("%.0fx" % (med(r[k]) / med(host[k])) if host else "")
                      for k in ("main", "exit")]
            lines.append("| %s | %s | %s [%s-%s] | %s [%s-%s] | %s | %s |" % (
                prog, name,
                fmt_ms(med(r["main"])), fmt_ms(pct(r["main"], .1)),
                fmt_ms(pct(r["main"], .9)),
                fmt_ms(med(r["exit"])), fmt_ms(pct(r["exit"], .1)),
                fmt_ms(pct(r["exit"], .9)), ratios[0], ratios[1]))
    lines += ["", "## Smallest guest memory that boots hello", "",
              "| program | configuration | smallest -m (MiB, 1 MiB steps) |",
              "|---|---|---|"]
    for prog, conf, m in memory:
        lines.append("| %s | %s | %s |" % (prog, conf,
                                          m if isinstance(m, str) else
                                          "> 64" if m is None else m))
    lines += ["", "## Image sizes", "", "| image | bytes | KiB |", "|---|---|---|"]
    for name, n in sizes:
        lines.append("| %s | %d | %.0f |" % (name, n, n / 1024))
    lines += ["", "## Issue 2's targets", ""]
    lines += ["- exec to main at most 1.5 ms median on kiln-vmm: " +
              (targets_vmm(results) if have_kvm() else
               "not measurable here (no /dev/kvm)")]
    if have_kvm():
        lines += ["- kiln-vmm vs QEMU microvm, exec to main: " +
                  vmm_vs_qemu(results)]
    static_mem = next((m for p, c, m in memory if p.startswith("static")),
                      None)
    lines += ["- static hello in 4 MiB of guest RAM: %s" % (
        "yes (%s MiB)" % static_mem if isinstance(static_mem, int) and
        static_mem <= 4 else "no (%s)" % static_mem)]
    kern = next((n for name, n in sizes if name.startswith("kernel")), None)
    lines += ["- kernel image under 512 KiB: %s" % (
        "yes (%.0f KiB)" % (kern / 1024) if kern and kern < 512 * 1024 else
        "no (%s)" % kern)]
    lines += ["", "## kiln-vmm vs QEMU in nested KVM", "",
              nested_summary(os.path.dirname(args.md))]
    if notes:
        lines += ["", "## Notes", ""] + ["- " + n for n in notes]
    if args.png_written:
        lines += ["", "![boot times](bench-boot.png)"]
    with open(args.md, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def nested_summary(docs):
    """The paragraph pointing to bench/boot_nested.sh's page, with that
    page's own summary (between its nested-summary markers) when it has
    been generated."""
    text = ("[bench-boot-nested.md](bench-boot-nested.md) "
            "(`bench/boot_nested.sh`) times kiln-vmm, QEMU microvm with "
            "-accel kvm and the plain process side by side inside one "
            "nested-KVM Linux guest (KVM under QEMU's software emulation), "
            "so kiln-vmm gets numbers even where this page cannot run it; "
            "only its ratios mean anything, and issue 2's 1.5 ms target "
            "needs a host with real KVM.")
    try:
        page = open(os.path.join(docs, "bench-boot-nested.md")).read()
        begin = page.index("<!-- nested-summary-begin -->")
        end = page.index("<!-- nested-summary-end -->")
    except (OSError, ValueError):
        return text + "  It has not been generated yet."
    return text + "  " + page[begin:end].split("\n", 1)[1].strip()


def targets_vmm(results):
    out = []
    for prog, rows in results:
        for name, r in rows:
            if name.startswith("kiln-vmm") and isinstance(r, dict):
                m = med(r["main"])
                out.append("%s %s ms (%s)" % (prog, fmt_ms(m),
                                              "met" if m <= 1.5 else "missed"))
    return "; ".join(out) or "no kiln-vmm results"


def vmm_vs_qemu(results):
    out = []
    for prog, rows in results:
        d = {name.split()[0]: r for name, r in rows if isinstance(r, dict)}
        if "kiln-vmm" in d and "QEMU" in d:
            out.append("%s %.1fx faster" % (
                prog, med(d["QEMU"]["main"]) / med(d["kiln-vmm"]["main"])))
    return "; ".join(out) or "no results"


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    labels, mains, exits = [], [], []
    for prog, rows in results:
        for name, r in rows:
            if isinstance(r, dict):
                labels.append("%s\n%s" % (prog, name))
                mains.append(med(r["main"]))
                exits.append(med(r["exit"]))
    if not labels:
        return False
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(labels) + 1.5))
    y = range(len(labels))
    ax.barh([i + 0.2 for i in y], exits, height=0.4, label="exec to exit")
    ax.barh([i - 0.2 for i in y], mains, height=0.4, label="exec to main")
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (median, log scale)")
    ax.set_title("kiln boot: exec to main / exit (%s)" %
                 ("KVM" if have_kvm() else "QEMU TCG, no /dev/kvm"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


# --- main --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--md", default=os.path.join(ROOT, "docs/bench-boot.md"))
    ap.add_argument("--png", default=os.path.join(ROOT, "docs/bench-boot.png"))
    ap.add_argument("--no-memory", action="store_true",
                    help="skip the smallest-memory bisection")
    args = ap.parse_args()
    os.chdir(ROOT)

    kiln = os.path.join(ROOT, "build/kiln")
    kiln = kiln if os.access(kiln, os.X_OK) else None
    vmm = os.path.join(ROOT, "build/kiln-vmm")
    vmm = vmm if os.access(vmm, os.X_OK) else None
    kernel = os.path.join(ROOT, "build/kiln.elf")
    for _, prog in PROGRAMS:
        if not os.path.exists(os.path.join(ROOT, prog)):
            sys.exit("bench: '%s' missing: run make first" % prog)
    if not os.path.exists(kernel):
        sys.exit("bench: 'build/kiln.elf' missing: run make first")

    notes = []
    kvm = have_kvm()
    qlabel = "QEMU microvm %s" % ("KVM" if kvm else "TCG")
    if not kvm:
        print("kiln-vmm: skipped (no /dev/kvm on this machine)")
        notes.append("kiln-vmm rows are missing: there is no /dev/kvm on this "
                     "machine, and kiln-vmm needs KVM.  Every guest number "
                     "here is QEMU's software emulation (TCG), typically "
                     "10-100x slower than KVM; they show where time goes, "
                     "not what kiln costs on real hardware.")
    if not kiln:
        notes.append("build/kiln was not built: the `kiln run` rows are "
                     "missing and the rootfs was packed by bench/boot.py.")

    tmp = tempfile.mkdtemp(prefix="kiln-bench.")
    results, memory, sizes = [], [], []
    sizes.append(("kernel build/kiln.elf", os.path.getsize(kernel)))
    try:
        for pname, prog in PROGRAMS:
            rootfs, how = rootfs_for(kiln, prog, tmp)
            sizes.append(("rootfs of %s (%s)" % (pname, how),
                          os.path.getsize(rootfs)))
            rows = []

            def run(label, cmd, ok_status):
                print("bench: %s, %s ..." % (pname, label), flush=True)
                r = measure(cmd, args.runs, ok_status)
                if isinstance(r, str):
                    print("bench:   failed: %s" % r)
                else:
                    print("bench:   main %s ms, exit %s ms" % (
                        fmt_ms(med(r["main"])), fmt_ms(med(r["exit"]))))
                rows.append((label, r))

            run("host process", [os.path.join(ROOT, prog)], 0)
            if kvm and vmm:
                run("kiln-vmm (monitor alone)",
                    vmm_cmd(vmm, kernel, rootfs), 0)
            elif not kvm:
                rows.append(("kiln-vmm", "skipped (no /dev/kvm on this "
                             "machine)"))
            else:
                rows.append(("kiln-vmm", "build/kiln-vmm not built"))
            # isa-debug-exit: status 0 comes out of QEMU as 1.
            run("%s (monitor alone)" % qlabel, qemu_cmd(kernel, rootfs), 1)
            if kiln:
                if kvm:
                    run("kiln run, kiln-vmm (CLI + pack + boot)",
                        [kiln, "run", "--hypervisor", "kiln", prog], 0)
                run("kiln run --hypervisor qemu (CLI + pack + boot)",
                    [kiln, "run", "--hypervisor", "qemu", prog], 0)
            results.append((pname, rows))

            if not args.no_memory:
                print("bench: %s, smallest memory ..." % pname, flush=True)
                if kiln:
                    conf = "kiln run (default hypervisor: %s)" % (
                        "kiln-vmm" if kvm else "QEMU TCG")
                    m = smallest_memory(
                        lambda mib: [kiln, "run", "-m", "%dM" % mib, prog], 0)
                else:
                    conf = qlabel
                    m = smallest_memory(
                        lambda mib: qemu_cmd(kernel, rootfs, mib), 1)
                print("bench:   %s MiB" % m)
                memory.append((pname, conf, m))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    facts = machine_facts()
    args.png_written = plot(results, args.png)
    if not args.png_written:
        notes.append("no plot: python3-matplotlib is not installed")
    write_report(args, facts, results, memory, sizes, notes)
    print("bench: wrote %s%s" % (args.md, " and " + args.png
                                 if args.png_written else ""))


if __name__ == "__main__":
    main()
