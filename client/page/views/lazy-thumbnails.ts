/**
 * Thumbnails made when they come near the viewport (IntersectionObserver): an <img> starts without a picture,
 * and only once it is about to be seen are its bytes asked for and an object URL made. Each picture's URL is made
 * once, kept while its image is listed, and revoked when it is not: thousands of samples cost a URL only for those
 * the visitor scrolled to.
 */

/** How far outside the viewport an image starts loading: a screen's scroll ahead. */
const AHEAD = '600px';

export interface LazyThumbnails {
  /** An image of `id` that gets its picture once it is near the viewport. */
  image(id: string, alt: string): HTMLImageElement;
  /** Forgets every picture but those of `ids` (their URLs are revoked). */
  keepOnly(ids: ReadonlySet<string>): void;
}

/** `load` reads a picture's bytes (a sample's JPEG); a picture that cannot be read says so in its alt text. */
export function lazyThumbnails(load: (id: string) => Promise<Blob>): LazyThumbnails {
  const urls = new Map<string, { url: Promise<string>; made: string | null }>();
  const idOf = new WeakMap<Element, string>();

  function urlOf(id: string): Promise<string> {
    let known = urls.get(id);
    if (!known) {
      const entry: { url: Promise<string>; made: string | null } = { url: Promise.resolve(''), made: null };
      entry.url = load(id).then((blob) => {
        // Forgotten while it loaded: no URL to leak.
        if (urls.get(id) !== entry) return '';
        entry.made = URL.createObjectURL(blob);
        return entry.made;
      });
      urls.set(id, (known = entry));
    }
    return known.url;
  }

  const observer = new IntersectionObserver(
    (seen) => {
      for (const { target, isIntersecting } of seen) {
        // An image taken off the page is let go of.
        if (!target.isConnected) observer.unobserve(target);
        if (!isIntersecting || !target.isConnected) continue;
        observer.unobserve(target);
        const img = target as HTMLImageElement;
        const id = idOf.get(img)!;
        urlOf(id).then(
          (url) => url && img.isConnected && (img.src = url),
          () => (img.alt = `${img.alt} (could not be read)`),
        );
      }
    },
    { rootMargin: AHEAD },
  );

  return {
    image(id, alt) {
      const img = document.createElement('img');
      img.alt = alt;
      img.decoding = 'async';
      const made = urls.get(id)?.made;
      if (made) img.src = made;
      else {
        idOf.set(img, id);
        observer.observe(img);
      }
      return img;
    },
    keepOnly(ids) {
      for (const [id, { made }] of urls) {
        if (ids.has(id)) continue;
        if (made) URL.revokeObjectURL(made);
        urls.delete(id);
      }
    },
  };
}
