import type { ConnectRouter } from '@connectrpc/connect';
import { AdminService, ConsumerService, ProducerService } from '@partq/proto';
import { rpcDurationHistogram, wrapServiceImpl } from '@partq/runtime';
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
    // A Send on a SendStream fails alone (the stream goes on): it is logged and counted as a Send
    // call (partq_rpc_duration_seconds{method="Send"}), whichever way it came.
    const durations = rpcDurationHistogram(registry);
    const sendCalls = {
      onError: ({ error, code }: { error: unknown; code: string }) => onError({ method: 'send', error, code }),
      onAnswered: ({ code, seconds }: { code: string; seconds: number }) => durations.observe({ service: ProducerService.typeName, method: ProducerService.method.send.name, code }, seconds),
    };
    router.service(ProducerService, wrapServiceImpl(producerServiceImpl(services, sendCalls), { onError }));
    router.service(ConsumerService, wrapServiceImpl(consumerServiceImpl(services), { onError }));
    router.service(AdminService, wrapServiceImpl(adminServiceImpl(services), { onError }));
  };
}
