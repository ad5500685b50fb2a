#!/bin/sh
# Debian's sqlite3, unmodified, under kiln run (issue 5): the rows of a
# one-line session, an on-disk database through a rollback journal, WAL
# and mmap (tests/apps/sqlite/disk.sql), :memory: with a script packed
# with --file, a database made on the host read and changed in the guest
# (the host's copy untouched), and a SQL error's message and status.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

SQLITE=/usr/bin/sqlite3
APPS=tests/apps/sqlite
if [ ! -x "$SQLITE" ]; then
	test_fail "$SCENARIO: sqlite3" "$SQLITE missing (scripts/deps.sh installs sqlite3)"
	exit 0
fi

check_begin "sqlite3 /tmp/db creates a table and prints its rows"
krun "$SQLITE" /tmp/db 'create table t(x); insert into t values(1),(2); select * from t;'
want_status 0
want_stdout_exact "1
2"
check_end

check_begin "an on-disk database through a journal, WAL, mmap and VACUUM"
krun --file "$APPS/disk.sql:/data/disk.sql" "$SQLITE" /tmp/app.db '.read /data/disk.sql'
want_status 0
want_stdout_exact "delete
rows|1000|500500
journal during|1
journal after|0
wal
wal files|2
67108864
changed|500
last|wal row
ok"
check_end

check_begin "sqlite3 :memory: runs a script packed with --file"
krun --file "$APPS/memory.sql:/data/memory.sql" "$SQLITE" :memory: '.read /data/memory.sql'
want_status 0
want_stdout_exact 'north|30.5
south|45.25
south|1|7.0
south|2|15.25
south|3|45.25
{"regions":["north","south"]}'
check_end

check_begin "a database made on the host is read and changed in the guest"
db=$KILN_TEST_TMP/host.db
"$SQLITE" "$db" "create table p(n integer primary key, sq int);
with recursive s(i) as (select 1 union all select i + 1 from s where i < 500)
insert into p select i, i * i from s;"
before=$(sha256sum <"$db")
krun --file "$db:/data/host.db" "$SQLITE" /data/host.db \
	'select count(*), sum(sq) from p; update p set sq = 0 where n > 250; select sum(sq) from p; pragma integrity_check;'
want_status 0
want_stdout_exact "500|41791750
5239625
ok"
[ "$(sha256sum <"$db")" = "$before" ] ||
	fail_because "the host's database file changed"
check_end

check_begin "a SQL error is reported with status 1"
krun "$SQLITE" :memory: 'select 1; select * from nope; select 2;'
want_status 1
want_out '^1$'
want_out 'no such table: nope'
want_no_out '^2$'
want_no_out '^kiln: '
check_end
