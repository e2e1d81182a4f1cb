// SPDX-License-Identifier: MIT
// Read each Parquet file named on the command line with hyparquet and with
// parquet-wasm (arrow-rs) and print, per file and reader, one JSON line:
// the row count, and per column the non-null count and the sum (numbers)
// or the total length (strings). Also prints each column's Arrow type and
// PARQUET:field_id as parquet-wasm reports them. A reader that is not
// installed is skipped with a message.
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const files = process.argv.slice(2);

function summarize(cols, rows) {
	const out = {};
	for (const [name, values] of Object.entries(cols)) {
		let n = 0, sum = 0, len = 0;
		for (const v of values) {
			if (v === null || v === undefined) continue;
			n++;
			if (typeof v === "string") len += Buffer.byteLength(v);
			else if (typeof v === "bigint") sum += Number(v);
			else if (v instanceof Date) sum += v.getTime();
			else sum += v;
		}
		out[name] = { n, sum, len };
	}
	return { rows, cols: out };
}

async function hyparquet(file) {
	const { parquetReadObjects } = await import("hyparquet");
	const { compressors } = await import("hyparquet-compressors");
	const buf = fs.readFileSync(file);
	const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
	const rows = await parquetReadObjects({ file: ab, compressors });
	const cols = {};
	for (const r of rows)
		for (const [k, v] of Object.entries(r)) (cols[k] ??= []).push(v);
	return summarize(cols, rows.length);
}

async function wasm(file) {
	const pw = require("parquet-wasm/node");
	const arrow = await import("apache-arrow");
	const table = arrow.tableFromIPC(pw.readParquet(
		new Uint8Array(fs.readFileSync(file))).intoIPCStream());
	const cols = {}, types = {};
	for (const f of table.schema.fields) {
		const col = table.getChild(f.name);
		const vals = [];
		for (let i = 0; i < col.length; i++) {
			let v = col.get(i);
			if (arrow.DataType.isTimestamp(f.type) && v !== null)
				v = Number(v);
			vals.push(v);
		}
		cols[f.name] = vals;
		types[f.name] = String(f.type) + " id=" +
			f.metadata.get("PARQUET:field_id");
	}
	return { ...summarize(cols, table.numRows), types };
}

for (const [name, fn] of [["hyparquet", hyparquet], ["parquet-wasm", wasm]]) {
	if (!fs.existsSync(new URL(`node_modules/${name}/package.json`,
		import.meta.url))) {
		console.log(`skip: ${name} is not installed (npm ci in tests/lake)`);
		continue;
	}
	for (const f of files)
		console.log(JSON.stringify({ reader: name, file: f, ...await fn(f) }));
}
