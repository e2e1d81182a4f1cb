// SPDX-License-Identifier: MIT
// Browser test of gpureport's page in headless Chromium: builds a small
// warehouse with gpugen and gpuingest, writes the page, and checks it
// against gpuagg and gpubill for the same period and rates. The binaries
// are taken from PATH; tests/e2e/gpureport-browser.sh sets it up.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, "out");
const FROM = "2026-11-01";
const TO = "2026-11-03";
let failures = 0;

function check(ok, what, got, want) {
	if (ok) {
		console.log("ok   " + what);
		return;
	}
	failures++;
	console.log("FAIL " + what + ": got " + JSON.stringify(got) +
		", want " + JSON.stringify(want));
}

function run(cmd, args, opts) {
	return execFileSync(cmd, args, { encoding: "utf8", ...opts });
}

// RFC 4180 is not needed: gpubill's CSV here holds no quoted fields.
function csv(text) {
	const [head, ...rows] = text.trim().split("\n");
	const cols = head.split(",");
	return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) =>
		[cols[i], v])));
}

// The page's number format: fixed decimals, thousands separated by ",".
function fmtNum(v, decimals) {
	const [w, f] = v.toFixed(decimals).split(".");
	return w.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (f ? "." + f : "");
}

function cents(text) {
	const neg = text.startsWith("-");
	const [w, f] = text.replace("-", "").split(".");
	const c = Number(w) * 100 + Number(f);
	return neg ? -c : c;
}

// Round half away from zero, as round_cents does, for a ratio of integers.
function roundDiv(num, den) {
	return Math.sign(num) * Math.floor((Math.abs(num) * 2 + den) /
		(2 * den));
}

// ---- the warehouse, the page, and what gpuagg and gpubill say ----

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gpureport-browser-"));
const db = path.join(tmp, "w.db");
const page = path.join(tmp, "report.html");
run("gpugen", ["--nodes", "4", "--gpus-per-node", "4", "--start", FROM,
	"--hours", "48", "--interval", "300", "--seed", "7", "--faults",
	"0.002", "--jobs-out", path.join(tmp, "jobs.csv"), "-o",
	path.join(tmp, "s.csv")]);
const summary = JSON.parse(run("gpuingest", ["--db", db, "--interval",
	"300", "--summary", "json", "--quiet", "--jobs", path.join(tmp, "jobs.csv"),
	path.join(tmp, "s.csv")]));
const range = ["--db", db, "--from", FROM, "--to", TO];
run("gpureport", [...range, "-o", page]);
const agg = JSON.parse(run("gpuagg", [...range, "--period", "all",
	"--format", "json"]))[0];
const byModel = JSON.parse(run("gpuagg", [...range, "--period", "all",
	"--by", "model", "--format", "json"]));
const users = csv(run("gpubill", [...range, "--by", "user"]));
const jobs = csv(run("gpubill", [...range, "--by", "job"]));
const aggJson = (...args) => JSON.parse(run("gpuagg", [...range,
	"--format", "json", ...args]));
const aggUser = aggJson("--period", "all", "--by", "user");
const aggProject = aggJson("--period", "all", "--by", "project");
const aggNodeUser = aggJson("--period", "all", "--by", "node,user");
const dayNodeUser = aggJson("--period", "day", "--by", "node,user");
const dayNodeProject = aggJson("--period", "day", "--by", "node,project");
const total = users.find((r) => r.user === "TOTAL");
// The job report's page for the job with the most allocated time.
const jobAgg = aggJson("--period", "all", "--by", "job").filter((r) =>
	r.job_id !== null).sort((a, b) => b.alloc_gpu_seconds -
	a.alloc_gpu_seconds)[0];
const jobPage = path.join(tmp, "job.html");
run("gpureport", [...range, "--job", jobAgg.job_id, "-o", jobPage]);
const userLines = users.filter((r) => r !== total);

// ---- the browser ----

fs.mkdirSync(outDir, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "gpureport-chromium-"));
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
	headless: true,
	viewport: { width: 1280, height: 900 },
	args: ["--headless", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync",
		"--disable-quic"],
});
const url = "file://" + page;
const jobUrl = "file://" + jobPage;
const requests = [];
const errors = [];
// Every request is seen by the "request" event; all but the page are
// aborted here, so a stray one cannot reach the network.
await ctx.route("**/*", (route) => [url, jobUrl].includes(
	route.request().url()) ? route.continue() : route.abort());
ctx.on("request", (r) => requests.push(r.url()));
const tab = ctx.pages()[0] || await ctx.newPage();
tab.on("console", (m) => {
	if (m.type() === "error" || m.type() === "warning")
		errors.push(m.type() + ": " + m.text());
});
tab.on("pageerror", (e) => errors.push("pageerror: " + e.message));

try {
	await tab.goto(url, { waitUntil: "load" });
	await tab.waitForSelector("body[data-rendered]");

	const kpi = async (id, attr = "data-value") =>
		tab.getAttribute("#" + id, attr);
	const kpiText = async (id) =>
		(await tab.textContent("#" + id + " .value")).trim();

	check(Number(agg.gpu_seconds) > 0, "warehouse has GPU time",
		agg.gpu_seconds, "> 0");
	check(await kpi("kpi-gpu-hours") === String(agg.gpu_hours),
		"GPU-hours tile equals gpuagg gpu_hours",
		await kpi("kpi-gpu-hours"), String(agg.gpu_hours));
	check(await kpi("kpi-alloc-share", "data-alloc-hours") ===
		String(agg.alloc_gpu_hours),
		"allocated GPU-hours equal gpuagg alloc_gpu_hours",
		await kpi("kpi-alloc-share", "data-alloc-hours"),
		String(agg.alloc_gpu_hours));
	const share = agg.alloc_gpu_seconds * 100 / agg.gpu_seconds;
	check(Math.abs(Number(await kpi("kpi-alloc-share")) - share) < 1e-6,
		"allocated share", await kpi("kpi-alloc-share"), share);
	for (const [id, want] of [["kpi-avg-util", agg.avg_util_pct],
		["kpi-alloc-util", agg.alloc_util_pct]]) {
		const got = Number(await kpi(id));
		const shown = parseFloat(await kpiText(id));
		check(Math.abs(got - want) < 1e-3 &&
			Math.abs(shown - want) <= 0.05 + 1e-9,
			id + " equals gpuagg", [got, shown], want);
	}
	check(await kpi("kpi-idle") === String(agg.idle_gpu_hours),
		"idle GPU-hours equal gpuagg idle_gpu_hours",
		await kpi("kpi-idle"), String(agg.idle_gpu_hours));
	// Idle time priced per model at the default 2.50, as the page says.
	const idleCents = byModel.reduce((s, m) => s + roundDiv(
		Math.round(m.idle_gpu_hours * 3600) * 250, 3600), 0);
	check(Number(await kpi("kpi-idle", "data-cents")) === idleCents,
		"idle cost", await kpi("kpi-idle", "data-cents"), idleCents);
	check(await kpi("kpi-cost") === total.total,
		"cost tile equals gpubill total", await kpi("kpi-cost"),
		total.total);
	check(await kpi("kpi-rejects") === String(summary.rejected ??
		summary.rows_rejected), "rejects tile equals gpuingest's count",
		await kpi("kpi-rejects"), summary.rejected);
	const series = async () => tab.$$eval("#chart-series path",
		(ps) => ps.map((p) => p.getAttribute("d")).join("|"));
	// The heat map is a canvas: the cells it drew, in data-cells, and
	// what it shows (per node and hour, or the selection's per day).
	const heatCells = async () => Number(await tab.getAttribute(
		"#chart-heat canvas", "data-cells"));
	const heatView = async () => tab.getAttribute("#chart-heat canvas",
		"data-view");
	// The share of the plot's pixels that are painted (not the white of
	// the card): the cells are drawn, not only counted.
	// (Read from a copy: reading the page's canvas itself again and
	// again makes Chromium warn on the console.)
	const heatPainted = async () => tab.$eval("#chart-heat canvas", (c) => {
		const r = c.width / 960;
		const h = Math.round((c.height / r - 68) * r);
		const copy = document.createElement("canvas");
		copy.width = c.width;
		copy.height = c.height;
		const g = copy.getContext("2d", { willReadFrequently: true });
		g.drawImage(c, 0, 0);
		const px = g.getImageData(Math.round(110 * r), Math.round(8 * r),
			Math.round(834 * r), h).data;
		let n = 0;
		for (let i = 0; i < px.length; i += 4)
			if (px[i + 3] === 255 && (px[i] < 250 || px[i + 1] < 250 ||
				px[i + 2] < 250))
				n++;
		return n / (px.length / 4);
	});
	const allSeries = await series();
	const aggNode = aggJson("--period", "all", "--by", "node");
	check(await heatView() === "hour" && await heatCells() ===
		aggNode.length * 48, "heat map draws a cell per node and hour",
		[await heatView(), await heatCells()], aggNode.length * 48);
	check(await heatPainted() > 0.95, "heat map cells are painted",
		await heatPainted(), "> 0.95");
	const heatBox = await tab.$eval("#chart-heat canvas", (c) => {
		c.scrollIntoView();
		const b = c.getBoundingClientRect();
		return [b.left, b.top, b.width / 960];
	});
	await tab.mouse.move(heatBox[0] + (110 + 417) * heatBox[2],
		heatBox[1] + (8 + 7) * heatBox[2]);
	const heatTip = await tab.textContent("#tip");
	check(await tab.isVisible("#tip") && /^node\S*\n2026-11-0[12] /.test(
		heatTip) && heatTip.includes("Utilization"),
		"heat map tooltip names the node, hour and utilization",
		heatTip, "node, hour, utilization");
	const jobsWithTime = aggJson("--period", "all", "--by", "job").filter(
		(r) => r.job_id !== null && r.alloc_gpu_seconds > 0).length;
	check(Number(await tab.getAttribute("#chart-scatter canvas",
		"data-points")) === Math.min(3000, jobsWithTime),
		"scatter draws a point per job with allocated time",
		await tab.getAttribute("#chart-scatter canvas", "data-points"),
		jobsWithTime);
	const seriesBox = await tab.$eval("#chart-series rect.hover",
		(r) => {
			r.scrollIntoView();
			const b = r.getBoundingClientRect();
			return [b.left + b.width / 2, b.top + b.height / 2];
		});
	await tab.mouse.move(seriesBox[0], seriesBox[1]);
	const seriesTip = await tab.textContent("#tip");
	check(/^2026-11-0[12] \d\d:00 UTC\nUtilization /.test(seriesTip),
		"series tooltip names the hour", seriesTip, "an hour");
	await tab.mouse.move(0, 0);
	const pageText = fs.readFileSync(page, "utf8");
	check(!pageText.includes("follows the date and node filters only"),
		"no note that the user filter is ignored", "", "");
	// The selection's tiles, series and heat map against gpuagg.
	const ownerChecks = async (what, row, dayRows) => {
		check(row !== undefined && row.alloc_gpu_hours > 0, what +
			" has allocated time in gpuagg", row, "a row");
		const gh = String(row.alloc_gpu_hours);
		check(await kpi("kpi-gpu-hours") === gh &&
			await kpiText("kpi-gpu-hours") ===
			fmtNum(row.alloc_gpu_hours, 1), "GPU-hours tile of " + what +
			" equals gpuagg alloc_gpu_hours", [await kpi("kpi-gpu-hours"),
			await kpiText("kpi-gpu-hours")], gh);
		check(await kpi("kpi-idle") === String(row.idle_gpu_hours),
			"idle tile of " + what + " equals gpuagg idle_gpu_hours",
			await kpi("kpi-idle"), String(row.idle_gpu_hours));
		const util = Number(await kpi("kpi-avg-util"));
		check(Math.abs(util - row.alloc_util_pct) < 1e-3,
			"utilization tile of " + what + " equals gpuagg",
			util, row.alloc_util_pct);
		const sel = await series();
		check(sel !== allSeries && sel.includes("M"), "series of " + what +
			" differs from the cluster's", sel.slice(0, 60), "other");
		const cells = dayRows.filter((r) => r.alloc_gpu_seconds > 0)
			.length;
		check(await heatCells() === cells && await heatView() ===
			"owner-day", "heat map of " + what + " has one cell per " +
			"node-day with allocated time", await heatCells(), cells);
		check(await heatPainted() > 0, "heat map of " + what +
			" is painted", await heatPainted(), "> 0");
	};
	const bars = async (id) => tab.$$eval("#" + id + " rect.bar",
		(rs) => rs.map((r) => [r.dataset.key, Number(r.dataset.cents)]));
	const allUsers = await bars("chart-user");
	check(allUsers.reduce((s, b) => s + b[1], 0) === cents(total.total),
		"user bars add up to the total", allUsers, total.total);
	await tab.screenshot({ path: path.join(outDir, "report.png"),
		fullPage: true });

	// The user filter: the costliest user that is not alone.
	userLines.sort((a, b) => cents(b.total) - cents(a.total));
	const u = userLines[0];
	check(userLines.length > 1, "several users billed", userLines.length,
		"> 1");
	const before = await tab.getAttribute("body", "data-rendered");
	await tab.selectOption("#f-user", { label: u.user === "" ?
		"(no user)" : u.user });
	await tab.waitForFunction((b) => document.body.dataset.rendered !== b,
		before);
	check(await kpi("kpi-cost") === u.total,
		"cost tile equals gpubill --by user for " + u.user,
		await kpi("kpi-cost"), u.total);
	check(await kpi("kpi-alloc-share", "data-alloc-hours") ===
		u.alloc_gpu_hours, "allocated GPU-hours of the user",
		await kpi("kpi-alloc-share", "data-alloc-hours"),
		u.alloc_gpu_hours);
	const oneUser = await bars("chart-user");
	check(oneUser.length === 1 && oneUser[0][0] === u.user &&
		oneUser[0][1] === cents(u.total), "cost chart shows the user",
		oneUser, [u.user, cents(u.total)]);
	const wantProj = new Map();
	for (const j of jobs)
		if (j.user === u.user && j.job_id !== "TOTAL")
			wantProj.set(j.project, (wantProj.get(j.project) || 0) +
				cents(j.total));
	const gotProj = new Map(await bars("chart-project"));
	check(gotProj.size === wantProj.size && [...wantProj].every(([p, c]) =>
		gotProj.get(p) === c), "project bars equal the user's job lines",
		[...gotProj], [...wantProj]);
	const rows = await tab.$$eval("#table-jobs tbody tr", (rs) =>
		rs.map((r) => r.children[1].textContent));
	check(rows.length > 0 && rows.every((n) => n === u.user),
		"top jobs table shows only the user's jobs", rows, u.user);
	await ownerChecks("user " + u.user, aggUser.find((r) =>
		r.user === u.user), dayNodeUser.filter((r) => r.user === u.user));
	const nodeRows = await tab.$$eval("#table-nodes tbody tr", (rs) =>
		rs.map((r) => [r.children[0].textContent,
			r.children[1].textContent]));
	check(nodeRows.length > 0 && nodeRows.every(([n, h]) => {
		const r = aggNodeUser.find((a) => a.node === n &&
			a.user === u.user);
		return r !== undefined && h === fmtNum(r.alloc_gpu_hours, 1);
	}), "node table equals gpuagg --by node,user", nodeRows, u.user);
	await tab.screenshot({ path: path.join(outDir, "report-user.png"),
		fullPage: true });

	// The project filter: the project with the most allocated time.
	await tab.click("#f-reset");
	const pr = aggProject.filter((r) => r.project !== "")
		.sort((a, b) => b.alloc_gpu_seconds - a.alloc_gpu_seconds)[0];
	const beforeP = await tab.getAttribute("body", "data-rendered");
	await tab.selectOption("#f-project", { label: pr.project });
	await tab.waitForFunction((b) => document.body.dataset.rendered !== b,
		beforeP);
	await ownerChecks("project " + pr.project, pr, dayNodeProject.filter(
		(r) => r.project === pr.project));
	await tab.screenshot({ path: path.join(outDir, "report-project.png"),
		fullPage: true });

	// Days split the billed cents without losing one.
	await tab.click("#f-reset");
	let sum = 0;
	for (const d of ["0", "1"]) {
		await tab.selectOption("#f-to", d);
		await tab.selectOption("#f-from", d);
		sum += cents(await kpi("kpi-cost"));
	}
	check(sum === cents(total.total), "days add up to the total", sum,
		total.total);

	// A tooltip appears over a bar.
	await tab.click("#f-reset");
	await tab.hover("#chart-project rect.bar");
	const tip = await tab.textContent("#tip");
	check(await tab.isVisible("#tip") && tip.includes("$"),
		"tooltip shows the amount", tip, "visible with an amount");

	// gpureport --job: the job's page equals gpuagg and gpubill.
	await tab.goto(jobUrl, { waitUntil: "load" });
	for (const [id, want] of [["alloc-gpu-hours", jobAgg.alloc_gpu_hours],
		["busy-gpu-hours", jobAgg.busy_gpu_hours],
		["alloc-util", jobAgg.alloc_util_pct],
		["idle-gpu-hours", jobAgg.idle_gpu_hours],
		["energy-kwh", jobAgg.energy_kwh]])
		check(Number(await kpi(id)) === want, "job page " + id +
			" equals gpuagg", await kpi(id), want);
	const jobLine = jobs.find((r) => r.job_id === jobAgg.job_id);
	check(await kpi("cost") === jobLine.total,
		"job page cost equals gpubill's line", await kpi("cost"),
		jobLine.total);
	const lines = await tab.$$eval("#chart-util polyline", (ps) =>
		ps.map((p) => p.getAttribute("points").split(" ").length));
	check(lines.length === Number(await kpi("gpus")) && lines.every((n) =>
		n >= 1), "job chart has one line per GPU", lines,
		await kpi("gpus"));
	check(await tab.$$eval("#findings li", (ls) => ls.length) > 0,
		"job page has findings", "", "");
	await tab.screenshot({ path: path.join(outDir, "report-job.png"),
		fullPage: true });

	// --refresh: the page reloads itself and keeps its filters, which
	// live in the URL fragment.
	run("gpureport", [...range, "--refresh", "1", "-o", page]);
	await tab.goto(url, { waitUntil: "load" });
	await tab.waitForSelector("body[data-rendered]");
	await tab.selectOption("#f-node", "1");
	await tab.selectOption("#f-from", "1");
	const hash = await tab.evaluate(() => location.hash);
	check(/^#from=2026-11-02&node=./.test(hash), "filters in the fragment",
		hash, "#from=2026-11-02&node=...");
	await tab.evaluate(() => { window.beforeReload = true; });
	await tab.waitForFunction(() => window.beforeReload === undefined &&
		document.body.dataset.rendered !== undefined,
		null, { timeout: 10000 });
	check(await tab.evaluate(() => location.hash) === hash &&
		await tab.inputValue("#f-node") === "1" &&
		await tab.inputValue("#f-from") === "1",
		"filters kept across the reload",
		[await tab.evaluate(() => location.hash),
			await tab.inputValue("#f-node")], [hash, "1"]);
} finally {
	await ctx.close();
	fs.rmSync(profile, { recursive: true, force: true });
}

check(errors.length === 0, "no console errors", errors, []);
check(requests.length >= 1 && requests.every((r) => r === url ||
	r === jobUrl),
	"no request but the page itself (and its reloads)", requests, [url]);
const size = fs.statSync(page).size;
console.log("page size " + size + " bytes; screenshots in " + outDir);
fs.rmSync(tmp, { recursive: true, force: true });
if (failures > 0) {
	console.log(failures + " check(s) failed");
	process.exit(1);
}
console.log("all checks passed");
