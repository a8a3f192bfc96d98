/**
 * Hands a file made in the page to the browser's downloads (nothing is uploaded): the classifier's files, the
 * visitor's classes as a zip.
 */
export function saveFile(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
