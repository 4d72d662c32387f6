import type { ConnectRouter } from '@connectrpc/connect';
import { AdminService, ConsumerService, ProducerService } from '@partq/proto';
import { multiplexedCallsCountedAs, wrapServiceImpl } from '@partq/runtime';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { GatewayServices } from '../gateway-services.js';
import { adminServiceImpl } from './admin-service.js';
import { consumerServiceImpl } from './consumer-service.js';
import { producerServiceImpl } from './producer-service.js';

/** Serves ProducerService, ConsumerService and AdminService; failures keep their partq code over the wire. */
export function connectRoutes(services: GatewayServices, logger: Pick<Logger, 'error'>, registry: Registry): (router: ConnectRouter) => void {
  const onError = ({ method, error, code }: { method: string; error: unknown; code: string }): void => {
    if (code === 'INTERNAL') logger.error({ err: error, method }, 'Connect call failed');
  };
  return (router) => {
    // A Send on a SendStream fails alone (the stream goes on): it is logged and counted as a Send call.
    const sendCalls = multiplexedCallsCountedAs(registry, ProducerService.method.send, onError);
    router.service(ProducerService, wrapServiceImpl(producerServiceImpl(services, sendCalls), { onError }));
    router.service(ConsumerService, wrapServiceImpl(consumerServiceImpl(services), { onError }));
    router.service(AdminService, wrapServiceImpl(adminServiceImpl(services), { onError }));
  };
}
