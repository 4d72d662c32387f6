import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { AdminService } from '@partq/proto';
import type { GatewayServices } from '../gateway-services.js';

/** AdminService: the Connect face of the admin API, behind the same bearer token. */
export function adminServiceImpl(services: GatewayServices): ServiceImpl<typeof AdminService> {
  const authorize = (context: HandlerContext): void => services.adminToken.check(context.requestHeader.get('authorization'));
  return {
    async listBrokers(_request, context) {
      authorize(context);
      return { brokers: await services.admin.brokers() };
    },
    async drainBroker(request, context) {
      authorize(context);
      return { moves: await services.admin.drain(request.brokerId) };
    },
    async resumeBroker(request, context) {
      authorize(context);
      return { broker: await services.admin.resume(request.brokerId) };
    },
    async rebalance(_request, context) {
      authorize(context);
      return { moves: await services.admin.rebalance() };
    },
    async getHealth(_request, context) {
      authorize(context);
      return { entries: await services.admin.health() };
    },
  };
}
