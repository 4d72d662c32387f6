#!/usr/bin/env node
import { fastify } from 'fastify';

/**
 * The yardstick for partq's REST API: a bare Fastify route on this machine that parses the same
 * JSON body and answers JSON of the same shape, with no work behind it. Run as its own process,
 * as the gateway is; prints `{"url": ...}` on stdout once it listens.
 */
async function main(): Promise<void> {
  const app = fastify({ logger: false });
  let offset = 0;
  app.post('/producer/produce', async () => ({ status: 'success', partition_id: 0, offset: offset++ }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ url: address })}\n`);
  const stop = (): void => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`bare fastify failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
