// SPDX-License-Identifier: MIT
// DuckDB's side of bench/compare.sh: run the SQL statements of a file
// against a database (a file, or :memory:) and read every result in full,
// as a client would. usage: node duck.mjs DATABASE SQLFILE
// Prints the number of rows of the last statement's result on stderr.
import fs from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";

const [dbPath, sqlFile] = process.argv.slice(2);
const db = await DuckDBInstance.create(dbPath);
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
let rows = 0;
for (const stmt of fs.readFileSync(sqlFile, "utf8").split(/;\s*\n/)) {
	if (stmt.trim() === "") continue;
	const r = await con.runAndReadAll(stmt);
	rows = r.currentRowCount;
}
console.error(`rows: ${rows}`);
