/**
 * Turns the paths of a dropped or picked folder into "<class>/<file>" paths and checks the one-subfolder-per-class
 * layout, so the picker can say in plain words what is wrong before anything is read. Pure, no DOM.
 */

/** Extensions browsers decode and ingest accepts. */
const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'avif']);

/** Fewer images than this in a class gets a warning: the validation split would hold one or none of them. */
export const FEW_IMAGES = 5;

export interface FolderSummary {
  classes: { name: string; count: number }[];
  /** Indices (into the paths given) of the files to use. */
  accepted: number[];
  ignored: { path: string; reason: string }[];
  /** Why the folder cannot be used, or null. */
  problem: string | null;
  warnings: string[];
}

/**
 * Strips a leading "/" (drag-and-drop entries) and the picked folder's own name (webkitRelativePath
 * "flowers/daisy/1.jpg", or a dropped "flowers" folder) so every path starts with its class folder.
 * The first folder is the picked one when every path starts with it and some path goes deeper; paths of class
 * folders dropped side by side ("daisy/1.jpg", "roses/2.jpg"), or of a single class folder, are kept as they are.
 */
export function toClassPaths(rawPaths: readonly string[]): string[] {
  const paths = rawPaths.map((p) => p.replace(/\\/g, '/').replace(/^\/+/, ''));
  if (paths.length === 0) return paths;
  const first = paths[0].split('/')[0];
  const underOneRoot = paths.every((p) => p.startsWith(`${first}/`)) && paths.some((p) => p.split('/').length >= 3);
  return underOneRoot ? paths.map((p) => p.slice(first.length + 1)) : paths;
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** Sorts files into classes by their first folder and says whether the result can be trained on. */
export function summariseFolder(classPaths: readonly string[]): FolderSummary {
  const counts = new Map<string, number>();
  const accepted: number[] = [];
  const ignored: FolderSummary['ignored'] = [];
  classPaths.forEach((path, index) => {
    const parts = path.split('/');
    const name = parts[parts.length - 1];
    if (parts.some((part) => part.startsWith('.'))) {
      ignored.push({ path, reason: 'hidden file' });
    } else if (parts.length < 2) {
      ignored.push({ path, reason: 'not inside a class folder' });
    } else if (!IMAGE_EXTENSIONS.has(extension(name))) {
      ignored.push({ path, reason: 'not a JPEG, PNG, WebP, GIF, BMP or AVIF image' });
    } else {
      counts.set(parts[0], (counts.get(parts[0]) ?? 0) + 1);
      accepted.push(index);
    }
  });
  const classes = [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => a.name.localeCompare(b.name, 'en'));
  const warnings = classes
    .filter((c) => c.count < FEW_IMAGES)
    .map((c) => `“${c.name}” has only ${c.count} ${c.count === 1 ? 'image' : 'images'}: results for it will be unreliable.`);
  let problem: string | null = null;
  if (classPaths.length === 0) problem = 'The folder is empty.';
  else if (classes.length === 0) {
    problem =
      'No photos inside class folders were found. Put the photos of each class in its own subfolder, ' +
      'for example flowers/daisy/1.jpg and flowers/roses/2.jpg, and choose the “flowers” folder.';
  } else if (classes.length === 1) {
    problem = `Only one class folder (“${classes[0].name}”) was found: a classifier needs at least two, one subfolder per class.`;
  }
  return { classes, accepted, ignored, problem, warnings };
}
