/**
 * Metadata versions grow across manager restarts too (they start from the clock), so a
 * watcher that saw version N before a restart never mistakes older news for newer.
 */
export class MetadataVersion {
  private value = Date.now() * 1000;

  get current(): number {
    return this.value;
  }

  next(): number {
    this.value += 1;
    return this.value;
  }
}
