// SPDX-License-Identifier: MIT
// DuckDB's side of bench/compare.sh: run the SQL statements of a file
// against a database (a file, or :memory:) and read every result in full,
// as a client would. usage: node duck.mjs DATABASE SQLFILE [--print]
// Prints the number of rows of the last statement's result on stderr, and
// with --print its rows on stdout, values joined by commas.
import fs from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";

const [dbPath, sqlFile, print] = process.argv.slice(2);
const db = await DuckDBInstance.create(dbPath);
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
let rows = 0;
let last = null;
for (const stmt of fs.readFileSync(sqlFile, "utf8").split(/;\s*\n/)) {
	if (stmt.trim() === "") continue;
	const r = await con.runAndReadAll(stmt);
	rows = r.currentRowCount;
	last = r;
}
if (print === "--print" && last !== null)
	for (const row of last.getRows())
		process.stdout.write(row.map((v) => (v === null ? "" : String(v))).join(",") + "\n");
console.error(`rows: ${rows}`);
