#!/usr/bin/env python3
"""Turns the raw log of bench/net_nested.sh (wrk output, KVM counters,
blast lines, the monitors' --stats lines, F and H facts) into
docs/bench-net.md and, when matplotlib is installed, docs/bench-net.png.

Round 0 is the warm-up and is dropped.  Every figure is the median over
the remaining rounds, with min-max in brackets; the ratios divide medians.
"Advantage" is kiln-vmm's figure over the other's for throughput and the
other's over kiln-vmm's for latency, so above 1 always means kiln-vmm did
better.  Run through bench/net_nested.sh (--report-only regenerates).
"""
import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONFS = [
    ("kiln-vmm", "kiln on kiln-vmm"),
    ("qemu", "kiln on QEMU microvm"),
    ("process", "host process (veth)"),
]
TICK_MS = 10.0  # /proc/*stat count USER_HZ (100) ticks
CPU_BUSY = ["cpu_user", "cpu_nice", "cpu_system", "cpu_irq", "cpu_softirq"]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.match(r"([0-9.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse(path):
    facts, host, wrk, bulk, kvm, out = {}, {}, {}, {}, {}, {}
    cur = None
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        w = line.split()
        if not w:
            continue
        if w[0] == "F" and len(w) == 5 and w[1] == "idle_wakeups":
            facts.setdefault("idle", []).append((w[2], w[3], int(w[4])))
        elif w[0] == "F" and len(w) >= 2:
            facts[w[1]] = " ".join(w[2:])
        elif w[0] == "H" and len(w) >= 3 and w[1] == "build":
            host.setdefault("builds", []).append(
                "`%s` %s" % (w[2], " ".join(w[3:])))
        elif w[0] == "H" and len(w) >= 2:
            host[w[1]] = " ".join(w[2:])
        elif w[0] == "W" and len(w) == 4:
            cur = {"conf": w[1], "test": w[2], "round": int(w[3])}
        elif w[0] == "w" and cur is not None:
            t = line[2:].strip()
            m = re.match(r"Requests/sec:\s+([0-9.]+)", t)
            if m:
                cur["rps"] = float(m.group(1))
            m = re.match(r"(50|99)%\s+(\S+)", t)
            if m:
                cur["p" + m.group(1)] = to_ms(m.group(2))
            m = re.match(r"(\d+) requests in ([0-9.]+)(\w+),", t)
            if m:
                cur["requests"] = int(m.group(1))
            if t.startswith("Socket errors") or t.startswith("Non-2xx"):
                cur["errors"] = cur.get("errors", "") + t + "; "
        elif w[0] == "K" and len(w) >= 4:
            conf, test, rnd = w[1], w[2], int(w[3])
            rest = " ".join(w[4:]).split(" / ")
            if len(rest) == 2:
                b, a = (dict(x.split("=", 1) for x in part.split()
                             if "=" in x) for part in rest)
                d = {}
                for k in a:
                    try:
                        d[k] = int(a[k]) - int(b[k])
                    except (KeyError, ValueError):
                        pass
                kvm.setdefault((conf, test), {})[rnd] = d
            if cur is not None and cur["conf"] == conf and \
                    cur["test"] == test and cur["round"] == rnd:
                wrk.setdefault((conf, test), {})[rnd] = cur
                cur = None
        elif w[0] == "B" and len(w) >= 3:
            conf, rnd = w[1], int(w[2])
            m = re.search(r"blast: (\d+) bytes in ([0-9.]+) s", line)
            if m and float(m.group(2)) > 0:
                bulk.setdefault(conf, {})[rnd] = (int(m.group(1)),
                                                  float(m.group(2)))
            else:
                bulk.setdefault(conf, {})[rnd] = None
        elif w[0] == "o" and len(w) >= 3:
            out.setdefault((w[1], w[2].rstrip(":")), []).append(
                line.split(": ", 1)[1] if ": " in line else line)
    return facts, host, wrk, bulk, kvm, out


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, digits=3):
    if x is None:
        return "-"
    if x >= 100:
        return "%.0f" % x
    return "%.*g" % (digits, x)


def cell(series, digits=3):
    xs = list(series.values())
    if not xs:
        return "-"
    if len(xs) == 1:
        return fmt(xs[0], digits)
    return "%s [%s-%s]" % (fmt(med(xs), digits), fmt(min(xs), digits),
                           fmt(max(xs), digits))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x):
    return "-" if x is None else "%.2fx" % x


# Every series is a dict {round: value}, round 0 (the warm-up) left out.

def measured(wrk, conf, test, key):
    rounds = wrk.get((conf, test), {})
    return {n: r[key] for n, r in rounds.items()
            if n > 0 and r.get(key) is not None and r.get("requests", 0) > 0}


def bulk_mbs(bulk, conf):
    return {n: v[0] / v[1] / 1e6 for n, v in bulk.get(conf, {}).items()
            if n > 0 and v}


def per_unit(kvm, wrk, bulk, conf, test, key):
    """Counter key per request (wrk tests) or per MiB (bulk), per round;
    key may be a function of the round's deltas."""
    rounds = kvm.get((conf, test), {})
    res = {}
    for n, c in sorted(rounds.items()):
        if n == 0:
            continue
        if test == "bulk":
            v = bulk.get(conf, {}).get(n)
            units = v[0] / 1048576 if v else 0
        else:
            units = wrk.get((conf, test), {}).get(n, {}).get("requests", 0)
        x = key(c) if callable(key) else c.get(key)
        if units and x is not None:
            res[n] = x / units
    return res


def cpu_busy(c):
    if not all(k in c for k in CPU_BUSY):
        return None
    return sum(c[k] for k in CPU_BUSY) * TICK_MS


def cpu_guest(c):
    return c["gtime"] * TICK_MS if "gtime" in c else None


def cpu_server_user(c):
    if "utime" not in c:
        return None
    return (c["utime"] - c.get("gtime", 0)) * TICK_MS


def cpu_server_sys(c):
    return c["stime"] * TICK_MS if "stime" in c else None


def cpu_rest(c):
    b = cpu_busy(c)
    if b is None or "utime" not in c:
        return None
    return b - (c["utime"] + c["stime"]) * TICK_MS


def host_facts(host):
    cpu, nested = "?", False
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
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                             "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC")),
        ("host cpu", "%s, %d cores" % (cpu, os.cpu_count())),
        ("host kernel", platform.release()),
        ("host virtualized", "yes (this machine is itself a VM)" if nested
         else "no"),
        ("host /dev/kvm", "present" if os.access("/dev/kvm", os.W_OK)
         else "absent"),
        ("host QEMU (runs the Linux guest under TCG)", qemu),
        ("host load average before / after",
         "%s / %s" % (host.get("loadavg_before", "?"),
                      host.get("loadavg_after", "?"))),
        ("commit", "%s (the binaries below may include uncommitted "
         "work)" % (commit or "?")),
        ("binaries", "; ".join(host.get("builds", [])) or "?"),
    ]


def table(host, wrk, bulk, kvm, confs):
    """The table: rows of (label, {conf: values}, lower_is_better,
    digits) for the configurations confs that ran."""
    rows = []
    CONFS = [(k, n) for k, n in globals()["CONFS"] if k in confs]

    def add(label, values, lower_better=False, digits=3):
        rows.append((label, values, lower_better, digits))

    conns = host.get("connections", "?")
    for test, name, c in (("page", "612-byte page", conns),
                          ("1m", "1 MiB file",
                           host.get("connections_1m", "?"))):
        add("%s: requests/s (wrk, %s connection%s)" %
            (name, c, "" if c == "1" else "s"),
            {k: measured(wrk, k, test, "rps") for k, _ in CONFS})
        add("%s: p50 latency, ms" % name,
            {k: measured(wrk, k, test, "p50") for k, _ in CONFS}, True)
        add("%s: p99 latency, ms" % name,
            {k: measured(wrk, k, test, "p99") for k, _ in CONFS}, True)
    add("bulk TCP server -> client, MB/s (%s MiB per transfer)" %
        host.get("bulk_mib", "?"), {k: bulk_mbs(bulk, k) for k, _ in CONFS})
    add("bulk TCP, Gbit/s",
        {k: {n: x * 8 / 1000 for n, x in bulk_mbs(bulk, k).items()}
         for k, _ in CONFS}, digits=2)
    vms = [k for k, _ in CONFS if k != "process"]
    for test, unit in (("page", "page request"), ("1m", "1 MiB request"),
                       ("bulk", "MiB of bulk")):
        add("CPU time per %s, all of the nested Linux guest, ms" % unit,
            {k: per_unit(kvm, wrk, bulk, k, test, cpu_busy)
             for k, _ in CONFS}, True)
        add("&nbsp;&nbsp;in the kiln guest (vCPU in guest mode) or the "
            "server process",
            {k: per_unit(kvm, wrk, bulk, k, test,
                         cpu_guest if k != "process" else
                         lambda c: (c["utime"] + c["stime"]) * TICK_MS
                         if "utime" in c else None)
             for k, _ in CONFS}, True)
        add("&nbsp;&nbsp;in the monitor's own code (user space)",
            {k: per_unit(kvm, wrk, bulk, k, test, cpu_server_user)
             for k in vms}, True)
        add("&nbsp;&nbsp;in the host kernel for the monitor (exits, tap "
            "I/O)", {k: per_unit(kvm, wrk, bulk, k, test, cpu_server_sys)
                     for k in vms}, True)
        add("&nbsp;&nbsp;everything else (client, TCP/IP, softirq)",
            {k: per_unit(kvm, wrk, bulk, k, test, cpu_rest)
             for k, _ in CONFS}, True)
        add("VM exits per %s (KVM's count)" % unit,
            {k: per_unit(kvm, wrk, bulk, k, test, "kvm_exits")
             for k in vms}, True)
        add("&nbsp;&nbsp;of which MMIO exits to the monitor",
            {k: per_unit(kvm, wrk, bulk, k, test, "kvm_mmio_exits")
             for k in vms}, True)
        add("interrupts injected per %s" % unit,
            {k: per_unit(kvm, wrk, bulk, k, test, "kvm_irq_injections")
             for k in vms}, True)
    return rows


def advantage(values, lower_better, other, this="kiln-vmm"):
    """this's advantage over other: the ratio of their medians."""
    a = med(list(values.get(this, {}).values()))
    b = med(list(values.get(other, {}).values()))
    return ratio(b, a) if lower_better else ratio(a, b)


def paired(values, lower_better, other, this="kiln-vmm"):
    """The same, round by round (both ran minutes apart at most, so a
    slow stretch of the host hits both): the list of per-round ratios."""
    a, b = values.get(this, {}), values.get(other, {})
    res = []
    for n in sorted(set(a) & set(b)):
        r = ratio(b[n], a[n]) if lower_better else ratio(a[n], b[n])
        if r is not None:
            res.append(r)
    return res


def fmt_adv(values, lower_better, other, this):
    """"ratio of medians (per-round median [min-max])"."""
    if this not in values or other not in values:
        return "n/a"
    whole = advantage(values, lower_better, other, this)
    rounds = paired(values, lower_better, other, this)
    if len(rounds) < 2:
        return fmt_ratio(whole)
    return "%s (%s [%s-%s])" % (fmt_ratio(whole), fmt_ratio(med(rounds)),
                                fmt_ratio(min(rounds)),
                                fmt_ratio(max(rounds)))


def md_table(L, rows, confs, pairs):
    """Rows as a markdown table: a column per configuration, then one per
    (this, other, title) pair with this's advantage over other."""
    names = [n for k, n in CONFS if k in confs]
    L.append("| measure | " + " | ".join(names) + " | " +
             " | ".join(t for _, _, t in pairs) + " |")
    L.append("|---" * (1 + len(names) + len(pairs)) + "|")
    for label, values, lower_better, digits in rows:
        cells = [cell(values.get(k, []), digits) if k in values else "n/a"
                 for k, _ in CONFS if k in confs]
        advs = [fmt_adv(values, lower_better, o, t) for t, o, _ in pairs]
        L.append("| %s | %s | %s |" % (label, " | ".join(cells),
                                       " | ".join(advs)))
    L.append("")


def problems(L, title, facts, wrk, bulk):
    errors = ["%s %s round %d: %s" % (c, t, n, r["errors"])
              for (c, t), rounds in sorted(wrk.items())
              for n, r in sorted(rounds.items()) if r.get("errors")]
    failed = "failed" in facts
    if errors or failed or any(v is None for b in bulk.values()
                               for v in b.values()):
        L.append("## %s" % title)
        L.append("")
        for e in errors:
            L.append("- wrk: %s" % e)
        for c, rounds in sorted(bulk.items()):
            for n, v in sorted(rounds.items()):
                if v is None:
                    L.append("- blast fetch from %s failed in round %d" %
                             (c, n))
        if failed:
            L.append("- the guest script stopped: %s" % facts["failed"])
        L.append("")


def idle_note(L, facts):
    idle = facts.get("idle", [])
    if not idle:
        return
    L.append("## Idle wake-ups")
    L.append("")
    L.append(
        "Before each phase the script counts each VM's HLT exits over two "
        "idle seconds.  A kiln guest with nothing to do wakes a few times "
        "a second (lwIP's timers); kiln calibrates its APIC timer over one "
        "millisecond at its first sleep, and when the vCPU is descheduled "
        "inside that millisecond (a busy host) the rate comes out far too "
        "low and every sleep ends in dozens of early wake-ups.  The "
        "servers are therefore booted one after the other.  Measured: " +
        "; ".join("%s phase, %s: %d/s%s" % (
            "wrk" if ph == "httpd" else "bulk", c, n,
            " (**miscalibrated**)" if n > 50 else "")
            for ph, c, n in idle) + ".")
    L.append("")


def host_section(L, run):
    facts, host, wrk, bulk, kvm, out = run
    confs = sorted({c for c, _ in wrk} | set(bulk),
                   key=lambda c: [k for k, _ in CONFS].index(c))
    accel = facts.get("qemu_accel", "?")
    L.append("## On this machine directly (`bench/net.sh`)")
    L.append("")
    if "kiln-vmm" in confs:
        L.append("This machine has `/dev/kvm`: all three configurations on "
                 "real KVM, QEMU with `-accel %s`." % accel)
        pairs = [("kiln-vmm", "qemu", "kiln-vmm's advantage over QEMU"),
                 ("kiln-vmm", "process", "over the host process")]
    else:
        L.append(
            "No `/dev/kvm` here, so no kiln-vmm: kiln on QEMU microvm with "
            "`-accel %s` (software emulation of the guest, the host's own "
            "network stack and tap) against the host process behind its "
            "veth pair, in a namespace `bench/net.sh` makes.  The last "
            "column is QEMU's advantage over the process (below 1: "
            "slower)." % accel)
        pairs = [("qemu", "process", "QEMU/%s's advantage over the host "
                  "process" % accel)]
    L.append("")
    # CPU time here would count every other program on the machine too.
    rows = [r for r in table(host, wrk, bulk, kvm, confs)
            if not r[0].startswith(("VM exits", "&nbsp;&nbsp;", "CPU time",
                                    "interrupts injected"))]
    md_table(L, rows, confs, pairs)
    L.append("%s rounds after a warm-up, medians [min-max]; host load "
             "average %s before, %s after; %s s wall." % (
                 host.get("runs", "?"), host.get("loadavg_before", "?"),
                 host.get("loadavg_after", "?"), host.get("wall_s", "?")))
    L.append("")
    problems(L, "Problems during the run on this machine", facts, wrk, bulk)


def machine(L, facts, host, clients):
    """The Machine section's lines, up to the nested run's; clients are
    the version lines of the programs that measured, in the guest."""
    L.append("## Machine")
    L.append("")
    for k, v in host_facts(host):
        L.append("- %s: %s" % (k, v))
    L.append("- nested guest: Linux %s, %s vCPU, %s MiB, CPU \"%s\"" % (
        facts.get("guest_kernel", "?"), facts.get("guest_vcpus", "?"),
        facts.get("guest_mem_mib", "?"), facts.get("guest_cpu", "?")))
    L.append("- inside it: %s" % "; ".join([facts.get("qemu", "?")] +
                                           clients))
    L.append("- nested run: %s s wall on the host, guest uptime %s s to "
             "%s s, harness status %s" % (
                 host.get("nested_wall_s", "?"),
                 facts.get("start_uptime", "?"),
                 facts.get("end_uptime", "?"),
                 host.get("nested_status", "?")))


def write_keeping_analysis(path, L):
    """Writes the lines L to path, keeping the hand-written analysis
    between the markers of the file already there."""
    text = "\n".join(L)
    if os.path.exists(path):
        old = open(path).read()
        if GOALS_BEGIN in old and GOALS_END in old:
            kept = old.split(GOALS_BEGIN, 1)[1].split(GOALS_END, 1)[0]
            text = text.replace(GOALS_BEGIN + "\n" + ANALYSIS + "\n" +
                                GOALS_END,
                                GOALS_BEGIN + kept + GOALS_END)
    open(path, "w").write(text)


def write_md(path, png, nested, hostrun):
    facts, host, wrk, bulk, kvm, out = nested
    rows = table(host, wrk, bulk, kvm, [k for k, _ in CONFS])
    runs = host.get("runs", "?")
    L = []
    L.append("# Network benchmark, nested KVM: kiln-vmm vs QEMU microvm vs a "
             "host process")
    L.append("")
    L.append("Generated by `bench/net_nested.sh` (`bench/net/report.py`); do "
             "not edit by hand.")
    L.append("")
    L.append(
        "**Read this first.** This machine has no `/dev/kvm`, so every "
        "number here comes from inside one boot of `scripts/nested-kvm.sh`: "
        "a Debian Linux guest that QEMU runs in software emulation (TCG) "
        "with emulated AMD SVM, whose `/dev/kvm` both monitors use.  The "
        "Linux guest, the client (wrk), the monitors and the kiln guests "
        "all run under TCG on one emulated CPU, and every VM exit is "
        "emulated too.  The absolute figures are therefore hundreds of "
        "times below what real hardware gives and say nothing about it; "
        "only the ratios between the three configurations, measured side "
        "by side in the same boot, mean anything, and even they weigh "
        "exits and copies differently from real hardware (see *Where the "
        "time goes*).")
    L.append("")
    L.append("## Method")
    L.append("")
    L.append(
        "- The same `examples/httpd` binary (glibc, epoll, run with `-q` so "
        "no per-request line goes to a console) serves the same two files "
        "three ways, all started at once in the nested Linux guest:")
    L.append(
        "  1. **kiln on kiln-vmm**: `build/kiln-vmm.static --net tap0 "
        "--memory %s --stats`, kiln's kernel and a rootfs from "
        "`kiln pack`;" % host.get("guest_mib", "?"))
    L.append(
        "  2. **kiln on QEMU microvm**: the same kernel and rootfs on "
        "`qemu-system-x86_64 -M microvm,acpi=off -accel kvm -m %s` with "
        "`-netdev tap` and `virtio-net-device` (QEMU's own user-space "
        "virtio-net; no vhost);" % host.get("guest_mib", "?"))
    L.append(
        "  3. **host process**: the program itself in its own network "
        "namespace behind a veth pair.")
    L.append(
        "- Each sits on its own link (two taps, the veth pair) with an "
        "address on the guest's side; the clients run in the guest's root "
        "namespace.  The kiln guests get the address from `kiln.ip=`, as "
        "`kiln run --ip` does; the driver negotiates no offloads, so their "
        "frames are at most 1514 bytes, while the veth pair passes 64 KiB "
        "GSO segments.")
    L.append(
        "- **wrk** (`-t1 --latency`, keep-alive): the 612-byte page with "
        "%s connections for %s s, the 1 MiB file with %s connection for "
        "%s s.  Requests/s is wrk's; p50/p99 its latency distribution."
        % (host.get("connections", "?"), host.get("duration", "?"),
           host.get("connections_1m", "?"), host.get("duration_1m", "?")))
    L.append(
        "- **Bulk TCP**: `bench/net/blast serve` (static musl) in each "
        "configuration sends %s MiB per connection to `blast fetch` in the "
        "Linux guest, written 256 KiB per write(); the time runs from the "
        "request to end of file, so data flows from the server (the kiln "
        "guest) to the host." % host.get("bulk_mib", "?"))
    L.append(
        "- **Exits**: before and after each measurement the VM's KVM "
        "counters are read from debugfs (`/sys/kernel/debug/kvm/PID-FD/`, "
        "summed over vCPUs, the same for both monitors); `kiln-vmm --stats` "
        "prints the same counters from KVM_GET_STATS_FD at exit, and the "
        "device's own.")
    L.append(
        "- Each round runs the page test on the three configurations back "
        "to back, then the 1 MiB test, then (in the second phase) the bulk "
        "transfers, the order rotated every round; round 0 is a warm-up "
        "and is dropped.  Medians over %s rounds, min-max in brackets.  "
        "The servers are booted one after the other (see *Idle "
        "wake-ups*)." % runs)
    L.append("")
    L.append("## Results")
    L.append("")
    L.append(
        "*Advantage* is kiln-vmm's throughput over the other's, or the "
        "other's latency (or exit count) over kiln-vmm's: above 1.00x "
        "kiln-vmm is better, below it is worse.  First the ratio of the "
        "medians, then in brackets the median and range of the ratios "
        "within each round, where the configurations ran back to back: "
        "the host's load (other jobs share its two cores) swings the "
        "absolute figures by several times from one minute to the next, "
        "and the per-round ratios cancel much of that.")
    L.append("")
    md_table(L, rows, [k for k, _ in CONFS],
             [("kiln-vmm", "qemu", "kiln-vmm's advantage over QEMU"),
              ("kiln-vmm", "process", "over the host process")])
    # Goals.
    def verdict(vals, other, lower=False):
        """The per-round median ratio (the steadier one), or the ratio
        of medians when fewer than two rounds pair up."""
        rounds = paired(vals, lower, other)
        return med(rounds) if len(rounds) >= 2 else \
            advantage(vals, lower, other)

    def adv(test, key, other, lower=False):
        return verdict({k: measured(wrk, k, test, key) for k, _ in CONFS},
                       other, lower)
    bulk_vals = {k: bulk_mbs(bulk, k) for k, _ in CONFS}
    goals = [
        ("page requests/s", adv("page", "rps", "qemu"),
         adv("page", "rps", "process")),
        ("page p50 latency", adv("page", "p50", "qemu", True),
         adv("page", "p50", "process", True)),
        ("page p99 latency", adv("page", "p99", "qemu", True),
         adv("page", "p99", "process", True)),
        ("1 MiB requests/s", adv("1m", "rps", "qemu"),
         adv("1m", "rps", "process")),
        ("bulk TCP", verdict(bulk_vals, "qemu"),
         verdict(bulk_vals, "process")),
    ]
    L.append("## Issue 3's goals")
    L.append("")
    L.append("Goal: kiln-vmm at least 1.5x QEMU on the same guest, and "
             "within 2x of the host process (advantage at least 0.50x).  "
             "Judged on the median of the per-round ratios.")
    L.append("")
    L.append("| measure | vs QEMU (goal >= 1.50x) | vs host process "
             "(goal >= 0.50x) |")
    L.append("|---|---|---|")
    for name, q, p in goals:
        L.append("| %s | %s %s | %s %s |" % (
            name, fmt_ratio(q),
            "met" if q is not None and q >= 1.5 else "**not met**",
            fmt_ratio(p),
            "met" if p is not None and p >= 0.5 else "**not met**"))
    L.append("")
    L.append(GOALS_BEGIN)
    L.append(ANALYSIS)
    L.append(GOALS_END)
    L.append("")

    # Raw monitor counters.
    stats = [s for (conf, phase), lines in sorted(out.items())
             for s in lines if conf == "kiln-vmm" and "kiln-vmm:" in s]
    if stats:
        L.append("## kiln-vmm's own counters (`--stats`, whole runs)")
        L.append("")
        for phase in ("httpd", "blast"):
            lines = [s for s in out.get(("kiln-vmm", phase), [])
                     if "stats:" in s or "virtio-net:" in s]
            if lines:
                L.append("%s phase:" % ("wrk" if phase == "httpd"
                                        else "bulk"))
                L.append("")
                L.append("```")
                L.extend(lines)
                L.append("```")
                L.append("")
    problems(L, "Problems during the run", facts, wrk, bulk)
    idle_note(L, facts)
    if hostrun:
        host_section(L, hostrun)

    machine(L, facts, host, [facts.get("wrk", "?")])
    L.append("")
    if png:
        L.append("![network benchmark](%s)" % os.path.basename(png))
        L.append("")
        L.append("Per-round ratios of each measure: boxes span the middle "
                 "half of the rounds, whiskers the extremes, the dashed "
                 "line is the issue's goal.")
        L.append("")
    write_keeping_analysis(path, L)

GOALS_BEGIN = "<!-- analysis-begin (kept across runs by report.py) -->"
GOALS_END = "<!-- analysis-end -->"
ANALYSIS = "(no analysis written yet)"


def plot(wrk, bulk, path):
    """Per-round advantage of kiln-vmm over QEMU and over the host
    process, one box per measure, with the issue's goals as lines."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False

    def series(test, key):
        return {k: measured(wrk, k, test, key) for k, _ in CONFS}
    measures = [
        ("page\nrequests/s", series("page", "rps"), False),
        ("page\np50 latency", series("page", "p50"), True),
        ("page\np99 latency", series("page", "p99"), True),
        ("1 MiB\nrequests/s", series("1m", "rps"), False),
        ("bulk TCP\nMB/s", {k: bulk_mbs(bulk, k) for k, _ in CONFS}, False),
    ]
    panels = [("over QEMU microvm (goal: at least 1.5x)", "qemu", 1.5),
              ("over the host process (goal: at least 0.5x)", "process",
               0.5)]
    if not any(paired(v, lo, o) for _, v, lo in measures
               for _, o, _ in panels):
        return False
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for ax, (title, other, goal) in zip(axes, panels):
        data = [paired(v, lo, other) or [float("nan")]
                for _, v, lo in measures]
        ratio_axes(ax, data, [m[0] for m in measures], goal,
                   "kiln-vmm's advantage", "kiln-vmm's advantage " + title)
    ratio_save(fig, path)
    return True


def ratio_axes(ax, data, labels, goal, ylabel, title):
    """One panel of per-round ratios: a box per measure on a log scale,
    the goal (if any) dashed."""
    import matplotlib.ticker
    ax.boxplot(data, whis=(0, 100))
    ax.set_xticks(range(1, len(labels) + 1))
    ax.set_xticklabels(labels, fontsize=8)
    if goal:
        ax.axhline(goal, color="tab:red", linestyle="--", linewidth=1)
    ax.axhline(1.0, color="gray", linewidth=0.5)
    ax.set_yscale("log")
    fmt = matplotlib.ticker.FuncFormatter(lambda y, _: "%gx" % y)
    ax.yaxis.set_major_formatter(fmt)
    ax.yaxis.set_minor_formatter(fmt)
    ax.tick_params(axis="y", which="both", labelsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)


def ratio_save(fig, path):
    fig.suptitle("Per-round ratios inside the nested-KVM guest (QEMU TCG "
                 "underneath): only ratios mean anything", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", help="bench/net_nested.sh's raw log")
    ap.add_argument("--host-log", help="bench/net.sh's raw log")
    ap.add_argument("--md", default=os.path.join(ROOT, "docs/bench-net.md"))
    ap.add_argument("--png", default=os.path.join(ROOT,
                                                  "docs/bench-net.png"))
    args = ap.parse_args()
    if not args.log and not args.host_log:
        ap.error("give --log, --host-log or both")
    empty = ({}, {}, {}, {}, {}, {})
    nested = parse(args.log) if args.log else empty
    hostrun = parse(args.host_log) if args.host_log else None
    png = plot(nested[2], nested[3], args.png) if args.log else False
    write_md(args.md, args.png if png else None, nested, hostrun)
    print("bench: wrote %s%s" % (args.md, " and " + args.png if png else ""))


if __name__ == "__main__":
    main()
