/**
 * The page's entry: creates the session and, until the views mount, a minimal status line.
 * `window.graft` exposes the session to the browser tests and to curious visitors' consoles.
 */
import { Session } from './session';

const session = new Session();
declare global {
  interface Window {
    graft: { session: Session };
  }
}
window.graft = { session };
document.querySelector('#app p')!.textContent = 'Graft is ready.';
