import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@partq/runtime';
import { isOutOfSpace } from '@partq/wal';

/** How often a full disk is probed for room again. */
const DEFAULT_PROBE_INTERVAL_MS = 5_000;
/**
 * Bytes a probe writes. Room for one probe is room for a few group commits, not a guarantee: a
 * broker that fills up again is simply found full again.
 */
const DEFAULT_PROBE_BYTES = 1024 * 1024;
const PROBE_FILE = '.space-probe';

export interface StorageSpaceOptions {
  /** Where the probe file is written: the broker's data directory. */
  dir: string;
  logger: Pick<Logger, 'error' | 'info' | 'warn'>;
  probeIntervalMs?: number;
  probeBytes?: number;
  /** Told each time the disk is found full or found to have room again. */
  onChange?: (full: boolean) => void;
}

/**
 * Whether this broker's disk has room to write. A write that fails for want of space (ENOSPC, or
 * EDQUOT under a quota) marks it full: the broker says so in its heartbeats, and the manager moves
 * its partitions to brokers that can write (a drain), while this one still serves what it holds.
 * While full, a probe file is written, fsynced and removed every few seconds; the first probe that
 * succeeds marks the disk writable again (the manager puts the broker back in service once its
 * heartbeats have said so for a while).
 */
export class StorageSpace {
  private fullSince: number | undefined;
  private probe: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped = false;

  constructor(private readonly options: StorageSpaceOptions) {}

  get full(): boolean {
    return this.fullSince !== undefined;
  }

  /** Told of every write that failed; returns whether it failed for want of space. */
  noteWriteFailure(error: unknown): boolean {
    if (!isOutOfSpace(error)) return false;
    if (this.fullSince === undefined && !this.stopped) {
      this.fullSince = Date.now();
      this.options.logger.error(
        { dir: this.options.dir, err: error },
        'broker: the disk is full; its partitions move to other brokers, and appends here are refused until there is room',
      );
      this.options.onChange?.(true);
      this.scheduleProbe();
    }
    return true;
  }

  /** Stops probing (shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.probe) clearTimeout(this.probe);
    this.probe = undefined;
  }

  /** Probes now (tests; the timer does it otherwise). Resolves to whether the disk has room. */
  async probeNow(): Promise<boolean> {
    if (this.probing) return !this.full;
    this.probing = true;
    const path = join(this.options.dir, PROBE_FILE);
    try {
      const file = await open(path, 'w');
      try {
        await file.write(Buffer.alloc(this.options.probeBytes ?? DEFAULT_PROBE_BYTES));
        await file.datasync();
      } finally {
        await file.close();
      }
      if (this.fullSince !== undefined) {
        this.options.logger.info({ dir: this.options.dir, fullForMs: Date.now() - this.fullSince }, 'broker: the disk has room again');
        this.fullSince = undefined;
        this.options.onChange?.(false);
      }
      return true;
    } catch (error) {
      if (!isOutOfSpace(error)) this.options.logger.warn({ dir: this.options.dir, err: error }, 'broker: the disk space probe failed');
      return false;
    } finally {
      await unlink(path).catch(() => undefined);
      this.probing = false;
    }
  }

  private scheduleProbe(): void {
    if (this.stopped || this.probe) return;
    this.probe = setTimeout(() => {
      this.probe = undefined;
      void this.probeNow().then((room) => {
        if (!room) this.scheduleProbe();
      });
    }, this.options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS);
    this.probe.unref();
  }
}
