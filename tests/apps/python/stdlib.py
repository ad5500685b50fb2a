# tests/e2e/app_python.sh: Debian's python3 using its standard library in
# a kiln guest.  Each line printed is "ok NAME" or "FAIL NAME: why"; the
# last line counts them and the exit status is the number of failures.
import fcntl, hashlib, json, mmap, os, platform, re, resource, sqlite3
import struct, sys, tempfile, zlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

results = []


def check(name, cond, why=""):
    results.append(bool(cond))
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + why))


data = bytes(range(256)) * 4096
check("json round trip",
      json.loads(json.dumps({"a": [1, 2.5, None, "é"]})) == {"a": [1, 2.5, None, "é"]})
check("re", re.sub(r"(\d+)", r"<\1>", "a1b22") == "a<1>b<22>")
check("hashlib sha256",
      hashlib.sha256(b"kiln").hexdigest().startswith("cdfe9ad58b"),
      hashlib.sha256(b"kiln").hexdigest())
check("zlib", zlib.decompress(zlib.compress(data)) == data)
check("decimal", Decimal("0.1") * 3 == Decimal("0.3"))
check("datetime", (datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(days=31)).month == 2)
check("struct", struct.unpack("<IQ", struct.pack("<IQ", 7, 2**40)) == (7, 2**40))

with tempfile.TemporaryDirectory() as d:
    p = os.path.join(d, "f.bin")
    with open(p, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(p, p + ".2")
    check("files: write, fsync, rename, stat",
          os.stat(p + ".2").st_size == len(data) and os.listdir(d) == ["f.bin.2"])
    with open(p + ".2", "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
        m[0:4] = b"KILN"
        m.flush()
        m.close()
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        f.seek(0)
        check("mmap MAP_SHARED store reaches the file", f.read(4) == b"KILN")
        with open(p + ".2", "rb") as g:
            try:
                fcntl.flock(g.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                check("flock conflicts between two opens", False, "granted")
            except BlockingIOError:
                check("flock conflicts between two opens", True)

db = sqlite3.connect(os.path.join(tempfile.gettempdir(), "py.db"))
db.execute("create table t(k text primary key, v int)")
db.executemany("insert into t values (?, ?)", [(str(i), i * i) for i in range(100)])
db.commit()
check("sqlite3 module (libsqlite3 loaded with dlopen)",
      db.execute("select sum(v) from t").fetchone()[0] == 328350)

check("os.cpu_count", os.cpu_count() >= 1)
check("platform", platform.system() == "Linux" and platform.machine() == "x86_64")
check("resource.getrusage", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 1000)
check("sysconf memory", os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") > 16 << 20)
check("large allocation", len(bytearray(64 << 20)) == 64 << 20)
try:
    bytearray(1 << 40)
    check("an impossible allocation is MemoryError", False, "it succeeded")
except MemoryError:
    check("an impossible allocation is MemoryError", True)

failed = results.count(False)
print("python stdlib: %d passed, %d failed" % (results.count(True), failed))
sys.exit(failed)
