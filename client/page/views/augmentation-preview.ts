/**
 * Step 3: one training image next to nine augmented views of it (flip, rotation, zoom), exactly as the farm
 * computes them, so the visitor sees what augmentation does before paying for it.
 */
import { h, replace } from './dom';
import { imageElement, type ImageSource } from './image-source';

export interface AugmentationPreview {
  /** null: nothing to show (no dataset, or augmentation off). */
  update(preview: { original: ImageSource; views: ImageSource[]; label?: string } | null): void;
}

export function mountAugmentationPreview(el: HTMLElement): AugmentationPreview {
  const heading = h('h3', { class: 'subheading' }, 'Augmentation');
  const update: AugmentationPreview['update'] = (preview) => {
    if (!preview) {
      replace(el, heading, h('p', { class: 'muted' }, 'Augmented views of a training image appear here when augmentation is on.'));
      return;
    }
    const name = preview.label ? `the ${preview.label} image` : 'the image';
    replace(
      el,
      heading,
      h(
        'div',
        { class: 'augment' },
        h('figure', { class: 'thumb augment-original' }, imageElement(preview.original, `Original: ${name}`), h('figcaption', null, 'Original')),
        h(
          'figure',
          { class: 'augment-views' },
          h(
            'ul',
            { class: 'augment-grid' },
            preview.views.map((v, i) => h('li', null, imageElement(v, `Augmented view ${i + 1} of ${name}`))),
          ),
          h('figcaption', null, `${preview.views.length} augmented views: random flip, rotation and zoom`),
        ),
      ),
    );
  };
  update(null);
  return { update };
}
