import { abortHelpers } from '@partq/client-core';
import { consumerErrors } from './errors/rpc-error-mapping.js';

/** The shared abort helpers, rejecting with ConsumerError ABORTED. */
export const { raceAbort, sleep, throwIfAborted } = abortHelpers(consumerErrors);
