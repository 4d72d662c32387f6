import type { MetadataView } from '@partq/cluster';
import type { Consumer, Producer, Topic } from '@partq/proto';
import { isValidTopicName } from '@partq/partition';
import { PartqError } from '@partq/runtime';
import type { MetadataRefresher } from './metadata-refresher.js';

/**
 * Resolves names and ids against the view. A miss asks the manager once before answering
 * NOT_FOUND: the entity may have been created through another gateway a moment ago and the
 * metadata stream has not delivered it here yet. When the manager does not answer, the miss
 * proves nothing (a consumer registered just before the manager stopped is not in the view
 * yet), so the answer is UNAVAILABLE, which clients retry, never NOT_FOUND, which they do not.
 */
export class MetadataLookup {
  constructor(
    private readonly view: MetadataView,
    private readonly refresher: MetadataRefresher,
  ) {}

  async topic(name: string): Promise<Topic> {
    const topic = this.knownTopic(name) ?? (await this.find(() => this.view.topicByName(name), () => `topic '${name}'`));
    if (!topic) throw new PartqError('NOT_FOUND', `topic '${name}' does not exist`, { topic: name });
    return topic;
  }

  async producer(id: number): Promise<Producer> {
    const producer = this.view.producer(id) ?? (await this.find(() => this.view.producer(id), () => `producer ${id}`));
    if (!producer) throw new PartqError('NOT_FOUND', `producer ${id} is not registered`, { producerId: id });
    return producer;
  }

  async consumer(id: number): Promise<Consumer> {
    const consumer = this.view.consumer(id) ?? (await this.find(() => this.view.consumer(id), () => `consumer ${id}`));
    if (!consumer) throw new PartqError('NOT_FOUND', `consumer ${id} is not registered (consumers idle past the cluster's expiry are removed)`, { consumerId: id });
    return consumer;
  }

  /**
   * The topic when the view has it, at once (undefined: ask `topic`, which may ask the manager).
   * With `knownProducer`, a produce whose topic and producer are known takes no turn of the event loop here.
   */
  knownTopic(name: string): Topic | undefined {
    assertTopicName(name);
    return this.view.topicByName(name);
  }

  /** The producer when the view has it, at once (undefined: ask `producer`). */
  knownProducer(id: number): Producer | undefined {
    return this.view.producer(id);
  }

  /** A miss: asks the manager once, then reads again. */
  private async find<T>(read: () => T | undefined, what: () => string): Promise<T | undefined> {
    const asked = await this.refresher.tryRefresh();
    const found = read();
    if (found === undefined && !asked) {
      throw new PartqError(
        'UNAVAILABLE',
        this.view.ready
          ? `${what()} is not known to this gateway, and the manager, which would know, is not answering; retry`
          : 'the gateway has no metadata from the manager yet; retry',
      );
    }
    return found;
  }
}

export function assertTopicName(name: unknown): asserts name is string {
  if (!isValidTopicName(name)) {
    throw new PartqError('INVALID_ARGUMENT', 'topic name must be 1-249 characters of [A-Za-z0-9._-] (not "." or "..")', {
      topic: typeof name === 'string' ? name.slice(0, 300) : name,
    });
  }
}

/** A partition id must name one of the topic's partitions. */
export function assertPartitionInRange(topic: Topic, partitionId: number): void {
  if (!Number.isInteger(partitionId) || partitionId < 0 || partitionId >= topic.partitionCount) {
    throw new PartqError(
      'NOT_FOUND',
      `partition ${partitionId} does not exist: topic '${topic.name}' has ${topic.partitionCount} partition(s) (0-${topic.partitionCount - 1})`,
      { topic: topic.name, partitionId, partitionCount: topic.partitionCount },
    );
  }
}
