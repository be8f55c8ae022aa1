export * from './codes.js';
export * from './streams.js';
export * from './messages.js';
export * from './validate.js';
export * from './builders.js';
