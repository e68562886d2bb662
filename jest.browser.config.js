import base from './jest.config.js';

/** `npm run test:browser`: the example app in Debian's Chromium (playwright-core). */
export default {
  ...base,
  testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
  testTimeout: 30_000,
};
