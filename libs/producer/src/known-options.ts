import { knownOptionsCheck } from '@partq/client-core';
import { producerErrors } from './errors/rpc-error-mapping.js';

/** Refuses, with ProducerError INVALID_ARGUMENT, an options or message object naming an unknown option. */
export const assertKnownOptions = knownOptionsCheck(producerErrors);
