import type { MetadataView } from '@partq/cluster';

/** Resolves true as soon as the view changes, false after `timeoutMs` without a change. */
export function waitForViewChange(view: MetadataView, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onChange = (): void => finish(true);
    const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
    const finish = (changed: boolean): void => {
      clearTimeout(timer);
      view.off('change', onChange);
      resolve(changed);
    };
    view.on('change', onChange);
  });
}
