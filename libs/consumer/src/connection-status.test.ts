import { ConnectionStatus } from './connection-status.js';
import { ConsumerError } from './errors/consumer-error.js';

describe('ConnectionStatus', () => {
  it('reports one disconnect per outage and a reconnect when calls succeed again', () => {
    const events: string[] = [];
    const status = new ConnectionStatus(
      (e) => events.push(`disconnect ${e.url} ${e.error.code}`),
      (e) => events.push(`reconnect ${e.url}`),
    );
    const error = new ConsumerError('UNAVAILABLE', 'down');
    status.succeeded('a');
    status.failed('a', error);
    status.failed('b', error);
    status.succeeded('b');
    status.succeeded('b');
    expect(events).toEqual(['disconnect a UNAVAILABLE', 'reconnect b']);
  });
});
