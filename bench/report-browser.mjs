// SPDX-License-Identifier: MIT
// Drives headless Chromium over its DevTools protocol (no npm package: the
// WebSocket client of node 22, or of node 20/21 with
// --experimental-websocket) to time gpureport's page: from navigation start
// to the first frame after the page's script has drawn everything, and
// from a filter change to the first frame after it. Prints one JSON object
// of samples in milliseconds. bench/report-browser.sh runs it.
// usage: node report-browser.mjs PAGE.html [RUNS]   (CHROMIUM: the browser)
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const page = path.resolve(process.argv[2]);
const runs = Number(process.argv[3] || 5);
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
if (typeof WebSocket !== "function") {
	console.error("report-browser: node has no WebSocket; run node 22, " +
		"or node 20 with --experimental-websocket");
	process.exit(1);
}

// Waits for the page's first render (body[data-rendered], set once its
// script has drawn every chart), then for the next frame to be painted.
const PROBE = `window.__gpuReady = new Promise((resolve) => {
	const poll = () => {
		if (document.body && document.body.dataset.rendered)
			requestAnimationFrame(() => setTimeout(() =>
				resolve(performance.now()), 0));
		else
			setTimeout(poll, 2);
	};
	poll();
});`;

// The filter changes measured, from the unfiltered page: the middle entry
// of each list (the same on any version of the page), and one day.
const FILTERS = {
	user: `{ const s = document.getElementById("f-user");
		s.value = s.options[s.options.length >> 1].value;
		s.dispatchEvent(new Event("change")); }`,
	project: `{ const s = document.getElementById("f-project");
		s.value = s.options[s.options.length >> 1].value;
		s.dispatchEvent(new Event("change")); }`,
	node: `{ const s = document.getElementById("f-node");
		s.value = s.options[s.options.length >> 1].value;
		s.dispatchEvent(new Event("change")); }`,
	day: `{ const f = document.getElementById("f-from");
		const t = document.getElementById("f-to");
		const d = f.options[f.options.length >> 1].value;
		f.value = d;
		t.value = d;
		t.dispatchEvent(new Event("change")); }`,
};

// Script time of the change, and the time to the frame after it.
function measure(change) {
	return `(async () => {
		const frame = () => new Promise((r) =>
			requestAnimationFrame(() => setTimeout(r, 0)));
		document.getElementById("f-reset").click();
		await frame();
		await frame();
		const t0 = performance.now();
		${change}
		const t1 = performance.now();
		await frame();
		return [t1 - t0, performance.now() - t0];
	})()`;
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "report-bench-"));
const browser = spawn(chromium, ["--headless", "--no-sandbox",
	"--disable-gpu", "--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--disable-quic",
	"--window-size=1280,900", "--remote-debugging-port=0",
	"--user-data-dir=" + profile, "about:blank"],
	{ stdio: ["ignore", "ignore", "pipe"] });

async function cleanup() {
	const gone = new Promise((resolve) => browser.on("exit", resolve));
	browser.kill();
	await gone;
	fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
}

const endpoint = await new Promise((resolve, reject) => {
	let err = "";
	const timer = setTimeout(() => reject(new Error(
		"Chromium did not start: " + err)), 30000);
	browser.stderr.on("data", (d) => {
		err += d;
		const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
		if (m) {
			clearTimeout(timer);
			resolve(m[1]);
		}
	});
	browser.on("exit", (c) => reject(new Error("Chromium exited " + c +
		": " + err)));
});

const ws = new WebSocket(endpoint);
await new Promise((resolve, reject) => {
	ws.onopen = resolve;
	ws.onerror = () => reject(new Error("cannot connect to " + endpoint));
});
let nextId = 1;
const pending = new Map();
const waiters = [];
const errors = [];
ws.onmessage = (m) => {
	const msg = JSON.parse(m.data);
	if (msg.id !== undefined) {
		const p = pending.get(msg.id);
		pending.delete(msg.id);
		if (msg.error)
			p.reject(new Error(JSON.stringify(msg.error)));
		else
			p.resolve(msg.result);
		return;
	}
	if (msg.method === "Runtime.exceptionThrown")
		errors.push(msg.params.exceptionDetails.exception?.description ||
			msg.params.exceptionDetails.text);
	for (let i = waiters.length - 1; i >= 0; i--)
		if (waiters[i].method === msg.method &&
			waiters[i].session === msg.sessionId) {
			waiters[i].resolve(msg.params);
			waiters.splice(i, 1);
		}
};

function send(method, params = {}, sessionId) {
	const id = nextId++;
	ws.send(JSON.stringify({ id, method, params, sessionId }));
	return new Promise((resolve, reject) =>
		pending.set(id, { resolve, reject }));
}

function once(method, session) {
	return new Promise((resolve) =>
		waiters.push({ method, session, resolve }));
}

async function evaluate(session, expression) {
	const r = await send("Runtime.evaluate", { expression,
		awaitPromise: true, returnByValue: true }, session);
	if (r.exceptionDetails)
		throw new Error(r.exceptionDetails.exception?.description ||
			r.exceptionDetails.text);
	return r.result.value;
}

const out = { tti: [], load: [], filters: {} };
for (const k in FILTERS)
	out.filters[k] = { script: [], frame: [] };
try {
	for (let r = 0; r < runs; r++) {
		const { targetId } = await send("Target.createTarget",
			{ url: "about:blank" });
		const { sessionId: s } = await send("Target.attachToTarget",
			{ targetId, flatten: true });
		await send("Page.enable", {}, s);
		await send("Runtime.enable", {}, s);
		await send("Emulation.setDeviceMetricsOverride", { width: 1280,
			height: 900, deviceScaleFactor: 1, mobile: false }, s);
		await send("Page.addScriptToEvaluateOnNewDocument",
			{ source: PROBE }, s);
		const loaded = once("Page.loadEventFired", s);
		await send("Page.navigate", { url: "file://" + page }, s);
		await loaded;
		out.tti.push(await evaluate(s, "window.__gpuReady"));
		out.load.push(await evaluate(s, "performance.getEntriesByType(" +
			"'navigation')[0].loadEventEnd"));
		for (const k in FILTERS) {
			const [script, frame] = await evaluate(s,
				measure(FILTERS[k]));
			out.filters[k].script.push(script);
			out.filters[k].frame.push(frame);
		}
		await send("Target.closeTarget", { targetId });
	}
} finally {
	ws.close();
	await cleanup();
}
out.errors = errors;
console.log(JSON.stringify(out));
