// SPDX-License-Identifier: MIT
// The Iceberg tables gpuexport writes, read back by independent readers:
// DuckDB (Parquet schema, metadata, key-value metadata and values),
// hyparquet and parquet-wasm (every data file), avsc, avrocat and
// python3-avro (every manifest and manifest list, with the spec's field
// ids), and icebird (the whole table, now and at an earlier snapshot).
// Rows, counts and sums are compared with the warehouse through the
// sqlite3 shell. Builds its warehouse with gpugen and gpuingest from PATH
// (tests/e2e/lake-export.sh sets it up); a reader that is not installed
// is skipped with a message. Exits 1 on any failure.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let failures = 0, passes = 0, skips = 0;

function check(ok, what, got, want) {
	if (ok) {
		passes++;
		console.log("ok   " + what);
		return;
	}
	failures++;
	console.log("FAIL " + what + ": got " + JSON.stringify(got) +
		", want " + JSON.stringify(want));
}

function skip(what) {
	skips++;
	console.log("skip: " + what);
}

function have(mod) {
	const name = mod.split("/").slice(0, mod.startsWith("@") ? 2 : 1).join("/");
	return fs.existsSync(path.join(import.meta.dirname, "node_modules", name, "package.json"));
}

function haveCmd(cmd) {
	try {
		execFileSync("sh", ["-c", "command -v " + cmd], { stdio: "ignore" });
		return true;
	} catch {
		return false;
	}
}

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
const run = (cmd, args, opts) => execFileSync(cmd, args, { encoding: "utf8", ...opts });

const work = fs.mkdtempSync(path.join(os.tmpdir(), "lake-test-"));
const db = path.join(work, "w.db");
const lake = path.join(work, "lake");
const sql = (q) => JSON.parse(run("sqlite3", ["-json", db, q]) || "[]");

// ---- the warehouse: two days, then a third, then a corrected re-send ----
run("gpugen", ["-n", "2", "-g", "4", "-s", "2026-11-01", "-H", "48", "-i", "300",
	"-S", "7", "-j", path.join(work, "jobs.csv"), "-o", path.join(work, "a.csv")]);
run("gpugen", ["-n", "2", "-g", "4", "-s", "2026-11-03", "-H", "24", "-i", "300",
	"-S", "8", "-o", path.join(work, "b.csv")]);
run("gpuingest", ["-q", "--db", db, "-j", path.join(work, "jobs.csv"),
	path.join(work, "a.csv")]);
const exportLake = (...args) => run("gpuexport", ["--db", db, "--lake", lake, ...args]);

// ---- readers ----
let duck = null;
if (have("@duckdb/node-api")) {
	const { DuckDBInstance } = await import("@duckdb/node-api");
	const inst = await DuckDBInstance.create(":memory:");
	const con = await inst.connect();
	duck = async (q) => (await con.runAndReadAll(q)).getRowObjectsJson();
} else {
	skip("DuckDB (@duckdb/node-api) is not installed: npm ci in tests/lake");
}

const avsc = have("avsc") ? require("avsc") : null;
if (avsc === null) skip("avsc is not installed: npm ci in tests/lake");

// The Iceberg v2 field ids (spec tables; Java's V2Metadata).
const entryIds = {
	status: 0, snapshot_id: 1, sequence_number: 3, file_sequence_number: 4,
	data_file: 2, content: 134, file_path: 100, file_format: 101,
	partition: 102, record_count: 103, file_size_in_bytes: 104,
	column_sizes: 108, value_counts: 109, null_value_counts: 110,
	nan_value_counts: 137, lower_bounds: 125, upper_bounds: 128,
	key_metadata: 131, split_offsets: 132, equality_ids: 135,
	sort_order_id: 140,
};
const listIds = {
	manifest_path: 500, manifest_length: 501, partition_spec_id: 502,
	content: 517, sequence_number: 515, min_sequence_number: 516,
	added_snapshot_id: 503, added_files_count: 504,
	existing_files_count: 505, deleted_files_count: 506,
	added_rows_count: 512, existing_rows_count: 513,
	deleted_rows_count: 514, partitions: 507, contains_null: 509,
	contains_nan: 518, lower_bound: 510, upper_bound: 511,
	key_metadata: 519,
};

// Every (name, field-id) of record fields and element ids of arrays.
function schemaIds(s, out = { fields: {}, elements: [], maps: 0 }) {
	if (Array.isArray(s)) {
		s.forEach((x) => schemaIds(x, out));
	} else if (s && typeof s === "object") {
		if (s.type === "record")
			for (const f of s.fields) {
				if (f.name !== "key" && f.name !== "value" &&
					!f.name.endsWith("_day") && !f.name.endsWith("_month"))
					out.fields[f.name] = f["field-id"];
				schemaIds(f.type, out);
			}
		if (s.type === "array") {
			if (s["element-id"] !== undefined) out.elements.push(s["element-id"]);
			if (s.logicalType === "map") out.maps++;
			schemaIds(s.items, out);
		}
	}
	return out;
}

function readAvro(file) {
	return new Promise((resolve, reject) => {
		const recs = [];
		avsc.createFileDecoder(file).on("data", (r) => recs.push(r))
			.on("end", () => resolve(recs)).on("error", reject);
	});
}

function avroHeader(file) {
	const h = avsc.extractFileHeader(file, { decode: false });
	const meta = {};
	for (const [k, v] of Object.entries(h.meta)) meta[k] = v.toString();
	return meta;
}

const local = (uri) => uri.replace(/^file:\/\//, "");

function metadataOf(table, v) {
	const dir = path.join(lake, table, "metadata");
	v ??= Number(fs.readFileSync(path.join(dir, "version-hint.text"), "utf8"));
	return { v, m: JSON.parse(fs.readFileSync(path.join(dir, `v${v}.metadata.json`))) };
}

// The live data files of a snapshot, from its manifests (through avsc).
async function liveFiles(m, id = m["current-snapshot-id"]) {
	const cur = m.snapshots.find((s) => s["snapshot-id"] === id);
	const files = [];
	for (const mf of await readAvro(local(cur["manifest-list"])))
		for (const e of await readAvro(local(mf.manifest_path)))
			if (e.status !== 2) files.push(e);
	return files;
}

// ---- checks of one table ----
const tables = {
	gpu_usage_fact: {
		count: "SELECT count(*) n FROM gpu_usage_fact",
		sums: "SELECT sum(ts_ms) * 1000 ts, sum(gpu) gpu, sum(util_pct) util_pct," +
			" sum(mem_used_mib) mem_used_mib, sum(mem_total_mib) mem_total_mib," +
			" sum(interval_s) interval_s, sum(ingest_id) ingest_id," +
			" sum(power_w) power_w, sum(temp_c) temp_c, sum(job_src) job_src," +
			" count(job_key) job_id FROM gpu_usage_fact",
		duck: "sum(epoch_us(ts)) ts, sum(gpu) gpu, sum(util_pct) util_pct," +
			" sum(mem_used_mib) mem_used_mib, sum(mem_total_mib) mem_total_mib," +
			" sum(interval_s) interval_s, sum(ingest_id) ingest_id," +
			" sum(power_w) power_w, sum(temp_c) temp_c, sum(job_src) job_src," +
			" count(job_id) job_id",
		partition: "ts",
	},
	hourly: {
		count: "SELECT count(*) n FROM usage_hourly",
		sums: "SELECT sum(hour_ms) * 1000 hour_start, sum(samples) samples," +
			" sum(gpu_seconds) gpu_seconds, sum(busy) busy," +
			" sum(mem_used_s) mem_used_s, sum(overage) overage," +
			" sum(power_s) power_s FROM usage_hourly",
		duck: "sum(epoch_us(hour_start)) hour_start, sum(samples) samples," +
			" sum(gpu_seconds) gpu_seconds, sum(busy) busy," +
			" sum(mem_used_s) mem_used_s, sum(overage) overage," +
			" sum(power_s) power_s",
		partition: "hour_start",
	},
	jobs: {
		count: "SELECT count(*) n FROM jobs_dim",
		sums: "SELECT sum(gpu_count) gpu_count, sum(start_ms) * 1000 start_time," +
			" count(user) user FROM jobs_dim",
		duck: "sum(gpu_count) gpu_count, sum(epoch_us(start_time)) start_time," +
			" count(\"user\") \"user\"",
	},
};

const typeOf = { timestamptz: "INT64", int: "INT32", long: "INT64", double: "DOUBLE", string: "BYTE_ARRAY" };

async function checkTable(name, label) {
	const t = tables[name];
	const { v, m } = metadataOf(name);
	const want = sql(t.count)[0].n;
	const sums = sql(t.sums)[0];
	const files = await liveFiles(m);
	const paths = files.map((e) => local(e.data_file.file_path));
	const what = `${label} ${name} v${v}`;

	// Table metadata shape.
	const snaps = m.snapshots;
	check(m["format-version"] === 2 && m["table-uuid"] && m.location &&
		snaps.some((s) => s["snapshot-id"] === m["current-snapshot-id"]) &&
		m.refs.main["snapshot-id"] === m["current-snapshot-id"] &&
		m["last-sequence-number"] === Math.max(...snaps.map((s) => s["sequence-number"])) &&
		m["last-column-id"] === Math.max(...m.schemas[0].fields.map((f) => f.id)),
	`${what}: metadata fields`, null, null);
	// Every earlier metadata file on disk is in the log (all of them
	// until snapshots expire, then those of the retained snapshots).
	const metas = fs.readdirSync(path.join(lake, name, "metadata")).filter((f) => /^v\d+\.metadata\.json$/.test(f));
	check(m["snapshot-log"].every((e, i, a) => i === 0 || a[i - 1]["timestamp-ms"] <= e["timestamp-ms"]) &&
		m["snapshot-log"].map((e) => e["snapshot-id"]).join() === snaps.map((x) => x["snapshot-id"]).join() &&
		m["metadata-log"].every((e) => fs.existsSync(local(e["metadata-file"]))) &&
		m["metadata-log"].length === metas.length - 1, `${what}: snapshot and metadata logs`,
	m["metadata-log"].length, metas.length - 1);
	check(files.reduce((a, e) => a + Number(e.data_file.record_count), 0) === want,
		`${what}: manifests count the warehouse's ${want} rows`,
		files.reduce((a, e) => a + Number(e.data_file.record_count), 0), want);

	if (duck !== null && paths.length > 0) {
		const list = "[" + paths.map((p) => `'${p}'`).join(",") + "]";
		const got = (await duck(`SELECT count(*) n, ${t.duck} FROM read_parquet(${list}, hive_partitioning=false)`))[0];
		check(Number(got.n) === want, `${what}: DuckDB read_parquet count`, got.n, want);
		for (const [k, w] of Object.entries(sums))
			check(close(Number(got[k] ?? 0), Number(w ?? 0)),
				`${what}: DuckDB sum(${k}) equals the warehouse's`, got[k], w);
		const fields = m.schemas[0].fields;
		const schema = await duck(`SELECT name, type, field_id, repetition_type, logical_type FROM parquet_schema('${paths[0]}') WHERE type IS NOT NULL`);
		check(schema.length === fields.length && fields.every((f, i) =>
			schema[i].name === f.name && Number(schema[i].field_id) === f.id &&
			schema[i].type === typeOf[f.type] &&
			schema[i].repetition_type === (f.required ? "REQUIRED" : "OPTIONAL") &&
			(f.type !== "timestamptz" || /isAdjustedToUTC=1.*MICROS=MicroSeconds/.test(schema[i].logical_type)) &&
			(f.type !== "string" || schema[i].logical_type === "StringType()")),
		`${what}: parquet_schema names, types, field ids, logical types`, schema, fields);
		const meta = await duck(`SELECT path_in_schema p, compression c, encodings e, stats_min_value mn, stats_max_value mx, stats_null_count nc FROM parquet_metadata(${list})`);
		check(meta.every((r) => r.c === "ZSTD" && r.nc !== null),
			`${what}: parquet_metadata: ZSTD chunks with null counts`, meta[0], "ZSTD");
		check(meta.filter((r) => r.e.includes("RLE_DICTIONARY")).length > 0 &&
			meta.every((r) => r.mn !== null || r.e !== "PLAIN, RLE" || Number(r.nc) > 0),
		`${what}: parquet_metadata: dictionary strings, min/max`, meta[0], null);
		const kv = await duck(`SELECT decode(key) k, decode(value) v FROM parquet_kv_metadata('${paths[0]}')`);
		check(kv.length === 1 && kv[0].k === "iceberg.schema" &&
			JSON.stringify(JSON.parse(kv[0].v)) === JSON.stringify(m.schemas[0]),
		`${what}: parquet_kv_metadata iceberg.schema`, kv, m.schemas[0]);
		// Manifest bounds and counts against DuckDB, file by file.
		for (const e of fields[0].type === "timestamptz" ? files.slice(0, 3) : []) {
			const p = local(e.data_file.file_path);
			const f0 = fields[0];
			const mm = (await duck(`SELECT count(*) n, min(epoch_us("${f0.name}")) mn, max(epoch_us("${f0.name}")) mx FROM read_parquet('${p}', hive_partitioning=false)`))[0];
			const lb = e.data_file.lower_bounds.find((x) => x.key === f0.id);
			const ub = e.data_file.upper_bounds.find((x) => x.key === f0.id);
			if (f0.type === "timestamptz" && lb && ub)
				check(lb.value.readBigInt64LE(0) === BigInt(mm.mn) &&
					ub.value.readBigInt64LE(0) === BigInt(mm.mx) &&
					Number(mm.n) === Number(e.data_file.record_count),
				`${what}: manifest bounds of ${path.basename(p)}`, [lb.value.readBigInt64LE(0).toString(), mm.mn], mm.mx);
			if (t.partition !== undefined) {
				const day = e.data_file.partition[`${t.partition}_day`];
				check(Math.floor(Number(mm.mn) / 86400e6) === day && Math.floor(Number(mm.mx) / 86400e6) === day,
					`${what}: partition day(${t.partition}) of ${path.basename(p)}`, day, mm.mn);
			}
		}
	}

	// Two more Parquet readers, every file.
	for (const reader of ["hyparquet", "parquet-wasm"]) {
		if (!have(reader === "hyparquet" ? "hyparquet" : "parquet-wasm/node")) {
			skip(`${reader} is not installed: npm ci in tests/lake`);
			continue;
		}
		const out = JSON.parse("[" + run("node", [path.join(import.meta.dirname, "readers.mjs"), ...paths])
			.trim().split("\n").filter((l) => l.startsWith("{")).join(",") + "]");
		const mine = out.filter((o) => o.reader === reader);
		const n = mine.reduce((a, o) => a + o.rows, 0);
		check(mine.length === paths.length && n === want, `${what}: ${reader} reads every file, ${want} rows`, n, want);
		const col = Object.keys(sums).find((k) => k !== "ts" && k !== "hour_start" && k !== "start_time" && k !== "job_id" && k !== "user");
		const s = mine.reduce((a, o) => a + o.cols[col].sum, 0);
		check(close(s, Number(sums[col])), `${what}: ${reader} sum(${col})`, s, sums[col]);
		if (reader === "parquet-wasm") {
			const ty = mine[0].types;
			check(m.schemas[0].fields.every((f) => ty[f.name].endsWith(`id=${f.id}`)) &&
				Object.values(ty).some((x) => x.startsWith("Timestamp<MICROSECOND, UTC>")) || name === "jobs",
			`${what}: parquet-wasm field ids and timestamp type`, ty, null);
		}
	}

	// Avro: every manifest list and manifest, three readers.
	const avros = fs.readdirSync(path.join(lake, name, "metadata")).filter((f) => f.endsWith(".avro"))
		.map((f) => path.join(lake, name, "metadata", f));
	if (avsc !== null) {
		for (const f of avros) {
			const meta = avroHeader(f);
			const ids = schemaIds(JSON.parse(meta["avro.schema"]));
			const isList = path.basename(f).startsWith("snap-");
			const wantIds = isList ? listIds : entryIds;
			const keys = isList ? ["snapshot-id", "parent-snapshot-id", "sequence-number", "format-version"]
				: ["schema", "schema-id", "partition-spec", "partition-spec-id", "format-version", "content"];
			check(JSON.stringify(Object.keys(ids.fields).sort()) === JSON.stringify(Object.keys(wantIds).sort()) &&
				Object.entries(wantIds).every(([k, id]) => ids.fields[k] === id) &&
				keys.every((k) => meta[k] !== undefined) && meta["format-version"] === "2" &&
				(isList ? ids.elements.join() === "508" : ids.elements.join() === "133,136" && ids.maps === 6),
			`${what}: avsc: ${path.basename(f)} field ids and metadata`, ids, wantIds);
			await readAvro(f);
		}
	}
	if (haveCmd("avrocat")) {
		let ok = true;
		for (const f of avros) {
			try { run("avrocat", [f], { stdio: ["ignore", "pipe", "pipe"] }); } catch { ok = false; }
		}
		check(ok, `${what}: avrocat reads ${avros.length} Avro files`, ok, true);
	} else {
		skip("avrocat is not installed: scripts/install-deps.sh --lake");
	}
	let py = false;
	try { run("/usr/bin/python3", ["-c", "import avro"], { stdio: "ignore" }); py = true; } catch { /* absent */ }
	if (py) {
		const out = run("/usr/bin/python3", ["-W", "ignore", "-c",
			"import sys\nfrom avro.datafile import DataFileReader\nfrom avro.io import DatumReader\n" +
			"for f in sys.argv[1:]:\n  r = DataFileReader(open(f, 'rb'), DatumReader())\n" +
			"  n = len(list(r))\n  fid = r.datum_reader.writers_schema.fields[0].other_props.get('field-id')\n" +
			"  print(n, fid)\n", ...avros]);
		check(out.trim().split("\n").every((l) => /^\d+ (0|500)$/.test(l)),
			`${what}: python3-avro reads ${avros.length} Avro files with field ids`, out, null);
	} else {
		skip("python3-avro is not installed: scripts/install-deps.sh --lake");
	}
	return { v, m, want, sums };
}

// icebird with a fetch() that reads file: URLs (and Range requests).
async function icebirdRows(table, metadataFileName, lakeDir = lake) {
	const { icebergRead } = await import("icebird");
	const real = globalThis.fetch;
	globalThis.fetch = async (url, init = {}) => {
		const u = String(url);
		if (!u.startsWith("file:")) return real(url, init);
		const p = decodeURIComponent(new URL(u).pathname);
		if (!fs.existsSync(p)) return new Response(null, { status: 404 });
		const buf = fs.readFileSync(p);
		const headers = new Headers({ "content-length": String(buf.length) });
		if (init.method === "HEAD") return new Response(null, { status: 200, headers });
		const range = init.headers && (init.headers.Range ?? init.headers.range ??
			(init.headers.get && init.headers.get("range")));
		if (range) {
			const [, a, b] = /bytes=(\d+)-(\d*)/.exec(range);
			const end = b === "" ? buf.length : Number(b) + 1;
			return new Response(buf.subarray(Number(a), end), { status: 206 });
		}
		return new Response(buf, { status: 200, headers });
	};
	try {
		return await icebergRead({ tableUrl: "file://" + path.join(lakeDir, table), metadataFileName });
	} finally {
		globalThis.fetch = real;
	}
}

const haveIcebird = have("icebird");
if (!haveIcebird) skip("icebird is not installed: npm ci in tests/lake");

async function checkIcebird(label, table, want, utilSum, metadataFileName) {
	if (!haveIcebird) return;
	const rows = await icebirdRows(table, metadataFileName);
	const s = rows.reduce((a, r) => a + r.util_pct, 0);
	check(rows.length === want && close(s, utilSum),
		`${label}: icebird reads ${table}${metadataFileName ? " at " + metadataFileName : ""}: ${want} rows`,
		[rows.length, s], [want, utilSum]);
}

// ---- 1: the first export ----
exportLake();
const first = {};
for (const t of Object.keys(tables)) first[t] = await checkTable(t, "first export");
await checkIcebird("first export", "gpu_usage_fact", first.gpu_usage_fact.want, first.gpu_usage_fact.sums.util_pct);

// ---- 2: re-running exports nothing ----
exportLake();
for (const t of Object.keys(tables))
	check(metadataOf(t).v === first[t].v, `re-run: ${t} stays at v${first[t].v}`, metadataOf(t).v, first[t].v);

// ---- 3: a new day appends ----
run("gpuingest", ["-q", "--db", db, path.join(work, "b.csv")]);
exportLake();
const second = await checkTable("gpu_usage_fact", "append");
const cur2 = second.m.snapshots.at(-1);
check(cur2.summary.operation === "append" && second.v === first.gpu_usage_fact.v + 1 &&
	cur2["parent-snapshot-id"] === first.gpu_usage_fact.m["current-snapshot-id"],
"append: one append snapshot, parent the first", cur2.summary, "append");
check(/^\d+$/.test(cur2.summary["gpuusage.ingest-ids"]),
	"append: the summary names the ingest run it carries", cur2.summary["gpuusage.ingest-ids"], "one id");
await checkTable("hourly", "append");
await checkTable("jobs", "append");

// ---- 4: late data rewrites its day (overwrite) ----
const lines = fs.readFileSync(path.join(work, "a.csv"), "utf8").trim().split("\n");
const head = lines[0].split(",");
const ui = head.indexOf("util_pct");
const fixed = [lines[0], ...lines.slice(1, 11).map((l) => {
	const f = l.split(",");
	f[ui] = String(Math.min(100, Number(f[ui]) + 1));
	return f.join(",");
})];
fs.writeFileSync(path.join(work, "fix.csv"), fixed.join("\n") + "\n");
run("gpuingest", ["-q", "--db", db, path.join(work, "fix.csv")]);
exportLake();
const third = await checkTable("gpu_usage_fact", "overwrite");
const cur3 = third.m.snapshots.at(-1);
check(cur3.summary.operation === "overwrite" && Number(cur3.summary["deleted-data-files"]) >= 1 &&
	Number(cur3.summary["total-records"]) === third.want,
"overwrite: an overwrite snapshot, no sample twice", cur3.summary, third.want);
{
	// The rewritten manifest: DELETED entries with explicit sequence numbers.
	let deleted = 0, bad = 0;
	for (const mf of await readAvro(local(cur3["manifest-list"])))
		for (const e of await readAvro(local(mf.manifest_path))) {
			if (e.status === 2) {
				deleted++;
				if (e.sequence_number === null || e.file_sequence_number === null ||
					e.snapshot_id !== cur3["snapshot-id"]) bad++;
			}
			if (e.status === 0 && (e.sequence_number === null || e.sequence_number >= cur3["sequence-number"])) bad++;
		}
	check(deleted >= 1 && bad === 0, "overwrite: DELETED and EXISTING entries carry their sequence numbers",
		{ deleted, bad }, "deleted >= 1, bad 0");
}
await checkIcebird("overwrite", "gpu_usage_fact", third.want, third.sums.util_pct);
// The snapshot before the overwrite still reads its old rows.
await checkIcebird("time travel", "gpu_usage_fact", second.want, second.sums.util_pct,
	`v${second.v}.metadata.json`);

const hourly4 = await checkTable("hourly", "overwrite");
check(hourly4.m.snapshots.at(-1).summary.operation === "overwrite",
	"overwrite: hourly rewrites the changed day", hourly4.m.snapshots.at(-1).summary.operation, "overwrite");

// ---- 5: --from/--to rewrites a day; nothing doubles ----
exportLake("-t", "gpu_usage_fact", "--from", "2026-11-02", "--to", "2026-11-03");
{
	const r = await checkTable("gpu_usage_fact", "--from/--to");
	const cur = r.m.snapshots.at(-1).summary;
	check(cur.operation === "overwrite" && cur["changed-partition-count"] === "1",
		"--from/--to: one day overwritten", cur, "overwrite of 1 day");
	exportLake("-t", "gpu_usage_fact");
	check(metadataOf("gpu_usage_fact").v === r.v, "--from/--to: the next run has nothing to do",
		metadataOf("gpu_usage_fact").v, r.v);
}

// ---- 6: snapshot expiry: all but the last two snapshots ----
{
	const name = "gpu_usage_fact";
	const tdir = path.join(lake, name);
	const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
		e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
	const before = metadataOf(name);
	const kept = before.m.snapshots.slice(-2).map((x) => x["snapshot-id"]);
	// The metadata file whose current snapshot is the older one kept.
	const prevV = walk(path.join(tdir, "metadata")).map((f) => /\/v(\d+)\.metadata\.json$/.exec(f))
		.filter((x) => x !== null).map((x) => Number(x[1]))
		.find((v) => metadataOf(name, v).m["current-snapshot-id"] === kept[0]);
	const rowsOf = async (m, id) => {
		const paths = (await liveFiles(m, id)).map((e) => local(e.data_file.file_path));
		return { paths, n: (await liveFiles(m, id)).reduce((a, e) => a + Number(e.data_file.record_count), 0) };
	};
	const prev = await rowsOf(before.m, kept[0]);
	const prevIce = haveIcebird ? await icebirdRows(name, `v${prevV}.metadata.json`) : [];
	const nBefore = walk(tdir).length;
	exportLake("-t", name, "--expire-snapshots", "2099-12-31", "--retain-last", "2");
	const after = metadataOf(name);
	check(after.v === before.v + 1 && after.m["current-snapshot-id"] === before.m["current-snapshot-id"] &&
		after.m.snapshots.map((x) => x["snapshot-id"]).join() === kept.join() &&
		after.m["snapshot-log"].length === 2,
	"expiry: the new metadata keeps the current and the last two snapshots", after.m.snapshots.length, 2);
	// On disk: exactly what the retained snapshots reach.
	const reach = new Set([path.join(tdir, "metadata", "version-hint.text"),
		path.join(tdir, "metadata", `v${after.v}.metadata.json`),
		...after.m["metadata-log"].map((e) => local(e["metadata-file"]))]);
	for (const x of after.m.snapshots) {
		reach.add(local(x["manifest-list"]));
		for (const mf of await readAvro(local(x["manifest-list"]))) {
			reach.add(local(mf.manifest_path));
			for (const e of await readAvro(local(mf.manifest_path)))
				if (e.status !== 2) reach.add(local(e.data_file.file_path));
		}
	}
	const onDisk = walk(tdir);
	check(onDisk.every((f) => reach.has(f)) && [...reach].every((f) => fs.existsSync(f)) && onDisk.length < nBefore,
		`expiry: ${nBefore - onDisk.length} unreachable files deleted, every reachable one kept`,
		onDisk.filter((f) => !reach.has(f)), [...reach].filter((f) => !fs.existsSync(f)));
	// The current snapshot reads as before with every reader.
	const cur = await checkTable(name, "after expiry");
	await checkIcebird("after expiry", name, cur.want, cur.sums.util_pct);
	// The older snapshot kept still reads: icebird at its metadata file,
	// DuckDB, hyparquet and parquet-wasm over its live files.
	if (haveIcebird) {
		const rows = await icebirdRows(name, `v${prevV}.metadata.json`);
		check(rows.length === prevIce.length && rows.length === prev.n &&
			close(rows.reduce((a, r) => a + r.util_pct, 0), prevIce.reduce((a, r) => a + r.util_pct, 0)),
		`expiry: icebird reads the retained snapshot at v${prevV}`, rows.length, prev.n);
	}
	if (duck !== null) {
		const list = "[" + prev.paths.map((p) => `'${p}'`).join(",") + "]";
		const got = (await duck(`SELECT count(*) n FROM read_parquet(${list}, hive_partitioning=false)`))[0];
		check(Number(got.n) === prev.n, "expiry: DuckDB reads the retained snapshot's files", got.n, prev.n);
	}
	const out = run("node", [path.join(import.meta.dirname, "readers.mjs"), ...prev.paths]).trim().split("\n")
		.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
	for (const reader of ["hyparquet", "parquet-wasm"]) {
		const n = out.filter((o) => o.reader === reader).reduce((a, o) => a + o.rows, 0);
		if (out.some((o) => o.reader === reader))
			check(n === prev.n, `expiry: ${reader} reads the retained snapshot's files`, n, prev.n);
	}
	exportLake("-t", name, "--expire-snapshots", "2099-12-31", "--retain-last", "2");
	check(metadataOf(name).v === after.v, "expiry: nothing more to expire commits nothing", metadataOf(name).v, after.v);
	// Exports go on after an expiry.
	exportLake("-t", name, "--from", "2026-11-01", "--to", "2026-11-02");
	const next = await checkTable(name, "export after expiry");
	check(next.m.snapshots.length === 3 && next.m.snapshots[1]["parent-snapshot-id"] === kept[0],
		"expiry: the next export's snapshot follows the kept ones", next.m.snapshots.length, 3);
}

// ---- 7: many row groups and pages, PLAIN fallbacks, every reader ----
{
	const db2 = path.join(work, "w2.db"), lake2 = path.join(work, "lake2");
	run("gpugen", ["-n", "4", "-g", "8", "-s", "2026-11-05", "-H", "24", "-i", "30",
		"-S", "9", "-o", path.join(work, "c.csv")]);
	run("gpuingest", ["-q", "--db", db2, path.join(work, "c.csv")]);
	run("gpuexport", ["--db", db2, "--lake", lake2, "-t", "gpu_usage_fact", "--row-group-mb", "2"]);
	const m = JSON.parse(fs.readFileSync(path.join(lake2, "gpu_usage_fact/metadata/v2.metadata.json")));
	const paths = [];
	for (const mf of await readAvro(local(m.snapshots[0]["manifest-list"])))
		for (const e of await readAvro(local(mf.manifest_path)))
			paths.push(local(e.data_file.file_path));
	const want = JSON.parse(run("sqlite3", ["-json", db2,
		"SELECT count(*) n, sum(util_pct) u, sum(mem_used_mib) m, sum(power_w) p FROM gpu_usage_fact"]))[0];
	if (duck !== null) {
		const list = "[" + paths.map((p) => `'${p}'`).join(",") + "]";
		const got = (await duck(`SELECT count(*) n, sum(util_pct) u, sum(mem_used_mib) m, sum(power_w) p FROM read_parquet(${list})`))[0];
		const rg = (await duck(`SELECT count(DISTINCT row_group_id) g, count(*) FILTER (WHERE encodings = 'PLAIN, RLE') plain FROM parquet_metadata(${list})`))[0];
		check(Number(got.n) === want.n && close(got.u, want.u) && Number(got.m) === want.m && close(got.p, want.p) &&
			Number(rg.g) > 1 && Number(rg.plain) > 0,
		`row groups: DuckDB reads ${rg.g} row groups with PLAIN fallbacks`, [got, rg], want);
	}
	for (const reader of ["hyparquet", "parquet-wasm"]) {
		if (!have(reader)) continue;
		const out = run("node", [path.join(import.meta.dirname, "readers.mjs"), ...paths]).trim().split("\n")
			.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((o) => o.reader === reader);
		const n = out.reduce((a, o) => a + o.rows, 0);
		const u = out.reduce((a, o) => a + o.cols.util_pct.sum, 0);
		const mm = out.reduce((a, o) => a + o.cols.mem_used_mib.sum, 0);
		check(n === want.n && close(u, want.u) && mm === want.m,
			`row groups: ${reader} reads every row group`, [n, u, mm], want);
	}
	// The unit tests' files (tests/e2e/lake-export.sh writes them):
	// dictionary overflow to PLAIN strings, three codecs.
	const unitDir = process.env.LAKE_UNIT_FILES;
	if (unitDir && duck !== null) {
		for (const f of fs.readdirSync(unitDir).filter((x) => x.endsWith(".parquet"))) {
			const p = path.join(unitDir, f);
			const d = (await duck(`SELECT count(*) n, sum(gpu) g, sum(util) u, count("user") c, sum(mem) m FROM '${p}'`))[0];
			const rs = JSON.parse("[" + run("node", [path.join(import.meta.dirname, "readers.mjs"), p]).trim()
				.split("\n").filter((l) => l.startsWith("{")).join(",") + "]");
			check(rs.length === 2 && rs.every((o) => o.rows === Number(d.n) && o.cols.gpu.sum === Number(d.g) &&
				close(o.cols.util.sum, d.u) && o.cols.user.n === Number(d.c) && o.cols.mem.sum === Number(d.m)),
			`unit file ${f}: DuckDB, hyparquet and parquet-wasm agree`, rs.map((o) => o.rows), d);
		}
	} else {
		skip("the unit tests' Parquet files (LAKE_UNIT_FILES) or DuckDB");
	}
}

// ---- 8: --max-manifests merges a table's manifests ----
{
	const lake3 = path.join(work, "lake3");
	for (const [a, b] of [["2026-11-01", "2026-11-02"], ["2026-11-02", "2026-11-03"], ["2026-11-03", "2026-11-04"]])
		run("gpuexport", ["--db", db, "--lake", lake3, "-t", "gpu_usage_fact",
			"--max-manifests", "2", "--from", a, "--to", b]);
	const dir = path.join(lake3, "gpu_usage_fact/metadata");
	const v = Number(fs.readFileSync(path.join(dir, "version-hint.text"), "utf8"));
	const m = JSON.parse(fs.readFileSync(path.join(dir, `v${v}.metadata.json`)));
	const list = await readAvro(local(m.snapshots.at(-1)["manifest-list"]));
	let rows = 0, existing = 0;
	for (const mf of list)
		for (const e of await readAvro(local(mf.manifest_path))) {
			if (e.status !== 2) rows += Number(e.data_file.record_count);
			if (e.status === 0) existing++;
		}
	const want = sql("SELECT count(*) n FROM gpu_usage_fact")[0].n;
	check(v === 4 && list.length === 2 && existing >= 2 && rows === want &&
		list.some((x) => x.existing_files_count >= 2 && x.min_sequence_number < x.sequence_number),
	"--max-manifests 2: three commits, two manifests, all rows", { v, n: list.length, existing, rows }, want);
}

// ---- 9: bills: gpubill's job lines per month, money as decimal(18,2) ----
{
	const db4 = path.join(work, "w4.db"), lake4 = path.join(work, "lake4");
	const dir = path.join(lake4, "bills", "metadata");
	run("gpugen", ["-n", "2", "-g", "4", "-s", "2026-10-31", "-H", "48", "-i", "300",
		"-S", "11", "-j", path.join(work, "jobs4.csv"), "-o", path.join(work, "d.csv")]);
	run("gpuingest", ["-q", "--db", db4, "-j", path.join(work, "jobs4.csv"), path.join(work, "d.csv")]);
	const env = (rate) => ({ env: { ...process.env, GPU_HOURLY_RATE: rate } });
	const exportBills = (rate) => run("gpuexport", ["--db", db4, "--lake", lake4, "-t", "bills"], env(rate));
	const cents = (x) => Math.round(Number(x) * 100);
	// gpubill's lines and total of a month, in cents.
	const gpubill = (month, rate) => {
		const j = JSON.parse(run("gpubill", ["--db", db4, "--month", month, "-f", "json"], env(rate)));
		const line = (l) => [l.job_id, l.user ?? "", l.project ?? "", l.alloc_gpu_seconds,
			l.mem_overage_mib_seconds, cents(l.gpu_charge), cents(l.mem_charge),
			cents(l.overhead), cents(l.total), l.currency].join("|");
		return { lines: j.lines.map(line).sort(), total: cents(j.total.total),
			gpu: cents(j.total.gpu_charge), mem: cents(j.total.mem_charge),
			overhead: cents(j.total.overhead) };
	};
	const checkBills = async (label, rate) => {
		const v = Number(fs.readFileSync(path.join(dir, "version-hint.text"), "utf8"));
		const m = JSON.parse(fs.readFileSync(path.join(dir, `v${v}.metadata.json`)));
		const files = await liveFiles(m);
		const paths = files.map((e) => local(e.data_file.file_path));
		const spec = m["partition-specs"][0].fields[0];
		check(spec.transform === "month" && spec.name === "period_start_month" &&
			m.schemas[0].fields.filter((f) => f.type === "decimal(18,2)").length === 4,
		`bills ${label}: month(period_start) partitions, decimal(18,2) money`, spec, "month");
		if (duck === null) return m;
		const list = "[" + paths.map((p) => `'${p}'`).join(",") + "]";
		for (const month of ["2026-10", "2026-11"]) {
			const want = gpubill(month, rate);
			const rows = await duck(`SELECT job_id, coalesce("user", '') u, coalesce(project, '') p,
				alloc_gpu_seconds a, mem_overage_mib_seconds o, CAST(gpu_charge * 100 AS BIGINT) g,
				CAST(mem_charge * 100 AS BIGINT) mc, CAST(overhead * 100 AS BIGINT) oh,
				CAST(total * 100 AS BIGINT) t, currency c, typeof(total) ty, period_start ps
				FROM read_parquet(${list}, hive_partitioning=false) WHERE period = '${month}'`);
			const got = rows.map((r) => [r.job_id, r.u, r.p, r.a, r.o, r.g, r.mc, r.oh, r.t, r.c].join("|")).sort();
			const sum = (k) => rows.reduce((a, r) => a + Number(r[k]), 0);
			check(JSON.stringify(got) === JSON.stringify(want.lines),
				`bills ${label}: DuckDB reads gpubill's ${want.lines.length} lines of ${month} to the cent`,
				got.slice(0, 2), want.lines.slice(0, 2));
			check(sum("t") === want.total && sum("g") === want.gpu && sum("mc") === want.mem &&
				sum("oh") === want.overhead && rows.every((r) => r.ty === "DECIMAL(18,2)" && r.ps === month + "-01"),
			`bills ${label}: ${month} totals equal gpubill's TOTAL (${want.total} cents)`, sum("t"), want.total);
		}
		for (const e of files) {
			const p = local(e.data_file.file_path);
			const per = (await duck(`SELECT DISTINCT period FROM read_parquet('${p}', hive_partitioning=false)`));
			const [y, mo] = per[0].period.split("-").map(Number);
			const ub = e.data_file.upper_bounds.find((x) => x.key === 11);
			const mx = (await duck(`SELECT CAST(max(total) * 100 AS BIGINT) t FROM read_parquet('${p}', hive_partitioning=false)`))[0].t;
			// Iceberg's decimal bound: big-endian two's complement, fewest bytes.
			let b = 0n;
			for (const x of ub.value) b = b * 256n + BigInt(x);
			check(per.length === 1 && e.data_file.partition.period_start_month === (y - 1970) * 12 + mo - 1 &&
				b === BigInt(mx) && ub.value.length < 8,
			`bills ${label}: partition and decimal bound of ${path.basename(p)}`,
			[e.data_file.partition, b.toString()], [per, mx]);
		}
		for (const reader of ["hyparquet", "parquet-wasm"]) {
			if (!have(reader)) continue;
			const out = run("node", [path.join(import.meta.dirname, "readers.mjs"), ...paths]).trim().split("\n")
				.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((o) => o.reader === reader);
			const n = out.reduce((a, o) => a + o.rows, 0);
			const want = files.reduce((a, e) => a + Number(e.data_file.record_count), 0);
			check(out.length === paths.length && n === want, `bills ${label}: ${reader} reads every file`, n, want);
		}
		if (avsc !== null)
			for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".avro"))) {
				const meta = avroHeader(path.join(dir, f));
				check(f.startsWith("snap-") || JSON.parse(meta["partition-spec"])[0].transform === "month",
					`bills ${label}: avsc reads ${f}`, meta["partition-spec"], "month");
				await readAvro(path.join(dir, f));
			}
		return m;
	};
	exportBills("2.50");
	const b1 = await checkBills("first export", "2.50");
	exportBills("2.50");
	check(Number(fs.readFileSync(path.join(dir, "version-hint.text"), "utf8")) === 2,
		"bills: re-running with the same bills commits nothing", null, 2);
	// Late data in November: only that month's bill changes and is overwritten.
	run("gpugen", ["-n", "1", "-g", "2", "-s", "2026-11-02", "-H", "4", "-i", "300",
		"-S", "12", "-o", path.join(work, "e.csv")]);
	run("gpuingest", ["-q", "--db", db4, path.join(work, "e.csv")]);
	exportBills("2.50");
	const b2 = await checkBills("late data", "2.50");
	const s2 = b2.snapshots.at(-1).summary;
	check(s2.operation === "overwrite" && s2["changed-partition-count"] === "1" &&
		s2["deleted-data-files"] === "1" && b2.snapshots.length === b1.snapshots.length + 1,
	"bills: a month whose bill changed is overwritten, the other kept", s2, "overwrite of 1");
	// New rates change every month's bill.
	exportBills("3.10");
	const b3 = await checkBills("new rates", "3.10");
	check(b3.snapshots.at(-1).summary["changed-partition-count"] === "2",
		"bills: a new rate overwrites every month", b3.snapshots.at(-1).summary, "2");
	if (haveIcebird) {
		const rows = await icebirdRows("bills", undefined, lake4);
		const want = gpubill("2026-10", "3.10").total + gpubill("2026-11", "3.10").total;
		const got = rows.reduce((a, r) => a + Math.round(Number(r.total) * 100), 0);
		check(got === want, "bills: icebird reads the table, its totals to the cent", got, want);
	}
}

// ---- 10: another codec, and a table written again from scratch ----
fs.rmSync(lake, { recursive: true });
run("sqlite3", [db, "DELETE FROM lake_export_versions; DELETE FROM lake_export_files;" +
	" DELETE FROM lake_export_manifests; DELETE FROM lake_export_days; DELETE FROM lake_export_tables"]);
exportLake("-t", "gpu_usage_fact", "-c", "snappy");
if (duck !== null) {
	const { m } = metadataOf("gpu_usage_fact");
	const files = (await liveFiles(m)).map((e) => local(e.data_file.file_path));
	const c = await duck(`SELECT DISTINCT compression c FROM parquet_metadata([${files.map((p) => `'${p}'`).join(",")}])`);
	check(c.length === 1 && c[0].c === "SNAPPY", "--codec snappy: SNAPPY chunks", c, "SNAPPY");
}

// ---- 11: MIG slices: one row per slice, its share, hours as gpuagg's ----
{
	const db3 = path.join(work, "w-mig.db"), lake3 = path.join(work, "lake-mig");
	run("gpugen", ["-n", "2", "-g", "2", "-s", "2026-11-05", "-H", "6", "-i", "300",
		"-S", "3", "--mig", "3g.40gb,2g.20gb,1g.10gb", "-o", path.join(work, "m.csv")]);
	run("gpuingest", ["-q", "--db", db3, path.join(work, "m.csv")]);
	run("gpuexport", ["--db", db3, "--lake", lake3]);
	const want = run("gpuagg", ["--db", db3, "-b", "profile", "-m", "samples,gpu_hours", "-f", "csv"])
		.trim().split("\n").slice(1).join(";");
	if (duck !== null) {
		const files = (await liveFiles(JSON.parse(fs.readFileSync(path.join(lake3,
			"gpu_usage_fact/metadata/v2.metadata.json"))))).map((e) => `'${local(e.data_file.file_path)}'`);
		const got = (await duck(`SELECT mig_profile || ',' || count(*) || ',' ||
			round(sum(interval_s * gpu_share) / 3600, 6) r FROM read_parquet([${files.join(",")}])
			GROUP BY mig_profile ORDER BY mig_profile`)).map((r) => r.r).join(";");
		const migs = (await duck(`SELECT count(DISTINCT (node, gpu, mig)) n, count(*) FILTER (WHERE mig IS NULL) w
			FROM read_parquet([${files.join(",")}])`))[0];
		check(got === want && Number(migs.n) === 12 && Number(migs.w) === 0,
			"MIG: a row per slice with its profile; share-weighted hours equal gpuagg's", [got, migs], want);
	}
	// Bills of slices: a profile's card rate, else the slice's share of
	// its model's rate, as gpubill prices them.
	const card = path.join(work, "mig.card");
	fs.writeFileSync(card, "profile.3g.40gb = 1.777777\nmodel.NVIDIA A100-SXM4-80GB = 3.333333\n");
	run("gpuexport", ["--db", db3, "--lake", lake3, "-t", "bills", "-r", card]);
	if (duck !== null) {
		const bdir = path.join(lake3, "bills", "metadata");
		const v = Number(fs.readFileSync(path.join(bdir, "version-hint.text"), "utf8"));
		const files = (await liveFiles(JSON.parse(fs.readFileSync(path.join(bdir,
			`v${v}.metadata.json`))))).map((e) => `'${local(e.data_file.file_path)}'`);
		const got = (await duck(`SELECT job_id || ',' || CAST(gpu_charge * 100 AS BIGINT) || ',' ||
			CAST(total * 100 AS BIGINT) r FROM read_parquet([${files.join(",")}]) ORDER BY job_id`))
			.map((r) => r.r).join(";");
		const j = JSON.parse(run("gpubill", ["--db", db3, "--month", "2026-11", "-r", card, "-f", "json"]));
		const want = j.lines.map((l) => [l.job_id, Math.round(Number(l.gpu_charge) * 100),
			Math.round(Number(l.total) * 100)].join(",")).sort().join(";");
		check(got === want && j.lines.length > 0,
			"MIG: bills price slices as gpubill does (profile rate, else share)", got, want);
	}
}

fs.rmSync(work, { recursive: true });
console.log(`lake: ${passes} passed, ${failures} failed, ${skips} skipped`);
process.exit(failures === 0 ? 0 : 1);
