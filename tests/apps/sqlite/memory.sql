-- tests/e2e/app_sqlite.sh: sqlite3 :memory: '.read /data/memory.sql'.
create table sales(region text, month int, amount real);
insert into sales values ('north', 1, 10.5), ('north', 2, 20), ('south', 1, 7),
	('south', 2, 8.25), ('south', 3, 30);
select region, sum(amount) from sales group by region order by region;
select region, month, sum(amount) over (partition by region order by month)
	from sales where region = 'south' order by month;
select json_object('regions', (select json_group_array(distinct region) from sales));
