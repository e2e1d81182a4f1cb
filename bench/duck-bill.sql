-- DuckDB's side of the bill of bench/compare.sh: gpubill --by job --period
-- all over the CSV (@CSV@), with the default rate card of docs/FORMAT.md 5:
-- 2.50 per GPU-hour (rounded to the cent once per job and model), 0.10 per
-- GiB-hour of memory over 16 GiB on allocated samples, 5% overhead on the
-- two, halves rounded up, in integer cents; every sample 300 s. The owner
-- of a job is its latest sample's user and project (the greater name on a
-- tie). Columns: period, job_id, user, project, alloc_gpu_seconds,
-- alloc_gpu_hours, mem_overage_mib_seconds, mem_overage_gib_hours, and the
-- GPU, memory and overhead charges in cents.
CREATE TEMP TABLE s AS
 SELECT CAST(job_id AS VARCHAR) AS job, CAST("user" AS VARCHAR) AS u,
  CAST(project AS VARCHAR) AS p, coalesce(CAST(model AS VARCHAR), '') AS m,
  timestamp AS ts, CAST(300 AS BIGINT) AS d,
  CAST(greatest(mem_used_mib - 16384, 0) AS BIGINT) * 300 AS o
 FROM read_csv('@CSV@') WHERE coalesce(CAST(job_id AS VARCHAR), '') <> '';
SELECT 'all', l.job, coalesce(w.u, ''), coalesce(w.p, ''), l.s, l.s / 3600.0,
  l.o, l.o / (1024 * 3600.0), l.gpu, l.mem,
  (2 * (l.gpu + l.mem) * 50000 + 1000000) // 2000000
 FROM (SELECT job, sum(s) AS s, sum(o) AS o,
        sum((2 * s * 2500000 * 100 + 3600000000) // 7200000000) AS gpu,
        (2 * sum(o) * 100000 * 100 + 1024 * 3600000000)
         // (2 * 1024 * 3600000000) AS mem
       FROM (SELECT job, m, sum(d) AS s, sum(o) AS o FROM s GROUP BY job, m)
       GROUP BY job) l
 LEFT JOIN (SELECT job,
             arg_max(u, (ts, u)) FILTER (WHERE coalesce(u, '') <> '') AS u,
             arg_max(p, (ts, p)) FILTER (WHERE coalesce(p, '') <> '') AS p
            FROM s GROUP BY job) w ON w.job = l.job
 ORDER BY l.job;
