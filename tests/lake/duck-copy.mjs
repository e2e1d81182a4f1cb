// SPDX-License-Identifier: MIT
// DuckDB's side of bench/export.sh: load the fact rows from a CSV (not
// timed), print "ready", then for each line read from stdin ("table" or
// "csv") time one COPY ... TO parquet (zstd) from the table or from the
// CSV itself, so that the script interleaves these runs with its own.
// usage: node duck-copy.mjs FACTS.csv OUTDIR
// Prints one line per request: "name seconds bytes cpu_seconds".
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { DuckDBInstance } from "@duckdb/node-api";

const [csv, out] = process.argv.slice(2);
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

const files = {
	table: path.join(out, "duck-table.parquet"),
	csv: path.join(out, "duck-csv.parquet"),
};
const sql = {
	table: `COPY (SELECT * FROM facts) TO '${files.table}' (FORMAT parquet, COMPRESSION zstd)`,
	csv: `COPY (SELECT ${cols} FROM ${src}) TO '${files.csv}' (FORMAT parquet, COMPRESSION zstd)`,
};

// Wall and CPU seconds (all of DuckDB's threads: the process's user and
// system time) of one COPY.
async function time(name) {
	fs.rmSync(files[name], { force: true });
	const t0 = process.hrtime.bigint();
	const c0 = process.cpuUsage();
	await con.run(sql[name]);
	const dc = process.cpuUsage(c0);
	const t = Number(process.hrtime.bigint() - t0) / 1e9;
	const c = (dc.user + dc.system) / 1e6;
	console.log(`${name} ${t.toFixed(3)} ${fs.statSync(files[name]).size} ${c.toFixed(3)}`);
}

console.log("ready");
for await (const line of readline.createInterface({ input: process.stdin })) {
	if (line in sql)
		await time(line);
	else
		console.log(`error unknown request '${line}'`);
}
