// Test support shared by unit, integration and fault tests: object builders, hashes, and a TCP proxy
// in front of the API server. Suite-specific helpers stay in test/integration/support and
// test/faults/support.
export * from './builders.js';
export * from './hashes.js';
export * from './tcp-proxy.js';
export * from './verifier-fixtures.js';
