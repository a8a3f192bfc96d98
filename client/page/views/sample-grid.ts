/**
 * Step 3: a grid of dataset images with their class labels, so the visitor sees what the classes look like.
 */
import { h, replace } from './dom';
import { imageElement, type ImageSource } from './image-source';

export interface Sample {
  url: ImageSource;
  label: string;
}

export interface SampleGrid {
  update(samples: Sample[] | null): void;
}

export function mountSampleGrid(el: HTMLElement): SampleGrid {
  const heading = h('h3', { class: 'subheading' }, 'Samples');
  const update = (samples: Sample[] | null): void => {
    if (!samples || samples.length === 0) {
      replace(el, heading, h('p', { class: 'muted' }, samples ? 'This dataset has no images to show.' : 'Choose a dataset to see some of its images.'));
      return;
    }
    replace(
      el,
      heading,
      h(
        'ul',
        { class: 'thumb-grid' },
        samples.map((s) => h('li', null, h('figure', { class: 'thumb' }, imageElement(s.url, s.label), h('figcaption', null, s.label)))),
      ),
    );
  };
  update(null);
  return { update };
}
