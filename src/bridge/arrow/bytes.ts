/** Byte helpers shared by the IPC structure and flatbuffer checks. */

export function startsWith(bytes: ArrayLike<number>, prefix: ArrayLike<number>, at = 0): boolean {
  if (at < 0 || at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
