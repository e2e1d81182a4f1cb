// SPDX-License-Identifier: MIT
// gpureport's page script: reads the embedded aggregates, applies the
// filters and draws every tile, chart and table: charts of a few hundred
// marks as SVG, the dense ones (the node heat map, the job scatter) on a
// canvas with tooltips from the pointer's position. No library, no
// network. Money is summed from integer cents that gpureport computed
// with the billing code, so filtered totals reconcile to the cent.
// gpureport writes it without indentation and comment lines: no string
// may span lines (no template literals).
"use strict";

const D = JSON.parse(document.getElementById("gpu-data").textContent);
const HOUR = 3600000;
const DAY = 86400000;
const SVGNS = "http://www.w3.org/2000/svg";
// Okabe-Ito colours, distinguishable with colour-vision deficiencies.
const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
	"#d55e00", "#f0e442", "#000000"];
const OTHER_COLOUR = "#a3aab5";
// Fields of one job cell: job (the step from the cell before), day, node,
// a, ab, ov, cents, idle.
const JC = 8;

// ---- formatting (fixed, locale-independent) ----

function group3(intText) {
	return intText.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function fmtNum(v, decimals) {
	if (!Number.isFinite(v))
		return "–";
	const s = Math.abs(v).toFixed(decimals);
	const dot = s.indexOf(".");
	const whole = dot < 0 ? s : s.slice(0, dot);
	const frac = dot < 0 ? "" : s.slice(dot);
	const neg = v < 0 && Number(s) !== 0;
	return (neg ? "-" : "") + group3(whole) + frac;
}

// At most 6 decimals, trailing zeros trimmed: how gpuagg prints floats.
function fmt6(v) {
	if (!Number.isFinite(v))
		return "";
	let s = v.toFixed(6);
	if (s.indexOf(".") >= 0)
		s = s.replace(/0+$/, "").replace(/\.$/, "");
	return s === "-0" ? "0" : s;
}

// Integer cents as "1234.56", as gpubill prints amounts.
function centsText(c) {
	const neg = c < 0;
	const a = Math.abs(c);
	const cc = String(a % 100).padStart(2, "0");
	return (neg ? "-" : "") + String(Math.floor(a / 100)) + "." + cc;
}

function fmtMoney(c) {
	const t = centsText(c);
	const dot = t.indexOf(".");
	const sym = D.currency === "USD" ? "$" : D.currency + " ";
	const neg = t[0] === "-";
	const whole = t.slice(neg ? 1 : 0, dot);
	return (neg ? "-" : "") + sym + group3(whole) + t.slice(dot);
}

function isoDay(ms) {
	return new Date(ms).toISOString().slice(0, 10);
}

function isoHour(ms) {
	return new Date(ms).toISOString().slice(0, 13).replace("T", " ") + ":00";
}

function nameOf(s, what) {
	return s === "" ? "(no " + what + ")" : s;
}

// ---- DOM and SVG helpers ----

function el(tag, attrs, text) {
	const e = document.createElement(tag);
	for (const k in attrs || {})
		e.setAttribute(k, attrs[k]);
	if (text !== undefined)
		e.textContent = text;
	return e;
}

function sv(parent, tag, attrs, text) {
	const e = document.createElementNS(SVGNS, tag);
	for (const k in attrs)
		e.setAttribute(k, attrs[k]);
	if (text !== undefined)
		e.textContent = text;
	if (parent)
		parent.appendChild(e);
	return e;
}

function newSvg(box, w, h, label) {
	box.replaceChildren();
	const s = sv(null, "svg", { viewBox: "0 0 " + w + " " + h,
		role: "img", "aria-label": label });
	box.appendChild(s);
	return s;
}

function emptyChart(box, text) {
	box.replaceChildren(el("div", { class: "empty" }, text));
}

// A canvas for a dense chart, drawn in units of a w x h box (scaled to the
// screen's pixels), labelled for assistive technology. Returns its 2D
// context; the canvas is ctx.canvas.
function newCanvas(box, w, h, label) {
	const r = window.devicePixelRatio || 1;
	const pw = Math.round(w * r), ph = Math.round(h * r);
	// A canvas already there is cleared and kept: making a new one (and
	// its context) each time costs more than drawing on it.
	let c = box.firstElementChild;
	if (c === null || c.tagName !== "CANVAS" || box.childElementCount > 1) {
		c = el("canvas", { role: "img" });
		box.replaceChildren(c);
	}
	c.setAttribute("aria-label", label);
	c.textContent = label;
	// Resizing a canvas costs a new bitmap, more than the drawing: its
	// bitmap only grows, and the style shows its top h units (CSS
	// object-fit crops the rest).
	if (c.width !== pw || c.height < ph) {
		c.width = pw;
		c.height = ph;
	}
	c.style.aspectRatio = w + " / " + h;
	const g = c.getContext("2d");
	g.setTransform(r, 0, 0, r, 0, 0);
	// All of the bitmap: a taller view's rows must not show at the edge.
	g.clearRect(0, 0, w, c.height / r);
	g.font = "11px system-ui, sans-serif";
	g.textBaseline = "alphabetic";
	g.globalAlpha = 1;
	return g;
}

// Text on a canvas, as the SVG charts write it.
function ctext(g, x, y, text, align, colour) {
	g.fillStyle = colour || "#1d2330";
	g.textAlign = align || "start";
	g.fillText(text, x, y);
}

// A tooltip over an element from the pointer's position: fn(fx, fy) gets
// the fractions (0..1) of the element's width and height and returns the
// text, or null for none.
function tipFrom(e, fn) {
	e.tipAt = fn;
	e.classList.add("tipped");
}

// Round numbers for an axis from 0 (or lo) to hi: about n ticks.
function ticks(lo, hi, n) {
	if (!(hi > lo))
		hi = lo + 1;
	const raw = (hi - lo) / n;
	const p = Math.pow(10, Math.floor(Math.log10(raw)));
	const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw);
	// The last tick is at or above hi, so the data fits under the axis.
	const out = [];
	const last = Math.ceil(hi / step - 1e-9);
	for (let i = Math.ceil(lo / step); i <= last; i++)
		out.push(i * step);
	return out;
}

function linear(d0, d1, r0, r1) {
	const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
	return (v) => r0 + (v - d0) * k;
}

function yAxis(s, scale, values, x, x2, fmt, anchorEnd) {
	const g = sv(s, "g", { class: "axis" });
	for (const v of values) {
		const y = scale(v);
		sv(g, "line", { x1: x, x2: x2, y1: y, y2: y, class: "gridline",
			stroke: "#e8ebf0" });
		sv(g, "text", { x: anchorEnd ? x - 6 : x2 + 6, y: y + 4,
			"text-anchor": anchorEnd ? "end" : "start" }, fmt(v));
	}
}

function axisTitle(s, x, y, text, rotate) {
	const t = sv(s, "text", { x: x, y: y, class: "title",
		"text-anchor": "middle" }, text);
	if (rotate)
		t.setAttribute("transform", "rotate(-90 " + x + " " + y + ")");
}

function legend(box, items) {
	const div = el("div", { class: "legend" });
	for (const it of items) {
		const sp = el("span", {}, it.name);
		sp.style.setProperty("--c", it.colour);
		div.appendChild(sp);
	}
	box.appendChild(div);
}

// ---- the data, indexed once ----

const NH = D.nhours;
const ND = D.ndays;
const NNODES = D.nodes.length;
const NJOBS = D.jobs.length;

// Node x hour cells as [GPU-seconds, allocated GPU-seconds, busy
// percent-seconds] per hour: the page data holds GPU-seconds as runs
// (ng: count, value, ...) and allocated and busy GPU-seconds (nh).
function expandHours() {
	return D.nodes.map((_, n) => {
		const out = new Float64Array(NH * 3);
		const runs = D.ng[n], ab = D.nh[n];
		let h = 0;
		for (let k = 0; k < runs.length; k += 2)
			for (let i = 0; i < runs[k]; i++, h++)
				out[h * 3] = runs[k + 1];
		for (h = 0; h < NH; h++) {
			out[h * 3 + 1] = ab[h * 2];
			out[h * 3 + 2] = ab[h * 2 + 1] * 100;
		}
		return out;
	});
}
const NHC = expandHours();

function dayOfHour(h) {
	return Math.floor((D.hour0 + h * HOUR - D.day0) / DAY);
}

// ---- filters ----

const F = { from: 0, to: ND - 1, node: -1, user: -1, project: -1 };

function fillSelect(sel, names, what, sorted) {
	const idx = names.map((_, i) => i);
	if (sorted)
		idx.sort((a, b) => names[a] < names[b] ? -1 :
			names[a] > names[b] ? 1 : 0);
	for (const i of idx)
		sel.appendChild(el("option", { value: String(i) },
			nameOf(names[i], what)));
}

function setupFilters() {
	const from = document.getElementById("f-from");
	const to = document.getElementById("f-to");
	for (let d = 0; d < ND; d++) {
		const t = isoDay(D.day0 + d * DAY);
		from.appendChild(el("option", { value: String(d) }, t));
		to.appendChild(el("option", { value: String(d) }, t));
	}
	to.value = String(ND - 1);
	fillSelect(document.getElementById("f-node"), D.nodes, "node", false);
	fillSelect(document.getElementById("f-user"), D.users, "user", false);
	fillSelect(document.getElementById("f-project"), D.projects,
		"project", false);
	const read = () => {
		F.from = Number(from.value);
		F.to = Number(to.value);
		if (F.to < F.from) {
			F.to = F.from;
			to.value = from.value;
		}
		for (const k of ["node", "user", "project"]) {
			const v = document.getElementById("f-" + k).value;
			F[k] = v === "" ? -1 : Number(v);
		}
		render();
	};
	for (const id of ["f-from", "f-to", "f-node", "f-user", "f-project"])
		document.getElementById(id).addEventListener("change", () => {
			read();
			saveFilters();
		});
	document.getElementById("f-reset").addEventListener("click", () => {
		from.value = "0";
		to.value = String(ND - 1);
		for (const k of ["node", "user", "project"])
			document.getElementById("f-" + k).value = "";
		read();
		saveFilters();
	});
	loadFilters(read);
}

// The filters in the URL fragment, by name, so that they survive a reload
// (gpureport --refresh) and a page written again with more days or names:
// "#from=2026-11-02&node=node001". A "to" on the last day is left out, so
// that the range grows with the data.
function saveFilters() {
	const p = [];
	if (F.from > 0)
		p.push("from=" + isoDay(D.day0 + F.from * DAY));
	if (F.to < ND - 1)
		p.push("to=" + isoDay(D.day0 + F.to * DAY));
	for (const [k, names] of [["node", D.nodes], ["user", D.users],
		["project", D.projects]])
		if (F[k] >= 0)
			p.push(k + "=" + encodeURIComponent(names[F[k]]));
	history.replaceState(null, "", p.length ? "#" + p.join("&") :
		location.pathname + location.search);
}

function loadFilters(read) {
	const h = location.hash.replace(/^#/, "");
	if (h === "")
		return;
	for (const kv of h.split("&")) {
		const i = kv.indexOf("=");
		if (i < 0)
			continue;
		const k = kv.slice(0, i);
		let v;
		try {
			v = decodeURIComponent(kv.slice(i + 1));
		} catch (e) {
			continue;
		}
		if (k === "from" || k === "to") {
			for (let d = 0; d < ND; d++)
				if (isoDay(D.day0 + d * DAY) === v)
					document.getElementById("f-" + k).value =
						String(d);
		} else if (k === "node" || k === "user" || k === "project") {
			const names = { node: D.nodes, user: D.users,
				project: D.projects }[k];
			const idx = names.indexOf(v);
			if (idx >= 0)
				document.getElementById("f-" + k).value =
					String(idx);
		}
	}
	read();
}

// gpureport --refresh: reload after the seconds of the meta tag; a reload
// keeps the fragment, and with it the filters. Without scripts, the meta
// refresh inside <noscript> reloads instead.
function setupRefresh() {
	const m = document.querySelector('meta[name="gpu-refresh"]');
	const s = m ? Number(m.content) : 0;
	if (s > 0)
		setTimeout(() => location.reload(), s * 1000);
}

function dayOk(d) {
	return d >= F.from && d <= F.to;
}

function nodeOk(n) {
	return F.node < 0 || n === F.node;
}

// A user or project filter: the time views show the selection's share.
function ownerOn() {
	return F.user >= 0 || F.project >= 0;
}

// The hourly owner series of the filter (D.uh or D.ph), or null when the
// page holds none for it: a node filter, or a user and a project at once.
function ownerHours() {
	if (F.node >= 0 || (F.user >= 0) === (F.project >= 0))
		return null;
	return F.user >= 0 ? D.uh[F.user] : D.ph[F.project];
}

// ---- computing the filtered view ----

// The job x day x node cells, converted once (natively) to one typed
// array, with the job indices summed from their steps, so that a filter
// change is one pass over it and a few over the sums by job, user and
// project. Fields: see JC.
const CELLS = (() => {
	const c = Float64Array.from(D.jc);
	for (let k = 0, j = 0; k < c.length; k += JC) {
		j += c[k];
		c[k] = j;
	}
	return c;
})();
const NCELLS = CELLS.length / JC;
const JOB_USER = Int32Array.from(D.jobs, (job) => job[1]);
const JOB_PROJECT = Int32Array.from(D.jobs, (job) => job[2]);
const NUSERS = D.users.length;
const NPROJECTS = D.projects.length;

// The cells of each user, project and node as offsets into CELLS (sorted
// by key, counting sort), so that a filter on one passes over its own
// cells only.
function cellIndex(nkeys, keyOf) {
	const start = new Int32Array(nkeys + 1);
	const at = new Int32Array(NCELLS);
	for (let i = 0; i < NCELLS; i++)
		start[keyOf(i * JC) + 1]++;
	for (let k = 0; k < nkeys; k++)
		start[k + 1] += start[k];
	const next = start.slice(0, nkeys);
	for (let i = 0; i < NCELLS; i++)
		at[next[keyOf(i * JC)]++] = i * JC;
	return { start: start, at: at };
}
const BY_USER = cellIndex(NUSERS, (k) => JOB_USER[CELLS[k]]);
const BY_PROJECT = cellIndex(NPROJECTS, (k) => JOB_PROJECT[CELLS[k]]);
const BY_NODE = cellIndex(NNODES, (k) => CELLS[k + 2]);

// The offsets of the cells the filters may keep: those of the filter
// with the fewest, or null for every cell.
function candidates() {
	let best = null, n = NCELLS;
	for (const [ix, key] of [[BY_USER, F.user], [BY_PROJECT, F.project],
		[BY_NODE, F.node]]) {
		if (key < 0 || ix.start[key + 1] - ix.start[key] >= n)
			continue;
		n = ix.start[key + 1] - ix.start[key];
		best = ix.at.subarray(ix.start[key], ix.start[key + 1]);
	}
	return best;
}

// The cluster's hours (GPU-seconds, allocated, busy percent-seconds),
// summed over the nodes once; a node filter reads the node's own.
const HOURS_ALL = (() => {
	const t = new Float64Array(NH * 3);
	for (const row of NHC)
		for (let i = 0; i < NH * 3; i++)
			t[i] += row[i];
	return t;
})();

function hoursOf() {
	return F.node >= 0 ? NHC[F.node] : HOURS_ALL;
}

// The sums of compute(), allocated once and zeroed for each filter
// change: allocating them anew (a few hundred kilobytes) left garbage for
// the collector on every change. A view is drawn before the next is
// computed, so one set serves.
const SUMS = {
	jobA: new Float64Array(NJOBS), jobAB: new Float64Array(NJOBS),
	jobOv: new Float64Array(NJOBS), jobC: new Float64Array(NJOBS),
	jobSeen: new Uint8Array(NJOBS),
	userA: new Float64Array(NUSERS), userC: new Float64Array(NUSERS),
	userSeen: new Uint8Array(NUSERS),
	projA: new Float64Array(NPROJECTS), projC: new Float64Array(NPROJECTS),
	projSeen: new Uint8Array(NPROJECTS),
	dayC: new Float64Array(ND * NPROJECTS),
	daySeen: new Uint8Array(ND * NPROJECTS),
	dayA: new Float64Array(ND * 2),
	nodeS: new Float64Array(NNODES * 3),
	nodeDay: new Float64Array(NNODES * ND * 2),
};

function compute() {
	const v = { g: 0, b: 0, idle: 0, idleCents: 0, a: 0, ab: 0, cents: 0 };
	for (const k in SUMS)
		SUMS[k].fill(0);
	// Cluster sums per node from the node x day cells.
	v.node = [];
	for (let n = 0; n < NNODES; n++) {
		// sa, sab, si: the selection's allocated, busy and idle time.
		const s = { n: n, g: 0, a: 0, b: 0, i: 0, sa: 0, sab: 0, si: 0,
			day: null };
		if (nodeOk(n)) {
			const row = D.nd[n];
			for (let d = F.from; d <= F.to; d++) {
				s.g += row[d * 5];
				s.a += row[d * 5 + 1];
				s.b += row[d * 5 + 2];
				s.i += row[d * 5 + 3];
				v.idleCents += row[d * 5 + 4];
			}
		}
		v.g += s.g;
		v.b += s.b;
		v.idle += s.i;
		v.node.push(s);
	}
	// The series per hour.
	const hs = hoursOf();
	v.hours = [];
	for (let h = 0; h < NH; h++)
		if (dayOk(dayOfHour(h)))
			v.hours.push({ h: h, w: 1, g: hs[h * 3], a: hs[h * 3 + 1],
				b: hs[h * 3 + 2] });
	// Jobs, users, projects, nodes and days from the job x day x node
	// cells: sums in arrays by index, "seen" marking the keys with a cell
	// in the selection (shown even when their cents are 0).
	const { jobA, jobAB, jobOv, jobC, jobSeen, userA, userC, userSeen,
		projA, projC, projSeen, dayC, daySeen, dayA, nodeS, nodeDay } =
		SUMS;
	const C = CELLS;
	const from = F.from, to = F.to, fn = F.node, fu = F.user;
	const fp = F.project;
	const only = candidates();
	const nk = only === null ? NCELLS : only.length;
	let sa = 0, sab = 0, sc = 0, si = 0;
	for (let i = 0; i < nk; i++) {
		const k = only === null ? i * JC : only[i];
		const j = C[k], d = C[k + 1], n = C[k + 2];
		const u = JOB_USER[j], p = JOB_PROJECT[j];
		if (d < from || d > to || (fn >= 0 && n !== fn) ||
			(fu >= 0 && u !== fu) || (fp >= 0 && p !== fp))
			continue;
		const a = C[k + 3], ab = C[k + 4], c = C[k + 6];
		const idle = C[k + 7];
		sa += a;
		sab += ab;
		sc += c;
		si += idle;
		nodeS[n * 3] += a;
		nodeS[n * 3 + 1] += ab;
		nodeS[n * 3 + 2] += idle;
		nodeDay[(n * ND + d) * 2] += a;
		nodeDay[(n * ND + d) * 2 + 1] += ab;
		dayA[d * 2] += a;
		dayA[d * 2 + 1] += ab;
		jobA[j] += a;
		jobAB[j] += ab;
		jobOv[j] += C[k + 5];
		jobC[j] += c;
		jobSeen[j] = 1;
		userA[u] += a;
		userC[u] += c;
		userSeen[u] = 1;
		projA[p] += a;
		projC[p] += c;
		projSeen[p] = 1;
		dayC[d * NPROJECTS + p] += c;
		daySeen[d * NPROJECTS + p] = 1;
	}
	v.a = sa;
	v.ab = sab;
	v.cents = sc;
	v.ai = si;
	v.dayA = dayA;
	for (const s of v.node) {
		s.sa = nodeS[s.n * 3];
		s.sab = nodeS[s.n * 3 + 1];
		s.si = nodeS[s.n * 3 + 2];
		s.day = nodeDay.subarray(s.n * ND * 2, (s.n + 1) * ND * 2);
	}
	let njobs = 0;
	for (let j = 0; j < NJOBS; j++)
		njobs += jobSeen[j];
	v.job = { a: jobA, ab: jobAB, ov: jobOv, c: jobC, seen: jobSeen,
		size: njobs };
	const totals = (seen, a, c) => {
		const m = new Map();
		for (let i = 0; i < seen.length; i++)
			if (seen[i])
				m.set(i, { key: i, a: a[i], c: c[i] });
		return m;
	};
	v.user = totals(userSeen, userA, userC);
	v.project = totals(projSeen, projA, projC);
	v.day = new Map();
	for (let d = F.from; d <= F.to; d++)
		for (let p = 0; p < NPROJECTS; p++) {
			if (!daySeen[d * NPROJECTS + p])
				continue;
			if (!v.day.has(d))
				v.day.set(d, new Map());
			v.day.get(d).set(p, dayC[d * NPROJECTS + p]);
		}
	if (ownerOn())
		v.series = ownerSeries(v);
	return v;
}

// The selection's series: allocated and busy GPU-seconds (a, b: busy
// percent-seconds) per hour from D.uh or D.ph, else per day from the job
// cells; g is the GPU time reporting in the point's hours (w of them).
function ownerSeries(v) {
	const rows = ownerHours();
	const out = [];
	const hs = hoursOf();
	const gOf = (h0, h1) => {
		let g = 0;
		for (let h = h0; h < h1; h++)
			g += hs[h * 3];
		return g;
	};
	if (rows) {
		const at = new Map();
		for (let k = 0; k < rows.length; k += 3)
			at.set(rows[k], k);
		for (const p of v.hours) {
			const k = at.get(p.h);
			out.push({ h: p.h, w: 1, g: p.g, a: k === undefined ? 0 :
				rows[k + 1], b: k === undefined ? 0 :
				rows[k + 2] });
		}
		return { hourly: true, points: out };
	}
	for (let d = F.from; d <= F.to; d++) {
		const t0 = Math.max(D.hour0, D.day0 + d * DAY);
		const h0 = Math.round((t0 - D.hour0) / HOUR);
		const h1 = Math.min(NH, Math.round((D.day0 + (d + 1) * DAY -
			D.hour0) / HOUR));
		if (h1 <= h0)
			continue;
		out.push({ h: h0, w: h1 - h0, g: gOf(h0, h1), a: v.dayA[d * 2],
			b: v.dayA[d * 2 + 1] });
	}
	return { hourly: false, points: out };
}

// ---- tiles ----

function tile(box, id, label, text, value, extra) {
	const t = el("div", { class: "kpi", id: id, "data-value": value });
	t.appendChild(el("div", { class: "label" }, label));
	t.appendChild(el("div", { class: "value" }, text));
	if (extra)
		t.appendChild(el("div", { class: "extra" }, extra));
	box.appendChild(t);
	return t;
}

function pct(num, den) {
	return den > 0 ? num / den : NaN;
}

function drawKpis(v) {
	const box = document.getElementById("kpis");
	box.replaceChildren();
	const gh = v.g / 3600;
	const ah = v.a / 3600;
	const share = pct(v.a * 100, v.g);
	const util = pct(v.b, v.g);
	const autil = pct(v.ab, v.a);
	const ih = v.idle / 3600;
	if (ownerOn()) {
		drawOwnerKpis(v, box);
		return;
	}
	tile(box, "kpi-gpu-hours", "GPU-hours (cluster)", fmtNum(gh, 1),
		fmt6(gh), "GPU time reported by the selected nodes");
	tile(box, "kpi-alloc-share", "Allocated share",
		fmtNum(share, 1) + " %", fmt6(share),
		fmtNum(ah, 1) + " allocated GPU-hours").dataset.allocHours =
		fmt6(ah);
	tile(box, "kpi-avg-util", "Average utilization (cluster)",
		fmtNum(util, 1) + " %", fmt6(util), "over all GPU time");
	tile(box, "kpi-alloc-util", "Allocated utilization",
		fmtNum(autil, 1) + " %", fmt6(autil), "over allocated GPU time");
	tile(box, "kpi-cost", "Cost", fmtMoney(v.cents), centsText(v.cents),
		v.job.size + " jobs").dataset.cents = String(v.cents);
	tile(box, "kpi-idle", "Idle GPU-hours (cluster)", fmtNum(ih, 1),
		fmt6(ih), "worth " + fmtMoney(v.idleCents) + " at the GPU rate")
		.dataset.cents = String(v.idleCents);
	tile(box, "kpi-rejects", "Rejected input rows", fmtNum(D.rejects, 0),
		String(D.rejects), "in ingest runs of the period");
}

// Under a user or project filter: the selection's allocated time.
function drawOwnerKpis(v, box) {
	const ah = v.a / 3600;
	const share = pct(v.a * 100, v.g);
	const autil = pct(v.ab, v.a);
	const ih = v.ai / 3600;
	tile(box, "kpi-gpu-hours", "GPU-hours (selection)", fmtNum(ah, 1),
		fmt6(ah), "GPU time allocated to the selection");
	tile(box, "kpi-alloc-share", "Allocated share",
		fmtNum(share, 1) + " %", fmt6(share), "of the cluster's " +
		fmtNum(v.g / 3600, 1) + " GPU-hours").dataset.allocHours =
		fmt6(ah);
	tile(box, "kpi-avg-util", "Average utilization (selection)",
		fmtNum(autil, 1) + " %", fmt6(autil), "over its allocated time");
	tile(box, "kpi-alloc-util", "Allocated utilization",
		fmtNum(autil, 1) + " %", fmt6(autil), "over allocated GPU time");
	tile(box, "kpi-cost", "Cost", fmtMoney(v.cents), centsText(v.cents),
		v.job.size + " jobs").dataset.cents = String(v.cents);
	tile(box, "kpi-idle", "Idle GPU-hours (selection)", fmtNum(ih, 1),
		fmt6(ih), "inside its allocations (utilization < 5 %)");
	tile(box, "kpi-rejects", "Rejected input rows", fmtNum(D.rejects, 0),
		String(D.rejects), "in ingest runs of the period");
}

function setNote(id, text) {
	document.getElementById(id).textContent = text;
}

// ---- the hourly series ----

function drawSeries(v) {
	const box = document.getElementById("chart-series");
	const own = v.series || null;
	const pts = own ? own.points : v.hours;
	setNote("note-series", !own ? "All GPU time of the selected days " +
		"and nodes." : own.hourly ? "The selection's allocated GPUs " +
		"and their utilization; grey: all GPUs reporting." : "Per day " +
		"(average GPUs): the page holds hourly figures per user and " +
		"per project, not per node or per user and project at once.");
	if (pts.length === 0)
		return emptyChart(box, "No GPU time in the selection.");
	const W = 960, H = 300, L = 56, R = 64, T = 16, B = 44;
	const s = newSvg(box, W, H, own ? "Allocated GPUs of the selection " +
		"and their utilization" :
		"Hourly cluster utilization and allocated GPUs");
	const h0 = pts[0].h, h1 = pts[pts.length - 1].h +
		pts[pts.length - 1].w;
	const x = linear(h0, h1, L, W - R);
	const yu = linear(0, 100, H - B, T);
	let gmax = 1;
	for (const p of pts)
		gmax = Math.max(gmax, p.g / 3600 / p.w);
	const gt = ticks(0, gmax, 5);
	const yg = linear(0, gt[gt.length - 1], H - B, T);
	yAxis(s, yu, [0, 25, 50, 75, 100], L, W - R, (t) => t + "%", true);
	const ga = sv(s, "g", { class: "axis" });
	for (const t of gt)
		sv(ga, "text", { x: W - R + 6, y: yg(t) + 4 }, fmtNum(t, 0));
	// Day boundaries on the time axis.
	const span = h1 - h0;
	const every = Math.max(1, Math.ceil(span / 24 / 12));
	for (let h = h0; h <= h1; h++) {
		const ms = D.hour0 + h * HOUR;
		if (ms % DAY !== 0 || Math.round((ms - D.day0) / DAY) % every)
			continue;
		sv(ga, "line", { x1: x(h), x2: x(h), y1: T, y2: H - B + 5,
			stroke: "#e8ebf0" });
		sv(ga, "text", { x: x(h), y: H - B + 18, "text-anchor":
			"middle" }, isoDay(ms).slice(5));
	}
	axisTitle(s, (L + W - R) / 2, H - 6, "Time (UTC, day boundaries)");
	axisTitle(s, 14, (T + H - B) / 2, "Utilization (%)", true);
	axisTitle(s, W - 12, (T + H - B) / 2, "GPUs", true);
	const lines = [
		{ name: "GPUs reporting", colour: OTHER_COLOUR,
			y: (p) => yg(p.g / 3600 / p.w), has: (p) => p.g > 0 },
		{ name: own ? "Allocated GPUs (selection)" : "Allocated GPUs",
			colour: PALETTE[1], y: (p) => yg(p.a / 3600 / p.w),
			has: (p) => p.g > 0 },
		{ name: own ? "Utilization of its GPUs (%)" : "Utilization (%)",
			colour: PALETTE[0], y: (p) => yu(own ? p.b / p.a :
			p.b / p.g), has: (p) => own ? p.a > 0 : p.g > 0 },
	];
	for (const ln of lines) {
		// Hours without samples break the line instead of reading 0.
		let d = "", gap = true;
		for (const p of pts) {
			if (!ln.has(p)) {
				gap = true;
				continue;
			}
			d += (gap ? "M" : "L") + ((x(p.h) + x(p.h + p.w)) / 2)
				.toFixed(1) + "," + ln.y(p).toFixed(1);
			gap = false;
		}
		sv(s, "path", { d: d, fill: "none", stroke: ln.colour,
			"stroke-width": 2, "data-line": ln.name });
	}
	// One hover area: the point under the pointer by its time.
	const hover = sv(s, "rect", { x: L, y: T, width: W - L - R,
		height: H - B - T, fill: "transparent", class: "hover" });
	tipFrom(hover, (fx) => {
		const h = h0 + fx * (h1 - h0);
		let lo = 0, hi = pts.length - 1;
		while (lo < hi) {
			const mid = (lo + hi + 1) >> 1;
			if (pts[mid].h <= h)
				lo = mid;
			else
				hi = mid - 1;
		}
		const p = pts[lo];
		if (h < p.h || h >= p.h + p.w)
			return null;
		const ms = D.hour0 + p.h * HOUR;
		return (p.w > 1 ? isoDay(ms) : isoHour(ms)) +
			" UTC\nUtilization " + fmtNum(pct(p.b, own ? p.a : p.g),
			1) + " %\nAllocated GPUs " + fmtNum(p.a / 3600 / p.w, 1) +
			" of " + fmtNum(p.g / 3600 / p.w, 1);
	});
	legend(box, lines);
}

// ---- bars ----

function topItems(map, n) {
	const all = [...map.values()].sort((a, b) => b.c - a.c ||
		(a.key < b.key ? -1 : 1));
	if (all.length <= n)
		return all;
	const rest = { key: null, a: 0, c: 0, count: all.length - n + 1 };
	for (const it of all.slice(n - 1)) {
		rest.a += it.a;
		rest.c += it.c;
	}
	return all.slice(0, n - 1).concat([rest]);
}

function drawBars(id, map, names, what) {
	const box = document.getElementById(id);
	const items = topItems(map, 12);
	if (items.length === 0)
		return emptyChart(box, "No billed usage in the selection.");
	const W = 460, RH = 22, L = 120, R = 84, T = 8, B = 38;
	const H = T + B + RH * items.length;
	const s = newSvg(box, W, H, "Cost by " + what);
	const max = Math.max(1, ...items.map((i) => i.c));
	const xt = ticks(0, max / 100, 4);
	const x = linear(0, xt[xt.length - 1] * 100, L, W - R);
	const ax = sv(s, "g", { class: "axis" });
	for (const t of xt) {
		const xx = x(t * 100);
		sv(ax, "line", { x1: xx, x2: xx, y1: T, y2: H - B,
			stroke: "#e8ebf0" });
		sv(ax, "text", { x: xx, y: H - B + 14, "text-anchor":
			"middle" }, fmtNum(t, t < 10 && t % 1 ? 1 : 0));
	}
	axisTitle(s, (L + W - R) / 2, H - 6, "Cost (" + D.currency + ")");
	items.forEach((it, i) => {
		const y = T + i * RH;
		const label = it.key === null ? "other (" + it.count + ")" :
			nameOf(names[it.key], what);
		sv(s, "text", { x: L - 6, y: y + RH / 2 + 4,
			"text-anchor": "end" }, label.length > 18 ?
			label.slice(0, 17) + "…" : label);
		sv(s, "rect", { x: L, y: y + 3, height: RH - 6,
			width: Math.max(0, x(it.c) - L), fill: it.key === null ?
			OTHER_COLOUR : PALETTE[0], class: "bar",
			"data-key": it.key === null ? "" : names[it.key],
			"data-cents": String(it.c),
			"data-tip": label + "\n" + fmtMoney(it.c) + "\n" +
			fmtNum(it.a / 3600, 1) + " allocated GPU-hours" });
		sv(s, "text", { x: x(it.c) + 4, y: y + RH / 2 + 4 },
			fmtMoney(it.c));
	});
}

// ---- cost by day, stacked ----

function projectColours(v) {
	const ranked = [...v.project.values()].sort((a, b) => b.c - a.c ||
		(a.key < b.key ? -1 : 1)).map((t) => t.key);
	const colour = new Map();
	ranked.slice(0, PALETTE.length - 1).forEach((p, i) =>
		colour.set(p, PALETTE[i]));
	return { colour: colour, ranked: ranked };
}

function drawDays(v, pc) {
	const box = document.getElementById("chart-day");
	if (v.cents === 0 && v.day.size === 0)
		return emptyChart(box, "No billed usage in the selection.");
	const W = 960, H = 280, L = 64, R = 16, T = 12, B = 44;
	const s = newSvg(box, W, H, "Cost by day, stacked by project");
	const n = F.to - F.from + 1;
	let max = 1;
	for (const dm of v.day.values()) {
		let t = 0;
		for (const c of dm.values())
			t += c;
		max = Math.max(max, t);
	}
	const yt = ticks(0, max / 100, 5);
	const y = linear(0, yt[yt.length - 1] * 100, H - B, T);
	yAxis(s, (c) => y(c * 100), yt, L, W - R, (t) => fmtNum(t, 0), true);
	axisTitle(s, 14, (T + H - B) / 2, "Cost (" + D.currency + ")", true);
	axisTitle(s, (L + W - R) / 2, H - 6, "Day (UTC)");
	const bw = (W - L - R) / n;
	const every = Math.max(1, Math.ceil(n / 16));
	for (let i = 0; i < n; i++) {
		const d = F.from + i;
		const x0 = L + i * bw;
		if (i % every === 0)
			sv(s, "text", { x: x0 + bw / 2, y: H - B + 16,
				"text-anchor": "middle" },
				isoDay(D.day0 + d * DAY).slice(5));
		const dm = v.day.get(d);
		if (!dm)
			continue;
		let base = 0, other = 0;
		const parts = [];
		for (const p of pc.ranked) {
			const c = dm.get(p) || 0;
			if (c === 0)
				continue;
			if (pc.colour.has(p))
				parts.push([p, c]);
			else
				other += c;
		}
		if (other)
			parts.push([null, other]);
		for (const [p, c] of parts) {
			const name = p === null ? "other projects" :
				nameOf(D.projects[p], "project");
			sv(s, "rect", { x: x0 + bw * 0.1, width: bw * 0.8,
				y: y(base + c), height: y(base) - y(base + c),
				fill: p === null ? OTHER_COLOUR : pc.colour.get(p),
				"data-tip": isoDay(D.day0 + d * DAY) + "\n" + name +
				": " + fmtMoney(c) });
			base += c;
		}
	}
	const items = [];
	for (const [p, c] of pc.colour)
		items.push({ name: nameOf(D.projects[p], "project"), colour: c });
	if (pc.ranked.length > pc.colour.size)
		items.push({ name: "other projects", colour: OTHER_COLOUR });
	legend(box, items);
}

// ---- node heatmap ----

// A sequential colour scale (light yellow to dark blue), 0..1, as
// [r, g, b].
function heatRgb(t) {
	const stops = [[255, 255, 204], [161, 218, 180], [65, 182, 196],
		[44, 127, 184], [37, 52, 148]];
	const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
	const i = Math.min(stops.length - 2, Math.floor(x));
	const f = x - i;
	return stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f));
}

function heatColour(t) {
	return "rgb(" + heatRgb(t).join(",") + ")";
}

// The scale in 1001 steps (0.1 % of utilization), for painting pixels.
const HEAT_LUT = (() => {
	const lut = new Uint8Array(1001 * 3);
	for (let i = 0; i <= 1000; i++)
		lut.set(heatRgb(i / 1000), i * 3);
	return lut;
})();

// The heat map's cells as an image (one pixel each), kept between views.
const HEAT_IMAGE = document.createElement("canvas");

// A heat map of rows x cols cells on a canvas: cell(r, c) returns the
// utilization in percent, NaN for a grey cell (no samples) or undefined
// for none drawn; each cell is one pixel of an image stretched over the
// plot. The canvas carries the number of cells drawn in data-cells.
function heatCanvas(box, o) {
	const W = 960, L = 110, R = 16, T = 8, B = 60;
	const RH = o.labels.length > 60 ? 4 : 14;
	const rows = o.labels.length, cols = o.cols;
	const H = T + B + RH * rows;
	const g = newCanvas(box, W, H, o.label);
	const cv = g.canvas;
	const img = new ImageData(cols, rows);
	const px = img.data;
	let drawn = 0;
	for (let r = 0; r < rows; r++)
		for (let c = 0; c < cols; c++) {
			const u = o.cell(r, c);
			if (u === undefined)
				continue;
			const p = (r * cols + c) * 4;
			if (Number.isNaN(u)) {
				px[p] = px[p + 1] = px[p + 2] = 238;
			} else {
				const i = Math.round(Math.min(100, Math.max(0, u)) *
					10) * 3;
				px[p] = HEAT_LUT[i];
				px[p + 1] = HEAT_LUT[i + 1];
				px[p + 2] = HEAT_LUT[i + 2];
			}
			px[p + 3] = 255;
			drawn++;
		}
	const off = HEAT_IMAGE;
	if (off.width !== cols || off.height !== rows) {
		off.width = cols;
		off.height = rows;
	}
	off.getContext("2d").putImageData(img, 0, 0);
	if (o.frame) {
		g.strokeStyle = "#e8ebf0";
		g.strokeRect(L + 0.5, T + 0.5, W - L - R - 1, RH * rows - 1);
	}
	g.imageSmoothingEnabled = false;
	g.drawImage(off, L, T, W - L - R, RH * rows);
	o.labels.forEach((name, r) => {
		if (RH >= 12 || r % 10 === 0)
			ctext(g, L - 6, T + r * RH + Math.min(RH, 12) - 2, name,
				"end");
	});
	const cw = (W - L - R) / cols;
	for (const [c, text] of o.ticks)
		ctext(g, L + c * cw, H - B + 14, text);
	ctext(g, (L + W - R) / 2, H - B + 30, o.axis, "center", "#5b6475");
	// The colour key.
	const kx = W - R - 240, ky = H - 18;
	for (let i = 0; i < 20; i++) {
		g.fillStyle = heatColour(i / 19);
		g.fillRect(kx + i * 10, ky, 10, 8);
	}
	ctext(g, kx - 6, ky + 8, "Utilization 0%", "end");
	ctext(g, kx + 204, ky + 8, "100%");
	cv.dataset.cells = String(drawn);
	cv.dataset.view = o.view;
	tipFrom(cv, (fx, fy) => {
		const c = Math.floor((fx * W - L) / cw);
		const r = Math.floor((fy * H - T) / RH);
		if (c < 0 || c >= cols || r < 0 || r >= rows ||
			o.cell(r, c) === undefined)
			return null;
		return o.tip(r, c);
	});
}

function drawHeat(v) {
	if (ownerOn())
		return drawOwnerHeat(v);
	setNote("note-heat", "Utilization of all GPU time, per node and hour.");
	const box = document.getElementById("chart-heat");
	const nodes = v.node.filter((s) => nodeOk(s.n) && s.g > 0);
	if (nodes.length === 0 || v.hours.length === 0)
		return emptyChart(box, "No GPU time in the selection.");
	const cols = v.hours.length;
	const k = Math.ceil(cols / 240); // hours merged per column
	const ncol = Math.ceil(cols / k);
	// GPU time and busy time per cell, summed once.
	const gs = new Float64Array(nodes.length * ncol);
	const bs = new Float64Array(nodes.length * ncol);
	nodes.forEach((ns, r) => {
		const row = NHC[ns.n];
		for (let c = 0; c < ncol; c++) {
			const first = v.hours[c * k].h;
			const last = v.hours[Math.min(cols, (c + 1) * k) - 1].h;
			for (let h = first; h <= last; h++) {
				gs[r * ncol + c] += row[h * 3];
				bs[r * ncol + c] += row[h * 3 + 2];
			}
		}
	});
	const tickAt = [];
	const every = Math.max(1, Math.ceil(ncol * k / 24 / 12));
	for (let c = 0; c < ncol; c++) {
		const ms = D.hour0 + v.hours[c * k].h * HOUR;
		if (ms % DAY >= k * HOUR ||
			Math.round((ms - D.day0) / DAY) % every)
			continue;
		tickAt.push([c, isoDay(ms).slice(5)]);
	}
	const label = "Node utilization by hour: " + nodes.length + " nodes, " +
		cols + " hours" + (k > 1 ? " in columns of " + k + " hours" : "") +
		"; the least-utilized nodes are in the table below.";
	heatCanvas(box, { label: label, view: "hour", cols: ncol,
		labels: nodes.map((ns) => D.nodes[ns.n]), ticks: tickAt,
		axis: "Time (UTC)", frame: false,
		cell: (r, c) => {
			const g = gs[r * ncol + c];
			return g > 0 ? bs[r * ncol + c] / g : NaN;
		},
		tip: (r, c) => {
			const g = gs[r * ncol + c];
			const u = g > 0 ? bs[r * ncol + c] / g : NaN;
			return D.nodes[nodes[r].n] + "\n" + isoHour(D.hour0 +
				v.hours[c * k].h * HOUR) + (k > 1 ? " (" + k +
				" h)" : "") + "\n" + (g > 0 ? "Utilization " +
				fmtNum(u, 1) + " %" : "no samples");
		} });
}

// Under a user or project filter: the utilization of the selection's
// allocated time per node and day; blank where it had none.
function drawOwnerHeat(v) {
	setNote("note-heat", "Utilization of the selection's allocated GPU " +
		"time, per node and day (per hour would not fit in the page); " +
		"blank: none allocated to it.");
	const box = document.getElementById("chart-heat");
	const nodes = v.node.filter((s) => nodeOk(s.n) && s.sa > 0);
	if (nodes.length === 0)
		return emptyChart(box, "No allocated GPU time in the selection.");
	const ncol = F.to - F.from + 1;
	const tickAt = [];
	const every = Math.max(1, Math.ceil(ncol / 12));
	for (let c = 0; c < ncol; c += every)
		tickAt.push([c, isoDay(D.day0 + (F.from + c) * DAY).slice(5)]);
	const alloc = (r, c) => nodes[r].day[(F.from + c) * 2];
	heatCanvas(box, { label: "Node utilization of the selection by day: " +
		nodes.length + " nodes, " + ncol + " days.", view: "owner-day",
		cols: ncol, labels: nodes.map((ns) => D.nodes[ns.n]),
		ticks: tickAt, axis: "Day (UTC)", frame: true,
		cell: (r, c) => alloc(r, c) === 0 ? undefined :
			pct(nodes[r].day[(F.from + c) * 2 + 1], alloc(r, c)),
		tip: (r, c) => {
			const a = alloc(r, c);
			const u = pct(nodes[r].day[(F.from + c) * 2 + 1], a);
			return D.nodes[nodes[r].n] + "\n" + isoDay(D.day0 +
				(F.from + c) * DAY) + "\nUtilization " +
				fmtNum(u, 1) + " % of " + fmtNum(a / 3600, 1) +
				" allocated GPU-hours";
		} });
}

// ---- tables ----

function table(id, head, rows) {
	const t = document.getElementById(id);
	t.replaceChildren();
	const tr = el("tr");
	for (const [name, num] of head)
		tr.appendChild(el("th", num ? { class: "num" } : {}, name));
	t.appendChild(el("thead")).appendChild(tr);
	const body = t.appendChild(el("tbody"));
	for (const r of rows) {
		const row = el("tr");
		r.forEach((cell, i) => row.appendChild(el("td", head[i][1] ?
			{ class: "num" } : {}, cell)));
		body.appendChild(row);
	}
	if (rows.length === 0) {
		const row = el("tr");
		row.appendChild(el("td", { colspan: String(head.length) },
			"Nothing in the selection."));
		body.appendChild(row);
	}
}

function drawNodes(v) {
	if (ownerOn()) {
		const sel = v.node.filter((s) => nodeOk(s.n) && s.sa > 0)
			.sort((a, b) => a.sab / a.sa - b.sab / b.sa || a.n - b.n)
			.slice(0, 10).map((s) => [D.nodes[s.n],
				fmtNum(s.sa / 3600, 1), fmtNum(s.sab / s.sa, 1),
				fmtNum(s.si / 3600, 1), fmtNum(s.sa * 100 / s.g, 1)]);
		table("table-nodes", [["Node"], ["GPU-hours", 1],
			["Avg util (%)", 1], ["Idle GPU-hours", 1],
			["Share of node (%)", 1]], sel);
		setNote("note-nodes", "The selection's allocated time on each " +
			"node: its utilization, idle hours and share of the node.");
		return;
	}
	setNote("note-nodes", "");
	const rows = v.node.filter((s) => nodeOk(s.n) && s.g > 0)
		.sort((a, b) => a.b / a.g - b.b / b.g || a.n - b.n).slice(0, 10)
		.map((s) => [D.nodes[s.n], fmtNum(s.g / 3600, 1),
			fmtNum(s.b / s.g, 1), fmtNum(s.i / 3600, 1),
			fmtNum(s.a * 100 / s.g, 1)]);
	table("table-nodes", [["Node"], ["GPU-hours", 1], ["Avg util (%)", 1],
		["Idle GPU-hours", 1], ["Allocated (%)", 1]], rows);
}

// The job under index j of the selection's sums.
function jobRow(v, j) {
	return { j: j, a: v.job.a[j], ab: v.job.ab[j], ov: v.job.ov[j],
		c: v.job.c[j] };
}

// The first n jobs of the selection in the order of before(x, y) (job
// indices), kept sorted in one pass: cheaper than sorting every job of the
// period when n is small.
function topJobs(v, n, before) {
	const top = [];
	for (let j = 0; j < NJOBS; j++) {
		if (!v.job.seen[j])
			continue;
		if (top.length === n && !before(j, top[n - 1]))
			continue;
		let i = top.length < n ? top.length : n - 1;
		while (i > 0 && before(j, top[i - 1])) {
			top[i] = top[i - 1];
			i--;
		}
		top[i] = j;
	}
	return top.map((j) => jobRow(v, j));
}

function drawJobs(v) {
	const c = v.job.c;
	const rows = topJobs(v, 25, (x, y) => c[x] > c[y] ||
		(c[x] === c[y] && x < y)).map((s) => {
			const job = D.jobs[s.j];
			return [job[0], nameOf(D.users[job[1]], "user"),
				nameOf(D.projects[job[2]], "project"),
				fmtNum(s.a / 3600, 2), fmtNum(pct(s.ab, s.a), 1),
				fmtNum(s.ov / (1024 * 3600), 2), fmtMoney(s.c)];
		});
	table("table-jobs", [["Job"], ["User"], ["Project"],
		["GPU-hours", 1], ["Util (%)", 1], ["Mem over GiB-h", 1],
		["Cost", 1]], rows);
}

// The jobs by allocated time over the whole period, largest first (of
// equals, the lower index), sorted once when first needed.
let jobsByAlloc = null;

function wholeJobOrder() {
	if (jobsByAlloc !== null)
		return jobsByAlloc;
	const a = new Float64Array(NJOBS);
	for (let k = 0; k < CELLS.length; k += JC)
		a[CELLS[k]] += CELLS[k + 3];
	const idx = [];
	for (let j = 0; j < NJOBS; j++)
		if (a[j] > 0)
			idx.push(j);
	jobsByAlloc = idx.sort((x, y) => a[y] - a[x] || x - y);
	return jobsByAlloc;
}

// The selection's jobs with allocated time, largest first, at most n.
// Over every day and node a job is in the selection whole (a user or
// project filter keeps or drops all of its cells), so the order of the
// whole period holds and needs no sort.
function scatterJobs(v, n) {
	const ja = v.job.a;
	const idx = [];
	if (F.from === 0 && F.to === ND - 1 && F.node < 0) {
		for (const j of wholeJobOrder()) {
			if (idx.length === n)
				break;
			if (v.job.seen[j] && ja[j] > 0)
				idx.push(j);
		}
		return idx;
	}
	for (let j = 0; j < NJOBS; j++)
		if (v.job.seen[j] && ja[j] > 0)
			idx.push(j);
	// (An Array's sort: a typed array's with a comparator is far slower.)
	return idx.sort((x, y) => ja[y] - ja[x] || x - y).slice(0, n);
}

function drawScatter(v, pc) {
	const box = document.getElementById("chart-scatter");
	const jobs = scatterJobs(v, 3000).map((j) => jobRow(v, j));
	if (jobs.length === 0)
		return emptyChart(box, "No jobs in the selection.");
	const W = 460, H = 320, L = 52, R = 16, T = 12, B = 44;
	const g = newCanvas(box, W, H, "Jobs: GPU-hours against " +
		"utilization, " + jobs.length + " jobs; the costliest are in " +
		"the table of top jobs.");
	const maxh = jobs[0].a / 3600;
	const minh = jobs[jobs.length - 1].a / 3600;
	const e0 = Math.floor(Math.log10(minh)), e1 = Math.ceil(Math.log10(
		maxh)) + (maxh === minh ? 1 : 0);
	const x = linear(e0, Math.max(e1, e0 + 1), L, W - R);
	const y = linear(0, 100, H - B, T);
	g.strokeStyle = "#e8ebf0";
	g.lineWidth = 1;
	for (const t of [0, 25, 50, 75, 100]) {
		const yy = Math.round(y(t)) + 0.5;
		g.beginPath();
		g.moveTo(L, yy);
		g.lineTo(W - R, yy);
		g.stroke();
		ctext(g, L - 6, y(t) + 4, t + "%", "end");
	}
	for (let e = e0; e <= Math.max(e1, e0 + 1); e++) {
		const xx = Math.round(x(e)) + 0.5;
		g.beginPath();
		g.moveTo(xx, T);
		g.lineTo(xx, H - B);
		g.stroke();
		ctext(g, x(e), H - B + 14, fmtNum(Math.pow(10, e), e < 0 ? -e :
			0), "center");
	}
	ctext(g, (L + W - R) / 2, H - 6, "Allocated GPU-hours (log scale)",
		"center", "#5b6475");
	g.save();
	g.translate(14, (T + H - B) / 2);
	g.rotate(-Math.PI / 2);
	ctext(g, 0, 0, "Average utilization (%)", "center", "#5b6475");
	g.restore();
	const rad = jobs.length > 500 ? 2.5 : 3.5;
	const px = new Float64Array(jobs.length);
	const py = new Float64Array(jobs.length);
	// One path per colour: a fill per project colour, not per point.
	const byColour = new Map();
	jobs.forEach((j, i) => {
		px[i] = x(Math.log10(j.a / 3600));
		py[i] = y(pct(j.ab, j.a));
		const col = pc.colour.get(D.jobs[j.j][2]) || OTHER_COLOUR;
		if (!byColour.has(col))
			byColour.set(col, []);
		byColour.get(col).push(i);
	});
	g.globalAlpha = 0.7;
	for (const [col, pts] of byColour) {
		g.fillStyle = col;
		g.beginPath();
		for (const i of pts) {
			g.moveTo(px[i] + rad, py[i]);
			g.arc(px[i], py[i], rad, 0, 2 * Math.PI);
		}
		g.fill();
	}
	g.globalAlpha = 1;
	g.canvas.dataset.points = String(jobs.length);
	// The tooltip of the point nearest the pointer, within a few pixels
	// (of equals, the smaller job).
	tipFrom(g.canvas, (fx, fy) => {
		const mx = fx * W, my = fy * H;
		let best = -1, bd = (rad + 3) * (rad + 3);
		for (let i = 0; i < jobs.length; i++) {
			const dd = (px[i] - mx) ** 2 + (py[i] - my) ** 2;
			if (dd <= bd) {
				bd = dd;
				best = i;
			}
		}
		if (best < 0)
			return null;
		const j = jobs[best], job = D.jobs[j.j], h = j.a / 3600;
		return "job " + job[0] + "\n" + nameOf(D.users[job[1]], "user") +
			" / " + nameOf(D.projects[job[2]], "project") + "\n" +
			fmtNum(h, 2) + " GPU-hours at " + fmtNum(pct(j.ab, j.a), 1) +
			" %\n" + fmtMoney(j.c);
	});
}

// ---- tooltip ----

function setupTip() {
	const tip = document.getElementById("tip");
	document.addEventListener("mousemove", (e) => {
		const t = e.target.closest ? e.target.closest("[data-tip], " +
			".tipped") : null;
		let text = null;
		if (t && t.tipAt) {
			const r = t.getBoundingClientRect();
			if (r.width > 0 && r.height > 0)
				text = t.tipAt((e.clientX - r.left) / r.width,
					(e.clientY - r.top) / r.height);
		} else if (t) {
			text = t.getAttribute("data-tip");
		}
		if (text === null) {
			tip.hidden = true;
			return;
		}
		tip.textContent = text;
		tip.hidden = false;
		const x = Math.min(e.clientX + 14, window.innerWidth -
			tip.offsetWidth - 4);
		tip.style.left = x + "px";
		tip.style.top = (e.clientY + 14) + "px";
	});
}

// ---- everything ----

function render() {
	const v = compute();
	const pc = projectColours(v);
	drawKpis(v);
	drawSeries(v);
	drawBars("chart-user", v.user, D.users, "user");
	drawBars("chart-project", v.project, D.projects, "project");
	drawDays(v, pc);
	drawHeat(v);
	drawNodes(v);
	drawScatter(v, pc);
	drawJobs(v);
	const parts = [];
	if (F.from !== 0 || F.to !== ND - 1)
		parts.push("days " + isoDay(D.day0 + F.from * DAY) + " to " +
			isoDay(D.day0 + F.to * DAY));
	for (const [k, names] of [["node", D.nodes], ["user", D.users],
		["project", D.projects]])
		if (F[k] >= 0)
			parts.push(k + " " + nameOf(names[F[k]], k));
	document.getElementById("f-note").textContent = parts.length ?
		"Showing " + parts.join(", ") + "." : "";
	document.body.dataset.rendered = String(Number(
		document.body.dataset.rendered || 0) + 1);
}

function main() {
	document.getElementById("subtitle").textContent = "From " + D.from +
		" to " + D.to + " (UTC, end excluded) · " + NNODES + " nodes · " +
		NJOBS + " jobs · " + D.currency;
	const r = D.rates;
	document.getElementById("footer").textContent = "Generated by " +
		D.tool + ". Rates: " + r.gpu_hourly_rate + " per GPU-hour, " +
		r.memory_overage_rate + " per GiB-hour above " +
		r.memory_overage_threshold_gb + " GiB, overhead " +
		r.cluster_overhead_rate + " of the subtotal. Costs of a date, " +
		"node or job subset are the period's billed cents apportioned " +
		"to job, day and node (see gpureport(1)).";
	setupFilters();
	setupTip();
	render();
	setupRefresh();
}

main();
