import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

// The gateway's live status page (GET /ui) in a real headless Chromium, against a real cluster.
jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = '/tmp/partq-ui.png';

type Playwright = typeof import('playwright-core');

/** playwright-core and Debian's chromium, or why the test cannot run here. */
function loadBrowserTooling(): { playwright: Playwright } | { missing: string } {
  const missing: string[] = [];
  let playwright: Playwright | undefined;
  try {
    playwright = require('playwright-core') as Playwright;
  } catch {
    missing.push('the npm package playwright-core');
  }
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (apt-get install -y chromium)`);
  return playwright && missing.length === 0 ? { playwright } : { missing: missing.join(' and ') };
}

const tooling = loadBrowserTooling();
const skipReason = 'missing' in tooling ? tooling.missing : undefined;
if (skipReason) process.stderr.write(`status-page.test.ts: SKIPPED, needs ${skipReason}\n`);
const maybe = skipReason ? describe.skip : describe;

/** Numbers as the page prints them ("1,234"). */
function count(text: string): number {
  return Number(text.replace(/[^\d.]/g, ''));
}

maybe(skipReason ? `status page (skipped: needs ${skipReason})` : 'status page', () => {
  let cluster: TestCluster;
  let rest: RestClient;
  let context: BrowserContext | undefined;
  let userDataDir: string;

  beforeAll(async () => {
    cluster = await startTestCluster({ brokers: 2, replicas: 1 });
    rest = new RestClient(cluster.gatewayUrl);
    userDataDir = mkdtempSync(join(tmpdir(), 'partq-chromium-'));
    context = await (tooling as { playwright: Playwright }).playwright.chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    try {
      await context?.close();
    } finally {
      await cluster?.dispose();
      // Chromium may still be flushing its profile as it exits.
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });

  test('shows topics, brokers and consumers, and follows produced messages live', async () => {
    expect((await rest.createTopic('ui-demo', 3)).status).toBe(201);

    const page = context!.pages()[0] ?? (await context!.newPage());
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // A CSP violation or a failed poll shows up as a console error.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    // Expressions run in the page (this project's TypeScript has no DOM types).
    const text = (selector: string): Promise<string> => page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ''`);
    // Polled with evaluate (run through the DevTools protocol) rather than waitForFunction, whose string
    // form calls eval inside the page, which the page's Content-Security-Policy rightly refuses.
    const until = async (expression: string): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (!(await page.evaluate<boolean>(`Boolean(${expression})`))) {
        if (Date.now() > deadline) throw new Error(`the page never showed: ${expression}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const cellOf = (row: string, field: string): string => `document.querySelector('${row} [data-field="${field}"]')?.textContent`;

    await page.goto(`${cluster.gatewayUrl}/ui`);
    await page.waitForSelector('tr[data-topic="ui-demo"]', { timeout: 10_000 });
    expect(count(await text('tr[data-topic="ui-demo"] [data-field="messages"]'))).toBe(0);
    expect(await text('#connection')).toBe('live');
    // Both brokers, alive (the manager's health table fills within a heartbeat).
    await until(`[...document.querySelectorAll('tr[data-broker] [data-field="state"]')].filter((e) => e.textContent === 'alive').length === 2`);

    const producer = await rest.registerProducer('ui-demo');
    const consumer = await rest.registerConsumer('ui-demo');
    // One consume makes the consumer active in the manager's health table, where the page finds it.
    expect((await rest.consume('ui-demo', consumer)).body).toMatchObject({ code: 'EMPTY' });
    const sent = 30;
    for (let i = 0; i < sent; i++) expect((await rest.produce('ui-demo', producer, `m${i}`)).body).toMatchObject({ status: 'success' });

    // The page polls every second: the produce rate (an average over the last 5 s, so checked first),
    // end offsets and the consumer's lag follow.
    await until(`Number(${cellOf('tr[data-topic="ui-demo"]', 'produce-rate')}) > 0 && Number(document.querySelector('#produce-rate').textContent) > 0`);
    await until(`${cellOf('tr[data-topic="ui-demo"]', 'messages')} === '${sent}'`);
    // What the Central DB holds once the records are committed, and how long the topic keeps them.
    await until(`${cellOf('tr[data-topic="ui-demo"]', 'stored')}.endsWith(' B') && ${cellOf('tr[data-topic="ui-demo"]', 'stored')} !== '0 B'`);
    expect(await text('tr[data-topic="ui-demo"] [data-field="retention"]')).toBe('until consumed');
    await until(`${cellOf(`tr[data-consumer="${consumer}"]`, 'lag')} === '${sent}'`);

    // Partition details: three partitions whose end offsets add up to what was sent.
    await page.click('tr[data-topic="ui-demo"] summary');
    expect(await page.evaluate(`document.querySelector('tr[data-topic="ui-demo"] details').open`)).toBe(true);
    const endOffsets = await page.evaluate<string[]>(
      `[...document.querySelectorAll('tr[data-partition^="ui-demo/"] [data-field="end-offset"]')].map((cell) => cell.textContent)`,
    );
    expect(endOffsets).toHaveLength(3);
    expect(endOffsets.map(count).reduce((a, b) => a + b, 0)).toBe(sent);
    // Sparklines are inline SVG, one for each rate.
    expect(await page.evaluate(`document.querySelectorAll('tr[data-topic="ui-demo"] svg.spark polyline').length`)).toBe(2);

    // Draining the consumer brings the consume rate up and its lag down to 0 on the page.
    expect(await rest.drain('ui-demo', consumer)).toHaveLength(sent);
    await until(`Number(${cellOf('tr[data-topic="ui-demo"]', 'consume-rate')}) > 0`);
    await until(`${cellOf(`tr[data-consumer="${consumer}"]`, 'lag')} === '0'`);
    // The partition table stays open across redraws.
    expect(await page.evaluate(`document.querySelector('tr[data-topic="ui-demo"] details').open`)).toBe(true);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
  });
});
