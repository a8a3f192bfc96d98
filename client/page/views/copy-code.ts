/**
 * A "Copy" button for a block of code, and the note beside it that says what happened: copied, or (the clipboard
 * refused: permissions, an insecure page) the code selected for a manual copy.
 */
import { h } from './dom';

export function copyControl(code: HTMLElement, label = 'Copy code'): { button: HTMLButtonElement; note: HTMLSpanElement; reset(): void } {
  const button = h('button', { type: 'button', class: 'button small' }, label);
  const note = h('span', { class: 'muted small', attrs: { 'aria-live': 'polite' } });
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(code.textContent ?? '');
      note.textContent = 'Copied.';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      note.textContent = 'Copying was refused: the code is selected, press Ctrl+C (⌘C on a Mac).';
    }
  });
  return { button, note, reset: () => (note.textContent = '') };
}
