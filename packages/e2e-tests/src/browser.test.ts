/**
 * The whole journey a new user takes, in a real browser (Playwright driving
 * Debian's Chromium) against the whole real stack started by
 * scripts/start.sh: sign in, create a tenant, deploy the example image with
 * "Deploy a container image", see Ready and the URL on the app's entity page,
 * open the URL and read the container's own answer, set an env var and see
 * a new revision answer, pause and resume, watch the app scale to zero when
 * idle and wake on the next request. Screenshots go to .paved/e2e/.
 */
import fs from 'fs';
import path from 'path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { eventually } from '@paved/test-cluster';
import {
  APP_URL,
  REPO_ROOT,
  RunningStack,
  ingressPort,
  kubectl,
  startStack,
} from './stack';

const SCREENSHOTS = path.join(REPO_ROOT, '.paved', 'e2e');
const CHROMIUM = process.env.PAVED_CHROMIUM ?? '/usr/bin/chromium';
// Unique names, so the test can run again against the same (persistent) stack.
const RUN = Math.random().toString(36).slice(2, 6);
const TENANT = `e2e-${RUN}`;
const APP = `hello-${RUN}`;
const NAMESPACE = `tenant-${TENANT}`;
const APP_HOST = `${APP}.${NAMESPACE}.localhost`;
const EXAMPLE_IMAGE = 'registry.localhost/paved/hello:1.0.0';
const GREETING = `Paved ${RUN}`;

// Short autoscaler windows, so that an idle app scales to zero within the
// run (Knative's defaults take a minute and a half). Against a stack started
// elsewhere (PAVED_E2E_URL) they don't apply, and the wait is longer.
const CLUSTER_ARGS = [
  '--autoscaler',
  'stable-window=6s',
  '--autoscaler',
  'scale-to-zero-grace-period=6s',
  '--autoscaler',
  'scale-to-zero-pod-retention-period=0s',
];

// Starting the stack can wait for the machine's one real node while other
// suites use it; the journey itself takes a few minutes.
const STACK_TIMEOUT_MS = 40 * 60_000;
jest.setTimeout(10 * 60_000);

/** Polls of the running stack: once a second. */
const EVERY_SECOND = { intervalMs: 1000 };

/** The app's pods, read from the Kubernetes API (terminating ones too). */
async function appPods(): Promise<string[]> {
  const list = JSON.parse(
    await kubectl(
      'get',
      'pods',
      '--namespace',
      NAMESPACE,
      '--selector',
      `serving.knative.dev/service=${APP}`,
      '--output',
      'json',
    ),
  );
  return list.items.map((pod: any) => pod.metadata.name);
}

describe('Paved in a browser', () => {
  let stack: RunningStack;
  let browser: Browser;
  let page: Page;
  // The tab that opens the app's URL. When Traefik is not on port 80 the
  // URL needs a port it does not carry, so that tab's context sends its
  // requests through Traefik as an HTTP proxy (it routes by Host either way).
  let appContext: BrowserContext;
  let appPage: Page;
  let url: string;

  beforeAll(async () => {
    fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startStack(STACK_TIMEOUT_MS, CLUSTER_ARGS);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(60_000);
    const port = ingressPort();
    appContext = await browser.newContext({
      viewport: { width: 900, height: 500 },
      ...(port === 80 ? {} : { proxy: { server: `http://127.0.0.1:${port}` } }),
    });
    appPage = await appContext.newPage();
  }, STACK_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 240_000);

  const shot = (name: string, on: Page = page) =>
    on.screenshot({
      path: path.join(SCREENSHOTS, `${name}.png`),
      fullPage: true,
    });

  /** Opens the app's URL in its tab: the status and the text of the answer. */
  async function openApp(): Promise<{ status: number; text: string }> {
    const response = await appPage.goto(url, { timeout: 60_000 });
    return {
      status: response?.status() ?? 0,
      text: await appPage.locator('body').innerText(),
    };
  }

  /** Reloads the app's URL until its answer says `expected`. */
  async function appAnswers(expected: RegExp, timeoutMs = 120_000) {
    return eventually(
      `${url} to answer ${expected}`,
      async () => {
        const answer = await openApp();
        return answer.status === 200 && expected.test(answer.text)
          ? answer
          : undefined;
      },
      timeoutMs,
      EVERY_SECOND,
    );
  }

  async function openTemplate(title: string) {
    await page.getByRole('link', { name: 'Create' }).first().click();
    const card = page
      .locator('div')
      .filter({ has: page.getByText(title, { exact: true }) })
      .filter({ has: page.getByRole('button', { name: 'Choose' }) });
    await card.last().getByRole('button', { name: 'Choose' }).click();
  }

  const phaseChip = (phase: string) =>
    page.locator('[data-testid="paved-phase"]', { hasText: phase }).first();

  it('signs in as the guest', async () => {
    await page.goto(APP_URL);
    await page.getByRole('button', { name: /enter/i }).first().click();
    await page.getByRole('link', { name: 'Create' }).first().waitFor();
    expect(
      await page.getByRole('link', { name: 'Catalog' }).count(),
    ).toBeGreaterThan(0);
  });

  it('creates a tenant with the "Create a tenant" template', async () => {
    await openTemplate('Create a tenant');
    await page.locator('#root_name').fill(TENANT);
    await page.locator('#root_displayName').fill(`E2E ${RUN}`);
    // The guest is in one group, which MyGroupsPicker then picks by itself.
    const owner = page.locator('#OwnershipEntityRefPicker-dropdown');
    await owner.waitFor();
    if (await owner.isEnabled()) {
      await owner.click();
      await page.getByRole('option', { name: /team-a/ }).click();
    }
    await page.getByTestId('paved-plan-picker').click();
    await page.getByRole('option', { name: /^starter/ }).click();
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText(`Your tenant's namespace is`).waitFor();
    expect(await page.getByText(NAMESPACE).count()).toBeGreaterThan(0);
    await shot('1-tenant-created');
  });

  it('deploys the example image with the "Deploy a container image" template and gets a URL', async () => {
    await openTemplate('Deploy a container image');
    await page.getByTestId('paved-tenant-picker').click();
    await page
      .getByRole('option', { name: new RegExp(`\\(${TENANT}\\)`) })
      .click();
    await page.locator('#root_name').fill(APP);
    // The template suggests the example app, which the local stack has.
    expect(await page.locator('#root_image').inputValue()).toBe(EXAMPLE_IMAGE);
    expect(await page.locator('#root_port').inputValue()).toBe('8080');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Create' }).click();
    // The action waits until the real Knative Service is Ready.
    await page
      .getByRole('link', { name: /open in catalog/i })
      .waitFor({ timeout: 300_000 });
    await shot('2-app-deployed');
    const log = await page.locator('body').innerText();
    expect(log).toContain(`${TENANT}/${APP} is Ready at http://${APP_HOST}`);
  });

  it("shows Ready and the URL on the app's entity page", async () => {
    // The catalog picks the app up on its next refresh of the Paved entity
    // provider (every 10 s); until then, go back to the task and try again.
    for (let attempt = 0; ; attempt++) {
      await page.getByRole('link', { name: /open in catalog/i }).click();
      const tab = page.getByRole('link', { name: 'Deployment', exact: true });
      try {
        await tab.waitFor({ timeout: 5000 });
        await tab.click();
        break;
      } catch (error) {
        if (attempt >= 12) {
          await shot('3-entity-page-missing');
          throw new Error(
            `the app never appeared in the catalog (at ${page.url()})`,
          );
        }
        await page.goBack();
      }
    }
    await phaseChip('Ready').waitFor();
    url = (await page.getByTestId('paved-url').getAttribute('href'))!;
    expect(url).toBe(`http://${APP_HOST}`);
    await shot('3-entity-page-ready');
  });

  it("opens the URL and gets the container's own answer", async () => {
    const answer = await appAnswers(/^Hello, world!/);
    // Knative tells each pod its revision; the example app prints it.
    expect(answer.text).toContain(`K_REVISION=${APP}-00001`);
    await shot('4-app-answers', appPage);
  });

  it('sets an env var on the entity page, and a new revision answers with it', async () => {
    await page.getByLabel('Name').fill('GREETING');
    await page.getByLabel('Value').fill(GREETING);
    await page.getByRole('button', { name: 'Set' }).click();
    // The env table lists it once the backend has saved it.
    await page.getByRole('cell', { name: GREETING, exact: true }).waitFor();
    const answer = await appAnswers(new RegExp(`^Hello, ${GREETING}!`));
    expect(answer.text).toContain(`K_REVISION=${APP}-00002`);
    await shot('5-app-answers-new-revision', appPage);
    await phaseChip('Ready').waitFor();
    await page.getByText(`(serving ${APP}-00002)`).waitFor();
  });

  it('pauses (the URL stops answering) and resumes (it answers again)', async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await phaseChip('Paused').waitFor();
    await shot('6-entity-page-paused');
    // A paused app has no Knative Service, so the ingress has no route.
    const paused = await eventually(
      `${url} to stop answering while paused`,
      async () => {
        const answer = await openApp();
        return answer.status === 404 ? answer : undefined;
      },
      60_000,
      EVERY_SECOND,
    );
    expect(paused.text).not.toMatch(/^Hello/);
    await page.getByRole('button', { name: 'Resume' }).click();
    await phaseChip('Ready').waitFor({ timeout: 180_000 });
    // Resuming makes the Knative Service anew, so its revisions count from 1.
    const resumed = await appAnswers(new RegExp(`^Hello, ${GREETING}!`));
    expect(resumed.text).toContain(`K_REVISION=${APP}-`);
  });

  it('scales to zero when idle, and the next request wakes it', async () => {
    expect((await appPods()).length).toBeGreaterThan(0);
    // No request from here on: leave the app's tab.
    await appPage.goto('about:blank');
    const idleSince = Date.now();
    await eventually(
      'the idle app to have no pods',
      async () => (await appPods()).length === 0,
      5 * 60_000,
      EVERY_SECOND,
    );
    const idleMs = Date.now() - idleSince;
    await shot('7-entity-page-scaled-to-zero');

    // Through the activator, which holds the request until a pod is up.
    const wakeStarted = Date.now();
    const answer = await openApp();
    const wakeMs = Date.now() - wakeStarted;
    expect(answer.status).toBe(200);
    expect(answer.text).toMatch(new RegExp(`^Hello, ${GREETING}!`));
    expect((await appPods()).length).toBeGreaterThan(0);
    await shot('8-app-woken', appPage);
    // eslint-disable-next-line no-console
    console.log(
      `${APP}: no pods ${Math.round(
        idleMs / 1000,
      )}s after the last request; the next request answered in ${wakeMs} ms`,
    );
  });

  it('shows the tenant with its quota and the app', async () => {
    await page.getByRole('link', { name: 'Tenants' }).first().click();
    await page.getByRole('link', { name: `E2E ${RUN}` }).click();
    await page.getByText(APP, { exact: true }).waitFor();
    await page.getByText(/^Apps 1 \/ 10$/).waitFor();
    await shot('9-tenant-page');
    expect(
      await page
        .getByText(
          `Owner group:default/team-a · plan starter · namespace ${NAMESPACE}`,
        )
        .count(),
    ).toBe(1);
  });
});
