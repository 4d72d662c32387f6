import { create } from '@bufbuild/protobuf';
import { MetadataView } from '@partq/cluster';
import { ConsumeRequestSchema, MetadataSchema, GetMetadataResponseSchema } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import { ReplicaServiceImpl, type ReplicaServiceOptions } from './replica-service.js';

// Who a consume is for, before any partition is read: the other collaborators are never reached.
function serviceWith(view: MetadataView, manager: ReplicaServiceOptions['manager']): ReplicaServiceImpl {
  const unused = {} as never;
  return new ReplicaServiceImpl({
    view,
    manager,
    positions: unused,
    reader: unused,
    endOffsets: unused,
    arrivals: unused,
    fetchMaxRecords: 100,
    logger: { warn: () => undefined, debug: () => undefined },
    metadataWaitMs: 20,
  });
}

const unreachable = { getMetadata: () => Promise.reject(new Error('connect ECONNREFUSED')) } as unknown as ReplicaServiceOptions['manager'];
const answering = { getMetadata: async () => create(GetMetadataResponseSchema, { metadata: create(MetadataSchema, {}) }) } as unknown as ReplicaServiceOptions['manager'];

async function codeOf(service: ReplicaServiceImpl): Promise<string> {
  try {
    await service.consume(create(ConsumeRequestSchema, { consumerId: 3, topic: 'orders' }));
    return 'OK';
  } catch (error) {
    if (error instanceof PartqError) return error.code;
    throw error;
  }
}

describe('ReplicaServiceImpl: whom a consume is for', () => {
  it('an unknown consumer on a replica with no metadata yet and no manager answering is UNAVAILABLE, not NOT_FOUND', async () => {
    expect(await codeOf(serviceWith(new MetadataView(), unreachable))).toBe('UNAVAILABLE');
  });

  it('is NOT_FOUND when the manager answered without it', async () => {
    expect(await codeOf(serviceWith(new MetadataView(), answering))).toBe('NOT_FOUND');
    const synced = new MetadataView();
    synced.apply(create(MetadataSchema, {}), 1, true);
    expect(await codeOf(serviceWith(synced, answering))).toBe('NOT_FOUND');
  });

  it('an unknown consumer with metadata but no manager answering is UNAVAILABLE: it may have registered since', async () => {
    // Registered just before the manager stopped: the metadata stream never brought it here, and
    // a client told NOT_FOUND gives up on a consumer that exists.
    const synced = new MetadataView();
    synced.apply(create(MetadataSchema, {}), 1, true);
    expect(await codeOf(serviceWith(synced, unreachable))).toBe('UNAVAILABLE');
  });

  it('with no manager to ask, the synced view decides', async () => {
    const synced = new MetadataView();
    synced.apply(create(MetadataSchema, {}), 1, true);
    expect(await codeOf(serviceWith(synced, undefined))).toBe('NOT_FOUND');
    expect(await codeOf(serviceWith(new MetadataView(), undefined))).toBe('UNAVAILABLE');
  });
});
