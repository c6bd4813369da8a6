// What every script here shares: settings, recorded SDK calls, checks, and the one-line JSON summary.
//
// Settings come from the environment as KIBO_<NAME>, or from --name=value arguments that override it.
// A script's first argument that is not an option names its command. The summary on stdout is
// {"ok": true, command, checks, calls, ...result}; any failed call or check prints {"ok": false, ...}
// and exits 1.

import { Configuration } from '@kibocommerce/rest-sdk';

const argv = process.argv.slice(2);
export const command = argv.find((a) => !a.startsWith('--'));
const options = Object.fromEntries(
  argv.filter((a) => a.startsWith('--') && a.includes('=')).map((a) => {
    const [name, ...rest] = a.slice(2).split('=');
    return [name.toUpperCase().replaceAll('-', '_'), rest.join('=')];
  }),
);

export function setting(name) {
  const value = options[name] ?? process.env[`KIBO_${name}`];
  if (!value) throw new Error(`missing setting KIBO_${name} (or --${name.toLowerCase().replaceAll('_', '-')}=...)`);
  return value;
}

/** The SDK's configuration for the service: apiHost, tenant, site, and a bearer token (by default the app's). */
export function configuration(accessToken = setting('ACCESS_TOKEN')) {
  return new Configuration({ apiHost: setting('API_HOST'), tenantId: setting('TENANT_ID'), siteId: setting('SITE_ID'), accessToken });
}

const calls = [];
let checks = 0;

export function check(condition, message, detail) {
  checks += 1;
  if (!condition) throw new Error(`check failed: ${message}${detail === undefined ? '' : ` -- got ${JSON.stringify(detail)}`}`);
}

export function equal(actual, expected, message) {
  check(JSON.stringify(actual) === JSON.stringify(expected), `${message}: expected ${JSON.stringify(expected)}`, actual);
}

export function isKiboDate(value, message) {
  check(typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) && !Number.isNaN(Date.parse(value)),
    `${message} is an ISO date-time`, value);
}

/** Calls one SDK method and records it; `expect` is an error status the call must fail with. */
export async function call(api, method, params, expect) {
  try {
    const result = await api[method](params);
    calls.push({ method, ok: true });
    if (expect) throw new Error(`${method} succeeded, expected HTTP ${expect.status}`);
    return result;
  } catch (error) {
    if (!expect || error.name !== 'ResponseError') {
      calls.push({ method, ok: false, error: String(error) });
      if (error.name === 'ResponseError') {
        error.message = `${method}: HTTP ${error.response.status} ${JSON.stringify(error.apiError)}`;
      }
      throw error;
    }
    calls.push({ method, ok: true, status: error.response.status, errorCode: error.apiError?.errorCode });
    equal(error.response.status, expect.status, `${method} error status`);
    equal(error.apiError?.errorCode, expect.errorCode, `${method} errorCode`);
    check(typeof error.message === 'string' && error.message.length > 0, `${method} error has a message`);
    check(typeof error.response.correlationId === 'string' && error.response.correlationId.length > 0,
      `${method} error carries x-vol-correlation`, error.response.correlationId);
    return undefined;
  }
}

/** Runs the named command (or `fallback`) and prints the summary. */
export async function main(commands, fallback) {
  const name = command ?? fallback;
  try {
    if (!commands[name]) throw new Error(`unknown command ${name}; use one of ${Object.keys(commands).join(', ')}`);
    const result = await commands[name]();
    process.stdout.write(JSON.stringify({ ok: true, command: name, checks, calls, ...result }) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify({ ok: false, command: name, checks, calls, error: String(error?.stack ?? error) }) + '\n');
    process.exitCode = 1;
  }
}
