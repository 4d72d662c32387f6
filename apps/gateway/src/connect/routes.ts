import type { ConnectRouter } from '@connectrpc/connect';
import { AdminService, ConsumerService, ProducerService } from '@partq/proto';
import { wrapServiceImpl } from '@partq/runtime';
import type { Logger } from 'pino';
import type { GatewayServices } from '../gateway-services.js';
import { adminServiceImpl } from './admin-service.js';
import { consumerServiceImpl } from './consumer-service.js';
import { producerServiceImpl } from './producer-service.js';

/** Serves ProducerService, ConsumerService and AdminService; failures keep their partq code over the wire. */
export function connectRoutes(services: GatewayServices, logger: Pick<Logger, 'error'>): (router: ConnectRouter) => void {
  const onError = ({ method, error, code }: { method: string; error: unknown; code: string }): void => {
    if (code === 'INTERNAL') logger.error({ err: error, method }, 'Connect call failed');
  };
  return (router) => {
    router.service(ProducerService, wrapServiceImpl(producerServiceImpl(services), { onError }));
    router.service(ConsumerService, wrapServiceImpl(consumerServiceImpl(services), { onError }));
    router.service(AdminService, wrapServiceImpl(adminServiceImpl(services), { onError }));
  };
}
