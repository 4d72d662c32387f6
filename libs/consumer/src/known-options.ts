import { knownOptionsCheck } from '@partq/client-core';
import { consumerErrors } from './errors/rpc-error-mapping.js';

/** Refuses, with ConsumerError INVALID_ARGUMENT, an options object naming an unknown option. */
export const assertKnownOptions = knownOptionsCheck(consumerErrors);
