import { abortHelpers } from '@partq/client-core';
import { producerErrors } from './errors/rpc-error-mapping.js';

/** The shared abort helpers, rejecting with ProducerError ABORTED. */
export const { abortedError, raceAbort, throwIfAborted } = abortHelpers(producerErrors);
