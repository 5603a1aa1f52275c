export * from './book-levels.js';
export * from './checksum.js';
export * from './errors.js';
export * from './sign.js';
export * from './types.js';
export * from './validate.js';
