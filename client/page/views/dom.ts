/**
 * The one way views build DOM: `h(tag, props, ...children)` sets properties and attributes and appends text as
 * text nodes, so nothing user-supplied (class names, file names) is ever parsed as HTML, and no inline style
 * attribute is ever written (the page's CSP forbids them). No state, no framework.
 */

type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** Attributes set with setAttribute (aria-*, data-*, for, role ...). */
  attrs?: Record<string, string | number | boolean | null | undefined>;
  /** Event listeners by event name. */
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
  [property: string]: unknown;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined) continue;
      if (key === 'class') el.className = value as string;
      else if (key === 'attrs') {
        for (const [name, attr] of Object.entries(value as NonNullable<Props['attrs']>)) {
          if (attr === null || attr === undefined || attr === false) continue;
          el.setAttribute(name, attr === true ? '' : String(attr));
        }
      } else if (key === 'on') {
        for (const [name, listener] of Object.entries(value as Record<string, EventListener>)) el.addEventListener(name, listener);
      } else {
        (el as unknown as Record<string, unknown>)[key] = value;
      }
    }
  }
  append(el, children);
  return el;
}

/** Appends children, flattening arrays and skipping null/undefined/false. */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces all children of `parent`. */
export function replace(parent: Node, ...children: (Child | Child[])[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

let idCounter = 0;
/** A document-unique id for label/aria wiring between elements a view creates. */
export function uniqueId(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// Scroll regions are tab stops only while their content overflows: keyboard users need them to scroll, and an
// extra stop on a table that fits is noise.
// Both the region and its content are watched (either can change size); this maps each to its region.
const regionOf = new WeakMap<Element, HTMLElement>();
const overflowWatcher =
  typeof ResizeObserver === 'undefined'
    ? null
    : new ResizeObserver((entries) => {
        for (const { target } of entries) {
          const region = regionOf.get(target);
          if (!region) continue;
          if (!target.isConnected) {
            overflowWatcher!.unobserve(target);
            continue;
          }
          const overflows = region.scrollWidth > region.clientWidth + 1 || region.scrollHeight > region.clientHeight + 1;
          if (overflows) region.tabIndex = 0;
          else region.removeAttribute('tabindex');
        }
      });

/** Makes `region` a tab stop (so arrow keys scroll it) exactly while it or `content` overflows it. */
export function tabStopWhileScrollable(region: HTMLElement, content?: Node): void {
  for (const watched of [region, content]) {
    if (!(watched instanceof Element) || !overflowWatcher) continue;
    regionOf.set(watched, region);
    overflowWatcher.observe(watched);
  }
}

/** A scrollable wrapper for wide tables on narrow screens. */
export function scrollRegion(label: string, content: Node): HTMLDivElement {
  const region = h('div', { class: 'scroll-x', attrs: { role: 'region', 'aria-label': label } }, content);
  tabStopWhileScrollable(region, content);
  return region;
}

/** A bar whose filled width is `fraction` (0..1); decorative, so hidden from assistive tech (text carries the value). */
export function bar(fraction: number, variant = ''): HTMLSpanElement {
  const fill = h('span', { class: 'bar-fill' });
  fill.style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 1000) / 10}%`;
  return h('span', { class: `bar ${variant}`.trim(), attrs: { 'aria-hidden': 'true' } }, fill);
}

/** Makes `zone` accept drops while `accepting()` says so, marking it 'dragging' while something hovers over it. */
export function dropZone(zone: HTMLElement, accepting: () => boolean, onDrop: (transfer: DataTransfer) => void): void {
  zone.addEventListener('dragover', (event) => {
    if (!accepting()) return;
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', (event) => {
    if (!zone.contains(event.relatedTarget as Node | null)) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    if (accepting() && event.dataTransfer) onDrop(event.dataTransfer);
  });
}
