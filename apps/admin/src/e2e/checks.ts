/**
 * In-page checks of the console's layout, language and accessibility, shared by the
 * browser tests. Each returns a list of problems (empty = fine) so a failure names them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1440, height: 900 };

/** Elements wider than the viewport, text cut off where it must not be, titles and headers wrapping. */
export function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const vw = window.innerWidth;
    const problems: string[] = [];
    const name = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...el.classList].slice(0, 2).join('.')} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
    if (document.documentElement.scrollWidth > vw) problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
    for (const el of document.body.querySelectorAll('*')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || box.right <= vw + 1) continue;
      // Inside a container that scrolls or clips sideways (a table's scroll box): that container is checked instead.
      let contained = false;
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible') {
          contained = true;
          break;
        }
      }
      if (!contained) problems.push(`${name(el)} ends at ${Math.round(box.right)} px, beyond ${vw}`);
    }
    const lines = (el: Element) => el.getBoundingClientRect().height / (parseFloat(getComputedStyle(el).lineHeight) || 22);
    for (const title of document.querySelectorAll('[data-testid=page-title], .ant-card-head-title')) {
      if (lines(title) > 2.2) problems.push(`${name(title)} wraps into ${lines(title).toFixed(1)} lines`);
    }
    for (const th of document.querySelectorAll('th')) {
      if ((th.textContent ?? '').trim() && th.getBoundingClientRect().height > 64) problems.push(`table header ${name(th)} is ${Math.round(th.getBoundingClientRect().height)} px tall`);
    }
    const mustShowWhole = '[data-testid=header-badge] [data-state], .ant-statistic-title, .ant-menu-title-content, .ant-btn > span, .ant-tag';
    for (const el of document.querySelectorAll(mustShowWhole)) {
      if (el.getBoundingClientRect().width === 0) continue;
      if (el.scrollWidth > el.clientWidth + 1) problems.push(`${name(el)} is cut off (${el.scrollWidth} > ${el.clientWidth})`);
    }
    return problems;
  });
}

/**
 * Words of the other language on the page. `allowed` lists user content and identifiers
 * (usernames, node ids, message texts) that are shown as they are.
 */
export function languageProblems(page: Page, lang: 'en' | 'zh', allowed: string[]): Promise<string[]> {
  return page.evaluate(
    ({ lang, allowed }) => {
      const texts: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        // The language switch names the other language in that language, on purpose.
        if (!parent || parent.closest('[data-testid=lang-switch], script, style')) continue;
        const box = parent.getBoundingClientRect();
        if (box.width === 0 || box.height === 0 || getComputedStyle(parent).visibility === 'hidden') continue;
        texts.push(node.textContent ?? '');
      }
      let text = texts.join(' ');
      for (const word of allowed) text = text.split(word).join(' ');
      if (lang === 'en') return text.match(/[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+/g) ?? [];
      const technical = /^(Herald|BACKEND_CORS_ORIGINS|ID|kB|MB|GB|B|h264_\w+)$/;
      return (text.match(/[A-Za-z][A-Za-z_]+/g) ?? []).filter((word) => !technical.test(word));
    },
    { lang, allowed },
  );
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeProblems(page: Page): Promise<string[]> {
  await page.mouse.move(0, 0); // no hover state left over from the last click
  // Evaluated through the DevTools protocol: the console's CSP (script-src 'self') refuses an inline <script>.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.targets.join(' ')}`);
}
