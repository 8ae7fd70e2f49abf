/**
 * Keeps the blob folder and the blob rows in step: deletes abandoned uploads and orphans (never
 * attached to a message within ORPHAN_TTL_MS), unlinks files whose row is gone (their message was
 * deleted: the row went with it), and clears temp files (all of them at start: an upload cut by a
 * crash restarts at 0; later only those of uploads that no longer exist).
 */
import type { BlobStore } from '../../store/blob-types.ts';
import { isBlobId, type BlobFiles } from './files.ts';

/** An upload not finished, or a blob not sent in a message, this long after creation is an orphan (24 h). */
export const ORPHAN_TTL_MS = 24 * 60 * 60 * 1000;
/** Periodic sweep interval (5 min): a message's files are unlinked right after its delete anyway. */
export const SWEEP_INTERVAL_MS = 5 * 60 * 1000;

export interface SweepReport {
  /** Rows deleted (abandoned uploads and orphans). */
  rows: number;
  /** Final files unlinked (rows deleted here, or earlier with their messages). */
  files: number;
  /** Temp files unlinked. */
  temps: number;
}

export class BlobSweeper {
  private running: Promise<SweepReport> | null = null;
  private queued: Promise<SweepReport> | null = null;

  constructor(
    private readonly blobs: BlobStore,
    private readonly files: BlobFiles,
    /** Uploads being written right now: never touched. */
    private readonly active: ReadonlySet<string>,
    private readonly now: () => number,
  ) {}

  /**
   * Sweeps now. A call during a sweep runs one more sweep right after it (so a delete that landed
   * mid-sweep is seen) and resolves with that one. `allTemps` clears every idle temp file.
   */
  run(opts: { allTemps?: boolean; now?: number } = {}): Promise<SweepReport> {
    if (this.running) {
      this.queued ??= this.running
        .catch(() => {})
        .then(() => {
          this.queued = null;
          return this.run(opts);
        });
      return this.queued;
    }
    const run = this.sweep(opts).finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Resolves when no sweep is running (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running)!.catch(() => {});
  }

  private async sweep(opts: { allTemps?: boolean; now?: number }): Promise<SweepReport> {
    const now = opts.now ?? this.now();
    const cutoff = now - ORPHAN_TTL_MS;
    const deleted = (await this.blobs.sweep({ uploadingBefore: cutoff, unattachedBefore: cutoff })).filter((id) => !this.active.has(id));
    for (const id of deleted) await this.files.remove(id);

    const names = await this.files.listStored();
    const stored = await this.blobs.storedAmong(names);
    let files = 0;
    for (const id of names) {
      if (stored.has(id) || this.active.has(id)) continue;
      await this.files.remove(id);
      files++;
    }

    const temps = await this.files.listTemp();
    const uploading = opts.allTemps ? new Set<string>() : await this.blobs.uploadingAmong(temps.filter(isBlobId));
    let tempCount = 0;
    for (const name of temps) {
      if (this.active.has(name) || uploading.has(name)) continue;
      await this.files.removeTempName(name);
      tempCount++;
    }
    if (files + tempCount + deleted.length > 0) await this.files.syncDirs();
    return { rows: deleted.length, files, temps: tempCount };
  }
}
