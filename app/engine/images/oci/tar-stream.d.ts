// The parts of tar-stream 2.x (untyped) that the layer applier uses.
declare module 'tar-stream' {
  import type { Writable } from 'node:stream';
  const tarStream: { extract(opts?: { allowUnknownFormat?: boolean }): Writable };
  export default tarStream;
}
declare module 'tar-stream/headers.js' {
  const headers: { decodePax: (buf: Buffer) => Record<string, string | Buffer> };
  export default headers;
}
