/**
 * What a visitor on a narrow screen notices of a page's layout (browser tests): text that sticks out of its panel
 * sideways, or is cut off by a box that hides its overflow ("sunflo…"). Text in a table cell or a code block
 * inside a box that scrolls sideways is left out: such tables and code scroll by design.
 */
import type { Frame, Page } from 'playwright-core';

/**
 * Each piece of visible text in `main` that does not lie wholly inside its panel (the nearest `.step`), or inside
 * a box on its way there that hides or scrolls its overflow: "“text” sticks out of its panel by N px" or
 * "“text” is cut off by N px". Empty when everything reads whole.
 */
export function textOutsideItsBox(page: Page | Frame): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const walker = document.createTreeWalker(document.querySelector('main') ?? document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.trim() ?? '';
      const parent = node.parentElement;
      if (!text || !parent || parent.closest('script, style, noscript, template, option, .visually-hidden')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
      if (rects.length === 0) continue;
      const left = Math.min(...rects.map((r) => r.left));
      const right = Math.max(...rects.map((r) => r.right));
      const label = `“${text.length > 40 ? `${text.slice(0, 40)}…` : text}”`;
      for (let box: Element | null = parent; box; box = box.parentElement) {
        const style = getComputedStyle(box);
        const panel = box.matches('.step');
        const hides = style.overflowX !== 'visible';
        if (!panel && !hides) continue;
        const scrolls = style.overflowX === 'auto' || style.overflowX === 'scroll';
        if (!panel && scrolls && parent.closest('td, th, pre')) break;
        const outer = box.getBoundingClientRect();
        const inner = panel
          ? { left: outer.left + box.clientLeft + parseFloat(style.paddingLeft), right: outer.left + box.clientLeft + box.clientWidth - parseFloat(style.paddingRight) }
          : { left: outer.left + box.clientLeft, right: outer.left + box.clientLeft + box.clientWidth };
        const out = Math.max(inner.left - left, right - inner.right);
        if (out > 1) problems.push(`${label} ${panel ? 'sticks out of its panel' : 'is cut off'} by ${Math.round(out)} px`);
        break;
      }
    }
    return problems;
  });
}
