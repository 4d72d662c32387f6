import { create } from '@bufbuild/protobuf';
import { MetadataView } from '@partq/cluster';
import { ConsumerSchema, MetadataSchema } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import { MetadataLookup } from './metadata-lookup.js';
import type { MetadataRefresher } from './metadata-refresher.js';

/** A refresher whose manager answers (upserting `consumers`) or is unreachable. */
function refresher(view: MetadataView, answers: boolean, consumers: number[] = []): MetadataRefresher {
  return {
    tryRefresh: async () => {
      if (answers) view.upsert({ consumers: consumers.map((id) => create(ConsumerSchema, { id, topicId: 1 })) });
      return answers;
    },
  } as unknown as MetadataRefresher;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof PartqError) return error.code;
    throw error;
  }
}

describe('MetadataLookup', () => {
  it('an unknown id before any metadata, with the manager unreachable, is UNAVAILABLE: it may exist', async () => {
    const view = new MetadataView();
    expect(await codeOf(new MetadataLookup(view, refresher(view, false)).consumer(3))).toBe('UNAVAILABLE');
    expect(await codeOf(new MetadataLookup(view, refresher(view, false)).topic('orders'))).toBe('UNAVAILABLE');
  });

  it('is NOT_FOUND once the manager answered without it', async () => {
    const empty = new MetadataView();
    expect(await codeOf(new MetadataLookup(empty, refresher(empty, true)).consumer(3))).toBe('NOT_FOUND');
    const synced = new MetadataView();
    synced.apply(create(MetadataSchema, {}), 1, true);
    expect(await codeOf(new MetadataLookup(synced, refresher(synced, true)).consumer(3))).toBe('NOT_FOUND');
  });

  it('a miss in a synced view while the manager is unreachable is UNAVAILABLE: it may have been registered since', async () => {
    // A consumer registered just before the manager stopped: the stream never brought it here.
    const synced = new MetadataView();
    synced.apply(create(MetadataSchema, {}), 1, true);
    const lookup = new MetadataLookup(synced, refresher(synced, false));
    expect(await codeOf(lookup.consumer(3))).toBe('UNAVAILABLE');
    expect(await codeOf(lookup.producer(3))).toBe('UNAVAILABLE');
    await expect(lookup.topic('orders')).rejects.toThrow("topic 'orders' is not known to this gateway, and the manager, which would know, is not answering; retry");
  });

  it('finds what the manager’s answer brought', async () => {
    const view = new MetadataView();
    expect((await new MetadataLookup(view, refresher(view, true, [3])).consumer(3)).id).toBe(3);
  });
});
