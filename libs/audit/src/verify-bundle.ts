import { type BundleSource, type Verdict, type VerifyOptions, verifyBundleSource } from './bundle-verifier';

/** A bundle held in memory, file name → content: for tests and small tools. */
export function memoryBundle(files: Readonly<Record<string, string | Uint8Array>>): BundleSource {
  return {
    names: Object.keys(files),
    async *open(name: string) {
      const content = files[name];
      yield typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    },
  };
}

export function verifyBundle(files: Readonly<Record<string, string | Uint8Array>>, options?: VerifyOptions): Promise<Verdict> {
  return verifyBundleSource(memoryBundle(files), options);
}
