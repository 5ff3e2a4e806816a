// The Swagger UI at /docs in a real (headless) Chromium: it loads under helmet's headers, lists every
// operation of /docs-json, and its "Authorize" + "Try it out" flow creates a Capp in the cluster.
import { CHROMIUM_ARGS, ensureChromium } from '@capp/testing';
import { type Browser, chromium, type Page } from 'playwright-core';

import {
  type AnyJson,
  cluster,
  clusterCapp,
  createNamespace,
  eventually,
  startTestApi,
  suffix,
  type TestApi,
} from '../testing/api-fixture';
import { API_EXAMPLES } from './openapi';

/** A non-loopback host name Chromium resolves to 127.0.0.1 (browsers treat loopback specially). */
const DOCS_HOST = 'capp-api.test';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface PageProblems {
  errors: string[];
  failed: string[];
  csp: string[];
}

/** Uncaught errors, failed requests and Content-Security-Policy violations seen by a page. */
function watch(page: Page): PageProblems {
  const problems: PageProblems = { errors: [], failed: [], csp: [] };
  page.on('pageerror', (err) => problems.errors.push(err.message));
  page.on('requestfailed', (req) => problems.failed.push(`${req.url()}: ${req.failure()?.errorText}`));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) problems.csp.push(msg.text());
  });
  return problems;
}

async function open(browser: Browser, url: string): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  const problems = watch(page);
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  return { page, problems };
}

/** "METHOD /path" of every operation the UI shows. */
async function listedOperations(page: Page): Promise<string[]> {
  await page.locator('.opblock').first().waitFor();
  const ops = await page
    .locator('.opblock')
    .evaluateAll((blocks) =>
      blocks.map(
        (b) =>
          `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b
            .querySelector('.opblock-summary-path')
            ?.getAttribute('data-path')}`,
      ),
    );
  return ops.sort();
}

describe('Swagger UI (/docs) in headless Chromium', () => {
  let api: TestApi;
  let browser: Browser;
  let documented: string[];
  let doc: AnyJson;
  let ns: string;

  beforeAll(async () => {
    const [started, executablePath] = await Promise.all([
      startTestApi({ AUTH_MODE: 'kubernetes', LOG_LEVEL: 'warn' }),
      ensureChromium(),
    ]);
    api = started;
    browser = await chromium.launch({
      executablePath,
      args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${DOCS_HOST} 127.0.0.1`],
    });
    ns = `docs-${suffix()}`;
    await createNamespace(ns);
    const res = await api.request<AnyJson>('GET', '/docs-json');
    expect(res.status).toBe(200);
    doc = res.body;
    documented = Object.entries<Record<string, unknown>>(doc.paths)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('/docs-json documents the error envelope, the bearer scheme and example bodies', () => {
    expect(documented).toContain('POST /api/v1/namespaces/{ns}/capps');
    expect(documented.length).toBeGreaterThanOrEqual(11);
    const error = doc.components.schemas.Error;
    expect(error.required).toEqual(expect.arrayContaining(['statusCode', 'error', 'message', 'details']));
    expect(Object.keys(error.properties.details.items.properties)).toEqual(['path', 'rule', 'message']);
    const create = doc.paths['/api/v1/namespaces/{ns}/capps'].post;
    for (const status of ['400', '401', '403', '409'])
      expect(create.responses[status].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/Error',
      });
    const examples = create.requestBody.content['application/json'].examples;
    expect(Object.keys(examples).length).toBeGreaterThanOrEqual(1);
    expect(examples.minimal.value).toEqual(API_EXAMPLES.create.minimal.value);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('loads and lists every documented operation, without errors or CSP violations', async () => {
    const { page, problems } = await open(browser, `${api.url}/docs`);
    expect(await page.title()).toBe('Capp platform API');
    expect(await listedOperations(page)).toEqual(documented);
    expect(problems).toEqual({ errors: [], failed: [], csp: [] });
    await page.close();
  });

  it('loads over plain HTTP under a non-loopback host name (no forced https upgrade)', async () => {
    const { page, problems } = await open(browser, `http://${DOCS_HOST}:${new URL(api.url).port}/docs`);
    expect(await listedOperations(page)).toEqual(documented);
    expect(problems).toEqual({ errors: [], failed: [], csp: [] });
    await page.close();
  });

  it('"Authorize" with a bearer token, then "Try it out" on POST creates the example Capp', async () => {
    const { page, problems } = await open(browser, `${api.url}/docs`);
    const create = page.locator('#operations-capps-CappsController_create_v1');
    await create.locator('.opblock-summary').click();
    await create.getByRole('button', { name: 'Try it out' }).click();
    await create.locator('tr[data-param-name="ns"] input').fill(ns);
    // The documented example is the body (untouched): a Capp named "hello".
    const body = JSON.parse(await create.locator('textarea.body-param__text').inputValue());
    expect(body).toEqual(API_EXAMPLES.create.minimal.value);
    const status = create.locator('.live-responses-table tbody .response-col_status');

    // Not authorized yet: the API answers 401 (the UI sends no token).
    await create.getByRole('button', { name: 'Execute' }).click();
    await expect(status.textContent()).resolves.toMatch(/401/);

    // The "Authorize" dialog: the token goes into every request as `Authorization: Bearer …`.
    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('input').fill(cluster().adminToken ?? '');
    await dialog.getByRole('button', { name: 'Apply credentials' }).click();
    await dialog.getByRole('button', { name: 'Remove authorization' }).waitFor(); // "Logout": authorized
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    expect(await page.locator('.auth-wrapper button.authorize').getAttribute('class')).toMatch(/\blocked\b/);

    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith(`/${ns}/capps`));
    await create.getByRole('button', { name: 'Execute' }).click();
    expect((await sent).headers()['authorization']).toBe(`Bearer ${cluster().adminToken}`);
    await status.filter({ hasText: /^20[12]$/ }).waitFor();
    const shown = JSON.parse(
      await create.locator('.live-responses-table .response-col_description pre').first().innerText(),
    );
    expect(shown).toMatchObject({ metadata: { name: 'hello', namespace: ns } });

    // 201: the cluster has it already; 202: it follows within seconds.
    const cr = await eventually('the Capp in the cluster', () => clusterCapp(ns, 'hello'));
    expect(cr?.['spec'].configurationSpec.template.spec.containers[0].image).toBe(
      'ghcr.io/dana-team/capp-gin-app:v0.2.0',
    );
    const got = await api.request<AnyJson>('GET', `/api/v1/namespaces/${ns}/capps/hello`, {
      token: cluster().adminToken,
    });
    expect(got.status).toBe(200);
    expect(got.body.metadata.labels).toEqual({ app: 'hello' });
    expect(problems.errors).toEqual([]);
    expect(problems.csp).toEqual([]);
    await page.close();
  });
});
