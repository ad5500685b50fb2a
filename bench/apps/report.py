#!/usr/bin/env python3
"""Turns the raw log of bench/apps_nested.sh (redis-benchmark's CSV, wrk
output, KVM counters, the monitors' --stats lines, F and H facts) into
docs/bench-apps.md and, when matplotlib is installed, docs/bench-apps.png.

The log's W, w, K, F, H and o lines are those of the network benchmark
and are read by bench/net/report.py's parser, whose table helpers this
reuses; R and r lines (redis-benchmark) are read here.  Round 0 is the
warm-up and is dropped.  Every figure is the median over the remaining
rounds, with min-max in brackets; ratios are kiln-vmm's throughput over
the other's (or the other's latency, CPU time or exits over kiln-vmm's),
so above 1 always means kiln-vmm did better.  Run through
bench/apps_nested.sh (--report-only regenerates).
"""
import argparse
import csv
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "net_report", os.path.join(ROOT, "bench", "net", "report.py"))
net = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(net)

GOAL = 0.8  # issue 5: kiln-vmm at least 0.8x the host process
TESTS = [
    ("set", "redis SET", "redis"),
    ("get", "redis GET", "redis"),
    ("set-p16", "redis SET -P 16", "redis"),
    ("get-p16", "redis GET -P 16", "redis"),
    ("page", "nginx, 612-byte page (wrk)", "nginx"),
]
PAIRS = [("kiln-vmm", "process", "kiln-vmm / host process"),
         ("kiln-vmm", "qemu", "kiln-vmm / QEMU")]
def xapic_exits(c):
    """KVM emulates the instruction of every MMIO exit, the monitor's and
    its own (the xAPIC page): the difference is the latter."""
    if "kvm_insn_emulation" not in c or "kvm_mmio_exits" not in c:
        return None
    return c["kvm_insn_emulation"] - c["kvm_mmio_exits"]


KVM_COUNTERS = [
    ("kvm_exits", "VM exits (all reasons)"),
    ("kvm_mmio_exits", "&nbsp;&nbsp;MMIO exits (virtio registers; to "
     "the monitor)"),
    ("kvm_halt_exits", "&nbsp;&nbsp;HLT exits (the guest idles)"),
    ("kvm_irq_exits", "&nbsp;&nbsp;external-interrupt exits"),
    ("kvm_irq_window_exits", "&nbsp;&nbsp;interrupt-window exits"),
    (xapic_exits, "&nbsp;&nbsp;xAPIC accesses emulated in KVM (EOI, "
     "timer; instructions emulated less MMIO exits)"),
    ("kvm_io_exits", "&nbsp;&nbsp;port I/O exits"),
    ("kvm_irq_injections", "interrupts injected"),
]
BEGIN, END = net.GOALS_BEGIN, net.GOALS_END


def parse_redis(path, wrk):
    """R CONF TEST ROUND REQUESTS, then redis-benchmark's CSV as r lines:
    into wrk[(conf, test)][round] like a wrk run."""
    cur = None
    for line in open(path, errors="replace"):
        w = line.split()
        if not w:
            continue
        if w[0] == "R" and len(w) == 5:
            cur = {"requests": int(w[4])}
            wrk.setdefault((w[1], w[2]), {})[int(w[3])] = cur
        elif w[0] == "r" and cur is not None:
            row = next(csv.reader([line[2:].strip()]))
            if len(row) >= 7 and row[0] != "test":
                try:
                    cur["rps"] = float(row[1])
                    cur["p50"] = float(row[4])
                    cur["p99"] = float(row[6])
                except ValueError:
                    cur["errors"] = cur.get("errors", "") + line[2:].strip()
            elif row and row[0] != "test":
                cur["errors"] = cur.get("errors", "") + line[2:].strip() + "; "
        elif w[0] in ("K", "R", "W"):
            pass
    # A run without a result line (it failed) counts for nothing.
    for rounds in wrk.values():
        for r in rounds.values():
            if "rps" not in r:
                r["requests"] = 0


def rows_for(kvm, wrk, test, confs):
    rows = []

    def add(label, values, lower_better=False, digits=3):
        rows.append((label, values, lower_better, digits))

    add("requests/s", {k: net.measured(wrk, k, test, "rps") for k in confs})
    add("p50 latency, ms", {k: net.measured(wrk, k, test, "p50")
                            for k in confs}, True)
    add("p99 latency, ms", {k: net.measured(wrk, k, test, "p99")
                            for k in confs}, True)
    vms = [k for k in confs if k != "process"]

    def us(f):
        return lambda c: None if f(c) is None else f(c) * 1000.0

    def served(c):
        if "utime" not in c:
            return None
        return (c["utime"] + c["stime"]) * net.TICK_MS

    bulk = {}
    add("CPU time per request, all of the nested Linux guest, us",
        {k: net.per_unit(kvm, wrk, bulk, k, test, us(net.cpu_busy))
         for k in confs}, True)
    add("&nbsp;&nbsp;kiln guest (vCPU in guest mode) / server process",
        {k: net.per_unit(kvm, wrk, bulk, k, test,
                         us(net.cpu_guest) if k != "process" else us(served))
         for k in confs}, True)
    add("&nbsp;&nbsp;monitor's user space (kiln-vmm / QEMU)",
        {k: net.per_unit(kvm, wrk, bulk, k, test, us(net.cpu_server_user))
         for k in vms}, True)
    add("&nbsp;&nbsp;host kernel for the monitor (exits, tap I/O)",
        {k: net.per_unit(kvm, wrk, bulk, k, test, us(net.cpu_server_sys))
         for k in vms}, True)
    add("&nbsp;&nbsp;everything else (client, TCP/IP, softirq)",
        {k: net.per_unit(kvm, wrk, bulk, k, test, us(net.cpu_rest))
         for k in confs}, True)
    for key, label in KVM_COUNTERS:
        add(label + " per request",
            {k: net.per_unit(kvm, wrk, bulk, k, test, key) for k in vms},
            True)
    return rows


def idle_share(kvm):
    """The nested guest's CPU idle share over every measured run, in %."""
    idle = total = 0
    for (conf, test), rounds in kvm.items():
        for n, c in rounds.items():
            if n > 0:
                idle += c.get("cpu_idle", 0)
                total += sum(c.get(x, 0) for x in net.CPU_BUSY + ["cpu_idle"])
    return 100.0 * idle / total if total else None


def median_ratio(wrk, test, other):
    values = {k: net.measured(wrk, k, test, "rps")
              for k in ("kiln-vmm", other)}
    rounds = net.paired(values, False, other)
    return net.med(rounds), rounds


def goals(L, wrk):
    L.append("## Issue 5's goal")
    L.append("")
    L.append("Goal: redis and nginx under kiln-vmm at least %.1fx the host "
             "process, in requests/s.  Judged on the median of the per-round "
             "ratios (kiln-vmm / host process, runs seconds apart)." % GOAL)
    L.append("")
    L.append("| test | kiln-vmm / host process | kiln-vmm / QEMU | goal "
             "(>= %.1fx host) |" % GOAL)
    L.append("|---|---|---|---|")
    for test, name, _ in TESTS:
        r, _ = median_ratio(wrk, test, "process")
        q, _ = median_ratio(wrk, test, "qemu")
        verdict = "-" if r is None else (
            "met" if r >= GOAL else "**not met**")
        L.append("| %s | %s | %s | %s |" % (name, net.fmt_ratio(r),
                                            net.fmt_ratio(q), verdict))
    L.append("")


def problems(L, facts, wrk, host):
    lines = []
    for (c, t), rounds in sorted(wrk.items()):
        for n, r in sorted(rounds.items()):
            if r.get("errors"):
                lines.append("- %s %s round %d: %s" % (c, t, n,
                                                        r["errors"].strip()))
            elif "rps" not in r:
                lines.append("- %s %s round %d: no result" % (c, t, n))
    for key in ("down", "hung"):
        for v in facts.get("all_" + key, []):
            lines.append("- %s: %s" % (key, v))
    if "failed" in facts:
        lines.append("- the guest script stopped: %s" % facts["failed"])
    if host.get("nested_status", "0") != "0":
        lines.append("- the nested harness exited with status %s" %
                     host["nested_status"])
    if lines:
        L.append("## Problems during the run")
        L.append("")
        L.extend(lines)
        L.append("")


def write_md(path, png, parsed, extra_facts):
    facts, host, wrk, _, kvm, out = parsed
    confs = [k for k, _ in net.CONFS]
    L = []
    L.append("# Application benchmark, nested KVM: redis and nginx on "
             "kiln-vmm vs QEMU microvm vs a host process")
    L.append("")
    L.append("Generated by `bench/apps_nested.sh` (`bench/apps/report.py`); "
             "do not edit by hand, except between the analysis markers.")
    L.append("")
    L.append(
        "**Read this first.** This machine has no `/dev/kvm`, so every "
        "number here comes from inside one boot of `scripts/nested-kvm.sh`: "
        "a Debian Linux guest that QEMU runs in software emulation (TCG, "
        "one emulated CPU) with emulated AMD SVM, whose `/dev/kvm` both "
        "monitors use, on a host with 2 cores shared with other jobs (load "
        "average %s before, %s after).  The clients, the monitors, the kiln "
        "guests and the host process all run on that one emulated CPU, and "
        "every VM exit is emulated too.  The absolute figures are hundreds "
        "of times below real hardware and say nothing about it; only the "
        "ratios between the three configurations, measured seconds apart "
        "in the same boot, mean anything, and even they weigh exits far "
        "more heavily than real hardware does (see *Where the time goes*)."
        % (host.get("loadavg_before", "?"), host.get("loadavg_after", "?")))
    L.append("")
    L.append("## Method")
    L.append("")
    L.append(
        "- Debian's own `/usr/bin/redis-server` (%s) and `/usr/sbin/nginx` "
        "(nginx-light, %s), unmodified, each run three ways inside the "
        "nested Linux guest:" % (facts.get("redis_server", "?").split(" sha")[0],
                                 facts.get("nginx", "?").split(": ")[-1]))
    L.append(
        "  1. **kiln on kiln-vmm**: `kiln-vmm --net tap0 --memory %s "
        "--stats`, kiln's kernel and a rootfs from `kiln pack`;" %
        host.get("guest_mib", "?"))
    L.append(
        "  2. **kiln on QEMU microvm**: the same kernel and rootfs on "
        "`qemu-system-x86_64 -M microvm,acpi=off -accel kvm -m %s`, "
        "`-netdev tap` and `virtio-net-device` (QEMU's user-space "
        "virtio-net, no vhost);" % host.get("guest_mib", "?"))
    L.append(
        "  3. **host process**: the same binary in its own network "
        "namespace behind a veth pair.")
    L.append(
        "- redis: `redis-server --port 6379 --save '' --appendonly no "
        "--protected-mode no`; nginx: one process (`-g 'daemon off; "
        "master_process off;'`) with [bench/apps/nginx.conf]"
        "(../bench/apps/nginx.conf) (sendfile, epoll, no access log), "
        "serving a 612-byte page.  The kiln rootfs hold the same files at "
        "the same paths as the nested guest does for the process.")
    L.append(
        "- Clients (Debian's, in the nested guest's root namespace): "
        "`redis-benchmark -c %s -n %s -t set` and `-t get` (separate runs), "
        "and the same with `-P 16 -n %s`; `wrk -t1 -c%s -d%ss --latency` "
        "on the page.  Requests/s and p50/p99 latency are the clients' own "
        "figures." % (host.get("clients", "?"), host.get("requests", "?"),
                      host.get("requests_pipelined", "?"),
                      host.get("clients", "?"), host.get("duration", "?")))
    L.append(
        "- Around each run the VM's KVM counters are read from debugfs "
        "(`/sys/kernel/debug/kvm/PID-FD/`, the same for both monitors), "
        "with the CPU time of the server's process from `/proc/PID/stat` "
        "(for a VM, guest time is the vCPU in guest mode, the rest of user "
        "time the monitor's own code, system time the host kernel working "
        "for it) and the whole CPU's from `/proc/stat`.  Divided by the "
        "run's requests.  The counters bracket the whole client run "
        "(redis-benchmark's 50 connections and start-up included), the "
        "requests/s are the client's own.")
    idle = idle_share(kvm)
    if idle is not None:
        L.append(
            "- The nested guest's one CPU was idle %.1f%% of the measured "
            "runs: every configuration is CPU-bound, with client and "
            "server on the same CPU, so requests/s is about the inverse of "
            "the CPU time per request." % idle)
    L.append(
        "- Each round runs each test on the three configurations back to "
        "back, the order rotated every round; round 0 is a short warm-up "
        "and is dropped.  Medians over %s rounds, min-max in brackets.  "
        "The servers boot one after the other." % host.get("runs", "?"))
    L.append("")
    L.append("## Results")
    L.append("")
    L.append(
        "Ratios: kiln-vmm's requests/s over the other's, or the other's "
        "latency, CPU time or exits over kiln-vmm's, so above 1.00x "
        "kiln-vmm is better.  First the ratio of the medians, then in "
        "brackets the median and range of the per-round ratios (the three "
        "ran back to back, so a slow stretch of the shared host hits all "
        "three; these are the figures to read).")
    L.append("")
    for test, name, _ in TESTS:
        if not any(wrk.get((k, test)) for k in confs):
            continue
        L.append("### %s" % name)
        L.append("")
        net.md_table(L, rows_for(kvm, wrk, test, confs), confs, PAIRS)
    goals(L, wrk)
    L.append(BEGIN)
    L.append(net.ANALYSIS)
    L.append(END)
    L.append("")
    L.append("## kiln-vmm's own counters (`--stats`, whole runs)")
    L.append("")
    for phase in ("redis", "nginx"):
        lines = [s for s in out.get(("kiln-vmm", phase), [])
                 if "stats:" in s or "virtio-net:" in s]
        if lines:
            L.append("%s phase (boot, warm-up and every round):" % phase)
            L.append("")
            L.append("```")
            L.extend(lines)
            L.append("```")
            L.append("")
    problems(L, extra_facts, wrk, host)
    idle = facts.get("idle", [])
    if idle:
        L.append("Idle wake-ups (HLT exits per second over two idle seconds "
                 "after boot; far above a few means the guest's APIC timer "
                 "was miscalibrated, see bench-net.md): " +
                 "; ".join("%s phase, %s: %d/s" % i for i in idle) + ".")
        L.append("")
    net.machine(L, facts, host, [facts.get("wrk", "?"),
                                 facts.get("redis_benchmark", "?")])
    L.append("- raw log: `build/bench-apps/nested.log`")
    L.append("")
    if png:
        L.append("![application benchmark](%s)" % os.path.basename(png))
        L.append("")
        L.append("Per-round ratios of requests/s: boxes span the middle "
                 "half of the rounds, whiskers the extremes; the dashed "
                 "line is the issue's goal.")
        L.append("")
    net.write_keeping_analysis(path, L)

def plot(wrk, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    panels = [("kiln-vmm / host process (goal: at least %.1fx)" % GOAL,
               "process", GOAL),
              ("kiln-vmm / QEMU microvm", "qemu", None)]
    if not any(median_ratio(wrk, t, o)[1] for t, _, _ in TESTS
               for _, o, _ in panels):
        return False
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for ax, (title, other, goal) in zip(axes, panels):
        data = [median_ratio(wrk, t, other)[1] or [float("nan")]
                for t, _, _ in TESTS]
        labels = [n.replace(" (wrk)", "").replace(", ", "\n")
                  .replace(" -P", "\n-P") for _, n, _ in TESTS]
        net.ratio_axes(ax, data, labels, goal, "requests/s ratio", title)
    net.ratio_save(fig, path)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True,
                    help="bench/apps_nested.sh's raw log")
    ap.add_argument("--md", default=os.path.join(ROOT, "docs/bench-apps.md"))
    ap.add_argument("--png", default=os.path.join(ROOT,
                                                  "docs/bench-apps.png"))
    args = ap.parse_args()
    parsed = net.parse(args.log)
    parse_redis(args.log, parsed[2])
    extra = {"all_down": [], "all_hung": []}
    for line in open(args.log, errors="replace"):
        w = line.split()
        if len(w) >= 3 and w[0] == "F" and w[1] in ("down", "hung"):
            extra["all_" + w[1]].append(" ".join(w[2:]))
    if "failed" in parsed[0]:
        extra["failed"] = parsed[0]["failed"]
    png = plot(parsed[2], args.png)
    write_md(args.md, args.png if png else None, parsed, extra)
    print("bench: wrote %s%s" % (args.md, " and " + args.png if png else ""))


if __name__ == "__main__":
    main()
