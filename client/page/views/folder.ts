/**
 * What the dataset picker says of a picked or dropped folder, as the one class-folder reading
 * (shared/class-folders.ts) reads it: why it cannot be trained on, and which classes have too few images for the
 * validation split. Pure, no DOM.
 */
import type { ClassFolders } from '../../../shared/class-folders';

/** Fewer images than this in a class gets a warning: the validation split would hold one or none of them. */
export const FEW_IMAGES = 5;

/** Why a folder of `entries` files read as `folders` cannot be used, or null. */
export function folderProblem(entries: number, folders: ClassFolders): string | null {
  const { classes } = folders;
  if (entries === 0) return 'The folder is empty.';
  if (classes.length === 0) {
    return (
      'No photos inside class folders were found. Put the photos of each class in its own subfolder, ' +
      'for example flowers/daisy/1.jpg and flowers/roses/2.jpg, and choose the “flowers” folder.'
    );
  }
  if (classes.length === 1) return `Only one class folder (“${classes[0].name}”) was found: a classifier needs at least two, one subfolder per class.`;
  return null;
}

/** One warning per class with fewer than FEW_IMAGES images. */
export function folderWarnings(folders: ClassFolders): string[] {
  return folders.classes
    .filter((c) => c.files.length < FEW_IMAGES)
    .map((c) => `“${c.name}” has only ${c.files.length} ${c.files.length === 1 ? 'image' : 'images'}: results for it will be unreliable.`);
}
