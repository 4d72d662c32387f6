import type { OptionValues } from './args.js';
import { CliError } from './cli-error.js';
import { DEFAULT_TIMEOUT_MS, DEFAULT_URL, gatewayAddress } from './gateway-address.js';

describe('gatewayAddress', () => {
  it('takes --url over PARTQ_URL over the default, comma-separated for failover', () => {
    expect(gatewayAddress({}, {})).toEqual({ urls: [DEFAULT_URL], timeoutMs: DEFAULT_TIMEOUT_MS });
    expect(gatewayAddress({}, { PARTQ_URL: 'http://env:1' }).urls).toEqual(['http://env:1']);
    expect(gatewayAddress({ url: 'http://a:1, http://b:2' }, { PARTQ_URL: 'http://env:1' }).urls).toEqual(['http://a:1', 'http://b:2']);
  });

  it('reads --timeout in milliseconds', () => {
    expect(gatewayAddress({ timeout: '250' }, {}).timeoutMs).toBe(250);
  });

  const wrong: OptionValues[] = [{ url: 'localhost:8080' }, { url: 'ftp://h' }, { url: ',' }, { timeout: '0' }, { timeout: 'soon' }];
  it.each(wrong.map((values) => [values]))('refuses %j as a usage error', (values) => {
    expect(() => gatewayAddress(values, {})).toThrow(CliError);
    try {
      gatewayAddress(values, {});
    } catch (error) {
      expect((error as CliError).exitCode).toBe(2);
    }
  });
});
