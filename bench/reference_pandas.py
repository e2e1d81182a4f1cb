#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The reference implementation in Python, for bench/ and tests/e2e/.

The design the C tools replace: pandas reads the whole sample CSV into
memory, groups it and sums. It computes the metrics of docs/FORMAT.md 3.4
(`agg`) and the bill by job of section 4 (`bill`), the money in exact
integers (Python ints, one rounding per charge, halves away from zero).
It is a speed peer of gpuagg and gpubill and a check of their cents:
`bill` prints what `gpubill --by job` prints for the same samples (a
warehouse loaded without job records or allocations, so that a sample's
job and owner are its own).

usage: reference_pandas.py agg  [--interval S] --period hour|day|month
                                --by node|user|job FILE
       reference_pandas.py bill [--interval S] [--period all | --month
                                YYYY-MM] FILE

Timestamps: epoch milliseconds or ISO 8601 with Z (what gpugen writes).
Rates: the defaults of 4.1, or GPU_HOURLY_RATE, MEMORY_OVERAGE_RATE,
MEMORY_OVERAGE_THRESHOLD_GB, CLUSTER_OVERHEAD_RATE.
"""
import argparse
import os
import sys
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

TEXT = ["node", "job_id", "user", "project", "model"]
NUMERIC_OPTIONAL = ["mem_total_mib", "power_w", "temp_c", "interval_s"]


def micro(name, default):
    """A rate of 4.1 as an integer number of millionths (exact)."""
    v = os.environ.get(name) or default
    d = Decimal(v)
    if d < 0 or d.as_tuple().exponent < -6:
        sys.exit(f"reference_pandas: invalid rate '{v}' for {name}")
    return int(d * 1000000)


def round_div(num, den):
    """round(num / den), halves away from zero, in integers."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def threshold_mib():
    gb = Decimal(os.environ.get("MEMORY_OVERAGE_THRESHOLD_GB") or "16")
    return int((gb * 1024).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fmt_float(x):
    """A float as 3.5 prints it: %.6f without trailing zeros, never -0."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    s = "%.6f" % x
    s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def read(path, interval):
    # Text columns stay text: an empty job, owner or model is "".
    head = pd.read_csv(path, nrows=0).columns
    dtype = {c: "category" for c in TEXT if c in head}
    dtype["job_id"] = "category"
    na = {c: [""] for c in head if c not in TEXT}
    df = pd.read_csv(path, dtype=dtype, keep_default_na=False,
                     na_values=na, engine="c")
    ts = df["timestamp"]
    if pd.api.types.is_integer_dtype(ts):
        df["ts"] = pd.to_datetime(ts, unit="ms", utc=True)
    else:
        try:
            df["ts"] = pd.to_datetime(ts, format="%Y-%m-%dT%H:%M:%SZ",
                                      utc=True)
        except ValueError:
            df["ts"] = pd.to_datetime(ts, utc=True)
    if "interval_s" in df.columns:
        df["d"] = df["interval_s"].fillna(interval).astype("int64")
    else:
        df["d"] = np.int64(interval)
    for c in TEXT:
        if c not in df.columns:
            df[c] = pd.Categorical([""] * len(df))
    df["alloc"] = df["job_id"].astype(str) != ""
    return df


def overage(df, t):
    """Σ d × max(0, mem_used_mib − T) over allocated samples (int64)."""
    over = (df["mem_used_mib"].astype("int64") - t).clip(lower=0)
    return (df["d"] * over).where(df["alloc"], 0)


def agg(df, period, by):
    t = threshold_mib()
    fmt = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m"}[period]
    floor = {"hour": "h", "day": "D"}.get(period)
    if floor is not None:
        df["bucket"] = df["ts"].dt.floor(floor)
    else:
        df["bucket"] = df["ts"].dt.tz_localize(None).dt.to_period("M")
    d = df["d"]
    u = df["util_pct"]
    idle = u < 5
    w = pd.DataFrame({
        "bucket": df["bucket"],
        "samples": 1,
        "gpu_seconds": d,
        "alloc_gpu_seconds": d.where(df["alloc"], 0),
        "du": d * u,
        "alloc_du": (d * u).where(df["alloc"], 0.0),
        "idle_s": d.where(idle, 0),
        "alloc_idle_s": d.where(idle & df["alloc"], 0),
        "dmem": d * df["mem_used_mib"],
        "max_mem_used_mib": df["mem_used_mib"],
        "dmemutil": (d * 100.0 * df["mem_used_mib"] / df["mem_total_mib"]),
        "dmemsz": d.where(df["mem_total_mib"].notna(), 0),
        "dpow": (d * df["power_w"]),
        "dpowsz": d.where(df["power_w"].notna(), 0),
        "mem_overage_mib_seconds": overage(df, t),
    })
    keys = ["bucket"]
    if by == "node":
        keys.append("node")
        w["node"] = df["node"]
    elif by == "user":
        keys.append("user")
        w["user"] = df["user"]
    else:
        keys.append("job_id")
        w["job_id"] = df["job_id"]
    g = w.groupby(keys, observed=True, sort=True)
    s = g.agg({c: "sum" for c in w.columns
               if c not in keys and c != "max_mem_used_mib"})
    s["max_mem_used_mib"] = g["max_mem_used_mib"].max()
    s = s[s["samples"] > 0]
    if by == "job":
        # The job's owner in the bucket: that of its latest sample.
        last = df.assign(bucket=df["bucket"]).sort_values("ts")
        last = last.groupby(["bucket", "job_id"], observed=True)[
            ["user", "project"]].last()
        s = s.join(last)
    # Order of 3.5: bucket, then keys in byte order (empty first).
    s = s.reset_index()
    s[keys[1]] = s[keys[1]].astype(str)
    s = s.sort_values(keys, kind="stable")
    out = sys.stdout
    cols = [period, *(k for k in keys[1:]),
            *(["user", "project"] if by == "job" else []),
            "samples", "gpu_seconds", "alloc_gpu_seconds", "gpu_hours",
            "alloc_gpu_hours", "busy_gpu_hours", "avg_util_pct",
            "alloc_util_pct", "idle_gpu_hours", "alloc_idle_gpu_hours",
            "avg_mem_used_mib", "max_mem_used_mib", "avg_mem_util_pct",
            "avg_power_w", "energy_kwh", "mem_overage_mib_seconds"]
    out.write(",".join(cols) + "\n")
    for _, r in s.iterrows():
        key = [r[k] for k in keys]
        b = key[0].strftime(fmt)
        gs = int(r["gpu_seconds"])
        al = int(r["alloc_gpu_seconds"])
        row = [b, *(str(k) for k in key[1:])]
        if by == "job":
            row += [str(r["user"]), str(r["project"])]
        row += [str(int(r["samples"])), str(gs), str(al),
                fmt_float(gs / 3600), fmt_float(al / 3600),
                fmt_float(r["du"] / 100 / 3600), fmt_float(r["du"] / gs),
                fmt_float(r["alloc_du"] / al if al else None),
                fmt_float(r["idle_s"] / 3600),
                fmt_float(r["alloc_idle_s"] / 3600),
                fmt_float(r["dmem"] / gs), str(int(r["max_mem_used_mib"])),
                fmt_float(r["dmemutil"] / r["dmemsz"]
                          if r["dmemsz"] else None),
                fmt_float(r["dpow"] / r["dpowsz"] if r["dpowsz"] else None),
                fmt_float(r["dpow"] / 3600000),
                str(int(r["mem_overage_mib_seconds"]))]
        out.write(",".join(row) + "\n")


def cents(c):
    """Cents as 4.8 prints amounts: exactly two decimals."""
    sign = "-" if c < 0 else ""
    return "%s%d.%02d" % (sign, abs(c) // 100, abs(c) % 100)


def bill(df, label, lo, hi):
    gpu_rate = micro("GPU_HOURLY_RATE", "2.50")
    mem_rate = micro("MEMORY_OVERAGE_RATE", "0.10")
    oh_rate = micro("CLUSTER_OVERHEAD_RATE", "0.05")
    t = threshold_mib()
    if lo is not None:
        df = df[(df["ts"] >= lo) & (df["ts"] < hi)]
    df = df[df["alloc"]].copy()
    df["over"] = overage(df, t)
    # The owner of a job line: that of the job's latest sample in the
    # period that has one; on equal instants the greater name (4.4, 3.3).
    owner = {}
    for col in ("user", "project"):
        o = df[df[col].astype(str) != ""][["job_id", "ts", col]].copy()
        o[col] = o[col].astype(str)
        o = o.sort_values(["job_id", "ts", col]).groupby(
            "job_id", observed=True)[col].last()
        owner[col] = o.to_dict()
    by_model = df.groupby(["job_id", "model"], observed=True).agg(
        s=("d", "sum"), o=("over", "sum"))
    lines = {}
    for (job, _model), r in by_model.iterrows():
        s = int(r["s"])
        o = int(r["o"])
        ln = lines.setdefault(str(job), [0, 0, 0])
        # gpu_charge: one rounding per model, in cents.
        ln[0] += s
        ln[1] += o
        ln[2] += round_div(s * gpu_rate * 100, 3600 * 1000000)
    out = sys.stdout
    out.write("period,job_id,user,project,alloc_gpu_seconds,alloc_gpu_hours,"
              "mem_overage_mib_seconds,mem_overage_gib_hours,gpu_charge,"
              "mem_charge,overhead,total,currency\n")
    tot = [0, 0, 0, 0, 0, 0]
    for job in sorted(lines, key=lambda j: j.encode()):
        s, o, gpu = lines[job]
        mem = round_div(o * mem_rate * 100, 1024 * 3600 * 1000000)
        oh = round_div((gpu + mem) * oh_rate, 1000000)
        total = gpu + mem + oh
        for i, v in enumerate((s, o, gpu, mem, oh, total)):
            tot[i] += v
        out.write(",".join([
            label, job, owner["user"].get(job, ""),
            owner["project"].get(job, ""), str(s), fmt_float(s / 3600),
            str(o), fmt_float(o / (1024 * 3600)), cents(gpu), cents(mem),
            cents(oh), cents(total), "USD"]) + "\n")
    s, o, gpu, mem, oh, total = tot
    out.write(",".join([
        label, "TOTAL", "", "", str(s), fmt_float(s / 3600), str(o),
        fmt_float(o / (1024 * 3600)), cents(gpu), cents(mem), cents(oh),
        cents(total), "USD"]) + "\n")


def main():
    ap = argparse.ArgumentParser(prog="reference_pandas.py")
    ap.add_argument("command", choices=["agg", "bill"])
    ap.add_argument("file")
    ap.add_argument("--interval", type=int, default=60)
    ap.add_argument("--period", default=None)
    ap.add_argument("--by", default="job", choices=["node", "user", "job"])
    ap.add_argument("--month", default=None)
    a = ap.parse_args()
    df = read(a.file, a.interval)
    if a.command == "agg":
        if a.period not in ("hour", "day", "month"):
            ap.error("agg needs --period hour, day or month")
        agg(df, a.period, a.by)
    elif a.month is not None:
        lo = pd.Timestamp(a.month + "-01", tz="UTC")
        hi = lo + pd.offsets.MonthBegin(1)
        bill(df, a.month, lo, hi)
    else:
        if a.period not in (None, "all"):
            ap.error("bill takes --period all or --month YYYY-MM")
        bill(df, "all", None, None)


if __name__ == "__main__":
    main()
