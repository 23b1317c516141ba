/**
 * The whole flow a new user tries, in a real browser (Playwright driving
 * Debian's Chromium) against the whole stack started by scripts/start.sh:
 * sign in, run "Create a tenant" and "Deploy a container image" from the
 * Create page, open the app's entity page, see the URL and Ready, pause and
 * resume, and look at the tenant page. Screenshots go to .paved/e2e/.
 */
import fs from 'fs';
import path from 'path';
import { Browser, chromium, Page } from 'playwright-core';
import { APP_URL, REPO_ROOT, RunningStack, startStack } from './stack';

const SCREENSHOTS = path.join(REPO_ROOT, '.paved', 'e2e');
const CHROMIUM = process.env.PAVED_CHROMIUM ?? '/usr/bin/chromium';
// Unique names, so the test can run again against the same (persistent) stack.
const RUN = Math.random().toString(36).slice(2, 6);
const TENANT = `e2e-${RUN}`;
const APP = `hello-${RUN}`;

jest.setTimeout(10 * 60_000);

describe('Paved in a browser', () => {
  let stack: RunningStack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startStack(8 * 60_000);
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
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const shot = (name: string) =>
    page.screenshot({
      path: path.join(SCREENSHOTS, `${name}.png`),
      fullPage: true,
    });

  async function openTemplate(title: string) {
    await page.getByRole('link', { name: 'Create' }).first().click();
    const card = page
      .locator('div')
      .filter({ has: page.getByText(title, { exact: true }) })
      .filter({ has: page.getByRole('button', { name: 'Choose' }) });
    await card.last().getByRole('button', { name: 'Choose' }).click();
  }

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
    expect(await page.getByText(`tenant-${TENANT}`).count()).toBeGreaterThan(0);
    await shot('1-tenant-created');
  });

  it('deploys an image with the "Deploy a container image" template and gets a URL', async () => {
    await openTemplate('Deploy a container image');
    await page.getByTestId('paved-tenant-picker').click();
    await page
      .getByRole('option', { name: new RegExp(`\\(${TENANT}\\)`) })
      .click();
    await page.locator('#root_name').fill(APP);
    await page
      .locator('#root_image')
      .fill('ghcr.io/knative/helloworld-go:latest');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Create' }).click();
    await page
      .getByRole('link', { name: /open in catalog/i })
      .waitFor({ timeout: 120_000 });
    await shot('2-app-deployed');
    const log = await page.locator('body').innerText();
    expect(log).toContain(
      `${TENANT}/${APP} is Ready at http://${APP}.tenant-${TENANT}.`,
    );
  });

  it("shows the URL and Ready on the app's entity page, and pauses and resumes", async () => {
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
    const phase = page.getByTestId('paved-phase').first();
    await expect(phase.innerText()).resolves.toMatch(/Ready|Deploying|Pending/);
    await page.getByText('Ready', { exact: true }).first().waitFor();
    const url = await page.getByTestId('paved-url').getAttribute('href');
    expect(url).toBe(`http://${APP}.tenant-${TENANT}.127.0.0.1.sslip.io`);
    await page.getByTestId('paved-simulated-notice').waitFor();
    await shot('3-entity-page-ready');

    await page.getByRole('button', { name: 'Pause' }).click();
    await page
      .locator('[data-testid="paved-phase"]', { hasText: 'Paused' })
      .first()
      .waitFor();
    await shot('4-entity-page-paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page
      .locator('[data-testid="paved-phase"]', { hasText: 'Ready' })
      .first()
      .waitFor();
  });

  it('shows the tenant with its quota and the app', async () => {
    await page.getByRole('link', { name: 'Tenants' }).first().click();
    await page.getByRole('link', { name: `E2E ${RUN}` }).click();
    await page.getByText(APP, { exact: true }).waitFor();
    await page.getByText(/^Apps 1 \/ 10$/).waitFor();
    await shot('5-tenant-page');
    expect(
      await page
        .getByText(
          `Owner group:default/team-a · plan starter · namespace tenant-${TENANT}`,
        )
        .count(),
    ).toBe(1);
  });
});
