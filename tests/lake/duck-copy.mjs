// SPDX-License-Identifier: MIT
// DuckDB's side of bench/export.sh: load the fact rows from a CSV (not
// timed), then time COPY ... TO parquet (zstd) from the table and from the
// CSV itself. usage: node duck-copy.mjs FACTS.csv OUTDIR RUNS
// Prints one line per variant: "name median_seconds bytes median_cpu_seconds".
import fs from "node:fs";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

const [csv, out, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const db = await DuckDBInstance.create(":memory:");
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
const cols = "epoch_ms(ts_ms)::TIMESTAMPTZ ts, node, gpu::INTEGER gpu, util_pct," +
	" mem_used_mib, mem_total_mib, job_id, \"user\", project, model," +
	" interval_s::INTEGER interval_s, ingest_id, power_w, temp_c," +
	" job_src::INTEGER job_src";
const src = `read_csv('${csv}', header = true, types = {'job_id': 'VARCHAR',` +
	` 'user': 'VARCHAR', 'project': 'VARCHAR', 'model': 'VARCHAR',` +
	` 'job_src': 'INTEGER', 'mem_total_mib': 'BIGINT', 'power_w': 'DOUBLE',` +
	` 'temp_c': 'DOUBLE'})`;
await con.run(`CREATE TABLE facts AS SELECT ${cols} FROM ${src}`);

// Wall and CPU seconds (all of DuckDB's threads: the process's user and
// system time), each the median of the runs.
async function time(name, sql, file) {
	const t = [], c = [];
	for (let i = 0; i < runs; i++) {
		fs.rmSync(file, { force: true });
		const t0 = process.hrtime.bigint();
		const c0 = process.cpuUsage();
		await con.run(sql);
		const dc = process.cpuUsage(c0);
		t.push(Number(process.hrtime.bigint() - t0) / 1e9);
		c.push((dc.user + dc.system) / 1e6);
	}
	const med = (a) => a.sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)].toFixed(2);
	console.log(`${name} ${med(t)} ${fs.statSync(file).size} ${med(c)}`);
}

const f1 = path.join(out, "duck-table.parquet");
const f2 = path.join(out, "duck-csv.parquet");
await time("table", `COPY (SELECT * FROM facts) TO '${f1}' (FORMAT parquet, COMPRESSION zstd)`, f1);
await time("csv", `COPY (SELECT ${cols} FROM ${src}) TO '${f2}' (FORMAT parquet, COMPRESSION zstd)`, f2);
