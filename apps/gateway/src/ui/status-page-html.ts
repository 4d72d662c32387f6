import { createHash } from 'node:crypto';

/*
 * The status page: one HTML document with its CSS and script inline, no build step and no
 * external URL. The script polls the JSON status every second and redraws the tables and the
 * inline-SVG sparklines. It is written without template literals so it can sit in String.raw here.
 */

const STYLE = String.raw`
:root { color-scheme: light dark; --fg: #1b2130; --muted: #667085; --bg: #f4f6f9; --panel: #ffffff; --line: #e3e7ee;
  --accent: #2f6fde; --produce: #2f80ed; --consume: #16a34a; --ok: #16a34a; --warn: #d98e04; --bad: #dc2626; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #98a2b3; --bg: #101319; --panel: #191d25; --line: #2a303c; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 18px; }
header h1 span { color: var(--muted); font-weight: 500; }
#connection { font-size: 13px; }
#connection::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--muted); }
#connection.live::before { background: var(--ok); } #connection.down::before { background: var(--bad); }
#updated { margin-left: auto; color: var(--muted); font-size: 13px; }
main { padding: 16px 24px 32px; max-width: 1280px; margin: 0 auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; margin-bottom: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .value small { font-size: 13px; color: var(--muted); font-weight: 500; }
.card svg { display: block; margin-top: 4px; width: 100%; }
#problems { display: none; background: #fff4e5; color: #7a4a00; border: 1px solid #f5c98a; border-radius: 8px; padding: 8px 12px; margin-bottom: 16px; }
#problems.shown { display: block; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; margin-bottom: 16px; overflow-x: auto; }
section h2 { margin: 0; padding: 10px 14px; font-size: 14px; border-bottom: 1px solid var(--line); }
section h2 .count { color: var(--muted); font-weight: 500; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 12px; text-align: left; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num, th.num { text-align: right; }
tr:last-child > td { border-bottom: none; }
.empty { color: var(--muted); padding: 12px 14px; }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: var(--line); }
.pill.alive, .pill.active { background: #dcfce7; color: #166534; } .pill.dead { background: #fee2e2; color: #991b1b; }
.pill.draining, .pill.inactive { background: #fef3c7; color: #92400e; }
details summary { cursor: pointer; color: var(--accent); }
table.partitions { margin: 4px 0 4px 0; }
table.partitions td, table.partitions th { padding: 2px 10px; border-bottom: none; font-size: 12px; }
.spark-produce polyline { stroke: var(--produce); } .spark-produce path { fill: var(--produce); }
.spark-consume polyline { stroke: var(--consume); } .spark-consume path { fill: var(--consume); }
svg polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; } svg path { opacity: .15; stroke: none; }
svg line.base { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
.muted { color: var(--muted); }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var SLOTS = 60;
  var path = location.pathname.replace(/\/+$/, '');
  var STATUS_URL = path + '/api/status';
  var openTopics = new Set();

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, String(attrs[k])); });
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c))); });
    return node;
  }
  function cell(text, field, cls) { return el('td', { 'data-field': field, 'class': cls }, [text]); }
  function num(n) { return typeof n === 'number' ? n.toLocaleString('en-US') : '\u2013'; }
  function rate(r) { return r >= 100 ? r.toFixed(0) : r.toFixed(1); }
  function bytes(n) {
    var units = ['B', 'KB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + units[i];
  }
  function limits(t) {
    var parts = [];
    if (t.retention_ms !== null) parts.push(t.retention_ms >= 3600000 ? (t.retention_ms / 3600000).toFixed(1) + ' h' : (t.retention_ms / 1000).toFixed(1) + ' s');
    if (t.retention_bytes !== null) parts.push(bytes(t.retention_bytes));
    return parts.length === 0 ? 'until consumed' : parts.join(' / ');
  }
  function age(ms, now) {
    if (!ms) return 'never';
    var s = Math.max(0, (now - ms) / 1000);
    if (s < 60) return s.toFixed(1) + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ago';
  }
  function pill(text) { return el('span', { 'class': 'pill ' + text, 'data-field': 'state' }, [text]); }

  function sparkline(values, width, height, kind) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('class', 'spark spark-' + kind);
    var max = Math.max.apply(null, [1].concat(values));
    var step = width / (SLOTS - 1);
    var pts = values.slice(-SLOTS).map(function (v, i, all) {
      var x = width - (all.length - 1 - i) * step;
      var y = height - 1 - (v / max) * (height - 3);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    if (pts.length === 1) pts.unshift((width - step).toFixed(1) + pts[0].slice(pts[0].indexOf(',')));
    if (pts.length === 0) pts = ['0,' + (height - 1), width + ',' + (height - 1)];
    var area = document.createElementNS(ns, 'path');
    area.setAttribute('d', 'M' + pts[0].split(',')[0] + ',' + height + ' L' + pts.join(' L') + ' L' + width + ',' + height + ' Z');
    var base = document.createElementNS(ns, 'line');
    base.setAttribute('x1', '0'); base.setAttribute('x2', String(width));
    base.setAttribute('y1', String(height - 0.5)); base.setAttribute('y2', String(height - 0.5));
    base.setAttribute('class', 'base');
    var line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', pts.join(' '));
    var title = document.createElementNS(ns, 'title');
    title.textContent = 'peak ' + rate(Math.max.apply(null, [0].concat(values))) + ' msg/s, last ' + values.length + ' samples';
    svg.appendChild(title);
    svg.appendChild(base);
    svg.appendChild(area);
    svg.appendChild(line);
    return svg;
  }

  // A header ending in '>' labels a right-aligned (numeric) column.
  function table(headers, rows, emptyText) {
    if (rows.length === 0) return el('div', { 'class': 'empty' }, [emptyText]);
    var head = el('tr', null, headers.map(function (h) {
      var numeric = h.slice(-1) === '>';
      return el('th', { 'class': numeric ? 'num' : null }, [numeric ? h.slice(0, -1) : h]);
    }));
    return el('table', null, [el('thead', null, [head]), el('tbody', null, rows)]);
  }

  function replace(id, node) {
    var target = document.getElementById(id);
    target.replaceChildren(node);
  }

  function renderCards(s) {
    document.getElementById('produce-rate').textContent = rate(s.rates.produce_rate);
    document.getElementById('consume-rate').textContent = rate(s.rates.consume_rate);
    replace('produce-spark', sparkline(s.rates.produce_series, 240, 44, 'produce'));
    replace('consume-spark', sparkline(s.rates.consume_series, 240, 44, 'consume'));
    var alive = s.brokers.filter(function (b) { return b.state === 'alive'; }).length;
    document.getElementById('brokers-alive').textContent = alive + ' / ' + s.brokers.length;
    document.getElementById('topic-count').textContent = num(s.topics.length);
    document.getElementById('message-count').textContent = num(s.topics.reduce(function (n, t) { return n + t.messages; }, 0));
    document.getElementById('consumer-count').textContent = num(s.consumers.length);
    var lag = s.consumers.reduce(function (n, c) { return n + (c.lag || 0); }, 0);
    document.getElementById('total-lag').textContent = num(lag);
  }

  function renderTopics(s) {
    var rows = [];
    s.topics.forEach(function (t) {
      var parts = table(['Partition>', 'Owner', 'Epoch>', 'Start offset>', 'End offset>', 'Stored>'], t.partitions.map(function (p) {
        return el('tr', { 'data-partition': t.name + '/' + p.partition_id }, [
          cell(p.partition_id, 'partition-id', 'num'),
          cell(p.broker_id === 0 ? 'unassigned' : 'broker ' + p.broker_id, 'broker-id'),
          cell(p.epoch, 'epoch', 'num'),
          cell(num(p.start_offset), 'start-offset', 'num'),
          cell(num(p.end_offset), 'end-offset', 'num'),
          cell(bytes(p.stored_bytes), 'stored-bytes', 'num'),
        ]);
      }), 'no partitions');
      parts.classList.add('partitions');
      var details = el('details', { 'data-topic-details': t.name }, [el('summary', null, [t.partitions.length + ' partitions']), parts]);
      if (openTopics.has(t.name)) details.open = true;
      details.addEventListener('toggle', function () { if (details.open) openTopics.add(t.name); else openTopics.delete(t.name); });
      rows.push(el('tr', { 'data-topic': t.name }, [
        el('td', { 'data-field': 'name' }, [el('b', null, [t.name])]),
        el('td', { 'data-field': 'partitions' }, [details]),
        cell(num(t.messages), 'messages', 'num'),
        cell(num(t.retained), 'retained', 'num'),
        cell(bytes(t.stored_bytes), 'stored', 'num'),
        cell(limits(t), 'retention'),
        cell(rate(t.produce_rate), 'produce-rate', 'num'),
        el('td', null, [sparkline(t.produce_series, 100, 22, 'produce')]),
        cell(rate(t.consume_rate), 'consume-rate', 'num'),
        el('td', null, [sparkline(t.consume_series, 100, 22, 'consume')]),
      ]));
    });
    document.getElementById('topics-count').textContent = '(' + s.topics.length + ')';
    replace('topics', table(['Topic', 'Partitions', 'Messages>', 'Retained>', 'Stored>', 'Kept', 'Produce msg/s>', '', 'Consume msg/s>', ''], rows, 'No topics yet.'));
  }

  function renderBrokers(s, now) {
    replace('brokers', table(['#>', 'Address', 'State', 'Last heartbeat', 'Partitions>'], s.brokers.map(function (b) {
      return el('tr', { 'data-broker': b.broker_id }, [
        cell(b.broker_id, 'broker-id', 'num'), cell(b.address, 'address'), el('td', null, [pill(b.state)]),
        cell(age(b.last_heartbeat_ms, now), 'last-heartbeat'), cell(b.partitions, 'partitions', 'num'),
      ]);
    }), 'No brokers registered.'));
    replace('replicas', table(['#>', 'Address', 'Status', 'Last heartbeat'], s.replicas.map(function (r) {
      return el('tr', { 'data-replica': r.replica_id }, [
        cell(r.replica_id, 'replica-id', 'num'), cell(r.address || '\u2013', 'address'), el('td', null, [pill(r.status)]), cell(age(r.last_heartbeat_ms, now), 'last-heartbeat'),
      ]);
    }), 'No replicas registered.'));
  }

  function renderClients(s, now) {
    replace('consumers', table(['#>', 'Topic', 'Partition', 'Status', 'Last activity', 'Lag>'], s.consumers.map(function (c) {
      return el('tr', { 'data-consumer': c.consumer_id }, [
        cell(c.consumer_id, 'consumer-id', 'num'), cell(c.topic || '?', 'topic'), cell(c.partition_id === null ? 'all' : c.partition_id, 'partition'),
        el('td', null, [pill(c.status)]), cell(age(c.last_activity_ms, now), 'last-activity'), cell(c.lag === null ? '\u2013' : num(c.lag), 'lag', 'num'),
      ]);
    }), 'No consumer has been active yet.'));
    replace('producers', table(['#>', 'Topic', 'Status', 'Last activity'], s.producers.map(function (p) {
      return el('tr', { 'data-producer': p.producer_id }, [
        cell(p.producer_id, 'producer-id', 'num'), cell(p.topic || '?', 'topic'), el('td', null, [pill(p.status)]), cell(age(p.last_activity_ms, now), 'last-activity'),
      ]);
    }), 'No producer has been active yet.'));
  }

  function render(s) {
    var now = s.generated_at_ms;
    renderCards(s);
    renderTopics(s);
    renderBrokers(s, now);
    renderClients(s, now);
    var problems = document.getElementById('problems');
    problems.textContent = s.problems.join(' \u00b7 ');
    problems.classList.toggle('shown', s.problems.length > 0);
    var updated = document.getElementById('updated');
    updated.textContent = 'updated ' + new Date(now).toLocaleTimeString() + ' \u00b7 rates over ' + (s.rates.window_ms / 1000) + ' s' + (s.gateway.ready ? '' : ' \u00b7 waiting for cluster metadata');
    updated.title = 'metadata version ' + s.gateway.metadata_version;
    updated.setAttribute('data-generated', String(now));
  }

  function connection(live, text) {
    var node = document.getElementById('connection');
    node.className = live ? 'live' : 'down';
    node.textContent = text;
  }

  function poll() {
    fetch(STATUS_URL, { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (s) { render(s); connection(true, 'live'); })
      .catch(function (e) { connection(false, 'unreachable (' + e.message + '), retrying'); })
      .then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
`;

const BODY = String.raw`
<header>
  <h1>partq <span>cluster status</span></h1>
  <span id="connection">connecting</span>
  <span id="updated"></span>
</header>
<main>
  <div id="problems" role="status"></div>
  <div class="cards">
    <div class="card"><div class="label">Produce (this gateway)</div><div class="value"><span id="produce-rate">0.0</span> <small>msg/s</small></div><div id="produce-spark"></div></div>
    <div class="card"><div class="label">Consume (this gateway)</div><div class="value"><span id="consume-rate">0.0</span> <small>msg/s</small></div><div id="consume-spark"></div></div>
    <div class="card"><div class="label">Brokers alive</div><div class="value" id="brokers-alive">&ndash;</div></div>
    <div class="card"><div class="label">Topics &middot; messages</div><div class="value"><span id="topic-count">&ndash;</span> <small>&middot; <span id="message-count">&ndash;</span></small></div></div>
    <div class="card"><div class="label">Consumers &middot; total lag</div><div class="value"><span id="consumer-count">&ndash;</span> <small>&middot; <span id="total-lag">&ndash;</span></small></div></div>
  </div>
  <section><h2>Topics <span class="count" id="topics-count"></span></h2><div id="topics"></div></section>
  <section><h2>Brokers</h2><div id="brokers"></div></section>
  <section><h2>Consumers</h2><div id="consumers"></div></section>
  <section><h2>Producers</h2><div id="producers"></div></section>
  <section><h2>Replicas</h2><div id="replicas"></div></section>
</main>
`;

/** The inline script, exported so a test can check that it parses. */
export const STATUS_PAGE_SCRIPT = SCRIPT;

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>partq status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/**
 * Allows exactly this page's inline script and style, and requests to this origin only: the page
 * needs nothing else, and a browser refuses anything else.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src '${sha256(SCRIPT)}'`,
  `style-src '${sha256(STYLE)}'`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}
