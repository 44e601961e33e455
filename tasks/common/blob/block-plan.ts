/** 1 MiB in bytes. */
export const MIB = 1024 * 1024;

/** Azure Blob Storage limits for block blobs (service version 2019-12-12 and later). */
const MAX_BLOCKS_PER_BLOB = 50_000;
const MAX_BLOCK_SIZE_IN_BYTES = 4000 * MIB;

/** Default block size: 8 in flight keep 32 MiB of file data in memory; measured as fast as 8 MiB blocks against the practical limit (npm run bench). */
export const DEFAULT_BLOCK_SIZE_IN_BYTES = 4 * MIB;
/** Default number of blocks staged at the same time. */
export const DEFAULT_CONCURRENCY = 8;

/** How a file is cut into staged blocks. */
interface BlockPlan {
  /** Size of every block but the last. */
  blockSizeInBytes: number;
  /** Number of blocks; 0 for an empty file (an empty block list is committed). */
  blockCount: number;
}

/**
 * Cuts `sizeInBytes` into blocks of `preferredBlockSizeInBytes`, growing the block size (in
 * whole MiB) only when the file would otherwise need more than the service's 50 000 blocks.
 *
 * @throws RangeError when the size is negative or beyond what one block blob can hold.
 */
export function planBlocks(sizeInBytes: number, preferredBlockSizeInBytes: number = DEFAULT_BLOCK_SIZE_IN_BYTES): BlockPlan {
  if (!Number.isSafeInteger(sizeInBytes) || sizeInBytes < 0) throw new RangeError(`invalid file size ${sizeInBytes}`);
  if (!Number.isSafeInteger(preferredBlockSizeInBytes) || preferredBlockSizeInBytes < 1) {
    throw new RangeError(`invalid block size ${preferredBlockSizeInBytes}`);
  }
  let blockSizeInBytes = Math.min(preferredBlockSizeInBytes, MAX_BLOCK_SIZE_IN_BYTES);
  const minimum = Math.ceil(sizeInBytes / MAX_BLOCKS_PER_BLOB);
  if (minimum > blockSizeInBytes) blockSizeInBytes = Math.ceil(minimum / MIB) * MIB;
  if (blockSizeInBytes > MAX_BLOCK_SIZE_IN_BYTES) {
    throw new RangeError(`a file of ${sizeInBytes} bytes exceeds the block blob limit of ${MAX_BLOCKS_PER_BLOB} x 4000 MiB`);
  }
  return { blockSizeInBytes, blockCount: Math.ceil(sizeInBytes / blockSizeInBytes) };
}

/**
 * The base64 block id of block `index` of one upload. All ids of a blob must have the same
 * length, hence the zero padding. The per-upload prefix keeps two runs uploading the same blob
 * name at the same time from overwriting each other's uncommitted blocks.
 */
export function blockId(uploadId: string, index: number): string {
  if (!/^[0-9a-f]{12}$/.test(uploadId)) throw new RangeError(`upload id must be 12 hex digits, got '${uploadId}'`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_BLOCKS_PER_BLOB) throw new RangeError(`block index ${index} out of range`);
  return Buffer.from(`${uploadId}-${String(index).padStart(5, '0')}`, 'utf8').toString('base64');
}
