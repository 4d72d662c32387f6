import { ERROR_CODES, httpStatusOf } from '@partq/runtime';
import type { JsonSchema, OpenApiDocument, OpenApiOperation } from './openapi-document.js';

/**
 * The API reference as one self-contained HTML page, rendered from the OpenAPI document on the
 * server: no script, no external URL, readable with curl | lynx as well as in a browser.
 */
export function renderDocsPage(document: OpenApiDocument, openApiUrl: string): string {
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );
  const tags = [...new Set(operations.flatMap((o) => o.operation.tags))];
  const sections = tags.map((tag) => {
    const inTag = operations.filter((o) => o.operation.tags[0] === tag);
    return `<section><h2>${escapeHtml(tag)}</h2>${inTag.map((o) => renderOperation(o.method, o.path, o.operation)).join('\n')}</section>`;
  });
  const codes = ERROR_CODES.map((code) => `<tr><td><code>${code}</code></td><td>${httpStatusOf(code)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(document.info.title)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(document.info.title)} <small>${escapeHtml(document.info.version)}</small></h1>
${document.info.description ? `<p>${inlineMarkdown(document.info.description)}</p>` : ''}
<p>Machine-readable: <a href="${escapeHtml(openApiUrl)}">OpenAPI 3.1 document</a>.</p>
<nav>${operations.map((o) => `<a href="#${o.operation.operationId}"><span class="method ${o.method}">${o.method.toUpperCase()}</span> ${escapeHtml(o.path)}</a>`).join('')}</nav>
</header>
<main>
<section>
<h2>Answers and errors</h2>
<p>Every answer is JSON with <code>"status": "success"</code> or <code>"status": "failure"</code>.
A failure carries a stable <code>code</code> and a human <code>message</code> (sometimes <code>details</code>).</p>
<table class="codes"><thead><tr><th>code</th><th>HTTP</th></tr></thead><tbody>${codes}</tbody></table>
</section>
${sections.join('\n')}
</main>
</body>
</html>
`;
}

function renderOperation(method: string, path: string, operation: OpenApiOperation): string {
  const parameters = operation.parameters ?? [];
  const body = operation.requestBody?.content['application/json']?.schema;
  const success = Object.keys(operation.responses).filter((status) => /^2/.test(status));
  const parts = [
    `<article id="${operation.operationId}">`,
    `<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>`,
    operation.summary ? `<p class="summary">${escapeHtml(operation.summary)}</p>` : '',
    operation.description ? operation.description.split('\n\n').map((p) => `<p>${inlineMarkdown(p)}</p>`).join('') : '',
  ];
  if (parameters.length > 0) {
    const rows = parameters.map((p) => fieldRow(p.name, p.schema, p.required, p.in));
    parts.push(`<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }
  if (body) {
    const properties = isObject(body.properties) ? body.properties : {};
    const required = new Set(Array.isArray(body.required) ? body.required : []);
    const rows = Object.entries(properties).map(([name, schema]) => fieldRow(name, isObject(schema) ? schema : {}, required.has(name), 'body'));
    parts.push(`<h4>JSON body</h4><table><thead><tr><th>field</th><th>in</th><th>type</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }
  for (const status of success) parts.push(...answerTables(status, operation.responses[status]!));
  parts.push(`<p class="responses">Success: HTTP ${success.join(', ') || '200'}; failures: the envelope above.</p>`, '</article>');
  return parts.filter(Boolean).join('\n');
}

/** The fields of a success answer: one table, or one per alternative form (a single message, a batch...). */
function answerTables(status: string, response: OpenApiOperation['responses'][string]): string[] {
  const schema = 'content' in response ? response.content?.['application/json']?.schema : undefined;
  if (!schema) return [];
  const forms = Array.isArray(schema.anyOf) ? schema.anyOf.filter(isObject) : [schema];
  return forms
    .filter((form) => isObject(form.properties))
    .map((form) => {
      const required = new Set(Array.isArray(form.required) ? form.required : []);
      const rows = Object.entries(form.properties as JsonSchema).map(([name, field]) => fieldRow(name, isObject(field) ? field : {}, required.has(name)));
      const title = typeof form.title === 'string' ? `: ${escapeHtml(form.title.toLowerCase())}` : '';
      return `<h4>Answer, HTTP ${escapeHtml(status)}${title}</h4><table><thead><tr><th>field</th><th>type</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
    });
}

/** A row of a parameter or body table (with where the field goes), or of an answer table (without). */
function fieldRow(name: string, schema: JsonSchema, required: boolean, location?: string): string {
  const notes = [required ? '<b>required</b>' : 'optional', ...constraintsOf(schema).map(escapeHtml)];
  const description = typeof schema.description === 'string' ? ` ${inlineMarkdown(schema.description)}` : '';
  const items = isObject(schema.items) ? objectAlternatives(schema.items) : [];
  const nested = items.length > 0 ? `items: ${items.map(escapeHtml).join(' or ')}` : isObject(schema.properties) ? `fields: ${escapeHtml(objectAlternatives(schema).join(''))}` : '';
  const itemFields = nested ? `<div class="items">${nested}</div>` : '';
  const where = location === undefined ? '' : `<td>${location}</td>`;
  return `<tr><td><code>${escapeHtml(name)}</code></td>${where}<td>${escapeHtml(typeLabel(schema))}${itemFields}</td><td>${notes.join(', ')}${description}</td></tr>`;
}

/** "string", "integer", "'utf8' | 'base64'", "array of string or object". */
export function typeLabel(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') return schema.$ref.split('/').pop() ?? schema.$ref;
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && schema.type === undefined) return alternatives.map((a) => typeLabel(isObject(a) ? a : {})).join(' or ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : typeof schema.type === 'string' ? schema.type : 'any';
  if (type === 'array' && isObject(schema.items)) return `array of ${typeLabel(schema.items)}`;
  return type;
}

/** "0 to 2147483647", "at least 1 character"... */
function constraintsOf(schema: JsonSchema): string[] {
  const out: string[] = [];
  const { minimum, maximum, minLength, maxLength, pattern } = schema;
  if (typeof minimum === 'number' && typeof maximum === 'number') out.push(`${minimum} to ${maximum}`);
  else if (typeof minimum === 'number') out.push(`at least ${minimum}`);
  else if (typeof maximum === 'number') out.push(`at most ${maximum}`);
  if (typeof minLength === 'number') out.push(`at least ${minLength} characters`);
  if (typeof maxLength === 'number') out.push(`at most ${maxLength} characters`);
  if (typeof pattern === 'string') out.push(`matches ${pattern}`);
  return out;
}

/** Object alternatives of an array's items, as "{message*, key, ...}" (required fields starred). */
function objectAlternatives(items: JsonSchema): string[] {
  const alternatives = Array.isArray(items.anyOf) ? items.anyOf : Array.isArray(items.oneOf) ? items.oneOf : [items];
  return alternatives.filter(isObject).map((alternative) => {
    if (!isObject(alternative.properties)) return typeLabel(alternative);
    const required = new Set(Array.isArray(alternative.required) ? alternative.required : []);
    return `{${Object.keys(alternative.properties).map((name) => (required.has(name) ? `${name}*` : name)).join(', ')}}`;
  });
}

/** `code` spans only: the notes are plain text otherwise. */
function inlineMarkdown(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --bg: #ffffff; --panel: #f5f7fa; --line: #dde2ea; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b2; --bg: #14171d; --panel: #1c2028; --line: #2d3340; } }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 960px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 16px; border-bottom: 1px solid var(--line); }
h1 small { color: var(--muted); font-weight: normal; font-size: 60%; }
nav { display: flex; flex-wrap: wrap; gap: 6px 14px; padding: 8px 0 16px; }
nav a { color: inherit; text-decoration: none; font-family: ui-monospace, monospace; font-size: 13px; }
a { color: #2f6fde; }
article { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 8px; margin: 12px 0; }
h3 { margin: 12px 0 4px; font-size: 16px; }
h4 { margin: 12px 0 4px; font-size: 13px; text-transform: uppercase; color: var(--muted); }
.summary { margin: 0 0 4px; font-weight: 600; }
.method { display: inline-block; min-width: 44px; text-align: center; border-radius: 4px; padding: 0 6px; font: 600 12px/20px ui-monospace, monospace; color: #fff; background: #6b7280; }
.method.get { background: #2f80ed; } .method.post { background: #219653; } .method.put, .method.patch { background: #d98e04; } .method.delete { background: #d64545; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
table.codes { width: auto; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
.items { color: var(--muted); font-size: 12px; }
.responses { color: var(--muted); font-size: 13px; }
`;
