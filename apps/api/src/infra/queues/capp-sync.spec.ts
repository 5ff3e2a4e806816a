import { retryDelayMs } from './capp-sync';

describe('sync retries', () => {
  it('back off from half a second, doubling, to at most 30 s — and never give up', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(retryDelayMs)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000]);
    expect(retryDelayMs(1000)).toBe(30000);
  });
});
