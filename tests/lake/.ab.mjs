import fs from "node:fs";
import { execSync } from "node:child_process";
import { DuckDBInstance } from "@duckdb/node-api";
const [csv, rounds, ...cmds] = process.argv.slice(2);
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
const res = {};
const add = (k, w, c) => { (res[k] ??= []).push([w, c]); };
for (let i = 0; i < Number(rounds); i++) {
	const f = "/tmp/es/duck.parquet";
	fs.rmSync(f, { force: true });
	const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
	await con.run(`COPY (SELECT * FROM facts) TO '${f}' (FORMAT parquet, COMPRESSION zstd)`);
	const dc = process.cpuUsage(c0);
	add("duck", Number(process.hrtime.bigint() - t0) / 1e9, (dc.user + dc.system) / 1e6);
	for (const [j, c] of cmds.entries()) {
		const out = execSync(`/tmp/es/fresh.sh /tmp/es/w.db; /usr/bin/time -f "%e %U %S" ${c} 2>&1 >/dev/null | tail -1`, { shell: "/bin/sh" }).toString().trim().split(" ").map(Number);
		add(`cmd${j}`, out[0], out[1] + out[2]);
	}
}
const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
for (const [k, v] of Object.entries(res))
	console.log(k, "wall", med(v.map((x) => x[0])).toFixed(2), "cpu", med(v.map((x) => x[1])).toFixed(2), "all", JSON.stringify(v));
