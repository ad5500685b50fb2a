-- tests/e2e/app_sqlite.sh: an on-disk database in the guest's in-memory
-- filesystem through every way SQLite writes: a rollback journal created
-- and unlinked, a rolled back transaction, WAL mode (-wal and -shm files,
-- the -shm mapped MAP_SHARED), memory-mapped reads, VACUUM (a temporary
-- database, rename), and an integrity check.  fsdir() is the sqlite3
-- shell's own directory listing.
.bail on
pragma journal_mode=delete;
create table t(id integer primary key, v text);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000)
insert into t(v) select printf('row %d', i) from n;
begin;
delete from t;
rollback;
select 'rows', count(*), sum(id) from t;
begin;
update t set v = v || '!' where id % 2 = 0;
select 'journal during', count(*) from fsdir('/tmp') where name = '/tmp/app.db-journal';
commit;
select 'journal after', count(*) from fsdir('/tmp') where name = '/tmp/app.db-journal';
pragma journal_mode=wal;
insert into t(v) values('wal row');
select 'wal files', count(*) from fsdir('/tmp') where name in ('/tmp/app.db-wal', '/tmp/app.db-shm');
pragma mmap_size=67108864;
select 'changed', count(*) from t where v like '%!';
vacuum;
select 'last', v from t order by id desc limit 1;
pragma integrity_check;
