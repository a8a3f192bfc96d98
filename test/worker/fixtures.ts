/**
 * Real models and photos from ../shared, prepared the way ingest stores them: the MobileNetV2 model.json
 * with a content-addressed weight file and userDefinedMetadata.graft, and a cats-vs-dogs dataset whose
 * JPEGs are packed into two content-addressed shards with a manifest.
 */
import { contentAddressedName } from '../../shared/names';
import type { DatasetManifest, ImageEntry, ModelMetadata, ModelRecord, Shard } from '../../shared/records';
import { sha256Hex } from '../../shared/sha256';
import { bytesOf } from './api';
import mobilenetJson from '../../../shared/models/mobilenet_v2_0.35_224_no_top/model.json?raw';
import mobilenetWeights from '../../../shared/models/mobilenet_v2_0.35_224_no_top/group1-shard1of1.bin?url&inline';
import cat102 from '../../../shared/datasets/cats_vs_dogs/cats/cat.102.jpg?url&inline';
import cat103 from '../../../shared/datasets/cats_vs_dogs/cats/cat.103.jpg?url&inline';
import dog0 from '../../../shared/datasets/cats_vs_dogs/dogs/dog.0.jpg?url&inline';
import dog100 from '../../../shared/datasets/cats_vs_dogs/dogs/dog.100.jpg?url&inline';

/** The model.json exactly as it is in ../shared (no graft metadata, weight file not content-addressed). */
export const ORIGINAL_MODEL_JSON: string = mobilenetJson;

export interface ModelFixture {
  weightsFile: string;
  weights: Uint8Array;
  /** model.json naming weightsFile, with userDefinedMetadata.graft. */
  modelJson: string;
  /** What GET /api/models should list for it. */
  record: ModelRecord;
}

let converted: Promise<Omit<ModelFixture, 'record'> & { graft: ModelMetadata }> | undefined;

export async function mobilenetModel(id: string): Promise<ModelFixture> {
  converted ??= convertMobilenet();
  const { graft, ...files } = await converted;
  return { ...files, record: { id, ...graft } };
}

async function convertMobilenet() {
  const weights = await bytesOf(mobilenetWeights);
  const weightsHash = await sha256Hex(weights);
  const weightsFile = contentAddressedName('group1-shard1of1', weightsHash, 'bin');
  const model = JSON.parse(mobilenetJson);
  const graft: ModelMetadata = {
    name: 'MobileNetV2 0.35 (no top)',
    inputSize: 224,
    bottleneck: 'out_relu',
    preprocessing: { scale: 1 / 127.5, offset: -1 },
    bytes: weights.byteLength,
    weightsHash,
    layers: model.modelTopology.config.layers.length,
  };
  model.weightsManifest = model.weightsManifest.map((group: object) => ({ ...group, paths: [weightsFile] }));
  model.userDefinedMetadata = { graft };
  return { weightsFile, weights, modelJson: JSON.stringify(model), graft };
}

export interface DatasetFixture {
  shards: { file: string; bytes: Uint8Array }[];
  manifest: DatasetManifest;
}

const PHOTOS = [
  { class: 'cats', file: 'cat.102.jpg', url: cat102 },
  { class: 'cats', file: 'cat.103.jpg', url: cat103 },
  { class: 'dogs', file: 'dog.0.jpg', url: dog0 },
  { class: 'dogs', file: 'dog.100.jpg', url: dog100 },
];

/** Four photos, the cats in one shard and the dogs in another. */
export async function catsAndDogs(id: string): Promise<DatasetFixture> {
  const shards: DatasetFixture['shards'] = [];
  const shardEntries: Shard[] = [];
  const images: ImageEntry[] = [];
  for (const className of ['cats', 'dogs']) {
    const photos = await Promise.all(
      PHOTOS.filter((p) => p.class === className).map(async (p) => ({ ...p, bytes: await bytesOf(p.url) })),
    );
    let end = 0;
    const offsets = photos.map((photo) => {
      const offset = end;
      end += photo.bytes.byteLength;
      return offset;
    });
    const packed = new Uint8Array(end);
    photos.forEach((photo, i) => packed.set(photo.bytes, offsets[i]));
    const sha256 = await sha256Hex(packed);
    const file = contentAddressedName(`${className}-0`, sha256, 'bin');
    for (const [i, photo] of photos.entries()) {
      images.push({
        id: await sha256Hex(photo.bytes),
        class: className,
        shard: file,
        offset: offsets[i]!,
        length: photo.bytes.byteLength,
        file: photo.file,
        type: 'image/jpeg',
      });
    }
    shards.push({ file, bytes: packed });
    shardEntries.push({ file, bytes: packed.byteLength, sha256 });
  }
  return {
    shards,
    manifest: { version: 1, id, name: 'Cats vs dogs (4 photos)', classes: ['cats', 'dogs'], shards: shardEntries, images },
  };
}
