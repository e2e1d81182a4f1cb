/* SPDX-License-Identifier: MIT */
/*
 * A warehouse's files written to disk while a long run writes them, so
 * that its commit does not wait for all of its pages at once.
 */
#ifndef GPU_FLUSHER_H
#define GPU_FLUSHER_H

struct gpu_flusher;

/* The flusher's rhythm: a write-back every tick, a sync every few. */
#define GPU_FLUSH_TICK_MS 50
#define GPU_FLUSH_SYNC_TICKS 8

/*
 * Flush the files of the warehouse at path on a thread of its own: the
 * database file and its write-ahead log (path + "-wal", once there).
 * path is the file SQLite opened (sqlite3_db_filename()), links
 * resolved: a symbolic link is not followed, and the log lies beside
 * the file it points to.
 * Every GPU_FLUSH_TICK_MS it starts the write-back of their dirty pages
 * (sync_file_range()), and every GPU_FLUSH_SYNC_TICKS ticks it syncs
 * them (fdatasync()), which also settles the file system's journal.
 * Pages the kernel would write back anyway only reach the disk sooner:
 * SQLite's order of writes and syncs, and so what a crash leaves, is
 * unchanged.
 *
 * Returns NULL, and does nothing, where the platform lacks
 * sync_file_range(), path is not a regular file (":memory:", a missing
 * file), a thread cannot start, or the environment sets GPUUSAGE_FLUSH
 * to 0. Nothing it does can fail the run.
 */
struct gpu_flusher *gpu_flusher_start(const char *path);

/* What a flusher has done so far (gpu_flusher_stats()). */
struct gpu_flusher_stats {
	unsigned long writebacks, syncs; /* ticks of each kind */
	int files;			 /* open: 1, or 2 with the log */
};

/* Fill st with what f has done so far (all zero for NULL). */
void gpu_flusher_stats(struct gpu_flusher *f, struct gpu_flusher_stats *st);

/*
 * Stop the thread at once, close the files and free f (NULL: nothing).
 * Only after every connection of the process to the warehouse closed:
 * closing a descriptor of the database file drops the process's POSIX
 * locks on it, SQLite's own included.
 */
void gpu_flusher_end(struct gpu_flusher *f);

#endif
