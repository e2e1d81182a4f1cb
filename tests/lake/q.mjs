// SPDX-License-Identifier: MIT
// Run one DuckDB query and print its rows as JSON lines (a debugging aid).
import { DuckDBInstance } from "@duckdb/node-api";

const db = await DuckDBInstance.create(":memory:");
const con = await db.connect();
const reader = await con.runAndReadAll(process.argv[2]);
for (const row of reader.getRowObjectsJson())
	console.log(JSON.stringify(row));
